//! Property tests: any tree the codec can build round-trips through binary, XML and JSON; any
//! byte string either decodes to a tree that re-encodes to the same bytes, or is an error.

use hsmkms_ttlv::{
    decode, decode_zeroizing, encoded_len, json, to_vec, to_zeroizing_vec, xml, BigInt, Item,
    Limits, Tag, Value, Version,
};
use proptest::prelude::*;

fn tag() -> impl Strategy<Value = Tag> {
    prop_oneof![
        // standard tags that exist in every version, plus extension tags
        prop::sample::select(vec![
            Tag::NAME_VALUE,
            Tag::BATCH_COUNT,
            Tag::OBJECT_TYPE,
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Tag::KEY_MATERIAL,
            Tag::ACTIVATION_DATE,
        ]),
        (0u32..0x1_0000).prop_map(|t| Tag(0x54_0000 | t)),
    ]
}

/// The shape the text parsers refuse as a test-vector placeholder: `$NAME` or `$NAME±digits`.
fn looks_like_placeholder(s: &str) -> bool {
    let Some(rest) = s.trim().strip_prefix('$') else {
        return false;
    };
    let name_end = rest
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(rest.len());
    let (name, offset) = rest.split_at(name_end);
    let digits = offset.strip_prefix(['+', '-']);
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && (offset.is_empty()
            || digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())))
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::Integer),
        any::<i64>().prop_map(Value::LongInteger),
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| Value::BigInteger(BigInt::from_be_bytes(&b))),
        any::<u32>().prop_map(Value::Enumeration),
        any::<bool>().prop_map(Value::Boolean),
        // any text but the exact shape of a test-vector placeholder, which XML input refuses
        ".{0,20}"
            .prop_filter("placeholder", |s| !looks_like_placeholder(s))
            .prop_map(Value::TextString),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::ByteString),
        (-62_135_596_800i64..253_402_300_799).prop_map(Value::DateTime),
        any::<u32>().prop_map(Value::Interval),
        (-62_135_596_800_000_000i64..253_402_300_799_000_000).prop_map(Value::DateTimeExtended),
    ]
}

fn tree() -> impl Strategy<Value = Item> {
    let leaf_item = (tag(), leaf()).prop_map(|(t, v)| Item::new(t, v));
    let inner = leaf_item.prop_recursive(5, 64, 8, |inner| {
        (tag(), prop::collection::vec(inner, 0..8)).prop_map(|(t, c)| Item::structure(t, c))
    });
    prop::collection::vec(inner, 0..8).prop_map(|c| Item::structure(Tag::REQUEST_MESSAGE, c))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn binary_round_trip(item in tree()) {
        let bytes = to_vec(&item);
        prop_assert_eq!(bytes.len() % 8, 0);
        prop_assert_eq!(decode(&bytes, &Limits::DEFAULT).unwrap(), item.clone());
        // The zeroizing forms agree with the plain ones, the encoding sized exactly.
        prop_assert_eq!(encoded_len(&item), bytes.len());
        prop_assert_eq!(&*to_zeroizing_vec(&item), &bytes);
        prop_assert_eq!(&*decode_zeroizing(&bytes, &Limits::DEFAULT).unwrap(), &item);
    }

    #[test]
    fn xml_and_json_round_trip(item in tree()) {
        let v = Some(Version::new(2, 1));
        // XML 1.0 cannot carry U+0000 at all, not even as a character reference.
        if !xml::to_xml(&item, v).contains("&#0;") {
            let x = xml::to_xml(&item, v);
            prop_assert_eq!(&xml::from_xml(&x, v).unwrap(), &item);
        }
        let j = json::to_json_string(&item, v);
        prop_assert_eq!(&json::from_json(&j, v).unwrap(), &item);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_decoded_bytes_re_encode(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(item) = decode(&bytes, &Limits::DEFAULT) {
            prop_assert_eq!(to_vec(&item), bytes);
        }
    }

    #[test]
    fn mutated_messages_never_panic(item in tree(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = to_vec(&item);
        for (at, b) in flips {
            let n = bytes.len();
            bytes[at % n] ^= b;
        }
        if let Ok(decoded) = decode(&bytes, &Limits::DEFAULT) {
            prop_assert_eq!(to_vec(&decoded), bytes);
        }
    }
}
