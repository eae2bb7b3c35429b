//! The pruner role's rule: which samples a member must still hold.

use usage_common::record::align;

use super::leader::{backlog_range, BACKLOG_SECONDS};

use crate::store::Retention;

/// What this member keeps at time `now` (seconds) of the samples it holds
/// ([`crate::store::Store::prune`]). A record lands in the period open when it is proven: its
/// own period until that period's grace ends, a later one when proven late. That period is
/// sealed at the earliest a period and a grace after it starts, and its dispute resolved at the
/// latest a dispute and a resolution window later (`dispute_seconds`, C2's two windows); the
/// member must still hold the samples then to vouch for a resolution. So disputes are over for
/// the records of windows that started, and were proven, more than two periods and graces plus
/// `dispute_seconds` ago. Unproven windows are kept for [`BACKLOG_SECONDS`] after their start,
/// while they may still be proposed.
pub fn retention(
    now: u64,
    window_seconds: u64,
    period_seconds: u64,
    grace_seconds: u64,
    dispute_seconds: u64,
) -> Retention {
    let horizon = period_seconds
        .saturating_add(grace_seconds)
        .saturating_mul(2)
        .saturating_add(dispute_seconds);
    Retention {
        disputes_from: align(now.saturating_sub(horizon), window_seconds),
        backlog_from: backlog_range(now, window_seconds, BACKLOG_SECONDS).0,
    }
}
