//! The canonical, deterministic binary encoding of records, and its bounded reader.
//!
//! Shape as in rustls: encoding appends to a `Vec` and cannot fail; decoding reads from a
//! bounded slice reader and returns a typed [`DecodeError`]. Every integer is big-endian and
//! fixed-width; every string and byte string is a `u32` length followed by its bytes; every
//! list is a `u32` count followed by its items; optional and enumerated parts are one tag byte.
//! There is exactly one encoding of each value, so the bytes the MAC covers are a function of
//! the record alone.
//!
//! The sled files are outside our trust boundary (whoever copies or edits them is the attacker
//! the record MAC is for), so every length read here is checked against the bytes that remain
//! before anything is allocated, and the limits below bound what a damaged or hostile file can
//! make us do even before the MAC is checked.

/// Largest stored record (body + tag) accepted: bounds the work and memory one damaged or
/// forged record can cost a read. A record of a few hundred attributes is far below it.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// Longest text (unique identifier, owner, name, attribute name or text value), in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Longest byte string (wrapped blob, attribute byte string), in bytes.
pub const MAX_BYTES: usize = 256 * 1024;
/// Most items in one list (names, attributes, structure fields): bounds the loop count of a
/// forged count field.
pub const MAX_ITEMS: usize = 16 * 1024;
/// Deepest nesting of structure attribute values: bounds recursion on a forged record.
pub const MAX_DEPTH: usize = 8;
/// Longest MAC tag accepted (HMAC-SHA512 would be 64 bytes).
pub const MAX_TAG_BYTES: usize = 64;

/// Why stored bytes could not be decoded. Seen by callers only inside
/// [`StoreError::Integrity`](super::StoreError::Integrity).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("record truncated")]
    Truncated,
    #[error("{what} of {len} bytes exceeds the limit of {limit}")]
    TooLong {
        what: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("{0} is not valid UTF-8")]
    Utf8(&'static str),
    #[error("unknown {what} tag {tag}")]
    UnknownTag { what: &'static str, tag: u8 },
    #[error("{0} bytes after the end of the record")]
    Trailing(usize),
    #[error("attribute values nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("not an hsmkms record (bad magic)")]
    BadMagic,
    #[error("record schema {0} is not supported by this version of hsmkms")]
    UnsupportedSchema(u16),
}

/// Appends the canonical encoding of values to a buffer. Cannot fail.
#[derive(Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn into_inner(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.raw(&v.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.raw(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.raw(&v.to_be_bytes());
    }

    pub(crate) fn i32(&mut self, v: i32) {
        self.raw(&v.to_be_bytes());
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.raw(&v.to_be_bytes());
    }

    /// Lengths are `u32`: callers validate sizes against the limits above before encoding, so
    /// the saturation here is never reached by a record that decodes.
    pub(crate) fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.len(v.len());
        self.raw(v);
    }

    pub(crate) fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }
}

/// Reads canonical encodings from a bounded slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub(crate) fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            tag => Err(DecodeError::UnknownTag {
                what: "boolean",
                tag,
            }),
        }
    }

    /// A length field, checked against `limit` and against the bytes that remain.
    pub(crate) fn len(&mut self, what: &'static str, limit: usize) -> Result<usize, DecodeError> {
        let len = usize::try_from(self.u32()?).unwrap_or(usize::MAX);
        if len > limit {
            return Err(DecodeError::TooLong { what, len, limit });
        }
        Ok(len)
    }

    /// A list count: bounded by `MAX_ITEMS` (each item takes at least one byte, so a count
    /// larger than what remains is refused too).
    pub(crate) fn count(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let n = self.len(what, MAX_ITEMS)?;
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }

    pub(crate) fn bytes(
        &mut self,
        what: &'static str,
        limit: usize,
    ) -> Result<&'a [u8], DecodeError> {
        let n = self.len(what, limit)?;
        self.take(n)
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let b = self.bytes(what, MAX_TEXT_BYTES)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Utf8(what))
    }

    pub(crate) fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing(self.buf.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_scalars() {
        let mut w = Writer::new();
        w.u8(7);
        w.u16(0x1234);
        w.u32(0xdead_beef);
        w.u64(u64::MAX - 1);
        w.i32(-5);
        w.i64(i64::MIN);
        w.str("héllo");
        w.bool(true);
        let b = w.into_inner();
        let mut r = Reader::new(&b);
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u16().unwrap(), 0x1234);
        assert_eq!(r.u32().unwrap(), 0xdead_beef);
        assert_eq!(r.u64().unwrap(), u64::MAX - 1);
        assert_eq!(r.i32().unwrap(), -5);
        assert_eq!(r.i64().unwrap(), i64::MIN);
        assert_eq!(r.string("s").unwrap(), "héllo");
        assert!(r.bool().unwrap());
        r.finish().unwrap();
    }

    #[test]
    fn rejects_lengths_beyond_the_buffer_or_limit() {
        let mut w = Writer::new();
        w.u32(1000);
        w.raw(b"abc");
        let b = w.into_inner();
        assert_eq!(
            Reader::new(&b).bytes("x", 2000),
            Err(DecodeError::Truncated)
        );
        assert!(matches!(
            Reader::new(&b).bytes("x", 10),
            Err(DecodeError::TooLong { len: 1000, .. })
        ));
        assert!(matches!(
            Reader::new(&b).count("x"),
            Err(DecodeError::Truncated)
        ));
    }

    #[test]
    fn rejects_non_canonical_booleans_and_trailing_bytes() {
        assert!(Reader::new(&[2]).bool().is_err());
        let mut r = Reader::new(&[1, 0]);
        r.u8().unwrap();
        assert_eq!(r.finish(), Err(DecodeError::Trailing(1)));
    }
}
