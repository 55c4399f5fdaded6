//! `hsmkms serve --config FILE`: the KMIP server until SIGTERM/SIGINT. `hsmkms health`: the
//! container health check against the plain-HTTP health listener.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tracing::info;

use crate::config::{Config, LogFormat, LoggingConfig};
use crate::fips::{self, KnownAnswers};
use crate::hsm::Hsm;
use crate::keystore::HsmRecordMac;
use crate::server::tls::{self, TlsMode};
use crate::server::{health, RunningServer};
use crate::service::{Identity, ReadinessProbe, ServerInfo, Service};
use crate::store::{SledStore, Store, StoreError, StoreOptions, UniqueIdentifier};

/// Errors of `serve` and `health`, printed as they are.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(Box<crate::config::ConfigError>),
    #[error(transparent)]
    Server(#[from] crate::server::ServerError),
    #[error(transparent)]
    Health(#[from] health::CheckError),
    #[error("HSM: {0}")]
    Hsm(#[from] crate::hsm::HsmError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Fips(#[from] crate::fips::FipsError),
    #[error(transparent)]
    Tls(#[from] crate::server::tls::TlsError),
    #[error("[logging] level = {level:?} is not a tracing filter: {problem}")]
    LogLevel { level: String, problem: String },
}

/// Installs the log subscriber: text or JSON, filtered by `[logging] level` (RUST_LOG, when set,
/// wins).
pub fn init_logging(cfg: &LoggingConfig) -> Result<(), ServeError> {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(f) if !f.is_empty() => EnvFilter::try_new(f),
        _ => EnvFilter::try_new(&cfg.level),
    }
    .map_err(|e| ServeError::LogLevel {
        level: cfg.level.clone(),
        problem: e.to_string(),
    })?;
    // Colours only on a terminal (not in `docker logs` or a log file).
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second call (tests) keeps the first subscriber.
    let _ = match cfg.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}

impl From<crate::config::ConfigError> for ServeError {
    fn from(e: crate::config::ConfigError) -> Self {
        ServeError::Config(Box::new(e))
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ServeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)
}

/// The service for a configuration.
pub fn service(config: &Config) -> Service {
    Service::new(
        ServerInfo::default(),
        config.access.admins.iter().map(Identity::new).collect(),
    )
    .with_crypto_policy(config.crypto.clone())
}

/// Readiness of the HSM: the session pool can log in and the master keys are found.
struct HsmProbe(Arc<Hsm>);

impl ReadinessProbe for HsmProbe {
    fn name(&self) -> &'static str {
        "hsm"
    }

    fn check(&self) -> Result<(), String> {
        self.0
            .current_kek_version()
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Readiness of the store: open, and a read goes through (an absent identifier answers
/// NotFound without touching the HSM).
struct StoreProbe(Arc<SledStore>);

impl ReadinessProbe for StoreProbe {
    fn name(&self) -> &'static str {
        "store"
    }

    fn check(&self) -> Result<(), String> {
        match self.0.get(&UniqueIdentifier::new("\u{0}readiness")) {
            Ok(_) | Err(StoreError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}

pub fn serve(config_path: &Path) -> Result<(), ServeError> {
    serve_with(config_path, &KnownAnswers::standard())
}

/// [`serve`] with the known-answer vectors given (a test injects a wrong one to see start-up
/// stop with the check's name).
pub fn serve_with(config_path: &Path, answers: &KnownAnswers) -> Result<(), ServeError> {
    serve_config(Config::load(config_path)?, answers)
}

/// [`serve_with`] with the configuration already loaded (`hsmkms container` adjusts it).
pub fn serve_config(config: Config, answers: &KnownAnswers) -> Result<(), ServeError> {
    init_logging(&config.logging)?;
    // Opening the HSM checks module, token label, PIN and master keys (`hsmkms init`), with
    // messages that say which.
    let hsm = Arc::new(Hsm::open(&config.hsm)?);
    info!(module = %hsm.module_path().display(), token = %config.hsm.token_label, profile = %hsm.profile().name, "HSM open");
    // FIPS mode: the AWS-LC module and its self-test, the HSM's approved mode (strict mode
    // refuses a test token), the known-answer tests through the HSM; then the status line.
    let (policy, mut report) = fips::startup(&config, &hsm, answers)?;
    let mode = TlsMode::for_config(&config.fips);
    report.tls_fips = tls::server_config(&config.tls, mode, &[])?.fips();
    report.log();
    // The store authenticates every record with the HSM's record-MAC key; opening it checks
    // the schema version and that the MAC key matches the one the store was created with.
    let store = Arc::new(SledStore::open(
        &StoreOptions::from_config(&config.store),
        Arc::new(HsmRecordMac::new(hsm.clone())),
    )?);
    info!(path = %config.store.path.display(), "store open");
    let service = Arc::new(
        service(&config)
            .with_policy(policy)
            .with_objects(hsm.clone(), store.clone())
            .with_probe(Box::new(HsmProbe(hsm.clone())))
            .with_probe(Box::new(StoreProbe(store.clone()))),
    );
    runtime()?.block_on(async {
        let server = RunningServer::start(&config, service.clone()).await?;
        let clean = server.run_until_signal().await;
        info!(clean, "listeners closed");
        Ok::<_, ServeError>(())
    })?;
    // Flush the store, then drop the last references: the store closes, then the HSM logs out.
    drop(service);
    store.flush()?;
    drop(store);
    drop(hsm);
    info!("stopped");
    Ok(())
}

/// `hsmkms health`: GET /readyz (or /healthz with `live`) on the configured health listener or
/// `addr`. Prints the answer; fails unless it is 200.
pub fn health(
    config_path: Option<&Path>,
    addr: Option<SocketAddr>,
    live: bool,
) -> Result<String, ServeError> {
    let addr = match addr {
        Some(a) => a,
        None => {
            let path = config_path.unwrap_or(Path::new("hsmkms.toml"));
            Config::load(path)?.server.health_listen
        }
    };
    let path = if live { "/healthz" } else { "/readyz" };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    Ok(rt.block_on(health::check(addr, path))?)
}
