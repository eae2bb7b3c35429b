//! Durable, Merkle-committed state of the usagechain application.
//!
//! The chain's state is a map from arbitrary byte keys to arbitrary byte values. This crate keeps
//! it twice, in one file, and commits both copies in one atomic step per block:
//!
//! * an **ordered key/value table** in [redb] that serves every read and every range scan
//!   (contracts iterate: cw-storage-plus `range`/`prefix` become the VM's `scan`/`next`);
//! * a **Jellyfish Merkle tree** ([jmt] 0.12, SHA-256) over the same pairs, whose root is the app
//!   hash that CometBFT puts in the next block header, and from which membership and
//!   non-membership proofs are served. The tree hashes every key, so it cannot iterate keys in
//!   order; that is why the ordered table exists.
//!
//! The pieces:
//!
//! * [`Store`]: the durable store under a directory. [`Store::commit`] applies one block's
//!   [`ChangeSet`] at `height = committed + 1`, in one redb write transaction (state table, tree
//!   nodes, stale-node index, height and app hash; each value is stored once, in the state
//!   table, and the tree's leaves hold its hash). A crash
//!   before that transaction commits leaves the previous block intact; after it, the new block is
//!   fully present. [`Store::prune`] deletes the tree data that only old heights need (without
//!   it, replaced tree nodes are most of the file); [`Store::stats`] reports space per table.
//! * [`Snapshot`]: an owned, `'static`, cheaply cloned view of one committed height, unaffected by
//!   later commits. Hand one to each block execution, query or proof request.
//! * [`Overlay`]: an in-memory write layer over any [`KvRead`] (normally a [`Snapshot`]). Reads and
//!   range scans see the overlay's own pending writes and deletions merged in key order.
//!   [`Overlay::fork`] gives a child layer for a transaction or sub-message; the parent takes the
//!   child's writes only when told to ([`Overlay::apply`] of [`Overlay::into_changes`]), so a
//!   failure is rolled back by dropping the child.
//! * [`KvRead`]: the object-safe read trait implemented by all three (and by an in-memory
//!   `BTreeMap` for tests). Range scans return owned, `'static`, lazily evaluated iterators
//!   ([`KvIter`]) that the VM can keep between `scan` and `next` calls.
//! * [`StoreError`]: says whether a failure is the caller's (a wrong height to commit or prune) or
//!   the node's (I/O, corruption: the node must halt); see [`StoreError::is_node_fault`].
//!
//! # App hash
//!
//! The app hash at height `h` is the root hash of the Jellyfish Merkle tree holding exactly the
//! committed key/value pairs at `h` (each leaf commits to `SHA-256(key)` and `SHA-256(value)`; see
//! [jmt] for the domain-separated node hashing). It depends only on the set of pairs, not on the
//! order or the blocks in which they were written. A store with no pairs (a fresh store at height
//! 0, or one whose every key was deleted) has the root [`EMPTY_APP_HASH`], the 32 ASCII bytes
//! `SPARSE_MERKLE_PLACEHOLDER_HASH__`.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use usaged_store::{KvRead, Overlay, Store};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::open(dir.path())?;
//!
//! // Execute a block on an overlay over the committed snapshot.
//! let mut block = Overlay::new(Arc::new(store.snapshot()));
//! let mut tx = block.fork();
//! tx.set(b"balance/alice".to_vec(), b"10".to_vec());
//! block.apply(tx.into_changes()); // the transaction succeeded
//!
//! let app_hash = store.commit(1, &block.changes())?;
//! assert_eq!(store.committed().app_hash, app_hash);
//! assert_eq!(store.get(b"balance/alice")?, Some(b"10".to_vec()));
//! # Ok(())
//! # }
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![deny(missing_docs)]

mod error;
mod mem;
mod overlay;
mod store;
mod tree;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

pub use error::StoreError;
pub use overlay::Overlay;
pub use store::{Committed, Snapshot, Store, StoreStats, TableUsage, EMPTY_APP_HASH};
pub use tree::PruneStats;

/// The Jellyfish Merkle tree crate this store is built on (proof types, [`jmt::RootHash`],
/// [`jmt::KeyHash`]), re-exported so callers use the same version.
pub use jmt;

/// One block's (or one transaction's) writes: `Some(value)` sets a key, `None` deletes it.
///
/// A `BTreeMap`, so every consumer sees the writes in the same order on every machine.
pub type ChangeSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A key/value pair as returned by range scans.
pub type KvPair = (Vec<u8>, Vec<u8>);

/// An owned, lazily evaluated range scan.
///
/// It holds what it needs (a redb read transaction, `Arc`s of overlay layers), so it borrows
/// nothing and may be stored, for example by the VM between a contract's `scan` and `next` calls.
/// It sees the state as it was when the scan was created. After yielding an `Err` it yields
/// nothing more.
pub type KvIter = Box<dyn Iterator<Item = Result<KvPair, StoreError>> + Send>;

/// Direction of a range scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// Smallest key first (byte-wise lexicographic order).
    Ascending,
    /// Largest key first.
    Descending,
}

/// Read access to a key/value state: committed ([`Store`], [`Snapshot`]) or pending ([`Overlay`]).
///
/// Object safe: the VM layer holds an `Arc<dyn KvRead + Send + Sync>`.
pub trait KvRead {
    /// The value stored under `key`, or `None` if there is none.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// All pairs with `start <= key < end` (as the bounds say) in the given order, as an owned,
    /// lazily evaluated iterator (see [`KvIter`]). Bounds that admit no key (for example
    /// `start > end`) give an empty scan, never a panic.
    fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
    ) -> Result<KvIter, StoreError>;
}

impl<T: KvRead + ?Sized> KvRead for Arc<T> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key)
    }

    fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
    ) -> Result<KvIter, StoreError> {
        (**self).range(start, end, order)
    }
}

impl<T: KvRead + ?Sized> KvRead for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key)
    }

    fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
    ) -> Result<KvIter, StoreError> {
        (**self).range(start, end, order)
    }
}

/// The key under which the Jellyfish Merkle tree stores `key`: `SHA-256(key)`.
///
/// Use it to check a proof from [`Store::get_with_proof`]:
/// `proof.verify(jmt::RootHash(app_hash), key_hash(key), value.as_ref())`.
pub fn key_hash(key: &[u8]) -> jmt::KeyHash {
    jmt::KeyHash::with::<sha2::Sha256>(key)
}

/// Whether `start..end` can contain any key. `BTreeMap::range` panics on some of the bounds that
/// admit nothing (`start > end`, equal excluded bounds), so every scan checks this first.
pub(crate) fn admits_keys(start: Bound<&[u8]>, end: Bound<&[u8]>) -> bool {
    match (start, end) {
        (Bound::Unbounded, _) | (_, Bound::Unbounded) => true,
        (Bound::Included(s), Bound::Included(e)) => s <= e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s < e,
    }
}

/// An empty scan.
pub(crate) fn empty_iter() -> KvIter {
    Box::new(std::iter::empty())
}

/// Wraps a scan so that it ends after its first error, as [`KvIter`] promises.
pub(crate) fn stop_after_error<I>(inner: I) -> KvIter
where
    I: Iterator<Item = Result<KvPair, StoreError>> + Send + 'static,
{
    let mut failed = false;
    Box::new(inner.map_while(move |item| {
        if failed {
            return None;
        }
        failed = item.is_err();
        Some(item)
    }))
}
