use cosmwasm_std::{Addr, Api, DepsMut, Env, MessageInfo, Response};
use usage_common::client;
use usage_common::events::{
    ConfigUpdated, DisputeOpened, DisputeResolved, PeriodProven, TypedEvent,
};
use usage_common::governance::{apply_migrate, GovernanceMsg};
use usage_common::msg::ledger::{AccountResponse, QueryMsg as LedgerQuery};
use usage_common::msg::period_proof::PeriodProofChange;
use usage_common::msg::period_proof::{InstantiateMsg, PeriodProof, PeriodStatus};
use usage_common::msg::settlement::{
    ConfigResponse as SettlementConfig, ExecuteMsg as SettlementExecute,
    QueryMsg as SettlementQuery,
};
use usage_common::msg::usage_proof::{
    AccumulatorResponse, ConfigResponse as UsageProofConfig, ExecuteMsg as UsageProofExecute,
    QueryMsg as UsageProofQuery,
};
use usage_common::payload::{DisputeOutcome, DisputeResolution};
use usage_common::record::MAX_TENANT_LEN;
use usage_common::ThresholdSignature;

use crate::error::ContractError;
use crate::state::{Config, CONFIG, GOV, PROOFS};

/// Longest dispute reason, in bytes of UTF-8.
pub const MAX_REASON_LEN: usize = 256;

pub(crate) fn validate_addr(api: &dyn Api, address: &str) -> Result<Addr, ContractError> {
    api.addr_validate(address)
        .map_err(|_| ContractError::InvalidAddress {
            address: address.to_string(),
        })
}

/// Tenants are the same strings C1 keys its accumulators by.
fn validate_tenant(tenant: &str) -> Result<(), ContractError> {
    if tenant.is_empty() || tenant.len() > MAX_TENANT_LEN {
        return Err(ContractError::InvalidTenant {
            tenant: tenant.to_string(),
            max: MAX_TENANT_LEN,
        });
    }
    Ok(())
}

/// A stored proof, or `NoPeriodProof`.
fn load_proof(
    deps: &DepsMut,
    provider: &Addr,
    tenant: &str,
    period_start: u64,
) -> Result<PeriodProof, ContractError> {
    PROOFS
        .may_load(deps.storage, (provider, tenant, period_start))?
        .ok_or_else(|| ContractError::NoPeriodProof {
            provider: provider.to_string(),
            tenant: tenant.to_string(),
            period_start,
        })
}

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let admin = match msg.admin {
        Some(a) => validate_addr(deps.api, &a)?,
        None => info.sender,
    };
    let usage_proof = validate_addr(deps.api, &msg.usage_proof)?;
    CONFIG.save(
        deps.storage,
        &Config {
            admin: admin.clone(),
            usage_proof: usage_proof.clone(),
            grace_seconds: msg.grace_seconds,
            dispute_window_seconds: msg.dispute_window_seconds,
            resolution_window_seconds: msg.resolution_window_seconds,
            dispute_bond: msg.dispute_bond,
            settlement: msg
                .settlement
                .map(|s| validate_addr(deps.api, &s))
                .transpose()?,
        },
    )?;
    Ok(Response::new().add_event(ConfigUpdated::event("instantiate", admin)))
}

pub fn prove_period(
    deps: DepsMut,
    env: Env,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let provider = validate_addr(deps.api, &provider)?;
    validate_tenant(&tenant)?;
    let now = env.block.time.seconds();

    let c1: UsageProofConfig = client::query(
        &deps.querier,
        &config.usage_proof,
        &UsageProofQuery::Config {},
    )?;
    if c1.period_seconds == 0 {
        return Err(ContractError::InvalidPeriodLength);
    }
    if !period_start.is_multiple_of(c1.period_seconds) {
        return Err(ContractError::PeriodNotAligned {
            period_start,
            period_seconds: c1.period_seconds,
        });
    }
    // C1 takes late records until its own grace has passed; sealing earlier would miss them.
    let grace = config.grace_seconds.max(c1.grace_seconds);
    let overflow = || ContractError::TimeOverflow { period_start };
    let period_end = period_start
        .checked_add(c1.period_seconds)
        .ok_or_else(overflow)?;
    let closes_at = period_end.checked_add(grace).ok_or_else(overflow)?;
    if now < closes_at {
        return Err(ContractError::PeriodNotClosed { closes_at });
    }
    if PROOFS.has(deps.storage, (&provider, &tenant, period_start)) {
        return Err(ContractError::AlreadyProven {
            provider: provider.into_string(),
            tenant,
            period_start,
        });
    }

    let acc: AccumulatorResponse = client::query(
        &deps.querier,
        &config.usage_proof,
        &UsageProofQuery::Accumulator {
            provider: provider.to_string(),
            tenant: tenant.clone(),
            period_start,
        },
    )?;
    if acc.root.totals.records == 0 {
        return Err(ContractError::EmptyPeriod {
            provider: provider.into_string(),
            tenant,
            period_start,
        });
    }
    let dispute_deadline = now
        .checked_add(config.dispute_window_seconds)
        .ok_or_else(overflow)?;
    let proof = PeriodProof {
        provider: provider.clone(),
        tenant: tenant.clone(),
        period_start,
        period_end,
        root: acc.root.hash,
        totals: acc.root.totals,
        proven_at: now,
        late_records: acc.late_records,
        price_cap: acc.price_cap,
        dispute_deadline,
        status: PeriodStatus::Proven,
    };
    PROOFS.save(deps.storage, (&provider, &tenant, period_start), &proof)?;

    // C1 takes no more records into what was just sealed (a late record goes to a later period).
    let mut response = Response::new().add_message(client::execute(
        &config.usage_proof,
        &UsageProofExecute::SealAccumulator {
            provider: provider.to_string(),
            tenant: tenant.clone(),
            period_start,
        },
    )?);
    // The tenant's funds for it are escrowed at once, so proven usage cannot be withdrawn.
    if let Some(settlement) = &config.settlement {
        response = response.add_message(client::execute(
            settlement,
            &SettlementExecute::EscrowPeriod {
                provider: provider.to_string(),
                tenant: tenant.clone(),
                period_start,
            },
        )?);
    }
    Ok(response.add_event(
        PeriodProven {
            provider: provider.into_string(),
            tenant,
            period_start,
            root: proof.root,
            records: proof.totals.records,
        }
        .to_event(),
    ))
}

pub fn open_dispute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    provider: String,
    tenant: String,
    period_start: u64,
    reason: String,
) -> Result<Response, ContractError> {
    if info.sender.as_str() != tenant {
        return Err(ContractError::NotTenant {
            sender: info.sender.into_string(),
            tenant,
        });
    }
    if reason.is_empty() || reason.len() > MAX_REASON_LEN {
        return Err(ContractError::InvalidReason {
            len: reason.len(),
            max: MAX_REASON_LEN,
        });
    }
    let provider = validate_addr(deps.api, &provider)?;
    let mut proof = load_proof(&deps, &provider, &tenant, period_start)?;
    match proof.status {
        PeriodStatus::Proven => {}
        PeriodStatus::Disputed { .. } => {
            return Err(ContractError::AlreadyDisputed {
                provider: provider.into_string(),
                tenant,
                period_start,
            })
        }
        PeriodStatus::Resolved { .. } => {
            return Err(ContractError::AlreadyResolved {
                provider: provider.into_string(),
                tenant,
                period_start,
            })
        }
    }
    let now = env.block.time.seconds();
    if now > proof.dispute_deadline {
        return Err(ContractError::DisputeWindowClosed {
            deadline: proof.dispute_deadline,
        });
    }
    let config = CONFIG.load(deps.storage)?;
    let resolve_by = now
        .checked_add(config.resolution_window_seconds)
        .ok_or(ContractError::TimeOverflow { period_start })?;
    proof.status = PeriodStatus::Disputed {
        reason: reason.clone(),
        opened_at: now,
        resolve_by,
        bond: config.dispute_bond,
    };
    PROOFS.save(deps.storage, (&provider, &tenant, period_start), &proof)?;

    // The bond is locked by C3 in the same transaction: no funds, no dispute.
    let mut response = Response::new();
    if !config.dispute_bond.is_zero() {
        let settlement = config.settlement.ok_or(ContractError::NoBondHolder)?;
        // Checked here too, so the tenant gets this contract's typed error.
        let c3: SettlementConfig =
            client::query(&deps.querier, &settlement, &SettlementQuery::Config {})?;
        let account: AccountResponse = client::query(
            &deps.querier,
            &c3.ledger,
            &LedgerQuery::Account {
                address: tenant.clone(),
            },
        )?;
        if account.available < config.dispute_bond {
            return Err(ContractError::BondNotAvailable {
                needed: config.dispute_bond,
                available: account.available,
            });
        }
        response = response.add_message(client::execute(
            &settlement,
            &SettlementExecute::EscrowBond {
                provider: provider.to_string(),
                tenant: tenant.clone(),
                period_start,
            },
        )?);
    }
    Ok(response.add_event(
        DisputeOpened {
            provider: provider.into_string(),
            tenant,
            period_start,
            reason,
        }
        .to_event(),
    ))
}

pub fn resolve_dispute(
    deps: DepsMut,
    env: Env,
    resolution: DisputeResolution,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let provider = validate_addr(deps.api, &resolution.provider)?;
    let tenant = resolution.tenant.clone();
    let period_start = resolution.period_start;
    let mut proof = load_proof(&deps, &provider, &tenant, period_start)?;
    let PeriodStatus::Disputed {
        opened_at,
        resolve_by,
        bond,
        ..
    } = proof.status
    else {
        return Err(ContractError::NotDisputed {
            provider: provider.into_string(),
            tenant,
            period_start,
        });
    };
    if env.block.time.seconds() > resolve_by {
        return Err(ContractError::ResolutionDeadlinePassed {
            deadline: resolve_by,
        });
    }
    if resolution.opened_at != opened_at {
        return Err(ContractError::WrongDispute {
            expected: opened_at,
            got: resolution.opened_at,
        });
    }
    // A dispute can only lower a bill: the committee cannot bill more than it proved.
    if let DisputeOutcome::Adjusted { totals } = &resolution.outcome {
        if !totals.at_most(&proof.totals) {
            return Err(ContractError::AdjustedAboveProven);
        }
    }
    let committee = client::query_committee(&deps.querier, &config.usage_proof)?;
    committee.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &resolution,
        &signature,
    )?;
    let outcome = match resolution.outcome {
        DisputeOutcome::Upheld => "upheld",
        DisputeOutcome::Adjusted { .. } => "adjusted",
    };
    proof.status = PeriodStatus::Resolved {
        outcome: resolution.outcome,
        bond,
    };
    PROOFS.save(deps.storage, (&provider, &tenant, period_start), &proof)?;

    Ok(Response::new().add_event(
        DisputeResolved {
            provider: provider.into_string(),
            tenant,
            period_start,
            outcome: outcome.to_string(),
        }
        .to_event(),
    ))
}

/// Sets the C3 settlement address once: escrow and bonds go to it from then on.
pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    settlement: String,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    let settlement = validate_addr(deps.api, &settlement)?;
    match &config.settlement {
        Some(current) if *current != settlement => {
            return Err(ContractError::AlreadySet {
                what: "settlement".into(),
                current: current.to_string(),
            })
        }
        _ => config.settlement = Some(settlement),
    }
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_config", config.admin)))
}

/// The admin hand-over and the timelock; an applied change takes effect here.
pub fn governance(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: GovernanceMsg<PeriodProofChange>,
) -> Result<Response, ContractError> {
    GOV.execute(
        deps,
        &env,
        &info,
        &CONFIG,
        msg,
        |deps, mut config, change| match change {
            PeriodProofChange::Timing {
                grace_seconds,
                dispute_window_seconds,
                resolution_window_seconds,
                dispute_bond,
            } => {
                if let Some(g) = grace_seconds {
                    config.grace_seconds = g;
                }
                if let Some(w) = dispute_window_seconds {
                    config.dispute_window_seconds = w;
                }
                if let Some(r) = resolution_window_seconds {
                    config.resolution_window_seconds = r;
                }
                if let Some(b) = dispute_bond {
                    config.dispute_bond = b;
                }
                CONFIG.save(deps.storage, &config)?;
                Ok(Response::new().add_event(ConfigUpdated::event("timing", &config.admin)))
            }
            PeriodProofChange::Timelock { seconds } => {
                Ok(GOV.apply_timelock(deps.storage, seconds)?)
            }
            PeriodProofChange::Migrate { code_id } => Ok(apply_migrate(&env, code_id)?),
        },
    )
}
