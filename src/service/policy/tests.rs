use super::*;
use crate::kmip::attributes::{to_v2_attributes, Attribute};
use crate::kmip::RequestPayload;
use crate::ttlv::enums::{CryptographicAlgorithm as A, Operation};
use crate::ttlv::{Item, Tag, Value};

fn policy() -> Policy {
    Policy::enforced().expect("the embedded table loads")
}

const ENC_DEC: u32 = usage::ENCRYPT | usage::DECRYPT;

fn refused_key(a: A, len: Option<u32>, usage_mask: u32) -> String {
    policy()
        .check_key(a, len, usage_mask)
        .expect_err("refused")
        .to_string()
}

fn params() -> CryptoParameters {
    CryptoParameters::default()
}

fn key(a: A, len: u32) -> KeyFacts {
    KeyFacts {
        algorithm: a,
        length_bits: Some(len),
        curve: None,
    }
}

#[test]
fn embedded_table_is_the_file_in_fips_dir() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fips/approved.toml");
    let on_disk = std::fs::read_to_string(path).unwrap();
    assert_eq!(APPROVED_TOML, on_disk);
    Table::parse(&on_disk).unwrap();
}

#[test]
fn fips_readme_quotes_the_table_the_code_loads() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fips/README.md")).unwrap();
    assert!(readme.contains("approved.toml"));
    // Every refused algorithm the README names is refused by the table the code loads.
    let p = policy();
    for (name, a) in [
        ("DES", A::DES),
        ("Blowfish", A::BLOWFISH),
        ("RC2", A::RC2),
        ("RC4", A::RC4),
        ("CAST5", A::CAST5),
        ("SKIPJACK", A::SKIPJACK),
        ("HMAC-MD5", A::HMAC_MD5),
    ] {
        assert!(readme.contains(name), "fips/README.md should list {name}");
        assert!(p.check_key(a, None, ENC_DEC).is_err(), "{name}");
    }
}

#[test]
fn off_policy_allows_everything() {
    let p = Policy::off();
    assert!(!p.is_enforced());
    p.check_key(A::BLOWFISH, Some(128), ENC_DEC).unwrap();
    p.check_key(A::RSA, Some(1024), usage::SIGN).unwrap();
    p.check_operation(
        CryptoOperation::Encrypt,
        Some(&key(A::RSA, 1024)),
        &CryptoParameters {
            padding_method: Some(PaddingMethod::PKCS1_V1_5),
            ..params()
        },
    )
    .unwrap();
}

#[test]
fn rejects_each_disallowed_cipher_with_its_name_and_reference() {
    for (a, name) in [
        (A::DES, "DES"),
        (A::RC2, "RC2"),
        (A::RC4, "RC4"),
        (A::BLOWFISH, "Blowfish"),
        (A::CAST5, "CAST5"),
        (A::SKIPJACK, "SKIPJACK"),
        (A::HMAC_MD5, "HMAC-MD5"),
        (A::IDEA, "IDEA"),
        (A::CHA_CHA20, "ChaCha20"),
        (A::ED25519, "Ed25519"),
    ] {
        let e = refused_key(a, Some(128), ENC_DEC);
        assert!(
            e.starts_with(&format!("not approved in FIPS mode: {name}: disallowed [")),
            "{e}"
        );
    }
    assert_eq!(
        refused_key(A::BLOWFISH, Some(128), ENC_DEC),
        "not approved in FIPS mode: Blowfish: disallowed [not a NIST-approved block cipher \
         (SP 800-140C; SP 800-131A Rev. 2 §2 lists AES and TDEA only)]"
    );
}

#[test]
fn rejects_3des_for_encryption_and_accepts_legacy_decryption() {
    assert_eq!(
        refused_key(A::DES3, Some(168), ENC_DEC),
        "not approved in FIPS mode: 3DES keys for Encrypt, Decrypt: legacy use only (Decrypt, \
         UnwrapKey) [SP 800-131A Rev. 2 §2: TDEA encryption disallowed after 2023-12-31, \
         decryption of existing data is legacy use only; SP 800-67 Rev. 2 withdrawn]"
    );
    // A usage mask left out cannot be legacy-only.
    assert!(refused_key(A::DES3, Some(168), 0).contains("3DES keys"));
    let p = policy();
    p.check_key(A::DES3, Some(168), usage::DECRYPT).unwrap();
    let des3 = key(A::DES3, 168);
    p.check_operation(CryptoOperation::Decrypt, Some(&des3), &params())
        .unwrap();
    let e = p
        .check_operation(CryptoOperation::Encrypt, Some(&des3), &params())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not approved in FIPS mode: 3DES for Encrypt: legacy use only"),
        "{e}"
    );
}

#[test]
fn rejects_short_rsa_and_hmac_keys_and_wrong_aes_lengths() {
    assert_eq!(
        refused_key(A::RSA, Some(1024), usage::SIGN),
        "not approved in FIPS mode: RSA-1024: RSA keys need 2048 to 16384 bits [FIPS 186-5 §5; \
         SP 800-131A Rev. 2 §3 and §6 (moduli below 2048 bits give less than 112 bits of \
         security: disallowed)]"
    );
    assert!(refused_key(A::RSA, Some(2047), usage::SIGN).contains("RSA-2047"));
    assert!(
        refused_key(A::HMAC_SHA256, Some(64), usage::MAC_GENERATE).starts_with(
            "not approved in FIPS mode: HMAC-SHA-256-64: HMAC-SHA-256 keys need at least 112 bits"
        )
    );
    assert!(refused_key(A::AES, Some(64), ENC_DEC)
        .starts_with("not approved in FIPS mode: AES-64: AES keys are 128, 192, 256 bits"));
    // An RSA-1024 key cannot be used either.
    let e = policy()
        .check_operation(
            CryptoOperation::SignatureVerify,
            Some(&key(A::RSA, 1024)),
            &params(),
        )
        .unwrap_err();
    assert_eq!(e.subject, "RSA-1024");
}

#[test]
fn accepts_every_approved_key() {
    let p = policy();
    for len in [128, 192, 256] {
        p.check_key(A::AES, Some(len), ENC_DEC | usage::WRAP_KEY)
            .unwrap();
    }
    for len in [2048, 3072, 4096] {
        p.check_key(A::RSA, Some(len), usage::SIGN | usage::VERIFY)
            .unwrap();
        p.check_key(A::RSA, Some(len), ENC_DEC).unwrap();
    }
    for a in [
        A::HMAC_SHA1,
        A::HMAC_SHA224,
        A::HMAC_SHA256,
        A::HMAC_SHA384,
        A::HMAC_SHA512,
    ] {
        p.check_key(a, Some(256), usage::MAC_GENERATE | usage::MAC_VERIFY)
            .unwrap();
    }
    for c in [
        RecommendedCurve::P_256,
        RecommendedCurve::P_384,
        RecommendedCurve::P_521,
    ] {
        p.check_key(A::ECDSA, Some(256), usage::SIGN).unwrap();
        p.check_key(A::EC, None, usage::SIGN).unwrap();
        p.check_curve(c).unwrap();
    }
}

#[test]
fn rejects_curves_outside_the_table() {
    let p = policy();
    let e = p
        .check_curve(RecommendedCurve::P_192)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not approved in FIPS mode: P-192: disallowed"),
        "{e}"
    );
    let e = p
        .check_curve(RecommendedCurve::BRAINPOOLP256_R1)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not approved in FIPS mode: BRAINPOOLP256R1: not in the approved"),
        "{e}"
    );
}

#[test]
fn accepts_every_approved_aes_mode() {
    let p = policy();
    let aes = key(A::AES, 256);
    let mode = |m| CryptoParameters {
        block_cipher_mode: Some(m),
        ..params()
    };
    for m in [
        BlockCipherMode::GCM,
        BlockCipherMode::CBC,
        BlockCipherMode::CTR,
    ] {
        p.check_operation(CryptoOperation::Encrypt, Some(&aes), &mode(m))
            .unwrap();
        p.check_operation(CryptoOperation::Decrypt, Some(&aes), &mode(m))
            .unwrap();
    }
    for m in [
        BlockCipherMode::NIST_KEY_WRAP,
        BlockCipherMode::AES_KEY_WRAP_PADDING,
        BlockCipherMode::ECB,
    ] {
        p.check_operation(CryptoOperation::WrapKey, Some(&aes), &mode(m))
            .unwrap();
        p.check_operation(CryptoOperation::UnwrapKey, Some(&aes), &mode(m))
            .unwrap();
    }
    p.check_operation(
        CryptoOperation::Mac,
        Some(&aes),
        &mode(BlockCipherMode::CMAC),
    )
    .unwrap();
    let cbc_pad = CryptoParameters {
        block_cipher_mode: Some(BlockCipherMode::CBC),
        padding_method: Some(PaddingMethod::PKCS5),
        ..params()
    };
    p.check_operation(CryptoOperation::Encrypt, Some(&aes), &cbc_pad)
        .unwrap();
}

#[test]
fn rejects_ecb_encryption_and_unlisted_modes() {
    let p = policy();
    let aes = key(A::AES, 256);
    let e = p
        .check_operation(
            CryptoOperation::Encrypt,
            Some(&aes),
            &CryptoParameters {
                block_cipher_mode: Some(BlockCipherMode::ECB),
                ..params()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "not approved in FIPS mode: ECB for Encrypt: approved only for WrapKey, UnwrapKey"
        ),
        "{e}"
    );
    let e = p
        .check_operation(
            CryptoOperation::Encrypt,
            Some(&aes),
            &CryptoParameters {
                block_cipher_mode: Some(BlockCipherMode::PCBC),
                ..params()
            },
        )
        .unwrap_err();
    assert_eq!(e.subject, "PCBC");
    let short_tag = CryptoParameters {
        block_cipher_mode: Some(BlockCipherMode::GCM),
        tag_length: Some(8),
        ..params()
    };
    let e = p
        .check_operation(CryptoOperation::Encrypt, Some(&aes), &short_tag)
        .unwrap_err();
    assert_eq!(e.subject, "a 64-bit GCM tag");
}

#[test]
fn rejects_rsa_pkcs1_v15_encryption_and_accepts_its_signatures() {
    let p = policy();
    let rsa = key(A::RSA, 2048);
    let pkcs1 = CryptoParameters {
        padding_method: Some(PaddingMethod::PKCS1_V1_5),
        hashing_algorithm: Some(HashingAlgorithm::SHA_256),
        ..params()
    };
    for op in [CryptoOperation::Encrypt, CryptoOperation::Decrypt] {
        let e = p
            .check_operation(op, Some(&rsa), &pkcs1)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "not approved in FIPS mode: RSA PKCS#1 v1.5 for {}: approved only for Sign, \
                 SignatureVerify",
                op.name()
            )),
            "{e}"
        );
    }
    // Without the key (a request checked before dispatch), the padding alone decides.
    assert!(p
        .check_operation(CryptoOperation::Encrypt, None, &pkcs1)
        .is_err());
    p.check_operation(CryptoOperation::Sign, Some(&rsa), &pkcs1)
        .unwrap();
    p.check_operation(CryptoOperation::SignatureVerify, Some(&rsa), &pkcs1)
        .unwrap();
    for (op, padding) in [
        (CryptoOperation::Encrypt, PaddingMethod::OAEP),
        (CryptoOperation::Decrypt, PaddingMethod::OAEP),
        (CryptoOperation::WrapKey, PaddingMethod::OAEP),
        (CryptoOperation::Sign, PaddingMethod::PSS),
        (CryptoOperation::SignatureVerify, PaddingMethod::PSS),
    ] {
        for h in [HashingAlgorithm::SHA_256, HashingAlgorithm::SHA_512] {
            let params = CryptoParameters {
                padding_method: Some(padding),
                hashing_algorithm: Some(h),
                mask_generator_hashing_algorithm: Some(h),
                ..params()
            };
            p.check_operation(op, Some(&rsa), &params).unwrap();
        }
    }
    // OAEP with SHA-1 is acceptable (not a signature).
    p.check_operation(
        CryptoOperation::Decrypt,
        Some(&rsa),
        &CryptoParameters {
            padding_method: Some(PaddingMethod::OAEP),
            hashing_algorithm: Some(HashingAlgorithm::SHA_1),
            ..params()
        },
    )
    .unwrap();
    let e = p
        .check_operation(
            CryptoOperation::Encrypt,
            Some(&rsa),
            &CryptoParameters {
                padding_method: Some(PaddingMethod::NONE),
                ..params()
            },
        )
        .unwrap_err();
    assert_eq!(e.subject, "raw RSA (no padding)");
}

#[test]
fn rejects_sha1_and_md5_signatures_and_accepts_sha1_verification() {
    let p = policy();
    let ec = KeyFacts {
        algorithm: A::ECDSA,
        length_bits: Some(256),
        curve: Some(RecommendedCurve::P_256),
    };
    let sha1 = CryptoParameters {
        hashing_algorithm: Some(HashingAlgorithm::SHA_1),
        ..params()
    };
    let e = p
        .check_operation(CryptoOperation::Sign, Some(&ec), &sha1)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "not approved in FIPS mode: SHA-1 signatures: signature generation disallowed"
        ),
        "{e}"
    );
    p.check_operation(CryptoOperation::SignatureVerify, Some(&ec), &sha1)
        .unwrap();
    let dsa = |d| CryptoParameters {
        digital_signature_algorithm: Some(d),
        ..params()
    };
    let e = p
        .check_operation(
            CryptoOperation::Sign,
            Some(&key(A::RSA, 2048)),
            &dsa(DigitalSignatureAlgorithm::SHA_1_WITH_RSA_ENCRYPTION),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not approved in FIPS mode: RSA with SHA-1 for Sign: legacy use only"),
        "{e}"
    );
    let e = p
        .check_operation(
            CryptoOperation::SignatureVerify,
            Some(&key(A::RSA, 2048)),
            &dsa(DigitalSignatureAlgorithm::MD5_WITH_RSA_ENCRYPTION),
        )
        .unwrap_err();
    assert_eq!(e.subject, "RSA with MD5");
    let md5 = CryptoParameters {
        hashing_algorithm: Some(HashingAlgorithm::MD5),
        ..params()
    };
    let e = p
        .check_operation(CryptoOperation::SignatureVerify, Some(&ec), &md5)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not approved in FIPS mode: MD5: disallowed"),
        "{e}"
    );
    for d in [
        DigitalSignatureAlgorithm::SHA_256_WITH_RSA_ENCRYPTION,
        DigitalSignatureAlgorithm::RSASSA_PSS,
        DigitalSignatureAlgorithm::ECDSA_WITH_SHA256,
        DigitalSignatureAlgorithm::ECDSA_WITH_SHA384,
        DigitalSignatureAlgorithm::ECDSA_WITH_SHA512,
    ] {
        p.check_operation(CryptoOperation::Sign, None, &dsa(d))
            .unwrap();
    }
}

#[test]
fn accepts_hmac_sha1_and_sha2_and_rejects_hmac_md5() {
    let p = policy();
    for a in [
        A::HMAC_SHA1,
        A::HMAC_SHA224,
        A::HMAC_SHA256,
        A::HMAC_SHA384,
        A::HMAC_SHA512,
    ] {
        p.check_operation(CryptoOperation::Mac, Some(&key(a, 256)), &params())
            .unwrap();
        p.check_operation(
            CryptoOperation::MacVerify,
            None,
            &CryptoParameters {
                cryptographic_algorithm: Some(a),
                ..params()
            },
        )
        .unwrap();
    }
    let e = p
        .check_operation(
            CryptoOperation::Mac,
            None,
            &CryptoParameters {
                cryptographic_algorithm: Some(A::HMAC_MD5),
                ..params()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not approved in FIPS mode: HMAC-MD5: disallowed"),
        "{e}"
    );
}

#[test]
fn every_table_entry_behaves_as_its_status_says() {
    let p = policy();
    let t = p.table().unwrap();
    for (value, rule) in &t.algorithms {
        let len = rule
            .lengths
            .first()
            .copied()
            .or(rule.min_length)
            .or(Some(256));
        let r = p.check_key(A(*value), len, ENC_DEC);
        match rule.status {
            Status::Approved => r.unwrap(),
            Status::Legacy | Status::Disallowed => {
                let e = r.unwrap_err();
                assert!(e.subject.starts_with(&rule.name), "{e}");
                assert_eq!(e.reference, rule.reference);
            }
        }
    }
    for (value, rule) in &t.hashes {
        let r = p.check_parameters(
            None,
            None,
            &CryptoParameters {
                hashing_algorithm: Some(HashingAlgorithm(*value)),
                ..params()
            },
        );
        assert_eq!(r.is_ok(), rule.status == Status::Approved, "{}", rule.name);
    }
    for (value, rule) in &t.curves {
        let r = p.check_curve(RecommendedCurve(*value));
        assert_eq!(r.is_ok(), rule.status == Status::Approved, "{}", rule.name);
    }
    for (value, rule) in &t.signatures {
        let r = p.check_operation(
            CryptoOperation::Sign,
            None,
            &CryptoParameters {
                digital_signature_algorithm: Some(DigitalSignatureAlgorithm(*value)),
                ..params()
            },
        );
        assert_eq!(r.is_ok(), rule.status == Status::Approved, "{}", rule.name);
    }
}

#[test]
fn rejects_unlisted_vendor_values() {
    let e = refused_key(A(0x8000_0001), Some(128), ENC_DEC);
    assert!(
        e.starts_with(
            "not approved in FIPS mode: CryptographicAlgorithm 0x80000001: not in the approved"
        ),
        "{e}"
    );
}

#[test]
fn rejects_broken_tables() {
    let base = "version = 1\n";
    let e = Table::parse(&format!(
        "{base}[[algorithm]]\nkmip = \"AESX\"\nname = \"x\"\nstatus = \"approved\"\nreference = \"r\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("\"AESX\" is not a KMIP CryptographicAlgorithm name"),
        "{e}"
    );
    let e = Table::parse(&format!(
        "{base}[[algorithm]]\nkmip = \"DES3\"\nname = \"x\"\nstatus = \"legacy\"\nreference = \"r\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("legacy_usages"), "{e}");
    let e = Table::parse(&format!(
        "{base}[[algorithm]]\nkmip = \"AES\"\nname = \"x\"\nstatus = \"approved\"\nreference = \"r\"\n\
         [[algorithm]]\nkmip = \"AES\"\nname = \"y\"\nstatus = \"approved\"\nreference = \"r\"\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("listed twice"), "{e}");
    let e = Table::parse("version = 1\nbogus = 2\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("bogus"), "{e}");
}

// ---- the request scan (what the service applies before dispatch)

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

/// A KMIP 1.x Create of a symmetric key (DataStax/Cryptsoft shape).
fn create_v1(algorithm: A, length: i32, usage_mask: i32) -> RequestPayload {
    RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![
            enumeration(Tag::OBJECT_TYPE, 2),
            Item::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![
                    v1_attribute("Cryptographic Algorithm", Value::Enumeration(algorithm.0)),
                    v1_attribute("Cryptographic Length", Value::Integer(length)),
                    v1_attribute("Cryptographic Usage Mask", Value::Integer(usage_mask)),
                ],
            ),
        ],
    ))
}

/// A KMIP 2.x Create.
fn create_v2(algorithm: A, length: i32, usage_mask: i32) -> RequestPayload {
    RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![
            enumeration(Tag::OBJECT_TYPE, 2),
            to_v2_attributes(
                Tag::ATTRIBUTES,
                &[
                    Attribute::new(
                        Tag::CRYPTOGRAPHIC_ALGORITHM,
                        Value::Enumeration(algorithm.0),
                    ),
                    Attribute::new(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(length)),
                    Attribute::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, Value::Integer(usage_mask)),
                ],
            ),
        ],
    ))
}

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

#[test]
fn request_scan_refuses_disallowed_creates_in_both_forms() {
    let p = policy();
    for (a, len, name) in [
        (A::DES, 56, "DES"),
        (A::DES3, 168, "3DES keys for Encrypt, Decrypt"),
        (A::BLOWFISH, 128, "Blowfish"),
        (A::RC2, 128, "RC2"),
        (A::RSA, 1024, "RSA-1024"),
    ] {
        for payload in [create_v1(a, len, 12), create_v2(a, len, 12)] {
            let op = if a == A::RSA {
                Operation::CREATE_KEY_PAIR
            } else {
                Operation::CREATE
            };
            let e = p.check_request(op, &payload).unwrap_err();
            assert_eq!(e.subject, name);
        }
    }
    p.check_request(Operation::CREATE, &create_v1(A::AES, 256, 12))
        .unwrap();
    p.check_request(Operation::CREATE, &create_v2(A::AES, 128, 12))
        .unwrap();
    p.check_request(Operation::REGISTER, &create_v1(A::AES, 192, 12))
        .unwrap();
    // Locate by algorithm is a search, not a use.
    p.check_request(Operation::LOCATE, &create_v1(A::DES, 56, 12))
        .unwrap();
    // Off: everything passes.
    Policy::off()
        .check_request(Operation::CREATE, &create_v1(A::DES, 56, 12))
        .unwrap();
}

#[test]
fn request_scan_refuses_hmac_md5_mac_and_pkcs1_encrypt() {
    let p = policy();
    let mac_md5 = with_parameters(vec![enumeration(
        Tag::CRYPTOGRAPHIC_ALGORITHM,
        A::HMAC_MD5.0,
    )]);
    let e = p.check_request(Operation::MAC, &mac_md5).unwrap_err();
    assert_eq!(e.subject, "HMAC-MD5");
    let pkcs1 = with_parameters(vec![
        enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, A::RSA.0),
        enumeration(Tag::PADDING_METHOD, PaddingMethod::PKCS1_V1_5.0),
    ]);
    let e = p.check_request(Operation::ENCRYPT, &pkcs1).unwrap_err();
    assert_eq!(e.subject, "RSA PKCS#1 v1.5 for Encrypt");
    p.check_request(Operation::SIGN, &pkcs1).unwrap();
    let gcm = with_parameters(vec![
        enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, A::AES.0),
        enumeration(Tag::BLOCK_CIPHER_MODE, BlockCipherMode::GCM.0),
    ]);
    p.check_request(Operation::ENCRYPT, &gcm).unwrap();
    let ecb = with_parameters(vec![enumeration(
        Tag::BLOCK_CIPHER_MODE,
        BlockCipherMode::ECB.0,
    )]);
    assert!(p.check_request(Operation::ENCRYPT, &ecb).is_err());
}

#[test]
fn request_scan_checks_key_wrapping_specifications_as_wrapping() {
    let p = policy();
    let get = |mode: BlockCipherMode| {
        RequestPayload::Other(Item::structure(
            Tag::REQUEST_PAYLOAD,
            vec![
                Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString("k1".into())),
                Item::structure(
                    Tag::KEY_WRAPPING_SPECIFICATION,
                    vec![
                        enumeration(Tag::WRAPPING_METHOD, 1),
                        Item::structure(
                            Tag::ENCRYPTION_KEY_INFORMATION,
                            vec![
                                Item::new(Tag::UNIQUE_IDENTIFIER, Value::TextString("w".into())),
                                Item::structure(
                                    Tag::CRYPTOGRAPHIC_PARAMETERS,
                                    vec![enumeration(Tag::BLOCK_CIPHER_MODE, mode.0)],
                                ),
                            ],
                        ),
                    ],
                ),
            ],
        ))
    };
    // ECB is approved inside key wrapping only.
    p.check_request(Operation::GET, &get(BlockCipherMode::ECB))
        .unwrap();
    p.check_request(Operation::GET, &get(BlockCipherMode::AES_KEY_WRAP_PADDING))
        .unwrap();
    let e = p
        .check_request(Operation::GET, &get(BlockCipherMode::CMAC))
        .unwrap_err();
    assert_eq!(e.subject, "CMAC for WrapKey");
}

#[test]
fn request_scan_reads_curves_and_template_parameters() {
    let p = policy();
    let payload = RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![Item::structure(
            Tag::COMMON_TEMPLATE_ATTRIBUTE,
            vec![
                v1_attribute("Cryptographic Algorithm", Value::Enumeration(A::ECDSA.0)),
                v1_attribute(
                    "Recommended Curve",
                    Value::Enumeration(RecommendedCurve::SECP256_K1.0),
                ),
            ],
        )],
    ));
    let e = p
        .check_request(Operation::CREATE_KEY_PAIR, &payload)
        .unwrap_err();
    assert_eq!(e.subject, "secp256k1");
    // A Cryptographic Parameters attribute declared on a new key is checked too.
    let payload = RequestPayload::Other(Item::structure(
        Tag::REQUEST_PAYLOAD,
        vec![Item::structure(
            Tag::TEMPLATE_ATTRIBUTE,
            vec![
                v1_attribute("Cryptographic Algorithm", Value::Enumeration(A::AES.0)),
                v1_attribute("Cryptographic Length", Value::Integer(256)),
                v1_attribute("Cryptographic Usage Mask", Value::Integer(12)),
                v1_attribute(
                    "Cryptographic Parameters",
                    Value::Structure(vec![enumeration(
                        Tag::HASHING_ALGORITHM,
                        HashingAlgorithm::MD5.0,
                    )]),
                ),
            ],
        )],
    ));
    let e = p.check_request(Operation::CREATE, &payload).unwrap_err();
    assert_eq!(e.subject, "MD5");
}
