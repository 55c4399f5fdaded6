//! MAC (KMIP 1.4 §4.33, 2.1 §6.1.30): a MAC computed by the HSM — HMAC-SHA-1/224/256/384/512
//! with an HMAC key (the hash from the request, else from the key's algorithm), AES-CMAC with
//! an AES key.
//!
//! Result Reasons: Item Not Found, Permission Denied / Incompatible Cryptographic Usage Mask
//! (no MAC Generate bit), Permission Denied / Wrong Key Lifecycle State (not Active, Protect
//! Stop Date passed), Permission Denied (FIPS policy), Invalid Field, Feature Not Supported, Cryptographic Failure.

use crate::kmip::operations::decrypt::DataResponse;
use crate::kmip::operations::mac::MacRequest;
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    charge_usage, check_policy, key_facts, mac_for, parameters, single_part, usable_key, Purpose,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::{Context, OpError, Policy};
use crate::ttlv::Tag;

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &MacRequest,
) -> Result<ResponsePayload, OpError> {
    single_part(&request.streaming)?;
    let key = usable_key(
        ctx,
        objects,
        request.unique_identifier.as_deref(),
        Purpose::MacGenerate,
    )?;
    let data = request
        .data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("MAC needs Data".into()))?;
    let p = parameters(request.cryptographic_parameters.as_ref(), &key);
    check_policy(
        policy,
        Purpose::MacGenerate,
        key_facts(&key.record, None),
        &p,
    )?;
    let alg = mac_for(&key, &p)?;
    charge_usage(objects, &key, data.len())?;
    let mac = objects
        .hsm
        .mac(key.managed(), alg, data)
        .map_err(hsm_error)?;
    Ok(ResponsePayload::Data(DataResponse {
        unique_identifier: Some(key.uid),
        data_tag: Tag::MAC_DATA,
        data: Some(mac),
        correlation_value: None,
    }))
}
