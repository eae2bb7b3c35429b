//! The simulated fleet beside a [`Net`]: its terminals registered on the usage-proof contract,
//! leased by tenant accounts, and the `usage-attestor simulate` process that samples them.
//!
//! Like an assertion, every function here panics with a message when something it needs fails.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cosmwasm_std::HexBinary;
use usage_client::ChainClient;
use usage_common::msg::usage_proof::{self as c1, TeeKind};
use usage_sample::simulate::{terminal_id, SimulatedKey};
use usage_sample::tee::TeeBackend;

use crate::committee::Net;
use crate::localnet;
use crate::node::{log_file, sibling_binary};

impl Net {
    /// Registers `n` simulated terminals (`sim-00000`...) for the localnet admin.
    pub async fn register_fleet(&self, n: u64) {
        register_terminals(
            &self.client,
            &self.contract("usage-proof"),
            &self.node.info.admin_address,
            n,
        )
        .await;
    }

    /// Starts (or restarts, on the same outbox) the simulated fleet.
    pub fn start_fleet(&mut self) {
        self.stop_fleet();
        let fleet = Simulator {
            terminals: self.fleet_size,
            tenants: self.fleet_tenants.clone(),
            aggregators: self.urls(),
            interval_ms: Some(self.fleet_interval_ms),
            seconds: None,
        };
        self.fleet = Some(fleet.spawn(self.home()));
    }

    pub fn stop_fleet(&mut self) {
        if let Some(mut c) = self.fleet.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A client of the localnet signing with the account of secret `seed` (created by its first
/// transaction).
pub fn account(net: &Net, seed: [u8; 32]) -> ChainClient {
    let rpc = format!("http://127.0.0.1:{}", net.rpc_port());
    ChainClient::new(&rpc, &net.info().chain_id)
        .expect("client")
        .with_key(&seed)
        .expect("key")
}

/// The accounts of `n` tenants, tenant `j` with the secret of 32 bytes `0x7a + j`.
pub fn tenants(net: &Net, n: u8) -> Vec<ChainClient> {
    (0..n).map(|j| account(net, [0x7a + j; 32])).collect()
}

/// Each of `tenants` leases, from the start of time, the fleet's terminals it will serve
/// (terminal `i` serves tenant `i % tenants.len()`, the fleet's round robin); returns their
/// addresses in that order, for [`Net::fleet_tenants`].
pub async fn lease_fleet(net: &Net, tenants: &[ChainClient]) -> Vec<String> {
    lease_terminals(
        &net.contract("usage-proof"),
        &net.info().admin_address,
        tenants,
        net.fleet_size,
    )
    .await
}

/// Broadcasts `msgs` (contract, JSON) signed by `client`, 50 a transaction (a transaction holds
/// at most 64 messages), 60 transactions at a time (the node's mempool holds at most 64 of one
/// sender), waiting for every transaction and checking that it succeeded.
pub async fn broadcast_in_fifties(client: &ChainClient, msgs: &[(String, Vec<u8>)], what: &str) {
    try_broadcast_in_fifties(client, msgs, what)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// [`broadcast_in_fifties`], returning the first failure.
pub async fn try_broadcast_in_fifties(
    client: &ChainClient,
    msgs: &[(String, Vec<u8>)],
    what: &str,
) -> anyhow::Result<()> {
    // A node holds at most 64 of one sender's transactions in its mempool: send 60 at a time and
    // wait for them before the next 60.
    for group in msgs.chunks(50 * 60) {
        let outcomes = client
            .execute_in_chunks(group, 50, 30_000_000, Duration::from_secs(120), |_, _| {})
            .await
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        if let Some(refused) = outcomes.iter().find(|o| !o.is_ok()) {
            anyhow::bail!("{what} refused: {}", refused.log);
        }
    }
    Ok(())
}

/// Registers simulated terminals `0..n` of the fleet `sim` (software TEE, their derived keys)
/// on the usage-proof contract `c1` for `provider`, signed by `client`.
pub async fn register_terminals(client: &ChainClient, c1: &str, provider: &str, n: u64) {
    try_register_terminals(client, c1, provider, n)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// [`register_terminals`], returning the first failure.
pub async fn try_register_terminals(
    client: &ChainClient,
    c1: &str,
    provider: &str,
    n: u64,
) -> anyhow::Result<()> {
    let msgs = (0..n)
        .map(|i| {
            let msg = c1::ExecuteMsg::RegisterTerminal {
                terminal_id: terminal_id("sim", i),
                provider: provider.to_string(),
                attestor_key: HexBinary::from(SimulatedKey::derive("sim", i).public_key()),
                tee: TeeKind::Software,
                measurement: HexBinary::from(localnet::SOFTWARE_MEASUREMENT),
                shared_attestor: false,
            };
            Ok((c1.to_string(), serde_json::to_vec(&msg)?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    try_broadcast_in_fifties(client, &msgs, "registration").await
}

/// Each of `tenants` leases from `provider`, from the start of time, the terminals of `0..n` it
/// will serve (terminal `i` serves tenant `i % tenants.len()`, the fleet's round robin); returns
/// their addresses in that order.
pub async fn lease_terminals(
    c1: &str,
    provider: &str,
    tenants: &[ChainClient],
    n: u64,
) -> Vec<String> {
    try_lease_terminals(c1, provider, tenants, n)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// [`lease_terminals`], returning the first failure.
pub async fn try_lease_terminals(
    c1: &str,
    provider: &str,
    tenants: &[ChainClient],
    n: u64,
) -> anyhow::Result<Vec<String>> {
    for (j, tenant) in tenants.iter().enumerate() {
        let msgs = (0..n)
            .filter(|i| usize::try_from(*i).is_ok_and(|i| i % tenants.len() == j))
            .map(|i| {
                let msg = c1::ExecuteMsg::OpenLease {
                    terminal_id: terminal_id("sim", i),
                    provider: provider.to_string(),
                    start: 0,
                    end: None,
                    price_cap: None,
                };
                Ok((c1.to_string(), serde_json::to_vec(&msg)?))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        try_broadcast_in_fifties(tenant, &msgs, "lease").await?;
    }
    Ok(tenants
        .iter()
        .map(|t| t.address().unwrap_or_default().to_string())
        .collect())
}

/// A `usage-attestor simulate` process: the fleet `sim` of `terminals` terminals sampling for
/// `tenants` (round robin) and delivering to every aggregator of `aggregators`.
pub struct Simulator {
    pub terminals: u64,
    pub tenants: Vec<String>,
    pub aggregators: Vec<String>,
    /// Milliseconds between samples of each terminal (the simulator's default if `None`).
    pub interval_ms: Option<u64>,
    /// Stop after this many seconds (runs until killed if `None`).
    pub seconds: Option<u64>,
}

impl Simulator {
    /// Starts the simulator with its outbox in `home/fleet` and its log in `home/fleet.log`.
    pub fn spawn(&self, home: &Path) -> Child {
        self.command(&sibling_binary("usage-attestor"), home)
            .stdout(Stdio::null())
            .stderr(log_file(home, "fleet"))
            .spawn()
            .expect("usage-attestor")
    }

    /// The command that runs the simulator (`bin` is `usage-attestor`) with its outbox in
    /// `home/fleet`.
    pub fn command(&self, bin: &Path, home: &Path) -> Command {
        let mut cmd = Command::new(bin);
        cmd.args([
            "simulate",
            "--terminals",
            &self.terminals.to_string(),
            "--label",
            "sim",
        ])
        .args(self.tenants.iter().flat_map(|t| ["--tenant", t.as_str()]))
        .arg("--data-dir")
        .arg(home.join("fleet"));
        if let Some(ms) = self.interval_ms {
            cmd.args(["--interval-ms", &ms.to_string()]);
        }
        if let Some(s) = self.seconds {
            cmd.args(["--seconds", &s.to_string()]);
        }
        for u in &self.aggregators {
            cmd.args(["--aggregator", u]);
        }
        cmd
    }
}
