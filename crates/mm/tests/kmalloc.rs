//! kmalloc: size classes, zeroing, krealloc, kfree misuse, accounting.

mod common;
use common::{settle, total_free};

use std::ptr::NonNull;

use mm::kmalloc::{kmalloc_index, KMALLOC_INFO, KMALLOC_MAX_SIZE, ZERO_SIZE_PTR};
use mm::vmstat::NodeStatItem;
use mm::{Gfp, MmError, PageFlags, PAGE_SIZE};

const G: Gfp = Gfp::GFP_KERNEL;

fn fill(p: NonNull<u8>, n: usize, seed: u8) {
    for i in 0..n {
        // SAFETY: the caller owns at least n bytes at p.
        unsafe { p.as_ptr().add(i).write(seed.wrapping_add((i % 251) as u8)) };
    }
}

fn check(p: NonNull<u8>, n: usize, seed: u8) {
    for i in 0..n {
        // SAFETY: the caller owns at least n bytes at p.
        let b = unsafe { p.as_ptr().add(i).read() };
        assert_eq!(
            b,
            seed.wrapping_add((i % 251) as u8),
            "byte {i} of {p:?} changed"
        );
    }
}

#[test]
fn size_class_boundaries_are_linuxs() {
    let k = common::boot();
    let mem = &k.mem;
    let base = settle(&k.mem);
    let cpu = mem.cpu(0).unwrap();
    let cases: &[(usize, usize, Option<&str>)] = &[
        (1, 8, Some("kmalloc-8")),
        (8, 8, Some("kmalloc-8")),
        (9, 16, Some("kmalloc-16")),
        (16, 16, Some("kmalloc-16")),
        (17, 32, Some("kmalloc-32")),
        (33, 64, Some("kmalloc-64")),
        (64, 64, Some("kmalloc-64")),
        (65, 96, Some("kmalloc-96")),
        (96, 96, Some("kmalloc-96")),
        (97, 128, Some("kmalloc-128")),
        (128, 128, Some("kmalloc-128")),
        (129, 192, Some("kmalloc-192")),
        (192, 192, Some("kmalloc-192")),
        (193, 256, Some("kmalloc-256")),
        (256, 256, Some("kmalloc-256")),
        (257, 512, Some("kmalloc-512")),
        (1000, 1024, Some("kmalloc-1k")),
        (1025, 2048, Some("kmalloc-2k")),
        (4096, 4096, Some("kmalloc-4k")),
        (4097, 8192, Some("kmalloc-8k")),
        (8192, 8192, Some("kmalloc-8k")),
        (8193, 16384, None),
        (16384, 16384, None),
        (16385, 32768, None),
        (100_000, 128 << 10, None),
        (1 << 20, 1 << 20, None),
        ((1 << 20) + 1, 2 << 20, None),
        (4 << 20, 4 << 20, None),
    ];
    let mut held = Vec::new();
    for &(size, want, cache) in cases {
        let p = cpu
            .kmalloc(size, G)
            .unwrap_or_else(|| panic!("kmalloc({size}) failed"));
        assert_eq!(mem.ksize(p.as_ptr()), want, "ksize(kmalloc({size}))");
        assert!(mem.contains(p.as_ptr() as usize, want));
        assert_eq!(
            p.as_ptr() as usize % 8,
            0,
            "kmalloc({size}) not 8-byte aligned"
        );
        let page = mem.virt_to_page(p.as_ptr() as usize).unwrap();
        match cache {
            Some(name) => {
                assert_eq!(KMALLOC_INFO[kmalloc_index(size)].0, name);
                let c = mem.kmalloc_cache(kmalloc_index(size));
                assert_eq!(c.name(), name);
                // The slab's head page: slabs are naturally aligned blocks.
                let pfn = mem.virt_to_pfn(p.as_ptr() as usize).unwrap();
                let head = mem.pfn_to_page(pfn & !((1usize << c.order()) - 1)).unwrap();
                assert!(
                    head.flags().contains(PageFlags::SLAB),
                    "kmalloc({size}) not from a slab"
                );
                if c.order() > 0 && pfn != pfn & !((1usize << c.order()) - 1) {
                    assert!(page.flags().contains(PageFlags::TAIL));
                }
            }
            None => {
                assert!(
                    page.flags().contains(PageFlags::LARGE_KMALLOC),
                    "kmalloc({size}) not a large kmalloc"
                );
                assert_eq!(p.as_ptr() as usize % PAGE_SIZE, 0);
                assert_eq!(
                    page.order() as usize,
                    (want / PAGE_SIZE).trailing_zeros() as usize
                );
            }
        }
        fill(p, size.min(1 << 16), size as u8);
        held.push((p, size));
    }
    for &(p, size) in &held {
        check(p, size.min(1 << 16), size as u8);
    }
    // Too big: fails, with a report unless __GFP_NOWARN.
    assert!(cpu.kmalloc(KMALLOC_MAX_SIZE + 1, G).is_none());
    assert!(k.log().contains("exceeds KMALLOC_MAX_SIZE"), "{}", k.log());
    k.clear_log();
    assert!(cpu
        .kmalloc(KMALLOC_MAX_SIZE + 1, G | Gfp::__GFP_NOWARN)
        .is_none());
    assert!(cpu.kmalloc(usize::MAX, G | Gfp::__GFP_NOWARN).is_none());
    assert_eq!(k.log(), "");
    // kmalloc(0) is ZERO_SIZE_PTR: not NULL, size 0, freeable.
    let z = cpu.kmalloc(0, G).unwrap();
    assert_eq!(z.as_ptr() as usize, ZERO_SIZE_PTR);
    assert_eq!(mem.ksize(z.as_ptr()), 0);
    for (p, _) in held {
        cpu.kfree(p.as_ptr()).unwrap();
    }
    cpu.kfree(z.as_ptr()).unwrap();
    cpu.kfree(std::ptr::null()).unwrap();
    assert_eq!(k.log(), "");
    drop(cpu);
    assert_eq!(settle(&k.mem), base, "kmalloc leaked");
}

/// Linux guarantees that kmalloc of a power-of-two size is aligned to that
/// size (include/linux/slab.h); kmalloc caches are created with
/// align = size for that. Allocator users (Kmalloc) rely on it.
#[test]

fn power_of_two_sizes_are_naturally_aligned() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    for shift in 3..=13 {
        let size = 1usize << shift;
        let c = mem.kmalloc_cache(kmalloc_index(size));
        let n = (4 * c.objs_per_slab()).max(8);
        let objs: Vec<_> = (0..n).map(|_| cpu.kmalloc(size, G).unwrap()).collect();
        for p in &objs {
            assert_eq!(
                p.as_ptr() as usize % size,
                0,
                "kmalloc({size}) = {p:?} not {size}-aligned"
            );
        }
        for p in objs {
            cpu.kfree(p.as_ptr()).unwrap();
        }
    }
}

#[test]
fn kzalloc_zeroes_reused_memory() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    for size in [
        1usize,
        8,
        24,
        64,
        96,
        200,
        700,
        3000,
        8192,
        8193,
        50_000,
        1 << 20,
    ] {
        let p = cpu.kmalloc(size, G).unwrap();
        let ks = mem.ksize(p.as_ptr());
        // SAFETY: ksize bytes are usable.
        unsafe { std::ptr::write_bytes(p.as_ptr(), 0xEE, ks) };
        cpu.kfree(p.as_ptr()).unwrap();
        let z = cpu.kzalloc(size, G).unwrap();
        if size <= 8192 {
            assert_eq!(z, p, "kmalloc caches are LIFO per CPU");
        }
        // SAFETY: as above.
        let s = unsafe { std::slice::from_raw_parts(z.as_ptr(), mem.ksize(z.as_ptr())) };
        assert!(s.iter().all(|&b| b == 0), "kzalloc({size}) not zeroed");
        cpu.kfree(z.as_ptr()).unwrap();
    }
    // The CPU-less path zeroes too.
    let p = mem.kmalloc_nocpu(100, G).unwrap();
    // SAFETY: 100 bytes are ours.
    unsafe { std::ptr::write_bytes(p.as_ptr(), 0xEE, 100) };
    mem.kfree_nocpu(p.as_ptr()).unwrap();
    let z = mem.kmalloc_nocpu(100, G | Gfp::__GFP_ZERO).unwrap();
    // SAFETY: as above.
    assert!(unsafe { std::slice::from_raw_parts(z.as_ptr(), 128) }
        .iter()
        .all(|&b| b == 0));
    mem.kfree_nocpu(z.as_ptr()).unwrap();
}

#[test]
fn krealloc_keeps_contents_across_classes_and_into_large() {
    let k = common::boot();
    let mem = &k.mem;
    let base = settle(&k.mem);
    {
        let cpu = mem.cpu(0).unwrap();
        let mut p = cpu.krealloc(std::ptr::null(), 10, G).unwrap();
        let mut len = 10;
        fill(p, len, 3);
        for new in [
            12usize,
            50,
            100,
            150,
            200,
            1000,
            5000,
            8192,
            9000,
            100_000,
            1 << 20,
            (3 << 20) + 5,
        ] {
            let old = p;
            let old_ks = mem.ksize(old.as_ptr());
            p = cpu
                .krealloc(p.as_ptr(), new, G)
                .unwrap_or_else(|| panic!("krealloc to {new}"));
            if new <= old_ks {
                assert_eq!(p, old, "krealloc within ksize must not move");
            } else {
                assert_ne!(p, old);
                assert!(mem.ksize(p.as_ptr()) >= new);
            }
            check(p, len, 3);
            fill(p, new, 3);
            len = new;
        }
        // Shrinking keeps the block.
        let q = cpu.krealloc(p.as_ptr(), 100, G).unwrap();
        assert_eq!(q, p);
        check(q, 100, 3);
        // Shrinking with __GFP_ZERO clears the tail.
        let q = cpu.krealloc(q.as_ptr(), 50, G | Gfp::__GFP_ZERO).unwrap();
        check(q, 50, 3);
        // SAFETY: the block is ours and ksize long.
        let tail =
            unsafe { std::slice::from_raw_parts(q.as_ptr().add(50), mem.ksize(q.as_ptr()) - 50) };
        assert!(tail.iter().all(|&b| b == 0));
        // Failure leaves the old block alone.
        assert!(cpu
            .krealloc(q.as_ptr(), KMALLOC_MAX_SIZE + 1, G | Gfp::__GFP_NOWARN)
            .is_none());
        check(q, 50, 3);
        // From slab to slab, and to zero.
        let small = cpu.kmalloc(30, G).unwrap();
        fill(small, 30, 9);
        let grown = cpu.krealloc(small.as_ptr(), 31, G).unwrap();
        assert_eq!(grown, small, "30 -> 31 stays in kmalloc-32");
        let moved = cpu.krealloc(grown.as_ptr(), 33, G).unwrap();
        check(moved, 30, 9);
        assert_eq!(mem.ksize(moved.as_ptr()), 64);
        let zero = cpu.krealloc(moved.as_ptr(), 0, G).unwrap();
        assert_eq!(zero.as_ptr() as usize, ZERO_SIZE_PTR);
        // An invalid pointer is refused.
        let page = cpu.__get_free_page(G).unwrap();
        assert!(cpu.krealloc(page.as_ptr(), 10, G).is_none());
        assert!(k.log().contains("krealloc: invalid pointer"));
        cpu.free_page(page).unwrap();
        cpu.kfree(q.as_ptr()).unwrap();
    }
    assert_eq!(settle(&k.mem), base, "krealloc leaked");
}

#[test]
fn kfree_refuses_what_kmalloc_did_not_return() {
    let k = common::boot();
    let mem = &k.mem;
    let base = settle(&k.mem);
    {
        let cpu = mem.cpu(0).unwrap();
        let small = cpu.kmalloc(64, G).unwrap();
        let large = cpu.kmalloc(20_000, G).unwrap();
        let page = cpu.alloc_pages(G, 1).unwrap();
        let page_addr = mem.page_address(page);
        let free_before = total_free(mem);
        let counts_before = mem.buddy_counts();
        let refuse = |p: *const u8, want: &str| {
            let r = cpu.kfree(p);
            let log = k.log();
            assert!(
                log.contains(want),
                "kfree({p:?}) = {r:?}; log {log:?} lacks {want:?}"
            );
            k.clear_log();
            r
        };
        // Interior of a slab object.
        let r = refuse(
            small.as_ptr().wrapping_add(8),
            "is not the start of an object",
        );
        assert!(
            matches!(r, Err(MmError::InvalidFree { cache: Some(c), .. }) if c.as_str() == "kmalloc-64"),
            "{r:?}"
        );
        // Interior of a large allocation, in its head page and in a tail page.
        for off in [8usize, PAGE_SIZE, 3 * PAGE_SIZE + 100] {
            let p = large.as_ptr().wrapping_add(off);
            let r = refuse(p, "kfree: invalid pointer");
            assert_eq!(
                r,
                Err(MmError::InvalidFree {
                    addr: p as usize,
                    cache: None
                })
            );
        }
        // A page from the page allocator.
        let r = refuse(page_addr.as_ptr(), "not returned by kmalloc");
        assert_eq!(
            r,
            Err(MmError::InvalidFree {
                addr: page_addr.as_ptr() as usize,
                cache: None
            })
        );
        // A reserved frame (the mem_map).
        let mm0 = mem.page_address(mem.pfn_to_page(0).unwrap()).as_ptr();
        assert!(matches!(
            refuse(mm0, "kfree: invalid pointer"),
            Err(MmError::InvalidFree { .. })
        ));
        // Outside RAM.
        let host = Box::new([0u64; 4]);
        let h = host.as_ptr() as *const u8;
        assert_eq!(
            refuse(h, "BUG: kfree: address"),
            Err(MmError::BadAddress(h as usize))
        );
        // Nothing moved.
        assert_eq!(total_free(mem), free_before);
        assert_eq!(mem.buddy_counts(), counts_before);
        assert_eq!(mem.ksize(small.as_ptr()), 64);
        assert_eq!(mem.ksize(large.as_ptr()), 32 << 10);
        // null and ZERO_SIZE_PTR are no-ops, silently.
        cpu.kfree(std::ptr::null()).unwrap();
        cpu.kfree(ZERO_SIZE_PTR as *const u8).unwrap();
        mem.kfree_nocpu(ZERO_SIZE_PTR as *const u8).unwrap();
        assert_eq!(k.log(), "");
        // The real frees work, and a second kfree of the large block is refused.
        cpu.kfree(small.as_ptr()).unwrap();
        cpu.kfree(large.as_ptr()).unwrap();
        let free_after = total_free(mem);
        let r = refuse(large.as_ptr(), "kfree: invalid pointer");
        assert!(matches!(r, Err(MmError::InvalidFree { .. })), "{r:?}");
        assert_eq!(total_free(mem), free_after);
        cpu.__free_pages(page, 1).unwrap();
        // The CPU-less kfree refuses the same things.
        let r = mem.kfree_nocpu(page_addr.as_ptr().wrapping_add(0));
        assert!(matches!(r, Err(MmError::InvalidFree { .. })), "{r:?}");
        assert_eq!(mem.kfree_nocpu(h), Err(MmError::BadAddress(h as usize)));
        k.clear_log();
    }
    assert_eq!(settle(&k.mem), base);
}

#[test]
fn large_kmalloc_is_counted_in_sunreclaim() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let u0 = mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable);
    let a = cpu.kmalloc(100_000, G).unwrap(); // order 5
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable), u0 + 32);
    let b = cpu.kmalloc(1 << 20, G).unwrap(); // order 8
    assert_eq!(
        mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable),
        u0 + 32 + 256
    );
    let c = mem.kmalloc_nocpu(9000, G).unwrap(); // order 2, CPU-less
    assert_eq!(
        mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable),
        u0 + 32 + 256 + 4
    );
    // A refused kfree does not change the count.
    assert!(cpu.kfree(a.as_ptr().wrapping_add(1)).is_err());
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable), u0 + 292);
    cpu.kfree(a.as_ptr()).unwrap();
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable), u0 + 260);
    mem.kfree_nocpu(c.as_ptr()).unwrap();
    cpu.kfree(b.as_ptr()).unwrap();
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable), u0);
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabReclaimable), 0);
}

#[test]
fn random_mix_frees_everything() {
    let k = common::boot();
    let mem = &k.mem;
    let base = settle(&k.mem);
    {
        let cpu = mem.cpu(1).unwrap();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut live: Vec<(NonNull<u8>, usize, u8)> = Vec::new();
        for i in 0..5000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if live.len() > 300 || (x % 3 == 0 && !live.is_empty()) {
                let (p, n, s) = live.swap_remove((x >> 8) as usize % live.len());
                check(p, n, s);
                cpu.kfree(p.as_ptr()).unwrap();
            } else {
                let size = 1 + ((x >> 20) as usize % if x % 16 == 0 { 65536 } else { 2048 });
                let p = cpu.kmalloc(size, G).unwrap();
                assert!(mem.ksize(p.as_ptr()) >= size);
                let n = size.min(512);
                fill(p, n, i as u8);
                live.push((p, n, i as u8));
            }
        }
        for (p, n, s) in live {
            check(p, n, s);
            cpu.kfree(p.as_ptr()).unwrap();
        }
    }
    assert_eq!(settle(&k.mem), base);
    assert_eq!(k.log(), "");
}
