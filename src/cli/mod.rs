//! The `hsmkms` command line: subcommands and their wiring to the library layers.

pub mod init;

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
    /// Create the master keys (KEK and record-MAC key) in the HSM token; never overwrites.
    Init {
        /// The configuration file (its [hsm] section names module, token and PIN).
        #[arg(long)]
        config: PathBuf,
        /// Add the next KEK version instead (after the first init).
        #[arg(long)]
        new_kek_version: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("hsmkms {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Init {
            config,
            new_kek_version,
        } => match init::run(&config, new_kek_version) {
            Ok(lines) => {
                for l in lines {
                    println!("{l}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hsmkms init: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
