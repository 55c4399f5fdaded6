//! TLS in FIPS mode through the real stack: `ServerConfig::fips()` in a fips build, approved
//! suites, groups and schemes only, Extended Master Secret required, a client that offers only
//! non-approved suites (or groups) refused in plain words, a non-approved server key refused at
//! start-up. Run in both builds: the fips pass of CI runs it with `--features fips`.

mod server_support;

use std::sync::Arc;

use hsmkms::config::{FipsConfig, FIPS_BUILD};
use hsmkms::server::tls::{self, TlsError, TlsMode, APPROVED_GROUPS, APPROVED_SUITES};
use hsmkms::ttlv::enums::ResultStatus;
use rustls::crypto::aws_lc_rs::{cipher_suite, kx_group};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use server_support::*;

fn fips_on() -> FipsConfig {
    FipsConfig {
        enabled: true,
        strict: false,
    }
}

/// A client that offers exactly `suites` and `groups` (TLS 1.3 and 1.2), with alice's
/// certificate.
fn client_with(
    pki: &TestPki,
    suites: Vec<rustls::SupportedCipherSuite>,
    groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
) -> Arc<rustls::ClientConfig> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.cipher_suites = suites;
    provider.kx_groups = groups;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pki.ca.cert_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_slice_iter(pki.alice.cert_pem.as_bytes())
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(pki.alice.key_pem.expose().as_bytes()).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

#[test]
fn server_config_is_fips_in_a_fips_build_and_approved_only_in_fips_mode() {
    let pki = TestPki::new();
    let config = pki.config();
    // The default [fips] section: enabled exactly in a fips build.
    let mode = TlsMode::for_config(&config.fips);
    let c = tls::server_config(&config.tls, mode, &[]).unwrap();
    assert_eq!(
        c.fips(),
        FIPS_BUILD,
        "ServerConfig::fips() must follow the build"
    );
    #[cfg(feature = "fips")]
    {
        assert!(c.fips(), "ServerConfig::fips() is false in the fips build");
        assert!(c.crypto_provider().fips());
        aws_lc_rs::try_fips_mode().unwrap();
    }
    // Approved mode in either build: only approved suites and groups, EMS required.
    let c = tls::server_config(&config.tls, TlsMode::for_config(&fips_on()), &[]).unwrap();
    assert!(c.require_ems);
    let p: &CryptoProvider = c.crypto_provider();
    assert!(!p.cipher_suites.is_empty());
    for s in &p.cipher_suites {
        assert!(APPROVED_SUITES.contains(&s.suite()), "{:?}", s.suite());
    }
    let groups: Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
    assert!(!groups.is_empty());
    for g in &groups {
        assert!(APPROVED_GROUPS.contains(g), "{g:?}");
    }
    assert!(!groups.contains(&rustls::NamedGroup::X25519));
    let schemes = p.signature_verification_algorithms.supported_schemes();
    assert!(!schemes.contains(&rustls::SignatureScheme::ED25519));
    assert!(schemes.contains(&rustls::SignatureScheme::ECDSA_NISTP256_SHA256));
    assert!(!schemes.contains(&rustls::SignatureScheme::RSA_PKCS1_SHA1));
    assert_eq!(c.fips(), FIPS_BUILD);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_client_offering_only_non_approved_suites_or_groups() {
    let logs = Logs::capture();
    let pki = TestPki::new();
    let mut config = pki.config();
    config.fips = fips_on();
    let server = start(&config).await;

    let chacha_only = client_with(
        &pki,
        vec![
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        vec![kx_group::SECP256R1],
    );
    assert!(connect(server.kmip_addr, chacha_only).await.is_err());
    assert!(
        logs.wait_for("no shared cipher suite").await,
        "{}",
        logs.text()
    );

    let x25519_only = client_with(
        &pki,
        vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ],
        vec![kx_group::X25519],
    );
    assert!(connect(server.kmip_addr, x25519_only).await.is_err());
    assert!(
        logs.wait_for("no shared key exchange group").await,
        "{}",
        logs.text()
    );

    // An approved client, TLS 1.2 (with Extended Master Secret, which rustls clients send) and
    // TLS 1.3, is served.
    for versions in [
        &[&rustls::version::TLS12][..],
        &[&rustls::version::TLS13][..],
    ] {
        let cfg = client_config(&pki.ca.cert_pem, Some(&pki.alice), versions);
        let mut s = connect(server.kmip_addr, cfg)
            .await
            .expect("approved client");
        let r = roundtrip(&mut s, &discover_versions(v(1, 4), b"ok")).await;
        assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    }
    server.shutdown().await;
}

/// Outside FIPS mode (plain build, policy off) ChaCha20-Poly1305 is still offered: the
/// restriction above comes from FIPS mode, not from the default configuration.
#[cfg(not(feature = "fips"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_mode_still_serves_chacha_clients() {
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let chacha_only = client_with(
        &pki,
        vec![cipher_suite::TLS13_CHACHA20_POLY1305_SHA256],
        vec![kx_group::X25519],
    );
    let mut s = connect(server.kmip_addr, chacha_only).await.unwrap();
    let r = roundtrip(&mut s, &discover_versions(v(1, 4), b"ok")).await;
    assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    server.shutdown().await;
}

#[test]
fn refuses_an_ed25519_server_key_in_fips_mode() {
    let pki = TestPki::new();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(pki.path("ed.crt"), cert.pem()).unwrap();
    std::fs::write(pki.path("ed.key"), key.serialize_pem()).unwrap();
    let mut config = pki.config();
    config.tls.cert = pki.path("ed.crt");
    config.tls.key = pki.path("ed.key");
    let e = tls::server_config(&config.tls, TlsMode::Approved, &[]).unwrap_err();
    assert!(matches!(e, TlsError::KeyNotApproved { .. }), "{e}");
    assert!(e.to_string().contains("not approved in FIPS mode"), "{e}");
    if !FIPS_BUILD {
        tls::server_config(&config.tls, TlsMode::Default, &[]).unwrap();
    }
}
