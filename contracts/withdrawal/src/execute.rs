//! Handlers of C5's instantiate and execute messages.

use cosmwasm_std::{
    Addr, DepsMut, Empty, Env, MessageInfo, OverflowError, OverflowOperation, Response, Uint128,
};
use usage_common::client::{self, query_committee};
use usage_common::events::{
    ConfigUpdated, TypedEvent, WithdrawalCancelled, WithdrawalCompleted, WithdrawalFailed,
    WithdrawalInstructed, WithdrawalReleased, WithdrawalRequested,
};
use usage_common::governance::{apply_migrate, GovernanceError, GovernanceMsg};
use usage_common::msg::ledger::{
    AccountResponse, ExecuteMsg as LedgerExecute, QueryMsg as LedgerQuery,
};
use usage_common::msg::usage_proof::{QueryMsg as UsageProofQuery, TenantReserveResponse};
use usage_common::msg::withdrawal::WithdrawalChange;
use usage_common::msg::withdrawal::{InstantiateMsg, Limits, Withdrawal, WithdrawalStatus};
use usage_common::payload::{withdrawal_end_to_end_id, BankOutcome, WithdrawalVoucher};
use usage_common::ThresholdSignature;

use crate::error::ContractError;
use crate::state::{
    instruction_payload, invalid_status, rolling_entries, rolling_used, save_rolling, status_name,
    validate_beneficiary, validate_limits, Config, RollingEntry, BANK_REFS, CONFIG, GOV,
    MAX_BANK_REF_LEN, NEXT_ID, OWNER_INDEX, WITHDRAWALS,
};

pub fn instantiate(
    deps: DepsMut,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, ContractError> {
    let admin = match msg.admin {
        Some(a) => deps.api.addr_validate(&a)?,
        None => info.sender,
    };
    let config = Config {
        admin,
        usage_proof: deps.api.addr_validate(&msg.usage_proof)?,
        ledger: deps.api.addr_validate(&msg.ledger)?,
        currency: msg.currency,
        limits: msg.limits,
        paused: false,
    };
    config.validate()?;
    CONFIG.save(deps.storage, &config)?;
    NEXT_ID.save(deps.storage, &1)?;
    Ok(Response::new().add_event(ConfigUpdated::event("instantiate", config.admin)))
}

fn load(deps: &DepsMut, withdrawal_id: u64) -> Result<Withdrawal, ContractError> {
    WITHDRAWALS
        .may_load(deps.storage, withdrawal_id)?
        .ok_or(ContractError::WithdrawalNotFound { withdrawal_id })
}

fn ledger_msg(
    config: &Config,
    msg: &LedgerExecute,
) -> Result<cosmwasm_std::CosmosMsg, ContractError> {
    Ok(client::execute(&config.ledger, msg)?)
}

/// Counts `amount` against `owner`'s rolling limit from `now`.
fn add_rolling(
    deps: &mut DepsMut,
    limits: &Limits,
    owner: &Addr,
    now: u64,
    amount: Uint128,
) -> Result<(), ContractError> {
    let mut entries = rolling_entries(deps.storage, owner, now, limits.window_seconds)?;
    entries.push(RollingEntry { at: now, amount });
    save_rolling(deps.storage, owner, entries)
}

/// The owner locks `amount` for a payout to `beneficiary`; delayed if over a limit.
pub fn request_withdrawal(
    mut deps: DepsMut,
    env: Env,
    info: MessageInfo,
    amount: Uint128,
    beneficiary: String,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused);
    }
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    validate_beneficiary(&beneficiary)?;
    let owner = info.sender;

    // Checked here, so the owner gets this contract's typed error rather than C4's.
    let account: AccountResponse = client::query(
        &deps.querier,
        &config.ledger,
        &LedgerQuery::Account {
            address: owner.to_string(),
        },
    )?;
    if account.available < amount {
        return Err(ContractError::InsufficientFunds {
            needed: amount,
            available: account.available,
        });
    }
    // What the owner's open leases may still bill stays: a tenant cannot use and leave.
    let reserve: TenantReserveResponse = client::query(
        &deps.querier,
        &config.usage_proof,
        &UsageProofQuery::TenantReserve {
            tenant: owner.to_string(),
        },
    )?;
    if account.available.checked_sub(amount)? < reserve.reserve {
        return Err(ContractError::ReservedForLeases {
            reserve: reserve.reserve,
            available: account.available,
            amount,
        });
    }

    let now = env.block.time.seconds();
    let limits = &config.limits;
    let entries = rolling_entries(deps.storage, &owner, now, limits.window_seconds)?;
    let used = rolling_used(&entries)?;
    let over_limit = amount > limits.per_request || used.checked_add(amount)? > limits.rolling;
    let status = if over_limit {
        let release_at = now
            .checked_add(limits.delay_seconds)
            .ok_or(OverflowError::new(OverflowOperation::Add))?;
        save_rolling(deps.storage, &owner, entries)?;
        WithdrawalStatus::Delayed { release_at }
    } else {
        add_rolling(&mut deps, limits, &owner, now, amount)?;
        WithdrawalStatus::Requested
    };

    let withdrawal_id = NEXT_ID.load(deps.storage)?;
    let next = withdrawal_id
        .checked_add(1)
        .ok_or(OverflowError::new(OverflowOperation::Add))?;
    NEXT_ID.save(deps.storage, &next)?;
    let release_at = match status {
        WithdrawalStatus::Delayed { release_at } => release_at,
        _ => 0,
    };
    let withdrawal = Withdrawal {
        withdrawal_id,
        owner: owner.clone(),
        amount,
        currency: config.currency.clone(),
        beneficiary,
        end_to_end_id: withdrawal_end_to_end_id(
            &env.block.chain_id,
            env.contract.address.as_str(),
            withdrawal_id,
        ),
        status,
        requested_at: now,
    };
    WITHDRAWALS.save(deps.storage, withdrawal_id, &withdrawal)?;
    let status = status_name(&withdrawal.status).to_string();
    OWNER_INDEX.save(deps.storage, (&owner, withdrawal_id), &Empty {})?;

    let lock = ledger_msg(
        &config,
        &LedgerExecute::Lock {
            owner: owner.to_string(),
            amount,
        },
    )?;
    Ok(Response::new().add_message(lock).add_event(
        WithdrawalRequested {
            withdrawal_id,
            owner: owner.into_string(),
            amount,
            beneficiary_account: withdrawal.beneficiary,
            status,
            release_at,
        }
        .to_event(),
    ))
}

/// The owner cancels a request still waiting out its delay; the funds are unlocked.
///
/// Only `Delayed`: once a withdrawal is payable (`Requested`) the committee may sign its
/// instruction, and a signed instruction is what the bank pays, so from then on the funds stay
/// locked until the bank's voucher says the payment was booked or rejected.
pub fn cancel(
    deps: DepsMut,
    info: MessageInfo,
    withdrawal_id: u64,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let mut w = load(&deps, withdrawal_id)?;
    if info.sender != w.owner {
        return Err(ContractError::NotOwner { withdrawal_id });
    }
    if !matches!(w.status, WithdrawalStatus::Delayed { .. }) {
        return Err(invalid_status(&w));
    }
    w.status = WithdrawalStatus::Cancelled;
    WITHDRAWALS.save(deps.storage, withdrawal_id, &w)?;
    let unlock = ledger_msg(
        &config,
        &LedgerExecute::Unlock {
            owner: w.owner.to_string(),
            amount: w.amount,
        },
    )?;
    Ok(Response::new().add_message(unlock).add_event(
        WithdrawalCancelled {
            withdrawal_id,
            amount: w.amount,
        }
        .to_event(),
    ))
}

/// Anyone: a delayed withdrawal whose release time has come becomes payable.
pub fn release(mut deps: DepsMut, env: Env, withdrawal_id: u64) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused);
    }
    let mut w = load(&deps, withdrawal_id)?;
    let WithdrawalStatus::Delayed { release_at } = w.status else {
        return Err(invalid_status(&w));
    };
    let now = env.block.time.seconds();
    if now < release_at {
        return Err(ContractError::NotYetReleasable {
            withdrawal_id,
            release_at,
        });
    }
    add_rolling(&mut deps, &config.limits, &w.owner, now, w.amount)?;
    w.status = WithdrawalStatus::Requested;
    WITHDRAWALS.save(deps.storage, withdrawal_id, &w)?;
    Ok(Response::new().add_event(WithdrawalReleased { withdrawal_id }.to_event()))
}

/// Anyone: records the committee's approval of the payment instruction of a payable withdrawal.
pub fn approve_instruction(
    deps: DepsMut,
    env: Env,
    withdrawal_id: u64,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let mut w = load(&deps, withdrawal_id)?;
    if w.status != WithdrawalStatus::Requested {
        return Err(invalid_status(&w));
    }
    let committee = query_committee(&deps.querier, &config.usage_proof)?;
    committee.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &instruction_payload(&w),
        &signature,
    )?;
    w.status = WithdrawalStatus::Instructed;
    WITHDRAWALS.save(deps.storage, withdrawal_id, &w)?;
    Ok(Response::new().add_event(
        WithdrawalInstructed {
            withdrawal_id,
            end_to_end_id: w.end_to_end_id,
        }
        .to_event(),
    ))
}

/// Anyone: applies the bank's committee-confirmed booking of an instructed withdrawal.
pub fn record_voucher(
    deps: DepsMut,
    env: Env,
    voucher: WithdrawalVoucher,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if voucher.bank_ref.is_empty() || voucher.bank_ref.len() > MAX_BANK_REF_LEN {
        return Err(ContractError::InvalidBankRef {
            bank_ref: voucher.bank_ref,
            max: MAX_BANK_REF_LEN,
        });
    }
    if BANK_REFS.has(deps.storage, &voucher.bank_ref) {
        return Err(ContractError::VoucherAlreadyUsed {
            bank_ref: voucher.bank_ref,
        });
    }
    let withdrawal_id = voucher.withdrawal_id;
    let mut w = load(&deps, withdrawal_id)?;
    if w.status != WithdrawalStatus::Instructed {
        return Err(invalid_status(&w));
    }
    if voucher.end_to_end_id != w.end_to_end_id {
        return Err(ContractError::EndToEndIdMismatch {
            withdrawal_id,
            expected: w.end_to_end_id,
            got: voucher.end_to_end_id,
        });
    }
    if voucher.amount != w.amount {
        return Err(ContractError::AmountMismatch {
            withdrawal_id,
            expected: w.amount,
            got: voucher.amount,
        });
    }
    let committee = query_committee(&deps.querier, &config.usage_proof)?;
    committee.verify(
        deps.api,
        &env.block.chain_id,
        env.contract.address.as_str(),
        &voucher,
        &signature,
    )?;

    BANK_REFS.save(deps.storage, &voucher.bank_ref, &withdrawal_id)?;
    let owner = w.owner.to_string();
    let (status, ledger, event) = match voucher.outcome {
        BankOutcome::Booked => (
            WithdrawalStatus::Completed {
                bank_ref: voucher.bank_ref.clone(),
            },
            LedgerExecute::DebitLocked {
                owner,
                amount: w.amount,
            },
            WithdrawalCompleted {
                withdrawal_id,
                bank_ref: voucher.bank_ref,
                amount: w.amount,
            }
            .to_event(),
        ),
        BankOutcome::Rejected => (
            WithdrawalStatus::Failed {
                bank_ref: voucher.bank_ref.clone(),
            },
            LedgerExecute::Unlock {
                owner,
                amount: w.amount,
            },
            WithdrawalFailed {
                withdrawal_id,
                bank_ref: voucher.bank_ref,
                amount: w.amount,
            }
            .to_event(),
        ),
    };
    w.status = status;
    WITHDRAWALS.save(deps.storage, withdrawal_id, &w)?;
    Ok(Response::new()
        .add_message(ledger_msg(&config, &ledger)?)
        .add_event(event))
}

/// Admin: tightens the limits at once; limits that let more out, or sooner, wait in the
/// timelock.
pub fn update_limits(
    deps: DepsMut,
    info: MessageInfo,
    limits: Limits,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    validate_limits(&limits)?;
    let current = &config.limits;
    let tighter = limits.per_request <= current.per_request
        && limits.rolling <= current.rolling
        && limits.window_seconds >= current.window_seconds
        && limits.delay_seconds >= current.delay_seconds;
    if !tighter {
        return Err(GovernanceError::Timelocked.into());
    }
    config.limits = limits;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_limits", config.admin)))
}

/// Admin: stops or resumes withdrawal requests and releases at once.
pub fn set_paused(
    deps: DepsMut,
    info: MessageInfo,
    paused: bool,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize(&info.sender)?;
    config.paused = paused;
    CONFIG.save(deps.storage, &config)?;
    let what = if paused { "pause" } else { "unpause" };
    Ok(Response::new().add_event(ConfigUpdated::event(what, config.admin)))
}

/// The admin hand-over and the timelock; an applied change takes effect here.
pub fn governance(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: GovernanceMsg<WithdrawalChange>,
) -> Result<Response, ContractError> {
    GOV.execute(
        deps,
        &env,
        &info,
        &CONFIG,
        msg,
        |deps, mut config, change| match change {
            WithdrawalChange::Limits { limits } => {
                validate_limits(&limits)?;
                config.limits = limits;
                CONFIG.save(deps.storage, &config)?;
                Ok(Response::new().add_event(ConfigUpdated::event("update_limits", &config.admin)))
            }
            WithdrawalChange::Timelock { seconds } => {
                Ok(GOV.apply_timelock(deps.storage, seconds)?)
            }
            WithdrawalChange::Migrate { code_id } => Ok(apply_migrate(&env, code_id)?),
        },
    )
}
