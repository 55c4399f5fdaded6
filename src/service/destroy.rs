//! Destroy (KMIP 1.4 §4.21, 2.1 §6.1.16): allowed from Pre-Active, Deactivated and
//! Compromised. The wrapped material is dropped from the record; the metadata stays, as
//! Destroyed (or Destroyed Compromised) with a Destroy Date, so Get Attributes still answers.
//! Result Reasons: Item Not Found; Permission Denied (1.x) / Wrong Key Lifecycle State (2.x)
//! for an Active or already destroyed object.

use crate::kmip::operations::activate::IdentifierPayload;
use crate::kmip::operations::destroy::DestroyRequest;
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit::finish;
use crate::service::objects::{now_secs, set_attr, state_name, Objects};
use crate::service::{Context, OpError};
use crate::store::{AttrValue, State};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &DestroyRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let state = match r.state {
        State::PRE_ACTIVE | State::DEACTIVATED => State::DESTROYED,
        State::COMPROMISED => State::DESTROYED_COMPROMISED,
        other => {
            return Err(OpError::WrongState {
                uid,
                state: state_name(other),
                what: "only a Pre-Active, Deactivated or Compromised object can be destroyed \
                       (revoke an Active one first)"
                    .into(),
            })
        }
    };
    let mut next = r.clone();
    finish(&mut next);
    next.state = state;
    set_attr(&mut next, "Destroy Date", AttrValue::DateTime(now_secs()));
    next.destroy_key();
    objects.save(&r, &next)?;
    objects.hsm.invalidate(&uid);
    Ok(ResponsePayload::Identifier(IdentifierPayload::new(uid)))
}
