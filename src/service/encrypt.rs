//! Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.18): data encrypted by the HSM with the key's cached,
//! non-extractable copy. AES-GCM, AES-CBC (PKCS#5 or no padding), AES-CTR, AES-ECB where policy
//! allows, Triple DES CBC. An IV the client does not give is drawn from the HSM's generator and
//! returned. The GCM tag is returned in its own field from 1.4, appended to the data before.
//! Multi-part requests (Init Indicator, Correlation Value) go to [`stream`](super::stream).
//!
//! Result Reasons: Item Not Found, Permission Denied / Incompatible Cryptographic Usage Mask
//! (no Encrypt bit), Permission Denied / Wrong Key Lifecycle State (not Active, Protect Stop
//! Date passed), Permission Denied (ECB policy), Invalid Field (parameters), Feature Not
//! Supported (mode, padding, ChaCha20), General Failure (GCM tag length),
//! Cryptographic Failure (the HSM).

use crate::kmip::operations::encrypt::{EncryptRequest, EncryptResponse};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    charge_usage, cipher_for, pad, parameters, separate_tag, usable_key, Direction, Purpose,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &EncryptRequest,
) -> Result<ResponsePayload, OpError> {
    if request.streaming.is_multi_part() {
        return crate::service::stream::encrypt(ctx, objects, request);
    }
    let key = usable_key(
        ctx,
        objects,
        request.unique_identifier.as_deref(),
        Purpose::Encrypt,
    )?;
    let data = request
        .data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("Encrypt needs Data".into()))?;
    let p = parameters(request.cryptographic_parameters.as_ref(), &key);
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
