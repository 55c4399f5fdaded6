//! Modify Attribute (KMIP 1.4 §4.15, 2.1 §6.1.36): a new value for an existing attribute
//! instance. Result Reasons: Item Not Found, Permission Denied / Attribute Read Only, Wrong Key
//! Lifecycle State (2.x: e.g. Activation Date of an Active key), Item Not Found / Index Out Of
//! Bounds / Attribute Not Found (no such instance).

use crate::kmip::operations::modify_attribute::ModifyAttributeRequest;
use crate::kmip::operations::AttributeEditResponse;
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit;
use crate::service::objects::Objects;
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &ModifyAttributeRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let mut next = r.clone();
    let new = request.attribute.attribute();
    let current = request.current.as_ref();
    // 2.x without Current Attribute: a single-valued attribute that is absent is set.
    let modified = match attribute_edit::modify(&mut next, new, current) {
        Err(OpError::AttributeNotFound { .. })
            if ctx.version.is_v2()
                && current.is_none()
                && !crate::service::attribute_rules::multi_valued(&new.name) =>
        {
            attribute_edit::set(&mut next, new)?;
            new.clone()
        }
        other => other?,
    };
    objects.save(&r, &next)?;
    Ok(ResponsePayload::AttributeEdit(AttributeEditResponse {
        unique_identifier: uid,
        attribute: (!ctx.version.is_v2()).then_some(modified),
    }))
}
