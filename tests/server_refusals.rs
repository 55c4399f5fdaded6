//! What the server refuses, each with its expected outcome, the server still serving a good
//! client afterwards: TLS refusals (no certificate, other CA, expired, revoked, no clientAuth),
//! broken frames, oversized declared lengths, idle and slow clients, connections over the cap.

mod server_support;

use std::time::{Duration, Instant};

use hsmkms::pki::{Ca, ClientOptions, Issued};
use hsmkms::server::{RunningServer, Stats};
use hsmkms::ttlv::enums::ResultStatus;
use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A good client still gets DiscoverVersions answered, quickly.
async fn still_serves(server: &RunningServer, pki: &TestPki) -> Duration {
    let t0 = Instant::now();
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .expect("a good client connects");
    let r = roundtrip(&mut s, &discover_versions(v(1, 4), b"ok")).await;
    assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    t0.elapsed()
}

/// Connects presenting `client` and sends a request: the server must not answer it (the
/// handshake fails, or with TLS 1.3 the server's alert arrives on the first read).
async fn refused(server: &RunningServer, cfg: std::sync::Arc<rustls::ClientConfig>) {
    let Ok(mut s) = connect(server.kmip_addr, cfg).await else {
        return; // refused during the handshake
    };
    let _ = s.write_all(&discover_versions(v(1, 4), b"x")).await;
    let _ = s.flush().await;
    let mut buf = [0u8; 64];
    match tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => {}
        Ok(Ok(n)) => panic!("the server answered {n} bytes to a refused client"),
        Err(_) => panic!("the refused connection stayed open"),
    }
}

async fn check_refusal(
    logs: &Logs,
    server: &RunningServer,
    pki: &TestPki,
    cfg: std::sync::Arc<rustls::ClientConfig>,
    words: &str,
) {
    let before = Stats::get(&server.stats().handshake_failures);
    refused(server, cfg).await;
    assert!(
        logs.wait_for(words).await,
        "log lacks {words:?}:\n{}",
        logs.text()
    );
    assert_eq!(Stats::get(&server.stats().handshake_failures), before + 1);
    still_serves(server, pki).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_clients_without_a_valid_certificate_in_plain_words() {
    let logs = Logs::capture();
    let pki = TestPki::new();
    let mut ca = Ca::new("other CA").unwrap();
    // Same CA for the other certificates: only one property differs each time.
    let expired = pki_issue(&pki, |o| {
        o.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        o.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    });
    let no_eku = pki_issue(&pki, |o| o.client_auth_eku = false);
    let stranger = ca
        .issue_client("mallory", &ClientOptions::default())
        .unwrap();
    let stranger_cfg = client_config(
        &pki.ca.cert_pem,
        Some(&stranger),
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );

    let server = start(&pki.config()).await;
    check_refusal(
        &logs,
        &server,
        &pki,
        pki.client_config(None),
        "the client presented no certificate",
    )
    .await;
    check_refusal(
        &logs,
        &server,
        &pki,
        stranger_cfg,
        "client certificate not signed by the configured client CA (tls.client_ca)",
    )
    .await;
    // TLS 1.2 too: the handshake itself fails.
    let stranger12 = client_config(
        &pki.ca.cert_pem,
        Some(&stranger),
        &[&rustls::version::TLS12],
    );
    assert!(connect(server.kmip_addr, stranger12).await.is_err());
    check_refusal(
        &logs,
        &server,
        &pki,
        pki.client_config(Some(&expired)),
        "client certificate expired",
    )
    .await;
    check_refusal(
        &logs,
        &server,
        &pki,
        pki.client_config(Some(&no_eku)),
        "client certificate lacks the clientAuth extended key usage",
    )
    .await;
    server.shutdown().await;
}

/// A client certificate from the test PKI's own CA, with modified options. (The CA is
/// re-loaded from its PEM so the test PKI stays immutable.)
fn pki_issue(pki: &TestPki, change: impl FnOnce(&mut ClientOptions)) -> Issued {
    let mut ca = Ca::load(&pki.ca.cert_pem, pki.ca.key_pem().expose()).unwrap();
    let mut o = ClientOptions::default();
    change(&mut o);
    ca.issue_client("alice", &o).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_revoked_certificate_from_the_crl() {
    let logs = Logs::capture();
    let pki = TestPki::new();
    let revoked = pki_issue(&pki, |_| {});
    let crl = pki.ca.crl(std::slice::from_ref(&revoked.serial)).unwrap();
    std::fs::write(pki.path("clients.crl"), crl).unwrap();
    let mut cfg = pki.config();
    cfg.tls.client_crl = Some(pki.path("clients.crl"));
    let server = start(&cfg).await;
    check_refusal(
        &logs,
        &server,
        &pki,
        pki.client_config(Some(&revoked)),
        "client certificate revoked (listed in tls.client_crl)",
    )
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_connections_that_send_garbage_or_huge_lengths() {
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let good = || connect(server.kmip_addr, pki.client_config(Some(&pki.alice)));

    // Not TTLV at all: closed.
    let mut s = good().await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    s.flush().await.unwrap();
    closed_within(&mut s, Duration::from_secs(2)).await.unwrap();
    assert_eq!(Stats::get(&server.stats().frames_refused), 1);

    // A declared length of 0x7FFFFFFF: closed from the header, nothing more sent.
    let mut s = good().await.unwrap();
    let t0 = Instant::now();
    s.write_all(&[0x42, 0x00, 0x78, 0x01, 0x7F, 0xFF, 0xFF, 0xFF])
        .await
        .unwrap();
    s.flush().await.unwrap();
    closed_within(&mut s, Duration::from_secs(2)).await.unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );
    assert_eq!(Stats::get(&server.stats().frames_refused), 2);

    // Garbage on the raw TCP port (no TLS): the handshake fails, nothing else is affected.
    let mut raw = TcpStream::connect(server.kmip_addr).await.unwrap();
    raw.write_all(&[0x42; 64]).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(2), raw.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "still open");
    // At most a TLS alert record (content type 21), then the close.
    assert!(answer.is_empty() || answer[0] == 21, "{answer:?}");
    assert_eq!(Stats::get(&server.stats().handshake_failures), 1);

    still_serves(&server, &pki).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_idle_and_slow_clients_by_their_deadlines() {
    let pki = TestPki::new();
    let mut cfg = pki.config();
    cfg.limits.idle_timeout_ms = 600;
    cfg.limits.handshake_timeout_ms = 1_000;
    cfg.limits.read_deadline_ms = 1_000;
    let server = start(&cfg).await;

    // Sends nothing after the handshake: closed after the idle timeout, not before.
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let t0 = Instant::now();
    closed_within(&mut s, Duration::from_secs(3)).await.unwrap();
    let idle = t0.elapsed();
    assert!(
        idle >= Duration::from_millis(550) && idle < Duration::from_millis(2_000),
        "{idle:?}"
    );

    // One byte every 200 ms during the handshake: closed by the handshake timeout.
    let hello = {
        // A real ClientHello's first bytes are enough to start the handshake.
        let mut conn = rustls::ClientConnection::new(
            pki.client_config(Some(&pki.alice)),
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
        )
        .unwrap();
        let mut out = Vec::new();
        conn.write_tls(&mut out).unwrap();
        out
    };
    let mut raw = TcpStream::connect(server.kmip_addr).await.unwrap();
    let t0 = Instant::now();
    let mut closed_after = None;
    for b in &hello {
        if raw.write_all(&[*b]).await.is_err() {
            closed_after = Some(t0.elapsed());
            break;
        }
        let mut buf = [0u8; 16];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), raw.read(&mut buf)).await
        {
            closed_after = Some(t0.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the slow handshake was never closed");
    assert!(
        closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(3),
        "{closed_after:?}"
    );
    assert_eq!(Stats::get(&server.stats().handshake_failures), 1);

    // One byte every 200 ms in the middle of a message: closed by the read deadline.
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let req = discover_versions(v(1, 4), b"slow");
    let t0 = Instant::now();
    let mut closed_after = None;
    for b in &req {
        if s.write_all(&[*b]).await.is_err() || s.flush().await.is_err() {
            closed_after = Some(t0.elapsed());
            break;
        }
        let mut buf = [0u8; 16];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await
        {
            closed_after = Some(t0.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the slow message was never closed");
    assert!(
        closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(3),
        "{closed_after:?}"
    );
    assert_eq!(Stats::get(&server.stats().deadline_closes), 1);

    still_serves(&server, &pki).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_closes_idle_and_slow_clients() {
    let pki = TestPki::new();
    let mut cfg = pki.config();
    cfg.limits.idle_timeout_ms = 600;
    cfg.limits.read_deadline_ms = 1_000;
    let server = start(&cfg).await;

    let mut s = connect(server.https_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let t0 = Instant::now();
    closed_within(&mut s, Duration::from_secs(3)).await.unwrap();
    let idle = t0.elapsed();
    assert!(
        idle >= Duration::from_millis(550) && idle < Duration::from_millis(2_000),
        "{idle:?}"
    );

    // Request headers one byte every 200 ms: closed by the read deadline.
    let mut s = connect(server.https_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let t0 = Instant::now();
    let mut closed_after = None;
    for b in b"POST /kmip HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
    {
        if s.write_all(&[*b]).await.is_err() || s.flush().await.is_err() {
            closed_after = Some(t0.elapsed());
            break;
        }
        let mut buf = [0u8; 16];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await
        {
            closed_after = Some(t0.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("the slow request was never closed");
    assert!(
        closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(3),
        "{closed_after:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_closed_at_once_and_a_fresh_client_is_served() {
    const CAP: usize = 2_000;
    const OVER: usize = 300;
    // Each held connection costs two descriptors here (client and server are one process).
    let need = (2 * (CAP + OVER) + 500) as u64;
    let got = rlimit::increase_nofile_limit(need).unwrap_or(0);
    assert!(
        got >= need,
        "raise nofile to ≥ {need} (the limit is {got}): ulimit -n {need}"
    );

    let pki = TestPki::new();
    let mut cfg = pki.config();
    cfg.limits.max_connections = CAP;
    cfg.limits.handshake_timeout_ms = 60_000;
    let server = start(&cfg).await;

    // Fill the cap with connections that never handshake.
    let mut held = Vec::with_capacity(CAP);
    for _ in 0..CAP {
        held.push(TcpStream::connect(server.kmip_addr).await.unwrap());
    }
    let t0 = Instant::now();
    while Stats::get(&server.stats().accepted) < CAP as u64 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the server accepted only {}",
            Stats::get(&server.stats().accepted)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Beyond the cap: each accepted and closed at once.
    let t0 = Instant::now();
    for _ in 0..OVER {
        let mut s = TcpStream::connect(server.kmip_addr).await.unwrap();
        closed_within(&mut s, Duration::from_secs(2)).await.unwrap();
    }
    let over_time = t0.elapsed();
    assert_eq!(Stats::get(&server.stats().refused_over_cap), OVER as u64);

    // Free one slot; a fresh client completes DiscoverVersions in under 2 s while CAP - 1
    // connections are still held.
    drop(held.pop());
    let t0 = Instant::now();
    while Stats::get(&server.stats().handshake_failures) < 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "the freed slot was not released"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = still_serves(&server, &pki).await;
    println!(
        "cap {CAP}: {OVER} connections over the cap refused in {over_time:?}; fresh DiscoverVersions in {took:?}"
    );
    assert!(
        took < Duration::from_secs(2),
        "a fresh client took {took:?}"
    );
    drop(held);
    server.shutdown().await;
}
