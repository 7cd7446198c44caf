//! Address spaces (issue 3): `find_vma` against a `BTreeMap` in the same
//! run, mmap+munmap of one anonymous page, the anonymous write, zero-page
//! read and copy-on-write faults, and `dup_mm`/`exit_mmap` per resident page.
//!
//! One `Mem` of 1 GiB (2 CPUs, CPU 0 used), its host memory written once
//! before boot so that no host page fault lands inside a measurement.
//! Faults are timed with `iter_custom`: each batch maps a fresh region
//! (untimed), faults its pages one by one (timed), and unmaps it (untimed).
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/vmbench cargo bench -p mm --bench vm`

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound::{Excluded, Unbounded};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mm::fault::{handle_mm_fault, Access};
use mm::fork::dup_mm;
use mm::mmap::{MmStruct, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use mm::uaccess::{user_load, user_store};
use mm::{Cpu, Mem, MemConfig, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
/// RAM of the instance: room for the 256 MiB `dup_mm` case.
const RAM: usize = 1 << 30;
/// Where the fault and fork benches map their regions (2 MiB aligned).
const REGION: usize = 0x4000_0000;
/// Where the find_vma benches lay out their VMAs.
const VMAS: usize = 0x1000_0000;
/// Pages faulted per mapped region in the fault benches (16 MiB).
const CHUNK: usize = 4096;
const QUERIES: usize = 4096;

/// The instance, booted once for the whole suite.
fn mem() -> &'static Mem {
    static MEM: OnceLock<&'static Mem> = OnceLock::new();
    MEM.get_or_init(|| {
        let ram = common::leak_region(RAM);
        // Populate the host pages now, not inside a measured fault.
        // SAFETY: `ram` is RAM bytes of writable memory we own.
        unsafe { std::ptr::write_bytes(ram.as_ptr(), 0, RAM) };
        let cfg = MemConfig {
            nr_cpus: 2,
            quiet: true,
            ..MemConfig::default()
        };
        // SAFETY: `ram` is ours, writable, and leaked, so it outlives the
        // `Mem` (leaked too); nothing else touches it.
        let mem = unsafe { Mem::boot(ram, RAM, cfg, Box::new(|s| eprint!("{s}"))) }.expect("boot");
        let mem: &'static Mem = Box::leak(Box::new(mem));
        {
            let cpu = mem.cpu(0).unwrap();
            mm::mmap::init_caches(mem).unwrap();
            mm::fault::init(&cpu).unwrap();
        }
        mem
    })
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

/// `find_vma` on a BTreeMap keyed by start: the first range whose end is
/// above `addr`.
fn btree_find(m: &BTreeMap<usize, usize>, addr: usize) -> Option<(usize, usize)> {
    if let Some((&s, &e)) = m.range(..=addr).next_back() {
        if e > addr {
            return Some((s, e));
        }
    }
    m.range((Excluded(addr), Unbounded))
        .next()
        .map(|(&s, &e)| (s, e))
}

fn find_vma(c: &mut Criterion) {
    let mem = mem();
    let cpu = mem.cpu(0).unwrap();
    let mut g = c.benchmark_group("vm/find_vma");
    for n in [10usize, 1_000, 100_000] {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ n as u64);
        let mut mm = MmStruct::new(&cpu).unwrap();
        mm.state().max_map_count = 1 << 20;
        let mut map = BTreeMap::new();
        // 1..4 pages each, alternately read-only and read-write (so
        // neighbours never merge), a hole after about one in four.
        let mut a = VMAS;
        for i in 0..n {
            let len = (1 + rng.next() % 4) * P;
            let prot = if i % 2 == 0 { PROT_READ } else { RW };
            mm.do_mmap(&cpu, a, len, prot, ANON | MAP_FIXED).unwrap();
            map.insert(a, a + len);
            a += len;
            if rng.next() % 4 == 0 {
                a += (1 + rng.next() % 4) * P;
            }
        }
        assert_eq!(mm.state().map_count, n);
        let queries: Vec<usize> = (0..QUERIES)
            .map(|_| VMAS + rng.next() % (a - VMAS + P))
            .collect();
        let st = mm.state();
        for &q in &queries {
            assert_eq!(
                st.find_vma(q).map(|v| (v.vm_start, v.vm_end)),
                btree_find(&map, q)
            );
        }
        let (h0, l0) = st.cache_stats();
        g.bench_with_input(BenchmarkId::new("ferrite_random", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(st.find_vma(black_box(queries[i])).map(|v| v.vm_start))
            })
        });
        let (h1, l1) = st.cache_stats();
        eprintln!(
            "find_vma n={n}: mmap_cache hits {} of {} random lookups ({:.1} %)",
            h1 - h0,
            l1 - l0,
            100.0 * (h1 - h0) as f64 / (l1 - l0).max(1) as f64
        );
        g.bench_with_input(BenchmarkId::new("std_btreemap_random", n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % QUERIES;
                black_box(btree_find(&map, black_box(queries[i])).map(|v| v.0))
            })
        });
        let hit = queries[0];
        g.bench_with_input(BenchmarkId::new("ferrite_cache_hit", n), &n, |b, _| {
            b.iter(|| black_box(st.find_vma(black_box(hit)).map(|v| v.vm_start)))
        });
        g.bench_with_input(
            BenchmarkId::new("ferrite_cache_hit_read_locked", n),
            &n,
            |b, _| {
                b.iter(|| {
                    let st = mm.mmap_read_lock(&cpu);
                    black_box(st.find_vma(black_box(hit)).map(|v| v.vm_start))
                })
            },
        );
        mm.free(&cpu);
    }
    g.finish();
}

fn mmap_munmap(c: &mut Criterion) {
    let mem = mem();
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    // A few areas already there, as in any process.
    for i in 0..8 {
        let prot = if i % 2 == 0 { PROT_READ } else { RW };
        mm.do_mmap(&cpu, VMAS + i * 4 * P, 2 * P, prot, ANON | MAP_FIXED)
            .unwrap();
    }
    c.bench_function("vm/mmap_munmap_1page", |b| {
        b.iter(|| {
            let a = mm.do_mmap(&cpu, 0, black_box(P), RW, ANON).unwrap();
            mm.do_munmap(&cpu, black_box(a), P).unwrap();
        })
    });
    mm.free(&cpu);
}

/// Fault `iters` pages of fresh regions of `mm`, timing only `touch` on
/// each page; `prepare(n)` runs untimed after each region of `n` pages is
/// mapped at `REGION`, `finish()` untimed before it is unmapped.
fn fault_batches(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    iters: u64,
    mut prepare: impl FnMut(usize),
    mut touch: impl FnMut(usize),
    mut finish: impl FnMut(),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let n = left.min(CHUNK);
        mm.do_mmap(cpu, REGION, n * P, RW, ANON | MAP_FIXED)
            .unwrap();
        prepare(n);
        let t = Instant::now();
        for i in 0..n {
            touch(black_box(REGION + i * P));
        }
        total += t.elapsed();
        finish();
        mm.do_munmap(cpu, REGION, n * P).unwrap();
        mm.take_tlb_flush();
        left -= n;
    }
    total
}

fn faults(c: &mut Criterion) {
    let mem = mem();
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    let mut g = c.benchmark_group("vm/fault");
    let store = |va| user_store(&cpu, &mm, va, &[1u8]).unwrap();
    let load = |va| {
        let mut b = [0u8; 1];
        user_load(&cpu, &mm, va, &mut b).unwrap();
        black_box(b);
    };
    let hmf_w = |va| handle_mm_fault(&cpu, &mm, va, Access::Write).unwrap();
    let hmf_r = |va| handle_mm_fault(&cpu, &mm, va, Access::Read).unwrap();

    g.bench_function("anon_write/user_store", |b| {
        b.iter_custom(|it| fault_batches(&cpu, &mm, it, |_| {}, store, || {}))
    });
    g.bench_function("anon_write/handle_mm_fault", |b| {
        b.iter_custom(|it| fault_batches(&cpu, &mm, it, |_| {}, hmf_w, || {}))
    });
    g.bench_function("zero_page_read/user_load", |b| {
        b.iter_custom(|it| fault_batches(&cpu, &mm, it, |_| {}, load, || {}))
    });
    g.bench_function("zero_page_read/handle_mm_fault", |b| {
        b.iter_custom(|it| fault_batches(&cpu, &mm, it, |_| {}, hmf_r, || {}))
    });

    // Copy on write: populate the region, fork it, then the parent writes
    // each page (two mappings, so each is copied). The child is freed
    // untimed.
    let cow = |touch: &dyn Fn(usize), it: u64| {
        let child = std::cell::Cell::new(None);
        fault_batches(
            &cpu,
            &mm,
            it,
            |n| {
                for i in 0..n {
                    handle_mm_fault(&cpu, &mm, REGION + i * P, Access::Write).unwrap();
                }
                child.set(Some(dup_mm(&cpu, &mm).unwrap()));
                mm.take_tlb_flush();
            },
            touch,
            || child.take().unwrap().free(&cpu),
        )
    };
    g.bench_function("cow_write/user_store", |b| {
        b.iter_custom(|it| cow(&store, it))
    });
    g.bench_function("cow_write/handle_mm_fault", |b| {
        b.iter_custom(|it| cow(&hmf_w, it))
    });
    g.finish();
    mm.free(&cpu);
}

fn fork(c: &mut Criterion) {
    let mem = mem();
    let cpu = mem.cpu(0).unwrap();
    let mut g = c.benchmark_group("vm/fork");
    for mib in [16usize, 256] {
        let pages = (mib << 20) / P;
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, REGION, pages * P, RW, ANON | MAP_FIXED)
            .unwrap();
        // Write every page: resident, private, writable (again after each
        // fork: the child's exit leaves the parent's PTEs read-only, and
        // this write reuses the page).
        let dirty = || {
            for i in 0..pages {
                handle_mm_fault(&cpu, &parent, REGION + i * P, Access::Write).unwrap();
            }
            parent.take_tlb_flush();
        };
        dirty();
        assert_eq!(parent.get_mm_rss(), pages);
        g.throughput(Throughput::Elements(pages as u64));
        g.bench_function(BenchmarkId::new("dup_mm", format!("{mib}MiB")), |b| {
            b.iter_custom(|it| {
                let mut total = Duration::ZERO;
                for _ in 0..it {
                    dirty();
                    let t = Instant::now();
                    let child = black_box(dup_mm(&cpu, &parent).unwrap());
                    total += t.elapsed();
                    assert_eq!(child.get_mm_rss(), pages);
                    child.free(&cpu);
                }
                total
            })
        });
        g.bench_function(
            BenchmarkId::new("exit_mmap_child", format!("{mib}MiB")),
            |b| {
                b.iter_custom(|it| {
                    let mut total = Duration::ZERO;
                    for _ in 0..it {
                        let child = dup_mm(&cpu, &parent).unwrap();
                        let t = Instant::now();
                        child.free(&cpu);
                        total += t.elapsed();
                    }
                    parent.take_tlb_flush();
                    total
                })
            },
        );
        parent.free(&cpu);
    }
    g.finish();
}

criterion_group!(name = fast; config = common::criterion_config(); targets = find_vma, mmap_munmap);
criterion_group! {
    name = heavy;
    config = common::criterion_config().sample_size(10);
    targets = faults, fork
}
criterion_main!(fast, heavy);
