//! One `Machine` on a temporary home with a genesis holding the probe contract, and wallets that
//! sign any wasm message with cosmrs: what the tests of hostile clients drive blocks through.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::{AccountId, Any, Coin};
use cosmwasm_std::{Binary, Timestamp};
use prost::Message;
use serde_json::{json, Value};
use usage_client::tx;
use usaged::machine::TxOutcome;
use usaged::Machine;

pub const CHAIN: &str = "usagechain-hostile-test";
pub const T0: u64 = 1_700_000_000;

pub fn artifact(name: &str) -> Vec<u8> {
    usage_common::contracts::artifact(name).unwrap_or_else(|e| panic!("{e}"))
}

/// The probe's wasm with a custom section appended: valid, with a checksum never seen before.
pub fn fresh_probe_wasm(tag: &str) -> Vec<u8> {
    let mut wasm = artifact("usage_probe");
    let name = b"usagechain-test";
    let payload: Vec<u8> = tag.bytes().collect();
    let body_len = 1 + name.len() + payload.len();
    wasm.push(0); // custom section id
    wasm.push(body_len as u8); // LEB128, < 128
    wasm.push(name.len() as u8);
    wasm.extend_from_slice(name);
    wasm.extend_from_slice(&payload);
    wasm
}

pub struct Wallet {
    pub key: SigningKey,
    pub address: AccountId,
    pub sequence: u64,
}

impl Wallet {
    pub fn new(seed: u8) -> Self {
        let key = SigningKey::from_slice(&[seed; 32]).expect("key");
        let address = key.public_key().account_id("usage").expect("address");
        Wallet {
            key,
            address,
            sequence: 0,
        }
    }

    pub fn addr(&self) -> String {
        self.address.to_string()
    }

    /// Signs `msgs` with `gas` and `fee` (coins), at the wallet's sequence, which advances.
    pub fn sign_with_fee(&mut self, msgs: Vec<Any>, gas: u64, fee: Vec<Coin>) -> Vec<u8> {
        let signer = tx::Signer {
            key: &self.key,
            chain_id: CHAIN,
            account_number: 0,
            sequence: self.sequence,
        };
        let raw = tx::sign(signer, msgs, tx::fee(gas, fee), 0).expect("sign");
        self.sequence += 1;
        raw
    }

    pub fn sign(&mut self, msgs: Vec<Any>, gas: u64) -> Vec<u8> {
        self.sign_with_fee(msgs, gas, vec![])
    }

    pub fn execute_msg(&self, contract: &str, msg: &Value) -> Any {
        any(
            "/cosmwasm.wasm.v1.MsgExecuteContract",
            wasmv1::MsgExecuteContract {
                sender: self.addr(),
                contract: contract.to_string(),
                msg: serde_json::to_vec(msg).expect("json"),
                funds: vec![],
            }
            .encode_to_vec(),
        )
    }

    pub fn store_code_msg(&self, wasm: Vec<u8>) -> Any {
        any(
            "/cosmwasm.wasm.v1.MsgStoreCode",
            wasmv1::MsgStoreCode {
                sender: self.addr(),
                wasm_byte_code: wasm,
                instantiate_permission: None,
            }
            .encode_to_vec(),
        )
    }

    pub fn instantiate_msg(&self, code_id: u64, label: &str) -> Any {
        any(
            "/cosmwasm.wasm.v1.MsgInstantiateContract",
            wasmv1::MsgInstantiateContract {
                sender: self.addr(),
                admin: String::new(),
                code_id,
                label: label.to_string(),
                msg: b"{}".to_vec(),
                funds: vec![],
            }
            .encode_to_vec(),
        )
    }

    /// Executes `msg` on `contract` in a signed tx of `gas`.
    pub fn execute(&mut self, contract: &str, msg: &Value, gas: u64) -> Vec<u8> {
        let m = self.execute_msg(contract, msg);
        self.sign(vec![m], gas)
    }
}

pub fn any(type_url: &str, value: Vec<u8>) -> Any {
    Any {
        type_url: type_url.to_string(),
        value,
    }
}

/// The admin (may upload and instantiate), a genesis account with a known key.
pub fn admin() -> Wallet {
    Wallet::new(1)
}

/// The genesis: the probe code and two probe instances (`probe`, `callee`); the admin alone may
/// upload and instantiate; `extra_params` are merged into the params.
pub fn genesis(extra_params: Value) -> Vec<u8> {
    let admin = admin();
    let mut params = json!({
        "max_tx_gas": 200_000_000u64,
        "max_block_gas": 2_000_000_000u64,
        "code_upload_access": {"any_of_addresses": [admin.addr()]},
        "instantiate_default_permission": {"any_of_addresses": [admin.addr()]},
    });
    if let (Some(p), Some(extra)) = (params.as_object_mut(), extra_params.as_object()) {
        for (k, v) in extra {
            p.insert(k.clone(), v.clone());
        }
    }
    let a = admin.addr();
    let g = json!({
        "params": params,
        "accounts": [{"address": a, "pub_key": hex::encode(admin.key.public_key().to_bytes())}],
        "codes": [{"name": "usage_probe", "wasm": Binary::from(artifact("usage_probe")).to_base64()}],
        "contracts": [
            {"code": "usage_probe", "label": "probe", "creator": a, "admin": a, "msg": {}},
            {"code": "usage_probe", "label": "callee", "creator": a, "admin": a, "msg": {}},
        ],
    });
    serde_json::to_vec(&g).expect("genesis")
}

/// The genesis of [`genesis`] plus the usage-proof contract (code 2, the third instance) with
/// `committee` and the software TEE allowed, for tests that need the chain's real workload.
pub fn genesis_with_c1(committee: &usage_signer::SigningCommittee) -> Vec<u8> {
    let mut g: Value = serde_json::from_slice(&genesis(json!({}))).expect("genesis");
    let a = admin().addr();
    g["codes"].as_array_mut().expect("codes").push(
        json!({"name": "usage_proof", "wasm": Binary::from(artifact("usage_proof")).to_base64()}),
    );
    g["contracts"].as_array_mut().expect("contracts").push(json!({
        "code": "usage_proof", "label": "usage-proof", "creator": a, "admin": a,
        "msg": {"admin": a, "threshold": committee.threshold, "members": committee.member_keys(),
                "window_seconds": 10, "period_seconds": 60, "grace_seconds": 30,
                "accept_software_tee": true,
                "allowed_measurements": [cosmwasm_std::HexBinary::from(usage_devtools::localnet::SOFTWARE_MEASUREMENT)]}}));
    serde_json::to_vec(&g).expect("genesis")
}

/// The address of the usage-proof contract of [`genesis_with_c1`].
pub fn c1_address() -> String {
    usaged_auth::humanize(&usaged_vm::keys::classic_contract_address(2, 3)).expect("address")
}

/// Address of genesis instance `n` (1-based) of code 1.
pub fn instance(n: u64) -> String {
    usaged_auth::humanize(&usaged_vm::keys::classic_contract_address(1, n)).expect("address")
}

pub struct Node {
    pub machine: Machine,
    pub height: u64,
}

impl Node {
    /// A machine on `home` after InitChain with `genesis` (not yet committed: the first block
    /// commits it).
    pub fn init(home: &Path, genesis: &[u8]) -> Node {
        let mut machine = Machine::open(home).expect("open");
        machine
            .init_chain(CHAIN, 1, Timestamp::from_seconds(T0), genesis)
            .expect("init chain");
        Node { machine, height: 0 }
    }

    /// Reopens a machine whose state is already on disk.
    pub fn reopen(home: &Path) -> Node {
        let machine = Machine::open(home).expect("open");
        let height = machine.committed().0;
        Node { machine, height }
    }

    /// FinalizeBlock and Commit of the next block; its outcomes and app hash.
    pub fn block(&mut self, txs: &[Vec<u8>]) -> (Vec<TxOutcome>, [u8; 32]) {
        let height = self.height + 1;
        let time = Timestamp::from_seconds(T0 + height * 5);
        let (outcomes, hash) = self
            .machine
            .finalize_block(height, time, txs)
            .expect("finalize");
        self.machine.commit().expect("commit");
        self.height = height;
        (outcomes, hash)
    }

    /// One tx in its own block; its outcome.
    pub fn run(&mut self, tx: Vec<u8>) -> TxOutcome {
        self.block(&[tx]).0.remove(0)
    }

    /// A smart query through the ABCI query path, as a client makes it.
    pub fn smart(&self, contract: &str, msg: &Value) -> Result<Value, (u32, String)> {
        let a = usaged::queries::answer(
            &self.machine,
            "/cosmwasm.wasm.v1.Query/SmartContractState",
            &wasmv1::QuerySmartContractStateRequest {
                address: contract.to_string(),
                query_data: serde_json::to_vec(msg).expect("json"),
            }
            .encode_to_vec(),
            false,
        );
        if a.code != 0 {
            return Err((a.code, a.log));
        }
        let data = wasmv1::QuerySmartContractStateResponse::decode(a.value.as_slice())
            .expect("response")
            .data;
        Ok(serde_json::from_slice(&data).expect("json answer"))
    }

    /// The probe's stored value under `key`.
    pub fn probe_get(&self, contract: &str, key: &str) -> Option<String> {
        serde_json::from_value(
            self.smart(contract, &json!({"get": {"key": key}}))
                .expect("get"),
        )
        .expect("string or null")
    }
}

/// Files (not directories) under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// This process's resident memory, in KiB (Linux).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
