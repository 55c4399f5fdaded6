//! The typed configuration: one TOML file plus environment overrides
//! (`HSMKMS__SECTION__KEY=value`, e.g. `HSMKMS__HSM__TOKEN_LABEL=lab`), read once at start-up,
//! with unknown keys refused and every value validated with a message that says what to fix.
//!
//! Nothing else in the crate reads configuration ad hoc: the CLI loads a [`Config`] and hands
//! each layer its own section.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Problems with the configuration, each saying what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} not found: pass an existing file with --config")]
    Missing { path: PathBuf },
    #[error("configuration {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: ::config::ConfigError,
    },
    #[error("configuration: {0}")]
    Invalid(String),
}

/// The whole configuration. Later layers add their sections here.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub access: AccessConfig,
    pub limits: LimitsConfig,
    pub hsm: HsmConfig,
    pub store: StoreConfig,
    pub logging: LoggingConfig,
    pub crypto: CryptoConfig,
    pub fips: FipsConfig,
}

/// `[server]`: where the listeners bind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// KMIP over TLS (binary TTLV, back-to-back messages). The IANA port for KMIP is 5696.
    pub kmip_listen: SocketAddr,
    /// HTTPS `POST /kmip` (binary or JSON TTLV).
    pub https_listen: SocketAddr,
    /// Plain HTTP `GET /healthz` and `GET /readyz` for probes (they carry no client certificate):
    /// keep it on loopback or a private interface.
    pub health_listen: SocketAddr,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            kmip_listen: SocketAddr::from(([127, 0, 0, 1], 5696)),
            https_listen: SocketAddr::from(([127, 0, 0, 1], 9998)),
            health_listen: SocketAddr::from(([127, 0, 0, 1], 9997)),
        }
    }
}

/// `[tls]`: the server's certificate and how clients are authenticated (mutual TLS, always).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// The server certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// The server private key (PEM: PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// The CA certificates that sign client certificates (PEM bundle).
    pub client_ca: PathBuf,
    /// An optional CRL file (PEM or DER) of revoked client certificates.
    pub client_crl: Option<PathBuf>,
    /// What names a client: its certificate's subject CN, the full subject DN, the first DNS
    /// SAN or the first e-mail SAN.
    pub identity: IdentitySource,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            cert: PathBuf::from("server.crt"),
            key: PathBuf::from("server.key"),
            client_ca: PathBuf::from("clients-ca.crt"),
            client_crl: None,
            identity: IdentitySource::Cn,
        }
    }
}

/// Where the client identity is read from in its certificate.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum IdentitySource {
    #[default]
    Cn,
    Dn,
    SanDns,
    SanEmail,
}

/// `[access]`: who may do what.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Identities (as `[tls] identity` extracts them) that see and manage every object.
    pub admins: Vec<String>,
}

/// `[limits]`: what one client may cost. Each bounds a specific attack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest KMIP message in bytes (8-byte header included), refused from its header before the
    /// body is read: bounds memory per message.
    pub max_message_size: usize,
    /// Most open client connections (KMIP and HTTPS together); a connection over the cap is
    /// accepted and closed at once: bounds sockets, memory and tasks.
    pub max_connections: usize,
    /// Time allowed for a TLS handshake: stops clients that open sockets and stall.
    pub handshake_timeout_ms: u64,
    /// Time a connection may sit idle between messages before it is closed.
    pub idle_timeout_ms: u64,
    /// Time allowed to receive one whole message once its first byte arrived (and to write the
    /// answer): stops slow-drip clients.
    pub read_deadline_ms: u64,
    /// On shutdown, how long in-flight requests may take to finish.
    pub shutdown_grace_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_message_size: 1 << 20,
            max_connections: 4096,
            handshake_timeout_ms: 10_000,
            idle_timeout_ms: 300_000,
            read_deadline_ms: 30_000,
            shutdown_grace_ms: 30_000,
        }
    }
}

/// `[hsm]`: the PKCS#11 module and token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HsmConfig {
    /// Path of the PKCS#11 module (shared library).
    pub module: PathBuf,
    /// Name of an HSM profile in `hsm-profiles/` (`softhsm2`, `kryoptic`, …) or a path to one.
    pub profile: String,
    /// Label of the token to use (tokens are found by label, never by slot number).
    pub token_label: String,
    /// File holding the user PIN (first line). Exactly one of `pin_file` and `pin_env` is set.
    pub pin_file: Option<PathBuf>,
    /// Environment variable holding the user PIN.
    pub pin_env: Option<String>,
    /// Number of PKCS#11 sessions kept open for requests.
    pub sessions: usize,
    /// Most unwrapped key copies kept in the HSM for reuse (0 disables the cache).
    pub cache_entries: usize,
    /// Oldest an unwrapped copy may be before it is unwrapped again, in seconds.
    pub cache_max_age_secs: u64,
}

impl Default for HsmConfig {
    fn default() -> Self {
        Self {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            profile: "softhsm2".into(),
            token_label: "hsmkms".into(),
            pin_file: None,
            pin_env: None,
            sessions: 4,
            cache_entries: 1024,
            cache_max_age_secs: 300,
        }
    }
}

/// `[store]`: where the sled database lives and how writes are made durable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub path: PathBuf,
    /// Concurrent writes share one flush (each still waits for a flush covering it). When
    /// false, every write flushes on its own.
    pub group_commit: bool,
    /// With `group_commit`, how long the flushing writer waits for others to join, in
    /// microseconds (0 to 10,000). Raises throughput under load, adds latency to each write.
    pub group_commit_window_us: u64,
    /// sled page cache, in MiB (8 to 65,536).
    pub cache_mb: u64,
}

/// Longest group-commit window accepted: a larger one only adds latency.
pub const MAX_GROUP_COMMIT_WINDOW_US: u64 = 10_000;

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/store"),
            group_commit: true,
            group_commit_window_us: 0,
            cache_mb: 256,
        }
    }
}

/// `[crypto]`: policy of the cryptographic operations (Encrypt, Decrypt, MAC).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CryptoConfig {
    /// Allows AES-ECB for every key (it leaks equal blocks). When false (the default), ECB is
    /// allowed only with keys whose own Cryptographic Parameters name ECB. The OASIS CS-BC-M
    /// conformance vectors need it true.
    pub insecure_allow_ecb: bool,
    /// Object Groups whose keys are made non-extractable at Create and Register, for KMIP
    /// 1.0–1.3 clients, which cannot set Extractable themselves.
    pub non_extractable_groups: Vec<String>,
}

/// `[fips]`: FIPS mode (see `fips/README.md`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct FipsConfig {
    /// Apply the approved-algorithm policy (`fips/approved.toml`) to every request, with TLS
    /// restricted to approved suites, groups and signature schemes. Default: true in a build with
    /// the `fips` feature, false otherwise. `false` in a fips build is logged as "FIPS build,
    /// policy off"; `true` in a plain build is a policy-only mode (no validated module for TLS).
    pub enabled: bool,
    /// Refuse to start unless every part of the boundary can be validated: a `fips` build, the
    /// policy on, and an HSM whose profile has an approved mode (a non-validated test token such
    /// as SoftHSM or Kryoptic is refused instead of started with a warning).
    pub strict: bool,
}

/// Whether this binary was built with the `fips` feature (the AWS-LC FIPS module).
pub const FIPS_BUILD: bool = cfg!(feature = "fips");

impl Default for FipsConfig {
    fn default() -> Self {
        Self {
            enabled: FIPS_BUILD,
            strict: false,
        }
    }
}

/// `[logging]`: format and level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `hsmkms=debug`.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    /// Reads `path` (TOML) and the `HSMKMS__…` environment, then validates.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::Missing {
                path: path.to_owned(),
            });
        }
        let parse = |source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        };
        let cfg: Config = ::config::Config::builder()
            .add_source(::config::File::from(path).format(::config::FileFormat::Toml))
            .add_source(
                ::config::Environment::with_prefix("HSMKMS")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .map_err(parse)?
            .try_deserialize()
            .map_err(parse)?;
        cfg.resolve_relative(path.parent().unwrap_or(Path::new(".")))
            .validate()
    }

    /// Paths in the file are relative to the file's directory.
    fn resolve_relative(mut self, base: &Path) -> Self {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = self.hsm.pin_file.as_mut() {
            fix(p);
        }
        fix(&mut self.store.path);
        fix(&mut self.tls.cert);
        fix(&mut self.tls.key);
        fix(&mut self.tls.client_ca);
        if let Some(p) = self.tls.client_crl.as_mut() {
            fix(p);
        }
        self
    }

    /// Checks that need no I/O beyond the file system.
    pub fn validate(self) -> Result<Self, ConfigError> {
        match (&self.hsm.pin_file, &self.hsm.pin_env) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "[hsm] sets both pin_file and pin_env: keep one".into(),
                ))
            }
            (None, None) => return Err(ConfigError::Invalid(
                "[hsm] needs pin_file (a file holding the user PIN) or pin_env (an environment \
                     variable holding it)"
                    .into(),
            )),
            _ => {}
        }
        if self.hsm.token_label.is_empty() || self.hsm.token_label.len() > 32 {
            return Err(ConfigError::Invalid(
                "[hsm] token_label must be 1 to 32 characters (PKCS#11 labels are 32 bytes)".into(),
            ));
        }
        if self.hsm.sessions == 0 || self.hsm.sessions > 1024 {
            return Err(ConfigError::Invalid(
                "[hsm] sessions must be between 1 and 1024".into(),
            ));
        }
        if self.hsm.cache_entries > 1_000_000 {
            return Err(ConfigError::Invalid(
                "[hsm] cache_entries must be at most 1000000 (each entry is an HSM session object)"
                    .into(),
            ));
        }
        if self.hsm.cache_max_age_secs == 0 || self.hsm.cache_max_age_secs > 86_400 {
            return Err(ConfigError::Invalid(
                "[hsm] cache_max_age_secs must be between 1 and 86400".into(),
            ));
        }
        if self.hsm.profile.is_empty() {
            return Err(ConfigError::Invalid(
                "[hsm] profile must name a built-in profile (softhsm2, kryoptic, …) or a file"
                    .into(),
            ));
        }
        if self.store.path.as_os_str().is_empty() {
            return Err(ConfigError::Invalid(
                "[store] path must name the store directory".into(),
            ));
        }
        if self.store.group_commit_window_us > MAX_GROUP_COMMIT_WINDOW_US {
            return Err(ConfigError::Invalid(format!(
                "[store] group_commit_window_us must be at most {MAX_GROUP_COMMIT_WINDOW_US} \
                 (10 ms); 0 flushes as soon as a writer is ready"
            )));
        }
        if !(8..=65_536).contains(&self.store.cache_mb) {
            return Err(ConfigError::Invalid(
                "[store] cache_mb must be between 8 and 65536".into(),
            ));
        }
        self.validate_server()?;
        self.validate_fips()?;
        Ok(self)
    }
}

impl Config {
    fn validate_fips(&self) -> Result<(), ConfigError> {
        if self.fips.strict && !FIPS_BUILD {
            return Err(ConfigError::Invalid(
                "[fips] strict = true needs a binary built with the `fips` feature (cargo build \
                 --release --features fips); this one is not, so TLS is not in a validated module"
                    .into(),
            ));
        }
        if self.fips.strict && !self.fips.enabled {
            return Err(ConfigError::Invalid(
                "[fips] strict = true needs enabled = true: strict mode enforces the approved-\
                 algorithm policy"
                    .into(),
            ));
        }
        Ok(())
    }

    fn validate_server(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        let addrs = [s.kmip_listen, s.https_listen, s.health_listen];
        for (i, a) in addrs.iter().enumerate() {
            if a.port() != 0 && addrs[i + 1..].contains(a) {
                return Err(ConfigError::Invalid(format!(
                    "[server] {a} is used twice: kmip_listen, https_listen and health_listen \
                     need different addresses"
                )));
            }
        }
        let l = &self.limits;
        if l.max_message_size < 8 || l.max_message_size > 64 << 20 {
            return Err(ConfigError::Invalid(
                "[limits] max_message_size must be between 8 bytes and 64 MiB (67108864)".into(),
            ));
        }
        if l.max_connections == 0 || l.max_connections > 1_000_000 {
            return Err(ConfigError::Invalid(
                "[limits] max_connections must be between 1 and 1000000".into(),
            ));
        }
        for (name, v) in [
            ("handshake_timeout_ms", l.handshake_timeout_ms),
            ("idle_timeout_ms", l.idle_timeout_ms),
            ("read_deadline_ms", l.read_deadline_ms),
        ] {
            if v == 0 {
                return Err(ConfigError::Invalid(format!(
                    "[limits] {name} must be more than 0 milliseconds"
                )));
            }
        }
        if self.access.admins.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid(
                "[access] admins contains an empty identity".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("hsmkms.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn rejects_unknown_keys_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[hsm]\npin_file = \"pin\"\ntoken_lable = \"x\"\n",
        );
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("token_lable"), "{e}");
    }

    #[test]
    fn rejects_missing_file_and_missing_pin() {
        let dir = tempfile::tempdir().unwrap();
        let e = Config::load(&dir.path().join("nope.toml")).unwrap_err();
        assert!(matches!(e, ConfigError::Missing { .. }));
        let p = write(dir.path(), "[store]\npath = \"s\"\n");
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("pin_file"), "{e}");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[hsm]\ntoken_label = \"file\"\npin_env = \"PIN\"\n",
        );
        // Only this test sets HSMKMS__ variables (and nextest runs it in its own process).
        std::env::set_var("HSMKMS__HSM__TOKEN_LABEL", "from-env");
        std::env::set_var("HSMKMS__HSM__SESSIONS", "9");
        let c = Config::load(&p);
        std::env::remove_var("HSMKMS__HSM__TOKEN_LABEL");
        std::env::remove_var("HSMKMS__HSM__SESSIONS");
        let c = c.unwrap();
        assert_eq!(c.hsm.token_label, "from-env");
        assert_eq!(c.hsm.sessions, 9);
    }

    #[test]
    fn accepts_file_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[hsm]\ntoken_label = \"lab\"\npin_file = \"hsm.pin\"\n[store]\npath = \"db\"\n",
        );
        let c = Config::load(&p).unwrap();
        assert_eq!(c.hsm.token_label, "lab");
        assert_eq!(c.hsm.pin_file.unwrap(), dir.path().join("hsm.pin"));
        assert_eq!(c.store.path, dir.path().join("db"));
        assert_eq!(c.logging.format, LogFormat::Text);
        assert_eq!(c.hsm.cache_entries, 1024);
        assert!(c.store.group_commit);
    }

    #[test]
    fn rejects_out_of_range_cache_settings() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "[hsm]\npin_file = \"p\"\ncache_max_age_secs = 0\n",
        );
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("cache_max_age_secs"), "{e}");
        let p = write(
            dir.path(),
            "[hsm]\npin_file = \"p\"\ncache_entries = 2000000\n",
        );
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("cache_entries"), "{e}");
    }

    #[test]
    fn fips_defaults_follow_the_build_and_strict_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let base = "[hsm]\npin_file = \"p\"\n";
        let c = Config::load(&write(dir.path(), base)).unwrap();
        assert_eq!(c.fips.enabled, FIPS_BUILD);
        assert!(!c.fips.strict);
        let c = Config::load(&write(
            dir.path(),
            &format!("{base}[fips]\nenabled = true\n"),
        ))
        .unwrap();
        assert!(c.fips.enabled);
        let p = write(
            dir.path(),
            &format!("{base}[fips]\nenabled = false\nstrict = true\n"),
        );
        let e = Config::load(&p).unwrap_err().to_string();
        if FIPS_BUILD {
            assert!(e.contains("needs enabled = true"), "{e}");
        } else {
            assert!(e.contains("`fips` feature"), "{e}");
        }
        let p = write(
            dir.path(),
            &format!("{base}[fips]\nenabled = true\nstrict = true\n"),
        );
        let r = Config::load(&p);
        assert_eq!(r.is_ok(), FIPS_BUILD, "{r:?}");
        let p = write(dir.path(), &format!("{base}[fips]\nenable = true\n"));
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("enable"), "{e}");
    }

    #[test]
    fn accepts_store_durability_settings_and_rejects_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let base = "[hsm]\npin_file = \"p\"\n[store]\npath = \"db\"\n";
        let p = write(
            dir.path(),
            &format!("{base}group_commit = false\ngroup_commit_window_us = 200\ncache_mb = 64\n"),
        );
        let c = Config::load(&p).unwrap();
        assert!(!c.store.group_commit);
        assert_eq!(c.store.group_commit_window_us, 200);
        assert_eq!(c.store.cache_mb, 64);
        let p = write(
            dir.path(),
            &format!("{base}group_commit_window_us = 20000\n"),
        );
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("group_commit_window_us"), "{e}");
        let p = write(dir.path(), &format!("{base}cache_mb = 1\n"));
        let e = Config::load(&p).unwrap_err().to_string();
        assert!(e.contains("cache_mb"), "{e}");
    }
}
