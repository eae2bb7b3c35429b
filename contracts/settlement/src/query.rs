use cosmwasm_std::{Deps, Env, Order, StdResult};
use cw_storage_plus::Bound;
use usage_common::msg::page_limit;
use usage_common::msg::settlement::{
    CarryResponse, ConfigResponse, EscrowResponse, PayeeAccountResponse, QuoteResponse,
    SettlementResponse, SettlementsResponse, TariffsResponse,
};
use usage_common::payload::SettlementApproval;

use crate::error::ContractError;
use crate::execute::{price_period, validate_addr};
use crate::state::{
    self, tariff_at, CARRIED, CONFIG, ESCROWS, PAYEE_ACCOUNTS, PERIOD_SETTLEMENTS, SETTLEMENTS,
    TARIFFS,
};

pub fn config(deps: Deps, env: Env) -> StdResult<ConfigResponse> {
    let c = CONFIG.load(deps.storage)?;
    Ok(ConfigResponse {
        admin: c.admin,
        usage_proof: c.usage_proof,
        period_proof: c.period_proof,
        ledger: c.ledger,
        tariff: tariff_at(deps.storage, env.block.time.seconds())?,
    })
}

pub fn escrow(
    deps: Deps,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<EscrowResponse, ContractError> {
    let provider = validate_addr(deps.api, &provider)?;
    let tenant = validate_addr(deps.api, &tenant)?;
    Ok(EscrowResponse {
        escrow: ESCROWS
            .may_load(deps.storage, (&provider, &tenant, period_start))?
            .unwrap_or_default(),
    })
}

pub fn carried(
    deps: Deps,
    provider: String,
    tenant: String,
) -> Result<CarryResponse, ContractError> {
    let provider = validate_addr(deps.api, &provider)?;
    let tenant = validate_addr(deps.api, &tenant)?;
    Ok(CarryResponse {
        carry: CARRIED
            .may_load(deps.storage, (&provider, &tenant))?
            .unwrap_or_default(),
    })
}

pub fn tariffs(deps: Deps) -> StdResult<TariffsResponse> {
    let tariffs = TARIFFS
        .range(deps.storage, None, None, Order::Ascending)
        .take(100)
        .collect::<StdResult<Vec<_>>>()?;
    Ok(TariffsResponse { tariffs })
}

pub fn settlement(deps: Deps, settlement_id: u64) -> StdResult<SettlementResponse> {
    Ok(SettlementResponse {
        settlement: SETTLEMENTS.may_load(deps.storage, settlement_id)?,
    })
}

pub fn settlements(
    deps: Deps,
    start_after: Option<u64>,
    limit: Option<u32>,
) -> StdResult<SettlementsResponse> {
    let settlements = SETTLEMENTS
        .range(
            deps.storage,
            start_after.map(Bound::exclusive),
            None,
            Order::Ascending,
        )
        .take(page_limit(limit))
        .map(|r| r.map(|(_, s)| s))
        .collect::<StdResult<Vec<_>>>()?;
    Ok(SettlementsResponse { settlements })
}

pub fn settlement_for_period(
    deps: Deps,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<SettlementResponse, ContractError> {
    let provider = validate_addr(deps.api, &provider)?;
    let tenant = validate_addr(deps.api, &tenant)?;
    let settlement =
        match PERIOD_SETTLEMENTS.may_load(deps.storage, (&provider, &tenant, period_start))? {
            Some(id) => SETTLEMENTS.may_load(deps.storage, id)?,
            None => None,
        };
    Ok(SettlementResponse { settlement })
}

/// The body the committee signs for `ApproveInstruction` (built as the handler builds it).
pub fn instruction_payload(
    deps: Deps,
    settlement_id: u64,
) -> Result<SettlementApproval, ContractError> {
    let s = SETTLEMENTS
        .may_load(deps.storage, settlement_id)?
        .ok_or(ContractError::SettlementNotFound { settlement_id })?;
    Ok(state::instruction_payload(&s))
}

pub fn quote(
    deps: Deps,
    env: Env,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<QuoteResponse, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let provider = validate_addr(deps.api, &provider)?;
    let tenant = validate_addr(deps.api, &tenant)?;
    let (totals, amount) = price_period(
        deps,
        &config,
        &provider,
        &tenant,
        period_start,
        env.block.time.seconds(),
    )?;
    let tariff = tariff_at(deps.storage, period_start)?;
    Ok(QuoteResponse {
        totals,
        amount,
        meets_minimum: !amount.is_zero() && amount >= tariff.minimum_amount,
        currency: config.currency,
    })
}

pub fn payee_account(deps: Deps, provider: String) -> Result<PayeeAccountResponse, ContractError> {
    let provider = validate_addr(deps.api, &provider)?;
    Ok(PayeeAccountResponse {
        account: PAYEE_ACCOUNTS.may_load(deps.storage, &provider)?,
    })
}
