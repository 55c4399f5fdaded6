//! Typed KMIP messages (1.0–1.4, 2.0–2.1) over the TTLV tree of [`crate::ttlv`].
//!
//! - [`message`]: request/response messages, headers, batch items;
//! - [`payload`]: payloads by operation (typed as operations are implemented; others stay trees);
//! - [`operations`]: the typed payloads of the object operations, one file per operation;
//! - [`attributes`]: the one internal attribute model and its 1.x and 2.x wire forms;
//! - [`compat`]: the version differences (attribute availability, usage-mask bits);
//! - [`fields`]: the ordered-field cursor and builder every typed structure uses.
//!
//! Nothing here touches the HSM or the store.

pub mod attributes;
pub mod compat;
pub mod fields;
pub mod message;
pub mod operations;
pub mod payload;

pub use fields::KmipError;
pub use message::{
    Message, ProtocolVersion, RequestBatchItem, RequestHeader, RequestMessage, ResponseBatchItem,
    ResponseHeader, ResponseMessage,
};
pub use payload::{RequestPayload, ResponsePayload};
