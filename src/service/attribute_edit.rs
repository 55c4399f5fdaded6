//! What Add, Modify, Delete and Set Attribute share: which changes are allowed, and applying
//! one to a record (names live in the record's name list, other attributes in its attribute
//! list; instances keep their order, which is the 1.x Attribute Index).
//!
//! Rules (KMIP 1.4 §3, 2.1 §4): server-only attributes are read-only; Activation Date changes
//! only while Pre-Active; Deactivation Date not once Deactivated, Compromised or Destroyed;
//! Sensitive may only become true and Extractable only false (Always Sensitive and Never
//! Extractable follow); a destroyed object's attributes no longer change. A date set in the
//! past takes effect at once.

use crate::kmip::attributes::{Attribute, AttributeName};
use crate::service::attribute_rules::{client_settable, multi_valued};
use crate::service::objects::{
    bool_of, effective_state, name_from, name_value, now_secs, set_attr, state_name, store_name,
    to_store_value, to_ttlv_value,
};
use crate::service::OpError;
use crate::store::{self, AttrValue, Record, State};
use crate::ttlv::{Tag, Value};

/// Refuses a change the rules forbid.
pub fn check_editable(
    r: &Record,
    name: &AttributeName,
    value: Option<&Value>,
) -> Result<(), OpError> {
    if !client_settable(name) {
        return Err(OpError::ReadOnly(name.to_string()));
    }
    let uid = r.unique_identifier.0.clone();
    let wrong = |what: &str| OpError::WrongState {
        uid: uid.clone(),
        state: state_name(r.state),
        what: what.to_owned(),
    };
    if r.is_destroyed() {
        return Err(wrong(&format!("attribute {name} cannot change")));
    }
    match name {
        AttributeName::Standard(Tag::ACTIVATION_DATE) if r.state != State::PRE_ACTIVE => Err(
            wrong("Activation Date changes only while the object is Pre-Active"),
        ),
        AttributeName::Standard(Tag::DEACTIVATION_DATE)
            if r.state != State::PRE_ACTIVE && r.state != State::ACTIVE =>
        {
            Err(wrong(
                "Deactivation Date changes only while the object is Pre-Active or Active",
            ))
        }
        AttributeName::Standard(Tag::SENSITIVE)
            if bool_of(r, "Sensitive") == Some(true) && value != Some(&Value::Boolean(true)) =>
        {
            Err(OpError::ReadOnly(
                "Sensitive (once true it stays true)".into(),
            ))
        }
        AttributeName::Standard(Tag::EXTRACTABLE)
            if bool_of(r, "Extractable") == Some(false)
                && value != Some(&Value::Boolean(false)) =>
        {
            Err(OpError::ReadOnly(
                "Extractable (once false it stays false)".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// The instances of `name` on `r`, as attributes.
pub fn instances(r: &Record, name: &AttributeName) -> Vec<Attribute> {
    if *name == AttributeName::Standard(Tag::NAME) {
        return r
            .names
            .iter()
            .map(|n| Attribute::new(Tag::NAME, name_value(n)))
            .collect();
    }
    let key = store_name(name);
    r.attributes
        .iter()
        .filter(|a| a.name == key)
        .map(|a| Attribute {
            name: name.clone(),
            index: None,
            value: to_ttlv_value(&a.value),
        })
        .collect()
}

/// Replaces the instances of `name` with `values`, keeping the other attributes' order.
fn put_instances(r: &mut Record, name: &AttributeName, values: &[Value]) -> Result<(), OpError> {
    if *name == AttributeName::Standard(Tag::NAME) {
        let mut names = Vec::new();
        for v in values {
            let n = name_from(&Attribute::new(Tag::NAME, v.clone()))?;
            if names.iter().any(|x: &store::Name| x.value == n.value) {
                return Err(OpError::NameTaken(n.value));
            }
            names.push(n);
        }
        r.names = names;
        return Ok(());
    }
    let key = store_name(name);
    let at = r.attributes.iter().position(|a| a.name == key);
    r.attributes.retain(|a| a.name != key);
    let new: Vec<store::Attribute> = values
        .iter()
        .map(|v| Ok(store::Attribute::new(key.clone(), to_store_value(v)?)))
        .collect::<Result<_, OpError>>()?;
    let at = at.unwrap_or(r.attributes.len()).min(r.attributes.len());
    r.attributes.splice(at..at, new);
    Ok(())
}

/// Records the change: Last Change Date, the derived Always Sensitive / Never Extractable, and
/// a state a date now makes true.
pub fn finish(r: &mut Record) {
    let now = now_secs();
    set_attr(r, "Last Change Date", AttrValue::DateTime(now));
    if bool_of(r, "Sensitive") == Some(false) {
        set_attr(r, "Always Sensitive", AttrValue::Boolean(false));
    }
    if bool_of(r, "Extractable") == Some(true) {
        set_attr(r, "Never Extractable", AttrValue::Boolean(false));
    }
    r.state = effective_state(r, now);
}

/// Add Attribute: a new instance (a single-valued attribute must be absent).
pub fn add(r: &mut Record, a: &Attribute) -> Result<Attribute, OpError> {
    check_editable(r, &a.name, Some(&a.value))?;
    let mut values: Vec<Value> = instances(r, &a.name).into_iter().map(|i| i.value).collect();
    if !values.is_empty() && !multi_valued(&a.name) {
        return Err(OpError::SingleValued(a.name.to_string()));
    }
    values.push(a.value.clone());
    let index = (values.len() - 1) as i32;
    put_instances(r, &a.name, &values)?;
    finish(r);
    Ok(Attribute {
        name: a.name.clone(),
        index: (index > 0).then_some(index),
        value: a.value.clone(),
    })
}

/// Modify Attribute: replaces the instance at `index` (1.x), the one equal to `current`
/// (2.x), or the only/first one.
pub fn modify(
    r: &mut Record,
    new: &Attribute,
    current: Option<&Attribute>,
) -> Result<Attribute, OpError> {
    check_editable(r, &new.name, Some(&new.value))?;
    let mut values: Vec<Value> = instances(r, &new.name)
        .into_iter()
        .map(|i| i.value)
        .collect();
    let pos = match (current, new.index) {
        (Some(c), _) => values.iter().position(|v| *v == c.value),
        (None, Some(i)) => usize::try_from(i).ok().filter(|i| *i < values.len()),
        (None, None) => (!values.is_empty()).then_some(0),
    };
    let Some(pos) = pos else {
        return Err(OpError::AttributeNotFound {
            uid: r.unique_identifier.0.clone(),
            attribute: new.name.to_string(),
            index: new.index,
        });
    };
    if let Some(v) = values.get_mut(pos) {
        *v = new.value.clone();
    }
    put_instances(r, &new.name, &values)?;
    finish(r);
    Ok(Attribute {
        name: new.name.clone(),
        index: (pos > 0).then_some(pos as i32),
        value: new.value.clone(),
    })
}

/// Delete Attribute: one instance (by index or value) or, with neither, every instance (2.x
/// reference) / the first (1.x). Returns what was deleted.
pub fn delete(
    r: &mut Record,
    name: &AttributeName,
    index: Option<i32>,
    value: Option<&Value>,
    all: bool,
) -> Result<Vec<Attribute>, OpError> {
    check_editable(r, name, None)?;
    let mut values: Vec<Value> = instances(r, name).into_iter().map(|i| i.value).collect();
    let missing = || OpError::AttributeNotFound {
        uid: r.unique_identifier.0.clone(),
        attribute: name.to_string(),
        index,
    };
    let removed: Vec<Value> = if all {
        std::mem::take(&mut values)
    } else {
        let pos = match (value, index) {
            (Some(v), _) => values.iter().position(|x| x == v),
            (None, Some(i)) => usize::try_from(i).ok().filter(|i| *i < values.len()),
            (None, None) => (!values.is_empty()).then_some(0),
        };
        vec![values.remove(pos.ok_or_else(missing)?)]
    };
    if removed.is_empty() {
        return Err(missing());
    }
    put_instances(r, name, &values)?;
    finish(r);
    Ok(removed
        .into_iter()
        .map(|value| Attribute {
            name: name.clone(),
            index,
            value,
        })
        .collect())
}

/// Set Attribute (2.x): sets a single-valued attribute, replacing its value.
pub fn set(r: &mut Record, a: &Attribute) -> Result<(), OpError> {
    check_editable(r, &a.name, Some(&a.value))?;
    if multi_valued(&a.name) {
        return Err(OpError::MultiValued(a.name.to_string()));
    }
    put_instances(r, &a.name, std::slice::from_ref(&a.value))?;
    finish(r);
    Ok(())
}
