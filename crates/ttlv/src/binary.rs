//! Binary TTLV: the exact, bounded decoder and the infallible encoder.
//!
//! Decoding reads from a borrowed slice and checks every declared length against what is left
//! of the input *and* against the [`Limits`] before anything is allocated, so a declared length
//! of 0xFFFFFFFF costs nothing. Fixed-size items must declare their exact length, padding must be
//! zero, text must be UTF-8, BigIntegers are a non-zero multiple of 8 bytes, and no byte may
//! follow the message. Every failure is a [`DecodeError`] saying what and where; nothing panics.
//!
//! Messages may carry key material. [`decode_zeroizing`] and [`to_zeroizing_vec`] give the tree
//! and the encoding in zeroizing containers (the encoding sized exactly first, so no growing
//! buffer leaves a copy behind); a decode that fails clears what it had decoded.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::item::{BigInt, Item, ItemType, Tag, Value};

/// Bounds on what one decoded message may cost. Each one stops a specific attack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (8-byte header included). Bounds memory per message and lets the
    /// transport refuse an oversized frame from its header alone, before reading the body.
    pub max_message_len: usize,
    /// Deepest nesting of Structures. Bounds recursion (stack) in the decoder, the encoder and
    /// in `Drop`; real KMIP messages nest fewer than 12 levels. Values above
    /// [`HARD_MAX_DEPTH`] are treated as that.
    pub max_depth: usize,
    /// Most items in one message. Bounds the per-item overhead of the tree (each 8-byte item
    /// costs about 48 bytes in memory) and the work of every later pass over it.
    pub max_items: usize,
}

/// The depth no configuration can raise: keeps recursion well inside a 2 MiB thread stack.
pub const HARD_MAX_DEPTH: usize = 128;

impl Limits {
    /// 8 MiB message, depth 32, 500,000 items.
    pub const DEFAULT: Limits = Limits {
        max_message_len: 8 << 20,
        max_depth: 32,
        max_items: 500_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// What was wrong with the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input ends inside an item header or value.
    Truncated { needed: usize, available: usize },
    /// A tag outside 0x42xxxx and 0x54xxxx.
    InvalidTag(u32),
    /// An item type code that KMIP does not define.
    UnknownType(u8),
    /// A fixed-size item declared another length.
    WrongLength {
        item_type: ItemType,
        declared: u32,
        expected: usize,
    },
    /// A BigInteger whose length is zero or not a multiple of 8.
    BigIntegerLength(u32),
    /// A child item runs past the end of its Structure.
    Overrun { declared: u32, available: usize },
    /// Padding bytes after a value were not zero.
    NonZeroPadding,
    /// A TextString that is not UTF-8.
    InvalidUtf8,
    /// A Boolean other than 0 or 1.
    InvalidBoolean(u64),
    /// Bytes left after the message.
    TrailingBytes(usize),
    /// The message is larger than [`Limits::max_message_len`].
    MessageTooLarge { declared: usize, limit: usize },
    /// Structures nest deeper than [`Limits::max_depth`].
    TooDeep { limit: usize },
    /// More items than [`Limits::max_items`].
    TooManyItems { limit: usize },
    /// The message is not a Structure.
    NotAStructure(ItemType),
}

/// A decoding failure: what, at which byte offset, and in which tag (when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub offset: usize,
    pub tag: Option<Tag>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DecodeErrorKind::*;
        write!(f, "TTLV at offset {}", self.offset)?;
        if let Some(t) = self.tag {
            write!(f, " ({t})")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            Truncated { needed, available } => {
                write!(f, "truncated: {needed} bytes needed, {available} left")
            }
            InvalidTag(t) => write!(f, "tag 0x{t:06X} is neither 0x42xxxx nor 0x54xxxx"),
            UnknownType(c) => write!(f, "unknown item type 0x{c:02X}"),
            WrongLength {
                item_type,
                declared,
                expected,
            } => write!(
                f,
                "{} declares length {declared}, must be {expected}",
                item_type.name()
            ),
            BigIntegerLength(l) => {
                write!(f, "BigInteger length {l} is not a non-zero multiple of 8")
            }
            Overrun {
                declared,
                available,
            } => write!(
                f,
                "declared length {declared} runs past its structure ({available} bytes left)"
            ),
            NonZeroPadding => f.write_str("padding bytes are not zero"),
            InvalidUtf8 => f.write_str("TextString is not valid UTF-8"),
            InvalidBoolean(v) => write!(f, "Boolean value {v} is neither 0 nor 1"),
            TrailingBytes(n) => write!(f, "{n} bytes follow the message"),
            MessageTooLarge { declared, limit } => {
                write!(
                    f,
                    "message of {declared} bytes exceeds the limit of {limit}"
                )
            }
            TooDeep { limit } => write!(f, "structures nest deeper than {limit} levels"),
            TooManyItems { limit } => write!(f, "more than {limit} items in one message"),
            NotAStructure(t) => write!(f, "a message must be a Structure, not {}", t.name()),
        }
    }
}

impl std::error::Error for DecodeError {}

const HEADER_LEN: usize = 8;

/// Reads the 8-byte header that starts every message and returns the whole message length
/// (header included), checked against `limits` — for transports, before reading the body.
pub fn message_len(header: &[u8; 8], limits: &Limits) -> Result<usize, DecodeError> {
    let err = |kind| DecodeError {
        kind,
        offset: 0,
        tag: None,
    };
    let tag = u32::from_be_bytes([0, header[0], header[1], header[2]]);
    if !Tag(tag).is_valid() {
        return Err(err(DecodeErrorKind::InvalidTag(tag)));
    }
    match ItemType::from_code(header[3]) {
        Some(ItemType::Structure) => {}
        Some(t) => return Err(err(DecodeErrorKind::NotAStructure(t))),
        None => return Err(err(DecodeErrorKind::UnknownType(header[3]))),
    }
    let body = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let total = body.saturating_add(HEADER_LEN);
    if total > limits.max_message_len {
        return Err(DecodeError {
            kind: DecodeErrorKind::MessageTooLarge {
                declared: total,
                limit: limits.max_message_len,
            },
            offset: 0,
            tag: Some(Tag(tag)),
        });
    }
    Ok(total)
}

/// Decodes exactly one message (a Structure) that fills `input` completely.
pub fn decode(input: &[u8], limits: &Limits) -> Result<Item, DecodeError> {
    if input.len() > limits.max_message_len {
        return Err(DecodeError {
            kind: DecodeErrorKind::MessageTooLarge {
                declared: input.len(),
                limit: limits.max_message_len,
            },
            offset: 0,
            tag: None,
        });
    }
    let mut d = Decoder {
        input,
        pos: 0,
        items: 0,
        limits,
    };
    let mut item = d.item(input.len(), 1)?;
    let refused = if item.item_type() != ItemType::Structure {
        Some(DecodeError {
            kind: DecodeErrorKind::NotAStructure(item.item_type()),
            offset: 0,
            tag: Some(item.tag),
        })
    } else if d.pos != input.len() {
        Some(DecodeError {
            kind: DecodeErrorKind::TrailingBytes(input.len() - d.pos),
            offset: d.pos,
            tag: None,
        })
    } else {
        None
    };
    match refused {
        Some(e) => {
            item.zeroize();
            Err(e)
        }
        None => Ok(item),
    }
}

/// [`decode`] into a tree that clears its byte and text values when dropped: for requests,
/// which may carry key material or passwords. Moves the tree, copies no value.
pub fn decode_zeroizing(input: &[u8], limits: &Limits) -> Result<Zeroizing<Item>, DecodeError> {
    decode(input, limits).map(Zeroizing::new)
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    items: usize,
    limits: &'a Limits,
}

impl Decoder<'_> {
    fn fail(&self, offset: usize, tag: Option<Tag>, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, offset, tag }
    }

    /// Takes `n` bytes that must end at or before `end`.
    fn take(&mut self, n: usize, end: usize, tag: Option<Tag>) -> Result<&[u8], DecodeError> {
        let available = end.saturating_sub(self.pos);
        if n > available {
            return Err(self.fail(
                self.pos,
                tag,
                DecodeErrorKind::Truncated {
                    needed: n,
                    available,
                },
            ));
        }
        let s = self.input.get(self.pos..self.pos + n).ok_or(DecodeError {
            kind: DecodeErrorKind::Truncated {
                needed: n,
                available,
            },
            offset: self.pos,
            tag,
        })?;
        self.pos += n;
        Ok(s)
    }

    /// Decodes one item that must end at or before `end`.
    fn max_depth(&self) -> usize {
        self.limits.max_depth.min(HARD_MAX_DEPTH)
    }

    fn item(&mut self, end: usize, depth: usize) -> Result<Item, DecodeError> {
        let start = self.pos;
        self.items += 1;
        if self.items > self.limits.max_items {
            return Err(self.fail(
                start,
                None,
                DecodeErrorKind::TooManyItems {
                    limit: self.limits.max_items,
                },
            ));
        }
        let h = self.take(HEADER_LEN, end, None)?;
        let tag = Tag(u32::from_be_bytes([0, h[0], h[1], h[2]]));
        let code = h[3];
        let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        if !tag.is_valid() {
            return Err(self.fail(start, None, DecodeErrorKind::InvalidTag(tag.0)));
        }
        let t = Some(tag);
        let item_type = ItemType::from_code(code)
            .ok_or_else(|| self.fail(start, t, DecodeErrorKind::UnknownType(code)))?;
        let available = end - self.pos;
        if len as usize > available {
            return Err(self.fail(
                start,
                t,
                DecodeErrorKind::Overrun {
                    declared: len,
                    available,
                },
            ));
        }
        let len = len as usize;
        if let Some(fixed) = item_type.fixed_len() {
            if len != fixed {
                return Err(self.fail(
                    start,
                    t,
                    DecodeErrorKind::WrongLength {
                        item_type,
                        declared: len as u32,
                        expected: fixed,
                    },
                ));
            }
        }
        if item_type == ItemType::Structure {
            if depth > self.max_depth() {
                return Err(self.fail(
                    start,
                    t,
                    DecodeErrorKind::TooDeep {
                        limit: self.max_depth(),
                    },
                ));
            }
            let body_end = self.pos + len;
            let mut children = Vec::new();
            while self.pos < body_end {
                match self.item(body_end, depth + 1) {
                    Ok(child) => children.push(child),
                    Err(e) => {
                        // What was decoded before the failure may hold key material.
                        children.zeroize();
                        return Err(e);
                    }
                }
            }
            return Ok(Item::new(tag, Value::Structure(children)));
        }
        if item_type == ItemType::BigInteger && (len == 0 || len % 8 != 0) {
            return Err(self.fail(start, t, DecodeErrorKind::BigIntegerLength(len as u32)));
        }
        let padded = len.div_ceil(8) * 8;
        let value_at = self.pos;
        let raw = self.take(padded, end, t)?;
        let (body, padding) = raw.split_at(len);
        if padding.iter().any(|b| *b != 0) {
            return Err(self.fail(value_at + len, t, DecodeErrorKind::NonZeroPadding));
        }
        let be4 = |b: &[u8]| [b[0], b[1], b[2], b[3]];
        let be8 = |b: &[u8]| [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
        let value = match item_type {
            ItemType::Integer => Value::Integer(i32::from_be_bytes(be4(body))),
            ItemType::Enumeration => Value::Enumeration(u32::from_be_bytes(be4(body))),
            ItemType::Interval => Value::Interval(u32::from_be_bytes(be4(body))),
            ItemType::LongInteger => Value::LongInteger(i64::from_be_bytes(be8(body))),
            ItemType::DateTime => Value::DateTime(i64::from_be_bytes(be8(body))),
            ItemType::DateTimeExtended => Value::DateTimeExtended(i64::from_be_bytes(be8(body))),
            ItemType::Boolean => match u64::from_be_bytes(be8(body)) {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                v => return Err(self.fail(value_at, t, DecodeErrorKind::InvalidBoolean(v))),
            },
            ItemType::TextString => match std::str::from_utf8(body) {
                Ok(s) => Value::TextString(s.to_owned()),
                Err(_) => return Err(self.fail(value_at, t, DecodeErrorKind::InvalidUtf8)),
            },
            ItemType::ByteString => Value::ByteString(body.to_vec()),
            ItemType::BigInteger => Value::BigInteger(BigInt::from_wire(body.to_vec())),
            ItemType::Structure => unreachable_structure(),
        };
        Ok(Item::new(tag, value))
    }
}

/// Structures return before the leaf match; this arm exists only to keep the match total.
#[cold]
fn unreachable_structure() -> Value {
    Value::Structure(Vec::new())
}

/// Appends the binary encoding of `item` to `out`. Encoding cannot fail: every tree this crate
/// builds is encodable (a Structure over 4 GiB cannot be decoded or built within the limits).
pub fn encode(item: &Item, out: &mut Vec<u8>) {
    let tag = item.tag.0 & 0xFF_FFFF;
    out.extend_from_slice(&tag.to_be_bytes()[1..]);
    out.push(item.item_type() as u8);
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let body_at = out.len();
    match &item.value {
        Value::Structure(children) => {
            for c in children {
                encode(c, out);
            }
        }
        Value::Integer(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::Enumeration(v) | Value::Interval(v) => out.extend_from_slice(&v.to_be_bytes()),
        Value::LongInteger(v) | Value::DateTime(v) | Value::DateTimeExtended(v) => {
            out.extend_from_slice(&v.to_be_bytes())
        }
        Value::Boolean(b) => out.extend_from_slice(&u64::from(*b).to_be_bytes()),
        Value::TextString(s) => out.extend_from_slice(s.as_bytes()),
        Value::ByteString(b) => out.extend_from_slice(b),
        Value::BigInteger(b) => out.extend_from_slice(b.as_bytes()),
    }
    let len = out.len() - body_at;
    out[len_at..body_at].copy_from_slice(&(len as u32).to_be_bytes());
    let pad = (8 - len % 8) % 8;
    out.resize(out.len() + pad, 0);
}

/// The binary encoding of `item` as a new vector.
pub fn to_vec(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode(item, &mut out);
    out
}

/// The length of [`encode`]'s output for `item` (header and padding included), without
/// encoding.
pub fn encoded_len(item: &Item) -> usize {
    let body = match &item.value {
        Value::Structure(children) => children.iter().map(encoded_len).sum(),
        Value::Integer(_) | Value::Enumeration(_) | Value::Interval(_) => 4,
        Value::LongInteger(_)
        | Value::DateTime(_)
        | Value::DateTimeExtended(_)
        | Value::Boolean(_) => 8,
        Value::TextString(s) => s.len(),
        Value::ByteString(b) => b.len(),
        Value::BigInteger(b) => b.as_bytes().len(),
    };
    HEADER_LEN + body.div_ceil(8) * 8
}

/// The binary encoding of `item` in a vector that clears itself when dropped: for responses,
/// which may carry key material (a Get of an exportable key). Allocated once at the exact
/// length, so no reallocation leaves a partial copy in freed memory.
pub fn to_zeroizing_vec(item: &Item) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(encoded_len(item)));
    encode(item, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyish() -> Item {
        Item::structure(
            Tag::REQUEST_MESSAGE,
            vec![
                Item::new(Tag::KEY_MATERIAL, Value::ByteString(vec![0xA5; 32])),
                Item::new(Tag::PASSWORD, Value::TextString("canary-pass".into())),
                Item::new(
                    Tag::MODULUS,
                    Value::BigInteger(BigInt::from_be_bytes(&[0x5A; 16])),
                ),
                Item::new(Tag::BATCH_COUNT, Value::Integer(7)),
                Item::new(Tag::KEY_MATERIAL, Value::ByteString(vec![0xA5; 5])),
            ],
        )
    }

    #[test]
    fn zeroizing_decode_and_encode_are_zeroizing_types() {
        fn clears_on_drop<T: Zeroize>(_: &Zeroizing<T>) {}
        let bytes = to_zeroizing_vec(&keyish());
        clears_on_drop::<Vec<u8>>(&bytes);
        let tree = decode_zeroizing(&bytes, &Limits::DEFAULT).unwrap();
        clears_on_drop::<Item>(&tree);
        assert_eq!(*tree, keyish());
        assert_eq!(*bytes, to_vec(&keyish()));
    }

    #[test]
    fn encodes_zeroizing_at_the_exact_length_in_one_allocation() {
        let item = keyish();
        let plain = to_vec(&item);
        assert_eq!(encoded_len(&item), plain.len());
        let z = to_zeroizing_vec(&item);
        assert_eq!(z.len(), plain.len());
        // Sized up front: the encoder never had to grow (and copy) the buffer.
        assert_eq!(z.capacity(), z.len());
    }

    #[test]
    fn zeroize_clears_every_byte_and_text_value_of_a_decoded_tree() {
        let bytes = to_vec(&keyish());
        let mut tree = decode(&bytes, &Limits::DEFAULT).unwrap();
        tree.zeroize();
        // What `Zeroizing<Item>` does on drop: no byte or text value is left in the tree.
        match &tree.value {
            Value::Structure(children) => assert!(children.is_empty()),
            other => panic!("{other:?}"),
        }
        let mut leaf = Item::new(Tag::KEY_MATERIAL, Value::ByteString(vec![1, 2, 3]));
        leaf.zeroize();
        assert_eq!(leaf.value, Value::ByteString(Vec::new()));
        let mut big = BigInt::from_be_bytes(&[9; 8]);
        big.zeroize();
        assert!(big.as_bytes().is_empty());
    }
}
