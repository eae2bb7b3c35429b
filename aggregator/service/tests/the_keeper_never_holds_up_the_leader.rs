//! The keeper and the leader on a live localnet: four members prove a leased fleet's windows
//! for a minute; then every member's period table is given the proven periods of fifty tenants
//! that never deposited (the chain refuses every settlement of theirs) and the same minute is
//! measured again. Prints batches and records per minute, leader and keeper passes, keeper
//! transactions, with and without that load; the leader keeps at least half its pace.
//!
//! ```text
//! cargo test -p usage-aggregator --test the_keeper_never_holds_up_the_leader -- --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use usage_aggregator::store::{PeriodState, Store};
use usage_client::ChainClient;
use usage_devtools::committee::Net;
use usage_devtools::eventually;

const TERMINALS: u64 = 8;
const FLEET_TENANTS: usize = 2;
const NEVER_PAYING: usize = 50;
const MEASURED: Duration = Duration::from_secs(60);

/// Tenant `j`'s chain client (an account of its own).
fn tenant(net: &Net, j: usize) -> ChainClient {
    let mut seed = [0x40u8; 32];
    seed[31] = u8::try_from(j + 1).expect("few tenants");
    usage_devtools::fleet::account(net, seed)
}

#[derive(Debug, Default, Clone, Copy)]
struct Pace {
    seconds: f64,
    batches: u64,
    records: u64,
    lead_passes: u64,
    keeper_passes: u64,
    keeper_txs: u64,
}

impl Pace {
    fn per_minute(&self, n: u64) -> f64 {
        n as f64 * 60.0 / self.seconds
    }
}

fn sum(net: &Net, name: &str) -> u64 {
    (0..4).map(|i| net.metric(i, name)).sum()
}

/// Batches and records C1 accepted in blocks `(from, to]`.
async fn landed(net: &Net, from: u64, to: u64) -> (u64, u64) {
    let batches: Vec<_> = net
        .batches()
        .await
        .into_iter()
        .filter(|b| b.height > from && b.height <= to)
        .collect();
    (
        batches.len() as u64,
        batches.iter().map(|b| u64::from(b.records)).sum(),
    )
}

/// What the committee did in `MEASURED` from now.
async fn measure(net: &Net) -> Pace {
    let (lead0, keep0, txs0) = (
        sum(net, "usage_aggregator_lead_passes_total"),
        sum(net, "usage_aggregator_keeper_passes_total"),
        sum(net, "usage_aggregator_keeper_txs_total"),
    );
    let from = net.client.status().await.unwrap().0;
    let started = Instant::now();
    tokio::time::sleep(MEASURED).await;
    let to = net.client.status().await.unwrap().0;
    let seconds = started.elapsed().as_secs_f64();
    let (batches, records) = landed(net, from, to).await;
    Pace {
        seconds,
        batches,
        records,
        lead_passes: sum(net, "usage_aggregator_lead_passes_total") - lead0,
        keeper_passes: sum(net, "usage_aggregator_keeper_passes_total") - keep0,
        keeper_txs: sum(net, "usage_aggregator_keeper_txs_total") - txs0,
    }
}

fn print(label: &str, p: &Pace) {
    println!(
        "{label}: {:.1} batches/min, {:.0} records/min, {:.0} lead passes/min, {:.0} keeper passes/min, {:.0} keeper txs/min (over {:.0} s)",
        p.per_minute(p.batches),
        p.per_minute(p.records),
        p.per_minute(p.lead_passes),
        p.per_minute(p.keeper_passes),
        p.per_minute(p.keeper_txs),
        p.seconds
    );
}

/// Restarts every member and waits until a batch lands after the restart.
async fn restart_all(net: &mut Net) {
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    let after = net.client.status().await.unwrap().0;
    eventually(
        Duration::from_secs(120),
        "a batch after the restart",
        || async { net.batches().await.iter().any(|b| b.height > after) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_never_paying_tenants_leave_the_leaders_pace_unchanged() {
    let mut net = Net::start("usagechain-keeper-load-1", TERMINALS).await;
    let c3 = net.contract("settlement");
    for c in &mut net.configs {
        c.settlement = Some(c3.clone());
    }
    let tenants: Vec<_> = (0..FLEET_TENANTS).map(|j| tenant(&net, j)).collect();
    net.fleet_tenants = usage_devtools::fleet::lease_fleet(&net, &tenants).await;
    for i in 0..4 {
        net.start_aggregator(i, None);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    net.start_fleet();
    eventually(Duration::from_secs(120), "the first batch", || async {
        !net.batches().await.is_empty()
    })
    .await;
    let without = measure(&net).await;

    // The same members, their period tables holding fifty tenants' proven periods whose
    // settlement the chain refuses (these tenants never deposited anything).
    for i in 0..4 {
        net.stop_aggregator(i);
    }
    let now = net.block_time().await;
    let period = (now - 180) / 60 * 60;
    let provider = net.info().admin_address.clone();
    let unpaid: Vec<_> = (0..NEVER_PAYING)
        .map(|j| {
            let tenant = tenant(&net, 100 + j).address().unwrap().to_string();
            ((provider.clone(), tenant, period), PeriodState::Proven)
        })
        .collect();
    for c in &net.configs {
        let store = Store::open(&c.data_dir.join("aggregator.redb")).unwrap();
        store.raise_period(&unpaid).unwrap();
    }
    restart_all(&mut net).await;
    let with = measure(&net).await;

    println!("batch throughput, 4 members, {TERMINALS} terminals, 10 s windows:");
    print("  without never-paying tenants", &without);
    print(
        &format!("  with {NEVER_PAYING} never-paying tenants' periods"),
        &with,
    );
    assert!(
        with.keeper_txs > 0,
        "the keeper worked on the unpaid periods"
    );
    assert!(
        with.per_minute(with.lead_passes) * 2.0 >= without.per_minute(without.lead_passes),
        "the leader kept at least half its pace: {without:?} -> {with:?}"
    );
    assert!(with.batches > 0, "batches kept landing");
}
