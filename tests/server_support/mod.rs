//! What the server tests share: a test PKI (rcgen), a server on 127.0.0.1:0 with real TLS, TLS
//! and HTTP clients, KMIP request builders, and a log capture.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hsmkms::config::Config;
use hsmkms::kmip::message::{ProtocolVersion, RequestBatchItem, RequestHeader};
use hsmkms::kmip::payload::{DiscoverVersionsRequest, QueryRequest};
use hsmkms::kmip::{RequestMessage, RequestPayload, ResponseMessage};
use hsmkms::pki::{Ca, ClientOptions, Issued};
use hsmkms::server::RunningServer;
use hsmkms::service::{Identity, ServerInfo, Service};
use hsmkms::ttlv::enums::{Operation, QueryFunction};
use hsmkms::ttlv::{self, Limits};
use http_body_util::{BodyExt, Full};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A CA, the server's certificate and a client "alice", written into a temporary directory.
pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca: Ca,
    pub alice: Issued,
}

impl TestPki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut ca = Ca::new("test CA").unwrap();
        let server = ca
            .issue_server(&["localhost".into(), "127.0.0.1".into()])
            .unwrap();
        let alice = ca.issue_client("alice", &ClientOptions::default()).unwrap();
        std::fs::write(dir.path().join("ca.crt"), &ca.cert_pem).unwrap();
        std::fs::write(dir.path().join("server.crt"), &server.cert_pem).unwrap();
        std::fs::write(dir.path().join("server.key"), server.key_pem.expose()).unwrap();
        TestPki { dir, ca, alice }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A configuration with every listener on 127.0.0.1:0 and short limits.
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        c.server.kmip_listen = any;
        c.server.https_listen = any;
        c.server.health_listen = any;
        c.tls.cert = self.path("server.crt");
        c.tls.key = self.path("server.key");
        c.tls.client_ca = self.path("ca.crt");
        c.limits.handshake_timeout_ms = 5_000;
        c.limits.idle_timeout_ms = 10_000;
        c.limits.read_deadline_ms = 5_000;
        c.limits.shutdown_grace_ms = 5_000;
        c
    }

    /// A client configuration presenting `client` (or no certificate), trusting the test CA.
    pub fn client_config(&self, client: Option<&Issued>) -> Arc<rustls::ClientConfig> {
        client_config(
            &self.ca.cert_pem,
            client,
            &[&rustls::version::TLS13, &rustls::version::TLS12],
        )
    }
}

pub fn client_config(
    ca_pem: &str,
    client: Option<&Issued>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots);
    let mut cfg = match client {
        None => builder.with_no_client_auth(),
        Some(c) => {
            let chain = CertificateDer::pem_slice_iter(c.cert_pem.as_bytes())
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_slice(c.key_pem.expose().as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    cfg.alpn_protocols = vec![];
    Arc::new(cfg)
}

pub async fn start(config: &Config) -> RunningServer {
    start_with(
        config,
        Service::new(ServerInfo::default(), vec![Identity::new("admin")]),
    )
    .await
}

pub async fn start_with(config: &Config, service: Service) -> RunningServer {
    RunningServer::start(config, Arc::new(service))
        .await
        .unwrap()
}

pub async fn connect(
    addr: SocketAddr,
    cfg: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(cfg)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

pub fn v(major: i32, minor: i32) -> ProtocolVersion {
    ProtocolVersion::new(major, minor)
}

pub fn request(
    version: ProtocolVersion,
    items: Vec<(Operation, &[u8], RequestPayload)>,
) -> Vec<u8> {
    let msg = RequestMessage {
        header: RequestHeader::new(version, items.len() as i32),
        batch_items: items
            .into_iter()
            .map(|(operation, id, payload)| RequestBatchItem {
                operation,
                ephemeral: None,
                unique_batch_item_id: Some(id.to_vec()),
                payload,
                message_extension: None,
            })
            .collect(),
    };
    ttlv::to_vec(&msg.to_item())
}

pub fn discover_versions(version: ProtocolVersion, id: &[u8]) -> Vec<u8> {
    request(
        version,
        vec![(
            Operation::DISCOVER_VERSIONS,
            id,
            RequestPayload::DiscoverVersions(DiscoverVersionsRequest::default()),
        )],
    )
}

pub fn query(version: ProtocolVersion, id: &[u8]) -> Vec<u8> {
    request(
        version,
        vec![(
            Operation::QUERY,
            id,
            RequestPayload::Query(QueryRequest {
                query_functions: vec![
                    QueryFunction::QUERY_OPERATIONS,
                    QueryFunction::QUERY_OBJECTS,
                    QueryFunction::QUERY_SERVER_INFORMATION,
                ],
            }),
        )],
    )
}

pub fn parse_response(bytes: &[u8]) -> ResponseMessage {
    let item = ttlv::decode(bytes, &Limits::DEFAULT).expect("a TTLV response");
    ResponseMessage::from_item(&item).expect("a KMIP response")
}

/// Reads one TTLV message from the stream.
pub async fn read_message<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 8];
    s.read_exact(&mut header).await?;
    let len = ttlv::message_len(&header, &Limits::DEFAULT)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
    let mut buf = header.to_vec();
    buf.resize(len, 0);
    s.read_exact(&mut buf[8..]).await?;
    Ok(buf)
}

/// Sends one request on a KMIP/TLS stream and reads the answer.
pub async fn roundtrip(s: &mut TlsStream<TcpStream>, req: &[u8]) -> ResponseMessage {
    s.write_all(req).await.unwrap();
    s.flush().await.unwrap();
    parse_response(&read_message(s).await.unwrap())
}

/// Reads until EOF or error; returns whether the server closed the connection (no answer bytes)
/// within `within`.
pub async fn closed_within<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    within: Duration,
) -> Result<(), String> {
    let mut buf = [0u8; 256];
    match tokio::time::timeout(within, s.read(&mut buf)).await {
        Err(_) => Err(format!("still open after {within:?}")),
        Ok(Ok(0)) | Ok(Err(_)) => Ok(()),
        Ok(Ok(n)) => Err(format!("got {n} bytes instead of a close")),
    }
}

/// An HTTP/1.1 client over TLS (one connection, keep-alive).
pub struct Http {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Http {
    pub async fn connect(addr: SocketAddr, pki: &TestPki) -> Self {
        Self::connect_with(addr, pki.client_config(Some(&pki.alice))).await
    }

    /// A keep-alive HTTPS connection with this TLS configuration.
    pub async fn connect_with(addr: SocketAddr, cfg: Arc<rustls::ClientConfig>) -> Self {
        let tls = connect(addr, cfg).await.unwrap();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);
        Http { sender }
    }

    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, String, Vec<u8>) {
        let req = hyper::Request::post(path)
            .header("host", "localhost")
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        // The connection task finishes the previous exchange asynchronously: wait until it can
        // take the next request (an error here means the server closed the connection).
        self.sender
            .ready()
            .await
            .expect("keep-alive connection still usable");
        let res = self.sender.send_request(req).await.unwrap();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        (status, ct, body)
    }
}

/// Everything the process logs, for assertions on what is (and is not) written.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Installs the capture as the global subscriber (each test runs in its own process under
    /// nextest).
    pub fn capture() -> Logs {
        let logs = Logs::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("debug")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("the first subscriber of this process");
        logs
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Waits up to two seconds for `needle` to be logged.
    pub async fn wait_for(&self, needle: &str) -> bool {
        for _ in 0..40 {
            if self.text().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
