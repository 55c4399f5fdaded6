//! Query (KMIP 1.4 §4.25, 2.1 §6.1.37). Never fails; answers truthfully, only what the server
//! implements:
//! - Query Operations: the operations the service answers ([`Service::operations`]) that the
//!   client's protocol version names (Log and Interop are 2.0 operations; Discover Versions
//!   arrived in 1.1);
//! - Query Objects: the object types the server manages ([`OBJECT_TYPES`], none without an
//!   object backend);
//! - Query Server Information: Vendor Identification and a Server Information structure (Server
//!   Name, Server Version, Product Name, where the client's version defines those tags);
//! - every other function (namespaces, extensions, attestation, RNGs, validations, profiles,
//!   capabilities, …): nothing to report, so nothing is listed.

use crate::kmip::compat::{operation_known, tag_known};
use crate::kmip::fields::Builder;
use crate::kmip::payload::{QueryRequest, QueryResponse};
use crate::kmip::ResponsePayload;
use crate::service::{Context, ServerInfo, Service};
use crate::ttlv::enums::{ObjectType, QueryFunction};
use crate::ttlv::{Item, Tag, Value};

/// The object types the server manages (what Query Objects lists).
pub const OBJECT_TYPES: &[ObjectType] = &[
    ObjectType::SYMMETRIC_KEY,
    ObjectType::PUBLIC_KEY,
    ObjectType::PRIVATE_KEY,
    ObjectType::SECRET_DATA,
    ObjectType::OPAQUE_OBJECT,
];

pub fn handle(ctx: &Context<'_>, service: &Service, request: &QueryRequest) -> ResponsePayload {
    let info = &service.info;
    let asks = |f: QueryFunction| request.query_functions.contains(&f);
    let mut answer = QueryResponse::default();
    if asks(QueryFunction::QUERY_OPERATIONS) {
        answer.operations = service
            .operations()
            .into_iter()
            .filter(|op| operation_known(*op, ctx.version))
            .collect();
    }
    if asks(QueryFunction::QUERY_OBJECTS) {
        answer.object_types = service.object_types().to_vec();
    }
    if asks(QueryFunction::QUERY_SERVER_INFORMATION) {
        answer.vendor_identification = Some(info.vendor_identification.clone());
        answer.server_information = Some(server_information(ctx, info));
    }
    ResponsePayload::Query(Box::new(answer))
}

/// Server Information: its fields in the 2.x order, each only if the client's version defines
/// its tag (in 1.x the structure's content is vendor-defined).
fn server_information(ctx: &Context<'_>, info: &ServerInfo) -> Item {
    let fields = [
        (Tag::SERVER_NAME, &info.product_name),
        (Tag::SERVER_VERSION, &info.version),
        (Tag::PRODUCT_NAME, &info.product_name),
    ];
    Builder::new()
        .items(
            fields
                .into_iter()
                .filter(|(tag, _)| tag_known(*tag, ctx.version))
                .map(|(tag, text)| Item::new(tag, Value::TextString(text.clone()))),
        )
        .build(Tag::SERVER_INFORMATION)
}
