//! Following the chain: one task polls the node's latest height ([`follow_head`]) and publishes
//! each new one; another reads an overview for each height it is told of ([`refresh`]), skipping
//! heights that arrive while it reads, so a slow read never queues work.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::metrics::DashboardMetrics;
use crate::overview::{self, Overview};
use crate::read::Reader;

/// The chain's head as last polled.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Head {
    /// The latest height (0 before the first answer).
    pub height: u64,
    /// Its block time, Unix seconds.
    pub time: u64,
    /// Why the last poll failed, if it did.
    pub error: Option<String>,
}

/// Polls the node every `poll` and publishes each new height (or the failure) on `head`, until
/// `token` is cancelled. A failure is logged once, when it starts or changes.
pub async fn follow_head(
    reader: Arc<Reader>,
    poll: Duration,
    head: watch::Sender<Head>,
    metrics: DashboardMetrics,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let mut ticks = tokio::time::interval(poll);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = token.cancelled() => return Ok(()),
            _ = ticks.tick() => {}
        }
        let polled = tokio::select! {
            () = token.cancelled() => return Ok(()),
            s = reader.status() => s,
        };
        match polled {
            Ok((height, time)) => {
                metrics
                    .height
                    .set(i64::try_from(height).unwrap_or(i64::MAX));
                head.send_if_modified(|h| {
                    if h.error.is_some() {
                        tracing::info!(height, "chain reachable again");
                    }
                    let next = Head {
                        height,
                        time,
                        error: None,
                    };
                    let changed = *h != next;
                    *h = next;
                    changed
                });
            }
            Err(e) => {
                metrics.query_failures.inc();
                let line = format!("chain status: {e}");
                head.send_if_modified(|h| {
                    if h.error.as_deref() == Some(line.as_str()) {
                        return false;
                    }
                    tracing::warn!(error = %line, "chain not readable");
                    h.error = Some(line.clone());
                    true
                });
            }
        }
    }
}

/// Reads an overview whenever `head` moves and publishes it on `out`, until `token` is
/// cancelled. While the node cannot be reached, the last overview is published again, marked
/// stale, with the reason. A failed query is logged once, when it starts failing.
pub async fn refresh(
    reader: Arc<Reader>,
    mut head: watch::Receiver<Head>,
    out: watch::Sender<Option<Arc<Overview>>>,
    metrics: DashboardMetrics,
    token: CancellationToken,
) -> anyhow::Result<()> {
    let mut failing: BTreeSet<String> = BTreeSet::new();
    let mut read_height = 0;
    loop {
        tokio::select! {
            () = token.cancelled() => return Ok(()),
            changed = head.changed() => if changed.is_err() { return Ok(()) },
        }
        let now = head.borrow_and_update().clone();
        if let Some(error) = now.error {
            let last = out.borrow().clone();
            let mut stale = match last {
                Some(o) => (*o).clone(),
                None => overview::build(&overview::ChainData {
                    chain_id: reader.chain_id().to_string(),
                    ..Default::default()
                }),
            };
            stale.errors = vec![error];
            stale.stale = true;
            out.send_replace(Some(Arc::new(stale)));
            continue;
        }
        if now.height <= read_height {
            continue;
        }
        let started = Instant::now();
        let data = tokio::select! {
            () = token.cancelled() => return Ok(()),
            d = reader.read(now.height, now.time) => d,
        };
        metrics
            .overview_seconds
            .observe(started.elapsed().as_secs_f64());
        metrics.overviews.inc();
        let errors: BTreeSet<String> = data.errors.iter().cloned().collect();
        for e in errors.difference(&failing) {
            tracing::warn!(error = %e, height = now.height, "query failed");
        }
        if !failing.is_empty() && errors.is_empty() {
            tracing::info!(height = now.height, "every query answered again");
        }
        failing = errors;
        read_height = now.height;
        out.send_replace(Some(Arc::new(overview::build(&data))));
    }
}
