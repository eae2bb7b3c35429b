//! A one-validator localnet (CometBFT + usaged), a committee of aggregator processes and a
//! simulated fleet, on free loopback ports, for the committee tests. Processes are killed when
//! dropped. The `usaged` and `usage-attestor` binaries are taken from the same target directory
//! as this test (`cargo test --workspace` builds them).
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use usage_aggregator::config::{Byzantine, Config, Peer, SigningCallers, Timing};
use usage_aggregator::keys;
use usage_client::ChainClient;
use usage_common::msg::usage_proof::{self as c1, FirstProof};
use usage_sample::simulate::{terminal_id, SimulatedKey};
use usage_sample::tee::TeeBackend;
use usaged::localnet;

/// The node harness of `usaged`'s own tests.
#[path = "../../../../abci-app/usaged/tests/common/mod.rs"]
pub mod node;

pub use node::{free_port, http_get, percent_encode, sibling_binary};

fn log_file(dir: &Path, name: &str) -> Stdio {
    Stdio::from(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file"))
}

pub struct Net {
    /// The node (CometBFT + usaged), its home, ports and localnet info.
    pub node: node::Localnet,
    /// The chain, signing as the localnet admin.
    pub client: ChainClient,
    pub aggregators: BTreeMap<usize, Child>,
    pub configs: Vec<Config>,
    pub fleet: Option<Child>,
    pub fleet_size: u64,
    /// Milliseconds between samples of each simulated terminal.
    pub fleet_interval_ms: u64,
    /// Tenants of the simulated terminals, round robin.
    pub fleet_tenants: Vec<String>,
}

impl Drop for Net {
    fn drop(&mut self) {
        for c in self.aggregators.values_mut().chain(self.fleet.iter_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::env::var_os("KEEP_LOGS").is_some() {
            eprintln!("logs kept in {}", self.node.home.path().display());
            std::mem::forget(std::mem::replace(
                &mut self.node.home,
                tempfile::tempdir().expect("tmp"),
            ));
        }
    }
}

impl Net {
    /// Starts a node, registers `terminals` simulated terminals and writes a 4-member committee
    /// configuration (threshold 3).
    pub async fn start(chain_id: &str, terminals: u64) -> Net {
        let node = node::Localnet::start(chain_id).await;
        let rpc = format!("http://127.0.0.1:{}", node.ports.rpc);
        let client = ChainClient::new(&rpc, chain_id)
            .expect("client")
            .with_key(&localnet::ADMIN_SEED)
            .expect("admin key");
        let mut net = Net {
            node,
            client,
            aggregators: BTreeMap::new(),
            configs: vec![],
            fleet: None,
            fleet_size: terminals,
            fleet_interval_ms: 1_000,
            fleet_tenants: vec!["tenant-a".into(), "tenant-b".into()],
        };
        net.node.wait_for_height(2).await;
        net.register_fleet(terminals).await;
        net.configs = net.committee_configs();
        net
    }

    pub fn info(&self) -> &localnet::LocalnetInfo {
        &self.node.info
    }

    pub fn rpc_port(&self) -> u16 {
        self.node.ports.rpc
    }

    fn home(&self) -> &Path {
        self.node.home.path()
    }

    pub fn contract(&self, label: &str) -> String {
        self.node.contract(label)
    }

    async fn register_fleet(&self, n: u64) {
        let c1 = self.contract("usage-proof");
        let ids: Vec<u64> = (0..n).collect();
        // At most 64 messages per tx; broadcast every chunk, then wait for all.
        let mut hashes = vec![];
        for chunk in ids.chunks(50) {
            let msgs: Vec<(String, Vec<u8>)> = chunk
                .iter()
                .map(|i| {
                    let key = SimulatedKey::derive("sim", *i);
                    let msg = json!({"register_terminal": {
                        "terminal_id": terminal_id("sim", *i),
                        "provider": self.node.info.admin_address,
                        "attestor_key": hex::encode(key.public_key()),
                        "tee": "software",
                        "measurement": hex::encode(localnet::SOFTWARE_MEASUREMENT)}});
                    (c1.clone(), serde_json::to_vec(&msg).expect("json"))
                })
                .collect();
            hashes.push(
                self.client
                    .broadcast(&msgs, 30_000_000)
                    .await
                    .expect("register broadcast"),
            );
        }
        for hash in hashes {
            let out = self
                .client
                .wait_tx(&hash, Duration::from_secs(120))
                .await
                .expect("register committed");
            assert!(out.is_ok(), "registration: {}", out.log);
        }
    }

    fn committee_configs(&self) -> Vec<Config> {
        let all: Vec<_> = (0..4)
            .map(|i| keys::localnet(localnet::COMMITTEE_LABEL, i, 4, 3))
            .collect();
        let listen: Vec<u16> = (0..4).map(|_| free_port()).collect();
        let metrics: Vec<u16> = (0..4).map(|_| free_port()).collect();
        let peers: Vec<Peer> = all
            .iter()
            .enumerate()
            .map(|(i, k)| Peer {
                index: i,
                url: format!("http://127.0.0.1:{}", listen[i]),
                peer_key: k.public().expect("public").peer_key,
            })
            .collect();
        all.into_iter()
            .enumerate()
            .map(|(i, k)| Config {
                index: i,
                listen: format!("127.0.0.1:{}", listen[i]),
                metrics_listen: Some(format!("127.0.0.1:{}", metrics[i])),
                data_dir: self.home().join(format!("aggregator-{i}")),
                rpc: format!("http://127.0.0.1:{}", self.node.ports.rpc),
                chain_id: self.node.info.chain_id.clone(),
                usage_proof: self.contract("usage-proof"),
                period_proof: self.contract("period-proof"),
                settlement: None,
                ledger: None,
                withdrawal: None,
                bank_url: None,
                keys: k
                    .write_files(&self.home().join(format!("aggregator-{i}-keys")))
                    .expect("key files"),
                peers: peers.clone(),
                timing: Timing {
                    settle_ms: 1_500,
                    failover_ms: 6_000,
                    tick_ms: 250,
                },
                next_bls_keys: vec![],
                approved_rotation: None,
                signing: SigningCallers {
                    relayer_keys: vec![hex::encode(relayer().verifying_key().to_bytes())],
                    ..SigningCallers::default()
                },
                byzantine: None,
                evidence_max_age_seconds:
                    usage_aggregator::config::default_evidence_max_age_seconds(),
            })
            .collect()
    }

    pub fn urls(&self) -> Vec<String> {
        self.configs
            .iter()
            .map(|c| format!("http://{}", c.listen))
            .collect()
    }

    /// Starts (or restarts) aggregator `i`, optionally Byzantine.
    pub fn start_aggregator(&mut self, i: usize, byzantine: Option<Byzantine>) {
        self.stop_aggregator(i);
        let mut config = self.configs[i].clone();
        config.byzantine = byzantine;
        let path = self.home().join(format!("aggregator-{i}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&config).expect("json")).expect("write");
        let child = Command::new(sibling_binary("usage-aggregator"))
            .arg("run")
            .arg("--config")
            .arg(&path)
            .env(
                "RUST_LOG",
                std::env::var("AGGREGATOR_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log_file(
                self.home(),
                &format!(
                    "aggregator-{i}-{}",
                    Instant::now().elapsed().as_nanos() % 1000
                ),
            ))
            .spawn()
            .expect("usage-aggregator");
        self.aggregators.insert(i, child);
    }

    /// SIGKILLs aggregator `i`.
    pub fn stop_aggregator(&mut self, i: usize) {
        if let Some(mut c) = self.aggregators.remove(&i) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Pauses aggregator `i` (SIGSTOP): it keeps its sockets and memory but does nothing, and
    /// its peers' and the attestor's requests to it time out.
    pub fn pause_aggregator(&self, i: usize) {
        self.signal_aggregator(i, "STOP");
    }

    /// Resumes aggregator `i` after [`Net::pause_aggregator`] (SIGCONT).
    pub fn resume_aggregator(&self, i: usize) {
        self.signal_aggregator(i, "CONT");
    }

    fn signal_aggregator(&self, i: usize, signal: &str) {
        let pid = self.aggregators.get(&i).expect("a running aggregator").id();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "SIG{signal} to aggregator {i}");
    }

    /// Starts (or restarts, on the same outbox) the simulated fleet.
    pub fn start_fleet(&mut self) {
        self.stop_fleet();
        let mut cmd = Command::new(sibling_binary("usage-attestor"));
        cmd.args([
            "simulate",
            "--terminals",
            &self.fleet_size.to_string(),
            "--label",
            "sim",
        ])
        .args(
            self.fleet_tenants
                .iter()
                .flat_map(|t| ["--tenant", t.as_str()]),
        )
        .arg("--data-dir")
        .arg(self.home().join("fleet"))
        .args(["--interval-ms", &self.fleet_interval_ms.to_string()]);
        for u in self.urls() {
            cmd.args(["--aggregator", &u]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(log_file(self.home(), "fleet"))
            .spawn()
            .expect("usage-attestor");
        self.fleet = Some(child);
    }

    pub fn stop_fleet(&mut self) {
        if let Some(mut c) = self.fleet.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub async fn block_time(&self) -> u64 {
        self.client.status().await.expect("status").1
    }

    /// Every first proof of terminal `t`.
    pub async fn proofs(&self, t: &str) -> Vec<FirstProof> {
        let r: c1::ProofsResponse = self
            .client
            .smart(
                &self.contract("usage-proof"),
                &c1::QueryMsg::TerminalProofs {
                    terminal_id: t.to_string(),
                    from: 0,
                    to: u64::MAX,
                    limit: Some(100),
                },
            )
            .await
            .expect("proofs");
        r.proofs
    }

    /// Every batch C1 accepted, with its submitter.
    pub async fn batches(&self) -> Vec<c1::BatchInfo> {
        let c1a = self.contract("usage-proof");
        let config: c1::ConfigResponse = self
            .client
            .smart(&c1a, &c1::QueryMsg::Config {})
            .await
            .expect("config");
        let mut out = vec![];
        for id in 1..config.next_batch_id {
            let b: c1::BatchResponse = self
                .client
                .smart(&c1a, &c1::QueryMsg::Batch { batch_id: id })
                .await
                .expect("batch");
            out.extend(b.batch);
        }
        out
    }

    /// How many times tx_search finds a `usage_proof` event of (terminal, window) in committed
    /// transactions.
    pub fn proof_events(&self, t: &str) -> BTreeMap<u64, usize> {
        let q = format!("\"wasm-usage_proof.terminal_id='{t}'\"");
        let mut counts = BTreeMap::new();
        let mut page = 1;
        loop {
            let v = http_get(
                self.node.ports.rpc,
                &format!(
                    "/tx_search?query={}&per_page=100&page={page}",
                    percent_encode(&q)
                ),
            );
            let txs = v["result"]["txs"].as_array().cloned().unwrap_or_default();
            for tx in &txs {
                if tx["tx_result"]["code"].as_u64().unwrap_or(0) != 0 {
                    continue;
                }
                for e in tx["tx_result"]["events"].as_array().into_iter().flatten() {
                    if e["type"] != "wasm-usage_proof" {
                        continue;
                    }
                    let attr = |k: &str| {
                        e["attributes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|a| a["key"] == k)
                            .and_then(|a| a["value"].as_str())
                            .map(str::to_string)
                    };
                    if attr("terminal_id").as_deref() == Some(t) {
                        if let Some(w) = attr("window_start").and_then(|w| w.parse().ok()) {
                            *counts.entry(w).or_insert(0) += 1;
                        }
                    }
                }
            }
            let total: usize = v["result"]["total_count"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if page * 100 >= total {
                break;
            }
            page += 1;
        }
        counts
    }

    /// Reads an aggregator's Prometheus counter.
    pub fn metric(&self, i: usize, name: &str) -> u64 {
        let port: u16 = self.configs[i]
            .metrics_listen
            .as_deref()
            .expect("metrics address")
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let text = http_get_text(port, "/metrics");
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    pub fn address_of(&self, i: usize) -> String {
        keys::localnet(localnet::COMMITTEE_LABEL, i, 4, 3)
            .public()
            .expect("public")
            .account
    }
}

pub fn http_get_text(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
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
/// (terminal `i` serves tenant `i % tenants.len()`, the fleet's round robin), 50 leases a
/// transaction; returns their addresses in that order, for [`Net::fleet_tenants`].
pub async fn lease_fleet(net: &Net, tenants: &[ChainClient]) -> Vec<String> {
    let c1 = net.contract("usage-proof");
    let provider = net.info().admin_address.clone();
    let mut hashes = vec![];
    for (j, tenant) in tenants.iter().enumerate() {
        let ids: Vec<u64> = (0..net.fleet_size)
            .filter(|i| usize::try_from(*i).expect("index") % tenants.len() == j)
            .collect();
        for chunk in ids.chunks(50) {
            let msgs: Vec<(String, Vec<u8>)> = chunk
                .iter()
                .map(|i| {
                    let msg = c1::ExecuteMsg::OpenLease {
                        terminal_id: terminal_id("sim", *i),
                        provider: provider.clone(),
                        start: 0,
                        end: None,
                        price_cap: None,
                    };
                    (c1.clone(), serde_json::to_vec(&msg).expect("json"))
                })
                .collect();
            hashes.push((
                tenant,
                tenant.broadcast(&msgs, 30_000_000).await.expect("lease"),
            ));
        }
    }
    for (tenant, hash) in hashes {
        let out = tenant
            .wait_tx(&hash, Duration::from_secs(120))
            .await
            .expect("lease committed");
        assert!(out.is_ok(), "lease: {}", out.log);
    }
    tenants
        .iter()
        .map(|t| t.address().expect("address").to_string())
        .collect()
}

/// The key of the tests' relayer, allowed to ask every member for signatures.
pub fn relayer() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x5e; 32])
}

/// Asks members 0, 1 and 2's signing services (`POST /v1/sign`, sealed by the relayer) and
/// combines their partials into the threshold signature of the chain's current committee; the
/// HTTP status and refusal of the first member that refuses.
pub async fn sign_by_three(
    net: &Net,
    request: &usage_aggregator::signing::SignRequest,
) -> Result<usage_common::ThresholdSignature, (u16, usage_aggregator::signing::Refusal)> {
    let committee: c1::CommitteeResponse = net
        .client
        .smart(&net.contract("usage-proof"), &c1::QueryMsg::Committee {})
        .await
        .expect("committee");
    let http = reqwest::Client::new();
    let mut quorum: Option<usage_aggregator_core::quorum::Quorum> = None;
    for i in 0..3 {
        let s = usage_aggregator::signing::ask(
            &http,
            &format!("http://{}", net.configs[i].listen),
            &relayer(),
            &net.info().chain_id,
            i,
            request,
        )
        .await
        .map_err(|(status, body)| (status, body.error))?;
        let bytes = hex::decode(&s.signing_bytes).expect("hex");
        let q = quorum.get_or_insert_with(|| {
            usage_aggregator_core::quorum::Quorum::new(committee.committee.clone(), bytes.clone())
        });
        assert_eq!(
            q.message(),
            bytes.as_slice(),
            "members signed the same bytes"
        );
        let partial: [u8; 96] = hex::decode(&s.partial)
            .expect("hex")
            .try_into()
            .expect("96 bytes");
        q.add(s.member, partial).expect("a valid partial");
    }
    Ok(quorum.and_then(|q| q.signature()).expect("three partials"))
}

/// Waits until `cond` holds (checked every second), at most `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if cond().await {
            return;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
