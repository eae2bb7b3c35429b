//! With a real CometBFT v0.38 node (installed by scripts/setup.sh) driving `usaged`: a
//! cosmrs-built `SubmitBatch` broadcast with tendermint-rpc is committed, its first proof is
//! queryable through ABCI, and CometBFT's kv indexer finds the tx by
//! `wasm-usage_proof.terminal_id` (a tag with `-` in it).

mod common;

use common::{http_get, percent_encode, register_and_lease, sign_execute, sign_executes, Localnet};
use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmwasm_std::{Binary, HexBinary};
use prost::Message;
use serde_json::json;
use tendermint_rpc::Client;
use usage_common::merkle;
use usage_common::msg::usage_proof;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{align, encode_batch, Metrics, UsageRecord};
use usage_devtools::localnet;
use usage_signer::SigningCommittee;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_broadcast_to_a_cometbft_node_is_committed_queried_and_found_by_tx_search() {
    let net = Localnet::start("usagechain-itest-1").await;
    let info = &net.info;
    let c1 = net.contract("usage-proof");
    let admin = net.admin();
    // The admin is the provider and leases the terminal as its tenant, in the same tx.
    let register = sign_executes(
        &admin,
        &info.chain_id,
        0,
        &c1,
        &register_and_lease("edge-1", &info.admin_address, [3u8; 32]),
    );
    net.commit_tx(register).await;

    // A record for a window that has closed by the node's clock.
    let window = align(net.block_time().await - 15, 10);
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
    let batch_hash = net.commit_tx(batch).await;

    // The first proof through an ABCI query at CosmJS's path.
    let q = net
        .client
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
    let found = http_get(net.ports.rpc, &format!("/tx_search?query={query}"));
    let result = &found["result"];
    assert_eq!(result["total_count"], "1", "{found}");
    assert_eq!(result["txs"][0]["hash"], batch_hash);
    let none = http_get(
        net.ports.rpc,
        &format!(
            "/tx_search?query={}",
            percent_encode("\"wasm-usage_proof.terminal_id='edge-2'\"")
        ),
    );
    assert_eq!(none["result"]["total_count"], "0", "{none}");
}
