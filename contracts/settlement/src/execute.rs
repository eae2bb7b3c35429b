use std::collections::BTreeSet;

use cosmwasm_std::{Addr, Api, Deps, DepsMut, Env, MessageInfo, Response, Uint128};
use usage_common::client;
use usage_common::events::{
    ConfigUpdated, PayeeAccountSet, SettlementCleared, SettlementFailed, SettlementInstructed,
    SettlementRequested, TypedEvent,
};
use usage_common::msg::ledger::{
    AccountResponse, ExecuteMsg as LedgerExecute, QueryMsg as LedgerQuery,
};
use usage_common::msg::period_proof::{PeriodProofResponse, QueryMsg as PeriodProofQuery};
use usage_common::msg::settlement::{
    InstantiateMsg, PricingError, Settlement, SettlementStatus, Tariff,
};
use usage_common::payload::{settlement_end_to_end_id, BankOutcome, SettlementVoucher};
use usage_common::record::Totals;
use usage_common::ThresholdSignature;

use crate::error::ContractError;
use crate::state::{
    instruction_payload, Config, CONFIG, MAX_BANK_REF_LEN, NEXT_SETTLEMENT_ID, PAYEE_ACCOUNTS,
    PERIOD_SETTLEMENTS, SETTLEMENTS, USED_VOUCHERS,
};

pub(crate) fn validate_addr(api: &dyn Api, address: &str) -> Result<Addr, ContractError> {
    api.addr_validate(address)
        .map_err(|_| ContractError::InvalidAddress {
            address: address.to_string(),
        })
}

/// A tariff is in a three-letter upper-case currency and prices each metric at most once with a
/// positive unit.
fn validate_tariff(t: &Tariff) -> Result<(), ContractError> {
    let invalid = |reason: &str| ContractError::InvalidTariff {
        reason: reason.to_string(),
    };
    if t.currency.len() != 3 || !t.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "currency must be three upper-case letters (ISO 4217)",
        ));
    }
    if t.lines.is_empty() {
        return Err(invalid("a tariff needs at least one line"));
    }
    let mut seen = BTreeSet::new();
    for line in &t.lines {
        if line.per_units.is_zero() {
            return Err(invalid("per_units must be positive"));
        }
        if !seen.insert(line.metric) {
            return Err(invalid("a metric is priced twice"));
        }
    }
    Ok(())
}

/// 5 to 34 ASCII letters and digits (an IBAN is at most 34).
fn validate_payee_account(account: &str) -> Result<(), ContractError> {
    if !(5..=34).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ContractError::InvalidPayeeAccount {
            account: account.to_string(),
        });
    }
    Ok(())
}

fn load_settlement(deps: Deps, settlement_id: u64) -> Result<Settlement, ContractError> {
    SETTLEMENTS
        .may_load(deps.storage, settlement_id)?
        .ok_or(ContractError::SettlementNotFound { settlement_id })
}

pub(crate) fn pricing_error(e: PricingError) -> ContractError {
    match e {
        PricingError::ZeroUnit { metric } => ContractError::ZeroUnit { metric },
        PricingError::Overflow { metric } => ContractError::PriceOverflow { metric },
    }
}

/// The billable totals of a final second proof at block time `now` and their price under the
/// current tariff.
pub(crate) fn price_period(
    deps: Deps,
    config: &Config,
    provider: &Addr,
    tenant: &Addr,
    period_start: u64,
    now: u64,
) -> Result<(Totals, Uint128), ContractError> {
    let resp: PeriodProofResponse = client::query(
        &deps.querier,
        &config.period_proof,
        &PeriodProofQuery::PeriodProof {
            provider: provider.to_string(),
            tenant: tenant.to_string(),
            period_start,
        },
    )?;
    let proof = resp.proof.ok_or_else(|| ContractError::NoPeriodProof {
        provider: provider.to_string(),
        tenant: tenant.to_string(),
        period_start,
    })?;
    let totals = proof
        .billable(now)
        .map_err(|reason| ContractError::NotFinal { reason })?;
    let amount = config.tariff.price(&totals).map_err(pricing_error)?;
    Ok((totals, amount))
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
    validate_tariff(&msg.tariff)?;
    let config = Config {
        admin,
        usage_proof: validate_addr(deps.api, &msg.usage_proof)?,
        period_proof: validate_addr(deps.api, &msg.period_proof)?,
        ledger: validate_addr(deps.api, &msg.ledger)?,
        tariff: msg.tariff,
    };
    CONFIG.save(deps.storage, &config)?;
    NEXT_SETTLEMENT_ID.save(deps.storage, &1)?;
    Ok(Response::new().add_event(ConfigUpdated::event("instantiate", config.admin)))
}

pub fn set_payee_account(
    deps: DepsMut,
    info: MessageInfo,
    account: String,
) -> Result<Response, ContractError> {
    validate_payee_account(&account)?;
    PAYEE_ACCOUNTS.save(deps.storage, &info.sender, &account)?;
    Ok(Response::new().add_event(
        PayeeAccountSet {
            provider: info.sender.to_string(),
            account,
        }
        .to_event(),
    ))
}

pub fn request_settlement(
    deps: DepsMut,
    env: Env,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let provider = validate_addr(deps.api, &provider)?;
    let tenant = validate_addr(deps.api, &tenant)?;
    // One live settlement per period: a new request is possible only after the bank rejected
    // the previous one (its funds are unlocked), so a period is never billed twice.
    if let Some(settlement_id) =
        PERIOD_SETTLEMENTS.may_load(deps.storage, (&provider, &tenant, period_start))?
    {
        let previous = load_settlement(deps.as_ref(), settlement_id)?;
        if !matches!(previous.status, SettlementStatus::Failed { .. }) {
            return Err(ContractError::AlreadyRequested { settlement_id });
        }
    }
    let now = env.block.time.seconds();
    let (_, amount) = price_period(
        deps.as_ref(),
        &config,
        &provider,
        &tenant,
        period_start,
        now,
    )?;
    if amount.is_zero() {
        return Err(ContractError::NothingToBill {
            provider: provider.into_string(),
            tenant: tenant.into_string(),
            period_start,
        });
    }
    let minimum = config.tariff.minimum_amount;
    if amount < minimum {
        return Err(ContractError::BelowMinimum { amount, minimum });
    }
    let payee_account = PAYEE_ACCOUNTS
        .may_load(deps.storage, &provider)?
        .ok_or_else(|| ContractError::NoPayeeAccount {
            provider: provider.to_string(),
        })?;
    // Refused here rather than by the ledger, so the tenant gets this contract's typed error.
    let account: AccountResponse = client::query(
        &deps.querier,
        &config.ledger,
        &LedgerQuery::Account {
            address: tenant.to_string(),
        },
    )?;
    if account.available < amount {
        return Err(ContractError::InsufficientFunds {
            needed: amount,
            available: account.available,
        });
    }

    let settlement_id = NEXT_SETTLEMENT_ID.load(deps.storage)?;
    let next = settlement_id
        .checked_add(1)
        .ok_or(ContractError::IdOverflow)?;
    let settlement = Settlement {
        settlement_id,
        provider: provider.clone(),
        tenant: tenant.clone(),
        period_start,
        amount,
        currency: config.tariff.currency.clone(),
        payee_account,
        end_to_end_id: settlement_end_to_end_id(settlement_id),
        status: SettlementStatus::Requested,
        requested_at: now,
    };
    SETTLEMENTS.save(deps.storage, settlement_id, &settlement)?;
    PERIOD_SETTLEMENTS.save(
        deps.storage,
        (&provider, &tenant, period_start),
        &settlement_id,
    )?;
    NEXT_SETTLEMENT_ID.save(deps.storage, &next)?;

    // Locked in the same transaction: if the ledger refuses, nothing of this happened.
    let lock = client::execute(
        &config.ledger,
        &LedgerExecute::Lock {
            owner: tenant.to_string(),
            amount,
        },
    )?;
    Ok(Response::new()
        .add_message(lock)
        .add_event(
            SettlementRequested {
                settlement_id,
                provider: provider.into_string(),
                tenant: tenant.into_string(),
                period_start,
                amount,
                currency: settlement.currency,
            }
            .to_event(),
        )
        .set_data(settlement_id.to_be_bytes()))
}

pub fn approve_instruction(
    deps: DepsMut,
    env: Env,
    settlement_id: u64,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let mut settlement = load_settlement(deps.as_ref(), settlement_id)?;
    if settlement.status != SettlementStatus::Requested {
        return Err(ContractError::NotRequested {
            settlement_id,
            status: settlement.status,
        });
    }
    let payload = instruction_payload(&settlement);
    let committee = client::query_committee(&deps.querier, &config.usage_proof)?;
    committee.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &payload,
        &signature,
    )?;
    settlement.status = SettlementStatus::Instructed;
    SETTLEMENTS.save(deps.storage, settlement_id, &settlement)?;

    Ok(Response::new().add_event(
        SettlementInstructed {
            settlement_id,
            end_to_end_id: settlement.end_to_end_id,
            amount: settlement.amount,
            payee_account: settlement.payee_account,
        }
        .to_event(),
    ))
}

pub fn record_voucher(
    deps: DepsMut,
    env: Env,
    voucher: SettlementVoucher,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let bank_ref = voucher.bank_ref.clone();
    if bank_ref.is_empty() || bank_ref.len() > MAX_BANK_REF_LEN {
        return Err(ContractError::InvalidBankRef {
            bank_ref,
            max: MAX_BANK_REF_LEN,
        });
    }
    if USED_VOUCHERS.has(deps.storage, &bank_ref) {
        return Err(ContractError::VoucherAlreadyUsed { bank_ref });
    }
    let settlement_id = voucher.settlement_id;
    let mut settlement = load_settlement(deps.as_ref(), settlement_id)?;
    if settlement.status != SettlementStatus::Instructed {
        return Err(ContractError::NotInstructed {
            settlement_id,
            status: settlement.status,
        });
    }
    if voucher.end_to_end_id != settlement.end_to_end_id {
        return Err(ContractError::EndToEndIdMismatch {
            settlement_id,
            expected: settlement.end_to_end_id,
            got: voucher.end_to_end_id,
        });
    }
    if voucher.amount != settlement.amount {
        return Err(ContractError::AmountMismatch {
            settlement_id,
            expected: settlement.amount,
            got: voucher.amount,
        });
    }
    let committee = client::query_committee(&deps.querier, &config.usage_proof)?;
    committee.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &voucher,
        &signature,
    )?;

    let owner = settlement.tenant.to_string();
    let amount = settlement.amount;
    let (ledger_msg, event) = match voucher.outcome {
        BankOutcome::Booked => {
            settlement.status = SettlementStatus::Cleared {
                bank_ref: bank_ref.clone(),
            };
            (
                LedgerExecute::DebitLocked { owner, amount },
                SettlementCleared {
                    settlement_id,
                    bank_ref: bank_ref.clone(),
                    amount,
                }
                .to_event(),
            )
        }
        BankOutcome::Rejected => {
            settlement.status = SettlementStatus::Failed {
                bank_ref: bank_ref.clone(),
            };
            (
                LedgerExecute::Unlock { owner, amount },
                SettlementFailed {
                    settlement_id,
                    bank_ref: bank_ref.clone(),
                    amount,
                }
                .to_event(),
            )
        }
    };
    USED_VOUCHERS.save(deps.storage, &bank_ref, &settlement_id)?;
    SETTLEMENTS.save(deps.storage, settlement_id, &settlement)?;

    Ok(Response::new()
        .add_message(client::execute(&config.ledger, &ledger_msg)?)
        .add_event(event))
}

pub fn update_tariff(
    deps: DepsMut,
    info: MessageInfo,
    tariff: Tariff,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    validate_tariff(&tariff)?;
    // Balances in C4 are in the deployment's one currency.
    if tariff.currency != config.tariff.currency {
        return Err(ContractError::CurrencyChange {
            current: config.tariff.currency,
            proposed: tariff.currency,
        });
    }
    config.tariff = tariff;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_tariff", config.admin)))
}

pub fn update_admin(
    deps: DepsMut,
    info: MessageInfo,
    admin: String,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    config.admin = validate_addr(deps.api, &admin)?;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_admin", config.admin)))
}
