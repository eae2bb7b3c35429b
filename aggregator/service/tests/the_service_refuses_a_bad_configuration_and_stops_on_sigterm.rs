//! The aggregator as an operator meets it: a configuration with an unknown key (in the file or
//! in the environment) or a value that cannot work is refused with a message naming the key, and
//! the running service stops cleanly on SIGTERM within a second.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use usage_aggregator::config::{Config, Peer, SigningCallers, Timing};
use usage_aggregator::keys;

fn binary() -> PathBuf {
    // target/<profile>/deps/<test> → target/<profile>/usage-aggregator
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .and_then(Path::parent)
        .unwrap()
        .join("usage-aggregator")
}

/// A valid configuration of member 0 of a committee of two, its key files in `dir`, whose node
/// (`rpc`) does not answer.
fn config(dir: &Path) -> Config {
    let k0 = keys::localnet("config-test", 0, 2, 2);
    let k1 = keys::localnet("config-test", 1, 2, 2);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Config {
        index: 0,
        listen: format!("127.0.0.1:{port}"),
        metrics_listen: None,
        data_dir: dir.join("data"),
        rpc: "http://127.0.0.1:9".into(),
        chain_id: "usagechain-test".into(),
        usage_proof: "usage1c1".into(),
        period_proof: "usage1c2".into(),
        settlement: None,
        ledger: None,
        withdrawal: None,
        bank_url: None,
        keys: k0.write_files(&dir.join("keys")).unwrap(),
        peers: vec![
            Peer {
                index: 0,
                url: format!("http://127.0.0.1:{port}"),
                peer_key: k0.public().unwrap().peer_key,
            },
            Peer {
                index: 1,
                url: "http://127.0.0.1:1".into(),
                peer_key: k1.public().unwrap().peer_key,
            },
        ],
        timing: Timing::default(),
        next_bls_keys: vec![],
        approved_rotation: None,
        signing: SigningCallers::default(),
        byzantine: None,
        evidence_max_age_seconds: 86_400,
    }
}

fn write(dir: &Path, value: &serde_json::Value) -> PathBuf {
    let path = dir.join("aggregator.json");
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// `usage-aggregator check` on `path` with `env`: (exit success, stdout + stderr).
fn check(path: &Path, env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(binary())
        .args(["check", "--config"])
        .arg(path)
        .envs(env.iter().copied())
        .output()
        .expect("usage-aggregator (cargo build --bins)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_configuration_with_an_unknown_key_or_an_impossible_value_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_value(config(dir.path())).unwrap();
    let path = write(dir.path(), &good);
    let (ok, text) = check(&path, &[]);
    assert!(ok, "a valid configuration passes: {text}");

    let mut typo = good.clone();
    typo["timing"]["tick_msx"] = 250.into();
    let (ok, text) = check(&write(dir.path(), &typo), &[]);
    assert!(!ok && text.contains("tick_msx"), "{text}");

    let (ok, text) = check(&path, &[("USAGE_AGGREGATOR__TIMING__TICK_MSX", "250")]);
    assert!(
        !ok && text.contains("tick_msx"),
        "an unknown override is refused too: {text}"
    );

    let (ok, text) = check(&path, &[("USAGE_AGGREGATOR__TIMING__TICK_MS", "0")]);
    assert!(!ok && text.contains("timing.tick_ms"), "{text}");

    let mut bad = good.clone();
    bad["rpc"] = "localhost:26657".into();
    let (ok, text) = check(&write(dir.path(), &bad), &[]);
    assert!(!ok && text.contains("rpc"), "{text}");

    // A key file others may read is refused.
    use std::os::unix::fs::PermissionsExt as _;
    let key = dir.path().join("keys/bls.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, text) = check(&write(dir.path(), &good), &[]);
    assert!(
        !ok && text.contains("bls.key") && text.contains("0600"),
        "{text}"
    );
}

#[test]
fn a_running_aggregator_stops_cleanly_on_sigterm_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &serde_json::to_value(config(dir.path())).unwrap(),
    );
    let mut child = Command::new(binary())
        .args(["run", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("usage-aggregator (cargo build --bins)");
    // Its node does not answer: it is waiting for the chain, and logging so.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = lines.next().expect("stderr open").unwrap();
        if line.contains("waiting for the chain") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never waited for the chain"
        );
    }
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
