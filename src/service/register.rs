//! Register (KMIP 1.4 §4.3, 2.1 §6.1.47): a Symmetric Key, Secret Data or Opaque Object given
//! by the client (Public and Private Keys: [`register_key`]), imported into the HSM (as an AES, Triple DES or generic secret key), wrapped
//! under the KEK and stored; the clear bytes are zeroized. Material that is not a key (a
//! password, opaque data) is kept as a generic secret.
//!
//! Result Reasons: Invalid Field (no object, or one of another type than Object Type),
//! Feature Not Supported (certificates, DSA, split keys: out of scope; wrapped or compressed
//! key blocks), Key Format
//! Type Not Supported, Cryptographic Failure (the HSM refused the material), Permission Denied
//! (FIPS mode: a symmetric key whose algorithm or real length `fips/approved.toml` refuses).

use zeroize::Zeroize;

use crate::hsm::{HashAlg, KeyKind, KeyUsage};
use crate::kmip::operations::object::{KeyBlock, ManagedObject};
use crate::kmip::operations::register::{RegisterRequest, RegisterResponse};
use crate::kmip::ResponsePayload;
use crate::secret::SecretBytes;
use crate::service::new_object::{store_new, Material, Template};
use crate::service::objects::{hsm_error, Objects, OPAQUE_DATA_TYPE, SECRET_DATA_TYPE};
use crate::service::{register_key, Context, OpError, Policy};
use crate::store::{self, AttrValue};
use crate::ttlv::enums::{CryptographicAlgorithm, KeyFormatType};
use crate::ttlv::Tag;

/// The record attribute keeping the Key Format Type an object was registered in: the default
/// of its Get.
pub const REGISTERED_FORMAT: &str = "_Registered Key Format Type";

pub(crate) fn registered_format(f: KeyFormatType) -> store::Attribute {
    store::Attribute::new(REGISTERED_FORMAT, AttrValue::Enumeration(f.0))
}

/// Cryptographic Algorithm and Length are given at creation only; at Register they may repeat
/// what the key block says (2.x clients put them in Attributes), never contradict it.
fn check_creation_only(template: &Template, kb: &KeyBlock) -> Result<(), OpError> {
    if let (Some(a), Some(b)) = (
        template.enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)?,
        kb.cryptographic_algorithm,
    ) {
        if a != b {
            return Err(OpError::Invalid(
                "the Cryptographic Algorithm attribute contradicts the key block's".into(),
            ));
        }
    }
    if let (Some(a), Some(b)) = (
        template.integer(Tag::CRYPTOGRAPHIC_LENGTH)?,
        kb.cryptographic_length,
    ) {
        if a != b {
            return Err(OpError::Invalid(
                "the Cryptographic Length attribute contradicts the key block's".into(),
            ));
        }
    }
    Ok(())
}

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    mut request: RegisterRequest,
) -> Result<ResponsePayload, OpError> {
    let object = request
        .object
        .as_mut()
        .ok_or_else(|| OpError::Invalid("Register needs the object to register".into()))?;
    match object.object_type() {
        None => {
            return Err(OpError::NotSupported(format!(
                "Register of a {} is not supported: certificates, DSA keys, split keys and \
                 templates are out of scope (Symmetric Key, Public Key, Private Key, Secret Data \
                 and Opaque Object are supported)",
                match object {
                    ManagedObject::Other(i) => crate::ttlv::tables::tag_name(i.tag.0, None),
                    _ => None,
                }
                .unwrap_or("object")
            )))
        }
        Some(t) if t != request.object_type => {
            return Err(OpError::Invalid(format!(
                "Object Type {} does not match the object sent (a {})",
                crate::service::enum_name("ObjectType", request.object_type.0),
                crate::service::enum_name("ObjectType", t.0)
            )))
        }
        Some(_) => {}
    }
    if let ManagedObject::PublicKey(kb) | ManagedObject::PrivateKey(kb) = &*object {
        register_key::refuse_dsa(kb)?;
    }
    let template = Template::new(request.attributes.as_ref())?;
    match &*object {
        ManagedObject::SymmetricKey(kb)
        | ManagedObject::PublicKey(kb)
        | ManagedObject::PrivateKey(kb)
        | ManagedObject::SecretData { key_block: kb, .. } => check_creation_only(&template, kb)?,
        _ => {
            if let Some(a) = template.attributes.iter().find(|a| {
                matches!(&a.name, crate::kmip::attributes::AttributeName::Standard(t)
                    if crate::service::attribute_rules::CREATION_ONLY.contains(t))
            }) {
                return Err(OpError::ReadOnly(a.name.to_string()));
            }
        }
    }
    if let ManagedObject::PublicKey(kb) | ManagedObject::PrivateKey(kb) = object {
        let record =
            register_key::register(ctx, objects, policy, &template, request.object_type, kb)?;
        return Ok(ResponsePayload::Register(RegisterResponse {
            unique_identifier: record.unique_identifier.0,
            template_attribute: None,
        }));
    }
    let not_clear = || {
        OpError::NotSupported(
            "only clear key material (Raw, Opaque or Transparent Symmetric Key, not wrapped or \
             compressed) can be registered"
                .into(),
        )
    };
    let mut extra = Vec::new();
    let (kind, material, format): (KeyKind, SecretBytes, Option<KeyFormatType>) = match object {
        ManagedObject::SymmetricKey(kb) => {
            let f = kb.key_format_type;
            if f != KeyFormatType::RAW && f != KeyFormatType::TRANSPARENT_SYMMETRIC_KEY {
                return Err(OpError::KeyFormatNotSupported(format!(
                    "a symmetric key is registered in Raw or Transparent Symmetric Key format, not {}",
                    crate::service::enum_name("KeyFormatType", f.0)
                )));
            }
            let m = kb.take_material().ok_or_else(not_clear)?;
            extra.push(registered_format(f));
            let algorithm = kb
                .cryptographic_algorithm
                .or(template.enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)?)
                .map(CryptographicAlgorithm);
            let kind = match algorithm {
                Some(CryptographicAlgorithm::AES) => KeyKind::Aes,
                Some(CryptographicAlgorithm::DES3) => KeyKind::Des3,
                Some(CryptographicAlgorithm::DES) => KeyKind::Des,
                _ => KeyKind::GenericSecret,
            };
            if let (Some(a), None) = (
                kb.cryptographic_algorithm,
                template.value(Tag::CRYPTOGRAPHIC_ALGORITHM),
            ) {
                extra.push(store::Attribute::new(
                    "Cryptographic Algorithm",
                    AttrValue::Enumeration(a),
                ));
            }
            let measured = m.len() as i32 * 8;
            let bits = match (
                kb.cryptographic_length,
                template.integer(Tag::CRYPTOGRAPHIC_LENGTH)?,
            ) {
                (Some(b), _) => b,
                // Only in the attributes: it must describe the material (Triple DES: 168 of 192).
                (None, Some(b))
                    if b == measured
                        || (kind == KeyKind::Des3 && b == 168)
                        || (kind == KeyKind::Des && b == 56) =>
                {
                    b
                }
                (None, Some(b)) => {
                    return Err(OpError::Invalid(format!(
                        "Cryptographic Length {b} does not match the key material ({measured} bits)"
                    )))
                }
                (None, None) => measured,
            };
            // FIPS mode: the key as registered, its length measured on the material itself.
            let named = match algorithm {
                Some(a) => Some(a),
                None => template
                    .enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)?
                    .map(CryptographicAlgorithm),
            };
            if let Some(a) = named {
                let usage = template
                    .integer(Tag::CRYPTOGRAPHIC_USAGE_MASK)?
                    .unwrap_or(0);
                policy.check_key(a, Some(m.len() as u32 * 8), usage as u32)?;
            }
            if template.value(Tag::CRYPTOGRAPHIC_LENGTH).is_none() {
                extra.push(store::Attribute::new(
                    "Cryptographic Length",
                    AttrValue::Integer(bits),
                ));
            }
            (kind, m, Some(KeyFormatType::RAW))
        }
        ManagedObject::SecretData {
            secret_data_type,
            key_block,
        } => {
            extra.push(store::Attribute::new(
                SECRET_DATA_TYPE,
                AttrValue::Enumeration(*secret_data_type),
            ));
            let m = key_block.take_material().ok_or_else(not_clear)?;
            extra.push(registered_format(key_block.key_format_type));
            (KeyKind::GenericSecret, m, Some(KeyFormatType::OPAQUE))
        }
        ManagedObject::OpaqueObject {
            opaque_data_type,
            opaque_data_value,
        } => {
            extra.push(store::Attribute::new(
                OPAQUE_DATA_TYPE,
                AttrValue::Enumeration(*opaque_data_type),
            ));
            let m = SecretBytes::new(opaque_data_value.clone());
            opaque_data_value.zeroize();
            (KeyKind::GenericSecret, m, None)
        }
        ManagedObject::PublicKey(_) | ManagedObject::PrivateKey(_) | ManagedObject::Other(_) => {
            return Err(not_clear())
        }
    };
    if material.is_empty() {
        return Err(OpError::Invalid("the object holds no material".into()));
    }
    // The digest of the value as sent, computed by the HSM (C_Digest): a generic secret is
    // zero-padded inside the HSM, so C_DigestKey would not digest the value the client knows.
    let digest = objects
        .hsm
        .digest(HashAlg::Sha256, material.expose())
        .map_err(hsm_error)?;
    let wrapped = objects
        .hsm
        .import_secret(kind, material.expose(), KeyUsage::all())
        .map_err(hsm_error)?;
    drop(material);
    let record = store_new(
        ctx,
        objects,
        store::ObjectType(request.object_type.0),
        &template,
        Material {
            key: wrapped.into(),
            digest: Some((digest, format)),
            generated: false,
        },
        extra,
    )?;
    Ok(ResponsePayload::Register(RegisterResponse {
        unique_identifier: record.unique_identifier.0,
        template_attribute: None,
    }))
}
