//! One aggregator's ingest: signed samples verified, checked against the terminal registry and the
//! attested configuration, and stored, per second and per CPU-second of the process.
//!
//! `cargo run --profile native -p usage-aggregator --example ingest_bench -- [TERMINALS] [ROUNDS]`
//! (defaults 10,000 and 5): an aggregator (its HTTP API on loopback, its redb store) with a chain
//! view of TERMINALS simulated terminals, each with its evidence presented; then ROUNDS samples
//! of every terminal, signed beforehand and sent 1,000 to a request (as an attestor delivers them)
//! one request at a time. Prints samples/s by wall clock, samples per CPU-second of this process
//! (the server's threads and the sending client's), the request latency percentiles, and checks
//! that every sample was accepted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use cosmwasm_std::{Addr, HexBinary};
use usage_aggregator::chainview::ChainView;
use usage_aggregator::config::Config;
use usage_aggregator::store::Store;
use usage_aggregator::{keys, server, AppState};
use usage_bench::Summary;
use usage_client::ChainClient;
use usage_common::msg::usage_proof::Terminal;
use usage_sample::simulate::SimTerminal;
use usage_sample::tee::{software_measurement, SignedSample, TeeBackend, TeeKind};
use usage_sample::wire::{EvidenceRequest, IngestRequest, IngestResponse, Verdict};
use usage_signer::SigningCommittee;

/// Samples in one request: what an attestor's delivery sends at most.
const PER_REQUEST: usize = 1_000;

/// CPU seconds this process has used (user + system), from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line; 12 and 13 after the command's ")".
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let terminals = args.first().copied().unwrap_or(10_000);
    let rounds = args.get(1).copied().unwrap_or(5);

    let dir = tempfile::tempdir()?;
    let mut fleet: Vec<SimTerminal> = (0..terminals)
        .map(|i| SimTerminal::new("bench", i, "usage1tenant"))
        .collect();
    let registry: BTreeMap<String, Terminal> = fleet
        .iter()
        .map(|t| {
            (
                t.terminal_id.clone(),
                Terminal {
                    terminal_id: t.terminal_id.clone(),
                    provider: Addr::unchecked("usage1provider"),
                    attestor_key: HexBinary::from(t.key.public_key()),
                    tee: TeeKind::Software,
                    measurement: HexBinary::from(software_measurement().0),
                    active: true,
                    lease: None,
                },
            )
        })
        .collect();
    let view = ChainView {
        window_seconds: 10,
        period_seconds: 60,
        grace_seconds: 30,
        accept_software_tee: true,
        allowed: BTreeSet::from([software_measurement().0]),
        committee: SigningCommittee::deterministic("ingest-bench", 1, 4, 3).committee(),
        terminals: registry,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let config = Config::standalone(
        &url,
        dir.path(),
        "ingest-bench",
        keys::localnet("ingest-bench", 0, 4, 3).write_files(&dir.path().join("keys"))?,
    );
    let state = Arc::new(AppState::new(
        config,
        Store::open(&dir.path().join("aggregator.redb"))?,
        view,
        ChainClient::new("http://127.0.0.1:1", "ingest-bench")?,
    )?);
    let router = server::router(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();

    let started = Instant::now();
    for (i, t) in fleet.iter().enumerate() {
        let request = EvidenceRequest::new(&t.config, &t.key.public_key(), &t.evidence());
        let r = http
            .post(format!("{url}/v1/evidence"))
            .json(&request)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "evidence refused: {}",
            r.text().await?
        );
        if (i + 1) % 2_000 == 0 {
            eprint!("\r  evidence presented for {}/{terminals} terminals", i + 1);
        }
    }
    eprintln!(
        "\r  evidence presented for {terminals} terminals in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Every sample signed and every request body encoded before the clock starts.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let mut bodies = vec![];
    for round in 0..rounds {
        let signed: Vec<SignedSample> = fleet
            .iter_mut()
            .map(|t| {
                let s = t.sample(round + 1, now_ms + round * 1_000);
                SignedSample::sign(&s, &t.key)
            })
            .collect::<Result<_, _>>()?;
        for chunk in signed.chunks(PER_REQUEST) {
            bodies.push((chunk.len(), serde_json::to_vec(&IngestRequest::new(chunk))?));
        }
        eprint!("\r  signed round {}/{rounds}", round + 1);
    }
    let total: usize = bodies.iter().map(|(n, _)| n).sum();
    eprintln!("\r  {total} samples signed in {} requests", bodies.len());

    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut latencies = vec![];
    let mut accepted = 0usize;
    for (_, body) in bodies {
        let sent = Instant::now();
        let r = http
            .post(format!("{url}/v1/samples"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_success(),
            "ingest failed: {}",
            r.text().await?
        );
        let response: IngestResponse = r.json().await?;
        latencies.push(sent.elapsed().as_secs_f64() * 1e3);
        accepted += response
            .results
            .iter()
            .filter(|v| matches!(v, Verdict::Stored { gap: None, .. }))
            .count();
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let latency = Summary::of(&latencies);
    println!("one aggregator's ingest, {terminals} terminals, {rounds} rounds, {PER_REQUEST} samples a request");
    println!("  samples stored              {accepted} of {total}");
    println!("  wall clock                  {wall:.2} s");
    println!("  samples/s                   {:.0}", total as f64 / wall);
    println!("  CPU seconds (this process)  {cpu:.2}");
    println!(
        "  samples per CPU-second      {:.0}",
        total as f64 / cpu.max(1e-9)
    );
    println!(
        "  request ms p50 / p90 / p99 / max  {:.1} / {:.1} / {:.1} / {:.1}",
        latency.p50, latency.p90, latency.p99, latency.max
    );
    anyhow::ensure!(
        accepted == total,
        "not every sample was stored (without a gap)"
    );
    Ok(())
}
