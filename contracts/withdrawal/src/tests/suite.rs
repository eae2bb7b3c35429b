//! The C5 test suite: a mock C1 holding a committee, the real C4 ledger, C5, and typed action
//! helpers.
//!
//! cw-multi-test 3 turns a contract's error into a string. To let tests assert the typed error, each
//! contract is wrapped in functions that keep its last error in a thread-local slot (each test runs
//! on its own thread) and hand the string to cw-multi-test; the helpers read the slot.

use std::cell::RefCell;

use cosmwasm_std::testing::MockApi;
use cosmwasm_std::{
    to_json_binary, Addr, Binary, Deps, DepsMut, Env, MessageInfo, Record, Response, StdError,
    StdResult, Uint128,
};
use cw_multi_test::{no_init, App, AppBuilder, AppResponse, ContractWrapper, Executor};
use cw_storage_plus::Item;
use usage_common::msg::ledger::{
    AccountResponse, ExecuteMsg as LedgerExecute, InstantiateMsg as LedgerInstantiate,
    QueryMsg as LedgerQuery, TotalSupplyResponse,
};
use usage_common::msg::usage_proof::{CommitteeResponse, QueryMsg as UsageProofQuery};
use usage_common::msg::withdrawal::{
    ExecuteMsg, InstantiateMsg, Limits, QueryMsg, RollingUsageResponse, Withdrawal,
    WithdrawalResponse, WithdrawalStatus,
};
use usage_common::msg::MigrateMsg;
use usage_common::payload::{BankOutcome, DepositVoucher, WithdrawalApproval, WithdrawalVoucher};
use usage_common::{Committee, ThresholdSignature};
use usage_signer::SigningCommittee;

use crate::contract;
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

thread_local! {
    static LAST_ERROR: RefCell<Option<ContractError>> = const { RefCell::new(None) };
    static LAST_LEDGER_ERROR: RefCell<Option<ledger::ContractError>> = const { RefCell::new(None) };
}

fn keep<T>(r: Result<T, ContractError>) -> Result<T, String> {
    r.map_err(|e| {
        let text = e.to_string();
        LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(e));
        text
    })
}

fn keep_ledger<T>(r: Result<T, ledger::ContractError>) -> Result<T, String> {
    r.map_err(|e| {
        let text = e.to_string();
        LAST_LEDGER_ERROR.with(|slot| *slot.borrow_mut() = Some(e));
        text
    })
}

fn withdrawal_instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: InstantiateMsg,
) -> Result<Response, String> {
    keep(contract::instantiate(deps, env, info, msg))
}

fn withdrawal_execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: ExecuteMsg,
) -> Result<Response, String> {
    keep(contract::execute(deps, env, info, msg))
}

fn withdrawal_query(deps: Deps, env: Env, msg: QueryMsg) -> Result<Binary, String> {
    keep(contract::query(deps, env, msg))
}

fn withdrawal_migrate(deps: DepsMut, env: Env, msg: MigrateMsg) -> Result<Response, String> {
    keep(contract::migrate(deps, env, msg))
}

fn ledger_instantiate(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: LedgerInstantiate,
) -> Result<Response, String> {
    keep_ledger(ledger::contract::instantiate(deps, env, info, msg))
}

fn ledger_execute(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    msg: LedgerExecute,
) -> Result<Response, String> {
    keep_ledger(ledger::contract::execute(deps, env, info, msg))
}

fn ledger_query(deps: Deps, env: Env, msg: LedgerQuery) -> Result<Binary, String> {
    keep_ledger(ledger::contract::query(deps, env, msg))
}

fn clear_errors() {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = None);
    LAST_LEDGER_ERROR.with(|slot| *slot.borrow_mut() = None);
}

/// C5's outcome with its typed error. A failure that C5 did not raise itself (C4 refusing the
/// sub-message) is a bug in C5's own checks, so the test fails with C4's error.
pub fn typed(r: StdResult<AppResponse>) -> Result<AppResponse, ContractError> {
    let own = LAST_ERROR.with(|slot| slot.borrow_mut().take());
    let ledger = LAST_LEDGER_ERROR.with(|slot| slot.borrow_mut().take());
    match r {
        Ok(resp) => Ok(resp),
        Err(e) => Err(own.unwrap_or_else(|| {
            panic!("C5 raised no typed error; C4 said {ledger:?}; full error: {e}")
        })),
    }
}

/// A stand-in for C1 usage-proof that only holds a committee (instantiate and execute both set
/// it); no tenant has leases, so every reserve is zero.
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
            UsageProofQuery::TenantReserve { .. } => {
                to_json_binary(&usage_common::msg::usage_proof::TenantReserveResponse {
                    reserve: cosmwasm_std::Uint128::zero(),
                })
            }
            other => Err(StdError::msg(format!("mock C1 does not answer {other:?}"))),
        }
    }
}

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
    pub fn new() -> Self {
        let mut app: App = AppBuilder::new()
            .with_api(MockApi::default().with_prefix("usage"))
            .build(no_init);
        let committee = SigningCommittee::deterministic("withdrawal-tests", 1, 4, 3);
        let admin = app.api().addr_make("admin");

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

        let ledger_code = app.store_code(Box::new(ContractWrapper::new(
            ledger_execute,
            ledger_instantiate,
            ledger_query,
        )));
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

        let withdrawal_code = app.store_code(Box::new(
            ContractWrapper::new(withdrawal_execute, withdrawal_instantiate, withdrawal_query)
                .with_migrate(withdrawal_migrate),
        ));
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

    // ---- C5 actions ----

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<AppResponse, ContractError> {
        clear_errors();
        let r = self
            .app
            .execute_contract(sender.clone(), self.withdrawal.clone(), msg, &[]);
        typed(r)
    }

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

    pub fn cancel(
        &mut self,
        sender: &Addr,
        withdrawal_id: u64,
    ) -> Result<AppResponse, ContractError> {
        self.execute(sender, &ExecuteMsg::Cancel { withdrawal_id })
    }

    pub fn release(&mut self, withdrawal_id: u64) -> Result<AppResponse, ContractError> {
        let keeper = self.addr("keeper");
        self.execute(&keeper, &ExecuteMsg::Release { withdrawal_id })
    }

    /// The committee's quorum signature over the instruction C5 reports for `withdrawal_id`.
    pub fn sign_approval(&self, withdrawal_id: u64) -> ThresholdSignature {
        let payload = self.instruction_payload(withdrawal_id);
        self.committee
            .sign_quorum(&self.chain_id, self.withdrawal.as_str(), &payload)
    }

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

    pub fn approve(&mut self, withdrawal_id: u64) -> Result<AppResponse, ContractError> {
        let signature = self.sign_approval(withdrawal_id);
        self.approve_with(withdrawal_id, signature)
    }

    /// The bank's voucher for a stored withdrawal, as the relayer would build it.
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

    pub fn migrate(&mut self) -> Result<AppResponse, ContractError> {
        clear_errors();
        let r = self.app.migrate_contract(
            self.admin.clone(),
            self.withdrawal.clone(),
            &MigrateMsg {},
            self.withdrawal_code,
        );
        typed(r)
    }

    // ---- queries ----

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> T {
        self.app
            .wrap()
            .query_wasm_smart(&self.withdrawal, msg)
            .expect("C5 query answers")
    }

    pub fn withdrawal(&self, withdrawal_id: u64) -> Withdrawal {
        let r: WithdrawalResponse = self.query(&QueryMsg::Withdrawal { withdrawal_id });
        r.withdrawal.expect("withdrawal exists")
    }

    pub fn status(&self, withdrawal_id: u64) -> WithdrawalStatus {
        self.withdrawal(withdrawal_id).status
    }

    pub fn instruction_payload(&self, withdrawal_id: u64) -> WithdrawalApproval {
        self.query(&QueryMsg::InstructionPayload { withdrawal_id })
    }

    pub fn rolling_used(&self, owner: &Addr) -> u128 {
        let r: RollingUsageResponse = self.query(&QueryMsg::RollingUsage {
            owner: owner.to_string(),
        });
        r.used.u128()
    }

    /// (available, locked) of `owner` in C4.
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
pub fn requested_id(resp: &AppResponse) -> u64 {
    use usage_common::events::{TypedEvent, WithdrawalRequested};
    WithdrawalRequested::all_in(&resp.events)
        .first()
        .expect("a withdrawal_requested event")
        .withdrawal_id
}
