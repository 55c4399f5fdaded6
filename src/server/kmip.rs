//! KMIP over TLS (port 5696): back-to-back binary TTLV messages on one connection, answered in
//! order. Each frame's 8-byte header is checked against the maximum message size before its body
//! is read or any buffer for it allocated; a frame that is not a TTLV Structure, or too large,
//! closes the connection (only this one). Deadlines: the idle timeout while waiting for the
//! first byte of a message, then the read deadline for the whole message and again for writing
//! the answer. On shutdown an idle connection closes at once; a message being read is finished
//! and answered first.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, timeout_at, Instant};
use tracing::{debug, info, warn};

use crate::server::{request, Shared};
use crate::service::Identity;
use crate::ttlv;

/// Serves one connection until the client closes it, a limit closes it, or shutdown.
pub async fn serve<S>(mut stream: S, identity: Identity, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limits = &shared.limits;
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let deadline_len = Duration::from_millis(limits.read_deadline_ms);
    let identity = Arc::new(identity);
    loop {
        let mut header = [0u8; 8];
        let first = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            r = timeout(idle, stream.read(&mut header)) => r,
        };
        let got = match first {
            Err(_) => {
                info!(
                    idle_ms = limits.idle_timeout_ms,
                    "idle timeout: connection closed"
                );
                break;
            }
            Ok(Ok(0)) => {
                debug!("client closed the connection");
                break;
            }
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                debug!(error = %e, "read failed");
                break;
            }
        };
        let deadline = Instant::now() + deadline_len;
        match timeout_at(deadline, stream.read_exact(&mut header[got..])).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                debug!(error = %e, "connection lost inside a message header");
                break;
            }
            Err(_) => {
                shared.stats.deadline_closes.fetch_add(1, Ordering::Relaxed);
                info!(
                    deadline_ms = limits.read_deadline_ms,
                    "message header not received within the read deadline: connection closed"
                );
                break;
            }
        }
        let len = match ttlv::message_len(&header, &shared.codec) {
            Ok(len) => len,
            Err(e) => {
                shared.stats.frames_refused.fetch_add(1, Ordering::Relaxed);
                warn!(error = %e, "refused frame: connection closed");
                break;
            }
        };
        // The request may carry key material: cleared when dropped (sized once, never grown).
        let mut frame = ttlv::Zeroizing::new(Vec::with_capacity(len));
        frame.extend_from_slice(&header);
        frame.resize(len, 0);
        match timeout_at(deadline, stream.read_exact(&mut frame[8..])).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                debug!(error = %e, bytes = len, "connection lost inside a message");
                break;
            }
            Err(_) => {
                shared.stats.deadline_closes.fetch_add(1, Ordering::Relaxed);
                info!(
                    deadline_ms = limits.read_deadline_ms,
                    bytes = len,
                    "message not received within the read deadline: connection closed"
                );
                break;
            }
        }
        let service = shared.service.clone();
        let codec = shared.codec;
        let who = identity.clone();
        let answer =
            tokio::task::spawn_blocking(move || request::binary(&service, &who, &frame, &codec))
                .await;
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "request handler failed: connection closed");
                break;
            }
        };
        let write = async {
            stream.write_all(&answer).await?;
            stream.flush().await
        };
        match timeout(deadline_len, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                debug!(error = %e, "writing the answer failed");
                break;
            }
            Err(_) => {
                info!("answer not taken within the read deadline: connection closed");
                break;
            }
        }
    }
    // close_notify, briefly: a client that stopped reading must not hold the task.
    let _ = timeout(Duration::from_millis(500), stream.shutdown()).await;
}
