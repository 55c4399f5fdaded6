//! The bounded cache of unwrapped, non-extractable session copies of managed keys, keyed by
//! unique identifier and the pool session that holds the copy (a session object dies with its
//! session). Bounded in count and age; entries are invalidated by identifier (ReKey, Revoke,
//! Destroy) and all at once when sessions are lost.
//!
//! An evicted or invalidated copy must be destroyed in the HSM, but its session may be leased
//! by another thread (sessions are not `Sync`): such handles wait in a per-session graveyard
//! that the next holder of that session empties.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;

use super::session::lock_plain as lock;

/// Limits of the handle cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    /// Most cached copies over all sessions (bounds the HSM's session-object memory).
    pub max_entries: usize,
    /// Oldest a copy may be before it is unwrapped again (bounds how long a copy outlives a
    /// state change that was not signalled through `invalidate`).
    pub max_age: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            max_entries: 1024,
            max_age: Duration::from_secs(300),
        }
    }
}

/// Unique identifier, pool generation, session handle: a session handle number may be reused
/// by a later generation, so the generation is part of the key.
type Key = (String, u64, u64);

struct Entry {
    handle: ObjectHandle,
    created: Instant,
}

#[derive(Default)]
struct State {
    map: HashMap<Key, Entry>,
    /// Copies to destroy, by pool generation and session handle.
    graveyard: Vec<(u64, u64, ObjectHandle)>,
}

pub(crate) struct HandleCache {
    limits: CacheLimits,
    state: Mutex<State>,
}

impl HandleCache {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    /// The cached copy of `unique_id` in `session`, if fresh.
    pub(crate) fn get(&self, id: (&str, u64), session: &Session) -> Option<ObjectHandle> {
        if self.limits.max_entries == 0 {
            return None;
        }
        let mut st = lock(&self.state);
        let key = (id.0.to_owned(), id.1, session.handle());
        let fresh = match st.map.get(&key) {
            Some(e) if e.created.elapsed() <= self.limits.max_age => return Some(e.handle),
            Some(_) => false,
            None => return None,
        };
        if !fresh {
            if let Some(e) = st.map.remove(&key) {
                st.graveyard.push((key.1, key.2, e.handle));
            }
        }
        None
    }

    /// Records a new copy; evicts the oldest entries beyond the bound. Returns false when the
    /// cache is disabled (the caller then destroys the copy after use).
    pub(crate) fn insert(&self, id: (&str, u64), session: &Session, handle: ObjectHandle) -> bool {
        if self.limits.max_entries == 0 {
            return false;
        }
        let mut st = lock(&self.state);
        let key = (id.0.to_owned(), id.1, session.handle());
        if let Some(old) = st.map.insert(
            key,
            Entry {
                handle,
                created: Instant::now(),
            },
        ) {
            st.graveyard.push((id.1, session.handle(), old.handle));
        }
        while st.map.len() > self.limits.max_entries {
            let Some(oldest) = st
                .map
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = st.map.remove(&oldest) {
                st.graveyard.push((oldest.1, oldest.2, e.handle));
            }
        }
        true
    }

    /// Drops every copy of `unique_id` (after ReKey, Revoke, Destroy or any state change).
    pub(crate) fn invalidate(&self, unique_id: &str) {
        let mut st = lock(&self.state);
        let keys: Vec<_> = st
            .map
            .keys()
            .filter(|(u, _, _)| u == unique_id)
            .cloned()
            .collect();
        for k in keys {
            if let Some(e) = st.map.remove(&k) {
                st.graveyard.push((k.1, k.2, e.handle));
            }
        }
    }

    /// Forgets everything (sessions were lost: their objects died with them).
    pub(crate) fn clear(&self) {
        let mut st = lock(&self.state);
        st.map.clear();
        st.graveyard.clear();
    }

    /// Destroys the copies waiting for `session`.
    pub(crate) fn bury(&self, session: &Session, generation: u64) {
        let doomed: Vec<ObjectHandle> = {
            let mut st = lock(&self.state);
            if st.graveyard.is_empty() {
                return;
            }
            let h = session.handle();
            let (mine, others): (Vec<_>, Vec<_>) = st
                .graveyard
                .drain(..)
                .partition(|(g, s, _)| *g == generation && *s == h);
            // Entries of ended generations name objects that died with their sessions.
            st.graveyard = others
                .into_iter()
                .filter(|(g, _, _)| *g >= generation)
                .collect();
            mine.into_iter().map(|(_, _, o)| o).collect()
        };
        for o in doomed {
            // Already gone (e.g. destroyed by a fault) is fine.
            let _ = session.destroy_object(o);
        }
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.state).map.len()
    }
}
