//! Money refusals: an overdraft, withdrawals past the balance, a stranger spending or cancelling
//! someone else's withdrawal, a settlement before the period is final or beyond the tenant's
//! funds. Each refusal is typed and changes nothing.

use cosmwasm_std::Uint128;
use usage_common::msg::{ledger as c4, withdrawal as c5};
use usage_scenarios::*;

fn balances(s: &Suite) -> (c4::AccountResponse, c4::TotalSupplyResponse) {
    (s.account(&s.tenant), s.supply())
}

#[test]
fn an_overdraft_through_the_ledger_is_refused() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-1", &tenant, 1_000).expect("deposit");
    let before = balances(&s);
    // Only C3 and C5 may lock; even they cannot lock more than is available.
    let c5 = s.c5.clone();
    let err = s
        .exec_c4(
            &c5,
            &c4::ExecuteMsg::Lock {
                owner: tenant.to_string(),
                amount: Uint128::new(1_001),
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        LedgerError::InsufficientBalance {
            needed: Uint128::new(1_001),
            available: Uint128::new(1_000)
        }
    );
    let stranger = s.addr("stranger");
    assert_eq!(
        s.exec_c4(
            &stranger,
            &c4::ExecuteMsg::DebitLocked {
                owner: tenant.to_string(),
                amount: Uint128::new(1),
            },
        )
        .unwrap_err(),
        LedgerError::Unauthorized
    );
    assert_eq!(balances(&s), before);
}

#[test]
fn two_withdrawals_exceeding_the_balance_are_refused_past_the_first() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-2", &tenant, 10_000).expect("deposit");
    s.request_withdrawal(&tenant, 7_000).expect("first");
    let before = balances(&s);
    assert_eq!(
        s.request_withdrawal(&tenant, 7_000).unwrap_err(),
        WithdrawalError::InsufficientFunds {
            needed: Uint128::new(7_000),
            available: Uint128::new(3_000)
        }
    );
    assert_eq!(balances(&s), before);
    assert!(s.withdrawal(2).is_none());
    assert_eq!(before.0.available + before.0.locked, Uint128::new(10_000));
}

#[test]
fn a_non_owner_cannot_withdraw_or_cancel_someone_elses_funds() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-3", &tenant, 5_000).expect("deposit");
    s.request_withdrawal(&tenant, 1_000)
        .expect("owner's request");
    let before = balances(&s);
    // The withdrawal's owner is always the signing account: a stranger only reaches its own
    // (empty) balance.
    let stranger = s.addr("stranger");
    assert_eq!(
        s.request_withdrawal(&stranger, 1_000).unwrap_err(),
        WithdrawalError::InsufficientFunds {
            needed: Uint128::new(1_000),
            available: Uint128::zero()
        }
    );
    assert!(matches!(
        s.exec_c5(&stranger, &c5::ExecuteMsg::Cancel { withdrawal_id: 1 })
            .unwrap_err(),
        WithdrawalError::NotOwner { .. }
    ));
    assert_eq!(balances(&s), before);
    assert_eq!(
        s.withdrawal(1).expect("withdrawal").status,
        c5::WithdrawalStatus::Requested
    );
}

#[test]
fn a_settlement_before_the_period_is_final_is_refused() {
    let mut s = Suite::new();
    let t = s.register_terminals(1);
    s.set_payee();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-4", &tenant, 100_000).expect("deposit");
    s.advance(WINDOW);
    let records = vec![s.record(&t[0], T0, 50_000)];
    s.submit(&records).expect("batch");

    // No second proof yet.
    let before = balances(&s);
    assert!(matches!(
        s.request_settlement(T0).unwrap_err(),
        SettlementError::NoPeriodProof { .. }
    ));
    assert_eq!(balances(&s), before);
    s.advance(PERIOD + GRACE);
    s.prove_period(T0).expect("proven");
    // Proving escrowed the period's price; a refused request changes nothing more.
    let proven = balances(&s);
    assert!(!proven.0.locked.is_zero());
    // Proven, but the dispute window is still open.
    assert!(matches!(
        s.request_settlement(T0).unwrap_err(),
        SettlementError::NotFinal { .. }
    ));
    assert_eq!(balances(&s), proven);
    assert!(s.settlement(1).is_none());
}

#[test]
fn a_tenant_without_enough_funds_cannot_be_settled_and_nothing_changes() {
    let mut s = Suite::new();
    let t = s.register_terminals(1);
    s.set_payee();
    s.advance(WINDOW);
    let records = vec![s.record(&t[0], T0, 5_000_000)];
    s.submit(&records).expect("batch");
    s.advance(PERIOD + GRACE);
    s.prove_period(T0).expect("proven");
    s.advance(DISPUTE_WINDOW + 1);
    let tenant = s.tenant.clone();
    s.deposit("CAMT-5", &tenant, 10).expect("a little money");
    let before = balances(&s);
    assert!(matches!(
        s.request_settlement(T0).unwrap_err(),
        SettlementError::InsufficientFunds { .. }
    ));
    assert_eq!(balances(&s), before);
    assert!(s.settlement(1).is_none());
}
