//! The server through the real stack: real TLS on 127.0.0.1, real bytes. DiscoverVersions and
//! Query on both listeners, back-to-back messages, HTTP keep-alive, JSON, content types, health,
//! batches, graceful shutdown.

mod server_support;

use std::time::{Duration, Instant};

use hsmkms::kmip::payload::RequestPayload;
use hsmkms::kmip::{ResponseMessage, ResponsePayload};
use hsmkms::server::Stats;
use hsmkms::service::{ReadinessProbe, ServerInfo, Service};
use hsmkms::ttlv::enums::{Operation, ResultReason, ResultStatus};
use hsmkms::ttlv::{self, Item, Tag};
use server_support::*;
use tokio::io::AsyncWriteExt;

fn versions(r: &ResponseMessage) -> Vec<(i32, i32)> {
    match &r.batch_items[0].payload {
        Some(ResponsePayload::DiscoverVersions(d)) => d
            .protocol_versions
            .iter()
            .map(|p| (p.major, p.minor))
            .collect(),
        other => panic!("not a DiscoverVersions answer: {other:?}"),
    }
}

const ALL: [(i32, i32); 7] = [(2, 1), (2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0)];

fn assert_query(r: &ResponseMessage, ops: &[Operation]) {
    let a = &r.batch_items[0];
    assert_eq!(a.result_status, ResultStatus::SUCCESS);
    assert_eq!(a.unique_batch_item_id.as_deref(), Some(&b"q"[..]));
    match &a.payload {
        Some(ResponsePayload::Query(q)) => {
            assert_eq!(q.operations, ops);
            assert!(q.object_types.is_empty());
            assert_eq!(q.vendor_identification.as_deref(), Some("hsmkms"));
        }
        other => panic!("not a Query answer: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kmip_port_answers_discover_versions_and_query_back_to_back() {
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();

    // Three messages in one write, answered in order.
    let mut burst = discover_versions(v(1, 4), b"1");
    burst.extend(query(v(1, 4), b"q"));
    burst.extend(discover_versions(v(2, 1), b"3"));
    s.write_all(&burst).await.unwrap();
    let first = parse_response(&read_message(&mut s).await.unwrap());
    let second = parse_response(&read_message(&mut s).await.unwrap());
    let third = parse_response(&read_message(&mut s).await.unwrap());

    assert_eq!(first.header.protocol_version, v(1, 4));
    assert_eq!(
        first.batch_items[0].operation,
        Some(Operation::DISCOVER_VERSIONS)
    );
    assert_eq!(
        first.batch_items[0].unique_batch_item_id.as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(versions(&first), ALL);
    assert_query(&second, &[Operation::QUERY, Operation::DISCOVER_VERSIONS]);
    assert_eq!(third.header.protocol_version, v(2, 1));
    assert_eq!(
        third.batch_items[0].unique_batch_item_id.as_deref(),
        Some(&b"3"[..])
    );

    // The same connection keeps serving.
    let r = roundtrip(&mut s, &query(v(2, 1), b"q")).await;
    assert_query(
        &r,
        &[
            Operation::QUERY,
            Operation::DISCOVER_VERSIONS,
            Operation::LOG,
            Operation::INTEROP,
        ],
    );
    assert_eq!(Stats::get(&server.stats().accepted), 1);
    assert!(server.shutdown().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kmip_port_answers_unsupported_operations_and_batches_item_by_item() {
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let empty = || RequestPayload::Other(Item::structure(Tag::REQUEST_PAYLOAD, vec![]));
    let mut req = hsmkms::kmip::RequestMessage::from_item(
        &ttlv::decode(
            &request(
                v(1, 2),
                vec![
                    (
                        Operation::DISCOVER_VERSIONS,
                        b"a",
                        hsmkms::kmip::RequestPayload::DiscoverVersions(Default::default()),
                    ),
                    (Operation::ENCRYPT, b"b", empty()),
                    (Operation::SIGN, b"c", empty()),
                ],
            ),
            &Default::default(),
        )
        .unwrap(),
    )
    .unwrap();
    req.header.batch_error_continuation_option =
        Some(hsmkms::ttlv::enums::BatchErrorContinuationOption::CONTINUE);
    let r = roundtrip(&mut s, &ttlv::to_vec(&req.to_item())).await;
    assert_eq!(r.header.batch_count, 3);
    let got: Vec<_> = r
        .batch_items
        .iter()
        .map(|a| (a.operation, a.unique_batch_item_id.clone(), a.result_reason))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Some(Operation::DISCOVER_VERSIONS),
                Some(b"a".to_vec()),
                None
            ),
            (
                Some(Operation::ENCRYPT),
                Some(b"b".to_vec()),
                Some(ResultReason::OPERATION_NOT_SUPPORTED)
            ),
            (
                Some(Operation::SIGN),
                Some(b"c".to_vec()),
                Some(ResultReason::OPERATION_NOT_SUPPORTED)
            ),
        ]
    );
    // A well-framed message that is not TTLV inside: Invalid Message, connection stays.
    let mut bad = vec![0x42, 0x00, 0x78, 0x01, 0, 0, 0, 16];
    bad.extend_from_slice(&[0xAB; 16]);
    let r = roundtrip(&mut s, &bad).await;
    assert_eq!(r.header.protocol_version, v(1, 0));
    assert_eq!(
        r.batch_items[0].result_reason,
        Some(ResultReason::INVALID_MESSAGE)
    );
    let r = roundtrip(&mut s, &discover_versions(v(1, 1), b"z")).await;
    assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_answers_binary_and_json_with_keep_alive() {
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let mut http = Http::connect(server.https_addr, &pki).await;

    let (status, ct, body) = http
        .post(
            "/kmip",
            "application/octet-stream",
            discover_versions(v(1, 4), b"1"),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/octet-stream"));
    assert_eq!(versions(&parse_response(&body)), ALL);

    let (status, _, body) = http
        .post("/kmip", "application/octet-stream", query(v(1, 4), b"q"))
        .await;
    assert_eq!(status, 200);
    assert_query(
        &parse_response(&body),
        &[Operation::QUERY, Operation::DISCOVER_VERSIONS],
    );

    let json_req = ttlv::json::to_json_string(
        &ttlv::decode(&discover_versions(v(2, 1), b"j"), &Default::default()).unwrap(),
        None,
    );
    let (status, ct, body) = http
        .post(
            "/kmip",
            "application/json; charset=utf-8",
            json_req.into_bytes(),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    let text = String::from_utf8(body).unwrap();
    let item = ttlv::json::from_json(&text, None).unwrap();
    let r = hsmkms::kmip::ResponseMessage::from_item(&item).unwrap();
    assert_eq!(versions(&r), ALL);
    assert!(text.contains("\"DiscoverVersions\""), "{text}");

    let (status, _, body) = http.post("/kmip", "text/plain", b"hello".to_vec()).await;
    assert_eq!(status, 415);
    assert!(String::from_utf8_lossy(&body).contains("application/octet-stream"));
    let (status, _, _) = http
        .post("/other", "application/octet-stream", vec![])
        .await;
    assert_eq!(status, 404);

    // Five requests, one TLS connection.
    assert_eq!(Stats::get(&server.stats().accepted), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_reads_a_chunked_body_without_content_length() {
    // No Content-Length: the server's zeroizing body buffer starts empty and grows chunk by
    // chunk (each time into a new buffer, the old one cleared).
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let mut tls = connect(server.https_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let message = discover_versions(v(1, 4), &[b'c'; 100]);
    let mut req = b"POST /kmip HTTP/1.1\r\nHost: localhost\r\n\
        Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\
        Connection: close\r\n\r\n"
        .to_vec();
    for chunk in message.chunks(message.len() / 3 + 1) {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    tls.write_all(&req).await.unwrap();
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut answer).await;
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    let r = parse_response(&answer[split + 4..]);
    assert_eq!(versions(&r), ALL);
    assert_eq!(
        r.batch_items[0].unique_batch_item_id.as_deref(),
        Some(&[b'c'; 100][..])
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_refuses_bodies_over_the_limit() {
    let pki = TestPki::new();
    let mut cfg = pki.config();
    cfg.limits.max_message_size = 1024;
    let server = start(&cfg).await;
    let mut http = Http::connect(server.https_addr, &pki).await;
    let (status, _, _) = http
        .post("/kmip", "application/octet-stream", vec![0; 4096])
        .await;
    assert_eq!(status, 413);
    assert_eq!(Stats::get(&server.stats().frames_refused), 1);
    server.shutdown().await;
}

struct Down;
impl ReadinessProbe for Down {
    fn name(&self) -> &'static str {
        "hsm"
    }
    fn check(&self) -> Result<(), String> {
        Err("not logged in".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_listener_reports_liveness_and_readiness() {
    use hsmkms::server::health::{check, CheckError};
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    assert_eq!(check(server.health_addr, "/healthz").await.unwrap(), "ok");
    assert_eq!(check(server.health_addr, "/readyz").await.unwrap(), "ready");
    server.shutdown().await;

    let down = Service::new(ServerInfo::default(), vec![]).with_probe(Box::new(Down));
    let server = start_with(&pki.config(), down).await;
    match check(server.health_addr, "/readyz").await {
        Err(CheckError::NotOk { status, body, .. }) => {
            assert_eq!(status.as_u16(), 503);
            assert_eq!(body, "not ready: hsm: not logged in");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    assert_eq!(check(server.health_addr, "/healthz").await.unwrap(), "ok");
    let addr = server.health_addr;
    server.shutdown().await;
    assert!(matches!(
        check(addr, "/healthz").await,
        Err(CheckError::Connect { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight() {
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let mut idle = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    // Half a message, then shutdown, then the rest: still answered.
    let req = discover_versions(v(1, 4), b"1");
    s.write_all(&req[..20]).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let token = server.shutdown_token();
    let done = tokio::spawn(server.shutdown());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(token.is_cancelled());
    s.write_all(&req[20..]).await.unwrap();
    s.flush().await.unwrap();
    let r = parse_response(&read_message(&mut s).await.unwrap());
    assert_eq!(versions(&r), ALL);
    closed_within(&mut s, Duration::from_secs(2)).await.unwrap();
    closed_within(&mut idle, Duration::from_secs(2))
        .await
        .unwrap();
    let t0 = Instant::now();
    assert!(
        done.await.unwrap(),
        "shutdown did not finish in its grace period"
    );
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_reaches_the_log_and_credentials_are_ignored_unlogged() {
    use hsmkms::kmip::message::{Credential, CredentialValue};
    use hsmkms::secret::SecretString;
    let logs = Logs::capture();
    let pki = TestPki::new();
    let server = start(&pki.config()).await;
    let mut s = connect(server.kmip_addr, pki.client_config(Some(&pki.alice)))
        .await
        .unwrap();
    let mut req = hsmkms::kmip::RequestMessage::from_item(
        &ttlv::decode(&discover_versions(v(1, 4), b"1"), &Default::default()).unwrap(),
    )
    .unwrap();
    req.header.authentication = Some(vec![Credential {
        credential_type: hsmkms::ttlv::enums::CredentialType::USERNAME_AND_PASSWORD,
        value: CredentialValue::UsernamePassword {
            username: "bob".into(),
            password: Some(SecretString::new("canary-p4ssw0rd".into())),
        },
    }]);
    let r = roundtrip(&mut s, &ttlv::to_vec(&req.to_item())).await;
    assert_eq!(r.batch_items[0].result_status, ResultStatus::SUCCESS);
    assert!(
        logs.wait_for("credential_type=\"UsernameAndPassword\"")
            .await
            || logs.wait_for("credential_type=UsernameAndPassword").await,
        "{}",
        logs.text()
    );
    assert!(logs.text().contains("identity=alice"), "{}", logs.text());
    assert!(
        logs.text().contains("operation=\"DiscoverVersions\"")
            || logs.text().contains("operation=DiscoverVersions"),
        "{}",
        logs.text()
    );
    server.shutdown().await;
    let text = logs.text();
    for canary in ["canary-p4ssw0rd", "63616e617279", "Y2FuYXJ5"] {
        assert!(
            !text.contains(canary),
            "the password reached the log: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_refuses_bad_tls_files_saying_what_to_fix() {
    let pki = TestPki::new();
    let mut cfg = pki.config();
    std::fs::write(pki.path("alice.key"), pki.alice.key_pem.expose()).unwrap();
    cfg.tls.key = pki.path("alice.key");
    let service = || std::sync::Arc::new(Service::default());
    let e = hsmkms::server::RunningServer::start(&cfg, service())
        .await
        .err()
        .expect("a key that is not the certificate's")
        .to_string();
    assert!(e.contains("cert and key do not match"), "{e}");

    let mut cfg = pki.config();
    cfg.tls.client_ca = pki.path("missing-ca.crt");
    let e = hsmkms::server::RunningServer::start(&cfg, service())
        .await
        .err()
        .expect("a missing client CA file")
        .to_string();
    assert!(
        e.contains("[tls] client_ca") && e.contains("missing-ca.crt"),
        "{e}"
    );
}
