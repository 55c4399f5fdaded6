//! The TTLV tree: one [`Item`] per Tag-Type-Length-Value, with the value typed by its item type.

use std::fmt;

/// A KMIP tag: three bytes, 0x42xxxx for the standard and 0x54xxxx for extensions.
/// Named constants for every standard tag live in [`crate::enums`] (`Tag::REQUEST_MESSAGE`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl Tag {
    /// Whether the tag is in one of the two ranges KMIP allows on the wire.
    pub fn is_valid(self) -> bool {
        matches!(self.0 >> 16, 0x42 | 0x54) && self.0 <= 0xFF_FFFF
    }

    /// Whether this is an extension tag (0x54xxxx).
    pub fn is_extension(self) -> bool {
        self.0 >> 16 == 0x54
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::tables::tag_name(self.0, None) {
            Some(n) => write!(f, "{n}(0x{:06X})", self.0),
            None => write!(f, "0x{:06X}", self.0),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The item types of KMIP 1.0–2.1 with their wire codes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum ItemType {
    Structure = 0x01,
    Integer = 0x02,
    LongInteger = 0x03,
    BigInteger = 0x04,
    Enumeration = 0x05,
    Boolean = 0x06,
    TextString = 0x07,
    ByteString = 0x08,
    DateTime = 0x09,
    Interval = 0x0A,
    DateTimeExtended = 0x0B,
}

impl ItemType {
    /// All item types, in wire-code order.
    pub const ALL: [ItemType; 11] = [
        ItemType::Structure,
        ItemType::Integer,
        ItemType::LongInteger,
        ItemType::BigInteger,
        ItemType::Enumeration,
        ItemType::Boolean,
        ItemType::TextString,
        ItemType::ByteString,
        ItemType::DateTime,
        ItemType::Interval,
        ItemType::DateTimeExtended,
    ];

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code).wrapping_sub(1)).copied()
    }

    /// The name used by the XML and JSON encodings (`"Integer"`, …).
    pub fn name(self) -> &'static str {
        match self {
            ItemType::Structure => "Structure",
            ItemType::Integer => "Integer",
            ItemType::LongInteger => "LongInteger",
            ItemType::BigInteger => "BigInteger",
            ItemType::Enumeration => "Enumeration",
            ItemType::Boolean => "Boolean",
            ItemType::TextString => "TextString",
            ItemType::ByteString => "ByteString",
            ItemType::DateTime => "DateTime",
            ItemType::Interval => "Interval",
            ItemType::DateTimeExtended => "DateTimeExtended",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The exact value length of a fixed-size type, `None` for variable-length ones.
    pub fn fixed_len(self) -> Option<usize> {
        match self {
            ItemType::Integer | ItemType::Enumeration | ItemType::Interval => Some(4),
            ItemType::LongInteger
            | ItemType::Boolean
            | ItemType::DateTime
            | ItemType::DateTimeExtended => Some(8),
            _ => None,
        }
    }
}

/// A typed value. DateTime is seconds since the Unix epoch; DateTimeExtended microseconds.
/// BigInteger holds the big-endian two's-complement bytes as sent (a multiple of 8 bytes).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Value {
    Structure(Vec<Item>),
    Integer(i32),
    LongInteger(i64),
    BigInteger(BigInt),
    Enumeration(u32),
    Boolean(bool),
    TextString(String),
    ByteString(Vec<u8>),
    DateTime(i64),
    Interval(u32),
    DateTimeExtended(i64),
}

impl Value {
    pub fn item_type(&self) -> ItemType {
        match self {
            Value::Structure(_) => ItemType::Structure,
            Value::Integer(_) => ItemType::Integer,
            Value::LongInteger(_) => ItemType::LongInteger,
            Value::BigInteger(_) => ItemType::BigInteger,
            Value::Enumeration(_) => ItemType::Enumeration,
            Value::Boolean(_) => ItemType::Boolean,
            Value::TextString(_) => ItemType::TextString,
            Value::ByteString(_) => ItemType::ByteString,
            Value::DateTime(_) => ItemType::DateTime,
            Value::Interval(_) => ItemType::Interval,
            Value::DateTimeExtended(_) => ItemType::DateTimeExtended,
        }
    }
}

/// A BigInteger: big-endian two's complement, always a non-zero multiple of 8 bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct BigInt(Vec<u8>);

impl BigInt {
    /// Sign-extends `bytes` (big-endian two's complement) to a multiple of 8 bytes. An empty
    /// input is zero.
    pub fn from_be_bytes(bytes: &[u8]) -> Self {
        let fill = match bytes.first() {
            Some(b) if b & 0x80 != 0 => 0xFF,
            _ => 0x00,
        };
        let pad = match bytes.len() % 8 {
            0 if !bytes.is_empty() => 0,
            r => 8 - r,
        };
        let mut v = Vec::with_capacity(bytes.len() + pad);
        v.resize(pad, fill);
        v.extend_from_slice(bytes);
        BigInt(v)
    }

    /// From the wire, where the length was already checked to be a non-zero multiple of 8.
    pub(crate) fn from_wire(bytes: Vec<u8>) -> Self {
        debug_assert!(!bytes.is_empty() && bytes.len() % 8 == 0);
        BigInt(bytes)
    }

    /// The two's-complement bytes as they go on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, writable: for a caller that must clear a secret value (an RSA private
    /// exponent, an EC private scalar) before the item is dropped.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// The magnitude of a non-negative value without leading zero bytes (RSA moduli, …);
    /// `None` for a negative value.
    pub fn to_unsigned_bytes(&self) -> Option<&[u8]> {
        if self.0.first().is_some_and(|b| b & 0x80 != 0) {
            return None;
        }
        let start = self.0.iter().position(|b| *b != 0).unwrap_or(self.0.len());
        Some(&self.0[start..])
    }

    /// From an unsigned big-endian magnitude.
    pub fn from_unsigned_bytes(magnitude: &[u8]) -> Self {
        let mut v = Vec::with_capacity(magnitude.len() + 1);
        v.push(0);
        v.extend_from_slice(magnitude);
        let start = v
            .iter()
            .position(|b| *b != 0)
            .map(|p| if v[p] & 0x80 != 0 { p - 1 } else { p })
            .unwrap_or(v.len() - 1);
        Self::from_be_bytes(&v[start..])
    }
}

/// One TTLV item.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Item {
    pub tag: Tag,
    pub value: Value,
}

impl Item {
    pub fn new(tag: Tag, value: Value) -> Self {
        Item { tag, value }
    }

    pub fn structure(tag: Tag, children: Vec<Item>) -> Self {
        Item::new(tag, Value::Structure(children))
    }

    pub fn item_type(&self) -> ItemType {
        self.value.item_type()
    }

    /// The children of a Structure (empty for any other type).
    pub fn children(&self) -> &[Item] {
        match &self.value {
            Value::Structure(c) => c,
            _ => &[],
        }
    }

    /// The first child with `tag`.
    pub fn child(&self, tag: Tag) -> Option<&Item> {
        self.children().iter().find(|c| c.tag == tag)
    }

    /// Every child with `tag`, in order.
    pub fn children_with(&self, tag: Tag) -> impl Iterator<Item = &Item> {
        self.children().iter().filter(move |c| c.tag == tag)
    }

    /// Number of items in this subtree, itself included.
    pub fn count(&self) -> usize {
        1 + self.children().iter().map(Item::count).sum::<usize>()
    }

    /// Depth of this subtree (1 for a leaf).
    pub fn depth(&self) -> usize {
        1 + self.children().iter().map(Item::depth).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_extends_big_integers() {
        assert_eq!(
            BigInt::from_be_bytes(&[0x01]).as_bytes(),
            &[0, 0, 0, 0, 0, 0, 0, 1]
        );
        assert_eq!(BigInt::from_be_bytes(&[0x80]).as_bytes()[..7], [0xFF; 7]);
        assert_eq!(BigInt::from_be_bytes(&[]).as_bytes(), &[0; 8]);
        assert_eq!(BigInt::from_be_bytes(&[7; 8]).as_bytes(), &[7; 8]);
    }

    #[test]
    fn converts_unsigned_magnitudes() {
        let b = BigInt::from_unsigned_bytes(&[0x80, 0x01]);
        assert_eq!(b.as_bytes(), &[0, 0, 0, 0, 0, 0, 0x80, 0x01]);
        assert_eq!(b.to_unsigned_bytes(), Some(&[0x80, 0x01][..]));
        assert_eq!(
            BigInt::from_unsigned_bytes(&[]).to_unsigned_bytes(),
            Some(&[][..])
        );
        assert_eq!(BigInt::from_be_bytes(&[0xFF]).to_unsigned_bytes(), None);
    }

    #[test]
    fn knows_item_type_codes() {
        for t in ItemType::ALL {
            assert_eq!(ItemType::from_code(t as u8), Some(t));
            assert_eq!(ItemType::from_name(t.name()), Some(t));
        }
        assert_eq!(ItemType::from_code(0), None);
        assert_eq!(ItemType::from_code(0x0C), None);
    }
}
