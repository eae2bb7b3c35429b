//! The dashboard against a live localnet: a committee of four aggregators proves a leased
//! simulated fleet, the provider is credited by the bank and asks for a withdrawal; the page,
//! driven in headless Chromium (`tests/browser/dashboard.mjs`), shows the terminals, the first
//! proofs of each terminal and tenant, the provider's balance and the withdrawal exactly as the
//! chain holds them at the height the page names, and follows new heights without a reload.
//! A second test points the dashboard at a node that does not answer: the page shows why in its
//! error banner, the service stays up, logs the failure once and stops promptly.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_client::ChainClient;
use usage_common::msg::ledger as c4;
use usage_common::msg::usage_proof as c1;
use usage_common::msg::withdrawal as c5;
use usage_common::payload::DepositVoucher;
use usage_devtools::committee::Net;
use usage_devtools::node::{free_ports, http_get, http_get_text, sibling_binary};
use usage_devtools::{eventually, localnet};
use usage_signer::SigningCommittee;

/// A running `usage-dashboard`, SIGKILLed when dropped, with its log so far.
struct Dashboard {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Dashboard {
    /// Starts `usage-dashboard` with `args` and waits for its `dashboard serving on` line.
    fn start(args: &[String]) -> Dashboard {
        let port: u16 = args
            .iter()
            .skip_while(|a| *a != "--listen")
            .nth(1)
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .expect("--listen 127.0.0.1:PORT");
        let mut child = Command::new(sibling_binary("usage-dashboard"))
            .args(args)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("usage-dashboard");
        let log = Arc::new(Mutex::new(vec![]));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.contains("dashboard serving on http://") {
                    let _ = tx.send(line.clone());
                }
                kept.lock().unwrap().push(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the dashboard never served: {:?}", log.lock().unwrap()));
        assert!(
            line.contains(&format!("dashboard serving on http://127.0.0.1:{port}")),
            "{line}"
        );
        Dashboard { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where test artefacts go: `$CARGO_TARGET_DIR/artefacts` (the target directory of this test
/// binary when the variable is not set).
fn artefacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.ancestors().nth(3).unwrap().to_path_buf()
        });
    let dir = target.join("artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The chain's first proofs of `terminal` from window `from` that landed at or before `height`
/// (a proof's batch records the height it landed at).
async fn proofs_at(
    client: &ChainClient,
    c1a: &str,
    batches: &mut BTreeMap<u64, u64>,
    terminal: &str,
    from: u64,
    height: u64,
) -> Vec<c1::FirstProof> {
    let mut out = vec![];
    let mut next = from;
    loop {
        let page: c1::ProofsResponse = client
            .smart(
                c1a,
                &c1::QueryMsg::TerminalProofs {
                    terminal_id: terminal.into(),
                    from: next,
                    to: u64::MAX,
                    limit: Some(100),
                },
            )
            .await
            .unwrap();
        let n = page.proofs.len();
        if let Some(last) = page.proofs.last() {
            next = last.window_start + 1;
        }
        out.extend(page.proofs);
        if n < 100 {
            break;
        }
    }
    let unknown: BTreeSet<u64> = out
        .iter()
        .map(|p| p.batch_id)
        .filter(|b| !batches.contains_key(b))
        .collect();
    for batch_id in unknown {
        let b: c1::BatchResponse = client
            .smart(c1a, &c1::QueryMsg::Batch { batch_id })
            .await
            .unwrap();
        batches.insert(batch_id, b.batch.expect("the batch of a proof").height);
    }
    out.retain(|p| batches[&p.batch_id] <= height);
    out
}

fn value<'a>(values: &'a Value, testid: &str) -> &'a str {
    values[testid]
        .as_str()
        .unwrap_or_else(|| panic!("the page shows no {testid}"))
}

fn number(values: &Value, testid: &str) -> u128 {
    value(values, testid)
        .parse()
        .unwrap_or_else(|e| panic!("{testid}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_what_the_chain_holds_and_follows_it_live() {
    let started = Instant::now();
    let mut net = Net::start("usagechain-dashboard-1", 4).await;
    let tenants = [
        usage_devtools::fleet::account(&net, [0x7a; 32]),
        usage_devtools::fleet::account(&net, [0x7b; 32]),
    ];
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    net.wait_serving(&[0, 1, 2, 3]).await;
    net.start_fleet();

    // The provider (the localnet admin) is credited by the bank, then asks for part of it.
    let provider = net.info().admin_address.clone();
    let chain_id = net.info().chain_id.clone();
    let (c1a, c4a, c5a) = (
        net.contract("usage-proof"),
        net.contract("ledger"),
        net.contract("withdrawal"),
    );
    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    let voucher = DepositVoucher {
        bank_ref: "CAMT054-DASHBOARD-1".into(),
        beneficiary: provider.clone(),
        amount: Uint128::new(5_000),
        currency: "CNY".into(),
    };
    let signature = committee.sign_quorum(&chain_id, &c4a, &voucher);
    let out = net
        .client
        .execute(
            &c4a,
            &json!({"deposit": {"voucher": voucher, "signature": signature}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "deposit: {}", out.log);
    let out = net
        .client
        .execute(
            &c5a,
            &json!({"request_withdrawal": {"amount": "1000", "beneficiary": "CN1234567890"}}),
            30_000_000,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
    assert!(out.is_ok(), "withdrawal: {}", out.log);

    eventually(Duration::from_secs(60), "first proofs landed", || async {
        let mut landed = 0;
        for i in 0..net.fleet_size {
            landed += net.proofs(&format!("sim-{i:05}")).await.len();
        }
        landed >= 2
    })
    .await;
    let proofs_landed = started.elapsed();

    let [port] = free_ports();
    let mut dashboard = Dashboard::start(&[
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--rpc".into(),
        net.node.rpc_url(),
        "--chain-id".into(),
        chain_id.clone(),
        "--localnet".into(),
        net.home().join("localnet.json").display().to_string(),
    ]);

    // The page, in headless Chromium.
    let screenshot = artefacts_dir().join("dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/dashboard.mjs");
    let browsed = Instant::now();
    let out = Command::new("node")
        .arg(&script)
        .env("DASHBOARD_URL", format!("http://127.0.0.1:{port}/"))
        .env("SCREENSHOT", &screenshot)
        .env("MIN_RECORDS", "2")
        .output()
        .expect("node (scripts/setup.sh installs playwright-core and chromium)");
    assert!(
        out.status.success(),
        "the browser script failed: {}\n--- dashboard log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        dashboard.log()
    );
    let browsed = browsed.elapsed();
    let report: Value = serde_json::from_slice(&out.stdout).expect("the script's JSON");
    let values = &report["values"];
    assert_eq!(report["page_errors"], json!([]), "the page's script failed");
    assert_eq!(report["banner"], "", "the page shows an error");
    assert_eq!(value(values, "chain-id"), chain_id);

    // The numbers, against the chain's own answers at the height the page names.
    let height = number(values, "overview-height") as u64;
    let from = number(values, "window-from") as u64;
    let client = ChainClient::new(&net.node.rpc_url(), &chain_id).unwrap();
    let terminals: c1::TerminalsResponse = client
        .smart(
            &c1a,
            &c1::QueryMsg::Terminals {
                start_after: None,
                limit: Some(100),
            },
        )
        .await
        .unwrap();
    assert_eq!(terminals.terminals.len(), 4);
    assert_eq!(number(values, "terminal-count"), 4);
    let mut batches = BTreeMap::new();
    let mut per_tenant: BTreeMap<String, u128> = BTreeMap::new();
    let mut total = 0;
    for (i, t) in terminals.terminals.iter().enumerate() {
        let id = &t.terminal_id;
        let proofs = proofs_at(&client, &c1a, &mut batches, id, from, height).await;
        let records = proofs.len() as u128;
        assert_eq!(
            number(values, &format!("terminal-{id}-records")),
            records,
            "records of {id} at height {height}"
        );
        let rx: u128 = proofs
            .iter()
            .map(|p| u128::from(p.metrics.net_rx_bytes))
            .sum();
        assert_eq!(number(values, &format!("terminal-{id}-net-rx")), rx, "{id}");
        assert_eq!(value(values, &format!("terminal-{id}-provider")), provider);
        let tenant = &net.fleet_tenants[i % net.fleet_tenants.len()];
        assert_eq!(value(values, &format!("terminal-{id}-tenant")), tenant);
        for p in &proofs {
            *per_tenant.entry(p.tenant.clone()).or_default() += 1;
        }
        total += records;
    }
    assert!(total >= 2, "the page showed {total} first proofs");
    assert_eq!(number(values, "records-total"), total);
    for (tenant, records) in &per_tenant {
        assert_eq!(
            number(values, &format!("tenant-{tenant}-records")),
            *records,
            "{tenant}"
        );
    }
    let tenants_shown: BTreeSet<&str> = per_tenant.keys().map(String::as_str).collect();
    assert!(tenants_shown
        .iter()
        .all(|t| net.fleet_tenants.iter().any(|f| f == t)));

    let account: c4::AccountResponse = client
        .smart(
            &c4a,
            &c4::QueryMsg::Account {
                address: provider.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (account.available.u128(), account.locked.u128()),
        (4_000, 1_000)
    );
    assert_eq!(
        number(values, &format!("balance-{provider}-available")),
        account.available.u128()
    );
    assert_eq!(
        number(values, &format!("balance-{provider}-locked")),
        account.locked.u128()
    );
    let withdrawals: c5::WithdrawalsResponse = client
        .smart(
            &c5a,
            &c5::QueryMsg::Withdrawals {
                owner: None,
                start_after: None,
                limit: Some(100),
            },
        )
        .await
        .unwrap();
    assert_eq!(withdrawals.withdrawals.len(), 1);
    assert_eq!(
        number(values, "withdrawal-1-amount"),
        withdrawals.withdrawals[0].amount.u128()
    );
    assert_eq!(value(values, "withdrawal-1-status"), "requested");
    assert_eq!(value(values, "withdrawal-1-owner"), provider);

    // Live: the page showed newer heights without a reload.
    let shown = number(values, "height") as u64;
    assert!(shown >= height);
    let later = report["later"]["height"].as_u64().unwrap();
    assert!(later > shown, "the height stayed at {shown}");
    assert!(report["later"]["overview_height"].as_u64().unwrap() >= height);

    // The same overview as JSON, and the metrics.
    let overview = http_get(port, "/api/overview");
    assert!(overview["height"].as_u64().unwrap() >= height);
    assert_eq!(overview["terminals"].as_array().unwrap().len(), 4);
    let metrics = http_get_text(port, "/metrics");
    assert!(
        metrics.contains("usage_dashboard_build_info{version=\"0.1.0\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("usage_dashboard_overviews_total"),
        "{metrics}"
    );

    let png = std::fs::metadata(&screenshot)
        .expect("the screenshot")
        .len();
    assert!(png > 10_000, "a {png}-byte screenshot");
    println!("screenshot: {}", screenshot.display());

    let (took, exit) = usage_service::testing::terminate(&mut dashboard.child);
    assert!(exit.success(), "{exit}\n{}", dashboard.log());
    println!(
        "first proofs after {proofs_landed:?}, browser {browsed:?}, stopped in {took:?}, \
         {total} first proofs shown at height {height}, whole test {:?}",
        started.elapsed()
    );
}

/// `GET path` on 127.0.0.1:`port`, keeping the connection open: the stream.
fn open_events(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

fn read_until(s: &mut TcpStream, needle: &str) -> String {
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains(needle) {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended before {needle:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

#[test]
fn the_dashboard_reports_a_node_that_does_not_answer_and_refuses_public_addresses() {
    let [port, dead_rpc] = free_ports();
    let home = tempfile::tempdir().unwrap();
    let localnet_json = home.path().join("localnet.json");
    std::fs::write(
        &localnet_json,
        json!({"chain_id": "usagechain-nowhere", "contracts": [
            ["usage-proof", "usage1c1"], ["period-proof", "usage1c2"], ["settlement", "usage1c3"],
            ["ledger", "usage1c4"], ["withdrawal", "usage1c5"]]})
        .to_string(),
    )
    .unwrap();
    let args = |listen: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec![
            "--listen".into(),
            listen.into(),
            "--rpc".into(),
            format!("http://127.0.0.1:{dead_rpc}"),
            "--localnet".into(),
            localnet_json.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    let out = Command::new(sibling_binary("usage-dashboard"))
        .args(args(&format!("0.0.0.0:{port}"), &[]))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass --public"), "{stderr}");
    let out = Command::new(sibling_binary("usage-dashboard"))
        .args(args(&format!("127.0.0.1:{port}"), &["--chain-id", "other"]))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is the localnet of chain"));

    let mut dashboard = Dashboard::start(&args(&format!("127.0.0.1:{port}"), &[]));
    let mut events = open_events(port);
    let seen = read_until(&mut events, "chain status");
    assert!(seen.contains("event: head"), "{seen}");
    let started = Instant::now();
    let overview = loop {
        let body = http_get_text(port, "/api/overview");
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if v["stale"] == true {
            break v;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let errors = overview["errors"].as_array().unwrap();
    assert!(
        errors[0].as_str().unwrap().contains("chain status: rpc"),
        "{overview}"
    );
    assert_eq!(overview["chain_id"], "usagechain-nowhere");
    assert!(dashboard.child.try_wait().unwrap().is_none(), "it stays up");
    // The page says so in its banner, in Chromium.
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/dashboard.mjs");
    let out = Command::new("node")
        .arg(&script)
        .env("DASHBOARD_URL", format!("http://127.0.0.1:{port}/"))
        .env("EXPECT_ERROR", "1")
        .output()
        .expect("node (scripts/setup.sh installs playwright-core and chromium)");
    assert!(
        out.status.success(),
        "the browser script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("the script's JSON");
    let banner = report["banner"].as_str().unwrap();
    assert!(banner.contains("The chain cannot be read"), "{banner}");
    assert!(banner.contains("chain status: rpc"), "{banner}");
    assert_eq!(report["page_errors"], json!([]));
    let log = dashboard.log();
    assert_eq!(
        log.matches("chain not readable").count(),
        1,
        "one line for a failure that lasts: {log}"
    );

    // SIGTERM ends the live stream and the service promptly.
    let (took, exit) = usage_service::testing::terminate(&mut dashboard.child);
    assert!(exit.success(), "{exit}");
    assert!(took < Duration::from_secs(4), "stopped in {took:?}");
    drop(events);
}
