//! The field's clients end to end through the real stack (TLS, SoftHSM, sled): VAST Data over
//! HTTPS, VMware vCenter, DataStax HCD, FortiOS and Synology styles of use, each as the client
//! sends it (the source of its message shapes cited per test). Locate details, ReKey, batches and
//! PyKMIP: tests/server_locate.rs.

mod client_support;
mod common;
mod server_support;

use client_support::*;
use hsmkms::kmip::attributes::Attribute;
use hsmkms::kmip::operations::modify_attribute::ModifyAttributeRequest;
use hsmkms::kmip::operations::object::{KeyBlock, ManagedObject};
use hsmkms::kmip::operations::register::RegisterRequest;
use hsmkms::kmip::operations::{AttributeSet, EditedAttribute};
use hsmkms::kmip::{RequestPayload, ResponsePayload};
use hsmkms::secret::SecretBytes;
use hsmkms::ttlv::enums::{CryptographicAlgorithm, KeyFormatType, ObjectType, Operation, State};
use hsmkms::ttlv::{Tag, Value};
use server_support::*;

// ---------------------------------------------------------------------------------------------
// VAST Data

/// VAST Data's flow ([`vast_data_flow`]) against a server on 127.0.0.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vast_data_over_https() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut http = Http::connect(server.https_addr, &pki).await;
    vast_data_flow(&mut http).await;
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// VMware vCenter

/// VMware vCenter's flow ([`vmware_vcenter_flow`]) against a server on 127.0.0.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vmware_vcenter_1_1() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let mut c = client(&server, &pki, (1, 1)).await;
    vmware_vcenter_flow(&mut c).await;
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
