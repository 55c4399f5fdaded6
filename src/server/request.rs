//! The request path, bytes to bytes: decode (binary TTLV or KMIP JSON) → typed request →
//! [`Service::handle`] with the client's identity → typed response → encode. A message that
//! decodes as TTLV but not as a request — or not at all, when its header can still be read — is
//! answered Invalid Message in the protocol version sniffed from its header.
//!
//! Runs on a blocking thread (the service may call the HSM and the store). Logs shapes, never
//! bodies. Requests and answers may carry key material (a Register's or a Get's key bytes, a
//! password): the decoded request tree, the response tree and the encoded answer are zeroizing
//! (cleared when dropped); the transports keep the raw request bytes zeroizing too.

use tracing::{debug, info};

use crate::kmip::message::{sniff_version, ProtocolVersion};
use crate::kmip::RequestMessage;
use crate::service::{self, Identity, Service};
use crate::ttlv::enums::{CredentialType, Operation};
use crate::ttlv::{self, Item, Limits, Tag, Value, Zeroizing};

/// Answers one binary TTLV message (a whole frame, header included).
pub fn binary(
    service: &Service,
    identity: &Identity,
    frame: &[u8],
    limits: &Limits,
) -> Zeroizing<Vec<u8>> {
    let response = match ttlv::decode_zeroizing(frame, limits) {
        Ok(item) => answer(service, identity, &item),
        Err(e) => {
            info!(bytes = frame.len(), error = %e, "undecodable TTLV request");
            service::invalid_message(sniff_version_bytes(frame), Vec::new(), &e.to_string())
        }
    };
    ttlv::to_zeroizing_vec(&Zeroizing::new(response.to_item()))
}

/// Answers one KMIP JSON message; the answer is JSON named in the response's version.
pub fn json(service: &Service, identity: &Identity, text: &str) -> Zeroizing<String> {
    let response = match ttlv::json::from_json(text, None).map(Zeroizing::new) {
        Ok(item) => answer(service, identity, &item),
        Err(e) => {
            info!(bytes = text.len(), error = %e.without_value(), "undecodable JSON request");
            service::invalid_message(None, Vec::new(), &e.to_string())
        }
    };
    let version = response.header.protocol_version.version();
    ttlv::json::to_json_zeroizing(&Zeroizing::new(response.to_item()), version)
}

fn answer(service: &Service, identity: &Identity, item: &Item) -> crate::kmip::ResponseMessage {
    match RequestMessage::from_item(item) {
        Ok(request) => {
            log_credentials(&request);
            debug!(
                version = %request.header.protocol_version,
                items = request.batch_items.len(),
                "request"
            );
            service.handle(identity, request)
        }
        Err(e) => {
            info!(error = %e, "unreadable KMIP request");
            service::invalid_message(sniff_version(item), batch_item_ids(item), &e.to_string())
        }
    }
}

/// Credentials in a request header are accepted and ignored: the TLS client certificate
/// identifies the client. Logged by type only.
fn log_credentials(request: &RequestMessage) {
    for c in request.header.authentication.iter().flatten() {
        info!(
            credential_type = service::enum_name("CredentialType", c.credential_type.0),
            username_password = c.credential_type == CredentialType::USERNAME_AND_PASSWORD,
            "request carries a credential; ignored (the client certificate identifies the client)"
        );
    }
}

/// Operation and Unique Batch Item ID of each batch item that has them readable, so that an
/// Invalid Message answer can repeat them.
fn batch_item_ids(item: &Item) -> Vec<(Option<Operation>, Option<Vec<u8>>)> {
    item.children_with(Tag::BATCH_ITEM)
        .map(|b| {
            let operation = b.child(Tag::OPERATION).and_then(|o| match o.value {
                Value::Enumeration(v) => Some(Operation(v)),
                _ => None,
            });
            let id = b
                .child(Tag::UNIQUE_BATCH_ITEM_ID)
                .and_then(|i| match &i.value {
                    Value::ByteString(b) => Some(b.clone()),
                    _ => None,
                });
            (operation, id)
        })
        .collect()
}

/// The protocol version of a message that does not decode, read from its fixed leading bytes:
/// Request Message, Request Header, Protocol Version (each a Structure header), then Protocol
/// Version Major and Minor (Integers, 16 bytes each).
pub fn sniff_version_bytes(frame: &[u8]) -> Option<ProtocolVersion> {
    let int_at = |offset: usize, tag: Tag| -> Option<i32> {
        let b = frame.get(offset..offset + 16)?;
        let want = tag.0.to_be_bytes();
        (b[..3] == want[1..] && b[3] == 0x02 && b[4..8] == [0, 0, 0, 4])
            .then(|| i32::from_be_bytes([b[8], b[9], b[10], b[11]]))
    };
    let structure_at = |offset: usize, tag: Tag| -> bool {
        let want = tag.0.to_be_bytes();
        frame
            .get(offset..offset + 4)
            .is_some_and(|b| b[..3] == want[1..] && b[3] == 0x01)
    };
    if !(structure_at(0, Tag::REQUEST_MESSAGE)
        && structure_at(8, Tag::REQUEST_HEADER)
        && structure_at(16, Tag::PROTOCOL_VERSION))
    {
        return None;
    }
    Some(ProtocolVersion::new(
        int_at(24, Tag::PROTOCOL_VERSION_MAJOR)?,
        int_at(40, Tag::PROTOCOL_VERSION_MINOR)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::ResponseMessage;
    use crate::ttlv::enums::{ResultReason, ResultStatus};

    fn decode_response(bytes: &[u8]) -> ResponseMessage {
        let item = ttlv::decode(bytes, &Limits::DEFAULT).unwrap();
        ResponseMessage::from_item(&item).unwrap()
    }

    #[test]
    fn answers_invalid_message_in_the_sniffed_version() {
        // A 1.2 header followed by a batch item whose payload is truncated.
        let header = Item::structure(
            Tag::REQUEST_MESSAGE,
            vec![Item::structure(
                Tag::REQUEST_HEADER,
                vec![ProtocolVersion::new(1, 2).to_item()],
            )],
        );
        let mut frame = ttlv::to_vec(&header)[..56].to_vec();
        frame.extend_from_slice(&[0x42, 0x00, 0x0F, 0x01, 0, 0, 0, 0x40, 0xFF]);
        assert_eq!(
            sniff_version_bytes(&frame),
            Some(ProtocolVersion::new(1, 2))
        );
        let r = decode_response(&binary(
            &Service::default(),
            &Identity::new("a"),
            &frame,
            &Limits::DEFAULT,
        ));
        assert_eq!(r.header.protocol_version, ProtocolVersion::new(1, 2));
        assert_eq!(
            r.batch_items[0].result_status,
            ResultStatus::OPERATION_FAILED
        );
        assert_eq!(
            r.batch_items[0].result_reason,
            Some(ResultReason::INVALID_MESSAGE)
        );
    }

    #[test]
    fn repeats_operation_and_id_of_unreadable_items() {
        // A 2.1 Get whose batch item carries an unexpected field after its payload.
        let item = Item::structure(
            Tag::REQUEST_MESSAGE,
            vec![
                Item::structure(
                    Tag::REQUEST_HEADER,
                    vec![
                        ProtocolVersion::new(2, 1).to_item(),
                        Item::new(Tag::BATCH_COUNT, Value::Integer(1)),
                    ],
                ),
                Item::structure(
                    Tag::BATCH_ITEM,
                    vec![
                        Item::new(Tag::OPERATION, Value::Enumeration(Operation::GET.0)),
                        Item::new(Tag::UNIQUE_BATCH_ITEM_ID, Value::ByteString(vec![9])),
                        Item::structure(Tag::REQUEST_PAYLOAD, vec![]),
                        Item::new(Tag::BATCH_COUNT, Value::Integer(1)),
                    ],
                ),
            ],
        );
        let r = decode_response(&binary(
            &Service::default(),
            &Identity::new("a"),
            &ttlv::to_vec(&item),
            &Limits::DEFAULT,
        ));
        assert_eq!(r.header.protocol_version, ProtocolVersion::new(2, 1));
        let a = &r.batch_items[0];
        assert_eq!(a.operation, Some(Operation::GET));
        assert_eq!(a.unique_batch_item_id.as_deref(), Some(&[9u8][..]));
        assert_eq!(a.result_reason, Some(ResultReason::INVALID_MESSAGE));
    }

    #[test]
    fn answers_are_zeroizing_buffers() {
        // A Get answer may carry key bytes: both encodings are returned in buffers that clear
        // themselves when dropped (the type says so; freed memory is not read).
        let discover = |v: ProtocolVersion| {
            Item::structure(
                Tag::REQUEST_MESSAGE,
                vec![
                    Item::structure(
                        Tag::REQUEST_HEADER,
                        vec![v.to_item(), Item::new(Tag::BATCH_COUNT, Value::Integer(1))],
                    ),
                    Item::structure(
                        Tag::BATCH_ITEM,
                        vec![
                            Item::new(
                                Tag::OPERATION,
                                Value::Enumeration(Operation::DISCOVER_VERSIONS.0),
                            ),
                            Item::structure(Tag::REQUEST_PAYLOAD, vec![]),
                        ],
                    ),
                ],
            )
        };
        let frame = ttlv::to_zeroizing_vec(&discover(ProtocolVersion::new(2, 1)));
        let answer: Zeroizing<Vec<u8>> = binary(
            &Service::default(),
            &Identity::new("a"),
            &frame,
            &Limits::DEFAULT,
        );
        let r = decode_response(&answer);
        assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
        let text = ttlv::json::to_json_string(&discover(ProtocolVersion::new(1, 4)), None);
        let answer: Zeroizing<String> = json(&Service::default(), &Identity::new("a"), &text);
        assert!(answer.contains("\"Success\""), "{}", *answer);
    }

    #[test]
    fn answers_json_in_json() {
        let text = r#"{"tag":"RequestMessage","value":[
            {"tag":"RequestHeader","value":[
                {"tag":"ProtocolVersion","value":[
                    {"tag":"ProtocolVersionMajor","type":"Integer","value":2},
                    {"tag":"ProtocolVersionMinor","type":"Integer","value":1}]},
                {"tag":"BatchCount","type":"Integer","value":1}]},
            {"tag":"BatchItem","value":[
                {"tag":"Operation","type":"Enumeration","value":"DiscoverVersions"},
                {"tag":"RequestPayload","value":[]}]}]}"#;
        let out = json(&Service::default(), &Identity::new("a"), text);
        let item = ttlv::json::from_json(&out, None).unwrap();
        let r = ResponseMessage::from_item(&item).unwrap();
        assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
        assert!(out.contains("\"DiscoverVersions\""), "{}", *out);
        let bad = json(&Service::default(), &Identity::new("a"), "{not json");
        assert!(bad.contains("InvalidMessage"), "{}", *bad);
    }
}
