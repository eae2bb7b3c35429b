//! `usage-relayer`: the chain ↔ bank relayer.
//!
//! * `usage-relayer run --config relayer.toml` relays until SIGTERM or SIGINT;
//! * `usage-relayer check --config relayer.toml` validates a configuration without starting;
//! * `usage-relayer reconcile --config relayer.toml` compares the custodial account with the
//!   chain and prints any difference (exit status 1 if there is one);
//! * `usage-relayer parked --config relayer.toml` lists credits whose reference named no address.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use usage_relayer::config::{Config, ENV_PREFIX};

#[derive(Parser)]
#[command(
    name = "usage-relayer",
    version,
    about = "usagechain relayer: settlement and withdrawal payments to the bank (pain.001) and \
        the bank's bookings back on chain as committee-signed vouchers, deposits credited, \
        exactly once",
    after_help = "Configuration: a JSON or TOML file (template: \
        relayer-bank/relayer/config-template.toml); any key can be overridden from the \
        environment as USAGE_RELAYER__<KEY>."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Relay until SIGTERM or SIGINT.
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
    /// Compare the custodial account's booked balance with the chain; exit 1 on a difference.
    Reconcile {
        /// The configuration file (.json or .toml).
        #[arg(long)]
        config: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the credits at the bank whose reference names no chain address (never credited).
    Parked {
        /// The configuration file (.json or .toml).
        #[arg(long)]
        config: PathBuf,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let mut differs = false;
    let code = usage_service::main("usage-relayer", async {
        match cli.command {
            Command::Run { config } => {
                usage_relayer::run(usage_service::config::load(&config, ENV_PREFIX)?).await
            }
            Command::Check { config } => {
                let c: Config = usage_service::config::load(&config, ENV_PREFIX)?;
                println!(
                    "{}: valid (bank {}, {} members)",
                    config.display(),
                    c.bank.url,
                    c.members.len()
                );
                Ok(())
            }
            Command::Reconcile { config, json } => {
                let c: Config = usage_service::config::load(&config, ENV_PREFIX)?;
                let r = usage_relayer::context(&c, false)?.reconcile().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&r)?);
                } else {
                    println!(
                        "custodial balance at the bank    {:>20}",
                        r.custodial_balance
                    );
                    println!("on chain (available + locked)    {:>20}", r.chain_total);
                    println!(
                        "paid, not yet recorded on chain  {:>20}",
                        r.paid_not_recorded
                    );
                    println!(
                        "credited, not yet on chain       {:>20}",
                        r.credited_not_deposited
                    );
                    println!("difference                       {:>20}", r.difference);
                }
                differs = r.difference != 0;
                Ok(())
            }
            Command::Parked { config } => {
                let c: Config = usage_service::config::load(&config, ENV_PREFIX)?;
                let r = usage_relayer::context(&c, false)?.reconcile().await?;
                for p in r.parked {
                    println!("{}", serde_json::to_string(&p)?);
                }
                Ok(())
            }
        }
    })
    .await;
    if differs {
        std::process::ExitCode::FAILURE
    } else {
        code
    }
}
