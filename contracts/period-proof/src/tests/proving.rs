use usage_common::events::{PeriodProven, TypedEvent};
use usage_common::merkle::{self, SumNode};
use usage_common::msg::period_proof::PeriodStatus;

use cw_multi_test::Executor;
use usage_common::record::UsageRecord;
use usage_contract_testing::mock_usage_proof::MockExecuteMsg;

use super::suite::{metrics, prove_msg, SuiteBuilder, DISPUTE_WINDOW, GRACE, P0, PERIOD};
use crate::ContractError;

#[test]
fn a_period_is_proven_only_after_its_close_and_grace() {
    let mut suite = SuiteBuilder::new().build();
    let totals = suite.record_period(P0, 5);
    let closes_at = P0 + PERIOD + GRACE;

    for t in [P0 + 30, P0 + PERIOD, closes_at - 1] {
        suite.set_time(t);
        assert_eq!(
            suite.prove(P0).unwrap_err(),
            ContractError::PeriodNotClosed { closes_at }
        );
        assert_eq!(suite.proof(P0), None);
    }

    suite.set_time(closes_at);
    let resp = suite.prove(P0).expect("prove at close + grace");

    let root = merkle::root::<SumNode>(&suite.leaves_of(P0)).expect("root");
    assert_eq!(root.totals, totals);
    let proof = suite.proof(P0).expect("stored");
    assert_eq!(proof.provider, suite.provider);
    assert_eq!(proof.tenant, suite.tenant.as_str());
    assert_eq!(proof.period_start, P0);
    assert_eq!(proof.period_end, P0 + PERIOD);
    assert_eq!(proof.root, root.hash);
    assert_eq!(proof.totals, totals);
    assert_eq!(proof.proven_at, closes_at);
    assert_eq!(proof.dispute_deadline, closes_at + DISPUTE_WINDOW);
    assert_eq!(proof.status, PeriodStatus::Proven);
    assert_eq!(
        PeriodProven::all_in(&resp.events),
        vec![PeriodProven {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
            root: root.hash,
            records: 5,
        }]
    );
}

#[test]
fn the_grace_of_c1_applies_when_it_is_longer_than_c2s() {
    let c1_grace = GRACE + 40;
    let mut suite = SuiteBuilder::new().c1_grace(c1_grace).build();
    suite.record_period(P0, 2);
    let closes_at = P0 + PERIOD + c1_grace;

    suite.set_time(P0 + PERIOD + GRACE);
    assert_eq!(
        suite.prove(P0).unwrap_err(),
        ContractError::PeriodNotClosed { closes_at }
    );
    assert_eq!(suite.proof(P0), None);

    suite.set_time(closes_at);
    suite.prove(P0).expect("prove after c1's grace");
}

#[test]
fn a_second_proof_of_the_same_period_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period();
    let before = suite.proof(P0);

    // Proving sealed the accumulator in C1: it takes no more records.
    let late = UsageRecord {
        terminal_id: "terminal-late".into(),
        window_start: P0,
        tenant: suite.tenant.to_string(),
        metrics: metrics(9),
    };
    suite
        .app
        .execute_contract(
            suite.admin.clone(),
            suite.usage_proof.clone(),
            &MockExecuteMsg::Record {
                provider: suite.provider.to_string(),
                record: late,
            },
            &[],
        )
        .expect_err("a sealed accumulator refuses records");
    suite.set_time(suite.now() + 10);
    assert_eq!(
        suite.prove(P0).unwrap_err(),
        ContractError::AlreadyProven {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        }
    );
    assert_eq!(suite.proof(P0), before);
}

#[test]
fn an_empty_period_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.set_time(P0 + PERIOD + GRACE);
    assert_eq!(
        suite.prove(P0).unwrap_err(),
        ContractError::EmptyPeriod {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        }
    );
    assert_eq!(suite.proof(P0), None);
}

#[test]
fn an_unaligned_period_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.record_period(P0, 2);
    suite.set_time(P0 + 10 * PERIOD);
    for start in [P0 + 1, P0 + 30, P0 - 10] {
        assert_eq!(
            suite.prove(start).unwrap_err(),
            ContractError::PeriodNotAligned {
                period_start: start,
                period_seconds: PERIOD,
            }
        );
        assert_eq!(suite.proof(start), None);
    }
}

#[test]
fn a_provider_that_is_not_an_address_or_an_oversized_tenant_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.set_time(P0 + PERIOD + GRACE);
    let anyone = suite.addr("anyone");
    assert_eq!(
        suite
            .execute(&anyone, prove_msg("not-an-address", "tenant", P0))
            .unwrap_err(),
        ContractError::InvalidAddress {
            address: "not-an-address".into()
        }
    );
    let long = "t".repeat(129);
    assert_eq!(
        suite
            .execute(&anyone, prove_msg(suite.provider.as_str(), &long, P0))
            .unwrap_err(),
        ContractError::InvalidTenant {
            tenant: long,
            max: 128
        }
    );
}
