//! VmPeak and VmHWM (`hiwater_vm`, `hiwater_rss`): the peaks of the
//! virtual size and of the resident set survive munmap, MADV_DONTNEED,
//! mremap shrinking and try_to_unmap, and grow with new peaks.

mod common;

use mm::fork::dup_mm;
use mm::mmap::madvise::MADV_DONTNEED;
use mm::mmap::mremap::MREMAP_MAYMOVE;
use mm::mmap::*;
use mm::proc::pid::{proc_pid_status_mem, status_mem};
use mm::rmap::try_to_unmap;
use mm::uaccess::user_store;
use mm::PAGE_SIZE;

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;

fn touch(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, a: usize, pages: usize) {
    for i in 0..pages {
        user_store(cpu, mm, a + i * P, &[1]).unwrap();
    }
}

/// (VmPeak, VmSize, VmHWM, VmRSS) in kB.
fn vm(mm: &MmStruct<'_>) -> (u64, u64, u64, u64) {
    let s = status_mem(mm);
    (s.vm_peak, s.vm_size, s.vm_hwm, s.vm_rss)
}

#[test]
fn vmpeak_and_vmhwm_keep_the_peaks() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 8 * P, RW, ANON | MAP_FIXED).unwrap();
        touch(&cpu, &mm, BASE, 8);
        assert_eq!(vm(&mm), (32, 32, 32, 32));
        // Unmapping keeps both peaks.
        mm.do_munmap(&cpu, BASE + 2 * P, 6 * P).unwrap();
        assert_eq!(vm(&mm), (32, 8, 32, 8));
        let text = proc_pid_status_mem(&mm);
        assert!(text.contains("VmPeak:\t      32 kB\n"), "{text}");
        assert!(text.contains("VmHWM:\t      32 kB\n"), "{text}");
        // Below the peaks nothing changes; above them they grow.
        mm.do_mmap(&cpu, BASE + 2 * P, 4 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        touch(&cpu, &mm, BASE + 2 * P, 4);
        assert_eq!(vm(&mm), (32, 24, 32, 24));
        mm.do_mmap(&cpu, BASE + 6 * P, 6 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        assert_eq!(vm(&mm), (48, 48, 32, 24));
        touch(&cpu, &mm, BASE + 6 * P, 6);
        assert_eq!(vm(&mm), (48, 48, 48, 48));
        // MADV_DONTNEED drops the RSS, not the peak.
        mm.madvise(&cpu, BASE, 12 * P, MADV_DONTNEED).unwrap();
        assert_eq!(vm(&mm), (48, 48, 48, 0));
        // mremap shrinking lowers VmSize, not VmPeak.
        mm.mremap(&cpu, BASE, 12 * P, 2 * P, MREMAP_MAYMOVE, 0)
            .unwrap();
        assert_eq!(vm(&mm), (48, 8, 48, 0));
        // try_to_unmap through the reverse map too.
        touch(&cpu, &mm, BASE, 2);
        let child = dup_mm(&cpu, &mm).unwrap();
        // A child starts from its own size (Linux sets its peaks to it).
        assert_eq!(vm(&child), (8, 8, 8, 8));
        mm.do_mmap(&cpu, BASE + 2 * P, 20 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        touch(&cpu, &mm, BASE + 2 * P, 20);
        let pfn = common::pte(&mm, BASE + 2 * P).unwrap().pfn();
        let pg = k.mem.pfn_to_page(pfn as usize).unwrap();
        pg.get_page();
        assert_eq!(try_to_unmap(&cpu, pg), 1);
        cpu.put_page(pg).unwrap();
        assert_eq!(vm(&mm), (88, 88, 88, 84));
        child.free(&cpu);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}
