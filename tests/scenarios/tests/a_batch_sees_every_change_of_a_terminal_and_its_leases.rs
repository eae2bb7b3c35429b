//! C1 keeps what a batch needs of a terminal (its registration and latest lease) in one compact
//! copy beside them. Every change of the registration or of a lease must reach the next batch: a
//! copy made before the change is never what decides.

use cosmwasm_std::Uint128;
use usage_common::msg::usage_proof as c1;
use usage_scenarios::*;

#[test]
fn a_terminal_deactivated_after_a_batch_is_refused_in_the_next() {
    let mut s = Suite::new();
    let t = s.register_terminals(2);
    s.advance(3 * WINDOW);
    s.submit(&[s.record(&t[0], T0, 1), s.record(&t[1], T0, 1)])
        .expect("both proven");
    let admin = s.admin.clone();
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::DeactivateTerminal {
            terminal_id: t[0].clone(),
        },
    )
    .expect("deactivate");
    assert_eq!(
        s.submit(&[s.record(&t[0], T0 + WINDOW, 1)]).unwrap_err(),
        UsageProofError::TerminalInactive {
            terminal_id: t[0].clone()
        }
    );
    s.submit(&[s.record(&t[1], T0 + WINDOW, 1)])
        .expect("the other terminal goes on");
}

#[test]
fn a_lease_ended_or_replaced_after_a_batch_decides_the_next() {
    let mut s = Suite::new();
    let t = s.register_terminals(1);
    s.advance(2 * WINDOW);
    s.submit(&[s.record(&t[0], T0, 1)]).expect("proven");
    // The tenant ends its lease after the window under way; another tenant leases from then.
    let tenant = s.tenant.clone();
    s.exec_c1(
        &tenant,
        &c1::ExecuteMsg::CloseLease {
            terminal_id: t[0].clone(),
            start: 0,
            end: T0 + 3 * WINDOW,
        },
    )
    .expect("end the lease");
    let other = s.addr("other-tenant");
    s.open_lease(&other, &t[0], T0 + 3 * WINDOW, None, None)
        .expect("a new lease");
    s.advance(3 * WINDOW);
    s.submit(&[s.record(&t[0], T0 + WINDOW, 1)])
        .expect("a window of the first lease is still its tenant's");
    let late_for_first = s.record(&t[0], T0 + 3 * WINDOW, 1);
    assert!(matches!(
        s.submit(&[late_for_first]).unwrap_err(),
        UsageProofError::NoLease { .. }
    ));
    let mut for_other = s.record(&t[0], T0 + 3 * WINDOW, 1);
    for_other.tenant = other.to_string();
    s.submit(&[for_other]).expect("the new lease's tenant");
}

#[test]
fn a_capped_lease_counts_once_per_period_across_batches_and_again_in_the_next_period() {
    let mut s = Suite::new();
    s.register_terminal_without_lease("term-cap")
        .expect("register");
    let tenant = s.tenant.clone();
    s.open_lease(&tenant, "term-cap", 0, None, Some(500))
        .expect("a capped lease");
    s.advance(PERIOD + 2 * WINDOW);
    for w in 0..3 {
        s.submit(&[s.record("term-cap", T0 + w * WINDOW, 1)])
            .expect("proven");
    }
    assert_eq!(s.accumulator(T0).price_cap, Some(Uint128::new(500)));
    assert_eq!(s.accumulator(T0).frontier.size, 3);
    // The next period counts the lease's cap once more, however many batches bring it.
    s.submit(&[s.record("term-cap", T0 + PERIOD, 1)])
        .expect("proven");
    s.submit(&[s.record("term-cap", T0 + 3 * WINDOW, 1)])
        .expect("back in the first period");
    s.submit(&[s.record("term-cap", T0 + PERIOD + WINDOW, 1)])
        .expect("proven");
    assert_eq!(s.accumulator(T0).price_cap, Some(Uint128::new(500)));
    assert_eq!(
        s.accumulator(T0 + PERIOD).price_cap,
        Some(Uint128::new(500))
    );
    assert_eq!(s.accumulator(T0 + PERIOD).frontier.size, 2);
}
