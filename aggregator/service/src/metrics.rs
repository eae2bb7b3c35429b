//! Counters exposed at `GET /metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The aggregator's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Samples stored.
    pub samples_stored: AtomicU64,
    /// Samples already held.
    pub samples_duplicate: AtomicU64,
    /// Samples refused, by reason.
    pub samples_rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Proposals this member answered with a partial signature.
    pub partials_signed: AtomicU64,
    /// Proposals this member disputed.
    pub proposals_disputed: AtomicU64,
    /// Partial signatures refused while leading (invalid, replayed, unknown member).
    pub partials_refused: AtomicU64,
    /// Batches broadcast as leader.
    pub batches_submitted: AtomicU64,
    /// Records in those batches.
    pub records_submitted: AtomicU64,
    /// Rounds that did not reach the threshold.
    pub rounds_failed: AtomicU64,
    /// Last chain height whose events were read.
    pub followed_height: AtomicU64,
    /// Keeper transactions sent.
    pub keeper_txs: AtomicU64,
    /// Passes of the leader over the closed windows.
    pub lead_passes: AtomicU64,
    /// Passes of the keeper over the open periods.
    pub keeper_passes: AtomicU64,
    /// Samples left out of proposed records for naming another tenant than the lease's.
    pub samples_unbilled: AtomicU64,
    /// (terminal, window) pairs with samples that no lease covers, at the last pass of the
    /// leader (not proposed: nothing can bill them).
    pub windows_unleased: AtomicU64,
}

impl Metrics {
    /// Counts one refused sample.
    pub fn rejected(&self, reason: &'static str) {
        if let Ok(mut m) = self.samples_rejected.lock() {
            *m.entry(reason).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: &AtomicU64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        };
        counter(
            "usage_aggregator_samples_stored_total",
            "Samples verified and stored.",
            &self.samples_stored,
        );
        counter(
            "usage_aggregator_samples_duplicate_total",
            "Samples already held.",
            &self.samples_duplicate,
        );
        counter(
            "usage_aggregator_partials_signed_total",
            "Proposals signed as member.",
            &self.partials_signed,
        );
        counter(
            "usage_aggregator_proposals_disputed_total",
            "Proposals disputed as member.",
            &self.proposals_disputed,
        );
        counter(
            "usage_aggregator_partials_refused_total",
            "Partial signatures refused as leader.",
            &self.partials_refused,
        );
        counter(
            "usage_aggregator_batches_submitted_total",
            "SubmitBatch transactions broadcast.",
            &self.batches_submitted,
        );
        counter(
            "usage_aggregator_records_submitted_total",
            "Records in submitted batches.",
            &self.records_submitted,
        );
        counter(
            "usage_aggregator_rounds_failed_total",
            "Rounds below the threshold.",
            &self.rounds_failed,
        );
        counter(
            "usage_aggregator_keeper_txs_total",
            "Keeper transactions broadcast.",
            &self.keeper_txs,
        );
        counter(
            "usage_aggregator_lead_passes_total",
            "Passes of the leader over the closed windows.",
            &self.lead_passes,
        );
        counter(
            "usage_aggregator_keeper_passes_total",
            "Passes of the keeper over the open periods.",
            &self.keeper_passes,
        );
        counter(
            "usage_aggregator_samples_unbilled_total",
            "Samples left out of proposed records for naming another tenant than the lease's.",
            &self.samples_unbilled,
        );
        out.push_str(&format!(
            "# HELP usage_aggregator_windows_unleased Windows with samples no lease covers, at the last pass of the leader.\n# TYPE usage_aggregator_windows_unleased gauge\nusage_aggregator_windows_unleased {}\n",
            self.windows_unleased.load(Ordering::Relaxed)
        ));
        out.push_str(&format!(
            "# HELP usage_aggregator_followed_height Last chain height read.\n# TYPE usage_aggregator_followed_height gauge\nusage_aggregator_followed_height {}\n",
            self.followed_height.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP usage_aggregator_samples_rejected_total Samples refused, by reason.\n# TYPE usage_aggregator_samples_rejected_total counter\n");
        if let Ok(m) = self.samples_rejected.lock() {
            for (reason, n) in m.iter() {
                out.push_str(&format!(
                    "usage_aggregator_samples_rejected_total{{reason=\"{reason}\"}} {n}\n"
                ));
            }
        }
        out
    }
}
