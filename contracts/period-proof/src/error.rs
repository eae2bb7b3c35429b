use thiserror::Error;
use usage_common::CommitteeError;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
    #[error(transparent)]
    Governance(#[from] usage_common::governance::GovernanceError),

    #[error("{0}")]
    Std(String),

    #[error(transparent)]
    Committee(#[from] CommitteeError),

    #[error("only the admin may do this")]
    Unauthorized,

    #[error("{address} is not a valid address")]
    InvalidAddress { address: String },

    #[error("tenant {tenant:?} is empty or longer than {max} bytes")]
    InvalidTenant { tenant: String, max: usize },

    #[error("c1 usage-proof reports a period length of zero")]
    InvalidPeriodLength,

    #[error("period start {period_start} is not a multiple of the period length {period_seconds}")]
    PeriodNotAligned {
        period_start: u64,
        period_seconds: u64,
    },

    #[error("period may be proven from {closes_at} on (end of period plus grace)")]
    PeriodNotClosed { closes_at: u64 },

    #[error("period {period_start} of ({provider}, {tenant}) is already proven")]
    AlreadyProven {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("period {period_start} of ({provider}, {tenant}) has no first proofs")]
    EmptyPeriod {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("period {period_start} of ({provider}, {tenant}) has no second proof")]
    NoPeriodProof {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("only the tenant {tenant} may dispute its periods, not {sender}")]
    NotTenant { sender: String, tenant: String },

    #[error("period {period_start} of ({provider}, {tenant}) is already disputed")]
    AlreadyDisputed {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("the dispute of period {period_start} of ({provider}, {tenant}) is already resolved")]
    AlreadyResolved {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("the dispute window closed at {deadline}")]
    DisputeWindowClosed { deadline: u64 },

    #[error("a dispute reason must be 1 to {max} bytes, got {len}")]
    InvalidReason { len: usize, max: usize },

    #[error("period {period_start} of ({provider}, {tenant}) is not disputed")]
    NotDisputed {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("a time computed from period {period_start} overflows")]
    TimeOverflow { period_start: u64 },

    #[error(
        "the resolution deadline of this dispute passed at {deadline}; the proven totals stand"
    )]
    ResolutionDeadlinePassed { deadline: u64 },

    #[error(
        "the resolution is for the dispute opened at {got}, the open one was opened at {expected}"
    )]
    WrongDispute { expected: u64, got: u64 },

    #[error("adjusted totals may only lower the proven ones, metric by metric")]
    AdjustedAboveProven,

    #[error("a dispute locks a bond of {needed}; the tenant has {available} available")]
    BondNotAvailable {
        needed: cosmwasm_std::Uint128,
        available: cosmwasm_std::Uint128,
    },

    #[error("disputes need a bond and no settlement contract is set to hold it")]
    NoBondHolder,

    #[error("{what} is already set to {current}")]
    AlreadySet { what: String, current: String },

    #[error("cannot migrate from {from_name} {from_version}")]
    CannotMigrate {
        from_name: String,
        from_version: String,
    },
}

usage_common::contract_error_conversions!(ContractError);
