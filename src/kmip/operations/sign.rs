//! Sign (KMIP 1.4 §4.31, 2.1 §6.1.50) and Signature Verify (KMIP 1.4 §4.32, 2.1 §6.1.51): a
//! signature made with a managed private key, or checked with a public key, over Data or over
//! Digested Data (the client's hash of it). One request type serves both (Signature Verify adds
//! `Signature Data`); fields in the specification's order.

use super::cryptographic_parameters::{CryptographicParameters, Streaming};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::enums::ValidityIndicator;
use crate::ttlv::{Item, Tag};

/// Sign and Signature Verify requests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignRequest {
    pub unique_identifier: Option<String>,
    pub cryptographic_parameters: Option<CryptographicParameters>,
    pub data: Option<Vec<u8>>,
    pub digested_data: Option<Vec<u8>>,
    /// Signature Verify only: the signature to check.
    pub signature_data: Option<Vec<u8>>,
    pub streaming: Streaming,
}

impl SignRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = SignRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            cryptographic_parameters: CryptographicParameters::read(&mut f)?,
            data: f.opt_bytes(Tag::DATA)?,
            digested_data: f.opt_bytes(Tag::DIGESTED_DATA)?,
            signature_data: f.opt_bytes(Tag::SIGNATURE_DATA)?,
            streaming: Streaming::read(&mut f)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        let b = Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .opt_item(
                self.cryptographic_parameters
                    .as_ref()
                    .map(CryptographicParameters::to_item),
            )
            .opt_bytes(Tag::DATA, self.data.as_deref())
            .opt_bytes(Tag::DIGESTED_DATA, self.digested_data.as_deref())
            .opt_bytes(Tag::SIGNATURE_DATA, self.signature_data.as_deref());
        self.streaming.write(b).build(Tag::REQUEST_PAYLOAD)
    }
}

/// The Sign response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignResponse {
    pub unique_identifier: String,
    pub signature_data: Option<Vec<u8>>,
    pub correlation_value: Option<Vec<u8>>,
}

impl SignResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = SignResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            signature_data: f.opt_bytes(Tag::SIGNATURE_DATA)?,
            correlation_value: f.opt_bytes(Tag::CORRELATION_VALUE)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .opt_bytes(Tag::SIGNATURE_DATA, self.signature_data.as_deref())
            .opt_bytes(Tag::CORRELATION_VALUE, self.correlation_value.as_deref())
            .build(Tag::RESPONSE_PAYLOAD)
    }
}

/// The Signature Verify response (`Data` is message recovery, which this server does not do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureVerifyResponse {
    pub unique_identifier: String,
    pub validity_indicator: ValidityIndicator,
    pub data: Option<Vec<u8>>,
    pub correlation_value: Option<Vec<u8>>,
}

impl SignatureVerifyResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = SignatureVerifyResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            validity_indicator: ValidityIndicator(f.req_enum(Tag::VALIDITY_INDICATOR)?),
            data: f.opt_bytes(Tag::DATA)?,
            correlation_value: f.opt_bytes(Tag::CORRELATION_VALUE)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .enumeration(Tag::VALIDITY_INDICATOR, self.validity_indicator.0)
            .opt_bytes(Tag::DATA, self.data.as_deref())
            .opt_bytes(Tag::CORRELATION_VALUE, self.correlation_value.as_deref())
            .build(Tag::RESPONSE_PAYLOAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttlv::enums::HashingAlgorithm;

    #[test]
    fn sign_and_verify_payloads_round_trip() {
        let r = SignRequest {
            unique_identifier: Some("k1".into()),
            cryptographic_parameters: Some(CryptographicParameters {
                hashing_algorithm: Some(HashingAlgorithm::SHA_256),
                ..Default::default()
            }),
            digested_data: Some(vec![1; 32]),
            signature_data: Some(vec![2; 64]),
            ..Default::default()
        };
        assert_eq!(SignRequest::from_item(&r.to_item()).unwrap(), r);
        let s = SignResponse {
            unique_identifier: "k1".into(),
            signature_data: Some(vec![3; 70]),
            correlation_value: None,
        };
        assert_eq!(SignResponse::from_item(&s.to_item()).unwrap(), s);
        let v = SignatureVerifyResponse {
            unique_identifier: "k2".into(),
            validity_indicator: ValidityIndicator::INVALID,
            data: None,
            correlation_value: None,
        };
        assert_eq!(SignatureVerifyResponse::from_item(&v.to_item()).unwrap(), v);
    }

    #[test]
    fn rejects_fields_out_of_order() {
        let item = Builder::new()
            .opt_bytes(Tag::SIGNATURE_DATA, Some(&[1]))
            .opt_bytes(Tag::DATA, Some(&[2]))
            .build(Tag::REQUEST_PAYLOAD);
        assert!(SignRequest::from_item(&item).is_err());
    }
}
