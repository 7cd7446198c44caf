//! Page allocator: alloc+free pairs through ferrite's buddy allocator and its
//! per-CPU lists, against buddy_system_allocator 0.11 in the same run.
//!
//! Baseline: `buddy_system_allocator::LockedHeap<33>` (a `spin::Mutex` around
//! `Heap<33>`, used through `GlobalAlloc`, uncontended) over a region of the
//! same size as ferrite's RAM, serving blocks of 4096 << order bytes aligned
//! the same. The locked heap is the fair comparison: ferrite's entry points
//! are callable from any CPU, so a shareable allocator must synchronise too.
//! The bare `Heap<33>` (no lock, `&mut` access) is measured for order 0 as
//! well, for reference.
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/bench cargo bench -p mm --bench page_alloc`

mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::time::Duration;

use buddy_system_allocator::{Heap, LockedHeap};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mm::{Gfp, MemConfig, PAGE_SIZE};

fn locked_heap() -> &'static LockedHeap<33> {
    let heap: &'static LockedHeap<33> = Box::leak(Box::new(LockedHeap::<33>::new()));
    let region = common::leak_region(common::RAM_BYTES);
    // SAFETY: the region is ours, leaked, and used by nothing else.
    unsafe {
        heap.lock()
            .init(region.as_ptr() as usize, common::RAM_BYTES)
    };
    heap
}

fn block(order: u32) -> Layout {
    Layout::from_size_align(PAGE_SIZE << order, PAGE_SIZE << order).unwrap()
}

fn order0(c: &mut Criterion) {
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let heap = locked_heap();
    let mut bare: Heap<33> = Heap::new();
    let region = common::leak_region(common::RAM_BYTES);
    // SAFETY: as in `locked_heap`.
    unsafe { bare.init(region.as_ptr() as usize, common::RAM_BYTES) };
    let layout = Layout::from_size_align(PAGE_SIZE, PAGE_SIZE).unwrap();

    let mut g = c.benchmark_group("page_alloc/order0");
    g.bench_function("ferrite_pcp", |b| {
        b.iter(|| {
            let p = cpu
                .alloc_pages(black_box(Gfp::GFP_KERNEL), black_box(0))
                .unwrap();
            cpu.__free_pages(black_box(p), black_box(0)).unwrap();
        })
    });
    g.bench_function("bsa_LockedHeap33", |b| {
        b.iter(|| {
            // SAFETY: layout has non-zero size; the block is freed with it.
            unsafe {
                let p = heap.alloc(black_box(layout));
                assert!(!p.is_null());
                heap.dealloc(black_box(p), layout);
            }
        })
    });
    g.bench_function("bsa_Heap33_unlocked", |b| {
        b.iter(|| {
            let p = bare.alloc(black_box(layout)).unwrap();
            bare.dealloc(black_box(p), layout);
        })
    });
    g.finish();
}

fn orders(c: &mut Criterion) {
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let heap = locked_heap();
    let mut g = c.benchmark_group("page_alloc/order");
    for order in 1..=10u32 {
        let layout = block(order);
        g.bench_with_input(BenchmarkId::new("ferrite", order), &order, |b, &o| {
            b.iter(|| {
                let p = cpu
                    .alloc_pages(black_box(Gfp::GFP_KERNEL), black_box(o))
                    .unwrap();
                cpu.__free_pages(black_box(p), black_box(o)).unwrap();
            })
        });
        g.bench_with_input(
            BenchmarkId::new("bsa_LockedHeap33", order),
            &layout,
            |b, &l| {
                b.iter(|| {
                    // SAFETY: as in `order0`.
                    unsafe {
                        let p = heap.alloc(black_box(l));
                        assert!(!p.is_null());
                        heap.dealloc(black_box(p), l);
                    }
                })
            },
        );
    }
    g.finish();
}

fn pcp_orders(c: &mut Criterion) {
    let with_pcp = common::boot(MemConfig {
        nr_cpus: 2,
        pcp_orders: 4,
        ..MemConfig::default()
    });
    let without = common::boot(MemConfig {
        nr_cpus: 2,
        pcp_orders: 1,
        ..MemConfig::default()
    });
    let cpu4 = with_pcp.cpu(0).unwrap();
    let cpu1 = without.cpu(0).unwrap();
    let mut g = c.benchmark_group("page_alloc/pcp_orders");
    for order in 1..=3u32 {
        for (name, cpu) in [("pcp_orders=4", &cpu4), ("pcp_orders=1", &cpu1)] {
            g.bench_with_input(BenchmarkId::new(name, order), &order, |b, &o| {
                b.iter(|| {
                    let p = cpu
                        .alloc_pages(black_box(Gfp::GFP_KERNEL), black_box(o))
                        .unwrap();
                    cpu.__free_pages(black_box(p), black_box(o)).unwrap();
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = order0, orders, pcp_orders
}
criterion_main!(benches);
