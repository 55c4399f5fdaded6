//! The plain values that cross the `hsm` API: what a wrapped key is, what it may do, and the
//! algorithm choices of each primitive. Nothing here touches the token.

use serde::{Deserialize, Serialize};

use super::SecretBytes;

/// What kind of key a blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    Aes,
    /// Triple DES (three-key), plain mode only.
    Des3,
    /// Single DES (legacy clients outside FIPS mode; the policy refuses it in FIPS mode).
    Des,
    /// A generic secret: HMAC keys, KMIP SecretData.
    GenericSecret,
    /// An RSA private key; the modulus size in bits.
    Rsa {
        modulus_bits: u32,
    },
    /// An EC private key on a named curve.
    Ec(Curve),
}

impl KeyKind {
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Self::Aes | Self::Des3 | Self::Des | Self::GenericSecret
        )
    }
}

/// NIST prime curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    /// DER of the curve's OID, as `CKA_EC_PARAMS` wants it.
    pub fn der_oid(self) -> &'static [u8] {
        match self {
            Self::P256 => &[0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07],
            Self::P384 => &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22],
            Self::P521 => &[0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23],
        }
    }

    /// Size of the field in bytes (coordinates, private scalar, half an ECDSA signature).
    pub fn field_bytes(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }
}

/// The operations the unwrapped copy of a key may perform (the HSM attributes set on it).
/// The KMIP Cryptographic Usage Mask is enforced by the service; this is the token's half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyUsage {
    pub encrypt: bool,
    pub decrypt: bool,
    pub sign: bool,
    pub verify: bool,
    pub wrap: bool,
    pub unwrap: bool,
    pub derive: bool,
}

impl KeyUsage {
    /// Every operation a key of this kind can do.
    pub fn all() -> Self {
        Self {
            encrypt: true,
            decrypt: true,
            sign: true,
            verify: true,
            wrap: true,
            unwrap: true,
            derive: false,
        }
    }
    pub fn encryption() -> Self {
        Self {
            encrypt: true,
            decrypt: true,
            ..Self::default()
        }
    }
    pub fn signing() -> Self {
        Self {
            sign: true,
            verify: true,
            ..Self::default()
        }
    }
    pub fn wrapping() -> Self {
        Self {
            wrap: true,
            unwrap: true,
            ..Self::default()
        }
    }
}

/// A key as the store keeps it: the blob wrapped under a KEK version, and the facts needed to
/// unwrap it (PKCS#11 unwrap templates cannot learn them from the blob, and SoftHSM leaves
/// `CKA_VALUE_LEN = 0` on unwrapped AES keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The KEK version that wrapped `blob` (label `hsmkms-kek-v{version}`).
    pub kek_version: u32,
    /// The wrap mechanism code (KWP: 0x210A on SoftHSM, 0x210B on Kryoptic).
    pub mechanism: u64,
    pub kind: KeyKind,
    /// Secret keys: the true length of the value in bytes. A generic secret whose length is not
    /// a multiple of 8 is zero-padded to one before wrapping; this is the length before padding.
    /// Private keys: 0.
    pub value_len: u32,
    pub usage: KeyUsage,
    /// The wrapped bytes (RFC 5649 KWP of the value, or of the PKCS#8 private key).
    pub blob: Vec<u8>,
}

/// A managed key as a request names it: its unique identifier (the cache key) and its blob.
#[derive(Debug, Clone, Copy)]
pub struct ManagedKey<'a> {
    pub unique_id: &'a str,
    pub wrapped: &'a WrappedKey,
}

/// The public half of a generated or imported key pair (not secret: kept in the clear).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublicKey {
    Rsa {
        modulus: Vec<u8>,
        public_exponent: Vec<u8>,
    },
    /// `point` is `CKA_EC_POINT` as the token returns it (DER OCTET STRING of the SEC 1
    /// uncompressed point).
    Ec { curve: Curve, point: Vec<u8> },
}

/// The clear values of a private key entering the HSM (KMIP Register) or leaving it for an
/// authorised plaintext Get. The secret parts zeroize on drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivateKeyParts {
    /// Unsigned big-endian integers, as PKCS#11 and PKCS#1 hold them.
    Rsa {
        modulus: Vec<u8>,
        public_exponent: Vec<u8>,
        private_exponent: SecretBytes,
        prime_1: SecretBytes,
        prime_2: SecretBytes,
        exponent_1: SecretBytes,
        exponent_2: SecretBytes,
        coefficient: SecretBytes,
    },
    /// The private scalar, big-endian, `curve.field_bytes()` long.
    Ec { curve: Curve, value: SecretBytes },
}

impl PrivateKeyParts {
    /// The key kind the HSM stores it as.
    pub fn kind(&self) -> KeyKind {
        match self {
            Self::Rsa { modulus, .. } => KeyKind::Rsa {
                modulus_bits: modulus_bits(modulus),
            },
            Self::Ec { curve, .. } => KeyKind::Ec(*curve),
        }
    }
}

/// The size in bits of an unsigned big-endian integer (leading zero bytes ignored).
pub fn modulus_bits(modulus: &[u8]) -> u32 {
    let m = match modulus.iter().position(|b| *b != 0) {
        Some(i) => &modulus[i..],
        None => return 0,
    };
    (m.len() as u32 - 1) * 8 + (8 - m[0].leading_zeros())
}

/// Key pair specifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPairSpec {
    /// RSA with e = 65537; 1024 to 4096 bits, a multiple of 8 (the service's FIPS policy
    /// refuses less than 2048).
    Rsa {
        modulus_bits: u32,
    },
    Ec(Curve),
}

/// Hash functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HashAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// Symmetric ciphers for encrypt/decrypt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cipher {
    /// AES-GCM; the tag is appended to the ciphertext.
    AesGcm {
        iv: Vec<u8>,
        aad: Vec<u8>,
        tag_bits: u32,
    },
    /// AES-CBC with PKCS#7 padding.
    AesCbcPad { iv: [u8; 16] },
    /// AES-CBC without padding (data a multiple of 16 bytes).
    AesCbc { iv: [u8; 16] },
    /// AES-CTR: the whole initial counter block and how many low bits count.
    AesCtr {
        counter_block: [u8; 16],
        counter_bits: u32,
    },
    /// AES-ECB (data a multiple of 16 bytes).
    AesEcb,
    /// Triple-DES CBC with PKCS#7 padding.
    Des3CbcPad { iv: [u8; 8] },
    /// Single-DES CBC with PKCS#7 padding (legacy).
    DesCbcPad { iv: [u8; 8] },
}

/// Signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAlg {
    RsaPkcs1(HashAlg),
    /// RSA-PSS with MGF1 of the same hash and a salt as long as the hash.
    RsaPss(HashAlg),
    /// RSA-PSS with MGF1 of the same hash and a salt of `salt_len` bytes.
    RsaPssSalt {
        hash: HashAlg,
        salt_len: u32,
    },
    /// ECDSA over the hash of the data (hashed in the HSM); signature is r || s.
    Ecdsa(HashAlg),
}

impl SignAlg {
    /// The hash the signature is over (a Digested Data input is this hash's output).
    pub fn hash(self) -> HashAlg {
        match self {
            Self::RsaPkcs1(h) | Self::RsaPss(h) | Self::Ecdsa(h) => h,
            Self::RsaPssSalt { hash, .. } => hash,
        }
    }
}

/// MAC algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MacAlg {
    Hmac(HashAlg),
    /// Legacy HMAC-MD5 (`CKM_MD5_HMAC`), for old clients outside FIPS mode; the policy refuses
    /// it in FIPS mode.
    HmacMd5,
    AesCmac,
}
