//! What the admin may do at once (restrict) and only through the timelock (widen trust).

use cosmwasm_std::HexBinary;
use usage_common::governance::{GovernanceError, GovernanceMsg, DEFAULT_TIMELOCK_SECONDS};
use usage_common::msg::usage_proof::{
    ConfigResponse, ExecuteMsg, MeasurementsResponse, QueryMsg, UsageProofChange,
};

use super::suite::Suite;
use crate::ContractError;

fn measurement(i: u16) -> HexBinary {
    let mut m = [0u8; 32];
    m[..2].copy_from_slice(&i.to_be_bytes());
    HexBinary::from(m)
}

#[test]
fn every_allowed_measurement_is_listed_page_by_page_past_the_first_hundred() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    for i in 1..=150u16 {
        s.execute(
            &admin,
            &ExecuteMsg::AllowMeasurement {
                measurement: measurement(i),
            },
        )
        .expect("queued");
    }
    s.set_time(s.now() + DEFAULT_TIMELOCK_SECONDS);
    let anyone = s.addr("anyone");
    for id in 1..=150 {
        s.execute(
            &anyone,
            &ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id }),
        )
        .expect("applied");
    }
    let mut all = vec![];
    let mut start_after = None;
    loop {
        let page: MeasurementsResponse = s
            .query(&QueryMsg::Measurements {
                start_after: start_after.clone(),
                limit: Some(100),
            })
            .expect("page");
        if page.measurements.is_empty() {
            break;
        }
        start_after = page.measurements.last().cloned();
        all.extend(page.measurements);
    }
    assert_eq!(all.len(), 151, "150 allowed plus the suite's own");
    let config: ConfigResponse = s.query(&QueryMsg::Config {}).expect("config");
    assert_eq!(
        config.allowed_measurements.len(),
        100,
        "the config lists a first page"
    );
}

#[test]
fn software_tees_are_refused_at_once_but_accepted_only_through_the_timelock() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let before = s.dump();
    assert_eq!(
        s.execute(
            &admin,
            &ExecuteMsg::UpdateConfig {
                accept_software_tee: Some(true),
                period_proof: None,
            }
        )
        .unwrap_err(),
        ContractError::Governance(GovernanceError::Timelocked)
    );
    assert_eq!(s.dump(), before);
    s.execute(
        &admin,
        &ExecuteMsg::Governance(GovernanceMsg::QueueChange {
            change: UsageProofChange::AcceptSoftwareTee {},
        }),
    )
    .expect("queued");
    s.set_time(s.now() + DEFAULT_TIMELOCK_SECONDS);
    let anyone = s.addr("anyone");
    s.execute(
        &anyone,
        &ExecuteMsg::Governance(GovernanceMsg::ApplyChange { id: 1 }),
    )
    .expect("applied");
    let config: ConfigResponse = s.query(&QueryMsg::Config {}).expect("config");
    assert!(config.accept_software_tee);
    s.execute(
        &admin,
        &ExecuteMsg::UpdateConfig {
            accept_software_tee: Some(false),
            period_proof: None,
        },
    )
    .expect("refusing them again is immediate");
}

#[test]
fn the_period_proof_address_is_set_once() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let other = s.addr("other-period-proof");
    assert_eq!(
        s.execute(
            &admin,
            &ExecuteMsg::UpdateConfig {
                accept_software_tee: None,
                period_proof: Some(other.to_string()),
            }
        )
        .unwrap_err(),
        ContractError::AlreadySet {
            what: "period_proof".into(),
            current: s.period_proof.to_string(),
        }
    );
}
