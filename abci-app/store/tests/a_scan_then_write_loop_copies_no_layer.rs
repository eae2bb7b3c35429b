//! A contract may open a range scan and then write, again and again, in one call: each live scan
//! keeps a view of the layer as it was. The bytes allocated by such a loop must grow with the
//! number of writes, not with writes × layer size (a deep copy of the layer per write would be
//! CPU and memory that gas does not see). Counted with a counting allocator, not timed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use usaged_store::{KvRead, Order, Overlay};

struct Counting;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);

#[allow(unsafe_code)] // a counting allocator is unsafe by contract
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated by `n` rounds of: open a scan (kept alive), read one pair, write a new key.
fn scan_write_loop_allocates(n: usize) -> u64 {
    let base: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut overlay = Overlay::new(Arc::new(base));
    overlay.set(b"a".to_vec(), vec![1u8; 32]);
    let mut live = Vec::with_capacity(n);
    let before = ALLOCATED.load(Ordering::Relaxed);
    for i in 0..n {
        let mut it = overlay
            .range(Bound::Unbounded, Bound::Unbounded, Order::Ascending)
            .expect("scan");
        let first = it.next().expect("a pair").expect("no error");
        live.push(it);
        overlay.set(format!("k{i:08}").into_bytes(), first.1);
    }
    let used = ALLOCATED.load(Ordering::Relaxed) - before;
    drop(live);
    used
}

#[test]
fn a_scan_then_write_loop_allocates_in_proportion_to_its_writes() {
    let small = scan_write_loop_allocates(500);
    let large = scan_write_loop_allocates(4_000);
    let per_round_small = small / 500;
    let per_round_large = large / 4_000;
    println!("bytes per round: {per_round_small} at 500 rounds, {per_round_large} at 4000 rounds");
    // Copying the layer on every write makes a round cost O(layer size): eight times the rounds
    // would cost about eight times as much per round. A persistent layer costs O(log n) a round.
    assert!(
        per_round_large < 2 * per_round_small,
        "a round allocates {per_round_large} bytes at 4000 rounds against {per_round_small} at 500: the layer is copied per write"
    );
}
