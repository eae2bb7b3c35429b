//! Where the wasm module keeps things in the chain's state, in one place (wasmd's prefixes).
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `0x01` | code id (u64 BE) | [`crate::CodeInfo`] JSON |
//! | `0x02` | contract address (canonical) | [`crate::ContractInfo`] JSON |
//! | `0x03` | contract address (canonical, 32 bytes) ‖ contract key | contract storage |
//! | `0x04` | sequence name | u64 BE |
//! | `0x05` | checksum (32 bytes) | the wasm bytecode |

use sha2::{Digest, Sha256};

pub const CODE_PREFIX: u8 = 0x01;
pub const CONTRACT_PREFIX: u8 = 0x02;
pub const CONTRACT_STORE_PREFIX: u8 = 0x03;
pub const SEQUENCE_PREFIX: u8 = 0x04;
pub const WASM_PREFIX: u8 = 0x05;

pub fn code(code_id: u64) -> Vec<u8> {
    let mut k = vec![CODE_PREFIX];
    k.extend_from_slice(&code_id.to_be_bytes());
    k
}

pub fn contract(canonical: &[u8]) -> Vec<u8> {
    let mut k = vec![CONTRACT_PREFIX];
    k.extend_from_slice(canonical);
    k
}

/// Prefix of one contract's storage.
pub fn contract_store(canonical: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + canonical.len());
    k.push(CONTRACT_STORE_PREFIX);
    k.extend_from_slice(canonical);
    k
}

pub fn sequence(name: &str) -> Vec<u8> {
    let mut k = vec![SEQUENCE_PREFIX];
    k.extend_from_slice(name.as_bytes());
    k
}

pub fn wasm(checksum: &[u8]) -> Vec<u8> {
    let mut k = vec![WASM_PREFIX];
    k.extend_from_slice(checksum);
    k
}

/// The canonical address of the `instance_id`-th contract of `code_id`, as wasmd's
/// `BuildContractAddressClassic`: the ADR-028 module address `sha256(sha256("module") ‖ "wasm" ‖
/// 0x00 ‖ code id (u64 BE) ‖ instance id (u64 BE))`.
pub fn classic_contract_address(code_id: u64, instance_id: u64) -> [u8; 32] {
    let typ: [u8; 32] = Sha256::digest(b"module").into();
    let mut h = Sha256::new();
    h.update(typ);
    h.update(b"wasm\x00");
    h.update(code_id.to_be_bytes());
    h.update(instance_id.to_be_bytes());
    h.finalize().into()
}

/// The address `MsgInstantiateContract2` / `WasmMsg::Instantiate2` gives a contract, as wasmd's
/// `BuildContractAddressPredictable`: `Module("wasm", key)` with `key` the 8-byte big-endian
/// length-prefixed checksum, creator, salt and (only when the message is fixed) the instantiate
/// message; `Module(name, key) = sha256(sha256("module") ‖ name ‖ 0 ‖ key)`.
pub fn predictable_contract_address(
    checksum: &[u8],
    creator: &[u8],
    salt: &[u8],
    fixed_msg: Option<&[u8]>,
) -> [u8; 32] {
    let mut key = Vec::with_capacity(64 + checksum.len() + creator.len() + salt.len());
    for part in [checksum, creator, salt, fixed_msg.unwrap_or_default()] {
        key.extend_from_slice(&(part.len() as u64).to_be_bytes());
        key.extend_from_slice(part);
    }
    let typ = Sha256::digest(b"module");
    let mut h = Sha256::new();
    h.update(typ);
    h.update(b"wasm\0");
    h.update(&key);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_addresses_are_distinct_per_code_and_instance() {
        let a = classic_contract_address(1, 1);
        assert_ne!(a, classic_contract_address(1, 2));
        assert_ne!(a, classic_contract_address(2, 1));
        assert_eq!(a, classic_contract_address(1, 1));
    }

    #[test]
    fn one_contracts_store_prefix_never_prefixes_anothers_info() {
        let addr = [7u8; 32];
        assert!(!contract_store(&addr).starts_with(&contract(&addr)));
        assert_eq!(contract_store(&addr).len(), 33);
    }

    #[test]
    fn predictable_addresses_are_cosmwasm_stds_instantiate2_addresses() {
        let checksum = [0x13u8; 32];
        let creator = [0x42u8; 20];
        let salt = b"usagechain";
        let ours = predictable_contract_address(&checksum, &creator, salt, None);
        let theirs =
            cosmwasm_std::instantiate2_address(&checksum, &creator.into(), salt).expect("address");
        assert_eq!(ours.as_slice(), theirs.as_slice());
        let fixed = predictable_contract_address(&checksum, &creator, salt, Some(b"{}"));
        assert_ne!(fixed, ours, "a fixed message changes the address");
    }
}
