//! A running one-validator localnet: `usaged` and CometBFT on a home written by
//! [`crate::localnet::init`], on free loopback ports (tests) or the default ones (the demo). The
//! processes are SIGKILLed when the [`Localnet`] is dropped; their logs are kept in its home.
//!
//! Like an assertion, every function here panics with a message when something it needs fails:
//! its callers are tests, benchmarks and the demo, which have nothing better to do than stop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosmrs::crypto::secp256k1::SigningKey;
use serde_json::Value;
use tempfile::TempDir;
use tendermint_rpc::{Client, HttpClient};

use crate::localnet::{self, LocalnetInfo, Ports};

/// Child processes killed (SIGKILL) and reaped when dropped.
#[derive(Default)]
pub struct Killer(pub Vec<Child>);

impl Killer {
    /// SIGKILLs and reaps every process.
    pub fn kill_all(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.0.clear();
    }
}

impl Drop for Killer {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// A port of 127.0.0.1 that nothing listened on a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `N` distinct ports of 127.0.0.1 that nothing listened on a moment ago (all held while they
/// are picked, so no two are the same).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    std::array::from_fn(|i| held[i].local_addr().expect("addr").port())
}

/// Whether something listens on 127.0.0.1:`port` (binding it fails because it is in use).
fn is_listening(port: u16) -> bool {
    matches!(
        TcpListener::bind(("127.0.0.1", port)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse
    )
}

/// The last `lines` lines of `<name>.log` in `home`, for a failure message.
pub fn log_tail(home: &Path, name: &str, lines: usize) -> String {
    let text = std::fs::read_to_string(home.join(format!("{name}.log"))).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    format!("--- {name}.log (last {lines} lines) ---\n{tail}")
}

/// The body of `GET path_and_query` on 127.0.0.1:`port`; empty if the port does not answer.
pub fn http_get_text(port: u16, path_and_query: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = write!(
        s,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    );
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.split("\r\n\r\n").nth(1).unwrap_or_default().to_string()
}

/// The JSON body of `GET path_and_query` on 127.0.0.1:`port`.
pub fn http_get(port: u16, path_and_query: &str) -> Value {
    let body = http_get_text(port, path_and_query);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// `s` percent-encoded for a URL's query (unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A binary built next to the running one: `target/<profile>/deps/<test>` (or
/// `examples/<bench>`, or `target/<profile>/<tool>`) -> `target/<profile>/<name>`;
/// `cargo test --workspace` builds every package's binaries.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("target dir");
    if matches!(
        dir.file_name().and_then(|n| n.to_str()),
        Some("deps" | "examples")
    ) {
        dir = dir.parent().expect("target dir");
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built: run `cargo build --bins`",
        path.display()
    );
    path
}

/// A log file `<name>.log` in `home` for a child's output (discarded if it cannot be created).
pub fn log_file(home: &Path, name: &str) -> Stdio {
    match std::fs::File::create(home.join(format!("{name}.log"))) {
        Ok(f) => Stdio::from(f),
        Err(_) => Stdio::null(),
    }
}

/// Starts `usaged` (with its metrics on `metrics_port` and its REST endpoint on `api_port`) and
/// then CometBFT on `home`.
fn spawn_node(home: &Path, ports: Ports, metrics_port: u16, api_port: u16) -> Vec<Child> {
    let mut usaged = Command::new(sibling_binary("usaged"))
        .args([
            "start",
            "--abci",
            &format!("127.0.0.1:{}", ports.abci),
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "--api-addr",
            &format!("127.0.0.1:{api_port}"),
            "--rpc-url",
            &format!("http://127.0.0.1:{}", ports.rpc),
            "--home",
        ])
        .arg(home)
        .stdout(Stdio::null())
        .stderr(log_file(home, "usaged"))
        .spawn()
        .expect("usaged");
    // CometBFT exits at once if the application does not accept its connections yet, so it
    // starts only once usaged listens (opening a large store can take a while).
    let started = Instant::now();
    while !is_listening(ports.abci) {
        if let Ok(Some(status)) = usaged.try_wait() {
            panic!("usaged exited ({status})\n{}", log_tail(home, "usaged", 40));
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "usaged did not listen on {} within 120 s\n{}",
            ports.abci,
            log_tail(home, "usaged", 40)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let node = Command::new(localnet::cometbft_binary())
        .arg("start")
        .arg("--home")
        .arg(home.join("cometbft"))
        .stdout(log_file(home, "cometbft"))
        .stderr(Stdio::null())
        .spawn()
        .expect("cometbft (install it with scripts/setup.sh)");
    vec![usaged, node]
}

/// Where a localnet lives: a temporary directory (deleted with it) or a directory it leaves.
pub enum Home {
    Temporary(TempDir),
    Kept(PathBuf),
}

impl Home {
    pub fn path(&self) -> &Path {
        match self {
            Home::Temporary(t) => t.path(),
            Home::Kept(p) => p,
        }
    }

    /// Leaves the directory in place when the localnet is dropped; its path.
    pub fn keep(&mut self) -> PathBuf {
        let path = self.path().to_path_buf();
        if let Home::Temporary(t) = std::mem::replace(self, Home::Kept(path.clone())) {
            let _ = t.keep();
        }
        path
    }
}

/// A running localnet; stopped when dropped.
pub struct Localnet {
    pub home: Home,
    pub info: LocalnetInfo,
    pub ports: Ports,
    /// Where `usaged` serves its metrics (`GET /metrics`).
    pub metrics_port: u16,
    /// Where `usaged` serves its REST endpoint ([`Localnet::rest_url`]).
    pub api_port: u16,
    pub client: HttpClient,
    /// usaged first, cometbft second.
    processes: Killer,
}

impl Localnet {
    /// Initialises and starts a node in a temporary home on free ports, and waits for its first
    /// block.
    pub async fn start(chain_id: &str) -> Localnet {
        let home = tempfile::tempdir().expect("home");
        let [rpc, p2p, abci] = free_ports();
        let ports = Ports { rpc, p2p, abci };
        Localnet::start_in(Home::Temporary(home), chain_id, ports).await
    }

    /// Initialises `home` (which must not hold a localnet yet) and starts a node there on
    /// `ports`, and waits for its first block.
    pub async fn start_in(home: Home, chain_id: &str, ports: Ports) -> Localnet {
        let artifacts = usage_common::contracts::artifacts_dir();
        let info = localnet::init(home.path(), chain_id, &artifacts, ports).expect("init");
        // Not one of the node's own ports, which nothing listens on yet.
        let [metrics_port, api_port] = std::iter::repeat_with(free_ports::<2>)
            .find(|p| {
                p.iter()
                    .all(|p| ![ports.rpc, ports.p2p, ports.abci].contains(p))
            })
            .expect("free ports");
        let processes = Killer(spawn_node(home.path(), ports, metrics_port, api_port));
        let client =
            HttpClient::new(format!("http://127.0.0.1:{}", ports.rpc).as_str()).expect("client");
        let net = Localnet {
            home,
            info,
            ports,
            metrics_port,
            api_port,
            client,
            processes,
        };
        net.wait_for_height(1).await;
        net
    }

    /// The node's RPC address.
    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.rpc)
    }

    /// The node's REST endpoint (`usaged start --api-addr`).
    pub fn rest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// Waits until the node's latest height is at least `height` (at most 60 s).
    pub async fn wait_for_height(&self, height: u64) -> u64 {
        let started = Instant::now();
        loop {
            if let Ok(s) = self.client.status().await {
                let h = s.sync_info.latest_block_height.value();
                if h >= height {
                    return h;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "height {height} not reached within 60 s; logs in {}\n{}\n{}",
                self.home.path().display(),
                log_tail(self.home.path(), "usaged", 30),
                log_tail(self.home.path(), "cometbft", 30)
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// SIGKILLs the application and the node (no clean shutdown of either).
    pub fn kill9(&mut self) {
        self.processes.kill_all();
    }

    /// Starts the application and the node again on the same homes.
    pub fn restart(&mut self) {
        self.kill9();
        self.processes = Killer(spawn_node(
            self.home.path(),
            self.ports,
            self.metrics_port,
            self.api_port,
        ));
    }

    /// The address of the genesis contract labelled `label`.
    pub fn contract(&self, label: &str) -> String {
        self.info.contract(label).expect("contract").to_string()
    }

    /// The localnet admin's key.
    pub fn admin(&self) -> SigningKey {
        SigningKey::from_slice(&localnet::ADMIN_SEED).expect("admin key")
    }

    /// Broadcasts and waits for the block; panics unless both CheckTx and the block accepted it.
    pub async fn commit_tx(&self, tx: Vec<u8>) -> String {
        let res = self
            .client
            .broadcast_tx_commit(tx)
            .await
            .expect("broadcast");
        assert!(res.check_tx.code.is_ok(), "check_tx: {}", res.check_tx.log);
        assert!(res.tx_result.code.is_ok(), "tx: {}", res.tx_result.log);
        res.hash.to_string()
    }

    /// Seconds of the latest block's time.
    pub async fn block_time(&self) -> u64 {
        let s = self.client.status().await.expect("status");
        s.sync_info.latest_block_time.unix_timestamp() as u64
    }
}
