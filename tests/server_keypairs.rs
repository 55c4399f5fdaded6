//! Asymmetric keys through the real stack (TLS, the test token, sled): CreateKeyPair of RSA and
//! EC pairs with their links, Get of public keys in PKCS#1, X.509 and Transparent forms (each
//! parsed independently: x509-parser, the `rsa` crate), Get of private keys, Register round
//! trips, the refusals (Sensitive public key, malformed DER, wrong format, mismatched object
//! type, DSA), Get wrapped under an AES key (KWP) and an RSA public key (OAEP) checked by
//! unwrapping independently, and RSA-1024 created outside FIPS mode but refused in it.

mod client_support;
mod common;
mod server_support;

use client_support::*;
use hsmkms::kmip::attributes::Attribute;
use hsmkms::kmip::RequestPayload;
use hsmkms::service::Policy;
use hsmkms::ttlv::enums::{
    CryptographicAlgorithm as A, KeyFormatType as F, LinkType, ObjectType, Operation, ResultReason,
};
use hsmkms::ttlv::{BigInt, Item, Tag, Value};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use server_support::*;
use x509_parser::prelude::FromDer;

const SIGN: i32 = 0x1;
const VERIFY: i32 = 0x2;
const ENCRYPT: i32 = 0x4;
const WRAP_KEY: i32 = 0x10;

async fn started() -> (Backend, TestPki, hsmkms::server::RunningServer) {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    (backend, pki, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_an_rsa_pair_and_returns_its_public_key_in_each_format() {
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let r = c
        .one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::RSA, 2048, "rsa", (SIGN, VERIFY)),
        )
        .await;
    let (private, public) = pair(&r);
    let l = links(
        &c.one(
            Operation::GET_ATTRIBUTES,
            get_attributes(&private, &["Link"]),
        )
        .await,
    );
    assert_eq!(l, vec![(LinkType::PUBLIC_KEY_LINK.0, public.clone())]);
    let l = links(
        &c.one(
            Operation::GET_ATTRIBUTES,
            get_attributes(&public, &["Link"]),
        )
        .await,
    );
    assert_eq!(l, vec![(LinkType::PRIVATE_KEY_LINK.0, private.clone())]);

    // PKCS#1 is the default for RSA.
    let default = c.one(Operation::GET, get(&public)).await;
    assert_eq!(key_block(&default).key_format_type, F::PKCS_1);
    assert_eq!(key_block(&default).cryptographic_length, Some(2048));
    let pkcs1 = der(&default);
    let pk = <rsa::RsaPublicKey as rsa::pkcs1::DecodeRsaPublicKey>::from_pkcs1_der(&pkcs1)
        .expect("PKCS#1 parses");
    assert_eq!(pk.size(), 256);
    assert_eq!(pk.e().to_bytes_be(), vec![1, 0, 1]);
    let n = pk.n().to_bytes_be();

    let spki = der(&c.one(Operation::GET, get_in(&public, F::X_509)).await);
    let (rest, info) =
        x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).expect("SPKI parses");
    assert!(rest.is_empty());
    let Ok(x509_parser::public_key::PublicKey::RSA(rsa_key)) = info.parsed() else {
        panic!("an RSA SubjectPublicKeyInfo")
    };
    let modulus: Vec<u8> = rsa_key
        .modulus
        .iter()
        .copied()
        .skip_while(|b| *b == 0)
        .collect();
    assert_eq!(modulus, n);
    assert_eq!(info.subject_public_key.data.as_ref(), pkcs1.as_slice());

    let t = key_material(
        &c.one(
            Operation::GET,
            get_in(&public, F::TRANSPARENT_RSA_PUBLIC_KEY),
        )
        .await,
    );
    assert_eq!(part(&t, Tag::MODULUS), n);
    assert_eq!(part(&t, Tag::PUBLIC_EXPONENT), vec![1, 0, 1]);

    // The private key (the SoftHSM and Kryoptic profiles allow plaintext export) matches.
    let p8 = der(&c.one(Operation::GET, get_in(&private, F::PKCS_8)).await);
    let sk = rsa::RsaPrivateKey::from_pkcs8_der(&p8).expect("PKCS#8 parses");
    assert_eq!(sk.n().to_bytes_be(), n);
    sk.validate().expect("a consistent RSA key");

    let (reason, _) = failure(&c.one(Operation::GET, get_in(&public, F::PKCS_8)).await);
    assert_eq!(reason, ResultReason::KEY_FORMAT_TYPE_NOT_SUPPORTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_an_ec_pair_and_returns_both_halves() {
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (2, 1)).await;
    let r = c
        .one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::EC, 256, "ec", (SIGN, VERIFY)),
        )
        .await;
    let (private, public) = pair(&r);
    // Query Objects lists both halves' object types.
    let q = c
        .one(
            Operation::QUERY,
            RequestPayload::Query(hsmkms::kmip::payload::QueryRequest {
                query_functions: vec![hsmkms::ttlv::enums::QueryFunction::QUERY_OBJECTS],
            }),
        )
        .await;
    let Some(hsmkms::kmip::ResponsePayload::Query(q)) = &q.batch_items[0].payload else {
        panic!("{q:?}")
    };
    for t in [ObjectType::PUBLIC_KEY, ObjectType::PRIVATE_KEY] {
        assert!(q.object_types.contains(&t), "{:?}", q.object_types);
    }
    let default = c.one(Operation::GET, get(&public)).await;
    assert_eq!(key_block(&default).key_format_type, F::X_509);
    let spki = der(&default);
    let (_, info) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&spki).expect("SPKI");
    let Ok(x509_parser::public_key::PublicKey::EC(point)) = info.parsed() else {
        panic!("an EC SubjectPublicKeyInfo")
    };
    assert_eq!(point.data().len(), 65);
    assert_eq!(point.data()[0], 4);
    let t = key_material(
        &c.one(
            Operation::GET,
            get_in(&public, F::TRANSPARENT_EC_PUBLIC_KEY),
        )
        .await,
    );
    assert_eq!(part(&t, Tag::Q_STRING), point.data());
    let d = key_material(
        &c.one(
            Operation::GET,
            get_in(&private, F::TRANSPARENT_EC_PRIVATE_KEY),
        )
        .await,
    );
    assert!(!part(&d, Tag::D).is_empty() && part(&d, Tag::D).len() <= 32);
    let (reason, _) = failure(&c.one(Operation::GET, get_in(&public, F::PKCS_1)).await);
    assert_eq!(reason, ResultReason::KEY_FORMAT_TYPE_NOT_SUPPORTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_private_and_public_keys_and_returns_them_unchanged() {
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let (private, public) = pair(
        &c.one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::RSA, 2048, "src", (SIGN, VERIFY)),
        )
        .await,
    );
    let pkcs1_private = der(&c.one(Operation::GET, get_in(&private, F::PKCS_1)).await);
    let spki = der(&c.one(Operation::GET, get_in(&public, F::X_509)).await);
    let transparent = key_material(
        &c.one(
            Operation::GET,
            get_in(&private, F::TRANSPARENT_RSA_PRIVATE_KEY),
        )
        .await,
    );

    let reg = |t, f, km| register_key(t, f, km, vec![]);
    let uid = created(
        &c.one(
            Operation::REGISTER,
            reg(
                ObjectType::PRIVATE_KEY,
                F::PKCS_1,
                bytes_item(pkcs1_private.clone()),
            ),
        )
        .await,
    );
    assert_eq!(der(&c.one(Operation::GET, get(&uid)).await), pkcs1_private);
    let p8 = der(&c.one(Operation::GET, get_in(&uid, F::PKCS_8)).await);
    let sk = rsa::RsaPrivateKey::from_pkcs8_der(&p8).unwrap();
    assert_eq!(
        sk,
        rsa::RsaPrivateKey::from_pkcs1_der(&pkcs1_private).unwrap()
    );
    let a = attributes(
        &c.one(
            Operation::GET_ATTRIBUTES,
            get_attributes(&uid, &["Cryptographic Algorithm", "Cryptographic Length"]),
        )
        .await,
    );
    assert!(a.contains(&Attribute::new(
        Tag::CRYPTOGRAPHIC_ALGORITHM,
        Value::Enumeration(A::RSA.0)
    )));
    assert!(a.contains(&Attribute::new(
        Tag::CRYPTOGRAPHIC_LENGTH,
        Value::Integer(2048)
    )));

    let uid = created(
        &c.one(
            Operation::REGISTER,
            reg(
                ObjectType::PRIVATE_KEY,
                F::TRANSPARENT_RSA_PRIVATE_KEY,
                transparent,
            ),
        )
        .await,
    );
    assert_eq!(
        der(&c.one(Operation::GET, get_in(&uid, F::PKCS_1)).await),
        pkcs1_private
    );

    let uid = created(
        &c.one(
            Operation::REGISTER,
            reg(ObjectType::PUBLIC_KEY, F::X_509, bytes_item(spki.clone())),
        )
        .await,
    );
    assert_eq!(der(&c.one(Operation::GET, get(&uid)).await), spki);
    // Destroy of a registered private key destroys only it.
    ok(&c.one(Operation::DESTROY, destroy(&private)).await);
    ok(&c.one(Operation::GET, get(&public)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_sensitive_public_key_and_bad_input_with_their_reasons() {
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let (_, public) = pair(
        &c.one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::RSA, 2048, "bad", (SIGN, VERIFY)),
        )
        .await,
    );
    let pkcs1 = der(&c.one(Operation::GET, get(&public)).await);
    let sensitive = Attribute::new(Tag::SENSITIVE, Value::Boolean(true));
    let uid = created(
        &c.one(
            Operation::REGISTER,
            register_key(
                ObjectType::PUBLIC_KEY,
                F::PKCS_1,
                bytes_item(pkcs1.clone()),
                vec![sensitive],
            ),
        )
        .await,
    );
    let (reason, message) = failure(&c.one(Operation::GET, get(&uid)).await);
    assert_eq!(reason, ResultReason::SENSITIVE);
    assert!(message.contains("Sensitive"), "{message}");

    let cases: Vec<(&str, RequestPayload, ResultReason, &str)> = vec![
        (
            "truncated DER",
            register_key(
                ObjectType::PUBLIC_KEY,
                F::PKCS_1,
                bytes_item(pkcs1[..100].to_vec()),
                vec![],
            ),
            ResultReason::INVALID_FIELD,
            "not a valid PKCS#1",
        ),
        (
            "a public key in PKCS#8",
            register_key(
                ObjectType::PUBLIC_KEY,
                F::PKCS_8,
                bytes_item(pkcs1.clone()),
                vec![],
            ),
            ResultReason::KEY_FORMAT_TYPE_NOT_SUPPORTED,
            "public key",
        ),
        (
            "Object Type Private Key for a Public Key object",
            match register_key(
                ObjectType::PUBLIC_KEY,
                F::PKCS_1,
                bytes_item(pkcs1.clone()),
                vec![],
            ) {
                RequestPayload::Register(mut r) => {
                    r.object_type = ObjectType::PRIVATE_KEY;
                    RequestPayload::Register(r)
                }
                _ => unreachable!(),
            },
            ResultReason::INVALID_FIELD,
            "does not match",
        ),
        (
            "a Cryptographic Length that is not the key's",
            register_key(
                ObjectType::PUBLIC_KEY,
                F::PKCS_1,
                bytes_item(pkcs1.clone()),
                vec![Attribute::new(
                    Tag::CRYPTOGRAPHIC_LENGTH,
                    Value::Integer(4096),
                )],
            ),
            ResultReason::INVALID_FIELD,
            "does not match the key (2048 bits)",
        ),
        (
            "a 64-bit RSA modulus",
            register_key(
                ObjectType::PUBLIC_KEY,
                F::TRANSPARENT_RSA_PUBLIC_KEY,
                Item::structure(
                    Tag::KEY_MATERIAL,
                    vec![
                        Item::new(
                            Tag::MODULUS,
                            Value::BigInteger(BigInt::from_unsigned_bytes(&[0xC5; 8])),
                        ),
                        Item::new(
                            Tag::PUBLIC_EXPONENT,
                            Value::BigInteger(BigInt::from_unsigned_bytes(&[1, 0, 1])),
                        ),
                    ],
                ),
                vec![],
            ),
            ResultReason::INVALID_FIELD,
            "not usable",
        ),
        (
            "a DSA public key",
            register_key(
                ObjectType::PUBLIC_KEY,
                F::TRANSPARENT_DSA_PUBLIC_KEY,
                Item::structure(Tag::KEY_MATERIAL, vec![]),
                vec![],
            ),
            ResultReason::FEATURE_NOT_SUPPORTED,
            "DSA keys are not supported",
        ),
    ];
    for (case, request, want, text) in cases {
        let (reason, message) = failure(&c.one(Operation::REGISTER, request).await);
        assert_eq!(reason, want, "{case}: {message}");
        assert!(message.contains(text), "{case}: {message}");
    }
}

fn oaep_parameters(hash: u32) -> Item {
    Item::structure(
        Tag::CRYPTOGRAPHIC_PARAMETERS,
        vec![
            Item::new(Tag::PADDING_METHOD, Value::Enumeration(0x2)),
            Item::new(Tag::HASHING_ALGORITHM, Value::Enumeration(hash)),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wraps_keys_under_aes_and_rsa_keys_for_export() {
    use aes_kw::KekAes256;
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let kek = [0x5Au8; 32];
    let target_value = [0x3Cu8; 16];
    let kek_uid = created(
        &c.one(Operation::REGISTER, register_aes(&kek, WRAP_KEY))
            .await,
    );
    let target = created(
        &c.one(Operation::REGISTER, register_aes(&target_value, ENCRYPT))
            .await,
    );

    // The wrapping key must be Active.
    let (reason, _) = failure(
        &c.one(Operation::GET, get_wrapped(&target, &kek_uid, None))
            .await,
    );
    assert_eq!(reason, ResultReason::PERMISSION_DENIED);
    ok(&c.one(Operation::ACTIVATE, activate(&kek_uid)).await);

    let blob = wrapped_bytes(
        &c.one(Operation::GET, get_wrapped(&target, &kek_uid, None))
            .await,
        &kek_uid,
    );
    let unwrapped = KekAes256::from(kek)
        .unwrap_with_padding_vec(&blob)
        .expect("KWP");
    assert_eq!(unwrapped, target_value);

    // A key without Wrap Key in its mask does not wrap.
    let (reason, message) = failure(
        &c.one(Operation::GET, get_wrapped(&kek_uid, &target, None))
            .await,
    );
    assert_eq!(reason, ResultReason::PERMISSION_DENIED, "{message}");

    // RSA-OAEP under a public key; unwrapped with the private key read in the clear.
    let (private, public) = pair(
        &c.one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::RSA, 2048, "wrap", (0x20, WRAP_KEY)),
        )
        .await,
    );
    ok(&c.one(Operation::ACTIVATE, activate(&public)).await);
    let sk = rsa::RsaPrivateKey::from_pkcs8_der(&der(&c
        .one(Operation::GET, get_in(&private, F::PKCS_8))
        .await))
    .unwrap();
    let sha1 = oaep_parameters(0x4);
    let blob = wrapped_bytes(
        &c.one(Operation::GET, get_wrapped(&target, &public, Some(sha1)))
            .await,
        &public,
    );
    let clear = sk
        .decrypt(rsa::Oaep::new::<sha1::Sha1>(), &blob)
        .expect("OAEP");
    assert_eq!(clear, target_value);

    // OAEP with SHA-256: wrapped where the HSM profile lists it, else a clear refusal.
    let r = c
        .one(
            Operation::GET,
            get_wrapped(&target, &public, Some(oaep_parameters(0x6))),
        )
        .await;
    if r.batch_items[0].result_status == hsmkms::ttlv::enums::ResultStatus::SUCCESS {
        let blob = wrapped_bytes(&r, &public);
        let clear = sk.decrypt(rsa::Oaep::new::<sha2::Sha256>(), &blob).unwrap();
        assert_eq!(clear, target_value);
    } else {
        let (reason, message) = failure(&r);
        assert_eq!(reason, ResultReason::FEATURE_NOT_SUPPORTED);
        assert!(message.contains("not supported by this HSM"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1024_is_created_outside_fips_mode_and_refused_in_it() {
    use hsmkms::service::{Identity, ServerInfo, Service};
    let rsa1024 = || create_key_pair(A::RSA, 1024, "small", (SIGN, VERIFY));
    let backend = Backend::new();
    let (_, store) = backend.service();
    let pki = TestPki::new();
    let service = |p: Policy| {
        Service::new(ServerInfo::default(), vec![Identity::new("admin")])
            .with_objects(backend.hsm.clone(), store.clone())
            .with_policy(p)
    };
    let server = start_with(&pki.config(), service(Policy::off())).await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let (_, public) = pair(&c.one(Operation::CREATE_KEY_PAIR, rsa1024()).await);
    let kb = key_block(&c.one(Operation::GET, get(&public)).await);
    assert_eq!(kb.cryptographic_length, Some(1024));

    let server = start_with(&pki.config(), service(Policy::enforced().unwrap())).await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let (reason, message) = failure(&c.one(Operation::CREATE_KEY_PAIR, rsa1024()).await);
    assert_eq!(reason, ResultReason::PERMISSION_DENIED);
    assert!(message.contains("not approved in FIPS mode"), "{message}");
    let r = c
        .one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::RSA, 2048, "big", (SIGN, VERIFY)),
        )
        .await;
    pair(&r);
}

/// PyKMIP 0.11.0 (an independent client, KMIP 1.2): create_key_pair, then both halves parsed by
/// Python's `cryptography` and checked to be one pair (tests/pykmip/keypairs.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_creates_a_key_pair_and_reads_both_halves() {
    let (_b, pki, server) = started().await;
    let (stdout, stderr) = run_pykmip("keypairs.py", &server, &pki).await;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            "public_format=PKCS_1",
            "private_format=PKCS_1",
            "key_size=2048",
            "same_pair=True",
            "destroyed=True",
        ],
        "stderr:\n{stderr}"
    );
}

/// A private key leaves wrapped as its PKCS#8 under KWP; a non-extractable key does not leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wraps_a_private_key_and_refuses_a_non_extractable_one() {
    use aes_kw::KekAes256;
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let kek = [0x11u8; 32];
    let kek_uid = created(
        &c.one(Operation::REGISTER, register_aes(&kek, WRAP_KEY))
            .await,
    );
    ok(&c.one(Operation::ACTIVATE, activate(&kek_uid)).await);
    let (private, _) = pair(
        &c.one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::RSA, 2048, "exp", (SIGN, VERIFY)),
        )
        .await,
    );
    let r = c
        .one(Operation::GET, get_wrapped(&private, &kek_uid, None))
        .await;
    assert_eq!(key_block(&r).key_format_type, F::PKCS_8);
    let p8 = KekAes256::from(kek)
        .unwrap_with_padding_vec(&wrapped_bytes(&r, &kek_uid))
        .expect("KWP");
    let clear = der(&c.one(Operation::GET, get_in(&private, F::PKCS_8)).await);
    // SoftHSM zero-pads the PKCS#8 to a multiple of 8 bytes before KWP (RFC 5649's length
    // indicator then covers the padding); the DER itself ends where its SEQUENCE says.
    assert_eq!(&p8[..2], &[0x30, 0x82]);
    let len = 4 + u16::from_be_bytes([p8[2], p8[3]]) as usize;
    assert!(p8.len() - len < 8 && p8[len..].iter().all(|b| *b == 0));
    let p8 = &p8[..len];
    assert_eq!(
        rsa::RsaPrivateKey::from_pkcs8_der(p8).unwrap(),
        rsa::RsaPrivateKey::from_pkcs8_der(&clear).unwrap()
    );

    let sealed = match register_aes(&[0x22; 16], ENCRYPT) {
        RequestPayload::Register(mut r) => {
            r.attributes = Some(hsmkms::kmip::operations::AttributeSet::V1(vec![
                Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(ENCRYPT)),
                Attribute::new(Tag::EXTRACTABLE, Value::Boolean(false)),
            ]));
            RequestPayload::Register(r)
        }
        _ => unreachable!(),
    };
    let sealed = created(&c.one(Operation::REGISTER, sealed).await);
    let (reason, _) = failure(
        &c.one(Operation::GET, get_wrapped(&sealed, &kek_uid, None))
            .await,
    );
    assert_eq!(reason, ResultReason::NOT_EXTRACTABLE);
}

/// The lifecycle operations work on both halves: Locate by Object Type, Activate, Revoke,
/// Destroy (each half on its own); Get of a destroyed public key is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_halves_go_through_the_lifecycle() {
    let (_b, pki, server) = started().await;
    let mut c = client(&server, &pki, (1, 4)).await;
    let (private, public) = pair(
        &c.one(
            Operation::CREATE_KEY_PAIR,
            create_key_pair(A::EC, 384, "life", (SIGN, VERIFY)),
        )
        .await,
    );
    for (t, uid) in [
        (ObjectType::PUBLIC_KEY, &public),
        (ObjectType::PRIVATE_KEY, &private),
    ] {
        let filter = Attribute::new(Tag::OBJECT_TYPE, Value::Enumeration(t.0));
        let found = located(
            &c.one(
                Operation::LOCATE,
                RequestPayload::Locate(locate(vec![filter])),
            )
            .await,
        );
        assert_eq!(found, vec![uid.clone()]);
        let s = |r: &hsmkms::kmip::ResponseMessage| state(r);
        ok(&c.one(Operation::ACTIVATE, activate(uid)).await);
        let r = c
            .one(Operation::GET_ATTRIBUTES, get_attributes(uid, &["State"]))
            .await;
        assert_eq!(s(&r), hsmkms::ttlv::enums::State::ACTIVE);
        ok(&c.one(Operation::REVOKE, revoke(uid)).await);
        let r = c
            .one(Operation::GET_ATTRIBUTES, get_attributes(uid, &["State"]))
            .await;
        assert_eq!(s(&r), hsmkms::ttlv::enums::State::DEACTIVATED);
    }
    ok(&c.one(Operation::DESTROY, destroy(&public)).await);
    let (reason, message) = failure(&c.one(Operation::GET, get(&public)).await);
    assert_eq!(reason, ResultReason::PERMISSION_DENIED);
    assert!(message.contains("destroyed"), "{message}");
    // The private half is untouched by its public key's destruction.
    let d = key_material(
        &c.one(
            Operation::GET,
            get_in(&private, F::TRANSPARENT_EC_PRIVATE_KEY),
        )
        .await,
    );
    assert!(!part(&d, Tag::D).is_empty() && part(&d, Tag::D).len() <= 48);
}
