//! `usage-bank-sim`: the bank of local runs and tests.
//!
//! * `usage-bank-sim run --config bank.toml` serves the bank until SIGTERM or SIGINT;
//! * `usage-bank-sim check --config bank.toml` validates a configuration without starting;
//! * `usage-bank-sim keygen --out bank.key` writes a new signing key (mode 0600);
//! * `usage-bank-sim public-key --config bank.toml` prints the key members and the relayer pin.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use usage_bank_sim::config::{Config, ENV_PREFIX};

#[derive(Parser)]
#[command(
    name = "usage-bank-sim",
    version,
    about = "usagechain bank simulator: customer accounts and the custodial account, ISO 20022 \
        pain.001 in and pain.002/camt.054 out, signed statements, payments only on the \
        committee's approval",
    after_help = "Configuration: a JSON or TOML file (template: \
        relayer-bank/bank-sim/config-template.toml); any key can be overridden from the \
        environment as USAGE_BANK_SIM__<KEY>."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the bank until SIGTERM or SIGINT.
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
    /// Write a new Ed25519 signing key to a new file of mode 0600.
    Keygen {
        /// The key file to create (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the bank's public key (hex) from a configuration's signing key.
    PublicKey {
        /// The configuration file (.json or .toml).
        #[arg(long)]
        config: PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    usage_service::main("usage-bank-sim", async move {
        match cli.command {
            Command::Run { config } => {
                let config: Config = usage_service::config::load(&config, ENV_PREFIX)?;
                usage_bank_sim::run(config).await
            }
            Command::Check { config } => {
                let c: Config = usage_service::config::load(&config, ENV_PREFIX)?;
                println!(
                    "{}: valid (bank {}, custodial account {})",
                    config.display(),
                    c.bic,
                    c.custodial_account
                );
                Ok(())
            }
            Command::Keygen { out } => {
                let seed = usage_service::secret::Secret32::random()?;
                usage_service::secret::write_key(&out, seed.expose())?;
                let key = ed25519_dalek::SigningKey::from_bytes(seed.expose());
                println!("{}", hex::encode(key.verifying_key().as_bytes()));
                Ok(())
            }
            Command::PublicKey { config } => {
                let c: Config = usage_service::config::load(&config, ENV_PREFIX)?;
                let key = usage_service::secret::read_key(&c.signing_key)?;
                let key = ed25519_dalek::SigningKey::from_bytes(key.expose());
                println!("{}", hex::encode(key.verifying_key().as_bytes()));
                Ok(())
            }
        }
    })
    .await
}
