//! `hsmkms pki`: a development CA with a server certificate and client certificates, created
//! where missing and kept where present.

use std::path::PathBuf;

use clap::Args;

#[derive(Args)]
pub struct PkiArgs {
    /// Directory of the PKI files (ca.crt, ca.key, server.crt, server.key, client-NAME.crt/.key).
    #[arg(long, default_value = "data/pki")]
    pub dir: PathBuf,
    /// Names in the server certificate (DNS names or IP addresses); the first is its CN.
    #[arg(long = "server-name", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
    pub server_names: Vec<String>,
    /// Client certificates to create (their subject CN, the client identity).
    #[arg(long = "client", default_values_t = ["client".to_string()])]
    pub clients: Vec<String>,
}

pub fn run(args: &PkiArgs) -> Result<Vec<String>, crate::pki::PkiError> {
    let created = crate::pki::ensure_dev_pki(&args.dir, &args.server_names, &args.clients)?;
    let mut lines: Vec<String> = created
        .iter()
        .map(|p| format!("created {}", p.display()))
        .collect();
    if lines.is_empty() {
        lines.push(format!(
            "{}: every file exists, nothing created",
            args.dir.display()
        ));
    }
    Ok(lines)
}
