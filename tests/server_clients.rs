//! The field's clients end to end through the real stack (TLS, SoftHSM, sled): VAST Data over
//! HTTPS, VMware vCenter, DataStax HCD, FortiOS and Synology styles of use, each as the client
//! sends it (shapes cited per test), plus ReKey, Locate filters and the batch header rules.

mod common;
mod server_support;

use std::path::PathBuf;
use std::sync::Arc;

use common::TestToken;
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::{Attribute, AttributeName};
use hsmkms::kmip::message::{RequestBatchItem, RequestHeader};
use hsmkms::kmip::operations::activate::IdentifierPayload;
use hsmkms::kmip::operations::add_attribute::AddAttributeRequest;
use hsmkms::kmip::operations::create::CreateRequest;
use hsmkms::kmip::operations::get::GetRequest;
use hsmkms::kmip::operations::get_attributes::GetAttributesRequest;
use hsmkms::kmip::operations::locate::LocateRequest;
use hsmkms::kmip::operations::modify_attribute::ModifyAttributeRequest;
use hsmkms::kmip::operations::object::{KeyBlock, ManagedObject};
use hsmkms::kmip::operations::register::RegisterRequest;
use hsmkms::kmip::operations::rekey::ReKeyRequest;
use hsmkms::kmip::operations::revoke::{RevocationReason, RevokeRequest};
use hsmkms::kmip::operations::{AttributeItems, AttributeSelector, AttributeSet, EditedAttribute};
use hsmkms::kmip::{RequestMessage, RequestPayload, ResponseMessage, ResponsePayload};
use hsmkms::secret::SecretBytes;
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::store::{SledStore, StoreOptions};
use hsmkms::ttlv::enums::{
    BatchErrorContinuationOption, CryptographicAlgorithm, KeyFormatType, LinkType, ObjectType,
    Operation, ResultReason, ResultStatus, RevocationReasonCode, State,
};
use hsmkms::ttlv::{self, Item, Tag, Value};
use server_support::*;

// ---------------------------------------------------------------------------------------------
// Helpers

struct Backend {
    _token: TestToken,
    hsm: Arc<hsmkms::hsm::Hsm>,
    store_path: PathBuf,
}

impl Backend {
    fn new() -> Self {
        let (token, hsm) = TestToken::initialised();
        let store_path = token.dir.path().join("store");
        Backend {
            _token: token,
            hsm: Arc::new(hsm),
            store_path,
        }
    }

    fn service(&self) -> (Service, Arc<SledStore>) {
        let store = Arc::new(
            SledStore::open(
                &StoreOptions::new(&self.store_path),
                Arc::new(HsmRecordMac::new(self.hsm.clone())),
            )
            .unwrap(),
        );
        let service = Service::new(ServerInfo::default(), vec![Identity::new("admin")])
            .with_objects(self.hsm.clone(), store.clone());
        (service, store)
    }
}

fn name_value(name: &str) -> Value {
    Value::Structure(vec![
        Item::new(Tag::NAME_VALUE, Value::TextString(name.into())),
        Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
    ])
}

fn name_attr(name: &str) -> Attribute {
    Attribute::new(Tag::NAME, name_value(name))
}

fn custom(name: &str, value: &str) -> Attribute {
    Attribute {
        name: AttributeName::from_v1(name).unwrap(),
        index: None,
        value: Value::TextString(value.into()),
    }
}

fn aes(bits: i32, extra: Vec<Attribute>) -> RequestPayload {
    let mut a = vec![
        Attribute::new(
            Tag::CRYPTOGRAPHIC_ALGORITHM,
            Value::Enumeration(CryptographicAlgorithm::AES.0),
        ),
        Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(bits)),
        Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
    ];
    a.extend(extra);
    RequestPayload::Create(CreateRequest {
        object_type: ObjectType::SYMMETRIC_KEY,
        attributes: Some(AttributeSet::V1(a)),
        protection_storage_masks: None,
    })
}

fn get(uid: &str) -> RequestPayload {
    RequestPayload::Get(GetRequest {
        unique_identifier: Some(uid.into()),
        ..GetRequest::default()
    })
}

fn get_attributes(uid: &str, names: &[&str]) -> RequestPayload {
    RequestPayload::GetAttributes(GetAttributesRequest {
        unique_identifier: Some(uid.into()),
        selectors: names
            .iter()
            .map(|n| AttributeSelector::Text((*n).into()))
            .collect(),
    })
}

fn add_attribute(uid: &str, a: Attribute) -> RequestPayload {
    RequestPayload::AddAttribute(AddAttributeRequest {
        unique_identifier: Some(uid.into()),
        attribute: EditedAttribute::V1(a),
    })
}

fn activate(uid: &str) -> RequestPayload {
    RequestPayload::Activate(IdentifierPayload::new(uid))
}

fn destroy(uid: &str) -> RequestPayload {
    RequestPayload::Destroy(IdentifierPayload::new(uid))
}

fn revoke(uid: &str) -> RequestPayload {
    RequestPayload::Revoke(RevokeRequest {
        unique_identifier: Some(uid.into()),
        revocation_reason: RevocationReason {
            code: RevocationReasonCode::CESSATION_OF_OPERATION,
            message: None,
        },
        compromise_occurrence_date: None,
    })
}

fn locate(filters: Vec<Attribute>) -> LocateRequest {
    LocateRequest {
        maximum_items: None,
        offset_items: None,
        storage_status_mask: None,
        object_group_member: None,
        attributes: AttributeItems::V1(filters),
        template_attribute: None,
    }
}

fn rekey(uid: &str) -> RequestPayload {
    RequestPayload::ReKey(ReKeyRequest {
        unique_identifier: Some(uid.into()),
        offset: None,
        attributes: None,
        protection_storage_masks: None,
    })
}

fn ok(r: &ResponseMessage) {
    for b in &r.batch_items {
        assert_eq!(
            b.result_status,
            ResultStatus::SUCCESS,
            "{:?}: {:?}",
            b.result_reason,
            b.result_message
        );
    }
}

/// The first item's payload (that item must have succeeded).
fn payload(r: &ResponseMessage) -> &ResponsePayload {
    let b = &r.batch_items[0];
    assert_eq!(
        b.result_status,
        ResultStatus::SUCCESS,
        "{:?}: {:?}",
        b.result_reason,
        b.result_message
    );
    b.payload.as_ref().expect("a payload")
}

fn created(r: &ResponseMessage) -> String {
    match payload(r) {
        ResponsePayload::Create(c) => c.unique_identifier.clone(),
        ResponsePayload::Register(c) => c.unique_identifier.clone(),
        ResponsePayload::ReKey(c) => c.unique_identifier.clone(),
        other => panic!("no new object: {other:?}"),
    }
}

fn located(r: &ResponseMessage) -> Vec<String> {
    match payload(r) {
        ResponsePayload::Locate(l) => l.unique_identifiers.clone(),
        other => panic!("not a Locate answer: {other:?}"),
    }
}

fn material(r: &ResponseMessage) -> Vec<u8> {
    match payload(r) {
        ResponsePayload::Get(g) => match &g.object {
            ManagedObject::SymmetricKey(kb) | ManagedObject::SecretData { key_block: kb, .. } => {
                kb.clone().take_material().expect("clear").expose().to_vec()
            }
            other => panic!("no key block: {other:?}"),
        },
        other => panic!("not a Get answer: {other:?}"),
    }
}

/// The attributes of a Get Attributes answer.
fn attributes(r: &ResponseMessage) -> Vec<Attribute> {
    match payload(r) {
        ResponsePayload::GetAttributes(g) => g.attributes.attributes().to_vec(),
        other => panic!("not a Get Attributes answer: {other:?}"),
    }
}

fn state(r: &ResponseMessage) -> State {
    attributes(r)
        .iter()
        .find_map(|a| match (&a.name, &a.value) {
            (AttributeName::Standard(Tag::STATE), Value::Enumeration(s)) => Some(State(*s)),
            _ => None,
        })
        .expect("a State")
}

/// (Link Type, Linked Object Identifier) of every Link.
fn links(r: &ResponseMessage) -> Vec<(u32, String)> {
    attributes(r)
        .iter()
        .filter(|a| a.name == AttributeName::Standard(Tag::LINK))
        .filter_map(|a| {
            let Value::Structure(items) = &a.value else {
                return None;
            };
            let t = items.iter().find_map(|i| match i.value {
                Value::Enumeration(e) if i.tag == Tag::LINK_TYPE => Some(e),
                _ => None,
            })?;
            let u = items.iter().find_map(|i| match &i.value {
                Value::TextString(s) if i.tag == Tag::LINKED_OBJECT_IDENTIFIER => Some(s.clone()),
                _ => None,
            })?;
            Some((t, u))
        })
        .collect()
}

/// One request: `(operation, payload)` items with ids 1, 2, …
fn message(version: (i32, i32), items: Vec<(Operation, RequestPayload)>) -> RequestMessage {
    RequestMessage {
        header: RequestHeader::new(v(version.0, version.1), items.len() as i32),
        batch_items: items
            .into_iter()
            .enumerate()
            .map(|(i, (operation, payload))| RequestBatchItem {
                operation,
                ephemeral: None,
                unique_batch_item_id: Some(vec![i as u8 + 1]),
                payload,
                message_extension: None,
            })
            .collect(),
    }
}

fn bytes(m: &RequestMessage) -> Vec<u8> {
    ttlv::to_vec(&m.to_item())
}

/// A client on the KMIP port, speaking one protocol version.
struct Client {
    tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    version: (i32, i32),
}

impl Client {
    async fn one(&mut self, op: Operation, p: RequestPayload) -> ResponseMessage {
        self.batch(vec![(op, p)]).await
    }

    async fn batch(&mut self, items: Vec<(Operation, RequestPayload)>) -> ResponseMessage {
        roundtrip(&mut self.tls, &bytes(&message(self.version, items))).await
    }
}

async fn client(
    server: &hsmkms::server::RunningServer,
    pki: &TestPki,
    version: (i32, i32),
) -> Client {
    Client {
        tls: connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
            .await
            .unwrap(),
        version,
    }
}

// ---------------------------------------------------------------------------------------------
// VAST Data

/// VAST Data's external key manager flow, KMIP 1.4 over HTTPS `POST /kmip`. Message shapes: the
/// VAST Data EKM sequence as issue 6 of this project records it from VAST's KMIP integration
/// (key names `VAST_EKM_KEY_2_<uuid>_0`, Object Group and Operation Policy Name `default` added
/// after Create, one attribute per Add Attribute, ReKey for rotation with the old key left
/// Active, Revoke with Cessation Of Operation), over the HTTPS binding of KMIP 1.4 §10.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vast_data_over_https() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut http = Http::connect(server.https_addr, &pki).await;
    macro_rules! call {
        ($items:expr) => {{
            let body = bytes(&message((1, 4), $items));
            let (status, _, answer) = http.post("/kmip", "application/octet-stream", body).await;
            assert_eq!(status, 200);
            parse_response(&answer)
        }};
    }

    let r = call!(vec![(
        Operation::DISCOVER_VERSIONS,
        RequestPayload::DiscoverVersions(Default::default())
    )]);
    ok(&r);
    let uid = created(&call!(vec![(Operation::CREATE, aes(256, vec![]))]));
    let name = "VAST_EKM_KEY_2_3f1c9a52-7a0e-4d55-9a57-0f2b8e1d6c44_0";
    for a in [
        name_attr(name),
        Attribute::new(
            Tag::OBJECT_GROUP,
            Value::TextString("vast-cluster-1".into()),
        ),
        Attribute::new(
            Tag::OPERATION_POLICY_NAME,
            Value::TextString("default".into()),
        ),
    ] {
        let r = call!(vec![(
            Operation::ADD_ATTRIBUTE,
            add_attribute(&uid, a.clone())
        )]);
        match payload(&r) {
            ResponsePayload::AttributeEdit(e) => {
                assert_eq!(e.unique_identifier, uid);
                let echoed = e.attribute.as_ref().expect("the attribute echoed");
                assert_eq!((&echoed.name, &echoed.value), (&a.name, &a.value));
            }
            other => panic!("{other:?}"),
        }
    }
    ok(&call!(vec![(Operation::ACTIVATE, activate(&uid))]));
    let by_name = || RequestPayload::Locate(locate(vec![name_attr(name)]));
    assert_eq!(
        located(&call!(vec![(Operation::LOCATE, by_name())])),
        vec![uid.clone()]
    );
    let old_key = material(&call!(vec![(Operation::GET, get(&uid))]));
    assert_eq!(old_key.len(), 32);
    let r = call!(vec![(
        Operation::GET_ATTRIBUTES,
        get_attributes(&uid, &["State", "Activation Date"])
    )]);
    assert_eq!(state(&r), State::ACTIVE);
    assert!(attributes(&r)
        .iter()
        .any(|a| a.name == AttributeName::Standard(Tag::ACTIVATION_DATE)));

    // Rotation.
    let new = created(&call!(vec![(Operation::RE_KEY, rekey(&uid))]));
    assert_ne!(new, uid, "ReKey gives the replacement a new identifier");
    assert_eq!(
        located(&call!(vec![(Operation::LOCATE, by_name())])),
        vec![new.clone()],
        "the name moved to the replacement"
    );
    let r = call!(vec![(
        Operation::GET_ATTRIBUTES,
        get_attributes(&uid, &["State", "Link"])
    )]);
    assert_eq!(state(&r), State::ACTIVE, "the old key stays Active");
    assert_eq!(
        links(&r),
        vec![(LinkType::REPLACEMENT_OBJECT_LINK.0, new.clone())]
    );
    let r = call!(vec![(
        Operation::GET_ATTRIBUTES,
        get_attributes(
            &new,
            &["State", "Link", "Object Group", "Operation Policy Name"]
        )
    )]);
    assert_eq!(state(&r), State::ACTIVE);
    assert_eq!(
        links(&r),
        vec![(LinkType::REPLACED_OBJECT_LINK.0, uid.clone())]
    );
    let attrs = attributes(&r);
    for (tag, want) in [
        (Tag::OBJECT_GROUP, "vast-cluster-1"),
        (Tag::OPERATION_POLICY_NAME, "default"),
    ] {
        assert!(
            attrs.iter().any(|a| a.name == AttributeName::Standard(tag)
                && a.value == Value::TextString(want.into())),
            "{tag} copied: {attrs:?}"
        );
    }
    let new_key = material(&call!(vec![(Operation::GET, get(&new))]));
    assert_eq!(new_key.len(), 32);
    assert_ne!(new_key, old_key, "new material");

    for u in [&new, &uid] {
        ok(&call!(vec![(Operation::REVOKE, revoke(u))]));
        let r = call!(vec![(
            Operation::GET_ATTRIBUTES,
            get_attributes(u, &["State"])
        )]);
        assert_eq!(state(&r), State::DEACTIVATED);
        ok(&call!(vec![(Operation::DESTROY, destroy(u))]));
    }

    // "Test connection": Create, Get, Destroy.
    let t = created(&call!(vec![(Operation::CREATE, aes(256, vec![]))]));
    assert_eq!(material(&call!(vec![(Operation::GET, get(&t))])).len(), 32);
    ok(&call!(vec![(Operation::DESTROY, destroy(&t))]));
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// VMware vCenter

/// VMware vCenter's KMS client, KMIP 1.1 on port 5696 (here 127.0.0.1:0). Message shapes:
/// vSphere's documented KMS requirements (KMIP 1.1, AES-256 keys created without a name) and the
/// custom attributes `x-Product_Version`, `x-Vendor`, `x-Product` it sets, as issue 6 of this
/// project records them (including the Get Attributes of `x-Product_Version` before it exists,
/// which must succeed with no attribute, and the three Add Attribute items in one message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vmware_vcenter_1_1() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (1, 1)).await;
    ok(&c
        .one(
            Operation::DISCOVER_VERSIONS,
            RequestPayload::DiscoverVersions(Default::default()),
        )
        .await);
    let r = roundtrip(&mut c.tls, &query(v(1, 1), b"q")).await;
    ok(&r);
    let uid = created(&c.one(Operation::CREATE, aes(256, vec![])).await);
    let r = c
        .one(
            Operation::GET_ATTRIBUTES,
            get_attributes(&uid, &["x-Product_Version"]),
        )
        .await;
    assert!(attributes(&r).is_empty(), "no attribute before it exists");
    let r = c
        .batch(vec![
            (
                Operation::ADD_ATTRIBUTE,
                add_attribute(&uid, custom("x-Product_Version", "8.0.2")),
            ),
            (
                Operation::ADD_ATTRIBUTE,
                add_attribute(&uid, custom("x-Vendor", "VMware, Inc.")),
            ),
            (
                Operation::ADD_ATTRIBUTE,
                add_attribute(&uid, custom("x-Product", "VMware vCenter Server")),
            ),
        ])
        .await;
    ok(&r);
    assert_eq!(r.batch_items.len(), 3);
    let r = c
        .one(
            Operation::GET_ATTRIBUTES,
            get_attributes(&uid, &["x-Product_Version"]),
        )
        .await;
    assert_eq!(
        attributes(&r)
            .iter()
            .map(|a| a.value.clone())
            .collect::<Vec<_>>(),
        vec![Value::TextString("8.0.2".into())]
    );
    assert_eq!(material(&c.one(Operation::GET, get(&uid)).await).len(), 32);
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// DataStax HCD

/// DataStax HCD / DSE transparent data encryption with a KMIP key provider. Message shapes:
/// DataStax's documented KMIP encryption (AES-128/192/256 keys; key names of the form
/// `<uuid>_<n>`) with a custom attribute naming the keyspace, as issue 6 of this project records;
/// KMIP 1.2 as the Java client libraries it uses send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datastax_hcd_style() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (1, 2)).await;
    let mut keys = Vec::new();
    for (i, bits) in [128, 192, 256].into_iter().enumerate() {
        let name = format!("6b1f0e52-2f6f-4c52-b1e1-3c0d5a8f9e0{i}_0");
        let uid = created(
            &c.one(
                Operation::CREATE,
                aes(
                    bits,
                    vec![name_attr(&name), custom("x-keyspace", &format!("ks{i}"))],
                ),
            )
            .await,
        );
        ok(&c.one(Operation::ACTIVATE, activate(&uid)).await);
        keys.push((name, uid, bits));
    }
    for (i, (name, uid, bits)) in keys.iter().enumerate() {
        let r = c
            .one(
                Operation::LOCATE,
                RequestPayload::Locate(locate(vec![name_attr(name)])),
            )
            .await;
        assert_eq!(located(&r), vec![uid.clone()]);
        let r = c
            .one(
                Operation::LOCATE,
                RequestPayload::Locate(locate(vec![custom("x-keyspace", &format!("ks{i}"))])),
            )
            .await;
        assert_eq!(located(&r), vec![uid.clone()]);
        let r = c
            .one(
                Operation::LOCATE,
                RequestPayload::Locate(locate(vec![
                    Attribute::new(
                        Tag::CRYPTOGRAPHIC_ALGORITHM,
                        Value::Enumeration(CryptographicAlgorithm::AES.0),
                    ),
                    Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(*bits)),
                ])),
            )
            .await;
        assert_eq!(located(&r), vec![uid.clone()]);
        assert_eq!(
            material(&c.one(Operation::GET, get(uid)).await).len(),
            (*bits / 8) as usize
        );
    }
    for (_, uid, _) in &keys {
        ok(&c.one(Operation::REVOKE, revoke(uid)).await);
        let r = c
            .one(Operation::GET_ATTRIBUTES, get_attributes(uid, &["State"]))
            .await;
        assert_eq!(state(&r), State::DEACTIVATED);
        ok(&c.one(Operation::DESTROY, destroy(uid)).await);
    }
    // Destroyed keys are not located by a 1.x client.
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![custom("x-keyspace", "ks0")])),
        )
        .await;
    assert!(located(&r).is_empty());
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// FortiOS

/// FortiOS's KMIP client (KMIP 1.0/1.1) sends its Locate filters inside a TemplateAttribute,
/// with Maximum Items 1. Message shape: the Locate requests of FortiOS as reported against
/// Cosmian KMS (whose ignoring of the wrapped filters returned the wrong key and broke IPsec),
/// as issue 6 of this project records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fortios_template_attribute_filters() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (1, 1)).await;
    let mut keys = Vec::new();
    for n in ["fgt-ipsec-1", "fgt-ipsec-2", "fgt-ipsec-3"] {
        let uid = created(&c.one(Operation::CREATE, aes(256, vec![name_attr(n)])).await);
        keys.push((n, uid));
    }
    for (n, uid) in &keys {
        let mut l = locate(vec![]);
        l.maximum_items = Some(1);
        l.template_attribute = Some(vec![
            Attribute::new(
                Tag::OBJECT_TYPE,
                Value::Enumeration(ObjectType::SYMMETRIC_KEY.0),
            ),
            name_attr(n),
        ]);
        let r = c.one(Operation::LOCATE, RequestPayload::Locate(l)).await;
        assert_eq!(located(&r), vec![uid.clone()], "{n}");
        match payload(&r) {
            ResponsePayload::Locate(l) => assert_eq!(l.located_items, None, "not in 1.1"),
            _ => unreachable!(),
        }
    }
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Synology

/// Synology DSM's encrypted-volume key vault over KMIP 1.2: Register of a 32-byte Secret Data
/// with Operation Policy Name "default", Activate, then Modify Attribute of the Name to the
/// volume's UUID, and later (after a restart) Locate by that name. Message shapes: as issue 6 of
/// this project records DSM's KMIP client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synology_secret_data_survives_restart() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, store) = backend.service();
    let config = pki.config();
    let server = start_with(&config, service).await;
    let mut c = client(&server, &pki, (1, 2)).await;
    let secret = SecretBytes::new(vec![0x5a; 32]);
    let register = RequestPayload::Register(RegisterRequest {
        object_type: ObjectType::SECRET_DATA,
        attributes: Some(AttributeSet::V1(vec![
            Attribute::new(
                Tag::OPERATION_POLICY_NAME,
                Value::TextString("default".into()),
            ),
            Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
            name_attr("synology-pending"),
        ])),
        object: Some(ManagedObject::SecretData {
            secret_data_type: 1,
            key_block: KeyBlock::with_material(KeyFormatType::OPAQUE, &secret, None, None),
        }),
        protection_storage_masks: None,
    });
    let uid = created(&c.one(Operation::REGISTER, register).await);
    ok(&c.one(Operation::ACTIVATE, activate(&uid)).await);
    let volume = "0d6c6a3e-9b44-4a8e-8f55-2b9f3c1e7a10";
    let mut renamed = name_attr(volume);
    renamed.index = Some(0);
    ok(&c
        .one(
            Operation::MODIFY_ATTRIBUTE,
            RequestPayload::ModifyAttribute(ModifyAttributeRequest {
                unique_identifier: Some(uid.clone()),
                current: None,
                attribute: EditedAttribute::V1(renamed),
            }),
        )
        .await);
    drop(c);
    server.shutdown().await;
    store.flush().unwrap();
    drop(store);

    let (service, _store) = backend.service();
    let server = start_with(&config, service).await;
    let mut c = client(&server, &pki, (1, 2)).await;
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![name_attr(volume)])),
        )
        .await;
    assert_eq!(located(&r), vec![uid.clone()]);
    let r = c
        .one(
            Operation::LOCATE,
            RequestPayload::Locate(locate(vec![name_attr("synology-pending")])),
        )
        .await;
    assert!(located(&r).is_empty(), "the old name is gone");
    assert_eq!(
        material(&c.one(Operation::GET, get(&uid)).await),
        vec![0x5a; 32]
    );
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Locate filters, ReKey details, batches

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
    server.shutdown().await;
}

/// Batch header rules: correlation values accepted (logged, not echoed), Undo answered Feature Not Supported without
/// doing anything, Continue answers every item, Maximum Response Size gives Response Too Large.
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
    m.header.batch_order_option = Some(true);
    let r = roundtrip(&mut c.tls, &bytes(&m)).await;
    assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    assert_eq!(
        r.batch_items[1].result_reason,
        Some(ResultReason::ITEM_NOT_FOUND)
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

// ---------------------------------------------------------------------------------------------
// PyKMIP

fn python() -> PathBuf {
    let p = std::env::var_os("PYKMIP_PYTHON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pykmip-venv/bin/python")
        });
    assert!(
        p.is_file(),
        "{} missing: run tools/pykmip-env.sh (or set PYKMIP_PYTHON_BIN)",
        p.display()
    );
    p
}

/// PyKMIP 0.11.0's `locate` (by name, state, object group, Maximum Items) and `rekey` (with and
/// without Offset): tests/pykmip/locate.py.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_locates_and_rekeys() {
    let py = python();
    let backend = Backend::new();
    let pki = TestPki::new();
    std::fs::write(pki.path("alice.crt"), &pki.alice.cert_pem).unwrap();
    std::fs::write(pki.path("alice.key"), pki.alice.key_pem.expose()).unwrap();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pykmip/locate.py");
    let args: Vec<String> = vec![
        script.display().to_string(),
        "127.0.0.1".into(),
        server.kmip_addr.port().to_string(),
        pki.path("alice.crt").display().to_string(),
        pki.path("alice.key").display().to_string(),
        pki.path("ca.crt").display().to_string(),
    ];
    let out =
        tokio::task::spawn_blocking(move || std::process::Command::new(py).args(args).output())
            .await
            .unwrap()
            .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "PyKMIP failed:\n{stdout}\n{stderr}");
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
