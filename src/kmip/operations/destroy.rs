//! Destroy (KMIP 1.4 §4.21, 2.1 §6.1.16): the payloads are a Unique Identifier.

pub use super::activate::IdentifierPayload;

/// Destroy request: the object to destroy (the ID placeholder when absent).
pub type DestroyRequest = IdentifierPayload;
