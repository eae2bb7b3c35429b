//! `usage-aggregator`: run a data-processing centre, generate its keys, or write the
//! configurations of a localnet committee.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use usage_aggregator::config::{Config, Peer, SigningCallers, Timing};
use usage_aggregator::keys;

#[derive(Parser)]
#[command(name = "usage-aggregator", about = "usagechain data-processing centre")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run with a configuration file.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Generate fresh keys (BLS with proof of possession, peer link, account) and print them
    /// with the public identity to publish.
    Keygen,
    /// Write `aggregator-<i>.json` for every member of a localnet committee.
    Localnet(Box<LocalnetArgs>),
}

#[derive(clap::Args)]
struct LocalnetArgs {
    #[arg(long)]
    home: PathBuf,
    #[arg(long, default_value_t = 4)]
    members: usize,
    #[arg(long, default_value_t = 3)]
    threshold: u32,
    #[arg(long, default_value = "usagechain-localnet")]
    label: String,
    #[arg(long, default_value_t = 7001)]
    base_port: u16,
    #[arg(long)]
    rpc: String,
    #[arg(long)]
    chain_id: String,
    #[arg(long)]
    usage_proof: String,
    #[arg(long)]
    period_proof: String,
    #[arg(long)]
    settlement: Option<String>,
    #[arg(long)]
    ledger: Option<String>,
    #[arg(long)]
    withdrawal: Option<String>,
    /// The bank whose records vouchers are checked against.
    #[arg(long)]
    bank_url: Option<String>,
    /// Hex Ed25519 public key of a relayer allowed to ask every member for signatures
    /// (repeatable; the members' peer keys are always allowed).
    #[arg(long = "relayer-key")]
    relayer_keys: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Run { config } => {
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let config: Config = serde_json::from_str(&text).context("aggregator config")?;
            usage_aggregator::server::run(config).await
        }
        Command::Keygen => {
            let k = keys::generate()?;
            let public = k.public()?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"keys": k, "public": public}))?
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
                relayer_keys,
            } = *args;
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
                let config = Config {
                    index: i,
                    listen: format!("127.0.0.1:{}", base_port + i as u16),
                    data_dir: home.join(format!("aggregator-{i}")),
                    rpc: rpc.clone(),
                    chain_id: chain_id.clone(),
                    usage_proof: usage_proof.clone(),
                    period_proof: period_proof.clone(),
                    settlement: settlement.clone(),
                    ledger: ledger.clone(),
                    withdrawal: withdrawal.clone(),
                    bank_url: bank_url.clone(),
                    keys: k,
                    peers: peers.clone(),
                    timing: Timing::default(),
                    next_bls_secrets: vec![],
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
