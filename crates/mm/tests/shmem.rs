//! Shared anonymous memory backed by a shmem object (`shmem_zero_setup`):
//! pages of a `MAP_SHARED | MAP_ANONYMOUS` mapping are shared across fork
//! even when first touched after it, count as RssShmem and meminfo's
//! Shmem (not anonymous), survive splits, are freed by MADV_REMOVE from
//! every mapper, and go with the last mapping.

mod common;

use mm::fault::{Access, FaultError};
use mm::fork::dup_mm;
use mm::mmap::madvise::MADV_REMOVE;
use mm::mmap::mremap::MREMAP_MAYMOVE;
use mm::mmap::*;
use mm::proc::meminfo::meminfo_fields;
use mm::proc::pid::{smaps_rows, status_mem};
use mm::uaccess::{user_access, user_load, user_store};
use mm::vmstat::NodeStatItem;
use mm::{Mem, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const SHARED: usize = MAP_SHARED | MAP_ANONYMOUS;
const BASE: usize = 0x1000_0000;

fn read_u64(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, va: usize) -> u64 {
    let mut b = [0u8; 8];
    user_load(cpu, mm, va, &mut b).unwrap();
    u64::from_le_bytes(b)
}

fn write_u64(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, va: usize, v: u64) {
    user_store(cpu, mm, va, &v.to_le_bytes()).unwrap();
}

fn shmem_kb(mem: &Mem) -> usize {
    meminfo_fields(mem)
        .into_iter()
        .find(|(l, _)| *l == "Shmem")
        .unwrap()
        .1
}

#[test]
fn pages_touched_after_fork_are_shared() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = MmStruct::new(&cpu).unwrap();
        parent
            .do_mmap(&cpu, BASE, 4 * P, RW, SHARED | MAP_FIXED)
            .unwrap();
        // Nothing touched before the fork.
        let child = dup_mm(&cpu, &parent).unwrap();
        write_u64(&cpu, &child, BASE + 2 * P, 42);
        assert_eq!(read_u64(&cpu, &parent, BASE + 2 * P), 42);
        write_u64(&cpu, &parent, BASE + 3 * P, 7);
        assert_eq!(read_u64(&cpu, &child, BASE + 3 * P), 7);
        assert_eq!(
            common::pte(&child, BASE + 2 * P).unwrap().pfn(),
            common::pte(&parent, BASE + 2 * P).unwrap().pfn()
        );
        // Counted as shmem, in each mm and in meminfo; not anonymous.
        for m in [&parent, &child] {
            assert_eq!(m.get_mm_counter(RssCounter::ShmemPages), 2);
            assert_eq!(m.get_mm_counter(RssCounter::AnonPages), 0);
            assert_eq!(m.get_mm_counter(RssCounter::FilePages), 0);
            let st = status_mem(m);
            assert_eq!((st.rss_shmem, st.rss_anon), (8, 0));
            let r = &smaps_rows(m)[0];
            assert_eq!((r.rss_kb, r.anonymous_kb), (8, 0));
        }
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 2);
        assert_eq!(shmem_kb(&k.mem), 8);
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrAnonMapped), 0);
        // The writes do not count as dirty file pages (no writeback).
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrFileDirty), 0);
        // Unmapping in the parent keeps the object for the child.
        parent.do_munmap(&cpu, BASE, 4 * P).unwrap();
        assert_eq!(read_u64(&cpu, &child, BASE + 2 * P), 42);
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 2);
        parent.free(&cpu);
        child.free(&cpu);
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 0);
        assert_eq!(shmem_kb(&k.mem), 0);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn splits_madv_remove_and_growth_follow_the_object() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(&cpu, BASE, 4 * P, RW, SHARED | MAP_FIXED)
            .unwrap();
        for i in 0..4 {
            write_u64(&cpu, &mm, BASE + i * P, 10 + i as u64);
        }
        // Split and merged back: the same object, the same pages.
        mm.mprotect(&cpu, BASE + P, P, PROT_READ).unwrap();
        let child = dup_mm(&cpu, &mm).unwrap();
        mm.mprotect(&cpu, BASE + P, P, RW).unwrap();
        assert_eq!(read_u64(&cpu, &mm, BASE + P), 11);
        write_u64(&cpu, &mm, BASE + P, 21);
        assert_eq!(read_u64(&cpu, &child, BASE + P), 21);
        // Two separate shared mappings are separate objects.
        let other = mm.do_mmap(&cpu, 0, P, RW, SHARED).unwrap();
        assert_eq!(read_u64(&cpu, &mm, other), 0);
        // MADV_REMOVE punches a hole in the object: the page goes from
        // every mapper (the child mapped it too) and reads back as zero.
        assert_eq!(read_u64(&cpu, &child, BASE + 2 * P), 12);
        assert!(common::pte(&child, BASE + 2 * P).is_some());
        mm.madvise(&cpu, BASE + 2 * P, P, MADV_REMOVE).unwrap();
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 4);
        assert!(common::pte(&child, BASE + 2 * P).is_none());
        assert_eq!(read_u64(&cpu, &child, BASE + 2 * P), 0);
        child.madvise(&cpu, BASE + 2 * P, P, MADV_REMOVE).unwrap();
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 4);
        assert_eq!(read_u64(&cpu, &mm, BASE + 2 * P), 0);
        assert_eq!(read_u64(&cpu, &child, BASE + 2 * P), 0);
        assert_eq!(read_u64(&cpu, &child, BASE + 3 * P), 13);
        // mremap with old_len 0 maps the same object a second time.
        let dup = mm
            .mremap(&cpu, BASE + 3 * P, 0, P, MREMAP_MAYMOVE, 0)
            .unwrap();
        assert_eq!(read_u64(&cpu, &mm, dup), 13);
        write_u64(&cpu, &mm, dup, 33);
        assert_eq!(read_u64(&cpu, &child, BASE + 3 * P), 33);
        mm.do_munmap(&cpu, dup, P).unwrap();
        write_u64(&cpu, &mm, BASE + 3 * P, 13);
        // Growing past the object's size: SIGBUS there, as in Linux.
        child.free(&cpu);
        let g = mm
            .mremap(&cpu, BASE, 4 * P, 6 * P, MREMAP_MAYMOVE, 0)
            .unwrap();
        assert_eq!(read_u64(&cpu, &mm, g + 3 * P), 13);
        assert_eq!(
            user_access(&cpu, &mm, g + 4 * P, 1, Access::Read),
            Err(FaultError::Sigbus)
        );
        mm.free(&cpu);
        assert_eq!(k.mem.vmstat.get(NodeStatItem::NrShmem), 0);
    }
    assert_eq!(common::settle(&k.mem), before);
}

/// `shmem_fallocate`: an allocation puts zeroed pages in the object and
/// grows it (unless KEEP_SIZE); one that runs out of room takes out only
/// the pages it added and leaves the size; holes drop whole pages and zero
/// partial ones; the modes tmpfs lacks are EOPNOTSUPP.
#[test]
fn shmem_fallocate_allocates_and_undoes_what_it_added() {
    use mm::falloc::*;
    use mm::filemap::{iput, shmem_file_setup, FileIdentity};
    use mm::mmap::errno::{ENOSPC, EOPNOTSUPP};
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let s = shmem_file_setup(&k.mem, 0, FileIdentity::default()).unwrap();
        let fs = || -> Result<(), i32> { unreachable!("shmem has no file system operation") };
        let shmem = || k.mem.vmstat.get(NodeStatItem::NrShmem);
        s.fallocate(&cpu, (0, 2 * P as u64, P as u64), usize::MAX, fs)
            .unwrap();
        assert_eq!((s.nrpages(), s.size()), (1, 3 * P as u64));
        // Pages 0..6 with room for 3 new ones: pages 0, 1 and 3 are added,
        // page 4 finds no room; the three go again, page 2 stays.
        let r = s.fallocate(&cpu, (FALLOC_FL_KEEP_SIZE, 0, 6 * P as u64), 3, fs);
        assert_eq!(r, Err(ENOSPC));
        assert_eq!((s.nrpages(), s.size(), shmem()), (1, 3 * P as u64, 1));
        assert!(s
            .find_get_page(2)
            .inspect(|p| {
                let _ = cpu.put_page(p);
            })
            .is_some());
        s.fallocate(&cpu, (FALLOC_FL_KEEP_SIZE, 0, 6 * P as u64), 5, fs)
            .unwrap();
        assert_eq!((s.nrpages(), s.size(), shmem()), (6, 3 * P as u64, 6));
        // A hole over pages 1..4 and parts of 0 and 4.
        let hole = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        s.fallocate(&cpu, (hole, 100, 4 * P as u64), 0, fs).unwrap();
        assert_eq!((s.nrpages(), shmem()), (3, 3));
        for mode in [
            FALLOC_FL_ZERO_RANGE,
            FALLOC_FL_COLLAPSE_RANGE,
            FALLOC_FL_INSERT_RANGE,
        ] {
            assert_eq!(
                s.fallocate(&cpu, (mode, 0, P as u64), 0, fs),
                Err(EOPNOTSUPP)
            );
        }
        // SAFETY: the reference `shmem_file_setup` gave this test.
        unsafe { iput(&cpu, s) };
        assert_eq!(shmem(), 0);
    }
    assert_eq!(common::settle(&k.mem), before);
}
