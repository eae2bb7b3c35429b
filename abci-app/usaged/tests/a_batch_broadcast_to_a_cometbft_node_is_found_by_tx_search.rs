//! With a real CometBFT v0.38 node (installed by scripts/setup.sh) driving `usaged`: a
//! cosmrs-built `SubmitBatch` broadcast with tendermint-rpc is committed, its first proof is
//! queryable through ABCI, and CometBFT's kv indexer finds the tx by
//! `wasm-usage_proof.terminal_id` (a tag with `-` in it).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmrs::cosmwasm::MsgExecuteContract;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::tx::{Body, Fee, Msg, SignDoc, SignerInfo};
use cosmwasm_std::{Binary, HexBinary};
use prost::Message;
use serde_json::{json, Value};
use tendermint_rpc::{Client, HttpClient};
use usage_common::merkle;
use usage_common::msg::usage_proof;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{align, encode_batch, Metrics, UsageRecord};
use usage_signer::SigningCommittee;
use usaged::localnet::{self, LocalnetInfo, Ports};

struct Killer(Vec<Child>);

impl Drop for Killer {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn http_get(port: u16, path_and_query: &str) -> Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .expect("request");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("response");
    let body = raw.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {raw}"))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sign_execute(key: &SigningKey, chain: &str, seq: u64, contract: &str, msg: &Value) -> Vec<u8> {
    let sender = key.public_key().account_id("usage").expect("address");
    let any = MsgExecuteContract {
        sender,
        contract: contract.parse().expect("contract"),
        msg: serde_json::to_vec(msg).expect("json"),
        funds: vec![],
    }
    .to_any()
    .expect("any");
    let body = Body::new(vec![any], "", 0u32);
    let auth = SignerInfo::single_direct(Some(key.public_key()), seq).auth_info(Fee {
        amount: vec![],
        gas_limit: 100_000_000,
        payer: None,
        granter: None,
    });
    SignDoc::new(&body, &auth, &chain.parse().expect("chain id"), 0)
        .expect("sign doc")
        .sign(key)
        .expect("sign")
        .to_bytes()
        .expect("bytes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_broadcast_to_a_cometbft_node_is_committed_queried_and_found_by_tx_search() {
    let home = tempfile::tempdir().expect("home");
    let ports = Ports {
        rpc: free_port(),
        p2p: free_port(),
        abci: free_port(),
    };
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts");
    let info: LocalnetInfo =
        localnet::init(home.path(), "usagechain-itest-1", &artifacts, ports).expect("init");
    let usaged = Command::new(env!("CARGO_BIN_EXE_usaged"))
        .args([
            "start",
            "--abci",
            &format!("127.0.0.1:{}", ports.abci),
            "--home",
        ])
        .arg(home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("usaged");
    std::thread::sleep(Duration::from_millis(500));
    let node = Command::new(localnet::cometbft_binary())
        .arg("start")
        .arg("--home")
        .arg(home.path().join("cometbft"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cometbft (install it with scripts/setup.sh)");
    let _guard = Killer(vec![node, usaged]);

    let client =
        HttpClient::new(format!("http://127.0.0.1:{}", ports.rpc).as_str()).expect("client");
    let started = Instant::now();
    loop {
        if let Ok(s) = client.status().await {
            if s.sync_info.latest_block_height.value() >= 1 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no block within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let contract = |label: &str| {
        info.contracts
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, a)| a.clone())
            .expect("contract")
    };
    let c1 = contract("usage-proof");
    let admin = SigningKey::from_slice(&localnet::ADMIN_SEED).expect("admin key");
    let register = sign_execute(
        &admin,
        &info.chain_id,
        0,
        &c1,
        &json!({"register_terminal": {"terminal_id": "edge-1", "provider": info.admin_address,
            "attestor_key": HexBinary::from([3u8; 32]), "tee": "software",
            "measurement": HexBinary::from(localnet::SOFTWARE_MEASUREMENT)}}),
    );
    let res = client
        .broadcast_tx_commit(register)
        .await
        .expect("broadcast");
    assert!(res.check_tx.code.is_ok(), "check_tx: {}", res.check_tx.log);
    assert!(
        res.tx_result.code.is_ok(),
        "register: {}",
        res.tx_result.log
    );

    // A record for a window that has closed by the node's clock.
    let now = client
        .status()
        .await
        .expect("status")
        .sync_info
        .latest_block_time;
    let now_secs = now.unix_timestamp() as u64;
    let window = align(now_secs - 15, 10);
    let records = vec![UsageRecord {
        terminal_id: "edge-1".into(),
        window_start: window,
        tenant: info.admin_address.clone(),
        metrics: Metrics {
            net_tx_bytes: 4_096,
            cpu_time_us: 1_000,
            ..Default::default()
        },
    }];
    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    let digest = UsageBatchDigest {
        root: HexBinary::from(
            merkle::root(&[merkle::leaf_hash(&records[0].to_bytes())]).expect("root"),
        ),
        records: 1,
    };
    let batch = sign_execute(
        &admin,
        &info.chain_id,
        1,
        &c1,
        &json!({"submit_batch": {"records": Binary::from(encode_batch(&records)),
            "signature": committee.sign_quorum(&info.chain_id, &c1, &digest)}}),
    );
    let res = client
        .broadcast_tx_commit(batch)
        .await
        .expect("broadcast batch");
    assert!(res.tx_result.code.is_ok(), "batch: {}", res.tx_result.log);
    let batch_hash = res.hash.to_string();

    // The first proof through an ABCI query at CosmJS's path.
    let q = client
        .abci_query(
            Some("/cosmwasm.wasm.v1.Query/SmartContractState".to_string()),
            wasmv1::QuerySmartContractStateRequest {
                address: c1.clone(),
                query_data: serde_json::to_vec(
                    &json!({"proof": {"terminal_id": "edge-1", "window_start": window}}),
                )
                .expect("json"),
            }
            .encode_to_vec(),
            None,
            false,
        )
        .await
        .expect("abci query");
    assert!(q.code.is_ok(), "{}", q.log);
    assert!(q.height.value() > 0);
    let data = wasmv1::QuerySmartContractStateResponse::decode(q.value.as_slice())
        .expect("response")
        .data;
    let proof: usage_proof::ProofResponse = serde_json::from_slice(&data).expect("json");
    assert_eq!(
        proof.proof.expect("first proof").metrics.net_tx_bytes,
        4_096
    );

    // CometBFT's kv indexer finds it by the contract event's attribute.
    let query = percent_encode("\"wasm-usage_proof.terminal_id='edge-1'\"");
    let found = http_get(ports.rpc, &format!("/tx_search?query={query}"));
    let result = &found["result"];
    assert_eq!(result["total_count"], "1", "{found}");
    assert_eq!(result["txs"][0]["hash"], batch_hash);
    let none = http_get(
        ports.rpc,
        &format!(
            "/tx_search?query={}",
            percent_encode("\"wasm-usage_proof.terminal_id='edge-2'\"")
        ),
    );
    assert_eq!(none["result"]["total_count"], "0", "{none}");
}
