//! Key material as the store holds it: only ever wrapped by the HSM.
//!
//! [`WrappedKey`] has private fields and one constructor, [`WrappedKey::from_hsm`], which takes
//! a value of a type implementing [`HsmWrapped`] — the HSM layer's `C_WrapKey` output. There is
//! no `From<Vec<u8>>` and no constructor from bytes, so plaintext key material cannot be put
//! into a record by accident; doing it on purpose would take implementing [`HsmWrapped`] for a
//! plaintext type, which review catches. (The store cannot name the HSM layer's type without
//! depending on it, hence the trait.)

use super::codec::{DecodeError, Reader, Writer, MAX_BYTES};

/// Which KEK wrapped a blob: its token label and version (`hsmkms-kek-v1` → version 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KekId {
    pub label: String,
    pub version: u32,
}

/// The output of an HSM wrap (`C_WrapKey` under a KEK), as the HSM layer hands it over.
///
/// Implement this only for the type that holds `C_WrapKey` output. It is the one way into
/// [`WrappedKey`].
pub trait HsmWrapped {
    /// The KEK that wrapped the key.
    fn kek(&self) -> KekId;
    /// PKCS#11 mechanism (`CKM_…`) used to wrap, e.g. `CKM_AES_KEY_WRAP_PAD` (0x210A).
    fn mechanism(&self) -> u64;
    /// PKCS#11 key type (`CKK_…`) of the wrapped key, needed by the unwrap template.
    fn key_type(&self) -> u64;
    /// Length of the wrapped key in bits (SoftHSM does not keep `CKA_VALUE_LEN` on unwrap).
    fn length_bits(&self) -> u32;
    /// The wrapped bytes.
    fn into_blob(self) -> Vec<u8>;
}

/// A key wrapped inside the HSM: all the store ever holds of key material.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    kek: KekId,
    mechanism: u64,
    key_type: u64,
    length_bits: u32,
    blob: Vec<u8>,
}

impl std::fmt::Debug for WrappedKey {
    /// The blob is ciphertext, but it is still not logged: lengths and identifiers only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedKey")
            .field("kek", &self.kek)
            .field("mechanism", &format_args!("{:#x}", self.mechanism))
            .field("key_type", &format_args!("{:#x}", self.key_type))
            .field("length_bits", &self.length_bits)
            .field("blob_len", &self.blob.len())
            .finish()
    }
}

impl WrappedKey {
    /// The only constructor: from the HSM layer's wrap output.
    pub fn from_hsm<W: HsmWrapped>(wrapped: W) -> Self {
        Self {
            kek: wrapped.kek(),
            mechanism: wrapped.mechanism(),
            key_type: wrapped.key_type(),
            length_bits: wrapped.length_bits(),
            blob: wrapped.into_blob(),
        }
    }

    pub fn kek(&self) -> &KekId {
        &self.kek
    }

    pub fn mechanism(&self) -> u64 {
        self.mechanism
    }

    pub fn key_type(&self) -> u64 {
        self.key_type
    }

    pub fn length_bits(&self) -> u32 {
        self.length_bits
    }

    /// The wrapped bytes, to hand back to the HSM for `C_UnwrapKey`.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    fn encode(&self, w: &mut Writer) {
        w.str(&self.kek.label);
        w.u32(self.kek.version);
        w.u64(self.mechanism);
        w.u64(self.key_type);
        w.u32(self.length_bits);
        w.bytes(&self.blob);
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            kek: decode_kek(r)?,
            mechanism: r.u64()?,
            key_type: r.u64()?,
            length_bits: r.u32()?,
            blob: r.bytes("wrapped blob", MAX_BYTES)?.to_vec(),
        })
    }
}

fn decode_kek(r: &mut Reader<'_>) -> Result<KekId, DecodeError> {
    Ok(KekId {
        label: r.string("KEK label")?,
        version: r.u32()?,
    })
}

/// The key material of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// No key material (e.g. an object whose material is not kept, or not yet set).
    None,
    /// Wrapped by the HSM under a KEK.
    Wrapped(WrappedKey),
    /// Destroyed: the blob is gone; which KEK had wrapped it is kept, since an old blob can
    /// survive in sled's log and in backups until that KEK version is retired.
    Destroyed { wrapped_by: Option<KekId> },
    /// A public key in the clear: the DER of its X.509 SubjectPublicKeyInfo.
    Public(Vec<u8>),
}

const K_NONE: u8 = 0;
const K_WRAPPED: u8 = 1;
const K_DESTROYED: u8 = 2;
// Added after the first schema: records written before it never hold this tag, so they read
// unchanged.
const K_PUBLIC: u8 = 3;

impl KeyMaterial {
    pub fn wrapped(&self) -> Option<&WrappedKey> {
        match self {
            Self::Wrapped(k) => Some(k),
            _ => None,
        }
    }

    /// The SubjectPublicKeyInfo DER of a public key.
    pub fn public(&self) -> Option<&[u8]> {
        match self {
            Self::Public(spki) => Some(spki),
            _ => None,
        }
    }

    pub(crate) fn destroyed(&self) -> Self {
        match self {
            Self::None | Self::Public(_) => Self::Destroyed { wrapped_by: None },
            Self::Wrapped(k) => Self::Destroyed {
                wrapped_by: Some(k.kek.clone()),
            },
            Self::Destroyed { wrapped_by } => Self::Destroyed {
                wrapped_by: wrapped_by.clone(),
            },
        }
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        match self {
            Self::None => w.u8(K_NONE),
            Self::Wrapped(k) => {
                w.u8(K_WRAPPED);
                k.encode(w);
            }
            Self::Destroyed { wrapped_by } => {
                w.u8(K_DESTROYED);
                match wrapped_by {
                    None => w.u8(0),
                    Some(kek) => {
                        w.u8(1);
                        w.str(&kek.label);
                        w.u32(kek.version);
                    }
                }
            }
            Self::Public(spki) => {
                w.u8(K_PUBLIC);
                w.bytes(spki);
            }
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            K_NONE => Ok(Self::None),
            K_WRAPPED => Ok(Self::Wrapped(WrappedKey::decode(r)?)),
            K_DESTROYED => {
                let wrapped_by = if r.bool()? {
                    Some(decode_kek(r)?)
                } else {
                    None
                };
                Ok(Self::Destroyed { wrapped_by })
            }
            K_PUBLIC => Ok(Self::Public(r.bytes("public key", MAX_BYTES)?.to_vec())),
            tag => Err(DecodeError::UnknownTag {
                what: "key material",
                tag,
            }),
        }
    }
}
