//! Register (KMIP 1.4 §4.3, 2.1 §6.1.47): a client-supplied object, imported into the HSM and
//! stored wrapped.

use super::object::ManagedObject;
use super::AttributeSet;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::enums::ObjectType;
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    pub object_type: ObjectType,
    pub attributes: Option<AttributeSet>,
    pub object: Option<ManagedObject>,
    pub protection_storage_masks: Option<Item>,
}

impl RegisterRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = RegisterRequest {
            object_type: ObjectType(f.req_enum(Tag::OBJECT_TYPE)?),
            attributes: AttributeSet::read(&mut f, Tag::TEMPLATE_ATTRIBUTE)?,
            object: ManagedObject::read(&mut f)?,
            protection_storage_masks: f.optional(Tag::PROTECTION_STORAGE_MASKS).cloned(),
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .enumeration(Tag::OBJECT_TYPE, self.object_type.0)
            .opt_item(
                self.attributes
                    .as_ref()
                    .map(|a| a.to_item(Tag::TEMPLATE_ATTRIBUTE)),
            )
            .opt_item(self.object.as_ref().map(ManagedObject::to_item))
            .opt_item(self.protection_storage_masks.clone())
            .build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterResponse {
    pub unique_identifier: String,
    pub template_attribute: Option<AttributeSet>,
}

impl RegisterResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = RegisterResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            template_attribute: AttributeSet::read(&mut f, Tag::TEMPLATE_ATTRIBUTE)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .opt_item(
                self.template_attribute
                    .as_ref()
                    .map(|a| a.to_item(Tag::TEMPLATE_ATTRIBUTE)),
            )
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
