//! The slab allocator: list discipline, colouring, constructors, destroy,
//! shrink, the free limit, misuse, alignment.

mod common;
use common::total_free;

use std::collections::HashSet;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Kernel;
use mm::kbox::TypedCache;
use mm::slab::SlabCounts;
use mm::{Gfp, KmemCache, Mem, MmError, SlabFlags, PAGE_SIZE};

const G: Gfp = Gfp::GFP_KERNEL;

fn one_cpu() -> Kernel {
    common::boot_cpus(32 << 20, 1, false)
}

fn pfn_of(mem: &Mem, p: *const u8) -> usize {
    mem.virt_to_pfn(p as usize).unwrap()
}

fn counts(
    total: usize,
    full: usize,
    partial: usize,
    free: usize,
    free_objects: usize,
) -> SlabCounts {
    SlabCounts {
        total,
        free,
        partial,
        full,
        free_objects,
    }
}

/// Refills take from partial slabs first, then from free ones, and a slab
/// is grown only when neither has an object. Objects are freed straight to
/// their slabs (KBox drop is the CPU-less path) so the lists are exact.
#[test]
fn refill_takes_partial_then_free_then_grows() {
    let k = one_cpu();
    let mem = &k.mem;
    let tc = TypedCache::<[u64; 8]>::create(mem, "test_lists", SlabFlags::empty()).unwrap();
    let c = tc.cache();
    let num = c.objs_per_slab();
    let (limit, batch) = c.tunables();
    // The scenario below is written for this geometry (64-byte objects).
    assert_eq!((num, limit, batch, c.order()), (63, 120, 60, 0));
    let cpu = mem.cpu(0).unwrap();

    // Two slabs, completely handed out: refills of 60 + 3 per slab.
    let mut boxes: Vec<_> = (0..2 * num)
        .map(|_| tc.alloc(&cpu, [7; 8], G).unwrap())
        .collect();
    assert_eq!(c.slab_counts(), counts(2, 2, 0, 0, 0));
    assert_eq!(c.active_objs(), 2 * num);
    let s1 = pfn_of(mem, boxes[0].as_ptr().cast());
    let s2 = pfn_of(mem, boxes[2 * num - 1].as_ptr().cast());
    assert_ne!(s1, s2);
    for b in &boxes {
        let p = pfn_of(mem, b.as_ptr().cast());
        assert!(p == s1 || p == s2);
    }

    // S1 partial with one object in use, S2 empty.
    let (in_s1, in_s2): (Vec<_>, Vec<_>) = boxes
        .drain(..)
        .partition(|b| pfn_of(mem, b.as_ptr().cast()) == s1);
    let mut in_s1 = in_s1;
    let keep = in_s1.pop().unwrap();
    drop(in_s1);
    drop(in_s2);
    assert_eq!(c.slab_counts(), counts(2, 0, 1, 1, 2 * num - 1));

    // The next refill (a batch of 60) comes from the partial slab only.
    let a = tc.alloc(&cpu, [1; 8], G).unwrap();
    assert_eq!(
        pfn_of(mem, a.as_ptr().cast()),
        s1,
        "refill did not prefer the partial slab"
    );
    assert_eq!(c.slab_counts(), counts(2, 0, 1, 1, 2 * num - 1 - batch));
    let mut more = vec![a];
    for _ in 0..batch - 1 {
        let b = tc.alloc(&cpu, [2; 8], G).unwrap();
        assert_eq!(pfn_of(mem, b.as_ptr().cast()), s1);
        more.push(b);
    }
    // Now S1 has 2 objects left: the refill finishes S1, then starts S2.
    let b = tc.alloc(&cpu, [3; 8], G).unwrap();
    assert_eq!(
        pfn_of(mem, b.as_ptr().cast()),
        s2,
        "refill did not move on to the free slab"
    );
    assert_eq!(c.slab_counts(), counts(2, 1, 1, 0, num - (batch - 2)));
    more.push(b);
    // Use up what the array cache holds and what is left of S2: no growth.
    for _ in 0..batch - 1 + (num - (batch - 2)) {
        more.push(tc.alloc(&cpu, [4; 8], G).unwrap());
    }
    assert_eq!(c.slab_counts(), counts(2, 2, 0, 0, 0));
    // Only now does the cache grow.
    let g = tc.alloc(&cpu, [5; 8], G).unwrap();
    let s3 = pfn_of(mem, g.as_ptr().cast());
    assert!(s3 != s1 && s3 != s2);
    assert_eq!(c.slab_counts(), counts(3, 2, 1, 0, num - batch));
    // The page descriptor of a slab counts its objects in use.
    assert_eq!(mem.pfn_to_page(s3).unwrap().slab_inuse() as usize, batch);
    assert_eq!(mem.pfn_to_page(s1).unwrap().slab_inuse() as usize, num);
    for b in &more {
        assert!(b.iter().all(|&w| w != 0));
    }
    drop(more);
    drop(g);
    drop(keep);
    drop(cpu);
    mem.kmem_cache_shrink(c);
    assert_eq!(c.slab_counts(), counts(0, 0, 0, 0, 0));
}

/// Without a CPU (kmalloc_nocpu) every allocation takes exactly one object,
/// so the lists can be watched object by object.
#[test]
fn nocpu_path_moves_slabs_between_lists() {
    let k = one_cpu();
    let mem = &k.mem;
    let c = mem.kmalloc_cache(6); // kmalloc-192
    assert_eq!(c.name(), "kmalloc-192");
    mem.kmem_cache_shrink(c);
    let base = c.slab_counts();
    assert_eq!(base.total, 0, "kmalloc-192 unused at boot");
    let num = c.objs_per_slab();
    let mut objs = Vec::new();
    objs.push(mem.kmalloc_nocpu(192, G).unwrap());
    assert_eq!(c.slab_counts(), counts(1, 0, 1, 0, num - 1));
    while objs.len() < num {
        objs.push(mem.kmalloc_nocpu(150, G).unwrap());
    }
    assert_eq!(c.slab_counts(), counts(1, 1, 0, 0, 0));
    objs.push(mem.kmalloc_nocpu(129, G).unwrap());
    assert_eq!(c.slab_counts(), counts(2, 1, 1, 0, num - 1));
    let s2 = pfn_of(mem, objs[num].as_ptr());
    assert_ne!(s2, pfn_of(mem, objs[0].as_ptr()));
    // Free one object of the full slab: it turns partial, and the next
    // allocation is served from the fuller partial slab's list head.
    let first = objs.swap_remove(0);
    mem.kfree_nocpu(first.as_ptr()).unwrap();
    assert_eq!(c.slab_counts(), counts(2, 0, 2, 0, num));
    let again = mem.kmalloc_nocpu(100 + 92, G).unwrap();
    assert_eq!(again, first, "the freed object should be handed out next");
    objs.push(again);
    // Emptying a slab moves it to the free list (well under the free limit).
    let (in_s2, rest): (Vec<_>, Vec<_>) = objs
        .into_iter()
        .partition(|o| pfn_of(mem, o.as_ptr()) == s2);
    for o in in_s2 {
        mem.kfree_nocpu(o.as_ptr()).unwrap();
    }
    assert_eq!(c.slab_counts(), counts(2, 1, 0, 1, num));
    for o in rest {
        mem.kfree_nocpu(o.as_ptr()).unwrap();
    }
    assert_eq!(c.slab_counts(), counts(2, 0, 0, 2, 2 * num));
    assert_eq!(mem.kmem_cache_shrink(c), 2 << c.order());
    assert_eq!(c.slab_counts().total, 0);
}

#[test]
fn colouring_cycles_through_the_slack() {
    let k = one_cpu();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("test_colour", 600, 0, SlabFlags::empty(), None)
        .unwrap();
    let (colours, step) = c.colours();
    assert_eq!(step, 64);
    assert!(
        colours >= 3,
        "600-byte objects leave room for several colours, got {colours}"
    );
    let num = c.objs_per_slab();
    let slab_bytes = PAGE_SIZE << c.order();
    let slack = slab_bytes - num * c.size();
    assert!(
        colours * step <= slack,
        "colours overrun the slack: {colours}*{step} > {slack}"
    );
    assert!(
        (colours + 1) * step > slack - num * 2,
        "colours do not cover the slack"
    );
    let cpu = mem.cpu(0).unwrap();
    let mut order_seen: Vec<usize> = Vec::new();
    let mut objs: Vec<NonNull<u8>> = Vec::new();
    let mut by_slab: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    while order_seen.len() < 2 * colours + 2 {
        let o = cpu.kmem_cache_alloc(&c, G).unwrap();
        let pfn = pfn_of(mem, o.as_ptr());
        if !by_slab.contains_key(&pfn) {
            order_seen.push(pfn);
        }
        by_slab.entry(pfn).or_default().push(o.as_ptr() as usize);
        objs.push(o);
    }
    for (i, pfn) in order_seen.iter().enumerate() {
        let page = mem.pfn_to_page(*pfn).unwrap();
        let off = page.slab_colouroff() as usize;
        assert_eq!(off, (i % colours) * step, "slab #{i} colour");
        let start = mem.page_address(page).as_ptr() as usize + off;
        let addrs = &by_slab[pfn];
        if i + 1 < order_seen.len() {
            assert_eq!(
                addrs.len(),
                num,
                "slab #{i} not filled before the next grew"
            );
            assert_eq!(
                *addrs.iter().min().unwrap(),
                start,
                "slab #{i}: first object not at the colour offset"
            );
        }
        for &a in addrs {
            assert!(
                a >= start && (a - start) % c.size() == 0 && (a - start) / c.size() < num,
                "slab #{i}: object {a:#x}"
            );
        }
    }
    for o in objs {
        cpu.kmem_cache_free(&c, o).unwrap();
    }
    assert!(cpu.kmem_cache_destroy(c).is_ok());
}

static CTOR_CALLS: AtomicUsize = AtomicUsize::new(0);
const MARK: u64 = 0xC0FF_EE00_C0FF_EE00;

fn ctor(p: NonNull<u8>) {
    CTOR_CALLS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: the cache's objects are 64 bytes.
    unsafe {
        p.as_ptr().cast::<u64>().write(MARK);
        p.as_ptr().cast::<u64>().add(1).write(p.as_ptr() as u64);
    }
}

fn read(p: NonNull<u8>, i: usize) -> u64 {
    // SAFETY: objects of the ctor cache are 64 bytes and live.
    unsafe { p.as_ptr().cast::<u64>().add(i).read() }
}

fn write(p: NonNull<u8>, i: usize, v: u64) {
    // SAFETY: as in `read`.
    unsafe { p.as_ptr().cast::<u64>().add(i).write(v) }
}

#[test]
fn constructor_runs_once_per_object_not_per_allocation() {
    let k = one_cpu();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("test_ctor", 64, 0, SlabFlags::empty(), Some(ctor))
        .unwrap();
    let num = c.objs_per_slab();
    let order = c.order();
    // Every slab ever created ran the constructor on each of its objects, once.
    let check = |destroyed: usize| {
        assert_eq!(
            CTOR_CALLS.load(Ordering::SeqCst),
            (destroyed + c.slab_counts().total) * num,
            "constructor calls != objects created by slabs"
        );
    };
    check(0);
    assert_eq!(
        CTOR_CALLS.load(Ordering::SeqCst),
        0,
        "no slab yet, no constructor call"
    );
    let cpu = mem.cpu(0).unwrap();
    let mut objs: Vec<_> = (0..100)
        .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
        .collect();
    assert!(c.slab_counts().total >= 2);
    check(0);
    for &o in &objs {
        assert_eq!(
            (read(o, 0), read(o, 1)),
            (MARK, o.as_ptr() as u64),
            "object not constructed"
        );
    }
    // Freed with modified state, it comes back with that state.
    let o = objs[10];
    write(o, 0, 0xDEAD);
    cpu.kmem_cache_free(&c, o).unwrap();
    let back = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(back, o);
    assert_eq!(read(back, 0), 0xDEAD, "object was re-constructed on reuse");
    check(0);
    // Many allocations and frees through the array cache: no new calls.
    for _ in 0..5 {
        for &x in &objs {
            cpu.kmem_cache_free(&c, x).unwrap();
        }
        objs = (0..100)
            .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
            .collect();
        check(0);
        for &x in &objs {
            assert!(read(x, 0) == MARK || (x == o && read(x, 0) == 0xDEAD));
        }
    }
    // Through the slab lists: keep a neighbour so o's slab is not freed,
    // free everything else and drain the array cache.
    while !objs.contains(&o) {
        assert!(objs.len() < 1000, "o never handed out again");
        objs.push(cpu.kmem_cache_alloc(&c, G).unwrap());
    }
    let s = pfn_of(mem, o.as_ptr());
    let keep = *objs
        .iter()
        .find(|&&x| x != o && pfn_of(mem, x.as_ptr()) == s)
        .unwrap();
    write(o, 2, 0xBEEF);
    for &x in objs.iter().filter(|&&x| x != keep) {
        cpu.kmem_cache_free(&c, x).unwrap();
    }
    let mut destroyed = cpu.kmem_cache_shrink(&c) >> order;
    assert_eq!(
        c.slab_counts().total,
        1,
        "only the slab with a live object stays"
    );
    check(destroyed);
    let mut got = Vec::new();
    while got.len() < num {
        let x = cpu.kmem_cache_alloc(&c, G).unwrap();
        got.push(x);
        if x == o {
            break;
        }
    }
    assert_eq!(got.last(), Some(&o), "o not found in its own slab");
    assert_eq!(
        (read(o, 0), read(o, 2)),
        (0xDEAD, 0xBEEF),
        "state lost through the slab lists"
    );
    check(destroyed);
    // A new slab is constructed in full.
    for x in got {
        cpu.kmem_cache_free(&c, x).unwrap();
    }
    cpu.kmem_cache_free(&c, keep).unwrap();
    destroyed += cpu.kmem_cache_shrink(&c) >> order;
    assert_eq!(c.slab_counts().total, 0);
    check(destroyed);
    let fresh = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(read(fresh, 0), MARK);
    assert_eq!(c.slab_counts().total, 1);
    check(destroyed);
    cpu.kmem_cache_free(&c, fresh).unwrap();
    assert!(cpu.kmem_cache_destroy(c).is_ok());
}

#[test]
fn destroy_of_a_busy_cache_fails_until_empty() {
    let k = common::boot_cpus(32 << 20, 2, false);
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("test_busy", 100, 0, SlabFlags::empty(), None)
        .unwrap();
    let free0 = total_free(mem);
    let ncaches = mem.caches().len();
    let (a, b, x) = {
        let cpu = mem.cpu(0).unwrap();
        let objs: Vec<_> = (0..3)
            .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
            .collect();
        (objs[0], objs[1], objs[2])
    };
    let c = {
        let cpu = mem.cpu(0).unwrap();
        let (c, e) = match cpu.kmem_cache_destroy(c) {
            Ok(()) => panic!("destroyed a cache with 3 live objects"),
            Err(r) => r,
        };
        assert!(
            matches!(e, MmError::CacheBusy { cache, active: 3 } if cache.as_str() == "test_busy"),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "cache test_busy still has 3 objects");
        let log = k.log();
        assert!(
            log.contains("kmem_cache_destroy test_busy: Slab cache still has objects (3 remain)"),
            "{log:?}"
        );
        assert!(mem.caches().iter().any(|x| x.name() == "test_busy"));
        assert_eq!(c.errors(), 1);
        cpu.kmem_cache_free(&c, a).unwrap();
        c
    };
    // Free the others on another CPU and leave them in its array cache:
    // destroy must drain that CPU.
    {
        let cpu1 = mem.cpu(1).unwrap();
        cpu1.kmem_cache_free(&c, b).unwrap();
        let (c2, e) = match cpu1.kmem_cache_destroy(c) {
            Ok(()) => panic!("destroyed a cache with 1 live object"),
            Err(r) => r,
        };
        assert!(matches!(e, MmError::CacheBusy { active: 1, .. }), "{e:?}");
        cpu1.kmem_cache_free(&c2, x).unwrap();
        assert!(c2.active_objs() > 0, "objects sit in cpu1's array cache");
        drop(cpu1);
        let cpu0 = mem.cpu(0).unwrap();
        assert!(cpu0.kmem_cache_destroy(c2).is_ok());
    }
    assert_eq!(mem.caches().len(), ncaches - 1);
    assert!(!mem.caches().iter().any(|x| x.name() == "test_busy"));
    mem.kmem_cache_shrink(mem.kmalloc_cache(0)); // drain pcp lists
    assert_eq!(
        total_free(mem),
        free0,
        "destroy did not give the slabs back"
    );
}

#[test]
fn shrink_returns_empty_slabs() {
    let k = common::boot_cpus(32 << 20, 2, false);
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("test_shrink", 256, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let free0 = total_free(mem);
    let objs: Vec<_> = (0..500)
        .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
        .collect();
    let grown = c.slab_counts().total;
    assert!(grown >= 500 / c.objs_per_slab());
    assert_eq!(total_free(mem), free0 - (grown << c.order()));
    for o in objs {
        cpu.kmem_cache_free(&c, o).unwrap();
    }
    let before = c.slab_counts();
    assert!(before.total > 0 && before.free > 0, "{before:?}");
    let free_before = total_free(mem);
    let freed = cpu.kmem_cache_shrink(&c);
    assert!(
        freed >= before.free << c.order(),
        "shrink returned {freed} pages, {before:?} were free"
    );
    assert_eq!(c.slab_counts(), counts(0, 0, 0, 0, 0));
    assert_eq!(c.active_objs(), 0);
    assert_eq!(total_free(mem), free_before + (before.total << c.order()));
    assert_eq!(total_free(mem), free0);
    assert_eq!(cpu.kmem_cache_shrink(&c), 0);
    // A slab with one live object is kept.
    let o = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(cpu.kmem_cache_shrink(&c), 0);
    assert_eq!(c.slab_counts().total, 1);
    assert_eq!(c.active_objs(), 1);
    cpu.kmem_cache_free(&c, o).unwrap();
    assert_eq!(cpu.kmem_cache_shrink(&c), 1 << c.order());
}

/// kmem_cache_shrink documents "Returns pages freed": that must include
/// the slabs released while draining the array caches (free-limit path).
#[test]

fn shrink_return_value_counts_every_page_freed() {
    let k = common::boot_cpus(32 << 20, 2, false);
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("test_shrink_ret", 256, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let objs: Vec<_> = (0..500)
        .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
        .collect();
    for o in objs {
        cpu.kmem_cache_free(&c, o).unwrap();
    }
    let free_before = total_free(mem);
    let freed = cpu.kmem_cache_shrink(&c);
    assert_eq!(
        total_free(mem) - free_before,
        freed,
        "pages actually freed vs returned"
    );
}

/// Empty slabs beyond `free_limit` = (1 + nr_cpus) * batchcount + num free
/// objects go back to the page allocator without a shrink.
#[test]
fn empty_slabs_beyond_the_free_limit_are_released() {
    let k = one_cpu();
    let mem = &k.mem;
    let tc = TypedCache::<[u64; 8]>::create(mem, "test_limit", SlabFlags::empty()).unwrap();
    let c = tc.cache();
    let num = c.objs_per_slab();
    let (_, batch) = c.tunables();
    let free_limit = (1 + mem.nr_cpus()) * batch + num;
    let cpu = mem.cpu(0).unwrap();
    let free0 = total_free(mem);
    // CPU-less frees (KBox drop): straight to the lists.
    let boxes: Vec<_> = (0..20 * num)
        .map(|i| tc.alloc(&cpu, [i as u64; 8], G).unwrap())
        .collect();
    let peak = c.slab_counts().total;
    assert!(peak >= 20);
    drop(boxes);
    let after = c.slab_counts();
    assert_eq!(after.total, after.free, "all slabs should be empty");
    assert!(
        after.free_objects <= free_limit,
        "{after:?} keeps more than the free limit {free_limit}"
    );
    assert!(after.total >= 1 && after.total < peak);
    assert_eq!(
        total_free(mem),
        free0 - (after.total << c.order()),
        "released slabs not returned"
    );
    // Through the CPU path: batches flushed from a full array cache.
    let objs: Vec<_> = (0..20 * num)
        .map(|_| cpu.kmem_cache_alloc(c, G).unwrap())
        .collect();
    let peak = c.slab_counts().total;
    for o in objs {
        cpu.kmem_cache_free(c, o).unwrap();
    }
    let after = c.slab_counts();
    assert!(
        after.total < peak / 2,
        "flushing did not release slabs: {after:?} (peak {peak})"
    );
    cpu.kmem_cache_shrink(c);
    assert_eq!(total_free(mem), free0);
}

#[test]
fn wrong_cache_and_invalid_frees_are_refused() {
    let k = common::boot_cpus(32 << 20, 2, false);
    let mem = &k.mem;
    let a = mem
        .kmem_cache_create("test_a", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let b = mem
        .kmem_cache_create("test_b", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let o = cpu.kmem_cache_alloc(&a, G).unwrap();
    let active = a.active_objs();
    let r = cpu.kmem_cache_free(&b, o);
    match r {
        Err(MmError::WrongCache {
            addr,
            expected,
            actual,
        }) => {
            assert_eq!(addr, o.as_ptr() as usize);
            assert_eq!((expected.as_str(), actual.as_str()), ("test_b", "test_a"));
        }
        other => panic!("{other:?}"),
    }
    let log = k.log();
    assert!(log.contains("Wrong slab cache"), "{log:?}");
    assert!(log.contains("test_a") && log.contains("test_b"), "{log:?}");
    assert_eq!(b.errors(), 1);
    assert_eq!(a.active_objs(), active);
    k.clear_log();

    // Not the start of an object.
    let inner = NonNull::new(o.as_ptr().wrapping_add(8)).unwrap();
    assert_eq!(
        cpu.kmem_cache_free(&a, inner),
        Err(MmError::InvalidFree {
            addr: inner.as_ptr() as usize,
            cache: Some(mm::error::CacheName::new("test_a"))
        })
    );
    assert!(
        k.log().contains("is not the start of an object"),
        "{}",
        k.log()
    );
    k.clear_log();
    // Somewhere in the slab's freelist / slack area past the last object.
    let page = mem.virt_to_page(o.as_ptr() as usize).unwrap();
    let end = mem
        .page_address(page)
        .as_ptr()
        .wrapping_add((PAGE_SIZE << a.order()) - 1);
    assert!(matches!(
        cpu.kmem_cache_free(&a, NonNull::new(end).unwrap()),
        Err(MmError::InvalidFree { .. })
    ));
    // A page from the page allocator.
    let p = cpu.__get_free_page(G).unwrap();
    assert!(matches!(
        cpu.kmem_cache_free(&a, p),
        Err(MmError::InvalidFree { .. })
    ));
    cpu.free_page(p).unwrap();
    // Outside RAM.
    let host = Box::new(0u64);
    let h = NonNull::from(&*host).cast::<u8>();
    assert_eq!(
        cpu.kmem_cache_free(&a, h),
        Err(MmError::BadAddress(h.as_ptr() as usize))
    );
    k.clear_log();

    // None of it disturbed the cache.
    assert_eq!(a.active_objs(), active);
    cpu.kmem_cache_free(&a, o).unwrap();
    cpu.kmem_cache_shrink(&a);
    assert_eq!(a.active_objs(), 0);
    assert!(cpu.kmem_cache_destroy(a).is_ok());
    assert!(cpu.kmem_cache_destroy(b).is_ok());
    assert_eq!(k.log(), "");
}

#[test]
fn immediate_double_free_is_caught_without_debug() {
    let k = one_cpu();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("test_df", 48, 0, SlabFlags::empty(), None)
        .unwrap();
    assert!(!c.debug());
    let cpu = mem.cpu(0).unwrap();
    let keep: Vec<_> = (0..5)
        .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
        .collect();
    let o = cpu.kmem_cache_alloc(&c, G).unwrap();
    cpu.kmem_cache_free(&c, o).unwrap();
    let active = c.active_objs();
    let r = cpu.kmem_cache_free(&c, o);
    assert!(
        matches!(r, Err(MmError::DoubleFree { addr, cache }) if addr == o.as_ptr() as usize && cache.as_str() == "test_df"),
        "{r:?}"
    );
    let log = k.log();
    assert!(
        log.contains("test_df") && log.contains("Object already free"),
        "{log:?}"
    );
    assert_eq!(c.active_objs(), active);
    // The object is handed out once, not twice.
    let x = cpu.kmem_cache_alloc(&c, G).unwrap();
    let y = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(x, o);
    assert_ne!(y, o);
    for p in keep.into_iter().chain([x, y]) {
        cpu.kmem_cache_free(&c, p).unwrap();
    }
    cpu.kmem_cache_shrink(&c);
    assert_eq!(c.slab_counts().total, 0);
}

fn check_layout(mem: &Mem, cpu: &mm::Cpu<'_>, c: &KmemCache, want_align: usize, n: usize) {
    let objs: Vec<_> = (0..n)
        .map(|_| cpu.kmem_cache_alloc(c, G).unwrap())
        .collect();
    let mut addrs: Vec<usize> = objs.iter().map(|o| o.as_ptr() as usize).collect();
    for (i, &a) in addrs.iter().enumerate() {
        assert_eq!(
            a % want_align,
            0,
            "{}: object {a:#x} not aligned to {want_align}",
            c.name()
        );
        assert!(mem.contains(a, c.object_size()));
        // SAFETY: the object is ours and object_size long.
        unsafe { std::ptr::write_bytes(a as *mut u8, i as u8, c.object_size()) };
    }
    for (i, &a) in addrs.iter().enumerate() {
        // SAFETY: as above.
        let s = unsafe { std::slice::from_raw_parts(a as *const u8, c.object_size()) };
        assert!(
            s.iter().all(|&b| b == i as u8),
            "{}: object {a:#x} overwritten by a neighbour",
            c.name()
        );
    }
    addrs.sort_unstable();
    for w in addrs.windows(2) {
        assert!(
            w[0] + c.object_size() <= w[1],
            "{}: objects {:#x} and {:#x} overlap",
            c.name(),
            w[0],
            w[1]
        );
    }
    let uniq: HashSet<_> = addrs.iter().collect();
    assert_eq!(uniq.len(), n);
    for o in objs {
        cpu.kmem_cache_free(c, o).unwrap();
    }
}

#[test]
fn objects_are_aligned_and_disjoint() {
    let k = common::boot_cpus(64 << 20, 1, false);
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let cases: &[(usize, usize, SlabFlags, usize)] = &[
        (1, 0, SlabFlags::empty(), 8),
        (24, 0, SlabFlags::empty(), 8),
        (24, 32, SlabFlags::empty(), 32),
        (40, 0, SlabFlags::SLAB_HWCACHE_ALIGN, 64),
        (20, 0, SlabFlags::SLAB_HWCACHE_ALIGN, 32),
        (100, 128, SlabFlags::empty(), 128),
        (600, 0, SlabFlags::empty(), 8),
        (3000, 1024, SlabFlags::empty(), 1024),
        (5000, 4096, SlabFlags::empty(), 4096),
        (70_000, 0, SlabFlags::SLAB_RECLAIM_ACCOUNT, 8),
    ];
    for (i, &(size, align, flags, want)) in cases.iter().enumerate() {
        let c = mem
            .kmem_cache_create(&format!("test_align_{i}"), size, align, flags, None)
            .unwrap();
        assert_eq!(c.object_size(), size);
        assert!(
            c.size() >= size && c.size() % want == 0,
            "stride {} for size {size} align {want}",
            c.size()
        );
        let n = (3 * c.objs_per_slab() + 5).min(300);
        check_layout(mem, &cpu, &c, want, n);
        cpu.kmem_cache_shrink(&c);
        assert!(cpu.kmem_cache_destroy(c).is_ok());
    }
}

#[test]
fn reclaimable_caches_are_accounted_separately() {
    use mm::vmstat::NodeStatItem;
    let k = one_cpu();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create(
            "test_reclaim",
            512,
            0,
            SlabFlags::SLAB_RECLAIM_ACCOUNT,
            None,
        )
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let r0 = mem.vmstat.get(NodeStatItem::NrSlabReclaimable);
    let u0 = mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable);
    let o = cpu.kmem_cache_alloc(&c, G).unwrap();
    let slabs = c.slab_counts().total;
    assert_eq!(
        mem.vmstat.get(NodeStatItem::NrSlabReclaimable),
        r0 + (slabs << c.order())
    );
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable), u0);
    cpu.kmem_cache_free(&c, o).unwrap();
    cpu.kmem_cache_shrink(&c);
    assert_eq!(mem.vmstat.get(NodeStatItem::NrSlabReclaimable), r0);
}

#[test]
fn create_refuses_bad_arguments() {
    let k = one_cpu();
    let mem = &k.mem;
    let bad = |name: &str, size: usize, align: usize| {
        matches!(
            mem.kmem_cache_create(name, size, align, SlabFlags::empty(), None),
            Err(MmError::InvalidCache(_))
        )
    };
    assert!(bad("", 64, 0));
    assert!(bad(&"x".repeat(33), 64, 0));
    assert!(bad("zero", 0, 0));
    assert!(bad("huge", (2 << 20) + 1, 0));
    assert!(bad("align3", 64, 3));
    assert!(bad("align16k", 64, 16384));
    assert!(!bad("align8k", 64, 8192));
    let n = mem.caches().len();
    assert!(mem
        .kmem_cache_create(&"y".repeat(32), 64, 0, SlabFlags::empty(), None)
        .is_ok());
    assert!(mem
        .kmem_cache_create("two_mib", 2 << 20, 0, SlabFlags::empty(), None)
        .is_ok());
    assert_eq!(mem.caches().len(), n + 2);
}
