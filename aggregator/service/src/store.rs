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
//! * `proven`: (terminal, window_start) → block time it was proven at (seconds);
//! * `pending`: (window_start, terminal) → () for every window a terminal has samples in that is
//!   not proven, the windows a leader proposes;
//! * `sample_index`: (window_start, terminal, seq) → (), so old samples are pruned without
//!   reading them;
//! * `signed`: (terminal, window_start) → the [`RecordSpan`]s of the records of it this member
//!   proposed or co-signed, each with the root of its batch (the last few);
//! * `spans`: (terminal, window_start) → the [`RecordSpan`] of its proven record, once the
//!   chain accepted a batch this member proposed or co-signed with it: where the terminal's next
//!   record starts ([`usage_aggregator_core::aggregate`]).
//!
//! An ingest request's accepted samples are written in one transaction.
//!
//! Retention ([`Store::prune`]): a terminal's window is kept while it may still be proven (not
//! proven, and younger than the backlog limit) or disputed (it starts, or was proven, after
//! `disputes_from`); with it, every later window of the terminal and the whole window before it,
//! which holds its baseline; with each window's samples, the span of its proven record.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;

use usage_aggregator_core::aggregate::Span;
use usage_common::codec::{Decoder, Encoder};
use usage_common::record::MAX_TENANT_LEN;
use usage_sample::sample::Sample;
use usage_sample::tee::SignedSample;

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
const PENDING: TableDefinition<(u64, &str), ()> = TableDefinition::new("pending");
const SIGNED: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("signed");
const SPANS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("spans");
/// Most records of one (terminal, window) whose spans are held until one is proven.
const SIGNED_PER_WINDOW: usize = 8;
const FOLLOWED: &str = "followed_height";
/// Set once `pending` was filled from the windows held before it existed.
const PENDING_FILLED: &str = "pending_filled";

/// What [`Store::prune`] keeps (window starts and times in seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Disputes can no longer be resolved of the records of windows that start before it and
    /// were proven before it.
    pub disputes_from: u64,
    /// Unproven windows that start before it are given up: no longer proposed.
    pub backlog_from: u64,
}

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

/// Records of (terminal, window)s, each with the samples it read.
pub type RecordSpans = Vec<((String, u64), RecordSpan)>;

/// The samples a record of a (terminal, window) read, and the tenant it bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpan {
    /// The tenant.
    pub tenant: String,
    /// The samples, by sequence number.
    pub span: Span,
}

impl RecordSpan {
    fn encode_into(&self, e: &mut Encoder) {
        e.str(&self.tenant)
            .u8(u8::from(self.span.base.is_some()))
            .u64(self.span.base.unwrap_or(0))
            .u64(self.span.first)
            .u64(self.span.last);
    }

    fn decode_from(d: &mut Decoder) -> Result<Self, usage_common::codec::DecodeError> {
        let tenant = d.str("tenant", MAX_TENANT_LEN)?.to_string();
        let has_base = d.u8()? != 0;
        let base = d.u64()?;
        Ok(RecordSpan {
            tenant,
            span: Span {
                base: has_base.then_some(base),
                first: d.u64()?,
                last: d.u64()?,
            },
        })
    }

    fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(32 + self.tenant.len());
        self.encode_into(&mut e);
        e.finish()
    }

    fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let mut d = Decoder::new(bytes);
        let r = RecordSpan::decode_from(&mut d).and_then(|r| d.finish().map(|_| r));
        r.map_err(|e| StoreError(format!("stored span: {e}")))
    }
}

/// The spans of one (terminal, window)'s records signed, each with its batch root.
fn encode_signed(entries: &[([u8; 32], RecordSpan)]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.count(entries.len());
    for (root, span) in entries {
        e.fixed(root);
        span.encode_into(&mut e);
    }
    e.finish()
}

fn decode_signed(bytes: &[u8]) -> Result<Vec<([u8; 32], RecordSpan)>, StoreError> {
    let mut d = Decoder::new(bytes);
    let entries = (|| {
        let n = d.count("signed spans", SIGNED_PER_WINDOW)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let root = d.hash()?;
            out.push((root, RecordSpan::decode_from(&mut d)?));
        }
        d.finish()?;
        Ok::<_, usage_common::codec::DecodeError>(out)
    })();
    entries.map_err(|e| StoreError(format!("stored signed spans: {e}")))
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
        txn.open_table(SIGNED)?;
        txn.open_table(SPANS)?;
        {
            let mut meta = txn.open_table(META)?;
            if meta.get(PENDING_FILLED)?.is_none() {
                let by_window = txn.open_table(BY_WINDOW)?;
                let proven = txn.open_table(PROVEN)?;
                let mut pending = txn.open_table(PENDING)?;
                for e in by_window.iter()? {
                    let (k, _) = e?;
                    let (w, t) = k.value();
                    if proven.get((t, w))?.is_none() {
                        pending.insert((w, t), ())?;
                    }
                }
                meta.insert(PENDING_FILLED, 1)?;
            }
        }
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
            pending: txn.open_table(PENDING)?,
            spans: txn.open_table(SPANS)?,
            sample_index: txn.open_table(SAMPLE_INDEX)?,
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
            let proven = txn.open_table(PROVEN)?;
            let mut pending = txn.open_table(PENDING)?;
            for a in accepted {
                let t = a.sample.terminal_id.as_str();
                samples.insert((t, a.sample.seq), a.signed.encode().as_slice())?;
                by_window.insert((a.window_start, t), ())?;
                if proven.get((t, a.window_start))?.is_none() {
                    pending.insert((a.window_start, t), ())?;
                }
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

    /// Forgets what `keep` no longer needs (see the module documentation): the samples (and
    /// window index) of a terminal's windows before the one holding the baseline of its oldest
    /// window still needed, the proven marks and pending entries of windows given up. Returns
    /// how many samples were deleted.
    pub fn prune(&self, keep: Retention) -> Result<u64, StoreError> {
        let txn = self.db.begin_write()?;
        let mut deleted = 0u64;
        {
            let mut index = txn.open_table(SAMPLE_INDEX)?;
            let mut samples = txn.open_table(SAMPLES)?;
            let mut by_window = txn.open_table(BY_WINDOW)?;
            let mut proven = txn.open_table(PROVEN)?;
            let mut pending = txn.open_table(PENDING)?;
            let mut spans = txn.open_table(SPANS)?;
            let mut signed = txn.open_table(SIGNED)?;
            signed.retain(|(_, w), _| w >= keep.backlog_from)?;
            // Each terminal's windows before `disputes_from`, with their samples.
            let mut old: BTreeMap<String, BTreeMap<u64, Vec<u64>>> = BTreeMap::new();
            for e in index.range((0, "", 0)..(keep.disputes_from, "", 0))? {
                let entry = e?;
                let (w, t, seq) = entry.0.value();
                old.entry(t.to_string())
                    .or_default()
                    .entry(w)
                    .or_default()
                    .push(seq);
            }
            for (t, windows) in &old {
                // The oldest window still needed; all of the terminal's windows from the one
                // before it on stay.
                let mut needed = None;
                for w in windows.keys() {
                    let still = match proven.get((t.as_str(), *w))? {
                        Some(at) => at.value() >= keep.disputes_from,
                        None => *w >= keep.backlog_from,
                    };
                    if still {
                        needed = Some(*w);
                        break;
                    }
                }
                let baseline = match needed {
                    Some(n) => windows.range(..n).next_back().map(|(w, _)| *w),
                    None => windows.keys().next_back().copied(),
                };
                let Some(baseline) = baseline else { continue };
                spans.retain_in((t.as_str(), 0)..(t.as_str(), baseline), |_, _| false)?;
                for (w, seqs) in windows.range(..baseline) {
                    for seq in seqs {
                        samples.remove((t.as_str(), *seq))?;
                        index.remove((*w, t.as_str(), *seq))?;
                        deleted += 1;
                    }
                    by_window.remove((*w, t.as_str()))?;
                }
            }
            // Windows given up are no longer proposed, so whether they were proven matters no
            // more once their disputes are over; a proof of a window still proposable is kept,
            // lest a late sample make it pending again.
            pending.retain_in((0, "")..(keep.backlog_from, ""), |_, _| false)?;
            proven.retain(|(_, w), at| w >= keep.backlog_from || at >= keep.disputes_from)?;
        }
        txn.commit()?;
        Ok(deleted)
    }

    /// Marks (terminal, window) proven at block time `at` (seconds): no longer pending.
    pub fn mark_proven(&self, keys: &[(String, u64)], at: u64) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut p = txn.open_table(PROVEN)?;
            let mut pending = txn.open_table(PENDING)?;
            for (t, w) in keys {
                p.insert((t.as_str(), *w), at)?;
                pending.remove((*w, t.as_str()))?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Records the spans of the records of a batch with Merkle root `root` that this member
    /// proposes or co-signs; the one of a (terminal, window) becomes its proven span if that
    /// batch proves it ([`Store::follow`]).
    pub fn sign_spans(
        &self,
        root: &[u8; 32],
        spans: &[((String, u64), RecordSpan)],
    ) -> Result<(), StoreError> {
        if spans.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut signed = txn.open_table(SIGNED)?;
            for ((t, w), span) in spans {
                let mut held = match signed.get((t.as_str(), *w))? {
                    Some(v) => decode_signed(v.value())?,
                    None => vec![],
                };
                held.retain(|(r, _)| r != root);
                held.push((*root, span.clone()));
                let excess = held.len().saturating_sub(SIGNED_PER_WINDOW);
                held.drain(..excess);
                signed.insert((t.as_str(), *w), encode_signed(&held).as_slice())?;
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

    /// Records proofs seen at `height` (block time `time`, seconds) and that `height` was read,
    /// in one transaction.
    /// `roots` names the batch that proved each (terminal, window): when this member proposed
    /// or co-signed that batch, the span of its record there becomes the window's proven span.
    pub fn follow(
        &self,
        height: u64,
        time: u64,
        proven: &[(String, u64)],
        roots: &BTreeMap<(String, u64), [u8; 32]>,
    ) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut p = txn.open_table(PROVEN)?;
            let mut pending = txn.open_table(PENDING)?;
            let mut signed = txn.open_table(SIGNED)?;
            let mut spans = txn.open_table(SPANS)?;
            for (t, w) in proven {
                p.insert((t.as_str(), *w), time)?;
                pending.remove((*w, t.as_str()))?;
                let held = match signed.remove((t.as_str(), *w))? {
                    Some(v) => decode_signed(v.value())?,
                    None => continue,
                };
                let root = roots.get(&(t.clone(), *w));
                if let Some((_, span)) = held.iter().rev().find(|(r, _)| Some(r) == root) {
                    spans.insert((t.as_str(), *w), span.encode().as_slice())?;
                }
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
    pending: redb::ReadOnlyTable<(u64, &'static str), ()>,
    spans: redb::ReadOnlyTable<(&'static str, u64), &'static [u8]>,
    sample_index: redb::ReadOnlyTable<(u64, &'static str, u64), ()>,
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

    /// Windows from `from` (inclusive) to `to` (exclusive) in which some terminal has samples
    /// and no proof.
    pub fn pending_windows(&self, from: u64, to: u64) -> Result<Vec<u64>, StoreError> {
        let mut out: Vec<u64> = vec![];
        let mut next = from;
        // One look-up per window: skip past a window's terminals at once.
        while next < to {
            let Some(e) = self.pending.range((next, "")..(to, ""))?.next() else {
                break;
            };
            let w = e?.0.value().0;
            out.push(w);
            next = w.saturating_add(1);
            if next == 0 {
                break;
            }
        }
        Ok(out)
    }

    /// Terminals with samples and no proof in the window starting at `window_start`.
    pub fn pending_terminals(&self, window_start: u64) -> Result<Vec<String>, StoreError> {
        let mut out = vec![];
        for e in self
            .pending
            .range((window_start, "")..(window_start.saturating_add(1), ""))?
        {
            out.push(e?.0.value().1.to_string());
        }
        Ok(out)
    }

    /// Whether (terminal, window) is known to be proven on chain.
    pub fn is_proven(&self, terminal: &str, window_start: u64) -> Result<bool, StoreError> {
        Ok(self.proven.get((terminal, window_start))?.is_some())
    }

    /// The span of the proven record of (terminal, window), if this member proposed or
    /// co-signed the batch that proved it.
    pub fn span(
        &self,
        terminal: &str,
        window_start: u64,
    ) -> Result<Option<RecordSpan>, StoreError> {
        self.spans
            .get((terminal, window_start))?
            .map(|v| RecordSpan::decode(v.value()))
            .transpose()
    }

    /// The first window of `terminal` after `window_start` known to be proven.
    pub fn next_proven_after(
        &self,
        terminal: &str,
        window_start: u64,
    ) -> Result<Option<u64>, StoreError> {
        if window_start == u64::MAX {
            return Ok(None);
        }
        match self
            .proven
            .range((terminal, window_start + 1)..=(terminal, u64::MAX))?
            .next()
        {
            Some(e) => Ok(Some(e?.0.value().1)),
            None => Ok(None),
        }
    }

    /// The sequence numbers of the samples of `terminal` in the window starting at
    /// `window_start`, ascending.
    pub fn window_seqs(&self, terminal: &str, window_start: u64) -> Result<Vec<u64>, StoreError> {
        let mut out = vec![];
        for e in self
            .sample_index
            .range((window_start, terminal, 0)..=(window_start, terminal, u64::MAX))?
        {
            out.push(e?.0.value().2);
        }
        Ok(out)
    }

    fn decoded(terminal: &str, bytes: &[u8]) -> Result<Option<Sample>, StoreError> {
        let signed = SignedSample::decode(bytes)
            .map_err(|e| StoreError(format!("stored sample of {terminal}: {e}")))?;
        // Stored samples were verified on ingest.
        Ok(Sample::decode(&signed.sample).ok())
    }

    /// The decoded sample `(terminal, seq)`, if held.
    pub fn decoded_sample(&self, terminal: &str, seq: u64) -> Result<Option<Sample>, StoreError> {
        match self.samples.get((terminal, seq))? {
            Some(v) => Self::decoded(terminal, v.value()),
            None => Ok(None),
        }
    }

    /// The last sample of `terminal` before sequence number `seq`.
    pub fn sample_before(&self, terminal: &str, seq: u64) -> Result<Option<Sample>, StoreError> {
        for e in self.samples.range((terminal, 0)..(terminal, seq))?.rev() {
            if let Some(s) = Self::decoded(terminal, e?.1.value())? {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// The samples of `terminal` after sequence number `after` (from the first without one) up
    /// to `until` (inclusive, if given) taken before `before_ms`, in seq order.
    pub fn samples_from(
        &self,
        terminal: &str,
        after: Option<u64>,
        until: Option<u64>,
        before_ms: u64,
    ) -> Result<Vec<Sample>, StoreError> {
        let from = match after {
            Some(a) if a == u64::MAX => return Ok(vec![]),
            Some(a) => a + 1,
            None => 0,
        };
        let until = until.unwrap_or(u64::MAX);
        if until < from {
            return Ok(vec![]);
        }
        let mut out = vec![];
        for e in self.samples.range((terminal, from)..=(terminal, until))? {
            let Some(sample) = Self::decoded(terminal, e?.1.value())? else {
                continue;
            };
            // A terminal's samples are accepted in sequence and time order.
            if sample.taken_at_ms >= before_ms {
                break;
            }
            out.push(sample);
        }
        Ok(out)
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
    use usage_sample::simulate::SimTerminal;

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
    fn pruning_forgets_old_windows_but_keeps_the_window_of_each_terminals_baseline() {
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

        let keep = Retention {
            disputes_from: 1020,
            backlog_from: 1020,
        };
        assert_eq!(
            store.prune(keep).unwrap(),
            2,
            "seqs 1-2 go, window 1010 holds the baseline"
        );
        let r = store.reader().unwrap();
        for seq in 1..=2 {
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
        assert_eq!(store.prune(keep).unwrap(), 0);
    }

    /// A store holding `windows` 10 s windows of terminal `prune` from 1000, two samples each
    /// (seqs 1, 2 in window 1000, 3, 4 in 1010, ...).
    fn store_with_windows(windows: u64) -> (tempfile::TempDir, Store, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        let mut t = SimTerminal::new("prune", 1, "tenant");
        let accepted: Vec<Accepted> = (1..=2 * windows)
            .map(|seq| {
                let sample = t.sample(seq, 1_000_000 + (seq - 1) * 5_000);
                Accepted {
                    signed: SignedSample::sign(&sample, &t.key).unwrap(),
                    window_start: (sample.taken_at_ms / 1_000) / 10 * 10,
                    sample,
                }
            })
            .collect();
        store.put_samples(&accepted).unwrap();
        (dir, store, t.terminal_id)
    }

    fn held_seqs(store: &Store, terminal: &str) -> Vec<u64> {
        let r = store.reader().unwrap();
        (1..=20)
            .filter(|seq| r.sample(terminal, *seq).unwrap().is_some())
            .collect()
    }

    #[test]
    fn samples_of_a_window_not_yet_proven_are_kept_until_the_backlog_limit() {
        let (_dir, store, t) = store_with_windows(4);
        // Window 1020 was never proven (the committee was down); the others were, on time.
        let proven = [(t.clone(), 1000), (t.clone(), 1010), (t.clone(), 1030)];
        store.mark_proven(&proven, 1_045).unwrap();
        // Disputes of everything before 2000 are over; unproven windows from 1010 are kept.
        let keep = Retention {
            disputes_from: 2_000,
            backlog_from: 1_010,
        };
        assert_eq!(store.prune(keep).unwrap(), 2, "window 1000 goes");
        // Window 1010 stays whole: it holds the baseline of 1020.
        assert_eq!(held_seqs(&store, &t), vec![3, 4, 5, 6, 7, 8]);
        let r = store.reader().unwrap();
        assert_eq!(r.pending_windows(0, 3_000).unwrap(), vec![1020]);
        assert_eq!(r.pending_terminals(1020).unwrap(), vec![t.clone()]);
        assert!(r.is_proven(&t, 1010).unwrap());
        drop(r);
        // Once past the backlog limit it is given up: only the newest window stays, as the
        // baseline of the next.
        let keep = Retention {
            disputes_from: 2_000,
            backlog_from: 1_040,
        };
        assert_eq!(store.prune(keep).unwrap(), 4);
        assert_eq!(held_seqs(&store, &t), vec![7, 8]);
        let r = store.reader().unwrap();
        assert!(r.pending_windows(0, 3_000).unwrap().is_empty());
        assert!(!r.is_proven(&t, 1030).unwrap());
    }

    #[test]
    fn samples_of_a_window_proven_late_are_kept_until_its_disputes_are_over() {
        let (_dir, store, t) = store_with_windows(3);
        // Window 1000 proven late, at 5000; 1010 proven on time, at 1025.
        store.mark_proven(&[(t.clone(), 1000)], 5_000).unwrap();
        store.mark_proven(&[(t.clone(), 1010)], 1_025).unwrap();
        store.mark_proven(&[(t.clone(), 1020)], 1_035).unwrap();
        let keep = |disputes_from| Retention {
            disputes_from,
            backlog_from: 4_000,
        };
        assert_eq!(store.prune(keep(4_000)).unwrap(), 0);
        assert_eq!(held_seqs(&store, &t), vec![1, 2, 3, 4, 5, 6]);
        assert!(store.is_proven(&t, 1000).unwrap());
        // Disputes of what was proven before 5001 are over.
        assert_eq!(store.prune(keep(5_001)).unwrap(), 4);
        assert_eq!(held_seqs(&store, &t), vec![5, 6]);
    }

    #[test]
    fn a_proven_window_is_no_longer_pending_and_a_late_sample_does_not_make_it_pending_again() {
        let (_dir, store, t) = store_with_windows(2);
        let pending = |store: &Store| store.reader().unwrap().pending_windows(0, 3_000).unwrap();
        assert_eq!(pending(&store), vec![1000, 1010]);
        store
            .follow(7, 1_020, &[(t.clone(), 1000)], &BTreeMap::new())
            .unwrap();
        assert_eq!(pending(&store), vec![1010]);
        let mut late = SimTerminal::new("prune", 1, "tenant");
        let sample = late.sample(9, 1_009_000);
        store
            .put_samples(&[Accepted {
                signed: SignedSample::sign(&sample, &late.key).unwrap(),
                window_start: 1000,
                sample,
            }])
            .unwrap();
        assert_eq!(pending(&store), vec![1010]);
    }

    #[test]
    fn a_window_keeps_the_span_of_the_record_the_chain_proved_among_those_signed() {
        let (_dir, store, t) = store_with_windows(1);
        let span = |last| RecordSpan {
            tenant: "tenant".into(),
            span: Span {
                base: None,
                first: 1,
                last,
            },
        };
        let key = (t.clone(), 1000);
        store
            .sign_spans(&[1; 32], &[(key.clone(), span(1))])
            .unwrap();
        store
            .sign_spans(&[2; 32], &[(key.clone(), span(2))])
            .unwrap();
        store
            .sign_spans(&[3; 32], &[(key.clone(), span(3))])
            .unwrap();
        let roots = BTreeMap::from([(key.clone(), [2; 32])]);
        store
            .follow(5, 1_020, std::slice::from_ref(&key), &roots)
            .unwrap();
        assert_eq!(
            store.reader().unwrap().span(&t, 1000).unwrap(),
            Some(span(2))
        );
        // A window proven by a batch this member did not sign has no span.
        let other = (t.clone(), 1010);
        store
            .sign_spans(&[4; 32], &[(other.clone(), span(4))])
            .unwrap();
        let roots = BTreeMap::from([(other.clone(), [5; 32])]);
        store.follow(6, 1_030, &[other], &roots).unwrap();
        assert_eq!(store.reader().unwrap().span(&t, 1010).unwrap(), None);
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
