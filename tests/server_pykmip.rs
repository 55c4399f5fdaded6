//! Interoperability with an independent client: PyKMIP 0.11.0 (its `ProxyKmipClient` with default
//! settings, KMIP 1.2) calls Discover Versions and Query on the KMIP port. The virtual
//! environment comes from `tools/pykmip-env.sh` (tools/test.sh runs it before the tests); this
//! test fails, never skips, when it is missing.

mod server_support;

use std::path::PathBuf;
use std::process::Command;

use server_support::*;

fn python() -> PathBuf {
    let p = std::env::var_os("PYKMIP_PYTHON_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pykmip-venv/bin/python")
        });
    assert!(
        p.is_file(),
        "{} missing: run tools/pykmip-env.sh (or set PYKMIP_PYTHON_BIN)",
        p.display()
    );
    p
}

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
