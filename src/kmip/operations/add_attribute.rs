//! Add Attribute (KMIP 1.4 §4.14, 2.1 §6.1.2).

use super::EditedAttribute;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddAttributeRequest {
    pub unique_identifier: Option<String>,
    pub attribute: EditedAttribute,
}

impl AddAttributeRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = AddAttributeRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            attribute: EditedAttribute::read(&mut f, Tag::REQUEST_PAYLOAD)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .item(self.attribute.to_item())
            .build(Tag::REQUEST_PAYLOAD)
    }
}
