//! A wallet as dApps use it: CosmJS (`@cosmjs/cosmwasm-stargate` from npm, run by node) with a
//! freshly generated key that the chain has never seen signs and broadcasts `RequestWithdrawal`
//! with `SigningCosmWasmClient.execute` (fee "auto", so the chain's Simulate is used), reads it
//! back with `queryContractSmart` and finds it with `searchTx`, against a real CometBFT node.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{sign_execute, Localnet};
use cosmrs::crypto::secp256k1::SigningKey;
use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_common::payload::DepositVoucher;
use usage_devtools::localnet;
use usage_signer::SigningCommittee;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_cosmjs_wallet_signs_a_withdrawal_reads_it_back_and_finds_it() {
    let net = Localnet::start("usagechain-wallet-1").await;
    let c4 = net.contract("ledger");
    let c5 = net.contract("withdrawal");

    // A key no one has used: its address has never been seen by the chain.
    let mut secret = [0u8; 32];
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos()
        .to_be_bytes();
    secret[..16].copy_from_slice(&seed);
    secret[16..].copy_from_slice(&[0x42; 16]);
    let wallet = SigningKey::from_slice(&secret).expect("key");
    let address = wallet
        .public_key()
        .account_id("usage")
        .expect("address")
        .to_string();

    // The bank credits it: a committee-signed deposit voucher, submitted by the admin.
    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    let voucher = DepositVoucher {
        bank_ref: "CAMT054-WALLET-1".into(),
        beneficiary: address.clone(),
        amount: Uint128::new(5_000),
        currency: "CNY".into(),
    };
    let deposit = sign_execute(
        &net.admin(),
        &net.info.chain_id,
        0,
        &c4,
        &json!({"deposit": {"signature": committee.sign_quorum(&net.info.chain_id, &c4, &voucher), "voucher": voucher}}),
    );
    net.commit_tx(deposit).await;

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/wallet/withdraw.mjs");
    let out = Command::new("node")
        .arg(&script)
        .env("RPC", format!("http://127.0.0.1:{}", net.ports.rpc))
        .env("WITHDRAWAL", &c5)
        .env("PRIVKEY", hex::encode(secret))
        .env("AMOUNT", "1200")
        .output()
        .expect("node (npm install in tests/wallet: scripts/setup.sh)");
    assert!(
        out.status.success(),
        "CosmJS failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["address"], address.as_str());
    // CosmJS saw the unseen address as a fresh BaseAccount and could sign at once.
    assert_eq!(report["account_before"]["sequence"], 0);
    assert_eq!(report["account_before"]["accountNumber"], 0);
    assert!(report["gas_used"].as_u64().unwrap_or(0) > 0);
    let withdrawals = report["withdrawals"].as_array().expect("withdrawals");
    assert_eq!(withdrawals.len(), 1);
    assert_eq!(withdrawals[0]["amount"], "1200");
    assert_eq!(withdrawals[0]["owner"], address.as_str());
    assert_eq!(withdrawals[0]["status"], "requested");
    let hits = report["search_hits"].as_array().expect("hits");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0], report["tx_hash"]);
}
