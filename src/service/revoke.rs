//! Revoke (KMIP 1.4 §4.20, 2.1 §6.1.50). Key Compromise and CA Compromise make the object
//! Compromised (from any state but Destroyed; a destroyed object becomes Destroyed
//! Compromised) and record Compromise Date (now) and Compromise Occurrence Date (as given, or
//! now); every other reason deactivates a Pre-Active or Active object (Deactivation Date :=
//! now). The Revocation Reason is kept. Result Reasons: Item Not Found; Permission Denied (1.x)
//! / Wrong Key Lifecycle State (2.x).

use crate::kmip::operations::activate::IdentifierPayload;
use crate::kmip::operations::revoke::RevokeRequest;
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit::finish;
use crate::service::objects::{now_secs, set_attr, state_name, to_store_value, Objects};
use crate::service::{Context, OpError};
use crate::store::{AttrValue, State};
use crate::ttlv::enums::RevocationReasonCode;

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &RevokeRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let now = now_secs();
    let code = request.revocation_reason.code;
    let compromise =
        code == RevocationReasonCode::KEY_COMPROMISE || code == RevocationReasonCode::CA_COMPROMISE;
    let mut next = r.clone();
    let wrong = |what: &str| OpError::WrongState {
        uid: uid.clone(),
        state: state_name(r.state),
        what: what.to_owned(),
    };
    if compromise {
        next.state = match r.state {
            State::DESTROYED | State::DESTROYED_COMPROMISED => State::DESTROYED_COMPROMISED,
            _ => State::COMPROMISED,
        };
        set_attr(&mut next, "Compromise Date", AttrValue::DateTime(now));
        set_attr(
            &mut next,
            "Compromise Occurrence Date",
            AttrValue::DateTime(request.compromise_occurrence_date.unwrap_or(now)),
        );
    } else {
        match r.state {
            State::PRE_ACTIVE | State::ACTIVE => {
                next.state = State::DEACTIVATED;
                set_attr(&mut next, "Deactivation Date", AttrValue::DateTime(now));
            }
            _ => {
                return Err(wrong(
                    "only a Pre-Active or Active object is revoked for a reason other than a compromise",
                ))
            }
        }
    }
    set_attr(
        &mut next,
        "Revocation Reason",
        to_store_value(&request.revocation_reason.to_item().value)?,
    );
    finish(&mut next);
    objects.save(&r, &next)?;
    objects.hsm.invalidate(&uid);
    Ok(ResponsePayload::Identifier(IdentifierPayload::new(uid)))
}
