//! A whole localnet as long-running processes under one working folder, managed across
//! invocations of `usage localnet up | down | status | logs`: the node (`usaged` and CometBFT),
//! four aggregators (threshold 3), the bank simulator, the relayer, the dashboard and a
//! simulated fleet.
//!
//! Every process is started in its own process group with its output in `logs/<name>.log`, and
//! recorded in `services.json` (its pid and the kernel's start time of that pid, so a recycled
//! pid is never taken for it) as soon as it runs; `down` stops them in reverse order (SIGTERM,
//! then SIGKILL after 10 s). A failed `up` stops whatever it had started.
//!
//! The working folder:
//!
//! ```text
//! localnet.json      chain id, ports, contracts, localnet keys (written by `localnet::init`)
//! network.json       the ports of every service and the accounts of the run
//! services.json      the running processes
//! logs/              one log per process
//! cometbft/ app/     the first validator's homes (its REST endpoint: `usaged --api-addr`)
//! validator-<i>/     the other validators' (`--validators N`)
//! keplr-chain-info.json chain.json assetlist.json   what wallets and chain registries read
//! committee/         the members' configurations, keys and data
//! bank/ relayer/     the bank simulator's books and key, the relayer's store and keys
//! fleet/             the simulated fleet's outbox
//! summary.json       the last scenario's summary
//! ```

use std::fs::OpenOptions;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use usage_client::ChainClient;
use usage_common::msg::{settlement as c3, usage_proof as c1};
use usage_common::payload::CommitteeRotation;
use usage_signer::SigningCommittee;

use crate::bank_side::{self, CUSTODIAL};
use crate::committee::committee_configs;
use crate::localnet::{self, LocalnetInfo, Ports, ADMIN_SEED};

/// The label the next committee's deterministic keys derive from (the scenario rotates to it).
pub const NEXT_COMMITTEE_LABEL: &str = "usagechain-localnet-epoch-2";
/// The provider's account at the simulated bank, where its settlements are paid.
pub const PROVIDER_BANK: &str = "CN00PROVIDER0001";
/// The seed of the relayer's chain account (it pays the relayer's transactions).
pub const RELAYER_ACCOUNT_SEED: u8 = 0x73;

/// Where every service of a localnet listens, all on 127.0.0.1.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PortPlan {
    /// The first validator's node; clients use its RPC.
    pub node: Ports,
    pub usaged_metrics: u16,
    /// The first validator's REST endpoint (`usaged start --api-addr`).
    #[serde(default)]
    pub api: u16,
    /// The other validators, if `--validators` asked for more than one.
    #[serde(default)]
    pub more_validators: Vec<ValidatorPorts>,
    pub aggregators: [u16; 4],
    pub aggregator_metrics: [u16; 4],
    pub bank: u16,
    pub bank_metrics: u16,
    pub relayer_metrics: u16,
    pub dashboard: u16,
}

impl Default for PortPlan {
    /// The well-known ports: RPC 26657, aggregators 7001-7004, bank 7200, dashboard 8080.
    fn default() -> Self {
        PortPlan {
            node: Ports::default(),
            usaged_metrics: 26660,
            api: 1317,
            more_validators: vec![],
            aggregators: [7001, 7002, 7003, 7004],
            aggregator_metrics: [7101, 7102, 7103, 7104],
            bank: 7200,
            bank_metrics: 7201,
            relayer_metrics: 7301,
            dashboard: 8080,
        }
    }
}

impl PortPlan {
    /// Ports nothing listened on a moment ago (for tests and side-by-side localnets).
    pub fn free() -> PortPlan {
        let p: [u16; 17] = crate::node::free_ports();
        PortPlan {
            node: Ports {
                rpc: p[0],
                p2p: p[1],
                abci: p[2],
            },
            usaged_metrics: p[3],
            api: p[16],
            more_validators: vec![],
            aggregators: [p[4], p[5], p[6], p[7]],
            aggregator_metrics: [p[8], p[9], p[10], p[11]],
            bank: p[12],
            bank_metrics: p[13],
            relayer_metrics: p[14],
            dashboard: p[15],
        }
    }

    /// The well-known ports for `validators` validators: validator `i` adds `100 * i` to the
    /// first one's (RPC 26757 for the second).
    pub fn default_for(validators: usize) -> PortPlan {
        let mut plan = PortPlan::default();
        plan.more_validators = (1..validators)
            .map(|i| {
                let shift = |port: u16| port + 100 * i as u16;
                ValidatorPorts {
                    node: Ports {
                        rpc: shift(plan.node.rpc),
                        p2p: shift(plan.node.p2p),
                        abci: shift(plan.node.abci),
                    },
                    usaged_metrics: shift(plan.usaged_metrics),
                    api: shift(plan.api),
                }
            })
            .collect();
        plan
    }

    /// Free ports for `validators` validators.
    pub fn free_for(validators: usize) -> PortPlan {
        let mut plan = PortPlan::free();
        plan.more_validators = (1..validators)
            .map(|_| {
                let [rpc, p2p, abci, metrics, api] = crate::node::free_ports();
                ValidatorPorts {
                    node: Ports { rpc, p2p, abci },
                    usaged_metrics: metrics,
                    api,
                }
            })
            .collect();
        // Free ports are drawn one batch at a time: a clash between batches starts over.
        let mut all: Vec<u16> = plan.all().into_iter().map(|(_, p)| p).collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        if all.len() != count {
            return PortPlan::free_for(validators);
        }
        plan
    }

    /// Every validator's ports, the first one's first.
    pub fn validators(&self) -> Vec<ValidatorPorts> {
        let mut all = vec![ValidatorPorts {
            node: self.node,
            usaged_metrics: self.usaged_metrics,
            api: self.api,
        }];
        all.extend(self.more_validators.iter().copied());
        all
    }

    fn all(&self) -> Vec<(String, u16)> {
        let mut all = vec![
            ("CometBFT RPC".to_string(), self.node.rpc),
            ("CometBFT P2P".to_string(), self.node.p2p),
            ("usaged ABCI".to_string(), self.node.abci),
            ("usaged metrics".to_string(), self.usaged_metrics),
            ("usaged REST".to_string(), self.api),
            ("bank".to_string(), self.bank),
            ("bank metrics".to_string(), self.bank_metrics),
            ("relayer metrics".to_string(), self.relayer_metrics),
            ("dashboard".to_string(), self.dashboard),
        ];
        for (i, v) in self.more_validators.iter().enumerate() {
            let i = i + 1;
            all.push((format!("validator {i} CometBFT RPC"), v.node.rpc));
            all.push((format!("validator {i} CometBFT P2P"), v.node.p2p));
            all.push((format!("validator {i} usaged ABCI"), v.node.abci));
            all.push((format!("validator {i} usaged metrics"), v.usaged_metrics));
            all.push((format!("validator {i} usaged REST"), v.api));
        }
        for i in 0..4 {
            all.push((format!("aggregator {i}"), self.aggregators[i]));
            all.push((
                format!("aggregator {i} metrics"),
                self.aggregator_metrics[i],
            ));
        }
        all
    }

    /// Refuses ports something already listens on, naming them.
    fn check_free(&self) -> anyhow::Result<()> {
        let busy: Vec<String> = self
            .all()
            .into_iter()
            .filter(|(_, port)| TcpListener::bind(("127.0.0.1", *port)).is_err())
            .map(|(what, port)| format!("{port} ({what})"))
            .collect();
        if !busy.is_empty() {
            bail!(
                "ports in use: {} — another localnet? (`usage localnet down`, or `--ports free`)",
                busy.join(", ")
            );
        }
        Ok(())
    }
}

/// One validator's ports: its node's, its application's metrics and REST endpoint.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatorPorts {
    pub node: Ports,
    pub usaged_metrics: u16,
    pub api: u16,
}

/// The names of validator `index`'s two processes: `usaged` and `cometbft` for the first,
/// `usaged-<i>` and `cometbft-<i>` for the others.
pub fn validator_services(index: usize) -> (String, String) {
    if index == 0 {
        ("usaged".into(), "cometbft".into())
    } else {
        (format!("usaged-{index}"), format!("cometbft-{index}"))
    }
}

/// A tenant of the localnet: its name, its key (from a published mnemonic: a localnet key,
/// never to be used elsewhere) and its bank account.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Tenant {
    pub name: String,
    pub address: String,
    /// Its BIP39 mnemonic (`usage keys add NAME --recover` takes it).
    pub mnemonic: String,
    /// Hex of its secp256k1 secret, derived from the mnemonic on m/44'/118'/0'/0/0.
    pub secret_hex: String,
    pub bank_account: String,
}

impl Tenant {
    /// The localnet's tenant `index` (0: tenant-a, 1: tenant-b): its mnemonic is the one of the
    /// 32-byte entropy `0x7a + index`.
    pub fn localnet(index: u8) -> anyhow::Result<Tenant> {
        let entropy = [0x7a_u8.wrapping_add(index); 32];
        let phrase = bip39::Mnemonic::from_entropy(&entropy)
            .map_err(|e| anyhow::anyhow!("mnemonic: {e}"))?
            .to_string();
        let key = usage_keyring::Mnemonic::parse(&phrase)?.derive("")?;
        let letter = char::from(b'a' + index);
        Ok(Tenant {
            name: format!("tenant-{letter}"),
            address: key.address().to_string(),
            mnemonic: phrase,
            secret_hex: hex::encode(key.secret().as_slice()),
            bank_account: format!("CN00TENANT{}000001", letter.to_ascii_uppercase()),
        })
    }
}

/// What a localnet is made of (`network.json`).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct NetworkInfo {
    pub ports: PortPlan,
    pub terminals: u64,
    /// The provider of every terminal: the localnet admin.
    pub provider: String,
    pub tenants: Vec<Tenant>,
    pub bank_url: String,
    pub bank_public_key: String,
    pub relayer_config: PathBuf,
    pub dashboard: Option<String>,
}

/// One process of the localnet (`services.json`).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Service {
    pub name: String,
    pub pid: u32,
    /// The kernel's start time of `pid` (clock ticks after boot), so a recycled pid is not
    /// mistaken for it.
    pub started: u64,
    pub log: PathBuf,
    /// Where it serves, if it does.
    pub url: Option<String>,
    /// Its Prometheus metrics, if it has them.
    pub metrics: Option<String>,
}

impl Service {
    /// Whether the process still runs (not exited, not a zombie, not another process that got
    /// its pid).
    pub fn is_running(&self) -> bool {
        matches!(proc_stat(self.pid), Some((state, started)) if state != 'Z' && started == self.started)
    }
}

/// The state letter and start time of process `pid` (`/proc/<pid>/stat`).
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields after it.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 of the line is the start time; `rest` starts at field 3.
    let started = fields.get(19)?.parse().ok()?;
    Some((state, started))
}

/// The processes of a localnet in its working folder.
pub struct Services {
    home: PathBuf,
    pub list: Vec<Service>,
}

impl Services {
    fn path(home: &Path) -> PathBuf {
        home.join("services.json")
    }

    /// The processes recorded in `home` (none if nothing was started there).
    pub fn load(home: &Path) -> anyhow::Result<Services> {
        let path = Services::path(home);
        let list = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a services file", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Services {
            home: home.to_path_buf(),
            list,
        })
    }

    fn save(&self) -> anyhow::Result<()> {
        let path = Services::path(&self.home);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.list)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(())
    }

    /// The log file of service `name`.
    pub fn log_path(home: &Path, name: &str) -> PathBuf {
        home.join("logs").join(format!("{name}.log"))
    }

    /// Starts `cmd` as service `name`: in its own process group (a Ctrl-C in the terminal that
    /// ran `up` does not reach it), no input, its output appended to `logs/<name>.log`.
    pub fn spawn(
        &mut self,
        name: &str,
        mut cmd: Command,
        url: Option<String>,
        metrics: Option<String>,
    ) -> anyhow::Result<&Service> {
        if let Some(old) = self.get(name) {
            if old.is_running() {
                bail!("{name} already runs (pid {})", old.pid);
            }
            // Started again (a restarted validator): the record of the dead process goes.
            self.list.retain(|s| s.name != name);
        }
        std::fs::create_dir_all(self.home.join("logs"))?;
        let log = Services::log_path(&self.home, name);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .with_context(|| format!("opening {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .process_group(0);
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "info");
        }
        // No service needs the command line's keyring passphrase.
        cmd.env_remove("USAGE_KEYRING_PASSPHRASE")
            .env_remove("USAGE_KEYRING_PASSPHRASE_FILE");
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        let pid = child.id();
        let Some((_, started)) = proc_stat(pid) else {
            bail!(
                "{name} (pid {pid}) exited at once; the end of {}:\n{}",
                log.display(),
                tail(&log, 30)
            );
        };
        self.list.push(Service {
            name: name.to_string(),
            pid,
            started,
            log,
            url,
            metrics,
        });
        self.save()?;
        let last = self.list.len() - 1;
        Ok(&self.list[last])
    }

    /// Sends `signal` (`KILL`, `STOP`, `CONT`, …) to service `name`'s process group.
    pub fn signal(&self, name: &str, signal_name: &str) -> anyhow::Result<()> {
        let service = self
            .get(name)
            .with_context(|| format!("no service {name}"))?;
        if !service.is_running() {
            bail!("{name} is not running");
        }
        signal(service.pid, signal_name)
    }

    /// The service called `name`.
    pub fn get(&self, name: &str) -> Option<&Service> {
        self.list.iter().find(|s| s.name == name)
    }

    /// Fails with the tail of `name`'s log unless it still runs.
    pub fn check_running(&self, name: &str) -> anyhow::Result<()> {
        match self.get(name) {
            Some(s) if s.is_running() => Ok(()),
            Some(s) => bail!(
                "{name} exited; the end of {}:\n{}",
                s.log.display(),
                tail(&s.log, 30)
            ),
            None => bail!("{name} was never started"),
        }
    }

    /// Stops every service, the last started first: SIGTERM to its process group, then SIGKILL
    /// for one still running after `grace`. Returns each service's name and how it stopped; a
    /// service that could not be stopped stays recorded, and is the error.
    pub fn stop_all(&mut self, grace: Duration) -> anyhow::Result<Vec<(String, Stopped)>> {
        let mut report = vec![];
        let mut left = vec![];
        while let Some(s) = self.list.pop() {
            match stop(&s, grace) {
                Ok(how) => report.push((s.name.clone(), how)),
                Err(e) => {
                    report.push((s.name.clone(), Stopped::StillRunning));
                    left.push((s, e));
                }
            }
        }
        self.list = left.iter().rev().map(|(s, _)| s.clone()).collect();
        self.save()?;
        if let Some((s, e)) = left.first() {
            bail!("{} (pid {}) could not be stopped: {e:#}", s.name, s.pid);
        }
        Ok(report)
    }
}

/// How a service stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// It was not running any more.
    NotRunning,
    /// It exited after SIGTERM.
    Terminated,
    /// It ignored SIGTERM and was killed.
    Killed,
    /// Not even SIGKILL stopped it (it stays recorded).
    StillRunning,
}

/// Sends `signal` (`TERM`, `KILL`) to the process group `pid` leads (each service is started
/// as the leader of its own group) with kill(1).
fn signal(pid: u32, signal: &str) -> anyhow::Result<()> {
    let out = Command::new("kill")
        .arg("-s")
        .arg(signal)
        .arg("--")
        .arg(format!("-{pid}"))
        .output()
        .context("running kill(1)")?;
    // A group already gone is not a failure.
    if !out.status.success() && proc_stat(pid).is_some() {
        bail!(
            "kill -s {signal} -- -{pid}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn stop(s: &Service, grace: Duration) -> anyhow::Result<Stopped> {
    if !s.is_running() {
        return Ok(Stopped::NotRunning);
    }
    signal(s.pid, "TERM")?;
    let sent = Instant::now();
    while sent.elapsed() < grace {
        if !s.is_running() {
            return Ok(Stopped::Terminated);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Checked again just before: never a SIGKILL to a pid that is no longer this service's.
    if !s.is_running() {
        return Ok(Stopped::Terminated);
    }
    signal(s.pid, "KILL")?;
    while sent.elapsed() < grace + Duration::from_secs(5) {
        if !s.is_running() {
            return Ok(Stopped::Killed);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("still running after SIGKILL")
}

/// The last `lines` lines of a log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn is_listening(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// What `up` does.
pub struct Up {
    pub home: PathBuf,
    pub chain_id: String,
    pub terminals: u64,
    pub ports: PortPlan,
    /// The folder of the optimised contracts.
    pub artifacts: PathBuf,
    /// Where the services' binaries are.
    pub bin_dir: PathBuf,
    /// Also run a real attestor sampling this host as terminal `host-1`, leased by the first
    /// tenant.
    pub attestor: bool,
    /// How validator `i` reaches validator `j`'s P2P port: `links[i][j]`, a port relaying to it
    /// (the fault tests cut these). `None`: directly.
    pub p2p_links: Option<Vec<Vec<u16>>>,
    /// The gas a block may use (and so a transaction), if not the chain's default
    /// ([`usaged::genesis::MAX_BLOCK_GAS`]).
    pub max_block_gas: Option<u64>,
}

/// A running localnet.
pub struct Network {
    pub home: PathBuf,
    pub localnet: LocalnetInfo,
    pub info: NetworkInfo,
    pub services: Services,
}

impl Network {
    /// The localnet in `home` as its files describe it.
    pub fn open(home: &Path) -> anyhow::Result<Network> {
        let localnet = LocalnetInfo::read(home)?;
        let path = home.join("network.json");
        let info: NetworkInfo = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )?;
        Ok(Network {
            home: home.to_path_buf(),
            localnet,
            info,
            services: Services::load(home)?,
        })
    }

    pub fn rpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.info.ports.node.rpc)
    }

    /// Every validator's RPC, the first one's first.
    pub fn validator_rpc_urls(&self) -> Vec<String> {
        self.info
            .ports
            .validators()
            .iter()
            .map(|v| format!("http://127.0.0.1:{}", v.node.rpc))
            .collect()
    }

    /// A client of the chain (signing with nobody).
    pub fn chain(&self) -> anyhow::Result<ChainClient> {
        Ok(ChainClient::new(&self.rpc_url(), &self.localnet.chain_id)?)
    }

    /// The address of the contract labelled `label`.
    pub fn contract(&self, label: &str) -> anyhow::Result<String> {
        Ok(self.localnet.contract(label)?.to_string())
    }

    /// The members' base URLs.
    pub fn member_urls(&self) -> Vec<String> {
        self.info
            .ports
            .aggregators
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect()
    }

    /// Whether any of its processes runs.
    pub fn any_running(&self) -> bool {
        self.services.list.iter().any(Service::is_running)
    }
}

/// Prints one line of progress to stderr.
fn step(what: &str) {
    eprintln!("  {what}");
}

impl Up {
    /// Initialises the working folder and starts every service; on any failure stops what it
    /// started and returns the error.
    pub async fn run(&self) -> anyhow::Result<Network> {
        if self.home.join("localnet.json").exists() {
            bail!(
                "{} already holds a localnet: `usage localnet down --purge` removes it",
                self.home.display()
            );
        }
        self.ports.check_free()?;
        std::fs::create_dir_all(&self.home)?;
        let mut services = Services::load(&self.home)?;
        match self.start(&mut services).await {
            Ok(network) => Ok(network),
            Err(e) => {
                eprintln!(
                    "  stopping what was started (logs stay in {})",
                    self.home.display()
                );
                let _ = services.stop_all(Duration::from_secs(5));
                Err(e)
            }
        }
    }

    fn bin(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.bin_dir.join(name);
        if !path.exists() {
            bail!(
                "{} is not built (cargo build --workspace --bins)",
                path.display()
            );
        }
        Ok(path)
    }

    /// Starts validator `index`'s application, then its CometBFT node once the application
    /// listens (CometBFT exits if it cannot connect to it). Also what restarts a stopped one.
    pub async fn start_validator(
        &self,
        services: &mut Services,
        index: usize,
    ) -> anyhow::Result<()> {
        let v = self
            .ports
            .validators()
            .get(index)
            .copied()
            .with_context(|| format!("the localnet has no validator {index}"))?;
        let home = localnet::validator_home(&self.home, index);
        let (usaged_name, cometbft_name) = validator_services(index);
        let mut usaged = Command::new(self.bin("usaged")?);
        usaged
            .args(["start", "--abci"])
            .arg(format!("127.0.0.1:{}", v.node.abci))
            .arg("--metrics-addr")
            .arg(format!("127.0.0.1:{}", v.usaged_metrics))
            .arg("--api-addr")
            .arg(format!("127.0.0.1:{}", v.api))
            .arg("--rpc-url")
            .arg(format!("http://127.0.0.1:{}", v.node.rpc))
            .arg("--home")
            .arg(&home);
        services.spawn(
            &usaged_name,
            usaged,
            Some(format!("http://127.0.0.1:{}", v.api)),
            Some(format!("http://127.0.0.1:{}/metrics", v.usaged_metrics)),
        )?;
        wait_until(services, &usaged_name, Duration::from_secs(120), || {
            is_listening(v.node.abci)
        })
        .await?;
        let mut cometbft = Command::new(localnet::cometbft_binary());
        cometbft
            .arg("start")
            .arg("--home")
            .arg(home.join("cometbft"));
        services.spawn(
            &cometbft_name,
            cometbft,
            Some(format!("http://127.0.0.1:{}", v.node.rpc)),
            None,
        )?;
        Ok(())
    }

    /// Initialises the working folder and starts the validators alone (no committee, no bank,
    /// no relayers); on any failure stops what it started and returns the error.
    pub async fn run_chain(&self) -> anyhow::Result<(LocalnetInfo, Services)> {
        if self.home.join("localnet.json").exists() {
            bail!("{} already holds a localnet", self.home.display());
        }
        self.ports.check_free()?;
        std::fs::create_dir_all(&self.home)?;
        let mut services = Services::load(&self.home)?;
        match self.start_chain(&mut services).await {
            Ok(info) => Ok((info, services)),
            Err(e) => {
                let _ = services.stop_all(Duration::from_secs(5));
                Err(e)
            }
        }
    }

    /// Writes the validators' homes and genesis, starts them and waits for height 2.
    async fn start_chain(&self, services: &mut Services) -> anyhow::Result<LocalnetInfo> {
        let home = &self.home;
        let ports = &self.ports;
        let validators = ports.validators();
        let node_ports: Vec<Ports> = validators.iter().map(|v| v.node).collect();
        let dial = |i: usize, j: usize| match &self.p2p_links {
            Some(links) => links[i][j],
            None => node_ports[j].p2p,
        };
        if let Some(links) = &self.p2p_links {
            if links.len() != validators.len() || links.iter().any(|l| l.len() != validators.len())
            {
                bail!("p2p_links must be a {0} x {0} matrix", validators.len());
            }
        }
        let info =
            localnet::init_validators(home, &self.chain_id, &self.artifacts, &node_ports, &dial)?;
        if let Some(gas) = self.max_block_gas {
            for index in 0..validators.len() {
                let path =
                    localnet::validator_home(home, index).join("cometbft/config/genesis.json");
                let mut genesis: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&path)?)?;
                let params = &mut genesis["app_state"]["params"];
                params["max_block_gas"] = gas.into();
                params["max_tx_gas"] = gas.into();
                std::fs::write(&path, serde_json::to_vec_pretty(&genesis)?)?;
            }
        }
        step(&format!(
            "genesis written: chain {}, {} validator(s), five contracts, committee of 4 (threshold 3)",
            info.chain_id,
            validators.len()
        ));

        // Every validator before waiting for blocks: consensus needs more than 2/3 of them.
        for index in 0..validators.len() {
            self.start_validator(services, index).await?;
        }
        let rpc = format!("http://127.0.0.1:{}", ports.node.rpc);
        let chain = ChainClient::new(&rpc, &info.chain_id)?;
        wait_until_async(services, "cometbft", Duration::from_secs(60), || async {
            matches!(chain.status().await, Ok((h, _)) if h >= 2)
        })
        .await?;
        // What wallets and chain registries read about it: Keplr's chain info, chain.json and
        // assetlist.json.
        let endpoints =
            crate::chain_files::Endpoints::new(&rpc, &format!("http://127.0.0.1:{}", ports.api))?;
        crate::chain_files::write(home, &info, &endpoints)?;
        if validators.len() == 1 {
            step(&format!(
                "node producing blocks, RPC {rpc}, REST http://127.0.0.1:{}",
                ports.api
            ));
        } else {
            step(&format!(
                "{} validators producing blocks, RPC {}",
                validators.len(),
                validators
                    .iter()
                    .map(|v| format!("127.0.0.1:{}", v.node.rpc))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(info)
    }

    async fn start(&self, services: &mut Services) -> anyhow::Result<Network> {
        let home = &self.home;
        let ports = &self.ports;
        let info = self.start_chain(services).await?;
        let validators = ports.validators();
        let rpc = format!("http://127.0.0.1:{}", ports.node.rpc);

        // The bank, then the members that check its statements.
        let (bank_config, bank_key) = bank_side::bank_config(
            &info,
            &home.join("bank"),
            ports.bank,
            Some(ports.bank_metrics),
        )?;
        let bank_url = format!("http://127.0.0.1:{}", ports.bank);
        let mut bank = Command::new(self.bin("usage-bank-sim")?);
        bank.args(["run", "--config"]).arg(&bank_config);
        services.spawn(
            "bank-sim",
            bank,
            Some(bank_url.clone()),
            Some(format!("http://127.0.0.1:{}/metrics", ports.bank_metrics)),
        )?;
        wait_until(services, "bank-sim", Duration::from_secs(30), || {
            is_listening(ports.bank)
        })
        .await?;

        let committee_home = home.join("committee");
        std::fs::create_dir_all(&committee_home)?;
        let mut configs = committee_configs(
            &info,
            &committee_home,
            &ports.aggregators,
            &ports.aggregator_metrics,
        );
        // Each data-processing centre reads and writes through a validator of its own, as
        // they would run them (round robin when there are fewer validators than members).
        for (i, c) in configs.iter_mut().enumerate() {
            c.rpc = format!(
                "http://127.0.0.1:{}",
                validators[i % validators.len()].node.rpc
            );
        }
        let next = SigningCommittee::deterministic(NEXT_COMMITTEE_LABEL, 2, 4, 3);
        let rotation = CommitteeRotation {
            new_epoch: 2,
            threshold: 3,
            members: next.member_keys(),
        };
        for (i, c) in configs.iter_mut().enumerate() {
            c.settlement = Some(info.contract("settlement")?.to_string());
            c.ledger = Some(info.contract("ledger")?.to_string());
            c.withdrawal = Some(info.contract("withdrawal")?.to_string());
            c.bank = Some(usage_aggregator::config::BankLink {
                url: bank_url.clone(),
                public_key: bank_key.clone(),
            });
            // Each member already holds its key of the next epoch and its operator's approval
            // of the rotation the scenario makes.
            let next_key = committee_home.join(format!("aggregator-{i}-next-bls.key"));
            usage_service::secret::write_key(&next_key, &next.members[i].to_bytes())?;
            c.next_bls_keys = vec![next_key];
            c.approved_rotation = Some(rotation.clone());
        }
        for (i, c) in configs.iter().enumerate() {
            let path = committee_home.join(format!("aggregator-{i}.json"));
            std::fs::write(&path, serde_json::to_vec_pretty(c)?)?;
            let mut cmd = Command::new(self.bin("usage-aggregator")?);
            cmd.args(["run", "--config"]).arg(&path);
            services.spawn(
                &format!("aggregator-{i}"),
                cmd,
                Some(format!("http://{}", c.listen)),
                c.metrics_listen
                    .as_ref()
                    .map(|m| format!("http://{m}/metrics")),
            )?;
        }
        for (i, port) in ports.aggregator_metrics.iter().enumerate() {
            wait_until(
                services,
                &format!("aggregator-{i}"),
                Duration::from_secs(60),
                || is_listening(*port),
            )
            .await?;
        }
        step(&format!(
            "four aggregators serving on {}",
            ports
                .aggregators
                .iter()
                .map(|p| format!("127.0.0.1:{p}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));

        let members: Vec<String> = configs
            .iter()
            .map(|c| format!("http://{}", c.listen))
            .collect();
        let relayer_config = bank_side::relayer_config_for(
            &info,
            &members,
            (&bank_url, &bank_key),
            &home.join("relayer"),
            RELAYER_ACCOUNT_SEED,
            Some(ports.relayer_metrics),
        )?;
        let mut relayer = Command::new(self.bin("usage-relayer")?);
        relayer.args(["run", "--config"]).arg(&relayer_config);
        let relayer_log = services
            .spawn(
                "relayer",
                relayer,
                None,
                Some(format!(
                    "http://127.0.0.1:{}/metrics",
                    ports.relayer_metrics
                )),
            )?
            .log
            .clone();
        wait_until(services, "relayer", Duration::from_secs(30), || {
            std::fs::read_to_string(&relayer_log)
                .unwrap_or_default()
                .contains("relayer running")
        })
        .await?;
        step(&format!("bank simulator on {bank_url}, relayer running"));

        let dashboard = match self.bin("usage-dashboard") {
            Ok(bin) => {
                let url = format!("http://127.0.0.1:{}", ports.dashboard);
                let mut cmd = Command::new(bin);
                cmd.arg("--listen")
                    .arg(format!("127.0.0.1:{}", ports.dashboard))
                    .args(["--rpc", &rpc, "--chain-id", &info.chain_id])
                    .arg("--localnet")
                    .arg(home.join("localnet.json"));
                services.spawn(
                    "dashboard",
                    cmd,
                    Some(url.clone()),
                    Some(format!("{url}/metrics")),
                )?;
                wait_until(services, "dashboard", Duration::from_secs(30), || {
                    is_listening(ports.dashboard)
                })
                .await?;
                step(&format!("dashboard on {url}"));
                Some(url)
            }
            Err(_) => None,
        };

        // The provider (the localnet admin) registers its fleet and names its bank account;
        // two tenants lease the terminals (round robin).
        let admin = ChainClient::new(&rpc, &info.chain_id)?.with_key(&ADMIN_SEED)?;
        let c1_address = info.contract("usage-proof")?.to_string();
        crate::fleet::try_register_terminals(
            &admin,
            &c1_address,
            &info.admin_address,
            self.terminals,
        )
        .await?;
        let out = admin
            .execute(
                info.contract("settlement")?,
                &c3::ExecuteMsg::SetPayeeAccount {
                    account: PROVIDER_BANK.into(),
                },
                20_000_000,
                Duration::from_secs(30),
            )
            .await?;
        if !out.is_ok() {
            bail!("naming the provider's payee account: {}", out.log);
        }
        step(&format!(
            "provider {} registered {} terminals (sim-00000…) and its bank account {PROVIDER_BANK}",
            info.admin_address, self.terminals
        ));
        let mut tenants = vec![];
        let mut clients = vec![];
        for index in 0..2 {
            let tenant = Tenant::localnet(index)?;
            let client = ChainClient::new(&rpc, &info.chain_id)?
                .with_key(&hex::decode(&tenant.secret_hex)?)?;
            tenants.push(tenant);
            clients.push(client);
        }
        crate::fleet::try_lease_terminals(
            &c1_address,
            &info.admin_address,
            &clients,
            self.terminals,
        )
        .await?;
        for t in &tenants {
            step(&format!("{} ({}) leased its terminals", t.name, t.address));
        }

        let fleet = crate::fleet::Simulator {
            terminals: self.terminals,
            tenants: tenants.iter().map(|t| t.address.clone()).collect(),
            aggregators: members.clone(),
            interval_ms: None,
            seconds: None,
        };
        services.spawn(
            "fleet",
            fleet.command(&self.bin("usage-attestor")?, home),
            None,
            None,
        )?;
        step(&format!(
            "simulated fleet of {} terminals sampling",
            self.terminals
        ));
        if self.attestor {
            self.start_attestor(services, &admin, &info, &clients[0], &tenants[0], &members)
                .await?;
        }

        let network_info = NetworkInfo {
            ports: ports.clone(),
            terminals: self.terminals,
            provider: info.admin_address.clone(),
            tenants,
            bank_url,
            bank_public_key: bank_key,
            relayer_config,
            dashboard,
        };
        std::fs::write(
            home.join("network.json"),
            serde_json::to_vec_pretty(&network_info)?,
        )?;
        Ok(Network {
            home: home.clone(),
            localnet: info,
            info: network_info,
            services: Services::load(home)?,
        })
    }
}

impl Up {
    /// A real attestor on this host: terminal `host-1` (software TEE, its key in
    /// `attestor/terminal.key`), registered for the provider and leased by `tenant`.
    async fn start_attestor(
        &self,
        services: &mut Services,
        admin: &ChainClient,
        info: &LocalnetInfo,
        tenant_client: &ChainClient,
        tenant: &Tenant,
        members: &[String],
    ) -> anyhow::Result<()> {
        let dir = self.home.join("attestor");
        std::fs::create_dir_all(&dir)?;
        let key_path = dir.join("terminal.key");
        // A localnet key: the agent would create one itself, but the chain must know it first.
        let secret = [0x5a_u8; 32];
        if !key_path.exists() {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path)?
                .write_all(&secret)?;
        }
        let public = ed25519_dalek::SigningKey::from_bytes(&secret)
            .verifying_key()
            .to_bytes();
        let c1_address = info.contract("usage-proof")?;
        let register = c1::ExecuteMsg::RegisterTerminal {
            terminal_id: "host-1".into(),
            provider: info.admin_address.clone(),
            attestor_key: cosmwasm_std::HexBinary::from(public.to_vec()),
            tee: usage_sample::tee::TeeKind::Software,
            measurement: cosmwasm_std::HexBinary::from(usage_sample::tee::software_measurement().0),
            shared_attestor: false,
        };
        let out = admin
            .execute(c1_address, &register, 20_000_000, Duration::from_secs(30))
            .await?;
        if !out.is_ok() {
            bail!("registering host-1: {}", out.log);
        }
        let lease = c1::ExecuteMsg::OpenLease {
            terminal_id: "host-1".into(),
            provider: info.admin_address.clone(),
            start: 0,
            end: None,
            price_cap: None,
        };
        let out = tenant_client
            .execute(c1_address, &lease, 20_000_000, Duration::from_secs(30))
            .await?;
        if !out.is_ok() {
            bail!("leasing host-1: {}", out.log);
        }
        let config = dir.join("attestor.json");
        let value = serde_json::json!({
            "data_dir": dir,
            "aggregators": members,
            "interval_ms": 1000,
            "terminals": [{"terminal_id": "host-1", "tenant": tenant.address}],
        });
        std::fs::write(&config, serde_json::to_vec_pretty(&value)?)?;
        let mut cmd = Command::new(self.bin("usage-attestor")?);
        cmd.args(["run", "--config"]).arg(&config);
        services.spawn("attestor", cmd, None, None)?;
        step(&format!(
            "attestor sampling this host as terminal host-1, leased by {}",
            tenant.name
        ));
        Ok(())
    }
}

/// Waits until `ready` holds, failing with its log if service `name` exits or `limit` passes.
async fn wait_until(
    services: &Services,
    name: &str,
    limit: Duration,
    mut ready: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    wait_until_async(services, name, limit, || std::future::ready(ready())).await
}

async fn wait_until_async<F, Fut>(
    services: &Services,
    name: &str,
    limit: Duration,
    mut ready: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if ready().await {
            return Ok(());
        }
        services.check_running(name)?;
        if started.elapsed() > limit {
            let log = Services::log_path(&services.home, name);
            bail!(
                "{name} not ready within {limit:?}; the end of {}:\n{}",
                log.display(),
                tail(&log, 30)
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether C1 has recorded a batch of committee epoch `epoch`.
pub async fn has_batch_of_epoch(chain: &ChainClient, c1: &str, epoch: u64) -> anyhow::Result<bool> {
    let config: c1::ConfigResponse = chain.smart(c1, &c1::QueryMsg::Config {}).await?;
    // The newest batches first: the rotation's epoch shows on the latest ones.
    let mut id = config.next_batch_id;
    let mut looked = 0;
    while id > 1 && looked < 20 {
        id -= 1;
        looked += 1;
        let b: c1::BatchResponse = chain
            .smart(c1, &c1::QueryMsg::Batch { batch_id: id })
            .await?;
        if b.batch.is_some_and(|b| b.epoch == epoch) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The bank's custodial account, for summaries.
pub fn custodial_account() -> &'static str {
    CUSTODIAL
}
