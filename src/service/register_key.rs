//! Register of asymmetric keys (KMIP 1.4 §4.3, 2.1 §6.1.47): a Public Key (PKCS#1, X.509
//! SubjectPublicKeyInfo, Transparent RSA/EC Public Key) is kept in the clear as its
//! SubjectPublicKeyInfo; a Private Key (PKCS#1, PKCS#8, SEC 1 EC Private Key, Transparent
//! RSA/EC Private Key) is imported into the HSM (`C_CreateObject` of a session object), wrapped
//! under the KEK and stored, its clear bytes zeroized. Also what CreateKeyPair shares with it:
//! the attributes the server sets on an asymmetric key, and its digest.
//!
//! Result Reasons: Invalid Field (malformed DER or Transparent structure), Key Format Type Not
//! Supported (a format that does not hold this kind of key), Feature Not Supported (wrapped
//! blocks, curves other than P-256/384/521, DSA), Cryptographic Failure (the HSM refused the
//! key), Permission Denied (FIPS mode: an RSA modulus under 2048 bits, a curve not approved).

use crate::hsm::{HashAlg, KeyUsage, PrivateKeyParts, PublicKey};
use crate::kmip::operations::object::KeyBlock;
use crate::service::key_formats::{
    self, private_from_material, public_from_material, public_shape, zeroize_material,
};
use crate::service::new_object::{store_new, Material, NewKey, Template};
use crate::service::objects::{hsm_error, Objects};
use crate::service::{Context, OpError, Policy};
use crate::store::{self, AttrValue, Record};
use crate::ttlv::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use crate::ttlv::Tag;

/// The FIPS policy check of an asymmetric key: its algorithm, size (modulus bits or curve) and
/// usage.
pub(crate) fn check_policy(
    policy: &Policy,
    public: &PublicKey,
    usage_mask: i32,
) -> Result<(), OpError> {
    let (algorithm, bits) = public_shape(public);
    let curve = match public {
        PublicKey::Ec { curve, .. } => Some(*curve),
        PublicKey::Rsa { .. } => None,
    };
    check_shape(policy, algorithm, bits, curve, usage_mask)
}

/// The FIPS policy check of an asymmetric key of `algorithm` and `bits` (on `curve`).
pub(crate) fn check_shape(
    policy: &Policy,
    algorithm: CryptographicAlgorithm,
    bits: i32,
    curve: Option<crate::hsm::Curve>,
    usage_mask: i32,
) -> Result<(), OpError> {
    if let Some(c) = curve {
        policy.check_curve(key_formats::recommended_curve(c))?;
    }
    policy.check_key(algorithm, Some(bits as u32), usage_mask as u32)?;
    Ok(())
}

/// The attributes the server sets on an asymmetric key the client did not give: Cryptographic
/// Algorithm (the block's, else RSA or EC) and Length. Those the client gave must describe the
/// key (Invalid Field otherwise).
pub(crate) fn shape_attributes(
    template: &Template,
    public: &PublicKey,
    block_algorithm: Option<u32>,
) -> Result<Vec<store::Attribute>, OpError> {
    let (algorithm, bits) = public_shape(public);
    let fits = |a: u32| match CryptographicAlgorithm(a) {
        CryptographicAlgorithm::RSA => algorithm == CryptographicAlgorithm::RSA,
        CryptographicAlgorithm::EC
        | CryptographicAlgorithm::ECDSA
        | CryptographicAlgorithm::ECDH => algorithm == CryptographicAlgorithm::EC,
        _ => false,
    };
    let given = template.enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)?;
    if let Some(a) = given.or(block_algorithm).filter(|a| !fits(*a)) {
        return Err(OpError::Invalid(format!(
            "Cryptographic Algorithm {} does not describe this {} key",
            crate::service::enum_name("CryptographicAlgorithm", a),
            crate::service::enum_name("CryptographicAlgorithm", algorithm.0)
        )));
    }
    let mut out = Vec::new();
    if given.is_none() {
        out.push(store::Attribute::new(
            "Cryptographic Algorithm",
            AttrValue::Enumeration(block_algorithm.unwrap_or(algorithm.0)),
        ));
    }
    match template.integer(Tag::CRYPTOGRAPHIC_LENGTH)? {
        Some(b) if b != bits => {
            return Err(OpError::Invalid(format!(
                "Cryptographic Length {b} does not match the key ({bits} bits)"
            )))
        }
        Some(_) => {}
        None => out.push(store::Attribute::new(
            "Cryptographic Length",
            AttrValue::Integer(bits),
        )),
    }
    Ok(out)
}

/// The Digest of a public key: SHA-256 (in the HSM) of its default encoding — PKCS#1 for RSA,
/// X.509 SubjectPublicKeyInfo for EC — with that Key Format Type.
pub(crate) fn public_digest(
    objects: &Objects,
    public: &PublicKey,
) -> Result<(Vec<u8>, Option<KeyFormatType>), OpError> {
    let (der, format) = match public {
        PublicKey::Rsa { .. } => (key_formats::pkcs1_public(public)?, KeyFormatType::PKCS_1),
        PublicKey::Ec { .. } => (key_formats::spki_der(public)?, KeyFormatType::X_509),
    };
    let d = objects
        .hsm
        .digest(HashAlg::Sha256, &der)
        .map_err(hsm_error)?;
    Ok((d, Some(format)))
}

/// The default Key Format Type a key is returned in (the Get default): PKCS#1 for RSA keys,
/// X.509 for EC public keys and PKCS#8 for EC private keys.
pub fn default_format(object_type: ObjectType, rsa: bool) -> KeyFormatType {
    match (object_type, rsa) {
        (_, true) => KeyFormatType::PKCS_1,
        (ObjectType::PUBLIC_KEY, false) => KeyFormatType::X_509,
        _ => KeyFormatType::PKCS_8,
    }
}

/// DSA keys are out of scope: refused with Feature Not Supported before anything else.
pub fn refuse_dsa(kb: &KeyBlock) -> Result<(), OpError> {
    let dsa = kb.cryptographic_algorithm == Some(CryptographicAlgorithm::DSA.0)
        || kb.key_format_type == KeyFormatType::TRANSPARENT_DSA_PRIVATE_KEY
        || kb.key_format_type == KeyFormatType::TRANSPARENT_DSA_PUBLIC_KEY;
    if dsa {
        return Err(OpError::NotSupported(
            "DSA keys are not supported by this server (out of scope: RSA and EC keys are)".into(),
        ));
    }
    Ok(())
}

/// Registers the Public Key or Private Key whose key block is `kb`; returns the stored record.
pub fn register(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    template: &Template,
    object_type: ObjectType,
    kb: &mut KeyBlock,
) -> Result<Record, OpError> {
    let format = kb.key_format_type;
    let mut km = kb.take_key_material().ok_or_else(|| {
        OpError::NotSupported(
            "only clear key material (not wrapped or compressed) can be registered".into(),
        )
    })?;
    let usage_mask = template
        .integer(Tag::CRYPTOGRAPHIC_USAGE_MASK)?
        .unwrap_or(0);
    if object_type == ObjectType::PUBLIC_KEY {
        let public = public_from_material(format, &km)?;
        check_policy(policy, &public, usage_mask)?;
        let spki = key_formats::spki_der(&public)?;
        let digest = public_digest(objects, &public)?;
        let mut extra = shape_attributes(template, &public, kb.cryptographic_algorithm)?;
        extra.push(crate::service::register::registered_format(format));
        return store_new(
            ctx,
            objects,
            store::ObjectType::PUBLIC_KEY,
            template,
            Material {
                key: NewKey::Public(spki),
                digest: Some(digest),
                generated: false,
            },
            extra,
        );
    }
    let parts = private_from_material(format, &km);
    zeroize_material(&mut km);
    let parts = parts?;
    let shape = match key_formats::public_of(&parts) {
        Some(p) => p,
        // An EC private key's policy and shape need only its curve.
        None => match &parts {
            PrivateKeyParts::Ec { curve, .. } => PublicKey::Ec {
                curve: *curve,
                point: Vec::new(),
            },
            PrivateKeyParts::Rsa { .. } => {
                return Err(OpError::Invalid("an RSA key without its modulus".into()))
            }
        },
    };
    check_policy(policy, &shape, usage_mask)?;
    let digest = private_digest(objects, &parts)?;
    let wrapped = objects
        .hsm
        .import_private(&parts, KeyUsage::all())
        .map_err(hsm_error)?;
    drop(parts);
    let mut extra = shape_attributes(template, &shape, kb.cryptographic_algorithm)?;
    extra.push(crate::service::register::registered_format(format));
    store_new(
        ctx,
        objects,
        store::ObjectType::PRIVATE_KEY,
        template,
        Material {
            key: wrapped.into(),
            digest: Some(digest),
            generated: false,
        },
        extra,
    )
}

/// The Digest of a private key being registered: SHA-256 (computed in the HSM) of its default
/// encoding (PKCS#1 for RSA, PKCS#8 for EC).
fn private_digest(
    objects: &Objects,
    parts: &PrivateKeyParts,
) -> Result<(Vec<u8>, Option<KeyFormatType>), OpError> {
    let rsa = matches!(parts, PrivateKeyParts::Rsa { .. });
    let format = default_format(ObjectType::PRIVATE_KEY, rsa);
    let mut km = key_formats::private_material(parts, format)?;
    let d = match &km.value {
        crate::ttlv::Value::ByteString(der) => objects.hsm.digest(HashAlg::Sha256, der),
        _ => Err(crate::hsm::HsmError::InvalidArgument(
            "a DER private key format gives bytes",
        )),
    };
    zeroize_material(&mut km);
    Ok((d.map_err(hsm_error)?, Some(format)))
}
