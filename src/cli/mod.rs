//! The `hsmkms` command line: subcommands and their wiring to the library layers.

pub mod init;
pub mod ttlv;

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
    /// Create the master keys (KEK and record-MAC key) in the HSM token; never overwrites.
    Init {
        /// The configuration file (its [hsm] section names module, token and PIN).
        #[arg(long)]
        config: PathBuf,
        /// Add the next KEK version instead (after the first init).
        #[arg(long)]
        new_kek_version: bool,
    },
    /// Convert KMIP messages between binary TTLV, hex, XML and JSON.
    #[command(subcommand)]
    Ttlv(ttlv::TtlvCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init {
            config,
            new_kek_version,
        } => init::run(&config, new_kek_version)
            .map(|lines| lines.iter().for_each(|l| println!("{l}")))
            .map_err(|e| format!("init: {e}")),
        Command::Ttlv(cmd) => ttlv::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hsmkms: {e}");
            ExitCode::FAILURE
        }
    }
}
