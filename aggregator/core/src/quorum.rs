//! The per-window batch protocol's pure parts: who leads a window, who takes over after a
//! timeout, and collecting members' BLS partial signatures into a threshold signature.

use std::collections::BTreeMap;

use cosmwasm_std::HexBinary;
use thiserror::Error;
use usage_common::committee::signer_bitmap;
use usage_common::{Committee, ThresholdSignature};
use usage_signer::{aggregate, verify_partial};

/// The member that proposes the batch of the window starting at `window_start`:
/// `(window_start / window_len) % members`. Returns 0 for an empty committee or a zero length.
pub fn leader_for(window_start: u64, window_len: u64, members: usize) -> usize {
    let Some(round) = window_start.checked_div(window_len) else {
        return 0;
    };
    let Ok(n) = u64::try_from(members) else {
        return 0;
    };
    round
        .checked_rem(n)
        .and_then(|i| usize::try_from(i).ok())
        .unwrap_or(0)
}

/// The member that takes over when `current` failed to lead in time (round robin).
pub fn next_leader(current: usize, members: usize) -> usize {
    current
        .checked_add(1)
        .and_then(|i| i.checked_rem(members))
        .unwrap_or(0)
}

/// Why a partial signature was not accepted.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum PartialError {
    /// No member has this index.
    #[error("member {index} does not exist in a committee of {members}")]
    UnknownMember {
        /// The index given.
        index: usize,
        /// The committee's size.
        members: usize,
    },
    /// The member already contributed a partial signature.
    #[error("member {index} already signed")]
    Duplicate {
        /// The member's index.
        index: usize,
    },
    /// The partial does not verify against the member's key over this quorum's message.
    #[error("partial signature of member {index} does not verify")]
    Invalid {
        /// The member's index.
        index: usize,
    },
}

/// How far a quorum has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Distinct members whose valid partial was accepted.
    pub signers: usize,
    /// The committee's threshold.
    pub threshold: u32,
}

impl Progress {
    /// Whether enough members signed for a threshold signature.
    pub fn complete(&self) -> bool {
        self.threshold > 0 && self.signers >= self.threshold as usize
    }
}

/// Collects verified partial signatures of one committee over one message.
#[derive(Debug, Clone)]
pub struct Quorum {
    committee: Committee,
    message: Vec<u8>,
    partials: BTreeMap<usize, [u8; 96]>,
}

impl Quorum {
    /// An empty quorum of `committee` over `message` (the exact signing bytes).
    pub fn new(committee: Committee, message: Vec<u8>) -> Self {
        Quorum {
            committee,
            message,
            partials: BTreeMap::new(),
        }
    }

    /// The message being signed.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The current progress.
    pub fn progress(&self) -> Progress {
        Progress {
            signers: self.partials.len(),
            threshold: self.committee.threshold,
        }
    }

    /// Accepts member `member_index`'s partial signature after verifying it against that member's
    /// key; refuses an unknown member, a second partial from the same member and an invalid one
    /// (for instance a signature over another batch root).
    pub fn add(
        &mut self,
        member_index: usize,
        partial: [u8; 96],
    ) -> Result<Progress, PartialError> {
        let members = self.committee.members.len();
        let Some(key) = self.committee.members.get(member_index) else {
            return Err(PartialError::UnknownMember {
                index: member_index,
                members,
            });
        };
        if self.partials.contains_key(&member_index) {
            return Err(PartialError::Duplicate {
                index: member_index,
            });
        }
        if !verify_partial(key.as_slice(), &self.message, &partial) {
            return Err(PartialError::Invalid {
                index: member_index,
            });
        }
        self.partials.insert(member_index, partial);
        Ok(self.progress())
    }

    /// The threshold signature over the message by every member that contributed, once at least
    /// `threshold` did; `None` before.
    pub fn signature(&self) -> Option<ThresholdSignature> {
        if !self.progress().complete() {
            return None;
        }
        let signers: Vec<usize> = self.partials.keys().copied().collect();
        let partials: Vec<[u8; 96]> = self.partials.values().copied().collect();
        // Every partial was validated in `add`, so aggregation cannot fail.
        let signature = aggregate(&partials).ok()?;
        Some(ThresholdSignature {
            epoch: self.committee.epoch,
            signers: HexBinary::from(signer_bitmap(&signers, self.committee.members.len())),
            signature: HexBinary::from(signature),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::tests::record;
    use crate::batch::Batch;
    use usage_signer::{verify_threshold, SigningCommittee};

    fn setup() -> (SigningCommittee, Vec<u8>, Quorum) {
        let c = SigningCommittee::deterministic("quorum", 3, 4, 3);
        let batch = Batch::new(vec![record("t1", 10), record("t2", 10)]).unwrap();
        let msg = batch.signing_bytes("usagechain-local", "usage1c1", 3);
        let q = Quorum::new(c.committee(), msg.clone());
        (c, msg, q)
    }

    #[test]
    fn leaders_rotate_with_the_window_and_on_timeout() {
        assert_eq!(leader_for(0, 10, 4), 0);
        assert_eq!(leader_for(10, 10, 4), 1);
        assert_eq!(leader_for(1_700_000_030, 10, 4), (170_000_003 % 4) as usize);
        assert_eq!(leader_for(50, 10, 4), 1);
        assert_eq!(leader_for(50, 0, 4), 0);
        assert_eq!(leader_for(50, 10, 0), 0);
        assert_eq!(next_leader(1, 4), 2);
        assert_eq!(next_leader(3, 4), 0);
        assert_eq!(next_leader(0, 0), 0);
    }

    #[test]
    fn three_of_four_partials_give_a_signature_that_verifies() {
        let (c, msg, mut q) = setup();
        for (n, i) in [3usize, 0, 2].into_iter().enumerate() {
            let p = q.add(i, c.members[i].sign(&msg)).unwrap();
            assert_eq!(p.signers, n + 1);
            assert_eq!(p.complete(), n == 2);
        }
        let sig = q.signature().unwrap();
        assert_eq!(sig.epoch, 3);
        assert!(verify_threshold(&c.committee(), &msg, &sig));
    }

    #[test]
    fn two_of_four_partials_give_no_signature() {
        let (c, msg, mut q) = setup();
        assert_eq!(q.signature(), None);
        q.add(0, c.members[0].sign(&msg)).unwrap();
        q.add(1, c.members[1].sign(&msg)).unwrap();
        assert_eq!(q.signature(), None);
    }

    #[test]
    fn a_byzantine_partial_over_another_root_is_refused() {
        let (c, msg, mut q) = setup();
        let forged = Batch::new(vec![record("t1", 10), record("t9", 10)])
            .unwrap()
            .signing_bytes("usagechain-local", "usage1c1", 3);
        assert_eq!(
            q.add(1, c.members[1].sign(&forged)),
            Err(PartialError::Invalid { index: 1 })
        );
        // Member 0's valid partial presented as member 1's is refused too.
        assert_eq!(
            q.add(1, c.members[0].sign(&msg)),
            Err(PartialError::Invalid { index: 1 })
        );
        assert_eq!(q.add(1, [0u8; 96]), Err(PartialError::Invalid { index: 1 }));
        assert_eq!(q.progress().signers, 0);
    }

    #[test]
    fn a_replayed_partial_from_the_same_member_is_refused() {
        let (c, msg, mut q) = setup();
        let p = c.members[2].sign(&msg);
        q.add(2, p).unwrap();
        assert_eq!(q.add(2, p), Err(PartialError::Duplicate { index: 2 }));
        q.add(0, c.members[0].sign(&msg)).unwrap();
        // The replay did not count towards the threshold.
        assert_eq!(q.signature(), None);
    }

    #[test]
    fn a_partial_from_an_unknown_member_is_refused() {
        let (c, msg, mut q) = setup();
        assert_eq!(
            q.add(4, c.members[0].sign(&msg)),
            Err(PartialError::UnknownMember {
                index: 4,
                members: 4
            })
        );
    }
}
