//! `usage`: the command line of usagechain, for what tenants, providers and operators do by
//! hand. Every command answers as text, or as JSON with `-o json`; the node, chain id and
//! contract addresses come from flags, else the client configuration (`usage config`); the node
//! and chain id default to the localnet's. Signing commands take a key of the keyring (`--from NAME`) or a 0600 key
//! file (`--key-file`); no secret is ever given on the command line.

mod config;
mod keys;
mod localnet;
mod proof;
mod tenant;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::{json, Value};
use usage_client::ChainClient;

use crate::config::ClientConfig;

#[derive(Parser)]
#[command(
    name = "usage",
    version,
    about = "The usagechain command line: keys, leases, balances, deposits, withdrawals, \
             proofs, periods, settlements, disputes, receipts and the localnet",
    after_help = "The client configuration is <home>/config.toml (`usage config show`); \
                  `usage localnet up` writes one for its localnet."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// The node's RPC [default: the client configuration's, else http://127.0.0.1:26657].
    #[arg(long, global = true, alias = "rpc")]
    node: Option<String>,
    /// The chain id [default: the client configuration's, else usagechain-local-1].
    #[arg(long, global = true)]
    chain_id: Option<String>,
    /// The client's home: its configuration, keyring and localnet [default: $USAGE_HOME, else
    /// ~/.usage].
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    /// How to print the answer.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// What a command answers: JSON always, and a text rendering for people (the JSON, pretty, if
/// it has none).
pub struct Answer {
    json: Value,
    text: Option<String>,
}

impl Answer {
    pub fn new(json: Value) -> Answer {
        Answer { json, text: None }
    }

    pub fn text(mut self, text: String) -> Answer {
        self.text = Some(text);
        self
    }
}

/// What every command needs: the client configuration and the chain.
pub struct Ctx {
    pub home: PathBuf,
    pub config: ClientConfig,
    pub node: String,
    pub chain_id: String,
}

impl Ctx {
    fn new(global: &Global) -> anyhow::Result<Ctx> {
        let home = config::home(global.home.clone());
        let config = ClientConfig::load(&home)?;
        let node = global
            .node
            .clone()
            .or_else(|| config.node.clone())
            .unwrap_or_else(|| config::DEFAULT_NODE.to_string());
        let chain_id = global
            .chain_id
            .clone()
            .or_else(|| config.chain_id.clone())
            .unwrap_or_else(|| config::DEFAULT_CHAIN_ID.to_string());
        Ok(Ctx {
            home,
            config,
            node,
            chain_id,
        })
    }

    /// A client of the chain signing with nobody.
    pub fn chain(&self) -> anyhow::Result<ChainClient> {
        Ok(ChainClient::new(&self.node, &self.chain_id)?)
    }

    /// The address of contract `label`: `flag`, else the client configuration's.
    pub fn contract(&self, label: &str, flag: Option<String>) -> anyhow::Result<String> {
        flag.or_else(|| self.config.contracts.get(label).map(str::to_string))
            .with_context(|| {
                format!(
                    "no address for the {label} contract: pass it, or set it with \
                     `usage config set contracts.{} ADDRESS`",
                    label.replace('-', "_")
                )
            })
    }

    /// The localnet's working folder.
    pub fn localnet_dir(&self) -> PathBuf {
        self.home.join("localnet")
    }
}

#[derive(Subcommand)]
enum Command {
    /// Runs a whole localnet on this machine and the scenario of every flow on it.
    #[command(subcommand)]
    Localnet(localnet::LocalnetCommand),
    /// The client configuration (node, chain id, contracts).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Keys of the keyring: BIP39 mnemonics on the Cosmos HD path, stored encrypted.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// The node's latest height and block time.
    Status,
    /// A smart query of a contract, JSON in and out.
    Query {
        /// The contract's address.
        #[arg(long)]
        contract: String,
        /// The query message, JSON.
        #[arg(long)]
        msg: String,
    },
    #[command(flatten)]
    Tenant(tenant::TenantCommand),
    /// Verifiable usage receipts: export one (terminal, window) with everything needed to
    /// check it offline, or verify one trusting only a validator set.
    #[command(subcommand)]
    Proof(proof::ProofCommand),
    /// The account address of a key file's secp256k1 key.
    Address {
        /// The key file (mode 0600, 64 hex digits).
        #[arg(long)]
        key_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Prints the configuration and where it is.
    Show,
    /// Sets `node`, `chain_id`, `bank`, `custodial_account`, `keyring` or
    /// `contracts.<usage_proof|period_proof|settlement|ledger|withdrawal>`.
    Set { key: String, value: String },
}

async fn run(cli: Cli) -> anyhow::Result<Answer> {
    let ctx = Ctx::new(&cli.global)?;
    match cli.command {
        Command::Localnet(cmd) => localnet::run(cmd, &ctx.localnet_dir(), &ctx).await,
        Command::Config(ConfigCommand::Show) => Ok(Answer::new(json!({
            "path": ClientConfig::path(&ctx.home),
            "config": ctx.config,
            "node": ctx.node,
            "chain_id": ctx.chain_id,
        }))),
        Command::Config(ConfigCommand::Set { key, value }) => {
            let mut c = ctx.config.clone();
            match key.as_str() {
                "node" => c.node = Some(value),
                "chain_id" | "chain-id" => c.chain_id = Some(value),
                "bank" => c.bank = Some(value),
                "custodial_account" => c.custodial_account = Some(value),
                "keyring" => c.keyring = Some(PathBuf::from(value)),
                other => {
                    let label = other.strip_prefix("contracts.").unwrap_or(other);
                    anyhow::ensure!(
                        c.contracts.set(label, value),
                        "unknown key {other}: node, chain_id, bank, custodial_account, keyring or \
                         contracts.<name>"
                    );
                }
            }
            let path = c.save(&ctx.home)?;
            Ok(Answer::new(json!({"path": path, "config": c}))
                .text(format!("{} updated\n", path.display())))
        }
        Command::Keys(cmd) => Ok(Answer::new(keys::run(cmd, &ctx.keyring_dir())?)),
        Command::Status => {
            let (height, time) = ctx.chain()?.status().await?;
            Ok(
                Answer::new(json!({"chain_id": ctx.chain_id, "node": ctx.node,
                "height": height, "time": time}))
                .text(format!(
                    "{} at {}: height {height}, block time {time}\n",
                    ctx.chain_id, ctx.node
                )),
            )
        }
        Command::Query { contract, msg } => {
            let msg: Value = serde_json::from_str(&msg).context("--msg is not JSON")?;
            let answer: Value = ctx.chain()?.smart(&contract, &msg).await?;
            Ok(Answer::new(answer))
        }
        Command::Tenant(cmd) => tenant::run(cmd, &ctx).await,
        Command::Proof(cmd) => {
            let c1 = ctx.config.contracts.usage_proof.clone();
            Ok(Answer::new(
                proof::run(cmd, &ctx.node, &ctx.chain_id, c1).await?,
            ))
        }
        Command::Address { key_file } => {
            let key = usage_service::secret::read_key(&key_file)?;
            let client = ctx.chain()?.with_key(key.expose())?;
            let address = client.address().unwrap_or_default().to_string();
            Ok(Answer::new(json!({"address": address})).text(format!("{address}\n")))
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let output = cli.global.output;
    match run(cli).await {
        Ok(answer) => {
            match (output, answer.text) {
                (Output::Text, Some(text)) => print!("{text}"),
                (Output::Text, None) | (Output::Json, _) => {
                    let pretty = serde_json::to_string_pretty(&answer.json).unwrap_or_default();
                    println!("{pretty}");
                }
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The secret of keyring key `name` (the passphrase asked for or read from the environment).
pub fn keyring_secret(dir: &std::path::Path, name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(keys::signing_secret(dir, name)?.to_vec())
}

/// The address of keyring key `name` (no passphrase needed).
pub fn keyring_address(dir: &std::path::Path, name: &str) -> anyhow::Result<String> {
    Ok(usage_keyring::Keyring::open(dir)?.show(name)?.address)
}

/// How long a command waits for its transaction's block.
pub const TX_WAIT: Duration = Duration::from_secs(30);
