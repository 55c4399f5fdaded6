//! Discover Versions (KMIP 1.4 §4.26, 2.1 §6.1.17). Never fails.
//!
//! The rule: with an empty list the server returns every version it supports; with a list it
//! returns only the versions both sides support — possibly none, an empty list. The answer is
//! "ranked in decreasing order of preference", the server's: this server's list is newest first,
//! and clients list theirs newest first too, so the client's first choice that the server
//! supports comes first in practice.

use crate::kmip::payload::{DiscoverVersionsRequest, DiscoverVersionsResponse};
use crate::kmip::ResponsePayload;
use crate::service::{Context, PROTOCOL_VERSIONS};

pub fn handle(_ctx: &Context<'_>, request: &DiscoverVersionsRequest) -> ResponsePayload {
    let protocol_versions = PROTOCOL_VERSIONS
        .iter()
        .copied()
        .filter(|v| request.protocol_versions.is_empty() || request.protocol_versions.contains(v))
        .collect();
    ResponsePayload::DiscoverVersions(DiscoverVersionsResponse { protocol_versions })
}
