//! Interop (KMIP 2.0 §6.1.28): a test harness marks Begin, End or Reset of a test case. The
//! server keeps no per-test state, so each is logged and answered Success (empty payload).

use tracing::info;

use crate::kmip::payload::{empty_response_payload, InteropRequest};
use crate::kmip::ResponsePayload;
use crate::service::{enum_name, Context};

pub fn handle(ctx: &Context<'_>, request: &InteropRequest) -> ResponsePayload {
    info!(
        identity = %ctx.identity,
        function = enum_name("InteropFunction", request.interop_function.0),
        interop_identifier = ?request.interop_identifier,
        "interop"
    );
    empty_response_payload()
}
