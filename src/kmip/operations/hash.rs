//! Hash (KMIP 1.4 §4.37, 2.1 §6.1.23): a digest of data. The response is a
//! [`DataResponse`](super::decrypt::DataResponse) without identifier.

use super::cryptographic_parameters::{CryptographicParameters, Streaming};
use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HashRequest {
    pub cryptographic_parameters: Option<CryptographicParameters>,
    pub data: Option<Vec<u8>>,
    pub streaming: Streaming,
}

impl HashRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = HashRequest {
            cryptographic_parameters: CryptographicParameters::read(&mut f)?,
            data: f.opt_bytes(Tag::DATA)?,
            streaming: Streaming::read(&mut f)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        let b = Builder::new()
            .opt_item(
                self.cryptographic_parameters
                    .as_ref()
                    .map(CryptographicParameters::to_item),
            )
            .opt_bytes(Tag::DATA, self.data.as_deref());
        self.streaming.write(b).build(Tag::REQUEST_PAYLOAD)
    }
}
