use cosmwasm_std::Uint128;
use thiserror::Error;
use usage_common::msg::period_proof::NotFinal;
use usage_common::msg::settlement::SettlementStatus;
use usage_common::record::Metric;
use usage_common::CommitteeError;

/// Why C3 refused a message. A refused message changes nothing.
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

    #[error("{address:?} is not a valid address")]
    InvalidAddress { address: String },

    #[error("invalid tariff: {reason}")]
    InvalidTariff { reason: String },

    #[error("the deployment's currency is {current}; a tariff in {proposed} is refused")]
    CurrencyChange { current: String, proposed: String },

    #[error("payee account {account:?} must be 5 to 34 ASCII letters and digits")]
    InvalidPayeeAccount { account: String },

    #[error("this period already has settlement {settlement_id}")]
    AlreadyRequested { settlement_id: u64 },

    #[error("period {period_start} of ({provider}, {tenant}) has no second proof")]
    NoPeriodProof {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("period is not final: {reason:?}")]
    NotFinal { reason: NotFinal },

    #[error("tariff line {metric:?} has a zero unit")]
    ZeroUnit { metric: Metric },

    #[error("price of tariff line {metric:?} overflows")]
    PriceOverflow { metric: Metric },

    #[error("period {period_start} of ({provider}, {tenant}) prices to zero")]
    NothingToBill {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("amount {amount} is below the minimum {minimum}")]
    BelowMinimum { amount: Uint128, minimum: Uint128 },

    #[error("provider {provider} has no payee account")]
    NoPayeeAccount { provider: String },

    #[error("tenant has {available} available, {needed} needed")]
    InsufficientFunds { needed: Uint128, available: Uint128 },

    #[error("settlement {settlement_id} does not exist")]
    SettlementNotFound { settlement_id: u64 },

    #[error("settlement {settlement_id} is {status:?}, not requested")]
    NotRequested {
        settlement_id: u64,
        status: SettlementStatus,
    },

    #[error("settlement {settlement_id} is {status:?}, not instructed")]
    NotInstructed {
        settlement_id: u64,
        status: SettlementStatus,
    },

    #[error("bank reference {bank_ref:?} must be 1 to {max} bytes")]
    InvalidBankRef { bank_ref: String, max: usize },

    #[error("voucher {bank_ref} was already used")]
    VoucherAlreadyUsed { bank_ref: String },

    #[error(
        "voucher of settlement {settlement_id} names end-to-end id {got}, expected {expected}"
    )]
    EndToEndIdMismatch {
        settlement_id: u64,
        expected: String,
        got: String,
    },

    #[error("voucher of settlement {settlement_id} is for {got}, expected {expected}")]
    AmountMismatch {
        settlement_id: u64,
        expected: Uint128,
        got: Uint128,
    },

    #[error("settlement ids are exhausted")]
    IdOverflow,

    #[error("only C2 period-proof may escrow funds")]
    NotPeriodProof,

    #[error(
        "period {period_start} of ({provider}, {tenant}) was deferred into a later settlement"
    )]
    Deferred {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error(
        "a tariff takes effect with the timelock's notice: {effective_from} is before {earliest}"
    )]
    TariffNoticeTooShort { effective_from: u64, earliest: u64 },

    #[error("a tariff takes effect in the future: {effective_from} is not after {now}")]
    RetroactiveTariff { effective_from: u64, now: u64 },

    #[error("cannot migrate from {from_name} {from_version}")]
    CannotMigrate {
        from_name: String,
        from_version: String,
    },
}

usage_common::contract_error_conversions!(ContractError);
