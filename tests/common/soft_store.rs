//! Shared helpers for the store's integration tests and benchmark: software stand-ins for the
//! HSM. **Production always authenticates records with the HSM's record-MAC key**; this HMAC
//! proves the store logic only. The real-HSM versions of these tests reuse the same harness with
//! the HSM adapter in place of [`SoftHmac`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use hsmkms::store::{
    AttrValue, AuthError, Durability, HsmWrapped, KekId, Name, ObjectType, Owner, Record,
    RecordAuthenticator, RecordTag, SledStore, State, StoreOptions, UniqueIdentifier, WrappedKey,
};
use sha2::Sha256;

/// HMAC-SHA256 in software, key version 1.
pub struct SoftHmac(pub Vec<u8>);

impl SoftHmac {
    fn mac(&self) -> Result<Hmac<Sha256>, AuthError> {
        Hmac::<Sha256>::new_from_slice(&self.0).map_err(|e| AuthError::Hsm(Box::new(e)))
    }
}

impl RecordAuthenticator for SoftHmac {
    fn sign(&self, data: &[u8]) -> Result<RecordTag, AuthError> {
        let mut m = self.mac()?;
        m.update(data);
        Ok(RecordTag {
            key_version: 1,
            tag: m.finalize().into_bytes().to_vec(),
        })
    }

    fn verify(&self, data: &[u8], tag: &RecordTag) -> Result<bool, AuthError> {
        if tag.key_version != 1 {
            return Err(AuthError::UnknownKeyVersion(tag.key_version));
        }
        let mut m = self.mac()?;
        m.update(data);
        Ok(m.verify_slice(&tag.tag).is_ok())
    }
}

/// Stands in for the HSM layer's `C_WrapKey` output.
pub struct FakeWrap(pub Vec<u8>);

impl HsmWrapped for FakeWrap {
    fn kek(&self) -> KekId {
        KekId {
            label: "hsmkms-kek-v1".into(),
            version: 1,
        }
    }
    fn mechanism(&self) -> u64 {
        0x210A
    }
    fn key_type(&self) -> u64 {
        0x1F
    }
    fn length_bits(&self) -> u32 {
        256
    }
    fn into_blob(self) -> Vec<u8> {
        self.0
    }
}

/// A raw sled handle on a closed store, as an attacker's tool would open it. sled releases
/// its file lock from a background thread shortly after a close: wait for it.
pub fn raw_sled(path: &Path) -> sled::Db {
    let started = std::time::Instant::now();
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => panic!("opening {} raw: {e}", path.display()),
        }
    }
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("store")
}

pub fn open_with(dir: &Path, durability: Durability) -> SledStore {
    let mut o = StoreOptions::new(db_path(dir));
    o.durability = durability;
    o.cache_capacity_bytes = 64 << 20;
    try_open(o).unwrap()
}

pub fn try_open(options: StoreOptions) -> Result<SledStore, hsmkms::store::StoreError> {
    SledStore::open(
        &options,
        Arc::new(SoftHmac(b"test record-MAC key".to_vec())),
    )
}

pub fn open(dir: &Path) -> SledStore {
    open_with(dir, Durability::default())
}

/// An AES-256 key record with a 40-byte fake wrapped blob derived from `uid`.
pub fn aes_key(uid: &str, owner: &str, name: Option<&str>) -> Record {
    let blob: Vec<u8> = uid.bytes().cycle().take(40).collect();
    let r = Record::new(
        UniqueIdentifier::new(uid),
        Owner::new(owner),
        ObjectType::SYMMETRIC_KEY,
        State::PRE_ACTIVE,
    )
    .with_key(WrappedKey::from_hsm(FakeWrap(blob)))
    .with_attribute("Cryptographic Algorithm", AttrValue::Enumeration(3))
    .with_attribute("Cryptographic Length", AttrValue::Integer(256))
    .with_attribute("Cryptographic Usage Mask", AttrValue::Integer(12));
    match name {
        Some(n) => r.with_name(Name::text(n)),
        None => r,
    }
}

/// Files under `dir` whose bytes contain `needle`: for canary scans (no key material in the
/// store files). Reads every file whole; the stores scanned in tests are small.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                out.push(p);
            }
        }
    }
    out
}
