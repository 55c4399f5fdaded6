//! The KMIP JSON encoding (KMIP Additional Message Encodings §4): each item is an object
//! `{"tag": "Name" | "0x42xxxx", "type": "Integer", "value": …}`; `type` is omitted for a
//! Structure, whose value is an array of items.
//!
//! Values: Integer as a number, a `0x` hex string, or mask bit names joined by `|`; LongInteger
//! and Interval as numbers or hex; BigInteger as a `0x` hex string; Enumeration as a name or
//! hex; Boolean as `true`/`false`; ByteString as hex; DateTime as ISO 8601 or hex. Written in the
//! canonical form (names where the tables have them), read in any of these forms.

use std::fmt;

use serde_json::{Map, Value as Json};
use zeroize::{Zeroize, Zeroizing};

use crate::item::{Item, ItemType, Tag, Value};
use crate::text::{self, TextError};
use crate::{tables, Version};

/// Deepest nesting accepted when reading JSON (serde_json itself stops at 128).
pub const MAX_JSON_DEPTH: usize = 32;

/// Why JSON could not be read as TTLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON (serde_json's message).
    Syntax(String),
    /// Structures nest deeper than [`MAX_JSON_DEPTH`].
    TooDeep,
    /// An item that is not an object with `tag` and `value`.
    Shape(String),
    UnknownTag(String),
    UnknownType {
        tag: String,
        item_type: String,
    },
    Value(TextError),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonError::Syntax(m) => write!(f, "not valid JSON: {m}"),
            JsonError::TooDeep => write!(f, "JSON items nest deeper than {MAX_JSON_DEPTH} levels"),
            JsonError::Shape(m) => write!(f, "not a KMIP JSON item: {m}"),
            JsonError::UnknownTag(t) => write!(
                f,
                "\"{t}\" is not a KMIP tag name (use \"0x54xxxx\" for extensions)"
            ),
            JsonError::UnknownType { tag, item_type } => {
                write!(f, "{tag}: unknown item type \"{item_type}\"")
            }
            JsonError::Value(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for JsonError {}

impl JsonError {
    /// The error without any value taken from the input, for logs (see
    /// [`TextError::without_value`]); tag and type names are kept.
    pub fn without_value(&self) -> String {
        match self {
            JsonError::Value(e) => e.without_value(),
            other => other.to_string(),
        }
    }
}

impl From<TextError> for JsonError {
    fn from(e: TextError) -> Self {
        JsonError::Value(e)
    }
}

/// Reads one item from JSON text; names resolve in `version`, else the message's own header.
/// The parsed JSON, whose strings (hex key material, passwords) are cleared when it is freed.
pub fn from_json(text: &str, version: Option<Version>) -> Result<Item, JsonError> {
    let mut json: Json =
        serde_json::from_str(text).map_err(|e| JsonError::Syntax(e.to_string()))?;
    let version = version.or_else(|| json_version(&json));
    let item = json_to_item(&json, version, &[], 1);
    scrub(&mut json);
    item
}

/// Clears every string of a JSON tree (depth bounded by serde_json's recursion limit).
fn scrub(j: &mut Json) {
    match j {
        Json::String(s) => s.zeroize(),
        Json::Array(a) => a.iter_mut().for_each(scrub),
        Json::Object(o) => o.values_mut().for_each(scrub),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}

/// The protocol version in a JSON message's header, read without the tables' help.
fn json_version(msg: &Json) -> Option<Version> {
    fn kids(j: &Json) -> &[Json] {
        j.get("value")
            .and_then(Json::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
    fn named<'a>(v: &'a [Json], n: &str) -> Option<&'a Json> {
        v.iter()
            .find(|c| c.get("tag").and_then(Json::as_str) == Some(n))
    }
    let top = kids(msg);
    let header = named(top, "RequestHeader").or_else(|| named(top, "ResponseHeader"))?;
    let pv = kids(named(kids(header), "ProtocolVersion")?);
    let int = |n: &str| -> Option<u8> {
        let v = named(pv, n)?.get("value")?;
        v.as_u64()
            .and_then(|x| u8::try_from(x).ok())
            .or_else(|| v.as_str()?.trim().parse().ok())
    };
    Some(Version::new(
        int("ProtocolVersionMajor")?,
        int("ProtocolVersionMinor")?,
    ))
}

fn json_to_item(
    j: &Json,
    version: Option<Version>,
    preceding: &[Item],
    depth: usize,
) -> Result<Item, JsonError> {
    if depth > MAX_JSON_DEPTH {
        return Err(JsonError::TooDeep);
    }
    let obj = j
        .as_object()
        .ok_or_else(|| JsonError::Shape("an item must be an object".into()))?;
    let tag_s = obj
        .get("tag")
        .and_then(Json::as_str)
        .ok_or_else(|| JsonError::Shape("an item needs a \"tag\" string".into()))?;
    let tag = tables::tag_value(tag_s, version)
        .or_else(|| {
            let h = tag_s
                .strip_prefix("0x")
                .or_else(|| tag_s.strip_prefix("0X"))?;
            (h.len() == 6)
                .then(|| u32::from_str_radix(h, 16).ok())
                .flatten()
        })
        .ok_or_else(|| JsonError::UnknownTag(tag_s.to_owned()))?;
    let tag_name = tables::tag_name(tag, version)
        .map(str::to_owned)
        .unwrap_or_else(|| tag_s.to_owned());
    let type_s = match obj.get("type") {
        None => "Structure",
        Some(t) => t
            .as_str()
            .ok_or_else(|| JsonError::Shape(format!("{tag_name}: \"type\" must be a string")))?,
    };
    let item_type = ItemType::from_name(type_s).ok_or_else(|| JsonError::UnknownType {
        tag: tag_name.clone(),
        item_type: type_s.to_owned(),
    })?;
    let value = obj
        .get("value")
        .ok_or_else(|| JsonError::Shape(format!("{tag_name}: an item needs a \"value\"")))?;
    let bad = || {
        JsonError::Value(TextError::BadValue {
            tag: tag_name.clone(),
            item_type,
            value: value.to_string(),
        })
    };
    if item_type == ItemType::Structure {
        let arr = value.as_array().ok_or_else(bad)?;
        let mut children: Vec<Item> = Vec::with_capacity(arr.len());
        for c in arr {
            let item = json_to_item(c, version, &children, depth + 1)?;
            children.push(item);
        }
        return Ok(Item::new(Tag(tag), Value::Structure(children)));
    }
    let v = match (item_type, value) {
        (ItemType::Integer, Json::Number(n)) => Value::Integer(
            n.as_i64()
                .and_then(|x| i32::try_from(x).ok())
                .ok_or_else(bad)?,
        ),
        (ItemType::LongInteger, Json::Number(n)) => Value::LongInteger(n.as_i64().ok_or_else(bad)?),
        (ItemType::Interval, Json::Number(n)) => Value::Interval(
            n.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(bad)?,
        ),
        (ItemType::Enumeration, Json::Number(n)) => Value::Enumeration(
            n.as_u64()
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(bad)?,
        ),
        (ItemType::DateTime, Json::Number(n)) => Value::DateTime(n.as_i64().ok_or_else(bad)?),
        (ItemType::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (_, Json::String(s)) => {
            let ctx = text::context_name(&tag_name, preceding);
            text::parse_value(&tag_name, item_type, s, ctx.as_deref(), version)?
        }
        _ => return Err(bad()),
    };
    Ok(Item::new(Tag(tag), v))
}

/// Renders an item in the KMIP JSON encoding, naming tags and values in `version`.
pub fn to_json(item: &Item, version: Option<Version>) -> Json {
    render(item, version, &[])
}

/// [`to_json`] as pretty-printed text.
pub fn to_json_string(item: &Item, version: Option<Version>) -> String {
    serde_json::to_string_pretty(&to_json(item, version)).unwrap_or_default()
}

/// [`to_json_string`] for answers that may carry key material: the text is written once into a
/// buffer of its exact length (measured by a first pass) that clears itself when dropped, and
/// the intermediate JSON tree is cleared.
pub fn to_json_zeroizing(item: &Item, version: Option<Version>) -> Zeroizing<String> {
    /// Counts what would be written.
    struct Measure(usize);
    impl std::io::Write for Measure {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut json = to_json(item, version);
    let mut measure = Measure(0);
    let mut out = Zeroizing::new(Vec::new());
    if serde_json::to_writer_pretty(&mut measure, &json).is_ok() {
        out.reserve_exact(measure.0);
        // Writing to a Vec cannot fail, and serde_json writes UTF-8.
        let _ = serde_json::to_writer_pretty(&mut *out, &json);
    }
    scrub(&mut json);
    match String::from_utf8(std::mem::take(&mut *out)) {
        Ok(text) => Zeroizing::new(text),
        Err(e) => {
            e.into_bytes().zeroize();
            Zeroizing::new(String::new())
        }
    }
}

fn render(item: &Item, version: Option<Version>, preceding: &[Item]) -> Json {
    let name = tables::tag_name(item.tag.0, version);
    let mut obj = Map::new();
    obj.insert(
        "tag".into(),
        Json::String(
            name.map(str::to_owned)
                .unwrap_or_else(|| format!("0x{:06X}", item.tag.0)),
        ),
    );
    if item.item_type() != ItemType::Structure {
        obj.insert("type".into(), Json::String(item.item_type().name().into()));
    }
    let ctx = text::context_name(name.unwrap_or(""), preceding);
    let ctx = ctx.as_deref();
    let value = match &item.value {
        Value::Structure(children) => Json::Array(
            children
                .iter()
                .enumerate()
                .map(|(i, c)| render(c, version, &children[..i]))
                .collect(),
        ),
        Value::Integer(v) => match text::mask_names(*v, ctx, version) {
            Some(names) => Json::String(names.join("|")),
            None => Json::from(*v),
        },
        Value::LongInteger(v) => Json::from(*v),
        Value::Interval(v) => Json::from(*v),
        Value::Boolean(b) => Json::Bool(*b),
        Value::BigInteger(b) => {
            // The digits may be private key parts: the temporary copy is cleared.
            let mut s = String::with_capacity(2 + 2 * b.as_bytes().len());
            s.push_str("0x");
            let mut digits = text::hex(b.as_bytes());
            s.push_str(&digits);
            digits.zeroize();
            Json::String(s)
        }
        other => Json::String(text::format_value(other, ctx, version, "|")),
    };
    obj.insert("value".into(), value);
    Json::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::BigInt;

    #[test]
    fn zeroizing_text_equals_the_plain_text_in_one_exact_allocation() {
        let item = Item::structure(
            Tag::RESPONSE_MESSAGE,
            vec![
                Item::new(Tag::KEY_MATERIAL, Value::ByteString(vec![0xA5; 32])),
                Item::new(
                    Tag::PRIVATE_EXPONENT,
                    Value::BigInteger(BigInt::from_be_bytes(&[0x5A; 16])),
                ),
            ],
        );
        let plain = to_json_string(&item, None);
        let z = to_json_zeroizing(&item, None);
        assert_eq!(*z, plain);
        assert_eq!(z.capacity(), z.len());
        assert_eq!(from_json(&z, None).unwrap(), item);
    }

    #[test]
    fn a_bad_value_is_named_in_the_answer_but_kept_out_of_logs() {
        let secret = "00112233445566778899aabbccddeeffzz";
        let text = format!(r#"{{"tag":"KeyMaterial","type":"ByteString","value":"{secret}"}}"#);
        let e = from_json(&text, None).unwrap_err();
        assert!(e.to_string().contains("00112233"), "{e}");
        let logged = e.without_value();
        assert!(!logged.contains("0011"), "{logged}");
        assert!(
            logged.contains("KeyMaterial") && logged.contains("ByteString"),
            "{logged}"
        );
    }

    #[test]
    fn round_trips_every_type() {
        let item = Item::structure(
            Tag::REQUEST_PAYLOAD,
            vec![
                Item::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
                Item::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
                Item::new(Tag::OBJECT_TYPE, Value::Enumeration(0x8000_0001)),
                Item::new(Tag(0x540001), Value::LongInteger(-5)),
                Item::new(Tag::KEY_MATERIAL, Value::ByteString(vec![0, 1, 0xfe])),
                Item::new(
                    Tag::MODULUS,
                    Value::BigInteger(BigInt::from_be_bytes(&[0x80, 1])),
                ),
                Item::new(Tag::ACTIVATION_DATE, Value::DateTime(1_767_323_045)),
                Item::new(Tag::LEASE_TIME, Value::Interval(3600)),
                Item::new(Tag::SENSITIVE, Value::Boolean(true)),
                Item::new(Tag::NAME_VALUE, Value::TextString("ünï \"q\"".into())),
                Item::new(
                    Tag(0x540002),
                    Value::DateTimeExtended(1_767_323_045_000_042),
                ),
            ],
        );
        let v = Some(Version::new(2, 1));
        let text = to_json_string(&item, v);
        assert!(text.contains("\"Encrypt|Decrypt\""), "{text}");
        assert!(text.contains("\"AES\""), "{text}");
        assert!(text.contains("\"0x540001\""), "{text}");
        assert_eq!(from_json(&text, v).unwrap(), item);
    }

    #[test]
    fn accepts_hex_and_numeric_forms() {
        let j = r#"{"tag":"RequestPayload","value":[
            {"tag":"CryptographicUsageMask","type":"Integer","value":"0x0000000C"},
            {"tag":"CryptographicAlgorithm","type":"Enumeration","value":3},
            {"tag":"0x420057","type":"Enumeration","value":"SymmetricKey"}]}"#;
        let item = from_json(j, None).unwrap();
        assert_eq!(item.children()[0].value, Value::Integer(12));
        assert_eq!(item.children()[1].value, Value::Enumeration(3));
        assert_eq!(item.children()[2].value, Value::Enumeration(2));
    }

    #[test]
    fn rejects_malformed_items() {
        assert!(matches!(from_json("[", None), Err(JsonError::Syntax(_))));
        assert!(matches!(
            from_json("{\"value\":1}", None),
            Err(JsonError::Shape(_))
        ));
        assert!(matches!(
            from_json(
                r#"{"tag":"BatchCount","type":"Integer","value":true}"#,
                None
            ),
            Err(JsonError::Value(_))
        ));
        assert!(matches!(
            from_json(
                r#"{"tag":"BatchCount","type":"Integer","value":4294967296}"#,
                None
            ),
            Err(JsonError::Value(_))
        ));
        let mut deep = String::new();
        for _ in 0..60 {
            deep.push_str(r#"{"tag":"RequestPayload","value":["#);
        }
        deep.push_str(&"]}".repeat(60));
        assert_eq!(from_json(&deep, None), Err(JsonError::TooDeep));
    }
}
