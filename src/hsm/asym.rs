//! Asymmetric operations: signatures (RSA PKCS#1 v1.5, RSA-PSS, ECDSA) over data or over a
//! digest the caller made, and RSA encryption (OAEP, PKCS#1 v1.5). Private keys are managed
//! keys (their cached, non-extractable copy); public keys are session objects created from the
//! stored public values for one call and destroyed after it.
//!
//! ECDSA signatures cross this API as PKCS#11 gives them: the raw `r ‖ s`, each half as long as
//! the curve's field. The DER form clients use is the caller's business.

use cryptoki::mechanism::rsa::{PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::Mechanism;

use super::keys::{hash_mechanism, mgf, public_template};
use super::ops::check_data;
use super::{HashAlg, Hsm, HsmError, KeyKind, ManagedKey, Op, PublicKey, SignAlg, Transient};

/// What is signed or verified: the message (hashed in the HSM) or its digest (made by the
/// client with the signature algorithm's hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInput<'a> {
    Data(&'a [u8]),
    Digest(&'a [u8]),
}

/// RSA encryption schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsaPadding<'a> {
    /// RSAES-OAEP; `mgf_hash` is MGF1's hash, `label` the encoding parameter (KMIP P Source;
    /// usually empty).
    Oaep {
        hash: HashAlg,
        mgf_hash: HashAlg,
        label: &'a [u8],
    },
    /// RSAES-PKCS1-v1_5.
    Pkcs1,
}

/// DER `DigestInfo` prefix of each hash (RFC 8017 §9.2 note 1): prepended to a digest for
/// raw `CKM_RSA_PKCS` signing.
fn digest_info_prefix(h: HashAlg) -> &'static [u8] {
    match h {
        HashAlg::Sha1 => &[
            0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
            0x14,
        ],
        HashAlg::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x04, 0x05, 0x00, 0x04, 0x1c,
        ],
        HashAlg::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
        HashAlg::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        HashAlg::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
    }
}

fn pss_params(h: HashAlg, salt_len: u32) -> PkcsPssParams {
    PkcsPssParams {
        hash_alg: hash_mechanism(h),
        mgf: mgf(h),
        s_len: u64::from(salt_len).into(),
    }
}

/// PSS's hash and salt length, if `alg` is PSS.
fn pss_of(alg: SignAlg) -> Option<(HashAlg, u32)> {
    match alg {
        SignAlg::RsaPss(h) => Some((h, h.output_len() as u32)),
        SignAlg::RsaPssSalt { hash, salt_len } => Some((hash, salt_len)),
        _ => None,
    }
}

/// The mechanism for signing the message itself. ECDSA has none here: the digest is made first
/// (`C_Digest`) and signed with raw `CKM_ECDSA`, which both SoftHSM and Kryoptic offer.
fn data_mechanism(alg: SignAlg) -> Result<Option<Mechanism<'static>>, HsmError> {
    Ok(Some(match alg {
        SignAlg::RsaPkcs1(HashAlg::Sha1) => Mechanism::Sha1RsaPkcs,
        SignAlg::RsaPkcs1(HashAlg::Sha224) => Mechanism::Sha224RsaPkcs,
        SignAlg::RsaPkcs1(HashAlg::Sha256) => Mechanism::Sha256RsaPkcs,
        SignAlg::RsaPkcs1(HashAlg::Sha384) => Mechanism::Sha384RsaPkcs,
        SignAlg::RsaPkcs1(HashAlg::Sha512) => Mechanism::Sha512RsaPkcs,
        SignAlg::RsaPss(_) | SignAlg::RsaPssSalt { .. } => {
            let Some((h, salt)) = pss_of(alg) else {
                return Ok(None);
            };
            let p = pss_params(h, salt);
            match h {
                HashAlg::Sha1 => Mechanism::Sha1RsaPkcsPss(p),
                HashAlg::Sha256 => Mechanism::Sha256RsaPkcsPss(p),
                HashAlg::Sha384 => Mechanism::Sha384RsaPkcsPss(p),
                HashAlg::Sha512 => Mechanism::Sha512RsaPkcsPss(p),
                // cryptoki names no CKM_SHA224_RSA_PKCS_PSS: hash first, then sign the digest.
                HashAlg::Sha224 => return Ok(None),
            }
        }
        SignAlg::Ecdsa(_) => return Ok(None),
    }))
}

/// The mechanism for signing a digest, and the bytes it signs (`DigestInfo ‖ digest` for
/// PKCS#1 v1.5).
fn digest_mechanism(
    alg: SignAlg,
    digest: &[u8],
) -> Result<(Mechanism<'static>, Vec<u8>), HsmError> {
    let h = sign_hash(alg);
    if digest.len() != h.output_len() {
        return Err(HsmError::InvalidArgument(
            "the digest's length is not the signature hash's output length",
        ));
    }
    Ok(match alg {
        SignAlg::RsaPkcs1(h) => {
            let mut input = digest_info_prefix(h).to_vec();
            input.extend_from_slice(digest);
            (Mechanism::RsaPkcs, input)
        }
        SignAlg::RsaPss(h) => (
            Mechanism::RsaPkcsPss(pss_params(h, h.output_len() as u32)),
            digest.to_vec(),
        ),
        SignAlg::RsaPssSalt { hash, salt_len } => (
            Mechanism::RsaPkcsPss(pss_params(hash, salt_len)),
            digest.to_vec(),
        ),
        SignAlg::Ecdsa(_) => (Mechanism::Ecdsa, digest.to_vec()),
    })
}

/// The hash a signature algorithm signs with.
pub fn sign_hash(alg: SignAlg) -> HashAlg {
    match alg {
        SignAlg::RsaPkcs1(h)
        | SignAlg::RsaPss(h)
        | SignAlg::RsaPssSalt { hash: h, .. }
        | SignAlg::Ecdsa(h) => h,
    }
}

fn check_sign_key(alg: SignAlg, kind: KeyKind) -> Result<(), HsmError> {
    match (alg, kind) {
        (
            SignAlg::RsaPkcs1(_) | SignAlg::RsaPss(_) | SignAlg::RsaPssSalt { .. },
            KeyKind::Rsa { .. },
        ) => Ok(()),
        (SignAlg::Ecdsa(_), KeyKind::Ec(_)) => Ok(()),
        _ => Err(HsmError::InvalidArgument(
            "the signature algorithm does not match the key type",
        )),
    }
}

fn public_kind(public: &PublicKey) -> KeyKind {
    match public {
        PublicKey::Rsa { .. } => KeyKind::Rsa { modulus_bits: 0 },
        PublicKey::Ec { curve, .. } => KeyKind::Ec(*curve),
    }
}

/// The mechanism and the bytes it takes, for `input`, within session `op`.
fn prepare(
    op: &Op<'_>,
    alg: SignAlg,
    input: SignInput<'_>,
) -> Result<(Mechanism<'static>, Vec<u8>), HsmError> {
    match input {
        SignInput::Digest(d) => digest_mechanism(alg, d),
        SignInput::Data(d) => match data_mechanism(alg)? {
            Some(m) => Ok((m, d.to_vec())),
            None => digest_mechanism(alg, &op.digest(sign_hash(alg), d)?),
        },
    }
}

fn input_bytes<'a>(input: SignInput<'a>) -> &'a [u8] {
    match input {
        SignInput::Data(d) | SignInput::Digest(d) => d,
    }
}

impl Op<'_> {
    /// A session public-key object from stored public values, destroyed when dropped.
    fn public_object(&self, public: &PublicKey) -> Result<Transient<'_>, HsmError> {
        Ok(Transient::new(
            self.s,
            self.s
                .create_object(&public_template(public))
                .map_err(|e| HsmError::from_ck("C_CreateObject", e))?,
        ))
    }
}

impl Hsm {
    /// Signs the message `data` with a managed private key (ECDSA: `r ‖ s`).
    pub fn sign(
        &self,
        key: ManagedKey<'_>,
        alg: SignAlg,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        self.sign_input(key, alg, SignInput::Data(data))
    }

    /// Signs a message or a digest of it with a managed private key (ECDSA: `r ‖ s`).
    pub fn sign_input(
        &self,
        key: ManagedKey<'_>,
        alg: SignAlg,
        input: SignInput<'_>,
    ) -> Result<Vec<u8>, HsmError> {
        check_data(input_bytes(input))?;
        check_sign_key(alg, key.wrapped.kind)?;
        self.run(|op| {
            let k = op.use_key(key)?;
            let (m, bytes) = prepare(op, alg, input)?;
            op.s.sign(&m, k.handle, &bytes)
                .map_err(|e| HsmError::from_ck("C_Sign", e))
        })
    }

    /// Verifies a signature of the message `data` with public key values;
    /// [`HsmError::SignatureInvalid`] when it does not verify.
    pub fn verify(
        &self,
        public: &PublicKey,
        alg: SignAlg,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), HsmError> {
        self.verify_input(public, alg, SignInput::Data(data), signature)
    }

    /// Verifies a signature of a message or of its digest; [`HsmError::SignatureInvalid`] when
    /// it does not verify (ECDSA: `signature` is `r ‖ s`).
    pub fn verify_input(
        &self,
        public: &PublicKey,
        alg: SignAlg,
        input: SignInput<'_>,
        signature: &[u8],
    ) -> Result<(), HsmError> {
        check_data(input_bytes(input))?;
        check_data(signature)?;
        check_sign_key(alg, public_kind(public))?;
        self.run(|op| {
            let k = op.public_object(public)?;
            let (m, bytes) = prepare(op, alg, input)?;
            op.s.verify(&m, k.handle, &bytes, signature)
                .map_err(|e| HsmError::from_ck("C_Verify", e))
        })
    }

    /// The OAEP parameters for `hash` and MGF1 with `mgf_hash`, if the profile lists both
    /// (`oaep_hashes`); otherwise [`HsmError::MechanismUnsupported`].
    fn oaep_params<'a>(
        &self,
        hash: HashAlg,
        mgf_hash: HashAlg,
        label: &'a [u8],
    ) -> Result<PkcsOaepParams<'a>, HsmError> {
        self.oaep(hash)?;
        self.oaep(mgf_hash)?;
        let source = if label.is_empty() {
            PkcsOaepSource::empty()
        } else {
            PkcsOaepSource::data_specified(label)
        };
        Ok(PkcsOaepParams::new(
            hash_mechanism(hash),
            mgf(mgf_hash),
            source,
        ))
    }

    fn rsa_mechanism<'a>(&self, padding: RsaPadding<'a>) -> Result<Mechanism<'a>, HsmError> {
        Ok(match padding {
            RsaPadding::Oaep {
                hash,
                mgf_hash,
                label,
            } => Mechanism::RsaPkcsOaep(self.oaep_params(hash, mgf_hash, label)?),
            RsaPadding::Pkcs1 => Mechanism::RsaPkcs,
        })
    }

    /// Encrypts `data` with RSA public key values.
    pub fn encrypt_rsa(
        &self,
        public: &PublicKey,
        padding: RsaPadding<'_>,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        if !matches!(public, PublicKey::Rsa { .. }) {
            return Err(HsmError::InvalidArgument(
                "RSA encryption needs an RSA public key",
            ));
        }
        let m = self.rsa_mechanism(padding)?;
        self.run(|op| {
            let k = op.public_object(public)?;
            op.s.encrypt(&m, k.handle, data)
                .map_err(|e| HsmError::from_ck("C_Encrypt", e))
        })
    }

    /// Decrypts with a managed RSA private key.
    pub fn decrypt_rsa(
        &self,
        key: ManagedKey<'_>,
        padding: RsaPadding<'_>,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        if !matches!(key.wrapped.kind, KeyKind::Rsa { .. }) {
            return Err(HsmError::InvalidArgument(
                "RSA decryption needs an RSA private key",
            ));
        }
        let m = self.rsa_mechanism(padding)?;
        self.run(|op| {
            let k = op.use_key(key)?;
            op.s.decrypt(&m, k.handle, data)
                .map_err(|e| HsmError::from_ck("C_Decrypt", e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_info_prefixes_announce_the_digest_length() {
        for h in [
            HashAlg::Sha1,
            HashAlg::Sha224,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ] {
            let p = digest_info_prefix(h);
            assert_eq!(p[p.len() - 1] as usize, h.output_len());
            assert_eq!(p[1] as usize, p.len() - 2 + h.output_len());
        }
    }

    #[test]
    fn rejects_a_digest_of_the_wrong_length() {
        assert!(digest_mechanism(SignAlg::Ecdsa(HashAlg::Sha256), &[0; 20]).is_err());
        let (_, input) = digest_mechanism(SignAlg::RsaPkcs1(HashAlg::Sha256), &[7; 32]).unwrap();
        assert_eq!(input.len(), 19 + 32);
    }
}
