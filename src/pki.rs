//! A development PKI (rcgen on aws-lc-rs): one CA that signs the server certificate and client
//! certificates (clientAuth EKU, as PyKMIP and webpki require), and CRLs. Used by `hsmkms pki`,
//! the development mode and the tests. Not a production CA: its key sits in a file beside the
//! certificates.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::secret::SecretString;

/// Why a certificate could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A certificate and its private key, both PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: SecretString,
    pub serial: Vec<u8>,
}

/// What a client certificate should look like (tests vary these to provoke refusals).
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Include the clientAuth extended key usage (serverAuth only when false).
    pub client_auth_eku: bool,
    pub dns_names: Vec<String>,
    pub emails: Vec<String>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        let now = OffsetDateTime::now_utc();
        ClientOptions {
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(825),
            client_auth_eku: true,
            dns_names: Vec::new(),
            emails: Vec::new(),
        }
    }
}

/// A certificate authority.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    key_pem: SecretString,
    pub cert_pem: String,
    serial: u64,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "hsmkms development");
    dn.push(DnType::CommonName, cn);
    dn
}

fn random_serial(counter: u64) -> SerialNumber {
    // Unique per CA instance: time in nanoseconds and a counter; positive (top bit clear).
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&nanos.to_be_bytes());
    b[8..].copy_from_slice(&counter.to_be_bytes());
    b[0] &= 0x7F;
    b[0] |= 0x10;
    SerialNumber::from_slice(&b)
}

impl Ca {
    /// A new self-signed CA valid for ten years.
    pub fn new(cn: &str) -> Result<Self, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(3650);
        params.serial_number = Some(random_serial(0));
        let cert = params.self_signed(&key)?;
        Ok(Ca {
            cert_pem: cert.pem(),
            key_pem: SecretString::new(key.serialize_pem()),
            issuer: Issuer::new(params, key),
            serial: 1,
        })
    }

    /// A CA from its PEM certificate and key (files written by [`Ca::save`]).
    pub fn load(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        Ok(Ca {
            issuer: Issuer::from_ca_cert_pem(cert_pem, key)?,
            key_pem: SecretString::new(key_pem.to_owned()),
            cert_pem: cert_pem.to_owned(),
            serial: 1,
        })
    }

    /// The CA key, PEM.
    pub fn key_pem(&self) -> &SecretString {
        &self.key_pem
    }

    fn issue(&mut self, mut params: CertificateParams) -> Result<Issued, PkiError> {
        let key = KeyPair::generate()?;
        let serial = random_serial(self.serial);
        self.serial += 1;
        params.serial_number = Some(serial.clone());
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: SecretString::new(key.serialize_pem()),
            serial: serial.to_bytes(),
        })
    }

    /// A server certificate for these DNS names and IP addresses (serverAuth), two years.
    pub fn issue_server(&mut self, names: &[String]) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => n.clone().try_into().map(SanType::DnsName),
            })
            .collect::<Result<_, _>>()?;
        params.distinguished_name = dn(names.first().map_or("hsmkms", String::as_str));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + Duration::days(730);
        self.issue(params)
    }

    /// A client certificate whose subject CN is `cn`.
    pub fn issue_client(&mut self, cn: &str, opts: &ClientOptions) -> Result<Issued, PkiError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = dn(cn);
        for d in &opts.dns_names {
            params
                .subject_alt_names
                .push(SanType::DnsName(d.clone().try_into()?));
        }
        for e in &opts.emails {
            params
                .subject_alt_names
                .push(SanType::Rfc822Name(e.clone().try_into()?));
        }
        params.extended_key_usages = if opts.client_auth_eku {
            vec![ExtendedKeyUsagePurpose::ClientAuth]
        } else {
            vec![ExtendedKeyUsagePurpose::ServerAuth]
        };
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before = opts.not_before;
        params.not_after = opts.not_after;
        self.issue(params)
    }

    /// A CRL (PEM) revoking the certificates with these serial numbers, valid for 30 days.
    pub fn crl(&self, revoked: &[Vec<u8>]) -> Result<String, PkiError> {
        let now = OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - Duration::minutes(5),
            next_update: now + Duration::days(30),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: now - Duration::minutes(1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.pem()?)
    }
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), PkiError> {
    let io = |source| PkiError::Io {
        path: path.to_owned(),
        source,
    };
    std::fs::write(path, text).map_err(io)?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Io {
        path: path.to_owned(),
        source,
    })
}

/// The files of a development PKI in `dir`: `ca.crt`/`ca.key`, `server.crt`/`server.key` and
/// `client-<name>.crt`/`.key`. Creates what is missing and keeps what exists; returns what it
/// created.
pub fn ensure_dev_pki(
    dir: &Path,
    server_names: &[String],
    clients: &[String],
) -> Result<Vec<PathBuf>, PkiError> {
    std::fs::create_dir_all(dir).map_err(|source| PkiError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut created = Vec::new();
    let (ca_crt, ca_key) = (dir.join("ca.crt"), dir.join("ca.key"));
    let mut ca = if ca_crt.is_file() && ca_key.is_file() {
        Ca::load(&read(&ca_crt)?, &read(&ca_key)?)?
    } else {
        let ca = Ca::new("hsmkms development CA")?;
        write(&ca_key, ca.key_pem().expose(), true)?;
        write(&ca_crt, &ca.cert_pem, false)?;
        created.extend([ca_crt.clone(), ca_key.clone()]);
        ca
    };
    let mut pairs: Vec<(PathBuf, PathBuf, Option<&String>)> =
        vec![(dir.join("server.crt"), dir.join("server.key"), None)];
    for c in clients {
        pairs.push((
            dir.join(format!("client-{c}.crt")),
            dir.join(format!("client-{c}.key")),
            Some(c),
        ));
    }
    for (crt, key, client) in pairs {
        if crt.is_file() && key.is_file() {
            continue;
        }
        let issued = match client {
            None => ca.issue_server(server_names)?,
            Some(cn) => ca.issue_client(cn, &ClientOptions::default())?,
        };
        write(&key, issued.key_pem.expose(), true)?;
        write(&crt, &issued.cert_pem, false)?;
        created.extend([crt, key]);
    }
    Ok(created)
}
