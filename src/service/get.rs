//! Get (KMIP 1.4 §4.11, 2.1 §6.1.22): the material of an extractable, non-sensitive object in
//! the clear, in the format asked — Raw (default) or Transparent Symmetric Key for symmetric
//! keys, Opaque for Secret Data, PKCS#1 / X.509 / Transparent for public keys, PKCS#1 / PKCS#8
//! / EC Private Key / Transparent for private keys — read from a transient HSM copy (public
//! keys from the store). No attributes are put inside
//! the Key Value (1.x clients such as Veeam fail on them). The first Get clears Fresh.
//!
//! Result Reasons: Item Not Found, Sensitive / Not Extractable (1.4+; Permission Denied
//! before), Object Destroyed (2.x; Permission Denied in 1.x), Key Format Type Not Supported,
//! Feature Not Supported (compression, or a wrapping this server does not offer), Cryptographic
//! Failure. With a Key Wrapping Specification: [`get_wrapped`].

use crate::keystore::to_hsm;
use crate::kmip::operations::get::{GetRequest, GetResponse};
use crate::kmip::operations::object::{KeyBlock, ManagedObject};
use crate::kmip::ResponsePayload;
use crate::service::get_wrapped;
use crate::service::key_formats;
use crate::service::objects::{
    bool_of, enum_of, hsm_error, int_of, set_attr, Objects, OPAQUE_DATA_TYPE, SECRET_DATA_TYPE,
};
use crate::service::register::REGISTERED_FORMAT;
use crate::service::register_key::default_format;
use crate::service::{Context, OpError, Policy};
use crate::store::{AttrValue, KeyMaterial, Record};
use crate::ttlv::enums::{KeyFormatType, KeyWrapType, ObjectType};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &GetRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    if r.is_destroyed() {
        return Err(OpError::Destroyed(uid));
    }
    if request
        .key_wrap_type
        .is_some_and(|t| KeyWrapType(t) != KeyWrapType::NOT_WRAPPED)
    {
        return Err(OpError::NotSupported(
            "Key Wrap Type As Registered is not offered: keys are not kept as registered wrapped"
                .into(),
        ));
    }
    if request.key_compression_type.is_some() {
        return Err(OpError::NotSupported(
            "key compression applies to elliptic-curve keys only".into(),
        ));
    }
    if let Some(spec) = &request.key_wrapping_specification {
        // Sensitive keys may leave wrapped; Extractable is checked by the wrapping.
        let object = get_wrapped::wrapped_object(ctx, objects, policy, &r, spec)?;
        return answer(objects, &r, uid, object);
    }
    if bool_of(&r, "Sensitive") == Some(true) {
        return Err(OpError::Sensitive(uid));
    }
    if bool_of(&r, "Extractable") == Some(false) {
        return Err(OpError::NotExtractable(uid));
    }
    let object_type = ObjectType(r.object_type.0);
    // The default format is the one the object was registered in.
    let registered = enum_of(&r, REGISTERED_FORMAT).map(KeyFormatType);
    if object_type == ObjectType::PUBLIC_KEY || object_type == ObjectType::PRIVATE_KEY {
        let wanted = request.key_format_type.or(registered);
        let object = asymmetric_object(objects, &r, &uid, wanted)?;
        return answer(objects, &r, uid, object);
    }
    let wanted = request.key_format_type;
    let format = match object_type {
        ObjectType::SYMMETRIC_KEY => wanted.or(registered).unwrap_or(KeyFormatType::RAW),
        ObjectType::SECRET_DATA => wanted.or(registered).unwrap_or(KeyFormatType::OPAQUE),
        _ => wanted.unwrap_or(KeyFormatType::OPAQUE),
    };
    let allowed = match object_type {
        ObjectType::SYMMETRIC_KEY => {
            format == KeyFormatType::RAW || format == KeyFormatType::TRANSPARENT_SYMMETRIC_KEY
        }
        ObjectType::SECRET_DATA => format == KeyFormatType::OPAQUE || format == KeyFormatType::RAW,
        _ => wanted.is_none(),
    };
    if !allowed {
        return Err(OpError::KeyFormatNotSupported(format!(
            "a {} is not returned in Key Format Type {}",
            crate::service::enum_name("ObjectType", object_type.0),
            crate::service::enum_name("KeyFormatType", format.0)
        )));
    }
    let KeyMaterial::Wrapped(stored) = &r.key else {
        return Err(OpError::Destroyed(uid));
    };
    let wk =
        to_hsm(stored, crate::hsm::KeyUsage::default()).map_err(|e| OpError::Hsm(e.to_string()))?;
    let material = objects.hsm.export_secret(&wk).map_err(hsm_error)?;
    let object = match object_type {
        ObjectType::SYMMETRIC_KEY => ManagedObject::SymmetricKey(KeyBlock::with_material(
            format,
            &material,
            enum_of(&r, "Cryptographic Algorithm"),
            int_of(&r, "Cryptographic Length"),
        )),
        ObjectType::SECRET_DATA => ManagedObject::SecretData {
            secret_data_type: enum_of(&r, SECRET_DATA_TYPE).unwrap_or(1),
            key_block: KeyBlock::with_material(format, &material, None, None),
        },
        _ => ManagedObject::OpaqueObject {
            opaque_data_type: enum_of(&r, OPAQUE_DATA_TYPE).unwrap_or(1),
            opaque_data_value: material.expose().to_vec(),
        },
    };
    answer(objects, &r, uid, object)
}

/// The Get response; the first Get clears Fresh.
fn answer(
    objects: &Objects,
    r: &Record,
    uid: String,
    object: ManagedObject,
) -> Result<ResponsePayload, OpError> {
    if bool_of(r, "Fresh") == Some(true) {
        let mut next = r.clone();
        set_attr(&mut next, "Fresh", AttrValue::Boolean(false));
        objects.save(r, &next)?;
    }
    Ok(ResponsePayload::Get(Box::new(GetResponse {
        object_type: ObjectType(r.object_type.0),
        unique_identifier: uid,
        object,
    })))
}

/// A Public Key (from its stored SubjectPublicKeyInfo) or a Private Key (read from a transient
/// HSM copy) in `wanted` format, by default PKCS#1 for RSA keys, X.509 for EC public keys and
/// PKCS#8 for EC private keys.
fn asymmetric_object(
    objects: &Objects,
    r: &Record,
    uid: &str,
    wanted: Option<KeyFormatType>,
) -> Result<ManagedObject, OpError> {
    let algorithm = enum_of(r, "Cryptographic Algorithm");
    let length = int_of(r, "Cryptographic Length");
    match &r.key {
        KeyMaterial::Public(spki) => {
            let public = key_formats::public_from_spki(spki)?;
            let rsa = matches!(public, crate::hsm::PublicKey::Rsa { .. });
            let format = wanted.unwrap_or(default_format(ObjectType::PUBLIC_KEY, rsa));
            let km = key_formats::public_material(&public, format)?;
            Ok(ManagedObject::PublicKey(KeyBlock::with_key_material(
                format, km, algorithm, length,
            )))
        }
        KeyMaterial::Wrapped(stored) => {
            let wk = to_hsm(stored, crate::hsm::KeyUsage::default())
                .map_err(|e| OpError::Hsm(e.to_string()))?;
            let rsa = matches!(wk.kind, crate::hsm::KeyKind::Rsa { .. });
            let format = wanted.unwrap_or(default_format(ObjectType::PRIVATE_KEY, rsa));
            let parts = objects.hsm.export_private(&wk).map_err(hsm_error)?;
            let km = key_formats::private_material(&parts, format)?;
            Ok(ManagedObject::PrivateKey(KeyBlock::with_key_material(
                format, km, algorithm, length,
            )))
        }
        _ => Err(OpError::Destroyed(uid.to_owned())),
    }
}
