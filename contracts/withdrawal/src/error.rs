use cosmwasm_std::{OverflowError, Uint128};
use thiserror::Error;
use usage_common::CommitteeError;

/// Why the withdrawal contract refused a message. A refused message changes nothing.
#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error("withdrawals are paused")]
    Paused,

    #[error(transparent)]
    Governance(#[from] usage_common::governance::GovernanceError),

    #[error("{0}")]
    Std(String),

    #[error(transparent)]
    Committee(#[from] CommitteeError),

    #[error(transparent)]
    Overflow(#[from] OverflowError),

    #[error("only the admin may do this")]
    Unauthorized,

    #[error("invalid configuration: {reason}")]
    InvalidConfig { reason: String },

    #[error("amount must be greater than zero")]
    ZeroAmount,

    #[error("beneficiary account {beneficiary:?} must be 5 to 34 ASCII letters and digits")]
    InvalidBeneficiary { beneficiary: String },

    #[error("insufficient available funds: needed {needed}, available {available}")]
    InsufficientFunds { needed: Uint128, available: Uint128 },

    #[error("withdrawal {withdrawal_id} does not exist")]
    WithdrawalNotFound { withdrawal_id: u64 },

    #[error("only the owner may cancel withdrawal {withdrawal_id}")]
    NotOwner { withdrawal_id: u64 },

    #[error("withdrawal {withdrawal_id} is {status}, which does not allow this")]
    InvalidStatus { withdrawal_id: u64, status: String },

    #[error("withdrawal {withdrawal_id} is delayed until {release_at}")]
    NotYetReleasable { withdrawal_id: u64, release_at: u64 },

    #[error("bank reference {bank_ref:?} must be 1 to {max} bytes")]
    InvalidBankRef { bank_ref: String, max: usize },

    #[error("withdrawal voucher {bank_ref} was already used")]
    VoucherAlreadyUsed { bank_ref: String },

    #[error(
        "voucher of withdrawal {withdrawal_id} names end-to-end id {got}, expected {expected}"
    )]
    EndToEndIdMismatch {
        withdrawal_id: u64,
        expected: String,
        got: String,
    },

    #[error(
        "voucher of withdrawal {withdrawal_id} is for {got}, the withdrawal is for {expected}"
    )]
    AmountMismatch {
        withdrawal_id: u64,
        expected: Uint128,
        got: Uint128,
    },

    #[error("{reserve} of the {available} available is reserved for open leases; {amount} cannot be withdrawn")]
    ReservedForLeases {
        reserve: Uint128,
        available: Uint128,
        amount: Uint128,
    },

    #[error("cannot migrate from {from_name} {from_version}")]
    CannotMigrate {
        from_name: String,
        from_version: String,
    },
}

usage_common::contract_error_conversions!(ContractError);
