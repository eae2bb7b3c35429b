//! RFC 6962 (RFC 9162 §2.1) Merkle trees: plain for usage batches, summed for period roll-ups.
//!
//! Leaves hash as `SHA-256(0x00 || data)` and nodes as `SHA-256(0x01 || left || right)`, so a leaf
//! can never pass for a node. A tree of `n` leaves splits at the largest power of two below `n`.
//! The same shape is built incrementally by a [`Frontier`] (the "compact range" of perfect subtree
//! peaks, `O(log n)` nodes), which is how C1 keeps a running period accumulator without ever
//! iterating over stored proofs.
//!
//! In the sum tree every node carries the [`Totals`] of the leaves below it, and a node's hash also
//! covers both children's totals, so the root hash commits to the period's totals.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::HexBinary;
use sha2::{Digest, Sha256};

use crate::codec::Encoder;
use crate::record::Totals;

pub type Hash = [u8; 32];

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// Hash of a leaf carrying `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// Hash of an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// A value a Merkle tree is built of.
pub trait MerkleNode: Clone + PartialEq {
    /// The parent of two adjacent subtrees; `None` if it cannot be formed (a sum overflowed).
    fn combine(left: &Self, right: &Self) -> Option<Self>;
    /// The root of a tree with no leaves.
    fn empty() -> Self;
}

impl MerkleNode for Hash {
    fn combine(left: &Self, right: &Self) -> Option<Self> {
        Some(node_hash(left, right))
    }

    fn empty() -> Self {
        sha256(&[])
    }
}

/// A node of the Merkle sum tree.
#[cw_serde]
#[derive(Eq)]
pub struct SumNode {
    pub hash: HexBinary,
    pub totals: Totals,
}

impl SumNode {
    /// The leaf of one first proof: its record bytes and its totals.
    pub fn leaf(record_bytes: &[u8], totals: Totals) -> Self {
        SumNode::of_leaf_hash(&leaf_hash(record_bytes), totals)
    }

    /// The leaf of one first proof whose record's [`leaf_hash`] is already known (the batch's
    /// Merkle tree has the same leaves).
    pub fn of_leaf_hash(hash: &Hash, totals: Totals) -> Self {
        SumNode {
            hash: HexBinary::from(hash.as_slice()),
            totals,
        }
    }
}

impl MerkleNode for SumNode {
    fn combine(left: &Self, right: &Self) -> Option<Self> {
        let totals = left.totals.checked_add(&right.totals)?;
        let mut e = Encoder::with_capacity(1 + 2 * (32 + 168));
        e.u8(NODE_PREFIX).fixed(left.hash.as_slice());
        left.totals.encode(&mut e);
        e.fixed(right.hash.as_slice());
        right.totals.encode(&mut e);
        Some(SumNode {
            hash: HexBinary::from(sha256(&e.finish())),
            totals,
        })
    }

    fn empty() -> Self {
        SumNode {
            hash: HexBinary::from(sha256(&[])),
            totals: Totals::default(),
        }
    }
}

/// One perfect subtree of a [`Frontier`].
#[cw_serde]
#[derive(Eq)]
pub struct Peak<N> {
    /// Height of the subtree: it holds `2^height` leaves.
    pub height: u32,
    pub node: N,
}

/// Append-only Merkle accumulator holding the peaks of the perfect subtrees (largest first).
#[cw_serde]
#[derive(Eq)]
pub struct Frontier<N> {
    /// Leaves appended so far.
    pub size: u64,
    pub peaks: Vec<Peak<N>>,
}

impl<N> Default for Frontier<N> {
    fn default() -> Self {
        Frontier {
            size: 0,
            peaks: Vec::new(),
        }
    }
}

impl<N: MerkleNode> Frontier<N> {
    /// Appends a leaf; `None` if a combination overflowed (the frontier is then left unchanged).
    pub fn append(&self, leaf: N) -> Option<Self> {
        let mut next = self.clone();
        next.push(leaf)?;
        Some(next)
    }

    /// Appends a leaf in place: the trailing peaks of heights 0, 1, 2, … merge with it into one.
    /// `None` if a combination overflowed, and the frontier is then left unchanged.
    pub fn push(&mut self, leaf: N) -> Option<()> {
        let size = self.size.checked_add(1)?;
        let mut carry = leaf;
        let mut height = 0;
        for peak in self.peaks.iter().rev() {
            if peak.height != height {
                break;
            }
            carry = N::combine(&peak.node, &carry)?;
            height += 1;
        }
        let merged = usize::try_from(height).ok()?;
        self.peaks.truncate(self.peaks.len() - merged);
        self.peaks.push(Peak {
            height,
            node: carry,
        });
        self.size = size;
        Some(())
    }

    /// Root of the tree of all appended leaves (the same as [`root`] over them).
    pub fn root(&self) -> Option<N> {
        let mut iter = self.peaks.iter().rev();
        let Some(last) = iter.next() else {
            return Some(N::empty());
        };
        let mut acc = last.node.clone();
        for peak in iter {
            acc = N::combine(&peak.node, &acc)?;
        }
        Some(acc)
    }
}

/// Root of the tree over `leaves`.
pub fn root<N: MerkleNode>(leaves: &[N]) -> Option<N> {
    let mut f = Frontier::default();
    for leaf in leaves {
        f.push(leaf.clone())?;
    }
    f.root()
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// Audit path of leaf `index` (RFC 9162 §2.1.3.1), nearest sibling first; `None` if out of range.
pub fn inclusion_path<N: MerkleNode>(leaves: &[N], index: usize) -> Option<Vec<N>> {
    if index >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    let mut stack = vec![];
    let (mut lo, mut hi, mut i) = (0usize, leaves.len(), index);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if i < k {
            stack.push(root(&leaves[lo + k..hi])?);
            hi = lo + k;
        } else {
            stack.push(root(&leaves[lo..lo + k])?);
            lo += k;
            i -= k;
        }
    }
    while let Some(n) = stack.pop() {
        path.push(n);
    }
    Some(path)
}

/// Checks an audit path (RFC 9162 §2.1.3.2).
pub fn verify_inclusion<N: MerkleNode>(
    index: u64,
    size: u64,
    leaf: &N,
    path: &[N],
    root: &N,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf.clone();
    for p in path {
        if s == 0 {
            return false;
        }
        let combined = if f & 1 == 1 || f == s {
            let c = N::combine(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
            c
        } else {
            N::combine(&r, p)
        };
        let Some(c) = combined else {
            return false;
        };
        r = c;
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &r == root
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Metrics;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    /// The recursive definition of RFC 6962, as a reference for the incremental one.
    fn reference_root(l: &[Hash]) -> Hash {
        match l.len() {
            0 => sha256(&[]),
            1 => l[0],
            n => {
                let k = split_point(n);
                node_hash(&reference_root(&l[..k]), &reference_root(&l[k..]))
            }
        }
    }

    #[test]
    fn rfc6962_empty_and_single_leaf_roots() {
        assert_eq!(
            hex::encode(root::<Hash>(&[]).unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // RFC 6962 test vector: the leaf hash of the empty string.
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn a_leaf_cannot_pose_as_a_node() {
        let l = leaves(2);
        let mut joined = l[0].to_vec();
        joined.extend_from_slice(&l[1]);
        assert_ne!(leaf_hash(&joined), node_hash(&l[0], &l[1]));
    }

    proptest! {
        #[test]
        fn the_frontier_root_matches_the_recursive_definition(n in 0usize..70) {
            let l = leaves(n);
            prop_assert_eq!(root(&l).unwrap(), reference_root(&l));
        }

        #[test]
        fn every_leaf_has_a_verifying_path_and_a_changed_leaf_fails(n in 1usize..70, pick in 0usize..70) {
            let l = leaves(n);
            let i = pick % n;
            let r = root(&l).unwrap();
            let path = inclusion_path(&l, i).unwrap();
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &path, &r));
            prop_assert!(!verify_inclusion(i as u64, n as u64, &leaf_hash(b"other"), &path, &r));
            if n > 1 {
                prop_assert!(!verify_inclusion(((i + 1) % n) as u64, n as u64, &l[i], &path, &r));
            }
        }
    }

    #[test]
    fn a_push_that_overflows_leaves_the_frontier_as_it_was() {
        let big = |b: u128| Totals {
            records: 1,
            net_rx_bytes: b,
            ..Default::default()
        };
        let mut f = Frontier::default();
        f.push(SumNode::of_leaf_hash(&leaf_hash(b"a"), big(u128::MAX - 1)))
            .unwrap();
        f.push(SumNode::of_leaf_hash(&leaf_hash(b"b"), big(1)))
            .unwrap();
        f.push(SumNode::of_leaf_hash(&leaf_hash(b"c"), big(0)))
            .unwrap();
        let before = f.clone();
        // The fourth leaf merges with the third, then with the first two's node: that sum
        // overflows, after the first merge succeeded.
        assert_eq!(
            f.push(SumNode::of_leaf_hash(&leaf_hash(b"d"), big(1))),
            None
        );
        assert_eq!(f, before);
        assert_eq!(f.size, 3);
        // A leaf hashed from its bytes and one given its leaf hash are the same node.
        assert_eq!(
            SumNode::leaf(b"a", big(7)),
            SumNode::of_leaf_hash(&leaf_hash(b"a"), big(7))
        );
    }

    #[test]
    fn sum_tree_root_commits_to_the_totals_and_paths_check_them() {
        let metrics = |b: u64| Metrics {
            net_rx_bytes: b,
            ..Default::default()
        };
        let nodes: Vec<SumNode> = (0..5u64)
            .map(|i| SumNode::leaf(&i.to_be_bytes(), Totals::of(&metrics(i * 10))))
            .collect();
        let r = root(&nodes).unwrap();
        assert_eq!(r.totals.records, 5);
        assert_eq!(r.totals.net_rx_bytes, 100);

        let path = inclusion_path(&nodes, 3).unwrap();
        assert!(verify_inclusion(3, 5, &nodes[3], &path, &r));
        // The same leaf hash claiming other totals does not verify.
        let mut forged = nodes[3].clone();
        forged.totals.net_rx_bytes += 1;
        assert!(!verify_inclusion(3, 5, &forged, &path, &r));
    }
}
