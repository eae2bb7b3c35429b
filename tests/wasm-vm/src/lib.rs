//! A small harness that runs the optimised contract wasm in the real `cosmwasm-vm`: each contract
//! is an [`Instance`] with its own storage; smart queries between contracts are routed to the
//! target instance, and `WasmMsg::Execute` messages a contract returns are executed in order.
//! It is the test bench for the built artifacts, not a chain: no gas accounting across calls and
//! no rollback of a failed branch (the chain's application does that).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed unwrap is a failed test

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use cosmwasm_std::{
    Addr, Binary, BlockInfo, ContractInfo, ContractResult, CosmosMsg, Empty, Env, MessageInfo,
    QuerierResult, Response, SystemError, SystemResult, Timestamp, WasmMsg, WasmQuery,
};
use cosmwasm_vm::testing::{MockApi, MockQuerier, MockStorage};
use cosmwasm_vm::{
    call_execute, call_instantiate, call_query, capabilities_from_csv, Backend, Instance,
    InstanceOptions, Size,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Capabilities the chain offers to contracts (docs/TOOLCHAIN.md: up to `cosmwasm_2_1`).
pub const CHAIN_CAPABILITIES: &str =
    "iterator,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1";
/// Bech32 prefix of the chain.
pub const PREFIX: &str = "usage";
/// Gas limit of an instance, in CosmWasm gas. An instance is reused for every call and its gas is
/// never refilled, so this is what all its calls may use together: high enough never to stop a
/// call (a benchmark's hour of 1,000-record batches included), so the harness measures what a
/// call costs instead of limiting it.
pub const GAS_LIMIT: u64 = 1 << 62;

pub type VmInstance = Instance<MockApi, MockStorage, MockQuerier>;

pub fn capabilities() -> HashSet<String> {
    capabilities_from_csv(CHAIN_CAPABILITIES)
}

/// The optimised wasm of a contract; fails loudly if the build script has not run.
pub fn artifact(name: &str) -> Vec<u8> {
    usage_common::contracts::artifact(name).unwrap_or_else(|e| panic!("{e}"))
}

pub fn api() -> MockApi {
    MockApi::default().with_prefix(PREFIX)
}

pub fn addr(label: &str) -> Addr {
    Addr::unchecked(api().addr_make(label))
}

type Shared = Rc<RefCell<BTreeMap<String, Rc<RefCell<VmInstance>>>>>;

/// Several contract instances that can query and call each other.
pub struct VmNet {
    instances: Shared,
    block: Rc<RefCell<BlockInfo>>,
    pub last_gas_used: u64,
}

impl VmNet {
    pub fn new(chain_id: &str, time_seconds: u64) -> Self {
        VmNet {
            instances: Rc::new(RefCell::new(BTreeMap::new())),
            block: Rc::new(RefCell::new(BlockInfo {
                height: 1,
                time: Timestamp::from_seconds(time_seconds),
                chain_id: chain_id.to_string(),
            })),
            last_gas_used: 0,
        }
    }

    pub fn chain_id(&self) -> String {
        self.block.borrow().chain_id.clone()
    }

    pub fn advance(&self, seconds: u64) {
        let mut b = self.block.borrow_mut();
        b.height += 1;
        b.time = b.time.plus_seconds(seconds);
    }

    pub fn now(&self) -> u64 {
        self.block.borrow().time.seconds()
    }

    fn env_for(block: &BlockInfo, contract: &str) -> Env {
        Env {
            block: block.clone(),
            transaction: None,
            contract: ContractInfo {
                address: Addr::unchecked(contract),
            },
        }
    }

    /// Loads `wasm` as a new instance at `address` whose queries reach the other instances.
    pub fn add(&self, address: &Addr, wasm: &[u8]) {
        let mut querier = MockQuerier::new(&[]);
        let instances = Rc::clone(&self.instances);
        let block = Rc::clone(&self.block);
        querier.update_wasm(move |q: &WasmQuery| -> QuerierResult {
            let WasmQuery::Smart { contract_addr, msg } = q else {
                return SystemResult::Err(SystemError::UnsupportedRequest {
                    kind: "only smart queries".into(),
                });
            };
            let target = instances.borrow().get(contract_addr).cloned();
            let Some(target) = target else {
                return SystemResult::Err(SystemError::NoSuchContract {
                    addr: contract_addr.clone(),
                });
            };
            let env = Self::env_for(&block.borrow(), contract_addr);
            let mut inst = target.borrow_mut();
            match call_query(&mut inst, &env, msg.as_slice()) {
                Ok(r) => SystemResult::Ok(r),
                Err(e) => SystemResult::Err(SystemError::InvalidRequest {
                    error: e.to_string(),
                    request: msg.clone(),
                }),
            }
        });
        let backend = Backend {
            api: api(),
            storage: MockStorage::default(),
            querier,
        };
        let instance = Instance::from_code(
            wasm,
            backend,
            InstanceOptions {
                gas_limit: GAS_LIMIT,
            },
            Some(Size::mebi(32)),
        )
        .unwrap_or_else(|e| panic!("instance of {address}: {e}"));
        self.instances
            .borrow_mut()
            .insert(address.to_string(), Rc::new(RefCell::new(instance)));
    }

    fn instance(&self, contract: &Addr) -> Rc<RefCell<VmInstance>> {
        self.instances
            .borrow()
            .get(contract.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no instance at {contract}"))
    }

    pub fn instantiate<M: Serialize>(
        &mut self,
        contract: &Addr,
        sender: &Addr,
        msg: &M,
    ) -> Result<Response, String> {
        let inst = self.instance(contract);
        let env = Self::env_for(&self.block.borrow(), contract.as_str());
        let info = MessageInfo {
            sender: sender.clone(),
            funds: vec![],
        };
        let raw = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        let res = call_instantiate::<_, _, _, Empty>(&mut inst.borrow_mut(), &env, &info, &raw);
        let res = res.map_err(|e| format!("vm error: {e}"))?;
        self.dispatch(contract, res)
    }

    /// Executes a message and then, in order, the `WasmMsg::Execute` messages it returned.
    pub fn execute<M: Serialize>(
        &mut self,
        contract: &Addr,
        sender: &Addr,
        msg: &M,
    ) -> Result<Response, String> {
        let raw = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        self.execute_raw(contract, sender, &raw)
    }

    fn execute_raw(
        &mut self,
        contract: &Addr,
        sender: &Addr,
        raw: &[u8],
    ) -> Result<Response, String> {
        let inst = self.instance(contract);
        let env = Self::env_for(&self.block.borrow(), contract.as_str());
        let info = MessageInfo {
            sender: sender.clone(),
            funds: vec![],
        };
        let before = inst.borrow_mut().get_gas_left();
        let res = call_execute::<_, _, _, Empty>(&mut inst.borrow_mut(), &env, &info, raw);
        self.last_gas_used = before.saturating_sub(inst.borrow_mut().get_gas_left());
        let res = res.map_err(|e| format!("vm error: {e}"))?;
        self.dispatch(contract, res)
    }

    fn dispatch(
        &mut self,
        contract: &Addr,
        res: ContractResult<Response>,
    ) -> Result<Response, String> {
        let res = res.into_result()?;
        for sub in &res.messages {
            if let CosmosMsg::Wasm(WasmMsg::Execute {
                contract_addr, msg, ..
            }) = &sub.msg
            {
                self.execute_raw(&Addr::unchecked(contract_addr), contract, msg.as_slice())?;
            } else {
                return Err(format!("unsupported message {:?}", sub.msg));
            }
        }
        Ok(res)
    }

    pub fn query<Q: Serialize, R: DeserializeOwned>(
        &self,
        contract: &Addr,
        msg: &Q,
    ) -> Result<R, String> {
        let inst = self.instance(contract);
        let env = Self::env_for(&self.block.borrow(), contract.as_str());
        let raw = serde_json::to_vec(msg).map_err(|e| e.to_string())?;
        let res = call_query(&mut inst.borrow_mut(), &env, &raw).map_err(|e| e.to_string())?;
        let bin: Binary = res.into_result()?;
        serde_json::from_slice(bin.as_slice()).map_err(|e| e.to_string())
    }
}

pub mod flow;
