//! The object backend of the service: the HSM and the store, and what every object operation
//! shares — finding an object the caller may see, evaluating date-driven state changes on read,
//! saving a changed record, and mapping the KMIP attribute model onto the store's record.
//!
//! Record layout: Unique Identifier, Object Type, State, owner and Names are record fields;
//! every other attribute is a record attribute named in the KMIP 1.4 spelling (custom ones as
//! `x-Name`, 2.x vendor attributes as `vendor-Name`). Facts the service needs but never shows
//! are kept under names starting with `_` ([`INTERNAL_PREFIX`]).

use std::sync::Arc;

use crate::hsm::{Hsm, HsmError};
use crate::kmip::attributes::{Attribute, AttributeName};
use crate::service::{Context, OpError};
use crate::store::{
    self, AttrValue, Expect, Owner, Record, SledStore, State, Store, StoreError, UniqueIdentifier,
};
use crate::ttlv::{tables, Item, Tag, Value};

/// Record attributes that are bookkeeping, never returned to clients.
pub const INTERNAL_PREFIX: char = '_';
/// Secret Data Type of a Secret Data object.
pub const SECRET_DATA_TYPE: &str = "_Secret Data Type";
/// Opaque Data Type of an Opaque Object.
pub const OPAQUE_DATA_TYPE: &str = "_Opaque Data Type";

/// The HSM and the store the object operations use.
pub struct Objects {
    pub hsm: Arc<Hsm>,
    pub store: Arc<SledStore>,
    /// The `[crypto]` policy.
    pub crypto: crate::config::CryptoConfig,
    /// Open multi-part Encrypt and Decrypt operations.
    pub streams: crate::service::stream::Streams,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("hsm", &self.hsm)
            .field("store", &self.store.path())
            .finish()
    }
}

/// Seconds since the Unix epoch (KMIP Date-Time).
pub fn now_secs() -> i64 {
    store::Timestamp::now().0 / 1000
}

/// An HSM error as the client sees it: a mechanism the token does not offer (named by the
/// profile check, or refused by the token with `CKR_MECHANISM_INVALID`) is Feature Not
/// Supported "not supported by this HSM"; everything else is a Cryptographic Failure.
pub fn hsm_error(e: HsmError) -> OpError {
    let unsupported = matches!(e, HsmError::MechanismUnsupported { .. })
        || matches!(e.rv(), Some(cryptoki::error::RvError::MechanismInvalid));
    if unsupported {
        OpError::NotSupported(format!("not supported by this HSM: {e}"))
    } else {
        OpError::Hsm(e.to_string())
    }
}

pub fn store_error(e: StoreError) -> OpError {
    match e {
        StoreError::NotFound { uid } => OpError::ItemNotFound(uid.0),
        StoreError::NameTaken { name } => OpError::NameTaken(name),
        other => OpError::Store(other.to_string()),
    }
}

/// The state's name for messages.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::PRE_ACTIVE => "Pre-Active",
        State::ACTIVE => "Active",
        State::DEACTIVATED => "Deactivated",
        State::COMPROMISED => "Compromised",
        State::DESTROYED => "Destroyed",
        State::DESTROYED_COMPROMISED => "Destroyed Compromised",
        _ => "in an unknown state",
    }
}

/// The first value of record attribute `name` as a date.
pub fn date_of(r: &Record, name: &str) -> Option<i64> {
    r.attribute(name).find_map(|v| match v {
        AttrValue::DateTime(d) => Some(*d),
        _ => None,
    })
}

pub fn bool_of(r: &Record, name: &str) -> Option<bool> {
    r.attribute(name).find_map(|v| match v {
        AttrValue::Boolean(b) => Some(*b),
        _ => None,
    })
}

pub fn int_of(r: &Record, name: &str) -> Option<i32> {
    r.attribute(name).find_map(|v| match v {
        AttrValue::Integer(i) => Some(*i),
        _ => None,
    })
}

pub fn enum_of(r: &Record, name: &str) -> Option<u32> {
    r.attribute(name).find_map(|v| match v {
        AttrValue::Enumeration(i) => Some(*i),
        _ => None,
    })
}

/// Sets the single-valued record attribute `name` (replacing every instance).
pub fn set_attr(r: &mut Record, name: &str, value: AttrValue) {
    match r.attributes.iter().position(|a| a.name == name) {
        Some(i) => {
            r.attributes[i].value = value;
            let mut seen = false;
            r.attributes.retain(|a| {
                if a.name != name {
                    return true;
                }
                let keep = !seen;
                seen = true;
                keep
            });
        }
        None => r.attributes.push(store::Attribute::new(name, value)),
    }
}

/// The state the dates make true now (KMIP 1.4 §3.22: an Activation Date reached activates a
/// Pre-Active object; a Deactivation Date reached deactivates a Pre-Active or Active one).
pub fn effective_state(r: &Record, now: i64) -> State {
    let mut s = r.state;
    if s == State::PRE_ACTIVE && date_of(r, "Activation Date").is_some_and(|d| d <= now) {
        s = State::ACTIVE;
    }
    if (s == State::PRE_ACTIVE || s == State::ACTIVE)
        && date_of(r, "Deactivation Date").is_some_and(|d| d <= now)
    {
        s = State::DEACTIVATED;
    }
    s
}

impl Objects {
    /// Whether `ctx`'s identity may see `r`: its owner, or an admin.
    fn may_see(ctx: &Context<'_>, r: &Record) -> bool {
        ctx.admin || r.owner == Owner::new(ctx.identity.as_str())
    }

    /// The object `uid` as the caller may see it, its state brought up to date with its dates
    /// (and that change saved). Another identity's object is not found (Item Not Found; Object Not Found in 2.x).
    pub fn load(&self, ctx: &Context<'_>, uid: &str) -> Result<Record, OpError> {
        let r = self
            .store
            .get(&UniqueIdentifier::new(uid))
            .map_err(store_error)?;
        if !Self::may_see(ctx, &r) {
            return Err(OpError::ItemNotFound(uid.to_owned()));
        }
        let now = now_secs();
        let s = effective_state(&r, now);
        if s == r.state {
            return Ok(r);
        }
        let mut next = r.clone();
        next.state = s;
        set_attr(&mut next, "Last Change Date", AttrValue::DateTime(now));
        match self.save(&r, &next) {
            Ok(saved) => Ok(saved),
            // Someone else changed it meanwhile: read it again.
            Err(_) => self
                .store
                .get(&UniqueIdentifier::new(uid))
                .map_err(store_error),
        }
    }

    /// Writes `next` over `current` (compare-and-set on its version). A changed Cryptographic
    /// Usage Mask drops the key's cached HSM copy, whose usage flags follow the mask.
    pub fn save(&self, current: &Record, next: &Record) -> Result<Record, OpError> {
        let mask = |r: &Record| int_of(r, "Cryptographic Usage Mask");
        if mask(current) != mask(next) {
            self.hsm.invalidate(&current.unique_identifier.0);
        }
        let mut apply = |r: &mut Record| {
            r.state = next.state;
            r.names = next.names.clone();
            r.attributes = next.attributes.clone();
            if next.is_destroyed() {
                r.destroy_key();
            }
            Ok(())
        };
        self.store
            .update(
                &current.unique_identifier,
                Expect::Version(current.version()),
                &mut apply,
            )
            .map_err(store_error)
    }

    /// A new unique identifier from the HSM's random number generator (a UUID v4).
    pub fn new_identifier(&self) -> Result<String, OpError> {
        let mut b = self.hsm.random(16).map_err(hsm_error)?;
        let (Some(b6), Some(b8)) = (b.get(6).copied(), b.get(8).copied()) else {
            return Err(OpError::Hsm(
                "C_GenerateRandom returned too few bytes".into(),
            ));
        };
        b[6] = (b6 & 0x0f) | 0x40;
        b[8] = (b8 & 0x3f) | 0x80;
        let h = hex::encode(&b);
        Ok(format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        ))
    }
}

/// A record attribute's name for a KMIP attribute name.
pub fn store_name(n: &AttributeName) -> String {
    n.to_v1()
}

/// The KMIP attribute name of a record attribute (`vendor-Name` for custom ones).
pub fn kmip_name(name: &str) -> Option<AttributeName> {
    if name.starts_with(INTERNAL_PREFIX) {
        return None;
    }
    if let Some((vendor, rest)) = name.split_once('-') {
        return Some(AttributeName::Custom {
            vendor: vendor.to_owned(),
            name: rest.to_owned(),
        });
    }
    AttributeName::from_v1(name)
}

fn tag_key(tag: Tag) -> String {
    tables::tag_name(tag.0, None)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("0x{:06X}", tag.0))
}

fn tag_of(key: &str) -> Option<Tag> {
    if let Some(hex) = key.strip_prefix("0x") {
        return u32::from_str_radix(hex, 16).ok().map(Tag);
    }
    tables::tag_value(key, None).map(Tag)
}

/// A TTLV value as a record attribute value. Big Integer and Date-Time Extended values are not
/// kept (no attribute of this server's objects has them).
pub fn to_store_value(v: &Value) -> Result<AttrValue, OpError> {
    Ok(match v {
        Value::Integer(i) => AttrValue::Integer(*i),
        Value::LongInteger(i) => AttrValue::LongInteger(*i),
        Value::Enumeration(e) => AttrValue::Enumeration(*e),
        Value::Boolean(b) => AttrValue::Boolean(*b),
        Value::TextString(s) => AttrValue::Text(s.clone()),
        Value::ByteString(b) => AttrValue::ByteString(b.clone()),
        Value::DateTime(d) => AttrValue::DateTime(*d),
        Value::Interval(i) => AttrValue::Interval(*i),
        Value::Structure(items) => AttrValue::Structure(
            items
                .iter()
                .map(|i| {
                    Ok(store::Attribute::new(
                        tag_key(i.tag),
                        to_store_value(&i.value)?,
                    ))
                })
                .collect::<Result<_, OpError>>()?,
        ),
        Value::BigInteger(_) | Value::DateTimeExtended(_) => {
            return Err(OpError::NotSupported(
                "attribute values of type Big Integer or Date-Time Extended are not kept".into(),
            ))
        }
    })
}

/// A record attribute value as a TTLV value.
pub fn to_ttlv_value(v: &AttrValue) -> Value {
    match v {
        AttrValue::Integer(i) => Value::Integer(*i),
        AttrValue::LongInteger(i) => Value::LongInteger(*i),
        AttrValue::Enumeration(e) => Value::Enumeration(*e),
        AttrValue::Boolean(b) => Value::Boolean(*b),
        AttrValue::Text(s) => Value::TextString(s.clone()),
        AttrValue::ByteString(b) => Value::ByteString(b.clone()),
        AttrValue::DateTime(d) => Value::DateTime(*d),
        AttrValue::Interval(i) => Value::Interval(*i),
        AttrValue::Structure(items) => Value::Structure(
            items
                .iter()
                .filter_map(|a| Some(Item::new(tag_of(&a.name)?, to_ttlv_value(&a.value))))
                .collect(),
        ),
    }
}

/// A Name attribute's value from a record name.
pub fn name_value(n: &store::Name) -> Value {
    Value::Structure(vec![
        Item::new(Tag::NAME_VALUE, Value::TextString(n.value.clone())),
        Item::new(Tag::NAME_TYPE, Value::Enumeration(n.name_type)),
    ])
}

/// A record name from a Name attribute's value.
pub fn name_from(a: &Attribute) -> Result<store::Name, OpError> {
    let bad = || OpError::Invalid("Name must hold a Name Value text and a Name Type".into());
    let Value::Structure(items) = &a.value else {
        return Err(bad());
    };
    let value = items.iter().find_map(|i| match (&i.tag, &i.value) {
        (&Tag::NAME_VALUE, Value::TextString(s)) => Some(s.clone()),
        _ => None,
    });
    let name_type = items
        .iter()
        .find_map(|i| match (&i.tag, &i.value) {
            (&Tag::NAME_TYPE, Value::Enumeration(e)) => Some(*e),
            _ => None,
        })
        .unwrap_or(1);
    Ok(store::Name {
        value: value.ok_or_else(bad)?,
        name_type,
    })
}
