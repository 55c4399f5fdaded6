//! Get (KMIP 1.4 §4.11, 2.1 §6.1.22): the material of an extractable, non-sensitive object in
//! the clear, in the format asked — Raw (default) or Transparent Symmetric Key for symmetric
//! keys, Opaque for Secret Data — read from a transient HSM copy. No attributes are put inside
//! the Key Value (1.x clients such as Veeam fail on them). The first Get clears Fresh.
//!
//! Result Reasons: Item Not Found, Sensitive / Not Extractable (1.4+; Permission Denied
//! before), Object Destroyed (2.x; Permission Denied in 1.x), Key Format Type Not Supported,
//! Feature Not Supported (wrapping or compression asked), Cryptographic Failure.

use crate::keystore::to_hsm;
use crate::kmip::operations::get::{GetRequest, GetResponse};
use crate::kmip::operations::object::{KeyBlock, ManagedObject};
use crate::kmip::ResponsePayload;
use crate::service::objects::{
    bool_of, enum_of, hsm_error, int_of, set_attr, Objects, OPAQUE_DATA_TYPE, SECRET_DATA_TYPE,
};
use crate::service::{Context, OpError};
use crate::store::{AttrValue, KeyMaterial};
use crate::ttlv::enums::{KeyFormatType, ObjectType};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &GetRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    if r.is_destroyed() {
        return Err(OpError::Destroyed(uid));
    }
    if request.key_wrapping_specification.is_some() || request.key_wrap_type.is_some() {
        return Err(OpError::NotSupported(
            "Get with key wrapping is not offered yet: ask without a Key Wrapping Specification"
                .into(),
        ));
    }
    if request.key_compression_type.is_some() {
        return Err(OpError::NotSupported(
            "key compression applies to elliptic-curve keys only".into(),
        ));
    }
    if bool_of(&r, "Sensitive") == Some(true) {
        return Err(OpError::Sensitive(uid));
    }
    if bool_of(&r, "Extractable") == Some(false) {
        return Err(OpError::NotExtractable(uid));
    }
    let object_type = ObjectType(r.object_type.0);
    let wanted = request.key_format_type;
    let format = match object_type {
        ObjectType::SYMMETRIC_KEY => wanted.unwrap_or(KeyFormatType::RAW),
        _ => wanted.unwrap_or(KeyFormatType::OPAQUE),
    };
    let allowed = match object_type {
        ObjectType::SYMMETRIC_KEY => {
            format == KeyFormatType::RAW || format == KeyFormatType::TRANSPARENT_SYMMETRIC_KEY
        }
        ObjectType::SECRET_DATA => format == KeyFormatType::OPAQUE,
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
    if bool_of(&r, "Fresh") == Some(true) {
        let mut next = r.clone();
        set_attr(&mut next, "Fresh", AttrValue::Boolean(false));
        objects.save(&r, &next)?;
    }
    Ok(ResponsePayload::Get(Box::new(GetResponse {
        object_type,
        unique_identifier: uid,
        object,
    })))
}
