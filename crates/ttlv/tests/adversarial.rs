//! Hostile input: every malformed message is a typed error, none allocates past the limits
//! (declared lengths are checked against the input before allocation), none panics.

use hsmkms_ttlv::{decode, message_len, to_vec, DecodeErrorKind, Item, Limits, Tag, Value};

fn header(tag: u32, typ: u8, len: u32) -> Vec<u8> {
    let mut v = tag.to_be_bytes()[1..].to_vec();
    v.push(typ);
    v.extend_from_slice(&len.to_be_bytes());
    v
}

fn kind(input: &[u8]) -> DecodeErrorKind {
    decode(input, &Limits::DEFAULT).unwrap_err().kind
}

fn sample() -> Vec<u8> {
    to_vec(&Item::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Item::new(Tag::BATCH_COUNT, Value::Integer(1)),
            Item::new(Tag::NAME_VALUE, Value::TextString("abc".into())),
        ],
    ))
}

#[test]
fn rejects_every_truncation() {
    let full = sample();
    for n in 0..full.len() {
        let e = decode(&full[..n], &Limits::DEFAULT).unwrap_err();
        assert!(
            matches!(
                e.kind,
                DecodeErrorKind::Truncated { .. } | DecodeErrorKind::Overrun { .. }
            ),
            "prefix {n}: {e}"
        );
    }
    assert!(decode(&full, &Limits::DEFAULT).is_ok());
}

#[test]
fn rejects_wrong_and_huge_declared_lengths_without_allocating() {
    // A structure declaring 0xFFFFFFFF bytes with 8 bytes of body.
    let mut m = header(0x420078, 1, 0xFFFF_FFFF);
    m.extend_from_slice(&[0; 8]);
    assert!(matches!(
        kind(&m),
        DecodeErrorKind::Overrun {
            declared: 0xFFFF_FFFF,
            ..
        }
    ));
    // A byte string declaring 4 GiB inside a small structure.
    let mut inner = header(0x420043, 8, 0xFFFF_FFF0);
    inner.extend_from_slice(&[0; 8]);
    let mut m = header(0x420078, 1, inner.len() as u32);
    m.extend(inner);
    assert!(matches!(kind(&m), DecodeErrorKind::Overrun { .. }));
    // The frame check refuses 0x7FFFFFFF from the header alone.
    let h: [u8; 8] = header(0x420078, 1, 0x7FFF_FFFF).try_into().unwrap();
    assert!(matches!(
        message_len(&h, &Limits::DEFAULT).unwrap_err().kind,
        DecodeErrorKind::MessageTooLarge { .. }
    ));
    let ok: [u8; 8] = header(0x420078, 1, 16).try_into().unwrap();
    assert_eq!(message_len(&ok, &Limits::DEFAULT).unwrap(), 24);
    // Fixed-size items must declare their exact length.
    for (typ, len) in [
        (2u8, 8u32),
        (3, 4),
        (5, 8),
        (6, 4),
        (9, 0),
        (10, 8),
        (11, 16),
    ] {
        let mut inner = header(0x42000D, typ, len);
        inner.extend(vec![0; (len as usize).div_ceil(8) * 8]);
        let mut m = header(0x420078, 1, inner.len() as u32);
        m.extend(inner);
        assert!(
            matches!(kind(&m), DecodeErrorKind::WrongLength { .. }),
            "type {typ} len {len}"
        );
    }
    // BigInteger lengths must be non-zero multiples of 8.
    for len in [0u32, 3, 12] {
        let mut inner = header(0x420052, 4, len);
        inner.extend(vec![0; (len as usize).div_ceil(8) * 8]);
        let mut m = header(0x420078, 1, inner.len() as u32);
        m.extend(inner);
        assert!(
            matches!(kind(&m), DecodeErrorKind::BigIntegerLength(_)),
            "len {len}"
        );
    }
}

#[test]
fn rejects_non_zero_padding() {
    let mut m = sample();
    let last = m.len() - 1; // the text "abc" is followed by 5 padding bytes
    m[last] = 1;
    assert_eq!(kind(&m), DecodeErrorKind::NonZeroPadding);
}

#[test]
fn rejects_deep_nesting_of_ten_thousand_levels() {
    let depth = 10_000usize;
    let mut m = Vec::with_capacity(depth * 8);
    for level in 0..depth {
        m.extend(header(0x420078, 1, ((depth - level - 1) * 8) as u32));
    }
    assert!(matches!(kind(&m), DecodeErrorKind::TooDeep { limit: 32 }));
    // No configuration raises the depth past the hard cap that protects the stack.
    let limits = Limits {
        max_depth: 20_000,
        max_items: usize::MAX,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        decode(&m, &limits).unwrap_err().kind,
        DecodeErrorKind::TooDeep {
            limit: hsmkms_ttlv::binary::HARD_MAX_DEPTH
        }
    ));
}

#[test]
fn rejects_invalid_utf8_and_booleans() {
    let mut inner = header(0x420055, 7, 2);
    inner.extend([0xC3, 0x28, 0, 0, 0, 0, 0, 0]);
    let mut m = header(0x420078, 1, inner.len() as u32);
    m.extend(inner);
    assert_eq!(kind(&m), DecodeErrorKind::InvalidUtf8);
    let mut inner = header(0x420055, 6, 8);
    inner.extend(2u64.to_be_bytes());
    let mut m = header(0x420078, 1, inner.len() as u32);
    m.extend(inner);
    assert_eq!(kind(&m), DecodeErrorKind::InvalidBoolean(2));
}

#[test]
fn rejects_wrong_type_bytes_and_tags() {
    for typ in [0u8, 0x0C, 0x7F, 0xFF] {
        let mut m = header(0x420078, 1, 8);
        m.extend(header(0x42000D, typ, 0));
        assert_eq!(kind(&m), DecodeErrorKind::UnknownType(typ));
    }
    let mut m = header(0x430078, 1, 0);
    m.truncate(8);
    assert_eq!(kind(&m), DecodeErrorKind::InvalidTag(0x430078));
    let leaf = to_vec(&Item::new(Tag::BATCH_COUNT, Value::Integer(1)));
    assert!(matches!(kind(&leaf), DecodeErrorKind::NotAStructure(_)));
}

#[test]
fn rejects_trailing_bytes() {
    let mut m = sample();
    m.extend([0; 8]);
    assert_eq!(kind(&m), DecodeErrorKind::TrailingBytes(8));
}

#[test]
fn rejects_messages_over_the_limits() {
    let m = sample();
    let small = Limits {
        max_message_len: m.len() - 1,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        decode(&m, &small).unwrap_err().kind,
        DecodeErrorKind::MessageTooLarge { .. }
    ));
    let few = Limits {
        max_items: 2,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        decode(&m, &few).unwrap_err().kind,
        DecodeErrorKind::TooManyItems { limit: 2 }
    ));
}

#[test]
fn keeps_extension_tags_and_vendor_values() {
    let item = Item::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Item::new(Tag(0x54_FFFF), Value::Enumeration(0x8000_0042)),
            Item::new(Tag::OBJECT_TYPE, Value::Enumeration(0x8000_0001)),
        ],
    );
    assert_eq!(decode(&to_vec(&item), &Limits::DEFAULT).unwrap(), item);
}

#[test]
fn errors_say_where_and_what() {
    let mut m = sample();
    let last = m.len() - 1;
    m[last] = 1;
    let e = decode(&m, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(e.contains("offset") && e.contains("padding"), "{e}");
}
