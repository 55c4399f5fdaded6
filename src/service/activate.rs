//! Activate (KMIP 1.4 §4.19, 2.1 §6.1.1): Pre-Active → Active, Activation Date := now.
//! Result Reasons: Item Not Found; Permission Denied (1.x) / Wrong Key Lifecycle State (2.x)
//! from any other state.

use crate::kmip::operations::activate::{ActivateRequest, IdentifierPayload};
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit::finish;
use crate::service::objects::{now_secs, set_attr, state_name, Objects};
use crate::service::{Context, OpError};
use crate::store::{AttrValue, State};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &ActivateRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    if r.state != State::PRE_ACTIVE {
        return Err(OpError::WrongState {
            uid,
            state: state_name(r.state),
            what: "only a Pre-Active object can be activated".into(),
        });
    }
    let mut next = r.clone();
    next.state = State::ACTIVE;
    set_attr(
        &mut next,
        "Activation Date",
        AttrValue::DateTime(now_secs()),
    );
    finish(&mut next);
    objects.save(&r, &next)?;
    Ok(ResponsePayload::Identifier(IdentifierPayload::new(uid)))
}
