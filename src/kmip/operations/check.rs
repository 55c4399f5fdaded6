//! Check (KMIP 1.4 §4.10, 2.1 §6.1.6): whether the object could be used as described. Request
//! and response have the same fields.

use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag, Value};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckPayload {
    pub unique_identifier: Option<String>,
    pub usage_limits_count: Option<i64>,
    pub cryptographic_usage_mask: Option<i32>,
    pub lease_time: Option<u32>,
}

impl CheckPayload {
    pub fn from_item(item: &Item, tag: Tag) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, tag)?;
        let r = CheckPayload {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            usage_limits_count: f.opt_long(Tag::USAGE_LIMITS_COUNT)?,
            cryptographic_usage_mask: f.opt_int(Tag::CRYPTOGRAPHIC_USAGE_MASK)?,
            lease_time: match f.optional(Tag::LEASE_TIME) {
                None => None,
                Some(Item {
                    value: Value::Interval(v),
                    ..
                }) => Some(*v),
                Some(other) => {
                    return Err(KmipError::WrongType {
                        field: Tag::LEASE_TIME,
                        expected: crate::ttlv::ItemType::Interval,
                        found: other.item_type(),
                    })
                }
            },
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self, tag: Tag) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .opt_item(
                self.usage_limits_count
                    .map(|v| Item::new(Tag::USAGE_LIMITS_COUNT, Value::LongInteger(v))),
            )
            .opt_int(Tag::CRYPTOGRAPHIC_USAGE_MASK, self.cryptographic_usage_mask)
            .opt_item(
                self.lease_time
                    .map(|v| Item::new(Tag::LEASE_TIME, Value::Interval(v))),
            )
            .build(tag)
    }
}
