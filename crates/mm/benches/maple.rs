//! The VMA index: `MapleTree::find` (find_vma) over 10, 1,000 and 100,000
//! ranges, against `std::collections::BTreeMap` in the same run.
//!
//! The BTreeMap maps start -> (end, value) and answers with the same
//! semantics: `range(..=addr).next_back()` plus an end check, and when that
//! range does not contain `addr`, the next range above it. Ranges are 1..8
//! pages with a hole after about one in four; the looked-up addresses are
//! random over the whole span (most fall inside a range, some in holes).
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/maple cargo bench -p mm --bench maple`

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound::{Excluded, Unbounded};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mm::maple::MapleTree;

const PAGE: usize = 4096;
const QUERIES: usize = 4096;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

/// `find_vma` on a BTreeMap keyed by start.
fn btree_find(m: &BTreeMap<usize, (usize, usize)>, addr: usize) -> Option<(usize, usize, usize)> {
    if let Some((&s, &(e, v))) = m.range(..=addr).next_back() {
        if e > addr {
            return Some((s, e, v));
        }
    }
    m.range((Excluded(addr), Unbounded))
        .next()
        .map(|(&s, &(e, v))| (s, e, v))
}

fn find(c: &mut Criterion) {
    let mem = common::boot_default(1);
    let cpu = mem.cpu(0).unwrap();
    let cache = MapleTree::create_cache(mem).unwrap();
    let mut g = c.benchmark_group("maple/find");
    for n in [10usize, 1_000, 100_000] {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ n as u64);
        let mut tree = MapleTree::new(&cache);
        let mut map = BTreeMap::new();
        let mut a = 0x1_0000;
        for i in 0..n {
            let len = (1 + rng.next() % 8) * PAGE;
            tree.insert(&cpu, a, a + len, i).unwrap();
            map.insert(a, (a + len, i));
            a += len;
            if rng.next() % 4 == 0 {
                a += (1 + rng.next() % 4) * PAGE;
            }
        }
        let queries: Vec<usize> = (0..QUERIES).map(|_| rng.next() % (a + PAGE)).collect();
        for &q in &queries {
            assert_eq!(tree.find(q), btree_find(&map, q));
        }
        g.bench_with_input(BenchmarkId::new("ferrite_maple", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(tree.find(black_box(queries[i])))
            })
        });
        g.bench_with_input(BenchmarkId::new("std_btreemap", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(btree_find(&map, black_box(queries[i])))
            })
        });
        tree.destroy(&cpu);
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = find
}
criterion_main!(benches);
