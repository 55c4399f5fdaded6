//! Locate (KMIP 1.4 §4.9, 2.1 §6.1.33), answered from the store's indexes (each candidate
//! re-checked against its verified record):
//!
//! - filters: Object Type, State, Name, Unique Identifier, Object Group, Cryptographic
//!   Algorithm and Length, custom attributes (`x-…`), any other stored attribute by equality
//!   (re-checked, not indexed); a date attribute given twice is a range (inclusive, either
//!   order); filters may come bare, in a 2.x `Attributes` structure, or in a 1.0/1.1
//!   `TemplateAttribute` (FortiOS);
//! - Maximum Items, Offset Items; Located Items (1.4 and later, every match counted) when the
//!   client limited the answer with Maximum or Offset Items — otherwise the answer is every
//!   match and the count adds nothing (the OASIS TL-M vectors expect none);
//! - Storage Status Mask: destroyed objects are answered only to a 2.x client whose mask
//!   includes Destroyed Storage, never to a 1.x client; a mask without Online Storage answers
//!   no live object (this server has no archive);
//! - Object Group Member (2.x) Group Member Fresh: only objects never yet served;
//! - only the caller's objects (admins see all); newest first.
//!
//! Result Reasons: Invalid Field (a Name without a Name Value, a malformed filter), Feature Not
//! Supported (a filter value type the store does not keep).

use std::collections::BTreeMap;

use crate::kmip::attributes::AttributeName;
use crate::kmip::message::ProtocolVersion;
use crate::kmip::operations::locate::{LocateRequest, LocateResponse};
use crate::kmip::ResponsePayload;
use crate::service::objects::{
    effective_state, name_from, now_secs, store_error, store_name, to_store_value, Objects,
};
use crate::service::{Context, OpError};
use crate::store::{
    AttrValue, AttributeFilter, ObjectType, Owner, Query, Record, State, Store, UniqueIdentifier,
};
use crate::ttlv::{Tag, Value};

/// Storage Status Mask bits (KMIP 1.4 §9.1.3.3.2; Destroyed Storage from 2.0).
const ONLINE_STORAGE: i32 = 0x1;
const DESTROYED_STORAGE: i32 = 0x4;
/// Object Group Member: Group Member Fresh (KMIP 2.1 §11.13).
const GROUP_MEMBER_FRESH: u32 = 0x1;

/// The parts of a Locate the store's query cannot express: more names, unique identifiers, and
/// the states asked for as the dates make them true now (a Pre-Active key whose Activation Date
/// has passed is Active even before anyone reads it and the record is updated).
#[derive(Debug, Default)]
struct Extra {
    names: Vec<String>,
    identifiers: Vec<String>,
    states: Vec<State>,
    now: i64,
}

impl Extra {
    fn keep(&self, r: &Record) -> bool {
        (self.states.is_empty() || self.states.contains(&effective_state(r, self.now)))
            && self.names.iter().all(|n| r.has_name(n))
            && self
                .identifiers
                .iter()
                .all(|u| r.unique_identifier.as_str() == u)
    }
}

/// The store query and the extra conditions of a request.
fn query_of(ctx: &Context<'_>, request: &LocateRequest) -> Result<(Query, Extra), OpError> {
    let mut q = Query {
        owner: (!ctx.admin).then(|| Owner::new(ctx.identity.as_str())),
        offset: request.offset_items.unwrap_or(0).max(0) as usize,
        maximum: request.maximum_items.and_then(|m| usize::try_from(m).ok()),
        count_total: wants_located_items(ctx, request),
        ..Query::default()
    };
    let mut extra = Extra {
        now: now_secs(),
        ..Extra::default()
    };
    // Other attributes, grouped by name: a date given twice is a range.
    let mut others: BTreeMap<String, Vec<AttrValue>> = BTreeMap::new();
    for a in request.filters() {
        match (&a.name, &a.value) {
            (AttributeName::Standard(Tag::OBJECT_TYPE), Value::Enumeration(t)) => {
                match q.object_type {
                    Some(o) if o.0 != *t => return Ok((nothing(q), extra)),
                    _ => q.object_type = Some(ObjectType(*t)),
                }
            }
            (AttributeName::Standard(Tag::STATE), Value::Enumeration(s)) => {
                q.states.push(State(*s))
            }
            (AttributeName::Standard(Tag::NAME), _) => {
                let n = name_from(a)?.value;
                if q.name.is_none() {
                    q.name = Some(n);
                } else {
                    extra.names.push(n);
                }
            }
            (AttributeName::Standard(Tag::UNIQUE_IDENTIFIER), Value::TextString(u)) => {
                extra.identifiers.push(u.clone())
            }
            (n, v) => others
                .entry(store_name(n))
                .or_default()
                .push(to_store_value(v)?),
        }
    }
    for (name, values) in others {
        q.attributes.extend(filters_for(&name, values));
    }
    if ctx.version.is_v2()
        && request
            .object_group_member
            .is_some_and(|m| m == GROUP_MEMBER_FRESH)
    {
        q.attributes
            .push(AttributeFilter::equals("Fresh", AttrValue::Boolean(true)));
    }
    // Stored states lag behind the dates: ask the store for every state that the dates can turn
    // into a wanted one, and keep only records whose state is now a wanted one.
    if !q.states.is_empty() {
        extra.states = q.states.clone();
        for s in extra.states.clone() {
            let earlier: &[State] = match s {
                State::ACTIVE => &[State::PRE_ACTIVE],
                State::DEACTIVATED => &[State::PRE_ACTIVE, State::ACTIVE],
                _ => &[],
            };
            for e in earlier {
                if !q.states.contains(e) {
                    q.states.push(*e);
                }
            }
        }
    }
    let mask = request.storage_status_mask.unwrap_or(ONLINE_STORAGE);
    let online = mask & ONLINE_STORAGE != 0;
    let destroyed = ctx.version.is_v2() && mask & DESTROYED_STORAGE != 0;
    match (online, destroyed) {
        (true, false) => {}
        (true, true) => q.include_destroyed = true,
        (false, true) => {
            q.include_destroyed = true;
            let gone = [State::DESTROYED, State::DESTROYED_COMPROMISED];
            if q.states.is_empty() {
                q.states = gone.to_vec();
            } else {
                q.states.retain(|s| s.is_destroyed());
                if q.states.is_empty() {
                    return Ok((nothing(q), extra));
                }
            }
        }
        (false, false) => return Ok((nothing(q), extra)),
    }
    Ok((q, extra))
}

/// A query that matches nothing (contradictory filters, a mask naming no storage we have).
fn nothing(mut q: Query) -> Query {
    q.maximum = Some(0);
    q.states = vec![State(u32::MAX)];
    q
}

/// The filters of one attribute: two dates are an inclusive range, anything else equality
/// (every value must be met by some instance).
fn filters_for(name: &str, values: Vec<AttrValue>) -> Vec<AttributeFilter> {
    if let [AttrValue::DateTime(a), AttrValue::DateTime(b)] = values.as_slice() {
        let (lo, hi) = ((*a).min(*b), (*a).max(*b));
        return vec![AttributeFilter::between(
            name,
            AttrValue::DateTime(lo),
            AttrValue::DateTime(hi),
        )];
    }
    values
        .into_iter()
        .map(|v| AttributeFilter::equals(name, v))
        .collect()
}

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &LocateRequest,
) -> Result<ResponsePayload, OpError> {
    let (q, extra) = query_of(ctx, request)?;
    if q.maximum == Some(0) && !q.count_total {
        return Ok(located(Vec::new(), None));
    }
    // The identifier alone: one read, no scan.
    if let ([u], true) = (extra.identifiers.as_slice(), only_identifier(&q, &extra)) {
        let found = objects
            .load(ctx, u)
            .ok()
            .filter(|r| q.include_destroyed || !r.is_destroyed())
            .map(|r| r.unique_identifier.0);
        let total = found.iter().count();
        let ids: Vec<String> = found
            .into_iter()
            .skip(q.offset)
            .take(q.maximum.unwrap_or(usize::MAX))
            .collect();
        return Ok(located(ids, q.count_total.then_some(total)));
    }
    let found = objects
        .store
        .locate_where(&q, &|r| extra.keep(r))
        .map_err(store_error)?;
    let ids = found
        .unique_identifiers
        .into_iter()
        .map(|u: UniqueIdentifier| u.0)
        .collect();
    Ok(located(ids, found.total))
}

fn only_identifier(q: &Query, extra: &Extra) -> bool {
    q.object_type.is_none()
        && q.name.is_none()
        && q.states.is_empty()
        && q.attributes.is_empty()
        && extra.names.is_empty()
}

/// Whether the answer carries Located Items: a 1.4 or later client that limited the answer.
fn wants_located_items(ctx: &Context<'_>, request: &LocateRequest) -> bool {
    ctx.version >= ProtocolVersion::new(1, 4)
        && (request.maximum_items.is_some() || request.offset_items.is_some())
}

fn located(ids: Vec<String>, total: Option<usize>) -> ResponsePayload {
    let located_items = total.map(|t| i32::try_from(t).unwrap_or(i32::MAX));
    ResponsePayload::Locate(LocateResponse {
        located_items,
        unique_identifiers: ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::attributes::Attribute;
    use crate::kmip::operations::AttributeItems;
    use crate::service::Identity;

    fn ctx(id: &Identity, version: ProtocolVersion) -> Context<'_> {
        Context {
            identity: id,
            version,
            admin: false,
            placeholder: None,
        }
    }

    fn request(filters: Vec<Attribute>, mask: Option<i32>) -> LocateRequest {
        LocateRequest {
            maximum_items: None,
            offset_items: None,
            storage_status_mask: mask,
            object_group_member: None,
            attributes: AttributeItems::V1(Vec::new()),
            template_attribute: Some(filters),
        }
    }

    #[test]
    fn accepts_two_dates_as_a_range_in_either_order() {
        let f = filters_for(
            "Activation Date",
            vec![AttrValue::DateTime(200), AttrValue::DateTime(100)],
        );
        assert_eq!(
            f,
            vec![AttributeFilter::between(
                "Activation Date",
                AttrValue::DateTime(100),
                AttrValue::DateTime(200)
            )]
        );
        let one = filters_for("Activation Date", vec![AttrValue::DateTime(5)]);
        assert_eq!(
            one,
            vec![AttributeFilter::equals(
                "Activation Date",
                AttrValue::DateTime(5)
            )]
        );
    }

    #[test]
    fn accepts_template_attribute_filters_and_owner() {
        let id = Identity::new("alice");
        let r = request(
            vec![
                Attribute::new(Tag::OBJECT_TYPE, Value::Enumeration(2)),
                Attribute::new(Tag::OBJECT_GROUP, Value::TextString("g".into())),
            ],
            None,
        );
        let (q, _) = query_of(&ctx(&id, ProtocolVersion::new(1, 1)), &r).unwrap();
        assert_eq!(q.object_type, Some(ObjectType(2)));
        assert_eq!(q.owner, Some(Owner::new("alice")));
        assert_eq!(
            q.attributes,
            vec![AttributeFilter::equals(
                "Object Group",
                AttrValue::Text("g".into())
            )]
        );
        assert!(!q.include_destroyed);
        assert!(!q.count_total, "no Located Items before 1.4");
    }

    #[test]
    fn rejects_destroyed_for_1x_and_without_the_mask_bit() {
        let id = Identity::new("alice");
        for (version, mask, destroyed) in [
            (ProtocolVersion::new(1, 4), Some(0x5), false),
            (ProtocolVersion::new(2, 1), None, false),
            (ProtocolVersion::new(2, 1), Some(0x1), false),
            (ProtocolVersion::new(2, 1), Some(0x5), true),
        ] {
            let (q, _) = query_of(&ctx(&id, version), &request(vec![], mask)).unwrap();
            assert_eq!(q.include_destroyed, destroyed, "{version} {mask:?}");
        }
        let (q, _) = query_of(
            &ctx(&id, ProtocolVersion::new(2, 1)),
            &request(vec![], Some(0x4)),
        )
        .unwrap();
        assert_eq!(
            q.states,
            vec![State::DESTROYED, State::DESTROYED_COMPROMISED]
        );
    }

    #[test]
    fn accepts_a_key_whose_activation_date_has_passed_as_active() {
        let id = Identity::new("alice");
        let r = request(
            vec![Attribute::new(
                Tag::STATE,
                Value::Enumeration(State::ACTIVE.0),
            )],
            None,
        );
        let (q, extra) = query_of(&ctx(&id, ProtocolVersion::new(1, 4)), &r).unwrap();
        assert_eq!(q.states, vec![State::ACTIVE, State::PRE_ACTIVE]);
        let stored = |date: i64| {
            Record::new(
                UniqueIdentifier::new("u"),
                Owner::new("alice"),
                ObjectType(2),
                State::PRE_ACTIVE,
            )
            .with_attribute("Activation Date", AttrValue::DateTime(date))
        };
        assert!(extra.keep(&stored(extra.now - 10)));
        assert!(!extra.keep(&stored(extra.now + 3600)));
    }
}
