//! RNG Retrieve (KMIP 1.4 §4.35, 2.1 §6.1.45): random bytes from the HSM's generator
//! (`C_GenerateRandom`), at most [`MAX_RNG_RETRIEVE`] per request.
//!
//! Result Reasons: Invalid Field (Data Length not 1 to the limit), Cryptographic Failure.

use crate::kmip::operations::decrypt::DataResponse;
use crate::kmip::operations::rng_retrieve::RngRetrieveRequest;
use crate::kmip::ResponsePayload;
use crate::service::crypto::MAX_RNG_RETRIEVE;
use crate::service::objects::{hsm_error, Objects};
use crate::service::OpError;
use crate::ttlv::Tag;

pub fn handle(objects: &Objects, request: &RngRetrieveRequest) -> Result<ResponsePayload, OpError> {
    let n = request.data_length;
    if !(1..=MAX_RNG_RETRIEVE).contains(&n) {
        return Err(OpError::Invalid(format!(
            "Data Length must be 1 to {MAX_RNG_RETRIEVE} bytes, not {n}"
        )));
    }
    let data = objects.hsm.random(n as usize).map_err(hsm_error)?;
    Ok(ResponsePayload::Data(DataResponse {
        unique_identifier: None,
        data_tag: Tag::DATA,
        data: Some(data),
        correlation_value: None,
    }))
}
