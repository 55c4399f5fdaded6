//! ReKey (KMIP 1.4 §4.4, 2.1 §6.1.46): a replacement for an existing symmetric key.

use super::AttributeSet;
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReKeyRequest {
    /// The existing key, or the ID placeholder.
    pub unique_identifier: Option<String>,
    /// Seconds between the replacement's Initial Date and its Activation Date.
    pub offset: Option<u32>,
    /// Template Attribute (1.x) or Attributes (2.x) for the replacement.
    pub attributes: Option<AttributeSet>,
    /// Protection Storage Masks (2.1), kept as sent.
    pub protection_storage_masks: Option<Item>,
}

impl ReKeyRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let unique_identifier = f.opt_text(Tag::UNIQUE_IDENTIFIER)?;
        let offset = match f.optional(Tag::OFFSET) {
            None => None,
            Some(Item {
                value: Value::Interval(s),
                ..
            }) => Some(*s),
            Some(_) => {
                return Err(KmipError::Invalid {
                    field: Tag::OFFSET,
                    reason: "Offset must be an Interval",
                })
            }
        };
        let r = ReKeyRequest {
            unique_identifier,
            offset,
            attributes: AttributeSet::read(&mut f, Tag::TEMPLATE_ATTRIBUTE)?,
            protection_storage_masks: f.optional(Tag::PROTECTION_STORAGE_MASKS).cloned(),
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .opt_item(
                self.offset
                    .map(|s| Item::new(Tag::OFFSET, Value::Interval(s))),
            )
            .opt_item(
                self.attributes
                    .as_ref()
                    .map(|a| a.to_item(Tag::TEMPLATE_ATTRIBUTE)),
            )
            .opt_item(self.protection_storage_masks.clone())
            .build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReKeyResponse {
    /// The replacement key's new identifier.
    pub unique_identifier: String,
    /// Attributes the server set that the client did not ask for (1.x), kept as sent.
    pub template_attribute: Option<AttributeSet>,
}

impl ReKeyResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = ReKeyResponse {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offset_and_round_trips() {
        let item = Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some("k"))
            .item(Item::new(Tag::OFFSET, Value::Interval(3600)))
            .build(Tag::REQUEST_PAYLOAD);
        let r = ReKeyRequest::from_item(&item).unwrap();
        assert_eq!(r.offset, Some(3600));
        assert_eq!(r.to_item(), item);
    }

    #[test]
    fn rejects_offset_of_wrong_type() {
        let item = Builder::new()
            .item(Item::new(Tag::OFFSET, Value::Integer(3600)))
            .build(Tag::REQUEST_PAYLOAD);
        assert!(ReKeyRequest::from_item(&item).is_err());
    }
}
