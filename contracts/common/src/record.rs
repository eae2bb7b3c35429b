//! Usage records: what one terminal measured for one tenant over one window, and the batch that
//! carries them to C1 in their canonical binary form.

use cosmwasm_schema::cw_serde;

use crate::codec::{DecodeError, Decoder, Encoder};

/// Longest terminal id accepted anywhere (bytes of UTF-8).
pub const MAX_TERMINAL_ID_LEN: usize = 64;
/// Longest tenant id accepted anywhere (bytes of UTF-8); tenants are chain addresses.
pub const MAX_TENANT_LEN: usize = 128;
/// Most records one batch may carry. Bounded by the VM's 256 KiB limit on a contract's response,
/// which carries one `usage_proof` event per record.
pub const MAX_BATCH_RECORDS: usize = 1_000;
/// Version byte that starts an encoded batch.
pub const BATCH_ENCODING_VERSION: u8 = 1;

/// The measured quantities of one (terminal, window). Counters are totals over the window; gauges
/// (`link_*`) are the window's mean. All integers: the chain never sees a float.
#[cw_serde]
#[derive(Default, Copy, Eq)]
pub struct Metrics {
    /// Bytes received on the tenant's interfaces.
    pub net_rx_bytes: u64,
    /// Bytes sent on the tenant's interfaces.
    pub net_tx_bytes: u64,
    /// CPU time used by the tenant, microseconds.
    pub cpu_time_us: u64,
    /// Memory held by the tenant integrated over the window, MiB·s.
    pub memory_mib_s: u64,
    /// Storage held by the tenant integrated over the window, MiB·s.
    pub storage_mib_s: u64,
    /// Idle CPU offered by the terminal, millicores·s.
    pub idle_cpu_millicore_s: u64,
    /// Idle memory offered by the terminal, MiB·s.
    pub idle_memory_mib_s: u64,
    /// Idle storage offered by the terminal, MiB·s.
    pub idle_storage_mib_s: u64,
    /// Mean round-trip time to the aggregators, microseconds (link quality).
    pub link_rtt_us: u64,
    /// Packet loss to the aggregators, parts per million (link quality).
    pub link_loss_ppm: u64,
    /// Seconds the tenant's application answered its checks.
    pub app_up_s: u64,
    /// Seconds the tenant's application failed its checks.
    pub app_down_s: u64,
}

/// A metric that a tariff can price. Link quality is recorded but not billed.
#[cw_serde]
#[derive(Copy, Eq, PartialOrd, Ord)]
pub enum Metric {
    NetRxBytes,
    NetTxBytes,
    CpuTimeUs,
    MemoryMibS,
    StorageMibS,
    IdleCpuMillicoreS,
    IdleMemoryMibS,
    IdleStorageMibS,
    AppUpS,
    AppDownS,
}

impl Metric {
    pub const ALL: [Metric; 10] = [
        Metric::NetRxBytes,
        Metric::NetTxBytes,
        Metric::CpuTimeUs,
        Metric::MemoryMibS,
        Metric::StorageMibS,
        Metric::IdleCpuMillicoreS,
        Metric::IdleMemoryMibS,
        Metric::IdleStorageMibS,
        Metric::AppUpS,
        Metric::AppDownS,
    ];
}

impl Metrics {
    fn fields(&self) -> [u64; 12] {
        [
            self.net_rx_bytes,
            self.net_tx_bytes,
            self.cpu_time_us,
            self.memory_mib_s,
            self.storage_mib_s,
            self.idle_cpu_millicore_s,
            self.idle_memory_mib_s,
            self.idle_storage_mib_s,
            self.link_rtt_us,
            self.link_loss_ppm,
            self.app_up_s,
            self.app_down_s,
        ]
    }

    pub fn encode(&self, e: &mut Encoder) {
        for f in self.fields() {
            e.u64(f);
        }
    }

    pub fn decode(d: &mut Decoder) -> Result<Self, DecodeError> {
        Ok(Metrics {
            net_rx_bytes: d.u64()?,
            net_tx_bytes: d.u64()?,
            cpu_time_us: d.u64()?,
            memory_mib_s: d.u64()?,
            storage_mib_s: d.u64()?,
            idle_cpu_millicore_s: d.u64()?,
            idle_memory_mib_s: d.u64()?,
            idle_storage_mib_s: d.u64()?,
            link_rtt_us: d.u64()?,
            link_loss_ppm: d.u64()?,
            app_up_s: d.u64()?,
            app_down_s: d.u64()?,
        })
    }
}

/// Additive totals of a set of first proofs: what a period proof commits to and a tariff prices.
#[cw_serde]
#[derive(Default, Copy, Eq)]
pub struct Totals {
    /// Number of first proofs summed.
    pub records: u64,
    pub net_rx_bytes: u128,
    pub net_tx_bytes: u128,
    pub cpu_time_us: u128,
    pub memory_mib_s: u128,
    pub storage_mib_s: u128,
    pub idle_cpu_millicore_s: u128,
    pub idle_memory_mib_s: u128,
    pub idle_storage_mib_s: u128,
    pub app_up_s: u128,
    pub app_down_s: u128,
}

impl Totals {
    /// The totals of one record.
    pub fn of(m: &Metrics) -> Self {
        Totals {
            records: 1,
            net_rx_bytes: m.net_rx_bytes.into(),
            net_tx_bytes: m.net_tx_bytes.into(),
            cpu_time_us: m.cpu_time_us.into(),
            memory_mib_s: m.memory_mib_s.into(),
            storage_mib_s: m.storage_mib_s.into(),
            idle_cpu_millicore_s: m.idle_cpu_millicore_s.into(),
            idle_memory_mib_s: m.idle_memory_mib_s.into(),
            idle_storage_mib_s: m.idle_storage_mib_s.into(),
            app_up_s: m.app_up_s.into(),
            app_down_s: m.app_down_s.into(),
        }
    }

    /// Field-wise sum; `None` on overflow (which 2^64 records of u64 counters cannot reach).
    pub fn checked_add(&self, o: &Totals) -> Option<Totals> {
        Some(Totals {
            records: self.records.checked_add(o.records)?,
            net_rx_bytes: self.net_rx_bytes.checked_add(o.net_rx_bytes)?,
            net_tx_bytes: self.net_tx_bytes.checked_add(o.net_tx_bytes)?,
            cpu_time_us: self.cpu_time_us.checked_add(o.cpu_time_us)?,
            memory_mib_s: self.memory_mib_s.checked_add(o.memory_mib_s)?,
            storage_mib_s: self.storage_mib_s.checked_add(o.storage_mib_s)?,
            idle_cpu_millicore_s: self
                .idle_cpu_millicore_s
                .checked_add(o.idle_cpu_millicore_s)?,
            idle_memory_mib_s: self.idle_memory_mib_s.checked_add(o.idle_memory_mib_s)?,
            idle_storage_mib_s: self.idle_storage_mib_s.checked_add(o.idle_storage_mib_s)?,
            app_up_s: self.app_up_s.checked_add(o.app_up_s)?,
            app_down_s: self.app_down_s.checked_add(o.app_down_s)?,
        })
    }

    /// Whether every total (records included) is at most `other`'s.
    pub fn at_most(&self, other: &Totals) -> bool {
        self.records <= other.records && Metric::ALL.iter().all(|m| self.get(*m) <= other.get(*m))
    }

    /// The total of one billable metric.
    pub fn get(&self, metric: Metric) -> u128 {
        match metric {
            Metric::NetRxBytes => self.net_rx_bytes,
            Metric::NetTxBytes => self.net_tx_bytes,
            Metric::CpuTimeUs => self.cpu_time_us,
            Metric::MemoryMibS => self.memory_mib_s,
            Metric::StorageMibS => self.storage_mib_s,
            Metric::IdleCpuMillicoreS => self.idle_cpu_millicore_s,
            Metric::IdleMemoryMibS => self.idle_memory_mib_s,
            Metric::IdleStorageMibS => self.idle_storage_mib_s,
            Metric::AppUpS => self.app_up_s,
            Metric::AppDownS => self.app_down_s,
        }
    }

    pub fn encode(&self, e: &mut Encoder) {
        e.u64(self.records);
        for m in Metric::ALL {
            e.u128(self.get(m));
        }
    }
}

/// One first proof's content: the usage of one terminal in one window, attributed to one tenant.
#[cw_serde]
#[derive(Eq)]
pub struct UsageRecord {
    /// Registered terminal id.
    pub terminal_id: String,
    /// Start second of the window (a multiple of the window length since the Unix epoch).
    pub window_start: u64,
    /// Tenant the terminal served in this window (its chain address).
    pub tenant: String,
    pub metrics: Metrics,
}

impl UsageRecord {
    pub fn encode(&self, e: &mut Encoder) {
        e.str(&self.terminal_id)
            .u64(self.window_start)
            .str(&self.tenant);
        self.metrics.encode(e);
    }

    /// The record's canonical bytes: what a batch leaf hashes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::with_capacity(160);
        self.encode(&mut e);
        e.finish()
    }

    pub fn decode(d: &mut Decoder) -> Result<Self, DecodeError> {
        Ok(UsageRecord {
            terminal_id: d.str("terminal id", MAX_TERMINAL_ID_LEN)?.to_string(),
            window_start: d.u64()?,
            tenant: d.str("tenant", MAX_TENANT_LEN)?.to_string(),
            metrics: Metrics::decode(d)?,
        })
    }

    /// The (terminal, window) key that may be proven only once.
    pub fn key(&self) -> (&str, u64) {
        (&self.terminal_id, self.window_start)
    }
}

/// A decoded batch: each record with the exact bytes it was encoded as (the Merkle leaves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBatch<'a> {
    pub records: Vec<(UsageRecord, &'a [u8])>,
}

/// Encodes records as a batch: version byte, record count, then each record.
pub fn encode_batch(records: &[UsageRecord]) -> Vec<u8> {
    let mut e = Encoder::with_capacity(5 + records.len() * 180);
    e.u8(BATCH_ENCODING_VERSION).count(records.len());
    for r in records {
        r.encode(&mut e);
    }
    e.finish()
}

/// Decodes a batch, keeping each record's byte span for hashing.
pub fn decode_batch(bytes: &[u8]) -> Result<DecodedBatch<'_>, DecodeError> {
    let mut d = Decoder::new(bytes);
    let version = d.u8()?;
    if version != BATCH_ENCODING_VERSION {
        return Err(DecodeError::InvalidValue {
            what: "batch encoding version",
            value: version.into(),
        });
    }
    let n = d.count("batch records", MAX_BATCH_RECORDS)?;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        let start = d.position();
        let record = UsageRecord::decode(&mut d)?;
        records.push((record, &bytes[start..d.position()]));
    }
    d.finish()?;
    Ok(DecodedBatch { records })
}

/// Start of the window (of `len` seconds) that holds second `t`.
pub fn align(t: u64, len: u64) -> u64 {
    if len == 0 {
        return t;
    }
    t - t % len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(terminal: &str, window: u64) -> UsageRecord {
        UsageRecord {
            terminal_id: terminal.into(),
            window_start: window,
            tenant: "usage1tenant".into(),
            metrics: Metrics {
                net_rx_bytes: 1_000,
                net_tx_bytes: 2_000,
                cpu_time_us: 3,
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_batch_round_trips_and_keeps_each_records_bytes() {
        let records = vec![record("t1", 10), record("t2", 10)];
        let bytes = encode_batch(&records);
        let decoded = decode_batch(&bytes).unwrap();
        assert_eq!(decoded.records.len(), 2);
        for ((r, raw), orig) in decoded.records.iter().zip(&records) {
            assert_eq!(r, orig);
            assert_eq!(*raw, orig.to_bytes().as_slice());
        }
    }

    #[test]
    fn a_batch_with_a_wrong_version_or_trailing_bytes_is_refused() {
        let mut bytes = encode_batch(&[record("t1", 10)]);
        bytes.push(0);
        assert_eq!(
            decode_batch(&bytes),
            Err(DecodeError::TrailingBytes { remaining: 1 })
        );
        bytes.pop();
        bytes[0] = 9;
        assert!(matches!(
            decode_batch(&bytes),
            Err(DecodeError::InvalidValue { .. })
        ));
    }

    #[test]
    fn totals_add_field_wise_and_count_records() {
        let a = Totals::of(&record("t1", 0).metrics);
        let sum = a.checked_add(&a).unwrap();
        assert_eq!(sum.records, 2);
        assert_eq!(sum.net_tx_bytes, 4_000);
        assert_eq!(sum.get(Metric::CpuTimeUs), 6);
    }

    #[test]
    fn windows_align_to_multiples_of_their_length() {
        assert_eq!(align(1_700_000_007, 10), 1_700_000_000);
        assert_eq!(align(59, 60), 0);
        assert_eq!(align(60, 60), 60);
    }
}
