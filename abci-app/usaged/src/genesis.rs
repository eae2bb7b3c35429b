//! The application's part of CometBFT's genesis (`app_state`): contract codes, instances and
//! chain parameters.
//!
//! ```json
//! {
//!   "params": { "max_tx_gas": 90000000, "max_block_gas": 90000000,
//!               "code_upload_access": { "any_of_addresses": ["usage1…"] },
//!               "instantiate_default_permission": { "any_of_addresses": ["usage1…"] },
//!               "priority_senders": ["usage1…"] },
//!   "accounts": [ { "address": "usage1…", "pub_key": "02…" } ],
//!   "codes": [ { "name": "usage_proof", "wasm": "<base64 of the optimised wasm>" } ],
//!   "contracts": [
//!     { "code": "usage_proof", "label": "usage-proof", "creator": "usage1…", "admin": "usage1…",
//!       "msg": { … instantiate message … } }
//!   ]
//! }
//! ```
//!
//! Codes get ids 1, 2, … and contracts instance ids 1, 2, … in order, so every address is known
//! before anything runs. In an instantiate message, any string `"@<label>"` is replaced by the
//! address of the contract with that label — earlier or later in the list — so one file wires the
//! five contracts together (C4 names C3 and C5, which need C4's address themselves).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use usaged_vm::AccessConfig;

/// The chain's parameters: limits in SDK gas, and who may upload and instantiate code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Largest gas limit one transaction may ask for.
    pub max_tx_gas: u64,
    /// Largest sum of gas limits of one block's transactions.
    pub max_block_gas: u64,
    /// Who may store code (`MsgStoreCode`), as wasmd's `code_upload_access`. Nobody by default:
    /// later uploads are the admin's, named here.
    #[serde(default)]
    pub code_upload_access: AccessConfig,
    /// Who may instantiate a code (and migrate to it) unless its upload narrowed it, as wasmd's
    /// `instantiate_default_permission`. Genesis codes get it too.
    #[serde(default = "everybody")]
    pub instantiate_default_permission: AccessConfig,
    /// SDK gas charged once, on the first transaction of an account the state has never seen
    /// (its record is kept for good).
    #[serde(default = "default_account_creation_gas")]
    pub account_creation_gas: u64,
    /// Accounts whose transactions a proposer places first (the committee's submitters, the
    /// bank relayer), each sender's transactions kept in their mempool order.
    #[serde(default)]
    pub priority_senders: Vec<String>,
}

fn everybody() -> AccessConfig {
    AccessConfig::Everybody
}

fn default_account_creation_gas() -> u64 {
    ACCOUNT_CREATION_GAS
}

/// Default one-off charge for a new account: as much as writing a 3 KB value, so an account
/// costs its state about what any other permanent record of its size costs.
pub const ACCOUNT_CREATION_GAS: u64 = 100_000;

/// Default gas of one block, calibrated so that a full block commits within the localnet's
/// one-second block time on a store holding ten million usage records, on a 2-core machine.
///
/// Measured with `finalize_bench` (native profile; blocks of five 1,000-record SubmitBatch txs,
/// 19.8 M SDK gas each, 99 M a block; `bash scripts/finalize-bench.sh --minutes 10
/// --txs-per-block 5 --prefill 10000000`): on a store pre-filled with 10 M records FinalizeBlock
/// took 570 ms and Commit 562 ms on average (p90 764 ms and 712 ms), 1.13 s a block, 4,417
/// records a second over ten minutes. 90 M gas is about 1.0 s there. The committee asks 30 M a
/// batch (`aggregator/service/src/protocol/leader.rs`), so a block holds three of its batches,
/// 3,000 records, about 0.7 s at 10 M records. Raise it as the node gets faster
/// (`docs/chain-safety.md`, `docs/performance.md`).
pub const MAX_BLOCK_GAS: u64 = 90_000_000;

/// Default gas limit of one transaction: a whole block.
pub const MAX_TX_GAS: u64 = MAX_BLOCK_GAS;

impl Default for Params {
    fn default() -> Self {
        Params {
            max_tx_gas: MAX_TX_GAS,
            max_block_gas: MAX_BLOCK_GAS,
            code_upload_access: AccessConfig::Nobody,
            instantiate_default_permission: AccessConfig::Everybody,
            account_creation_gas: ACCOUNT_CREATION_GAS,
            priority_senders: vec![],
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisCode {
    pub name: String,
    /// Base64 of the wasm bytecode.
    pub wasm: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisContract {
    /// Name of a code in `codes`.
    pub code: String,
    pub label: String,
    pub creator: String,
    pub admin: Option<String>,
    pub msg: Value,
}

/// An account known from genesis (any other address is a fresh account when first seen).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    pub address: String,
    /// Hex of the 33-byte compressed secp256k1 key, if known in advance.
    #[serde(default)]
    pub pub_key: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields)]
pub struct AppGenesis {
    #[serde(default)]
    pub params: Params,
    #[serde(default)]
    pub accounts: Vec<GenesisAccount>,
    #[serde(default)]
    pub codes: Vec<GenesisCode>,
    #[serde(default)]
    pub contracts: Vec<GenesisContract>,
}

/// A `"@<label>"` naming no contract of the genesis.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
#[error("no contract labelled {0:?} yet")]
pub struct UnknownLabel(pub String);

/// Replaces every string `"@<label>"` in `msg` by `lookup(label)`.
pub fn resolve_labels(
    msg: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), UnknownLabel> {
    match msg {
        Value::String(s) => {
            if let Some(label) = s.strip_prefix('@') {
                *s = lookup(label).ok_or_else(|| UnknownLabel(label.to_string()))?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| resolve_labels(v, lookup)),
        Value::Object(map) => map.values_mut().try_for_each(|v| resolve_labels(v, lookup)),
        _ => Ok(()),
    }
}

/// Why a genesis cannot be applied: the node refuses to start the chain from it.
#[derive(thiserror::Error, Debug)]
pub enum GenesisError {
    #[error("the state already has blocks")]
    AlreadyStarted,
    /// The `app_state` (or a value written from it) is not the JSON described above.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("max_tx_gas {max_tx_gas} above max_block_gas {max_block_gas}: such transactions would never fit a block")]
    TxGasAboveBlockGas { max_tx_gas: u64, max_block_gas: u64 },
    #[error("{address}: {source}")]
    AccountKey {
        address: String,
        source: hex::FromHexError,
    },
    #[error("{address}: {source}")]
    Account {
        address: String,
        source: usaged_auth::AuthError,
    },
    #[error("{address}: the key belongs to {derived}")]
    KeyOfAnother { address: String, derived: String },
    /// A code's `wasm` that is not base64 (cosmwasm's decoding error carries only its message).
    #[error("code {name}: {reason}")]
    CodeEncoding { name: String, reason: String },
    #[error("code {name}: {source}")]
    Code {
        name: String,
        source: usaged_vm::ExecError,
    },
    #[error("no code named {0}")]
    UnknownCode(String),
    #[error(transparent)]
    ContractAddress(usaged_auth::AuthError),
    #[error("label {0} used twice")]
    DuplicateLabel(String),
    #[error(transparent)]
    Label(#[from] UnknownLabel),
    #[error("instantiate {label}: {source}")]
    Instantiate {
        label: String,
        source: usaged_vm::ExecError,
    },
    #[error("{label} was instantiated at {address}, not at its precomputed address")]
    AddressMoved { label: String, address: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_resolve_anywhere_in_a_message_and_unknown_ones_fail() {
        let mut msg = serde_json::json!({"a": "@c1", "b": ["x", {"c": "@c1"}], "d": 3});
        resolve_labels(&mut msg, &|l| (l == "c1").then(|| "usage1abc".to_string())).unwrap();
        assert_eq!(
            msg,
            serde_json::json!({"a": "usage1abc", "b": ["x", {"c": "usage1abc"}], "d": 3})
        );
        let mut bad = serde_json::json!({"a": "@c9"});
        assert_eq!(
            resolve_labels(&mut bad, &|_| None),
            Err(UnknownLabel("c9".into()))
        );
    }
}
