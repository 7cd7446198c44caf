//! MAP_POPULATE and locked memory (mm/gup.c `populate_vma_page_range`,
//! `mm_populate`; mm/mlock.c): a populated mapping is resident right after
//! mmap (written in advance when private and writable, read when shared
//! or read-only), an OOM while populating leaves the mapping in place,
//! mlock and mlockall(MCL_CURRENT) populate, and mlockall(MCL_FUTURE)
//! locks (and populates) every later mapping through `def_flags`, with
//! MCL_ONFAULT locking without populating and munlockall clearing it.

mod common;

use mm::fault::{self, Access};
use mm::fork::dup_mm;
use mm::mmap::mlock::*;
use mm::mmap::mremap::MREMAP_MAYMOVE;
use mm::mmap::*;
use mm::proc::pid::{smaps_rows, status_mem};
use mm::uaccess::{user_access, user_load};
use mm::PAGE_SIZE;

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const SHARED: usize = MAP_SHARED | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;

fn present(mm: &MmStruct<'_>, va: usize) -> bool {
    common::pte(mm, va).is_some_and(|e| e.is_present())
}

#[test]
fn map_populate_makes_every_page_resident() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        let a = mm
            .do_mmap(&cpu, 0, 16 * P, RW, ANON | MAP_POPULATE)
            .unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 16);
        let rows = smaps_rows(&mm);
        let r = rows.iter().find(|r| r.maps.start == a as u64).unwrap();
        assert_eq!(r.rss_kb, 64);
        assert_eq!(r.anonymous_kb, 64);
        assert_eq!(status_mem(&mm).vm_rss, 64);
        // A private writable mapping is write-faulted: CoW broken in
        // advance, so every PTE is writable and dirty (no zero page).
        for i in 0..16 {
            let e = common::pte(&mm, a + i * P).unwrap();
            assert!(e.is_present() && e.is_write() && e.is_dirty(), "page {i}");
        }
        // Read-only private: read faults map the zero page (not counted).
        let ro = mm
            .do_mmap(&cpu, 0, 4 * P, PROT_READ, ANON | MAP_POPULATE)
            .unwrap();
        let zpfn = fault::zero_pfn(&k.mem).unwrap() as u64;
        for i in 0..4 {
            assert_eq!(common::pte(&mm, ro + i * P).unwrap().pfn(), zpfn);
        }
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 16);
        // Shared: read faults, real pages, not dirtied.
        let sh = mm
            .do_mmap(&cpu, 0, 3 * P, RW, SHARED | MAP_POPULATE)
            .unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::ShmemPages), 3);
        for i in 0..3 {
            let e = common::pte(&mm, sh + i * P).unwrap();
            assert!(!e.is_dirty(), "a shared page populated dirty");
        }
        // MAP_NONBLOCK turns MAP_POPULATE off; without it nothing is
        // resident either.
        let nb = mm
            .do_mmap(&cpu, 0, 2 * P, RW, ANON | MAP_POPULATE | MAP_NONBLOCK)
            .unwrap();
        let plain = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
        for va in [nb, nb + P, plain, plain + P] {
            assert!(!present(&mm, va));
        }
        // PROT_NONE is not populated, and is no error.
        let none = mm
            .do_mmap(&cpu, 0, 2 * P, PROT_NONE, ANON | MAP_POPULATE)
            .unwrap();
        assert!(!present(&mm, none));
        // Only the new range of a merged area is populated.
        mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
        mm.do_mmap(
            &cpu,
            BASE + 2 * P,
            2 * P,
            RW,
            ANON | MAP_FIXED | MAP_POPULATE,
        )
        .unwrap();
        assert!(!present(&mm, BASE) && !present(&mm, BASE + P));
        assert!(present(&mm, BASE + 2 * P) && present(&mm, BASE + 3 * P));
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn an_oom_while_populating_leaves_the_mapping() {
    // 8 MiB of RAM: a 32 MiB populated mapping cannot be resident.
    let k = common::boot_quiet(8 << 20, 1);
    {
        let cpu = k.mem.cpu(0).unwrap();
        mm::mmap::init_caches(&k.mem).unwrap();
        fault::init(&cpu).unwrap();
    }
    let before = common::settle(&k.mem);
    let cpu = k.mem.cpu(0).unwrap();
    let mut mm = MmStruct::new(&cpu).unwrap();
    let len = 32 << 20;
    let a = mm.do_mmap(&cpu, 0, len, RW, ANON | MAP_POPULATE).unwrap();
    let v = mm.find_vma(a).unwrap().clone();
    assert_eq!((v.vm_start, v.vm_end), (a, a + len));
    let rss = mm.get_mm_counter(RssCounter::AnonPages);
    assert!(rss > 0 && rss < len / P, "rss {rss}");
    assert!(present(&mm, a));
    assert!(!present(&mm, a + len - P));
    // mlock reports the failure (EAGAIN) but keeps the lock, as Linux.
    assert_eq!(mm.mlock(&cpu, a, len), Err(mm::mmap::errno::EAGAIN));
    assert_eq!(mm.state().locked_vm, len / P);
    mm.free(&cpu);
    drop(cpu);
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn mlock_and_mlockall_current_populate() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mut mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 8 * P, RW, ANON | MAP_FIXED).unwrap();
        mm.mlock(&cpu, BASE + 2 * P, 3 * P).unwrap();
        for i in 0..8 {
            assert_eq!(present(&mm, BASE + i * P), (2..5).contains(&i), "page {i}");
        }
        assert_eq!(status_mem(&mm).vm_lck, 12);
        let rows = smaps_rows(&mm);
        let locked: u64 = rows.iter().map(|r| r.locked_kb).sum();
        assert_eq!(locked, 12);
        // MAP_LOCKED populates too.
        let l = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON | MAP_LOCKED).unwrap();
        assert!(present(&mm, l) && present(&mm, l + P));
        // MCL_ONFAULT locks without populating.
        let b = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
        mm.mlockall(&cpu, MCL_CURRENT | MCL_ONFAULT).unwrap();
        assert!(!present(&mm, b));
        assert_eq!(mm.state().locked_vm, 12);
        mm.mlockall(&cpu, MCL_CURRENT).unwrap();
        for i in 0..8 {
            assert!(present(&mm, BASE + i * P));
        }
        assert!(present(&mm, b) && present(&mm, b + P));
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 12);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn mlockall_future_locks_later_mappings() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mut mm = MmStruct::new(&cpu).unwrap();
        mm.state().start_brk = BASE;
        mm.state().brk = BASE;
        let old = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
        mm.mlockall(&cpu, MCL_FUTURE).unwrap();
        assert!(mm.state().def_flags.contains(VmFlags::VM_LOCKED));
        // MCL_FUTURE alone leaves the current areas alone.
        assert!(!mm
            .find_vma(old)
            .unwrap()
            .vm_flags
            .contains(VmFlags::VM_LOCKED));
        assert_eq!(mm.state().locked_vm, 0);
        // A new mapping is locked and populated.
        let a = mm.do_mmap(&cpu, 0, 3 * P, RW, ANON).unwrap();
        assert!(mm
            .find_vma(a)
            .unwrap()
            .vm_flags
            .contains(VmFlags::VM_LOCKED));
        assert!((0..3).all(|i| present(&mm, a + i * P)));
        assert_eq!(mm.state().locked_vm, 3);
        // brk growth too.
        assert_eq!(mm.brk(&cpu, BASE + 2 * P), BASE + 2 * P);
        assert!(mm
            .find_vma(BASE)
            .unwrap()
            .vm_flags
            .contains(VmFlags::VM_LOCKED));
        assert!(present(&mm, BASE) && present(&mm, BASE + P));
        assert_eq!(mm.state().locked_vm, 5);
        assert_eq!(status_mem(&mm).vm_lck, 20);
        // Shrinking the heap gives the locked pages back.
        assert_eq!(mm.brk(&cpu, BASE + P), BASE + P);
        assert_eq!(mm.state().locked_vm, 4);
        // A locked area grown by mremap is populated.
        let g = mm.mremap(&cpu, a, 3 * P, 5 * P, MREMAP_MAYMOVE, 0).unwrap();
        assert!((0..5).all(|i| present(&mm, g + i * P)));
        assert_eq!(mm.state().locked_vm, 6);
        // The child of a fork does not inherit def_flags' lock (nor the
        // areas' locks).
        let mut child = dup_mm(&cpu, &mm).unwrap();
        assert!(child.state().def_flags.is_empty());
        assert_eq!(child.state().locked_vm, 0);
        child.free(&cpu);
        // MCL_ONFAULT: locked, not populated.
        mm.mlockall(&cpu, MCL_FUTURE | MCL_ONFAULT).unwrap();
        let o = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
        let f = mm.find_vma(o).unwrap().vm_flags;
        assert!(f.contains(VmFlags::VM_LOCKED | VmFlags::VM_LOCKONFAULT));
        assert!(!present(&mm, o));
        assert_eq!(mm.state().locked_vm, 8);
        // ... until touched.
        user_access(&cpu, &mm, o, 1, Access::Write).unwrap();
        assert!(present(&mm, o));
        // munlockall clears def_flags and every lock.
        mm.munlockall(&cpu).unwrap();
        assert!(mm.state().def_flags.is_empty());
        assert_eq!(mm.state().locked_vm, 0);
        let n = mm.do_mmap(&cpu, 0, 2 * P, RW, ANON).unwrap();
        assert!(!present(&mm, n));
        assert!(!mm.find_vma(n).unwrap().vm_flags.intersects(VM_LOCKED_MASK));
        let mut b = [0u8; 1];
        user_load(&cpu, &mm, n, &mut b).unwrap();
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn map_populate_of_a_file_reads_shared_and_copies_private_writable() {
    use mm::filemap::{AddressSpace, File, MemFile, FMODE_READ, FMODE_WRITE};
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = AddressSpace::new(&k.mem, Box::new(MemFile::new(vec![7u8; 3 * P]))).unwrap();
        let f = File::open(&a, FMODE_READ | FMODE_WRITE);
        let mm = MmStruct::new(&cpu).unwrap();
        let s = mm
            .do_mmap_file(&cpu, 0, 3 * P, RW, MAP_SHARED | MAP_POPULATE, Some(&f), 0)
            .unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::FilePages), 3);
        // Read faults: write-notify keeps the pages clean and read-only.
        for i in 0..3 {
            let e = common::pte(&mm, s + i * P).unwrap();
            assert!(e.is_present() && !e.is_write());
        }
        assert_eq!(a.writeback(&cpu).unwrap(), 0);
        // Private and writable: copies made in advance.
        let p = mm
            .do_mmap_file(&cpu, 0, 3 * P, RW, MAP_PRIVATE | MAP_POPULATE, Some(&f), 0)
            .unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 3);
        assert_eq!(mm.get_mm_counter(RssCounter::FilePages), 3);
        let mut b = [0u8; 1];
        user_load(&cpu, &mm, p + 2 * P, &mut b).unwrap();
        assert_eq!(b[0], 7);
        // A mapping longer than the file populates up to its end only.
        let l = mm
            .do_mmap_file(
                &cpu,
                0,
                5 * P,
                PROT_READ,
                MAP_PRIVATE | MAP_POPULATE,
                Some(&f),
                0,
            )
            .unwrap();
        assert!(present(&mm, l + 2 * P) && !present(&mm, l + 3 * P));
        mm.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}
