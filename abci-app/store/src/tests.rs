//! Behaviour of the store, its snapshots and overlays. Each test is named after what it shows.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::ops::Bound;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use jmt::RootHash;
use proptest::prelude::*;
use redb::Database;
use tempfile::TempDir;

use crate::tree::{self, META, META_APP_HASH, NODES};
use crate::{
    key_hash, ChangeSet, Committed, KvIter, KvPair, KvRead, Order, Overlay, Snapshot, Store,
    StoreError, EMPTY_APP_HASH,
};

// ----------------------------------------------------------------------------------------------
// helpers

type OwnedRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);
type BorrowedRange<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

fn tempdir() -> TempDir {
    tempfile::tempdir().unwrap()
}

fn open(dir: &Path) -> Store {
    Store::open(dir).unwrap()
}

/// A deterministic block: `writes` sets spread over 3,000 keys and one deletion.
fn block(height: u64, writes: u64) -> ChangeSet {
    let mut changes = ChangeSet::new();
    for i in 0..writes {
        let k = height.wrapping_mul(7919).wrapping_add(i * 104_729) % 3000;
        changes.insert(
            format!("key/{k:05}").into_bytes(),
            Some(format!("value {height}.{i}").into_bytes()),
        );
    }
    let deleted = height.wrapping_mul(31) % 3000;
    changes.insert(format!("key/{deleted:05}").into_bytes(), None);
    changes
}

fn set(changes: &mut ChangeSet, key: &str, value: &str) {
    changes.insert(key.as_bytes().to_vec(), Some(value.as_bytes().to_vec()));
}

fn del(changes: &mut ChangeSet, key: &str) {
    changes.insert(key.as_bytes().to_vec(), None);
}

fn scan(reader: &impl KvRead, start: Bound<&[u8]>, end: Bound<&[u8]>, order: Order) -> Vec<KvPair> {
    reader
        .range(start, end, order)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn scan_all(reader: &impl KvRead) -> Vec<KvPair> {
    scan(reader, Bound::Unbounded, Bound::Unbounded, Order::Ascending)
}

/// Asserts the proof for `key` verifies against `app_hash` and shows `expected`.
fn assert_proven(snapshot: &Snapshot, key: &[u8], expected: Option<&[u8]>) {
    let (value, proof) = snapshot.get_with_proof(key).unwrap();
    assert_eq!(value.as_deref(), expected, "value served with the proof");
    let root = RootHash(snapshot.committed().app_hash);
    proof
        .verify(root, key_hash(key), value.as_ref())
        .unwrap_or_else(|e| panic!("proof for {key:?} does not verify: {e}"));
}

fn apply_to_model(model: &mut BTreeMap<Vec<u8>, Vec<u8>>, changes: &ChangeSet) {
    for (k, v) in changes {
        match v {
            Some(v) => model.insert(k.clone(), v.clone()),
            None => model.remove(k),
        };
    }
}

// ----------------------------------------------------------------------------------------------
// the store

#[test]
fn a_fresh_store_is_at_height_zero_with_the_empty_app_hash() {
    let dir = tempdir();
    let store = open(dir.path());
    assert_eq!(
        store.committed(),
        Committed {
            height: 0,
            app_hash: EMPTY_APP_HASH
        }
    );
    assert_eq!(&EMPTY_APP_HASH, b"SPARSE_MERKLE_PLACEHOLDER_HASH__");
    assert!(scan_all(&store).is_empty());
    assert_proven(&store.snapshot(), b"anything", None);
}

#[test]
fn commit_and_reopen_gives_the_same_height_app_hash_and_values() {
    let dir = tempdir();
    let (committed, contents) = {
        let mut store = open(dir.path());
        for h in 1..=5 {
            store.commit(h, &block(h, 50)).unwrap();
        }
        (store.committed(), scan_all(&store))
    };
    assert_eq!(committed.height, 5);
    assert!(!contents.is_empty());

    let store = open(dir.path());
    assert_eq!(store.committed(), committed);
    assert_eq!(scan_all(&store), contents);
    for (k, v) in &contents {
        assert_eq!(store.get(k).unwrap().as_ref(), Some(v));
        assert_proven(&store.snapshot(), k, Some(v));
    }
}

#[test]
fn the_same_change_sets_in_two_directories_give_identical_app_hashes_at_every_height() {
    let (a, b) = (tempdir(), tempdir());
    let (mut first, mut second) = (open(a.path()), open(b.path()));
    for h in 1..=20 {
        let changes = block(h, 40);
        let hash_a = first.commit(h, &changes).unwrap();
        let hash_b = second.commit(h, &changes).unwrap();
        assert_eq!(hash_a, hash_b, "app hash at height {h}");
        assert_eq!(first.committed(), second.committed());
    }
    assert_eq!(scan_all(&first), scan_all(&second));
}

#[test]
fn the_app_hash_depends_only_on_the_state_not_on_how_blocks_split_the_writes() {
    let (a, b) = (tempdir(), tempdir());
    let mut one_block = ChangeSet::new();
    set(&mut one_block, "a", "1");
    set(&mut one_block, "b", "2");
    set(&mut one_block, "c", "3");
    let mut store_a = open(a.path());
    let together = store_a.commit(1, &one_block).unwrap();

    let mut store_b = open(b.path());
    let mut first = ChangeSet::new();
    set(&mut first, "c", "3");
    set(&mut first, "x", "gone later");
    set(&mut first, "a", "old");
    store_b.commit(1, &first).unwrap();
    let mut second = ChangeSet::new();
    set(&mut second, "a", "1");
    set(&mut second, "b", "2");
    del(&mut second, "x");
    let apart = store_b.commit(2, &second).unwrap();

    assert_eq!(together, apart);
}

#[test]
fn an_empty_change_set_advances_the_height_and_keeps_the_app_hash() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let root = store.commit(1, &block(1, 10)).unwrap();
    assert_eq!(store.commit(2, &ChangeSet::new()).unwrap(), root);
    assert_eq!(store.commit(3, &ChangeSet::new()).unwrap(), root);
    assert_eq!(store.committed().height, 3);
    let next = store.commit(4, &block(4, 10)).unwrap();
    assert_ne!(next, root);
    drop(store);
    assert_eq!(open(dir.path()).committed().height, 4);
}

#[test]
fn an_empty_block_on_a_fresh_store_keeps_the_empty_app_hash() {
    let dir = tempdir();
    let mut store = open(dir.path());
    assert_eq!(store.commit(1, &ChangeSet::new()).unwrap(), EMPTY_APP_HASH);
    let mut deletes_only = ChangeSet::new();
    del(&mut deletes_only, "never written");
    assert_eq!(store.commit(2, &deletes_only).unwrap(), EMPTY_APP_HASH);
    assert_eq!(open_again(store, dir.path()).committed().height, 2);
}

fn open_again(store: Store, dir: &Path) -> Store {
    drop(store);
    open(dir)
}

#[test]
fn committing_a_height_other_than_the_next_is_a_typed_error_and_changes_nothing() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 10)).unwrap();
    let before = (store.committed(), scan_all(&store));

    for wrong in [0, 1, 3, 100, u64::MAX] {
        let err = store.commit(wrong, &block(wrong, 10)).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::WrongHeight {
                    committed: 1,
                    requested
                } if requested == wrong
            ),
            "height {wrong}: {err}"
        );
        assert!(!err.is_node_fault());
        assert_eq!((store.committed(), scan_all(&store)), before);
    }
    let store = open_again(store, dir.path());
    assert_eq!((store.committed(), scan_all(&store)), before);
}

#[test]
fn a_block_staged_but_never_committed_leaves_the_previous_state_after_reopen() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 20)).unwrap();
    let before = (store.committed(), scan_all(&store));

    let mut staged = Overlay::new(Arc::new(store.snapshot()));
    for (k, v) in block(2, 20) {
        match v {
            Some(v) => staged.set(k, v),
            None => staged.remove(k),
        }
    }
    staged.set(b"only staged".to_vec(), b"x".to_vec());
    drop(staged);
    drop(store); // the process "stops" between executing and committing block 2

    let store = open(dir.path());
    assert_eq!((store.committed(), scan_all(&store)), before);
    assert_eq!(store.get(b"only staged").unwrap(), None);
}

#[test]
fn a_commit_that_fails_before_its_transaction_commits_leaves_the_previous_block_intact() {
    let (dir, clean_dir) = (tempdir(), tempdir());
    let mut store = open(dir.path());
    store.commit(1, &block(1, 30)).unwrap();
    let before = (store.committed(), scan_all(&store));

    // Everything of block 2 is written into the transaction, then it is rolled back.
    store.fail_before_commit = true;
    let err = store.commit(2, &block(2, 30)).unwrap_err();
    assert!(err.is_node_fault());
    assert_eq!((store.committed(), scan_all(&store)), before);

    let mut store = open_again(store, dir.path());
    assert_eq!((store.committed(), scan_all(&store)), before);

    // Retrying the block gives what a store that never failed has.
    let retried = store.commit(2, &block(2, 30)).unwrap();
    let mut clean = open(clean_dir.path());
    clean.commit(1, &block(1, 30)).unwrap();
    assert_eq!(clean.commit(2, &block(2, 30)).unwrap(), retried);
    assert_eq!(scan_all(&clean), scan_all(&store));
}

const CRASH_DIR_ENV: &str = "USAGED_STORE_CRASH_TEST_DIR";
const CRASH_BLOCK_WRITES: u64 = 200;

/// Run by `a_process_killed_while_committing_reopens_at_its_last_complete_block` in a child
/// process: commits blocks until it is killed, printing each committed height.
#[test]
#[ignore = "helper process of a_process_killed_while_committing_reopens_at_its_last_complete_block"]
fn crash_helper_commits_blocks_until_killed() {
    let Some(dir) = std::env::var_os(CRASH_DIR_ENV) else {
        return;
    };
    let mut store = open(Path::new(&dir));
    for _ in 0..100_000 {
        let height = store.committed().height + 1;
        store
            .commit(height, &block(height, CRASH_BLOCK_WRITES))
            .unwrap();
        println!("committed {height}");
    }
}

#[test]
fn a_process_killed_while_committing_reopens_at_its_last_complete_block() {
    let (dir, reference_dir) = (tempdir(), tempdir());
    let mut reference = open(reference_dir.path());
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::crash_helper_commits_blocks_until_killed",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut last_printed = None;
        for line in lines.take(10_000) {
            if let Some(height) = line.unwrap().strip_prefix("committed ") {
                last_printed = Some(height.parse::<u64>().unwrap());
                if last_printed.unwrap() % 12 == 11 - round {
                    break; // the child is in the middle of its next commit: kill it there
                }
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let last_printed = last_printed.expect("the child committed at least one block");

        let store = open(dir.path());
        let committed = store.committed();
        assert!(committed.height >= last_printed, "round {round}");
        while reference.committed().height < committed.height {
            let h = reference.committed().height + 1;
            reference.commit(h, &block(h, CRASH_BLOCK_WRITES)).unwrap();
        }
        assert_eq!(committed, reference.committed(), "round {round}");
        assert_eq!(scan_all(&store), scan_all(&reference), "round {round}");
    }
}

#[test]
fn deleting_a_key_changes_the_root_and_its_absence_is_proven() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let mut first = ChangeSet::new();
    set(&mut first, "keep", "1");
    set(&mut first, "drop", "2");
    let with_both = store.commit(1, &first).unwrap();
    assert_proven(&store.snapshot(), b"drop", Some(b"2"));

    let mut second = ChangeSet::new();
    del(&mut second, "drop");
    let after_delete = store.commit(2, &second).unwrap();
    assert_ne!(after_delete, with_both);
    assert_eq!(store.get(b"drop").unwrap(), None);
    assert_proven(&store.snapshot(), b"drop", None);
    assert_proven(&store.snapshot(), b"keep", Some(b"1"));

    // The old value's proof no longer verifies against the new root.
    let (_, proof) = store.get_with_proof(b"drop").unwrap();
    assert!(proof
        .verify(RootHash(after_delete), key_hash(b"drop"), Some(b"2"))
        .is_err());
}

#[test]
fn deleting_every_key_returns_to_the_empty_app_hash() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 30)).unwrap();
    let all_deleted: ChangeSet = scan_all(&store)
        .into_iter()
        .map(|(k, _)| (k, None))
        .collect();
    assert_eq!(store.commit(2, &all_deleted).unwrap(), EMPTY_APP_HASH);
    assert!(scan_all(&store).is_empty());
}

#[test]
fn proofs_of_present_and_absent_keys_verify_against_the_app_hash_and_fail_against_another() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 100)).unwrap();
    let snapshot = store.snapshot();
    let present = scan_all(&store);
    for (k, v) in present.iter().take(20) {
        assert_proven(&snapshot, k, Some(v));
    }
    for absent in [&b"key/99999"[..], b"", b"\xff\xff", b"key/"] {
        assert_proven(&snapshot, absent, None);
    }

    let (key, value) = &present[0];
    let (_, proof) = store.get_with_proof(key).unwrap();
    let other_root = RootHash([9; 32]);
    assert!(proof
        .verify(other_root, key_hash(key), Some(value))
        .is_err());
    assert!(proof
        .verify(
            RootHash(store.committed().app_hash),
            key_hash(key),
            Some(b"forged")
        )
        .is_err());
    assert!(proof
        .verify(
            RootHash(store.committed().app_hash),
            key_hash(key),
            None::<&[u8]>
        )
        .is_err());
}

#[test]
fn a_snapshot_does_not_see_later_commits_and_keeps_proving_its_own_height() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let mut first = ChangeSet::new();
    set(&mut first, "k", "old");
    set(&mut first, "gone", "soon");
    store.commit(1, &first).unwrap();
    let old = store.snapshot();
    let old_scan = scan_all(&old);

    let mut second = ChangeSet::new();
    set(&mut second, "k", "new");
    set(&mut second, "added", "x");
    del(&mut second, "gone");
    store.commit(2, &second).unwrap();

    assert_eq!(old.committed().height, 1);
    assert_eq!(old.get(b"k").unwrap(), Some(b"old".to_vec()));
    assert_eq!(scan_all(&old), old_scan);
    assert_proven(&old, b"gone", Some(b"soon"));
    assert_proven(&old, b"added", None);

    let new = store.snapshot();
    assert_eq!(new.committed(), store.committed());
    assert_eq!(new.get(b"k").unwrap(), Some(b"new".to_vec()));
    assert_proven(&new, b"gone", None);
}

#[test]
fn ten_thousand_keys_commit_reopen_and_every_proof_verifies() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let mut model = BTreeMap::new();
    for h in 1..=4u64 {
        let changes: ChangeSet = (0..2500u64)
            .map(|i| {
                let n = (h - 1) * 2500 + i;
                let key = format!("proof/{:08}", n.wrapping_mul(2_654_435_761) % 100_000_007);
                (key.into_bytes(), Some(vec![(n % 251) as u8; 150]))
            })
            .collect();
        apply_to_model(&mut model, &changes);
        store.commit(h, &changes).unwrap();
    }
    assert_eq!(model.len(), 10_000);
    let store = open_again(store, dir.path());
    let snapshot = store.snapshot();
    let stored = scan_all(&snapshot);
    assert_eq!(stored, model.clone().into_iter().collect::<Vec<_>>());
    for (k, v) in &model {
        assert_proven(&snapshot, k, Some(v));
    }
    for n in 0..1000u32 {
        assert_proven(&snapshot, format!("absent/{n}").as_bytes(), None);
    }
}

#[test]
fn a_second_open_of_the_same_directory_is_a_node_fault() {
    let dir = tempdir();
    let _store = open(dir.path());
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Database(_)), "{err}");
    assert!(err.is_node_fault());
}

#[test]
fn a_store_whose_recorded_app_hash_disagrees_with_its_tree_refuses_to_open() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 10)).unwrap();
    drop(store);
    {
        let db = Database::create(dir.path().join("state.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert(META_APP_HASH, [7u8; 32].as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.is_node_fault());
}

#[test]
fn every_stored_node_key_decodes_and_re_encodes_to_the_same_bytes() {
    let dir = tempdir();
    let mut store = open(dir.path());
    for h in 1..=3 {
        store.commit(h, &block(h, 300)).unwrap();
    }
    drop(store);
    let db = Database::create(dir.path().join("state.redb")).unwrap();
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let nodes = txn.open_table(NODES).unwrap();
    let mut count = 0;
    let mut odd_paths = 0;
    for entry in nodes.range::<&[u8]>(..).unwrap() {
        let (raw, _) = entry.unwrap();
        let key = tree::decode_node_key(raw.value()).unwrap();
        odd_paths += key.nibble_path().num_nibbles() % 2;
        assert_eq!(tree::encode_node_key(&key).unwrap(), raw.value());
        count += 1;
    }
    assert!(count > 300);
    assert!(odd_paths > 0, "odd-length nibble paths are covered");
    assert!(tree::decode_node_key(&[0; 8]).is_err());
    assert!(tree::decode_node_key(&[0, 0, 0, 0, 0, 0, 0, 1, 3, 0xab]).is_err());
}

#[test]
fn the_tree_reader_finds_the_rightmost_leaf_and_reads_no_values() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 50)).unwrap();
    drop(store);
    let db = Database::create(dir.path().join("state.redb")).unwrap();
    let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
    let nodes = txn.open_table(NODES).unwrap();
    let reader = tree::TreeTables { nodes: &nodes };
    let keys: Vec<Vec<u8>> = block(1, 50)
        .into_iter()
        .filter_map(|(k, v)| v.map(|_| k))
        .collect();
    let greatest = keys.iter().map(|k| key_hash(k)).max().unwrap();
    let (_, leaf) = jmt::storage::TreeReader::get_rightmost_leaf(&reader)
        .unwrap()
        .unwrap();
    assert_eq!(leaf.key_hash(), greatest);
    // A tree update never reads a value (leaves hold value hashes): asking is an error, not a
    // silent `None` that would make a key look absent.
    let err = jmt::storage::TreeReader::get_value_option(&reader, 1, greatest).unwrap_err();
    assert!(err.to_string().contains("only for a proof"), "{err}");
}

#[test]
fn store_snapshot_and_overlay_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Store>();
    send_sync::<Snapshot>();
    send_sync::<Overlay>();
    fn send<T: Send>() {}
    send::<KvIter>();
}

// ----------------------------------------------------------------------------------------------
// pruning

/// (tree nodes, leaf nodes, root nodes, stale-index entries) in the store.
fn tree_census(store: &Store) -> (u64, u64, u64, u64) {
    let txn = redb::ReadableDatabase::begin_read(store.db()).unwrap();
    let nodes = txn.open_table(NODES).unwrap();
    let (mut all, mut leaves, mut roots) = (0, 0, 0);
    for entry in nodes.range::<&[u8]>(..).unwrap() {
        let (key, raw) = entry.unwrap();
        all += 1;
        if key.value()[8] == 0 {
            roots += 1;
        }
        let node =
            <jmt::storage::Node as borsh::BorshDeserialize>::try_from_slice(raw.value()).unwrap();
        if matches!(node, jmt::storage::Node::Leaf(_)) {
            leaves += 1;
        }
    }
    let stale = redb::ReadableTableMetadata::len(&txn.open_table(tree::STALE).unwrap()).unwrap();
    (all, leaves, roots, stale)
}

#[test]
fn pruning_keeps_state_app_hashes_and_proofs_and_leaves_only_the_live_tree() {
    let (pruned_dir, full_dir) = (tempdir(), tempdir());
    let mut pruned = open(pruned_dir.path());
    let mut full = open(full_dir.path());
    for h in 1..=30 {
        let changes = if h % 7 == 0 {
            ChangeSet::new()
        } else {
            block(h, 120)
        };
        let a = pruned.commit(h, &changes).unwrap();
        let b = full.commit(h, &changes).unwrap();
        assert_eq!(a, b, "app hash at height {h}");
        pruned.prune(h.saturating_sub(2)).unwrap();
    }
    let live = scan_all(&full);
    assert_eq!(scan_all(&pruned), live);

    let stats = pruned.prune(30).unwrap();
    assert!(stats.nodes > 0, "{stats:?}");
    let (nodes, leaves, roots, stale) = tree_census(&pruned);
    assert_eq!(leaves, live.len() as u64, "one leaf per live key");
    assert_eq!(roots, 1, "only the committed root");
    assert_eq!(stale, 0);
    let (full_nodes, ..) = tree_census(&full);
    assert!(nodes * 2 < full_nodes, "{nodes} nodes left of {full_nodes}");
    assert_eq!(pruned.prune(30).unwrap(), crate::PruneStats::default());

    let mut pruned = open_again(pruned, pruned_dir.path());
    let snapshot = pruned.snapshot();
    for (k, v) in &live {
        assert_proven(&snapshot, k, Some(v));
    }
    assert_proven(&snapshot, b"key/absent", None);
    for h in 31..=35 {
        let changes = block(h, 120);
        assert_eq!(
            pruned.commit(h, &changes).unwrap(),
            full.commit(h, &changes).unwrap()
        );
        pruned.prune(h).unwrap();
    }
    assert_eq!(scan_all(&pruned), scan_all(&full));
}

#[test]
fn a_snapshot_taken_before_pruning_still_proves_its_own_height() {
    let dir = tempdir();
    let mut store = open(dir.path());
    for h in 1..=5 {
        store.commit(h, &block(h, 50)).unwrap();
    }
    let old = store.snapshot();
    let old_pairs = scan_all(&old);
    for h in 6..=10 {
        store.commit(h, &block(h, 50)).unwrap();
    }
    store.prune(10).unwrap();
    for (k, v) in old_pairs.iter().take(30) {
        assert_proven(&old, k, Some(v));
    }
}

#[test]
fn pruning_above_the_committed_height_is_a_typed_error_and_changes_nothing() {
    let dir = tempdir();
    let mut store = open(dir.path());
    store.commit(1, &block(1, 20)).unwrap();
    let before = tree_census(&store);
    let err = store.prune(2).unwrap_err();
    assert!(matches!(
        err,
        StoreError::PruneTooFar {
            committed: 1,
            keep_from: 2
        }
    ));
    assert!(!err.is_node_fault());
    assert_eq!(tree_census(&store), before);
}

// ----------------------------------------------------------------------------------------------
// overlays

fn snapshot_with(dir: &Path, entries: &[(&str, &str)]) -> (Store, Snapshot) {
    let mut store = open(dir);
    let changes = entries
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), Some(v.as_bytes().to_vec())))
        .collect();
    store.commit(1, &changes).unwrap();
    let snapshot = store.snapshot();
    (store, snapshot)
}

fn pairs(entries: &[(&str, &str)]) -> Vec<KvPair> {
    entries
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn an_overlay_merges_pending_writes_and_deletions_with_the_base_in_both_orders() {
    let dir = tempdir();
    let (_store, base) = snapshot_with(dir.path(), &[("a", "1"), ("c", "3"), ("e", "5")]);
    let mut overlay = Overlay::new(Arc::new(base));
    overlay.set(b"b".to_vec(), b"2".to_vec());
    overlay.set(b"c".to_vec(), b"33".to_vec());
    overlay.remove(b"e".to_vec());
    overlay.remove(b"z".to_vec());
    overlay.set(b"f".to_vec(), b"6".to_vec());

    let expected = pairs(&[("a", "1"), ("b", "2"), ("c", "33"), ("f", "6")]);
    assert_eq!(scan_all(&overlay), expected);
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(
        scan(
            &overlay,
            Bound::Unbounded,
            Bound::Unbounded,
            Order::Descending
        ),
        reversed
    );
    assert_eq!(
        scan(
            &overlay,
            Bound::Included(b"b"),
            Bound::Excluded(b"f"),
            Order::Descending
        ),
        pairs(&[("c", "33"), ("b", "2")])
    );
    assert_eq!(overlay.get(b"e").unwrap(), None);
    assert_eq!(overlay.get(b"c").unwrap(), Some(b"33".to_vec()));
    assert_eq!(overlay.get(b"a").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn a_discarded_child_overlay_changes_nothing_in_the_parent_and_an_applied_one_changes_everything() {
    let dir = tempdir();
    let (_store, base) = snapshot_with(dir.path(), &[("a", "1"), ("b", "2")]);
    let mut parent = Overlay::new(Arc::new(base));
    parent.set(b"p".to_vec(), b"parent".to_vec());
    let before = (parent.changes(), scan_all(&parent));

    let mut failed = parent.fork();
    failed.set(b"a".to_vec(), b"changed".to_vec());
    failed.remove(b"b".to_vec());
    failed.remove(b"p".to_vec());
    failed.set(b"new".to_vec(), b"x".to_vec());
    assert_eq!(scan_all(&failed), pairs(&[("a", "changed"), ("new", "x")]));
    drop(failed);
    assert_eq!((parent.changes(), scan_all(&parent)), before);

    let mut succeeded = parent.fork();
    succeeded.set(b"a".to_vec(), b"changed".to_vec());
    succeeded.remove(b"b".to_vec());
    succeeded.remove(b"p".to_vec());
    succeeded.set(b"new".to_vec(), b"x".to_vec());
    let child_view = scan_all(&succeeded);
    parent.apply(succeeded.into_changes());
    assert_eq!(scan_all(&parent), child_view);
    assert_eq!(parent.get(b"p").unwrap(), None);
    let mut expected = ChangeSet::new();
    set(&mut expected, "a", "changed");
    del(&mut expected, "b");
    del(&mut expected, "p");
    set(&mut expected, "new", "x");
    assert_eq!(parent.changes(), expected);
}

#[test]
fn nested_children_read_through_every_ancestor_and_apply_level_by_level() {
    let base: BTreeMap<Vec<u8>, Vec<u8>> = [
        (b"k".to_vec(), b"base".to_vec()),
        (b"x".to_vec(), b"base".to_vec()),
    ]
    .into();
    let mut block_layer = Overlay::new(Arc::new(base));
    block_layer.set(b"k".to_vec(), b"block".to_vec());
    let mut tx = block_layer.fork();
    tx.set(b"t".to_vec(), b"tx".to_vec());
    let mut sub = tx.fork();
    assert_eq!(sub.depth(), 3);
    assert_eq!(sub.get(b"k").unwrap(), Some(b"block".to_vec()));
    assert_eq!(sub.get(b"t").unwrap(), Some(b"tx".to_vec()));
    sub.remove(b"x".to_vec());
    sub.set(b"s".to_vec(), b"sub".to_vec());
    assert_eq!(
        scan_all(&sub),
        pairs(&[("k", "block"), ("s", "sub"), ("t", "tx")])
    );

    tx.apply(sub.into_changes());
    block_layer.apply(tx.into_changes());
    assert_eq!(
        scan_all(&block_layer),
        pairs(&[("k", "block"), ("s", "sub"), ("t", "tx")])
    );
    assert_eq!(block_layer.depth(), 1);
}

#[test]
fn a_scan_sees_the_overlay_as_it_was_when_the_scan_began() {
    let mut overlay = Overlay::new(Arc::new(BTreeMap::<Vec<u8>, Vec<u8>>::new()));
    overlay.set(b"a".to_vec(), b"1".to_vec());
    overlay.set(b"b".to_vec(), b"2".to_vec());
    let mut iter = overlay
        .range(Bound::Unbounded, Bound::Unbounded, Order::Ascending)
        .unwrap();
    assert_eq!(
        iter.next().unwrap().unwrap(),
        (b"a".to_vec(), b"1".to_vec())
    );
    overlay.remove(b"b".to_vec());
    overlay.set(b"c".to_vec(), b"3".to_vec());
    assert_eq!(
        iter.next().unwrap().unwrap(),
        (b"b".to_vec(), b"2".to_vec())
    );
    assert!(iter.next().is_none());
    assert_eq!(scan_all(&overlay), pairs(&[("a", "1"), ("c", "3")]));
}

#[test]
fn bounds_that_admit_no_key_give_an_empty_scan_everywhere() {
    let dir = tempdir();
    let (_store, snapshot) = snapshot_with(dir.path(), &[("a", "1"), ("b", "2"), ("c", "3")]);
    let mut overlay = Overlay::new(Arc::new(snapshot.clone()));
    overlay.set(b"b".to_vec(), b"22".to_vec());
    let model: BTreeMap<Vec<u8>, Vec<u8>> = [(b"b".to_vec(), b"2".to_vec())].into();
    let empty_ranges: [BorrowedRange<'_>; 4] = [
        (Bound::Included(b"c"), Bound::Included(b"a")),
        (Bound::Excluded(b"b"), Bound::Excluded(b"b")),
        (Bound::Included(b"b"), Bound::Excluded(b"b")),
        (Bound::Excluded(b"b"), Bound::Included(b"b")),
    ];
    for (start, end) in empty_ranges {
        for order in [Order::Ascending, Order::Descending] {
            assert!(scan(&snapshot, start, end, order).is_empty());
            assert!(scan(&overlay, start, end, order).is_empty());
            assert!(scan(&model, start, end, order).is_empty());
        }
    }
    assert_eq!(
        scan(
            &overlay,
            Bound::Included(b"b"),
            Bound::Included(b"b"),
            Order::Descending
        ),
        pairs(&[("b", "22")])
    );
}

/// A base whose scans fail after yielding `good` pairs.
struct FailingBase {
    good: usize,
}

impl KvRead for FailingBase {
    fn get(&self, _key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Err(StoreError::Corrupt("test".into()))
    }

    fn range(&self, _: Bound<&[u8]>, _: Bound<&[u8]>, _: Order) -> Result<KvIter, StoreError> {
        let good = (0..self.good).map(|i| Ok((vec![b'b', i as u8], vec![1])));
        let bad = std::iter::repeat_with(|| Err(StoreError::Corrupt("disk".into())));
        Ok(Box::new(good.chain(bad)))
    }
}

#[test]
fn an_overlay_scan_ends_after_the_base_fails() {
    let mut overlay = Overlay::new(Arc::new(FailingBase { good: 2 }));
    overlay.set(b"a".to_vec(), b"pending".to_vec());
    overlay.set(b"z".to_vec(), b"pending".to_vec());
    let items: Vec<_> = overlay
        .range(Bound::Unbounded, Bound::Unbounded, Order::Ascending)
        .unwrap()
        .take(100)
        .collect();
    assert_eq!(items.len(), 4, "a, b0, b1, then one error and nothing more");
    assert!(items[..3].iter().all(Result::is_ok));
    assert!(matches!(items[3], Err(StoreError::Corrupt(_))));
    assert!(overlay.get(b"nope").unwrap_err().is_node_fault());
}

// ----------------------------------------------------------------------------------------------
// property tests: overlays against a BTreeMap model

#[derive(Clone, Debug)]
enum Op {
    Set(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
}

/// Keys from a small alphabet, so that sets, deletions and bounds collide and nest as prefixes.
fn small_key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xff)], 0..4)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (small_key(), prop::collection::vec(any::<u8>(), 0..3)).prop_map(|(k, v)| Op::Set(k, v)),
        small_key().prop_map(Op::Remove),
    ]
}

fn ops(max: usize) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 0..max)
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        small_key().prop_map(Bound::Included),
        small_key().prop_map(Bound::Excluded),
    ]
}

fn ranges() -> impl Strategy<Value = Vec<OwnedRange>> {
    prop::collection::vec((bound(), bound()), 1..8)
}

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn run(overlay: &mut Overlay, model: &mut Model, ops: &[Op]) {
    for op in ops {
        match op {
            Op::Set(k, v) => {
                overlay.set(k.clone(), v.clone());
                model.insert(k.clone(), v.clone());
            }
            Op::Remove(k) => {
                overlay.remove(k.clone());
                model.remove(k);
            }
        }
    }
}

fn model_range(
    model: &Model,
    start: &Bound<Vec<u8>>,
    end: &Bound<Vec<u8>>,
    order: Order,
) -> Vec<KvPair> {
    let after_start = |k: &Vec<u8>| match start {
        Bound::Included(s) => k >= s,
        Bound::Excluded(s) => k > s,
        Bound::Unbounded => true,
    };
    let before_end = |k: &Vec<u8>| match end {
        Bound::Included(e) => k <= e,
        Bound::Excluded(e) => k < e,
        Bound::Unbounded => true,
    };
    let mut out: Vec<KvPair> = model
        .iter()
        .filter(|(k, _)| after_start(k) && before_end(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if order == Order::Descending {
        out.reverse();
    }
    out
}

fn check_view(
    view: &impl KvRead,
    model: &Model,
    ranges: &[OwnedRange],
) -> Result<(), TestCaseError> {
    for (start, end) in ranges {
        for order in [Order::Ascending, Order::Descending] {
            let got = scan(
                view,
                start.as_ref().map(Vec::as_slice),
                end.as_ref().map(Vec::as_slice),
                order,
            );
            prop_assert_eq!(
                got,
                model_range(model, start, end, order),
                "range {:?}..{:?} {:?}",
                start,
                end,
                order
            );
        }
    }
    prop_assert_eq!(
        scan_all(view),
        model_range(
            model,
            &Bound::Unbounded,
            &Bound::Unbounded,
            Order::Ascending
        )
    );
    Ok(())
}

fn check_gets(view: &impl KvRead, model: &Model, probes: &[Vec<u8>]) -> Result<(), TestCaseError> {
    for k in probes.iter().chain(model.keys()) {
        prop_assert_eq!(view.get(k).unwrap(), model.get(k).cloned(), "get {:?}", k);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A committed snapshot as the base, a block overlay, a child that is applied or dropped;
    /// then the block is committed and compared with a store that got the final state at once.
    #[test]
    fn overlay_range_scans_over_a_committed_snapshot_match_a_btreemap_model(
        base_ops in ops(24),
        parent_ops in ops(16),
        child_ops in ops(16),
        apply_child in any::<bool>(),
        ranges in ranges(),
        probes in prop::collection::vec(small_key(), 0..8),
    ) {
        let dir = tempdir();
        let mut store = open(dir.path());
        let mut base_changes = ChangeSet::new();
        let mut parent_model = Model::new();
        for op in &base_ops {
            match op {
                Op::Set(k, v) => base_changes.insert(k.clone(), Some(v.clone())),
                Op::Remove(k) => base_changes.insert(k.clone(), None),
            };
        }
        apply_to_model(&mut parent_model, &base_changes);
        store.commit(1, &base_changes).unwrap();

        let mut parent = Overlay::new(Arc::new(store.snapshot()));
        run(&mut parent, &mut parent_model, &parent_ops);
        let mut child = parent.fork();
        let mut child_model = parent_model.clone();
        run(&mut child, &mut child_model, &child_ops);

        check_view(&child, &child_model, &ranges)?;
        check_gets(&child, &child_model, &probes)?;
        check_view(&parent, &parent_model, &ranges)?;

        if apply_child {
            parent.apply(child.into_changes());
            parent_model = child_model;
        } else {
            drop(child);
        }
        check_view(&parent, &parent_model, &ranges)?;
        check_gets(&parent, &parent_model, &probes)?;

        let root = store.commit(2, &parent.changes()).unwrap();
        check_view(&store, &parent_model, &ranges)?;

        let fresh_dir = tempdir();
        let mut fresh = open(fresh_dir.path());
        let at_once: ChangeSet = parent_model.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        prop_assert_eq!(fresh.commit(1, &at_once).unwrap(), root);
    }

    /// Three layers (block, transaction, sub-message) over an in-memory base, each applied or
    /// dropped at random, checked at every level.
    #[test]
    fn layered_overlay_range_scans_match_a_btreemap_model(
        base_ops in ops(24),
        layer_ops in prop::collection::vec(ops(12), 3),
        apply in prop::collection::vec(any::<bool>(), 2),
        ranges in ranges(),
        probes in prop::collection::vec(small_key(), 0..8),
    ) {
        let mut base = Model::new();
        for op in &base_ops {
            match op {
                Op::Set(k, v) => { base.insert(k.clone(), v.clone()); }
                Op::Remove(k) => { base.remove(k); }
            }
        }
        let mut block_model = base.clone();
        let mut block_layer = Overlay::new(Arc::new(base));
        run(&mut block_layer, &mut block_model, &layer_ops[0]);
        let mut tx = block_layer.fork();
        let mut tx_model = block_model.clone();
        run(&mut tx, &mut tx_model, &layer_ops[1]);
        let mut sub = tx.fork();
        let mut sub_model = tx_model.clone();
        run(&mut sub, &mut sub_model, &layer_ops[2]);

        check_view(&sub, &sub_model, &ranges)?;
        check_gets(&sub, &sub_model, &probes)?;
        check_view(&tx, &tx_model, &ranges)?;
        check_view(&block_layer, &block_model, &ranges)?;

        if apply[0] {
            tx.apply(sub.into_changes());
            tx_model = sub_model;
        }
        check_view(&tx, &tx_model, &ranges)?;
        if apply[1] {
            block_layer.apply(tx.into_changes());
            block_model = tx_model;
        }
        check_view(&block_layer, &block_model, &ranges)?;
        check_gets(&block_layer, &block_model, &probes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random blocks (sets, deletions, empty blocks) committed to a store that prunes after every
    /// block and to one that never prunes: same app hash at every height, same state, and after a
    /// full prune exactly one leaf and one value per live key.
    #[test]
    fn a_pruning_store_agrees_with_a_full_one_on_every_app_hash(
        blocks in prop::collection::vec((ops(12), 0u64..4), 1..12),
    ) {
        let (pruned_dir, full_dir) = (tempdir(), tempdir());
        let mut pruned = open(pruned_dir.path());
        let mut full = open(full_dir.path());
        for (i, (block_ops, keep_recent)) in blocks.iter().enumerate() {
            let height = i as u64 + 1;
            let mut changes = ChangeSet::new();
            for op in block_ops {
                match op {
                    Op::Set(k, v) => changes.insert(k.clone(), Some(v.clone())),
                    Op::Remove(k) => changes.insert(k.clone(), None),
                };
            }
            prop_assert_eq!(pruned.commit(height, &changes).unwrap(), full.commit(height, &changes).unwrap());
            pruned.prune(height.saturating_sub(*keep_recent)).unwrap();
        }
        let live = scan_all(&full);
        prop_assert_eq!(&scan_all(&pruned), &live);
        let height = pruned.committed().height;
        pruned.prune(height).unwrap();
        let (_, leaves, roots, stale) = tree_census(&pruned);
        prop_assert_eq!(leaves, live.len() as u64);
        prop_assert_eq!(roots, 1);
        prop_assert_eq!(stale, 0);
        let snapshot = pruned.snapshot();
        for (k, v) in &live {
            assert_proven(&snapshot, k, Some(v));
        }
    }
}

#[test]
fn store_errors_say_whose_fault_they_are() {
    let wrong = StoreError::WrongHeight {
        committed: 4,
        requested: 9,
    };
    assert!(!wrong.is_node_fault());
    assert_eq!(
        wrong.to_string(),
        "cannot commit height 9: the store is at height 4, so the next height is 4+1"
    );
    assert!(StoreError::Corrupt("x".into()).is_node_fault());
    assert!(StoreError::Tree("x".into()).is_node_fault());
    let io = StoreError::Io {
        path: "/nowhere".into(),
        source: std::io::Error::other("denied"),
    };
    assert!(io.is_node_fault());
    let tree_wrapped =
        StoreError::from_tree(anyhow::Error::new(StoreError::Corrupt("inner".into())));
    assert!(matches!(tree_wrapped, StoreError::Corrupt(m) if m == "inner"));
}

#[test]
fn a_previewed_root_is_the_committed_root_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut changes = ChangeSet::new();
    changes.insert(b"a".to_vec(), Some(b"1".to_vec()));
    changes.insert(b"b".to_vec(), Some(b"2".to_vec()));
    let preview = store.preview_root(1, &changes).unwrap();
    assert_eq!(store.committed().height, 0);
    assert_eq!(store.get(b"a").unwrap(), None);
    assert!(matches!(
        store.preview_root(2, &changes),
        Err(StoreError::WrongHeight { .. })
    ));
    assert_eq!(store.commit(1, &changes).unwrap(), preview);
}

#[test]
fn a_commit_of_other_changes_than_previewed_computes_its_own_tree() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut previewed = ChangeSet::new();
    previewed.insert(b"a".to_vec(), Some(b"1".to_vec()));
    let mut committed = ChangeSet::new();
    committed.insert(b"b".to_vec(), Some(b"2".to_vec()));
    store.preview_root(1, &previewed).unwrap();
    let root = store.commit(1, &committed).unwrap();

    let other = tempfile::tempdir().unwrap();
    let mut fresh = Store::open(other.path()).unwrap();
    assert_eq!(fresh.commit(1, &committed).unwrap(), root);
    assert_eq!(store.get(b"a").unwrap(), None);
    assert_eq!(store.get(b"b").unwrap(), Some(b"2".to_vec()));
}

// ----------------------------------------------------------------------------------------------
// space

#[test]
fn each_value_and_each_key_is_stored_once() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let (keys, value_len) = (2_000u64, 1_024usize);
    let mut changes = ChangeSet::new();
    for i in 0..keys {
        changes.insert(
            format!("record/{i:08}").into_bytes(),
            Some(vec![(i % 251) as u8; value_len]),
        );
    }
    store.commit(1, &changes).unwrap();
    let stats = store.stats().unwrap();
    let stored: u64 = stats.tables.iter().map(|t| t.stored_bytes).sum();
    let values = keys * value_len as u64;
    // The values once, plus the keys and the tree (a leaf of about 100 bytes a key and the
    // internal nodes above them): well under twice the values.
    assert!(
        stored < values * 3 / 2,
        "{stored} bytes stored for {values} bytes of values: {:?}",
        stats.tables
    );
    for k in [0, 999, 1_999] {
        let key = format!("record/{k:08}").into_bytes();
        assert_proven(
            &store.snapshot(),
            &key,
            Some(&vec![(k % 251) as u8; value_len]),
        );
    }
}

#[test]
fn pruning_in_the_background_leaves_what_pruning_in_place_leaves() {
    let (background_dir, in_place_dir) = (tempdir(), tempdir());
    let mut background = open(background_dir.path());
    let mut in_place = open(in_place_dir.path());
    for h in 1..=25 {
        let changes = block(h, 150);
        assert_eq!(
            background.commit(h, &changes).unwrap(),
            in_place.commit(h, &changes).unwrap(),
            "app hash at height {h}"
        );
        // A snapshot taken while the pruning runs still proves its own height.
        background.prune_in_background(h.saturating_sub(3)).unwrap();
        let snapshot = background.snapshot();
        for (k, v) in scan_all(&snapshot).iter().take(5) {
            assert_proven(&snapshot, k, Some(v));
        }
        in_place.prune(h.saturating_sub(3)).unwrap();
    }
    // The next prune waits for the one running, so the census is taken after both.
    background.prune(22).unwrap();
    in_place.prune(22).unwrap();
    assert_eq!(tree_census(&background), tree_census(&in_place));
    assert_eq!(scan_all(&background), scan_all(&in_place));

    let err = background.prune_in_background(26).unwrap_err();
    assert!(matches!(
        err,
        StoreError::PruneTooFar {
            committed: 25,
            keep_from: 26
        }
    ));
    // Dropping the store waits for its pruning: the file can be opened again at once.
    background.prune_in_background(25).unwrap();
    let committed = background.committed();
    drop(background);
    assert_eq!(open(background_dir.path()).committed(), committed);
}
