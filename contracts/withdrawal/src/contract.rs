//! Entry points of C5 and the dispatch of its messages.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use usage_common::migrate::bump_version;
use usage_common::msg::withdrawal::{ExecuteMsg, InstantiateMsg, QueryMsg};
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
        ExecuteMsg::RequestWithdrawal {
            amount,
            beneficiary,
        } => execute::request_withdrawal(deps, env, info, amount, beneficiary),
        ExecuteMsg::Cancel { withdrawal_id } => execute::cancel(deps, info, withdrawal_id),
        ExecuteMsg::Release { withdrawal_id } => execute::release(deps, env, withdrawal_id),
        ExecuteMsg::ApproveInstruction {
            withdrawal_id,
            signature,
        } => execute::approve_instruction(deps, env, withdrawal_id, signature),
        ExecuteMsg::RecordVoucher { voucher, signature } => {
            execute::record_voucher(deps, env, voucher, signature)
        }
        ExecuteMsg::UpdateLimits { limits } => execute::update_limits(deps, info, limits),
        ExecuteMsg::SetPaused { paused } => execute::set_paused(deps, info, paused),
        ExecuteMsg::Governance(msg) => execute::governance(deps, env, info, msg),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query::config(deps)?)?,
        QueryMsg::Governance {} => {
            to_json_binary(&crate::state::GOV.info_of(deps.storage, &crate::state::CONFIG)?)?
        }
        QueryMsg::PendingChanges {} => to_json_binary(&crate::state::GOV.pending(deps.storage)?)?,
        QueryMsg::Withdrawal { withdrawal_id } => {
            to_json_binary(&query::withdrawal(deps, withdrawal_id)?)?
        }
        QueryMsg::Withdrawals {
            owner,
            start_after,
            limit,
        } => to_json_binary(&query::withdrawals(deps, owner, start_after, limit)?)?,
        QueryMsg::InstructionPayload { withdrawal_id } => {
            to_json_binary(&query::instruction_payload_of(deps, withdrawal_id)?)?
        }
        QueryMsg::RollingUsage { owner } => {
            to_json_binary(&query::rolling_usage(deps, env, owner)?)?
        }
    })
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(bump_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
