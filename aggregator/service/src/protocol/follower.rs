//! The follower role: reads the contract events of new blocks and records which (terminal,
//! window) are proven and which periods have first proofs or a second proof. Only C1's events
//! count as proofs and only C2's as seals, whoever else emits events of those types.

use std::collections::BTreeMap;

use usage_client::ContractEvent;
use usage_common::events::{
    AccumulatorAppended, PeriodProven, TypedEvent, UsageBatchAccepted, UsageProofRecorded,
};

use crate::store::{PeriodKey, PeriodState};
use crate::AppState;

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

/// Interprets the events of one block. Only C1 (`c1`) proves usage and fills accumulators, and
/// only C2 (`c2`) seals periods: an event of those types emitted by any other contract (anyone
/// may deploy one) is ignored, and so is an event whose attributes do not parse.
pub fn interpret_block(events: &[ContractEvent], c1: &str, c2: &str) -> BlockFacts {
    let mut facts = BlockFacts::default();
    // A batch's `usage_proof` events follow its `usage_batch` event.
    let mut root: Option<[u8; 32]> = None;
    for e in events {
        if e.contract == c1 {
            let ev = &e.event;
            if let Ok(b) = UsageBatchAccepted::from_event(ev) {
                root = b.root.as_slice().try_into().ok();
            } else if let Ok(p) = UsageProofRecorded::from_event(ev) {
                if let Some(r) = root {
                    facts
                        .roots
                        .insert((p.terminal_id.clone(), p.window_start), r);
                }
                facts.proven.push((p.terminal_id, p.window_start));
            } else if let Ok(a) = AccumulatorAppended::from_event(ev) {
                facts.periods.push((
                    (a.provider, a.tenant, a.period_start),
                    PeriodState::Recorded,
                ));
            }
        } else if e.contract == c2 {
            if let Ok(p) = PeriodProven::from_event(&e.event) {
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
    let window_seconds = state.view.read().await.window_seconds;
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
        for (_, window_start) in &proven {
            let closed = window_start.saturating_add(window_seconds);
            state
                .metrics
                .proof_latency_seconds
                .observe(block.time_ms.saturating_sub(closed.saturating_mul(1_000)) as f64 / 1e3);
        }
        if !proven.is_empty() {
            let mut inflight = state.inflight.lock().await;
            for k in &proven {
                inflight.remove(k);
            }
        }
        state
            .metrics
            .followed_height
            .set(i64::try_from(height).unwrap_or(i64::MAX));
    }
    Ok(())
}
