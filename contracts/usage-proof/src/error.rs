use cosmwasm_std::{HexBinary, StdError};
use thiserror::Error;
use usage_common::CommitteeError;

#[derive(Error, Debug, PartialEq)]
pub enum ContractError {
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

    #[error("cannot migrate from {from_name} {from_version}")]
    CannotMigrate {
        from_name: String,
        from_version: String,
    },
}

impl From<StdError> for ContractError {
    fn from(e: StdError) -> Self {
        ContractError::Std(e.to_string())
    }
}
