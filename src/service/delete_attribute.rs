//! Delete Attribute (KMIP 1.4 §4.16, 2.1 §6.1.13): removes an instance (1.x: by index, 0 by
//! default; 2.x: by value with Current Attribute) or every instance (2.x Attribute Reference).
//! The 1.x answer echoes the deleted attribute. Result Reasons: Item Not Found, Permission
//! Denied / Attribute Read Only, Item Not Found / Index Out Of Bounds / Attribute Not Found.

use crate::kmip::attributes::AttributeName;
use crate::kmip::operations::delete_attribute::{DeleteAttributeRequest, DeleteTarget};
use crate::kmip::operations::AttributeEditResponse;
use crate::kmip::ResponsePayload;
use crate::service::attribute_edit;
use crate::service::objects::Objects;
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &DeleteAttributeRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let mut next = r.clone();
    let removed = match &request.target {
        DeleteTarget::V1 { name, index } => {
            let n = AttributeName::from_v1(name)
                .ok_or_else(|| OpError::Invalid(format!("{name:?} is not an attribute name")))?;
            attribute_edit::delete(&mut next, &n, Some(index.unwrap_or(0)), None, false)?
        }
        DeleteTarget::V2 {
            current: Some(c), ..
        } => attribute_edit::delete(&mut next, &c.name, None, Some(&c.value), false)?,
        DeleteTarget::V2 {
            current: None,
            reference: Some(n),
        } => attribute_edit::delete(&mut next, n, None, None, true)?,
        DeleteTarget::V2 { .. } => {
            return Err(OpError::Invalid(
                "Delete Attribute needs a Current Attribute or an Attribute Reference".into(),
            ))
        }
    };
    objects.save(&r, &next)?;
    let echoed = removed.into_iter().next().map(|mut a| {
        a.index = a.index.filter(|i| *i > 0);
        a
    });
    Ok(ResponsePayload::AttributeEdit(AttributeEditResponse {
        unique_identifier: uid,
        attribute: if ctx.version.is_v2() { None } else { echoed },
    }))
}
