//! `fips/approved.toml` read into look-up tables: every name resolved to its KMIP enumeration
//! value when loaded, so a typo fails at start-up (and in the unit tests), never at a request.

use std::collections::HashMap;

use serde::Deserialize;

use super::CryptoOperation;
use crate::ttlv::tables::{self, EnumKind};

/// Why the table could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("fips/approved.toml: {0}")]
    Syntax(String),
    #[error("fips/approved.toml: [[{section}]] {field} = {name:?} is not a KMIP {table} name")]
    UnknownName {
        section: &'static str,
        field: &'static str,
        table: &'static str,
        name: String,
    },
    #[error("fips/approved.toml: [[{section}]] {name}: {problem}")]
    Inconsistent {
        section: &'static str,
        name: String,
        problem: &'static str,
    },
}

/// An entry's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Approved,
    /// Only the `legacy_usages`: processing already-protected data.
    Legacy,
    Disallowed,
}

/// Whether a hash function may be used in signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureUse {
    Approved,
    VerifyOnly,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    version: u32,
    #[serde(default)]
    algorithm: Vec<RawEntry>,
    #[serde(default)]
    mode: Vec<RawEntry>,
    #[serde(default)]
    padding: Vec<RawEntry>,
    #[serde(default)]
    hash: Vec<RawEntry>,
    #[serde(default)]
    signature: Vec<RawEntry>,
    #[serde(default)]
    curve: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    kmip: String,
    name: String,
    status: Status,
    reference: String,
    #[serde(default)]
    lengths: Vec<u32>,
    min_length: Option<u32>,
    max_length: Option<u32>,
    #[serde(default)]
    legacy_usages: Vec<String>,
    operations: Option<Vec<String>>,
    /// Paddings: the key algorithm the entry is about.
    algorithm: Option<String>,
    /// Hashes: use in signatures.
    signatures: Option<SignatureUse>,
}

/// One resolved entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The words used in refusals (`3DES`, `RSA PKCS#1 v1.5`).
    pub name: String,
    pub status: Status,
    /// The NIST reference quoted in refusals.
    pub reference: String,
    /// Allowed key lengths in bits (empty: any).
    pub lengths: Vec<u32>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// Legacy entries: the Cryptographic Usage Mask bits still allowed.
    pub legacy_usages: u32,
    /// The operations the entry is approved for (none: all).
    pub operations: Option<Vec<CryptoOperation>>,
    /// Paddings: the key algorithm (`RSA`, `AES`).
    pub algorithm: Option<u32>,
    pub signatures: SignatureUse,
}

/// The whole table, by KMIP value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub algorithms: HashMap<u32, Rule>,
    pub modes: HashMap<u32, Rule>,
    /// Padding entries are per key algorithm: (padding, rule).
    pub paddings: Vec<(u32, Rule)>,
    pub hashes: HashMap<u32, Rule>,
    pub signatures: HashMap<u32, Rule>,
    pub curves: HashMap<u32, Rule>,
}

/// The KMIP Cryptographic Usage Mask bit of a name (`Decrypt` → 0x8).
pub fn usage_bit(name: &str) -> Option<u32> {
    tables::mask_bits("CryptographicUsage", None)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
}

fn resolve(
    section: &'static str,
    field: &'static str,
    table: &'static str,
    name: &str,
) -> Result<u32, TableError> {
    tables::enum_value(EnumKind::Named(table), name, None).ok_or_else(|| TableError::UnknownName {
        section,
        field,
        table,
        name: name.to_owned(),
    })
}

fn rule(section: &'static str, raw: RawEntry) -> Result<Rule, TableError> {
    let inconsistent = |problem| TableError::Inconsistent {
        section,
        name: raw.name.clone(),
        problem,
    };
    let mut legacy_usages = 0;
    for u in &raw.legacy_usages {
        legacy_usages |= usage_bit(u).ok_or_else(|| TableError::UnknownName {
            section,
            field: "legacy_usages",
            table: "CryptographicUsageMask",
            name: u.clone(),
        })?;
    }
    if (raw.status == Status::Legacy) != (legacy_usages != 0) {
        return Err(inconsistent(
            "legacy_usages is required for status = \"legacy\" and only there",
        ));
    }
    let operations = match &raw.operations {
        None => None,
        Some(ops) => Some(
            ops.iter()
                .map(|o| {
                    CryptoOperation::from_name(o).ok_or_else(|| TableError::UnknownName {
                        section,
                        field: "operations",
                        table: "operation (Encrypt, Decrypt, Sign, SignatureVerify, MAC, \
                                MACVerify, WrapKey, UnwrapKey)",
                        name: o.clone(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let algorithm = match &raw.algorithm {
        Some(a) => Some(resolve(section, "algorithm", "CryptographicAlgorithm", a)?),
        None => None,
    };
    if raw.reference.trim().is_empty() {
        return Err(inconsistent("every entry needs its reference"));
    }
    Ok(Rule {
        name: raw.name,
        status: raw.status,
        reference: raw.reference,
        lengths: raw.lengths,
        min_length: raw.min_length,
        max_length: raw.max_length,
        legacy_usages,
        operations,
        algorithm,
        signatures: raw.signatures.unwrap_or(SignatureUse::Approved),
    })
}

fn by_value(
    section: &'static str,
    table: &'static str,
    entries: Vec<RawEntry>,
) -> Result<HashMap<u32, Rule>, TableError> {
    let mut out = HashMap::new();
    for raw in entries {
        let value = resolve(section, "kmip", table, &raw.kmip)?;
        let name = raw.name.clone();
        if out.insert(value, rule(section, raw)?).is_some() {
            return Err(TableError::Inconsistent {
                section,
                name,
                problem: "listed twice",
            });
        }
    }
    Ok(out)
}

impl Table {
    /// Parses and resolves the table's TOML text.
    pub fn parse(text: &str) -> Result<Self, TableError> {
        let raw: RawTable = toml::from_str(text).map_err(|e| TableError::Syntax(e.to_string()))?;
        if raw.version != 1 {
            return Err(TableError::Syntax(format!(
                "version = {} is not known to this hsmkms (1 is)",
                raw.version
            )));
        }
        let mut paddings = Vec::new();
        for p in raw.padding {
            let value = resolve("padding", "kmip", "PaddingMethod", &p.kmip)?;
            if p.algorithm.is_none() {
                return Err(TableError::Inconsistent {
                    section: "padding",
                    name: p.name,
                    problem: "each padding entry names its key algorithm",
                });
            }
            paddings.push((value, rule("padding", p)?));
        }
        for h in &raw.hash {
            if h.status == Status::Approved && h.signatures.is_none() {
                return Err(TableError::Inconsistent {
                    section: "hash",
                    name: h.name.clone(),
                    problem: "an approved hash says whether signatures may use it",
                });
            }
        }
        Ok(Table {
            algorithms: by_value("algorithm", "CryptographicAlgorithm", raw.algorithm)?,
            modes: by_value("mode", "BlockCipherMode", raw.mode)?,
            paddings,
            hashes: by_value("hash", "HashingAlgorithm", raw.hash)?,
            signatures: by_value("signature", "DigitalSignatureAlgorithm", raw.signature)?,
            curves: by_value("curve", "RecommendedCurve", raw.curve)?,
        })
    }
}
