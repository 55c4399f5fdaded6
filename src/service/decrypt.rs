//! Decrypt (KMIP 1.4 §4.30, 2.1 §6.1.15): data decrypted by the HSM with the key's cached,
//! non-extractable copy; the modes of [Encrypt](super::encrypt). A Deactivated or Compromised
//! key still decrypts. From 1.4 the GCM tag comes in its own field (its length is the tag
//! length); for 1.2–1.3 clients it ends the data (Tag Length from the parameters, 16 by
//! default). With an RSA Private Key: RSA-OAEP or RSA PKCS#1 v1.5 (refused in FIPS mode), as
//! for [Encrypt](super::encrypt). Multi-part requests go to [`stream`](super::stream).
//!
//! Result Reasons: Item Not Found, Permission Denied / Incompatible Cryptographic Usage Mask
//! (no Decrypt bit), Permission Denied / Wrong Key Lifecycle State (Pre-Active, before the
//! Process Start Date), Permission Denied (FIPS policy), Invalid Message (IV or tag missing),
//! Invalid Field, Feature Not Supported (an OAEP hash the HSM lacks, …), Cryptographic Failure
//! (wrong tag, bad padding, the HSM).

use crate::hsm::KeyKind;
use crate::kmip::operations::decrypt::{DataResponse, DecryptRequest};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    check_policy, cipher_for, key_facts, parameters, separate_tag, unpad, usable_key, Direction,
    Purpose, UsableKey,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::signature::rsa_padding_for;
use crate::service::{Context, OpError, Policy};
use crate::ttlv::enums::BlockCipherMode;
use crate::ttlv::Tag;

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &DecryptRequest,
) -> Result<ResponsePayload, OpError> {
    if request.streaming.is_multi_part() {
        return crate::service::stream::decrypt(ctx, objects, policy, request);
    }
    let key = usable_key(
        ctx,
        objects,
        request.unique_identifier.as_deref(),
        Purpose::Decrypt,
    )?;
    let data = request
        .data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("Decrypt needs Data".into()))?;
    let p = parameters(request.cryptographic_parameters.as_ref(), &key);
    check_policy(policy, Purpose::Decrypt, key_facts(&key.record, None), &p)?;
    if matches!(key.wrapped.kind, KeyKind::Rsa { .. }) {
        return rsa(objects, &key, &p, data);
    }
    let gcm = p.block_cipher_mode == Some(BlockCipherMode::GCM);
    let mut input = data.to_vec();
    let mut tag_len = None;
    if gcm && separate_tag(ctx.version) {
        let tag = request
            .authenticated_encryption_tag
            .as_deref()
            .ok_or_else(|| {
                OpError::MissingParameter(
                    "AES-GCM Decrypt needs the Authenticated Encryption Tag".into(),
                )
            })?;
        input.extend_from_slice(tag);
        tag_len = Some(tag.len());
    }
    let choice = cipher_for(
        objects,
        &key,
        &p,
        request.iv_counter_nonce.as_deref(),
        request.authenticated_encryption_additional_data.as_deref(),
        Direction::Decrypt,
        tag_len,
    )?;
    if let Some(t) = choice.tag_len {
        if input.len() < t {
            return Err(OpError::Invalid(format!(
                "AES-GCM data must end with its {t}-byte tag"
            )));
        }
    }
    let out = objects
        .hsm
        .decrypt(key.managed(), &choice.cipher, &input)
        .map_err(hsm_error)?;
    let out = if choice.ecb_padding { unpad(out)? } else { out };
    Ok(ResponsePayload::Data(DataResponse {
        unique_identifier: Some(key.uid),
        data_tag: Tag::DATA,
        data: Some(out),
        correlation_value: None,
    }))
}

/// RSA decryption with a Private Key.
fn rsa(
    objects: &Objects,
    key: &UsableKey,
    p: &crate::kmip::operations::cryptographic_parameters::CryptographicParameters,
    data: &[u8],
) -> Result<ResponsePayload, OpError> {
    let padding = rsa_padding_for(&key.uid, p)?;
    let out = objects
        .hsm
        .decrypt_rsa(key.managed(), padding, data)
        .map_err(hsm_error)?;
    Ok(ResponsePayload::Data(DataResponse {
        unique_identifier: Some(key.uid.clone()),
        data_tag: Tag::DATA,
        data: Some(out),
        correlation_value: None,
    }))
}
