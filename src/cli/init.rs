//! `hsmkms init --config FILE [--new-kek-version]`: creates the master keys in the token
//! (KEK v1 and record-MAC key v1), or adds the next KEK version. Never overwrites a key.

use std::path::Path;

use crate::config::Config;
use crate::hsm::{Hsm, HsmError};

/// Problems of `init`, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] Box<crate::config::ConfigError>),
    #[error(transparent)]
    Hsm(#[from] HsmError),
}

/// Runs `init`; returns the lines to print.
pub fn run(config: &Path, new_kek_version: bool) -> Result<Vec<String>, InitError> {
    let cfg = Config::load(config).map_err(Box::new)?;
    let hsm = Hsm::open(&cfg.hsm)?;
    if new_kek_version {
        let v = hsm.add_kek_version()?;
        return Ok(vec![format!(
            "created {} in token {:?}: new keys are wrapped under it; existing blobs keep their version",
            crate::hsm::kek_label(v),
            cfg.hsm.token_label
        )]);
    }
    let report = hsm.init_master_keys()?;
    Ok(report
        .created
        .iter()
        .map(|l| format!("created {l} in token {:?}", cfg.hsm.token_label))
        .collect())
}
