//! The store's one error type.

use std::path::PathBuf;

/// Why a store operation failed.
///
/// Two kinds, told apart by [`StoreError::is_node_fault`]:
///
/// * the **caller's** mistake ([`StoreError::WrongHeight`], [`StoreError::PruneTooFar`]):
///   nothing was written, the store is intact and usable;
/// * the **node's** problem (every other variant: I/O, database, corruption, Merkle tree): the
///   node cannot trust or extend its state and must halt. A failed [`crate::Store::commit`] wrote
///   nothing (its transaction was rolled back), so a restart resumes from the last committed block.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `commit` was called with a height other than the committed height plus one.
    #[error("cannot commit height {requested}: the store is at height {committed}, so the next height is {committed}+1")]
    WrongHeight {
        /// The last committed height.
        committed: u64,
        /// The height the caller asked to commit.
        requested: u64,
    },
    /// `prune` was asked to drop heights at or above the committed height.
    #[error("cannot prune below height {keep_from}: the store is at height {committed}")]
    PruneTooFar {
        /// The last committed height.
        committed: u64,
        /// The lowest height the caller asked to keep.
        keep_from: u64,
    },
    /// The state directory could not be created or read.
    #[error("state directory {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// redb failed (I/O error, database locked by another process, corrupted file, ...).
    #[error("state database: {0}")]
    Database(#[source] Box<redb::Error>),
    /// The stored data is not what this crate wrote (undecodable record, missing metadata, app hash
    /// that disagrees with the tree).
    #[error("corrupt state: {0}")]
    Corrupt(String),
    /// The Jellyfish Merkle tree failed (for example a node it needs is missing).
    #[error("merkle tree: {0}")]
    Tree(String),
}

impl StoreError {
    /// `true` if the node must halt (I/O, database, corruption, tree); `false` if the caller asked
    /// for something invalid and nothing was changed.
    pub fn is_node_fault(&self) -> bool {
        !matches!(
            self,
            StoreError::WrongHeight { .. } | StoreError::PruneTooFar { .. }
        )
    }

    /// Turns an error that came back through jmt (which speaks `anyhow`) into a `StoreError`,
    /// keeping our own error (I/O, corruption) when that is what the tree reader returned.
    pub(crate) fn from_tree(err: anyhow::Error) -> Self {
        match err.downcast::<StoreError>() {
            Ok(own) => own,
            Err(other) => StoreError::Tree(format!("{other:#}")),
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        StoreError::Corrupt(what.into())
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(err: $t) -> Self {
                StoreError::Database(Box::new(err.into()))
            }
        }
    )*};
}

from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
