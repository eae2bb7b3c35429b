//! `kill -9` of the application and its CometBFT node while blocks are being made: both restart
//! on the same homes, the application answers `Info` with its committed height and app hash,
//! CometBFT replays what it lacks and goes on (it would halt on an app-hash mismatch), nothing
//! proven is lost, and the admin's account sequence continues.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{register_and_lease, sign_execute, sign_executes, Localnet};
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

async fn proof_exists(net: &Localnet, c1: &str, window: u64) -> bool {
    let q = net
        .client
        .abci_query(
            Some("/cosmwasm.wasm.v1.Query/SmartContractState".to_string()),
            wasmv1::QuerySmartContractStateRequest {
                address: c1.to_string(),
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
        .expect("query");
    assert!(q.code.is_ok(), "{}", q.log);
    let data = wasmv1::QuerySmartContractStateResponse::decode(q.value.as_slice())
        .expect("response")
        .data;
    let proof: usage_proof::ProofResponse = serde_json::from_slice(&data).expect("json");
    proof.proof.is_some()
}

async fn batch(net: &Localnet, seq: u64, window: u64) -> Vec<u8> {
    let c1 = net.contract("usage-proof");
    let records = vec![UsageRecord {
        terminal_id: "edge-1".into(),
        window_start: window,
        tenant: net.info.admin_address.clone(),
        metrics: Metrics {
            net_tx_bytes: 100,
            ..Default::default()
        },
    }];
    let digest = UsageBatchDigest {
        root: HexBinary::from(
            merkle::root(&[merkle::leaf_hash(&records[0].to_bytes())]).expect("root"),
        ),
        records: 1,
    };
    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    sign_execute(
        &net.admin(),
        &net.info.chain_id,
        seq,
        &c1,
        &json!({"submit_batch": {"records": Binary::from(encode_batch(&records)),
            "signature": committee.sign_quorum(&net.info.chain_id, &c1, &digest)}}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_resumes_at_its_committed_height_with_nothing_lost() {
    let mut net = Localnet::start("usagechain-kill-1").await;
    let c1 = net.contract("usage-proof");
    // The admin is the provider and leases the terminal as its tenant, in the same tx.
    let register = sign_executes(
        &net.admin(),
        &net.info.chain_id,
        0,
        &c1,
        &register_and_lease("edge-1", &net.info.admin_address, [3u8; 32]),
    );
    net.commit_tx(register).await;
    let first_window = align(net.block_time().await - 15, 10);
    let tx = batch(&net, 1, first_window).await;
    net.commit_tx(tx).await;
    assert!(proof_exists(&net, &c1, first_window).await);

    // Let a few more blocks pass, then kill both processes without warning.
    let before = net.wait_for_height(net.wait_for_height(1).await + 2).await;
    let info_before = net.client.abci_info().await.expect("abci_info");
    net.kill9();
    net.restart();
    let after = net.wait_for_height(before + 3).await;
    assert!(after >= before + 3);

    // The application's committed state matches what the chain recorded: the header of the
    // block after `h` carries the app hash of `h`.
    let info = net.client.abci_info().await.expect("abci_info");
    let h = info.last_block_height.value();
    assert!(h >= info_before.last_block_height.value());
    net.wait_for_height(h + 1).await;
    let next = net
        .client
        .block(u32::try_from(h + 1).expect("height"))
        .await
        .expect("block");
    // tendermint-rpc 0.40 leaves `/abci_info`'s app hash as the RPC's base64 text.
    let reported = std::str::from_utf8(info.last_block_app_hash.as_ref())
        .ok()
        .and_then(|b64| Binary::from_base64(b64).ok())
        .map(|b| b.to_vec())
        .unwrap_or_else(|| info.last_block_app_hash.as_ref().to_vec());
    assert_eq!(next.block.header.app_hash.as_bytes(), reported.as_slice());
    assert!(
        proof_exists(&net, &c1, first_window).await,
        "the proof survived"
    );

    // The admin's sequence went on from where it was: its next tx (sequence 2) is accepted.
    // The next closed window after the first one, by the node's clock (blocks come about 1 s apart).
    let started = std::time::Instant::now();
    let second_window = loop {
        let w = align(net.block_time().await - 15, 10);
        if w > first_window {
            break w;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the chain's clock stood still"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let tx = batch(&net, 2, second_window).await;
    net.commit_tx(tx).await;
    assert!(proof_exists(&net, &c1, second_window).await);
}
