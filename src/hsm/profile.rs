//! HSM profiles: what differs between PKCS#11 implementations (wrap mechanism, whether a user key
//! can be marked trusted, whether plaintext export is possible, OAEP hashes, session limits, how
//! to check the approved mode). One TOML file per family in `hsm-profiles/`; the built-in names
//! are embedded in the binary, any other value of `[hsm] profile` is read as a path.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::HsmError;

/// `CKM_AES_KEY_WRAP_PAD`: SoftHSMv2's name for KWP (RFC 5649 / SP 800-38F).
pub const CKM_AES_KEY_WRAP_PAD: u64 = 0x210A;
/// `CKM_AES_KEY_WRAP_KWP` (PKCS#11 3.0): the standard KWP code, which cryptoki 0.12 cannot name.
pub const CKM_AES_KEY_WRAP_KWP: u64 = 0x210B;

const BUILT_IN: &[(&str, &str)] = &[
    ("softhsm2", include_str!("../../hsm-profiles/softhsm2.toml")),
    ("kryoptic", include_str!("../../hsm-profiles/kryoptic.toml")),
    ("luna", include_str!("../../hsm-profiles/luna.toml")),
    ("nshield", include_str!("../../hsm-profiles/nshield.toml")),
    ("utimaco", include_str!("../../hsm-profiles/utimaco.toml")),
    (
        "aws-cloudhsm",
        include_str!("../../hsm-profiles/aws-cloudhsm.toml"),
    ),
    ("yubihsm2", include_str!("../../hsm-profiles/yubihsm2.toml")),
];

/// One HSM family's facts.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`softhsm2`).
    pub name: String,
    /// Product and version the facts were taken from.
    pub product: String,
    /// True only when the suite runs against it; untested profiles say so at the top.
    pub tested: bool,
    /// Where the vendor installs the PKCS#11 module, most likely first.
    pub module_paths: Vec<PathBuf>,
    /// The mechanism that wraps managed keys under the KEK (KWP), or `"unsupported"`.
    pub wrap_mechanism: WrapMechanism,
    /// Whether a user can set `CKA_TRUSTED` on the KEK (then managed keys get
    /// `CKA_WRAP_WITH_TRUSTED`).
    pub trusted_kek: bool,
    /// Whether a key's clear value can be read out (for KMIP Get of an extractable key).
    pub plaintext_export: PlaintextExport,
    /// Hashes accepted with RSA-OAEP (the MGF1 hash is the same).
    pub oaep_hashes: Vec<HashName>,
    /// Maximum sessions per application, when the vendor documents one.
    pub max_sessions: Option<u32>,
    /// Whether the module has a validated approved (FIPS) mode and whether hsmkms can know it.
    pub approved_mode: ApprovedMode,
    /// How an operator tells whether the module runs in its approved (FIPS) mode.
    pub approved_mode_check: String,
    /// Behaviour differences the code handles or operators should know.
    #[serde(default)]
    pub quirks: Vec<String>,
}

/// The KEK wrap mechanism code, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapMechanism {
    Code(u64),
    Unsupported,
}

impl<'de> Deserialize<'de> for WrapMechanism {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(c) => Ok(Self::Code(c)),
            Raw::Text(t) if t == "unsupported" => Ok(Self::Unsupported),
            Raw::Text(t) => {
                let hex = t
                    .strip_prefix("0x")
                    .or_else(|| t.strip_prefix("0X"))
                    .ok_or_else(|| {
                        serde::de::Error::custom(
                            "wrap_mechanism: a code such as \"0x210A\" or \"unsupported\"",
                        )
                    })?;
                u64::from_str_radix(hex, 16)
                    .map(Self::Code)
                    .map_err(serde::de::Error::custom)
            }
        }
    }
}

/// Whether the HSM lets a key's clear value out.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PlaintextExport {
    Allowed,
    Forbidden,
    /// Depends on the HSM's security policy or mode (e.g. forbidden in FIPS mode).
    ByPolicy,
}

/// Whether an HSM family has a validated approved (FIPS 140) mode.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovedMode {
    /// No validated module (SoftHSM, Kryoptic's minimal build): never approved.
    None,
    /// The module runs only in its approved mode.
    Always,
    /// The module has an approved mode chosen outside hsmkms (partition policy, Security World,
    /// firmware); hsmkms cannot read it over PKCS#11, so it reports "unknown" and the operator
    /// checks it as `approved_mode_check` says.
    Operator,
}

/// A hash function name as used in profiles.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HashName {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Profile {
    /// A built-in profile by name, or a profile file by path.
    pub fn load(name_or_path: &str) -> Result<Self, HsmError> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(name_or_path, text);
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(HsmError::Profile {
                name: name_or_path.into(),
                reason: format!(
                    "neither a built-in profile ({}) nor a readable file",
                    Self::built_in_names().join(", ")
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| HsmError::Profile {
            name: name_or_path.into(),
            reason: e.to_string(),
        })?;
        Self::parse(name_or_path, &text)
    }

    /// Parses a profile's TOML text.
    pub fn parse(name: &str, text: &str) -> Result<Self, HsmError> {
        toml::from_str(text).map_err(|e| HsmError::Profile {
            name: name.into(),
            reason: e.to_string(),
        })
    }

    pub fn built_in_names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(n, _)| *n).collect()
    }

    /// The KEK wrap mechanism, or an error saying the profile has none.
    pub fn wrap_code(&self) -> Result<u64, HsmError> {
        match self.wrap_mechanism {
            WrapMechanism::Code(c) => Ok(c),
            WrapMechanism::Unsupported => Err(HsmError::Profile {
                name: self.name.clone(),
                reason:
                    "the profile has no key-wrap mechanism (wrap_mechanism = \"unsupported\"): \
                         hsmkms cannot keep keys outside this HSM"
                        .into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_built_in_profile() {
        for name in Profile::built_in_names() {
            let p = Profile::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(p.name, name);
            assert!(!p.module_paths.is_empty(), "{name}");
            let text = BUILT_IN.iter().find(|(n, _)| *n == name).unwrap().1;
            if !p.tested {
                assert!(
                    text.starts_with("# UNTESTED"),
                    "{name}: untested profiles say so on their first line"
                );
            }
        }
    }

    #[test]
    fn tested_profiles_have_the_measured_wrap_codes() {
        let s = Profile::load("softhsm2").unwrap();
        assert_eq!(s.wrap_mechanism, WrapMechanism::Code(CKM_AES_KEY_WRAP_PAD));
        assert_eq!(s.oaep_hashes, vec![HashName::Sha1]);
        assert!(!s.trusted_kek);
        let k = Profile::load("kryoptic").unwrap();
        assert_eq!(k.wrap_mechanism, WrapMechanism::Code(CKM_AES_KEY_WRAP_KWP));
        assert!(!k.trusted_kek);
        // The test tokens have no validated module; the vendor HSMs have an approved mode set
        // outside hsmkms.
        assert_eq!(s.approved_mode, ApprovedMode::None);
        assert_eq!(k.approved_mode, ApprovedMode::None);
        for name in ["luna", "nshield", "utimaco", "aws-cloudhsm", "yubihsm2"] {
            let p = Profile::load(name).unwrap();
            assert_eq!(p.approved_mode, ApprovedMode::Operator, "{name}");
            assert!(!p.approved_mode_check.is_empty(), "{name}");
        }
    }

    #[test]
    fn rejects_unknown_fields_and_bad_codes() {
        let base = Profile::load("softhsm2").unwrap();
        let _ = base;
        let e = Profile::parse("x", "name = \"x\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
        let text = include_str!("../../hsm-profiles/softhsm2.toml")
            .replace("wrap_mechanism = \"0x210A\"", "wrap_mechanism = \"KWP\"");
        let e = Profile::parse("x", &text).unwrap_err().to_string();
        assert!(e.contains("wrap_mechanism"), "{e}");
        let text = include_str!("../../hsm-profiles/softhsm2.toml").replace(
            "wrap_mechanism = \"0x210A\"",
            "wrap_mechanism = \"unsupported\"",
        );
        let p = Profile::parse("x", &text).unwrap();
        assert!(p.wrap_code().is_err());
    }

    #[test]
    fn rejects_unknown_name() {
        let e = Profile::load("no-such-hsm").unwrap_err().to_string();
        assert!(e.contains("softhsm2"), "{e}");
    }
}
