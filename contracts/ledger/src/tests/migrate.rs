//! Migration: only from an older or equal version of this same contract.

use super::suite::Suite;
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

fn set_stored_version(s: &mut Suite, name: &str, version: &str) {
    let mut storage = s.app.contract_storage_mut(&s.ledger);
    cw2::set_contract_version(storage.as_mut(), name, version).expect("writes cw2 info");
}

fn stored_version(s: &Suite) -> cw2::ContractVersion {
    cw2::query_contract_info(&s.app.wrap(), s.ledger.to_string()).expect("cw2 info")
}

#[test]
fn migrate_bumps_the_cw2_version_and_refuses_another_contract_name() {
    let mut s = Suite::new();
    assert_eq!(
        stored_version(&s),
        cw2::ContractVersion {
            contract: CONTRACT_NAME.into(),
            version: CONTRACT_VERSION.into()
        }
    );

    set_stored_version(&mut s, CONTRACT_NAME, "0.0.1");
    s.migrate().expect("migrates from an older version");
    assert_eq!(stored_version(&s).version, CONTRACT_VERSION);

    set_stored_version(&mut s, "crates.io:usagechain-withdrawal", "0.0.1");
    assert_eq!(
        s.migrate().unwrap_err(),
        ContractError::CannotMigrate {
            from_name: "crates.io:usagechain-withdrawal".into(),
            from_version: "0.0.1".into()
        }
    );
    assert_eq!(
        stored_version(&s).contract,
        "crates.io:usagechain-withdrawal"
    );

    set_stored_version(&mut s, CONTRACT_NAME, "99.0.0");
    assert_eq!(
        s.migrate().unwrap_err(),
        ContractError::CannotMigrate {
            from_name: CONTRACT_NAME.into(),
            from_version: "99.0.0".into()
        }
    );
    assert_eq!(stored_version(&s).version, "99.0.0");
}
