//! MAC (KMIP 1.4 §4.33, 2.1 §6.1.30) and MAC Verify (KMIP 1.4 §4.34, 2.1 §6.1.31): a MAC
//! computed or checked with a managed key. The MAC response is a
//! [`DataResponse`](super::decrypt::DataResponse) with `MAC Data`.

use super::cryptographic_parameters::{CryptographicParameters, Streaming};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::enums::ValidityIndicator;
use crate::ttlv::{Item, Tag};

/// MAC and MAC Verify requests (MAC Verify adds `MAC Data`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MacRequest {
    pub unique_identifier: Option<String>,
    pub cryptographic_parameters: Option<CryptographicParameters>,
    pub data: Option<Vec<u8>>,
    /// MAC Verify only: the MAC to check.
    pub mac_data: Option<Vec<u8>>,
    pub streaming: Streaming,
}

impl MacRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = MacRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            cryptographic_parameters: CryptographicParameters::read(&mut f)?,
            data: f.opt_bytes(Tag::DATA)?,
            mac_data: f.opt_bytes(Tag::MAC_DATA)?,
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
            .opt_bytes(Tag::MAC_DATA, self.mac_data.as_deref());
        self.streaming.write(b).build(Tag::REQUEST_PAYLOAD)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacVerifyResponse {
    pub unique_identifier: String,
    pub validity_indicator: ValidityIndicator,
    pub correlation_value: Option<Vec<u8>>,
}

impl MacVerifyResponse {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = MacVerifyResponse {
            unique_identifier: f.req_text(Tag::UNIQUE_IDENTIFIER)?,
            validity_indicator: ValidityIndicator(f.req_enum(Tag::VALIDITY_INDICATOR)?),
            correlation_value: f.opt_bytes(Tag::CORRELATION_VALUE)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, Some(&self.unique_identifier))
            .enumeration(Tag::VALIDITY_INDICATOR, self.validity_indicator.0)
            .opt_bytes(Tag::CORRELATION_VALUE, self.correlation_value.as_deref())
            .build(Tag::RESPONSE_PAYLOAD)
    }
}
