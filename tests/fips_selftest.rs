//! FIPS start-up against a real token (SoftHSM by default, Kryoptic with
//! `HSMKMS_TEST_PKCS11=kryoptic`): the known-answer tests pass through the HSM; a failing one
//! (a wrong expected value injected) stops start-up with the check's name; a non-validated test
//! token starts with the warning, or is refused in strict mode; `hsmkms doctor` reports.

mod common;

use std::path::PathBuf;

use common::TestToken;
use hsmkms::cli::serve::{serve_with, ServeError};
use hsmkms::config::{Config, FIPS_BUILD};
use hsmkms::fips::{self, selftest, HsmApproved, KnownAnswers};

/// A configuration for `token` with `[fips]` set as given (and the dev PKI files it will not
/// reach: start-up stops before TLS when a FIPS check fails).
fn config_file(token: &TestToken, fips: &str) -> PathBuf {
    let path = token.config_file();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "[tls]\ncert = \"server.crt\"\nkey = \"server.key\"\nclient_ca = \"ca.crt\"\n[fips]\n{fips}\n"
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn known_answer_tests_pass_through_the_token() {
    let (_token, hsm) = TestToken::initialised();
    let passed = selftest::run(&hsm, &KnownAnswers::standard()).unwrap();
    assert_eq!(
        passed,
        vec![
            selftest::AES_GCM_ENCRYPT,
            selftest::AES_GCM_DECRYPT,
            selftest::KWP_WRAP,
            selftest::KWP_UNWRAP,
            selftest::HMAC_SHA256,
        ]
    );
    // The self-checks leave no cached handles behind.
    assert_eq!(hsm.cached_handles(), 0);
}

#[test]
fn each_failing_known_answer_test_is_named() {
    let (_token, hsm) = TestToken::initialised();
    type Corrupt = fn(&mut KnownAnswers);
    // (The decrypt check shares its vector with the encrypt check, which runs first: a wrong
    // plaintext or ciphertext is caught there.)
    let cases: [(&str, Corrupt); 4] = [
        (selftest::AES_GCM_ENCRYPT, |a| {
            a.gcm_ciphertext_and_tag[0] ^= 1
        }),
        (selftest::AES_GCM_ENCRYPT, |a| a.gcm_plaintext[0] ^= 1),
        (selftest::KWP_WRAP, |a| a.kwp_wrapped_gcm_key[0] ^= 1),
        (selftest::HMAC_SHA256, |a| a.hmac_sha256[31] ^= 1),
    ];
    for (name, corrupt) in cases {
        let mut a = KnownAnswers::standard();
        corrupt(&mut a);
        let e = selftest::run(&hsm, &a).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("FIPS check 'known-answer test {name}' failed")),
            "{name}: {e}"
        );
    }
    // A corrupted wrapped blob fails the unwrap check (the HSM's integrity check or the answer).
    let mut a = KnownAnswers::standard();
    a.kwp_key[0] ^= 1;
    let e = selftest::run(&hsm, &a).unwrap_err().to_string();
    assert!(e.contains("known-answer test AES-KWP wrap"), "{e}");
}

#[test]
fn a_failing_known_answer_test_stops_start_up_with_its_name() {
    let (token, hsm) = TestToken::initialised();
    drop(hsm);
    let path = config_file(&token, "enabled = true");
    let mut a = KnownAnswers::standard();
    a.hmac_sha256[0] ^= 0xFF;
    let e = serve_with(&path, &a).unwrap_err();
    assert!(matches!(e, ServeError::Fips(_)), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("FIPS check 'known-answer test HMAC-SHA-256' failed"),
        "{text}"
    );
    // Nothing was started: the store directory was never created.
    assert!(!token.dir.path().join("store").exists());
}

#[test]
fn strict_mode_refuses_the_test_token_and_fips_mode_warns() {
    let (token, hsm) = TestToken::initialised();
    let path = config_file(&token, "enabled = true\nstrict = true");
    let e = serve_with(&path, &KnownAnswers::standard())
        .unwrap_err()
        .to_string();
    if FIPS_BUILD {
        assert!(e.contains("FIPS check 'hsm approved mode' failed"), "{e}");
    } else {
        // Strict mode needs the validated TLS module too.
        assert!(e.contains("`fips` feature"), "{e}");
    }
    // Without strict: starts, with the warning (checked through the start-up function).
    let path = config_file(&token, "enabled = true");
    let config = Config::load(&path).unwrap();
    let w = fips::assess_hsm(&config.fips, hsm.profile()).unwrap();
    assert!(
        w[0].starts_with("FIPS mode with a non-validated test token"),
        "{w:?}"
    );
    let (policy, report) = fips::startup(&config, &hsm, &KnownAnswers::standard()).unwrap();
    assert!(policy.is_enforced());
    assert_eq!(report.hsm_approved, HsmApproved::No);
    assert_eq!(report.fips_build, FIPS_BUILD);
}

#[test]
fn doctor_reports_build_tls_hsm_and_policy() {
    let (token, hsm) = TestToken::initialised();
    drop(hsm);
    let pki = hsmkms::pki::Ca::new("doctor CA").unwrap();
    let dir = token.dir.path();
    let mut ca = pki;
    let server = ca.issue_server(&["localhost".into()]).unwrap();
    std::fs::write(dir.join("ca.crt"), &ca.cert_pem).unwrap();
    std::fs::write(dir.join("server.crt"), &server.cert_pem).unwrap();
    std::fs::write(dir.join("server.key"), server.key_pem.expose()).unwrap();
    let path = config_file(&token, "enabled = true");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hsmkms"));
    cmd.args(["doctor", "--config"]).arg(&path);
    for (k, v) in token.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for line in [
        format!("fips build: {}", yes_no(FIPS_BUILD)),
        format!("TLS provider in FIPS mode: {}", yes_no(FIPS_BUILD)),
        "HSM approved mode: no".to_owned(),
        "warning: FIPS mode with a non-validated test token".to_owned(),
        "self-checks: passed (AES-256-GCM encrypt, AES-256-GCM decrypt, AES-KWP wrap, AES-KWP \
         unwrap, HMAC-SHA-256)"
            .to_owned(),
    ] {
        assert!(stdout.contains(&line), "missing {line:?} in:\n{stdout}");
    }
    let policy = if FIPS_BUILD {
        "policy in force: approved algorithms only"
    } else {
        "policy in force: approved algorithms only (policy-only mode: not a fips build)"
    };
    assert!(stdout.contains(policy), "{stdout}");
}
