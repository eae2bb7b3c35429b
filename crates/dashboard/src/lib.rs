//! `usage-dashboard`: a web dashboard of a usagechain deployment for providers and tenants.
//!
//! One page (`GET /`, self-contained: script, styles and SVG charts inline, nothing loaded from
//! elsewhere) shows the chain's height and block time, the registered terminals with their
//! provider and current lease, usage per terminal and per tenant over the latest windows (C1
//! first proofs), the periods of those proofs with their second proofs and disputes (C2, or C1's
//! accumulator while a period is open), settlements (C3), balances of providers, tenants and
//! withdrawal owners (C4) and withdrawals (C5).
//!
//! How it stays live: a task polls the node's latest height ([`live::follow_head`]); another
//! reads one overview per new height with smart queries, paginating through pages of 100
//! ([`read::Reader`]), turns them into the JSON document `GET /api/overview` serves
//! ([`overview::build`], pure), and the page follows `GET /api/events` (server-sent events): a
//! `head` event announces each new height, which the page shows at once, and an `overview` event
//! tells it a new overview is ready, which it then fetches from `/api/overview`.
//!
//! A query that fails is shown in the page's error banner and logged as one line; the last
//! overview stays on the page (marked stale) while the node cannot be reached. Nothing the node
//! answers makes the service panic.

pub mod config;
pub mod live;
pub mod metrics;
pub mod overview;
pub mod read;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use usage_client::ChainClient;
use usage_service::tasks::Tasks;

pub use config::{Contracts, Settings};

/// Serves the dashboard of `settings` until SIGTERM or SIGINT.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let client = ChainClient::new(&settings.rpc, &settings.chain_id)
        .with_context(|| format!("rpc {}", settings.rpc))?;
    let metrics = metrics::DashboardMetrics::default();
    let reader = Arc::new(read::Reader::new(
        client,
        settings.contracts.clone(),
        settings.windows,
        metrics.clone(),
    ));
    let (head_tx, head_rx) = watch::channel(live::Head::default());
    let (overview_tx, overview_rx) = watch::channel(None);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("listen {}", settings.listen))?;
    let addr = listener.local_addr().context("listening address")?;

    let mut tasks = Tasks::new(tracing::info_span!("usage-dashboard"));
    let poll = Duration::from_millis(settings.poll_ms);
    {
        let (reader, metrics) = (reader.clone(), metrics.clone());
        tasks.spawn("head", move |token| {
            live::follow_head(reader, poll, head_tx, metrics, token)
        });
    }
    {
        let (head, metrics) = (head_rx.clone(), metrics.clone());
        tasks.spawn("overview", move |token| {
            live::refresh(reader, head, overview_tx, metrics, token)
        });
    }
    tasks.spawn("http", move |token| async move {
        let shared = server::Shared {
            head: head_rx,
            overview: overview_rx,
            metrics,
            token: token.clone(),
        };
        axum::serve(listener, server::router(shared))
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await?;
        Ok(())
    });
    tracing::info!(
        chain_id = %settings.chain_id,
        rpc = %settings.rpc,
        "dashboard serving on http://{addr}"
    );
    tasks.run().await?;
    Ok(())
}
