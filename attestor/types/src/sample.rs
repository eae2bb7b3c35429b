//! One usage sample of one tenant on one terminal, and its canonical binary encoding — the bytes
//! the terminal key signs.
//!
//! Layout (ADR 001 rules, `usage_common::codec`): integers fixed-width big-endian, strings a `u32`
//! length then UTF-8, booleans one byte `0`/`1`.
//!
//! ```text
//! str  domain tag          "usagechain/v2/sample"
//! str  terminal_id         1..=64 bytes
//! str  tenant              1..=128 bytes
//! [32] config_hash         `TerminalConfig::hash` of the terminal's host configuration
//! u64  seq
//! u64  taken_at_ms         Unix time, milliseconds
//! u64  net_rx_bytes
//! u64  net_tx_bytes
//! u64  cpu_time_us
//! u64  memory_bytes
//! u64  storage_bytes
//! u16  idle_cpu_permille   0..=1000
//! u64  idle_memory_bytes
//! u64  idle_disk_bytes
//! u32  link_rtt_us
//! u32  link_loss_ppm       0..=1_000_000
//! u8   app_up              0 or 1
//! ```
//!
//! The version is the domain tag's: `v1` samples (without `config_hash`) are refused as another
//! domain.
//!
//! Decoding is strict: a different tag, a value out of its range, short input or trailing bytes are
//! errors, so exactly one byte string encodes each sample.

use thiserror::Error;
use usage_common::codec::{DecodeError, Decoder, Encoder};
use usage_common::record::{MAX_TENANT_LEN, MAX_TERMINAL_ID_LEN};

/// Domain tag that starts every encoded sample.
pub const SAMPLE_DOMAIN: &str = "usagechain/v2/sample";

/// Largest valid `idle_cpu_permille`.
pub const MAX_PERMILLE: u16 = 1000;
/// Largest valid `link_loss_ppm`.
pub const MAX_PPM: u32 = 1_000_000;

/// The wall clock in the unit of [`Sample::taken_at_ms`]: Unix time in milliseconds (0 before
/// 1970, `u64::MAX` past its range). Terminals stamp samples with it and aggregators judge those
/// stamps against it, so both sides read the clock the same way.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Why a sample is invalid or its bytes could not be decoded.
#[derive(Error, Debug, PartialEq, Eq, Clone)]
pub enum SampleError {
    /// The bytes are not a canonical encoding.
    #[error("malformed sample: {0}")]
    Decode(#[from] DecodeError),
    /// The bytes start with another domain tag (signed for another purpose).
    #[error("domain tag is {found:?}, expected {SAMPLE_DOMAIN:?}")]
    WrongDomain {
        /// The tag found.
        found: String,
    },
    /// An identifier is empty or longer than its limit.
    #[error("{what} must be 1..={max} bytes, is {len}")]
    BadIdentifier {
        /// `terminal_id` or `tenant`.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A bounded field is out of range.
    #[error("{what} is {value}, above {max}")]
    OutOfRange {
        /// The field.
        what: &'static str,
        /// Its value.
        value: u64,
        /// Its maximum.
        max: u64,
    },
}

/// What a terminal measured for one tenant at one instant. Counters (`net_*`, `cpu_time_us`) are
/// cumulative; the aggregators take differences between consecutive samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The terminal's registered id.
    pub terminal_id: String,
    /// The tenant measured.
    pub tenant: String,
    /// [`crate::terminal::TerminalConfig::hash`] of the configuration the counters were read
    /// under; the terminal's evidence attests the same hash.
    pub config_hash: [u8; 32],
    /// Sequence number, contiguous per terminal, starting at 1.
    pub seq: u64,
    /// When the counters were read, Unix time in milliseconds.
    pub taken_at_ms: u64,
    /// Bytes received by the tenant, cumulative.
    pub net_rx_bytes: u64,
    /// Bytes sent by the tenant, cumulative.
    pub net_tx_bytes: u64,
    /// CPU time used by the tenant, cumulative, microseconds.
    pub cpu_time_us: u64,
    /// Memory in use by the tenant now, bytes.
    pub memory_bytes: u64,
    /// Storage held by the tenant now, bytes.
    pub storage_bytes: u64,
    /// Idle CPU share of the terminal, permille (0..=1000).
    pub idle_cpu_permille: u16,
    /// Memory the terminal could still lend, bytes.
    pub idle_memory_bytes: u64,
    /// Disk space the terminal could still lend, bytes.
    pub idle_disk_bytes: u64,
    /// Round-trip time of the terminal's uplink, microseconds.
    pub link_rtt_us: u32,
    /// Packet loss on the uplink, parts per million (0..=1_000_000).
    pub link_loss_ppm: u32,
    /// Whether the tenant's application answered its health check.
    pub app_up: bool,
}

fn check_id(what: &'static str, s: &str, max: usize) -> Result<(), SampleError> {
    if s.is_empty() || s.len() > max {
        return Err(SampleError::BadIdentifier {
            what,
            len: s.len(),
            max,
        });
    }
    Ok(())
}

impl Sample {
    /// Checks the bounds the encoding promises (identifier lengths, permille, ppm).
    pub fn validate(&self) -> Result<(), SampleError> {
        check_id("terminal_id", &self.terminal_id, MAX_TERMINAL_ID_LEN)?;
        check_id("tenant", &self.tenant, MAX_TENANT_LEN)?;
        if self.idle_cpu_permille > MAX_PERMILLE {
            return Err(SampleError::OutOfRange {
                what: "idle_cpu_permille",
                value: self.idle_cpu_permille.into(),
                max: MAX_PERMILLE.into(),
            });
        }
        if self.link_loss_ppm > MAX_PPM {
            return Err(SampleError::OutOfRange {
                what: "link_loss_ppm",
                value: self.link_loss_ppm.into(),
                max: MAX_PPM.into(),
            });
        }
        Ok(())
    }

    /// The canonical encoding (the bytes that are signed). Fails if the sample is invalid, so an
    /// encoding that would not decode is never produced.
    pub fn encode(&self) -> Result<Vec<u8>, SampleError> {
        self.validate()?;
        let mut e = Encoder::with_capacity(160);
        e.str(SAMPLE_DOMAIN)
            .str(&self.terminal_id)
            .str(&self.tenant)
            .fixed(&self.config_hash)
            .u64(self.seq)
            .u64(self.taken_at_ms)
            .u64(self.net_rx_bytes)
            .u64(self.net_tx_bytes)
            .u64(self.cpu_time_us)
            .u64(self.memory_bytes)
            .u64(self.storage_bytes)
            .u16(self.idle_cpu_permille)
            .u64(self.idle_memory_bytes)
            .u64(self.idle_disk_bytes)
            .u32(self.link_rtt_us)
            .u32(self.link_loss_ppm)
            .u8(u8::from(self.app_up));
        Ok(e.finish())
    }

    /// Strictly decodes a canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Sample, SampleError> {
        let mut d = Decoder::new(bytes);
        let tag = d.str("domain tag", SAMPLE_DOMAIN.len())?;
        if tag != SAMPLE_DOMAIN {
            return Err(SampleError::WrongDomain {
                found: tag.to_string(),
            });
        }
        let terminal_id = d.str("terminal_id", MAX_TERMINAL_ID_LEN)?.to_string();
        let tenant = d.str("tenant", MAX_TENANT_LEN)?.to_string();
        let sample = Sample {
            terminal_id,
            tenant,
            config_hash: d.hash()?,
            seq: d.u64()?,
            taken_at_ms: d.u64()?,
            net_rx_bytes: d.u64()?,
            net_tx_bytes: d.u64()?,
            cpu_time_us: d.u64()?,
            memory_bytes: d.u64()?,
            storage_bytes: d.u64()?,
            idle_cpu_permille: d.u16()?,
            idle_memory_bytes: d.u64()?,
            idle_disk_bytes: d.u64()?,
            link_rtt_us: d.u32()?,
            link_loss_ppm: d.u32()?,
            app_up: match d.u8()? {
                0 => false,
                1 => true,
                v => {
                    return Err(DecodeError::InvalidValue {
                        what: "app_up",
                        value: v.into(),
                    }
                    .into())
                }
            },
        };
        d.finish()?;
        sample.validate()?;
        Ok(sample)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) use crate::simulate::example_sample as example;

    #[test]
    fn a_sample_round_trips_through_its_encoding() {
        let s = example(7);
        let bytes = s.encode().unwrap();
        assert_eq!(Sample::decode(&bytes).unwrap(), s);
    }

    #[test]
    fn the_encoding_starts_with_the_domain_tag_and_is_big_endian() {
        let bytes = example(0x0102).encode().unwrap();
        let tag_len = SAMPLE_DOMAIN.len();
        assert_eq!(&bytes[..4], &(tag_len as u32).to_be_bytes());
        assert_eq!(&bytes[4..4 + tag_len], SAMPLE_DOMAIN.as_bytes());
        // tag, "term-1", "acme", the config hash, then seq.
        let hash_at = 4 + tag_len + 4 + 6 + 4 + 4;
        assert_eq!(&bytes[hash_at..hash_at + 32], &[0xc0; 32]);
        let seq_at = hash_at + 32;
        assert_eq!(&bytes[seq_at..seq_at + 8], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(bytes.len(), seq_at + 8 * 9 + 2 + 4 + 4 + 1);
        assert_eq!(bytes.last(), Some(&1));
    }

    #[test]
    fn another_domain_tag_is_refused() {
        let mut bytes = example(1).encode().unwrap();
        bytes[4 + SAMPLE_DOMAIN.len() - 1] = b'x';
        assert!(matches!(
            Sample::decode(&bytes),
            Err(SampleError::WrongDomain { .. })
        ));
    }

    #[test]
    fn a_first_version_sample_without_a_config_hash_is_refused() {
        let s = example(1);
        let mut e = Encoder::new();
        e.str("usagechain/v1/sample")
            .str(&s.terminal_id)
            .str(&s.tenant);
        let v2 = s.encode().unwrap();
        let rest = &v2[4 + SAMPLE_DOMAIN.len() + 4 + 6 + 4 + 4 + 32..];
        let mut v1 = e.finish();
        v1.extend_from_slice(rest);
        assert_eq!(
            Sample::decode(&v1),
            Err(SampleError::WrongDomain {
                found: "usagechain/v1/sample".into()
            })
        );
    }

    #[test]
    fn trailing_short_and_non_boolean_input_is_refused() {
        let bytes = example(1).encode().unwrap();
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            Sample::decode(&longer),
            Err(SampleError::Decode(DecodeError::TrailingBytes {
                remaining: 1
            }))
        );
        assert!(matches!(
            Sample::decode(&bytes[..bytes.len() - 1]),
            Err(SampleError::Decode(DecodeError::UnexpectedEnd { .. }))
        ));
        let mut two = bytes.clone();
        *two.last_mut().unwrap() = 2;
        assert!(matches!(
            Sample::decode(&two),
            Err(SampleError::Decode(DecodeError::InvalidValue {
                what: "app_up",
                ..
            }))
        ));
    }

    #[test]
    fn out_of_range_fields_are_refused_on_both_sides() {
        let mut s = example(1);
        s.idle_cpu_permille = 1001;
        assert!(matches!(s.encode(), Err(SampleError::OutOfRange { .. })));
        let mut s = example(1);
        s.link_loss_ppm = MAX_PPM + 1;
        assert!(matches!(s.encode(), Err(SampleError::OutOfRange { .. })));
        let mut s = example(1);
        s.tenant.clear();
        assert!(matches!(s.encode(), Err(SampleError::BadIdentifier { .. })));

        // A hand-made encoding with permille 1001 does not decode either.
        let bytes = example(1).encode().unwrap();
        let permille_at = bytes.len() - 1 - 4 - 4 - 8 - 8 - 2;
        let mut tampered = bytes.clone();
        tampered[permille_at..permille_at + 2].copy_from_slice(&1001u16.to_be_bytes());
        assert!(matches!(
            Sample::decode(&tampered),
            Err(SampleError::OutOfRange {
                what: "idle_cpu_permille",
                ..
            })
        ));
    }

    proptest! {
        #[test]
        fn any_valid_sample_round_trips(
            seq in any::<u64>(), ms in any::<u64>(), rx in any::<u64>(), tx in any::<u64>(),
            permille in 0u16..=1000, ppm in 0u32..=1_000_000, up in any::<bool>(),
            tenant in "[a-z0-9-]{1,128}", config_hash in any::<[u8; 32]>(),
        ) {
            let s = Sample { seq, taken_at_ms: ms, net_rx_bytes: rx, net_tx_bytes: tx,
                idle_cpu_permille: permille, link_loss_ppm: ppm, app_up: up, tenant, config_hash,
                ..example(0) };
            prop_assert_eq!(Sample::decode(&s.encode().unwrap()).unwrap(), s);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Sample::decode(&bytes);
        }

        #[test]
        fn any_single_changed_byte_is_refused_or_decodes_to_a_different_sample(
            idx in any::<prop::sample::Index>(), flip in 1u8..=255,
        ) {
            let s = example(42);
            let mut bytes = s.encode().unwrap();
            let i = idx.index(bytes.len());
            bytes[i] ^= flip;
            if let Ok(other) = Sample::decode(&bytes) {
                prop_assert_ne!(other, s);
            }
        }
    }
}
