//! `usaged start --api-addr` on a real localnet (usaged + CometBFT): a third-party REST client,
//! cosmpy, reads and writes through it with its own REST clients (which parse every answer into
//! the real protobuf messages, strictly), and the endpoint answers with the gRPC-gateway's bodies,
//! status codes, pages and CORS headers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmwasm_std::Uint128;
use serde_json::{json, Value};
use tendermint_rpc::Client;
use usage_common::payload::DepositVoucher;
use usage_devtools::localnet;
use usage_devtools::node::Localnet;
use usage_devtools::wallet::sign_execute;
use usage_signer::SigningCommittee;

/// A key no one has used, and its address.
fn fresh_wallet(tag: u8) -> ([u8; 32], String) {
    let mut secret = [tag; 32];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .to_be_bytes();
    secret[..16].copy_from_slice(&nanos);
    let key = SigningKey::from_slice(&secret).unwrap();
    let address = key.public_key().account_id("usage").unwrap().to_string();
    (secret, address)
}

/// Credits `amount` to `beneficiary` on C4 with a committee-signed deposit voucher the admin
/// submits at `admin_seq`; the tx hash.
async fn deposit(
    net: &Localnet,
    admin_seq: u64,
    beneficiary: &str,
    amount: u128,
    bank_ref: &str,
) -> String {
    let c4 = net.contract("ledger");
    let committee = SigningCommittee::deterministic(localnet::COMMITTEE_LABEL, 1, 4, 3);
    let voucher = DepositVoucher {
        bank_ref: bank_ref.into(),
        beneficiary: beneficiary.into(),
        amount: Uint128::new(amount),
        currency: "CNY".into(),
    };
    let tx = sign_execute(
        &net.admin(),
        &net.info.chain_id,
        admin_seq,
        &c4,
        &json!({"deposit": {"signature": committee.sign_quorum(&net.info.chain_id, &c4, &voucher), "voucher": voucher}}),
    );
    net.commit_tx(tx).await
}

/// The Python of the venv scripts/setup.sh installs cosmpy into.
fn venv_python() -> PathBuf {
    let cache = std::env::var_os("USAGECHAIN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/usagechain")
        });
    let python = cache.join("tools/py/bin/python3");
    assert!(
        python.exists(),
        "{} missing: run scripts/setup.sh (it installs cosmpy)",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cosmpy_wallet_reads_the_chain_and_signs_a_withdrawal_through_the_rest_endpoint() {
    let net = Localnet::start("usagechain-rest-1").await;
    let c4 = net.contract("ledger");
    let c5 = net.contract("withdrawal");
    let (secret, address) = fresh_wallet(0x51);
    let deposit_hash = deposit(&net, 0, &address, 5_000, "CAMT054-REST-1").await;

    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/rest/cosmpy_client.py");
    let out = Command::new(venv_python())
        .arg(&script)
        .env("REST", net.rest_url())
        .env("CHAIN_ID", &net.info.chain_id)
        .env("PRIVKEY", hex::encode(secret))
        .env("LEDGER", &c4)
        .env("WITHDRAWAL", &c5)
        .env("DEPOSIT_TX", &deposit_hash)
        .env("AMOUNT", "1200")
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "cosmpy failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        usage_devtools::node::log_tail(net.home.path(), "usaged", 20)
    );
    let s: Value = serde_json::from_slice(&out.stdout).expect("json summary");

    // The account the chain holds for an address it has not seen sign: a fresh BaseAccount.
    assert_eq!(s["address"], address.as_str());
    assert_eq!(
        s["account_before"],
        json!({"type_url": "/cosmos.auth.v1beta1.BaseAccount", "address": address,
               "account_number": 0, "sequence": 0, "has_pub_key": false})
    );
    assert_eq!(s["balances"], json!([{"denom": "ucny", "amount": "0"}]));
    assert_eq!(s["balances_total"], 1);
    assert_eq!(s["balance"], json!({"denom": "ucny", "amount": "0"}));

    // The node as CometBFT reports it.
    let status = net.client.status().await.unwrap();
    assert_eq!(s["node_info"]["network"], net.info.chain_id.as_str());
    assert_eq!(
        s["node_info"]["moniker"],
        status.node_info.moniker.to_string().as_str()
    );
    assert_eq!(s["node_info"]["app_name"], "usaged");
    assert_eq!(s["node_info"]["cosmos_sdk_version"], "v0.50.0");
    assert_eq!(s["syncing"], false);
    let latest = &s["latest_block"];
    assert_eq!(latest["chain_id"], net.info.chain_id.as_str());
    let height = latest["height"].as_u64().unwrap();
    let block = net
        .client
        .block(tendermint::block::Height::try_from(height).unwrap())
        .await
        .unwrap();
    assert_eq!(
        latest["block_id_hash"],
        block.block_id.hash.to_string().as_str()
    );
    assert!(latest["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(latest["last_commit_signatures"], 1);
    let validator = status.validator_info.address;
    let valcons = bech32::encode::<bech32::Bech32>(
        bech32::Hrp::parse("usagevalcons").unwrap(),
        validator.as_bytes(),
    )
    .unwrap();
    assert_eq!(latest["proposer_address"], valcons.as_str());
    let block2 = net
        .client
        .block(tendermint::block::Height::from(2u32))
        .await
        .unwrap();
    assert_eq!(s["block_2"]["height"], 2);
    assert_eq!(
        s["block_2"]["last_block_id_hash"],
        block2
            .block
            .header
            .last_block_id
            .unwrap()
            .hash
            .to_string()
            .as_str()
    );
    assert_eq!(
        s["validators"],
        json!([{"address": valcons, "pub_key_type": "/cosmos.crypto.ed25519.PubKey",
                "voting_power": status.validator_info.power.value()}])
    );
    assert_eq!(s["validators_at_2"], 1);

    // Contracts.
    assert_eq!(s["contract_info"]["address"], c5.as_str());
    assert_eq!(s["contract_info"]["label"], "withdrawal");
    assert!(s["contract_info"]["code_id"].as_u64().unwrap() > 0);
    assert!(
        s["raw_cw2"]["contract"]
            .as_str()
            .unwrap()
            .contains("ledger"),
        "{}",
        s["raw_cw2"]
    );
    assert_eq!(s["ledger_balance_before"], json!({"balance": "5000"}));
    assert_eq!(s["codes_page"]["ids"], json!([1, 2]));
    assert_eq!(
        s["codes_page"]["next_key"],
        B64.encode(3u64.to_be_bytes()).as_str()
    );

    // The committed deposit, by hash.
    let d = &s["deposit_tx"];
    assert_eq!(d["txhash"], deposit_hash.as_str());
    assert_eq!(d["code"], 0);
    assert_eq!(d["contract"], c4.as_str());
    assert_eq!(d["msg_keys"], json!(["deposit"]));
    assert!(d["timestamp"].as_str().unwrap().ends_with('Z'));
    for event in ["execute", "message", "tx"] {
        assert!(
            d["event_types"].as_array().unwrap().contains(&json!(event)),
            "{event}: {d}"
        );
    }

    // The simulation of the signed bytes ran the contract.
    assert!(s["simulate"]["gas_used"].as_u64().unwrap() > 0);
    assert!(s["simulate"]["events"]
        .as_array()
        .unwrap()
        .contains(&json!("wasm-withdrawal_requested")));
    assert_eq!(
        s["simulate"]["msg_responses"],
        json!(["/cosmwasm.wasm.v1.MsgExecuteContractResponse"])
    );

    // The withdrawal cosmpy signed, broadcast and waited for is on chain.
    let e = &s["execute"];
    assert_eq!(e["code"], 0);
    assert!(e["gas_used"].as_u64().unwrap() > 0);
    assert!(e["gas_used"].as_u64() <= e["gas_wanted"].as_u64());
    assert!(e["events"]
        .as_array()
        .unwrap()
        .contains(&json!("wasm-withdrawal_requested")));
    let hash = e["hash"].as_str().unwrap();
    let committed = net
        .client
        .tx(hash.parse().unwrap(), false)
        .await
        .expect("the tx cosmpy broadcast is committed");
    assert_eq!(committed.height.value(), e["height"].as_u64().unwrap());
    assert!(committed.tx_result.code.is_ok());
    let withdrawals = s["withdrawals"].as_array().unwrap();
    assert_eq!(withdrawals.len(), 1);
    assert_eq!(withdrawals[0]["amount"], "1200");
    assert_eq!(withdrawals[0]["owner"], address.as_str());
    assert_eq!(withdrawals[0]["status"], "requested");
    assert_eq!(s["account_after"], json!({"number": 0, "sequence": 1}));
    assert_eq!(s["chain_id"], net.info.chain_id.as_str());

    // Found by its events, in the v0.50 and the older form.
    assert_eq!(s["search"]["query_total"], 1);
    assert_eq!(s["search"]["query_hashes"], json!([hash]));
    assert_eq!(s["search"]["query_senders"], json!([address]));
    assert_eq!(s["search"]["events_hashes"], json!([hash]));
}

/// Status, headers and JSON body of a request to the endpoint.
async fn call(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, headers, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_node_answers_with_the_gateways_bodies_statuses_pages_and_cors_headers() {
    let net = Localnet::start("usagechain-rest-2").await;
    let rest = net.rest_url();
    let get = |path: String| {
        let url = format!("{rest}{path}");
        async move {
            let (status, headers, body) = call(reqwest::Method::GET, url, None).await;
            assert_eq!(headers["access-control-allow-origin"], "*");
            (status, body)
        }
    };
    let (_, fresh) = fresh_wallet(0x52);
    let admin = net.info.admin_address.clone();
    let c4 = net.contract("ledger");
    let deposit_hash = deposit(&net, 0, &fresh, 700, "CAMT054-REST-2").await;

    // Accounts: a fresh one, and the admin's after its first transaction (its key now known).
    assert_eq!(
        get(format!("/cosmos/auth/v1beta1/accounts/{fresh}")).await,
        (
            200,
            json!({"account": {"@type": "/cosmos.auth.v1beta1.BaseAccount", "address": fresh,
            "pub_key": null, "account_number": "0", "sequence": "0"}})
        )
    );
    let (status, body) = get(format!("/cosmos/auth/v1beta1/accounts/{admin}")).await;
    assert_eq!(status, 200);
    let admin_key = net.admin().public_key().to_bytes();
    assert_eq!(
        body["account"]["pub_key"],
        json!({"@type": "/cosmos.crypto.secp256k1.PubKey", "key": B64.encode(admin_key)})
    );
    assert_eq!(body["account"]["sequence"], "1");

    // Balances: the chain has no native token, and says so in the bank's shape.
    assert_eq!(
        get(format!("/cosmos/bank/v1beta1/balances/{fresh}")).await,
        (
            200,
            json!({"balances": [{"denom": "ucny", "amount": "0"}],
                     "pagination": {"next_key": null, "total": "1"}})
        )
    );
    assert_eq!(
        get(format!(
            "/cosmos/bank/v1beta1/balances/{fresh}/by_denom?denom=ucny"
        ))
        .await,
        (200, json!({"balance": {"denom": "ucny", "amount": "0"}}))
    );

    // Errors as the gateway writes them.
    let zero = "0".repeat(64);
    assert_eq!(
        get(format!("/cosmos/tx/v1beta1/txs/{zero}")).await,
        (
            404,
            json!({"code": 5, "message": format!("tx not found: {zero}"), "details": []})
        )
    );
    let (status, body) = get("/cosmos/auth/v1beta1/accounts/usage1notanaddress".into()).await;
    assert_eq!((status, &body["code"]), (400, &json!(3)));
    let (status, _) = get("/cosmwasm/wasm/v1/contract/test/smart/test".into()).await;
    assert_eq!(status, 400, "Keplr's cosmwasm probe");
    assert_eq!(
        get("/cosmos/staking/v1beta1/validators".into()).await,
        (
            501,
            json!({"code": 12, "message": "Not Implemented", "details": []})
        )
    );
    let (status, body) = get(format!("/cosmwasm/wasm/v1/contract/{fresh}")).await;
    assert_eq!((status, &body["code"]), (404, &json!(5)), "{body}");
    let (status, _) = get("/cosmos/base/tendermint/v1beta1/blocks/99999999".into()).await;
    assert_eq!(status, 400);

    // Codes, paged by code id.
    let (status, all) = get("/cosmwasm/wasm/v1/code".into()).await;
    assert_eq!(status, 200);
    let ids: Vec<String> = all["code_infos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() >= 5, "{all}");
    assert_eq!(
        all["pagination"],
        json!({"next_key": null, "total": ids.len().to_string()})
    );
    let first = &all["code_infos"][0];
    assert_eq!(
        first["data_hash"].as_str().unwrap().len(),
        64,
        "hex checksum"
    );
    assert!(first["instantiate_permission"]["permission"].is_string());
    let mut key: Option<String> = None;
    let mut paged = vec![];
    loop {
        let path = match &key {
            None => "/cosmwasm/wasm/v1/code?pagination.limit=2".to_string(),
            Some(k) => format!(
                "/cosmwasm/wasm/v1/code?pagination.limit=2&pagination.key={}",
                percent(k)
            ),
        };
        let (status, page) = get(path).await;
        assert_eq!(status, 200, "{page}");
        let infos = page["code_infos"].as_array().unwrap();
        assert!(infos.len() <= 2);
        paged.extend(
            infos
                .iter()
                .map(|c| c["code_id"].as_str().unwrap().to_string()),
        );
        assert_eq!(
            page["pagination"]["total"], "0",
            "a limit without count_total counts nothing"
        );
        match page["pagination"]["next_key"].as_str() {
            Some(k) => key = Some(k.to_string()),
            None => break,
        }
        assert!(paged.len() < 100, "paging does not end");
    }
    assert_eq!(paged, ids);
    let (_, counted) = get(
        "/cosmwasm/wasm/v1/code?pagination.limit=1&pagination.count_total=true&pagination.offset=1"
            .into(),
    )
    .await;
    assert_eq!(counted["code_infos"][0]["code_id"], ids[1].as_str());
    assert_eq!(
        counted["pagination"]["total"],
        ids.len().to_string().as_str()
    );
    let (_, reversed) =
        get("/cosmwasm/wasm/v1/code?pagination.limit=1&pagination.reverse=true".into()).await;
    assert_eq!(
        reversed["code_infos"][0]["code_id"],
        ids.last().unwrap().as_str()
    );
    let (status, _) = get(format!(
        "/cosmwasm/wasm/v1/code?pagination.offset=1&pagination.key={}",
        percent(&B64.encode(2u64.to_be_bytes()))
    ))
    .await;
    assert_eq!(status, 400);

    // Contract state: raw bytes in base64, a smart answer inlined.
    let (status, raw) = get(format!(
        "/cosmwasm/wasm/v1/contract/{c4}/raw/{}",
        percent(&B64.encode("contract_info"))
    ))
    .await;
    assert_eq!(status, 200);
    let cw2: Value =
        serde_json::from_slice(&B64.decode(raw["data"].as_str().unwrap()).unwrap()).unwrap();
    assert!(cw2["version"].is_string());
    let query = B64.encode(serde_json::to_vec(&json!({"balance": {"address": fresh}})).unwrap());
    assert_eq!(
        get(format!(
            "/cosmwasm/wasm/v1/contract/{c4}/smart/{}",
            percent(&query)
        ))
        .await,
        (200, json!({"data": {"balance": "700"}}))
    );

    // The deposit by hash: the decoded tx with its contract message inline, and its result.
    let (status, t) = get(format!("/cosmos/tx/v1beta1/txs/{deposit_hash}")).await;
    assert_eq!(status, 200, "{t}");
    let m = &t["tx"]["body"]["messages"][0];
    assert_eq!(m["@type"], "/cosmwasm.wasm.v1.MsgExecuteContract");
    assert_eq!(m["sender"], admin.as_str());
    assert_eq!(m["contract"], c4.as_str());
    assert_eq!(
        m["msg"]["deposit"]["voucher"]["beneficiary"],
        fresh.as_str()
    );
    assert_eq!(
        t["tx"]["auth_info"]["signer_infos"][0]["mode_info"],
        json!({"single": {"mode": "SIGN_MODE_DIRECT"}})
    );
    let r = &t["tx_response"];
    assert_eq!(r["txhash"], deposit_hash.as_str());
    assert_eq!(r["code"], 0);
    assert_eq!(r["logs"], json!([]));
    assert_eq!(r["tx"]["@type"], "/cosmos.tx.v1beta1.Tx");
    assert_eq!(r["tx"]["body"], t["tx"]["body"]);
    let height = r["height"].as_str().unwrap();
    let committed = net
        .client
        .tx(deposit_hash.parse().unwrap(), false)
        .await
        .unwrap();
    assert_eq!(height, committed.height.to_string());
    assert_eq!(
        r["gas_used"],
        committed.tx_result.gas_used.to_string().as_str()
    );
    // CometBFT's own answer: the result's data in base64.
    let raw: Value = reqwest::get(format!("{}/tx?hash=0x{deposit_hash}", net.rpc_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = B64
        .decode(raw["result"]["tx_result"]["data"].as_str().unwrap())
        .unwrap();
    assert!(!data.is_empty());
    assert_eq!(r["data"], hex::encode_upper(data).as_str());
    let ts = r["timestamp"].as_str().unwrap();
    assert!(
        ts.len() == 20 && ts.ends_with('Z'),
        "RFC 3339 in whole seconds: {ts}"
    );

    // Search: v0.50's query, the older events, and no query at all.
    let q = percent(&format!("wasm-deposit.beneficiary='{fresh}'"));
    let (status, found) = get(format!("/cosmos/tx/v1beta1/txs?query={q}")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], "1");
    assert_eq!(found["pagination"], Value::Null);
    assert_eq!(found["tx_responses"][0]["txhash"], deposit_hash.as_str());
    assert_eq!(found["txs"][0], t["tx"]);
    let (_, by_events) = get(format!(
        "/cosmos/tx/v1beta1/txs?events={}",
        percent(&format!("message.sender={admin}"))
    ))
    .await;
    assert_eq!(
        by_events["tx_responses"][0]["txhash"],
        deposit_hash.as_str()
    );
    let (status, _) = get("/cosmos/tx/v1beta1/txs?query=".into()).await;
    assert_eq!(status, 400);

    // Broadcasting: CheckTx's refusal is a response with its code; BLOCK mode is refused.
    let (status, _, refused) = call(
        reqwest::Method::POST,
        format!("{rest}/cosmos/tx/v1beta1/txs"),
        Some(json!({"tx_bytes": "AAAA", "mode": "BROADCAST_MODE_SYNC"})),
    )
    .await;
    assert_eq!(status, 200, "{refused}");
    assert_ne!(refused["tx_response"]["code"], 0);
    assert_eq!(refused["tx_response"]["codespace"], "sdk");
    assert_eq!(refused["tx_response"]["height"], "0");
    let (status, _, _) = call(
        reqwest::Method::POST,
        format!("{rest}/cosmos/tx/v1beta1/txs"),
        Some(json!({"tx_bytes": "AAAA", "mode": "BROADCAST_MODE_BLOCK"})),
    )
    .await;
    assert_eq!(status, 400);

    // Blocks and validator sets.
    let (status, b) = get("/cosmos/base/tendermint/v1beta1/blocks/1".into()).await;
    assert_eq!(status, 200);
    assert_eq!(b["block"]["header"]["height"], "1");
    assert_eq!(b["block"]["header"]["chain_id"], net.info.chain_id.as_str());
    assert!(b["sdk_block"]["header"]["proposer_address"]
        .as_str()
        .unwrap()
        .starts_with("usagevalcons1"));
    assert_eq!(b["block"]["header"]["last_block_id"]["hash"], Value::Null);
    let (status, v) = get("/cosmos/base/tendermint/v1beta1/validatorsets/latest".into()).await;
    assert_eq!(status, 200);
    assert_eq!(v["pagination"], json!({"next_key": null, "total": "1"}));
    assert_eq!(
        v["validators"][0]["pub_key"]["@type"],
        "/cosmos.crypto.ed25519.PubKey"
    );

    // A preflight from a browser.
    let (status, headers, _) = {
        let res = reqwest::Client::new()
            .request(
                reqwest::Method::OPTIONS,
                format!("{rest}/cosmos/tx/v1beta1/txs"),
            )
            .header("origin", "https://explorer.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.headers().clone(), ())
    };
    assert_eq!(status, 204);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));

    // A hostile body is refused and the endpoint goes on serving.
    let huge = "x".repeat(8 << 20);
    let res = reqwest::Client::new()
        .post(format!("{rest}/cosmos/tx/v1beta1/simulate"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status().as_u16(), 413);
    }
    let (status, _) = get("/cosmos/base/tendermint/v1beta1/syncing".into()).await;
    assert_eq!(status, 200);
}

/// `s` percent-encoded for a URL path or query.
fn percent(s: &str) -> String {
    usage_devtools::node::percent_encode(s)
}
