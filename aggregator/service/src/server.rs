//! The HTTP server (ingest, peer protocol, metrics) and the background loops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use usage_sample::wire::{EVIDENCE_PATH, INGEST_PATH, PING_PATH};
use usage_client::ChainClient;

use crate::chainview::ChainView;
use crate::config::Config;
use crate::keeper::{Keeper, KeeperSetup};
use crate::p2p::{Envelope, Proposal, PROPOSE_PATH};
use crate::store::Store;
use crate::{ingest, protocol, AppState};

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

async fn metrics(State(state): State<Arc<AppState>>) -> String {
    state.metrics.render()
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
        .route("/metrics", get(metrics))
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

/// Runs the aggregator until interrupted.
pub async fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let secrets = config.keys.decode()?;
    let client = ChainClient::new(&config.rpc, &config.chain_id)?.with_key(&secrets.account)?;
    let view = first_view(&client, &config.usage_proof, Duration::from_secs(60)).await?;
    let store = Store::open(&config.data_dir.join("aggregator.redb"))?;
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    tracing::info!(index = config.index, listen = %config.listen, account = client.address().unwrap_or_default(),
        terminals = view.terminals.len(), epoch = view.committee.epoch, "aggregator starting");
    let state = Arc::new(AppState::new(config, store, view, client)?);

    // Chain view refresher: every 5 s, or at once when ingest met an unknown terminal.
    let s = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = s.refresh.notified() => {}
            }
            match ChainView::load(&s.client, &s.config.usage_proof).await {
                Ok(v) => *s.view.write().await = v,
                Err(e) => tracing::warn!(error = %e, "chain view refresh failed"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    // C2's dispute plus resolution windows, once read (by the keeper).
    let c2_windows = Arc::new(AtomicU64::new(UNKNOWN));

    // The protocol loop: follow, lead, forget old windows.
    let s = state.clone();
    let known_windows = c2_windows.clone();
    tokio::spawn(async move {
        let tick = Duration::from_millis(s.config.timing.tick_ms.max(50));
        let mut ticks = 0u64;
        loop {
            tokio::time::sleep(tick).await;
            if let Err(e) = protocol::follow(&s).await {
                tracing::warn!(error = %e, "following the chain failed");
                continue;
            }
            {
                let now = std::time::Instant::now();
                s.inflight.lock().await.retain(|_, until| *until > now);
            }
            if let Err(e) = protocol::lead(&s).await {
                tracing::warn!(error = %e, "leading failed");
            }
            s.metrics.lead_passes.fetch_add(1, Ordering::Relaxed);
            ticks += 1;
            // Windows that can no longer be proven or disputed are forgotten (once C2's
            // windows are known).
            let dispute_seconds = known_windows.load(Ordering::Relaxed);
            if ticks.is_multiple_of(120) && dispute_seconds != UNKNOWN {
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
        }
    });

    // The keeper, in its own task: it never waits for a block, and never holds up the leader.
    let s = state.clone();
    tokio::spawn(async move {
        let tick = Duration::from_millis(s.config.timing.tick_ms.max(50).saturating_mul(8));
        let mut keeper = Keeper::default();
        let mut dispute_seconds = None;
        loop {
            tokio::time::sleep(tick).await;
            if dispute_seconds.is_none() {
                dispute_seconds = dispute_and_resolution_seconds(&s.client, &s.config.period_proof)
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
                    s.metrics.keeper_passes.fetch_add(1, Ordering::Relaxed);
                    s.metrics
                        .keeper_txs
                        .fetch_add(report.broadcast as u64, Ordering::Relaxed);
                }
                Err(e) => tracing::warn!(error = %e, "keeper pass failed"),
            }
        }
    });

    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
