//! Locate (KMIP 1.4 §4.9, 2.1 §6.1.33). This issue answers the filters the lifecycle needs
//! (object type, name, state, unique identifier, indexed attributes); the full Locate is the
//! next issue's.

use super::AttributeItems;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocateRequest {
    pub maximum_items: Option<i32>,
    pub offset_items: Option<i32>,
    pub storage_status_mask: Option<i32>,
    pub object_group_member: Option<u32>,
    pub attributes: AttributeItems,
}

impl LocateRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = LocateRequest {
            maximum_items: f.opt_int(Tag::MAXIMUM_ITEMS)?,
            offset_items: f.opt_int(Tag::OFFSET_ITEMS)?,
            storage_status_mask: f.opt_int(Tag::STORAGE_STATUS_MASK)?,
            object_group_member: f.opt_enum(Tag::OBJECT_GROUP_MEMBER)?,
            attributes: AttributeItems::read(&mut f)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_int(Tag::MAXIMUM_ITEMS, self.maximum_items)
            .opt_int(Tag::OFFSET_ITEMS, self.offset_items)
            .opt_int(Tag::STORAGE_STATUS_MASK, self.storage_status_mask)
            .opt_enum(Tag::OBJECT_GROUP_MEMBER, self.object_group_member)
            .items(self.attributes.to_items())
            .build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocateResponse {
    pub located_items: Option<i32>,
    pub unique_identifiers: Vec<String>,
}

impl LocateResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = LocateResponse {
            located_items: f.opt_int(Tag::LOCATED_ITEMS)?,
            unique_identifiers: f.rep_text(Tag::UNIQUE_IDENTIFIER)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_int(Tag::LOCATED_ITEMS, self.located_items)
            .texts(Tag::UNIQUE_IDENTIFIER, &self.unique_identifiers)
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
