//! CreateKeyPair (KMIP 1.4 §4.2, 2.1 §6.1.9): an RSA (1024–4096 bits; 2048 and up in FIPS
//! mode) or EC (P-256, P-384, P-521) key pair generated in the HSM. The private key is wrapped
//! under the KEK like every key; the public key is kept as its SubjectPublicKeyInfo. Each object
//! gets the common attributes plus its own (its own win for a single-valued attribute), its
//! Names, Cryptographic Algorithm and Length, a default usage mask (Sign / Verify) when none is
//! given, and a Link to the other (Public Key Link on the private key, Private Key Link on the
//! public key). Both records are stored in one transaction.
//!
//! The private key has no Digest: computing one would need its clear value outside the HSM.
//!
//! Result Reasons: Invalid Field (algorithm, length or curve missing or invalid), Feature Not
//! Supported (DSA and other algorithms, other curves), Permission Denied / Attribute Read Only
//! (a server-only attribute), Illegal Operation / Non Unique Name Attribute, Cryptographic
//! Failure (the HSM), Permission Denied (FIPS mode: RSA under 2048 bits, a refused curve).

use crate::hsm::{Curve, KeyPairSpec, KeyUsage};
use crate::kmip::attributes::{Attribute, AttributeName};
use crate::kmip::operations::create_key_pair::{CreateKeyPairRequest, CreateKeyPairResponse};
use crate::kmip::ResponsePayload;
use crate::service::key_formats::{self, curve_of};
use crate::service::new_object::{build_new, Material, NewKey, Template};
use crate::service::objects::{hsm_error, store_error, Objects};
use crate::service::register_key::{check_shape, public_digest, shape_attributes};
use crate::service::rekey::link;
use crate::service::{Context, OpError, Policy};
use crate::store::{self, AttrValue, Store, Write};
use crate::ttlv::enums::{CryptographicAlgorithm, LinkType};
use crate::ttlv::{Tag, Value};

/// Usage mask bits (KMIP 1.4 §9.1.3.3.1).
const SIGN: i32 = 0x1;
const VERIFY: i32 = 0x2;

/// Common attributes, then the object's own; an own single-valued attribute replaces the
/// common one.
fn merged(common: &Template, own: &Template) -> Template {
    let mut attributes: Vec<Attribute> = common
        .attributes
        .iter()
        .filter(|c| {
            c.name == AttributeName::Standard(Tag::NAME)
                || !own.attributes.iter().any(|o| o.name == c.name)
        })
        .cloned()
        .collect();
    attributes.extend(own.attributes.iter().cloned());
    Template { attributes }
}

/// The key pair asked for, from the merged templates.
fn spec_of(private: &Template, public: &Template) -> Result<KeyPairSpec, OpError> {
    let algorithm = match private.enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)? {
        Some(a) => Some(a),
        None => public.enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)?,
    }
    .ok_or_else(|| OpError::Invalid("CreateKeyPair needs a Cryptographic Algorithm".into()))?;
    let length = match private.integer(Tag::CRYPTOGRAPHIC_LENGTH)? {
        Some(l) => Some(l),
        None => public.integer(Tag::CRYPTOGRAPHIC_LENGTH)?,
    };
    match CryptographicAlgorithm(algorithm) {
        CryptographicAlgorithm::RSA => match length {
            Some(bits) if (1024..=4096).contains(&bits) && bits % 8 == 0 => Ok(KeyPairSpec::Rsa {
                modulus_bits: bits as u32,
            }),
            other => Err(OpError::Invalid(format!(
                "an RSA key pair is 1024 to 4096 bits long, a multiple of 8 (Cryptographic Length {})",
                other.map_or("missing".to_string(), |b| b.to_string())
            ))),
        },
        CryptographicAlgorithm::EC | CryptographicAlgorithm::ECDSA | CryptographicAlgorithm::ECDH => {
            let curve = match domain_curve(private)?.or(domain_curve(public)?) {
                Some(c) => c,
                None => match length {
                    Some(256) => Curve::P256,
                    Some(384) => Curve::P384,
                    Some(521) => Curve::P521,
                    other => {
                        return Err(OpError::Invalid(format!(
                            "an EC key pair needs a Recommended Curve (Cryptographic Domain \
                             Parameters) or a Cryptographic Length of 256, 384 or 521 ({})",
                            other.map_or("missing".to_string(), |b| b.to_string())
                        )))
                    }
                },
            };
            Ok(KeyPairSpec::Ec(curve))
        }
        other => Err(OpError::NotSupported(format!(
            "CreateKeyPair of {} keys is not supported (RSA and EC are; DSA is out of scope)",
            crate::service::enum_name("CryptographicAlgorithm", other.0)
        ))),
    }
}

/// The Recommended Curve of the Cryptographic Domain Parameters, if given.
fn domain_curve(t: &Template) -> Result<Option<Curve>, OpError> {
    let Some(Value::Structure(items)) = t.value(Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS) else {
        return Ok(None);
    };
    match items.iter().find(|i| i.tag == Tag::RECOMMENDED_CURVE) {
        Some(i) => match i.value {
            Value::Enumeration(rc) => curve_of(rc).map(Some),
            _ => Err(OpError::Invalid(
                "Recommended Curve must be an Enumeration".into(),
            )),
        },
        None => Ok(None),
    }
}

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &CreateKeyPairRequest,
) -> Result<ResponsePayload, OpError> {
    let common = Template::new(request.common.as_ref())?;
    let private = merged(&common, &Template::new(request.private.as_ref())?);
    let public = merged(&common, &Template::new(request.public.as_ref())?);
    let spec = spec_of(&private, &public)?;
    let private_mask = private.integer(Tag::CRYPTOGRAPHIC_USAGE_MASK)?;
    let public_mask = public.integer(Tag::CRYPTOGRAPHIC_USAGE_MASK)?;
    // FIPS mode: the pair as it will be created, checked before the HSM does any work.
    let (algorithm, bits, curve) = match spec {
        KeyPairSpec::Rsa { modulus_bits } => {
            (CryptographicAlgorithm::RSA, modulus_bits as i32, None)
        }
        KeyPairSpec::Ec(c) => (
            CryptographicAlgorithm::EC,
            key_formats::curve_bits(c),
            Some(c),
        ),
    };
    check_shape(
        policy,
        algorithm,
        bits,
        curve,
        private_mask.unwrap_or(SIGN) | public_mask.unwrap_or(VERIFY),
    )?;

    let (wrapped, public_key) = objects
        .hsm
        .generate_key_pair(spec, KeyUsage::all())
        .map_err(hsm_error)?;
    let digest = public_digest(objects, &public_key)?;
    let spki = key_formats::spki_der(&public_key)?;

    let extras = |t: &Template, mask: Option<i32>, default: i32| {
        let mut e = shape_attributes(t, &public_key, None)?;
        if mask.is_none() {
            e.push(store::Attribute::new(
                "Cryptographic Usage Mask",
                AttrValue::Integer(default),
            ));
        }
        Ok::<_, OpError>(e)
    };
    let mut private_record = build_new(
        ctx,
        objects,
        store::ObjectType::PRIVATE_KEY,
        &private,
        Material {
            key: wrapped.into(),
            digest: None,
            generated: true,
        },
        extras(&private, private_mask, SIGN)?,
    )?;
    let mut public_record = build_new(
        ctx,
        objects,
        store::ObjectType::PUBLIC_KEY,
        &public,
        Material {
            key: NewKey::Public(spki),
            digest: Some(digest),
            generated: true,
        },
        extras(&public, public_mask, VERIFY)?,
    )?;
    let private_uid = private_record.unique_identifier.0.clone();
    let public_uid = public_record.unique_identifier.0.clone();
    private_record.attributes.push(store::Attribute::new(
        "Link",
        link(LinkType::PUBLIC_KEY_LINK, &public_uid)?,
    ));
    public_record.attributes.push(store::Attribute::new(
        "Link",
        link(LinkType::PRIVATE_KEY_LINK, &private_uid)?,
    ));
    objects
        .store
        .commit(vec![
            Write::Create(private_record),
            Write::Create(public_record),
        ])
        .map_err(store_error)?;
    Ok(ResponsePayload::CreateKeyPair(CreateKeyPairResponse {
        private_key_unique_identifier: private_uid,
        public_key_unique_identifier: public_uid,
        private_key_template_attribute: None,
        public_key_template_attribute: None,
    }))
}
