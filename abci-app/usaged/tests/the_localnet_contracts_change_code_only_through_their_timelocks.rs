//! The localnet genesis makes each of the five contracts its own chain-level admin: no key,
//! not even the localnet admin's, migrates one directly; a contract moves to other code only by
//! its own queued, delayed `Migrate` change (ADR 003).

#[path = "common/node.rs"]
mod node;

use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmwasm_std::Timestamp;
use prost::Message;
use serde_json::json;
use usage_common::governance::DEFAULT_TIMELOCK_SECONDS;
use usage_devtools::localnet::{self, Ports, ADMIN_SEED};

use node::*;

#[test]
fn no_key_migrates_a_localnet_contract_only_its_own_timelock_does() {
    let home = tempfile::tempdir().expect("home");
    let artifacts = usage_common::contracts::artifacts_dir();
    let info = localnet::init(
        &home.path().join("net"),
        CHAIN,
        &artifacts,
        Ports::default(),
    )
    .expect("localnet init");
    let genesis: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("net/cometbft/config/genesis.json"))
            .expect("genesis file"),
    )
    .expect("genesis json");
    let app_state = serde_json::to_vec(&genesis["app_state"]).expect("app state");
    let mut node = Node::init(&home.path().join("app"), &app_state);
    node.block(&[]);

    let branch = node.machine.query_branch();
    for (label, address) in &info.contracts {
        let contract = node
            .machine
            .vm()
            .contract_info(&branch, address)
            .expect("contract info");
        assert_eq!(
            contract.admin.as_ref().map(|a| a.as_str()),
            Some(address.as_str()),
            "{label} is its own admin"
        );
    }

    let c1 = info.contracts[0].1.clone();
    let mut admin = Wallet::new(ADMIN_SEED[0]);
    assert_eq!(admin.addr(), info.admin_address);
    let migrate = any(
        "/cosmwasm.wasm.v1.MsgMigrateContract",
        wasmv1::MsgMigrateContract {
            sender: admin.addr(),
            contract: c1.clone(),
            code_id: 1,
            msg: b"{}".to_vec(),
        }
        .encode_to_vec(),
    );
    let direct = node.run(admin.sign(vec![migrate], 5_000_000));
    assert_ne!(
        direct.code, 0,
        "the admin key cannot migrate: {}",
        direct.log
    );

    // The contract's own queued change, applied once the timelock has passed.
    let queue = admin.execute(
        &c1,
        &json!({"governance": {"queue_change": {"change": {"migrate": {"code_id": 1}}}}}),
        5_000_000,
    );
    let queued = node.run(queue);
    assert_eq!(queued.code, 0, "{}", queued.log);
    let apply = admin.execute(
        &c1,
        &json!({"governance": {"apply_change": {"id": 1}}}),
        20_000_000,
    );
    let height = node.height + 1;
    let later = Timestamp::from_seconds(T0 + height * 5 + DEFAULT_TIMELOCK_SECONDS);
    let (outcomes, _) = node
        .machine
        .finalize_block(height, later, &[apply])
        .expect("finalize");
    node.machine.commit().expect("commit");
    assert_eq!(outcomes[0].code, 0, "{}", outcomes[0].log);
    assert!(
        outcomes[0].events.iter().any(|e| e.ty == "migrate"),
        "the contract migrated itself: {:?}",
        outcomes[0].events.iter().map(|e| &e.ty).collect::<Vec<_>>()
    );
}
