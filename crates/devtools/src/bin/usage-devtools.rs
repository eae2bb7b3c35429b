//! `usage-devtools localnet init --home DIR`: writes a one-validator localnet's home (CometBFT's
//! config and genesis with the optimised contracts, and `localnet.json` with its ports and keys).
//! `usage-devtools localnet chain-files --home DIR`: writes what wallets and chain registries read
//! about it (Keplr's chain info, the registry's `chain.json` and `assetlist.json`).
//! `usage-devtools faults --minutes 10`: the fault test of a four-validator localnet under load,
//! printing its figures (`scripts/fault-test.sh`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use std::time::Duration;

use usage_devtools::chain_bench::{BenchMsgs, FullNodeBench};
use usage_devtools::chain_files::{self, Endpoints};
use usage_devtools::faults::{self, FaultTest, Plan};
use usage_devtools::localnet::{self, LocalnetInfo, Ports};
use usage_devtools::soak;

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
    /// A localnet under the fleet's load for `--hours`: every process's resident memory read
    /// every minute and printed; at the end each one's growth since the warm-up (exits 1 if one
    /// grew more than `--max-growth` percent) and a chart, soak-memory.png, in `--out`.
    Soak {
        #[arg(long, default_value_t = 2.0)]
        hours: f64,
        #[arg(long, default_value_t = 1)]
        validators: usize,
        #[arg(long, default_value_t = 100)]
        terminals: u64,
        /// Seconds between readings.
        #[arg(long, default_value_t = 60)]
        every: u64,
        /// Minutes of warm-up (growth counts from its end) [default: a tenth of the run, at most 10].
        #[arg(long)]
        warm_up: Option<f64>,
        #[arg(long, default_value_t = 20.0)]
        max_growth: f64,
        /// The working folder (a temporary one if not given).
        #[arg(long)]
        home: Option<PathBuf>,
        #[arg(long, default_value = "artifacts")]
        artifacts: PathBuf,
        #[arg(long, default_value = "target/bench")]
        out: PathBuf,
        /// Also write the figures as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Writes the full-node benchmark's messages for the usage-proof contract at `--contract`
    /// on `--chain-id`: `init.json` (its instantiate message), `setup.jsonl` (registrations and
    /// leases, executed by `--admin`) and `batches.jsonl` (committee-signed 1,000-record batches).
    /// What `scripts/wasmd-bench.sh` runs through wasmd.
    BenchMsgs {
        #[arg(long)]
        chain_id: String,
        #[arg(long)]
        contract: String,
        #[arg(long)]
        admin: String,
        #[arg(long, default_value_t = 1_000)]
        terminals: u64,
        #[arg(long, default_value_t = 120)]
        batches: u64,
        /// Unix seconds the windows count back from [default: now].
        #[arg(long)]
        now: Option<u64>,
        #[arg(long)]
        out: PathBuf,
    },
    /// The full-node benchmark on usaged: `--validators` validators (CometBFT + usaged, nothing
    /// else), the benchmark's own C1, its terminals registered and leased, then every batch
    /// transaction signed and broadcast over RPC by `scripts/chain_bench.py`, which prints the
    /// records committed per second.
    FullNodeBench {
        #[arg(long, default_value_t = 1)]
        validators: usize,
        #[arg(long, default_value_t = 1_000)]
        terminals: u64,
        #[arg(long, default_value_t = 120)]
        batches: u64,
        /// SDK gas each batch transaction asks for (a block holds as many as its gas allows).
        #[arg(long, default_value_t = 22_000_000)]
        gas_per_batch: u64,
        /// The gas a block may use [default: the chain's, usaged::genesis::MAX_BLOCK_GAS].
        #[arg(long)]
        max_block_gas: Option<u64>,
        /// The working folder (a temporary one if not given).
        #[arg(long)]
        home: Option<PathBuf>,
        #[arg(long, default_value = "artifacts")]
        artifacts: PathBuf,
        #[arg(long, default_value = "scripts/chain_bench.py")]
        driver: PathBuf,
        /// Passed on to the driver (e.g. `--json FILE`).
        #[arg(last = true)]
        driver_args: Vec<String>,
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

/// A run's working folder (`home`, or `localnet` in a temporary folder kept only if the run
/// fails) and the folder of this binary, where the services' binaries are.
fn run_folders(home: Option<PathBuf>) -> anyhow::Result<(tempfile::TempDir, PathBuf, PathBuf)> {
    let temporary = tempfile::tempdir()?;
    let home = home.unwrap_or_else(|| temporary.path().join("localnet"));
    let bin_dir = std::env::current_exe()?
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok((temporary, home, bin_dir))
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
            let (temporary, home, bin_dir) = run_folders(home)?;
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
        Command::Soak {
            hours,
            validators,
            terminals,
            every,
            warm_up,
            max_growth,
            home,
            artifacts,
            out,
            json,
        } => {
            let (temporary, home, bin_dir) = run_folders(home)?;
            let duration = Duration::from_secs_f64(hours.max(0.0) * 3600.0);
            let warm_up = warm_up
                .map(|m| Duration::from_secs_f64(m.max(0.0) * 60.0))
                .unwrap_or_else(|| (duration / 10).min(Duration::from_secs(600)));
            let figures = soak::soak(&soak::Soak {
                home: home.clone(),
                validators,
                terminals,
                duration,
                every: Duration::from_secs(every.max(1)),
                warm_up,
                artifacts,
                bin_dir,
                out,
            })
            .await;
            let figures = match figures {
                Ok(f) => f,
                Err(e) => {
                    let _ = temporary.keep();
                    anyhow::bail!("{e:#} (logs in {})", home.join("logs").display());
                }
            };
            println!("{figures}");
            if let Some(path) = json {
                std::fs::write(&path, serde_json::to_vec_pretty(&figures)?)?;
            }
            let over = figures.over(max_growth);
            if !over.is_empty() {
                for p in over {
                    eprintln!(
                        "{} grew {:.1} % (limit {max_growth} %)",
                        p.name, p.growth_percent
                    );
                }
                std::process::exit(1);
            }
        }
        Command::BenchMsgs {
            chain_id,
            contract,
            admin,
            terminals,
            batches,
            now,
            out,
        } => {
            let now = now.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            });
            BenchMsgs::generate(&chain_id, &contract, &admin, terminals, batches, now)?
                .write(&out)?;
            eprintln!("messages written to {}", out.display());
        }
        Command::FullNodeBench {
            validators,
            terminals,
            batches,
            gas_per_batch,
            max_block_gas,
            home,
            artifacts,
            driver,
            driver_args,
        } => {
            let (temporary, home, bin_dir) = run_folders(home)?;
            let bench = FullNodeBench {
                validators,
                terminals,
                batches,
                gas_per_batch,
                max_block_gas,
                home: home.clone(),
                artifacts,
                bin_dir,
                driver,
                driver_args,
            };
            match bench.run().await {
                Ok(true) => {}
                Ok(false) => {
                    let _ = temporary.keep();
                    anyhow::bail!("not every batch committed (logs in {})", home.display());
                }
                Err(e) => {
                    let _ = temporary.keep();
                    anyhow::bail!("{e:#} (logs in {})", home.display());
                }
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
