//! The `hsmkms` command line: subcommands and their wiring to the library layers.

pub mod ttlv;

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
    /// Convert KMIP messages between binary TTLV, hex, XML and JSON.
    #[command(subcommand)]
    Ttlv(ttlv::TtlvCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
