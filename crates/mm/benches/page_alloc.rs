//! Page allocator: alloc+free pairs through ferrite's buddy allocator and its
//! per-CPU lists, against buddy_system_allocator 0.11 in the same run.
//!
//! Baseline: `buddy_system_allocator::LockedHeap<33>` (a `spin::Mutex` around
//! `Heap<33>`, used through `GlobalAlloc`, uncontended) serving blocks of
//! 4096 << order bytes aligned the same. Its region is as large and as aligned
//! as ferrite's RAM (64 MiB, 4 MiB aligned) minus the frames ferrite reserves
//! at boot (mem_map, boot cache descriptor), so both allocators start with
//! the same free memory and hence the same free blocks. The locked heap is
//! the fair comparison: ferrite's entry points may be called from any CPU,
//! so a shareable allocator must synchronise too. The bare `Heap<33>` (no
//! lock, `&mut` access) is measured for order 0 as well, for reference.
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/bench cargo bench -p mm --bench page_alloc`

mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;

use buddy_system_allocator::{Heap, LockedHeap};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mm::{Gfp, Mem, MemConfig, PAGE_SIZE};

/// The free part of a region laid out like `mem`'s RAM: (start, bytes).
fn heap_region(mem: &Mem) -> (usize, usize) {
    let region = common::leak_region(common::RAM_BYTES);
    let skip = mem.reserved_pages() * PAGE_SIZE;
    (region.as_ptr() as usize + skip, common::RAM_BYTES - skip)
}

fn locked_heap(mem: &Mem) -> &'static LockedHeap<33> {
    let heap: &'static LockedHeap<33> = Box::leak(Box::new(LockedHeap::<33>::new()));
    let (start, bytes) = heap_region(mem);
    // SAFETY: the region is ours, leaked, and used by nothing else.
    unsafe { heap.lock().init(start, bytes) };
    heap
}

fn block(order: u32) -> Layout {
    Layout::from_size_align(PAGE_SIZE << order, PAGE_SIZE << order).unwrap()
}

fn order0(c: &mut Criterion) {
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let heap = locked_heap(mem);
    let mut bare: Heap<33> = Heap::new();
    let (start, bytes) = heap_region(mem);
    // SAFETY: as in `locked_heap`.
    unsafe { bare.init(start, bytes) };
    let layout = block(0);

    let mut g = c.benchmark_group("page_alloc/order0");
    g.bench_function("ferrite_pcp", |b| b.iter(|| common::page_pair(&cpu, 0)));
    g.bench_function("bsa_LockedHeap33", |b| {
        b.iter(|| common::global_pair(heap, layout))
    });
    g.bench_function("bsa_Heap33_unlocked", |b| {
        b.iter(|| {
            let p = bare.alloc(black_box(layout)).unwrap();
            bare.dealloc(black_box(p), layout);
        })
    });
    g.finish();
}

/// Supplementary (not one of the targets): the order-0 pair after the heap
/// has aged. Each allocator hands out FRAG_BLOCKS pages and gets every other
/// one back, so half its free order-0 blocks have an allocated buddy.
/// buddy_system_allocator looks for a buddy by walking the free list of its
/// size class; ferrite checks the buddy's `struct page` (and order 0 goes to
/// the per-CPU list first anyway).
fn order0_fragmented(c: &mut Criterion) {
    const FRAG_BLOCKS: usize = 4096;
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let heap = locked_heap(mem);
    let layout = block(0);
    let pages: Vec<_> = (0..FRAG_BLOCKS)
        .map(|_| cpu.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap())
        .collect();
    for p in pages.iter().step_by(2) {
        cpu.__free_pages(p, 0).unwrap();
    }
    // SAFETY: non-zero layout; each block freed at most once, with it.
    let blocks: Vec<_> = (0..FRAG_BLOCKS)
        .map(|_| unsafe { heap.alloc(layout) })
        .collect();
    for &b in blocks.iter().step_by(2) {
        assert!(!b.is_null());
        // SAFETY: as above.
        unsafe { heap.dealloc(b, layout) };
    }

    let mut g = c.benchmark_group("page_alloc/order0_fragmented");
    g.bench_function("ferrite_pcp", |b| b.iter(|| common::page_pair(&cpu, 0)));
    g.bench_function("bsa_LockedHeap33", |b| {
        b.iter(|| common::global_pair(heap, layout))
    });
    g.finish();
}

fn orders(c: &mut Criterion) {
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let heap = locked_heap(mem);
    let mut g = c.benchmark_group("page_alloc/order");
    for order in 1..=10u32 {
        let layout = block(order);
        g.bench_with_input(BenchmarkId::new("ferrite", order), &order, |b, &o| {
            b.iter(|| common::page_pair(&cpu, o))
        });
        g.bench_with_input(
            BenchmarkId::new("bsa_LockedHeap33", order),
            &layout,
            |b, &l| b.iter(|| common::global_pair(heap, l)),
        );
    }
    g.finish();
}

fn pcp_orders(c: &mut Criterion) {
    let cfg = |pcp_orders| MemConfig {
        nr_cpus: 2,
        pcp_orders,
        ..MemConfig::default()
    };
    let with_pcp = common::boot(cfg(4));
    let without = common::boot(cfg(1));
    let cpu4 = with_pcp.cpu(0).unwrap();
    let cpu1 = without.cpu(0).unwrap();
    let mut g = c.benchmark_group("page_alloc/pcp_orders");
    for order in 1..=3u32 {
        for (name, cpu) in [("pcp_orders=4", &cpu4), ("pcp_orders=1", &cpu1)] {
            g.bench_with_input(BenchmarkId::new(name, order), &order, |b, &o| {
                b.iter(|| common::page_pair(cpu, o))
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = order0, orders, pcp_orders, order0_fragmented
}
criterion_main!(benches);
