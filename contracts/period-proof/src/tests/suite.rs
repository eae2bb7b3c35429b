//! The C2 test suite: a cw-multi-test app with the C1 stand-in and C2, a real BLS committee, and
//! typed action helpers that return C2's own `ContractError` (an error that did not come from C2
//! comes back as `ContractError::Std`).

use std::collections::BTreeMap;

use cosmwasm_std::{Addr, Timestamp, Uint128};
use cw_multi_test::{App, AppResponse, Executor};
use usage_common::governance::GovernanceMsg;
use usage_common::merkle::SumNode;
use usage_common::msg::period_proof::PeriodProofChange;
use usage_common::msg::period_proof::{
    ConfigResponse, ExecuteMsg, InstantiateMsg, PeriodProof, PeriodProofResponse, PeriodStatus,
    QueryMsg, VerifyInclusionResponse,
};
use usage_common::msg::MigrateMsg;
use usage_common::payload::{DisputeOutcome, DisputeResolution};
use usage_common::record::{Metrics, Totals, UsageRecord};
use usage_common::ThresholdSignature;
use usage_contract_testing::mock_usage_proof::{self, MockExecuteMsg, MockInstantiateMsg};
use usage_contract_testing::{capturing_entry_points, typed_or};
use usage_signer::SigningCommittee;

use crate::ContractError;

pub const WINDOW: u64 = 10;
pub const PERIOD: u64 = 60;
/// C2's grace.
pub const GRACE: u64 = 30;
/// C1's grace (shorter than C2's by default).
pub const C1_GRACE: u64 = 20;
pub const DISPUTE_WINDOW: u64 = 300;
/// Seconds the committee has to resolve a dispute.
pub const RESOLUTION_WINDOW: u64 = 600;
/// A period start (a multiple of `PERIOD`); the suite starts inside this period.
pub const P0: u64 = 1_700_000_040;

capturing_entry_points!(entry, crate::contract, usage_common::msg::period_proof);

pub struct SuiteBuilder {
    grace_seconds: u64,
    c1_grace_seconds: u64,
    dispute_window_seconds: u64,
}

impl SuiteBuilder {
    pub fn new() -> Self {
        SuiteBuilder {
            grace_seconds: GRACE,
            c1_grace_seconds: C1_GRACE,
            dispute_window_seconds: DISPUTE_WINDOW,
        }
    }

    pub fn c1_grace(mut self, seconds: u64) -> Self {
        self.c1_grace_seconds = seconds;
        self
    }

    #[track_caller]
    pub fn build(self) -> Suite {
        let mut app = App::default();
        app.update_block(|b| b.time = Timestamp::from_seconds(P0 + 5));
        let admin = app.api().addr_make("admin");
        let provider = app.api().addr_make("provider");
        let tenant = app.api().addr_make("tenant");
        let committee = SigningCommittee::deterministic("period-proof", 1, 4, 3);

        let c1_code = app.store_code(mock_usage_proof::contract());
        let usage_proof = app
            .instantiate_contract(
                c1_code,
                admin.clone(),
                &MockInstantiateMsg {
                    committee: committee.committee(),
                    window_seconds: WINDOW,
                    period_seconds: PERIOD,
                    grace_seconds: self.c1_grace_seconds,
                },
                &[],
                "usage-proof",
                None,
            )
            .expect("instantiate c1 stand-in");
        let code_id = app.store_code(entry::contract());
        let period_proof = app
            .instantiate_contract(
                code_id,
                admin.clone(),
                &InstantiateMsg {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    grace_seconds: self.grace_seconds,
                    dispute_window_seconds: self.dispute_window_seconds,
                    resolution_window_seconds: RESOLUTION_WINDOW,
                    dispute_bond: Uint128::zero(),
                    settlement: None,
                },
                &[],
                "period-proof",
                Some(admin.to_string()),
            )
            .expect("instantiate period-proof");
        Suite {
            app,
            committee,
            usage_proof,
            period_proof,
            code_id,
            admin,
            provider,
            tenant,
            leaves: BTreeMap::new(),
        }
    }
}

pub struct Suite {
    pub app: App,
    pub committee: SigningCommittee,
    pub usage_proof: Addr,
    pub period_proof: Addr,
    pub code_id: u64,
    pub admin: Addr,
    pub provider: Addr,
    pub tenant: Addr,
    /// The leaves recorded in C1 per (provider, tenant, period), in accumulator order.
    pub leaves: BTreeMap<(String, String, u64), Vec<SumNode>>,
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

    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    /// Records `n` first proofs of the suite's (provider, tenant) in the period starting at
    /// `period_start` (one per window, from the first), and returns their totals.
    #[track_caller]
    pub fn record_period(&mut self, period_start: u64, n: u64) -> Totals {
        let (provider, tenant) = (self.provider.clone(), self.tenant.to_string());
        let mut totals = Totals::default();
        for i in 0..n {
            let record = UsageRecord {
                terminal_id: format!("terminal-{i}"),
                window_start: period_start + (i % (PERIOD / WINDOW)) * WINDOW,
                tenant: tenant.clone(),
                metrics: metrics(i + 1),
            };
            totals = totals
                .checked_add(&Totals::of(&record.metrics))
                .expect("totals");
            self.record(&provider, record);
        }
        totals
    }

    /// Records one first proof in C1 (the stand-in) and keeps its leaf.
    #[track_caller]
    pub fn record(&mut self, provider: &Addr, record: UsageRecord) {
        let period = record.window_start - record.window_start % PERIOD;
        self.leaves
            .entry((provider.to_string(), record.tenant.clone(), period))
            .or_default()
            .push(SumNode::leaf(
                &record.to_bytes(),
                Totals::of(&record.metrics),
            ));
        self.app
            .execute_contract(
                self.admin.clone(),
                self.usage_proof.clone(),
                &MockExecuteMsg::Record {
                    provider: provider.to_string(),
                    record,
                },
                &[],
            )
            .expect("record in c1 stand-in");
    }

    pub fn leaves_of(&self, period_start: u64) -> Vec<SumNode> {
        self.leaves
            .get(&(
                self.provider.to_string(),
                self.tenant.to_string(),
                period_start,
            ))
            .cloned()
            .unwrap_or_default()
    }

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        typed_or(
            || {
                self.app
                    .execute_contract(sender.clone(), self.period_proof.clone(), &msg, &[])
            },
            ContractError::from,
        )
    }

    /// `ProvePeriod` of the suite's (provider, tenant), sent by a third party.
    pub fn prove(&mut self, period_start: u64) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("anyone");
        self.execute(
            &anyone,
            ExecuteMsg::ProvePeriod {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
            },
        )
    }

    pub fn open_dispute_as(
        &mut self,
        sender: &Addr,
        period_start: u64,
        reason: &str,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            ExecuteMsg::OpenDispute {
                provider: self.provider.to_string(),
                tenant: self.tenant.to_string(),
                period_start,
                reason: reason.to_string(),
            },
        )
    }

    /// `OpenDispute` by the tenant.
    pub fn open_dispute(&mut self, period_start: u64) -> Result<AppResponse, ContractError> {
        let tenant = self.tenant.clone();
        self.open_dispute_as(&tenant, period_start, "meter overcounted egress")
    }

    /// The resolution of the open dispute of `period_start` (bound to its opening time).
    pub fn resolution(&self, period_start: u64, outcome: DisputeOutcome) -> DisputeResolution {
        let opened_at = match self.proof(period_start).map(|p| p.status) {
            Some(PeriodStatus::Disputed { opened_at, .. }) => opened_at,
            _ => 0,
        };
        DisputeResolution {
            provider: self.provider.to_string(),
            tenant: self.tenant.to_string(),
            period_start,
            opened_at,
            outcome,
        }
    }

    /// A quorum of the committee's signature over `resolution`, for this chain and C2.
    pub fn sign(&self, resolution: &DisputeResolution) -> ThresholdSignature {
        self.committee
            .sign_quorum(&self.chain_id(), self.period_proof.as_str(), resolution)
    }

    pub fn resolve(
        &mut self,
        resolution: DisputeResolution,
        signature: ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("relayer");
        self.execute(
            &anyone,
            ExecuteMsg::ResolveDispute {
                resolution,
                signature,
            },
        )
    }

    /// Queues a timing change in the timelock.
    pub fn queue_timing(
        &mut self,
        sender: &Addr,
        grace_seconds: Option<u64>,
        dispute_window_seconds: Option<u64>,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            ExecuteMsg::Governance(GovernanceMsg::QueueChange {
                change: PeriodProofChange::Timing {
                    grace_seconds,
                    dispute_window_seconds,
                    resolution_window_seconds: None,
                    dispute_bond: None,
                },
            }),
        )
    }

    /// Anyone applies queued change `id`.
    pub fn apply_change(&mut self, id: u64) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("anyone");
        self.execute(
            &anyone,
            ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id }),
        )
    }

    pub fn migrate(&mut self) -> Result<AppResponse, ContractError> {
        typed_or(
            || {
                self.app.migrate_contract(
                    self.admin.clone(),
                    self.period_proof.clone(),
                    &MigrateMsg {},
                    self.code_id,
                )
            },
            ContractError::from,
        )
    }

    #[track_caller]
    pub fn config(&self) -> ConfigResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.period_proof, &QueryMsg::Config {})
            .expect("config")
    }

    #[track_caller]
    pub fn proof(&self, period_start: u64) -> Option<PeriodProof> {
        let resp: PeriodProofResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.period_proof,
                &QueryMsg::PeriodProof {
                    provider: self.provider.to_string(),
                    tenant: self.tenant.to_string(),
                    period_start,
                },
            )
            .expect("period proof");
        resp.proof
    }

    #[track_caller]
    pub fn verify_inclusion(
        &self,
        period_start: u64,
        leaf_index: u64,
        leaf: &SumNode,
        path: &[SumNode],
    ) -> bool {
        let resp: VerifyInclusionResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.period_proof,
                &QueryMsg::VerifyInclusion {
                    provider: self.provider.to_string(),
                    tenant: self.tenant.to_string(),
                    period_start,
                    leaf_index,
                    leaf: leaf.clone(),
                    path: path.to_vec(),
                },
            )
            .expect("verify inclusion");
        resp.included
    }

    /// A proven period `P0` with three first proofs; returns its totals. Time is then just after
    /// the proof.
    #[track_caller]
    pub fn proven_period(&mut self) -> Totals {
        let totals = self.record_period(P0, 3);
        self.set_time(P0 + PERIOD + GRACE);
        self.prove(P0).expect("prove");
        totals
    }
}

pub fn prove_msg(provider: &str, tenant: &str, period_start: u64) -> ExecuteMsg {
    ExecuteMsg::ProvePeriod {
        provider: provider.to_string(),
        tenant: tenant.to_string(),
        period_start,
    }
}
