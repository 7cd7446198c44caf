//! Typed caches, KBox, the Kmalloc allocator and the standard caches.

mod common;
use common::settle;

use std::sync::atomic::{AtomicUsize, Ordering};

use allocator_api2::vec::Vec as KVec;
use mm::kbox::{Kmalloc, TypedCache};
use mm::vmstat::NodeStatItem;
use mm::{Gfp, MemConfig, PageFlags, SlabFlags, StdCache};

const G: Gfp = Gfp::GFP_KERNEL;

static DROPS: AtomicUsize = AtomicUsize::new(0);

struct Tracked {
    id: u64,
    payload: [u8; 40],
    tag: &'static str,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

fn tracked(id: u64) -> Tracked {
    Tracked {
        id,
        payload: [id as u8; 40],
        tag: "kbox",
    }
}

#[test]
fn values_round_trip_and_drop_runs() {
    let k = common::boot();
    let mem = &k.mem;
    let tc = TypedCache::<Tracked>::create(mem, "tracked_cache", SlabFlags::empty()).unwrap();
    assert_eq!(tc.cache().name(), "tracked_cache");
    assert_eq!(tc.cache().object_size(), std::mem::size_of::<Tracked>());
    assert_eq!(tc.cache().active_objs(), 0);
    let cpu = mem.cpu(0).unwrap();
    let mut boxes = Vec::new();
    for id in 0..500u64 {
        let b = tc
            .alloc(&cpu, tracked(id), G)
            .unwrap_or_else(|_| panic!("alloc {id}"));
        let p = b.as_ptr() as usize;
        assert!(
            mem.contains(p, std::mem::size_of::<Tracked>()),
            "KBox outside ferrite's RAM"
        );
        assert_eq!(p % std::mem::align_of::<Tracked>(), 0);
        boxes.push(b);
    }
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        0,
        "moving a value in must not drop it"
    );
    for (i, b) in boxes.iter_mut().enumerate() {
        assert_eq!((b.id, b.payload, b.tag), (i as u64, [i as u8; 40], "kbox"));
        b.id += 1000;
        b.payload[39] = 0xEE;
    }
    for (i, b) in boxes.iter().enumerate() {
        assert_eq!(b.id, i as u64 + 1000);
        assert_eq!(b.payload[39], 0xEE);
        assert_eq!(b.tag, "kbox");
    }
    assert!(tc.cache().active_objs() >= 500);
    // Half through Drop (CPU-less free), half through free_on (this CPU).
    let second = boxes.split_off(250);
    drop(boxes);
    assert_eq!(DROPS.load(Ordering::SeqCst), 250);
    for b in second {
        b.free_on(&cpu);
    }
    assert_eq!(DROPS.load(Ordering::SeqCst), 500);
    cpu.kmem_cache_shrink(tc.cache());
    assert_eq!(tc.cache().active_objs(), 0, "objects not returned");
    assert_eq!(tc.cache().slab_counts().total, 0);
    assert_eq!(k.log(), "");
}

#[repr(align(256))]
struct Aligned256([u8; 300]);

#[test]
fn alignment_and_zero_sized_types() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let tc = TypedCache::<Aligned256>::create(mem, "aligned256", SlabFlags::empty()).unwrap();
    assert_eq!(tc.cache().size() % 256, 0);
    let boxes: Vec<_> = (0..100u8)
        .map(|i| tc.alloc(&cpu, Aligned256([i; 300]), G).ok().unwrap())
        .collect();
    for (i, b) in boxes.iter().enumerate() {
        assert_eq!(b.as_ptr() as usize % 256, 0, "box {i} misaligned");
        assert!(b.0.iter().all(|&x| x == i as u8));
    }
    drop(boxes);
    let unit = TypedCache::<()>::create(mem, "unit", SlabFlags::empty()).unwrap();
    assert_eq!(unit.cache().object_size(), 1);
    let u1 = unit.alloc(&cpu, (), G).ok().unwrap();
    let u2 = unit.alloc(&cpu, (), G).ok().unwrap();
    assert_ne!(u1.as_ptr(), u2.as_ptr(), "distinct boxes share an object");
}

#[test]
fn exhaustion_gives_the_value_back() {
    let k = common::boot_quiet(8 << 20, 1);
    let mem = &k.mem;
    let base = {
        let tc = TypedCache::<[u64; 512]>::create(mem, "big_values", SlabFlags::empty()).unwrap();
        let base = settle(&k.mem);
        let cpu = mem.cpu(0).unwrap();
        let mut boxes = Vec::new();
        let rejected = loop {
            match tc.alloc(
                &cpu,
                [boxes.len() as u64; 512],
                Gfp::GFP_NOWAIT | Gfp::__GFP_NOWARN,
            ) {
                Ok(b) => boxes.push(b),
                Err(v) => break v,
            }
            assert!(
                boxes.len() < 4096,
                "8 MiB cannot hold this many 4 KiB objects"
            );
        };
        assert!(
            rejected.iter().all(|&w| w == boxes.len() as u64),
            "value not given back intact"
        );
        assert!(boxes.len() > 200);
        for (i, b) in boxes.iter().enumerate() {
            assert!(b.iter().all(|&w| w == i as u64));
        }
        drop(boxes);
        drop(cpu);
        base
    };
    // The cache descriptor stays listed (TypedCache does not destroy it).
    assert_eq!(settle(&k.mem), base);
}

#[test]
fn kboxes_can_be_dropped_on_other_threads() {
    let k = common::boot();
    let mem = &k.mem;
    let tc = TypedCache::<[u64; 6]>::create(mem, "sendable", SlabFlags::empty()).unwrap();
    let boxes: Vec<_> = {
        let cpu = mem.cpu(0).unwrap();
        (0..64u64)
            .map(|i| tc.alloc(&cpu, [i; 6], G).ok().unwrap())
            .collect()
    };
    std::thread::scope(|s| {
        let h = s.spawn(move || {
            for (i, b) in boxes.into_iter().enumerate() {
                assert_eq!(*b, [i as u64; 6]);
            }
        });
        h.join().unwrap();
    });
    mem.kmem_cache_shrink(tc.cache());
    assert_eq!(tc.cache().active_objs(), 0);
}

fn grow_vec(mem: &mm::Mem, n: u64) -> KVec<u64, Kmalloc<'_>> {
    let mut v: KVec<u64, Kmalloc> = KVec::new_in(Kmalloc::new(mem));
    let mut saw_slab = false;
    for i in 0..n {
        v.push(i * 3);
        let p = v.as_ptr() as usize;
        assert!(
            mem.contains(p, v.capacity() * 8),
            "Vec buffer outside ferrite's RAM"
        );
        assert!(mem.ksize(v.as_ptr().cast()) >= v.capacity() * 8);
        if v.capacity() * 8 <= 8192 {
            saw_slab = true;
        }
    }
    assert!(saw_slab);
    v
}

#[test]
fn kmalloc_vec_grows_into_large_kmalloc_and_is_freed() {
    let k = common::boot();
    let mem = &k.mem;
    let base = settle(&k.mem);
    // Warm up: the kmalloc caches the small buffers pass through keep their
    // (now empty) slabs, so the second round grows no slab and the counter
    // moves for the large buffers only.
    {
        let mut v = grow_vec(mem, 5000);
        v.truncate(10);
        v.shrink_to_fit();
    }
    let u0 = mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable);
    {
        let mut v = grow_vec(mem, 5000);
        assert!(v.capacity() * 8 > 8192);
        let head = mem.virt_to_page(v.as_ptr() as usize).unwrap();
        assert!(
            head.flags().contains(PageFlags::LARGE_KMALLOC),
            "buffer above 8 KiB is not a large kmalloc"
        );
        let pages = mem.ksize(v.as_ptr().cast()) / mm::PAGE_SIZE;
        assert_eq!(
            mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable),
            u0 + pages
        );
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64 * 3));
        v.truncate(10);
        v.shrink_to_fit();
        assert!(v.capacity() * 8 <= 8192);
        assert_eq!(
            mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable),
            u0,
            "large buffer not freed"
        );
        assert_eq!(&v[..], &[0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
        // Another grow straight to large, then drop.
        v.reserve(100_000);
        assert!(
            mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable) >= u0 + 100_000 * 8 / mm::PAGE_SIZE
        );
    }
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable), u0);
    assert_eq!(settle(&k.mem), base, "Vec<_, Kmalloc> leaked");
    assert_eq!(k.log(), "");
}

#[repr(align(512))]
#[derive(Clone, Copy)]
struct Aligned512([u8; 512]);

/// Kmalloc promises alignment by rounding to a power of two, relying on
/// kmalloc's natural alignment of power-of-two sizes (see kmalloc.rs).
#[test]

fn kmalloc_allocator_honours_alignment() {
    let k = common::boot();
    let mem = &k.mem;
    let mut vs = Vec::new();
    for i in 0..64u8 {
        let mut v: KVec<Aligned512, Kmalloc> = KVec::new_in(Kmalloc::new(mem));
        v.push(Aligned512([i; 512]));
        assert_eq!(v.as_ptr() as usize % 512, 0, "allocation {i} misaligned");
        assert_eq!(v[0].0[511], i);
        vs.push(v);
    }
}

#[test]
fn kmalloc_with_gfp_and_typed_std_caches() {
    let k = common::boot();
    let mem = &k.mem;
    let mut v: KVec<u8, Kmalloc> = KVec::new_in(Kmalloc::with_gfp(mem, G | Gfp::__GFP_ZERO));
    v.reserve(1000);
    // SAFETY: the allocator zeroed the buffer; u8 has no invalid values.
    let spare = unsafe { std::slice::from_raw_parts(v.as_ptr(), v.capacity()) };
    assert!(spare.iter().all(|&b| b == 0));
    drop(v);

    // signal_cache: 1152-byte objects (Linux's size until the kernel's
    // signal_struct exists), cache-line aligned.
    let sig = mem.std_cache(StdCache::SignalCache);
    assert_eq!(sig.object_size(), 1152);
    let tc = TypedCache::<[u64; 144]>::from_cache(sig).expect("1152-byte objects hold 144 words");
    assert!(
        TypedCache::<[u64; 145]>::from_cache(sig).is_none(),
        "too big for signal_cache"
    );
    assert!(
        TypedCache::<Aligned256>::from_cache(sig).is_none(),
        "alignment beyond a cache line"
    );
    let cpu = mem.cpu(0).unwrap();
    let b = tc.alloc(&cpu, [5; 144], G).ok().unwrap();
    assert_eq!(*b, [5; 144]);
    let obj_page = mem.virt_to_page(b.as_ptr() as usize).unwrap();
    assert!(
        obj_page.flags().contains(PageFlags::SLAB) || obj_page.flags().contains(PageFlags::TAIL)
    );
    b.free_on(&cpu);
}

#[test]
fn standard_caches_exist_with_linux_names() {
    let k = common::boot();
    let mem = &k.mem;
    let names: Vec<_> = StdCache::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "task_struct",
            "mm_struct",
            "vm_area_struct",
            "files_cache",
            "signal_cache"
        ]
    );
    let listed: Vec<String> = mem.caches().iter().map(|c| c.name().to_string()).collect();
    let sizes = MemConfig::default().std_cache_sizes;
    for (i, which) in StdCache::ALL.iter().enumerate() {
        let c = mem.std_cache(*which);
        assert_eq!(c.name(), which.name());
        assert_eq!(c.object_size(), sizes[i]);
        assert_eq!(c.size() % 64, 0, "{} is SLAB_HWCACHE_ALIGN", c.name());
        assert!(
            listed.iter().any(|n| n == which.name()),
            "{} not in the cache list",
            which.name()
        );
    }
    for name in [
        "kmem_cache",
        "kmalloc-8",
        "kmalloc-96",
        "kmalloc-192",
        "kmalloc-1k",
        "kmalloc-8k",
    ] {
        assert!(listed.iter().any(|n| n == name), "{name} missing");
    }
    assert_eq!(mem.kmem_cache_cache().name(), "kmem_cache");
    // The kernel can pass its own structure sizes.
    let k2 = common::boot_with(
        16 << 20,
        MemConfig {
            std_cache_sizes: [1000, 900, 100, 300, 500],
            ..MemConfig::default()
        },
    );
    assert_eq!(k2.mem.std_cache(StdCache::TaskStruct).object_size(), 1000);
    assert_eq!(k2.mem.std_cache(StdCache::SignalCache).object_size(), 500);
    // Allocating from each works.
    let cpu = k2.mem.cpu(0).unwrap();
    for which in StdCache::ALL {
        let c = k2.mem.std_cache(which);
        let o = cpu.kmem_cache_alloc(c, G).unwrap();
        assert!(k2.mem.contains(o.as_ptr() as usize, c.object_size()));
        cpu.kmem_cache_free(c, o).unwrap();
    }
}

/// With slab_debug every object sits 8 bytes (the left red zone) past a
/// stride boundary, so a cache whose stride is a multiple of align_of::<T>()
/// can still hand out objects misaligned for T. from_cache must refuse it
/// (or the layout must keep the alignment).
#[test]

fn from_cache_checks_real_object_alignment_under_slab_debug() {
    let k = common::boot_cpus(16 << 20, 1, true);
    let mem = &k.mem;
    let kc = mem.kmalloc_cache(2); // kmalloc-32: stride 48 with red zones
    assert!(kc.debug());
    if let Some(tc) = TypedCache::<u128>::from_cache(kc) {
        let cpu = mem.cpu(0).unwrap();
        let b = tc.alloc(&cpu, 7u128, G).ok().unwrap();
        assert_eq!(b.as_ptr() as usize % 16, 0, "u128 at a misaligned address");
        b.free_on(&cpu);
    }
}

/// The same under slab_debug through the Kmalloc allocator: align 16 is
/// served from kmalloc-32, whose debug objects are only 8-byte aligned.
#[test]

fn kmalloc_allocator_aligns_under_slab_debug() {
    let k = common::boot_cpus(16 << 20, 1, true);
    let mem = &k.mem;
    let mut v: KVec<u128, Kmalloc> = KVec::new_in(Kmalloc::new(mem));
    v.push(1);
    assert_eq!(v.as_ptr() as usize % 16, 0);
}
