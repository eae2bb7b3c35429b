use cosmwasm_std::Uint128;
use usage_common::governance::{GovernanceError, GovernanceMsg, DEFAULT_TIMELOCK_SECONDS};
use usage_common::msg::settlement::{ExecuteMsg, InstantiateMsg};
use usage_common::record::Metric;

use super::suite::{default_tariff, line, tariff, SuiteBuilder, P0, PERIOD};
use crate::contract::{CONTRACT_NAME, CONTRACT_VERSION};
use crate::ContractError;

#[test]
fn only_the_admin_updates_the_tariff_and_the_admin() {
    let mut suite = SuiteBuilder::new().build();
    let before = suite.config();
    let mallory = suite.addr("mallory");
    let cheap = tariff(vec![line(Metric::NetRxBytes, 1, 1_000_000)], 0);

    assert_eq!(
        suite.update_tariff(&mallory, cheap.clone()).unwrap_err(),
        ContractError::Unauthorized
    );
    assert_eq!(
        suite
            .execute(
                &mallory,
                ExecuteMsg::Governance(GovernanceMsg::ProposeAdmin {
                    admin: mallory.to_string()
                })
            )
            .unwrap_err(),
        ContractError::Governance(GovernanceError::NotAdmin)
    );
    assert_eq!(suite.config(), before);

    let admin = suite.admin.clone();
    suite.update_tariff(&admin, cheap.clone()).expect("tariff");
    // It takes effect after the timelock's notice.
    assert_eq!(suite.config().tariff, before.tariff);
    suite.set_time(suite.now() + DEFAULT_TIMELOCK_SECONDS);
    assert_eq!(suite.config().tariff, cheap);
    let next_admin = suite.addr("next-admin");
    suite
        .execute(
            &admin,
            ExecuteMsg::Governance(GovernanceMsg::ProposeAdmin {
                admin: next_admin.to_string(),
            }),
        )
        .expect("propose");
    assert_eq!(suite.config().admin, admin, "a proposal changes nothing");
    assert_eq!(
        suite
            .execute(
                &mallory,
                ExecuteMsg::Governance(GovernanceMsg::AcceptAdmin {})
            )
            .unwrap_err(),
        ContractError::Governance(GovernanceError::NotPendingAdmin {
            sender: mallory.to_string()
        })
    );
    suite
        .execute(
            &next_admin,
            ExecuteMsg::Governance(GovernanceMsg::AcceptAdmin {}),
        )
        .expect("accept");
    assert_eq!(suite.config().admin, next_admin);
    assert_eq!(
        suite.update_tariff(&admin, default_tariff()).unwrap_err(),
        ContractError::Unauthorized
    );
}

#[test]
fn an_invalid_tariff_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let admin = suite.admin.clone();
    let before = suite.config();
    let invalid = |reason: &str| ContractError::InvalidTariff {
        reason: reason.to_string(),
    };
    let currency = "currency must be three upper-case letters (ISO 4217)";

    let mut lower = default_tariff();
    lower.currency = "cny".into();
    let mut long = default_tariff();
    long.currency = "CNYY".into();
    let mut empty = default_tariff();
    empty.currency = String::new();
    let mut no_lines = default_tariff();
    no_lines.lines.clear();
    let mut zero_unit = default_tariff();
    zero_unit.lines[1].per_units = Uint128::zero();
    let mut twice = default_tariff();
    twice.lines.push(line(Metric::NetRxBytes, 5, 1));

    for (t, err) in [
        (lower, invalid(currency)),
        (long, invalid(currency)),
        (empty, invalid(currency)),
        (no_lines, invalid("a tariff needs at least one line")),
        (zero_unit, invalid("per_units must be positive")),
        (twice, invalid("a metric is priced twice")),
    ] {
        assert_eq!(suite.update_tariff(&admin, t).unwrap_err(), err);
    }
    let mut euro = default_tariff();
    euro.currency = "EUR".into();
    assert_eq!(
        suite.update_tariff(&admin, euro).unwrap_err(),
        ContractError::CurrencyChange {
            current: "CNY".into(),
            proposed: "EUR".into(),
        }
    );
    assert_eq!(suite.config(), before);
}

#[test]
fn an_invalid_tariff_is_refused_at_instantiation() {
    let mut suite = SuiteBuilder::new().build();
    let mut zero_unit = default_tariff();
    zero_unit.lines[0].per_units = Uint128::zero();
    let msg = InstantiateMsg {
        admin: None,
        usage_proof: suite.usage_proof.to_string(),
        period_proof: suite.period_proof.to_string(),
        ledger: suite.ledger.to_string(),
        tariff: zero_unit,
    };
    assert_eq!(
        suite.instantiate_another(&msg).unwrap_err(),
        ContractError::InvalidTariff {
            reason: "per_units must be positive".into()
        }
    );
}

#[test]
fn settlements_are_listed_in_id_order_page_by_page() {
    let mut suite = SuiteBuilder::new().build();
    let periods: Vec<u64> = (0..5).map(|k| P0 + k * PERIOD).collect();
    for &p in &periods {
        suite.record_period(p, 2);
    }
    let last = *periods.last().expect("periods");
    suite.set_time(last + 10 * PERIOD);
    for &p in &periods {
        suite.prove(p);
    }
    suite.set_time(suite.now() + 1_000);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 100_000);
    // Requested out of period order: ids follow the requests.
    for &p in periods.iter().rev() {
        suite.request(p).expect("request");
    }

    let all = suite.settlements(None, None);
    assert_eq!(
        all.iter().map(|s| s.settlement_id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        all.iter().map(|s| s.period_start).collect::<Vec<_>>(),
        periods.iter().rev().copied().collect::<Vec<_>>()
    );
    let page1 = suite.settlements(None, Some(2));
    let page2 = suite.settlements(Some(2), Some(2));
    let page3 = suite.settlements(Some(4), Some(2));
    assert_eq!([page1, page2, page3].concat(), all,);
    assert_eq!(suite.settlements(Some(5), None), vec![]);
    // A limit of zero still returns one; above the maximum it is clamped.
    assert_eq!(suite.settlements(None, Some(0)).len(), 1);
    for (p, s) in periods.iter().rev().zip(&all) {
        assert_eq!(suite.settlement_for_period(*p).as_ref(), Some(s));
    }
}

#[test]
fn migrate_bumps_the_version() {
    let mut suite = SuiteBuilder::new().build();
    let addr = suite.settlement.clone();
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
    let addr = suite.settlement.clone();
    for (name, version) in [
        ("crates.io:usagechain-ledger", CONTRACT_VERSION),
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
