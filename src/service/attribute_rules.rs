//! Which attributes a client may set, which may have several instances, and the attributes of
//! a record as a client of a given protocol version sees them (never one its version does not
//! define; the usage mask in its version's bits).

use crate::kmip::attributes::{Attribute, AttributeName};
use crate::kmip::compat::{attribute_known, usage_mask_for};
use crate::kmip::message::ProtocolVersion;
use crate::service::objects::{kmip_name, name_value, to_ttlv_value};
use crate::store::{AttrValue, Record};
use crate::ttlv::enums::{KeyFormatType, ObjectType};
use crate::ttlv::{Tag, Value};

/// Attributes a client may give at Create/Register and change afterwards (besides custom and
/// vendor attributes). Algorithm and length are given at creation only.
const CLIENT_SETTABLE: &[Tag] = &[
    Tag::NAME,
    Tag::OBJECT_GROUP,
    Tag::CONTACT_INFORMATION,
    Tag::OPERATION_POLICY_NAME,
    Tag::CRYPTOGRAPHIC_USAGE_MASK,
    Tag::CRYPTOGRAPHIC_PARAMETERS,
    Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS,
    Tag::ACTIVATION_DATE,
    Tag::DEACTIVATION_DATE,
    Tag::PROCESS_START_DATE,
    Tag::PROTECT_STOP_DATE,
    Tag::LINK,
    Tag::APPLICATION_SPECIFIC_INFORMATION,
    Tag::DESCRIPTION,
    Tag::COMMENT,
    Tag::SENSITIVE,
    Tag::EXTRACTABLE,
    Tag::ALTERNATIVE_NAME,
    Tag::KEY_VALUE_LOCATION,
    Tag::ORIGINAL_CREATION_DATE,
];

/// Attributes given only when the object is made.
pub const CREATION_ONLY: &[Tag] = &[Tag::CRYPTOGRAPHIC_ALGORITHM, Tag::CRYPTOGRAPHIC_LENGTH];

/// Attributes that may have several instances.
const MULTI_VALUED: &[Tag] = &[
    Tag::NAME,
    Tag::OBJECT_GROUP,
    Tag::LINK,
    Tag::APPLICATION_SPECIFIC_INFORMATION,
    Tag::ALTERNATIVE_NAME,
    Tag::KEY_VALUE_LOCATION,
    Tag::CRYPTOGRAPHIC_PARAMETERS,
    Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS,
];

pub fn client_settable(n: &AttributeName) -> bool {
    match n {
        AttributeName::Standard(t) => CLIENT_SETTABLE.contains(t),
        AttributeName::Custom { vendor, .. } => vendor != "y",
    }
}

pub fn multi_valued(n: &AttributeName) -> bool {
    match n {
        AttributeName::Standard(t) => MULTI_VALUED.contains(t),
        AttributeName::Custom { .. } => true,
    }
}

/// Every attribute of `r` in the order the server lists them, shaped for `version`.
pub fn visible_attributes(r: &Record, version: ProtocolVersion) -> Vec<Attribute> {
    let mut out = vec![
        Attribute::new(
            Tag::UNIQUE_IDENTIFIER,
            Value::TextString(r.unique_identifier.0.clone()),
        ),
        Attribute::new(Tag::OBJECT_TYPE, Value::Enumeration(r.object_type.0)),
    ];
    out.extend(
        r.names
            .iter()
            .map(|n| Attribute::new(Tag::NAME, name_value(n))),
    );
    for a in &r.attributes {
        let Some(name) = kmip_name(&a.name) else {
            continue;
        };
        let value = match (&name, &a.value) {
            (AttributeName::Standard(Tag::CRYPTOGRAPHIC_USAGE_MASK), AttrValue::Integer(m)) => {
                Value::Integer(usage_mask_for(*m, version))
            }
            _ => to_ttlv_value(&a.value),
        };
        out.push(Attribute {
            name,
            index: None,
            value,
        });
    }
    out.push(Attribute::new(Tag::STATE, Value::Enumeration(r.state.0)));
    let kft = match ObjectType(r.object_type.0) {
        ObjectType::SYMMETRIC_KEY => Some(KeyFormatType::RAW),
        ObjectType::SECRET_DATA => Some(KeyFormatType::OPAQUE),
        _ => None,
    };
    // Key Format Type is an attribute from KMIP 2.0 on (before, only a Key Block field).
    if let Some(k) = kft.filter(|_| version.is_v2()) {
        out.push(Attribute::new(
            Tag::KEY_FORMAT_TYPE,
            Value::Enumeration(k.0),
        ));
    }
    out.retain(|a| attribute_known(a, version));
    // 1.x attribute indexes: the position among instances of the same name.
    if !version.is_v2() {
        let mut counts: Vec<(AttributeName, i32)> = Vec::new();
        for a in &mut out {
            let i = match counts.iter_mut().find(|(n, _)| *n == a.name) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    counts.push((a.name.clone(), 0));
                    0
                }
            };
            if i > 0 {
                a.index = Some(i);
            }
        }
    }
    out
}
