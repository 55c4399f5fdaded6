//! HTTPS (port 9998): `POST /kmip` with `Content-Type: application/octet-stream` (binary TTLV)
//! or `application/json` (KMIP JSON); the answer carries the same content type. Another content
//! type gets 415, another method 405, another path 404, a body over the maximum message size
//! 413. HTTP/1.1 keep-alive (hyper). The limits match the KMIP port's: idle timeout between
//! requests, and the read deadline from a request's first byte to its complete body.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tracing::{debug, info};

use crate::server::{request, Shared};
use crate::service::Identity;
use crate::ttlv::Zeroizing;

/// When the connection last moved, and whether a request is being read or answered.
struct Clock {
    base: Instant,
    /// Milliseconds since `base` of the last byte read or answer sent.
    last_activity: AtomicU64,
    /// 0, or 1 + milliseconds since `base` of the first byte of the request being received.
    message_started: AtomicU64,
    in_flight: AtomicUsize,
}

impl Clock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn at(&self, ms: u64) -> Instant {
        self.base + Duration::from_millis(ms)
    }
}

/// The TLS stream, noting when bytes arrive.
struct Watched<S> {
    inner: S,
    clock: Arc<Clock>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            let now = self.clock.now_ms();
            self.clock.last_activity.store(now, Ordering::Relaxed);
            if self.clock.in_flight.load(Ordering::Relaxed) == 0 {
                let _ = self.clock.message_started.compare_exchange(
                    0,
                    now + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one HTTPS connection.
pub async fn serve<S>(stream: S, identity: Identity, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let clock = Arc::new(Clock {
        base: Instant::now(),
        last_activity: AtomicU64::new(0),
        message_started: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Watched {
        inner: stream,
        clock: clock.clone(),
    });
    let identity = Arc::new(identity);
    let svc = {
        let shared = shared.clone();
        let clock = clock.clone();
        hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            let clock = clock.clone();
            let identity = identity.clone();
            async move {
                clock.in_flight.fetch_add(1, Ordering::Relaxed);
                let answer = handle(req, identity, &shared).await;
                clock.in_flight.fetch_sub(1, Ordering::Relaxed);
                clock.message_started.store(0, Ordering::Relaxed);
                clock.last_activity.store(clock.now_ms(), Ordering::Relaxed);
                Ok::<_, Infallible>(answer)
            }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .keep_alive(true)
        .max_buf_size(64 * 1024)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    let idle = Duration::from_millis(shared.limits.idle_timeout_ms);
    let deadline = Duration::from_millis(shared.limits.read_deadline_ms);
    let mut draining = false;
    loop {
        // The next moment a limit could expire.
        let wake = if clock.in_flight.load(Ordering::Relaxed) > 0 {
            Instant::now() + deadline
        } else {
            match clock.message_started.load(Ordering::Relaxed) {
                0 => clock.at(clock.last_activity.load(Ordering::Relaxed)) + idle,
                started => clock.at(started - 1) + deadline,
            }
        };
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    debug!(error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            _ = shared.shutdown.cancelled(), if !draining => {
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            _ = tokio::time::sleep_until(wake) => {
                if clock.in_flight.load(Ordering::Relaxed) > 0 || Instant::now() < wake {
                    continue;
                }
                match clock.message_started.load(Ordering::Relaxed) {
                    0 if Instant::now() >= clock.at(clock.last_activity.load(Ordering::Relaxed)) + idle => {
                        info!(idle_ms = shared.limits.idle_timeout_ms, "idle timeout: connection closed");
                        return;
                    }
                    0 => {}
                    started if Instant::now() >= clock.at(started - 1) + deadline => {
                        shared.stats.deadline_closes.fetch_add(1, Ordering::Relaxed);
                        info!(deadline_ms = shared.limits.read_deadline_ms, "request not received within the read deadline: connection closed");
                        return;
                    }
                    _ => {}
                }
            }
        }
    }
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

enum Encoding {
    Binary,
    Json,
}

/// Reads a request body into a buffer that clears itself when dropped (it may carry key
/// material). Sized from Content-Length (`hint`, already checked against `max`); a body that
/// outgrows it moves to a larger zeroizing buffer (at most `max`) and the old one is cleared,
/// so no reallocation leaves a copy behind.
async fn read_body(
    body: Limited<Incoming>,
    hint: usize,
    max: usize,
) -> Result<Zeroizing<Vec<u8>>, Box<dyn std::error::Error + Send + Sync>> {
    let mut body = std::pin::pin!(body);
    let mut out = Zeroizing::new(Vec::with_capacity(hint));
    while let Some(frame) = body.frame().await {
        let Ok(chunk) = frame?.into_data() else {
            continue; // trailers
        };
        let needed = out.len() + chunk.len();
        if needed > out.capacity() {
            let grown = needed.max(out.capacity().saturating_mul(2).min(max));
            let mut larger = Zeroizing::new(Vec::with_capacity(grown));
            larger.extend_from_slice(&out);
            out = larger;
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

async fn handle(
    req: Request<Incoming>,
    identity: Arc<Identity>,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    if req.uri().path() != "/kmip" {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: KMIP is served at POST /kmip",
        );
    }
    if req.method() != Method::POST {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed: use POST /kmip",
        );
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("POST"),
        );
        return r;
    }
    let media = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let encoding = match media.as_deref() {
        Some("application/octet-stream") => Encoding::Binary,
        Some("application/json") => Encoding::Json,
        other => {
            info!(content_type = ?other, "refused HTTP request: unsupported content type");
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported content type: send application/octet-stream (binary TTLV) or \
                 application/json (KMIP JSON)",
            );
        }
    };
    let max = shared.limits.max_message_size;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        shared.stats.frames_refused.fetch_add(1, Ordering::Relaxed);
        info!(
            limit = max,
            "refused HTTP request: body over the maximum message size"
        );
        plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body larger than the maximum message size of {max} bytes"),
        )
    };
    if declared.is_some_and(|d| d > max as u64) {
        return too_large();
    }
    let deadline = Duration::from_millis(shared.limits.read_deadline_ms);
    // `declared` is at most `max` here.
    let hint = declared.and_then(|d| usize::try_from(d).ok()).unwrap_or(0);
    let body = match tokio::time::timeout(
        deadline,
        read_body(Limited::new(req.into_body(), max), hint, max),
    )
    .await
    {
        Err(_) => {
            shared.stats.deadline_closes.fetch_add(1, Ordering::Relaxed);
            return plain(
                StatusCode::REQUEST_TIMEOUT,
                "request body not received within the read deadline",
            );
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return too_large(),
        Ok(Err(e)) => {
            debug!(error = %e, "reading the request body failed");
            return plain(
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            );
        }
        Ok(Ok(b)) => b,
    };
    let service = shared.service.clone();
    let codec = shared.codec;
    // The answer may carry key material: hyper frees it through its zeroizing owner.
    let answer = tokio::task::spawn_blocking(move || match encoding {
        Encoding::Binary => (
            "application/octet-stream",
            Bytes::from_owner(request::binary(&service, &identity, &body, &codec)),
        ),
        Encoding::Json => {
            let text = match std::str::from_utf8(&body) {
                Ok(t) => request::json(&service, &identity, t),
                Err(_) => request::json(&service, &identity, "\u{0}not UTF-8"),
            };
            ("application/json", Bytes::from_owner(text))
        }
    })
    .await;
    match answer {
        Ok((content_type, bytes)) => {
            let mut r = Response::new(Full::new(bytes));
            r.headers_mut().insert(
                CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(content_type),
            );
            r
        }
        Err(_) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request handler failed",
        ),
    }
}
