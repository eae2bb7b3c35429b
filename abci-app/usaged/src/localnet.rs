//! A one-validator localnet: CometBFT's home initialised by `cometbft init`, its config set for
//! this application (ABCI address, loopback ports, kv tx indexer, CORS on the RPC), and a genesis
//! holding the five optimised contracts wired together, with the localnet's committee and keys.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use cosmwasm_std::{Binary, HexBinary};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use usage_signer::SigningCommittee;

/// The committee label the localnet's deterministic keys derive from.
pub const COMMITTEE_LABEL: &str = "usagechain-localnet";
/// Measurement of the software TEE backend, which the localnet accepts:
/// `SHA-256("usagechain software tee v1")`, what `usage_sample::tee::software_measurement`
/// computes (a test of the aggregator checks that they agree).
pub const SOFTWARE_MEASUREMENT: [u8; 32] = [
    0x96, 0xa7, 0x97, 0x90, 0x49, 0x9c, 0x5e, 0xbe, 0x50, 0x3e, 0x9c, 0xac, 0x87, 0x75, 0x63, 0x19,
    0x1b, 0xf0, 0x13, 0xce, 0x52, 0xeb, 0x7c, 0x3b, 0xff, 0xc7, 0x5f, 0x90, 0x3b, 0x6b, 0x46, 0x2c,
];
/// Seed of the localnet admin's secp256k1 key (never use outside a localnet).
pub const ADMIN_SEED: [u8; 32] = [0xad; 32];

/// Ports of one node, all on 127.0.0.1.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub rpc: u16,
    pub p2p: u16,
    pub abci: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            rpc: 26657,
            p2p: 26656,
            abci: 26658,
        }
    }
}

/// What `usaged init` wrote, for the scripts and clients (`<home>/localnet.json`).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct LocalnetInfo {
    pub chain_id: String,
    pub ports: Ports,
    /// Address and hex secret key of the admin account.
    pub admin_address: String,
    pub admin_secret_hex: String,
    pub committee_label: String,
    /// Contract label -> address.
    pub contracts: Vec<(String, String)>,
}

/// The contracts of the localnet genesis, in instantiation order: (code, label).
pub const CONTRACTS: [(&str, &str); 5] = [
    ("usage_proof", "usage-proof"),
    ("period_proof", "period-proof"),
    ("ledger", "ledger"),
    ("settlement", "settlement"),
    ("withdrawal", "withdrawal"),
];

/// The application genesis: five codes from `artifacts`, five contracts wired by label.
pub fn app_genesis(
    artifacts: &Path,
    admin: &str,
    committee: &SigningCommittee,
) -> anyhow::Result<Value> {
    let mut codes = vec![];
    for (code, _) in CONTRACTS {
        let path = artifacts.join(format!("{code}.wasm"));
        let wasm = std::fs::read(&path)
            .with_context(|| format!("reading {} (run scripts/build-wasm.sh)", path.display()))?;
        codes.push(json!({"name": code, "wasm": Binary::from(wasm).to_base64()}));
    }
    // Each contract is its own chain-level admin: it changes code only through its timelock.
    let contract = |code: &str, label: &str, msg: Value| json!({"code": code, "label": label, "creator": admin, "admin": format!("@{label}"), "msg": msg});
    // A self-migration instantiates the new code as the contract, so the contracts may.
    let mut may_instantiate = vec![admin.to_string()];
    for i in 1..=CONTRACTS.len() as u64 {
        // Codes and instances are numbered in genesis order, one instance per code.
        let canonical = usaged_vm::keys::classic_contract_address(i, i);
        may_instantiate.push(usaged_auth::humanize(&canonical)?);
    }
    // The committee members' submitting accounts go first in every block.
    let mut priority = vec![];
    for index in 0..committee.members.len() {
        priority.push(member_account(COMMITTEE_LABEL, index)?);
    }
    Ok(json!({
        "params": {
            "max_tx_gas": crate::genesis::MAX_TX_GAS,
            "max_block_gas": crate::genesis::MAX_BLOCK_GAS,
            "code_upload_access": {"any_of_addresses": [admin]},
            "instantiate_default_permission": {"any_of_addresses": may_instantiate},
            "priority_senders": priority,
        },
        "codes": codes,
        "contracts": [
            contract("usage_proof", "usage-proof", json!({
                "admin": admin, "threshold": committee.threshold, "members": committee.member_keys(),
                "window_seconds": 10, "period_seconds": 60, "grace_seconds": 30,
                "accept_software_tee": true,
                "allowed_measurements": [HexBinary::from(SOFTWARE_MEASUREMENT)],
                "period_proof": "@period-proof",
            })),
            contract("period_proof", "period-proof", json!({
                "admin": admin, "usage_proof": "@usage-proof",
                "grace_seconds": 30, "dispute_window_seconds": 60,
                "resolution_window_seconds": 120, "dispute_bond": "100",
                "settlement": "@settlement",
            })),
            contract("ledger", "ledger", json!({
                "admin": admin, "usage_proof": "@usage-proof", "currency": "CNY", "decimals": 2,
                "settlement": "@settlement", "withdrawal": "@withdrawal",
            })),
            contract("settlement", "settlement", json!({
                "admin": admin, "usage_proof": "@usage-proof", "period_proof": "@period-proof",
                "ledger": "@ledger",
                "tariff": {"currency": "CNY", "minimum_amount": "1", "lines": [
                    {"metric": "net_tx_bytes", "price": "1", "per_units": "1000000"},
                    {"metric": "net_rx_bytes", "price": "1", "per_units": "2000000"},
                    {"metric": "cpu_time_us", "price": "1", "per_units": "10000000"},
                ]},
            })),
            contract("withdrawal", "withdrawal", json!({
                "admin": admin, "usage_proof": "@usage-proof", "ledger": "@ledger", "currency": "CNY",
                "limits": {"per_request": "1000000", "rolling": "5000000",
                           "window_seconds": 86400, "delay_seconds": 600},
            })),
        ],
    }))
}

/// The account address of member `index` of the localnet committee `label`: its secp256k1 key is
/// `SHA-256("<label>/account/<index>")`, as the aggregator's localnet keys derive it.
pub fn member_account(label: &str, index: usize) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let secret: [u8; 32] = Sha256::digest(format!("{label}/account/{index}").as_bytes()).into();
    let key = cosmrs::crypto::secp256k1::SigningKey::from_slice(&secret)
        .map_err(|e| anyhow::anyhow!("member {index}'s account key: {e}"))?;
    Ok(usaged_auth::address_from_pubkey(
        &key.public_key().to_bytes(),
    )?)
}

/// Sets `key = value` in `[section]` of a CometBFT `config.toml` (top-level keys: section "").
pub fn set_toml(config: &str, section: &str, key: &str, value: &str) -> anyhow::Result<String> {
    let mut current = String::new();
    let mut found = false;
    let mut out = Vec::new();
    for line in config.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            current = trimmed.trim_matches(|c| c == '[' || c == ']').to_string();
        }
        let is_key = trimmed
            .split_once('=')
            .map(|(k, _)| k.trim() == key)
            .unwrap_or(false);
        if current == section && is_key && !found {
            out.push(format!("{key} = {value}"));
            found = true;
        } else {
            out.push(line.to_string());
        }
    }
    if !found {
        bail!("config.toml has no {key} in [{section}]");
    }
    Ok(out.join("\n") + "\n")
}

/// `cometbft` on PATH or in `$(go env GOPATH)/bin`.
pub fn cometbft_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("COMETBFT") {
        return PathBuf::from(p);
    }
    let gopath = Command::new("go")
        .args(["env", "GOPATH"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let candidate = PathBuf::from(gopath).join("bin/cometbft");
    if candidate.exists() {
        candidate
    } else {
        PathBuf::from("cometbft")
    }
}

/// Initialises `home` (`home/cometbft` for the node, `home/app` for the application).
pub fn init(
    home: &Path,
    chain_id: &str,
    artifacts: &Path,
    ports: Ports,
) -> anyhow::Result<LocalnetInfo> {
    let node_home = home.join("cometbft");
    let status = Command::new(cometbft_binary())
        .arg("init")
        .arg("--home")
        .arg(&node_home)
        .output()
        .context("running cometbft init (is CometBFT installed? scripts/setup.sh)")?;
    if !status.status.success() {
        bail!("cometbft init: {}", String::from_utf8_lossy(&status.stderr));
    }
    let committee = SigningCommittee::deterministic(COMMITTEE_LABEL, 1, 4, 3);
    let admin_key = cosmrs::crypto::secp256k1::SigningKey::from_slice(&ADMIN_SEED)
        .map_err(|e| anyhow::anyhow!("admin key: {e}"))?;
    let admin = admin_key
        .public_key()
        .account_id(usaged_auth::PREFIX)
        .map_err(|e| anyhow::anyhow!("admin address: {e}"))?
        .to_string();

    let genesis_path = node_home.join("config/genesis.json");
    let mut genesis: Value = serde_json::from_str(&std::fs::read_to_string(&genesis_path)?)?;
    genesis["chain_id"] = json!(chain_id);
    genesis["app_state"] = app_genesis(artifacts, &admin, &committee)?;
    std::fs::write(&genesis_path, serde_json::to_vec_pretty(&genesis)?)?;

    let config_path = node_home.join("config/config.toml");
    let mut config = std::fs::read_to_string(&config_path)?;
    config = set_toml(
        &config,
        "",
        "proxy_app",
        &format!("\"tcp://127.0.0.1:{}\"", ports.abci),
    )?;
    config = set_toml(&config, "", "moniker", "\"usagechain-localnet\"")?;
    config = set_toml(
        &config,
        "rpc",
        "laddr",
        &format!("\"tcp://127.0.0.1:{}\"", ports.rpc),
    )?;
    config = set_toml(&config, "rpc", "cors_allowed_origins", "[\"*\"]")?;
    config = set_toml(
        &config,
        "p2p",
        "laddr",
        &format!("\"tcp://127.0.0.1:{}\"", ports.p2p),
    )?;
    config = set_toml(&config, "p2p", "addr_book_strict", "false")?;
    config = set_toml(&config, "tx_index", "indexer", "\"kv\"")?;
    config = set_toml(&config, "consensus", "timeout_commit", "\"1s\"")?;
    std::fs::write(&config_path, config)?;

    let mut contracts = vec![];
    for (i, (code, label)) in CONTRACTS.iter().enumerate() {
        let code_id = CONTRACTS.iter().position(|(c, _)| c == code).unwrap_or(0) as u64 + 1;
        let canonical = usaged_vm::keys::classic_contract_address(code_id, i as u64 + 1);
        contracts.push((label.to_string(), usaged_auth::humanize(&canonical)?));
    }
    let info = LocalnetInfo {
        chain_id: chain_id.to_string(),
        ports,
        admin_address: admin,
        admin_secret_hex: hex::encode(ADMIN_SEED),
        committee_label: COMMITTEE_LABEL.to_string(),
        contracts,
    };
    std::fs::create_dir_all(home.join("app"))?;
    std::fs::write(
        home.join("localnet.json"),
        serde_json::to_vec_pretty(&info)?,
    )?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_set_only_in_its_own_section() {
        let config = "proxy_app = \"a\"\n[rpc]\nladdr = \"r\"\n[p2p]\nladdr = \"p\"\n";
        let out = set_toml(config, "p2p", "laddr", "\"x\"").unwrap();
        assert_eq!(
            out,
            "proxy_app = \"a\"\n[rpc]\nladdr = \"r\"\n[p2p]\nladdr = \"x\"\n"
        );
        assert!(set_toml(config, "mempool", "size", "1").is_err());
    }
}
