#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use usage_common::migrate::bump_version;
use usage_common::msg::period_proof::{ExecuteMsg, InstantiateMsg, QueryMsg};
use usage_common::msg::MigrateMsg;

use crate::error::ContractError;
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
        ExecuteMsg::ProvePeriod {
            provider,
            tenant,
            period_start,
        } => execute::prove_period(deps, env, provider, tenant, period_start),
        ExecuteMsg::OpenDispute {
            provider,
            tenant,
            period_start,
            reason,
        } => execute::open_dispute(deps, env, info, provider, tenant, period_start, reason),
        ExecuteMsg::ResolveDispute {
            resolution,
            signature,
        } => execute::resolve_dispute(deps, env, resolution, signature),
        ExecuteMsg::UpdateConfig { settlement } => execute::update_config(deps, info, settlement),
        ExecuteMsg::Governance(msg) => execute::governance(deps, env, info, msg),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query::config(deps)?),
        QueryMsg::Governance {} => {
            to_json_binary(&crate::state::GOV.info_of(deps.storage, &crate::state::CONFIG)?)
        }
        QueryMsg::PendingChanges {} => to_json_binary(&crate::state::GOV.pending(deps.storage)?),
        QueryMsg::PeriodProof {
            provider,
            tenant,
            period_start,
        } => to_json_binary(&query::period_proof(deps, provider, tenant, period_start)?),
        QueryMsg::VerifyInclusion {
            provider,
            tenant,
            period_start,
            leaf_index,
            leaf,
            path,
        } => to_json_binary(&query::verify_inclusion(
            deps,
            provider,
            tenant,
            period_start,
            leaf_index,
            leaf,
            path,
        )?),
    }?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(bump_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
