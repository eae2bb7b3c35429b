//! The application's part of CometBFT's genesis (`app_state`): contract codes, instances and
//! chain parameters.
//!
//! ```json
//! {
//!   "params": { "max_tx_gas": 200000000, "max_block_gas": 2000000000 },
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

/// Limits of the chain, in SDK gas.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Largest gas limit one transaction may ask for.
    pub max_tx_gas: u64,
    /// Largest sum of gas limits of one block's transactions.
    pub max_block_gas: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_tx_gas: 200_000_000,
            max_block_gas: 2_000_000_000,
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

/// Replaces every string `"@<label>"` in `msg` by `lookup(label)`.
pub fn resolve_labels(
    msg: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    match msg {
        Value::String(s) => {
            if let Some(label) = s.strip_prefix('@') {
                *s = lookup(label).ok_or_else(|| format!("no contract labelled {label:?} yet"))?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|v| resolve_labels(v, lookup)),
        Value::Object(map) => map.values_mut().try_for_each(|v| resolve_labels(v, lookup)),
        _ => Ok(()),
    }
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
        assert!(resolve_labels(&mut bad, &|_| None).is_err());
    }
}
