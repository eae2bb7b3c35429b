//! The localnet these tests drive (real CometBFT + `usaged` on free loopback ports) and the
//! signing of their transactions come from usage-devtools; what is left here is theirs alone.
#![allow(dead_code, unused_imports)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::{Command, Output};

use cosmrs::crypto::secp256k1::SigningKey;
use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use usage_common::payload::DepositVoucher;
use usage_devtools::localnet;
use usage_signer::SigningCommittee;

pub use usage_devtools::node::{http_get, percent_encode, Localnet};
pub use usage_devtools::wallet::{sign_execute, sign_executes};

/// A key no one has used (its address has never been seen by the chain), credited 5,000 by the
/// bank: a committee-signed deposit voucher submitted by the admin. Returns the secret and the
/// address.
pub async fn a_fresh_funded_wallet(net: &Localnet, bank_ref: &str) -> ([u8; 32], String) {
    let c4 = net.contract("ledger");
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

    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    let voucher = DepositVoucher {
        bank_ref: bank_ref.into(),
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
    (secret, address)
}

/// Runs `tests/wallet/<script>` with node against the localnet.
pub fn run_wallet_script(script: &str, envs: &[(&str, &str)]) -> Output {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/wallet")
        .join(script);
    Command::new("node")
        .arg(&script)
        .envs(envs.iter().copied())
        .output()
        .expect("node (npm install in tests/wallet: scripts/setup.sh)")
}

/// The messages that register terminal `id` (software TEE, its own key) for `provider` and
/// lease it to `tenant` from the start of time.
pub fn register_and_lease(id: &str, provider: &str, key: [u8; 32]) -> Vec<Value> {
    vec![
        serde_json::json!({"register_terminal": {"terminal_id": id, "provider": provider,
            "attestor_key": cosmwasm_std::HexBinary::from(key), "tee": "software",
            "measurement": cosmwasm_std::HexBinary::from(usage_devtools::localnet::SOFTWARE_MEASUREMENT)}}),
        serde_json::json!({"open_lease": {"terminal_id": id, "provider": provider, "start": 0}}),
    ]
}
