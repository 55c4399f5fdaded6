//! The cryptographic operations through the real stack (TLS, SoftHSM, sled): known answers for
//! AES-ECB, AES-CBC, HMAC-SHA256 and SHA-256 computed by the HSM, AES-GCM round trips with the
//! tag in its own field (1.4+) and appended (1.2), server-drawn IVs, the refusal rules (usage
//! mask, state, dates) each with its version's Result Reason, RNG Retrieve, and non-extractable
//! keys (Extractable false from 1.4, the `[crypto]` group policy and the custom attribute before).

mod client_support;
mod common;
mod server_support;

use std::sync::Arc;

use client_support::run_pykmip;
use common::TestToken;
use hmac::{Hmac, Mac};
use hsmkms::config::CryptoConfig;
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::{Attribute, AttributeName};
use hsmkms::kmip::message::{ProtocolVersion, ResponseBatchItem};
use hsmkms::kmip::operations::activate::IdentifierPayload;
use hsmkms::kmip::operations::cryptographic_parameters::CryptographicParameters;
use hsmkms::kmip::operations::decrypt::DecryptRequest;
use hsmkms::kmip::operations::encrypt::EncryptRequest;
use hsmkms::kmip::operations::get::GetRequest;
use hsmkms::kmip::operations::hash::HashRequest;
use hsmkms::kmip::operations::mac::MacRequest;
use hsmkms::kmip::operations::object::{KeyBlock, ManagedObject};
use hsmkms::kmip::operations::register::RegisterRequest;
use hsmkms::kmip::operations::revoke::{RevocationReason, RevokeRequest};
use hsmkms::kmip::operations::rng_retrieve::RngRetrieveRequest;
use hsmkms::kmip::operations::AttributeSet;
use hsmkms::kmip::{RequestPayload, ResponsePayload};
use hsmkms::secret::SecretBytes;
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::store::{SledStore, StoreOptions};
use hsmkms::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm, HashingAlgorithm, KeyFormatType, ObjectType,
    Operation, PaddingMethod, ResultReason, ResultStatus, RevocationReasonCode, ValidityIndicator,
};
use hsmkms::ttlv::{Tag, Value};
use server_support::*;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const ENCRYPT_DECRYPT: i32 = 0x4 | 0x8;
const MAC_BOTH: i32 = 0x80 | 0x100;

struct Fixture {
    kind: common::Token,
    _token: TestToken,
    pki: TestPki,
    server: hsmkms::server::RunningServer,
    s: TlsStream<TcpStream>,
}

async fn fixture(crypto: CryptoConfig) -> Fixture {
    let (token, hsm) = TestToken::initialised();
    let hsm = Arc::new(hsm);
    let store = Arc::new(
        SledStore::open(
            &StoreOptions::new(token.dir.path().join("store")),
            Arc::new(HsmRecordMac::new(hsm.clone())),
        )
        .unwrap(),
    );
    let service = Service::new(ServerInfo::default(), vec![Identity::new("admin")])
        .with_objects(hsm, store)
        .with_crypto_policy(crypto);
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service).await;
    let s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    Fixture {
        kind: token.kind,
        _token: token,
        pki,
        server,
        s,
    }
}

impl Fixture {
    async fn call(
        &mut self,
        version: ProtocolVersion,
        op: Operation,
        payload: RequestPayload,
    ) -> ResponseBatchItem {
        let mut r = roundtrip(&mut self.s, &request(version, vec![(op, b"1", payload)])).await;
        r.batch_items.remove(0)
    }

    async fn ok(
        &mut self,
        version: ProtocolVersion,
        op: Operation,
        payload: RequestPayload,
    ) -> ResponsePayload {
        let b = self.call(version, op, payload).await;
        assert_eq!(
            b.result_status,
            ResultStatus::SUCCESS,
            "{op:?}: {:?} {:?}",
            b.result_reason,
            b.result_message
        );
        b.payload.expect("a payload")
    }

    async fn refused(
        &mut self,
        version: ProtocolVersion,
        op: Operation,
        payload: RequestPayload,
        reason: ResultReason,
        says: &str,
    ) {
        let b = self.call(version, op, payload).await;
        assert_eq!(b.result_reason, Some(reason), "{:?}", b.result_message);
        let m = b.result_message.unwrap_or_default();
        assert!(m.contains(says), "{m:?} should say {says:?}");
    }

    async fn register(
        &mut self,
        version: ProtocolVersion,
        algorithm: CryptographicAlgorithm,
        material: &[u8],
        mask: i32,
        mut extra: Vec<Attribute>,
    ) -> String {
        // Algorithm and length come from the key block.
        let mut attrs = vec![Attribute::new(
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Value::Integer(mask),
        )];
        attrs.append(&mut extra);
        let p = RequestPayload::Register(RegisterRequest {
            object_type: ObjectType::SYMMETRIC_KEY,
            attributes: Some(if version.is_v2() {
                AttributeSet::V2(attrs)
            } else {
                AttributeSet::V1(attrs)
            }),
            object: Some(ManagedObject::SymmetricKey(KeyBlock::with_material(
                KeyFormatType::RAW,
                &SecretBytes::new(material.to_vec()),
                Some(algorithm.0),
                Some(material.len() as i32 * 8),
            ))),
            protection_storage_masks: None,
        });
        match self.ok(version, Operation::REGISTER, p).await {
            ResponsePayload::Register(r) => r.unique_identifier,
            other => panic!("{other:?}"),
        }
    }

    async fn activate(&mut self, version: ProtocolVersion, uid: &str) {
        self.ok(
            version,
            Operation::ACTIVATE,
            RequestPayload::Activate(IdentifierPayload {
                unique_identifier: Some(uid.into()),
            }),
        )
        .await;
    }
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn params(mode: BlockCipherMode, padding: Option<PaddingMethod>) -> CryptographicParameters {
    CryptographicParameters {
        block_cipher_mode: Some(mode),
        padding_method: padding,
        ..Default::default()
    }
}

fn encrypt(
    uid: &str,
    p: CryptographicParameters,
    data: &[u8],
    iv: Option<Vec<u8>>,
) -> RequestPayload {
    RequestPayload::Encrypt(EncryptRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p),
        data: Some(data.to_vec()),
        iv_counter_nonce: iv,
        ..Default::default()
    })
}

fn decrypt(
    uid: &str,
    p: CryptographicParameters,
    data: &[u8],
    iv: Option<Vec<u8>>,
) -> RequestPayload {
    RequestPayload::Decrypt(DecryptRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p),
        data: Some(data.to_vec()),
        iv_counter_nonce: iv,
        ..Default::default()
    })
}

fn data_of(p: ResponsePayload) -> Vec<u8> {
    match p {
        ResponsePayload::Data(d) => d.data.expect("data"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aes_known_answers_and_gcm_round_trips_in_each_version() {
    let mut f = fixture(CryptoConfig::default()).await;
    let v14 = v(1, 4);
    // FIPS-197 C.1: AES-128 of 00112233…ff under 000102…0f.
    let key = h("000102030405060708090a0b0c0d0e0f");
    let ecb_key = f
        .register(
            v14,
            CryptographicAlgorithm::AES,
            &key,
            ENCRYPT_DECRYPT,
            vec![Attribute::new(
                Tag::CRYPTOGRAPHIC_PARAMETERS,
                Value::Structure(
                    params(BlockCipherMode::ECB, None)
                        .to_item()
                        .children()
                        .to_vec(),
                ),
            )],
        )
        .await;
    f.activate(v14, &ecb_key).await;
    let pt = h("00112233445566778899aabbccddeeff");
    let ecb = params(BlockCipherMode::ECB, None);
    let ct = match f
        .ok(
            v14,
            Operation::ENCRYPT,
            encrypt(&ecb_key, ecb.clone(), &pt, None),
        )
        .await
    {
        ResponsePayload::Encrypt(e) => {
            assert_eq!(e.iv_counter_nonce, None);
            e.data.unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(ct, h("69c4e0d86a7b0430d8cdb78070b4c55a"));
    let back = data_of(
        f.ok(v14, Operation::DECRYPT, decrypt(&ecb_key, ecb, &ct, None))
            .await,
    );
    assert_eq!(back, pt);

    // A key that does not name ECB: refused by policy, and the message says which rule.
    let aes = f
        .register(
            v14,
            CryptographicAlgorithm::AES,
            &key,
            ENCRYPT_DECRYPT,
            vec![],
        )
        .await;
    f.activate(v14, &aes).await;
    f.refused(
        v14,
        Operation::ENCRYPT,
        encrypt(&aes, params(BlockCipherMode::ECB, None), &pt, None),
        ResultReason::PERMISSION_DENIED,
        "insecure_allow_ecb",
    )
    .await;

    // AES-CBC PKCS#5, NIST SP 800-38A F.2.1 first block (plus one padding block), IV given.
    let cbc = params(BlockCipherMode::CBC, Some(PaddingMethod::PKCS5));
    let key2 = h("2b7e151628aed2a6abf7158809cf4f3c");
    let cbc_key = f
        .register(
            v14,
            CryptographicAlgorithm::AES,
            &key2,
            ENCRYPT_DECRYPT,
            vec![],
        )
        .await;
    f.activate(v14, &cbc_key).await;
    let iv = h("000102030405060708090a0b0c0d0e0f");
    let pt = h("6bc1bee22e409f96e93d7e117393172a");
    let ct = match f
        .ok(
            v14,
            Operation::ENCRYPT,
            encrypt(&cbc_key, cbc.clone(), &pt, Some(iv.clone())),
        )
        .await
    {
        ResponsePayload::Encrypt(e) => e.data.unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ct.len(), 32);
    assert_eq!(ct[..16], h("7649abac8119b246cee98e9b12e9197d")[..]);
    // No IV: the server draws one from the HSM and returns it; Decrypt without it is refused.
    let (ct, drawn) = match f
        .ok(
            v14,
            Operation::ENCRYPT,
            encrypt(&cbc_key, cbc.clone(), &pt, None),
        )
        .await
    {
        ResponsePayload::Encrypt(e) => (e.data.unwrap(), e.iv_counter_nonce.unwrap()),
        other => panic!("{other:?}"),
    };
    assert_eq!(drawn.len(), 16);
    f.refused(
        v14,
        Operation::DECRYPT,
        decrypt(&cbc_key, cbc.clone(), &ct, None),
        ResultReason::INVALID_MESSAGE,
        "IV",
    )
    .await;
    assert_eq!(
        data_of(
            f.ok(
                v14,
                Operation::DECRYPT,
                decrypt(&cbc_key, cbc.clone(), &ct, Some(drawn))
            )
            .await
        ),
        pt
    );

    // AES-CTR, NIST SP 800-38A F.5.1 first block.
    let ctr = params(BlockCipherMode::CTR, None);
    let ct = match f
        .ok(
            v14,
            Operation::ENCRYPT,
            encrypt(
                &cbc_key,
                ctr.clone(),
                &pt,
                Some(h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")),
            ),
        )
        .await
    {
        ResponsePayload::Encrypt(e) => e.data.unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ct, h("874d6191b620e3261bef6864990db6ce"));
    // Triple DES CBC PKCS#5: a round trip with a server-drawn 8-byte IV. SoftHSM only:
    // Kryoptic's `minimal` build (tools/build-kryoptic.sh) has no DES at all.
    if f.kind == common::Token::SoftHsm {
        let des3 = f
            .register(
                v14,
                CryptographicAlgorithm::DES3,
                &h("0123456789abcdeffedcba987654321089abcdef01234567"),
                ENCRYPT_DECRYPT,
                vec![],
            )
            .await;
        f.activate(v14, &des3).await;
        let (ct, iv) = match f
            .ok(
                v14,
                Operation::ENCRYPT,
                encrypt(&des3, cbc.clone(), b"triple", None),
            )
            .await
        {
            ResponsePayload::Encrypt(e) => (e.data.unwrap(), e.iv_counter_nonce.unwrap()),
            other => panic!("{other:?}"),
        };
        assert_eq!((ct.len(), iv.len()), (8, 8));
        assert_eq!(
            data_of(
                f.ok(
                    v14,
                    Operation::DECRYPT,
                    decrypt(&des3, cbc.clone(), &ct, Some(iv))
                )
                .await
            ),
            b"triple"
        );
    }

    // AES-GCM: 1.4 returns the tag apart; 1.2 appends it. A changed tag is a Cryptographic
    // Failure.
    let gcm = CryptographicParameters {
        tag_length: Some(16),
        ..params(BlockCipherMode::GCM, None)
    };
    let msg = b"attack at dawn, bring snacks".to_vec();
    for version in [v(1, 4), v(2, 1), v(1, 2)] {
        let e = match f
            .ok(
                version,
                Operation::ENCRYPT,
                RequestPayload::Encrypt(EncryptRequest {
                    unique_identifier: Some(cbc_key.clone()),
                    cryptographic_parameters: Some(gcm.clone()),
                    data: Some(msg.clone()),
                    authenticated_encryption_additional_data: Some(b"hdr".to_vec()),
                    ..Default::default()
                }),
            )
            .await
        {
            ResponsePayload::Encrypt(e) => e,
            other => panic!("{other:?}"),
        };
        let iv = e.iv_counter_nonce.clone().expect("a drawn nonce");
        assert_eq!(iv.len(), 12);
        let separate = version >= v(1, 4);
        let data = e.data.clone().unwrap();
        assert_eq!(e.authenticated_encryption_tag.is_some(), separate);
        assert_eq!(data.len(), msg.len() + if separate { 0 } else { 16 });
        let dec = |tag: Option<Vec<u8>>, data: Vec<u8>| {
            RequestPayload::Decrypt(DecryptRequest {
                unique_identifier: Some(cbc_key.clone()),
                cryptographic_parameters: Some(gcm.clone()),
                data: Some(data),
                iv_counter_nonce: Some(iv.clone()),
                authenticated_encryption_additional_data: Some(b"hdr".to_vec()),
                authenticated_encryption_tag: tag,
                ..Default::default()
            })
        };
        let back = data_of(
            f.ok(
                version,
                Operation::DECRYPT,
                dec(e.authenticated_encryption_tag.clone(), data.clone()),
            )
            .await,
        );
        assert_eq!(back, msg);
        let (bad_tag, bad_data) = if separate {
            let mut t = e.authenticated_encryption_tag.clone().unwrap();
            t[0] ^= 1;
            (Some(t), data)
        } else {
            let mut d = data;
            let last = d.len() - 1;
            d[last] ^= 1;
            (None, d)
        };
        f.refused(
            version,
            Operation::DECRYPT,
            dec(bad_tag, bad_data),
            ResultReason::CRYPTOGRAPHIC_FAILURE,
            "",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_their_rule_with_each_versions_reason() {
    let mut f = fixture(CryptoConfig::default()).await;
    let cbc = params(BlockCipherMode::CBC, Some(PaddingMethod::PKCS5));
    let key = h("2b7e151628aed2a6abf7158809cf4f3c");
    for version in [v(1, 4), v(2, 1)] {
        // Decrypt only: Encrypt refused by the usage mask.
        let dec_only = f
            .register(version, CryptographicAlgorithm::AES, &key, 0x8, vec![])
            .await;
        f.activate(version, &dec_only).await;
        f.refused(
            version,
            Operation::ENCRYPT,
            encrypt(&dec_only, cbc.clone(), b"x", None),
            if version.is_v2() {
                ResultReason::INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK
            } else {
                ResultReason::PERMISSION_DENIED
            },
            "Cryptographic Usage Mask lacks Encrypt",
        )
        .await;
        let state_reason = if version.is_v2() {
            ResultReason::WRONG_KEY_LIFECYCLE_STATE
        } else {
            ResultReason::PERMISSION_DENIED
        };
        // Pre-Active: neither protects nor processes.
        let pre = f
            .register(
                version,
                CryptographicAlgorithm::AES,
                &key,
                ENCRYPT_DECRYPT,
                vec![],
            )
            .await;
        f.refused(
            version,
            Operation::ENCRYPT,
            encrypt(&pre, cbc.clone(), b"x", None),
            state_reason,
            "Pre-Active",
        )
        .await;
        // Deactivated (revoked): decrypts what it encrypted, encrypts no more.
        f.activate(version, &pre).await;
        let (ct, iv) = match f
            .ok(
                version,
                Operation::ENCRYPT,
                encrypt(&pre, cbc.clone(), b"kept", None),
            )
            .await
        {
            ResponsePayload::Encrypt(e) => (e.data.unwrap(), e.iv_counter_nonce),
            other => panic!("{other:?}"),
        };
        f.ok(
            version,
            Operation::REVOKE,
            RequestPayload::Revoke(RevokeRequest {
                unique_identifier: Some(pre.clone()),
                revocation_reason: RevocationReason {
                    code: RevocationReasonCode::CESSATION_OF_OPERATION,
                    message: None,
                },
                compromise_occurrence_date: None,
            }),
        )
        .await;
        f.refused(
            version,
            Operation::ENCRYPT,
            encrypt(&pre, cbc.clone(), b"x", None),
            state_reason,
            "only an Active key applies protection",
        )
        .await;
        assert_eq!(
            data_of(
                f.ok(
                    version,
                    Operation::DECRYPT,
                    decrypt(&pre, cbc.clone(), &ct, iv)
                )
                .await
            ),
            b"kept"
        );
        // Protect Stop Date passed.
        let stopped = f
            .register(
                version,
                CryptographicAlgorithm::AES,
                &key,
                ENCRYPT_DECRYPT,
                vec![Attribute::new(
                    Tag::PROTECT_STOP_DATE,
                    Value::DateTime(1000),
                )],
            )
            .await;
        f.activate(version, &stopped).await;
        f.refused(
            version,
            Operation::ENCRYPT,
            encrypt(&stopped, cbc.clone(), b"x", None),
            state_reason,
            "Protect Stop Date",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mac_hash_and_rng_run_in_the_hsm_with_known_answers() {
    let mut f = fixture(CryptoConfig::default()).await;
    let v14 = v(1, 4);
    let key: Vec<u8> = (0u8..32).collect();
    let uid = f
        .register(
            v14,
            CryptographicAlgorithm::HMAC_SHA256,
            &key,
            MAC_BOTH,
            vec![],
        )
        .await;
    f.activate(v14, &uid).await;
    let data = b"the quick brown fox".to_vec();
    // No hash in the request: the key's algorithm (HMAC-SHA256) gives it.
    let mac = data_of(
        f.ok(
            v14,
            Operation::MAC,
            RequestPayload::Mac(MacRequest {
                unique_identifier: Some(uid.clone()),
                data: Some(data.clone()),
                ..Default::default()
            }),
        )
        .await,
    );
    let mut expected = <Hmac<Sha256>>::new_from_slice(&key).unwrap();
    expected.update(&data);
    assert_eq!(mac, expected.finalize().into_bytes().to_vec());
    for (m, validity) in [
        (mac.clone(), ValidityIndicator::VALID),
        (
            [&mac[..31], &[mac[31] ^ 1]].concat(),
            ValidityIndicator::INVALID,
        ),
    ] {
        match f
            .ok(
                v14,
                Operation::MAC_VERIFY,
                RequestPayload::MacVerify(MacRequest {
                    unique_identifier: Some(uid.clone()),
                    data: Some(data.clone()),
                    mac_data: Some(m),
                    ..Default::default()
                }),
            )
            .await
        {
            ResponsePayload::MacVerify(r) => assert_eq!(r.validity_indicator, validity),
            other => panic!("{other:?}"),
        }
    }
    // Hash: SHA-256 of "abc".
    let d = data_of(
        f.ok(
            v14,
            Operation::HASH,
            RequestPayload::Hash(HashRequest {
                cryptographic_parameters: Some(CryptographicParameters {
                    hashing_algorithm: Some(HashingAlgorithm::SHA_256),
                    ..Default::default()
                }),
                data: Some(b"abc".to_vec()),
                ..Default::default()
            }),
        )
        .await,
    );
    assert_eq!(d, Sha256::digest(b"abc").to_vec());
    let r = data_of(
        f.ok(
            v14,
            Operation::RNG_RETRIEVE,
            RequestPayload::RngRetrieve(RngRetrieveRequest { data_length: 48 }),
        )
        .await,
    );
    assert_eq!(r.len(), 48);
    assert_ne!(r, vec![0u8; 48]);
    f.refused(
        v14,
        Operation::RNG_RETRIEVE,
        RequestPayload::RngRetrieve(RngRetrieveRequest { data_length: 0 }),
        ResultReason::INVALID_FIELD,
        "Data Length",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_extractable_keys_encrypt_but_never_leave() {
    let mut f = fixture(CryptoConfig {
        insecure_allow_ecb: false,
        non_extractable_groups: vec!["vault".into()],
    })
    .await;
    let key = h("2b7e151628aed2a6abf7158809cf4f3c");
    let get = |uid: &str| {
        RequestPayload::Get(GetRequest {
            unique_identifier: Some(uid.into()),
            ..Default::default()
        })
    };
    let cases = [
        (
            v(2, 1),
            Attribute::new(Tag::EXTRACTABLE, Value::Boolean(false)),
            ResultReason::NOT_EXTRACTABLE,
        ),
        (
            v(1, 4),
            Attribute::new(Tag::SENSITIVE, Value::Boolean(true)),
            ResultReason::SENSITIVE,
        ),
        (
            v(1, 2),
            Attribute::new(Tag::OBJECT_GROUP, Value::TextString("vault".into())),
            ResultReason::PERMISSION_DENIED,
        ),
        (
            v(1, 0),
            Attribute {
                name: AttributeName::Custom {
                    vendor: "x".into(),
                    name: "hsmkms-non-extractable".into(),
                },
                index: None,
                value: Value::Boolean(true),
            },
            ResultReason::PERMISSION_DENIED,
        ),
    ];
    for (version, attr, reason) in cases {
        let uid = f
            .register(
                version,
                CryptographicAlgorithm::AES,
                &key,
                ENCRYPT_DECRYPT,
                vec![attr],
            )
            .await;
        f.activate(version, &uid).await;
        f.refused(version, Operation::GET, get(&uid), reason, &uid)
            .await;
        let cbc = params(BlockCipherMode::CBC, Some(PaddingMethod::PKCS5));
        f.ok(
            version,
            Operation::ENCRYPT,
            encrypt(&uid, cbc, b"still usable", None),
        )
        .await;
    }
    // A key in another group stays extractable.
    let uid = f
        .register(
            v(1, 2),
            CryptographicAlgorithm::AES,
            &key,
            ENCRYPT_DECRYPT,
            vec![Attribute::new(
                Tag::OBJECT_GROUP,
                Value::TextString("open".into()),
            )],
        )
        .await;
    f.ok(v(1, 2), Operation::GET, get(&uid)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_encrypts_decrypts_and_macs() {
    let (token, hsm) = TestToken::initialised();
    let hsm = Arc::new(hsm);
    let store = Arc::new(
        SledStore::open(
            &StoreOptions::new(token.dir.path().join("store")),
            Arc::new(HsmRecordMac::new(hsm.clone())),
        )
        .unwrap(),
    );
    let service =
        Service::new(ServerInfo::default(), vec![Identity::new("admin")]).with_objects(hsm, store);
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service).await;
    let (stdout, _stderr) = run_pykmip("crypto.py", &server, &pki).await;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            "cbc_len_ok=True",
            "cbc_iv_len=16",
            "cbc_round_trip=True",
            "gcm_tag_appended=True",
            "gcm_round_trip=True",
            "mac_len=32",
            "mac_stable=True",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_usage_mask_applies_to_the_next_operation() {
    let mut f = fixture(CryptoConfig::default()).await;
    let v14 = v(1, 4);
    let key = h("2b7e151628aed2a6abf7158809cf4f3c");
    let cbc = params(BlockCipherMode::CBC, Some(PaddingMethod::PKCS5));
    // Encrypt only: the cached copy is made without CKA_DECRYPT.
    let uid = f
        .register(v14, CryptographicAlgorithm::AES, &key, 0x4, vec![])
        .await;
    f.activate(v14, &uid).await;
    let (ct, iv) = match f
        .ok(
            v14,
            Operation::ENCRYPT,
            encrypt(&uid, cbc.clone(), b"later", None),
        )
        .await
    {
        ResponsePayload::Encrypt(e) => (e.data.unwrap(), e.iv_counter_nonce),
        other => panic!("{other:?}"),
    };
    f.refused(
        v14,
        Operation::DECRYPT,
        decrypt(&uid, cbc.clone(), &ct, iv.clone()),
        ResultReason::PERMISSION_DENIED,
        "lacks Decrypt",
    )
    .await;
    // Add Decrypt to the mask (2.x Set Attribute): the next Decrypt works.
    let set = RequestPayload::SetAttribute(
        hsmkms::kmip::operations::set_attribute::SetAttributeRequest {
            unique_identifier: Some(uid.clone()),
            new_attribute: Attribute::new(
                Tag::CRYPTOGRAPHIC_USAGE_MASK,
                Value::Integer(ENCRYPT_DECRYPT),
            ),
        },
    );
    f.ok(v(2, 1), Operation::SET_ATTRIBUTE, set).await;
    assert_eq!(
        data_of(
            f.ok(v14, Operation::DECRYPT, decrypt(&uid, cbc, &ct, iv))
                .await
        ),
        b"later"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_part_encrypt_and_decrypt_hold_one_hsm_operation() {
    use hsmkms::kmip::operations::cryptographic_parameters::Streaming;
    let mut f = fixture(CryptoConfig::default()).await;
    let key = h("2b7e151628aed2a6abf7158809cf4f3c");
    let gcm = CryptographicParameters {
        tag_length: Some(16),
        ..params(BlockCipherMode::GCM, None)
    };
    let msg: Vec<u8> = (0u8..100).collect();
    let (a, b) = msg.split_at(48);
    for version in [v(1, 4), v(1, 3), v(2, 1)] {
        let uid = f
            .register(
                version,
                CryptographicAlgorithm::AES,
                &key,
                ENCRYPT_DECRYPT,
                vec![],
            )
            .await;
        f.activate(version, &uid).await;
        let nonce = h("cafebabefacedbaddecaf888");
        let enc = |data: &[u8], streaming: Streaming| {
            RequestPayload::Encrypt(EncryptRequest {
                unique_identifier: Some(uid.clone()),
                cryptographic_parameters: Some(gcm.clone()),
                data: Some(data.to_vec()),
                iv_counter_nonce: Some(nonce.clone()),
                streaming,
                authenticated_encryption_additional_data: Some(b"aad".to_vec()),
            })
        };
        // The same message in one request and in two parts: the same bytes.
        let whole = match f
            .ok(version, Operation::ENCRYPT, enc(&msg, Streaming::default()))
            .await
        {
            ResponsePayload::Encrypt(e) => e,
            other => panic!("{other:?}"),
        };
        let first = match f
            .ok(
                version,
                Operation::ENCRYPT,
                enc(
                    a,
                    Streaming {
                        init_indicator: Some(true),
                        ..Default::default()
                    },
                ),
            )
            .await
        {
            ResponsePayload::Encrypt(e) => e,
            other => panic!("{other:?}"),
        };
        let cv = first
            .correlation_value
            .clone()
            .expect("a Correlation Value");
        // Another part with an unknown Correlation Value is refused.
        f.refused(
            version,
            Operation::ENCRYPT,
            enc(
                b,
                Streaming {
                    correlation_value: Some(b"nope".to_vec()),
                    final_indicator: Some(true),
                    ..Default::default()
                },
            ),
            ResultReason::INVALID_FIELD,
            "Correlation Value",
        )
        .await;
        let last = match f
            .ok(
                version,
                Operation::ENCRYPT,
                enc(
                    b,
                    Streaming {
                        correlation_value: Some(cv.clone()),
                        final_indicator: Some(true),
                        ..Default::default()
                    },
                ),
            )
            .await
        {
            ResponsePayload::Encrypt(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(last.correlation_value, None);
        let streamed = [first.data.unwrap(), last.data.unwrap()].concat();
        assert_eq!(streamed, whole.data.clone().unwrap());
        assert_eq!(
            last.authenticated_encryption_tag,
            whole.authenticated_encryption_tag
        );
        // The stream is closed: its Correlation Value is unknown now.
        f.refused(
            version,
            Operation::ENCRYPT,
            enc(
                b,
                Streaming {
                    correlation_value: Some(cv),
                    final_indicator: Some(true),
                    ..Default::default()
                },
            ),
            ResultReason::INVALID_FIELD,
            "Correlation Value",
        )
        .await;
        // Decrypt in two parts (from 1.4 the tag comes with the last one).
        let ct = whole.data.unwrap();
        let (c1, c2) = ct.split_at(40);
        let dec = |data: &[u8], tag: Option<Vec<u8>>, streaming: Streaming| {
            RequestPayload::Decrypt(DecryptRequest {
                unique_identifier: Some(uid.clone()),
                cryptographic_parameters: Some(gcm.clone()),
                data: Some(data.to_vec()),
                iv_counter_nonce: Some(nonce.clone()),
                streaming,
                authenticated_encryption_additional_data: Some(b"aad".to_vec()),
                authenticated_encryption_tag: tag,
            })
        };
        let (p1, cv) = match f
            .ok(
                version,
                Operation::DECRYPT,
                dec(
                    c1,
                    None,
                    Streaming {
                        init_indicator: Some(true),
                        ..Default::default()
                    },
                ),
            )
            .await
        {
            ResponsePayload::Data(d) => (d.data.unwrap_or_default(), d.correlation_value.unwrap()),
            other => panic!("{other:?}"),
        };
        let p2 = data_of(
            f.ok(
                version,
                Operation::DECRYPT,
                dec(
                    c2,
                    whole.authenticated_encryption_tag.clone(),
                    Streaming {
                        correlation_value: Some(cv),
                        final_indicator: Some(true),
                        ..Default::default()
                    },
                ),
            )
            .await,
        );
        assert_eq!([p1, p2].concat(), msg);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_belongs_to_the_identity_that_opened_it() {
    use hsmkms::kmip::operations::cryptographic_parameters::Streaming;
    let mut f = fixture(CryptoConfig::default()).await;
    let v14 = v(1, 4);
    let uid = f
        .register(
            v14,
            CryptographicAlgorithm::AES,
            &h("2b7e151628aed2a6abf7158809cf4f3c"),
            ENCRYPT_DECRYPT,
            vec![],
        )
        .await;
    f.activate(v14, &uid).await;
    let cbc = params(BlockCipherMode::CBC, Some(PaddingMethod::PKCS5));
    let part = |streaming: Streaming| {
        RequestPayload::Encrypt(EncryptRequest {
            unique_identifier: Some(uid.clone()),
            cryptographic_parameters: Some(cbc.clone()),
            data: Some(vec![1; 32]),
            iv_counter_nonce: Some(vec![0; 16]),
            streaming,
            ..Default::default()
        })
    };
    let cv = match f
        .ok(
            v14,
            Operation::ENCRYPT,
            part(Streaming {
                init_indicator: Some(true),
                ..Default::default()
            }),
        )
        .await
    {
        ResponsePayload::Encrypt(e) => e.correlation_value.unwrap(),
        other => panic!("{other:?}"),
    };
    let bob = f
        .pki
        .ca
        .issue_client("bob", &hsmkms::pki::ClientOptions::default())
        .unwrap();
    let mut bob_s = connect(f.server.kmip_addr, f.pki.client_config(Some(&bob)))
        .await
        .unwrap();
    let last = Streaming {
        correlation_value: Some(cv.clone()),
        final_indicator: Some(true),
        ..Default::default()
    };
    let r = roundtrip(
        &mut bob_s,
        &request(v14, vec![(Operation::ENCRYPT, b"b", part(last.clone()))]),
    )
    .await;
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::INVALID_FIELD),
        "{:?}",
        r.batch_items[0].result_message
    );
    // Alice's stream is intact: her last part completes it (32 + 32 bytes + one padding block).
    match f.ok(v14, Operation::ENCRYPT, part(last)).await {
        ResponsePayload::Encrypt(e) => assert_eq!(e.data.unwrap().len(), 32 + 16),
        other => panic!("{other:?}"),
    }
}

/// A mechanism the token lacks is Feature Not Supported "not supported by this HSM", not a
/// Cryptographic Failure: Kryoptic's `minimal` build has no DES, SoftHSM creates the key (and
/// single-DES keys, legacy, outside FIPS mode).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_the_token_lacks_is_not_supported_by_this_hsm() {
    use hsmkms::kmip::operations::create::CreateRequest;
    let mut f = fixture(CryptoConfig::default()).await;
    let attrs = vec![
        Attribute::new(
            Tag::CRYPTOGRAPHIC_ALGORITHM,
            Value::Enumeration(CryptographicAlgorithm::DES3.0),
        ),
        Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(168)),
        Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(12)),
    ];
    let create = RequestPayload::Create(CreateRequest {
        object_type: ObjectType::SYMMETRIC_KEY,
        attributes: Some(AttributeSet::V1(attrs)),
        protection_storage_masks: None,
    });
    let v = v(1, 4);
    match f.kind {
        common::Token::SoftHsm => {
            f.ok(v, Operation::CREATE, create).await;
            // Single DES (legacy, outside FIPS mode): FIPS 81's CBC example, "Now is the time
            // for all " under 0123456789abcdef with IV 1234567890abcdef, then PKCS#5 padding.
            let key = f
                .register(
                    v,
                    CryptographicAlgorithm::DES,
                    &h("0123456789abcdef"),
                    ENCRYPT_DECRYPT,
                    vec![],
                )
                .await;
            f.activate(v, &key).await;
            let cbc = params(BlockCipherMode::CBC, Some(PaddingMethod::PKCS5));
            let iv = h("1234567890abcdef");
            let plain = b"Now is the time for all ";
            // Debian's SoftHSM 2.6.1 lists CKM_DES_CBC_PAD but, on OpenSSL 3 without its
            // legacy provider, refuses it at C_EncryptInit: the truthful answer is then "not
            // supported by this HSM"; a SoftHSM that can must give FIPS 81's bytes.
            let b = f
                .call(
                    v,
                    Operation::ENCRYPT,
                    encrypt(&key, cbc.clone(), plain, Some(iv.clone())),
                )
                .await;
            if b.result_status != ResultStatus::SUCCESS {
                assert_eq!(b.result_reason, Some(ResultReason::FEATURE_NOT_SUPPORTED));
                let m = b.result_message.unwrap_or_default();
                assert!(m.contains("not supported by this HSM"), "{m}");
                return;
            }
            let c = data_of(b.payload.expect("a payload"));
            assert_eq!(c.len(), 32);
            assert_eq!(
                hex::encode(&c[..24]),
                "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6"
            );
            let back = data_of(
                f.ok(v, Operation::DECRYPT, decrypt(&key, cbc, &c, Some(iv)))
                    .await,
            );
            assert_eq!(back, plain);
        }
        common::Token::Kryoptic => {
            f.refused(
                v,
                Operation::CREATE,
                create,
                ResultReason::FEATURE_NOT_SUPPORTED,
                "not supported by this HSM",
            )
            .await
        }
    }
}
