//! A contract's view of the chain state: its own prefix of the current branch, with SDK KV gas
//! reported to the VM as externally used.
//!
//! A store error while a contract runs is this node's fault, not the transaction's: it is kept
//! in the call's [`FaultSlot`] (the VM only sees an opaque backend error) and the executor turns
//! it into a node fault after the call, so the node halts instead of recording a failed tx.
//!
//! Open iterators hold host memory outside the instance's wasm memory: each costs
//! [`gas::kv::ITERATOR_OPEN`] on top of the flat scan cost, one call may open at most
//! [`MAX_ITERATORS`], and an iterator read to its end is dropped at once.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::rc::Rc;

use cosmwasm_std::{Order as VmOrder, Record};
use cosmwasm_vm::{BackendError, BackendResult, GasInfo, Storage};
use usaged_store::{KvIter, KvRead, Order, Overlay, StoreError};

use crate::gas;

/// The branch of state a call runs on (a transaction's fork, or a sub-message's fork of that).
pub type Branch = Rc<RefCell<Overlay>>;

/// Most iterators one contract call may open (live or exhausted).
pub const MAX_ITERATORS: u32 = 1_024;

/// Where a call's storage and querier record a store error (the first one wins).
pub type FaultSlot = Rc<RefCell<Option<StoreError>>>;

/// Records `e` in `slot` unless an earlier fault is there; returns the opaque error the VM sees.
pub(crate) fn record_fault(slot: &FaultSlot, e: StoreError) -> BackendError {
    let text = "the node's store failed".to_string();
    let mut s = slot.borrow_mut();
    if s.is_none() {
        *s = Some(e);
    }
    BackendError::unknown(text)
}

/// An iterator of a call: open, or read to its end (its memory freed, its id still valid).
enum CallIterator {
    Open(KvIter),
    Exhausted,
}

/// Storage of one contract: every key is prefixed with `0x03 ‖ contract address`.
pub struct ContractStorage {
    branch: Branch,
    prefix: Vec<u8>,
    iterators: BTreeMap<u32, CallIterator>,
    next_iterator: u32,
    fault: FaultSlot,
}

impl ContractStorage {
    pub fn new(branch: Branch, prefix: Vec<u8>, fault: FaultSlot) -> Self {
        ContractStorage {
            branch,
            prefix,
            iterators: BTreeMap::new(),
            next_iterator: 1,
            fault,
        }
    }

    /// How many of this call's iterators are still open (not read to their end).
    pub fn open_iterators(&self) -> usize {
        self.iterators
            .values()
            .filter(|i| matches!(i, CallIterator::Open(_)))
            .count()
    }

    fn key(&self, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(key);
        k
    }

    /// The first key past this contract's prefix.
    fn prefix_end(&self) -> Option<Vec<u8>> {
        let mut end = self.prefix.clone();
        while let Some(last) = end.pop() {
            if last < u8::MAX {
                end.push(last + 1);
                return Some(end);
            }
        }
        None
    }
}

impl Storage for ContractStorage {
    fn get(&self, key: &[u8]) -> BackendResult<Option<Vec<u8>>> {
        let result = self.branch.borrow().get(&self.key(key));
        match result {
            Ok(v) => {
                let cost = gas::read_cost(key.len(), v.as_ref().map_or(0, Vec::len));
                (Ok(v), GasInfo::with_externally_used(gas::to_vm(cost)))
            }
            Err(e) => (Err(record_fault(&self.fault, e)), GasInfo::free()),
        }
    }

    fn scan(
        &mut self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        order: VmOrder,
    ) -> BackendResult<u32> {
        let gas = GasInfo::with_externally_used(gas::to_vm(
            gas::kv::ITER_NEXT_FLAT + gas::kv::ITERATOR_OPEN,
        ));
        if self.iterators.len() >= MAX_ITERATORS as usize {
            return (
                Err(BackendError::user_err(format!(
                    "a contract call may open at most {MAX_ITERATORS} iterators"
                ))),
                gas,
            );
        }
        let lo = match start {
            Some(s) => self.key(s),
            None => self.prefix.clone(),
        };
        let hi = match end {
            Some(e) => Some(self.key(e)),
            None => self.prefix_end(),
        };
        let upper = match &hi {
            Some(h) => Bound::Excluded(h.as_slice()),
            None => Bound::Unbounded,
        };
        let order = match order {
            VmOrder::Ascending => Order::Ascending,
            VmOrder::Descending => Order::Descending,
        };
        let iter = self
            .branch
            .borrow()
            .range(Bound::Included(lo.as_slice()), upper, order);
        match iter {
            Ok(iter) => {
                let id = self.next_iterator;
                self.next_iterator = self.next_iterator.saturating_add(1);
                self.iterators.insert(id, CallIterator::Open(iter));
                (Ok(id), gas)
            }
            Err(e) => (Err(record_fault(&self.fault, e)), gas),
        }
    }

    fn next(&mut self, iterator_id: u32) -> BackendResult<Option<Record>> {
        let prefix_len = self.prefix.len();
        let Some(slot) = self.iterators.get_mut(&iterator_id) else {
            return (
                Err(BackendError::iterator_does_not_exist(iterator_id)),
                GasInfo::free(),
            );
        };
        let next = match slot {
            CallIterator::Open(iter) => iter.next(),
            CallIterator::Exhausted => None,
        };
        match next {
            None => {
                *slot = CallIterator::Exhausted;
                (
                    Ok(None),
                    GasInfo::with_externally_used(gas::to_vm(gas::kv::ITER_NEXT_FLAT)),
                )
            }
            Some(Ok((k, v))) => {
                let cost = gas::iter_next_cost(k.len(), v.len());
                let key = k.get(prefix_len..).map(<[u8]>::to_vec).unwrap_or_default();
                (
                    Ok(Some((key, v))),
                    GasInfo::with_externally_used(gas::to_vm(cost)),
                )
            }
            Some(Err(e)) => {
                *slot = CallIterator::Exhausted;
                (Err(record_fault(&self.fault, e)), GasInfo::free())
            }
        }
    }

    fn set(&mut self, key: &[u8], value: &[u8]) -> BackendResult<()> {
        let cost = gas::write_cost(key.len(), value.len());
        let k = self.key(key);
        self.branch.borrow_mut().set(k, value.to_vec());
        (Ok(()), GasInfo::with_externally_used(gas::to_vm(cost)))
    }

    fn remove(&mut self, key: &[u8]) -> BackendResult<()> {
        let k = self.key(key);
        self.branch.borrow_mut().remove(k);
        (
            Ok(()),
            GasInfo::with_externally_used(gas::to_vm(gas::kv::DELETE)),
        )
    }
}
