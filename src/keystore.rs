//! Where the HSM and the store meet, and nowhere else: the record-MAC adapter that lets the
//! store authenticate its records with the HSM's record-MAC key, and the conversion between the
//! HSM's wrap output and the store's wrapped-key record. Neither `hsm` nor `store` knows the
//! other; the service layer uses both through this module.
//!
//! The conversion keeps everything the unwrap needs: the KEK (label and version), the wrap
//! mechanism, the PKCS#11 key type and the true length. The usage flags of an unwrapped copy
//! are not stored with the blob: they follow from the object's current Cryptographic Usage Mask
//! (the caller passes them), so a changed mask applies to the next unwrap.

use std::sync::Arc;

use crate::hsm::{self, Curve, Hsm, HsmError, KeyKind, KeyUsage};
use crate::store::{self, AuthError, HsmWrapped, KekId, RecordAuthenticator, RecordTag};

/// The record-MAC key version the HSM layer signs with (rotation of the MAC key is a later
/// issue; records name the version they were signed with, so it can be added).
pub const RECORD_MAC_VERSION: u32 = 1;

/// Authenticates store records with HMAC-SHA256 computed in the HSM.
pub struct HsmRecordMac {
    hsm: Arc<Hsm>,
}

impl HsmRecordMac {
    pub fn new(hsm: Arc<Hsm>) -> Self {
        HsmRecordMac { hsm }
    }
}

impl RecordAuthenticator for HsmRecordMac {
    fn sign(&self, data: &[u8]) -> Result<RecordTag, AuthError> {
        let tag = self
            .hsm
            .mac_record(data)
            .map_err(|e| AuthError::Hsm(Box::new(e)))?;
        Ok(RecordTag {
            key_version: RECORD_MAC_VERSION,
            tag: tag.to_vec(),
        })
    }

    fn verify(&self, data: &[u8], tag: &RecordTag) -> Result<bool, AuthError> {
        if tag.key_version != RECORD_MAC_VERSION {
            return Err(AuthError::UnknownKeyVersion(tag.key_version));
        }
        match self.hsm.verify_record(data, &tag.tag) {
            Ok(()) => Ok(true),
            Err(HsmError::RecordMacInvalid) => Ok(false),
            Err(e) => Err(AuthError::Hsm(Box::new(e))),
        }
    }
}

// PKCS#11 key types (CKK_*) as the store records them.
const CKK_RSA: u64 = 0x00;
const CKK_EC: u64 = 0x03;
const CKK_GENERIC_SECRET: u64 = 0x10;
const CKK_DES: u64 = 0x13;
const CKK_DES3: u64 = 0x15;
const CKK_AES: u64 = 0x1F;

fn curve_bits(c: Curve) -> u32 {
    match c {
        Curve::P256 => 256,
        Curve::P384 => 384,
        Curve::P521 => 521,
    }
}

impl HsmWrapped for hsm::WrappedKey {
    fn kek(&self) -> KekId {
        KekId {
            label: hsm::kek_label(self.kek_version),
            version: self.kek_version,
        }
    }

    fn mechanism(&self) -> u64 {
        self.mechanism
    }

    fn key_type(&self) -> u64 {
        match self.kind {
            KeyKind::Aes => CKK_AES,
            KeyKind::Des3 => CKK_DES3,
            KeyKind::Des => CKK_DES,
            KeyKind::GenericSecret => CKK_GENERIC_SECRET,
            KeyKind::Rsa { .. } => CKK_RSA,
            KeyKind::Ec(_) => CKK_EC,
        }
    }

    fn length_bits(&self) -> u32 {
        match self.kind {
            KeyKind::Rsa { modulus_bits } => modulus_bits,
            KeyKind::Ec(c) => curve_bits(c),
            _ => self.value_len.saturating_mul(8),
        }
    }

    fn into_blob(self) -> Vec<u8> {
        self.blob
    }
}

/// A stored wrapped key that the HSM layer cannot describe (a record from a newer version, or
/// one edited past its MAC — which the store would have refused).
#[derive(Debug, thiserror::Error)]
#[error("stored key of PKCS#11 type {key_type:#x} and {length_bits} bits is not one this server can unwrap")]
pub struct UnknownKeyShape {
    pub key_type: u64,
    pub length_bits: u32,
}

/// The HSM's view of a stored wrapped key, with the usage its unwrapped copy gets.
pub fn to_hsm(
    stored: &store::WrappedKey,
    usage: KeyUsage,
) -> Result<hsm::WrappedKey, UnknownKeyShape> {
    let unknown = || UnknownKeyShape {
        key_type: stored.key_type(),
        length_bits: stored.length_bits(),
    };
    let bits = stored.length_bits();
    let kind = match stored.key_type() {
        CKK_AES => KeyKind::Aes,
        CKK_DES3 => KeyKind::Des3,
        CKK_DES => KeyKind::Des,
        CKK_GENERIC_SECRET => KeyKind::GenericSecret,
        CKK_RSA => KeyKind::Rsa { modulus_bits: bits },
        CKK_EC => KeyKind::Ec(match bits {
            256 => Curve::P256,
            384 => Curve::P384,
            521 => Curve::P521,
            _ => return Err(unknown()),
        }),
        _ => return Err(unknown()),
    };
    let value_len = if kind.is_secret() {
        if bits % 8 != 0 {
            return Err(unknown());
        }
        bits / 8
    } else {
        0
    };
    Ok(hsm::WrappedKey {
        kek_version: stored.kek().version,
        mechanism: stored.mechanism(),
        kind,
        value_len,
        usage,
        blob: stored.blob().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways_without_loss() {
        for (kind, value_len) in [
            (KeyKind::Aes, 32),
            (KeyKind::Des3, 24),
            (KeyKind::Des, 8),
            (KeyKind::GenericSecret, 13),
            (KeyKind::Rsa { modulus_bits: 3072 }, 0),
            (KeyKind::Ec(Curve::P521), 0),
        ] {
            let w = hsm::WrappedKey {
                kek_version: 2,
                mechanism: hsm::CKM_AES_KEY_WRAP_PAD,
                kind,
                value_len,
                usage: KeyUsage::all(),
                blob: vec![7; 40],
            };
            let stored = store::WrappedKey::from_hsm(w.clone());
            assert_eq!(stored.kek().label, "hsmkms-kek-v2");
            assert_eq!(to_hsm(&stored, KeyUsage::all()).unwrap(), w);
        }
    }

    #[test]
    fn refuses_shapes_it_cannot_unwrap() {
        struct Odd;
        impl HsmWrapped for Odd {
            fn kek(&self) -> KekId {
                KekId {
                    label: "hsmkms-kek-v1".into(),
                    version: 1,
                }
            }
            fn mechanism(&self) -> u64 {
                0x210A
            }
            fn key_type(&self) -> u64 {
                0x42
            }
            fn length_bits(&self) -> u32 {
                128
            }
            fn into_blob(self) -> Vec<u8> {
                vec![0; 24]
            }
        }
        let stored = store::WrappedKey::from_hsm(Odd);
        assert!(to_hsm(&stored, KeyUsage::all()).is_err());
    }
}
