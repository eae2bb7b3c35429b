//! The redb tables, their key layouts, and the Jellyfish Merkle tree's storage backend
//! (`TreeReader` and the writer of a `TreeUpdateBatch`).
//!
//! Tables (all `&[u8] -> &[u8]` except `meta`):
//!
//! | table | key | value |
//! |---|---|---|
//! | `state` | raw key | raw value (latest committed state; serves reads, range scans and the values of proofs) |
//! | `jmt_nodes` | `version (u64 BE) · nibble count (u8) · packed nibbles` | borsh `jmt::storage::Node` |
//! | `jmt_stale` | `stale since version (u64 BE) · node key as in jmt_nodes` | empty |
//! | `meta` | `"format"`, `"height"`, `"app_hash"` | u32 BE, u64 BE, 32 bytes |
//!
//! Each value is stored once, in `state`: a leaf of the tree holds the hash of its value, and a
//! proof at a height reads the value from `state` as that height's snapshot sees it (the node
//! serves proofs only at committed heights it holds a snapshot of). Node keys start with the
//! version, so each block's new nodes are appended at the end of the table; the pruner walks
//! `jmt_stale` in version order.

use borsh::BorshDeserialize;
use jmt::storage::{LeafNode, NibblePath, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};
use redb::{ReadableTable, Table, TableDefinition};

use crate::StoreError;

/// A byte-keyed, byte-valued redb table.
pub(crate) type Bytes = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// Raw state: key -> value, ordered.
pub(crate) const STATE: Bytes = TableDefinition::new("state");
/// Tree nodes by node key.
pub(crate) const NODES: Bytes = TableDefinition::new("jmt_nodes");
/// Nodes made stale (replaced) by a version, for the pruner.
pub(crate) const STALE: Bytes = TableDefinition::new("jmt_stale");
/// Format version, committed height and app hash.
pub(crate) const META: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("meta");

pub(crate) const META_FORMAT: &str = "format";
pub(crate) const META_HEIGHT: &str = "height";
pub(crate) const META_APP_HASH: &str = "app_hash";
/// The on-disk layout described above (format 1 also kept every version of every value, and
/// key preimages, in tables of their own).
pub(crate) const FORMAT: u32 = 2;

/// Encodes a node key as `version BE · nibble count · packed nibbles`.
///
/// jmt keeps `NibblePath`'s fields private and exposes it through borsh, whose layout is
/// `num_nibbles (u64 LE) · byte count (u32 LE) · bytes`; we keep the count in one byte and drop the
/// redundant byte count.
pub(crate) fn encode_node_key(key: &NodeKey) -> Result<Vec<u8>, StoreError> {
    let path = borsh::to_vec(key.nibble_path())
        .map_err(|e| StoreError::corrupt(format!("cannot encode nibble path: {e}")))?;
    let (count, rest) = path
        .split_first_chunk::<8>()
        .ok_or_else(|| StoreError::corrupt("nibble path encoding too short"))?;
    let bytes = rest
        .get(4..)
        .ok_or_else(|| StoreError::corrupt("nibble path encoding too short"))?;
    let count = u8::try_from(u64::from_le_bytes(*count))
        .map_err(|_| StoreError::corrupt("nibble path longer than 255 nibbles"))?;
    let mut out = Vec::with_capacity(9 + bytes.len());
    out.extend_from_slice(&key.version().to_be_bytes());
    out.push(count);
    out.extend_from_slice(bytes);
    Ok(out)
}

/// Inverse of [`encode_node_key`].
pub(crate) fn decode_node_key(raw: &[u8]) -> Result<NodeKey, StoreError> {
    let bad = || StoreError::corrupt(format!("undecodable tree node key {}", Hex(raw)));
    let (version, rest) = raw.split_first_chunk::<8>().ok_or_else(bad)?;
    let (&count, bytes) = rest.split_first().ok_or_else(bad)?;
    if bytes.len() != usize::from(count).div_ceil(2) {
        return Err(bad());
    }
    let byte_count = u32::try_from(bytes.len()).map_err(|_| bad())?;
    let mut borsh_path = Vec::with_capacity(12 + bytes.len());
    borsh_path.extend_from_slice(&u64::from(count).to_le_bytes());
    borsh_path.extend_from_slice(&byte_count.to_le_bytes());
    borsh_path.extend_from_slice(bytes);
    let path = NibblePath::try_from_slice(&borsh_path).map_err(|_| bad())?;
    Ok(NodeKey::new(u64::from_be_bytes(*version), path))
}

fn encode_node(node: &Node) -> Result<Vec<u8>, StoreError> {
    borsh::to_vec(node).map_err(|e| StoreError::corrupt(format!("cannot encode tree node: {e}")))
}

fn decode_node(raw: &[u8]) -> Result<Node, StoreError> {
    Node::try_from_slice(raw)
        .map_err(|e| StoreError::corrupt(format!("undecodable tree node: {e}")))
}

/// The tree's view of its node table, inside a read or a write transaction: what a tree update
/// reads. Values are not read by an update (leaves hold value hashes); asking for one is an error.
pub(crate) struct TreeTables<'a, T> {
    pub(crate) nodes: &'a T,
}

impl<T> TreeTables<'_, T>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    fn node(&self, node_key: &NodeKey) -> Result<Option<Node>, StoreError> {
        let key = encode_node_key(node_key)?;
        let found = self.nodes.get(key.as_slice())?;
        found.map(|raw| decode_node(raw.value())).transpose()
    }
}

impl<T> TreeReader for TreeTables<'_, T>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.node(node_key)?)
    }

    fn get_value_option(
        &self,
        _max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Err(StoreError::Tree(format!(
            "the value of key hash {} was asked of the node table; values are read only for a proof",
            Hex(&key_hash.0)
        ))
        .into())
    }

    /// Used only by jmt's state-sync restore: a full scan of the node table for the leaf with the
    /// greatest key hash, as jmt's own mock store does.
    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        let mut best: Option<(NodeKey, LeafNode)> = None;
        for entry in self.nodes.range::<&[u8]>(..).map_err(StoreError::from)? {
            let (key, raw) = entry.map_err(StoreError::from)?;
            if let Node::Leaf(leaf) = decode_node(raw.value())? {
                let better = match &best {
                    Some((_, current)) => leaf.key_hash() > current.key_hash(),
                    None => true,
                };
                if better {
                    best = Some((decode_node_key(key.value())?, leaf));
                }
            }
        }
        Ok(best)
    }
}

/// The tree's view for a proof of one key at the height of a snapshot: its nodes, and the key's
/// value from the state table of the same snapshot.
pub(crate) struct ProofTables<'a, T> {
    pub(crate) tree: TreeTables<'a, T>,
    pub(crate) state: &'a T,
    /// The key proven, and its hash.
    pub(crate) key: &'a [u8],
    pub(crate) key_hash: KeyHash,
}

impl<T> TreeReader for ProofTables<'_, T>
where
    T: ReadableTable<&'static [u8], &'static [u8]>,
{
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.tree.node(node_key)?)
    }

    /// jmt reads the value of the proven key only, at the snapshot's own height (the leaf it
    /// found names it), which is what the snapshot's state table holds.
    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        if key_hash != self.key_hash {
            return self.tree.get_value_option(max_version, key_hash);
        }
        let found = self.state.get(self.key).map_err(StoreError::from)?;
        Ok(found.map(|raw| raw.value().to_vec()))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.tree.get_rightmost_leaf()
    }
}

/// Counts of what one block wrote to the tree, for the commit's trace event.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BatchStats {
    pub(crate) nodes: usize,
    pub(crate) stale: usize,
}

type BytesTable<'txn> = Table<'txn, &'static [u8], &'static [u8]>;

/// Writes the tree update batch of `version` (new nodes and the stale-node index; the values are
/// in the state table) into the tables of the block's write transaction.
///
/// Besides the nodes jmt reports stale, the previous version's root is recorded as stale since
/// `version`: every version writes its own root node (jmt copies the root when a block changes
/// nothing, without reporting the old one stale), so the old root is needed by the old version
/// only.
pub(crate) fn write_batch(
    nodes: &mut BytesTable<'_>,
    stale: &mut BytesTable<'_>,
    version: Version,
    batch: &TreeUpdateBatch,
) -> Result<BatchStats, StoreError> {
    for (key, node) in batch.node_batch.nodes() {
        let key = encode_node_key(key)?;
        let node = encode_node(node)?;
        nodes.insert(key.as_slice(), node.as_slice())?;
    }
    for index in &batch.stale_node_index_batch {
        let mut key = index.stale_since_version.to_be_bytes().to_vec();
        key.extend_from_slice(&encode_node_key(&index.node_key)?);
        stale.insert(key.as_slice(), [].as_slice())?;
    }
    if let Some(previous) = version.checked_sub(1) {
        let mut key = version.to_be_bytes().to_vec();
        key.extend_from_slice(&previous.to_be_bytes());
        key.push(0); // the root: an empty nibble path
        stale.insert(key.as_slice(), [].as_slice())?;
    }
    Ok(BatchStats {
        nodes: batch.node_batch.nodes().len(),
        stale: batch.stale_node_index_batch.len(),
    })
}

/// What [`crate::Store::prune`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Tree nodes deleted.
    pub nodes: u64,
}

/// How many stale-index entries one pass of [`prune`] reads before deleting them.
const PRUNE_CHUNK: usize = 4096;

/// Deletes every node recorded stale since a version `<= keep_from` (no version `>= keep_from`
/// reaches it) and its stale-index entry.
pub(crate) fn prune(
    nodes: &mut BytesTable<'_>,
    stale: &mut BytesTable<'_>,
    keep_from: Version,
) -> Result<PruneStats, StoreError> {
    let end = keep_from.checked_add(1).map(u64::to_be_bytes);
    let mut stats = PruneStats::default();
    loop {
        let chunk = {
            let due = match &end {
                Some(end) => stale.range::<&[u8]>(..end.as_slice())?,
                None => stale.range::<&[u8]>(..)?,
            };
            due.take(PRUNE_CHUNK)
                .map(|entry| entry.map(|(k, _)| k.value().to_vec()))
                .collect::<Result<Vec<_>, _>>()?
        };
        if chunk.is_empty() {
            return Ok(stats);
        }
        for index in &chunk {
            let node_key = index
                .get(8..)
                .ok_or_else(|| StoreError::corrupt("stale-node index entry too short"))?;
            if nodes.remove(node_key)?.is_some() {
                stats.nodes += 1;
            }
            stale.remove(index.as_slice())?;
        }
    }
}

/// Lower-case hex for logs and messages.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl std::fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
