//! The rest of the anonymous mmap family: mremap (with MREMAP_DONTUNMAP),
//! madvise, msync, mlock, munlock, mlockall and munlockall. One errno
//! table row per error case;
//! mremap growing and shrinking in place and moving (page-table entries
//! moved, not copied); MADV_DONTNEED keeping the area; mlock splitting,
//! merging and `locked_vm`; after every operation the VMA set is sorted,
//! non-overlapping and maximally merged; leak checks after teardown.

mod common;

use mm::mmap::errno::*;
use mm::mmap::madvise::*;
use mm::mmap::merge::can_merge;
use mm::mmap::mlock::*;
use mm::mmap::mremap::*;
use mm::mmap::msync::*;
use mm::mmap::*;
use mm::pgtable::{PgProt, TASK_SIZE};
use mm::PAGE_SIZE;

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const SHARED: usize = MAP_SHARED | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;
const MAYMOVE: usize = MREMAP_MAYMOVE;
const FIXED: usize = MREMAP_MAYMOVE | MREMAP_FIXED;

fn spans(mm: &mut MmBox<'_>) -> Vec<(usize, usize, [u8; 4])> {
    mm.vmas()
        .map(|v| (v.vm_start, v.vm_end, v.perms()))
        .collect()
}

/// The VMA set is sorted, non-overlapping and maximally merged; the index
/// and the counters agree, and `locked_vm` counts the locked areas' pages.
fn check(mm: &mut MmBox<'_>) {
    let st = mm.state();
    st.validate().unwrap();
    let vmas: Vec<VmAreaStruct> = st.vmas().cloned().collect();
    for v in &vmas {
        assert!(v.vm_start < v.vm_end, "empty area {v:?}");
        assert_eq!(v.vm_start % P, 0);
        assert_eq!(v.vm_end % P, 0);
    }
    for w in vmas.windows(2) {
        assert!(
            w[0].vm_end <= w[1].vm_start,
            "overlap {:?} {:?}",
            w[0],
            w[1]
        );
        assert!(!can_merge(&w[0], &w[1]), "unmerged {:?} {:?}", w[0], w[1]);
    }
    let locked: usize = vmas
        .iter()
        .filter(|v| v.vm_flags.contains(VmFlags::VM_LOCKED))
        .map(|v| v.pages())
        .sum();
    assert_eq!(st.locked_vm, locked, "locked_vm");
    assert_eq!(st.map_count, vmas.len());
}

#[derive(Clone, Copy)]
enum Prep {
    Map(usize, usize, usize, usize),
    Lock(usize, usize),
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Mremap(usize, usize, usize, usize, usize),
    Madvise(usize, usize, usize),
    Msync(usize, usize, usize),
    Mlock(usize, usize),
    Munlock(usize, usize),
    Mlockall(usize),
}

struct Case {
    name: &'static str,
    want: i32,
    max_map_count: Option<usize>,
    prep: &'static [Prep],
    op: Op,
}

const fn case(name: &'static str, want: i32, prep: &'static [Prep], op: Op) -> Case {
    Case {
        name,
        want,
        max_map_count: None,
        prep,
        op,
    }
}

const ONE: &[Prep] = &[Prep::Map(BASE, 4 * P, RW, ANON | MAP_FIXED)];
const HOLE: &[Prep] = &[
    Prep::Map(BASE, P, RW, ANON | MAP_FIXED),
    Prep::Map(BASE + 2 * P, P, RW, ANON | MAP_FIXED),
];
const TWO: &[Prep] = &[
    Prep::Map(BASE, P, RW, ANON | MAP_FIXED),
    Prep::Map(BASE + P, P, PROT_READ, ANON | MAP_FIXED),
];
const BLOCKED: &[Prep] = &[
    Prep::Map(BASE, 2 * P, RW, ANON | MAP_FIXED),
    Prep::Map(BASE + 2 * P, P, PROT_READ, ANON | MAP_FIXED),
];
const LOCKED: &[Prep] = &[
    Prep::Map(BASE, 4 * P, RW, ANON | MAP_FIXED),
    Prep::Lock(BASE, 4 * P),
];
const SHM: &[Prep] = &[Prep::Map(BASE, 4 * P, RW, SHARED | MAP_FIXED)];
const FULL: &[Prep] = &[
    Prep::Map(BASE, 3 * P, RW, ANON | MAP_FIXED),
    Prep::Map(BASE + 8 * P, P, RW, ANON | MAP_FIXED),
];
/// A length whose page-aligned end wraps past the top of the address space.
const WRAP: usize = usize::MAX - 2 * P + 1;

#[test]
fn errno_table() {
    let mut cases = vec![
        // mremap
        case(
            "mremap: unknown flags",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, 2 * P, 8, 0),
        ),
        case(
            "mremap: MREMAP_FIXED without MREMAP_MAYMOVE",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, P, MREMAP_FIXED, BASE + 16 * P),
        ),
        case(
            "mremap: MREMAP_DONTUNMAP without MREMAP_MAYMOVE",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, P, MREMAP_DONTUNMAP, 0),
        ),
        case(
            "mremap: MREMAP_DONTUNMAP resizing",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, 2 * P, MREMAP_DONTUNMAP | MAYMOVE, 0),
        ),
        case(
            "mremap: unaligned old address",
            EINVAL,
            ONE,
            Op::Mremap(BASE + 1, P, 2 * P, MAYMOVE, 0),
        ),
        case(
            "mremap: new length 0",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, 0, MAYMOVE, 0),
        ),
        case(
            "mremap: new length wraps when page aligned",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, usize::MAX, MAYMOVE, 0),
        ),
        case(
            "mremap: old address unmapped",
            EFAULT,
            ONE,
            Op::Mremap(BASE + 8 * P, P, 2 * P, MAYMOVE, 0),
        ),
        case(
            "mremap: shrink of an unmapped address",
            EFAULT,
            &[],
            Op::Mremap(BASE, 2 * P, P, 0, 0),
        ),
        case(
            "mremap: old range into a hole",
            EFAULT,
            HOLE,
            Op::Mremap(BASE, 2 * P, 4 * P, MAYMOVE, 0),
        ),
        case(
            "mremap: old range over two areas",
            EFAULT,
            TWO,
            Op::Mremap(BASE, 2 * P, 4 * P, MAYMOVE, 0),
        ),
        case(
            "mremap: old length 0 of a private area",
            EINVAL,
            ONE,
            Op::Mremap(BASE, 0, P, MAYMOVE, 0),
        ),
        case(
            "mremap: cannot grow in place without MAYMOVE",
            ENOMEM,
            BLOCKED,
            Op::Mremap(BASE, 2 * P, 3 * P, 0, 0),
        ),
        case(
            "mremap: grow from inside the area without MAYMOVE",
            ENOMEM,
            ONE,
            Op::Mremap(BASE, P, 2 * P, 0, 0),
        ),
        case(
            "mremap: no room to move",
            ENOMEM,
            ONE,
            Op::Mremap(BASE, 4 * P, TASK_SIZE, MAYMOVE, 0),
        ),
        case(
            "mremap: MREMAP_FIXED overlapping the old range",
            EINVAL,
            ONE,
            Op::Mremap(BASE, 2 * P, 2 * P, FIXED, BASE + P),
        ),
        case(
            "mremap: MREMAP_FIXED new range below the old one, overlapping",
            EINVAL,
            ONE,
            Op::Mremap(BASE + 2 * P, 2 * P, 4 * P, FIXED, BASE - P),
        ),
        case(
            "mremap: MREMAP_FIXED at an unaligned address",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, P, FIXED, BASE + 16 * P + 8),
        ),
        case(
            "mremap: MREMAP_FIXED past TASK_SIZE",
            EINVAL,
            ONE,
            Op::Mremap(BASE, P, 2 * P, FIXED, TASK_SIZE - P),
        ),
        case(
            "mremap: MREMAP_FIXED below mmap_min_addr",
            EPERM,
            ONE,
            Op::Mremap(BASE, P, P, FIXED, 0),
        ),
        Case {
            name: "mremap: MREMAP_FIXED near max_map_count",
            want: ENOMEM,
            max_map_count: Some(6),
            prep: FULL,
            op: Op::Mremap(BASE, P, P, FIXED, BASE + 32 * P),
        },
        Case {
            name: "mremap: move near max_map_count",
            want: ENOMEM,
            max_map_count: Some(4),
            prep: FULL,
            op: Op::Mremap(BASE, 3 * P, 9 * P, MAYMOVE, 0),
        },
        // madvise
        case(
            "madvise: unaligned start",
            EINVAL,
            ONE,
            Op::Madvise(BASE + 1, P, MADV_DONTNEED),
        ),
        case(
            "madvise: unknown advice",
            EINVAL,
            ONE,
            Op::Madvise(BASE, P, 999),
        ),
        case(
            "madvise: MADV_HUGEPAGE (no THP)",
            EINVAL,
            ONE,
            Op::Madvise(BASE, P, MADV_HUGEPAGE),
        ),
        case(
            "madvise: MADV_MERGEABLE (no KSM)",
            EINVAL,
            ONE,
            Op::Madvise(BASE, P, MADV_MERGEABLE),
        ),
        case(
            "madvise: length wraps when page aligned",
            EINVAL,
            ONE,
            Op::Madvise(BASE, usize::MAX, MADV_WILLNEED),
        ),
        case(
            "madvise: end wraps",
            EINVAL,
            ONE,
            Op::Madvise(BASE, WRAP, MADV_WILLNEED),
        ),
        case(
            "madvise: over a hole",
            ENOMEM,
            HOLE,
            Op::Madvise(BASE, 3 * P, MADV_DONTNEED),
        ),
        case(
            "madvise: unmapped range",
            ENOMEM,
            ONE,
            Op::Madvise(BASE + 8 * P, P, MADV_WILLNEED),
        ),
        case(
            "madvise: past the last area",
            ENOMEM,
            ONE,
            Op::Madvise(BASE, 8 * P, MADV_RANDOM),
        ),
        case(
            "madvise: MADV_DONTNEED of a locked area",
            EINVAL,
            LOCKED,
            Op::Madvise(BASE, P, MADV_DONTNEED),
        ),
        case(
            "madvise: MADV_COLD of a locked area",
            EINVAL,
            LOCKED,
            Op::Madvise(BASE, P, MADV_COLD),
        ),
        case(
            "madvise: MADV_FREE of a shared area",
            EINVAL,
            SHM,
            Op::Madvise(BASE, P, MADV_FREE),
        ),
        case(
            "madvise: MADV_WIPEONFORK of a shared area",
            EINVAL,
            SHM,
            Op::Madvise(BASE, P, MADV_WIPEONFORK),
        ),
        case(
            "madvise: MADV_REMOVE of a private area",
            EINVAL,
            ONE,
            Op::Madvise(BASE, P, MADV_REMOVE),
        ),
        Case {
            name: "madvise: split at max_map_count",
            want: EAGAIN,
            max_map_count: Some(2),
            prep: FULL,
            op: Op::Madvise(BASE + P, P, MADV_RANDOM),
        },
        // msync
        case(
            "msync: unknown flag bits",
            EINVAL,
            ONE,
            Op::Msync(BASE, P, 8),
        ),
        case(
            "msync: unaligned start",
            EINVAL,
            ONE,
            Op::Msync(BASE + 4, P, MS_SYNC),
        ),
        case(
            "msync: MS_ASYNC with MS_SYNC",
            EINVAL,
            ONE,
            Op::Msync(BASE, P, MS_ASYNC | MS_SYNC),
        ),
        case(
            "msync: end wraps",
            ENOMEM,
            ONE,
            Op::Msync(BASE, WRAP, MS_SYNC),
        ),
        case(
            "msync: over a hole",
            ENOMEM,
            HOLE,
            Op::Msync(BASE, 3 * P, MS_SYNC),
        ),
        case(
            "msync: MS_ASYNC starting in a hole",
            ENOMEM,
            HOLE,
            Op::Msync(BASE + P, 2 * P, MS_ASYNC),
        ),
        case(
            "msync: unmapped range",
            ENOMEM,
            ONE,
            Op::Msync(BASE + 8 * P, P, MS_SYNC),
        ),
        case(
            "msync: MS_INVALIDATE of a locked area",
            EBUSY,
            LOCKED,
            Op::Msync(BASE, P, MS_INVALIDATE),
        ),
        // mlock and friends
        case("mlock: over a hole", ENOMEM, HOLE, Op::Mlock(BASE, 3 * P)),
        case(
            "mlock: starting in a hole",
            ENOMEM,
            HOLE,
            Op::Mlock(BASE + P, 2 * P),
        ),
        case("mlock: unmapped range", ENOMEM, &[], Op::Mlock(BASE, P)),
        case("mlock: end wraps", EINVAL, ONE, Op::Mlock(BASE, WRAP)),
        case(
            "munlock: over a hole",
            ENOMEM,
            HOLE,
            Op::Munlock(BASE, 3 * P),
        ),
        Case {
            name: "mlock: split at max_map_count",
            want: ENOMEM,
            max_map_count: Some(2),
            prep: FULL,
            op: Op::Mlock(BASE + P, P),
        },
        case("mlockall: no flags", EINVAL, ONE, Op::Mlockall(0)),
        case(
            "mlockall: MCL_ONFAULT alone",
            EINVAL,
            ONE,
            Op::Mlockall(MCL_ONFAULT),
        ),
        case(
            "mlockall: unknown flag",
            EINVAL,
            ONE,
            Op::Mlockall(MCL_CURRENT | 8),
        ),
    ];
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    for c in cases.drain(..) {
        let mut mm = MmStruct::new(&cpu).unwrap();
        for p in c.prep {
            match *p {
                Prep::Map(a, l, pr, f) => {
                    mm.do_mmap(&cpu, a, l, pr, f).unwrap();
                }
                Prep::Lock(a, l) => mm.mlock(&cpu, a, l).unwrap(),
            }
        }
        if let Some(m) = c.max_map_count {
            mm.state().max_map_count = m;
        }
        let got = match c.op {
            Op::Mremap(a, o, n, f, na) => mm.mremap(&cpu, a, o, n, f, na).map(|_| ()),
            Op::Madvise(a, l, adv) => mm.madvise(&cpu, a, l, adv),
            Op::Msync(a, l, f) => mm.msync(&cpu, a, l, f),
            Op::Mlock(a, l) => mm.mlock(&cpu, a, l),
            Op::Munlock(a, l) => mm.munlock(&cpu, a, l),
            Op::Mlockall(f) => mm.mlockall(&cpu, f),
        };
        assert_eq!(got, Err(c.want), "{}: {:?}", c.name, c.op);
        check(&mut mm);
        mm.free(&cpu);
    }
}

#[test]
fn valid_calls_succeed() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    // Length 0 is fine everywhere it is allowed.
    mm.madvise(&cpu, BASE + 64 * P, 0, MADV_DONTNEED).unwrap();
    mm.msync(&cpu, BASE + 64 * P, 0, MS_SYNC).unwrap();
    mm.mlock(&cpu, BASE + 64 * P, 0).unwrap();
    // A length that wraps to 0 when aligned: msync does nothing (Linux).
    mm.msync(&cpu, BASE, usize::MAX, MS_ASYNC).unwrap();
    for f in [0, MS_ASYNC, MS_SYNC, MS_INVALIDATE, MS_SYNC | MS_INVALIDATE] {
        mm.msync(&cpu, BASE, 4 * P, f).unwrap();
    }
    for adv in [
        MADV_NORMAL,
        MADV_WILLNEED,
        MADV_DONTNEED,
        MADV_FREE,
        MADV_COLD,
        MADV_PAGEOUT,
        MADV_DONTNEED_LOCKED,
        MADV_KEEPONFORK,
        MADV_DOFORK,
        MADV_DODUMP,
    ] {
        mm.madvise(&cpu, BASE, 4 * P, adv).unwrap();
        check(&mut mm);
    }
    // mlock rounds an unaligned start down and the length up.
    mm.mlock(&cpu, BASE + P + 5, 10).unwrap();
    check(&mut mm);
    let locked: Vec<_> = mm
        .vmas()
        .filter(|v| v.vm_flags.contains(VmFlags::VM_LOCKED))
        .map(|v| (v.vm_start, v.vm_end))
        .collect();
    assert_eq!(locked, vec![(BASE + P, BASE + 2 * P)]);
    // mremap to the same size returns the address.
    assert_eq!(mm.mremap(&cpu, BASE, 4 * P, 4 * P, 0, 0), Ok(BASE));
    mm.free(&cpu);
}

#[test]
fn mremap_grows_and_shrinks_in_place() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
    assert_eq!(mm.mremap(&cpu, BASE, 2 * P, 5 * P, 0, 0), Ok(BASE));
    assert_eq!(spans(&mut mm), vec![(BASE, BASE + 5 * P, *b"rw-p")]);
    assert_eq!(mm.state().total_vm, 5);
    check(&mut mm);
    // Grown up to a compatible neighbour: they merge.
    mm.do_mmap(&cpu, BASE + 8 * P, P, RW, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(mm.mremap(&cpu, BASE, 5 * P, 8 * P, 0, 0), Ok(BASE));
    assert_eq!(spans(&mut mm), vec![(BASE, BASE + 9 * P, *b"rw-p")]);
    check(&mut mm);
    // Shrink: the tail is unmapped, unaligned lengths rounded up.
    assert_eq!(mm.mremap(&cpu, BASE, 9 * P, 3 * P - 100, 0, 0), Ok(BASE));
    assert_eq!(spans(&mut mm), vec![(BASE, BASE + 3 * P, *b"rw-p")]);
    assert_eq!(mm.state().total_vm, 3);
    // Shrinking the middle of an area leaves a hole after the new end.
    assert_eq!(mm.mremap(&cpu, BASE, 2 * P, P, 0, 0), Ok(BASE));
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + P, *b"rw-p"),
            (BASE + 2 * P, BASE + 3 * P, *b"rw-p")
        ]
    );
    check(&mut mm);
    // Locked areas count their growth in locked_vm.
    mm.mlock(&cpu, BASE, P).unwrap();
    assert_eq!(mm.mremap(&cpu, BASE, P, 2 * P, 0, 0), Ok(BASE));
    assert_eq!(mm.state().locked_vm, 2);
    check(&mut mm);
    mm.free(&cpu);
}

#[test]
fn mremap_maymove_moves_the_ptes() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    // A neighbour that is not mergeable blocks growth in place.
    mm.do_mmap(&cpu, BASE + 4 * P, P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
    let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
    let old_pte = {
        let mut pg = mm.page_table_lock.lock();
        let pt = pg.pt.as_mut().unwrap();
        pt.map_page(&cpu, BASE + P, pfn, PgProt::PAGE_WRITE)
            .unwrap();
        assert!(pt.set_accessed_dirty(BASE + P, true).is_some());
        pt.lookup(BASE + P).unwrap()
    };
    let _ = mm.take_tlb_flush();
    let new = mm.mremap(&cpu, BASE, 4 * P, 8 * P, MAYMOVE, 0).unwrap();
    assert_ne!(new, BASE);
    {
        let pg = mm.page_table_lock.lock();
        let pt = pg.pt.as_ref().unwrap();
        let moved = pt.lookup(new + P).expect("the entry moved");
        assert_eq!(moved.pfn(), pfn);
        assert_eq!(moved, old_pte, "same frame and flags, A and D included");
        assert!(pt.lookup(BASE + P).is_none(), "the old entry is gone");
        assert!(pg.tlb.covers(BASE + P), "the old address is flushed");
    }
    let v = mm.find_vma(new).unwrap().clone();
    assert_eq!((v.vm_start, v.vm_end), (new, new + 8 * P));
    assert_eq!(
        v.vm_pgoff,
        BASE / P,
        "a private area with pages keeps its page offset"
    );
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE + 4 * P, BASE + 5 * P, *b"r--p"),
            (new, new + 8 * P, *b"rw-p")
        ]
    );
    assert_eq!(mm.state().total_vm, 9);
    check(&mut mm);
    mm.do_munmap(&cpu, new, 8 * P).unwrap();
    cpu.__free_pages(page, 0).unwrap();
    // A move of an area without pages resets the private offset, so it
    // merges with a neighbour at its new place.
    mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
    mm.do_mmap(&cpu, BASE + 32 * P, 2 * P, RW, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(
        mm.mremap(&cpu, BASE, 2 * P, 2 * P, FIXED, BASE + 34 * P),
        Ok(BASE + 34 * P)
    );
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE + 4 * P, BASE + 5 * P, *b"r--p"),
            (BASE + 32 * P, BASE + 36 * P, *b"rw-p")
        ]
    );
    check(&mut mm);
    mm.free(&cpu);
}

#[test]
fn mremap_fixed_replaces_and_shrinks() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    mm.do_mmap(&cpu, BASE + 16 * P, 8 * P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
    let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
    mm.page_table_lock
        .lock()
        .pt
        .as_mut()
        .unwrap()
        .map_page(&cpu, BASE + 3 * P, pfn, PgProt::PAGE_READ)
        .unwrap();
    // Move the middle two pages into the read-only area, shrinking: the
    // page at BASE + 3P is beyond the new length and is unmapped.
    let to = BASE + 18 * P;
    assert_eq!(mm.mremap(&cpu, BASE + P, 3 * P, 2 * P, FIXED, to), Ok(to));
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + P, *b"rw-p"),
            (BASE + 16 * P, to, *b"r--p"),
            (to, to + 2 * P, *b"rw-p"),
            (to + 2 * P, BASE + 24 * P, *b"r--p"),
        ]
    );
    assert!(mm
        .page_table_lock
        .lock()
        .pt
        .as_ref()
        .unwrap()
        .lookup(BASE + 3 * P)
        .is_none());
    assert_eq!(mm.state().total_vm, 1 + 8);
    check(&mut mm);
    // And back, growing.
    assert_eq!(
        mm.mremap(&cpu, to, 2 * P, 3 * P, FIXED, BASE + P),
        Ok(BASE + P)
    );
    check(&mut mm);
    cpu.__free_pages(page, 0).unwrap();
    mm.free(&cpu);
}

#[test]
fn mremap_of_a_shared_area_with_old_len_0_duplicates_it() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, SHARED | MAP_FIXED)
        .unwrap();
    let new = mm.mremap(&cpu, BASE + P, 0, 2 * P, MAYMOVE, 0).unwrap();
    let old = mm.find_vma(BASE).unwrap().clone();
    let dup = mm.find_vma(new).unwrap().clone();
    assert_eq!((old.vm_start, old.vm_end), (BASE, BASE + 4 * P));
    assert_eq!((dup.vm_start, dup.vm_end), (new, new + 2 * P));
    assert_eq!(dup.shmem, old.shmem, "the same object");
    assert_eq!(dup.vm_pgoff, 1);
    // Without MAYMOVE it cannot grow in place.
    assert_eq!(mm.mremap(&cpu, BASE, 0, P, 0, 0), Err(ENOMEM));
    check(&mut mm);
    mm.free(&cpu);
}

#[test]
fn madvise_dontneed_keeps_the_area() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
    let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
    mm.page_table_lock
        .lock()
        .pt
        .as_mut()
        .unwrap()
        .map_page(&cpu, BASE + 2 * P, pfn, PgProt::PAGE_WRITE)
        .unwrap();
    mm.madvise(&cpu, BASE, 4 * P, MADV_DONTNEED).unwrap();
    {
        let pg = mm.page_table_lock.lock();
        assert!(pg.pt.as_ref().unwrap().lookup(BASE + 2 * P).is_none());
        assert!(pg.tlb.covers(BASE + 2 * P));
    }
    assert_eq!(spans(&mut mm), vec![(BASE, BASE + 4 * P, *b"rw-p")]);
    assert_eq!(mm.state().total_vm, 4);
    check(&mut mm);
    // Over a hole: the mapped parts are zapped, then ENOMEM.
    mm.do_mmap(&cpu, BASE + 6 * P, P, RW, ANON | MAP_FIXED)
        .unwrap();
    mm.page_table_lock
        .lock()
        .pt
        .as_mut()
        .unwrap()
        .map_page(&cpu, BASE + 6 * P, pfn, PgProt::PAGE_WRITE)
        .unwrap();
    assert_eq!(mm.madvise(&cpu, BASE, 7 * P, MADV_DONTNEED), Err(ENOMEM));
    assert!(mm
        .page_table_lock
        .lock()
        .pt
        .as_ref()
        .unwrap()
        .lookup(BASE + 6 * P)
        .is_none());
    check(&mut mm);
    cpu.__free_pages(page, 0).unwrap();
    mm.free(&cpu);
}

#[test]
fn madvise_flags_split_and_merge_back() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 6 * P, RW, ANON | MAP_FIXED).unwrap();
    let flags = |mm: &mut MmBox<'_>| -> Vec<(usize, usize, VmFlags)> {
        let m = VmFlags::VM_RAND_READ
            | VmFlags::VM_SEQ_READ
            | VmFlags::VM_DONTCOPY
            | VmFlags::VM_DONTDUMP
            | VmFlags::VM_WIPEONFORK;
        mm.vmas()
            .map(|v| (v.vm_start, v.vm_end, v.vm_flags & m))
            .collect()
    };
    mm.madvise(&cpu, BASE + 2 * P, 2 * P, MADV_RANDOM).unwrap();
    check(&mut mm);
    assert_eq!(
        flags(&mut mm),
        vec![
            (BASE, BASE + 2 * P, VmFlags::empty()),
            (BASE + 2 * P, BASE + 4 * P, VmFlags::VM_RAND_READ),
            (BASE + 4 * P, BASE + 6 * P, VmFlags::empty()),
        ]
    );
    mm.madvise(&cpu, BASE + 3 * P, P, MADV_SEQUENTIAL).unwrap();
    check(&mut mm);
    assert_eq!(
        flags(&mut mm)[2],
        (BASE + 3 * P, BASE + 4 * P, VmFlags::VM_SEQ_READ)
    );
    mm.madvise(&cpu, BASE, 6 * P, MADV_NORMAL).unwrap();
    check(&mut mm);
    assert_eq!(flags(&mut mm), vec![(BASE, BASE + 6 * P, VmFlags::empty())]);
    mm.madvise(&cpu, BASE + P, P, MADV_DONTFORK).unwrap();
    mm.madvise(&cpu, BASE + 4 * P, P, MADV_WIPEONFORK).unwrap();
    mm.madvise(&cpu, BASE + 5 * P, P, MADV_DONTDUMP).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().map_count, 5);
    assert_eq!(
        flags(&mut mm)[1],
        (BASE + P, BASE + 2 * P, VmFlags::VM_DONTCOPY)
    );
    mm.madvise(&cpu, BASE, 6 * P, MADV_DOFORK).unwrap();
    mm.madvise(&cpu, BASE, 6 * P, MADV_KEEPONFORK).unwrap();
    mm.madvise(&cpu, BASE, 6 * P, MADV_DODUMP).unwrap();
    check(&mut mm);
    assert_eq!(flags(&mut mm), vec![(BASE, BASE + 6 * P, VmFlags::empty())]);
    // Over a hole: the mapped parts get the advice, then ENOMEM.
    mm.do_munmap(&cpu, BASE + 2 * P, P).unwrap();
    assert_eq!(mm.madvise(&cpu, BASE, 6 * P, MADV_RANDOM), Err(ENOMEM));
    check(&mut mm);
    assert!(mm
        .vmas()
        .all(|v| v.vm_flags.contains(VmFlags::VM_RAND_READ)));
    mm.free(&cpu);
}

#[test]
fn mlock_splits_merges_and_counts_locked_vm() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 8 * P, RW, ANON | MAP_FIXED).unwrap();
    mm.do_mmap(&cpu, BASE + 8 * P, 2 * P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    mm.mlock(&cpu, BASE + 2 * P, 3 * P).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 3);
    assert_eq!(mm.state().map_count, 4);
    // Locking an overlapping range counts only the new pages.
    mm.mlock(&cpu, BASE + 4 * P, 2 * P).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 4);
    // Across two areas.
    mm.mlock(&cpu, BASE + 7 * P, 2 * P).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 6);
    mm.munlock(&cpu, BASE + 3 * P, P).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 5);
    // Unlocking everything merges back to the original two areas.
    mm.munlock(&cpu, BASE, 10 * P).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 0);
    assert_eq!(
        spans(&mut mm),
        vec![
            (BASE, BASE + 8 * P, *b"rw-p"),
            (BASE + 8 * P, BASE + 10 * P, *b"r--p")
        ]
    );
    // Over a hole: the area before it stays locked, as in Linux.
    mm.do_munmap(&cpu, BASE + 4 * P, P).unwrap();
    assert_eq!(mm.mlock(&cpu, BASE + 2 * P, 6 * P), Err(ENOMEM));
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 2);
    // mlockall / munlockall.
    mm.mlockall(&cpu, MCL_CURRENT).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 9);
    assert_eq!(mm.state().map_count, 3);
    mm.mlockall(&cpu, MCL_CURRENT | MCL_ONFAULT).unwrap();
    check(&mut mm);
    assert!(mm
        .vmas()
        .all(|v| v.vm_flags.contains(VmFlags::VM_LOCKONFAULT)));
    mm.munlockall(&cpu).unwrap();
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 0);
    // munmap and mremap of locked areas keep locked_vm exact.
    mm.mlock(&cpu, BASE, 4 * P).unwrap();
    mm.do_munmap(&cpu, BASE + P, P).unwrap();
    assert_eq!(mm.state().locked_vm, 3);
    let new = mm
        .mremap(&cpu, BASE + 2 * P, 2 * P, 5 * P, MAYMOVE, 0)
        .unwrap();
    assert_ne!(new, BASE + 2 * P);
    check(&mut mm);
    assert_eq!(mm.state().locked_vm, 6);
    mm.free(&cpu);
}

/// A small deterministic generator (no external state).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn random_sequences_keep_the_vma_set_sound_and_leak_nothing() {
    let k = common::boot_quiet(64 << 20, 2);
    mm::mmap::init_caches(&k.mem).unwrap();
    // mlock populates: the zero page and the anon_vma cache come first.
    mm::fault::init(&k.mem.cpu(0).unwrap()).unwrap();
    let before = common::settle(&k.mem);
    {
        let cpu = k.mem.cpu(0).unwrap();
        let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
        let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
        for seed in 0..8u64 {
            let mut r = Lcg(seed * 7919 + 1);
            let mut mm = MmStruct::new(&cpu).unwrap();
            for _ in 0..400 {
                let a = BASE + r.next(64) * P;
                let l = (1 + r.next(8)) * P;
                let prot = [RW, PROT_READ, PROT_NONE][r.next(3)];
                let _ = match r.next(10) {
                    0 => mm.do_mmap(&cpu, a, l, prot, ANON | MAP_FIXED).map(|_| ()),
                    1 => mm.do_munmap(&cpu, a, l),
                    2 => mm.mprotect(&cpu, a, l, prot),
                    3 => {
                        let flags = [0, MAYMOVE, FIXED, MAYMOVE | MREMAP_DONTUNMAP][r.next(4)];
                        let to = BASE + r.next(64) * P;
                        let nl = if flags & MREMAP_DONTUNMAP != 0 {
                            l
                        } else {
                            (1 + r.next(8)) * P
                        };
                        mm.mremap(&cpu, a, l, nl, flags, to).map(|_| ())
                    }
                    4 => {
                        let adv =
                            [MADV_DONTNEED, MADV_RANDOM, MADV_NORMAL, MADV_DONTFORK][r.next(4)];
                        mm.madvise(&cpu, a, l, adv)
                    }
                    5 => mm.mlock(&cpu, a, l),
                    6 => mm.munlock(&cpu, a, l),
                    7 => mm.msync(&cpu, a, l, MS_SYNC),
                    _ => {
                        // Map the frame (raw, unaccounted) where an area is.
                        let inside = mm.find_vma(a).is_some_and(|v| v.vm_start <= a);
                        let mut pg = mm.page_table_lock.lock();
                        let pt = pg.pt.as_mut().unwrap();
                        if inside && pt.lookup(a).is_none() {
                            let _ = pt.map_page(&cpu, a, pfn, PgProt::PAGE_READ);
                        }
                        Ok(())
                    }
                };
                check(&mut mm);
                // Entries exist only inside areas.
                let vmas: Vec<(usize, usize)> = mm.vmas().map(|v| (v.vm_start, v.vm_end)).collect();
                let pg = mm.page_table_lock.lock();
                let pt = pg.pt.as_ref().unwrap();
                for i in 0..96 {
                    let va = BASE + i * P;
                    if pt.lookup(va).is_some() {
                        assert!(
                            vmas.iter().any(|&(s, e)| s <= va && va < e),
                            "entry at {va:#x} outside every area"
                        );
                    }
                }
            }
            mm.free(&cpu);
        }
        cpu.__free_pages(page, 0).unwrap();
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn mremap_dontunmap_moves_the_ptes_and_keeps_the_old_area() {
    let k = common::boot_quiet(64 << 20, 2);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    let page = cpu.alloc_pages(mm::Gfp::GFP_KERNEL, 0).unwrap();
    let pfn = k.mem.page_to_pfn(page).unwrap() as u64;
    mm.page_table_lock
        .lock()
        .pt
        .as_mut()
        .unwrap()
        .map_page(&cpu, BASE + P, pfn, PgProt::PAGE_READ)
        .unwrap();
    // Locking populates the other pages (the raw frame stays).
    mm.mlock(&cpu, BASE, 4 * P).unwrap();
    let dontunmap = MAYMOVE | MREMAP_DONTUNMAP;
    let new = mm.mremap(&cpu, BASE, 4 * P, 4 * P, dontunmap, 0).unwrap();
    assert_ne!(new, BASE);
    {
        let pg = mm.page_table_lock.lock();
        let pt = pg.pt.as_ref().unwrap();
        assert_eq!(pt.lookup(new + P).unwrap().pfn(), pfn);
        assert!(pt.lookup(BASE + P).is_none());
    }
    let old = mm.find_vma(BASE).unwrap().clone();
    assert_eq!((old.vm_start, old.vm_end), (BASE, BASE + 4 * P));
    assert!(
        !old.vm_flags.contains(VmFlags::VM_LOCKED),
        "the old area is unlocked"
    );
    assert!(mm
        .find_vma(new)
        .unwrap()
        .vm_flags
        .contains(VmFlags::VM_LOCKED));
    assert_eq!(mm.state().locked_vm, 4);
    assert_eq!(mm.state().total_vm, 8);
    check(&mut mm);
    // With MREMAP_FIXED, over an existing mapping.
    let to = BASE + 64 * P;
    mm.do_mmap(&cpu, to, 8 * P, PROT_READ, ANON | MAP_FIXED)
        .unwrap();
    assert_eq!(
        mm.mremap(&cpu, new, 2 * P, 2 * P, dontunmap | MREMAP_FIXED, to + P),
        Ok(to + P)
    );
    assert_eq!(
        mm.page_table_lock
            .lock()
            .pt
            .as_ref()
            .unwrap()
            .lookup(to + 2 * P)
            .unwrap()
            .pfn(),
        pfn
    );
    check(&mut mm);
    mm.do_munmap(&cpu, to, 8 * P).unwrap();
    cpu.__free_pages(page, 0).unwrap();
    mm.free(&cpu);
}
