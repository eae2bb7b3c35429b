//! Where C1 and C2 keep what a receipt proves, as keys of the chain's state.
//!
//! The chain keeps a contract's storage under `0x03 ‖ contract address (canonical, 32 bytes) ‖
//! contract key` (wasmd's layout, `abci-app/vm/src/keys.rs`). The contract keys are those of
//! C1's and C2's storage (`contracts/usage-proof/src/state.rs`,
//! `contracts/period-proof/src/state.rs`):
//!
//! | what | contract | contract key |
//! |---|---|---|
//! | terminal registration | C1 | cw-storage-plus `Map<&str, _>("trm")`: `0x0003 ‖ "trm" ‖ terminal id` |
//! | first proof | C1 | raw: `"fp" ‖ terminal index (u32 BE) ‖ window start (u64 BE)` |
//! | second proof | C2 | cw-storage-plus `Map<(&Addr, &str, u64), _>("prf")` of (provider, tenant, period start) |
//!
//! The tests check these against the contracts' own storage code.

use cosmwasm_std::{Addr, Empty};
use cw_storage_plus::Map;

/// First byte of every contract-storage key of the chain's state.
pub const CONTRACT_STORE_PREFIX: u8 = 0x03;

/// Namespace of C1's terminal registry.
const TERMINALS: &str = "trm";
/// Prefix of C1's raw first-proof keys.
const FIRST_PROOF_PREFIX: &[u8] = b"fp";
/// Namespace of C2's second proofs.
const SECOND_PROOFS: &str = "prf";

/// An address that is not a valid address of this chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{address:?} is not an address of this chain: {reason}")]
pub struct InvalidAddress {
    pub address: String,
    pub reason: String,
}

/// The canonical bytes of a Bech32 `usage1…` address.
pub fn canonical_address(address: &str) -> Result<Vec<u8>, InvalidAddress> {
    usaged_auth::validate_address(address).map_err(|e| InvalidAddress {
        address: address.to_string(),
        reason: e.to_string(),
    })
}

/// The Bech32 `usage1…` address of canonical address bytes (20 or 32).
pub fn address_of(canonical: &[u8]) -> Result<String, InvalidAddress> {
    usaged_auth::humanize(canonical).map_err(|e| InvalidAddress {
        address: hex::encode(canonical),
        reason: e.to_string(),
    })
}

fn in_contract(contract: &[u8], key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + contract.len() + key.len());
    k.push(CONTRACT_STORE_PREFIX);
    k.extend_from_slice(contract);
    k.extend_from_slice(key);
    k
}

/// The state key of C1's registration of `terminal_id` (`usage_proof` canonical).
pub fn terminal_key(usage_proof: &[u8], terminal_id: &str) -> Vec<u8> {
    let map: Map<&str, Empty> = Map::new(TERMINALS);
    in_contract(usage_proof, &map.key(terminal_id))
}

/// The state key of C1's first proof of (terminal index, window start).
pub fn first_proof_key(usage_proof: &[u8], terminal_index: u32, window_start: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(14);
    k.extend_from_slice(FIRST_PROOF_PREFIX);
    k.extend_from_slice(&terminal_index.to_be_bytes());
    k.extend_from_slice(&window_start.to_be_bytes());
    in_contract(usage_proof, &k)
}

/// The state key of C2's second proof of (provider, tenant, period start).
pub fn period_proof_key(
    period_proof: &[u8],
    provider: &str,
    tenant: &str,
    period_start: u64,
) -> Vec<u8> {
    let map: Map<(&Addr, &str, u64), Empty> = Map::new(SECOND_PROOFS);
    let provider = Addr::unchecked(provider);
    in_contract(period_proof, &map.key((&provider, tenant, period_start)))
}
