//! `usaged start --home DIR --abci 127.0.0.1:26658`: serves CometBFT's ABCI connections, and
//! with `--api-addr` the REST endpoint wallets and explorers read (`usage_rest`).
//!
//! Logs go to stderr (stdout is the commands' output, such as `init`'s JSON), one line each: a
//! failure is logged with its causes on that line, never as a multi-line dump.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// Smallest fee per unit of gas this node's mempool admits (`0.025ucny`); zero admits
        /// fee-less transactions, as the localnet does.
        #[arg(long, default_value = "0ucny")]
        minimum_gas_prices: String,
        /// Most transactions one sender may have waiting in this node's mempool.
        #[arg(long, default_value_t = usaged::machine::DEFAULT_MAX_PENDING_PER_SENDER)]
        max_pending_per_sender: u64,
        /// Serves the node's Prometheus metrics as `GET /metrics` on this address
        /// (`127.0.0.1:26660`); no metrics server without it.
        #[arg(long)]
        metrics_addr: Option<String>,
        /// Serves the REST endpoint wallets and explorers read (the SDK's gRPC-gateway paths:
        /// accounts, balances, transactions, blocks, contracts) on this address
        /// (`127.0.0.1:1317`), answered from `--rpc-url`; no REST server without it.
        #[arg(long)]
        api_addr: Option<String>,
        /// The CometBFT RPC the REST endpoint reads and broadcasts through.
        #[arg(long, default_value = "http://127.0.0.1:26657")]
        rpc_url: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a log file gets plain lines.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}`: the error and its causes on one line.
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Start {
            home,
            abci,
            minimum_gas_prices,
            max_pending_per_sender,
            metrics_addr,
            api_addr,
            rpc_url,
        } => {
            let node = usaged::machine::NodeConfig {
                min_gas_price: usaged::machine::GasPrice::parse(&minimum_gas_prices)
                    .map_err(|e| anyhow::anyhow!("--minimum-gas-prices: {e}"))?,
                max_pending_per_sender,
            };
            let app = usaged::abci::App::start_with(home.join("app"), node)?;
            if let Some(addr) = metrics_addr {
                let listener = std::net::TcpListener::bind(&addr)
                    .map_err(|e| anyhow::anyhow!("--metrics-addr {addr}: {e}"))?;
                usaged::metrics::serve(listener, app.metrics())?;
                tracing::info!(%addr, "serving metrics");
            }
            if let Some(addr) = api_addr {
                let listener = std::net::TcpListener::bind(&addr)
                    .map_err(|e| anyhow::anyhow!("--api-addr {addr}: {e}"))?;
                let config = usage_rest::Config::new(&rpc_url, usaged_auth::MAX_TX_BYTES);
                usage_rest::spawn(listener, config)
                    .map_err(|e| anyhow::anyhow!("--api-addr {addr}: {e}"))?;
                tracing::info!(%addr, rpc = %rpc_url, "serving the REST endpoint");
            }
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
