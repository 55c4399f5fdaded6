//! The differences between protocol versions that are not a matter of field order, in one
//! place: which attributes a version knows, and which usage-mask bits it defines. Handlers
//! build one internal answer; this layer shapes it for the client's version.

use crate::kmip::attributes::{Attribute, AttributeName};
use crate::kmip::message::ProtocolVersion;
use crate::ttlv::enums::Operation;
use crate::ttlv::{tables, Tag, Version};

/// The table version for a client's protocol version (unknown future minors of a known major
/// use that major's newest tables).
pub fn table_version(v: ProtocolVersion) -> Version {
    let known: Vec<Version> = tables::versions().collect();
    let exact = v.version().filter(|x| known.contains(x));
    exact.unwrap_or_else(|| {
        known
            .iter()
            .copied()
            .filter(|k| i32::from(k.major) == v.major)
            .max()
            .or_else(|| known.last().copied())
            .unwrap_or(Version::new(2, 1))
    })
}

/// Whether an attribute may be returned to a client of `version`: standard attributes only if
/// the version defines their tag (KMIP 1.0 clients reject `Fresh`); custom ones always.
pub fn attribute_known(attr: &Attribute, version: ProtocolVersion) -> bool {
    match &attr.name {
        AttributeName::Standard(tag) => tables::tag_defined(tag.0, table_version(version)),
        AttributeName::Custom { .. } => true,
    }
}

/// A Cryptographic Usage Mask restricted to the bits the client's version defines.
pub fn usage_mask_for(mask: i32, version: ProtocolVersion) -> i32 {
    let bits = tables::mask_bits_in("CryptographicUsage", table_version(version));
    (mask as u32 & bits) as i32
}

/// Whether `version` names the operation (Query answers a client only with operations its
/// version knows: Log and Interop are 2.0 operations, DiscoverVersions arrived in 1.1).
pub fn operation_known(operation: Operation, version: ProtocolVersion) -> bool {
    tables::enum_defined("Operation", operation.0, table_version(version))
}

/// Whether `tag` exists in `version`.
pub fn tag_known(tag: Tag, version: ProtocolVersion) -> bool {
    tables::tag_defined(tag.0, table_version(version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttlv::Value;

    #[test]
    fn hides_attributes_newer_than_the_client() {
        let fresh = Attribute::new(Tag::FRESH, Value::Boolean(true));
        assert!(!attribute_known(&fresh, ProtocolVersion::new(1, 0)));
        assert!(attribute_known(&fresh, ProtocolVersion::new(1, 1)));
        let name = Attribute::new(Tag::NAME, Value::Structure(vec![]));
        assert!(attribute_known(&name, ProtocolVersion::new(1, 0)));
    }

    #[test]
    fn maps_versions_and_usage_bits() {
        assert_eq!(
            table_version(ProtocolVersion::new(1, 9)),
            Version::new(1, 4)
        );
        assert_eq!(
            table_version(ProtocolVersion::new(2, 1)),
            Version::new(2, 1)
        );
        // Export (0x40) exists in 1.x only; Authenticate (0x100000) in 2.x only.
        assert_eq!(usage_mask_for(0x4C, ProtocolVersion::new(2, 1)), 0x0C);
        assert_eq!(usage_mask_for(0x10_000C, ProtocolVersion::new(1, 4)), 0x0C);
    }
}
