//! Test tokens: a private SoftHSMv2 or Kryoptic token in a temporary directory, selected by
//! `HSMKMS_TEST_PKCS11=softhsm|kryoptic` (default `softhsm`).
//!
//! - SoftHSM: module `HSMKMS_SOFTHSM_MODULE` (default `/usr/lib/softhsm/libsofthsm2.so`), its
//!   own `SOFTHSM2_CONF`, token created with `softhsm2-util`.
//! - Kryoptic: module `HSMKMS_KRYOPTIC_MODULE` (default `.cache-kryoptic/libkryoptic_pkcs11.so`,
//!   built by `tools/build-kryoptic.sh`), its own `KRYOPTIC_CONF`, token created with
//!   `pkcs11-tool` (opensc).
//!
//! Both modules read their configuration once per process: run these suites under
//! `cargo nextest` (one process per test). A missing module or tool fails the test with what to
//! install; nothing is skipped.
#![allow(dead_code)]

pub mod crash;
pub mod fault;
pub mod soft_store;
pub mod vectors;

use std::path::{Path, PathBuf};
use std::process::Command;

use hsmkms::hsm::{Hsm, HsmOptions, Pin, Profile};

pub const SO_PIN: &str = "12345678";
pub const USER_PIN: &str = "87654321";
pub const LABEL: &str = "hsmkms-test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    SoftHsm,
    Kryoptic,
}

pub struct TestToken {
    pub kind: Token,
    pub dir: tempfile::TempDir,
    pub module: PathBuf,
    pub profile: Profile,
}

pub fn selected() -> Token {
    match std::env::var("HSMKMS_TEST_PKCS11").as_deref() {
        Ok("kryoptic") => Token::Kryoptic,
        Ok("softhsm") | Ok("softhsm2") | Err(_) => Token::SoftHsm,
        Ok(other) => panic!("HSMKMS_TEST_PKCS11={other}: use softhsm or kryoptic"),
    }
}

fn run(cmd: &mut Command, what: &str, install: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run ({e}); {install}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestToken {
    /// Creates an initialised token with user PIN [`USER_PIN`] (no master keys yet).
    pub fn new() -> Self {
        let kind = selected();
        let dir = tempfile::tempdir().unwrap();
        let (module, profile) = match kind {
            Token::SoftHsm => {
                let module = std::env::var_os("HSMKMS_SOFTHSM_MODULE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"));
                assert!(
                    module.is_file(),
                    "SoftHSMv2 module {} not found: install it (Debian: apt-get install softhsm2) \
                     or set HSMKMS_SOFTHSM_MODULE",
                    module.display()
                );
                let tokens = dir.path().join("tokens");
                std::fs::create_dir(&tokens).unwrap();
                let conf = dir.path().join("softhsm2.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                        tokens.display()
                    ),
                )
                .unwrap();
                std::env::set_var("SOFTHSM2_CONF", &conf);
                run(
                    Command::new("softhsm2-util").args([
                        "--init-token",
                        "--free",
                        "--label",
                        LABEL,
                        "--so-pin",
                        SO_PIN,
                        "--pin",
                        USER_PIN,
                    ]),
                    "softhsm2-util --init-token",
                    "install softhsm2 (Debian: apt-get install softhsm2)",
                );
                (module, Profile::load("softhsm2").unwrap())
            }
            Token::Kryoptic => {
                let module = std::env::var_os("HSMKMS_KRYOPTIC_MODULE")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join(".cache-kryoptic/libkryoptic_pkcs11.so")
                    });
                assert!(
                    module.is_file(),
                    "Kryoptic module {} not found: build it with tools/build-kryoptic.sh (needs \
                     Debian libclang-dev libssl-dev pkg-config libsqlite3-dev) or set \
                     HSMKMS_KRYOPTIC_MODULE",
                    module.display()
                );
                let conf = dir.path().join("token.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "[[slots]]\nslot = 1\ndbtype = \"sqlite\"\ndbargs = \"{}\"\n",
                        dir.path().join("token.sql").display()
                    ),
                )
                .unwrap();
                std::env::set_var("KRYOPTIC_CONF", &conf);
                let m = module.to_str().unwrap();
                let opensc = "install opensc (Debian: apt-get install opensc) for pkcs11-tool";
                run(
                    Command::new("pkcs11-tool").args([
                        "--module",
                        m,
                        "--slot",
                        "1",
                        "--init-token",
                        "--label",
                        LABEL,
                        "--so-pin",
                        SO_PIN,
                    ]),
                    "pkcs11-tool --init-token",
                    opensc,
                );
                run(
                    Command::new("pkcs11-tool").args([
                        "--module",
                        m,
                        "--token-label",
                        LABEL,
                        "--login",
                        "--login-type",
                        "so",
                        "--so-pin",
                        SO_PIN,
                        "--init-pin",
                        "--pin",
                        USER_PIN,
                    ]),
                    "pkcs11-tool --init-pin",
                    opensc,
                );
                (module, Profile::load("kryoptic").unwrap())
            }
        };
        Self {
            kind,
            dir,
            module,
            profile,
        }
    }

    pub fn open_with(&self, options: HsmOptions) -> Hsm {
        Hsm::open_with(
            &self.module,
            self.profile.clone(),
            LABEL,
            Pin::new(USER_PIN.into()),
            options,
        )
        .unwrap_or_else(|e| panic!("opening the test token: {e}"))
    }

    pub fn open(&self) -> Hsm {
        self.open_with(HsmOptions::default())
    }

    /// A token with master keys (`init`) and an open [`Hsm`].
    pub fn initialised() -> (Self, Hsm) {
        let t = Self::new();
        let hsm = t.open();
        hsm.init_master_keys().unwrap();
        (t, hsm)
    }

    /// Writes an hsmkms configuration for this token (PIN in a file) and returns its path.
    pub fn config_file(&self) -> PathBuf {
        let pin = self.dir.path().join("user.pin");
        std::fs::write(&pin, format!("{USER_PIN}\n")).unwrap();
        let profile = match self.kind {
            Token::SoftHsm => "softhsm2",
            Token::Kryoptic => "kryoptic",
        };
        let cfg = self.dir.path().join("hsmkms.toml");
        std::fs::write(
            &cfg,
            format!(
                "[hsm]\nmodule = \"{}\"\nprofile = \"{profile}\"\ntoken_label = \"{LABEL}\"\n\
                 pin_file = \"user.pin\"\n[store]\npath = \"store\"\n",
                self.module.display()
            ),
        )
        .unwrap();
        cfg
    }

    /// The environment a child process needs to see this token.
    pub fn env(&self) -> Vec<(&'static str, PathBuf)> {
        match self.kind {
            Token::SoftHsm => vec![("SOFTHSM2_CONF", self.dir.path().join("softhsm2.conf"))],
            Token::Kryoptic => vec![("KRYOPTIC_CONF", self.dir.path().join("token.conf"))],
        }
    }
}
