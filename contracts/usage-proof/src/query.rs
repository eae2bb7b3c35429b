use cosmwasm_std::{Binary, Deps, HexBinary, Order, StdResult};
use cw_storage_plus::Bound;
use usage_common::merkle::{self, SumNode};
use usage_common::msg::page_limit;
use usage_common::msg::usage_proof::{
    AccumulatorResponse, BatchResponse, CommitteeResponse, ConfigResponse, FirstProof,
    InclusionProofResponse, Lease, LeaseResponse, LeasesResponse, MeasurementsResponse,
    ProofResponse, ProofsResponse, Terminal, TerminalResponse, TerminalsResponse,
    MAX_INCLUSION_LEAVES,
};
use usage_common::record::{align, Totals, UsageRecord};

use crate::error::ContractError;
use crate::state::{
    lease_starting_by, load_proof, range_period_leaves, range_proofs, LeaseState, StoredProof,
    TerminalState, ACCUMULATORS, ACCUMULATOR_INFO, BATCHES, COMMITTEE, CONFIG, LATEST_LEASE,
    LEASES, MEASUREMENTS, NEXT_BATCH_ID, TENANT_RESERVES, TERMINALS, TERMINAL_IDS,
};
use usage_common::msg::usage_proof::TenantReserveResponse;

/// Most allowed measurements listed by the config query.
const MAX_LISTED_MEASUREMENTS: usize = 100;

pub fn config(deps: Deps) -> StdResult<ConfigResponse> {
    let c = CONFIG.load(deps.storage)?;
    let allowed_measurements = MEASUREMENTS
        .keys(deps.storage, None, None, Order::Ascending)
        .take(MAX_LISTED_MEASUREMENTS)
        .map(|k| k.map(Into::into))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(ConfigResponse {
        admin: c.admin,
        window_seconds: c.window_seconds,
        period_seconds: c.period_seconds,
        grace_seconds: c.grace_seconds,
        accept_software_tee: c.accept_software_tee,
        allowed_measurements,
        next_batch_id: NEXT_BATCH_ID.load(deps.storage)?,
        period_proof: c.period_proof,
    })
}

pub fn measurements(
    deps: Deps,
    start_after: Option<HexBinary>,
    limit: Option<u32>,
) -> StdResult<MeasurementsResponse> {
    let start = start_after.as_ref().map(|m| Bound::exclusive(m.as_slice()));
    let measurements = MEASUREMENTS
        .keys(deps.storage, start, None, Order::Ascending)
        .take(page_limit(limit))
        .map(|k| k.map(Into::into))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(MeasurementsResponse { measurements })
}

fn to_lease(terminal_id: &str, provider: &cosmwasm_std::Addr, start: u64, l: LeaseState) -> Lease {
    Lease {
        terminal_id: terminal_id.to_string(),
        tenant: l.tenant,
        provider: provider.clone(),
        start,
        end: l.end,
        price_cap: l.price_cap,
        opened_at: l.opened_at,
    }
}

pub fn leases(
    deps: Deps,
    terminal_id: String,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<LeasesResponse, ContractError> {
    let t = load_terminal(deps, &terminal_id)?;
    let leases = LEASES
        .prefix(t.index)
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|r| r.map(|(start, l)| to_lease(&terminal_id, &t.provider, start, l)))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(LeasesResponse { leases })
}

pub fn lease_at(
    deps: Deps,
    terminal_id: String,
    window_start: u64,
) -> Result<LeaseResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let t = load_terminal(deps, &terminal_id)?;
    let lease = lease_starting_by(deps.storage, t.index, window_start)?
        .map(|(start, l)| to_lease(&terminal_id, &t.provider, start, l))
        .filter(|l| l.covers(window_start, config.window_seconds));
    Ok(LeaseResponse { lease })
}

pub fn committee(deps: Deps) -> StdResult<CommitteeResponse> {
    Ok(CommitteeResponse {
        committee: COMMITTEE.load(deps.storage)?,
    })
}

fn to_terminal(deps: Deps, terminal_id: String, t: TerminalState) -> StdResult<Terminal> {
    let lease = LATEST_LEASE
        .may_load(deps.storage, t.index)?
        .map(|(start, l)| to_lease(&terminal_id, &t.provider, start, l));
    Ok(Terminal {
        terminal_id,
        provider: t.provider,
        attestor_key: t.attestor_key,
        tee: t.tee,
        measurement: t.measurement,
        active: t.active,
        lease,
    })
}

fn load_terminal(deps: Deps, terminal_id: &str) -> Result<TerminalState, ContractError> {
    TERMINALS
        .may_load(deps.storage, terminal_id)?
        .ok_or_else(|| ContractError::UnknownTerminal {
            terminal_id: terminal_id.to_string(),
        })
}

pub fn terminal(deps: Deps, terminal_id: String) -> Result<TerminalResponse, ContractError> {
    let t = load_terminal(deps, &terminal_id)?;
    Ok(TerminalResponse {
        terminal: to_terminal(deps, terminal_id, t)?,
    })
}

pub fn terminals(
    deps: Deps,
    start_after: Option<String>,
    limit: Option<u32>,
) -> StdResult<TerminalsResponse> {
    let start = start_after.as_deref().map(Bound::exclusive);
    let terminals = TERMINALS
        .range(deps.storage, start, None, Order::Ascending)
        .take(page_limit(limit))
        .map(|r| r.and_then(|(id, t)| to_terminal(deps, id, t)))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(TerminalsResponse { terminals })
}

fn to_first_proof(
    terminal_id: String,
    t: &TerminalState,
    window: u64,
    p: StoredProof,
    period_seconds: u64,
) -> FirstProof {
    FirstProof {
        terminal_id,
        window_start: window,
        tenant: p.tenant,
        provider: t.provider.clone(),
        metrics: p.metrics,
        batch_id: p.batch_id,
        period_start: p.period_start,
        late: p.period_start != align(window, period_seconds),
        period_index: p.period_index,
    }
}

pub fn proof(deps: Deps, terminal_id: String, window_start: u64) -> StdResult<ProofResponse> {
    let Some(t) = TERMINALS.may_load(deps.storage, &terminal_id)? else {
        return Ok(ProofResponse { proof: None });
    };
    let period = CONFIG.load(deps.storage)?.period_seconds;
    let proof = load_proof(deps.storage, t.index, window_start)?
        .map(|p| to_first_proof(terminal_id, &t, window_start, p, period));
    Ok(ProofResponse { proof })
}

pub fn terminal_proofs(
    deps: Deps,
    terminal_id: String,
    from: u64,
    to: u64,
    limit: Option<u32>,
) -> StdResult<ProofsResponse> {
    let Some(t) = TERMINALS.may_load(deps.storage, &terminal_id)? else {
        return Ok(ProofsResponse { proofs: vec![] });
    };
    let period = CONFIG.load(deps.storage)?.period_seconds;
    let proofs = range_proofs(deps.storage, t.index, from, to, page_limit(limit))?
        .into_iter()
        .map(|(w, p)| to_first_proof(terminal_id.clone(), &t, w, p, period))
        .collect();
    Ok(ProofsResponse { proofs })
}

pub fn batch(deps: Deps, batch_id: u64) -> StdResult<BatchResponse> {
    Ok(BatchResponse {
        batch: BATCHES.may_load(deps.storage, batch_id)?,
    })
}

pub fn accumulator(
    deps: Deps,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<AccumulatorResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let provider = deps.api.addr_validate(&provider)?;
    let frontier = ACCUMULATORS
        .may_load(deps.storage, (&provider, &tenant, period_start))?
        .unwrap_or_default();
    let root = frontier.root().ok_or(ContractError::TotalsOverflow)?;
    let info = ACCUMULATOR_INFO
        .may_load(deps.storage, (&provider, &tenant, period_start))?
        .unwrap_or_default();
    Ok(AccumulatorResponse {
        period_start,
        period_end: period_start.saturating_add(config.period_seconds),
        frontier,
        root,
        late_records: info.late,
        price_cap: (!info.uncapped).then_some(info.price_cap),
        sealed: info.sealed_size.is_some(),
    })
}

pub fn period_proofs(
    deps: Deps,
    provider: String,
    tenant: String,
    period_start: u64,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<ProofsResponse, ContractError> {
    let provider = deps.api.addr_validate(&provider)?;
    let period = CONFIG.load(deps.storage)?.period_seconds;
    let leaves = range_period_leaves(
        deps.storage,
        &provider,
        &tenant,
        period_start,
        start_after,
        page_limit(limit),
    )?;
    let mut proofs = Vec::with_capacity(leaves.len());
    for (_, terminal_index, window) in leaves {
        let terminal_id = TERMINAL_IDS.load(deps.storage, terminal_index)?;
        let t = load_terminal(deps, &terminal_id)?;
        if let Some(p) = load_proof(deps.storage, terminal_index, window)? {
            proofs.push(to_first_proof(terminal_id, &t, window, p, period));
        }
    }
    Ok(ProofsResponse { proofs })
}

/// The canonical record bytes (the sum-tree leaf data) of a stored proof.
fn record_bytes(terminal_id: &str, window: u64, p: &StoredProof) -> Vec<u8> {
    UsageRecord {
        terminal_id: terminal_id.to_string(),
        window_start: window,
        tenant: p.tenant.clone(),
        metrics: p.metrics,
    }
    .to_bytes()
}

pub fn inclusion_proof(
    deps: Deps,
    terminal_id: String,
    window_start: u64,
) -> Result<InclusionProofResponse, ContractError> {
    let t = load_terminal(deps, &terminal_id)?;
    let not_found = || ContractError::ProofNotFound {
        terminal_id: terminal_id.clone(),
        window_start,
    };
    let p = load_proof(deps.storage, t.index, window_start)?.ok_or_else(not_found)?;
    let period_start = p.period_start;
    // The path is rebuilt from every leaf: bounded so the query stays within its gas.
    let size = ACCUMULATORS
        .may_load(deps.storage, (&t.provider, &p.tenant, period_start))?
        .unwrap_or_default()
        .size;
    if size > MAX_INCLUSION_LEAVES {
        return Err(ContractError::PeriodTooLarge {
            size,
            max: MAX_INCLUSION_LEAVES,
        });
    }
    let leaves = range_period_leaves(
        deps.storage,
        &t.provider,
        &p.tenant,
        period_start,
        None,
        MAX_INCLUSION_LEAVES as usize,
    )?;
    let mut nodes = Vec::with_capacity(leaves.len());
    for (_, terminal_index, window) in leaves {
        let id = TERMINAL_IDS.load(deps.storage, terminal_index)?;
        let leaf = load_proof(deps.storage, terminal_index, window)?.ok_or_else(not_found)?;
        nodes.push(SumNode::leaf(
            &record_bytes(&id, window, &leaf),
            Totals::of(&leaf.metrics),
        ));
    }
    let index = usize::try_from(p.period_index).map_err(|_| not_found())?;
    let path = merkle::inclusion_path(&nodes, index).ok_or_else(not_found)?;
    let root = merkle::root(&nodes).ok_or(ContractError::TotalsOverflow)?;
    let bytes = record_bytes(&terminal_id, window_start, &p);
    Ok(InclusionProofResponse {
        provider: t.provider,
        tenant: p.tenant,
        period_start,
        leaf_index: p.period_index,
        size: nodes.len() as u64,
        leaf: nodes[index].clone(),
        record: Binary::from(bytes),
        path,
        root,
    })
}

pub fn tenant_reserve(deps: Deps, tenant: String) -> Result<TenantReserveResponse, ContractError> {
    let tenant = deps.api.addr_validate(&tenant)?;
    Ok(TenantReserveResponse {
        reserve: TENANT_RESERVES
            .may_load(deps.storage, &tenant)?
            .unwrap_or_default(),
    })
}
