//! Talking to older Docker engines. testcontainers 0.28 (bollard 0.21) sends every request as
//! Docker API 1.53 (Engine 29); an older engine refuses it ("client version 1.53 is too new",
//! Debian 12's docker.io 20.10 speaks 1.41). When the engine is older, this module runs a small
//! proxy on a private Unix socket that forwards each request to the engine with the version
//! prefix of its path lowered to the engine's (`/v1.53/containers/…` → `/v1.41/…`), and points
//! testcontainers at it through `DOCKER_HOST`. The requests the harness makes (create, start,
//! stop, kill, inspect, logs, archive) read the same in both versions.
//!
//! The proxy runs on its own thread and runtime for the rest of the process, so that
//! testcontainers' clean-up on drop reaches the engine from any runtime.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use testcontainers::bollard::{Docker, API_DEFAULT_VERSION};
use tokio::net::{UnixListener, UnixStream};

/// Where the engine listens and what it speaks, found once per process.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    /// The socket testcontainers and the harness use (the proxy's, or the engine's).
    pub(crate) socket: PathBuf,
}

/// The engine's socket: `DOCKER_HOST` when it is `unix://…`, else the default.
fn engine_socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if h.starts_with("unix://") => PathBuf::from(&h["unix://".len()..]),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

/// Connects to the engine (once per process), starting the version proxy when it is older than
/// testcontainers' API version. Errors say why no engine answered.
pub(crate) fn engine() -> Result<Engine, String> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE.get_or_init(connect).clone()
}

fn connect() -> Result<Engine, String> {
    let upstream = engine_socket();
    if let Ok(h) = std::env::var("DOCKER_HOST") {
        if !h.starts_with("unix://") {
            return Err(format!(
                "DOCKER_HOST={h}: the hsmkms harness reaches the engine through a Unix socket \
                 (unix:///var/run/docker.sock)"
            ));
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("hsmkms-docker-api".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                match prepare(&upstream).await {
                    Ok((engine, listener)) => {
                        let _ = tx.send(Ok(engine));
                        if let Some((listener, version)) = listener {
                            serve(listener, upstream, version).await;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })
        })
        .map_err(|e| e.to_string())?;
    let engine = rx.recv().map_err(|e| e.to_string())??;
    // Before testcontainers makes its client (once per process): nothing else in the harness
    // reads the environment concurrently.
    std::env::set_var("DOCKER_HOST", format!("unix://{}", engine.socket.display()));
    Ok(engine)
}

type Proxy = Option<(UnixListener, String)>;

/// Asks the engine its API version; binds the proxy socket when it is older than ours.
async fn prepare(upstream: &Path) -> Result<(Engine, Proxy), String> {
    let docker = Docker::connect_with_unix(&upstream.to_string_lossy(), 30, API_DEFAULT_VERSION)
        .map_err(|e| format!("{}: {e}", upstream.display()))?;
    let docker = docker
        .negotiate_version()
        .await
        .map_err(|e| format!("{}: {e}", upstream.display()))?;
    let engine = docker.client_version();
    let ours = API_DEFAULT_VERSION;
    if (engine.major_version, engine.minor_version) >= (ours.major_version, ours.minor_version) {
        return Ok((
            Engine {
                socket: upstream.to_owned(),
            },
            None,
        ));
    }
    let dir = std::env::temp_dir().join(format!("hsmkms-docker-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let socket = dir.join("docker.sock");
    let listener = UnixListener::bind(&socket).map_err(|e| format!("{}: {e}", socket.display()))?;
    let version = format!("v{}.{}", engine.major_version, engine.minor_version);
    Ok((Engine { socket }, Some((listener, version))))
}

async fn serve(listener: UnixListener, upstream: PathBuf, version: String) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (upstream, version) = (upstream.clone(), version.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                forward(req, upstream.clone(), version.clone())
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// `/v1.53/containers/json?all=1` → `/v1.41/containers/json?all=1` (paths without a version
/// prefix unchanged).
fn lower_version(path_and_query: &str, version: &str) -> String {
    let rest = path_and_query.strip_prefix("/v").and_then(|r| {
        let slash = r.find('/')?;
        r[..slash]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
            .then(|| &r[slash..])
    });
    match rest {
        Some(rest) => format!("/{version}{rest}"),
        None => path_and_query.to_owned(),
    }
}

async fn forward(
    req: hyper::Request<Incoming>,
    upstream: PathBuf,
    version: String,
) -> Result<hyper::Response<Incoming>, std::io::Error> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    parts.uri = lower_version(&path, &version)
        .parse()
        .map_err(std::io::Error::other)?;
    let stream = UnixStream::connect(&upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let res = sender
        .send_request(hyper::Request::from_parts(parts, body))
        .await
        .map_err(std::io::Error::other)?;
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::lower_version;

    #[test]
    fn lowers_only_the_version_prefix() {
        assert_eq!(
            lower_version("/v1.53/containers/json?all=1", "v1.41"),
            "/v1.41/containers/json?all=1"
        );
        assert_eq!(lower_version("/_ping", "v1.41"), "/_ping");
        assert_eq!(lower_version("/version", "v1.41"), "/version");
        assert_eq!(lower_version("/volumes/v1/x", "v1.41"), "/volumes/v1/x");
    }
}
