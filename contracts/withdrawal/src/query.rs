//! Handlers of C5's queries.

use cosmwasm_std::{Deps, Env, Order, StdResult};
use cw_storage_plus::Bound;
use usage_common::msg::page_limit;
use usage_common::msg::withdrawal::{
    ConfigResponse, RollingUsageResponse, Withdrawal, WithdrawalResponse, WithdrawalsResponse,
};
use usage_common::payload::WithdrawalApproval;

use crate::error::ContractError;
use crate::state::{
    instruction_payload, rolling_entries, rolling_used, CONFIG, OWNER_INDEX, WITHDRAWALS,
};

pub fn config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    Ok(CONFIG.load(deps.storage)?.to_response())
}

pub fn withdrawal(deps: Deps, withdrawal_id: u64) -> Result<WithdrawalResponse, ContractError> {
    Ok(WithdrawalResponse {
        withdrawal: WITHDRAWALS.may_load(deps.storage, withdrawal_id)?,
    })
}

/// Ascending by id, optionally only one owner's (through the owner index).
pub fn withdrawals(
    deps: Deps,
    owner: Option<String>,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> Result<WithdrawalsResponse, ContractError> {
    let limit = page_limit(limit);
    let start = start_after.map(Bound::exclusive);
    let withdrawals = match owner {
        Some(owner) => {
            let owner = deps.api.addr_validate(&owner)?;
            OWNER_INDEX
                .prefix(&owner)
                .keys(deps.storage, start, None, Order::Ascending)
                .take(limit)
                .map(|id| WITHDRAWALS.load(deps.storage, id?))
                .collect::<StdResult<Vec<Withdrawal>>>()?
        }
        None => WITHDRAWALS
            .range(deps.storage, start, None, Order::Ascending)
            .take(limit)
            .map(|item| item.map(|(_, w)| w))
            .collect::<StdResult<Vec<Withdrawal>>>()?,
    };
    Ok(WithdrawalsResponse { withdrawals })
}

pub fn instruction_payload_of(
    deps: Deps,
    withdrawal_id: u64,
) -> Result<WithdrawalApproval, ContractError> {
    let w = WITHDRAWALS
        .may_load(deps.storage, withdrawal_id)?
        .ok_or(ContractError::WithdrawalNotFound { withdrawal_id })?;
    Ok(instruction_payload(&w))
}

pub fn rolling_usage(
    deps: Deps,
    env: Env,
    owner: String,
) -> Result<RollingUsageResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let owner = deps.api.addr_validate(&owner)?;
    let entries = rolling_entries(
        deps.storage,
        &owner,
        env.block.time.seconds(),
        config.limits.window_seconds,
    )?;
    Ok(RollingUsageResponse {
        used: rolling_used(&entries)?,
        limit: config.limits.rolling,
    })
}
