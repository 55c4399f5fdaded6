//! The tag, enumeration and bit-mask tables of KMIP 1.0–2.1, and the name look-ups that the XML
//! and JSON encodings need.
//!
//! The data is generated from the OASIS specification tables (`tools/gen_tables.py`); this file
//! holds only the look-up rules. They follow the KMIP Additional Message Encodings: a name is
//! resolved first in the message's own protocol version, then in the other versions, newest first.
//! The binary codec never consults these tables: unknown tags and values round-trip untouched.

mod generated;

use crate::Version;

pub(crate) struct VersionTable {
    pub major: u8,
    pub minor: u8,
    pub tags: &'static [(&'static str, u32)],
    pub enums: &'static [(&'static str, &'static [(&'static str, u32)])],
    pub masks: &'static [(&'static str, &'static [(&'static str, u32)])],
}

impl VersionTable {
    fn version(&self) -> Version {
        Version::new(self.major, self.minor)
    }
}

/// What the value names of an Enumeration tag are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnumKind<'a> {
    /// Values are tag numbers named by tag names (`AttributeReference`, `Tag`).
    Tag,
    /// An enumeration table by name (`CryptographicAlgorithm`, …).
    Named(&'a str),
}

/// The versions in look-up order for `version`: that version first (if known), then the others
/// newest first.
fn ordered(version: Option<Version>) -> impl Iterator<Item = &'static VersionTable> {
    let own = generated::VERSIONS
        .iter()
        .find(move |t| Some(t.version()) == version);
    own.into_iter().chain(
        generated::VERSIONS
            .iter()
            .rev()
            .filter(move |t| Some(t.version()) != version),
    )
}

fn table(version: Version) -> Option<&'static VersionTable> {
    generated::VERSIONS.iter().find(|t| t.version() == version)
}

fn find<T: Copy>(pairs: &[(&str, T)], key: &str) -> Option<T> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// The tag number for a tag name (`RequestMessage` → 0x420078), in `version` or any version.
pub fn tag_value(name: &str, version: Option<Version>) -> Option<u32> {
    if let Some(v) = version.and_then(table).and_then(|t| find(t.tags, name)) {
        return Some(v);
    }
    ordered(None)
        .find_map(|t| find(t.tags, name))
        .or_else(|| find(generated::TAG_ALIASES, name).and_then(|n| tag_value(n, None)))
}

/// The name of a tag number: its name in `version`, or else its newest name.
pub fn tag_name(tag: u32, version: Option<Version>) -> Option<&'static str> {
    let by_value =
        |t: &'static VersionTable| t.tags.iter().find(|(_, v)| *v == tag).map(|(n, _)| *n);
    version
        .and_then(table)
        .and_then(by_value)
        .or_else(|| ordered(None).find_map(by_value))
}

/// Whether `version` defines the tag (attributes newer than a client's version are never sent
/// to it). Unknown versions define nothing.
pub fn tag_defined(tag: u32, version: Version) -> bool {
    table(version).is_some_and(|t| t.tags.iter().any(|(_, v)| *v == tag))
}

/// Whether `version` defines the value in the enumeration table `enum_name` (a server tells a
/// client only values its version names). Unknown versions and tables define nothing.
pub fn enum_defined(enum_name: &str, value: u32, version: Version) -> bool {
    table(version)
        .and_then(|t| find(t.enums, enum_name))
        .is_some_and(|e| e.iter().any(|(_, v)| *v == value))
}

/// The bits a mask table defines in `version` exactly (no other version, no alias).
pub fn mask_bits_in(mask: &str, version: Version) -> u32 {
    table(version)
        .and_then(|t| find(t.masks, mask))
        .map(|bits| bits.iter().fold(0, |acc, (_, b)| acc | b))
        .unwrap_or(0)
}

/// The enumeration table that names the values of the tag called `tag_name`.
pub fn enum_kind(tag_name: &str) -> EnumKind<'_> {
    match find(generated::TAG_ENUM, tag_name).unwrap_or(tag_name) {
        "@Tag" => EnumKind::Tag,
        other => EnumKind::Named(other),
    }
}

/// Whether an enumeration table of that name exists in any version.
pub fn enum_known(kind: EnumKind<'_>) -> bool {
    match kind {
        EnumKind::Tag => true,
        EnumKind::Named(n) => generated::VERSIONS
            .iter()
            .any(|t| find(t.enums, n).is_some()),
    }
}

/// The value of an enumeration name (`CryptographicAlgorithm`, `AES` → 3).
pub fn enum_value(kind: EnumKind<'_>, name: &str, version: Option<Version>) -> Option<u32> {
    let enum_name = match kind {
        EnumKind::Tag => return tag_value(name, version),
        EnumKind::Named(n) => n,
    };
    ordered(version)
        .find_map(|t| find(t.enums, enum_name).and_then(|e| find(e, name)))
        .or_else(|| {
            generated::ENUM_ALIASES
                .iter()
                .find(|(e, a, _)| *e == enum_name && *a == name)
                .and_then(|(_, _, canonical)| enum_value(kind, canonical, version))
        })
}

/// The name of an enumeration value, in `version` first.
pub fn enum_name(kind: EnumKind<'_>, value: u32, version: Option<Version>) -> Option<&'static str> {
    let enum_name = match kind {
        EnumKind::Tag => return tag_name(value, version),
        EnumKind::Named(n) => n,
    };
    ordered(version).find_map(|t| {
        find(t.enums, enum_name).and_then(|e| e.iter().find(|(_, v)| *v == value).map(|(n, _)| *n))
    })
}

/// The mask table (bit name → bit) that names the bits of an Integer tag, if it is a mask.
pub fn mask_of_tag(tag_name: &str) -> Option<&'static str> {
    find(generated::TAG_MASK, tag_name)
}

/// The names of every mask table.
pub fn mask_names() -> &'static [&'static str] {
    &["CryptographicUsage", "StorageStatus", "ProtectionStorage"]
}

/// The bits of a mask in `version`, merged with those of the other versions (the message's own
/// version wins where a name differs) and the documented aliases.
pub fn mask_bits(mask: &str, version: Option<Version>) -> Vec<(&'static str, u32)> {
    let mut merged: Vec<(&'static str, u32)> = generated::MASK_ALIASES
        .iter()
        .filter(|(m, _, _)| *m == mask)
        .map(|(_, n, v)| (*n, *v))
        .collect();
    let order: Vec<_> = ordered(version).collect();
    for t in order.into_iter().rev() {
        for (n, v) in find(t.masks, mask).unwrap_or(&[]) {
            match merged.iter_mut().find(|(m, _)| m == n) {
                Some(slot) => slot.1 = *v,
                None => merged.push((n, *v)),
            }
        }
    }
    merged
}

/// Every KMIP protocol version the tables know, oldest first.
pub fn versions() -> impl Iterator<Item = Version> {
    generated::VERSIONS.iter().map(VersionTable::version)
}

/// KMIP text → CamelCase, as the Additional Message Encodings normalise attribute names
/// ("Cryptographic Usage Mask" → "CryptographicUsageMask").
pub fn normalize_name(name: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    // 1. parentheses become spaces
    let s: Vec<char> = name
        .chars()
        .map(|c| if c == '(' || c == ')' { ' ' } else { c })
        .collect();
    // 2. a non-word character followed by a capitalised word starts a new word
    let mut t = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if !is_word(c)
            && i + 2 < s.len()
            && s[i + 1].is_ascii_alphabetic()
            && s[i + 2].is_ascii_lowercase()
        {
            t.push(' ');
            t.push(s[i + 1]);
            t.push(s[i + 2]);
            i += 3;
            continue;
        }
        t.push(c);
        i += 1;
    }
    // 3. split on white space; other non-word characters become '_'
    let mut words: Vec<String> = t
        .split_whitespace()
        .map(|w| {
            w.chars()
                .map(|c| if is_word(c) { c } else { '_' })
                .collect()
        })
        .collect();
    // 4. leading digits of the first word move to its end
    if let Some(first) = words.first_mut() {
        let digits: String = first.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            let rest: String = first.chars().skip(digits.chars().count()).collect();
            *first = rest + &digits;
        }
    }
    let mut out = String::with_capacity(name.len());
    for w in words.iter().filter(|w| !w.is_empty()) {
        let mut cs = w.chars();
        if let Some(c) = cs.next() {
            out.extend(c.to_uppercase());
            out.push_str(cs.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const V14: Option<Version> = Some(Version::new(1, 4));
    const V21: Option<Version> = Some(Version::new(2, 1));

    #[test]
    fn knows_which_version_defines_an_enumeration_value() {
        // Log (0x2C) and Interop (0x34) are KMIP 2.0 operations; Query (0x18) is in every version.
        assert!(!enum_defined("Operation", 0x2C, Version::new(1, 4)));
        assert!(enum_defined("Operation", 0x2C, Version::new(2, 0)));
        assert!(enum_defined("Operation", 0x18, Version::new(1, 0)));
        assert!(!enum_defined("Operation", 0x1E, Version::new(1, 0)));
        assert!(enum_defined("Operation", 0x1E, Version::new(1, 1)));
        assert!(!enum_defined("NoSuchEnum", 1, Version::new(2, 1)));
    }

    #[test]
    fn resolves_tags_both_ways() {
        assert_eq!(tag_value("RequestMessage", V14), Some(0x420078));
        assert_eq!(tag_name(0x420078, V21), Some("RequestMessage"));
        assert_eq!(tag_value("NoSuchTag", V14), None);
        assert_eq!(tag_name(0x54_0001, V14), None);
    }

    #[test]
    fn resolves_enumerations_per_version() {
        let alg = enum_kind("CryptographicAlgorithm");
        assert_eq!(enum_value(alg, "AES", V14), Some(3));
        assert_eq!(enum_name(alg, 3, V21), Some("AES"));
        assert_eq!(
            enum_value(enum_kind("AttributeReference"), "State", V21),
            tag_value("State", V21)
        );
        assert_eq!(
            enum_value(enum_kind("ResultReason"), "NotAuthorized", V21),
            enum_value(enum_kind("ResultReason"), "NotAuthorised", V21)
        );
    }

    #[test]
    fn names_mask_bits() {
        let bits = mask_bits("CryptographicUsage", V14);
        assert!(bits.contains(&("Encrypt", 4)));
        assert!(bits.contains(&("Decrypt", 8)));
        assert_eq!(
            mask_of_tag("CryptographicUsageMask"),
            Some("CryptographicUsage")
        );
    }

    #[test]
    fn normalizes_names_like_the_spec() {
        assert_eq!(
            normalize_name("Cryptographic Usage Mask"),
            "CryptographicUsageMask"
        );
        assert_eq!(normalize_name("Object Type"), "ObjectType");
        assert_eq!(normalize_name("x-ID"), "X_ID");
        assert_eq!(normalize_name("3DES"), "DES3");
        assert_eq!(
            normalize_name("Digital Signature Algorithm"),
            "DigitalSignatureAlgorithm"
        );
    }
}
