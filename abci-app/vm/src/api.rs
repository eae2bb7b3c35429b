//! The host API the VM gives contracts: bech32 addresses with the chain's prefix.

use cosmwasm_vm::{BackendApi, BackendError, BackendResult, GasInfo};

use crate::gas;

/// wasmd's `DefaultGasCostHumanAddress` and `DefaultGasCostCanonicalAddress`, in SDK gas.
const HUMANIZE_COST: u64 = 5;
const CANONICALIZE_COST: u64 = 4;

/// Address handling for contracts: `usage1…` bech32, 20-byte accounts and 32-byte contracts.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChainApi;

impl BackendApi for ChainApi {
    fn addr_validate(&self, input: &str) -> BackendResult<()> {
        let gas = GasInfo::with_cost(gas::to_vm(CANONICALIZE_COST + HUMANIZE_COST));
        let result = usaged_auth::validate_address(input)
            .map(|_| ())
            .map_err(|e| BackendError::user_err(e.to_string()));
        (result, gas)
    }

    fn addr_canonicalize(&self, human: &str) -> BackendResult<Vec<u8>> {
        let gas = GasInfo::with_cost(gas::to_vm(CANONICALIZE_COST));
        let result =
            usaged_auth::validate_address(human).map_err(|e| BackendError::user_err(e.to_string()));
        (result, gas)
    }

    fn addr_humanize(&self, canonical: &[u8]) -> BackendResult<String> {
        let gas = GasInfo::with_cost(gas::to_vm(HUMANIZE_COST));
        let result =
            usaged_auth::humanize(canonical).map_err(|e| BackendError::user_err(e.to_string()));
        (result, gas)
    }
}
