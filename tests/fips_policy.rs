//! The FIPS policy through the real stack (TLS, KMIP bytes, service): every expected refusal is
//! listed in `REFUSALS` with the request and the reason the client reads; each is answered
//! Permission Denied with `not approved in FIPS mode: …`, logged, and the same request is not
//! refused by the policy when it is off.
//!
//! The service here has no HSM or store: a request that passes the policy reaches dispatch and
//! is answered Operation Not Supported. `tests/fips_create.rs` runs Create with the lifecycle
//! handlers on a token; `tests/fips_crypto.rs` runs the crypto handlers (MAC, Encrypt, Sign,
//! Signature Verify) with keys whose own parameters the request scan cannot see.

mod server_support;

use hsmkms::kmip::RequestPayload;
use hsmkms::service::{Identity, Policy, ServerInfo, Service};
use hsmkms::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm as A, Operation, PaddingMethod, ResultReason,
    ResultStatus,
};
use hsmkms::ttlv::{Item, Tag, Value};
use server_support::*;

fn enumeration(tag: Tag, v: u32) -> Item {
    Item::new(tag, Value::Enumeration(v))
}

fn v1_attribute(name: &str, value: Value) -> Item {
    Item::structure(
        Tag::ATTRIBUTE,
        vec![
            Item::new(Tag::ATTRIBUTE_NAME, Value::TextString(name.into())),
            Item::new(Tag::ATTRIBUTE_VALUE, value),
        ],
    )
}

/// KMIP 1.4 Create of a symmetric key, as DataStax (Cryptsoft) and VAST send it.
fn create(algorithm: A, length: i32) -> RequestPayload {
    RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![
            enumeration(Tag::OBJECT_TYPE, 2),
            Item::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![
                    v1_attribute("Cryptographic Algorithm", Value::Enumeration(algorithm.0)),
                    v1_attribute("Cryptographic Length", Value::Integer(length)),
                    v1_attribute("Cryptographic Usage Mask", Value::Integer(0x0C)),
                ],
            ),
        ],
    ))
}

/// KMIP 1.4 CreateKeyPair of an RSA key.
fn create_rsa(bits: i32) -> RequestPayload {
    RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![
            Item::structure(
                Tag::COMMON_TEMPLATE_ATTRIBUTE,
                vec![
                    v1_attribute("Cryptographic Algorithm", Value::Enumeration(A::RSA.0)),
                    v1_attribute("Cryptographic Length", Value::Integer(bits)),
                ],
            ),
            Item::structure(
                Tag::PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
                vec![v1_attribute(
                    "Cryptographic Usage Mask",
                    Value::Integer(0x01),
                )],
            ),
            Item::structure(
                Tag::PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
                vec![v1_attribute(
                    "Cryptographic Usage Mask",
                    Value::Integer(0x02),
                )],
            ),
        ],
    ))
}

/// An operation on key `k1` with Cryptographic Parameters.
fn with_parameters(params: Vec<Item>) -> RequestPayload {
    RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![
            Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString("k1".into())),
            Item::structure(Tag::CRYPTOGRAPHIC_PARAMETERS, params),
            Item::new(Tag::DATA, Value::ByteString(b"data".to_vec())),
        ],
    ))
}

/// Every expected refusal: (case, operation, request, the start of the client's message).
fn refusals() -> Vec<(&'static str, Operation, RequestPayload, &'static str)> {
    vec![
        (
            "Create DES-56",
            Operation::CREATE,
            create(A::DES, 56),
            "not approved in FIPS mode: DES: disallowed [",
        ),
        (
            "Create 3DES-168 for encryption",
            Operation::CREATE,
            create(A::DES3, 168),
            "not approved in FIPS mode: 3DES keys for Encrypt, Decrypt: legacy use only",
        ),
        (
            "Create Blowfish-128",
            Operation::CREATE,
            create(A::BLOWFISH, 128),
            "not approved in FIPS mode: Blowfish: disallowed [",
        ),
        (
            "Create RC2-128",
            Operation::CREATE,
            create(A::RC2, 128),
            "not approved in FIPS mode: RC2: disallowed [",
        ),
        (
            "CreateKeyPair RSA-1024",
            Operation::CREATE_KEY_PAIR,
            create_rsa(1024),
            "not approved in FIPS mode: RSA-1024: RSA keys need 2048 to 16384 bits",
        ),
        (
            "MAC with HMAC-MD5",
            Operation::MAC,
            with_parameters(vec![enumeration(
                Tag::CRYPTOGRAPHIC_ALGORITHM,
                A::HMAC_MD5.0,
            )]),
            "not approved in FIPS mode: HMAC-MD5: disallowed [",
        ),
        (
            "Encrypt with RSA PKCS#1 v1.5",
            Operation::ENCRYPT,
            // Cryptographic Parameters in the specification's field order.
            with_parameters(vec![
                enumeration(Tag::PADDING_METHOD, PaddingMethod::PKCS1_V1_5.0),
                enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, A::RSA.0),
            ]),
            "not approved in FIPS mode: RSA PKCS#1 v1.5 for Encrypt: approved only for Sign, \
             SignatureVerify",
        ),
        (
            "Encrypt with AES-ECB",
            Operation::ENCRYPT,
            with_parameters(vec![
                enumeration(Tag::BLOCK_CIPHER_MODE, BlockCipherMode::ECB.0),
                enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, A::AES.0),
            ]),
            "not approved in FIPS mode: ECB for Encrypt: approved only for WrapKey, UnwrapKey",
        ),
    ]
}

fn service(policy: Policy) -> Service {
    Service::new(ServerInfo::default(), vec![Identity::new("admin")]).with_policy(policy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fips_mode_refuses_each_listed_request_with_its_reason() {
    let logs = Logs::capture();
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service(Policy::enforced().unwrap())).await;
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    for (case, operation, payload, message) in refusals() {
        let r = roundtrip(&mut s, &request(v(1, 4), vec![(operation, b"1", payload)])).await;
        let item = &r.batch_items[0];
        assert_eq!(item.result_status, ResultStatus::OPERATION_FAILED, "{case}");
        assert_eq!(
            item.result_reason,
            Some(ResultReason::PERMISSION_DENIED),
            "{case}"
        );
        let text = item.result_message.as_deref().unwrap_or_default();
        assert!(text.starts_with(message), "{case}: {text}");
        let subject = message
            .trim_start_matches("not approved in FIPS mode: ")
            .split(':')
            .next()
            .unwrap();
        assert!(
            logs.wait_for(&format!("refused={subject}")).await,
            "{case}: refusal not logged\n{}",
            logs.text()
        );
    }
    // AES passes the policy (and reaches dispatch).
    for len in [128, 192, 256] {
        let r = roundtrip(
            &mut s,
            &request(
                v(1, 4),
                vec![(Operation::CREATE, b"2", create(A::AES, len))],
            ),
        )
        .await;
        assert_ne!(
            r.batch_items[0].result_reason,
            Some(ResultReason::PERMISSION_DENIED),
            "AES-{len}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_fips_mode_the_same_requests_pass_the_policy() {
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service(Policy::off())).await;
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    for (case, operation, payload, _) in refusals() {
        let r = roundtrip(&mut s, &request(v(1, 4), vec![(operation, b"1", payload)])).await;
        let item = &r.batch_items[0];
        assert_ne!(
            item.result_reason,
            Some(ResultReason::PERMISSION_DENIED),
            "{case}"
        );
        let text = item.result_message.as_deref().unwrap_or_default();
        assert!(
            !text.contains("not approved in FIPS mode"),
            "{case}: {text}"
        );
    }
    server.shutdown().await;
}
