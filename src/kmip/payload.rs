//! Request and response payloads by operation. Operations are typed here as the issues that
//! implement them land; until then a payload stays the TTLV tree it arrived as (`Other`), so
//! every message can still be read, logged by shape and answered.

use crate::kmip::fields::{as_enum, Builder, Fields, KmipError};
use crate::kmip::message::ProtocolVersion;
use crate::kmip::operations::activate::IdentifierPayload;
use crate::kmip::operations::add_attribute::AddAttributeRequest;
use crate::kmip::operations::check::CheckPayload;
use crate::kmip::operations::create::{CreateRequest, CreateResponse};
use crate::kmip::operations::create_key_pair::{CreateKeyPairRequest, CreateKeyPairResponse};
use crate::kmip::operations::decrypt::{DataResponse, DecryptRequest};
use crate::kmip::operations::delete_attribute::DeleteAttributeRequest;
use crate::kmip::operations::encrypt::{EncryptRequest, EncryptResponse};
use crate::kmip::operations::get::{GetRequest, GetResponse};
use crate::kmip::operations::get_attribute_list::{
    GetAttributeListRequest, GetAttributeListResponse,
};
use crate::kmip::operations::get_attributes::{GetAttributesRequest, GetAttributesResponse};
use crate::kmip::operations::hash::HashRequest;
use crate::kmip::operations::locate::{LocateRequest, LocateResponse};
use crate::kmip::operations::mac::{MacRequest, MacVerifyResponse};
use crate::kmip::operations::modify_attribute::ModifyAttributeRequest;
use crate::kmip::operations::register::{RegisterRequest, RegisterResponse};
use crate::kmip::operations::rekey::{ReKeyRequest, ReKeyResponse};
use crate::kmip::operations::revoke::RevokeRequest;
use crate::kmip::operations::rng_retrieve::RngRetrieveRequest;
use crate::kmip::operations::set_attribute::SetAttributeRequest;
use crate::kmip::operations::sign::{SignRequest, SignResponse, SignatureVerifyResponse};
use crate::kmip::operations::AttributeEditResponse;
use crate::ttlv::enums::{
    AttestationType, ClientRegistrationMethod, InteropFunction, ObjectType, Operation,
    QueryFunction,
};
use crate::ttlv::{Item, Tag};

/// Discover Versions request (KMIP 1.4 §4.26, 2.1 §6.1.17): the client's versions, preferred
/// first; empty asks for every version the server supports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiscoverVersionsRequest {
    pub protocol_versions: Vec<ProtocolVersion>,
}

/// Discover Versions response: the versions both sides support, the server's preferred first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiscoverVersionsResponse {
    pub protocol_versions: Vec<ProtocolVersion>,
}

fn versions_from(item: &Item, tag: Tag) -> Result<Vec<ProtocolVersion>, KmipError> {
    let mut f = Fields::open(item, tag)?;
    let v = f.repeated_with(Tag::PROTOCOL_VERSION, ProtocolVersion::from_item)?;
    f.finish()?;
    Ok(v)
}

fn versions_to(v: &[ProtocolVersion], tag: Tag) -> Item {
    Builder::new()
        .items(v.iter().map(|p| p.to_item()))
        .build(tag)
}

/// Query request (KMIP 1.4 §4.25, 2.1 §6.1.37).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryRequest {
    pub query_functions: Vec<QueryFunction>,
}

/// Query response. Lists are typed; the structured answers (server information, profiles,
/// capabilities, …) are kept as trees until an issue needs them typed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryResponse {
    pub operations: Vec<Operation>,
    pub object_types: Vec<ObjectType>,
    pub vendor_identification: Option<String>,
    pub server_information: Option<Item>,
    pub application_namespaces: Vec<String>,
    pub extension_information: Vec<Item>,
    pub attestation_types: Vec<AttestationType>,
    pub rng_parameters: Vec<Item>,
    pub profile_information: Vec<Item>,
    pub validation_information: Vec<Item>,
    pub capability_information: Vec<Item>,
    pub client_registration_methods: Vec<ClientRegistrationMethod>,
    pub defaults_information: Option<Item>,
    pub protection_storage_masks: Option<Item>,
}

impl QueryResponse {
    fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
        let r = QueryResponse {
            operations: f
                .rep_enum(Tag::OPERATION)?
                .into_iter()
                .map(Operation)
                .collect(),
            object_types: f
                .rep_enum(Tag::OBJECT_TYPE)?
                .into_iter()
                .map(ObjectType)
                .collect(),
            vendor_identification: f.opt_text(Tag::VENDOR_IDENTIFICATION)?,
            server_information: f.optional(Tag::SERVER_INFORMATION).cloned(),
            application_namespaces: f.rep_text(Tag::APPLICATION_NAMESPACE)?,
            extension_information: f.rep_items(Tag::EXTENSION_INFORMATION),
            attestation_types: f
                .rep_enum(Tag::ATTESTATION_TYPE)?
                .into_iter()
                .map(AttestationType)
                .collect(),
            rng_parameters: f.rep_items(Tag::RNG_PARAMETERS),
            profile_information: f.rep_items(Tag::PROFILE_INFORMATION),
            validation_information: f.rep_items(Tag::VALIDATION_INFORMATION),
            capability_information: f.rep_items(Tag::CAPABILITY_INFORMATION),
            client_registration_methods: f
                .rep_enum(Tag::CLIENT_REGISTRATION_METHOD)?
                .into_iter()
                .map(ClientRegistrationMethod)
                .collect(),
            defaults_information: f.optional(Tag::DEFAULTS_INFORMATION).cloned(),
            protection_storage_masks: f.optional(Tag::PROTECTION_STORAGE_MASKS).cloned(),
        };
        f.finish()?;
        Ok(r)
    }

    fn to_item(&self) -> Item {
        let ops: Vec<u32> = self.operations.iter().map(|o| o.0).collect();
        let types: Vec<u32> = self.object_types.iter().map(|o| o.0).collect();
        let att: Vec<u32> = self.attestation_types.iter().map(|o| o.0).collect();
        let crm: Vec<u32> = self
            .client_registration_methods
            .iter()
            .map(|o| o.0)
            .collect();
        Builder::new()
            .enums(Tag::OPERATION, &ops)
            .enums(Tag::OBJECT_TYPE, &types)
            .opt_text(
                Tag::VENDOR_IDENTIFICATION,
                self.vendor_identification.as_deref(),
            )
            .opt_item(self.server_information.clone())
            .texts(Tag::APPLICATION_NAMESPACE, &self.application_namespaces)
            .items(self.extension_information.iter().cloned())
            .enums(Tag::ATTESTATION_TYPE, &att)
            .items(self.rng_parameters.iter().cloned())
            .items(self.profile_information.iter().cloned())
            .items(self.validation_information.iter().cloned())
            .items(self.capability_information.iter().cloned())
            .enums(Tag::CLIENT_REGISTRATION_METHOD, &crm)
            .opt_item(self.defaults_information.clone())
            .opt_item(self.protection_storage_masks.clone())
            .build(Tag::RESPONSE_PAYLOAD)
    }
}

/// Interop request (KMIP 2.0 §6.1.28): a test harness marks the beginning, end or reset of a
/// test case on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteropRequest {
    pub interop_function: InteropFunction,
    pub interop_identifier: String,
}

/// Log request (KMIP 2.0 §6.1.29): a message the client asks the server to write to its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRequest {
    pub log_message: String,
}

/// A request payload, typed by operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPayload {
    DiscoverVersions(DiscoverVersionsRequest),
    Query(QueryRequest),
    Interop(InteropRequest),
    Log(LogRequest),
    Create(CreateRequest),
    CreateKeyPair(CreateKeyPairRequest),
    Register(RegisterRequest),
    Get(GetRequest),
    GetAttributes(GetAttributesRequest),
    GetAttributeList(GetAttributeListRequest),
    AddAttribute(AddAttributeRequest),
    ModifyAttribute(ModifyAttributeRequest),
    DeleteAttribute(DeleteAttributeRequest),
    SetAttribute(SetAttributeRequest),
    Activate(IdentifierPayload),
    Revoke(RevokeRequest),
    Destroy(IdentifierPayload),
    Check(CheckPayload),
    Locate(LocateRequest),
    ReKey(ReKeyRequest),
    Encrypt(EncryptRequest),
    Decrypt(DecryptRequest),
    Mac(MacRequest),
    MacVerify(MacRequest),
    RngRetrieve(RngRetrieveRequest),
    Hash(HashRequest),
    Sign(SignRequest),
    SignatureVerify(SignRequest),
    /// An operation whose payload is not typed yet: the tree as received.
    Other(Item),
}

impl RequestPayload {
    pub fn from_item(operation: Operation, item: &Item) -> Result<Self, KmipError> {
        Ok(match operation {
            Operation::DISCOVER_VERSIONS => {
                RequestPayload::DiscoverVersions(DiscoverVersionsRequest {
                    protocol_versions: versions_from(item, Tag::REQUEST_PAYLOAD)?,
                })
            }
            Operation::QUERY => {
                let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
                let query_functions = f
                    .repeated(Tag::QUERY_FUNCTION)
                    .into_iter()
                    .map(|i| as_enum(i).map(QueryFunction))
                    .collect::<Result<Vec<_>, _>>()?;
                f.finish()?;
                RequestPayload::Query(QueryRequest { query_functions })
            }
            Operation::INTEROP => {
                let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
                let interop_function = InteropFunction(f.req_enum(Tag::INTEROP_FUNCTION)?);
                let interop_identifier = f.req_text(Tag::INTEROP_IDENTIFIER)?;
                f.finish()?;
                RequestPayload::Interop(InteropRequest {
                    interop_function,
                    interop_identifier,
                })
            }
            Operation::LOG => {
                let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
                let log_message = f.req_text(Tag::LOG_MESSAGE)?;
                f.finish()?;
                RequestPayload::Log(LogRequest { log_message })
            }
            Operation::CREATE => RequestPayload::Create(CreateRequest::from_item(item)?),
            Operation::CREATE_KEY_PAIR => {
                RequestPayload::CreateKeyPair(CreateKeyPairRequest::from_item(item)?)
            }
            Operation::REGISTER => RequestPayload::Register(RegisterRequest::from_item(item)?),
            Operation::GET => RequestPayload::Get(GetRequest::from_item(item)?),
            Operation::GET_ATTRIBUTES => {
                RequestPayload::GetAttributes(GetAttributesRequest::from_item(item)?)
            }
            Operation::GET_ATTRIBUTE_LIST => {
                RequestPayload::GetAttributeList(GetAttributeListRequest::from_item(item)?)
            }
            Operation::ADD_ATTRIBUTE => {
                RequestPayload::AddAttribute(AddAttributeRequest::from_item(item)?)
            }
            Operation::MODIFY_ATTRIBUTE => {
                RequestPayload::ModifyAttribute(ModifyAttributeRequest::from_item(item)?)
            }
            Operation::DELETE_ATTRIBUTE => {
                RequestPayload::DeleteAttribute(DeleteAttributeRequest::from_item(item)?)
            }
            Operation::SET_ATTRIBUTE => {
                RequestPayload::SetAttribute(SetAttributeRequest::from_item(item)?)
            }
            Operation::ACTIVATE => {
                RequestPayload::Activate(IdentifierPayload::from_item(item, Tag::REQUEST_PAYLOAD)?)
            }
            Operation::REVOKE => RequestPayload::Revoke(RevokeRequest::from_item(item)?),
            Operation::DESTROY => {
                RequestPayload::Destroy(IdentifierPayload::from_item(item, Tag::REQUEST_PAYLOAD)?)
            }
            Operation::CHECK => {
                RequestPayload::Check(CheckPayload::from_item(item, Tag::REQUEST_PAYLOAD)?)
            }
            Operation::LOCATE => RequestPayload::Locate(LocateRequest::from_item(item)?),
            Operation::RE_KEY => RequestPayload::ReKey(ReKeyRequest::from_item(item)?),
            Operation::ENCRYPT => RequestPayload::Encrypt(EncryptRequest::from_item(item)?),
            Operation::DECRYPT => RequestPayload::Decrypt(DecryptRequest::from_item(item)?),
            Operation::MAC => RequestPayload::Mac(MacRequest::from_item(item)?),
            Operation::MAC_VERIFY => RequestPayload::MacVerify(MacRequest::from_item(item)?),
            Operation::RNG_RETRIEVE => {
                RequestPayload::RngRetrieve(RngRetrieveRequest::from_item(item)?)
            }
            Operation::HASH => RequestPayload::Hash(HashRequest::from_item(item)?),
            Operation::SIGN => RequestPayload::Sign(SignRequest::from_item(item)?),
            Operation::SIGNATURE_VERIFY => {
                RequestPayload::SignatureVerify(SignRequest::from_item(item)?)
            }
            _ => {
                Fields::open(item, Tag::REQUEST_PAYLOAD)?;
                RequestPayload::Other(item.clone())
            }
        })
    }

    pub fn to_item(&self) -> Item {
        match self {
            RequestPayload::Interop(r) => Builder::new()
                .enumeration(Tag::INTEROP_FUNCTION, r.interop_function.0)
                .opt_text(Tag::INTEROP_IDENTIFIER, Some(&r.interop_identifier))
                .build(Tag::REQUEST_PAYLOAD),
            RequestPayload::Log(r) => Builder::new()
                .opt_text(Tag::LOG_MESSAGE, Some(&r.log_message))
                .build(Tag::REQUEST_PAYLOAD),
            RequestPayload::DiscoverVersions(r) => {
                versions_to(&r.protocol_versions, Tag::REQUEST_PAYLOAD)
            }
            RequestPayload::Query(q) => {
                let f: Vec<u32> = q.query_functions.iter().map(|f| f.0).collect();
                Builder::new()
                    .enums(Tag::QUERY_FUNCTION, &f)
                    .build(Tag::REQUEST_PAYLOAD)
            }
            RequestPayload::Create(r) => r.to_item(),
            RequestPayload::CreateKeyPair(r) => r.to_item(),
            RequestPayload::Register(r) => r.to_item(),
            RequestPayload::Get(r) => r.to_item(),
            RequestPayload::GetAttributes(r) => r.to_item(),
            RequestPayload::GetAttributeList(r) => r.to_item(),
            RequestPayload::AddAttribute(r) => r.to_item(),
            RequestPayload::ModifyAttribute(r) => r.to_item(),
            RequestPayload::DeleteAttribute(r) => r.to_item(),
            RequestPayload::SetAttribute(r) => r.to_item(),
            RequestPayload::Activate(r) | RequestPayload::Destroy(r) => {
                r.to_item(Tag::REQUEST_PAYLOAD)
            }
            RequestPayload::Revoke(r) => r.to_item(),
            RequestPayload::Check(r) => r.to_item(Tag::REQUEST_PAYLOAD),
            RequestPayload::Locate(r) => r.to_item(),
            RequestPayload::ReKey(r) => r.to_item(),
            RequestPayload::Encrypt(r) => r.to_item(),
            RequestPayload::Decrypt(r) => r.to_item(),
            RequestPayload::Mac(r) | RequestPayload::MacVerify(r) => r.to_item(),
            RequestPayload::RngRetrieve(r) => r.to_item(),
            RequestPayload::Hash(r) => r.to_item(),
            RequestPayload::Sign(r) | RequestPayload::SignatureVerify(r) => r.to_item(),
            RequestPayload::Other(item) => item.clone(),
        }
    }
}

/// An empty response payload (Interop, Log, and operations whose answer has no fields).
pub fn empty_response_payload() -> ResponsePayload {
    ResponsePayload::Other(Item::structure(Tag::RESPONSE_PAYLOAD, Vec::new()))
}

/// A response payload, typed by operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponsePayload {
    DiscoverVersions(DiscoverVersionsResponse),
    Query(Box<QueryResponse>),
    Create(CreateResponse),
    CreateKeyPair(CreateKeyPairResponse),
    Register(RegisterResponse),
    Get(Box<GetResponse>),
    GetAttributes(GetAttributesResponse),
    GetAttributeList(GetAttributeListResponse),
    /// Add, Modify and Delete Attribute.
    AttributeEdit(AttributeEditResponse),
    /// Activate, Revoke, Destroy and Set Attribute: the identifier only.
    Identifier(IdentifierPayload),
    Check(CheckPayload),
    Locate(LocateResponse),
    ReKey(ReKeyResponse),
    Encrypt(EncryptResponse),
    /// Decrypt, MAC, RNG Retrieve and Hash: the output bytes.
    Data(DataResponse),
    MacVerify(MacVerifyResponse),
    Sign(SignResponse),
    SignatureVerify(SignatureVerifyResponse),
    /// An operation whose payload is not typed yet: the tree as built or received.
    Other(Item),
}

impl ResponsePayload {
    /// `operation` is the batch item's (absent only in responses to unparsable requests).
    pub fn from_item(operation: Option<Operation>, item: &Item) -> Result<Self, KmipError> {
        Ok(match operation {
            Some(Operation::DISCOVER_VERSIONS) => {
                ResponsePayload::DiscoverVersions(DiscoverVersionsResponse {
                    protocol_versions: versions_from(item, Tag::RESPONSE_PAYLOAD)?,
                })
            }
            Some(Operation::QUERY) => {
                ResponsePayload::Query(Box::new(QueryResponse::from_item(item)?))
            }
            Some(Operation::CREATE) => ResponsePayload::Create(CreateResponse::from_item(item)?),
            Some(Operation::CREATE_KEY_PAIR) => {
                ResponsePayload::CreateKeyPair(CreateKeyPairResponse::from_item(item)?)
            }
            Some(Operation::REGISTER) => {
                ResponsePayload::Register(RegisterResponse::from_item(item)?)
            }
            Some(Operation::GET) => ResponsePayload::Get(Box::new(GetResponse::from_item(item)?)),
            Some(Operation::GET_ATTRIBUTES) => {
                ResponsePayload::GetAttributes(GetAttributesResponse::from_item(item)?)
            }
            Some(Operation::GET_ATTRIBUTE_LIST) => {
                ResponsePayload::GetAttributeList(GetAttributeListResponse::from_item(item)?)
            }
            Some(
                Operation::ADD_ATTRIBUTE
                | Operation::MODIFY_ATTRIBUTE
                | Operation::DELETE_ATTRIBUTE,
            ) => ResponsePayload::AttributeEdit(AttributeEditResponse::from_item(item)?),
            Some(
                Operation::ACTIVATE
                | Operation::REVOKE
                | Operation::DESTROY
                | Operation::SET_ATTRIBUTE,
            ) => ResponsePayload::Identifier(IdentifierPayload::from_item(
                item,
                Tag::RESPONSE_PAYLOAD,
            )?),
            Some(Operation::CHECK) => {
                ResponsePayload::Check(CheckPayload::from_item(item, Tag::RESPONSE_PAYLOAD)?)
            }
            Some(Operation::LOCATE) => ResponsePayload::Locate(LocateResponse::from_item(item)?),
            Some(Operation::RE_KEY) => ResponsePayload::ReKey(ReKeyResponse::from_item(item)?),
            Some(Operation::ENCRYPT) => ResponsePayload::Encrypt(EncryptResponse::from_item(item)?),
            Some(Operation::DECRYPT | Operation::RNG_RETRIEVE | Operation::HASH) => {
                ResponsePayload::Data(DataResponse::from_item(item, Tag::DATA)?)
            }
            Some(Operation::MAC) => {
                ResponsePayload::Data(DataResponse::from_item(item, Tag::MAC_DATA)?)
            }
            Some(Operation::MAC_VERIFY) => {
                ResponsePayload::MacVerify(MacVerifyResponse::from_item(item)?)
            }
            Some(Operation::SIGN) => ResponsePayload::Sign(SignResponse::from_item(item)?),
            Some(Operation::SIGNATURE_VERIFY) => {
                ResponsePayload::SignatureVerify(SignatureVerifyResponse::from_item(item)?)
            }
            _ => {
                Fields::open(item, Tag::RESPONSE_PAYLOAD)?;
                ResponsePayload::Other(item.clone())
            }
        })
    }

    pub fn to_item(&self) -> Item {
        match self {
            ResponsePayload::DiscoverVersions(r) => {
                versions_to(&r.protocol_versions, Tag::RESPONSE_PAYLOAD)
            }
            ResponsePayload::Query(q) => q.to_item(),
            ResponsePayload::Create(r) => r.to_item(),
            ResponsePayload::CreateKeyPair(r) => r.to_item(),
            ResponsePayload::Register(r) => r.to_item(),
            ResponsePayload::Get(r) => r.to_item(),
            ResponsePayload::GetAttributes(r) => r.to_item(),
            ResponsePayload::GetAttributeList(r) => r.to_item(),
            ResponsePayload::AttributeEdit(r) => r.to_item(),
            ResponsePayload::Identifier(r) => r.to_item(Tag::RESPONSE_PAYLOAD),
            ResponsePayload::Check(r) => r.to_item(Tag::RESPONSE_PAYLOAD),
            ResponsePayload::Locate(r) => r.to_item(),
            ResponsePayload::ReKey(r) => r.to_item(),
            ResponsePayload::Encrypt(r) => r.to_item(),
            ResponsePayload::Data(r) => r.to_item(),
            ResponsePayload::MacVerify(r) => r.to_item(),
            ResponsePayload::Sign(r) => r.to_item(),
            ResponsePayload::SignatureVerify(r) => r.to_item(),
            ResponsePayload::Other(item) => item.clone(),
        }
    }
}
