//! The FIPS approved-algorithm policy: what a request may use while `[fips] enabled = true`,
//! from the table in `fips/approved.toml` (SP 800-131A Rev. 2, SP 800-140C), embedded in the
//! binary. A refusal is a [`PolicyRefusal`] whose text starts `not approved in FIPS mode: …` and
//! names its reference; it becomes [`OpError::NotApproved`](super::OpError) (Result Reason
//! Permission Denied) and is logged.
//!
//! Two layers apply it:
//!
//! - [`Policy::check_request`], called by [`Service`](super::Service) for every batch item before
//!   dispatch: it reads the request itself (template attributes of Create, CreateKeyPair,
//!   Register, ReKey, DeriveKey, Import; every Cryptographic Parameters, including those of a
//!   key-wrapping specification) — everything decidable without the stored object;
//! - the handlers, for what needs the stored object. **Call `policy.check_key` in
//!   Create/Register/CreateKeyPair (with the final algorithm, length and usage mask, after
//!   defaults are applied) and `check_operation` in Encrypt/Decrypt/Sign/SignatureVerify/MAC/
//!   MACVerify and in wrapping Get/Export (with the key's algorithm and length from its
//!   record and the effective Cryptographic Parameters).** Each is a no-op when the policy is
//!   off ([`Policy::off`]), so handlers call them unconditionally.
//!
//! Files: [`table`] (loading and resolving `approved.toml`), [`scan`] (the request walk).

pub mod scan;
pub mod table;

use std::sync::Arc;

use tracing::warn;

use crate::ttlv::enums::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, HashingAlgorithm,
    PaddingMethod, RecommendedCurve,
};
use crate::ttlv::tables::{self, EnumKind};

pub use table::{Rule, SignatureUse, Status, Table, TableError};

/// `fips/approved.toml` as built into this binary.
pub const APPROVED_TOML: &str = include_str!("../../fips/approved.toml");

/// A cryptographic operation as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoOperation {
    Encrypt,
    Decrypt,
    Sign,
    SignatureVerify,
    Mac,
    MacVerify,
    WrapKey,
    UnwrapKey,
}

impl CryptoOperation {
    /// From the names used in `approved.toml` (the KMIP operation names).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "Encrypt" => Self::Encrypt,
            "Decrypt" => Self::Decrypt,
            "Sign" => Self::Sign,
            "SignatureVerify" => Self::SignatureVerify,
            "MAC" => Self::Mac,
            "MACVerify" => Self::MacVerify,
            "WrapKey" => Self::WrapKey,
            "UnwrapKey" => Self::UnwrapKey,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::Sign => "Sign",
            Self::SignatureVerify => "SignatureVerify",
            Self::Mac => "MAC",
            Self::MacVerify => "MACVerify",
            Self::WrapKey => "WrapKey",
            Self::UnwrapKey => "UnwrapKey",
        }
    }

    /// The Cryptographic Usage Mask bit the operation needs.
    pub fn usage_bit(self) -> u32 {
        match self {
            Self::Sign => usage::SIGN,
            Self::SignatureVerify => usage::VERIFY,
            Self::Encrypt => usage::ENCRYPT,
            Self::Decrypt => usage::DECRYPT,
            Self::WrapKey => usage::WRAP_KEY,
            Self::UnwrapKey => usage::UNWRAP_KEY,
            Self::Mac => usage::MAC_GENERATE,
            Self::MacVerify => usage::MAC_VERIFY,
        }
    }
}

/// KMIP Cryptographic Usage Mask bits the policy reasons about.
pub mod usage {
    pub const SIGN: u32 = 0x1;
    pub const VERIFY: u32 = 0x2;
    pub const ENCRYPT: u32 = 0x4;
    pub const DECRYPT: u32 = 0x8;
    pub const WRAP_KEY: u32 = 0x10;
    pub const UNWRAP_KEY: u32 = 0x20;
    pub const MAC_GENERATE: u32 = 0x80;
    pub const MAC_VERIFY: u32 = 0x100;
}

/// The fields of KMIP Cryptographic Parameters the policy checks (the handlers convert theirs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CryptoParameters {
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    pub block_cipher_mode: Option<BlockCipherMode>,
    pub padding_method: Option<PaddingMethod>,
    pub hashing_algorithm: Option<HashingAlgorithm>,
    pub digital_signature_algorithm: Option<DigitalSignatureAlgorithm>,
    pub mask_generator_hashing_algorithm: Option<HashingAlgorithm>,
    /// Tag Length in bytes (GCM).
    pub tag_length: Option<u32>,
}

/// A key as an operation uses it: from its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFacts {
    pub algorithm: CryptographicAlgorithm,
    pub length_bits: Option<u32>,
    pub curve: Option<RecommendedCurve>,
}

/// Why a request is refused in FIPS mode. `Display` is the client's Result Message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not approved in FIPS mode: {subject}: {reason} [{reference}]")]
pub struct PolicyRefusal {
    /// What was refused, in words (`Blowfish`, `RSA-1024`, `RSA PKCS#1 v1.5 for Encrypt`).
    pub subject: String,
    /// Why, in words.
    pub reason: String,
    /// The NIST reference from `approved.toml`.
    pub reference: String,
}

/// Whether the policy is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyMode {
    /// Every check passes (`[fips] enabled = false`).
    Off,
    /// Only what `approved.toml` approves passes.
    Enforced,
}

/// The policy: off, or the loaded table enforced. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `None`: off.
    table: Option<Arc<Table>>,
}

/// The name of an enumeration value (`Blowfish`), or `Table 0x…` for an unnamed one.
fn enum_label(table: &str, value: u32) -> String {
    tables::enum_name(EnumKind::Named(table), value, None)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{table} 0x{value:08X}"))
}

fn refuse(subject: impl Into<String>, reason: impl Into<String>, reference: &str) -> PolicyRefusal {
    let r = PolicyRefusal {
        subject: subject.into(),
        reason: reason.into(),
        reference: reference.to_owned(),
    };
    warn!(refused = %r.subject, reason = %r.reason, reference = %r.reference, "FIPS policy refusal");
    r
}

const NOT_LISTED: &str = "fips/approved.toml lists only approved algorithms";

fn not_listed(table: &str, value: u32) -> PolicyRefusal {
    refuse(
        enum_label(table, value),
        "not in the approved-algorithm table",
        NOT_LISTED,
    )
}

/// Refusal for a disallowed or (for `operation`) unavailable rule.
fn status_refusal(rule: &Rule, operation: Option<CryptoOperation>) -> PolicyRefusal {
    match (rule.status, operation) {
        (Status::Legacy, Some(op)) => refuse(
            format!("{} for {}", rule.name, op.name()),
            format!("legacy use only ({})", usage_names(rule.legacy_usages)),
            &rule.reference,
        ),
        (Status::Legacy, None) => refuse(
            rule.name.clone(),
            format!("legacy use only ({})", usage_names(rule.legacy_usages)),
            &rule.reference,
        ),
        _ => refuse(rule.name.clone(), "disallowed", &rule.reference),
    }
}

fn usage_names(mask: u32) -> String {
    let mut bits: Vec<(&str, u32)> = tables::mask_bits("CryptographicUsage", None)
        .into_iter()
        .filter(|(_, b)| mask & b != 0)
        .collect();
    bits.sort_by_key(|(_, b)| *b);
    let names: Vec<&str> = bits.into_iter().map(|(n, _)| n).collect();
    names.join(", ")
}

/// Whether `rule` allows `operation` (none: a declaration, e.g. a template attribute).
fn allows(rule: &Rule, operation: Option<CryptoOperation>) -> Result<(), PolicyRefusal> {
    match rule.status {
        Status::Disallowed => return Err(status_refusal(rule, operation)),
        Status::Legacy => match operation {
            Some(op) if rule.legacy_usages & op.usage_bit() != 0 => {}
            _ => return Err(status_refusal(rule, operation)),
        },
        Status::Approved => {}
    }
    if let (Some(ops), Some(op)) = (&rule.operations, operation) {
        if !ops.contains(&op) {
            let allowed: Vec<&str> = ops.iter().map(|o| o.name()).collect();
            return Err(refuse(
                format!("{} for {}", rule.name, op.name()),
                format!("approved only for {}", allowed.join(", ")),
                &rule.reference,
            ));
        }
    }
    Ok(())
}

impl Policy {
    /// The policy that allows everything.
    pub fn off() -> Self {
        Policy { table: None }
    }

    /// The embedded `fips/approved.toml`, enforced.
    pub fn enforced() -> Result<Self, TableError> {
        Ok(Self::enforcing(Table::parse(APPROVED_TOML)?))
    }

    /// `table`, enforced.
    pub fn enforcing(table: Table) -> Self {
        Policy {
            table: Some(Arc::new(table)),
        }
    }

    /// Enforced (the embedded table) when `enabled`, off otherwise.
    pub fn new(enabled: bool) -> Result<Self, TableError> {
        if enabled {
            Self::enforced()
        } else {
            Ok(Self::off())
        }
    }

    pub fn mode(&self) -> PolicyMode {
        match self.table {
            Some(_) => PolicyMode::Enforced,
            None => PolicyMode::Off,
        }
    }

    pub fn is_enforced(&self) -> bool {
        self.table.is_some()
    }

    /// The enforced table (none when off).
    pub fn table(&self) -> Option<&Table> {
        self.table.as_deref()
    }

    /// A key about to exist (Create, CreateKeyPair, Register, ReKey, DeriveKey, Import):
    /// its algorithm, its length in bits when known, and its Cryptographic Usage Mask.
    pub fn check_key(
        &self,
        algorithm: CryptographicAlgorithm,
        length_bits: Option<u32>,
        usage_mask: u32,
    ) -> Result<(), PolicyRefusal> {
        let Some(t) = self.table() else {
            return Ok(());
        };
        let rule = t.algorithm_rule(algorithm)?;
        match rule.status {
            Status::Disallowed => return Err(status_refusal(rule, None)),
            Status::Legacy if usage_mask == 0 || usage_mask & !rule.legacy_usages != 0 => {
                return Err(refuse(
                    format!("{} keys for {}", rule.name, usage_names(usage_mask)),
                    format!("legacy use only ({})", usage_names(rule.legacy_usages)),
                    &rule.reference,
                ));
            }
            _ => {}
        }
        check_length(rule, length_bits)
    }

    /// An elliptic curve for a key (Recommended Curve).
    pub fn check_curve(&self, curve: RecommendedCurve) -> Result<(), PolicyRefusal> {
        let Some(t) = self.table() else {
            return Ok(());
        };
        t.check_curve(curve)
    }

    /// A cryptographic operation: with the key it uses (when the caller knows it) and the
    /// effective Cryptographic Parameters.
    pub fn check_operation(
        &self,
        operation: CryptoOperation,
        key: Option<&KeyFacts>,
        params: &CryptoParameters,
    ) -> Result<(), PolicyRefusal> {
        self.check_parameters(Some(operation), key, params)
    }

    /// Cryptographic Parameters for `operation`, or declared on an object (`None`).
    pub fn check_parameters(
        &self,
        operation: Option<CryptoOperation>,
        key: Option<&KeyFacts>,
        params: &CryptoParameters,
    ) -> Result<(), PolicyRefusal> {
        let Some(t) = self.table() else {
            return Ok(());
        };
        t.check_parameters(operation, key, params)
    }
}

impl Table {
    fn check_curve(&self, curve: RecommendedCurve) -> Result<(), PolicyRefusal> {
        match self.curves.get(&curve.0) {
            None => Err(not_listed("RecommendedCurve", curve.0)),
            Some(rule) => allows(rule, None),
        }
    }

    fn check_parameters(
        &self,
        operation: Option<CryptoOperation>,
        key: Option<&KeyFacts>,
        params: &CryptoParameters,
    ) -> Result<(), PolicyRefusal> {
        if let Some(k) = key {
            let rule = self.algorithm_rule(k.algorithm)?;
            allows(rule, operation)?;
            check_length(rule, k.length_bits)?;
            if let Some(c) = k.curve {
                self.check_curve(c)?;
            }
        }
        if let Some(a) = params.cryptographic_algorithm {
            allows(self.algorithm_rule(a)?, operation)?;
        }
        let algorithm = params.cryptographic_algorithm.or(key.map(|k| k.algorithm));
        if let Some(m) = params.block_cipher_mode {
            match self.modes.get(&m.0) {
                None => return Err(not_listed("BlockCipherMode", m.0)),
                Some(rule) => allows(rule, operation)?,
            }
            if m == BlockCipherMode::GCM {
                if let Some(t) = params.tag_length.filter(|t| *t < 12) {
                    return Err(refuse(
                        format!("a {}-bit GCM tag", t * 8),
                        "GCM tags shorter than 96 bits need the limits of SP 800-38D Appendix C",
                        "SP 800-38D §5.2.1.2",
                    ));
                }
            }
        }
        if let Some(p) = params.padding_method {
            self.check_padding(p, algorithm, operation)?;
        }
        for h in [
            params.hashing_algorithm,
            params.mask_generator_hashing_algorithm,
        ]
        .into_iter()
        .flatten()
        {
            let rule = self
                .hashes
                .get(&h.0)
                .ok_or_else(|| not_listed("HashingAlgorithm", h.0))?;
            allows(rule, None)?;
            if operation == Some(CryptoOperation::Sign)
                && Some(h) == params.hashing_algorithm
                && rule.signatures == SignatureUse::VerifyOnly
                && algorithm.is_none_or(is_signature_algorithm)
            {
                return Err(refuse(
                    format!("{} signatures", rule.name),
                    "signature generation disallowed; verification is legacy use",
                    &rule.reference,
                ));
            }
        }
        if let Some(s) = params.digital_signature_algorithm {
            match self.signatures.get(&s.0) {
                None => return Err(not_listed("DigitalSignatureAlgorithm", s.0)),
                Some(rule) => allows(rule, operation)?,
            }
        }
        Ok(())
    }

    fn algorithm_rule(&self, a: CryptographicAlgorithm) -> Result<&Rule, PolicyRefusal> {
        self.algorithms
            .get(&a.0)
            .ok_or_else(|| not_listed("CryptographicAlgorithm", a.0))
    }

    /// Padding entries are per key algorithm. With the algorithm known and listed with
    /// paddings, one of its entries must allow the padding; an algorithm without padding entries
    /// (3DES, HMAC) is governed by its own entry; with the algorithm unknown, some entry for the
    /// padding must allow it.
    fn check_padding(
        &self,
        padding: PaddingMethod,
        algorithm: Option<CryptographicAlgorithm>,
        operation: Option<CryptoOperation>,
    ) -> Result<(), PolicyRefusal> {
        let entries = &self.paddings;
        let family =
            |a: CryptographicAlgorithm| entries.iter().any(|(_, r)| r.algorithm == Some(a.0));
        let candidates: Vec<&Rule> = match algorithm {
            Some(a) if family(a) => entries
                .iter()
                .filter(|(p, r)| *p == padding.0 && r.algorithm == Some(a.0))
                .map(|(_, r)| r)
                .collect(),
            Some(_) => return Ok(()),
            None => entries
                .iter()
                .filter(|(p, _)| *p == padding.0)
                .map(|(_, r)| r)
                .collect(),
        };
        let mut first_refusal = None;
        for rule in candidates {
            match allows(rule, operation) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    first_refusal.get_or_insert(e);
                }
            }
        }
        Err(first_refusal.unwrap_or_else(|| not_listed("PaddingMethod", padding.0)))
    }
}

fn is_signature_algorithm(a: CryptographicAlgorithm) -> bool {
    matches!(
        a,
        CryptographicAlgorithm::RSA
            | CryptographicAlgorithm::ECDSA
            | CryptographicAlgorithm::EC
            | CryptographicAlgorithm::DSA
    )
}

/// Key length against the entry's `lengths` / `min_length` / `max_length`.
fn check_length(rule: &Rule, length_bits: Option<u32>) -> Result<(), PolicyRefusal> {
    let Some(len) = length_bits else {
        return Ok(());
    };
    let too_short = rule.min_length.is_some_and(|m| len < m);
    let too_long = rule.max_length.is_some_and(|m| len > m);
    let not_listed = !rule.lengths.is_empty() && !rule.lengths.contains(&len);
    if !(too_short || too_long || not_listed) {
        return Ok(());
    }
    let allowed = if !rule.lengths.is_empty() {
        let l: Vec<String> = rule.lengths.iter().map(u32::to_string).collect();
        format!("{} keys are {} bits", rule.name, l.join(", "))
    } else {
        match (rule.min_length, rule.max_length) {
            (Some(lo), Some(hi)) => format!("{} keys need {lo} to {hi} bits", rule.name),
            (Some(lo), None) => format!("{} keys need at least {lo} bits", rule.name),
            (None, Some(hi)) => format!("{} keys need at most {hi} bits", rule.name),
            (None, None) => String::new(),
        }
    };
    Err(refuse(
        format!("{}-{len}", rule.name),
        allowed,
        &rule.reference,
    ))
}

#[cfg(test)]
mod tests;
