//! The VMA index (mm::maple): unit tests of every operation and edge, a
//! model-based proptest against a `BTreeMap` with linear gap scans, and node
//! accounting against the `maple_node` cache.

mod common;

use std::collections::BTreeMap;

use mm::maple::{MapleError, MapleTree, MAPLE_NODE_CACHE};
use mm::{Cpu, Mem, MemConfig};
use proptest::prelude::*;

const PAGE: usize = 4096;

fn boot() -> common::Kernel {
    common::boot_with(
        128 << 20,
        MemConfig {
            quiet: true,
            ..MemConfig::default()
        },
    )
}

/// Settle the per-CPU caches and return the cache's active objects.
fn active(mem: &Mem, cpu: &Cpu<'_>, tree: &MapleTree<'_>) -> usize {
    let _ = mem;
    cpu.kmem_cache_shrink(tree.cache());
    tree.cache().active_objs()
}

/// The model: start -> (end, value).
#[derive(Default)]
struct Model(BTreeMap<usize, (usize, usize)>);

impl Model {
    fn entries(&self) -> Vec<(usize, usize, usize)> {
        self.0.iter().map(|(&s, &(e, v))| (s, e, v)).collect()
    }
    fn find(&self, addr: usize) -> Option<(usize, usize, usize)> {
        // First range whose end > addr; ranges are sorted by start and by end.
        self.0
            .iter()
            .map(|(&s, &(e, v))| (s, e, v))
            .find(|&(_, e, _)| e > addr)
    }
    fn find_prev(&self, addr: usize) -> Option<(usize, usize, usize)> {
        self.0
            .iter()
            .rev()
            .map(|(&s, &(e, v))| (s, e, v))
            .find(|&(_, e, _)| e <= addr)
    }
    /// Free intervals [s, e) of the address space [0, usize::MAX).
    fn holes(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        let mut prev = 0;
        for (&s, &(e, _)) in &self.0 {
            if s > prev {
                v.push((prev, s));
            }
            prev = e;
        }
        if prev < usize::MAX {
            v.push((prev, usize::MAX));
        }
        v
    }
    fn top(&self, len: usize, low: usize, high: usize) -> Option<usize> {
        if len == 0 || low >= high {
            return None;
        }
        self.holes().into_iter().rev().find_map(|(s, e)| {
            let (lo, hi) = (s.max(low), e.min(high));
            (hi >= lo && hi - lo >= len).then(|| hi - len)
        })
    }
    fn bottom(&self, len: usize, low: usize, high: usize) -> Option<usize> {
        if len == 0 || low >= high {
            return None;
        }
        self.holes().into_iter().find_map(|(s, e)| {
            let (lo, hi) = (s.max(low), e.min(high));
            (hi >= lo && hi - lo >= len).then_some(lo)
        })
    }
}

#[test]
fn cache_is_maple_node_of_256_bytes() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    assert_eq!(cache.name(), MAPLE_NODE_CACHE);
    assert_eq!(cache.object_size(), 256);
    assert!(k
        .mem
        .slabinfo()
        .iter()
        .any(|r| format!("{r:?}").contains("maple_node")));
}

#[test]
fn empty_tree() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    assert_eq!(t.len(), 0);
    assert!(t.is_empty());
    assert_eq!(t.find(0), None);
    assert_eq!(t.find_prev(usize::MAX), None);
    assert_eq!(t.find_intersection(0, usize::MAX), None);
    assert_eq!(t.iter().count(), 0);
    assert_eq!(t.erase(&cpu, 0), None);
    assert_eq!(
        t.gap_area_topdown(PAGE, 0, usize::MAX),
        Some(usize::MAX - PAGE)
    );
    assert_eq!(t.gap_area_bottomup(PAGE, 0, usize::MAX), Some(0));
    assert_eq!(t.gap_area_topdown(0, 0, usize::MAX), None);
    assert_eq!(t.node_count(), 0);
    t.validate().unwrap();
    t.destroy(&cpu);
}

#[test]
fn insert_find_and_errors() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    t.insert(&cpu, 0x1000, 0x3000, 1).unwrap();
    t.insert(&cpu, 0x3000, 0x4000, 2).unwrap(); // adjacent above
    t.insert(&cpu, 0x0, 0x1000, 3).unwrap(); // adjacent below, at 0
    t.insert(&cpu, usize::MAX - 0x1000, usize::MAX, 4).unwrap(); // top
    assert_eq!(t.insert(&cpu, 0x2000, 0x2800, 9), Err(MapleError::Exists));
    assert_eq!(t.insert(&cpu, 0x3fff, 0x5000, 9), Err(MapleError::Exists));
    assert_eq!(t.insert(&cpu, 0x500, 0x500, 9), Err(MapleError::Invalid));
    assert_eq!(t.insert(&cpu, 0x600, 0x500, 9), Err(MapleError::Invalid));
    assert_eq!(MapleError::Exists.errno(), 17);
    assert_eq!(MapleError::NoMemory.errno(), 12);
    assert_eq!(t.len(), 4);
    t.validate().unwrap();

    assert_eq!(t.find(0), Some((0, 0x1000, 3)));
    assert_eq!(t.find(0xfff), Some((0, 0x1000, 3)));
    assert_eq!(t.find(0x1000), Some((0x1000, 0x3000, 1)));
    assert_eq!(t.find(0x3fff), Some((0x3000, 0x4000, 2)));
    // Not contained: the next range above, as find_vma.
    assert_eq!(t.find(0x4000), Some((usize::MAX - 0x1000, usize::MAX, 4)));
    assert_eq!(t.find_containing(0x4000), None);
    assert_eq!(t.find(usize::MAX - 1).map(|e| e.2), Some(4));
    assert_eq!(t.find(usize::MAX), None);

    assert_eq!(t.find_prev(0), None);
    assert_eq!(t.find_prev(0xfff), None);
    assert_eq!(t.find_prev(0x1000), Some((0, 0x1000, 3)));
    assert_eq!(t.find_prev(0x5000), Some((0x3000, 0x4000, 2)));
    assert_eq!(t.find_prev(usize::MAX).map(|e| e.2), Some(4));

    assert_eq!(t.find_intersection(0x4000, 0x8000), None);
    assert_eq!(t.find_intersection(0x3fff, 0x8000).map(|e| e.2), Some(2));
    assert_eq!(
        t.find_intersection(0x5000, usize::MAX).map(|e| e.2),
        Some(4)
    );
    assert_eq!(t.find_intersection(0x10, 0x10), None);

    let all: Vec<_> = t.iter().map(|e| e.2).collect();
    assert_eq!(all, vec![3, 1, 2, 4]);
    assert_eq!(t.first().map(|e| e.2), Some(3));
    assert_eq!(t.last().map(|e| e.2), Some(4));

    assert_eq!(t.erase(&cpu, 0x1001), None);
    assert_eq!(t.erase(&cpu, 0x1000), Some((0x1000, 0x3000, 1)));
    assert_eq!(t.erase(&cpu, 0x1000), None);
    assert_eq!(t.find(0x1000), Some((0x3000, 0x4000, 2)));
    t.validate().unwrap();
    t.destroy(&cpu);
    assert_eq!(t.len(), 0);
}

#[test]
fn gaps_between_adjacent_and_at_edges() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    // [0,1p) [1p,2p) hole [2p,5p) [5p,6p) hole to [MAX-1p, MAX)
    t.insert(&cpu, 0, PAGE, 0).unwrap();
    t.insert(&cpu, PAGE, 2 * PAGE, 1).unwrap();
    t.insert(&cpu, 5 * PAGE, 6 * PAGE, 2).unwrap();
    t.insert(&cpu, usize::MAX - PAGE, usize::MAX, 3).unwrap();
    assert_eq!(t.gap_area_bottomup(PAGE, 0, usize::MAX), Some(2 * PAGE));
    assert_eq!(t.gap_area_bottomup(3 * PAGE, 0, usize::MAX), Some(2 * PAGE));
    assert_eq!(t.gap_area_bottomup(4 * PAGE, 0, usize::MAX), Some(6 * PAGE));
    assert_eq!(
        t.gap_area_topdown(PAGE, 0, usize::MAX),
        Some(usize::MAX - 2 * PAGE)
    );
    assert_eq!(t.gap_area_topdown(PAGE, 0, 5 * PAGE), Some(4 * PAGE));
    assert_eq!(t.gap_area_topdown(3 * PAGE, 0, 5 * PAGE), Some(2 * PAGE));
    assert_eq!(t.gap_area_topdown(3 * PAGE, 0, 5 * PAGE - 1), None);
    assert_eq!(t.gap_area_topdown(PAGE, 3 * PAGE, 4 * PAGE), Some(3 * PAGE));
    assert_eq!(t.gap_area_topdown(PAGE, 0, 2 * PAGE), None);
    assert_eq!(t.gap_area_bottomup(PAGE, 0, 2 * PAGE), None);
    // Between the last range and the very top.
    t.erase(&cpu, usize::MAX - PAGE).unwrap();
    assert_eq!(
        t.gap_area_topdown(PAGE, 0, usize::MAX),
        Some(usize::MAX - PAGE)
    );
    t.validate().unwrap();
    t.destroy(&cpu);
}

/// Grow to several levels, then erase everything in several orders, checking
/// merges, rebalancing and shrinking height, and that no node leaks.
#[test]
fn growth_and_shrink_with_rebalancing() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let base = cache.active_objs();
    for order in 0..3 {
        let mut t = MapleTree::new(&cache);
        let n = 5000;
        for i in 0..n {
            let s = (i * 2 + 1) * PAGE;
            t.insert(&cpu, s, s + PAGE, i).unwrap();
        }
        assert!(t.height() >= 4, "height {}", t.height());
        t.validate().unwrap();
        assert_eq!(active(&k.mem, &cpu, &t), base + t.node_count());
        let mut idx: Vec<usize> = (0..n).collect();
        match order {
            0 => {}
            1 => idx.reverse(),
            _ => idx.sort_by_key(|&i| (i * 7919) % n),
        }
        for (k2, &i) in idx.iter().enumerate() {
            let s = (i * 2 + 1) * PAGE;
            assert_eq!(t.erase(&cpu, s), Some((s, s + PAGE, i)));
            if k2 % 97 == 0 {
                t.validate().unwrap();
                assert_eq!(
                    t.find_prev(s + PAGE).map(|e| e.0 < s),
                    t.find_prev(s).map(|_| true)
                );
            }
        }
        assert_eq!(t.len(), 0);
        assert_eq!(t.height(), 0);
        assert_eq!(t.node_count(), 0);
        t.validate().unwrap();
        assert_eq!(active(&k.mem, &cpu, &t), base);
    }
}

#[test]
fn destroy_frees_every_node() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    cpu.kmem_cache_shrink(&cache);
    let base = cache.active_objs();
    let mut t = MapleTree::new(&cache);
    for i in 0..20_000usize {
        let s = i.wrapping_mul(0x9e37_79b9) % (1 << 40) * PAGE;
        let _ = t.insert(&cpu, s, s + PAGE, i);
    }
    assert!(t.node_count() > 1000);
    assert_eq!(active(&k.mem, &cpu, &t), base + t.node_count());
    t.destroy(&cpu);
    assert_eq!(t.node_count(), 0);
    assert_eq!(t.find(0), None);
    assert_eq!(active(&k.mem, &cpu, &t), base);
    drop(cpu);
    k.mem.kmem_cache_destroy(cache).map_err(|e| e.1).unwrap();
}

#[test]
fn out_of_memory_leaves_tree_unchanged() {
    // A small instance: fill RAM with nodes until an insert fails.
    let k = common::boot_with(
        4 << 20,
        MemConfig {
            quiet: true,
            nr_cpus: 1,
            ..MemConfig::default()
        },
    );
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    let mut i = 0usize;
    let err = loop {
        let s = i * 2 * PAGE;
        match t.insert(&cpu, s, s + PAGE, i) {
            Ok(()) => i += 1,
            Err(e) => break e,
        }
        assert!(i < 10_000_000, "never ran out of memory");
    };
    assert_eq!(err, MapleError::NoMemory);
    assert_eq!(t.len(), i);
    t.validate().unwrap();
    let s = i * 2 * PAGE;
    assert_eq!(t.find(s), None);
    assert_eq!(t.find(s - 2 * PAGE).map(|e| e.2), Some(i - 1));
    assert_eq!(t.find_prev(s).map(|e| e.2), Some(i - 1));
    // Erase still works without memory, and frees nodes.
    for j in 0..i / 2 {
        assert!(t.erase(&cpu, j * 2 * PAGE).is_some());
    }
    t.validate().unwrap();
    t.insert(&cpu, s, s + PAGE, i).unwrap();
    t.destroy(&cpu);
    cpu.kmem_cache_shrink(&cache);
    assert_eq!(cache.active_objs(), 0);
}

#[test]
fn hundred_thousand_in_order_and_random() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let n = 100_000usize;
    // In order.
    let mut t = MapleTree::new(&cache);
    for i in 0..n {
        t.insert(&cpu, i * 3 * PAGE, i * 3 * PAGE + 2 * PAGE, i)
            .unwrap();
    }
    t.validate().unwrap();
    for i in (0..n).step_by(37) {
        assert_eq!(
            t.find(i * 3 * PAGE + 2 * PAGE).map(|e| e.2),
            (i + 1 < n).then_some(i + 1)
        );
        assert_eq!(
            t.find_prev(i * 3 * PAGE + PAGE).map(|e| e.2),
            i.checked_sub(1)
        );
    }
    assert_eq!(
        t.gap_area_topdown(PAGE, 0, n * 3 * PAGE - PAGE),
        Some((n * 3 - 4) * PAGE)
    );
    assert_eq!(
        t.gap_area_topdown(PAGE, 0, usize::MAX),
        Some(usize::MAX - PAGE)
    );
    assert_eq!(t.gap_area_bottomup(PAGE, 0, usize::MAX), Some(2 * PAGE));
    assert_eq!(
        t.gap_area_bottomup(2 * PAGE, 0, usize::MAX),
        Some((n * 3 - 1) * PAGE)
    );
    assert_eq!(t.iter().count(), n);
    t.destroy(&cpu);
    // Randomly.
    let mut model = Model::default();
    let mut x = 0x1234_5678_9abc_def1u64;
    while model.0.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = (x as usize % (1 << 30)) * PAGE;
        let e = s + (1 + (x >> 40) as usize % 4) * PAGE;
        let r = t.insert(&cpu, s, e, model.0.len());
        if model.overlaps_near(s, e) {
            assert_eq!(r, Err(MapleError::Exists));
        } else {
            r.unwrap();
            model.0.insert(s, (e, model.0.len()));
        }
    }
    t.validate().unwrap();
    assert_eq!(t.iter().collect::<Vec<_>>(), model.entries());
    t.destroy(&cpu);
    cpu.kmem_cache_shrink(&cache);
    assert_eq!(cache.active_objs(), 0);
}

impl Model {
    /// Overlap check in O(log n) for the big trees.
    fn overlaps_near(&self, s: usize, e: usize) -> bool {
        if let Some((_, &(pe, _))) = self.0.range(..=s).next_back() {
            if pe > s {
                return true;
            }
        }
        self.0.range(s..e).next().is_some()
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(usize, usize),
    Erase(usize),
    EraseExisting(usize),
    Find(usize),
    FindPrev(usize),
    Intersect(usize, usize),
    Top(usize, usize, usize),
    Bottom(usize, usize, usize),
}

/// Addresses in pages over a small space (so collisions and adjacency are
/// common), plus some near the top of the address space.
fn addr() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => (0usize..4096).prop_map(|p| p * PAGE),
        1 => (1usize..64).prop_map(|p| usize::MAX - p * PAGE + 1),
        1 => any::<usize>(),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (addr(), 1usize..16).prop_map(|(a, l)| Op::Insert(a, l * PAGE)),
        1 => addr().prop_map(Op::Erase),
        3 => any::<usize>().prop_map(Op::EraseExisting),
        2 => addr().prop_map(Op::Find),
        2 => addr().prop_map(Op::FindPrev),
        1 => (addr(), addr()).prop_map(|(a, b)| Op::Intersect(a, b)),
        2 => (1usize..64, addr(), addr()).prop_map(|(l, a, b)| Op::Top(l * PAGE, a.min(b), a.max(b))),
        2 => (1usize..64, addr(), addr()).prop_map(|(l, a, b)| Op::Bottom(l * PAGE, a.min(b), a.max(b))),
    ]
}

/// The end of every model run: the tree is valid, holds what the model holds,
/// uses exactly its nodes, and gives them all back.
fn finish(mem: &Mem, cpu: &Cpu<'_>, mut t: MapleTree<'_>, m: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(t.validate(), Ok(()));
    prop_assert_eq!(t.iter().collect::<Vec<_>>(), m.entries());
    prop_assert_eq!(active(mem, cpu, &t), t.node_count());
    t.destroy(cpu);
    prop_assert_eq!(active(mem, cpu, &t), 0);
    Ok(())
}

fn run_ops(ops: &[Op]) -> Result<(), TestCaseError> {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    let mut m = Model::default();
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Insert(s, l) => {
                let e = s.saturating_add(l);
                let r = t.insert(&cpu, s, e, i);
                if s >= e {
                    prop_assert_eq!(r, Err(MapleError::Invalid));
                } else if m.overlaps_near(s, e) {
                    prop_assert_eq!(r, Err(MapleError::Exists));
                } else {
                    prop_assert_eq!(r, Ok(()));
                    m.0.insert(s, (e, i));
                }
            }
            Op::Erase(s) => {
                let want = m.0.remove(&s).map(|(e, v)| (s, e, v));
                prop_assert_eq!(t.erase(&cpu, s), want);
            }
            Op::EraseExisting(r) => {
                if !m.0.is_empty() {
                    let s = *m.0.keys().nth(r % m.0.len()).unwrap();
                    let (e, v) = m.0.remove(&s).unwrap();
                    prop_assert_eq!(t.erase(&cpu, s), Some((s, e, v)));
                }
            }
            Op::Find(a) => prop_assert_eq!(t.find(a), m.find(a)),
            Op::FindPrev(a) => prop_assert_eq!(t.find_prev(a), m.find_prev(a)),
            Op::Intersect(a, b) => {
                let want = if a < b {
                    m.find(a).filter(|e| e.0 < b)
                } else {
                    None
                };
                prop_assert_eq!(t.find_intersection(a, b), want);
            }
            Op::Top(l, a, b) => prop_assert_eq!(t.gap_area_topdown(l, a, b), m.top(l, a, b)),
            Op::Bottom(l, a, b) => {
                prop_assert_eq!(t.gap_area_bottomup(l, a, b), m.bottom(l, a, b))
            }
        }
        prop_assert_eq!(t.len(), m.0.len());
        if i % 64 == 0 {
            prop_assert_eq!(t.validate(), Ok(()));
        }
    }
    finish(&k.mem, &cpu, t, &m)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// 8 cases of 2,000..4,000 random operations: 16,000+ ops in all.
    #[test]
    fn model_random_ops(ops in proptest::collection::vec(op(), 2000..4000)) {
        run_ops(&ops)?;
    }
}

/// Gap searches and lookups on a 100,000-entry tree against the model.
#[test]
fn model_big_tree_gaps() {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    let mut m = Model::default();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    // Mostly packed ranges with some holes of varied sizes.
    let mut a = PAGE;
    while m.0.len() < 100_000 {
        let l = (1 + rnd() % 8) * PAGE;
        let v = m.0.len();
        t.insert(&cpu, a, a + l, v).unwrap();
        m.0.insert(a, (a + l, v));
        a += l;
        if rnd() % 4 == 0 {
            a += (rnd() % 16) * PAGE;
        }
    }
    let top = a;
    let holes = m.holes();
    for _ in 0..300 {
        let len = (1 + rnd() % 20) * PAGE;
        let lo = rnd() % top;
        let hi = lo + rnd() % (top - lo + 1);
        let scan_top = holes.iter().rev().find_map(|&(s, e)| {
            let (l2, h2) = (s.max(lo), e.min(hi));
            (h2 >= l2 && h2 - l2 >= len).then(|| h2 - len)
        });
        let scan_bot = holes.iter().find_map(|&(s, e)| {
            let (l2, h2) = (s.max(lo), e.min(hi));
            (h2 >= l2 && h2 - l2 >= len).then_some(l2)
        });
        assert_eq!(
            t.gap_area_topdown(len, lo, hi),
            scan_top,
            "top {len} {lo} {hi}"
        );
        assert_eq!(
            t.gap_area_bottomup(len, lo, hi),
            scan_bot,
            "bottom {len} {lo} {hi}"
        );
        let q = rnd() % (top + PAGE);
        let f = m.0.range(..=q).next_back().filter(|(_, &(e, _))| e > q);
        let want = f
            .or_else(|| m.0.range(q..).next())
            .map(|(&s, &(e, v))| (s, e, v));
        assert_eq!(t.find(q), want);
    }
    // Random erasures keep the gap indexes right.
    let keys: Vec<usize> = m.0.keys().copied().collect();
    for _ in 0..20_000 {
        let s = keys[rnd() % keys.len()];
        let want = m.0.remove(&s).map(|(e, v)| (s, e, v));
        assert_eq!(t.erase(&cpu, s), want);
    }
    t.validate().unwrap();
    let holes = m.holes();
    for _ in 0..100 {
        let len = (1 + rnd() % 64) * PAGE;
        let hi = rnd() % top;
        let scan_top = holes.iter().rev().find_map(|&(s, e)| {
            let (l2, h2) = (s, e.min(hi));
            (h2 >= l2 && h2 - l2 >= len).then(|| h2 - len)
        });
        assert_eq!(t.gap_area_topdown(len, 0, hi), scan_top);
    }
    assert_eq!(active(&k.mem, &cpu, &t), t.node_count());
    t.destroy(&cpu);
    assert_eq!(active(&k.mem, &cpu, &t), 0);
}

/// Ops on a 100,000-entry tree built in address order or in random order:
/// lookups in O(log n) against the model, gap searches against its linear
/// scan, and erasures and inserts that reshape the tree.
fn run_big(seed: u64, in_order: bool, ops: usize) -> Result<(), TestCaseError> {
    let k = boot();
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    let mut m = Model::default();
    let mut x = seed | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    // Lay out 100,000 ranges with holes, then insert them in order or shuffled.
    let mut ranges = Vec::with_capacity(100_000);
    let mut a = 0;
    for v in 0..100_000 {
        if rnd() % 3 == 0 {
            a += (rnd() % 12) * PAGE;
        }
        let l = (1 + rnd() % 6) * PAGE;
        ranges.push((a, a + l, v));
        a += l;
    }
    let top = a;
    if !in_order {
        for i in (1..ranges.len()).rev() {
            ranges.swap(i, rnd() % (i + 1));
        }
    }
    for &(s, e, v) in &ranges {
        prop_assert_eq!(t.insert(&cpu, s, e, v), Ok(()));
        m.0.insert(s, (e, v));
    }
    prop_assert_eq!(t.validate(), Ok(()));
    let span = top + 64 * PAGE;
    for i in 0..ops {
        let q = rnd() % span;
        match rnd() % 8 {
            0 => {
                let f = m.0.range(..=q).next_back().filter(|(_, &(e, _))| e > q);
                let want = f
                    .or_else(|| m.0.range(q..).next())
                    .map(|(&s, &(e, v))| (s, e, v));
                prop_assert_eq!(t.find(q), want);
            }
            1 => {
                let want = match m.0.range(..=q).next_back() {
                    Some((&s, &(e, v))) if e <= q => Some((s, e, v)),
                    Some((&s, _)) => m.0.range(..s).next_back().map(|(&s, &(e, v))| (s, e, v)),
                    None => None,
                };
                prop_assert_eq!(t.find_prev(q), want);
            }
            2 | 3 => {
                let s =
                    *m.0.range(q..)
                        .next()
                        .or_else(|| m.0.iter().next())
                        .unwrap()
                        .0;
                let (e, v) = m.0.remove(&s).unwrap();
                prop_assert_eq!(t.erase(&cpu, s), Some((s, e, v)));
            }
            4 | 5 => {
                let (s, e) = (q, q + (1 + rnd() % 4) * PAGE);
                let r = t.insert(&cpu, s, e, i);
                if m.overlaps_near(s, e) {
                    prop_assert_eq!(r, Err(MapleError::Exists));
                } else {
                    prop_assert_eq!(r, Ok(()));
                    m.0.insert(s, (e, i));
                }
            }
            _ if i % 16 == 6 => {
                let len = (1 + rnd() % 24) * PAGE;
                let hi = q + rnd() % (span - q);
                prop_assert_eq!(t.gap_area_topdown(len, q, hi), m.top(len, q, hi));
                prop_assert_eq!(t.gap_area_bottomup(len, q, hi), m.bottom(len, q, hi));
            }
            _ => {
                let e = q + (1 + rnd() % 8) * PAGE;
                let want = m.find(q).filter(|r| r.0 < e);
                prop_assert_eq!(t.find_intersection(q, e), want);
            }
        }
        prop_assert_eq!(t.len(), m.0.len());
    }
    finish(&k.mem, &cpu, t, &m)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// 4 cases of 100,000-entry trees (in order or shuffled) and 5,000 ops.
    #[test]
    fn model_big_trees(seed in any::<u64>(), in_order in any::<bool>()) {
        run_big(seed, in_order, 5000)?;
    }
}

#[test]
fn big_trees_both_orders() {
    run_big(0x5eed_1234, true, 3000).unwrap();
    run_big(0x5eed_5678, false, 3000).unwrap();
}

/// With slab debugging (red zones, poisoning, double-free checks) no node
/// write strays outside its 256 bytes and no node is freed twice.
#[test]
fn clean_under_slab_debug() {
    let k = common::boot_cpus(64 << 20, 2, true);
    let cache = MapleTree::create_cache(&k.mem).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    let mut t = MapleTree::new(&cache);
    for i in 0..3000usize {
        let s = (i * 7919 % 3000) * 2 * PAGE;
        t.insert(&cpu, s, s + PAGE, i).unwrap();
    }
    for i in (0..3000usize).step_by(2) {
        assert!(t.erase(&cpu, i * 2 * PAGE).is_some());
    }
    t.validate().unwrap();
    t.destroy(&cpu);
    cpu.kmem_cache_shrink(&cache);
    assert_eq!(cache.errors(), 0);
    assert!(!k.log().contains("BUG"), "{}", k.log());
}
