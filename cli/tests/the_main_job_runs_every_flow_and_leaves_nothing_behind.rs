//! The main job as a user runs it: `usage localnet up` in a clean working folder brings up the
//! node, four aggregators, the bank simulator, the relayer, the dashboard and a simulated fleet,
//! runs the scenario of every flow and prints its summary; `status` and `logs` show the
//! services; `down` stops them all and leaves no process behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn usage(home: &Path, args: &[&str]) -> (bool, String, String) {
    let bin = usage_service::testing::sibling_binary("usage");
    let out = Command::new(&bin)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{} (cargo build --bins): {e}", bin.display()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
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
