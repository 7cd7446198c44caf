//! Shared bench harness: boot a `Mem` over RAM from the host heap, as
//! crates/mm/tests/common does, and leak it so CPU guards are `'static`.
#![allow(dead_code)]

use std::alloc::{alloc_zeroed, Layout};
use std::ptr::NonNull;

use std::alloc::GlobalAlloc;
use std::hint::black_box;
use std::time::Duration;

use mm::{Cpu, Gfp, Mem, MemConfig};

/// RAM given to every instance booted here, and the region size of the
/// buddy_system_allocator baseline.
pub const RAM_BYTES: usize = 64 << 20;

/// `bytes` of zeroed, page-aligned host memory that is never freed.
pub fn leak_region(bytes: usize) -> NonNull<u8> {
    let layout = Layout::from_size_align(bytes, mm::mem::RAM_ALIGN).unwrap();
    // SAFETY: the layout has non-zero size.
    NonNull::new(unsafe { alloc_zeroed(layout) }).expect("host out of memory")
}

/// Boot an instance over `RAM_BYTES` of leaked host memory.
pub fn boot(cfg: MemConfig) -> &'static Mem {
    let ram = leak_region(RAM_BYTES);
    // SAFETY: `ram` is ours, writable, and leaked, so it outlives the `Mem`
    // (which is leaked too); nothing else touches it.
    let mem =
        unsafe { Mem::boot(ram, RAM_BYTES, cfg, Box::new(|s| eprint!("{s}"))) }.expect("boot");
    Box::leak(Box::new(mem))
}

/// Boot with `nr_cpus` CPUs and otherwise default settings (pcp_orders = 4).
pub fn boot_default(nr_cpus: usize) -> &'static Mem {
    boot(MemConfig {
        nr_cpus,
        ..MemConfig::default()
    })
}

/// Pin the calling thread to host CPU `core` (best effort: on failure the
/// thread just stays unpinned).
pub fn pin_to_core(core: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it;
    // sched_setaffinity(0, ..) affects only the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(core, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// One alloc+free pair of 2^order pages through `cpu` (the per-CPU lists
/// for orders below `pcp_orders`).
#[inline(always)]
pub fn page_pair(cpu: &Cpu<'_>, order: u32) {
    let p = cpu.alloc_pages(black_box(Gfp::GFP_KERNEL), black_box(order));
    cpu.__free_pages(black_box(p.expect("out of memory")), black_box(order))
        .unwrap();
}

/// One alloc+free pair through a `GlobalAlloc` baseline.
#[inline(always)]
pub fn global_pair<A: GlobalAlloc>(a: &A, layout: Layout) {
    // SAFETY: callers pass non-zero layouts; the block is freed at once
    // with the layout it was allocated with.
    unsafe {
        let p = a.alloc(black_box(layout));
        assert!(!p.is_null());
        a.dealloc(black_box(p), layout);
    }
}

/// Criterion settings shared by the benches: short, so the suite runs in
/// minutes on two cores.
pub fn criterion_config() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}
