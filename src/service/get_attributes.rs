//! Get Attributes (KMIP 1.4 §4.12, 2.1 §6.1.23): the attributes asked for (all when none is
//! named), shaped for the client's version; an attribute the object lacks is simply absent.
//! Destroyed objects still answer. Result Reasons: Item Not Found.

use crate::kmip::operations::get_attributes::{GetAttributesRequest, GetAttributesResponse};
use crate::kmip::operations::AttributeItems;
use crate::kmip::ResponsePayload;
use crate::service::attribute_rules::visible_attributes;
use crate::service::objects::Objects;
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &GetAttributesRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let all = visible_attributes(&r, ctx.version);
    let chosen = if request.selectors.is_empty() {
        all
    } else {
        let mut out = Vec::new();
        for s in &request.selectors {
            let Some(name) = s.name() else { continue };
            out.extend(all.iter().filter(|a| a.name == name).cloned());
        }
        out
    };
    let attributes = if ctx.version.is_v2() {
        let mut v = chosen;
        v.iter_mut().for_each(|a| a.index = None);
        AttributeItems::V2(v)
    } else {
        AttributeItems::V1(chosen)
    };
    Ok(ResponsePayload::GetAttributes(GetAttributesResponse {
        unique_identifier: uid,
        attributes,
    }))
}
