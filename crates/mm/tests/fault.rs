//! Page faults on anonymous memory: every path of `handle_mm_fault`
//! (SEGV_MAPERR, SEGV_ACCERR, the zero page, fresh pages, stack growth and
//! its guard gap, A/D bits), with counters and leak checks.

mod common;

use mm::fault::{self, handle_mm_fault, Access, FaultError};
use mm::mmap::*;
use mm::uaccess::{user_access, user_load, user_store};
use mm::vmstat::NodeStatItem;
use mm::{Mem, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;

fn anon_mapped(mem: &Mem) -> usize {
    mem.vmstat.get(NodeStatItem::NrAnonMapped)
}

#[test]
fn no_vma_is_segv_maperr() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        let e = handle_mm_fault(&cpu, &mm, BASE, Access::Read).unwrap_err();
        assert_eq!((e, e.signo(), e.si_code()), (FaultError::MapErr, 11, 1));
        mm.do_mmap(&cpu, BASE, 2 * P, RW, ANON | MAP_FIXED).unwrap();
        // Just past the end, below, and in the kernel half.
        for a in [BASE + 2 * P, BASE - 1, 1 << 47, usize::MAX] {
            assert_eq!(
                handle_mm_fault(&cpu, &mm, a, Access::Write),
                Err(FaultError::MapErr),
                "{a:#x}"
            );
        }
        assert_eq!(
            user_access(&cpu, &mm, BASE + P, 2 * P, Access::Read),
            Err(FaultError::MapErr)
        );
        assert_eq!(mm.get_mm_rss(), 0);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn forbidden_access_is_segv_accerr() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, P, PROT_READ, ANON | MAP_FIXED)
            .unwrap();
        mm.do_mmap(&cpu, BASE + P, P, RW, ANON | MAP_FIXED).unwrap();
        mm.do_mmap(&cpu, BASE + 2 * P, P, PROT_NONE, ANON | MAP_FIXED)
            .unwrap();
        mm.do_mmap(&cpu, BASE + 3 * P, P, PROT_WRITE, ANON | MAP_FIXED)
            .unwrap();
        mm.do_mmap(&cpu, BASE + 4 * P, P, PROT_EXEC, ANON | MAP_FIXED)
            .unwrap();
        let acc = Err(FaultError::AccErr);
        assert_eq!(handle_mm_fault(&cpu, &mm, BASE, Access::Write), acc);
        assert_eq!(handle_mm_fault(&cpu, &mm, BASE, Access::Exec), acc);
        assert_eq!(handle_mm_fault(&cpu, &mm, BASE + P, Access::Exec), acc);
        for a in [Access::Read, Access::Write, Access::Exec] {
            assert_eq!(handle_mm_fault(&cpu, &mm, BASE + 2 * P, a), acc);
        }
        assert_eq!(FaultError::AccErr.si_code(), 2);
        // Nothing was mapped by the refused faults.
        assert!(common::pte(&mm, BASE).is_none() && common::pte(&mm, BASE + 2 * P).is_none());
        // Read after a refused write is fine: the zero page.
        assert_eq!(handle_mm_fault(&cpu, &mm, BASE, Access::Read), Ok(()));
        // Write-only is readable (riscv's rule); exec-only is fetchable.
        assert_eq!(
            user_access(&cpu, &mm, BASE + 3 * P, 8, Access::Read),
            Ok(())
        );
        assert_eq!(
            user_access(&cpu, &mm, BASE + 4 * P, 4, Access::Exec),
            Ok(())
        );
        assert_eq!(
            user_access(&cpu, &mm, BASE + 4 * P, 4, Access::Write),
            Err(FaultError::AccErr)
        );
        // mprotect takes write permission away from a present page.
        user_store(&cpu, &mm, BASE + P, &[7]).unwrap();
        mm.mprotect(&cpu, BASE + P, P, PROT_READ).unwrap();
        assert_eq!(
            user_access(&cpu, &mm, BASE + P, 1, Access::Write),
            Err(FaultError::AccErr)
        );
        let mut b = [0u8; 1];
        user_load(&cpu, &mm, BASE + P, &mut b).unwrap();
        assert_eq!(b, [7]);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn read_maps_zero_page_then_write_gets_a_fresh_page() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let zpfn = fault::zero_page(&cpu).unwrap();
        let zpage = k.mem.pfn_to_page(zpfn).unwrap();
        assert!(zpage.flags().contains(mm::PageFlags::RESERVED));
        let zref = zpage.refcount();
        let anon0 = anon_mapped(&k.mem);
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
        let mut buf = [0xffu8; 16];
        user_load(&cpu, &mm, BASE + 2 * P + 8, &mut buf).unwrap();
        assert_eq!(buf, [0; 16]);
        let e = common::pte(&mm, BASE + 2 * P).unwrap();
        assert_eq!(e.pfn() as usize, zpfn);
        assert!(e.is_special() && e.is_read() && !e.is_write() && e.is_young() && !e.is_dirty());
        // The zero page is not counted: no RSS, no refcount, no mapcount.
        assert_eq!(mm.get_mm_rss(), 0);
        assert_eq!(anon_mapped(&k.mem), anon0);
        assert_eq!((zpage.refcount(), zpage.mapcount()), (zref, 0));

        user_store(&cpu, &mm, BASE + 2 * P + 100, b"ferrite").unwrap();
        let e = common::pte(&mm, BASE + 2 * P).unwrap();
        assert_ne!(e.pfn() as usize, zpfn);
        assert!(!e.is_special() && e.is_write() && e.is_dirty() && e.is_young());
        let page = k.mem.pfn_to_page(e.pfn() as usize).unwrap();
        assert_eq!((page.refcount(), page.mapcount()), (1, 1));
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 1);
        assert_eq!(anon_mapped(&k.mem), anon0 + 1);
        let mut out = [0u8; 9];
        user_load(&cpu, &mm, BASE + 2 * P + 99, &mut out).unwrap();
        assert_eq!(&out, b"\0ferrite\0");
        // The zero page stayed zero.
        let z = k.mem.page_address(zpage);
        let zb = unsafe { std::slice::from_raw_parts(z.as_ptr(), PAGE_SIZE) };
        assert!(zb.iter().all(|&b| b == 0));

        // A write fault on an empty PTE maps a fresh page at once.
        user_store(&cpu, &mm, BASE, &[1, 2, 3]).unwrap();
        let e = common::pte(&mm, BASE).unwrap();
        assert!(e.is_write() && e.is_dirty() && !e.is_special());
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 2);
        assert_eq!(anon_mapped(&k.mem), anon0 + 2);

        // Unmapping puts the pages; the zero page survives.
        mm.do_munmap(&cpu, BASE, 4 * P).unwrap();
        assert_eq!(mm.get_mm_rss(), 0);
        assert_eq!(anon_mapped(&k.mem), anon0);
        assert_eq!(zpage.refcount(), zref);
        mm.free(&cpu);
        assert_eq!(zpage.refcount(), zref);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn accessed_and_dirty_bits_follow_accesses() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, P, RW | PROT_EXEC, ANON | MAP_FIXED)
            .unwrap();
        mm.do_mmap(
            &cpu,
            BASE + P,
            P,
            RW,
            MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
        )
        .unwrap();
        // A shared read fault maps a real (writable) page, not D yet.
        user_access(&cpu, &mm, BASE + P, 4, Access::Read).unwrap();
        let e = common::pte(&mm, BASE + P).unwrap();
        assert!(!e.is_special() && e.is_write() && e.is_young() && !e.is_dirty());
        assert_eq!(mm.get_mm_counter(RssCounter::ShmemPages), 1);
        // The hardware sets D on the first store, no fault needed.
        user_access(&cpu, &mm, BASE + P, 4, Access::Write).unwrap();
        assert!(common::pte(&mm, BASE + P).unwrap().is_dirty());
        // Fetch from an exec area.
        user_access(&cpu, &mm, BASE, 4, Access::Exec).unwrap();
        let e = common::pte(&mm, BASE).unwrap();
        assert!(e.is_exec() && e.is_young() && !e.is_dirty());
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn stack_grows_down_and_keeps_the_guard_gap() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mut mm = MmStruct::new(&cpu).unwrap();
        let below = BASE;
        let below_end = below + 4 * P;
        let stack = below_end + 300 * P;
        mm.do_mmap(&cpu, below, 4 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        mm.do_mmap(&cpu, stack, 8 * P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN)
            .unwrap();
        let stack_vm0 = mm.state().stack_vm;
        // Into the guard gap: refused, nothing grows.
        assert_eq!(
            user_access(&cpu, &mm, below_end + 255 * P + 8, 8, Access::Write),
            Err(FaultError::MapErr)
        );
        assert_eq!(mm.find_vma(stack).unwrap().vm_start, stack);
        // A little below the stack: it grows down to that page.
        user_store(&cpu, &mm, stack - 10 * P + 16, &[42]).unwrap();
        assert_eq!(mm.find_vma(stack).unwrap().vm_start, stack - 10 * P);
        assert_eq!(mm.state().stack_vm, stack_vm0 + 10);
        // Exactly the gap left: allowed.
        user_access(&cpu, &mm, below_end + 256 * P, 1, Access::Read).unwrap();
        assert_eq!(mm.find_vma(stack).unwrap().vm_start, below_end + 256 * P);
        assert_eq!(mm.state().map_count, 2);
        let mut b = [0u8];
        user_load(&cpu, &mm, stack - 10 * P + 16, &mut b).unwrap();
        assert_eq!(b, [42]);
        // A plain area does not grow.
        assert_eq!(
            handle_mm_fault(&cpu, &mm, below - 1, Access::Read),
            Err(FaultError::MapErr)
        );
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn stack_growth_stops_at_rlimit_and_mmap_min_addr() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        let top = 0x4000_0000;
        mm.do_mmap(&cpu, top - P, P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN)
            .unwrap();
        let lim = fault::RLIMIT_STACK_DEFAULT;
        assert_eq!(
            handle_mm_fault(&cpu, &mm, top - lim - 1, Access::Write),
            Err(FaultError::MapErr)
        );
        handle_mm_fault(&cpu, &mm, top - lim, Access::Write).unwrap();
        mm.do_mmap(&cpu, 2 * P, P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN)
            .unwrap();
        assert_eq!(
            handle_mm_fault(&cpu, &mm, 100, Access::Read),
            Err(FaultError::MapErr)
        );
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn many_faults_leave_nothing_behind() {
    let (k, before) = common::boot_vm();
    let free0 = common::total_free(&k.mem);
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        let a = mm.do_mmap(&cpu, 0, 512 * P, RW, ANON).unwrap();
        for i in 0..512 {
            let acc = if i % 3 == 0 {
                Access::Read
            } else {
                Access::Write
            };
            user_access(&cpu, &mm, a + i * P, 8, acc).unwrap();
        }
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), 341);
        assert!(common::total_free(&k.mem) < free0 - 341);
        mm.do_munmap(&cpu, a + 100 * P, 50 * P).unwrap();
        mm.mprotect(&cpu, a, 10 * P, PROT_NONE).unwrap();
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
    assert_eq!(anon_mapped(&k.mem), 0);
}

#[test]
fn concurrent_faults_on_one_mm_from_several_cpus() {
    let k = common::boot_quiet(64 << 20, 4);
    {
        let cpu = k.mem.cpu(0).unwrap();
        init_caches(&k.mem).unwrap();
        fault::init(&cpu).unwrap();
    }
    let before = common::settle(&k.mem);
    const N: usize = 64;
    {
        let mm = {
            let cpu = k.mem.cpu(0).unwrap();
            let mm = MmStruct::new(&cpu).unwrap();
            mm.do_mmap(&cpu, BASE, N * P, RW, ANON | MAP_FIXED).unwrap();
            mm
        };
        std::thread::scope(|s| {
            for t in 0..4usize {
                let (mem, mm) = (&k.mem, &mm);
                s.spawn(move || {
                    let cpu = mem.cpu(t).unwrap();
                    for round in 0..3 {
                        for i in 0..N {
                            let page = (i * 7 + t * 13 + round) % N;
                            let va = BASE + page * P + t * 8;
                            let mut b = [0u8; 8];
                            user_load(&cpu, mm, va, &mut b).unwrap();
                            user_store(&cpu, mm, va, &((page * 10 + t) as u64).to_le_bytes())
                                .unwrap();
                        }
                    }
                });
            }
        });
        let cpu = k.mem.cpu(0).unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::AnonPages), N);
        assert_eq!(anon_mapped(&k.mem), N);
        for page in 0..N {
            let e = common::pte(&mm, BASE + page * P).unwrap();
            let pg = k.mem.pfn_to_page(e.pfn() as usize).unwrap();
            assert_eq!((pg.refcount(), pg.mapcount()), (1, 1));
            for t in 0..4 {
                let mut b = [0u8; 8];
                user_load(&cpu, &mm, BASE + page * P + t * 8, &mut b).unwrap();
                assert_eq!(u64::from_le_bytes(b), (page * 10 + t) as u64);
            }
        }
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
    assert_eq!(anon_mapped(&k.mem), 0);
}
