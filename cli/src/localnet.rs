//! `usage localnet up | down | status | logs | chain-files`: a whole localnet on this machine,
//! every service a process under one working folder (see `usage_devtools::network`), and what
//! wallets and chain registries read about it (see `usage_devtools::chain_files`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};
use usage_devtools::chain_files::{self, Endpoints};
use usage_devtools::localnet::LocalnetInfo;
use usage_devtools::network::{Network, PortPlan, Services, Up};
use usage_devtools::scenario::{self, Progress};

use crate::config::ClientConfig;
use crate::{Answer, Ctx};

#[derive(Subcommand)]
pub enum LocalnetCommand {
    /// Starts a localnet (one validator or more, four aggregators with threshold 3, the bank simulator,
    /// the relayer, the dashboard and a simulated fleet) and runs the scenario of every flow on
    /// it; the localnet keeps running until `usage localnet down`.
    Up {
        /// The chain id.
        #[arg(long, default_value = "usagechain-local-1")]
        chain_id: String,
        /// Validators, each a CometBFT node with its own usaged (the second one's RPC is 26757,
        /// and so on); the aggregators use them round robin.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=7))]
        validators: u16,
        /// Simulated terminals (sim-00000…), leased round robin by two tenants.
        #[arg(long, default_value_t = 8)]
        terminals: u64,
        /// `default`: RPC 26657, aggregators 7001-7004, bank 7200, dashboard 8080; `free`: any
        /// free ports (several localnets side by side).
        #[arg(long, value_enum, default_value_t = PortChoice::Default)]
        ports: PortChoice,
        /// Also run a real attestor sampling this host (terminal host-1, leased by tenant-a).
        #[arg(long)]
        attestor: bool,
        /// Start the services only; no scenario.
        #[arg(long)]
        no_scenario: bool,
        /// Stop everything once the scenario has run (its summary stays in the folder).
        #[arg(long)]
        down_after: bool,
        /// The contracts' optimised wasm (built by scripts/build-wasm.sh) [default:
        /// $USAGECHAIN_ARTIFACTS, else the repository's artifacts folder].
        #[arg(long)]
        artifacts: Option<PathBuf>,
    },
    /// Stops every service of the localnet (SIGTERM, SIGKILL after 10 s).
    Down {
        /// Also delete the working folder (chain, books, keys, logs).
        #[arg(long)]
        purge: bool,
    },
    /// Each service: running or not, where it serves, its metrics; the chain's height.
    Status,
    /// The end of a service's log (all services' when none is named).
    Logs {
        /// usaged, cometbft (usaged-1, cometbft-1… for the other validators), aggregator-0…3,
        /// bank-sim, relayer, dashboard or fleet.
        service: Option<String>,
        /// How many lines.
        #[arg(long, short = 'n', default_value_t = 40)]
        lines: usize,
        /// Keep printing what is appended (one service).
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// Writes what wallets and chain registries read about the localnet: Keplr's chain info
    /// (keplr-chain-info.json, for `window.keplr.experimentalSuggestChain`) and the chain
    /// registry's chain.json and assetlist.json. The ledger's balance is a CW20 token in both.
    ChainFiles {
        /// The folder to write them into [default: the localnet's folder].
        #[arg(long)]
        out: Option<PathBuf>,
        /// The node's RPC as wallets reach it [default: http://127.0.0.1:<the localnet's RPC
        /// port>].
        #[arg(long)]
        rpc_url: Option<String>,
        /// The node's REST (LCD) API as wallets reach it [default: the localnet's, else
        /// http://127.0.0.1:1317].
        #[arg(long)]
        rest_url: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PortChoice {
    Default,
    Free,
}

/// Runs `cmd` on the localnet in `dir`; what to print.
pub async fn run(cmd: LocalnetCommand, dir: &Path, ctx: &Ctx) -> anyhow::Result<Answer> {
    match cmd {
        LocalnetCommand::Up {
            chain_id,
            validators,
            terminals,
            ports,
            no_scenario,
            down_after,
            artifacts,
            attestor,
        } => {
            let bin_dir = std::env::current_exe()?
                .parent()
                .context("the binary's folder")?
                .to_path_buf();
            let up = Up {
                home: dir.to_path_buf(),
                chain_id,
                terminals,
                ports: match ports {
                    PortChoice::Default => PortPlan::default_for(validators.into()),
                    PortChoice::Free => PortPlan::free_for(validators.into()),
                },
                artifacts: artifacts.unwrap_or_else(usage_common::contracts::artifacts_dir),
                bin_dir,
                attestor,
                p2p_links: None,
                max_block_gas: None,
            };
            eprintln!("starting a localnet in {}", dir.display());
            let net = up.run().await?;
            if let Some(path) = write_client_config(ctx, &net)? {
                eprintln!(
                    "  client configuration for this localnet: {}",
                    path.display()
                );
            }
            if no_scenario {
                return Ok(status(&net).await);
            }
            eprintln!("\nrunning the scenario: every flow on the live system (about 4 minutes)");
            let outcome = scenario::run(&net, &Progress::default()).await;
            let mut net = net;
            if down_after {
                net.services.stop_all(Duration::from_secs(10))?;
            }
            let summary = outcome?;
            let mut text = summary.to_string();
            if !down_after {
                text.push_str(
                    "\nthe localnet keeps running: `usage localnet status`, \
                     `usage localnet logs <service>`, `usage localnet down`\n",
                );
            }
            if !summary.all_ok() {
                println!("{text}");
                bail!("a flow failed or the books differ: see the summary above and the logs");
            }
            Ok(Answer::new(serde_json::to_value(&summary)?).text(text))
        }
        LocalnetCommand::Down { purge } => {
            let holds_localnet =
                dir.join("localnet.json").exists() || dir.join("services.json").exists();
            if !holds_localnet {
                anyhow::ensure!(
                    !(purge && dir.exists()),
                    "{} holds no localnet: not deleting it",
                    dir.display()
                );
                return Ok(Answer::new(json!({"stopped": [], "purged": false}))
                    .text(format!("no localnet in {}\n", dir.display())));
            }
            let mut services = Services::load(dir)?;
            let stopped = services.stop_all(Duration::from_secs(10))?;
            for (name, how) in &stopped {
                eprintln!("  {name:<13} {how:?}");
            }
            if purge && dir.exists() {
                anyhow::ensure!(
                    services.list.is_empty(),
                    "not deleting {}: some services could not be stopped",
                    dir.display()
                );
                std::fs::remove_dir_all(dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
                eprintln!("removed {}", dir.display());
            }
            Ok(Answer::new(json!({"stopped": stopped, "purged": purge})).text(String::new()))
        }
        LocalnetCommand::Status => {
            let net = Network::open(dir)?;
            Ok(status(&net).await)
        }
        LocalnetCommand::Logs {
            service,
            lines,
            follow,
        } => logs(dir, service.as_deref(), lines, follow).await,
        LocalnetCommand::ChainFiles {
            out,
            rpc_url,
            rest_url,
        } => write_chain_files(dir, out, rpc_url, rest_url),
    }
}

/// Writes the chain files of the localnet in `dir`.
fn write_chain_files(
    dir: &Path,
    out: Option<PathBuf>,
    rpc_url: Option<String>,
    rest_url: Option<String>,
) -> anyhow::Result<Answer> {
    let info = LocalnetInfo::read(dir)?;
    let mut default = Endpoints::localnet(&info)?;
    // A localnet of `usage localnet up` knows its REST port (it may be a free one).
    if let Ok(net) = Network::open(dir) {
        default = Endpoints::new(
            &net.rpc_url(),
            &format!("http://127.0.0.1:{}", net.info.ports.api),
        )?;
    }
    let endpoints = Endpoints::new(
        rpc_url.as_deref().unwrap_or(default.rpc()),
        rest_url.as_deref().unwrap_or(default.rest()),
    )?;
    let out = out.unwrap_or_else(|| dir.to_path_buf());
    let files = chain_files::write(&out, &info, &endpoints)?;
    let mut text = String::new();
    for f in &files {
        text += &format!("wrote {}\n", f.display());
    }
    text += &format!(
        "Keplr: pass {} to window.keplr.experimentalSuggestChain; the ledger's balance shows as {} \
         (CW20 {})\n",
        chain_files::KEPLR_CHAIN_INFO_FILE,
        usage_devtools::localnet::CURRENCY,
        info.contract("ledger")?
    );
    Ok(Answer::new(json!({
        "chain_id": info.chain_id,
        "rpc": endpoints.rpc(),
        "rest": endpoints.rest(),
        "files": files,
    }))
    .text(text))
}

/// Points the client configuration at the localnet, unless it names another chain.
fn write_client_config(ctx: &Ctx, net: &Network) -> anyhow::Result<Option<PathBuf>> {
    let chain_id = &net.localnet.chain_id;
    // Only a configuration of no chain yet, or of this localnet's, is (re)written.
    let untouched = ctx.config.node.is_none() && ctx.config.chain_id.is_none();
    if !untouched && ctx.config.chain_id.as_ref() != Some(chain_id) {
        return Ok(None);
    }
    let mut c = ClientConfig {
        node: Some(net.rpc_url()),
        chain_id: Some(chain_id.clone()),
        bank: Some(net.info.bank_url.clone()),
        custodial_account: Some(usage_devtools::bank_side::CUSTODIAL.to_string()),
        keyring: ctx.config.keyring.clone(),
        ..ClientConfig::default()
    };
    for (label, address) in &net.localnet.contracts {
        c.contracts.set(label, address.clone());
    }
    Ok(Some(c.save(&ctx.home)?))
}

/// Each service's state and the chain's height.
async fn status(net: &Network) -> Answer {
    let height = match net.chain() {
        Ok(c) => c.status().await.ok().map(|(h, _)| h),
        Err(_) => None,
    };
    let services: Vec<Value> = net
        .services
        .list
        .iter()
        .map(|s| {
            json!({"name": s.name, "running": s.is_running(), "pid": s.pid, "url": s.url,
                "metrics": s.metrics, "log": s.log})
        })
        .collect();
    let mut text = format!(
        "localnet {} in {}: height {}\n",
        net.localnet.chain_id,
        net.home.display(),
        height.map_or("unknown (node not answering)".to_string(), |h| h
            .to_string())
    );
    for s in &net.services.list {
        text += &format!(
            "  {:<13} {:<8} pid {:<8} {:<28} {}\n",
            s.name,
            if s.is_running() { "running" } else { "stopped" },
            s.pid,
            s.url.as_deref().unwrap_or("-"),
            s.metrics.as_deref().unwrap_or("")
        );
    }
    if let Some(d) = &net.info.dashboard {
        text += &format!("dashboard {d}\n");
    }
    Answer::new(
        json!({"chain_id": net.localnet.chain_id, "height": height, "home": net.home,
        "services": services, "dashboard": net.info.dashboard}),
    )
    .text(text)
}

async fn logs(
    dir: &Path,
    service: Option<&str>,
    lines: usize,
    follow: bool,
) -> anyhow::Result<Answer> {
    let services = Services::load(dir)?;
    let chosen: Vec<_> = match service {
        Some(name) => {
            let s = services.get(name).with_context(|| {
                let names: Vec<&str> = services.list.iter().map(|s| s.name.as_str()).collect();
                format!("no service {name}; the services: {}", names.join(", "))
            })?;
            vec![s.clone()]
        }
        None => services.list.clone(),
    };
    if follow {
        let [s] = chosen.as_slice() else {
            bail!("--follow needs one service");
        };
        return follow_log(&s.log).await;
    }
    let mut out = serde_json::Map::new();
    let mut text = String::new();
    for s in &chosen {
        let tail = usage_devtools::network::tail(&s.log, lines);
        if chosen.len() > 1 {
            text += &format!("==> {} ({}) <==\n", s.name, s.log.display());
        }
        text += &tail;
        text.push('\n');
        out.insert(s.name.clone(), json!(tail));
    }
    Ok(Answer::new(Value::Object(out)).text(text))
}

/// Prints what is appended to `path` until interrupted.
async fn follow_log(path: &Path) -> anyhow::Result<Answer> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut pos = f.seek(SeekFrom::End(0))?;
    loop {
        let len = f.metadata()?.len();
        if len > pos {
            f.seek(SeekFrom::Start(pos))?;
            let mut buf = String::new();
            f.read_to_string(&mut buf)?;
            print!("{buf}");
            pos = len;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
