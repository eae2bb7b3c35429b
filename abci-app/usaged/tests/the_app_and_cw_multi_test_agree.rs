//! Differential test: one scenario — terminals, two signed batches, a deposit, the period proof,
//! a settlement cleared by the bank, a withdrawal paid — run through cw-multi-test (the contracts
//! linked natively) and through the application (the optimised wasm in the real VM, signed
//! transactions, FinalizeBlock + Commit). Every contract query that does not name an address
//! answers the same on both.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use cosmwasm_std::{Binary, HexBinary, Timestamp, Uint128};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use usage_common::msg::withdrawal as c5;
use usage_common::msg::{ledger as c4, period_proof as c2, settlement as c3, usage_proof as c1};
use usage_common::payload::{
    BankOutcome, DepositVoucher, SettlementApproval, SettlementVoucher, WithdrawalApproval,
    WithdrawalVoucher,
};
use usage_common::record::{encode_batch, UsageRecord};
use usage_scenarios::*;
use usage_signer::SigningCommittee;
use usaged::Machine;

/// A wallet whose every tx may use the chain's largest gas.
struct Wallet {
    inner: usage_devtools::wallet::Wallet,
    address: String,
}

impl Wallet {
    fn new(seed: u8) -> Self {
        let inner = usage_devtools::wallet::Wallet::new(seed, CHAIN_ID);
        let address = inner.addr();
        Wallet { inner, address }
    }

    fn tx(&mut self, contract: &str, msg: &impl Serialize) -> Vec<u8> {
        self.inner
            .execute(contract, msg, usaged::genesis::MAX_TX_GAS)
    }
}

struct Chain {
    m: Machine,
    height: u64,
    time: u64,
    _home: tempfile::TempDir,
}

impl Chain {
    fn block(&mut self, txs: Vec<Vec<u8>>) {
        self.height += 1;
        let (res, _) = self
            .m
            .finalize_block(self.height, Timestamp::from_seconds(self.time), &txs)
            .expect("finalize");
        for r in &res {
            assert_eq!(r.code, 0, "tx failed: {}", r.log);
        }
        self.m.commit().expect("commit");
    }

    fn advance(&mut self, seconds: u64) {
        self.time += seconds;
    }

    fn query<R: DeserializeOwned>(&self, contract: &str, msg: &impl Serialize) -> R {
        let branch = self.m.query_branch();
        let block = cosmwasm_std::BlockInfo {
            height: self.height,
            time: Timestamp::from_seconds(self.time),
            chain_id: CHAIN_ID.into(),
        };
        let (res, _) = self
            .m
            .vm()
            .query_smart(
                &branch,
                &block,
                contract,
                &serde_json::to_vec(msg).expect("json"),
                u64::MAX / 4,
            )
            .expect("query");
        let bin = res.into_result().expect("query ok");
        serde_json::from_slice(bin.as_slice()).expect("answer")
    }
}

fn address(code_id: u64, instance: u64) -> String {
    usaged_auth::humanize(&usaged_vm::keys::classic_contract_address(
        code_id, instance,
    ))
    .expect("address")
}

fn wasm(name: &str) -> String {
    let wasm = usage_common::contracts::artifact(name).unwrap_or_else(|e| panic!("{e}"));
    Binary::from(wasm).to_base64()
}

#[test]
fn the_app_and_cw_multi_test_agree_on_every_query() {
    // ---- cw-multi-test ----
    let mut s = Suite::new();
    let terminals = s.register_terminals(3);
    s.set_payee();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-D1", &tenant, 100_000).expect("deposit");
    let mut batches = vec![];
    for w in 0..2u64 {
        s.advance(WINDOW);
        let recs: Vec<UsageRecord> = terminals
            .iter()
            .enumerate()
            .map(|(i, t)| s.record(t, T0 + w * WINDOW, 10_000 * (i as u64 + 1)))
            .collect();
        s.submit(&recs).expect("batch");
        batches.push(recs);
    }
    s.advance(T0 + PERIOD + GRACE - s.now());
    s.prove_period(T0).expect("prove");
    s.advance(DISPUTE_WINDOW + 1);
    s.request_settlement(T0).expect("settle");
    let approval: SettlementApproval = s.query(
        &s.c3,
        &c3::QueryMsg::InstructionPayload { settlement_id: 1 },
    );
    let sig = s.sign(&s.c3.clone(), &approval);
    let admin = s.admin.clone();
    s.exec_c3(
        &admin,
        &c3::ExecuteMsg::ApproveInstruction {
            settlement_id: 1,
            signature: sig,
        },
    )
    .expect("approve");
    let sv = SettlementVoucher {
        settlement_id: 1,
        end_to_end_id: approval.end_to_end_id.clone(),
        bank_ref: "BOOK-1".into(),
        outcome: BankOutcome::Booked,
        amount: approval.amount,
    };
    let sig = s.sign(&s.c3.clone(), &sv);
    s.exec_c3(
        &admin,
        &c3::ExecuteMsg::RecordVoucher {
            voucher: sv,
            signature: sig,
        },
    )
    .expect("voucher");
    s.request_withdrawal(&tenant, 20_000).expect("withdraw");
    let wa: WithdrawalApproval = s.query(
        &s.c5,
        &c5::QueryMsg::InstructionPayload { withdrawal_id: 1 },
    );
    let sig = s.sign(&s.c5.clone(), &wa);
    s.exec_c5(
        &admin,
        &c5::ExecuteMsg::ApproveInstruction {
            withdrawal_id: 1,
            signature: sig,
        },
    )
    .expect("approve w");
    let wv = WithdrawalVoucher {
        withdrawal_id: 1,
        end_to_end_id: wa.end_to_end_id.clone(),
        bank_ref: "BOOK-2".into(),
        outcome: BankOutcome::Booked,
        amount: wa.amount,
    };
    let sig = s.sign(&s.c5.clone(), &wv);
    s.exec_c5(
        &admin,
        &c5::ExecuteMsg::RecordVoucher {
            voucher: wv,
            signature: sig,
        },
    )
    .expect("voucher w");

    // ---- the application, with the same configuration ----
    let mut admin_w = Wallet::new(11);
    let mut provider_w = Wallet::new(12);
    let mut tenant_w = Wallet::new(13);
    let committee = SigningCommittee::deterministic("suite", 1, 4, 3);
    let (a1, a2, a4, a3, a5) = (
        address(1, 1),
        address(2, 2),
        address(4, 3),
        address(3, 4),
        address(5, 5),
    );
    let admin_addr = admin_w.address.clone();
    let genesis = json!({
        "codes": [{"name": "usage_proof", "wasm": wasm("usage_proof")}, {"name": "period_proof", "wasm": wasm("period_proof")},
                  {"name": "settlement", "wasm": wasm("settlement")}, {"name": "ledger", "wasm": wasm("ledger")},
                  {"name": "withdrawal", "wasm": wasm("withdrawal")}],
        "contracts": [
            {"code": "usage_proof", "label": "c1", "creator": admin_addr, "admin": admin_addr, "msg": c1::InstantiateMsg {
                admin: None, threshold: 3, members: committee.member_keys(), window_seconds: WINDOW, period_seconds: PERIOD,
                grace_seconds: GRACE, accept_software_tee: false, allowed_measurements: vec![HexBinary::from(MEASUREMENT)],
                period_proof: Some("@c2".into()) }},
            {"code": "period_proof", "label": "c2", "creator": admin_addr, "admin": admin_addr, "msg": c2::InstantiateMsg {
                admin: None, usage_proof: "@c1".into(), grace_seconds: GRACE, dispute_window_seconds: DISPUTE_WINDOW,
                resolution_window_seconds: RESOLUTION_WINDOW, dispute_bond: Uint128::new(DISPUTE_BOND),
                settlement: Some("@c3".into()) }},
            {"code": "ledger", "label": "c4", "creator": admin_addr, "admin": admin_addr, "msg": c4::InstantiateMsg {
                admin: None, usage_proof: "@c1".into(), currency: CURRENCY.into(), decimals: 2,
                settlement: Some("@c3".into()), withdrawal: Some("@c5".into()) }},
            {"code": "settlement", "label": "c3", "creator": admin_addr, "admin": admin_addr, "msg": c3::InstantiateMsg {
                admin: None, usage_proof: "@c1".into(), period_proof: "@c2".into(), ledger: "@c4".into(), tariff: default_tariff() }},
            {"code": "withdrawal", "label": "c5", "creator": admin_addr, "admin": admin_addr, "msg": c5::InstantiateMsg {
                admin: None, usage_proof: "@c1".into(), ledger: "@c4".into(), currency: CURRENCY.into(),
                limits: c5::Limits { per_request: Uint128::new(PER_REQUEST_LIMIT), rolling: Uint128::new(ROLLING_LIMIT),
                    window_seconds: 86_400, delay_seconds: DELAY } }},
        ],
    });
    let home = tempfile::tempdir().expect("home");
    let mut m = Machine::open(home.path()).expect("open");
    m.init_chain(
        CHAIN_ID,
        1,
        Timestamp::from_seconds(T0),
        &serde_json::to_vec(&genesis).expect("json"),
    )
    .expect("genesis");
    let mut chain = Chain {
        m,
        height: 0,
        time: T0,
        _home: home,
    };
    // The genesis contracts were created by the admin wallet, so it is also their admin.
    let reg: Vec<Vec<u8>> = terminals
        .iter()
        .map(|t| {
            admin_w.tx(
                &a1,
                &c1::ExecuteMsg::RegisterTerminal {
                    terminal_id: t.clone(),
                    provider: provider_w.address.clone(),
                    attestor_key: HexBinary::from(usage_common::merkle::sha256(t.as_bytes())),
                    tee: c1::TeeKind::Sgx,
                    measurement: HexBinary::from(MEASUREMENT),
                    shared_attestor: false,
                },
            )
        })
        .collect();
    // The tenant leases every terminal, as the suite's tenant does.
    let leases: Vec<Vec<u8>> = terminals
        .iter()
        .map(|t| {
            tenant_w.tx(
                &a1,
                &c1::ExecuteMsg::OpenLease {
                    terminal_id: t.clone(),
                    provider: provider_w.address.clone(),
                    start: 0,
                    end: None,
                    price_cap: None,
                },
            )
        })
        .collect();
    let payee = provider_w.tx(
        &a3,
        &c3::ExecuteMsg::SetPayeeAccount {
            account: "CN11PROVIDER0001".into(),
        },
    );
    let dv = DepositVoucher {
        bank_ref: "CAMT-D1".into(),
        beneficiary: tenant_w.address.clone(),
        amount: Uint128::new(100_000),
        currency: CURRENCY.into(),
    };
    let dep = admin_w.tx(
        &a4,
        &c4::ExecuteMsg::Deposit {
            signature: committee.sign_quorum(CHAIN_ID, &a4, &dv),
            voucher: dv,
        },
    );
    let mut first = reg;
    first.extend(leases);
    first.push(payee);
    first.push(dep);
    chain.block(first);
    for recs in &batches {
        chain.advance(WINDOW);
        let recs: Vec<UsageRecord> = recs
            .iter()
            .map(|r| UsageRecord {
                tenant: tenant_w.address.clone(),
                ..r.clone()
            })
            .collect();
        let digest = Suite::digest(&recs);
        let tx = admin_w.tx(
            &a1,
            &c1::ExecuteMsg::SubmitBatch {
                records: Binary::from(encode_batch(&recs)),
                signature: committee.sign_quorum(CHAIN_ID, &a1, &digest),
            },
        );
        chain.block(vec![tx]);
    }
    chain.advance(T0 + PERIOD + GRACE - chain.time);
    let prove = admin_w.tx(
        &a2,
        &c2::ExecuteMsg::ProvePeriod {
            provider: provider_w.address.clone(),
            tenant: tenant_w.address.clone(),
            period_start: T0,
        },
    );
    chain.block(vec![prove]);
    chain.advance(DISPUTE_WINDOW + 1);
    let settle = admin_w.tx(
        &a3,
        &c3::ExecuteMsg::RequestSettlement {
            provider: provider_w.address.clone(),
            tenant: tenant_w.address.clone(),
            period_start: T0,
        },
    );
    chain.block(vec![settle]);
    let approval_app: SettlementApproval =
        chain.query(&a3, &c3::QueryMsg::InstructionPayload { settlement_id: 1 });
    let tx = admin_w.tx(
        &a3,
        &c3::ExecuteMsg::ApproveInstruction {
            settlement_id: 1,
            signature: committee.sign_quorum(CHAIN_ID, &a3, &approval_app),
        },
    );
    chain.block(vec![tx]);
    let sv = SettlementVoucher {
        settlement_id: 1,
        end_to_end_id: approval_app.end_to_end_id.clone(),
        bank_ref: "BOOK-1".into(),
        outcome: BankOutcome::Booked,
        amount: approval_app.amount,
    };
    let tx = admin_w.tx(
        &a3,
        &c3::ExecuteMsg::RecordVoucher {
            signature: committee.sign_quorum(CHAIN_ID, &a3, &sv),
            voucher: sv,
        },
    );
    chain.block(vec![tx]);
    let tx = tenant_w.tx(
        &a5,
        &c5::ExecuteMsg::RequestWithdrawal {
            amount: Uint128::new(20_000),
            beneficiary: "CN22TENANT00001".into(),
        },
    );
    chain.block(vec![tx]);
    let wa_app: WithdrawalApproval =
        chain.query(&a5, &c5::QueryMsg::InstructionPayload { withdrawal_id: 1 });
    let tx = admin_w.tx(
        &a5,
        &c5::ExecuteMsg::ApproveInstruction {
            withdrawal_id: 1,
            signature: committee.sign_quorum(CHAIN_ID, &a5, &wa_app),
        },
    );
    chain.block(vec![tx]);
    let wv = WithdrawalVoucher {
        withdrawal_id: 1,
        end_to_end_id: wa_app.end_to_end_id.clone(),
        bank_ref: "BOOK-2".into(),
        outcome: BankOutcome::Booked,
        amount: wa_app.amount,
    };
    let tx = admin_w.tx(
        &a5,
        &c5::ExecuteMsg::RecordVoucher {
            signature: committee.sign_quorum(CHAIN_ID, &a5, &wv),
            voucher: wv,
        },
    );
    chain.block(vec![tx]);

    // ---- compare ----
    let strip = |mut v: Value| {
        // Addresses differ between the two worlds (multi-test's and the chain's), and with them
        // the Merkle roots over records naming the tenant, the deployment tag of end-to-end ids
        // (chain id and contract) and block heights; nothing else may.
        fn walk(v: &mut Value) {
            match v {
                Value::String(s) if s.starts_with("usage1") => *s = "<address>".into(),
                Value::String(s) if s.starts_with("USG-") => {
                    let (kind, _, id) = usage_common::payload::parse_end_to_end_id(s)
                        .unwrap_or_else(|| panic!("{s} is not an end-to-end id"));
                    *s = format!("USG-{kind:?}-<deployment>-{id}");
                }
                Value::Array(a) => a.iter_mut().for_each(walk),
                Value::Object(o) => {
                    for (k, v) in o.iter_mut() {
                        if k == "root" || k == "height" {
                            *v = Value::String(format!("<{k}>"));
                        } else {
                            walk(v);
                        }
                    }
                }
                _ => {}
            }
        }
        walk(&mut v);
        v
    };
    let pairs: Vec<(&str, &str, Value, Value)> = vec![
        (
            "c1 proof",
            "",
            s.query(
                &s.c1,
                &c1::QueryMsg::Proof {
                    terminal_id: terminals[1].clone(),
                    window_start: T0 + WINDOW,
                },
            ),
            chain.query(
                &a1,
                &c1::QueryMsg::Proof {
                    terminal_id: terminals[1].clone(),
                    window_start: T0 + WINDOW,
                },
            ),
        ),
        (
            "c1 batch",
            "",
            s.query(&s.c1, &c1::QueryMsg::Batch { batch_id: 2 }),
            chain.query(&a1, &c1::QueryMsg::Batch { batch_id: 2 }),
        ),
        (
            "c2 period",
            "",
            s.query(
                &s.c2,
                &c2::QueryMsg::PeriodProof {
                    provider: s.provider.to_string(),
                    tenant: tenant.to_string(),
                    period_start: T0,
                },
            ),
            chain.query(
                &a2,
                &c2::QueryMsg::PeriodProof {
                    provider: provider_w.address.clone(),
                    tenant: tenant_w.address.clone(),
                    period_start: T0,
                },
            ),
        ),
        (
            "c3 settlement",
            "",
            s.query(&s.c3, &c3::QueryMsg::Settlement { settlement_id: 1 }),
            chain.query(&a3, &c3::QueryMsg::Settlement { settlement_id: 1 }),
        ),
        (
            "c4 account",
            "",
            s.query(
                &s.c4,
                &c4::QueryMsg::Account {
                    address: tenant.to_string(),
                },
            ),
            chain.query(
                &a4,
                &c4::QueryMsg::Account {
                    address: tenant_w.address.clone(),
                },
            ),
        ),
        (
            "c4 supply",
            "",
            s.query(&s.c4, &c4::QueryMsg::TotalSupply {}),
            chain.query(&a4, &c4::QueryMsg::TotalSupply {}),
        ),
        (
            "c5 withdrawal",
            "",
            s.query(&s.c5, &c5::QueryMsg::Withdrawal { withdrawal_id: 1 }),
            chain.query(&a5, &c5::QueryMsg::Withdrawal { withdrawal_id: 1 }),
        ),
    ];
    for (what, _, multi, app) in pairs {
        let (multi, app) = (strip(multi), strip(app));
        assert_eq!(multi, app, "{what} differs");
        assert_ne!(multi, Value::Null, "{what} answered nothing");
    }
    let supply: c4::TotalSupplyResponse = chain.query(&a4, &c4::QueryMsg::TotalSupply {});
    assert_eq!(supply.withdrawn, Uint128::new(20_000));
    assert!(supply.settled > Uint128::zero());
}
