//! Administration, queries and migration.

use cosmwasm_std::Uint128;
use usage_common::governance::{GovernanceError, GovernanceMsg};
use usage_common::msg::withdrawal::{ConfigResponse, ExecuteMsg, QueryMsg, WithdrawalsResponse};

use super::suite::{test_limits, Suite, IBAN};
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::error::ContractError;

#[test]
fn limits_tighten_at_once_loosen_through_the_timelock_and_the_admin_hands_over_in_two_steps() {
    let mut s = Suite::new();
    let mallory = s.addr("mallory");
    let mut tighter = test_limits();
    tighter.per_request = Uint128::new(1);
    let before = s.dump();
    assert_eq!(
        s.execute(
            &mallory,
            &ExecuteMsg::UpdateLimits {
                limits: tighter.clone()
            }
        )
        .unwrap_err(),
        ContractError::Unauthorized
    );
    assert_eq!(
        s.execute(
            &mallory,
            &ExecuteMsg::Governance(GovernanceMsg::ProposeAdmin {
                admin: mallory.to_string()
            })
        )
        .unwrap_err(),
        ContractError::Governance(GovernanceError::NotAdmin)
    );
    let admin = s.admin.clone();
    let mut zero_window = test_limits();
    zero_window.window_seconds = 0;
    assert!(matches!(
        s.execute(
            &admin,
            &ExecuteMsg::UpdateLimits {
                limits: zero_window
            }
        ),
        Err(ContractError::InvalidConfig { .. })
    ));
    // Loosening at once is refused: it would let a stolen key drain faster.
    let mut looser = test_limits();
    looser.delay_seconds = 0;
    assert_eq!(
        s.execute(
            &admin,
            &ExecuteMsg::UpdateLimits {
                limits: looser.clone()
            }
        )
        .unwrap_err(),
        ContractError::Governance(GovernanceError::Timelocked)
    );
    assert_eq!(s.dump(), before);

    s.execute(
        &admin,
        &ExecuteMsg::UpdateLimits {
            limits: tighter.clone(),
        },
    )
    .expect("admin tightens the limits");
    let config: ConfigResponse = s.query(&QueryMsg::Config {});
    assert_eq!(config.limits, tighter);

    let new_admin = s.addr("new-admin");
    s.execute(
        &admin,
        &ExecuteMsg::Governance(GovernanceMsg::ProposeAdmin {
            admin: new_admin.to_string(),
        }),
    )
    .expect("admin proposes a successor");
    let config: ConfigResponse = s.query(&QueryMsg::Config {});
    assert_eq!(config.admin, admin, "nothing changes before acceptance");
    s.execute(
        &new_admin,
        &ExecuteMsg::Governance(GovernanceMsg::AcceptAdmin {}),
    )
    .expect("the successor accepts");
    let config: ConfigResponse = s.query(&QueryMsg::Config {});
    assert_eq!(config.admin, new_admin);
    assert_eq!(
        s.execute(&admin, &ExecuteMsg::UpdateLimits { limits: tighter })
            .unwrap_err(),
        ContractError::Unauthorized
    );
}

#[test]
fn withdrawals_are_listed_by_owner_in_pages() {
    let mut s = Suite::new();
    let alice = s.addr("alice");
    let bob = s.addr("bob");
    s.fund(&alice, 10_000);
    s.fund(&bob, 10_000);
    for i in 0..5u128 {
        s.request(&alice, 100 + i, IBAN).expect("alice requests");
        s.request(&bob, 200 + i, IBAN).expect("bob requests");
    }
    let ids = |r: WithdrawalsResponse| -> Vec<u64> {
        r.withdrawals.iter().map(|w| w.withdrawal_id).collect()
    };
    let all: WithdrawalsResponse = s.query(&QueryMsg::Withdrawals {
        owner: None,
        start_after: None,
        limit: None,
    });
    assert_eq!(ids(all), (1..=10).collect::<Vec<_>>());
    let page: WithdrawalsResponse = s.query(&QueryMsg::Withdrawals {
        owner: Some(alice.to_string()),
        start_after: None,
        limit: Some(2),
    });
    assert!(page.withdrawals.iter().all(|w| w.owner == alice));
    assert_eq!(ids(page), vec![1, 3]);
    let page: WithdrawalsResponse = s.query(&QueryMsg::Withdrawals {
        owner: Some(alice.to_string()),
        start_after: Some(3),
        limit: Some(10),
    });
    assert_eq!(ids(page), vec![5, 7, 9]);
    let page: WithdrawalsResponse = s.query(&QueryMsg::Withdrawals {
        owner: Some(bob.to_string()),
        start_after: Some(6),
        limit: None,
    });
    assert_eq!(ids(page), vec![8, 10]);
}

fn set_stored_version(s: &mut Suite, name: &str, version: &str) {
    let mut storage = s.app.contract_storage_mut(&s.withdrawal);
    cw2::set_contract_version(storage.as_mut(), name, version).expect("writes cw2 info");
}

fn stored_version(s: &Suite) -> cw2::ContractVersion {
    cw2::query_contract_info(&s.app.wrap(), s.withdrawal.to_string()).expect("cw2 info")
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

    set_stored_version(&mut s, "crates.io:usagechain-ledger", "0.0.1");
    assert_eq!(
        s.migrate().unwrap_err(),
        ContractError::CannotMigrate {
            from_name: "crates.io:usagechain-ledger".into(),
            from_version: "0.0.1".into()
        }
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

#[test]
fn a_paused_withdrawal_contract_takes_no_request_until_resumed() {
    let mut s = Suite::new();
    let (admin, alice) = (s.admin.clone(), s.addr("alice"));
    s.fund(&alice, 10_000);
    assert_eq!(
        s.execute(&alice, &ExecuteMsg::SetPaused { paused: true })
            .unwrap_err(),
        ContractError::Unauthorized
    );
    s.execute(&admin, &ExecuteMsg::SetPaused { paused: true })
        .expect("paused");
    let before = s.dump();
    assert_eq!(
        s.request(&alice, 100, IBAN).unwrap_err(),
        ContractError::Paused
    );
    assert_eq!(s.dump(), before);
    s.execute(&admin, &ExecuteMsg::SetPaused { paused: false })
        .expect("resumed");
    s.request(&alice, 100, IBAN)
        .expect("requested after resuming");
}
