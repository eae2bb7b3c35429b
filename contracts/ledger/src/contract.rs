//! Entry points of C4 and the dispatch of its messages.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use usage_common::migrate::bump_version;
use usage_common::msg::ledger::{ExecuteMsg, InstantiateMsg, QueryMsg};
use usage_common::msg::MigrateMsg;

use crate::error::ContractError;
use crate::execute::FundsMove;
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
        ExecuteMsg::Deposit { voucher, signature } => {
            execute::deposit(deps, env, voucher, signature)
        }
        ExecuteMsg::Lock { owner, amount } => {
            execute::move_funds(deps, info, FundsMove::Lock, owner, amount)
        }
        ExecuteMsg::Unlock { owner, amount } => {
            execute::move_funds(deps, info, FundsMove::Unlock, owner, amount)
        }
        ExecuteMsg::DebitLocked { owner, amount } => {
            execute::move_funds(deps, info, FundsMove::Debit, owner, amount)
        }
        ExecuteMsg::UpdateConfig {
            settlement,
            withdrawal,
        } => execute::update_config(deps, info, settlement, withdrawal),
        ExecuteMsg::SetPaused { paused } => execute::set_paused(deps, info, paused),
        ExecuteMsg::Governance(msg) => execute::governance(deps, env, info, msg),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, _env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query::config(deps)?)?,
        QueryMsg::Governance {} => {
            to_json_binary(&crate::state::GOV.info_of(deps.storage, &crate::state::CONFIG)?)?
        }
        QueryMsg::PendingChanges {} => to_json_binary(&crate::state::GOV.pending(deps.storage)?)?,
        QueryMsg::Balance { address } => to_json_binary(&query::balance(deps, address)?)?,
        QueryMsg::Account { address } => to_json_binary(&query::account(deps, address)?)?,
        QueryMsg::TokenInfo {} => to_json_binary(&query::token_info(deps)?)?,
        QueryMsg::TotalSupply {} => to_json_binary(&query::total_supply(deps)?)?,
        QueryMsg::Deposit { bank_ref } => to_json_binary(&query::deposit(deps, bank_ref)?)?,
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(bump_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
