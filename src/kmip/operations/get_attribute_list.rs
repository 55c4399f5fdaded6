//! Get Attribute List (KMIP 1.4 §4.13, 2.1 §6.1.24): the names of the attributes an object has.

use super::{uid_only_from, uid_only_to, AttributeSelector};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetAttributeListRequest {
    pub unique_identifier: Option<String>,
}

impl GetAttributeListRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        Ok(GetAttributeListRequest {
            unique_identifier: uid_only_from(item, Tag::REQUEST_PAYLOAD)?,
        })
    }

    pub fn to_item(&self) -> Item {
        uid_only_to(self.unique_identifier.as_deref(), Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAttributeListResponse {
    pub unique_identifier: String,
    /// Attribute Name texts (1.x) or Attribute References (2.x).
    pub names: Vec<AttributeSelector>,
}

impl GetAttributeListResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = GetAttributeListResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            names: AttributeSelector::read_all(&mut f)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .items(self.names.iter().map(AttributeSelector::to_item))
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
