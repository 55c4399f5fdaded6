//! Record authentication: the [`RecordAuthenticator`] seam to the HSM's record-MAC key, and the
//! stored framing `body || tag` that every value of the `objects` tree has.
//!
//! Stored value layout (all integers big-endian):
//!
//! ```text
//! u32 body_len | body (Record::canonical_bytes) | u32 mac_key_version | u8 tag_len | tag
//! ```
//!
//! The MAC covers the whole body, whose first bytes are a fixed magic that separates record
//! MACs from any other use of the key, and which contains the unique identifier. A read
//! verifies the MAC before decoding the body, then checks that the identifier inside equals the
//! key it was stored under.

use super::codec::{DecodeError, Reader, Writer, MAX_RECORD_BYTES, MAX_TAG_BYTES};
use super::error::{IntegrityReason, StoreError};
use super::record::{Record, UniqueIdentifier};

/// A MAC tag and the version of the record-MAC key that made it (so the key can rotate).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordTag {
    pub key_version: u32,
    pub tag: Vec<u8>,
}

impl std::fmt::Debug for RecordTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordTag")
            .field("key_version", &self.key_version)
            .field("tag", &hex::encode(&self.tag))
            .finish()
    }
}

/// Why the authenticator could not answer (as opposed to answering "invalid").
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The tag names a record-MAC key version the HSM does not have.
    #[error("record-MAC key version {0} is not in the HSM: was it deleted after a rotation?")]
    UnknownKeyVersion(u32),
    /// The HSM call failed; the source says how.
    #[error("record-MAC operation in the HSM failed: {0}")]
    Hsm(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Computes and checks record MACs.
///
/// **Production always implements this with the HSM's record-MAC key** (HMAC-SHA256 or
/// AES-CMAC computed inside the token, key never extractable): whoever can write the sled files
/// must not be able to forge a tag. The store's own tests use a software HMAC, which proves the
/// store logic only.
pub trait RecordAuthenticator: Send + Sync {
    /// MAC over `data` with the current record-MAC key.
    fn sign(&self, data: &[u8]) -> Result<RecordTag, AuthError>;
    /// Whether `tag` is a valid MAC over `data` under the key version it names. A wrong tag is
    /// `Ok(false)`; `Err` is for an HSM that could not answer.
    fn verify(&self, data: &[u8], tag: &RecordTag) -> Result<bool, AuthError>;
}

/// Signs `record` and frames it for the `objects` tree.
pub(crate) fn seal(auth: &dyn RecordAuthenticator, record: &Record) -> Result<Vec<u8>, StoreError> {
    let body = record.canonical_bytes();
    let tag = auth.sign(&body)?;
    frame(&body, &tag)
}

fn frame(body: &[u8], tag: &RecordTag) -> Result<Vec<u8>, StoreError> {
    if tag.tag.len() > MAX_TAG_BYTES {
        return Err(StoreError::InvalidRecord {
            reason: "the authenticator returned a tag longer than MAX_TAG_BYTES",
        });
    }
    let mut w = Writer::new();
    w.bytes(body);
    w.u32(tag.key_version);
    w.u8(u8::try_from(tag.tag.len()).unwrap_or(u8::MAX));
    w.raw(&tag.tag);
    let out = w.into_inner();
    if out.len() > MAX_RECORD_BYTES {
        return Err(StoreError::InvalidRecord {
            reason: "the encoded record exceeds MAX_RECORD_BYTES",
        });
    }
    Ok(out)
}

fn unframe(raw: &[u8]) -> Result<(&[u8], RecordTag), DecodeError> {
    if raw.len() > MAX_RECORD_BYTES {
        return Err(DecodeError::TooLong {
            what: "stored record",
            len: raw.len(),
            limit: MAX_RECORD_BYTES,
        });
    }
    let mut r = Reader::new(raw);
    let body = r.bytes("record body", MAX_RECORD_BYTES)?;
    let key_version = r.u32()?;
    let n = usize::from(r.u8()?);
    if n > MAX_TAG_BYTES {
        return Err(DecodeError::TooLong {
            what: "record tag",
            len: n,
            limit: MAX_TAG_BYTES,
        });
    }
    let tag = r.take(n)?.to_vec();
    r.finish()?;
    Ok((body, RecordTag { key_version, tag }))
}

/// Verifies and decodes a stored value found under `uid`. Never returns an unverified record.
pub(crate) fn open(
    auth: &dyn RecordAuthenticator,
    uid: &[u8],
    raw: &[u8],
) -> Result<Record, StoreError> {
    let integrity = |reason| StoreError::Integrity {
        uid: String::from_utf8_lossy(uid).into_owned(),
        reason,
    };
    let (body, tag) = unframe(raw).map_err(|e| integrity(IntegrityReason::Malformed(e)))?;
    if !auth.verify(body, &tag)? {
        return Err(integrity(IntegrityReason::BadTag));
    }
    let record = Record::decode(body).map_err(|e| integrity(IntegrityReason::Malformed(e)))?;
    if record.unique_identifier.0.as_bytes() != uid {
        return Err(integrity(IntegrityReason::StoredUnderAnotherIdentifier {
            inside: record.unique_identifier.clone(),
        }));
    }
    Ok(record)
}

/// Decodes a stored value **without verifying its MAC**: for inspection tools and tamper tests
/// only. A record obtained here must never be used as if it came from the store.
pub fn danger_decode_unverified(raw: &[u8]) -> Result<(Record, RecordTag), DecodeError> {
    let (body, tag) = unframe(raw)?;
    Ok((Record::decode(body)?, tag))
}

/// Frames a record body with a given tag, **without signing**: for tamper tests, which need
/// to write what an attacker could (a changed body under an old tag).
pub fn danger_encode_with_tag(record: &Record, tag: &RecordTag) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&record.canonical_bytes());
    w.u32(tag.key_version);
    w.u8(u8::try_from(tag.tag.len()).unwrap_or(u8::MAX));
    w.raw(&tag.tag);
    w.into_inner()
}

/// The identifier the store checks its records against (what `open` compares with).
pub(crate) fn uid_bytes(uid: &UniqueIdentifier) -> &[u8] {
    uid.0.as_bytes()
}
