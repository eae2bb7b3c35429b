//! The state machine: one owner of the store and the VM, driven by ABCI requests in order.
//!
//! Blocks: `FinalizeBlock` runs every transaction on the block's branch of the state and computes
//! the app hash of the result without writing; `Commit` writes that block atomically. Each
//! transaction runs in phases — decode, authenticate (ante), bump the sequence (kept even if the
//! messages fail, as in the SDK), then the messages on a fork applied only if all succeed.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;

use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData;
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmos_sdk_proto::Any;
use cosmwasm_std::{Addr, Binary, BlockInfo, Timestamp};
use prost::Message;
use serde::{Deserialize, Serialize};
use tendermint_proto::v0_38::abci::{Event, EventAttribute, ExecTxResult};
use usaged_auth::{Account, AuthError, DecodedTx, Msg};
use usaged_store::{ChangeSet, KvRead, Overlay, Store};
use usaged_vm::events::ChainEvent;
use usaged_vm::storage::Branch;
use usaged_vm::{gas, BlockCtx, ExecError, WasmVm};

use crate::genesis::{resolve_labels, AppGenesis, Params};

/// Prefix of accounts: `0x10 ‖ canonical address`.
const ACCOUNT_PREFIX: u8 = 0x10;
/// The chain's own settings: `0x20 ‖ name`.
const APP_PREFIX: u8 = 0x20;

/// Tree versions kept behind the committed height (older ones are pruned after each commit;
/// state and the app hash are unaffected, only proofs at those heights go).
pub const KEEP_RECENT_VERSIONS: u64 = 100;

/// SDK ante costs, in SDK gas: per byte of the transaction and per secp256k1 verification.
pub const TX_SIZE_COST_PER_BYTE: u64 = 10;
pub const SIG_VERIFY_COST: u64 = 1_000;

/// Type URLs of the message responses in `TxMsgData`.
const EXECUTE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgExecuteContractResponse";
const INSTANTIATE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgInstantiateContractResponse";
const MIGRATE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgMigrateContractResponse";
const STORE_CODE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgStoreCodeResponse";

/// Why the node (not a transaction) failed: the chain must stop.
#[derive(thiserror::Error, Debug)]
pub enum NodeError {
    #[error("store: {0}")]
    Store(#[from] usaged_store::StoreError),
    #[error("vm: {0}")]
    Vm(String),
    #[error("genesis: {0}")]
    Genesis(String),
    #[error("state: {0}")]
    State(String),
    #[error("protocol: {0}")]
    Protocol(String),
}

#[derive(Serialize, Deserialize)]
struct StoredAccount {
    account_number: u64,
    sequence: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub_key: Option<String>,
}

fn app_key(name: &str) -> Vec<u8> {
    let mut k = vec![APP_PREFIX];
    k.extend_from_slice(name.as_bytes());
    k
}

fn account_key(address: &str) -> Result<Vec<u8>, AuthError> {
    let canonical = usaged_auth::validate_address(address)?;
    let mut k = vec![ACCOUNT_PREFIX];
    k.extend_from_slice(&canonical);
    Ok(k)
}

/// The account of `address` in `state`; an address never seen is a fresh account (number 0).
pub fn load_account(state: &dyn KvRead, address: &str) -> Result<Account, NodeError> {
    let key = account_key(address).map_err(|e| NodeError::State(e.to_string()))?;
    match state.get(&key)? {
        None => Ok(Account::new(address, 0)),
        Some(raw) => {
            let s: StoredAccount =
                serde_json::from_slice(&raw).map_err(|e| NodeError::State(e.to_string()))?;
            let pub_key = match s.pub_key {
                Some(h) => Some(hex::decode(h).map_err(|e| NodeError::State(e.to_string()))?),
                None => None,
            };
            Ok(Account {
                address: address.to_string(),
                account_number: s.account_number,
                sequence: s.sequence,
                pub_key,
            })
        }
    }
}

fn save_account(state: &mut Overlay, account: &Account) -> Result<(), NodeError> {
    let key = account_key(&account.address).map_err(|e| NodeError::State(e.to_string()))?;
    let s = StoredAccount {
        account_number: account.account_number,
        sequence: account.sequence,
        pub_key: account.pub_key.as_ref().map(hex::encode),
    };
    let raw = serde_json::to_vec(&s).map_err(|e| NodeError::State(e.to_string()))?;
    state.set(key, raw);
    Ok(())
}

/// The outcome of one transaction, as CometBFT records it.
#[derive(Debug, Clone, PartialEq)]
pub struct TxOutcome {
    pub code: u32,
    pub codespace: String,
    pub log: String,
    pub data: Vec<u8>,
    pub gas_wanted: u64,
    pub gas_used: u64,
    pub events: Vec<ChainEvent>,
}

impl TxOutcome {
    fn failed(codespace: &str, code: u32, log: String, gas_wanted: u64, gas_used: u64) -> Self {
        TxOutcome {
            code,
            codespace: codespace.to_string(),
            log,
            data: vec![],
            gas_wanted,
            gas_used,
            events: vec![],
        }
    }

    fn from_auth(e: &AuthError, gas_wanted: u64, gas_used: u64) -> Self {
        let (space, code) = e.abci_code();
        TxOutcome::failed(space, code, e.log(), gas_wanted, gas_used)
    }

    /// As CometBFT's protobuf, every attribute indexed.
    pub fn to_exec_result(&self) -> ExecTxResult {
        ExecTxResult {
            code: self.code,
            data: self.data.clone().into(),
            log: self.log.clone(),
            info: String::new(),
            gas_wanted: i64::try_from(self.gas_wanted).unwrap_or(i64::MAX),
            gas_used: i64::try_from(self.gas_used).unwrap_or(i64::MAX),
            events: to_abci_events(&self.events),
            codespace: self.codespace.clone(),
        }
    }
}

/// Chain events as ABCI events, every attribute indexed for CometBFT's kv indexer.
pub fn to_abci_events(events: &[ChainEvent]) -> Vec<Event> {
    events
        .iter()
        .map(|e| Event {
            r#type: e.ty.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|(k, v)| EventAttribute {
                    key: k.clone(),
                    value: v.clone(),
                    index: true,
                })
                .collect(),
        })
        .collect()
}

struct PendingBlock {
    height: u64,
    branch: Branch,
    app_hash: Option<[u8; 32]>,
}

/// The application's state machine.
pub struct Machine {
    store: Store,
    vm: WasmVm,
    chain_id: String,
    params: Params,
    /// Genesis writes (after InitChain) or the current block's (after FinalizeBlock).
    pending: Option<PendingBlock>,
    /// Next expected sequence of accounts with transactions in the mempool (CheckTx).
    check_sequences: BTreeMap<String, u64>,
}

fn branch_over(store: &Store) -> Branch {
    Rc::new(RefCell::new(Overlay::new(Arc::new(store.snapshot()))))
}

fn take_branch(branch: Branch) -> Result<Overlay, NodeError> {
    Rc::try_unwrap(branch)
        .map(RefCell::into_inner)
        .map_err(|_| NodeError::State("a branch is still shared".into()))
}

impl Machine {
    /// Opens the state under `home` (`home/state`, `home/wasm-cache`).
    pub fn open(home: &Path) -> Result<Self, NodeError> {
        let store = Store::open(&home.join("state"))?;
        let vm = WasmVm::new(&home.join("wasm-cache")).map_err(|e| NodeError::Vm(e.to_string()))?;
        let snapshot = store.snapshot();
        let chain_id = snapshot
            .get(&app_key("chain_id"))?
            .map(|raw| String::from_utf8_lossy(&raw).into_owned())
            .unwrap_or_default();
        let params = match snapshot.get(&app_key("params"))? {
            Some(raw) => {
                serde_json::from_slice(&raw).map_err(|e| NodeError::State(e.to_string()))?
            }
            None => Params::default(),
        };
        Ok(Machine {
            store,
            vm,
            chain_id,
            params,
            pending: None,
            check_sequences: BTreeMap::new(),
        })
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Last committed height and app hash.
    pub fn committed(&self) -> (u64, [u8; 32]) {
        let c = self.store.committed();
        (c.height, c.app_hash)
    }

    pub fn vm(&self) -> &WasmVm {
        &self.vm
    }

    /// A committed value with its Merkle proof against the committed app hash: the proof is a
    /// borsh-encoded `jmt::proof::SparseMerkleProof<Sha256>` over `usaged_store::key_hash(key)`.
    pub fn get_with_proof(&self, key: &[u8]) -> Result<(Option<Vec<u8>>, Vec<u8>), NodeError> {
        let (value, proof) = self.store.get_with_proof(key)?;
        let encoded = borsh::to_vec(&proof).map_err(|e| NodeError::State(e.to_string()))?;
        Ok((value, encoded))
    }

    /// A read-only branch over the committed state (for queries).
    pub fn query_branch(&self) -> Branch {
        branch_over(&self.store)
    }

    /// Applies the genesis; returns the app hash of the initial state (`initial_height`'s base).
    pub fn init_chain(
        &mut self,
        chain_id: &str,
        initial_height: u64,
        time: Timestamp,
        app_state: &[u8],
    ) -> Result<[u8; 32], NodeError> {
        if self.store.committed().height != 0 {
            return Err(NodeError::Genesis("the state already has blocks".into()));
        }
        let genesis: AppGenesis = if app_state.is_empty() {
            AppGenesis::default()
        } else {
            serde_json::from_slice(app_state).map_err(|e| NodeError::Genesis(e.to_string()))?
        };
        self.chain_id = chain_id.to_string();
        self.params = genesis.params.clone();
        let branch = branch_over(&self.store);
        {
            let mut s = branch.borrow_mut();
            s.set(app_key("chain_id"), chain_id.as_bytes().to_vec());
            let params = serde_json::to_vec(&genesis.params)
                .map_err(|e| NodeError::Genesis(e.to_string()))?;
            s.set(app_key("params"), params);
        }
        for a in &genesis.accounts {
            let mut account = Account::new(a.address.clone(), 0);
            if let Some(k) = &a.pub_key {
                let key = hex::decode(k)
                    .map_err(|e| NodeError::Genesis(format!("{}: {e}", a.address)))?;
                let derived = usaged_auth::address_from_pubkey(&key)
                    .map_err(|e| NodeError::Genesis(format!("{}: {e}", a.address)))?;
                if derived != a.address {
                    return Err(NodeError::Genesis(format!(
                        "{}: the key belongs to {derived}",
                        a.address
                    )));
                }
                account.pub_key = Some(key);
            }
            usaged_auth::validate_address(&a.address)
                .map_err(|e| NodeError::Genesis(format!("{}: {e}", a.address)))?;
            save_account(&mut branch.borrow_mut(), &account)?;
        }
        let ctx = BlockCtx {
            block: BlockInfo {
                height: initial_height.max(1),
                time,
                chain_id: chain_id.to_string(),
            },
            tx_index: 0,
            tx_hash: Binary::default(),
        };
        let mut code_ids = BTreeMap::new();
        for code in &genesis.codes {
            let wasm = base64_decode(&code.wasm)
                .map_err(|e| NodeError::Genesis(format!("code {}: {e}", code.name)))?;
            let creator = Addr::unchecked("genesis");
            let (id, _) = self
                .vm
                .store_code(&mut branch.borrow_mut(), &creator, &wasm)
                .map_err(|e| NodeError::Genesis(format!("code {}: {e}", code.name)))?;
            code_ids.insert(code.name.clone(), id);
        }
        // Instance ids follow genesis order, so every contract's address is known up front and
        // a message may name a contract instantiated after it ("@label").
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for (i, c) in genesis.contracts.iter().enumerate() {
            let code_id = *code_ids
                .get(&c.code)
                .ok_or_else(|| NodeError::Genesis(format!("no code named {}", c.code)))?;
            let canonical = usaged_vm::keys::classic_contract_address(code_id, i as u64 + 1);
            let address =
                usaged_auth::humanize(&canonical).map_err(|e| NodeError::Genesis(e.to_string()))?;
            if labels.insert(c.label.clone(), address).is_some() {
                return Err(NodeError::Genesis(format!("label {} used twice", c.label)));
            }
        }
        for c in &genesis.contracts {
            let code_id = *code_ids
                .get(&c.code)
                .ok_or_else(|| NodeError::Genesis(format!("no code named {}", c.code)))?;
            let mut msg = c.msg.clone();
            resolve_labels(&mut msg, &|l| labels.get(l).cloned()).map_err(NodeError::Genesis)?;
            let raw = serde_json::to_vec(&msg).map_err(|e| NodeError::Genesis(e.to_string()))?;
            let (addr, _) = self
                .vm
                .instantiate(
                    &branch,
                    &ctx,
                    &Addr::unchecked(&c.creator),
                    code_id,
                    &raw,
                    &c.label,
                    c.admin.as_ref().map(Addr::unchecked),
                    gas::to_vm(self.params.max_block_gas),
                )
                .map_err(|e| NodeError::Genesis(format!("instantiate {}: {e}", c.label)))?;
            if labels.get(&c.label) != Some(&addr.to_string()) {
                return Err(NodeError::Genesis(format!(
                    "{} was instantiated at {addr}, not at its precomputed address",
                    c.label
                )));
            }
            tracing::info!(label = %c.label, address = %addr, code_id, "genesis contract");
        }
        let changes = branch.borrow().changes().clone();
        let app_hash = self.store.preview_root(initial_height.max(1), &changes)?;
        self.pending = Some(PendingBlock {
            height: initial_height.max(1),
            branch,
            app_hash: None,
        });
        Ok(app_hash)
    }

    /// Checks a transaction for the mempool: decode, authenticate against the committed account
    /// advanced by the account's transactions already in the mempool.
    pub fn check_tx(&mut self, raw: &[u8], recheck: bool) -> TxOutcome {
        let _ = recheck;
        let tx = match usaged_auth::decode_tx(raw) {
            Ok(tx) => tx,
            Err(e) => return TxOutcome::from_auth(&e, 0, 0),
        };
        let gas_wanted = tx.fee.gas_limit;
        if gas_wanted > self.params.max_tx_gas {
            return TxOutcome::failed(
                "sdk",
                usaged_auth::sdk::ERR_INVALID_GAS_LIMIT,
                format!(
                    "gas limit {gas_wanted} above the chain's maximum {}",
                    self.params.max_tx_gas
                ),
                gas_wanted,
                0,
            );
        }
        let snapshot = self.store.snapshot();
        let mut account = match load_account(&snapshot, &tx.signer) {
            Ok(a) => a,
            Err(e) => return TxOutcome::failed("sdk", 1, e.to_string(), gas_wanted, 0),
        };
        if let Some(seq) = self.check_sequences.get(&tx.signer) {
            account.sequence = *seq;
        }
        let height = self.store.committed().height + 1;
        match usaged_auth::authenticate(&tx, &account, &self.chain_id, height) {
            Ok(_) => {
                self.check_sequences
                    .insert(tx.signer.clone(), account.sequence.saturating_add(1));
                TxOutcome {
                    code: 0,
                    codespace: String::new(),
                    log: String::new(),
                    data: vec![],
                    gas_wanted,
                    gas_used: ante_gas(raw.len()),
                    events: vec![],
                }
            }
            Err(e) => TxOutcome::from_auth(&e, gas_wanted, ante_gas(raw.len())),
        }
    }

    /// Which of the proposed transactions fit the block's byte and gas limits, in order.
    pub fn prepare_proposal(&self, txs: &[Vec<u8>], max_tx_bytes: u64) -> Vec<Vec<u8>> {
        let mut bytes = 0u64;
        let mut gas_total = 0u64;
        let mut out = vec![];
        for tx in txs {
            let len = tx.len() as u64;
            let gas_wanted = usaged_auth::decode_tx(tx)
                .map(|t| t.fee.gas_limit)
                .unwrap_or(0);
            if bytes + len > max_tx_bytes
                || gas_total.saturating_add(gas_wanted) > self.params.max_block_gas
            {
                continue;
            }
            bytes += len;
            gas_total = gas_total.saturating_add(gas_wanted);
            out.push(tx.clone());
        }
        out
    }

    /// Accepts a proposal unless its gas limits add up past the block's maximum.
    pub fn process_proposal(&self, txs: &[Vec<u8>]) -> bool {
        let total = txs
            .iter()
            .map(|t| {
                usaged_auth::decode_tx(t)
                    .map(|t| t.fee.gas_limit)
                    .unwrap_or(0)
            })
            .fold(0u64, u64::saturating_add);
        total <= self.params.max_block_gas
    }

    /// Runs a block's transactions; returns their outcomes and the app hash after them.
    pub fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<(Vec<TxOutcome>, [u8; 32]), NodeError> {
        let committed = self.store.committed().height;
        if height != committed + 1 {
            return Err(NodeError::Protocol(format!(
                "FinalizeBlock for height {height}, the committed height is {committed}"
            )));
        }
        let branch = match self.pending.take() {
            Some(p) if p.height == height && p.app_hash.is_none() => p.branch,
            _ => branch_over(&self.store),
        };
        let block = BlockInfo {
            height,
            time,
            chain_id: self.chain_id.clone(),
        };
        let mut outcomes = Vec::with_capacity(txs.len());
        for (index, raw) in txs.iter().enumerate() {
            let outcome = self.deliver_tx(&branch, &block, index as u32, raw)?;
            outcomes.push(outcome);
        }
        branch
            .borrow_mut()
            .set(app_key("block_time"), time.nanos().to_be_bytes().to_vec());
        let changes = branch.borrow().changes().clone();
        let app_hash = self.store.preview_root(height, &changes)?;
        self.pending = Some(PendingBlock {
            height,
            branch,
            app_hash: Some(app_hash),
        });
        Ok((outcomes, app_hash))
    }

    /// Writes the finalized block atomically; resets the mempool's view of sequences.
    pub fn commit(&mut self) -> Result<u64, NodeError> {
        let pending = self
            .pending
            .take()
            .ok_or_else(|| NodeError::Protocol("Commit without FinalizeBlock".into()))?;
        let expected = pending
            .app_hash
            .ok_or_else(|| NodeError::Protocol("Commit before FinalizeBlock".into()))?;
        let changes: ChangeSet = take_branch(pending.branch)?.into_changes();
        let app_hash = self.store.commit(pending.height, &changes)?;
        if app_hash != expected {
            return Err(NodeError::State(format!(
                "committed app hash {} differs from the finalized {}",
                hex::encode(app_hash),
                hex::encode(expected)
            )));
        }
        if pending.height > KEEP_RECENT_VERSIONS {
            self.store.prune(pending.height - KEEP_RECENT_VERSIONS)?;
        }
        self.check_sequences.clear();
        Ok(pending.height)
    }

    fn deliver_tx(
        &self,
        branch: &Branch,
        block: &BlockInfo,
        index: u32,
        raw: &[u8],
    ) -> Result<TxOutcome, NodeError> {
        let tx = match usaged_auth::decode_tx(raw) {
            Ok(tx) => tx,
            Err(e) => return Ok(TxOutcome::from_auth(&e, 0, 0)),
        };
        let gas_wanted = tx.fee.gas_limit;
        let ante = ante_gas(raw.len());
        if gas_wanted > self.params.max_tx_gas {
            return Ok(TxOutcome::failed(
                "sdk",
                usaged_auth::sdk::ERR_INVALID_GAS_LIMIT,
                format!(
                    "gas limit {gas_wanted} above the chain's maximum {}",
                    self.params.max_tx_gas
                ),
                gas_wanted,
                0,
            ));
        }
        if gas_wanted < ante {
            return Ok(TxOutcome::failed(
                "sdk",
                usaged_auth::sdk::ERR_OUT_OF_GAS,
                format!("out of gas in location: txSize; gasWanted: {gas_wanted}, gasUsed: {ante}: out of gas"),
                gas_wanted,
                gas_wanted,
            ));
        }
        let mut account = load_account(&*branch.borrow(), &tx.signer)?;
        let auth = match usaged_auth::authenticate(&tx, &account, &self.chain_id, block.height) {
            Ok(a) => a,
            Err(e) => return Ok(TxOutcome::from_auth(&e, gas_wanted, ante)),
        };
        if auth.pub_key_is_new {
            account.pub_key = Some(auth.pub_key.clone());
        }
        if let Err(e) = account.increment_sequence() {
            return Ok(TxOutcome::from_auth(&e, gas_wanted, ante));
        }
        // The sequence bump sticks whatever the messages do.
        save_account(&mut branch.borrow_mut(), &account)?;

        let tx_hash = usaged_auth::tx_hash(raw);
        let ctx = BlockCtx {
            block: block.clone(),
            tx_index: index,
            tx_hash: Binary::from(tx_hash.to_vec()),
        };
        let fork: Branch = Rc::new(RefCell::new(branch.borrow().fork()));
        let mut events = vec![ChainEvent::new("tx")
            .attr(
                "acc_seq",
                format!("{}/{}", tx.signer, tx.signer_info.sequence),
            )
            .attr("fee", "")
            .attr("fee_payer", tx.signer.clone())];
        let outcome = match self.run_msgs(&fork, &ctx, &tx.msgs, gas::to_vm(gas_wanted - ante))? {
            Ok(ran) => ran,
            Err((failure, vm_used)) => {
                let used = (ante + gas::to_sdk(vm_used)).min(gas_wanted);
                return Ok(TxOutcome {
                    gas_wanted,
                    gas_used: used,
                    ..failure
                });
            }
        };
        let changes = take_branch(fork)?.into_changes();
        branch.borrow_mut().apply(changes);
        events.extend(outcome.events);
        Ok(TxOutcome {
            gas_wanted,
            gas_used: ante + outcome.gas_used,
            events,
            ..outcome
        })
    }

    /// Runs a transaction's messages in order on `branch` with `vm_budget` CosmWasm gas: on
    /// success an outcome with the `TxMsgData`, the events (each message's `message` event first,
    /// every event with `msg_index`) and the SDK gas used; on a message's failure the failed
    /// outcome and the CosmWasm gas used so far. Node faults are errors.
    #[allow(clippy::type_complexity)]
    fn run_msgs(
        &self,
        branch: &Branch,
        ctx: &BlockCtx,
        msgs: &[Msg],
        vm_budget: u64,
    ) -> Result<Result<TxOutcome, (TxOutcome, u64)>, NodeError> {
        let mut left = vm_budget;
        let mut events = vec![];
        let mut responses = Vec::with_capacity(msgs.len());
        for (i, msg) in msgs.iter().enumerate() {
            match self.run_msg(branch, ctx, msg, left) {
                Ok((response, mut msg_events, used)) => {
                    left = left.saturating_sub(used);
                    msg_events.insert(0, message_event(msg));
                    for e in &mut msg_events {
                        e.attributes.push(("msg_index".into(), i.to_string()));
                    }
                    events.extend(msg_events);
                    responses.push(response);
                }
                Err(e) if e.is_node_fault() => return Err(NodeError::Vm(e.to_string())),
                Err(e) => {
                    let (space, code) = e.abci_code();
                    let log = format!("failed to execute message; message index: {i}: {e}");
                    return Ok(Err((
                        TxOutcome::failed(space, code, log, 0, 0),
                        vm_budget - left,
                    )));
                }
            }
        }
        #[allow(deprecated)]
        let data = TxMsgData {
            data: vec![],
            msg_responses: responses,
        }
        .encode_to_vec();
        Ok(Ok(TxOutcome {
            code: 0,
            codespace: String::new(),
            log: String::new(),
            data,
            gas_wanted: 0,
            gas_used: gas::to_sdk(vm_budget - left),
            events,
        }))
    }

    /// Runs one message; returns its `MsgResponse`, its events and the CosmWasm gas it used.
    fn run_msg(
        &self,
        branch: &Branch,
        ctx: &BlockCtx,
        msg: &Msg,
        gas_limit: u64,
    ) -> Result<(Any, Vec<ChainEvent>, u64), ExecError> {
        match msg {
            Msg::ExecuteContract {
                sender,
                contract,
                msg,
                funds,
            } => {
                if !funds.is_empty() {
                    return Err(ExecError::Unsupported(
                        "funds: the chain has no native token".into(),
                    ));
                }
                let out = self.vm.execute(
                    branch,
                    ctx,
                    &Addr::unchecked(sender),
                    &Addr::unchecked(contract),
                    msg,
                    gas_limit,
                )?;
                let response = wasmv1::MsgExecuteContractResponse {
                    data: out.data.map(|d| d.to_vec()).unwrap_or_default(),
                };
                Ok((
                    any(EXECUTE_RESPONSE, response.encode_to_vec()),
                    out.events,
                    out.gas_used,
                ))
            }
            Msg::InstantiateContract {
                sender,
                admin,
                code_id,
                label,
                msg,
                funds,
            } => {
                if !funds.is_empty() {
                    return Err(ExecError::Unsupported(
                        "funds: the chain has no native token".into(),
                    ));
                }
                let (addr, out) = self.vm.instantiate(
                    branch,
                    ctx,
                    &Addr::unchecked(sender),
                    *code_id,
                    msg,
                    label,
                    admin.as_ref().map(Addr::unchecked),
                    gas_limit,
                )?;
                let response = wasmv1::MsgInstantiateContractResponse {
                    address: addr.to_string(),
                    data: out.data.map(|d| d.to_vec()).unwrap_or_default(),
                };
                Ok((
                    any(INSTANTIATE_RESPONSE, response.encode_to_vec()),
                    out.events,
                    out.gas_used,
                ))
            }
            Msg::MigrateContract {
                sender,
                contract,
                code_id,
                msg,
            } => {
                let out = self.vm.migrate(
                    branch,
                    ctx,
                    &Addr::unchecked(sender),
                    &Addr::unchecked(contract),
                    *code_id,
                    msg,
                    gas_limit,
                )?;
                let response = wasmv1::MsgMigrateContractResponse {
                    data: out.data.map(|d| d.to_vec()).unwrap_or_default(),
                };
                Ok((
                    any(MIGRATE_RESPONSE, response.encode_to_vec()),
                    out.events,
                    out.gas_used,
                ))
            }
            Msg::StoreCode {
                sender,
                wasm_byte_code,
                ..
            } => {
                let (code_id, checksum) = self.vm.store_code(
                    &mut branch.borrow_mut(),
                    &Addr::unchecked(sender),
                    wasm_byte_code,
                )?;
                let response = wasmv1::MsgStoreCodeResponse {
                    code_id,
                    checksum: checksum.as_slice().to_vec(),
                };
                let event = ChainEvent::new("store_code")
                    .attr("code_checksum", hex::encode(checksum.as_slice()))
                    .attr("code_id", code_id.to_string());
                Ok((
                    any(STORE_CODE_RESPONSE, response.encode_to_vec()),
                    vec![event],
                    0,
                ))
            }
            other => Err(ExecError::Unsupported(other.type_url().to_string())),
        }
    }

    /// Runs a transaction on a throw-away branch without checking its signature (Simulate).
    pub fn simulate(&self, tx: &DecodedTx, raw_len: usize) -> Result<TxOutcome, NodeError> {
        let branch = branch_over(&self.store);
        let height = self.store.committed().height + 1;
        let account = load_account(&*branch.borrow(), &tx.signer)?;
        if let Err(e) = usaged_auth::authenticate_for_simulation(tx, &account, height) {
            return Ok(TxOutcome::from_auth(&e, tx.fee.gas_limit, 0));
        }
        let ctx = BlockCtx {
            block: BlockInfo {
                height,
                time: self.last_block_time(),
                chain_id: self.chain_id.clone(),
            },
            tx_index: 0,
            tx_hash: Binary::default(),
        };
        let ante = ante_gas(raw_len);
        let gas_wanted = tx.fee.gas_limit;
        Ok(
            match self.run_msgs(&branch, &ctx, &tx.msgs, gas::to_vm(self.params.max_tx_gas))? {
                Ok(ran) => TxOutcome {
                    gas_wanted,
                    gas_used: ante + ran.gas_used,
                    ..ran
                },
                Err((failure, vm_used)) => TxOutcome {
                    gas_wanted,
                    gas_used: ante + gas::to_sdk(vm_used),
                    ..failure
                },
            },
        )
    }

    /// Time of the last committed block, stored by `record_block_time`; the Unix epoch before any.
    fn last_block_time(&self) -> Timestamp {
        self.store
            .snapshot()
            .get(&app_key("block_time"))
            .ok()
            .flatten()
            .and_then(|raw| <[u8; 8]>::try_from(raw.as_slice()).ok())
            .map(|b| Timestamp::from_nanos(u64::from_be_bytes(b)))
            .unwrap_or_default()
    }
}

fn any(type_url: &str, value: Vec<u8>) -> Any {
    Any {
        type_url: type_url.to_string(),
        value,
    }
}

/// The SDK gas the ante phase charges: transaction size and one signature verification.
pub fn ante_gas(tx_len: usize) -> u64 {
    TX_SIZE_COST_PER_BYTE * tx_len as u64 + SIG_VERIFY_COST
}

fn message_event(msg: &Msg) -> ChainEvent {
    ChainEvent::new("message")
        .attr("action", msg.type_url())
        .attr("sender", msg.sender())
        .attr("module", "wasm")
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    use cosmwasm_std::Binary;
    Binary::from_base64(s)
        .map(|b| b.to_vec())
        .map_err(|e| e.to_string())
}
