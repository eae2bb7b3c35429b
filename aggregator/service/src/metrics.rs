//! The aggregator's metrics (`prometheus-client`), served on the member's metrics address
//! (`metrics_listen`), apart from its public API: counters of what it stored, signed and
//! submitted, and the three latencies an operator watches — window close → proof landed,
//! ingest request handling, and a leader's round.

use std::sync::Arc;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use usage_service::metrics::latency_buckets;

/// The aggregator's metrics, registered as `usage_aggregator_…`.
#[derive(Debug)]
pub struct Metrics {
    /// The registry they are exposed from.
    pub registry: Arc<Registry>,
    /// Samples stored.
    pub samples_stored: Counter,
    /// Samples already held.
    pub samples_duplicate: Counter,
    /// Samples refused, by reason.
    pub samples_rejected: Family<Vec<(String, String)>, Counter>,
    /// Proposals this member answered with a partial signature.
    pub partials_signed: Counter,
    /// Proposals this member disputed.
    pub proposals_disputed: Counter,
    /// Partial signatures refused while leading (invalid, replayed, unknown member).
    pub partials_refused: Counter,
    /// Batches broadcast as leader.
    pub batches_submitted: Counter,
    /// Records in those batches.
    pub records_submitted: Counter,
    /// Rounds that did not reach the threshold.
    pub rounds_failed: Counter,
    /// Last chain height whose events were read.
    pub followed_height: Gauge,
    /// Keeper transactions sent.
    pub keeper_txs: Counter,
    /// Passes of the leader over the closed windows.
    pub lead_passes: Counter,
    /// Passes of the keeper over the open periods.
    pub keeper_passes: Counter,
    /// Samples left out of proposed records for naming another tenant than the lease's.
    pub samples_unbilled: Counter,
    /// (terminal, window) pairs with samples that no lease covers, at the last pass of the
    /// leader (not proposed: nothing can bill them).
    pub windows_unleased: Gauge,
    /// From a window's end to the block that proved it (block time), seconds, per proof.
    pub proof_latency_seconds: Histogram,
    /// Handling one ingest request (verification and storage of its samples), seconds.
    pub ingest_seconds: Histogram,
    /// A leader's round, from its proposal to a quorum (or to giving up), seconds.
    pub round_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric, registered with descriptions, and `usage_aggregator_build_info`.
    pub fn new() -> Self {
        let mut r = usage_service::metrics::registry("usage_aggregator", env!("CARGO_PKG_VERSION"));
        let counter = |r: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            r.register(name, help, c.clone());
            c
        };
        let gauge = |r: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            r.register(name, help, g.clone());
            g
        };
        let histogram = |r: &mut Registry, name: &str, help: &str| {
            let h = Histogram::new(latency_buckets());
            r.register(name, help, h.clone());
            h
        };
        let samples_rejected = Family::<Vec<(String, String)>, Counter>::default();
        r.register(
            "samples_rejected",
            "Samples refused, by reason.",
            samples_rejected.clone(),
        );
        Metrics {
            samples_stored: counter(&mut r, "samples_stored", "Samples verified and stored."),
            samples_duplicate: counter(&mut r, "samples_duplicate", "Samples already held."),
            samples_rejected,
            partials_signed: counter(&mut r, "partials_signed", "Proposals signed as member."),
            proposals_disputed: counter(
                &mut r,
                "proposals_disputed",
                "Proposals disputed as member.",
            ),
            partials_refused: counter(
                &mut r,
                "partials_refused",
                "Partial signatures refused as leader.",
            ),
            batches_submitted: counter(
                &mut r,
                "batches_submitted",
                "SubmitBatch transactions broadcast.",
            ),
            records_submitted: counter(
                &mut r,
                "records_submitted",
                "Records in submitted batches.",
            ),
            rounds_failed: counter(&mut r, "rounds_failed", "Rounds below the threshold."),
            followed_height: gauge(&mut r, "followed_height", "Last chain height read."),
            keeper_txs: counter(&mut r, "keeper_txs", "Keeper transactions broadcast."),
            lead_passes: counter(
                &mut r,
                "lead_passes",
                "Passes of the leader over the closed windows.",
            ),
            keeper_passes: counter(
                &mut r,
                "keeper_passes",
                "Passes of the keeper over the open periods.",
            ),
            samples_unbilled: counter(
                &mut r,
                "samples_unbilled",
                "Samples left out of proposed records for naming another tenant than the lease's.",
            ),
            windows_unleased: gauge(
                &mut r,
                "windows_unleased",
                "Windows with samples no lease covers, at the last pass of the leader.",
            ),
            proof_latency_seconds: histogram(
                &mut r,
                "proof_latency_seconds",
                "From a window's end to the block that proved it (block time), per proof.",
            ),
            ingest_seconds: histogram(
                &mut r,
                "ingest_seconds",
                "Handling one ingest request: verifying and storing its samples.",
            ),
            round_seconds: histogram(
                &mut r,
                "round_seconds",
                "A leader's round, from its proposal to a quorum or to giving up.",
            ),
            registry: Arc::new(r),
        }
    }

    /// Counts one refused sample.
    pub fn rejected(&self, reason: &'static str) {
        self.samples_rejected
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc();
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        usage_service::metrics::render(&self.registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_keeps_the_counter_names_and_has_the_latency_histograms() {
        let m = Metrics::new();
        m.batches_submitted.inc();
        m.rejected("bad_signature");
        m.round_seconds.observe(0.2);
        let text = m.render();
        for line in [
            "usage_aggregator_batches_submitted_total 1",
            "usage_aggregator_samples_rejected_total{reason=\"bad_signature\"} 1",
            "usage_aggregator_build_info{version=\"",
            "# TYPE usage_aggregator_proof_latency_seconds histogram",
            "# TYPE usage_aggregator_ingest_seconds histogram",
            "usage_aggregator_round_seconds_count 1",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
