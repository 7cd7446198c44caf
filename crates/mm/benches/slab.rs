//! Slab fast path: kmem_cache_alloc+kmem_cache_free of 64-byte objects on one
//! CPU, against mimalloc and glibc malloc+free of 64 bytes in the same run.
//!
//! mimalloc is called through `mimalloc::MiMalloc`'s `GlobalAlloc` impl with
//! `Layout` 64/8 (the crate does not re-export its ffi; `alloc` is
//! `mi_malloc_aligned(64, 8)`, `dealloc` is `mi_free`).
//!
//! Run: `CARGO_TARGET_DIR=/work/tgt/bench cargo bench -p mm --bench slab`

mod common;

use std::alloc::Layout;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mimalloc::MiMalloc;
use mm::{Gfp, SlabFlags};

fn slab64(c: &mut Criterion) {
    let mem = common::boot_default(2);
    let cpu = mem.cpu(0).unwrap();
    let cache = mem
        .kmem_cache_create("bench64", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let layout = Layout::from_size_align(64, 8).unwrap();

    let mut g = c.benchmark_group("slab/64B");
    g.bench_function("ferrite_kmem_cache", |b| {
        b.iter(|| {
            let o = cpu
                .kmem_cache_alloc(&cache, black_box(Gfp::GFP_KERNEL))
                .unwrap();
            cpu.kmem_cache_free(&cache, black_box(o)).unwrap();
        })
    });
    g.bench_function("mimalloc", |b| {
        b.iter(|| common::global_pair(&MiMalloc, layout))
    });
    g.bench_function("glibc_malloc", |b| {
        b.iter(|| {
            // SAFETY: plain malloc/free of a block we own.
            unsafe {
                let p = libc::malloc(black_box(64));
                assert!(!p.is_null());
                libc::free(black_box(p));
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion_config();
    targets = slab64
}
criterion_main!(benches);
