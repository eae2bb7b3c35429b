//! A committee outage longer than a period and its grace, on a live localnet (10 s windows, 60 s
//! periods, 30 s grace): four members (threshold 3) prove a leased fleet's windows, then two of
//! them are paused (SIGSTOP) for 100 s while the fleet keeps measuring, and resumed. Once the
//! committee has caught up, every (terminal, window) measured during the outage has exactly one
//! first proof; those whose period stopped taking records during the outage are proven late,
//! billed in a later period. Prints the windows measured during the outage, proven on time,
//! proven late and missing.
//!
//! ```text
//! cargo test -p usage-aggregator --test usage_measured_during_a_committee_outage_is_proven_late_exactly_once -- --nocapture
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use usage_common::msg::usage_proof::FirstProof;
use usage_devtools::committee::Net;
use usage_devtools::eventually;
use usage_sample::simulate::terminal_id;

const TERMINALS: u64 = 4;
const WINDOW: u64 = 10;
const PERIOD: u64 = 60;
const GRACE: u64 = 30;
/// Longer than a period and its grace: the periods of the outage's first windows close before
/// the committee is whole again.
const OUTAGE: Duration = Duration::from_secs(100);
/// How long the committee is given to catch up before what is missing is reported.
const CATCH_UP: Duration = Duration::from_secs(120);

/// Every terminal's first proofs, by window.
async fn proofs(net: &Net) -> Vec<BTreeMap<u64, FirstProof>> {
    let mut out = vec![];
    for i in 0..TERMINALS {
        let t = terminal_id("sim", i);
        out.push(
            net.proofs(&t)
                .await
                .into_iter()
                .map(|p| (p.window_start, p))
                .collect(),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_measured_during_a_committee_outage_is_proven_late_exactly_once() {
    let mut net = Net::start("usagechain-outage-1", TERMINALS).await;
    let tenants = usage_devtools::fleet::tenants(&net, 2);
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.start_fleet();
    let started = net.block_time().await;
    eventually(
        Duration::from_secs(120),
        "first proofs of every terminal",
        || async {
            proofs(&net)
                .await
                .iter()
                .all(|p| p.range(started..).next().is_some())
        },
    )
    .await;

    // Two of four members stop: no batch can be signed while the fleet keeps measuring.
    net.pause_aggregator(2);
    net.pause_aggregator(3);
    let outage_start = net.block_time().await;
    eprintln!("members 2 and 3 paused at {outage_start}");
    tokio::time::sleep(OUTAGE).await;
    let resumed = net.block_time().await;
    net.resume_aggregator(2);
    net.resume_aggregator(3);
    eprintln!("members 2 and 3 resumed at {resumed}");

    // Every window that was open at some time of the outage.
    let measured: Vec<u64> = (outage_start / WINDOW..resumed.div_ceil(WINDOW))
        .map(|k| k * WINDOW)
        .collect();
    let own_period = |w: u64| w / PERIOD * PERIOD;
    // C1 takes a window's record in its own period until that period's end plus grace.
    let closed_by_resume = |w: u64| own_period(w) + PERIOD + GRACE <= resumed;

    // Waits at most CATCH_UP for every measured window's proof; what is still missing then is
    // reported below.
    let all_proven = |all: &[BTreeMap<u64, FirstProof>]| {
        all.iter()
            .all(|p| measured.iter().all(|w| p.contains_key(w)))
    };
    let catching_up = Instant::now();
    let mut all = proofs(&net).await;
    while !all_proven(&all) && catching_up.elapsed() < CATCH_UP {
        tokio::time::sleep(Duration::from_secs(2)).await;
        all = proofs(&net).await;
    }
    let status = if all_proven(&all) {
        "caught up"
    } else {
        "not caught up"
    };
    eprintln!(
        "{status} {:.0} s after the resume",
        catching_up.elapsed().as_secs_f64()
    );

    let (mut on_time, mut late, mut missing) = (0, 0, vec![]);
    for (i, p) in all.iter().enumerate() {
        for w in &measured {
            match p.get(w) {
                Some(proof) if proof.late => late += 1,
                Some(_) => on_time += 1,
                None => missing.push((terminal_id("sim", i as u64), *w)),
            }
        }
    }
    let closed = measured.iter().filter(|w| closed_by_resume(**w)).count() as u64 * TERMINALS;
    println!(
        "outage of {} s ({outage_start}..{resumed}), {TERMINALS} terminals, {} windows each:",
        OUTAGE.as_secs(),
        measured.len()
    );
    println!(
        "  windows measured during the outage  {}",
        measured.len() as u64 * TERMINALS
    );
    println!("  of which their period had closed    {closed}");
    println!("  proven on time                      {on_time}");
    println!("  proven late                         {late}");
    println!("  missing                             {}", missing.len());

    assert!(
        missing.is_empty(),
        "windows measured during the outage never proven: {missing:?}"
    );
    for (i, p) in all.iter().enumerate() {
        let t = terminal_id("sim", i as u64);
        for w in &measured {
            let proof = &p[w];
            if closed_by_resume(*w) {
                assert!(
                    proof.late,
                    "{t} window {w}: its period closed during the outage, yet not late: {proof:?}"
                );
            }
            if proof.late {
                assert!(
                    proof.period_start > own_period(*w),
                    "{t} window {w}: late, yet billed in period {} (its own is {})",
                    proof.period_start,
                    own_period(*w)
                );
            } else {
                assert_eq!(
                    proof.period_start,
                    own_period(*w),
                    "{t} window {w}: on time, billed in its own period"
                );
            }
        }
        // One usage_proof event per window in every committed transaction: proven once.
        let events = net.proof_events(&t);
        let twice: Vec<_> = events.iter().filter(|(_, c)| **c != 1).collect();
        assert!(
            twice.is_empty(),
            "{t}: windows proven more than once: {twice:?}"
        );
        for w in &measured {
            assert_eq!(events.get(w), Some(&1), "{t} window {w}: one proof event");
        }
    }
}
