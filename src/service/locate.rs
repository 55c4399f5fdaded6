//! Locate (KMIP 1.4 §4.9, 2.1 §6.1.33), as far as the lifecycle needs it: Object Type, Name,
//! State, Unique Identifier and the indexed attributes (Object Group, Cryptographic Algorithm
//! and Length, custom attributes, …) as equality filters, Maximum and Offset Items, only the
//! caller's objects (all for admins), destroyed ones never. The full Locate (date ranges,
//! Storage Status Mask, Located Items, 1.0 TemplateAttribute filters) is the next issue's.
//! Result Reasons: Invalid Field (a filter this server cannot apply).

use crate::kmip::attributes::AttributeName;
use crate::kmip::operations::locate::{LocateRequest, LocateResponse};
use crate::kmip::ResponsePayload;
use crate::service::objects::{name_from, store_error, store_name, to_store_value, Objects};
use crate::service::{Context, OpError};
use crate::store::{
    is_indexed_attribute, AttributeFilter, ObjectType, Owner, Query, State, Store, UniqueIdentifier,
};
use crate::ttlv::{Tag, Value};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &LocateRequest,
) -> Result<ResponsePayload, OpError> {
    let mut q = Query {
        owner: (!ctx.admin).then(|| Owner::new(ctx.identity.as_str())),
        offset: request.offset_items.unwrap_or(0).max(0) as usize,
        maximum: request.maximum_items.and_then(|m| usize::try_from(m).ok()),
        ..Query::default()
    };
    let mut uid_filter = None;
    for a in request.attributes.attributes() {
        match (&a.name, &a.value) {
            (AttributeName::Standard(Tag::OBJECT_TYPE), Value::Enumeration(t)) => {
                q.object_type = Some(ObjectType(*t))
            }
            (AttributeName::Standard(Tag::STATE), Value::Enumeration(s)) => {
                q.states.push(State(*s))
            }
            (AttributeName::Standard(Tag::NAME), _) => q.name = Some(name_from(a)?.value),
            (AttributeName::Standard(Tag::UNIQUE_IDENTIFIER), Value::TextString(u)) => {
                uid_filter = Some(u.clone())
            }
            (n, v) if is_indexed_attribute(&store_name(n)) => q
                .attributes
                .push(AttributeFilter::equals(store_name(n), to_store_value(v)?)),
            (n, _) => {
                return Err(OpError::Invalid(format!(
                    "Locate by {n} is not supported yet"
                )))
            }
        }
    }
    let only_identifier = uid_filter.is_some()
        && q.object_type.is_none()
        && q.name.is_none()
        && q.states.is_empty()
        && q.attributes.is_empty();
    let mut ids: Vec<String> = Vec::new();
    if only_identifier {
        // The identifier alone: one read, no scan.
        if let Some(u) = uid_filter {
            if let Ok(r) = objects.load(ctx, &u) {
                if !r.is_destroyed() && q.offset == 0 && q.maximum != Some(0) {
                    ids.push(u);
                }
            }
        }
    } else {
        let found = objects.store.locate(&q).map_err(store_error)?;
        ids = found
            .unique_identifiers
            .into_iter()
            .map(|u: UniqueIdentifier| u.0)
            .collect();
        if let Some(u) = uid_filter {
            ids.retain(|i| *i == u);
        }
    }
    Ok(ResponsePayload::Locate(LocateResponse {
        located_items: None,
        unique_identifiers: ids,
    }))
}
