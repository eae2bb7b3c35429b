//! The main job as a user runs it: `usage localnet up` in a clean working folder brings up the
//! node, four aggregators, the bank simulator, the relayer, the dashboard and a simulated fleet,
//! runs the scenario of every flow and prints its summary; `status` and `logs` show the
//! services; `down` stops them all and leaves no process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn usage(home: &Path, args: &[&str]) -> (bool, String, String) {
    usage_with_input(home, args, "")
}

/// `usage --home HOME ARGS` with `input` on its standard input and the keyring passphrase in
/// the environment, as a script runs it.
fn usage_with_input(home: &Path, args: &[&str], input: &str) -> (bool, String, String) {
    use std::io::Write as _;
    let bin = usage_service::testing::sibling_binary("usage");
    let mut child = Command::new(&bin)
        .arg("--home")
        .arg(home)
        .args(args)
        .env("USAGE_KEYRING_PASSPHRASE", "localnet passphrase")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} (cargo build --bins): {e}", bin.display()));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// `usage ARGS -o json`, which must succeed; its answer.
fn json(home: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let (ok, stdout, stderr) = usage(home, &all);
    assert!(ok, "usage {}: {stderr}", args.join(" "));
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("usage {}: {e}: {stdout}", args.join(" ")))
}

/// Stops the localnet whatever happens to the test.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = usage(&self.0, &["localnet", "down"]);
    }
}

fn pids(home: &Path) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(home.join("localnet/services.json")).unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                u32::try_from(s["pid"].as_u64().unwrap()).unwrap(),
            )
        })
        .collect()
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .and_then(|i| s[i + 2..].chars().next())
                .map(|state| state != 'Z')
        })
        .unwrap_or(false)
}

#[test]
fn the_main_command_runs_every_flow_and_down_leaves_no_process() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_path_buf();
    let _down = Down(home.clone());

    let (ok, stdout, stderr) = usage(
        &home,
        &[
            "localnet",
            "up",
            "--ports",
            "free",
            "--terminals",
            "4",
            "-o",
            "json",
        ],
    );
    let logs = home.join("localnet/logs");
    assert!(
        ok,
        "usage localnet up failed:\n{stderr}\n{stdout}\nlogs in {}",
        logs.display()
    );
    let summary: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    // Every flow completed.
    let flows: Vec<(String, bool)> = summary["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["flow"].as_str().unwrap().to_string(), f["ok"] == true))
        .collect();
    for name in [
        "deposit",
        "first proofs",
        "roll-up",
        "inclusion",
        "settlement",
        "dispute",
        "withdrawal",
        "rotation",
    ] {
        assert!(
            flows.iter().any(|(f, ok)| f == name && *ok),
            "flow {name} did not complete: {flows:?}\n{stderr}"
        );
    }
    assert_eq!(summary["reconciled"], true, "{}", summary["reconciliation"]);
    assert_eq!(summary["reconciliation"]["difference"], 0);
    assert_eq!(summary["committee_epoch"], 2);
    assert!(summary["first_proofs"].as_u64().unwrap() >= 4);
    let settlements = summary["settlements"].as_array().unwrap();
    assert!(
        settlements
            .iter()
            .any(|s| s["status"].get("cleared").is_some()),
        "a cleared settlement: {settlements:?}"
    );
    let withdrawals = summary["withdrawals"].as_array().unwrap();
    assert!(
        withdrawals
            .iter()
            .any(|w| w["status"].get("completed").is_some()),
        "a completed withdrawal: {withdrawals:?}"
    );
    // The progress a person watches went to stderr, the flows named as they finished.
    for word in ["deposit", "settlement", "rotation"] {
        assert!(stderr.contains(word), "progress mentions {word}: {stderr}");
    }

    // The localnet keeps running; status and logs show it.
    let (ok, stdout, _) = usage(&home, &["localnet", "status", "-o", "json"]);
    assert!(ok, "status: {stdout}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    let services = status["services"].as_array().unwrap();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for expected in [
        "usaged",
        "cometbft",
        "bank-sim",
        "aggregator-0",
        "aggregator-3",
        "relayer",
        "fleet",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        services.iter().all(|s| s["running"] == true),
        "every service runs: {services:?}"
    );
    assert!(status["height"].as_u64().unwrap() > 10);
    let (ok, text, _) = usage(&home, &["localnet", "logs", "relayer", "-n", "5"]);
    assert!(ok && !text.trim().is_empty(), "the relayer's log: {text}");
    let (ok, _, stderr) = usage(&home, &["localnet", "logs", "nothing"]);
    assert!(!ok && stderr.contains("no service nothing"), "{stderr}");

    // The client configuration now points at the localnet: a plain query works.
    let (ok, stdout, stderr) = usage(&home, &["status", "-o", "json"]);
    assert!(ok, "{stderr}");
    let s: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(s["chain_id"], "usagechain-local-1");

    // A tenant works by hand with the command line: its published localnet mnemonic into the
    // keyring (read from standard input, never an argument), then its balance, a deposit at the
    // bank, a withdrawal with simulated gas, its withdrawals, a terminal's proofs, the period and
    // the settlements.
    let network: Value =
        serde_json::from_str(&std::fs::read_to_string(home.join("localnet/network.json")).unwrap())
            .unwrap();
    // Wallets and explorers: the node's REST endpoint answers for this chain, and the Keplr
    // chain info written into the folder points at it.
    let api = network["ports"]["api"].as_u64().unwrap() as u16;
    let node_info =
        usage_devtools::node::http_get(api, "/cosmos/base/tendermint/v1beta1/node_info");
    assert_eq!(
        node_info["default_node_info"]["network"], "usagechain-local-1",
        "{node_info}"
    );
    let keplr: Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("localnet/keplr-chain-info.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(keplr["rest"], format!("http://127.0.0.1:{api}"), "{keplr}");
    assert!(
        home.join("localnet/chain.json").exists() && home.join("localnet/assetlist.json").exists()
    );

    let tenant = &network["tenants"][0];
    let (address, mnemonic) = (
        tenant["address"].as_str().unwrap(),
        tenant["mnemonic"].as_str().unwrap(),
    );
    let (ok, stdout, stderr) = usage_with_input(
        &home,
        &["keys", "recover", "tenant-a", "-o", "json"],
        &format!("{mnemonic}\n"),
    );
    assert!(ok, "keys recover: {stderr}");
    assert!(
        stdout.contains(address),
        "the recovered key is the tenant's: {stdout}"
    );
    assert!(
        !stdout.contains(mnemonic) && !stderr.contains(mnemonic),
        "the mnemonic is never echoed"
    );
    let keys = json(&home, &["keys", "list"]);
    assert!(keys.to_string().contains(address), "{keys}");

    let before = json(&home, &["balance", "--from", "tenant-a"]);
    assert_eq!(before["address"], address);
    let available = |v: &Value| v["available"].as_str().unwrap().parse::<u128>().unwrap();
    let deposit = json(
        &home,
        &[
            "deposit",
            "--from",
            "tenant-a",
            "--amount",
            "1234",
            "--bank-account",
            "CN00TENANTA000001",
        ],
    );
    assert!(
        deposit["bank_ref"].as_str().is_some_and(|r| !r.is_empty()),
        "{deposit}"
    );
    let after_deposit = json(&home, &["balance", address]);
    assert!(
        available(&after_deposit) >= available(&before) + 1234,
        "credited: {after_deposit}"
    );

    let w = json(
        &home,
        &[
            "withdraw",
            "--from",
            "tenant-a",
            "--amount",
            "2500",
            "--beneficiary",
            "CN00TENANTA000001",
            "--gas",
            "auto",
        ],
    );
    let id = w["withdrawal_id"].as_u64().unwrap();
    assert!(w["gas_used"].as_u64().unwrap() > 0, "{w}");
    let mine = json(&home, &["withdrawals", "--from", "tenant-a"]);
    assert!(
        mine["withdrawals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["withdrawal_id"] == id),
        "{mine}"
    );
    let (ok, _, stderr) = usage(
        &home,
        &[
            "withdraw",
            "--from",
            "tenant-a",
            "--amount",
            "999999999999",
            "--beneficiary",
            "CN00TENANTA000001",
        ],
    );
    assert!(
        !ok && stderr.starts_with("error:"),
        "more than the balance is refused: {stderr}"
    );

    let proofs = json(&home, &["proofs", "sim-00000"]);
    assert!(!proofs["proofs"].as_array().unwrap().is_empty(), "{proofs}");
    // The tenant's fullest sealed period: the first one may have begun before the fleet did,
    // and hold no window of a given terminal.
    let sealed = summary["periods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["tenant"] == address)
        .max_by_key(|p| p["totals"]["records"].as_u64().unwrap())
        .unwrap();
    let start = sealed["period_start"].to_string();
    let period = json(
        &home,
        &[
            "period",
            "--provider",
            network["provider"].as_str().unwrap(),
            "--tenant",
            address,
            "--start",
            &start,
        ],
    );
    assert_eq!(period["proof"]["root"], sealed["root"]);
    let settlements = json(&home, &["settlements", "--tenant", address]);
    assert!(
        !settlements["settlements"].as_array().unwrap().is_empty(),
        "{settlements}"
    );

    // A verifiable receipt of one of the tenant's windows in the sealed period: exported from
    // the node, verified offline against the genesis validators; a tampered copy is refused.
    let period_start = sealed["period_start"].as_u64().unwrap();
    let windows = json(
        &home,
        &[
            "proofs",
            "sim-00000",
            "--since",
            &period_start.to_string(),
            "--until",
            &(period_start + 50).to_string(),
        ],
    );
    let window = windows["proofs"][0]["window_start"]
        .as_u64()
        .unwrap()
        .to_string();
    let receipt = home.join("receipt.json");
    let exported = json(
        &home,
        &[
            "proof",
            "export",
            "--terminal",
            "sim-00000",
            "--window",
            &window,
            "--out",
            receipt.to_str().unwrap(),
        ],
    );
    assert!(receipt.exists(), "{exported}");
    let genesis = home.join("localnet/cometbft/config/genesis.json");
    let verified = json(
        &home,
        &[
            "proof",
            "verify",
            receipt.to_str().unwrap(),
            "--validators",
            genesis.to_str().unwrap(),
        ],
    );
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(
        verified["receipt"]["terminal_id"], "sim-00000",
        "{verified}"
    );
    let mut bundle: Value =
        serde_json::from_str(&std::fs::read_to_string(&receipt).unwrap()).unwrap();
    let path = &mut bundle["inclusion_path"][0]["hash"];
    let flipped = path.as_str().unwrap().replacen(|c: char| c != '0', "0", 1);
    *path = Value::String(flipped);
    let tampered = home.join("tampered.json");
    std::fs::write(&tampered, bundle.to_string()).unwrap();
    let (ok, _, stderr) = usage(
        &home,
        &[
            "proof",
            "verify",
            tampered.to_str().unwrap(),
            "--validators",
            genesis.to_str().unwrap(),
        ],
    );
    assert!(
        !ok && stderr.starts_with("error:"),
        "a tampered receipt is refused: {stderr}"
    );

    // Down stops everything: no process of the localnet is left.
    let started = pids(&home);
    assert!(started.len() >= 9, "{started:?}");
    let (ok, _, stderr) = usage(&home, &["localnet", "down"]);
    assert!(ok, "down: {stderr}");
    let left: Vec<_> = started.iter().filter(|(_, pid)| alive(*pid)).collect();
    assert!(left.is_empty(), "still running after down: {left:?}");
    // A second `down` has nothing to stop and says so without failing.
    let (ok, _, _) = usage(&home, &["localnet", "down"]);
    assert!(ok);
}

#[test]
fn down_purge_deletes_only_a_folder_that_holds_a_localnet() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().to_path_buf();
    let not_a_localnet = home.join("localnet");
    std::fs::create_dir_all(&not_a_localnet).unwrap();
    std::fs::write(not_a_localnet.join("notes.txt"), "mine").unwrap();
    let (ok, _, stderr) = usage(&home, &["localnet", "down", "--purge"]);
    assert!(!ok && stderr.contains("holds no localnet"), "{stderr}");
    assert!(
        not_a_localnet.join("notes.txt").exists(),
        "nothing was deleted"
    );
}
