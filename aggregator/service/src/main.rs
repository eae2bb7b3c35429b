//! `usage-aggregator`: run a data-processing centre, generate its keys, or write the
//! configurations of a localnet committee.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use usage_aggregator::config::{Config, Peer, SigningCallers, Timing, ENV_PREFIX};
use usage_aggregator::keys;

#[derive(Parser)]
#[command(
    name = "usage-aggregator",
    version,
    about = "usagechain data-processing centre: ingests attested samples, co-signs usage batches, keeps periods moving",
    after_help = "Configuration: a JSON or TOML file (template: aggregator/config-template.toml); \
        any key can be overridden from the environment as USAGE_AGGREGATOR__<SECTION>__<KEY>."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run with a configuration file until SIGTERM or SIGINT.
    Run {
        /// The configuration file (.json or .toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Check a configuration file (and its environment overrides) without starting.
    Check {
        /// The configuration file (.json or .toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Generate fresh keys (BLS with proof of possession, peer link, account) into new key
    /// files (mode 0600) in a folder, and print the public identity to publish.
    Keygen {
        /// The folder for bls.key, peer.key and account.key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write `aggregator-<i>.json` for every member of a localnet committee.
    Localnet(Box<LocalnetArgs>),
}

#[derive(clap::Args)]
struct LocalnetArgs {
    /// The folder the configurations, key files and data go into.
    #[arg(long)]
    home: PathBuf,
    /// Committee size.
    #[arg(long, default_value_t = 4)]
    members: usize,
    /// Signatures a batch needs.
    #[arg(long, default_value_t = 3)]
    threshold: u32,
    /// The committee label the localnet's deterministic keys derive from.
    #[arg(long, default_value = "usagechain-localnet")]
    label: String,
    /// Member i serves its public API on base_port + i and its metrics on base_port + 100 + i.
    #[arg(long, default_value_t = 7001)]
    base_port: u16,
    /// The node's RPC URL.
    #[arg(long)]
    rpc: String,
    /// The chain id.
    #[arg(long)]
    chain_id: String,
    /// C1 usage-proof's address.
    #[arg(long)]
    usage_proof: String,
    /// C2 period-proof's address.
    #[arg(long)]
    period_proof: String,
    /// C3 settlement's address.
    #[arg(long)]
    settlement: Option<String>,
    /// C4 ledger's address.
    #[arg(long)]
    ledger: Option<String>,
    /// C5 withdrawal's address.
    #[arg(long)]
    withdrawal: Option<String>,
    /// The bank whose signed statements vouchers are checked against.
    #[arg(long, requires = "bank_public_key")]
    bank_url: Option<String>,
    /// The bank's Ed25519 public key (64 hex digits) its statements must be signed with.
    #[arg(long, requires = "bank_url")]
    bank_public_key: Option<String>,
    /// Hex Ed25519 public key of a relayer allowed to ask every member for signatures
    /// (repeatable; the members' peer keys are always allowed).
    #[arg(long = "relayer-key")]
    relayer_keys: Vec<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    usage_service::main("usage-aggregator", run(Cli::parse().command)).await
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { config } => {
            let config: Config = usage_service::config::load(&config, ENV_PREFIX)?;
            usage_aggregator::server::run(config).await
        }
        Command::Check { config } => {
            let config: Config = usage_service::config::load(&config, ENV_PREFIX)?;
            config.keys.load().context("key files")?;
            println!("configuration of member {} is valid", config.index);
            Ok(())
        }
        Command::Keygen { out } => {
            let k = keys::generate()?;
            let files = k.write_files(&out)?;
            let public = k.public()?;
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"keys": files, "public": public})
                )?
            );
            Ok(())
        }
        Command::Localnet(args) => {
            let LocalnetArgs {
                home,
                members,
                threshold,
                label,
                base_port,
                rpc,
                chain_id,
                usage_proof,
                period_proof,
                settlement,
                ledger,
                withdrawal,
                bank_url,
                bank_public_key,
                relayer_keys,
            } = *args;
            let bank = bank_url
                .zip(bank_public_key)
                .map(|(url, public_key)| usage_aggregator::config::BankLink { url, public_key });
            std::fs::create_dir_all(&home)?;
            let all: Vec<_> = (0..members)
                .map(|i| keys::localnet(&label, i, members, threshold))
                .collect();
            let mut peers = vec![];
            for (i, k) in all.iter().enumerate() {
                peers.push(Peer {
                    index: i,
                    url: format!("http://127.0.0.1:{}", base_port + i as u16),
                    peer_key: k.public()?.peer_key,
                });
            }
            for (i, k) in all.into_iter().enumerate() {
                // The localnet's keys are deterministic: written afresh on every run.
                let key_dir = home.join(format!("aggregator-{i}-keys"));
                let _ = std::fs::remove_dir_all(&key_dir);
                let keys = k.write_files(&key_dir)?;
                let config = Config {
                    index: i,
                    listen: format!("127.0.0.1:{}", base_port + i as u16),
                    metrics_listen: Some(format!("127.0.0.1:{}", base_port + 100 + i as u16)),
                    data_dir: home.join(format!("aggregator-{i}")),
                    rpc: rpc.clone(),
                    chain_id: chain_id.clone(),
                    usage_proof: usage_proof.clone(),
                    period_proof: period_proof.clone(),
                    settlement: settlement.clone(),
                    ledger: ledger.clone(),
                    withdrawal: withdrawal.clone(),
                    bank: bank.clone(),
                    keys,
                    peers: peers.clone(),
                    timing: Timing::default(),
                    next_bls_keys: vec![],
                    approved_rotation: None,
                    signing: SigningCallers {
                        relayer_keys: relayer_keys.clone(),
                        ..SigningCallers::default()
                    },
                    byzantine: None,
                    evidence_max_age_seconds:
                        usage_aggregator::config::default_evidence_max_age_seconds(),
                };
                let path = home.join(format!("aggregator-{i}.json"));
                std::fs::write(&path, serde_json::to_vec_pretty(&config)?)?;
                println!("{}", path.display());
            }
            Ok(())
        }
    }
}
