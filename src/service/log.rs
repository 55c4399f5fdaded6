//! Log (KMIP 2.0 §6.1.29): the client asks the server to write a message to its log. Written
//! with the client's identity, escaped (`{:?}`) and cut to [`MAX_LOGGED_CHARS`] characters so
//! that a client cannot forge log lines or flood the log; answered Success (empty payload).

use tracing::info;

use crate::kmip::payload::{empty_response_payload, LogRequest};
use crate::kmip::ResponsePayload;
use crate::service::Context;

/// Longest client message written to the log (characters); the rest is cut.
pub const MAX_LOGGED_CHARS: usize = 1024;

pub fn handle(ctx: &Context<'_>, request: &LogRequest) -> ResponsePayload {
    let total = request.log_message.chars().count();
    let shown: String = request.log_message.chars().take(MAX_LOGGED_CHARS).collect();
    info!(
        identity = %ctx.identity,
        log_message = ?shown,
        chars = total,
        truncated = total > MAX_LOGGED_CHARS,
        "client log message"
    );
    empty_response_payload()
}
