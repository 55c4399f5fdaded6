//! Get Attribute List (KMIP 1.4 §4.13, 2.1 §6.1.24): the names of the attributes the object
//! has, each once, as texts (1.x) or Attribute References (2.x). Result Reasons: Item Not Found.

use crate::kmip::operations::get_attribute_list::{
    GetAttributeListRequest, GetAttributeListResponse,
};
use crate::kmip::operations::AttributeSelector;
use crate::kmip::ResponsePayload;
use crate::service::attribute_rules::visible_attributes;
use crate::service::objects::Objects;
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &GetAttributeListRequest,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    let mut names = Vec::new();
    for a in visible_attributes(&r, ctx.version) {
        if !names.contains(&a.name) {
            names.push(a.name);
        }
    }
    let names = names
        .into_iter()
        .map(|n| {
            if ctx.version.is_v2() {
                AttributeSelector::Reference(n)
            } else {
                AttributeSelector::Text(n.to_v1())
            }
        })
        .collect();
    Ok(ResponsePayload::GetAttributeList(
        GetAttributeListResponse {
            unique_identifier: uid,
            names,
        },
    ))
}
