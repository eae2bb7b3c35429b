//! Queries a contract makes while it runs: other contracts' smart and raw state and contract
//! info, read from the same branch the caller runs on; bank balances are zero (no native token).

use std::rc::Rc;

use cosmwasm_std::{
    to_json_binary, Binary, BlockInfo, ContractInfoResponse, ContractResult, Empty, QueryRequest,
    SystemError, SystemResult, WasmQuery,
};
use cosmwasm_vm::{BackendError, BackendResult, GasInfo, Querier};

use crate::executor::VmInner;
use crate::storage::Branch;

/// Deepest chain of queries (a query made by a query ...), as wasmd's `DefaultMaxQueryStackSize`.
pub const MAX_QUERY_DEPTH: u32 = 10;

pub struct ChainQuerier {
    pub(crate) vm: Rc<VmInner>,
    pub(crate) branch: Branch,
    pub(crate) block: BlockInfo,
    pub(crate) depth: u32,
}

fn json_answer<T: serde::Serialize>(
    value: &T,
) -> BackendResult<SystemResult<ContractResult<Binary>>> {
    match to_json_binary(value) {
        Ok(b) => (Ok(SystemResult::Ok(ContractResult::Ok(b))), GasInfo::free()),
        Err(e) => (Err(BackendError::unknown(e.to_string())), GasInfo::free()),
    }
}

fn system_err(e: SystemError) -> BackendResult<SystemResult<ContractResult<Binary>>> {
    (Ok(SystemResult::Err(e)), GasInfo::free())
}

impl Querier for ChainQuerier {
    fn query_raw(
        &self,
        request: &[u8],
        gas_limit: u64,
    ) -> BackendResult<SystemResult<ContractResult<Binary>>> {
        let req: QueryRequest<Empty> = match serde_json::from_slice(request) {
            Ok(r) => r,
            Err(e) => {
                return system_err(SystemError::InvalidRequest {
                    error: e.to_string(),
                    request: Binary::from(request),
                })
            }
        };
        if self.depth >= MAX_QUERY_DEPTH {
            return system_err(SystemError::InvalidRequest {
                error: format!("query depth above {MAX_QUERY_DEPTH}"),
                request: Binary::from(request),
            });
        }
        match req {
            QueryRequest::Wasm(WasmQuery::Smart { contract_addr, msg }) => {
                // Whatever the nested query's fate, the caller pays the gas it used: a failed
                // query handed the caller's whole remaining budget must not be free to retry.
                let (result, used) = self.vm.query_smart_at(
                    &self.branch,
                    &self.block,
                    &contract_addr,
                    msg.as_slice(),
                    gas_limit,
                    self.depth + 1,
                );
                let gas = GasInfo::with_externally_used(used);
                match result {
                    Ok(result) => (Ok(SystemResult::Ok(result)), gas),
                    Err(crate::ExecError::UnknownContract { address }) => (
                        Ok(SystemResult::Err(SystemError::NoSuchContract {
                            addr: address,
                        })),
                        gas,
                    ),
                    Err(e) if e.is_node_fault() => (Err(self.vm.record_fault(e)), gas),
                    Err(e) => {
                        let (codespace, code) = e.abci_code();
                        (
                            Ok(SystemResult::Ok(ContractResult::Err(format!(
                                "codespace: {codespace}, code: {code}"
                            )))),
                            gas,
                        )
                    }
                }
            }
            QueryRequest::Wasm(WasmQuery::Raw { contract_addr, key }) => {
                match self
                    .vm
                    .query_raw_at(&self.branch, &contract_addr, key.as_slice())
                {
                    Ok((value, used)) => (
                        Ok(SystemResult::Ok(ContractResult::Ok(Binary::from(
                            value.unwrap_or_default(),
                        )))),
                        GasInfo::with_externally_used(used),
                    ),
                    Err(crate::ExecError::UnknownContract { address }) => {
                        system_err(SystemError::NoSuchContract { addr: address })
                    }
                    Err(e) => (Err(self.vm.record_fault(e)), GasInfo::free()),
                }
            }
            QueryRequest::Wasm(WasmQuery::ContractInfo { contract_addr }) => {
                match self.vm.contract_info_at(&self.branch, &contract_addr) {
                    Ok(info) => {
                        let resp = ContractInfoResponse::new(
                            info.code_id,
                            info.creator,
                            info.admin,
                            false,
                            None,
                            None,
                        );
                        match to_json_binary(&resp) {
                            Ok(b) => (Ok(SystemResult::Ok(ContractResult::Ok(b))), GasInfo::free()),
                            Err(e) => (Err(BackendError::unknown(e.to_string())), GasInfo::free()),
                        }
                    }
                    Err(crate::ExecError::UnknownContract { address }) => {
                        system_err(SystemError::NoSuchContract { addr: address })
                    }
                    Err(e) => (Err(self.vm.record_fault(e)), GasInfo::free()),
                }
            }
            QueryRequest::Wasm(WasmQuery::CodeInfo { code_id }) => {
                match self.vm.code_info_response(&self.branch, code_id) {
                    Ok(resp) => json_answer(&resp),
                    Err(crate::ExecError::UnknownCode { code_id }) => (
                        Ok(SystemResult::Ok(ContractResult::Err(format!(
                            "no code with id {code_id}"
                        )))),
                        GasInfo::free(),
                    ),
                    Err(e) => (Err(self.vm.record_fault(e)), GasInfo::free()),
                }
            }
            // No native token: every supply is zero, no denomination has metadata.
            QueryRequest::Bank(cosmwasm_std::BankQuery::Supply { denom }) => json_answer(
                &cosmwasm_std::SupplyResponse::new(cosmwasm_std::Coin::new(0u128, denom)),
            ),
            QueryRequest::Bank(cosmwasm_std::BankQuery::DenomMetadata { denom }) => (
                Ok(SystemResult::Ok(ContractResult::Err(format!(
                    "no metadata for denomination {denom}: the chain has no native token"
                )))),
                GasInfo::free(),
            ),
            QueryRequest::Bank(cosmwasm_std::BankQuery::AllDenomMetadata { .. }) => {
                json_answer(&cosmwasm_std::AllDenomMetadataResponse::new(vec![], None))
            }
            // No staking: nobody delegates, withdrawals go to the delegator itself.
            QueryRequest::Distribution(d) => match d {
                cosmwasm_std::DistributionQuery::DelegatorWithdrawAddress { delegator_address } => {
                    json_answer(&cosmwasm_std::DelegatorWithdrawAddressResponse::new(
                        cosmwasm_std::Addr::unchecked(delegator_address),
                    ))
                }
                cosmwasm_std::DistributionQuery::DelegationTotalRewards { .. } => json_answer(
                    &cosmwasm_std::DelegationTotalRewardsResponse::new(vec![], vec![]),
                ),
                cosmwasm_std::DistributionQuery::DelegatorValidators { .. } => {
                    json_answer(&cosmwasm_std::DelegatorValidatorsResponse::new(vec![]))
                }
                other => (
                    Ok(SystemResult::Ok(ContractResult::Err(format!(
                        "no delegation: the chain has no staking ({})",
                        format!("{other:?}").chars().take(64).collect::<String>()
                    )))),
                    GasInfo::free(),
                ),
            },
            QueryRequest::Bank(cosmwasm_std::BankQuery::Balance { denom, .. }) => {
                let resp =
                    cosmwasm_std::BalanceResponse::new(cosmwasm_std::Coin::new(0u128, denom));
                match to_json_binary(&resp) {
                    Ok(b) => (Ok(SystemResult::Ok(ContractResult::Ok(b))), GasInfo::free()),
                    Err(e) => (Err(BackendError::unknown(e.to_string())), GasInfo::free()),
                }
            }
            other => system_err(SystemError::UnsupportedRequest {
                kind: format!("{other:?}").chars().take(64).collect(),
            }),
        }
    }
}
