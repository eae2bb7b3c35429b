//! `usage`: the command line of usagechain.
//!
//! * `usage query --contract ADDR --msg JSON` — a smart query, the answer as JSON.
//! * `usage status` — the node's latest height and block time.
//! * `usage register-fleet --c1 ADDR --admin-secret HEX --provider ADDR --terminals N` — registers
//!   a simulated fleet's terminals (`usage-attestor simulate` with the same `--label`) on C1,
//!   50 per transaction.
//!
//! Every command takes `--rpc` (default `http://127.0.0.1:26657`) and `--chain-id` (default the
//! localnet's).

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};
use usage_attestor::simulate::{terminal_id, SimulatedKey};
use usage_attestor::tee::{software_measurement, TeeBackend};
use usage_client::ChainClient;

#[derive(Parser)]
#[command(name = "usage", about = "usagechain command line")]
struct Cli {
    /// The node's RPC.
    #[arg(long, global = true, default_value = "http://127.0.0.1:26657")]
    rpc: String,
    /// The chain id.
    #[arg(long, global = true, default_value = "usagechain-local-1")]
    chain_id: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A smart query of a contract.
    Query {
        #[arg(long)]
        contract: String,
        /// The query message, JSON.
        #[arg(long)]
        msg: String,
    },
    /// The latest height and block time.
    Status,
    /// Register a simulated fleet's terminals on C1 (software TEE, the software measurement).
    RegisterFleet {
        #[arg(long)]
        c1: String,
        /// Hex of the C1 admin's secp256k1 key.
        #[arg(long)]
        admin_secret: String,
        /// The provider the terminals belong to.
        #[arg(long)]
        provider: String,
        #[arg(long, default_value = "sim")]
        label: String,
        #[arg(long)]
        terminals: u64,
        #[arg(long, default_value_t = 0)]
        first: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let client = ChainClient::new(&cli.rpc, &cli.chain_id)?;
    match cli.command {
        Command::Query { contract, msg } => {
            let msg: Value = serde_json::from_str(&msg).context("--msg is not JSON")?;
            let answer: Value = client.smart(&contract, &msg).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        Command::Status => {
            let (height, time) = client.status().await?;
            println!("{}", json!({"height": height, "time": time}));
        }
        Command::RegisterFleet {
            c1,
            admin_secret,
            provider,
            label,
            terminals,
            first,
        } => {
            let admin = client.with_key(&hex::decode(admin_secret.trim())?)?;
            let measurement = hex::encode(software_measurement().0);
            let ids: Vec<u64> = (first..first + terminals).collect();
            let mut hashes = vec![];
            for chunk in ids.chunks(50) {
                let msgs = chunk
                    .iter()
                    .map(|i| {
                        let msg = json!({"register_terminal": {
                            "terminal_id": terminal_id(&label, *i),
                            "provider": provider,
                            "attestor_key": hex::encode(SimulatedKey::derive(&label, *i).public_key()),
                            "tee": "software",
                            "measurement": measurement}});
                        Ok((c1.clone(), serde_json::to_vec(&msg)?))
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                hashes.push(admin.broadcast(&msgs, 30_000_000).await?);
            }
            for hash in hashes {
                let out = admin.wait_tx(&hash, Duration::from_secs(120)).await?;
                anyhow::ensure!(out.is_ok(), "registration refused: {}", out.log);
            }
            eprintln!("registered {terminals} terminals of fleet {label:?}");
        }
    }
    Ok(())
}
