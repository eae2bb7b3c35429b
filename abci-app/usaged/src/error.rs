//! Why the node itself (not a transaction) failed. A transaction's failure is an outcome recorded
//! in its block ([`crate::outcome::TxOutcome`]); a [`NodeError`] means the node cannot go on
//! without risking a state other validators would not reach, so the ABCI server logs it and stops
//! the process, and CometBFT replays from the committed state on restart.
//!
//! The variants keep their sources typed, so a caller can tell a corrupt record from a store
//! failure; each one's message is a single line, as the log shows it.

use usaged_auth::AuthError;
use usaged_vm::ExecError;

use crate::genesis::GenesisError;

/// Why the node (not a transaction) failed: the chain must stop.
#[derive(thiserror::Error, Debug)]
pub enum NodeError {
    #[error("store: {0}")]
    Store(#[from] usaged_store::StoreError),
    /// A VM failure that is the node's, not a contract's (`ExecError::is_node_fault`).
    #[error("vm: {0}")]
    Vm(#[source] ExecError),
    /// A stored code whose compiled module the VM's cache could not rebuild.
    #[error("vm: code {code_id}: {source}")]
    Code { code_id: u64, source: ExecError },
    #[error("genesis: {0}")]
    Genesis(#[from] GenesisError),
    #[error("state: {0}")]
    State(#[from] StateError),
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
}

/// A record in the state that cannot be read or written as the node expects.
#[derive(thiserror::Error, Debug)]
pub enum StateError {
    /// The account key of an address that is not a valid account address.
    #[error(transparent)]
    Address(#[from] AuthError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Hex(#[from] hex::FromHexError),
    /// A Merkle proof that could not be borsh-encoded for a query.
    #[error(transparent)]
    ProofEncoding(#[from] std::io::Error),
    /// A block's branch still referenced elsewhere when its changes were to be taken.
    #[error("a branch is still shared")]
    SharedBranch,
    #[error(
        "committed app hash {} differs from the finalized {}",
        hex::encode(.committed),
        hex::encode(.finalized)
    )]
    AppHashMismatch {
        committed: [u8; 32],
        finalized: [u8; 32],
    },
}

/// ABCI requests out of the order CometBFT guarantees.
#[derive(thiserror::Error, Debug)]
pub enum ProtocolError {
    #[error("FinalizeBlock for height {height}, the committed height is {committed}")]
    UnexpectedHeight { height: u64, committed: u64 },
    #[error("Commit without FinalizeBlock")]
    CommitWithoutBlock,
    #[error("Commit before FinalizeBlock")]
    CommitBeforeFinalize,
}
