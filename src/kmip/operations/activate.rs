//! Activate (KMIP 1.4 §4.19, 2.1 §6.1.1) and the payloads that hold only a Unique Identifier.

use super::{uid_only_from, uid_only_to};
use crate::kmip::fields::KmipError;
use crate::ttlv::{Item, Tag};

/// A request or response payload holding only an (optional) Unique Identifier: Activate,
/// Destroy and their responses, and the responses of Revoke, Set Attribute and 2.x attribute
/// edits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentifierPayload {
    pub unique_identifier: Option<String>,
}

impl IdentifierPayload {
    pub fn new(uid: impl Into<String>) -> Self {
        IdentifierPayload {
            unique_identifier: Some(uid.into()),
        }
    }

    pub fn from_item(item: &Item, tag: Tag) -> Result<Self, KmipError> {
        Ok(IdentifierPayload {
            unique_identifier: uid_only_from(item, tag)?,
        })
    }

    pub fn to_item(&self, tag: Tag) -> Item {
        uid_only_to(self.unique_identifier.as_deref(), tag)
    }
}

/// Activate request: the object to activate (the ID placeholder when absent).
pub type ActivateRequest = IdentifierPayload;
