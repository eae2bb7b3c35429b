//! The simulation mode: many terminals with realistic synthetic counters, for load tests and
//! benchmarks. Each simulated terminal has its own Ed25519 key derived from the fleet label and
//! its index (so a fleet can be registered on a chain before it runs) and presents software
//! evidence, which is what it is. Counter rates come from a deterministic generator seeded per
//! terminal: each terminal has its own traffic level, and readings wander around it.

use sha2::{Digest, Sha256};

use crate::sample::Sample;
use crate::tee::{Evidence, SoftwareKey, TeeBackend};
use crate::terminal::TerminalConfig;

/// A simulated terminal's key: a software key derived from the fleet label and index.
pub type SimulatedKey = SoftwareKey;

impl SoftwareKey {
    /// The key of terminal `index` of fleet `label`:
    /// `SHA-256("usagechain/v1/sim-terminal" || label || index as u64 big-endian)`.
    pub fn derive(label: &str, index: u64) -> Self {
        let mut h = Sha256::new();
        h.update(b"usagechain/v1/sim-terminal");
        h.update(label.as_bytes());
        h.update(index.to_be_bytes());
        SoftwareKey::from_secret(&h.finalize().into())
    }
}

/// A fixed, valid sample with sequence number `seq` (terminal `term-1`, tenant `acme`), for
/// tests and examples.
pub fn example_sample(seq: u64) -> Sample {
    Sample {
        terminal_id: "term-1".into(),
        tenant: "acme".into(),
        config_hash: [0xc0; 32],
        seq,
        taken_at_ms: 1_700_000_000_000,
        net_rx_bytes: 1_000,
        net_tx_bytes: 2_000,
        cpu_time_us: 3_000,
        memory_bytes: 4_000,
        storage_bytes: 5_000,
        idle_cpu_permille: 600,
        idle_memory_bytes: 6_000,
        idle_disk_bytes: 7_000,
        link_rtt_us: 800,
        link_loss_ppm: 9,
        app_up: true,
    }
}

/// The id of terminal `index` of fleet `label`: `<label>-<index>` (index zero-padded to 5).
pub fn terminal_id(label: &str, index: u64) -> String {
    format!("{label}-{index:05}")
}

/// SplitMix64: a small, fast, deterministic generator (not for keys).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// One simulated terminal: its identity, tenant, traffic profile and cumulative counters.
#[derive(Debug)]
pub struct SimTerminal {
    /// Terminal id.
    pub terminal_id: String,
    /// Tenant served.
    pub tenant: String,
    /// Its configuration: the terminal and tenant, no cgroup, no interface list.
    pub config: TerminalConfig,
    /// [`TerminalConfig::hash`] of `config`, carried by its evidence and samples.
    pub config_hash: [u8; 32],
    /// Its key.
    pub key: SimulatedKey,
    rng: Rng,
    rx_rate: u64,
    tx_rate: u64,
    cpu_rate: u64,
    memory: u64,
    storage: u64,
    last_ms: Option<u64>,
    rx: u64,
    tx: u64,
    cpu: u64,
}

impl SimTerminal {
    /// Terminal `index` of fleet `label`, serving `tenant`.
    pub fn new(label: &str, index: u64, tenant: &str) -> Self {
        let mut rng = Rng(index ^ 0x5eed_0000_0000_0000 ^ u64::from(label.len() as u32));
        for b in label.bytes() {
            rng.0 = rng.0.rotate_left(5) ^ u64::from(b);
        }
        let config = TerminalConfig {
            terminal_id: terminal_id(label, index),
            tenant: tenant.to_string(),
            cgroup: None,
            interfaces: vec![],
        };
        SimTerminal {
            terminal_id: config.terminal_id.clone(),
            tenant: tenant.to_string(),
            config_hash: config.hash(),
            config,
            key: SimulatedKey::derive(label, index),
            rx_rate: rng.range(50_000, 5_000_000),
            tx_rate: rng.range(10_000, 1_000_000),
            cpu_rate: rng.range(20_000, 900_000),
            memory: rng.range(100 << 20, 4 << 30),
            storage: rng.range(1 << 30, 50 << 30),
            rng,
            last_ms: None,
            rx: 0,
            tx: 0,
            cpu: 0,
        }
    }

    /// Its evidence, for its configuration.
    pub fn evidence(&self) -> Evidence {
        self.key.evidence(&self.config_hash)
    }

    /// Resumes counters after a restart from the last sample this terminal took (so they keep
    /// increasing).
    pub fn resume_from(&mut self, last: &Sample) {
        self.last_ms = Some(last.taken_at_ms);
        self.rx = last.net_rx_bytes;
        self.tx = last.net_tx_bytes;
        self.cpu = last.cpu_time_us;
    }

    /// The reading at `now_ms` with sequence number `seq`: counters advanced by this terminal's
    /// rates ±50 % over the elapsed time, gauges wandering a little.
    pub fn sample(&mut self, seq: u64, now_ms: u64) -> Sample {
        let elapsed = self.last_ms.map_or(0, |last| now_ms.saturating_sub(last));
        let jitter = |rng: &mut Rng, rate: u64| rate / 2 + rng.range(0, rate);
        let rx_rate = jitter(&mut self.rng, self.rx_rate);
        let tx_rate = jitter(&mut self.rng, self.tx_rate);
        let cpu_rate = jitter(&mut self.rng, self.cpu_rate);
        self.rx = self
            .rx
            .saturating_add(rx_rate.saturating_mul(elapsed) / 1_000);
        self.tx = self
            .tx
            .saturating_add(tx_rate.saturating_mul(elapsed) / 1_000);
        self.cpu = self
            .cpu
            .saturating_add(cpu_rate.saturating_mul(elapsed) / 1_000);
        self.memory = (self.memory / 64 * 63 + self.rng.range(100 << 20, 4 << 30) / 64).max(1);
        self.storage = self.storage.saturating_add(self.rng.range(0, 1 << 20));
        self.last_ms = Some(now_ms);
        Sample {
            terminal_id: self.terminal_id.clone(),
            tenant: self.tenant.clone(),
            config_hash: self.config_hash,
            seq,
            taken_at_ms: now_ms,
            net_rx_bytes: self.rx,
            net_tx_bytes: self.tx,
            cpu_time_us: self.cpu,
            memory_bytes: self.memory,
            storage_bytes: self.storage,
            idle_cpu_permille: u16::try_from(self.rng.range(100, 900)).unwrap_or(500),
            idle_memory_bytes: self.rng.range(1 << 30, 16 << 30),
            idle_disk_bytes: self.rng.range(10 << 30, 500 << 30),
            link_rtt_us: u32::try_from(self.rng.range(200, 5_000)).unwrap_or(1_000),
            link_loss_ppm: u32::try_from(self.rng.range(0, 2_000)).unwrap_or(0),
            app_up: self.rng.range(0, 999) != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tee::{software_measurement, verify_evidence, SignedSample};

    #[test]
    fn a_simulated_terminal_has_a_stable_key_and_valid_software_evidence() {
        let a = SimulatedKey::derive("fleet", 7);
        let b = SimulatedKey::derive("fleet", 7);
        let c = SimulatedKey::derive("fleet", 8);
        assert_eq!(a.public_key(), b.public_key());
        assert_ne!(a.public_key(), c.public_key());
        let mut t = SimTerminal::new("fleet", 7, "tenant-a");
        let m = verify_evidence(&t.evidence(), &a.public_key(), &t.config_hash).unwrap();
        assert_eq!(m, software_measurement());
        assert_eq!(t.sample(1, 1_700_000_000_000).config_hash, t.config_hash);
    }

    #[test]
    fn simulated_counters_only_grow_and_samples_verify() {
        let mut t = SimTerminal::new("fleet", 3, "tenant-a");
        let mut prev: Option<Sample> = None;
        for i in 0..50u64 {
            let s = t.sample(i + 1, 1_700_000_000_000 + i * 1_000);
            s.validate().unwrap();
            let signed = SignedSample::sign(&s, &t.key).unwrap();
            assert_eq!(signed.verify().unwrap(), s);
            if let Some(p) = &prev {
                assert!(s.net_rx_bytes > p.net_rx_bytes);
                assert!(s.net_tx_bytes > p.net_tx_bytes);
                assert!(s.cpu_time_us > p.cpu_time_us);
            }
            prev = Some(s);
        }
        // A restarted terminal continues from its last reading.
        let last = prev.unwrap();
        let mut again = SimTerminal::new("fleet", 3, "tenant-a");
        again.resume_from(&last);
        let next = again.sample(51, last.taken_at_ms + 1_000);
        assert!(next.net_rx_bytes > last.net_rx_bytes);
    }
}
