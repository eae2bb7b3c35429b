//! C1 refuses a batch as a whole, with a typed error and no proof recorded, when any record is
//! wrong: a (terminal, window) twice, an unknown terminal, a key already proven, disorder, an open
//! window, a revoked measurement, bytes that do not decode.

use cosmwasm_std::{Binary, HexBinary};
use usage_common::governance::{GovernanceError, GovernanceMsg, DEFAULT_TIMELOCK_SECONDS};
use usage_common::msg::usage_proof as c1;
use usage_scenarios::*;

fn setup(n: usize) -> (Suite, Vec<String>) {
    let mut s = Suite::new();
    let t = s.register_terminals(n);
    s.advance(2 * WINDOW);
    (s, t)
}

fn next_batch_id(s: &Suite) -> u64 {
    let c: c1::ConfigResponse = s.query(&s.c1, &c1::QueryMsg::Config {});
    c.next_batch_id
}

#[test]
fn a_batch_with_a_duplicate_terminal_window_is_refused() {
    let (mut s, t) = setup(2);
    let records = vec![
        s.record(&t[0], T0, 100),
        s.record(&t[1], T0, 100),
        s.record(&t[1], T0, 999),
    ];
    assert_eq!(
        s.submit(&records).unwrap_err(),
        UsageProofError::DuplicateRecord {
            terminal_id: t[1].clone(),
            window_start: T0
        }
    );
    assert!(s.proof(&t[0], T0).is_none());
    assert_eq!(next_batch_id(&s), 1);
}

#[test]
fn a_window_proven_once_is_refused_the_second_time() {
    let (mut s, t) = setup(2);
    let first = vec![s.record(&t[0], T0, 100)];
    s.submit(&first).expect("first");
    // A later batch that repeats (term-000, T0) among new records is refused whole.
    let again = vec![s.record(&t[0], T0, 100), s.record(&t[1], T0, 100)];
    assert_eq!(
        s.submit(&again).unwrap_err(),
        UsageProofError::AlreadyProven {
            terminal_id: t[0].clone(),
            window_start: T0
        }
    );
    assert!(s.proof(&t[1], T0).is_none());
    assert_eq!(next_batch_id(&s), 2);
}

#[test]
fn a_record_of_an_unknown_terminal_is_refused() {
    let (mut s, t) = setup(1);
    let records = vec![s.record(&t[0], T0, 100), s.record("term-ghost", T0, 100)];
    assert_eq!(
        s.submit(&records).unwrap_err(),
        UsageProofError::UnknownTerminal {
            terminal_id: "term-ghost".into()
        }
    );
    assert!(s.proof(&t[0], T0).is_none());
}

#[test]
fn records_out_of_order_are_refused() {
    let (mut s, t) = setup(2);
    let records = vec![s.record(&t[1], T0, 100), s.record(&t[0], T0, 100)];
    assert_eq!(
        s.submit(&records).unwrap_err(),
        UsageProofError::BatchNotSorted { index: 1 }
    );
}

#[test]
fn a_window_that_has_not_ended_is_refused() {
    let (mut s, t) = setup(1);
    let open = s.now() - s.now() % WINDOW;
    let records = vec![s.record(&t[0], open, 100)];
    assert_eq!(
        s.submit(&records).unwrap_err(),
        UsageProofError::WindowNotClosed {
            terminal_id: t[0].clone(),
            window_start: open
        }
    );
    let unaligned = vec![s.record(&t[0], T0 + 3, 100)];
    assert_eq!(
        s.submit(&unaligned).unwrap_err(),
        UsageProofError::WindowNotAligned {
            terminal_id: t[0].clone(),
            window_start: T0 + 3
        }
    );
}

#[test]
fn a_terminal_whose_measurement_was_revoked_is_refused() {
    let (mut s, t) = setup(1);
    let admin = s.admin.clone();
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::RevokeMeasurement {
            measurement: HexBinary::from(MEASUREMENT),
        },
    )
    .expect("revoke");
    let records = vec![s.record(&t[0], T0, 100)];
    assert_eq!(
        s.submit(&records).unwrap_err(),
        UsageProofError::MeasurementNotAllowed {
            terminal_id: t[0].clone(),
            measurement: HexBinary::from(MEASUREMENT)
        }
    );
}

#[test]
fn a_software_tee_terminal_is_refused_unless_policy_allows_it() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let msg = c1::ExecuteMsg::RegisterTerminal {
        terminal_id: "soft-1".into(),
        provider: s.provider.to_string(),
        attestor_key: HexBinary::from([9u8; 32]),
        tee: c1::TeeKind::Software,
        measurement: HexBinary::from(MEASUREMENT),
        shared_attestor: false,
    };
    assert_eq!(
        s.exec_c1(&admin, &msg).unwrap_err(),
        UsageProofError::SoftwareTeeRefused {
            terminal_id: "soft-1".into()
        }
    );
    // Accepting software keys widens trust: not at once, only through the timelock.
    assert_eq!(
        s.exec_c1(
            &admin,
            &c1::ExecuteMsg::UpdateConfig {
                accept_software_tee: Some(true),
                period_proof: None,
            },
        )
        .unwrap_err(),
        UsageProofError::Governance(GovernanceError::Timelocked)
    );
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::Governance(GovernanceMsg::QueueChange {
            change: c1::UsageProofChange::AcceptSoftwareTee {},
        }),
    )
    .expect("queued");
    assert!(s.exec_c1(&admin, &msg).is_err(), "not before the timelock");
    s.advance(DEFAULT_TIMELOCK_SECONDS);
    let anyone = s.addr("anyone");
    s.exec_c1(
        &anyone,
        &c1::ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id: 1 }),
    )
    .expect("policy applied");
    s.exec_c1(&admin, &msg).expect("accepted by policy");
}

#[test]
fn bytes_that_do_not_decode_and_non_admin_registration_are_refused() {
    let (mut s, _) = setup(1);
    let sig = s.sign(&s.c1.clone(), &Suite::digest(&[]));
    let admin = s.admin.clone();
    assert!(matches!(
        s.exec_c1(
            &admin,
            &c1::ExecuteMsg::SubmitBatch {
                records: Binary::from(vec![1, 0, 0, 0, 5, 0]),
                signature: sig,
            },
        )
        .unwrap_err(),
        UsageProofError::MalformedBatch { .. }
    ));
    let stranger = s.addr("stranger");
    let msg = c1::ExecuteMsg::RegisterTerminal {
        terminal_id: "term-x".into(),
        provider: s.provider.to_string(),
        attestor_key: HexBinary::from([9u8; 32]),
        tee: c1::TeeKind::Sgx,
        measurement: HexBinary::from(MEASUREMENT),
        shared_attestor: false,
    };
    assert_eq!(
        s.exec_c1(&stranger, &msg).unwrap_err(),
        UsageProofError::Unauthorized
    );
}

#[test]
fn a_deactivated_terminal_is_refused() {
    let (mut s, t) = setup(1);
    let admin = s.admin.clone();
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::DeactivateTerminal {
            terminal_id: t[0].clone(),
        },
    )
    .expect("deactivate");
    let records = vec![s.record(&t[0], T0, 100)];
    assert_eq!(
        s.submit(&records).unwrap_err(),
        UsageProofError::TerminalInactive {
            terminal_id: t[0].clone()
        }
    );
    assert!(s.proof(&t[0], T0).is_none());
}
