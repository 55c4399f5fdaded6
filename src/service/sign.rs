//! Sign (KMIP 1.4 §4.31, 2.1 §6.1.50): a signature made in the HSM with a Private Key's
//! cached, non-extractable copy — RSA PKCS#1 v1.5 and RSA-PSS with SHA-1/SHA-2, ECDSA with
//! SHA-1/SHA-2 on P-256/384/521 — over Data (hashed in the HSM) or over Digested Data (the
//! client's digest, of the signature hash's length). ECDSA signatures are returned DER-encoded
//! (`SEQUENCE { r, s }`), as PyKMIP and OpenSSL read them. Single-part only.
//!
//! Result Reasons: Item Not Found; Invalid Object Type (2.x) / Invalid Field (1.x) for a key
//! that is not a Private Key; Permission Denied / Incompatible Cryptographic Usage Mask (no Sign
//! bit); Permission Denied / Wrong Key Lifecycle State (not Active, Protect Stop Date passed);
//! Permission Denied (FIPS policy); Invalid Field (no hash, algorithm not the key's, no data);
//! Feature Not Supported (streaming, DSA, other paddings); Cryptographic Failure (the HSM).

use crate::hsm::{SignAlg, SignInput};
use crate::kmip::operations::sign::{SignRequest, SignResponse};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    charge_usage, check_policy, cleared_record, key_facts, parameters, usable_from, Purpose,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::signature::{sign_alg_for, SignerKind};
use crate::service::{ecdsa_der, Context, OpError, Policy};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &SignRequest,
) -> Result<ResponsePayload, OpError> {
    single_part_signature(request)?;
    let (uid, record) = cleared_record(
        ctx,
        objects,
        request.unique_identifier.as_deref(),
        Purpose::Sign,
    )?;
    let key = usable_from(uid, record)?;
    let kind = SignerKind::of_kind(key.wrapped.kind).ok_or_else(|| {
        OpError::Invalid(format!(
            "key {} is not an RSA or EC key: it cannot sign",
            key.uid
        ))
    })?;
    let p = parameters(request.cryptographic_parameters.as_ref(), &key);
    let alg = sign_alg_for(&key.uid, kind, &p)?;
    check_policy(
        policy,
        Purpose::Sign,
        key_facts(&key.record, kind.curve()),
        &p,
    )?;
    let input = signature_input(request, alg)?;
    charge_usage(objects, &key, input_len(input))?;
    let signature = objects
        .hsm
        .sign_input(key.managed(), alg, input)
        .map_err(hsm_error)?;
    let signature = match alg {
        SignAlg::Ecdsa(_) => ecdsa_der::to_der(&signature)
            .ok_or_else(|| OpError::Hsm("C_Sign returned an odd-length ECDSA signature".into()))?,
        _ => signature,
    };
    Ok(ResponsePayload::Sign(SignResponse {
        unique_identifier: key.uid,
        signature_data: Some(signature),
        correlation_value: None,
    }))
}

/// Multi-part Sign and Signature Verify are not offered: one clear answer.
pub fn single_part_signature(request: &SignRequest) -> Result<(), OpError> {
    if request.streaming.is_multi_part() {
        return Err(OpError::NotSupported(
            "multi-part (streaming) Sign and Signature Verify are not offered: send all the \
             data (or its digest) in one request, without Correlation Value, Init Indicator or \
             Final Indicator"
                .into(),
        ));
    }
    Ok(())
}

/// Data or Digested Data (exactly one); a digest must be the output of `alg`'s hash.
pub fn signature_input(request: &SignRequest, alg: SignAlg) -> Result<SignInput<'_>, OpError> {
    match (&request.data, &request.digested_data) {
        (Some(d), None) => Ok(SignInput::Data(d)),
        (None, Some(d)) if d.len() != alg.hash().output_len() => Err(OpError::Invalid(format!(
            "Digested Data is {} bytes: the signature's hash gives {}",
            d.len(),
            alg.hash().output_len()
        ))),
        (None, Some(d)) => Ok(SignInput::Digest(d)),
        (Some(_), Some(_)) => Err(OpError::Invalid(
            "give Data or Digested Data, not both".into(),
        )),
        (None, None) => Err(OpError::Invalid(
            "the request needs Data or Digested Data".into(),
        )),
    }
}

fn input_len(input: SignInput<'_>) -> usize {
    match input {
        SignInput::Data(d) | SignInput::Digest(d) => d.len(),
    }
}
