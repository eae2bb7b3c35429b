//! [`Store`] (durable, committed state) and [`Snapshot`] (one committed height, frozen).

use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use jmt::proof::SparseMerkleProof;
use jmt::storage::TreeUpdateBatch;
use jmt::JellyfishMerkleTree;
use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata, Table,
    TableHandle, WriteTransaction,
};
use sha2::Sha256;

use crate::tree::{
    self, BatchStats, Hex, ProofTables, PruneStats, TreeTables, FORMAT, META, META_APP_HASH,
    META_FORMAT, META_HEIGHT, NODES, STALE, STATE,
};
use crate::{
    admits_keys, empty_iter, key_hash, stop_after_error, ChangeSet, KvIter, KvPair, KvRead, Order,
    StoreError,
};

/// The database file inside the store's directory.
const DB_FILE: &str = "state.redb";

type BytesTable<'txn> = Table<'txn, &'static [u8], &'static [u8]>;
type ReadBytes = ReadOnlyTable<&'static [u8], &'static [u8]>;
type Tree<'a, R> = JellyfishMerkleTree<'a, R, Sha256>;

/// The app hash of a store holding no key/value pairs: the root hash jmt gives an empty tree, the
/// 32 ASCII bytes `SPARSE_MERKLE_PLACEHOLDER_HASH__`. It is what a fresh store reports at
/// height 0, and what any height reports once every key has been deleted.
pub const EMPTY_APP_HASH: [u8; 32] = Tree::<TreeTables<'static, ReadBytes>>::EMPTY_ROOT.0;

/// The last committed block of a [`Store`] (or the block a [`Snapshot`] shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Committed {
    /// Block height; 0 for a store that has committed nothing.
    pub height: u64,
    /// Root of the Merkle tree over the state at `height` (see [`EMPTY_APP_HASH`]).
    pub app_hash: [u8; 32],
}

/// The chain's durable state under one directory: an ordered key/value table and a Jellyfish
/// Merkle tree over the same pairs, in one redb file (`state.redb`), committed together one block
/// at a time.
///
/// Reads (through [`KvRead`], so `use usaged_store::KvRead`) see the last committed block. They go
/// through a [`Snapshot`] the store refreshes after each commit, so they cost no transaction set-up.
///
/// One process at a time: redb locks the file, and a second [`Store::open`] on the same directory
/// fails with [`StoreError::Database`].
pub struct Store {
    /// Declared before `db` so that it is dropped first.
    current: Snapshot,
    /// Shared with the pruning thread ([`Store::prune_in_background`]).
    db: Arc<Database>,
    /// The pruning started by [`Store::prune_in_background`], not yet joined.
    pruning: Option<Pruning>,
    dir: PathBuf,
    committed: Committed,
    /// The tree update computed by the last [`Store::preview_root`], reused by the `commit` of
    /// the same block so the tree work is done once.
    previewed: Option<Previewed>,
    /// Height of the first block of an empty store (the genesis' `initial_height`, 1 unless
    /// [`Store::set_initial_height`] says otherwise).
    initial_height: u64,
    /// Test hook: make the next commits fail after everything was written to the transaction but
    /// before it commits.
    #[cfg(test)]
    pub(crate) fail_before_commit: bool,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("height", &self.committed.height)
            .field("app_hash", &Hex(&self.committed.app_hash).to_string())
            .finish()
    }
}

impl Store {
    /// Opens the store in `dir`, creating the directory and an empty store (height 0,
    /// [`EMPTY_APP_HASH`]) if there is none.
    ///
    /// An existing store is checked on the way in: its recorded app hash must equal the root of
    /// its tree at its recorded height, or this fails with [`StoreError::Corrupt`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let db = Database::create(dir.join(DB_FILE))?;
        let committed = initialise(&db)?;
        let current = Snapshot::capture(&db)?;
        if current.committed() != committed {
            return Err(StoreError::corrupt(
                "a fresh read does not see the state just opened",
            ));
        }
        tracing::info!(
            dir = %dir.display(),
            height = committed.height,
            app_hash = %Hex(&committed.app_hash),
            "state store opened"
        );
        Ok(Store {
            db: Arc::new(db),
            pruning: None,
            dir: dir.to_path_buf(),
            committed,
            current,
            previewed: None,
            initial_height: 1,
            #[cfg(test)]
            fail_before_commit: false,
        })
    }

    /// Sets the height of the first block of a store that has none yet (a genesis with
    /// `initial_height > 1`); refused once a block is committed.
    pub fn set_initial_height(&mut self, height: u64) -> Result<(), StoreError> {
        let committed = self.committed.height;
        if committed != 0 || height == 0 {
            return Err(StoreError::WrongHeight {
                committed,
                requested: height,
            });
        }
        self.initial_height = height;
        Ok(())
    }

    /// The only height the next block may have.
    pub fn next_height(&self) -> Option<u64> {
        match self.committed.height {
            0 => Some(self.initial_height),
            h => h.checked_add(1),
        }
    }

    /// The database, for tests that look at the tables.
    #[cfg(test)]
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    /// The last committed height and its app hash.
    pub fn committed(&self) -> Committed {
        self.committed
    }

    /// The directory the store lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A frozen view of the last committed block: owned, `'static`, cheap to clone, and unaffected
    /// by later commits. Typically wrapped in an `Arc` as the base of a block's [`crate::Overlay`].
    ///
    /// A snapshot holds a redb read transaction, which keeps that block's pages from being reused;
    /// drop snapshots when done with them.
    pub fn snapshot(&self) -> Snapshot {
        self.current.clone()
    }

    /// The value of `key` at the committed height with a Merkle proof against
    /// [`Store::committed`]'s app hash: an inclusion proof if the key is present, a
    /// non-inclusion proof if it is absent.
    ///
    /// Check it with
    /// `proof.verify(jmt::RootHash(app_hash), usaged_store::key_hash(key), value.as_ref())`.
    pub fn get_with_proof(
        &self,
        key: &[u8],
    ) -> Result<(Option<Vec<u8>>, SparseMerkleProof<Sha256>), StoreError> {
        self.current.get_with_proof(key)
    }

    /// The app hash that [`Store::commit`] of the same block would return, computed without
    /// writing anything (ABCI 2.0 needs the app hash in `FinalizeBlock`, before `Commit` makes the
    /// block durable). Same height rule and errors as `commit`. The computed tree update is kept,
    /// and a `commit` of the same height and changes reuses it instead of computing it again.
    pub fn preview_root(
        &mut self,
        height: u64,
        changes: &ChangeSet,
    ) -> Result<[u8; 32], StoreError> {
        let committed = self.committed.height;
        if self.next_height() != Some(height) {
            return Err(StoreError::WrongHeight {
                committed,
                requested: height,
            });
        }
        let txn = self.db.begin_read()?;
        let state = txn.open_table(STATE)?;
        let nodes = txn.open_table(NODES)?;
        let (root, batch) = tree_update(&state, &nodes, height, changes)?;
        self.previewed = Some(Previewed {
            height,
            changes: changes.clone(),
            root,
            batch,
        });
        Ok(root.0)
    }

    /// Commits one block: applies every change in `changes` to the state table and to the Merkle
    /// tree at version `height`, stores the tree's new nodes, and records `(height, app hash)`,
    /// all in one redb write transaction (durable when this returns). Returns the new app hash.
    ///
    /// `height` must be the committed height plus one, or this fails with
    /// [`StoreError::WrongHeight`] and changes nothing. An empty change set still advances the
    /// height (the app hash stays the same). Deleting a key that does not exist is allowed and
    /// changes nothing.
    ///
    /// Any other error is a node fault: halt. Nothing was written (the transaction was rolled back)
    /// and a restarted node resumes from the previous block, except in one case: the block is
    /// committed but opening the read view of it failed; the restarted node then resumes from
    /// this block.
    pub fn commit(&mut self, height: u64, changes: &ChangeSet) -> Result<[u8; 32], StoreError> {
        let committed = self.committed.height;
        if self.next_height() != Some(height) {
            return Err(StoreError::WrongHeight {
                committed,
                requested: height,
            });
        }
        let span = tracing::info_span!("store_commit", height, changes = changes.len());
        let _entered = span.enter();
        let started = Instant::now();
        // A pruning still running holds the write lock: wait for it, and halt on its failure
        // as on a synchronous one.
        self.finish_pruning()?;
        let pruned = Instant::now();

        let mut txn = self.db.begin_write()?;
        // Quick repair: the commit also records redb's allocator state and uses two-phase commit,
        // so reopening after a crash is immediate instead of a walk over the whole file. Measured
        // cost on 1,000-write blocks: within noise.
        txn.set_quick_repair(true);
        let previewed = self
            .previewed
            .take()
            .filter(|p| p.height == height && &p.changes == changes)
            .map(|p| (p.root, p.batch));
        let (app_hash, stats) = match write_block(&txn, height, changes, previewed) {
            Ok(done) => done,
            Err(err) => {
                abort(txn);
                tracing::error!(height, error = %err, "block state not committed");
                return Err(err);
            }
        };
        #[cfg(test)]
        if self.fail_before_commit {
            abort(txn);
            return Err(StoreError::Tree("injected failure before commit".into()));
        }
        let written = Instant::now();
        txn.commit()?;
        let synced = Instant::now();

        self.committed = Committed { height, app_hash };
        self.current = Snapshot::capture(&self.db)?;
        tracing::info!(
            height,
            changes = changes.len(),
            root = %Hex(&app_hash),
            new_nodes = stats.batch.nodes,
            stale_nodes = stats.batch.stale,
            prune_wait_ms = ms(pruned - started),
            tree_ms = ms(stats.tree_done - pruned),
            write_ms = ms(written - stats.tree_done),
            sync_ms = ms(synced - written),
            duration_ms = ms(started.elapsed()),
            "block state committed"
        );
        Ok(app_hash)
    }
}

impl Store {
    /// Deletes the Merkle-tree data that only heights below `keep_from` need (replaced tree nodes,
    /// superseded versions of values), keeping everything heights `>= keep_from` need. State
    /// reads, the app hash and proofs at the committed height are unaffected, and so are
    /// [`Snapshot`]s taken earlier (they keep their own view). Pruning is not part of consensus:
    /// nodes with different pruning settings agree on every app hash.
    ///
    /// Without pruning the tree keeps every version, and most of the file is old nodes; call this
    /// after each commit with `committed - keep_recent` (it then does one block's worth of work).
    /// It runs in its own write transaction without an fsync (redb makes it durable with the next
    /// commit; if the process dies first, the work is simply redone by the next call).
    ///
    /// `keep_from` above the committed height is a caller error ([`StoreError::PruneTooFar`]).
    pub fn prune(&mut self, keep_from: u64) -> Result<PruneStats, StoreError> {
        self.finish_pruning()?;
        self.check_prune(keep_from)?;
        prune_now(&self.db, keep_from)
    }

    /// [`Store::prune`] on a thread of its own, so that it runs while the next block executes
    /// (which reads snapshots only) instead of inside `Commit`. The next [`Store::commit`] (or
    /// `prune`, or dropping the store) waits for it to end first and fails with its error if it
    /// failed. Same errors as `prune` for `keep_from`.
    pub fn prune_in_background(&mut self, keep_from: u64) -> Result<(), StoreError> {
        self.finish_pruning()?;
        self.check_prune(keep_from)?;
        let db = Arc::clone(&self.db);
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("store-prune".into())
            .spawn(move || prune_now(&db, keep_from))
            .map_err(|source| StoreError::Io {
                path: self.dir.clone(),
                source,
            })?;
        self.pruning = Some(Pruning { thread, started });
        Ok(())
    }

    /// Waits for the background pruning, if one runs; its error, if it failed.
    fn finish_pruning(&mut self) -> Result<(), StoreError> {
        let Some(pruning) = self.pruning.take() else {
            return Ok(());
        };
        let outcome = pruning
            .thread
            .join()
            .map_err(|_| StoreError::Tree("the pruning thread panicked".into()))?;
        tracing::debug!(
            since_start_ms = ms(pruning.started.elapsed()),
            "background pruning joined"
        );
        outcome.map(|_| ())
    }

    fn check_prune(&self, keep_from: u64) -> Result<(), StoreError> {
        let committed = self.committed.height;
        if keep_from > committed {
            return Err(StoreError::PruneTooFar {
                committed,
                keep_from,
            });
        }
        Ok(())
    }

    /// Space used by the store: the file's size and, per table, its entries and bytes (from
    /// redb's own accounting). For metrics and capacity planning; it reads every table's B-tree
    /// header, not its contents.
    pub fn stats(&self) -> Result<StoreStats, StoreError> {
        let txn = self.db.begin_read()?;
        let mut tables = Vec::new();
        for definition in [STATE, NODES, STALE] {
            let table = txn.open_table(definition)?;
            let stats = table.stats()?;
            tables.push(TableUsage {
                name: definition.name().to_string(),
                entries: table.len()?,
                stored_bytes: stats.stored_bytes(),
                metadata_bytes: stats.metadata_bytes(),
                fragmented_bytes: stats.fragmented_bytes(),
            });
        }
        let path = self.dir.join(DB_FILE);
        let file_bytes = std::fs::metadata(&path)
            .map_err(|source| StoreError::Io { path, source })?
            .len();
        Ok(StoreStats { file_bytes, tables })
    }
}

/// Space used by a [`Store`] (see [`Store::stats`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreStats {
    /// Size of the database file (redb grows it in large steps, so it exceeds the bytes in use).
    pub file_bytes: u64,
    /// Per table: `state`, `jmt_nodes`, `jmt_stale`.
    pub tables: Vec<TableUsage>,
}

/// Space used by one table of the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableUsage {
    /// The table's name.
    pub name: String,
    /// Number of key/value entries.
    pub entries: u64,
    /// Bytes of keys and values.
    pub stored_bytes: u64,
    /// Bytes of B-tree branch pages and other metadata.
    pub metadata_bytes: u64,
    /// Bytes lost to partly filled pages.
    pub fragmented_bytes: u64,
}

impl KvRead for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.current.get(key)
    }

    fn range(
        &self,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
        order: Order,
    ) -> Result<KvIter, StoreError> {
        self.current.range(start, end, order)
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A pruning running on its own thread.
struct Pruning {
    thread: std::thread::JoinHandle<Result<PruneStats, StoreError>>,
    started: Instant,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(err) = self.finish_pruning() {
            tracing::warn!(error = %err, "background pruning failed; the next open redoes it");
        }
    }
}

/// One pruning pass (see [`Store::prune`]) in its own write transaction, without an fsync.
fn prune_now(db: &Database, keep_from: u64) -> Result<PruneStats, StoreError> {
    let started = Instant::now();
    let mut txn = db.begin_write()?;
    txn.set_durability(redb::Durability::None)?;
    let pruned = (|| {
        let mut nodes = txn.open_table(NODES)?;
        let mut stale = txn.open_table(STALE)?;
        tree::prune(&mut nodes, &mut stale, keep_from)
    })();
    match pruned {
        Ok(stats) => {
            txn.commit()?;
            tracing::debug!(
                keep_from,
                nodes = stats.nodes,
                duration_ms = ms(started.elapsed()),
                "pruned tree versions"
            );
            Ok(stats)
        }
        Err(err) => {
            abort(txn);
            Err(err)
        }
    }
}

fn abort(txn: WriteTransaction) {
    if let Err(err) = txn.abort() {
        tracing::error!(error = %err, "aborting the state write transaction failed");
    }
}

/// Creates the tables and the empty tree of a fresh store, or checks an existing one; returns what
/// is committed.
fn initialise(db: &Database) -> Result<Committed, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_quick_repair(true);
    match initialise_in(&txn) {
        Ok(committed) => {
            txn.commit()?;
            Ok(committed)
        }
        Err(err) => {
            abort(txn);
            Err(err)
        }
    }
}

fn initialise_in(txn: &WriteTransaction) -> Result<Committed, StoreError> {
    txn.open_table(STATE)?;
    let mut nodes = txn.open_table(NODES)?;
    let mut stale = txn.open_table(STALE)?;
    let mut meta = txn.open_table(META)?;

    let format = meta.get(META_FORMAT)?.map(|raw| raw.value().to_vec());
    match format {
        None => {
            // Fresh store: version 0 of the tree is the empty tree (a null root node), so that
            // block 1 finds its parent root like every later block.
            let (root, batch) = {
                let reader = TreeTables { nodes: &nodes };
                Tree::new(&reader)
                    .put_value_set(Vec::new(), 0)
                    .map_err(StoreError::from_tree)?
            };
            tree::write_batch(&mut nodes, &mut stale, 0, &batch)?;
            meta.insert(META_FORMAT, FORMAT.to_be_bytes().as_slice())?;
            meta.insert(META_HEIGHT, 0u64.to_be_bytes().as_slice())?;
            meta.insert(META_APP_HASH, root.0.as_slice())?;
            Ok(Committed {
                height: 0,
                app_hash: root.0,
            })
        }
        Some(raw) => {
            if raw != FORMAT.to_be_bytes() {
                return Err(StoreError::corrupt(format!(
                    "unknown store format {}; this build reads format {FORMAT}",
                    Hex(&raw)
                )));
            }
            let committed = read_committed(&meta)?;
            let reader = TreeTables { nodes: &nodes };
            let root = Tree::new(&reader)
                .get_root_hash_option(committed.height)
                .map_err(StoreError::from_tree)?;
            if root.map(|r| r.0) != Some(committed.app_hash) {
                return Err(StoreError::corrupt(format!(
                    "recorded app hash {} at height {} does not match the tree's root {}",
                    Hex(&committed.app_hash),
                    committed.height,
                    root.map(|r| Hex(&r.0).to_string())
                        .unwrap_or_else(|| "(missing)".into()),
                )));
            }
            Ok(committed)
        }
    }
}

fn read_committed<T>(meta: &T) -> Result<Committed, StoreError>
where
    T: ReadableTable<&'static str, &'static [u8]>,
{
    let height = meta
        .get(META_HEIGHT)?
        .ok_or_else(|| StoreError::corrupt("no committed height recorded"))?;
    let height = <[u8; 8]>::try_from(height.value())
        .map_err(|_| StoreError::corrupt("committed height is not 8 bytes"))?;
    let app_hash = meta
        .get(META_APP_HASH)?
        .ok_or_else(|| StoreError::corrupt("no app hash recorded"))?;
    let app_hash = <[u8; 32]>::try_from(app_hash.value())
        .map_err(|_| StoreError::corrupt("app hash is not 32 bytes"))?;
    Ok(Committed {
        height: u64::from_be_bytes(height),
        app_hash,
    })
}

/// Everything one block writes, inside its write transaction. Returns the new root.
/// A tree update computed ahead of its commit.
struct Previewed {
    height: u64,
    changes: ChangeSet,
    root: jmt::RootHash,
    batch: TreeUpdateBatch,
}

/// The tree update of a block, read from the tables of version `height - 1`.
fn tree_update<T>(
    state: &T,
    nodes: &T,
    height: u64,
    changes: &ChangeSet,
) -> Result<(jmt::RootHash, TreeUpdateBatch), StoreError>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    let reader = TreeTables { nodes };
    // Deleting a key that does not exist changes nothing in the tree; leaving it out also
    // keeps jmt from storing a deletion record that no leaf would ever lead a pruner to.
    let mut value_set = Vec::with_capacity(changes.len());
    for (key, value) in changes {
        if value.is_some() || state.get(key.as_slice())?.is_some() {
            value_set.push((key_hash(key), value.clone()));
        }
    }
    Tree::new(&reader)
        .put_value_set(value_set, height)
        .map_err(StoreError::from_tree)
}

fn write_block(
    txn: &WriteTransaction,
    height: u64,
    changes: &ChangeSet,
    previewed: Option<(jmt::RootHash, TreeUpdateBatch)>,
) -> Result<([u8; 32], BlockStats), StoreError> {
    let mut state: BytesTable<'_> = txn.open_table(STATE)?;
    let mut nodes = txn.open_table(NODES)?;
    let mut stale = txn.open_table(STALE)?;
    let mut meta = txn.open_table(META)?;

    // 1. The tree, computed from the nodes of version height-1 (the tables as committed), unless
    //    `preview_root` already did for exactly this block.
    let (root, batch) = match previewed {
        Some(done) => done,
        None => tree_update(&state, &nodes, height, changes)?,
    };
    let tree_done = Instant::now();

    // 2. The ordered state table: the only copy of each value.
    for (key, value) in changes {
        match value {
            Some(value) => {
                state.insert(key.as_slice(), value.as_slice())?;
            }
            None => {
                state.remove(key.as_slice())?;
            }
        }
    }

    // 3. The tree's new nodes and stale-node index; then height and app hash.
    let batch = tree::write_batch(&mut nodes, &mut stale, height, &batch)?;
    meta.insert(META_HEIGHT, height.to_be_bytes().as_slice())?;
    meta.insert(META_APP_HASH, root.0.as_slice())?;
    Ok((root.0, BlockStats { batch, tree_done }))
}

/// What a block's commit did, for its trace event.
struct BlockStats {
    batch: BatchStats,
    /// When the tree update was computed (before the tables were written).
    tree_done: Instant,
}

type RawEntry = (
    redb::AccessGuard<'static, &'static [u8]>,
    redb::AccessGuard<'static, &'static [u8]>,
);

fn owned_pair(entry: Result<RawEntry, redb::StorageError>) -> Result<KvPair, StoreError> {
    entry
        .map(|(k, v)| (k.value().to_vec(), v.value().to_vec()))
        .map_err(StoreError::from)
}

/// A frozen view of one committed block: owned, `'static`, cheap to clone (an `Arc` around a redb
/// read transaction's tables), and unaffected by later commits. Implements [`KvRead`] and serves
/// proofs at its own height.
///
/// It reads through the [`Store`]'s open database: once the store is dropped, its reads fail with
/// [`StoreError::Database`].
#[derive(Clone)]
pub struct Snapshot {
    inner: Arc<SnapshotInner>,
}

struct SnapshotInner {
    committed: Committed,
    state: ReadBytes,
    nodes: ReadBytes,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("height", &self.inner.committed.height)
            .field("app_hash", &Hex(&self.inner.committed.app_hash).to_string())
            .finish()
    }
}

impl Snapshot {
    fn capture(db: &Database) -> Result<Snapshot, StoreError> {
        let txn = db.begin_read()?;
        let meta = txn.open_table(META)?;
        let committed = read_committed(&meta)?;
        Ok(Snapshot {
            inner: Arc::new(SnapshotInner {
                committed,
                state: txn.open_table(STATE)?,
                nodes: txn.open_table(NODES)?,
            }),
        })
    }

    /// The height and app hash this snapshot shows.
    pub fn committed(&self) -> Committed {
        self.inner.committed
    }

    /// The value of `key` at this snapshot's height with a Merkle proof against its app hash
    /// (inclusion if present, non-inclusion if absent); see [`Store::get_with_proof`].
    pub fn get_with_proof(
        &self,
        key: &[u8],
    ) -> Result<(Option<Vec<u8>>, SparseMerkleProof<Sha256>), StoreError> {
        let hash = key_hash(key);
        let reader = ProofTables {
            tree: TreeTables {
                nodes: &self.inner.nodes,
            },
            state: &self.inner.state,
            key,
            key_hash: hash,
        };
        Tree::new(&reader)
            .get_with_proof(hash, self.inner.committed.height)
            .map_err(StoreError::from_tree)
    }
}

impl KvRead for Snapshot {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.state.get(key)?.map(|v| v.value().to_vec()))
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
        // `ReadOnlyTable::range` gives a `'static` cursor that holds the read transaction and
        // reads the B-tree page by page as it is advanced.
        let scan = self.inner.state.range::<&[u8]>((start, end))?;
        Ok(match order {
            Order::Ascending => stop_after_error(scan.map(owned_pair)),
            Order::Descending => stop_after_error(scan.rev().map(owned_pair)),
        })
    }
}
