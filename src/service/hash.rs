//! Hash (KMIP 1.4 §4.37, 2.1 §6.1.23): a digest computed by the HSM (`C_Digest`) with the
//! Hashing Algorithm of the request's Cryptographic Parameters (SHA-1 to SHA-512).
//!
//! Result Reasons: Invalid Field (no Hashing Algorithm, no Data), Feature Not Supported (other
//! hashes, streaming), Cryptographic Failure.

use crate::kmip::operations::decrypt::DataResponse;
use crate::kmip::operations::hash::HashRequest;
use crate::kmip::ResponsePayload;
use crate::service::crypto::{hash_for, single_part};
use crate::service::objects::{hsm_error, Objects};
use crate::service::OpError;
use crate::ttlv::Tag;

pub fn handle(objects: &Objects, request: &HashRequest) -> Result<ResponsePayload, OpError> {
    single_part(&request.streaming)?;
    let alg = hash_for(request.cryptographic_parameters.as_ref())?;
    let data = request
        .data
        .as_deref()
        .ok_or_else(|| OpError::Invalid("Hash needs Data".into()))?;
    let digest = objects.hsm.digest(alg, data).map_err(hsm_error)?;
    Ok(ResponsePayload::Data(DataResponse {
        unique_identifier: None,
        data_tag: Tag::DATA,
        data: Some(digest),
        correlation_value: None,
    }))
}
