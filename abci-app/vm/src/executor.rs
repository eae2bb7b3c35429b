//! Contract calls: code storage, instantiation, execution, migration and queries, each on a
//! branch of the chain state, with one gas budget across the call and its sub-messages, atomic
//! rollback of a failed sub-message branch, `reply`, and wasmd's event layout.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use cosmwasm_std::{
    Addr, Binary, BlockInfo, Checksum, ContractInfo as EnvContract, ContractResult, CosmosMsg,
    Empty, Env, MessageInfo, MsgResponse, Reply, ReplyOn, Response, SubMsgResponse, SubMsgResult,
    TransactionInfo, WasmMsg,
};
use cosmwasm_vm::{
    call_execute, call_instantiate, call_migrate, call_query, call_reply, capabilities_from_csv,
    Backend, Cache, CacheOptions, InstanceOptions, Size, VmError,
};
use serde::{Deserialize, Serialize};
use usaged_store::{KvRead, Overlay};

use crate::api::ChainApi;
use crate::events::{self, ChainEvent};
use crate::gas;
use crate::keys;
use crate::querier::ChainQuerier;
use crate::storage::{Branch, ContractStorage};
use crate::ExecError;

/// Capabilities the chain offers contracts.
pub const CAPABILITIES: &str =
    "iterator,staking,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1";
/// Deepest chain of sub-messages.
pub const MAX_CALL_DEPTH: u32 = 16;
/// Memory of one contract instance (wasmd: 32 MiB).
pub const INSTANCE_MEMORY: Size = Size::mebi(32);
/// Memory cache of compiled modules.
pub const MEMORY_CACHE: Size = Size::mebi(256);
/// Gas of a smart query served to a client (SDK gas), as wasmd's `SmartQueryGasLimit`.
pub const QUERY_GAS_LIMIT_SDK: u64 = 3_000_000;

/// A stored code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    pub checksum: Binary,
    pub creator: Addr,
}

/// A contract instance.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ContractInfo {
    pub code_id: u64,
    pub creator: Addr,
    pub admin: Option<Addr>,
    pub label: String,
}

/// What a successful call produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOutcome {
    /// The data the call returned (for instantiate: the contract address is separate).
    pub data: Option<Binary>,
    pub events: Vec<ChainEvent>,
    /// CosmWasm gas used by the call and everything it triggered.
    pub gas_used: u64,
}

/// The block a call runs in.
#[derive(Debug, Clone)]
pub struct BlockCtx {
    pub block: BlockInfo,
    /// Index of the transaction in the block, for `env.transaction`.
    pub tx_index: u32,
    /// Hash of the transaction (sha256 of its bytes).
    pub tx_hash: Binary,
}

type VmCache = Cache<ChainApi, ContractStorage, ChainQuerier>;

/// Shared by the executor and the queriers it hands to instances.
pub struct VmInner {
    cache: VmCache,
}

/// Runs contracts in the CosmWasm VM.
#[derive(Clone)]
pub struct WasmVm {
    inner: Rc<VmInner>,
}

enum Call<'a> {
    Instantiate,
    Execute,
    Migrate,
    Reply(&'a Reply),
}

impl Call<'_> {
    fn action(&self) -> &'static str {
        match self {
            Call::Instantiate => "instantiate",
            Call::Execute => "execute",
            Call::Migrate => "migrate",
            Call::Reply(_) => "reply",
        }
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(
    state: &dyn KvRead,
    key: &[u8],
) -> Result<Option<T>, ExecError> {
    match state.get(key)? {
        None => Ok(None),
        Some(raw) => serde_json::from_slice(&raw)
            .map(Some)
            .map_err(|e| ExecError::Corrupt(e.to_string())),
    }
}

fn write_json<T: Serialize>(state: &mut Overlay, key: Vec<u8>, v: &T) -> Result<(), ExecError> {
    let raw = serde_json::to_vec(v).map_err(|e| ExecError::Corrupt(e.to_string()))?;
    state.set(key, raw);
    Ok(())
}

fn next_sequence(state: &mut Overlay, name: &str) -> Result<u64, ExecError> {
    let key = keys::sequence(name);
    let current = match state.get(&key)? {
        Some(raw) => {
            let bytes: [u8; 8] = raw
                .as_slice()
                .try_into()
                .map_err(|_| ExecError::Corrupt(format!("sequence {name}")))?;
            u64::from_be_bytes(bytes)
        }
        None => 0,
    };
    let next = current + 1;
    state.set(key, next.to_be_bytes().to_vec());
    Ok(next)
}

fn vm_err(e: VmError) -> ExecError {
    match e {
        VmError::GasDepletion { .. } => ExecError::OutOfGas,
        other => ExecError::Vm(other.to_string()),
    }
}

impl WasmVm {
    /// A VM whose compiled-module cache lives under `cache_dir`.
    pub fn new(cache_dir: &Path) -> Result<Self, ExecError> {
        let options = CacheOptions::new(
            cache_dir,
            capabilities_from_csv(CAPABILITIES),
            MEMORY_CACHE,
            INSTANCE_MEMORY,
        );
        // SAFETY: the cache directory belongs to this node alone (documented requirement of
        // `Cache::new`: no other process writes it concurrently).
        let cache = unsafe { Cache::new(options) }.map_err(|e| ExecError::Vm(e.to_string()))?;
        Ok(WasmVm {
            inner: Rc::new(VmInner { cache }),
        })
    }

    /// Stores wasm bytecode (checked against the chain's capabilities) as a new code id.
    pub fn store_code(
        &self,
        state: &mut Overlay,
        creator: &Addr,
        wasm: &[u8],
    ) -> Result<(u64, Checksum), ExecError> {
        let checksum = self
            .inner
            .cache
            .store_code(wasm, true, true)
            .map_err(|e| ExecError::InvalidCode(e.to_string()))?;
        let code_id = next_sequence(state, "code_id")?;
        state.set(keys::wasm(checksum.as_slice()), wasm.to_vec());
        write_json(
            state,
            keys::code(code_id),
            &CodeInfo {
                checksum: Binary::from(checksum.as_slice()),
                creator: creator.clone(),
            },
        )?;
        Ok((code_id, checksum))
    }

    /// Makes sure the module of every stored code is in the VM cache (after a restart the
    /// bytecode is in the state, the compiled module may not be).
    pub fn ensure_code(&self, state: &dyn KvRead, code_id: u64) -> Result<Checksum, ExecError> {
        let info: CodeInfo =
            read_json(state, &keys::code(code_id))?.ok_or(ExecError::UnknownCode { code_id })?;
        let checksum = Checksum::try_from(info.checksum.as_slice())
            .map_err(|e| ExecError::Corrupt(e.to_string()))?;
        if self.inner.cache.load_wasm(&checksum).is_err() {
            let wasm = state
                .get(&keys::wasm(checksum.as_slice()))?
                .ok_or(ExecError::UnknownCode { code_id })?;
            self.inner
                .cache
                .store_code(&wasm, false, true)
                .map_err(|e| ExecError::InvalidCode(e.to_string()))?;
        }
        Ok(checksum)
    }

    /// Instantiates `code_id`; returns the new contract's address and the call's outcome.
    #[allow(clippy::too_many_arguments)]
    pub fn instantiate(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        code_id: u64,
        msg: &[u8],
        label: &str,
        admin: Option<Addr>,
        gas_limit: u64,
    ) -> Result<(Addr, CallOutcome), ExecError> {
        let mut meter = gas_limit;
        let (addr, mut outcome) = self.inner.instantiate(
            state, ctx, sender, code_id, msg, label, admin, &mut meter, 0,
        )?;
        outcome.gas_used = gas_limit - meter;
        Ok((addr, outcome))
    }

    /// Executes `msg` on `contract` as `sender`.
    pub fn execute(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        contract: &Addr,
        msg: &[u8],
        gas_limit: u64,
    ) -> Result<CallOutcome, ExecError> {
        let mut meter = gas_limit;
        let mut outcome = self.inner.call(
            state,
            ctx,
            Call::Execute,
            contract,
            sender,
            msg,
            &mut meter,
            0,
        )?;
        outcome.gas_used = gas_limit - meter;
        Ok(outcome)
    }

    /// Migrates `contract` to `code_id`; only its admin may.
    #[allow(clippy::too_many_arguments)]
    pub fn migrate(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        contract: &Addr,
        code_id: u64,
        msg: &[u8],
        gas_limit: u64,
    ) -> Result<CallOutcome, ExecError> {
        let mut meter = gas_limit;
        let mut outcome = self
            .inner
            .migrate(state, ctx, sender, contract, code_id, msg, &mut meter, 0)?;
        outcome.gas_used = gas_limit - meter;
        Ok(outcome)
    }

    /// A smart query against `state` (read only); returns the contract's answer and gas used.
    pub fn query_smart(
        &self,
        state: &Branch,
        block: &BlockInfo,
        contract: &str,
        msg: &[u8],
        gas_limit: u64,
    ) -> Result<(ContractResult<Binary>, u64), ExecError> {
        self.inner
            .query_smart_at(state, block, contract, msg, gas_limit, 0)
    }

    /// A contract's raw storage value.
    pub fn query_raw(
        &self,
        state: &Branch,
        contract: &str,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, ExecError> {
        self.inner
            .query_raw_at(state, contract, key)
            .map(|(v, _)| v)
    }

    /// A contract's info.
    pub fn contract_info(&self, state: &Branch, contract: &str) -> Result<ContractInfo, ExecError> {
        self.inner.contract_info_at(state, contract)
    }
}

impl VmInner {
    fn canonical(&self, address: &str) -> Result<Vec<u8>, ExecError> {
        usaged_auth::validate_address(address).map_err(|_| ExecError::UnknownContract {
            address: address.to_string(),
        })
    }

    pub(crate) fn contract_info_at(
        &self,
        state: &Branch,
        address: &str,
    ) -> Result<ContractInfo, ExecError> {
        let canonical = self.canonical(address)?;
        read_json(&*state.borrow(), &keys::contract(&canonical))?.ok_or_else(|| {
            ExecError::UnknownContract {
                address: address.to_string(),
            }
        })
    }

    pub(crate) fn query_raw_at(
        &self,
        state: &Branch,
        address: &str,
        key: &[u8],
    ) -> Result<(Option<Vec<u8>>, u64), ExecError> {
        self.contract_info_at(state, address)?;
        let canonical = self.canonical(address)?;
        let mut full = keys::contract_store(&canonical);
        full.extend_from_slice(key);
        let value = state.borrow().get(&full)?;
        let cost = gas::read_cost(key.len(), value.as_ref().map_or(0, Vec::len));
        Ok((value, gas::to_vm(cost)))
    }

    fn checksum_of(&self, state: &Branch, code_id: u64) -> Result<Checksum, ExecError> {
        let info: CodeInfo = read_json(&*state.borrow(), &keys::code(code_id))?
            .ok_or(ExecError::UnknownCode { code_id })?;
        Checksum::try_from(info.checksum.as_slice()).map_err(|e| ExecError::Corrupt(e.to_string()))
    }

    fn backend(
        self: &Rc<Self>,
        state: &Branch,
        block: &BlockInfo,
        canonical: &[u8],
        depth: u32,
    ) -> Backend<ChainApi, ContractStorage, ChainQuerier> {
        Backend {
            api: ChainApi,
            storage: ContractStorage::new(Rc::clone(state), keys::contract_store(canonical)),
            querier: ChainQuerier {
                vm: Rc::clone(self),
                branch: Rc::clone(state),
                block: block.clone(),
                depth,
            },
        }
    }

    pub(crate) fn query_smart_at(
        self: &Rc<Self>,
        state: &Branch,
        block: &BlockInfo,
        address: &str,
        msg: &[u8],
        gas_limit: u64,
        depth: u32,
    ) -> Result<(ContractResult<Binary>, u64), ExecError> {
        let info = self.contract_info_at(state, address)?;
        let canonical = self.canonical(address)?;
        let checksum = self.checksum_of(state, info.code_id)?;
        let env = Env {
            block: block.clone(),
            transaction: None,
            contract: EnvContract {
                address: Addr::unchecked(address),
            },
        };
        let backend = self.backend(state, block, &canonical, depth);
        let mut instance = self
            .cache
            .get_instance(&checksum, backend, InstanceOptions { gas_limit })
            .map_err(vm_err)?;
        instance.set_storage_readonly(true);
        let result = call_query(&mut instance, &env, msg);
        let report = instance.create_gas_report();
        let used = report.used_internally + report.used_externally;
        Ok((result.map_err(vm_err)?, used))
    }

    #[allow(clippy::too_many_arguments)]
    fn instantiate(
        self: &Rc<Self>,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        code_id: u64,
        msg: &[u8],
        label: &str,
        admin: Option<Addr>,
        meter: &mut u64,
        depth: u32,
    ) -> Result<(Addr, CallOutcome), ExecError> {
        self.checksum_of(state, code_id)?;
        let instance_id = next_sequence(&mut state.borrow_mut(), "instance_id")?;
        let canonical = keys::classic_contract_address(code_id, instance_id);
        let address =
            usaged_auth::humanize(&canonical).map_err(|e| ExecError::Corrupt(e.to_string()))?;
        let addr = Addr::unchecked(address);
        write_json(
            &mut state.borrow_mut(),
            keys::contract(&canonical),
            &ContractInfo {
                code_id,
                creator: sender.clone(),
                admin,
                label: label.to_string(),
            },
        )?;
        let outcome = self.call(
            state,
            ctx,
            Call::Instantiate,
            &addr,
            sender,
            msg,
            meter,
            depth,
        )?;
        Ok((addr, outcome))
    }

    #[allow(clippy::too_many_arguments)]
    fn migrate(
        self: &Rc<Self>,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        contract: &Addr,
        code_id: u64,
        msg: &[u8],
        meter: &mut u64,
        depth: u32,
    ) -> Result<CallOutcome, ExecError> {
        let mut info = self.contract_info_at(state, contract.as_str())?;
        if info.admin.as_ref() != Some(sender) {
            return Err(ExecError::Unauthorized {
                reason: format!("only the admin may migrate {contract}"),
            });
        }
        self.checksum_of(state, code_id)?;
        info.code_id = code_id;
        let canonical = self.canonical(contract.as_str())?;
        write_json(&mut state.borrow_mut(), keys::contract(&canonical), &info)?;
        self.call(
            state,
            ctx,
            Call::Migrate,
            contract,
            sender,
            msg,
            meter,
            depth,
        )
    }

    /// One entry-point call and the sub-messages it returns.
    #[allow(clippy::too_many_arguments)]
    fn call(
        self: &Rc<Self>,
        state: &Branch,
        ctx: &BlockCtx,
        call: Call<'_>,
        contract: &Addr,
        sender: &Addr,
        msg: &[u8],
        meter: &mut u64,
        depth: u32,
    ) -> Result<CallOutcome, ExecError> {
        if depth > MAX_CALL_DEPTH {
            return Err(ExecError::CallDepth {
                max: MAX_CALL_DEPTH,
            });
        }
        let info = self.contract_info_at(state, contract.as_str())?;
        let canonical = self.canonical(contract.as_str())?;
        let checksum = self.checksum_of(state, info.code_id)?;

        // Loading an instance costs a flat fee, as in wasmd.
        let instance_cost = gas::to_vm(gas::wasm::INSTANCE_COST);
        *meter = meter
            .checked_sub(instance_cost)
            .ok_or(ExecError::OutOfGas)?;

        let env = Env {
            block: ctx.block.clone(),
            transaction: Some(TransactionInfo::new(ctx.tx_index, ctx.tx_hash.clone())),
            contract: EnvContract {
                address: contract.clone(),
            },
        };
        let backend = self.backend(state, &ctx.block, &canonical, 0);
        let mut instance = self
            .cache
            .get_instance(&checksum, backend, InstanceOptions { gas_limit: *meter })
            .map_err(vm_err)?;
        let info_msg = MessageInfo {
            sender: sender.clone(),
            funds: vec![],
        };
        let result = match &call {
            Call::Instantiate => {
                call_instantiate::<_, _, _, Empty>(&mut instance, &env, &info_msg, msg)
            }
            Call::Execute => call_execute::<_, _, _, Empty>(&mut instance, &env, &info_msg, msg),
            Call::Migrate => call_migrate::<_, _, _, Empty>(&mut instance, &env, msg),
            Call::Reply(reply) => call_reply::<_, _, _, Empty>(&mut instance, &env, reply),
        };
        let report = instance.create_gas_report();
        drop(instance);
        let used = report.used_internally + report.used_externally;
        *meter = meter.saturating_sub(used);
        let response: Response = match result.map_err(vm_err)? {
            ContractResult::Ok(r) => r,
            ContractResult::Err(e) => return Err(ExecError::ContractFailed(e)),
        };

        // Events cost gas by size, as wasmd's gas register charges them.
        let (attrs, bytes) = events::attribute_load(&response.attributes, &response.events);
        let event_cost = gas::to_vm(
            attrs * gas::wasm::PER_ATTRIBUTE + bytes * gas::wasm::EVENT_ATTRIBUTE_DATA_PER_BYTE,
        );
        *meter = meter.checked_sub(event_cost).ok_or(ExecError::OutOfGas)?;

        let extra: Vec<(&str, String)> = match call {
            Call::Instantiate | Call::Migrate => vec![("code_id", info.code_id.to_string())],
            _ => vec![],
        };
        let mut out_events = events::contract_call_events(
            call.action(),
            contract.as_str(),
            &extra,
            &response.attributes,
            &response.events,
        )?;
        let mut data = response.data.clone();

        for sub in &response.messages {
            let child: Branch = Rc::new(RefCell::new(state.borrow().fork()));
            let sub_limit = sub.gas_limit.map_or(*meter, |l| l.min(*meter));
            let mut sub_meter = sub_limit;
            let result = self.dispatch(&child, ctx, contract, &sub.msg, &mut sub_meter, depth + 1);
            *meter -= sub_limit - sub_meter;
            match result {
                Ok(outcome) => {
                    let changes = Rc::try_unwrap(child)
                        .map(RefCell::into_inner)
                        .map_err(|_| ExecError::Corrupt("sub-message branch still shared".into()))?
                        .into_changes();
                    state.borrow_mut().apply(changes);
                    let sub_events = outcome.events.clone();
                    out_events.extend(outcome.events);
                    if matches!(sub.reply_on, ReplyOn::Success | ReplyOn::Always) {
                        #[allow(deprecated)]
                        let reply = Reply {
                            id: sub.id,
                            payload: sub.payload.clone(),
                            gas_used: sub_limit - sub_meter,
                            result: SubMsgResult::Ok(SubMsgResponse {
                                events: sub_events
                                    .iter()
                                    .map(|e| {
                                        cosmwasm_std::Event::new(e.ty.clone()).add_attributes(
                                            e.attributes.iter().map(|(k, v)| {
                                                cosmwasm_std::Attribute {
                                                    key: k.clone(),
                                                    value: v.clone(),
                                                }
                                            }),
                                        )
                                    })
                                    .collect(),
                                data: outcome.data.clone(),
                                msg_responses: vec![MsgResponse {
                                    type_url: "/cosmwasm.wasm.v1.MsgExecuteContractResponse".into(),
                                    value: outcome.data.clone().unwrap_or_default(),
                                }],
                            }),
                        };
                        let r = self.call(
                            state,
                            ctx,
                            Call::Reply(&reply),
                            contract,
                            contract,
                            &[],
                            meter,
                            depth + 1,
                        )?;
                        if r.data.is_some() {
                            data = r.data;
                        }
                        out_events.extend(r.events);
                    }
                }
                Err(e)
                    if !e.is_node_fault()
                        && matches!(sub.reply_on, ReplyOn::Error | ReplyOn::Always) =>
                {
                    // The failed branch is dropped; the caller decides in `reply`.
                    let reply = Reply {
                        id: sub.id,
                        payload: sub.payload.clone(),
                        gas_used: sub_limit - sub_meter,
                        result: SubMsgResult::Err(e.to_string()),
                    };
                    let r = self.call(
                        state,
                        ctx,
                        Call::Reply(&reply),
                        contract,
                        contract,
                        &[],
                        meter,
                        depth + 1,
                    )?;
                    if r.data.is_some() {
                        data = r.data;
                    }
                    out_events.extend(r.events);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(CallOutcome {
            data,
            events: out_events,
            gas_used: 0,
        })
    }

    fn dispatch(
        self: &Rc<Self>,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        msg: &CosmosMsg,
        meter: &mut u64,
        depth: u32,
    ) -> Result<CallOutcome, ExecError> {
        match msg {
            CosmosMsg::Wasm(WasmMsg::Execute {
                contract_addr,
                msg,
                funds,
            }) if funds.is_empty() => self.call(
                state,
                ctx,
                Call::Execute,
                &Addr::unchecked(contract_addr),
                sender,
                msg.as_slice(),
                meter,
                depth,
            ),
            CosmosMsg::Wasm(WasmMsg::Instantiate {
                admin,
                code_id,
                msg,
                funds,
                label,
            }) if funds.is_empty() => {
                let admin = admin.as_ref().map(Addr::unchecked);
                self.instantiate(
                    state,
                    ctx,
                    sender,
                    *code_id,
                    msg.as_slice(),
                    label,
                    admin,
                    meter,
                    depth,
                )
                .map(|(_, o)| o)
            }
            CosmosMsg::Wasm(WasmMsg::Migrate {
                contract_addr,
                new_code_id,
                msg,
            }) => self.migrate(
                state,
                ctx,
                sender,
                &Addr::unchecked(contract_addr),
                *new_code_id,
                msg.as_slice(),
                meter,
                depth,
            ),
            other => Err(ExecError::Unsupported(
                format!("{other:?}").chars().take(80).collect(),
            )),
        }
    }
}
