//! `usage-attestor`: the terminal agent.
//!
//! * `usage-attestor run --config attestor.json` samples this host for the configured terminals.
//! * `usage-attestor simulate --terminals N --aggregator URL ...` plays a fleet of simulated
//!   terminals with synthetic counters (software TEE keys derived from `--label`).
//! * `usage-attestor fleet-keys --label L --terminals N` prints the simulated terminals' ids and
//!   public keys (JSON lines), for registering them on a chain.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Deserialize;
use tokio::sync::{watch, Notify};
use usage_attestor::agent::{delivery_loop, EvidenceBook};
use usage_attestor::counters;
use usage_attestor::key::SoftwareBackend;
use usage_attestor::outbox::Outbox;
use usage_attestor::probe::{AppCheck, LinkProbe};
use usage_sample::sample::Sample;
use usage_sample::simulate::{terminal_id, SimTerminal, SimulatedKey};
use usage_sample::tee::{SignedSample, TeeBackend};
use usage_sample::terminal::TerminalConfig;
use usage_sample::wire::EvidenceRequest;

#[derive(Parser)]
#[command(name = "usage-attestor", about = "usagechain terminal agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sample this host for the terminals of a configuration file.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Play a fleet of simulated terminals.
    Simulate(SimulateArgs),
    /// Print the simulated fleet's terminal ids and public keys as JSON lines.
    FleetKeys {
        #[arg(long, default_value = "sim")]
        label: String,
        #[arg(long)]
        terminals: u64,
        #[arg(long, default_value_t = 0)]
        first: u64,
    },
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// How many terminals.
    #[arg(long)]
    terminals: u64,
    /// Index of the first terminal.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Fleet label (terminal ids are `<label>-<index>`).
    #[arg(long, default_value = "sim")]
    label: String,
    /// Tenants, assigned round robin.
    #[arg(long, required = true)]
    tenant: Vec<String>,
    /// Aggregator base URLs.
    #[arg(long, required = true)]
    aggregator: Vec<String>,
    /// Where the outbox lives.
    #[arg(long)]
    data_dir: PathBuf,
    /// Milliseconds between samples of each terminal.
    #[arg(long, default_value_t = 1_000)]
    interval_ms: u64,
    /// Stop after this many seconds (runs until interrupted otherwise).
    #[arg(long)]
    seconds: Option<u64>,
}

/// One terminal of the host configuration: a tenant's share of this host. Everything but the
/// application check is attested (see [`HostTerminal::config`]).
#[derive(Deserialize, Debug, Clone)]
struct HostTerminal {
    terminal_id: String,
    tenant: String,
    /// The tenant's cgroup v2 directory (CPU time, memory, I/O).
    #[serde(default)]
    cgroup: Option<PathBuf>,
    /// Interfaces whose traffic is the tenant's (all but `lo` when empty).
    #[serde(default)]
    interfaces: Vec<String>,
    /// The tenant's application health check.
    #[serde(default)]
    app_check: Option<AppCheck>,
}

#[derive(Deserialize, Debug)]
struct HostConfig {
    data_dir: PathBuf,
    aggregators: Vec<String>,
    #[serde(default = "default_interval")]
    interval_ms: u64,
    /// Filesystem whose free space is the idle disk.
    #[serde(default = "default_disk")]
    disk_path: PathBuf,
    terminals: Vec<HostTerminal>,
}

impl HostTerminal {
    /// The attested part of this terminal's configuration. (A JSON path is UTF-8, so the
    /// conversion is exact.)
    fn config(&self) -> TerminalConfig {
        TerminalConfig {
            terminal_id: self.terminal_id.clone(),
            tenant: self.tenant.clone(),
            cgroup: self
                .cgroup
                .as_ref()
                .map(|p| p.to_string_lossy().into_owned()),
            interfaces: self.interfaces.clone(),
        }
    }
}

fn default_interval() -> u64 {
    1_000
}

fn default_disk() -> PathBuf {
    PathBuf::from("/")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

struct Running {
    outbox: Arc<Outbox>,
    pushed: Arc<Notify>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn start_delivery(outbox: Arc<Outbox>, aggregators: &[String], evidence: EvidenceBook) -> Running {
    let (shutdown, rx) = watch::channel(false);
    let pushed = Arc::new(Notify::new());
    let evidence = Arc::new(evidence);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let tasks = aggregators
        .iter()
        .map(|url| {
            tokio::spawn(delivery_loop(
                http.clone(),
                outbox.clone(),
                url.clone(),
                evidence.clone(),
                pushed.clone(),
                rx.clone(),
            ))
        })
        .collect();
    Running {
        outbox,
        pushed,
        shutdown,
        tasks,
    }
}

impl Running {
    fn push(&self, signed: &[SignedSample]) -> anyhow::Result<()> {
        self.outbox.push_all(signed)?;
        self.pushed.notify_waiters();
        Ok(())
    }

    async fn stop(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Sleeps until the next multiple of `interval_ms` (samples of a fleet line up), or returns
/// false when interrupted or the deadline passed.
async fn tick(interval_ms: u64, deadline: Option<u64>) -> bool {
    let now = now_ms();
    let next = (now / interval_ms + 1) * interval_ms;
    if deadline.is_some_and(|d| next > d) {
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(next - now)) => true,
        _ = tokio::signal::ctrl_c() => false,
    }
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let SimulateArgs {
        terminals,
        first,
        label,
        tenant: tenants,
        aggregator: aggregators,
        data_dir,
        interval_ms,
        seconds,
    } = args;
    std::fs::create_dir_all(&data_dir)?;
    let outbox = Arc::new(Outbox::open(&data_dir.join("outbox.redb"), &aggregators)?);
    let mut fleet = Vec::new();
    let mut evidence = EvidenceBook::new();
    for i in first..first + terminals {
        let tenant = &tenants[usize::try_from(i).unwrap_or(0) % tenants.len()];
        let mut t = SimTerminal::new(&label, i, tenant);
        if let Some(last) = outbox.last(&t.terminal_id)? {
            t.resume_from(&last.verify()?);
        }
        evidence.insert(
            t.terminal_id.clone(),
            EvidenceRequest::new(&t.config, &t.key.public_key(), &t.evidence()),
        );
        fleet.push(t);
    }
    tracing::info!(terminals, first, %label, interval_ms, "simulated fleet starting");
    let running = start_delivery(outbox.clone(), &aggregators, evidence);
    let deadline = seconds.map(|s| now_ms() + s * 1_000);
    let mut ticks = 0u64;
    while tick(interval_ms, deadline).await {
        let now = now_ms();
        let mut signed = Vec::with_capacity(fleet.len());
        for t in &mut fleet {
            let seq = outbox.next_seq(&t.terminal_id)?;
            let s = t.sample(seq, now);
            signed.push(SignedSample::sign(&s, &t.key)?);
        }
        running.push(&signed)?;
        ticks += 1;
        if ticks.is_multiple_of(10) {
            tracing::info!(
                ticks,
                samples = ticks * terminals,
                retained = outbox.retained()?,
                "simulating"
            );
        }
    }
    running.stop().await;
    Ok(())
}

/// Monotone cumulative counters across counter resets (a reboot): a reading below the previous
/// raw value adds the previous value to an offset.
#[derive(Default, Clone, Copy)]
struct Monotone {
    offset: u64,
    last_raw: u64,
}

impl Monotone {
    fn next(&mut self, raw: u64) -> u64 {
        if raw < self.last_raw {
            self.offset = self.offset.saturating_add(self.last_raw);
        }
        self.last_raw = raw;
        self.offset.saturating_add(raw)
    }
}

async fn run_host(config: HostConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let backend = SoftwareBackend::open(&config.data_dir.join("terminal.key"))?;
    let outbox = Arc::new(Outbox::open(
        &config.data_dir.join("outbox.redb"),
        &config.aggregators,
    )?);
    let mut evidence = EvidenceBook::new();
    let mut config_hashes = Vec::with_capacity(config.terminals.len());
    for t in &config.terminals {
        let attested = t.config();
        attested
            .validate()
            .with_context(|| format!("terminal {:?}", t.terminal_id))?;
        let hash = attested.hash();
        tracing::info!(terminal = %t.terminal_id, config_hash = %hex::encode(hash),
            "terminal configuration");
        evidence.insert(
            t.terminal_id.clone(),
            EvidenceRequest::new(&attested, &backend.public_key(), &backend.evidence(&hash)),
        );
        config_hashes.push(hash);
    }
    tracing::info!(
        key = %hex::encode(backend.public_key()),
        terminals = config.terminals.len(),
        "attestor starting (software TEE backend)"
    );
    let running = start_delivery(outbox.clone(), &config.aggregators, evidence);
    let http = reqwest::Client::new();
    let mut link = LinkProbe::default();
    let mut prev_cpu = counters::read_proc_stat().ok();
    let mut mono: Vec<[Monotone; 3]> = vec![Default::default(); config.terminals.len()];
    for (i, t) in config.terminals.iter().enumerate() {
        if let Some(last) = outbox.last(&t.terminal_id)? {
            let s = last.verify()?;
            for (m, v) in mono[i]
                .iter_mut()
                .zip([s.net_rx_bytes, s.net_tx_bytes, s.cpu_time_us])
            {
                m.offset = v;
            }
        }
    }
    while tick(config.interval_ms, None).await {
        link.probe(&config.aggregators).await;
        let quality = link.quality();
        let now = now_ms();
        let net = counters::read_net_dev()?;
        let cpu = counters::read_proc_stat()?;
        let idle_cpu = prev_cpu
            .and_then(|p| cpu.idle_permille_since(&p))
            .unwrap_or(0);
        prev_cpu = Some(cpu);
        let mem = counters::read_meminfo()?;
        let idle_disk = counters::free_disk_bytes(&config.disk_path)?;
        let mut signed = vec![];
        for (i, t) in config.terminals.iter().enumerate() {
            let (rx, tx) = net
                .iter()
                .filter(|n| {
                    if t.interfaces.is_empty() {
                        n.name != "lo"
                    } else {
                        t.interfaces.contains(&n.name)
                    }
                })
                .fold((0u64, 0u64), |(r, x), n| {
                    (r.saturating_add(n.rx_bytes), x.saturating_add(n.tx_bytes))
                });
            let (cpu_us, memory, storage) = match &t.cgroup {
                Some(dir) => {
                    let c = counters::read_cgroup(dir)?;
                    let written = c.io.map_or(0, |io| io.write_bytes);
                    (c.cpu_usage_usec, c.memory_bytes, written)
                }
                None => (
                    // USER_HZ is 100: one jiffy is 10 ms.
                    cpu.total.saturating_sub(cpu.idle).saturating_mul(10_000),
                    mem.total_bytes.saturating_sub(mem.available_bytes),
                    0,
                ),
            };
            let app_up = match &t.app_check {
                Some(check) => check.run(&http).await,
                None => true,
            };
            let m = &mut mono[i];
            let sample = Sample {
                terminal_id: t.terminal_id.clone(),
                tenant: t.tenant.clone(),
                config_hash: config_hashes[i],
                seq: outbox.next_seq(&t.terminal_id)?,
                taken_at_ms: now,
                net_rx_bytes: m[0].next(rx),
                net_tx_bytes: m[1].next(tx),
                cpu_time_us: m[2].next(cpu_us),
                memory_bytes: memory,
                storage_bytes: storage,
                idle_cpu_permille: idle_cpu,
                idle_memory_bytes: mem.available_bytes,
                idle_disk_bytes: idle_disk,
                link_rtt_us: quality.rtt_us,
                link_loss_ppm: quality.loss_ppm,
                app_up,
            };
            signed.push(SignedSample::sign(&sample, &backend)?);
        }
        running.push(&signed)?;
    }
    running.stop().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Run { config } => {
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("reading {}", config.display()))?;
            let config: HostConfig = serde_json::from_str(&text).context("attestor config")?;
            run_host(config).await
        }
        Command::Simulate(args) => simulate(args).await,
        Command::FleetKeys {
            label,
            terminals,
            first,
        } => {
            for i in first..first + terminals {
                let key = SimulatedKey::derive(&label, i);
                println!(
                    "{}",
                    serde_json::json!({"terminal_id": terminal_id(&label, i),
                        "attestor_key": hex::encode(key.public_key())})
                );
            }
            Ok(())
        }
    }
}
