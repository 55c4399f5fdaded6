//! Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.18): data encrypted by the HSM. With a symmetric key, its
//! cached, non-extractable copy: AES-GCM, AES-CBC (PKCS#5 or no padding), AES-CTR, AES-ECB
//! where policy allows, Triple DES CBC; an IV the client does not give is drawn from the HSM's
//! generator and returned; the GCM tag is returned in its own field from 1.4, appended to the
//! data before. With a Public Key (RSA): RSA-OAEP with the hashes the HSM profile lists
//! (`oaep_hashes`), or RSA PKCS#1 v1.5 (refused in FIPS mode), in a session public-key object
//! made from the stored values. Multi-part requests (Init Indicator, Correlation Value) go to
//! [`stream`](super::stream).
//!
//! Result Reasons: Item Not Found, Permission Denied / Incompatible Cryptographic Usage Mask
//! (no Encrypt bit), Permission Denied / Wrong Key Lifecycle State (not Active, Protect Stop
//! Date passed), Permission Denied (ECB policy, FIPS policy), Invalid Field (parameters),
//! Feature Not Supported (mode, padding, ChaCha20, an OAEP hash the HSM lacks), General Failure
//! (GCM tag length), Cryptographic Failure (the HSM).

use crate::hsm::PublicKey;
use crate::kmip::operations::encrypt::{EncryptRequest, EncryptResponse};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    charge_usage, charge_usage_of, check_policy, cipher_for, cleared_record, key_facts, pad,
    parameters, parameters_of, separate_tag, usable_from, usable_public_from, Direction, Purpose,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::signature::rsa_padding_for;
use crate::service::{Context, OpError, Policy};
use crate::store::{ObjectType, Record};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &EncryptRequest,
) -> Result<ResponsePayload, OpError> {
    if request.streaming.is_multi_part() {
        return crate::service::stream::encrypt(ctx, objects, policy, request);
    }
    let (uid, record) = cleared_record(
        ctx,
        objects,
        request.unique_identifier.as_deref(),
        Purpose::Encrypt,
    )?;
    let data = request
        .data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("Encrypt needs Data".into()))?;
    if record.object_type == ObjectType::PUBLIC_KEY {
        return rsa(objects, policy, request, uid, record, data);
    }
    let key = usable_from(uid, record)?;
    let p = parameters(request.cryptographic_parameters.as_ref(), &key);
    check_policy(policy, Purpose::Encrypt, key_facts(&key.record, None), &p)?;
    let choice = cipher_for(
        objects,
        &key,
        &p,
        request.iv_counter_nonce.as_deref(),
        request.authenticated_encryption_additional_data.as_deref(),
        Direction::Encrypt,
        None,
    )?;
    charge_usage(objects, &key, data.len())?;
    let mut out = if choice.ecb_padding {
        objects
            .hsm
            .encrypt(key.managed(), &choice.cipher, &pad(data))
    } else {
        objects.hsm.encrypt(key.managed(), &choice.cipher, data)
    }
    .map_err(hsm_error)?;
    let mut tag = None;
    if let Some(t) = choice.tag_len.filter(|_| separate_tag(ctx.version)) {
        let at = out
            .len()
            .checked_sub(t)
            .ok_or_else(|| OpError::Hsm("C_Encrypt returned less than a GCM tag".into()))?;
        tag = Some(out.split_off(at));
    }
    Ok(ResponsePayload::Encrypt(EncryptResponse {
        unique_identifier: key.uid,
        data: Some(out),
        iv_counter_nonce: choice.generated_iv,
        correlation_value: None,
        authenticated_encryption_tag: tag,
    }))
}

/// RSA encryption with a Public Key.
fn rsa(
    objects: &Objects,
    policy: &Policy,
    request: &EncryptRequest,
    uid: String,
    record: Record,
    data: &[u8],
) -> Result<ResponsePayload, OpError> {
    let key = usable_public_from(uid, record)?;
    if !matches!(key.public, PublicKey::Rsa { .. }) {
        return Err(OpError::Invalid(format!(
            "key {} is not an RSA public key: it cannot encrypt",
            key.uid
        )));
    }
    let p = parameters_of(request.cryptographic_parameters.as_ref(), &key.parameters);
    let padding = rsa_padding_for(&key.uid, &p)?;
    check_policy(policy, Purpose::Encrypt, key_facts(&key.record, None), &p)?;
    charge_usage_of(objects, &key.uid, &key.record, data.len())?;
    let out = objects
        .hsm
        .encrypt_rsa(&key.public, padding, data)
        .map_err(hsm_error)?;
    Ok(ResponsePayload::Encrypt(EncryptResponse {
        unique_identifier: key.uid,
        data: Some(out),
        iv_counter_nonce: None,
        correlation_value: None,
        authenticated_encryption_tag: None,
    }))
}
