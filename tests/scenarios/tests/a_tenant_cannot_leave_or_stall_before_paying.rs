//! Escrow and disputes across C1–C5: proven usage is locked the moment its period is sealed, a
//! capped lease keeps its reserve out of reach of withdrawals, a dispute locks a bond and ends at a
//! deadline after which the proven totals stand, and the bond follows the verdict.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use cosmwasm_std::Uint128;
use usage_common::msg::period_proof as c2;
use usage_common::msg::usage_proof as c1;
use usage_common::payload::DisputeOutcome;
use usage_common::record::Totals;
use usage_scenarios::{
    PeriodProofError, SettlementError, Suite, UsageProofError, WithdrawalError, DISPUTE_BOND,
    DISPUTE_WINDOW, GRACE, PERIOD, RESOLUTION_WINDOW, T0, WINDOW,
};

/// One terminal leased by the suite's tenant, `deposit` credited, one window of usage proven
/// and its period sealed. Returns the suite and the period's escrowed price.
fn proven(deposit: u128) -> (Suite, u128) {
    let mut s = Suite::new();
    let t = s.register_terminals(1);
    s.set_payee();
    let tenant = s.tenant.clone();
    s.deposit("CAMT-1", &tenant, deposit).expect("deposit");
    s.advance(WINDOW);
    s.submit(&[s.record(&t[0], T0, 400_000)]).expect("usage");
    s.advance(T0 + PERIOD + GRACE - s.now());
    s.prove_period(T0).expect("sealed");
    let locked = s.account(&tenant).locked.u128();
    (s, locked)
}

#[test]
fn proven_usage_is_escrowed_and_cannot_be_withdrawn_before_it_is_paid() {
    let (mut s, price) = proven(10_000);
    let tenant = s.tenant.clone();
    assert!(price > 0, "the sealed period's price is locked");
    // Inside the dispute window the tenant tries to leave with everything.
    assert_eq!(
        s.request_withdrawal(&tenant, 10_000).unwrap_err(),
        WithdrawalError::InsufficientFunds {
            needed: Uint128::new(10_000),
            available: Uint128::new(10_000 - price),
        }
    );
    s.request_withdrawal(&tenant, 10_000 - price)
        .expect("the rest may go");
    s.advance(DISPUTE_WINDOW + 1);
    s.request_settlement(T0)
        .expect("the escrow pays the settlement");
    let settlement = s.settlement(1).expect("settlement");
    assert_eq!(settlement.amount.u128(), price);
}

#[test]
fn a_capped_lease_keeps_its_reserve_out_of_reach_of_withdrawals() {
    let mut s = Suite::new();
    s.register_terminal_without_lease("term-a")
        .expect("register");
    let tenant = s.tenant.clone();
    s.open_lease(&tenant, "term-a", T0, None, Some(500))
        .expect("capped lease");
    s.deposit("CAMT-1", &tenant, 2_000).expect("deposit");
    // Reserve: the cap for the current period and those still in grace (here 3 periods).
    let reserve = 1_500;
    assert_eq!(
        s.request_withdrawal(&tenant, 600).unwrap_err(),
        WithdrawalError::ReservedForLeases {
            reserve: Uint128::new(reserve),
            available: Uint128::new(2_000),
            amount: Uint128::new(600),
        }
    );
    s.request_withdrawal(&tenant, 500)
        .expect("above the reserve");

    // Ended, the lease holds its reserve until every period it could bill has closed.
    s.exec_c1(
        &tenant,
        &c1::ExecuteMsg::CloseLease {
            terminal_id: "term-a".into(),
            start: T0,
            end: T0 + 2 * WINDOW,
        },
    )
    .expect("end the lease");
    let release = c1::ExecuteMsg::ReleaseLeaseReserve {
        terminal_id: "term-a".into(),
        start: T0,
    };
    let anyone = s.addr("anyone");
    assert!(matches!(
        s.exec_c1(&anyone, &release).unwrap_err(),
        UsageProofError::InvalidLease { .. }
    ));
    s.advance(T0 + 2 * WINDOW + PERIOD + GRACE - s.now());
    s.exec_c1(&anyone, &release).expect("released");
    s.request_withdrawal(&tenant, 1_500).expect("all of it now");
}

#[test]
fn a_lease_cap_bounds_the_bill_of_its_period() {
    let mut s = Suite::new();
    s.register_terminal_without_lease("term-a")
        .expect("register");
    let tenant = s.tenant.clone();
    s.open_lease(&tenant, "term-a", T0, None, Some(50))
        .expect("lease");
    s.set_payee();
    s.deposit("CAMT-1", &tenant, 100_000).expect("deposit");
    s.advance(WINDOW);
    s.submit(&[s.record("term-a", T0, 5_000_000)])
        .expect("usage");
    s.advance(T0 + PERIOD + GRACE + DISPUTE_WINDOW + 1 - s.now());
    s.prove_period(T0).expect("sealed");
    assert_eq!(
        s.period_proof(T0).expect("proof").price_cap,
        Some(Uint128::new(50))
    );
    s.advance(DISPUTE_WINDOW + 1);
    s.request_settlement(T0).expect("settled");
    let settlement = s.settlement(1).expect("settlement");
    assert_eq!(settlement.amount, Uint128::new(50));
    assert!(settlement.capped);
}

#[test]
fn an_unresolved_dispute_ends_at_its_deadline_and_the_proven_totals_are_billed_with_the_bond() {
    let (mut s, price) = proven(10_000);
    let tenant = s.tenant.clone();
    s.open_dispute(T0).expect("dispute with a bond");
    assert_eq!(
        s.account(&tenant).locked.u128(),
        price + DISPUTE_BOND,
        "the bond is locked beside the escrow"
    );
    let resolve_by = match s.period_proof(T0).expect("proof").status {
        c2::PeriodStatus::Disputed { resolve_by, .. } => resolve_by,
        other => panic!("not disputed: {other:?}"),
    };
    // Until the deadline the period cannot be settled …
    s.advance(resolve_by - s.now());
    assert!(matches!(
        s.request_settlement(T0).unwrap_err(),
        SettlementError::NotFinal { .. }
    ));
    // … and after it, without any resolution, the proven totals stand and the bond is billed.
    s.advance(1);
    s.request_settlement(T0)
        .expect("a dispute cannot block billing forever");
    let settlement = s.settlement(1).expect("settlement");
    assert_eq!(settlement.usage_amount.u128(), price);
    assert_eq!(settlement.forfeited_bond.u128(), DISPUTE_BOND);
    assert_eq!(settlement.amount.u128(), price + DISPUTE_BOND);
    assert_eq!(s.account(&tenant).locked, settlement.amount);
    // A resolution after the deadline is refused.
    let opened_at = resolve_by - RESOLUTION_WINDOW;
    assert_eq!(
        s.resolve_dispute(T0, opened_at, DisputeOutcome::Upheld)
            .unwrap_err(),
        PeriodProofError::ResolutionDeadlinePassed {
            deadline: resolve_by
        }
    );
}

#[test]
fn a_dispute_needs_funds_for_its_bond() {
    let (mut s, price) = proven(10_000);
    let tenant = s.tenant.clone();
    s.request_withdrawal(&tenant, 10_000 - price - DISPUTE_BOND + 1)
        .expect("leave less than the bond");
    assert_eq!(
        s.open_dispute(T0).unwrap_err(),
        PeriodProofError::BondNotAvailable {
            needed: Uint128::new(DISPUTE_BOND),
            available: Uint128::new(DISPUTE_BOND - 1),
        }
    );
    assert!(matches!(
        s.period_proof(T0).expect("proof").status,
        c2::PeriodStatus::Proven
    ));
}

#[test]
fn an_adjusted_resolution_returns_the_bond_and_bills_the_adjusted_totals() {
    let (mut s, price) = proven(10_000);
    let tenant = s.tenant.clone();
    s.open_dispute(T0).expect("dispute");
    let opened_at = s.now();
    // A resolution for another dispute (another opening time) is refused.
    assert_eq!(
        s.resolve_dispute(T0, opened_at + 1, DisputeOutcome::Upheld)
            .unwrap_err(),
        PeriodProofError::WrongDispute {
            expected: opened_at,
            got: opened_at + 1,
        }
    );
    let adjusted = Totals {
        records: 1,
        net_tx_bytes: 100_000,
        ..Default::default()
    };
    s.resolve_dispute(T0, opened_at, DisputeOutcome::Adjusted { totals: adjusted })
        .expect("adjusted");
    s.request_settlement(T0)
        .expect("resolved periods settle at once");
    let settlement = s.settlement(1).expect("settlement");
    assert_eq!(settlement.forfeited_bond, Uint128::zero());
    // Only the adjusted totals are billed; the rest of the escrow and the bond are back.
    assert_eq!(settlement.usage_amount, Uint128::new(500));
    assert_eq!(settlement.amount, Uint128::new(500));
    assert_eq!(s.account(&tenant).locked, settlement.amount);
    assert_eq!(
        s.account(&tenant).available.u128(),
        10_000 - settlement.amount.u128()
    );
    assert!(settlement.amount.u128() < price + DISPUTE_BOND);
}
