//! Building a receipt from a node.

use std::time::Duration;

use cosmwasm_std::HexBinary;
use tendermint::block::Height;
use tendermint_rpc::{Client, Paging};
use usage_client::ChainClient;
use usage_common::merkle::{self, SumNode};
use usage_common::msg::period_proof::{self as c2, PeriodProofResponse};
use usage_common::msg::usage_proof::{
    self as c1, InclusionProofResponse, ProofResponse, ProofsResponse,
};
use usage_common::msg::MAX_LIMIT;
use usage_common::record::{Totals, UsageRecord};

use crate::bundle::{Bundle, StateEntry, BUNDLE_VERSION};
use crate::keys::{canonical_address, first_proof_key, period_proof_key, terminal_key};
use crate::stored::decode_terminal;
use crate::trust::TrustRoot;
use crate::verify::{verify, VerifyError};

/// The query path at which `usaged` serves a raw state value, with a proof when asked
/// (`abci-app/usaged/src/queries.rs`, `STATE_KEY_PATH`).
pub const STATE_KEY_PATH: &str = "/store/state/key";
/// The proof-op type of those proofs (`PROOF_OP_TYPE` there).
pub const PROOF_OP_TYPE: &str = "jmt:sha256:v1";
/// How many times the three state proofs are asked for again when a block was committed
/// between two of them (the node proves only at its latest height).
const HEIGHT_ATTEMPTS: usize = 10;
/// How long to wait for the block after the proven height to be committed.
const NEXT_BLOCK_WAIT: Duration = Duration::from_secs(30);

/// Why a receipt could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Address(#[from] crate::keys::InvalidAddress),
    #[error("node: {0}")]
    Node(String),
    #[error("C1 {usage_proof} names no period-proof contract")]
    NoPeriodProofContract { usage_proof: String },
    #[error("the node is on chain {node:?}, not {expected:?}")]
    WrongChain { expected: String, node: String },
    #[error("{terminal_id} has no first proof of window {window_start}")]
    NoFirstProof {
        terminal_id: String,
        window_start: u64,
    },
    #[error("the period [{period_start}, {period_end}) of ({provider}, {tenant}) holding {terminal_id} window {window_start} is not sealed yet; C2 may seal it from {sealable_from} (Unix seconds), try again then")]
    PeriodNotSealed {
        terminal_id: String,
        window_start: u64,
        provider: String,
        tenant: String,
        period_start: u64,
        period_end: u64,
        sealable_from: u64,
    },
    #[error("C1 gives no inclusion path: {0}")]
    Inclusion(String),
    #[error("the node answered the state query for {what} with code {code} ({codespace}): {log}")]
    StateQuery {
        what: &'static str,
        code: u32,
        codespace: String,
        log: String,
    },
    #[error("the node's answer for {what} carries no {PROOF_OP_TYPE} proof of a present value")]
    NoProof { what: &'static str },
    #[error("{0} blocks were committed while the state proofs were read; try again")]
    StateMoving(usize),
    #[error("block {height} was not committed within {NEXT_BLOCK_WAIT:?}")]
    NextBlock { height: u64 },
    #[error("the node's own data does not verify: {0}")]
    Inconsistent(#[from] VerifyError),
}

fn node(e: impl std::fmt::Display) -> ExportError {
    ExportError::Node(e.to_string())
}

/// One proven state read at `height` (`None`: the node's latest); the height it answered at.
async fn prove(
    client: &ChainClient,
    what: &'static str,
    key: &[u8],
    height: Option<Height>,
) -> Result<(StateEntry, u64), ExportError> {
    let answer = client
        .rpc()
        .abci_query(Some(STATE_KEY_PATH.to_string()), key, height, true)
        .await
        .map_err(node)?;
    if answer.code.is_err() {
        return Err(ExportError::StateQuery {
            what,
            code: answer.code.value(),
            codespace: answer.codespace,
            log: answer.log,
        });
    }
    let op = answer
        .proof
        .and_then(|ops| {
            ops.ops
                .into_iter()
                .find(|op| op.field_type == PROOF_OP_TYPE)
        })
        .filter(|op| op.key == key && !answer.value.is_empty())
        .ok_or(ExportError::NoProof { what })?;
    Ok((
        StateEntry {
            key: HexBinary::from(key),
            value: HexBinary::from(answer.value),
            proof: HexBinary::from(op.data),
        },
        answer.height.value(),
    ))
}

/// Whether a proven read was refused because a block was committed since the first read of the
/// set (the node proves only at its latest height).
fn moved(e: &ExportError) -> bool {
    matches!(e, ExportError::StateQuery { code, codespace, .. }
        if *code == usaged_auth::sdk::ERR_INVALID_HEIGHT && codespace == "sdk")
}

/// The terminal's registration at the node's latest height, then the first and second proofs
/// at the same height.
async fn prove_all(
    client: &ChainClient,
    c1: &[u8],
    c2: &[u8],
    terminal_id: &str,
    window_start: u64,
    first: &c1::FirstProof,
) -> Result<(u64, StateEntry, StateEntry, StateEntry), ExportError> {
    let key = terminal_key(c1, terminal_id);
    let (terminal, height) = prove(client, "the terminal", &key, None).await?;
    let index = decode_terminal(terminal.value.as_slice())
        .map_err(|e| ExportError::Node(format!("undecodable terminal: {e}")))?
        .index;
    let at = Some(Height::try_from(height).map_err(node)?);
    let key = first_proof_key(c1, index, window_start);
    let (first_proof, _) = prove(client, "the first proof", &key, at).await?;
    let key = period_proof_key(
        c2,
        first.provider.as_str(),
        &first.tenant,
        first.period_start,
    );
    let (second_proof, _) = prove(client, "the second proof", &key, at).await?;
    Ok((height, terminal, first_proof, second_proof))
}

/// The inclusion path of `first` in its period's sum tree of `records` leaves, built from C1's
/// `PeriodProofs` pages (the same leaves C1 appends: the record's canonical bytes and totals).
/// [`export`] uses it for periods too large for C1's `InclusionProof` query.
pub async fn inclusion_path_from_pages(
    client: &ChainClient,
    usage_proof: &str,
    first: &c1::FirstProof,
    records: u64,
) -> Result<Vec<SumNode>, ExportError> {
    let mut leaves = Vec::new();
    let mut start_after = None;
    loop {
        let page: ProofsResponse = client
            .smart(
                usage_proof,
                &c1::QueryMsg::PeriodProofs {
                    provider: first.provider.to_string(),
                    tenant: first.tenant.clone(),
                    period_start: first.period_start,
                    start_after,
                    limit: Some(MAX_LIMIT),
                },
            )
            .await
            .map_err(|e| ExportError::Inclusion(e.to_string()))?;
        let Some(last) = page.proofs.last() else {
            break;
        };
        start_after = Some(last.period_index);
        for p in &page.proofs {
            let record = UsageRecord {
                terminal_id: p.terminal_id.clone(),
                window_start: p.window_start,
                tenant: p.tenant.clone(),
                metrics: p.metrics,
            };
            leaves.push(SumNode::leaf(&record.to_bytes(), Totals::of(&p.metrics)));
        }
    }
    if leaves.len() as u64 != records {
        return Err(ExportError::Inclusion(format!(
            "C1 lists {} leaves of a period sealed with {records}",
            leaves.len()
        )));
    }
    usize::try_from(first.period_index)
        .ok()
        .and_then(|i| merkle::inclusion_path(&leaves, i))
        .ok_or_else(|| {
            ExportError::Inclusion(format!("no leaf {} in the period", first.period_index))
        })
}

/// C2's address as C1's configuration names it, for an exporter that knows only C1 (a verifier
/// takes both from its [`TrustRoot`], never from a node).
pub async fn period_proof_of(
    rpc_url: &str,
    chain_id: &str,
    usage_proof: &str,
) -> Result<String, ExportError> {
    let client = ChainClient::new(rpc_url, chain_id).map_err(node)?;
    let config: c1::ConfigResponse = client
        .smart(usage_proof, &c1::QueryMsg::Config {})
        .await
        .map_err(node)?;
    config
        .period_proof
        .map(|a| a.to_string())
        .ok_or_else(|| ExportError::NoPeriodProofContract {
            usage_proof: usage_proof.to_string(),
        })
}

/// Exports the receipt of `terminal_id`'s window starting at `window_start` from the node at
/// `rpc_url` of chain `chain_id`, whose C1 and C2 are `usage_proof` and `period_proof`.
///
/// Fails with [`ExportError::PeriodNotSealed`] (naming when it may be) while the second proof
/// of the window's period does not exist yet. The bundle is checked against the node's own
/// validator set before it is returned; a verifier checks it against a set it trusts.
pub async fn export(
    rpc_url: &str,
    chain_id: &str,
    usage_proof: &str,
    period_proof: &str,
    terminal_id: &str,
    window_start: u64,
) -> Result<Bundle, ExportError> {
    let c1_canonical = canonical_address(usage_proof)?;
    let c2_canonical = canonical_address(period_proof)?;
    let client = ChainClient::new(rpc_url, chain_id).map_err(node)?;
    let status = client.rpc().status().await.map_err(node)?;
    if status.node_info.network.as_str() != chain_id {
        return Err(ExportError::WrongChain {
            expected: chain_id.to_string(),
            node: status.node_info.network.to_string(),
        });
    }

    // What the contracts say, to know which keys to prove.
    let first: ProofResponse = client
        .smart(
            usage_proof,
            &c1::QueryMsg::Proof {
                terminal_id: terminal_id.to_string(),
                window_start,
            },
        )
        .await
        .map_err(node)?;
    let first = first.proof.ok_or_else(|| ExportError::NoFirstProof {
        terminal_id: terminal_id.to_string(),
        window_start,
    })?;
    let provider = first.provider.to_string();
    let sealed: PeriodProofResponse = client
        .smart(
            period_proof,
            &c2::QueryMsg::PeriodProof {
                provider: provider.clone(),
                tenant: first.tenant.clone(),
                period_start: first.period_start,
            },
        )
        .await
        .map_err(node)?;
    let Some(sealed) = sealed.proof else {
        let c1_config: c1::ConfigResponse = client
            .smart(usage_proof, &c1::QueryMsg::Config {})
            .await
            .map_err(node)?;
        let c2_config: c2::ConfigResponse = client
            .smart(period_proof, &c2::QueryMsg::Config {})
            .await
            .map_err(node)?;
        let period_end = first.period_start.saturating_add(c1_config.period_seconds);
        let grace = c2_config.grace_seconds.max(c1_config.grace_seconds);
        return Err(ExportError::PeriodNotSealed {
            terminal_id: terminal_id.to_string(),
            window_start,
            provider,
            tenant: first.tenant,
            period_start: first.period_start,
            period_end,
            sealable_from: period_end.saturating_add(grace),
        });
    };
    let records = sealed.totals.records;
    let inclusion_path = match client
        .smart::<_, InclusionProofResponse>(
            usage_proof,
            &c1::QueryMsg::InclusionProof {
                terminal_id: terminal_id.to_string(),
                window_start,
            },
        )
        .await
    {
        Ok(r) => r.path,
        // C1 rebuilds the path on chain for periods of at most `MAX_INCLUSION_LEAVES` records;
        // a larger period's path is built here from its leaves, page by page.
        Err(_) => inclusion_path_from_pages(&client, usage_proof, &first, records).await?,
    };

    // The three values with their proofs, all at one height.
    let mut attempt = 0;
    let (height, terminal, first_proof, second_proof) = loop {
        attempt += 1;
        match prove_all(
            &client,
            &c1_canonical,
            &c2_canonical,
            terminal_id,
            window_start,
            &first,
        )
        .await
        {
            Err(e) if moved(&e) && attempt < HEIGHT_ATTEMPTS => continue,
            Err(e) if moved(&e) => return Err(ExportError::StateMoving(attempt)),
            other => break other?,
        }
    };

    // The header that commits to that state is the next block's, with its commit and validators.
    let next = height.saturating_add(1);
    let next_height = Height::try_from(next).map_err(node)?;
    let waited = tokio::time::Instant::now();
    let signed_header = loop {
        match client.rpc().commit(next_height).await {
            Ok(r) => break r.signed_header,
            Err(_) if waited.elapsed() < NEXT_BLOCK_WAIT => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(_) => return Err(ExportError::NextBlock { height: next }),
        }
    };
    let validators = client
        .rpc()
        .validators(next_height, Paging::All)
        .await
        .map_err(node)?
        .validators;

    let bundle = Bundle {
        version: BUNDLE_VERSION,
        chain_id: chain_id.to_string(),
        usage_proof: usage_proof.to_string(),
        period_proof: period_proof.to_string(),
        terminal_id: terminal_id.to_string(),
        window_start,
        height,
        terminal,
        first_proof,
        second_proof,
        inclusion_path,
        signed_header,
        validators: validators.clone(),
    };
    // A bundle that would not verify against the node's own validators is the node's fault.
    verify(
        &bundle,
        &TrustRoot {
            chain_id: chain_id.to_string(),
            validators,
            usage_proof: usage_proof.to_string(),
            period_proof: period_proof.to_string(),
        },
    )?;
    Ok(bundle)
}
