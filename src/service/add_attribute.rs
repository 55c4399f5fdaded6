//! Add Attribute (KMIP 1.4 §4.14, 2.1 §6.1.2): a new attribute or a new instance of a
//! multi-valued one; the 1.x answer echoes it with its index. Result Reasons: Item Not Found,
//! Permission Denied / Attribute Read Only, Illegal Operation / Attribute Single Valued, Wrong
//! Key Lifecycle State (2.x).

use crate::kmip::operations::add_attribute::AddAttributeRequest;
use crate::kmip::operations::AttributeEditResponse;
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit;
use crate::service::objects::Objects;
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &AddAttributeRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let mut next = r.clone();
    let added = attribute_edit::add(&mut next, request.attribute.attribute())?;
    objects.save(&r, &next)?;
    Ok(ResponsePayload::AttributeEdit(AttributeEditResponse {
        unique_identifier: uid,
        attribute: (!ctx.version.is_v2()).then_some(added),
    }))
}
