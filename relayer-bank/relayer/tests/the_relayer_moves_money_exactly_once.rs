//! The relayer as a process, between a live localnet with three committee members and the bank
//! simulator: a tenant's bank transfer becomes its balance on C4 and an unaddressed one is
//! parked; a wallet's withdrawal is approved, paid by the bank and completed on chain; a relayer
//! killed right after the bank paid leaves the payment in flight (reconciliation still balances)
//! and its restart completes it without paying twice; two relayers at once pay once.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_client::ChainClient;
use usage_common::msg::{ledger as c4, withdrawal as c5};
use usage_devtools::committee::{relayer, Net};
use usage_devtools::node::{free_ports, Killer};
use usage_service::testing::{run_until_logged, sibling_binary, write_config};

const CUSTODIAL: &str = "CN00USAGECUSTODY0001";
const TENANT_BANK: &str = "CN00TENANTACCOUNT001";
const BANK_SEED: [u8; 32] = [0xb4; 32];

/// Starts the relayer on `config` with `env`, its log in `log`; waits until it runs.
fn start_relayer(config: &Path, log: &Path, env: &[(&str, &str)]) -> Child {
    let child = Command::new(sibling_binary("usage-relayer"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stderr(std::fs::File::create(log).unwrap())
        .stdout(Stdio::null())
        .spawn()
        .expect("usage-relayer (cargo build --bins)");
    let started = Instant::now();
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("relayer running")
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "relayer did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

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
    bank_url: String,
    http: reqwest::Client,
    wallet: ChainClient,
    tenant: String,
    _bank: Killer,
}

impl World {
    async fn balance_at_bank(&self, iban: &str) -> i128 {
        let v: Value = self
            .http
            .get(format!("{}/v1/accounts/{iban}", self.bank_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["balance"].as_str().unwrap().parse().unwrap()
    }

    async fn transfer(&self, amount: u64, remittance: &str) {
        let r = self
            .http
            .post(format!("{}/v1/transfers", self.bank_url))
            .json(&json!({"from": TENANT_BANK, "to": CUSTODIAL, "amount": amount.to_string(), "remittance": remittance}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
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
        let home = self.dir.path().join(name);
        std::fs::create_dir_all(&home).unwrap();
        let relayer_key = home.join("relayer.key");
        let account_key = home.join("account.key");
        usage_service::secret::write_key(&relayer_key, &relayer().to_bytes()).unwrap();
        usage_service::secret::write_key(&account_key, &[account_seed; 32]).unwrap();
        let bank_key = ed25519_dalek::SigningKey::from_bytes(&BANK_SEED).verifying_key();
        write_config(
            &home,
            &json!({
                "data_dir": home.join("data"),
                "rpc": format!("http://127.0.0.1:{}", self.net.rpc_port()),
                "chain_id": self.net.info().chain_id,
                "usage_proof": self.net.contract("usage-proof"),
                "settlement": self.net.contract("settlement"),
                "ledger": self.net.contract("ledger"),
                "withdrawal": self.net.contract("withdrawal"),
                "members": self.net.urls(),
                "keys": {"relayer": relayer_key, "account": account_key},
                "bank": {
                    "url": self.bank_url,
                    "public_key": hex::encode(bank_key.as_bytes()),
                    "custodial_account": CUSTODIAL,
                    "bic": "USGSCNB1XXX",
                },
                "poll_seconds": 1,
            }),
        )
    }

    fn reconcile(&self, config: &Path) -> (bool, Value) {
        let out = Command::new(sibling_binary("usage-relayer"))
            .args(["reconcile", "--json", "--config"])
            .arg(config)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.success(), v)
    }
}

async fn world(chain_id: &str) -> World {
    let mut net = Net::start(chain_id, 0).await;
    let dir = tempfile::tempdir().unwrap();
    let [port] = free_ports();
    let bank_url = format!("http://127.0.0.1:{port}");
    let bank_key = ed25519_dalek::SigningKey::from_bytes(&BANK_SEED).verifying_key();
    let link = usage_aggregator::config::BankLink {
        url: bank_url.clone(),
        public_key: hex::encode(bank_key.as_bytes()),
    };
    let (c3, c4a, c5a) = (
        net.contract("settlement"),
        net.contract("ledger"),
        net.contract("withdrawal"),
    );
    for c in &mut net.configs {
        c.settlement = Some(c3.clone());
        c.ledger = Some(c4a.clone());
        c.withdrawal = Some(c5a.clone());
        c.bank = Some(link.clone());
    }
    let key_path = dir.path().join("bank.key");
    usage_service::secret::write_key(&key_path, &BANK_SEED).unwrap();
    let bank_config = write_config(
        &dir.path().join("."),
        &json!({
            "listen": format!("127.0.0.1:{port}"),
            "data_dir": dir.path().join("bank"),
            "signing_key": key_path,
            "currency": "CNY",
            "custodial_account": CUSTODIAL,
            "chain": {
                "rpc": format!("http://127.0.0.1:{}", net.rpc_port()),
                "chain_id": net.info().chain_id,
                "usage_proof": net.contract("usage-proof"),
                "settlement": c3,
                "withdrawal": c5a,
            }
        }),
    );
    let bank = Killer(vec![run_until_logged(
        &sibling_binary("usage-bank-sim"),
        &bank_config,
        "bank serving",
    )]);
    for i in 0..3 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2]).await;
    let wallet = usage_devtools::fleet::account(&net, [0x6b; 32]);
    let tenant = wallet.address().unwrap().to_string();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{bank_url}/v1/accounts"))
        .json(&json!({"iban": TENANT_BANK, "name": "tenant", "opening_balance": "100000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    World {
        net,
        dir,
        bank_url,
        http,
        wallet,
        tenant,
        _bank: bank,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_and_withdrawals_move_once_through_crashes_and_a_second_relayer() {
    let w = world("usagechain-relay-1").await;
    let config = w.relayer_config("relayer-a", 0x71);
    let log_a = w.dir.path().join("relayer-a.log");
    let mut relayer_a = Killer(vec![start_relayer(&config, &log_a, &[])]);

    // Deposits: one naming the tenant, one naming nobody.
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

    // A withdrawal: approved, paid, completed.
    let first = w.withdraw(1_000).await;
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

    // Killed (as kill -9) at each step of a withdrawal and of a deposit, then restarted: each
    // completes, once. Right after the bank paid, the payment is in flight and the books
    // still reconcile.
    let (mut paid, mut deposited) = (1_000u128, 40_000u128);
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
