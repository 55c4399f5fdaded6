//! Test against SoftHSM in Docker from your own crate: start the hsmkms image with
//! `hsmkms::testing::SoftHsmKms`, connect to its KMIP port with mutual TLS using the credentials
//! it hands back, and ask Discover Versions. CI runs it (`tools/docker-tests.sh`):
//!
//! ```sh
//! cargo build --release --locked --bin hsmkms     # the offline image build uses this binary
//! cargo run --example softhsm_in_docker --features testing
//! ```

use hsmkms::kmip::message::{ProtocolVersion, RequestBatchItem, RequestHeader};
use hsmkms::kmip::payload::DiscoverVersionsRequest;
use hsmkms::kmip::{RequestMessage, RequestPayload, ResponseMessage, ResponsePayload};
use hsmkms::testing::SoftHsmKms;
use hsmkms::ttlv::enums::{Operation, ResultStatus};
use hsmkms::ttlv::{self, Limits};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Builds hsmkms:dev offline if it is missing, starts it, waits for /readyz.
    let kms = SoftHsmKms::start().await?;
    let tls = tokio_rustls::TlsConnector::from(kms.credentials().client_config()?);
    let tcp = tokio::net::TcpStream::connect(kms.kmip_addr()).await?;
    let mut stream = tls.connect(ServerName::try_from("localhost")?, tcp).await?;

    let request = RequestMessage {
        header: RequestHeader::new(ProtocolVersion::new(1, 4), 1),
        batch_items: vec![RequestBatchItem {
            operation: Operation::DISCOVER_VERSIONS,
            ephemeral: None,
            unique_batch_item_id: None,
            payload: RequestPayload::DiscoverVersions(DiscoverVersionsRequest::default()),
            message_extension: None,
        }],
    };
    stream.write_all(&ttlv::to_vec(&request.to_item())).await?;
    let mut header = [0u8; 8];
    stream.read_exact(&mut header).await?;
    let mut answer = header.to_vec();
    answer.resize(ttlv::message_len(&header, &Limits::DEFAULT)?, 0);
    stream.read_exact(&mut answer[8..]).await?;
    let response = ResponseMessage::from_item(&ttlv::decode(&answer, &Limits::DEFAULT)?)?;

    let item = &response.batch_items[0];
    assert_eq!(item.result_status, ResultStatus::SUCCESS, "{item:?}");
    match &item.payload {
        Some(ResponsePayload::DiscoverVersions(v)) => {
            let versions: Vec<String> = v
                .protocol_versions
                .iter()
                .map(|p| format!("{}.{}", p.major, p.minor))
                .collect();
            println!(
                "hsmkms in Docker at {} speaks KMIP {}",
                kms.kmip_addr(),
                versions.join(", ")
            );
        }
        other => return Err(format!("unexpected answer {other:?}").into()),
    }
    Ok(())
}
