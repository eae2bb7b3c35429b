//! Benchmark: blocks of `SubmitBatch` transactions (1,000 records each) through the application's
//! `FinalizeBlock` + `Commit` on the durable store, against the same batches executed on bare
//! `cosmwasm-vm` (one instance, in-memory storage) in the same run as the baseline.
//!
//! ```text
//! cargo run --profile native -p usaged --example finalize_bench -- \
//!     [--minutes M | --blocks N] [--txs-per-block K] [--prefill RECORDS] [--state DIR] \
//!     [--bare-every B] [--out DIR]
//! ```
//! (`bash scripts/finalize-bench.sh` builds what it needs and runs it.)
//!
//! - `--prefill RECORDS`: before measuring, the store receives that many records' worth of state
//!   written straight through the store (C1's layout: a first proof a record and a chunk of 64
//!   period leaves, in blocks of 50,000 records), so the measured blocks update a tree as deep as
//!   a chain holding that many proofs.
//! - `--state DIR`: the chain's home is kept in `DIR` between runs: a later run with the same
//!   `DIR` reopens it (and prints how long the node took to reopen and answer a proven query)
//!   and pre-fills only what is missing.
//! - `--minutes M`: a sustained run of `M` minutes, records/s printed per minute; `--blocks N`
//!   a fixed number of blocks (default 6).
//! - `--bare-every B`: the bare-VM baseline runs the batches of every `B`-th block (default 1);
//!   the ratio compares the application and the bare VM on those same blocks.
//!
//! Prints records/s per minute, FinalizeBlock and Commit percentiles, the bare-VM rate and the
//! ratio, the store's size per million records; writes `finalize-bench.png` (records/s over time)
//! and `finalize-bench.json` into `--out` (default `target/bench`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failure ends the run with its reason

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmwasm_std::{Binary, HexBinary, Timestamp};
use serde_json::json;
use usage_bench::{plot, Summary};
use usage_client::tx;
use usage_common::merkle;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{encode_batch, Metrics, UsageRecord};
use usage_devtools::localnet::{self, LocalnetInfo, Ports};
use usage_signer::SigningCommittee;
use usage_wasm_vm_tests::{addr, artifact, VmNet};
use usaged::Machine;

const RECORDS: usize = 1_000;
const T0: u64 = 1_700_000_040;
const CHAIN: &str = "usagechain-bench-1";
/// Prefill writes this many records per store commit.
const PREFILL_PER_BLOCK: u64 = 50_000;

/// One tx of `key` (account 0) at `seq` executing `msg` on `contract` with the largest gas.
fn sign(
    key: &SigningKey,
    chain: &str,
    seq: u64,
    contract: &str,
    msg: &serde_json::Value,
) -> Vec<u8> {
    let signer = tx::Signer {
        key,
        chain_id: chain,
        account_number: 0,
        sequence: seq,
    };
    let msgs = [(contract.to_string(), serde_json::to_vec(msg).expect("json"))];
    tx::sign_execute(signer, &msgs, usaged::genesis::MAX_TX_GAS).expect("sign")
}

/// A batch of `RECORDS` records for `window`, from terminals `first..first + RECORDS`.
fn batch_msg(
    committee: &SigningCommittee,
    chain: &str,
    c1: &str,
    window: u64,
    first: usize,
    tenants: &[String],
) -> serde_json::Value {
    let records: Vec<UsageRecord> = (first..first + RECORDS)
        .map(|i| UsageRecord {
            terminal_id: format!("edge-{i:05}"),
            window_start: window,
            tenant: tenants[i % tenants.len()].clone(),
            metrics: Metrics {
                net_rx_bytes: 1_000_000 + i as u64,
                net_tx_bytes: 2_000_000 + i as u64,
                cpu_time_us: 9_000_000,
                memory_mib_s: 20_480,
                link_rtt_us: 800,
                app_up_s: 10,
                ..Default::default()
            },
        })
        .collect();
    let digest = UsageBatchDigest::of(&records).expect("a batch");
    json!({"submit_batch": {"records": Binary::from(encode_batch(&records)),
        "signature": committee.sign_quorum(chain, c1, &digest)}})
}

fn register(i: usize, provider: &str) -> serde_json::Value {
    let id = format!("edge-{i:05}");
    json!({"register_terminal": {
        "terminal_id": id, "provider": provider,
        "attestor_key": HexBinary::from(merkle::sha256(id.as_bytes())), "tee": "software",
        "measurement": HexBinary::from(localnet::SOFTWARE_MEASUREMENT)}})
}

fn lease(i: usize, provider: &str) -> serde_json::Value {
    json!({"open_lease": {"terminal_id": format!("edge-{i:05}"), "provider": provider, "start": 0}})
}

/// The key of prefilled record `i`'s proof (the key a proven-query check reads back).
fn prefill_proof_key(prefix: &[u8], i: u64) -> Vec<u8> {
    let mut proof = prefix.to_vec();
    proof.extend_from_slice(b"\x00\x02fp");
    proof.extend_from_slice(&(i % 100_000).to_be_bytes());
    proof.extend_from_slice(&(i / 100_000).to_be_bytes());
    proof
}

/// Writes records `from..to`' worth of state as C1 lays it out (a ~130-byte proof a record, and
/// its period leaf in a chunk of 64 leaves, under C1's contract storage) straight through the
/// store, after height `height`; returns the new height.
fn prefill_store(
    state: &Path,
    prefix: &[u8],
    from: u64,
    to: u64,
    mut height: u64,
    mut done: impl FnMut(u64) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut store = usaged_store::Store::open(state)?;
    let started = Instant::now();
    let mut written = from;
    while written < to {
        let n = PREFILL_PER_BLOCK.min(to - written);
        let mut changes = usaged_store::ChangeSet::new();
        for i in written..written + n {
            changes.insert(prefill_proof_key(prefix, i), Some(vec![0x5a; 130]));
            if i % 64 == 63 || i + 1 == to {
                let mut chunk = prefix.to_vec();
                chunk.extend_from_slice(b"\x00\x02pl");
                chunk.extend_from_slice(&(i / 64).to_be_bytes());
                changes.insert(chunk, Some(vec![0xa5; 12 * (i % 64 + 1) as usize]));
            }
        }
        height += 1;
        store.commit(height, &changes)?;
        // Only the last version is needed: the measured blocks start from it.
        store.prune(height)?;
        written += n;
        // Committed: a run stopped here resumes from this count.
        done(written)?;
        let secs = started.elapsed().as_secs_f64();
        eprint!(
            "\rprefilling the store: {written}/{to} records ({secs:.0} s, {:.0} records/s)   ",
            (written - from) as f64 / secs
        );
    }
    eprintln!();
    Ok(height)
}

/// What a kept `--state` directory holds besides the chain's home.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    txs_per_block: u64,
    /// Records written by the prefill step.
    prefilled: u64,
    /// Records proven by measured blocks, over every run.
    measured: u64,
}

struct Args {
    blocks: Option<u64>,
    minutes: Option<f64>,
    per_block: u64,
    prefill: u64,
    state: Option<PathBuf>,
    bare_every: u64,
    out: PathBuf,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        blocks: None,
        minutes: None,
        per_block: 1,
        prefill: 0,
        state: None,
        bare_every: 1,
        out: std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("bench"),
    };
    let mut it = std::env::args().skip(1);
    let mut positional = 0;
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--blocks" => a.blocks = Some(value()?.parse()?),
            "--minutes" => a.minutes = Some(value()?.parse()?),
            "--txs-per-block" => a.per_block = value()?.parse()?,
            "--prefill" => a.prefill = value()?.parse()?,
            "--state" => a.state = Some(value()?.into()),
            "--bare-every" => a.bare_every = value()?.parse::<u64>()?.max(1),
            "--out" => a.out = value()?.into(),
            // The older form: blocks, txs per block, prefill.
            n if n.parse::<u64>().is_ok() => {
                let n: u64 = n.parse()?;
                match positional {
                    0 => a.blocks = Some(n),
                    1 => a.per_block = n,
                    2 => a.prefill = n,
                    _ => anyhow::bail!("at most three numbers: blocks, txs per block, prefill"),
                }
                positional += 1;
            }
            other => anyhow::bail!("unknown argument {other} (see the file's header)"),
        }
    }
    Ok(a)
}

/// One measured block.
#[derive(serde::Serialize)]
struct BlockFigures {
    height: u64,
    /// Seconds since the measured run started, at the block's end.
    at_s: f64,
    finalize_ms: f64,
    commit_ms: f64,
    bare_ms: Option<f64>,
    records: u64,
    /// CheckTx of each of the block's txs.
    check_ms: Vec<f64>,
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let per_block = args.per_block;
    let terminals = RECORDS * per_block as usize;
    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    let admin =
        SigningKey::from_slice(&localnet::ADMIN_SEED).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Ten tenants with keys of their own: each leases its terminals with a signed tx.
    let tenant_keys: Vec<SigningKey> = (0..10u8)
        .map(|t| SigningKey::from_slice(&[0x70 + t; 32]).map_err(|e| anyhow::anyhow!("{e}")))
        .collect::<anyhow::Result<_>>()?;
    let tenants: Vec<String> = tenant_keys
        .iter()
        .map(|k| {
            k.public_key()
                .account_id("usage")
                .map(|a| a.to_string())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .collect::<anyhow::Result<_>>()?;

    let _temporary;
    let root = match &args.state {
        Some(dir) => dir.clone(),
        None => {
            _temporary = tempfile::tempdir()?;
            _temporary.path().to_path_buf()
        }
    };
    let home = root.join("home");
    let kept_file = root.join("bench.json");
    let mut kept: Kept = if kept_file.exists() {
        serde_json::from_slice(&std::fs::read(&kept_file)?)?
    } else {
        Kept {
            txs_per_block: per_block,
            prefilled: 0,
            measured: 0,
        }
    };
    anyhow::ensure!(
        kept.txs_per_block == per_block,
        "{} was made with {} txs per block; use that or another --state",
        root.display(),
        kept.txs_per_block
    );

    let mut m;
    let info;
    if home.join("localnet.json").exists() {
        // Reopen: how long until the node answers a proven query.
        let started = Instant::now();
        m = Machine::open(&home.join("app"))?;
        let opened = started.elapsed();
        info = LocalnetInfo::read(&home)?;
        let c1 = usaged_auth::validate_address(&info.contracts[0].1)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let key = prefill_proof_key(&usaged_vm::keys::contract_store(&c1), kept.prefilled / 2);
        let (value, _proof) = m.get_with_proof(&key)?;
        println!(
            "reopened a store holding {} records at height {}: open {:.0} ms, open + proven query {:.0} ms (value found: {})",
            kept.prefilled + kept.measured,
            m.committed().0,
            opened.as_secs_f64() * 1e3,
            started.elapsed().as_secs_f64() * 1e3,
            value.is_some()
        );
    } else {
        std::fs::create_dir_all(&root)?;
        let artifacts = usage_common::contracts::artifacts_dir();
        info = localnet::init(&home, CHAIN, &artifacts, Ports::default())?;
        let genesis: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
            home.join("cometbft/config/genesis.json"),
        )?)?;
        m = Machine::open(&home.join("app"))?;
        m.init_chain(
            CHAIN,
            1,
            Timestamp::from_seconds(T0),
            &serde_json::to_vec(&genesis["app_state"])?,
        )?;
        // A block registering the terminals, each leased by one of the tenants.
        let mut reg = vec![];
        let mut tenant_seq = vec![0u64; tenant_keys.len()];
        for i in 0..terminals {
            reg.push(sign(
                &admin,
                CHAIN,
                i as u64,
                &info.contracts[0].1,
                &register(i, &info.admin_address),
            ));
            let t = i % tenant_keys.len();
            reg.push(sign(
                &tenant_keys[t],
                CHAIN,
                tenant_seq[t],
                &info.contracts[0].1,
                &lease(i, &info.admin_address),
            ));
            tenant_seq[t] += 1;
        }
        let (res, _) = m.finalize_block(1, Timestamp::from_seconds(T0), &reg)?;
        anyhow::ensure!(
            res.iter().all(|r| r.code == 0),
            "registration failed: {:?}",
            res.iter().find(|r| r.code != 0)
        );
        m.commit()?;
        std::fs::write(&kept_file, serde_json::to_vec_pretty(&kept)?)?;
    }
    let c1 = info.contracts[0].1.clone();
    if kept.prefilled < args.prefill {
        let height = m.committed().0;
        drop(m);
        let prefix = usaged_vm::keys::contract_store(
            &usaged_auth::validate_address(&c1).map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        let from = kept.prefilled;
        prefill_store(
            &home.join("app/state"),
            &prefix,
            from,
            args.prefill,
            height,
            |written| {
                kept.prefilled = written;
                std::fs::write(&kept_file, serde_json::to_vec_pretty(&kept)?)?;
                Ok(())
            },
        )?;
        m = Machine::open(&home.join("app"))?;
    }
    let genesis: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        home.join("cometbft/config/genesis.json"),
    )?)?;
    let mut seq =
        usaged::accounts::load_account(&*m.query_branch().borrow(), &info.admin_address)?.sequence;

    // The baseline: the same wasm on bare cosmwasm-vm, in memory.
    let mut net = VmNet::new(CHAIN, T0);
    let bare_c1 = addr("bare-c1");
    let bare_admin = addr("bare-admin");
    net.add(&bare_c1, &artifact("usage_proof"));
    let mut init_msg = genesis["app_state"]["contracts"][0]["msg"].clone();
    init_msg["admin"] = json!(bare_admin.to_string());
    // The bare VM runs C1 alone: nothing seals its accumulators.
    init_msg["period_proof"] = serde_json::Value::Null;
    net.instantiate(&bare_c1, &bare_admin, &init_msg)
        .map_err(|e| anyhow::anyhow!(e))?;
    for i in 0..terminals {
        net.execute(&bare_c1, &bare_admin, &register(i, bare_admin.as_str()))
            .map_err(|e| anyhow::anyhow!(e))?;
        let tenant = cosmwasm_std::Addr::unchecked(&tenants[i % tenants.len()]);
        net.execute(&bare_c1, &tenant, &lease(i, bare_admin.as_str()))
            .map_err(|e| anyhow::anyhow!(e))?;
    }

    let stored = kept.prefilled + kept.measured;
    let first_height = m.committed().0 + 1;
    let blocks = match (args.blocks, args.minutes) {
        (Some(b), _) => b,
        (None, Some(_)) => u64::MAX,
        (None, None) => 6,
    };
    let deadline = args.minutes.map(|m| Duration::from_secs_f64(m * 60.0));
    println!(
        "blocks of {per_block} SubmitBatch tx(s) x {RECORDS} records, {}, store holding {stored} records, bare VM every {} block(s)",
        match deadline {
            Some(d) => format!("for {:.1} min", d.as_secs_f64() / 60.0),
            None => format!("{blocks} blocks"),
        },
        args.bare_every
    );

    // The batches are made and signed on another thread, a few blocks ahead.
    let (tx_blocks, rx_blocks) =
        mpsc::sync_channel::<(u64, Vec<Vec<u8>>, Vec<serde_json::Value>)>(3);
    let maker = {
        let (c1, bare_c1, tenants, committee) = (
            c1.clone(),
            bare_c1.to_string(),
            tenants.clone(),
            committee.clone(),
        );
        let admin = SigningKey::from_slice(&localnet::ADMIN_SEED).expect("the admin key");
        let bare_every = args.bare_every;
        std::thread::spawn(move || {
            for b in 0..blocks {
                let height = first_height + b;
                let window = T0 + 10 * height;
                let mut txs = vec![];
                let mut bare = vec![];
                for k in 0..per_block as usize {
                    let msg = batch_msg(&committee, CHAIN, &c1, window, k * RECORDS, &tenants);
                    txs.push(sign(&admin, CHAIN, seq, &c1, &msg));
                    seq += 1;
                    if b % bare_every == 0 {
                        bare.push(batch_msg(
                            &committee,
                            CHAIN,
                            &bare_c1,
                            window,
                            k * RECORDS,
                            &tenants,
                        ));
                    }
                }
                if tx_blocks.send((height, txs, bare)).is_err() {
                    return;
                }
            }
        })
    };

    let started = Instant::now();
    let mut figures: Vec<BlockFigures> = vec![];
    let mut minute = 0u64;
    let mut minute_start = 0usize;
    for (height, txs, bare) in rx_blocks.iter() {
        let time = T0 + 10 * height + 20;
        // The mempool's check of each tx, as the node runs it before the tx can be proposed.
        let mut check_ms = Vec::with_capacity(txs.len());
        for raw in &txs {
            let c0 = Instant::now();
            let outcome = m.check_tx(raw, false);
            check_ms.push(c0.elapsed().as_secs_f64() * 1e3);
            anyhow::ensure!(
                outcome.code == 0,
                "CheckTx refused a batch: {}",
                outcome.log
            );
        }
        let t0 = Instant::now();
        let (res, _) = m.finalize_block(height, Timestamp::from_seconds(time), &txs)?;
        let t1 = Instant::now();
        m.commit()?;
        let t2 = Instant::now();
        if let Some(bad) = res.iter().find(|r| r.code != 0) {
            anyhow::bail!("batch failed at height {height}: {}", bad.log);
        }
        let bare_ms = if bare.is_empty() {
            None
        } else {
            while net.now() < time {
                net.advance(10);
            }
            let b0 = Instant::now();
            for msg in &bare {
                net.execute(&bare_c1, &bare_admin, msg)
                    .map_err(|e| anyhow::anyhow!(e))?;
            }
            Some(b0.elapsed().as_secs_f64() * 1e3)
        };
        let records = per_block * RECORDS as u64;
        let at = started.elapsed();
        figures.push(BlockFigures {
            height,
            at_s: at.as_secs_f64(),
            finalize_ms: (t1 - t0).as_secs_f64() * 1e3,
            commit_ms: (t2 - t1).as_secs_f64() * 1e3,
            bare_ms,
            records,
            check_ms,
        });
        if deadline.is_none() {
            let f = figures.last().expect("just pushed");
            println!(
                "block {height}: FinalizeBlock {:7.1} ms, Commit {:6.1} ms, bare VM {}, gas {} SDK",
                f.finalize_ms,
                f.commit_ms,
                bare_ms.map_or("-".into(), |b| format!("{b:7.1} ms")),
                res.iter().map(|r| r.gas_used).sum::<u64>()
            );
        }
        if at.as_secs() / 60 > minute || deadline.is_some_and(|d| at >= d) {
            let part = &figures[minute_start..];
            println!("minute {:>2}: {}", minute + 1, rates(part));
            minute = at.as_secs() / 60;
            minute_start = figures.len();
        }
        if deadline.is_some_and(|d| at >= d) {
            break;
        }
    }
    drop(rx_blocks);
    let _ = maker.join();
    let wall = started.elapsed().as_secs_f64();
    kept.measured += figures.iter().map(|f| f.records).sum::<u64>();
    if args.state.is_some() {
        std::fs::write(&kept_file, serde_json::to_vec_pretty(&kept)?)?;
    }

    let records: u64 = figures.iter().map(|f| f.records).sum();
    let finalize = Summary::of(&figures.iter().map(|f| f.finalize_ms).collect::<Vec<_>>());
    let commit = Summary::of(&figures.iter().map(|f| f.commit_ms).collect::<Vec<_>>());
    println!(
        "records: {records} in {} blocks, {wall:.1} s",
        figures.len()
    );
    println!("FinalizeBlock ms: {finalize}");
    println!("Commit ms:        {commit}");
    let check = Summary::of(
        &figures
            .iter()
            .flat_map(|f| f.check_ms.iter().copied())
            .collect::<Vec<_>>(),
    );
    println!("CheckTx ms per 1,000-record batch: {check}");
    println!("overall: {}", rates(&figures));
    let db = home.join("app/state/state.redb");
    let bytes = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    let holding = kept.prefilled + kept.measured;
    println!(
        "store: {:.0} MB for {holding} records ({:.0} MB per million)",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / (holding.max(1) as f64 / 1e6)
    );

    std::fs::create_dir_all(&args.out)?;
    let png = args.out.join("finalize-bench.png");
    let per_block_rate =
        |f: &BlockFigures| f.records as f64 / ((f.finalize_ms + f.commit_ms) / 1e3);
    let mut lines = vec![plot::Line {
        name: "application: FinalizeBlock + Commit (durable store)".into(),
        points: smooth(
            &figures
                .iter()
                .map(|f| (f.at_s / 60.0, per_block_rate(f)))
                .collect::<Vec<_>>(),
        ),
    }];
    let bare: Vec<(f64, f64)> = figures
        .iter()
        .filter_map(|f| Some((f.at_s / 60.0, f.records as f64 / (f.bare_ms? / 1e3))))
        .collect();
    if !bare.is_empty() {
        lines.push(plot::Line {
            name: "bare cosmwasm-vm (in-memory storage)".into(),
            points: smooth(&bare),
        });
    }
    let title = format!(
        "records/s, {per_block} x 1,000-record batches a block, store holding {stored}+ records"
    );
    match plot::series(
        &png,
        plot::Labels {
            title: &title,
            x: "minutes",
            y: "records/s (10-block mean)",
        },
        &lines,
    ) {
        Ok(()) => println!("plot: {}", png.display()),
        Err(e) => eprintln!("no plot: {e}"),
    }
    let json_out = args.out.join("finalize-bench.json");
    std::fs::write(
        &json_out,
        serde_json::to_vec_pretty(&json!({
            "txs_per_block": per_block, "records_stored_before": stored, "blocks": figures,
            "finalize_ms": summary_json(&finalize), "commit_ms": summary_json(&commit),
            "check_tx_ms": summary_json(&check),
            "store_bytes": bytes, "store_records": holding,
        }))?,
    )?;
    println!("figures: {}", json_out.display());
    Ok(())
}

/// Records/s of the application and of the bare VM over `blocks`, and their ratio on the blocks
/// both ran.
fn rates(blocks: &[BlockFigures]) -> String {
    let records: u64 = blocks.iter().map(|f| f.records).sum();
    let app_s: f64 = blocks
        .iter()
        .map(|f| (f.finalize_ms + f.commit_ms) / 1e3)
        .sum();
    let both: Vec<&BlockFigures> = blocks.iter().filter(|f| f.bare_ms.is_some()).collect();
    let both_app: f64 = both
        .iter()
        .map(|f| (f.finalize_ms + f.commit_ms) / 1e3)
        .sum();
    let both_bare: f64 = both.iter().filter_map(|f| f.bare_ms).sum::<f64>() / 1e3;
    let both_records: u64 = both.iter().map(|f| f.records).sum();
    let mut line = format!("application {:8.0} records/s", records as f64 / app_s);
    if both_bare > 0.0 {
        line += &format!(
            ", bare VM {:8.0} records/s, app/bare time {:.2}x",
            both_records as f64 / both_bare,
            both_app / both_bare
        );
    }
    line
}

/// A 10-point moving mean, so a chart shows the trend rather than each block's jitter.
fn smooth(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    (0..points.len())
        .map(|i| {
            let from = i.saturating_sub(9);
            let window = &points[from..=i];
            (
                points[i].0,
                window.iter().map(|p| p.1).sum::<f64>() / window.len() as f64,
            )
        })
        .collect()
}

fn summary_json(s: &Summary) -> serde_json::Value {
    json!({"p50": s.p50, "p90": s.p90, "p99": s.p99, "max": s.max, "mean": s.mean})
}
