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
}
