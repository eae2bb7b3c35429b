//! The optimised wasm of every contract (artifacts/, from scripts/build-wasm.sh) passes the VM's
//! static checks with the chain's capabilities, declares `cosmwasm_2_1` (the BLS host functions),
//! and runs the whole flow — committee-verified batch, period proof, deposit, settlement,
//! withdrawal, rotation — inside the real cosmwasm-vm.

use std::collections::BTreeSet;

use cosmwasm_std::{Addr, HexBinary, Uint128};
use cosmwasm_vm::internals::{check_wasm, Logger};
use cosmwasm_vm::testing::{MockApi, MockQuerier, MockStorage};
use cosmwasm_vm::{Cache, CacheOptions, Size, WasmLimits};
use usage_common::msg::{ledger, period_proof, settlement, usage_proof, withdrawal};
use usage_common::payload::{
    BankOutcome, CommitteeRotation, DepositVoucher, SettlementVoucher, WithdrawalVoucher,
};
use usage_common::record::{encode_batch, Metric, Metrics, UsageRecord};
use usage_common::ThresholdSignature;
use usage_signer::SigningCommittee;
use usage_wasm_vm_tests::{addr, artifact, capabilities, VmNet, CONTRACTS};

const CHAIN: &str = "usagechain-vm-1";
const T0: u64 = 1_700_000_000; // a multiple of 10 and of 60 seconds
const MEASUREMENT: [u8; 32] = [7u8; 32];

#[test]
fn every_artifact_passes_the_vm_checks_and_requires_the_bls_capability() {
    let dir = std::env::temp_dir().join(format!("usagechain-vm-cache-{}", std::process::id()));
    // SAFETY: the cache directory is private to this test process.
    let cache: Cache<MockApi, MockStorage, MockQuerier> = unsafe {
        Cache::new(CacheOptions::new(
            &dir,
            capabilities(),
            Size::mebi(64),
            Size::mebi(32),
        ))
    }
    .expect("cache");
    for name in CONTRACTS {
        let wasm = artifact(name);
        assert!(wasm.len() < 800 * 1024, "{name}.wasm is {} bytes", wasm.len());
        check_wasm(&wasm, &capabilities(), &WasmLimits::default(), Logger::Off)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let checksum = cache.store_code(&wasm, true, true).expect("store");
        let report = cache.analyze(&checksum).expect("analyze");
        assert!(
            report.required_capabilities.contains("cosmwasm_2_1"),
            "{name} does not declare cosmwasm_2_1 (BLS host functions): {:?}",
            report.required_capabilities
        );
        let entry: BTreeSet<String> = report
            .entrypoints
            .iter()
            .map(|e| format!("{e:?}").to_lowercase())
            .collect();
        for required in ["instantiate", "execute", "query", "migrate"] {
            assert!(entry.contains(required), "{name} lacks {required}: {entry:?}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

struct Flow {
    net: VmNet,
    committee: SigningCommittee,
    admin: Addr,
    provider: Addr,
    tenant: Addr,
    c1: Addr,
    c2: Addr,
    c3: Addr,
    c4: Addr,
    c5: Addr,
}

impl Flow {
    fn new() -> Self {
        let net = VmNet::new(CHAIN, T0);
        let committee = SigningCommittee::deterministic("vm", 1, 4, 3);
        let f = Flow {
            net,
            committee,
            admin: addr("admin"),
            provider: addr("provider"),
            tenant: addr("tenant"),
            c1: addr("c1-usage-proof"),
            c2: addr("c2-period-proof"),
            c3: addr("c3-settlement"),
            c4: addr("c4-ledger"),
            c5: addr("c5-withdrawal"),
        };
        for (a, name) in [
            (&f.c1, "usage_proof"),
            (&f.c2, "period_proof"),
            (&f.c3, "settlement"),
            (&f.c4, "ledger"),
            (&f.c5, "withdrawal"),
        ] {
            f.net.add(a, &artifact(name));
        }
        f
    }

    fn sign<P: usage_common::SignedPayload>(&self, contract: &Addr, p: &P) -> ThresholdSignature {
        self.committee.sign_quorum(CHAIN, contract.as_str(), p)
    }

    fn instantiate_all(&mut self) {
        let admin = self.admin.clone();
        let c1 = self.c1.clone();
        self.net
            .instantiate(
                &c1,
                &admin,
                &usage_proof::InstantiateMsg {
                    admin: None,
                    threshold: 3,
                    members: self.committee.member_keys(),
                    window_seconds: 10,
                    period_seconds: 60,
                    grace_seconds: 30,
                    accept_software_tee: false,
                    allowed_measurements: vec![HexBinary::from(MEASUREMENT)],
                },
            )
            .expect("instantiate c1");
        let (c2, c3, c4, c5) = (
            self.c2.clone(),
            self.c3.clone(),
            self.c4.clone(),
            self.c5.clone(),
        );
        self.net
            .instantiate(
                &c2,
                &admin,
                &period_proof::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    grace_seconds: 30,
                    dispute_window_seconds: 60,
                },
            )
            .expect("instantiate c2");
        self.net
            .instantiate(
                &c4,
                &admin,
                &ledger::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    currency: "CNY".into(),
                    decimals: 2,
                    settlement: Some(c3.to_string()),
                    withdrawal: Some(c5.to_string()),
                },
            )
            .expect("instantiate c4");
        self.net
            .instantiate(
                &c3,
                &admin,
                &settlement::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    period_proof: c2.to_string(),
                    ledger: c4.to_string(),
                    tariff: settlement::Tariff {
                        currency: "CNY".into(),
                        lines: vec![settlement::TariffLine {
                            metric: Metric::NetTxBytes,
                            price: Uint128::new(5),
                            per_units: Uint128::new(1_000),
                        }],
                        minimum_amount: Uint128::new(1),
                    },
                },
            )
            .expect("instantiate c3");
        self.net
            .instantiate(
                &c5,
                &admin,
                &withdrawal::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    ledger: c4.to_string(),
                    currency: "CNY".into(),
                    limits: withdrawal::Limits {
                        per_request: Uint128::new(1_000_000),
                        rolling: Uint128::new(5_000_000),
                        window_seconds: 86_400,
                        delay_seconds: 3_600,
                    },
                },
            )
            .expect("instantiate c5");
    }

    fn records(&self, window: u64, n: usize) -> Vec<UsageRecord> {
        (0..n)
            .map(|i| UsageRecord {
                terminal_id: format!("term-{i:03}"),
                window_start: window,
                tenant: self.tenant.to_string(),
                metrics: Metrics {
                    net_rx_bytes: 10_000,
                    net_tx_bytes: 20_000 + i as u64,
                    cpu_time_us: 1_000_000,
                    ..Default::default()
                },
            })
            .collect()
    }
}

#[test]
fn the_whole_flow_runs_in_the_real_vm_with_committee_signatures() {
    let mut f = Flow::new();
    f.instantiate_all();
    let (admin, c1, c2, c3, c4, c5) = (
        f.admin.clone(),
        f.c1.clone(),
        f.c2.clone(),
        f.c3.clone(),
        f.c4.clone(),
        f.c5.clone(),
    );

    for i in 0..3 {
        f.net
            .execute(
                &c1,
                &admin,
                &usage_proof::ExecuteMsg::RegisterTerminal {
                    terminal_id: format!("term-{i:03}"),
                    provider: f.provider.to_string(),
                    attestor_key: HexBinary::from([i as u8 + 1; 32]),
                    tee: usage_proof::TeeKind::Sgx,
                    measurement: HexBinary::from(MEASUREMENT),
                },
            )
            .expect("register");
    }

    // Flow 2: a committee-signed batch becomes first proofs.
    f.net.advance(10);
    let records = f.records(T0, 3);
    let bytes = encode_batch(&records);
    let digest = usage_common::payload::UsageBatchDigest {
        root: HexBinary::from(usage_common::merkle::root(
            &records
                .iter()
                .map(|r| usage_common::merkle::leaf_hash(&r.to_bytes()))
                .collect::<Vec<_>>(),
        )
        .expect("root")),
        records: 3,
    };
    let forged = f.committee.sign(&[0, 1], CHAIN, c1.as_str(), &digest);
    let err = f
        .net
        .execute(
            &c1,
            &admin,
            &usage_proof::ExecuteMsg::SubmitBatch {
                records: bytes.clone().into(),
                signature: forged,
            },
        )
        .expect_err("short quorum");
    assert!(err.contains("threshold is 3"), "{err}");
    f.net
        .execute(
            &c1,
            &admin,
            &usage_proof::ExecuteMsg::SubmitBatch {
                records: bytes.into(),
                signature: f.sign(&c1, &digest),
            },
        )
        .expect("submit batch");
    println!("SubmitBatch of 3 records: {} CosmWasm gas", f.net.last_gas_used);
    let proof: usage_proof::ProofResponse = f
        .net
        .query(
            &c1,
            &usage_proof::QueryMsg::Proof {
                terminal_id: "term-001".into(),
                window_start: T0,
            },
        )
        .expect("proof query");
    assert_eq!(proof.proof.expect("proof").metrics.net_tx_bytes, 20_001);

    // Flow 5: a deposit voucher is credited once.
    let voucher = DepositVoucher {
        bank_ref: "CAMT054-0001".into(),
        beneficiary: f.tenant.to_string(),
        amount: Uint128::new(100_000),
        currency: "CNY".into(),
    };
    let deposit = ledger::ExecuteMsg::Deposit {
        signature: f.sign(&c4, &voucher),
        voucher,
    };
    f.net.execute(&c4, &admin, &deposit).expect("deposit");
    assert!(f.net.execute(&c4, &admin, &deposit).is_err(), "replayed deposit");

    // Flow 3: the period closes and is proven.
    f.net.advance(60 + 30);
    f.net
        .execute(
            &c2,
            &admin,
            &period_proof::ExecuteMsg::ProvePeriod {
                provider: f.provider.to_string(),
                tenant: f.tenant.to_string(),
                period_start: T0,
            },
        )
        .expect("prove period");
    let pp: period_proof::PeriodProofResponse = f
        .net
        .query(
            &c2,
            &period_proof::QueryMsg::PeriodProof {
                provider: f.provider.to_string(),
                tenant: f.tenant.to_string(),
                period_start: T0,
            },
        )
        .expect("period proof query");
    let pp = pp.proof.expect("period proof");
    assert_eq!(pp.totals.records, 3);
    assert_eq!(pp.totals.net_tx_bytes, 60_003);

    // Flow 4: settlement after the dispute window, cleared by the bank's voucher.
    f.net.advance(61);
    let provider = f.provider.clone();
    f.net
        .execute(
            &c3,
            &provider,
            &settlement::ExecuteMsg::SetPayeeAccount {
                account: "CN0012345678901234".into(),
            },
        )
        .expect("payee");
    f.net
        .execute(
            &c3,
            &admin,
            &settlement::ExecuteMsg::RequestSettlement {
                provider: f.provider.to_string(),
                tenant: f.tenant.to_string(),
                period_start: T0,
            },
        )
        .expect("request settlement");
    let approval: usage_common::payload::SettlementApproval = f
        .net
        .query(
            &c3,
            &settlement::QueryMsg::InstructionPayload { settlement_id: 1 },
        )
        .expect("instruction payload");
    // 60_003 bytes * 5 / 1000 = 300.015 -> 300 minor units.
    assert_eq!(approval.amount, Uint128::new(300));
    f.net
        .execute(
            &c3,
            &admin,
            &settlement::ExecuteMsg::ApproveInstruction {
                settlement_id: 1,
                signature: f.sign(&c3, &approval),
            },
        )
        .expect("approve settlement");
    let sv = SettlementVoucher {
        settlement_id: 1,
        end_to_end_id: approval.end_to_end_id.clone(),
        bank_ref: "BOOK-S-1".into(),
        outcome: BankOutcome::Booked,
        amount: approval.amount,
    };
    f.net
        .execute(
            &c3,
            &admin,
            &settlement::ExecuteMsg::RecordVoucher {
                signature: f.sign(&c3, &sv),
                voucher: sv,
            },
        )
        .expect("settlement voucher");

    // Flow 6: a withdrawal paid through the bank.
    let tenant = f.tenant.clone();
    f.net
        .execute(
            &c5,
            &tenant,
            &withdrawal::ExecuteMsg::RequestWithdrawal {
                amount: Uint128::new(40_000),
                beneficiary: "CN9988776655443322".into(),
            },
        )
        .expect("request withdrawal");
    let wa: usage_common::payload::WithdrawalApproval = f
        .net
        .query(
            &c5,
            &withdrawal::QueryMsg::InstructionPayload { withdrawal_id: 1 },
        )
        .expect("withdrawal payload");
    f.net
        .execute(
            &c5,
            &admin,
            &withdrawal::ExecuteMsg::ApproveInstruction {
                withdrawal_id: 1,
                signature: f.sign(&c5, &wa),
            },
        )
        .expect("approve withdrawal");
    let wv = WithdrawalVoucher {
        withdrawal_id: 1,
        end_to_end_id: wa.end_to_end_id.clone(),
        bank_ref: "BOOK-W-1".into(),
        outcome: BankOutcome::Booked,
        amount: wa.amount,
    };
    f.net
        .execute(
            &c5,
            &admin,
            &withdrawal::ExecuteMsg::RecordVoucher {
                signature: f.sign(&c5, &wv),
                voucher: wv,
            },
        )
        .expect("withdrawal voucher");

    let acct: ledger::AccountResponse = f
        .net
        .query(
            &c4,
            &ledger::QueryMsg::Account {
                address: f.tenant.to_string(),
            },
        )
        .expect("account");
    assert_eq!(acct.available, Uint128::new(100_000 - 300 - 40_000));
    assert_eq!(acct.locked, Uint128::zero());
    let supply: ledger::TotalSupplyResponse = f
        .net
        .query(&c4, &ledger::QueryMsg::TotalSupply {})
        .expect("supply");
    assert_eq!(supply.total, supply.deposited - supply.settled - supply.withdrawn);
    assert_eq!(supply.settled, Uint128::new(300));
    assert_eq!(supply.withdrawn, Uint128::new(40_000));

    // Flow 7: the committee hands over to a new one; the old one can no longer sign.
    let next = SigningCommittee::deterministic("vm-next", 2, 4, 3);
    let rotation = CommitteeRotation {
        new_epoch: 2,
        threshold: 3,
        members: next.member_keys(),
    };
    f.net
        .execute(
            &c1,
            &admin,
            &usage_proof::ExecuteMsg::RotateCommittee {
                signature: f.sign(&c1, &rotation),
                rotation,
            },
        )
        .expect("rotate");
    let c: usage_proof::CommitteeResponse = f
        .net
        .query(&c1, &usage_proof::QueryMsg::Committee {})
        .expect("committee");
    assert_eq!(c.committee, next.committee());
    let late = DepositVoucher {
        bank_ref: "CAMT054-0002".into(),
        beneficiary: f.tenant.to_string(),
        amount: Uint128::new(1),
        currency: "CNY".into(),
    };
    let err = f
        .net
        .execute(
            &c4,
            &admin,
            &ledger::ExecuteMsg::Deposit {
                signature: f.sign(&c4, &late),
                voucher: late,
            },
        )
        .expect_err("old epoch");
    assert!(err.contains("epoch"), "{err}");
}
