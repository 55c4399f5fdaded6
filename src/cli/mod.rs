//! The `hsmkms` command line: subcommands and their wiring to the library layers.

pub mod container;
pub mod doctor;
pub mod init;
pub mod pki;
pub mod serve;
pub mod ttlv;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hsmkms",
    version,
    about = "KMIP key server backed by a PKCS#11 HSM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the version.
    Version,
    /// Convert KMIP messages between binary TTLV, hex, XML and JSON.
    #[command(subcommand)]
    Ttlv(ttlv::TtlvCommand),
    /// Create the master keys (KEK and record-MAC key) in the HSM token; never overwrites.
    Init {
        /// The configuration file (its [hsm] section names module, token and PIN).
        #[arg(long)]
        config: PathBuf,
        /// Add the next KEK version instead (after the first init).
        #[arg(long)]
        new_kek_version: bool,
        /// Create only what is missing and succeed when every master key exists (for scripts
        /// run on every start). Like a plain init, creates keys only while the store is empty.
        #[arg(long, conflicts_with = "new_kek_version")]
        only_missing: bool,
    },
    /// Run the KMIP server (KMIP/TLS, HTTPS POST /kmip, health) until SIGTERM or SIGINT.
    Serve {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Report FIPS mode (fips build, TLS provider, HSM approved mode, policy) and run the HSM
    /// self-checks; fails when `serve` would refuse to start.
    Doctor {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// The container image's entrypoint: check the volume, create on first start what is
    /// missing (SoftHSM token, PINs, development PKI, hsmkms.toml, master keys), then serve.
    Container(container::ContainerArgs),
    /// Create a development CA, server certificate and client certificates (keeps existing ones).
    Pki(pki::PkiArgs),
    /// Container health check: GET /readyz (or /healthz) on the health listener; exit 0 when 200.
    Health {
        /// The configuration file whose [server] health_listen to ask.
        #[arg(long, conflicts_with = "addr")]
        config: Option<PathBuf>,
        /// The health listener's address instead (e.g. 127.0.0.1:9997).
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Ask /healthz (the process is up) instead of /readyz (HSM and store usable).
        #[arg(long)]
        live: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Version => {
            println!("hsmkms {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Ttlv(cmd) => ttlv::run(cmd),
        Command::Init {
            config,
            new_kek_version,
            only_missing,
        } => init::run(&config, new_kek_version, only_missing)
            .map(|lines| lines.iter().for_each(|l| println!("{l}")))
            .map_err(|e| format!("init: {e}")),
        Command::Doctor { config } => match doctor::run(&config) {
            Ok(lines) => {
                lines.iter().for_each(|l| println!("{l}"));
                Ok(())
            }
            Err((lines, why)) => {
                lines.iter().for_each(|l| println!("{l}"));
                Err(format!("doctor: {why}"))
            }
        },
        Command::Serve { config } => serve::serve(&config).map_err(|e| e.to_string()),
        Command::Container(args) => container::run(&args).map_err(|e| format!("container: {e}")),
        Command::Pki(args) => pki::run(&args)
            .map(|lines| lines.iter().for_each(|l| println!("{l}")))
            .map_err(|e| e.to_string()),
        Command::Health { config, addr, live } => serve::health(config.as_deref(), addr, live)
            .map(|body| println!("{body}"))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hsmkms: {e}");
            ExitCode::FAILURE
        }
    }
}
