//! Handlers of C4's instantiate and execute messages.

use cosmwasm_std::{Addr, Api, DepsMut, Env, MessageInfo, Response, Uint128};
use usage_common::client::query_committee;
use usage_common::events::{ConfigUpdated, DepositCredited, FundsMoved, TypedEvent};
use usage_common::governance::{apply_migrate, GovernanceError, GovernanceMsg};
use usage_common::msg::ledger::LedgerChange;
use usage_common::msg::ledger::{Deposit, InstantiateMsg};
use usage_common::payload::DepositVoucher;
use usage_common::ThresholdSignature;

use crate::error::ContractError;
use crate::state::{
    Balance, Config, Totals, BALANCES, CONFIG, DEPOSITS, GOV, MAX_BANK_REF_LEN, TOTALS,
};

fn validate_opt(api: &dyn Api, addr: Option<String>) -> Result<Option<Addr>, ContractError> {
    Ok(addr.map(|a| api.addr_validate(&a)).transpose()?)
}

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
        currency: msg.currency,
        decimals: msg.decimals,
        settlement: validate_opt(deps.api, msg.settlement)?,
        withdrawal: validate_opt(deps.api, msg.withdrawal)?,
        paused: false,
    };
    config.validate()?;
    CONFIG.save(deps.storage, &config)?;
    TOTALS.save(deps.storage, &Totals::default())?;
    Ok(Response::new().add_event(ConfigUpdated::event("instantiate", config.admin)))
}

/// Checks everything about a voucher that needs no state.
fn check_voucher(
    api: &dyn Api,
    config: &Config,
    v: &DepositVoucher,
) -> Result<Addr, ContractError> {
    if v.currency != config.currency {
        return Err(ContractError::WrongCurrency {
            expected: config.currency.clone(),
            got: v.currency.clone(),
        });
    }
    if v.amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    if v.bank_ref.is_empty() || v.bank_ref.len() > MAX_BANK_REF_LEN {
        return Err(ContractError::InvalidBankRef {
            bank_ref: v.bank_ref.clone(),
            max: MAX_BANK_REF_LEN,
        });
    }
    api.addr_validate(&v.beneficiary)
        .map_err(|_| ContractError::InvalidBeneficiary {
            beneficiary: v.beneficiary.clone(),
        })
}

/// Credits a committee-signed bank credit to its beneficiary, once per bank reference.
pub fn deposit(
    deps: DepsMut,
    env: Env,
    voucher: DepositVoucher,
    signature: ThresholdSignature,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if config.paused {
        return Err(ContractError::Paused);
    }
    let beneficiary = check_voucher(deps.api, &config, &voucher)?;
    if DEPOSITS.has(deps.storage, &voucher.bank_ref) {
        return Err(ContractError::VoucherAlreadyUsed {
            bank_ref: voucher.bank_ref,
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

    let mut balance = BALANCES
        .may_load(deps.storage, &beneficiary)?
        .unwrap_or_default();
    balance.credit(voucher.amount)?;
    let mut totals = TOTALS.load(deps.storage)?;
    totals.deposit(voucher.amount)?;

    BALANCES.save(deps.storage, &beneficiary, &balance)?;
    TOTALS.save(deps.storage, &totals)?;
    DEPOSITS.save(
        deps.storage,
        &voucher.bank_ref,
        &Deposit {
            bank_ref: voucher.bank_ref.clone(),
            beneficiary: beneficiary.clone(),
            amount: voucher.amount,
            height: env.block.height,
        },
    )?;
    Ok(Response::new().add_event(
        DepositCredited {
            bank_ref: voucher.bank_ref,
            beneficiary: beneficiary.into_string(),
            amount: voucher.amount,
        }
        .to_event(),
    ))
}

/// What a fund mover asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundsMove {
    /// available -> locked
    Lock,
    /// locked -> available
    Unlock,
    /// locked -> out of the ledger
    Debit,
}

impl FundsMove {
    fn kind(self) -> &'static str {
        match self {
            FundsMove::Lock => "lock",
            FundsMove::Unlock => "unlock",
            FundsMove::Debit => "debit",
        }
    }
}

/// Lock, unlock or debit `amount` of `owner`; only C3 settlement or C5 withdrawal.
pub fn move_funds(
    deps: DepsMut,
    info: MessageInfo,
    what: FundsMove,
    owner: String,
    amount: Uint128,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let mover = config.authorize_mover(&info.sender)?;
    if amount.is_zero() {
        return Err(ContractError::ZeroAmount);
    }
    let owner = deps
        .api
        .addr_validate(&owner)
        .map_err(|_| ContractError::InvalidOwner { owner })?;

    let mut balance: Balance = BALANCES.may_load(deps.storage, &owner)?.unwrap_or_default();
    let mut totals = TOTALS.load(deps.storage)?;
    match what {
        FundsMove::Lock => {
            balance.lock(amount, mover)?;
            totals.lock(amount)?;
        }
        FundsMove::Unlock => {
            balance.unlock(amount, mover)?;
            totals.unlock(amount)?;
        }
        FundsMove::Debit => {
            balance.take_locked(amount, mover)?;
            totals.debit(amount, mover)?;
        }
    }
    if balance.is_empty() {
        BALANCES.remove(deps.storage, &owner);
    } else {
        BALANCES.save(deps.storage, &owner, &balance)?;
    }
    TOTALS.save(deps.storage, &totals)?;
    Ok(Response::new().add_event(
        FundsMoved {
            kind: what.kind().to_string(),
            owner: owner.into_string(),
            amount,
            by: info.sender.into_string(),
        }
        .to_event(),
    ))
}

/// Admin: sets a fund mover where none is set yet (the first wiring); replacing one moves who
/// may debit every balance, so it waits in the timelock.
pub fn update_config(
    deps: DepsMut,
    info: MessageInfo,
    settlement: Option<String>,
    withdrawal: Option<String>,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize_admin(&info.sender)?;
    for (slot, new) in [
        (&mut config.settlement, validate_opt(deps.api, settlement)?),
        (&mut config.withdrawal, validate_opt(deps.api, withdrawal)?),
    ] {
        match (slot.as_ref(), new) {
            (_, None) => {}
            (None, Some(new)) => *slot = Some(new),
            (Some(current), Some(new)) if *current == new => {}
            (Some(_), Some(_)) => return Err(GovernanceError::Timelocked.into()),
        }
    }
    config.validate()?;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_event(ConfigUpdated::event("update_config", config.admin)))
}

/// Admin: stops or resumes deposits at once.
pub fn set_paused(
    deps: DepsMut,
    info: MessageInfo,
    paused: bool,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    config.authorize_admin(&info.sender)?;
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
    msg: GovernanceMsg<LedgerChange>,
) -> Result<Response, ContractError> {
    GOV.execute(
        deps,
        &env,
        &info,
        &CONFIG,
        msg,
        |deps, mut config, change| match change {
            LedgerChange::Movers {
                settlement,
                withdrawal,
            } => {
                if let Some(s) = validate_opt(deps.api, settlement)? {
                    config.settlement = Some(s);
                }
                if let Some(w) = validate_opt(deps.api, withdrawal)? {
                    config.withdrawal = Some(w);
                }
                config.validate()?;
                CONFIG.save(deps.storage, &config)?;
                Ok(Response::new().add_event(ConfigUpdated::event("movers", &config.admin)))
            }
            LedgerChange::Timelock { seconds } => Ok(GOV.apply_timelock(deps.storage, seconds)?),
            LedgerChange::Migrate { code_id } => Ok(apply_migrate(&env, code_id)?),
        },
    )
}
