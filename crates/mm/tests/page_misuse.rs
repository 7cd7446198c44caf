//! Page allocator misuse: every bad free is refused with Linux's
//! "BUG: Bad page state" report and leaves the free lists as they were;
//! exhaustion fails cleanly; __GFP_ZERO zeroes.

mod common;
use common::total_free;

use std::ptr::NonNull;

use common::Kernel;
use mm::{
    BadPageReason, Gfp, Mem, MemConfig, MmError, Page, PageFlags, SlabFlags, MAX_ORDER, PAGE_SIZE,
};

/// What the free lists look like.
#[derive(Debug, PartialEq, Eq)]
struct Snap {
    counts: [usize; MAX_ORDER as usize + 1],
    free: usize,
    pcp: usize,
}

fn snap(mem: &Mem) -> Snap {
    Snap {
        counts: mem.buddy_counts(),
        free: mem.nr_free_pages(),
        pcp: mem.nr_pcp_pages(),
    }
}

fn boot() -> Kernel {
    common::boot_with(16 << 20, MemConfig::default())
}

fn pfn(mem: &Mem, p: &Page) -> usize {
    mem.page_to_pfn(p).unwrap()
}

/// `r` is a bad-page refusal for `pfn` with `reason`, reported on the
/// console, and the free lists are exactly `before`.
#[track_caller]
fn assert_bad_page(
    k: &Kernel,
    r: Result<(), MmError>,
    pfn: usize,
    reason: BadPageReason,
    before: &Snap,
) {
    assert_eq!(r, Err(MmError::BadPageState { pfn, reason }));
    let log = k.log();
    assert!(log.contains("BUG: Bad page state"), "no report in {log:?}");
    assert!(
        log.contains(&format!("pfn:{pfn:05x}")),
        "report does not name pfn {pfn:#x}: {log:?}"
    );
    assert!(log.contains("page dumped because: "), "{log:?}");
    assert_eq!(
        &snap(&k.mem),
        before,
        "a refused free changed the free lists"
    );
    k.clear_log();
}

/// The allocator still works: allocate and free a little of every kind.
#[track_caller]
fn still_works(mem: &Mem) {
    let cpu = mem.cpu(1).unwrap();
    let mut held = Vec::new();
    for order in [0, 0, 1, 3, 4, 6] {
        held.push((
            cpu.alloc_pages(Gfp::GFP_KERNEL, order)
                .expect("allocator broken"),
            order,
        ));
    }
    for (p, o) in held {
        cpu.__free_pages(p, o).unwrap();
    }
}

/// Everything is back: drain all CPUs (no guard held here) and compare.
#[track_caller]
fn all_back(k: &Kernel, boot_free: usize) {
    for c in k.mem.caches() {
        k.mem.kmem_cache_shrink(c);
    }
    assert_eq!(k.mem.nr_pcp_pages(), 0);
    assert_eq!(k.mem.nr_free_pages(), boot_free, "pages leaked");
}

/// The frame of every misuse test: boot, run `f` on CPU 0, then check the
/// allocator still works and every page came back.
fn misuse_case(f: impl FnOnce(&Kernel, &mm::Cpu<'_>)) {
    let k = boot();
    let mem = &k.mem;
    let boot_free = total_free(mem);
    {
        let cpu = mem.cpu(0).unwrap();
        f(&k, &cpu);
    }
    still_works(mem);
    all_back(&k, boot_free);
}

#[test]
fn double_free_order0_on_pcp_list() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap();
        let n = pfn(mem, p);
        cpu.__free_pages(p, 0).unwrap();
        assert!(
            p.flags().contains(PageFlags::PCP),
            "order-0 free should land on the pcp list"
        );
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(p, 0),
            n,
            BadPageReason::DoubleFree,
            &before,
        );
        // From another CPU too.
        let cpu1 = mem.cpu(1).unwrap();
        assert_bad_page(
            k,
            cpu1.__free_pages(p, 0),
            n,
            BadPageReason::DoubleFree,
            &before,
        );
        // And by address.
        assert_bad_page(
            k,
            cpu.free_pages(mem.page_address(p), 0),
            n,
            BadPageReason::DoubleFree,
            &before,
        );
    });
}

#[test]
fn double_free_order5_on_buddy_list() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 5).unwrap();
        let n = pfn(mem, p);
        let pcp = mem.nr_pcp_pages();
        cpu.__free_pages(p, 5).unwrap();
        assert_eq!(mem.nr_pcp_pages(), pcp, "order 5 must bypass the pcp lists");
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(p, 5),
            n,
            BadPageReason::DoubleFree,
            &before,
        );
        // A wrong order on the free block is still refused.
        let r = cpu.__free_pages(p, 0);
        assert!(
            matches!(r, Err(MmError::BadPageState { pfn, .. }) if pfn == n),
            "{r:?}"
        );
        assert_eq!(snap(mem), before);
        k.clear_log();
    });
}

#[test]
fn double_free_after_reuse_by_bigger_block_is_not_head() {
    // The freed page now lies inside someone else's block: refusing the
    // stale free must not free (part of) that block.
    let k = common::boot_with(
        16 << 20,
        MemConfig {
            pcp_orders: 1,
            quiet: true,
            ..MemConfig::default()
        },
    );
    let mem = &k.mem;
    let boot_free = total_free(mem);
    {
        let cpu = mem.cpu(0).unwrap();
        let small = cpu.alloc_pages(Gfp::GFP_KERNEL, 2).unwrap();
        let stale = pfn(mem, small) + 1;
        cpu.__free_pages(small, 2).unwrap();
        // Take order-1 blocks until one covers the stale page (RAM runs out otherwise).
        let mut held = Vec::new();
        let (head, block) = loop {
            let b = cpu
                .alloc_pages(Gfp::GFP_KERNEL, 1)
                .expect("freed page never reused");
            let h = pfn(mem, b);
            if (h..h + 2).contains(&stale) {
                break (h, b);
            }
            held.push(b);
        };
        let before = snap(mem);
        let r = cpu.__free_pages(mem.pfn_to_page(stale).unwrap(), 0);
        assert_bad_page(
            &k,
            r,
            stale,
            BadPageReason::NotHead {
                head_pfn: head,
                order: 1,
            },
            &before,
        );
        let r = cpu.__free_pages(mem.pfn_to_page(stale - 1).unwrap(), 2);
        assert!(matches!(r, Err(MmError::BadPageState { .. })), "{r:?}");
        assert_eq!(snap(mem), before);
        assert_eq!(block.refcount(), 1);
        cpu.__free_pages(block, 1).unwrap();
        for b in held {
            cpu.__free_pages(b, 1).unwrap();
        }
    }
    all_back(&k, boot_free);
}

#[test]
fn wrong_order() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        for (alloc, freed) in [
            (2u32, 1u32),
            (2, 3),
            (0, 1),
            (5, 4),
            (6, 0),
            (3, MAX_ORDER + 1),
        ] {
            let p = cpu.alloc_pages(Gfp::GFP_KERNEL, alloc).unwrap();
            let n = pfn(mem, p);
            let before = snap(mem);
            assert_bad_page(
                k,
                cpu.__free_pages(p, freed),
                n,
                BadPageReason::WrongOrder {
                    allocated: alloc,
                    freed,
                },
                &before,
            );
            assert_eq!(p.refcount(), 1, "refused free dropped the reference");
            cpu.__free_pages(p, alloc).unwrap();
        }
    });
}

#[test]
fn freeing_a_tail_page_of_a_plain_block() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 3).unwrap();
        let head = pfn(mem, p);
        assert!(!p.flags().contains(PageFlags::HEAD));
        let before = snap(mem);
        for (off, order) in [(1usize, 0u32), (4, 2), (7, 0), (2, 1)] {
            let t = mem.pfn_to_page(head + off).unwrap();
            assert_bad_page(
                k,
                cpu.__free_pages(t, order),
                head + off,
                BadPageReason::NotHead {
                    head_pfn: head,
                    order: 3,
                },
                &before,
            );
        }
        cpu.__free_pages(p, 3).unwrap();
    });
}

#[test]
fn freeing_a_tail_page_of_a_compound_block() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        for order in [1u32, 3, 6] {
            let p = cpu
                .alloc_pages(Gfp::GFP_KERNEL | Gfp::__GFP_COMP, order)
                .unwrap();
            let head = pfn(mem, p);
            assert!(p.flags().contains(PageFlags::HEAD));
            let last = head + (1 << order) - 1;
            assert!(mem
                .pfn_to_page(last)
                .unwrap()
                .flags()
                .contains(PageFlags::TAIL));
            let before = snap(mem);
            for t in [head + 1, last] {
                let tp = mem.pfn_to_page(t).unwrap();
                assert_bad_page(
                    k,
                    cpu.__free_pages(tp, 0),
                    t,
                    BadPageReason::NotHead {
                        head_pfn: head,
                        order,
                    },
                    &before,
                );
                // Freeing by an address inside the tail is the same misuse.
                let addr = NonNull::new(mem.page_address(tp).as_ptr().wrapping_add(100)).unwrap();
                assert_bad_page(
                    k,
                    cpu.free_pages(addr, order),
                    t,
                    BadPageReason::NotHead {
                        head_pfn: head,
                        order,
                    },
                    &before,
                );
            }
            cpu.__free_pages(p, order).unwrap();
            // The tail marks are gone once the block is free.
            assert!(!mem
                .pfn_to_page(last)
                .unwrap()
                .flags()
                .contains(PageFlags::TAIL));
        }
    });
}

#[test]
fn refcount_two_is_refused_then_put_page_releases() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 1).unwrap();
        let n = pfn(mem, p);
        p.get_page();
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(p, 1),
            n,
            BadPageReason::NonzeroRefcount(2),
            &before,
        );
        assert_eq!(p.refcount(), 2);
        assert!(k.log().is_empty());
        cpu.put_page(p).unwrap();
        assert_eq!(p.refcount(), 1);
        assert_eq!(
            snap(mem),
            before,
            "put_page of a shared page must not free it"
        );
        cpu.__free_pages(p, 1).unwrap();
    });
}

#[test]
fn nonzero_mapcount() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap();
        let n = pfn(mem, p);
        p.raw_mapcount()
            .store(0, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(p.mapcount(), 1);
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(p, 0),
            n,
            BadPageReason::NonzeroMapcount(1),
            &before,
        );
        p.raw_mapcount()
            .store(-1, std::sync::atomic::Ordering::Relaxed);
        cpu.__free_pages(p, 0).unwrap();
    });
}

#[test]
fn non_null_mapping() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 2).unwrap();
        let n = pfn(mem, p);
        p.set_mapping(0xffff_8880_dead_0000);
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(p, 2),
            n,
            BadPageReason::NonNullMapping,
            &before,
        );
        // The dump shows the mapping.
        p.set_mapping(0);
        cpu.__free_pages(p, 2).unwrap();
    });
}

#[test]
fn flags_set_at_free() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap();
        let n = pfn(mem, p);
        p.set_flag(PageFlags::LOCKED | PageFlags::LRU);
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(p, 0),
            n,
            BadPageReason::FlagsSetAtFree((PageFlags::LOCKED | PageFlags::LRU).bits()),
            &before,
        );
        p.clear_flag(PageFlags::LOCKED | PageFlags::LRU);
        cpu.__free_pages(p, 0).unwrap();

        // A slab page handed to __free_pages is refused as well.
        let c = mem
            .kmem_cache_create("misuse_slab", 64, 0, SlabFlags::empty(), None)
            .unwrap();
        let obj = cpu.kmem_cache_alloc(&c, Gfp::GFP_KERNEL).unwrap();
        let sp = mem.virt_to_page(obj.as_ptr() as usize).unwrap();
        let sn = pfn(mem, sp);
        let before = snap(mem);
        assert_bad_page(
            k,
            cpu.__free_pages(sp, c.order()),
            sn,
            BadPageReason::FlagsSetAtFree(PageFlags::SLAB.bits()),
            &before,
        );
        cpu.kmem_cache_free(&c, obj).unwrap();
        assert!(cpu.kmem_cache_destroy(c).is_ok());
    });
}

#[test]
fn freeing_reserved_pages() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let before = snap(mem);
        for n in [0, 1, mem.reserved_pages() - 1] {
            let p = mem.pfn_to_page(n).unwrap();
            assert!(p.flags().contains(PageFlags::RESERVED));
            assert_bad_page(
                k,
                cpu.__free_pages(p, 0),
                n,
                BadPageReason::Reserved,
                &before,
            );
            assert_bad_page(k, cpu.put_page(p), n, BadPageReason::Reserved, &before);
            assert_eq!(p.refcount(), 1, "reserved page refcount changed");
        }
    });
}

#[test]
fn free_pages_outside_ram() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        let before = snap(mem);
        let host = Box::new([0u8; 64]);
        let outside = NonNull::new(host.as_ptr() as *mut u8).unwrap();
        let a = outside.as_ptr() as usize;
        assert!(!mem.contains(a, 1));
        assert_eq!(cpu.free_pages(outside, 0), Err(MmError::BadAddress(a)));
        let log = k.log();
        assert!(log.contains("BUG: free_pages: address"), "{log:?}");
        assert!(log.contains(&format!("{a:#x}")), "{log:?}");
        assert_eq!(snap(mem), before);
        k.clear_log();
        // Just past the end of RAM.
        let end = mem
            .page_address(mem.pfn_to_page(mem.nr_pages() - 1).unwrap())
            .as_ptr() as usize
            + PAGE_SIZE;
        assert_eq!(
            cpu.free_pages(NonNull::new(end as *mut u8).unwrap(), 0),
            Err(MmError::BadAddress(end))
        );
        assert!(k.log().contains("outside RAM"));
        k.clear_log();
        // A page descriptor of another instance.
        let other = common::boot_with(4 << 20, MemConfig::default());
        let op = {
            let ocpu = other.mem.cpu(0).unwrap();
            ocpu.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap()
        };
        let r = cpu.__free_pages(op, 0);
        assert!(matches!(r, Err(MmError::BadAddress(_))), "{r:?}");
        assert_eq!(snap(mem), before);
        assert_eq!(op.refcount(), 1);
        k.clear_log();
    });
}

#[test]
fn put_page_frees_exactly_once() {
    misuse_case(|k, cpu| {
        let mem = &k.mem;
        for order in [0u32, 2, 5] {
            let p = cpu.alloc_pages(Gfp::GFP_KERNEL, order).unwrap();
            let n = pfn(mem, p);
            let held = total_free(mem);
            p.get_page();
            cpu.put_page(p).unwrap();
            assert_eq!(p.refcount(), 1);
            assert_eq!(total_free(mem), held, "first put_page freed a shared block");
            cpu.put_page(p).unwrap();
            assert_eq!(p.refcount(), 0);
            assert_eq!(
                total_free(mem),
                held + (1 << order),
                "last put_page did not free"
            );
            let before = snap(mem);
            assert_bad_page(k, cpu.put_page(p), n, BadPageReason::DoubleFree, &before);
            assert_eq!(
                p.refcount(),
                0,
                "refused put_page left the refcount changed"
            );
        }
    });
}

#[test]
fn exhaustion_fails_cleanly_and_atomic_dips_into_reserve() {
    let k = common::boot_with(
        8 << 20,
        MemConfig {
            nr_cpus: 2,
            ..MemConfig::default()
        },
    );
    let mem = &k.mem;
    let boot_free = total_free(mem);
    let (min, _, _) = mem.watermarks();
    let mut pages = Vec::new();
    {
        let cpu = mem.cpu(0).unwrap();
        // Park some pages on the other CPU's pcp list: direct reclaim must get them back.
        {
            let cpu1 = mem.cpu(1).unwrap();
            let ps: Vec<_> = (0..8)
                .map(|_| cpu1.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap())
                .collect();
            for p in ps {
                cpu1.__free_pages(p, 0).unwrap();
            }
            assert!(mem.nr_pcp_pages() > 0);
        }
        while let Some(p) = cpu.alloc_pages(Gfp::GFP_KERNEL, 0) {
            pages.push(p);
            assert!(pages.len() <= boot_free, "handed out more pages than exist");
        }
        let log = k.log();
        assert!(
            log.contains("swapper/0: page allocation failure: order:0"),
            "{log:?}"
        );
        assert!(log.contains("GFP_KERNEL"), "{log:?}");
        assert_eq!(
            mem.nr_pcp_pages(),
            0,
            "direct reclaim left pcp pages behind"
        );
        assert!(
            mem.nr_free_pages() <= min,
            "GFP_KERNEL gave up above min: {} > {min}",
            mem.nr_free_pages()
        );
        k.clear_log();

        // __GFP_NOWARN: the same failure, silently.
        assert!(cpu
            .alloc_pages(Gfp::GFP_KERNEL | Gfp::__GFP_NOWARN, 0)
            .is_none());
        assert_eq!(k.log(), "");
        // GFP_NOWAIT has no reserve either.
        assert!(cpu
            .alloc_pages(Gfp::GFP_NOWAIT | Gfp::__GFP_NOWARN, 0)
            .is_none());

        // GFP_ATOMIC gets some of the reserve below min, but not all of it.
        let mut atomic = 0;
        while let Some(p) = cpu.alloc_pages(Gfp::GFP_ATOMIC | Gfp::__GFP_NOWARN, 0) {
            pages.push(p);
            atomic += 1;
            assert!(atomic <= min, "GFP_ATOMIC emptied the reserve");
        }
        assert!(atomic > 0, "GFP_ATOMIC got nothing below the min watermark");
        assert!(mem.nr_free_pages() < min);
        assert!(
            mem.nr_free_pages() + mem.nr_pcp_pages() > 0,
            "GFP_ATOMIC may only use part of the reserve"
        );
        assert!(cpu.alloc_pages(Gfp::GFP_ATOMIC, 0).is_none());
        assert!(k.log().contains("page allocation failure: order:0"));
        // Higher orders fail too, with their order in the report.
        k.clear_log();
        assert!(cpu.alloc_pages(Gfp::GFP_KERNEL, 3).is_none());
        assert!(
            k.log().contains("page allocation failure: order:3"),
            "{}",
            k.log()
        );

        let mut seen: Vec<usize> = pages.iter().map(|p| pfn(mem, p)).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), pages.len(), "a page was handed out twice");
        for p in pages.drain(..) {
            cpu.__free_pages(p, 0).unwrap();
        }
    }
    all_back(&k, boot_free);
    still_works(mem);
}

#[test]
fn order_above_max_order_fails() {
    let k = boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let before = snap(mem);
    assert!(cpu.alloc_pages(Gfp::GFP_KERNEL, MAX_ORDER + 1).is_none());
    assert!(
        k.log().contains("page allocation failure: order:11"),
        "{}",
        k.log()
    );
    k.clear_log();
    assert!(cpu
        .alloc_pages(Gfp::GFP_KERNEL | Gfp::__GFP_NOWARN, 20)
        .is_none());
    assert!(cpu
        .alloc_pages(Gfp::GFP_ATOMIC | Gfp::__GFP_NOWARN, u32::MAX)
        .is_none());
    assert_eq!(k.log(), "");
    assert_eq!(snap(mem), before);
    let p = cpu
        .alloc_pages(Gfp::GFP_KERNEL, MAX_ORDER)
        .expect("MAX_ORDER itself is fine");
    cpu.__free_pages(p, MAX_ORDER).unwrap();
}

#[test]
fn gfp_zero_after_dirty_reuse() {
    let k = boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    for order in [0u32, 1, 3, 5, 7] {
        for round in 0..4 {
            // Dirty a block and free it; the next allocation of that order
            // (same CPU, LIFO) most likely reuses it.
            let p = cpu.alloc_pages(Gfp::GFP_KERNEL, order).unwrap();
            let a = mem.page_address(p).as_ptr();
            // SAFETY: the block is ours.
            unsafe { std::ptr::write_bytes(a, 0xA5 ^ round, PAGE_SIZE << order) };
            cpu.__free_pages(p, order).unwrap();
            let z = cpu
                .alloc_pages(Gfp::GFP_KERNEL | Gfp::__GFP_ZERO, order)
                .unwrap();
            if round == 0 && order < 4 {
                assert!(std::ptr::eq(z, p), "pcp lists should be LIFO");
            }
            let za = mem.page_address(z).as_ptr();
            // SAFETY: the block is ours.
            let bytes = unsafe { std::slice::from_raw_parts(za, PAGE_SIZE << order) };
            assert!(
                bytes.iter().all(|&b| b == 0),
                "order {order}: __GFP_ZERO block not zeroed"
            );
            cpu.__free_pages(z, order).unwrap();
        }
    }
    let a = cpu.__get_free_page(Gfp::GFP_KERNEL).unwrap();
    // SAFETY: the page is ours.
    unsafe { std::ptr::write_bytes(a.as_ptr(), 0xFF, PAGE_SIZE) };
    cpu.free_page(a).unwrap();
    let z = cpu.get_zeroed_page(Gfp::GFP_KERNEL).unwrap();
    assert_eq!(z, a);
    // SAFETY: the page is ours.
    assert!(unsafe { std::slice::from_raw_parts(z.as_ptr(), PAGE_SIZE) }
        .iter()
        .all(|&b| b == 0));
    cpu.free_page(z).unwrap();
}
