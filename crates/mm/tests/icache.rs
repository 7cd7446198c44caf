//! The instruction-cache flag (riscv's `flush_icache_pte`, `PG_arch_1` =
//! `PG_dcache_clean`): the first executable mapping of a page sets the
//! flag and asks the harts for `fence.i` through the mm's TLB flush; a
//! second executable mapping of the same page does not; a page freed and
//! allocated again starts clean of the flag and asks again; mprotect
//! adding PROT_EXEC asks too; fork (same pages) does not.

mod common;

use mm::fault::Access;
use mm::filemap::{AddressSpace, File, MemFile, FMODE_READ};
use mm::fork::dup_mm;
use mm::mmap::*;
use mm::uaccess::{user_access, user_store};
use mm::{Gfp, PageFlags, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RWX: usize = PROT_READ | PROT_WRITE | PROT_EXEC;
const RX: usize = PROT_READ | PROT_EXEC;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;

fn pfn(mm: &MmStruct<'_>, va: usize) -> usize {
    common::pte(mm, va).unwrap().pfn() as usize
}

#[test]
fn first_exec_mapping_of_a_page_asks_for_fence_i() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 2 * P, RWX, ANON | MAP_FIXED)
            .unwrap();
        mm.take_tlb_flush();
        user_store(&cpu, &mm, BASE, &[0x13, 0, 0, 0]).unwrap();
        let pg = k.mem.pfn_to_page(pfn(&mm, BASE)).unwrap();
        assert!(pg.flags().contains(PageFlags::DCACHE_CLEAN));
        assert!(pg.flags().names().contains("arch_1"));
        let t = mm.take_tlb_flush();
        assert!(t.needs_icache_flush());
        // Taking the flush forgets it.
        assert!(!mm.take_tlb_flush().needs_icache_flush());
        // Fetching from the page again needs nothing.
        user_access(&cpu, &mm, BASE, 4, Access::Exec).unwrap();
        assert!(!mm.take_tlb_flush().needs_icache_flush());
        // fork maps the same page in the child: no flush anywhere.
        let child = dup_mm(&cpu, &mm).unwrap();
        assert!(!child.take_tlb_flush().needs_icache_flush());
        assert!(!mm.take_tlb_flush().needs_icache_flush());
        // The child's write copies the page: a new page, a new flush.
        user_store(&cpu, &child, BASE, &[1]).unwrap();
        assert_ne!(pfn(&child, BASE), pfn(&mm, BASE));
        assert!(child.take_tlb_flush().needs_icache_flush());
        child.free(&cpu);
        // A non-executable mapping never asks.
        let rw = mm
            .do_mmap(&cpu, 0, P, PROT_READ | PROT_WRITE, ANON)
            .unwrap();
        user_store(&cpu, &mm, rw, &[1]).unwrap();
        let rwpg = k.mem.pfn_to_page(pfn(&mm, rw)).unwrap();
        assert!(!rwpg.flags().contains(PageFlags::DCACHE_CLEAN));
        assert!(!mm.take_tlb_flush().needs_icache_flush());
        // ... until mprotect makes it executable (once).
        mm.mprotect(&cpu, rw, P, RX).unwrap();
        assert!(rwpg.flags().contains(PageFlags::DCACHE_CLEAN));
        assert!(mm.take_tlb_flush().needs_icache_flush());
        mm.mprotect(&cpu, rw, P, PROT_READ).unwrap();
        mm.mprotect(&cpu, rw, P, RX).unwrap();
        assert!(!mm.take_tlb_flush().needs_icache_flush());
        // Freed: the page loses the flag; allocated again it starts
        // without it, and its next executable mapping asks again.
        let old = pfn(&mm, BASE);
        mm.do_munmap(&cpu, BASE, 2 * P).unwrap();
        let again = k.mem.pfn_to_page(old).unwrap();
        assert!(!again.flags().contains(PageFlags::DCACHE_CLEAN));
        let p = cpu.alloc_page(Gfp::GFP_KERNEL).unwrap();
        assert!(!p.flags().contains(PageFlags::DCACHE_CLEAN));
        cpu.put_page(p).unwrap();
        mm.do_mmap(&cpu, BASE, P, RWX, ANON | MAP_FIXED).unwrap();
        mm.take_tlb_flush();
        user_store(&cpu, &mm, BASE, &[1]).unwrap();
        assert!(mm.take_tlb_flush().needs_icache_flush());
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn a_second_mapping_of_a_file_page_does_not_ask_again() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = AddressSpace::new(&k.mem, Box::new(MemFile::new(vec![0x13; 2 * P]))).unwrap();
        let f = File::open(&a, FMODE_READ);
        let m1 = MmStruct::new(&cpu).unwrap();
        let m2 = MmStruct::new(&cpu).unwrap();
        for m in [&m1, &m2] {
            m.do_mmap_file(&cpu, BASE, 2 * P, RX, MAP_PRIVATE | MAP_FIXED, Some(&f), 0)
                .unwrap();
            m.take_tlb_flush();
        }
        user_access(&cpu, &m1, BASE, 4, Access::Exec).unwrap();
        assert!(m1.take_tlb_flush().needs_icache_flush());
        user_access(&cpu, &m2, BASE, 4, Access::Exec).unwrap();
        assert_eq!(pfn(&m1, BASE), pfn(&m2, BASE));
        assert!(!m2.take_tlb_flush().needs_icache_flush());
        // The other page of the file is new to the instruction caches.
        user_access(&cpu, &m2, BASE + P, 4, Access::Exec).unwrap();
        assert!(m2.take_tlb_flush().needs_icache_flush());
        m1.free(&cpu);
        m2.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}
