//! Check (KMIP 1.4 §4.10, 2.1 §6.1.6): whether the object could be used as described. The
//! usage mask asked must be a subset of the object's; this server has no usage limits and no
//! leases, so those checks pass. A successful Check echoes the identifier only. Result Reasons:
//! Item Not Found, Object Destroyed / Permission Denied, Incompatible Cryptographic Usage Mask
//! (2.x; Permission Denied in 1.x, as for every usage-mask refusal).

use crate::kmip::operations::check::CheckPayload;
use crate::kmip::ResponsePayload;
use crate::service::objects::{int_of, Objects};
use crate::service::{Context, OpError};

pub fn handle(
    ctx: &Context<'_>,
    objects: &Objects,
    request: &CheckPayload,
) -> Result<ResponsePayload, OpError> {
    let uid = ctx.uid(request.unique_identifier.as_deref())?;
    let r = objects.load(ctx, &uid)?;
    if r.is_destroyed() {
        return Err(OpError::Destroyed(uid));
    }
    if let Some(asked) = request.cryptographic_usage_mask {
        let has = int_of(&r, "Cryptographic Usage Mask").unwrap_or(0);
        if asked & !has != 0 {
            return Err(OpError::UsageMask {
                uid,
                operation: "Check",
                bit: "a usage asked",
            });
        }
    }
    Ok(ResponsePayload::Check(CheckPayload {
        unique_identifier: Some(uid),
        ..CheckPayload::default()
    }))
}
