//! A localnet's homes (one validator, or several with [`init_validators`]): CometBFT's home
//! initialised by `cometbft init`, its config
//! set for the application (ABCI address, loopback ports, kv tx indexer, CORS on the RPC), and a
//! genesis holding the five optimised contracts wired together, with the localnet's committee and
//! keys. Written by `usage-devtools localnet init`, by the tests' nodes and by `usage localnet up`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use cosmwasm_std::{Binary, HexBinary, Uint128};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use usage_common::contracts::CONTRACTS;
use usage_common::msg::{ledger, period_proof, settlement, usage_proof, withdrawal};
use usage_common::record::Metric;
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
/// The localnet's currency: of the ledger's balances, the tariff and withdrawals.
pub const CURRENCY: &str = "CNY";
/// Decimal places of [`CURRENCY`]: amounts are in its minor unit.
pub const CURRENCY_DECIMALS: u8 = 2;
/// The minor unit of [`CURRENCY`], in which every amount is counted.
pub const CURRENCY_MINOR_UNIT: &str = "fen";

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

/// What `init` wrote, for the scripts and clients (`<home>/localnet.json`).
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
    /// The validators, in [`validator_home`] order (the first is the one of `ports`).
    #[serde(default)]
    pub validators: Vec<ValidatorInfo>,
}

impl LocalnetInfo {
    /// Reads `<home>/localnet.json`.
    pub fn read(home: &Path) -> anyhow::Result<LocalnetInfo> {
        let path = home.join("localnet.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("reading {} (is the localnet initialised?)", path.display())
        })?;
        Ok(serde_json::from_str(&text)?)
    }

    /// The address of the contract labelled `label`.
    pub fn contract(&self, label: &str) -> anyhow::Result<&str> {
        self.contracts
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, a)| a.as_str())
            .with_context(|| format!("the localnet has no contract {label}"))
    }
}

/// The address genesis gives the `n`-th contract of [`CONTRACTS`] (codes and instances are
/// numbered in genesis order, one instance per code).
fn genesis_address(n: u64) -> anyhow::Result<String> {
    Ok(usaged_auth::humanize(
        &usaged_vm::keys::classic_contract_address(n, n),
    )?)
}

/// The instantiate messages of the five contracts, in [`CONTRACTS`] order; other contracts are
/// named `@label`, which genesis resolves once all five exist.
fn instantiate_msgs(admin: &str, committee: &SigningCommittee) -> anyhow::Result<[Value; 5]> {
    let admin = Some(admin.to_string());
    let at = |label: &str| format!("@{label}");
    let line = |metric, per_units: u128| settlement::TariffLine {
        metric,
        price: Uint128::one(),
        per_units: Uint128::new(per_units),
    };
    let msgs = [
        serde_json::to_value(usage_proof::InstantiateMsg {
            admin: admin.clone(),
            threshold: committee.threshold,
            members: committee.member_keys(),
            window_seconds: 10,
            period_seconds: 60,
            grace_seconds: 30,
            accept_software_tee: true,
            allowed_measurements: vec![HexBinary::from(SOFTWARE_MEASUREMENT)],
            period_proof: Some(at("period-proof")),
        })?,
        serde_json::to_value(period_proof::InstantiateMsg {
            admin: admin.clone(),
            usage_proof: at("usage-proof"),
            grace_seconds: 30,
            dispute_window_seconds: 60,
            resolution_window_seconds: 120,
            dispute_bond: Uint128::new(100),
            settlement: Some(at("settlement")),
        })?,
        serde_json::to_value(ledger::InstantiateMsg {
            admin: admin.clone(),
            usage_proof: at("usage-proof"),
            currency: CURRENCY.into(),
            decimals: CURRENCY_DECIMALS,
            settlement: Some(at("settlement")),
            withdrawal: Some(at("withdrawal")),
        })?,
        serde_json::to_value(settlement::InstantiateMsg {
            admin: admin.clone(),
            usage_proof: at("usage-proof"),
            period_proof: at("period-proof"),
            ledger: at("ledger"),
            tariff: settlement::Tariff {
                currency: CURRENCY.into(),
                minimum_amount: Uint128::one(),
                lines: vec![
                    line(Metric::NetTxBytes, 1_000_000),
                    line(Metric::NetRxBytes, 2_000_000),
                    line(Metric::CpuTimeUs, 10_000_000),
                ],
            },
        })?,
        serde_json::to_value(withdrawal::InstantiateMsg {
            admin,
            usage_proof: at("usage-proof"),
            ledger: at("ledger"),
            currency: CURRENCY.into(),
            limits: withdrawal::Limits {
                per_request: Uint128::new(1_000_000),
                rolling: Uint128::new(5_000_000),
                window_seconds: 86_400,
                // Short on a localnet, so a delayed withdrawal is seen released and paid.
                delay_seconds: 20,
            },
        })?,
    ];
    Ok(msgs)
}

/// The application genesis: the five codes from `artifacts`, the five contracts wired by label.
pub fn app_genesis(
    artifacts: &Path,
    admin: &str,
    committee: &SigningCommittee,
) -> anyhow::Result<Value> {
    let mut codes = vec![];
    for c in CONTRACTS {
        let wasm = usage_common::contracts::artifact_in(artifacts, c.code)?;
        codes.push(json!({"name": c.code, "wasm": Binary::from(wasm).to_base64()}));
    }
    let mut contracts = vec![];
    for (c, msg) in CONTRACTS.iter().zip(instantiate_msgs(admin, committee)?) {
        // Each contract is its own chain-level admin: it changes code only through its timelock.
        contracts.push(json!({"code": c.code, "label": c.label, "creator": admin,
            "admin": format!("@{}", c.label), "msg": msg}));
    }
    // A self-migration instantiates the new code as the contract, so the contracts may.
    let mut may_instantiate = vec![admin.to_string()];
    for n in 1..=CONTRACTS.len() as u64 {
        may_instantiate.push(genesis_address(n)?);
    }
    // The committee members' submitting accounts go first in every block.
    let mut priority = vec![];
    for index in 0..committee.members.len() {
        priority.push(member_account(COMMITTEE_LABEL, index)?);
    }
    Ok(json!({
        "params": {
            "max_tx_gas": usaged::genesis::MAX_TX_GAS,
            "max_block_gas": usaged::genesis::MAX_BLOCK_GAS,
            "code_upload_access": {"any_of_addresses": [admin]},
            "instantiate_default_permission": {"any_of_addresses": may_instantiate},
            "priority_senders": priority,
        },
        "codes": codes,
        "contracts": contracts,
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

/// `$COMETBFT`, else `cometbft` in `$(go env GOPATH)/bin`, else `cometbft` on PATH.
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

/// Initialises `home` (`home/cometbft` for the node, `home/app` for the application), with the
/// contracts' wasm from `artifacts`: a one-validator localnet.
pub fn init(
    home: &Path,
    chain_id: &str,
    artifacts: &Path,
    ports: Ports,
) -> anyhow::Result<LocalnetInfo> {
    init_validators(home, chain_id, artifacts, &[ports], &|_, to| {
        [ports][to].p2p
    })
}

/// The home of validator `index` of the localnet in `home`: validator 0 lives in `home` itself
/// (as a one-validator localnet does), validator `i` in `home/validator-<i>`. Each holds
/// `cometbft/` and `app/`.
pub fn validator_home(home: &Path, index: usize) -> PathBuf {
    if index == 0 {
        home.to_path_buf()
    } else {
        home.join(format!("validator-{index}"))
    }
}

/// One validator of a localnet (`localnet.json`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ValidatorInfo {
    pub moniker: String,
    pub ports: Ports,
    /// CometBFT's node id (hex of its P2P key's address).
    pub node_id: String,
    /// Its consensus address (upper-case hex, as CometBFT shows it in blocks and commits).
    pub address: String,
}

/// Initialises a localnet of `ports.len()` validators of equal power, each in its
/// [`validator_home`] with the same genesis. Validator `i` reaches validator `j`'s P2P port at
/// `127.0.0.1:dial(i, j)`: `ports[j].p2p` directly, or a port that relays to it (the fault tests
/// put a link there that they can cut). With more than one validator, peers are exactly the
/// other validators (`persistent_peers`, no peer exchange), so every P2P connection goes where
/// `dial` says.
pub fn init_validators(
    home: &Path,
    chain_id: &str,
    artifacts: &Path,
    ports: &[Ports],
    dial: &dyn Fn(usize, usize) -> u16,
) -> anyhow::Result<LocalnetInfo> {
    if ports.is_empty() {
        bail!("a localnet needs at least one validator");
    }
    let committee = SigningCommittee::deterministic(COMMITTEE_LABEL, 1, 4, 3);
    let admin_key = cosmrs::crypto::secp256k1::SigningKey::from_slice(&ADMIN_SEED)
        .map_err(|e| anyhow::anyhow!("admin key: {e}"))?;
    let admin = admin_key
        .public_key()
        .account_id(usaged_auth::PREFIX)
        .map_err(|e| anyhow::anyhow!("admin address: {e}"))?
        .to_string();

    // Every node's own keys first: the genesis names all validators.
    let mut validators = vec![];
    let mut genesis_validators = vec![];
    for (i, p) in ports.iter().enumerate() {
        let node_home = validator_home(home, i).join("cometbft");
        cometbft(&["init", "--home"], &node_home)?;
        let node_id = cometbft(&["show-node-id", "--home"], &node_home)?;
        let key: Value = serde_json::from_str(&std::fs::read_to_string(
            node_home.join("config/priv_validator_key.json"),
        )?)?;
        let moniker = if ports.len() == 1 {
            "usagechain-localnet".to_string()
        } else {
            format!("validator-{i}")
        };
        let address = key["address"]
            .as_str()
            .context("priv_validator_key.json has no address")?
            .to_string();
        genesis_validators.push(json!({
            "address": address,
            "pub_key": key["pub_key"],
            "power": "10",
            "name": moniker,
        }));
        validators.push(ValidatorInfo {
            moniker,
            ports: *p,
            node_id,
            address,
        });
    }

    let first = validator_home(home, 0).join("cometbft/config/genesis.json");
    let mut genesis: Value = serde_json::from_str(&std::fs::read_to_string(&first)?)?;
    genesis["chain_id"] = json!(chain_id);
    genesis["validators"] = json!(genesis_validators);
    genesis["app_state"] = app_genesis(artifacts, &admin, &committee)?;
    let genesis = serde_json::to_vec_pretty(&genesis)?;

    let loopback = |port: u16| format!("\"tcp://127.0.0.1:{port}\"");
    for (i, v) in validators.iter().enumerate() {
        let config_dir = validator_home(home, i).join("cometbft/config");
        std::fs::write(config_dir.join("genesis.json"), &genesis)?;
        let config_path = config_dir.join("config.toml");
        let mut config = std::fs::read_to_string(&config_path)?;
        config = set_toml(&config, "", "proxy_app", &loopback(v.ports.abci))?;
        config = set_toml(&config, "", "moniker", &format!("\"{}\"", v.moniker))?;
        config = set_toml(&config, "rpc", "laddr", &loopback(v.ports.rpc))?;
        config = set_toml(&config, "rpc", "cors_allowed_origins", "[\"*\"]")?;
        config = set_toml(&config, "p2p", "laddr", &loopback(v.ports.p2p))?;
        config = set_toml(&config, "p2p", "addr_book_strict", "false")?;
        if validators.len() > 1 {
            let peers: Vec<String> = validators
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(j, w)| format!("{}@127.0.0.1:{}", w.node_id, dial(i, j)))
                .collect();
            config = set_toml(
                &config,
                "p2p",
                "persistent_peers",
                &format!("\"{}\"", peers.join(",")),
            )?;
            // All peers are on 127.0.0.1, and only the configured ones: no address gossip that
            // would let a node dial around its links.
            config = set_toml(&config, "p2p", "allow_duplicate_ip", "true")?;
            config = set_toml(&config, "p2p", "pex", "false")?;
        }
        config = set_toml(&config, "tx_index", "indexer", "\"kv\"")?;
        config = set_toml(&config, "consensus", "timeout_commit", "\"1s\"")?;
        std::fs::write(&config_path, config)?;
        std::fs::create_dir_all(validator_home(home, i).join("app"))?;
    }

    let mut contracts = vec![];
    for (n, c) in (1..).zip(CONTRACTS) {
        contracts.push((c.label.to_string(), genesis_address(n)?));
    }
    let info = LocalnetInfo {
        chain_id: chain_id.to_string(),
        ports: ports[0],
        admin_address: admin,
        admin_secret_hex: hex::encode(ADMIN_SEED),
        committee_label: COMMITTEE_LABEL.to_string(),
        contracts,
        validators,
    };
    std::fs::write(
        home.join("localnet.json"),
        serde_json::to_vec_pretty(&info)?,
    )?;
    Ok(info)
}

/// Runs `cometbft <args> <home>` and returns its trimmed standard output.
fn cometbft(args: &[&str], home: &Path) -> anyhow::Result<String> {
    let out = Command::new(cometbft_binary())
        .args(args)
        .arg(home)
        .output()
        .context("running cometbft (is CometBFT installed? scripts/setup.sh)")?;
    if !out.status.success() {
        bail!(
            "cometbft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
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
