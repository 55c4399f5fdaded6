//! The FIPS policy in the cryptographic handlers (the test token, sled): keys registered with
//! the policy off, whose own Cryptographic Parameters name a non-approved choice the request
//! scan before dispatch cannot see, are refused by MAC, Encrypt and Sign in FIPS mode with
//! `not approved in FIPS mode: …` (Permission Denied) — HMAC-MD5, RSA PKCS#1 v1.5 encryption,
//! RSA signatures with SHA-1 — and the same requests outside FIPS mode are answered by what the
//! server and token offer: PKCS#1 v1.5 encryption, SHA-1 signatures and HMAC-MD5 work (HMAC-MD5
//! where the token has `CKM_MD5_HMAC`, as SoftHSM does; elsewhere Feature Not Supported "not
//! supported by this HSM" — never a FIPS refusal and never a MAC of another algorithm).

mod common;

use std::sync::Arc;

use common::TestToken;
use hsmkms::keystore::HsmRecordMac;
use hsmkms::kmip::attributes::Attribute;
use hsmkms::kmip::message::ProtocolVersion;
use hsmkms::kmip::operations::activate::IdentifierPayload;
use hsmkms::kmip::operations::cryptographic_parameters::CryptographicParameters;
use hsmkms::kmip::operations::encrypt::EncryptRequest;
use hsmkms::kmip::operations::mac::MacRequest;
use hsmkms::kmip::operations::object::{KeyBlock, ManagedObject};
use hsmkms::kmip::operations::register::RegisterRequest;
use hsmkms::kmip::operations::sign::SignRequest;
use hsmkms::kmip::operations::AttributeSet;
use hsmkms::kmip::ResponsePayload;
use hsmkms::secret::SecretBytes;
use hsmkms::service::objects::Objects;
use hsmkms::service::{
    activate, encrypt, mac, register, sign, signature_verify, Context, Identity, OpError, Policy,
};
use hsmkms::store::{SledStore, StoreOptions};
use hsmkms::ttlv::enums::{
    CryptographicAlgorithm as A, HashingAlgorithm as H, KeyFormatType, ObjectType, PaddingMethod,
    ResultReason, ValidityIndicator,
};
use hsmkms::ttlv::{Item, Tag, Value};

struct Backend {
    _token: TestToken,
    objects: Objects,
}

impl Backend {
    fn new() -> Self {
        let (token, hsm) = TestToken::initialised();
        let hsm = Arc::new(hsm);
        let store = Arc::new(
            SledStore::open(
                &StoreOptions::new(token.dir.path().join("store")),
                Arc::new(HsmRecordMac::new(hsm.clone())),
            )
            .unwrap(),
        );
        Backend {
            _token: token,
            objects: Objects {
                hsm,
                store,
                crypto: Default::default(),
                streams: Default::default(),
            },
        }
    }
}

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/keys")
            .join(name),
    )
    .unwrap()
}

fn parameters_attribute(p: &CryptographicParameters) -> Attribute {
    Attribute::new(Tag::CRYPTOGRAPHIC_PARAMETERS, p.to_item().value)
}

/// Registers (policy off) and activates a key whose Cryptographic Parameters are `p`.
fn registered(
    ctx: &Context<'_>,
    objects: &Objects,
    object_type: ObjectType,
    block: KeyBlock,
    mask: i32,
    p: &CryptographicParameters,
) -> String {
    let object = match object_type {
        ObjectType::PRIVATE_KEY => ManagedObject::PrivateKey(block),
        ObjectType::PUBLIC_KEY => ManagedObject::PublicKey(block),
        _ => ManagedObject::SymmetricKey(block),
    };
    let r = register::handle(
        ctx,
        objects,
        &Policy::off(),
        RegisterRequest {
            object_type,
            attributes: Some(AttributeSet::V1(vec![
                Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(mask)),
                parameters_attribute(p),
            ])),
            object: Some(object),
            protection_storage_masks: None,
        },
    )
    .unwrap();
    let ResponsePayload::Register(r) = r else {
        panic!("{r:?}")
    };
    activate::handle(ctx, objects, &IdentifierPayload::new(&r.unique_identifier)).unwrap();
    r.unique_identifier
}

fn der_block(format: KeyFormatType, file: &str, algorithm: A) -> KeyBlock {
    KeyBlock::with_key_material(
        format,
        Item::new(Tag::KEY_MATERIAL, Value::ByteString(key_file(file))),
        Some(algorithm.0),
        None,
    )
}

fn assert_refused(e: OpError, start: &str) {
    assert!(matches!(e, OpError::NotApproved(_)), "{e}");
    assert_eq!(
        e.reason(ProtocolVersion::new(2, 1)),
        ResultReason::PERMISSION_DENIED
    );
    assert!(e.to_string().starts_with(start), "{e}");
}

#[test]
fn crypto_handlers_apply_the_policy_to_the_stored_keys_parameters() {
    let backend = Backend::new();
    let objects = &backend.objects;
    let identity = Identity::new("alice");
    let ctx = Context {
        identity: &identity,
        version: ProtocolVersion::new(1, 4),
        admin: false,
        placeholder: None,
    };
    let fips = Policy::enforced().unwrap();
    let off = Policy::off();

    // HMAC-MD5: an HMAC key whose parameters name HMAC-MD5.
    let hmac_md5 = CryptographicParameters {
        cryptographic_algorithm: Some(A::HMAC_MD5),
        ..Default::default()
    };
    let hmac = registered(
        &ctx,
        objects,
        ObjectType::SYMMETRIC_KEY,
        KeyBlock::with_material(
            KeyFormatType::RAW,
            &SecretBytes::new(vec![0x42; 32]),
            Some(A::HMAC_SHA256.0),
            None,
        ),
        0x80,
        &hmac_md5,
    );
    let mac_request = MacRequest {
        unique_identifier: Some(hmac.clone()),
        data: Some(b"data".to_vec()),
        ..Default::default()
    };
    assert_refused(
        mac::handle(&ctx, objects, &fips, &mac_request).unwrap_err(),
        "not approved in FIPS mode: HMAC-MD5: disallowed",
    );
    // Outside FIPS mode: HMAC-MD5 of "data" under 32 bytes of 0x42, as Python's
    // `hmac.new(b"\x42" * 32, b"data", hashlib.md5)` computes it.
    match mac::handle(&ctx, objects, &off, &mac_request) {
        Ok(ResponsePayload::Data(r)) => {
            assert!(objects.hsm.supports(0x211).unwrap());
            assert_eq!(
                hex::encode(r.data.expect("MAC Data")),
                "cd1bbb4ea932826746a16b624748564a"
            );
        }
        Ok(other) => panic!("{other:?}"),
        Err(e) => {
            assert!(!objects.hsm.supports(0x211).unwrap(), "{e}");
            assert!(matches!(e, OpError::NotSupported(_)), "{e}");
            assert!(e.to_string().contains("not supported by this HSM"), "{e}");
        }
    }
    // The same key MACs with HMAC-SHA-256 when the request asks for it, in FIPS mode too.
    let sha256 = MacRequest {
        cryptographic_parameters: Some(CryptographicParameters {
            cryptographic_algorithm: Some(A::HMAC_SHA256),
            ..Default::default()
        }),
        ..mac_request.clone()
    };
    mac::handle(&ctx, objects, &fips, &sha256).unwrap();

    // RSA PKCS#1 v1.5 encryption: a public key whose parameters name it.
    let v15 = CryptographicParameters {
        padding_method: Some(PaddingMethod::PKCS1_V1_5),
        ..Default::default()
    };
    let public = registered(
        &ctx,
        objects,
        ObjectType::PUBLIC_KEY,
        der_block(KeyFormatType::X_509, "rsa-2048.spki.der", A::RSA),
        0x4 | 0x2,
        &v15,
    );
    let encrypt_request = EncryptRequest {
        unique_identifier: Some(public.clone()),
        data: Some(b"data".to_vec()),
        ..Default::default()
    };
    assert_refused(
        encrypt::handle(&ctx, objects, &fips, &encrypt_request).unwrap_err(),
        "not approved in FIPS mode: RSA PKCS#1 v1.5 for Encrypt: approved only for Sign, \
         SignatureVerify",
    );
    let r = encrypt::handle(&ctx, objects, &off, &encrypt_request).unwrap();
    let ResponsePayload::Encrypt(r) = r else {
        panic!("{r:?}")
    };
    assert_eq!(r.data.unwrap().len(), 256);

    // RSA with SHA-1 signatures: a private key whose parameters name SHA-1.
    let sha1 = CryptographicParameters {
        hashing_algorithm: Some(H::SHA_1),
        ..Default::default()
    };
    let private = registered(
        &ctx,
        objects,
        ObjectType::PRIVATE_KEY,
        der_block(KeyFormatType::PKCS_8, "rsa-2048.pkcs8.der", A::RSA),
        0x1,
        &sha1,
    );
    let sign_request = SignRequest {
        unique_identifier: Some(private.clone()),
        data: Some(b"data".to_vec()),
        ..Default::default()
    };
    assert_refused(
        sign::handle(&ctx, objects, &fips, &sign_request).unwrap_err(),
        "not approved in FIPS mode: SHA-1 signatures: signature generation disallowed",
    );
    let r = sign::handle(&ctx, objects, &off, &sign_request).unwrap();
    let ResponsePayload::Sign(r) = r else {
        panic!("{r:?}")
    };
    let signature = r.signature_data.unwrap();
    // SHA-1 verification is legacy use: allowed in FIPS mode.
    let verify_request = SignRequest {
        unique_identifier: Some(public.clone()),
        cryptographic_parameters: Some(sha1.clone()),
        data: Some(b"data".to_vec()),
        signature_data: Some(signature),
        ..Default::default()
    };
    let r = signature_verify::handle(&ctx, objects, &fips, &verify_request).unwrap();
    let ResponsePayload::SignatureVerify(r) = r else {
        panic!("{r:?}")
    };
    assert_eq!(r.validity_indicator, ValidityIndicator::VALID);
}

/// A Get with a Key Wrapping Specification judges the wrapping key as stored: an RSA-1024
/// public key made with the policy off wraps outside FIPS mode and is refused in it.
#[test]
fn wrapped_get_applies_the_policy_to_the_wrapping_key() {
    use hsmkms::kmip::operations::create_key_pair::CreateKeyPairRequest;
    use hsmkms::kmip::operations::get::GetRequest;
    use hsmkms::service::{create_key_pair, get};
    use hsmkms::ttlv::Item;

    let backend = Backend::new();
    let objects = &backend.objects;
    let identity = Identity::new("alice");
    let ctx = Context {
        identity: &identity,
        version: ProtocolVersion::new(1, 4),
        admin: false,
        placeholder: None,
    };
    let fips = Policy::enforced().unwrap();
    let off = Policy::off();
    let mask = |m: i32| {
        Some(AttributeSet::V1(vec![Attribute::new(
            Tag::CRYPTOGRAPHIC_USAGE_MASK,
            Value::Integer(m),
        )]))
    };
    let pair = create_key_pair::handle(
        &ctx,
        objects,
        &off,
        &CreateKeyPairRequest {
            common: Some(AttributeSet::V1(vec![
                Attribute::new(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(A::RSA.0)),
                Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(1024)),
            ])),
            private: mask(0x20), // Unwrap Key
            public: mask(0x10),  // Wrap Key
            protection_storage_masks: vec![],
        },
    )
    .unwrap();
    let ResponsePayload::CreateKeyPair(pair) = pair else {
        panic!("{pair:?}")
    };
    let public = pair.public_key_unique_identifier;
    activate::handle(&ctx, objects, &IdentifierPayload::new(&public)).unwrap();
    let aes = registered(
        &ctx,
        objects,
        ObjectType::SYMMETRIC_KEY,
        KeyBlock::with_material(
            KeyFormatType::RAW,
            &SecretBytes::new(vec![0x24; 16]),
            Some(A::AES.0),
            None,
        ),
        0x4 | 0x8,
        &CryptographicParameters::default(),
    );
    // RSA-OAEP with SHA-1 (SoftHSM's only OAEP hash; approved for key transport).
    let oaep = CryptographicParameters {
        padding_method: Some(PaddingMethod::OAEP),
        hashing_algorithm: Some(H::SHA_1),
        ..Default::default()
    };
    let request = GetRequest {
        unique_identifier: Some(aes),
        key_wrapping_specification: Some(Item::structure(
            Tag::KEY_WRAPPING_SPECIFICATION,
            vec![
                Item::new(Tag::WRAPPING_METHOD, Value::Enumeration(1)),
                Item::structure(
                    Tag::ENCRYPTION_KEY_INFORMATION,
                    vec![
                        Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString(public)),
                        oaep.to_item(),
                    ],
                ),
            ],
        )),
        ..Default::default()
    };
    let e = get::handle(&ctx, objects, &fips, &request).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("1024"), "{m}");
    assert_refused(e, "not approved in FIPS mode: RSA");
    let r = get::handle(&ctx, objects, &off, &request).unwrap();
    assert!(matches!(r, ResponsePayload::Get(_)), "{r:?}");
}
