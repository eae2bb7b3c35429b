//! Sealing and reserves: what only C2 may do to an accumulator, and what a capped lease holds.

use cosmwasm_std::Uint128;
use usage_common::msg::usage_proof::{
    AccumulatorResponse, ExecuteMsg, QueryMsg, TenantReserveResponse,
};

use super::suite::{Suite, GRACE, P0, PERIOD, WINDOW};
use crate::ContractError;

#[test]
fn only_period_proof_seals_and_a_sealed_accumulator_takes_no_record_whatever_the_clock() {
    let mut s = Suite::new();
    s.register_leased("t-1");
    s.register_leased("t-2");
    s.submit(&[s.record("t-1", P0)]).expect("r1");
    let seal = ExecuteMsg::SealAccumulator {
        provider: s.provider.to_string(),
        tenant: s.tenant.to_string(),
        period_start: P0,
    };
    let mallory = s.addr("mallory");
    assert_eq!(
        s.execute(&mallory, &seal).unwrap_err(),
        ContractError::NotPeriodProof
    );
    let c2 = s.period_proof.clone();
    s.execute(&c2, &seal).expect("sealed by C2");
    assert_eq!(
        s.execute(&c2, &seal).unwrap_err(),
        ContractError::AccumulatorSealed {
            provider: s.provider.to_string(),
            tenant: s.tenant.to_string(),
            period_start: P0,
        }
    );
    // Still inside the period by the clock, yet nothing more goes into it.
    assert!(s.now() < P0 + PERIOD + GRACE);
    let before = s.dump();
    assert_eq!(
        s.submit(&[s.record("t-2", P0)]).unwrap_err(),
        ContractError::AccumulatorSealed {
            provider: s.provider.to_string(),
            tenant: s.tenant.to_string(),
            period_start: P0,
        }
    );
    assert_eq!(s.dump(), before);
    let acc: AccumulatorResponse = s
        .query(&QueryMsg::Accumulator {
            provider: s.provider.to_string(),
            tenant: s.tenant.to_string(),
            period_start: P0,
        })
        .expect("accumulator");
    assert!(acc.sealed);
    assert_eq!(acc.frontier.size, 1);
}

#[test]
fn a_periods_price_cap_is_the_sum_of_its_leases_caps_each_counted_once() {
    let mut s = Suite::new();
    let tenant = s.tenant.clone();
    for (id, cap) in [("t-1", 40u128), ("t-2", 60)] {
        s.register(id).expect("register");
        s.execute(
            &tenant,
            &ExecuteMsg::OpenLease {
                terminal_id: id.into(),
                provider: s.provider.to_string(),
                start: P0,
                end: None,
                price_cap: Some(Uint128::new(cap)),
            },
        )
        .expect("lease");
    }
    s.set_time(P0 + 3 * WINDOW);
    s.submit(&[s.record("t-1", P0), s.record("t-2", P0)])
        .expect("first windows");
    s.submit(&[s.record("t-1", P0 + WINDOW), s.record("t-2", P0 + WINDOW)])
        .expect("second windows");
    let acc: AccumulatorResponse = s
        .query(&QueryMsg::Accumulator {
            provider: s.provider.to_string(),
            tenant: tenant.to_string(),
            period_start: P0,
        })
        .expect("accumulator");
    assert_eq!(acc.price_cap, Some(Uint128::new(100)));
    // The reserve: each cap for the current period and those still in grace.
    let reserve: TenantReserveResponse = s
        .query(&QueryMsg::TenantReserve {
            tenant: tenant.to_string(),
        })
        .expect("reserve");
    assert_eq!(reserve.reserve, Uint128::new(100 * 3));
}

#[test]
fn a_lease_names_the_terminals_provider_and_is_only_ever_shortened() {
    let mut s = Suite::new();
    s.register("t-1").expect("register");
    let tenant = s.tenant.clone();
    let other = s.addr("other-provider");
    let open = |provider: &str, end: Option<u64>| ExecuteMsg::OpenLease {
        terminal_id: "t-1".into(),
        provider: provider.into(),
        start: P0,
        end,
        price_cap: Some(Uint128::new(10)),
    };
    assert!(matches!(
        s.execute(&tenant, &open(other.as_str(), None)).unwrap_err(),
        ContractError::InvalidLease { .. }
    ));
    let provider = s.provider.to_string();
    s.execute(&tenant, &open(&provider, Some(P0 + 10 * WINDOW)))
        .expect("lease");
    let close = |end: u64| ExecuteMsg::CloseLease {
        terminal_id: "t-1".into(),
        start: P0,
        end,
    };
    assert!(matches!(
        s.execute(&tenant, &close(P0 + 20 * WINDOW)).unwrap_err(),
        ContractError::InvalidLease { .. }
    ));
    // The provider may end it too.
    let provider_addr = s.provider.clone();
    s.execute(&provider_addr, &close(P0 + 5 * WINDOW))
        .expect("shortened by the provider");
}

#[test]
fn a_reserve_is_released_only_once_the_leases_periods_are_proven() {
    let mut s = Suite::new();
    s.register("t-1").expect("register");
    let tenant = s.tenant.clone();
    s.execute(
        &tenant,
        &ExecuteMsg::OpenLease {
            terminal_id: "t-1".into(),
            provider: s.provider.to_string(),
            start: P0,
            end: Some(P0 + 2 * WINDOW),
            price_cap: Some(Uint128::new(10)),
        },
    )
    .expect("lease");
    s.set_time(P0 + 2 * WINDOW);
    s.submit(&[s.record("t-1", P0)]).expect("usage");
    let release = ExecuteMsg::ReleaseLeaseReserve {
        terminal_id: "t-1".into(),
        start: P0,
    };
    let anyone = s.addr("anyone");
    // Time alone is not enough: the period with usage must be proven (sealed) first.
    s.set_time(P0 + 2 * WINDOW + PERIOD + GRACE);
    assert!(matches!(
        s.execute(&anyone, &release).unwrap_err(),
        ContractError::InvalidLease { .. }
    ));
    let c2 = s.period_proof.clone();
    s.execute(
        &c2,
        &ExecuteMsg::SealAccumulator {
            provider: s.provider.to_string(),
            tenant: tenant.to_string(),
            period_start: P0,
        },
    )
    .expect("sealed");
    s.execute(&anyone, &release).expect("released");
    let reserve: TenantReserveResponse = s
        .query(&QueryMsg::TenantReserve {
            tenant: tenant.to_string(),
        })
        .expect("reserve");
    assert_eq!(reserve.reserve, Uint128::zero());
}
