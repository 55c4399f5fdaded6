//! The operations: one handler per KMIP operation behind one plain `match`, given the client's
//! identity with every request. Here live the batch rules (item by item, each answer repeating
//! the operation and Unique Batch Item ID), the response header (the request's protocol version,
//! a Time Stamp), and the one table from [`OpError`] to Result Reason.
//!
//! What does not live here: bytes, framing, TLS and HTTP (`server`), typed messages (`kmip`).
//! `handle` is synchronous: the server runs it on a blocking thread, so handlers that call the
//! HSM or the store simply call them.
//!
//! - [`discover_versions`], [`query`], [`interop`], [`log`]: the protocol operations;
//! - one file per object operation: [`create`], [`register`], [`get`], [`get_attributes`],
//!   [`get_attribute_list`], [`add_attribute`], [`modify_attribute`], [`delete_attribute`],
//!   [`set_attribute`], [`activate`], [`revoke`], [`destroy`], [`check`], [`locate`], [`rekey`];
//! - the cryptographic operations, run in the HSM: [`encrypt`], [`decrypt`], [`mac`],
//!   [`mac_verify`], [`sign`], [`signature_verify`], [`rng_retrieve`], [`hash`]; [`crypto`]:
//!   the rules and choices they share; [`signature`]: signature algorithms and RSA paddings;
//!   [`ecdsa_der`]: ECDSA signatures between PKCS#11 and DER; [`stream`]: multi-part Encrypt
//!   and Decrypt;
//! - [`objects`]: the HSM and store behind them, ownership, date-driven states, the record
//!   mapping; [`new_object`], [`attribute_edit`], [`attribute_rules`]: what they share;
//! - [`error`]: [`OpError`] and its Result Reasons, per protocol version;
//! - [`identity`]: [`Identity`], who the client is (from its certificate);
//! - [`policy`]: the FIPS approved-algorithm [`Policy`], applied to every batch item before
//!   dispatch and offered to the handlers (see its documentation for what they must call).

pub mod activate;
pub mod add_attribute;
pub mod attribute_edit;
pub mod attribute_rules;
pub mod check;
pub mod create;
pub mod create_key_pair;
pub mod crypto;
pub mod decrypt;
pub mod delete_attribute;
pub mod destroy;
pub mod discover_versions;
pub mod ecdsa_der;
pub mod encrypt;
pub mod error;
pub mod get;
pub mod get_attribute_list;
pub mod get_attributes;
pub mod get_wrapped;
pub mod hash;
pub mod identity;
pub mod interop;
pub mod key_formats;
pub mod locate;
pub mod log;
pub mod mac;
pub mod mac_verify;
pub mod modify_attribute;
pub mod new_object;
pub mod objects;
pub mod policy;
pub mod query;
pub mod register;
pub mod register_key;
pub mod rekey;
pub mod revoke;
pub mod rng_retrieve;
pub mod set_attribute;
pub mod sign;
pub mod signature;
pub mod signature_verify;
pub mod stream;

use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{field, info, info_span};

use crate::kmip::message::{ProtocolVersion, RequestBatchItem};
use crate::kmip::{RequestMessage, RequestPayload, ResponseBatchItem, ResponseHeader};
use crate::kmip::{ResponseMessage, ResponsePayload};
use crate::ttlv::enums::{BatchErrorContinuationOption, Operation, ResultReason, ResultStatus};
use crate::ttlv::tables;

pub use error::OpError;
pub use identity::Identity;
pub use policy::Policy;

/// The protocol versions this server speaks, preferred first (the Discover Versions answer).
pub const PROTOCOL_VERSIONS: [ProtocolVersion; 7] = [
    ProtocolVersion::new(2, 1),
    ProtocolVersion::new(2, 0),
    ProtocolVersion::new(1, 4),
    ProtocolVersion::new(1, 3),
    ProtocolVersion::new(1, 2),
    ProtocolVersion::new(1, 1),
    ProtocolVersion::new(1, 0),
];

/// The operations [`Service::handle`] implements without an object backend — what Query
/// reports for such a service. A unit test checks that each one is dispatched and that the
/// others answer Operation Not Supported.
pub const OPERATIONS: &[Operation] = &[
    Operation::QUERY,
    Operation::DISCOVER_VERSIONS,
    Operation::LOG,
    Operation::INTEROP,
];

/// The object operations, answered when the service has its HSM and store
/// ([`Service::with_objects`]).
pub const OBJECT_OPERATIONS: &[Operation] = &[
    Operation::CREATE,
    Operation::CREATE_KEY_PAIR,
    Operation::REGISTER,
    Operation::LOCATE,
    Operation::RE_KEY,
    Operation::CHECK,
    Operation::GET,
    Operation::GET_ATTRIBUTES,
    Operation::GET_ATTRIBUTE_LIST,
    Operation::ADD_ATTRIBUTE,
    Operation::MODIFY_ATTRIBUTE,
    Operation::DELETE_ATTRIBUTE,
    Operation::SET_ATTRIBUTE,
    Operation::ACTIVATE,
    Operation::REVOKE,
    Operation::DESTROY,
    Operation::ENCRYPT,
    Operation::DECRYPT,
    Operation::MAC,
    Operation::MAC_VERIFY,
    Operation::SIGN,
    Operation::SIGNATURE_VERIFY,
    Operation::RNG_RETRIEVE,
    Operation::HASH,
];

/// What the server says about itself in Query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Vendor Identification.
    pub vendor_identification: String,
    /// Server Name and Product Name.
    pub product_name: String,
    /// Server Version.
    pub version: String,
}

impl Default for ServerInfo {
    fn default() -> Self {
        ServerInfo {
            vendor_identification: "hsmkms".into(),
            product_name: "hsmkms".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Per batch item: who asks, whether they are an admin, the protocol version the answer is
/// shaped in, and the ID placeholder left by an earlier item of the same request.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub identity: &'a Identity,
    pub version: ProtocolVersion,
    /// `[access] admins` lists the identity: it sees and manages every object.
    pub admin: bool,
    /// The ID placeholder (KMIP 1.4 §6.2): the identifier of the last object created,
    /// registered or located alone in this request.
    pub placeholder: Option<String>,
}

impl Context<'_> {
    /// The object an item is about: its Unique Identifier, or the ID placeholder.
    pub fn uid(&self, given: Option<&str>) -> Result<String, OpError> {
        given
            .map(str::to_owned)
            .or_else(|| self.placeholder.clone())
            .ok_or(OpError::MissingIdentifier)
    }
}

/// Something the service needs before it can answer (the HSM session pool, the store): asked by
/// `GET /readyz`.
pub trait ReadinessProbe: Send + Sync {
    /// What is checked, for the answer (`hsm`, `store`).
    fn name(&self) -> &'static str;
    /// Ok when usable; otherwise why not, in words for an operator.
    fn check(&self) -> Result<(), String>;
}

/// The KMIP service: the protocol operations, and the object operations once it has its HSM
/// and store ([`Service::with_objects`]).
#[derive(Default)]
pub struct Service {
    info: ServerInfo,
    admins: Vec<Identity>,
    probes: Vec<Box<dyn ReadinessProbe>>,
    policy: Policy,
    objects: Option<objects::Objects>,
    crypto: crate::config::CryptoConfig,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("info", &self.info)
            .field("admins", &self.admins)
            .field("objects", &self.objects)
            .field(
                "probes",
                &self.probes.iter().map(|p| p.name()).collect::<Vec<_>>(),
            )
            .field("policy", &self.policy.mode())
            .finish()
    }
}

impl Service {
    pub fn new(info: ServerInfo, admins: Vec<Identity>) -> Self {
        Service {
            info,
            admins,
            probes: Vec::new(),
            policy: Policy::off(),
            objects: None,
            crypto: crate::config::CryptoConfig::default(),
        }
    }

    /// Sets the `[crypto]` policy (ECB, non-extractable groups).
    pub fn with_crypto_policy(mut self, crypto: crate::config::CryptoConfig) -> Self {
        if let Some(o) = &mut self.objects {
            o.crypto = crypto.clone();
        }
        self.crypto = crypto;
        self
    }

    /// Gives the service its HSM and store: the object operations are answered from now on.
    pub fn with_objects(
        mut self,
        hsm: std::sync::Arc<crate::hsm::Hsm>,
        store: std::sync::Arc<crate::store::SledStore>,
    ) -> Self {
        self.objects = Some(objects::Objects {
            hsm,
            store,
            crypto: self.crypto.clone(),
            streams: Default::default(),
        });
        self
    }

    /// The operations this service answers (what Query lists).
    pub fn operations(&self) -> Vec<Operation> {
        let mut ops = OPERATIONS.to_vec();
        if self.objects.is_some() {
            ops.extend_from_slice(OBJECT_OPERATIONS);
        }
        ops
    }

    /// The object types this service manages (what Query Objects lists).
    pub fn object_types(&self) -> &'static [crate::ttlv::enums::ObjectType] {
        if self.objects.is_some() {
            query::OBJECT_TYPES
        } else {
            &[]
        }
    }

    /// Sets the FIPS algorithm policy (off by default).
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The FIPS algorithm policy: handlers call `check_key` / `check_operation` on it.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Adds a readiness check (`GET /readyz` is ready only when every probe is).
    pub fn with_probe(mut self, probe: Box<dyn ReadinessProbe>) -> Self {
        self.probes.push(probe);
        self
    }

    /// Ok when every probe is; otherwise the first failure, named.
    pub fn readiness(&self) -> Result<(), String> {
        for p in &self.probes {
            p.check().map_err(|why| format!("{}: {why}", p.name()))?;
        }
        Ok(())
    }

    /// Whether `identity` is one of `[access] admins`.
    pub fn is_admin(&self, identity: &Identity) -> bool {
        self.admins.contains(identity)
    }

    /// Answers one request: each batch item in order (KMIP 1.4 §7, 2.1 §8; a Batch Order Option
    /// of false allows any order, and in order is one). With Batch Error Continuation Option
    /// Stop (the default) processing stops at the first failed item and only the items
    /// processed are answered; with Continue every item is answered. Undo is not implemented:
    /// a request of several items asking for it is answered Feature Not Supported for every
    /// item and nothing is done (with one item, Undo and Stop are the same and it is
    /// processed). Create, Register, ReKey and a Locate that finds one object set the ID
    /// placeholder for later items. Client and Server Correlation Values (1.4+) are for log
    /// correlation: they go into the request's log span, not into the answer (the OASIS 2.1
    /// vectors expect response headers without them).
    /// Asynchronous and Attestation indicators are capabilities: answers are synchronous.
    pub fn handle(&self, identity: &Identity, request: RequestMessage) -> ResponseMessage {
        let version = request.header.protocol_version;
        if !version_supported(version) {
            return self.unsupported_version(identity, request);
        }
        let mut ctx = Context {
            identity,
            version,
            admin: self.is_admin(identity),
            placeholder: None,
        };
        let continue_on_error = request.header.batch_error_continuation_option
            == Some(BatchErrorContinuationOption::CONTINUE);
        let span = info_span!(
            "request",
            client_correlation = field::Empty,
            server_correlation = field::Empty
        );
        if let Some(c) = &request.header.client_correlation_value {
            span.record("client_correlation", field::debug(short(c)));
        }
        if let Some(c) = &request.header.server_correlation_value {
            span.record("server_correlation", field::debug(short(c)));
        }
        let _enter = span.enter();
        if request.header.batch_error_continuation_option
            == Some(BatchErrorContinuationOption::UNDO)
            && request.batch_items.len() > 1
        {
            let answers = request
                .batch_items
                .into_iter()
                .map(|item| {
                    let e = OpError::NotSupported(
                        "Batch Error Continuation Option Undo is not supported: send Stop or Continue".into(),
                    );
                    ResponseBatchItem::failure(
                        Some(item.operation),
                        item.unique_batch_item_id,
                        e.reason(version),
                        e.to_string(),
                    )
                })
                .collect();
            return response(version, answers);
        }
        let mut answers = Vec::with_capacity(request.batch_items.len());
        for item in request.batch_items {
            let answer = self.handle_item(&ctx, item);
            if let Some(uid) = placeholder_of(&answer) {
                ctx.placeholder = Some(uid);
            }
            let failed = answer.result_status != ResultStatus::SUCCESS;
            answers.push(answer);
            if failed && !continue_on_error {
                break;
            }
        }
        let answers = limit_size(answers, request.header.maximum_response_size, version);
        response(version, answers)
    }

    /// One batch item, in its own span (operation, result).
    fn handle_item(&self, ctx: &Context<'_>, item: RequestBatchItem) -> ResponseBatchItem {
        let operation = item.operation;
        let span = info_span!(
            "item",
            operation = operation_name(operation),
            result = field::Empty
        );
        let _enter = span.enter();
        let id = item.unique_batch_item_id.clone();
        let answer = match self.dispatch(ctx, item) {
            Ok(payload) => ResponseBatchItem::success(operation, id, Some(payload)),
            Err(e) => ResponseBatchItem::failure(
                Some(operation),
                id,
                e.reason(ctx.version),
                e.to_string(),
            ),
        };
        match answer.result_reason {
            None => {
                span.record("result", "Success");
                info!(identity = %ctx.identity, "success");
            }
            Some(reason) => {
                let reason = enum_name("ResultReason", reason.0);
                span.record("result", reason);
                info!(identity = %ctx.identity, reason, "failed");
            }
        }
        answer
    }

    /// The one dispatch: an operation not listed answers Operation Not Supported.
    fn dispatch(
        &self,
        ctx: &Context<'_>,
        item: RequestBatchItem,
    ) -> Result<ResponsePayload, OpError> {
        self.policy.check_request(item.operation, &item.payload)?;
        let o = match (item.operation, item.payload) {
            (Operation::DISCOVER_VERSIONS, RequestPayload::DiscoverVersions(r)) => {
                return Ok(discover_versions::handle(ctx, &r))
            }
            (Operation::QUERY, RequestPayload::Query(r)) => {
                return Ok(query::handle(ctx, self, &r))
            }
            (Operation::INTEROP, RequestPayload::Interop(r)) => {
                return Ok(interop::handle(ctx, &r))
            }
            (Operation::LOG, RequestPayload::Log(r)) => return Ok(log::handle(ctx, &r)),
            (operation, payload) => match &self.objects {
                Some(o) => (o, operation, payload),
                None => return Err(OpError::OperationNotSupported(operation)),
            },
        };
        match o {
            (o, _, RequestPayload::Create(r)) => create::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::CreateKeyPair(r)) => {
                create_key_pair::handle(ctx, o, &self.policy, &r)
            }
            (o, _, RequestPayload::Register(r)) => register::handle(ctx, o, &self.policy, r),
            (o, _, RequestPayload::Get(r)) => get::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::GetAttributes(r)) => get_attributes::handle(ctx, o, &r),
            (o, _, RequestPayload::GetAttributeList(r)) => get_attribute_list::handle(ctx, o, &r),
            (o, _, RequestPayload::AddAttribute(r)) => add_attribute::handle(ctx, o, &r),
            (o, _, RequestPayload::ModifyAttribute(r)) => modify_attribute::handle(ctx, o, &r),
            (o, _, RequestPayload::DeleteAttribute(r)) => delete_attribute::handle(ctx, o, &r),
            (o, _, RequestPayload::SetAttribute(r)) => set_attribute::handle(ctx, o, &r),
            (o, _, RequestPayload::Activate(r)) => activate::handle(ctx, o, &r),
            (o, _, RequestPayload::Revoke(r)) => revoke::handle(ctx, o, &r),
            (o, _, RequestPayload::Destroy(r)) => destroy::handle(ctx, o, &r),
            (o, _, RequestPayload::Check(r)) => check::handle(ctx, o, &r),
            (o, _, RequestPayload::Locate(r)) => locate::handle(ctx, o, &r),
            (o, _, RequestPayload::ReKey(r)) => rekey::handle(ctx, o, &r),
            (o, _, RequestPayload::Encrypt(r)) => encrypt::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::Decrypt(r)) => decrypt::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::Mac(r)) => mac::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::MacVerify(r)) => mac_verify::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::RngRetrieve(r)) => rng_retrieve::handle(o, &r),
            (o, _, RequestPayload::Hash(r)) => hash::handle(o, &r),
            (o, _, RequestPayload::Sign(r)) => sign::handle(ctx, o, &self.policy, &r),
            (o, _, RequestPayload::SignatureVerify(r)) => {
                signature_verify::handle(ctx, o, &self.policy, &r)
            }
            (_, operation, _) => Err(OpError::OperationNotSupported(operation)),
        }
    }

    /// A request in a protocol version this server does not speak: Discover Versions is still
    /// answered (that is how a client finds a common version); any other item fails with
    /// Unsupported Protocol Version (2.x) or Invalid Message (1.x has no better reason).
    fn unsupported_version(&self, identity: &Identity, request: RequestMessage) -> ResponseMessage {
        let version = request.header.protocol_version;
        let ctx = Context {
            identity,
            version,
            admin: self.is_admin(identity),
            placeholder: None,
        };
        let answers = request
            .batch_items
            .into_iter()
            .map(|item| {
                if item.operation == Operation::DISCOVER_VERSIONS {
                    return self.handle_item(&ctx, item);
                }
                let e = OpError::UnsupportedProtocolVersion(version);
                ResponseBatchItem::failure(
                    Some(item.operation),
                    item.unique_batch_item_id,
                    e.reason(version),
                    e.to_string(),
                )
            })
            .collect();
        response(version, answers)
    }
}

/// Whether the server answers requests in `version`.
pub fn version_supported(version: ProtocolVersion) -> bool {
    PROTOCOL_VERSIONS.contains(&version)
}

/// The response to a message that could not be read as a request: Invalid Message for each
/// batch item the server could recognise (repeating its operation and Unique Batch Item ID), or
/// a single item without operation when none could be. `version` is the one sniffed from the
/// header; a message whose header could not be read is answered in KMIP 1.0, whose response
/// layout every 1.x and 2.x client reads.
pub fn invalid_message(
    version: Option<ProtocolVersion>,
    items: Vec<(Option<Operation>, Option<Vec<u8>>)>,
    message: &str,
) -> ResponseMessage {
    let version = version
        .map(answer_version)
        .unwrap_or(ProtocolVersion::new(1, 0));
    let text = format!("invalid message: {message}");
    let answers: Vec<ResponseBatchItem> = if items.is_empty() {
        vec![ResponseBatchItem::failure(
            None,
            None,
            ResultReason::INVALID_MESSAGE,
            text,
        )]
    } else {
        items
            .into_iter()
            .map(|(op, id)| {
                ResponseBatchItem::failure(op, id, ResultReason::INVALID_MESSAGE, text.clone())
            })
            .collect()
    };
    info!(
        version = %version,
        items = answers.len(),
        "answered an unreadable request with Invalid Message"
    );
    response(version, answers)
}

/// The version to answer in for a sniffed version: itself if supported, else the newest
/// supported minor of the same major, else 1.0.
fn answer_version(v: ProtocolVersion) -> ProtocolVersion {
    if version_supported(v) {
        return v;
    }
    PROTOCOL_VERSIONS
        .iter()
        .copied()
        .find(|s| s.major == v.major && s.minor < v.minor)
        .unwrap_or(ProtocolVersion::new(1, 0))
}

fn response(version: ProtocolVersion, batch_items: Vec<ResponseBatchItem>) -> ResponseMessage {
    ResponseMessage {
        header: ResponseHeader {
            protocol_version: version,
            time_stamp: now(),
            nonce: None,
            server_hashed_password: None,
            attestation_types: Vec::new(),
            client_correlation_value: None,
            server_correlation_value: None,
            batch_count: i32::try_from(batch_items.len()).unwrap_or(i32::MAX),
        },
        batch_items,
    }
}

/// Longest correlation value logged, in characters (a client cannot flood the logs with it).
const MAX_LOGGED_CORRELATION: usize = 64;

/// A correlation value as logged: at most [`MAX_LOGGED_CORRELATION`] characters (and logged
/// quoted and escaped, so it cannot forge a log line).
fn short(value: &str) -> &str {
    value
        .char_indices()
        .nth(MAX_LOGGED_CORRELATION)
        .and_then(|(i, _)| value.get(..i))
        .unwrap_or(value)
}

/// Maximum Response Size: when the encoded answer would exceed what the client accepts, every
/// item is replaced by Response Too Large (as the OASIS MSGENC vectors expect).
fn limit_size(
    answers: Vec<ResponseBatchItem>,
    maximum: Option<i32>,
    version: ProtocolVersion,
) -> Vec<ResponseBatchItem> {
    let Some(max) = maximum.and_then(|m| usize::try_from(m).ok()) else {
        return answers;
    };
    let size: usize = answers
        .iter()
        .map(|a| {
            a.payload
                .as_ref()
                .map_or(0, |p| crate::ttlv::to_vec(&p.to_item()).len())
        })
        .sum();
    if size <= max {
        return answers;
    }
    answers
        .into_iter()
        .map(|a| {
            let e = OpError::ResponseTooLarge { size, maximum: max };
            ResponseBatchItem::failure(
                a.operation,
                a.unique_batch_item_id,
                e.reason(version),
                e.to_string(),
            )
        })
        .collect()
}

/// The identifier a successful item leaves as the ID placeholder: Create's and Register's, and
/// a Locate's when it found exactly one object.
fn placeholder_of(answer: &ResponseBatchItem) -> Option<String> {
    if answer.result_status != ResultStatus::SUCCESS {
        return None;
    }
    match answer.payload.as_ref()? {
        ResponsePayload::Create(c) => Some(c.unique_identifier.clone()),
        // KMIP 1.4 §4.2: the private key's identifier.
        ResponsePayload::CreateKeyPair(c) => Some(c.private_key_unique_identifier.clone()),
        ResponsePayload::Register(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::ReKey(r) => Some(r.unique_identifier.clone()),
        ResponsePayload::Locate(l) if l.unique_identifiers.len() == 1 => {
            l.unique_identifiers.first().cloned()
        }
        _ => None,
    }
}

/// Seconds since the Unix epoch, for Time Stamp.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The name of an enumeration value for logs (`Query`, `InvalidMessage`), or `0x…` when
/// unknown.
pub fn enum_name(table: &str, value: u32) -> &'static str {
    tables::enum_name(tables::EnumKind::Named(table), value, None).unwrap_or("(vendor value)")
}

/// The operation's name for logs.
pub fn operation_name(operation: Operation) -> &'static str {
    enum_name("Operation", operation.0)
}

#[cfg(test)]
mod tests;
