//! `usaged start --home DIR --abci 127.0.0.1:26658`: serves CometBFT's ABCI connections.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "usaged",
    version,
    about = "The usagechain application for CometBFT v0.38"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serves ABCI on `--abci` with the state under `--home`.
    Start {
        #[arg(long)]
        home: PathBuf,
        #[arg(long, default_value = "127.0.0.1:26658")]
        abci: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Start { home, abci } => {
            let app = usaged::abci::App::start(home.join("app"))?;
            tracing::info!(%abci, "serving ABCI");
            let server = tendermint_abci::ServerBuilder::new(1 << 20)
                .bind(abci, app)
                .map_err(|e| anyhow::anyhow!("bind: {e}"))?;
            server
                .listen()
                .map_err(|e| anyhow::anyhow!("listen: {e}"))?;
        }
    }
    Ok(())
}
