//! The fleet benchmark: a one-validator localnet, four aggregators (threshold 3) and a simulated
//! fleet of N terminals leased to two tenant accounts; prints the usage records proven per second and the latency from a
//! window's close to the block that proved it (p50, p99, max).
//!
//! ```text
//! bash scripts/fleet-bench.sh 1000 120      # terminals, measured seconds
//! ```
//! (builds `usaged`, `usage-aggregator` and `usage-attestor` with the `native` profile first).
//! Arguments: `terminals seconds [interval_ms] [settle_ms]`.
//!
//! Also prints the share of the offered records (one per terminal per 10-s window) proven, the CPU
//! share and resident memory of each process of the localnet over the measured span, and draws
//! the latency's cumulative distribution into `fleet-bench-<terminals>.png` (in `$BENCH_OUT`,
//! default `target/bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failure ends the run with its reason

use std::time::{Duration, Instant};

use usage_devtools::committee::Net;

/// The events of block `height`, waiting while the node has not stored its results yet.
async fn block(net: &Net, height: u64) -> usage_client::BlockEvents {
    let mut tries = 0;
    loop {
        match net.client.block_events(height).await {
            Ok(b) => return b,
            Err(e) => {
                tries += 1;
                assert!(tries < 50, "block {height}: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric arguments"))
        .collect();
    let terminals = args.first().copied().unwrap_or(1_000);
    let seconds = args.get(1).copied().unwrap_or(120);
    let interval_ms = args.get(2).copied().unwrap_or(1_000);
    let settle_ms = args.get(3).copied().unwrap_or(500);
    let window_ms = 10_000u64;

    let started = Instant::now();
    let mut net = Net::start("usagechain-fleet-bench", terminals).await;
    let tenants = usage_devtools::fleet::tenants(&net, 2);
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    eprintln!(
        "localnet up, {terminals} terminals registered and leased in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for c in &mut net.configs {
        c.timing.settle_ms = settle_ms;
    }
    net.fleet_interval_ms = interval_ms;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.start_fleet();

    // Warm up: until the first proofs land, then one more window.
    let warm = Instant::now();
    let mut height = net.client.status().await.expect("status").0;
    'warm: loop {
        let latest = net.client.status().await.expect("status").0;
        while height < latest {
            height += 1;
            let b = block(&net, height).await;
            if b.events.iter().any(|e| e.event.ty == "usage_proof") {
                break 'warm;
            }
        }
        assert!(
            warm.elapsed() < Duration::from_secs(120),
            "no proofs within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(window_ms)).await;
    let from = net.client.status().await.expect("status").0;
    eprintln!(
        "first proofs after {:.1} s; measuring {seconds} s from height {from}",
        warm.elapsed().as_secs_f64()
    );

    let measure = Instant::now();
    let me = std::process::id();
    let cpu_before: Vec<_> = usage_bench::procs::descendants(me)
        .into_iter()
        .chain([me])
        .filter_map(usage_bench::procs::read)
        .collect();
    let mut latencies: Vec<u64> = vec![];
    // Records proven per window start, to compare with what the fleet offered.
    let mut per_window: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut first_ms = None;
    let mut last_ms = 0;
    let mut height = from;
    let mut last_report = Instant::now();
    while measure.elapsed() < Duration::from_secs(seconds) {
        let latest = net.client.status().await.expect("status").0;
        while height < latest {
            height += 1;
            let b = block(&net, height).await;
            first_ms.get_or_insert(b.time_ms);
            last_ms = b.time_ms;
            for e in b.events.iter().filter(|e| e.event.ty == "usage_proof") {
                let w: u64 = e
                    .get("window_start")
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0);
                let closed_ms = (w * 1_000) + window_ms;
                latencies.push(b.time_ms.saturating_sub(closed_ms));
                *per_window.entry(w).or_default() += 1;
            }
        }
        if last_report.elapsed() >= Duration::from_secs(10) {
            let span = last_ms.saturating_sub(first_ms.unwrap_or(last_ms)).max(1);
            eprintln!(
                "  {:>4} s: {} records proven, {:.0} records/s",
                measure.elapsed().as_secs(),
                latencies.len(),
                latencies.len() as f64 * 1_000.0 / span as f64
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let cpu_after: Vec<_> = cpu_before
        .iter()
        .filter_map(|p| usage_bench::procs::read(p.pid))
        .collect();
    let cpu =
        usage_bench::procs::cpu_shares(&cpu_before, &cpu_after, measure.elapsed().as_secs_f64());
    net.stop_fleet();
    let span_ms = last_ms.saturating_sub(first_ms.unwrap_or(last_ms)).max(1);
    let records = latencies.len();
    let seconds_of_latency: Vec<f64> = latencies.iter().map(|l| *l as f64 / 1_000.0).collect();
    let latency = usage_bench::Summary::of(&seconds_of_latency);
    let offered = terminals as f64 * 1_000.0 / window_ms as f64;
    let proven_rate = records as f64 * 1_000.0 / span_ms as f64;
    println!("fleet benchmark: {terminals} terminals, samples every {interval_ms} ms, window 10 s, settle {settle_ms} ms, 4 aggregators (t=3), 1 validator");
    println!(
        "  measured blocks {from}..{height} ({:.1} s of block time)",
        span_ms as f64 / 1_000.0
    );
    println!("  records proven      {records}");
    println!("  records/s proven    {proven_rate:.0} ({offered:.0} offered)");
    // The windows that closed inside the measured span with time left to be proven in it: each
    // terminal offered one record of each.
    let first = first_ms.unwrap_or(last_ms);
    let closed: Vec<u64> = per_window
        .keys()
        .copied()
        .chain((first / window_ms..=last_ms / window_ms).map(|w| w * window_ms / 1_000))
        .filter(|w| {
            let close = w * 1_000 + window_ms;
            close >= first && close + 5_000 <= last_ms
        })
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect();
    let offered_records = terminals * closed.len() as u64;
    let proven_of_offered: u64 = closed.iter().filter_map(|w| per_window.get(w)).sum();
    println!(
        "  windows closed in the span {}: records offered {offered_records}, proven {proven_of_offered} ({:.1} %)",
        closed.len(),
        100.0 * proven_of_offered as f64 / offered_records.max(1) as f64
    );
    println!(
        "  window close -> block  p50 {:.2} s  p90 {:.2} s  p99 {:.2} s  max {:.2} s",
        latency.p50, latency.p90, latency.p99, latency.max
    );
    for i in 0..4 {
        println!(
            "  aggregator {i}: batches {} records {} rounds below threshold {}",
            net.metric(i, "usage_aggregator_batches_submitted_total"),
            net.metric(i, "usage_aggregator_records_submitted_total"),
            net.metric(i, "usage_aggregator_rounds_failed_total"),
        );
    }
    println!("  CPU over the measured span (100 % = one core of 2), resident memory at its end:");
    for (name, pid, share) in &cpu {
        let rss = cpu_after
            .iter()
            .find(|p| p.pid == *pid)
            .map_or(0, |p| p.rss_kib);
        println!(
            "    {name:<20} pid {pid:>7}  {share:6.1} %  {:7.1} MiB",
            rss as f64 / 1024.0
        );
    }
    let out = std::env::var_os("BENCH_OUT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| "target".into())
                .join("bench")
        });
    let _ = std::fs::create_dir_all(&out);
    let png = out.join(format!("fleet-bench-{terminals}.png"));
    let title = format!("window close -> block, {terminals} terminals, 1 validator");
    let labels = usage_bench::plot::Labels {
        title: &title,
        x: "seconds",
        y: "% of proven records",
    };
    match usage_bench::plot::cdf(&png, labels, &[("latency".into(), seconds_of_latency)]) {
        Ok(()) => println!("  plot: {}", png.display()),
        Err(e) => eprintln!("no plot: {e}"),
    }
}
