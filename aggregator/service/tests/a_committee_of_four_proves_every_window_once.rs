//! Four aggregator processes (threshold 3), a simulated fleet and a one-validator localnet
//! (CometBFT + usaged), through the faults of the committee: one member down, two down and one
//! back, a Byzantine member in each of its three forms, members and the attestor killed and
//! restarted; the fleet's terminals are leased to two tenant accounts. At the end every
//! (terminal, window) the fleet sampled is proven exactly once, no batch was ever submitted by
//! the Byzantine member while it altered records, and the keeper produced second proofs of both
//! tenants' closed periods.

use std::collections::BTreeSet;
use std::time::Duration;

use usage_aggregator::config::Byzantine;
use usage_aggregator_core::quorum::leader_for;
use usage_common::msg::period_proof::{PeriodProofResponse, QueryMsg as C2Query};
use usage_devtools::committee::Net;
use usage_devtools::eventually;

const TERMINALS: u64 = 12;

async fn proven_windows(net: &Net) -> Vec<BTreeSet<u64>> {
    let mut out = vec![];
    for i in 0..TERMINALS {
        let t = usage_sample::simulate::terminal_id("sim", i);
        out.push(
            net.proofs(&t)
                .await
                .iter()
                .map(|p| p.window_start)
                .collect(),
        );
    }
    out
}

/// Whether every terminal has a proof of a window starting at or after `from`.
async fn all_proven_from(net: &Net, from: u64) -> bool {
    proven_windows(net)
        .await
        .iter()
        .all(|w| w.range(from..).next().is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committee_of_four_proves_every_window_once_through_faults() {
    let mut net = Net::start("usagechain-committee-1", TERMINALS).await;
    let tenants = usage_devtools::fleet::tenants(&net, 2);
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.start_fleet();
    let started = net.block_time().await;
    let long = Duration::from_secs(60);

    // Healthy: proofs land for every terminal.
    eventually(long, "first proofs of every terminal", || {
        all_proven_from(&net, started)
    })
    .await;
    eprintln!("healthy: proofs landing");

    // One member down: proofs keep landing, including windows it would have led.
    net.stop_aggregator(1);
    let one_down = net.block_time().await;
    eventually(long, "proofs with member 1 down", || {
        all_proven_from(&net, one_down + 20)
    })
    .await;
    let led_by_1 = proven_windows(&net).await[0]
        .iter()
        .any(|w| *w >= one_down + 10 && leader_for(*w, 10, 4) == 1);
    eprintln!("one down: proofs landing (a window led by the stopped member proven: {led_by_1})");

    // Two down: nothing lands.
    net.stop_aggregator(2);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let before = net.batches().await.len();
    tokio::time::sleep(Duration::from_secs(15)).await;
    let two_down_until = net.block_time().await;
    assert_eq!(
        net.batches().await.len(),
        before,
        "no batch may land with two of four members down"
    );
    eprintln!("two down: nothing landed in 15 s");

    // One returns (restarted on its data): proofs resume, and the windows of the outage are
    // proven late, from the samples the attestor delivers again.
    net.start_aggregator(1, None);
    eventually(long, "proofs after member 1 returned", || {
        all_proven_from(&net, two_down_until + 10)
    })
    .await;
    eprintln!("resumed after one member returned");

    // Member 2 comes back Byzantine: altered records as leader.
    net.start_aggregator(2, Some(Byzantine::AlterRecords));
    let byzantine_from = net.client.status().await.expect("status").0;
    let t_byz = net.block_time().await;
    eventually(long, "proofs with an altering member", || {
        all_proven_from(&net, t_byz + 30)
    })
    .await;
    let altered_batches: Vec<_> = net
        .batches()
        .await
        .into_iter()
        .filter(|b| b.height > byzantine_from && b.submitter.as_str() == net.address_of(2))
        .collect();
    assert!(
        altered_batches.is_empty(),
        "a batch proposed by the altering member landed: {altered_batches:?}"
    );
    let disputed: u64 = [0, 1, 3]
        .iter()
        .map(|i| net.metric(*i, "usage_aggregator_proposals_disputed_total"))
        .sum();
    assert!(
        disputed > 0,
        "honest members disputed the altered proposals"
    );
    eprintln!("altering member: {disputed} proposals disputed, none of its batches landed");

    // Member 2 signs another root, then replays its first partial: refused by the leaders.
    for fault in [Byzantine::WrongRoot, Byzantine::ReplayPartials] {
        let refused_before: u64 = [0, 1, 3]
            .iter()
            .map(|i| net.metric(*i, "usage_aggregator_partials_refused_total"))
            .sum();
        net.start_aggregator(2, Some(fault));
        let t = net.block_time().await;
        eventually(long, "proofs with a member signing wrongly", || {
            all_proven_from(&net, t + 20)
        })
        .await;
        let refused: u64 = [0, 1, 3]
            .iter()
            .map(|i| net.metric(*i, "usage_aggregator_partials_refused_total"))
            .sum();
        assert!(
            refused > refused_before,
            "{fault:?}: the leaders refused its partials"
        );
        eprintln!("{fault:?}: {} partials refused", refused - refused_before);
    }
    net.start_aggregator(2, None);

    // The attestor is killed and restarted on its outbox.
    net.stop_fleet();
    tokio::time::sleep(Duration::from_secs(3)).await;
    net.start_fleet();
    let restarted = net.block_time().await;
    eventually(long, "proofs after the attestor restarted", || {
        all_proven_from(&net, restarted + 10)
    })
    .await;
    net.stop_fleet();
    let fleet_stopped = net.block_time().await;
    tokio::time::sleep(Duration::from_secs(20)).await;

    // Every window the fleet sampled from its first proven window until it stopped is proven,
    // exactly once (one usage_proof event in all committed transactions).
    let windows = proven_windows(&net).await;
    for (i, w) in windows.iter().enumerate() {
        let t = usage_sample::simulate::terminal_id("sim", i as u64);
        let first = *w.first().expect("proofs");
        let last_full = (fleet_stopped / 10) * 10 - 10;
        let expected: BTreeSet<u64> = (first / 10..last_full / 10).map(|k| k * 10).collect();
        let missing: Vec<u64> = expected.difference(w).copied().collect();
        assert!(missing.is_empty(), "{t}: windows never proven: {missing:?}");
        let events = net.proof_events(&t);
        assert!(
            events.values().all(|c| *c == 1),
            "{t}: a window proven twice: {events:?}"
        );
        assert_eq!(
            events.keys().copied().collect::<BTreeSet<u64>>(),
            *w,
            "{t}: events and stored proofs differ"
        );
    }
    eprintln!(
        "{} terminals, {} first proofs, each window once",
        TERMINALS,
        windows.iter().map(BTreeSet::len).sum::<usize>()
    );

    // Second proofs for the first closed period (keeper ProvePeriod after period + grace).
    let first_window = windows
        .iter()
        .filter_map(|w| w.first())
        .min()
        .copied()
        .expect("a proof");
    let period = first_window / 60 * 60;
    let c2 = net.contract("period-proof");
    let provider = net.info().admin_address.clone();
    let tenants = net.fleet_tenants.clone();
    eventually(
        Duration::from_secs(120),
        "second proofs of the first period",
        || {
            let (c2, provider) = (c2.clone(), provider.clone());
            let (net, tenants) = (&net, &tenants);
            async move {
                let mut all = true;
                for tenant in tenants {
                    let r: PeriodProofResponse = net
                        .client
                        .smart(
                            &c2,
                            &C2Query::PeriodProof {
                                provider: provider.clone(),
                                tenant: tenant.clone(),
                                period_start: period,
                            },
                        )
                        .await
                        .expect("period proof");
                    all &= r.proof.is_some();
                }
                all
            }
        },
    )
    .await;
    eprintln!("second proofs of period {period} for both tenants");

    // What an operator scrapes: every member's metrics address shows the latency histograms
    // filled by this run, and the node's shows its block histograms.
    let count = |text: &str, name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let mut rounds = 0;
    for i in 0..4 {
        let text = net.metrics_text(i);
        assert!(
            text.contains("usage_aggregator_build_info{version="),
            "{text}"
        );
        assert!(
            count(&text, "usage_aggregator_proof_latency_seconds_count") > 0,
            "{text}"
        );
        assert!(
            count(&text, "usage_aggregator_ingest_seconds_count") > 0,
            "{text}"
        );
        rounds += count(&text, "usage_aggregator_round_seconds_count");
    }
    assert!(rounds > 0, "some member led a round");
    let node = usage_devtools::node::http_get_text(net.node.metrics_port, "/metrics");
    assert!(
        count(&node, "usaged_finalize_block_duration_seconds_count") > 0,
        "{node}"
    );
    assert!(
        count(&node, "usaged_commit_duration_seconds_count") > 0,
        "{node}"
    );

    // A running member, all its roles busy, stops cleanly within a second of SIGTERM.
    let (took, clean) = net.terminate_aggregator(3);
    eprintln!("member 3 stopped {took:?} after SIGTERM");
    assert!(clean, "a clean exit");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}
