//! Signature Verify (KMIP 1.4 §4.32, 2.1 §6.1.51): a signature checked in the HSM with a
//! Public Key's values (a session object made for the call), over Data or Digested Data; the
//! algorithms of [Sign](super::sign). An ECDSA signature is read DER-encoded. A signature that
//! does not verify — including one that is not a well-formed signature — is Validity Indicator
//! Invalid, not an error. A Deactivated or Compromised key still verifies. An RSA-PSS
//! signature whose salt length the parameters do not give is checked with a salt as long as
//! the hash, then with the longest salt the key allows (OpenSSL's and PyKMIP's default).
//!
//! Result Reasons: Item Not Found; Invalid Object Type (2.x) / Invalid Field (1.x) for a key
//! that is not a Public Key; Permission Denied / Incompatible Cryptographic Usage Mask (no
//! Verify bit); Permission Denied / Wrong Key Lifecycle State (Pre-Active, before the Process
//! Start Date); Permission Denied (FIPS policy); Invalid Field; Feature Not Supported;
//! Cryptographic Failure (the HSM).

use crate::hsm::{HsmError, PublicKey, SignAlg};
use crate::kmip::operations::sign::{SignRequest, SignatureVerifyResponse};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    check_policy, cleared_record, key_facts, parameters_of, usable_public_from, Purpose,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::sign::{signature_input, single_part_signature};
use crate::service::signature::{max_pss_salt, sign_alg_for, SignerKind};
use crate::service::{ecdsa_der, Context, OpError, Policy};
use crate::ttlv::enums::ValidityIndicator;

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
        Purpose::SignatureVerify,
    )?;
    let key = usable_public_from(uid, record)?;
    let kind = SignerKind::of_public(&key.public);
    let p = parameters_of(request.cryptographic_parameters.as_ref(), &key.parameters);
    let alg = sign_alg_for(&key.uid, kind, &p)?;
    check_policy(
        policy,
        Purpose::SignatureVerify,
        key_facts(&key.record, kind.curve()),
        &p,
    )?;
    let input = signature_input(request, alg)?;
    let signature = request
        .signature_data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("Signature Verify needs Signature Data".into()))?;
    let raw = match (alg, kind.curve()) {
        (SignAlg::Ecdsa(_), Some(c)) => ecdsa_der::from_der(signature, c.field_bytes()),
        _ => Some(signature.to_vec()),
    };
    let verify =
        |alg: SignAlg, raw: &[u8]| match objects.hsm.verify_input(&key.public, alg, input, raw) {
            Ok(()) => Ok(true),
            Err(HsmError::SignatureInvalid { .. }) => Ok(false),
            Err(e) => Err(hsm_error(e)),
        };
    let valid = match raw {
        None => false,
        // PKCS#11 checks one salt length. None named: the hash's length (this server's and
        // most signers' choice), then the longest (OpenSSL's "maximum", PyKMIP's choice).
        Some(raw) => match (alg, &key.public) {
            (SignAlg::RsaPss(hash), PublicKey::Rsa { modulus, .. }) => {
                verify(alg, &raw)?
                    || match max_pss_salt(modulus, hash) {
                        Some(salt_len) if salt_len != hash.output_len() as u32 => {
                            verify(SignAlg::RsaPssSalt { hash, salt_len }, &raw)?
                        }
                        _ => false,
                    }
            }
            _ => verify(alg, &raw)?,
        },
    };
    let validity = if valid {
        ValidityIndicator::VALID
    } else {
        ValidityIndicator::INVALID
    };
    Ok(ResponsePayload::SignatureVerify(SignatureVerifyResponse {
        unique_identifier: key.uid,
        validity_indicator: validity,
        data: None,
        correlation_value: None,
    }))
}
