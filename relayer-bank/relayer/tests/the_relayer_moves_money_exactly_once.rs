//! The relayer as a process, between a live localnet with three committee members and the bank
//! simulator: a tenant's bank transfers (notified twice and out of order) become its balance on
//! C4 once and an unaddressed one is parked; a withdrawal a CosmJS wallet signed is approved,
//! paid by the bank and completed on chain; a payment the bank rejects fails on chain and
//! unlocks the funds; the relayer killed (as kill -9) at each of its steps and restarted, and the
//! bank killed and restarted, complete every flow once; two relayers at once pay once; and
//! `usage-relayer reconcile` finds no difference, also while a payment is in flight.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_client::ChainClient;
use usage_common::msg::{ledger as c4, withdrawal as c5};
use usage_devtools::bank_side::{self, start_relayer, BankSim, CUSTODIAL};
use usage_devtools::committee::Net;
use usage_devtools::node::Killer;
use usage_service::testing::sibling_binary;

const TENANT_BANK: &str = "CN00TENANTACCOUNT001";
const TENANT_SEED: [u8; 32] = [0x6b; 32];

/// Waits (at most `secs`) until `check` holds, re-evaluating it every 500 ms.
async fn until<F, Fut>(secs: u64, what: &str, logs: &[&Path], mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        if started.elapsed() > Duration::from_secs(secs) {
            let tails: Vec<String> = logs
                .iter()
                .map(|l| {
                    let text = std::fs::read_to_string(l).unwrap_or_default();
                    let lines: Vec<&str> = text.lines().collect();
                    lines[lines.len().saturating_sub(30)..].join("\n")
                })
                .collect();
            panic!("{what}: not within {secs} s\n{}", tails.join("\n----\n"));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

struct World {
    net: Net,
    dir: tempfile::TempDir,
    bank: BankSim,
    wallet: ChainClient,
    tenant: String,
}

impl World {
    async fn balance_at_bank(&self, iban: &str) -> i128 {
        self.bank.balance(iban).await
    }

    async fn transfer(&self, amount: u64, remittance: &str) {
        self.bank
            .transfer(TENANT_BANK, CUSTODIAL, u128::from(amount), remittance)
            .await;
    }

    async fn on_chain(&self) -> (u128, u128) {
        let b: c4::AccountResponse = self
            .wallet
            .smart(
                &self.net.contract("ledger"),
                &c4::QueryMsg::Account {
                    address: self.tenant.clone(),
                },
            )
            .await
            .unwrap();
        (b.available.u128(), b.locked.u128())
    }

    async fn withdraw(&self, amount: u128) -> u64 {
        let out = self
            .wallet
            .execute(
                &self.net.contract("withdrawal"),
                &c5::ExecuteMsg::RequestWithdrawal {
                    amount: Uint128::new(amount),
                    beneficiary: TENANT_BANK.into(),
                },
                30_000_000,
                Duration::from_secs(20),
            )
            .await
            .unwrap();
        assert!(out.is_ok(), "request: {}", out.log);
        let ws: c5::WithdrawalsResponse = self
            .wallet
            .smart(
                &self.net.contract("withdrawal"),
                &c5::QueryMsg::Withdrawals {
                    owner: Some(self.tenant.clone()),
                    start_after: None,
                    limit: None,
                },
            )
            .await
            .unwrap();
        ws.withdrawals.last().unwrap().withdrawal_id
    }

    /// The tenant's wallet signs `RequestWithdrawal` with the command line (`usage withdraw`,
    /// its key in a 0600 key file).
    fn withdraw_with_cli(&self, amount: u128) -> u64 {
        let key_file = self.dir.path().join("tenant.key");
        if !key_file.exists() {
            usage_service::secret::write_key(&key_file, &TENANT_SEED).unwrap();
        }
        let out = Command::new(sibling_binary("usage"))
            .args(["withdraw", "--withdrawal", &self.net.contract("withdrawal")])
            .args([
                "--amount",
                &amount.to_string(),
                "--beneficiary",
                TENANT_BANK,
            ])
            .arg("--key-file")
            .arg(&key_file)
            .args([
                "--rpc",
                &format!("http://127.0.0.1:{}", self.net.rpc_port()),
            ])
            .args(["--chain-id", &self.net.info().chain_id, "-o", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["withdrawal_id"].as_u64().unwrap()
    }

    /// The tenant's wallet signs `RequestWithdrawal` with CosmJS (`tests/wallet/withdraw.mjs`).
    fn withdraw_with_cosmjs(&self, amount: u128) -> u64 {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/wallet/withdraw.mjs");
        let out = Command::new("node")
            .arg(&script)
            .env("RPC", format!("http://127.0.0.1:{}", self.net.rpc_port()))
            .env("WITHDRAWAL", self.net.contract("withdrawal"))
            .env("PRIVKEY", hex::encode(TENANT_SEED))
            .env("AMOUNT", amount.to_string())
            .env("BENEFICIARY", TENANT_BANK)
            .output()
            .expect("node (scripts/setup.sh installs CosmJS)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["withdrawals"].as_array().unwrap().last().unwrap()["withdrawal_id"]
            .as_u64()
            .unwrap()
    }

    async fn status(&self, id: u64) -> c5::WithdrawalStatus {
        let w: c5::WithdrawalResponse = self
            .wallet
            .smart(
                &self.net.contract("withdrawal"),
                &c5::QueryMsg::Withdrawal { withdrawal_id: id },
            )
            .await
            .unwrap();
        w.withdrawal.unwrap().status
    }

    /// A relayer configuration with its own data folder and account.
    fn relayer_config(&self, name: &str, account_seed: u8) -> PathBuf {
        bank_side::relayer_config(
            &self.net,
            &self.bank,
            &self.dir.path().join(name),
            account_seed,
        )
    }

    fn reconcile(&self, config: &Path) -> (bool, Value) {
        bank_side::reconcile(config)
    }
}

async fn world(chain_id: &str) -> World {
    let mut net = Net::start(chain_id, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let bank = BankSim::start(&net, &dir.path().join("bank"));
    let (c3, c4a, c5a) = (
        net.contract("settlement"),
        net.contract("ledger"),
        net.contract("withdrawal"),
    );
    for c in &mut net.configs {
        c.settlement = Some(c3.clone());
        c.ledger = Some(c4a.clone());
        c.withdrawal = Some(c5a.clone());
        c.bank = Some(bank.link());
    }
    for i in 0..3 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2]).await;
    let wallet = usage_devtools::fleet::account(&net, TENANT_SEED);
    let tenant = wallet.address().unwrap().to_string();
    bank.open_account(TENANT_BANK, 100_000).await;
    World {
        net,
        dir,
        bank,
        wallet,
        tenant,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_and_withdrawals_move_once_through_crashes_and_a_second_relayer() {
    let mut w = world("usagechain-relay-1").await;
    let config = w.relayer_config("relayer-a", 0x71);
    let log_a = w.dir.path().join("relayer-a.log");
    let mut relayer_a = Killer(vec![start_relayer(&config, &log_a, &[])]);

    // Deposits, notified twice and out of order: one naming the tenant, one naming nobody.
    w.bank
        .faults(json!({"duplicate": true, "reorder": true}))
        .await;
    w.transfer(40_000, &w.tenant).await;
    w.transfer(777, "invoice 12").await;
    until(60, "the deposit is credited on C4", &[&log_a], || async {
        w.on_chain().await == (40_000, 0)
    })
    .await;
    until(
        30,
        "the unaddressed credit is parked",
        &[&log_a],
        || async {
            let out = Command::new(sibling_binary("usage-relayer"))
                .args(["parked", "--config"])
                .arg(&config)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).contains("invoice 12")
        },
    )
    .await;

    w.bank.faults(json!({})).await;

    // A withdrawal a CosmJS wallet signed: approved, paid, completed.
    let first = w.withdraw_with_cosmjs(1_000);
    until(60, "withdrawal 1 completes", &[&log_a], || async {
        matches!(
            w.status(first).await,
            c5::WithdrawalStatus::Completed { .. }
        )
    })
    .await;
    assert_eq!(w.on_chain().await, (39_000, 0));
    assert_eq!(
        w.balance_at_bank(TENANT_BANK).await,
        100_000 - 40_777 + 1_000
    );
    let (ok, r) = w.reconcile(&config);
    assert!(ok, "{r}");
    assert_eq!(r["difference"], 0, "{r}");
    assert_eq!(
        r["credited_not_deposited"], 777,
        "the parked credit is accounted for"
    );

    // One the command line signed, the same.
    let by_cli = w.withdraw_with_cli(1_500);
    until(
        60,
        "the command line's withdrawal completes",
        &[&log_a],
        || async {
            matches!(
                w.status(by_cli).await,
                c5::WithdrawalStatus::Completed { .. }
            )
        },
    )
    .await;

    // The bank rejects a payment: the withdrawal fails on chain and its funds are unlocked.
    w.bank.faults(json!({"reject_next": 1})).await;
    let rejected = w.withdraw(500).await;
    until(60, "the rejected withdrawal fails", &[&log_a], || async {
        matches!(
            w.status(rejected).await,
            c5::WithdrawalStatus::Failed { .. }
        )
    })
    .await;
    assert_eq!(w.on_chain().await, (37_500, 0), "unlocked");
    assert_eq!(
        w.balance_at_bank(TENANT_BANK).await,
        100_000 - 40_777 + 2_500
    );

    // Killed (as kill -9) at each step of a withdrawal and of a deposit, then restarted: each
    // completes, once. Right after the bank paid, the payment is in flight and the books
    // still reconcile.
    let (mut paid, mut deposited) = (2_500u128, 40_000u128);
    for (i, point) in [
        "before-approve",
        "before-approve-tx",
        "before-pain001",
        "after-pain001",
        "before-voucher-tx",
        "before-deposit-tx",
        "before-feed-cursor",
    ]
    .into_iter()
    .enumerate()
    {
        relayer_a.kill_all();
        let amount = 100 * (i as u128 + 1);
        let deposit = point.contains("deposit") || point.contains("feed");
        let withdrawal = if deposit {
            w.transfer(amount as u64, &w.tenant).await;
            None
        } else {
            Some(w.withdraw(amount).await)
        };
        let log_crash = w.dir.path().join(format!("relayer-crash-{point}.log"));
        let mut crashed = start_relayer(&config, &log_crash, &[("USAGE_RELAYER_CRASH_AT", point)]);
        let started = Instant::now();
        while crashed.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the relayer never reached {point}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            std::fs::read_to_string(&log_crash)
                .unwrap()
                .contains(&format!("crashing at {point}")),
            "{point}"
        );
        if point == "after-pain001" {
            assert_eq!(
                w.status(withdrawal.unwrap()).await,
                c5::WithdrawalStatus::Instructed
            );
            let (ok, r) = w.reconcile(&config);
            assert!(ok, "{r}");
            assert_eq!(r["paid_not_recorded"], amount as u64, "{r}");
            assert_eq!(r["difference"], 0, "{r}");
        }
        let log = w.dir.path().join(format!("relayer-after-{point}.log"));
        relayer_a = Killer(vec![start_relayer(&config, &log, &[])]);
        if let Some(id) = withdrawal {
            paid += amount;
            until(60, point, &[&log], || async {
                matches!(w.status(id).await, c5::WithdrawalStatus::Completed { .. })
            })
            .await;
        } else {
            deposited += amount;
            let expected = deposited - paid;
            until(60, point, &[&log], || async {
                w.on_chain().await == (expected, 0)
            })
            .await;
        }
        assert_eq!(w.on_chain().await, (deposited - paid, 0), "{point}");
        assert_eq!(
            w.balance_at_bank(CUSTODIAL).await,
            (777 + deposited - paid) as i128,
            "{point}: nothing paid twice"
        );
    }

    println!("kills survived per step (each followed by a restart that completed the flow once):");
    for point in [
        "before-approve",
        "before-approve-tx",
        "before-pain001",
        "after-pain001",
        "before-voucher-tx",
        "before-deposit-tx",
        "before-feed-cursor",
    ] {
        println!("  {point:<20} 1");
    }

    // The bank killed (kill -9) while a withdrawal is under way, then restarted on its books.
    let id = w.withdraw(250).await;
    w.bank.kill9();
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.bank.restart();
    paid += 250;
    until(
        60,
        "the withdrawal completes after the bank's restart",
        &[],
        || async { matches!(w.status(id).await, c5::WithdrawalStatus::Completed { .. }) },
    )
    .await;
    assert_eq!(
        w.balance_at_bank(CUSTODIAL).await,
        (777 + deposited - paid) as i128,
        "the bank's restart pays nothing twice"
    );

    // Two relayers at once: each payment completes, none is paid twice.
    let log_b = w.dir.path().join("relayer-b.log");
    let config_b = w.relayer_config("relayer-b", 0x72);
    let _relayer_b = Killer(vec![start_relayer(&config_b, &log_b, &[])]);
    let ids = [w.withdraw(3_000).await, w.withdraw(4_000).await];
    paid += 7_000;
    for id in ids {
        until(90, "the withdrawal completes", &[&log_b], || async {
            matches!(w.status(id).await, c5::WithdrawalStatus::Completed { .. })
        })
        .await;
    }
    assert_eq!(w.on_chain().await, (deposited - paid, 0));
    assert_eq!(
        w.balance_at_bank(CUSTODIAL).await,
        (777 + deposited - paid) as i128
    );
    assert_eq!(
        w.balance_at_bank(TENANT_BANK).await,
        (100_000 - 777 - deposited + paid) as i128,
        "each withdrawal paid once, each deposit taken once"
    );
    let (ok, r) = w.reconcile(&config_b);
    assert!(ok, "{r}");
    assert_eq!(r["difference"], 0, "{r}");
    assert_eq!(r["paid_not_recorded"], 0, "{r}");
}

/// A withdrawal over the per-request limit is not refused but delayed; once its delay is over
/// the relayer releases it, has it approved and paid, and it completes like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_withdrawal_is_released_after_its_delay_and_paid() {
    let w = world("usagechain-relay-3").await;
    let config = w.relayer_config("relayer-d", 0x74);
    let log = w.dir.path().join("relayer-d.log");
    let _relayer = Killer(vec![start_relayer(&config, &log, &[])]);
    // 12,000.00 in: enough for one request over the 10,000.00 per-request limit.
    w.bank.open_account("CN00TENANTRICH00001", 2_000_000).await;
    w.bank
        .transfer("CN00TENANTRICH00001", CUSTODIAL, 1_200_000, &w.tenant)
        .await;
    until(60, "the deposit is credited", &[&log], || async {
        w.on_chain().await == (1_200_000, 0)
    })
    .await;
    let id = w.withdraw(1_100_000).await;
    let c5::WithdrawalStatus::Delayed { release_at } = w.status(id).await else {
        panic!("over the limit, the withdrawal waits out its delay");
    };
    assert!(release_at > 0);
    until(
        90,
        "the delayed withdrawal is released and paid",
        &[&log],
        || async { matches!(w.status(id).await, c5::WithdrawalStatus::Completed { .. }) },
    )
    .await;
    assert_eq!(w.on_chain().await, (100_000, 0));
    assert_eq!(
        w.balance_at_bank(TENANT_BANK).await,
        100_000 + 1_100_000,
        "paid to the beneficiary"
    );
    let (ok, r) = w.reconcile(&config);
    assert!(ok && r["difference"] == 0, "{r}");
}
