//! Interoperability with an independent client: PyKMIP 0.11.0 (its `ProxyKmipClient` with default
//! settings, KMIP 1.2) calls Discover Versions and Query on the KMIP port, and runs key pairs,
//! signatures and RSA-OAEP through a server on the test token (`tests/pykmip/sign.py`, every
//! signature checked independently with `cryptography`). The virtual
//! environment comes from `tools/pykmip-env.sh` (tools/test.sh runs it before the tests); this
//! test fails, never skips, when it is missing.

mod client_support;
mod common;
mod server_support;

use std::path::PathBuf;
use std::process::Command;

use server_support::*;

use client_support::{python, run_pykmip, Backend};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_discovers_versions_and_queries() {
    let py = python();
    let pki = TestPki::new();
    std::fs::write(pki.path("alice.crt"), &pki.alice.cert_pem).unwrap();
    std::fs::write(pki.path("alice.key"), pki.alice.key_pem.expose()).unwrap();
    let server = start(&pki.config()).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pykmip/interop.py");
    let args: Vec<String> = vec![
        script.display().to_string(),
        "127.0.0.1".into(),
        server.kmip_addr.port().to_string(),
        pki.path("alice.crt").display().to_string(),
        pki.path("alice.key").display().to_string(),
        pki.path("ca.crt").display().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || Command::new(py).args(args).output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "PyKMIP failed:\n{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "discover_status=SUCCESS",
            "versions=2.1,2.0,1.4,1.3,1.2,1.1,1.0",
            "query_status=SUCCESS",
            "operations=QUERY,DISCOVER_VERSIONS",
            "objects=",
            "vendor=hsmkms",
            "get_status=OPERATION_FAILED",
            "get_reason=OPERATION_NOT_SUPPORTED",
        ],
        "stderr:\n{stderr}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pykmip_signs_verifies_and_encrypts_with_key_pairs() {
    let backend = Backend::new();
    let pki = TestPki::new();
    let (service, _store) = backend.service();
    let server = start_with(&pki.config(), service).await;
    let (stdout, stderr) = run_pykmip("sign.py", &server, &pki).await;
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            "rsa_bits=2048",
            "pkcs1_len=256",
            "pkcs1_independent=True",
            "pkcs1_verify=VALID",
            "pkcs1_tampered=INVALID",
            "pss_len=256",
            "pss_independent=True",
            "pss_verify=VALID",
            "pss_tampered=INVALID",
            "oaep_len=256",
            "oaep_round_trip=True",
            "oaep_outside=True",
            "ecdsa_der=True",
            "ecdsa_independent=True",
            "ecdsa_verify=VALID",
            "ecdsa_outside=VALID",
        ],
        "stderr:\n{stderr}"
    );
    server.shutdown().await;
}
