//! The resource-abuse suite: one probe-contract call (or plain transaction) per abuse a hostile
//! client could send. Each must fail inside its own transaction with a typed (codespace, code),
//! and the next block must go on. The suite prints, per abuse, the FinalizeBlock time of its
//! block per million SDK gas used against an ordinary block's (a block of contract writes), and
//! this process's resident memory before and after (figures, not assertions: timing is measured,
//! never asserted). Responses above cosmwasm-vm's 256 KiB result limit (huge events, attributes
//! or data) fail as the contract's error.
//!
//! Figures with an optimised node:
//! `cargo test --profile native -p usaged --test every_resource_abuse_fails_in_its_own_tx -- --nocapture`

#[path = "common/node.rs"]
mod node;

use std::time::Instant;

use cosmwasm_std::Timestamp;
use serde_json::{json, Value};

use node::*;

struct Abuse {
    name: &'static str,
    msg: Value,
    gas: u64,
    expected: (&'static str, u32),
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
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let mut admin = admin();
    let probe = instance(1);
    let ordinary = json!({"write": {"key": "k", "value": "v"}});
    // Warm the module cache, then time ordinary blocks of 50 writes: milliseconds per million
    // SDK gas used, the best of three.
    node.run(admin.execute(&probe, &ordinary, 5_000_000));
    let mut ordinary_ms_per_mgas = f64::MAX;
    for round in 0..3 {
        let txs: Vec<Vec<u8>> = (0..50)
            .map(|i| {
                let w =
                    json!({"write": {"key": format!("k{round}-{i}"), "value": "v".repeat(200)}});
                admin.execute(&probe, &w, 5_000_000)
            })
            .collect();
        let (out, ms) = timed_block(&mut node, &txs);
        assert!(out.iter().all(|o| o.code == 0), "{}", out[0].log);
        let gas: u64 = out.iter().map(|o| o.gas_used).sum();
        ordinary_ms_per_mgas = ordinary_ms_per_mgas.min(ms / (gas as f64 / 1e6));
    }
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
        "(ordinary: 50 writes)", "0", "", "", ordinary_ms_per_mgas, "1.0"
    );
    let report = |name: &str, out: &usaged::TxOutcome, ms: f64, before: u64, after: u64| {
        let per = ms / (out.gas_used.max(1) as f64 / 1e6);
        println!(
            "{name:<36} {:>8} {:>10} {ms:>10.2} {per:>10.2} {:>10.2} {before:>9} KiB {after:>9} KiB",
            format!("{}/{}", out.codespace, out.code),
            out.gas_used,
            per / ordinary_ms_per_mgas,
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
