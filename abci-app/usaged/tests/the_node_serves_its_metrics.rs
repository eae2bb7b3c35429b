//! `usaged start --metrics-addr`: the node, driven over its ABCI socket as CometBFT drives it
//! (InitChain, then FinalizeBlock and Commit per block), serves `GET /metrics` in the Prometheus
//! exposition format (OpenMetrics text, which Prometheus reads) with its build, its committed
//! height and the histograms of its blocks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tendermint_abci::ClientBuilder;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::{RequestFinalizeBlock, RequestInitChain};

const BLOCKS: i64 = 3;

/// The node's process, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two distinct free ports: both listeners are held until both are known.
fn two_free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("bind");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("addr").port();
    (port(&a), port(&b))
}

/// Status line, headers and body of `GET path`.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics server");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("request");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("response");
    raw
}

#[test]
fn the_node_serves_build_info_height_and_block_histograms_after_a_few_blocks() {
    let home = tempfile::tempdir().expect("home");
    let (abci, metrics) = two_free_ports();
    let log = std::fs::File::create(home.path().join("usaged.log")).expect("log file");
    let _node = Running(
        Command::new(env!("CARGO_BIN_EXE_usaged"))
            .args(["start", "--abci", &format!("127.0.0.1:{abci}")])
            .args(["--metrics-addr", &format!("127.0.0.1:{metrics}")])
            .arg("--home")
            .arg(home.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("usaged"),
    );
    let started = Instant::now();
    let mut client = loop {
        match ClientBuilder::default().connect(("127.0.0.1", abci)) {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "usaged did not serve ABCI: {e}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    let time = |height: i64| {
        Some(Timestamp {
            seconds: 1_700_000_000 + height,
            nanos: 0,
        })
    };
    // An empty app state is the default genesis: no contracts, which these blocks do not need.
    client
        .init_chain(RequestInitChain {
            time: time(0),
            chain_id: "usagechain-metrics-test".into(),
            initial_height: 1,
            ..Default::default()
        })
        .unwrap_or_else(|e| {
            let log = std::fs::read_to_string(home.path().join("usaged.log")).unwrap_or_default();
            panic!("InitChain: {e}\nusaged's log:\n{log}")
        });
    for height in 1..=BLOCKS {
        // One undecodable transaction in the first block: a failed tx still counts in its block.
        let txs = if height == 1 {
            vec![b"not a transaction".to_vec().into()]
        } else {
            vec![]
        };
        client
            .finalize_block(RequestFinalizeBlock {
                txs,
                height,
                time: time(height),
                ..Default::default()
            })
            .expect("FinalizeBlock");
        client.commit().expect("Commit");
    }

    let response = get(metrics, "/metrics");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    let version = env!("CARGO_PKG_VERSION");
    for expected in [
        "# TYPE usaged_build_info gauge".to_string(),
        format!("usaged_build_info{{version=\"{version}\"}} 1"),
        "# TYPE usaged_block_height gauge".into(),
        format!("usaged_block_height {BLOCKS}"),
        "# TYPE usaged_block_txs histogram".into(),
        format!("usaged_block_txs_count {BLOCKS}"),
        "usaged_block_txs_sum 1".into(),
        "# TYPE usaged_block_gas_used histogram".into(),
        format!("usaged_block_gas_used_count {BLOCKS}"),
        "# TYPE usaged_finalize_block_duration_seconds histogram".into(),
        format!("usaged_finalize_block_duration_seconds_count {BLOCKS}"),
        "usaged_finalize_block_duration_seconds_bucket{le=\"+Inf\"}".into(),
        "# TYPE usaged_commit_duration_seconds histogram".into(),
        format!("usaged_commit_duration_seconds_count {BLOCKS}"),
    ] {
        assert!(body.contains(&expected), "no {expected:?} in\n{body}");
    }
    for help in [
        "usaged_finalize_block_duration_seconds",
        "usaged_commit_duration_seconds",
    ] {
        assert!(
            body.contains(&format!("# HELP {help} ")),
            "no help of {help}"
        );
    }
    assert!(
        get(metrics, "/other").contains(" 404 "),
        "only /metrics is served"
    );
}
