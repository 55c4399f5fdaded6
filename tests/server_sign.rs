//! Sign, Signature Verify and RSA Encrypt/Decrypt through the real stack (TLS, the test token,
//! sled), with keys registered from `tests/data/keys` (PKCS#8 private, X.509 public). Every
//! signature the server makes is verified independently with the RustCrypto `rsa` and `p256`
//! crates, and signatures made by them are verified by the server; bad signatures answer
//! Validity Indicator Invalid; the refusal rules answer their version's Result Reasons; an
//! RSA-OAEP ciphertext made in the test is decrypted by the server.

mod client_support;
mod common;
mod server_support;

use client_support::*;
use hsmkms::kmip::attributes::Attribute;
use hsmkms::kmip::operations::cryptographic_parameters::{CryptographicParameters, Streaming};
use hsmkms::kmip::operations::decrypt::DecryptRequest;
use hsmkms::kmip::operations::encrypt::EncryptRequest;
use hsmkms::kmip::operations::object::{KeyBlock, ManagedObject};
use hsmkms::kmip::operations::register::RegisterRequest;
use hsmkms::kmip::operations::sign::SignRequest;
use hsmkms::kmip::operations::AttributeSet;
use hsmkms::kmip::{RequestPayload, ResponseMessage, ResponsePayload};
use hsmkms::ttlv::enums::{
    CryptographicAlgorithm as A, DigitalSignatureAlgorithm as D, HashingAlgorithm as H,
    KeyFormatType, ObjectType, Operation, PaddingMethod, ResultReason, ResultStatus,
    ValidityIndicator,
};
use hsmkms::ttlv::{Item, Tag, Value};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::pkcs8::DecodePublicKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};
use server_support::*;
use sha2::{Digest, Sha256, Sha384, Sha512};

const SIGN: i32 = 0x1;
const VERIFY: i32 = 0x2;
const ENCRYPT: i32 = 0x4;
const DECRYPT: i32 = 0x8;

fn key_file(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/keys")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn register(
    object_type: ObjectType,
    format: KeyFormatType,
    der: Vec<u8>,
    algorithm: A,
    mask: i32,
) -> RequestPayload {
    let block = KeyBlock::with_key_material(
        format,
        Item::new(Tag::KEY_MATERIAL, Value::ByteString(der)),
        Some(algorithm.0),
        None,
    );
    let object = if object_type == ObjectType::PRIVATE_KEY {
        ManagedObject::PrivateKey(block)
    } else {
        ManagedObject::PublicKey(block)
    };
    RequestPayload::Register(RegisterRequest {
        object_type,
        attributes: Some(AttributeSet::V1(vec![Attribute::new(
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Value::Integer(mask),
        )])),
        object: Some(object),
        protection_storage_masks: None,
    })
}

/// A registered key pair: (private uid, public uid).
async fn key_pair(c: &mut Client, name: &str, algorithm: A, activate_it: bool) -> (String, String) {
    let private = created(
        &c.one(
            Operation::REGISTER,
            register(
                ObjectType::PRIVATE_KEY,
                KeyFormatType::PKCS_8,
                key_file(&format!("{name}.pkcs8.der")),
                algorithm,
                SIGN | DECRYPT,
            ),
        )
        .await,
    );
    let public = created(
        &c.one(
            Operation::REGISTER,
            register(
                ObjectType::PUBLIC_KEY,
                KeyFormatType::X_509,
                key_file(&format!("{name}.spki.der")),
                algorithm,
                VERIFY | ENCRYPT,
            ),
        )
        .await,
    );
    if activate_it {
        ok(&c.one(Operation::ACTIVATE, activate(&private)).await);
        ok(&c.one(Operation::ACTIVATE, activate(&public)).await);
    }
    (private, public)
}

fn params(
    padding: Option<PaddingMethod>,
    hash: Option<H>,
    dsa: Option<D>,
) -> CryptographicParameters {
    CryptographicParameters {
        padding_method: padding,
        hashing_algorithm: hash,
        digital_signature_algorithm: dsa.map(|d| d.0),
        ..Default::default()
    }
}

fn sign(
    uid: &str,
    p: &CryptographicParameters,
    data: Option<&[u8]>,
    digest: Option<&[u8]>,
) -> RequestPayload {
    RequestPayload::Sign(SignRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p.clone()),
        data: data.map(<[u8]>::to_vec),
        digested_data: digest.map(<[u8]>::to_vec),
        ..Default::default()
    })
}

fn verify(uid: &str, p: &CryptographicParameters, data: &[u8], signature: &[u8]) -> RequestPayload {
    RequestPayload::SignatureVerify(SignRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p.clone()),
        data: Some(data.to_vec()),
        signature_data: Some(signature.to_vec()),
        ..Default::default()
    })
}

fn signature(r: &ResponseMessage) -> Vec<u8> {
    match payload(r) {
        ResponsePayload::Sign(s) => s.signature_data.clone().expect("Signature Data"),
        other => panic!("not a Sign answer: {other:?}"),
    }
}

fn validity(r: &ResponseMessage) -> ValidityIndicator {
    match payload(r) {
        ResponsePayload::SignatureVerify(v) => v.validity_indicator,
        other => panic!("not a Signature Verify answer: {other:?}"),
    }
}

fn failure(r: &ResponseMessage) -> (ResultReason, String) {
    let b = &r.batch_items[0];
    assert_eq!(
        b.result_status,
        ResultStatus::OPERATION_FAILED,
        "{:?}",
        b.payload
    );
    (
        b.result_reason.expect("a Result Reason"),
        b.result_message.clone().unwrap_or_default(),
    )
}

/// The digest function of a signature hash.
type Digester = fn(&[u8]) -> Vec<u8>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_signatures_round_trip_and_verify_independently() {
    let backend = Backend::new();
    let (service, _store) = backend.service();
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service).await;
    let rsa_private = RsaPrivateKey::from_pkcs8_der(&key_file("rsa-2048.pkcs8.der")).unwrap();
    let pk = RsaPublicKey::from(&rsa_private);
    for version in [(1, 4), (2, 1)] {
        let mut c = client(&server, &pki, version).await;
        let (private, public) = key_pair(&mut c, "rsa-2048", A::RSA, true).await;
        let msg = b"signed by hsmkms".as_slice();
        let cases: [(CryptographicParameters, Digester, bool); 4] = [
            (
                params(None, Some(H::SHA_256), None),
                |m| Sha256::digest(m).to_vec(),
                false,
            ),
            (
                params(Some(PaddingMethod::PSS), Some(H::SHA_256), None),
                |m| Sha256::digest(m).to_vec(),
                true,
            ),
            (
                params(None, None, Some(D::SHA_512_WITH_RSA_ENCRYPTION)),
                |m| Sha512::digest(m).to_vec(),
                false,
            ),
            (
                params(Some(PaddingMethod::PSS), Some(H::SHA_384), None),
                |m| Sha384::digest(m).to_vec(),
                true,
            ),
        ];
        for (p, digest_of, pss) in cases {
            let digest = digest_of(msg);
            let case = format!("{version:?} {p:?}");
            let sig = signature(
                &c.one(Operation::SIGN, sign(&private, &p, Some(msg), None))
                    .await,
            );
            let prehashed = signature(
                &c.one(Operation::SIGN, sign(&private, &p, None, Some(&digest)))
                    .await,
            );
            for s in [&sig, &prehashed] {
                let checked = match (pss, digest.len()) {
                    (false, 32) => pk.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, s),
                    (false, _) => pk.verify(Pkcs1v15Sign::new::<Sha512>(), &digest, s),
                    (true, 32) => pk.verify(Pss::new::<Sha256>(), &digest, s),
                    (true, _) => pk.verify(Pss::new::<Sha384>(), &digest, s),
                };
                checked.unwrap_or_else(|e| panic!("{case}: {e}"));
            }
            if !pss {
                assert_eq!(sig, prehashed, "{case}: PKCS#1 v1.5 is deterministic");
            }
            let v = |data: &[u8], s: &[u8]| verify(&public, &p, data, s);
            assert_eq!(
                validity(&c.one(Operation::SIGNATURE_VERIFY, v(msg, &sig)).await),
                ValidityIndicator::VALID,
                "{case}"
            );
            assert_eq!(
                validity(&c.one(Operation::SIGNATURE_VERIFY, v(b"other", &sig)).await),
                ValidityIndicator::INVALID,
                "{case}"
            );
            let mut bad = sig.clone();
            bad[10] ^= 0x40;
            assert_eq!(
                validity(&c.one(Operation::SIGNATURE_VERIFY, v(msg, &bad)).await),
                ValidityIndicator::INVALID,
                "{case}"
            );
            assert_eq!(
                validity(
                    &c.one(Operation::SIGNATURE_VERIFY, v(msg, &sig[..100]))
                        .await
                ),
                ValidityIndicator::INVALID,
                "{case}"
            );
        }
        // Signatures made outside: PKCS#1 v1.5, and PSS with the longest salt (what OpenSSL
        // and PyKMIP make) verified without a Salt Length.
        let digest = Sha256::digest(msg).to_vec();
        let outside = rsa_private
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .unwrap();
        let p = params(None, Some(H::SHA_256), None);
        assert_eq!(
            validity(
                &c.one(
                    Operation::SIGNATURE_VERIFY,
                    verify(&public, &p, msg, &outside)
                )
                .await
            ),
            ValidityIndicator::VALID
        );
        let mut rng = rsa::rand_core::OsRng;
        let pss = params(Some(PaddingMethod::PSS), Some(H::SHA_256), None);
        for salt in [32, 222] {
            let s = rsa_private
                .sign_with_rng(&mut rng, Pss::new_with_salt::<Sha256>(salt), &digest)
                .unwrap();
            assert_eq!(
                validity(
                    &c.one(Operation::SIGNATURE_VERIFY, verify(&public, &pss, msg, &s))
                        .await
                ),
                ValidityIndicator::VALID,
                "PSS salt {salt}"
            );
        }
        // A Salt Length in the parameters is used as given.
        let salted = CryptographicParameters {
            salt_length: Some(100),
            ..pss.clone()
        };
        let s = signature(
            &c.one(Operation::SIGN, sign(&private, &salted, Some(msg), None))
                .await,
        );
        pk.verify(Pss::new_with_salt::<Sha256>(100), &digest, &s)
            .unwrap();
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdsa_signatures_are_der_and_verify_independently() {
    let backend = Backend::new();
    let (service, _store) = backend.service();
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service).await;
    let vk = p256::ecdsa::VerifyingKey::from_public_key_der(&key_file("ec-p256.spki.der")).unwrap();
    for version in [(1, 4), (2, 1)] {
        let mut c = client(&server, &pki, version).await;
        let (private, public) = key_pair(&mut c, "ec-p256", A::EC, true).await;
        let msg = b"ecdsa through hsmkms".as_slice();
        let digest = Sha256::digest(msg).to_vec();
        for p in [
            params(None, Some(H::SHA_256), None),
            params(None, None, Some(D::ECDSA_WITH_SHA256)),
        ] {
            for (data, digested) in [(Some(msg), None), (None, Some(digest.as_slice()))] {
                let der = signature(
                    &c.one(Operation::SIGN, sign(&private, &p, data, digested))
                        .await,
                );
                let sig = p256::ecdsa::Signature::from_der(&der).expect("a DER ECDSA signature");
                vk.verify_prehash(&digest, &sig).unwrap();
                assert_eq!(
                    validity(
                        &c.one(Operation::SIGNATURE_VERIFY, verify(&public, &p, msg, &der))
                            .await
                    ),
                    ValidityIndicator::VALID
                );
                assert_eq!(
                    validity(
                        &c.one(Operation::SIGNATURE_VERIFY, verify(&public, &p, b"x", &der))
                            .await
                    ),
                    ValidityIndicator::INVALID
                );
                // Not DER (PKCS#11's raw r ‖ s): not a valid signature.
                let raw = sig.to_bytes().to_vec();
                assert_eq!(
                    validity(
                        &c.one(Operation::SIGNATURE_VERIFY, verify(&public, &p, msg, &raw))
                            .await
                    ),
                    ValidityIndicator::INVALID
                );
            }
        }
        // P-384 with SHA-384 round trip.
        let (private, public) = key_pair(&mut c, "ec-p384", A::EC, true).await;
        let p = params(None, Some(H::SHA_384), None);
        let der = signature(
            &c.one(Operation::SIGN, sign(&private, &p, Some(msg), None))
                .await,
        );
        assert_eq!(der[0], 0x30);
        assert_eq!(
            validity(
                &c.one(Operation::SIGNATURE_VERIFY, verify(&public, &p, msg, &der))
                    .await
            ),
            ValidityIndicator::VALID
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_answer_their_result_reasons() {
    let backend = Backend::new();
    let (service, _store) = backend.service();
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service).await;
    let p = params(None, Some(H::SHA_256), None);
    let msg = b"m".as_slice();
    for version in [(1, 4), (2, 1)] {
        let v2 = version.0 == 2;
        let mut c = client(&server, &pki, version).await;
        let (private, public) = key_pair(&mut c, "rsa-2048", A::RSA, true).await;
        let cases: Vec<(
            &str,
            Operation,
            RequestPayload,
            ResultReason,
            ResultReason,
            &str,
        )> = vec![
            (
                "Sign with a Public Key",
                Operation::SIGN,
                sign(&public, &p, Some(msg), None),
                ResultReason::INVALID_FIELD,
                ResultReason::INVALID_OBJECT_TYPE,
                "Sign needs a Private Key",
            ),
            (
                "Signature Verify with a Private Key",
                Operation::SIGNATURE_VERIFY,
                verify(&private, &p, msg, &[0; 256]),
                ResultReason::INVALID_FIELD,
                ResultReason::INVALID_OBJECT_TYPE,
                "Signature Verify needs a Public Key",
            ),
            (
                "ECDSA with an RSA key",
                Operation::SIGN,
                sign(
                    &private,
                    &params(None, None, Some(D::ECDSA_WITH_SHA256)),
                    Some(msg),
                    None,
                ),
                ResultReason::INVALID_FIELD,
                ResultReason::INVALID_FIELD,
                "does not match key",
            ),
            (
                "no hash",
                Operation::SIGN,
                sign(
                    &private,
                    &params(Some(PaddingMethod::PSS), None, None),
                    Some(msg),
                    None,
                ),
                ResultReason::INVALID_FIELD,
                ResultReason::INVALID_FIELD,
                "no Hashing Algorithm",
            ),
            (
                "a digest of the wrong length",
                Operation::SIGN,
                sign(&private, &p, None, Some(&[1; 20])),
                ResultReason::INVALID_FIELD,
                ResultReason::INVALID_FIELD,
                "Digested Data is 20 bytes: the signature's hash gives 32",
            ),
            (
                "DSA",
                Operation::SIGN,
                sign(
                    &private,
                    &params(None, None, Some(D::DSA_WITH_SHA256)),
                    Some(msg),
                    None,
                ),
                ResultReason::FEATURE_NOT_SUPPORTED,
                ResultReason::FEATURE_NOT_SUPPORTED,
                "is not offered",
            ),
            (
                "streaming",
                Operation::SIGN,
                RequestPayload::Sign(SignRequest {
                    unique_identifier: Some(private.clone()),
                    cryptographic_parameters: Some(p.clone()),
                    data: Some(msg.to_vec()),
                    streaming: Streaming {
                        init_indicator: Some(true),
                        ..Default::default()
                    },
                    ..Default::default()
                }),
                ResultReason::FEATURE_NOT_SUPPORTED,
                ResultReason::FEATURE_NOT_SUPPORTED,
                "multi-part",
            ),
        ];
        for (case, op, payload, reason_v1, reason_v2, text) in cases {
            let (reason, message) = failure(&c.one(op, payload).await);
            assert_eq!(
                reason,
                if v2 { reason_v2 } else { reason_v1 },
                "{case}: {message}"
            );
            assert!(message.contains(text), "{case}: {message}");
        }
        // Pre-Active: not Active yet.
        let (pre_private, pre_public) = key_pair(&mut c, "rsa-2048", A::RSA, false).await;
        let wrong_state = if v2 {
            ResultReason::WRONG_KEY_LIFECYCLE_STATE
        } else {
            ResultReason::PERMISSION_DENIED
        };
        let (reason, message) = failure(
            &c.one(Operation::SIGN, sign(&pre_private, &p, Some(msg), None))
                .await,
        );
        assert_eq!(reason, wrong_state, "{message}");
        let (reason, message) = failure(
            &c.one(
                Operation::SIGNATURE_VERIFY,
                verify(&pre_public, &p, msg, &[0; 256]),
            )
            .await,
        );
        assert_eq!(reason, wrong_state, "{message}");
        // No Sign bit in the usage mask.
        let no_sign = created(
            &c.one(
                Operation::REGISTER,
                register(
                    ObjectType::PRIVATE_KEY,
                    KeyFormatType::PKCS_8,
                    key_file("ec-p256.pkcs8.der"),
                    A::EC,
                    DECRYPT,
                ),
            )
            .await,
        );
        ok(&c.one(Operation::ACTIVATE, activate(&no_sign)).await);
        let (reason, message) = failure(
            &c.one(Operation::SIGN, sign(&no_sign, &p, Some(msg), None))
                .await,
        );
        let usage = if v2 {
            ResultReason::INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK
        } else {
            ResultReason::PERMISSION_DENIED
        };
        assert_eq!(reason, usage, "{message}");
        assert!(message.contains("lacks Sign"), "{message}");
    }
    server.shutdown().await;
}

fn encrypt(uid: &str, p: CryptographicParameters, data: &[u8]) -> RequestPayload {
    RequestPayload::Encrypt(EncryptRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p),
        data: Some(data.to_vec()),
        ..Default::default()
    })
}

fn decrypt(uid: &str, p: CryptographicParameters, data: &[u8]) -> RequestPayload {
    RequestPayload::Decrypt(DecryptRequest {
        unique_identifier: Some(uid.into()),
        cryptographic_parameters: Some(p),
        data: Some(data.to_vec()),
        ..Default::default()
    })
}

fn data_of(r: &ResponseMessage) -> Vec<u8> {
    match payload(r) {
        ResponsePayload::Encrypt(e) => e.data.clone().expect("Data"),
        ResponsePayload::Data(d) => d.data.clone().expect("Data"),
        other => panic!("no data: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_oaep_and_pkcs1_encryption_through_the_server() {
    let backend = Backend::new();
    let (service, _store) = backend.service();
    let pki = TestPki::new();
    let server = start_with(&pki.config(), service).await;
    let rsa_private = RsaPrivateKey::from_pkcs8_der(&key_file("rsa-2048.pkcs8.der")).unwrap();
    let pk = RsaPublicKey::from(&rsa_private);
    let mut rng = rsa::rand_core::OsRng;
    let msg = b"a data key".as_slice();
    for version in [(1, 4), (2, 1)] {
        let mut c = client(&server, &pki, version).await;
        let (private, public) = key_pair(&mut c, "rsa-2048", A::RSA, true).await;
        let oaep = params(Some(PaddingMethod::OAEP), Some(H::SHA_1), None);
        let ct = data_of(
            &c.one(Operation::ENCRYPT, encrypt(&public, oaep.clone(), msg))
                .await,
        );
        assert_eq!(ct.len(), 256);
        assert_eq!(
            rsa_private.decrypt(Oaep::new::<sha1::Sha1>(), &ct).unwrap(),
            msg
        );
        assert_eq!(
            data_of(
                &c.one(Operation::DECRYPT, decrypt(&private, oaep.clone(), &ct))
                    .await
            ),
            msg
        );
        // A ciphertext made in the test, decrypted by the server.
        let outside = pk
            .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), msg)
            .unwrap();
        assert_eq!(
            data_of(
                &c.one(
                    Operation::DECRYPT,
                    decrypt(&private, oaep.clone(), &outside)
                )
                .await
            ),
            msg
        );
        // A corrupted ciphertext: Cryptographic Failure, never the wrong plaintext.
        let mut bad = outside.clone();
        bad[5] ^= 1;
        let (reason, _) = failure(
            &c.one(Operation::DECRYPT, decrypt(&private, oaep, &bad))
                .await,
        );
        assert_eq!(reason, ResultReason::CRYPTOGRAPHIC_FAILURE);
        // PKCS#1 v1.5 (outside FIPS mode).
        let v15 = params(Some(PaddingMethod::PKCS1_V1_5), None, None);
        let ct = data_of(
            &c.one(Operation::ENCRYPT, encrypt(&public, v15.clone(), msg))
                .await,
        );
        assert_eq!(rsa_private.decrypt(rsa::Pkcs1v15Encrypt, &ct).unwrap(), msg);
        let outside = pk.encrypt(&mut rng, rsa::Pkcs1v15Encrypt, msg).unwrap();
        assert_eq!(
            data_of(
                &c.one(Operation::DECRYPT, decrypt(&private, v15, &outside))
                    .await
            ),
            msg
        );
        // OAEP with SHA-256: where the HSM profile lists it; otherwise a clear answer.
        let sha256 = params(Some(PaddingMethod::OAEP), Some(H::SHA_256), None);
        let r = c
            .one(Operation::ENCRYPT, encrypt(&public, sha256.clone(), msg))
            .await;
        if backend.hsm.profile().oaep_hashes.len() == 1 {
            let (reason, message) = failure(&r);
            assert_eq!(reason, ResultReason::FEATURE_NOT_SUPPORTED);
            assert!(
                message.starts_with("not supported by this HSM"),
                "{message}"
            );
        } else {
            let ct = data_of(&r);
            assert_eq!(
                rsa_private.decrypt(Oaep::new::<Sha256>(), &ct).unwrap(),
                msg
            );
            let outside = pk.encrypt(&mut rng, Oaep::new::<Sha256>(), msg).unwrap();
            assert_eq!(
                data_of(
                    &c.one(Operation::DECRYPT, decrypt(&private, sha256, &outside))
                        .await
                ),
                msg
            );
        }
        // No padding named (neither the request nor the key): Invalid Field.
        let (reason, message) = failure(
            &c.one(
                Operation::ENCRYPT,
                encrypt(&public, CryptographicParameters::default(), msg),
            )
            .await,
        );
        assert_eq!(reason, ResultReason::INVALID_FIELD, "{message}");
    }
    server.shutdown().await;
}
