//! Index trees and their key layouts.
//!
//! Every index key ends with the same tail, `inverted_sequence (u64 BE) || uid || uid_len (u16
//! BE)`, where `inverted_sequence = u64::MAX - record.sequence`: a prefix scan therefore yields
//! the matching objects **newest first**, and the identifier is parsed from the end of the key.
//! Index values are empty, except in the `names` tree, which enforces that names are unique per
//! owner and maps `len(owner) || owner || name` to the owning identifier.
//!
//! | tree | key before the tail | serves |
//! |---|---|---|
//! | `idx_name` | `len(name) name` | Locate by Name for any owner the caller may see |
//! | `idx_attr` | `len(attr) attr type value` | Locate by an indexed attribute: equality, or a range for numbers and dates |
//! | `idx_type_state` | `type (u32) state (u32)` | Locate / list by Object Type and State |
//! | `idx_owner` | `len(owner) owner` | list by owner |
//! | `idx_seq` | (nothing) | list everything, newest first |
//!
//! Numeric attribute values are encoded order-preserving (sign bit flipped, big-endian), so a
//! date range is one range scan. Text and byte values are length-prefixed (equality only).
//! Entries are hints: Locate re-checks every candidate against its verified record.

use std::collections::{BTreeMap, BTreeSet};

use super::record::{AttrValue, ObjectType, Owner, Record, State};

pub(crate) const OBJECTS: &str = "objects";
pub(crate) const META: &str = "meta";
pub(crate) const NAMES: &str = "names";

/// The index trees, in the order the store opens them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Idx {
    Name,
    Attr,
    TypeState,
    Owner,
    Seq,
}

impl Idx {
    pub(crate) const ALL: [Idx; 5] = [Idx::Name, Idx::Attr, Idx::TypeState, Idx::Owner, Idx::Seq];

    pub(crate) fn tree_name(self) -> &'static str {
        match self {
            Idx::Name => "idx_name",
            Idx::Attr => "idx_attr",
            Idx::TypeState => "idx_type_state",
            Idx::Owner => "idx_owner",
            Idx::Seq => "idx_seq",
        }
    }
}

/// Attributes indexed for Locate besides every custom attribute (`x-…`, `y-…`). The KMIP
/// layer stores these under exactly these names (the KMIP 1.4 spelling).
pub const INDEXED_ATTRIBUTES: &[&str] = &[
    "Object Group",
    "Cryptographic Algorithm",
    "Cryptographic Length",
    "Operation Policy Name",
    "Initial Date",
    "Activation Date",
    "Deactivation Date",
    "Process Start Date",
    "Protect Stop Date",
];

/// Longest text or byte-string attribute value that is indexed; longer values are found only
/// through another filter or a scan.
pub const MAX_INDEXED_VALUE_BYTES: usize = 256;

/// Whether Locate can find objects by attribute `name` through the attribute index.
pub fn is_indexed_attribute(name: &str) -> bool {
    name.starts_with("x-") || name.starts_with("y-") || INDEXED_ATTRIBUTES.contains(&name)
}

/// Whether this value of an indexed attribute goes into the index.
pub(crate) fn is_indexable_value(v: &AttrValue) -> bool {
    match v {
        AttrValue::Text(s) => s.len() <= MAX_INDEXED_VALUE_BYTES,
        AttrValue::ByteString(b) => b.len() <= MAX_INDEXED_VALUE_BYTES,
        AttrValue::Structure(_) => false,
        _ => true,
    }
}

/// Whether values of this kind are ordered in the index (range scans work).
pub(crate) fn is_ordered(v: &AttrValue) -> bool {
    matches!(
        v,
        AttrValue::Integer(_)
            | AttrValue::LongInteger(_)
            | AttrValue::Enumeration(_)
            | AttrValue::DateTime(_)
            | AttrValue::Interval(_)
    )
}

fn push_len_prefixed(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(b);
}

/// Order-preserving encoding of a value after its type tag.
fn push_value(out: &mut Vec<u8>, v: &AttrValue) {
    out.push(v.type_tag());
    match v {
        AttrValue::Text(s) => push_len_prefixed(out, s.as_bytes()),
        AttrValue::ByteString(b) => push_len_prefixed(out, b),
        AttrValue::Integer(i) => out.extend_from_slice(&((*i as u32) ^ (1 << 31)).to_be_bytes()),
        AttrValue::LongInteger(i) | AttrValue::DateTime(i) => {
            out.extend_from_slice(&((*i as u64) ^ (1 << 63)).to_be_bytes())
        }
        AttrValue::Enumeration(u) | AttrValue::Interval(u) => {
            out.extend_from_slice(&u.to_be_bytes())
        }
        AttrValue::Boolean(b) => out.push(u8::from(*b)),
        AttrValue::Structure(_) => {}
    }
}

pub(crate) fn name_prefix(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 4);
    push_len_prefixed(&mut k, name.as_bytes());
    k
}

pub(crate) fn owner_prefix(owner: &Owner) -> Vec<u8> {
    name_prefix(&owner.0)
}

/// `idx_attr` prefix for one attribute name and value.
pub(crate) fn attr_prefix(attr: &str, v: &AttrValue) -> Vec<u8> {
    let mut k = name_prefix(attr);
    push_value(&mut k, v);
    k
}

pub(crate) fn type_state_prefix(t: ObjectType, s: Option<State>) -> Vec<u8> {
    let mut k = t.0.to_be_bytes().to_vec();
    if let Some(s) = s {
        k.extend_from_slice(&s.0.to_be_bytes());
    }
    k
}

/// Key of the `names` tree (unique per owner).
pub(crate) fn unique_name_key(owner: &Owner, name: &str) -> Vec<u8> {
    let mut k = owner_prefix(owner);
    k.extend_from_slice(name.as_bytes());
    k
}

fn with_tail(mut prefix: Vec<u8>, record: &Record) -> Vec<u8> {
    let uid = record.unique_identifier.0.as_bytes();
    prefix.extend_from_slice(&(u64::MAX - record.sequence).to_be_bytes());
    prefix.extend_from_slice(uid);
    prefix.extend_from_slice(&u16::try_from(uid.len()).unwrap_or(u16::MAX).to_be_bytes());
    prefix
}

/// The `(inverted sequence, uid)` tail of any index key, or `None` for a malformed key.
pub(crate) fn parse_tail(key: &[u8]) -> Option<(u64, &[u8])> {
    let len_at = key.len().checked_sub(2)?;
    let uid_len = usize::from(u16::from_be_bytes(key.get(len_at..)?.try_into().ok()?));
    let uid_at = len_at.checked_sub(uid_len)?;
    let seq_at = uid_at.checked_sub(8)?;
    let inv = u64::from_be_bytes(key.get(seq_at..uid_at)?.try_into().ok()?);
    Some((inv, key.get(uid_at..len_at)?))
}

/// Every index entry and unique-name key a record has.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RecordKeys {
    pub(crate) index: BTreeSet<(Idx, Vec<u8>)>,
    /// `names` tree key → the name it holds.
    pub(crate) unique_names: BTreeMap<Vec<u8>, String>,
}

impl RecordKeys {
    pub(crate) fn of(record: &Record) -> Self {
        let mut index = BTreeSet::new();
        let mut unique_names = BTreeMap::new();
        for n in &record.names {
            index.insert((Idx::Name, with_tail(name_prefix(&n.value), record)));
            unique_names.insert(unique_name_key(&record.owner, &n.value), n.value.clone());
        }
        for a in &record.attributes {
            if is_indexed_attribute(&a.name) && is_indexable_value(&a.value) {
                index.insert((Idx::Attr, with_tail(attr_prefix(&a.name, &a.value), record)));
            }
        }
        let ts = type_state_prefix(record.object_type, Some(record.state));
        index.insert((Idx::TypeState, with_tail(ts, record)));
        index.insert((Idx::Owner, with_tail(owner_prefix(&record.owner), record)));
        index.insert((Idx::Seq, with_tail(Vec::new(), record)));
        Self {
            index,
            unique_names,
        }
    }

    pub(crate) fn none() -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::record::{Name, UniqueIdentifier};

    fn rec(seq: u64) -> Record {
        let mut r = Record::new(
            UniqueIdentifier::new("u-1"),
            Owner::new("o"),
            ObjectType::SYMMETRIC_KEY,
            State::ACTIVE,
        )
        .with_name(Name::text("n"))
        .with_attribute("x-k", AttrValue::Text("v".into()))
        .with_attribute("Link", AttrValue::Structure(vec![]));
        r.sequence = seq;
        r
    }

    #[test]
    fn tails_parse_back_and_sort_newest_first() {
        let older = RecordKeys::of(&rec(1));
        let newer = RecordKeys::of(&rec(2));
        for ((_, a), (_, b)) in older.index.iter().zip(newer.index.iter()) {
            assert!(b < a, "newer must sort first");
            let (inv, uid) = parse_tail(a).unwrap();
            assert_eq!((inv, uid), (u64::MAX - 1, &b"u-1"[..]));
        }
        assert_eq!(parse_tail(b"x"), None);
    }

    #[test]
    fn indexes_only_indexed_scalar_attributes() {
        let k = RecordKeys::of(&rec(1));
        let attrs = k.index.iter().filter(|(i, _)| *i == Idx::Attr).count();
        assert_eq!(attrs, 1);
        assert_eq!(k.unique_names.len(), 1);
        assert!(is_indexed_attribute("Object Group"));
        assert!(!is_indexed_attribute("Link"));
    }

    #[test]
    fn numeric_values_sort_by_value() {
        let vals = [i64::MIN, -5, 0, 7, i64::MAX];
        let keys: Vec<_> = vals
            .iter()
            .map(|v| attr_prefix("d", &AttrValue::DateTime(*v)))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let ints: Vec<_> = [-3, 0, 3]
            .iter()
            .map(|v| attr_prefix("i", &AttrValue::Integer(*v)))
            .collect();
        assert!(ints.windows(2).all(|w| w[0] < w[1]));
    }
}
