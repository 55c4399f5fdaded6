//! Locate: choose the most selective index for a query, walk its candidates newest first, and
//! re-check each against its verified record.
//!
//! Plan: a name together with an owner is one lookup in the unique `names` tree. Otherwise
//! every usable index (name, attribute equality, type + state, owner, attribute range) is a
//! candidate source; each is probed by counting at most [`PROBE_LIMIT`] entries, and the
//! smallest drives the walk. Sources with several prefixes (type + several states) are merged
//! newest first; a range source (dates) is collected and sorted, so its cost is the number of
//! entries in the range. A query with no usable filter walks `idx_seq`, i.e. every object.
//!
//! Every candidate is re-read from `objects` and verified (MAC) before the whole query is
//! re-checked on it; a missing record or one whose creation sequence differs from the hint is
//! a stale entry and is skipped. A candidate that fails verification fails the Locate with
//! [`StoreError::Integrity`]: a tampered record is reported, never silently answered or hidden.

use std::collections::HashSet;

use super::auth;
use super::error::StoreError;
use super::index::{
    attr_prefix, is_indexable_value, is_indexed_attribute, is_ordered, name_prefix, owner_prefix,
    parse_tail, type_state_prefix, unique_name_key, Idx,
};
use super::query::{Condition, Query};
use super::record::{ObjectType, Record, State};
use super::sled_store::SledStore;

/// Index entries counted per candidate source when choosing the driving index.
pub const PROBE_LIMIT: usize = 256;

/// Where candidates come from.
enum Source {
    /// One `names` tree key (owner + name).
    Unique(Vec<u8>),
    /// Prefix scans of one index tree, merged newest first.
    Prefixes(Idx, Vec<Vec<u8>>),
    /// Keys from `lo` up to and including every key starting with `hi`.
    Range(Idx, Vec<u8>, Vec<u8>),
    /// Every object, newest first.
    All,
}

/// A candidate: inverted creation sequence and identifier.
type Candidate = (u64, Vec<u8>);

impl SledStore {
    fn tree(&self, i: Idx) -> Result<&sled::Tree, StoreError> {
        self.idx.get(i as usize).ok_or(StoreError::InvalidBatch {
            reason: "internal: index tree missing",
        })
    }

    /// Distinct big-endian `u32` values found right after `prefix` in `tree`, found by seeking
    /// (one lookup per distinct value, not a scan).
    fn distinct_u32(&self, tree: &sled::Tree, prefix: &[u8]) -> Result<Vec<u32>, StoreError> {
        let mut out = Vec::new();
        let mut next: u64 = 0;
        while next <= u64::from(u32::MAX) {
            let mut from = prefix.to_vec();
            from.extend_from_slice(&(next as u32).to_be_bytes());
            let Some((k, _)) = tree.range(from..).next().transpose()? else {
                break;
            };
            let Some(v) = k
                .strip_prefix(prefix)
                .and_then(|rest| rest.first_chunk::<4>())
                .map(|b| u32::from_be_bytes(*b))
            else {
                break;
            };
            out.push(v);
            next = u64::from(v) + 1;
        }
        Ok(out)
    }

    fn sources(&self, q: &Query) -> Result<Vec<Source>, StoreError> {
        let mut out = Vec::new();
        if let Some(name) = &q.name {
            if let Some(owner) = &q.owner {
                return Ok(vec![Source::Unique(unique_name_key(owner, name))]);
            }
            out.push(Source::Prefixes(Idx::Name, vec![name_prefix(name)]));
        }
        let mut ranges = Vec::new();
        for f in q
            .attributes
            .iter()
            .filter(|f| is_indexed_attribute(&f.name))
        {
            match &f.condition {
                Condition::Equals(v) if is_indexable_value(v) => {
                    out.push(Source::Prefixes(Idx::Attr, vec![attr_prefix(&f.name, v)]));
                }
                Condition::Between { min, max }
                    if is_ordered(min) && min.type_tag() == max.type_tag() =>
                {
                    ranges.push(Source::Range(
                        Idx::Attr,
                        attr_prefix(&f.name, min),
                        attr_prefix(&f.name, max),
                    ));
                }
                _ => {}
            }
        }
        let ts = self.tree(Idx::TypeState)?;
        let types: Vec<ObjectType> = match q.object_type {
            Some(t) => vec![t],
            None if !q.states.is_empty() => self
                .distinct_u32(ts, &[])?
                .into_iter()
                .map(ObjectType)
                .collect(),
            None => Vec::new(),
        };
        let mut prefixes = Vec::new();
        for t in types {
            let states: Vec<State> = if q.states.is_empty() {
                self.distinct_u32(ts, &type_state_prefix(t, None))?
                    .into_iter()
                    .map(State)
                    .collect()
            } else {
                q.states.clone()
            };
            prefixes.extend(states.into_iter().map(|s| type_state_prefix(t, Some(s))));
        }
        if q.object_type.is_some() || !q.states.is_empty() {
            out.push(Source::Prefixes(Idx::TypeState, prefixes));
        }
        if let Some(owner) = &q.owner {
            out.push(Source::Prefixes(Idx::Owner, vec![owner_prefix(owner)]));
        }
        out.extend(ranges);
        Ok(out)
    }

    /// Entries of a source, counted up to `PROBE_LIMIT`.
    fn probe(&self, s: &Source) -> Result<usize, StoreError> {
        let mut n = 0;
        match s {
            Source::Unique(_) => return Ok(1),
            Source::All => return Ok(usize::MAX),
            Source::Prefixes(i, ps) => {
                let t = self.tree(*i)?;
                for p in ps {
                    for e in t.scan_prefix(p).take(PROBE_LIMIT - n) {
                        e?;
                        n += 1;
                    }
                    if n >= PROBE_LIMIT {
                        break;
                    }
                }
            }
            Source::Range(i, lo, hi) => {
                for e in self.tree(*i)?.range(lo.as_slice()..).take(PROBE_LIMIT) {
                    let (k, _) = e?;
                    if k.as_ref() > hi.as_slice() && !k.starts_with(hi) {
                        break;
                    }
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// The candidates of a source, newest first.
    fn candidates(
        &self,
        s: Source,
    ) -> Result<Box<dyn Iterator<Item = Result<Candidate, StoreError>> + '_>, StoreError> {
        let owned = |k: &[u8]| parse_tail(k).map(|(inv, uid)| (inv, uid.to_vec()));
        Ok(match s {
            Source::Unique(key) => {
                let uid = self.names.get(key)?;
                let seq_unknown = 0;
                Box::new(uid.map(|u| Ok((seq_unknown, u.to_vec()))).into_iter())
            }
            Source::All => Box::new(self.tree(Idx::Seq)?.iter().filter_map(move |e| {
                e.map_err(StoreError::from)
                    .map(|(k, _)| owned(&k))
                    .transpose()
            })),
            Source::Prefixes(i, ps) => {
                let t = self.tree(i)?;
                let iters = ps
                    .iter()
                    .map(|p| {
                        t.scan_prefix(p).filter_map(move |e| {
                            e.map_err(StoreError::from)
                                .map(|(k, _)| owned(&k))
                                .transpose()
                        })
                    })
                    .map(|it| Box::new(it) as Box<dyn Iterator<Item = _>>)
                    .collect();
                Box::new(Merge::new(iters))
            }
            Source::Range(i, lo, hi) => {
                let mut all = Vec::new();
                for e in self.tree(i)?.range(lo.as_slice()..) {
                    let (k, _) = e?;
                    if k.as_ref() > hi.as_slice() && !k.starts_with(&hi) {
                        break;
                    }
                    all.extend(owned(&k));
                }
                all.sort();
                all.dedup();
                Box::new(all.into_iter().map(Ok))
            }
        })
    }

    /// Locate, answering verified records.
    pub(crate) fn locate_records(
        &self,
        q: &Query,
        keep: &dyn Fn(&Record) -> bool,
    ) -> Result<(Vec<Record>, Option<usize>), StoreError> {
        let mut best: Option<(usize, Source)> = None;
        let sources = self.sources(q)?;
        let single = sources.len() == 1;
        for s in sources {
            // Probing only chooses between sources: a lone source needs none.
            let n = if single { 0 } else { self.probe(&s)? };
            if best.as_ref().is_none_or(|(m, _)| n < *m) {
                best = Some((n, s));
            }
        }
        let (is_unique, source) = match best {
            Some((_, s)) => (matches!(s, Source::Unique(_)), s),
            None => (false, Source::All),
        };
        let maximum = q.maximum.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut matched = 0usize;
        let mut seen = HashSet::new();
        if maximum == 0 && !q.count_total {
            return Ok((out, None));
        }
        for c in self.candidates(source)? {
            let (inv, uid) = c?;
            if !seen.insert(uid.clone()) {
                continue;
            }
            let Some(raw) = self.objects.get(&uid)? else {
                tracing::debug!(uid = %String::from_utf8_lossy(&uid), "stale index entry skipped");
                continue;
            };
            let record = auth::open(self.auth.as_ref(), &uid, &raw)?;
            if !is_unique && u64::MAX - record.sequence != inv {
                tracing::debug!(uid = %record.unique_identifier, "index entry with a wrong sequence skipped");
                continue;
            }
            if !q.matches(&record) || !keep(&record) {
                continue;
            }
            matched += 1;
            if matched > q.offset && out.len() < maximum {
                out.push(record);
            }
            if out.len() >= maximum && !q.count_total {
                break;
            }
        }
        Ok((out, q.count_total.then_some(matched)))
    }
}

/// Merges candidate streams that are each sorted newest first into one such stream.
struct Merge<'a> {
    iters: Vec<Box<dyn Iterator<Item = Result<Candidate, StoreError>> + 'a>>,
    heads: Vec<Option<Candidate>>,
    started: bool,
}

impl<'a> Merge<'a> {
    fn new(iters: Vec<Box<dyn Iterator<Item = Result<Candidate, StoreError>> + 'a>>) -> Self {
        let heads = iters.iter().map(|_| None).collect();
        Self {
            iters,
            heads,
            started: false,
        }
    }
}

impl Iterator for Merge<'_> {
    type Item = Result<Candidate, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            for (head, it) in self.heads.iter_mut().zip(self.iters.iter_mut()) {
                match it.next() {
                    Some(Ok(c)) => *head = Some(c),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {}
                }
            }
        }
        let (at, _) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|c| (i, c)))
            .min_by(|a, b| a.1.cmp(b.1))?;
        let (head, it) = self.heads.get_mut(at).zip(self.iters.get_mut(at))?;
        let out = head.take();
        match it.next() {
            Some(Ok(c)) => *head = Some(c),
            Some(Err(e)) => return Some(Err(e)),
            None => {}
        }
        out.map(Ok)
    }
}
