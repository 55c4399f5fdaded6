//! [`SledStore::check`]: a full consistency walk (every record verified, every index entry
//! present and none stale), for `hsmkms doctor`-style tools and for the crash tests.

use super::auth;
use super::error::StoreError;
use super::index::{parse_tail, Idx, RecordKeys};
use super::record::UniqueIdentifier;
use super::sled_store::SledStore;

/// What [`SledStore::check`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Records that verified.
    pub records: u64,
    /// Records that failed verification (never used by the store).
    pub integrity_failures: Vec<UniqueIdentifier>,
    /// Index or unique-name entries a verified record should have but that are absent.
    pub missing_index_entries: u64,
    /// Index or unique-name entries that no verified record accounts for.
    pub stale_index_entries: u64,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.integrity_failures.is_empty()
            && self.missing_index_entries == 0
            && self.stale_index_entries == 0
    }
}

impl SledStore {
    /// Walks the whole store. Reads every record once and every index entry once; cost is
    /// linear in the store size.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        for e in self.objects.iter() {
            let (uid, raw) = e?;
            let record = match auth::open(self.auth.as_ref(), &uid, &raw) {
                Ok(r) => r,
                Err(StoreError::Integrity { .. }) => {
                    report
                        .integrity_failures
                        .push(UniqueIdentifier(String::from_utf8_lossy(&uid).into_owned()));
                    continue;
                }
                Err(e) => return Err(e),
            };
            report.records += 1;
            let keys = RecordKeys::of(&record);
            for (i, k) in &keys.index {
                if let Some(t) = self.idx.get(*i as usize) {
                    if !t.contains_key(k)? {
                        report.missing_index_entries += 1;
                    }
                }
            }
            for k in keys.unique_names.keys() {
                if self.names.get(k)?.as_deref() != Some(uid.as_ref()) {
                    report.missing_index_entries += 1;
                }
            }
        }
        for (i, t) in Idx::ALL.iter().zip(self.idx.iter()) {
            for e in t.iter() {
                let (k, _) = e?;
                if !self.accounts_for(*i, &k, parse_tail(&k).map(|(_, uid)| uid))? {
                    report.stale_index_entries += 1;
                }
            }
        }
        for e in self.names.iter() {
            let (k, uid) = e?;
            if !self.accounts_for_name(&k, &uid)? {
                report.stale_index_entries += 1;
            }
        }
        Ok(report)
    }

    fn verified(&self, uid: &[u8]) -> Result<Option<RecordKeys>, StoreError> {
        let Some(raw) = self.objects.get(uid)? else {
            return Ok(None);
        };
        match auth::open(self.auth.as_ref(), uid, &raw) {
            Ok(r) => Ok(Some(RecordKeys::of(&r))),
            Err(StoreError::Integrity { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn accounts_for(&self, i: Idx, key: &[u8], uid: Option<&[u8]>) -> Result<bool, StoreError> {
        let Some(uid) = uid else { return Ok(false) };
        Ok(self
            .verified(uid)?
            .is_some_and(|keys| keys.index.contains(&(i, key.to_vec()))))
    }

    fn accounts_for_name(&self, key: &[u8], uid: &[u8]) -> Result<bool, StoreError> {
        Ok(self
            .verified(uid)?
            .is_some_and(|keys| keys.unique_names.contains_key(key)))
    }
}
