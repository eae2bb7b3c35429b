use std::collections::BTreeSet;

use cosmwasm_std::{Addr, Api, Deps, DepsMut, Env, MessageInfo, Response, Uint128};
use usage_common::client;
use usage_common::events::{
    ConfigUpdated, FundsEscrowed, PayeeAccountSet, SettlementCleared, SettlementDeferred,
    SettlementFailed, SettlementInstructed, SettlementRequested, TypedEvent,
};
use usage_common::governance::{apply_migrate, GovernanceMsg};
use usage_common::msg::ledger::{
    AccountResponse, ExecuteMsg as LedgerExecute, QueryMsg as LedgerQuery,
};
use usage_common::msg::period_proof::{
    BondFate, PeriodProof, PeriodProofResponse, PeriodStatus, QueryMsg as PeriodProofQuery,
};
use usage_common::msg::settlement::SettlementChange;
use usage_common::msg::settlement::{
    Carry, InstantiateMsg, PricingError, Residue, Settlement, SettlementStatus, Tariff,
};
use usage_common::payload::{settlement_end_to_end_id, BankOutcome, SettlementVoucher};
use usage_common::record::Totals;
use usage_common::ThresholdSignature;

use crate::error::ContractError;
use crate::state::{
    instruction_payload, tariff_at, Config, CARRIED, CONFIG, DEFERRED, ESCROWS, GOV,
    MAX_BANK_REF_LEN, NEXT_SETTLEMENT_ID, PAYEE_ACCOUNTS, PERIOD_SETTLEMENTS, SETTLEMENTS, TARIFFS,
    USED_VOUCHERS,
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

/// A second proof from C2, or `NoPeriodProof`.
pub(crate) fn load_period_proof(
    deps: Deps,
    config: &Config,
    provider: &Addr,
    tenant: &Addr,
    period_start: u64,
) -> Result<PeriodProof, ContractError> {
    let resp: PeriodProofResponse = client::query(
        &deps.querier,
        &config.period_proof,
        &PeriodProofQuery::PeriodProof {
            provider: provider.to_string(),
            tenant: tenant.to_string(),
            period_start,
        },
    )?;
    resp.proof.ok_or_else(|| ContractError::NoPeriodProof {
        provider: provider.to_string(),
        tenant: tenant.to_string(),
        period_start,
    })
}

/// The price of `totals` of a period with the tariff in force at the period's start, adding the
/// residues carried from earlier periods, lowered to the leases' cap: (amount, residues left,
/// whether the cap applied).
pub(crate) fn price_usage(
    deps: Deps,
    proof: &PeriodProof,
    totals: &Totals,
    carried: &[Residue],
) -> Result<(Uint128, Vec<Residue>, bool), ContractError> {
    let tariff = tariff_at(deps.storage, proof.period_start)?;
    let (amount, residues) = tariff
        .price_carrying(totals, carried)
        .map_err(pricing_error)?;
    Ok(match proof.price_cap {
        Some(cap) if amount > cap => (cap, residues, true),
        _ => (amount, residues, false),
    })
}

/// The billable totals of a final second proof at block time `now` and their price (without
/// carried amounts or bonds).
pub(crate) fn price_period(
    deps: Deps,
    config: &Config,
    provider: &Addr,
    tenant: &Addr,
    period_start: u64,
    now: u64,
) -> Result<(Totals, Uint128), ContractError> {
    let proof = load_period_proof(deps, config, provider, tenant, period_start)?;
    let totals = proof
        .billable(now)
        .map_err(|reason| ContractError::NotFinal { reason })?;
    let (amount, _, _) = price_usage(deps, &proof, &totals, &[])?;
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
        currency: msg.tariff.currency.clone(),
    };
    CONFIG.save(deps.storage, &config)?;
    TARIFFS.save(deps.storage, 0, &msg.tariff)?;
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
    if DEFERRED.has(deps.storage, (&provider, &tenant, period_start)) {
        return Err(ContractError::Deferred {
            provider: provider.into_string(),
            tenant: tenant.into_string(),
            period_start,
        });
    }
    let now = env.block.time.seconds();
    let proof = load_period_proof(deps.as_ref(), &config, &provider, &tenant, period_start)?;
    let totals = proof
        .billable(now)
        .map_err(|reason| ContractError::NotFinal { reason })?;
    let carry = CARRIED
        .may_load(deps.storage, (&provider, &tenant))?
        .unwrap_or_default();
    let (usage_amount, residues, capped) =
        price_usage(deps.as_ref(), &proof, &totals, &carry.residues)?;
    let (forfeited_bond, returned_bond) = match proof.bond_fate(now) {
        BondFate::Forfeited { amount } => (amount, Uint128::zero()),
        BondFate::Returned { amount } => (Uint128::zero(), amount),
        BondFate::None => (Uint128::zero(), Uint128::zero()),
    };
    let overflow = |_| ContractError::PriceOverflow {
        metric: usage_common::record::Metric::NetTxBytes,
    };
    let amount = usage_amount
        .checked_add(carry.amount)
        .and_then(|a| a.checked_add(forfeited_bond))
        .map_err(overflow)?;
    // What this contract already holds locked in C4 for the period and the carried ones.
    let escrow = ESCROWS
        .may_load(deps.storage, (&provider, &tenant, period_start))?
        .unwrap_or_default();
    let held = escrow
        .usage
        .checked_add(escrow.bond)
        .and_then(|h| h.checked_add(carry.escrowed))
        .map_err(overflow)?;
    let minimum = tariff_at(deps.storage, proof.period_start)?.minimum_amount;
    if amount.is_zero() || amount < minimum {
        // Deferred, not dropped: the amount and what is locked for it ride on to the next
        // settlement of this (provider, tenant); a returned bond goes back now.
        let keep_locked = held.checked_sub(returned_bond).unwrap_or(Uint128::zero());
        let keep_locked = keep_locked.min(amount);
        let release = held.checked_sub(keep_locked).map_err(overflow)?;
        let carried = Carry {
            amount,
            escrowed: keep_locked,
            periods: carry.periods.saturating_add(1),
            residues,
        };
        CARRIED.save(deps.storage, (&provider, &tenant), &carried)?;
        ESCROWS.remove(deps.storage, (&provider, &tenant, period_start));
        DEFERRED.save(deps.storage, (&provider, &tenant, period_start), &())?;
        let mut response = Response::new();
        if !release.is_zero() {
            response = response.add_message(client::execute(
                &config.ledger,
                &LedgerExecute::Unlock {
                    owner: tenant.to_string(),
                    amount: release,
                },
            )?);
        }
        return Ok(response.add_event(
            SettlementDeferred {
                provider: provider.into_string(),
                tenant: tenant.into_string(),
                period_start,
                amount: usage_amount,
                carried: amount,
            }
            .to_event(),
        ));
    }
    let payee_account = PAYEE_ACCOUNTS
        .may_load(deps.storage, &provider)?
        .ok_or_else(|| ContractError::NoPayeeAccount {
            provider: provider.to_string(),
        })?;
    // Funds to lock besides what is held, or held funds to give back.
    let ledger_msg = if amount > held {
        let needed = amount - held;
        // Refused here rather than by the ledger, so the caller gets this contract's typed error.
        let account: AccountResponse = client::query(
            &deps.querier,
            &config.ledger,
            &LedgerQuery::Account {
                address: tenant.to_string(),
            },
        )?;
        if account.available < needed {
            return Err(ContractError::InsufficientFunds {
                needed,
                available: account.available,
            });
        }
        Some(LedgerExecute::Lock {
            owner: tenant.to_string(),
            amount: needed,
        })
    } else if held > amount {
        Some(LedgerExecute::Unlock {
            owner: tenant.to_string(),
            amount: held - amount,
        })
    } else {
        None
    };

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
        currency: config.currency.clone(),
        payee_account,
        end_to_end_id: settlement_end_to_end_id(
            &env.block.chain_id,
            env.contract.address.as_str(),
            settlement_id,
        ),
        status: SettlementStatus::Requested,
        requested_at: now,
        usage_amount,
        carried_amount: carry.amount,
        forfeited_bond,
        late_records: proof.late_records,
        capped,
    };
    SETTLEMENTS.save(deps.storage, settlement_id, &settlement)?;
    PERIOD_SETTLEMENTS.save(
        deps.storage,
        (&provider, &tenant, period_start),
        &settlement_id,
    )?;
    NEXT_SETTLEMENT_ID.save(deps.storage, &next)?;
    ESCROWS.remove(deps.storage, (&provider, &tenant, period_start));
    CARRIED.save(
        deps.storage,
        (&provider, &tenant),
        &Carry {
            residues,
            ..Carry::default()
        },
    )?;

    // Locked in the same transaction: if the ledger refuses, nothing of this happened.
    let mut response = Response::new();
    if let Some(msg) = ledger_msg {
        response = response.add_message(client::execute(&config.ledger, &msg)?);
    }
    Ok(response
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

/// Which escrow C2 asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscrowKind {
    /// The period's price, when it is proven.
    Usage,
    /// The dispute bond, when it is disputed.
    Bond,
}

/// Locks a proven period's price or its dispute bond in C4; only C2 asks.
pub fn escrow(
    deps: DepsMut,
    info: MessageInfo,
    kind: EscrowKind,
    provider: String,
    tenant: String,
    period_start: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if info.sender != config.period_proof {
        return Err(ContractError::NotPeriodProof);
    }
    let provider = validate_addr(deps.api, &provider)?;
    // A tenant that is not an address has no funds to escrow (and cannot be billed).
    let Ok(tenant) = deps.api.addr_validate(&tenant) else {
        return Ok(Response::new());
    };
    let proof = load_period_proof(deps.as_ref(), &config, &provider, &tenant, period_start)?;
    let account: AccountResponse = client::query(
        &deps.querier,
        &config.ledger,
        &LedgerQuery::Account {
            address: tenant.to_string(),
        },
    )?;
    let mut escrow = ESCROWS
        .may_load(deps.storage, (&provider, &tenant, period_start))?
        .unwrap_or_default();
    let (what, amount, locked) = match kind {
        EscrowKind::Usage => {
            // A price too large to compute escrows all there is; the proof itself never fails.
            let price = price_usage(deps.as_ref(), &proof, &proof.totals, &[])
                .map_or(Uint128::MAX, |(price, _, _)| price);
            // As much as there is: a proof is never refused for the tenant's balance.
            let locked = price.min(account.available);
            escrow.usage =
                escrow
                    .usage
                    .checked_add(locked)
                    .map_err(|_| ContractError::PriceOverflow {
                        metric: usage_common::record::Metric::NetTxBytes,
                    })?;
            ("usage", price, locked)
        }
        EscrowKind::Bond => {
            let PeriodStatus::Disputed { bond, .. } = proof.status else {
                return Err(ContractError::NotFinal {
                    reason: usage_common::msg::period_proof::NotFinal::Disputed { until: 0 },
                });
            };
            // No bond, no dispute: the dispute fails with this error.
            if account.available < bond {
                return Err(ContractError::InsufficientFunds {
                    needed: bond,
                    available: account.available,
                });
            }
            escrow.bond = bond;
            ("bond", bond, bond)
        }
    };
    ESCROWS.save(deps.storage, (&provider, &tenant, period_start), &escrow)?;
    let mut response = Response::new();
    if !locked.is_zero() {
        response = response.add_message(client::execute(
            &config.ledger,
            &LedgerExecute::Lock {
                owner: tenant.to_string(),
                amount: locked,
            },
        )?);
    }
    Ok(response.add_event(
        FundsEscrowed {
            provider: provider.into_string(),
            tenant: tenant.into_string(),
            period_start,
            what: what.to_string(),
            amount,
            locked,
        }
        .to_event(),
    ))
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
            // Amounts carried in from deferred periods are owed still: they ride on again.
            if !settlement.carried_amount.is_zero() {
                let key = (&settlement.provider, &settlement.tenant);
                let mut carry = CARRIED.may_load(deps.storage, key)?.unwrap_or_default();
                carry.amount = carry
                    .amount
                    .checked_add(settlement.carried_amount)
                    .map_err(|_| ContractError::PriceOverflow {
                        metric: usage_common::record::Metric::NetTxBytes,
                    })?;
                CARRIED.save(deps.storage, key, &carry)?;
            }
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
    env: Env,
    info: MessageInfo,
    tariff: Tariff,
    effective_from: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    validate_tariff(&tariff)?;
    // Balances in C4 are in the deployment's one currency.
    if tariff.currency != config.currency {
        return Err(ContractError::CurrencyChange {
            current: config.currency,
            proposed: tariff.currency,
        });
    }
    // Only periods that have not started yet: usage is priced as it was when it was consumed;
    // and with the timelock's notice, so tenants see a new price before it applies.
    let now = env.block.time.seconds();
    if effective_from <= now {
        return Err(ContractError::RetroactiveTariff {
            effective_from,
            now,
        });
    }
    let earliest = now.saturating_add(GOV.delay(deps.storage)?);
    if effective_from < earliest {
        return Err(ContractError::TariffNoticeTooShort {
            effective_from,
            earliest,
        });
    }
    TARIFFS.save(deps.storage, effective_from, &tariff)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_tariff", config.admin)))
}

/// The admin hand-over and the timelock; an applied change takes effect here.
pub fn governance(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: GovernanceMsg<SettlementChange>,
) -> Result<Response, ContractError> {
    GOV.execute(
        deps,
        &env,
        &info,
        &CONFIG,
        msg,
        |deps, _, change| match change {
            SettlementChange::Timelock { seconds } => {
                Ok(GOV.apply_timelock(deps.storage, seconds)?)
            }
            SettlementChange::Migrate { code_id } => Ok(apply_migrate(&env, code_id)?),
        },
    )
}
