//! The address-space layer without faults: errno cases of mmap, munmap,
//! mprotect (one table row each), find_vma semantics, merging, splitting,
//! brk, and teardown leak checks.

mod common;

use mm::mmap::errno::*;
use mm::mmap::*;
use mm::PAGE_SIZE;

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;

fn spans(mm: &mut MmBox<'_>) -> Vec<(usize, usize, [u8; 4])> {
    mm.vmas()
        .map(|v| (v.vm_start, v.vm_end, v.perms()))
        .collect()
}

#[test]
fn object_sizes_fit_the_standard_caches() {
    let k = common::boot();
    let mm_c = k.mem.std_cache(mm::StdCache::MmStruct);
    let vma_c = k.mem.std_cache(mm::StdCache::VmAreaStruct);
    assert!(core::mem::size_of::<MmStruct<'_>>() <= mm_c.object_size());
    assert!(core::mem::size_of::<VmAreaStruct>() <= vma_c.object_size());
}

/// One errno case: set up with `prep`, then `op` must fail with `want`.
struct Case {
    name: &'static str,
    want: i32,
    max_map_count: Option<usize>,
    prep: &'static [(usize, usize, usize, usize)],
    op: Op,
}

enum Op {
    Mmap(usize, usize, usize, usize),
    Munmap(usize, usize),
    Mprotect(usize, usize, usize),
    /// Map non-adjacent pages until the call fails.
    MmapUntilFull,
}

const BASE: usize = 0x1000_0000;

#[test]
fn errno_table() {
    let cases = [
        Case {
            name: "MAP_FIXED at an unaligned address",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(BASE + 1, P, RW, ANON | MAP_FIXED),
        },
        Case {
            name: "length 0",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, 0, RW, ANON),
        },
        Case {
            name: "neither MAP_PRIVATE nor MAP_SHARED",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, P, RW, MAP_ANONYMOUS),
        },
        Case {
            name: "both MAP_PRIVATE and MAP_SHARED",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, P, RW, MAP_PRIVATE | MAP_SHARED | MAP_ANONYMOUS),
        },
        Case {
            name: "unknown flags with MAP_SHARED_VALIDATE (anonymous)",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x40_0000),
        },
        Case {
            name: "MAP_SHARED with MAP_GROWSDOWN",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN),
        },
        Case {
            name: "munmap of an unaligned address",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Munmap(BASE + 8, P),
        },
        Case {
            name: "munmap of length 0",
            want: EINVAL,
            max_map_count: None,
            prep: &[],
            op: Op::Munmap(BASE, 0),
        },
        Case {
            name: "mprotect of an unaligned address",
            want: EINVAL,
            max_map_count: None,
            prep: &[(BASE, P, RW, ANON | MAP_FIXED)],
            op: Op::Mprotect(BASE + 4, P, PROT_READ),
        },
        Case {
            name: "mprotect with unknown prot bits",
            want: EINVAL,
            max_map_count: None,
            prep: &[(BASE, P, RW, ANON | MAP_FIXED)],
            op: Op::Mprotect(BASE, P, 0x100),
        },
        Case {
            name: "no room: longer than user space",
            want: ENOMEM,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, mm::pgtable::TASK_SIZE, RW, ANON),
        },
        Case {
            name: "no room: MAP_FIXED past TASK_SIZE",
            want: ENOMEM,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(mm::pgtable::TASK_SIZE - P, 2 * P, RW, ANON | MAP_FIXED),
        },
        Case {
            name: "length overflows when page aligned",
            want: ENOMEM,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, usize::MAX - 5, RW, ANON),
        },
        Case {
            name: "map_count over max_map_count",
            want: ENOMEM,
            max_map_count: Some(20),
            prep: &[],
            op: Op::MmapUntilFull,
        },
        Case {
            name: "munmap splitting in three at max_map_count",
            want: ENOMEM,
            max_map_count: Some(2),
            prep: &[
                (BASE, 3 * P, RW, ANON | MAP_FIXED),
                (BASE + 8 * P, P, RW, ANON | MAP_FIXED),
            ],
            op: Op::Munmap(BASE + P, P),
        },
        Case {
            name: "mprotect splitting at max_map_count",
            want: ENOMEM,
            max_map_count: Some(2),
            prep: &[
                (BASE, 3 * P, RW, ANON | MAP_FIXED),
                (BASE + 8 * P, P, RW, ANON | MAP_FIXED),
            ],
            op: Op::Mprotect(BASE + P, P, PROT_READ),
        },
        Case {
            name: "mprotect over a hole",
            want: ENOMEM,
            max_map_count: None,
            prep: &[
                (BASE, P, RW, ANON | MAP_FIXED),
                (BASE + 2 * P, P, RW, ANON | MAP_FIXED),
            ],
            op: Op::Mprotect(BASE, 3 * P, PROT_READ),
        },
        Case {
            name: "mprotect of an unmapped range",
            want: ENOMEM,
            max_map_count: None,
            prep: &[],
            op: Op::Mprotect(BASE, P, PROT_READ),
        },
        Case {
            name: "mprotect starting in a hole",
            want: ENOMEM,
            max_map_count: None,
            prep: &[(BASE + P, P, RW, ANON | MAP_FIXED)],
            op: Op::Mprotect(BASE, 2 * P, PROT_READ),
        },
        Case {
            name: "MAP_FIXED_NOREPLACE overlapping a mapping",
            want: EEXIST,
            max_map_count: None,
            prep: &[(BASE + P, P, RW, ANON | MAP_FIXED)],
            op: Op::Mmap(BASE, 2 * P, RW, ANON | MAP_FIXED_NOREPLACE),
        },
        Case {
            name: "MAP_FIXED below mmap_min_addr",
            want: EPERM,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, P, RW, ANON | MAP_FIXED),
        },
        Case {
            name: "file mapping without a file",
            want: EBADF,
            max_map_count: None,
            prep: &[],
            op: Op::Mmap(0, P, RW, MAP_PRIVATE),
        },
    ];
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    for c in &cases {
        let mut mm = MmStruct::new(&cpu).unwrap();
        if let Some(m) = c.max_map_count {
            mm.state().max_map_count = m;
        }
        for &(a, l, p, f) in c.prep {
            mm.do_mmap(&cpu, a, l, p, f).unwrap();
        }
        let before = spans(&mut mm);
        let got = match c.op {
            Op::Mmap(a, l, p, f) => mm.do_mmap(&cpu, a, l, p, f).map(|_| ()),
            Op::Munmap(a, l) => mm.do_munmap(&cpu, a, l),
            Op::Mprotect(a, l, p) => mm.mprotect(&cpu, a, l, p),
            Op::MmapUntilFull => {
                let mut r = Ok(());
                for i in 0..1000 {
                    r = mm
                        .do_mmap(&cpu, BASE + 2 * i * P, P, RW, ANON | MAP_FIXED)
                        .map(|_| ());
                    if r.is_err() {
                        // Linux refuses once map_count exceeds the limit.
                        assert_eq!(mm.state().map_count, 21, "{}", c.name);
                        break;
                    }
                }
                r
            }
        };
        assert_eq!(got, Err(c.want), "{}", c.name);
        if !matches!(c.op, Op::MmapUntilFull | Op::Mprotect(..)) {
            assert_eq!(
                spans(&mut mm),
                before,
                "{}: failed call changed the VMAs",
                c.name
            );
        }
        mm.state().validate().unwrap();
        mm.free(&cpu);
    }
}

#[test]
fn mmap_accepts_the_documented_flags() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    for f in [
        ANON,
        MAP_SHARED | MAP_ANONYMOUS,
        ANON | MAP_POPULATE,
        ANON | MAP_NORESERVE,
        ANON | MAP_GROWSDOWN,
        ANON | MAP_STACK,
    ] {
        for prot in [PROT_NONE, PROT_READ, RW, PROT_READ | PROT_EXEC] {
            let a = mm.do_mmap(&cpu, 0, 3 * P, prot, f).unwrap();
            assert_eq!(a % P, 0);
            assert!(a + 3 * P <= DEFAULT_MMAP_BASE);
            let v = mm.find_vma(a).unwrap().clone();
            assert!(v.vm_start <= a && a + 3 * P <= v.vm_end);
            assert_eq!(v.vm_flags.contains(VmFlags::VM_SHARED), f & MAP_SHARED != 0);
            assert_eq!(
                v.vm_flags.contains(VmFlags::VM_GROWSDOWN),
                f & MAP_GROWSDOWN != 0
            );
            assert_eq!(
                v.vm_flags.contains(VmFlags::VM_NORESERVE),
                f & MAP_NORESERVE != 0
            );
            assert_eq!(
                v.vm_flags.contains(VmFlags::VM_WRITE),
                prot & PROT_WRITE != 0
            );
            assert!(v
                .vm_flags
                .contains(VmFlags::VM_MAYREAD | VmFlags::VM_MAYWRITE));
        }
    }
    mm.state().validate().unwrap();
    mm.free(&cpu);
}

#[test]
fn top_down_and_hints() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    let a = mm.do_mmap(&cpu, 0, P, PROT_READ, ANON).unwrap();
    assert_eq!(a, DEFAULT_MMAP_BASE - P);
    let b = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
    assert_eq!(b, a - 2 * P);
    // A free hint is honoured (rounded up to a page).
    let h = mm.do_mmap(&cpu, BASE + 5, P, RW, ANON).unwrap();
    assert_eq!(h, BASE + P);
    // A taken hint is not: the area goes top down.
    let h2 = mm.do_mmap(&cpu, BASE + P, P, RW, ANON).unwrap();
    assert_eq!(h2, b - P);
    // A hint below mmap_min_addr is raised to it.
    let low = mm.do_mmap(&cpu, 16, P, RW, ANON).unwrap();
    assert_eq!(low, MMAP_MIN_ADDR);
    // MAP_FIXED replaces what is there.
    let f = mm
        .do_mmap(&cpu, BASE, 3 * P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(f, BASE);
    assert_eq!(spans(&mut mm)[1], (BASE, BASE + 3 * P, *b"r--p"));
    mm.state().validate().unwrap();
    mm.free(&cpu);
}

#[test]
fn find_vma_semantics_and_cache() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
    mm.do_mmap(&cpu, BASE + 4 * P, P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    // In the first area.
    assert_eq!(mm.find_vma(BASE + P).unwrap().vm_start, BASE);
    // In the hole: the next area, which does not contain the address.
    let v = mm.find_vma(BASE + 2 * P).unwrap().clone();
    assert_eq!((v.vm_start, v.vm_end), (BASE + 4 * P, BASE + 5 * P));
    assert!(!v.contains(BASE + 2 * P));
    // Below everything: the first area; above everything: none.
    assert_eq!(mm.find_vma(0).unwrap().vm_start, BASE);
    assert!(mm.find_vma(BASE + 5 * P).is_none());
    // find_vma_prev.
    let (v, prev) = mm.find_vma_prev(BASE + 3 * P);
    assert_eq!(v.unwrap().vm_start, BASE + 4 * P);
    assert_eq!(prev.unwrap().vm_start, BASE);
    let (v, prev) = mm.find_vma_prev(BASE);
    assert_eq!(v.unwrap().vm_start, BASE);
    assert!(prev.is_none());
    // find_vma_intersection.
    assert!(mm
        .find_vma_intersection(BASE + 2 * P, BASE + 4 * P)
        .is_none());
    assert_eq!(
        mm.find_vma_intersection(BASE + 3 * P, BASE + 5 * P)
            .unwrap()
            .vm_start,
        BASE + 4 * P
    );
    // The cache: repeated lookups in one area hit.
    let (h0, _) = mm.state().cache_stats();
    for i in 0..10 {
        assert_eq!(
            mm.find_vma(BASE + 4 * P + i * 8).unwrap().vm_start,
            BASE + 4 * P
        );
    }
    let (h1, _) = mm.state().cache_stats();
    assert!(h1 - h0 >= 9, "hits {h0} -> {h1}");
    // A change empties it: still correct answers.
    mm.do_munmap(&cpu, BASE + 4 * P, P).unwrap();
    assert!(mm.find_vma(BASE + 4 * P).is_none());
    mm.free(&cpu);
}

#[test]
fn merging_of_neighbours() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, P, RW, ANON | MAP_FIXED).unwrap();
    mm.do_mmap(&cpu, BASE + P, P, RW, ANON | MAP_FIXED).unwrap();
    assert_eq!(spans(&mut mm), vec![(BASE, BASE + 2 * P, *b"rw-p")]);
    // Different flags: no merge.
    mm.do_mmap(&cpu, BASE + 2 * P, P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(mm.state().map_count, 2);
    // Filling a hole between two equal areas merges all three.
    mm.do_mmap(&cpu, BASE + 4 * P, P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    mm.do_mmap(&cpu, BASE + 3 * P, P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + 2 * P, *b"rw-p"),
            (BASE + 2 * P, BASE + 5 * P, *b"r--p")
        ]
    );
    // Separate shared anonymous mappings never merge (each its own shmem).
    mm.do_mmap(
        &cpu,
        BASE + 8 * P,
        P,
        RW,
        MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
    )
    .unwrap();
    mm.do_mmap(
        &cpu,
        BASE + 9 * P,
        P,
        RW,
        MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
    )
    .unwrap();
    assert_eq!(mm.state().map_count, 4);
    mm.state().validate().unwrap();
    mm.free(&cpu);
}

#[test]
fn mprotect_splits_in_three_and_merges_back() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 5 * P, RW, ANON | MAP_FIXED).unwrap();
    mm.mprotect(&cpu, BASE + P, 2 * P, PROT_READ).unwrap();
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + P, *b"rw-p"),
            (BASE + P, BASE + 3 * P, *b"r--p"),
            (BASE + 3 * P, BASE + 5 * P, *b"rw-p"),
        ]
    );
    assert_eq!(mm.state().total_vm, 5);
    mm.mprotect(&cpu, BASE + P, 2 * P, RW).unwrap();
    assert_eq!(spans(&mut mm), vec![(BASE, BASE + 5 * P, *b"rw-p")]);
    // The same on a shared mapping: its pieces merge back too.
    mm.do_mmap(
        &cpu,
        BASE + 8 * P,
        3 * P,
        RW,
        MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
    )
    .unwrap();
    mm.mprotect(&cpu, BASE + 9 * P, P, PROT_NONE).unwrap();
    assert_eq!(mm.state().map_count, 4);
    mm.mprotect(&cpu, BASE + 9 * P, P, RW).unwrap();
    assert_eq!(mm.state().map_count, 2);
    // Over a hole: the part before the hole changes, then ENOMEM.
    assert_eq!(mm.mprotect(&cpu, BASE, 9 * P, PROT_READ), Err(ENOMEM));
    assert_eq!(spans(&mut mm)[0], (BASE, BASE + 5 * P, *b"r--p"));
    // PTEs follow the VMA protection.
    mm.state().validate().unwrap();
    mm.free(&cpu);
}

#[test]
fn munmap_of_the_middle_splits_in_two() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 5 * P, RW, ANON | MAP_FIXED).unwrap();
    mm.do_munmap(&cpu, BASE + 2 * P, P).unwrap();
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + 2 * P, *b"rw-p"),
            (BASE + 3 * P, BASE + 5 * P, *b"rw-p")
        ]
    );
    assert_eq!(mm.state().total_vm, 4);
    // Unmapping holes is fine, and a range covering several areas works.
    mm.do_munmap(&cpu, BASE + 100 * P, 10 * P).unwrap();
    mm.do_munmap(&cpu, BASE + P, 3 * P).unwrap();
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + P, *b"rw-p"),
            (BASE + 4 * P, BASE + 5 * P, *b"rw-p")
        ]
    );
    mm.state().validate().unwrap();
    mm.free(&cpu);
}

#[test]
fn munmap_clears_ptes_and_frees_tables() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
    let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
    let tables_before;
    {
        let mut pg = mm.page_table_lock.lock();
        let pt = pg.pt.as_mut().unwrap();
        tables_before = pt.nr_tables();
        pt.map_page(&cpu, BASE + P, pfn, mm::pgtable::PgProt::PAGE_WRITE)
            .unwrap();
        assert!(pt.nr_tables() > tables_before);
    }
    // mprotect changes the PTE.
    mm.mprotect(&cpu, BASE, 4 * P, PROT_READ).unwrap();
    {
        let pg = mm.page_table_lock.lock();
        let pte = pg.pt.as_ref().unwrap().lookup(BASE + P).unwrap();
        assert!(pte.is_read() && !pte.is_write());
    }
    mm.do_munmap(&cpu, BASE, 4 * P).unwrap();
    {
        let pg = mm.page_table_lock.lock();
        let pt = pg.pt.as_ref().unwrap();
        assert!(pt.lookup(BASE + P).is_none());
        assert_eq!(pt.nr_tables(), tables_before);
        assert!(pg.tlb.needs_flush());
    }
    cpu.__free_pages(page, 0).unwrap();
    mm.free(&cpu);
}

#[test]
fn brk_grows_shrinks_and_ignores_below_start() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    // Before exec sets a heap, the break is 0 and cannot map page 0.
    assert_eq!(mm.brk(&cpu, 2 * P), 0);
    assert_eq!(mm.state().map_count, 0);
    let heap = 0x40_0000;
    mm.state().start_brk = heap;
    mm.state().brk = heap;
    assert_eq!(mm.brk(&cpu, 0), heap, "brk(0) reports the break");
    assert_eq!(mm.brk(&cpu, heap + 3 * P + 5), heap + 3 * P + 5);
    assert_eq!(spans(&mut mm), vec![(heap, heap + 4 * P, *b"rw-p")]);
    assert_eq!(mm.brk(&cpu, heap + 10 * P), heap + 10 * P);
    assert_eq!(spans(&mut mm), vec![(heap, heap + 10 * P, *b"rw-p")]);
    // Shrink.
    assert_eq!(mm.brk(&cpu, heap + 2 * P), heap + 2 * P);
    assert_eq!(spans(&mut mm), vec![(heap, heap + 2 * P, *b"rw-p")]);
    // Below start_brk: ignored, old break returned.
    assert_eq!(mm.brk(&cpu, heap - P), heap + 2 * P);
    // Growing into a mapping fails: the old break comes back.
    mm.do_mmap(&cpu, heap + 6 * P, P, RW, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(mm.brk(&cpu, heap + 6 * P), heap + 2 * P);
    assert_eq!(mm.brk(&cpu, heap + 5 * P), heap + 5 * P);
    // Shrink to nothing.
    assert_eq!(mm.brk(&cpu, heap), heap);
    assert_eq!(spans(&mut mm), vec![(heap + 6 * P, heap + 7 * P, *b"rw-p")]);
    mm.state().validate().unwrap();
    mm.free(&cpu);
}

#[test]
fn exit_mmap_gives_everything_back() {
    let k = common::boot_quiet(64 << 20, 2);
    {
        // Create the maple_node cache (once per Mem) before measuring.
        mm::mmap::init_caches(&k.mem).unwrap();
    }
    let before = common::settle(&k.mem);
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        for i in 0..300 {
            let prot = if i % 2 == 0 { RW } else { PROT_READ };
            mm.do_mmap(&cpu, BASE + i * 3 * P, 2 * P, prot, ANON | MAP_FIXED)
                .unwrap();
        }
        mm.brk(&cpu, 0);
        mm.mprotect(&cpu, BASE + P, 100 * P, PROT_NONE).unwrap_err();
        let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
        let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
        mm.page_table_lock
            .lock()
            .pt
            .as_mut()
            .unwrap()
            .map_page(
                &cpu,
                BASE + 7 * (1 << 30),
                pfn,
                mm::pgtable::PgProt::PAGE_READ,
            )
            .unwrap();
        cpu.__free_pages(page, 0).unwrap();
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn threads_share_an_mm_under_the_mmap_lock() {
    let k = common::boot_quiet(64 << 20, 4);
    let mm = {
        let cpu = k.mem.cpu(0).unwrap();
        MmStruct::new(&cpu).unwrap()
    };
    std::thread::scope(|s| {
        for t in 0..4usize {
            let (mem, mm) = (&k.mem, &mm);
            s.spawn(move || {
                let cpu = mem.cpu(t).unwrap();
                let base = BASE + t * (1 << 24);
                for i in 0..200 {
                    let a = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
                    mm.do_mmap(&cpu, base + i * 2 * P, P, RW, ANON | MAP_FIXED)
                        .unwrap();
                    mm.mprotect(&cpu, a, P, PROT_READ).unwrap();
                    // Our pages are mapped as we left them (neighbours may merge).
                    {
                        let st = mm.mmap_read_lock(&cpu);
                        let lo = st.vma_lookup(a).unwrap();
                        assert!(!lo.vm_flags.contains(VmFlags::VM_WRITE));
                        let hi = st.vma_lookup(a + P).unwrap();
                        assert!(hi.vm_flags.contains(VmFlags::VM_WRITE));
                    }
                    mm.do_munmap(&cpu, a, 2 * P).unwrap();
                }
            });
        }
    });
    let mut mm = mm;
    assert_eq!(mm.state().map_count, 4 * 200);
    mm.state().validate().unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    mm.free(&cpu);
}

#[test]
fn counters_follow_the_mappings() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED | MAP_LOCKED)
        .unwrap();
    mm.do_mmap(
        &cpu,
        BASE + 8 * P,
        2 * P,
        PROT_READ | PROT_EXEC,
        ANON | MAP_FIXED,
    )
    .unwrap();
    mm.do_mmap(
        &cpu,
        BASE + 16 * P,
        3 * P,
        RW,
        ANON | MAP_FIXED | MAP_GROWSDOWN,
    )
    .unwrap();
    {
        let st = mm.state();
        assert_eq!(
            (
                st.total_vm,
                st.locked_vm,
                st.data_vm,
                st.exec_vm,
                st.stack_vm
            ),
            (9, 4, 4, 2, 3)
        );
    }
    let v = mm.find_vma(BASE).unwrap().clone();
    assert!(v
        .vm_flags
        .contains(VmFlags::VM_LOCKED | VmFlags::VM_ACCOUNT | VmFlags::VM_WRITE));
    mm.do_munmap(&cpu, BASE + P, 2 * P).unwrap();
    mm.mprotect(&cpu, BASE + 8 * P, 2 * P, RW).unwrap();
    {
        let st = mm.state();
        assert_eq!(
            (
                st.total_vm,
                st.locked_vm,
                st.data_vm,
                st.exec_vm,
                st.stack_vm
            ),
            (7, 2, 4, 0, 3)
        );
    }
    assert_eq!(mm.mm_users.load(std::sync::atomic::Ordering::Relaxed), 1);
    // MAP_LOCKED populated its four pages; two are left.
    assert_eq!(mm.get_mm_rss(), 2);
    mm.free(&cpu);
}
