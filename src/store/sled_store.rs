//! [`SledStore`]: the [`Store`] on sled 0.34 — opening and the schema check, verified reads,
//! and writes (one sled transaction across the object and index trees, then durable).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{IVec, Transactional};

use super::auth::{self, RecordAuthenticator};
use super::codec::{MAX_BYTES, MAX_DEPTH, MAX_ITEMS, MAX_TEXT_BYTES};
use super::durability::{Durability, Flusher};
use super::error::StoreError;
use super::index::{Idx, RecordKeys, META, NAMES, OBJECTS};
use super::query::{ListFilter, Located, Query};
use super::record::{
    AttrValue, Attribute, Record, State, Timestamp, UniqueIdentifier, MAX_NAME_BYTES,
    MAX_OWNER_BYTES, MAX_UNIQUE_IDENTIFIER_BYTES,
};
use super::{Expect, Store, Write};

/// Layout version of the whole store (trees, index keys). Written at creation, checked at open.
pub const SCHEMA_VERSION: u32 = 1;
const SCHEMA_KEY: &[u8] = b"schema_version";
const KEY_CHECK_KEY: &[u8] = b"record_key_check";
const KEY_CHECK_DOMAIN: &[u8] = b"hsmkms-store-key-check\0";
/// How often a closure update retries after a concurrent change (only with `Expect::State` or
/// `Expect::Any`; `Expect::Version` never retries).
const MAX_UPDATE_RETRIES: usize = 16;

/// How to open a [`SledStore`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub path: PathBuf,
    pub durability: Durability,
    /// sled page cache size in bytes.
    pub cache_capacity_bytes: u64,
}

impl StoreOptions {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            durability: Durability::default(),
            cache_capacity_bytes: 256 * 1024 * 1024,
        }
    }

    /// From the validated `[store]` configuration section.
    pub fn from_config(c: &crate::config::StoreConfig) -> Self {
        let durability = if c.group_commit {
            Durability::GroupCommit {
                window: std::time::Duration::from_micros(c.group_commit_window_us),
            }
        } else {
            Durability::EachWrite
        };
        Self {
            durability,
            cache_capacity_bytes: c.cache_mb.saturating_mul(1024 * 1024),
            ..Self::new(&c.path)
        }
    }
}

/// The sled implementation of [`Store`].
pub struct SledStore {
    pub(crate) db: sled::Db,
    path: PathBuf,
    pub(crate) objects: sled::Tree,
    pub(crate) names: sled::Tree,
    /// Index trees in [`Idx::ALL`] order.
    pub(crate) idx: Vec<sled::Tree>,
    /// `objects`, `names`, then the index trees: what every write transaction spans.
    tx_trees: Vec<sled::Tree>,
    pub(crate) auth: Arc<dyn RecordAuthenticator>,
    flusher: Flusher,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn abort<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// One write, checked and sealed outside the transaction (MAC computed once, not per retry).
struct Prepared {
    uid: UniqueIdentifier,
    /// The stored bytes the transaction must find (compare-and-set); `None`: must be absent.
    expected: Option<IVec>,
    /// The new stored bytes; `None` deletes.
    new: Option<Vec<u8>>,
    old_keys: RecordKeys,
    new_keys: RecordKeys,
    result: Option<Record>,
}

/// How long `open` waits for a file lock that the same process is releasing.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl SledStore {
    /// Opens (or creates) the store at `options.path`. A new store gets the schema version and
    /// a record-MAC key check; an existing one must have a schema version this build knows and
    /// must verify under the given authenticator.
    pub fn open(
        options: &StoreOptions,
        auth: Arc<dyn RecordAuthenticator>,
    ) -> Result<Self, StoreError> {
        let path = options.path.clone();
        remove_incomplete_snapshots(&path)?;
        let db = open_db(&path, options.cache_capacity_bytes)?;
        let objects = db.open_tree(OBJECTS)?;
        let names = db.open_tree(NAMES)?;
        let idx = Idx::ALL
            .iter()
            .map(|i| db.open_tree(i.tree_name()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx_trees = vec![objects.clone(), names.clone()];
        tx_trees.extend(idx.iter().cloned());
        let store = Self {
            db,
            path,
            objects,
            names,
            idx,
            tx_trees,
            auth,
            flusher: Flusher::new(options.durability),
        };
        store.check_schema()?;
        Ok(store)
    }

    /// Whether a store at `path` holds anything (records, indexes or the schema and key check
    /// written at creation). An absent path or an empty directory holds nothing. Opens no
    /// record, so it needs no record-MAC key: `init` asks it before creating master keys, which
    /// it does only next to a store that holds nothing.
    pub fn holds_data(path: &Path) -> Result<bool, StoreError> {
        let mut entries = match std::fs::read_dir(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            other => other.map_err(|e| StoreError::Database(e.into()))?,
        };
        if entries.next().is_none() {
            return Ok(false);
        }
        remove_incomplete_snapshots(path)?;
        let db = open_db(path, 1024 * 1024)?;
        for name in db.tree_names() {
            if !db.open_tree(name)?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        let meta = self.db.open_tree(META)?;
        let check_data = |v: u32| [KEY_CHECK_DOMAIN, &v.to_be_bytes()].concat();
        let Some(found) = meta.get(SCHEMA_KEY)? else {
            if !self.objects.is_empty() || !self.names.is_empty() || !meta.is_empty() {
                return Err(StoreError::SchemaMissing {
                    path: self.path.clone(),
                });
            }
            let tag = self.auth.sign(&check_data(SCHEMA_VERSION))?;
            let mut batch = sled::Batch::default();
            batch.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes());
            batch.insert(KEY_CHECK_KEY, encode_tag(&tag));
            meta.apply_batch(batch)?;
            self.db.flush()?;
            return Ok(());
        };
        let found = <[u8; 4]>::try_from(found.as_ref())
            .map(u32::from_be_bytes)
            .map_err(|_| StoreError::SchemaMissing {
                path: self.path.clone(),
            })?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            // Version 1 is the first; a lower value is not something we wrote.
            return Err(StoreError::SchemaMissing {
                path: self.path.clone(),
            });
        }
        let tag = meta
            .get(KEY_CHECK_KEY)?
            .and_then(|raw| decode_tag(&raw))
            .ok_or_else(|| StoreError::SchemaMissing {
                path: self.path.clone(),
            })?;
        if !self.auth.verify(&check_data(found), &tag)? {
            return Err(StoreError::WrongRecordKey {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Reads and verifies the record stored under `uid`, with its raw bytes.
    pub(crate) fn read(&self, uid: &UniqueIdentifier) -> Result<(IVec, Record), StoreError> {
        let key = auth::uid_bytes(uid);
        let raw = self
            .objects
            .get(key)?
            .ok_or_else(|| StoreError::NotFound { uid: uid.clone() })?;
        let record = auth::open(self.auth.as_ref(), key, &raw)?;
        Ok((raw, record))
    }

    fn prepare_create(&self, mut r: Record) -> Result<Prepared, StoreError> {
        validate(&r)?;
        let now = Timestamp::now();
        r.version = 1;
        r.sequence = self.db.generate_id()?.saturating_add(1);
        r.created = now;
        r.modified = now;
        let new = auth::seal(self.auth.as_ref(), &r)?;
        Ok(Prepared {
            uid: r.unique_identifier.clone(),
            expected: None,
            new: Some(new),
            old_keys: RecordKeys::none(),
            new_keys: RecordKeys::of(&r),
            result: Some(r),
        })
    }

    fn prepare_replace(
        &self,
        raw: IVec,
        current: &Record,
        mut r: Record,
    ) -> Result<Prepared, StoreError> {
        if r.unique_identifier != current.unique_identifier {
            return Err(StoreError::InvalidRecord {
                reason: "a change must not alter the unique identifier",
            });
        }
        validate(&r)?;
        r.version = current.version.saturating_add(1);
        r.sequence = current.sequence;
        r.created = current.created;
        r.modified = Timestamp::now().max(current.modified);
        let new = auth::seal(self.auth.as_ref(), &r)?;
        Ok(Prepared {
            uid: r.unique_identifier.clone(),
            expected: Some(raw),
            new: Some(new),
            old_keys: RecordKeys::of(current),
            new_keys: RecordKeys::of(&r),
            result: Some(r),
        })
    }

    fn prepare(&self, w: Write) -> Result<Prepared, StoreError> {
        match w {
            Write::Create(r) => self.prepare_create(r),
            Write::Replace {
                expected_version,
                record,
            } => {
                let (raw, current) = self.read(&record.unique_identifier)?;
                check_expect(&current, &Expect::Version(expected_version))?;
                self.prepare_replace(raw, &current, record)
            }
            Write::Delete {
                uid,
                expected_version,
            } => {
                let (raw, current) = self.read(&uid)?;
                check_expect(&current, &Expect::Version(expected_version))?;
                Ok(Prepared {
                    uid,
                    expected: Some(raw),
                    new: None,
                    old_keys: RecordKeys::of(&current),
                    new_keys: RecordKeys::none(),
                    result: None,
                })
            }
        }
    }

    /// Applies prepared writes in one transaction, then makes it durable.
    fn apply(&self, ops: Vec<Prepared>) -> Result<Vec<Record>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        if !ops.iter().all(|p| seen.insert(&p.uid)) {
            return Err(StoreError::InvalidBatch {
                reason: "a batch may write each object once",
            });
        }
        let outcome = self.tx_trees.as_slice().transaction(|view| {
            let Ok([objects, names, rest @ ..]) =
                <&[TransactionalTree; 7]>::try_from(view.as_slice())
            else {
                return abort(StoreError::InvalidBatch {
                    reason: "internal: unexpected transaction view",
                });
            };
            for p in &ops {
                self.apply_one(objects, names, rest, p)?;
            }
            Ok(())
        });
        match outcome {
            Ok(()) => {}
            Err(TransactionError::Abort(e)) => return Err(e),
            Err(TransactionError::Storage(e)) => return Err(e.into()),
        }
        self.flusher.make_durable(&self.db)?;
        Ok(ops.into_iter().filter_map(|p| p.result).collect())
    }

    fn apply_one(
        &self,
        objects: &TransactionalTree,
        names: &TransactionalTree,
        idx: &[TransactionalTree],
        p: &Prepared,
    ) -> TxResult<()> {
        let key = auth::uid_bytes(&p.uid);
        let current = objects.get(key)?;
        if current != p.expected {
            return abort(match (&p.expected, current) {
                (None, Some(_)) => StoreError::Duplicate { uid: p.uid.clone() },
                (Some(_), None) => StoreError::NotFound { uid: p.uid.clone() },
                _ => StoreError::Conflict {
                    uid: p.uid.clone(),
                    expected: "the version read".into(),
                    found: "a newer version".into(),
                },
            });
        }
        for k in p.old_keys.unique_names.keys() {
            if !p.new_keys.unique_names.contains_key(k)
                && names.get(k)?.is_some_and(|v| v.as_ref() == key)
            {
                names.remove(k.as_slice())?;
            }
        }
        for (k, name) in &p.new_keys.unique_names {
            if p.old_keys.unique_names.contains_key(k) {
                continue;
            }
            if let Some(holder) = names.get(k)? {
                if holder.as_ref() != key && self.holds_name(objects, &holder, k)? {
                    return abort(StoreError::NameTaken { name: name.clone() });
                }
            }
            names.insert(k.as_slice(), key)?;
        }
        for (i, k) in p.old_keys.index.difference(&p.new_keys.index) {
            if let Some(t) = idx.get(*i as usize) {
                t.remove(k.as_slice())?;
            }
        }
        for (i, k) in p.new_keys.index.difference(&p.old_keys.index) {
            if let Some(t) = idx.get(*i as usize) {
                t.insert(k.as_slice(), &[])?;
            }
        }
        match &p.new {
            Some(v) => objects.insert(key, v.as_slice())?,
            None => objects.remove(key)?,
        };
        Ok(())
    }

    /// Whether the object `holder` (found in the `names` tree under `name_key`) really holds
    /// that name: the unique index is re-checked too, so a stale entry never blocks a name.
    fn holds_name(
        &self,
        objects: &TransactionalTree,
        holder: &[u8],
        name_key: &[u8],
    ) -> TxResult<bool> {
        let Some(raw) = objects.get(holder)? else {
            return Ok(false);
        };
        match auth::open(self.auth.as_ref(), holder, &raw) {
            Ok(r) => Ok(RecordKeys::of(&r).unique_names.contains_key(name_key)),
            Err(e) => abort(e),
        }
    }

    /// Flushes everything written so far (for shutdown; writes are already durable).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

/// Opens the sled database at `path`. sled releases its file lock from a background thread
/// shortly after the last handle is dropped: a reopen in the same process right after a close
/// waits for it briefly; another process holding the store still gets `Locked` after the wait.
fn open_db(path: &Path, cache_capacity_bytes: u64) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new()
            .path(path)
            .cache_capacity(cache_capacity_bytes)
            .open();
        match opened {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if io.to_string().contains("could not acquire lock") => {
                if started.elapsed() >= LOCK_WAIT {
                    return Err(StoreError::Locked {
                        path: path.to_owned(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(StoreError::Database(e)),
        }
    }
}

/// Works around a sled 0.34.7 recovery bug (sled issues #1527, #1533): during recovery (at every
/// open) sled writes a snapshot to `snap.<lsn>.generating`, fsyncs it and renames it to
/// `snap.<lsn>`, but at open it reads
/// the lexicographically greatest `snap.*` file — an unfinished `.generating` one if the process
/// was killed while writing it — and then refuses to open with `Corruption`. An unfinished file
/// is never a valid snapshot (the rename marks completion, and the previous snapshot is only
/// removed after it), so it is deleted before opening; sled then recovers from the previous
/// snapshot and its log. Found by the SIGKILL crash loop.
fn remove_incomplete_snapshots(path: &Path) -> Result<(), StoreError> {
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::Database(e.into())),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::Database(e.into()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            tracing::warn!(file = %name, "removing sled snapshot left unfinished by a crash");
            std::fs::remove_file(entry.path()).map_err(|e| StoreError::Database(e.into()))?;
        }
    }
    Ok(())
}

fn encode_tag(tag: &auth::RecordTag) -> Vec<u8> {
    let mut out = tag.key_version.to_be_bytes().to_vec();
    out.extend_from_slice(&tag.tag);
    out
}

fn decode_tag(raw: &[u8]) -> Option<auth::RecordTag> {
    let (v, tag) = raw.split_first_chunk::<4>()?;
    Some(auth::RecordTag {
        key_version: u32::from_be_bytes(*v),
        tag: tag.to_vec(),
    })
}

fn check_expect(current: &Record, expect: &Expect) -> Result<(), StoreError> {
    let conflict = |expected: String, found: String| StoreError::Conflict {
        uid: current.unique_identifier.clone(),
        expected,
        found,
    };
    match expect {
        Expect::Any => Ok(()),
        Expect::Version(v) if *v == current.version => Ok(()),
        Expect::Version(v) => Err(conflict(
            format!("version {v}"),
            format!("version {}", current.version),
        )),
        Expect::State(s) if *s == current.state => Ok(()),
        Expect::State(s) => Err(conflict(
            format!("state {}", s.0),
            format!("state {}", current.state.0),
        )),
    }
}

fn check_text(s: &str, limit: usize, reason: &'static str) -> Result<(), StoreError> {
    if s.len() > limit {
        return Err(StoreError::InvalidRecord { reason });
    }
    Ok(())
}

fn validate_attributes(items: &[Attribute]) -> Result<(), StoreError> {
    if items.len() > MAX_ITEMS {
        return Err(StoreError::InvalidRecord {
            reason: "more attributes than MAX_ITEMS",
        });
    }
    for a in items {
        check_text(
            &a.name,
            MAX_TEXT_BYTES,
            "attribute name longer than MAX_TEXT_BYTES",
        )?;
        match &a.value {
            AttrValue::Text(s) => check_text(
                s,
                MAX_TEXT_BYTES,
                "attribute text longer than MAX_TEXT_BYTES",
            )?,
            AttrValue::ByteString(b) if b.len() > MAX_BYTES => {
                return Err(StoreError::InvalidRecord {
                    reason: "attribute byte string longer than MAX_BYTES",
                })
            }
            AttrValue::Structure(inner) => validate_attributes(inner)?,
            _ => {}
        }
    }
    Ok(())
}

/// What the encoding can represent and decode again; checked before anything is written.
fn validate(r: &Record) -> Result<(), StoreError> {
    let uid = r.unique_identifier.as_str();
    if uid.is_empty() || uid.len() > MAX_UNIQUE_IDENTIFIER_BYTES {
        return Err(StoreError::InvalidRecord {
            reason: "the unique identifier must be 1 to MAX_UNIQUE_IDENTIFIER_BYTES bytes",
        });
    }
    check_text(
        &r.owner.0,
        MAX_OWNER_BYTES,
        "owner longer than MAX_OWNER_BYTES",
    )?;
    if r.names.len() > MAX_ITEMS {
        return Err(StoreError::InvalidRecord {
            reason: "more names than MAX_ITEMS",
        });
    }
    for (i, n) in r.names.iter().enumerate() {
        if n.value.is_empty() || n.value.len() > MAX_NAME_BYTES {
            return Err(StoreError::InvalidRecord {
                reason: "a name must be 1 to MAX_NAME_BYTES bytes",
            });
        }
        if r.names.iter().take(i).any(|m| m.value == n.value) {
            return Err(StoreError::InvalidRecord {
                reason: "the same name twice on one object",
            });
        }
    }
    if r.attributes.iter().any(|a| a.value.depth() > MAX_DEPTH) {
        return Err(StoreError::InvalidRecord {
            reason: "attribute structures nested deeper than MAX_DEPTH",
        });
    }
    validate_attributes(&r.attributes)?;
    if r.key.wrapped().is_some_and(|k| k.blob().len() > MAX_BYTES) {
        return Err(StoreError::InvalidRecord {
            reason: "wrapped blob longer than MAX_BYTES",
        });
    }
    Ok(())
}

impl Store for SledStore {
    fn create(&self, record: Record) -> Result<Record, StoreError> {
        let p = self.prepare_create(record)?;
        self.apply(vec![p])?.pop().ok_or(StoreError::InvalidBatch {
            reason: "internal: create returned no record",
        })
    }

    fn get(&self, uid: &UniqueIdentifier) -> Result<Record, StoreError> {
        Ok(self.read(uid)?.1)
    }

    fn update(
        &self,
        uid: &UniqueIdentifier,
        expect: Expect,
        change: &mut dyn FnMut(&mut Record) -> Result<(), StoreError>,
    ) -> Result<Record, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (raw, current) = self.read(uid)?;
            check_expect(&current, &expect)?;
            let mut next = current.clone();
            change(&mut next)?;
            let p = self.prepare_replace(raw, &current, next)?;
            match self.apply(vec![p]) {
                Err(StoreError::Conflict { .. })
                    if !matches!(expect, Expect::Version(_)) && attempt < MAX_UPDATE_RETRIES => {}
                Err(e) => return Err(e),
                Ok(mut v) => {
                    return v.pop().ok_or(StoreError::InvalidBatch {
                        reason: "internal: update returned no record",
                    })
                }
            }
        }
    }

    fn destroy(
        &self,
        uid: &UniqueIdentifier,
        expect: Expect,
        state: State,
    ) -> Result<Record, StoreError> {
        self.update(uid, expect, &mut |r| {
            r.destroy_key();
            r.state = state;
            Ok(())
        })
    }

    fn delete(&self, uid: &UniqueIdentifier, expect: Expect) -> Result<(), StoreError> {
        let (raw, current) = self.read(uid)?;
        check_expect(&current, &expect)?;
        self.apply(vec![Prepared {
            uid: uid.clone(),
            expected: Some(raw),
            new: None,
            old_keys: RecordKeys::of(&current),
            new_keys: RecordKeys::none(),
            result: None,
        }])?;
        Ok(())
    }

    fn commit(&self, writes: Vec<Write>) -> Result<Vec<Record>, StoreError> {
        let ops = writes
            .into_iter()
            .map(|w| self.prepare(w))
            .collect::<Result<Vec<_>, _>>()?;
        self.apply(ops)
    }

    fn locate(&self, query: &Query) -> Result<Located, StoreError> {
        self.locate_where(query, &|_| true)
    }

    fn locate_where(
        &self,
        query: &Query,
        keep: &dyn Fn(&Record) -> bool,
    ) -> Result<Located, StoreError> {
        let (records, total) = self.locate_records(query, keep)?;
        Ok(Located {
            unique_identifiers: records.into_iter().map(|r| r.unique_identifier).collect(),
            total,
        })
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<Record>, StoreError> {
        Ok(self.locate_records(&Query::from(filter), &|_| true)?.0)
    }
}
