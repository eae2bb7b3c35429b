//! A one-validator localnet (real CometBFT + `usaged`) on free loopback ports, for the tests of
//! `usaged` and, through `#[path]`, of the aggregator. The node's logs are kept in its home.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosmrs::cosmwasm::MsgExecuteContract;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use serde_json::Value;
use tempfile::TempDir;
use tendermint_rpc::{Client, HttpClient};
use usaged::localnet::{self, LocalnetInfo, Ports};

pub struct Killer(Vec<Child>);

impl Drop for Killer {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn http_get(port: u16, path_and_query: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .expect("request");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("response");
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {raw}"))
}

pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn sign_execute(
    key: &SigningKey,
    chain: &str,
    seq: u64,
    contract: &str,
    msg: &Value,
) -> Vec<u8> {
    sign_executes(key, chain, seq, contract, std::slice::from_ref(msg))
}

/// One transaction executing `msgs` on `contract` in order.
pub fn sign_executes(
    key: &SigningKey,
    chain: &str,
    seq: u64,
    contract: &str,
    msgs: &[Value],
) -> Vec<u8> {
    let sender = key.public_key().account_id("usage").expect("address");
    let anys: Vec<_> = msgs
        .iter()
        .map(|msg| {
            MsgExecuteContract {
                sender: sender.clone(),
                contract: contract.parse().expect("contract"),
                msg: serde_json::to_vec(msg).expect("json"),
                funds: vec![],
            }
            .to_any()
            .expect("any")
        })
        .collect();
    let body = Body::new(anys, "", 0u32);
    let auth = SignerInfo::single_direct(Some(key.public_key()), seq).auth_info(Fee {
        amount: vec![],
        gas_limit: 30_000_000,
        payer: None,
        granter: None,
    });
    SignDoc::new(&body, &auth, &chain.parse().expect("chain id"), 0)
        .expect("sign doc")
        .sign(key)
        .expect("sign")
        .to_bytes()
        .expect("bytes")
}

/// The messages that register terminal `id` (software TEE, its own key) for `provider` and
/// lease it to `tenant` from the start of time.
pub fn register_and_lease(id: &str, provider: &str, key: [u8; 32]) -> Vec<Value> {
    vec![
        serde_json::json!({"register_terminal": {"terminal_id": id, "provider": provider,
            "attestor_key": cosmwasm_std::HexBinary::from(key), "tee": "software",
            "measurement": cosmwasm_std::HexBinary::from(usaged::localnet::SOFTWARE_MEASUREMENT)}}),
        serde_json::json!({"open_lease": {"terminal_id": id, "provider": provider, "start": 0}}),
    ]
}

/// A binary built next to this test: `target/<profile>/deps/<test>` (or `examples/<bench>`) ->
/// `target/<profile>/<name>`; `cargo test --workspace` builds every package's binaries.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built: run `cargo build -p {name}`",
        path.display()
    );
    path
}

/// The `usaged` binary: Cargo's own path in `usaged`'s tests, the sibling binary elsewhere.
fn usaged_binary() -> PathBuf {
    option_env!("CARGO_BIN_EXE_usaged")
        .map(PathBuf::from)
        .unwrap_or_else(|| sibling_binary("usaged"))
}

fn log_file(home: &std::path::Path, name: &str) -> Stdio {
    match std::fs::File::create(home.join(format!("{name}.log"))) {
        Ok(f) => Stdio::from(f),
        Err(_) => Stdio::null(),
    }
}

/// Starts `usaged` and then CometBFT on `home`.
fn spawn_node(home: &std::path::Path, ports: Ports) -> Vec<Child> {
    let usaged = Command::new(usaged_binary())
        .args([
            "start",
            "--abci",
            &format!("127.0.0.1:{}", ports.abci),
            "--home",
        ])
        .arg(home)
        .stdout(Stdio::null())
        .stderr(log_file(home, "usaged"))
        .spawn()
        .expect("usaged");
    std::thread::sleep(Duration::from_millis(500));
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

/// A running localnet; stopped when dropped.
pub struct Localnet {
    pub home: TempDir,
    pub info: LocalnetInfo,
    pub ports: Ports,
    pub client: HttpClient,
    /// usaged first, cometbft second.
    processes: Killer,
}

impl Localnet {
    /// Initialises and starts a node, and waits for its first block.
    pub async fn start(chain_id: &str) -> Localnet {
        let home = tempfile::tempdir().expect("home");
        let ports = Ports {
            rpc: free_port(),
            p2p: free_port(),
            abci: free_port(),
        };
        let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts");
        let info = localnet::init(home.path(), chain_id, &artifacts, ports).expect("init");
        let processes = Killer(spawn_node(home.path(), ports));
        let client =
            HttpClient::new(format!("http://127.0.0.1:{}", ports.rpc).as_str()).expect("client");
        let net = Localnet {
            home,
            info,
            ports,
            client,
            processes,
        };
        net.wait_for_height(1).await;
        net
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
                "height {height} not reached within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// SIGKILLs the application and the node (no clean shutdown of either).
    pub fn kill9(&mut self) {
        for c in &mut self.processes.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the application and the node again on the same homes.
    pub fn restart(&mut self) {
        self.kill9();
        self.processes = Killer(spawn_node(self.home.path(), self.ports));
    }

    pub fn contract(&self, label: &str) -> String {
        self.info
            .contracts
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, a)| a.clone())
            .expect("contract")
    }

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
