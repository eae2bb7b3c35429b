//! Keplr with a Ledger signs only `SIGN_MODE_LEGACY_AMINO_JSON`. The same withdrawal as
//! `a_fresh_cosmjs_wallet_signs_a_withdrawal`, signed by an amino-only CosmJS signer
//! (`Secp256k1Wallet` from `@cosmjs/amino`, through `createWasmAminoConverters`) with a fresh key,
//! broadcast to a real CometBFT node, must land, and the committed tx must carry mode 127.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::str::FromStr;

use common::{a_fresh_funded_wallet, run_wallet_script, Localnet};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, TxRaw};
use prost::Message;
use serde_json::{json, Value};
use tendermint_rpc::Client;

/// `SIGN_MODE_LEGACY_AMINO_JSON` in `cosmos.tx.signing.v1beta1.SignMode`.
const SIGN_MODE_LEGACY_AMINO_JSON: i32 = 127;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_amino_only_wallet_like_keplr_with_a_ledger_signs_a_withdrawal_in_legacy_amino_json() {
    let net = Localnet::start("usagechain-wallet-amino-1").await;
    let c5 = net.contract("withdrawal");
    let (secret, address) = a_fresh_funded_wallet(&net, "CAMT054-WALLET-AMINO-1").await;

    // The memo's & < > are escaped in the sign doc; the chain must rebuild it byte for byte.
    let memo = "withdrawal & <ledger>";
    let out = run_wallet_script(
        "withdraw-amino.mjs",
        &[
            ("RPC", &net.rpc_url()),
            ("WITHDRAWAL", &c5),
            ("PRIVKEY", &hex::encode(secret)),
            ("AMOUNT", "700"),
            ("MEMO", memo),
        ],
    );
    assert!(
        out.status.success(),
        "CosmJS (amino signer) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["address"], address.as_str());
    assert_eq!(report["account_before"]["sequence"], 0);
    assert_eq!(report["sign_modes"], json!([SIGN_MODE_LEGACY_AMINO_JSON]));
    let withdrawals = report["withdrawals"].as_array().expect("withdrawals");
    assert_eq!(withdrawals.len(), 1);
    assert_eq!(withdrawals[0]["amount"], "700");
    assert_eq!(withdrawals[0]["owner"], address.as_str());
    assert_eq!(withdrawals[0]["status"], "requested");

    // What the node committed, read back from CometBFT: code 0, and a TxRaw whose single signer
    // signed in SIGN_MODE_LEGACY_AMINO_JSON with the memo as sent.
    let hash = report["tx_hash"].as_str().expect("tx hash");
    let committed = net
        .client
        .tx(
            cosmrs::tendermint::Hash::from_str(hash).expect("hash"),
            false,
        )
        .await
        .expect("tx on chain");
    assert!(
        committed.tx_result.code.is_ok(),
        "{}",
        committed.tx_result.log
    );
    let raw = TxRaw::decode(committed.tx.as_slice()).expect("TxRaw");
    let auth_info = AuthInfo::decode(raw.auth_info_bytes.as_slice()).expect("AuthInfo");
    let mode = match auth_info.signer_infos[0]
        .mode_info
        .as_ref()
        .and_then(|m| m.sum.as_ref())
    {
        Some(mode_info::Sum::Single(single)) => single.mode,
        other => panic!("not a single signer: {other:?}"),
    };
    assert_eq!(mode, SIGN_MODE_LEGACY_AMINO_JSON);
    let tx = usaged_auth::decode_tx(&committed.tx).expect("decodes");
    assert_eq!(tx.memo, memo);
    assert_eq!(tx.signer, address);
}
