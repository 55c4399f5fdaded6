//! Text forms of leaf values shared by the XML and JSON encodings (KMIP Additional Message
//! Encodings): enumeration and mask names resolved through the tables, `0x` hex, ISO 8601 dates.
//!
//! The name that selects an enumeration or mask table is the item's own tag name, except for an
//! `AttributeValue`, whose table is named by the `AttributeName` before it (1.x attributes).

use std::fmt;

use zeroize::Zeroizing;

use crate::item::{BigInt, Item, ItemType, Tag, Value};
use crate::tables::{self, EnumKind};
use crate::{datetime, Version};

/// Why a text value could not become a TTLV value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// A `$NAME` test-vector placeholder: the product accepts only concrete values.
    Placeholder { tag: String, value: String },
    /// An enumeration name that no table of the item knows.
    UnknownEnumeration { tag: String, value: String },
    /// A mask bit name that the item's mask table does not know.
    UnknownMaskBit { tag: String, value: String },
    /// A value that is not of the form its type requires.
    BadValue {
        tag: String,
        item_type: ItemType,
        value: String,
    },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Placeholder { tag, value } => write!(
                f,
                "<{tag}>: \"{value}\" is a test-vector placeholder, not a value: substitute it first"
            ),
            TextError::UnknownEnumeration { tag, value } => {
                write!(f, "<{tag}>: unknown enumeration value \"{value}\" (use a known name or 0x hex)")
            }
            TextError::UnknownMaskBit { tag, value } => {
                write!(f, "<{tag}>: unknown mask bit \"{value}\" (use a known name or 0x hex)")
            }
            TextError::BadValue {
                tag,
                item_type,
                value,
            } => write!(f, "<{tag}>: \"{}\" is not a valid {}", clip(value), item_type.name()),
        }
    }
}

impl std::error::Error for TextError {}

impl TextError {
    /// The error without the offending value, for logs: a value that does not parse may be key
    /// material or a password the client mistyped, and must not reach a log file.
    pub fn without_value(&self) -> String {
        match self {
            TextError::Placeholder { tag, .. } => format!("<{tag}>: a test-vector placeholder"),
            TextError::UnknownEnumeration { tag, .. } => {
                format!("<{tag}>: unknown enumeration value")
            }
            TextError::UnknownMaskBit { tag, .. } => format!("<{tag}>: unknown mask bit"),
            TextError::BadValue { tag, item_type, .. } => {
                format!("<{tag}>: not a valid {}", item_type.name())
            }
        }
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 40 {
        s.chars().take(40).collect::<String>() + "…"
    } else {
        s.to_owned()
    }
}

/// The name whose tables apply to a leaf: its tag name, or for `AttributeValue` the normalised
/// `AttributeName` among the siblings before it.
pub(crate) fn context_name(tag_name: &str, preceding: &[Item]) -> Option<String> {
    if tag_name != "AttributeValue" {
        return Some(tag_name.to_owned());
    }
    preceding.iter().find_map(|s| match (&s.value, s.tag) {
        (Value::TextString(n), Tag::ATTRIBUTE_NAME) if !n.is_empty() => {
            Some(tables::normalize_name(n))
        }
        _ => None,
    })
}

fn parse_hex_u64(s: &str, max_digits: usize) -> Option<u64> {
    let h = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    if h.is_empty() || h.len() > max_digits || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(h, 16).ok()
}

/// Hex digits (white space ignored) → bytes. The digits may be key material: both buffers are
/// sized once and cleared unless returned.
pub(crate) fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let mut digits = Zeroizing::new(Vec::with_capacity(s.len()));
    digits.extend(s.bytes().filter(|b| !b.is_ascii_whitespace()));
    let mut out = Zeroizing::new(Vec::with_capacity(digits.len() / 2 + 1));
    let mut it = digits.chunks(2);
    let odd = digits.len() % 2 == 1;
    let val = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    if odd {
        out.push(val(*digits.first()?)?);
        it = digits[1..].chunks(2);
    }
    for pair in it {
        out.push(val(pair[0])? << 4 | val(*pair.get(1)?)?);
    }
    Some(std::mem::take(&mut *out))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

fn is_decimal(s: &str) -> bool {
    let d = s.strip_prefix(['+', '-']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `raw` is a test-vector placeholder (`$NOW`, `$NOW-3600`, `$UNIQUE_IDENTIFIER_0`).
/// For text, only that exact shape counts (a literal `$…` name is data); for every other type a
/// leading `$` can be nothing else.
fn is_placeholder(raw: &str, t: ItemType) -> bool {
    let Some(rest) = raw.trim().strip_prefix('$') else {
        return false;
    };
    if t != ItemType::TextString {
        return true;
    }
    let name_end = rest
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(rest.len());
    let (name, offset) = rest.split_at(name_end);
    let offset_ok = offset.is_empty()
        || offset
            .strip_prefix(['+', '-'])
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    name.starts_with(|c: char| c.is_ascii_uppercase()) && offset_ok
}

/// Parses the text form of a leaf of type `t`. `ctx` names the enumeration/mask table.
pub(crate) fn parse_value(
    tag_name: &str,
    t: ItemType,
    raw: &str,
    ctx: Option<&str>,
    version: Option<Version>,
) -> Result<Value, TextError> {
    let bad = || TextError::BadValue {
        tag: tag_name.to_owned(),
        item_type: t,
        value: raw.to_owned(),
    };
    if is_placeholder(raw, t) {
        return Err(TextError::Placeholder {
            tag: tag_name.to_owned(),
            value: raw.trim().to_owned(),
        });
    }
    let s = raw.trim();
    Ok(match t {
        ItemType::Structure => return Err(bad()),
        ItemType::Integer => {
            if is_decimal(s) {
                Value::Integer(s.parse().map_err(|_| bad())?)
            } else if let Some(v) = parse_hex_u64(s, 8) {
                Value::Integer(v as u32 as i32)
            } else {
                Value::Integer(parse_mask(tag_name, s, ctx, version)? as i32)
            }
        }
        ItemType::LongInteger => {
            if is_decimal(s) {
                Value::LongInteger(s.parse().map_err(|_| bad())?)
            } else {
                Value::LongInteger(parse_hex_u64(s, 16).ok_or_else(bad)? as i64)
            }
        }
        ItemType::BigInteger => {
            let h = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .unwrap_or(s);
            Value::BigInteger(BigInt::from_be_bytes(&parse_hex_bytes(h).ok_or_else(bad)?))
        }
        ItemType::Enumeration => match parse_hex_u64(s, 8) {
            Some(v) => Value::Enumeration(v as u32),
            None => Value::Enumeration(parse_enum(tag_name, s, ctx, version)?),
        },
        ItemType::Boolean => match s.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Boolean(true),
            "false" | "0" => Value::Boolean(false),
            _ => return Err(bad()),
        },
        ItemType::TextString => Value::TextString(raw.to_owned()),
        ItemType::ByteString => {
            if s.len() % 2 == 1 {
                return Err(bad());
            }
            Value::ByteString(parse_hex_bytes(s).ok_or_else(bad)?)
        }
        ItemType::DateTime => {
            let p = parse_hex_u64(s, 16)
                .map(|v| v as i64)
                .or_else(|| datetime::parse(s).map(|p| p.secs))
                .ok_or_else(bad)?;
            Value::DateTime(p)
        }
        ItemType::DateTimeExtended => {
            let v = match parse_hex_u64(s, 16) {
                Some(v) => v as i64,
                None if is_decimal(s) => s.parse().map_err(|_| bad())?,
                None => {
                    let p = datetime::parse(s).ok_or_else(bad)?;
                    p.secs
                        .checked_mul(1_000_000)
                        .and_then(|v| v.checked_add(i64::from(p.micros)))
                        .ok_or_else(bad)?
                }
            };
            Value::DateTimeExtended(v)
        }
        ItemType::Interval => match parse_hex_u64(s, 8) {
            Some(v) => Value::Interval(v as u32),
            None => Value::Interval(s.parse().map_err(|_| bad())?),
        },
    })
}

fn parse_enum(
    tag_name: &str,
    s: &str,
    ctx: Option<&str>,
    version: Option<Version>,
) -> Result<u32, TextError> {
    ctx.map(tables::enum_kind)
        .and_then(|kind| tables::enum_value(kind, s, version))
        .ok_or_else(|| TextError::UnknownEnumeration {
            tag: tag_name.to_owned(),
            value: s.to_owned(),
        })
}

/// `Encrypt Decrypt`, `Encrypt|Decrypt`, `0x0000000C` or a mix → bits.
fn parse_mask(
    tag_name: &str,
    s: &str,
    ctx: Option<&str>,
    version: Option<Version>,
) -> Result<u32, TextError> {
    let tables: Vec<Vec<(&str, u32)>> = match ctx.and_then(tables::mask_of_tag) {
        Some(m) => vec![tables::mask_bits(m, version)],
        None => tables::mask_names()
            .iter()
            .map(|m| tables::mask_bits(m, version))
            .collect(),
    };
    let mut v = 0u32;
    let mut any = false;
    for comp in s
        .split(|c: char| c == '|' || c.is_whitespace())
        .filter(|c| !c.is_empty())
    {
        any = true;
        if let Some(h) = parse_hex_u64(comp, 8) {
            v |= h as u32;
            continue;
        }
        let bit = tables
            .iter()
            .find_map(|t| t.iter().find(|(n, _)| *n == comp).map(|(_, b)| *b))
            .ok_or_else(|| TextError::UnknownMaskBit {
                tag: tag_name.to_owned(),
                value: comp.to_owned(),
            })?;
        v |= bit;
    }
    if !any {
        return Err(TextError::BadValue {
            tag: tag_name.to_owned(),
            item_type: ItemType::Integer,
            value: s.to_owned(),
        });
    }
    Ok(v)
}

/// The names of the bits of `v` in the mask table of `ctx`, when every bit has a name.
pub(crate) fn mask_names(
    v: i32,
    ctx: Option<&str>,
    version: Option<Version>,
) -> Option<Vec<&'static str>> {
    let mask = ctx.and_then(tables::mask_of_tag)?;
    if v <= 0 {
        return None;
    }
    let mut bits = tables::mask_bits(mask, version);
    bits.sort_by_key(|(_, b)| *b);
    let mut rest = v as u32;
    let mut names = Vec::new();
    for (n, b) in bits {
        if b != 0 && rest & b == b {
            names.push(n);
            rest &= !b;
        }
    }
    (rest == 0).then_some(names)
}

/// The name of an enumeration value in the table of `ctx`, if it has one.
pub(crate) fn enum_name(
    v: u32,
    ctx: Option<&str>,
    version: Option<Version>,
) -> Option<&'static str> {
    let kind = ctx.map(tables::enum_kind)?;
    match kind {
        EnumKind::Tag => tables::tag_name(v, version),
        EnumKind::Named(_) => tables::enum_name(kind, v, version),
    }
}

/// The XML text form of a leaf (masks space-separated).
pub(crate) fn format_value(
    value: &Value,
    ctx: Option<&str>,
    version: Option<Version>,
    mask_sep: &str,
) -> String {
    match value {
        Value::Structure(_) => String::new(),
        Value::Integer(v) => match mask_names(*v, ctx, version) {
            Some(names) => names.join(mask_sep),
            None => v.to_string(),
        },
        Value::LongInteger(v) => v.to_string(),
        Value::Interval(v) => v.to_string(),
        Value::Enumeration(v) => match enum_name(*v, ctx, version) {
            Some(n) => n.to_owned(),
            None => format!("0x{v:08X}"),
        },
        Value::Boolean(b) => b.to_string(),
        Value::TextString(s) => s.clone(),
        Value::ByteString(b) => hex(b),
        Value::BigInteger(b) => hex(b.as_bytes()),
        Value::DateTime(v) => datetime::format_datetime(*v),
        Value::DateTimeExtended(v) => datetime::format_datetime_extended(*v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V14: Option<Version> = Some(Version::new(1, 4));

    fn p(tag: &str, t: ItemType, raw: &str) -> Result<Value, TextError> {
        parse_value(tag, t, raw, Some(tag), V14)
    }

    #[test]
    fn parses_masks_names_and_hex() {
        let m = |s| p("CryptographicUsageMask", ItemType::Integer, s).unwrap();
        assert_eq!(m("Encrypt Decrypt"), Value::Integer(12));
        assert_eq!(m("Encrypt|Decrypt"), Value::Integer(12));
        assert_eq!(m("0x0000000C"), Value::Integer(12));
        assert_eq!(m("12"), Value::Integer(12));
        assert!(matches!(
            p(
                "CryptographicUsageMask",
                ItemType::Integer,
                "Encrypt Frobnicate"
            ),
            Err(TextError::UnknownMaskBit { .. })
        ));
        assert_eq!(
            p("CryptographicAlgorithm", ItemType::Enumeration, "AES").unwrap(),
            Value::Enumeration(3)
        );
        assert_eq!(
            p(
                "CryptographicAlgorithm",
                ItemType::Enumeration,
                "0x80000001"
            )
            .unwrap(),
            Value::Enumeration(0x8000_0001)
        );
    }

    #[test]
    fn rejects_placeholders_and_bad_values() {
        assert!(matches!(
            p(
                "UniqueIdentifier",
                ItemType::TextString,
                "$UNIQUE_IDENTIFIER_0"
            ),
            Err(TextError::Placeholder { .. })
        ));
        assert!(matches!(
            p("BatchCount", ItemType::Integer, "99999999999"),
            Err(TextError::BadValue { .. })
        ));
        assert!(p("KeyMaterial", ItemType::ByteString, "abc").is_err());
        assert!(p("KeyMaterial", ItemType::ByteString, "zz").is_err());
        assert!(p("Flag", ItemType::Boolean, "yes").is_err());
    }

    #[test]
    fn formats_masks_only_when_every_bit_has_a_name() {
        let ctx = Some("CryptographicUsageMask");
        assert_eq!(
            format_value(&Value::Integer(12), ctx, V14, " "),
            "Encrypt Decrypt"
        );
        assert_eq!(
            format_value(&Value::Integer(1 << 30), ctx, V14, " "),
            (1 << 30).to_string()
        );
        assert_eq!(
            format_value(
                &Value::Enumeration(0x8000_0001),
                Some("ObjectType"),
                V14,
                " "
            ),
            "0x80000001"
        );
    }

    #[test]
    fn takes_only_placeholder_shaped_text_for_placeholders() {
        assert!(is_placeholder("$NOW-3600", ItemType::TextString));
        assert!(is_placeholder("$UNIQUE_IDENTIFIER_0", ItemType::TextString));
        assert!(!is_placeholder("$ecret", ItemType::TextString));
        assert!(!is_placeholder("$", ItemType::TextString));
        assert!(is_placeholder("$x", ItemType::ByteString));
        assert_eq!(
            p("NameValue", ItemType::TextString, "$ecret").unwrap(),
            Value::TextString("$ecret".into())
        );
    }

    #[test]
    fn decodes_hex_bytes() {
        assert_eq!(parse_hex_bytes("0a 0B").unwrap(), vec![10, 11]);
        assert_eq!(parse_hex_bytes("abc").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(hex(&[0, 255]), "00ff");
    }
}
