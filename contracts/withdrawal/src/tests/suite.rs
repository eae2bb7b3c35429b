//! The C5 test suite: the C1 stand-in holding a committee, the real C4 ledger, C5, and typed
//! action helpers that return C5's own `ContractError`.
//!
//! C4 keeps its typed error too: a failure that C5 did not raise itself (C4 refusing the
//! sub-message) is a bug in C5's own checks, and the test fails naming C4's error.

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{Addr, Record, Uint128};
use cw_multi_test::{no_init, App, AppBuilder, AppResponse, Executor};
use usage_common::msg::ledger::{
    AccountResponse, ExecuteMsg as LedgerExecute, InstantiateMsg as LedgerInstantiate,
    QueryMsg as LedgerQuery, TotalSupplyResponse,
};
use usage_common::msg::withdrawal::{
    ExecuteMsg, InstantiateMsg, Limits, QueryMsg, RollingUsageResponse, Withdrawal,
    WithdrawalResponse, WithdrawalStatus,
};
use usage_common::msg::MigrateMsg;
use usage_common::payload::{BankOutcome, DepositVoucher, WithdrawalApproval, WithdrawalVoucher};
use usage_common::ThresholdSignature;
use usage_contract_testing::mock_usage_proof::{self, MockExecuteMsg, MockInstantiateMsg};
use usage_contract_testing::{capturing_entry_points, typed};
use usage_signer::SigningCommittee;

use crate::error::ContractError;

pub const CURRENCY: &str = "CNY";
pub const IBAN: &str = "CN12BANK0000123456789";
pub const DAY: u64 = 86_400;
pub const HOUR: u64 = 3_600;

/// Limits of the suite: 10,000 per request, 25,000 per 24 h, delayed by one hour.
pub fn test_limits() -> Limits {
    Limits {
        per_request: Uint128::new(10_000),
        rolling: Uint128::new(25_000),
        window_seconds: DAY,
        delay_seconds: HOUR,
    }
}

capturing_entry_points!(entry, crate::contract, usage_common::msg::withdrawal);
capturing_entry_points!(ledger_entry, ledger::contract, usage_common::msg::ledger);

pub struct Suite {
    pub app: App,
    pub committee: SigningCommittee,
    pub chain_id: String,
    pub admin: Addr,
    pub usage_proof: Addr,
    pub ledger: Addr,
    pub withdrawal: Addr,
    pub withdrawal_code: u64,
    deposits: u64,
}

impl Suite {
    /// C1 (mock, 4 members, threshold 3, epoch 1), C4 in CNY, and C5 with [`test_limits`], C5 set
    /// as C4's withdrawal contract.
    #[track_caller]
    pub fn new() -> Self {
        let mut app: App = AppBuilder::new()
            .with_api(MockApi::default().with_prefix("usage"))
            .build(no_init);
        let committee = SigningCommittee::deterministic("withdrawal-tests", 1, 4, 3);
        let admin = app.api().addr_make("admin");

        let c1_code = app.store_code(mock_usage_proof::contract());
        let usage_proof = app
            .instantiate_contract(
                c1_code,
                admin.clone(),
                &MockInstantiateMsg::holding(committee.committee()),
                &[],
                "c1",
                None,
            )
            .expect("mock C1 instantiates");

        let ledger_code = app.store_code(ledger_entry::contract());
        let ledger = app
            .instantiate_contract(
                ledger_code,
                admin.clone(),
                &LedgerInstantiate {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    currency: CURRENCY.to_string(),
                    decimals: 2,
                    settlement: None,
                    withdrawal: None,
                },
                &[],
                "c4",
                None,
            )
            .expect("ledger instantiates");

        let withdrawal_code = app.store_code(entry::contract());
        let withdrawal = app
            .instantiate_contract(
                withdrawal_code,
                admin.clone(),
                &InstantiateMsg {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    ledger: ledger.to_string(),
                    currency: CURRENCY.to_string(),
                    limits: test_limits(),
                },
                &[],
                "c5",
                Some(admin.to_string()),
            )
            .expect("withdrawal instantiates");
        app.execute_contract(
            admin.clone(),
            ledger.clone(),
            &LedgerExecute::UpdateConfig {
                settlement: None,
                withdrawal: Some(withdrawal.to_string()),
            },
            &[],
        )
        .expect("C4 accepts C5 as its withdrawal contract");

        let chain_id = app.block_info().chain_id;
        Suite {
            app,
            committee,
            chain_id,
            admin,
            usage_proof,
            ledger,
            withdrawal,
            withdrawal_code,
            deposits: 0,
        }
    }

    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    pub fn now(&self) -> u64 {
        self.app.block_info().time.seconds()
    }

    pub fn advance(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.time = b.time.plus_seconds(seconds);
            b.height += 1;
        });
    }

    /// Credits `amount` to `owner` in C4 through a committee-signed deposit voucher.
    #[track_caller]
    pub fn fund(&mut self, owner: &Addr, amount: u128) {
        self.deposits += 1;
        let voucher = DepositVoucher {
            bank_ref: format!("CAMT-{:04}", self.deposits),
            beneficiary: owner.to_string(),
            amount: Uint128::new(amount),
            currency: CURRENCY.to_string(),
        };
        let signature = self
            .committee
            .sign_quorum(&self.chain_id, self.ledger.as_str(), &voucher);
        let relayer = self.addr("relayer");
        self.app
            .execute_contract(
                relayer,
                self.ledger.clone(),
                &LedgerExecute::Deposit { voucher, signature },
                &[],
            )
            .expect("deposit credited");
    }

    /// Replaces the committee C1 answers with.
    #[track_caller]
    pub fn rotate_committee(&mut self, next: SigningCommittee) {
        self.app
            .execute_contract(
                self.admin.clone(),
                self.usage_proof.clone(),
                &MockExecuteMsg::SetCommittee {
                    committee: next.committee(),
                },
                &[],
            )
            .expect("mock C1 takes the committee");
        self.committee = next;
    }

    // ---- C5 actions ----

    #[track_caller]
    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        typed(|| {
            self.app
                .execute_contract(sender.clone(), self.withdrawal.clone(), msg, &[])
        })
    }

    #[track_caller]
    pub fn request(
        &mut self,
        owner: &Addr,
        amount: u128,
        beneficiary: &str,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            owner,
            &ExecuteMsg::RequestWithdrawal {
                amount: Uint128::new(amount),
                beneficiary: beneficiary.to_string(),
            },
        )
    }

    #[track_caller]
    pub fn cancel(
        &mut self,
        sender: &Addr,
        withdrawal_id: u64,
    ) -> Result<AppResponse, ContractError> {
        self.execute(sender, &ExecuteMsg::Cancel { withdrawal_id })
    }

    #[track_caller]
    pub fn release(&mut self, withdrawal_id: u64) -> Result<AppResponse, ContractError> {
        let keeper = self.addr("keeper");
        self.execute(&keeper, &ExecuteMsg::Release { withdrawal_id })
    }

    /// The committee's quorum signature over the instruction C5 reports for `withdrawal_id`.
    #[track_caller]
    pub fn sign_approval(&self, withdrawal_id: u64) -> ThresholdSignature {
        let payload = self.instruction_payload(withdrawal_id);
        self.committee
            .sign_quorum(&self.chain_id, self.withdrawal.as_str(), &payload)
    }

    #[track_caller]
    pub fn approve_with(
        &mut self,
        withdrawal_id: u64,
        signature: ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let relayer = self.addr("relayer");
        self.execute(
            &relayer,
            &ExecuteMsg::ApproveInstruction {
                withdrawal_id,
                signature,
            },
        )
    }

    #[track_caller]
    pub fn approve(&mut self, withdrawal_id: u64) -> Result<AppResponse, ContractError> {
        let signature = self.sign_approval(withdrawal_id);
        self.approve_with(withdrawal_id, signature)
    }

    /// The bank's voucher for a stored withdrawal, as the relayer would build it.
    #[track_caller]
    pub fn voucher(
        &self,
        withdrawal_id: u64,
        bank_ref: &str,
        outcome: BankOutcome,
    ) -> WithdrawalVoucher {
        let w = self.withdrawal(withdrawal_id);
        WithdrawalVoucher {
            withdrawal_id,
            end_to_end_id: w.end_to_end_id,
            bank_ref: bank_ref.to_string(),
            outcome,
            amount: w.amount,
        }
    }

    pub fn sign_voucher(&self, voucher: &WithdrawalVoucher) -> ThresholdSignature {
        self.committee
            .sign_quorum(&self.chain_id, self.withdrawal.as_str(), voucher)
    }

    #[track_caller]
    pub fn record_with(
        &mut self,
        voucher: &WithdrawalVoucher,
        signature: &ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let relayer = self.addr("relayer");
        self.execute(
            &relayer,
            &ExecuteMsg::RecordVoucher {
                voucher: voucher.clone(),
                signature: signature.clone(),
            },
        )
    }

    /// Records a correctly signed voucher.
    #[track_caller]
    pub fn record(
        &mut self,
        withdrawal_id: u64,
        bank_ref: &str,
        outcome: BankOutcome,
    ) -> Result<AppResponse, ContractError> {
        let v = self.voucher(withdrawal_id, bank_ref, outcome);
        let sig = self.sign_voucher(&v);
        self.record_with(&v, &sig)
    }

    #[track_caller]
    pub fn migrate(&mut self) -> Result<AppResponse, ContractError> {
        typed(|| {
            self.app.migrate_contract(
                self.admin.clone(),
                self.withdrawal.clone(),
                &MigrateMsg {},
                self.withdrawal_code,
            )
        })
    }

    // ---- queries ----

    #[track_caller]
    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app
            .wrap()
            .query_wasm_smart(&self.withdrawal, msg)
            .expect("C5 query answers")
    }

    #[track_caller]
    pub fn withdrawal(&self, withdrawal_id: u64) -> Withdrawal {
        let r: WithdrawalResponse = self.query(&QueryMsg::Withdrawal { withdrawal_id });
        r.withdrawal.expect("withdrawal exists")
    }

    #[track_caller]
    pub fn status(&self, withdrawal_id: u64) -> WithdrawalStatus {
        self.withdrawal(withdrawal_id).status
    }

    #[track_caller]
    pub fn instruction_payload(&self, withdrawal_id: u64) -> WithdrawalApproval {
        self.query(&QueryMsg::InstructionPayload { withdrawal_id })
    }

    #[track_caller]
    pub fn rolling_used(&self, owner: &Addr) -> u128 {
        let r: RollingUsageResponse = self.query(&QueryMsg::RollingUsage {
            owner: owner.to_string(),
        });
        r.used.u128()
    }

    /// (available, locked) of `owner` in C4.
    #[track_caller]
    pub fn account_of(&self, owner: &Addr) -> (u128, u128) {
        let a: AccountResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.ledger,
                &LedgerQuery::Account {
                    address: owner.to_string(),
                },
            )
            .expect("C4 query answers");
        (a.available.u128(), a.locked.u128())
    }

    #[track_caller]
    pub fn ledger_totals(&self) -> TotalSupplyResponse {
        self.app
            .wrap()
            .query_wasm_smart(&self.ledger, &LedgerQuery::TotalSupply {})
            .expect("C4 query answers")
    }

    /// Every key and value C4 and C5 store, to show that a refused message changed nothing.
    pub fn dump(&self) -> (Vec<Record>, Vec<Record>) {
        (
            self.app.dump_wasm_raw(&self.ledger),
            self.app.dump_wasm_raw(&self.withdrawal),
        )
    }
}

/// The id a `WithdrawalRequested` event in `resp` names.
#[track_caller]
pub fn requested_id(resp: &AppResponse) -> u64 {
    use usage_common::events::{TypedEvent, WithdrawalRequested};
    WithdrawalRequested::all_in(&resp.events)
        .first()
        .expect("a withdrawal_requested event")
        .withdrawal_id
}
