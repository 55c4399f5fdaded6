//! The hsmkms image (docker/build-offline.sh, tag `$HSMKMS_IMAGE` or `hsmkms:dev`) on the
//! machine's Docker engine through `hsmkms::testing::SoftHsmKms` (feature `testing`): the field's
//! VAST Data and vSphere flows against the container, keys read back after a restart on the same
//! volume and after `docker kill` in the middle of key creation, and the refusal of a volume the
//! container's user cannot write, and the offline build of a missing tag. No engine: every test
//! fails saying how to get one. Run under nextest (a process per test: one test changes
//! DOCKER_HOST); the offline build needs the release binary (tools/docker-tests.sh builds it).

mod client_support;
mod common;
mod server_support;

use client_support::*;
use hsmkms::testing::{Builder, HarnessError, SoftHsmKms};
use hsmkms::ttlv::enums::Operation;
use hsmkms::ttlv::Value;
use server_support::*;
use tokio::io::AsyncWriteExt;

async fn start() -> SoftHsmKms {
    SoftHsmKms::start()
        .await
        .unwrap_or_else(|e| panic!("hsmkms container: {e}"))
}

async fn kmip_client(kms: &SoftHsmKms, version: (i32, i32)) -> Client {
    let tls = kms.credentials().client_config().unwrap();
    Client::connect(kms.kmip_addr(), tls, version).await
}

/// VAST Data's flow (KMIP 1.4 over HTTPS `POST /kmip`) against the container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vast_data_flow_over_https() {
    let kms = start().await;
    let tls = kms.credentials().client_config().unwrap();
    let mut http = Http::connect_with(kms.https_addr(), tls).await;
    vast_data_flow(&mut http).await;
}

/// vSphere's flow (KMIP 1.1 on 5696) against the container; its key and custom attribute read
/// back after a graceful restart on the same volume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vmware_vcenter_flow_and_keys_after_a_restart() {
    let mut kms = start().await;
    let mut c = kmip_client(&kms, (1, 1)).await;
    let uid = vmware_vcenter_flow(&mut c).await;
    let key = material(&c.one(Operation::GET, get(&uid)).await);
    drop(c);
    kms.restart()
        .await
        .unwrap_or_else(|e| panic!("restart: {e}"));
    let mut c = kmip_client(&kms, (1, 1)).await;
    assert_eq!(material(&c.one(Operation::GET, get(&uid)).await), key);
    let r = c
        .one(
            Operation::GET_ATTRIBUTES,
            get_attributes(&uid, &["x-Product_Version"]),
        )
        .await;
    let values: Vec<Value> = attributes(&r).into_iter().map(|a| a.value).collect();
    assert_eq!(values, vec![Value::TextString("8.0.2".into())]);
}

/// One Create on `c` without panicking when the server is gone.
async fn try_create(c: &mut Client) -> std::io::Result<String> {
    let req = bytes(&message(
        c.version,
        vec![(Operation::CREATE, aes(256, vec![]))],
    ));
    c.tls.write_all(&req).await?;
    c.tls.flush().await?;
    Ok(created(&parse_response(&read_message(&mut c.tls).await?)))
}

/// `docker kill` (SIGKILL) while a client creates keys back to back: after a restart every key
/// whose Create was answered is there, with 32 bytes of material.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_key_survives_docker_kill() {
    const KILL_AFTER: usize = 25;
    let mut kms = start().await;
    let mut c = kmip_client(&kms, (1, 4)).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let burst = tokio::spawn(async move {
        while let Ok(uid) = try_create(&mut c).await {
            if tx.send(uid).is_err() {
                break;
            }
        }
    });
    let mut acknowledged = Vec::new();
    while acknowledged.len() < KILL_AFTER {
        acknowledged.push(rx.recv().await.expect("the burst stopped before the kill"));
    }
    kms.kill().await.unwrap_or_else(|e| panic!("kill: {e}"));
    burst.await.unwrap();
    while let Ok(uid) = rx.try_recv() {
        acknowledged.push(uid);
    }
    kms.start_again()
        .await
        .unwrap_or_else(|e| panic!("start after kill: {e}"));
    let mut c = kmip_client(&kms, (1, 4)).await;
    for uid in &acknowledged {
        let r = c.one(Operation::GET, get(uid)).await;
        assert_eq!(material(&r).len(), 32, "{uid} after the kill");
    }
    // The server is usable after the crash.
    let uid = created(&c.one(Operation::CREATE, aes(256, vec![])).await);
    ok(&c.one(Operation::ACTIVATE, activate(&uid)).await);
}

/// The names in the server certificate the container generated.
fn server_names(pem: &str) -> Vec<String> {
    use rustls::pki_types::pem::PemObject;
    use x509_parser::extensions::GeneralName;
    let der = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let san = cert.subject_alternative_name().unwrap().expect("SANs");
    san.value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => d.to_string(),
            GeneralName::IPAddress(ip) => {
                std::net::IpAddr::from(<[u8; 4]>::try_from(*ip).unwrap()).to_string()
            }
            other => format!("{other:?}"),
        })
        .collect()
}

/// Creates, activates and reads back a key: the server logged in to its token.
async fn create_and_get(kms: &SoftHsmKms) {
    let mut c = kmip_client(kms, (1, 4)).await;
    let uid = created(&c.one(Operation::CREATE, aes(256, vec![])).await);
    ok(&c.one(Operation::ACTIVATE, activate(&uid)).await);
    assert_eq!(material(&c.one(Operation::GET, get(&uid)).await).len(), 32);
}

/// With no secret and no `HSMKMS_PIN`, the PINs are generated on first start into the volume;
/// the server certificate names localhost and 127.0.0.1 plus `HSMKMS_SERVER_NAMES`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_pin_in_the_volume_and_extra_server_names() {
    let kms = SoftHsmKms::builder()
        .env("HSMKMS_SERVER_NAMES", "kms.lab.test,10.9.8.7")
        .start()
        .await
        .unwrap_or_else(|e| panic!("hsmkms container: {e}"));
    assert_eq!(kms.read_text("hsm.pin").await.unwrap().len(), 32);
    assert_eq!(
        server_names(&kms.read_text("pki/server.crt").await.unwrap()),
        ["localhost", "127.0.0.1", "kms.lab.test", "10.9.8.7"]
    );
    create_and_get(&kms).await;
}

/// Starts `builder` and checks that the user PIN came from `source` (its log line), that no PIN
/// file was written, and that the server logged in to the token with it.
async fn pin_comes_from(builder: Builder, source: &str) {
    let kms = builder
        .start()
        .await
        .unwrap_or_else(|e| panic!("hsmkms container: {e}"));
    assert!(kms.read_text("hsm.pin").await.is_err(), "no PIN file");
    let logs = kms.logs().await;
    assert!(
        logs.contains(&format!("user PIN from the {source}")),
        "{logs}"
    );
    create_and_get(&kms).await;
}

/// The user PIN from `HSMKMS_PIN`: the token is made with it and no PIN file is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_from_the_environment() {
    let builder = SoftHsmKms::builder().env("HSMKMS_PIN", "env-pin-4821");
    pin_comes_from(builder, "environment").await;
}

/// The user PIN from a Docker secret (`/run/secrets/hsmkms_pin`), which wins over `HSMKMS_PIN`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_from_a_docker_secret() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("hsmkms_pin");
    std::fs::write(&secret, "secret-pin-7305\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let builder = SoftHsmKms::builder()
        .secret("hsmkms_pin", &secret)
        .env("HSMKMS_PIN", "not-this-one");
    pin_comes_from(builder, "secret").await;
}

/// A bind-mounted directory that the container's user (uid 10001) cannot write: the container
/// stops at once, saying which `chown` to run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_the_user_cannot_write_is_refused_with_the_chown_to_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = SoftHsmKms::builder()
        .bind_mount(dir.path())
        .start()
        .await
        .err()
        .expect("the container must refuse the volume");
    match err {
        HarnessError::Exited(logs) => {
            assert!(logs.contains("is not writable"), "{logs}");
            assert!(logs.contains("chown -R 10001:10001"), "{logs}");
        }
        other => panic!("expected the container to stop with the message, got: {other}"),
    }
}

/// A tag the engine does not have is built with docker/build-offline.sh, not pulled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tag_is_built_offline() {
    const TAG: &str = "hsmkms:harness-build-check";
    let docker = |args: &[&str]| {
        std::process::Command::new("docker")
            .args(args)
            .output()
            .expect("the docker command")
    };
    docker(&["rmi", "-f", TAG]);
    assert!(!docker(&["image", "inspect", TAG]).status.success());
    let kms = SoftHsmKms::builder()
        .image(TAG)
        .start()
        .await
        .unwrap_or_else(|e| panic!("hsmkms container: {e}"));
    assert!(docker(&["image", "inspect", TAG]).status.success());
    create_and_get(&kms).await;
    drop(kms);
    docker(&["rmi", "-f", TAG]);
}

/// Without an engine the harness fails (never skips) and says how to get one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_engine_the_harness_says_how_to_get_one() {
    // nextest runs each test in its own process: this changes only this test's environment.
    std::env::set_var("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let err = SoftHsmKms::start()
        .await
        .err()
        .expect("no engine at that socket");
    assert!(matches!(err, HarnessError::NoEngine(_)), "{err}");
    assert!(
        err.to_string().contains("apt-get install docker.io"),
        "{err}"
    );
}
