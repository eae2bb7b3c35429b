//! A wallet as dApps use it: CosmJS (`@cosmjs/cosmwasm-stargate` from npm, run by node) with a
//! freshly generated key that the chain has never seen signs and broadcasts `RequestWithdrawal`
//! with `SigningCosmWasmClient.execute` (fee "auto", so the chain's Simulate is used), reads it
//! back with `queryContractSmart` and finds it with `searchTx`, against a real CometBFT node.

mod common;

use common::{a_fresh_funded_wallet, run_wallet_script, Localnet};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_cosmjs_wallet_signs_a_withdrawal_reads_it_back_and_finds_it() {
    let net = Localnet::start("usagechain-wallet-1").await;
    let c5 = net.contract("withdrawal");
    let (secret, address) = a_fresh_funded_wallet(&net, "CAMT054-WALLET-1").await;

    let out = run_wallet_script(
        "withdraw.mjs",
        &[
            ("RPC", &net.rpc_url()),
            ("WITHDRAWAL", &c5),
            ("PRIVKEY", &hex::encode(secret)),
            ("AMOUNT", "1200"),
        ],
    );
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
