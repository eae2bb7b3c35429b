//! `usage-devtools localnet init --home DIR`: writes a one-validator localnet's home (CometBFT's
//! config and genesis with the optimised contracts, and `localnet.json` with its ports and keys).
//! `usage-devtools localnet chain-files --home DIR`: writes what wallets and chain registries read
//! about it (Keplr's chain info, the registry's `chain.json` and `assetlist.json`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use usage_devtools::chain_files::{self, Endpoints};
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
