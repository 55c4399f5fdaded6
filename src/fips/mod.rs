//! FIPS mode at start-up and in `hsmkms doctor`: the AWS-LC FIPS module's state (FIPS mode and
//! its power-on self-test), what the HSM profile says about the HSM's approved mode and
//! plaintext export (warnings, or refusals in strict mode), the known-answer self-checks through
//! the HSM ([`selftest`]), the one-line report, and random bytes outside the HSM (from the same
//! validated module).
//!
//! What does not live here: the approved-algorithm policy applied to requests
//! ([`crate::service::policy`]) and the TLS algorithm restrictions ([`crate::server::tls`]).
//! The boundary and the operator's duties are in `fips/README.md`.

pub mod selftest;

use std::fmt;

use tracing::{info, warn};

use crate::config::{Config, FipsConfig, FIPS_BUILD};
use crate::hsm::{ApprovedMode, Hsm, PlaintextExport, Profile};
use crate::service::policy::{Policy, TableError};

pub use selftest::{KnownAnswers, SelfCheck};

/// Why FIPS mode refuses to start. Each names the check that failed.
#[derive(Debug, thiserror::Error)]
pub enum FipsError {
    #[error("FIPS check 'aws-lc fips mode' failed: this is a `fips` build but AWS-LC reports {0}; the validated module is not in use")]
    ModuleNotFips(&'static str),
    #[error("FIPS check 'aws-lc power-on self-test' failed: the AWS-LC FIPS module's self-tests did not pass")]
    PowerOnSelfTest,
    #[error("FIPS check 'hsm approved mode' failed: [fips] strict = true and the HSM profile {profile} has no validated approved mode ({check}); use a validated HSM in its approved mode, or strict = false for a test token")]
    NonValidatedToken { profile: String, check: String },
    #[error("FIPS check 'known-answer test {check}' failed: {detail}")]
    KnownAnswer { check: &'static str, detail: String },
    #[error("FIPS check 'approved-algorithm table' failed: {0}")]
    Table(#[from] TableError),
}

/// The HSM's approved mode as far as hsmkms can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsmApproved {
    Yes,
    No,
    /// The module has an approved mode set outside hsmkms that PKCS#11 does not show.
    Unknown,
}

impl HsmApproved {
    pub fn from_profile(profile: &Profile) -> Self {
        match profile.approved_mode {
            ApprovedMode::None => HsmApproved::No,
            ApprovedMode::Always => HsmApproved::Yes,
            ApprovedMode::Operator => HsmApproved::Unknown,
        }
    }
}

impl fmt::Display for HsmApproved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HsmApproved::Yes => "yes",
            HsmApproved::No => "no",
            HsmApproved::Unknown => "unknown",
        })
    }
}

/// The AWS-LC module this binary links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleStatus {
    /// `aws_lc_rs::try_fips_mode()` succeeded.
    pub fips_mode: bool,
    /// The linked AWS-LC version (`AWS-LC FIPS 3.x` reports its module version).
    pub version: &'static str,
}

/// Checks the AWS-LC module: in a `fips` build it must be in FIPS mode and pass its power-on
/// self-test (re-run on demand), or the server does not start.
pub fn module_check() -> Result<ModuleStatus, FipsError> {
    let fips_mode = aws_lc_rs::try_fips_mode();
    if FIPS_BUILD {
        fips_mode.map_err(FipsError::ModuleNotFips)?;
        aws_lc_rs::try_fips_self_test().map_err(|_| FipsError::PowerOnSelfTest)?;
    }
    Ok(ModuleStatus {
        fips_mode: fips_mode.is_ok(),
        version: aws_lc_rs::awslc_version(),
    })
}

/// What the HSM profile means for FIPS mode: warnings to log, or a refusal in strict mode.
pub fn assess_hsm(fips: &FipsConfig, profile: &Profile) -> Result<Vec<String>, FipsError> {
    let mut warnings = Vec::new();
    if !(fips.enabled || FIPS_BUILD) {
        return Ok(warnings);
    }
    match HsmApproved::from_profile(profile) {
        HsmApproved::No if fips.strict => {
            return Err(FipsError::NonValidatedToken {
                profile: profile.name.clone(),
                check: profile.approved_mode_check.clone(),
            })
        }
        HsmApproved::No => warnings.push(format!(
            "FIPS mode with a non-validated test token: the HSM profile {} has no validated \
             approved mode, so key operations are not in a validated module (development and \
             tests only; [fips] strict = true refuses this)",
            profile.name
        )),
        HsmApproved::Unknown => warnings.push(format!(
            "the HSM's approved mode cannot be read over PKCS#11: check it yourself ({})",
            profile.approved_mode_check
        )),
        HsmApproved::Yes => {}
    }
    match profile.plaintext_export {
        PlaintextExport::Forbidden => warnings.push(format!(
            "the HSM profile {} forbids plaintext export: KMIP Get of raw key material (as VAST, \
             vSphere, NetApp and DataStax clients do) will fail; see fips/README.md",
            profile.name
        )),
        PlaintextExport::ByPolicy => warnings.push(format!(
            "the HSM profile {} allows plaintext export only if the HSM's policy does (many HSMs \
             in approved mode forbid it): KMIP Get of raw key material may fail; see \
             fips/README.md",
            profile.name
        )),
        PlaintextExport::Allowed => {}
    }
    Ok(warnings)
}

/// What FIPS mode amounts to in this process: the start-up line and `hsmkms doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FipsReport {
    pub fips_build: bool,
    /// rustls `ServerConfig::fips()` (or, when no configuration could be built, the provider's
    /// `fips()` with Extended Master Secret required).
    pub tls_fips: bool,
    pub hsm_approved: HsmApproved,
    pub policy_enforced: bool,
    pub strict: bool,
    pub module: ModuleStatus,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl FipsReport {
    /// The policy in force, in words.
    pub fn policy(&self) -> &'static str {
        match (self.fips_build, self.policy_enforced) {
            (true, true) if self.strict => "approved algorithms only (strict)",
            (true, true) => "approved algorithms only",
            (true, false) => "FIPS build, policy off",
            (false, true) => "approved algorithms only (policy-only mode: not a fips build)",
            (false, false) => "off",
        }
    }

    /// `key: value` lines for `hsmkms doctor`.
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!("fips build: {}", yes_no(self.fips_build)),
            format!(
                "aws-lc: {} (FIPS mode: {})",
                self.module.version,
                yes_no(self.module.fips_mode)
            ),
            format!("TLS provider in FIPS mode: {}", yes_no(self.tls_fips)),
            format!("HSM approved mode: {}", self.hsm_approved),
            format!("policy in force: {}", self.policy()),
        ]
    }

    /// The start-up log line.
    pub fn log(&self) {
        info!(
            fips_build = yes_no(self.fips_build),
            tls_fips = yes_no(self.tls_fips),
            hsm_approved_mode = %self.hsm_approved,
            policy = self.policy(),
            aws_lc = self.module.version,
            "FIPS status"
        );
    }
}

/// Everything FIPS mode checks at start-up once the HSM is open: the AWS-LC module, the HSM
/// profile (warnings logged, refusal in strict mode), the approved-algorithm table, and — when
/// FIPS mode is on — the known-answer tests through the HSM. Returns the policy to apply and the
/// report (its `tls_fips` is filled in by the caller once the TLS configuration is built).
pub fn startup(
    config: &Config,
    hsm: &Hsm,
    answers: &KnownAnswers,
) -> Result<(Policy, FipsReport), FipsError> {
    let module = module_check()?;
    for w in assess_hsm(&config.fips, hsm.profile())? {
        warn!("{w}");
    }
    let policy = Policy::new(config.fips.enabled)?;
    if FIPS_BUILD && !config.fips.enabled {
        warn!("FIPS build, policy off: [fips] enabled = false, requests are not checked against fips/approved.toml");
    }
    if config.fips.enabled || FIPS_BUILD {
        let passed = selftest::run(hsm, answers)?;
        info!(checks = %passed.join(", "), "FIPS known-answer self-checks passed");
    }
    Ok((
        policy,
        FipsReport {
            fips_build: FIPS_BUILD,
            tls_fips: false,
            hsm_approved: HsmApproved::from_profile(hsm.profile()),
            policy_enforced: config.fips.enabled,
            strict: config.fips.strict,
            module,
        },
    ))
}

/// Random bytes from the AWS-LC module (its approved DRBG in a `fips` build), for any random
/// value hsmkms needs outside the HSM. (Unique identifiers come from the HSM's
/// `C_GenerateRandom`, inside its boundary.)
pub fn random_bytes(buf: &mut [u8]) -> Result<(), aws_lc_rs::error::Unspecified> {
    use aws_lc_rs::rand::SecureRandom;
    aws_lc_rs::rand::SystemRandom::new().fill(buf)
}

/// A random (version 4) UUID in its text form from [`random_bytes`].
pub fn random_identifier() -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut b = [0u8; 16];
    random_bytes(&mut b)?;
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_check_matches_the_build() {
        let m = module_check().unwrap();
        assert_eq!(m.fips_mode, FIPS_BUILD);
        assert!(!m.version.is_empty());
        #[cfg(feature = "fips")]
        {
            aws_lc_rs::try_fips_mode().unwrap();
        }
    }

    #[test]
    fn random_identifiers_are_uuid_v4_and_differ() {
        let a = random_identifier().unwrap();
        let b = random_identifier().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    fn fips_on(strict: bool) -> FipsConfig {
        FipsConfig {
            enabled: true,
            strict,
        }
    }

    #[test]
    fn test_tokens_warn_in_fips_mode_and_are_refused_in_strict_mode() {
        for name in ["softhsm2", "kryoptic"] {
            let p = Profile::load(name).unwrap();
            let w = assess_hsm(&fips_on(false), &p).unwrap();
            assert!(
                w.iter()
                    .any(|w| w.starts_with("FIPS mode with a non-validated test token")),
                "{w:?}"
            );
            let e = assess_hsm(&fips_on(true), &p).unwrap_err().to_string();
            assert!(e.contains("'hsm approved mode'") && e.contains(name), "{e}");
        }
        // Policy off in a plain build: nothing to say.
        if !FIPS_BUILD {
            let p = Profile::load("softhsm2").unwrap();
            assert!(assess_hsm(&FipsConfig::default(), &p).unwrap().is_empty());
        }
    }

    #[test]
    fn warns_when_the_profile_forbids_plaintext_export() {
        let p = Profile::load("yubihsm2").unwrap();
        let w = assess_hsm(&fips_on(true), &p).unwrap();
        assert!(
            w.iter().any(|w| w.contains("forbids plaintext export")),
            "{w:?}"
        );
        assert!(
            w.iter().any(|w| w.contains("cannot be read over PKCS#11")),
            "{w:?}"
        );
        let p = Profile::load("luna").unwrap();
        let w = assess_hsm(&fips_on(false), &p).unwrap();
        assert!(
            w.iter().any(|w| w.contains("only if the HSM's policy")),
            "{w:?}"
        );
    }

    #[test]
    fn report_lines_say_what_is_in_force() {
        let r = FipsReport {
            fips_build: true,
            tls_fips: true,
            hsm_approved: HsmApproved::No,
            policy_enforced: false,
            strict: false,
            module: ModuleStatus {
                fips_mode: true,
                version: "x",
            },
        };
        assert_eq!(
            r.lines(),
            vec![
                "fips build: yes",
                "aws-lc: x (FIPS mode: yes)",
                "TLS provider in FIPS mode: yes",
                "HSM approved mode: no",
                "policy in force: FIPS build, policy off",
            ]
        );
        let r = FipsReport {
            fips_build: false,
            policy_enforced: true,
            ..r
        };
        assert!(r.policy().contains("policy-only"));
    }
}
