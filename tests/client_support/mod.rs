//! What the object-operation client tests share (tests/server_clients.rs, tests/server_locate.rs):
//! a SoftHSM token and sled store behind a service, KMIP payload builders, answer readers, and a
//! KMIP/TLS client speaking one protocol version.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use crate::common::TestToken;
use crate::server_support::*;
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::{Attribute, AttributeName};
use hsmkms::kmip::message::{RequestBatchItem, RequestHeader};
use hsmkms::kmip::operations::activate::IdentifierPayload;
use hsmkms::kmip::operations::add_attribute::AddAttributeRequest;
use hsmkms::kmip::operations::create::CreateRequest;
use hsmkms::kmip::operations::get::GetRequest;
use hsmkms::kmip::operations::get_attributes::GetAttributesRequest;
use hsmkms::kmip::operations::locate::LocateRequest;
use hsmkms::kmip::operations::object::ManagedObject;
use hsmkms::kmip::operations::rekey::ReKeyRequest;
use hsmkms::kmip::operations::revoke::{RevocationReason, RevokeRequest};
use hsmkms::kmip::operations::{AttributeItems, AttributeSelector, AttributeSet, EditedAttribute};
use hsmkms::kmip::{RequestMessage, RequestPayload, ResponseMessage, ResponsePayload};
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::store::{SledStore, StoreOptions};
use hsmkms::ttlv::enums::{
    CryptographicAlgorithm, ObjectType, Operation, ResultStatus, RevocationReasonCode, State,
};
use hsmkms::ttlv::{self, Item, Tag, Value};

pub struct Backend {
    _token: TestToken,
    pub hsm: Arc<hsmkms::hsm::Hsm>,
    pub store_path: PathBuf,
}

impl Backend {
    pub fn new() -> Self {
        let (token, hsm) = TestToken::initialised();
        let store_path = token.dir.path().join("store");
        Backend {
            _token: token,
            hsm: Arc::new(hsm),
            store_path,
        }
    }

    pub fn service(&self) -> (Service, Arc<SledStore>) {
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

pub fn name_value(name: &str) -> Value {
    Value::Structure(vec![
        Item::new(Tag::NAME_VALUE, Value::TextString(name.into())),
        Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
    ])
}

pub fn name_attr(name: &str) -> Attribute {
    Attribute::new(Tag::NAME, name_value(name))
}

pub fn custom(name: &str, value: &str) -> Attribute {
    Attribute {
        name: AttributeName::from_v1(name).unwrap(),
        index: None,
        value: Value::TextString(value.into()),
    }
}

pub fn aes(bits: i32, extra: Vec<Attribute>) -> RequestPayload {
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

pub fn get(uid: &str) -> RequestPayload {
    RequestPayload::Get(GetRequest {
        unique_identifier: Some(uid.into()),
        ..GetRequest::default()
    })
}

pub fn get_attributes(uid: &str, names: &[&str]) -> RequestPayload {
    RequestPayload::GetAttributes(GetAttributesRequest {
        unique_identifier: Some(uid.into()),
        selectors: names
            .iter()
            .map(|n| AttributeSelector::Text((*n).into()))
            .collect(),
    })
}

pub fn add_attribute(uid: &str, a: Attribute) -> RequestPayload {
    RequestPayload::AddAttribute(AddAttributeRequest {
        unique_identifier: Some(uid.into()),
        attribute: EditedAttribute::V1(a),
    })
}

pub fn activate(uid: &str) -> RequestPayload {
    RequestPayload::Activate(IdentifierPayload::new(uid))
}

pub fn destroy(uid: &str) -> RequestPayload {
    RequestPayload::Destroy(IdentifierPayload::new(uid))
}

pub fn revoke(uid: &str) -> RequestPayload {
    RequestPayload::Revoke(RevokeRequest {
        unique_identifier: Some(uid.into()),
        revocation_reason: RevocationReason {
            code: RevocationReasonCode::CESSATION_OF_OPERATION,
            message: None,
        },
        compromise_occurrence_date: None,
    })
}

pub fn locate(filters: Vec<Attribute>) -> LocateRequest {
    LocateRequest {
        maximum_items: None,
        offset_items: None,
        storage_status_mask: None,
        object_group_member: None,
        attributes: AttributeItems::V1(filters),
        template_attribute: None,
    }
}

pub fn rekey(uid: &str) -> RequestPayload {
    RequestPayload::ReKey(ReKeyRequest {
        unique_identifier: Some(uid.into()),
        offset: None,
        attributes: None,
        protection_storage_masks: None,
    })
}

pub fn ok(r: &ResponseMessage) {
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
pub fn payload(r: &ResponseMessage) -> &ResponsePayload {
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

pub fn created(r: &ResponseMessage) -> String {
    match payload(r) {
        ResponsePayload::Create(c) => c.unique_identifier.clone(),
        ResponsePayload::Register(c) => c.unique_identifier.clone(),
        ResponsePayload::ReKey(c) => c.unique_identifier.clone(),
        other => panic!("no new object: {other:?}"),
    }
}

pub fn located(r: &ResponseMessage) -> Vec<String> {
    match payload(r) {
        ResponsePayload::Locate(l) => l.unique_identifiers.clone(),
        other => panic!("not a Locate answer: {other:?}"),
    }
}

pub fn material(r: &ResponseMessage) -> Vec<u8> {
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
pub fn attributes(r: &ResponseMessage) -> Vec<Attribute> {
    match payload(r) {
        ResponsePayload::GetAttributes(g) => g.attributes.attributes().to_vec(),
        other => panic!("not a Get Attributes answer: {other:?}"),
    }
}

pub fn state(r: &ResponseMessage) -> State {
    attributes(r)
        .iter()
        .find_map(|a| match (&a.name, &a.value) {
            (AttributeName::Standard(Tag::STATE), Value::Enumeration(s)) => Some(State(*s)),
            _ => None,
        })
        .expect("a State")
}

/// (Link Type, Linked Object Identifier) of every Link.
pub fn links(r: &ResponseMessage) -> Vec<(u32, String)> {
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
pub fn message(version: (i32, i32), items: Vec<(Operation, RequestPayload)>) -> RequestMessage {
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

pub fn bytes(m: &RequestMessage) -> Vec<u8> {
    ttlv::to_vec(&m.to_item())
}

/// A client on the KMIP port, speaking one protocol version.
pub struct Client {
    pub tls: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    pub version: (i32, i32),
}

impl Client {
    pub async fn one(&mut self, op: Operation, p: RequestPayload) -> ResponseMessage {
        self.batch(vec![(op, p)]).await
    }

    pub async fn batch(&mut self, items: Vec<(Operation, RequestPayload)>) -> ResponseMessage {
        roundtrip(&mut self.tls, &bytes(&message(self.version, items))).await
    }
}

pub async fn client(
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

pub fn python() -> PathBuf {
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

// ---- asymmetric keys (tests/server_keypairs.rs) ----

pub fn bytes_item(b: Vec<u8>) -> Item {
    Item::new(Tag::KEY_MATERIAL, Value::ByteString(b))
}

/// The child `tag` of a Transparent Key Material as unsigned bytes (BigInteger) or bytes.
pub fn part(km: &Item, tag: Tag) -> Vec<u8> {
    let Value::Structure(items) = &km.value else {
        panic!("not a Transparent structure: {km:?}")
    };
    match &items.iter().find(|i| i.tag == tag).expect("the part").value {
        Value::BigInteger(b) => b.to_unsigned_bytes().expect("non-negative").to_vec(),
        Value::ByteString(b) => b.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

/// CreateKeyPair of `algorithm`/`length` with per-object names and usage masks (1.x form):
/// `masks` = (private, public).
pub fn create_key_pair(
    algorithm: CryptographicAlgorithm,
    length: i32,
    name: &str,
    masks: (i32, i32),
) -> RequestPayload {
    use hsmkms::kmip::operations::create_key_pair::CreateKeyPairRequest;
    let own = |suffix: &str, mask: i32| {
        Some(AttributeSet::V1(vec![
            name_attr(&format!("{name}-{suffix}")),
            Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(mask)),
        ]))
    };
    RequestPayload::CreateKeyPair(CreateKeyPairRequest {
        common: Some(AttributeSet::V1(vec![
            Attribute::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(algorithm.0),
            ),
            Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)),
        ])),
        private: own("private", masks.0),
        public: own("public", masks.1),
        protection_storage_masks: Vec::new(),
    })
}

/// (private, public) identifiers of a CreateKeyPair answer.
pub fn pair(r: &ResponseMessage) -> (String, String) {
    match payload(r) {
        ResponsePayload::CreateKeyPair(c) => (
            c.private_key_unique_identifier.clone(),
            c.public_key_unique_identifier.clone(),
        ),
        other => panic!("not a CreateKeyPair answer: {other:?}"),
    }
}

/// Register of a Public or Private Key whose Key Material is `km` in `format`.
pub fn register_key(
    object_type: ObjectType,
    format: hsmkms::ttlv::enums::KeyFormatType,
    km: Item,
    attributes: Vec<Attribute>,
) -> RequestPayload {
    use hsmkms::kmip::operations::object::KeyBlock;
    use hsmkms::kmip::operations::register::RegisterRequest;
    let kb = KeyBlock::with_key_material(format, km, None, None);
    let object = if object_type == ObjectType::PUBLIC_KEY {
        ManagedObject::PublicKey(kb)
    } else {
        ManagedObject::PrivateKey(kb)
    };
    RequestPayload::Register(RegisterRequest {
        object_type,
        attributes: Some(AttributeSet::V1(attributes)),
        object: Some(object),
        protection_storage_masks: None,
    })
}

/// Get in a Key Format Type.
pub fn get_in(uid: &str, format: hsmkms::ttlv::enums::KeyFormatType) -> RequestPayload {
    RequestPayload::Get(GetRequest {
        unique_identifier: Some(uid.into()),
        key_format_type: Some(format),
        ..Default::default()
    })
}

/// The Key Block of a Get answer (any key object).
pub fn key_block(r: &ResponseMessage) -> hsmkms::kmip::operations::object::KeyBlock {
    match payload(r) {
        ResponsePayload::Get(g) => match &g.object {
            ManagedObject::SymmetricKey(kb)
            | ManagedObject::PublicKey(kb)
            | ManagedObject::PrivateKey(kb)
            | ManagedObject::SecretData { key_block: kb, .. } => kb.clone(),
            other => panic!("no key block: {other:?}"),
        },
        other => panic!("not a Get answer: {other:?}"),
    }
}

/// The Key Material item of a Get answer.
pub fn key_material(r: &ResponseMessage) -> Item {
    key_block(r)
        .take_key_material()
        .expect("clear key material")
}

/// The bytes of a DER Key Material.
pub fn der(r: &ResponseMessage) -> Vec<u8> {
    match key_material(r).value {
        Value::ByteString(b) => b,
        other => panic!("not DER bytes: {other:?}"),
    }
}

/// (Result Reason, Result Message) of the first item, which must have failed.
pub fn failure(r: &ResponseMessage) -> (hsmkms::ttlv::enums::ResultReason, String) {
    let b = &r.batch_items[0];
    assert_ne!(b.result_status, ResultStatus::SUCCESS, "expected a failure");
    (
        b.result_reason.expect("a Result Reason"),
        b.result_message.clone().unwrap_or_default(),
    )
}

/// A Get wrapped under `wrapping` with Cryptographic Parameters `params` (Encrypt).
pub fn get_wrapped(uid: &str, wrapping: &str, params: Option<Item>) -> RequestPayload {
    let mut eki = vec![Item::new(
        Tag::UNIQUE_IDENTIFIER,
        Value::TextString(wrapping.into()),
    )];
    eki.extend(params);
    let spec = Item::structure(
        Tag::KEY_WRAPPING_SPECIFICATION,
        vec![
            Item::new(Tag::WRAPPING_METHOD, Value::Enumeration(1)),
            Item::structure(Tag::ENCRYPTION_KEY_INFORMATION, eki),
        ],
    );
    RequestPayload::Get(GetRequest {
        unique_identifier: Some(uid.into()),
        key_wrapping_specification: Some(spec),
        ..Default::default()
    })
}

/// The wrapped bytes of a wrapped Get answer (its Key Wrapping Data checked).
pub fn wrapped_bytes(r: &ResponseMessage, wrapping: &str) -> Vec<u8> {
    let kb = key_block(r);
    let kwd = kb.key_wrapping_data.expect("Key Wrapping Data");
    let Value::Structure(items) = &kwd.value else {
        panic!()
    };
    let eki = items
        .iter()
        .find(|i| i.tag == Tag::ENCRYPTION_KEY_INFORMATION)
        .expect("Encryption Key Information");
    assert_eq!(eki.children()[0].value, Value::TextString(wrapping.into()));
    match kb.key_value.expect("a Key Value").value {
        Value::ByteString(b) => b,
        other => panic!("wrapped Key Value is bytes, not {other:?}"),
    }
}

pub fn register_aes(value: &[u8], mask: i32) -> RequestPayload {
    use hsmkms::kmip::operations::object::{KeyBlock, ManagedObject};
    use hsmkms::kmip::operations::register::RegisterRequest;
    use hsmkms::kmip::operations::AttributeSet;
    RequestPayload::Register(RegisterRequest {
        object_type: ObjectType::SYMMETRIC_KEY,
        attributes: Some(AttributeSet::V1(vec![Attribute::new(
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Value::Integer(mask),
        )])),
        object: Some(ManagedObject::SymmetricKey(KeyBlock::with_material(
            hsmkms::ttlv::enums::KeyFormatType::RAW,
            &hsmkms::secret::SecretBytes::new(value.to_vec()),
            Some(CryptographicAlgorithm::AES.0),
            Some(value.len() as i32 * 8),
        ))),
        protection_storage_masks: None,
    })
}

/// Runs `tests/pykmip/<script>` (PyKMIP 0.11.0) against `server` as alice: HOST PORT CERT KEY CA.
/// Returns (stdout, stderr); panics when the script fails.
pub async fn run_pykmip(
    script: &str,
    server: &hsmkms::server::RunningServer,
    pki: &TestPki,
) -> (String, String) {
    let py = python();
    std::fs::write(pki.path("alice.crt"), &pki.alice.cert_pem).unwrap();
    std::fs::write(pki.path("alice.key"), pki.alice.key_pem.expose()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pykmip")
        .join(script);
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
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "PyKMIP failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}
