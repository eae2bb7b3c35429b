//! `usage-attestor`: the terminal agent.
//!
//! * `usage-attestor run --config attestor.json` samples this host for the configured terminals.
//! * `usage-attestor simulate --terminals N --aggregator URL ...` plays a fleet of simulated
//!   terminals with synthetic counters (software TEE keys derived from `--label`).
//! * `usage-attestor fleet-keys --label L --terminals N` prints the simulated terminals' ids and
//!   public keys (JSON lines), for registering them on a chain.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use usage_attestor::fleet::{simulate, FleetConfig};
use usage_attestor::host::{run_host, HostConfig};
use usage_sample::simulate::{terminal_id, SimulatedKey};
use usage_sample::tee::TeeBackend;

#[derive(Parser)]
#[command(name = "usage-attestor", about = "usagechain terminal agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sample this host for the terminals of a configuration file.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Play a fleet of simulated terminals.
    Simulate(SimulateArgs),
    /// Print the simulated fleet's terminal ids and public keys as JSON lines.
    FleetKeys {
        #[arg(long, default_value = "sim")]
        label: String,
        #[arg(long)]
        terminals: u64,
        #[arg(long, default_value_t = 0)]
        first: u64,
    },
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// How many terminals.
    #[arg(long)]
    terminals: u64,
    /// Index of the first terminal.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Fleet label (terminal ids are `<label>-<index>`).
    #[arg(long, default_value = "sim")]
    label: String,
    /// Tenants, assigned round robin.
    #[arg(long, required = true)]
    tenant: Vec<String>,
    /// Aggregator base URLs.
    #[arg(long, required = true)]
    aggregator: Vec<String>,
    /// Where the outbox lives.
    #[arg(long)]
    data_dir: PathBuf,
    /// Milliseconds between samples of each terminal.
    #[arg(long, default_value_t = 1_000)]
    interval_ms: u64,
    /// Stop after this many seconds (runs until interrupted otherwise).
    #[arg(long)]
    seconds: Option<u64>,
}

impl From<SimulateArgs> for FleetConfig {
    fn from(a: SimulateArgs) -> Self {
        FleetConfig {
            terminals: a.terminals,
            first: a.first,
            label: a.label,
            tenants: a.tenant,
            aggregators: a.aggregator,
            data_dir: a.data_dir,
            interval_ms: a.interval_ms,
            seconds: a.seconds,
        }
    }
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
            let config: HostConfig = serde_json::from_str(&text).context("attestor config")?;
            Ok(run_host(config).await?)
        }
        Command::Simulate(args) => Ok(simulate(args.into()).await?),
        Command::FleetKeys {
            label,
            terminals,
            first,
        } => {
            for i in first..first + terminals {
                let key = SimulatedKey::derive(&label, i);
                println!(
                    "{}",
                    serde_json::json!({"terminal_id": terminal_id(&label, i),
                        "attestor_key": hex::encode(key.public_key())})
                );
            }
            Ok(())
        }
    }
}
