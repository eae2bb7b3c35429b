//! A member's roles, each its own task (`usage_service::tasks`): the chain-view refresher,
//! the follower, the leader, the pruner, the keeper, the public HTTP server (ingest, peer
//! protocol, signing service) and the metrics server. SIGTERM or SIGINT stops them in reverse
//! start order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use usage_client::ChainClient;
use usage_sample::wire::{EVIDENCE_PATH, INGEST_PATH, PING_PATH};

use crate::chainview::ChainView;
use crate::config::Config;
use crate::keeper::{Keeper, KeeperSetup};
use crate::p2p::{Envelope, Proposal, PROPOSE_PATH};
use crate::store::Store;
use crate::{ingest, protocol, AppState};
use usage_service::tasks::{self, Tasks};

async fn propose(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return (StatusCode::BAD_REQUEST, "not an envelope").into_response();
    };
    let proposal: Proposal = match envelope.open(&state.config.peers, &state.config.chain_id) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(from = envelope.from, error = %e, "unauthenticated proposal refused");
            return (StatusCode::FORBIDDEN, e).into_response();
        }
    };
    let view = state.view.read().await.clone();
    let reply = protocol::answer(&state, &view, &proposal).await;
    match Envelope::seal(
        state.config.index,
        &state.peer_key,
        &state.config.chain_id,
        &reply,
    ) {
        Ok(e) => Json(e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn ping() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// The router of one aggregator.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(INGEST_PATH, post(ingest::samples))
        .route(EVIDENCE_PATH, post(ingest::evidence))
        .route(PING_PATH, get(ping))
        .route(PROPOSE_PATH, post(propose))
        .route(crate::signing::SIGN_PATH, post(crate::signing::sign))
        .with_state(state)
}

/// Loads the chain view, waiting for the node (at most `wait`).
async fn first_view(client: &ChainClient, c1: &str, wait: Duration) -> anyhow::Result<ChainView> {
    let started = tokio::time::Instant::now();
    loop {
        match ChainView::load(client, c1).await {
            Ok(v) => return Ok(v),
            Err(e) if started.elapsed() < wait => {
                tracing::info!(error = %e, "waiting for the chain");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// No C2 windows read yet.
const UNKNOWN: u64 = u64::MAX;

/// C2's dispute window plus its resolution window (seconds): how long after its proof a period
/// may still be disputed and resolved.
async fn dispute_and_resolution_seconds(
    client: &ChainClient,
    c2: &str,
) -> Result<u64, usage_client::ClientError> {
    let config: serde_json::Value = client.smart(c2, &serde_json::json!({"config": {}})).await?;
    let seconds = |key: &str| config.get(key).and_then(serde_json::Value::as_u64);
    seconds("dispute_window_seconds")
        .map(|d| d.saturating_add(seconds("resolution_window_seconds").unwrap_or(0)))
        .ok_or_else(|| {
            usage_client::ClientError::Codec("C2 config without a dispute window".into())
        })
}

/// Runs the aggregator until SIGTERM or SIGINT (or until a role fails).
pub async fn run(config: Config) -> anyhow::Result<()> {
    let span = tracing::info_span!("aggregator", member = config.index);
    let tasks = tokio::select! {
        tasks = start(config, span.clone()) => tasks?,
        stop = tasks::signalled() => {
            tracing::info!(parent: &span, reason = ?stop, "stopped while starting");
            return Ok(());
        }
    };
    let stop = tasks.run().await?;
    tracing::info!(parent: &span, reason = ?stop, "stopped");
    Ok(())
}

/// Opens the member's store, waits for the chain and starts every role; the caller runs the
/// returned [`Tasks`] (tests cancel its shutdown token to stop the member).
pub async fn start(config: Config, span: tracing::Span) -> anyhow::Result<Tasks> {
    std::fs::create_dir_all(&config.data_dir)?;
    let secrets = config.keys.load()?;
    let client = ChainClient::new(&config.rpc, &config.chain_id)?.with_key(&secrets.account)?;
    let view = first_view(&client, &config.usage_proof, Duration::from_secs(60)).await?;
    let store = Store::open(&config.data_dir.join("aggregator.redb"))?;
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    let metrics_listener = match &config.metrics_listen {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    tracing::info!(parent: &span, listen = %config.listen, metrics = ?config.metrics_listen,
        account = client.address().unwrap_or_default(),
        terminals = view.terminals.len(), epoch = view.committee.epoch, "aggregator starting");
    let state = Arc::new(AppState::new(config, store, view, client)?);
    let tick = Duration::from_millis(state.config.timing.tick_ms.max(50));
    let mut tasks = Tasks::new(span);

    // C2's dispute plus resolution windows, once read (by the keeper; the pruner waits for it).
    let c2_windows = Arc::new(AtomicU64::new(UNKNOWN));

    tasks.spawn("view refresher", {
        let s = state.clone();
        move |token| async move {
            // Every 5 s, or at once when ingest met an unknown terminal.
            loop {
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_secs(5)) => {}
                    () = s.refresh.notified() => {}
                }
                match ChainView::load(&s.client, &s.config.usage_proof).await {
                    Ok(v) => *s.view.write().await = Arc::new(v),
                    Err(e) => tracing::warn!(error = %e, "chain view refresh failed"),
                }
                if !tasks::tick(&token, Duration::from_millis(500)).await {
                    return Ok(());
                }
            }
        }
    });

    tasks.spawn("follower", {
        let s = state.clone();
        move |token| async move {
            while tasks::tick(&token, tick).await {
                match protocol::follow(&s).await {
                    // The leader acts on what the follower has read.
                    Ok(()) => s.followed.notify_one(),
                    Err(e) => tracing::warn!(error = %e, "following the chain failed"),
                }
            }
            Ok(())
        }
    });

    tasks.spawn("leader", {
        let s = state.clone();
        move |token| async move {
            loop {
                tokio::select! {
                    () = token.cancelled() => return Ok(()),
                    () = s.followed.notified() => {}
                }
                {
                    let now = Instant::now();
                    s.inflight.lock().await.retain(|_, until| *until > now);
                }
                if let Err(e) = protocol::lead(&s).await {
                    tracing::warn!(error = %e, "leading failed");
                }
                s.metrics.lead_passes.inc();
            }
        }
    });

    tasks.spawn("pruner", {
        let s = state.clone();
        let known_windows = c2_windows.clone();
        move |token| async move {
            // Windows that can no longer be proven or disputed are forgotten (once C2's windows
            // are known), every 120 protocol ticks.
            while tasks::tick(&token, tick.saturating_mul(120)).await {
                let dispute_seconds = known_windows.load(Ordering::Relaxed);
                if dispute_seconds == UNKNOWN {
                    continue;
                }
                let keep = {
                    let view = s.view.read().await;
                    protocol::retention(
                        crate::now_ms() / 1_000,
                        view.window_seconds,
                        view.period_seconds,
                        view.grace_seconds,
                        dispute_seconds,
                    )
                };
                match s.store.prune(keep) {
                    Ok(n) if n > 0 => tracing::info!(?keep, deleted = n, "pruned old samples"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "pruning failed"),
                }
            }
            Ok(())
        }
    });

    tasks.spawn("keeper", {
        let s = state.clone();
        move |token| async move {
            // In its own task: it never waits for a block, and never holds up the leader.
            let mut keeper = Keeper::default();
            let mut dispute_seconds = None;
            while tasks::tick(&token, tick.saturating_mul(8)).await {
                if dispute_seconds.is_none() {
                    dispute_seconds =
                        dispute_and_resolution_seconds(&s.client, &s.config.period_proof)
                            .await
                            .map_err(|e| tracing::info!(error = %e, "C2 configuration not read"))
                            .ok();
                    if let Some(d) = dispute_seconds {
                        c2_windows.store(d.min(UNKNOWN - 1), Ordering::Relaxed);
                    }
                }
                let setup = {
                    let view = s.view.read().await;
                    KeeperSetup {
                        index: s.config.index,
                        members: view.committee.members.len(),
                        period_seconds: view.period_seconds,
                        grace_seconds: view.grace_seconds,
                        failover_ms: s.config.timing.failover_ms,
                        period_proof: s.config.period_proof.clone(),
                        settlement: s.config.settlement.clone(),
                        dispute_seconds,
                    }
                };
                match keeper
                    .pass(&s.store, &setup, &s.client, crate::now_ms())
                    .await
                {
                    Ok(report) => {
                        s.metrics.keeper_passes.inc();
                        s.metrics.keeper_txs.inc_by(report.broadcast as u64);
                    }
                    Err(e) => tracing::warn!(error = %e, "keeper pass failed"),
                }
            }
            Ok(())
        }
    });

    if let Some(listener) = metrics_listener {
        let registry = state.metrics.registry.clone();
        tasks.spawn("metrics server", move |token| {
            usage_service::metrics::serve(listener, registry, token)
        });
    }

    tasks.spawn("api server", {
        let s = state.clone();
        move |token| async move {
            axum::serve(listener, router(s))
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await?;
            Ok(())
        }
    });
    Ok(tasks)
}
