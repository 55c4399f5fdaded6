//! Delete Attribute (KMIP 1.4 §4.16, 2.1 §6.1.13).

use super::{reference_from, reference_to, single_from, single_to};
use crate::kmip::attributes::{Attribute, AttributeName};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

/// What to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteTarget {
    /// 1.x: the attribute's name as sent and the instance (0 when absent).
    V1 { name: String, index: Option<i32> },
    /// 2.x: one instance by value, or every instance by reference.
    V2 {
        current: Option<Attribute>,
        reference: Option<AttributeName>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteAttributeRequest {
    pub unique_identifier: Option<String>,
    pub target: DeleteTarget,
}

impl DeleteAttributeRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let unique_identifier = f.opt_text(Tag::UNIQUE_IDENTIFIER)?;
        let target = if let Some(name) = f.opt_text(Tag::ATTRIBUTE_NAME)? {
            DeleteTarget::V1 {
                name,
                index: f.opt_int(Tag::ATTRIBUTE_INDEX)?,
            }
        } else {
            DeleteTarget::V2 {
                current: f
                    .optional(Tag::CURRENT_ATTRIBUTE)
                    .map(|i| single_from(i, Tag::CURRENT_ATTRIBUTE))
                    .transpose()?,
                reference: f
                    .optional(Tag::ATTRIBUTE_REFERENCE)
                    .map(reference_from)
                    .transpose()?,
            }
        };
        f.finish()?;
        Ok(DeleteAttributeRequest {
            unique_identifier,
            target,
        })
    }

    pub fn to_item(&self) -> Item {
        let b = Builder::new().opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref());
        match &self.target {
            DeleteTarget::V1 { name, index } => b
                .opt_text(Tag::ATTRIBUTE_NAME, Some(name))
                .opt_int(Tag::ATTRIBUTE_INDEX, *index),
            DeleteTarget::V2 { current, reference } => b
                .opt_item(
                    current
                        .as_ref()
                        .map(|a| single_to(a, Tag::CURRENT_ATTRIBUTE)),
                )
                .opt_item(reference.as_ref().map(reference_to)),
        }
        .build(Tag::REQUEST_PAYLOAD)
    }
}
