//! `usage-devtools localnet init --home DIR`: writes a one-validator localnet's home (CometBFT's
//! config and genesis with the optimised contracts, and `localnet.json` with its ports and keys).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use usage_devtools::localnet::{self, Ports};

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
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
    }
    Ok(())
}
