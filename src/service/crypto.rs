//! What the cryptographic operations share: finding a key the caller may use for one purpose
//! and refusing it by rule (usage mask, state, Process Start / Protect Stop dates, Usage
//! Limits), the key's own Cryptographic Parameters as defaults, and the choice of HSM cipher or
//! MAC for the parameters asked. Every refusal names its rule. The cryptography itself runs in
//! the HSM on the key's cached, non-extractable copy; nothing here sees key material.

use zeroize::Zeroizing;

use crate::hsm::{
    Cipher, Curve, HashAlg, KeyKind, KeyUsage, MacAlg, ManagedKey, PublicKey, WrappedKey,
};
use crate::keystore::to_hsm;
use crate::kmip::message::ProtocolVersion;
use crate::kmip::operations::cryptographic_parameters::{CryptographicParameters, Streaming};
use crate::service::objects::{
    date_of, enum_of, hsm_error, int_of, now_secs, set_attr, state_name, to_ttlv_value, Objects,
};
use crate::service::policy::{CryptoOperation, CryptoParameters, KeyFacts};
use crate::service::signature::public_key_of;
use crate::service::{Context, OpError, Policy};
use crate::store::{AttrValue, KeyMaterial, ObjectType, Record, State};
use crate::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, HashingAlgorithm,
    PaddingMethod, RecommendedCurve,
};
use crate::ttlv::{Item, Tag};

/// Usage mask bits (KMIP 1.4 §9.1.3.3.1).
const USAGE_SIGN: i32 = 0x1;
const USAGE_VERIFY: i32 = 0x2;
const USAGE_ENCRYPT: i32 = 0x4;
const USAGE_DECRYPT: i32 = 0x8;
const USAGE_MAC_GENERATE: i32 = 0x80;
const USAGE_MAC_VERIFY: i32 = 0x100;

/// Most random bytes one RNG Retrieve returns: bounds the response one request can force.
pub const MAX_RNG_RETRIEVE: i32 = 64 * 1024;

/// What a request does with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Encrypt,
    Decrypt,
    MacGenerate,
    MacVerify,
    Sign,
    SignatureVerify,
}

impl Purpose {
    fn operation(self) -> &'static str {
        match self {
            Purpose::Encrypt => "Encrypt",
            Purpose::Decrypt => "Decrypt",
            Purpose::MacGenerate => "MAC",
            Purpose::MacVerify => "MAC Verify",
            Purpose::Sign => "Sign",
            Purpose::SignatureVerify => "Signature Verify",
        }
    }

    fn bit(self) -> (i32, &'static str) {
        match self {
            Purpose::Encrypt => (USAGE_ENCRYPT, "Encrypt"),
            Purpose::Decrypt => (USAGE_DECRYPT, "Decrypt"),
            Purpose::MacGenerate => (USAGE_MAC_GENERATE, "MAC Generate"),
            Purpose::MacVerify => (USAGE_MAC_VERIFY, "MAC Verify"),
            Purpose::Sign => (USAGE_SIGN, "Sign"),
            Purpose::SignatureVerify => (USAGE_VERIFY, "Verify"),
        }
    }

    /// Applies protection (Encrypt, MAC, Sign) rather than processing protected data.
    fn protects(self) -> bool {
        matches!(
            self,
            Purpose::Encrypt | Purpose::MacGenerate | Purpose::Sign
        )
    }

    /// The object type the purpose needs, where only one will do (a signature is made with a
    /// private key and checked with a public key).
    fn object_type(self) -> Option<(ObjectType, &'static str)> {
        match self {
            Purpose::Sign => Some((ObjectType::PRIVATE_KEY, "a Private Key")),
            Purpose::SignatureVerify => Some((ObjectType::PUBLIC_KEY, "a Public Key")),
            _ => None,
        }
    }

    /// The policy's name of the operation.
    fn policy_operation(self) -> CryptoOperation {
        match self {
            Purpose::Encrypt => CryptoOperation::Encrypt,
            Purpose::Decrypt => CryptoOperation::Decrypt,
            Purpose::MacGenerate => CryptoOperation::Mac,
            Purpose::MacVerify => CryptoOperation::MacVerify,
            Purpose::Sign => CryptoOperation::Sign,
            Purpose::SignatureVerify => CryptoOperation::SignatureVerify,
        }
    }
}

/// The HSM usage flags of a key's unwrapped copy, from its Cryptographic Usage Mask.
pub fn usage_of(mask: i32) -> KeyUsage {
    KeyUsage {
        encrypt: mask & USAGE_ENCRYPT != 0,
        decrypt: mask & USAGE_DECRYPT != 0,
        sign: mask & (USAGE_SIGN | USAGE_MAC_GENERATE) != 0,
        verify: mask & (USAGE_VERIFY | USAGE_MAC_VERIFY) != 0,
        wrap: false,
        unwrap: false,
        derive: false,
    }
}

/// A key cleared for one purpose.
#[derive(Debug)]
pub struct UsableKey {
    pub uid: String,
    pub record: Record,
    pub wrapped: WrappedKey,
    /// The key's own Cryptographic Parameters (defaults for the request's).
    pub parameters: CryptographicParameters,
    pub algorithm: Option<CryptographicAlgorithm>,
}

impl UsableKey {
    pub fn managed(&self) -> ManagedKey<'_> {
        ManagedKey {
            unique_id: &self.uid,
            wrapped: &self.wrapped,
        }
    }
}

/// Multi-part (streaming) MAC and Hash are not offered: one clear answer. (Encrypt and Decrypt
/// stream: [`stream`](super::stream).)
pub fn single_part(s: &Streaming) -> Result<(), OpError> {
    if s.is_multi_part() {
        return Err(OpError::NotSupported(
            "multi-part (streaming) MAC, MAC Verify and Hash are not offered: send all the data \
             in one request, without Correlation Value, Init Indicator or Final Indicator"
                .into(),
        ));
    }
    Ok(())
}

/// The record of key `uid` if the caller may use it for `purpose` now: its object type, its
/// usage mask, its state and its usage period.
pub fn cleared_record(
    ctx: &Context<'_>,
    objects: &Objects,
    uid: Option<&str>,
    purpose: Purpose,
) -> Result<(String, Record), OpError> {
    let uid = ctx.uid(uid)?;
    let r = objects.load(ctx, &uid)?;
    if r.is_destroyed() {
        return Err(OpError::Destroyed(uid));
    }
    let operation = purpose.operation();
    if let Some((needed, needs)) = purpose.object_type() {
        if r.object_type != needed {
            return Err(OpError::WrongObjectType {
                uid,
                operation,
                needs,
            });
        }
    }
    let mask = int_of(&r, "Cryptographic Usage Mask").unwrap_or(0);
    let (bit, bit_name) = purpose.bit();
    if mask & bit == 0 {
        return Err(OpError::UsageMask {
            uid,
            operation,
            bit: bit_name,
        });
    }
    let state_ok = match r.state {
        State::ACTIVE => true,
        State::DEACTIVATED | State::COMPROMISED => !purpose.protects(),
        _ => false,
    };
    if !state_ok {
        let rule = if purpose.protects() {
            "only an Active key applies protection"
        } else {
            "only an Active, Deactivated or Compromised key processes protected data"
        };
        return Err(OpError::WrongState {
            uid,
            state: state_name(r.state),
            what: format!("{operation} refused ({rule})"),
        });
    }
    let now = now_secs();
    if purpose.protects() {
        if let Some(d) = date_of(&r, "Protect Stop Date").filter(|d| *d <= now) {
            return Err(OpError::UsagePeriod(format!(
                "{operation} refused: object {uid}'s Protect Stop Date ({d}) has passed"
            )));
        }
    } else if let Some(d) = date_of(&r, "Process Start Date").filter(|d| *d > now) {
        return Err(OpError::UsagePeriod(format!(
            "{operation} refused: object {uid}'s Process Start Date ({d}) is not reached"
        )));
    }
    Ok((uid, r))
}

/// The key `uid` if the caller may use it for `purpose` now.
pub fn usable_key(
    ctx: &Context<'_>,
    objects: &Objects,
    uid: Option<&str>,
    purpose: Purpose,
) -> Result<UsableKey, OpError> {
    let (uid, r) = cleared_record(ctx, objects, uid, purpose)?;
    usable_from(uid, r)
}

/// A cleared record whose material is a wrapped key, as a [`UsableKey`].
pub fn usable_from(uid: String, r: Record) -> Result<UsableKey, OpError> {
    let KeyMaterial::Wrapped(stored) = &r.key else {
        return Err(OpError::Destroyed(uid));
    };
    let mask = int_of(&r, "Cryptographic Usage Mask").unwrap_or(0);
    let wrapped = to_hsm(stored, usage_of(mask)).map_err(|e| OpError::Hsm(e.to_string()))?;
    Ok(UsableKey {
        parameters: key_parameters(&r),
        algorithm: enum_of(&r, "Cryptographic Algorithm").map(CryptographicAlgorithm),
        wrapped,
        uid,
        record: r,
    })
}

/// A public key cleared for one purpose (its values are not secret: kept in the record).
#[derive(Debug)]
pub struct UsablePublicKey {
    pub uid: String,
    pub record: Record,
    pub public: PublicKey,
    pub parameters: CryptographicParameters,
    pub algorithm: Option<CryptographicAlgorithm>,
}

/// A cleared record of a Public Key, as a [`UsablePublicKey`].
pub fn usable_public_from(uid: String, r: Record) -> Result<UsablePublicKey, OpError> {
    let public = public_key_of(&uid, &r)?;
    Ok(UsablePublicKey {
        parameters: key_parameters(&r),
        algorithm: enum_of(&r, "Cryptographic Algorithm").map(CryptographicAlgorithm),
        public,
        uid,
        record: r,
    })
}

/// The FIPS policy's view of a stored key: its algorithm, length and curve from its record.
pub fn key_facts(r: &Record, curve: Option<Curve>) -> Option<KeyFacts> {
    let algorithm = enum_of(r, "Cryptographic Algorithm").map(CryptographicAlgorithm)?;
    Some(KeyFacts {
        algorithm,
        length_bits: int_of(r, "Cryptographic Length").and_then(|l| u32::try_from(l).ok()),
        curve: curve.map(|c| match c {
            Curve::P256 => RecommendedCurve::P_256,
            Curve::P384 => RecommendedCurve::P_384,
            Curve::P521 => RecommendedCurve::P_521,
        }),
    })
}

/// Applies the FIPS policy to an operation with a stored key and the parameters in force (a
/// no-op when the policy is off).
pub fn check_policy(
    policy: &Policy,
    purpose: Purpose,
    key: Option<KeyFacts>,
    p: &CryptographicParameters,
) -> Result<(), OpError> {
    check_policy_of(policy, purpose.policy_operation(), key, p)
}

/// [`check_policy`] for an operation that is not one of the data [`Purpose`]s (the wrapping in
/// a Get with a Key Wrapping Specification).
pub fn check_policy_of(
    policy: &Policy,
    operation: CryptoOperation,
    key: Option<KeyFacts>,
    p: &CryptographicParameters,
) -> Result<(), OpError> {
    let params = CryptoParameters {
        cryptographic_algorithm: p.cryptographic_algorithm,
        block_cipher_mode: p.block_cipher_mode,
        padding_method: p.padding_method,
        hashing_algorithm: p.hashing_algorithm,
        digital_signature_algorithm: p.digital_signature_algorithm.map(DigitalSignatureAlgorithm),
        mask_generator_hashing_algorithm: p.mask_generator_hashing_algorithm,
        tag_length: p.tag_length.and_then(|t| u32::try_from(t).ok()),
    };
    policy.check_operation(operation, key.as_ref(), &params)?;
    Ok(())
}

/// Usage Limits (KMIP 1.4 §3.21): charges `bytes` (unit Byte) or one use (unit Object) to the
/// key's remaining count before the operation runs, durably; refuses when exhausted. A key
/// without Usage Limits is not limited.
pub fn charge_usage(objects: &Objects, key: &UsableKey, bytes: usize) -> Result<(), OpError> {
    charge_usage_of(objects, &key.uid, &key.record, bytes)
}

/// [`charge_usage`] for any cleared record (a public key's too).
pub fn charge_usage_of(
    objects: &Objects,
    uid: &str,
    record: &Record,
    bytes: usize,
) -> Result<(), OpError> {
    let Some(AttrValue::Structure(limits)) = record.attribute("Usage Limits").next() else {
        return Ok(());
    };
    let field = |name: &str| limits.iter().find(|a| a.name == name).map(|a| &a.value);
    let long = |name: &str| match field(name) {
        Some(AttrValue::LongInteger(v)) => Some(*v),
        _ => None,
    };
    let Some(total) = long("UsageLimitsTotal") else {
        return Ok(());
    };
    let remaining = long("UsageLimitsCount").unwrap_or(total);
    // Usage Limits Unit: Byte (1) or Object (2).
    let used = match field("UsageLimitsUnit") {
        Some(AttrValue::Enumeration(2)) => 1,
        _ => i64::try_from(bytes).unwrap_or(i64::MAX),
    };
    if used > remaining {
        return Err(OpError::Policy(format!(
            "refused: object {uid}'s Usage Limits allow {remaining} more, this request needs {used}"
        )));
    }
    let mut next = record.clone();
    let mut limits = limits.clone();
    let count =
        crate::store::Attribute::new("UsageLimitsCount", AttrValue::LongInteger(remaining - used));
    match limits.iter_mut().find(|a| a.name == "UsageLimitsCount") {
        Some(a) => *a = count,
        None => limits.push(count),
    }
    set_attr(&mut next, "Usage Limits", AttrValue::Structure(limits));
    objects.save(record, &next)?;
    Ok(())
}

/// The key's Cryptographic Parameters attribute (the first, if several), or none.
fn key_parameters(r: &Record) -> CryptographicParameters {
    r.attribute("Cryptographic Parameters")
        .next()
        .and_then(|v| {
            CryptographicParameters::from_item(&Item::new(
                Tag::CRYPTOGRAPHIC_PARAMETERS,
                to_ttlv_value(v),
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// The parameters in force: the request's, each missing field taken from the key's.
pub fn parameters(
    given: Option<&CryptographicParameters>,
    key: &UsableKey,
) -> CryptographicParameters {
    parameters_of(given, &key.parameters)
}

/// The request's parameters, each missing field taken from `key_parameters`.
pub fn parameters_of(
    given: Option<&CryptographicParameters>,
    key_parameters: &CryptographicParameters,
) -> CryptographicParameters {
    match given {
        Some(p) => p.or(key_parameters),
        None => key_parameters.clone(),
    }
}

/// Encrypt or Decrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Encrypt,
    Decrypt,
}

/// The HSM cipher for a request, and what the service does around it.
#[derive(Debug)]
pub struct CipherChoice {
    pub cipher: Cipher,
    /// The IV the server drew from the HSM's generator (returned to the client).
    pub generated_iv: Option<Vec<u8>>,
    /// AES-GCM: the tag length in bytes.
    pub tag_len: Option<usize>,
    /// AES-ECB with PKCS#5 padding: the padding is added and removed by the service (the HSM has
    /// no padded ECB mechanism); the blocks are still encrypted in the HSM.
    pub ecb_padding: bool,
}

fn algorithm_name(a: CryptographicAlgorithm) -> &'static str {
    crate::service::enum_name("CryptographicAlgorithm", a.0)
}

/// Refuses ChaCha20 with the reason: neither supported token has it.
fn refuse_unsupported_algorithm(a: CryptographicAlgorithm) -> Result<(), OpError> {
    if a == CryptographicAlgorithm::CHA_CHA20
        || a == CryptographicAlgorithm::CHA_CHA20_POLY1305
        || a == CryptographicAlgorithm::POLY1305
    {
        return Err(OpError::NotSupported(format!(
            "{} is not supported by this HSM (its PKCS#11 token offers no such mechanism)",
            algorithm_name(a)
        )));
    }
    Ok(())
}

/// Chooses the cipher. `iv` is the request's IV/Counter/Nonce; `tag_len` the GCM tag length
/// the request fixes (Decrypt from 1.4: the tag's own length).
pub fn cipher_for(
    objects: &Objects,
    key: &UsableKey,
    p: &CryptographicParameters,
    iv: Option<&[u8]>,
    aad: Option<&[u8]>,
    direction: Direction,
    tag_len: Option<usize>,
) -> Result<CipherChoice, OpError> {
    if let Some(a) = p.cryptographic_algorithm.or(key.algorithm) {
        refuse_unsupported_algorithm(a)?;
    }
    let kind = key.wrapped.kind;
    if let Some(a) = p.cryptographic_algorithm {
        let matches = (a == CryptographicAlgorithm::AES && kind == KeyKind::Aes)
            || (a == CryptographicAlgorithm::DES3 && kind == KeyKind::Des3)
            || (a == CryptographicAlgorithm::DES && kind == KeyKind::Des);
        if !matches {
            return Err(OpError::Invalid(format!(
                "Cryptographic Algorithm {} does not match key {}",
                algorithm_name(a),
                key.uid
            )));
        }
    }
    if !matches!(kind, KeyKind::Aes | KeyKind::Des3 | KeyKind::Des) {
        return Err(OpError::Invalid(format!(
            "key {} is not an AES or (Triple) DES key: it cannot encrypt or decrypt",
            key.uid
        )));
    }
    let mode = p.block_cipher_mode.ok_or_else(|| {
        OpError::Invalid(
            "no Block Cipher Mode: give Cryptographic Parameters (the key names none)".into(),
        )
    })?;
    let random_iv = direction == Direction::Encrypt && (iv.is_none() || p.random_iv == Some(true));
    let iv_of = |len: usize| -> Result<(Vec<u8>, Option<Vec<u8>>), OpError> {
        if random_iv {
            let v = objects.hsm.random(len).map_err(hsm_error)?;
            return Ok((v.clone(), Some(v)));
        }
        match iv {
            Some(v) => Ok((v.to_vec(), None)),
            None => Err(OpError::MissingParameter(
                "the IV/Counter/Nonce the data was encrypted with is missing".into(),
            )),
        }
    };
    let fixed = |v: Vec<u8>| -> Result<[u8; 16], OpError> {
        v.try_into().map_err(|v: Vec<u8>| {
            OpError::Invalid(format!("the IV must be 16 bytes, not {}", v.len()))
        })
    };
    let padding = p.padding_method;
    let mut choice = CipherChoice {
        cipher: Cipher::AesEcb,
        generated_iv: None,
        tag_len: None,
        ecb_padding: false,
    };
    if matches!(kind, KeyKind::Des3 | KeyKind::Des) {
        if mode != BlockCipherMode::CBC || padding.is_some_and(|m| m != PaddingMethod::PKCS5) {
            return Err(OpError::NotSupported(
                "Triple DES and DES are offered in CBC mode with PKCS#5 padding only".into(),
            ));
        }
        let (v, g) = iv_of(8)?;
        let iv: [u8; 8] = v.try_into().map_err(|v: Vec<u8>| {
            OpError::Invalid(format!("a DES IV is 8 bytes, not {}", v.len()))
        })?;
        choice.cipher = if kind == KeyKind::Des {
            Cipher::DesCbcPad { iv }
        } else {
            Cipher::Des3CbcPad { iv }
        };
        choice.generated_iv = g;
        return Ok(choice);
    }
    match mode {
        BlockCipherMode::CBC => {
            let (v, g) = iv_of(16)?;
            let iv = fixed(v)?;
            choice.cipher = match padding {
                Some(PaddingMethod::NONE) => Cipher::AesCbc { iv },
                None | Some(PaddingMethod::PKCS5) => Cipher::AesCbcPad { iv },
                Some(other) => return Err(padding_refused(other)),
            };
            choice.generated_iv = g;
        }
        BlockCipherMode::ECB => {
            if !objects.crypto.insecure_allow_ecb
                && key.parameters.block_cipher_mode != Some(BlockCipherMode::ECB)
            {
                return Err(OpError::Policy(format!(
                    "AES-ECB refused by policy: key {} does not name ECB in its Cryptographic \
                     Parameters and [crypto] insecure_allow_ecb is off",
                    key.uid
                )));
            }
            choice.ecb_padding = match padding {
                None | Some(PaddingMethod::NONE) => false,
                Some(PaddingMethod::PKCS5) => true,
                Some(other) => return Err(padding_refused(other)),
            };
        }
        BlockCipherMode::CTR => {
            let (v, g) = iv_of(16)?;
            let bits = p.counter_length.unwrap_or(128);
            if !(1..=128).contains(&bits) {
                return Err(OpError::Invalid(format!(
                    "Counter Length must be 1 to 128 bits, not {bits}"
                )));
            }
            choice.cipher = Cipher::AesCtr {
                counter_block: fixed(v)?,
                counter_bits: bits as u32,
            };
            choice.generated_iv = g;
        }
        BlockCipherMode::GCM => {
            let iv_len = match p.iv_length {
                Some(b) if b > 0 && b % 8 == 0 && b <= 2048 => (b / 8) as usize,
                Some(b) => {
                    return Err(OpError::Invalid(format!(
                        "IV Length must be a multiple of 8 bits up to 2048, not {b}"
                    )))
                }
                None => 12,
            };
            let (v, g) = iv_of(iv_len)?;
            let t = match tag_len {
                Some(t) => t,
                None => {
                    let t = p.tag_length.unwrap_or(16);
                    usize::try_from(t).map_err(|_| OpError::TagLength(t))?
                }
            };
            if !(12..=16).contains(&t) {
                return Err(OpError::TagLength(t as i32));
            }
            choice.cipher = Cipher::AesGcm {
                iv: v,
                aad: aad.unwrap_or_default().to_vec(),
                tag_bits: (t * 8) as u32,
            };
            choice.tag_len = Some(t);
            choice.generated_iv = g;
        }
        other => {
            return Err(OpError::NotSupported(format!(
                "Block Cipher Mode {} is not offered: CBC, ECB, CTR and GCM are",
                crate::service::enum_name("BlockCipherMode", other.0)
            )))
        }
    }
    Ok(choice)
}

fn padding_refused(p: PaddingMethod) -> OpError {
    OpError::NotSupported(format!(
        "Padding Method {} is not offered: PKCS5 and None are",
        crate::service::enum_name("PaddingMethod", p.0)
    ))
}

/// PKCS#5/#7 padding to 16-byte blocks (AES-ECB).
pub fn pad(data: &[u8]) -> Zeroizing<Vec<u8>> {
    let n = 16 - data.len() % 16;
    let mut v = Zeroizing::new(Vec::with_capacity(data.len() + n));
    v.extend_from_slice(data);
    v.extend(std::iter::repeat_n(n as u8, n));
    v
}

/// Removes PKCS#5/#7 padding; a bad padding is a Cryptographic Failure.
pub fn unpad(mut data: Vec<u8>) -> Result<Vec<u8>, OpError> {
    let bad = || OpError::Hsm("the decrypted data has no valid PKCS#5 padding".into());
    let n = usize::from(*data.last().ok_or_else(bad)?);
    if n == 0 || n > 16 || n > data.len() {
        return Err(bad());
    }
    let cut = data.len() - n;
    if data
        .get(cut..)
        .is_none_or(|t| t.iter().any(|b| usize::from(*b) != n))
    {
        return Err(bad());
    }
    data.truncate(cut);
    Ok(data)
}

/// Whether the client's version carries the GCM tag in its own field (1.4 and later) rather
/// than appended to the data (1.2, 1.3).
pub fn separate_tag(version: ProtocolVersion) -> bool {
    version >= ProtocolVersion::new(1, 4)
}

pub fn hash_of(h: HashingAlgorithm) -> Result<HashAlg, OpError> {
    Ok(match h {
        HashingAlgorithm::SHA_1 => HashAlg::Sha1,
        HashingAlgorithm::SHA_224 => HashAlg::Sha224,
        HashingAlgorithm::SHA_256 => HashAlg::Sha256,
        HashingAlgorithm::SHA_384 => HashAlg::Sha384,
        HashingAlgorithm::SHA_512 => HashAlg::Sha512,
        other => {
            return Err(OpError::NotSupported(format!(
                "Hashing Algorithm {} is not offered: SHA-1, SHA-224, SHA-256, SHA-384 and \
                 SHA-512 are",
                crate::service::enum_name("HashingAlgorithm", other.0)
            )))
        }
    })
}

/// The hash a request names, for Hash.
pub fn hash_for(p: Option<&CryptographicParameters>) -> Result<HashAlg, OpError> {
    let h = p.and_then(|p| p.hashing_algorithm).ok_or_else(|| {
        OpError::Invalid("Hash needs Cryptographic Parameters naming a Hashing Algorithm".into())
    })?;
    hash_of(h)
}

fn hmac_hash(a: CryptographicAlgorithm) -> Option<HashAlg> {
    Some(match a {
        CryptographicAlgorithm::HMAC_SHA1 => HashAlg::Sha1,
        CryptographicAlgorithm::HMAC_SHA224 => HashAlg::Sha224,
        CryptographicAlgorithm::HMAC_SHA256 => HashAlg::Sha256,
        CryptographicAlgorithm::HMAC_SHA384 => HashAlg::Sha384,
        CryptographicAlgorithm::HMAC_SHA512 => HashAlg::Sha512,
        _ => return None,
    })
}

/// The MAC an HMAC algorithm names (HMAC-MD5 included: the policy refuses it in FIPS mode).
fn hmac_alg(a: CryptographicAlgorithm) -> Option<MacAlg> {
    if a == CryptographicAlgorithm::HMAC_MD5 {
        return Some(MacAlg::HmacMd5);
    }
    hmac_hash(a).map(MacAlg::Hmac)
}

/// The MAC for a key and parameters: HMAC with the hash the request names, else the key's
/// HMAC algorithm's; AES-CMAC with an AES key, or HMAC keyed with its value when the parameters'
/// Cryptographic Algorithm names an HMAC.
pub fn mac_for(key: &UsableKey, p: &CryptographicParameters) -> Result<MacAlg, OpError> {
    if let Some(a) = p.cryptographic_algorithm.or(key.algorithm) {
        refuse_unsupported_algorithm(a)?;
    }
    match key.wrapped.kind {
        KeyKind::GenericSecret => {
            // An algorithm named but not offered is refused, never replaced by the key's own.
            let named = p
                .cryptographic_algorithm
                .map(|a| {
                    hmac_alg(a).ok_or_else(|| {
                        OpError::NotSupported(format!(
                            "{} is not offered for MAC: HMAC with SHA-1, SHA-2 or (outside FIPS \
                             mode) MD5 is",
                            algorithm_name(a)
                        ))
                    })
                })
                .transpose()?;
            let hash = match (named, p.hashing_algorithm) {
                (Some(MacAlg::HmacMd5), Some(HashingAlgorithm::MD5)) => None,
                (_, h) => h.map(hash_of).transpose()?.map(MacAlg::Hmac),
            };
            if let (Some(a), Some(h)) = (named, hash) {
                if a != h {
                    return Err(OpError::Invalid(
                        "the Cryptographic Algorithm and Hashing Algorithm asked disagree".into(),
                    ));
                }
            }
            hash.or(named)
                .or_else(|| key.algorithm.and_then(hmac_alg))
                .ok_or_else(|| {
                    OpError::Invalid(format!(
                        "key {} names no HMAC algorithm: give a Hashing Algorithm",
                        key.uid
                    ))
                })
        }
        // KMIP names HMAC for an AES key through the Cryptographic Algorithm of the parameters
        // (CS-AC-M-4): HMAC keyed with the AES key's value.
        KeyKind::Aes => match (
            p.cryptographic_algorithm.and_then(hmac_alg),
            p.block_cipher_mode,
        ) {
            (Some(m), _) => Ok(m),
            (None, None | Some(BlockCipherMode::CMAC)) => Ok(MacAlg::AesCmac),
            (None, Some(other)) => Err(OpError::NotSupported(format!(
                "MAC with an AES key is AES-CMAC (or HMAC keyed with its value) only, not {}",
                crate::service::enum_name("BlockCipherMode", other.0)
            ))),
        },
        _ => Err(OpError::Invalid(format!(
            "key {} is not an HMAC or AES key: it cannot MAC",
            key.uid
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_unpads_pkcs5() {
        for n in [0usize, 1, 15, 16, 17] {
            let d = vec![7u8; n];
            let p = pad(&d);
            assert_eq!(p.len() % 16, 0);
            assert_eq!(unpad(p.to_vec()).unwrap(), d);
        }
        assert!(unpad(vec![1, 2, 3, 0]).is_err());
        assert!(unpad(vec![5; 3]).is_err());
        assert!(unpad(vec![]).is_err());
    }

    #[test]
    fn derives_hsm_usage_from_the_mask() {
        let u = usage_of(USAGE_ENCRYPT | USAGE_MAC_VERIFY);
        assert!(u.encrypt && !u.decrypt && u.verify && !u.sign && !u.wrap);
    }
}
