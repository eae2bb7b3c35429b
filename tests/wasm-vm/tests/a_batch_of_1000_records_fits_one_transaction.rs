//! A batch of 1,000 records (1,000 terminals, one window) in the optimised C1 wasm in the real VM:
//! one transaction's message size and gas budget hold it. Prints the gas and time it took.

use std::time::Instant;

use cosmwasm_std::{Binary, HexBinary};
use usage_common::merkle;
use usage_common::msg::usage_proof;
use usage_common::payload::UsageBatchDigest;
use usage_common::record::{encode_batch, Metrics, UsageRecord};
use usage_signer::SigningCommittee;
use usage_wasm_vm_tests::{addr, artifact, VmNet};

const CHAIN: &str = "usagechain-vm-1";
const T0: u64 = 1_700_000_000;
/// CometBFT's default `max_tx_bytes`.
const MAX_TX_BYTES: usize = 1_048_576;
/// The per-transaction gas budget the chain gives a batch, in SDK gas (`usaged`'s default
/// `max_tx_gas`), and CosmWasm gas per SDK gas (`usaged_vm::gas::GAS_MULTIPLIER`).
const MAX_TX_GAS_SDK: u64 = 90_000_000;
const GAS_MULTIPLIER: u64 = 12_000;

#[test]
fn a_batch_of_1000_records_fits_one_transaction() {
    let mut net = VmNet::new(CHAIN, T0);
    let c1 = addr("c1");
    let admin = addr("admin");
    let provider = addr("provider");
    let committee = SigningCommittee::deterministic("bench", 1, 4, 3);
    net.add(&c1, &artifact("usage_proof"));
    net.instantiate(
        &c1,
        &admin,
        &usage_proof::InstantiateMsg {
            admin: None,
            threshold: 3,
            members: committee.member_keys(),
            window_seconds: 10,
            period_seconds: 60,
            grace_seconds: 30,
            accept_software_tee: false,
            allowed_measurements: vec![HexBinary::from([1u8; 32])],
            period_proof: None,
        },
    )
    .expect("instantiate");
    let n = 1_000;
    let tenants: Vec<String> = (0..10)
        .map(|t| addr(&format!("tenant-{t}")).to_string())
        .collect();
    for i in 0..n {
        net.execute(
            &c1,
            &admin,
            &usage_proof::ExecuteMsg::RegisterTerminal {
                terminal_id: format!("edge-{i:05}"),
                provider: provider.to_string(),
                attestor_key: HexBinary::from(merkle::sha256(&(i as u64).to_be_bytes())),
                tee: usage_proof::TeeKind::Sgx,
                measurement: HexBinary::from([1u8; 32]),
                shared_attestor: false,
            },
        )
        .expect("register");
        net.execute(
            &c1,
            &addr(&format!("tenant-{}", i % tenants.len())),
            &usage_proof::ExecuteMsg::OpenLease {
                terminal_id: format!("edge-{i:05}"),
                provider: provider.to_string(),
                start: 0,
                end: None,
                price_cap: None,
            },
        )
        .expect("lease");
    }
    net.advance(10);
    let records: Vec<UsageRecord> = (0..n)
        .map(|i| UsageRecord {
            terminal_id: format!("edge-{i:05}"),
            window_start: T0,
            tenant: tenants[i % tenants.len()].clone(),
            metrics: Metrics {
                net_rx_bytes: 1_000_000 + i as u64,
                net_tx_bytes: 2_000_000 + i as u64,
                cpu_time_us: 9_000_000,
                memory_mib_s: 20_480,
                link_rtt_us: 800,
                app_up_s: 10,
                ..Default::default()
            },
        })
        .collect();
    let digest = UsageBatchDigest::of(&records).expect("a batch");
    let msg = usage_proof::ExecuteMsg::SubmitBatch {
        records: Binary::from(encode_batch(&records)),
        signature: committee.sign_quorum(CHAIN, c1.as_str(), &digest),
    };
    let json_len = serde_json::to_vec(&msg).expect("json").len();
    let started = Instant::now();
    net.execute(&c1, &admin, &msg).expect("batch of 1000");
    let elapsed = started.elapsed();
    let sdk_gas = net.last_gas_used / GAS_MULTIPLIER;
    println!(
        "SubmitBatch, {n} records: message {json_len} bytes, {} CosmWasm gas = {sdk_gas} SDK gas, {:.1} ms in the VM ({:.0} records/s)",
        net.last_gas_used,
        elapsed.as_secs_f64() * 1e3,
        n as f64 / elapsed.as_secs_f64()
    );
    assert!(json_len < MAX_TX_BYTES, "message is {json_len} bytes");
    assert!(sdk_gas < MAX_TX_GAS_SDK, "batch used {sdk_gas} SDK gas");
    let proof: usage_proof::ProofResponse = net
        .query(
            &c1,
            &usage_proof::QueryMsg::Proof {
                terminal_id: "edge-00999".into(),
                window_start: T0,
            },
        )
        .expect("query");
    assert_eq!(proof.proof.expect("proof").metrics.net_tx_bytes, 2_000_999);
}
