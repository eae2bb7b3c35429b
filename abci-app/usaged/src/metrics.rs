//! The application's own Prometheus metrics, served as `GET /metrics` (Prometheus text format) on
//! the address of `usaged start --metrics-addr`. CometBFT exports consensus, mempool and p2p
//! metrics itself (`instrumentation.prometheus` in its config); these are the application's side:
//! which height it has committed, what its blocks hold and how long it takes to run and write them.
//!
//! The machine thread records after each FinalizeBlock and Commit: an atomic store and a few
//! histogram observations, read from the block's results and never fed back into them, so the
//! metrics cannot change a state transition. The HTTP server runs on a thread and runtime of its
//! own: a slow or stuck scraper never holds up consensus.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use tokio_util::sync::CancellationToken;

use crate::outcome::TxOutcome;

/// The node's metrics: handles the machine thread records into, and the registry they are
/// exposed from.
#[derive(Debug)]
pub struct Metrics {
    registry: Arc<Registry>,
    height: Gauge,
    block_txs: Histogram,
    block_gas_used: Histogram,
    finalize_block: Histogram,
    commit: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// All metrics registered under the `usaged_` prefix, with nothing recorded yet.
    pub fn new() -> Self {
        // `usaged_build_info{version}`, as every service of the project exports it.
        let mut registry = usage_service::metrics::registry("usaged", env!("CARGO_PKG_VERSION"));
        let height = Gauge::default();
        registry.register(
            "block_height",
            "Height of the last block the application committed",
            height.clone(),
        );
        // Empty blocks are the common case, hence a bucket of their own.
        let block_txs =
            Histogram::new(std::iter::once(0.0).chain(exponential_buckets(1.0, 2.0, 11)));
        registry.register(
            "block_txs",
            "Transactions in a finalized block",
            block_txs.clone(),
        );
        let block_gas_used = Histogram::new(exponential_buckets(100_000.0, 4.0, 10));
        registry.register(
            "block_gas_used",
            "SDK gas used by a finalized block's transactions",
            block_gas_used.clone(),
        );
        let finalize_block = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register_with_unit(
            "finalize_block_duration",
            "Time the application took to run a block's transactions (FinalizeBlock)",
            Unit::Seconds,
            finalize_block.clone(),
        );
        let commit = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register_with_unit(
            "commit_duration",
            "Time the application took to write a finalized block (Commit)",
            Unit::Seconds,
            commit.clone(),
        );
        Metrics {
            registry: Arc::new(registry),
            height,
            block_txs,
            block_gas_used,
            finalize_block,
            commit,
        }
    }

    /// A block was finalized with these outcomes in `took`.
    pub fn block_finalized(&self, outcomes: &[TxOutcome], took: Duration) {
        let gas: u64 = outcomes
            .iter()
            .map(|o| o.gas_used)
            .fold(0, u64::saturating_add);
        self.block_txs.observe(outcomes.len() as f64);
        self.block_gas_used.observe(gas as f64);
        self.finalize_block.observe(took.as_secs_f64());
    }

    /// Block `height` was committed in `took`.
    pub fn block_committed(&self, height: u64, took: Duration) {
        self.commit.observe(took.as_secs_f64());
        self.set_height(height);
    }

    /// The committed height, as found when the state is opened.
    pub fn set_height(&self, height: u64) {
        self.height.set(i64::try_from(height).unwrap_or(i64::MAX));
    }

    /// The exposition (OpenMetrics text, which Prometheus reads).
    pub fn encode(&self) -> String {
        usage_service::metrics::render(&self.registry)
    }
}

/// Serves the metrics (`GET /metrics`, `usage_service::metrics::serve`) on `listener` from a thread of its own (its own single-threaded runtime).
/// The listener is bound by the caller, so a taken address fails the node's start; a failure
/// after that is logged and leaves the node running without metrics.
pub fn serve(listener: TcpListener, metrics: Arc<Metrics>) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    std::thread::Builder::new()
        .name("usaged-metrics".into())
        .spawn(move || {
            let served: std::io::Result<()> = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                usage_service::metrics::serve(
                    listener,
                    metrics.registry.clone(),
                    CancellationToken::new(),
                )
                .await
                .map_err(std::io::Error::other)
            });
            if let Err(e) = served {
                tracing::error!(%e, "the metrics server stopped");
            }
        })?;
    Ok(())
}
