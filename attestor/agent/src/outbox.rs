//! The durable outbox: signed samples wait here until every aggregator has acknowledged them.
//!
//! One redb file holds three tables:
//!
//! * `samples`: outbox sequence number → [`SignedSample::encode`] bytes;
//! * `cursors`: aggregator → highest sequence number it acknowledged (0: none);
//! * `meta`: `next_seq`, the number the next pushed sample must carry.
//!
//! The outbox sequence number *is* the sample's own `seq` (contiguous per terminal, from 1), so
//! aggregators can check sequence continuity: [`Outbox::push`] refuses a sample whose `seq` is not
//! [`Outbox::next_seq`]. Every change is one durable redb transaction, so a crash loses nothing
//! that [`Outbox::push`] or [`Outbox::ack`] reported done. Samples that every configured
//! aggregator acknowledged are deleted in the same transaction as the acknowledgement that
//! completed them.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use thiserror::Error;
use usage_common::codec::DecodeError;

use crate::tee::{SignatureError, SignedSample};

const SAMPLES: TableDefinition<u64, &[u8]> = TableDefinition::new("samples");
const CURSORS: TableDefinition<&str, u64> = TableDefinition::new("cursors");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_SEQ: &str = "next_seq";

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
    /// The pushed sample's `seq` is not the next one.
    #[error("sample seq {got}, expected {expected}")]
    OutOfSequence {
        /// [`Outbox::next_seq`].
        expected: u64,
        /// The sample's `seq`.
        got: u64,
    },
    /// An acknowledgement names a sample that was never pushed.
    #[error("ack up to {up_to}, but the last pushed seq is {last}")]
    AckBeyondPushed {
        /// The acknowledged seq.
        up_to: u64,
        /// The last pushed seq (0: none).
        last: u64,
    },
    /// The pushed sample does not verify.
    #[error("refusing an invalid signed sample: {0}")]
    InvalidSample(#[from] SignatureError),
    /// A stored entry does not decode (the file was damaged).
    #[error("stored sample {seq} is corrupt: {source}")]
    Corrupt {
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

/// A durable queue of signed samples with one acknowledgement cursor per aggregator.
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
            let mut meta = txn.open_table(META)?;
            if meta.get(NEXT_SEQ)?.is_none() {
                meta.insert(NEXT_SEQ, 1)?;
            }
            let mut cursors = txn.open_table(CURSORS)?;
            let stale: Vec<String> = cursors
                .iter()?
                .map(|r| r.map(|(k, _)| k.value().to_string()))
                .collect::<Result<_, _>>()?;
            for name in stale.iter().filter(|n| !names.contains(n)) {
                tracing::warn!(aggregator = %name, "dropping the cursor of an unconfigured aggregator");
                cursors.remove(name.as_str())?;
            }
            for name in &names {
                if cursors.get(name.as_str())?.is_none() {
                    cursors.insert(name.as_str(), 0)?;
                }
            }
            let mut samples = txn.open_table(SAMPLES)?;
            compact(&cursors, &mut samples)?;
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

    /// The `seq` the next pushed sample must carry (1 for a new outbox).
    pub fn next_seq(&self) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        Ok(meta.get(NEXT_SEQ)?.map_or(1, |v| v.value()))
    }

    /// Stores a signed sample durably and returns its seq. The signature must verify and the
    /// sample's `seq` must be [`Outbox::next_seq`].
    pub fn push(&self, signed: &SignedSample) -> Result<u64, OutboxError> {
        let sample = signed.verify()?;
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let expected = meta.get(NEXT_SEQ)?.map_or(1, |v| v.value());
            if sample.seq != expected {
                return Err(OutboxError::OutOfSequence {
                    expected,
                    got: sample.seq,
                });
            }
            let mut samples = txn.open_table(SAMPLES)?;
            samples.insert(sample.seq, signed.encode().as_slice())?;
            meta.insert(NEXT_SEQ, sample.seq.saturating_add(1))?;
        }
        txn.commit()?;
        Ok(sample.seq)
    }

    /// Up to `limit` samples after `aggregator`'s acknowledged cursor, in seq order.
    pub fn pending(
        &self,
        aggregator: &str,
        limit: usize,
    ) -> Result<Vec<(u64, SignedSample)>, OutboxError> {
        let txn = self.db.begin_read()?;
        let cursor = cursor_of(&txn.open_table(CURSORS)?, aggregator)?;
        let samples = txn.open_table(SAMPLES)?;
        let mut out = Vec::new();
        let Some(from) = cursor.checked_add(1) else {
            return Ok(out);
        };
        for entry in samples.range(from..)?.take(limit) {
            let (k, v) = entry?;
            let seq = k.value();
            let signed = SignedSample::decode(v.value())
                .map_err(|source| OutboxError::Corrupt { seq, source })?;
            out.push((seq, signed));
        }
        Ok(out)
    }

    /// The highest seq `aggregator` acknowledged (0: none).
    pub fn cursor(&self, aggregator: &str) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        cursor_of(&txn.open_table(CURSORS)?, aggregator)
    }

    /// Records that `aggregator` holds every sample up to `up_to`, and deletes samples every
    /// aggregator now holds. Idempotent; an `up_to` at or below the cursor changes nothing (a
    /// cursor never goes backwards). Returns the cursor afterwards.
    pub fn ack(&self, aggregator: &str, up_to: u64) -> Result<u64, OutboxError> {
        let txn = self.db.begin_write()?;
        let cursor;
        {
            let mut cursors = txn.open_table(CURSORS)?;
            let current = cursor_of(&cursors, aggregator)?;
            if up_to <= current {
                return Ok(current);
            }
            let meta = txn.open_table(META)?;
            let last = meta
                .get(NEXT_SEQ)?
                .map_or(1, |v| v.value())
                .saturating_sub(1);
            if up_to > last {
                return Err(OutboxError::AckBeyondPushed { up_to, last });
            }
            cursors.insert(aggregator, up_to)?;
            cursor = up_to;
            let mut samples = txn.open_table(SAMPLES)?;
            compact(&cursors, &mut samples)?;
        }
        txn.commit()?;
        Ok(cursor)
    }

    /// How many samples are retained (not yet acknowledged by every aggregator).
    pub fn retained(&self) -> Result<u64, OutboxError> {
        let txn = self.db.begin_read()?;
        Ok(redb::ReadableTableMetadata::len(&txn.open_table(SAMPLES)?)?)
    }
}

fn cursor_of(
    cursors: &impl ReadableTable<&'static str, u64>,
    name: &str,
) -> Result<u64, OutboxError> {
    cursors
        .get(name)?
        .map(|v| v.value())
        .ok_or_else(|| OutboxError::UnknownAggregator(name.to_string()))
}

/// Deletes samples at or below the lowest cursor.
fn compact(
    cursors: &redb::Table<&'static str, u64>,
    samples: &mut redb::Table<u64, &'static [u8]>,
) -> Result<(), OutboxError> {
    let mut lowest: Option<u64> = None;
    for entry in cursors.iter()? {
        let v = entry?.1.value();
        lowest = Some(lowest.map_or(v, |l| l.min(v)));
    }
    if let Some(done) = lowest.filter(|d| *d > 0) {
        samples.retain_in(..=done, |_, _| false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::tests::example;
    use crate::tee::SoftwareBackend;

    struct Fixture {
        dir: tempfile::TempDir,
        key: SoftwareBackend,
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
                let seq = outbox.next_seq().unwrap();
                assert_eq!(outbox.push(&self.signed(seq)).unwrap(), seq);
            }
        }
    }

    fn seqs(items: &[(u64, SignedSample)]) -> Vec<u64> {
        items.iter().map(|(s, _)| *s).collect()
    }

    #[test]
    fn nothing_is_lost_across_a_reopen_and_seqs_continue() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        f.push_n(&outbox, 3);
        outbox.ack("a", 2).unwrap();
        drop(outbox);

        let outbox = f.open(&["a", "b"]);
        assert_eq!(outbox.next_seq().unwrap(), 4);
        assert_eq!(outbox.cursor("a").unwrap(), 2);
        let pending = outbox.pending("b", 10).unwrap();
        assert_eq!(seqs(&pending), vec![1, 2, 3]);
        assert_eq!(pending[2].1, f.signed(3));
        assert_eq!(pending[2].1.verify().unwrap(), example(3));
        f.push_n(&outbox, 1);
        assert_eq!(seqs(&outbox.pending("a", 10).unwrap()), vec![3, 4]);
    }

    #[test]
    fn an_aggregator_that_was_down_gets_everything_it_missed_in_order() {
        let f = Fixture::new();
        let outbox = f.open(&["up", "down"]);
        for _ in 0..5 {
            f.push_n(&outbox, 2);
            let last = outbox.next_seq().unwrap() - 1;
            outbox.ack("up", last).unwrap();
        }
        assert!(outbox.pending("up", 10).unwrap().is_empty());
        let missed = outbox.pending("down", 100).unwrap();
        assert_eq!(seqs(&missed), (1..=10).collect::<Vec<_>>());
        // In pages, too.
        assert_eq!(seqs(&outbox.pending("down", 4).unwrap()), vec![1, 2, 3, 4]);
        outbox.ack("down", 4).unwrap();
        assert_eq!(seqs(&outbox.pending("down", 4).unwrap()), vec![5, 6, 7, 8]);
    }

    #[test]
    fn ack_is_idempotent_and_never_goes_backwards() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        f.push_n(&outbox, 5);
        assert_eq!(outbox.ack("a", 3).unwrap(), 3);
        assert_eq!(outbox.ack("a", 3).unwrap(), 3);
        assert_eq!(outbox.ack("a", 1).unwrap(), 3);
        assert_eq!(outbox.cursor("a").unwrap(), 3);
        assert_eq!(seqs(&outbox.pending("a", 10).unwrap()), vec![4, 5]);
    }

    #[test]
    fn samples_every_aggregator_acknowledged_are_compacted_and_no_others() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "b"]);
        f.push_n(&outbox, 5);
        outbox.ack("a", 5).unwrap();
        assert_eq!(outbox.retained().unwrap(), 5);
        outbox.ack("b", 2).unwrap();
        assert_eq!(outbox.retained().unwrap(), 3);
        assert_eq!(seqs(&outbox.pending("b", 10).unwrap()), vec![3, 4, 5]);
        outbox.ack("b", 5).unwrap();
        assert_eq!(outbox.retained().unwrap(), 0);
        // Seqs continue after everything was compacted.
        assert_eq!(outbox.next_seq().unwrap(), 6);
    }

    #[test]
    fn an_ack_beyond_the_last_pushed_sample_or_from_a_stranger_is_refused() {
        let f = Fixture::new();
        let outbox = f.open(&["a"]);
        f.push_n(&outbox, 2);
        assert!(matches!(
            outbox.ack("a", 3),
            Err(OutboxError::AckBeyondPushed { up_to: 3, last: 2 })
        ));
        assert!(matches!(
            outbox.ack("z", 1),
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
                got: 2
            })
        ));
        let mut bad = f.signed(1);
        bad.signature[0] ^= 1;
        assert!(matches!(
            outbox.push(&bad),
            Err(OutboxError::InvalidSample(SignatureError::BadSignature))
        ));
        assert_eq!(outbox.next_seq().unwrap(), 1);
        f.push_n(&outbox, 1);
        assert!(matches!(
            outbox.push(&f.signed(1)),
            Err(OutboxError::OutOfSequence {
                expected: 2,
                got: 1
            })
        ));
    }

    #[test]
    fn a_new_aggregator_gets_what_is_retained_and_a_removed_one_stops_holding_samples() {
        let f = Fixture::new();
        let outbox = f.open(&["a", "old"]);
        f.push_n(&outbox, 3);
        outbox.ack("a", 3).unwrap();
        assert_eq!(outbox.retained().unwrap(), 3);
        drop(outbox);

        let outbox = f.open(&["a", "new"]);
        assert!(matches!(
            outbox.cursor("old"),
            Err(OutboxError::UnknownAggregator(_))
        ));
        assert_eq!(seqs(&outbox.pending("new", 10).unwrap()), vec![1, 2, 3]);
        outbox.ack("new", 3).unwrap();
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
}
