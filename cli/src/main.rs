//! `usage`: the command line of usagechain.
//!
//! * `usage query --contract ADDR --msg JSON` — a smart query, the answer as JSON.
//! * `usage status` — the node's latest height and block time.
//! * `usage register-fleet --c1 ADDR --admin-secret HEX --provider ADDR --terminals N` — registers
//!   a simulated fleet's terminals (`usage-attestor simulate` with the same `--label`) on C1,
//!   50 per transaction.
//! * `usage open-leases --c1 ADDR --tenant-secret HEX --provider ADDR --terminals N` — the tenant
//!   leases a simulated fleet's terminals on C1 (from `--start`, optionally capped by
//!   `--price-cap`), 50 per transaction signed by the tenant.
//! * `usage address --secret HEX` — the account address of a secp256k1 secret key.
//! * `usage withdraw --withdrawal ADDR --key-file FILE --amount N --beneficiary IBAN` — the
//!   wallet whose key is in FILE (mode 0600, 64 hex digits) asks C5 to pay N minor units of its
//!   balance to its bank account; prints the withdrawal id and the transaction hash as JSON.
//!
//! Every command takes `--rpc` (default `http://127.0.0.1:26657`) and `--chain-id` (default the
//! localnet's).

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_client::ChainClient;
use usage_common::msg::usage_proof::ExecuteMsg as C1Execute;
use usage_sample::simulate::{terminal_id, SimulatedKey};
use usage_sample::tee::{software_measurement, TeeBackend, TeeKind};

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
    /// Lease a simulated fleet's terminals to the tenant whose key signs (C1 `open_lease`).
    OpenLeases {
        /// C1's address.
        #[arg(long)]
        c1: String,
        /// Hex of the tenant's secp256k1 key; the tenant is its account.
        #[arg(long)]
        tenant_secret: String,
        /// The terminals' provider.
        #[arg(long)]
        provider: String,
        #[arg(long, default_value = "sim")]
        label: String,
        #[arg(long)]
        terminals: u64,
        #[arg(long, default_value_t = 0)]
        first: u64,
        /// The leases' first second, a multiple of the window length (0: every window).
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// The most each lease may be billed per period, in the tariff's minor units; the
        /// tenant's balance must then cover its reserve.
        #[arg(long)]
        price_cap: Option<u128>,
    },
    /// Ask C5 to pay part of the signing wallet's balance to its bank account.
    Withdraw {
        /// C5's address.
        #[arg(long)]
        withdrawal: String,
        /// The wallet's secp256k1 key file (mode 0600, 64 hex digits): never the key itself.
        #[arg(long)]
        key_file: std::path::PathBuf,
        /// Minor units.
        #[arg(long)]
        amount: u128,
        /// The bank account to pay (IBAN-like).
        #[arg(long)]
        beneficiary: String,
    },
    /// The account address of a secp256k1 secret key.
    Address {
        /// Hex of the secret key.
        #[arg(long)]
        secret: String,
    },
}

/// Broadcasts `msgs` (contract, JSON) in transactions of 50, then waits for each to be
/// committed; `what` names them in progress lines and errors.
/// Executes `msgs` fifty to a transaction, printing progress; the first refused transaction is
/// the error.
async fn broadcast_in_fifties(
    signer: &ChainClient,
    msgs: Vec<(String, Vec<u8>)>,
    what: &str,
) -> anyhow::Result<()> {
    let total = msgs.len();
    let outcomes = signer
        .execute_in_chunks(
            &msgs,
            50,
            30_000_000,
            Duration::from_secs(120),
            |done, out| eprintln!("  {what}: {done}/{total} (block {})", out.height),
        )
        .await?;
    if let Some(refused) = outcomes.iter().find(|o| !o.is_ok()) {
        anyhow::bail!("{what} refused: {}", refused.log);
    }
    Ok(())
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
            let measurement = software_measurement().0;
            let msgs = (first..first + terminals)
                .map(|i| {
                    let msg = C1Execute::RegisterTerminal {
                        terminal_id: terminal_id(&label, i),
                        provider: provider.clone(),
                        attestor_key: SimulatedKey::derive(&label, i).public_key().into(),
                        tee: TeeKind::Software,
                        measurement: measurement.clone().into(),
                        shared_attestor: false,
                    };
                    Ok((c1.clone(), serde_json::to_vec(&msg)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            broadcast_in_fifties(&admin, msgs, "registrations").await?;
            eprintln!("registered {terminals} terminals of fleet {label:?}");
        }
        Command::OpenLeases {
            c1,
            tenant_secret,
            provider,
            label,
            terminals,
            first,
            start,
            price_cap,
        } => {
            let tenant = client.with_key(&hex::decode(tenant_secret.trim())?)?;
            let msgs = (first..first + terminals)
                .map(|i| {
                    let msg = C1Execute::OpenLease {
                        terminal_id: terminal_id(&label, i),
                        provider: provider.clone(),
                        start,
                        end: None,
                        price_cap: price_cap.map(Uint128::new),
                    };
                    Ok((c1.clone(), serde_json::to_vec(&msg)?))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            broadcast_in_fifties(&tenant, msgs, "leases").await?;
            eprintln!(
                "{} leased {terminals} terminals of fleet {label:?} from {start}",
                tenant.address().unwrap_or_default()
            );
        }
        Command::Withdraw {
            withdrawal,
            key_file,
            amount,
            beneficiary,
        } => {
            use usage_common::msg::withdrawal as c5;
            let key = usage_service::secret::read_key(&key_file)?;
            let wallet = client.with_key(key.expose())?;
            let owner = wallet.address().unwrap_or_default().to_string();
            let out = wallet
                .execute(
                    &withdrawal,
                    &c5::ExecuteMsg::RequestWithdrawal {
                        amount: Uint128::new(amount),
                        beneficiary,
                    },
                    30_000_000,
                    Duration::from_secs(30),
                )
                .await?;
            if !out.is_ok() {
                anyhow::bail!("withdrawal refused: {}", out.log);
            }
            // The owner's newest withdrawal: the last of its pages.
            let (mut id, mut start_after) = (None, None);
            loop {
                let page: c5::WithdrawalsResponse = wallet
                    .smart(
                        &withdrawal,
                        &c5::QueryMsg::Withdrawals {
                            owner: Some(owner.clone()),
                            start_after,
                            limit: Some(100),
                        },
                    )
                    .await?;
                match page.withdrawals.last() {
                    Some(w) => {
                        id = Some(w.withdrawal_id);
                        start_after = id;
                    }
                    None => break,
                }
            }
            println!("{}", json!({"withdrawal_id": id, "tx_hash": out.hash}));
        }
        Command::Address { secret } => {
            let key = client.with_key(&hex::decode(secret.trim())?)?;
            println!("{}", key.address().unwrap_or_default());
        }
    }
    Ok(())
}
