//! The key lifecycle through the real stack (TLS, SoftHSM, sled): a Percona-like KMIP 1.0 flow
//! with no post-1.0 attribute in any answer, ownership (another identity gets Item Not Found, an
//! admin sees everything), PyKMIP 0.11.0's lifecycle calls, and keys that survive a restart and
//! a `kill -9` of the server process.

mod client_support;
mod common;
mod server_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use client_support::run_pykmip;
use common::TestToken;
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::{Attribute, AttributeName};
use hsmkms::kmip::compat::table_version;
use hsmkms::kmip::operations::activate::IdentifierPayload;
use hsmkms::kmip::operations::create::CreateRequest;
use hsmkms::kmip::operations::get::GetRequest;
use hsmkms::kmip::operations::get_attributes::GetAttributesRequest;
use hsmkms::kmip::operations::object::ManagedObject;
use hsmkms::kmip::operations::revoke::{RevocationReason, RevokeRequest};
use hsmkms::kmip::operations::AttributeSet;
use hsmkms::kmip::{RequestPayload, ResponseMessage, ResponsePayload};
use hsmkms::pki::ClientOptions;
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::store::{SledStore, StoreOptions};
use hsmkms::ttlv::enums::{
    CryptographicAlgorithm, ObjectType, Operation, ResultReason, ResultStatus,
    RevocationReasonCode, State,
};
use hsmkms::ttlv::{tables, Item, Tag, Value};
use server_support::*;

fn create_aes(name: &str) -> RequestPayload {
    RequestPayload::Create(CreateRequest {
        object_type: ObjectType::SYMMETRIC_KEY,
        attributes: Some(AttributeSet::V1(vec![
            Attribute::new(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                Value::Enumeration(CryptographicAlgorithm::AES.0),
            ),
            Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
            Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
            Attribute::new(
                Tag::NAME,
                Value::Structure(vec![
                    Item::new(Tag::NAME_VALUE, Value::TextString(name.into())),
                    Item::new(Tag::NAME_TYPE, Value::Enumeration(1)),
                ]),
            ),
        ])),
        protection_storage_masks: None,
    })
}

fn uid_of(r: &ResponseMessage) -> String {
    match &r.batch_items[0].payload {
        Some(ResponsePayload::Create(c)) => c.unique_identifier.clone(),
        other => panic!("not a Create answer: {other:?}"),
    }
}

fn key_of(r: &ResponseMessage) -> Vec<u8> {
    match &r.batch_items[0].payload {
        Some(ResponsePayload::Get(g)) => match &g.object {
            ManagedObject::SymmetricKey(kb) => {
                let mut kb = kb.clone();
                kb.take_material()
                    .expect("clear material")
                    .expose()
                    .to_vec()
            }
            other => panic!("not a symmetric key: {other:?}"),
        },
        other => panic!("not a Get answer: {other:?}"),
    }
}

fn get(uid: &str) -> RequestPayload {
    RequestPayload::Get(GetRequest {
        unique_identifier: Some(uid.into()),
        ..GetRequest::default()
    })
}

fn ok(r: &ResponseMessage) {
    let b = &r.batch_items[0];
    assert_eq!(
        b.result_status,
        ResultStatus::SUCCESS,
        "{:?}: {:?}",
        b.result_reason,
        b.result_message
    );
}

/// Every attribute tag (and nested tag) of a response, for the "nothing newer" check.
fn tags(item: &Item, out: &mut Vec<Tag>) {
    out.push(item.tag);
    for c in item.children() {
        tags(c, out);
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percona_like_1_0_flow_ownership_and_restart() {
    let backend = Backend::new();
    let mut pki = TestPki::new();
    let bob = pki
        .ca
        .issue_client("bob", &ClientOptions::default())
        .unwrap();
    let admin = pki
        .ca
        .issue_client("admin", &ClientOptions::default())
        .unwrap();
    let (service, store) = backend.service();
    let config = pki.config();
    let server = start_with(&config, service).await;
    let mut alice = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let v10 = v(1, 0);
    let r = roundtrip(
        &mut alice,
        &request(
            v10,
            vec![(Operation::CREATE, b"1", create_aes("percona-1"))],
        ),
    )
    .await;
    ok(&r);
    let uid = uid_of(&r);
    let r = roundtrip(
        &mut alice,
        &request(v10, vec![(Operation::GET, b"2", get(&uid))]),
    )
    .await;
    ok(&r);
    let material = key_of(&r);
    assert_eq!(material.len(), 32);
    let all = RequestPayload::GetAttributes(GetAttributesRequest {
        unique_identifier: Some(uid.clone()),
        selectors: vec![],
    });
    let r = roundtrip(
        &mut alice,
        &request(v10, vec![(Operation::GET_ATTRIBUTES, b"3", all.clone())]),
    )
    .await;
    ok(&r);
    let mut seen = Vec::new();
    tags(&r.to_item(), &mut seen);
    for t in &seen {
        assert!(
            tables::tag_defined(t.0, table_version(v10)),
            "tag {t} is not KMIP 1.0"
        );
    }
    let text = format!("{:?}", r.batch_items[0].payload);
    for newer in [
        "Fresh",
        "Original Creation Date",
        "Sensitive",
        "Extractable",
        "Random Number",
    ] {
        assert!(
            !text.contains(newer),
            "{newer} sent to a 1.0 client: {text}"
        );
    }
    let id = IdentifierPayload::new(uid.clone());
    let r = roundtrip(
        &mut alice,
        &request(
            v10,
            vec![(
                Operation::ACTIVATE,
                b"4",
                RequestPayload::Activate(id.clone()),
            )],
        ),
    )
    .await;
    ok(&r);

    // Another identity: Item Not Found, for reading and for changing.
    let mut b = connect(server.kmip_addr, pki.client_config(Some(&bob)))
        .await
        .unwrap();
    for (op, payload) in [
        (Operation::GET, get(&uid)),
        (Operation::GET_ATTRIBUTES, all.clone()),
        (Operation::DESTROY, RequestPayload::Destroy(id.clone())),
    ] {
        let r = roundtrip(&mut b, &request(v10, vec![(op, b"b", payload)])).await;
        assert_eq!(
            r.batch_items[0].result_reason,
            Some(ResultReason::ITEM_NOT_FOUND),
            "{op:?}"
        );
    }
    // An admin sees it.
    let mut a = connect(server.kmip_addr, pki.client_config(Some(&admin)))
        .await
        .unwrap();
    let r = roundtrip(
        &mut a,
        &request(v10, vec![(Operation::GET, b"a", get(&uid))]),
    )
    .await;
    ok(&r);
    assert_eq!(key_of(&r), material);

    // Destroy of an Active key: refused (Permission Denied before 2.0).
    let r = roundtrip(
        &mut alice,
        &request(
            v10,
            vec![(
                Operation::DESTROY,
                b"5",
                RequestPayload::Destroy(id.clone()),
            )],
        ),
    )
    .await;
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::PERMISSION_DENIED)
    );
    let revoke = RequestPayload::Revoke(RevokeRequest {
        unique_identifier: Some(uid.clone()),
        revocation_reason: RevocationReason {
            code: RevocationReasonCode::CESSATION_OF_OPERATION,
            message: None,
        },
        compromise_occurrence_date: None,
    });
    let r = roundtrip(
        &mut alice,
        &request(v10, vec![(Operation::REVOKE, b"6", revoke)]),
    )
    .await;
    ok(&r);

    // A second key stays Active across a restart of the whole service.
    let r = roundtrip(
        &mut alice,
        &request(
            v10,
            vec![(Operation::CREATE, b"7", create_aes("percona-2"))],
        ),
    )
    .await;
    let uid2 = uid_of(&r);
    let r = roundtrip(
        &mut alice,
        &request(v10, vec![(Operation::GET, b"8", get(&uid2))]),
    )
    .await;
    let material2 = key_of(&r);
    drop((alice, b, a));
    server.shutdown().await;
    store.flush().unwrap();
    drop(store);

    let (service, _store) = backend.service();
    let server = start_with(&config, service).await;
    let mut alice = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let r = roundtrip(
        &mut alice,
        &request(v10, vec![(Operation::GET, b"9", get(&uid2))]),
    )
    .await;
    ok(&r);
    assert_eq!(key_of(&r), material2, "the key survives a restart");
    let r = roundtrip(
        &mut alice,
        &request(
            v10,
            vec![(Operation::DESTROY, b"10", RequestPayload::Destroy(id))],
        ),
    )
    .await;
    ok(&r);
    let r = roundtrip(
        &mut alice,
        &request(v(2, 1), vec![(Operation::GET_ATTRIBUTES, b"11", all)]),
    )
    .await;
    ok(&r);
    let state = match &r.batch_items[0].payload {
        Some(ResponsePayload::GetAttributes(g)) => g
            .attributes
            .attributes()
            .iter()
            .find(|a| a.name == AttributeName::Standard(Tag::STATE))
            .map(|a| a.value.clone()),
        _ => None,
    };
    assert_eq!(state, Some(Value::Enumeration(State::DESTROYED.0)));
    let r = roundtrip(
        &mut alice,
        &request(v(2, 1), vec![(Operation::GET, b"12", get(&uid))]),
    )
    .await;
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::OBJECT_DESTROYED)
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_runs_the_lifecycle() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let (stdout, stderr) = run_pykmip("lifecycle.py", &server, &pki).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "create=True",
            "get_len=32",
            "get_alg=AES",
            "state=PRE_ACTIVE",
            "length=256",
            "has_digest=True",
            "list_has_state=True",
            "after_activate=ACTIVE",
            "check=True",
            "after_revoke=DEACTIVATED",
            "after_destroy=DESTROYED",
            "register_get=01010101010101010101010101010101",
            "set_attribute=ok",
            "modify_attribute=ok",
            "contact=bob@example.org",
            "delete_attribute=ok",
            "contact_after_delete=0",
        ],
        "stderr:\n{stderr}"
    );
    server.shutdown().await;
}

/// `kill -9` of a real `hsmkms serve` process: an acknowledged key is there after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_survive_kill_9() {
    let token = TestToken::new();
    let pki = TestPki::new();
    let cfg = token.config_file();
    let dir = token.dir.path();
    let port = |_| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    };
    let (k, h, x) = (port(0), port(1), port(2));
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!(
        "[server]\nkmip_listen = \"{k}\"\nhttps_listen = \"{h}\"\nhealth_listen = \"{x}\"\n\
         [tls]\ncert = \"{}\"\nkey = \"{}\"\nclient_ca = \"{}\"\n",
        pki.path("server.crt").display(),
        pki.path("server.key").display(),
        pki.path("ca.crt").display()
    ));
    std::fs::write(&cfg, text).unwrap();
    let exe = env!("CARGO_BIN_EXE_hsmkms");
    let run = |args: &[&str]| {
        let mut c = Command::new(exe);
        c.args(args).arg("--config").arg(&cfg).current_dir(dir);
        for (k, v) in token.env() {
            c.env(k, v);
        }
        c
    };
    let st = run(&["init"]).output().unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let spawn = || {
        let child = run(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(k).is_ok() {
                return child;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let mut child = child;
        let _ = child.kill();
        let _ = child.wait();
        panic!("server did not listen on {k}");
    };
    let mut child = spawn();
    let mut s = connect(k, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let r = roundtrip(
        &mut s,
        &request(
            v(1, 4),
            vec![(Operation::CREATE, b"1", create_aes("crash"))],
        ),
    )
    .await;
    ok(&r);
    let uid = uid_of(&r);
    let r = roundtrip(
        &mut s,
        &request(v(1, 4), vec![(Operation::GET, b"2", get(&uid))]),
    )
    .await;
    let material = key_of(&r);
    drop(s);
    // SIGKILL: no shutdown, no flush beyond what each answer already waited for.
    child.kill().unwrap();
    child.wait().unwrap();
    let mut child = spawn();
    let mut s = connect(k, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let r = roundtrip(
        &mut s,
        &request(v(1, 4), vec![(Operation::GET, b"3", get(&uid))]),
    )
    .await;
    ok(&r);
    assert_eq!(key_of(&r), material, "the key survives kill -9");
    child.kill().unwrap();
    child.wait().unwrap();
}
