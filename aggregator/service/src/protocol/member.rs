//! The member role: answering a leader's proposal with a BLS partial signature over the batch
//! digest, or with the records it disputes.

use std::sync::Arc;

use usage_aggregator_core::batch::Batch;
use usage_common::record::{decode_batch, UsageRecord};

use super::records::{judge, tenants, Tenants};

use crate::chainview::ChainView;
use crate::config::Byzantine;
use crate::p2p::{Proposal, Reply};
use crate::{now_ms, AppState};

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
        state.metrics.proposals_disputed.inc();
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
    state.metrics.partials_signed.inc();
    Reply::Sign { round, partial }
}
