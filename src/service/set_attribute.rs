//! Set Attribute (KMIP 2.0 §6.1.52): sets a single-valued attribute, creating or replacing
//! it. Result Reasons: Item Not Found, Attribute Read Only, Multi Valued Attribute, Wrong Key
//! Lifecycle State.

use crate::kmip::operations::activate::IdentifierPayload;
use crate::kmip::operations::set_attribute::SetAttributeRequest;
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit;
use crate::service::objects::Objects;
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &SetAttributeRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let mut next = r.clone();
    attribute_edit::set(&mut next, &request.new_attribute)?;
    objects.save(&r, &next)?;
    Ok(ResponsePayload::Identifier(IdentifierPayload::new(uid)))
}
