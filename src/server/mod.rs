//! The transport: listeners, TLS, client identity, framing, HTTP, limits and graceful shutdown.
//! No operation logic: every request goes to [`Service::handle`](crate::service::Service) with
//! the identity read from the client certificate.
//!
//! - [`tls`]: the rustls configuration (aws-lc-rs, TLS 1.2/1.3, client certificates required,
//!   optional CRL) and handshake failures in plain words;
//! - [`identity`]: the client identity from its certificate (CN, DN, DNS or e-mail SAN);
//! - [`kmip`]: KMIP over TLS (5696): framing with the size check on the 8-byte header;
//! - [`https`]: `POST /kmip` (9998), binary or JSON TTLV, keep-alive;
//! - [`health`]: plain-HTTP `/healthz` and `/readyz` (9997), and the `hsmkms health` client;
//! - [`request`]: bytes → typed request → service → bytes.
//!
//! The shape is mini-redis's: an accept loop per listener with a connection cap (a connection
//! over the cap is accepted and closed at once, and counted), one task per connection, a
//! cancellation token for shutdown and a task tracker to wait for in-flight work.

pub mod health;
pub mod https;
pub mod identity;
pub mod kmip;
pub mod request;
pub mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{field, info, info_span, warn, Instrument, Span};

use crate::config::{Config, IdentitySource, LimitsConfig};
use crate::service::Service;
use crate::ttlv;

/// Counters a test or an operator can read.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted under the cap.
    pub accepted: AtomicU64,
    /// Connections accepted over the cap and closed at once.
    pub refused_over_cap: AtomicU64,
    /// TLS handshakes that failed or timed out.
    pub handshake_failures: AtomicU64,
    /// Frames refused from their header (not a TTLV Structure, or over the size limit).
    pub frames_refused: AtomicU64,
    /// Connections closed because a message did not arrive within the read deadline.
    pub deadline_closes: AtomicU64,
}

impl Stats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// What every connection task shares.
pub struct Shared {
    pub service: Arc<Service>,
    pub limits: LimitsConfig,
    pub codec: ttlv::Limits,
    pub identity: IdentitySource,
    pub stats: Stats,
    pub shutdown: CancellationToken,
    pub tracker: TaskTracker,
    permits: Arc<Semaphore>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr} ([server] {key}): {source}")]
    Bind {
        key: &'static str,
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Kmip,
    Https,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Kmip => "kmip",
            Protocol::Https => "https",
        }
    }
}

/// A started server: its bound addresses (useful with port 0), counters, and shutdown.
pub struct RunningServer {
    pub kmip_addr: SocketAddr,
    pub https_addr: SocketAddr,
    pub health_addr: SocketAddr,
    shared: Arc<Shared>,
    accept_loops: TaskTracker,
}

async fn bind(key: &'static str, addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { key, addr, source })
}

impl RunningServer {
    /// Builds the TLS configurations, binds the three listeners and starts accepting.
    pub async fn start(config: &Config, service: Arc<Service>) -> Result<Self, ServerError> {
        let mode = tls::TlsMode::for_config(&config.fips);
        let kmip_tls = TlsAcceptor::from(tls::server_config(&config.tls, mode, &[])?);
        let https_tls = TlsAcceptor::from(tls::server_config(&config.tls, mode, &[b"http/1.1"])?);
        let kmip = bind("kmip_listen", config.server.kmip_listen).await?;
        let https = bind("https_listen", config.server.https_listen).await?;
        let health = bind("health_listen", config.server.health_listen).await?;
        let local = |l: &TcpListener, key, addr| {
            l.local_addr()
                .map_err(|source| ServerError::Bind { key, addr, source })
        };
        let kmip_addr = local(&kmip, "kmip_listen", config.server.kmip_listen)?;
        let https_addr = local(&https, "https_listen", config.server.https_listen)?;
        let health_addr = local(&health, "health_listen", config.server.health_listen)?;

        let shared = Arc::new(Shared {
            service,
            limits: config.limits.clone(),
            codec: ttlv::Limits {
                max_message_len: config.limits.max_message_size,
                ..ttlv::Limits::DEFAULT
            },
            identity: config.tls.identity,
            stats: Stats::default(),
            shutdown: CancellationToken::new(),
            tracker: TaskTracker::new(),
            permits: Arc::new(Semaphore::new(config.limits.max_connections)),
        });
        let accept_loops = TaskTracker::new();
        accept_loops.spawn(accept_loop(kmip, Protocol::Kmip, kmip_tls, shared.clone()));
        accept_loops.spawn(accept_loop(
            https,
            Protocol::Https,
            https_tls,
            shared.clone(),
        ));
        accept_loops.spawn(health::accept_loop(health, shared.clone()));
        accept_loops.close();
        info!(
            kmip = %kmip_addr,
            https = %https_addr,
            health = %health_addr,
            max_connections = config.limits.max_connections,
            max_message_size = config.limits.max_message_size,
            "hsmkms listening"
        );
        Ok(RunningServer {
            kmip_addr,
            https_addr,
            health_addr,
            shared,
            accept_loops,
        })
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// A token that starts the shutdown when cancelled (signal handlers hold one).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (idle connections close
    /// at once), wait at most `[limits] shutdown_grace_ms`. Returns whether everything finished
    /// in time. The service (HSM, store) is closed by its owner afterwards.
    pub async fn shutdown(self) -> bool {
        self.shared.shutdown.cancel();
        self.accept_loops.wait().await;
        self.shared.tracker.close();
        let grace = Duration::from_millis(self.shared.limits.shutdown_grace_ms);
        let done = tokio::time::timeout(grace, self.shared.tracker.wait())
            .await
            .is_ok();
        if done {
            info!("all connections closed");
        } else {
            warn!(
                open = self.shared.tracker.len(),
                grace_ms = self.shared.limits.shutdown_grace_ms,
                "connections still open after the shutdown grace period: abandoned"
            );
        }
        done
    }

    /// Runs until SIGTERM or SIGINT (or the token is cancelled), then shuts down gracefully.
    pub async fn run_until_signal(self) -> bool {
        let token = self.shutdown_token();
        tokio::select! {
            _ = token.cancelled() => {}
            s = signal() => info!(signal = s, "shutting down: no new connections, finishing requests in flight"),
        }
        self.shutdown().await
    }
}

#[cfg(unix)]
async fn signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        warn!("cannot install signal handlers: stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

async fn accept_loop(
    listener: TcpListener,
    protocol: Protocol,
    tls: TlsAcceptor,
    shared: Arc<Shared>,
) {
    loop {
        let (sock, peer) = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    warn!(listener = protocol.name(), error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = shared.permits.clone().try_acquire_owned() else {
            let n = shared
                .stats
                .refused_over_cap
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            drop(sock);
            if n.is_power_of_two() {
                warn!(
                    listener = protocol.name(),
                    %peer,
                    refused_total = n,
                    max_connections = shared.limits.max_connections,
                    "connection cap reached: connection closed ([limits] max_connections)"
                );
            }
            continue;
        };
        shared.stats.accepted.fetch_add(1, Ordering::Relaxed);
        let _ = sock.set_nodelay(true);
        let span = info_span!(
            "conn",
            listener = protocol.name(),
            %peer,
            identity = field::Empty
        );
        let task_shared = shared.clone();
        let tls = tls.clone();
        shared.tracker.spawn(
            async move {
                connection(sock, protocol, tls, task_shared).await;
                drop(permit);
            }
            .instrument(span),
        );
    }
}

/// Handshake (bounded), identity, then the protocol's loop.
async fn connection(sock: TcpStream, protocol: Protocol, tls: TlsAcceptor, shared: Arc<Shared>) {
    let timeout = Duration::from_millis(shared.limits.handshake_timeout_ms);
    let handshake = tokio::select! {
        _ = shared.shutdown.cancelled() => return,
        r = tokio::time::timeout(timeout, tls.accept(sock)) => r,
    };
    let stream = match handshake {
        Err(_) => {
            shared
                .stats
                .handshake_failures
                .fetch_add(1, Ordering::Relaxed);
            info!(
                timeout_ms = shared.limits.handshake_timeout_ms,
                "TLS handshake not finished within the handshake timeout: connection closed"
            );
            return;
        }
        Ok(Err(e)) => {
            shared
                .stats
                .handshake_failures
                .fetch_add(1, Ordering::Relaxed);
            warn!(reason = %tls::describe_handshake_error(&e), "TLS handshake failed");
            return;
        }
        Ok(Ok(s)) => s,
    };
    let (_, session) = stream.get_ref();
    let leaf = session
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec());
    let identity = match leaf
        .ok_or(identity::IdentityError::NoCertificate)
        .and_then(|der| identity::identity(&der, shared.identity))
    {
        Ok(id) => id,
        Err(e) => {
            warn!(reason = %e, "client refused after the handshake");
            return;
        }
    };
    Span::current().record("identity", field::display(&identity));
    info!(
        tls = ?session.protocol_version(),
        suite = ?session.negotiated_cipher_suite().map(|s| s.suite()),
        "connected"
    );
    match protocol {
        Protocol::Kmip => kmip::serve(stream, identity, shared).await,
        Protocol::Https => https::serve(stream, identity, shared).await,
    }
    info!("closed");
}
