//! Physical plausibility of a terminal's sample against its previous one (design flow 2, "checks
//! it"): gauges within bounds, time moving forward, cumulative counters never decreasing and
//! growing no faster than hardware can. Every aggregator applies the same limits, so honest
//! members refuse the same samples.

use thiserror::Error;
use usage_sample::sample::Sample;

/// Fastest plausible network rate, bytes per second (100 Gbit/s).
pub const MAX_NET_BYTES_PER_S: u64 = 12_500_000_000;
/// Most CPU time per second of wall time, microseconds (1,024 cores).
pub const MAX_CPU_US_PER_S: u64 = 1_024_000_000;
/// Largest plausible memory or storage gauge, bytes (1 PiB).
pub const MAX_GAUGE_BYTES: u64 = 1 << 50;

/// Why a sample cannot be physically true. The messages are what the ingest API returns to
/// attestors with the `implausible` verdict.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum Implausible {
    /// Memory or storage above [`MAX_GAUGE_BYTES`].
    #[error("memory or storage above 1 PiB")]
    GaugeTooLarge,
    /// Taken at or before the previous sample.
    #[error("taken at {taken_at_ms} ms, not after the previous sample ({previous_ms} ms)")]
    NotAfterPrevious {
        /// When the sample claims to be taken.
        taken_at_ms: u64,
        /// When the previous sample was taken.
        previous_ms: u64,
    },
    /// A cumulative counter is below its previous value.
    #[error("{counter} went backwards")]
    CounterWentBackwards {
        /// The counter's field name.
        counter: &'static str,
    },
    /// A cumulative counter grew faster than its limit allows.
    #[error("{counter} grew {delta} in {dt_ms} ms, above {per_s} per second")]
    TooFast {
        /// The counter's field name.
        counter: &'static str,
        /// How much it grew.
        delta: u64,
        /// In how many milliseconds.
        dt_ms: u64,
        /// The most it may grow per second.
        per_s: u64,
    },
}

/// Physical plausibility of `s` after `prev` (the terminal's previous sample, if any). Checked in
/// order: gauges, time, then `net_rx_bytes`, `net_tx_bytes` and `cpu_time_us`; the first failure
/// is returned.
pub fn plausible(prev: Option<&Sample>, s: &Sample) -> Result<(), Implausible> {
    if s.memory_bytes > MAX_GAUGE_BYTES || s.storage_bytes > MAX_GAUGE_BYTES {
        return Err(Implausible::GaugeTooLarge);
    }
    let Some(p) = prev else {
        return Ok(());
    };
    if s.taken_at_ms <= p.taken_at_ms {
        return Err(Implausible::NotAfterPrevious {
            taken_at_ms: s.taken_at_ms,
            previous_ms: p.taken_at_ms,
        });
    }
    let dt_ms = s.taken_at_ms - p.taken_at_ms;
    let check = |counter: &'static str, now: u64, before: u64, per_s: u64| {
        let Some(delta) = now.checked_sub(before) else {
            return Err(Implausible::CounterWentBackwards { counter });
        };
        // delta / dt_ms * 1000 > per_s, in integers without overflow.
        if u128::from(delta) * 1_000 > u128::from(per_s) * u128::from(dt_ms) {
            return Err(Implausible::TooFast {
                counter,
                delta,
                dt_ms,
                per_s,
            });
        }
        Ok(())
    };
    check(
        "net_rx_bytes",
        s.net_rx_bytes,
        p.net_rx_bytes,
        MAX_NET_BYTES_PER_S,
    )?;
    check(
        "net_tx_bytes",
        s.net_tx_bytes,
        p.net_tx_bytes,
        MAX_NET_BYTES_PER_S,
    )?;
    check(
        "cpu_time_us",
        s.cpu_time_us,
        p.cpu_time_us,
        MAX_CPU_US_PER_S,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::sample;

    fn after(p: &Sample, dt_ms: u64) -> Sample {
        Sample {
            seq: p.seq + 1,
            taken_at_ms: p.taken_at_ms + dt_ms,
            ..p.clone()
        }
    }

    #[test]
    fn a_first_sample_is_checked_only_for_its_gauges() {
        let s = sample(1, 1_000);
        assert_eq!(plausible(None, &s), Ok(()));
        let huge = Sample {
            storage_bytes: MAX_GAUGE_BYTES + 1,
            ..s.clone()
        };
        assert_eq!(plausible(None, &huge), Err(Implausible::GaugeTooLarge));
        assert_eq!(
            Implausible::GaugeTooLarge.to_string(),
            "memory or storage above 1 PiB"
        );
    }

    #[test]
    fn a_sample_not_after_its_predecessor_is_refused_with_both_times() {
        let p = sample(1, 5_000);
        let err = plausible(Some(&p), &after(&p, 0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "taken at 5000 ms, not after the previous sample (5000 ms)"
        );
    }

    #[test]
    fn a_counter_going_backwards_is_refused_by_name() {
        let p = sample(1, 5_000);
        let mut s = after(&p, 1_000);
        s.net_tx_bytes = p.net_tx_bytes - 1;
        let err = plausible(Some(&p), &s).unwrap_err();
        assert_eq!(err.to_string(), "net_tx_bytes went backwards");
    }

    #[test]
    fn growth_up_to_the_rate_limit_passes_and_one_more_is_refused() {
        let p = sample(1, 5_000);
        let mut s = after(&p, 2_000);
        s.cpu_time_us = p.cpu_time_us + 2 * MAX_CPU_US_PER_S;
        assert_eq!(plausible(Some(&p), &s), Ok(()));
        s.cpu_time_us += 1;
        let err = plausible(Some(&p), &s).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cpu_time_us grew {} in 2000 ms, above {MAX_CPU_US_PER_S} per second",
                2 * MAX_CPU_US_PER_S + 1
            )
        );
    }
}
