//! `usage-devtools localnet init --home DIR`: writes a one-validator localnet's home (CometBFT's
//! config and genesis with the optimised contracts, and `localnet.json` with its ports and keys).
//! `usage-devtools localnet chain-files --home DIR`: writes what wallets and chain registries read
//! about it (Keplr's chain info, the registry's `chain.json` and `assetlist.json`).
//! `usage-devtools faults --minutes 10`: the fault test of a four-validator localnet under load,
//! printing its figures (`scripts/fault-test.sh`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use std::time::Duration;

use usage_devtools::chain_files::{self, Endpoints};
use usage_devtools::faults::{self, FaultTest, Plan};
use usage_devtools::localnet::{self, LocalnetInfo, Ports};

#[derive(Parser)]
#[command(
    name = "usage-devtools",
    version,
    about = "Development tools of usagechain"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A one-validator localnet's home.
    #[command(subcommand)]
    Localnet(LocalnetCommand),
    /// Four validators (or more) under the committee's load: every `--every` seconds one is
    /// killed, paused or cut off for `--hold` seconds, then the last one rejoins from an empty
    /// home. Prints the figures (blocks, gaps, catch-up times, windows offered and proven);
    /// exits 1 if the chain lost, doubled or stalled anything.
    Faults {
        #[arg(long, default_value_t = 10)]
        minutes: u64,
        /// Seconds between faults; 0: no faults, the load alone (a baseline).
        #[arg(long, default_value_t = 30)]
        every: u64,
        #[arg(long, default_value_t = 10)]
        hold: u64,
        #[arg(long, default_value_t = 4)]
        validators: usize,
        #[arg(long, default_value_t = 100)]
        terminals: u64,
        /// The working folder (a temporary one, deleted after a pass, if not given).
        #[arg(long)]
        home: Option<PathBuf>,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long, default_value = "artifacts")]
        artifacts: PathBuf,
    },
}

#[derive(Subcommand)]
enum LocalnetCommand {
    /// Writes a one-validator localnet under `--home`: CometBFT's config and genesis (with the
    /// optimised contracts from `--artifacts`), and `localnet.json` with its ports and keys.
    Init {
        #[arg(long)]
        home: PathBuf,
        #[arg(long, default_value = "usagechain-local-1")]
        chain_id: String,
        #[arg(long, default_value = "artifacts")]
        artifacts: PathBuf,
        #[arg(long, default_value_t = 26657)]
        rpc_port: u16,
        #[arg(long, default_value_t = 26656)]
        p2p_port: u16,
        #[arg(long, default_value_t = 26658)]
        abci_port: u16,
    },
    /// Writes Keplr's chain info (keplr-chain-info.json) and the chain registry's chain.json and
    /// assetlist.json for the localnet under `--home` into `--out`.
    ChainFiles {
        #[arg(long)]
        home: PathBuf,
        /// [default: `--home`]
        #[arg(long)]
        out: Option<PathBuf>,
        /// The node's RPC as wallets reach it [default: http://127.0.0.1:<the localnet's RPC port>].
        #[arg(long)]
        rpc_url: Option<String>,
        /// The node's REST (LCD) API as wallets reach it [default: http://127.0.0.1:1317].
        #[arg(long)]
        rest_url: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Faults {
            minutes,
            every,
            hold,
            validators,
            terminals,
            home,
            json,
            artifacts,
        } => {
            let temporary = tempfile::tempdir()?;
            let home = home.unwrap_or_else(|| temporary.path().join("localnet"));
            let bin_dir = std::env::current_exe()?
                .parent()
                .map(PathBuf::from)
                .unwrap_or_default();
            let test = FaultTest {
                home: home.clone(),
                validators,
                terminals,
                plan: Plan {
                    duration: Duration::from_secs(minutes * 60),
                    every: Duration::from_secs(every),
                    hold: Duration::from_secs(hold),
                    drain: Duration::from_secs(120),
                },
                artifacts,
                bin_dir,
            };
            let outcome = faults::fault_test(&test).await;
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    let _ = temporary.keep();
                    anyhow::bail!("{e:#} (logs in {})", home.join("logs").display());
                }
            };
            println!("{outcome}");
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_vec_pretty(&outcome)?)?;
            }
            let failures = outcome.failures();
            if !failures.is_empty() {
                let _ = temporary.keep();
                eprintln!("logs in {}", home.join("logs").display());
                std::process::exit(1);
            }
        }
        Command::Localnet(LocalnetCommand::Init {
            home,
            chain_id,
            artifacts,
            rpc_port,
            p2p_port,
            abci_port,
        }) => {
            let ports = Ports {
                rpc: rpc_port,
                p2p: p2p_port,
                abci: abci_port,
            };
            let info = localnet::init(&home, &chain_id, &artifacts, ports)?;
            println!("{}", serde_json::to_string_pretty(&info)?);
        }
        Command::Localnet(LocalnetCommand::ChainFiles {
            home,
            out,
            rpc_url,
            rest_url,
        }) => {
            let info = LocalnetInfo::read(&home)?;
            let default = Endpoints::localnet(&info)?;
            let endpoints = Endpoints::new(
                rpc_url.as_deref().unwrap_or(default.rpc()),
                rest_url.as_deref().unwrap_or(default.rest()),
            )?;
            for path in chain_files::write(out.as_deref().unwrap_or(&home), &info, &endpoints)? {
                println!("{}", path.display());
            }
        }
    }
    Ok(())
}
