//! The C1 test suite: a cw-multi-test app with C1 alone (another address plays C2, which may
//! seal accumulators), a real BLS committee, and typed helpers that return C1's own
//! `ContractError` (an error that did not come from C1 comes back as `ContractError::Std`).

use cosmwasm_std::{Addr, Binary, Empty, HexBinary, Order, Timestamp};
use cw_multi_test::{App, AppResponse, Contract, Executor};
use serde::de::DeserializeOwned;
use usage_common::merkle;
use usage_common::msg::usage_proof::{ExecuteMsg, InstantiateMsg, QueryMsg, TeeKind};
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{encode_batch, Metrics, UsageRecord};
use usage_common::ThresholdSignature;
use usage_contract_testing::{capturing_entry_points, typed_or};
use usage_signer::SigningCommittee;

use crate::ContractError;

pub const WINDOW: u64 = 10;
pub const PERIOD: u64 = 60;
pub const GRACE: u64 = 30;
/// A period start; the suite starts one window into it.
pub const P0: u64 = 1_700_000_040;
pub const MEASUREMENT: [u8; 32] = [0x5a; 32];

capturing_entry_points!(entry, crate::contract, usage_common::msg::usage_proof);

pub fn usage_proof_contract() -> Box<dyn Contract<Empty>> {
    entry::contract()
}

pub struct Suite {
    pub app: App,
    pub committee: SigningCommittee,
    pub c1: Addr,
    pub admin: Addr,
    pub provider: Addr,
    pub tenant: Addr,
    /// Plays C2 period-proof: the one address allowed to seal accumulators.
    pub period_proof: Addr,
}

impl Suite {
    #[track_caller]
    pub fn new() -> Self {
        Self::with_members(SigningCommittee::deterministic("usage-proof", 1, 4, 3))
    }

    #[track_caller]
    pub fn with_members(committee: SigningCommittee) -> Self {
        let mut app = App::default();
        app.update_block(|b| b.time = Timestamp::from_seconds(P0 + WINDOW));
        let admin = app.api().addr_make("admin");
        let period_proof = app.api().addr_make("period-proof");
        let code = app.store_code(usage_proof_contract());
        let c1 = app
            .instantiate_contract(
                code,
                admin.clone(),
                &InstantiateMsg {
                    admin: None,
                    threshold: committee.threshold,
                    members: committee.member_keys(),
                    window_seconds: WINDOW,
                    period_seconds: PERIOD,
                    grace_seconds: GRACE,
                    accept_software_tee: false,
                    allowed_measurements: vec![HexBinary::from(MEASUREMENT)],
                    period_proof: Some(period_proof.to_string()),
                },
                &[],
                "usage-proof",
                Some(admin.to_string()),
            )
            .expect("instantiate C1");
        let provider = app.api().addr_make("provider");
        let tenant = app.api().addr_make("tenant");
        Suite {
            app,
            committee,
            c1,
            admin,
            provider,
            tenant,
            period_proof,
        }
    }

    pub fn addr(&self, label: &str) -> Addr {
        self.app.api().addr_make(label)
    }

    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    pub fn set_time(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += 1;
            b.time = Timestamp::from_seconds(seconds);
        });
    }

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        typed_or(
            || {
                self.app
                    .execute_contract(sender.clone(), self.c1.clone(), msg, &[])
            },
            ContractError::from,
        )
    }

    pub fn query<R: DeserializeOwned>(&self, msg: &QueryMsg) -> Result<R, ContractError> {
        typed_or(
            || self.app.wrap().query_wasm_smart(&self.c1, msg),
            ContractError::from,
        )
    }

    /// Every key and value C1 holds, to show a refused message changed nothing.
    pub fn dump(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.app
            .contract_storage(&self.c1)
            .range(None, None, Order::Ascending)
            .collect()
    }

    /// Registers `id` for the suite's provider with its own attestor key.
    pub fn register(&mut self, id: &str) -> Result<AppResponse, ContractError> {
        let admin = self.admin.clone();
        self.execute(
            &admin,
            &ExecuteMsg::RegisterTerminal {
                terminal_id: id.into(),
                provider: self.provider.to_string(),
                attestor_key: HexBinary::from(merkle::sha256(id.as_bytes())),
                tee: TeeKind::Sgx,
                measurement: HexBinary::from(MEASUREMENT),
                shared_attestor: false,
            },
        )
    }

    /// Registers `id` and lets the suite's tenant lease it from the start of time.
    #[track_caller]
    pub fn register_leased(&mut self, id: &str) {
        self.register(id).expect("register");
        let tenant = self.tenant.clone();
        self.execute(
            &tenant,
            &ExecuteMsg::OpenLease {
                terminal_id: id.into(),
                provider: self.provider.to_string(),
                start: 0,
                end: None,
                price_cap: None,
            },
        )
        .expect("lease");
    }

    /// A record of `terminal` in `window` for the suite's tenant.
    pub fn record(&self, terminal: &str, window: u64) -> UsageRecord {
        UsageRecord {
            terminal_id: terminal.into(),
            window_start: window,
            tenant: self.tenant.to_string(),
            metrics: Metrics {
                net_tx_bytes: 1_000,
                app_up_s: WINDOW,
                ..Default::default()
            },
        }
    }

    pub fn digest(records: &[UsageRecord]) -> UsageBatchDigest {
        let leaves: Vec<merkle::Hash> = records
            .iter()
            .map(|r| merkle::leaf_hash(&r.to_bytes()))
            .collect();
        UsageBatchDigest {
            root: HexBinary::from(merkle::root(&leaves).unwrap_or([0; 32])),
            records: records.len() as u32,
        }
    }

    /// A quorum signature of the suite's committee over `records`.
    pub fn sign(&self, records: &[UsageRecord]) -> ThresholdSignature {
        let chain = self.app.block_info().chain_id;
        self.committee
            .sign_quorum(&chain, self.c1.as_str(), &Self::digest(records))
    }

    pub fn submit_signed(
        &mut self,
        records: &[UsageRecord],
        signature: ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let anyone = self.addr("submitter");
        self.execute(
            &anyone,
            &ExecuteMsg::SubmitBatch {
                records: Binary::from(encode_batch(records)),
                signature,
            },
        )
    }

    pub fn submit(&mut self, records: &[UsageRecord]) -> Result<AppResponse, ContractError> {
        let signature = self.sign(records);
        self.submit_signed(records, signature)
    }
}
