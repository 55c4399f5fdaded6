//! Request and response messages: headers, authentication, batch items (KMIP 1.4 §7.1–7.2,
//! KMIP 2.1 §8). Field order is the specification's; encoding a decoded message gives back the
//! same bytes.

use crate::kmip::fields::{as_bool, as_enum, as_text, Builder, Fields, KmipError};
use crate::kmip::payload::{RequestPayload, ResponsePayload};
use crate::secret::SecretString;
use crate::ttlv::enums::{
    AttestationType, BatchErrorContinuationOption, CredentialType, Operation, ResultReason,
    ResultStatus,
};
use crate::ttlv::{Item, Tag, Version};

/// Protocol Version: major and minor as the client sent them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolVersion {
    pub major: i32,
    pub minor: i32,
}

impl ProtocolVersion {
    pub const fn new(major: i32, minor: i32) -> Self {
        ProtocolVersion { major, minor }
    }

    /// As a table version; out-of-range numbers fall back to the newest tables.
    pub fn version(self) -> Option<Version> {
        Some(Version::new(
            u8::try_from(self.major).ok()?,
            u8::try_from(self.minor).ok()?,
        ))
    }

    /// Whether this is KMIP 2.0 or later (the `Attributes` form, renamed fields).
    pub fn is_v2(self) -> bool {
        self.major >= 2
    }

    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::PROTOCOL_VERSION)?;
        let major = f.req_int(Tag::PROTOCOL_VERSION_MAJOR)?;
        let minor = f.req_int(Tag::PROTOCOL_VERSION_MINOR)?;
        f.finish()?;
        Ok(ProtocolVersion { major, minor })
    }

    pub fn to_item(self) -> Item {
        Builder::new()
            .int(Tag::PROTOCOL_VERSION_MAJOR, self.major)
            .int(Tag::PROTOCOL_VERSION_MINOR, self.minor)
            .build(Tag::PROTOCOL_VERSION)
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The value of a Credential. Username and Password is typed (its password is a secret);
/// the other credential types are kept as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialValue {
    UsernamePassword {
        username: String,
        password: Option<SecretString>,
    },
    Other(Item),
}

/// Credential (KMIP 1.4 §2.1.2): the server accepts and ignores it — the mutual-TLS identity
/// rules — but logs its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub credential_type: CredentialType,
    pub value: CredentialValue,
}

impl Credential {
    fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::CREDENTIAL)?;
        let credential_type = CredentialType(f.req_enum(Tag::CREDENTIAL_TYPE)?);
        let raw = f.required(Tag::CREDENTIAL_VALUE)?;
        f.finish()?;
        let value = if credential_type == CredentialType::USERNAME_AND_PASSWORD {
            let mut v = Fields::open(raw, Tag::CREDENTIAL_VALUE)?;
            let username = v.req_text(Tag::USERNAME)?;
            let password = v.opt_text(Tag::PASSWORD)?.map(SecretString::new);
            v.finish()?;
            CredentialValue::UsernamePassword { username, password }
        } else {
            CredentialValue::Other(raw.clone())
        };
        Ok(Credential {
            credential_type,
            value,
        })
    }

    fn to_item(&self) -> Item {
        let value = match &self.value {
            CredentialValue::UsernamePassword { username, password } => Builder::new()
                .opt_text(Tag::USERNAME, Some(username))
                .opt_text(Tag::PASSWORD, password.as_ref().map(SecretString::expose))
                .build(Tag::CREDENTIAL_VALUE),
            CredentialValue::Other(item) => item.clone(),
        };
        Builder::new()
            .enumeration(Tag::CREDENTIAL_TYPE, self.credential_type.0)
            .item(value)
            .build(Tag::CREDENTIAL)
    }
}

/// Request Header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    pub protocol_version: ProtocolVersion,
    pub maximum_response_size: Option<i32>,
    pub client_correlation_value: Option<String>,
    pub server_correlation_value: Option<String>,
    pub asynchronous_indicator: Option<bool>,
    pub attestation_capable_indicator: Option<bool>,
    pub attestation_types: Vec<AttestationType>,
    /// Authentication: one Credential in 1.x, one or more in 2.x.
    pub authentication: Option<Vec<Credential>>,
    pub batch_error_continuation_option: Option<BatchErrorContinuationOption>,
    pub batch_order_option: Option<bool>,
    pub time_stamp: Option<i64>,
    pub batch_count: i32,
}

impl RequestHeader {
    pub fn new(protocol_version: ProtocolVersion, batch_count: i32) -> Self {
        RequestHeader {
            protocol_version,
            maximum_response_size: None,
            client_correlation_value: None,
            server_correlation_value: None,
            asynchronous_indicator: None,
            attestation_capable_indicator: None,
            attestation_types: Vec::new(),
            authentication: None,
            batch_error_continuation_option: None,
            batch_order_option: None,
            time_stamp: None,
            batch_count,
        }
    }

    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_HEADER)?;
        let h = RequestHeader {
            protocol_version: ProtocolVersion::from_item(f.required(Tag::PROTOCOL_VERSION)?)?,
            maximum_response_size: f.opt_int(Tag::MAXIMUM_RESPONSE_SIZE)?,
            client_correlation_value: f.opt_text(Tag::CLIENT_CORRELATION_VALUE)?,
            server_correlation_value: f.opt_text(Tag::SERVER_CORRELATION_VALUE)?,
            asynchronous_indicator: f
                .optional(Tag::ASYNCHRONOUS_INDICATOR)
                .map(as_bool)
                .transpose()?,
            attestation_capable_indicator: f.opt_bool(Tag::ATTESTATION_CAPABLE_INDICATOR)?,
            attestation_types: f
                .rep_enum(Tag::ATTESTATION_TYPE)?
                .into_iter()
                .map(AttestationType)
                .collect(),
            authentication: match f.optional(Tag::AUTHENTICATION) {
                None => None,
                Some(a) => {
                    let mut af = Fields::open(a, Tag::AUTHENTICATION)?;
                    let creds = af.repeated_with(Tag::CREDENTIAL, Credential::from_item)?;
                    af.finish()?;
                    if creds.is_empty() {
                        return Err(KmipError::Missing {
                            parent: Tag::AUTHENTICATION,
                            field: Tag::CREDENTIAL,
                        });
                    }
                    Some(creds)
                }
            },
            batch_error_continuation_option: f
                .opt_enum(Tag::BATCH_ERROR_CONTINUATION_OPTION)?
                .map(BatchErrorContinuationOption),
            batch_order_option: f.opt_bool(Tag::BATCH_ORDER_OPTION)?,
            time_stamp: f.opt_datetime(Tag::TIME_STAMP)?,
            batch_count: f.req_int(Tag::BATCH_COUNT)?,
        };
        f.finish()?;
        Ok(h)
    }

    pub fn to_item(&self) -> Item {
        let auth = self.authentication.as_ref().map(|creds| {
            Builder::new()
                .items(creds.iter().map(Credential::to_item))
                .build(Tag::AUTHENTICATION)
        });
        let att: Vec<u32> = self.attestation_types.iter().map(|a| a.0).collect();
        Builder::new()
            .item(self.protocol_version.to_item())
            .opt_int(Tag::MAXIMUM_RESPONSE_SIZE, self.maximum_response_size)
            .opt_text(
                Tag::CLIENT_CORRELATION_VALUE,
                self.client_correlation_value.as_deref(),
            )
            .opt_text(
                Tag::SERVER_CORRELATION_VALUE,
                self.server_correlation_value.as_deref(),
            )
            .opt_bool(Tag::ASYNCHRONOUS_INDICATOR, self.asynchronous_indicator)
            .opt_bool(
                Tag::ATTESTATION_CAPABLE_INDICATOR,
                self.attestation_capable_indicator,
            )
            .enums(Tag::ATTESTATION_TYPE, &att)
            .opt_item(auth)
            .opt_enum(
                Tag::BATCH_ERROR_CONTINUATION_OPTION,
                self.batch_error_continuation_option.map(|o| o.0),
            )
            .opt_bool(Tag::BATCH_ORDER_OPTION, self.batch_order_option)
            .opt_datetime(Tag::TIME_STAMP, self.time_stamp)
            .int(Tag::BATCH_COUNT, self.batch_count)
            .build(Tag::REQUEST_HEADER)
    }
}

/// Response Header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeader {
    pub protocol_version: ProtocolVersion,
    pub time_stamp: i64,
    /// Nonce (1.2+), kept as sent.
    pub nonce: Option<Item>,
    /// Server Hashed Password (2.0+).
    pub server_hashed_password: Option<Vec<u8>>,
    pub attestation_types: Vec<AttestationType>,
    pub client_correlation_value: Option<String>,
    pub server_correlation_value: Option<String>,
    pub batch_count: i32,
}

impl ResponseHeader {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_HEADER)?;
        let h = ResponseHeader {
            protocol_version: ProtocolVersion::from_item(f.required(Tag::PROTOCOL_VERSION)?)?,
            time_stamp: crate::kmip::fields::as_datetime(f.required(Tag::TIME_STAMP)?)?,
            nonce: f.optional(Tag::NONCE).cloned(),
            server_hashed_password: f.opt_bytes(Tag::SERVER_HASHED_PASSWORD)?,
            attestation_types: f
                .rep_enum(Tag::ATTESTATION_TYPE)?
                .into_iter()
                .map(AttestationType)
                .collect(),
            client_correlation_value: f.opt_text(Tag::CLIENT_CORRELATION_VALUE)?,
            server_correlation_value: f.opt_text(Tag::SERVER_CORRELATION_VALUE)?,
            batch_count: f.req_int(Tag::BATCH_COUNT)?,
        };
        f.finish()?;
        Ok(h)
    }

    pub fn to_item(&self) -> Item {
        let att: Vec<u32> = self.attestation_types.iter().map(|a| a.0).collect();
        Builder::new()
            .item(self.protocol_version.to_item())
            .opt_datetime(Tag::TIME_STAMP, Some(self.time_stamp))
            .opt_item(self.nonce.clone())
            .opt_bytes(
                Tag::SERVER_HASHED_PASSWORD,
                self.server_hashed_password.as_deref(),
            )
            .enums(Tag::ATTESTATION_TYPE, &att)
            .opt_text(
                Tag::CLIENT_CORRELATION_VALUE,
                self.client_correlation_value.as_deref(),
            )
            .opt_text(
                Tag::SERVER_CORRELATION_VALUE,
                self.server_correlation_value.as_deref(),
            )
            .int(Tag::BATCH_COUNT, self.batch_count)
            .build(Tag::RESPONSE_HEADER)
    }
}

/// One operation of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestBatchItem {
    pub operation: Operation,
    /// Ephemeral (2.0+).
    pub ephemeral: Option<bool>,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub payload: RequestPayload,
    pub message_extension: Option<Item>,
}

impl RequestBatchItem {
    fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::BATCH_ITEM)?;
        let operation = Operation(f.req_enum(Tag::OPERATION)?);
        let ephemeral = f.opt_bool(Tag::EPHEMERAL)?;
        let unique_batch_item_id = f.opt_bytes(Tag::UNIQUE_BATCH_ITEM_ID)?;
        let payload = RequestPayload::from_item(operation, f.required(Tag::REQUEST_PAYLOAD)?)?;
        let message_extension = f.optional(Tag::MESSAGE_EXTENSION).cloned();
        f.finish()?;
        Ok(RequestBatchItem {
            operation,
            ephemeral,
            unique_batch_item_id,
            payload,
            message_extension,
        })
    }

    fn to_item(&self) -> Item {
        Builder::new()
            .enumeration(Tag::OPERATION, self.operation.0)
            .opt_bool(Tag::EPHEMERAL, self.ephemeral)
            .opt_bytes(
                Tag::UNIQUE_BATCH_ITEM_ID,
                self.unique_batch_item_id.as_deref(),
            )
            .item(self.payload.to_item())
            .opt_item(self.message_extension.clone())
            .build(Tag::BATCH_ITEM)
    }
}

/// The result of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseBatchItem {
    /// Present when the request named it (always, for requests this server answers).
    pub operation: Option<Operation>,
    pub unique_batch_item_id: Option<Vec<u8>>,
    pub result_status: ResultStatus,
    pub result_reason: Option<ResultReason>,
    pub result_message: Option<String>,
    pub asynchronous_correlation_value: Option<Vec<u8>>,
    pub payload: Option<ResponsePayload>,
    pub message_extension: Option<Item>,
}

impl ResponseBatchItem {
    /// A successful result.
    pub fn success(
        operation: Operation,
        unique_batch_item_id: Option<Vec<u8>>,
        payload: Option<ResponsePayload>,
    ) -> Self {
        ResponseBatchItem {
            operation: Some(operation),
            unique_batch_item_id,
            result_status: ResultStatus::SUCCESS,
            result_reason: None,
            result_message: None,
            asynchronous_correlation_value: None,
            payload,
            message_extension: None,
        }
    }

    /// A failed result with its reason and a message naming the problem.
    pub fn failure(
        operation: Option<Operation>,
        unique_batch_item_id: Option<Vec<u8>>,
        reason: ResultReason,
        message: impl Into<String>,
    ) -> Self {
        ResponseBatchItem {
            operation,
            unique_batch_item_id,
            result_status: ResultStatus::OPERATION_FAILED,
            result_reason: Some(reason),
            result_message: Some(message.into()),
            asynchronous_correlation_value: None,
            payload: None,
            message_extension: None,
        }
    }

    fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::BATCH_ITEM)?;
        let operation = f
            .optional(Tag::OPERATION)
            .map(as_enum)
            .transpose()?
            .map(Operation);
        let unique_batch_item_id = f.opt_bytes(Tag::UNIQUE_BATCH_ITEM_ID)?;
        let result_status = ResultStatus(f.req_enum(Tag::RESULT_STATUS)?);
        let result_reason = f.opt_enum(Tag::RESULT_REASON)?.map(ResultReason);
        let result_message = f.optional(Tag::RESULT_MESSAGE).map(as_text).transpose()?;
        let asynchronous_correlation_value = f.opt_bytes(Tag::ASYNCHRONOUS_CORRELATION_VALUE)?;
        let payload = f
            .optional(Tag::RESPONSE_PAYLOAD)
            .map(|p| ResponsePayload::from_item(operation, p))
            .transpose()?;
        let message_extension = f.optional(Tag::MESSAGE_EXTENSION).cloned();
        f.finish()?;
        Ok(ResponseBatchItem {
            operation,
            unique_batch_item_id,
            result_status,
            result_reason,
            result_message,
            asynchronous_correlation_value,
            payload,
            message_extension,
        })
    }

    fn to_item(&self) -> Item {
        Builder::new()
            .opt_enum(Tag::OPERATION, self.operation.map(|o| o.0))
            .opt_bytes(
                Tag::UNIQUE_BATCH_ITEM_ID,
                self.unique_batch_item_id.as_deref(),
            )
            .enumeration(Tag::RESULT_STATUS, self.result_status.0)
            .opt_enum(Tag::RESULT_REASON, self.result_reason.map(|r| r.0))
            .opt_text(Tag::RESULT_MESSAGE, self.result_message.as_deref())
            .opt_bytes(
                Tag::ASYNCHRONOUS_CORRELATION_VALUE,
                self.asynchronous_correlation_value.as_deref(),
            )
            .opt_item(self.payload.as_ref().map(ResponsePayload::to_item))
            .opt_item(self.message_extension.clone())
            .build(Tag::BATCH_ITEM)
    }
}

/// A request: header and one or more batch items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMessage {
    pub header: RequestHeader,
    pub batch_items: Vec<RequestBatchItem>,
}

impl RequestMessage {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_MESSAGE)?;
        let header = RequestHeader::from_item(f.required(Tag::REQUEST_HEADER)?)?;
        let batch_items = f.repeated_with(Tag::BATCH_ITEM, RequestBatchItem::from_item)?;
        f.finish()?;
        if batch_items.is_empty() {
            return Err(KmipError::Missing {
                parent: Tag::REQUEST_MESSAGE,
                field: Tag::BATCH_ITEM,
            });
        }
        Ok(RequestMessage {
            header,
            batch_items,
        })
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .item(self.header.to_item())
            .items(self.batch_items.iter().map(RequestBatchItem::to_item))
            .build(Tag::REQUEST_MESSAGE)
    }
}

/// A response: header and one batch item per request item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMessage {
    pub header: ResponseHeader,
    pub batch_items: Vec<ResponseBatchItem>,
}

impl ResponseMessage {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_MESSAGE)?;
        let header = ResponseHeader::from_item(f.required(Tag::RESPONSE_HEADER)?)?;
        let batch_items = f.repeated_with(Tag::BATCH_ITEM, ResponseBatchItem::from_item)?;
        f.finish()?;
        Ok(ResponseMessage {
            header,
            batch_items,
        })
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .item(self.header.to_item())
            .items(self.batch_items.iter().map(ResponseBatchItem::to_item))
            .build(Tag::RESPONSE_MESSAGE)
    }
}

/// Either kind of message, for tools that read both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(RequestMessage),
    Response(ResponseMessage),
}

impl Message {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        match item.tag {
            Tag::REQUEST_MESSAGE => RequestMessage::from_item(item).map(Message::Request),
            Tag::RESPONSE_MESSAGE => ResponseMessage::from_item(item).map(Message::Response),
            other => Err(KmipError::Unexpected {
                parent: Tag::REQUEST_MESSAGE,
                field: other,
            }),
        }
    }

    pub fn to_item(&self) -> Item {
        match self {
            Message::Request(r) => r.to_item(),
            Message::Response(r) => r.to_item(),
        }
    }
}

/// The protocol version of a message that may not parse as a whole: used to answer an
/// unparsable message with Invalid Message in a version the client reads.
pub fn sniff_version(item: &Item) -> Option<ProtocolVersion> {
    let header = item
        .children()
        .iter()
        .find(|c| c.tag == Tag::REQUEST_HEADER || c.tag == Tag::RESPONSE_HEADER)?;
    ProtocolVersion::from_item(header.child(Tag::PROTOCOL_VERSION)?).ok()
}
