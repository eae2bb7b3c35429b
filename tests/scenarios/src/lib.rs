//! A cw-multi-test suite with all five contracts, a 4-member committee (threshold 3) signing with
//! real BLS12-381 keys, and typed action helpers: each returns the called contract's own
//! `ContractError`, so scenarios assert `Err(ContractError::X { .. })`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed unwrap is a failed test

use cosmwasm_std::{Addr, Binary, HexBinary, StdResult, Timestamp, Uint128};
use cw_multi_test::{App, AppBuilder, AppResponse, Executor, MockApiBech32};
use serde::{de::DeserializeOwned, Serialize};
use usage_common::merkle;
use usage_common::msg::{ledger as c4, period_proof as c2, settlement as c3, usage_proof as c1};
use usage_common::msg::{withdrawal as c5, MigrateMsg};
use usage_common::payload::{
    DepositVoucher, DisputeOutcome, DisputeResolution, SignedPayload, UsageBatchDigest,
};
use usage_common::record::{encode_batch, Metric, Metrics, UsageRecord};
use usage_common::ThresholdSignature;
use usage_contract_testing::{capturing_entry_points, typed};
use usage_signer::SigningCommittee;

pub use ledger::ContractError as LedgerError;
pub use period_proof::ContractError as PeriodProofError;
pub use settlement::ContractError as SettlementError;
pub use usage_proof::ContractError as UsageProofError;
pub use withdrawal::ContractError as WithdrawalError;

pub type TestApp = App<cw_multi_test::BankKeeper, MockApiBech32>;

pub const CHAIN_ID: &str = "usagechain-test-1";
/// Start time of every suite: a multiple of the window and the period.
pub const T0: u64 = 1_700_000_040;
pub const WINDOW: u64 = 10;
pub const PERIOD: u64 = 60;
pub const GRACE: u64 = 30;
pub const DISPUTE_WINDOW: u64 = 120;
/// Seconds the committee has to resolve a dispute.
pub const RESOLUTION_WINDOW: u64 = 300;
/// What a tenant locks to dispute a period.
pub const DISPUTE_BOND: u128 = 100;
pub const CURRENCY: &str = "CNY";
pub const MEASUREMENT: [u8; 32] = [0x5a; 32];
/// Price: 5 minor units per 1,000 bytes sent, 1 per second of CPU.
pub const TX_PRICE: (u128, u128) = (5, 1_000);
pub const CPU_PRICE: (u128, u128) = (1, 1_000_000);
pub const MINIMUM: u128 = 10;
pub const PER_REQUEST_LIMIT: u128 = 50_000;
pub const ROLLING_LIMIT: u128 = 80_000;
pub const DELAY: u64 = 3_600;

capturing_entry_points!(
    c1_entry,
    usage_proof::contract,
    usage_common::msg::usage_proof
);
capturing_entry_points!(
    c2_entry,
    period_proof::contract,
    usage_common::msg::period_proof
);
capturing_entry_points!(
    c3_entry,
    settlement::contract,
    usage_common::msg::settlement
);
capturing_entry_points!(c4_entry, ledger::contract, usage_common::msg::ledger);
capturing_entry_points!(
    c5_entry,
    withdrawal::contract,
    usage_common::msg::withdrawal
);

pub struct Suite {
    pub app: TestApp,
    pub committee: SigningCommittee,
    pub admin: Addr,
    pub provider: Addr,
    pub tenant: Addr,
    pub c1: Addr,
    pub c2: Addr,
    pub c3: Addr,
    pub c4: Addr,
    pub c5: Addr,
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

impl Suite {
    /// All five contracts wired together, the committee of epoch 1, block time `T0`.
    pub fn new() -> Self {
        let mut app = AppBuilder::new()
            .with_api(MockApiBech32::new("usage"))
            .build(|_, _, _| {});
        app.update_block(|b| {
            b.chain_id = CHAIN_ID.to_string();
            b.time = Timestamp::from_seconds(T0);
        });
        let admin = app.api().addr_make("admin");
        let committee = SigningCommittee::deterministic("suite", 1, 4, 3);

        let c1_code = app.store_code(c1_entry::contract());
        let c2_code = app.store_code(c2_entry::contract());
        let c3_code = app.store_code(c3_entry::contract());
        let c4_code = app.store_code(c4_entry::contract());
        let c5_code = app.store_code(c5_entry::contract());

        let c1 = app
            .instantiate_contract(
                c1_code,
                admin.clone(),
                &c1::InstantiateMsg {
                    admin: None,
                    threshold: 3,
                    members: committee.member_keys(),
                    window_seconds: WINDOW,
                    period_seconds: PERIOD,
                    grace_seconds: GRACE,
                    accept_software_tee: false,
                    allowed_measurements: vec![HexBinary::from(MEASUREMENT)],
                    period_proof: None,
                },
                &[],
                "usage-proof",
                Some(admin.to_string()),
            )
            .expect("instantiate C1");
        let c2 = app
            .instantiate_contract(
                c2_code,
                admin.clone(),
                &c2::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    grace_seconds: GRACE,
                    dispute_window_seconds: DISPUTE_WINDOW,
                    resolution_window_seconds: RESOLUTION_WINDOW,
                    dispute_bond: Uint128::new(DISPUTE_BOND),
                    settlement: None,
                },
                &[],
                "period-proof",
                Some(admin.to_string()),
            )
            .expect("instantiate C2");
        let c4 = app
            .instantiate_contract(
                c4_code,
                admin.clone(),
                &c4::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    currency: CURRENCY.into(),
                    decimals: 2,
                    settlement: None,
                    withdrawal: None,
                },
                &[],
                "ledger",
                Some(admin.to_string()),
            )
            .expect("instantiate C4");
        let c3 = app
            .instantiate_contract(
                c3_code,
                admin.clone(),
                &c3::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    period_proof: c2.to_string(),
                    ledger: c4.to_string(),
                    tariff: default_tariff(),
                },
                &[],
                "settlement",
                Some(admin.to_string()),
            )
            .expect("instantiate C3");
        let c5 = app
            .instantiate_contract(
                c5_code,
                admin.clone(),
                &c5::InstantiateMsg {
                    admin: None,
                    usage_proof: c1.to_string(),
                    ledger: c4.to_string(),
                    currency: CURRENCY.into(),
                    limits: c5::Limits {
                        per_request: Uint128::new(PER_REQUEST_LIMIT),
                        rolling: Uint128::new(ROLLING_LIMIT),
                        window_seconds: 86_400,
                        delay_seconds: DELAY,
                    },
                },
                &[],
                "withdrawal",
                Some(admin.to_string()),
            )
            .expect("instantiate C5");
        app.execute_contract(
            admin.clone(),
            c4.clone(),
            &c4::ExecuteMsg::UpdateConfig {
                settlement: Some(c3.to_string()),
                withdrawal: Some(c5.to_string()),
            },
            &[],
        )
        .expect("wire C4");
        app.execute_contract(
            admin.clone(),
            c2.clone(),
            &c2::ExecuteMsg::UpdateConfig {
                settlement: c3.to_string(),
            },
            &[],
        )
        .expect("wire C2 to C3");
        app.execute_contract(
            admin.clone(),
            c1.clone(),
            &c1::ExecuteMsg::UpdateConfig {
                accept_software_tee: None,
                period_proof: Some(c2.to_string()),
            },
            &[],
        )
        .expect("wire C1 to C2");

        let provider = app.api().addr_make("provider");
        let tenant = app.api().addr_make("tenant");
        Suite {
            app,
            committee,
            admin,
            provider,
            tenant,
            c1,
            c2,
            c3,
            c4,
            c5,
        }
    }

    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    /// Moves block time forward (and the height by one).
    pub fn advance(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += 1;
            b.time = b.time.plus_seconds(seconds);
        });
    }

    /// A quorum signature (members 0..3) of the current committee for `contract`.
    pub fn sign<P: SignedPayload>(&self, contract: &Addr, payload: &P) -> ThresholdSignature {
        self.committee
            .sign_quorum(CHAIN_ID, contract.as_str(), payload)
    }

    #[track_caller]
    pub fn query<Q: Serialize, R: DeserializeOwned>(&self, contract: &Addr, msg: &Q) -> R {
        self.app
            .wrap()
            .query_wasm_smart(contract, msg)
            .expect("query")
    }

    // ---- C1 ----

    #[track_caller]
    pub fn exec_c1(
        &mut self,
        sender: &Addr,
        msg: &c1::ExecuteMsg,
    ) -> Result<AppResponse, UsageProofError> {
        let c1 = self.c1.clone();
        typed(|| self.app.execute_contract(sender.clone(), c1, msg, &[]))
    }

    /// Registers a terminal of the suite's provider and lets the suite's tenant lease it from the
    /// start of time, open-ended and uncapped.
    pub fn register_terminal(&mut self, terminal_id: &str) -> Result<AppResponse, UsageProofError> {
        let resp = self.register_terminal_without_lease(terminal_id)?;
        let tenant = self.tenant.clone();
        self.open_lease(&tenant, terminal_id, 0, None, None)?;
        Ok(resp)
    }

    /// Registers a terminal of the suite's provider; nobody leases it.
    pub fn register_terminal_without_lease(
        &mut self,
        terminal_id: &str,
    ) -> Result<AppResponse, UsageProofError> {
        let msg = c1::ExecuteMsg::RegisterTerminal {
            terminal_id: terminal_id.to_string(),
            provider: self.provider.to_string(),
            attestor_key: HexBinary::from(merkle::sha256(terminal_id.as_bytes())),
            tee: c1::TeeKind::Sgx,
            measurement: HexBinary::from(MEASUREMENT),
            shared_attestor: false,
        };
        let admin = self.admin.clone();
        self.exec_c1(&admin, &msg)
    }

    /// `tenant` leases `terminal` (of the suite's provider) over `[start, end)`.
    pub fn open_lease(
        &mut self,
        tenant: &Addr,
        terminal: &str,
        start: u64,
        end: Option<u64>,
        price_cap: Option<u128>,
    ) -> Result<AppResponse, UsageProofError> {
        let msg = c1::ExecuteMsg::OpenLease {
            terminal_id: terminal.to_string(),
            provider: self.provider.to_string(),
            start,
            end,
            price_cap: price_cap.map(Uint128::new),
        };
        self.exec_c1(tenant, &msg)
    }

    /// Registers `term-000` … and returns their ids.
    #[track_caller]
    pub fn register_terminals(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let id = format!("term-{i:03}");
                self.register_terminal(&id).expect("register terminal");
                id
            })
            .collect()
    }

    /// One record of `terminal` in `window` for the suite's tenant.
    pub fn record(&self, terminal: &str, window: u64, tx_bytes: u64) -> UsageRecord {
        UsageRecord {
            terminal_id: terminal.to_string(),
            window_start: window,
            tenant: self.tenant.to_string(),
            metrics: Metrics {
                net_rx_bytes: tx_bytes / 2,
                net_tx_bytes: tx_bytes,
                cpu_time_us: 2_000_000,
                memory_mib_s: 512 * WINDOW,
                link_rtt_us: 900,
                app_up_s: WINDOW,
                ..Default::default()
            },
        }
    }

    #[track_caller]
    pub fn digest(records: &[UsageRecord]) -> UsageBatchDigest {
        UsageBatchDigest::of(records).expect("a batch")
    }

    pub fn submit_signed(
        &mut self,
        records: &[UsageRecord],
        signature: ThresholdSignature,
    ) -> Result<AppResponse, UsageProofError> {
        let msg = c1::ExecuteMsg::SubmitBatch {
            records: Binary::from(encode_batch(records)),
            signature,
        };
        let admin = self.admin.clone();
        self.exec_c1(&admin, &msg)
    }

    /// Submits records signed by a quorum of the current committee.
    pub fn submit(&mut self, records: &[UsageRecord]) -> Result<AppResponse, UsageProofError> {
        let sig = self.sign(&self.c1.clone(), &Self::digest(records));
        self.submit_signed(records, sig)
    }

    #[track_caller]
    pub fn proof(&self, terminal: &str, window: u64) -> Option<c1::FirstProof> {
        let r: c1::ProofResponse = self.query(
            &self.c1,
            &c1::QueryMsg::Proof {
                terminal_id: terminal.into(),
                window_start: window,
            },
        );
        r.proof
    }

    // ---- C2 ----

    #[track_caller]
    pub fn exec_c2(
        &mut self,
        sender: &Addr,
        msg: &c2::ExecuteMsg,
    ) -> Result<AppResponse, PeriodProofError> {
        let c2 = self.c2.clone();
        typed(|| self.app.execute_contract(sender.clone(), c2, msg, &[]))
    }

    pub fn prove_period(&mut self, period_start: u64) -> Result<AppResponse, PeriodProofError> {
        let msg = c2::ExecuteMsg::ProvePeriod {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
        };
        let admin = self.admin.clone();
        self.exec_c2(&admin, &msg)
    }

    #[track_caller]
    pub fn period_proof(&self, period_start: u64) -> Option<c2::PeriodProof> {
        let r: c2::PeriodProofResponse = self.query(
            &self.c2,
            &c2::QueryMsg::PeriodProof {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
            },
        );
        r.proof
    }

    /// The suite's tenant disputes a period.
    pub fn open_dispute(&mut self, period_start: u64) -> Result<AppResponse, PeriodProofError> {
        let msg = c2::ExecuteMsg::OpenDispute {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
            reason: "usage I did not have".into(),
        };
        let tenant = self.tenant.clone();
        self.exec_c2(&tenant, &msg)
    }

    /// A quorum-signed resolution of the open dispute of `period_start` (bound to `opened_at`).
    pub fn resolve_dispute(
        &mut self,
        period_start: u64,
        opened_at: u64,
        outcome: DisputeOutcome,
    ) -> Result<AppResponse, PeriodProofError> {
        let resolution = DisputeResolution {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
            opened_at,
            outcome,
        };
        let signature = self.sign(&self.c2.clone(), &resolution);
        let relayer = self.addr("relayer");
        self.exec_c2(
            &relayer,
            &c2::ExecuteMsg::ResolveDispute {
                resolution,
                signature,
            },
        )
    }

    /// The suite's (provider, tenant) accumulator of a period in C1.
    #[track_caller]
    pub fn accumulator(&self, period_start: u64) -> c1::AccumulatorResponse {
        self.query(
            &self.c1,
            &c1::QueryMsg::Accumulator {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
            },
        )
    }

    /// Whether C1's inclusion proof of (terminal, window) verifies against C2's sealed period.
    #[track_caller]
    pub fn included_in_second_proof(&self, terminal: &str, window: u64) -> bool {
        let p: c1::InclusionProofResponse = self.query(
            &self.c1,
            &c1::QueryMsg::InclusionProof {
                terminal_id: terminal.into(),
                window_start: window,
            },
        );
        let v: c2::VerifyInclusionResponse = self.query(
            &self.c2,
            &c2::QueryMsg::VerifyInclusion {
                provider: p.provider.to_string(),
                tenant: p.tenant,
                period_start: p.period_start,
                leaf_index: p.leaf_index,
                leaf: p.leaf,
                path: p.path,
            },
        );
        v.included
    }

    // ---- C3 ----

    #[track_caller]
    pub fn exec_c3(
        &mut self,
        sender: &Addr,
        msg: &c3::ExecuteMsg,
    ) -> Result<AppResponse, SettlementError> {
        let c3 = self.c3.clone();
        typed(|| self.app.execute_contract(sender.clone(), c3, msg, &[]))
    }

    #[track_caller]
    pub fn set_payee(&mut self) {
        let provider = self.provider.clone();
        self.exec_c3(
            &provider,
            &c3::ExecuteMsg::SetPayeeAccount {
                account: "CN11PROVIDER0001".into(),
            },
        )
        .expect("payee account");
    }

    pub fn request_settlement(
        &mut self,
        period_start: u64,
    ) -> Result<AppResponse, SettlementError> {
        let msg = c3::ExecuteMsg::RequestSettlement {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
        };
        let admin = self.admin.clone();
        self.exec_c3(&admin, &msg)
    }

    #[track_caller]
    pub fn settlement(&self, id: u64) -> Option<c3::Settlement> {
        let r: c3::SettlementResponse =
            self.query(&self.c3, &c3::QueryMsg::Settlement { settlement_id: id });
        r.settlement
    }

    // ---- C4 ----

    #[track_caller]
    pub fn exec_c4(
        &mut self,
        sender: &Addr,
        msg: &c4::ExecuteMsg,
    ) -> Result<AppResponse, LedgerError> {
        let c4 = self.c4.clone();
        typed(|| self.app.execute_contract(sender.clone(), c4, msg, &[]))
    }

    pub fn deposit_voucher(&self, bank_ref: &str, to: &Addr, amount: u128) -> DepositVoucher {
        DepositVoucher {
            bank_ref: bank_ref.into(),
            beneficiary: to.to_string(),
            amount: Uint128::new(amount),
            currency: CURRENCY.into(),
        }
    }

    pub fn submit_deposit(
        &mut self,
        voucher: DepositVoucher,
        signature: ThresholdSignature,
    ) -> Result<AppResponse, LedgerError> {
        let admin = self.admin.clone();
        self.exec_c4(&admin, &c4::ExecuteMsg::Deposit { voucher, signature })
    }

    /// Credits `amount` to `to` with a correctly signed voucher.
    pub fn deposit(
        &mut self,
        bank_ref: &str,
        to: &Addr,
        amount: u128,
    ) -> Result<AppResponse, LedgerError> {
        let v = self.deposit_voucher(bank_ref, to, amount);
        let sig = self.sign(&self.c4.clone(), &v);
        self.submit_deposit(v, sig)
    }

    #[track_caller]
    pub fn account(&self, who: &Addr) -> c4::AccountResponse {
        self.query(
            &self.c4,
            &c4::QueryMsg::Account {
                address: who.to_string(),
            },
        )
    }

    #[track_caller]
    pub fn supply(&self) -> c4::TotalSupplyResponse {
        self.query(&self.c4, &c4::QueryMsg::TotalSupply {})
    }

    // ---- C5 ----

    #[track_caller]
    pub fn exec_c5(
        &mut self,
        sender: &Addr,
        msg: &c5::ExecuteMsg,
    ) -> Result<AppResponse, WithdrawalError> {
        let c5 = self.c5.clone();
        typed(|| self.app.execute_contract(sender.clone(), c5, msg, &[]))
    }

    pub fn request_withdrawal(
        &mut self,
        owner: &Addr,
        amount: u128,
    ) -> Result<AppResponse, WithdrawalError> {
        self.exec_c5(
            owner,
            &c5::ExecuteMsg::RequestWithdrawal {
                amount: Uint128::new(amount),
                beneficiary: "CN22TENANT00001".into(),
            },
        )
    }

    #[track_caller]
    pub fn withdrawal(&self, id: u64) -> Option<c5::Withdrawal> {
        let r: c5::WithdrawalResponse =
            self.query(&self.c5, &c5::QueryMsg::Withdrawal { withdrawal_id: id });
        r.withdrawal
    }

    /// Migrates a contract to the code it already runs (a version bump in place).
    pub fn migrate_in_place(&mut self, contract: &Addr) -> StdResult<AppResponse> {
        let code_id = self.app.wrap().query_wasm_contract_info(contract)?.code_id;
        self.app.migrate_contract(
            self.admin.clone(),
            contract.clone(),
            &MigrateMsg {},
            code_id,
        )
    }
}

/// The suite's tariff: bytes sent and CPU time.
pub fn default_tariff() -> c3::Tariff {
    c3::Tariff {
        currency: CURRENCY.into(),
        lines: vec![
            c3::TariffLine {
                metric: Metric::NetTxBytes,
                price: Uint128::new(TX_PRICE.0),
                per_units: Uint128::new(TX_PRICE.1),
            },
            c3::TariffLine {
                metric: Metric::CpuTimeUs,
                price: Uint128::new(CPU_PRICE.0),
                per_units: Uint128::new(CPU_PRICE.1),
            },
        ],
        minimum_amount: Uint128::new(MINIMUM),
    }
}
