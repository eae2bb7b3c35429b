//! `usage-attestor`: the terminal agent.
//!
//! * `usage-attestor run --config attestor.toml` samples this host for the configured terminals
//!   (`check --config` validates a configuration without starting).
//! * `usage-attestor simulate --terminals N --aggregator URL ...` plays a fleet of simulated
//!   terminals with synthetic counters (software TEE keys derived from `--label`).
//! * `usage-attestor fleet-keys --label L --terminals N` prints the simulated terminals' ids and
//!   public keys (JSON lines), for registering them on a chain.

use std::path::PathBuf;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use usage_attestor::fleet::{simulate, FleetConfig};
use usage_attestor::host::{run_host, AttestorMetrics, HostConfig, ENV_PREFIX};
use usage_sample::simulate::{terminal_id, SimulatedKey};
use usage_sample::tee::TeeBackend;
use usage_service::tasks::Tasks;

#[derive(Parser)]
#[command(
    name = "usage-attestor",
    version,
    about = "usagechain terminal agent: samples this host's usage, signs it with the terminal key and delivers it to the aggregators",
    after_help = "Configuration: a JSON or TOML file (template: attestor/config-template.toml); \
        any key can be overridden from the environment as USAGE_ATTESTOR__<KEY>."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sample this host for the terminals of a configuration file, until SIGTERM or SIGINT.
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
    /// Play a fleet of simulated terminals.
    Simulate(SimulateArgs),
    /// Print the simulated fleet's terminal ids and public keys as JSON lines.
    FleetKeys {
        /// Fleet label (terminal ids are `<label>-<index>`).
        #[arg(long, default_value = "sim")]
        label: String,
        /// How many terminals.
        #[arg(long)]
        terminals: u64,
        /// Index of the first terminal.
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
async fn main() -> std::process::ExitCode {
    usage_service::main("usage-attestor", run(Cli::parse().command)).await
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { config } => {
            let config: HostConfig = usage_service::config::load(&config, ENV_PREFIX)?;
            let (metrics, registry) = AttestorMetrics::new();
            let metrics_listener = match &config.metrics_listen {
                Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
                None => None,
            };
            let mut tasks = Tasks::new(tracing::info_span!("attestor"));
            tasks.spawn("sampler", move |stop| async move {
                Ok(run_host(config, metrics, stop).await?)
            });
            if let Some(listener) = metrics_listener {
                let registry = Arc::new(registry);
                tasks.spawn("metrics server", move |stop| {
                    usage_service::metrics::serve(listener, registry, stop)
                });
            }
            let stop = tasks.run().await?;
            tracing::info!(reason = ?stop, "stopped");
            Ok(())
        }
        Command::Check { config } => {
            let config: HostConfig = usage_service::config::load(&config, ENV_PREFIX)?;
            println!(
                "configuration of {} terminal(s) is valid",
                config.terminals.len()
            );
            Ok(())
        }
        Command::Simulate(args) => {
            let mut tasks = Tasks::new(tracing::info_span!("fleet"));
            let config: FleetConfig = args.into();
            tasks.spawn("simulator", move |stop| async move {
                Ok(simulate(config, stop).await?)
            });
            let stop = tasks.run().await?;
            tracing::info!(reason = ?stop, "stopped");
            Ok(())
        }
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
