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
use crate::storage::{Branch, ContractStorage, FaultSlot};
use crate::ExecError;

/// Capabilities the chain offers contracts: what it implements. The chain has no native token
/// and no staking: `staking` is not offered; the bank and distribution queries of
/// `cosmwasm_1_1`…`cosmwasm_1_4` answer as such a chain truly is (zero supply, no metadata, no
/// delegations); `Instantiate2` and `CodeInfo` (`cosmwasm_1_2`) are implemented; messages and
/// queries of other modules (`Any`, `Grpc`, bank sends, IBC) fail with a typed error, as on any
/// chain without those modules.
pub const CAPABILITIES: &str =
    "iterator,cosmwasm_1_1,cosmwasm_1_2,cosmwasm_1_3,cosmwasm_1_4,cosmwasm_2_0,cosmwasm_2_1";
/// Largest wasm code accepted, after inflating a gzip upload (wasmd's `MaxWasmSize`).
pub const MAX_WASM_SIZE: usize = 800 * 1024;
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
    /// Who may instantiate it (and migrate a contract to it).
    pub instantiate_permission: AccessConfig,
}

/// Who may do something (wasmd's `AccessConfig`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccessConfig {
    #[default]
    Nobody,
    Everybody,
    AnyOfAddresses(Vec<String>),
}

impl AccessConfig {
    /// True if `address` may.
    pub fn allows(&self, address: &str) -> bool {
        match self {
            AccessConfig::Nobody => false,
            AccessConfig::Everybody => true,
            AccessConfig::AnyOfAddresses(list) => list.iter().any(|a| a == address),
        }
    }

    /// True if everyone this config allows is allowed by `other` too (wasmd's `IsSubset`).
    pub fn is_subset_of(&self, other: &AccessConfig) -> bool {
        match (self, other) {
            (AccessConfig::Nobody, _) => true,
            (_, AccessConfig::Everybody) => true,
            (AccessConfig::Everybody, _) => false,
            (AccessConfig::AnyOfAddresses(mine), theirs) => mine.iter().all(|a| theirs.allows(a)),
        }
    }
}

/// Ends a `Simulate` mark of [`WasmVm::simulating`] when dropped.
pub struct SimulatingGuard<'a>(&'a WasmVm);

impl Drop for SimulatingGuard<'_> {
    fn drop(&mut self) {
        self.0.inner.simulating.set(false);
    }
}

/// How a code upload is handled: stored for good (a block), or only checked and charged
/// (`Simulate`: nothing reaches the disk, nothing is compiled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upload {
    Store,
    CheckOnly,
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
    /// The contract an instantiation created (for its `MsgInstantiateContractResponse`).
    pub instantiated: Option<Addr>,
}

/// The `MsgResponse` of a sub-message that succeeded, as the SDK encodes it for its type.
fn msg_response(
    msg: &CosmosMsg,
    instantiated: Option<&Addr>,
    data: Option<&Binary>,
) -> MsgResponse {
    use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
    use prost::Message;
    let data = data.map(|d| d.to_vec()).unwrap_or_default();
    let (type_url, value) = match msg {
        CosmosMsg::Wasm(WasmMsg::Instantiate { .. } | WasmMsg::Instantiate2 { .. }) => (
            "/cosmwasm.wasm.v1.MsgInstantiateContractResponse",
            wasmv1::MsgInstantiateContractResponse {
                address: instantiated.map(|a| a.to_string()).unwrap_or_default(),
                data,
            }
            .encode_to_vec(),
        ),
        CosmosMsg::Wasm(WasmMsg::Migrate { .. }) => (
            "/cosmwasm.wasm.v1.MsgMigrateContractResponse",
            wasmv1::MsgMigrateContractResponse { data }.encode_to_vec(),
        ),
        _ => (
            "/cosmwasm.wasm.v1.MsgExecuteContractResponse",
            wasmv1::MsgExecuteContractResponse { data }.encode_to_vec(),
        ),
    };
    MsgResponse {
        type_url: type_url.into(),
        value: Binary::from(value),
    }
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
    /// The first store error met inside a contract call since the last check.
    fault: FaultSlot,
    /// Set while a `Simulate` runs: nothing may be compiled or written to the module cache.
    simulating: std::cell::Cell<bool>,
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

/// A `VmError` of a contract call: what the contract or its input caused is the transaction's
/// failure (an explicit allow-list); anything else — the module cache, integrity, compilation or
/// instantiation of stored code, variants added later — is this node's fault.
fn vm_err(e: VmError) -> ExecError {
    match e {
        VmError::GasDepletion { .. } => ExecError::OutOfGas,
        VmError::Aborted { .. }
        | VmError::BackendErr { .. }
        | VmError::CommunicationErr { .. }
        | VmError::ConversionErr { .. }
        | VmError::CryptoErr { .. }
        | VmError::GenericErr { .. }
        | VmError::ParseErr { .. }
        | VmError::DeserializationLimitExceeded { .. }
        | VmError::SerializeErr { .. }
        | VmError::ResolveErr { .. }
        | VmError::ResultMismatch { .. }
        | VmError::RuntimeErr { .. }
        | VmError::WriteAccessDenied { .. }
        | VmError::MaxCallDepthExceeded { .. }
        | VmError::FunctionArityMismatch { .. } => ExecError::Vm(e.to_string()),
        other => ExecError::NodeVm(other.to_string()),
    }
}

/// Inflates gzip-compressed wasm (as wasmd accepts it: CosmJS always gzips), refusing more than
/// [`MAX_WASM_SIZE`] bytes; plain wasm is returned as it is.
pub fn uncompress_wasm(code: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, ExecError> {
    use std::io::Read;
    if !code.starts_with(&[0x1f, 0x8b, 0x08]) {
        if code.len() > MAX_WASM_SIZE {
            return Err(ExecError::InvalidCode(format!(
                "wasm code of {} bytes, the limit is {MAX_WASM_SIZE}",
                code.len()
            )));
        }
        return Ok(std::borrow::Cow::Borrowed(code));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(code)
        .take(MAX_WASM_SIZE as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ExecError::InvalidCode(format!("gzip: {e}")))?;
    if out.len() > MAX_WASM_SIZE {
        return Err(ExecError::InvalidCode(format!(
            "inflated wasm code above the limit of {MAX_WASM_SIZE} bytes"
        )));
    }
    Ok(std::borrow::Cow::Owned(out))
}

impl WasmVm {
    /// A VM whose compiled-module cache lives under `cache_dir`.
    #[allow(unsafe_code)] // `Cache::new` is unsafe by contract (see the SAFETY note)
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
            inner: Rc::new(VmInner {
                cache,
                fault: FaultSlot::default(),
                simulating: std::cell::Cell::new(false),
            }),
        })
    }

    /// SDK gas an upload of `code` (as sent, maybe gzipped) costs before it is stored: inflating
    /// it and compiling it, as wasmd charges (storing it is charged by [`WasmVm::store_code`]).
    pub fn upload_gas(code_len: usize, wasm_len: usize, gzipped: bool) -> u64 {
        let (num, den) = gas::code::UNCOMPRESS_PER_BYTE;
        let inflate = if gzipped {
            (code_len as u64).saturating_mul(num) / den
        } else {
            0
        };
        inflate.saturating_add((wasm_len as u64).saturating_mul(gas::code::COMPILE_PER_BYTE))
    }

    /// Stores wasm bytecode (plain or gzipped; checked against the chain's capabilities) as a new
    /// code id that `instantiate_permission` may instantiate. Returns the code id, the checksum
    /// and the SDK gas used (inflating, compiling and the KV writes). With [`Upload::CheckOnly`]
    /// the code is statically checked but neither compiled nor written to the module cache.
    /// Fails with [`ExecError::OutOfGas`] before compiling if `budget` (SDK gas) cannot pay.
    pub fn store_code(
        &self,
        state: &mut Overlay,
        creator: &Addr,
        code: &[u8],
        instantiate_permission: AccessConfig,
        upload: Upload,
        budget: u64,
    ) -> Result<(u64, Checksum, u64), ExecError> {
        let wasm = uncompress_wasm(code)?;
        let gzipped = matches!(wasm, std::borrow::Cow::Owned(_));
        // Everything an upload costs is known from its sizes: charge it before any work.
        let wasm_key_len = keys::wasm(&[0u8; 32]).len();
        let up_front = Self::upload_gas(code.len(), wasm.len(), gzipped)
            .saturating_add(gas::write_cost(wasm_key_len, wasm.len()));
        if up_front > budget {
            return Err(ExecError::OutOfGas);
        }
        let checksum = match upload {
            Upload::Store => {
                self.inner
                    .cache
                    .store_code(&wasm, true, true)
                    .map_err(|e| match e {
                        VmError::StaticValidationErr { .. } | VmError::CompileErr { .. } => {
                            ExecError::InvalidCode(e.to_string())
                        }
                        // Writing the module cache is the node's business, not the uploader's.
                        other => ExecError::NodeVm(other.to_string()),
                    })?
            }
            Upload::CheckOnly => {
                cosmwasm_vm::internals::check_wasm(
                    &wasm,
                    &capabilities_from_csv(CAPABILITIES),
                    &cosmwasm_vm::WasmLimits::default(),
                    cosmwasm_vm::internals::Logger::Off,
                )
                .map_err(|e| ExecError::InvalidCode(e.to_string()))?;
                Checksum::generate(&wasm)
            }
        };
        let code_id = next_sequence(state, "code_id")?;
        let mut used = up_front;
        state.set(keys::wasm(checksum.as_slice()), wasm.into_owned());
        let info = CodeInfo {
            checksum: Binary::from(checksum.as_slice()),
            creator: creator.clone(),
            instantiate_permission,
        };
        let info_key = keys::code(code_id);
        let raw = serde_json::to_vec(&info).map_err(|e| ExecError::Corrupt(e.to_string()))?;
        used = used.saturating_add(gas::write_cost(info_key.len(), raw.len()));
        state.set(info_key, raw);
        Ok((code_id, checksum, used))
    }

    /// Makes sure the wasm and module of a stored code are in the VM's cache, rebuilding them from
    /// the bytecode kept in the state when they are missing or unreadable (a wiped or partly
    /// written `wasm-cache`, a state copied without it).
    pub fn ensure_code(&self, state: &dyn KvRead, code_id: u64) -> Result<Checksum, ExecError> {
        let info: CodeInfo =
            read_json(state, &keys::code(code_id))?.ok_or(ExecError::UnknownCode { code_id })?;
        let checksum = Checksum::try_from(info.checksum.as_slice())
            .map_err(|e| ExecError::Corrupt(e.to_string()))?;
        if self.inner.cache.load_wasm(&checksum).is_err() {
            self.inner.rebuild(state, &checksum)?;
        }
        Ok(checksum)
    }

    /// Marks a `Simulate` until the returned guard drops (panics included): meanwhile a missing
    /// module is never compiled or written to the cache.
    pub fn simulating(&self) -> SimulatingGuard<'_> {
        self.inner.simulating.set(true);
        SimulatingGuard(self)
    }

    /// Every stored code id, in order.
    pub fn code_ids(&self, state: &dyn KvRead) -> Result<Vec<u64>, ExecError> {
        let start = [keys::CODE_PREFIX];
        let end = [keys::CODE_PREFIX + 1];
        let mut ids = vec![];
        for item in state.range(
            std::ops::Bound::Included(&start[..]),
            std::ops::Bound::Excluded(&end[..]),
            usaged_store::Order::Ascending,
        )? {
            let (k, _) = item?;
            let id = k
                .get(1..9)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(u64::from_be_bytes)
                .ok_or_else(|| ExecError::Corrupt("a code key".into()))?;
            ids.push(id);
        }
        Ok(ids)
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
        self.instantiate_metered(state, ctx, sender, code_id, msg, label, admin, &mut meter)
    }

    /// [`WasmVm::instantiate`] on a meter that shows the gas left, failure or not.
    #[allow(clippy::too_many_arguments)]
    pub fn instantiate_metered(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        code_id: u64,
        msg: &[u8],
        label: &str,
        admin: Option<Addr>,
        meter: &mut u64,
    ) -> Result<(Addr, CallOutcome), ExecError> {
        self.instantiate_at_metered(state, ctx, sender, code_id, msg, label, admin, None, meter)
    }

    /// Instantiates `code_id` at the next classic address (`salt` absent) or at the predictable
    /// address of (checksum, sender, salt, and the message if the flag says so), as
    /// `MsgInstantiateContract2` does; on a meter that shows the gas left, failure or not.
    #[allow(clippy::too_many_arguments)]
    pub fn instantiate_at_metered(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        code_id: u64,
        msg: &[u8],
        label: &str,
        admin: Option<Addr>,
        salt: Option<(&[u8], bool)>,
        meter: &mut u64,
    ) -> Result<(Addr, CallOutcome), ExecError> {
        let limit = *meter;
        let (addr, mut outcome) = self.inner.instantiate(
            state, ctx, sender, code_id, msg, label, admin, salt, meter, 0,
        )?;
        outcome.gas_used = limit - *meter;
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
        self.execute_metered(state, ctx, sender, contract, msg, &mut meter)
    }

    /// [`WasmVm::execute`] on a meter that shows the gas left, failure or not.
    pub fn execute_metered(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        contract: &Addr,
        msg: &[u8],
        meter: &mut u64,
    ) -> Result<CallOutcome, ExecError> {
        let limit = *meter;
        let mut outcome =
            self.inner
                .call(state, ctx, Call::Execute, contract, sender, msg, meter, 0)?;
        outcome.gas_used = limit - *meter;
        Ok(outcome)
    }

    /// Migrates `contract` to `code_id`; only its admin may, and only if the new code's
    /// instantiate permission allows the admin.
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
        self.migrate_metered(state, ctx, sender, contract, code_id, msg, &mut meter)
    }

    /// [`WasmVm::migrate`] on a meter that shows the gas left, failure or not.
    #[allow(clippy::too_many_arguments)]
    pub fn migrate_metered(
        &self,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        contract: &Addr,
        code_id: u64,
        msg: &[u8],
        meter: &mut u64,
    ) -> Result<CallOutcome, ExecError> {
        let limit = *meter;
        let mut outcome = self
            .inner
            .migrate(state, ctx, sender, contract, code_id, msg, meter, 0)?;
        outcome.gas_used = limit - *meter;
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
        let (result, used) = self
            .inner
            .query_smart_at(state, block, contract, msg, gas_limit, 0);
        result.map(|r| (r, used))
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
    /// Takes the store fault a contract call met, if any, as a node fault.
    fn take_fault(&self) -> Result<(), ExecError> {
        match self.fault.borrow_mut().take() {
            Some(e) => Err(ExecError::Store(e)),
            None => Ok(()),
        }
    }

    /// Records a node fault met while serving a contract's query (a store error, a broken module)
    /// so the call that made the query fails as a node fault; the VM sees an opaque error.
    pub(crate) fn record_fault(&self, e: ExecError) -> cosmwasm_vm::BackendError {
        match e {
            ExecError::Store(store) => crate::storage::record_fault(&self.fault, store),
            other => {
                let mut slot = self.fault.borrow_mut();
                if slot.is_none() {
                    *slot = Some(usaged_store::StoreError::Corrupt(other.to_string()));
                }
                cosmwasm_vm::BackendError::unknown("the node failed")
            }
        }
    }

    /// Writes the wasm and module of `checksum` into the cache again from the bytecode in
    /// `state`, replacing whatever (missing, truncated, corrupt) files were there.
    fn rebuild(&self, state: &dyn KvRead, checksum: &Checksum) -> Result<(), ExecError> {
        if self.simulating.get() {
            // A code stored earlier in the same simulated tx has no module: compiling it here
            // would write to the disk on behalf of an unsigned query.
            return Err(ExecError::Unsupported(format!(
                "code {checksum} has no compiled module; it runs once its upload is committed"
            )));
        }
        let wasm = state
            .get(&keys::wasm(checksum.as_slice()))?
            .ok_or_else(|| ExecError::Corrupt(format!("no wasm in state for {checksum}")))?;
        // Either file may be missing: removing what is there is best effort.
        let _ = self.cache.remove_wasm(checksum);
        let stored = self
            .cache
            .store_code(&wasm, false, true)
            .map_err(|e| ExecError::NodeVm(format!("rebuilding the module of {checksum}: {e}")))?;
        if stored != *checksum {
            return Err(ExecError::Corrupt(format!(
                "the wasm in state for {checksum} hashes to {stored}"
            )));
        }
        tracing::warn!(%checksum, "rebuilt a contract module from the wasm kept in state");
        Ok(())
    }

    /// An instance of `checksum`; a cache failure (missing or corrupt wasm or module files) is
    /// repaired once from the state's bytecode, and a second failure is a node fault.
    fn instance(
        self: &Rc<Self>,
        state: &Branch,
        block: &BlockInfo,
        canonical: &[u8],
        checksum: &Checksum,
        depth: u32,
        gas_limit: u64,
    ) -> Result<cosmwasm_vm::Instance<ChainApi, ContractStorage, ChainQuerier>, ExecError> {
        let options = InstanceOptions { gas_limit };
        match self.cache.get_instance(
            checksum,
            self.backend(state, block, canonical, depth),
            options,
        ) {
            Ok(i) => Ok(i),
            Err(first) => {
                tracing::warn!(%checksum, error = %first, "contract module unusable; rebuilding it");
                self.rebuild(&*state.borrow(), checksum)?;
                self.cache
                    .get_instance(
                        checksum,
                        self.backend(state, block, canonical, depth),
                        options,
                    )
                    .map_err(|e| ExecError::NodeVm(format!("loading {checksum}: {e}")))
            }
        }
    }

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

    /// `WasmQuery::CodeInfo`'s answer for `code_id`.
    pub(crate) fn code_info_response(
        &self,
        state: &Branch,
        code_id: u64,
    ) -> Result<cosmwasm_std::CodeInfoResponse, ExecError> {
        let info = self.code_info(state, code_id)?;
        let checksum = Checksum::try_from(info.checksum.as_slice())
            .map_err(|e| ExecError::Corrupt(e.to_string()))?;
        Ok(cosmwasm_std::CodeInfoResponse::new(
            code_id,
            info.creator,
            checksum,
        ))
    }

    fn code_info(&self, state: &Branch, code_id: u64) -> Result<CodeInfo, ExecError> {
        read_json(&*state.borrow(), &keys::code(code_id))?.ok_or(ExecError::UnknownCode { code_id })
    }

    fn checksum_of(&self, state: &Branch, code_id: u64) -> Result<Checksum, ExecError> {
        let info = self.code_info(state, code_id)?;
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
            storage: ContractStorage::new(
                Rc::clone(state),
                keys::contract_store(canonical),
                Rc::clone(&self.fault),
            ),
            querier: ChainQuerier {
                vm: Rc::clone(self),
                branch: Rc::clone(state),
                block: block.clone(),
                depth,
            },
        }
    }

    /// A smart query of `address` with `gas_limit` CosmWasm gas: its answer (or why it failed)
    /// and, in both cases, the CosmWasm gas it used — loading the instance included, as wasmd
    /// charges it — so a caller pays for a failed query as for one that succeeded.
    pub(crate) fn query_smart_at(
        self: &Rc<Self>,
        state: &Branch,
        block: &BlockInfo,
        address: &str,
        msg: &[u8],
        gas_limit: u64,
        depth: u32,
    ) -> (Result<ContractResult<Binary>, ExecError>, u64) {
        let instance_cost = gas::to_vm(gas::wasm::INSTANCE_COST);
        let Some(left) = gas_limit.checked_sub(instance_cost) else {
            return (Err(ExecError::OutOfGas), gas_limit);
        };
        let prepared = (|| {
            let info = self.contract_info_at(state, address)?;
            let canonical = self.canonical(address)?;
            let checksum = self.checksum_of(state, info.code_id)?;
            self.instance(state, block, &canonical, &checksum, depth, left)
        })();
        let mut instance = match prepared {
            Ok(i) => i,
            Err(e) => return (Err(e), instance_cost),
        };
        let env = Env {
            block: block.clone(),
            transaction: None,
            contract: EnvContract {
                address: Addr::unchecked(address),
            },
        };
        instance.set_storage_readonly(true);
        let result = call_query(&mut instance, &env, msg);
        let report = instance.create_gas_report();
        drop(instance);
        let used = instance_cost
            .saturating_add(report.used_internally)
            .saturating_add(report.used_externally)
            .min(gas_limit);
        if let Err(fault) = self.take_fault() {
            return (Err(fault), used);
        }
        (result.map_err(vm_err), used)
    }

    /// Instantiates `code_id` at the next classic address, or at the predictable address of
    /// `salt` (`Instantiate2`: with `fix_msg`, the message is part of the derivation).
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
        salt: Option<(&[u8], bool)>,
        meter: &mut u64,
        depth: u32,
    ) -> Result<(Addr, CallOutcome), ExecError> {
        let code = self.code_info(state, code_id)?;
        if !code.instantiate_permission.allows(sender.as_str()) {
            return Err(ExecError::Unauthorized {
                reason: format!("{sender} may not instantiate code {code_id}"),
            });
        }
        let canonical = match salt {
            None => {
                let instance_id = next_sequence(&mut state.borrow_mut(), "instance_id")?;
                keys::classic_contract_address(code_id, instance_id)
            }
            Some((salt, fix_msg)) => {
                let creator = usaged_auth::validate_address(sender.as_str())
                    .map_err(|e| ExecError::Corrupt(format!("sender {sender}: {e}")))?;
                let address = keys::predictable_contract_address(
                    code.checksum.as_slice(),
                    &creator,
                    salt,
                    fix_msg.then_some(msg),
                );
                if state.borrow().get(&keys::contract(&address))?.is_some() {
                    return Err(ExecError::Duplicate {
                        what: "a contract at the address of this code, creator and salt".into(),
                    });
                }
                address
            }
        };
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
        let code = self.code_info(state, code_id)?;
        if !code.instantiate_permission.allows(sender.as_str()) {
            return Err(ExecError::Unauthorized {
                reason: format!("{sender} may not migrate to code {code_id}"),
            });
        }
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
        let mut instance = self.instance(state, &ctx.block, &canonical, &checksum, 0, *meter)?;
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
        self.take_fault()?;
        let response: Response = match result.map_err(vm_err)? {
            ContractResult::Ok(r) => r,
            ContractResult::Err(e) => return Err(ExecError::ContractFailed(e)),
        };

        // Events cost gas by size, as wasmd's gas register charges them.
        let (attrs, bytes) = events::attribute_load(&response.attributes, &response.events);
        let event_cost = gas::to_vm(
            attrs * gas::wasm::PER_ATTRIBUTE + bytes * gas::wasm::EVENT_ATTRIBUTE_DATA_PER_BYTE,
        );
        *meter = match meter.checked_sub(event_cost) {
            Some(left) => left,
            None => {
                *meter = 0;
                return Err(ExecError::OutOfGas);
            }
        };

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
            // `SubMsg::gas_limit` is SDK gas, as in wasmd.
            let sub_limit = sub.gas_limit.map_or(*meter, |l| gas::to_vm(l).min(*meter));
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
                            gas_used: gas::to_sdk(sub_limit - sub_meter),
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
                                msg_responses: vec![msg_response(
                                    &sub.msg,
                                    outcome.instantiated.as_ref(),
                                    outcome.data.as_ref(),
                                )],
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
                    // The failed branch is dropped; the caller decides in `reply`, told only the
                    // codes (as wasmd redacts it): the text may hold node-local details.
                    let (codespace, code) = e.abci_code();
                    let reply = Reply {
                        id: sub.id,
                        payload: sub.payload.clone(),
                        gas_used: gas::to_sdk(sub_limit - sub_meter),
                        result: SubMsgResult::Err(format!("codespace: {codespace}, code: {code}")),
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
            instantiated: None,
        })
    }

    /// A sub-message's instantiation (classic, or `Instantiate2` with `salt`), its outcome
    /// carrying the new contract's address for the `MsgResponse`.
    #[allow(clippy::too_many_arguments)]
    fn instantiate_sub(
        self: &Rc<Self>,
        state: &Branch,
        ctx: &BlockCtx,
        sender: &Addr,
        admin: &Option<String>,
        code_id: u64,
        msg: &Binary,
        label: &str,
        salt: Option<&[u8]>,
        meter: &mut u64,
        depth: u32,
    ) -> Result<CallOutcome, ExecError> {
        let admin = admin.as_ref().map(Addr::unchecked);
        let salt = salt.map(|s| (s, false));
        let (addr, mut outcome) = self.instantiate(
            state,
            ctx,
            sender,
            code_id,
            msg.as_slice(),
            label,
            admin,
            salt,
            meter,
            depth,
        )?;
        outcome.instantiated = Some(addr);
        Ok(outcome)
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
            }) if funds.is_empty() => self.instantiate_sub(
                state, ctx, sender, admin, *code_id, msg, label, None, meter, depth,
            ),
            CosmosMsg::Wasm(WasmMsg::Instantiate2 {
                admin,
                code_id,
                label,
                msg,
                funds,
                salt,
            }) if funds.is_empty() => self.instantiate_sub(
                state,
                ctx,
                sender,
                admin,
                *code_id,
                msg,
                label,
                Some(salt.as_slice()),
                meter,
                depth,
            ),
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
