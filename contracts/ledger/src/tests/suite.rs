//! The C4 test suite: a mock C1 holding a committee, the ledger, and typed action helpers.
//!
//! cw-multi-test 3 turns a contract's error into a string. To let tests assert the typed error, the
//! ledger is wrapped in functions that keep the last `ContractError` in a thread-local slot (each
//! test runs on its own thread) and hand the string to cw-multi-test; the helpers read the slot.

use std::cell::RefCell;

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{
    to_json_binary, Addr, Binary, Deps, DepsMut, Env, MessageInfo, Record, Response, StdError,
    StdResult, Uint128,
};
use cw_multi_test::{no_init, App, AppBuilder, AppResponse, ContractWrapper, Executor};
use cw_storage_plus::Item;
use usage_common::msg::ledger::{
    AccountResponse, DepositResponse, ExecuteMsg, InstantiateMsg, QueryMsg, TotalSupplyResponse,
};
use usage_common::msg::usage_proof::{CommitteeResponse, QueryMsg as UsageProofQuery};
use usage_common::msg::MigrateMsg;
use usage_common::payload::DepositVoucher;
use usage_common::{Committee, ThresholdSignature};
use usage_signer::SigningCommittee;

use crate::contract;
use crate::error::ContractError;

pub const CURRENCY: &str = "CNY";

pub type TestApp = App;

thread_local! {
    static LAST_ERROR: RefCell<Option<ContractError>> = const { RefCell::new(None) };
}

fn keep<T>(r: Result<T, ContractError>) -> Result<T, String> {
    r.map_err(|e| {
        let text = e.to_string();
        LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(e));
        text
    })
}

fn ledger_instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, String> {
    keep(contract::instantiate(deps, env, info, msg))
}

fn ledger_execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, String> {
    keep(contract::execute(deps, env, info, msg))
}

fn ledger_query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, String> {
    keep(contract::query(deps, env, msg))
}

fn ledger_migrate(deps: DepsMut, env: Env, msg: MigrateMsg) -> Result<Response, String> {
    keep(contract::migrate(deps, env, msg))
}

/// The ledger's outcome with its typed error, taken from the slot the wrappers fill.
pub fn typed(r: StdResult<AppResponse>) -> Result<AppResponse, ContractError> {
    let captured = LAST_ERROR.with(|slot| slot.borrow_mut().take());
    match r {
        Ok(resp) => Ok(resp),
        Err(e) => Err(captured.unwrap_or_else(|| panic!("no typed ledger error for: {e}"))),
    }
}

fn clear_error() {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = None);
}

/// A stand-in for C1 usage-proof that only holds a committee: instantiate and execute both set it.
pub mod mock_usage_proof {
    use super::*;

    const COMMITTEE: Item<Committee> = Item::new("committee");

    pub fn set(
        deps: DepsMut,
        _env: Env,
        _info: MessageInfo,
        msg: Committee,
    ) -> StdResult<Response> {
        COMMITTEE.save(deps.storage, &msg)?;
        Ok(Response::new())
    }

    pub fn query(deps: Deps, _env: Env, msg: UsageProofQuery) -> StdResult<Binary> {
        match msg {
            UsageProofQuery::Committee {} => to_json_binary(&CommitteeResponse {
                committee: COMMITTEE.load(deps.storage)?,
            }),
            other => Err(StdError::msg(format!("mock C1 does not answer {other:?}"))),
        }
    }
}

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
    pub fn new() -> Self {
        let mut app: TestApp = AppBuilder::new()
            .with_api(MockApi::default().with_prefix("usage"))
            .build(no_init);
        let committee = SigningCommittee::deterministic("ledger-tests", 1, 4, 3);
        let admin = app.api().addr_make("admin");
        let settlement = app.api().addr_make("settlement");
        let withdrawal = app.api().addr_make("withdrawal");

        let c1_code = app.store_code(Box::new(ContractWrapper::new(
            mock_usage_proof::set,
            mock_usage_proof::set,
            mock_usage_proof::query,
        )));
        let usage_proof = app
            .instantiate_contract(
                c1_code,
                admin.clone(),
                &committee.committee(),
                &[],
                "c1",
                None,
            )
            .expect("mock C1 instantiates");

        let ledger_code = app.store_code(Box::new(
            ContractWrapper::new(ledger_execute, ledger_instantiate, ledger_query)
                .with_migrate(ledger_migrate),
        ));
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
    pub fn rotate_committee(&mut self, next: SigningCommittee) {
        self.app
            .execute_contract(
                self.admin.clone(),
                self.usage_proof.clone(),
                &next.committee(),
                &[],
            )
            .expect("mock C1 takes the committee");
        self.committee = next;
    }

    // ---- actions ----

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        clear_error();
        let r = self
            .app
            .execute_contract(sender.clone(), self.ledger.clone(), msg, &[]);
        typed(r)
    }

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

    pub fn migrate(&mut self) -> Result<AppResponse, ContractError> {
        clear_error();
        let r = self.app.migrate_contract(
            self.admin.clone(),
            self.ledger.clone(),
            &MigrateMsg {},
            self.ledger_code,
        );
        typed(r)
    }

    // ---- queries ----

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app
            .wrap()
            .query_wasm_smart(&self.ledger, msg)
            .expect("ledger query answers")
    }

    pub fn account(&self, owner: &Addr) -> AccountResponse {
        self.query(&QueryMsg::Account {
            address: owner.to_string(),
        })
    }

    pub fn account_of(&self, owner: &Addr) -> (u128, u128) {
        let a = self.account(owner);
        (a.available.u128(), a.locked.u128())
    }

    pub fn totals(&self) -> TotalSupplyResponse {
        self.query(&QueryMsg::TotalSupply {})
    }

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
