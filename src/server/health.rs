//! The plain-HTTP health listener for probes, which carry no client certificate: `GET /healthz`
//! (200 while the process serves) and `GET /readyz` (200 when the service is ready — HSM logged
//! in and store open — else 503 with the reason). Keep it on loopback or a private interface.
//! Also the client side that `hsmkms health` uses in container health checks.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};

use crate::server::Shared;

/// Most concurrent probe connections.
const MAX_PROBE_CONNECTIONS: usize = 32;
/// A probe has this long to send its request and read the answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let permits = Arc::new(Semaphore::new(MAX_PROBE_CONNECTIONS));
    loop {
        let (sock, peer) = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    warn!(error = %e, "health listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            debug!(%peer, "health listener: too many probe connections, closed");
            continue;
        };
        let shared = shared.clone();
        shared.tracker.clone().spawn(async move {
            let _permit = permit;
            let svc = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(answer(&req, &shared)) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(PROBE_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(sock), svc);
            let _ = tokio::time::timeout(PROBE_TIMEOUT, conn).await;
        });
    }
}

fn answer<B>(req: &Request<B>, shared: &Shared) -> Response<Full<Bytes>> {
    let (status, text) = match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => {
            if shared.shutdown.is_cancelled() {
                (StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_owned())
            } else {
                (StatusCode::OK, "ok".to_owned())
            }
        }
        (&Method::GET, "/readyz") => match shared.service.readiness() {
            _ if shared.shutdown.is_cancelled() => (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: shutting down".to_owned(),
            ),
            Ok(()) => (StatusCode::OK, "ready".to_owned()),
            Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")),
        },
        (_, "/healthz" | "/readyz") => (StatusCode::METHOD_NOT_ALLOWED, "use GET".to_owned()),
        _ => (
            StatusCode::NOT_FOUND,
            "not found: GET /healthz or /readyz".to_owned(),
        ),
    };
    let mut r = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *r.status_mut() = status;
    r
}

/// Why a health check failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot reach the health listener at {addr}: {source} (is hsmkms serve running, and [server] health_listen right?)")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("health listener at {addr} did not answer within {secs} s")]
    Timeout { addr: SocketAddr, secs: u64 },
    #[error("health check {path} at {addr}: {detail}")]
    Http {
        addr: SocketAddr,
        path: &'static str,
        detail: String,
    },
    #[error("{path} at {addr} answered {status}: {body}")]
    NotOk {
        addr: SocketAddr,
        path: &'static str,
        status: StatusCode,
        body: String,
    },
}

/// `GET path` on the health listener at `addr` (an unspecified address is asked on loopback);
/// Ok with the body when the answer is 200.
pub async fn check(addr: SocketAddr, path: &'static str) -> Result<String, CheckError> {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    let http = |detail: String| CheckError::Http { addr, path, detail };
    let run = async {
        let sock = TcpStream::connect(addr)
            .await
            .map_err(|source| CheckError::Connect { addr, source })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(sock))
            .await
            .map_err(|e| http(e.to_string()))?;
        tokio::spawn(conn);
        let req = Request::get(path)
            .header(hyper::header::HOST, addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(|e| http(e.to_string()))?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| http(e.to_string()))?;
        let status = res.status();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| http(e.to_string()))?
            .to_bytes();
        let body = String::from_utf8_lossy(&body).trim().to_owned();
        if status == StatusCode::OK {
            Ok(body)
        } else {
            Err(CheckError::NotOk {
                addr,
                path,
                status,
                body,
            })
        }
    };
    tokio::time::timeout(PROBE_TIMEOUT, run)
        .await
        .map_err(|_| CheckError::Timeout {
            addr,
            secs: PROBE_TIMEOUT.as_secs(),
        })?
}
