//! The wasm module of the usagechain application: runs the contracts' optimised wasm in the real
//! CosmWasm VM (`cosmwasm-vm`) over branches of the chain state from `usaged-store`.
//!
//! - [`WasmVm`] stores code, instantiates, executes, migrates and queries contracts. One gas
//!   budget covers a call and everything it triggers; each sub-message runs on a fork of its
//!   caller's branch that is applied only if it succeeds (or dropped, and `reply` told).
//! - [`storage::ContractStorage`] gives a contract its own prefix of the branch and charges the
//!   SDK's KV gas; [`querier::ChainQuerier`] serves the contract's queries from the same branch.
//! - [`events`] lays events out as wasmd does; [`gas`] holds wasmd's gas constants.

pub mod api;
pub mod events;
pub mod executor;
pub mod gas;
pub mod keys;
pub mod querier;
pub mod storage;

pub use executor::{AccessConfig, BlockCtx, CallOutcome, CodeInfo, ContractInfo, Upload, WasmVm};

use thiserror::Error;
use usaged_store::StoreError;

/// Why a contract call failed. [`ExecError::is_node_fault`] tells the node's problems (halt)
/// from the transaction's (a failed tx with a code).
#[derive(Error, Debug)]
pub enum ExecError {
    #[error("contract failed: {0}")]
    ContractFailed(String),
    #[error("out of gas")]
    OutOfGas,
    #[error("vm error: {0}")]
    Vm(String),
    /// The VM failed for a reason of this node's (its module cache, loading stored code), not of
    /// the transaction's.
    #[error("vm fault: {0}")]
    NodeVm(String),
    #[error("invalid contract event: {0}")]
    Event(#[from] events::EventError),
    #[error("no contract at {address}")]
    UnknownContract { address: String },
    #[error("no code with id {code_id}")]
    UnknownCode { code_id: u64 },
    #[error("invalid wasm code: {0}")]
    InvalidCode(String),
    #[error("unauthorized: {reason}")]
    Unauthorized { reason: String },
    #[error("unsupported message: {0}")]
    Unsupported(String),
    #[error("duplicate: {what}")]
    Duplicate { what: String },
    #[error("sub-messages nested deeper than {max}")]
    CallDepth { max: u32 },
    #[error("state is corrupt: {0}")]
    Corrupt(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl ExecError {
    /// True when the node itself failed (I/O, corrupt state): the chain must halt rather than
    /// record a failed transaction.
    pub fn is_node_fault(&self) -> bool {
        match self {
            ExecError::Store(e) => e.is_node_fault(),
            ExecError::Corrupt(_) | ExecError::NodeVm(_) => true,
            _ => false,
        }
    }

    /// wasmd's (codespace, code) for the failure (x/wasm/types/errors.go), or the SDK's.
    pub fn abci_code(&self) -> (&'static str, u32) {
        match self {
            ExecError::OutOfGas => ("sdk", 11),
            ExecError::ContractFailed(_) | ExecError::Vm(_) | ExecError::Event(_) => ("wasm", 5),
            ExecError::UnknownContract { .. } | ExecError::UnknownCode { .. } => ("wasm", 8),
            ExecError::InvalidCode(_) => ("wasm", 2),
            ExecError::Unauthorized { .. } => ("sdk", 4),
            ExecError::Unsupported(_) => ("wasm", 10),
            ExecError::Duplicate { .. } => ("wasm", 15),
            ExecError::CallDepth { .. } => ("wasm", 21),
            ExecError::Corrupt(_) | ExecError::Store(_) | ExecError::NodeVm(_) => ("sdk", 1),
        }
    }
}
