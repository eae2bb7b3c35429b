//! `usage-client`: what every off-chain part of usagechain needs from the chain, over CometBFT's
//! RPC (tendermint-rpc): smart queries at CosmJS's ABCI paths, contract executions signed with
//! cosmrs (SIGN_MODE_DIRECT, secp256k1) with the account sequence tracked locally, waiting for a
//! transaction's block, and the contract events of committed blocks.

pub mod chain;
pub mod tx;

pub use chain::{
    BlockEvents, ChainClient, ClientError, ContractEvent, FoundEvent, TxOutcome, PREFIX,
};
