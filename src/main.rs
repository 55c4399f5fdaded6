//! The `hsmkms` command: see `hsmkms --help`.
#![deny(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    hsmkms::cli::main()
}
