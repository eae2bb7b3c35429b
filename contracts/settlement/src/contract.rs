#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{to_json_binary, Binary, Deps, DepsMut, Env, MessageInfo, Response};
use usage_common::migrate::bump_version;
use usage_common::msg::settlement::{ExecuteMsg, InstantiateMsg, QueryMsg};
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
        ExecuteMsg::SetPayeeAccount { account } => execute::set_payee_account(deps, info, account),
        ExecuteMsg::RequestSettlement {
            provider,
            tenant,
            period_start,
        } => execute::request_settlement(deps, env, provider, tenant, period_start),
        ExecuteMsg::ApproveInstruction {
            settlement_id,
            signature,
        } => execute::approve_instruction(deps, env, settlement_id, signature),
        ExecuteMsg::RecordVoucher { voucher, signature } => {
            execute::record_voucher(deps, env, voucher, signature)
        }
        ExecuteMsg::EscrowPeriod {
            provider,
            tenant,
            period_start,
        } => execute::escrow(
            deps,
            info,
            execute::EscrowKind::Usage,
            provider,
            tenant,
            period_start,
        ),
        ExecuteMsg::EscrowBond {
            provider,
            tenant,
            period_start,
        } => execute::escrow(
            deps,
            info,
            execute::EscrowKind::Bond,
            provider,
            tenant,
            period_start,
        ),
        ExecuteMsg::UpdateTariff {
            tariff,
            effective_from,
        } => execute::update_tariff(deps, env, info, tariff, effective_from),
        ExecuteMsg::Governance(msg) => execute::governance(deps, env, info, msg),
    }
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, ContractError> {
    Ok(match msg {
        QueryMsg::Config {} => to_json_binary(&query::config(deps, env)?),
        QueryMsg::Governance {} => {
            to_json_binary(&crate::state::GOV.info_of(deps.storage, &crate::state::CONFIG)?)
        }
        QueryMsg::PendingChanges {} => to_json_binary(&crate::state::GOV.pending(deps.storage)?),
        QueryMsg::Settlement { settlement_id } => {
            to_json_binary(&query::settlement(deps, settlement_id)?)
        }
        QueryMsg::Settlements { start_after, limit } => {
            to_json_binary(&query::settlements(deps, start_after, limit)?)
        }
        QueryMsg::SettlementForPeriod {
            provider,
            tenant,
            period_start,
        } => to_json_binary(&query::settlement_for_period(
            deps,
            provider,
            tenant,
            period_start,
        )?),
        QueryMsg::InstructionPayload { settlement_id } => {
            to_json_binary(&query::instruction_payload(deps, settlement_id)?)
        }
        QueryMsg::Quote {
            provider,
            tenant,
            period_start,
        } => to_json_binary(&query::quote(deps, env, provider, tenant, period_start)?),
        QueryMsg::PayeeAccount { provider } => {
            to_json_binary(&query::payee_account(deps, provider)?)
        }
        QueryMsg::Escrow {
            provider,
            tenant,
            period_start,
        } => to_json_binary(&query::escrow(deps, provider, tenant, period_start)?),
        QueryMsg::Carried { provider, tenant } => {
            to_json_binary(&query::carried(deps, provider, tenant)?)
        }
        QueryMsg::Tariffs {} => to_json_binary(&query::tariffs(deps)?),
    }?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn migrate(deps: DepsMut, _env: Env, _msg: MigrateMsg) -> Result<Response, ContractError> {
    Ok(bump_version(deps.storage, CONTRACT_NAME, CONTRACT_VERSION)?)
}
