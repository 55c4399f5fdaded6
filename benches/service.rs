//! Service benchmarks through the whole object path (service, SoftHSM, sled; no TLS):
//! - Locate by Name + Get Attributes (State, Activation Date) of the key found — VAST Data's
//!   monitoring pattern — with 100,000 stored keys (`HSMKMS_BENCH_KEYS` to change);
//! - Create (AES-256, generated in the HSM) + Get of the new key.
//!
//! `cargo bench --bench service`; criterion prints the time per pair (pairs/s = 1 / that).
//! The stored keys are written straight into the store (one HSM-wrapped blob shared by all,
//! records MACed by the HSM), so filling takes seconds, not a Create per key.
//!
//! Measured 2026-11-23 on the 2-core CI machine (SoftHSM 2, one thread, other builds running):
//! Locate by Name + Get Attributes ≈ 16,000 pairs/s at 100,000 keys (62 µs a pair);
//! Create + Get ≈ 890 pairs/s (1.13 ms a pair, a durable store commit per Create).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hsmkms::hsm::{KeyKind, KeyUsage};
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::Attribute;
use hsmkms::kmip::message::{ProtocolVersion, RequestBatchItem, RequestHeader};
use hsmkms::kmip::operations::create::CreateRequest;
use hsmkms::kmip::operations::get::GetRequest;
use hsmkms::kmip::operations::get_attributes::GetAttributesRequest;
use hsmkms::kmip::operations::locate::LocateRequest;
use hsmkms::kmip::operations::{AttributeItems, AttributeSelector, AttributeSet};
use hsmkms::kmip::{RequestMessage, RequestPayload, ResponsePayload};
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::store::Store;
use hsmkms::store::{
    AttrValue, Name, ObjectType, Owner, Record, SledStore, State, StoreOptions, UniqueIdentifier,
    WrappedKey, Write,
};
use hsmkms::ttlv::enums::{CryptographicAlgorithm, Operation, ResultStatus};
use hsmkms::ttlv::{Item, Tag, Value};

const OWNER: &str = "bench";

fn message(op: Operation, payload: RequestPayload) -> RequestMessage {
    RequestMessage {
        header: RequestHeader::new(ProtocolVersion::new(1, 4), 1),
        batch_items: vec![RequestBatchItem {
            operation: op,
            ephemeral: None,
            unique_batch_item_id: None,
            payload,
            message_extension: None,
        }],
    }
}

fn call(s: &Service, who: &Identity, op: Operation, p: RequestPayload) -> ResponsePayload {
    let mut r = s.handle(who, message(op, p));
    let b = r.batch_items.remove(0);
    assert_eq!(
        b.result_status,
        ResultStatus::SUCCESS,
        "{:?}",
        b.result_message
    );
    b.payload.expect("a payload")
}

fn key_name(i: usize) -> String {
    format!("VAST_EKM_KEY_2_bench-{i:08}_0")
}

fn fill(store: &SledStore, hsm: &hsmkms::hsm::Hsm, n: usize) {
    let blob = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    let key = WrappedKey::from_hsm(blob);
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let writes = chunk
            .iter()
            .map(|i| {
                Write::Create(
                    Record::new(
                        UniqueIdentifier::new(format!("bench-{i:08}")),
                        Owner::new(OWNER),
                        ObjectType(2),
                        State::ACTIVE,
                    )
                    .with_key(key.clone())
                    .with_name(Name::text(key_name(*i)))
                    .with_attribute("Cryptographic Algorithm", AttrValue::Enumeration(3))
                    .with_attribute("Cryptographic Length", AttrValue::Integer(256))
                    .with_attribute("Activation Date", AttrValue::DateTime(1_700_000_000)),
                )
            })
            .collect();
        store.commit(writes).unwrap();
    }
    eprintln!("filled {n} keys in {:?}", started.elapsed());
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("HSMKMS_BENCH_KEYS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let (token, hsm) = common::TestToken::initialised();
    let hsm = Arc::new(hsm);
    let store = Arc::new(
        SledStore::open(
            &StoreOptions::new(token.dir.path().join("store")),
            Arc::new(HsmRecordMac::new(hsm.clone())),
        )
        .unwrap(),
    );
    fill(&store, &hsm, n);
    let service = Service::new(ServerInfo::default(), vec![]).with_objects(hsm, store);
    let who = Identity::new(OWNER);

    let mut g = c.benchmark_group("service");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function(format!("locate_by_name+get_attributes ({n} keys)"), |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            let name = Attribute::new(
                Tag::NAME,
                Value::Structure(vec![
                    Item::new(Tag::NAME_VALUE, Value::TextString(key_name(i))),
                    Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                ]),
            );
            let located = call(
                &service,
                &who,
                Operation::LOCATE,
                RequestPayload::Locate(LocateRequest {
                    maximum_items: None,
                    offset_items: None,
                    storage_status_mask: None,
                    object_group_member: None,
                    attributes: AttributeItems::V1(vec![name]),
                    template_attribute: None,
                }),
            );
            let ResponsePayload::Locate(l) = located else {
                panic!("not a Locate answer")
            };
            assert_eq!(l.unique_identifiers.len(), 1);
            call(
                &service,
                &who,
                Operation::GET_ATTRIBUTES,
                RequestPayload::GetAttributes(GetAttributesRequest {
                    unique_identifier: l.unique_identifiers.into_iter().next(),
                    selectors: vec![
                        AttributeSelector::Text("State".into()),
                        AttributeSelector::Text("Activation Date".into()),
                    ],
                }),
            )
        })
    });
    g.bench_function("create_aes256+get", |b| {
        b.iter(|| {
            let created = call(
                &service,
                &who,
                Operation::CREATE,
                RequestPayload::Create(CreateRequest {
                    object_type: hsmkms::ttlv::enums::ObjectType::SYMMETRIC_KEY,
                    attributes: Some(AttributeSet::V1(vec![
                        Attribute::new(
                            Tag::CRYPTOGRAPHIC_ALGORITHM,
                            Value::Enumeration(CryptographicAlgorithm::AES.0),
                        ),
                        Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
                    ])),
                    protection_storage_masks: None,
                }),
            );
            let ResponsePayload::Create(c) = created else {
                panic!("not a Create answer")
            };
            call(
                &service,
                &who,
                Operation::GET,
                RequestPayload::Get(GetRequest {
                    unique_identifier: Some(c.unique_identifier),
                    ..GetRequest::default()
                }),
            )
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
