//! The chain files of a real localnet home (written by `localnet::init`: `cometbft init` and the
//! genesis of the five optimised contracts) pass `tests/chain-files/check.mjs`: the chain
//! registry's own schemas, its rules across the two files, and Keplr's own chain-info validator
//! (node, with `npm ci --prefix tests/chain-files` from scripts/setup.sh). Files spoilt the ways
//! hand edits spoil them are refused, so the check can fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use usage_devtools::chain_files::{self, Endpoints};
use usage_devtools::localnet::{self, LocalnetInfo, Ports};

/// A localnet home initialised in `dir`, and its chain files in `dir/chain-files`.
fn generated(dir: &Path) -> (LocalnetInfo, PathBuf) {
    let info = localnet::init(
        &dir.join("home"),
        "usagechain-files-1",
        &usage_common::contracts::artifacts_dir(),
        Ports::default(),
    )
    .expect("localnet init (cometbft on PATH: scripts/env.sh; wasm: scripts/build-wasm.sh)");
    let out = dir.join("chain-files");
    let endpoints = Endpoints::new("http://127.0.0.1:26657", "http://127.0.0.1:1317").unwrap();
    chain_files::write(&out, &info, &endpoints).unwrap();
    (info, out)
}

/// Runs the check on `dir`: whether it passed, and its errors.
fn check(dir: &Path) -> (bool, Vec<String>) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/chain-files/check.mjs");
    let out = Command::new("node")
        .arg(&script)
        .arg(dir)
        .output()
        .expect("node");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no report from the check ({e}; npm ci --prefix tests/chain-files: scripts/setup.sh): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let errors: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    assert_eq!(report["ok"], errors.is_empty());
    assert_eq!(out.status.success(), errors.is_empty(), "exit status");
    (out.status.success(), errors)
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

#[test]
fn the_chain_files_of_a_fresh_localnet_pass_the_registry_schemas_and_keplrs_validator() {
    let dir = tempfile::tempdir().unwrap();
    let (info, out) = generated(dir.path());
    let (ok, errors) = check(&out);
    assert!(ok, "{errors:#?}");

    // What was checked is the localnet's: its chain id and its ledger as Keplr's CW20 token.
    let keplr = read(&out.join("keplr-chain-info.json"));
    assert_eq!(keplr["chainId"], "usagechain-files-1");
    let ledger = info.contract("ledger").unwrap();
    assert!(ledger.starts_with("usage1"));
    assert_eq!(keplr["currencies"][0]["contractAddress"], ledger);
    assert_eq!(
        keplr["currencies"][0]["coinMinimalDenom"],
        format!("cw20:{ledger}:fen").as_str()
    );
    let assets = read(&out.join("assetlist.json"));
    assert_eq!(assets["assets"][1]["address"], ledger);
}

#[test]
fn a_chain_json_with_an_unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = generated(dir.path());
    let mut chain = read(&out.join("chain.json"));
    chain["minimum_gas_price"] = "0ucny".into();
    write(&out.join("chain.json"), &chain);
    let (ok, errors) = check(&out);
    assert!(!ok);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("chain.json") && e.contains("minimum_gas_price")),
        "{errors:#?}"
    );
}

#[test]
fn a_chain_json_without_its_status_or_chain_id_is_refused() {
    for field in ["status", "chain_id"] {
        let dir = tempfile::tempdir().unwrap();
        let (_, out) = generated(dir.path());
        let mut chain = read(&out.join("chain.json"));
        chain.as_object_mut().unwrap().remove(field);
        write(&out.join("chain.json"), &chain);
        let (ok, errors) = check(&out);
        assert!(!ok, "{field}");
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("chain.json") && e.contains(field)),
            "{field}: {errors:#?}"
        );
    }
}

#[test]
fn a_fee_token_missing_from_the_assetlist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = generated(dir.path());
    let mut assets = read(&out.join("assetlist.json"));
    assets["assets"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["base"] != "ucny");
    write(&out.join("assetlist.json"), &assets);
    let (ok, errors) = check(&out);
    assert!(!ok);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("fee token ucny is not in assetlist.json")),
        "{errors:#?}"
    );
}

#[test]
fn keplr_refuses_a_cw20_currency_without_its_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = generated(dir.path());
    let mut keplr = read(&out.join("keplr-chain-info.json"));
    keplr["currencies"][0]
        .as_object_mut()
        .unwrap()
        .remove("contractAddress");
    write(&out.join("keplr-chain-info.json"), &keplr);
    let (ok, errors) = check(&out);
    assert!(!ok);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("keplr-chain-info.json") && e.contains("currencies[0]")),
        "{errors:#?}"
    );
}

#[test]
fn a_cw20_denomination_keplr_would_rewrite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = generated(dir.path());
    let mut keplr = read(&out.join("keplr-chain-info.json"));
    // Keplr accepts a bare minimal denomination but prefixes it with `cw20:<contract>:`.
    keplr["currencies"][0]["coinMinimalDenom"] = "fen".into();
    write(&out.join("keplr-chain-info.json"), &keplr);
    let (ok, errors) = check(&out);
    assert!(!ok);
    assert!(errors.iter().any(|e| e.contains("rewrote")), "{errors:#?}");
}
