//! fork and copy-on-write: `dup_mm` through parent, child and grandchild,
//! exact refcounts and mapcounts, reuse of a page left with one mapping,
//! shared mappings, the reverse map's `try_to_unmap` over a fork chain,
//! and leak checks after teardown.

mod common;

use mm::fault::{self, Access};
use mm::fork::dup_mm;
use mm::mmap::*;
use mm::rmap::try_to_unmap;
use mm::uaccess::{user_access, user_load, user_store};
use mm::vmstat::NodeStatItem;
use mm::{Mem, Page, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;

fn page_at<'a>(mem: &'a Mem, mm: &MmStruct<'_>, va: usize) -> &'a Page {
    mem.pfn_to_page(common::pte(mm, va).unwrap().pfn() as usize)
        .unwrap()
}

fn read_u64(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, va: usize) -> u64 {
    let mut b = [0u8; 8];
    user_load(cpu, mm, va, &mut b).unwrap();
    u64::from_le_bytes(b)
}

fn write_u64(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, va: usize, v: u64) {
    user_store(cpu, mm, va, &v.to_le_bytes()).unwrap();
}

fn counts(p: &Page) -> (i32, i32) {
    (p.refcount(), p.mapcount())
}

#[test]
fn fork_chain_values_are_independent_and_counts_exact() {
    let (k, before) = common::boot_vm();
    let free0 = common::total_free(&k.mem);
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        write_u64(&cpu, &parent, BASE, 1);
        write_u64(&cpu, &parent, BASE + P, 10);
        user_access(&cpu, &parent, BASE + 2 * P, 8, Access::Read).unwrap(); // zero page
        let pg0 = page_at(&k.mem, &parent, BASE);
        let pfn0 = common::pte(&parent, BASE).unwrap().pfn();
        assert_eq!(counts(pg0), (1, 1));
        parent.take_tlb_flush();

        let child = dup_mm(&cpu, &parent).unwrap();
        // Both write protected, one page, two mappings.
        for m in [&parent, &child] {
            let e = common::pte(m, BASE).unwrap();
            assert!(!e.is_write() && e.pfn() == pfn0);
        }
        assert!(!common::pte(&child, BASE).unwrap().is_young());
        assert!(parent.take_tlb_flush().covers(BASE));
        assert_eq!(counts(pg0), (2, 2));
        assert_eq!(child.get_mm_counter(RssCounter::AnonPages), 2);
        assert_eq!(
            common::pte(&child, BASE + 2 * P).unwrap().pfn() as usize,
            fault::zero_pfn(&k.mem).unwrap()
        );
        assert!(common::pte(&child, BASE + 3 * P).is_none());
        assert_eq!(read_u64(&cpu, &child, BASE), 1);

        // Child writes: it gets a copy; the parent keeps the original.
        write_u64(&cpu, &child, BASE, 2);
        let cpfn = common::pte(&child, BASE).unwrap().pfn();
        assert_ne!(cpfn, pfn0);
        assert_eq!(counts(pg0), (1, 1));
        assert_eq!(counts(page_at(&k.mem, &child, BASE)), (1, 1));
        assert_eq!(read_u64(&cpu, &parent, BASE), 1);

        // Grandchild.
        let grand = dup_mm(&cpu, &child).unwrap();
        assert_eq!(counts(page_at(&k.mem, &child, BASE)), (2, 2));
        assert_eq!(counts(page_at(&k.mem, &parent, BASE + P)), (3, 3));
        write_u64(&cpu, &grand, BASE, 3);
        write_u64(&cpu, &grand, BASE + 2 * P, 33); // zero page -> fresh page
        assert_eq!(counts(page_at(&k.mem, &child, BASE)), (1, 1));
        assert_eq!(read_u64(&cpu, &parent, BASE), 1);
        assert_eq!(read_u64(&cpu, &child, BASE), 2);
        assert_eq!(read_u64(&cpu, &grand, BASE), 3);
        assert_eq!(read_u64(&cpu, &parent, BASE + 2 * P), 0);
        assert_eq!(read_u64(&cpu, &child, BASE + 2 * P), 0);
        assert_eq!(read_u64(&cpu, &grand, BASE + 2 * P), 33);
        for m in [&parent, &child, &grand] {
            assert_eq!(read_u64(&cpu, m, BASE + P), 10);
        }

        // The parent's page now has one mapping: written in place.
        write_u64(&cpu, &parent, BASE, 4);
        assert_eq!(common::pte(&parent, BASE).unwrap().pfn(), pfn0);
        assert!(common::pte(&parent, BASE).unwrap().is_write());
        assert_eq!(read_u64(&cpu, &child, BASE), 2);
        assert_eq!(read_u64(&cpu, &grand, BASE), 3);

        let anon = k.mem.vmstat.get(NodeStatItem::NrAnonMapped);
        // pages: parent 2 (BASE, BASE+P shared), child BASE, grand BASE and BASE+2P.
        assert_eq!(anon, 5);
        child.free(&cpu);
        assert_eq!(counts(page_at(&k.mem, &parent, BASE + P)), (2, 2));
        parent.free(&cpu);
        assert_eq!(counts(page_at(&k.mem, &grand, BASE + P)), (1, 1));
        assert_eq!(read_u64(&cpu, &grand, BASE + P), 10);
        grand.free(&cpu);
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrAnonMapped), 0);
    }
    assert!(common::total_free(&k.mem) <= free0);
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn a_page_left_to_one_process_is_reused_not_copied() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        write_u64(&cpu, &parent, BASE, 7);
        let pfn0 = common::pte(&parent, BASE).unwrap().pfn();
        let a = dup_mm(&cpu, &parent).unwrap();
        let b = dup_mm(&cpu, &parent).unwrap();
        assert_eq!(counts(page_at(&k.mem, &parent, BASE)), (3, 3));
        a.free(&cpu);
        parent.free(&cpu);
        // Only b maps it now: its write reuses the page.
        let pg = page_at(&k.mem, &b, BASE);
        assert_eq!(counts(pg), (1, 1));
        assert!(!common::pte(&b, BASE).unwrap().is_write());
        write_u64(&cpu, &b, BASE, 8);
        assert_eq!(common::pte(&b, BASE).unwrap().pfn(), pfn0);
        assert_eq!(counts(pg), (1, 1));
        assert_eq!(read_u64(&cpu, &b, BASE), 8);
        // A kernel reference (refcount 2) forces a copy even with one mapping.
        let c = dup_mm(&cpu, &b).unwrap();
        c.free(&cpu);
        pg.get_page();
        write_u64(&cpu, &b, BASE, 9);
        assert_ne!(common::pte(&b, BASE).unwrap().pfn(), pfn0);
        assert_eq!(counts(pg), (1, 0));
        cpu.put_page(pg).unwrap();
        b.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn shared_mappings_stay_shared_across_fork() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(
                &cpu,
                BASE,
                2 * P,
                RW,
                MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
            )
            .unwrap();
        write_u64(&cpu, &parent, BASE, 5);
        let child = dup_mm(&cpu, &parent).unwrap();
        // No PTE of a shared area is copied (`vma_needs_copy`): the
        // child's fault finds the page in the shmem object.
        assert!(common::pte(&child, BASE).is_none());
        assert!(common::pte(&parent, BASE).unwrap().is_write());
        // The shmem object's page cache holds a reference too.
        assert_eq!(counts(page_at(&k.mem, &parent, BASE)), (2, 1));
        assert_eq!(child.get_mm_counter(RssCounter::ShmemPages), 0);
        assert_eq!(read_u64(&cpu, &child, BASE), 5);
        assert_eq!(counts(page_at(&k.mem, &parent, BASE)), (3, 2));
        assert_eq!(child.get_mm_counter(RssCounter::ShmemPages), 1);
        write_u64(&cpu, &child, BASE, 6);
        assert!(common::pte(&child, BASE).unwrap().is_write());
        assert_eq!(read_u64(&cpu, &parent, BASE), 6);
        assert_eq!(
            common::pte(&child, BASE).unwrap().pfn(),
            common::pte(&parent, BASE).unwrap().pfn()
        );
        parent.free(&cpu);
        assert_eq!(read_u64(&cpu, &child, BASE), 6);
        child.free(&cpu);
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 0);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn fork_copies_layout_and_vmas() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mut parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, BASE, 3 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        parent
            .do_mmap(&cpu, BASE + 8 * P, P, PROT_READ, ANON | MAP_FIXED)
            .unwrap();
        parent
            .do_mmap(
                &cpu,
                BASE + 16 * P,
                2 * P,
                RW,
                ANON | MAP_FIXED | MAP_LOCKED,
            )
            .unwrap();
        let mut child = dup_mm(&cpu, &parent).unwrap();
        let pv: Vec<_> = parent
            .vmas()
            .map(|v| (v.vm_start, v.vm_end, v.perms()))
            .collect();
        let cv: Vec<_> = child
            .vmas()
            .map(|v| (v.vm_start, v.vm_end, v.perms()))
            .collect();
        assert_eq!(pv, cv);
        let (ps, cs) = (parent.state().total_vm, child.state().total_vm);
        assert_eq!(ps, cs);
        // mlock is not inherited.
        assert_eq!(child.state().locked_vm, 0);
        child.free(&cpu);
        parent.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn try_to_unmap_removes_a_page_from_a_whole_fork_chain() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        write_u64(&cpu, &parent, BASE + P, 11);
        write_u64(&cpu, &parent, BASE, 12);
        let child = dup_mm(&cpu, &parent).unwrap();
        let grand = dup_mm(&cpu, &child).unwrap();
        let pg = page_at(&k.mem, &parent, BASE + P);
        assert_eq!(counts(pg), (3, 3));
        assert!(mm::rmap::page_anon(pg));
        assert_eq!(pg.index() as usize, (BASE + P) / P);
        assert_eq!(mm::rmap::page_mms(pg).len(), 3);
        for m in [&parent, &child, &grand] {
            m.take_tlb_flush();
        }
        // The caller's own reference keeps the page alive.
        pg.get_page();
        assert_eq!(try_to_unmap(&cpu, pg), 3);
        assert_eq!(counts(pg), (1, 0));
        assert_eq!(pg.mapping(), 0);
        for m in [&parent, &child, &grand] {
            assert!(common::pte(m, BASE + P).is_none());
            assert!(m.take_tlb_flush().covers(BASE + P));
            assert_eq!(m.get_mm_counter(RssCounter::AnonPages), 1);
            // The next access faults afresh (zero page for a read).
            assert_eq!(read_u64(&cpu, m, BASE + P), 0);
            assert_eq!(read_u64(&cpu, m, BASE), 12);
        }
        cpu.put_page(pg).unwrap();

        // After the child broke CoW, only the other two map the original.
        write_u64(&cpu, &child, BASE, 13);
        let orig = page_at(&k.mem, &parent, BASE);
        assert_eq!(counts(orig), (2, 2));
        orig.get_page();
        assert_eq!(try_to_unmap(&cpu, orig), 2);
        assert!(common::pte(&parent, BASE).is_none() && common::pte(&grand, BASE).is_none());
        assert_eq!(read_u64(&cpu, &child, BASE), 13);
        cpu.put_page(orig).unwrap();
        // Not anonymous: nothing to do.
        assert_eq!(
            try_to_unmap(
                &cpu,
                k.mem.pfn_to_page(fault::zero_pfn(&k.mem).unwrap()).unwrap()
            ),
            0
        );
        grand.free(&cpu);
        parent.free(&cpu);
        child.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn teardown_in_any_order_returns_every_page() {
    let (k, before) = common::boot_vm();
    let free0 = common::total_free(&k.mem);
    for order in 0..6usize {
        {
            let cpu = k.mem.cpu(0).unwrap();
            let p = MmStruct::new(&cpu).unwrap();
            let a = p.do_mmap(&cpu, 0, 64 * P, RW, ANON).unwrap();
            for i in 0..64 {
                write_u64(&cpu, &p, a + i * P, i as u64);
            }
            let c = dup_mm(&cpu, &p).unwrap();
            for i in (0..64).step_by(2) {
                write_u64(&cpu, &c, a + i * P, 100 + i as u64);
            }
            let g = dup_mm(&cpu, &c).unwrap();
            for i in (0..64).step_by(3) {
                write_u64(&cpu, &g, a + i * P, 200 + i as u64);
            }
            for i in 0..64 {
                assert_eq!(read_u64(&cpu, &p, a + i * P), i as u64);
            }
            let mut v = [Some(p), Some(c), Some(g)];
            let perm = [
                [0, 1, 2],
                [0, 2, 1],
                [1, 0, 2],
                [1, 2, 0],
                [2, 0, 1],
                [2, 1, 0],
            ][order];
            for j in perm {
                v[j].take().unwrap().free(&cpu);
            }
        }
        assert_eq!(common::settle(&k.mem), before);
        assert_eq!(common::total_free(&k.mem), free0);
    }
}

#[test]
fn dontfork_areas_are_skipped_and_wipeonfork_areas_copied_empty() {
    use mm::mmap::madvise::{MADV_DONTFORK, MADV_WIPEONFORK};
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mut parent = MmStruct::new(&cpu).unwrap();
        parent.do_mmap(&cpu, BASE, P, RW, ANON | MAP_FIXED).unwrap();
        parent
            .do_mmap(&cpu, BASE + 4 * P, P, RW, ANON | MAP_FIXED)
            .unwrap();
        write_u64(&cpu, &parent, BASE, 1);
        write_u64(&cpu, &parent, BASE + 4 * P, 2);
        parent.madvise(&cpu, BASE, P, MADV_DONTFORK).unwrap();
        parent
            .madvise(&cpu, BASE + 4 * P, P, MADV_WIPEONFORK)
            .unwrap();
        let mut child = dup_mm(&cpu, &parent).unwrap();
        assert!(child.find_vma_intersection(BASE, BASE + P).is_none());
        assert_eq!(child.state().map_count, 1);
        assert_eq!(parent.state().total_vm, 2);
        assert_eq!(child.state().total_vm, 1);
        assert!(common::pte(&child, BASE + 4 * P).is_none());
        assert_eq!(read_u64(&cpu, &child, BASE + 4 * P), 0);
        assert_eq!(counts(page_at(&k.mem, &parent, BASE)), (1, 1));
        assert_eq!(counts(page_at(&k.mem, &parent, BASE + 4 * P)), (1, 1));
        // The parent's pages were not write protected.
        assert!(common::pte(&parent, BASE).unwrap().is_write());
        child.free(&cpu);
        parent.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn try_to_unmap_finds_pages_moved_by_mremap() {
    use mm::mmap::mremap::{MREMAP_FIXED, MREMAP_MAYMOVE};
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        for i in 0..4 {
            write_u64(&cpu, &parent, BASE + i * P, 100 + i as u64);
        }
        // Moved before the fork: the area keeps its vm_pgoff, the pages
        // their index.
        let new = BASE + 0x100_0000;
        let fixed = MREMAP_MAYMOVE | MREMAP_FIXED;
        assert_eq!(parent.mremap(&cpu, BASE, 4 * P, 4 * P, fixed, new), Ok(new));
        let v = parent.mmap_lock.read().find_vma(new).unwrap().clone();
        assert_eq!(v.vm_pgoff, BASE / P);
        // A page first touched after the move gets the area's linear index.
        assert_eq!(parent.mremap(&cpu, new, 4 * P, 6 * P, 0, 0), Ok(new));
        write_u64(&cpu, &parent, new + 5 * P, 7);
        let late = page_at(&k.mem, &parent, new + 5 * P);
        assert_eq!(late.index() as usize, BASE / P + 5);

        let child = dup_mm(&cpu, &parent).unwrap();
        let pg = page_at(&k.mem, &parent, new + P);
        assert_eq!(pg.index() as usize, BASE / P + 1);
        assert_eq!(counts(pg), (2, 2));
        // Moved again in the child only: the page now sits at different
        // addresses in parent and child.
        let cnew = BASE + 0x200_0000;
        assert_eq!(child.mremap(&cpu, new, 6 * P, 6 * P, fixed, cnew), Ok(cnew));
        assert_eq!(page_at(&k.mem, &child, cnew + P).index(), pg.index());
        for m in [&parent, &child] {
            m.take_tlb_flush();
        }
        pg.get_page();
        assert_eq!(try_to_unmap(&cpu, pg), 2);
        assert_eq!(counts(pg), (1, 0));
        assert!(common::pte(&parent, new + P).is_none());
        assert!(common::pte(&child, cnew + P).is_none());
        assert!(parent.take_tlb_flush().covers(new + P));
        assert!(child.take_tlb_flush().covers(cnew + P));
        cpu.put_page(pg).unwrap();
        late.get_page();
        assert_eq!(try_to_unmap(&cpu, late), 2);
        cpu.put_page(late).unwrap();
        // The other pages are untouched; the unmapped ones read as zero.
        for (m, at) in [(&parent, new), (&child, cnew)] {
            assert_eq!(read_u64(&cpu, m, at), 100);
            assert_eq!(read_u64(&cpu, m, at + 2 * P), 102);
            assert_eq!(read_u64(&cpu, m, at + P), 0);
            assert_eq!(read_u64(&cpu, m, at + 5 * P), 0);
            assert_eq!(m.get_mm_counter(RssCounter::AnonPages), 3);
        }
        // A moved area does not merge with a neighbour whose offsets do
        // not follow on (Linux's pgoff rule for anonymous areas).
        parent
            .do_mmap(&cpu, new + 6 * P, P, RW, ANON | MAP_FIXED)
            .unwrap();
        assert_eq!(
            parent.mmap_lock.read().find_vma(new).unwrap().vm_end,
            new + 6 * P
        );
        child.free(&cpu);
        parent.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}
