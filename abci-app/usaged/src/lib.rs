//! `usaged`, the usagechain application: an ABCI 2.0 server for CometBFT v0.38 that runs the five
//! contracts' wasm in the real CosmWasm VM over a durable, Merkle-committed state, with the
//! transactions, queries and events that CosmJS, Keplr and explorers expect of a wasmd chain.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod abci;
pub mod genesis;
pub mod machine;
pub mod queries;

pub use machine::{Machine, NodeError, TxOutcome};
