//! The HSM suite: every primitive, master keys and their versions, errors and recovery, against
//! a real token (SoftHSMv2 or Kryoptic, see `tests/common`). Run under `cargo nextest`:
//!
//! ```text
//! cargo nextest run --test hsm                                   # SoftHSMv2
//! tools/build-kryoptic.sh && HSMKMS_TEST_PKCS11=kryoptic cargo nextest run --test hsm
//! ```

mod common;

use std::sync::Arc;

use common::{fault, TestToken, Token, LABEL, USER_PIN};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use hsmkms::hsm::{
    find_token, module_context, CacheLimits, Cipher, Curve, HashAlg, Hsm, HsmError, HsmOptions,
    KeyKind, KeyPairSpec, KeyUsage, MacAlg, ManagedKey, Pin, PublicKey, SignAlg, WrappedKey,
    CKM_AES_KEY_WRAP_KWP, CKM_AES_KEY_WRAP_PAD,
};

fn mk<'a>(id: &'a str, wk: &'a WrappedKey) -> ManagedKey<'a> {
    ManagedKey {
        unique_id: id,
        wrapped: wk,
    }
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A session on the test token through the same module, logged in, for checks the `Hsm` API
/// does not offer (reading attributes of master keys, planting objects).
fn raw_session(t: &TestToken) -> cryptoki::session::Session {
    let ctx = module_context(&t.module).unwrap();
    let slot = find_token(&ctx, &t.module, LABEL).unwrap();
    let s = ctx.open_rw_session(slot).unwrap();
    match s.login(UserType::User, Some(&AuthPin::from(USER_PIN))) {
        Ok(()) | Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("login: {e}"),
    }
    s
}

// ---- opening, errors ----------------------------------------------------------------------

#[test]
fn missing_module_says_what_to_install() {
    let t = TestToken::new();
    let e = Hsm::open_with(
        std::path::Path::new("/nonexistent/libpkcs11.so"),
        t.profile.clone(),
        LABEL,
        Pin::new(USER_PIN.into()),
        HsmOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, HsmError::ModuleLoad { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("softhsm2") && msg.contains("[hsm] module"),
        "{msg}"
    );
}

#[test]
fn wrong_pin_names_function_value_and_advice() {
    let t = TestToken::new();
    let e = Hsm::open_with(
        &t.module,
        t.profile.clone(),
        LABEL,
        Pin::new("00000000".into()),
        HsmOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            HsmError::Pkcs11 {
                function: "C_Login",
                rv: RvError::PinIncorrect
            }
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(msg.contains("C_Login returned CKR_PIN_INCORRECT"), "{msg}");
    assert!(msg.contains("check pin_file"), "{msg}");
}

#[test]
fn unknown_token_label_lists_present_tokens() {
    let t = TestToken::new();
    let e = Hsm::open_with(
        &t.module,
        t.profile.clone(),
        "no-such-token",
        Pin::new(USER_PIN.into()),
        HsmOptions::default(),
    )
    .unwrap_err();
    match e {
        HsmError::TokenNotFound { present, .. } => assert!(present.iter().any(|l| l == LABEL)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn operations_before_init_ask_for_init() {
    let t = TestToken::new();
    let hsm = t.open();
    let e = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap_err();
    assert!(matches!(e, HsmError::MasterKeyMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("hsmkms init"), "{e}");
}

// ---- measured facts -----------------------------------------------------------------------

#[test]
fn token_offers_kwp_only_under_its_profile_code() {
    let t = TestToken::new();
    let hsm = t.open();
    let (pad, kwp) = (
        hsm.supports(CKM_AES_KEY_WRAP_PAD).unwrap(),
        hsm.supports(CKM_AES_KEY_WRAP_KWP).unwrap(),
    );
    match t.kind {
        Token::SoftHsm => assert_eq!((pad, kwp), (true, false)),
        Token::Kryoptic => assert_eq!((pad, kwp), (false, true)),
    }
    assert_eq!(
        hsm.wrap_mechanism(),
        if pad {
            CKM_AES_KEY_WRAP_PAD
        } else {
            CKM_AES_KEY_WRAP_KWP
        }
    );
}

/// RFC 5649 section 6 vectors (20- and 7-byte keys) against the token's KWP, and the same keys
/// zero-padded to a multiple of 8 (what hsmkms wraps) against values computed with
/// `cryptography.hazmat.primitives.keywrap.aes_key_wrap_with_padding`.
#[test]
fn kwp_conformance_for_lengths_not_multiple_of_8() {
    let t = TestToken::new();
    let hsm = t.open();
    let code = hsm.wrap_mechanism();
    let s = raw_session(&t);
    let kek = s
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Token(false),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Value(h("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")),
        ])
        .unwrap();
    let wrap = |value: Vec<u8>| -> Vec<u8> {
        let key = s
            .create_object(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::GENERIC_SECRET),
                Attribute::Token(false),
                Attribute::Extractable(true),
                Attribute::Sensitive(false),
                Attribute::Value(value),
            ])
            .unwrap();
        fault::wrap_by_code(&t.module, &s, code, kek, key)
    };
    let rfc20 = h("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a");
    let rfc7 = h("afbeb0f07dfbf5419200f2ccb50bb24f");
    let got20 = wrap(h("c37b7e6492584340bed12207808941155068f738"));
    let got7 = wrap(h("466f7250617369"));
    eprintln!(
        "token KWP, 20-byte key: {} (RFC 5649: {})",
        hex::encode(&got20),
        hex::encode(&rfc20)
    );
    eprintln!(
        "token KWP, 7-byte key: {} (RFC 5649: {})",
        hex::encode(&got7),
        hex::encode(&rfc7)
    );
    let padded20 = h("cf1e485360e1a8126f524d01771677f9400edb4d074f14116988d71e1588e367");
    let padded7 = h("0e13c7817f2e6681f64d911b7dd014d5");
    match t.kind {
        // Measured: SoftHSM 2.6.1 zero-pads the value to a multiple of 8 *before* KWP, so its
        // output is the RFC 5649 wrap of the padded value (MLI = padded length): the true
        // length is lost and an unwrap yields the padded bytes.
        Token::SoftHsm => {
            assert_eq!(got20, padded20);
            assert_eq!(got7, padded7);
        }
        // Kryoptic is RFC 5649-conformant.
        Token::Kryoptic => {
            assert_eq!(got20, rfc20);
            assert_eq!(got7, rfc7);
        }
    }
    // hsmkms pads to a multiple of 8 itself and keeps the true length in the record: then
    // both tokens produce the same RFC 5649 bytes, so blobs are portable between them.
    assert_eq!(
        wrap(h("c37b7e6492584340bed12207808941155068f73800000000")),
        padded20
    );
    assert_eq!(wrap(h("466f725061736900")), padded7);
}

#[test]
fn sensitive_value_is_reported_by_attribute_info_not_attributes() {
    let (t, _hsm) = TestToken::initialised();
    let s = raw_session(&t);
    let kek = s
        .find_objects(&[Attribute::Label(b"hsmkms-kek-v1".to_vec())])
        .unwrap()[0];
    // cryptoki's get_attributes silently drops a sensitive value.
    assert!(s
        .get_attributes(kek, &[AttributeType::Value])
        .unwrap()
        .is_empty());
    let info = s.get_attribute_info(kek, &[AttributeType::Value]).unwrap();
    assert!(matches!(info[0], AttributeInfo::Sensitive), "{info:?}");
}

// ---- master keys --------------------------------------------------------------------------

#[test]
fn init_creates_private_sensitive_non_extractable_master_keys() {
    let (t, hsm) = TestToken::initialised();
    let s = raw_session(&t);
    for (label, wrap, sign) in [
        ("hsmkms-kek-v1", true, false),
        ("hsmkms-mac-v1", false, true),
    ] {
        let found = s
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
            .unwrap();
        assert_eq!(found.len(), 1, "{label}");
        let attrs = s
            .get_attributes(
                found[0],
                &[
                    AttributeType::Token,
                    AttributeType::Private,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Wrap,
                    AttributeType::Unwrap,
                    AttributeType::Sign,
                    AttributeType::Encrypt,
                    AttributeType::Decrypt,
                ],
            )
            .unwrap();
        for a in attrs {
            match a {
                Attribute::Token(b) | Attribute::Private(b) | Attribute::Sensitive(b) => {
                    assert!(b, "{label}")
                }
                Attribute::Extractable(b) | Attribute::Encrypt(b) | Attribute::Decrypt(b) => {
                    assert!(!b, "{label}")
                }
                Attribute::Wrap(b) | Attribute::Unwrap(b) => assert_eq!(b, wrap, "{label}"),
                Attribute::Sign(b) => assert_eq!(b, sign, "{label}"),
                other => panic!("{other:?}"),
            }
        }
    }
    assert_eq!(hsm.kek_versions().unwrap(), vec![1]);
    let e = hsm.init_master_keys().unwrap_err();
    assert!(matches!(e, HsmError::MasterKeyExists { .. }), "{e:?}");
}

#[test]
fn refuses_a_public_kek_found_in_the_token() {
    let t = TestToken::new();
    let s = raw_session(&t);
    s.generate_key(
        &Mechanism::AesKeyGen,
        &[
            Attribute::ValueLen(32.into()),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Label(b"hsmkms-kek-v1".to_vec()),
        ],
    )
    .unwrap();
    let e = Hsm::open_with(
        &t.module,
        t.profile.clone(),
        LABEL,
        Pin::new(USER_PIN.into()),
        HsmOptions::default(),
    )
    .unwrap_err();
    match e {
        HsmError::InsecureMasterKey { label, reason } => {
            assert_eq!(label, "hsmkms-kek-v1");
            assert!(reason.contains("public"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn kek_versions_rotate_and_old_blobs_still_unwrap() {
    let (_t, hsm) = TestToken::initialised();
    let old = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    assert_eq!(old.kek_version, 1);
    let value = hsm.export_secret(&old).unwrap();
    assert_eq!(hsm.add_kek_version().unwrap(), 2);
    assert_eq!(hsm.kek_versions().unwrap(), vec![1, 2]);
    assert_eq!(hsm.current_kek_version().unwrap(), 2);
    let new = hsm
        .generate_secret(KeyKind::Aes, 16, KeyUsage::encryption())
        .unwrap();
    assert_eq!(new.kek_version, 2);
    // The old blob names version 1 and still unwraps; re-wrapping moves it to version 2.
    assert_eq!(hsm.export_secret(&old).unwrap(), value);
    let moved = hsm.rewrap(&old, 2).unwrap();
    assert_eq!(moved.kek_version, 2);
    assert_ne!(moved.blob, old.blob);
    assert_eq!(hsm.export_secret(&moved).unwrap(), value);
    let missing = WrappedKey {
        kek_version: 9,
        ..old.clone()
    };
    assert!(matches!(
        hsm.export_secret(&missing).unwrap_err(),
        HsmError::KekVersionMissing { version: 9 }
    ));
    // An old version can be barred from wrapping new keys and keep unwrapping.
    hsm.set_kek_wrap_enabled(2, false).unwrap();
    assert!(hsm.rewrap(&old, 2).is_err());
    assert_eq!(hsm.export_secret(&moved).unwrap(), value);
    hsm.set_kek_wrap_enabled(2, true).unwrap();
    hsm.rewrap(&old, 2).unwrap();
}

#[test]
fn cli_init_creates_then_refuses_then_adds_a_version() {
    let t = TestToken::new();
    let cfg = t.config_file();
    let run = |extra: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hsmkms"));
        c.arg("init").arg("--config").arg(&cfg).args(extra);
        for (k, v) in t.env() {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("hsmkms-kek-v1") && stdout.contains("hsmkms-mac-v1"),
        "{stdout}"
    );
    let out = run(&[]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already exists"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["--new-kek-version"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("hsmkms-kek-v2"));
}

#[test]
fn record_mac_detects_any_change() {
    let (_t, hsm) = TestToken::initialised();
    let record = b"uid-1|SymmetricKey|Active|blob...";
    let mac = hsm.mac_record(record).unwrap();
    assert_eq!(mac.len(), 32);
    assert_eq!(hsm.mac_record(record).unwrap(), mac, "deterministic");
    hsm.verify_record(record, &mac).unwrap();
    let mut edited = record.to_vec();
    edited[14] ^= 1;
    assert!(matches!(
        hsm.verify_record(&edited, &mac),
        Err(HsmError::RecordMacInvalid)
    ));
    let mut bad = mac;
    bad[0] ^= 0x80;
    assert!(matches!(
        hsm.verify_record(record, &bad),
        Err(HsmError::RecordMacInvalid)
    ));
    assert!(matches!(
        hsm.verify_record(record, &mac[..31]),
        Err(HsmError::RecordMacInvalid)
    ));
}

// ---- symmetric keys -----------------------------------------------------------------------

#[test]
fn aes_keys_of_every_size_encrypt_and_decrypt_in_every_mode() {
    let (_t, hsm) = TestToken::initialised();
    let data = b"attack at dawn, bring the big ones: 48 bytes!!!!".to_vec();
    for len in [16, 24, 32] {
        let wk = hsm
            .generate_secret(KeyKind::Aes, len, KeyUsage::encryption())
            .unwrap();
        assert_eq!(wk.value_len as usize, len);
        // KWP of a multiple of 8 adds one 8-byte block.
        assert_eq!(wk.blob.len(), len + 8);
        let key = mk("aes", &wk);
        for cipher in [
            Cipher::AesGcm {
                iv: vec![7; 12],
                aad: b"header".to_vec(),
                tag_bits: 128,
            },
            Cipher::AesCbcPad { iv: [1; 16] },
            Cipher::AesCtr {
                counter_block: [2; 16],
                counter_bits: 32,
            },
            Cipher::AesEcb,
        ] {
            let ct = hsm.encrypt(key, &cipher, &data).unwrap();
            assert_ne!(ct[..16], data[..16], "{cipher:?}");
            assert_eq!(hsm.decrypt(key, &cipher, &ct).unwrap(), data, "{cipher:?}");
        }
        hsm.invalidate("aes");
    }
}

#[test]
fn aes_known_answers_and_gcm_tag_failure() {
    let (_t, hsm) = TestToken::initialised();
    // FIPS-197 appendix C.1.
    let wk = hsm
        .import_secret(
            KeyKind::Aes,
            &h("000102030405060708090a0b0c0d0e0f"),
            KeyUsage::encryption(),
        )
        .unwrap();
    let key = mk("kat", &wk);
    assert_eq!(
        hsm.encrypt(key, &Cipher::AesEcb, &h("00112233445566778899aabbccddeeff"))
            .unwrap(),
        h("69c4e0d86a7b0430d8cdb78070b4c55a")
    );
    // GCM test case 2 of the GCM specification (McGrew–Viega): zero key, zero IV, 16 zero bytes.
    let zero = hsm
        .import_secret(KeyKind::Aes, &[0; 16], KeyUsage::encryption())
        .unwrap();
    let zk = mk("zero", &zero);
    let gcm = Cipher::AesGcm {
        iv: vec![0; 12],
        aad: vec![],
        tag_bits: 128,
    };
    let ct = hsm.encrypt(zk, &gcm, &[0; 16]).unwrap();
    assert_eq!(
        ct,
        h("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf")
    );
    let mut tampered = ct.clone();
    tampered[3] ^= 1;
    let e = hsm.decrypt(zk, &gcm, &tampered).unwrap_err();
    assert!(
        matches!(e, HsmError::AuthenticationFailed { .. }),
        "SoftHSM says CKR_GENERAL_ERROR, Kryoptic CKR_ENCRYPTED_DATA_INVALID: {e:?}"
    );
    // The session survives the failure.
    assert_eq!(hsm.decrypt(zk, &gcm, &ct).unwrap(), vec![0; 16]);
}

#[test]
fn des3_works_where_the_token_offers_it() {
    let (t, hsm) = TestToken::initialised();
    let r = hsm.generate_secret(KeyKind::Des3, 24, KeyUsage::encryption());
    match t.kind {
        Token::SoftHsm => {
            let wk = r.unwrap();
            let cipher = Cipher::Des3CbcPad { iv: [9; 8] };
            let ct = hsm.encrypt(mk("d", &wk), &cipher, b"eight by").unwrap();
            assert_eq!(ct.len(), 16);
            assert_eq!(
                hsm.decrypt(mk("d", &wk), &cipher, &ct).unwrap(),
                b"eight by"
            );
        }
        // Kryoptic's minimal build has no DES.
        Token::Kryoptic => assert!(
            matches!(
                r,
                Err(HsmError::Pkcs11 {
                    rv: RvError::MechanismInvalid,
                    ..
                })
            ),
            "{r:?}"
        ),
    }
}

#[test]
fn hmac_known_answers() {
    let (t, hsm) = TestToken::initialised();
    // Key 00..3f (SoftHSM wants an HMAC key at least as long as the hash output); expected
    // values from Python's hmac module.
    let wk = hsm
        .import_secret(
            KeyKind::GenericSecret,
            &(0..64).collect::<Vec<u8>>(),
            KeyUsage::signing(),
        )
        .unwrap();
    let key = mk("k32", &wk);
    let data = b"what do ya want for nothing?";
    let tag = hsm.mac(key, MacAlg::Hmac(HashAlg::Sha256), data).unwrap();
    assert_eq!(
        tag,
        h("5431cc41830bee7889a6b5d04b33877387ea9b8170759f4dca4323cfb5725508")
    );
    assert_eq!(
        hsm.mac(key, MacAlg::Hmac(HashAlg::Sha1), data).unwrap(),
        h("879dc82ca50b25b0f7bb9057993904f55678535b")
    );
    assert_eq!(
        hsm.mac(key, MacAlg::Hmac(HashAlg::Sha512), data).unwrap(),
        h(
            "a4e4293ad3d01934e3485a2e4b5d4d4b21eee4105f5774e35dafb3d53c6d885e\
           47134b39a81705c0af381c23be19b9c7d63cd25fca21dcbddeb242210629f646"
        )
    );
    for alg in [HashAlg::Sha224, HashAlg::Sha384] {
        let t = hsm.mac(key, MacAlg::Hmac(alg), data).unwrap();
        assert_eq!(t.len(), alg.output_len());
        hsm.mac_verify(key, MacAlg::Hmac(alg), data, &t).unwrap();
    }
    hsm.mac_verify(key, MacAlg::Hmac(HashAlg::Sha256), data, &tag)
        .unwrap();
    let e = hsm
        .mac_verify(
            key,
            MacAlg::Hmac(HashAlg::Sha256),
            b"what do ya want for something?",
            &tag,
        )
        .unwrap_err();
    assert!(matches!(e, HsmError::SignatureInvalid { .. }), "{e:?}");
    // A generated HMAC key works too.
    let g = hsm
        .generate_secret(KeyKind::GenericSecret, 32, KeyUsage::signing())
        .unwrap();
    let m = hsm
        .mac(mk("g", &g), MacAlg::Hmac(HashAlg::Sha256), data)
        .unwrap();
    hsm.mac_verify(mk("g", &g), MacAlg::Hmac(HashAlg::Sha256), data, &m)
        .unwrap();
    // RFC 4231 test case 2: the 4-byte key "Jefe" is stored zero-padded to 8 bytes, which
    // HMAC's own zero padding makes equivalent. SoftHSM refuses HMAC keys shorter than the hash
    // output (measured: CKR_KEY_SIZE_RANGE); Kryoptic gives the RFC value.
    let jefe = hsm
        .import_secret(KeyKind::GenericSecret, b"Jefe", KeyUsage::signing())
        .unwrap();
    assert_eq!(jefe.value_len, 4);
    assert_eq!(hsm.export_secret(&jefe).unwrap().expose(), b"Jefe");
    let r = hsm.mac(mk("jefe", &jefe), MacAlg::Hmac(HashAlg::Sha256), data);
    match t.kind {
        Token::SoftHsm => assert!(
            matches!(
                r,
                Err(HsmError::Pkcs11 {
                    rv: RvError::KeySizeRange,
                    ..
                })
            ),
            "{r:?}"
        ),
        Token::Kryoptic => assert_eq!(
            r.unwrap(),
            h("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        ),
    }
}

#[test]
fn aes_cmac_known_answers() {
    let (_t, hsm) = TestToken::initialised();
    // RFC 4493 section 4.
    let wk = hsm
        .import_secret(
            KeyKind::Aes,
            &h("2b7e151628aed2a6abf7158809cf4f3c"),
            KeyUsage::signing(),
        )
        .unwrap();
    let key = mk("cmac", &wk);
    assert_eq!(
        hsm.mac(key, MacAlg::AesCmac, b"").unwrap(),
        h("bb1d6929e95937287fa37d129b756746")
    );
    let m = h("6bc1bee22e409f96e93d7e117393172a");
    let t = hsm.mac(key, MacAlg::AesCmac, &m).unwrap();
    assert_eq!(t, h("070a16b46b4d4144f79bdd9dd04a287c"));
    hsm.mac_verify(key, MacAlg::AesCmac, &m, &t).unwrap();
    assert!(hsm.mac_verify(key, MacAlg::AesCmac, b"x", &t).is_err());
}

#[test]
fn odd_length_secret_data_round_trips() {
    let (_t, hsm) = TestToken::initialised();
    for len in [1usize, 7, 13, 20, 33, 100] {
        let value: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37) ^ 0x5a).collect();
        let wk = hsm
            .import_secret(KeyKind::GenericSecret, &value, KeyUsage::default())
            .unwrap();
        assert_eq!(wk.value_len as usize, len);
        assert_eq!(wk.blob.len(), len.div_ceil(8) * 8 + 8, "padded before KWP");
        assert_eq!(hsm.export_secret(&wk).unwrap().expose(), value);
    }
}

// ---- key pairs ----------------------------------------------------------------------------

#[test]
fn rsa_signs_and_verifies_pkcs1_and_pss() {
    let (_t, hsm) = TestToken::initialised();
    let (wk, public) = hsm
        .generate_key_pair(KeyPairSpec::Rsa { modulus_bits: 2048 }, KeyUsage::signing())
        .unwrap();
    assert_eq!(wk.kind, KeyKind::Rsa { modulus_bits: 2048 });
    let PublicKey::Rsa {
        modulus,
        public_exponent,
    } = &public
    else {
        panic!("{public:?}")
    };
    assert_eq!(modulus.len(), 256);
    assert_eq!(public_exponent, &vec![1, 0, 1]);
    let key = mk("rsa", &wk);
    for alg in [
        SignAlg::RsaPkcs1(HashAlg::Sha256),
        SignAlg::RsaPkcs1(HashAlg::Sha512),
        SignAlg::RsaPss(HashAlg::Sha256),
        SignAlg::RsaPss(HashAlg::Sha384),
    ] {
        let sig = hsm.sign(key, alg, b"message").unwrap();
        assert_eq!(sig.len(), 256);
        hsm.verify(&public, alg, b"message", &sig).unwrap();
        let e = hsm.verify(&public, alg, b"massage", &sig).unwrap_err();
        assert!(
            matches!(e, HsmError::SignatureInvalid { .. }),
            "{alg:?}: {e:?}"
        );
    }
    // PKCS#1 v1.5 is deterministic; PSS is not.
    let a = hsm
        .sign(key, SignAlg::RsaPkcs1(HashAlg::Sha256), b"m")
        .unwrap();
    assert_eq!(
        a,
        hsm.sign(key, SignAlg::RsaPkcs1(HashAlg::Sha256), b"m")
            .unwrap()
    );
    assert!(hsm
        .sign(key, SignAlg::Ecdsa(HashAlg::Sha256), b"m")
        .is_err());
}

#[test]
fn rsa_4096_key_pair() {
    let (_t, hsm) = TestToken::initialised();
    let (wk, public) = hsm
        .generate_key_pair(KeyPairSpec::Rsa { modulus_bits: 4096 }, KeyUsage::signing())
        .unwrap();
    let sig = hsm
        .sign(mk("r4", &wk), SignAlg::RsaPss(HashAlg::Sha512), b"m")
        .unwrap();
    assert_eq!(sig.len(), 512);
    hsm.verify(&public, SignAlg::RsaPss(HashAlg::Sha512), b"m", &sig)
        .unwrap();
    // 1024 bits is allowed by the HSM layer (the service's FIPS policy refuses it); less, more
    // than 4096 or not a multiple of 8 is not.
    let (_, small) = hsm
        .generate_key_pair(KeyPairSpec::Rsa { modulus_bits: 1024 }, KeyUsage::signing())
        .unwrap();
    assert!(matches!(small, PublicKey::Rsa { ref modulus, .. } if modulus.len() == 128));
    for bits in [512, 4104, 2050] {
        assert!(matches!(
            hsm.generate_key_pair(KeyPairSpec::Rsa { modulus_bits: bits }, KeyUsage::signing()),
            Err(HsmError::InvalidArgument(_))
        ));
    }
}

#[test]
fn ecdsa_on_every_curve() {
    let (_t, hsm) = TestToken::initialised();
    for (curve, hash) in [
        (Curve::P256, HashAlg::Sha256),
        (Curve::P384, HashAlg::Sha384),
        (Curve::P521, HashAlg::Sha512),
    ] {
        let (wk, public) = hsm
            .generate_key_pair(KeyPairSpec::Ec(curve), KeyUsage::signing())
            .unwrap();
        let PublicKey::Ec { point, .. } = &public else {
            panic!()
        };
        // DER OCTET STRING of 04 || X || Y.
        assert!(point.ends_with(&point[point.len() - curve.field_bytes()..]));
        assert!(point.len() >= 2 * curve.field_bytes() + 3, "{curve:?}");
        let alg = SignAlg::Ecdsa(hash);
        let sig = hsm.sign(mk("ec", &wk), alg, b"message").unwrap();
        assert_eq!(sig.len(), 2 * curve.field_bytes(), "{curve:?}");
        hsm.verify(&public, alg, b"message", &sig).unwrap();
        assert!(matches!(
            hsm.verify(&public, alg, b"messagf", &sig),
            Err(HsmError::SignatureInvalid { .. })
        ));
        hsm.invalidate("ec");
    }
}

// ---- wrapping for export and import -------------------------------------------------------

#[test]
fn wrap_under_another_managed_aes_key_and_import_back() {
    let (_t, hsm) = TestToken::initialised();
    let wrapping = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::wrapping())
        .unwrap();
    let target = hsm
        .generate_secret(KeyKind::Aes, 24, KeyUsage::encryption())
        .unwrap();
    let blob = hsm
        .wrap_with_key(mk("t", &target), mk("w", &wrapping))
        .unwrap();
    assert_eq!(blob.len(), 32);
    let imported = hsm
        .unwrap_with_key(
            &blob,
            mk("w", &wrapping),
            KeyKind::Aes,
            24,
            KeyUsage::encryption(),
        )
        .unwrap();
    assert_eq!(
        hsm.export_secret(&imported).unwrap(),
        hsm.export_secret(&target).unwrap()
    );
    // Both work the same for encryption.
    let c = Cipher::AesCbcPad { iv: [0; 16] };
    let ct = hsm.encrypt(mk("t", &target), &c, b"same key").unwrap();
    assert_eq!(
        hsm.decrypt(mk("i", &imported), &c, &ct).unwrap(),
        b"same key"
    );
    // An encryption-only key cannot wrap.
    assert!(matches!(
        hsm.wrap_with_key(mk("w2", &target), mk("t", &target)),
        Err(HsmError::InvalidArgument(_))
    ));
}

#[test]
fn wrap_under_rsa_oaep_with_the_profiles_hashes() {
    let (t, hsm) = TestToken::initialised();
    let (rsa, public) = hsm
        .generate_key_pair(
            KeyPairSpec::Rsa { modulus_bits: 2048 },
            KeyUsage {
                unwrap: true,
                ..KeyUsage::default()
            },
        )
        .unwrap();
    let target = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    let blob = hsm
        .wrap_with_rsa(mk("t", &target), &public, HashAlg::Sha1)
        .unwrap();
    assert_eq!(blob.len(), 256);
    let back = hsm
        .unwrap_with_rsa(
            &blob,
            mk("rsa", &rsa),
            HashAlg::Sha1,
            KeyKind::Aes,
            32,
            KeyUsage::encryption(),
        )
        .unwrap();
    assert_eq!(
        hsm.export_secret(&back).unwrap(),
        hsm.export_secret(&target).unwrap()
    );
    let sha256 = hsm.wrap_with_rsa(mk("t", &target), &public, HashAlg::Sha256);
    match t.kind {
        // SoftHSM 2.6.1 accepts OAEP only with SHA-1/MGF1-SHA1: the profile says so.
        Token::SoftHsm => assert!(
            matches!(sha256, Err(HsmError::MechanismUnsupported { .. })),
            "{sha256:?}"
        ),
        Token::Kryoptic => {
            let blob = sha256.unwrap();
            let back = hsm
                .unwrap_with_rsa(
                    &blob,
                    mk("rsa", &rsa),
                    HashAlg::Sha256,
                    KeyKind::Aes,
                    32,
                    KeyUsage::encryption(),
                )
                .unwrap();
            assert_eq!(
                hsm.export_secret(&back).unwrap(),
                hsm.export_secret(&target).unwrap()
            );
        }
    }
}

/// The profile's OAEP list is a measured fact: SoftHSM itself rejects SHA-256 OAEP.
#[test]
fn softhsm_rejects_oaep_sha256_at_the_token() {
    let t = TestToken::new();
    if t.kind != Token::SoftHsm {
        return;
    }
    let s = raw_session(&t);
    let (public, _private) = s
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::Token(false),
                Attribute::ModulusBits(2048.into()),
                Attribute::Encrypt(true),
            ],
            &[Attribute::Token(false), Attribute::Decrypt(true)],
        )
        .unwrap();
    use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
    use cryptoki::mechanism::MechanismType;
    let oaep = |h, m| Mechanism::RsaPkcsOaep(PkcsOaepParams::new(h, m, PkcsOaepSource::empty()));
    s.encrypt(
        &oaep(MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
        public,
        b"x",
    )
    .unwrap();
    assert!(s
        .encrypt(
            &oaep(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
            public,
            b"x"
        )
        .is_err());
}

// ---- digests, random, attributes ----------------------------------------------------------

#[test]
fn digests_of_data_and_of_keys() {
    let (_t, hsm) = TestToken::initialised();
    assert_eq!(
        hsm.digest(HashAlg::Sha256, b"abc").unwrap(),
        h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        hsm.digest(HashAlg::Sha1, b"abc").unwrap(),
        h("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    let value = h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    let wk = hsm
        .import_secret(KeyKind::Aes, &value, KeyUsage::encryption())
        .unwrap();
    assert_eq!(
        hsm.digest_key(&wk, HashAlg::Sha256).unwrap(),
        hsm.digest(HashAlg::Sha256, &value).unwrap()
    );
}

#[test]
fn random_bytes() {
    let (_t, hsm) = TestToken::initialised();
    let a = hsm.random(32).unwrap();
    let b = hsm.random(32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    assert!(hsm.random(2 * 1024 * 1024).is_err());
}

#[test]
fn export_reads_only_secret_keys() {
    let (_t, hsm) = TestToken::initialised();
    let (wk, _) = hsm
        .generate_key_pair(KeyPairSpec::Ec(Curve::P256), KeyUsage::signing())
        .unwrap();
    assert!(matches!(
        hsm.export_secret(&wk),
        Err(HsmError::InvalidArgument(_))
    ));
    let aes = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    let v = hsm.export_secret(&aes).unwrap();
    assert_eq!(v.len(), 32);
    assert!(!format!("{v:?}").contains(&hex::encode(v.expose())));
}

// ---- cache --------------------------------------------------------------------------------

#[test]
fn handle_cache_reuses_bounds_and_invalidates() {
    let t = TestToken::new();
    let hsm = t.open_with(HsmOptions {
        sessions: 1,
        cache: CacheLimits {
            max_entries: 2,
            max_age: std::time::Duration::from_secs(60),
        },
    });
    hsm.init_master_keys().unwrap();
    let wk = hsm
        .generate_secret(KeyKind::Aes, 16, KeyUsage::encryption())
        .unwrap();
    let c = Cipher::AesEcb;
    let d = [0u8; 16];
    hsm.encrypt(mk("a", &wk), &c, &d).unwrap();
    hsm.encrypt(mk("a", &wk), &c, &d).unwrap();
    assert_eq!(hsm.cached_handles(), 1);
    hsm.encrypt(mk("b", &wk), &c, &d).unwrap();
    hsm.encrypt(mk("c", &wk), &c, &d).unwrap();
    assert_eq!(hsm.cached_handles(), 2, "bounded by count");
    hsm.invalidate("c");
    assert_eq!(hsm.cached_handles(), 1);
    // The invalidated copy is destroyed in the token on the next use of its session.
    hsm.encrypt(mk("b", &wk), &c, &d).unwrap();
    let s = raw_session(&t);
    let session_keys = s
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Token(false),
        ])
        .unwrap();
    assert_eq!(session_keys.len(), 1, "only b's copy is left in the HSM");
}

// ---- recovery from real faults ------------------------------------------------------------

#[test]
fn recovers_after_all_sessions_are_closed() {
    let (t, hsm) = TestToken::initialised();
    let wk = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    let c = Cipher::AesCbcPad { iv: [3; 16] };
    let ct = hsm.encrypt(mk("k", &wk), &c, b"before").unwrap();
    assert_eq!(hsm.cached_handles(), 1);
    fault::close_all_sessions(&t.module, LABEL);
    let e = hsm.decrypt(mk("k", &wk), &c, &ct).unwrap_err();
    assert!(
        matches!(
            e,
            HsmError::SessionLost {
                recovered: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("retry"), "{e}");
    assert_eq!(hsm.cached_handles(), 0, "cache cleared on session loss");
    // The next request works: new session, logged in again, key unwrapped again.
    assert_eq!(hsm.decrypt(mk("k", &wk), &c, &ct).unwrap(), b"before");
    hsm.generate_secret(KeyKind::Aes, 16, KeyUsage::encryption())
        .unwrap();
}

#[test]
fn recovers_after_logout() {
    let (t, hsm) = TestToken::initialised();
    let wk = hsm
        .generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
        .unwrap();
    let c = Cipher::AesEcb;
    let ct = hsm.encrypt(mk("k", &wk), &c, &[1; 16]).unwrap();
    fault::logout(&t.module, LABEL);
    let e = hsm.decrypt(mk("k", &wk), &c, &ct).unwrap_err();
    assert!(
        matches!(
            e,
            HsmError::SessionLost {
                recovered: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(hsm.decrypt(mk("k", &wk), &c, &ct).unwrap(), vec![1; 16]);
    // Master keys are found again after the re-login.
    let mac = hsm.mac_record(b"r").unwrap();
    hsm.verify_record(b"r", &mac).unwrap();
}

#[test]
fn concurrent_requests_share_the_pool() {
    let (_t, hsm) = TestToken::initialised();
    let hsm = Arc::new(hsm);
    let wk = Arc::new(
        hsm.generate_secret(KeyKind::Aes, 32, KeyUsage::encryption())
            .unwrap(),
    );
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let (hsm, wk) = (hsm.clone(), wk.clone());
            std::thread::spawn(move || {
                let c = Cipher::AesGcm {
                    iv: vec![i as u8; 12],
                    aad: vec![],
                    tag_bits: 128,
                };
                for n in 0..50u32 {
                    let data = n.to_be_bytes();
                    let ct = hsm.encrypt(mk("k", &wk), &c, &data).unwrap();
                    assert_eq!(hsm.decrypt(mk("k", &wk), &c, &ct).unwrap(), data);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(hsm.cached_handles() <= HsmOptions::default().sessions);
}
