//! The C4 test suite: the C1 stand-in holding a committee, the ledger, and typed action helpers
//! that return the ledger's own `ContractError`.

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{Addr, Record, Uint128};
use cw_multi_test::{no_init, App, AppBuilder, AppResponse, Executor};
use usage_common::msg::ledger::{
    AccountResponse, DepositResponse, ExecuteMsg, InstantiateMsg, QueryMsg, TotalSupplyResponse,
};
use usage_common::msg::MigrateMsg;
use usage_common::payload::DepositVoucher;
use usage_common::ThresholdSignature;
use usage_contract_testing::mock_usage_proof::{self, MockExecuteMsg, MockInstantiateMsg};
use usage_contract_testing::{capturing_entry_points, typed};
use usage_signer::SigningCommittee;

use crate::error::ContractError;

pub const CURRENCY: &str = "CNY";

pub type TestApp = App;

capturing_entry_points!(entry, crate::contract, usage_common::msg::ledger);

pub struct Suite {
    pub app: TestApp,
    pub committee: SigningCommittee,
    pub chain_id: String,
    pub admin: Addr,
    /// Plays C3 settlement.
    pub settlement: Addr,
    /// Plays C5 withdrawal.
    pub withdrawal: Addr,
    pub usage_proof: Addr,
    pub ledger: Addr,
    pub ledger_code: u64,
}

impl Suite {
    /// A ledger in CNY with a 4-member, threshold-3 committee of epoch 1 in the mock C1.
    #[track_caller]
    pub fn new() -> Self {
        let mut app: TestApp = AppBuilder::new()
            .with_api(MockApi::default().with_prefix("usage"))
            .build(no_init);
        let committee = SigningCommittee::deterministic("ledger-tests", 1, 4, 3);
        let admin = app.api().addr_make("admin");
        let settlement = app.api().addr_make("settlement");
        let withdrawal = app.api().addr_make("withdrawal");

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

        let ledger_code = app.store_code(entry::contract());
        let ledger = app
            .instantiate_contract(
                ledger_code,
                admin.clone(),
                &InstantiateMsg {
                    admin: None,
                    usage_proof: usage_proof.to_string(),
                    currency: CURRENCY.to_string(),
                    decimals: 2,
                    settlement: Some(settlement.to_string()),
                    withdrawal: Some(withdrawal.to_string()),
                },
                &[],
                "c4",
                Some(admin.to_string()),
            )
            .expect("ledger instantiates");
        let chain_id = app.block_info().chain_id;
        Suite {
            app,
            committee,
            chain_id,
            admin,
            settlement,
            withdrawal,
            usage_proof,
            ledger,
            ledger_code,
        }
    }

    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    /// Moves block time forward (and the height by one).
    pub fn advance(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += 1;
            b.time = b.time.plus_seconds(seconds);
        });
    }

    // ---- committee ----

    /// A deposit voucher in the ledger's currency.
    pub fn voucher(&self, bank_ref: &str, beneficiary: &Addr, amount: u128) -> DepositVoucher {
        DepositVoucher {
            bank_ref: bank_ref.to_string(),
            beneficiary: beneficiary.to_string(),
            amount: Uint128::new(amount),
            currency: CURRENCY.to_string(),
        }
    }

    /// A quorum signature bound to this chain and this ledger.
    pub fn sign(&self, voucher: &DepositVoucher) -> ThresholdSignature {
        self.committee
            .sign_quorum(&self.chain_id, self.ledger.as_str(), voucher)
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

    // ---- actions ----

    #[track_caller]
    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        typed(|| {
            self.app
                .execute_contract(sender.clone(), self.ledger.clone(), msg, &[])
        })
    }

    #[track_caller]
    pub fn deposit(
        &mut self,
        voucher: &DepositVoucher,
        signature: &ThresholdSignature,
    ) -> Result<AppResponse, ContractError> {
        let submitter = self.addr("relayer");
        self.execute(
            &submitter,
            &ExecuteMsg::Deposit {
                voucher: voucher.clone(),
                signature: signature.clone(),
            },
        )
    }

    /// A correctly signed deposit.
    #[track_caller]
    pub fn deposit_signed(
        &mut self,
        bank_ref: &str,
        beneficiary: &Addr,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        let v = self.voucher(bank_ref, beneficiary, amount);
        let sig = self.sign(&v);
        self.deposit(&v, &sig)
    }

    #[track_caller]
    pub fn lock(
        &mut self,
        sender: &Addr,
        owner: &Addr,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            &ExecuteMsg::Lock {
                owner: owner.to_string(),
                amount: Uint128::new(amount),
            },
        )
    }

    #[track_caller]
    pub fn unlock(
        &mut self,
        sender: &Addr,
        owner: &Addr,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            &ExecuteMsg::Unlock {
                owner: owner.to_string(),
                amount: Uint128::new(amount),
            },
        )
    }

    #[track_caller]
    pub fn debit(
        &mut self,
        sender: &Addr,
        owner: &Addr,
        amount: u128,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            sender,
            &ExecuteMsg::DebitLocked {
                owner: owner.to_string(),
                amount: Uint128::new(amount),
            },
        )
    }

    #[track_caller]
    pub fn migrate(&mut self) -> Result<AppResponse, ContractError> {
        typed(|| {
            self.app.migrate_contract(
                self.admin.clone(),
                self.ledger.clone(),
                &MigrateMsg {},
                self.ledger_code,
            )
        })
    }

    // ---- queries ----

    #[track_caller]
    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app
            .wrap()
            .query_wasm_smart(&self.ledger, msg)
            .expect("ledger query answers")
    }

    #[track_caller]
    pub fn account(&self, owner: &Addr) -> AccountResponse {
        self.query(&QueryMsg::Account {
            address: owner.to_string(),
        })
    }

    #[track_caller]
    pub fn account_of(&self, owner: &Addr) -> (u128, u128) {
        let a = self.account(owner);
        (a.available.u128(), a.locked.u128())
    }

    #[track_caller]
    pub fn totals(&self) -> TotalSupplyResponse {
        self.query(&QueryMsg::TotalSupply {})
    }

    #[track_caller]
    pub fn deposit_record(&self, bank_ref: &str) -> DepositResponse {
        self.query(&QueryMsg::Deposit {
            bank_ref: bank_ref.to_string(),
        })
    }

    /// Every key and value the ledger stores, to show that a refused message changed nothing.
    pub fn dump(&self) -> Vec<Record> {
        self.app.dump_wasm_raw(&self.ledger)
    }
}
