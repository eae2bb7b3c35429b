//! Deterministic aggregation of one terminal's samples into the usage record of one window
//! (design flow 2). Integer arithmetic only, every step checked.
//!
//! Rules:
//! - The window is `[window_start, window_start + window_len_s)` seconds; a sample is taken in
//!   it when its `taken_at_ms` falls inside. Samples of another terminal are ignored. Samples are
//!   ordered by `seq`; identical duplicates are merged, conflicting ones refused.
//! - The record reads the chain `baseline, samples...`: the baseline, then every sample after it
//!   (higher `seq`) taken before the window's end, up to `until_seq` if given. The baseline is
//!   the last sample the record of the terminal's previous window used, as proven; so a sample
//!   that arrived after that record was proven (taken in the previous window, but too late for
//!   it) is read by this window's record, and what it measured is billed here instead of being
//!   lost. With no such record the baseline is the last sample taken before the window; with no
//!   sample before the window the chain starts at the window's first sample. `until_seq` is where
//!   the chain of an already proven later window starts: a window proven after a later one reads
//!   nothing that later one read. Every record reports the [`Span`] it read, so the next window
//!   can start where it ended: window after window, each interval between two readings is read by
//!   exactly one record.
//! - The record's tenant is given (the tenant of the lease covering the window). A sample naming
//!   another tenant stays in the chain of readings but bills nothing: the interval ending at it
//!   is counted for no one (it is reported as unbilled), the interval after it is counted as
//!   usual. A window without a sample taken in it naming the tenant (after the baseline) has no
//!   record.
//! - Cumulative counters (`net_rx_bytes`, `net_tx_bytes`, `cpu_time_us`): the sum of their
//!   increments over the billed intervals of the chain; when every sample names the tenant this
//!   is the chain's last sample minus its first. A counter that decreases between any two
//!   consecutive samples is [`AggregateError::CounterReset`].
//! - Gauges are integrated as a step function: each reading holds from its `taken_at` until the
//!   next sample's. The intervals summed are the billed intervals between consecutive samples of
//!   the chain; nothing is extrapolated beyond the last reading. Sums are kept in byte·ms (u128)
//!   and floored once: `memory_mib_s = floor(Σ memory_bytes · Δms / (MiB · 1000))`, likewise
//!   storage, idle memory (`idle_memory_bytes`) and idle storage (`idle_disk_bytes`).
//! - `idle_cpu_millicore_s = floor(Σ idle_cpu_permille · Δms / 1000)`: the sample carries no core
//!   count, so a permille of the terminal is counted as millicores of one core.
//! - `app_up_s` / `app_down_s`: `floor(Σ Δms / 1000)` over billed intervals whose left reading
//!   was up / down.
//! - `link_rtt_us`, `link_loss_ppm`: floor of the arithmetic mean over the chain's samples after
//!   the baseline that name the tenant.

use thiserror::Error;
use usage_common::record::{align, Metrics, UsageRecord};
use usage_sample::sample::Sample;

const MIB: u128 = 1 << 20;
const MS_PER_S: u128 = 1_000;

/// Why a window could not be aggregated.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum AggregateError {
    /// The window length is zero or the start is not a multiple of it.
    #[error("invalid window: start {window_start}, length {window_len_s} s")]
    InvalidWindow {
        /// The window start, seconds.
        window_start: u64,
        /// The window length, seconds.
        window_len_s: u64,
    },
    /// A cumulative counter decreased between two consecutive samples.
    #[error("counter {field} went backwards at sample {seq}")]
    CounterReset {
        /// The counter.
        field: &'static str,
        /// The sequence number of the sample where it decreased.
        seq: u64,
    },
    /// Two different samples carry the same sequence number.
    #[error("two different samples carry sequence number {seq}")]
    ConflictingSamples {
        /// The sequence number.
        seq: u64,
    },
    /// Sequence and time disagree: a later sample was taken earlier, or `previous` is not before
    /// the window's samples.
    #[error("sample {seq} is out of order")]
    OutOfOrder {
        /// The sequence number of the offending sample.
        seq: u64,
    },
    /// A total does not fit its type.
    #[error("{field} overflows")]
    Overflow {
        /// The quantity that overflowed.
        field: &'static str,
    },
}

/// The samples a record read, by sequence number: the chain after `base` up to `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The baseline: the sample before the chain, if any.
    pub base: Option<u64>,
    /// The first sample after the baseline.
    pub first: u64,
    /// The last sample: the baseline of the terminal's next record.
    pub last: u64,
}

impl Span {
    /// Where this record's chain starts (its baseline, or its first sample without one): the
    /// most an earlier window's record may read up to.
    pub fn start(&self) -> u64 {
        self.base.unwrap_or(self.first)
    }
}

/// A window's usage record, the samples it read and what was left out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRecord {
    /// The record.
    pub record: UsageRecord,
    /// The samples it read.
    pub span: Span,
    /// Samples it read naming another tenant than the record's: what they measured is billed to
    /// no one.
    pub unbilled: u64,
}

/// Computes the usage record of `(terminal_id, tenant)` for the window starting at `window_start`
/// (seconds, a multiple of `window_len_s`) from the chain `baseline, samples...`: `samples` are
/// any order; those of another terminal, at or before the baseline, taken at or after the
/// window's end, or after `until_seq` are ignored. `Ok(None)` when no sample after the baseline
/// taken in the window names `tenant`. See the module documentation for the exact rules.
pub fn aggregate_window(
    terminal_id: &str,
    tenant: &str,
    window_start: u64,
    window_len_s: u64,
    baseline: Option<&Sample>,
    samples: &[Sample],
    until_seq: Option<u64>,
) -> Result<Option<WindowRecord>, AggregateError> {
    if window_len_s == 0 || align(window_start, window_len_s) != window_start {
        return Err(AggregateError::InvalidWindow {
            window_start,
            window_len_s,
        });
    }
    let overflow = |field| AggregateError::Overflow { field };
    let start_ms = window_start
        .checked_mul(1_000)
        .ok_or(overflow("window start"))?;
    let len_ms = window_len_s
        .checked_mul(1_000)
        .ok_or(overflow("window length"))?;
    let end_ms = start_ms.checked_add(len_ms).ok_or(overflow("window end"))?;

    let after = baseline.map(|b| b.seq);
    let mut window: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.terminal_id == terminal_id)
        .filter(|s| s.taken_at_ms < end_ms)
        .filter(|s| after.is_none_or(|a| s.seq > a) && until_seq.is_none_or(|u| s.seq <= u))
        .collect();
    if !window
        .iter()
        .any(|s| s.tenant == tenant && s.taken_at_ms >= start_ms)
    {
        return Ok(None);
    }
    window.sort_by_key(|s| s.seq);
    let mut deduped: Vec<&Sample> = Vec::with_capacity(window.len());
    for s in window {
        match deduped.last() {
            Some(last) if last.seq == s.seq => {
                if *last != s {
                    return Err(AggregateError::ConflictingSamples { seq: s.seq });
                }
            }
            _ => deduped.push(s),
        }
    }

    let mut chain: Vec<&Sample> = Vec::with_capacity(deduped.len() + 1);
    if let Some(b) = baseline {
        chain.push(b);
    }
    chain.extend(deduped.iter().copied());

    let mut rx: u64 = 0;
    let mut tx: u64 = 0;
    let mut cpu: u64 = 0;
    let mut memory: u128 = 0;
    let mut storage: u128 = 0;
    let mut idle_cpu: u128 = 0;
    let mut idle_memory: u128 = 0;
    let mut idle_storage: u128 = 0;
    let mut up_ms: u128 = 0;
    let mut down_ms: u128 = 0;
    for pair in chain.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.seq <= a.seq || b.taken_at_ms < a.taken_at_ms {
            return Err(AggregateError::OutOfOrder { seq: b.seq });
        }
        let mut increments = [0u64; 3];
        for (i, (field, before, after)) in [
            ("net_rx_bytes", a.net_rx_bytes, b.net_rx_bytes),
            ("net_tx_bytes", a.net_tx_bytes, b.net_tx_bytes),
            ("cpu_time_us", a.cpu_time_us, b.cpu_time_us),
        ]
        .into_iter()
        .enumerate()
        {
            increments[i] = after
                .checked_sub(before)
                .ok_or(AggregateError::CounterReset { field, seq: b.seq })?;
        }
        // What the interval measured is billed to the tenant its right end names.
        if b.tenant != tenant {
            continue;
        }
        for (acc, inc, field) in [
            (&mut rx, increments[0], "net_rx_bytes"),
            (&mut tx, increments[1], "net_tx_bytes"),
            (&mut cpu, increments[2], "cpu_time_us"),
        ] {
            *acc = acc.checked_add(inc).ok_or(overflow(field))?;
        }
        let dt = u128::from(b.taken_at_ms - a.taken_at_ms);
        let add = |acc: &mut u128, value: u64, field| -> Result<(), AggregateError> {
            let term = u128::from(value).checked_mul(dt).ok_or(overflow(field))?;
            *acc = acc.checked_add(term).ok_or(overflow(field))?;
            Ok(())
        };
        add(&mut memory, a.memory_bytes, "memory_mib_s")?;
        add(&mut storage, a.storage_bytes, "storage_mib_s")?;
        add(
            &mut idle_cpu,
            a.idle_cpu_permille.into(),
            "idle_cpu_millicore_s",
        )?;
        add(&mut idle_memory, a.idle_memory_bytes, "idle_memory_mib_s")?;
        add(&mut idle_storage, a.idle_disk_bytes, "idle_storage_mib_s")?;
        if a.app_up {
            add(&mut up_ms, 1, "app_up_s")?;
        } else {
            add(&mut down_ms, 1, "app_down_s")?;
        }
    }

    let billed: Vec<&Sample> = deduped
        .iter()
        .copied()
        .filter(|s| s.tenant == tenant)
        .collect();
    let unbilled = (deduped.len() - billed.len()) as u64;
    let (Some(first), Some(last)) = (deduped.first(), deduped.last()) else {
        return Ok(None);
    };
    let span = Span {
        base: after,
        first: first.seq,
        last: last.seq,
    };
    // At least one sample of the window names the tenant.
    let count = billed.len().max(1) as u128;
    let rtt_sum: u128 = billed.iter().map(|s| u128::from(s.link_rtt_us)).sum();
    let loss_sum: u128 = billed.iter().map(|s| u128::from(s.link_loss_ppm)).sum();
    let to_u64 = |v: u128, field| u64::try_from(v).map_err(|_| overflow(field));

    let metrics = Metrics {
        net_rx_bytes: rx,
        net_tx_bytes: tx,
        cpu_time_us: cpu,
        memory_mib_s: to_u64(memory / (MIB * MS_PER_S), "memory_mib_s")?,
        storage_mib_s: to_u64(storage / (MIB * MS_PER_S), "storage_mib_s")?,
        idle_cpu_millicore_s: to_u64(idle_cpu / MS_PER_S, "idle_cpu_millicore_s")?,
        idle_memory_mib_s: to_u64(idle_memory / (MIB * MS_PER_S), "idle_memory_mib_s")?,
        idle_storage_mib_s: to_u64(idle_storage / (MIB * MS_PER_S), "idle_storage_mib_s")?,
        link_rtt_us: to_u64(rtt_sum / count, "link_rtt_us")?,
        link_loss_ppm: to_u64(loss_sum / count, "link_loss_ppm")?,
        app_up_s: to_u64(up_ms / MS_PER_S, "app_up_s")?,
        app_down_s: to_u64(down_ms / MS_PER_S, "app_down_s")?,
    };
    Ok(Some(WindowRecord {
        record: UsageRecord {
            terminal_id: terminal_id.to_string(),
            window_start,
            tenant: tenant.to_string(),
            metrics,
        },
        span,
        unbilled,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::tests::sample;
    use proptest::prelude::*;

    const W: u64 = 1_700_000_000; // a multiple of 10
    const W_MS: u64 = W * 1_000;

    /// Samples every 2 s from the window start, with counters growing by fixed steps.
    fn series(n: u64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                net_rx_bytes: 1_000 + 100 * i,
                net_tx_bytes: 2_000 + 10 * i,
                cpu_time_us: 3_000 + 500_000 * i,
                app_up: i != 2,
                link_rtt_us: 800 + i as u32,
                ..sample(10 + i, W_MS + 2_000 * i)
            })
            .collect()
    }

    fn run(
        previous: Option<&Sample>,
        samples: &[Sample],
    ) -> Result<Option<UsageRecord>, AggregateError> {
        aggregate_window("term-1", "usage1tenant", W, 10, previous, samples, None)
            .map(|r| r.map(|w| w.record))
    }

    #[test]
    fn a_window_without_samples_has_no_record() {
        assert_eq!(run(None, &[]), Ok(None));
        let outside = vec![sample(1, W_MS - 1), sample(2, W_MS + 10_000)];
        assert_eq!(run(None, &outside), Ok(None));
    }

    #[test]
    fn counters_are_differences_and_gauges_are_integrated_over_the_intervals() {
        // Five samples at 0, 2, 4, 6, 8 s: four intervals of 2 s.
        let r = run(None, &series(5)).unwrap().unwrap();
        let m = r.metrics;
        assert_eq!((r.terminal_id.as_str(), r.window_start), ("term-1", W));
        assert_eq!(m.net_rx_bytes, 400);
        assert_eq!(m.net_tx_bytes, 40);
        assert_eq!(m.cpu_time_us, 2_000_000);
        assert_eq!(m.memory_mib_s, 4 * 8);
        assert_eq!(m.storage_mib_s, 5 * 8);
        assert_eq!(m.idle_memory_mib_s, 6 * 8);
        assert_eq!(m.idle_storage_mib_s, 7 * 8);
        assert_eq!(m.idle_cpu_millicore_s, 600 * 8);
        // The sample at 4 s was down, so the interval 4..6 s counts as down.
        assert_eq!((m.app_up_s, m.app_down_s), (6, 2));
        assert_eq!(m.link_rtt_us, 802);
        assert_eq!(m.link_loss_ppm, 9);
    }

    #[test]
    fn the_previous_sample_is_the_counter_baseline_and_opens_the_first_interval() {
        let prev = Sample {
            net_rx_bytes: 500,
            ..sample(9, W_MS - 1_000)
        };
        let r = run(Some(&prev), &series(5)).unwrap().unwrap();
        assert_eq!(r.metrics.net_rx_bytes, 1_400 - 500);
        // One more interval of 1 s from the previous sample (4 MiB held, app up).
        assert_eq!(r.metrics.memory_mib_s, 4 * 9);
        assert_eq!(r.metrics.app_up_s, 7);
    }

    #[test]
    fn a_counter_going_backwards_is_a_counter_reset() {
        let mut s = series(3);
        s[2].cpu_time_us = 0;
        assert_eq!(
            run(None, &s),
            Err(AggregateError::CounterReset {
                field: "cpu_time_us",
                seq: 12
            })
        );
        let prev = Sample {
            net_tx_bytes: u64::MAX,
            ..sample(1, W_MS - 5)
        };
        assert!(matches!(
            run(Some(&prev), &series(2)),
            Err(AggregateError::CounterReset {
                field: "net_tx_bytes",
                ..
            })
        ));
    }

    #[test]
    fn conflicting_duplicates_are_refused_and_identical_ones_merged() {
        let mut s = series(3);
        s.push(s[1].clone());
        assert_eq!(run(None, &s), run(None, &series(3)));
        s[3].memory_bytes += 1;
        assert_eq!(
            run(None, &s),
            Err(AggregateError::ConflictingSamples { seq: 11 })
        );
    }

    #[test]
    fn a_later_sequence_number_taken_earlier_is_out_of_order() {
        let mut s = series(3);
        s[2].taken_at_ms = W_MS + 1;
        assert_eq!(run(None, &s), Err(AggregateError::OutOfOrder { seq: 12 }));
    }

    #[test]
    fn a_misaligned_or_empty_window_is_refused() {
        assert!(matches!(
            aggregate_window("term-1", "usage1tenant", W + 1, 10, None, &series(2), None),
            Err(AggregateError::InvalidWindow { .. })
        ));
        assert!(matches!(
            aggregate_window("term-1", "usage1tenant", W, 0, None, &series(2), None),
            Err(AggregateError::InvalidWindow { .. })
        ));
    }

    #[test]
    fn samples_of_another_terminal_are_ignored() {
        let mut s = series(3);
        let mut foreign = s[1].clone();
        foreign.terminal_id = "term-2".into();
        foreign.seq = 99;
        s.push(foreign);
        assert_eq!(run(None, &s), run(None, &series(3)));
    }

    #[test]
    fn the_intervals_ending_at_a_sample_naming_another_tenant_are_not_billed() {
        // Five samples at 0, 2, 4, 6, 8 s; the one at 4 s names another tenant: what it measured
        // (the interval 2..4 s) is billed to no one, the intervals after it are billed.
        let mut s = series(5);
        s[2].tenant = "usage1other".into();
        let r = run(None, &s).unwrap().unwrap();
        let m = r.metrics;
        assert_eq!(r.tenant, "usage1tenant");
        assert_eq!(m.net_rx_bytes, 400 - 100);
        assert_eq!(m.cpu_time_us, 2_000_000 - 500_000);
        assert_eq!(m.memory_mib_s, 4 * 6);
        // 0..2 up, 2..4 not billed, 4..6 down (the reading at 4 s), 6..8 up.
        assert_eq!((m.app_up_s, m.app_down_s), (4, 2));
        // The mean over the billed samples: those at 0, 2, 6 and 8 s.
        assert_eq!(m.link_rtt_us, (800 + 801 + 803 + 804) / 4);
        let w = aggregate_window("term-1", "usage1tenant", W, 10, None, &s, None)
            .unwrap()
            .unwrap();
        assert_eq!((w.record, w.unbilled), (r, 1));
        // A window whose samples all name another tenant has no record.
        for x in &mut s {
            x.tenant = "usage1other".into();
        }
        assert_eq!(run(None, &s), Ok(None));
    }

    #[test]
    fn a_window_whose_milliseconds_do_not_fit_is_a_typed_overflow() {
        let start = align(u64::MAX, 10);
        assert_eq!(
            aggregate_window("term-1", "usage1tenant", start, 10, None, &series(1), None),
            Err(AggregateError::Overflow {
                field: "window start"
            })
        );
    }

    /// Sample `seq` taken `at_ms` after the window start (negative: before it), its counters and
    /// memory growing with `seq`.
    fn reading(seq: u64, at_ms: i64) -> Sample {
        Sample {
            net_rx_bytes: 1_000 * seq * seq,
            cpu_time_us: 7_000 * seq,
            memory_bytes: seq << 20,
            ..sample(seq, (W_MS as i64 + at_ms) as u64)
        }
    }

    fn at(
        window: u64,
        baseline: Option<&Sample>,
        samples: &[Sample],
        until: Option<u64>,
    ) -> WindowRecord {
        aggregate_window(
            "term-1",
            "usage1tenant",
            window,
            10,
            baseline,
            samples,
            until,
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn a_sample_too_late_for_its_window_is_read_by_the_next_and_nothing_is_counted_twice() {
        let v = [reading(1, -8_000), reading(2, -6_000)];
        let late = reading(3, -2_000);
        let w = [reading(4, 1_000), reading(5, 3_000)];
        // Window W - 10 proven before the late sample arrived.
        let before = at(W - 10, None, &v, None);
        assert_eq!(
            before.span,
            Span {
                base: None,
                first: 1,
                last: 2
            }
        );
        // Window W starts where that record ended, and reads the late sample.
        let all: Vec<Sample> = v.iter().chain([&late]).chain(&w).cloned().collect();
        let after = at(W, Some(&v[1]), &all, None);
        assert_eq!(
            after.span,
            Span {
                base: Some(2),
                first: 3,
                last: 5
            }
        );
        let m = after.record.metrics;
        assert_eq!(m.net_rx_bytes, w[1].net_rx_bytes - v[1].net_rx_bytes);
        // Both records together count every interval from the first reading to the last once.
        let total = |f: fn(&Metrics) -> u64| f(&before.record.metrics) + f(&m);
        assert_eq!(
            total(|m| m.net_rx_bytes),
            w[1].net_rx_bytes - v[0].net_rx_bytes
        );
        assert_eq!(
            total(|m| m.cpu_time_us),
            w[1].cpu_time_us - v[0].cpu_time_us
        );
        // 1 MiB for 2 s, 2 MiB for 4 s, 3 MiB for 3 s, 4 MiB for 2 s.
        assert_eq!(total(|m| m.memory_mib_s), 2 + 2 * 4 + 3 * 3 + 4 * 2);
        assert_eq!(total(|m| m.app_up_s), 11);
        // The late sample alone, taken before the window, makes no record of it.
        assert_eq!(
            aggregate_window("term-1", "usage1tenant", W, 10, Some(&v[1]), &[late], None),
            Ok(None)
        );
    }

    #[test]
    fn a_window_proven_after_a_later_one_reads_nothing_that_one_read() {
        let v = [reading(1, -8_000), reading(2, -6_000), reading(3, -2_000)];
        let w = [reading(4, 1_000), reading(5, 3_000)];
        let all: Vec<Sample> = v.iter().chain(&w).cloned().collect();
        // Window W was proven first, from the last sample before it.
        let later = at(W, Some(&v[2]), &all, None);
        assert_eq!(later.span.start(), 3);
        // Window W - 10 reads up to where W started, whatever samples it is handed.
        let earlier = at(W - 10, None, &all, Some(later.span.start()));
        assert_eq!(earlier.span.last, 3);
        assert_eq!(
            earlier.record.metrics.net_rx_bytes + later.record.metrics.net_rx_bytes,
            w[1].net_rx_bytes - v[0].net_rx_bytes
        );
        // Had W started before any sample of W - 10, W - 10 would have nothing left to read.
        assert_eq!(
            aggregate_window("term-1", "usage1tenant", W - 10, 10, None, &all, Some(0)),
            Ok(None)
        );
    }

    fn arb_samples() -> impl Strategy<Value = Vec<Sample>> {
        proptest::collection::vec(
            (
                0u64..2_000,
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                any::<u16>(),
                any::<bool>(),
            ),
            1..12,
        )
        .prop_map(|steps| {
            let mut t = W_MS;
            let (mut rx, mut tx, mut cpu) = (0u64, 0u64, 0u64);
            steps
                .into_iter()
                .enumerate()
                .map(|(i, (dt, drx, mem, disk, permille, up))| {
                    t += dt;
                    rx = rx.saturating_add(drx);
                    tx = tx.saturating_add(drx / 3);
                    cpu = cpu.saturating_add(drx / 7);
                    Sample {
                        net_rx_bytes: rx,
                        net_tx_bytes: tx,
                        cpu_time_us: cpu,
                        memory_bytes: mem,
                        storage_bytes: disk,
                        idle_memory_bytes: mem,
                        idle_disk_bytes: disk,
                        idle_cpu_permille: permille % 1001,
                        link_rtt_us: u32::MAX,
                        link_loss_ppm: 1_000_000,
                        app_up: up,
                        ..sample(i as u64 + 1, t)
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn the_record_does_not_depend_on_the_order_of_the_samples(
            (samples, shuffled) in arb_samples().prop_flat_map(|s| {
                let shuffled = Just(s.clone()).prop_shuffle();
                (Just(s), shuffled)
            })
        ) {
            prop_assert_eq!(run(None, &samples), run(None, &shuffled));
        }

        #[test]
        fn extreme_values_give_a_record_or_a_typed_overflow_never_a_panic(samples in arb_samples()) {
            match run(None, &samples) {
                Ok(Some(r)) => prop_assert!(r.metrics.app_up_s + r.metrics.app_down_s <= 10),
                Ok(None) => prop_assert!(false, "the window holds samples"),
                Err(e) => prop_assert!(matches!(e, AggregateError::Overflow { .. }), "{e}"),
            }
        }
    }
}
