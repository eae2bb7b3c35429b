//! The full-node benchmark's work, the same for any chain that runs CosmWasm: the usage-proof
//! contract's instantiate message, the messages that register and lease its terminals, and
//! committee-signed 1,000-record batches bound to a given chain and contract
//! ([`BenchMsgs::generate`], `usage-devtools bench-msgs`), so that usaged and wasmd execute the
//! same wasm on the same batches. `usage-devtools full-node-bench` runs them through usaged's
//! validators; `scripts/wasmd-bench.sh` through wasmd; `scripts/chain_bench.py` broadcasts the
//! signed transactions to either and prints the records committed per second.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use cosmrs::AccountId;
use cosmwasm_std::{Binary, HexBinary};
use serde_json::Value;
use usage_client::tx::{self, Signer};
use usage_client::ChainClient;
use usage_common::merkle;
use usage_common::msg::usage_proof::{self as c1, TeeKind};
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{align, encode_batch, Metrics, UsageRecord};
use usage_signer::SigningCommittee;

use crate::localnet::{self, COMMITTEE_LABEL, SOFTWARE_MEASUREMENT};

/// Records in each batch.
pub const RECORDS_PER_BATCH: usize = 1_000;
/// The contract's window: records are per 10-second window.
pub const WINDOW_SECONDS: u64 = 10;
/// A day long, with a day of grace: no window of a run is late, on any chain.
pub const PERIOD_SECONDS: u64 = 86_400;

/// The benchmark's messages for one chain and one contract.
pub struct BenchMsgs {
    /// C1's instantiate message (it does not depend on the contract's address).
    pub init: Value,
    /// Executed on C1 by the admin, in order: the terminals' registrations, then their leases
    /// (the admin is their provider and their tenant).
    pub setup: Vec<Value>,
    /// `submit_batch` messages of [`RECORDS_PER_BATCH`] records each.
    pub batches: Vec<Value>,
}

/// Terminal `i`'s id.
pub fn terminal_id(i: u64) -> String {
    format!("bench-{i:05}")
}

/// The localnet's committee, which signs the benchmark's batches and which C1 is instantiated
/// with.
fn committee() -> SigningCommittee {
    SigningCommittee::deterministic(COMMITTEE_LABEL, 1, 4, 3)
}

impl BenchMsgs {
    /// C1's instantiate message, administered by `admin` (it does not depend on the chain or on
    /// the contract's address).
    pub fn init_msg(admin: &str) -> anyhow::Result<Value> {
        let committee = committee();
        Ok(serde_json::to_value(c1::InstantiateMsg {
            admin: Some(admin.to_string()),
            threshold: committee.threshold,
            members: committee.member_keys(),
            window_seconds: WINDOW_SECONDS,
            period_seconds: PERIOD_SECONDS,
            grace_seconds: PERIOD_SECONDS,
            accept_software_tee: true,
            allowed_measurements: vec![HexBinary::from(SOFTWARE_MEASUREMENT)],
            period_proof: None,
        })?)
    }

    /// The messages for C1 at `contract` on `chain_id`, administered by `admin`: `terminals`
    /// terminals and `batches` batches. Record `r` (of all batches, in order) is terminal
    /// `r % terminals`'s usage in window `r / terminals`, the windows counting back from the
    /// last one closed at `now` so that every one is closed and none is late.
    pub fn generate(
        chain_id: &str,
        contract: &str,
        admin: &str,
        terminals: u64,
        batches: u64,
        now: u64,
    ) -> anyhow::Result<BenchMsgs> {
        if terminals == 0 {
            bail!("at least one terminal");
        }
        let committee = committee();
        let init = Self::init_msg(admin)?;
        let mut setup = Vec::with_capacity(2 * terminals as usize);
        for i in 0..terminals {
            let id = terminal_id(i);
            setup.push(serde_json::to_value(c1::ExecuteMsg::RegisterTerminal {
                attestor_key: HexBinary::from(merkle::sha256(id.as_bytes())),
                terminal_id: id,
                provider: admin.to_string(),
                tee: TeeKind::Software,
                measurement: HexBinary::from(SOFTWARE_MEASUREMENT),
                shared_attestor: false,
            })?);
        }
        for i in 0..terminals {
            setup.push(serde_json::to_value(c1::ExecuteMsg::OpenLease {
                terminal_id: terminal_id(i),
                provider: admin.to_string(),
                start: 0,
                end: None,
                price_cap: None,
            })?);
        }
        let records = batches * RECORDS_PER_BATCH as u64;
        let windows = records.div_ceil(terminals);
        // The last window closes a minute before `now`.
        let last = align(now.saturating_sub(60 + WINDOW_SECONDS), WINDOW_SECONDS);
        let Some(first) = last.checked_sub(windows * WINDOW_SECONDS) else {
            bail!("{windows} windows do not fit before {now}");
        };
        let mut out = Vec::with_capacity(batches as usize);
        for b in 0..batches {
            let from = b * RECORDS_PER_BATCH as u64;
            let mut batch: Vec<UsageRecord> = (from..from + RECORDS_PER_BATCH as u64)
                .map(|r| UsageRecord {
                    terminal_id: terminal_id(r % terminals),
                    window_start: first + (r / terminals) * WINDOW_SECONDS,
                    tenant: admin.to_string(),
                    metrics: Metrics {
                        net_rx_bytes: 1_000_000 + r,
                        net_tx_bytes: 2_000_000 + r,
                        cpu_time_us: 9_000_000,
                        memory_mib_s: 20_480,
                        link_rtt_us: 800,
                        app_up_s: 10,
                        ..Default::default()
                    },
                })
                .collect();
            batch.sort_by(|a, b| a.key().cmp(&b.key()));
            let digest = UsageBatchDigest::of(&batch).context("a batch digest")?;
            out.push(serde_json::to_value(c1::ExecuteMsg::SubmitBatch {
                records: Binary::from(encode_batch(&batch)),
                signature: committee.sign_quorum(chain_id, contract, &digest),
            })?);
        }
        Ok(BenchMsgs {
            init,
            setup,
            batches: out,
        })
    }

    /// Writes `init.json`, `setup.jsonl` and `batches.jsonl` (one message a line) into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("init.json"), serde_json::to_vec(&self.init)?)?;
        for (name, msgs) in [
            ("setup.jsonl", &self.setup),
            ("batches.jsonl", &self.batches),
        ] {
            let mut text = String::new();
            for m in msgs {
                text.push_str(&serde_json::to_string(m)?);
                text.push('\n');
            }
            std::fs::write(dir.join(name), text)?;
        }
        Ok(())
    }
}

/// What `usage-devtools full-node-bench` does.
pub struct FullNodeBench {
    pub validators: usize,
    pub terminals: u64,
    pub batches: u64,
    /// SDK gas each batch transaction may use.
    pub gas_per_batch: u64,
    /// The gas a block may use, if not the chain's default (wasmd's default has no limit).
    pub max_block_gas: Option<u64>,
    pub home: PathBuf,
    pub artifacts: PathBuf,
    pub bin_dir: PathBuf,
    /// `scripts/chain_bench.py`, which broadcasts and measures.
    pub driver: PathBuf,
    /// Extra arguments for the driver (`--json FILE`, `--in-flight N`, …).
    pub driver_args: Vec<String>,
}

impl FullNodeBench {
    /// Starts the validators (no committee, no bank: the chain alone), instantiates a C1 of its
    /// own from the benchmark's init message, registers and leases the terminals, signs every
    /// batch transaction, then runs the driver against the first validator's RPC and returns
    /// whether it succeeded. The validators are stopped in any case.
    pub async fn run(&self) -> anyhow::Result<bool> {
        let up = crate::network::Up {
            home: self.home.clone(),
            chain_id: "usagechain-bench-1".into(),
            terminals: 0,
            ports: crate::network::PortPlan::free_for(self.validators),
            artifacts: self.artifacts.clone(),
            bin_dir: self.bin_dir.clone(),
            attestor: false,
            p2p_links: None,
            max_block_gas: self.max_block_gas,
        };
        let (info, mut services) = up.run_chain().await?;
        // The validators run in process groups of their own: an interrupt stops them here too.
        let outcome = tokio::select! {
            outcome = self.drive(&up, &info) => outcome,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        };
        let _ = services.stop_all(Duration::from_secs(5));
        outcome
    }

    async fn drive(
        &self,
        up: &crate::network::Up,
        info: &localnet::LocalnetInfo,
    ) -> anyhow::Result<bool> {
        use tendermint_rpc::Client;
        let rpc = format!("http://127.0.0.1:{}", up.ports.node.rpc);
        let secret = hex::decode(&info.admin_secret_hex)?;
        let admin = ChainClient::new(&rpc, &info.chain_id)?.with_key(&secret)?;
        let admin_address = info.admin_address.clone();
        let key = cosmrs::crypto::secp256k1::SigningKey::from_slice(&secret)
            .map_err(|e| anyhow::anyhow!("admin key: {e}"))?;
        let sender: AccountId = admin_address
            .parse()
            .map_err(|e| anyhow::anyhow!("admin address: {e}"))?;

        // C1's code is the first of genesis.
        let init = BenchMsgs::init_msg(&admin_address)?;
        let instantiate = cosmrs::cosmwasm::MsgInstantiateContract {
            sender: sender.clone(),
            admin: Some(sender.clone()),
            code_id: 1,
            label: Some("usage-proof-bench".into()),
            msg: serde_json::to_vec(&init)?,
            funds: vec![],
        };
        let (account_number, sequence) = admin.account_numbers().await?;
        let signer = Signer {
            key: &key,
            chain_id: &info.chain_id,
            account_number,
            sequence,
        };
        let raw = tx::sign(
            signer,
            vec![cosmrs::tx::Msg::to_any(&instantiate).map_err(|e| anyhow::anyhow!("{e}"))?],
            tx::fee(30_000_000, vec![]),
            0,
        )?;
        let sent = admin.rpc().broadcast_tx_sync(raw).await?;
        if sent.code.is_err() {
            bail!("instantiating C1 refused: {}", sent.log);
        }
        let outcome = admin
            .wait_tx(&sent.hash.to_string(), Duration::from_secs(60))
            .await?;
        if !outcome.is_ok() {
            bail!("instantiating C1 failed: {}", outcome.log);
        }
        let c1 = instantiated_address(&admin, outcome.height)
            .await?
            .context("no contract instantiated")?;
        eprintln!("  C1 of the benchmark instantiated at {c1}");

        let msgs = BenchMsgs::generate(
            &info.chain_id,
            &c1,
            &admin_address,
            self.terminals,
            self.batches,
            unix_now(),
        )?;
        let setup: Vec<(String, Vec<u8>)> = msgs
            .setup
            .iter()
            .map(|m| Ok((c1.clone(), serde_json::to_vec(m)?)))
            .collect::<anyhow::Result<_>>()?;
        crate::fleet::try_broadcast_in_fifties(&admin, &setup, "set-up").await?;
        eprintln!(
            "  {} terminals registered and leased; signing {} batch transactions",
            self.terminals, self.batches
        );

        let (account_number, sequence) = admin.account_numbers().await?;
        let dir = self.home.join("bench");
        std::fs::create_dir_all(&dir)?;
        let mut lines = String::new();
        for (i, m) in msgs.batches.iter().enumerate() {
            let signer = Signer {
                key: &key,
                chain_id: &info.chain_id,
                account_number,
                sequence: sequence + i as u64,
            };
            let exec = tx::execute_msg(&sender, &c1, serde_json::to_vec(m)?)?;
            let raw = tx::sign(signer, vec![exec], tx::fee(self.gas_per_batch, vec![]), 0)?;
            lines.push_str(&cosmwasm_std::to_base64(&raw));
            lines.push('\n');
        }
        let txs = dir.join("txs.b64");
        std::fs::write(&txs, lines)?;
        let status = std::process::Command::new("python3")
            .arg(&self.driver)
            .arg("--rpc")
            .arg(&rpc)
            .arg("--txs")
            .arg(&txs)
            .args(["--records-per-tx", &RECORDS_PER_BATCH.to_string()])
            .args(&self.driver_args)
            .status()
            .with_context(|| format!("running {}", self.driver.display()))?;
        let size = dir_size(&localnet::validator_home(&self.home, 0).join("app"));
        println!("usaged's store (validator 0): {:.1} MB", size as f64 / 1e6);
        Ok(status.success())
    }
}

/// The address of the contract instantiated at `height` (the block's `instantiate` event).
async fn instantiated_address(chain: &ChainClient, height: u64) -> anyhow::Result<Option<String>> {
    use tendermint_rpc::Client;
    let results = chain
        .rpc()
        .block_results(tendermint::block::Height::try_from(height)?)
        .await?;
    Ok(results
        .txs_results
        .unwrap_or_default()
        .iter()
        .flat_map(|t| &t.events)
        .filter(|e| e.kind == "instantiate")
        .flat_map(|e| &e.attributes)
        .find(|a| a.key_str().ok() == Some(usage_client::chain::CONTRACT_ADDRESS))
        .and_then(|a| a.value_str().ok().map(str::to_string)))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Bytes of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use usage_common::record::decode_batch;

    #[test]
    fn batches_cover_each_terminal_window_once_sorted_and_closed() {
        let now = 1_800_000_000;
        let msgs = BenchMsgs::generate("chain-1", "usage1c1", "usage1admin", 300, 3, now).unwrap();
        assert_eq!(msgs.setup.len(), 600);
        assert_eq!(msgs.batches.len(), 3);
        let mut seen = std::collections::BTreeSet::new();
        for b in &msgs.batches {
            let raw: Binary = serde_json::from_value(b["submit_batch"]["records"].clone()).unwrap();
            let batch = decode_batch(raw.as_slice()).unwrap();
            assert_eq!(batch.records.len(), RECORDS_PER_BATCH);
            let keys: Vec<_> = batch.records.iter().map(|(r, _)| r.key()).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted, no key twice");
            for (r, _) in &batch.records {
                assert!(r.window_start + WINDOW_SECONDS <= now - 60);
                assert_eq!(r.window_start % WINDOW_SECONDS, 0);
                assert!(seen.insert((r.terminal_id.clone(), r.window_start)));
            }
        }
        // 3,000 records over 300 terminals: 10 windows each.
        assert_eq!(seen.len(), 3_000);
        assert_eq!(seen.iter().filter(|(t, _)| t == "bench-00007").count(), 10);
    }
}
