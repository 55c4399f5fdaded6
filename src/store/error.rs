//! [`StoreError`]: the store layer's one error type.

use std::path::PathBuf;

use super::auth::AuthError;
use super::codec::DecodeError;
use super::record::UniqueIdentifier;

/// Everything that can go wrong in the store, each saying what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A stored record failed verification; it is never returned or used.
    #[error(
        "object {uid} failed its integrity check ({reason}): the stored record was altered or \
         damaged outside hsmkms and is not used; restore the store from a backup"
    )]
    Integrity {
        uid: String,
        reason: IntegrityReason,
    },
    #[error("object {uid} not found")]
    NotFound { uid: UniqueIdentifier },
    #[error("an object with unique identifier {uid} already exists")]
    Duplicate { uid: UniqueIdentifier },
    /// The owner already has an object with this name. Another owner's object with the same
    /// name is never a collision, so this reveals nothing about other owners.
    #[error("the name {name:?} is already used by another object of the same owner")]
    NameTaken { name: String },
    /// Compare-and-set failed: the object changed since it was read.
    #[error("object {uid} was changed concurrently (expected {expected}, found {found}): read it again and retry")]
    Conflict {
        uid: UniqueIdentifier,
        expected: String,
        found: String,
    },
    #[error("invalid record: {reason}")]
    InvalidRecord { reason: &'static str },
    #[error("invalid write batch: {reason}")]
    InvalidBatch { reason: &'static str },
    #[error(
        "store {path} has schema version {found}, newer than this hsmkms supports ({supported}): \
         run the hsmkms version that wrote it, or restore a backup made for this version"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "store {path} holds data but no valid schema_version: it is not an hsmkms store or is \
         damaged; point [store] path at an hsmkms store or at an empty directory"
    )]
    SchemaMissing { path: PathBuf },
    #[error(
        "store {path} was created with another record-MAC key: check that [hsm] names the token \
         this store belongs to"
    )]
    WrongRecordKey { path: PathBuf },
    #[error(
        "store {path} is in use by another process (sled holds its lock): stop that process first"
    )]
    Locked { path: PathBuf },
    #[error("record authentication failed to run: {0}")]
    Auth(#[from] AuthError),
    #[error("store database error: {0}")]
    Database(#[from] sled::Error),
}

/// Why a stored record failed verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityReason {
    #[error("MAC does not match its contents")]
    BadTag,
    #[error("malformed: {0}")]
    Malformed(DecodeError),
    #[error("valid record of object {inside} stored under another identifier")]
    StoredUnderAnotherIdentifier { inside: UniqueIdentifier },
}
