//! Sampling a real host (`usage-attestor run`): the host configuration file, the counters each
//! terminal is attributed, and the loop that signs one sample per terminal per tick and hands it
//! to delivery.
//!
//! The loop's arithmetic lives in [`Sampler`], which reads its counters through a
//! [`CounterSource`] so that it can be driven by fixed readings in tests; [`run_host`] feeds it
//! the kernel's ([`ProcCounters`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use thiserror::Error;
use tokio_util::sync::CancellationToken;
use usage_sample::sample::{now_ms, Sample, SampleError};
use usage_sample::tee::{SignatureError, SignedSample, TeeBackend};
use usage_sample::terminal::{ConfigError, TerminalConfig};
use usage_sample::wire::EvidenceRequest;
use usage_service::config::{http_url, socket_addr, Invalid, Validate};

use crate::agent::{Delivery, EvidenceBook};
use crate::counters::{self, CgroupUsage, CounterError, CpuTimes, InterfaceCounters, MemInfo};
use crate::key::{KeyError, SoftwareBackend};
use crate::outbox::{Outbox, OutboxError};
use crate::probe::{AppCheck, LinkProbe, LinkQuality};

/// The kernel's clock tick when `sysconf` cannot tell: `USER_HZ` is 100 on every Linux ABI.
pub const DEFAULT_USER_HZ: u64 = 100;

/// Why the agent stopped.
#[derive(Error, Debug)]
pub enum RunError {
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A terminal of the host configuration is invalid.
    #[error("terminal {terminal_id:?}: {source}")]
    Terminal {
        /// The terminal.
        terminal_id: String,
        /// What is wrong with it.
        source: ConfigError,
    },
    /// Samples are taken on a schedule of `interval_ms`; zero is no schedule.
    #[error("interval_ms must be positive")]
    ZeroInterval,
    /// A simulated fleet needs at least one tenant to assign its terminals to.
    #[error("a simulated fleet needs at least one tenant")]
    NoTenants,
    /// The terminal key could not be loaded or created.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A host counter could not be read.
    #[error(transparent)]
    Counter(#[from] CounterError),
    /// A sample could not be encoded for signing.
    #[error(transparent)]
    Sample(#[from] SampleError),
    /// The last sample in the outbox, which counters resume from, does not verify.
    #[error("last stored sample: {0}")]
    Stored(#[from] SignatureError),
}

/// One terminal of the host configuration: a tenant's share of this host. Everything but the
/// application check is attested (see [`HostTerminal::config`]).
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct HostTerminal {
    /// The terminal's id.
    pub terminal_id: String,
    /// The tenant billed for it.
    pub tenant: String,
    /// The tenant's cgroup v2 directory (CPU time, memory, I/O).
    #[serde(default)]
    pub cgroup: Option<PathBuf>,
    /// Interfaces whose traffic is the tenant's (all but `lo` when empty).
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// The tenant's application health check.
    #[serde(default)]
    pub app_check: Option<AppCheck>,
}

impl HostTerminal {
    /// The attested part of this terminal's configuration. (A JSON path is UTF-8, so the
    /// conversion is exact.)
    pub fn config(&self) -> TerminalConfig {
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

    /// Whether traffic of the interface `name` is this terminal's.
    fn counts_interface(&self, name: &str) -> bool {
        if self.interfaces.is_empty() {
            name != "lo"
        } else {
            self.interfaces.iter().any(|i| i == name)
        }
    }
}

/// The prefix of the configuration's environment overrides (`USAGE_ATTESTOR__INTERVAL_MS=…`).
pub const ENV_PREFIX: &str = "USAGE_ATTESTOR";

/// The agent's configuration file (`usage-attestor run --config`, JSON or TOML; template:
/// `attestor/config-template.toml`). Unknown keys are refused.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Where the metrics are served (`GET /metrics`); none if unset.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// Where the terminal key and the outbox live.
    pub data_dir: PathBuf,
    /// Aggregator base URLs, each delivered to independently.
    pub aggregators: Vec<String>,
    /// Milliseconds between samples.
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
    /// Filesystem whose free space is the idle disk.
    #[serde(default = "default_disk")]
    pub disk_path: PathBuf,
    /// The terminals this host is shared into.
    pub terminals: Vec<HostTerminal>,
}

fn default_interval() -> u64 {
    1_000
}

fn default_disk() -> PathBuf {
    PathBuf::from("/")
}

impl Validate for HostConfig {
    fn validate(&self) -> Result<(), Invalid> {
        if let Some(m) = &self.metrics_listen {
            socket_addr("metrics_listen", m)?;
        }
        if self.aggregators.is_empty() {
            return Err(Invalid::new(
                "aggregators",
                "must name at least one aggregator",
            ));
        }
        for (i, a) in self.aggregators.iter().enumerate() {
            http_url(&format!("aggregators[{i}]"), a)?;
        }
        if self.terminals.is_empty() {
            return Err(Invalid::new("terminals", "must name at least one terminal"));
        }
        for (i, t) in self.terminals.iter().enumerate() {
            t.config()
                .validate()
                .map_err(|e| Invalid::new(format!("terminals[{i}]"), e.to_string()))?;
        }
        if self.interval_ms == 0 {
            return Err(Invalid::new("interval_ms", "must be above 0"));
        }
        Ok(())
    }
}

/// The agent's metrics, registered as `usage_attestor_…` (with `usage_attestor_build_info`).
#[derive(Debug, Clone)]
pub struct AttestorMetrics {
    /// Samples signed and put in the outbox.
    pub samples_signed: Counter,
    /// One sampling tick: reading the counters, probing, signing and storing, seconds.
    pub tick_seconds: Histogram,
}

impl AttestorMetrics {
    /// The metrics and the registry that exposes them.
    pub fn new() -> (Self, Registry) {
        let mut registry =
            usage_service::metrics::registry("usage_attestor", env!("CARGO_PKG_VERSION"));
        let m = AttestorMetrics {
            samples_signed: Counter::default(),
            tick_seconds: Histogram::new(usage_service::metrics::latency_buckets()),
        };
        registry.register(
            "samples_signed",
            "Samples signed and stored in the outbox.",
            m.samples_signed.clone(),
        );
        registry.register(
            "tick_seconds",
            "One sampling tick: reading the counters, probing, signing and storing.",
            m.tick_seconds.clone(),
        );
        (m, registry)
    }
}

impl HostConfig {
    /// The attested configuration of every terminal, in order, each checked against the limits
    /// an aggregator enforces; the first invalid terminal is named in the error. A zero
    /// `interval_ms` is refused as well.
    pub fn attested(&self) -> Result<Vec<TerminalConfig>, RunError> {
        if self.interval_ms == 0 {
            return Err(RunError::ZeroInterval);
        }
        self.terminals
            .iter()
            .map(|t| {
                let attested = t.config();
                attested.validate().map_err(|source| RunError::Terminal {
                    terminal_id: t.terminal_id.clone(),
                    source,
                })?;
                Ok(attested)
            })
            .collect()
    }
}

/// Monotone cumulative counters across counter resets (a reboot): a reading below the previous
/// raw value adds the previous value to an offset.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Monotone {
    offset: u64,
    last_raw: u64,
}

impl Monotone {
    /// A counter continuing from `offset`, the value last reported (before a restart of the
    /// agent): the next raw reading is added to it.
    pub fn resuming_at(offset: u64) -> Self {
        Self {
            offset,
            last_raw: 0,
        }
    }

    /// The cumulative value for the raw reading `raw`.
    pub fn next(&mut self, raw: u64) -> u64 {
        if raw < self.last_raw {
            self.offset = self.offset.saturating_add(self.last_raw);
        }
        self.last_raw = raw;
        self.offset.saturating_add(raw)
    }
}

/// The kernel's clock tick (`USER_HZ`, the unit of `/proc/stat`), or [`DEFAULT_USER_HZ`] if
/// `sysconf` does not know it.
#[allow(unsafe_code)] // sysconf(3): std has no safe wrapper
pub fn user_hz() -> u64 {
    // SAFETY: sysconf only reads a configuration value; it has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(hz)
        .ok()
        .filter(|&hz| hz > 0)
        .unwrap_or(DEFAULT_USER_HZ)
}

/// Microseconds in `ticks` clock ticks of `hz` per second, saturating.
fn ticks_to_us(ticks: u64, hz: u64) -> u64 {
    let us = u128::from(ticks) * 1_000_000 / u128::from(hz.max(1));
    u64::try_from(us).unwrap_or(u64::MAX)
}

/// Where the host's counters come from: the kernel ([`ProcCounters`]) or fixed readings.
pub trait CounterSource {
    /// Per-interface traffic (`/proc/net/dev`).
    fn net_dev(&self) -> Result<Vec<InterfaceCounters>, CounterError>;
    /// Host CPU time in clock ticks (`/proc/stat`).
    fn proc_stat(&self) -> Result<CpuTimes, CounterError>;
    /// Host memory (`/proc/meminfo`).
    fn meminfo(&self) -> Result<MemInfo, CounterError>;
    /// Free bytes of the filesystem holding `path`.
    fn free_disk_bytes(&self, path: &Path) -> Result<u64, CounterError>;
    /// A cgroup v2 directory's usage.
    fn cgroup(&self, dir: &Path) -> Result<CgroupUsage, CounterError>;
}

/// The running kernel's counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcCounters;

impl CounterSource for ProcCounters {
    fn net_dev(&self) -> Result<Vec<InterfaceCounters>, CounterError> {
        counters::read_net_dev()
    }

    fn proc_stat(&self) -> Result<CpuTimes, CounterError> {
        counters::read_proc_stat()
    }

    fn meminfo(&self) -> Result<MemInfo, CounterError> {
        counters::read_meminfo()
    }

    fn free_disk_bytes(&self, path: &Path) -> Result<u64, CounterError> {
        counters::free_disk_bytes(path)
    }

    fn cgroup(&self, dir: &Path) -> Result<CgroupUsage, CounterError> {
        counters::read_cgroup(dir)
    }
}

/// What one tick reads once for the whole host.
#[derive(Debug, Clone)]
pub struct HostReading {
    /// When the tick's samples are taken.
    pub taken_at_ms: u64,
    /// The link to the aggregators.
    pub link: LinkQuality,
    net: Vec<InterfaceCounters>,
    cpu: CpuTimes,
    mem: MemInfo,
    idle_cpu_permille: u16,
    idle_disk_bytes: u64,
}

/// A terminal's raw usage counters at one tick, before they are made monotone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalUsage {
    /// Received bytes on its interfaces.
    pub rx_bytes: u64,
    /// Sent bytes on its interfaces.
    pub tx_bytes: u64,
    /// CPU time, microseconds (its cgroup's, or the host's busy time).
    pub cpu_time_us: u64,
    /// Memory in use (its cgroup's, or the host's total less available).
    pub memory_bytes: u64,
    /// Bytes written by its cgroup (0 without one).
    pub storage_bytes: u64,
}

/// Turns counter readings into the samples of a host's terminals: attributes traffic, CPU and
/// memory to each terminal, keeps the cumulative counters monotone across reboots and restarts,
/// and derives the idle CPU share from consecutive readings.
#[derive(Debug)]
pub struct Sampler {
    terminals: Vec<HostTerminal>,
    config_hashes: Vec<[u8; 32]>,
    disk_path: PathBuf,
    user_hz: u64,
    prev_cpu: Option<CpuTimes>,
    /// Per terminal: received bytes, sent bytes, CPU time.
    mono: Vec<[Monotone; 3]>,
}

impl Sampler {
    /// A sampler for `config`'s terminals, whose attested configurations hash to
    /// `config_hashes` (in the same order); `prev_cpu` is the host CPU reading before the first
    /// tick, if any, and `user_hz` the unit of its counters.
    pub fn new(
        config: &HostConfig,
        config_hashes: Vec<[u8; 32]>,
        prev_cpu: Option<CpuTimes>,
        user_hz: u64,
    ) -> Self {
        Self {
            mono: vec![[Monotone::default(); 3]; config.terminals.len()],
            terminals: config.terminals.clone(),
            config_hashes,
            disk_path: config.disk_path.clone(),
            user_hz,
            prev_cpu,
        }
    }

    /// The terminals sampled, in order.
    pub fn terminals(&self) -> &[HostTerminal] {
        &self.terminals
    }

    /// Continues terminal `i`'s cumulative counters from its last stored sample.
    pub fn resume(&mut self, i: usize, last: &Sample) {
        if let Some(m) = self.mono.get_mut(i) {
            *m =
                [last.net_rx_bytes, last.net_tx_bytes, last.cpu_time_us].map(Monotone::resuming_at);
        }
    }

    /// Reads the host-wide counters of a tick taken at `taken_at_ms` with link quality `link`.
    pub fn read_host(
        &mut self,
        source: &impl CounterSource,
        taken_at_ms: u64,
        link: LinkQuality,
    ) -> Result<HostReading, CounterError> {
        let net = source.net_dev()?;
        let cpu = source.proc_stat()?;
        let idle_cpu_permille = self
            .prev_cpu
            .and_then(|p| cpu.idle_permille_since(&p))
            .unwrap_or(0);
        self.prev_cpu = Some(cpu);
        let mem = source.meminfo()?;
        let idle_disk_bytes = source.free_disk_bytes(&self.disk_path)?;
        Ok(HostReading {
            taken_at_ms,
            link,
            net,
            cpu,
            mem,
            idle_cpu_permille,
            idle_disk_bytes,
        })
    }

    /// Terminal `t`'s raw usage in `host`'s tick: the traffic of its interfaces, and its
    /// cgroup's CPU, memory and writes (the host's busy CPU and used memory without a cgroup).
    pub fn usage(
        &self,
        t: &HostTerminal,
        host: &HostReading,
        source: &impl CounterSource,
    ) -> Result<TerminalUsage, CounterError> {
        let (rx_bytes, tx_bytes) = host
            .net
            .iter()
            .filter(|n| t.counts_interface(&n.name))
            .fold((0u64, 0u64), |(r, x), n| {
                (r.saturating_add(n.rx_bytes), x.saturating_add(n.tx_bytes))
            });
        let (cpu_time_us, memory_bytes, storage_bytes) = match &t.cgroup {
            Some(dir) => {
                let c = source.cgroup(dir)?;
                let written = c.io.map_or(0, |io| io.write_bytes);
                (c.cpu_usage_usec, c.memory_bytes, written)
            }
            None => (
                ticks_to_us(host.cpu.total.saturating_sub(host.cpu.idle), self.user_hz),
                host.mem
                    .total_bytes
                    .saturating_sub(host.mem.available_bytes),
                0,
            ),
        };
        Ok(TerminalUsage {
            rx_bytes,
            tx_bytes,
            cpu_time_us,
            memory_bytes,
            storage_bytes,
        })
    }

    /// Terminal `i`'s sample number `seq` of `host`'s tick from its raw `usage`.
    pub fn sample(
        &mut self,
        i: usize,
        host: &HostReading,
        usage: TerminalUsage,
        app_up: bool,
        seq: u64,
    ) -> Sample {
        let t = &self.terminals[i];
        let m = &mut self.mono[i];
        Sample {
            terminal_id: t.terminal_id.clone(),
            tenant: t.tenant.clone(),
            config_hash: self.config_hashes[i],
            seq,
            taken_at_ms: host.taken_at_ms,
            net_rx_bytes: m[0].next(usage.rx_bytes),
            net_tx_bytes: m[1].next(usage.tx_bytes),
            cpu_time_us: m[2].next(usage.cpu_time_us),
            memory_bytes: usage.memory_bytes,
            storage_bytes: usage.storage_bytes,
            idle_cpu_permille: host.idle_cpu_permille,
            idle_memory_bytes: host.mem.available_bytes,
            idle_disk_bytes: host.idle_disk_bytes,
            link_rtt_us: host.link.rtt_us,
            link_loss_ppm: host.link.loss_ppm,
            app_up,
        }
    }
}

/// The next multiple of `interval_ms` after `now` (samples of a fleet line up), or `None` if it
/// falls after `deadline`.
pub fn next_tick(now: u64, interval_ms: u64, deadline: Option<u64>) -> Option<u64> {
    let interval_ms = interval_ms.max(1);
    let next = (now / interval_ms + 1).saturating_mul(interval_ms);
    match deadline {
        Some(d) if next > d => None,
        _ => Some(next),
    }
}

/// Sleeps until the next multiple of `interval_ms`, or returns false when interrupted or the
/// deadline passed.
pub async fn tick(stop: &CancellationToken, interval_ms: u64, deadline: Option<u64>) -> bool {
    let now = now_ms();
    let Some(next) = next_tick(now, interval_ms, deadline) else {
        return false;
    };
    usage_service::tasks::tick(stop, Duration::from_millis(next - now)).await
}

/// Samples this host for `config`'s terminals every `interval_ms` with the software key of its
/// data directory, until interrupted.
pub async fn run_host(
    config: HostConfig,
    metrics: AttestorMetrics,
    stop: CancellationToken,
) -> Result<(), RunError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| RunError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let backend = SoftwareBackend::open(&config.data_dir.join("terminal.key"))?;
    let outbox = Arc::new(Outbox::open(
        &config.data_dir.join("outbox.redb"),
        &config.aggregators,
    )?);
    let mut evidence = EvidenceBook::new();
    let mut config_hashes = Vec::with_capacity(config.terminals.len());
    for attested in config.attested()? {
        let hash = attested.hash();
        tracing::info!(terminal = %attested.terminal_id, config_hash = %hex::encode(hash),
            "terminal configuration");
        evidence.insert(
            attested.terminal_id.clone(),
            EvidenceRequest::new(&attested, &backend.public_key(), &backend.evidence(&hash)),
        );
        config_hashes.push(hash);
    }
    tracing::info!(
        key = %hex::encode(backend.public_key()),
        terminals = config.terminals.len(),
        "attestor starting (software TEE backend)"
    );
    let delivery = Delivery::start(outbox.clone(), &config.aggregators, evidence);
    let http = reqwest::Client::new();
    let mut link = LinkProbe::default();
    let source = ProcCounters;
    let prev_cpu = source.proc_stat().ok();
    let mut sampler = Sampler::new(&config, config_hashes, prev_cpu, user_hz());
    for (i, t) in config.terminals.iter().enumerate() {
        if let Some(last) = outbox.last(&t.terminal_id)? {
            sampler.resume(i, &last.verify()?);
        }
    }
    while tick(&stop, config.interval_ms, None).await {
        let started = std::time::Instant::now();
        link.probe(&config.aggregators).await;
        let host = sampler.read_host(&source, now_ms(), link.quality())?;
        let mut signed = vec![];
        for (i, t) in config.terminals.iter().enumerate() {
            let usage = sampler.usage(t, &host, &source)?;
            let app_up = match &t.app_check {
                Some(check) => check.run(&http).await,
                None => true,
            };
            let seq = outbox.next_seq(&t.terminal_id)?;
            let sample = sampler.sample(i, &host, usage, app_up, seq);
            signed.push(SignedSample::sign(&sample, &backend)?);
        }
        delivery.push(&signed)?;
        metrics.samples_signed.inc_by(signed.len() as u64);
        metrics
            .tick_seconds
            .observe(started.elapsed().as_secs_f64());
    }
    delivery.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::IoBytes;
    use std::cell::RefCell;

    /// Fixed counter readings, changed between ticks by the test.
    struct FakeCounters {
        net: RefCell<Vec<InterfaceCounters>>,
        cpu: RefCell<CpuTimes>,
        mem: MemInfo,
        cgroup: RefCell<CgroupUsage>,
    }

    impl CounterSource for FakeCounters {
        fn net_dev(&self) -> Result<Vec<InterfaceCounters>, CounterError> {
            Ok(self.net.borrow().clone())
        }
        fn proc_stat(&self) -> Result<CpuTimes, CounterError> {
            Ok(*self.cpu.borrow())
        }
        fn meminfo(&self) -> Result<MemInfo, CounterError> {
            Ok(self.mem)
        }
        fn free_disk_bytes(&self, path: &Path) -> Result<u64, CounterError> {
            assert_eq!(path, Path::new("/srv"));
            Ok(5_000)
        }
        fn cgroup(&self, dir: &Path) -> Result<CgroupUsage, CounterError> {
            assert_eq!(dir, Path::new("/sys/fs/cgroup/t1"));
            Ok(*self.cgroup.borrow())
        }
    }

    fn iface(name: &str, rx_bytes: u64, tx_bytes: u64) -> InterfaceCounters {
        InterfaceCounters {
            name: name.into(),
            rx_bytes,
            rx_packets: 0,
            tx_bytes,
            tx_packets: 0,
        }
    }

    fn terminal(id: &str) -> HostTerminal {
        HostTerminal {
            terminal_id: id.into(),
            tenant: "acme".into(),
            cgroup: None,
            interfaces: vec![],
            app_check: None,
        }
    }

    fn config(terminals: Vec<HostTerminal>) -> HostConfig {
        HostConfig {
            metrics_listen: None,
            data_dir: PathBuf::from("/var/lib/usage-attestor"),
            aggregators: vec!["http://a".into()],
            interval_ms: 1_000,
            disk_path: PathBuf::from("/srv"),
            terminals,
        }
    }

    #[test]
    fn a_counter_reset_keeps_the_cumulative_value_growing() {
        let mut m = Monotone::default();
        assert_eq!(m.next(100), 100);
        assert_eq!(m.next(150), 150);
        // Reboot: the kernel starts counting from zero again.
        assert_eq!(m.next(20), 170);
        assert_eq!(m.next(30), 180);
        // Equal readings are no reset.
        assert_eq!(m.next(30), 180);
        // A second reset adds the value reached before it.
        assert_eq!(m.next(5), 185);
    }

    #[test]
    fn a_resumed_counter_adds_its_next_readings_to_the_last_reported_value() {
        let mut m = Monotone::resuming_at(1_000);
        assert_eq!(m.next(0), 1_000);
        assert_eq!(m.next(40), 1_040);
        assert_eq!(m.next(10), 1_050);
    }

    #[test]
    fn a_cumulative_counter_saturates_instead_of_wrapping() {
        let mut m = Monotone::resuming_at(u64::MAX - 1);
        assert_eq!(m.next(5), u64::MAX);
        assert_eq!(m.next(1), u64::MAX);
    }

    #[test]
    fn a_host_configuration_file_fills_in_its_defaults() {
        let c: HostConfig = serde_json::from_str(
            r#"{"data_dir": "/d", "aggregators": ["http://a"],
                "terminals": [{"terminal_id": "t1", "tenant": "acme"}]}"#,
        )
        .unwrap();
        assert_eq!(c.interval_ms, 1_000);
        assert_eq!(c.disk_path, PathBuf::from("/"));
        assert_eq!(c.terminals[0].cgroup, None);
        assert!(c.terminals[0].interfaces.is_empty());
        assert_eq!(c.attested().unwrap()[0].terminal_id, "t1");
    }

    #[test]
    fn an_invalid_terminal_is_refused_by_name() {
        let mut bad = terminal("t2");
        bad.tenant = String::new();
        let err = config(vec![terminal("t1"), bad]).attested().unwrap_err();
        assert!(
            matches!(&err, RunError::Terminal { terminal_id, .. } if terminal_id == "t2"),
            "{err}"
        );
    }

    #[test]
    fn a_zero_interval_is_refused() {
        let mut c = config(vec![terminal("t1")]);
        c.interval_ms = 0;
        assert!(matches!(c.attested(), Err(RunError::ZeroInterval)));
    }

    #[test]
    fn the_attested_configuration_carries_the_cgroup_and_interfaces_but_not_the_app_check() {
        let mut t = terminal("t1");
        t.cgroup = Some(PathBuf::from("/sys/fs/cgroup/t1"));
        t.interfaces = vec!["eth0".into()];
        t.app_check = Some(AppCheck::Tcp("127.0.0.1:80".into()));
        let attested = t.config();
        assert_eq!(attested.cgroup.as_deref(), Some("/sys/fs/cgroup/t1"));
        assert_eq!(attested.interfaces, vec!["eth0".to_string()]);
        let mut without_check = t.clone();
        without_check.app_check = None;
        assert_eq!(without_check.config().hash(), attested.hash());
    }

    #[test]
    fn the_clock_tick_converts_to_microseconds_exactly_and_saturates() {
        assert_eq!(ticks_to_us(3, 100), 30_000);
        assert_eq!(ticks_to_us(3, 250), 12_000);
        assert_eq!(ticks_to_us(u64::MAX, 100), u64::MAX);
        assert!(user_hz() > 0);
    }

    #[test]
    fn ticks_line_up_on_multiples_of_the_interval_and_stop_at_the_deadline() {
        assert_eq!(next_tick(0, 1_000, None), Some(1_000));
        assert_eq!(next_tick(1_999, 1_000, None), Some(2_000));
        assert_eq!(next_tick(2_000, 1_000, None), Some(3_000));
        assert_eq!(next_tick(2_500, 1_000, Some(3_000)), Some(3_000));
        assert_eq!(next_tick(2_500, 1_000, Some(2_999)), None);
    }

    #[test]
    fn one_tick_attributes_each_terminal_its_counters_and_survives_a_reboot() {
        let mut t1 = terminal("t1");
        t1.cgroup = Some(PathBuf::from("/sys/fs/cgroup/t1"));
        t1.interfaces = vec!["eth1".into()];
        let t2 = terminal("t2");
        let config = config(vec![t1, t2]);
        let source = FakeCounters {
            net: RefCell::new(vec![
                iface("lo", 1_000_000, 1_000_000),
                iface("eth0", 100, 200),
                iface("eth1", 10, 20),
            ]),
            cpu: RefCell::new(CpuTimes {
                idle: 1_500,
                total: 2_000,
            }),
            mem: MemInfo {
                total_bytes: 8_000,
                available_bytes: 3_000,
            },
            cgroup: RefCell::new(CgroupUsage {
                cpu_usage_usec: 777,
                memory_bytes: 64,
                io: Some(IoBytes {
                    read_bytes: 1,
                    write_bytes: 9,
                }),
            }),
        };
        let prev = CpuTimes {
            idle: 1_000,
            total: 1_000,
        };
        let mut sampler = Sampler::new(&config, vec![[1; 32], [2; 32]], Some(prev), 100);
        sampler.resume(
            1,
            &Sample {
                net_rx_bytes: 5,
                net_tx_bytes: 0,
                cpu_time_us: 0,
                ..usage_sample::simulate::example_sample(0)
            },
        );
        let link = LinkQuality {
            rtt_us: 300,
            loss_ppm: 7,
        };

        let host = sampler.read_host(&source, 42_000, link).unwrap();
        let terminals = sampler.terminals().to_vec();
        let u1 = sampler.usage(&terminals[0], &host, &source).unwrap();
        let s1 = sampler.sample(0, &host, u1, false, 8);
        let u2 = sampler.usage(&terminals[1], &host, &source).unwrap();
        let s2 = sampler.sample(1, &host, u2, true, 3);

        // The terminal with a cgroup and an interface list: only its interface, its cgroup.
        assert_eq!((s1.net_rx_bytes, s1.net_tx_bytes), (10, 20));
        assert_eq!(
            (s1.cpu_time_us, s1.memory_bytes, s1.storage_bytes),
            (777, 64, 9)
        );
        assert_eq!(
            (s1.terminal_id.as_str(), s1.seq, s1.app_up),
            ("t1", 8, false)
        );
        assert_eq!(s1.config_hash, [1; 32]);
        // Host-wide values, the same for every terminal: 500 of 1000 ticks idle since the last.
        for s in [&s1, &s2] {
            assert_eq!(s.taken_at_ms, 42_000);
            assert_eq!(s.idle_cpu_permille, 500);
            assert_eq!(s.idle_memory_bytes, 3_000);
            assert_eq!(s.idle_disk_bytes, 5_000);
            assert_eq!((s.link_rtt_us, s.link_loss_ppm), (300, 7));
        }
        // Without a list, every interface but loopback; without a cgroup, the host's busy CPU
        // (500 ticks of 10 ms) and used memory. Its received bytes resume from 5.
        assert_eq!((s2.net_rx_bytes, s2.net_tx_bytes), (5 + 110, 220));
        assert_eq!(
            (s2.cpu_time_us, s2.memory_bytes, s2.storage_bytes),
            (5_000_000, 5_000, 0)
        );

        // The host reboots: its counters restart below the previous readings.
        *source.net.borrow_mut() = vec![iface("eth0", 1, 2), iface("eth1", 3, 4)];
        *source.cpu.borrow_mut() = CpuTimes {
            idle: 10,
            total: 20,
        };
        source.cgroup.borrow_mut().cpu_usage_usec = 100;
        let host = sampler.read_host(&source, 43_000, link).unwrap();
        let u1 = sampler.usage(&terminals[0], &host, &source).unwrap();
        let s1 = sampler.sample(0, &host, u1, true, 9);
        let u2 = sampler.usage(&terminals[1], &host, &source).unwrap();
        let s2 = sampler.sample(1, &host, u2, true, 4);
        assert_eq!(
            (s1.net_rx_bytes, s1.net_tx_bytes, s1.cpu_time_us),
            (13, 24, 877)
        );
        assert_eq!(
            (s2.net_rx_bytes, s2.net_tx_bytes, s2.cpu_time_us),
            (115 + 4, 220 + 6, 5_000_000 + 100_000)
        );
        // Counters that went backwards give no idle share.
        assert_eq!(s1.idle_cpu_permille, 0);
    }

    #[test]
    fn every_key_of_the_commented_template_is_a_real_key_and_it_validates() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config-template.toml");
        let config: HostConfig =
            usage_service::config::read(&path, "USAGE_ATTESTOR_TEMPLATE_TEST").unwrap();
        assert_eq!(config.terminals.len(), 1);
        assert_eq!(config.aggregators.len(), 4);
        config.validate().unwrap();
    }

    #[test]
    fn values_that_cannot_work_are_refused_naming_their_key() {
        let mut c = config(vec![]);
        assert_eq!(c.validate().unwrap_err().key, "terminals");
        c.terminals = vec![HostTerminal {
            terminal_id: "t1".into(),
            tenant: "usage1tenant".into(),
            cgroup: None,
            interfaces: vec![],
            app_check: None,
        }];
        c.validate().unwrap();
        c.aggregators = vec!["127.0.0.1:7001".into()];
        assert_eq!(c.validate().unwrap_err().key, "aggregators[0]");
        c.aggregators = vec!["http://a".into()];
        c.interval_ms = 0;
        assert_eq!(c.validate().unwrap_err().key, "interval_ms");
        c.interval_ms = 1_000;
        c.terminals[0].terminal_id = String::new();
        assert_eq!(c.validate().unwrap_err().key, "terminals[0]");
    }
}
