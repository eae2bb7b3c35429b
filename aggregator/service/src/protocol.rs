//! The per-window batch protocol and the chain follower.
//!
//! Every `tick_ms` each member:
//! 1. **follows** the chain: reads the events of new blocks and records which (terminal, window)
//!    are proven and which periods have first proofs or a second proof;
//! 2. **leads** where it is responsible: for a closed window `W` not yet proven that started at
//!    most [`BACKLOG_SECONDS`] ago (a window whose period closed while the committee was down
//!    is proposed all the same: C1 bills it late, in the period still open), the responsible
//!    member is `leader_for(W) + k` (mod n), where `k` counts the failover timeouts elapsed
//!    since the window closed and settled. It proposes the window's unproven records (recomputed from the samples
//!    it holds) to every peer; members recompute each record and answer with a BLS partial over
//!    the batch digest, or with the records they dispute. With `>= t` valid partials (its own
//!    included) it submits `SubmitBatch`; otherwise it proposes once more the records at least
//!    `t` members agree with. Records left out stay pending and are proposed again later (late
//!    samples land in a later batch for the same window); C1 proves each (terminal, window)
//!    once, and a leader never proposes what it knows to be proven or in flight.
//!
//! A window's record starts where the terminal's previous record, as proven, ended
//! ([`usage_aggregator_core::aggregate`]): each member notes the samples every record it proposes
//! or co-signs read, and keeps those of the batch the chain accepts. So a sample that arrives
//! after its window was proven is billed with the next window, and a record never reads what
//! another proven record read.
//!
//! A window bills the tenant of the lease covering it ([`crate::chainview::LeaseBook`]), the
//! only tenant C1 takes a record of; samples naming another tenant bill nothing, and a window no
//! lease covers is never proposed (nothing can bill it). Members apply the same rule when they
//! check a proposal, so one record C1 would refuse never sinks a batch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cosmwasm_std::{Attribute, Binary, Event};
use usage_aggregator_core::aggregate::{aggregate_window, Span, WindowRecord};
use usage_aggregator_core::batch::Batch;
use usage_aggregator_core::quorum::{leader_for, Quorum};
use usage_client::ContractEvent;
use usage_common::events::{
    AccumulatorAppended, PeriodProven, TypedEvent, UsageBatchAccepted, UsageProofRecorded,
};
use usage_common::msg::usage_proof::{ExecuteMsg as C1Execute, LeaseResponse, QueryMsg as C1Query};
use usage_common::record::{align, decode_batch, UsageRecord, MAX_BATCH_RECORDS};

use crate::chainview::{ChainView, LeaseLookup};
use crate::config::Byzantine;
use crate::p2p::{Disputed, Envelope, Proposal, Reply, PROPOSE_PATH};
use crate::store::{
    PeriodKey, PeriodState, Reader, RecordSpan, RecordSpans, Retention, StoreError,
};
use crate::{now_ms, AppState};

/// How long a submitted batch's records are held back from new proposals while its tx is
/// awaited.
pub const IN_FLIGHT_MS: u64 = 20_000;
/// How long a window waits before its unproven records are proposed again.
pub const RETRY_MS: u64 = 1_000;
/// How long a leader waits for a member's reply.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(4);

/// Most `LeaseAt` queries one pass of the leader makes; windows left unknown wait for the next.
pub const LEASE_QUERIES_PER_PASS: usize = 64;

/// Who each (terminal, window) bills: `Some(tenant)`, the tenant of the lease covering it, or
/// `None` when no lease covers it. A key absent is not known (C1 could not be asked).
pub type Tenants = BTreeMap<(String, u64), Option<String>>;

/// The tenants of `keys` known without asking the chain (the view's latest leases and the lease
/// book), and the keys left to ask C1 about.
pub fn known_tenants(
    view: &ChainView,
    book: &crate::chainview::LeaseBook,
    keys: &[(String, u64)],
    now_s: u64,
) -> (Tenants, Vec<(String, u64)>) {
    let mut tenants = Tenants::new();
    let mut unknown = vec![];
    for (t, w) in keys {
        match book.lookup(view, t, *w, now_s) {
            LeaseLookup::Covered(lease) => {
                tenants.insert((t.clone(), *w), Some(lease.tenant.into_string()));
            }
            LeaseLookup::Uncovered => {
                tenants.insert((t.clone(), *w), None);
            }
            LeaseLookup::Unknown => unknown.push((t.clone(), *w)),
        }
    }
    (tenants, unknown)
}

/// The tenants of `keys`: [`known_tenants`], then C1's `LeaseAt` for the others (at most
/// `max_queries` of them; a lease learnt answers for the next windows it covers without another
/// query). Keys still unknown are left out.
pub async fn tenants(
    state: &AppState,
    view: &ChainView,
    keys: &[(String, u64)],
    max_queries: usize,
) -> Tenants {
    let now_s = now_ms() / 1_000;
    let (mut tenants, unknown) = {
        let book = state.leases.lock().unwrap_or_else(|e| e.into_inner());
        known_tenants(view, &book, keys, now_s)
    };
    let mut queries = 0;
    for (t, w) in unknown {
        let known = {
            let book = state.leases.lock().unwrap_or_else(|e| e.into_inner());
            match book.lookup(view, &t, w, now_s) {
                LeaseLookup::Covered(lease) => Some(Some(lease.tenant.into_string())),
                LeaseLookup::Uncovered => Some(None),
                LeaseLookup::Unknown => None,
            }
        };
        if let Some(tenant) = known {
            tenants.insert((t, w), tenant);
            continue;
        }
        if queries >= max_queries {
            continue;
        }
        queries += 1;
        let query = C1Query::LeaseAt {
            terminal_id: t.clone(),
            window_start: w,
        };
        match state
            .client
            .smart::<_, LeaseResponse>(&state.config.usage_proof, &query)
            .await
        {
            Ok(r) => {
                let tenant = r.lease.as_ref().map(|l| l.tenant.to_string());
                state
                    .leases
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .learn(&t, w, r.lease, now_ms() / 1_000);
                tenants.insert((t, w), tenant);
            }
            Err(e) => tracing::warn!(terminal = %t, window = w, error = %e, "LeaseAt failed"),
        }
    }
    tenants
}

/// The spans of records built earlier in the same batch, by (terminal, window).
pub type BatchSpans = BTreeMap<(String, u64), Span>;

/// What this member makes of a (terminal, window).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Own {
    /// Its record.
    Record(WindowRecord),
    /// No record: no sample of the window names the tenant (or none is held).
    Nothing,
    /// A later window of the terminal was proven by a batch this member did not sign: it
    /// cannot tell where that record started, so it builds nothing that might read the same
    /// samples.
    Superseded,
}

/// This member's record of `(terminal, window)` (windows of `window_seconds`) billed to
/// `tenant`, from the samples it holds: the chain starts where the record of the window holding
/// the last sample before this one ended — in `batch` (built earlier in the same batch), or as
/// proven — or at that last sample when this member knows no such record; it reads nothing a
/// later proven window read.
pub fn build_record(
    reader: &Reader,
    window_seconds: u64,
    terminal: &str,
    window_start: u64,
    tenant: &str,
    batch: &BatchSpans,
) -> Result<Own, StoreError> {
    let len = window_seconds;
    let Some(first) = reader.window_seqs(terminal, window_start)?.first().copied() else {
        return Ok(Own::Nothing);
    };
    let until = match reader.next_proven_after(terminal, window_start)? {
        None => None,
        Some(later) => match reader.span(terminal, later)? {
            Some(proven) => Some(proven.span.start()),
            None => return Ok(Own::Superseded),
        },
    };
    let baseline = match reader.sample_before(terminal, first)? {
        None => None,
        Some(previous) => {
            let before = align(previous.taken_at_ms / 1_000, len.max(1));
            let key = (terminal.to_string(), before);
            let used = match batch.get(&key) {
                Some(span) => Some(span.last),
                None => reader.span(terminal, before)?.map(|r| r.span.last),
            };
            match used {
                Some(seq) if seq < previous.seq => {
                    reader.decoded_sample(terminal, seq)?.or(Some(previous))
                }
                _ => Some(previous),
            }
        }
    };
    let end_ms = window_start.saturating_add(len).saturating_mul(1_000);
    let samples = reader.samples_from(terminal, baseline.as_ref().map(|b| b.seq), until, end_ms)?;
    Ok(
        match aggregate_window(
            terminal,
            tenant,
            window_start,
            len,
            baseline.as_ref(),
            &samples,
            until,
        ) {
            Ok(Some(record)) => Own::Record(record),
            Ok(None) => Own::Nothing,
            Err(e) => {
                tracing::warn!(terminal, window_start, error = %e, "window not aggregated");
                Own::Nothing
            }
        },
    )
}

/// This member's record of `(terminal, window)` (windows of `window_seconds`) from the samples
/// it holds: the proven record rebuilt from the samples it read when this member signed it,
/// otherwise [`build_record`] billed to the tenant its first sample in the window names.
pub fn own_record(
    reader: &Reader,
    window_seconds: u64,
    terminal: &str,
    window_start: u64,
) -> Option<UsageRecord> {
    let end_ms = window_start
        .saturating_add(window_seconds)
        .saturating_mul(1_000);
    if let Some(proven) = reader.span(terminal, window_start).ok()? {
        let span = proven.span;
        let baseline = match span.base {
            Some(b) => Some(reader.decoded_sample(terminal, b).ok()??),
            None => None,
        };
        let samples = reader
            .samples_from(terminal, span.base, Some(span.last), end_ms)
            .ok()?;
        return aggregate_window(
            terminal,
            &proven.tenant,
            window_start,
            window_seconds,
            baseline.as_ref(),
            &samples,
            Some(span.last),
        )
        .ok()
        .flatten()
        .map(|w| w.record);
    }
    let first = *reader.window_seqs(terminal, window_start).ok()?.first()?;
    let tenant = reader.decoded_sample(terminal, first).ok()??.tenant;
    match build_record(
        reader,
        window_seconds,
        terminal,
        window_start,
        &tenant,
        &BatchSpans::new(),
    ) {
        Ok(Own::Record(w)) => Some(w.record),
        _ => None,
    }
}

/// What a leader proposes for some (terminal, window) keys.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Proposed {
    /// The records, one per key that has one, in batch order.
    pub records: Vec<UsageRecord>,
    /// The samples each read.
    pub spans: RecordSpans,
    /// Samples left out of them for naming another tenant than their window's lease.
    pub unbilled: u64,
    /// Keys no lease covers: nothing can bill them, so they are not proposed.
    pub unleased: u64,
}

/// The records a leader proposes as one batch for `keys`: each window billed to the tenant of
/// its lease, a terminal's windows in order, each starting where the one before it in the batch
/// ended; windows no lease covers, or whose lease is unknown, are left out.
pub fn propose_records(
    reader: &Reader,
    window_seconds: u64,
    keys: &[(String, u64)],
    tenants: &Tenants,
) -> Result<Proposed, StoreError> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let mut out = Proposed::default();
    let mut batch = BatchSpans::new();
    for key in keys {
        let tenant = match tenants.get(&key) {
            Some(Some(tenant)) => tenant,
            Some(None) => {
                out.unleased += 1;
                continue;
            }
            None => continue,
        };
        let (t, w) = &key;
        let Own::Record(built) = build_record(reader, window_seconds, t, *w, tenant, &batch)?
        else {
            continue;
        };
        if built.unbilled > 0 {
            tracing::info!(terminal = %t, window = w, samples = built.unbilled, tenant = %tenant,
                "samples naming another tenant than the lease's are not billed");
        }
        out.unbilled += built.unbilled;
        batch.insert(key.clone(), built.span);
        out.spans.push((
            key,
            RecordSpan {
                tenant: tenant.clone(),
                span: built.span,
            },
        ));
        out.records.push(built.record);
    }
    Ok(out)
}

/// The records of a proposal (in batch order) this member disputes at `now_ms`, and why: an
/// open window, one already proven, one whose lease is unknown (`lease_unknown`) or covers none
/// of it (`no_lease`), a record billing another tenant than the lease's (`tenant`), one this
/// member holds no samples for (`missing`), computes differently (`mismatch`) or cannot tell
/// from a later window's proof (`superseded`). With the spans of the records it agrees with.
pub fn judge(
    reader: &Reader,
    window_seconds: u64,
    records: &[UsageRecord],
    tenants: &Tenants,
    now_ms: u64,
) -> (Vec<Disputed>, RecordSpans) {
    let mut disputed = vec![];
    let mut agreed = vec![];
    let mut batch = BatchSpans::new();
    for r in records {
        let closes_ms = r
            .window_start
            .saturating_add(window_seconds)
            .saturating_mul(1_000);
        let key = (r.terminal_id.clone(), r.window_start);
        let reason = if now_ms < closes_ms {
            Some("open")
        } else if reader
            .is_proven(&r.terminal_id, r.window_start)
            .unwrap_or(false)
        {
            Some("proven")
        } else {
            match tenants.get(&key) {
                None => Some("lease_unknown"),
                Some(None) => Some("no_lease"),
                Some(Some(tenant)) if *tenant != r.tenant => Some("tenant"),
                Some(Some(tenant)) => match build_record(
                    reader,
                    window_seconds,
                    &r.terminal_id,
                    r.window_start,
                    tenant,
                    &batch,
                ) {
                    Ok(Own::Record(own)) if own.record == *r => {
                        batch.insert(key.clone(), own.span);
                        agreed.push((
                            key,
                            RecordSpan {
                                tenant: tenant.clone(),
                                span: own.span,
                            },
                        ));
                        None
                    }
                    Ok(Own::Record(_)) => Some("mismatch"),
                    Ok(Own::Superseded) => Some("superseded"),
                    _ => Some("missing"),
                },
            }
        };
        if let Some(reason) = reason {
            disputed.push(Disputed {
                terminal_id: r.terminal_id.clone(),
                window_start: r.window_start,
                reason: reason.into(),
            });
        }
    }
    (disputed, agreed)
}

/// A member's answer to `proposal`.
pub async fn answer(state: &Arc<AppState>, view: &ChainView, proposal: &Proposal) -> Reply {
    if proposal.epoch != view.committee.epoch {
        return Reply::Refuse {
            reason: format!(
                "epoch {} is not the chain's {}",
                proposal.epoch, view.committee.epoch
            ),
        };
    }
    let Some(bytes) = proposal.batch_bytes() else {
        return Reply::Refuse {
            reason: "records are not base64".into(),
        };
    };
    let records: Vec<UsageRecord> = match decode_batch(&bytes) {
        Ok(b) => b.records.into_iter().map(|(r, _)| r).collect(),
        Err(e) => {
            return Reply::Refuse {
                reason: format!("malformed batch: {e}"),
            }
        }
    };
    let batch = match Batch::new(records) {
        Ok(b) if b.bytes() == bytes => b,
        Ok(_) => {
            return Reply::Refuse {
                reason: "records not in canonical order".into(),
            }
        }
        Err(e) => {
            return Reply::Refuse {
                reason: e.to_string(),
            }
        }
    };
    let keys: Vec<(String, u64)> = batch
        .records()
        .iter()
        .map(|r| (r.terminal_id.clone(), r.window_start))
        .collect();
    let tenants = tenants(state, view, &keys, usize::MAX).await;
    let (s, view, round) = (state.clone(), view.clone(), proposal.round.clone());
    tokio::task::spawn_blocking(move || sign_or_dispute(&s, &view, round, &batch, &tenants))
        .await
        .unwrap_or(Reply::Refuse {
            reason: "internal error".into(),
        })
}

/// Signs `batch` when this member agrees with every record, or lists those it disputes.
fn sign_or_dispute(
    state: &AppState,
    view: &ChainView,
    round: String,
    batch: &Batch,
    tenants: &Tenants,
) -> Reply {
    let reader = match state.store.reader() {
        Ok(r) => r,
        Err(e) => {
            return Reply::Refuse {
                reason: e.to_string(),
            }
        }
    };
    let (disputed, spans) = judge(
        &reader,
        view.window_seconds,
        batch.records(),
        tenants,
        now_ms(),
    );
    drop(reader);
    if !disputed.is_empty() {
        state
            .metrics
            .proposals_disputed
            .fetch_add(1, Ordering::Relaxed);
        return Reply::Dispute { round, disputed };
    }
    if let Err(e) = state.store.sign_spans(&batch.root(), &spans) {
        return Reply::Refuse {
            reason: e.to_string(),
        };
    }
    let message = batch.signing_bytes(
        &state.config.chain_id,
        &state.config.usage_proof,
        view.committee.epoch,
    );
    let partial = match state.config.byzantine {
        Some(Byzantine::WrongRoot) => {
            let mut other = message.clone();
            if let Some(last) = other.last_mut() {
                *last ^= 0xff;
            }
            hex::encode(state.key_for(&view.committee).sign(&other))
        }
        Some(Byzantine::ReplayPartials) => {
            let mut first = state
                .first_partial
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            first
                .get_or_insert_with(|| hex::encode(state.key_for(&view.committee).sign(&message)))
                .clone()
        }
        _ => hex::encode(state.key_for(&view.committee).sign(&message)),
    };
    state
        .metrics
        .partials_signed
        .fetch_add(1, Ordering::Relaxed);
    Reply::Sign { round, partial }
}

/// What the events of one block tell this member: the (terminal, window) first proofs and the
/// periods whose keeper state they raise.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BlockFacts {
    /// (terminal, window) pairs C1 proved.
    pub proven: Vec<(String, u64)>,
    /// Periods with first proofs (`Recorded`) or a second proof (`Proven`).
    pub periods: Vec<(PeriodKey, PeriodState)>,
    /// The Merkle root of the batch that proved each (terminal, window).
    pub roots: BTreeMap<(String, u64), [u8; 32]>,
}

/// The attribute the chain puts first on every event a contract emits: its address. Contracts
/// cannot set it themselves (keys starting with `_` are reserved).
const CONTRACT_ADDRESS: &str = "_contract_address";

/// `event` as a contract event of the contract at `contract`: the chain's `wasm-` event whose
/// `_contract_address` is that address; `None` for an event of any other origin.
fn emitted_by(event: &ContractEvent, contract: &str) -> Option<Event> {
    let ty = event.kind.strip_prefix("wasm-")?;
    if event.get(CONTRACT_ADDRESS) != Some(contract) {
        return None;
    }
    let mut ev = Event::new(ty);
    ev.attributes = event
        .attributes
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(key, value)| Attribute {
            key: key.clone(),
            value: value.clone(),
        })
        .collect();
    Some(ev)
}

/// Interprets the events of one block. Only C1 (`c1`) proves usage and fills accumulators, and
/// only C2 (`c2`) seals periods: an event of those types emitted by any other contract (anyone
/// may deploy one) is ignored, and so is an event whose attributes do not parse.
pub fn interpret_block(events: &[ContractEvent], c1: &str, c2: &str) -> BlockFacts {
    let mut facts = BlockFacts::default();
    // A batch's `usage_proof` events follow its `usage_batch` event.
    let mut root: Option<[u8; 32]> = None;
    for e in events {
        if let Some(ev) = emitted_by(e, c1) {
            if let Ok(b) = UsageBatchAccepted::from_event(&ev) {
                root = b.root.as_slice().try_into().ok();
            } else if let Ok(p) = UsageProofRecorded::from_event(&ev) {
                if let Some(r) = root {
                    facts
                        .roots
                        .insert((p.terminal_id.clone(), p.window_start), r);
                }
                facts.proven.push((p.terminal_id, p.window_start));
            } else if let Ok(a) = AccumulatorAppended::from_event(&ev) {
                facts.periods.push((
                    (a.provider, a.tenant, a.period_start),
                    PeriodState::Recorded,
                ));
            }
        } else if let Some(ev) = emitted_by(e, c2) {
            if let Ok(p) = PeriodProven::from_event(&ev) {
                facts
                    .periods
                    .push(((p.provider, p.tenant, p.period_start), PeriodState::Proven));
            }
        }
    }
    facts
}

/// Reads the events of blocks after the last one read (at most 50 per call).
pub async fn follow(state: &AppState) -> anyhow::Result<()> {
    let (latest, _) = state.client.status().await?;
    let from = state.store.followed_height()? + 1;
    for height in from..=latest.min(from + 49) {
        let block = state.client.block_events(height).await?;
        let BlockFacts {
            proven,
            periods,
            roots,
        } = interpret_block(
            &block.events,
            &state.config.usage_proof,
            &state.config.period_proof,
        );
        state.store.raise_period(&periods)?;
        state.store.follow(height, block.time, &proven, &roots)?;
        if !proven.is_empty() {
            let mut inflight = state.inflight.lock().await;
            for k in &proven {
                inflight.remove(k);
            }
        }
        state
            .metrics
            .followed_height
            .store(height, Ordering::Relaxed);
    }
    Ok(())
}

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
        .store(unleased as u64, Ordering::Relaxed);
    keys.retain(|k| matches!(tenants.get(k), Some(Some(_))));
    // A terminal's windows in order, so each batch holds runs of them.
    keys.sort();
    for chunk in keys.chunks(MAX_BATCH_RECORDS) {
        run_round(state, &view, chunk, &tenants, true).await?;
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
    state
        .metrics
        .samples_unbilled
        .fetch_add(proposed.unbilled, Ordering::Relaxed);
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
                        state
                            .metrics
                            .partials_refused
                            .fetch_add(1, Ordering::Relaxed);
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
    state.metrics.rounds_failed.fetch_add(1, Ordering::Relaxed);
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
    // A 1,000-record batch uses about 25 M SDK gas, the transaction's size included; it asks
    // for 30 M, so two fit the chain's 60 M block.
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
    state
        .metrics
        .batches_submitted
        .fetch_add(1, Ordering::Relaxed);
    state
        .metrics
        .records_submitted
        .fetch_add(records, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chainview::tests::{lease, view_with_lease};
    use crate::chainview::LeaseBook;
    use crate::store::{Accepted, Store};
    use usage_sample::sample::Sample;
    use usage_sample::simulate::SimTerminal;
    use usage_sample::tee::SignedSample;

    /// A member's store holding the samples of terminal `t1` (windows of 10 s).
    struct Held {
        _dir: tempfile::TempDir,
        store: Store,
        terminal: SimTerminal,
        seq: u64,
    }

    impl Held {
        fn new() -> Held {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("a.redb")).unwrap();
            let mut terminal = SimTerminal::new("protocol", 1, "usage1a");
            terminal.terminal_id = "t1".into();
            Held {
                _dir: dir,
                store,
                terminal,
                seq: 0,
            }
        }

        /// Stores the terminal's next sample, taken at `at_ms` and naming `tenant`.
        fn put(&mut self, at_ms: u64, tenant: &str) -> Sample {
            self.seq += 1;
            let mut sample = self.terminal.sample(self.seq, at_ms);
            sample.tenant = tenant.into();
            let signed = SignedSample::sign(&sample, &self.terminal.key).unwrap();
            self.store
                .put_samples(&[Accepted {
                    signed,
                    sample: sample.clone(),
                    window_start: align(at_ms / 1_000, 10),
                }])
                .unwrap();
            sample
        }
    }

    /// What the view and `book` tell of `keys`, at a time every window here has closed.
    fn leases_of(view: &ChainView, book: &LeaseBook, keys: &[(String, u64)]) -> Tenants {
        known_tenants(view, book, keys, 1_000_000).0
    }

    fn key(w: u64) -> Vec<(String, u64)> {
        vec![("t1".to_string(), w)]
    }

    #[test]
    fn a_window_bills_the_tenant_of_its_lease_and_not_the_samples_naming_another() {
        let mut held = Held::new();
        // The operator still names tenant a while the window is leased to b.
        held.put(1_000_000, "usage1a");
        let a = held.put(1_002_000, "usage1a");
        held.put(1_004_000, "usage1b");
        let b = held.put(1_006_000, "usage1b");
        let view = view_with_lease(Some(lease("usage1b", 1_000, None)));
        let tenants = leases_of(&view, &LeaseBook::default(), &key(1_000));
        let reader = held.store.reader().unwrap();
        let proposed = propose_records(&reader, 10, &key(1_000), &tenants).unwrap();
        assert_eq!(proposed.records.len(), 1);
        let r = &proposed.records[0];
        assert_eq!(r.tenant, "usage1b");
        // Only what the samples naming b measured: from a's last sample on.
        assert_eq!(r.metrics.net_rx_bytes, b.net_rx_bytes - a.net_rx_bytes);
        assert_eq!(proposed.unbilled, 2);
        assert_eq!(proposed.unleased, 0);
    }

    #[test]
    fn a_window_no_lease_covers_is_not_proposed() {
        let mut held = Held::new();
        held.put(1_010_000, "usage1a");
        held.put(1_012_000, "usage1a");
        let reader = held.store.reader().unwrap();
        // Leased until 1010, and never leased.
        for view in [
            view_with_lease(Some(lease("usage1a", 1_000, Some(1_010)))),
            view_with_lease(None),
        ] {
            let tenants = leases_of(&view, &LeaseBook::default(), &key(1_010));
            let proposed = propose_records(&reader, 10, &key(1_010), &tenants).unwrap();
            assert!(proposed.records.is_empty(), "{proposed:?}");
            assert_eq!(proposed.unleased, 1);
        }
    }

    #[test]
    fn windows_before_the_latest_lease_bill_the_lease_covering_them() {
        let mut held = Held::new();
        held.put(1_000_000, "usage1a");
        held.put(1_002_000, "usage1a");
        let view = view_with_lease(Some(lease("usage1b", 2_000, None)));
        let mut book = LeaseBook::default();
        // Until C1 told who leased window 1000, it is neither proposed nor counted unleased.
        let (tenants, ask) = known_tenants(&view, &book, &key(1_000), 3_000);
        assert_eq!(ask, key(1_000));
        let reader = held.store.reader().unwrap();
        assert_eq!(
            propose_records(&reader, 10, &key(1_000), &tenants).unwrap(),
            Proposed::default()
        );
        book.learn(
            "t1",
            1_000,
            Some(lease("usage1a", 1_000, Some(2_000))),
            3_000,
        );
        let tenants = leases_of(&view, &book, &key(1_000));
        let proposed = propose_records(&reader, 10, &key(1_000), &tenants).unwrap();
        assert_eq!(proposed.records.len(), 1);
        assert_eq!(proposed.records[0].tenant, "usage1a");
    }

    /// Tenant `usage1a` leases `t1` for good.
    fn leased() -> ChainView {
        view_with_lease(Some(lease("usage1a", 0, None)))
    }

    fn keys(windows: &[u64]) -> Vec<(String, u64)> {
        windows.iter().map(|w| ("t1".to_string(), *w)).collect()
    }

    /// The records this member proposes as one batch for `windows` (leased to `usage1a`),
    /// noting the samples each read.
    fn propose(held: &Held, windows: &[u64]) -> Vec<UsageRecord> {
        let keys = keys(windows);
        let tenants = leases_of(&leased(), &LeaseBook::default(), &keys);
        let proposed = {
            let reader = held.store.reader().unwrap();
            propose_records(&reader, 10, &keys, &tenants).unwrap()
        };
        if let Ok(batch) = Batch::new(proposed.records.clone()) {
            held.store
                .sign_spans(&batch.root(), &proposed.spans)
                .unwrap();
        }
        proposed.records
    }

    /// Why this member disputes the batch of `records`; when it disputes nothing it co-signs,
    /// noting the samples each record read.
    fn cosign(held: &Held, records: &[UsageRecord]) -> Vec<String> {
        let batch = Batch::new(records.to_vec()).unwrap();
        let keys: Vec<(String, u64)> = records
            .iter()
            .map(|r| (r.terminal_id.clone(), r.window_start))
            .collect();
        let tenants = leases_of(&leased(), &LeaseBook::default(), &keys);
        let (disputed, spans) = {
            let reader = held.store.reader().unwrap();
            judge(&reader, 10, batch.records(), &tenants, 2_000_000_000)
        };
        if disputed.is_empty() {
            held.store.sign_spans(&batch.root(), &spans).unwrap();
        }
        disputed.into_iter().map(|d| d.reason).collect()
    }

    /// This member reads the block in which the chain proved the batch of `records`.
    fn proven(held: &Held, records: &[UsageRecord]) {
        let root = Batch::new(records.to_vec()).unwrap().root();
        let keys: Vec<(String, u64)> = records
            .iter()
            .map(|r| (r.terminal_id.clone(), r.window_start))
            .collect();
        let roots = keys.iter().map(|k| (k.clone(), root)).collect();
        held.store.follow(1, 2_000, &keys, &roots).unwrap();
    }

    fn rx(records: &[UsageRecord]) -> u64 {
        records.iter().map(|r| r.metrics.net_rx_bytes).sum()
    }

    /// Members holding the same samples of `t1`.
    fn members(n: usize) -> Vec<Held> {
        (0..n).map(|_| Held::new()).collect()
    }

    /// Every member receives the next sample, taken at `at_ms`.
    fn receive(members: &mut [Held], at_ms: u64) -> Sample {
        let samples: Vec<Sample> = members
            .iter_mut()
            .map(|m| m.put(at_ms, "usage1a"))
            .collect();
        assert!(samples.windows(2).all(|p| p[0] == p[1]));
        samples[0].clone()
    }

    #[test]
    fn a_sample_arriving_after_its_window_was_proven_is_billed_with_the_next_window() {
        // A leader, a member that co-signed window 1000, one that was away.
        let mut m = members(3);
        let first = receive(&mut m, 1_000_000);
        let used = receive(&mut m, 1_004_000);
        let v = propose(&m[0], &[1_000]);
        assert!(cosign(&m[1], &v).is_empty());
        for held in &m {
            proven(held, &v);
        }
        // Taken in window 1000, received after its record was proven.
        let late = receive(&mut m, 1_008_000);
        receive(&mut m, 1_011_000);
        let last = receive(&mut m, 1_015_000);
        let w = propose(&m[0], &[1_010]);
        assert_eq!(w.len(), 1);
        // Window 1010 reads on from the last sample window 1000's record used, so it bills what
        // the late sample measured.
        assert!(late.net_rx_bytes > used.net_rx_bytes);
        assert_eq!(
            w[0].metrics.net_rx_bytes,
            last.net_rx_bytes - used.net_rx_bytes
        );
        // Nothing lost, nothing counted twice.
        assert_eq!(rx(&v) + rx(&w), last.net_rx_bytes - first.net_rx_bytes);
        // The member that co-signed window 1000 computes the same and signs; the one that was
        // away does not know where that record ended.
        assert!(cosign(&m[1], &w).is_empty());
        assert_eq!(cosign(&m[2], &w), vec!["mismatch"]);
    }

    #[test]
    fn every_increment_is_counted_once_however_the_windows_proofs_interleave() {
        let mut m = members(2);
        let first = receive(&mut m, 1_000_000);
        receive(&mut m, 1_004_000);
        // Window 1000 is proposed, but its round fails.
        let failed = propose(&m[0], &[1_000]);
        assert!(cosign(&m[1], &failed).is_empty());
        let late = receive(&mut m, 1_008_000);
        receive(&mut m, 1_012_000);
        let last = receive(&mut m, 1_016_000);
        // Window 1010 is proven first: it starts at the last sample before it, the late one.
        let w = propose(&m[0], &[1_010]);
        assert!(cosign(&m[1], &w).is_empty());
        for held in &m {
            proven(held, &w);
        }
        assert_eq!(
            w[0].metrics.net_rx_bytes,
            last.net_rx_bytes - late.net_rx_bytes
        );
        // Window 1000, proposed again, reads up to where window 1010 started, not beyond.
        let v = propose(&m[0], &[1_000]);
        assert!(cosign(&m[1], &v).is_empty());
        assert_eq!(rx(&v) + rx(&w), last.net_rx_bytes - first.net_rx_bytes);
        // A member that did not sign window 1010's batch cannot tell where it started, and
        // proposes or signs nothing for window 1000.
        let mut away = members(1);
        for at in [1_000_000, 1_004_000, 1_008_000, 1_012_000, 1_016_000] {
            receive(&mut away, at);
        }
        proven(&away[0], &w);
        assert!(propose(&away[0], &[1_000]).is_empty());
        assert_eq!(cosign(&away[0], &v), vec!["superseded"]);
    }

    #[test]
    fn windows_of_one_batch_each_start_where_the_one_before_in_the_batch_ended() {
        let mut m = members(2);
        let first = receive(&mut m, 1_000_000);
        receive(&mut m, 1_004_000);
        receive(&mut m, 1_012_000);
        receive(&mut m, 1_024_000);
        let last = receive(&mut m, 1_026_000);
        let batch = propose(&m[0], &[1_000, 1_010, 1_020]);
        assert_eq!(batch.len(), 3);
        assert!(cosign(&m[1], &batch).is_empty());
        assert_eq!(rx(&batch), last.net_rx_bytes - first.net_rx_bytes);
        // Proven, each is rebuilt from the samples it read (as a dispute's resolution does).
        proven(&m[1], &batch);
        let reader = m[1].store.reader().unwrap();
        for r in &batch {
            assert_eq!(
                own_record(&reader, 10, &r.terminal_id, r.window_start).as_ref(),
                Some(r)
            );
        }
    }

    #[test]
    fn members_dispute_a_record_its_window_lease_would_refuse_and_sign_the_lease_tenants_record() {
        let mut held = Held::new();
        held.put(1_000_000, "usage1a");
        held.put(1_002_000, "usage1a");
        held.put(1_004_000, "usage1b");
        let reader = held.store.reader().unwrap();
        let now_ms = 2_000_000;
        let billing =
            |tenant: &str| match build_record(&reader, 10, "t1", 1_000, tenant, &BatchSpans::new())
            {
                Ok(Own::Record(w)) => w.record,
                other => panic!("{other:?}"),
            };
        let (to_a, to_b) = (billing("usage1a"), billing("usage1b"));
        let reasons = |view: &ChainView, record: &UsageRecord| -> Vec<String> {
            let tenants = leases_of(view, &LeaseBook::default(), &key(1_000));
            judge(&reader, 10, std::slice::from_ref(record), &tenants, now_ms)
                .0
                .into_iter()
                .map(|d| d.reason)
                .collect()
        };
        let leased_to_b = view_with_lease(Some(lease("usage1b", 1_000, None)));
        assert_eq!(reasons(&leased_to_b, &to_a), vec!["tenant"]);
        assert!(reasons(&leased_to_b, &to_b).is_empty());
        assert_eq!(reasons(&view_with_lease(None), &to_b), vec!["no_lease"]);
        // A lease C1 could not be asked about is not guessed.
        let later = view_with_lease(Some(lease("usage1b", 2_000, None)));
        assert_eq!(reasons(&later, &to_b), vec!["lease_unknown"]);
    }

    const C1: &str = "usage1c1";
    const C2: &str = "usage1c2";
    const FORGER: &str = "usage1forger";

    /// An event of type `ty` as the chain reports it when `contract` emitted it.
    fn emitted(contract: &str, ty: &str, attributes: &[(&str, &str)]) -> ContractEvent {
        let mut all = vec![("_contract_address".to_string(), contract.to_string())];
        all.extend(
            attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        ContractEvent {
            kind: format!("wasm-{ty}"),
            attributes: all,
        }
    }

    fn usage_proof(contract: &str) -> ContractEvent {
        emitted(
            contract,
            "usage_proof",
            &[("terminal_id", "t1"), ("window_start", "1000")],
        )
    }

    fn accumulated(contract: &str) -> ContractEvent {
        emitted(
            contract,
            "usage_accumulated",
            &[
                ("provider", "usage1provider"),
                ("tenant", "usage1tenant"),
                ("period_start", "960"),
                ("appended", "1"),
                ("late", "0"),
                ("size", "1"),
            ],
        )
    }

    fn period_proof(contract: &str) -> ContractEvent {
        emitted(
            contract,
            "period_proof",
            &[
                ("provider", "usage1provider"),
                ("tenant", "usage1tenant"),
                ("period_start", "960"),
                ("root", &"07".repeat(32)),
                ("records", "1"),
            ],
        )
    }

    fn period_key() -> PeriodKey {
        ("usage1provider".into(), "usage1tenant".into(), 960)
    }

    #[test]
    fn forged_usage_and_period_events_from_another_contract_change_nothing() {
        let events = vec![
            usage_proof(FORGER),
            accumulated(FORGER),
            period_proof(FORGER),
            // C1 and C2 swapped: each is only trusted for its own events.
            usage_proof(C2),
            accumulated(C2),
            period_proof(C1),
        ];
        assert_eq!(interpret_block(&events, C1, C2), BlockFacts::default());
    }

    #[test]
    fn genuine_usage_and_period_events_are_taken() {
        let events = vec![usage_proof(C1), accumulated(C1), period_proof(C2)];
        assert_eq!(
            interpret_block(&events, C1, C2),
            BlockFacts {
                proven: vec![("t1".into(), 1_000)],
                periods: vec![
                    (period_key(), PeriodState::Recorded),
                    (period_key(), PeriodState::Proven)
                ],
                roots: BTreeMap::new(),
            }
        );
    }

    fn batch_accepted(contract: &str, root: u8) -> ContractEvent {
        emitted(
            contract,
            "usage_batch",
            &[
                ("batch_id", "4"),
                ("root", &format!("{root:02x}").repeat(32)),
                ("records", "1"),
                ("epoch", "1"),
            ],
        )
    }

    #[test]
    fn each_proof_is_tied_to_the_root_of_the_batch_that_carried_it() {
        let events = vec![
            batch_accepted(C1, 0xaa),
            usage_proof(C1),
            // Another contract cannot claim the next proof for its root.
            batch_accepted(FORGER, 0xbb),
            emitted(
                C1,
                "usage_proof",
                &[("terminal_id", "t2"), ("window_start", "1000")],
            ),
        ];
        let facts = interpret_block(&events, C1, C2);
        assert_eq!(facts.proven.len(), 2);
        assert_eq!(
            facts.roots,
            BTreeMap::from([
                (("t1".to_string(), 1_000), [0xaa; 32]),
                (("t2".to_string(), 1_000), [0xaa; 32]),
            ])
        );
    }

    #[test]
    fn unknown_attributes_of_a_genuine_event_are_ignored() {
        let mut e = usage_proof(C1);
        e.attributes.push(("late".into(), "true".into()));
        assert_eq!(
            interpret_block(&[e], C1, C2).proven,
            vec![("t1".to_string(), 1_000)]
        );
    }

    #[test]
    fn an_event_without_the_contract_address_or_with_a_malformed_value_is_ignored() {
        let mut unsigned = usage_proof(C1);
        unsigned.attributes.remove(0);
        let mut malformed = usage_proof(C1);
        for (k, v) in &mut malformed.attributes {
            if k == "window_start" {
                *v = "soon".into();
            }
        }
        assert_eq!(
            interpret_block(&[unsigned, malformed], C1, C2),
            BlockFacts::default()
        );
    }

    #[test]
    fn samples_are_kept_until_every_dispute_of_their_period_can_no_longer_be_resolved() {
        // Localnet timing: 10 s windows, 60 s periods, 30 s grace, 60 s dispute window, 120 s
        // resolution window.
        let (w, p, g, d) = (10, 60, 30, 60 + 120);
        let keep = |now| retention(now, w, p, g, d).disputes_from;
        // Window 1050, the last of period 1000, is proven late: its record lands in period
        // 1060, which is sealed at the earliest at 1060 + 60 + 30 = 1150, disputed until
        // 1210 at the latest, and resolved until 1330.
        let last_resolution = 1_060 + p + g + 60 + 120;
        assert!(keep(last_resolution) <= 1_050);
        // The first window of period 1000, disputed with it.
        assert!(keep(1_000 + p + g + 60 + 120) <= 1_000);
        // Once nothing can be resolved any more, samples go.
        assert!(keep(last_resolution + 2 * (p + g)) > 1_050);
        // Unproven windows stay a day, whatever the periods.
        assert_eq!(
            retention(1_000_000, w, p, g, d).backlog_from,
            1_000_000 - BACKLOG_SECONDS
        );
    }

    #[test]
    fn windows_whose_period_closed_during_an_outage_are_proposed_until_they_are_a_day_old() {
        // 10 s windows, 60 s periods, 30 s grace.
        let view = view_with_lease(None);
        let now_ms = 1_000_000_000;
        let now_s = now_ms / 1_000;
        // The last closed window, and the open one.
        assert!(selectable(now_s - 10, now_ms, &view, BACKLOG_SECONDS));
        assert!(!selectable(now_s, now_ms, &view, BACKLOG_SECONDS));
        // Windows whose period stopped taking records an hour ago: C1 bills them late.
        assert!(selectable(now_s - 3_600, now_ms, &view, BACKLOG_SECONDS));
        assert!(selectable(
            now_s - 3_600 + 50,
            now_ms,
            &view,
            BACKLOG_SECONDS
        ));
        // Up to a day old, then no more.
        assert!(selectable(
            now_s - BACKLOG_SECONDS,
            now_ms,
            &view,
            BACKLOG_SECONDS
        ));
        assert!(!selectable(
            now_s - BACKLOG_SECONDS - 10,
            now_ms,
            &view,
            BACKLOG_SECONDS
        ));
    }

    #[test]
    fn responsibility_passes_to_the_next_member_after_each_failover_timeout() {
        // Window 40 of length 10 -> round 4 -> leader 0 of 4.
        assert_eq!(responsible(40, 10, 4, 51_000, 50_000, 8_000), None);
        assert_eq!(responsible(40, 10, 4, 51_000, 51_000, 8_000), Some(0));
        assert_eq!(responsible(40, 10, 4, 51_000, 58_999, 8_000), Some(0));
        assert_eq!(responsible(40, 10, 4, 51_000, 59_000, 8_000), Some(1));
        assert_eq!(responsible(40, 10, 4, 51_000, 75_000, 8_000), Some(3));
        assert_eq!(responsible(40, 10, 4, 51_000, 83_000, 8_000), Some(0));
    }
}
