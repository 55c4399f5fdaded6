//! ReKey (KMIP 1.4 §4.4, 2.1 §6.1.46): a replacement symmetric key, generated in the HSM with
//! the existing key's algorithm and length, under a **new** Unique Identifier.
//!
//! - The existing key's Names move to the replacement; its client attributes (Object Group,
//!   Operation Policy Name, Contact Information, usage mask, parameters, Application Specific
//!   Information, Description, Comment, custom `x-`/vendor attributes, Original Creation Date)
//!   are copied; attributes in the request's template override the copies.
//! - Dates: without Offset the Activation, Process Start, Protect Stop and Deactivation Dates are
//!   copied; with Offset the replacement's Activation Date is its Initial Date + Offset and the
//!   others keep their distance to the Activation Date (1.4 §4.4). Its state follows from them.
//! - Links: Replacement Object Link on the existing key → replacement, Replaced Object Link on
//!   the replacement → existing key. The existing key's state is unchanged (it stays Active:
//!   VAST Data relies on it).
//! - Both records change in one store commit; a failure leaves the existing key as it was.
//!
//! Result Reasons: Item Not Found; Invalid Field / Illegal Operation (not a symmetric key, or
//! one without algorithm or length); Wrong Key Lifecycle State (2.x) / Permission Denied (1.x)
//! for a destroyed or compromised key; Permission Denied / Attribute Read Only (a server-only
//! attribute in the template); Cryptographic Failure (the HSM).

use crate::hsm::{HashAlg, KeyUsage};
use crate::kmip::operations::rekey::{ReKeyRequest, ReKeyResponse};
use crate::kmip::ResponsePayload;
use crate::service::create::key_shape;
use crate::service::new_object::{build_new, Material, Template};
use crate::service::objects::{
    bool_of, date_of, enum_of, hsm_error, int_of, now_secs, set_attr, state_name, store_error,
    store_name, to_store_value, Objects,
};
use crate::service::{Context, OpError};
use crate::store::{self, AttrValue, Record, State, Store, Write};
use crate::ttlv::enums::{KeyFormatType, LinkType, ObjectType};
use crate::ttlv::{Item, Tag, Value};

/// Record attributes copied from the existing key to the replacement.
const COPIED: &[&str] = &[
    "Object Group",
    "Operation Policy Name",
    "Contact Information",
    "Cryptographic Usage Mask",
    "Cryptographic Parameters",
    "Cryptographic Domain Parameters",
    "Application Specific Information",
    "Description",
    "Comment",
    "Alternative Name",
    "Original Creation Date",
];

/// The dates that follow the Activation Date.
const FOLLOWING_DATES: &[&str] = &[
    "Process Start Date",
    "Protect Stop Date",
    "Deactivation Date",
];

fn is_copied(name: &str) -> bool {
    COPIED.contains(&name)
        || (name.contains('-') && !name.starts_with(crate::service::objects::INTERNAL_PREFIX))
}

/// A Link attribute's record value.
pub(crate) fn link(link_type: LinkType, to: &str) -> Result<AttrValue, OpError> {
    to_store_value(&Value::Structure(vec![
        Item::new(Tag::LINK_TYPE, Value::Enumeration(link_type.0)),
        Item::new(
            Tag::LINKED_OBJECT_IDENTIFIER,
            Value::TextString(to.to_owned()),
        ),
    ]))
}

/// The replacement's dates (1.4 §4.4), from the existing key's and the Offset.
fn dates(old: &Record, now: i64, offset: Option<u32>) -> Vec<store::Attribute> {
    let activation = date_of(old, "Activation Date");
    let mut out = Vec::new();
    match offset {
        None => {
            for name in std::iter::once("Activation Date").chain(FOLLOWING_DATES.iter().copied()) {
                if let Some(d) = date_of(old, name) {
                    out.push(store::Attribute::new(name, AttrValue::DateTime(d)));
                }
            }
        }
        Some(offset) => {
            let at2 = now.saturating_add(i64::from(offset));
            out.push(store::Attribute::new(
                "Activation Date",
                AttrValue::DateTime(at2),
            ));
            if let Some(at1) = activation {
                for name in FOLLOWING_DATES {
                    if let Some(d) = date_of(old, name) {
                        out.push(store::Attribute::new(
                            *name,
                            AttrValue::DateTime(at2.saturating_add(d.saturating_sub(at1))),
                        ));
                    }
                }
            }
        }
    }
    out
}

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &ReKeyRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let old = objects.load(ctx, &uid)?;
    if old.object_type != store::ObjectType(ObjectType::SYMMETRIC_KEY.0) {
        return Err(OpError::Invalid(format!(
            "ReKey replaces a symmetric key; {uid} is not one"
        )));
    }
    if matches!(
        old.state,
        State::DESTROYED | State::DESTROYED_COMPROMISED | State::COMPROMISED
    ) {
        return Err(OpError::WrongState {
            uid: uid.clone(),
            state: state_name(old.state),
            what: "a destroyed or compromised key is not replaced".into(),
        });
    }
    let algorithm = enum_of(&old, "Cryptographic Algorithm").ok_or_else(|| {
        OpError::Invalid(format!(
            "{uid} has no Cryptographic Algorithm to re-key with"
        ))
    })?;
    let (kind, len, _) = key_shape(algorithm, int_of(&old, "Cryptographic Length"))?;
    let template = Template::new(request.attributes.as_ref())?;
    let given: Vec<String> = template
        .attributes
        .iter()
        .map(|a| store_name(&a.name))
        .collect();
    let now = now_secs();
    let mut extra: Vec<store::Attribute> = old
        .attributes
        .iter()
        .filter(|a| is_copied(&a.name) && !given.contains(&a.name))
        .cloned()
        .collect();
    extra.extend(
        dates(&old, now, request.offset)
            .into_iter()
            .filter(|a| !given.contains(&a.name)),
    );
    for name in ["Cryptographic Algorithm", "Cryptographic Length"] {
        extra.extend(old.attributes.iter().filter(|a| a.name == name).cloned());
    }
    extra.push(store::Attribute::new(
        "Link",
        link(LinkType::REPLACED_OBJECT_LINK, &uid)?,
    ));

    let wrapped = objects
        .hsm
        .generate_secret(kind, len, KeyUsage::all())
        .map_err(hsm_error)?;
    let digest = objects
        .hsm
        .digest_key(&wrapped, HashAlg::Sha256)
        .map_err(hsm_error)?;
    let mut new = build_new(
        ctx,
        objects,
        old.object_type,
        &template,
        Material {
            key: wrapped.into(),
            digest: Some((digest, Some(KeyFormatType::RAW))),
            generated: true,
        },
        extra,
    )?;
    new.owner = old.owner.clone();
    // Sensitive and Extractable as the existing key has them, unless the template says.
    let sensitive = bool_of(&old, "Sensitive").filter(|_| !given.iter().any(|g| g == "Sensitive"));
    if let Some(b) = sensitive {
        set_attr(&mut new, "Sensitive", AttrValue::Boolean(b));
        set_attr(&mut new, "Always Sensitive", AttrValue::Boolean(b));
    }
    let extractable =
        bool_of(&old, "Extractable").filter(|_| !given.iter().any(|g| g == "Extractable"));
    if let Some(b) = extractable {
        set_attr(&mut new, "Extractable", AttrValue::Boolean(b));
        set_attr(&mut new, "Never Extractable", AttrValue::Boolean(!b));
    }
    for n in &old.names {
        if !new.has_name(&n.value) {
            new.names.push(n.clone());
        }
    }
    let new_uid = new.unique_identifier.0.clone();

    let mut replaced = old.clone();
    replaced.names.clear();
    replaced.attributes.push(store::Attribute::new(
        "Link",
        link(LinkType::REPLACEMENT_OBJECT_LINK, &new_uid)?,
    ));
    set_attr(&mut replaced, "Last Change Date", AttrValue::DateTime(now));
    objects
        .store
        .commit(vec![
            Write::Replace {
                expected_version: old.version(),
                record: replaced,
            },
            Write::Create(new),
        ])
        .map_err(store_error)?;
    Ok(ResponsePayload::ReKey(ReKeyResponse {
        unique_identifier: new_uid,
        template_attribute: None,
    }))
}
