//! What a member computes of a window, as leader or as co-signer: whom each (terminal, window)
//! bills (the lease covering it), the record it derives from its own samples, the records it
//! proposes, and its judgement of a proposal.

use std::collections::BTreeMap;

use usage_aggregator_core::aggregate::{aggregate_window, Span, WindowRecord};
use usage_common::msg::usage_proof::{LeaseResponse, QueryMsg as C1Query};
use usage_common::record::{align, UsageRecord};

use crate::chainview::{ChainView, LeaseLookup};
use crate::p2p::Disputed;
use crate::store::{Reader, RecordSpan, RecordSpans, StoreError};
use crate::{now_ms, AppState};

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
