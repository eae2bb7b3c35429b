use cosmwasm_std::HexBinary;
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

    #[error("invalid configuration: {reason}")]
    InvalidConfig { reason: String },

    #[error("batch is malformed: {reason}")]
    MalformedBatch { reason: String },

    #[error("batch has no records")]
    EmptyBatch,

    #[error("record {index} is out of (terminal, window) order")]
    BatchNotSorted { index: usize },

    #[error("batch carries ({terminal_id}, {window_start}) twice")]
    DuplicateRecord {
        terminal_id: String,
        window_start: u64,
    },

    #[error("({terminal_id}, {window_start}) already has a first proof")]
    AlreadyProven {
        terminal_id: String,
        window_start: u64,
    },

    #[error("terminal {terminal_id} is not registered")]
    UnknownTerminal { terminal_id: String },

    #[error("terminal {terminal_id} is deactivated")]
    TerminalInactive { terminal_id: String },

    #[error("measurement {measurement} of terminal {terminal_id} is not allowed")]
    MeasurementNotAllowed {
        terminal_id: String,
        measurement: HexBinary,
    },

    #[error("terminal {terminal_id} has a software key and software TEEs are not accepted")]
    SoftwareTeeRefused { terminal_id: String },

    #[error("window {window_start} of {terminal_id} is not a multiple of the window length")]
    WindowNotAligned {
        terminal_id: String,
        window_start: u64,
    },

    #[error("window {window_start} of {terminal_id} has not ended yet")]
    WindowNotClosed {
        terminal_id: String,
        window_start: u64,
    },

    #[error("period of ({terminal_id}, {window_start}) stopped taking records at {closed_at}")]
    PeriodClosed {
        terminal_id: String,
        window_start: u64,
        closed_at: u64,
    },

    #[error("record of {terminal_id} has an invalid tenant")]
    InvalidTenant { terminal_id: String },

    #[error("invalid terminal registration: {reason}")]
    InvalidTerminal { reason: String },

    #[error("totals of a period accumulator overflowed")]
    TotalsOverflow,

    #[error("no first proof for ({terminal_id}, {window_start})")]
    ProofNotFound {
        terminal_id: String,
        window_start: u64,
    },

    #[error("no lease of tenant {tenant} covers window {window_start} of {terminal_id}")]
    NoLease {
        terminal_id: String,
        window_start: u64,
        tenant: String,
    },

    #[error("invalid lease: {reason}")]
    InvalidLease { reason: String },

    #[error("lease of {terminal_id} from {start} overlaps the lease from {other_start}")]
    LeaseOverlap {
        terminal_id: String,
        start: u64,
        other_start: u64,
    },

    #[error("no lease of {terminal_id} starts at {start}")]
    LeaseNotFound { terminal_id: String, start: u64 },

    #[error("only the lease's tenant or provider may end it")]
    NotLeaseParty,

    #[error("the accumulator of ({provider}, {tenant}, {period_start}) is sealed")]
    AccumulatorSealed {
        provider: String,
        tenant: String,
        period_start: u64,
    },

    #[error("only C2 period-proof may seal accumulators")]
    NotPeriodProof,

    #[error("terminal {terminal_id} belongs to {provider}; its provider never changes")]
    ProviderChange {
        terminal_id: String,
        provider: String,
    },

    #[error("attestor key already speaks for terminal {other}; declare shared_attestor on both")]
    AttestorKeyInUse { other: String },

    #[error("{what} is already set to {current}")]
    AlreadySet { what: String, current: String },

    #[error("period holds {size} records; inclusion proofs are served for at most {max}")]
    PeriodTooLarge { size: u64, max: u64 },

    #[error("cannot migrate from {from_name} {from_version}")]
    CannotMigrate {
        from_name: String,
        from_version: String,
    },
}

usage_common::contract_error_conversions!(ContractError);
