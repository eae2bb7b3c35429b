//! Commit throughput and disk use of the state store.
//!
//! ```text
//! cargo run --release -p usaged-store --example commit_bench -- [blocks] [writes_per_block] [value_bytes] [keep_recent]
//! ```
//!
//! Defaults: 1,000 blocks of 1,000 writes of 150 bytes, no pruning. With `keep_recent`, the store
//! is pruned after every commit to keep the last `keep_recent` heights provable (the prune is timed
//! separately). 90 % of the writes create new keys
//! (like usage proofs, one per terminal and window), 10 % overwrite an earlier key (like balances).
//! Every commit is durable (fsync) before the next starts. Prints commits/s, commit latency
//! percentiles, bytes on disk, and read/proof timings on the final state.

use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use usaged_store::{jmt, key_hash, ChangeSet, KvRead, Order, Overlay, Store};

/// splitmix64: a small deterministic generator, so every run writes the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn key(n: u64) -> Vec<u8> {
    // ~40 bytes, shaped like a cw-storage-plus map key: namespace, terminal, window.
    format!("\x00\x0cusage_proofs/terminal-{:06}/{:012}", n % 5000, n).into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let blocks = args.first().copied().unwrap_or(1000);
    let per_block = args.get(1).copied().unwrap_or(1000);
    let value_bytes = args.get(2).copied().unwrap_or(150) as usize;
    let keep_recent = args.get(3).copied();

    let dir = tempfile::tempdir()?;
    let mut store = Store::open(dir.path())?;
    let mut rng = Rng(42);
    let mut next_key = 0u64;
    let mut latencies = Vec::with_capacity(blocks as usize);
    let mut written_bytes = 0u64;
    let mut prune_time = Duration::ZERO;
    let started = Instant::now();

    for height in 1..=blocks {
        let mut changes = ChangeSet::new();
        for _ in 0..per_block {
            let k = if next_key > 0 && rng.next().is_multiple_of(10) {
                key(rng.next() % next_key)
            } else {
                next_key += 1;
                key(next_key - 1)
            };
            let mut value = vec![0u8; value_bytes];
            for chunk in value.chunks_mut(8) {
                let r = rng.next().to_le_bytes();
                chunk.copy_from_slice(&r[..chunk.len()]);
            }
            written_bytes += (k.len() + value.len()) as u64;
            changes.insert(k, Some(value));
        }
        let t = Instant::now();
        store.commit(height, &changes)?;
        latencies.push(t.elapsed());
        if let Some(keep) = keep_recent {
            let t = Instant::now();
            store.prune(height.saturating_sub(keep))?;
            prune_time += t.elapsed();
        }
        if height.is_multiple_of(100) {
            let size = std::fs::metadata(dir.path().join("state.redb"))?.len();
            eprintln!(
                "height {height}: {:.1} s, file {:.1} MiB",
                started.elapsed().as_secs_f64(),
                size as f64 / 1048576.0
            );
        }
    }
    let total = started.elapsed();
    let commit_time: Duration = latencies.iter().sum();
    latencies.sort();
    let file = std::fs::metadata(dir.path().join("state.redb"))?.len();
    let writes = blocks * per_block;

    println!("blocks                 {blocks}");
    println!("writes per block       {per_block} ({value_bytes}-byte values, ~40-byte keys)");
    println!("distinct keys          {next_key}");
    println!("wall time              {:.1} s", total.as_secs_f64());
    println!(
        "commit time            {:.1} s = {:.1} commits/s, {:.0} writes/s",
        commit_time.as_secs_f64(),
        blocks as f64 / commit_time.as_secs_f64(),
        writes as f64 / commit_time.as_secs_f64()
    );
    if let Some(keep) = keep_recent {
        println!(
            "pruning                keep_recent {keep}: {:.1} s in total, {:.1} ms per block",
            prune_time.as_secs_f64(),
            prune_time.as_secs_f64() * 1e3 / blocks as f64
        );
    }
    println!(
        "commit latency         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3
    );
    println!(
        "file on disk           {:.1} MiB ({:.0} bytes per write; raw keys+values {:.1} MiB)",
        file as f64 / 1048576.0,
        file as f64 / writes as f64,
        written_bytes as f64 / 1048576.0
    );

    let stats = store.stats()?;
    for t in &stats.tables {
        println!(
            "  table {:<14} {:>9} entries, {:>7.1} MiB data, {:>6.1} MiB branch/meta, {:>6.1} MiB fragmented",
            t.name,
            t.entries,
            t.stored_bytes as f64 / 1048576.0,
            t.metadata_bytes as f64 / 1048576.0,
            t.fragmented_bytes as f64 / 1048576.0
        );
    }
    let used: u64 = stats
        .tables
        .iter()
        .map(|t| t.stored_bytes + t.metadata_bytes + t.fragmented_bytes)
        .sum();
    println!(
        "in use                 {:.1} MiB ({:.0} bytes per write)",
        used as f64 / 1048576.0,
        used as f64 / writes as f64
    );

    // Reads on the final state.
    let snapshot = store.snapshot();
    let app_hash = jmt::RootHash(snapshot.committed().app_hash);
    let probes: Vec<Vec<u8>> = (0..10_000).map(|_| key(rng.next() % next_key)).collect();
    let t = Instant::now();
    for k in &probes {
        snapshot.get(k)?;
    }
    let get_us = t.elapsed().as_secs_f64() * 1e6 / probes.len() as f64;
    let t = Instant::now();
    for k in probes.iter().take(2000) {
        let (value, proof) = snapshot.get_with_proof(k)?;
        proof.verify(app_hash, key_hash(k), value.as_ref())?;
    }
    let proof_us = t.elapsed().as_secs_f64() * 1e6 / 2000.0;
    let t = Instant::now();
    let prefix = b"\x00\x0cusage_proofs/terminal-000123/".to_vec();
    let mut end = prefix.clone();
    end.push(0xff);
    let mut overlay = Overlay::new(Arc::new(snapshot.clone()));
    overlay.set(prefix.clone(), b"pending".to_vec());
    let scanned = overlay
        .range(
            Bound::Included(&prefix),
            Bound::Excluded(&end),
            Order::Descending,
        )?
        .count();
    let scan_ms = t.elapsed().as_secs_f64() * 1e3;
    println!("get (committed)        {get_us:.1} us");
    println!("get_with_proof+verify  {proof_us:.1} us");
    println!("prefix scan via overlay {scanned} pairs in {scan_ms:.2} ms");
    Ok(())
}
