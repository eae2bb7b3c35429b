//! The agent as an operator meets it: a configuration with an unknown key (in the file or in
//! the environment) or a value that cannot work is refused with a message naming the key, and
//! the running agent stops cleanly on SIGTERM within a second.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .unwrap()
        .join("usage-attestor")
}

/// A valid configuration: one terminal, an aggregator that does not answer.
fn config(dir: &Path) -> serde_json::Value {
    serde_json::json!({
        "data_dir": dir.join("data"),
        "aggregators": ["http://127.0.0.1:9"],
        "interval_ms": 200,
        "terminals": [{"terminal_id": "host-1", "tenant": "usage1tenant"}],
    })
}

fn write(dir: &Path, value: &serde_json::Value) -> PathBuf {
    let path = dir.join("attestor.json");
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

fn check(path: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(binary())
        .args(["check", "--config"])
        .arg(path)
        .envs(env.iter().copied())
        .output()
        .expect("usage-attestor (cargo build --bins)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_configuration_with_an_unknown_key_or_an_impossible_value_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path());
    let path = write(dir.path(), &good);
    let (ok, text) = check(&path, &[]);
    assert!(ok, "a valid configuration passes: {text}");

    let mut typo = good.clone();
    typo["terminals"][0]["tennant"] = "x".into();
    let (ok, text) = check(&write(dir.path(), &typo), &[]);
    assert!(!ok && text.contains("tennant"), "{text}");

    let path = write(dir.path(), &good);
    let (ok, text) = check(&path, &[("USAGE_ATTESTOR__INTERVAL", "5")]);
    assert!(
        !ok && text.contains("interval"),
        "an unknown override is refused: {text}"
    );

    let (ok, text) = check(&path, &[("USAGE_ATTESTOR__INTERVAL_MS", "0")]);
    assert!(!ok && text.contains("interval_ms"), "{text}");

    let mut bad = good;
    bad["aggregators"] = serde_json::json!(["127.0.0.1:7001"]);
    let (ok, text) = check(&write(dir.path(), &bad), &[]);
    assert!(!ok && text.contains("aggregators[0]"), "{text}");
}

#[test]
fn a_running_agent_stops_cleanly_on_sigterm_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &config(dir.path()));
    let mut child = Command::new(binary())
        .args(["run", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("usage-attestor (cargo build --bins)");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("stderr open").unwrap();
        if line.contains("attestor starting") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never started");
    }
    // A few samples go into the outbox while the aggregator does not answer.
    std::thread::sleep(Duration::from_millis(700));
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(1),
            "still running a second after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "a clean stop: {exit:?}");
}
