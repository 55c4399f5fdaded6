//! The `hsmkms` command line: subcommands and their wiring to the library layers.

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
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("hsmkms {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
    }
}
