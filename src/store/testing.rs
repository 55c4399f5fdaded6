//! Test stand-ins for the HSM: a software HMAC-SHA256 [`RecordAuthenticator`] and a wrap
//! output type. Production always authenticates records with the HSM's record-MAC key.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::auth::{AuthError, RecordAuthenticator, RecordTag};
use super::key::{HsmWrapped, KekId, WrappedKey};

/// HMAC-SHA256 in software, key version 1. Tests only.
pub(crate) struct SoftHmac {
    pub(crate) key: Vec<u8>,
}

impl SoftHmac {
    pub(crate) fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> Result<Hmac<Sha256>, AuthError> {
        Hmac::<Sha256>::new_from_slice(&self.key).map_err(|e| AuthError::Hsm(Box::new(e)))
    }
}

impl RecordAuthenticator for SoftHmac {
    fn sign(&self, data: &[u8]) -> Result<RecordTag, AuthError> {
        let mut m = self.mac()?;
        m.update(data);
        Ok(RecordTag {
            key_version: 1,
            tag: m.finalize().into_bytes().to_vec(),
        })
    }

    fn verify(&self, data: &[u8], tag: &RecordTag) -> Result<bool, AuthError> {
        if tag.key_version != 1 {
            return Err(AuthError::UnknownKeyVersion(tag.key_version));
        }
        let mut m = self.mac()?;
        m.update(data);
        Ok(m.verify_slice(&tag.tag).is_ok())
    }
}

/// Stands in for the HSM layer's `C_WrapKey` output.
pub(crate) struct FakeWrap(pub(crate) Vec<u8>);

impl HsmWrapped for FakeWrap {
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
        0x1F
    }
    fn length_bits(&self) -> u32 {
        256
    }
    fn into_blob(self) -> Vec<u8> {
        self.0
    }
}

pub(crate) fn wrapped(blob: &[u8]) -> WrappedKey {
    WrappedKey::from_hsm(FakeWrap(blob.to_vec()))
}
