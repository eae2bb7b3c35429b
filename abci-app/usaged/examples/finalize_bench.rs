//! Benchmark: blocks of `SubmitBatch` transactions (1,000 records each) through the application's
//! `FinalizeBlock` + `Commit` on the durable store, against the same batches executed on bare
//! `cosmwasm-vm` (one instance, in-memory storage) as the baseline. Prints records/s for both and
//! their ratio.
//!
//! `cargo run --profile native -p usaged --example finalize_bench -- [blocks] [txs_per_block] [prefill_records]`
//!
//! With `prefill_records`, the store first receives that many records' worth of state written
//! straight through the store (two keys a record under C1's storage prefix, shaped like a first
//! proof and its period leaf, in blocks of 50,000 records), so the measured blocks update a tree
//! as deep as a chain holding that many proofs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a failure ends the run with its reason

use std::time::{Duration, Instant};

use cosmrs::crypto::secp256k1::SigningKey;
use cosmwasm_std::{Binary, HexBinary, Timestamp};
use serde_json::json;
use usage_client::tx;
use usage_common::merkle;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{encode_batch, Metrics, UsageRecord};
use usage_devtools::localnet::{self, Ports};
use usage_signer::SigningCommittee;
use usage_wasm_vm_tests::{addr, artifact, VmNet};
use usaged::Machine;

const RECORDS: usize = 1_000;
const T0: u64 = 1_700_000_040;

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

/// Writes `records` records' worth of state (a ~130-byte proof and a 12-byte leaf index each, under
/// C1's contract storage) straight through the store, after height `height`; returns the new height.
fn prefill_store(
    state: &std::path::Path,
    c1: &str,
    records: u64,
    mut height: u64,
) -> anyhow::Result<u64> {
    let mut store = usaged_store::Store::open(state)?;
    let prefix = usaged_vm::keys::contract_store(
        &usaged_auth::validate_address(c1).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let started = Instant::now();
    let per_block = 50_000u64;
    let mut written = 0u64;
    while written < records {
        let n = per_block.min(records - written);
        let mut changes = usaged_store::ChangeSet::new();
        for i in written..written + n {
            let mut proof = prefix.clone();
            proof.extend_from_slice(b"\x00\x02fp");
            proof.extend_from_slice(&(i % 100_000).to_be_bytes());
            proof.extend_from_slice(&(i / 100_000).to_be_bytes());
            changes.insert(proof, Some(vec![0x5a; 130]));
            let mut leaf = prefix.clone();
            leaf.extend_from_slice(b"\x00\x02pl");
            leaf.extend_from_slice(&i.to_be_bytes());
            changes.insert(leaf, Some(vec![0xa5; 12]));
        }
        height += 1;
        store.commit(height, &changes)?;
        written += n;
        eprint!(
            "\rprefilling the store: {written}/{records} records ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!();
    Ok(height)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let blocks = args.first().copied().unwrap_or(6);
    let per_block = args.get(1).copied().unwrap_or(1);
    let prefill = args.get(2).copied().unwrap_or(0);
    let chain = "usagechain-bench-1";
    let home = tempfile::tempdir()?;
    let artifacts = usage_common::contracts::artifacts_dir();
    let info = localnet::init(home.path(), chain, &artifacts, Ports::default())?;
    let genesis: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        home.path().join("cometbft/config/genesis.json"),
    )?)?;
    let app_state = serde_json::to_vec(&genesis["app_state"])?;
    let c1 = info.contracts[0].1.clone();
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

    // The application: genesis, then a block registering the terminals.
    let mut m = Machine::open(&home.path().join("app"))?;
    m.init_chain(chain, 1, Timestamp::from_seconds(T0), &app_state)?;
    let mut seq = 0;
    // Every tx of a block proves the same window for its own thousand terminals.
    let terminals = RECORDS * per_block as usize;
    let register = |i: usize, provider: &str| {
        let id = format!("edge-{i:05}");
        json!({"register_terminal": {
            "terminal_id": id, "provider": provider,
            "attestor_key": HexBinary::from(merkle::sha256(id.as_bytes())), "tee": "software",
            "measurement": HexBinary::from(localnet::SOFTWARE_MEASUREMENT)}})
    };
    let lease = |i: usize, provider: &str| json!({"open_lease": {"terminal_id": format!("edge-{i:05}"), "provider": provider, "start": 0}});
    let mut reg = vec![];
    let mut tenant_seq = vec![0u64; tenant_keys.len()];
    for i in 0..terminals {
        reg.push(sign(
            &admin,
            chain,
            seq,
            &c1,
            &register(i, &info.admin_address),
        ));
        seq += 1;
        let t = i % tenant_keys.len();
        reg.push(sign(
            &tenant_keys[t],
            chain,
            tenant_seq[t],
            &c1,
            &lease(i, &info.admin_address),
        ));
        tenant_seq[t] += 1;
    }
    let (res, _) = m.finalize_block(1, Timestamp::from_seconds(T0), &reg)?;
    assert!(
        res.iter().all(|r| r.code == 0),
        "registration failed: {:?}",
        res.iter().find(|r| r.code != 0)
    );
    m.commit()?;
    let mut height = 1u64;
    if prefill > 0 {
        drop(m);
        height = prefill_store(&home.path().join("app/state"), &c1, prefill, height)?;
        m = Machine::open(&home.path().join("app"))?;
    }

    // The baseline: the same wasm on bare cosmwasm-vm, in memory.
    let mut net = VmNet::new(chain, T0);
    let bare_c1 = addr("bare-c1");
    let bare_admin = addr("bare-admin");
    net.add(&bare_c1, &artifact("usage_proof"));
    let init_msg = &genesis["app_state"]["contracts"][0]["msg"];
    let mut init_msg = init_msg.clone();
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

    println!(
        "blocks of {per_block} SubmitBatch tx(s) x {RECORDS} records, {blocks} blocks, store prefilled with {prefill} records"
    );
    let mut app_time = Duration::ZERO;
    let mut bare_time = Duration::ZERO;
    let mut records = 0u64;
    for b in 0..blocks {
        let height = height + 1 + b;
        let window = T0 + 10 * b;
        let time = window + 20;
        let mut txs = vec![];
        let mut msgs = vec![];
        for k in 0..per_block as usize {
            let first = k * RECORDS;
            let msg = batch_msg(&committee, chain, &c1, window, first, &tenants);
            txs.push(sign(&admin, chain, seq, &c1, &msg));
            seq += 1;
            let bare = batch_msg(&committee, chain, bare_c1.as_str(), window, first, &tenants);
            msgs.push(bare);
        }
        let started = Instant::now();
        let (res, _) = m.finalize_block(height, Timestamp::from_seconds(time), &txs)?;
        m.commit()?;
        let took = started.elapsed();
        if let Some(bad) = res.iter().find(|r| r.code != 0) {
            anyhow::bail!("batch failed: {}", bad.log);
        }
        app_time += took;

        while net.now() < time {
            net.advance(10);
        }
        let started = Instant::now();
        for msg in &msgs {
            net.execute(&bare_c1, &bare_admin, msg)
                .map_err(|e| anyhow::anyhow!(e))?;
        }
        let bare_took = started.elapsed();
        bare_time += bare_took;
        records += per_block * RECORDS as u64;
        println!(
            "block {height}: FinalizeBlock+Commit {:7.1} ms, bare VM {:7.1} ms, gas {} SDK",
            took.as_secs_f64() * 1e3,
            bare_took.as_secs_f64() * 1e3,
            res.iter().map(|r| r.gas_used).sum::<u64>()
        );
    }
    let app_rate = records as f64 / app_time.as_secs_f64();
    let bare_rate = records as f64 / bare_time.as_secs_f64();
    println!("records: {records}");
    println!("application (FinalizeBlock+Commit, durable store): {app_rate:9.0} records/s");
    println!("bare cosmwasm-vm (in-memory storage):              {bare_rate:9.0} records/s");
    println!(
        "ratio app time / bare VM time: {:.2}x",
        app_time.as_secs_f64() / bare_time.as_secs_f64()
    );
    Ok(())
}
