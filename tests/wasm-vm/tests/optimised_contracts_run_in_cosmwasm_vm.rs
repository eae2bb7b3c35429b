//! The optimised wasm of every contract (artifacts/, from scripts/build-wasm.sh) passes the VM's
//! static checks with the chain's capabilities, declares `cosmwasm_2_1` (the BLS host functions),
//! and runs the whole flow — committee-verified batch, period proof, deposit, settlement,
//! withdrawal, rotation — inside the real cosmwasm-vm.

use std::collections::BTreeSet;

use cosmwasm_std::Uint128;
use cosmwasm_vm::internals::{check_wasm, Logger};
use cosmwasm_vm::testing::{MockApi, MockQuerier, MockStorage};
use cosmwasm_vm::{Cache, CacheOptions, Size, WasmLimits};
use usage_common::contracts::CONTRACTS;
use usage_wasm_vm_tests::{artifact, capabilities};

#[test]
#[allow(unsafe_code)] // `Cache::new` is unsafe by contract
fn every_artifact_passes_the_vm_checks_and_requires_the_bls_capability() {
    let dir = std::env::temp_dir().join(format!("usagechain-vm-cache-{}", std::process::id()));
    // SAFETY: the cache directory is private to this test process.
    let cache: Cache<MockApi, MockStorage, MockQuerier> = unsafe {
        Cache::new(CacheOptions::new(
            &dir,
            capabilities(),
            Size::mebi(64),
            Size::mebi(32),
        ))
    }
    .expect("cache");
    for name in CONTRACTS.map(|c| c.code) {
        let wasm = artifact(name);
        assert!(
            wasm.len() < 800 * 1024,
            "{name}.wasm is {} bytes",
            wasm.len()
        );
        check_wasm(&wasm, &capabilities(), &WasmLimits::default(), Logger::Off)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let checksum = cache.store_code(&wasm, true, true).expect("store");
        let report = cache.analyze(&checksum).expect("analyze");
        assert!(
            report.required_capabilities.contains("cosmwasm_2_1"),
            "{name} does not declare cosmwasm_2_1 (BLS host functions): {:?}",
            report.required_capabilities
        );
        let entry: BTreeSet<String> = report
            .entrypoints
            .iter()
            .map(|e| format!("{e:?}").to_lowercase())
            .collect();
        for required in ["instantiate", "execute", "query", "migrate"] {
            assert!(
                entry.contains(required),
                "{name} lacks {required}: {entry:?}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_whole_flow_runs_in_the_real_vm_with_committee_signatures() {
    let s = usage_wasm_vm_tests::flow::run(&mut |line| println!("{line}"));
    assert!(s.submit_batch_gas > 0);
    assert_eq!(s.refusals.len(), 3);
    assert!(
        s.refusals[0].contains("threshold is 3"),
        "{}",
        s.refusals[0]
    );
    assert!(s.refusals[1].contains("CAMT054-0001"), "{}", s.refusals[1]);
    assert!(s.refusals[2].contains("epoch"), "{}", s.refusals[2]);
    assert_eq!(s.period_records, 3);
    // 60,003 bytes sent at 5 per 1,000 = 300.015, rounded down to 300.
    assert_eq!(s.settled, Uint128::new(300));
    assert_eq!(s.withdrawn, Uint128::new(40_000));
    assert_eq!(s.tenant_available, Uint128::new(100_000 - 300 - 40_000));
    assert_eq!(s.tenant_locked, Uint128::zero());
    assert_eq!(s.supply_total, s.supply_deposited - s.settled - s.withdrawn);
    assert_eq!(s.committee_epoch, 2);
}
