//! hsmkms: a KMIP key server whose keys are generated, wrapped and used only inside an HSM
//! reached over PKCS#11.
//!
//! Layers, each depending only on those before it:
//! - [`ttlv`]: the wire format (binary TTLV, KMIP XML and JSON), bounded and strict;
//! - [`kmip`]: typed KMIP 1.0–2.1 messages and the one internal attribute model;
//! - [`hsm`]: PKCS#11 through `cryptoki`: token, sessions, master keys, every crypto call;
//! - [`store`]: the sled store of HSM-wrapped blobs and metadata, authenticated per record;
//! - [`config`]: the typed configuration, validated at start-up;
//! - [`fips`]: FIPS mode's start-up checks (AWS-LC module, HSM approved mode, known-answer
//!   tests) and report; the algorithm policy itself is [`service::policy`];
//! - the CLI (`src/main.rs`, [`cli`]) on top;
//! - `testing` (feature `testing`): the hsmkms image with SoftHSM, started by testcontainers for
//!   other crates' tests.
#![deny(unsafe_code)]

pub mod cli;
pub mod config;
pub mod fips;
pub mod hsm;
pub mod keystore;
pub mod kmip;
pub mod pki;
pub mod secret;
pub mod server;
pub mod service;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

/// The wire format: re-exported from the dependency-free `hsmkms-ttlv` crate (kept separate so
/// that its fuzz target builds light).
pub use hsmkms_ttlv as ttlv;
