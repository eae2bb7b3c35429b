//! `usage-dashboard`: the web dashboard of a usagechain deployment.
//!
//! `usage-dashboard --listen 127.0.0.1:8080 --rpc http://127.0.0.1:26657 --localnet
//! ~/.cache/usagechain/localnet/localnet.json` serves the page until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use usage_dashboard::config::{ContractArgs, RawSettings};

#[derive(Parser)]
#[command(
    name = "usage-dashboard",
    version,
    about = "usagechain dashboard for providers and tenants: terminals and leases, usage per \
        terminal and tenant, period proofs and disputes, settlements, balances and withdrawals, \
        live from the chain",
    after_help = "Endpoints: GET / (the page), GET /api/overview (JSON), GET /api/events \
        (server-sent events per new height), GET /metrics. Contracts come from --localnet FILE \
        or from the five --usage-proof, --period-proof, --settlement, --ledger and --withdrawal \
        addresses (which override the file's)."
)]
struct Cli {
    /// Address to serve on; only loopback addresses unless --public is given.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Serve on a non-loopback address too (the page shows every account's balance).
    #[arg(long)]
    public: bool,
    /// The node's RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:26657")]
    rpc: String,
    /// The chain id (read from --localnet when absent).
    #[arg(long)]
    chain_id: Option<String>,
    /// A localnet's localnet.json, naming its chain id and contracts.
    #[arg(long)]
    localnet: Option<PathBuf>,
    /// C1 usage-proof address.
    #[arg(long)]
    usage_proof: Option<String>,
    /// C2 period-proof address.
    #[arg(long)]
    period_proof: Option<String>,
    /// C3 settlement address.
    #[arg(long)]
    settlement: Option<String>,
    /// C4 ledger address.
    #[arg(long)]
    ledger: Option<String>,
    /// C5 withdrawal address.
    #[arg(long)]
    withdrawal: Option<String>,
    /// How many of the latest windows usage totals and charts cover.
    #[arg(long, default_value_t = 30)]
    windows: u64,
    /// How often the node's latest height is polled, milliseconds.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    usage_service::main("usage-dashboard", async move {
        let settings = RawSettings {
            listen: cli.listen,
            public: cli.public,
            rpc: cli.rpc,
            chain_id: cli.chain_id,
            localnet: cli.localnet,
            contracts: ContractArgs {
                usage_proof: cli.usage_proof,
                period_proof: cli.period_proof,
                settlement: cli.settlement,
                ledger: cli.ledger,
                withdrawal: cli.withdrawal,
            },
            windows: cli.windows,
            poll_ms: cli.poll_ms,
        }
        .resolve()?;
        usage_dashboard::run(settings).await
    })
    .await
}
