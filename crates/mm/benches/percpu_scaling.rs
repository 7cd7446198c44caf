//! Per-CPU scaling: per-thread throughput of the per-CPU fast paths with two
//! threads, each on its own CPU guard (and pinned to its own host core),
//! against one thread alone. A plain harness (no criterion): each thread runs
//! a fixed number of alloc+free pairs; every configuration is repeated and
//! the median ns/pair is reported, with the ratio
//! `ns/pair with 1 thread / ns/pair of this thread with 2 threads`
//! (1.0 = perfect scaling; target >= 0.8).
//!
//! A mimalloc 64-byte pair (thread-local heaps, shares nothing) is measured
//! the same way as a control: its ratio shows what the machine itself allows.
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/bench cargo bench -p mm --bench percpu_scaling`
//! Optional args: `-- PAIRS REPS` (default 20000000 5).

mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use mimalloc::MiMalloc;
use mm::{Cpu, Gfp, KmemCache, Mem, SlabFlags};

#[derive(Clone, Copy)]
enum Path {
    Page0,
    Slab64,
    Mimalloc64,
}

impl Path {
    fn name(self) -> &'static str {
        match self {
            Path::Page0 => "order-0 page pair (pcp)",
            Path::Slab64 => "64 B slab pair (array cache)",
            Path::Mimalloc64 => "mimalloc 64 B pair (control)",
        }
    }
}

fn run(path: Path, cpu: &Cpu<'_>, cache: &KmemCache, pairs: u64) -> Duration {
    let layout = Layout::from_size_align(64, 8).unwrap();
    let start = Instant::now();
    match path {
        Path::Page0 => {
            for _ in 0..pairs {
                let p = cpu
                    .alloc_pages(black_box(Gfp::GFP_KERNEL), black_box(0))
                    .unwrap();
                cpu.__free_pages(black_box(p), black_box(0)).unwrap();
            }
        }
        Path::Slab64 => {
            for _ in 0..pairs {
                let o = cpu
                    .kmem_cache_alloc(cache, black_box(Gfp::GFP_KERNEL))
                    .unwrap();
                cpu.kmem_cache_free(cache, black_box(o)).unwrap();
            }
        }
        Path::Mimalloc64 => {
            for _ in 0..pairs {
                // SAFETY: non-zero layout; freed with the same layout.
                unsafe {
                    let p = MiMalloc.alloc(black_box(layout));
                    assert!(!p.is_null());
                    MiMalloc.dealloc(black_box(p), layout);
                }
            }
        }
    }
    start.elapsed()
}

/// One timed run on `nthreads` threads; returns each thread's ns/pair.
fn trial(
    mem: &'static Mem,
    cache: &KmemCache,
    path: Path,
    nthreads: usize,
    pairs: u64,
) -> Vec<f64> {
    let barrier = Barrier::new(nthreads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..nthreads)
            .map(|id| {
                let barrier = &barrier;
                s.spawn(move || {
                    common::pin_to_core(id);
                    let cpu = mem.cpu(id).unwrap();
                    // Warm the lists and caches of this CPU.
                    run(path, &cpu, cache, pairs / 20);
                    barrier.wait();
                    let d = run(path, &cpu, cache, pairs);
                    d.as_nanos() as f64 / pairs as f64
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; take the first two numeric arguments.
    let nums: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let pairs = nums.first().copied().unwrap_or(20_000_000);
    let reps = nums.get(1).copied().unwrap_or(5) as usize;

    let mem = common::boot_default(2);
    let cache = mem
        .kmem_cache_create("bench64", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    println!(
        "percpu_scaling: {pairs} pairs per thread, {reps} repetitions, median ns/pair \
         (host CPUs: {})",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<30} {:>10} {:>12} {:>12} {:>8} {:>8} {:>8}",
        "path", "1 thread", "2thr: cpu0", "2thr: cpu1", "ratio0", "ratio1", "min"
    );
    for path in [Path::Page0, Path::Slab64, Path::Mimalloc64] {
        let mut one = Vec::new();
        let mut two = [Vec::new(), Vec::new()];
        for _ in 0..reps {
            one.push(trial(mem, &cache, path, 1, pairs)[0]);
            let t = trial(mem, &cache, path, 2, pairs);
            two[0].push(t[0]);
            two[1].push(t[1]);
        }
        let one_raw = one.clone();
        let one = median(one);
        let t0 = median(two[0].clone());
        let t1 = median(two[1].clone());
        let (r0, r1) = (one / t0, one / t1);
        println!(
            "{:<30} {:>10.2} {:>12.2} {:>12.2} {:>8.3} {:>8.3} {:>8.3}",
            path.name(),
            one,
            t0,
            t1,
            r0,
            r1,
            r0.min(r1)
        );
        println!(
            "    raw 1 thread: {:.2?}  2 threads cpu0: {:.2?}  cpu1: {:.2?}",
            one_raw, two[0], two[1]
        );
    }
}
