//! A store that fails while a contract runs (a redb read error, a bad page) is this node's
//! problem: the call must come back as a node fault that halts the node, never as an ordinary
//! failed transaction that other nodes would record differently.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;

use cosmwasm_std::{Addr, Binary, BlockInfo, Timestamp};
use serde_json::json;
use usaged_store::{KvIter, KvRead, Order, Overlay, StoreError};
use usaged_vm::storage::Branch;
use usaged_vm::{gas, AccessConfig, BlockCtx, Upload, WasmVm};

fn artifact(name: &str) -> Vec<u8> {
    usage_common::contracts::artifact(name).unwrap_or_else(|e| panic!("{e}"))
}

/// A state whose contract storage (`0x03…`) cannot be read.
struct FailingContractStore(BTreeMap<Vec<u8>, Vec<u8>>);

fn fault() -> StoreError {
    StoreError::Corrupt("simulated disk read error".into())
}

impl KvRead for FailingContractStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if key.first() == Some(&usaged_vm::keys::CONTRACT_STORE_PREFIX) {
            return Err(fault());
        }
        KvRead::get(&self.0, key)
    }

    fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
    ) -> Result<KvIter, StoreError> {
        let touches_store = match start {
            Bound::Included(k) | Bound::Excluded(k) => {
                k.first() == Some(&usaged_vm::keys::CONTRACT_STORE_PREFIX)
            }
            Bound::Unbounded => true,
        };
        if touches_store {
            return Err(fault());
        }
        KvRead::range(&self.0, start, end, order)
    }
}

fn ctx() -> BlockCtx {
    BlockCtx {
        block: BlockInfo {
            height: 2,
            time: Timestamp::from_seconds(1_700_000_000),
            chain_id: "usagechain-fault-test".into(),
        },
        tx_index: 0,
        tx_hash: Binary::from([0u8; 32]),
    }
}

#[test]
fn a_store_read_error_inside_a_contract_call_is_a_node_fault_not_a_failed_tx() {
    let dir = tempfile::tempdir().expect("dir");
    let vm = WasmVm::new(&dir.path().join("wasm-cache")).expect("vm");
    let admin = Addr::unchecked(usaged_auth::humanize(&[1u8; 20]).expect("address"));
    // A healthy state holding the probe contract.
    let setup: Branch = Rc::new(RefCell::new(Overlay::new(Arc::new(BTreeMap::<
        Vec<u8>,
        Vec<u8>,
    >::new()))));
    let (code, _, _) = vm
        .store_code(
            &mut setup.borrow_mut(),
            &admin,
            &artifact("usage_probe"),
            AccessConfig::Everybody,
            Upload::Store,
            u64::MAX,
        )
        .expect("store");
    let (probe, _) = vm
        .instantiate(
            &setup,
            &ctx(),
            &admin,
            code,
            b"{}",
            "probe",
            None,
            gas::to_vm(50_000_000),
        )
        .expect("instantiate");
    let state: BTreeMap<Vec<u8>, Vec<u8>> = setup
        .borrow()
        .changes()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();

    // The same state behind a store whose contract storage fails.
    let broken: Branch = Rc::new(RefCell::new(Overlay::new(Arc::new(FailingContractStore(
        state,
    )))));
    let scan = serde_json::to_vec(&json!({"scan_write": {"count": 1}})).expect("json");
    let err = vm
        .execute(
            &broken,
            &ctx(),
            &admin,
            &probe,
            &scan,
            gas::to_vm(50_000_000),
        )
        .expect_err("the scan cannot succeed");
    assert!(
        err.is_node_fault(),
        "a store fault became a tx failure: {err}"
    );

    let get = serde_json::to_vec(&json!({"get": {"key": "k"}})).expect("json");
    let err = vm
        .query_smart(
            &broken,
            &ctx().block,
            probe.as_str(),
            &get,
            gas::to_vm(3_000_000),
        )
        .expect_err("the read cannot succeed");
    assert!(
        err.is_node_fault(),
        "a store fault became a query failure: {err}"
    );
}
