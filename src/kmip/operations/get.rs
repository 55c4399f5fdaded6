//! Get (KMIP 1.4 §4.11, 2.1 §6.1.22): an object's material in the format asked.

use super::object::ManagedObject;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::enums::{KeyFormatType, ObjectType};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetRequest {
    pub unique_identifier: Option<String>,
    pub key_format_type: Option<KeyFormatType>,
    pub key_wrap_type: Option<u32>,
    pub key_compression_type: Option<u32>,
    /// Key Wrapping Specification, kept as sent (wrapping on Get is not offered yet).
    pub key_wrapping_specification: Option<Item>,
}

impl GetRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = GetRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            key_format_type: f.opt_enum(Tag::KEY_FORMAT_TYPE)?.map(KeyFormatType),
            key_wrap_type: f.opt_enum(Tag::KEY_WRAP_TYPE)?,
            key_compression_type: f.opt_enum(Tag::KEY_COMPRESSION_TYPE)?,
            key_wrapping_specification: f.optional(Tag::KEY_WRAPPING_SPECIFICATION).cloned(),
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .opt_enum(Tag::KEY_FORMAT_TYPE, self.key_format_type.map(|k| k.0))
            .opt_enum(Tag::KEY_WRAP_TYPE, self.key_wrap_type)
            .opt_enum(Tag::KEY_COMPRESSION_TYPE, self.key_compression_type)
            .opt_item(self.key_wrapping_specification.clone())
            .build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResponse {
    pub object_type: ObjectType,
    pub unique_identifier: String,
    pub object: ManagedObject,
}

impl GetResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let object_type = ObjectType(f.req_enum(Tag::OBJECT_TYPE)?);
        let unique_identifier = f.req_text(Tag::UNIQUE_IDENTIFIER)?;
        let object = ManagedObject::read(&mut f)?.ok_or(KmipError::Missing {
            parent: Tag::RESPONSE_PAYLOAD,
            field: Tag::SYMMETRIC_KEY,
        })?;
        f.finish()?;
        Ok(GetResponse {
            object_type,
            unique_identifier,
            object,
        })
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .enumeration(Tag::OBJECT_TYPE, self.object_type.0)
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .item(self.object.to_item())
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
