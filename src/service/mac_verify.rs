//! MAC Verify (KMIP 1.4 §4.34, 2.1 §6.1.31): a MAC checked by the HSM (`C_Verify`); a MAC that
//! does not match is Validity Indicator Invalid, not an error. A Deactivated or Compromised key
//! still verifies.
//!
//! Result Reasons: Item Not Found, Permission Denied / Incompatible Cryptographic Usage Mask
//! (no MAC Verify bit), Permission Denied / Wrong Key Lifecycle State (Pre-Active, before the
//! Process Start Date), Permission Denied (FIPS policy), Invalid Field, Feature Not Supported, Cryptographic Failure.

use crate::hsm::HsmError;
use crate::kmip::operations::mac::{MacRequest, MacVerifyResponse};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    check_policy, key_facts, mac_for, parameters, single_part, usable_key, Purpose,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::{Context, OpError, Policy};
use crate::ttlv::enums::ValidityIndicator;

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
        Purpose::MacVerify,
    )?;
    let data = request
        .data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("MAC Verify needs Data".into()))?;
    let mac = request
        .mac_data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("MAC Verify needs MAC Data".into()))?;
    let p = parameters(request.cryptographic_parameters.as_ref(), &key);
    check_policy(policy, Purpose::MacVerify, key_facts(&key.record, None), &p)?;
    let alg = mac_for(&key, &p)?;
    let validity = match objects.hsm.mac_verify(key.managed(), alg, data, mac) {
        Ok(()) => ValidityIndicator::VALID,
        Err(HsmError::SignatureInvalid { .. }) => ValidityIndicator::INVALID,
        Err(e) => return Err(hsm_error(e)),
    };
    Ok(ResponsePayload::MacVerify(MacVerifyResponse {
        unique_identifier: key.uid,
        validity_indicator: validity,
        correlation_value: None,
    }))
}
