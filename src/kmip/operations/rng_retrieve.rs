//! RNG Retrieve (KMIP 1.4 §4.35, 2.1 §6.1.45): random bytes from the server's generator. The
//! response is a [`DataResponse`](super::decrypt::DataResponse).

use crate::kmip::fields::{Builder, Fields, KmipError};
use crate::ttlv::{Item, Tag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RngRetrieveRequest {
    pub data_length: i32,
}

impl RngRetrieveRequest {
    pub fn from_item(item: &Item) -> Result<Self, KmipError> {
        let mut f = Fields::open(item, Tag::REQUEST_PAYLOAD)?;
        let r = RngRetrieveRequest {
            data_length: f.req_int(Tag::DATA_LENGTH)?,
        };
        f.finish()?;
        Ok(r)
    }

    pub fn to_item(&self) -> Item {
        Builder::new()
            .int(Tag::DATA_LENGTH, self.data_length)
            .build(Tag::REQUEST_PAYLOAD)
    }
}
