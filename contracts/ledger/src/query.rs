//! Handlers of C4's queries. An address never credited answers with zero balances.

use cosmwasm_std::{Addr, Deps};
use usage_common::msg::ledger::{
    AccountResponse, BalanceResponse, ConfigResponse, DepositResponse, TokenInfoResponse,
    TotalSupplyResponse,
};

use crate::error::ContractError;
use crate::state::{BALANCES, CONFIG, DEPOSITS, TOTALS};

pub fn config(deps: Deps) -> Result<ConfigResponse, ContractError> {
    Ok(CONFIG.load(deps.storage)?.to_response())
}

fn load_account(deps: Deps, address: &str) -> Result<AccountResponse, ContractError> {
    let addr: Addr = deps.api.addr_validate(address)?;
    match BALANCES.may_load(deps.storage, &addr)? {
        Some(balance) => balance.to_response(),
        None => Ok(AccountResponse::default()),
    }
}

pub fn balance(deps: Deps, address: String) -> Result<BalanceResponse, ContractError> {
    Ok(BalanceResponse {
        balance: load_account(deps, &address)?.available,
    })
}

pub fn account(deps: Deps, address: String) -> Result<AccountResponse, ContractError> {
    load_account(deps, &address)
}

pub fn token_info(deps: Deps) -> Result<TokenInfoResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let totals = TOTALS.load(deps.storage)?;
    Ok(TokenInfoResponse {
        name: format!("usagechain {} ledger", config.currency),
        symbol: config.currency,
        decimals: config.decimals,
        total_supply: totals.total,
    })
}

pub fn total_supply(deps: Deps) -> Result<TotalSupplyResponse, ContractError> {
    Ok(TOTALS.load(deps.storage)?.to_response())
}

pub fn deposit(deps: Deps, bank_ref: String) -> Result<DepositResponse, ContractError> {
    Ok(DepositResponse {
        deposit: DEPOSITS.may_load(deps.storage, &bank_ref)?,
    })
}
