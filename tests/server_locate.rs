//! Locate, ReKey and batch rules through the real stack (TLS, SoftHSM, sled): filters, paging,
//! Located Items, date ranges, Storage Status Mask, ownership, the ID placeholder; ReKey with an
//! Offset; Undo, Continue, correlation values, Maximum Response Size; PyKMIP 0.11.0's locate and
//! rekey (tests/pykmip/locate.py).

mod client_support;
mod common;
mod server_support;

use client_support::*;

use hsmkms::kmip::attributes::{Attribute, AttributeName};
use hsmkms::kmip::operations::create::CreateRequest;
use hsmkms::kmip::operations::get::GetRequest;
use hsmkms::kmip::operations::get_attributes::GetAttributesRequest;
use hsmkms::kmip::operations::locate::LocateRequest;
use hsmkms::kmip::operations::rekey::ReKeyRequest;
use hsmkms::kmip::operations::{AttributeItems, AttributeSelector, AttributeSet};
use hsmkms::kmip::{RequestPayload, ResponsePayload};
use hsmkms::ttlv::enums::{
    BatchErrorContinuationOption, CryptographicAlgorithm, LinkType, ObjectType, Operation,
    ResultReason, ResultStatus, State,
};
use hsmkms::ttlv::{Tag, Value};
use server_support::*;

/// Locate: newest first, Maximum/Offset Items with Located Items (1.4), date ranges, Object
/// Group, Storage Status Mask (destroyed objects for 2.x only when asked), the ID placeholder
/// after a Locate that found one object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locate_filters_paging_dates_and_storage_mask() {
    let backend = Backend::new();
    let mut pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let group = || Attribute::new(Tag::OBJECT_GROUP, Value::TextString("g1".into()));
    let mut uids = Vec::new();
    for i in 0..4 {
        let uid = created(
            &c.one(
                Operation::CREATE,
                aes(128, vec![group(), name_attr(&format!("k{i}"))]),
            )
            .await,
        );
        uids.push(uid);
    }
    let newest_first: Vec<String> = uids.iter().rev().cloned().collect();
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![group()])),
        )
        .await;
    assert_eq!(located(&r), newest_first);
    let mut l = locate(vec![group()]);
    l.maximum_items = Some(2);
    l.offset_items = Some(1);
    let r = c.one(Operation::LOCATE, RequestPayload::Locate(l)).await;
    assert_eq!(located(&r), newest_first[1..3].to_vec());
    match payload(&r) {
        ResponsePayload::Locate(l) => assert_eq!(l.located_items, Some(4)),
        _ => unreachable!(),
    }

    // A date range: two Initial Date values.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let initial = |d: i64| Attribute::new(Tag::INITIAL_DATE, Value::DateTime(d));
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![
                group(),
                initial(now - 3600),
                initial(now + 3600),
            ])),
        )
        .await;
    assert_eq!(located(&r).len(), 4);
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![
                group(),
                initial(now + 3600),
                initial(now + 7200),
            ])),
        )
        .await;
    assert!(located(&r).is_empty());

    // Destroyed: never for 1.4; for 2.1 only with Destroyed Storage in the mask.
    ok(&c.one(Operation::DESTROY, destroy(&uids[0])).await);
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![group()])),
        )
        .await;
    assert_eq!(located(&r).len(), 3);
    let mut l = locate(vec![group()]);
    l.storage_status_mask = Some(0x1 | 0x4);
    let r = c
        .one(Operation::LOCATE, RequestPayload::Locate(l.clone()))
        .await;
    assert_eq!(
        located(&r).len(),
        3,
        "1.x: no destroyed objects even if asked"
    );
    let mut c2 = client(&server, &pki, (2, 1)).await;
    let v2 = |mut l: LocateRequest| {
        l.attributes = AttributeItems::V2(l.attributes.attributes().to_vec());
        RequestPayload::Locate(l)
    };
    let r = c2.one(Operation::LOCATE, v2(l.clone())).await;
    assert_eq!(located(&r).len(), 4);
    l.storage_status_mask = Some(0x4);
    let r = c2.one(Operation::LOCATE, v2(l)).await;
    assert_eq!(located(&r), vec![uids[0].clone()]);

    // Locate that finds one object sets the ID placeholder for the next item.
    let r = c
        .batch(vec![
            (
                Operation::LOCATE,
                RequestPayload::Locate(locate(vec![name_attr("k2")])),
            ),
            (Operation::GET, RequestPayload::Get(GetRequest::default())),
        ])
        .await;
    ok(&r);
    match r.batch_items[1].payload.as_ref() {
        Some(ResponsePayload::Get(g)) => assert_eq!(g.unique_identifier, uids[2]),
        other => panic!("{other:?}"),
    }

    // Another identity sees none of them.
    let bob = pki
        .ca
        .issue_client("bob", &hsmkms::pki::ClientOptions::default())
        .unwrap();
    let mut b = Client {
        tls: connect(server.kmip_addr, pki.client_config(Some(&bob)))
            .await
            .unwrap(),
        version: (1, 4),
    };
    let r = b
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![group()])),
        )
        .await;
    assert!(located(&r).is_empty());
    server.shutdown().await;
}

/// ReKey with an Offset: the replacement's Activation Date is its Initial Date + Offset (so it
/// is Pre-Active until then); custom attributes are copied; ReKey in a batch sets the ID
/// placeholder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekey_offset_and_placeholder() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let uid = created(
        &c.one(
            Operation::CREATE,
            aes(256, vec![name_attr("rk"), custom("x-app", "db")]),
        )
        .await,
    );
    ok(&c.one(Operation::ACTIVATE, activate(&uid)).await);
    let r = c
        .batch(vec![
            (
                Operation::RE_KEY,
                RequestPayload::ReKey(ReKeyRequest {
                    unique_identifier: Some(uid.clone()),
                    offset: Some(86_400),
                    attributes: None,
                    protection_storage_masks: None,
                }),
            ),
            (
                Operation::GET_ATTRIBUTES,
                RequestPayload::GetAttributes(GetAttributesRequest {
                    unique_identifier: None,
                    selectors: ["State", "Initial Date", "Activation Date", "x-app", "Name"]
                        .iter()
                        .map(|n| AttributeSelector::Text((*n).into()))
                        .collect(),
                }),
            ),
        ])
        .await;
    ok(&r);
    let new = created(&r);
    let attrs = match r.batch_items[1].payload.as_ref() {
        Some(ResponsePayload::GetAttributes(g)) => {
            assert_eq!(g.unique_identifier, new);
            g.attributes.attributes().to_vec()
        }
        other => panic!("{other:?}"),
    };
    let date = |tag| {
        attrs.iter().find_map(|a| match (&a.name, &a.value) {
            (AttributeName::Standard(t), Value::DateTime(d)) if *t == tag => Some(*d),
            _ => None,
        })
    };
    let (initial, activation) = (
        date(Tag::INITIAL_DATE).unwrap(),
        date(Tag::ACTIVATION_DATE).unwrap(),
    );
    assert_eq!(activation - initial, 86_400);
    assert!(attrs
        .iter()
        .any(|a| a.name == AttributeName::Standard(Tag::STATE)
            && a.value == Value::Enumeration(State::PRE_ACTIVE.0)));
    assert!(attrs
        .iter()
        .any(|a| a.value == Value::TextString("db".into())));
    assert!(attrs.iter().any(|a| a.value == name_value("rk")));

    // A 2.1 client: ReKey with an (empty) Attributes structure; the links read back in 2.x form.
    let mut c2 = client(&server, &pki, (2, 1)).await;
    let r = c2
        .one(
            Operation::RE_KEY,
            RequestPayload::ReKey(ReKeyRequest {
                unique_identifier: Some(new.clone()),
                offset: None,
                attributes: Some(AttributeSet::V2(vec![])),
                protection_storage_masks: None,
            }),
        )
        .await;
    let third = created(&r);
    assert!(third != new && third != uid);
    let r = c2
        .one(
            Operation::GET_ATTRIBUTES,
            RequestPayload::GetAttributes(GetAttributesRequest {
                unique_identifier: Some(new.clone()),
                selectors: vec![AttributeSelector::Reference(AttributeName::Standard(
                    Tag::LINK,
                ))],
            }),
        )
        .await;
    let mut got = links(&r);
    got.sort();
    let mut want = vec![
        (LinkType::REPLACEMENT_OBJECT_LINK.0, third.clone()),
        (LinkType::REPLACED_OBJECT_LINK.0, uid.clone()),
    ];
    want.sort();
    assert_eq!(got, want);
    server.shutdown().await;
}

/// Batch header rules: correlation values accepted (logged, not echoed); Undo answered Feature
/// Not Supported without doing anything; Continue answers every item, in order, synchronously
/// (Batch Order Option false, Asynchronous and Attestation Capable indicators set); Maximum
/// Response Size gives Response Too Large.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_undo_continue_correlation_and_size() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (2, 1)).await;
    let v2_create = || {
        RequestPayload::Create(CreateRequest {
            object_type: ObjectType::SYMMETRIC_KEY,
            attributes: Some(AttributeSet::V2(vec![
                Attribute::new(
                    Tag::CRYPTOGRAPHIC_ALGORITHM,
                    Value::Enumeration(CryptographicAlgorithm::AES.0),
                ),
                Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
                name_attr("undo-me"),
            ])),
            protection_storage_masks: None,
        })
    };
    let mut m = message(
        (2, 1),
        vec![
            (Operation::CREATE, v2_create()),
            (Operation::GET, get("no-such-object")),
        ],
    );
    m.header.batch_error_continuation_option = Some(BatchErrorContinuationOption::UNDO);
    m.header.client_correlation_value = Some("client-42".into());
    m.header.server_correlation_value = Some("server-7".into());
    let r = roundtrip(&mut c.tls, &bytes(&m)).await;
    // Correlation values are for logs, not echoed (the OASIS 2.1 vectors expect none back).
    assert_eq!(r.header.client_correlation_value, None);
    assert_eq!(r.header.server_correlation_value, None);
    assert_eq!(r.batch_items.len(), 2);
    for b in &r.batch_items {
        assert_eq!(b.result_reason, Some(ResultReason::FEATURE_NOT_SUPPORTED));
    }
    let mut l = locate(vec![name_attr("undo-me")]);
    l.attributes = AttributeItems::V2(l.attributes.attributes().to_vec());
    let r = c.one(Operation::LOCATE, RequestPayload::Locate(l)).await;
    assert!(located(&r).is_empty(), "Undo did nothing");

    m.header.batch_error_continuation_option = Some(BatchErrorContinuationOption::CONTINUE);
    // Any order allowed (false): answered in order. Asynchronous and attestation capabilities
    // are the client's: answered synchronously, without attestation.
    m.header.batch_order_option = Some(false);
    m.header.asynchronous_indicator = Some(true);
    m.header.attestation_capable_indicator = Some(true);
    let r = roundtrip(&mut c.tls, &bytes(&m)).await;
    assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    assert_eq!(r.batch_items[0].unique_batch_item_id, Some(vec![1]));
    assert_eq!(r.batch_items[1].unique_batch_item_id, Some(vec![2]));
    assert_eq!(r.batch_items[0].asynchronous_correlation_value, None);
    assert_eq!(
        r.batch_items[1].result_reason,
        Some(ResultReason::OBJECT_NOT_FOUND)
    );
    let uid = created(&r);

    let mut m = message((2, 1), vec![(Operation::GET, get(&uid))]);
    m.header.maximum_response_size = Some(16);
    let r = roundtrip(&mut c.tls, &bytes(&m)).await;
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::RESPONSE_TOO_LARGE)
    );
    server.shutdown().await;
}

// PyKMIP

/// PyKMIP 0.11.0's `locate` (by name, state, object group, Maximum Items) and `rekey` (with and
/// without Offset): tests/pykmip/locate.py.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_locates_and_rekeys() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let (stdout, stderr) = run_pykmip("locate.py", &server, &pki).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "by_name=True",
            "by_state=True",
            "by_state_pre_active=True",
            "by_group=True",
            "maximum_items=1",
            "rekey_new_id=True",
            "name_moved=True",
            "old_state=ACTIVE",
            "new_material_differs=True",
            "offset_state=PRE_ACTIVE",
        ],
        "stderr:\n{stderr}"
    );
    server.shutdown().await;
}
