//! The bank simulator as a process, against a live one-validator localnet: a tenant's transfer
//! into the custodial account is notified (camt.054) and, committee-signed, credited on C4; a
//! withdrawal's pain.001 is refused until its approval is committed on chain, refused with a
//! forged approval or another amount, then paid exactly once however often it is sent; every
//! statement is signed with the bank's key; told to, the bank rejects a payment for good, and
//! delivers notifications twice and out of order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::Duration;

use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_bank_api::{verify_statement, BankClient, BookingStatus, SIGNATURE_HEADER};
use usage_bank_sim::server::Notifications;
use usage_client::ChainClient;
use usage_common::msg::{ledger as c4, withdrawal as c5};
use usage_common::payload::{DepositVoucher, WithdrawalApproval};
use usage_common::ThresholdSignature;
use usage_devtools::localnet::COMMITTEE_LABEL;
use usage_devtools::node::{free_ports, Killer, Localnet};
use usage_iso20022::{
    Amount, ApprovalEntry, CommitteeApproval, CreditTransfer, CreditTransferInitiation,
    DebitCreditNotification, Party, PaymentStatusReport, TxStatus,
};
use usage_service::testing::{run_until_logged, sibling_binary, terminate, write_config};
use usage_signer::SigningCommittee;

const CHAIN: &str = "usagechain-bank-1";
const CUSTODIAL: &str = "CN00USAGECUSTODY0001";
const TENANT_BANK: &str = "CN00TENANTACCOUNT001";
const WALLET_KEY: [u8; 32] = [0x5a; 32];

struct Bank {
    url: String,
    client: BankClient,
    http: reqwest::Client,
    key: ed25519_dalek::VerifyingKey,
}

impl Bank {
    async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Sends a pain.001: the status and body, checked to be signed by the bank when it is 200.
    async fn pain001(&self, xml: &str) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}/v1/pain.001", self.url))
            .header("content-type", "application/xml")
            .body(xml.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let sig = r
            .headers()
            .get(SIGNATURE_HEADER)
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.text().await.unwrap();
        if status == 200 {
            verify_statement(&self.key, "/v1/pain.001", body.as_bytes(), sig.as_deref())
                .expect("the bank signs its pain.002");
        }
        (status, body)
    }

    async fn feed(&self, after: u64) -> Notifications {
        let path = format!("/v1/notifications?after={after}");
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let sig = r
            .headers()
            .get(SIGNATURE_HEADER)
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.bytes().await.unwrap();
        verify_statement(&self.key, &path, &body, sig.as_deref()).expect("signed feed");
        serde_json::from_slice(&body).unwrap()
    }

    async fn balance(&self, iban: &str) -> i128 {
        let r: Value = self
            .http
            .get(format!("{}/v1/accounts/{iban}", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["balance"].as_str().unwrap().parse().unwrap()
    }
}

fn pain001(
    message_id: &str,
    e2e: &str,
    amount: u128,
    creditor: &str,
    approval: Option<&ThresholdSignature>,
) -> String {
    CreditTransferInitiation {
        message_id: message_id.into(),
        created_at: "2026-12-01T10:00:00Z".into(),
        initiating_party: "usagechain relayer".into(),
        payment_info_id: format!("P-{message_id}"),
        requested_execution_date: "2026-12-01".into(),
        debtor: Party::new("usagechain custody", CUSTODIAL),
        debtor_agent_bic: "USGSCNB1XXX".into(),
        transfers: vec![CreditTransfer {
            end_to_end_id: e2e.into(),
            amount: Amount::new(amount, "CNY"),
            creditor: Party::new("tenant", creditor),
            creditor_agent_bic: None,
            remittance: None,
        }],
        approval: approval.map(|sig| CommitteeApproval {
            entries: vec![ApprovalEntry {
                end_to_end_id: e2e.into(),
                payload: vec![],
                signature: usage_bank_api::encode_approval(sig),
            }],
        }),
    }
    .to_xml()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bank_pays_only_what_the_chain_instructed_and_signs_what_it_reports() {
    let net = Localnet::start(CHAIN).await;
    let committee = SigningCommittee::deterministic(COMMITTEE_LABEL, 1, 4, 3);
    let (c1, c3, c4a, c5a) = (
        net.contract("usage-proof"),
        net.contract("settlement"),
        net.contract("ledger"),
        net.contract("withdrawal"),
    );

    // The bank, as its binary runs it.
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("bank.key");
    usage_service::secret::write_key(&key_path, &[0xb4; 32]).unwrap();
    let [port, metrics_port] = free_ports();
    let config = write_config(
        dir.path(),
        &json!({
            "listen": format!("127.0.0.1:{port}"),
            "metrics_listen": format!("127.0.0.1:{metrics_port}"),
            "data_dir": dir.path().join("data"),
            "signing_key": key_path,
            "currency": "CNY",
            "custodial_account": CUSTODIAL,
            "chain": {
                "rpc": net.rpc_url(),
                "chain_id": CHAIN,
                "usage_proof": c1,
                "settlement": c3,
                "withdrawal": c5a,
            }
        }),
    );
    let mut process = run_until_logged(&sibling_binary("usage-bank-sim"), &config, "bank serving");
    let url = format!("http://127.0.0.1:{port}");
    let key = ed25519_dalek::SigningKey::from_bytes(&[0xb4; 32]).verifying_key();
    let http = reqwest::Client::new();
    let bank = Bank {
        client: BankClient::new(http.clone(), &url, key),
        url,
        http,
        key,
    };

    // A tenant pays into the custodial account with its chain address as the reference.
    let wallet = ChainClient::new(&net.rpc_url(), CHAIN)
        .unwrap()
        .with_key(&WALLET_KEY)
        .unwrap();
    let tenant = wallet.address().unwrap().to_string();
    let (status, _) = bank
        .post_json(
            "/v1/accounts",
            json!({"iban": TENANT_BANK, "name": "tenant", "opening_balance": "100000"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, booked) = bank
        .post_json(
            "/v1/transfers",
            json!({"from": TENANT_BANK, "to": CUSTODIAL, "amount": "50000", "remittance": tenant}),
        )
        .await;
    assert_eq!(status, 201, "{booked}");
    let deposit_ref = booked["bank_ref"].as_str().unwrap().to_string();
    let credit = bank.client.booking(&deposit_ref).await.unwrap().unwrap();
    assert_eq!(
        (credit.amount, credit.status),
        (50_000, BookingStatus::Booked)
    );
    assert_eq!(credit.remittance.as_deref(), Some(tenant.as_str()));
    assert_eq!(bank.client.booking("BK9999999999").await.unwrap(), None);

    // Credited on C4 with the committee's signature over the bank's booking.
    let voucher = DepositVoucher {
        bank_ref: deposit_ref.clone(),
        beneficiary: tenant.clone(),
        amount: Uint128::new(50_000),
        currency: "CNY".into(),
    };
    let signature = committee.sign_quorum(CHAIN, &c4a, &voucher);
    let out = wallet
        .execute(
            &c4a,
            &c4::ExecuteMsg::Deposit { voucher, signature },
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "deposit: {}", out.log);

    // The tenant asks for 1,000 back.
    let out = wallet
        .execute(
            &c5a,
            &c5::ExecuteMsg::RequestWithdrawal {
                amount: Uint128::new(1_000),
                beneficiary: TENANT_BANK.into(),
            },
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "request: {}", out.log);
    let w: c5::WithdrawalResponse = wallet
        .smart(&c5a, &c5::QueryMsg::Withdrawal { withdrawal_id: 1 })
        .await
        .unwrap();
    let e2e = w.withdrawal.unwrap().end_to_end_id;
    let approval: WithdrawalApproval = wallet
        .smart(&c5a, &c5::QueryMsg::InstructionPayload { withdrawal_id: 1 })
        .await
        .unwrap();
    let signature = committee.sign_quorum(CHAIN, &c5a, &approval);

    // A valid approval that is not recorded on chain yet pays nothing.
    let (status, body) = bank
        .pain001(&pain001("M-1", &e2e, 1_000, TENANT_BANK, Some(&signature)))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not instructed"), "{body}");

    let out = wallet
        .execute(
            &c5a,
            &c5::ExecuteMsg::ApproveInstruction {
                withdrawal_id: 1,
                signature: signature.clone(),
            },
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "approve: {}", out.log);

    // Refused: no approval, another committee's, another amount, another account, a foreign id.
    let impostors = SigningCommittee::deterministic("impostors", 1, 4, 3);
    let forged = impostors.sign_quorum(CHAIN, &c5a, &approval);
    let under_signed = committee.sign(&[0, 1], CHAIN, &c5a, &approval);
    let other_chain = committee.sign_quorum("other-chain", &c5a, &approval);
    let foreign_e2e = usage_common::payload::withdrawal_end_to_end_id("other-chain", &c5a, 1);
    for (xml, why) in [
        (
            pain001("M-2", &e2e, 1_000, TENANT_BANK, None),
            "no committee approval",
        ),
        (
            pain001("M-3", &e2e, 1_000, TENANT_BANK, Some(&forged)),
            "does not verify",
        ),
        (
            pain001("M-3b", &e2e, 1_000, TENANT_BANK, Some(&under_signed)),
            "does not verify",
        ),
        (
            pain001("M-3c", &e2e, 1_000, TENANT_BANK, Some(&other_chain)),
            "does not verify",
        ),
        (
            pain001("M-4", &e2e, 1_001, TENANT_BANK, Some(&signature)),
            "amount 1000",
        ),
        (
            pain001("M-5", &e2e, 1_000, "CN00SOMEONEELSE0001", Some(&signature)),
            "creditor account",
        ),
        (
            pain001("M-6", &foreign_e2e, 1_000, TENANT_BANK, Some(&signature)),
            "does not name this deployment",
        ),
    ] {
        let (status, body) = bank.pain001(&xml).await;
        assert_eq!(status, 403, "{why}: {body}");
        assert!(body.contains(why), "{why}: {body}");
    }
    let (status, body) = bank.pain001("<Document/>").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(bank.balance(CUSTODIAL).await, 50_000, "nothing paid yet");

    // Paid, once, however often it is sent.
    let xml = pain001("M-7", &e2e, 1_000, TENANT_BANK, Some(&signature));
    let (status, body) = bank.pain001(&xml).await;
    assert_eq!(status, 200, "{body}");
    let report = PaymentStatusReport::from_xml(&body).unwrap();
    assert_eq!(report.original_message_id, "M-7");
    assert_eq!(report.transactions[0].end_to_end_id, e2e);
    assert_eq!(
        report.transactions[0].status,
        TxStatus::AcceptedSettlementCompleted
    );
    assert_eq!(
        bank.pain001(&xml).await,
        (200, body.clone()),
        "a resend is answered the same"
    );
    // Another message id carrying nothing new is refused, so no one can take message ids.
    let (status, again) = bank
        .pain001(&pain001("M-8", &e2e, 1_000, TENANT_BANK, Some(&signature)))
        .await;
    assert_eq!(status, 409, "{again}");
    assert!(again.contains("nothing_new"), "{again}");
    assert_eq!(bank.balance(CUSTODIAL).await, 49_000);
    assert_eq!(bank.balance(TENANT_BANK).await, 100_000 - 50_000 + 1_000);
    let statement = bank.client.payment(&e2e).await.unwrap();
    let paid = statement.outcome().unwrap().unwrap().clone();
    assert_eq!((paid.amount, paid.status), (1_000, BookingStatus::Booked));
    assert_eq!(statement.bookings.len(), 1);

    // The feed: the deposit's credit, the payment's debit, the message's status, each signed.
    let feed = bank.feed(0).await.notifications;
    let kinds: Vec<&str> = feed.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(
        kinds,
        ["camt.054.001.08", "camt.054.001.08", "pain.002.001.10"],
        "two bookings, then the message's status"
    );
    let deposit = DebitCreditNotification::from_xml(&feed[0].xml).unwrap();
    assert_eq!(deposit.entries[0].entry_ref, deposit_ref);
    assert_eq!(
        deposit.entries[0].remittance.as_deref(),
        Some(tenant.as_str())
    );
    let debit = DebitCreditNotification::from_xml(&feed[1].xml).unwrap();
    assert_eq!(
        debit.entries[0].end_to_end_id.as_deref(),
        Some(e2e.as_str())
    );

    // Faults: the next new payment is rejected, for good; notifications come twice, reordered.
    let (status, _) = bank
        .post_json(
            "/v1/faults",
            json!({"reject_next": 1, "duplicate": true, "reorder": true}),
        )
        .await;
    assert_eq!(status, 200);
    let out = wallet
        .execute(
            &c5a,
            &c5::ExecuteMsg::RequestWithdrawal {
                amount: Uint128::new(700),
                beneficiary: TENANT_BANK.into(),
            },
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "request 2: {}", out.log);
    let approval2: WithdrawalApproval = wallet
        .smart(&c5a, &c5::QueryMsg::InstructionPayload { withdrawal_id: 2 })
        .await
        .unwrap();
    let signature2 = committee.sign_quorum(CHAIN, &c5a, &approval2);
    let out = wallet
        .execute(
            &c5a,
            &c5::ExecuteMsg::ApproveInstruction {
                withdrawal_id: 2,
                signature: signature2.clone(),
            },
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "approve 2: {}", out.log);
    let e2e2 = approval2.end_to_end_id.clone();
    let (status, body) = bank
        .pain001(&pain001("M-9", &e2e2, 700, TENANT_BANK, Some(&signature2)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        PaymentStatusReport::from_xml(&body).unwrap().transactions[0].status,
        TxStatus::Rejected
    );
    let (status, body) = bank
        .pain001(&pain001("M-10", &e2e2, 700, TENANT_BANK, Some(&signature2)))
        .await;
    assert_eq!(
        status, 409,
        "a rejected end-to-end id is never paid afterwards: {body}"
    );
    assert_eq!(bank.balance(CUSTODIAL).await, 49_000);
    let rejected = bank.client.payment(&e2e2).await.unwrap();
    assert_eq!(
        rejected.outcome().unwrap().unwrap().status,
        BookingStatus::Rejected
    );
    // A small deposit after the rejection's status: notifications 4 and 5, in reverse order,
    // each twice.
    let (status, _) = bank
        .post_json(
            "/v1/transfers",
            json!({"from": TENANT_BANK, "to": CUSTODIAL, "amount": "10", "remittance": "top-up"}),
        )
        .await;
    assert_eq!(status, 201);
    let seqs: Vec<u64> = bank
        .feed(3)
        .await
        .notifications
        .iter()
        .map(|n| n.seq)
        .collect();
    assert_eq!(seqs, [5, 5, 4, 4]);

    // Held back while younger than the delay.
    bank.post_json("/v1/faults", json!({"delay_ms": 600_000}))
        .await;
    assert!(bank.feed(3).await.notifications.is_empty(), "delayed");
    bank.post_json("/v1/faults", json!({})).await;
    assert_eq!(
        bank.feed(3).await.notifications.len(),
        2,
        "delivered once the delay is lifted"
    );

    // The books reconcile with the chain: 1,000 paid and not yet recorded on chain, the
    // rejected 700 still locked on chain and still in the custodial account, the top-up of 10
    // credited at the bank and not yet on chain.
    let relayer_key = dir.path().join("relayer.key");
    let account_key = dir.path().join("account.key");
    usage_service::secret::write_key(&relayer_key, &[0x5e; 32]).unwrap();
    usage_service::secret::write_key(&account_key, &[0x5f; 32]).unwrap();
    let relayer_config = dir.path().join("relayer.json");
    std::fs::write(
        &relayer_config,
        serde_json::to_vec(&json!({
            "data_dir": dir.path().join("relayer"),
            "rpc": net.rpc_url(),
            "chain_id": CHAIN,
            "usage_proof": c1,
            "settlement": c3,
            "ledger": c4a,
            "withdrawal": c5a,
            "members": ["http://127.0.0.1:1"],
            "keys": {"relayer": relayer_key, "account": account_key},
            "bank": {
                "url": bank.url,
                "public_key": hex::encode(key.as_bytes()),
                "custodial_account": CUSTODIAL,
                "bic": "USGSCNB1XXX",
            },
        }))
        .unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new(sibling_binary("usage-relayer"))
        .args(["reconcile", "--json", "--config"])
        .arg(&relayer_config)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{report}");
    assert_eq!(report["paid_not_recorded"], 1_000, "{report}");
    assert_eq!(report["chain_total"], 50_000, "{report}");
    assert_eq!(
        report["credited_not_deposited"], 10,
        "the top-up is not on chain yet"
    );
    assert_eq!(report["difference"], 0, "{report}");

    // SIGTERM stops it; the books are still there on the next start.
    let (_, exit) = terminate(&mut process);
    assert!(exit.success(), "{exit}");
    let _restarted = Killer(vec![run_until_logged(
        &sibling_binary("usage-bank-sim"),
        &config,
        "bank serving",
    )]);
    assert_eq!(bank.balance(CUSTODIAL).await, 49_010);
    assert_eq!(
        bank.client
            .payment(&e2e)
            .await
            .unwrap()
            .outcome()
            .unwrap()
            .unwrap()
            .bank_ref,
        paid.bank_ref
    );
}
