use cosmwasm_std::Uint128;
use proptest::prelude::*;
use usage_common::record::{Metric, Totals};

use super::suite::{line, tariff, SuiteBuilder, P0};
use crate::ContractError;

#[test]
fn pricing_rounds_down_per_line_never_against_the_payer() {
    // Every line leaves a fraction: rx 6000/7 = 857.14, tx 12021/9 = 1335.67,
    // cpu 90006/11 = 8182.36, memory 15360/13 = 1181.54. The exact bill is 11556.71; per-line
    // floors give 857 + 1335 + 8182 + 1181 = 11555 (flooring the sum would give 11556).
    let t = tariff(
        vec![
            line(Metric::NetRxBytes, 1, 7),
            line(Metric::NetTxBytes, 1, 9),
            line(Metric::CpuTimeUs, 1, 11),
            line(Metric::MemoryMibS, 1, 13),
        ],
        1,
    );
    let mut suite = SuiteBuilder::new().tariff(t.clone()).build();
    let totals = suite.final_period(P0, 3);
    assert_eq!(
        (
            totals.net_rx_bytes,
            totals.net_tx_bytes,
            totals.cpu_time_us,
            totals.memory_mib_s
        ),
        (6_000, 12_021, 90_006, 15_360)
    );
    let quote = suite.quote(P0).expect("quote");
    assert_eq!(quote.totals, totals);
    assert_eq!(quote.amount, Uint128::new(11_555));
    assert!(quote.meets_minimum);

    let tenant = suite.tenant.clone();
    suite.deposit(&tenant, 20_000);
    suite.request(P0).expect("request");
    assert_eq!(
        suite.settlement_for_period(P0).expect("settlement").amount,
        Uint128::new(11_555)
    );
}

#[test]
fn a_price_that_overflows_is_a_typed_error_and_nothing_changes() {
    let t = tariff(vec![line(Metric::NetRxBytes, u128::MAX, 1)], 1);
    let mut suite = SuiteBuilder::new().tariff(t).build();
    suite.final_period(P0, 3);
    let before = suite.snapshot();
    let overflow = ContractError::PriceOverflow {
        metric: Metric::NetRxBytes,
    };
    assert_eq!(suite.quote(P0).unwrap_err(), overflow);
    assert_eq!(suite.request(P0).unwrap_err(), overflow);
    assert_eq!(suite.snapshot(), before);
}

fn totals_strategy() -> impl Strategy<Value = Totals> {
    (
        0u128..1_000_000_000_000,
        0u128..1_000_000_000_000,
        0u128..1_000_000_000_000,
    )
        .prop_map(|(rx, tx, cpu)| Totals {
            records: 1,
            net_rx_bytes: rx,
            net_tx_bytes: tx,
            cpu_time_us: cpu,
            ..Default::default()
        })
}

proptest! {
    /// `exact − lines < price ≤ exact`, checked in integers: with `D` the product of the units,
    /// `price × D ≤ Σ total × price_i × D / per_i < (price + lines) × D`.
    #[test]
    fn the_price_is_at_most_one_minor_unit_per_line_below_the_exact_amount(
        totals in totals_strategy(),
        prices in proptest::array::uniform3(0u128..1_000_000),
        units in proptest::array::uniform3(1u128..1_000),
    ) {
        let metrics = [Metric::NetRxBytes, Metric::NetTxBytes, Metric::CpuTimeUs];
        let t = tariff(
            (0..3).map(|i| line(metrics[i], prices[i], units[i])).collect(),
            0,
        );
        let price = t.price(&totals).expect("no overflow at these sizes").u128();
        let d: u128 = units.iter().product();
        let exact_times_d: u128 = (0..3)
            .map(|i| totals.get(metrics[i]) * prices[i] * (d / units[i]))
            .sum();
        prop_assert!(price * d <= exact_times_d);
        prop_assert!(exact_times_d < (price + 3) * d);
        // Each line on its own is the floor of its exact amount.
        for i in 0..3 {
            let one = tariff(vec![line(metrics[i], prices[i], units[i])], 0);
            let p = one.price(&totals).expect("line").u128();
            let exact = totals.get(metrics[i]) * prices[i];
            prop_assert!(p * units[i] <= exact && exact < (p + 1) * units[i]);
        }
    }
}
