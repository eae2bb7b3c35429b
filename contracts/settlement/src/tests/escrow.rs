//! What C3 holds for proven periods and disputes, and where it goes at settlement.

use cosmwasm_std::Uint128;
use usage_common::msg::settlement::ExecuteMsg;
use usage_common::payload::{BankOutcome, DisputeOutcome};

use super::suite::{SuiteBuilder, DISPUTE_WINDOW, GRACE, P0, PERIOD, PRICE_OF_3};
use crate::ContractError;

#[test]
fn only_period_proof_asks_for_escrow() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period(P0, 3);
    let before = suite.snapshot();
    let mallory = suite.addr("mallory");
    for msg in [
        ExecuteMsg::EscrowPeriod {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        },
        ExecuteMsg::EscrowBond {
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
        },
    ] {
        assert_eq!(
            suite.execute(&mallory, msg).unwrap_err(),
            ContractError::NotPeriodProof
        );
    }
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn an_upheld_resolution_bills_the_bond_to_the_tenant_with_the_period() {
    let mut suite = SuiteBuilder::new().bond(250).build();
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);
    suite.proven_period(P0, 3);
    assert_eq!(suite.escrow(P0).usage, Uint128::new(PRICE_OF_3));
    suite.dispute(P0);
    assert_eq!(suite.escrow(P0).bond, Uint128::new(250));
    assert_eq!(
        suite.account(&tenant).locked,
        Uint128::new(PRICE_OF_3 + 250)
    );
    suite.resolve(P0, DisputeOutcome::Upheld);
    suite.request(P0).expect("resolved: billed at once");
    let s = suite.settlement_for_period(P0).expect("settlement");
    assert_eq!(s.forfeited_bond, Uint128::new(250));
    assert_eq!(s.amount, Uint128::new(PRICE_OF_3 + 250));
    // What was held became the settlement's lock: nothing more, nothing less.
    assert_eq!(suite.account(&tenant).locked, s.amount);
    assert_eq!(
        suite.escrow(P0).usage + suite.escrow(P0).bond,
        Uint128::zero()
    );
}

#[test]
fn a_failed_settlement_carries_its_carried_amount_into_the_next_request() {
    let mut suite = SuiteBuilder::new().minimum(PRICE_OF_3 + 1).build();
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 100_000);
    suite.final_period(P0, 3);
    suite.request(P0).expect("deferred");
    let p1 = P0 + PERIOD;
    suite.proven_period(p1, 3);
    suite.set_time(p1 + PERIOD + GRACE + DISPUTE_WINDOW + 1);
    suite
        .request(p1)
        .expect("requested with the carried amount");
    let first = suite.settlement_for_period(p1).expect("s1");
    assert_eq!(first.carried_amount, Uint128::new(PRICE_OF_3));
    suite.approve(first.settlement_id).expect("approved");
    let voucher = suite.voucher(first.settlement_id, BankOutcome::Rejected, "RJCT-C1");
    suite.record_voucher(voucher).expect("rejected by the bank");
    // The period may be requested again; what it carried is owed still.
    suite.request(p1).expect("requested again");
    let second = suite.settlement_for_period(p1).expect("s2");
    assert_ne!(second.settlement_id, first.settlement_id);
    assert_eq!(second.carried_amount, Uint128::new(PRICE_OF_3));
    assert_eq!(suite.account(&tenant).locked, second.amount);
}
