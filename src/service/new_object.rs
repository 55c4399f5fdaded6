//! What Create and Register share: reading the client's attributes into a new record, the
//! attributes the server keeps for every new object, and storing it.

use crate::hsm::HashAlg;
use crate::kmip::attributes::{Attribute, AttributeName};
use crate::kmip::operations::AttributeSet;
use crate::service::attribute_rules::{client_settable, CREATION_ONLY};
use crate::service::objects::{
    effective_state, hsm_error, name_from, now_secs, set_attr, store_error, store_name,
    to_store_value, Objects,
};
use crate::service::{Context, OpError};
use crate::store::{self, AttrValue, ObjectType, Owner, Record, State, Store, UniqueIdentifier};
use crate::ttlv::enums::{HashingAlgorithm, KeyFormatType};
use crate::ttlv::{tables, Item, Tag, Value};

/// The client's attributes of a Create or Register, checked.
#[derive(Debug, Default)]
pub struct Template {
    pub attributes: Vec<Attribute>,
}

impl Template {
    /// Checks that every attribute is one a client may give (Usage Limits at creation only: the
    /// server counts them down afterwards).
    pub fn new(set: Option<&AttributeSet>) -> Result<Self, OpError> {
        let attributes = set.map(|s| s.attributes().to_vec()).unwrap_or_default();
        for a in &attributes {
            let creation = matches!(&a.name, AttributeName::Standard(t) if CREATION_ONLY.contains(t) || *t == Tag::USAGE_LIMITS);
            if !creation && !client_settable(&a.name) {
                return Err(OpError::ReadOnly(a.name.to_string()));
            }
        }
        Ok(Template { attributes })
    }

    /// The value of the standard attribute `tag`, if given.
    pub fn value(&self, tag: Tag) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|a| a.name == AttributeName::Standard(tag))
            .map(|a| &a.value)
    }

    pub fn enumeration(&self, tag: Tag) -> Result<Option<u32>, OpError> {
        match self.value(tag) {
            None => Ok(None),
            Some(Value::Enumeration(e)) => Ok(Some(*e)),
            Some(_) => Err(wrong_type(tag, "an Enumeration")),
        }
    }

    pub fn integer(&self, tag: Tag) -> Result<Option<i32>, OpError> {
        match self.value(tag) {
            None => Ok(None),
            Some(Value::Integer(i)) => Ok(Some(*i)),
            Some(_) => Err(wrong_type(tag, "an Integer")),
        }
    }

    pub fn boolean(&self, tag: Tag) -> Result<Option<bool>, OpError> {
        match self.value(tag) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(tag, "a Boolean")),
        }
    }
}

fn wrong_type(tag: Tag, what: &str) -> OpError {
    OpError::Invalid(format!(
        "attribute {} must be {what}",
        tables::tag_name(tag.0, None).unwrap_or("?")
    ))
}

/// The new object's key material as the store will keep it.
pub enum NewKey {
    /// Wrapped under the KEK by the HSM (secret and private keys).
    Wrapped(crate::hsm::WrappedKey),
    /// A public key's SubjectPublicKeyInfo DER (not secret).
    Public(Vec<u8>),
}

impl From<crate::hsm::WrappedKey> for NewKey {
    fn from(w: crate::hsm::WrappedKey) -> Self {
        NewKey::Wrapped(w)
    }
}

/// What the server knows about the new object's material.
pub struct Material {
    pub key: NewKey,
    /// Digest of the value (SHA-256, computed in the HSM), with the Key Format Type it covers.
    pub digest: Option<(Vec<u8>, Option<KeyFormatType>)>,
    /// Whether the HSM generated it (then its Random Number Generator is reported).
    pub generated: bool,
}

/// Builds, stores and returns the new object's record.
pub fn store_new(
    ctx: &Context<'_>,
    objects: &Objects,
    object_type: ObjectType,
    template: &Template,
    material: Material,
    extra: Vec<store::Attribute>,
) -> Result<Record, OpError> {
    let r = build_new(ctx, objects, object_type, template, material, extra)?;
    objects.store.create(r).map_err(store_error)
}

/// The new object's record, not stored yet: a new identifier from the HSM, the client's
/// attributes, then `extra` (attributes the client did not give), then what the server keeps
/// for every object; its state follows from its dates.
pub fn build_new(
    ctx: &Context<'_>,
    objects: &Objects,
    object_type: ObjectType,
    template: &Template,
    material: Material,
    extra: Vec<store::Attribute>,
) -> Result<Record, OpError> {
    let uid = objects.new_identifier()?;
    let now = now_secs();
    let r = Record::new(
        UniqueIdentifier::new(uid.clone()),
        Owner::new(ctx.identity.as_str()),
        object_type,
        State::PRE_ACTIVE,
    );
    let mut r = match material.key {
        NewKey::Wrapped(w) => r.with_key(store::WrappedKey::from_hsm(w)),
        NewKey::Public(spki) => r.with_public_key(spki),
    };
    for a in &template.attributes {
        if a.name == AttributeName::Standard(Tag::NAME) {
            let n = name_from(a)?;
            if !r.has_name(&n.value) {
                r.names.push(n);
            }
            continue;
        }
        r.attributes.push(store::Attribute::new(
            store_name(&a.name),
            to_store_value(&a.value)?,
        ));
    }
    r.attributes.extend(extra);
    let sensitive = template.boolean(Tag::SENSITIVE)?.unwrap_or(false);
    let extractable = template.boolean(Tag::EXTRACTABLE)?.unwrap_or(true)
        && !non_extractable_by_policy(objects, template);
    set_attr(&mut r, "Sensitive", AttrValue::Boolean(sensitive));
    set_attr(&mut r, "Extractable", AttrValue::Boolean(extractable));
    set_attr(&mut r, "Always Sensitive", AttrValue::Boolean(sensitive));
    set_attr(
        &mut r,
        "Never Extractable",
        AttrValue::Boolean(!extractable),
    );
    if let Some((value, format)) = material.digest {
        let mut d = vec![
            store::Attribute::new(
                "HashingAlgorithm",
                AttrValue::Enumeration(HashingAlgorithm::SHA_256.0),
            ),
            store::Attribute::new("DigestValue", AttrValue::ByteString(value)),
        ];
        if let Some(f) = format {
            d.push(store::Attribute::new(
                "KeyFormatType",
                AttrValue::Enumeration(f.0),
            ));
        }
        set_attr(&mut r, "Digest", AttrValue::Structure(d));
    }
    set_attr(&mut r, "Initial Date", AttrValue::DateTime(now));
    set_attr(&mut r, "Last Change Date", AttrValue::DateTime(now));
    if r.attribute("Original Creation Date").next().is_none() && material.generated {
        set_attr(&mut r, "Original Creation Date", AttrValue::DateTime(now));
    }
    set_attr(&mut r, "Fresh", AttrValue::Boolean(true));
    if material.generated {
        // The HSM's generator; the token does not say which algorithm it runs.
        let rng = vec![store::Attribute::new(
            "RNGAlgorithm",
            AttrValue::Enumeration(crate::ttlv::enums::RNGAlgorithm::UNSPECIFIED.0),
        )];
        set_attr(&mut r, "Random Number Generator", AttrValue::Structure(rng));
    }
    let hardware = tables::mask_bits("ProtectionStorage", None)
        .into_iter()
        .find(|(n, _)| *n == "Hardware")
        .map_or(0x2, |(_, b)| b);
    set_attr(
        &mut r,
        "Protection Storage Mask",
        AttrValue::Integer(hardware as i32),
    );
    let short = objects
        .hsm
        .digest(HashAlg::Sha256, uid.as_bytes())
        .map_err(hsm_error)?;
    set_attr(
        &mut r,
        "Short Unique Identifier",
        AttrValue::ByteString(short),
    );
    r.state = effective_state(&r, now);
    if r.state == State::ACTIVE && r.attribute("Activation Date").next().is_none() {
        set_attr(&mut r, "Activation Date", AttrValue::DateTime(now));
    }
    Ok(r)
}

/// The custom attribute a KMIP 1.0–1.3 client sets (Boolean true) at Create or Register to make
/// the key non-extractable: those versions have no Extractable attribute.
pub const NON_EXTRACTABLE_ATTRIBUTE: &str = "x-hsmkms-non-extractable";

/// Whether the server's policy makes the new object non-extractable: its Object Group is one of
/// `[crypto] non_extractable_groups`, or the template sets [`NON_EXTRACTABLE_ATTRIBUTE`] true.
fn non_extractable_by_policy(objects: &Objects, template: &Template) -> bool {
    template
        .attributes
        .iter()
        .any(|a| match (&a.name, &a.value) {
            (AttributeName::Standard(t), Value::TextString(g)) if *t == Tag::OBJECT_GROUP => {
                objects.crypto.non_extractable_groups.iter().any(|n| n == g)
            }
            (n, Value::Boolean(true)) => store_name(n) == NON_EXTRACTABLE_ATTRIBUTE,
            _ => false,
        })
}

/// A Name item for logs and tests.
pub fn name_item(value: &str) -> Item {
    Item::structure(
        Tag::NAME,
        vec![
            Item::new(Tag::NAME_VALUE, Value::TextString(value.into())),
            Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
        ],
    )
}
