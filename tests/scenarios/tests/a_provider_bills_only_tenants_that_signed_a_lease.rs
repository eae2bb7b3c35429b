//! C1 proves a record for a tenant only inside a lease that tenant opened itself (its own signed
//! transaction): the provider cannot pick whom to bill, and a terminal's provider, leases and
//! attestor key are bound so that history cannot be rewritten.

use cosmwasm_std::HexBinary;
use usage_common::merkle;
use usage_common::msg::usage_proof as c1;
use usage_scenarios::{Suite, UsageProofError, MEASUREMENT, T0, WINDOW};

#[test]
fn a_record_for_a_tenant_without_a_lease_is_refused() {
    let mut s = Suite::new();
    s.register_terminal_without_lease("term-a")
        .expect("register");
    s.advance(WINDOW);
    assert_eq!(
        s.submit(&[s.record("term-a", T0, 1_000)]).unwrap_err(),
        UsageProofError::NoLease {
            terminal_id: "term-a".into(),
            window_start: T0,
            tenant: s.tenant.to_string(),
        }
    );
    assert!(s.proof("term-a", T0).is_none());
}

#[test]
fn a_provider_cannot_bill_a_tenant_other_than_the_terminals_lessee() {
    let mut s = Suite::new();
    s.register_terminal("term-a")
        .expect("register and lease to the suite's tenant");
    s.advance(WINDOW);
    let mut record = s.record("term-a", T0, 1_000);
    let victim = s.addr("victim-who-only-deposited");
    record.tenant = victim.to_string();
    assert_eq!(
        s.submit(&[record]).unwrap_err(),
        UsageProofError::NoLease {
            terminal_id: "term-a".into(),
            window_start: T0,
            tenant: victim.to_string(),
        }
    );
    // A tenant string that is no address at all is refused the same way.
    let mut record = s.record("term-a", T0, 1_000);
    record.tenant = "tenant-a".into();
    assert!(matches!(
        s.submit(&[record]).unwrap_err(),
        UsageProofError::NoLease { .. }
    ));
}

#[test]
fn leases_of_one_terminal_never_overlap_and_windows_outside_them_are_refused() {
    let mut s = Suite::new();
    s.register_terminal_without_lease("term-a")
        .expect("register");
    let (alice, bob) = (s.tenant.clone(), s.addr("bob"));
    s.open_lease(&alice, "term-a", T0, Some(T0 + 2 * WINDOW), None)
        .expect("alice leases two windows");
    assert_eq!(
        s.open_lease(&bob, "term-a", T0 + WINDOW, None, None)
            .unwrap_err(),
        UsageProofError::LeaseOverlap {
            terminal_id: "term-a".into(),
            start: T0 + WINDOW,
            other_start: T0,
        }
    );
    assert_eq!(
        s.open_lease(&bob, "term-a", T0 - WINDOW, Some(T0 + WINDOW), None)
            .unwrap_err(),
        UsageProofError::LeaseOverlap {
            terminal_id: "term-a".into(),
            start: T0 - WINDOW,
            other_start: T0,
        }
    );
    assert!(matches!(
        s.open_lease(&bob, "term-a", T0 + 3, None, None)
            .unwrap_err(),
        UsageProofError::InvalidLease { .. }
    ));
    s.open_lease(&bob, "term-a", T0 + 2 * WINDOW, None, None)
        .expect("bob follows alice");

    s.advance(4 * WINDOW);
    let in_alices = s.record("term-a", T0 + WINDOW, 1_000);
    s.submit(&[in_alices])
        .expect("alice's window, billed to alice");
    let mut bobs = s.record("term-a", T0 + 2 * WINDOW, 1_000);
    bobs.tenant = bob.to_string();
    s.submit(&[bobs]).expect("bob's window, billed to bob");
    // Alice's lease has ended: her tenant on a later window is refused.
    let late_alice = s.record("term-a", T0 + 3 * WINDOW, 1_000);
    assert!(matches!(
        s.submit(&[late_alice]).unwrap_err(),
        UsageProofError::NoLease { .. }
    ));
    let lease: c1::LeaseResponse = s.query(
        &s.c1.clone(),
        &c1::QueryMsg::LeaseAt {
            terminal_id: "term-a".into(),
            window_start: T0 + WINDOW,
        },
    );
    assert_eq!(lease.lease.expect("lease").tenant, alice);
}

#[test]
fn only_a_leases_parties_end_it_and_never_before_the_current_window() {
    let mut s = Suite::new();
    s.register_terminal("term-a")
        .expect("register and lease from 0");
    let tenant = s.tenant.clone();
    let mallory = s.addr("mallory");
    assert_eq!(
        s.exec_c1(
            &mallory,
            &c1::ExecuteMsg::CloseLease {
                terminal_id: "term-a".into(),
                start: 0,
                end: T0,
            }
        )
        .unwrap_err(),
        UsageProofError::NotLeaseParty
    );
    s.advance(3 * WINDOW);
    // Asking to end it in the past ends it after the current window: consent already used, and
    // the window under way, stay.
    s.exec_c1(
        &tenant,
        &c1::ExecuteMsg::CloseLease {
            terminal_id: "term-a".into(),
            start: 0,
            end: T0,
        },
    )
    .expect("tenant ends the lease");
    let leases: c1::LeasesResponse = s.query(
        &s.c1.clone(),
        &c1::QueryMsg::Leases {
            terminal_id: "term-a".into(),
            start_after: None,
            limit: None,
        },
    );
    assert_eq!(leases.leases[0].end, Some(T0 + 4 * WINDOW));
    s.submit(&[s.record("term-a", T0 + 2 * WINDOW, 1)])
        .expect("a window before the end is still billable");
    s.advance(2 * WINDOW);
    s.submit(&[s.record("term-a", T0 + 3 * WINDOW, 1)])
        .expect("the window under way when it was ended is billable too");
    assert!(matches!(
        s.submit(&[s.record("term-a", T0 + 4 * WINDOW, 1)])
            .unwrap_err(),
        UsageProofError::NoLease { .. }
    ));
}

#[test]
fn one_attestor_key_speaks_for_one_terminal_unless_both_declare_sharing() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let register = |id: &str, shared: bool| c1::ExecuteMsg::RegisterTerminal {
        terminal_id: id.into(),
        provider: s.provider.to_string(),
        attestor_key: HexBinary::from([7u8; 32]),
        tee: c1::TeeKind::Sgx,
        measurement: HexBinary::from(MEASUREMENT),
        shared_attestor: shared,
    };
    let (a, b, b_shared, a_shared) = (
        register("host-a", false),
        register("host-b", false),
        register("host-b", true),
        register("host-a", true),
    );
    s.exec_c1(&admin, &a).expect("first terminal on the key");
    assert_eq!(
        s.exec_c1(&admin, &b).unwrap_err(),
        UsageProofError::AttestorKeyInUse {
            other: "host-a".into()
        }
    );
    // Declaring on one side is not enough: the first terminal did not declare it.
    assert_eq!(
        s.exec_c1(&admin, &b_shared).unwrap_err(),
        UsageProofError::AttestorKeyInUse {
            other: "host-a".into()
        }
    );
    s.exec_c1(&admin, &a_shared)
        .expect("host-a declares sharing");
    s.exec_c1(&admin, &b_shared)
        .expect("both declared: one host, several terminals");
}

#[test]
fn a_terminals_provider_never_changes() {
    let mut s = Suite::new();
    s.register_terminal("term-a").expect("register");
    s.advance(WINDOW);
    s.submit(&[s.record("term-a", T0, 1_000)]).expect("proof");
    let admin = s.admin.clone();
    let other = s.addr("other-provider");
    assert_eq!(
        s.exec_c1(
            &admin,
            &c1::ExecuteMsg::RegisterTerminal {
                terminal_id: "term-a".into(),
                provider: other.to_string(),
                attestor_key: HexBinary::from(merkle::sha256(b"term-a")),
                tee: c1::TeeKind::Sgx,
                measurement: HexBinary::from(MEASUREMENT),
                shared_attestor: false,
            },
        )
        .unwrap_err(),
        UsageProofError::ProviderChange {
            terminal_id: "term-a".into(),
            provider: s.provider.to_string(),
        }
    );
    assert_eq!(
        s.proof("term-a", T0).expect("proof").provider,
        s.provider,
        "past proofs keep their provider"
    );
}
