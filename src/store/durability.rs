//! Making committed transactions durable before success is reported: one flush per write, or a
//! group commit in which concurrent writers share one flush.
//!
//! Group commit: after its transaction commits, a writer takes a ticket (a counter incremented
//! *after* the commit). If a flush that started after its ticket was taken has completed, it is
//! done. Otherwise, if no flush is running, it becomes the leader: it reads the counter (every
//! ticket up to it belongs to a committed transaction), flushes, and publishes that counter as
//! durable; writers that arrived meanwhile wait for the next flush, which the first of them
//! leads. Each caller thus waits for a flush that covers its own write, never less.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::error::StoreError;

/// How writes are made durable before a write call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every write flushes (fsync) on its own.
    EachWrite,
    /// Concurrent writers share flushes; the leader first waits `window` (may be zero) to let
    /// more writers join.
    GroupCommit { window: Duration },
    /// **No flush at all**: a crash loses recent acknowledged writes. For bulk loading in
    /// benchmarks and tests only; never in a server.
    DangerNoFlush,
}

impl Default for Durability {
    fn default() -> Self {
        Self::GroupCommit {
            window: Duration::ZERO,
        }
    }
}

#[derive(Default)]
struct State {
    durable: u64,
    flushing: bool,
}

pub(crate) struct Flusher {
    mode: Durability,
    committed: AtomicU64,
    state: Mutex<State>,
    done: Condvar,
}

impl Flusher {
    pub(crate) fn new(mode: Durability) -> Self {
        Self {
            mode,
            committed: AtomicU64::new(0),
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves State consistent (two plain fields).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called after a transaction committed; returns once it is durable.
    pub(crate) fn make_durable(&self, db: &sled::Db) -> Result<(), StoreError> {
        match self.mode {
            Durability::DangerNoFlush => Ok(()),
            Durability::EachWrite => {
                db.flush()?;
                Ok(())
            }
            Durability::GroupCommit { window } => {
                let ticket = self.committed.fetch_add(1, Ordering::SeqCst) + 1;
                self.group_flush(db, ticket, window)
            }
        }
    }

    fn group_flush(&self, db: &sled::Db, ticket: u64, window: Duration) -> Result<(), StoreError> {
        let mut st = self.lock();
        loop {
            if st.durable >= ticket {
                return Ok(());
            }
            if !st.flushing {
                break;
            }
            st = self.done.wait(st).unwrap_or_else(|p| p.into_inner());
        }
        st.flushing = true;
        drop(st);
        if !window.is_zero() {
            std::thread::sleep(window);
        }
        let target = self.committed.load(Ordering::SeqCst);
        let result = db.flush();
        let mut st = self.lock();
        st.flushing = false;
        if result.is_ok() {
            st.durable = st.durable.max(target);
        }
        drop(st);
        // On failure the waiters wake, find their ticket not durable, and one of them retries.
        self.done.notify_all();
        result.map(|_| ()).map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn every_concurrent_writer_returns_after_a_covering_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let f = Arc::new(Flusher::new(Durability::default()));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let (db, f) = (db.clone(), f.clone());
                std::thread::spawn(move || {
                    for j in 0..20 {
                        db.insert(format!("{i}-{j}"), b"v").unwrap();
                        f.make_durable(&db).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let st = f.lock();
        assert_eq!(st.durable, 160);
        assert!(!st.flushing);
    }
}
