//! The signing service for the bank side, against a live localnet and a bank that answers for
//! its bookings: three members sign a deposit voucher the bank confirms, C4 credits it once; a
//! withdrawal's instruction is signed from the chain's own request and approved on C5; its
//! voucher is signed only when the bank's booking says the same, and C5 completes it. Every
//! voucher or instruction that the chain or the bank contradicts is refused by kind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cosmwasm_std::Uint128;
use serde_json::json;
use usage_aggregator::signing::{Refusal, SignRequest};
use usage_bank_api::{BankBooking, BookingStatus, Direction};
use usage_client::ChainClient;
use usage_common::msg::withdrawal as c5;
use usage_common::payload::{BankOutcome, DepositVoucher, WithdrawalVoucher};
use usage_common::ThresholdSignature;
use usage_devtools::bank::{serve_bookings, Bookings};
use usage_devtools::committee::Net;

async fn sign(net: &Net, request: &SignRequest) -> Result<ThresholdSignature, (u16, Refusal)> {
    usage_devtools::committee::collect_quorum(net, request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_sign_deposits_and_withdrawals_only_when_chain_and_bank_agree() {
    let mut net = Net::start("usagechain-signing-1", 0).await;
    let bookings: Bookings = Default::default();
    let bank = serve_bookings(bookings.clone()).await;
    let (c3, c4, c5a) = (
        net.contract("settlement"),
        net.contract("ledger"),
        net.contract("withdrawal"),
    );
    for c in &mut net.configs {
        c.settlement = Some(c3.clone());
        c.ledger = Some(c4.clone());
        c.withdrawal = Some(c5a.clone());
        c.bank = Some(bank.link());
    }
    for i in 0..3 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2]).await;

    let rpc = format!("http://127.0.0.1:{}", net.rpc_port());
    let tenant = ChainClient::new(&rpc, &net.info().chain_id)
        .unwrap()
        .with_key(&[0x7e; 32])
        .unwrap();
    let tenant_addr = tenant.address().unwrap().to_string();

    // A deposit the bank booked to the custodial account with the tenant as reference.
    bookings.lock().unwrap().insert(
        "CAMT-1".into(),
        BankBooking {
            bank_ref: "CAMT-1".into(),
            direction: Direction::Credit,
            amount: 5_000,
            currency: "CNY".into(),
            status: BookingStatus::Booked,
            end_to_end_id: None,
            remittance: Some(tenant_addr.clone()),
        },
    );
    let voucher = DepositVoucher {
        bank_ref: "CAMT-1".into(),
        beneficiary: tenant_addr.clone(),
        amount: Uint128::new(5_000),
        currency: "CNY".into(),
    };
    let inflated = DepositVoucher {
        amount: Uint128::new(6_000),
        ..voucher.clone()
    };
    assert_eq!(
        sign(&net, &SignRequest::DepositVoucher { voucher: inflated })
            .await
            .unwrap_err(),
        (409, Refusal::BankDisagrees)
    );
    let unknown = DepositVoucher {
        bank_ref: "CAMT-404".into(),
        ..voucher.clone()
    };
    assert_eq!(
        sign(&net, &SignRequest::DepositVoucher { voucher: unknown })
            .await
            .unwrap_err(),
        (409, Refusal::BankDisagrees)
    );
    // Whoever answers on the bank's address without the bank's signature is not the bank.
    bookings.lock().unwrap().insert(
        "CAMT-FORGED".into(),
        BankBooking {
            bank_ref: "CAMT-FORGED".into(),
            direction: Direction::Credit,
            amount: 9_000_000,
            currency: "CNY".into(),
            status: BookingStatus::Booked,
            end_to_end_id: None,
            remittance: Some(tenant_addr.clone()),
        },
    );
    let forged = DepositVoucher {
        bank_ref: "CAMT-FORGED".into(),
        amount: Uint128::new(9_000_000),
        ..voucher.clone()
    };
    bookings.lock().unwrap().forged.insert("CAMT-FORGED".into());
    assert_eq!(
        sign(&net, &SignRequest::DepositVoucher { voucher: forged })
            .await
            .unwrap_err(),
        (502, Refusal::BankUnverified),
        "an answer the bank did not sign is not the bank's word"
    );
    let signature = sign(
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
    assert_eq!(
        sign(
            &net,
            &SignRequest::DepositVoucher {
                voucher: voucher.clone()
            }
        )
        .await
        .unwrap_err(),
        (409, Refusal::AlreadyConsumed)
    );

    // A withdrawal: the instruction comes from the chain's own request.
    let out = tenant
        .execute(
            &c5a,
            &json!({"request_withdrawal": {"amount": "1000", "beneficiary": "CN1234567890"}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "request: {}", out.log);
    assert_eq!(
        sign(
            &net,
            &SignRequest::WithdrawalInstruction { withdrawal_id: 99 }
        )
        .await
        .unwrap_err(),
        (404, Refusal::NotFound)
    );
    let w: c5::WithdrawalResponse = net
        .client
        .smart(&c5a, &c5::QueryMsg::Withdrawal { withdrawal_id: 1 })
        .await
        .unwrap();
    let w = w.withdrawal.expect("withdrawal 1");
    let voucher = WithdrawalVoucher {
        withdrawal_id: 1,
        end_to_end_id: w.end_to_end_id.clone(),
        bank_ref: "BOOK-1".into(),
        outcome: BankOutcome::Booked,
        amount: Uint128::new(1_000),
    };
    // Not instructed yet: no voucher can be signed.
    assert_eq!(
        sign(
            &net,
            &SignRequest::WithdrawalVoucher {
                voucher: voucher.clone()
            }
        )
        .await
        .unwrap_err(),
        (409, Refusal::WrongState)
    );
    let signature = sign(
        &net,
        &SignRequest::WithdrawalInstruction { withdrawal_id: 1 },
    )
    .await
    .unwrap();
    let out = net
        .client
        .execute(
            &c5a,
            &json!({"approve_instruction": {"withdrawal_id": 1, "signature": signature}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "approve: {}", out.log);
    assert_eq!(
        sign(
            &net,
            &SignRequest::WithdrawalInstruction { withdrawal_id: 1 }
        )
        .await
        .unwrap_err(),
        (409, Refusal::WrongState),
        "an instructed withdrawal is not instructed twice"
    );

    // The bank paid it.
    bookings.lock().unwrap().insert(
        "BOOK-1".into(),
        BankBooking {
            bank_ref: "BOOK-1".into(),
            direction: Direction::Debit,
            amount: 1_000,
            currency: "CNY".into(),
            status: BookingStatus::Booked,
            end_to_end_id: Some(w.end_to_end_id.clone()),
            remittance: None,
        },
    );
    let claims_rejected = WithdrawalVoucher {
        outcome: BankOutcome::Rejected,
        ..voucher.clone()
    };
    assert_eq!(
        sign(
            &net,
            &SignRequest::WithdrawalVoucher {
                voucher: claims_rejected
            }
        )
        .await
        .unwrap_err(),
        (409, Refusal::BankDisagrees)
    );
    let short = WithdrawalVoucher {
        amount: Uint128::new(999),
        ..voucher.clone()
    };
    assert_eq!(
        sign(&net, &SignRequest::WithdrawalVoucher { voucher: short })
            .await
            .unwrap_err(),
        (409, Refusal::Mismatch)
    );
    let signature = sign(
        &net,
        &SignRequest::WithdrawalVoucher {
            voucher: voucher.clone(),
        },
    )
    .await
    .unwrap();
    let out = net
        .client
        .execute(
            &c5a,
            &json!({"record_voucher": {"voucher": voucher, "signature": signature}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "voucher: {}", out.log);
    let w: c5::WithdrawalResponse = net
        .client
        .smart(&c5a, &c5::QueryMsg::Withdrawal { withdrawal_id: 1 })
        .await
        .unwrap();
    assert!(matches!(
        w.withdrawal.unwrap().status,
        c5::WithdrawalStatus::Completed { .. }
    ));
    assert_eq!(
        sign(&net, &SignRequest::WithdrawalVoucher { voucher })
            .await
            .unwrap_err(),
        (409, Refusal::AlreadyConsumed)
    );

    // The bank rejected a second withdrawal's instruction (R1) and then booked the same
    // end-to-end id anyway (R2). The bank's record contradicts itself: members vouch for neither
    // outcome, so a rejection cannot unlock funds the bank paid out.
    let out = tenant
        .execute(
            &c5a,
            &json!({"request_withdrawal": {"amount": "500", "beneficiary": "CN1234567890"}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "request 2: {}", out.log);
    let signature = sign(
        &net,
        &SignRequest::WithdrawalInstruction { withdrawal_id: 2 },
    )
    .await
    .unwrap();
    let out = net
        .client
        .execute(
            &c5a,
            &json!({"approve_instruction": {"withdrawal_id": 2, "signature": signature}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "approve 2: {}", out.log);
    let w2: c5::WithdrawalResponse = net
        .client
        .smart(&c5a, &c5::QueryMsg::Withdrawal { withdrawal_id: 2 })
        .await
        .unwrap();
    let e2e = w2.withdrawal.expect("withdrawal 2").end_to_end_id;
    for (bank_ref, status) in [
        ("BOOK-2R", BookingStatus::Rejected),
        ("BOOK-2B", BookingStatus::Booked),
    ] {
        bookings.lock().unwrap().insert(
            bank_ref.into(),
            BankBooking {
                bank_ref: bank_ref.into(),
                direction: Direction::Debit,
                amount: 500,
                currency: "CNY".into(),
                status,
                end_to_end_id: Some(e2e.clone()),
                remittance: None,
            },
        );
    }
    for (bank_ref, outcome) in [
        ("BOOK-2R", BankOutcome::Rejected),
        ("BOOK-2B", BankOutcome::Booked),
    ] {
        let voucher = WithdrawalVoucher {
            withdrawal_id: 2,
            end_to_end_id: e2e.clone(),
            bank_ref: bank_ref.into(),
            outcome,
            amount: Uint128::new(500),
        };
        assert_eq!(
            sign(&net, &SignRequest::WithdrawalVoucher { voucher })
                .await
                .unwrap_err(),
            (409, Refusal::BankDisagrees),
            "{bank_ref}: the bank reports two outcomes for {e2e}"
        );
    }
}

/// The keeper end to end: a tenant funded through the bank simulator has its terminals proven,
/// the keeper seals the period with `ProvePeriod` once its grace has passed and requests the
/// settlement once the dispute window is over; the members sign its payment instruction from
/// the chain's request; then the relayer has it approved, paid by the bank to the provider's
/// account and cleared on chain, and the books reconcile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keeper_proves_periods_and_requests_their_settlement_which_the_relayer_pays() {
    use usage_common::msg::settlement as c3m;
    use usage_devtools::bank_side::{self, BankSim, CUSTODIAL};

    let mut net = Net::start("usagechain-keeper-1", 3).await;
    let dir = tempfile::tempdir().unwrap();
    let bank = BankSim::start(&net, &dir.path().join("bank"));
    let (c3, c4, c5a) = (
        net.contract("settlement"),
        net.contract("ledger"),
        net.contract("withdrawal"),
    );
    for c in &mut net.configs {
        c.settlement = Some(c3.clone());
        c.ledger = Some(c4.clone());
        c.withdrawal = Some(c5a.clone());
        c.bank = Some(bank.link());
    }
    let rpc = format!("http://127.0.0.1:{}", net.rpc_port());
    let tenant = ChainClient::new(&rpc, &net.info().chain_id)
        .unwrap()
        .with_key(&[0x7f; 32])
        .unwrap();
    let tenant_addr = tenant.address().unwrap().to_string();
    net.fleet_tenants =
        usage_devtools::fleet::lease_fleet(&net, std::slice::from_ref(&tenant)).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2]).await;

    // The provider names its payee account; the tenant pays into the custodial account and the
    // members' signature of the bank's booking credits it on C4.
    let out = net
        .client
        .execute(
            &c3,
            &json!({"set_payee_account": {"account": "CN00PROVIDER0001"}}),
            20_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "payee: {}", out.log);
    bank.open_account("CN00TENANTK0000001", 200_000_000).await;
    bank.open_account("CN00PROVIDER0001", 0).await;
    let bank_ref = bank
        .transfer("CN00TENANTK0000001", CUSTODIAL, 100_000_000, &tenant_addr)
        .await;
    let voucher = DepositVoucher {
        bank_ref,
        beneficiary: tenant_addr.clone(),
        amount: Uint128::new(100_000_000),
        currency: "CNY".into(),
    };
    let signature = sign(
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
    let settlement = Arc::new(Mutex::new(None));
    usage_devtools::eventually(
        Duration::from_secs(330),
        "the keeper requests the period's settlement",
        || {
            let (c3, provider, tenant_addr, settlement) = (
                c3.clone(),
                provider.clone(),
                tenant_addr.clone(),
                settlement.clone(),
            );
            let net = &net;
            async move {
                let r: c3m::SettlementResponse = net
                    .client
                    .smart(
                        &c3,
                        &c3m::QueryMsg::SettlementForPeriod {
                            provider,
                            tenant: tenant_addr,
                            period_start: period,
                        },
                    )
                    .await
                    .unwrap();
                let found = r.settlement.is_some();
                *settlement.lock().unwrap() = r.settlement;
                found
            }
        },
    )
    .await;
    let s = settlement.lock().unwrap().clone().unwrap();
    assert_eq!(s.status, c3m::SettlementStatus::Requested);
    assert!(s.amount.u128() > 0, "the period was billed");
    let keeper_txs: u64 = (0..4)
        .map(|i| net.metric(i, "usage_aggregator_keeper_txs_total"))
        .sum();
    assert!(
        keeper_txs >= 2,
        "ProvePeriod and RequestSettlement came from the keeper"
    );
    sign(
        &net,
        &SignRequest::SettlementInstruction {
            settlement_id: s.settlement_id,
        },
    )
    .await
    .expect("members sign the instruction of a requested settlement");

    // The relayer takes it from here: approval on chain, pain.001, the bank's booking, voucher.
    let config = bank_side::relayer_config(&net, &bank, &dir.path().join("relayer"), 0x73);
    let log = dir.path().join("relayer.log");
    let relayer = usage_devtools::node::Killer(vec![bank_side::start_relayer(&config, &log, &[])]);
    let id = s.settlement_id;
    usage_devtools::eventually(Duration::from_secs(60), "the settlement is cleared", || {
        let (c3, net) = (c3.clone(), &net);
        async move {
            let r: c3m::SettlementResponse = net
                .client
                .smart(&c3, &c3m::QueryMsg::Settlement { settlement_id: id })
                .await
                .unwrap();
            matches!(
                r.settlement.unwrap().status,
                c3m::SettlementStatus::Cleared { .. }
            )
        }
    })
    .await;
    // The relayer stops; the bank's books are final. The keeper may have had later periods
    // settled too: every settlement the bank booked, it paid once, to the provider.
    drop(relayer);
    let statements = usage_bank_api::BankClient::new(
        reqwest::Client::new(),
        &bank.url,
        usage_bank_api::parse_public_key(&bank.public_key).unwrap(),
    );
    let ours = statements.payment(&s.end_to_end_id).await.unwrap();
    let booking = ours.outcome().unwrap().unwrap().clone();
    assert_eq!(
        (booking.amount, booking.status),
        (s.amount.u128(), BookingStatus::Booked)
    );
    let all: c3m::SettlementsResponse = net
        .client
        .smart(
            &c3,
            &c3m::QueryMsg::Settlements {
                start_after: None,
                limit: Some(100),
            },
        )
        .await
        .unwrap();
    let mut paid = 0u128;
    for x in &all.settlements {
        let statement = statements.payment(&x.end_to_end_id).await.unwrap();
        if let Some(b) = statement.outcome().unwrap() {
            assert_eq!(b.amount, x.amount.u128(), "settlement {}", x.settlement_id);
            if b.status == BookingStatus::Booked {
                paid += b.amount;
            }
        }
    }
    println!(
        "settlements requested {}, paid {paid}",
        all.settlements.len()
    );
    assert_eq!(
        bank.balance("CN00PROVIDER0001").await,
        paid as i128,
        "the provider was paid each booked settlement once"
    );
    assert_eq!(bank.balance(CUSTODIAL).await, (100_000_000 - paid) as i128);
    let (ok, report) = bank_side::reconcile(&config);
    assert!(ok, "{report}");
    assert_eq!(report["difference"], 0, "{report}");
}
