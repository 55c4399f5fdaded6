use super::*;
use crate::kmip::message::RequestHeader;
use crate::kmip::payload::{
    DiscoverVersionsRequest, InteropRequest, LogRequest, QueryRequest, QueryResponse,
};
use crate::ttlv::enums::{InteropFunction, QueryFunction};
use crate::ttlv::{Item, Tag};

fn v(major: i32, minor: i32) -> ProtocolVersion {
    ProtocolVersion::new(major, minor)
}

fn item(operation: Operation, id: &[u8], payload: RequestPayload) -> RequestBatchItem {
    RequestBatchItem {
        operation,
        ephemeral: None,
        unique_batch_item_id: Some(id.to_vec()),
        payload,
        message_extension: None,
    }
}

fn other() -> RequestPayload {
    RequestPayload::Other(Item::structure(Tag::REQUEST_PAYLOAD, vec![]))
}

fn request(version: ProtocolVersion, items: Vec<RequestBatchItem>) -> RequestMessage {
    RequestMessage {
        header: RequestHeader::new(version, items.len() as i32),
        batch_items: items,
    }
}

fn run(req: RequestMessage) -> ResponseMessage {
    Service::default().handle(&Identity::new("alice"), req)
}

fn discover(version: ProtocolVersion, client: Vec<ProtocolVersion>) -> Vec<ProtocolVersion> {
    let r = run(request(
        version,
        vec![item(
            Operation::DISCOVER_VERSIONS,
            b"1",
            RequestPayload::DiscoverVersions(DiscoverVersionsRequest {
                protocol_versions: client,
            }),
        )],
    ));
    match &r.batch_items[0].payload {
        Some(ResponsePayload::DiscoverVersions(d)) => d.protocol_versions.clone(),
        other => panic!("not a DiscoverVersions answer: {other:?}"),
    }
}

#[test]
fn discover_versions_lists_all_or_the_common_ones() {
    assert_eq!(discover(v(1, 4), vec![]), PROTOCOL_VERSIONS.to_vec());
    assert_eq!(
        discover(v(1, 2), vec![v(1, 2), v(3, 0), v(2, 0)]),
        vec![v(2, 0), v(1, 2)]
    );
    assert_eq!(discover(v(1, 0), vec![v(3, 0), v(1, 5)]), vec![]);
}

#[test]
fn answers_every_listed_operation_and_refuses_the_others() {
    let payload = |op: Operation| match op {
        Operation::QUERY => RequestPayload::Query(QueryRequest::default()),
        Operation::DISCOVER_VERSIONS => {
            RequestPayload::DiscoverVersions(DiscoverVersionsRequest::default())
        }
        Operation::LOG => RequestPayload::Log(LogRequest {
            log_message: "hello".into(),
        }),
        Operation::INTEROP => RequestPayload::Interop(InteropRequest {
            interop_function: InteropFunction::BEGIN,
            interop_identifier: "t1".into(),
        }),
        other => panic!("OPERATIONS lists {other:?} but the test does not know its payload"),
    };
    for op in OPERATIONS {
        let r = run(request(v(2, 1), vec![item(*op, b"x", payload(*op))]));
        assert_eq!(
            r.batch_items[0].result_status,
            ResultStatus::SUCCESS,
            "{op:?}"
        );
    }
    for op in [Operation::CREATE, Operation::GET, Operation(0x8000_0001)] {
        let r = run(request(v(1, 4), vec![item(op, b"x", other())]));
        let a = &r.batch_items[0];
        assert_eq!(a.result_status, ResultStatus::OPERATION_FAILED);
        assert_eq!(a.result_reason, Some(ResultReason::OPERATION_NOT_SUPPORTED));
        assert_eq!(a.operation, Some(op));
        assert!(a
            .result_message
            .as_deref()
            .unwrap()
            .contains("not supported"));
    }
}

#[test]
fn batch_items_repeat_operation_and_id_and_stop_at_the_first_failure_by_default() {
    let items = || {
        vec![
            item(
                Operation::QUERY,
                b"a",
                RequestPayload::Query(QueryRequest::default()),
            ),
            item(Operation::GET, b"b", other()),
            item(
                Operation::DISCOVER_VERSIONS,
                b"c",
                RequestPayload::DiscoverVersions(DiscoverVersionsRequest::default()),
            ),
        ]
    };
    let r = run(request(v(1, 4), items()));
    assert_eq!(r.header.batch_count, 2);
    assert_eq!(r.header.protocol_version, v(1, 4));
    assert!(r.header.time_stamp > 1_600_000_000);
    let ids: Vec<_> = r
        .batch_items
        .iter()
        .map(|a| a.unique_batch_item_id.clone())
        .collect();
    assert_eq!(ids, vec![Some(b"a".to_vec()), Some(b"b".to_vec())]);

    let mut req = request(v(1, 4), items());
    req.header.batch_error_continuation_option = Some(BatchErrorContinuationOption::CONTINUE);
    let r = run(req);
    assert_eq!(r.header.batch_count, 3);
    let got: Vec<_> = r
        .batch_items
        .iter()
        .map(|a| (a.operation, a.result_status))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(Operation::QUERY), ResultStatus::SUCCESS),
            (Some(Operation::GET), ResultStatus::OPERATION_FAILED),
            (Some(Operation::DISCOVER_VERSIONS), ResultStatus::SUCCESS),
        ]
    );
}

fn query(version: ProtocolVersion, functions: &[QueryFunction]) -> QueryResponse {
    let r = run(request(
        version,
        vec![item(
            Operation::QUERY,
            b"q",
            RequestPayload::Query(QueryRequest {
                query_functions: functions.to_vec(),
            }),
        )],
    ));
    match &r.batch_items[0].payload {
        Some(ResponsePayload::Query(q)) => (**q).clone(),
        other => panic!("not a Query answer: {other:?}"),
    }
}

#[test]
fn query_tells_each_version_only_what_it_names() {
    let ops = [
        QueryFunction::QUERY_OPERATIONS,
        QueryFunction::QUERY_OBJECTS,
    ];
    assert_eq!(query(v(1, 0), &ops).operations, vec![Operation::QUERY]);
    assert_eq!(
        query(v(1, 4), &ops).operations,
        vec![Operation::QUERY, Operation::DISCOVER_VERSIONS]
    );
    assert_eq!(query(v(2, 1), &ops).operations, OPERATIONS.to_vec());
    assert!(query(v(2, 1), &ops).object_types.is_empty());
    assert_eq!(query(v(2, 1), &ops).vendor_identification, None);

    let info = query(v(2, 1), &[QueryFunction::QUERY_SERVER_INFORMATION]);
    assert_eq!(info.vendor_identification.as_deref(), Some("hsmkms"));
    let si = info.server_information.unwrap();
    assert_eq!(
        si.child(Tag::SERVER_VERSION).map(|i| i.value.clone()),
        Some(crate::ttlv::Value::TextString(
            env!("CARGO_PKG_VERSION").into()
        ))
    );
    assert!(info.operations.is_empty());
}

#[test]
fn refuses_unsupported_versions_but_still_discovers() {
    for (version, reason) in [
        (v(1, 5), ResultReason::INVALID_MESSAGE),
        (v(2, 2), ResultReason::UNSUPPORTED_PROTOCOL_VERSION),
    ] {
        let r = run(request(
            version,
            vec![
                item(
                    Operation::DISCOVER_VERSIONS,
                    b"1",
                    RequestPayload::DiscoverVersions(DiscoverVersionsRequest::default()),
                ),
                item(
                    Operation::QUERY,
                    b"2",
                    RequestPayload::Query(QueryRequest::default()),
                ),
            ],
        ));
        assert_eq!(r.header.protocol_version, version);
        assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
        assert_eq!(r.batch_items[1].result_reason, Some(reason));
    }
}

#[test]
fn invalid_message_answers_in_a_version_the_client_reads() {
    let r = invalid_message(None, vec![], "garbage");
    assert_eq!(r.header.protocol_version, v(1, 0));
    assert_eq!(r.batch_items.len(), 1);
    assert_eq!(r.batch_items[0].operation, None);
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::INVALID_MESSAGE)
    );
    let r = invalid_message(
        Some(v(1, 9)),
        vec![(Some(Operation::GET), Some(b"7".to_vec()))],
        "bad",
    );
    assert_eq!(r.header.protocol_version, v(1, 4));
    assert_eq!(r.batch_items[0].operation, Some(Operation::GET));
    assert_eq!(
        r.batch_items[0].unique_batch_item_id.as_deref(),
        Some(&b"7"[..])
    );
    assert_eq!(
        invalid_message(Some(v(2, 0)), vec![], "x")
            .header
            .protocol_version,
        v(2, 0)
    );
}

#[test]
fn maximum_response_size_gives_response_too_large() {
    let mut req = request(
        v(2, 1),
        vec![item(
            Operation::QUERY,
            b"q",
            RequestPayload::Query(QueryRequest {
                query_functions: vec![QueryFunction::QUERY_OPERATIONS],
            }),
        )],
    );
    req.header.maximum_response_size = Some(16);
    let r = run(req);
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::RESPONSE_TOO_LARGE)
    );
    assert!(r.batch_items[0].payload.is_none());
}
