//! The buddy allocator against a model: random allocations and frees on a
//! small RAM, with the page descriptors, the free lists and the counters
//! checked after every step.

mod common;

use mm::{Gfp, Mem, MemConfig, PageFlags, MAX_ORDER};
use proptest::prelude::*;

/// One step of a test case.
#[derive(Clone, Debug)]
enum Op {
    /// Allocate a block on a CPU with one of the `gfp()` variants.
    Alloc { order: u32, cpu: usize, gfp: u8 },
    /// Free a live block (picked modulo the number of live blocks).
    Free { pick: usize, cpu: usize, how: u8 },
    /// Drain every CPU's pcp lists (kmem_cache_shrink does it).
    Drain { cpu: usize },
}

fn gfp(v: u8) -> Gfp {
    match v % 4 {
        0 => Gfp::GFP_KERNEL,
        1 => Gfp::GFP_ATOMIC,
        2 => Gfp::GFP_NOWAIT | Gfp::__GFP_NOWARN,
        _ => Gfp::GFP_KERNEL | Gfp::__GFP_COMP | Gfp::__GFP_ZERO,
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u32..=3, 0usize..4, 0u8..4).prop_map(|(order, cpu, gfp)| Op::Alloc { order, cpu, gfp }),
        2 => (0u32..=MAX_ORDER, 0usize..4, 0u8..4).prop_map(|(order, cpu, gfp)| Op::Alloc { order, cpu, gfp }),
        7 => (any::<usize>(), 0usize..4, 0u8..3).prop_map(|(pick, cpu, how)| Op::Free { pick, cpu, how }),
        1 => (0usize..4).prop_map(|cpu| Op::Drain { cpu }),
    ]
}

fn config() -> impl Strategy<Value = (usize, MemConfig)> {
    (
        prop::sample::select(vec![8usize, 12, 16]),
        1u32..=4,
        1usize..=3,
    )
        .prop_map(|(mib, pcp_orders, nr_cpus)| {
            (
                mib << 20,
                MemConfig {
                    nr_cpus,
                    pcp_orders,
                    quiet: true,
                    ..MemConfig::default()
                },
            )
        })
}

#[derive(Clone, Copy, Debug)]
struct Block {
    pfn: usize,
    order: u32,
    comp: bool,
    stamp: u64,
}

fn stamp_of(pfn: usize, order: u32, serial: u64) -> u64 {
    0x5EED_0000_0000_0000 ^ ((pfn as u64) << 20) ^ ((order as u64) << 16) ^ serial
}

fn block_words(mem: &Mem, b: &Block) -> (*mut u64, *mut u64) {
    let base = mem.page_address(mem.pfn_to_page(b.pfn).unwrap()).as_ptr();
    let bytes = mm::PAGE_SIZE << b.order;
    // SAFETY (for callers): the block is live and ours; both words are in it.
    (base.cast::<u64>(), unsafe {
        base.add(bytes - 8).cast::<u64>()
    })
}

fn write_stamp(mem: &Mem, b: &Block) {
    let (first, last) = block_words(mem, b);
    // SAFETY: the block is allocated to the test.
    unsafe {
        first.write(b.stamp);
        last.write(!b.stamp);
    }
}

fn check_stamp(mem: &Mem, b: &Block) {
    let (first, last) = block_words(mem, b);
    // SAFETY: the block is allocated to the test.
    let (f, l) = unsafe { (first.read(), last.read()) };
    assert_eq!(
        (f, l),
        (b.stamp, !b.stamp),
        "block {b:?} was overwritten while live"
    );
}

/// Frames allocated during boot (the boot caches' slabs): neither reserved
/// nor free when the test starts. Nothing in these tests frees them.
fn boot_allocated(mem: &Mem) -> Vec<bool> {
    let n = mem.nr_pages();
    let mut free = vec![false; n];
    for pfn in mem.reserved_pages()..n {
        let p = mem.pfn_to_page(pfn).unwrap();
        if p.flags().contains(PageFlags::BUDDY) {
            for f in &mut free[pfn..pfn + (1 << p.order())] {
                *f = true;
            }
        }
    }
    (0..n)
        .map(|pfn| pfn >= mem.reserved_pages() && !free[pfn])
        .collect()
}

/// Everything the allocator shows must agree with the model.
fn check_state(mem: &Mem, live: &[Block], boot_free: usize, boot_alloc: &[bool]) {
    let counts = mem.buddy_counts();
    let listed: usize = counts.iter().enumerate().map(|(o, n)| n << o).sum();
    assert_eq!(
        listed,
        mem.nr_free_pages(),
        "buddy_counts {counts:?} disagree with nr_free_pages"
    );
    let live_pages: usize = live.iter().map(|b| 1usize << b.order).sum();
    assert_eq!(
        mem.nr_free_pages() + mem.nr_pcp_pages() + live_pages,
        boot_free,
        "pages leaked or duplicated"
    );

    // Every frame is exactly one of: reserved, live, on a buddy list, on a pcp list.
    const FREE: u8 = 0;
    const RESERVED: u8 = 1;
    const LIVE: u8 = 2;
    const BUDDY: u8 = 3;
    const PCP: u8 = 4;
    const BOOT: u8 = 5;
    let n = mem.nr_pages();
    let mut owner = vec![FREE; n];
    for (o, &b) in owner.iter_mut().zip(boot_alloc) {
        if b {
            *o = BOOT;
        }
    }
    for (pfn, o) in owner.iter_mut().enumerate().take(mem.reserved_pages()) {
        assert!(mem
            .pfn_to_page(pfn)
            .unwrap()
            .flags()
            .contains(PageFlags::RESERVED));
        *o = RESERVED;
    }
    for b in live {
        assert_eq!(b.pfn % (1 << b.order), 0, "{b:?} misaligned");
        let head = mem.pfn_to_page(b.pfn).unwrap();
        assert_eq!(head.refcount(), 1, "{b:?} head refcount");
        assert_eq!(head.order(), b.order, "{b:?} recorded order");
        let f = head.flags();
        assert!(
            !f.intersects(PageFlags::BUDDY | PageFlags::PCP | PageFlags::TAIL),
            "{b:?} head flags {f:?}"
        );
        assert_eq!(
            f.contains(PageFlags::HEAD),
            b.comp && b.order > 0,
            "{b:?} head flags {f:?}"
        );
        for (pfn, o) in owner.iter_mut().enumerate().skip(b.pfn).take(1 << b.order) {
            assert_eq!(*o, FREE, "live {b:?} overlaps something at pfn {pfn}");
            *o = LIVE;
            if pfn != b.pfn {
                let t = mem.pfn_to_page(pfn).unwrap();
                assert_eq!(
                    t.flags().contains(PageFlags::TAIL),
                    b.comp,
                    "{b:?} tail {pfn} flags {:?}",
                    t.flags()
                );
            }
        }
    }
    let mut per_order = [0usize; MAX_ORDER as usize + 1];
    let mut pcp_pages = 0;
    for pfn in mem.reserved_pages()..n {
        let p = mem.pfn_to_page(pfn).unwrap();
        let f = p.flags();
        if owner[pfn] != FREE {
            // Inside a block already accounted for. PG_buddy is exact there;
            // a stale PG_pcp is tolerated here (see pcp_flag_cleared_on_drain)
            // and a real pcp block hidden inside would show in the pcp count.
            assert!(
                !f.contains(PageFlags::BUDDY),
                "pfn {pfn} is a buddy head inside kind {}",
                owner[pfn]
            );
            continue;
        }
        let (kind, order) = if f.contains(PageFlags::BUDDY) {
            (BUDDY, p.order())
        } else if f.contains(PageFlags::PCP) {
            (PCP, p.order())
        } else {
            continue;
        };
        assert!(order <= MAX_ORDER, "free block at {pfn} has order {order}");
        assert_eq!(
            pfn % (1 << order),
            0,
            "free block at {pfn} misaligned for order {order}"
        );
        assert!(
            pfn + (1 << order) <= n,
            "free block at {pfn} order {order} runs past RAM"
        );
        assert_eq!(p.refcount(), 0, "free page {pfn} has a reference");
        for (q, o) in owner.iter_mut().enumerate().skip(pfn).take(1 << order) {
            assert_eq!(
                *o, FREE,
                "free block at {pfn} (order {order}, kind {kind}) overlaps kind {} at {q}",
                *o
            );
            *o = kind;
        }
        if kind == BUDDY {
            per_order[order as usize] += 1;
            if order < MAX_ORDER {
                // Fully merged: the buddy is not a free block of the same order.
                let buddy = pfn ^ (1 << order);
                if let Some(bp) = mem.pfn_to_page(buddy) {
                    assert!(
                        !(bp.flags().contains(PageFlags::BUDDY) && bp.order() == order),
                        "free buddies {pfn} and {buddy} of order {order} not merged"
                    );
                }
            }
        } else {
            pcp_pages += 1 << order;
        }
    }
    assert_eq!(
        per_order, counts,
        "free heads in mem_map disagree with buddy_counts"
    );
    assert_eq!(
        pcp_pages,
        mem.nr_pcp_pages(),
        "pcp heads in mem_map disagree with nr_pcp_pages"
    );
    if let Some(pfn) = owner.iter().position(|&o| o == FREE) {
        panic!("pfn {pfn} is neither reserved, live nor free");
    }
}

fn run_case(bytes: usize, cfg: MemConfig, ops: &[Op]) {
    let nr_cpus = cfg.nr_cpus;
    let k = common::boot_with(bytes, cfg);
    let mem = &k.mem;
    let boot_free = mem.nr_free_pages();
    let boot_counts = mem.buddy_counts();
    let boot_alloc = boot_allocated(mem);
    assert_eq!(mem.nr_pcp_pages(), 0);
    assert!(
        boot_counts[MAX_ORDER as usize] > 0,
        "boot should leave MAX_ORDER blocks"
    );
    let (min, _, _) = mem.watermarks();
    let mut live: Vec<Block> = Vec::new();
    let mut serial = 0u64;
    check_state(mem, &live, boot_free, &boot_alloc);

    for op in ops {
        match *op {
            Op::Alloc { order, cpu, gfp: g } => {
                let flags = gfp(g);
                let cpu = mem.cpu(cpu % nr_cpus).unwrap();
                match cpu.alloc_pages(flags, order) {
                    Some(page) => {
                        let pfn = mem.page_to_pfn(page).unwrap();
                        serial += 1;
                        let b = Block {
                            pfn,
                            order,
                            comp: flags.contains(Gfp::__GFP_COMP),
                            stamp: stamp_of(pfn, order, serial),
                        };
                        if flags.contains(Gfp::__GFP_ZERO) {
                            let base = mem.page_address(page).as_ptr();
                            // SAFETY: the block was just allocated to us.
                            let bytes =
                                unsafe { std::slice::from_raw_parts(base, mm::PAGE_SIZE << order) };
                            assert!(
                                bytes.iter().all(|&x| x == 0),
                                "__GFP_ZERO block {b:?} not zeroed"
                            );
                        }
                        write_stamp(mem, &b);
                        live.push(b);
                    }
                    None => {
                        // A failure must be forced: no block big enough, or the watermark.
                        let counts = mem.buddy_counts();
                        let any_block = counts[order as usize..].iter().any(|&c| c > 0);
                        let mark = if flags.contains(Gfp::__GFP_HIGH) {
                            min / 2
                        } else {
                            min
                        };
                        let wm_ok =
                            mem.nr_free_pages() as isize - (1isize << order) + 1 > mark as isize;
                        assert!(
                            !(any_block && wm_ok),
                            "order-{order} {flags:?} failed with {counts:?} free ({} pages, min {min})",
                            mem.nr_free_pages()
                        );
                        if flags.may_wait() {
                            assert_eq!(
                                mem.nr_pcp_pages(),
                                0,
                                "direct reclaim left pages on pcp lists"
                            );
                        }
                    }
                }
            }
            Op::Free { pick, cpu, how } => {
                if live.is_empty() {
                    continue;
                }
                let b = live.swap_remove(pick % live.len());
                check_stamp(mem, &b);
                let cpu = mem.cpu(cpu % nr_cpus).unwrap();
                let page = mem.pfn_to_page(b.pfn).unwrap();
                let r = match how {
                    0 => cpu.__free_pages(page, b.order),
                    1 => cpu.free_pages(mem.page_address(page), b.order),
                    _ => cpu.put_page(page),
                };
                assert_eq!(r, Ok(()), "free of {b:?}");
            }
            Op::Drain { cpu } => {
                let cpu = mem.cpu(cpu % nr_cpus).unwrap();
                cpu.kmem_cache_shrink(mem.kmalloc_cache(0));
                assert_eq!(
                    mem.nr_pcp_pages(),
                    0,
                    "kmem_cache_shrink left pages on pcp lists"
                );
            }
        }
        check_state(mem, &live, boot_free, &boot_alloc);
    }

    // Free the rest, drain every CPU (no guard held), and all must be as booted.
    {
        let cpu = mem.cpu(0).unwrap();
        for b in live.drain(..) {
            check_stamp(mem, &b);
            cpu.__free_pages(mem.pfn_to_page(b.pfn).unwrap(), b.order)
                .unwrap();
        }
    }
    mem.kmem_cache_shrink(mem.kmalloc_cache(0));
    check_state(mem, &live, boot_free, &boot_alloc);
    assert_eq!(mem.nr_pcp_pages(), 0);
    assert_eq!(mem.nr_free_pages(), boot_free);
    assert_eq!(
        mem.buddy_counts(),
        boot_counts,
        "largest blocks not restored"
    );
    assert_eq!(k.log(), "", "nothing should have been reported");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn buddy_matches_model((bytes, cfg) in config(), ops in prop::collection::vec(op(), 1..300)) {
        run_case(bytes, cfg, &ops);
    }
}

/// Fill RAM with order-0 pages, free them in a scrambled order: the buddy
/// lists must merge back to exactly the boot-time blocks.
#[test]
fn fill_and_scrambled_free_restores_boot_blocks() {
    for pcp_orders in 1..=4 {
        let k = common::boot_with(
            8 << 20,
            MemConfig {
                nr_cpus: 2,
                pcp_orders,
                quiet: true,
                ..MemConfig::default()
            },
        );
        let mem = &k.mem;
        let boot_free = mem.nr_free_pages();
        let boot_counts = mem.buddy_counts();
        let boot_alloc = boot_allocated(mem);
        let mut pages = Vec::new();
        {
            let cpu = mem.cpu(0).unwrap();
            while let Some(p) = cpu.alloc_pages(Gfp::GFP_ATOMIC, 0) {
                pages.push(mem.page_to_pfn(p).unwrap());
            }
        }
        assert!(
            pages.len() > boot_free / 2,
            "only {} of {boot_free} pages allocated",
            pages.len()
        );
        let mut sorted = pages.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), pages.len(), "a page was handed out twice");
        // Scramble with a stride coprime to n (7919 is a prime above n),
        // and free on the other CPU.
        let n = pages.len();
        assert!(n < 7919);
        let cpu = mem.cpu(1).unwrap();
        let mut j = 0usize;
        for i in 0..n {
            j = (j + 7919) % n;
            cpu.__free_pages(mem.pfn_to_page(pages[j]).unwrap(), 0)
                .unwrap();
            if i % 64 == 0 {
                let counts = mem.buddy_counts();
                let listed: usize = counts.iter().enumerate().map(|(o, c)| c << o).sum();
                assert_eq!(listed, mem.nr_free_pages());
            }
        }
        cpu.kmem_cache_shrink(mem.kmalloc_cache(0));
        assert_eq!(mem.nr_pcp_pages(), 0);
        assert_eq!(mem.nr_free_pages(), boot_free);
        assert_eq!(mem.buddy_counts(), boot_counts, "pcp_orders {pcp_orders}");
        check_state(mem, &[], boot_free, &boot_alloc);
    }
}

/// A MAX_ORDER allocation splits nothing smaller than it needs, and a
/// high-order free merges straight back.
#[test]
fn max_order_block_round_trip() {
    let k = common::boot_with(
        16 << 20,
        MemConfig {
            quiet: true,
            ..MemConfig::default()
        },
    );
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let before = mem.buddy_counts();
    let p = cpu.alloc_pages(Gfp::GFP_KERNEL, MAX_ORDER).unwrap();
    let pfn = mem.page_to_pfn(p).unwrap();
    assert_eq!(pfn % (1 << MAX_ORDER), 0);
    let mut expect = before;
    expect[MAX_ORDER as usize] -= 1;
    assert_eq!(mem.buddy_counts(), expect);
    cpu.__free_pages(p, MAX_ORDER).unwrap();
    assert_eq!(mem.buddy_counts(), before);
    // Order 5 from a state with only big blocks splits one MAX_ORDER block
    // into one free block of each order 5..MAX_ORDER.
    let small_before = mem.buddy_counts();
    let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 5).unwrap();
    let after = mem.buddy_counts();
    let mut expect = small_before;
    let from = (5..=MAX_ORDER as usize)
        .find(|&o| small_before[o] > 0)
        .unwrap();
    expect[from] -= 1;
    for e in expect.iter_mut().take(from).skip(5) {
        *e += 1;
    }
    assert_eq!(after, expect);
    cpu.__free_pages(p, 5).unwrap();
    assert_eq!(mem.buddy_counts(), small_before);
}

/// PG_pcp means "free, on a per-CPU list": once every list is drained no
/// page may carry it. free_one_page() only rewrites the flags of the final
/// merged head, so a pcp page that merges as the upper buddy keeps PG_pcp
/// inside a buddy block (and later inside allocated blocks, shown by
/// dump_page).
#[test]

fn pcp_flag_cleared_on_drain() {
    let k = common::boot_quiet(8 << 20, 1);
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let pages: Vec<_> = (0..64)
        .map(|_| cpu.alloc_pages(Gfp::GFP_KERNEL, 0).unwrap())
        .collect();
    for p in pages {
        cpu.__free_pages(p, 0).unwrap();
    }
    cpu.kmem_cache_shrink(mem.kmalloc_cache(0));
    assert_eq!(mem.nr_pcp_pages(), 0);
    let stale: Vec<usize> = (0..mem.nr_pages())
        .filter(|&pfn| {
            mem.pfn_to_page(pfn)
                .unwrap()
                .flags()
                .contains(PageFlags::PCP)
        })
        .collect();
    assert!(
        stale.is_empty(),
        "pages still flagged PG_pcp after draining: {stale:?}"
    );
}
