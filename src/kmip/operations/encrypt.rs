//! Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.18): data encrypted with a managed key.

use super::cryptographic_parameters::{CryptographicParameters, Streaming};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptRequest {
    pub unique_identifier: Option<String>,
    pub cryptographic_parameters: Option<CryptographicParameters>,
    pub data: Option<Vec<u8>>,
    pub iv_counter_nonce: Option<Vec<u8>>,
    pub streaming: Streaming,
    pub authenticated_encryption_additional_data: Option<Vec<u8>>,
}

impl EncryptRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = EncryptRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            cryptographic_parameters: CryptographicParameters::read(&mut f)?,
            data: f.opt_bytes(Tag::DATA)?,
            iv_counter_nonce: f.opt_bytes(Tag::IV_COUNTER_NONCE)?,
            streaming: Streaming::read(&mut f)?,
            authenticated_encryption_additional_data: f
                .opt_bytes(Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA)?,
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
            .opt_bytes(Tag::IV_COUNTER_NONCE, self.iv_counter_nonce.as_deref());
        self.streaming
            .write(b)
            .opt_bytes(
                Tag::AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
                self.authenticated_encryption_additional_data.as_deref(),
            )
            .build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EncryptResponse {
    pub unique_identifier: String,
    pub data: Option<Vec<u8>>,
    pub iv_counter_nonce: Option<Vec<u8>>,
    pub correlation_value: Option<Vec<u8>>,
    pub authenticated_encryption_tag: Option<Vec<u8>>,
}

impl EncryptResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = EncryptResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            data: f.opt_bytes(Tag::DATA)?,
            iv_counter_nonce: f.opt_bytes(Tag::IV_COUNTER_NONCE)?,
            correlation_value: f.opt_bytes(Tag::CORRELATION_VALUE)?,
            authenticated_encryption_tag: f.opt_bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .opt_bytes(Tag::DATA, self.data.as_deref())
            .opt_bytes(Tag::IV_COUNTER_NONCE, self.iv_counter_nonce.as_deref())
            .opt_bytes(Tag::CORRELATION_VALUE, self.correlation_value.as_deref())
            .opt_bytes(
                Tag::AUTHENTICATED_ENCRYPTION_TAG,
                self.authenticated_encryption_tag.as_deref(),
            )
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
