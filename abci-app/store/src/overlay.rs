//! [`Overlay`]: pending writes over a read-only base, with child layers for transactions and
//! sub-messages.

use std::cmp::Ordering;
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use imbl::OrdMap;

use crate::{
    admits_keys, empty_iter, stop_after_error, ChangeSet, KvIter, KvPair, KvRead, Order, StoreError,
};

/// An in-memory write layer over a read-only base (normally an `Arc` of the block's
/// [`crate::Snapshot`]).
///
/// * [`set`](Overlay::set) / [`remove`](Overlay::remove) record pending writes; nothing reaches
///   the base.
/// * [`KvRead::get`] and [`KvRead::range`] see the pending writes (including deletions) merged
///   with the base in key order, both directions.
/// * [`fork`](Overlay::fork) gives a child layer that reads through this one; the child's writes
///   reach the parent only through `parent.apply(child.into_changes())`. Dropping the child
///   discards them. This is how a transaction, and each sub-message inside it, runs on its own
///   view that is applied only on success.
/// * [`changes`](Overlay::changes) is this layer's own pending writes: for the block's root
///   overlay, exactly the [`ChangeSet`] to hand to [`crate::Store::commit`].
///
/// Layers are persistent ordered maps (`imbl::OrdMap`): a snapshot of a layer is O(1) and a write
/// after it copies only the O(log n) path it changes, never the layer. So `fork` is O(depth), a
/// range iterator keeps a frozen view of every layer for its whole life, and a scan followed by a
/// write costs the same as the write alone (a plain map shared with a live iterator would be
/// deep-copied by every such write, a cost quadratic in the layer's size that gas does not see).
/// A parent should not be written while a child is alive: the child keeps reading the parent as it
/// was at `fork`. Range iterators likewise see the overlay as it was when the scan was created.
pub struct Overlay {
    base: Arc<dyn KvRead + Send + Sync>,
    /// The ancestors' layers, oldest first (frozen views of them as of `fork`).
    parents: Vec<Layer>,
    /// This layer's own writes.
    writes: Layer,
}

/// One layer's pending writes, `None` meaning deletion.
type Layer = OrdMap<Vec<u8>, Option<Vec<u8>>>;

impl fmt::Debug for Overlay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overlay")
            .field("depth", &self.parents.len())
            .field("pending_writes", &self.writes.len())
            .finish()
    }
}

impl Overlay {
    /// An overlay with no pending writes over `base`.
    pub fn new(base: Arc<dyn KvRead + Send + Sync>) -> Overlay {
        Overlay {
            base,
            parents: Vec::new(),
            writes: Layer::new(),
        }
    }

    /// Records `key = value`.
    pub fn set(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), Some(value.into()));
    }

    /// Records the deletion of `key` (recorded even if the key does not exist; committing it is
    /// harmless).
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.writes.insert(key.into(), None);
    }

    /// A child layer reading through this one (its pending writes included) with no writes of its
    /// own. Apply it with `self.apply(child.into_changes())`, or drop it to discard its writes.
    pub fn fork(&self) -> Overlay {
        let mut parents = Vec::with_capacity(self.parents.len() + 1);
        parents.extend(self.parents.iter().cloned());
        parents.push(self.writes.clone());
        Overlay {
            base: Arc::clone(&self.base),
            parents,
            writes: Layer::new(),
        }
    }

    /// A copy of this layer's own pending writes (not its parents'), `None` meaning deletion.
    pub fn changes(&self) -> ChangeSet {
        self.writes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// How many writes this layer holds.
    pub fn pending_writes(&self) -> usize {
        self.writes.len()
    }

    /// Consumes the layer and returns its own pending writes, to [`apply`](Overlay::apply) to the
    /// parent it was forked from (or to commit, for a root overlay).
    pub fn into_changes(self) -> ChangeSet {
        self.writes.into_iter().collect()
    }

    /// Records every write of `changes` in this layer, later writes replacing earlier ones for the
    /// same key. Used to take a successful child's writes.
    pub fn apply(&mut self, changes: ChangeSet) {
        for (k, v) in changes {
            self.writes.insert(k, v);
        }
    }

    /// How many layers are above the base (1 for an overlay made by [`Overlay::new`]).
    pub fn depth(&self) -> usize {
        self.parents.len() + 1
    }

    /// The base the overlay reads through.
    pub fn base(&self) -> &Arc<dyn KvRead + Send + Sync> {
        &self.base
    }
}

impl KvRead for Overlay {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(pending) = self.writes.get(key) {
            return Ok(pending.clone());
        }
        for layer in self.parents.iter().rev() {
            if let Some(pending) = layer.get(key) {
                return Ok(pending.clone());
            }
        }
        self.base.get(key)
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
        let base = self.base.range(start, end, order)?;
        let layers: Vec<LayerCursor> = self
            .parents
            .iter()
            .chain(std::iter::once(&self.writes))
            .filter(|layer| !layer.is_empty())
            .map(|layer| LayerCursor::new(layer.clone(), start, end, order))
            .collect();
        if layers.is_empty() {
            return Ok(base);
        }
        Ok(stop_after_error(Merge::new(base, layers, order)))
    }
}

/// A pending write: `None` is a deletion.
type Pending = (Vec<u8>, Option<Vec<u8>>);

/// An owned cursor over one layer's writes inside a range. It holds a snapshot of the layer and the
/// remaining bounds, and re-seeks (O(log n)) past the last key it returned on every step, so it
/// borrows nothing.
struct LayerCursor {
    layer: Layer,
    low: Bound<Vec<u8>>,
    high: Bound<Vec<u8>>,
    order: Order,
}

impl LayerCursor {
    fn new(layer: Layer, start: Bound<&[u8]>, end: Bound<&[u8]>, order: Order) -> Self {
        LayerCursor {
            layer,
            low: start.map(<[u8]>::to_vec),
            high: end.map(<[u8]>::to_vec),
            order,
        }
    }

    fn next(&mut self) -> Option<Pending> {
        let low = self.low.as_ref().map(Vec::as_slice);
        let high = self.high.as_ref().map(Vec::as_slice);
        if !admits_keys(low, high) {
            return None;
        }
        let found = {
            let mut within = self.layer.range::<_, [u8]>((low, high));
            let entry = match self.order {
                Order::Ascending => within.next(),
                Order::Descending => within.next_back(),
            };
            entry.map(|(k, v)| (k.clone(), v.clone()))
        };
        if let Some((key, _)) = &found {
            match self.order {
                Order::Ascending => self.low = Bound::Excluded(key.clone()),
                Order::Descending => self.high = Bound::Excluded(key.clone()),
            }
        }
        found
    }
}

/// Merges the layers (newest wins on equal keys) with the base scan (the layers win over the
/// base; a pending deletion hides the base's pair).
struct Merge {
    base: KvIter,
    base_head: Option<KvPair>,
    base_done: bool,
    layers: Vec<LayerCursor>,
    /// The next pending write of each layer, same index as `layers` (oldest first).
    heads: Vec<Option<Pending>>,
    order: Order,
}

enum Step {
    Done,
    Base,
    Layers,
    Both,
}

impl Merge {
    fn new(base: KvIter, mut layers: Vec<LayerCursor>, order: Order) -> Self {
        let heads = layers.iter_mut().map(LayerCursor::next).collect();
        Merge {
            base,
            base_head: None,
            base_done: false,
            layers,
            heads,
            order,
        }
    }

    /// `true` if `a` comes before `b` in the scan's order.
    fn before(&self, a: &[u8], b: &[u8]) -> bool {
        match self.order {
            Order::Ascending => a < b,
            Order::Descending => a > b,
        }
    }

    /// The first key over all layers' heads.
    fn layers_key(&self) -> Option<&[u8]> {
        let mut best: Option<&[u8]> = None;
        for (key, _) in self.heads.iter().flatten() {
            best = match best {
                Some(b) if !self.before(key, b) => Some(b),
                _ => Some(key.as_slice()),
            };
        }
        best
    }

    /// Takes the first pending write over all layers (the newest layer's, if several layers hold
    /// the key) and advances every layer that held it.
    fn take_layers(&mut self) -> Option<Pending> {
        let key = self.layers_key()?.to_vec();
        let mut taken = None;
        for (head, cursor) in self.heads.iter_mut().zip(self.layers.iter_mut()) {
            if head.as_ref().is_some_and(|(k, _)| *k == key) {
                taken = head.take();
                *head = cursor.next();
            }
        }
        taken
    }
}

impl Iterator for Merge {
    type Item = Result<KvPair, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.base_head.is_none() && !self.base_done {
                match self.base.next() {
                    Some(Ok(pair)) => self.base_head = Some(pair),
                    Some(Err(err)) => return Some(Err(err)),
                    None => self.base_done = true,
                }
            }
            let step = match (self.layers_key(), &self.base_head) {
                (None, None) => Step::Done,
                (None, Some(_)) => Step::Base,
                (Some(_), None) => Step::Layers,
                (Some(pending), Some((base_key, _))) => match pending.cmp(base_key.as_slice()) {
                    Ordering::Equal => Step::Both,
                    _ if self.before(pending, base_key) => Step::Layers,
                    _ => Step::Base,
                },
            };
            let pending = match step {
                Step::Done => return None,
                Step::Base => return self.base_head.take().map(Ok),
                Step::Layers => self.take_layers(),
                Step::Both => {
                    self.base_head = None;
                    self.take_layers()
                }
            };
            if let Some((key, Some(value))) = pending {
                return Some(Ok((key, value)));
            }
            // A pending deletion: it hides the base's pair (if any); look further.
        }
    }
}
