//! The agent as an operator meets it: a configuration with an unknown key (in the file or in
//! the environment) or a value that cannot work is refused with a message naming the key, and
//! the running agent stops cleanly on SIGTERM within a second.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::Duration;

use usage_service::testing::{
    check_config, run_until_logged, sibling_binary, terminate, write_config,
};

fn binary() -> PathBuf {
    sibling_binary("usage-attestor")
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

#[test]
fn a_configuration_with_an_unknown_key_or_an_impossible_value_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path());
    let path = write_config(dir.path(), &good);
    let (ok, text) = check_config(&binary(), &path, &[]);
    assert!(ok, "a valid configuration passes: {text}");

    let mut typo = good.clone();
    typo["terminals"][0]["tennant"] = "x".into();
    let (ok, text) = check_config(&binary(), &write_config(dir.path(), &typo), &[]);
    assert!(!ok && text.contains("tennant"), "{text}");

    let path = write_config(dir.path(), &good);
    let (ok, text) = check_config(&binary(), &path, &[("USAGE_ATTESTOR__INTERVAL", "5")]);
    assert!(
        !ok && text.contains("interval"),
        "an unknown override is refused: {text}"
    );

    let (ok, text) = check_config(&binary(), &path, &[("USAGE_ATTESTOR__INTERVAL_MS", "0")]);
    assert!(!ok && text.contains("interval_ms"), "{text}");

    let mut bad = good;
    bad["aggregators"] = serde_json::json!(["127.0.0.1:7001"]);
    let (ok, text) = check_config(&binary(), &write_config(dir.path(), &bad), &[]);
    assert!(!ok && text.contains("aggregators[0]"), "{text}");
}

#[test]
fn a_running_agent_stops_cleanly_on_sigterm_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &config(dir.path()));
    let mut child = run_until_logged(&binary(), &path, "attestor starting");
    // A few samples go into the outbox while the aggregator does not answer.
    std::thread::sleep(Duration::from_millis(700));
    let (took, exit) = terminate(&mut child);
    assert!(exit.success(), "a clean stop: {exit:?}");
    assert!(
        took < Duration::from_secs(1),
        "stopped {took:?} after SIGTERM"
    );
}
