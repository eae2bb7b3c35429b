//! The bank side of a test localnet as processes: the bank simulator (`usage-bank-sim`) on the
//! localnet's contracts, and relayers (`usage-relayer`) between it, the chain and the committee.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use usage_service::testing::{run_until_logged, sibling_binary};

use crate::committee::{relayer, Net};
use crate::localnet::LocalnetInfo;
use crate::node::{free_ports, Killer};

/// The platform's custodial account at the simulated bank.
pub const CUSTODIAL: &str = "CN00USAGECUSTODY0001";
/// The simulated bank's signing seed (tests only).
pub const BANK_SEED: [u8; 32] = [0xb4; 32];

/// A running bank simulator.
pub struct BankSim {
    /// Its base URL.
    pub url: String,
    /// Its public key, hex.
    pub public_key: String,
    http: reqwest::Client,
    config: PathBuf,
    process: Killer,
}

impl BankSim {
    /// Starts the bank simulator for `net`'s contracts, its books and key in `dir`.
    pub fn start(net: &Net, dir: &Path) -> BankSim {
        let [port] = free_ports();
        let (config, public_key) = bank_config(net.info(), dir, port, None).expect("bank config");
        let mut bank = BankSim {
            url: format!("http://127.0.0.1:{port}"),
            public_key,
            http: reqwest::Client::new(),
            config,
            process: Killer::default(),
        };
        bank.restart();
        bank
    }

    /// SIGKILLs the bank (no clean shutdown).
    pub fn kill9(&mut self) {
        self.process.kill_all();
    }

    /// Starts the bank again on the same books, key and port (killing it first if it runs).
    pub fn restart(&mut self) {
        self.process.kill_all();
        self.process = Killer(vec![run_until_logged(
            &sibling_binary("usage-bank-sim"),
            &self.config,
            "bank serving",
        )]);
    }

    /// How a member's configuration names this bank.
    pub fn link(&self) -> usage_aggregator::config::BankLink {
        usage_aggregator::config::BankLink {
            url: self.url.clone(),
            public_key: self.public_key.clone(),
        }
    }

    /// Opens a customer's account with `opening` minor units.
    pub async fn open_account(&self, iban: &str, opening: u128) {
        let r = self
            .http
            .post(format!("{}/v1/accounts", self.url))
            .json(&json!({"iban": iban, "name": iban, "opening_balance": opening.to_string()}))
            .send()
            .await
            .expect("bank");
        assert_eq!(r.status(), 201, "open {iban}");
    }

    /// A customer's transfer; its bank reference.
    pub async fn transfer(&self, from: &str, to: &str, amount: u128, remittance: &str) -> String {
        let r = self
            .http
            .post(format!("{}/v1/transfers", self.url))
            .json(&json!({"from": from, "to": to, "amount": amount.to_string(), "remittance": remittance}))
            .send()
            .await
            .expect("bank");
        assert_eq!(r.status(), 201, "transfer");
        let v: Value = r.json().await.expect("json");
        v["bank_ref"].as_str().expect("bank_ref").to_string()
    }

    /// An account's booked balance.
    pub async fn balance(&self, iban: &str) -> i128 {
        let v: Value = self
            .http
            .get(format!("{}/v1/accounts/{iban}", self.url))
            .send()
            .await
            .expect("bank")
            .json()
            .await
            .expect("json");
        v["balance"]
            .as_str()
            .and_then(|b| b.parse().ok())
            .unwrap_or_else(|| panic!("no balance for {iban}: {v}"))
    }

    /// Tells the bank which faults to make (`{"reject_next": 1}`, `{"duplicate": true}`, ...).
    pub async fn faults(&self, faults: Value) {
        let r = self
            .http
            .post(format!("{}/v1/faults", self.url))
            .json(&faults)
            .send()
            .await
            .expect("bank");
        assert_eq!(r.status(), 200, "faults");
    }
}

/// Writes the bank simulator's configuration (`dir/config.json`) for the localnet `info`
/// describes, listening on 127.0.0.1:`port`, its books in `dir/books` and its signing key
/// (seed [`BANK_SEED`]) in `dir/bank.key`; returns the configuration's path and the bank's
/// public key (hex). Its metrics are served on `metrics` if given.
pub fn bank_config(
    info: &LocalnetInfo,
    dir: &Path,
    port: u16,
    metrics: Option<u16>,
) -> anyhow::Result<(PathBuf, String)> {
    std::fs::create_dir_all(dir)?;
    let key_path = dir.join("bank.key");
    if !key_path.exists() {
        usage_service::secret::write_key(&key_path, &BANK_SEED)?;
    }
    let config = dir.join("config.json");
    let mut value = json!({
        "listen": format!("127.0.0.1:{port}"),
        "data_dir": dir.join("books"),
        "signing_key": key_path,
        "currency": "CNY",
        "custodial_account": CUSTODIAL,
        "chain": {
            "rpc": format!("http://127.0.0.1:{}", info.ports.rpc),
            "chain_id": info.chain_id,
            "usage_proof": info.contract("usage-proof")?,
            "settlement": info.contract("settlement")?,
            "withdrawal": info.contract("withdrawal")?,
        }
    });
    if let Some(m) = metrics {
        value["metrics_listen"] = json!(format!("127.0.0.1:{m}"));
    }
    std::fs::write(&config, serde_json::to_vec_pretty(&value)?)?;
    let key = ed25519_dalek::SigningKey::from_bytes(&BANK_SEED).verifying_key();
    Ok((config, hex::encode(key.as_bytes())))
}

/// A relayer's configuration in `home` for `net` and `bank`, asking every member with the
/// tests' relayer key and paying its transactions from the account of seed `[account_seed; 32]`.
pub fn relayer_config(net: &Net, bank: &BankSim, home: &Path, account_seed: u8) -> PathBuf {
    relayer_config_for(
        net.info(),
        &net.urls(),
        (&bank.url, &bank.public_key),
        home,
        account_seed,
        None,
    )
    .expect("relayer config")
}

/// A relayer's configuration in `home` for the localnet `info` describes, the members at
/// `members` and the bank (URL, public key hex), asking the members with the tests' relayer key
/// and paying its transactions from the account of seed `[account_seed; 32]`; its metrics on
/// `metrics` if given.
pub fn relayer_config_for(
    info: &LocalnetInfo,
    members: &[String],
    (bank_url, bank_key): (&str, &str),
    home: &Path,
    account_seed: u8,
    metrics: Option<u16>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(home)?;
    let relayer_key = home.join("relayer.key");
    let account_key = home.join("account.key");
    if !relayer_key.exists() {
        usage_service::secret::write_key(&relayer_key, &relayer().to_bytes())?;
        usage_service::secret::write_key(&account_key, &[account_seed; 32])?;
    }
    let config = home.join("config.json");
    let mut value = json!({
        "data_dir": home.join("data"),
        "rpc": format!("http://127.0.0.1:{}", info.ports.rpc),
        "chain_id": info.chain_id,
        "usage_proof": info.contract("usage-proof")?,
        "settlement": info.contract("settlement")?,
        "ledger": info.contract("ledger")?,
        "withdrawal": info.contract("withdrawal")?,
        "members": members,
        "keys": {"relayer": relayer_key, "account": account_key},
        "bank": {
            "url": bank_url,
            "public_key": bank_key,
            "custodial_account": CUSTODIAL,
            "bic": "USGSCNB1XXX",
        },
        "poll_seconds": 1,
    });
    if let Some(m) = metrics {
        value["metrics_listen"] = json!(format!("127.0.0.1:{m}"));
    }
    std::fs::write(&config, serde_json::to_vec_pretty(&value)?)?;
    Ok(config)
}

/// Starts `usage-relayer run` on `config` with `env`, its log in `log`; returns once it runs.
pub fn start_relayer(config: &Path, log: &Path, env: &[(&str, &str)]) -> Child {
    let child = Command::new(sibling_binary("usage-relayer"))
        .args(["run", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stderr(std::fs::File::create(log).expect("log"))
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
            "relayer did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// `usage-relayer reconcile --json` on `config`: whether it found no difference, and its report.
pub fn reconcile(config: &Path) -> (bool, Value) {
    let out = Command::new(sibling_binary("usage-relayer"))
        .args(["reconcile", "--json", "--config"])
        .arg(config)
        .output()
        .expect("usage-relayer");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), v)
}
