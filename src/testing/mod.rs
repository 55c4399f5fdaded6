//! Test against SoftHSM in Docker from any crate (feature `testing`): [`SoftHsmKms`] starts the
//! hsmkms image — the KMIP server in front of SoftHSMv2 — with testcontainers, waits until
//! `GET /readyz` answers 200, and hands back the mapped ports and the client credentials (CA,
//! client certificate and key, read out of the container's volume) for a mutual-TLS client.
//!
//! The image is the local tag `HSMKMS_IMAGE` (default `hsmkms:dev`) and is never pulled. When the
//! tag is missing it is built with `docker/build-offline.sh` from this crate's sources, which
//! needs the hsmkms release binary (`cargo build --release --locked --bin hsmkms`, or its path in
//! `HSMKMS_BIN`) and the host's SoftHSM (`apt-get install softhsm2`).
//!
//! Needs a Docker engine on a Unix socket (`DOCKER_HOST=unix://…` or /var/run/docker.sock);
//! engines older than testcontainers' API version are reached through the proxy of
//! `docker_api.rs`. Ports are published on 127.0.0.1 only.

mod docker_api;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use testcontainers::bollard::models::{HostConfig, PortBinding};
use testcontainers::core::{IntoContainerPort, Mount};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use crate::secret::SecretString;

/// The image tag used unless `HSMKMS_IMAGE` names another.
pub const DEFAULT_IMAGE: &str = "hsmkms:dev";
/// Ports inside the container: KMIP over TLS, HTTPS `POST /kmip`, plain-HTTP health.
pub const KMIP_PORT: u16 = 5696;
pub const HTTPS_PORT: u16 = 9998;
pub const HEALTH_PORT: u16 = 9997;
/// The volume: token, store, PINs, development PKI.
pub const VOLUME: &str = "/var/lib/hsmkms";
/// How long a start may take until `/readyz` answers (first start: token, PKI, master keys).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Why the container could not be had, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(
        "no Docker engine answers ({0}): install and start one (Debian 12: `apt-get install \
         docker.io`, then `systemctl start docker` or `dockerd &`), or set DOCKER_HOST to its \
         unix:// socket"
    )]
    NoEngine(String),
    #[error("image {image} is missing and building it with {script} failed: {detail}")]
    Build {
        image: String,
        script: PathBuf,
        detail: String,
    },
    #[error("docker: {0}")]
    Docker(String),
    #[error("the hsmkms container stopped before it was ready; its output:\n{0}")]
    Exited(String),
    #[error("the hsmkms container was not ready after {secs} s; its output:\n{logs}")]
    NotReady { secs: u64, logs: String },
    #[error("reading {path} from the container: {detail}")]
    ReadFile { path: String, detail: String },
}

fn docker_err(e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Docker(e.to_string())
}

/// What a client needs to connect: the CA that signed the server certificate (and the client
/// certificates), and a client certificate with its key (identity `client`).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub ca_cert_pem: String,
    pub client_cert_pem: String,
    pub client_key_pem: SecretString,
}

impl Credentials {
    /// A rustls client configuration (aws-lc-rs, TLS 1.2/1.3) with these credentials.
    pub fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
        let bad = |e: rustls_pki_types::pem::Error| rustls::Error::General(e.to_string());
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(self.ca_cert_pem.as_bytes()) {
            roots.add(c.map_err(bad)?)?;
        }
        let chain = CertificateDer::pem_slice_iter(self.client_cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        let key =
            PrivateKeyDer::from_pem_slice(self.client_key_pem.expose().as_bytes()).map_err(bad)?;
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
        Ok(Arc::new(config))
    }
}

/// How to start the container; [`SoftHsmKms::builder`].
#[derive(Debug, Clone)]
pub struct Builder {
    image: String,
    bind_mount: Option<PathBuf>,
    secrets: Vec<(String, PathBuf)>,
    env: Vec<(String, String)>,
}

impl Builder {
    /// The image tag (default: `$HSMKMS_IMAGE`, else [`DEFAULT_IMAGE`]).
    pub fn image(mut self, tag: impl Into<String>) -> Self {
        self.image = tag.into();
        self
    }

    /// Mounts this host directory as the volume instead of a fresh anonymous volume (it must
    /// belong to uid 10001, or the container refuses to start and says which `chown` to run).
    pub fn bind_mount(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bind_mount = Some(dir.into());
        self
    }

    /// Mounts the host file `file` read-only at `/run/secrets/<name>`, as Docker secrets appear
    /// (`hsmkms_pin`: the user PIN). The file must be readable by uid 10001.
    pub fn secret(mut self, name: impl Into<String>, file: impl Into<PathBuf>) -> Self {
        self.secrets.push((name.into(), file.into()));
        self
    }

    /// An environment variable for the container (`HSMKMS_PIN`, `HSMKMS_SERVER_NAMES`,
    /// `HSMKMS__SECTION__KEY` overrides, `RUST_LOG`).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Starts the container (building the image first when the tag is missing) and waits until
    /// it is ready.
    pub async fn start(self) -> Result<SoftHsmKms, HarnessError> {
        let engine = docker_api::engine().map_err(HarnessError::NoEngine)?;
        ensure_image(&engine, &self.image).await?;
        let (name, tag) = self
            .image
            .rsplit_once(':')
            .unwrap_or((self.image.as_str(), "latest"));
        let mut request = GenericImage::new(name, tag)
            .with_host_config_modifier(publish_on_loopback)
            .with_startup_timeout(READY_TIMEOUT);
        for (k, v) in &self.env {
            request = request.with_env_var(k, v);
        }
        if let Some(dir) = &self.bind_mount {
            request = request.with_mount(Mount::bind_mount(dir.to_string_lossy(), VOLUME));
        }
        for (name, file) in &self.secrets {
            request = request.with_mount(
                Mount::bind_mount(file.to_string_lossy(), format!("/run/secrets/{name}"))
                    .with_access_mode(testcontainers::core::AccessMode::ReadOnly),
            );
        }
        let container = request.start().await.map_err(docker_err)?;
        let ports = wait_ready(&container).await?;
        let credentials = Credentials {
            ca_cert_pem: read_text(&container, "pki/ca.crt").await?,
            client_cert_pem: read_text(&container, "pki/client-client.crt").await?,
            client_key_pem: SecretString::new(
                read_text(&container, "pki/client-client.key").await?,
            ),
        };
        Ok(SoftHsmKms {
            container,
            engine,
            ports,
            credentials,
        })
    }
}

/// Publishes the three ports on 127.0.0.1 only, each on a free host port.
fn publish_on_loopback(host: &mut HostConfig) {
    host.publish_all_ports = Some(false);
    host.port_bindings = Some(
        [KMIP_PORT, HTTPS_PORT, HEALTH_PORT]
            .iter()
            .map(|p| {
                let binding = PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                };
                (format!("{p}/tcp"), Some(vec![binding]))
            })
            .collect(),
    );
}

/// A running hsmkms container with SoftHSM inside. Dropping it removes the container and its
/// anonymous volume.
pub struct SoftHsmKms {
    container: Container,
    engine: docker_api::Engine,
    /// Host ports of KMIP, HTTPS and health (they change on restart).
    ports: [u16; 3],
    credentials: Credentials,
}

impl SoftHsmKms {
    /// A fresh container from the default image with a new volume.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::builder().start().await
    }

    pub fn builder() -> Builder {
        Builder {
            image: std::env::var("HSMKMS_IMAGE").unwrap_or_else(|_| DEFAULT_IMAGE.into()),
            bind_mount: None,
            secrets: Vec::new(),
            env: Vec::new(),
        }
    }

    /// KMIP over TLS (binary TTLV), on 127.0.0.1.
    pub fn kmip_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports[0]))
    }

    /// HTTPS `POST /kmip`, on 127.0.0.1.
    pub fn https_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports[1]))
    }

    /// Plain-HTTP `/healthz` and `/readyz`, on 127.0.0.1.
    pub fn health_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.ports[2]))
    }

    /// The client credentials (the same across restarts: they live in the volume).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The container id.
    pub fn id(&self) -> &str {
        self.container.id()
    }

    /// The container's output so far (the server logs to stderr).
    pub async fn logs(&self) -> String {
        logs(&self.container).await
    }

    /// A text file of the volume (`relative` to [`VOLUME`]).
    pub async fn read_text(&self, relative: &str) -> Result<String, HarnessError> {
        read_text(&self.container, relative).await
    }

    /// Stops the server gracefully (SIGTERM) and starts it again on the same volume; waits until
    /// it is ready.
    pub async fn restart(&mut self) -> Result<(), HarnessError> {
        self.container.stop().await.map_err(docker_err)?;
        self.start_again().await
    }

    /// SIGKILL to the server (`docker kill`): no shutdown, no flush. Then [`Self::start_again`].
    pub async fn kill(&mut self) -> Result<(), HarnessError> {
        let docker = testcontainers::bollard::Docker::connect_with_unix(
            &self.engine.socket.to_string_lossy(),
            60,
            testcontainers::bollard::API_DEFAULT_VERSION,
        )
        .map_err(docker_err)?;
        docker
            .kill_container(
                self.container.id(),
                None::<testcontainers::bollard::query_parameters::KillContainerOptions>,
            )
            .await
            .map_err(docker_err)?;
        while self.container.is_running().await.map_err(docker_err)? {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// Starts the stopped container again and waits until it is ready.
    pub async fn start_again(&mut self) -> Result<(), HarnessError> {
        self.container.start().await.map_err(docker_err)?;
        self.ports = wait_ready(&self.container).await?;
        Ok(())
    }
}

type Container = ContainerAsync<GenericImage>;

/// Polls `/readyz` until 200 and returns the host ports (KMIP, HTTPS, health); fails with the
/// container's output when it stops or times out.
async fn wait_ready(container: &Container) -> Result<[u16; 3], HarnessError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if !container.is_running().await.map_err(docker_err)? {
            return Err(HarnessError::Exited(logs(container).await));
        }
        if let Ok(ports) = mapped_ports(container).await {
            let health = SocketAddr::from((Ipv4Addr::LOCALHOST, ports[2]));
            if crate::server::health::check(health, "/readyz")
                .await
                .is_ok()
            {
                return Ok(ports);
            }
        }
        if Instant::now() > deadline {
            return Err(HarnessError::NotReady {
                secs: READY_TIMEOUT.as_secs(),
                logs: logs(container).await,
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn mapped_ports(container: &Container) -> Result<[u16; 3], HarnessError> {
    let mut ports = [0; 3];
    for (slot, p) in ports.iter_mut().zip([KMIP_PORT, HTTPS_PORT, HEALTH_PORT]) {
        *slot = container
            .get_host_port_ipv4(p.tcp())
            .await
            .map_err(docker_err)?;
    }
    Ok(ports)
}

async fn logs(container: &Container) -> String {
    let out = container.stdout_to_vec().await.unwrap_or_default();
    let err = container.stderr_to_vec().await.unwrap_or_default();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&err)
    )
}

async fn read_text(container: &Container, relative: &str) -> Result<String, HarnessError> {
    let path = format!("{VOLUME}/{relative}");
    let failed = |detail: String| HarnessError::ReadFile {
        path: path.clone(),
        detail,
    };
    let bytes = container
        .copy_file_from(path.clone(), Vec::<u8>::new())
        .await
        .map_err(|e| failed(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| failed(e.to_string()))
}

/// Builds `image` with docker/build-offline.sh when the engine does not have it.
async fn ensure_image(engine: &docker_api::Engine, image: &str) -> Result<(), HarnessError> {
    let docker = testcontainers::bollard::Docker::connect_with_unix(
        &engine.socket.to_string_lossy(),
        60,
        testcontainers::bollard::API_DEFAULT_VERSION,
    )
    .map_err(|e| HarnessError::NoEngine(e.to_string()))?;
    match docker.inspect_image(image).await {
        Ok(_) => return Ok(()),
        Err(testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }) => {}
        Err(e) => return Err(HarnessError::NoEngine(e.to_string())),
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/build-offline.sh");
    let failed = |detail: String| HarnessError::Build {
        image: image.into(),
        script: script.clone(),
        detail,
    };
    let command = (script.clone(), image.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&command.0)
            .env("HSMKMS_IMAGE", &command.1)
            .output()
    })
    .await
    .map_err(|e| failed(e.to_string()))?
    .map_err(|e| failed(e.to_string()))?;
    if !out.status.success() {
        return Err(failed(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    Ok(())
}
