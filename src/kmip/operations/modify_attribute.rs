//! Modify Attribute (KMIP 1.4 §4.15, 2.1 §6.1.36).

use super::{single_from, single_to, EditedAttribute};
use crate::kmip::attributes::Attribute;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModifyAttributeRequest {
    pub unique_identifier: Option<String>,
    /// Current Attribute (2.x): which instance to replace.
    pub current: Option<Attribute>,
    pub attribute: EditedAttribute,
}

impl ModifyAttributeRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let unique_identifier = f.opt_text(Tag::UNIQUE_IDENTIFIER)?;
        let current = f
            .optional(Tag::CURRENT_ATTRIBUTE)
            .map(|i| single_from(i, Tag::CURRENT_ATTRIBUTE))
            .transpose()?;
        let attribute = EditedAttribute::read(&mut f, Tag::REQUEST_PAYLOAD)?;
        f.finish()?;
        Ok(ModifyAttributeRequest {
            unique_identifier,
            current,
            attribute,
        })
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .opt_item(
                self.current
                    .as_ref()
                    .map(|a| single_to(a, Tag::CURRENT_ATTRIBUTE)),
            )
            .item(self.attribute.to_item())
            .build(Tag::REQUEST_PAYLOAD)
    }
}
