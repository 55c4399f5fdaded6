//! The cryptographic operations through the whole server (TLS 1.3, KMIP TTLV, service, HSM)
//! next to the raw PKCS#11 rate of the same operation on the same token, in the same run:
//! AES-256-GCM Encrypt of 64 B and of 4 KiB, HMAC-SHA256 MAC of 64 B, Sign of 64 B with
//! ECDSA P-256 (SHA-256) and RSA-2048 (PKCS#1 v1.5, SHA-256). Prints one line per operation
//! with both rates and their ratio (server / raw). The raw ECDSA rate is C_Digest + C_Sign
//! (CKM_ECDSA), the same two calls the server makes.
//!
//! `cargo bench --bench crypto_server` (SoftHSM; `HSMKMS_TEST_PKCS11=kryoptic` for Kryoptic);
//! `BENCH_SECONDS` (default 3) per measurement.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/server_support/mod.rs"]
mod server_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute as CkAttribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use hsmkms::hsm::{find_token, module_context};
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::Attribute;
use hsmkms::kmip::operations::activate::IdentifierPayload;
use hsmkms::kmip::operations::create::CreateRequest;
use hsmkms::kmip::operations::create_key_pair::CreateKeyPairRequest;
use hsmkms::kmip::operations::cryptographic_parameters::CryptographicParameters;
use hsmkms::kmip::operations::encrypt::EncryptRequest;
use hsmkms::kmip::operations::mac::MacRequest;
use hsmkms::kmip::operations::sign::SignRequest;
use hsmkms::kmip::operations::AttributeSet;
use hsmkms::kmip::{RequestPayload, ResponsePayload};
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::store::{SledStore, StoreOptions};
use hsmkms::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm, HashingAlgorithm, ObjectType, Operation,
    PaddingMethod, ResultStatus,
};
use hsmkms::ttlv::{Tag, Value};
use server_support::*;

fn seconds() -> Duration {
    Duration::from_secs_f64(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    )
}

/// Operations per second of `f` over the measuring window.
fn rate(mut f: impl FnMut()) -> f64 {
    for _ in 0..20 {
        f();
    }
    let window = seconds();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn create(alg: CryptographicAlgorithm, bits: i32, mask: i32) -> RequestPayload {
    RequestPayload::Create(CreateRequest {
        object_type: ObjectType::SYMMETRIC_KEY,
        attributes: Some(AttributeSet::V1(vec![
            Attribute::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(alg.0)),
            Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(bits)),
            Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(mask)),
        ])),
        protection_storage_masks: None,
    })
}

fn create_key_pair(alg: CryptographicAlgorithm, bits: i32) -> RequestPayload {
    let mask = |m: i32| {
        Some(AttributeSet::V1(vec![Attribute::new(
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Value::Integer(m),
        )]))
    };
    RequestPayload::CreateKeyPair(CreateKeyPairRequest {
        common: Some(AttributeSet::V1(vec![
            Attribute::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(alg.0)),
            Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(bits)),
        ])),
        private: mask(0x1),
        public: mask(0x2),
        protection_storage_masks: Vec::new(),
    })
}

fn main() {
    let (token, hsm) = common::TestToken::initialised();
    let hsm = Arc::new(hsm);
    let store = Arc::new(
        SledStore::open(
            &StoreOptions::new(token.dir.path().join("store")),
            Arc::new(HsmRecordMac::new(hsm.clone())),
        )
        .unwrap(),
    );
    let service = Service::new(ServerInfo::default(), vec![Identity::new("admin")])
        .with_objects(hsm.clone(), store);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pki = TestPki::new();
    let server = rt.block_on(start_with(&pki.config(), service));
    let mut s = rt
        .block_on(connect(
            server.kmip_addr,
            pki.client_config(Some(&pki.alice)),
        ))
        .unwrap();
    let v14 = v(1, 4);
    let mut call = |op: Operation, p: RequestPayload| -> ResponsePayload {
        let mut r = rt.block_on(roundtrip(&mut s, &request(v14, vec![(op, b"1", p)])));
        let b = r.batch_items.remove(0);
        assert_eq!(
            b.result_status,
            ResultStatus::SUCCESS,
            "{:?}",
            b.result_message
        );
        b.payload.unwrap()
    };
    let mut key = |alg, bits, mask| {
        let uid = match call(Operation::CREATE, create(alg, bits, mask)) {
            ResponsePayload::Create(c) => c.unique_identifier,
            other => panic!("{other:?}"),
        };
        call(
            Operation::ACTIVATE,
            RequestPayload::Activate(IdentifierPayload {
                unique_identifier: Some(uid.clone()),
            }),
        );
        uid
    };
    let aes = key(CryptographicAlgorithm::AES, 256, 0x4 | 0x8);
    let hmac = key(CryptographicAlgorithm::HMAC_SHA256, 256, 0x80 | 0x100);
    let mut signing_key = |alg, bits| {
        let uid = match call(Operation::CREATE_KEY_PAIR, create_key_pair(alg, bits)) {
            ResponsePayload::CreateKeyPair(c) => c.private_key_unique_identifier,
            other => panic!("{other:?}"),
        };
        call(
            Operation::ACTIVATE,
            RequestPayload::Activate(IdentifierPayload {
                unique_identifier: Some(uid.clone()),
            }),
        );
        uid
    };
    let ec_key = signing_key(CryptographicAlgorithm::EC, 256);
    let rsa_key = signing_key(CryptographicAlgorithm::RSA, 2048);
    let gcm = CryptographicParameters {
        block_cipher_mode: Some(BlockCipherMode::GCM),
        tag_length: Some(16),
        ..Default::default()
    };
    // The raw side: session keys of the same kind on the same token, used with bare cryptoki
    // calls (one C_EncryptInit + C_Encrypt, one C_SignInit + C_Sign), no KMIP, TLS or store.
    let ctx = module_context(&token.module).unwrap();
    let slot = find_token(&ctx, &token.module, common::LABEL).unwrap();
    let raw = ctx.open_rw_session(slot).unwrap();
    let _ = raw.login(UserType::User, Some(&AuthPin::from(common::USER_PIN)));
    let raw_key = |kt: KeyType, encrypt: bool| {
        raw.create_object(&[
            CkAttribute::Class(ObjectClass::SECRET_KEY),
            CkAttribute::KeyType(kt),
            CkAttribute::Token(false),
            CkAttribute::Encrypt(encrypt),
            CkAttribute::Sign(!encrypt),
            CkAttribute::Value(vec![7; 32]),
        ])
        .unwrap()
    };
    let raw_aes = raw_key(KeyType::AES, true);
    let raw_hmac = raw_key(KeyType::GENERIC_SECRET, false);
    println!(
        "token: {:?}; {} s per measurement",
        token.kind,
        seconds().as_secs_f64()
    );
    println!(
        "{:<28} {:>12} {:>12} {:>8}",
        "operation", "server op/s", "raw op/s", "ratio"
    );
    for size in [64usize, 4096] {
        let data = vec![0x5a; size];
        let server_rate = rate(|| {
            call(
                Operation::ENCRYPT,
                RequestPayload::Encrypt(EncryptRequest {
                    unique_identifier: Some(aes.clone()),
                    cryptographic_parameters: Some(gcm.clone()),
                    data: Some(data.clone()),
                    ..Default::default()
                }),
            );
        });
        let raw_rate = rate(|| {
            let mut iv = [1u8; 12];
            let m = Mechanism::AesGcm(GcmParams::new(&mut iv, &[], 128.into()).unwrap());
            raw.encrypt(&m, raw_aes, &data).unwrap();
        });
        println!(
            "{:<28} {:>12.0} {:>12.0} {:>8.3}",
            format!("Encrypt AES-256-GCM {size} B"),
            server_rate,
            raw_rate,
            server_rate / raw_rate
        );
    }
    let data = vec![0x5a; 64];
    let server_rate = rate(|| {
        call(
            Operation::MAC,
            RequestPayload::Mac(MacRequest {
                unique_identifier: Some(hmac.clone()),
                data: Some(data.clone()),
                ..Default::default()
            }),
        );
    });
    let raw_rate = rate(|| {
        raw.sign(&Mechanism::Sha256Hmac, raw_hmac, &data).unwrap();
    });
    println!(
        "{:<28} {:>12.0} {:>12.0} {:>8.3}",
        "MAC HMAC-SHA256 64 B",
        server_rate,
        raw_rate,
        server_rate / raw_rate
    );
    // Signatures: key pairs of the same kind made in the raw session.
    let raw_pair = |m: &Mechanism, public: Vec<CkAttribute>| {
        raw.generate_key_pair(
            m,
            &public,
            &[
                CkAttribute::Token(false),
                CkAttribute::Private(true),
                CkAttribute::Sensitive(true),
                CkAttribute::Sign(true),
            ],
        )
        .unwrap()
        .1
    };
    let raw_ec = raw_pair(
        &Mechanism::EccKeyPairGen,
        vec![
            CkAttribute::Token(false),
            CkAttribute::Verify(true),
            CkAttribute::EcParams(hsmkms::hsm::Curve::P256.der_oid().to_vec()),
        ],
    );
    let raw_rsa = raw_pair(
        &Mechanism::RsaPkcsKeyPairGen,
        vec![
            CkAttribute::Token(false),
            CkAttribute::Verify(true),
            CkAttribute::ModulusBits(2048.into()),
            CkAttribute::PublicExponent(vec![1, 0, 1]),
        ],
    );
    let sha256 = CryptographicParameters {
        hashing_algorithm: Some(HashingAlgorithm::SHA_256),
        ..Default::default()
    };
    let pkcs1 = CryptographicParameters {
        padding_method: Some(PaddingMethod::PKCS1_V1_5),
        ..sha256.clone()
    };
    for (label, uid, p) in [
        ("Sign ECDSA P-256 SHA-256", &ec_key, &sha256),
        ("Sign RSA-2048 PKCS1 SHA-256", &rsa_key, &pkcs1),
    ] {
        let server_rate = rate(|| {
            call(
                Operation::SIGN,
                RequestPayload::Sign(SignRequest {
                    unique_identifier: Some(uid.clone()),
                    cryptographic_parameters: Some(p.clone()),
                    data: Some(data.clone()),
                    ..Default::default()
                }),
            );
        });
        let raw_rate = if uid == &ec_key {
            rate(|| {
                let digest = raw.digest(&Mechanism::Sha256, &data).unwrap();
                raw.sign(&Mechanism::Ecdsa, raw_ec, &digest).unwrap();
            })
        } else {
            rate(|| {
                raw.sign(&Mechanism::Sha256RsaPkcs, raw_rsa, &data).unwrap();
            })
        };
        println!(
            "{:<28} {:>12.0} {:>12.0} {:>8.3}",
            label,
            server_rate,
            raw_rate,
            server_rate / raw_rate
        );
    }
}
