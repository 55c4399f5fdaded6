//! The rustls configuration: TLS 1.3 and 1.2 on the aws-lc-rs provider only (every config is
//! built with `builder_with_provider`), the server certificate, and client certificates required
//! and verified against the client CA bundle (`WebPkiClientVerifier`), with an optional CRL.
//! Also: what a failed handshake means, in plain words for the log.
//!
//! FIPS mode ([`TlsMode::Approved`]: a `fips` build, or `[fips] enabled = true`): the provider is
//! rustls's FIPS provider (the AWS-LC FIPS module) in a `fips` build, restricted to approved
//! cipher suites (AES-GCM, TLS 1.3 and ECDHE in TLS 1.2), groups (P-256, P-384, and P-256 with
//! ML-KEM-768), and signature schemes (ECDSA on P-256/384/521, RSA PSS and PKCS#1 v1.5 with
//! SHA-2; no Ed25519, no SHA-1); TLS 1.2 requires Extended Master Secret. In a `fips` build the
//! configuration must report `ServerConfig::fips()`, or the server does not start.
//!
//! rustls itself rules out TLS ≤ 1.1, `TLS_RSA_*` key exchange, CBC suites, and SHA-1 signatures
//! on certificates; webpki requires the clientAuth extended key usage when a client certificate
//! lists extended key usages.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::sync::OnceLock;

use rustls::crypto::aws_lc_rs::ALL_KX_GROUPS;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::alg_id;
use rustls::pki_types::SignatureVerificationAlgorithm;
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, CipherSuite, Error as RustlsError, NamedGroup, PeerIncompatible,
    RootCertStore, ServerConfig, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};

use crate::config::TlsConfig;

/// Which algorithms the TLS configuration offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Everything the aws-lc-rs provider offers by default.
    Default,
    /// FIPS mode: approved suites, groups and signature schemes only, Extended Master Secret
    /// required in TLS 1.2.
    Approved,
}

impl TlsMode {
    /// Approved in a `fips` build whatever `[fips] enabled` says (the module is the FIPS one);
    /// otherwise approved when the policy is on.
    pub fn for_config(fips: &crate::config::FipsConfig) -> Self {
        if crate::config::FIPS_BUILD || fips.enabled {
            TlsMode::Approved
        } else {
            TlsMode::Default
        }
    }
}

/// TLS cipher suites approved in FIPS mode (SP 800-52 Rev. 2 §3.3.1, AES-GCM only).
pub const APPROVED_SUITES: &[CipherSuite] = &[
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
];

/// Key-exchange groups approved in FIPS mode (SP 800-56A Rev. 3 curves; the P-256 + ML-KEM-768
/// hybrid per SP 800-56C Rev. 2 §2 and FIPS 203). X25519 is not approved.
pub const APPROVED_GROUPS: &[NamedGroup] = &[
    NamedGroup::secp256r1MLKEM768,
    NamedGroup::secp256r1,
    NamedGroup::secp384r1,
];

/// Signature schemes approved in FIPS mode (FIPS 186-5 with SHA-2).
pub const APPROVED_SIGNATURE_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP521_SHA512,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
];

/// The base provider of this build: the FIPS provider in a `fips` build.
fn base_provider() -> CryptoProvider {
    #[cfg(feature = "fips")]
    {
        rustls::crypto::default_fips_provider()
    }
    #[cfg(not(feature = "fips"))]
    {
        rustls::crypto::aws_lc_rs::default_provider()
    }
}

/// The crypto provider every TLS configuration uses.
pub fn provider(mode: TlsMode) -> Arc<CryptoProvider> {
    let mut p = base_provider();
    if mode == TlsMode::Approved {
        p.cipher_suites
            .retain(|s| APPROVED_SUITES.contains(&s.suite()));
        p.kx_groups = APPROVED_GROUPS
            .iter()
            .filter_map(|g| ALL_KX_GROUPS.iter().find(|k| k.name() == *g).copied())
            .collect();
        p.signature_verification_algorithms =
            approved_signature_algorithms(p.signature_verification_algorithms);
    }
    Arc::new(p)
}

/// The provider's signature verification algorithms without the unapproved ones (Ed25519,
/// Ed448, SHA-1), built once (rustls wants `'static` tables).
fn approved_signature_algorithms(all: WebPkiSupportedAlgorithms) -> WebPkiSupportedAlgorithms {
    static APPROVED: OnceLock<WebPkiSupportedAlgorithms> = OnceLock::new();
    *APPROVED.get_or_init(|| {
        let keep = |a: &'static dyn SignatureVerificationAlgorithm| {
            let id = a.public_key_alg_id();
            id != alg_id::ED25519 && id != alg_id::ED448
        };
        let algorithms: Vec<&'static dyn SignatureVerificationAlgorithm> =
            all.all.iter().copied().filter(|a| keep(*a)).collect();
        let mapping: Vec<(
            SignatureScheme,
            &'static [&'static dyn SignatureVerificationAlgorithm],
        )> = all
            .mapping
            .iter()
            .filter(|(scheme, _)| APPROVED_SIGNATURE_SCHEMES.contains(scheme))
            .map(|(scheme, algs)| {
                let kept: Vec<_> = algs.iter().copied().filter(|a| keep(*a)).collect();
                let kept: &'static [_] = Box::leak(kept.into_boxed_slice());
                (*scheme, kept)
            })
            .collect();
        WebPkiSupportedAlgorithms {
            all: Box::leak(algorithms.into_boxed_slice()),
            mapping: Box::leak(mapping.into_boxed_slice()),
        }
    })
}

/// Why the TLS configuration could not be built: each says which key to fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "[tls] {key} = {path}: cannot read it ({source}): point {key} at an existing PEM file"
    )]
    Read {
        key: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("[tls] {key} = {path}: {problem}")]
    Content {
        key: &'static str,
        path: PathBuf,
        problem: String,
    },
    #[error("[tls] cert and key do not match: the key in {key} is not the key of the first certificate in {cert}")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] RustlsError),
    #[error("[tls] client_ca / client_crl: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    #[error("[tls] key = {key}: a {algorithm} key is not approved in FIPS mode: use an ECDSA P-256/P-384/P-521 or RSA (2048 bits or more) key and certificate")]
    KeyNotApproved { key: PathBuf, algorithm: String },
    #[error("FIPS mode: the TLS configuration is not in FIPS mode (rustls ServerConfig::fips() is false: {why}); refusing to start")]
    NotFips { why: String },
}

fn content(key: &'static str, path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::Content {
        key,
        path: path.to_owned(),
        problem: problem.into(),
    }
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        key,
        path: path.to_owned(),
        source,
    })
}

/// Every certificate in a PEM file.
pub fn load_certs(
    key: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| content(key, path, format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(content(key, path, "holds no PEM CERTIFICATE block"));
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read("key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        content(
            "key",
            path,
            format!("no PEM private key (PKCS#8, SEC1 or PKCS#1) found ({e})"),
        )
    })
}

fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let data = read("client_crl", path)?;
    let crls = CertificateRevocationListDer::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| content("client_crl", path, format!("not a PEM CRL file ({e})")))?;
    if crls.is_empty() {
        // Not PEM: a single DER CRL.
        if data.first() == Some(&0x30) {
            return Ok(vec![CertificateRevocationListDer::from(data)]);
        }
        return Err(content(
            "client_crl",
            path,
            "holds no X509 CRL (PEM or DER)",
        ));
    }
    Ok(crls)
}

/// Checks that a certificate is valid now: an expired server certificate is refused at start-up
/// with a message saying so, rather than failing every handshake.
fn check_validity(
    key: &'static str,
    path: &Path,
    der: &CertificateDer<'_>,
) -> Result<(), TlsError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| content(key, path, format!("unreadable certificate ({e})")))?;
    let validity = cert.validity();
    let now = x509_parser::time::ASN1Time::now();
    if now > validity.not_after {
        return Err(content(
            key,
            path,
            format!(
                "certificate \"{}\" expired on {}: renew it",
                cert.subject(),
                validity.not_after
            ),
        ));
    }
    if now < validity.not_before {
        return Err(content(
            key,
            path,
            format!(
                "certificate \"{}\" is not valid before {}: check the clock or the certificate",
                cert.subject(),
                validity.not_before
            ),
        ));
    }
    Ok(())
}

/// The server's rustls configuration for `alpn` (HTTPS offers `http/1.1`; KMIP none).
pub fn server_config(
    tls: &TlsConfig,
    mode: TlsMode,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = provider(mode);
    let chain = load_certs("cert", &tls.cert)?;
    if let Some(leaf) = chain.first() {
        check_validity("cert", &tls.cert, leaf)?;
    }
    let key = load_key(&tls.key)?;
    if mode == TlsMode::Approved {
        check_key_approved(&provider, &tls.key, &key)?;
    }

    let mut roots = RootCertStore::empty();
    for ca in load_certs("client_ca", &tls.client_ca)? {
        check_validity("client_ca", &tls.client_ca, &ca)?;
        roots.add(ca).map_err(|e| {
            content(
                "client_ca",
                &tls.client_ca,
                format!("not a usable CA certificate ({e})"),
            )
        })?;
    }
    let mut verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    if let Some(crl) = &tls.client_crl {
        verifier = verifier
            .with_crls(load_crls(crl)?)
            .only_check_end_entity_revocation();
    }
    let verifier = verifier.build()?;

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            RustlsError::InconsistentKeys(_) => TlsError::KeyMismatch {
                cert: tls.cert.clone(),
                key: tls.key.clone(),
            },
            other => TlsError::Rustls(other),
        })?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    if mode == TlsMode::Approved {
        // SP 800-52 Rev. 2 / FIPS 140-3 IG D.Q: the TLS 1.2 KDF needs Extended Master Secret.
        config.require_ems = true;
    }
    if crate::config::FIPS_BUILD && !config.fips() {
        return Err(TlsError::NotFips {
            why: not_fips_reason(&config),
        });
    }
    Ok(Arc::new(config))
}

/// Why a configuration is not FIPS, part by part.
fn not_fips_reason(config: &ServerConfig) -> String {
    let p = config.crypto_provider();
    let mut parts = Vec::new();
    if !config.require_ems {
        parts.push("TLS 1.2 without Extended Master Secret".to_owned());
    }
    for s in p.cipher_suites.iter().filter(|s| !s.fips()) {
        parts.push(format!("cipher suite {:?}", s.suite()));
    }
    for g in p.kx_groups.iter().filter(|g| !g.fips()) {
        parts.push(format!("group {:?}", g.name()));
    }
    if !p.signature_verification_algorithms.fips() {
        parts.push("signature verification algorithms".into());
    }
    if !p.secure_random.fips() || !p.key_provider.fips() {
        parts.push("the random generator or key provider is not the AWS-LC FIPS module".into());
    }
    if parts.is_empty() {
        "unknown".into()
    } else {
        parts.join(", ")
    }
}

/// In FIPS mode the server's own key must be ECDSA or RSA (Ed25519 is not enabled).
fn check_key_approved(
    provider: &CryptoProvider,
    path: &Path,
    key: &PrivateKeyDer<'static>,
) -> Result<(), TlsError> {
    let signing = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| content("key", path, format!("unusable private key ({e})")))?;
    match signing.algorithm() {
        rustls::SignatureAlgorithm::ECDSA | rustls::SignatureAlgorithm::RSA => Ok(()),
        other => Err(TlsError::KeyNotApproved {
            key: path.to_owned(),
            algorithm: format!("{other:?}"),
        }),
    }
}

/// A failed handshake in plain words, for the log.
pub fn describe_handshake_error(e: &io::Error) -> String {
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<RustlsError>()) else {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => {
                "the client closed the connection during the handshake (it may distrust the \
                 server certificate: check the client's CA for the server)"
                    .into()
            }
            _ => format!("I/O error during the handshake: {e}"),
        };
    };
    describe_rustls_error(tls)
}

fn describe_rustls_error(e: &RustlsError) -> String {
    use CertificateError as C;
    match e {
        RustlsError::NoCertificatesPresented => {
            "the client presented no certificate (client certificates are required)".into()
        }
        RustlsError::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "client certificate not signed by the configured client CA (tls.client_ca)".into()
            }
            C::Expired | C::ExpiredContext { .. } => "client certificate expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "client certificate not valid yet (check its notBefore and the clocks)".into()
            }
            C::Revoked => "client certificate revoked (listed in tls.client_crl)".into(),
            C::UnknownRevocationStatus => {
                "client certificate's revocation status unknown: tls.client_crl has no CRL from \
                 its issuer"
                    .into()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "client certificate lacks the clientAuth extended key usage".into()
            }
            #[allow(deprecated)]
            C::UnsupportedSignatureAlgorithm => {
                "client certificate signed with an unsupported algorithm (SHA-1 and MD5 \
                 signatures are refused)"
                    .into()
            }
            C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                "client certificate signed with an unsupported algorithm (SHA-1 and MD5 \
                 signatures are refused)"
                    .into()
            }
            C::BadSignature => {
                "client certificate signature does not verify (signed by another CA with the \
                 same name as one in tls.client_ca?)"
                    .into()
            }
            C::BadEncoding => "client certificate is not valid DER".into(),
            other => format!("client certificate refused: {other:?}"),
        },
        RustlsError::PeerIncompatible(p) => match p {
            PeerIncompatible::NoCipherSuitesInCommon => {
                "no shared cipher suite (the server offers only ECDHE with AES-GCM or \
                 ChaCha20-Poly1305, and TLS 1.3 suites)"
                    .into()
            }
            PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled => {
                "the client offers only TLS versions older than 1.2".into()
            }
            PeerIncompatible::NoKxGroupsInCommon => "no shared key exchange group".into(),
            PeerIncompatible::NoSignatureSchemesInCommon => "no shared signature scheme".into(),
            PeerIncompatible::ExtendedMasterSecretExtensionRequired => {
                "the client does not offer Extended Master Secret, required for TLS 1.2 in FIPS \
                 mode"
                    .into()
            }
            other => format!("client incompatible: {other:?}"),
        },
        RustlsError::InvalidMessage(_) | RustlsError::InappropriateMessage { .. } => {
            "not a TLS client hello (plain text on a TLS port?)".into()
        }
        RustlsError::AlertReceived(a) => format!(
            "the client aborted the handshake with alert {a:?} (often: it does not trust the \
             server certificate)"
        ),
        other => format!("handshake failed: {other}"),
    }
}
