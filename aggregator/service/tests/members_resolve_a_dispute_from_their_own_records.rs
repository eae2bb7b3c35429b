//! A disputed period on a live localnet: a funded tenant leases the fleet's terminals, the
//! committee proves its windows and the keeper seals the period; the tenant disputes it. Members
//! sign no resolution before the dispute, sign `Upheld` once it is open (every proven record is
//! their own), C2 accepts the resolution, and a member that holds no samples of the period
//! refuses to vouch for it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use cosmwasm_std::Uint128;
use serde_json::json;
use usage_aggregator::signing::{Refusal, SignRequest};
use usage_bank_api::{BankBooking, BookingStatus, Direction};
use usage_common::msg::period_proof as c2;
use usage_common::payload::{DepositVoucher, DisputeOutcome, DisputeResolution};
use usage_devtools::bank::{serve_bookings, Bookings};
use usage_devtools::committee::Net;

async fn period_proof(
    net: &Net,
    provider: &str,
    tenant: &str,
    period: u64,
) -> Option<c2::PeriodProof> {
    let r: c2::PeriodProofResponse = net
        .client
        .smart(
            &net.contract("period-proof"),
            &c2::QueryMsg::PeriodProof {
                provider: provider.into(),
                tenant: tenant.into(),
                period_start: period,
            },
        )
        .await
        .unwrap();
    r.proof
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_resolve_an_open_dispute_by_their_own_records_and_only_then() {
    let mut net = Net::start("usagechain-dispute-1", 3).await;
    let bookings: Bookings = Default::default();
    let bank = serve_bookings(bookings.clone()).await;
    let (c3, c4) = (net.contract("settlement"), net.contract("ledger"));
    for c in &mut net.configs {
        c.settlement = Some(c3.clone());
        c.ledger = Some(c4.clone());
        c.bank = Some(bank.link());
    }
    let tenant = usage_devtools::fleet::account(&net, [0x7d; 32]);
    let tenant_addr = tenant.address().unwrap().to_string();
    net.fleet_tenants =
        usage_devtools::fleet::lease_fleet(&net, std::slice::from_ref(&tenant)).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2, 3]).await;

    // The tenant can pay its dispute bond.
    bookings.lock().unwrap().insert(
        "CAMT-D1".into(),
        BankBooking {
            bank_ref: "CAMT-D1".into(),
            direction: Direction::Credit,
            amount: 100_000_000,
            currency: "CNY".into(),
            status: BookingStatus::Booked,
            end_to_end_id: None,
            remittance: Some(tenant_addr.clone()),
        },
    );
    let voucher = DepositVoucher {
        bank_ref: "CAMT-D1".into(),
        beneficiary: tenant_addr.clone(),
        amount: Uint128::new(100_000_000),
        currency: "CNY".into(),
    };
    let signature = usage_devtools::committee::collect_quorum(
        &net,
        &SignRequest::DepositVoucher {
            voucher: voucher.clone(),
        },
    )
    .await
    .unwrap();
    let out = net
        .client
        .execute(
            &c4,
            &json!({"deposit": {"voucher": voucher, "signature": signature}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "deposit: {}", out.log);

    net.start_fleet();
    let started = net.block_time().await;
    // The first period that starts after the fleet did is wholly sampled.
    let period = (started / 60 + 1) * 60;
    let provider = net.info().admin_address.clone();
    usage_devtools::eventually(
        Duration::from_secs(300),
        "the keeper proves the period",
        || async {
            period_proof(&net, &provider, &tenant_addr, period)
                .await
                .is_some()
        },
    )
    .await;
    let resolve = SignRequest::DisputeResolution {
        provider: provider.clone(),
        tenant: tenant_addr.clone(),
        period_start: period,
    };
    assert_eq!(
        usage_devtools::committee::collect_quorum(&net, &resolve)
            .await
            .unwrap_err(),
        (409, Refusal::WrongState),
        "no resolution without a dispute"
    );

    let out = tenant
        .execute(
            &net.contract("period-proof"),
            &json!({"open_dispute": {"provider": provider, "tenant": tenant_addr,
                "period_start": period, "reason": "more than we used"}}),
            20_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "dispute: {}", out.log);
    let proof = period_proof(&net, &provider, &tenant_addr, period)
        .await
        .unwrap();
    let c2::PeriodStatus::Disputed { opened_at, .. } = proof.status else {
        panic!("not disputed: {:?}", proof.status);
    };

    // Every member holding the period's samples vouches for the proven totals.
    let signature = usage_devtools::committee::collect_quorum(&net, &resolve)
        .await
        .expect("three members uphold the proven period");

    // A member that lost its samples cannot vouch either way.
    net.stop_aggregator(3);
    std::fs::remove_dir_all(&net.configs[3].data_dir).unwrap();
    net.start_aggregator(3, None);
    net.wait_serving(&[3]).await;
    let (status, refusal) = usage_aggregator::signing::ask(
        &reqwest::Client::new(),
        &format!("http://{}", net.configs[3].listen),
        &usage_devtools::committee::relayer(),
        &net.info().chain_id,
        3,
        &resolve,
    )
    .await
    .unwrap_err();
    assert_eq!((status, refusal.error), (409, Refusal::CannotCheck));

    let resolution = DisputeResolution {
        provider: provider.clone(),
        tenant: tenant_addr.clone(),
        period_start: period,
        opened_at,
        outcome: DisputeOutcome::Upheld,
    };
    let out = net
        .client
        .execute(
            &net.contract("period-proof"),
            &json!({"resolve_dispute": {"resolution": resolution, "signature": signature}}),
            20_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "resolution: {}", out.log);
    let proof = period_proof(&net, &provider, &tenant_addr, period)
        .await
        .unwrap();
    assert!(
        matches!(
            proof.status,
            c2::PeriodStatus::Resolved {
                outcome: DisputeOutcome::Upheld,
                ..
            }
        ),
        "{:?}",
        proof.status
    );
    assert_eq!(
        usage_devtools::committee::collect_quorum(&net, &resolve)
            .await
            .unwrap_err(),
        (409, Refusal::AlreadyConsumed)
    );
}
