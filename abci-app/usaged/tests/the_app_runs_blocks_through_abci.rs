//! The application driven through its ABCI interface (the `tendermint-abci` `Application` trait,
//! exactly what CometBFT's connections call): genesis with the five optimised contracts, blocks
//! of cosmrs-signed transactions good and bad, queries at CosmJS's paths, determinism across two
//! instances, and a restart that resumes at the committed height.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use cosmos_sdk_proto::cosmwasm::wasm::v1 as wasmv1;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::AccountId;
use cosmwasm_std::{Binary, HexBinary};
use prost::Message;
use serde_json::json;
use tendermint_abci::Application;
use tendermint_proto::google::protobuf::Timestamp;
use tendermint_proto::v0_38::abci::*;
use usage_client::tx;
use usage_common::merkle;
use usage_common::msg::usage_proof;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{encode_batch, Metrics, UsageRecord};
use usage_signer::SigningCommittee;
use usaged::abci::App;

const CHAIN: &str = "usagechain-app-test";
const T0: i64 = 1_700_000_040;
const GAS: u64 = 50_000_000;

fn artifact(name: &str) -> Vec<u8> {
    usage_common::contracts::artifact(name).unwrap_or_else(|e| panic!("{e}"))
}

struct Wallet {
    key: SigningKey,
    address: AccountId,
    sequence: u64,
}

impl Wallet {
    fn new(seed: u8) -> Self {
        let key = SigningKey::from_slice(&[seed; 32]).expect("key");
        let address = key.public_key().account_id("usage").expect("address");
        Wallet {
            key,
            address,
            sequence: 0,
        }
    }

    /// A signed tx executing `msg` on `contract`; the wallet's sequence advances.
    fn execute(&mut self, contract: &str, msg: &serde_json::Value, opts: TxOpts) -> Vec<u8> {
        let msg = serde_json::to_vec(msg).expect("json");
        let any = tx::execute_msg(&self.address, contract, msg).expect("any");
        let signer = tx::Signer {
            key: &self.key,
            chain_id: opts.chain_id.unwrap_or(CHAIN),
            account_number: 0,
            sequence: opts.sequence.unwrap_or(self.sequence),
        };
        let fee = tx::fee(opts.gas.unwrap_or(GAS), vec![]);
        let mut raw = tx::sign(signer, vec![any], fee, opts.timeout_height).expect("sign");
        if opts.corrupt_signature {
            let n = raw.len();
            raw[n - 1] ^= 0x01;
        }
        if opts.sequence.is_none() {
            self.sequence += 1;
        }
        raw
    }
}

#[derive(Default, Clone, Copy)]
struct TxOpts {
    sequence: Option<u64>,
    gas: Option<u64>,
    chain_id: Option<&'static str>,
    timeout_height: u32,
    corrupt_signature: bool,
}

fn genesis(admin: &str, committee: &SigningCommittee) -> Vec<u8> {
    let code = |name: &str| json!({"name": name, "wasm": Binary::from(artifact(name)).to_base64()});
    let known = Wallet::new(7);
    let g = json!({
        "params": {"max_tx_gas": 200_000_000u64, "max_block_gas": 2_000_000_000u64},
        "accounts": [{"address": known.address.to_string(),
                      "pub_key": hex(&known.key.public_key().to_bytes())}],
        "codes": [code("usage_proof"), code("period_proof"), code("settlement"), code("ledger"), code("withdrawal")],
        "contracts": [
            {"code": "usage_proof", "label": "usage-proof", "creator": admin, "admin": admin,
             "msg": usage_proof::InstantiateMsg {
                admin: Some(admin.to_string()), threshold: 3, members: committee.member_keys(),
                window_seconds: 10, period_seconds: 60, grace_seconds: 30,
                accept_software_tee: false, allowed_measurements: vec![HexBinary::from([9u8; 32])],
                period_proof: Some("@period-proof".into()),
             }},
            {"code": "period_proof", "label": "period-proof", "creator": admin, "admin": admin,
             "msg": {"admin": admin, "usage_proof": "@usage-proof", "grace_seconds": 30, "dispute_window_seconds": 60,
                      "resolution_window_seconds": 120, "dispute_bond": "0"}},
            {"code": "ledger", "label": "ledger", "creator": admin, "admin": admin,
             "msg": {"admin": admin, "usage_proof": "@usage-proof", "currency": "CNY", "decimals": 2}},
        ],
    });
    serde_json::to_vec(&g).expect("genesis json")
}

fn ts(seconds: i64) -> Option<Timestamp> {
    Some(Timestamp { seconds, nanos: 0 })
}

fn init(app: &App, genesis: &[u8]) -> Vec<u8> {
    app.init_chain(RequestInitChain {
        time: ts(T0),
        chain_id: CHAIN.into(),
        consensus_params: None,
        validators: vec![],
        app_state_bytes: genesis.to_vec().into(),
        initial_height: 1,
    })
    .app_hash
    .to_vec()
}

fn block(app: &App, height: i64, txs: &[Vec<u8>]) -> (Vec<ExecTxResult>, Vec<u8>) {
    let res = app.finalize_block(RequestFinalizeBlock {
        txs: txs.iter().map(|t| t.clone().into()).collect(),
        decided_last_commit: None,
        misbehavior: vec![],
        hash: Default::default(),
        height,
        time: ts(T0 + height * 10),
        next_validators_hash: Default::default(),
        proposer_address: Default::default(),
    });
    app.commit();
    (res.tx_results, res.app_hash.to_vec())
}

fn query(app: &App, path: &str, data: Vec<u8>) -> ResponseQuery {
    app.query(RequestQuery {
        data: data.into(),
        path: path.into(),
        height: 0,
        prove: false,
    })
}

fn smart<T: serde::de::DeserializeOwned>(app: &App, contract: &str, msg: serde_json::Value) -> T {
    let res = query(
        app,
        "/cosmwasm.wasm.v1.Query/SmartContractState",
        wasmv1::QuerySmartContractStateRequest {
            address: contract.into(),
            query_data: serde_json::to_vec(&msg).expect("json"),
        }
        .encode_to_vec(),
    );
    assert_eq!(res.code, 0, "query failed: {}", res.log);
    assert!(res.height > 0, "CosmJS needs the committed height");
    let data = wasmv1::QuerySmartContractStateResponse::decode(res.value.as_ref())
        .expect("response")
        .data;
    serde_json::from_slice(&data).expect("answer")
}

/// The address of the n-th genesis contract (codes 1.., instances 1..).
fn contract_address(code_id: u64, instance_id: u64) -> String {
    usaged_auth::humanize(&usaged_vm::keys::classic_contract_address(
        code_id,
        instance_id,
    ))
    .expect("address")
}

fn run_chain(
    home: &Path,
    committee: &SigningCommittee,
) -> (App, Vec<Vec<u8>>, Vec<Vec<ExecTxResult>>) {
    let app = App::start(home.to_path_buf()).expect("start");
    let mut admin = Wallet::new(1);
    let c1 = contract_address(1, 1);
    let mut hashes = vec![init(&app, &genesis(admin.address.as_ref(), committee))];
    let mut results = vec![];

    // Block 1: register a terminal, plus a batch of bad transactions.
    let register = admin.execute(
        &c1,
        &json!({"register_terminal": {"terminal_id": "edge-1", "provider": admin.address.to_string(),
            "attestor_key": hex(&[4u8; 32]), "tee": "sgx", "measurement": hex(&[9u8; 32])}}),
        TxOpts::default(),
    );
    let mut stranger = Wallet::new(2);
    let bad_sig = stranger.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            corrupt_signature: true,
            sequence: Some(0),
            ..Default::default()
        },
    );
    let wrong_chain = stranger.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            chain_id: Some("other-chain"),
            sequence: Some(0),
            ..Default::default()
        },
    );
    let future_seq = stranger.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            sequence: Some(5),
            ..Default::default()
        },
    );
    let expired = stranger.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            timeout_height: 0,
            sequence: Some(0),
            gas: Some(10),
            ..Default::default()
        },
    );
    // A contract refusal: the stranger is not C1's admin. Its sequence still advances.
    let refused = stranger.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts::default(),
    );
    // The admin leases its own terminal as tenant.
    let lease = admin.execute(
        &c1,
        &json!({"open_lease": {"terminal_id": "edge-1", "provider": admin.address.to_string(),
            "start": 0}}),
        TxOpts::default(),
    );
    let (r, h) = block(
        &app,
        1,
        &[
            register,
            bad_sig,
            wrong_chain,
            future_seq,
            expired,
            refused,
            lease,
        ],
    );
    hashes.push(h);
    results.push(r);

    // Block 2: a committee-signed batch; a stale sequence; an expired timeout; out of gas.
    let records = vec![UsageRecord {
        terminal_id: "edge-1".into(),
        window_start: (T0 + 10) as u64,
        tenant: admin.address.to_string(),
        metrics: Metrics {
            net_tx_bytes: 1_000,
            ..Default::default()
        },
    }];
    let digest = UsageBatchDigest {
        root: HexBinary::from(
            merkle::root(&[merkle::leaf_hash(&records[0].to_bytes())]).expect("root"),
        ),
        records: 1,
    };
    let batch = admin.execute(
        &c1,
        &json!({"submit_batch": {"records": Binary::from(encode_batch(&records)),
            "signature": committee.sign_quorum(CHAIN, &c1, &digest)}}),
        TxOpts::default(),
    );
    let stale = admin.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            sequence: Some(0),
            ..Default::default()
        },
    );
    let timed_out = stranger.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            timeout_height: 1,
            sequence: Some(1),
            ..Default::default()
        },
    );
    let out_of_gas = admin.execute(
        &c1,
        &json!({"deactivate_terminal": {"terminal_id": "edge-1"}}),
        TxOpts {
            gas: Some(20_000),
            ..Default::default()
        },
    );
    let (r, h) = block(&app, 2, &[batch, stale, timed_out, out_of_gas]);
    hashes.push(h);
    results.push(r);
    (app, hashes, results)
}

fn hex(b: &[u8]) -> String {
    HexBinary::from(b).to_hex()
}

#[test]
fn blocks_of_good_and_bad_transactions_give_typed_codes_and_identical_hashes_on_two_instances() {
    let committee = SigningCommittee::deterministic("app-test", 1, 4, 3);
    let dir_a = tempfile::tempdir().expect("dir");
    let dir_b = tempfile::tempdir().expect("dir");
    let (app, hashes_a, results) = run_chain(dir_a.path(), &committee);

    let codes: Vec<Vec<(String, u32)>> = results
        .iter()
        .map(|b| b.iter().map(|r| (r.codespace.clone(), r.code)).collect())
        .collect();
    assert_eq!(
        codes[0],
        vec![
            ("".into(), 0),     // register
            ("sdk".into(), 4),  // bad signature: unauthorized
            ("sdk".into(), 4),  // signed for another chain id: the signature does not verify
            ("sdk".into(), 32), // future sequence
            ("sdk".into(), 11), // gas limit below the ante cost
            ("wasm".into(), 5), // the contract refused
            ("".into(), 0),     // the lease
        ],
        "{:#?}",
        results[0].iter().map(|r| &r.log).collect::<Vec<_>>()
    );
    assert_eq!(
        codes[1],
        vec![
            ("".into(), 0),
            ("sdk".into(), 32),
            ("sdk".into(), 30),
            ("sdk".into(), 11)
        ],
        "{:#?}",
        results[1].iter().map(|r| &r.log).collect::<Vec<_>>()
    );
    assert!(
        results[0][3].log.contains("account sequence mismatch"),
        "{}",
        results[0][3].log
    );
    assert_eq!(results[0][0].log, "", "a successful tx has an empty log");
    // Success carries TxMsgData with one MsgExecuteContractResponse.
    let data = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(
        results[1][0].data.as_ref(),
    )
    .expect("TxMsgData");
    assert_eq!(data.msg_responses.len(), 1);
    assert_eq!(
        data.msg_responses[0].type_url,
        "/cosmwasm.wasm.v1.MsgExecuteContractResponse"
    );
    // wasmd's event layout, indexed, with msg_index.
    let types: Vec<&str> = results[1][0]
        .events
        .iter()
        .map(|e| e.r#type.as_str())
        .collect();
    assert_eq!(
        types,
        vec![
            "tx",
            "tx",
            "tx",
            "message",
            "execute",
            "wasm-usage_batch",
            "wasm-usage_accumulated",
            "wasm-usage_proof"
        ]
    );
    let proof = &results[1][0].events[7];
    assert!(proof.attributes.iter().all(|a| a.index));
    assert_eq!(proof.attributes[0].key, "_contract_address");
    assert!(proof
        .attributes
        .iter()
        .any(|a| a.key == "terminal_id" && a.value == "edge-1"));
    assert!(proof
        .attributes
        .iter()
        .any(|a| a.key == "msg_index" && a.value == "0"));
    assert!(results[1][0].gas_used > 0 && results[1][0].gas_used <= results[1][0].gas_wanted);

    // The stranger's refused tx still advanced its sequence (1 tx accepted in block 1).
    let acct = query(
        &app,
        "/cosmos.auth.v1beta1.Query/Account",
        cosmos_sdk_proto::cosmos::auth::v1beta1::QueryAccountRequest {
            address: Wallet::new(2).address.to_string(),
        }
        .encode_to_vec(),
    );
    assert_eq!(acct.code, 0, "{}", acct.log);
    let any =
        cosmos_sdk_proto::cosmos::auth::v1beta1::QueryAccountResponse::decode(acct.value.as_ref())
            .expect("account")
            .account
            .expect("any");
    let base = cosmos_sdk_proto::cosmos::auth::v1beta1::BaseAccount::decode(any.value.as_slice())
        .expect("base");
    assert_eq!(base.sequence, 1);
    assert!(base.pub_key.is_some());

    // A raw state value with its Merkle proof against the committed app hash.
    let mut account_key = vec![0x10u8];
    account_key
        .extend(usaged_auth::validate_address(Wallet::new(2).address.as_ref()).expect("address"));
    let proven = app.query(RequestQuery {
        data: account_key.clone().into(),
        path: usaged::queries::STATE_KEY_PATH.into(),
        height: 0,
        prove: true,
    });
    assert_eq!(proven.code, 0, "{}", proven.log);
    let op = &proven.proof_ops.expect("proof ops").ops[0];
    assert_eq!(op.r#type, usaged::queries::PROOF_OP_TYPE);
    let proof: usaged_store::jmt::proof::SparseMerkleProof<sha2::Sha256> =
        borsh::from_slice(&op.data).expect("proof");
    let root = usaged_store::jmt::RootHash(hashes_a[2].as_slice().try_into().expect("32 bytes"));
    let value = proven.value.to_vec();
    assert!(!value.is_empty());
    proof
        .verify(
            root,
            usaged_store::key_hash(&account_key),
            Some(value.as_slice()),
        )
        .expect("the proof verifies against the app hash");
    assert!(proof
        .verify(
            root,
            usaged_store::key_hash(&account_key),
            Some(b"forged".as_slice())
        )
        .is_err());

    // A genesis account is known with its key before it ever signed.
    let known = query(
        &app,
        "/cosmos.auth.v1beta1.Query/Account",
        cosmos_sdk_proto::cosmos::auth::v1beta1::QueryAccountRequest {
            address: Wallet::new(7).address.to_string(),
        }
        .encode_to_vec(),
    );
    let any =
        cosmos_sdk_proto::cosmos::auth::v1beta1::QueryAccountResponse::decode(known.value.as_ref())
            .expect("account")
            .account
            .expect("any");
    let base = cosmos_sdk_proto::cosmos::auth::v1beta1::BaseAccount::decode(any.value.as_slice())
        .expect("base");
    assert!(base.pub_key.is_some());
    assert_eq!(base.sequence, 0);

    // The first proof is queryable.
    let c1 = contract_address(1, 1);
    let proof: usage_proof::ProofResponse = smart(
        &app,
        &c1,
        json!({"proof": {"terminal_id": "edge-1", "window_start": T0 + 10}}),
    );
    assert_eq!(
        proof.proof.expect("first proof").metrics.net_tx_bytes,
        1_000
    );

    // The refused and out-of-gas DeactivateTerminal txs changed nothing: the terminal is active.
    let terminal: usage_proof::TerminalResponse =
        smart(&app, &c1, json!({"terminal": {"terminal_id": "edge-1"}}));
    assert!(terminal.terminal.active);

    // The same blocks on a second instance give the same app hash at every height.
    let (_app_b, hashes_b, _) = run_chain(dir_b.path(), &committee);
    assert_eq!(hashes_a, hashes_b);
    assert!(hashes_a.windows(2).all(|w| w[0] != w[1]));
    drop(_app_b);

    // Restart: Info reports the committed height and hash; queries answer the same.
    drop(app);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let app = App::start(dir_a.path().to_path_buf()).expect("restart");
    let info = app.info(RequestInfo::default());
    assert_eq!(info.last_block_height, 2);
    assert_eq!(info.last_block_app_hash.to_vec(), hashes_a[2]);
    let proof: usage_proof::ProofResponse = smart(
        &app,
        &c1,
        json!({"proof": {"terminal_id": "edge-1", "window_start": T0 + 10}}),
    );
    assert!(proof.proof.is_some());
}

#[test]
fn check_tx_tracks_pending_sequences_so_one_account_can_queue_several_txs() {
    let committee = SigningCommittee::deterministic("app-test", 1, 4, 3);
    let dir = tempfile::tempdir().expect("dir");
    let app = App::start(dir.path().to_path_buf()).expect("start");
    let mut w = Wallet::new(1);
    init(&app, &genesis(w.address.as_ref(), &committee));
    block(&app, 1, &[]);
    let c1 = contract_address(1, 1);
    let msg = json!({"deactivate_terminal": {"terminal_id": "none"}});
    let check = |raw: Vec<u8>| {
        let r = app.check_tx(RequestCheckTx {
            tx: raw.into(),
            r#type: CheckTxType::New as i32,
        });
        (r.codespace, r.code, r.log)
    };
    let first = w.execute(&c1, &msg, TxOpts::default());
    let second = w.execute(&c1, &msg, TxOpts::default());
    assert_eq!(check(first.clone()).1, 0);
    assert_eq!(check(second).1, 0, "sequence 1 queues behind sequence 0");
    let (space, code, log) = check(first);
    assert_eq!(
        (space.as_str(), code),
        ("sdk", 32),
        "a replay of sequence 0 is refused: {log}"
    );
    assert!(log.contains("expected 2, got 0"), "{log}");
    let gap = w.execute(
        &c1,
        &msg,
        TxOpts {
            sequence: Some(5),
            ..Default::default()
        },
    );
    assert_eq!(check(gap).1, 32);
}

#[test]
fn old_tree_versions_are_pruned_and_the_chain_goes_on() {
    let committee = SigningCommittee::deterministic("app-test", 1, 4, 3);
    let dir = tempfile::tempdir().expect("dir");
    let app = App::start(dir.path().to_path_buf()).expect("start");
    let w = Wallet::new(1);
    init(&app, &genesis(w.address.as_ref(), &committee));
    let blocks = usaged::machine::KEEP_RECENT_VERSIONS as i64 + 5;
    let mut last = vec![];
    for h in 1..=blocks {
        last = block(&app, h, &[]).1;
    }
    let info = app.info(RequestInfo::default());
    assert_eq!(info.last_block_height, blocks);
    assert_eq!(info.last_block_app_hash.to_vec(), last);
    let c1 = contract_address(1, 1);
    let committee_now: usage_proof::CommitteeResponse = smart(&app, &c1, json!({"committee": {}}));
    assert_eq!(committee_now.committee.epoch, 1);
}
