//! Get with a Key Wrapping Specification (KMIP 1.4 §2.1.6, §4.11; 2.1 §6.1.22): the key is
//! wrapped inside the HSM (`C_WrapKey`) under another managed key and returned as a wrapped Key
//! Block with its Key Wrapping Data — never in the clear in this process.
//!
//! - a symmetric (AES) wrapping key: AES key wrap with padding (RFC 5649 / SP 800-38F KWP);
//!   Block Cipher Mode, if given, must be AES Key Wrap Padding or NIST Key Wrap;
//! - an RSA public wrapping key: RSA-OAEP with the Hashing Algorithm asked (SHA-1 by default)
//!   for OAEP and MGF1, among the hashes the HSM profile lists (`oaep_hashes`; SoftHSM 2.6:
//!   SHA-1 only).
//!
//! The wrapped bytes are the raw key (a secret key's value, a private key's PKCS#8 — which
//! SoftHSM zero-pads to a multiple of 8 bytes before KWP, so the unwrapped DER may carry up to 7
//! zero bytes after its SEQUENCE), so the answer's Encoding Option is No Encoding; TTLV Encoding is refused (the HSM cannot wrap a TTLV
//! structure). The wrapped key must be Extractable (Sensitive keys may leave wrapped); the
//! wrapping key must be Active and its usage mask must allow Wrap Key.
//!
//! Result Reasons: Feature Not Supported (a wrapping method, mode, encoding or hash this server
//! or HSM does not offer; a public key as the key to wrap), Not Extractable, Item Not Found,
//! Incompatible Cryptographic Usage Mask / Permission Denied (no Wrap Key bit), Wrong Key
//! Lifecycle State / Permission Denied (wrapping key not Active), Cryptographic Failure.

use crate::hsm::{KeyKind, KeyUsage, ManagedKey};
use crate::keystore::to_hsm;
use crate::kmip::fields::{Builder, Fields};
use crate::kmip::operations::cryptographic_parameters::CryptographicParameters;
use crate::kmip::operations::object::{KeyBlock, ManagedObject};
use crate::service::crypto::{check_policy_of, hash_of, key_facts};
use crate::service::objects::{enum_of, hsm_error, int_of, state_name, Objects};
use crate::service::policy::CryptoOperation;
use crate::service::{Context, OpError, Policy};
use crate::store::{KeyMaterial, Record, State};
use crate::ttlv::enums::{
    BlockCipherMode, EncodingOption, HashingAlgorithm, KeyFormatType, ObjectType, PaddingMethod,
    WrappingMethod,
};
use crate::ttlv::{Item, Tag, Value};

/// Cryptographic Usage Mask bit Wrap Key.
const USAGE_WRAP_KEY: i32 = 0x10;

/// A parsed Key Wrapping Specification.
struct Spec {
    wrapping_uid: String,
    parameters: Option<CryptographicParameters>,
    parameters_item: Option<Item>,
}

fn parse(item: &Item) -> Result<Spec, OpError> {
    let inv = OpError::InvalidField;
    let mut f = Fields::open(item, Tag::KEY_WRAPPING_SPECIFICATION).map_err(inv)?;
    let method = f.req_enum(Tag::WRAPPING_METHOD).map_err(inv)?;
    let eki = f.optional(Tag::ENCRYPTION_KEY_INFORMATION).cloned();
    if f.optional(Tag::MAC_SIGNATURE_KEY_INFORMATION).is_some() {
        return Err(OpError::NotSupported(
            "MAC/Signature Key Information in a Key Wrapping Specification is not supported: \
             wrapping is Encrypt only"
                .into(),
        ));
    }
    let attributes = f.repeated(Tag::ATTRIBUTE_NAME);
    let encoding = f.opt_enum(Tag::ENCODING_OPTION).map_err(inv)?;
    f.finish().map_err(inv)?;
    if WrappingMethod(method) != WrappingMethod::ENCRYPT {
        return Err(OpError::NotSupported(format!(
            "Wrapping Method {} is not supported (Encrypt is)",
            crate::service::enum_name("WrappingMethod", method)
        )));
    }
    if !attributes.is_empty() {
        return Err(OpError::NotSupported(
            "wrapping attributes with the key (Attribute Name in the Key Wrapping \
             Specification) is not supported"
                .into(),
        ));
    }
    if encoding.is_some_and(|e| EncodingOption(e) != EncodingOption::NO_ENCODING) {
        return Err(OpError::NotSupported(
            "Encoding Option TTLV Encoding is not supported: the HSM wraps the raw key \
             (ask No Encoding)"
                .into(),
        ));
    }
    let eki = eki.ok_or_else(|| {
        OpError::Invalid(
            "the Key Wrapping Specification needs Encryption Key Information naming the \
             wrapping key"
                .into(),
        )
    })?;
    let mut e = Fields::open(&eki, Tag::ENCRYPTION_KEY_INFORMATION).map_err(inv)?;
    let wrapping_uid = e.req_text(Tag::UNIQUE_IDENTIFIER).map_err(inv)?;
    let parameters_item = e.optional(Tag::CRYPTOGRAPHIC_PARAMETERS).cloned();
    e.finish().map_err(inv)?;
    let parameters = parameters_item
        .as_ref()
        .map(CryptographicParameters::from_item)
        .transpose()
        .map_err(inv)?;
    Ok(Spec {
        wrapping_uid,
        parameters,
        parameters_item,
    })
}

/// The wrapping key, checked: Active, with Wrap Key in its usage mask.
fn wrapping_key(ctx: &Context<'_>, objects: &Objects, uid: &str) -> Result<Record, OpError> {
    let r = objects.load(ctx, uid)?;
    if r.is_destroyed() {
        return Err(OpError::Destroyed(uid.to_owned()));
    }
    if int_of(&r, "Cryptographic Usage Mask").unwrap_or(0) & USAGE_WRAP_KEY == 0 {
        return Err(OpError::UsageMask {
            uid: uid.to_owned(),
            operation: "Get with key wrapping",
            bit: "Wrap Key",
        });
    }
    if r.state != State::ACTIVE {
        return Err(OpError::WrongState {
            uid: uid.to_owned(),
            state: state_name(r.state),
            what: "Get with key wrapping refused (only an Active key wraps)".into(),
        });
    }
    Ok(r)
}

/// The object `r` (the key to wrap, already found and not destroyed) wrapped as `spec` asks.
pub fn wrapped_object(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    r: &Record,
    spec_item: &Item,
) -> Result<ManagedObject, OpError> {
    let uid = r.unique_identifier.0.clone();
    let spec = parse(spec_item)?;
    let object_type = ObjectType(r.object_type.0);
    if object_type == ObjectType::PUBLIC_KEY {
        return Err(OpError::NotSupported(
            "a public key is not wrapped: Get it without a Key Wrapping Specification".into(),
        ));
    }
    if crate::service::objects::bool_of(r, "Extractable") == Some(false) {
        return Err(OpError::NotExtractable(uid));
    }
    let KeyMaterial::Wrapped(stored) = &r.key else {
        return Err(OpError::Destroyed(uid));
    };
    let target = to_hsm(stored, KeyUsage::default()).map_err(|e| OpError::Hsm(e.to_string()))?;
    let w = wrapping_key(ctx, objects, &spec.wrapping_uid)?;
    let p = spec.parameters.clone().unwrap_or_default();
    // FIPS mode: the wrapping key as stored (an RSA key under 2048 bits registered with the
    // policy off, say) and the wrapping parameters, for Wrap Key.
    check_policy_of(policy, CryptoOperation::WrapKey, key_facts(&w, None), &p)?;
    let target_key = ManagedKey {
        unique_id: &uid,
        wrapped: &target,
    };
    let blob = match &w.key {
        KeyMaterial::Wrapped(ws) => {
            let wk = to_hsm(ws, KeyUsage::wrapping()).map_err(|e| OpError::Hsm(e.to_string()))?;
            if wk.kind != KeyKind::Aes {
                return Err(OpError::NotSupported(
                    "the wrapping key must be an AES key (KWP) or an RSA public key (OAEP)".into(),
                ));
            }
            if let Some(m) = p.block_cipher_mode {
                if m != BlockCipherMode::AES_KEY_WRAP_PADDING && m != BlockCipherMode::NIST_KEY_WRAP
                {
                    return Err(OpError::NotSupported(format!(
                        "Block Cipher Mode {} is not supported for key wrapping (AES Key Wrap \
                         Padding is)",
                        crate::service::enum_name("BlockCipherMode", m.0)
                    )));
                }
            }
            let wrapping = ManagedKey {
                unique_id: &spec.wrapping_uid,
                wrapped: &wk,
            };
            objects
                .hsm
                .wrap_with_key(target_key, wrapping)
                .map_err(hsm_error)?
        }
        KeyMaterial::Public(spki) => {
            let public = crate::service::key_formats::public_from_spki(spki)?;
            if let Some(pm) = p.padding_method.filter(|m| *m != PaddingMethod::OAEP) {
                return Err(OpError::NotSupported(format!(
                    "Padding Method {} is not supported for RSA key wrapping (OAEP is)",
                    crate::service::enum_name("PaddingMethod", pm.0)
                )));
            }
            let hash = hash_of(p.hashing_algorithm.unwrap_or(HashingAlgorithm::SHA_1))?;
            if let Some(m) = p.mask_generator_hashing_algorithm {
                if hash_of(m)? != hash {
                    return Err(OpError::NotSupported(
                        "RSA-OAEP with an MGF1 hash other than the OAEP hash is not supported"
                            .into(),
                    ));
                }
            }
            objects
                .hsm
                .wrap_with_rsa(target_key, &public, hash)
                .map_err(hsm_error)?
        }
        _ => return Err(OpError::Destroyed(spec.wrapping_uid)),
    };
    let format = if target.kind.is_secret() {
        KeyFormatType::RAW
    } else {
        KeyFormatType::PKCS_8
    };
    let mut eki = Builder::new().opt_text(Tag::UNIQUE_IDENTIFIER, Some(&spec.wrapping_uid));
    if let Some(pi) = spec.parameters_item {
        eki = eki.item(pi);
    }
    let kwd = Builder::new()
        .enumeration(Tag::WRAPPING_METHOD, WrappingMethod::ENCRYPT.0)
        .item(eki.build(Tag::ENCRYPTION_KEY_INFORMATION))
        .enumeration(Tag::ENCODING_OPTION, EncodingOption::NO_ENCODING.0)
        .build(Tag::KEY_WRAPPING_DATA);
    let kb = KeyBlock {
        key_format_type: format,
        key_compression_type: None,
        key_value: Some(Item::new(Tag::KEY_VALUE, Value::ByteString(blob))),
        cryptographic_algorithm: enum_of(r, "Cryptographic Algorithm"),
        cryptographic_length: int_of(r, "Cryptographic Length"),
        key_wrapping_data: Some(kwd),
    };
    Ok(match object_type {
        ObjectType::SYMMETRIC_KEY => ManagedObject::SymmetricKey(kb),
        ObjectType::PRIVATE_KEY => ManagedObject::PrivateKey(kb),
        ObjectType::SECRET_DATA => ManagedObject::SecretData {
            secret_data_type: enum_of(r, crate::service::objects::SECRET_DATA_TYPE).unwrap_or(1),
            key_block: kb,
        },
        other => {
            return Err(OpError::NotSupported(format!(
                "a {} is not wrapped on Get",
                crate::service::enum_name("ObjectType", other.0)
            )))
        }
    })
}
