//! The state machine: one owner of the store and the VM, driven by ABCI requests in order.
//!
//! Blocks: `FinalizeBlock` runs every transaction on the block's branch of the state and computes
//! the app hash of the result without writing; `Commit` writes that block atomically. Each
//! transaction runs in phases — decode, authenticate (ante), bump the sequence (kept even if the
//! messages fail, as in the SDK), then the messages on a fork applied only if all succeed.
//!
//! This module is the lifecycle alone: genesis, the mempool's checks, proposals, blocks, a
//! transaction's delivery and its messages, and simulation. The records it keeps for itself
//! (accounts, settings) are in [`crate::accounts`]; what a transaction leaves behind and how
//! CometBFT records it, in [`crate::outcome`]; why the node stops, in [`crate::error`].

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
use usaged_auth::{Account, DecodedTx, Msg};
use usaged_store::{ChangeSet, KvRead, Overlay, Store};
use usaged_vm::events::ChainEvent;
use usaged_vm::storage::Branch;
use usaged_vm::{gas, AccessConfig, BlockCtx, ExecError, Upload, WasmVm};

use crate::accounts::{account_exists, app_key, load_account, save_account};
use crate::error::{NodeError, ProtocolError, StateError};
use crate::genesis::{resolve_labels, AppGenesis, GenesisError, Params};
/// The lifecycle's result type, where the ABCI server and the tests have always found it.
pub use crate::outcome::TxOutcome;
use crate::outcome::{ante_events, message_event};

/// Tree versions kept behind the committed height (older ones are pruned after each commit;
/// state and the app hash are unaffected, only proofs at those heights go). The node answers
/// queries and proofs at the committed height only, and a snapshot taken earlier keeps its own
/// view whatever is pruned, so two suffice, as with the SDK's `pruning = "everything"`. More only
/// keep replaced tree nodes on disk (each block of 5,000 records replaces tens of thousands).
pub const KEEP_RECENT_VERSIONS: u64 = 2;

/// SDK ante costs, in SDK gas: per byte of the transaction and per secp256k1 verification.
pub const TX_SIZE_COST_PER_BYTE: u64 = 10;
pub const SIG_VERIFY_COST: u64 = 1_000;

/// Type URLs of the message responses in `TxMsgData`.
const EXECUTE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgExecuteContractResponse";
const INSTANTIATE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgInstantiateContractResponse";
const INSTANTIATE2_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgInstantiateContract2Response";
const MIGRATE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgMigrateContractResponse";
const STORE_CODE_RESPONSE: &str = "/cosmwasm.wasm.v1.MsgStoreCodeResponse";

/// This node's own mempool policy (not consensus: validators may differ).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeConfig {
    /// Smallest fee per unit of gas CheckTx accepts, in `denom`: a transaction must offer at
    /// least `ceil(gas_limit × amount)` of it. Zero (the localnet's) admits fee-less transactions.
    pub min_gas_price: GasPrice,
    /// Most transactions one sender may have waiting in this node's mempool.
    pub max_pending_per_sender: u64,
}

/// A price per unit of gas: `amount` is a decimal fraction of `denom` (`"0.025uusage"`).
#[derive(Clone, Debug, PartialEq)]
pub struct GasPrice {
    /// Millionths of `denom` per unit of gas.
    pub micro_amount: u128,
    pub denom: String,
}

impl GasPrice {
    /// Parses `<decimal><denom>` (`"0.025ucny"`, `"0ucny"`, `"1ucny"`): up to six decimals.
    pub fn parse(s: &str) -> Result<GasPrice, String> {
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("gas price {s:?}: no denomination"))?;
        let (number, denom) = s.split_at(split);
        if !usaged_auth::is_valid_denom(denom) {
            return Err(format!("gas price {s:?}: invalid denomination {denom:?}"));
        }
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() || frac.len() > 6 || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "gas price {s:?}: a decimal with at most six places"
            ));
        }
        let whole: u128 = whole.parse().map_err(|e| format!("gas price {s:?}: {e}"))?;
        let frac_micro: u128 = format!("{frac:0<6}")
            .parse()
            .map_err(|e| format!("gas price {s:?}: {e}"))?;
        Ok(GasPrice {
            micro_amount: whole.saturating_mul(1_000_000).saturating_add(frac_micro),
            denom: denom.to_string(),
        })
    }

    /// The smallest fee for `gas`, rounded up.
    pub fn fee_for(&self, gas: u64) -> u128 {
        (gas as u128)
            .saturating_mul(self.micro_amount)
            .div_ceil(1_000_000)
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            min_gas_price: GasPrice {
                micro_amount: 0,
                denom: crate::queries::DENOM.to_string(),
            },
            max_pending_per_sender: DEFAULT_MAX_PENDING_PER_SENDER,
        }
    }
}

/// Default of [`NodeConfig::max_pending_per_sender`]: enough for an aggregator's batches in flight.
pub const DEFAULT_MAX_PENDING_PER_SENDER: u64 = 64;

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
    node: NodeConfig,
}

fn branch_over(store: &Store) -> Branch {
    Rc::new(RefCell::new(Overlay::new(Arc::new(store.snapshot()))))
}

fn take_branch(branch: Branch) -> Result<Overlay, NodeError> {
    Rc::try_unwrap(branch)
        .map(RefCell::into_inner)
        .map_err(|_| NodeError::State(StateError::SharedBranch))
}

impl Machine {
    /// Opens the state under `home` (`home/state`, `home/wasm-cache`). The VM's module cache is
    /// checked against the codes in state and rebuilt from their bytecode where files are missing
    /// (a wiped cache, a state copied without it).
    pub fn open(home: &Path) -> Result<Self, NodeError> {
        let store = Store::open(&home.join("state"))?;
        let vm = WasmVm::new(&home.join("wasm-cache")).map_err(NodeError::Vm)?;
        let snapshot = store.snapshot();
        for code_id in vm.code_ids(&snapshot).map_err(NodeError::Vm)? {
            vm.ensure_code(&snapshot, code_id)
                .map_err(|source| NodeError::Code { code_id, source })?;
        }
        let chain_id = snapshot
            .get(&app_key("chain_id"))?
            .map(|raw| String::from_utf8_lossy(&raw).into_owned())
            .unwrap_or_default();
        let params = match snapshot.get(&app_key("params"))? {
            Some(raw) => serde_json::from_slice(&raw).map_err(StateError::Json)?,
            None => Params::default(),
        };
        Ok(Machine {
            store,
            vm,
            chain_id,
            params,
            pending: None,
            check_sequences: BTreeMap::new(),
            node: NodeConfig::default(),
        })
    }

    /// Sets this node's mempool policy.
    pub fn set_node_config(&mut self, node: NodeConfig) {
        self.node = node;
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
        let encoded = borsh::to_vec(&proof).map_err(StateError::ProofEncoding)?;
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
            return Err(GenesisError::AlreadyStarted.into());
        }
        let genesis: AppGenesis = if app_state.is_empty() {
            AppGenesis::default()
        } else {
            serde_json::from_slice(app_state).map_err(GenesisError::Json)?
        };
        if genesis.params.max_tx_gas > genesis.params.max_block_gas {
            return Err(GenesisError::TxGasAboveBlockGas {
                max_tx_gas: genesis.params.max_tx_gas,
                max_block_gas: genesis.params.max_block_gas,
            }
            .into());
        }
        self.chain_id = chain_id.to_string();
        self.params = genesis.params.clone();
        let branch = branch_over(&self.store);
        {
            let mut s = branch.borrow_mut();
            s.set(app_key("chain_id"), chain_id.as_bytes().to_vec());
            let params = serde_json::to_vec(&genesis.params).map_err(GenesisError::Json)?;
            s.set(app_key("params"), params);
        }
        for a in &genesis.accounts {
            let mut account = Account::new(a.address.clone(), 0);
            if let Some(k) = &a.pub_key {
                let key = hex::decode(k).map_err(|source| GenesisError::AccountKey {
                    address: a.address.clone(),
                    source,
                })?;
                let derived = usaged_auth::address_from_pubkey(&key).map_err(|source| {
                    GenesisError::Account {
                        address: a.address.clone(),
                        source,
                    }
                })?;
                if derived != a.address {
                    return Err(GenesisError::KeyOfAnother {
                        address: a.address.clone(),
                        derived,
                    }
                    .into());
                }
                account.pub_key = Some(key);
            }
            usaged_auth::validate_address(&a.address).map_err(|source| GenesisError::Account {
                address: a.address.clone(),
                source,
            })?;
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
            let wasm = Binary::from_base64(&code.wasm)
                .map_err(|e| GenesisError::CodeEncoding {
                    name: code.name.clone(),
                    reason: e.to_string(),
                })?
                .to_vec();
            let creator = Addr::unchecked("genesis");
            let (id, _, _) = self
                .vm
                .store_code(
                    &mut branch.borrow_mut(),
                    &creator,
                    &wasm,
                    self.params.instantiate_default_permission.clone(),
                    Upload::Store,
                    u64::MAX,
                )
                .map_err(|source| GenesisError::Code {
                    name: code.name.clone(),
                    source,
                })?;
            code_ids.insert(code.name.clone(), id);
        }
        // Instance ids follow genesis order, so every contract's address is known up front and
        // a message may name a contract instantiated after it ("@label").
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for (i, c) in genesis.contracts.iter().enumerate() {
            let code_id = *code_ids
                .get(&c.code)
                .ok_or_else(|| GenesisError::UnknownCode(c.code.clone()))?;
            let canonical = usaged_vm::keys::classic_contract_address(code_id, i as u64 + 1);
            let address =
                usaged_auth::humanize(&canonical).map_err(GenesisError::ContractAddress)?;
            if labels.insert(c.label.clone(), address).is_some() {
                return Err(GenesisError::DuplicateLabel(c.label.clone()).into());
            }
        }
        for c in &genesis.contracts {
            let code_id = *code_ids
                .get(&c.code)
                .ok_or_else(|| GenesisError::UnknownCode(c.code.clone()))?;
            let mut msg = c.msg.clone();
            resolve_labels(&mut msg, &|l| labels.get(l).cloned()).map_err(GenesisError::from)?;
            // A contract may be its own admin ("@<its label>"): then only its own timelocked
            // governance can migrate it.
            let admin = match &c.admin {
                Some(a) => {
                    let mut v = serde_json::Value::String(a.clone());
                    resolve_labels(&mut v, &|l| labels.get(l).cloned())
                        .map_err(GenesisError::from)?;
                    v.as_str().map(Addr::unchecked)
                }
                None => None,
            };
            let raw = serde_json::to_vec(&msg).map_err(GenesisError::Json)?;
            let (addr, _) = self
                .vm
                .instantiate(
                    &branch,
                    &ctx,
                    &Addr::unchecked(&c.creator),
                    code_id,
                    &raw,
                    &c.label,
                    admin,
                    gas::to_vm(self.params.max_block_gas),
                )
                .map_err(|source| GenesisError::Instantiate {
                    label: c.label.clone(),
                    source,
                })?;
            if labels.get(&c.label) != Some(&addr.to_string()) {
                return Err(GenesisError::AddressMoved {
                    label: c.label.clone(),
                    address: addr.to_string(),
                }
                .into());
            }
            tracing::info!(label = %c.label, address = %addr, code_id, "genesis contract");
        }
        let changes = branch.borrow().changes();
        self.store.set_initial_height(initial_height.max(1))?;
        let app_hash = self.store.preview_root(initial_height.max(1), &changes)?;
        self.pending = Some(PendingBlock {
            height: initial_height.max(1),
            branch,
            app_hash: None,
        });
        Ok(app_hash)
    }

    /// Checks a transaction for the mempool: decode, refuse what delivery would refuse without
    /// looking at state (gas below the ante charge, messages the chain does not run, uploads by
    /// accounts without permission), this node's fee and per-sender policy, then authenticate
    /// against the committed account advanced by the account's transactions already in the
    /// mempool.
    pub fn check_tx(&mut self, raw: &[u8], recheck: bool) -> TxOutcome {
        let _ = recheck;
        let tx = match usaged_auth::decode_tx(raw) {
            Ok(tx) => tx,
            Err(e) => return TxOutcome::from_auth(&e, 0, 0),
        };
        let gas_wanted = tx.fee.gas_limit;
        if let Err(refusal) = self.check_stateless(&tx, raw.len()) {
            return refusal;
        }
        let snapshot = self.store.snapshot();
        let mut account = match load_account(&snapshot, &tx.signer) {
            Ok(a) => a,
            Err(e) => return TxOutcome::failed("sdk", 1, e.to_string(), gas_wanted, 0),
        };
        let ante = ante_gas(raw.len());
        let new_account = match account_exists(&snapshot, &tx.signer) {
            Ok(exists) => !exists,
            Err(e) => return TxOutcome::failed("sdk", 1, e.to_string(), gas_wanted, 0),
        };
        if new_account && gas_wanted < ante.saturating_add(self.params.account_creation_gas) {
            return TxOutcome::out_of_gas(
                "account creation",
                gas_wanted,
                ante + self.params.account_creation_gas,
            );
        }
        let pending_from = account.sequence;
        if let Some(seq) = self.check_sequences.get(&tx.signer) {
            account.sequence = *seq;
        }
        let pending = account.sequence.saturating_sub(pending_from);
        if pending >= self.node.max_pending_per_sender {
            return TxOutcome::failed(
                "sdk",
                usaged_auth::sdk::ERR_TX_IN_MEMPOOL_CACHE,
                format!(
                    "{} already has {pending} transactions waiting in this node's mempool (at most {})",
                    tx.signer, self.node.max_pending_per_sender
                ),
                gas_wanted,
                0,
            );
        }
        let height = self.store.committed().height + 1;
        match usaged_auth::authenticate(&tx, &account, &self.chain_id, height) {
            Ok(_) => {
                self.check_sequences
                    .insert(tx.signer.clone(), account.sequence.saturating_add(1));
                TxOutcome::accepted(gas_wanted, ante)
            }
            Err(e) => TxOutcome::from_auth(&e, gas_wanted, ante),
        }
    }

    /// Refuses a gas limit above the chain's per-transaction maximum.
    fn check_gas_limit(&self, gas_wanted: u64) -> Result<(), TxOutcome> {
        if gas_wanted > self.params.max_tx_gas {
            return Err(TxOutcome::failed(
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
        Ok(())
    }

    /// What CheckTx refuses from the transaction alone (and this node's fee policy).
    fn check_stateless(&self, tx: &DecodedTx, raw_len: usize) -> Result<(), TxOutcome> {
        let gas_wanted = tx.fee.gas_limit;
        self.check_gas_limit(gas_wanted)?;
        let ante = ante_gas(raw_len);
        if gas_wanted < ante {
            return Err(TxOutcome::out_of_gas("txSize", gas_wanted, ante));
        }
        for (i, msg) in tx.msgs.iter().enumerate() {
            if let Err(e) = self.admissible(msg) {
                let (space, code) = e.abci_code();
                return Err(TxOutcome::failed(
                    space,
                    code,
                    format!("failed to execute message; message index: {i}: {e}"),
                    gas_wanted,
                    0,
                ));
            }
        }
        let price = &self.node.min_gas_price;
        if price.micro_amount > 0 {
            let required = price.fee_for(gas_wanted);
            let offered: u128 = tx
                .fee
                .amount
                .iter()
                .filter(|c| c.denom == price.denom)
                .map(|c| c.amount)
                .sum();
            if offered < required {
                return Err(TxOutcome::failed(
                    "sdk",
                    usaged_auth::sdk::ERR_INSUFFICIENT_FEE,
                    format!(
                        "insufficient fees; got: {offered}{denom} required: {required}{denom}",
                        denom = price.denom
                    ),
                    gas_wanted,
                    0,
                ));
            }
        }
        Ok(())
    }

    /// Whether the chain would run `msg` at all, judged without state: the message kinds it
    /// supports, no funds (there is no native token), uploads only by permitted accounts.
    fn admissible(&self, msg: &Msg) -> Result<(), ExecError> {
        if !msg.funds().is_empty() {
            return Err(ExecError::Unsupported(
                "funds: the chain has no native token".into(),
            ));
        }
        match msg {
            Msg::ExecuteContract { .. }
            | Msg::InstantiateContract { .. }
            | Msg::InstantiateContract2 { .. }
            | Msg::MigrateContract { .. } => Ok(()),
            Msg::StoreCode {
                sender,
                instantiate_permission,
                ..
            } => self
                .upload_permission(sender, instantiate_permission.as_ref())
                .map(|_| ()),
            other => Err(ExecError::Unsupported(other.type_url().to_string())),
        }
    }

    /// Checks that `sender` may upload code with `requested` instantiate permission; returns the
    /// permission the code gets (the requested one, or the chain's default).
    fn upload_permission(
        &self,
        sender: &str,
        requested: Option<&usaged_auth::InstantiatePermission>,
    ) -> Result<AccessConfig, ExecError> {
        if !self.params.code_upload_access.allows(sender) {
            return Err(ExecError::Unauthorized {
                reason: format!("{sender} may not upload code"),
            });
        }
        let default = &self.params.instantiate_default_permission;
        let permission = match requested {
            None => default.clone(),
            Some(usaged_auth::InstantiatePermission::Nobody) => AccessConfig::Nobody,
            Some(usaged_auth::InstantiatePermission::Everybody) => AccessConfig::Everybody,
            Some(usaged_auth::InstantiatePermission::AnyOfAddresses(list)) => {
                AccessConfig::AnyOfAddresses(list.clone())
            }
        };
        if !permission.is_subset_of(default) {
            return Err(ExecError::Unauthorized {
                reason: "the instantiate permission asked for is wider than the chain's default"
                    .into(),
            });
        }
        Ok(permission)
    }

    /// Which of the proposed transactions fit the block's byte and gas limits: the priority
    /// senders' first, then the rest, each in mempool order. Once a sender's transaction is left
    /// out, that sender's later ones are left out too (they would fail on their sequence).
    pub fn prepare_proposal(&self, txs: &[Vec<u8>], max_tx_bytes: u64) -> Vec<Vec<u8>> {
        let decoded: Vec<(String, u64)> = txs
            .iter()
            .map(|t| match usaged_auth::decode_tx(t) {
                Ok(d) => (d.signer, d.fee.gas_limit),
                Err(_) => (String::new(), 0),
            })
            .collect();
        let priority = |signer: &str| self.params.priority_senders.iter().any(|p| p == signer);
        let order = (0..txs.len())
            .filter(|&i| priority(&decoded[i].0))
            .chain((0..txs.len()).filter(|&i| !priority(&decoded[i].0)));
        let mut bytes = 0u64;
        let mut gas_total = 0u64;
        let mut skipped: std::collections::BTreeSet<&str> = Default::default();
        let mut out = vec![];
        for i in order {
            let (signer, gas_wanted) = (&decoded[i].0, decoded[i].1);
            let tx = &txs[i];
            let len = tx.len() as u64;
            if !signer.is_empty() && skipped.contains(signer.as_str()) {
                continue;
            }
            if bytes + len > max_tx_bytes
                || gas_total.saturating_add(gas_wanted) > self.params.max_block_gas
            {
                if !signer.is_empty() {
                    skipped.insert(signer);
                }
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
        if self.store.next_height() != Some(height) {
            return Err(ProtocolError::UnexpectedHeight { height, committed }.into());
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
        let changes = branch.borrow().changes();
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
            .ok_or(ProtocolError::CommitWithoutBlock)?;
        let expected = pending
            .app_hash
            .ok_or(ProtocolError::CommitBeforeFinalize)?;
        let changes: ChangeSet = take_branch(pending.branch)?.into_changes();
        let app_hash = self.store.commit(pending.height, &changes)?;
        if app_hash != expected {
            return Err(StateError::AppHashMismatch {
                committed: app_hash,
                finalized: expected,
            }
            .into());
        }
        if pending.height > KEEP_RECENT_VERSIONS {
            // On the other core while the next block runs; the next commit waits for it.
            self.store
                .prune_in_background(pending.height - KEEP_RECENT_VERSIONS)?;
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
        let mut ante = ante_gas(raw.len());
        if let Err(refused) = self.check_gas_limit(gas_wanted) {
            return Ok(refused);
        }
        if gas_wanted < ante {
            return Ok(TxOutcome::out_of_gas("txSize", gas_wanted, ante));
        }
        let mut account = load_account(&*branch.borrow(), &tx.signer)?;
        let auth = match usaged_auth::authenticate(&tx, &account, &self.chain_id, block.height) {
            Ok(a) => a,
            Err(e) => return Ok(TxOutcome::from_auth(&e, gas_wanted, ante)),
        };
        if !account_exists(&*branch.borrow(), &tx.signer)? {
            ante = ante.saturating_add(self.params.account_creation_gas);
            if gas_wanted < ante {
                return Ok(TxOutcome::out_of_gas("account creation", gas_wanted, ante));
            }
        }
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
        // The ante handler's events, as the SDK emits them; kept when a message fails.
        let mut events = ante_events(&tx);
        let run = self.run_msgs(
            &fork,
            &ctx,
            &tx.msgs,
            gas::to_vm(gas_wanted - ante),
            Upload::Store,
        )?;
        let outcome = match run {
            Ok(ran) => ran,
            Err((failure, vm_used)) => {
                let used = ante.saturating_add(gas::to_sdk(vm_used)).min(gas_wanted);
                return Ok(TxOutcome {
                    gas_wanted,
                    gas_used: used,
                    events,
                    ..failure
                });
            }
        };
        let changes = take_branch(fork)?.into_changes();
        branch.borrow_mut().apply(changes);
        events.extend(outcome.events);
        Ok(TxOutcome {
            gas_wanted,
            gas_used: (ante + outcome.gas_used).min(gas_wanted),
            events,
            ..outcome
        })
    }

    /// Runs a transaction's messages in order on `branch` with `vm_budget` CosmWasm gas: on
    /// success an outcome with the `TxMsgData`, the events (each message's `message` event first,
    /// every event with `msg_index`) and the SDK gas used; on a message's failure the failed
    /// outcome and the CosmWasm gas used so far, the failing message's included. Node faults are
    /// errors.
    #[allow(clippy::type_complexity)]
    fn run_msgs(
        &self,
        branch: &Branch,
        ctx: &BlockCtx,
        msgs: &[Msg],
        vm_budget: u64,
        upload: Upload,
    ) -> Result<Result<TxOutcome, (TxOutcome, u64)>, NodeError> {
        let mut left = vm_budget;
        let mut events = vec![];
        let mut responses = Vec::with_capacity(msgs.len());
        for (i, msg) in msgs.iter().enumerate() {
            let mut meter = left;
            let result = self.run_msg(branch, ctx, msg, &mut meter, upload);
            left = meter.min(left);
            match result {
                Ok((response, mut msg_events)) => {
                    msg_events.insert(0, message_event(msg));
                    for e in &mut msg_events {
                        e.attributes.push(("msg_index".into(), i.to_string()));
                    }
                    events.extend(msg_events);
                    responses.push(response);
                }
                Err(e) if e.is_node_fault() => return Err(NodeError::Vm(e)),
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

    /// Runs one message on `meter` CosmWasm gas (left on it whatever the outcome); returns its
    /// `MsgResponse` and its events.
    fn run_msg(
        &self,
        branch: &Branch,
        ctx: &BlockCtx,
        msg: &Msg,
        meter: &mut u64,
        upload: Upload,
    ) -> Result<(Any, Vec<ChainEvent>), ExecError> {
        self.admissible(msg)?;
        match msg {
            Msg::ExecuteContract {
                sender,
                contract,
                msg,
                ..
            } => {
                let out = self.vm.execute_metered(
                    branch,
                    ctx,
                    &Addr::unchecked(sender),
                    &Addr::unchecked(contract),
                    msg,
                    meter,
                )?;
                let response = wasmv1::MsgExecuteContractResponse {
                    data: out.data.map(|d| d.to_vec()).unwrap_or_default(),
                };
                Ok((any(EXECUTE_RESPONSE, response.encode_to_vec()), out.events))
            }
            Msg::InstantiateContract {
                sender,
                admin,
                code_id,
                label,
                msg,
                ..
            } => self.run_instantiate(
                branch, ctx, sender, admin, *code_id, label, msg, None, meter,
            ),
            Msg::InstantiateContract2 {
                sender,
                admin,
                code_id,
                label,
                msg,
                salt,
                fix_msg,
                ..
            } => self.run_instantiate(
                branch,
                ctx,
                sender,
                admin,
                *code_id,
                label,
                msg,
                Some((salt, *fix_msg)),
                meter,
            ),
            Msg::MigrateContract {
                sender,
                contract,
                code_id,
                msg,
            } => {
                let out = self.vm.migrate_metered(
                    branch,
                    ctx,
                    &Addr::unchecked(sender),
                    &Addr::unchecked(contract),
                    *code_id,
                    msg,
                    meter,
                )?;
                let response = wasmv1::MsgMigrateContractResponse {
                    data: out.data.map(|d| d.to_vec()).unwrap_or_default(),
                };
                Ok((any(MIGRATE_RESPONSE, response.encode_to_vec()), out.events))
            }
            Msg::StoreCode {
                sender,
                wasm_byte_code,
                instantiate_permission,
            } => {
                let permission = self.upload_permission(sender, instantiate_permission.as_ref())?;
                let budget = gas::to_sdk_floor(*meter);
                let result = self.vm.store_code(
                    &mut branch.borrow_mut(),
                    &Addr::unchecked(sender),
                    wasm_byte_code,
                    permission,
                    upload,
                    budget,
                );
                let (code_id, checksum, used) = match result {
                    Ok(stored) => stored,
                    Err(ExecError::OutOfGas) => {
                        *meter = 0;
                        return Err(ExecError::OutOfGas);
                    }
                    Err(e) => return Err(e),
                };
                *meter = meter.saturating_sub(gas::to_vm(used));
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
                ))
            }
            other => Err(ExecError::Unsupported(other.type_url().to_string())),
        }
    }

    /// `MsgInstantiateContract` (no salt) or `MsgInstantiateContract2`: the instantiation and its
    /// typed response.
    #[allow(clippy::too_many_arguments)]
    fn run_instantiate(
        &self,
        branch: &Branch,
        ctx: &BlockCtx,
        sender: &str,
        admin: &Option<String>,
        code_id: u64,
        label: &str,
        msg: &[u8],
        salt: Option<(&[u8], bool)>,
        meter: &mut u64,
    ) -> Result<(Any, Vec<ChainEvent>), ExecError> {
        let (addr, out) = self.vm.instantiate_at_metered(
            branch,
            ctx,
            &Addr::unchecked(sender),
            code_id,
            msg,
            label,
            admin.as_ref().map(Addr::unchecked),
            salt,
            meter,
        )?;
        let address = addr.to_string();
        let data = out.data.map(|d| d.to_vec()).unwrap_or_default();
        let response = match salt {
            None => any(
                INSTANTIATE_RESPONSE,
                wasmv1::MsgInstantiateContractResponse { address, data }.encode_to_vec(),
            ),
            Some(_) => any(
                INSTANTIATE2_RESPONSE,
                wasmv1::MsgInstantiateContract2Response { address, data }.encode_to_vec(),
            ),
        };
        Ok((response, out.events))
    }

    /// Runs a transaction on a throw-away branch without checking its signature (Simulate):
    /// nothing it does reaches the state or the disk (an uploaded code is checked and charged,
    /// not compiled or cached).
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
        let mut ante = ante_gas(raw_len);
        if !account_exists(&*branch.borrow(), &tx.signer)? {
            ante = ante.saturating_add(self.params.account_creation_gas);
        }
        let gas_wanted = tx.fee.gas_limit;
        let budget = gas::to_vm(self.params.max_tx_gas.saturating_sub(ante));
        let events = ante_events(tx);
        let ran = {
            let _simulating = self.vm.simulating();
            self.run_msgs(&branch, &ctx, &tx.msgs, budget, Upload::CheckOnly)
        };
        Ok(match ran? {
            Ok(ran) => {
                let mut all = events;
                all.extend(ran.events);
                TxOutcome {
                    gas_wanted,
                    gas_used: ante + ran.gas_used,
                    events: all,
                    ..ran
                }
            }
            Err((failure, vm_used)) => TxOutcome {
                gas_wanted,
                gas_used: ante + gas::to_sdk(vm_used),
                events,
                ..failure
            },
        })
    }

    /// Height and time of the last committed block, for queries.
    pub fn last_block(&self) -> BlockInfo {
        BlockInfo {
            height: self.store.committed().height,
            time: self.last_block_time(),
            chain_id: self.chain_id.clone(),
        }
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
