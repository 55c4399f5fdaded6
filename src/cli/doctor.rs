//! `hsmkms doctor --config FILE`: what FIPS mode amounts to with this binary and configuration —
//! fips build, the AWS-LC module, TLS in FIPS mode, the HSM's approved mode, the policy in force
//! — then the HSM: opened, and (in FIPS mode) the known-answer self-checks run as at start-up.
//! Prints one `key: value` line each; fails when a check that would stop `serve` fails.

use std::path::Path;

use crate::config::{Config, FIPS_BUILD};
use crate::fips::{self, FipsReport, HsmApproved, KnownAnswers, ModuleStatus};
use crate::hsm::{Hsm, Profile};
use crate::server::tls::{self, TlsMode};

/// Runs the checks; `Ok(lines)` when `serve` would start, `Err((lines, why))` otherwise.
pub fn run(config_path: &Path) -> Result<Vec<String>, (Vec<String>, String)> {
    let mut lines = Vec::new();
    let config = Config::load(config_path).map_err(|e| (Vec::new(), e.to_string()))?;
    let mut problems = Vec::new();
    let module = fips::module_check().unwrap_or_else(|e| {
        problems.push(e.to_string());
        ModuleStatus {
            fips_mode: false,
            version: aws_lc_rs::awslc_version(),
        }
    });
    let mode = TlsMode::for_config(&config.fips);
    let tls_fips = match tls::server_config(&config.tls, mode, &[]) {
        Ok(c) => c.fips(),
        Err(e) => {
            problems.push(format!("TLS: {e}"));
            false
        }
    };
    let profile = Profile::load(&config.hsm.profile);
    let hsm_approved = match &profile {
        Ok(p) => HsmApproved::from_profile(p),
        Err(e) => {
            problems.push(format!("HSM profile: {e}"));
            HsmApproved::Unknown
        }
    };
    let report = FipsReport {
        fips_build: FIPS_BUILD,
        tls_fips,
        hsm_approved,
        policy_enforced: config.fips.enabled,
        strict: config.fips.strict,
        module,
    };
    lines.extend(report.lines());
    if let Ok(p) = &profile {
        match fips::assess_hsm(&config.fips, p) {
            Ok(warnings) => lines.extend(warnings.into_iter().map(|w| format!("warning: {w}"))),
            Err(e) => problems.push(e.to_string()),
        }
    }
    match Hsm::open(&config.hsm) {
        Err(e) => problems.push(format!("HSM: {e}")),
        Ok(hsm) => {
            lines.push(format!(
                "HSM: open (token {}, profile {})",
                config.hsm.token_label,
                hsm.profile().name
            ));
            if config.fips.enabled || FIPS_BUILD {
                match fips::selftest::run(&hsm, &KnownAnswers::standard()) {
                    Ok(passed) => {
                        lines.push(format!("self-checks: passed ({})", passed.join(", ")))
                    }
                    Err(e) => problems.push(e.to_string()),
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(lines)
    } else {
        Err((lines, problems.join("; ")))
    }
}
