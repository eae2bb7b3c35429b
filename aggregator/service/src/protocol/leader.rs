//! The leader role: for each closed, unproven window this member is responsible for (the
//! window's leader, or the next member after each failover timeout), propose its records to
//! the peers, collect a quorum of partial signatures and submit `SubmitBatch` to C1.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::Binary;
use usage_aggregator_core::batch::Batch;
use usage_aggregator_core::quorum::{leader_for, Quorum};
use usage_common::msg::usage_proof::ExecuteMsg as C1Execute;
use usage_common::record::{align, MAX_BATCH_RECORDS};

use super::records::{propose_records, tenants, Tenants, LEASE_QUERIES_PER_PASS};

use crate::chainview::ChainView;
use crate::config::Byzantine;
use crate::p2p::{Envelope, Proposal, Reply, PROPOSE_PATH};
use crate::{now_ms, AppState};

/// How long a submitted batch's records are held back from new proposals while its tx is
/// awaited.
pub const IN_FLIGHT_MS: u64 = 20_000;
/// How long a window waits before its unproven records are proposed again.
pub const RETRY_MS: u64 = 1_000;
/// How long a leader waits for a member's reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(4);

/// How long after its start an unproven window is still proposed (and its samples kept),
/// seconds: a day. C1 takes a record whose period has closed late, into the period still open,
/// so usage measured while the committee was down is proven once it is back, as long as it is
/// at most this old.
pub const BACKLOG_SECONDS: u64 = 86_400;

/// The starts of the windows a leader considers at `now_s`, `[from, to)`: every closed window
/// that started at most `backlog_seconds` ago.
pub fn backlog_range(now_s: u64, window_seconds: u64, backlog_seconds: u64) -> (u64, u64) {
    let len = window_seconds.max(1);
    (
        align(now_s.saturating_sub(backlog_seconds), len),
        align(now_s, len),
    )
}

/// Whether a leader at `now_ms` considers the window starting at `window_start`: it has closed
/// and started at most `backlog_seconds` ago. Whether its period still takes records does not
/// matter: C1 bills a record proven after its period closed in the period still open.
pub fn selectable(window_start: u64, now_ms: u64, view: &ChainView, backlog_seconds: u64) -> bool {
    let (from, to) = backlog_range(now_ms / 1_000, view.window_seconds, backlog_seconds);
    (from..to).contains(&window_start)
}

/// Which member is responsible for a window that closed (and settled) at `settled_ms`, at
/// `now_ms`: the window's leader, then the next one after each failover timeout.
pub fn responsible(
    window_start: u64,
    window_len: u64,
    members: usize,
    settled_ms: u64,
    now_ms: u64,
    failover_ms: u64,
) -> Option<usize> {
    if now_ms < settled_ms || members == 0 {
        return None;
    }
    let k = (now_ms - settled_ms) / failover_ms.max(1);
    let first = leader_for(window_start, window_len, members);
    Some((first + usize::try_from(k % members as u64).unwrap_or(0)) % members)
}

/// Proposes and submits the records this member is responsible for.
pub async fn lead(state: &Arc<AppState>) -> anyhow::Result<()> {
    let view = state.view.read().await.clone();
    let n = view.committee.members.len();
    let len = view.window_seconds.max(1);
    let now = now_ms();
    let (from, to) = backlog_range(now / 1_000, len, BACKLOG_SECONDS);
    let timing = state.config.timing;
    let mut keys: Vec<(String, u64)> = vec![];
    {
        let inflight = state.inflight.lock().await;
        let reader = state.store.reader()?;
        let mut retry_at = state.retry_at.lock().await;
        retry_at.retain(|w, _| *w >= from);
        for w in reader.pending_windows(from, to)? {
            // A window whose last round left records out waits before it is proposed again,
            // so members have time to receive late samples.
            if retry_at.get(&w).is_some_and(|t| Instant::now() < *t) {
                continue;
            }
            let settled = w
                .saturating_add(len)
                .saturating_mul(1_000)
                .saturating_add(timing.settle_ms);
            if responsible(w, len, n, settled, now, timing.failover_ms) != Some(state.config.index)
            {
                continue;
            }
            for t in reader.pending_terminals(w)? {
                let key = (t.clone(), w);
                if inflight.contains_key(&key) || reader.is_proven(&t, w)? {
                    continue;
                }
                keys.push(key);
            }
            if keys.len() >= MAX_BATCH_RECORDS * 4 {
                break;
            }
        }
    }
    let tenants = tenants(state, &view, &keys, LEASE_QUERIES_PER_PASS).await;
    let unleased = keys
        .iter()
        .filter(|k| matches!(tenants.get(*k), Some(None)))
        .count();
    state
        .metrics
        .windows_unleased
        .set(i64::try_from(unleased as u64).unwrap_or(i64::MAX));
    keys.retain(|k| matches!(tenants.get(k), Some(Some(_))));
    // A terminal's windows in order, so each batch holds runs of them.
    keys.sort();
    for chunk in keys.chunks(MAX_BATCH_RECORDS) {
        let started = Instant::now();
        let round = run_round(state, &view, chunk, &tenants, true).await;
        state
            .metrics
            .round_seconds
            .observe(started.elapsed().as_secs_f64());
        round?;
    }
    Ok(())
}

async fn ask(state: &AppState, url: String, envelope: Envelope) -> Option<Envelope> {
    let r = state
        .http
        .post(format!("{url}{PROPOSE_PATH}"))
        .json(&envelope)
        .timeout(REPLY_TIMEOUT)
        .send()
        .await
        .ok()?;
    r.json::<Envelope>().await.ok()
}

/// One proposal round over the records of `keys` (billed to their `tenants`); with `retry`, one
/// more round over the records at least `t` members agree with, built again as a batch of their
/// own.
async fn run_round(
    state: &Arc<AppState>,
    view: &ChainView,
    keys: &[(String, u64)],
    tenants: &Tenants,
    retry: bool,
) -> anyhow::Result<()> {
    let proposed = {
        let reader = state.store.reader()?;
        propose_records(&reader, view.window_seconds, keys, tenants)?
    };
    if proposed.records.is_empty() {
        return Ok(());
    }
    state.metrics.samples_unbilled.inc_by(proposed.unbilled);
    {
        let mut retry_at = state.retry_at.lock().await;
        let until = Instant::now() + Duration::from_millis(RETRY_MS);
        for r in &proposed.records {
            retry_at.insert(r.window_start, until);
        }
    }
    let mut records = proposed.records;
    if state.config.byzantine == Some(Byzantine::AlterRecords) {
        for r in &mut records {
            r.metrics.net_tx_bytes = r.metrics.net_tx_bytes.saturating_add(1_000_000);
        }
    }
    let batch = Batch::new(records)?;
    state.store.sign_spans(&batch.root(), &proposed.spans)?;
    let epoch = view.committee.epoch;
    let message = batch.signing_bytes(&state.config.chain_id, &state.config.usage_proof, epoch);
    let mut quorum = Quorum::new(view.committee.clone(), message.clone());
    quorum
        .add(
            state.config.index,
            state.key_for(&view.committee).sign(&message),
        )
        .map_err(|e| anyhow::anyhow!("own partial: {e}"))?;
    let round = format!(
        "{}-{}-{}",
        state.config.index,
        now_ms(),
        batch.records().len()
    );
    let proposal = Proposal::new(round.clone(), epoch, &batch.bytes());
    let envelope = Envelope::seal(
        state.config.index,
        &state.peer_key,
        &state.config.chain_id,
        &proposal,
    )?;
    let asks: Vec<_> = state
        .config
        .others()
        .map(|p| {
            let s = state.clone();
            let (url, e) = (p.url.clone(), envelope.clone());
            tokio::spawn(async move { ask(&s, url, e).await })
        })
        .collect();
    // Per record: how many members do not dispute it (this one does not).
    let mut support: BTreeMap<(String, u64), usize> = batch
        .records()
        .iter()
        .map(|r| ((r.terminal_id.clone(), r.window_start), 1))
        .collect();
    for a in asks {
        let Ok(Some(reply)) = a.await else { continue };
        let from = reply.from;
        let Ok(body) = reply.open::<Reply>(&state.config.peers, &state.config.chain_id) else {
            tracing::warn!(from, "unauthenticated reply ignored");
            continue;
        };
        match body {
            Reply::Sign { round: r, partial } if r == round => {
                let partial: Option<[u8; 96]> =
                    hex::decode(&partial).ok().and_then(|p| p.try_into().ok());
                match partial.map(|p| quorum.add(from, p)) {
                    Some(Ok(_)) => {
                        for v in support.values_mut() {
                            *v += 1;
                        }
                    }
                    other => {
                        state.metrics.partials_refused.inc();
                        tracing::warn!(from, ?other, "partial signature refused");
                    }
                }
            }
            Reply::Dispute { round: r, disputed } if r == round => {
                let set: BTreeSet<(String, u64)> = disputed
                    .into_iter()
                    .map(|d| (d.terminal_id, d.window_start))
                    .collect();
                for (k, v) in support.iter_mut() {
                    if !set.contains(k) {
                        *v += 1;
                    }
                }
            }
            other => tracing::info!(from, ?other, "proposal not signed"),
        }
    }
    if let Some(signature) = quorum.signature() {
        return submit(state, &batch, signature).await;
    }
    state.metrics.rounds_failed.inc();
    let threshold = view.committee.threshold as usize;
    let agreed: Vec<(String, u64)> = batch
        .records()
        .iter()
        .map(|r| (r.terminal_id.clone(), r.window_start))
        .filter(|k| support.get(k).copied().unwrap_or(0) >= threshold)
        .collect();
    tracing::info!(records = batch.records().len(), agreed = agreed.len(), progress = ?quorum.progress(), "round below threshold");
    if retry && !agreed.is_empty() && agreed.len() < batch.records().len() {
        return Box::pin(run_round(state, view, &agreed, tenants, false)).await;
    }
    Ok(())
}

async fn submit(
    state: &Arc<AppState>,
    batch: &Batch,
    signature: usage_common::ThresholdSignature,
) -> anyhow::Result<()> {
    let msg = C1Execute::SubmitBatch {
        records: Binary::from(batch.bytes()),
        signature,
    };
    let json = serde_json::to_vec(&msg)?;
    let records = batch.records().len() as u64;
    // A 1,000-record batch uses about 20 M SDK gas, the transaction's size included; it asks
    // for 30 M, so three fit the chain's 90 M block.
    let gas = 3_000_000 + 27_000 * records;
    let hash = match state
        .client
        .broadcast(&[(state.config.usage_proof.clone(), json)], gas)
        .await
    {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, records, "SubmitBatch not accepted");
            return Ok(());
        }
    };
    state.metrics.batches_submitted.inc();
    state.metrics.records_submitted.inc_by(records);
    tracing::info!(%hash, records, "SubmitBatch broadcast");
    let keys: Vec<(String, u64)> = batch
        .records()
        .iter()
        .map(|r| (r.terminal_id.clone(), r.window_start))
        .collect();
    {
        let mut inflight = state.inflight.lock().await;
        let until = Instant::now() + Duration::from_millis(IN_FLIGHT_MS);
        for k in &keys {
            inflight.insert(k.clone(), until);
        }
    }
    let s = state.clone();
    tokio::spawn(async move {
        match s
            .client
            .wait_tx(&hash, Duration::from_millis(IN_FLIGHT_MS))
            .await
        {
            Ok(o) if o.is_ok() => {
                tracing::info!(%hash, height = o.height, records, "batch committed")
            }
            Ok(o) => {
                tracing::warn!(%hash, code = o.code, log = %o.log, "batch refused by C1");
                // Perhaps a lease changed: read the registry again.
                s.refresh.notify_one();
            }
            Err(e) => tracing::warn!(%hash, error = %e, "batch not seen committed"),
        }
        // Committed records are marked proven by the follower; release the others.
        let mut inflight = s.inflight.lock().await;
        for k in &keys {
            inflight.remove(k);
        }
    });
    Ok(())
}
