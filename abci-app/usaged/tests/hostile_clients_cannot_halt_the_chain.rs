//! What any client with RPC access can send, read as an attacker would: uploads without
//! permission, uploads through `Simulate`, failing nested queries retried for ever, iterators by
//! the thousand, a wiped module cache, a store that fails under a contract — each either fails
//! inside its own transaction with a typed code and the chain goes on, or halts the node, never
//! silently computing another result.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

#[path = "common/node.rs"]
mod node;

use std::sync::mpsc;
use std::time::Duration;

use cosmos_sdk_proto::cosmos::tx::v1beta1 as txv1;
use prost::Message;
use serde_json::json;

use node::*;

const GAS: u64 = 50_000_000;

/// Runs `f` on its own thread; `None` if it has not returned within `limit` (it keeps running).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

fn codes(node: &Node) -> u64 {
    let a = usaged::queries::answer(
        &node.machine,
        "/cosmwasm.wasm.v1.Query/Codes",
        &cosmos_sdk_proto::cosmwasm::wasm::v1::QueryCodesRequest { pagination: None }
            .encode_to_vec(),
        false,
    );
    assert_eq!(a.code, 0, "{}", a.log);
    cosmos_sdk_proto::cosmwasm::wasm::v1::QueryCodesResponse::decode(a.value.as_slice())
        .expect("codes")
        .code_infos
        .len() as u64
}

fn simulate(node: &Node, tx: Vec<u8>) -> usaged::queries::QueryAnswer {
    usaged::queries::answer(
        &node.machine,
        "/cosmos.tx.v1beta1.Service/Simulate",
        &txv1::SimulateRequest {
            #[allow(deprecated)]
            tx: None,
            tx_bytes: tx,
        }
        .encode_to_vec(),
        false,
    )
}

#[test]
fn an_upload_or_instantiation_by_an_account_without_permission_is_refused_and_stores_nothing() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let mut stranger = Wallet::new(9);
    let upload = stranger.store_code_msg(fresh_probe_wasm("stranger"));
    let tx = stranger.sign(vec![upload], GAS);
    let check = node.machine.check_tx(&tx, false);
    assert_eq!(
        (check.codespace.as_str(), check.code),
        ("sdk", 4),
        "CheckTx: {}",
        check.log
    );
    let out = node.run(tx);
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("sdk", 4),
        "{}",
        out.log
    );
    assert_eq!(codes(&node), 1, "no code was added");

    let inst = stranger.instantiate_msg(1, "mine");
    let out = node.run(stranger.sign(vec![inst], GAS));
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("sdk", 4),
        "{}",
        out.log
    );

    // The admin may do both.
    let mut admin = admin();
    let upload = admin.store_code_msg(fresh_probe_wasm("admin"));
    let out = node.run(admin.sign(vec![upload], 150_000_000));
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(codes(&node), 2);
    let inst = admin.instantiate_msg(2, "second");
    let out = node.run(admin.sign(vec![inst], GAS));
    assert_eq!(out.code, 0, "{}", out.log);
}

#[test]
fn an_unsigned_simulate_never_writes_code_to_disk() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let before = files_under(&home.path().join("wasm-cache"));
    let (height, hash) = node.machine.committed();
    let mut admin = admin();
    let upload = admin.store_code_msg(fresh_probe_wasm("simulated"));
    let answer = simulate(&node, admin.sign(vec![upload], 150_000_000));
    assert_eq!(answer.code, 0, "the upload is simulated: {}", answer.log);
    let gas_used = txv1::SimulateResponse::decode(answer.value.as_slice())
        .expect("response")
        .gas_info
        .expect("gas info")
        .gas_used;
    let len = fresh_probe_wasm("simulated").len() as u64;
    assert!(
        gas_used > 3 * len + 30 * len,
        "compile and storage gas charged: {gas_used} for {len} bytes"
    );
    assert_eq!(
        files_under(&home.path().join("wasm-cache")),
        before,
        "Simulate wrote to the module cache"
    );
    // Uploading and instantiating in one simulated tx: the new code is not compiled for it.
    admin.sequence = 0;
    let upload = admin.store_code_msg(fresh_probe_wasm("simulated-and-run"));
    let inst = admin.instantiate_msg(2, "simulated");
    let answer = simulate(&node, admin.sign(vec![upload, inst], 150_000_000));
    assert_eq!(
        (answer.codespace.as_str(), answer.code),
        ("wasm", 10),
        "{}",
        answer.log
    );
    assert_eq!(
        files_under(&home.path().join("wasm-cache")),
        before,
        "Simulate compiled a code it had stored"
    );
    assert_eq!(node.machine.committed(), (height, hash));
    assert_eq!(codes(&node), 1);
}

#[test]
fn a_gzipped_upload_is_inflated_and_charged_as_wasmd_charges_it() {
    use std::io::Write;
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let wasm = fresh_probe_wasm("gzipped");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&wasm).expect("gzip");
    let gzipped = gz.finish().expect("gzip");
    let mut admin = admin();
    let upload = admin.store_code_msg(gzipped.clone());
    let out = node.run(admin.sign(vec![upload], 150_000_000));
    assert_eq!(out.code, 0, "CosmJS's gzipped upload: {}", out.log);
    let compile = 3 * wasm.len() as u64;
    let store = 30 * wasm.len() as u64;
    assert!(
        out.gas_used >= compile + store,
        "gas {} below compile {compile} + storage {store}",
        out.gas_used
    );
    // Too little gas for the upload fails before compiling, with out of gas.
    let upload = admin.store_code_msg(gzipped);
    let out = node.run(admin.sign(vec![upload], 3_000_000));
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("sdk", 11),
        "{}",
        out.log
    );
    assert_eq!(out.gas_used, out.gas_wanted);
    assert_eq!(codes(&node), 2);
}

#[test]
fn retrying_a_failing_nested_query_runs_out_of_gas_instead_of_looping_for_ever() {
    let outcome = within(Duration::from_secs(120), || {
        let home = tempfile::tempdir().expect("home");
        let mut node = Node::init(home.path(), &genesis(json!({})));
        node.block(&[]);
        let mut admin = admin();
        let tx = admin.execute(
            &instance(1),
            &json!({"retry_failing_queries": {"times": 0}}),
            2_000_000,
        );
        node.run(tx)
    })
    .expect("FinalizeBlock did not return within 120 s: failed nested queries are free");
    assert_eq!(
        (outcome.codespace.as_str(), outcome.code),
        ("sdk", 11),
        "{}",
        outcome.log
    );
    assert_eq!(outcome.gas_used, outcome.gas_wanted);
}

#[test]
fn a_contract_call_cannot_hold_more_iterators_than_the_cap() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let mut admin = admin();
    let few = admin.execute(
        &instance(1),
        &json!({"open_iterators": {"count": 100}}),
        150_000_000,
    );
    let many = admin.execute(
        &instance(1),
        &json!({"open_iterators": {"count": 5_000}}),
        150_000_000,
    );
    let (out, _) = node.block(&[few, many]);
    assert_eq!(out[0].code, 0, "{}", out[0].log);
    assert_eq!(
        (out[1].codespace.as_str(), out[1].code),
        ("wasm", 5),
        "{}",
        out[1].log
    );
    assert!(out[1].log.contains("iterators"), "{}", out[1].log);
}

/// Two nodes on the same genesis and blocks; one loses its module cache (or has it truncated)
/// while stopped. Both must compute the same results and app hash afterwards.
fn cache_damage_is_repaired(damage: impl Fn(&std::path::Path)) {
    let a = tempfile::tempdir().expect("a");
    let b = tempfile::tempdir().expect("b");
    let g = genesis(json!({}));
    let mut admin = admin();
    let first = admin.execute(
        &instance(1),
        &json!({"write": {"key": "k", "value": "1"}}),
        GAS,
    );
    let second = admin.execute(
        &instance(2),
        &json!({"write": {"key": "k", "value": "2"}}),
        GAS,
    );
    let mut na = Node::init(a.path(), &g);
    let mut nb = Node::init(b.path(), &g);
    assert_eq!(na.block(std::slice::from_ref(&first)), nb.block(&[first]));
    drop(nb);
    damage(&b.path().join("wasm-cache"));
    let mut nb = Node::reopen(b.path());
    let (ra, ha) = na.block(std::slice::from_ref(&second));
    let (rb, hb) = nb.block(&[second]);
    assert_eq!(ra[0].code, 0, "{}", ra[0].log);
    assert_eq!(rb[0].code, 0, "the damaged node: {}", rb[0].log);
    assert_eq!(ha, hb, "app hashes diverged");
    assert_eq!(nb.probe_get(&instance(2), "k").as_deref(), Some("2"));
}

#[test]
fn a_node_whose_module_cache_was_wiped_rebuilds_it_and_agrees_with_its_peer() {
    cache_damage_is_repaired(|cache| std::fs::remove_dir_all(cache).expect("wipe"));
}

#[test]
fn a_node_whose_module_files_were_truncated_rebuilds_them_and_agrees_with_its_peer() {
    cache_damage_is_repaired(|cache| {
        let modules: Vec<_> = files_under(cache)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "module"))
            .collect();
        assert!(
            !modules.is_empty(),
            "no module files under {}",
            cache.display()
        );
        for m in modules {
            std::fs::write(&m, b"truncated").expect("truncate");
        }
    });
}

#[test]
fn sub_message_gas_limits_are_sdk_gas_and_reply_sees_only_the_failures_codes() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let mut admin = admin();
    let write = serde_json::to_vec(&json!({"write": {"key": "k", "value": "v"}})).expect("json");
    let tx = admin.execute(
        &instance(1),
        &json!({"call": {"contract": instance(2), "msg": cosmwasm_std::Binary::from(write),
                         "reply_on_error": true, "note": "limited", "gas_limit": 1_000_000}}),
        GAS,
    );
    let out = node.run(tx);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(
        node.probe_get(&instance(2), "k").as_deref(),
        Some("v"),
        "a 1,000,000 SDK gas sub-message had enough gas to write"
    );
    assert_eq!(node.probe_get(&instance(1), "last_reply"), None);

    let fail = serde_json::to_vec(&json!({"write_then_fail": {"key": "x"}})).expect("json");
    let tx = admin.execute(
        &instance(1),
        &json!({"call": {"contract": instance(2), "msg": cosmwasm_std::Binary::from(fail),
                         "reply_on_error": true, "note": "failing"}}),
        GAS,
    );
    let out = node.run(tx);
    assert_eq!(out.code, 0, "{}", out.log);
    assert_eq!(
        node.probe_get(&instance(1), "last_reply").as_deref(),
        Some("error: codespace: wasm, code: 5")
    );
    let gas: u64 = node
        .probe_get(&instance(1), "last_reply_gas")
        .expect("reply gas")
        .parse()
        .expect("number");
    assert!(
        (60_000..5_000_000).contains(&gas),
        "Reply.gas_used {gas} is not in SDK gas"
    );
}

#[test]
fn a_failed_message_charges_the_gas_it_used_and_keeps_the_ante_events() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let mut admin = admin();
    let out = node.run(admin.execute(&instance(1), &json!({"loop": {}}), 2_000_000));
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("sdk", 11),
        "{}",
        out.log
    );
    assert_eq!(
        out.gas_used, out.gas_wanted,
        "an out-of-gas tx used all its gas"
    );
    let attr = |key: &str| {
        out.events
            .iter()
            .filter(|e| e.ty == "tx")
            .flat_map(|e| e.attributes.iter())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(attr("acc_seq"), Some(format!("{}/0", admin.addr())));
    assert_eq!(attr("fee_payer"), Some(admin.addr()));
    assert!(attr("signature").is_some_and(|s| !s.is_empty()));
    assert!(attr("fee").is_some());
}

#[test]
fn client_smart_queries_run_at_the_last_committed_block_height_and_time() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    node.block(&[]);
    let now: (u64, u64) =
        serde_json::from_value(node.smart(&instance(1), &json!({"now": {}})).expect("now"))
            .expect("pair");
    assert_eq!(now, (2, (T0 + 10) * 1_000_000_000));
}

#[test]
fn a_query_at_another_height_is_refused_with_invalid_height() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    node.block(&[]);
    let data = cosmos_sdk_proto::cosmwasm::wasm::v1::QueryCodesRequest { pagination: None }
        .encode_to_vec();
    let path = "/cosmwasm.wasm.v1.Query/Codes";
    for h in [0i64, 2] {
        let a = usaged::queries::answer_at(&node.machine, h, path, &data, false);
        assert_eq!(a.code, 0, "height {h}: {}", a.log);
    }
    for h in [1i64, 3, -1] {
        let a = usaged::queries::answer_at(&node.machine, h, path, &data, false);
        assert_eq!(
            (a.codespace.as_str(), a.code),
            ("sdk", 26),
            "height {h}: {}",
            a.log
        );
    }
}

#[test]
fn check_tx_refuses_what_delivery_would_refuse() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    let mut admin = admin();
    let low = admin.execute(
        &instance(1),
        &json!({"write": {"key": "a", "value": "b"}}),
        1,
    );
    let r = node.machine.check_tx(&low, false);
    assert_eq!((r.codespace.as_str(), r.code), ("sdk", 11), "{}", r.log);
    admin.sequence -= 1;
    let clear = any(
        "/cosmwasm.wasm.v1.MsgClearAdmin",
        cosmos_sdk_proto::cosmwasm::wasm::v1::MsgClearAdmin {
            sender: admin.addr(),
            contract: instance(1),
        }
        .encode_to_vec(),
    );
    let r = node.machine.check_tx(&admin.sign(vec![clear], GAS), false);
    assert_eq!((r.codespace.as_str(), r.code), ("wasm", 10), "{}", r.log);
    admin.sequence -= 1;
    let funded = any(
        "/cosmwasm.wasm.v1.MsgExecuteContract",
        cosmos_sdk_proto::cosmwasm::wasm::v1::MsgExecuteContract {
            sender: admin.addr(),
            contract: instance(1),
            msg: b"{\"loop\":{}}".to_vec(),
            funds: vec![cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
                denom: "ucny".into(),
                amount: "5".into(),
            }],
        }
        .encode_to_vec(),
    );
    let r = node.machine.check_tx(&admin.sign(vec![funded], GAS), false);
    assert_eq!((r.codespace.as_str(), r.code), ("wasm", 10), "{}", r.log);
    // None of them advanced the pending sequence: the next tx at sequence 0 is admitted.
    admin.sequence = 0;
    let ok = admin.execute(
        &instance(1),
        &json!({"write": {"key": "a", "value": "b"}}),
        GAS,
    );
    let r = node.machine.check_tx(&ok, false);
    assert_eq!(r.code, 0, "{}", r.log);
}

#[test]
fn a_proposal_puts_priority_senders_first_and_drops_a_skipped_senders_later_txs() {
    let home = tempfile::tempdir().expect("home");
    let committee = Wallet::new(5);
    let g = genesis(
        json!({"priority_senders": [committee.addr()], "max_block_gas": 100_000_000u64, "max_tx_gas": 100_000_000u64}),
    );
    let mut node = Node::init(home.path(), &g);
    node.block(&[]);
    let mut big = Wallet::new(6);
    let mut a = Wallet::new(7);
    let mut c = committee;
    let w = json!({"write": {"key": "a", "value": "b"}});
    let x = big.execute(&instance(1), &w, 60_000_000);
    let a0 = a.execute(&instance(1), &w, 45_000_000);
    let a1 = a.execute(&instance(1), &w, 10_000_000);
    let c0 = c.execute(&instance(1), &w, 30_000_000);
    let chosen = node
        .machine
        .prepare_proposal(&[x.clone(), a0, a1, c0.clone()], 10_000_000);
    assert_eq!(
        chosen,
        vec![c0, x],
        "the committee's tx first; A's second tx left out with its first"
    );
}

#[test]
fn the_mempool_bounds_each_sender_and_charges_new_accounts() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    node.machine.set_node_config(usaged::machine::NodeConfig {
        max_pending_per_sender: 3,
        ..Default::default()
    });
    let mut admin = admin();
    let w = json!({"write": {"key": "a", "value": "b"}});
    for i in 0..3 {
        let r = node
            .machine
            .check_tx(&admin.execute(&instance(1), &w, GAS), false);
        assert_eq!(r.code, 0, "tx {i}: {}", r.log);
    }
    let r = node
        .machine
        .check_tx(&admin.execute(&instance(1), &w, GAS), false);
    assert_eq!((r.codespace.as_str(), r.code), ("sdk", 19), "{}", r.log);

    // A never-seen account pays the creation charge once: too little gas for it is refused.
    let mut fresh = Wallet::new(42);
    let tx = fresh.execute(&instance(1), &w, 50_000);
    let r = node.machine.check_tx(&tx, false);
    assert_eq!((r.codespace.as_str(), r.code), ("sdk", 11), "{}", r.log);
    let out = node.run(tx);
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("sdk", 11),
        "{}",
        out.log
    );
    fresh.sequence = 0;
    let out = node.run(fresh.execute(&instance(1), &w, GAS));
    assert_eq!(out.code, 0, "{}", out.log);
    assert!(out.gas_used > usaged::genesis::ACCOUNT_CREATION_GAS);
    let again = node.run(fresh.execute(&instance(1), &w, GAS));
    assert!(
        again.gas_used + usaged::genesis::ACCOUNT_CREATION_GAS / 2 < out.gas_used,
        "the charge is once: {} then {}",
        out.gas_used,
        again.gas_used
    );
}

#[test]
fn a_fee_below_the_nodes_minimum_gas_price_is_refused() {
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    node.machine.set_node_config(usaged::machine::NodeConfig {
        min_gas_price: usaged::machine::GasPrice::parse("0.025ucny").expect("price"),
        ..Default::default()
    });
    let mut admin = admin();
    let w = admin.execute_msg(&instance(1), &json!({"write": {"key": "a", "value": "b"}}));
    let cheap = admin.sign_with_fee(
        vec![w.clone()],
        1_000_000,
        vec![cosmrs::Coin::new(24_999, "ucny").expect("coin")],
    );
    let r = node.machine.check_tx(&cheap, false);
    assert_eq!((r.codespace.as_str(), r.code), ("sdk", 13), "{}", r.log);
    admin.sequence -= 1;
    let paid = admin.sign_with_fee(
        vec![w],
        1_000_000,
        vec![cosmrs::Coin::new(25_000, "ucny").expect("coin")],
    );
    let r = node.machine.check_tx(&paid, false);
    assert_eq!(r.code, 0, "{}", r.log);
}

#[test]
fn a_genesis_with_an_initial_height_above_one_starts_there() {
    let home = tempfile::tempdir().expect("home");
    let mut machine = usaged::Machine::open(home.path()).expect("open");
    machine
        .init_chain(
            CHAIN,
            5,
            cosmwasm_std::Timestamp::from_seconds(T0),
            &genesis(json!({})),
        )
        .expect("init chain at 5");
    let t = cosmwasm_std::Timestamp::from_seconds(T0 + 5);
    assert!(
        machine.finalize_block(1, t, &[]).is_err(),
        "block 1 is not next"
    );
    let (_, hash) = machine.finalize_block(5, t, &[]).expect("block 5");
    machine.commit().expect("commit");
    assert_eq!(machine.committed(), (5, hash));
    machine
        .finalize_block(6, cosmwasm_std::Timestamp::from_seconds(T0 + 10), &[])
        .expect("block 6");
    machine.commit().expect("commit 6");
}

/// What the probe's query of the chain answered, as JSON, or the error text.
fn chain_query(node: &Node, request: serde_json::Value) -> Result<serde_json::Value, String> {
    let request = cosmwasm_std::Binary::from(serde_json::to_vec(&request).expect("json"));
    node.smart(&instance(1), &json!({"chain": {"request": request}}))
        .map_err(|(code, log)| format!("{code}: {log}"))
}

#[test]
fn the_advertised_capabilities_are_the_implemented_ones() {
    let caps = usaged_vm::executor::CAPABILITIES;
    assert!(
        !caps.split(',').any(|c| c == "staking"),
        "no staking module"
    );
    let home = tempfile::tempdir().expect("home");
    let mut node = Node::init(home.path(), &genesis(json!({})));
    node.block(&[]);
    // cosmwasm_1_1: the supply of any denomination is zero (no native token).
    let supply =
        chain_query(&node, json!({"bank": {"supply": {"denom": "ucny"}}})).expect("supply");
    assert_eq!(supply["amount"], json!({"denom": "ucny", "amount": "0"}));
    // cosmwasm_1_2: code info.
    let info =
        chain_query(&node, json!({"wasm": {"code_info": {"code_id": 1}}})).expect("code info");
    assert_eq!(info["code_id"], json!(1));
    assert_eq!(
        info["checksum"],
        json!(hex::encode(
            cosmwasm_std::Checksum::generate(&artifact("usage_probe")).as_slice()
        ))
    );
    assert!(chain_query(&node, json!({"wasm": {"code_info": {"code_id": 9}}})).is_err());
    // cosmwasm_1_3: no metadata, no delegations.
    let all = chain_query(&node, json!({"bank": {"all_denom_metadata": {}}})).expect("metadata");
    assert_eq!(all["metadata"], json!([]));
    let w = chain_query(
        &node,
        json!({"distribution": {"delegator_withdraw_address": {"delegator_address": instance(2)}}}),
    )
    .expect("withdraw address");
    assert_eq!(w["withdraw_address"], json!(instance(2)));

    // cosmwasm_1_2: MsgInstantiateContract2 at the address cosmwasm-std predicts.
    let mut admin = admin();
    let salt = b"usagechain-salt".to_vec();
    let msg = any(
        "/cosmwasm.wasm.v1.MsgInstantiateContract2",
        cosmos_sdk_proto::cosmwasm::wasm::v1::MsgInstantiateContract2 {
            sender: admin.addr(),
            admin: String::new(),
            code_id: 1,
            label: "predictable".into(),
            msg: b"{}".to_vec(),
            funds: vec![],
            salt: salt.clone(),
            fix_msg: false,
        }
        .encode_to_vec(),
    );
    let tx = admin.sign(vec![msg.clone()], GAS);
    let out = node.run(tx);
    assert_eq!(out.code, 0, "{}", out.log);
    let creator = usaged_auth::validate_address(&admin.addr()).expect("canonical");
    let checksum = cosmwasm_std::Checksum::generate(&artifact("usage_probe"));
    let expected = cosmwasm_std::instantiate2_address(checksum.as_slice(), &creator.into(), &salt)
        .expect("predicted");
    let expected = usaged_auth::humanize(expected.as_slice()).expect("address");
    assert!(
        node.probe_get(&expected, "anything").is_none(),
        "the contract answers at {expected}"
    );
    // The same salt again: the address is taken.
    let out = node.run(admin.sign(vec![msg], GAS));
    assert_eq!(
        (out.codespace.as_str(), out.code),
        ("wasm", 15),
        "{}",
        out.log
    );
}
