//! `hsmkms container`: the entrypoint of the container image (which has no shell). On every
//! start it checks that the volume is writable (a root-owned bind mount is refused with the
//! `chown` to run); on the first start it lays the volume out — SoftHSM configuration and token,
//! PINs, development PKI, configuration file, master keys — and then, every time, it serves.
//!
//! Development only, not a security boundary: a generated PIN and the CA key sit in the same
//! volume as the token.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use clap::Args;
use tracing::info;

use crate::config::Config;
use crate::fips::KnownAnswers;
use crate::hsm::{ensure_token, Hsm, HsmError, Pin};

/// The environment variable the user PIN may come from (`docker run -e`).
pub const PIN_ENV: &str = "HSMKMS_PIN";

#[derive(Args)]
pub struct ContainerArgs {
    /// The volume: token, store, development PKI, PINs and hsmkms.toml.
    #[arg(long, default_value = "/var/lib/hsmkms")]
    pub dir: PathBuf,
    /// More names (DNS or IP) for the server certificate besides localhost and 127.0.0.1, used
    /// when the certificate is created on first start.
    #[arg(
        long = "server-name",
        env = "HSMKMS_SERVER_NAMES",
        value_delimiter = ','
    )]
    pub server_names: Vec<String>,
    /// A file holding the user PIN (a Docker secret); used when it exists. Otherwise the PIN
    /// comes from $HSMKMS_PIN, else from the configuration (by default `hsm.pin` in the volume,
    /// generated on first start).
    #[arg(
        long,
        env = "HSMKMS_PIN_FILE",
        default_value = "/run/secrets/hsmkms_pin"
    )]
    pub pin_secret: PathBuf,
    /// Prepare the volume and exit instead of serving.
    #[arg(long)]
    pub prepare_only: bool,
}

/// What stops the container from starting, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(
        "{dir} is not writable by this container's user (uid {uid}; the directory belongs to \
         uid {owner}): a bind-mounted host directory must belong to that user, so run \
         `chown -R {uid}:{uid} <the host directory>` on the host, or use a named volume"
    )]
    NotWritable {
        dir: PathBuf,
        uid: String,
        owner: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] Box<crate::config::ConfigError>),
    #[error("HSM: {0}")]
    Hsm(#[from] HsmError),
    #[error(transparent)]
    Init(#[from] super::init::InitError),
    #[error("development PKI: {0}")]
    Pki(#[from] crate::pki::PkiError),
    #[error(transparent)]
    Serve(#[from] super::serve::ServeError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ContainerError + '_ {
    move |source| ContainerError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The configuration written on first start (kept afterwards: edit it in the volume).
const CONFIG_TOML: &str = r#"# hsmkms container configuration, written on first start by `hsmkms container` and kept
# afterwards. Paths are relative to this file; HSMKMS__SECTION__KEY variables override values.
# The user PIN: a Docker secret (/run/secrets/hsmkms_pin) or $HSMKMS_PIN win over [hsm] pin_file.
[server]
kmip_listen   = "0.0.0.0:5696"
https_listen  = "0.0.0.0:9998"
health_listen = "0.0.0.0:9997"

[tls]
cert      = "pki/server.crt"
key       = "pki/server.key"
client_ca = "pki/ca.crt"
identity  = "cn"

[hsm]
module      = "/usr/lib/softhsm/libsofthsm2.so"
profile     = "softhsm2"
token_label = "hsmkms"
pin_file    = "hsm.pin"

[store]
path = "store"

[logging]
format = "text"
level  = "info"
"#;

/// Runs the entrypoint: prepare the volume, then serve until SIGTERM.
pub fn run(args: &ContainerArgs) -> Result<(), ContainerError> {
    let config = prepare(args)?;
    if args.prepare_only {
        return Ok(());
    }
    Ok(super::serve::serve_config(
        config,
        &KnownAnswers::standard(),
    )?)
}

/// Lays out the volume (what is missing only) and returns the configuration to serve.
pub fn prepare(args: &ContainerArgs) -> Result<Config, ContainerError> {
    let dir = &args.dir;
    check_writable(dir)?;
    // SoftHSM reads its configuration from $SOFTHSM2_CONF when the module loads: point it at the
    // volume unless the caller chose one.
    if std::env::var_os("SOFTHSM2_CONF").is_none() {
        let tokens = dir.join("softhsm/tokens");
        std::fs::create_dir_all(&tokens).map_err(io(&tokens))?;
        let conf = dir.join("softhsm2.conf");
        write_new(
            &conf,
            &format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )?;
        // Still one thread: nothing else reads the environment yet.
        std::env::set_var("SOFTHSM2_CONF", &conf);
    }
    let config_path = dir.join("hsmkms.toml");
    write_new(&config_path, CONFIG_TOML)?;
    let mut config = Config::load(&config_path).map_err(Box::new)?;
    super::serve::init_logging(&config.logging)?;
    let pin = choose_pin(&mut config, &args.pin_secret)?;
    let so_pin = existing_or_generated_pin(&dir.join("hsm.so-pin"))?;
    let hsm = &config.hsm;
    if ensure_token(&hsm.module, &hsm.token_label, &so_pin, &pin)? {
        info!(token = %hsm.token_label, "created the SoftHSM token");
    }
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    names.extend(args.server_names.iter().filter(|n| !n.is_empty()).cloned());
    for created in crate::pki::ensure_dev_pki(&dir.join("pki"), &names, &["client".into()])? {
        info!(file = %created.display(), "created development PKI file");
    }
    // The master keys `hsmkms init` creates: what a first start (or one killed half-way
    // through it) has not yet made, and only next to an empty store.
    let opened = Hsm::open(&config.hsm)?;
    for label in super::init::ensure_master_keys(&opened, &config.store.path)?.created {
        info!(%label, "created master key");
    }
    Ok(config)
}

/// The user PIN, from the Docker secret, `$HSMKMS_PIN` or the configured file (generated when
/// missing); sets `[hsm]` to read it the same way.
fn choose_pin(config: &mut Config, secret: &Path) -> Result<Pin, ContainerError> {
    let hsm = &mut config.hsm;
    if secret.is_file() {
        hsm.pin_file = Some(secret.to_owned());
        hsm.pin_env = None;
        info!(file = %secret.display(), "user PIN from the secret");
        return Ok(Pin::from_file(secret)?);
    }
    if std::env::var(PIN_ENV).is_ok_and(|v| !v.is_empty()) {
        hsm.pin_file = None;
        hsm.pin_env = Some(PIN_ENV.into());
        info!(variable = PIN_ENV, "user PIN from the environment");
        return Ok(Pin::from_env(PIN_ENV)?);
    }
    match (&hsm.pin_file, &hsm.pin_env) {
        (Some(file), _) => existing_or_generated_pin(file),
        (None, Some(var)) => Ok(Pin::from_env(var)?),
        // Config::load refuses a configuration with neither.
        (None, None) => Err(HsmError::Pin("set [hsm] pin_file or pin_env".into()).into()),
    }
}

/// Reads the PIN in `path`, or writes a random one there (mode 0600) first.
fn existing_or_generated_pin(path: &Path) -> Result<Pin, ContainerError> {
    if !path.exists() {
        let mut bytes = zeroize::Zeroizing::new([0u8; 16]);
        aws_lc_rs::rand::fill(&mut bytes[..])
            .map_err(|_| HsmError::Pin("the random generator failed".into()))?;
        let text = zeroize::Zeroizing::new(hex::encode(&bytes[..]));
        write_private(path, &text)?;
        info!(file = %path.display(), "generated a PIN");
    }
    Ok(Pin::from_file(path)?)
}

/// Writes `text` to a new file `path`; keeps an existing file.
fn write_new(path: &Path, text: &str) -> Result<(), ContainerError> {
    if path.exists() {
        return Ok(());
    }
    std::fs::write(path, text).map_err(io(path))
}

fn write_private(path: &Path, text: &str) -> Result<(), ContainerError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(text.as_bytes()).map_err(io(path))
}

/// Refuses a volume this process cannot write, saying which `chown` to run.
fn check_writable(dir: &Path) -> Result<(), ContainerError> {
    let probe = dir.join(".hsmkms-write-check");
    let result = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&probe, b""));
    match result {
        Ok(()) => std::fs::remove_file(&probe).map_err(io(&probe)),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            use std::os::unix::fs::MetadataExt;
            let owner = std::fs::metadata(dir)
                .map(|m| m.uid().to_string())
                .unwrap_or_else(|_| "?".into());
            Err(ContainerError::NotWritable {
                dir: dir.to_owned(),
                uid: current_uid().unwrap_or_else(|| "10001".into()),
                owner,
            })
        }
        Err(e) => Err(io(dir)(e)),
    }
}

/// This process's real uid, from /proc (no libc call: the crate has no unsafe code).
fn current_uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_a_pin_once_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hsm.pin");
        let first = existing_or_generated_pin(&p).unwrap();
        let again = existing_or_generated_pin(&p).unwrap();
        assert_eq!(first.expose(), again.expose());
        assert_eq!(first.expose().len(), 32);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_written_configuration_listens_on_every_interface_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hsmkms.toml");
        write_new(&p, CONFIG_TOML).unwrap();
        let c = Config::load(&p).unwrap();
        assert!(c.server.kmip_listen.ip().is_unspecified());
        assert!(c.server.https_listen.ip().is_unspecified());
        assert!(c.server.health_listen.ip().is_unspecified());
        assert_eq!(c.hsm.pin_file.unwrap(), dir.path().join("hsm.pin"));
    }
}
