//! A usage batch: records in canonical order (terminal id, then window start), their canonical
//! encoding for `SubmitBatch`, and the digest the committee signs (design §3 "Batches").

use cosmwasm_std::HexBinary;
use thiserror::Error;
use usage_common::merkle::{self, leaf_hash, Hash, MerkleNode};
use usage_common::payload::{Domain, SignedPayload, UsageBatchDigest};
use usage_common::record::{encode_batch, UsageRecord, MAX_BATCH_RECORDS};

/// Why records could not form a batch.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// A batch must carry at least one record.
    #[error("a batch needs at least one record")]
    Empty,
    /// More records than C1 accepts in one batch.
    #[error("{records} records, at most {MAX_BATCH_RECORDS} per batch")]
    TooLarge {
        /// The number of records given.
        records: usize,
    },
    /// Two records for the same (terminal, window), which C1 proves only once.
    #[error("two records for terminal {terminal_id} in window {window_start}")]
    Duplicate {
        /// The terminal.
        terminal_id: String,
        /// The window start.
        window_start: u64,
    },
}

/// Records sorted by `(terminal_id, window_start)`, each (terminal, window) at most once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    records: Vec<UsageRecord>,
}

impl Batch {
    /// Sorts `records` into canonical order; refuses an empty or oversized batch and duplicate
    /// (terminal, window) keys.
    pub fn new(mut records: Vec<UsageRecord>) -> Result<Batch, BatchError> {
        if records.is_empty() {
            return Err(BatchError::Empty);
        }
        if records.len() > MAX_BATCH_RECORDS {
            return Err(BatchError::TooLarge {
                records: records.len(),
            });
        }
        records.sort_by(|a, b| a.key().cmp(&b.key()));
        if let Some(pair) = records.windows(2).find(|p| p[0].key() == p[1].key()) {
            return Err(BatchError::Duplicate {
                terminal_id: pair[0].terminal_id.clone(),
                window_start: pair[0].window_start,
            });
        }
        Ok(Batch { records })
    }

    /// The records in canonical order.
    pub fn records(&self) -> &[UsageRecord] {
        &self.records
    }

    /// The canonical batch encoding ([`encode_batch`]) that `SubmitBatch` carries.
    pub fn bytes(&self) -> Vec<u8> {
        encode_batch(&self.records)
    }

    /// RFC 6962 Merkle root over `leaf_hash(record.to_bytes())` in canonical order.
    pub fn root(&self) -> Hash {
        let leaves: Vec<Hash> = self
            .records
            .iter()
            .map(|r| leaf_hash(&r.to_bytes()))
            .collect();
        // Combining plain hashes never fails.
        merkle::root(&leaves).unwrap_or_else(<Hash as MerkleNode>::empty)
    }

    /// The digest the committee signs.
    pub fn digest(&self) -> UsageBatchDigest {
        UsageBatchDigest {
            root: HexBinary::from(self.root()),
            // At most MAX_BATCH_RECORDS (checked in `new`).
            records: u32::try_from(self.records.len()).unwrap_or(u32::MAX),
        }
    }

    /// The exact bytes committee members sign for this batch, bound to the chain, the C1 contract
    /// address and the committee epoch.
    pub fn signing_bytes(&self, chain_id: &str, c1_address: &str, epoch: u64) -> Vec<u8> {
        self.digest()
            .signing_bytes(&Domain::new(chain_id, c1_address, epoch))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use usage_common::record::{decode_batch, Metrics};
    use usage_signer::{verify_threshold, SigningCommittee};

    pub(crate) fn record(terminal: &str, window: u64) -> UsageRecord {
        UsageRecord {
            terminal_id: terminal.into(),
            window_start: window,
            tenant: "usage1tenant".into(),
            metrics: Metrics {
                net_rx_bytes: window,
                ..Default::default()
            },
        }
    }

    #[test]
    fn records_are_sorted_by_terminal_then_window() {
        let b = Batch::new(vec![record("t2", 10), record("t1", 20), record("t1", 10)]).unwrap();
        let keys: Vec<_> = b.records().iter().map(|r| r.key()).collect();
        assert_eq!(keys, vec![("t1", 10), ("t1", 20), ("t2", 10)]);
        let other = Batch::new(vec![record("t1", 10), record("t2", 10), record("t1", 20)]).unwrap();
        assert_eq!(b.digest(), other.digest());
    }

    #[test]
    fn a_duplicate_terminal_window_or_an_empty_batch_is_refused() {
        let mut dup = record("t1", 10);
        dup.tenant = "usage1other".into();
        assert_eq!(
            Batch::new(vec![record("t1", 10), record("t2", 10), dup]),
            Err(BatchError::Duplicate {
                terminal_id: "t1".into(),
                window_start: 10
            })
        );
        assert_eq!(Batch::new(vec![]), Err(BatchError::Empty));
        let many = (0..=MAX_BATCH_RECORDS as u64)
            .map(|w| record("t", w))
            .collect();
        assert!(matches!(Batch::new(many), Err(BatchError::TooLarge { .. })));
    }

    #[test]
    fn the_bytes_decode_to_the_records_and_the_root_is_over_their_leaves() {
        let b = Batch::new(vec![record("t2", 10), record("t1", 10), record("t3", 10)]).unwrap();
        let bytes = b.bytes();
        let decoded = decode_batch(&bytes).unwrap();
        let leaves: Vec<Hash> = decoded
            .records
            .iter()
            .map(|(_, raw)| leaf_hash(raw))
            .collect();
        assert_eq!(merkle::root(&leaves), Some(b.root()));
        let d = b.digest();
        assert_eq!(d.records, 3);
        assert_eq!(d.root.as_slice(), b.root().as_slice());
        // Three leaves: node(node(l0, l1), l2).
        let expect = merkle::node_hash(&merkle::node_hash(&leaves[0], &leaves[1]), &leaves[2]);
        assert_eq!(b.root(), expect);
    }

    #[test]
    fn a_batch_signed_by_three_of_four_members_verifies() {
        let c = SigningCommittee::deterministic("batch", 7, 4, 3);
        let b = Batch::new(vec![record("t1", 10), record("t2", 10)]).unwrap();
        let msg = b.signing_bytes("usagechain-local", "usage1c1", 7);
        let sig = c.sign_bytes(&[0, 2, 3], &msg);
        assert!(verify_threshold(&c.committee(), &msg, &sig));
        // The same signature is worthless for another chain, contract or epoch.
        for other in [
            b.signing_bytes("other-chain", "usage1c1", 7),
            b.signing_bytes("usagechain-local", "usage1c5", 7),
            b.signing_bytes("usagechain-local", "usage1c1", 8),
        ] {
            assert!(!verify_threshold(&c.committee(), &other, &sig));
        }
    }
}
