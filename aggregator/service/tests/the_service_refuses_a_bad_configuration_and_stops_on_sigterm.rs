//! The aggregator as an operator meets it: a configuration with an unknown key (in the file or
//! in the environment) or a value that cannot work is refused with a message naming the key, and
//! the running service stops cleanly on SIGTERM within a second.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use usage_aggregator::config::{Config, Peer, SigningCallers, Timing};
use usage_aggregator::keys;
use usage_service::testing::{
    check_config, run_until_logged, sibling_binary, terminate, write_config,
};

fn binary() -> PathBuf {
    sibling_binary("usage-aggregator")
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
        bank: None,
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

#[test]
fn a_configuration_with_an_unknown_key_or_an_impossible_value_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = serde_json::to_value(config(dir.path())).unwrap();
    let path = write_config(dir.path(), &good);
    let (ok, text) = check_config(&binary(), &path, &[]);
    assert!(ok, "a valid configuration passes: {text}");

    let mut typo = good.clone();
    typo["timing"]["tick_msx"] = 250.into();
    let (ok, text) = check_config(&binary(), &write_config(dir.path(), &typo), &[]);
    assert!(!ok && text.contains("tick_msx"), "{text}");

    let (ok, text) = check_config(
        &binary(),
        &path,
        &[("USAGE_AGGREGATOR__TIMING__TICK_MSX", "250")],
    );
    assert!(
        !ok && text.contains("tick_msx"),
        "an unknown override is refused too: {text}"
    );

    let (ok, text) = check_config(
        &binary(),
        &path,
        &[("USAGE_AGGREGATOR__TIMING__TICK_MS", "0")],
    );
    assert!(!ok && text.contains("timing.tick_ms"), "{text}");

    let mut bad = good.clone();
    bad["rpc"] = "localhost:26657".into();
    let (ok, text) = check_config(&binary(), &write_config(dir.path(), &bad), &[]);
    assert!(!ok && text.contains("rpc"), "{text}");

    // A key file others may read is refused.
    use std::os::unix::fs::PermissionsExt as _;
    let key = dir.path().join("keys/bls.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, text) = check_config(&binary(), &write_config(dir.path(), &good), &[]);
    assert!(
        !ok && text.contains("bls.key") && text.contains("0600"),
        "{text}"
    );
}

#[test]
fn a_running_aggregator_stops_cleanly_on_sigterm_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        &serde_json::to_value(config(dir.path())).unwrap(),
    );
    // Its node does not answer: it is waiting for the chain, and logging so.
    let mut child = run_until_logged(&binary(), &path, "waiting for the chain");
    let (took, exit) = terminate(&mut child);
    assert!(exit.success(), "a clean stop: {exit:?}");
    assert!(
        took < Duration::from_secs(1),
        "stopped {took:?} after SIGTERM"
    );
}
