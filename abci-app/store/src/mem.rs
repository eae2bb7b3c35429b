//! An in-memory [`KvRead`]: a plain `BTreeMap`, for tests and tools (genesis builders, models).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::{admits_keys, empty_iter, KvIter, KvPair, KvRead, Order, StoreError};

/// A `BTreeMap` of key to value is a read-only state. Its range scans copy the pairs in range up
/// front (they must not borrow the map), so prefer a [`crate::Snapshot`] for large states.
impl KvRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(BTreeMap::get(self, key).cloned())
    }

    fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
    ) -> Result<KvIter, StoreError> {
        if !admits_keys(start, end) {
            return Ok(empty_iter());
        }
        let mut pairs: Vec<KvPair> = BTreeMap::range::<[u8], _>(self, (start, end))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if order == Order::Descending {
            pairs.reverse();
        }
        Ok(Box::new(pairs.into_iter().map(Ok)))
    }
}
