use cosmwasm_std::{OverflowError, Uint128};
use thiserror::Error;
use usage_common::CommitteeError;

/// Why the ledger refused a message. A refused message changes nothing.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("deposits are paused")]
    Paused,

    #[error(transparent)]
    Governance(#[from] usage_common::governance::GovernanceError),

    #[error("{0}")]
    Std(String),

    #[error(transparent)]
    Committee(#[from] CommitteeError),

    #[error(transparent)]
    Overflow(#[from] OverflowError),

    #[error("sender is not allowed to do this")]
    Unauthorized,

    #[error("invalid configuration: {reason}")]
    InvalidConfig { reason: String },

    #[error("voucher is in {got}, the ledger is in {expected}")]
    WrongCurrency { expected: String, got: String },

    #[error("amount must be greater than zero")]
    ZeroAmount,

    #[error("bank reference {bank_ref:?} must be 1 to {max} bytes")]
    InvalidBankRef { bank_ref: String, max: usize },

    #[error("beneficiary {beneficiary:?} is not a valid address")]
    InvalidBeneficiary { beneficiary: String },

    #[error("owner {owner:?} is not a valid address")]
    InvalidOwner { owner: String },

    #[error("deposit voucher {bank_ref} was already credited")]
    VoucherAlreadyUsed { bank_ref: String },

    #[error("insufficient available balance: needed {needed}, available {available}")]
    InsufficientBalance { needed: Uint128, available: Uint128 },

    #[error("insufficient funds locked by this contract: needed {needed}, locked {locked}")]
    InsufficientLocked { needed: Uint128, locked: Uint128 },

    #[error("cannot migrate from {from_name} {from_version}")]
    CannotMigrate {
        from_name: String,
        from_version: String,
    },
}

usage_common::contract_error_conversions!(ContractError);
