//! A state-machine property test over C1–C5: random deposits (fresh and replayed), capped leases,
//! withdrawals, cancellations, releases, disputes and their resolutions, settlements, approvals
//! and bank vouchers (booked, rejected, replayed), with time passing; the periods are proven
//! (and their price escrowed) after the first deposit. After every step:
//! - no balance is negative and the ledger's totals agree with the accounts;
//! - total = consumed deposit vouchers - cleared settlements - completed withdrawals;
//! - locked = open withdrawals + open settlements + what C3 holds in escrow (periods' prices,
//!   dispute bonds, carried amounts), exactly;
//! - a withdrawal that was accepted left the owner's lease reserve available;
//! - a refused step changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use cosmwasm_std::{Addr, Uint128};
use proptest::prelude::*;
use usage_common::msg::usage_proof as c1;
use usage_common::msg::{ledger as c4, settlement as c3, withdrawal as c5};
use usage_common::payload::{
    BankOutcome, DisputeOutcome, SettlementApproval, SettlementVoucher, WithdrawalApproval,
    WithdrawalVoucher,
};
use usage_common::record::Totals;
use usage_scenarios::*;

const PERIODS: u64 = 3;

#[derive(Debug, Clone)]
enum Op {
    Deposit {
        who: usize,
        amount: u128,
        replay: bool,
    },
    Withdraw {
        who: usize,
        amount: u128,
    },
    Cancel {
        who: usize,
        id: u64,
    },
    Release {
        id: u64,
    },
    ApproveWithdrawal {
        id: u64,
    },
    WithdrawalVoucher {
        id: u64,
        booked: bool,
        reuse_ref: bool,
    },
    Settle {
        period: u64,
    },
    ApproveSettlement {
        id: u64,
    },
    SettlementVoucher {
        id: u64,
        booked: bool,
    },
    Advance {
        seconds: u64,
    },
    Lease {
        who: usize,
        cap: u128,
    },
    Dispute {
        period: u64,
    },
    Resolve {
        period: u64,
        adjusted: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 1..60_000u128, any::<bool>())
            .prop_map(|(who, amount, replay)| Op::Deposit { who, amount, replay }),
        4 => (0..2usize, 1..30_000u128).prop_map(|(who, amount)| Op::Withdraw { who, amount }),
        1 => (0..2usize, 1..5u64).prop_map(|(who, id)| Op::Cancel { who, id }),
        1 => (1..5u64).prop_map(|id| Op::Release { id }),
        3 => (1..5u64).prop_map(|id| Op::ApproveWithdrawal { id }),
        3 => (1..5u64, any::<bool>(), any::<bool>())
            .prop_map(|(id, booked, reuse_ref)| Op::WithdrawalVoucher { id, booked, reuse_ref }),
        2 => (0..PERIODS).prop_map(|period| Op::Settle { period }),
        3 => (1..4u64).prop_map(|id| Op::ApproveSettlement { id }),
        3 => (1..4u64, any::<bool>()).prop_map(|(id, booked)| Op::SettlementVoucher { id, booked }),
        2 => (1..5_000u64).prop_map(|seconds| Op::Advance { seconds }),
        1 => (0..2usize, 1..5_000u128).prop_map(|(who, cap)| Op::Lease { who, cap }),
        2 => (0..PERIODS).prop_map(|period| Op::Dispute { period }),
        2 => (0..PERIODS, any::<bool>()).prop_map(|(period, adjusted)| Op::Resolve { period, adjusted }),
    ]
}

struct Model {
    s: Suite,
    owners: [Addr; 2],
    deposits: u64,
    deposited: u128,
    leases: u64,
}

impl Model {
    /// A suite with three proven periods of usage for the tenant, proven after a first deposit
    /// (so their prices are escrowed as far as it reaches), inside their dispute windows.
    fn new() -> Self {
        let mut s = Suite::new();
        let t = s.register_terminals(1);
        s.set_payee();
        for p in 0..PERIODS {
            let window = T0 + p * PERIOD;
            s.advance(window + WINDOW - s.now());
            let records = vec![s.record(&t[0], window, 1_000_000)];
            s.submit(&records).expect("batch");
        }
        let tenant = s.tenant.clone();
        s.deposit("CAMT-0", &tenant, 8_000).expect("first deposit");
        s.advance(PERIODS * PERIOD + GRACE);
        for p in 0..PERIODS {
            s.prove_period(T0 + p * PERIOD).expect("period proof");
        }
        let owners = [s.tenant.clone(), s.addr("second-owner")];
        Model {
            s,
            owners,
            deposits: 0,
            deposited: 8_000,
            leases: 0,
        }
    }

    /// What C3 holds in escrow: every period's price and bond, and the carried amounts.
    fn escrowed(&self) -> Uint128 {
        let mut sum = Uint128::zero();
        for p in 0..PERIODS {
            let e: c3::EscrowResponse = self.s.query(
                &self.s.c3,
                &c3::QueryMsg::Escrow {
                    provider: self.s.provider.to_string(),
                    tenant: self.s.tenant.to_string(),
                    period_start: T0 + p * PERIOD,
                },
            );
            sum += e.escrow.usage + e.escrow.bond;
        }
        let c: c3::CarryResponse = self.s.query(
            &self.s.c3,
            &c3::QueryMsg::Carried {
                provider: self.s.provider.to_string(),
                tenant: self.s.tenant.to_string(),
            },
        );
        sum + c.carry.escrowed
    }

    fn reserve(&self, owner: &Addr) -> Uint128 {
        let r: c1::TenantReserveResponse = self.s.query(
            &self.s.c1,
            &c1::QueryMsg::TenantReserve {
                tenant: owner.to_string(),
            },
        );
        r.reserve
    }

    /// Every withdrawal, through the paged list query.
    fn withdrawals(&self) -> Vec<c5::Withdrawal> {
        let mut all: Vec<c5::Withdrawal> = vec![];
        loop {
            let page: c5::WithdrawalsResponse = self.s.query(
                &self.s.c5,
                &c5::QueryMsg::Withdrawals {
                    owner: None,
                    start_after: all.last().map(|w| w.withdrawal_id),
                    limit: Some(10),
                },
            );
            if page.withdrawals.is_empty() {
                return all;
            }
            all.extend(page.withdrawals);
        }
    }

    /// Every settlement, through the paged list query.
    fn settlements(&self) -> Vec<c3::Settlement> {
        let mut all: Vec<c3::Settlement> = vec![];
        loop {
            let page: c3::SettlementsResponse = self.s.query(
                &self.s.c3,
                &c3::QueryMsg::Settlements {
                    start_after: all.last().map(|x| x.settlement_id),
                    limit: Some(10),
                },
            );
            if page.settlements.is_empty() {
                return all;
            }
            all.extend(page.settlements);
        }
    }

    #[allow(clippy::type_complexity)]
    fn snapshot(
        &self,
    ) -> (
        Vec<c4::AccountResponse>,
        c4::TotalSupplyResponse,
        Vec<c5::Withdrawal>,
        Vec<c3::Settlement>,
    ) {
        let accounts = self.owners.iter().map(|o| self.s.account(o)).collect();
        (
            accounts,
            self.s.supply(),
            self.withdrawals(),
            self.settlements(),
        )
    }

    fn apply(&mut self, op: &Op) -> bool {
        let admin = self.s.admin.clone();
        match *op {
            Op::Deposit {
                who,
                amount,
                replay,
            } => {
                let bank_ref = if replay && self.deposits > 0 {
                    format!("CAMT-{}", self.deposits)
                } else {
                    format!("CAMT-{}", self.deposits + 1)
                };
                let owner = self.owners[who].clone();
                let ok = self.s.deposit(&bank_ref, &owner, amount).is_ok();
                if ok {
                    self.deposits += 1;
                    self.deposited += amount;
                }
                ok
            }
            Op::Withdraw { who, amount } => {
                let owner = self.owners[who].clone();
                let ok = self.s.request_withdrawal(&owner, amount).is_ok();
                if ok {
                    // What the owner's leases may still bill stayed behind.
                    assert!(self.s.account(&owner).available >= self.reserve(&owner));
                }
                ok
            }
            Op::Lease { who, cap } => {
                let owner = self.owners[who].clone();
                self.leases += 1;
                let id = format!("lease-{}", self.leases);
                if self.s.register_terminal_without_lease(&id).is_err() {
                    return false;
                }
                let start = self.s.now() - self.s.now() % WINDOW + WINDOW;
                // Registration happened whatever the lease does: count it as a step taken.
                let _ = self.s.open_lease(&owner, &id, start, None, Some(cap));
                true
            }
            Op::Dispute { period } => self.s.open_dispute(T0 + period * PERIOD).is_ok(),
            Op::Resolve { period, adjusted } => {
                let Some(proof) = self.s.period_proof(T0 + period * PERIOD) else {
                    return false;
                };
                let usage_common::msg::period_proof::PeriodStatus::Disputed { opened_at, .. } =
                    proof.status
                else {
                    return false;
                };
                let outcome = if adjusted {
                    DisputeOutcome::Adjusted {
                        totals: Totals {
                            records: 1,
                            net_tx_bytes: 400_000,
                            ..Default::default()
                        },
                    }
                } else {
                    DisputeOutcome::Upheld
                };
                self.s
                    .resolve_dispute(T0 + period * PERIOD, opened_at, outcome)
                    .is_ok()
            }
            Op::Cancel { who, id } => {
                let owner = self.owners[who].clone();
                self.s
                    .exec_c5(&owner, &c5::ExecuteMsg::Cancel { withdrawal_id: id })
                    .is_ok()
            }
            Op::Release { id } => self
                .s
                .exec_c5(&admin, &c5::ExecuteMsg::Release { withdrawal_id: id })
                .is_ok(),
            Op::ApproveWithdrawal { id } => {
                let payload: Result<WithdrawalApproval, _> = self.s.app.wrap().query_wasm_smart(
                    &self.s.c5,
                    &c5::QueryMsg::InstructionPayload { withdrawal_id: id },
                );
                let Ok(payload) = payload else { return false };
                let signature = self.s.sign(&self.s.c5.clone(), &payload);
                self.s
                    .exec_c5(
                        &admin,
                        &c5::ExecuteMsg::ApproveInstruction {
                            withdrawal_id: id,
                            signature,
                        },
                    )
                    .is_ok()
            }
            Op::WithdrawalVoucher {
                id,
                booked,
                reuse_ref,
            } => {
                let Some(w) = self.s.withdrawal(id) else {
                    return false;
                };
                let voucher = WithdrawalVoucher {
                    withdrawal_id: id,
                    end_to_end_id: w.end_to_end_id,
                    bank_ref: if reuse_ref {
                        "BOOK-W-SHARED".into()
                    } else {
                        format!("BOOK-W-{id}")
                    },
                    outcome: if booked {
                        BankOutcome::Booked
                    } else {
                        BankOutcome::Rejected
                    },
                    amount: w.amount,
                };
                let signature = self.s.sign(&self.s.c5.clone(), &voucher);
                self.s
                    .exec_c5(
                        &admin,
                        &c5::ExecuteMsg::RecordVoucher { voucher, signature },
                    )
                    .is_ok()
            }
            Op::Settle { period } => self.s.request_settlement(T0 + period * PERIOD).is_ok(),
            Op::ApproveSettlement { id } => {
                let payload: Result<SettlementApproval, _> = self.s.app.wrap().query_wasm_smart(
                    &self.s.c3,
                    &c3::QueryMsg::InstructionPayload { settlement_id: id },
                );
                let Ok(payload) = payload else { return false };
                let signature = self.s.sign(&self.s.c3.clone(), &payload);
                self.s
                    .exec_c3(
                        &admin,
                        &c3::ExecuteMsg::ApproveInstruction {
                            settlement_id: id,
                            signature,
                        },
                    )
                    .is_ok()
            }
            Op::SettlementVoucher { id, booked } => {
                let Some(x) = self.s.settlement(id) else {
                    return false;
                };
                let voucher = SettlementVoucher {
                    settlement_id: id,
                    end_to_end_id: x.end_to_end_id,
                    bank_ref: format!("BOOK-S-{id}"),
                    outcome: if booked {
                        BankOutcome::Booked
                    } else {
                        BankOutcome::Rejected
                    },
                    amount: x.amount,
                };
                let signature = self.s.sign(&self.s.c3.clone(), &voucher);
                self.s
                    .exec_c3(
                        &admin,
                        &c3::ExecuteMsg::RecordVoucher { voucher, signature },
                    )
                    .is_ok()
            }
            Op::Advance { seconds } => {
                self.s.advance(seconds);
                true
            }
        }
    }

    fn check_invariants(&self) -> Result<(), TestCaseError> {
        let supply = self.s.supply();
        let accounts: Vec<_> = self.owners.iter().map(|o| self.s.account(o)).collect();
        let sum: Uint128 = accounts.iter().map(|a| a.available + a.locked).sum();
        let locked: Uint128 = accounts.iter().map(|a| a.locked).sum();
        prop_assert_eq!(sum, supply.total);
        prop_assert_eq!(locked, supply.locked);
        prop_assert_eq!(supply.deposited, Uint128::new(self.deposited));
        prop_assert_eq!(
            supply.total + supply.settled + supply.withdrawn,
            supply.deposited
        );

        let mut open = Uint128::zero();
        let mut withdrawn = Uint128::zero();
        for w in self.withdrawals() {
            match w.status {
                c5::WithdrawalStatus::Delayed { .. }
                | c5::WithdrawalStatus::Requested
                | c5::WithdrawalStatus::Instructed => open += w.amount,
                c5::WithdrawalStatus::Completed { .. } => withdrawn += w.amount,
                _ => {}
            }
        }
        let mut settled = Uint128::zero();
        for x in self.settlements() {
            match x.status {
                c3::SettlementStatus::Requested | c3::SettlementStatus::Instructed => {
                    open += x.amount
                }
                c3::SettlementStatus::Cleared { .. } => settled += x.amount,
                _ => {}
            }
        }
        prop_assert_eq!(open + self.escrowed(), supply.locked);
        prop_assert_eq!(withdrawn, supply.withdrawn);
        prop_assert_eq!(settled, supply.settled);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn ledger_invariants_hold_under_random_operations(ops in prop::collection::vec(op(), 1..60)) {
        let mut m = Model::new();
        m.check_invariants()?;
        for op in &ops {
            let before = m.snapshot();
            let ok = m.apply(op);
            if !ok {
                prop_assert_eq!(&m.snapshot(), &before, "refused {:?} changed state", op);
            }
            m.check_invariants()?;
        }
    }
}
