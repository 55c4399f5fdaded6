//! The object store: the [`Store`] trait and its sled 0.34 implementation, [`SledStore`].
//!
//! What lives here: the [`Record`] of a managed object (identity, type, state, owner, names,
//! an opaque attribute list, the HSM-wrapped key blob) and its canonical encoding
//! ([`record`], [`codec`]); record authentication through the HSM ([`auth`]); the index trees
//! Locate answers from ([`index`], [`locate`], [`query`]); durability and group commit
//! ([`durability`]). What does not: any KMIP message type, any PKCS#11 call, any plaintext key
//! material — the only key material type, [`WrappedKey`], is built from the HSM layer's wrap
//! output and from nothing else ([`key`]).
//!
//! # Guarantees
//!
//! - **One transaction per operation.** A record and all its index entries (and, for
//!   [`Store::commit`], several records, e.g. ReKey's new and old key) change in one sled
//!   transaction across the trees; success is returned only after a flush that covers it
//!   ([`Durability`]).
//! - **Compare-and-set.** Updates name the version or state they expect ([`Expect`]); a
//!   concurrent change makes them fail with [`StoreError::Conflict`] instead of overwriting.
//! - **Names are unique per owner**, not globally: two owners may each have a key named `k`,
//!   and a create that collides with another owner's name succeeds, so it reveals nothing.
//! - **Index entries are hints.** Every Locate candidate is re-read, verified and re-checked
//!   against the whole query; stale or forged entries are dropped.
//! - **A schema version** ([`SCHEMA_VERSION`]) is written when a store is created and checked
//!   at open: a newer store refuses to open with a message saying so.
//!
//! # What the per-record MAC detects, and what it does not
//!
//! Each stored record carries a MAC computed **in the HSM** with the record-MAC key (through
//! [`RecordAuthenticator`]; the software HMAC in the tests is a stand-in) over its canonical
//! encoding, which includes the unique identifier. Whoever can read and write the sled files
//! but not use the HSM key therefore cannot, unnoticed:
//! - edit any field of a record (state, owner, names, attributes, KEK, blob, version);
//! - move a blob from one record to another, or a whole record to another identifier;
//! - forge a record.
//!
//! Such a record is never returned: reads fail with [`StoreError::Integrity`] naming the
//! object. The MAC does **not** detect:
//! - **rollback** of a record to an older, validly MACed version of itself (e.g. a Destroyed
//!   key restored from an old copy of the files), nor a whole store rolled back to a backup —
//!   a later issue anchors freshness (e.g. a counter kept in the HSM);
//! - **deletion** of a record, or of index entries (Locate then misses the object, and
//!   index-only damage is not an integrity error: index entries are hints, re-checked, and
//!   [`SledStore::check`] reports missing and stale ones);
//! - anything done by a party that can use the HSM's record-MAC key.
//!
//! Destroy drops the blob from the record, but sled is log-structured: the old blob can stay in
//! its files until compaction, and in backups. Destroy is final once the KEK version that
//! wrapped the blob is retired (crypto-shredding); the record keeps that KEK's identity.

pub mod auth;
mod check;
pub mod codec;
pub mod durability;
pub mod error;
pub mod index;
pub mod key;
pub mod locate;
pub mod query;
pub mod record;
pub mod sled_store;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use auth::{
    danger_decode_unverified, danger_encode_with_tag, AuthError, RecordAuthenticator, RecordTag,
};
pub use check::CheckReport;
pub use durability::Durability;
pub use error::{IntegrityReason, StoreError};
pub use index::{is_indexed_attribute, INDEXED_ATTRIBUTES};
pub use key::{HsmWrapped, KekId, KeyMaterial, WrappedKey};
pub use query::{AttributeFilter, Condition, ListFilter, Located, Query};
pub use record::{
    AttrValue, Attribute, Name, ObjectType, Owner, Record, State, Timestamp, UniqueIdentifier,
};
pub use sled_store::{SledStore, StoreOptions, SCHEMA_VERSION};

/// What a change expects to find (compare-and-set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Exactly this record version; never retried.
    Version(u64),
    /// This state; retried on a concurrent change that leaves the state as expected.
    State(State),
    /// Whatever is there; retried on a concurrent change.
    Any,
}

/// One write of an atomic [`Store::commit`] batch.
#[derive(Debug, Clone)]
pub enum Write {
    /// A new object; fails on a duplicate identifier or a name the owner already uses.
    Create(Record),
    /// The whole record, replacing version `expected_version` of the object with the same
    /// identifier (version, sequence and creation time are kept by the store).
    Replace {
        expected_version: u64,
        record: Record,
    },
    /// Removes the record and its index entries entirely (not KMIP Destroy: see
    /// [`Store::destroy`]).
    Delete {
        uid: UniqueIdentifier,
        expected_version: u64,
    },
}

/// The store seam. Synchronous: the server calls it from blocking threads. Kept transactional
/// (compare-and-set, unique names per owner, atomic batches) so that a shared backend on a
/// distributed database can implement it too.
pub trait Store: Send + Sync {
    /// Stores a new object; returns it with version 1, its sequence and timestamps.
    fn create(&self, record: Record) -> Result<Record, StoreError>;
    /// The verified record, or `NotFound` / `Integrity`.
    fn get(&self, uid: &UniqueIdentifier) -> Result<Record, StoreError>;
    /// Reads the object, checks `expect`, applies `change` and writes it back if nothing
    /// changed meanwhile. `change` may run more than once (on retries).
    fn update(
        &self,
        uid: &UniqueIdentifier,
        expect: Expect,
        change: &mut dyn FnMut(&mut Record) -> Result<(), StoreError>,
    ) -> Result<Record, StoreError>;
    /// KMIP Destroy: drops the wrapped blob, keeps the metadata, sets `state`.
    fn destroy(
        &self,
        uid: &UniqueIdentifier,
        expect: Expect,
        state: State,
    ) -> Result<Record, StoreError>;
    /// Removes the record and its index entries.
    fn delete(&self, uid: &UniqueIdentifier, expect: Expect) -> Result<(), StoreError>;
    /// Several writes in one transaction, applied in order (so a name removed from one object
    /// can be given to another later in the same batch, as ReKey needs). All or nothing.
    fn commit(&self, writes: Vec<Write>) -> Result<Vec<Record>, StoreError>;
    /// KMIP Locate from the indexes; every answer is a verified record that matches.
    fn locate(&self, query: &Query) -> Result<Located, StoreError>;
    /// Locate with an extra predicate (e.g. authorization) applied before offset and maximum.
    fn locate_where(
        &self,
        query: &Query,
        keep: &dyn Fn(&Record) -> bool,
    ) -> Result<Located, StoreError>;
    /// Verified records by owner, type and state (destroyed ones included), newest first.
    fn list(&self, filter: &ListFilter) -> Result<Vec<Record>, StoreError>;
}
