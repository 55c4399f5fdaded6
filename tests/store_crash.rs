//! Crash loop: a child process writes records and prints each acknowledged write; the parent
//! kills it with SIGKILL at a random moment (sometimes during open and recovery), reopens the
//! store, and checks that every acknowledged write is present, MAC-valid and at least at the
//! acknowledged version, and that records and indexes are consistent.
//!
//! The child is this same test binary re-executed on `crash_loop` itself with
//! `HSMKMS_CRASH_CHILD_DIR` set (no ignored test: nothing shows as skipped). Cycles: `HSMKMS_CRASH_CYCLES` (default 50; 1,000 for the long
//! local run). The real-HSM version swaps the software MAC for the HSM adapter and also unwraps
//! every acknowledged key.

mod common;

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::soft_store::{aes_key, db_path, try_open};
use hsmkms::store::{Durability, Expect, SledStore, State, Store, StoreOptions, UniqueIdentifier};

const CHILD_DIR_ENV: &str = "HSMKMS_CRASH_CHILD_DIR";
const CHILD_CYCLE_ENV: &str = "HSMKMS_CRASH_CHILD_CYCLE";
const CYCLES_ENV: &str = "HSMKMS_CRASH_CYCLES";
const WRITERS: usize = 4;

fn open(dir: &std::path::Path) -> SledStore {
    let mut o = StoreOptions::new(db_path(dir));
    o.durability = Durability::default();
    o.cache_capacity_bytes = 64 << 20;
    try_open(o).unwrap_or_else(|e| panic!("reopening {}: {e}", dir.display()))
}
/// A child stops by itself after this many writes per writer (bounds a run if a kill is late).
const MAX_WRITES_PER_WRITER: usize = 5_000;

/// Tiny xorshift PRNG: the test needs varied timings, not quality randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The child: writers create keys (half named), acknowledge each, then activate some with a
/// compare-and-set and acknowledge that too. Lines: `ACK <uid> <version>`.
fn crash_child(dir: String) {
    let cycle = std::env::var(CHILD_CYCLE_ENV).unwrap_or_default();
    let store = Arc::new(open(std::path::Path::new(&dir)));
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let ack = |out: &std::sync::Mutex<std::io::Stdout>, uid: &str, v: u64| {
        let mut o = out.lock().unwrap();
        writeln!(o, "ACK {uid} {v}").unwrap();
        o.flush().unwrap();
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, out, cycle) = (store.clone(), out.clone(), cycle.clone());
            std::thread::spawn(move || {
                for i in 0..MAX_WRITES_PER_WRITER {
                    let uid = format!("c{cycle}-w{w}-{i}");
                    let name = (i % 2 == 0).then(|| format!("name-{uid}"));
                    let r = store
                        .create(aes_key(&uid, "crash", name.as_deref()))
                        .unwrap();
                    ack(&out, &uid, r.version());
                    if i % 3 == 0 {
                        let r = store
                            .update(&UniqueIdentifier::new(&uid), Expect::Version(1), &mut |r| {
                                r.state = State::ACTIVE;
                                Ok(())
                            })
                            .unwrap();
                        ack(&out, &uid, r.version());
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
}

/// Runs one child, kills it after `delay`, returns the acknowledged `(uid, version)` lines.
fn run_child(dir: &std::path::Path, cycle: usize, delay: Duration) -> Vec<(String, u64)> {
    let cycle = cycle.to_string();
    let envs = [
        (CHILD_DIR_ENV, dir.as_os_str()),
        (CHILD_CYCLE_ENV, std::ffi::OsStr::new(&cycle)),
    ];
    common::crash::run_and_kill("crash_loop", &envs, delay)
        .into_iter()
        .filter_map(|l| {
            let (uid, v) = l.split_once(' ')?;
            Some((uid.to_owned(), v.parse().ok()?))
        })
        .collect()
}

#[test]
fn crash_loop() {
    if let Ok(dir) = std::env::var(CHILD_DIR_ENV) {
        return crash_child(dir);
    }
    let cycles: usize = std::env::var(CYCLES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    // Kept on failure for inspection; removed at the end of a passing run.
    let dir = tempfile::tempdir().unwrap().keep();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!(
        "crash loop: {cycles} cycles, seed {seed}, store {}",
        dir.display()
    );
    let mut rng = Rng(seed);
    let mut acked: HashMap<String, u64> = HashMap::new();
    let started = Instant::now();
    let mut total_acks = 0usize;
    // A full consistency walk every tenth of the run (it is linear in the store size).
    let check_every = (cycles / 10).max(10);
    for cycle in 0..cycles {
        // 0–400 ms, a quarter of them under 40 ms: early kills land during open, i.e. during
        // sled's recovery of the previous crash, which writes a snapshot (sled 0.34.7 did not
        // survive a kill there on its own: see `remove_incomplete_snapshots` in the store).
        let delay = match rng.next() % 4 {
            0 => Duration::from_millis(rng.next() % 40),
            _ => Duration::from_millis(rng.next() % 400),
        };
        let this_cycle = run_child(&dir, cycle, delay);
        total_acks += this_cycle.len();
        for (uid, v) in &this_cycle {
            let e = acked.entry(uid.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
        let store = open(&dir);
        // Every write acknowledged in this cycle, and a sample of earlier ones.
        let sample = acked
            .iter()
            .filter(|(u, _)| u.starts_with(&format!("c{cycle}-")) || rng.next() % 64 == 0);
        for (uid, version) in sample {
            let r = store
                .get(&UniqueIdentifier::new(uid))
                .unwrap_or_else(|e| panic!("cycle {cycle} (seed {seed}): acknowledged {uid}: {e}"));
            assert!(r.version() >= *version, "cycle {cycle}: {uid} rolled back");
        }
        if cycle % check_every == check_every - 1 || cycle + 1 == cycles {
            let report = store.check().unwrap();
            assert!(report.is_clean(), "cycle {cycle} (seed {seed}): {report:?}");
            assert!(report.records as usize >= acked.len());
        }
    }
    println!(
        "crash loop: {cycles} cycles, {total_acks} acknowledged writes, {} objects, {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(total_acks > 0, "no child ever acknowledged a write");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reopens_after_a_kill_during_a_sled_snapshot() {
    // What a kill while sled writes a snapshot leaves: a truncated `snap.<lsn>.generating`
    // sorting after the last good snapshot. sled 0.34.7 alone refuses to open with Corruption.
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(dir.path());
        s.create(aes_key("a", "o", Some("n"))).unwrap();
    }
    let path = db_path(dir.path());
    std::fs::write(path.join("snap.FFFFFFFFFFFFFFFF.generating"), b"trunc").unwrap();
    // Wait until the closed store's lock is released, so the error below is sled's own.
    let started = Instant::now();
    let err = loop {
        match sled::open(&path) {
            Ok(_) => panic!("sled itself no longer trips on this: drop the workaround?"),
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && started.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(err, sled::Error::Corruption { .. }), "{err:?}");
    std::fs::write(path.join("snap.FFFFFFFFFFFFFFFF.generating"), b"trunc").unwrap();
    let s = open(dir.path());
    s.get(&UniqueIdentifier::new("a")).unwrap();
    assert!(s.check().unwrap().is_clean());
}
