use usage_common::governance::{GovernanceError, DEFAULT_TIMELOCK_SECONDS};

use super::suite::{SuiteBuilder, DISPUTE_WINDOW, GRACE, P0, PERIOD};
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::ContractError;

#[test]
fn timing_changes_wait_in_the_timelock_and_apply_to_later_proofs() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let before = suite.config();

    let mallory = suite.addr("mallory");
    assert_eq!(
        suite.queue_timing(&mallory, Some(0), Some(0)).unwrap_err(),
        ContractError::Governance(GovernanceError::NotAdmin)
    );
    let admin = suite.admin.clone();
    suite
        .queue_timing(&admin, Some(GRACE + 10), Some(DISPUTE_WINDOW * 2))
        .expect("queued");
    // Queued, visible, not in force.
    assert_eq!(suite.config(), before);
    let now = suite.now();
    let eta = now + DEFAULT_TIMELOCK_SECONDS;
    assert_eq!(
        suite.apply_change(1).unwrap_err(),
        ContractError::Governance(GovernanceError::TooEarly { id: 1, eta, now })
    );
    suite.set_time(eta);
    suite.apply_change(1).expect("applied once its time came");
    let after = suite.config();
    assert_eq!(after.grace_seconds, GRACE + 10);
    assert_eq!(after.dispute_window_seconds, DISPUTE_WINDOW * 2);
    // The deadline of an existing proof does not move.
    let proof = suite.proof(P0).expect("proof");
    assert_eq!(proof.dispute_deadline, P0 + PERIOD + GRACE + DISPUTE_WINDOW);
    assert_eq!(
        suite.apply_change(1).unwrap_err(),
        ContractError::Governance(GovernanceError::NoSuchChange { id: 1 })
    );
}

#[test]
fn migrate_bumps_the_version() {
    let mut suite = SuiteBuilder::new().build();
    let addr = suite.period_proof.clone();
    cw2::set_contract_version(
        suite.app.contract_storage_mut(&addr).as_mut(),
        CONTRACT_NAME,
        "0.0.1",
    )
    .expect("set version");
    suite.migrate().expect("migrate");
    let stored =
        cw2::get_contract_version(suite.app.contract_storage(&addr).as_ref()).expect("version");
    assert_eq!(stored.contract, CONTRACT_NAME);
    assert_eq!(stored.version, CONTRACT_VERSION);
}

#[test]
fn migrate_from_another_contract_or_a_newer_version_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let addr = suite.period_proof.clone();
    for (name, version) in [
        ("crates.io:usagechain-settlement", CONTRACT_VERSION),
        (CONTRACT_NAME, "99.0.0"),
    ] {
        cw2::set_contract_version(
            suite.app.contract_storage_mut(&addr).as_mut(),
            name,
            version,
        )
        .expect("set version");
        assert_eq!(
            suite.migrate().unwrap_err(),
            ContractError::CannotMigrate {
                from_name: name.to_string(),
                from_version: version.to_string(),
            }
        );
        let stored =
            cw2::get_contract_version(suite.app.contract_storage(&addr).as_ref()).expect("version");
        assert_eq!(
            (stored.contract.as_str(), stored.version.as_str()),
            (name, version)
        );
    }
}
