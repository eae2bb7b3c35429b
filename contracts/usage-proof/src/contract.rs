#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use usage_common::migrate::bump_version;
use usage_common::msg::usage_proof::{ExecuteMsg, InstantiateMsg, QueryMsg};
use usage_common::msg::MigrateMsg;

use crate::error::ContractError;
use crate::state::{CONFIG, GOV};
use crate::{execute, query};

/// The cw2 name a migration checks: the package's own name.
pub const CONTRACT_NAME: &str = concat!("crates.io:", env!("CARGO_PKG_NAME"));
pub const CONTRACT_VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn instantiate(
    deps: DepsMut,
    _env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    cw2::set_contract_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?;
    execute::instantiate(deps, info, msg)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, ContractError> {
    match msg {
        ExecuteMsg::SubmitBatch { records, signature } => {
            execute::submit_batch(deps, env, info, records, signature)
        }
        ExecuteMsg::RotateCommittee {
            rotation,
            signature,
        } => execute::rotate_committee(deps, env, rotation, signature),
        ExecuteMsg::RegisterTerminal {
            terminal_id,
            provider,
            attestor_key,
            tee,
            measurement,
            shared_attestor,
        } => execute::register_terminal(
            deps,
            info,
            execute::Registration {
                terminal_id,
                provider,
                attestor_key,
                tee,
                measurement,
                shared_attestor,
            },
        ),
        ExecuteMsg::OpenLease {
            terminal_id,
            provider,
            start,
            end,
            price_cap,
        } => execute::open_lease(
            deps,
            env,
            info,
            execute::LeaseRequest {
                terminal_id,
                provider,
                start,
                end,
                price_cap,
            },
        ),
        ExecuteMsg::CloseLease {
            terminal_id,
            start,
            end,
        } => execute::close_lease(deps, env, info, terminal_id, start, end),
        ExecuteMsg::ReleaseLeaseReserve { terminal_id, start } => {
            execute::release_lease_reserve(deps, env, terminal_id, start)
        }
        ExecuteMsg::SealAccumulator {
            provider,
            tenant,
            period_start,
        } => execute::seal_accumulator(deps, info, provider, tenant, period_start),
        ExecuteMsg::DeactivateTerminal { terminal_id } => {
            execute::deactivate_terminal(deps, info, terminal_id)
        }
        ExecuteMsg::AllowMeasurement { measurement } => {
            execute::set_measurement(deps, env, info, measurement, true)
        }
        ExecuteMsg::RevokeMeasurement { measurement } => {
            execute::set_measurement(deps, env, info, measurement, false)
        }
        ExecuteMsg::UpdateConfig {
            accept_software_tee,
            period_proof,
        } => execute::update_config(deps, info, accept_software_tee, period_proof),
        ExecuteMsg::Governance(msg) => execute::governance(deps, env, info, msg),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query::config(deps)?),
        QueryMsg::Committee {} => to_json_binary(&query::committee(deps)?),
        QueryMsg::Governance {} => to_json_binary(&GOV.info_of(deps.storage, &CONFIG)?),
        QueryMsg::PendingChanges {} => to_json_binary(&GOV.pending(deps.storage)?),
        QueryMsg::Terminal { terminal_id } => to_json_binary(&query::terminal(deps, terminal_id)?),
        QueryMsg::Terminals { start_after, limit } => {
            to_json_binary(&query::terminals(deps, start_after, limit)?)
        }
        QueryMsg::Proof {
            terminal_id,
            window_start,
        } => to_json_binary(&query::proof(deps, terminal_id, window_start)?),
        QueryMsg::TerminalProofs {
            terminal_id,
            from,
            to,
            limit,
        } => to_json_binary(&query::terminal_proofs(deps, terminal_id, from, to, limit)?),
        QueryMsg::Batch { batch_id } => to_json_binary(&query::batch(deps, batch_id)?),
        QueryMsg::Accumulator {
            provider,
            tenant,
            period_start,
        } => to_json_binary(&query::accumulator(deps, provider, tenant, period_start)?),
        QueryMsg::PeriodProofs {
            provider,
            tenant,
            period_start,
            start_after,
            limit,
        } => to_json_binary(&query::period_proofs(
            deps,
            provider,
            tenant,
            period_start,
            start_after,
            limit,
        )?),
        QueryMsg::InclusionProof {
            terminal_id,
            window_start,
        } => to_json_binary(&query::inclusion_proof(deps, terminal_id, window_start)?),
        QueryMsg::Measurements { start_after, limit } => {
            to_json_binary(&query::measurements(deps, start_after, limit)?)
        }
        QueryMsg::Leases {
            terminal_id,
            start_after,
            limit,
        } => to_json_binary(&query::leases(deps, terminal_id, start_after, limit)?),
        QueryMsg::TenantReserve { tenant } => to_json_binary(&query::tenant_reserve(deps, tenant)?),
        QueryMsg::LeaseAt {
            terminal_id,
            window_start,
        } => to_json_binary(&query::lease_at(deps, terminal_id, window_start)?),
    }?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(bump_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
