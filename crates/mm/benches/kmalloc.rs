//! kmalloc+kfree pairs at 8 B .. 64 KiB on one CPU, against glibc malloc+free
//! and mimalloc at the same sizes, in the same run.
//!
//! Up to 8 KiB ferrite serves kmalloc from the kmalloc-* slab caches; 64 KiB
//! is a large kmalloc, an order-4 compound page from the page allocator
//! (order 4 is above the per-CPU lists, so it takes the zone lock).
//! mimalloc is called through `mimalloc::MiMalloc`'s `GlobalAlloc` impl with
//! align 8 (`mi_malloc_aligned` / `mi_free`).
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/bench cargo bench -p mm --bench kmalloc`

mod common;

use std::alloc::Layout;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mimalloc::MiMalloc;
use mm::Gfp;

const SIZES: [usize; 6] = [8, 64, 192, 1024, 8192, 65536];

fn kmalloc(c: &mut Criterion) {
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let mut g = c.benchmark_group("kmalloc");
    for size in SIZES {
        g.bench_with_input(BenchmarkId::new("ferrite", size), &size, |b, &s| {
            b.iter(|| {
                let p = cpu
                    .kmalloc(black_box(s), black_box(Gfp::GFP_KERNEL))
                    .unwrap();
                cpu.kfree(black_box(p.as_ptr())).unwrap();
            })
        });
        g.bench_with_input(BenchmarkId::new("glibc", size), &size, |b, &s| {
            b.iter(|| {
                // SAFETY: plain malloc/free of a block we own.
                unsafe {
                    let p = libc::malloc(black_box(s));
                    assert!(!p.is_null());
                    libc::free(black_box(p));
                }
            })
        });
        let layout = Layout::from_size_align(size, 8).unwrap();
        g.bench_with_input(BenchmarkId::new("mimalloc", size), &layout, |b, &l| {
            b.iter(|| common::global_pair(&MiMalloc, l))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = kmalloc
}
criterion_main!(benches);
