//! Durable storage of an aggregator (redb): verified samples, each terminal's last accepted
//! sequence number, verified evidence, and which (terminal, window) the chain has proven.
//!
//! Tables:
//! * `samples`: (terminal, seq) → [`SignedSample::encode`];
//! * `by_window`: (window_start, terminal) → () for every window a terminal has samples in;
//! * `last_seq`: terminal → last accepted seq;
//! * `attested`: (terminal, attestor key, measurement) → [`EvidenceRecord`] (when the evidence
//!   was verified, the terminal configuration it attests), so evidence counts only for the
//!   registration it was verified against;
//! * `proven`: (terminal, window_start) → height it was proven at;
//! * `sample_index`: (window_start, terminal, seq) → (), so old samples are pruned without
//!   reading them.
//!
//! An ingest request's accepted samples are written in one transaction.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use usage_attestor::sample::Sample;
use usage_attestor::tee::SignedSample;
use usage_common::codec::{Decoder, Encoder};
use usage_common::record::MAX_TENANT_LEN;

const SAMPLES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("samples");
const BY_WINDOW: TableDefinition<(u64, &str), ()> = TableDefinition::new("by_window");
const LAST_SEQ: TableDefinition<&str, u64> = TableDefinition::new("last_seq");
/// (terminal, attestor key, measurement): the registration evidence is held for.
type Registration<'a> = (&'a str, &'a [u8], &'a [u8]);
const EVIDENCE: TableDefinition<Registration, &[u8]> = TableDefinition::new("attested");
/// Evidence of the first layout (terminal → measurement), bound to nothing else: dropped on open.
const UNBOUND_EVIDENCE: TableDefinition<&str, &[u8]> = TableDefinition::new("evidence");
const PROVEN: TableDefinition<(&str, u64), u64> = TableDefinition::new("proven");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const SAMPLE_INDEX: TableDefinition<(u64, &str, u64), ()> = TableDefinition::new("sample_index");
const FOLLOWED: &str = "followed_height";

/// A storage failure.
#[derive(thiserror::Error, Debug)]
#[error("aggregator store: {0}")]
pub struct StoreError(String);

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError(e.to_string())
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

/// One sample to store, already verified.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The signed form, stored as received.
    pub signed: SignedSample,
    /// The decoded sample.
    pub sample: Sample,
    /// Its window start (seconds).
    pub window_start: u64,
}

/// What an aggregator keeps of a terminal's verified evidence, per (terminal, attestor key,
/// measurement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    /// When the evidence was verified, Unix milliseconds (aggregator clock).
    pub verified_at_ms: u64,
    /// The terminal configuration hash its report data binds.
    pub config_hash: [u8; 32],
    /// The tenant of that configuration.
    pub tenant: String,
}

impl EvidenceRecord {
    fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(48 + self.tenant.len());
        e.u64(self.verified_at_ms)
            .fixed(&self.config_hash)
            .str(&self.tenant);
        e.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let mut d = Decoder::new(bytes);
        let record = (|| {
            let r = EvidenceRecord {
                verified_at_ms: d.u64()?,
                config_hash: d.hash()?,
                tenant: d.str("tenant", MAX_TENANT_LEN)?.to_string(),
            };
            d.finish()?;
            Ok::<_, usage_common::codec::DecodeError>(r)
        })();
        record.map_err(|e| StoreError(format!("stored evidence: {e}")))
    }
}

/// The aggregator's database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        txn.open_table(SAMPLES)?;
        txn.open_table(BY_WINDOW)?;
        txn.open_table(LAST_SEQ)?;
        txn.open_table(EVIDENCE)?;
        txn.delete_table(UNBOUND_EVIDENCE)?;
        txn.open_table(PROVEN)?;
        txn.open_table(META)?;
        txn.open_table(SAMPLE_INDEX)?;
        txn.commit()?;
        Ok(Store { db })
    }

    /// A consistent read view: every read through it sees the same committed state, and costs
    /// one transaction instead of one per read.
    pub fn reader(&self) -> Result<Reader, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(Reader {
            samples: txn.open_table(SAMPLES)?,
            by_window: txn.open_table(BY_WINDOW)?,
            last_seq: txn.open_table(LAST_SEQ)?,
            evidence: txn.open_table(EVIDENCE)?,
            proven: txn.open_table(PROVEN)?,
        })
    }

    /// The last accepted seq of `terminal`.
    pub fn last_seq(&self, terminal: &str) -> Result<Option<u64>, StoreError> {
        self.reader()?.last_seq(terminal)
    }

    /// The stored sample `(terminal, seq)`, if any.
    pub fn sample(&self, terminal: &str, seq: u64) -> Result<Option<SignedSample>, StoreError> {
        self.reader()?.sample(terminal, seq)
    }

    /// Stores verified samples and advances each terminal's last seq, in one transaction.
    pub fn put_samples(&self, accepted: &[Accepted]) -> Result<(), StoreError> {
        if accepted.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut samples = txn.open_table(SAMPLES)?;
            let mut by_window = txn.open_table(BY_WINDOW)?;
            let mut last = txn.open_table(LAST_SEQ)?;
            let mut index = txn.open_table(SAMPLE_INDEX)?;
            for a in accepted {
                let t = a.sample.terminal_id.as_str();
                samples.insert((t, a.sample.seq), a.signed.encode().as_slice())?;
                by_window.insert((a.window_start, t), ())?;
                index.insert((a.window_start, t, a.sample.seq), ())?;
                let prev = last.get(t)?.map_or(0, |v| v.value());
                if a.sample.seq > prev {
                    last.insert(t, a.sample.seq)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Records evidence of `terminal` verified for its registration (`attestor_key`,
    /// `measurement`), replacing what was held for that registration.
    pub fn put_evidence(
        &self,
        terminal: &str,
        attestor_key: &[u8],
        measurement: &[u8],
        record: &EvidenceRecord,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(EVIDENCE)?.insert(
            (terminal, attestor_key, measurement),
            record.encode().as_slice(),
        )?;
        txn.commit()?;
        Ok(())
    }

    /// The evidence `terminal` presented for the registration (`attestor_key`, `measurement`),
    /// if any.
    pub fn evidence(
        &self,
        terminal: &str,
        attestor_key: &[u8],
        measurement: &[u8],
    ) -> Result<Option<EvidenceRecord>, StoreError> {
        self.reader()?.evidence(terminal, attestor_key, measurement)
    }

    /// Forgets windows before `cutoff` (a window start, seconds), which can no longer be proven:
    /// their samples (except each terminal's last one, the baseline of the next window), their
    /// window index and their proven marks. Returns how many samples were deleted.
    pub fn prune_before(&self, cutoff: u64) -> Result<u64, StoreError> {
        let txn = self.db.begin_write()?;
        let mut deleted = 0u64;
        {
            let mut index = txn.open_table(SAMPLE_INDEX)?;
            let mut samples = txn.open_table(SAMPLES)?;
            // The newest old sample of each terminal stays (with its index entry).
            let mut keep: std::collections::BTreeMap<String, u64> = Default::default();
            let mut old: Vec<(u64, String, u64)> = vec![];
            for e in index.range((0, "", 0)..(cutoff, "", 0))? {
                let entry = e?;
                let (w, t, seq) = entry.0.value();
                let k = keep.entry(t.to_string()).or_insert(seq);
                *k = (*k).max(seq);
                old.push((w, t.to_string(), seq));
            }
            for (w, t, seq) in old {
                if keep.get(&t) == Some(&seq) {
                    continue;
                }
                samples.remove((t.as_str(), seq))?;
                index.remove((w, t.as_str(), seq))?;
                deleted += 1;
            }
            let mut by_window = txn.open_table(BY_WINDOW)?;
            by_window.retain_in((0, "")..(cutoff, ""), |_, _| false)?;
            let mut proven = txn.open_table(PROVEN)?;
            proven.retain(|(_, w), _| w >= cutoff)?;
        }
        txn.commit()?;
        Ok(deleted)
    }

    /// Marks (terminal, window) proven at `height`.
    pub fn mark_proven(&self, keys: &[(String, u64)], height: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut p = txn.open_table(PROVEN)?;
            for (t, w) in keys {
                p.insert((t.as_str(), *w), height)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Whether (terminal, window) is known to be proven on chain.
    pub fn is_proven(&self, terminal: &str, window_start: u64) -> Result<bool, StoreError> {
        self.reader()?.is_proven(terminal, window_start)
    }

    /// The last chain height whose events were read.
    pub fn followed_height(&self) -> Result<u64, StoreError> {
        let txn = self.db.begin_read()?;
        Ok(txn
            .open_table(META)?
            .get(FOLLOWED)?
            .map_or(0, |v| v.value()))
    }

    /// Records proofs seen at `height` and that `height` was read, in one transaction.
    pub fn follow(&self, height: u64, proven: &[(String, u64)]) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut p = txn.open_table(PROVEN)?;
            for (t, w) in proven {
                p.insert((t.as_str(), *w), height)?;
            }
            txn.open_table(META)?.insert(FOLLOWED, height)?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// One read transaction over the aggregator's tables ([`Store::reader`]).
pub struct Reader {
    samples: redb::ReadOnlyTable<(&'static str, u64), &'static [u8]>,
    by_window: redb::ReadOnlyTable<(u64, &'static str), ()>,
    last_seq: redb::ReadOnlyTable<&'static str, u64>,
    evidence: redb::ReadOnlyTable<Registration<'static>, &'static [u8]>,
    proven: redb::ReadOnlyTable<(&'static str, u64), u64>,
}

impl Reader {
    /// The last accepted seq of `terminal`.
    pub fn last_seq(&self, terminal: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.last_seq.get(terminal)?.map(|v| v.value()))
    }

    /// The stored sample `(terminal, seq)`, if any.
    pub fn sample(&self, terminal: &str, seq: u64) -> Result<Option<SignedSample>, StoreError> {
        let Some(v) = self.samples.get((terminal, seq))? else {
            return Ok(None);
        };
        SignedSample::decode(v.value())
            .map(Some)
            .map_err(|e| StoreError(format!("stored sample {terminal}/{seq}: {e}")))
    }

    /// The evidence `terminal` presented for the registration (`attestor_key`, `measurement`),
    /// if any.
    pub fn evidence(
        &self,
        terminal: &str,
        attestor_key: &[u8],
        measurement: &[u8],
    ) -> Result<Option<EvidenceRecord>, StoreError> {
        self.evidence
            .get((terminal, attestor_key, measurement))?
            .map(|v| EvidenceRecord::decode(v.value()))
            .transpose()
    }

    /// Terminals with samples in the window starting at `window_start`.
    pub fn terminals_in(&self, window_start: u64) -> Result<Vec<String>, StoreError> {
        let mut out = vec![];
        for e in self
            .by_window
            .range((window_start, "")..(window_start.saturating_add(1), ""))?
        {
            out.push(e?.0.value().1.to_string());
        }
        Ok(out)
    }

    /// Windows with samples, from `from` (inclusive) to `to` (exclusive).
    pub fn windows_between(&self, from: u64, to: u64) -> Result<Vec<u64>, StoreError> {
        let mut out: Vec<u64> = vec![];
        for e in self.by_window.range((from, "")..(to, ""))? {
            let w = e?.0.value().0;
            if out.last() != Some(&w) {
                out.push(w);
            }
        }
        Ok(out)
    }

    /// Whether (terminal, window) is known to be proven on chain.
    pub fn is_proven(&self, terminal: &str, window_start: u64) -> Result<bool, StoreError> {
        Ok(self.proven.get((terminal, window_start))?.is_some())
    }

    /// The samples of `terminal` taken in `[from_ms, to_ms)`, plus the last one before
    /// `from_ms` (the baseline), in seq order. Samples are found by seq, walking back from the
    /// terminal's last seq, so this reads only the samples needed.
    pub fn samples_for_window(
        &self,
        terminal: &str,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<(Option<Sample>, Vec<Sample>), StoreError> {
        let mut inside = vec![];
        let mut previous = None;
        for e in self
            .samples
            .range((terminal, 0)..=(terminal, u64::MAX))?
            .rev()
        {
            let (_, v) = e?;
            let signed = SignedSample::decode(v.value())
                .map_err(|e| StoreError(format!("stored sample of {terminal}: {e}")))?;
            // Stored samples were verified on ingest.
            let Ok(sample) = Sample::decode(&signed.sample) else {
                continue;
            };
            if sample.taken_at_ms >= to_ms {
                continue;
            }
            if sample.taken_at_ms >= from_ms {
                inside.push(sample);
            } else {
                previous = Some(sample);
                break;
            }
        }
        inside.reverse();
        Ok((previous, inside))
    }
}

const PERIODS: TableDefinition<(&str, &str, u64), u8> = TableDefinition::new("periods");

/// A (provider, tenant, period_start).
pub type PeriodKey = (String, String, u64);

/// Where the keeper is with a (provider, tenant, period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeriodState {
    /// First proofs were recorded for it.
    Recorded = 0,
    /// Its second proof is on chain.
    Proven = 1,
    /// Its settlement was requested.
    SettlementRequested = 2,
    /// The chain will never take the keeper's next call for it (no first proofs, a tenant that
    /// is not an address): the keeper leaves it alone.
    Abandoned = 3,
}

impl Store {
    /// Raises the keeper state of (provider, tenant, period); never lowers it.
    pub fn raise_period(&self, entries: &[(PeriodKey, PeriodState)]) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(PERIODS)?;
            for ((p, tenant, start), state) in entries {
                let key = (p.as_str(), tenant.as_str(), *start);
                let current = t.get(key)?.map(|v| v.value());
                if current.is_none_or(|c| c < *state as u8) {
                    t.insert(key, *state as u8)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Every (provider, tenant, period) below `SettlementRequested`, with its state.
    pub fn open_periods(&self) -> Result<Vec<(PeriodKey, PeriodState)>, StoreError> {
        let txn = self.db.begin_read()?;
        let t = match txn.open_table(PERIODS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(vec![]),
            Err(e) => return Err(e.into()),
        };
        let mut out = vec![];
        for e in t.iter()? {
            let (k, v) = e?;
            let (p, tenant, start) = k.value();
            let state = match v.value() {
                0 => PeriodState::Recorded,
                1 => PeriodState::Proven,
                _ => continue,
            };
            out.push(((p.to_string(), tenant.to_string(), start), state));
        }
        Ok(out)
    }

    /// Forgets every period that starts before `cutoff` (seconds), whatever its state. Returns
    /// how many were forgotten.
    pub fn prune_periods_before(&self, cutoff: u64) -> Result<u64, StoreError> {
        let txn = self.db.begin_write()?;
        let mut forgotten = 0u64;
        {
            let mut t = txn.open_table(PERIODS)?;
            t.retain(|(_, _, start), _| {
                let keep = start >= cutoff;
                if !keep {
                    forgotten += 1;
                }
                keep
            })?;
        }
        txn.commit()?;
        Ok(forgotten)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use usage_attestor::simulate::SimTerminal;

    #[test]
    fn evidence_is_held_per_registration_and_unbound_evidence_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        {
            // A database whose evidence is bound to the terminal id only.
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            txn.open_table(UNBOUND_EVIDENCE)
                .unwrap()
                .insert("t-1", [2u8; 32].as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert!(matches!(
            store.db.begin_read().unwrap().open_table(UNBOUND_EVIDENCE),
            Err(redb::TableError::TableDoesNotExist(_))
        ));
        let (k1, k2, m1, m2) = ([1u8; 32], [3u8; 32], [2u8; 32], [4u8; 32]);
        assert_eq!(store.evidence("t-1", &k1, &m1).unwrap(), None);
        let record = EvidenceRecord {
            verified_at_ms: 1_700_000_000_000,
            config_hash: [9; 32],
            tenant: "tenant-a".into(),
        };
        store.put_evidence("t-1", &k1, &m1, &record).unwrap();
        assert_eq!(
            store.evidence("t-1", &k1, &m1).unwrap(),
            Some(record.clone())
        );
        assert_eq!(store.evidence("t-1", &k2, &m1).unwrap(), None);
        assert_eq!(store.evidence("t-1", &k1, &m2).unwrap(), None);
        assert_eq!(store.evidence("t-2", &k1, &m1).unwrap(), None);
        // Newer evidence for the same registration replaces it.
        let newer = EvidenceRecord {
            verified_at_ms: record.verified_at_ms + 1,
            ..record
        };
        store.put_evidence("t-1", &k1, &m1, &newer).unwrap();
        assert_eq!(store.evidence("t-1", &k1, &m1).unwrap(), Some(newer));
    }

    #[test]
    fn pruning_forgets_old_windows_but_keeps_each_terminals_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let mut t = SimTerminal::new("prune", 1, "tenant");
        let accepted: Vec<Accepted> = (1..=6)
            .map(|seq| {
                // Two samples per 10 s window: windows 1000, 1010, 1020.
                let sample = t.sample(seq, 1_000_000 + (seq - 1) * 5_000);
                Accepted {
                    signed: SignedSample::sign(&sample, &t.key).unwrap(),
                    window_start: (sample.taken_at_ms / 1_000) / 10 * 10,
                    sample,
                }
            })
            .collect();
        store.put_samples(&accepted).unwrap();
        store
            .mark_proven(
                &[(t.terminal_id.clone(), 1000), (t.terminal_id.clone(), 1020)],
                5,
            )
            .unwrap();

        assert_eq!(
            store.prune_before(1020).unwrap(),
            3,
            "seqs 1-3 go, seq 4 is the baseline"
        );
        let r = store.reader().unwrap();
        for seq in 1..=3 {
            assert!(r.sample(&t.terminal_id, seq).unwrap().is_none());
        }
        let (previous, inside) = r
            .samples_for_window(&t.terminal_id, 1_020_000, 1_030_000)
            .unwrap();
        assert_eq!(previous.map(|p| p.seq), Some(4));
        assert_eq!(inside.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![5, 6]);
        assert!(r.terminals_in(1000).unwrap().is_empty());
        assert!(!r.is_proven(&t.terminal_id, 1000).unwrap());
        assert!(r.is_proven(&t.terminal_id, 1020).unwrap());
        assert_eq!(r.last_seq(&t.terminal_id).unwrap(), Some(6));
        // Pruning again keeps the baseline until a newer old sample replaces it.
        assert_eq!(store.prune_before(1020).unwrap(), 0);
    }

    #[test]
    fn pruning_periods_forgets_those_that_start_before_the_cutoff_whatever_their_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let key = |start: u64| ("p".to_string(), "t".to_string(), start);
        store
            .raise_period(&[
                (key(0), PeriodState::Recorded),
                (key(60), PeriodState::Proven),
                (key(120), PeriodState::Abandoned),
                (key(180), PeriodState::Proven),
            ])
            .unwrap();
        assert_eq!(store.prune_periods_before(180).unwrap(), 3);
        assert_eq!(
            store.open_periods().unwrap(),
            vec![(key(180), PeriodState::Proven)]
        );
        assert_eq!(store.prune_periods_before(180).unwrap(), 0);
    }
}
