//! Get Attributes (KMIP 1.4 §4.12, 2.1 §6.1.23).

use super::{AttributeItems, AttributeSelector};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetAttributesRequest {
    pub unique_identifier: Option<String>,
    /// The attributes asked for; none asks for all.
    pub selectors: Vec<AttributeSelector>,
}

impl GetAttributesRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = GetAttributesRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            selectors: AttributeSelector::read_all(&mut f)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .items(self.selectors.iter().map(AttributeSelector::to_item))
            .build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAttributesResponse {
    pub unique_identifier: String,
    pub attributes: AttributeItems,
}

impl GetAttributesResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = GetAttributesResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            attributes: AttributeItems::read(&mut f)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .items(self.attributes.to_items())
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
