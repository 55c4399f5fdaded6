//! Set Attribute (KMIP 2.0 §6.1.52): sets or replaces a single-valued attribute.

use super::{single_from, single_to};
use crate::kmip::attributes::Attribute;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAttributeRequest {
    pub unique_identifier: Option<String>,
    pub new_attribute: Attribute,
}

impl SetAttributeRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let unique_identifier = f.opt_text(Tag::UNIQUE_IDENTIFIER)?;
        let new_attribute = single_from(f.required(Tag::NEW_ATTRIBUTE)?, Tag::NEW_ATTRIBUTE)?;
        f.finish()?;
        Ok(SetAttributeRequest {
            unique_identifier,
            new_attribute,
        })
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .item(single_to(&self.new_attribute, Tag::NEW_ATTRIBUTE))
            .build(Tag::REQUEST_PAYLOAD)
    }
}
