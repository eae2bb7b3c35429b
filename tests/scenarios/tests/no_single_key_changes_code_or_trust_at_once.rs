//! Governance across the contracts: a contract that is its own chain-level admin changes code
//! only through its timelock, where the change is queued, visible and cancellable; widening the
//! enclave allowlist waits there too, while revoking is immediate.

use cosmwasm_std::{HexBinary, WasmMsg};
use cw_multi_test::Executor;
use usage_common::governance::{GovernanceMsg, PendingChangesResponse, DEFAULT_TIMELOCK_SECONDS};
use usage_common::msg::usage_proof as c1;
use usage_scenarios::*;

#[test]
fn a_contract_that_is_its_own_admin_changes_code_only_through_its_timelock() {
    let mut s = Suite::new();
    let (admin, c1_addr) = (s.admin.clone(), s.c1.clone());
    let code_id = s
        .app
        .wrap()
        .query_wasm_contract_info(&c1_addr)
        .expect("info")
        .code_id;
    // Hand the chain-level admin role to the contract itself, as the localnet genesis does.
    s.app
        .execute(
            admin.clone(),
            WasmMsg::UpdateAdmin {
                contract_addr: c1_addr.to_string(),
                admin: c1_addr.to_string(),
            }
            .into(),
        )
        .expect("self-admin");
    // No key migrates it directly any more.
    assert!(s.migrate_in_place(&c1_addr).is_err());

    let queue = c1::ExecuteMsg::Governance(GovernanceMsg::QueueChange {
        change: c1::UsageProofChange::Migrate { code_id },
    });
    s.exec_c1(&admin, &queue).expect("queued");
    let pending: PendingChangesResponse<c1::UsageProofChange> =
        s.query(&c1_addr, &c1::QueryMsg::PendingChanges {});
    assert_eq!(pending.changes.len(), 1, "visible to everyone");
    assert_eq!(pending.changes[0].eta, s.now() + DEFAULT_TIMELOCK_SECONDS);

    let anyone = s.addr("anyone");
    let apply = c1::ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id: 1 });
    assert!(s.exec_c1(&anyone, &apply).is_err(), "not before its time");
    s.advance(DEFAULT_TIMELOCK_SECONDS);
    let res = s.exec_c1(&anyone, &apply).expect("applied");
    assert!(
        res.events.iter().any(|e| e.ty == "migrate"),
        "the contract migrated itself: {:?}",
        res.events
    );
}

#[test]
fn a_queued_allowlist_change_can_be_cancelled_and_revoking_is_immediate() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let other = HexBinary::from([0x77u8; 32]);
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::AllowMeasurement {
            measurement: other.clone(),
        },
    )
    .expect("queued, not allowed yet");
    let allowed = |s: &Suite| {
        let r: c1::MeasurementsResponse = s.query(
            &s.c1,
            &c1::QueryMsg::Measurements {
                start_after: None,
                limit: None,
            },
        );
        r.measurements
    };
    assert!(!allowed(&s).contains(&other));
    let mallory = s.addr("mallory");
    let cancel = c1::ExecuteMsg::Governance(GovernanceMsg::CancelChange { id: 1 });
    assert!(s.exec_c1(&mallory, &cancel).is_err());
    s.exec_c1(&admin, &cancel).expect("cancelled");
    s.advance(DEFAULT_TIMELOCK_SECONDS);
    assert!(s
        .exec_c1(
            &mallory,
            &c1::ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id: 1 })
        )
        .is_err());
    assert!(!allowed(&s).contains(&other));

    // Revoking restricts: it takes effect at once.
    s.exec_c1(
        &admin,
        &c1::ExecuteMsg::RevokeMeasurement {
            measurement: HexBinary::from(MEASUREMENT),
        },
    )
    .expect("revoked");
    assert!(allowed(&s).is_empty());
}
