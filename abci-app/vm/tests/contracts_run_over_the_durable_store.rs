//! The five optimised contracts (artifacts/, from scripts/build-wasm.sh) run in the real VM over
//! the durable store: stored as codes, instantiated, executed with cross-contract queries and
//! sub-messages, committed block by block, and still there after the store is reopened.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use cosmwasm_std::{Addr, Binary, BlockInfo, ContractResult, HexBinary, Timestamp, Uint128};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use usage_common::merkle;
use usage_common::msg::{ledger, period_proof, settlement, usage_proof, withdrawal};
use usage_common::payload::{DepositVoucher, UsageBatchDigest};
use usage_common::record::{encode_batch, Metric, Metrics, UsageRecord};
use usage_signer::SigningCommittee;
use usaged_store::{Overlay, Store};
use usaged_vm::storage::Branch;
use usaged_vm::{AccessConfig, BlockCtx, ExecError, Upload, WasmVm};

const CHAIN: &str = "usagechain-vm-test";
const T0: u64 = 1_700_000_040;
const GAS: u64 = 500_000_000 * usaged_vm::gas::GAS_MULTIPLIER;

fn artifact(name: &str) -> Vec<u8> {
    usage_common::contracts::artifact(name).unwrap_or_else(|e| panic!("{e}"))
}

fn account(n: u8) -> Addr {
    Addr::unchecked(usaged_auth::humanize(&[n; 20]).expect("address"))
}

struct Chain {
    store: Store,
    vm: WasmVm,
    height: u64,
    time: u64,
    branch: Branch,
}

impl Chain {
    fn open(dir: &std::path::Path, vm: WasmVm) -> Self {
        let store = Store::open(dir).expect("open store");
        let height = store.committed().height;
        let branch = Rc::new(RefCell::new(Overlay::new(Arc::new(store.snapshot()))));
        Chain {
            store,
            vm,
            height,
            time: T0,
            branch,
        }
    }

    fn block(&self) -> BlockInfo {
        BlockInfo {
            height: self.height + 1,
            time: Timestamp::from_seconds(self.time),
            chain_id: CHAIN.into(),
        }
    }

    fn ctx(&self) -> BlockCtx {
        BlockCtx {
            block: self.block(),
            tx_index: 0,
            tx_hash: Binary::from([0u8; 32]),
        }
    }

    /// Runs `f` on a fork of the block's branch, keeping its writes only if it succeeds.
    fn tx<T>(
        &mut self,
        f: impl FnOnce(&WasmVm, &Branch, &BlockCtx) -> Result<T, ExecError>,
    ) -> Result<T, ExecError> {
        let fork: Branch = Rc::new(RefCell::new(self.branch.borrow().fork()));
        let ctx = self.ctx();
        let out = f(&self.vm, &fork, &ctx);
        if out.is_ok() {
            let changes = Rc::try_unwrap(fork).expect("fork released").into_inner();
            self.branch.borrow_mut().apply(changes.into_changes());
        }
        out
    }

    fn execute<M: Serialize>(
        &mut self,
        sender: &Addr,
        contract: &Addr,
        msg: &M,
    ) -> Result<usaged_vm::CallOutcome, ExecError> {
        let raw = serde_json::to_vec(msg).expect("json");
        self.tx(|vm, b, ctx| vm.execute(b, ctx, sender, contract, &raw, GAS))
    }

    fn query<Q: Serialize, R: DeserializeOwned>(&self, contract: &Addr, msg: &Q) -> R {
        let raw = serde_json::to_vec(msg).expect("json");
        let (res, _) = self
            .vm
            .query_smart(&self.branch, &self.block(), contract.as_str(), &raw, GAS)
            .expect("query");
        match res {
            ContractResult::Ok(bin) => serde_json::from_slice(bin.as_slice()).expect("answer"),
            ContractResult::Err(e) => panic!("query failed: {e}"),
        }
    }

    /// Commits the block's writes and starts the next block.
    fn commit(&mut self, seconds: u64) -> [u8; 32] {
        let overlay = std::mem::replace(
            &mut *self.branch.borrow_mut(),
            Overlay::new(Arc::new(self.store.snapshot())),
        );
        self.height += 1;
        let hash = self
            .store
            .commit(self.height, &overlay.into_changes())
            .expect("commit");
        *self.branch.borrow_mut() = Overlay::new(Arc::new(self.store.snapshot()));
        self.time += seconds;
        hash
    }
}

#[test]
fn the_contracts_run_over_the_durable_store_and_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vm = WasmVm::new(&dir.path().join("wasm-cache")).expect("vm");
    let mut chain = Chain::open(&dir.path().join("state"), vm.clone());
    let admin = account(1);
    let provider = account(2);
    let tenant = account(3);
    let committee = SigningCommittee::deterministic("vm-store", 1, 4, 3);

    // Genesis: five codes and five instances.
    let mut codes = std::collections::BTreeMap::new();
    for contract in usage_common::contracts::CONTRACTS {
        let wasm = artifact(contract.code);
        let (code_id, _, _) = chain
            .tx(|vm, b, _| {
                vm.store_code(
                    &mut b.borrow_mut(),
                    &admin,
                    &wasm,
                    AccessConfig::Everybody,
                    Upload::Store,
                    u64::MAX,
                )
            })
            .expect("store code");
        codes.insert(contract.code, code_id);
    }
    let inst = |chain: &mut Chain, code: u64, label: &str, msg: Vec<u8>| -> Addr {
        let admin = account(1);
        chain
            .tx(|vm, b, ctx| {
                vm.instantiate(b, ctx, &admin, code, &msg, label, Some(admin.clone()), GAS)
            })
            .unwrap_or_else(|e| panic!("instantiate {label}: {e}"))
            .0
    };
    let c1 = inst(
        &mut chain,
        codes["usage_proof"],
        "usage-proof",
        serde_json::to_vec(&usage_proof::InstantiateMsg {
            admin: None,
            threshold: 3,
            members: committee.member_keys(),
            window_seconds: 10,
            period_seconds: 60,
            grace_seconds: 30,
            accept_software_tee: false,
            allowed_measurements: vec![HexBinary::from([9u8; 32])],
            period_proof: None,
        })
        .expect("json"),
    );
    let c2 = inst(
        &mut chain,
        codes["period_proof"],
        "period-proof",
        serde_json::to_vec(&period_proof::InstantiateMsg {
            admin: None,
            usage_proof: c1.to_string(),
            grace_seconds: 30,
            dispute_window_seconds: 60,
            resolution_window_seconds: 120,
            dispute_bond: Uint128::zero(),
            settlement: None,
        })
        .expect("json"),
    );
    let c4 = inst(
        &mut chain,
        codes["ledger"],
        "ledger",
        serde_json::to_vec(&ledger::InstantiateMsg {
            admin: None,
            usage_proof: c1.to_string(),
            currency: "CNY".into(),
            decimals: 2,
            settlement: None,
            withdrawal: None,
        })
        .expect("json"),
    );
    let c3 = inst(
        &mut chain,
        codes["settlement"],
        "settlement",
        serde_json::to_vec(&settlement::InstantiateMsg {
            admin: None,
            usage_proof: c1.to_string(),
            period_proof: c2.to_string(),
            ledger: c4.to_string(),
            tariff: settlement::Tariff {
                currency: "CNY".into(),
                lines: vec![settlement::TariffLine {
                    metric: Metric::NetTxBytes,
                    price: Uint128::new(1),
                    per_units: Uint128::new(100),
                }],
                minimum_amount: Uint128::new(1),
            },
        })
        .expect("json"),
    );
    let c5 = inst(
        &mut chain,
        codes["withdrawal"],
        "withdrawal",
        serde_json::to_vec(&withdrawal::InstantiateMsg {
            admin: None,
            usage_proof: c1.to_string(),
            ledger: c4.to_string(),
            currency: "CNY".into(),
            limits: withdrawal::Limits {
                per_request: Uint128::new(1_000_000),
                rolling: Uint128::new(1_000_000),
                window_seconds: 86_400,
                delay_seconds: 3_600,
            },
        })
        .expect("json"),
    );
    let info = vm.contract_info(&chain.branch, c3.as_str()).expect("info");
    assert_eq!(info.code_id, codes["settlement"]);
    assert_eq!(info.label, "settlement");
    chain
        .execute(
            &admin,
            &c1,
            &usage_proof::ExecuteMsg::RegisterTerminal {
                terminal_id: "edge-1".into(),
                provider: provider.to_string(),
                attestor_key: HexBinary::from([4u8; 32]),
                tee: usage_proof::TeeKind::Sgx,
                measurement: HexBinary::from([9u8; 32]),
                shared_attestor: false,
            },
        )
        .expect("register");
    chain
        .execute(
            &admin,
            &c1,
            &usage_proof::ExecuteMsg::UpdateConfig {
                accept_software_tee: None,
                period_proof: Some(c2.to_string()),
            },
        )
        .expect("C2 seals C1's accumulators");
    chain
        .execute(
            &tenant,
            &c1,
            &usage_proof::ExecuteMsg::OpenLease {
                terminal_id: "edge-1".into(),
                provider: provider.to_string(),
                start: 0,
                end: None,
                price_cap: None,
            },
        )
        .expect("lease");
    let genesis_hash = chain.commit(10);

    // A committee-signed batch, then a deposit voucher read through C1's committee.
    let records = vec![UsageRecord {
        terminal_id: "edge-1".into(),
        window_start: T0,
        tenant: tenant.to_string(),
        metrics: Metrics {
            net_tx_bytes: 50_000,
            ..Default::default()
        },
    }];
    let digest = UsageBatchDigest {
        root: HexBinary::from(
            merkle::root(&[merkle::leaf_hash(&records[0].to_bytes())]).expect("root"),
        ),
        records: 1,
    };
    let out = chain
        .execute(
            &admin,
            &c1,
            &usage_proof::ExecuteMsg::SubmitBatch {
                records: Binary::from(encode_batch(&records)),
                signature: committee.sign_quorum(CHAIN, c1.as_str(), &digest),
            },
        )
        .expect("batch");
    let types: Vec<&str> = out.events.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "execute",
            "wasm-usage_batch",
            "wasm-usage_accumulated",
            "wasm-usage_proof"
        ]
    );
    assert_eq!(out.events[3].get("terminal_id"), Some("edge-1"));
    assert!(out.gas_used > 0);
    let voucher = DepositVoucher {
        bank_ref: "CAMT-1".into(),
        beneficiary: tenant.to_string(),
        amount: Uint128::new(10_000),
        currency: "CNY".into(),
    };
    chain
        .execute(
            &admin,
            &c4,
            &ledger::ExecuteMsg::Deposit {
                signature: committee.sign_quorum(CHAIN, c4.as_str(), &voucher),
                voucher,
            },
        )
        .expect("deposit");
    let h2 = chain.commit(100);
    assert_ne!(h2, genesis_hash);

    // C2 reads C1's accumulator by query; C3 locks through a sub-message to C4 — which C4 refuses
    // until it knows C3, and then the whole request leaves nothing behind.
    chain
        .execute(
            &admin,
            &c2,
            &period_proof::ExecuteMsg::ProvePeriod {
                provider: provider.to_string(),
                tenant: tenant.to_string(),
                period_start: T0,
            },
        )
        .expect("prove period");
    chain
        .execute(
            &provider,
            &c3,
            &settlement::ExecuteMsg::SetPayeeAccount {
                account: "CN00PROVIDER01".into(),
            },
        )
        .expect("payee");
    chain.commit(61);
    let request = settlement::ExecuteMsg::RequestSettlement {
        provider: provider.to_string(),
        tenant: tenant.to_string(),
        period_start: T0,
    };
    let err = chain
        .execute(&admin, &c3, &request)
        .expect_err("C4 refuses C3");
    assert!(matches!(err, ExecError::ContractFailed(_)), "{err}");
    let none: settlement::SettlementResponse =
        chain.query(&c3, &settlement::QueryMsg::Settlement { settlement_id: 1 });
    assert!(
        none.settlement.is_none(),
        "the failed request left its settlement behind"
    );
    chain
        .execute(
            &admin,
            &c4,
            &ledger::ExecuteMsg::UpdateConfig {
                settlement: Some(c3.to_string()),
                withdrawal: Some(c5.to_string()),
            },
        )
        .expect("wire ledger");
    let out = chain.execute(&admin, &c3, &request).expect("settlement");
    let types: Vec<&str> = out.events.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(
        types,
        vec![
            "execute",
            "wasm-settlement_requested",
            "execute",
            "wasm-funds_moved"
        ]
    );
    let acct: ledger::AccountResponse = chain.query(
        &c4,
        &ledger::QueryMsg::Account {
            address: tenant.to_string(),
        },
    );
    assert_eq!(acct.locked, Uint128::new(500));
    let before_reopen = chain.commit(1);

    // Only the admin migrates.
    let stranger = account(9);
    let mig = serde_json::to_vec(&usage_common::msg::MigrateMsg {}).expect("json");
    let err = chain
        .tx(|vm, b, ctx| vm.migrate(b, ctx, &stranger, &c1, codes["usage_proof"], &mig, GAS))
        .expect_err("stranger");
    assert!(matches!(err, ExecError::Unauthorized { .. }));
    chain
        .tx(|vm, b, ctx| vm.migrate(b, ctx, &admin, &c1, codes["usage_proof"], &mig, GAS))
        .expect("admin migrates");

    // Out of gas fails inside its own call.
    let err = chain
        .tx(|vm, b, ctx| {
            vm.execute(
                b,
                ctx,
                &admin,
                &c1,
                &serde_json::to_vec(&usage_proof::ExecuteMsg::DeactivateTerminal {
                    terminal_id: "edge-1".into(),
                })
                .expect("json"),
                usaged_vm::gas::to_vm(1_000),
            )
        })
        .expect_err("too little gas");
    assert!(matches!(err, ExecError::OutOfGas), "{err}");

    // Reopen: the committed state and app hash are there, and contracts still answer.
    drop(chain);
    let chain = Chain::open(&dir.path().join("state"), vm);
    assert_eq!(chain.store.committed().app_hash, before_reopen);
    let acct: ledger::AccountResponse = chain.query(
        &c4,
        &ledger::QueryMsg::Account {
            address: tenant.to_string(),
        },
    );
    assert_eq!(acct.available, Uint128::new(9_500));
    assert_eq!(acct.locked, Uint128::new(500));
}

fn probe_get(chain: &Chain, contract: &Addr, key: &str) -> Option<String> {
    chain.query(contract, &json!({"get": {"key": key}}))
}

#[test]
fn a_failed_sub_message_is_rolled_back_and_reply_sees_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vm = WasmVm::new(&dir.path().join("wasm-cache")).expect("vm");
    let mut chain = Chain::open(&dir.path().join("state"), vm);
    let admin = account(1);
    let wasm = artifact("usage_probe");
    let (code, _, _) = chain
        .tx(|vm, b, _| {
            vm.store_code(
                &mut b.borrow_mut(),
                &admin,
                &wasm,
                AccessConfig::Everybody,
                Upload::Store,
                u64::MAX,
            )
        })
        .expect("store");
    let mut probes = vec![];
    for label in ["caller", "callee"] {
        let (addr, _) = chain
            .tx(|vm, b, ctx| vm.instantiate(b, ctx, &admin, code, b"{}", label, None, GAS))
            .expect("instantiate");
        probes.push(addr);
    }
    let (caller, callee) = (probes[0].clone(), probes[1].clone());
    let fail =
        Binary::from(serde_json::to_vec(&json!({"write_then_fail": {"key": "k"}})).expect("json"));

    // With reply on error: the callee's write is rolled back, the caller's stays, reply saw it.
    chain
        .execute(&admin, &caller, &json!({"call": {"contract": callee, "msg": fail, "reply_on_error": true, "note": "first"}}))
        .expect("the caller handles the failure");
    assert_eq!(
        probe_get(&chain, &callee, "k"),
        None,
        "the failed branch's write was kept"
    );
    assert_eq!(probe_get(&chain, &caller, "note").as_deref(), Some("first"));
    let seen = probe_get(&chain, &caller, "last_reply").expect("reply ran");
    // Reply is told the codes only, as wasmd redacts the error text.
    assert_eq!(seen, "error: codespace: wasm, code: 5");

    // Without reply: the whole transaction fails and the caller's own write is undone too.
    let err = chain
        .execute(&admin, &caller, &json!({"call": {"contract": callee, "msg": fail, "reply_on_error": false, "note": "second"}}))
        .expect_err("the failure propagates");
    assert!(matches!(err, ExecError::ContractFailed(_)), "{err}");
    assert_eq!(probe_get(&chain, &caller, "note").as_deref(), Some("first"));

    // A sub-message that succeeds keeps its writes; reply (on error only) is not called.
    let write = Binary::from(
        serde_json::to_vec(&json!({"write": {"key": "k", "value": "v"}})).expect("json"),
    );
    chain
        .execute(&admin, &caller, &json!({"call": {"contract": callee, "msg": write, "reply_on_error": true, "note": "third"}}))
        .expect("success");
    assert_eq!(probe_get(&chain, &callee, "k").as_deref(), Some("v"));
    assert_eq!(probe_get(&chain, &caller, "last_reply"), Some(seen));
}
