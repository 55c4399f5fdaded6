//! Create (KMIP 1.4 §4.1, 2.1 §6.1.8): a symmetric key (AES-128/192/256, Triple DES, HMAC
//! keys) or, for 2.x clients, Secret Data, generated in the HSM and stored wrapped.
//!
//! Result Reasons: Invalid Field (algorithm or length missing or invalid), Feature Not
//! Supported (an object type or algorithm this server does not create), Permission Denied /
//! Attribute Read Only (a server-only attribute in the template), Illegal Operation / Non
//! Unique Name Attribute (a name the owner already uses), Cryptographic Failure (the HSM),
//! Permission Denied (FIPS mode: an algorithm, length or usage `fips/approved.toml` refuses).

use crate::hsm::{HashAlg, KeyKind, KeyUsage};
use crate::kmip::operations::create::{CreateRequest, CreateResponse};
use crate::kmip::ResponsePayload;
use crate::service::new_object::{store_new, Material, Template};
use crate::service::objects::{hsm_error, Objects};
use crate::service::{Context, OpError, Policy};
use crate::store::{self, AttrValue};
use crate::ttlv::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType};
use crate::ttlv::Tag;

/// Usage mask bits (KMIP 1.4 §9.1.3.3.1).
const ENCRYPT_DECRYPT: i32 = 0x4 | 0x8;
const MAC_GENERATE_VERIFY: i32 = 0x80 | 0x100;

/// The HSM key kind, value length in bytes and default usage for an algorithm and length.
pub(crate) fn key_shape(
    algorithm: u32,
    bits: Option<i32>,
) -> Result<(KeyKind, usize, i32), OpError> {
    let hmac = |default_bits: i32| -> Result<(KeyKind, usize, i32), OpError> {
        let b = bits.unwrap_or(default_bits);
        if b <= 0 || b % 8 != 0 || b > 4096 * 8 {
            return Err(OpError::Invalid(format!(
                "an HMAC key length must be a positive multiple of 8 bits, not {b}"
            )));
        }
        Ok((
            KeyKind::GenericSecret,
            (b / 8) as usize,
            MAC_GENERATE_VERIFY,
        ))
    };
    match CryptographicAlgorithm(algorithm) {
        CryptographicAlgorithm::AES => match bits {
            Some(b @ (128 | 192 | 256)) => Ok((KeyKind::Aes, (b / 8) as usize, ENCRYPT_DECRYPT)),
            other => Err(OpError::Invalid(format!(
                "an AES key is 128, 192 or 256 bits long (Cryptographic Length {})",
                other.map_or("missing".to_string(), |b| b.to_string())
            ))),
        },
        // Three-key Triple DES only (FIPS mode refuses it for encryption: legacy decryption only).
        CryptographicAlgorithm::DES3 => match bits {
            Some(168 | 192) | None => Ok((KeyKind::Des3, 24, ENCRYPT_DECRYPT)),
            Some(b) => Err(OpError::Invalid(format!(
                "Triple DES keys are three-key, 168 (or 192) bits long, not {b}"
            ))),
        },
        // Legacy, for old clients outside FIPS mode (the policy refuses it in FIPS mode).
        // Single DES for legacy clients outside FIPS mode (the policy refuses it there).
        CryptographicAlgorithm::DES => match bits {
            Some(56 | 64) | None => Ok((KeyKind::Des, 8, ENCRYPT_DECRYPT)),
            Some(b) => Err(OpError::Invalid(format!(
                "DES keys are 56 (or 64 with parity) bits long, not {b}"
            ))),
        },
        CryptographicAlgorithm::HMAC_MD5 => hmac(128),
        CryptographicAlgorithm::HMAC_SHA1 => hmac(160),
        CryptographicAlgorithm::HMAC_SHA224 => hmac(224),
        CryptographicAlgorithm::HMAC_SHA256 => hmac(256),
        CryptographicAlgorithm::HMAC_SHA384 => hmac(384),
        CryptographicAlgorithm::HMAC_SHA512 => hmac(512),
        other => Err(OpError::NotSupported(format!(
            "Create of a {} key is not supported (AES, Triple DES, DES, HMAC-MD5 and HMAC-SHA1/224/256/384/512 are)",
            crate::service::enum_name("CryptographicAlgorithm", other.0)
        ))),
    }
}

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &CreateRequest,
) -> Result<ResponsePayload, OpError> {
    let template = Template::new(request.attributes.as_ref())?;
    let length = template.integer(Tag::CRYPTOGRAPHIC_LENGTH)?;
    let algorithm = template.enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM)?;
    let mut extra = Vec::new();
    let (kind, len, format) = match request.object_type {
        ObjectType::SYMMETRIC_KEY => {
            let algorithm = algorithm.ok_or_else(|| {
                OpError::Invalid("Create of a symmetric key needs a Cryptographic Algorithm".into())
            })?;
            let (kind, len, usage) = key_shape(algorithm, length)?;
            // FIPS mode: the key as it will be created, defaults applied.
            let usage_mask = template
                .integer(Tag::CRYPTOGRAPHIC_USAGE_MASK)?
                .unwrap_or(usage);
            policy.check_key(
                CryptographicAlgorithm(algorithm),
                Some(len as u32 * 8),
                usage_mask as u32,
            )?;
            if template.value(Tag::CRYPTOGRAPHIC_USAGE_MASK).is_none() {
                extra.push(store::Attribute::new(
                    "Cryptographic Usage Mask",
                    AttrValue::Integer(usage),
                ));
            }
            if length.is_none() {
                extra.push(store::Attribute::new(
                    "Cryptographic Length",
                    AttrValue::Integer(len as i32 * 8),
                ));
            }
            (kind, len, KeyFormatType::RAW)
        }
        ObjectType::SECRET_DATA if ctx.version.is_v2() => {
            let bits = length.unwrap_or(256);
            if bits <= 0 || bits % 8 != 0 || bits > 4096 * 8 {
                return Err(OpError::Invalid(format!(
                    "secret data is a positive multiple of 8 bits long, not {bits}"
                )));
            }
            // Secret Data Type: Seed (random bytes for the client's own use).
            extra.push(store::Attribute::new(
                super::objects::SECRET_DATA_TYPE,
                AttrValue::Enumeration(2),
            ));
            (
                KeyKind::GenericSecret,
                (bits / 8) as usize,
                KeyFormatType::OPAQUE,
            )
        }
        other => {
            return Err(OpError::NotSupported(format!(
            "Create of a {} is not supported (Symmetric Key, and Secret Data from KMIP 2.0, are)",
            crate::service::enum_name("ObjectType", other.0)
        )))
        }
    };
    let wrapped = objects
        .hsm
        .generate_secret(kind, len, KeyUsage::all())
        .map_err(hsm_error)?;
    let digest = objects
        .hsm
        .digest_key(&wrapped, HashAlg::Sha256)
        .map_err(hsm_error)?;
    let record = store_new(
        ctx,
        objects,
        store::ObjectType(request.object_type.0),
        &template,
        Material {
            key: wrapped.into(),
            digest: Some((digest, Some(format))),
            generated: true,
        },
        extra,
    )?;
    Ok(ResponsePayload::Create(CreateResponse {
        object_type: request.object_type,
        unique_identifier: record.unique_identifier.0,
        template_attribute: None,
    }))
}
