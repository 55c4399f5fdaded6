//! What Sign, Signature Verify and RSA Encrypt/Decrypt share: the signature algorithm or RSA
//! padding a request's Cryptographic Parameters name (with the key's own as defaults), checked
//! against the key's type; and the public key of a stored Public Key object.
//!
//! A signature algorithm comes from the Digital Signature Algorithm field when given, else
//! from Padding Method (PSS, PKCS1 v1.5; none means PKCS#1 v1.5 for RSA) and Hashing
//! Algorithm — the two ways KMIP clients name one. A Hashing Algorithm is required: the server
//! does not guess which hash a signature was made with.

use crate::hsm::{Curve, HashAlg, KeyKind, PublicKey, RsaPadding, SignAlg};
use crate::kmip::operations::cryptographic_parameters::CryptographicParameters;
use crate::service::crypto::hash_of;
use crate::service::key_formats::public_from_spki;
use crate::service::OpError;
use crate::store::{KeyMaterial, Record};
use crate::ttlv::enums::{
    CryptographicAlgorithm, DigitalSignatureAlgorithm as D, HashingAlgorithm, PaddingMethod,
};

/// KMIP Mask Generator MGF1 (the only one).
const MGF1: u32 = 1;

fn name(table: &str, v: u32) -> &'static str {
    crate::service::enum_name(table, v)
}

/// The signing key's family, from its HSM kind or its public values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerKind {
    Rsa,
    Ec(Curve),
}

impl SignerKind {
    pub fn of_kind(k: KeyKind) -> Option<Self> {
        match k {
            KeyKind::Rsa { .. } => Some(Self::Rsa),
            KeyKind::Ec(c) => Some(Self::Ec(c)),
            _ => None,
        }
    }

    pub fn of_public(p: &PublicKey) -> Self {
        match p {
            PublicKey::Rsa { .. } => Self::Rsa,
            PublicKey::Ec { curve, .. } => Self::Ec(*curve),
        }
    }

    pub fn curve(self) -> Option<Curve> {
        match self {
            Self::Ec(c) => Some(c),
            Self::Rsa => None,
        }
    }
}

/// The signature algorithm for key `uid` of kind `kind` and parameters `p`.
pub fn sign_alg_for(
    uid: &str,
    kind: SignerKind,
    p: &CryptographicParameters,
) -> Result<SignAlg, OpError> {
    let needs_hash = || {
        OpError::Invalid(format!(
            "no Hashing Algorithm: give one (or a Digital Signature Algorithm) in the \
             Cryptographic Parameters (key {uid} names none)"
        ))
    };
    let hash = p.hashing_algorithm.map(hash_of).transpose()?;
    let alg = match p.digital_signature_algorithm.map(D) {
        Some(d) => {
            let (alg, implied) = from_dsa(d, hash)?;
            if let (Some(h), Some(given)) = (implied, p.hashing_algorithm) {
                if hash_of(given)? != h {
                    return Err(OpError::Invalid(format!(
                        "Digital Signature Algorithm {} and Hashing Algorithm {} disagree",
                        name("DigitalSignatureAlgorithm", d.0),
                        name("HashingAlgorithm", given.0)
                    )));
                }
            }
            alg.ok_or_else(needs_hash)?
        }
        None => {
            let h = hash.ok_or_else(needs_hash)?;
            match (kind, p.padding_method) {
                (SignerKind::Ec(_), _) => SignAlg::Ecdsa(h),
                (SignerKind::Rsa, Some(PaddingMethod::PSS)) => SignAlg::RsaPss(h),
                (SignerKind::Rsa, None | Some(PaddingMethod::PKCS1_V1_5)) => SignAlg::RsaPkcs1(h),
                (SignerKind::Rsa, Some(other)) => {
                    return Err(OpError::NotSupported(format!(
                        "RSA signatures with Padding Method {} are not offered: PSS and \
                         PKCS1 v1.5 are",
                        name("PaddingMethod", other.0)
                    )))
                }
            }
        }
    };
    let matches = matches!(
        (alg, kind),
        (SignAlg::RsaPkcs1(_) | SignAlg::RsaPss(_), SignerKind::Rsa)
            | (SignAlg::Ecdsa(_), SignerKind::Ec(_))
    );
    let algorithm_matches = p.cryptographic_algorithm.is_none_or(|a| match kind {
        SignerKind::Rsa => a == CryptographicAlgorithm::RSA,
        SignerKind::Ec(_) => a == CryptographicAlgorithm::ECDSA || a == CryptographicAlgorithm::EC,
    });
    if !matches || !algorithm_matches {
        return Err(OpError::Invalid(format!(
            "the signature algorithm asked does not match key {uid} (an {} key)",
            match kind {
                SignerKind::Rsa => "RSA",
                SignerKind::Ec(_) => "EC",
            }
        )));
    }
    match alg {
        SignAlg::RsaPss(h) => pss_with_salt(p, h),
        other => Ok(other),
    }
}

/// PSS is offered with MGF1 of the signature hash; the salt is as long as the hash unless
/// Salt Length says otherwise.
fn pss_with_salt(p: &CryptographicParameters, h: HashAlg) -> Result<SignAlg, OpError> {
    if p.mask_generator.is_some_and(|m| m != MGF1) {
        return Err(OpError::NotSupported(
            "only the MGF1 Mask Generator is offered".into(),
        ));
    }
    if let Some(m) = p.mask_generator_hashing_algorithm {
        if hash_of(m)? != h {
            return Err(OpError::NotSupported(
                "RSA-PSS is offered with MGF1 of the signature's own hash only".into(),
            ));
        }
    }
    Ok(match p.salt_length {
        None => SignAlg::RsaPss(h),
        Some(s) => SignAlg::RsaPssSalt {
            hash: h,
            salt_len: u32::try_from(s)
                .ok()
                .filter(|s| *s <= MAX_SALT)
                .ok_or_else(|| {
                    OpError::Invalid(format!("Salt Length {s} is not 0 to {MAX_SALT} bytes"))
                })?,
        },
    })
}

/// Longest PSS salt accepted (bytes): more than a 16384-bit modulus can hold.
const MAX_SALT: u32 = 2048;

/// The longest salt a PSS signature with `hash` under RSA modulus `modulus` can carry
/// (RFC 8017 §9.1.1: emLen − hLen − 2, emLen = ⌈(modBits − 1) / 8⌉): what OpenSSL's
/// "maximum" salt length (PyKMIP's choice) makes.
pub fn max_pss_salt(modulus: &[u8], hash: HashAlg) -> Option<u32> {
    let start = modulus.iter().position(|b| *b != 0)?;
    let bytes = modulus.len() - start;
    let top = modulus.get(start)?;
    let bits = (bytes as u32 - 1) * 8 + (8 - top.leading_zeros());
    let em_len = (bits - 1).div_ceil(8);
    em_len.checked_sub(hash.output_len() as u32 + 2)
}

/// A Digital Signature Algorithm: the algorithm (none if it needs a hash not given) and the
/// hash it implies.
fn from_dsa(d: D, hash: Option<HashAlg>) -> Result<(Option<SignAlg>, Option<HashAlg>), OpError> {
    let fixed = |f: fn(HashAlg) -> SignAlg, h: HashAlg| Ok((Some(f(h)), Some(h)));
    match d {
        D::SHA_1_WITH_RSA_ENCRYPTION => fixed(SignAlg::RsaPkcs1, HashAlg::Sha1),
        D::SHA_224_WITH_RSA_ENCRYPTION => fixed(SignAlg::RsaPkcs1, HashAlg::Sha224),
        D::SHA_256_WITH_RSA_ENCRYPTION => fixed(SignAlg::RsaPkcs1, HashAlg::Sha256),
        D::SHA_384_WITH_RSA_ENCRYPTION => fixed(SignAlg::RsaPkcs1, HashAlg::Sha384),
        D::SHA_512_WITH_RSA_ENCRYPTION => fixed(SignAlg::RsaPkcs1, HashAlg::Sha512),
        D::RSASSA_PSS => Ok((hash.map(SignAlg::RsaPss), None)),
        D::ECDSA_WITH_SHA_1 => fixed(SignAlg::Ecdsa, HashAlg::Sha1),
        D::ECDSA_WITH_SHA224 => fixed(SignAlg::Ecdsa, HashAlg::Sha224),
        D::ECDSA_WITH_SHA256 => fixed(SignAlg::Ecdsa, HashAlg::Sha256),
        D::ECDSA_WITH_SHA384 => fixed(SignAlg::Ecdsa, HashAlg::Sha384),
        D::ECDSA_WITH_SHA512 => fixed(SignAlg::Ecdsa, HashAlg::Sha512),
        other => Err(OpError::NotSupported(format!(
            "Digital Signature Algorithm {} is not offered: RSA PKCS#1 v1.5 and RSASSA-PSS \
             with SHA-1/SHA-2, and ECDSA with SHA-1/SHA-2, are",
            name("DigitalSignatureAlgorithm", other.0)
        ))),
    }
}

/// The RSA encryption scheme for parameters `p`: OAEP (hash from Hashing Algorithm, SHA-1 by
/// default as in RFC 8017; MGF1 with the Mask Generator Hashing Algorithm, else the same hash)
/// or PKCS#1 v1.5.
pub fn rsa_padding_for<'a>(
    uid: &str,
    p: &'a CryptographicParameters,
) -> Result<RsaPadding<'a>, OpError> {
    if let Some(a) = p
        .cryptographic_algorithm
        .filter(|a| *a != CryptographicAlgorithm::RSA)
    {
        return Err(OpError::Invalid(format!(
            "Cryptographic Algorithm {} does not match RSA key {uid}",
            name("CryptographicAlgorithm", a.0)
        )));
    }
    match p.padding_method {
        Some(PaddingMethod::OAEP) => {
            if p.mask_generator.is_some_and(|m| m != MGF1) {
                return Err(OpError::NotSupported(
                    "only the MGF1 Mask Generator is offered".into(),
                ));
            }
            let hash = hash_of(p.hashing_algorithm.unwrap_or(HashingAlgorithm::SHA_1))?;
            let mgf_hash = p
                .mask_generator_hashing_algorithm
                .map(hash_of)
                .transpose()?
                .unwrap_or(hash);
            Ok(RsaPadding::Oaep {
                hash,
                mgf_hash,
                label: p.p_source.as_deref().unwrap_or_default(),
            })
        }
        Some(PaddingMethod::PKCS1_V1_5) => Ok(RsaPadding::Pkcs1),
        None => Err(OpError::Invalid(format!(
            "no Padding Method for RSA key {uid}: give OAEP or PKCS1 v1.5 in the Cryptographic \
             Parameters"
        ))),
        Some(other) => Err(OpError::NotSupported(format!(
            "RSA encryption with Padding Method {} is not offered: OAEP and PKCS1 v1.5 are",
            name("PaddingMethod", other.0)
        ))),
    }
}

/// The public key of a stored Public Key object (kept as SubjectPublicKeyInfo DER).
pub fn public_key_of(uid: &str, r: &Record) -> Result<PublicKey, OpError> {
    match &r.key {
        KeyMaterial::Public(spki) => public_from_spki(spki),
        _ => Err(OpError::Invalid(format!(
            "object {uid} holds no public key material"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(
        padding: Option<PaddingMethod>,
        hash: Option<HashingAlgorithm>,
        dsa: Option<D>,
    ) -> CryptographicParameters {
        CryptographicParameters {
            padding_method: padding,
            hashing_algorithm: hash,
            digital_signature_algorithm: dsa.map(|d| d.0),
            ..Default::default()
        }
    }

    #[test]
    fn chooses_the_signature_algorithm() {
        let sha256 = Some(HashingAlgorithm::SHA_256);
        let ec = SignerKind::Ec(Curve::P256);
        assert_eq!(
            sign_alg_for(
                "k",
                SignerKind::Rsa,
                &params(Some(PaddingMethod::PSS), sha256, None)
            )
            .unwrap(),
            SignAlg::RsaPss(HashAlg::Sha256)
        );
        assert_eq!(
            sign_alg_for("k", SignerKind::Rsa, &params(None, sha256, None)).unwrap(),
            SignAlg::RsaPkcs1(HashAlg::Sha256)
        );
        assert_eq!(
            sign_alg_for("k", ec, &params(None, None, Some(D::ECDSA_WITH_SHA384))).unwrap(),
            SignAlg::Ecdsa(HashAlg::Sha384)
        );
        assert_eq!(
            sign_alg_for(
                "k",
                SignerKind::Rsa,
                &params(None, sha256, Some(D::RSASSA_PSS))
            )
            .unwrap(),
            SignAlg::RsaPss(HashAlg::Sha256)
        );
    }

    #[test]
    fn rejects_mismatches_and_missing_hashes() {
        let ec = SignerKind::Ec(Curve::P256);
        assert!(matches!(
            sign_alg_for("k", SignerKind::Rsa, &params(None, None, None)),
            Err(OpError::Invalid(_))
        ));
        assert!(matches!(
            sign_alg_for(
                "k",
                ec,
                &params(None, None, Some(D::SHA_256_WITH_RSA_ENCRYPTION))
            ),
            Err(OpError::Invalid(_))
        ));
        assert!(matches!(
            sign_alg_for(
                "k",
                SignerKind::Rsa,
                &params(
                    None,
                    Some(HashingAlgorithm::SHA_1),
                    Some(D::SHA_256_WITH_RSA_ENCRYPTION)
                )
            ),
            Err(OpError::Invalid(_))
        ));
        assert!(matches!(
            sign_alg_for(
                "k",
                SignerKind::Rsa,
                &params(None, None, Some(D::DSA_WITH_SHA256))
            ),
            Err(OpError::NotSupported(_))
        ));
    }

    #[test]
    fn computes_the_longest_pss_salt() {
        let mut m2048 = vec![0xc5u8; 256];
        assert_eq!(max_pss_salt(&m2048, HashAlg::Sha256), Some(222));
        m2048.insert(0, 0);
        assert_eq!(max_pss_salt(&m2048, HashAlg::Sha256), Some(222));
        // A 2049-bit modulus: emLen is still 256.
        let mut m2049 = vec![0xffu8; 256];
        m2049.insert(0, 1);
        assert_eq!(max_pss_salt(&m2049, HashAlg::Sha256), Some(222));
        let with_salt = CryptographicParameters {
            padding_method: Some(PaddingMethod::PSS),
            hashing_algorithm: Some(HashingAlgorithm::SHA_256),
            salt_length: Some(222),
            ..Default::default()
        };
        assert_eq!(
            sign_alg_for("k", SignerKind::Rsa, &with_salt).unwrap(),
            SignAlg::RsaPssSalt {
                hash: HashAlg::Sha256,
                salt_len: 222
            }
        );
    }

    #[test]
    fn chooses_the_rsa_padding() {
        let mut p = params(
            Some(PaddingMethod::OAEP),
            Some(HashingAlgorithm::SHA_384),
            None,
        );
        p.mask_generator_hashing_algorithm = Some(HashingAlgorithm::SHA_256);
        assert_eq!(
            rsa_padding_for("k", &p).unwrap(),
            RsaPadding::Oaep {
                hash: HashAlg::Sha384,
                mgf_hash: HashAlg::Sha256,
                label: &[]
            }
        );
        assert_eq!(
            rsa_padding_for("k", &params(Some(PaddingMethod::OAEP), None, None)).unwrap(),
            RsaPadding::Oaep {
                hash: HashAlg::Sha1,
                mgf_hash: HashAlg::Sha1,
                label: &[]
            }
        );
        assert_eq!(
            rsa_padding_for("k", &params(Some(PaddingMethod::PKCS1_V1_5), None, None)).unwrap(),
            RsaPadding::Pkcs1
        );
        assert!(rsa_padding_for("k", &params(None, None, None)).is_err());
    }
}
