//! `usaged`, the usagechain application: an ABCI 2.0 server for CometBFT v0.38 that runs the five
//! contracts' wasm in the real CosmWasm VM over a durable, Merkle-committed state, with the
//! transactions, queries and events that CosmJS, Keplr and explorers expect of a wasmd chain.

pub mod abci;
pub mod accounts;
pub mod error;
pub mod genesis;
pub mod machine;
pub mod metrics;
pub mod outcome;
pub mod queries;

pub use error::NodeError;
pub use machine::Machine;
pub use outcome::TxOutcome;
