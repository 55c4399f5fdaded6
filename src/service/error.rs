//! [`OpError`]: why an operation failed, and the one table from it to a KMIP Result Reason.
//! Its `Display` is the Result Message the client reads: it says what to change.

use crate::kmip::message::ProtocolVersion;
use crate::kmip::KmipError;
use crate::ttlv::enums::{Operation, ResultReason};

/// Why one batch item failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The server does not implement the operation (yet).
    #[error("operation {} is not supported by this server (Query lists the supported operations)", super::operation_name(*.0))]
    OperationNotSupported(Operation),
    /// The request's protocol version is not one the server speaks.
    #[error("protocol version {0} is not supported: use Discover Versions to find a common version (this server speaks 2.1, 2.0, 1.4, 1.3, 1.2, 1.1 and 1.0)")]
    UnsupportedProtocolVersion(ProtocolVersion),
    /// A field of the payload is missing, misplaced or has the wrong type.
    #[error("{0}")]
    InvalidField(KmipError),
    /// The answer is larger than the request's Maximum Response Size.
    #[error(
        "the response payload is {size} bytes, more than the Maximum Response Size of {maximum}"
    )]
    ResponseTooLarge { size: usize, maximum: usize },
    /// FIPS mode refuses an algorithm, key size or parameter (`fips/approved.toml`).
    #[error("{0}")]
    NotApproved(super::policy::PolicyRefusal),
}

impl OpError {
    /// The Result Reason for each error: the one table.
    pub fn reason(&self) -> ResultReason {
        match self {
            OpError::OperationNotSupported(_) => ResultReason::OPERATION_NOT_SUPPORTED,
            OpError::UnsupportedProtocolVersion(v) if v.is_v2() => {
                ResultReason::UNSUPPORTED_PROTOCOL_VERSION
            }
            OpError::UnsupportedProtocolVersion(_) => ResultReason::INVALID_MESSAGE,
            OpError::InvalidField(_) => ResultReason::INVALID_FIELD,
            OpError::ResponseTooLarge { .. } => ResultReason::RESPONSE_TOO_LARGE,
            OpError::NotApproved(_) => ResultReason::PERMISSION_DENIED,
        }
    }
}

impl From<super::policy::PolicyRefusal> for OpError {
    fn from(r: super::policy::PolicyRefusal) -> Self {
        OpError::NotApproved(r)
    }
}
