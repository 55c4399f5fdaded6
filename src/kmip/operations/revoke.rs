//! Revoke (KMIP 1.4 §4.20, 2.1 §6.1.50).

use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::enums::RevocationReasonCode;
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationReason {
    pub code: RevocationReasonCode,
    pub message: Option<String>,
}

impl RevocationReason {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REVOCATION_REASON)?;
        let r = RevocationReason {
            code: RevocationReasonCode(f.req_enum(Tag::REVOCATION_REASON_CODE)?),
            message: f.opt_text(Tag::REVOCATION_MESSAGE)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .enumeration(Tag::REVOCATION_REASON_CODE, self.code.0)
            .opt_text(Tag::REVOCATION_MESSAGE, self.message.as_deref())
            .build(Tag::REVOCATION_REASON)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeRequest {
    pub unique_identifier: Option<String>,
    pub revocation_reason: RevocationReason,
    pub compromise_occurrence_date: Option<i64>,
}

impl RevokeRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = RevokeRequest {
            unique_identifier: f.opt_text(Tag::UNIQUE_IDENTIFIER)?,
            revocation_reason: RevocationReason::from_item(f.required(Tag::REVOCATION_REASON)?)?,
            compromise_occurrence_date: f.opt_datetime(Tag::COMPROMISE_OCCURRENCE_DATE)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .opt_text(Tag::UNIQUE_IDENTIFIER, self.unique_identifier.as_deref())
            .item(self.revocation_reason.to_item())
            .opt_datetime(
                Tag::COMPROMISE_OCCURRENCE_DATE,
                self.compromise_occurrence_date,
            )
            .build(Tag::REQUEST_PAYLOAD)
    }
}
