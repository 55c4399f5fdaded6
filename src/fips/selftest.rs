//! Known-answer self-checks through the HSM, run at start-up in FIPS mode, of every mechanism
//! the configuration needs: AES-256-GCM encryption and decryption (the service's Encrypt and
//! Decrypt), AES key wrap with padding (KWP, the profile's KEK wrap mechanism) wrapping and
//! unwrapping, and HMAC-SHA-256 (the record MAC). Each fixed test key is imported as a session
//! object with [`Hsm::import_secret`] (wrapped under the KEK like any key), used through the
//! public `hsm` API under a reserved identifier, and dropped from the handle cache afterwards.
//!
//! The vectors: NIST's GCM test case 16 (the GCM specification's appendix, also in the CAVP
//! GCMVS files); the KWP and HMAC-SHA-256 values computed with independent implementations
//! (pyca/cryptography's `aes_key_wrap_with_padding`, which reproduces RFC 5649 §6's examples, and
//! Python's `hmac`), and reproduced by AWS-LC in a unit test.
//!
//! [`KnownAnswers`] holds the vectors with public fields, so a test can inject a wrong expected
//! value and see start-up stop with the check's name.

use crate::hsm::{Cipher, HashAlg, Hsm, HsmError, KeyKind, KeyUsage, MacAlg, ManagedKey};

use super::FipsError;

/// The identifiers the self-checks use in the handle cache (a NUL cannot start a client's).
const GCM_ID: &str = "\u{0}fips-kat-gcm";
const WRAPPING_ID: &str = "\u{0}fips-kat-kwp";
const UNWRAPPED_ID: &str = "\u{0}fips-kat-kwp-unwrapped";
const HMAC_ID: &str = "\u{0}fips-kat-hmac";

/// The names of the checks, as start-up failures report them.
pub const AES_GCM_ENCRYPT: &str = "AES-256-GCM encrypt";
pub const AES_GCM_DECRYPT: &str = "AES-256-GCM decrypt";
pub const KWP_WRAP: &str = "AES-KWP wrap";
pub const KWP_UNWRAP: &str = "AES-KWP unwrap";
pub const HMAC_SHA256: &str = "HMAC-SHA-256";

/// A check that passed.
pub type SelfCheck = &'static str;

/// The known-answer vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownAnswers {
    /// GCM test case 16: key, IV, AAD, plaintext, ciphertext || tag.
    pub gcm_key: Vec<u8>,
    pub gcm_iv: Vec<u8>,
    pub gcm_aad: Vec<u8>,
    pub gcm_plaintext: Vec<u8>,
    pub gcm_ciphertext_and_tag: Vec<u8>,
    /// The AES-256 wrapping key; KWP of `gcm_key` under it.
    pub kwp_key: Vec<u8>,
    pub kwp_wrapped_gcm_key: Vec<u8>,
    /// A 256-bit HMAC key (SoftHSM refuses HMAC-SHA-256 keys shorter than 32 bytes, so RFC 4231's
    /// 20-byte case 1 cannot be used), "Hi There", and its HMAC-SHA-256.
    pub hmac_key: Vec<u8>,
    pub hmac_data: Vec<u8>,
    pub hmac_sha256: Vec<u8>,
}

fn unhex(s: &str) -> Vec<u8> {
    // The constants below are valid hex: checked by `standard_vectors_are_well_formed`.
    hex::decode(s).unwrap_or_default()
}

impl KnownAnswers {
    /// The published vectors.
    pub fn standard() -> Self {
        KnownAnswers {
            gcm_key: unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"),
            gcm_iv: unhex("cafebabefacedbaddecaf888"),
            gcm_aad: unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2"),
            gcm_plaintext: unhex(
                "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                 1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            ),
            gcm_ciphertext_and_tag: unhex(
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
                 76fc6ece0f4e1768cddf8853bb2d551b",
            ),
            kwp_key: unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            kwp_wrapped_gcm_key: unhex(
                "3dbf791367fad871f850a0338abec065cc121a0e3726e1498b44e66f982974b2\
                 acd1de68c9186d20",
            ),
            hmac_key: unhex("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"),
            hmac_data: b"Hi There".to_vec(),
            hmac_sha256: unhex("a25fde0875403607a241ee0eb4c6f0a9c5d601aed7ae35028ddd91e3accc9ac8"),
        }
    }
}

fn failed(check: &'static str) -> impl Fn(HsmError) -> FipsError {
    move |e| FipsError::KnownAnswer {
        check,
        detail: format!("the HSM failed: {e}"),
    }
}

fn compare(check: &'static str, got: &[u8], expected: &[u8]) -> Result<SelfCheck, FipsError> {
    if got == expected {
        return Ok(check);
    }
    Err(FipsError::KnownAnswer {
        check,
        detail: format!(
            "the HSM answered {} where the known answer is {}",
            hex::encode(got),
            hex::encode(expected)
        ),
    })
}

/// Runs every check; the first failure stops with its name. Returns the checks that passed.
pub fn run(hsm: &Hsm, a: &KnownAnswers) -> Result<Vec<SelfCheck>, FipsError> {
    let result = run_checks(hsm, a);
    for id in [GCM_ID, WRAPPING_ID, UNWRAPPED_ID, HMAC_ID] {
        hsm.invalidate(id);
    }
    result
}

fn run_checks(hsm: &Hsm, a: &KnownAnswers) -> Result<Vec<SelfCheck>, FipsError> {
    let mut passed = Vec::new();
    let gcm = Cipher::AesGcm {
        iv: a.gcm_iv.clone(),
        aad: a.gcm_aad.clone(),
        tag_bits: 128,
    };
    let gcm_usage = KeyUsage {
        encrypt: true,
        decrypt: true,
        ..KeyUsage::default()
    };
    let gcm_key = hsm
        .import_secret(KeyKind::Aes, &a.gcm_key, gcm_usage)
        .map_err(failed(AES_GCM_ENCRYPT))?;
    let gcm_managed = ManagedKey {
        unique_id: GCM_ID,
        wrapped: &gcm_key,
    };
    let ct = hsm
        .encrypt(gcm_managed, &gcm, &a.gcm_plaintext)
        .map_err(failed(AES_GCM_ENCRYPT))?;
    passed.push(compare(AES_GCM_ENCRYPT, &ct, &a.gcm_ciphertext_and_tag)?);
    let pt = hsm
        .decrypt(gcm_managed, &gcm, &a.gcm_ciphertext_and_tag)
        .map_err(failed(AES_GCM_DECRYPT))?;
    passed.push(compare(AES_GCM_DECRYPT, &pt, &a.gcm_plaintext)?);

    // KWP: wrap the GCM key under the wrapping key, then unwrap the known blob and prove the
    // result is the GCM key by encrypting the GCM vector with it (no plaintext export needed).
    let wrapping = hsm
        .import_secret(KeyKind::Aes, &a.kwp_key, KeyUsage::wrapping())
        .map_err(failed(KWP_WRAP))?;
    let wrapping_managed = ManagedKey {
        unique_id: WRAPPING_ID,
        wrapped: &wrapping,
    };
    let blob = hsm
        .wrap_with_key(gcm_managed, wrapping_managed)
        .map_err(failed(KWP_WRAP))?;
    passed.push(compare(KWP_WRAP, &blob, &a.kwp_wrapped_gcm_key)?);
    let unwrapped = hsm
        .unwrap_with_key(
            &a.kwp_wrapped_gcm_key,
            wrapping_managed,
            KeyKind::Aes,
            32,
            gcm_usage,
        )
        .map_err(failed(KWP_UNWRAP))?;
    let ct = hsm
        .encrypt(
            ManagedKey {
                unique_id: UNWRAPPED_ID,
                wrapped: &unwrapped,
            },
            &gcm,
            &a.gcm_plaintext,
        )
        .map_err(failed(KWP_UNWRAP))?;
    passed.push(compare(KWP_UNWRAP, &ct, &a.gcm_ciphertext_and_tag)?);

    let hmac_key = hsm
        .import_secret(KeyKind::GenericSecret, &a.hmac_key, KeyUsage::signing())
        .map_err(failed(HMAC_SHA256))?;
    let mac = hsm
        .mac(
            ManagedKey {
                unique_id: HMAC_ID,
                wrapped: &hmac_key,
            },
            MacAlg::Hmac(HashAlg::Sha256),
            &a.hmac_data,
        )
        .map_err(failed(HMAC_SHA256))?;
    passed.push(compare(HMAC_SHA256, &mac, &a.hmac_sha256)?);
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_vectors_are_well_formed() {
        let a = KnownAnswers::standard();
        assert_eq!(a.gcm_key.len(), 32);
        assert_eq!(a.gcm_iv.len(), 12);
        assert_eq!(a.gcm_plaintext.len(), 60);
        assert_eq!(a.gcm_ciphertext_and_tag.len(), 76);
        assert_eq!(a.kwp_key.len(), 32);
        // KWP of 32 bytes: 8-byte integrity block + 32 bytes.
        assert_eq!(a.kwp_wrapped_gcm_key.len(), 40);
        assert_eq!(a.hmac_sha256.len(), 32);
    }

    /// The vectors are independent of the HSM: AWS-LC (the FIPS module in a fips build)
    /// reproduces them too.
    #[test]
    fn aws_lc_reproduces_the_vectors() {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
        use aws_lc_rs::key_wrap::{AesKek, KeyWrapPadded, AES_256};
        let a = KnownAnswers::standard();
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &a.gcm_key).unwrap());
        let mut buf = a.gcm_plaintext.clone();
        key.seal_in_place_append_tag(
            Nonce::try_assume_unique_for_key(&a.gcm_iv).unwrap(),
            Aad::from(&a.gcm_aad),
            &mut buf,
        )
        .unwrap();
        assert_eq!(buf, a.gcm_ciphertext_and_tag);
        let kek = AesKek::new(&AES_256, &a.kwp_key).unwrap();
        let mut out = vec![0u8; 48];
        let wrapped = kek.wrap_with_padding(&a.gcm_key, &mut out).unwrap();
        assert_eq!(wrapped, &a.kwp_wrapped_gcm_key[..]);
        let tag = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &a.hmac_key),
            &a.hmac_data,
        );
        assert_eq!(tag.as_ref(), &a.hmac_sha256[..]);
    }
}
