//! The durable outbox: signed samples wait here until every aggregator has acknowledged them.
//!
//! One attestor may speak for several terminals (one per tenant on a shared host, or thousands in
//! the simulation mode), so everything is kept per terminal. One redb file holds four tables:
//!
//! * `samples`: (terminal, seq) → [`SignedSample::encode`] bytes;
//! * `cursors`: (aggregator, terminal) → highest seq it acknowledged (absent: 0, none);
//! * `next_seq`: terminal → the seq its next pushed sample must carry (absent: 1);
//! * `aggregators`: the aggregators the outbox serves;
//! * `last`: terminal → its last pushed sample, kept after delivery so a restarted agent continues
//!   its counters from where they were.
//!
//! The sample's own `seq` (contiguous per terminal, from 1) is its outbox key, so aggregators can
//! check sequence continuity: a push refuses a sample whose `seq` is not [`Outbox::next_seq`] of
//! its terminal. Every change is one durable redb transaction, so a crash loses nothing that
//! [`Outbox::push_all`] or [`Outbox::ack`] reported done. Samples that every configured
//! aggregator acknowledged are deleted in the same transaction as the acknowledgement that
//! completed them.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use thiserror::Error;
use usage_common::codec::DecodeError;

use usage_sample::sample::Sample;
use usage_sample::tee::{SignatureError, SignedSample};

const SAMPLES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("samples");
const CURSORS: TableDefinition<(&str, &str), u64> = TableDefinition::new("cursors");
const NEXT_SEQ: TableDefinition<&str, u64> = TableDefinition::new("next_seq");
const AGGREGATORS: TableDefinition<&str, ()> = TableDefinition::new("aggregators");
const LAST: TableDefinition<&str, &[u8]> = TableDefinition::new("last");

/// Why an outbox operation failed.
#[derive(Error, Debug)]
pub enum OutboxError {
    /// The database failed (I/O, corruption, lock held by another process).
    #[error("outbox database: {0}")]
    Database(#[source] Box<redb::Error>),
    /// The outbox needs at least one aggregator, or it would discard every sample.
    #[error("no aggregators configured")]
    NoAggregators,
    /// The aggregator is not one the outbox was opened with.
    #[error("unknown aggregator {0:?}")]
    UnknownAggregator(String),
    /// The pushed sample's `seq` is not the next one of its terminal.
    #[error("sample seq {got} of terminal {terminal:?}, expected {expected}")]
    OutOfSequence {
        /// The terminal.
        terminal: String,
        /// [`Outbox::next_seq`].
        expected: u64,
        /// The sample's `seq`.
        got: u64,
    },
    /// An acknowledgement names a sample that was never pushed.
    #[error("ack up to {up_to} of terminal {terminal:?}, but the last pushed seq is {last}")]
    AckBeyondPushed {
        /// The terminal.
        terminal: String,
        /// The acknowledged seq.
        up_to: u64,
        /// The last pushed seq (0: none).
        last: u64,
    },
    /// The pushed sample does not verify.
    #[error("refusing an invalid signed sample: {0}")]
    InvalidSample(#[from] SignatureError),
    /// A stored entry does not decode (the file was damaged).
    #[error("stored sample {seq} of terminal {terminal:?} is corrupt: {source}")]
    Corrupt {
        /// The terminal.
        terminal: String,
        /// Its seq.
        seq: u64,
        /// The decoding error.
        source: DecodeError,
    },
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for OutboxError {
            fn from(e: $t) -> Self {
                OutboxError::Database(Box::new(e.into()))
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

/// A durable queue of signed samples of one or more terminals, with one acknowledgement cursor
/// per (aggregator, terminal).
#[derive(Debug)]
pub struct Outbox {
    db: Database,
    aggregators: Vec<String>,
}

impl Outbox {
    /// Opens (or creates) the outbox at `path` for these aggregators. A new aggregator starts
    /// with nothing acknowledged, so it receives every sample still retained. Cursors of
    /// aggregators no longer configured are dropped, so they stop holding samples back.
    pub fn open(path: &Path, aggregators: &[String]) -> Result<Self, OutboxError> {
        let mut names = aggregators.to_vec();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(OutboxError::NoAggregators);
        }
        let db = Database::create(path)?;
        let txn = db.begin_write()?;
        {
            let mut configured = txn.open_table(AGGREGATORS)?;
            let stale: Vec<String> = configured
                .iter()?
                .map(|r| r.map(|(k, _)| k.value().to_string()))
                .collect::<Result<_, _>>()?;
            let mut cursors = txn.open_table(CURSORS)?;
            for name in stale.iter().filter(|n| !names.contains(n)) {
                tracing::warn!(aggregator = %name, "dropping the cursors of an unconfigured aggregator");
                configured.remove(name.as_str())?;
                cursors.retain_in(
                    (name.as_str(), "")..(name.as_str(), "\u{10ffff}"),
                    |_, _| false,
                )?;
            }
            for name in &names {
                configured.insert(name.as_str(), ())?;
            }
            let next = txn.open_table(NEXT_SEQ)?;
            let terminals: Vec<String> = next
                .iter()?
                .map(|r| r.map(|(k, _)| k.value().to_string()))
                .collect::<Result<_, _>>()?;
            txn.open_table(LAST)?;
            let mut samples = txn.open_table(SAMPLES)?;
            for terminal in &terminals {
                compact(&names, terminal, &cursors, &mut samples)?;
            }
        }
        txn.commit()?;
        Ok(Self {
            db,
            aggregators: names,
        })
    }

    /// The aggregators this outbox serves, sorted.
    pub fn aggregators(&self) -> &[String] {
        &self.aggregators
    }

    /// The `seq` the next pushed sample of `terminal` must carry (1 for a new terminal).
    pub fn next_seq(&self, terminal: &str) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        let next = txn.open_table(NEXT_SEQ)?;
        Ok(next.get(terminal)?.map_or(1, |v| v.value()))
    }

    /// Stores one signed sample durably and returns its seq; see [`Outbox::push_all`].
    pub fn push(&self, signed: &SignedSample) -> Result<u64, OutboxError> {
        self.push_all(std::slice::from_ref(signed))?;
        // `push_all` verified the signature; only the seq is read here.
        Ok(Sample::decode(&signed.sample)
            .map_err(SignatureError::from)?
            .seq)
    }

    /// Stores signed samples durably, all or none, in one transaction. Every signature must
    /// verify and each sample's `seq` must be the next of its terminal (samples of one terminal
    /// in increasing order).
    pub fn push_all(&self, signed: &[SignedSample]) -> Result<(), OutboxError> {
        let mut decoded = Vec::with_capacity(signed.len());
        for s in signed {
            decoded.push(s.verify()?);
        }
        let txn = self.db.begin_write()?;
        {
            let mut next = txn.open_table(NEXT_SEQ)?;
            let mut samples = txn.open_table(SAMPLES)?;
            let mut last = txn.open_table(LAST)?;
            for (s, sample) in signed.iter().zip(&decoded) {
                let terminal = sample.terminal_id.as_str();
                let expected = next.get(terminal)?.map_or(1, |v| v.value());
                if sample.seq != expected {
                    return Err(OutboxError::OutOfSequence {
                        terminal: terminal.to_string(),
                        expected,
                        got: sample.seq,
                    });
                }
                let bytes = s.encode();
                samples.insert((terminal, sample.seq), bytes.as_slice())?;
                last.insert(terminal, bytes.as_slice())?;
                next.insert(terminal, sample.seq.saturating_add(1))?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Up to `limit` samples `aggregator` has not acknowledged, terminal by terminal, each
    /// terminal's in seq order.
    pub fn pending(
        &self,
        aggregator: &str,
        limit: usize,
    ) -> Result<Vec<SignedSample>, OutboxError> {
        self.check_aggregator(aggregator)?;
        let txn = self.db.begin_read()?;
        let cursors = txn.open_table(CURSORS)?;
        let next = txn.open_table(NEXT_SEQ)?;
        let samples = txn.open_table(SAMPLES)?;
        let mut out = Vec::new();
        for entry in next.iter()? {
            if out.len() >= limit {
                break;
            }
            let (terminal, _) = entry?;
            let terminal = terminal.value();
            let cursor = cursors
                .get((aggregator, terminal))?
                .map_or(0, |v| v.value());
            let Some(from) = cursor.checked_add(1) else {
                continue;
            };
            for item in samples
                .range((terminal, from)..=(terminal, u64::MAX))?
                .take(limit - out.len())
            {
                let (k, v) = item?;
                let seq = k.value().1;
                let signed =
                    SignedSample::decode(v.value()).map_err(|source| OutboxError::Corrupt {
                        terminal: terminal.to_string(),
                        seq,
                        source,
                    })?;
                out.push(signed);
            }
        }
        Ok(out)
    }

    /// The highest seq of `terminal` that `aggregator` acknowledged (0: none).
    pub fn cursor(&self, aggregator: &str, terminal: &str) -> Result<u64, OutboxError> {
        self.check_aggregator(aggregator)?;
        let txn = self.db.begin_read()?;
        let cursors = txn.open_table(CURSORS)?;
        Ok(cursors
            .get((aggregator, terminal))?
            .map_or(0, |v| v.value()))
    }

    /// Records that `aggregator` holds every sample of `terminal` up to `up_to`, and deletes the
    /// samples every aggregator now holds. Idempotent; an `up_to` at or below the cursor changes
    /// nothing (a cursor never goes backwards). Returns the cursor afterwards.
    pub fn ack(&self, aggregator: &str, terminal: &str, up_to: u64) -> Result<u64, OutboxError> {
        Ok(self
            .ack_many(aggregator, &[(terminal.to_string(), up_to)])?
            .first()
            .copied()
            .unwrap_or(up_to))
    }

    /// [`Outbox::ack`] for several terminals in one durable transaction (all or none); returns
    /// each terminal's cursor afterwards, in order.
    pub fn ack_many(
        &self,
        aggregator: &str,
        acks: &[(String, u64)],
    ) -> Result<Vec<u64>, OutboxError> {
        self.check_aggregator(aggregator)?;
        let mut cursors_after = Vec::with_capacity(acks.len());
        let txn = self.db.begin_write()?;
        {
            let mut cursors = txn.open_table(CURSORS)?;
            let next = txn.open_table(NEXT_SEQ)?;
            let mut samples = txn.open_table(SAMPLES)?;
            for (terminal, up_to) in acks {
                let terminal = terminal.as_str();
                let current = cursors
                    .get((aggregator, terminal))?
                    .map_or(0, |v| v.value());
                if *up_to <= current {
                    cursors_after.push(current);
                    continue;
                }
                let last = next
                    .get(terminal)?
                    .map_or(1, |v| v.value())
                    .saturating_sub(1);
                if *up_to > last {
                    return Err(OutboxError::AckBeyondPushed {
                        terminal: terminal.to_string(),
                        up_to: *up_to,
                        last,
                    });
                }
                cursors.insert((aggregator, terminal), *up_to)?;
                compact(&self.aggregators, terminal, &cursors, &mut samples)?;
                cursors_after.push(*up_to);
            }
        }
        txn.commit()?;
        Ok(cursors_after)
    }

    /// The last sample pushed for `terminal`, even if every aggregator has it.
    pub fn last(&self, terminal: &str) -> Result<Option<SignedSample>, OutboxError> {
        let txn = self.db.begin_read()?;
        let last = txn.open_table(LAST)?;
        let Some(v) = last.get(terminal)? else {
            return Ok(None);
        };
        SignedSample::decode(v.value())
            .map(Some)
            .map_err(|source| OutboxError::Corrupt {
                terminal: terminal.to_string(),
                seq: 0,
                source,
            })
    }

    /// How many samples are retained (not yet acknowledged by every aggregator).
    pub fn retained(&self) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        Ok(redb::ReadableTableMetadata::len(&txn.open_table(SAMPLES)?)?)
    }

    fn check_aggregator(&self, name: &str) -> Result<(), OutboxError> {
        if self.aggregators.iter().any(|a| a == name) {
            Ok(())
        } else {
            Err(OutboxError::UnknownAggregator(name.to_string()))
        }
    }
}

/// Deletes `terminal`'s samples at or below the lowest cursor of the configured aggregators.
fn compact(
    aggregators: &[String],
    terminal: &str,
    cursors: &impl ReadableTable<(&'static str, &'static str), u64>,
    samples: &mut redb::Table<(&'static str, u64), &'static [u8]>,
) -> Result<(), OutboxError> {
    let mut lowest = u64::MAX;
    for name in aggregators {
        let c = cursors
            .get((name.as_str(), terminal))?
            .map_or(0, |v| v.value());
        lowest = lowest.min(c);
    }
    if lowest > 0 && lowest != u64::MAX {
        samples.retain_in((terminal, 0)..=(terminal, lowest), |_, _| false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::SoftwareBackend;
    use usage_sample::simulate::example_sample as example;

    struct Fixture {
        dir: tempfile::TempDir,
        key: usage_sample::tee::SoftwareKey,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let key = SoftwareBackend::open(&dir.path().join("terminal.key")).unwrap();
            Self { dir, key }
        }

        fn open(&self, aggregators: &[&str]) -> Outbox {
            let names: Vec<String> = aggregators.iter().map(|s| s.to_string()).collect();
            Outbox::open(&self.dir.path().join("outbox.redb"), &names).unwrap()
        }

        fn signed(&self, seq: u64) -> SignedSample {
            SignedSample::sign(&example(seq), &self.key).unwrap()
        }

        fn push_n(&self, outbox: &Outbox, n: u64) {
            for _ in 0..n {
                let seq = outbox.next_seq(T).unwrap();
                assert_eq!(outbox.push(&self.signed(seq)).unwrap(), seq);
            }
        }
    }

    const T: &str = "term-1";

    fn seqs(items: &[SignedSample]) -> Vec<u64> {
        items.iter().map(|s| s.verify().unwrap().seq).collect()
    }

    #[test]
    fn nothing_is_lost_across_a_reopen_and_seqs_continue() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        f.push_n(&outbox, 3);
        outbox.ack("a", T, 2).unwrap();
        drop(outbox);

        let outbox = f.open(&["a", "b"]);
        assert_eq!(outbox.next_seq(T).unwrap(), 4);
        assert_eq!(outbox.cursor("a", T).unwrap(), 2);
        let pending = outbox.pending("b", 10).unwrap();
        assert_eq!(seqs(&pending), vec![1, 2, 3]);
        assert_eq!(pending[2], f.signed(3));
        assert_eq!(pending[2].verify().unwrap(), example(3));
        f.push_n(&outbox, 1);
        assert_eq!(seqs(&outbox.pending("a", 10).unwrap()), vec![3, 4]);
    }

    #[test]
    fn an_aggregator_that_was_down_gets_everything_it_missed_in_order() {
        let f = Fixture::new();
        let outbox = f.open(&["up", "down"]);
        for _ in 0..5 {
            f.push_n(&outbox, 2);
            let last = outbox.next_seq(T).unwrap() - 1;
            outbox.ack("up", T, last).unwrap();
        }
        assert!(outbox.pending("up", 10).unwrap().is_empty());
        let missed = outbox.pending("down", 100).unwrap();
        assert_eq!(seqs(&missed), (1..=10).collect::<Vec<_>>());
        // In pages, too.
        assert_eq!(seqs(&outbox.pending("down", 4).unwrap()), vec![1, 2, 3, 4]);
        outbox.ack("down", T, 4).unwrap();
        assert_eq!(seqs(&outbox.pending("down", 4).unwrap()), vec![5, 6, 7, 8]);
    }

    #[test]
    fn ack_is_idempotent_and_never_goes_backwards() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        f.push_n(&outbox, 5);
        assert_eq!(outbox.ack("a", T, 3).unwrap(), 3);
        assert_eq!(outbox.ack("a", T, 3).unwrap(), 3);
        assert_eq!(outbox.ack("a", T, 1).unwrap(), 3);
        assert_eq!(outbox.cursor("a", T).unwrap(), 3);
        assert_eq!(seqs(&outbox.pending("a", 10).unwrap()), vec![4, 5]);
    }

    #[test]
    fn samples_every_aggregator_acknowledged_are_compacted_and_no_others() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        f.push_n(&outbox, 5);
        outbox.ack("a", T, 5).unwrap();
        assert_eq!(outbox.retained().unwrap(), 5);
        outbox.ack("b", T, 2).unwrap();
        assert_eq!(outbox.retained().unwrap(), 3);
        assert_eq!(seqs(&outbox.pending("b", 10).unwrap()), vec![3, 4, 5]);
        outbox.ack("b", T, 5).unwrap();
        assert_eq!(outbox.retained().unwrap(), 0);
        // Seqs continue after everything was compacted.
        assert_eq!(outbox.next_seq(T).unwrap(), 6);
    }

    #[test]
    fn an_ack_beyond_the_last_pushed_sample_or_from_a_stranger_is_refused() {
        let f = Fixture::new();
        let outbox = f.open(&["a"]);
        f.push_n(&outbox, 2);
        assert!(matches!(
            outbox.ack("a", T, 3),
            Err(OutboxError::AckBeyondPushed {
                up_to: 3,
                last: 2,
                ..
            })
        ));
        assert!(matches!(
            outbox.ack("z", T, 1),
            Err(OutboxError::UnknownAggregator(_))
        ));
        assert!(matches!(
            outbox.pending("z", 1),
            Err(OutboxError::UnknownAggregator(_))
        ));
    }

    #[test]
    fn a_sample_out_of_sequence_or_with_a_bad_signature_is_refused() {
        let f = Fixture::new();
        let outbox = f.open(&["a"]);
        assert!(matches!(
            outbox.push(&f.signed(2)),
            Err(OutboxError::OutOfSequence {
                expected: 1,
                got: 2,
                ..
            })
        ));
        let mut bad = f.signed(1);
        bad.signature[0] ^= 1;
        assert!(matches!(
            outbox.push(&bad),
            Err(OutboxError::InvalidSample(SignatureError::BadSignature))
        ));
        assert_eq!(outbox.next_seq(T).unwrap(), 1);
        f.push_n(&outbox, 1);
        assert!(matches!(
            outbox.push(&f.signed(1)),
            Err(OutboxError::OutOfSequence {
                expected: 2,
                got: 1,
                ..
            })
        ));
    }

    #[test]
    fn a_new_aggregator_gets_what_is_retained_and_a_removed_one_stops_holding_samples() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "old"]);
        f.push_n(&outbox, 3);
        outbox.ack("a", T, 3).unwrap();
        assert_eq!(outbox.retained().unwrap(), 3);
        drop(outbox);

        let outbox = f.open(&["a", "new"]);
        assert!(matches!(
            outbox.cursor("old", T),
            Err(OutboxError::UnknownAggregator(_))
        ));
        assert_eq!(seqs(&outbox.pending("new", 10).unwrap()), vec![1, 2, 3]);
        outbox.ack("new", T, 3).unwrap();
        assert_eq!(outbox.retained().unwrap(), 0);
    }

    #[test]
    fn an_outbox_without_aggregators_is_refused() {
        let f = Fixture::new();
        assert!(matches!(
            Outbox::open(&f.dir.path().join("o.redb"), &[]),
            Err(OutboxError::NoAggregators)
        ));
    }
    #[test]
    fn terminals_have_their_own_sequences_and_cursors_and_push_all_is_all_or_nothing() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        let of = |terminal: &str, seq: u64| {
            let mut s = example(seq);
            s.terminal_id = terminal.into();
            SignedSample::sign(&s, &f.key).unwrap()
        };
        outbox
            .push_all(&[of("x", 1), of("y", 1), of("x", 2)])
            .unwrap();
        assert_eq!(outbox.next_seq("x").unwrap(), 3);
        assert_eq!(outbox.next_seq("y").unwrap(), 2);
        assert_eq!(outbox.next_seq("z").unwrap(), 1);
        // One bad sample refuses the whole push.
        assert!(matches!(
            outbox.push_all(&[of("x", 3), of("y", 3)]),
            Err(OutboxError::OutOfSequence {
                expected: 2,
                got: 3,
                ..
            })
        ));
        assert_eq!(outbox.next_seq("x").unwrap(), 3);
        assert_eq!(outbox.retained().unwrap(), 3);

        outbox.ack("a", "x", 2).unwrap();
        outbox.ack("b", "x", 1).unwrap();
        assert_eq!(outbox.retained().unwrap(), 2, "x/1 held by both, deleted");
        let for_a: Vec<(String, u64)> = outbox
            .pending("a", 10)
            .unwrap()
            .iter()
            .map(|s| {
                let v = s.verify().unwrap();
                (v.terminal_id, v.seq)
            })
            .collect();
        assert_eq!(for_a, vec![("y".to_string(), 1)]);
        assert_eq!(seqs(&outbox.pending("b", 10).unwrap()), vec![2, 1]);
        // The last sample of a terminal stays known after everyone has it.
        outbox.ack("a", "y", 1).unwrap();
        outbox.ack("b", "y", 1).unwrap();
        assert_eq!(outbox.last("y").unwrap(), Some(of("y", 1)));
        assert_eq!(outbox.last("z").unwrap(), None);
    }
}
