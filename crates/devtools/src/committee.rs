//! A committee of four aggregator processes (threshold 3) beside a [`Localnet`], configured on
//! free loopback ports with the localnet's deterministic keys, and what a relayer does with it:
//! collecting a quorum of the members' partial signatures. The aggregators are SIGKILLed when
//! the [`Net`] is dropped; their logs are kept in the localnet's home (and the home itself when
//! `KEEP_LOGS` is set).
//!
//! Like an assertion, every function here panics with a message when something it needs fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use usage_aggregator::config::{Byzantine, Config, Peer, SigningCallers, Timing};
use usage_aggregator::keys;
use usage_aggregator::signing::{Refusal, SignRequest};
use usage_aggregator_core::quorum::Quorum;
use usage_client::ChainClient;
use usage_common::msg::usage_proof::{self as c1, FirstProof};
use usage_common::ThresholdSignature;

use crate::localnet::{self, LocalnetInfo};
use crate::node::{
    free_ports, http_get, http_get_text, log_file, percent_encode, sibling_binary, Localnet,
};

pub struct Net {
    /// The node (CometBFT + usaged), its home, ports and localnet info.
    pub node: Localnet,
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
            self.node.home.keep();
        }
    }
}

impl Net {
    /// Starts a node, registers `terminals` simulated terminals and writes a 4-member committee
    /// configuration (threshold 3).
    pub async fn start(chain_id: &str, terminals: u64) -> Net {
        let node = Localnet::start(chain_id).await;
        let client = ChainClient::new(&node.rpc_url(), chain_id)
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

    pub fn info(&self) -> &LocalnetInfo {
        &self.node.info
    }

    pub fn rpc_port(&self) -> u16 {
        self.node.ports.rpc
    }

    pub fn home(&self) -> &Path {
        self.node.home.path()
    }

    pub fn contract(&self, label: &str) -> String {
        self.node.contract(label)
    }

    fn committee_configs(&self) -> Vec<Config> {
        let ports: [u16; 8] = free_ports();
        committee_configs(self.info(), self.home(), &ports[..4], &ports[4..])
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
        let log = format!(
            "aggregator-{i}-{}",
            Instant::now().elapsed().as_nanos() % 1000
        );
        let child = spawn_aggregator(&path, self.home(), &log);
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

    /// Stops aggregator `i` with SIGTERM and returns how long it took to exit, and whether it
    /// exited cleanly (panics if it is still running after 10 s).
    pub fn terminate_aggregator(&mut self, i: usize) -> (Duration, bool) {
        let mut child = self.aggregators.remove(&i).expect("a running aggregator");
        let (took, exit) = usage_service::testing::terminate(&mut child);
        (took, exit.success())
    }

    /// Waits until every aggregator of `members` serves (its metrics answer; at most 60 s).
    pub async fn wait_serving(&self, members: &[usize]) {
        crate::eventually(Duration::from_secs(60), "aggregators serving", || async {
            members.iter().all(|&i| !self.metrics_text(i).is_empty())
        })
        .await;
    }

    /// The text of aggregator `i`'s metrics endpoint.
    pub fn metrics_text(&self, i: usize) -> String {
        let port: u16 = self.configs[i]
            .metrics_listen
            .as_deref()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .expect("metrics address");
        http_get_text(port, "/metrics")
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

/// The configurations of the localnet's four members (threshold 3) listening on `listen[i]`
/// (metrics on `metrics[i]`) of 127.0.0.1, their data and key files under `home`, following the
/// chain `info` describes; the tests' [`relayer`] may ask each for signatures. The bank side
/// (C3, C4, C5, the bank link) and rotations are left for the caller to set.
pub fn committee_configs(
    info: &LocalnetInfo,
    home: &Path,
    listen: &[u16],
    metrics: &[u16],
) -> Vec<Config> {
    let all: Vec<_> = (0..4)
        .map(|i| keys::localnet(localnet::COMMITTEE_LABEL, i, 4, 3))
        .collect();
    let peers: Vec<Peer> = all
        .iter()
        .enumerate()
        .map(|(i, k)| Peer {
            index: i,
            url: format!("http://127.0.0.1:{}", listen[i]),
            peer_key: k.public().expect("public").peer_key,
        })
        .collect();
    let contract = |label: &str| info.contract(label).expect("contract").to_string();
    all.into_iter()
        .enumerate()
        .map(|(i, k)| Config {
            index: i,
            listen: format!("127.0.0.1:{}", listen[i]),
            metrics_listen: Some(format!("127.0.0.1:{}", metrics[i])),
            data_dir: home.join(format!("aggregator-{i}")),
            rpc: format!("http://127.0.0.1:{}", info.ports.rpc),
            chain_id: info.chain_id.clone(),
            usage_proof: contract("usage-proof"),
            period_proof: contract("period-proof"),
            settlement: None,
            ledger: None,
            withdrawal: None,
            bank: None,
            keys: k
                .write_files(&home.join(format!("aggregator-{i}-keys")))
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
            evidence_max_age_seconds: usage_aggregator::config::default_evidence_max_age_seconds(),
        })
        .collect()
}

/// Runs `usage-aggregator run --config config` with `$AGGREGATOR_LOG` (default `info`) as its
/// log filter and its log in `<log_dir>/<log>.log`.
pub fn spawn_aggregator(config: &Path, log_dir: &Path, log: &str) -> Child {
    Command::new(sibling_binary("usage-aggregator"))
        .arg("run")
        .arg("--config")
        .arg(config)
        .env(
            "RUST_LOG",
            std::env::var("AGGREGATOR_LOG").unwrap_or_else(|_| "info".into()),
        )
        .stdout(Stdio::null())
        .stderr(log_file(log_dir, log))
        .spawn()
        .expect("usage-aggregator")
}

/// The key of the tests' relayer, allowed to ask every member for signatures.
pub fn relayer() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[0x5e; 32])
}

/// Asks the signing services of members 0, 1 and 2 (`POST /v1/sign`, sealed by the
/// [`relayer`]) and combines their partials into the threshold signature of the chain's current
/// committee, as a relayer does; the HTTP status and refusal of the first member that refuses.
pub async fn collect_quorum(
    net: &Net,
    request: &SignRequest,
) -> Result<ThresholdSignature, (u16, Refusal)> {
    let urls = net.urls();
    match quorum_of(&net.client, &net.contract("usage-proof"), &urls, request).await {
        Ok(signature) => Ok(signature),
        Err(QuorumError::Refused(status, refusal)) => Err((status, refusal)),
        Err(e) => panic!("{e}"),
    }
}

/// Why [`quorum_of`] has no signature.
#[derive(Debug, thiserror::Error)]
pub enum QuorumError {
    #[error("a member refused ({0}): {1:?}")]
    Refused(u16, Refusal),
    #[error("{0}")]
    Failed(String),
}

/// Asks the signing services at `members` in turn (sealed by the [`relayer`]) until the
/// partials of the chain's current committee (read from C1 at `c1`) reach its threshold;
/// returns the threshold signature, or the first refusal.
pub async fn quorum_of(
    chain: &ChainClient,
    c1: &str,
    members: &[String],
    request: &SignRequest,
) -> Result<ThresholdSignature, QuorumError> {
    let failed =
        |what: &str, e: &dyn std::fmt::Display| QuorumError::Failed(format!("{what}: {e}"));
    let committee: c1::CommitteeResponse = chain
        .smart(c1, &c1::QueryMsg::Committee {})
        .await
        .map_err(|e| failed("the committee", &e))?;
    let http = reqwest::Client::new();
    let mut quorum: Option<Quorum> = None;
    for (i, url) in members.iter().enumerate() {
        let s =
            usage_aggregator::signing::ask(&http, url, &relayer(), chain.chain_id(), i, request)
                .await
                .map_err(|(status, body)| QuorumError::Refused(status, body.error))?;
        let bytes = hex::decode(&s.signing_bytes).map_err(|e| failed("signing bytes", &e))?;
        let q =
            quorum.get_or_insert_with(|| Quorum::new(committee.committee.clone(), bytes.clone()));
        if q.message() != bytes.as_slice() {
            return Err(QuorumError::Failed(format!(
                "member {i} signed other bytes"
            )));
        }
        let partial: [u8; 96] = hex::decode(&s.partial)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| QuorumError::Failed(format!("member {i}'s partial is not 96 bytes")))?;
        q.add(s.member, partial)
            .map_err(|e| failed("a partial", &e))?;
        if let Some(signature) = q.signature() {
            return Ok(signature);
        }
    }
    Err(QuorumError::Failed(format!(
        "{} members signed, fewer than the threshold",
        members.len()
    )))
}
