//! [`OpError`]: why an operation failed, and the one table from it to a KMIP Result Reason for
//! each protocol version. Its `Display` is the Result Message the client reads: it says what
//! to change.
//!
//! The same failure answers differently by version, because the reasons did not exist before:
//!
//! | failure | 1.0–1.3 | 1.4 | 2.0–2.1 |
//! |---|---|---|---|
//! | wrong lifecycle state (Destroy of an Active key, …) | Permission Denied | Permission Denied | Wrong Key Lifecycle State |
//! | Get of a Sensitive object | Permission Denied | Sensitive | Sensitive |
//! | Get of a non-extractable object | Permission Denied | Not Extractable | Not Extractable |
//! | attribute is server-only | Permission Denied | Permission Denied | Attribute Read Only |
//! | attribute (instance) absent | Item Not Found / Index Out Of Bounds | same | Attribute Not Found |
//! | second value of a single-valued attribute | Illegal Operation | Illegal Operation | Attribute Single Valued |
//! | Set Attribute of a multi-valued attribute | — | — | Multi Valued Attribute |
//! | name already used by the owner | Illegal Operation | Illegal Operation | Non Unique Name Attribute |
//! | object's material destroyed | Permission Denied | Permission Denied | Object Destroyed |
//! | object unknown or another identity's | Item Not Found | Item Not Found | Item Not Found |
//! | object of the wrong type for the operation (Sign with a Public Key, …) | Invalid Field | Invalid Field | Invalid Object Type |
//! | usage mask lacks the operation's bit | Permission Denied | Permission Denied | Incompatible Cryptographic Usage Mask |
//! | before Process Start / after Protect Stop Date | Permission Denied | Permission Denied | Wrong Key Lifecycle State |
//! | refused by server policy (AES-ECB), Usage Limits exhausted, too many open streams | Permission Denied | same | same |
//! | unknown or expired Correlation Value | Invalid Field | Invalid Field | Invalid Field |
//! | IV (or GCM tag) needed and missing | Invalid Message | Invalid Message | Invalid Message |
//! | GCM tag length outside 12–16 bytes | General Failure | General Failure | General Failure |
//!
//! The last two follow the OASIS CS-BC-M conformance vectors, which expect exactly these.

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
    /// A field's value is not acceptable; the text says which and why.
    #[error("{0}")]
    Invalid(String),
    /// The answer is larger than the request's Maximum Response Size.
    #[error(
        "the response payload is {size} bytes, more than the Maximum Response Size of {maximum}"
    )]
    ResponseTooLarge { size: usize, maximum: usize },
    /// FIPS mode refuses an algorithm, key size or parameter (`fips/approved.toml`).
    #[error("{0}")]
    NotApproved(super::policy::PolicyRefusal),
    /// No object with this identifier that the client may see.
    #[error("no object {0} (or it belongs to another client)")]
    ItemNotFound(String),
    /// No Unique Identifier in the request and no ID placeholder from an earlier batch item.
    #[error(
        "the request names no Unique Identifier and no earlier batch item set the ID placeholder"
    )]
    MissingIdentifier,
    /// The operation is not allowed in the object's state.
    #[error("{what}: object {uid} is {state}")]
    WrongState {
        uid: String,
        state: &'static str,
        what: String,
    },
    /// The object is not of the type the operation needs (Sign: a Private Key, Signature
    /// Verify: a Public Key).
    #[error("{operation} needs {needs}: object {uid} is not one")]
    WrongObjectType {
        uid: String,
        operation: &'static str,
        needs: &'static str,
    },
    /// The key's Cryptographic Usage Mask lacks the operation's bit.
    #[error("{operation} refused: object {uid}'s Cryptographic Usage Mask lacks {bit}")]
    UsageMask {
        uid: String,
        operation: &'static str,
        bit: &'static str,
    },
    /// Outside the key's usage period (Process Start Date, Protect Stop Date); the text says
    /// which.
    #[error("{0}")]
    UsagePeriod(String),
    /// Refused by the server's `[crypto]` policy, the key's Usage Limits or the bound on open
    /// streams; the text says which.
    #[error("{0}")]
    Policy(String),
    /// A parameter the operation needs (an IV, a GCM tag) is missing.
    #[error("{0}")]
    MissingParameter(String),
    /// An AES-GCM tag length this server (and the HSM) does not produce.
    #[error("AES-GCM tag length {0} bytes is not offered: use 12 to 16 bytes")]
    TagLength(i32),
    /// The object is Sensitive: its material is not returned in the clear.
    #[error("object {0} is Sensitive: its key material is not returned in the clear")]
    Sensitive(String),
    /// The object is not Extractable.
    #[error("object {0} is not Extractable: its key material never leaves the HSM")]
    NotExtractable(String),
    /// The object's material was destroyed (its metadata stays).
    #[error("object {0} is destroyed: only its attributes remain")]
    Destroyed(String),
    /// The attribute is set by the server only.
    #[error("attribute {0} is maintained by the server and cannot be set or changed by a client")]
    ReadOnly(String),
    /// The attribute, or the instance named, is absent.
    #[error("object {uid} has no attribute {attribute}{}", .index.map(|i| format!(" at index {i}")).unwrap_or_default())]
    AttributeNotFound {
        uid: String,
        attribute: String,
        index: Option<i32>,
    },
    /// A second value of a single-valued attribute.
    #[error("attribute {0} is single-valued and already set: use Modify Attribute (or Set Attribute in 2.x)")]
    SingleValued(String),
    /// Set Attribute of a multi-valued attribute.
    #[error("attribute {0} is multi-valued: use Add Attribute or Modify Attribute")]
    MultiValued(String),
    /// The owner already has an object with this name.
    #[error("the name {0:?} is already used by another of your objects")]
    NameTaken(String),
    /// Something this server does not offer; the text says what.
    #[error("{0}")]
    NotSupported(String),
    /// A Key Format Type this object cannot be returned in.
    #[error("{0}")]
    KeyFormatNotSupported(String),
    /// The HSM refused or failed.
    #[error("HSM: {0}")]
    Hsm(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
}

impl OpError {
    /// The Result Reason for each error in the client's protocol version: the one table.
    pub fn reason(&self, version: ProtocolVersion) -> ResultReason {
        let v2 = version.is_v2();
        let v14 = version >= ProtocolVersion::new(1, 4);
        match self {
            OpError::OperationNotSupported(_) => ResultReason::OPERATION_NOT_SUPPORTED,
            OpError::UnsupportedProtocolVersion(v) if v.is_v2() => {
                ResultReason::UNSUPPORTED_PROTOCOL_VERSION
            }
            OpError::UnsupportedProtocolVersion(_) => ResultReason::INVALID_MESSAGE,
            OpError::InvalidField(_) | OpError::Invalid(_) | OpError::MissingIdentifier => {
                ResultReason::INVALID_FIELD
            }
            OpError::ResponseTooLarge { .. } => ResultReason::RESPONSE_TOO_LARGE,
            OpError::NotApproved(_) => ResultReason::PERMISSION_DENIED,
            // KMIP 2.0 added Object Not Found for an unknown Unique Identifier (BL-M-4-21).
            OpError::ItemNotFound(_) if v2 => ResultReason::OBJECT_NOT_FOUND,
            OpError::ItemNotFound(_) => ResultReason::ITEM_NOT_FOUND,
            OpError::WrongState { .. } if v2 => ResultReason::WRONG_KEY_LIFECYCLE_STATE,
            OpError::WrongState { .. } => ResultReason::PERMISSION_DENIED,
            OpError::WrongObjectType { .. } if v2 => ResultReason::INVALID_OBJECT_TYPE,
            OpError::WrongObjectType { .. } => ResultReason::INVALID_FIELD,
            OpError::UsageMask { .. } if v2 => ResultReason::INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK,
            OpError::UsageMask { .. } | OpError::Policy(_) => ResultReason::PERMISSION_DENIED,
            OpError::UsagePeriod(_) if v2 => ResultReason::WRONG_KEY_LIFECYCLE_STATE,
            OpError::UsagePeriod(_) => ResultReason::PERMISSION_DENIED,
            OpError::MissingParameter(_) => ResultReason::INVALID_MESSAGE,
            OpError::TagLength(_) => ResultReason::GENERAL_FAILURE,
            OpError::Sensitive(_) if v14 => ResultReason::SENSITIVE,
            OpError::NotExtractable(_) if v14 => ResultReason::NOT_EXTRACTABLE,
            OpError::Sensitive(_) | OpError::NotExtractable(_) => ResultReason::PERMISSION_DENIED,
            OpError::Destroyed(_) if v2 => ResultReason::OBJECT_DESTROYED,
            OpError::Destroyed(_) => ResultReason::PERMISSION_DENIED,
            OpError::ReadOnly(_) if v2 => ResultReason::ATTRIBUTE_READ_ONLY,
            OpError::ReadOnly(_) => ResultReason::PERMISSION_DENIED,
            OpError::AttributeNotFound { .. } if v2 => ResultReason::ATTRIBUTE_NOT_FOUND,
            OpError::AttributeNotFound { index: Some(_), .. } => ResultReason::INDEX_OUT_OF_BOUNDS,
            OpError::AttributeNotFound { .. } => ResultReason::ITEM_NOT_FOUND,
            OpError::SingleValued(_) if v2 => ResultReason::ATTRIBUTE_SINGLE_VALUED,
            OpError::SingleValued(_) => ResultReason::ILLEGAL_OPERATION,
            OpError::MultiValued(_) if v2 => ResultReason::MULTI_VALUED_ATTRIBUTE,
            OpError::MultiValued(_) => ResultReason::ILLEGAL_OPERATION,
            OpError::NameTaken(_) if v2 => ResultReason::NON_UNIQUE_NAME_ATTRIBUTE,
            OpError::NameTaken(_) => ResultReason::ILLEGAL_OPERATION,
            OpError::NotSupported(_) => ResultReason::FEATURE_NOT_SUPPORTED,
            OpError::KeyFormatNotSupported(_) => ResultReason::KEY_FORMAT_TYPE_NOT_SUPPORTED,
            OpError::Hsm(_) => ResultReason::CRYPTOGRAPHIC_FAILURE,
            OpError::Store(_) => ResultReason::GENERAL_FAILURE,
        }
    }
}

impl From<super::policy::PolicyRefusal> for OpError {
    fn from(r: super::policy::PolicyRefusal) -> Self {
        OpError::NotApproved(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_each_version_with_its_own_reasons() {
        let v10 = ProtocolVersion::new(1, 0);
        let v14 = ProtocolVersion::new(1, 4);
        let v21 = ProtocolVersion::new(2, 1);
        let wrong = OpError::WrongState {
            uid: "1".into(),
            state: "Active",
            what: "Destroy".into(),
        };
        assert_eq!(wrong.reason(v14), ResultReason::PERMISSION_DENIED);
        assert_eq!(wrong.reason(v21), ResultReason::WRONG_KEY_LIFECYCLE_STATE);
        let s = OpError::Sensitive("1".into());
        assert_eq!(s.reason(v10), ResultReason::PERMISSION_DENIED);
        assert_eq!(s.reason(v14), ResultReason::SENSITIVE);
        let ne = OpError::NotExtractable("1".into());
        assert_eq!(ne.reason(v14), ResultReason::NOT_EXTRACTABLE);
        let ro = OpError::ReadOnly("State".into());
        assert_eq!(ro.reason(v14), ResultReason::PERMISSION_DENIED);
        assert_eq!(ro.reason(v21), ResultReason::ATTRIBUTE_READ_ONLY);
        let nf = OpError::AttributeNotFound {
            uid: "1".into(),
            attribute: "x-a".into(),
            index: Some(2),
        };
        assert_eq!(nf.reason(v14), ResultReason::INDEX_OUT_OF_BOUNDS);
        assert_eq!(nf.reason(v21), ResultReason::ATTRIBUTE_NOT_FOUND);
        assert_eq!(
            OpError::SingleValued("x".into()).reason(v14),
            ResultReason::ILLEGAL_OPERATION
        );
    }
}
