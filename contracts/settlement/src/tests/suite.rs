//! The C3 test suite: a cw-multi-test app with the C1 stand-in, the real C2 period-proof and C4
//! ledger contracts, C3, and a real BLS committee (4 members, threshold 3). Action helpers return
//! C3's own `ContractError`; an error raised by another contract comes back as
//! `ContractError::Std` with its message.

use cosmwasm_std::{Addr, Empty, StdResult, Timestamp, Uint128};
use cw_multi_test::{App, AppResponse, Contract, ContractWrapper, Executor};
use usage_common::governance::DEFAULT_TIMELOCK_SECONDS;
use usage_common::msg::ledger::{
    AccountResponse, ExecuteMsg as LedgerExecute, InstantiateMsg as LedgerInstantiate,
    QueryMsg as LedgerQuery, TotalSupplyResponse,
};
use usage_common::msg::period_proof::{
    ExecuteMsg as PeriodProofExecute, InstantiateMsg as PeriodProofInstantiate, PeriodProof,
    PeriodProofResponse, PeriodStatus, QueryMsg as PeriodProofQuery,
};
use usage_common::msg::settlement::{
    ConfigResponse, Escrow, EscrowResponse, ExecuteMsg, InstantiateMsg, PayeeAccountResponse,
    QueryMsg, QuoteResponse, Settlement, SettlementResponse, SettlementsResponse, Tariff,
    TariffLine,
};
use usage_common::msg::MigrateMsg;
use usage_common::payload::{
    BankOutcome, DepositVoucher, DisputeOutcome, DisputeResolution, SettlementApproval,
    SettlementVoucher,
};
use usage_common::record::{Metric, Metrics, Totals, UsageRecord};
use usage_common::{Committee, ThresholdSignature};
use usage_contract_testing::mock_usage_proof::{self, MockExecuteMsg, MockInstantiateMsg};
use usage_contract_testing::{capturing_entry_points, typed_or};
use usage_signer::SigningCommittee;

use crate::ContractError;

pub const WINDOW: u64 = 10;
pub const PERIOD: u64 = 60;
pub const GRACE: u64 = 30;
pub const DISPUTE_WINDOW: u64 = 300;
/// Seconds the committee has to resolve a dispute.
pub const RESOLUTION_WINDOW: u64 = 600;
/// A period start (a multiple of `PERIOD`); the suite starts inside this period.
pub const P0: u64 = 1_700_000_040;
pub const CURRENCY: &str = "CNY";
pub const PAYEE_ACCOUNT: &str = "CN0012345678901234";
/// Price of the three records `final_period(P0, 3)` records, under `default_tariff()`:
/// rx 6000/100 = 60, tx 3×12021/1000 = 36.063 -> 36, cpu 7×90006/1000 = 630.042 -> 630,
/// memory 15360/64 = 240.
pub const PRICE_OF_3: u128 = 966;

capturing_entry_points!(entry, crate::contract, usage_common::msg::settlement);

/// C2 and C4 as they are: their refusals reach C3's helpers as `ContractError::Std`.
fn period_proof_contract() -> Box<dyn Contract<Empty>> {
    use period_proof::contract as c2;
    Box::new(ContractWrapper::new(
        c2::execute,
        c2::instantiate,
        c2::query,
    ))
}

fn ledger_contract() -> Box<dyn Contract<Empty>> {
    use ledger::contract as c4;
    Box::new(ContractWrapper::new(
        c4::execute,
        c4::instantiate,
        c4::query,
    ))
}

pub fn line(metric: Metric, price: u128, per_units: u128) -> TariffLine {
    TariffLine {
        metric,
        price: Uint128::new(price),
        per_units: Uint128::new(per_units),
    }
}

pub fn tariff(lines: Vec<TariffLine>, minimum: u128) -> Tariff {
    Tariff {
        currency: CURRENCY.into(),
        lines,
        minimum_amount: Uint128::new(minimum),
    }
}

pub fn default_tariff() -> Tariff {
    tariff(
        vec![
            line(Metric::NetRxBytes, 1, 100),
            line(Metric::NetTxBytes, 3, 1_000),
            line(Metric::CpuTimeUs, 7, 1_000),
            line(Metric::MemoryMibS, 1, 64),
        ],
        100,
    )
}

/// Some usage, different per `seed`.
pub fn metrics(seed: u64) -> Metrics {
    Metrics {
        net_rx_bytes: 1_000 * seed,
        net_tx_bytes: 2_000 * seed + 7,
        cpu_time_us: 30_000 + seed,
        memory_mib_s: 512 * WINDOW,
        app_up_s: WINDOW,
        ..Default::default()
    }
}

pub struct SuiteBuilder {
    tariff: Tariff,
    payee_account: bool,
    bond: u128,
}

impl SuiteBuilder {
    pub fn new() -> Self {
        SuiteBuilder {
            tariff: default_tariff(),
            payee_account: true,
            bond: 0,
        }
    }

    /// Disputes lock this bond.
    pub fn bond(mut self, bond: u128) -> Self {
        self.bond = bond;
        self
    }

    pub fn tariff(mut self, tariff: Tariff) -> Self {
        self.tariff = tariff;
        self
    }

    pub fn minimum(mut self, minimum: u128) -> Self {
        self.tariff.minimum_amount = Uint128::new(minimum);
        self
    }

    pub fn without_payee_account(mut self) -> Self {
        self.payee_account = false;
        self
    }

    #[track_caller]
    pub fn build(self) -> Suite {
        let mut app = App::default();
        app.update_block(|b| b.time = Timestamp::from_seconds(P0 + 5));
        let admin = app.api().addr_make("admin");
        let provider = app.api().addr_make("provider");
        let tenant = app.api().addr_make("tenant");
        let committee = SigningCommittee::deterministic("settlement", 1, 4, 3);

        let c1_code = app.store_code(mock_usage_proof::contract());
        let usage_proof = app
            .instantiate_contract(
                c1_code,
                admin.clone(),
                &MockInstantiateMsg {
                    committee: committee.committee(),
                    window_seconds: WINDOW,
                    period_seconds: PERIOD,
                    grace_seconds: GRACE,
                },
                &[],
                "usage-proof",
                None,
            )
            .expect("instantiate c1 stand-in");
        let c2_code = app.store_code(period_proof_contract());
        let period_proof = app
            .instantiate_contract(
                c2_code,
                admin.clone(),
                &PeriodProofInstantiate {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    grace_seconds: GRACE,
                    dispute_window_seconds: DISPUTE_WINDOW,
                    resolution_window_seconds: RESOLUTION_WINDOW,
                    dispute_bond: Uint128::new(self.bond),
                    settlement: None,
                },
                &[],
                "period-proof",
                None,
            )
            .expect("instantiate period-proof");
        let c4_code = app.store_code(ledger_contract());
        let ledger = app
            .instantiate_contract(
                c4_code,
                admin.clone(),
                &LedgerInstantiate {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    currency: CURRENCY.into(),
                    decimals: 2,
                    settlement: None,
                    withdrawal: None,
                },
                &[],
                "ledger",
                None,
            )
            .expect("instantiate ledger");
        let code_id = app.store_code(entry::contract());
        let settlement = app
            .instantiate_contract(
                code_id,
                admin.clone(),
                &InstantiateMsg {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    period_proof: period_proof.to_string(),
                    ledger: ledger.to_string(),
                    tariff: self.tariff,
                },
                &[],
                "settlement",
                Some(admin.to_string()),
            )
            .expect("instantiate settlement");
        app.execute_contract(
            admin.clone(),
            ledger.clone(),
            &LedgerExecute::UpdateConfig {
                settlement: Some(settlement.to_string()),
                withdrawal: None,
            },
            &[],
        )
        .expect("allow settlement to move funds");
        app.execute_contract(
            admin.clone(),
            period_proof.clone(),
            &PeriodProofExecute::UpdateConfig {
                settlement: settlement.to_string(),
            },
            &[],
        )
        .expect("let settlement escrow for period-proof");

        let mut suite = Suite {
            app,
            committee,
            usage_proof,
            period_proof,
            ledger,
            settlement,
            code_id,
            admin,
            provider,
            tenant,
            deposits: 0,
        };
        if self.payee_account {
            let provider = suite.provider.clone();
            suite
                .set_payee_account(&provider, PAYEE_ACCOUNT)
                .expect("payee account");
        }
        suite
    }
}

pub struct Suite {
    pub app: App,
    pub committee: SigningCommittee,
    pub usage_proof: Addr,
    pub period_proof: Addr,
    pub ledger: Addr,
    pub settlement: Addr,
    pub code_id: u64,
    pub admin: Addr,
    pub provider: Addr,
    pub tenant: Addr,
    deposits: u64,
}

/// What a refused message must leave untouched.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub settlements: Vec<Settlement>,
    pub tenant: AccountResponse,
    pub supply: TotalSupplyResponse,
    pub config: ConfigResponse,
}

impl Suite {
    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    pub fn set_time(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += 1;
            b.time = Timestamp::from_seconds(seconds);
        });
    }

    pub fn chain_id(&self) -> String {
        self.app.block_info().chain_id
    }

    /// The end-to-end id this deployment gives settlement `id`'s bank instruction.
    pub fn end_to_end_id(&self, id: u64) -> String {
        usage_common::payload::settlement_end_to_end_id(
            &self.chain_id(),
            self.settlement.as_str(),
            id,
        )
    }

    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    // ---- C1, C2 and C4 set-up ----

    /// Records `n` first proofs of the suite's (provider, tenant) in a period (one per window).
    #[track_caller]
    pub fn record_period(&mut self, period_start: u64, n: u64) -> Totals {
        let mut totals = Totals::default();
        for i in 0..n {
            let record = UsageRecord {
                terminal_id: format!("terminal-{i}"),
                window_start: period_start + (i % (PERIOD / WINDOW)) * WINDOW,
                tenant: self.tenant.to_string(),
                metrics: metrics(i + 1),
            };
            totals = totals
                .checked_add(&Totals::of(&record.metrics))
                .expect("totals");
            self.app
                .execute_contract(
                    self.admin.clone(),
                    self.usage_proof.clone(),
                    &MockExecuteMsg::Record {
                        provider: self.provider.to_string(),
                        record,
                    },
                    &[],
                )
                .expect("record in c1 stand-in");
        }
        totals
    }

    /// Seals a period in C2 (time must be past its close and grace).
    #[track_caller]
    pub fn prove(&mut self, period_start: u64) {
        let anyone = self.addr("anyone");
        self.app
            .execute_contract(
                anyone,
                self.period_proof.clone(),
                &PeriodProofExecute::ProvePeriod {
                    provider: self.provider.to_string(),
                    tenant: self.tenant.to_string(),
                    period_start,
                },
                &[],
            )
            .expect("prove period");
    }

    /// A period with `n` first proofs, proven at its close + grace; time is left just after the
    /// proof, inside the dispute window. Returns its totals.
    #[track_caller]
    pub fn proven_period(&mut self, period_start: u64, n: u64) -> Totals {
        let totals = self.record_period(period_start, n);
        self.set_time(period_start + PERIOD + GRACE);
        self.prove(period_start);
        totals
    }

    /// A proven period whose dispute window has passed. Returns its totals.
    #[track_caller]
    pub fn final_period(&mut self, period_start: u64, n: u64) -> Totals {
        let totals = self.proven_period(period_start, n);
        self.set_time(period_start + PERIOD + GRACE + DISPUTE_WINDOW + 1);
        totals
    }

    /// The tenant disputes a period in C2.
    #[track_caller]
    pub fn dispute(&mut self, period_start: u64) {
        self.try_dispute(period_start).expect("open dispute");
    }

    /// The tenant tries to dispute a period in C2.
    pub fn try_dispute(&mut self, period_start: u64) -> StdResult<AppResponse> {
        self.app.execute_contract(
            self.tenant.clone(),
            self.period_proof.clone(),
            &PeriodProofExecute::OpenDispute {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
                reason: "double-counted egress".into(),
            },
            &[],
        )
    }

    /// The second proof of a period in C2.
    #[track_caller]
    pub fn period_proof(&self, period_start: u64) -> PeriodProof {
        let resp: PeriodProofResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.period_proof,
                &PeriodProofQuery::PeriodProof {
                    provider: self.provider.to_string(),
                    tenant: self.tenant.to_string(),
                    period_start,
                },
            )
            .expect("period proof query");
        resp.proof.expect("period is proven")
    }

    /// What C3 holds escrowed for a period.
    #[track_caller]
    pub fn escrow(&self, period_start: u64) -> Escrow {
        let resp: EscrowResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.settlement,
                &QueryMsg::Escrow {
                    provider: self.provider.to_string(),
                    tenant: self.tenant.to_string(),
                    period_start,
                },
            )
            .expect("escrow query");
        resp.escrow
    }

    /// The committee resolves a dispute in C2.
    #[track_caller]
    pub fn resolve(&mut self, period_start: u64, outcome: DisputeOutcome) {
        let opened_at = match self.period_proof(period_start).status {
            PeriodStatus::Disputed { opened_at, .. } => opened_at,
            other => panic!("period is not disputed: {other:?}"),
        };
        let resolution = DisputeResolution {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
            opened_at,
            outcome,
        };
        let signature =
            self.committee
                .sign_quorum(&self.chain_id(), self.period_proof.as_str(), &resolution);
        let relayer = self.addr("relayer");
        self.app
            .execute_contract(
                relayer,
                self.period_proof.clone(),
                &PeriodProofExecute::ResolveDispute {
                    resolution,
                    signature,
                },
                &[],
            )
            .expect("resolve dispute");
    }

    /// A committee-signed bank credit of `amount` to `owner` in C4.
    #[track_caller]
    pub fn deposit(&mut self, owner: &Addr, amount: u128) {
        self.deposits += 1;
        let voucher = DepositVoucher {
            bank_ref: format!("CAMT-{}", self.deposits),
            beneficiary: owner.to_string(),
            amount: Uint128::new(amount),
            currency: CURRENCY.into(),
        };
        let signature =
            self.committee
                .sign_quorum(&self.chain_id(), self.ledger.as_str(), &voucher);
        let relayer = self.addr("relayer");
        self.app
            .execute_contract(
                relayer,
                self.ledger.clone(),
                &LedgerExecute::Deposit { voucher, signature },
                &[],
            )
            .expect("deposit");
    }

    /// Installs another committee in C1 (as a signed rotation would).
    #[track_caller]
    pub fn rotate_committee(&mut self, next: &SigningCommittee) {
        let committee: Committee = next.committee();
        self.app
            .execute_contract(
                self.admin.clone(),
                self.usage_proof.clone(),
                &MockExecuteMsg::SetCommittee { committee },
                &[],
            )
            .expect("rotate committee");
        self.committee = next.clone();
    }

    // ---- C3 actions ----

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        typed_or(
            || {
                self.app
                    .execute_contract(sender.clone(), self.settlement.clone(), &msg, &[])
            },
            ContractError::from,
        )
    }

    pub fn set_payee_account(
        &mut self,
        sender: &Addr,
        account: &str,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            ExecuteMsg::SetPayeeAccount {
                account: account.to_string(),
            },
        )
    }

    /// `RequestSettlement` of the suite's (provider, tenant), sent by a third party.
    pub fn request(&mut self, period_start: u64) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("anyone");
        self.execute(
            &anyone,
            ExecuteMsg::RequestSettlement {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
            },
        )
    }

    /// A quorum signature over `payload` for this chain and C3.
    pub fn sign<P: usage_common::SignedPayload>(&self, payload: &P) -> ThresholdSignature {
        self.committee
            .sign_quorum(&self.chain_id(), self.settlement.as_str(), payload)
    }

    pub fn approve_with(
        &mut self,
        settlement_id: u64,
        signature: ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let relayer = self.addr("relayer");
        self.execute(
            &relayer,
            ExecuteMsg::ApproveInstruction {
                settlement_id,
                signature,
            },
        )
    }

    /// The committee signs the instruction payload C3 publishes, and the relayer records it.
    pub fn approve(&mut self, settlement_id: u64) -> Result<AppResponse, ContractError> {
        let payload = self.instruction_payload(settlement_id)?;
        let signature = self.sign(&payload);
        self.approve_with(settlement_id, signature)
    }

    /// The bank's booking of a settlement as the relayer would report it.
    #[track_caller]
    pub fn voucher(
        &self,
        settlement_id: u64,
        outcome: BankOutcome,
        bank_ref: &str,
    ) -> SettlementVoucher {
        let s = self.settlement(settlement_id).expect("settlement");
        SettlementVoucher {
            settlement_id,
            end_to_end_id: s.end_to_end_id,
            bank_ref: bank_ref.to_string(),
            outcome,
            amount: s.amount,
        }
    }

    pub fn record_voucher_with(
        &mut self,
        voucher: SettlementVoucher,
        signature: ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let relayer = self.addr("relayer");
        self.execute(&relayer, ExecuteMsg::RecordVoucher { voucher, signature })
    }

    /// Records a quorum-signed voucher.
    pub fn record_voucher(
        &mut self,
        voucher: SettlementVoucher,
    ) -> Result<AppResponse, ContractError> {
        let signature = self.sign(&voucher);
        self.record_voucher_with(voucher, signature)
    }

    pub fn update_tariff(
        &mut self,
        sender: &Addr,
        tariff: Tariff,
    ) -> Result<AppResponse, ContractError> {
        let effective_from = self.now() + DEFAULT_TIMELOCK_SECONDS;
        self.update_tariff_from(sender, tariff, effective_from)
    }

    pub fn update_tariff_from(
        &mut self,
        sender: &Addr,
        tariff: Tariff,
        effective_from: u64,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            ExecuteMsg::UpdateTariff {
                tariff,
                effective_from,
            },
        )
    }

    pub fn migrate(&mut self) -> Result<AppResponse, ContractError> {
        typed_or(
            || {
                self.app.migrate_contract(
                    self.admin.clone(),
                    self.settlement.clone(),
                    &MigrateMsg {},
                    self.code_id,
                )
            },
            ContractError::from,
        )
    }

    // ---- queries ----

    fn query<R: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> Result<R, ContractError> {
        typed_or(
            || self.app.wrap().query_wasm_smart(&self.settlement, msg),
            ContractError::from,
        )
    }

    #[track_caller]
    pub fn config(&self) -> ConfigResponse {
        self.query(&QueryMsg::Config {}).expect("config")
    }

    #[track_caller]
    pub fn settlement(&self, settlement_id: u64) -> Option<Settlement> {
        let resp: SettlementResponse = self
            .query(&QueryMsg::Settlement { settlement_id })
            .expect("settlement");
        resp.settlement
    }

    #[track_caller]
    pub fn settlements(&self, start_after: Option<u64>, limit: Option<u32>) -> Vec<Settlement> {
        let resp: SettlementsResponse = self
            .query(&QueryMsg::Settlements { start_after, limit })
            .expect("settlements");
        resp.settlements
    }

    #[track_caller]
    pub fn settlement_for_period(&self, period_start: u64) -> Option<Settlement> {
        let resp: SettlementResponse = self
            .query(&QueryMsg::SettlementForPeriod {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
            })
            .expect("settlement for period");
        resp.settlement
    }

    pub fn instruction_payload(
        &self,
        settlement_id: u64,
    ) -> Result<SettlementApproval, ContractError> {
        self.query(&QueryMsg::InstructionPayload { settlement_id })
    }

    pub fn quote(&self, period_start: u64) -> Result<QuoteResponse, ContractError> {
        self.query(&QueryMsg::Quote {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
        })
    }

    #[track_caller]
    pub fn payee_account(&self, provider: &Addr) -> Option<String> {
        let resp: PayeeAccountResponse = self
            .query(&QueryMsg::PayeeAccount {
                provider: provider.to_string(),
            })
            .expect("payee account");
        resp.account
    }

    #[track_caller]
    pub fn account(&self, owner: &Addr) -> AccountResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.ledger,
                &LedgerQuery::Account {
                    address: owner.to_string(),
                },
            )
            .expect("ledger account")
    }

    #[track_caller]
    pub fn supply(&self) -> TotalSupplyResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.ledger, &LedgerQuery::TotalSupply {})
            .expect("ledger supply")
    }

    #[track_caller]
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            settlements: self.settlements(None, Some(100)),
            tenant: self.account(&self.tenant),
            supply: self.supply(),
            config: self.config(),
        }
    }

    /// A settlement of a final three-record period `P0`, requested with enough funds; returns
    /// its id.
    #[track_caller]
    pub fn requested(&mut self) -> u64 {
        self.final_period(P0, 3);
        let tenant = self.tenant.clone();
        self.deposit(&tenant, 10_000);
        self.request(P0).expect("request");
        self.settlement_for_period(P0)
            .expect("settlement")
            .settlement_id
    }

    /// As [`Suite::requested`], then approved by the committee.
    #[track_caller]
    pub fn instructed(&mut self) -> u64 {
        let id = self.requested();
        self.approve(id).expect("approve");
        id
    }
}

impl Suite {
    /// Instantiates another C3 from the same code (for instantiation errors).
    pub fn instantiate_another(&mut self, msg: &InstantiateMsg) -> Result<Addr, ContractError> {
        typed_or(
            || {
                self.app.instantiate_contract(
                    self.code_id,
                    self.admin.clone(),
                    msg,
                    &[],
                    "settlement-2",
                    None,
                )
            },
            ContractError::from,
        )
    }
}
