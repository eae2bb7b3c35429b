//! The resource-abuse suite: one probe-contract call (or plain transaction) per abuse a hostile
//! client could send. Each must fail inside its own transaction with a typed (codespace, code),
//! and the next block must go on. The suite prints, per abuse, the FinalizeBlock time of its
//! block per million SDK gas used against an ordinary block's (the chain's real work: two
//! committee-signed 1,000-record `SubmitBatch` txs, about a full block), and
//! this process's resident memory before and after (figures, not assertions: timing is measured,
//! never asserted). Responses above cosmwasm-vm's 256 KiB result limit (huge events, attributes
//! or data) fail as the contract's error.
//!
//! Figures with an optimised node:
//! `cargo test --profile native -p usaged --test every_resource_abuse_fails_in_its_own_tx -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[path = "common/node.rs"]
mod node;

use std::time::Instant;

use cosmwasm_std::{Binary, HexBinary, Timestamp};
use serde_json::{json, Value};
use usage_common::merkle;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{encode_batch, Metrics, UsageRecord};
use usage_signer::SigningCommittee;

use node::*;

struct Abuse {
    name: &'static str,
    msg: Value,
    gas: u64,
    expected: (&'static str, u32),
}

const CHAIN_RECORDS: usize = 1_000;

/// A committee-signed SubmitBatch of terminals `first..first + 1,000` for `window`.
fn batch(committee: &SigningCommittee, c1: &str, window: u64, first: usize) -> Value {
    let records: Vec<UsageRecord> = (first..first + CHAIN_RECORDS)
        .map(|i| UsageRecord {
            terminal_id: format!("edge-{i:05}"),
            window_start: window,
            tenant: admin().addr(),
            metrics: Metrics {
                net_rx_bytes: 1_000_000 + i as u64,
                net_tx_bytes: 2_000_000,
                cpu_time_us: 9_000_000,
                app_up_s: 10,
                ..Default::default()
            },
        })
        .collect();
    let digest = UsageBatchDigest::of(&records).expect("a batch");
    json!({"submit_batch": {"records": Binary::from(encode_batch(&records)),
        "signature": committee.sign_quorum(CHAIN, c1, &digest)}})
}

fn timed_block(node: &mut Node, txs: &[Vec<u8>]) -> (Vec<usaged::TxOutcome>, f64) {
    let height = node.height + 1;
    let started = Instant::now();
    let (outcomes, _) = node
        .machine
        .finalize_block(height, Timestamp::from_seconds(T0 + height * 5), txs)
        .expect("finalize");
    let ms = started.elapsed().as_secs_f64() * 1e3;
    node.machine.commit().expect("commit");
    node.height = height;
    (outcomes, ms)
}

#[test]
fn every_resource_abuse_fails_in_its_own_tx_and_the_next_block_goes_on() {
    let home = tempfile::tempdir().expect("home");
    let committee = SigningCommittee::deterministic("abuse-suite", 1, 4, 3);
    let mut node = Node::init(home.path(), &genesis_with_c1(&committee));
    node.block(&[]);
    let mut admin = admin();
    let probe = instance(1);
    let c1 = c1_address();
    let ordinary = json!({"write": {"key": "k", "value": "v"}});
    // Ordinary blocks: two 1,000-record batches each (the same window for 2,000 terminals),
    // milliseconds per million SDK gas used, the mean of three blocks after a warm-up.
    // Each terminal is registered and leased (the admin is provider and tenant) in one tx.
    let register: Vec<Vec<u8>> = (0..2 * CHAIN_RECORDS)
        .map(|i| {
            let id = format!("edge-{i:05}");
            let register = admin.execute_msg(
                &c1,
                &json!({"register_terminal": {
                    "terminal_id": id, "provider": admin.addr(),
                    "attestor_key": HexBinary::from(merkle::sha256(id.as_bytes())), "tee": "software",
                    "measurement": HexBinary::from(usage_devtools::localnet::SOFTWARE_MEASUREMENT)}}),
            );
            let lease = admin.execute_msg(
                &c1,
                &json!({"open_lease": {"terminal_id": id, "provider": admin.addr(), "start": 0}}),
            );
            admin.sign(vec![register, lease], 5_000_000)
        })
        .collect();
    let (out, _) = node.block(&register);
    if let Some(refused) = out.iter().find(|o| o.code != 0) {
        panic!("registration refused: {}", refused.log);
    }
    let mut ordinary_ms = vec![];
    let mut ordinary_gas = 0u64;
    for round in 0..4u64 {
        // Block times are T0 + 5 × height: prove the window that just ended.
        let window = (T0 + 5 * (node.height + 1)) / 10 * 10 - 10;
        let txs: Vec<Vec<u8>> = (0..2)
            .map(|k| {
                admin.execute(
                    &c1,
                    &batch(&committee, &c1, window, k * CHAIN_RECORDS),
                    40_000_000,
                )
            })
            .collect();
        let (out, ms) = timed_block(&mut node, &txs);
        assert!(out.iter().all(|o| o.code == 0), "{}", out[0].log);
        let gas: u64 = out.iter().map(|o| o.gas_used).sum();
        if round > 0 {
            ordinary_ms.push(ms / (gas as f64 / 1e6));
            ordinary_gas = gas;
        }
        // Skip to the next window.
        node.block(&[]);
        node.block(&[]);
    }
    let ordinary_ms_per_mgas = ordinary_ms.iter().sum::<f64>() / ordinary_ms.len() as f64;
    let abuses = [
        Abuse {
            name: "infinite loop",
            msg: json!({"loop": {}}),
            gas: 20_000_000,
            expected: ("sdk", 11),
        },
        Abuse {
            name: "memory grown past the 32 MiB limit",
            msg: json!({"grow_memory": {"step": 1 << 20, "times": 64}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
        Abuse {
            name: "query recursion 50 deep",
            msg: json!({"recurse_query": {"depth": 50}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
        Abuse {
            name: "failing nested queries in a loop",
            msg: json!({"retry_failing_queries": {"times": 0}}),
            gas: 20_000_000,
            expected: ("sdk", 11),
        },
        Abuse {
            name: "5,000 open iterators",
            msg: json!({"open_iterators": {"count": 5_000}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
        Abuse {
            name: "scan then write, 100,000 times",
            msg: json!({"scan_write": {"count": 100_000}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
        Abuse {
            name: "100,000 event attributes",
            msg: json!({"events": {"count": 100_000, "size": 8}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
        Abuse {
            name: "one 2 MB attribute",
            msg: json!({"events": {"count": 1, "size": 2_000_000}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
        Abuse {
            name: "8 MB response data",
            msg: json!({"respond": {"size": 8_000_000}}),
            gas: 150_000_000,
            expected: ("wasm", 5),
        },
    ];
    println!(
        "\n{:<36} {:>8} {:>10} {:>10} {:>10} {:>10} {:>13} {:>13}",
        "abuse", "code", "gas used", "block ms", "ms/Mgas", "× ordinary", "RSS before", "RSS after"
    );
    println!(
        "{:<36} {:>8} {:>10} {:>10} {:>10.2} {:>10}",
        "(ordinary: 2 x 1,000-record batches)", "0", ordinary_gas, "", ordinary_ms_per_mgas, "1.0"
    );
    let report = |name: &str, out: &usaged::TxOutcome, ms: f64, before: u64, after: u64| {
        // A tx refused before it used gas has no time per gas: its block time says it all.
        let (per, ratio) = if out.gas_used == 0 {
            ("-".to_string(), "-".to_string())
        } else {
            let per = ms / (out.gas_used as f64 / 1e6);
            (
                format!("{per:.2}"),
                format!("{:.2}", per / ordinary_ms_per_mgas),
            )
        };
        println!(
            "{name:<36} {:>8} {:>10} {ms:>10.2} {per:>10} {ratio:>10} {before:>9} KiB {after:>9} KiB",
            format!("{}/{}", out.codespace, out.code),
            out.gas_used,
        );
    };
    for abuse in &abuses {
        let before = rss_kib();
        let tx = admin.execute(&probe, &abuse.msg, abuse.gas);
        let (out, ms) = timed_block(&mut node, &[tx]);
        let after = rss_kib();
        let got = (out[0].codespace.as_str(), out[0].code);
        report(abuse.name, &out[0], ms, before, after);
        assert_eq!(got, abuse.expected, "{}: {}", abuse.name, out[0].log);
        // The chain goes on: the next block runs an ordinary tx.
        let next = node.run(admin.execute(&probe, &ordinary, 5_000_000));
        assert_eq!(next.code, 0, "after {}: {}", abuse.name, next.log);
    }

    // Plain transactions: the largest message (a ~1 MB value, over the VM's 128 KiB value limit),
    // a tx over the size cap, and an upload by an account without permission.
    let before = rss_kib();
    let big =
        json!({"write": {"key": "big", "value": "x".repeat(usaged_auth::MAX_TX_BYTES - 4_096)}});
    let tx = admin.execute(&probe, &big, 150_000_000);
    let (out, ms) = timed_block(&mut node, &[tx]);
    report("largest tx (a ~1 MB value)", &out[0], ms, before, rss_kib());
    assert_eq!(
        (out[0].codespace.as_str(), out[0].code),
        ("wasm", 5),
        "{}",
        out[0].log
    );

    let before = rss_kib();
    let huge = json!({"write": {"key": "big", "value": "x".repeat(usaged_auth::MAX_TX_BYTES)}});
    let tx = admin.execute(&probe, &huge, 150_000_000);
    admin.sequence -= 1;
    assert_eq!(
        node.machine.check_tx(&tx, false).code,
        21,
        "CheckTx refuses it"
    );
    let (out, ms) = timed_block(&mut node, &[tx]);
    report("tx over the 1 MiB cap", &out[0], ms, before, rss_kib());
    assert_eq!((out[0].codespace.as_str(), out[0].code), ("sdk", 21));

    let before = rss_kib();
    let mut stranger = Wallet::new(77);
    let upload = stranger.store_code_msg(fresh_probe_wasm("abuse"));
    let (out, ms) = timed_block(&mut node, &[stranger.sign(vec![upload], 150_000_000)]);
    report("upload without permission", &out[0], ms, before, rss_kib());
    assert_eq!((out[0].codespace.as_str(), out[0].code), ("sdk", 4));
    let next = node.run(admin.execute(&probe, &ordinary, 5_000_000));
    assert_eq!(next.code, 0, "{}", next.log);
}
