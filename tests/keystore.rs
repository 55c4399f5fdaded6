//! The HSM and the store together, as the server will use them: keys generated (or imported)
//! and wrapped in the HSM, records authenticated by the HSM's record-MAC key.
//!
//! - no plaintext key byte ever reaches the sled files (canary scan);
//! - a SIGKILL crash loop: every acknowledged key is present, MAC-valid and unwraps in the HSM;
//! - tampering with the files (state bytes, swapped blobs, a redirected name entry) is caught.
//!
//! Runs against SoftHSM, or Kryoptic with `HSMKMS_TEST_PKCS11=kryoptic` (see tests/common).

mod common;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::soft_store::files_containing;
use common::TestToken;
use hsmkms::config::Config;
use hsmkms::hsm::{Hsm, KeyKind, KeyUsage};
use hsmkms::keystore::{to_hsm, HsmRecordMac};
use hsmkms::store::{
    danger_decode_unverified, danger_encode_with_tag, IntegrityReason, Name, ObjectType, Owner,
    Query, Record, SledStore, State, Store, StoreError, StoreOptions, UniqueIdentifier, WrappedKey,
};

fn open_store(path: &Path, hsm: Arc<Hsm>) -> SledStore {
    let mut o = StoreOptions::new(path);
    o.cache_capacity_bytes = 32 << 20;
    SledStore::open(&o, Arc::new(HsmRecordMac::new(hsm)))
        .unwrap_or_else(|e| panic!("opening store {}: {e}", path.display()))
}

fn record(uid: &str, owner: &str, name: Option<&str>, wrapped: hsmkms::hsm::WrappedKey) -> Record {
    let r = Record::new(
        UniqueIdentifier::new(uid),
        Owner::new(owner),
        ObjectType::SYMMETRIC_KEY,
        State::PRE_ACTIVE,
    )
    .with_key(WrappedKey::from_hsm(wrapped));
    match name {
        Some(n) => r.with_name(Name::text(n)),
        None => r,
    }
}

/// The clear value of a stored key, read back through an extractable unwrap in the HSM.
fn material(hsm: &Hsm, r: &Record) -> Vec<u8> {
    let stored = r.key.wrapped().expect("record holds a wrapped key");
    let w = to_hsm(stored, KeyUsage::all()).unwrap();
    hsm.export_secret(&w).unwrap().expose().to_vec()
}

#[test]
fn no_plaintext_key_byte_reaches_the_store_files() {
    let (token, hsm) = TestToken::initialised();
    let hsm = Arc::new(hsm);
    let path = token.dir.path().join("store");
    let store = open_store(&path, hsm.clone());
    let canary: &[u8; 32] = b"CANARY-KEY-5c2e91d7a04f!#hsmkms+";
    let imported = hsm
        .import_secret(KeyKind::Aes, canary, KeyUsage::all())
        .unwrap();
    store
        .create(record("canary", "alice", Some("canary"), imported))
        .unwrap();
    let mut uids = vec!["canary".to_string()];
    for i in 0..20 {
        let w = hsm
            .generate_secret(KeyKind::Aes, 32, KeyUsage::all())
            .unwrap();
        let uid = format!("key-{i}");
        store.create(record(&uid, "alice", None, w)).unwrap();
        uids.push(uid);
    }
    let records: Vec<Record> = uids
        .iter()
        .map(|u| store.get(&UniqueIdentifier::new(u)).unwrap())
        .collect();
    let materials: Vec<Vec<u8>> = records.iter().map(|r| material(&hsm, r)).collect();
    assert_eq!(materials[0], canary, "the canary unwraps to itself");
    let first_blob = records[1].key.wrapped().unwrap().blob().to_vec();
    drop(store);
    for (uid, m) in uids.iter().zip(&materials) {
        assert_eq!(m.len(), 32);
        let found = files_containing(&path, m);
        assert!(found.is_empty(), "key material of {uid} found in {found:?}");
        // half of the key, too: no partial copy either
        let found = files_containing(&path, &m[..16]);
        assert!(found.is_empty(), "half of {uid}'s key found in {found:?}");
    }
    // Positive control: the scan does find what is stored (the wrapped blob).
    assert!(!files_containing(&path, &first_blob).is_empty());
}

const CHILD_CONFIG_ENV: &str = "HSMKMS_KEYSTORE_CHILD_CONFIG";
const CHILD_CYCLE_ENV: &str = "HSMKMS_KEYSTORE_CHILD_CYCLE";
const CYCLES_ENV: &str = "HSMKMS_CRASH_CYCLES";
const WRITERS: usize = 2;
const MAX_KEYS_PER_WRITER: usize = 2_000;

/// The crash loop's child: opens the HSM and the store from the configuration, then writers
/// generate, wrap and store keys, printing `ACK <uid>` after each durable create.
fn crash_child(config: &Path, cycle: &str) {
    let cfg = Config::load(config).unwrap();
    let hsm = Arc::new(Hsm::open(&cfg.hsm).unwrap());
    let store = Arc::new(open_store(&cfg.store.path, hsm.clone()));
    let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (hsm, store, out, cycle) =
                (hsm.clone(), store.clone(), out.clone(), cycle.to_owned());
            std::thread::spawn(move || {
                for i in 0..MAX_KEYS_PER_WRITER {
                    let uid = format!("c{cycle}-w{w}-{i}");
                    let wk = hsm
                        .generate_secret(KeyKind::Aes, 32, KeyUsage::all())
                        .unwrap();
                    let name = format!("n-{uid}");
                    store
                        .create(record(&uid, "crash", Some(&name), wk))
                        .unwrap();
                    let mut o = out.lock().unwrap();
                    writeln!(o, "ACK {uid}").unwrap();
                    o.flush().unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
}

fn run_child(token: &TestToken, config: &Path, cycle: usize, delay: Duration) -> Vec<String> {
    let cycle = cycle.to_string();
    let token_env = token.env();
    let mut envs = vec![
        (CHILD_CONFIG_ENV, config.as_os_str()),
        (CHILD_CYCLE_ENV, std::ffi::OsStr::new(&cycle)),
    ];
    envs.extend(token_env.iter().map(|(k, v)| (*k, v.as_os_str())));
    common::crash::run_and_kill("crash_loop_with_the_hsm", &envs, delay)
}

/// The parent re-executes this same test as the child (`HSMKMS_KEYSTORE_CHILD_CONFIG` set),
/// kills it with SIGKILL at a random moment, reopens, and checks every acknowledged key.
/// Cycles: `HSMKMS_CRASH_CYCLES` (default 50; 1,000 for the long local run).
#[test]
fn crash_loop_with_the_hsm() {
    if let Some(config) = std::env::var_os(CHILD_CONFIG_ENV) {
        let cycle = std::env::var(CHILD_CYCLE_ENV).unwrap_or_default();
        return crash_child(Path::new(&config), &cycle);
    }
    let cycles: usize = std::env::var(CYCLES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let (token, hsm) = TestToken::initialised();
    let hsm = Arc::new(hsm);
    let config: PathBuf = token.config_file();
    let store_path = Config::load(&config).unwrap().store.path;
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("crash loop with the HSM: {cycles} cycles, seed {seed}");
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut acked: HashMap<String, usize> = HashMap::new();
    let started = Instant::now();
    for cycle in 0..cycles {
        let delay = Duration::from_millis(if next() % 4 == 0 {
            next() % 60
        } else {
            60 + next() % 400
        });
        for uid in run_child(&token, &config, cycle, delay) {
            acked.insert(uid, cycle);
        }
        let store = open_store(&store_path, hsm.clone());
        for (uid, _) in acked
            .iter()
            .filter(|(_, c)| **c == cycle || next() % 32 == 0)
        {
            let r = store
                .get(&UniqueIdentifier::new(uid))
                .unwrap_or_else(|e| panic!("cycle {cycle}: acknowledged {uid}: {e}"));
            assert_eq!(material(&hsm, &r).len(), 32, "{uid} unwraps in the HSM");
        }
    }
    let store = open_store(&store_path, hsm.clone());
    let report = store.check().unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(report.records as usize >= acked.len());
    println!(
        "crash loop with the HSM: {cycles} cycles, {} acknowledged keys, {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(!acked.is_empty(), "no child ever acknowledged a key");
}

fn integrity_reason(e: StoreError) -> IntegrityReason {
    match e {
        StoreError::Integrity { reason, .. } => reason,
        e => panic!("expected an integrity error, got {e}"),
    }
}

#[test]
fn tampering_is_caught_by_the_hsm_record_mac() {
    let (token, hsm) = TestToken::initialised();
    let hsm = Arc::new(hsm);
    let path = token.dir.path().join("store");
    let store = open_store(&path, hsm.clone());
    for (uid, name) in [("a", "payroll"), ("b", "other"), ("c", "third")] {
        let w = hsm
            .generate_secret(KeyKind::Aes, 32, KeyUsage::all())
            .unwrap();
        store.create(record(uid, "alice", Some(name), w)).unwrap();
    }
    drop(store);
    {
        let db = common::soft_store::raw_sled(&path);
        let objects = db.open_tree("objects").unwrap();
        // swap the blobs of a and b, keeping each record's own tag
        let (mut ra, ta) = danger_decode_unverified(&objects.get("a").unwrap().unwrap()).unwrap();
        let (mut rb, tb) = danger_decode_unverified(&objects.get("b").unwrap().unwrap()).unwrap();
        std::mem::swap(&mut ra.key, &mut rb.key);
        objects
            .insert("a", danger_encode_with_tag(&ra, &ta))
            .unwrap();
        objects
            .insert("b", danger_encode_with_tag(&rb, &tb))
            .unwrap();
        // edit c's state, keeping its tag
        let (mut rc, tc) = danger_decode_unverified(&objects.get("c").unwrap().unwrap()).unwrap();
        rc.state = State::ACTIVE;
        objects
            .insert("c", danger_encode_with_tag(&rc, &tc))
            .unwrap();
        db.flush().unwrap();
    }
    let store = open_store(&path, hsm.clone());
    for u in ["a", "b", "c"] {
        let e = store.get(&UniqueIdentifier::new(u)).unwrap_err();
        assert!(e.to_string().contains("integrity"), "{e}");
        assert_eq!(integrity_reason(e), IntegrityReason::BadTag, "{u}");
    }
    // A Locate by name never returns a record that fails verification.
    let found = store.locate(&Query {
        name: Some("payroll".into()),
        ..Query::default()
    });
    assert!(
        found
            .as_ref()
            .map_or(true, |l| l.unique_identifiers.is_empty()),
        "{found:?}"
    );
}
