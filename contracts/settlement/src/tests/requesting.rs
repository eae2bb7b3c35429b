use cosmwasm_std::Uint128;
use usage_common::events::{SettlementDeferred, SettlementRequested, TypedEvent};
use usage_common::governance::DEFAULT_TIMELOCK_SECONDS;
use usage_common::msg::period_proof::NotFinal;
use usage_common::msg::settlement::SettlementStatus;
use usage_common::payload::DisputeOutcome;
use usage_common::record::{Metric, Totals};

use super::suite::{
    default_tariff, line, tariff, SuiteBuilder, CURRENCY, DISPUTE_WINDOW, GRACE, P0, PAYEE_ACCOUNT,
    PERIOD, PRICE_OF_3, RESOLUTION_WINDOW,
};
use crate::ContractError;

#[test]
fn a_settlement_request_prices_the_period_and_locks_the_tenants_funds() {
    let mut suite = SuiteBuilder::new().build();
    suite.final_period(P0, 3);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);

    let resp = suite.request(P0).expect("request");
    let amount = Uint128::new(PRICE_OF_3);
    assert_eq!(
        SettlementRequested::all_in(&resp.events),
        vec![SettlementRequested {
            settlement_id: 1,
            provider: suite.provider.to_string(),
            tenant: suite.tenant.to_string(),
            period_start: P0,
            amount,
            currency: CURRENCY.into(),
        }]
    );
    let s = suite.settlement(1).expect("settlement 1");
    assert_eq!(s.provider, suite.provider);
    assert_eq!(s.tenant, suite.tenant);
    assert_eq!(s.period_start, P0);
    assert_eq!(s.amount, amount);
    assert_eq!(s.currency, CURRENCY);
    assert_eq!(s.payee_account, PAYEE_ACCOUNT);
    assert_eq!(s.end_to_end_id, suite.end_to_end_id(1));
    assert_eq!(s.status, SettlementStatus::Requested);
    assert_eq!(s.requested_at, suite.now());
    assert_eq!(suite.settlement_for_period(P0), Some(s));

    let account = suite.account(&tenant);
    assert_eq!(account.available, Uint128::new(10_000 - PRICE_OF_3));
    assert_eq!(account.locked, amount);
}

#[test]
fn a_settlement_before_the_period_is_final_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period(P0, 3);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);
    let deadline = P0 + PERIOD + GRACE + DISPUTE_WINDOW;
    let before = suite.snapshot();

    for t in [suite.now(), deadline] {
        suite.set_time(t);
        let not_final = ContractError::NotFinal {
            reason: NotFinal::DisputeWindowOpen { until: deadline },
        };
        assert_eq!(suite.request(P0).unwrap_err(), not_final);
        assert_eq!(suite.quote(P0).unwrap_err(), not_final);
        assert_eq!(suite.snapshot(), before);
        assert_eq!(suite.settlement_for_period(P0), None);
    }

    suite.set_time(deadline + 1);
    suite
        .request(P0)
        .expect("final one second after the deadline");
}

#[test]
fn a_disputed_period_is_settled_only_after_a_committee_signed_resolution() {
    let mut suite = SuiteBuilder::new().build();
    suite.proven_period(P0, 3);
    suite.dispute(P0);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);
    let before = suite.snapshot();

    // After the dispute window, an open dispute blocks the settlement until its deadline.
    let resolve_by = P0 + PERIOD + GRACE + RESOLUTION_WINDOW;
    suite.set_time(P0 + PERIOD + GRACE + DISPUTE_WINDOW + 1);
    assert_eq!(
        suite.request(P0).unwrap_err(),
        ContractError::NotFinal {
            reason: NotFinal::Disputed { until: resolve_by }
        }
    );
    assert_eq!(suite.snapshot(), before);

    suite.resolve(P0, DisputeOutcome::Upheld);
    suite.request(P0).expect("request after the resolution");
    let s = suite.settlement_for_period(P0).expect("settlement");
    assert_eq!(s.amount, Uint128::new(PRICE_OF_3));
}

#[test]
fn an_adjusted_resolution_is_billed_at_the_adjusted_totals() {
    let mut suite = SuiteBuilder::new().build();
    let proven = suite.proven_period(P0, 3);
    suite.dispute(P0);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);

    // The committee agrees the CPU time was double counted.
    let adjusted = Totals {
        cpu_time_us: proven.cpu_time_us / 2,
        ..proven
    };
    suite.resolve(P0, DisputeOutcome::Adjusted { totals: adjusted });
    // Final at once: the resolution closes the dispute.
    let quote = suite.quote(P0).expect("quote");
    assert_eq!(quote.totals, adjusted);
    // cpu 45003 × 7 / 1000 = 315.021 -> 315 instead of 630.
    let expected = Uint128::new(PRICE_OF_3 - 630 + 315);
    assert_eq!(quote.amount, expected);

    suite.request(P0).expect("request");
    assert_eq!(
        suite.settlement_for_period(P0).expect("settlement").amount,
        expected
    );
    assert_eq!(suite.account(&tenant).locked, expected);
}

#[test]
fn a_period_without_a_second_proof_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.record_period(P0, 3);
    suite.set_time(P0 + 10 * PERIOD);
    let before = suite.snapshot();
    let none = ContractError::NoPeriodProof {
        provider: suite.provider.to_string(),
        tenant: suite.tenant.to_string(),
        period_start: P0,
    };
    assert_eq!(suite.request(P0).unwrap_err(), none);
    assert_eq!(suite.quote(P0).unwrap_err(), none);
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_period_below_the_minimum_is_deferred_and_its_amount_carried_into_the_next_settlement() {
    let mut suite = SuiteBuilder::new().minimum(PRICE_OF_3 + 1).build();
    suite.final_period(P0, 3);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);

    let resp = suite
        .request(P0)
        .expect("a small period is deferred, not refused");
    assert_eq!(
        SettlementDeferred::all_in(&resp.events),
        vec![SettlementDeferred {
            provider: suite.provider.to_string(),
            tenant: tenant.to_string(),
            period_start: P0,
            amount: Uint128::new(PRICE_OF_3),
            carried: Uint128::new(PRICE_OF_3),
        }]
    );
    assert_eq!(suite.settlement_for_period(P0), None);
    assert_eq!(suite.account(&tenant).locked, Uint128::zero());
    // Deferred once: it is never billed on its own as well.
    let deferred = ContractError::Deferred {
        provider: suite.provider.to_string(),
        tenant: tenant.to_string(),
        period_start: P0,
    };
    assert_eq!(suite.request(P0).unwrap_err(), deferred);
    let quote = suite.quote(P0).expect("quote");
    assert_eq!(quote.amount, Uint128::new(PRICE_OF_3));
    assert!(!quote.meets_minimum);

    // The next period of the same (provider, tenant) carries it.
    let p1 = P0 + PERIOD;
    suite.final_period(p1, 3);
    suite.request(p1).expect("request with the carried amount");
    let s = suite.settlement_for_period(p1).expect("settlement");
    assert_eq!(s.carried_amount, Uint128::new(PRICE_OF_3));
    assert!(s.usage_amount >= Uint128::new(PRICE_OF_3));
    assert_eq!(s.amount, s.usage_amount + s.carried_amount);
    assert_eq!(suite.account(&tenant).locked, s.amount);
    assert_eq!(suite.request(P0).unwrap_err(), deferred);
}

#[test]
fn a_period_that_prices_to_zero_is_deferred_and_bills_nothing() {
    let mut suite = SuiteBuilder::new()
        .tariff(tariff(vec![line(Metric::AppDownS, 100, 1)], 0))
        .build();
    suite.final_period(P0, 3);
    let before = suite.snapshot();
    let resp = suite.request(P0).expect("nothing to bill is deferred");
    assert_eq!(
        SettlementDeferred::all_in(&resp.events)[0].carried,
        Uint128::zero()
    );
    assert_eq!(suite.snapshot(), before);
    assert!(!suite.quote(P0).expect("quote").meets_minimum);
}

#[test]
fn what_a_line_leaves_below_one_minor_unit_is_carried_into_the_next_period() {
    // 1 minor unit per 9_000 bytes received; each period receives 1_000 × (1 + 2 + 3) = 6_000.
    let mut suite = SuiteBuilder::new()
        .tariff(tariff(vec![line(Metric::NetRxBytes, 1, 9_000)], 0))
        .build();
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 100_000);
    let t0 = suite.final_period(P0, 3);
    suite.request(P0).expect("request p0");
    let p1 = P0 + PERIOD;
    let t1 = suite.final_period(p1, 3);
    suite.request(p1).expect("request p1");
    let billed: Uint128 = [P0, p1]
        .iter()
        .filter_map(|p| suite.settlement_for_period(*p))
        .map(|s| s.amount)
        .sum();
    // Floor of the sum, not the sum of floors: nothing is lost to rounding over periods.
    let exact = (t0.net_rx_bytes + t1.net_rx_bytes) / 9_000;
    assert_eq!(billed, Uint128::new(exact));
    assert!(exact > t0.net_rx_bytes / 9_000 + t1.net_rx_bytes / 9_000);
}

#[test]
fn a_tenant_without_enough_funds_gets_insufficient_funds_and_nothing_changes() {
    let mut suite = SuiteBuilder::new().build();
    suite.final_period(P0, 3);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, PRICE_OF_3 - 1);
    let before = suite.snapshot();

    assert_eq!(
        suite.request(P0).unwrap_err(),
        ContractError::InsufficientFunds {
            needed: Uint128::new(PRICE_OF_3),
            available: Uint128::new(PRICE_OF_3 - 1),
        }
    );
    assert_eq!(suite.snapshot(), before);
    assert_eq!(suite.settlement_for_period(P0), None);

    // Once the tenant has paid in enough, the same period settles, as settlement 1.
    suite.deposit(&tenant, 1);
    suite.request(P0).expect("request with enough funds");
    assert_eq!(suite.settlement_for_period(P0).expect("s").settlement_id, 1);
    assert_eq!(suite.account(&tenant).available, Uint128::zero());
}

#[test]
fn a_second_request_for_the_same_period_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    let id = suite.requested();
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);
    let before = suite.snapshot();
    assert_eq!(
        suite.request(P0).unwrap_err(),
        ContractError::AlreadyRequested { settlement_id: id }
    );
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_provider_without_a_payee_account_is_refused() {
    let mut suite = SuiteBuilder::new().without_payee_account().build();
    suite.final_period(P0, 3);
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);
    let before = suite.snapshot();
    assert_eq!(
        suite.request(P0).unwrap_err(),
        ContractError::NoPayeeAccount {
            provider: suite.provider.to_string()
        }
    );
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_payee_account_is_5_to_34_ascii_letters_and_digits_set_by_the_provider_itself() {
    let mut suite = SuiteBuilder::new().without_payee_account().build();
    let provider = suite.provider.clone();
    for bad in [
        "",
        "AB12",
        &"A".repeat(35),
        "CN00 1234 5678",
        "CN00-12345",
        "ÄBCDEF",
    ] {
        assert_eq!(
            suite.set_payee_account(&provider, bad).unwrap_err(),
            ContractError::InvalidPayeeAccount {
                account: bad.to_string()
            }
        );
        assert_eq!(suite.payee_account(&provider), None);
    }
    suite
        .set_payee_account(&provider, "ABCDE")
        .expect("5 characters");
    suite
        .set_payee_account(&provider, &"9".repeat(34))
        .expect("34 characters");
    assert_eq!(suite.payee_account(&provider), Some("9".repeat(34)));
    // Another sender sets only its own account.
    let other = suite.addr("other-provider");
    suite
        .set_payee_account(&other, "OTHER12345")
        .expect("own account");
    assert_eq!(suite.payee_account(&provider), Some("9".repeat(34)));
    assert_eq!(suite.payee_account(&other), Some("OTHER12345".into()));
}

#[test]
fn an_invalid_provider_or_tenant_address_is_refused() {
    let mut suite = SuiteBuilder::new().build();
    suite.final_period(P0, 3);
    let anyone = suite.addr("anyone");
    let before = suite.snapshot();
    let provider = suite.provider.to_string();
    let tenant = suite.tenant.to_string();
    for (provider, tenant, bad) in [
        ("not-an-address", tenant.as_str(), "not-an-address"),
        (provider.as_str(), "tenant-x", "tenant-x"),
    ] {
        assert_eq!(
            suite
                .execute(
                    &anyone,
                    usage_common::msg::settlement::ExecuteMsg::RequestSettlement {
                        provider: provider.to_string(),
                        tenant: tenant.to_string(),
                        period_start: P0,
                    },
                )
                .unwrap_err(),
            ContractError::InvalidAddress {
                address: bad.to_string()
            }
        );
    }
    assert_eq!(suite.snapshot(), before);
}

#[test]
fn a_period_is_priced_with_the_tariff_in_force_at_its_start() {
    let mut suite = SuiteBuilder::new().build();
    suite.final_period(P0, 3);
    let admin = suite.admin.clone();
    let mut doubled = default_tariff();
    for l in &mut doubled.lines {
        l.price *= Uint128::new(2);
    }
    // Never retroactive: a tariff takes effect in the future.
    let now = suite.now();
    assert_eq!(
        suite
            .update_tariff_from(&admin, doubled.clone(), now)
            .unwrap_err(),
        ContractError::RetroactiveTariff {
            effective_from: now,
            now
        }
    );
    // And with the timelock's notice.
    assert_eq!(
        suite
            .update_tariff_from(&admin, doubled.clone(), now + 1)
            .unwrap_err(),
        ContractError::TariffNoticeTooShort {
            effective_from: now + 1,
            earliest: now + DEFAULT_TIMELOCK_SECONDS,
        }
    );
    suite.update_tariff(&admin, doubled).expect("new tariff");
    suite.set_time(now + 10);

    // P0 started under the old tariff: the change does not touch it.
    assert_eq!(
        suite.quote(P0).expect("quote").amount,
        Uint128::new(PRICE_OF_3)
    );
    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 10_000);
    suite.request(P0).expect("request");
    assert_eq!(
        suite.settlement_for_period(P0).expect("s").amount,
        Uint128::new(PRICE_OF_3)
    );
    // A period that starts after the change pays the new price.
    let effective = now + DEFAULT_TIMELOCK_SECONDS;
    let later = effective - effective % PERIOD + PERIOD;
    suite.final_period(later, 3);
    assert_eq!(
        suite.quote(later).expect("quote").amount,
        Uint128::new(2 * 60 + 72 + 1260 + 2 * 240)
    );
}
