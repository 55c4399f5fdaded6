//! Reading typed structures from TTLV: a cursor over a Structure's children in the order the
//! specification fixes, and the one error type for messages that do not fit it.

use std::fmt;

use crate::ttlv::{BigInt, Item, ItemType, Tag, Value};

/// A TTLV tree that is not a valid KMIP message or payload. Answered as Invalid Message (the
/// message as a whole) or Invalid Field (inside a payload), with this text as Result Message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmipError {
    /// A required field is absent.
    Missing { parent: Tag, field: Tag },
    /// A field that does not belong here, or is out of order.
    Unexpected { parent: Tag, field: Tag },
    /// A field of the wrong item type.
    WrongType {
        field: Tag,
        expected: ItemType,
        found: ItemType,
    },
    /// A field whose value is out of its allowed range.
    Invalid { field: Tag, reason: &'static str },
}

impl fmt::Display for KmipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KmipError::Missing { parent, field } => {
                write!(f, "{parent} lacks the required {field}")
            }
            KmipError::Unexpected { parent, field } => {
                write!(
                    f,
                    "{field} is not expected here in {parent} (unknown field or wrong order)"
                )
            }
            KmipError::WrongType {
                field,
                expected,
                found,
            } => write!(
                f,
                "{field} must be a {}, not a {}",
                expected.name(),
                found.name()
            ),
            KmipError::Invalid { field, reason } => write!(f, "{field}: {reason}"),
        }
    }
}

impl std::error::Error for KmipError {}

/// A cursor over the children of one Structure, taking fields in order.
pub struct Fields<'a> {
    parent: Tag,
    items: &'a [Item],
    pos: usize,
}

fn wrong(item: &Item, expected: ItemType) -> KmipError {
    KmipError::WrongType {
        field: item.tag,
        expected,
        found: item.item_type(),
    }
}

impl<'a> Fields<'a> {
    /// Opens `item`, which must be a Structure tagged `tag`.
    pub fn open(item: &'a Item, tag: Tag) -> Result<Self, KmipError> {
        if item.tag != tag {
            return Err(KmipError::Unexpected {
                parent: tag,
                field: item.tag,
            });
        }
        match &item.value {
            Value::Structure(items) => Ok(Fields {
                parent: tag,
                items,
                pos: 0,
            }),
            _ => Err(wrong(item, ItemType::Structure)),
        }
    }

    /// The next field if it has `tag`.
    pub fn optional(&mut self, tag: Tag) -> Option<&'a Item> {
        let item = self.items.get(self.pos).filter(|i| i.tag == tag)?;
        self.pos += 1;
        Some(item)
    }

    /// The next field, which must have `tag`.
    pub fn required(&mut self, tag: Tag) -> Result<&'a Item, KmipError> {
        self.optional(tag).ok_or(KmipError::Missing {
            parent: self.parent,
            field: tag,
        })
    }

    /// Every consecutive field with `tag`.
    pub fn repeated(&mut self, tag: Tag) -> Vec<&'a Item> {
        let mut out = Vec::new();
        while let Some(i) = self.optional(tag) {
            out.push(i);
        }
        out
    }

    /// Every consecutive field with `tag`, each read by `read`.
    pub fn repeated_with<T>(
        &mut self,
        tag: Tag,
        read: impl Fn(&'a Item) -> Result<T, KmipError>,
    ) -> Result<Vec<T>, KmipError> {
        self.repeated(tag).into_iter().map(read).collect()
    }

    /// Fails if any field is left over.
    pub fn finish(self) -> Result<(), KmipError> {
        match self.items.get(self.pos) {
            None => Ok(()),
            Some(i) => Err(KmipError::Unexpected {
                parent: self.parent,
                field: i.tag,
            }),
        }
    }

    pub fn opt_int(&mut self, tag: Tag) -> Result<Option<i32>, KmipError> {
        self.optional(tag).map(as_int).transpose()
    }

    pub fn opt_long(&mut self, tag: Tag) -> Result<Option<i64>, KmipError> {
        self.optional(tag).map(as_long).transpose()
    }

    pub fn opt_enum(&mut self, tag: Tag) -> Result<Option<u32>, KmipError> {
        self.optional(tag).map(as_enum).transpose()
    }

    pub fn opt_bool(&mut self, tag: Tag) -> Result<Option<bool>, KmipError> {
        self.optional(tag).map(as_bool).transpose()
    }

    pub fn opt_text(&mut self, tag: Tag) -> Result<Option<String>, KmipError> {
        self.optional(tag).map(as_text).transpose()
    }

    pub fn opt_bytes(&mut self, tag: Tag) -> Result<Option<Vec<u8>>, KmipError> {
        self.optional(tag).map(as_bytes).transpose()
    }

    pub fn opt_datetime(&mut self, tag: Tag) -> Result<Option<i64>, KmipError> {
        self.optional(tag).map(as_datetime).transpose()
    }

    pub fn req_int(&mut self, tag: Tag) -> Result<i32, KmipError> {
        as_int(self.required(tag)?)
    }

    pub fn req_enum(&mut self, tag: Tag) -> Result<u32, KmipError> {
        as_enum(self.required(tag)?)
    }

    pub fn req_text(&mut self, tag: Tag) -> Result<String, KmipError> {
        as_text(self.required(tag)?)
    }

    pub fn rep_enum(&mut self, tag: Tag) -> Result<Vec<u32>, KmipError> {
        self.repeated(tag).into_iter().map(as_enum).collect()
    }

    pub fn rep_text(&mut self, tag: Tag) -> Result<Vec<String>, KmipError> {
        self.repeated(tag).into_iter().map(as_text).collect()
    }

    pub fn rep_items(&mut self, tag: Tag) -> Vec<Item> {
        self.repeated(tag).into_iter().cloned().collect()
    }
}

pub fn as_int(i: &Item) -> Result<i32, KmipError> {
    match i.value {
        Value::Integer(v) => Ok(v),
        _ => Err(wrong(i, ItemType::Integer)),
    }
}

pub fn as_long(i: &Item) -> Result<i64, KmipError> {
    match i.value {
        Value::LongInteger(v) => Ok(v),
        _ => Err(wrong(i, ItemType::LongInteger)),
    }
}

pub fn as_enum(i: &Item) -> Result<u32, KmipError> {
    match i.value {
        Value::Enumeration(v) => Ok(v),
        _ => Err(wrong(i, ItemType::Enumeration)),
    }
}

pub fn as_bool(i: &Item) -> Result<bool, KmipError> {
    match i.value {
        Value::Boolean(v) => Ok(v),
        _ => Err(wrong(i, ItemType::Boolean)),
    }
}

pub fn as_text(i: &Item) -> Result<String, KmipError> {
    match &i.value {
        Value::TextString(v) => Ok(v.clone()),
        _ => Err(wrong(i, ItemType::TextString)),
    }
}

pub fn as_bytes(i: &Item) -> Result<Vec<u8>, KmipError> {
    match &i.value {
        Value::ByteString(v) => Ok(v.clone()),
        _ => Err(wrong(i, ItemType::ByteString)),
    }
}

pub fn as_datetime(i: &Item) -> Result<i64, KmipError> {
    match i.value {
        Value::DateTime(v) => Ok(v),
        _ => Err(wrong(i, ItemType::DateTime)),
    }
}

pub fn as_bigint(i: &Item) -> Result<BigInt, KmipError> {
    match &i.value {
        Value::BigInteger(v) => Ok(v.clone()),
        _ => Err(wrong(i, ItemType::BigInteger)),
    }
}

/// Builds a Structure's children in order: the writing side of [`Fields`].
#[derive(Default)]
pub struct Builder {
    items: Vec<Item>,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn item(mut self, item: Item) -> Self {
        self.items.push(item);
        self
    }

    pub fn opt_item(mut self, item: Option<Item>) -> Self {
        self.items.extend(item);
        self
    }

    pub fn items(mut self, items: impl IntoIterator<Item = Item>) -> Self {
        self.items.extend(items);
        self
    }

    pub fn value(self, tag: Tag, value: Value) -> Self {
        self.item(Item::new(tag, value))
    }

    pub fn int(self, tag: Tag, v: i32) -> Self {
        self.value(tag, Value::Integer(v))
    }

    pub fn opt_int(self, tag: Tag, v: Option<i32>) -> Self {
        self.opt_item(v.map(|v| Item::new(tag, Value::Integer(v))))
    }

    pub fn enumeration(self, tag: Tag, v: u32) -> Self {
        self.value(tag, Value::Enumeration(v))
    }

    pub fn opt_enum(self, tag: Tag, v: Option<u32>) -> Self {
        self.opt_item(v.map(|v| Item::new(tag, Value::Enumeration(v))))
    }

    pub fn enums(self, tag: Tag, vs: &[u32]) -> Self {
        self.items(vs.iter().map(|v| Item::new(tag, Value::Enumeration(*v))))
    }

    pub fn opt_bool(self, tag: Tag, v: Option<bool>) -> Self {
        self.opt_item(v.map(|v| Item::new(tag, Value::Boolean(v))))
    }

    pub fn opt_text(self, tag: Tag, v: Option<&str>) -> Self {
        self.opt_item(v.map(|v| Item::new(tag, Value::TextString(v.to_owned()))))
    }

    pub fn texts(self, tag: Tag, vs: &[String]) -> Self {
        self.items(
            vs.iter()
                .map(|v| Item::new(tag, Value::TextString(v.clone()))),
        )
    }

    pub fn opt_bytes(self, tag: Tag, v: Option<&[u8]>) -> Self {
        self.opt_item(v.map(|v| Item::new(tag, Value::ByteString(v.to_vec()))))
    }

    pub fn opt_datetime(self, tag: Tag, v: Option<i64>) -> Self {
        self.opt_item(v.map(|v| Item::new(tag, Value::DateTime(v))))
    }

    pub fn build(self, tag: Tag) -> Item {
        Item::structure(tag, self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_fields_in_order_and_rejects_leftovers() {
        let s = Builder::new()
            .int(Tag::BATCH_COUNT, 2)
            .opt_text(Tag::CLIENT_CORRELATION_VALUE, Some("c"))
            .build(Tag::REQUEST_HEADER);
        let mut f = Fields::open(&s, Tag::REQUEST_HEADER).unwrap();
        assert_eq!(f.opt_text(Tag::CLIENT_CORRELATION_VALUE).unwrap(), None);
        assert_eq!(f.req_int(Tag::BATCH_COUNT).unwrap(), 2);
        assert!(matches!(f.finish(), Err(KmipError::Unexpected { .. })));
    }

    #[test]
    fn reports_wrong_types_and_missing_fields() {
        let s = Builder::new()
            .enumeration(Tag::BATCH_COUNT, 2)
            .build(Tag::REQUEST_HEADER);
        let mut f = Fields::open(&s, Tag::REQUEST_HEADER).unwrap();
        assert!(matches!(
            f.req_int(Tag::BATCH_COUNT),
            Err(KmipError::WrongType { .. })
        ));
        let mut f = Fields::open(&s, Tag::REQUEST_HEADER).unwrap();
        let e = f.req_int(Tag::PROTOCOL_VERSION).unwrap_err();
        assert!(e.to_string().contains("lacks the required"), "{e}");
    }
}
