//! `hsmkms init --config FILE [--new-kek-version | --only-missing]`: creates the master keys in
//! the token (KEK v1 and record-MAC key v1), or adds the next KEK version. Never overwrites a
//! key. `--only-missing` (for scripts that run on every start, e.g. `tools/dev.sh`) succeeds
//! without creating anything when the set is complete.
//!
//! First-time initialisation is safe to interrupt: [`ensure_master_keys`] (also what
//! `hsmkms container` runs on every start) completes a token that holds only part of the master
//! keys — an `init` killed between its two keys — but only while the configured store holds
//! nothing. Next to a store with data it creates no key: records made under a lost key cannot
//! be verified or unwrapped with a new one, so it stops and says what is missing.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::hsm::{Hsm, HsmError, InitReport};
use crate::store::{SledStore, StoreError};

/// Problems of `init`, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] Box<crate::config::ConfigError>),
    #[error(transparent)]
    Hsm(#[from] HsmError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Master keys are missing while the store already holds data made under master keys.
    #[error(
        "the token lacks master key {missing} (it holds: {present}) and the store at {store} \
         already holds data made under the master keys: a new key cannot verify or unwrap it, so \
         none is created. Restore the missing key into the token from the HSM backup (or point \
         [hsm] at the token the store was made with); if the store is disposable, move it away \
         and run `hsmkms init` again"
    )]
    MasterKeysMissingBesideData {
        missing: String,
        present: String,
        store: PathBuf,
    },
}

/// Creates whatever of `init`'s master keys the token lacks — both on a fresh token, the rest
/// after an interrupted `init` — provided the store at `store` holds nothing. Returns what it
/// created (nothing when the set is complete) and what it found.
pub fn ensure_master_keys(hsm: &Hsm, store: &Path) -> Result<InitReport, InitError> {
    let inventory = hsm.master_key_inventory()?;
    if inventory.is_complete() {
        return Ok(InitReport {
            created: Vec::new(),
            existing: inventory.present,
        });
    }
    if SledStore::holds_data(store)? {
        return Err(InitError::MasterKeysMissingBesideData {
            missing: inventory.missing.join(", "),
            present: if inventory.is_empty() {
                "none".into()
            } else {
                inventory.present.join(", ")
            },
            store: store.to_owned(),
        });
    }
    if inventory.is_empty() {
        Ok(hsm.init_master_keys()?)
    } else {
        tracing::warn!(
            present = %inventory.present.join(", "),
            missing = %inventory.missing.join(", "),
            "completing an interrupted init: the store is empty"
        );
        Ok(hsm.complete_master_keys()?)
    }
}

/// Runs `init`; returns the lines to print.
pub fn run(
    config: &Path,
    new_kek_version: bool,
    only_missing: bool,
) -> Result<Vec<String>, InitError> {
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
    let report = ensure_master_keys(&hsm, &cfg.store.path)?;
    if report.created.is_empty() {
        if only_missing {
            return Ok(vec![format!(
                "master keys present in token {:?}: {}",
                cfg.hsm.token_label,
                report.existing.join(", ")
            )]);
        }
        // Init never overwrites keys: a complete set is refused as before.
        let label = report.existing.first().cloned().unwrap_or_default();
        return Err(HsmError::MasterKeyExists { label }.into());
    }
    let mut lines: Vec<String> = report
        .created
        .iter()
        .map(|l| format!("created {l} in token {:?}", cfg.hsm.token_label))
        .collect();
    if !report.existing.is_empty() {
        lines.push(format!(
            "completed an interrupted init: {} already existed",
            report.existing.join(", ")
        ));
    }
    Ok(lines)
}
