//! Symmetric cryptographic operations with managed keys (encrypt/decrypt, MAC), digests of data
//! and of keys, and random bytes. Signatures and RSA encryption: [`asym`](super::asym).

use cryptoki::error::RvError;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki_sys::CK_AES_CTR_PARAMS;

use super::{
    Cipher, HashAlg, Hsm, HsmError, KeyKind, MacAlg, ManagedKey, Op, Transient, WrappedKey,
};

/// Largest data one call accepts (bytes): bounds the buffers of a request.
pub const MAX_DATA: usize = 16 * 1024 * 1024;

pub(super) fn check_data(data: &[u8]) -> Result<(), HsmError> {
    if data.len() > MAX_DATA {
        return Err(HsmError::InvalidArgument("data larger than 16 MiB"));
    }
    Ok(())
}

fn digest_mechanism(h: HashAlg) -> Mechanism<'static> {
    match h {
        HashAlg::Sha1 => Mechanism::Sha1,
        HashAlg::Sha224 => Mechanism::Sha224,
        HashAlg::Sha256 => Mechanism::Sha256,
        HashAlg::Sha384 => Mechanism::Sha384,
        HashAlg::Sha512 => Mechanism::Sha512,
    }
}

fn hmac_mechanism(h: HashAlg) -> Mechanism<'static> {
    match h {
        HashAlg::Sha1 => Mechanism::Sha1Hmac,
        HashAlg::Sha224 => Mechanism::Sha224Hmac,
        HashAlg::Sha256 => Mechanism::Sha256Hmac,
        HashAlg::Sha384 => Mechanism::Sha384Hmac,
        HashAlg::Sha512 => Mechanism::Sha512Hmac,
    }
}

/// Owned parameters a cipher mechanism points into (they must outlive the call).
pub(super) enum Params {
    Gcm {
        iv: Vec<u8>,
        aad: Vec<u8>,
        tag_bits: u32,
    },
    Ctr(CK_AES_CTR_PARAMS),
    None,
}

pub(super) fn params(cipher: &Cipher) -> Result<Params, HsmError> {
    Ok(match cipher {
        Cipher::AesGcm { iv, aad, tag_bits } => {
            if iv.is_empty()
                || iv.len() > 256
                || !(96..=128).contains(tag_bits)
                || tag_bits % 8 != 0
            {
                return Err(HsmError::InvalidArgument(
                    "AES-GCM needs a 1 to 256 byte IV and a 96 to 128 bit tag",
                ));
            }
            Params::Gcm {
                iv: iv.clone(),
                aad: aad.clone(),
                tag_bits: *tag_bits,
            }
        }
        Cipher::AesCtr {
            counter_block,
            counter_bits,
        } => {
            if !(1..=128).contains(counter_bits) {
                return Err(HsmError::InvalidArgument(
                    "AES-CTR counter bits must be 1 to 128",
                ));
            }
            Params::Ctr(CK_AES_CTR_PARAMS {
                ulCounterBits: *counter_bits as _,
                cb: *counter_block,
            })
        }
        _ => Params::None,
    })
}

pub(super) fn cipher_mechanism<'a>(
    cipher: &Cipher,
    p: &'a mut Params,
) -> Result<Mechanism<'a>, HsmError> {
    Ok(match (cipher, p) {
        (Cipher::AesGcm { .. }, Params::Gcm { iv, aad, tag_bits }) => Mechanism::AesGcm(
            GcmParams::new(iv, aad, (*tag_bits as u64).into())
                .map_err(|e| HsmError::Cryptoki(e.to_string()))?,
        ),
        // cryptoki 0.12 has no AesCtr variant but names the code and takes any parameter
        // struct through VendorDefinedMechanism (no unsafe needed).
        (Cipher::AesCtr { .. }, Params::Ctr(c)) => Mechanism::VendorDefined(
            VendorDefinedMechanism::new(MechanismType::AES_CTR, Some(&*c)),
        ),
        (Cipher::AesCbcPad { iv }, _) => Mechanism::AesCbcPad(*iv),
        (Cipher::AesCbc { iv }, _) => Mechanism::AesCbc(*iv),
        (Cipher::AesEcb, _) => Mechanism::AesEcb,
        (Cipher::Des3CbcPad { iv }, _) => Mechanism::Des3CbcPad(*iv),
        (Cipher::DesCbcPad { iv }, _) => Mechanism::DesCbcPad(*iv),
        _ => return Err(HsmError::InvalidArgument("cipher parameters")),
    })
}

pub(super) fn check_cipher_key(cipher: &Cipher, kind: KeyKind) -> Result<(), HsmError> {
    let ok = match cipher {
        Cipher::Des3CbcPad { .. } => kind == KeyKind::Des3,
        Cipher::DesCbcPad { .. } => kind == KeyKind::Des,
        _ => kind == KeyKind::Aes,
    };
    if ok {
        Ok(())
    } else {
        Err(HsmError::InvalidArgument(
            "the cipher does not match the key type",
        ))
    }
}

impl Op<'_> {
    /// Runs `f` with the handle of the key a MAC uses: the cached copy, or — for HMAC keyed with
    /// an AES key's value (PKCS#11 HMAC takes generic-secret keys only) — a transient
    /// generic-secret copy of the same value, destroyed after the call.
    fn with_mac_key<T>(
        &self,
        key: ManagedKey<'_>,
        alg: MacAlg,
        f: impl FnOnce(cryptoki::object::ObjectHandle) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        if matches!(alg, MacAlg::Hmac(_) | MacAlg::HmacMd5) && key.wrapped.kind == KeyKind::Aes {
            let mut as_secret = key.wrapped.clone();
            as_secret.kind = KeyKind::GenericSecret;
            let copy = Transient::new(self.s, self.unwrap_copy(&as_secret, true, false)?);
            return f(copy.handle);
        }
        let k = self.use_key(key)?;
        f(k.handle)
    }

    pub(super) fn digest(&self, alg: HashAlg, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        self.s
            .digest(&digest_mechanism(alg), data)
            .map_err(|e| HsmError::from_ck("C_Digest", e))
    }
}

impl Hsm {
    /// Encrypts `data` with managed key `key`. AES-GCM appends the tag.
    pub fn encrypt(
        &self,
        key: ManagedKey<'_>,
        cipher: &Cipher,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        check_cipher_key(cipher, key.wrapped.kind)?;
        let mut p = params(cipher)?;
        self.run(|op| {
            let k = op.use_key(key)?;
            let m = cipher_mechanism(cipher, &mut p)?;
            op.s.encrypt(&m, k.handle, data)
                .map_err(|e| HsmError::from_ck("C_Encrypt", e))
        })
    }

    /// Decrypts with managed key `key`. A GCM tag mismatch is
    /// [`HsmError::AuthenticationFailed`] on every token.
    pub fn decrypt(
        &self,
        key: ManagedKey<'_>,
        cipher: &Cipher,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        check_cipher_key(cipher, key.wrapped.kind)?;
        let mut p = params(cipher)?;
        let gcm = matches!(cipher, Cipher::AesGcm { .. });
        self.run(|op| {
            let k = op.use_key(key)?;
            let m = cipher_mechanism(cipher, &mut p)?;
            op.s.decrypt(&m, k.handle, data).map_err(|e| {
                match HsmError::from_ck("C_Decrypt", e) {
                    // SoftHSM: CKR_GENERAL_ERROR; Kryoptic: CKR_ENCRYPTED_DATA_INVALID.
                    HsmError::Pkcs11 {
                        rv:
                            RvError::GeneralError
                            | RvError::EncryptedDataInvalid
                            | RvError::EncryptedDataLenRange
                            | RvError::FunctionFailed,
                        ..
                    } if gcm => HsmError::AuthenticationFailed {
                        function: "C_Decrypt",
                    },
                    other => other,
                }
            })
        })
    }

    /// MAC of `data` (HMAC with a generic-secret key, CMAC with an AES key; HMAC keyed with an
    /// AES key's value when asked, as KMIP allows).
    pub fn mac(&self, key: ManagedKey<'_>, alg: MacAlg, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        let m = mac_mechanism(alg, key.wrapped)?;
        self.run(|op| {
            op.with_mac_key(key, alg, |h| match &m {
                Some(m) => {
                    op.s.sign(m, h, data)
                        .map_err(|e| HsmError::from_ck("C_Sign", e))
                }
                None => self.raw.sign(op.s, CKM_MD5_HMAC, h, data),
            })
        })
    }

    /// Checks a MAC; [`HsmError::SignatureInvalid`] when it does not match.
    pub fn mac_verify(
        &self,
        key: ManagedKey<'_>,
        alg: MacAlg,
        data: &[u8],
        mac: &[u8],
    ) -> Result<(), HsmError> {
        check_data(data)?;
        let m = mac_mechanism(alg, key.wrapped)?;
        self.run(|op| {
            op.with_mac_key(key, alg, |h| match &m {
                Some(m) => {
                    op.s.verify(m, h, data, mac)
                        .map_err(|e| HsmError::from_ck("C_Verify", e))
                }
                None => self.raw.verify(op.s, CKM_MD5_HMAC, h, data, mac),
            })
        })
    }

    /// Digest of `data` computed by the HSM.
    pub fn digest(&self, alg: HashAlg, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        self.run(|op| op.digest(alg, data))
    }

    /// Digest of a secret key's value (`C_DigestKey`), for the KMIP Digest attribute. The value
    /// stays in the HSM: a transient copy is digested and destroyed. For a zero-padded generic
    /// secret, the digest covers the padded value.
    pub fn digest_key(&self, wk: &WrappedKey, alg: HashAlg) -> Result<Vec<u8>, HsmError> {
        if !wk.kind.is_secret() {
            return Err(HsmError::InvalidArgument(
                "C_DigestKey digests secret keys only",
            ));
        }
        self.run(|op| {
            let copy = Transient::new(op.s, op.unwrap_copy(wk, false, false)?);
            op.s.digest_init(&digest_mechanism(alg))
                .map_err(|e| HsmError::from_ck("C_DigestInit", e))?;
            op.s.digest_key(copy.handle)
                .map_err(|e| HsmError::from_ck("C_DigestKey", e))?;
            op.s.digest_final()
                .map_err(|e| HsmError::from_ck("C_DigestFinal", e))
        })
    }

    /// `len` random bytes from the HSM's generator.
    pub fn random(&self, len: usize) -> Result<Vec<u8>, HsmError> {
        if len > 1024 * 1024 {
            return Err(HsmError::InvalidArgument(
                "at most 1 MiB of random bytes per call",
            ));
        }
        self.run(|op| {
            let mut out = vec![0u8; len];
            op.s.generate_random_slice(&mut out)
                .map_err(|e| HsmError::from_ck("C_GenerateRandom", e))?;
            Ok(out)
        })
    }
}

/// `CKM_MD5_HMAC`, which cryptoki 0.12 cannot name (called through [`super::raw`]).
const CKM_MD5_HMAC: u64 = 0x211;

/// The MAC mechanism, or `None` for HMAC-MD5 (called by code through [`super::raw`]).
fn mac_mechanism(alg: MacAlg, wk: &WrappedKey) -> Result<Option<Mechanism<'static>>, HsmError> {
    match (alg, wk.kind) {
        (MacAlg::Hmac(h), KeyKind::GenericSecret | KeyKind::Aes) => Ok(Some(hmac_mechanism(h))),
        (MacAlg::HmacMd5, KeyKind::GenericSecret | KeyKind::Aes) => Ok(None),
        (MacAlg::AesCmac, KeyKind::Aes) => Ok(Some(Mechanism::AesCMac)),
        _ => Err(HsmError::InvalidArgument(
            "the MAC algorithm does not match the key type",
        )),
    }
}
