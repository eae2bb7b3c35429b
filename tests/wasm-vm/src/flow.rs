//! Every flow of the design run through the optimised wasm in the real cosmwasm-vm: the bench
//! behind `scripts/demo.sh` and the VM test.

use cosmwasm_std::{Addr, HexBinary, Uint128};
use usage_common::msg::{ledger, period_proof, settlement, usage_proof, withdrawal};
use usage_common::payload::{
    BankOutcome, CommitteeRotation, DepositVoucher, SettlementVoucher, WithdrawalVoucher,
};
use usage_common::record::{encode_batch, Metric, Metrics, UsageRecord};
use usage_common::ThresholdSignature;
use usage_signer::SigningCommittee;

use crate::{addr, artifact, VmNet};

const CHAIN: &str = "usagechain-vm-1";
const T0: u64 = 1_700_000_040; // a multiple of 10 and of 60 seconds
const MEASUREMENT: [u8; 32] = [7u8; 32];

/// What the flow saw, for a caller to check.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// CosmWasm gas of `SubmitBatch` with three records.
    pub submit_batch_gas: u64,
    /// Errors of the refusals the flow provokes: short quorum, replayed deposit, old epoch.
    pub refusals: Vec<String>,
    pub period_records: u64,
    pub settled: Uint128,
    pub withdrawn: Uint128,
    pub tenant_available: Uint128,
    pub tenant_locked: Uint128,
    pub supply_total: Uint128,
    pub supply_deposited: Uint128,
    pub committee_epoch: u64,
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
                    period_proof: Some(self.c2.to_string()),
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
                    resolution_window_seconds: 120,
                    dispute_bond: Uint128::new(100),
                    settlement: Some(c3.to_string()),
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

/// Runs every flow of the design in the VM, reporting each step through `log`, and returns what
/// a caller checks: refusals seen and the final ledger figures.
pub fn run(log: &mut dyn FnMut(&str)) -> Summary {
    let mut summary = Summary::default();
    let mut f = Flow::new();
    f.instantiate_all();
    log(
        "five contracts instantiated from their optimised wasm; committee epoch 1 (4 members, t=3)",
    );
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
                    shared_attestor: false,
                },
            )
            .expect("register");
        let tenant = f.tenant.clone();
        f.net
            .execute(
                &c1,
                &tenant,
                &usage_proof::ExecuteMsg::OpenLease {
                    terminal_id: format!("term-{i:03}"),
                    provider: f.provider.to_string(),
                    start: 0,
                    end: None,
                    price_cap: None,
                },
            )
            .expect("lease");
    }
    log("C1: 3 terminals registered (SGX measurement on the allowlist) and leased by the tenant");

    // Flow 2: a committee-signed batch becomes first proofs.
    f.net.advance(10);
    let records = f.records(T0, 3);
    let bytes = encode_batch(&records);
    let digest = usage_common::payload::UsageBatchDigest {
        root: HexBinary::from(
            usage_common::merkle::root(
                &records
                    .iter()
                    .map(|r| usage_common::merkle::leaf_hash(&r.to_bytes()))
                    .collect::<Vec<_>>(),
            )
            .expect("root"),
        ),
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
    log(&format!("refused as expected (2 of 4 signers): {err}"));
    summary.refusals.push(err);
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
    summary.submit_batch_gas = f.net.last_gas_used;
    log(&format!(
        "C1 SubmitBatch: 3 first proofs recorded ({} CosmWasm gas, BLS 3-of-4 verified in the VM)",
        f.net.last_gas_used
    ));
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
    log("C4 Deposit: CAMT054-0001 credits 100000 to the tenant");
    let err = f
        .net
        .execute(&c4, &admin, &deposit)
        .expect_err("replayed deposit");
    log(&format!("refused as expected (same voucher again): {err}"));
    summary.refusals.push(err);

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
    summary.period_records = pp.totals.records;
    log(&format!(
        "C2 ProvePeriod: second proof over {} first proofs, root {}, {} bytes sent",
        pp.totals.records, pp.root, pp.totals.net_tx_bytes
    ));

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
    log(&format!(
        "C3 RequestSettlement: {} {} locked, instruction {}",
        approval.amount, approval.currency, approval.end_to_end_id
    ));
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
    log("C3 RecordVoucher: bank booking BOOK-S-1 verified, settlement cleared");

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
    log("C5: withdrawal of 40000 requested, approved by the committee, paid (BOOK-W-1)");

    let acct: ledger::AccountResponse = f
        .net
        .query(
            &c4,
            &ledger::QueryMsg::Account {
                address: f.tenant.to_string(),
            },
        )
        .expect("account");
    summary.tenant_available = acct.available;
    summary.tenant_locked = acct.locked;
    let supply: ledger::TotalSupplyResponse = f
        .net
        .query(&c4, &ledger::QueryMsg::TotalSupply {})
        .expect("supply");
    summary.settled = supply.settled;
    summary.withdrawn = supply.withdrawn;
    summary.supply_total = supply.total;
    summary.supply_deposited = supply.deposited;
    log(&format!(
        "C4 ledger: tenant available {} locked {}; supply {} = deposited {} - settled {} - withdrawn {}",
        acct.available, acct.locked, supply.total, supply.deposited, supply.settled, supply.withdrawn
    ));

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
    summary.committee_epoch = c.committee.epoch;
    log(&format!(
        "C1 RotateCommittee: epoch {} with {} members, threshold {}",
        c.committee.epoch,
        c.committee.members.len(),
        c.committee.threshold
    ));
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
    log(&format!(
        "refused as expected (old committee after rotation): {err}"
    ));
    summary.refusals.push(err);
    summary
}
