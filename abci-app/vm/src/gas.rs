//! Gas, in wasmd's units. CosmWasm gas is what the VM meters; the SDK gas a transaction reports
//! and budgets is CosmWasm gas / [`GAS_MULTIPLIER`]. Storage is charged as the SDK's KV store
//! does (`KVGasConfig`), converted to CosmWasm gas and reported to the VM as externally used.

/// CosmWasm gas per SDK gas: 14,000, a tenth of wasmd's `DefaultGasMultiplier` (140,000), so
/// wasm computation costs ten times as much SDK gas as on wasmd. wasmd's figure prices compute
/// against the Go SDK's slow storage; on this node storage is cheap and compute is not: measured
/// by the resource-abuse suite (native profile), a pure wasm loop ran at 78 ms per million SDK
/// gas at 140,000 against 7.2 ms for blocks of 1,000-record SubmitBatch txs, so a block of
/// loops took ten times as long as an ordinary block of the same gas. At 14,000 it is within
/// 2×, the bound a block of any transactions must keep (`docs/chain-safety.md`).
pub const GAS_MULTIPLIER: u64 = 12_000;

/// The SDK's default KV gas costs, in SDK gas.
pub mod kv {
    pub const READ_FLAT: u64 = 1_000;
    pub const READ_PER_BYTE: u64 = 3;
    pub const WRITE_FLAT: u64 = 2_000;
    pub const WRITE_PER_BYTE: u64 = 30;
    pub const DELETE: u64 = 1_000;
    pub const ITER_NEXT_FLAT: u64 = 30;
    /// Host memory of an open iterator (cursors over the store and every overlay layer, about
    /// 1 KB), charged when a contract opens one: the instance's 32 MiB wasm memory limit does not
    /// cover it. Not an SDK constant: the SDK's iterators live in Go's heap.
    pub const ITERATOR_OPEN: u64 = 1_000;
}

/// wasmd's code costs, in SDK gas (`x/wasm/types/gas_register.go`).
pub mod code {
    /// Per byte of wasm compiled (`DefaultCompileCost`).
    pub const COMPILE_PER_BYTE: u64 = 3;
    /// Per byte of gzip-compressed wasm inflated (`DefaultGasCostUncompress`: 0.15 a byte),
    /// as numerator and denominator.
    pub const UNCOMPRESS_PER_BYTE: (u64, u64) = (15, 100);
}

/// wasmd's fixed costs, in SDK gas.
pub mod wasm {
    /// Loading a contract instance (wasmd `DefaultInstanceCost`).
    pub const INSTANCE_COST: u64 = 60_000;
    /// Per byte of a contract's response events and attributes (wasmd `DefaultEventAttributeDataCost`).
    pub const EVENT_ATTRIBUTE_DATA_PER_BYTE: u64 = 1;
    /// Per event attribute (wasmd `DefaultPerAttributeCost`).
    pub const PER_ATTRIBUTE: u64 = 10;
    /// Per byte of a message's JSON (wasmd `DefaultContractMessageDataCost`, 0 in wasmd).
    pub const MESSAGE_DATA_PER_BYTE: u64 = 0;
}

/// SDK gas to CosmWasm gas, saturating.
pub fn to_vm(sdk: u64) -> u64 {
    sdk.saturating_mul(GAS_MULTIPLIER)
}

/// CosmWasm gas to SDK gas, rounding up so any work costs at least one unit.
pub fn to_sdk(vm: u64) -> u64 {
    vm.div_ceil(GAS_MULTIPLIER)
}

/// CosmWasm gas to whole SDK gas, rounding down (what a budget of `vm` gas can pay for).
pub fn to_sdk_floor(vm: u64) -> u64 {
    vm / GAS_MULTIPLIER
}

/// SDK gas of reading `key` and `value` bytes.
pub fn read_cost(key_len: usize, value_len: usize) -> u64 {
    kv::READ_FLAT + kv::READ_PER_BYTE * (key_len + value_len) as u64
}

/// SDK gas of one step of an iterator that yields `key` and `value` bytes (the SDK's gas-metered
/// iterator: the flat step cost plus the read cost per byte, without the flat read cost).
pub fn iter_next_cost(key_len: usize, value_len: usize) -> u64 {
    kv::ITER_NEXT_FLAT + kv::READ_PER_BYTE * (key_len + value_len) as u64
}

/// SDK gas of writing `key` and `value` bytes.
pub fn write_cost(key_len: usize, value_len: usize) -> u64 {
    kv::WRITE_FLAT + kv::WRITE_PER_BYTE * (key_len + value_len) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_up_to_whole_sdk_gas() {
        assert_eq!(to_sdk(0), 0);
        assert_eq!(to_sdk(1), 1);
        assert_eq!(to_sdk(GAS_MULTIPLIER), 1);
        assert_eq!(to_sdk(GAS_MULTIPLIER + 1), 2);
        assert_eq!(to_vm(2), 2 * GAS_MULTIPLIER);
    }

    #[test]
    fn kv_costs_follow_the_sdk_defaults() {
        assert_eq!(read_cost(10, 90), 1_000 + 300);
        assert_eq!(write_cost(10, 90), 2_000 + 3_000);
    }
}
