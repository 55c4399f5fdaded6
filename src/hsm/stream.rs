//! Multi-part encryption and decryption (KMIP streaming): one PKCS#11 operation held open on a
//! session of its own across requests, with its own non-extractable copy of the key (a session
//! object, gone when the session closes). The caller bounds how many streams are open and
//! expires idle ones: each holds a session.

use cryptoki::error::RvError;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;

use super::ops::{check_cipher_key, check_data, cipher_mechanism, params};
use super::{Cipher, Hsm, HsmError, ManagedKey, Op};

/// An encryption or decryption in progress.
pub struct CipherStream {
    session: Session,
    decrypt: bool,
    gcm: bool,
    _key: ObjectHandle,
}

impl std::fmt::Debug for CipherStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CipherStream")
            .field("decrypt", &self.decrypt)
            .finish_non_exhaustive()
    }
}

impl Hsm {
    /// Starts a multi-part encryption (or decryption) with managed key `key`.
    pub fn start_stream(
        &self,
        key: ManagedKey<'_>,
        cipher: &Cipher,
        decrypt: bool,
    ) -> Result<CipherStream, HsmError> {
        check_cipher_key(cipher, key.wrapped.kind)?;
        let generation = self.pool.lease()?.generation;
        let session = self
            .ctx
            .open_rw_session(self.pool.slot())
            .map_err(|e| HsmError::from_ck("C_OpenSession", e))?;
        let op = Op {
            hsm: self,
            s: &session,
            generation,
        };
        let handle = op.unwrap_copy(key.wrapped, true, false)?;
        let mut p = params(cipher)?;
        let m = cipher_mechanism(cipher, &mut p)?;
        if decrypt {
            session
                .decrypt_init(&m, handle)
                .map_err(|e| HsmError::from_ck("C_DecryptInit", e))?;
        } else {
            session
                .encrypt_init(&m, handle)
                .map_err(|e| HsmError::from_ck("C_EncryptInit", e))?;
        }
        Ok(CipherStream {
            session,
            decrypt,
            gcm: matches!(cipher, Cipher::AesGcm { .. }),
            _key: handle,
        })
    }
}

impl CipherStream {
    /// The next part (`C_EncryptUpdate` / `C_DecryptUpdate`).
    pub fn update(&self, data: &[u8]) -> Result<Vec<u8>, HsmError> {
        check_data(data)?;
        if self.decrypt {
            self.session
                .decrypt_update(data)
                .map_err(|e| HsmError::from_ck("C_DecryptUpdate", e))
        } else {
            self.session
                .encrypt_update(data)
                .map_err(|e| HsmError::from_ck("C_EncryptUpdate", e))
        }
    }

    /// The end (`C_EncryptFinal` / `C_DecryptFinal`): the rest of the output (for AES-GCM
    /// encryption, the tag). A GCM tag mismatch is [`HsmError::AuthenticationFailed`].
    pub fn finish(self) -> Result<Vec<u8>, HsmError> {
        if self.decrypt {
            let gcm = self.gcm;
            self.session
                .decrypt_final()
                .map_err(|e| match HsmError::from_ck("C_DecryptFinal", e) {
                    // As in `Hsm::decrypt`: SoftHSM and Kryoptic name a wrong tag differently.
                    HsmError::Pkcs11 {
                        rv:
                            RvError::GeneralError
                            | RvError::EncryptedDataInvalid
                            | RvError::EncryptedDataLenRange
                            | RvError::FunctionFailed,
                        ..
                    } if gcm => HsmError::AuthenticationFailed {
                        function: "C_DecryptFinal",
                    },
                    other => other,
                })
        } else {
            self.session
                .encrypt_final()
                .map_err(|e| HsmError::from_ck("C_EncryptFinal", e))
        }
    }
}
