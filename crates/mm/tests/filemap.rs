//! File-backed mappings over the page cache: mmap's file errno, private
//! reads and copy-on-write, shared writes across mms and dirtying, SIGBUS
//! past the end of the file, truncate unmapping every mapper, VMA merging
//! by file and offset, `i_mmap` holding exactly the VMAs that map a file
//! (through split, merge, mremap, fork and exit) and the rmap walkers
//! (writeback's `page_mkclean`, reclaim's unmap, truncate) reaching every
//! one of them, and leak checks.

mod common;

use mm::fault::{handle_mm_fault, Access, FaultError};
use mm::filemap::{AddressSpace, File, MemFile, FMODE_READ, FMODE_WRITE};
use mm::fork::dup_mm;
use mm::mmap::errno::*;
use mm::mmap::madvise::{MADV_DONTNEED, MADV_REMOVE};
use mm::mmap::mremap::{MREMAP_FIXED, MREMAP_MAYMOVE};
use mm::mmap::*;
use mm::uaccess::{user_load, user_store};
use mm::vmstat::NodeStatItem;
use mm::{Mem, PageFlags, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const BASE: usize = 0x1000_0000;
const RDWR: u32 = FMODE_READ | FMODE_WRITE;

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn space(mem: &Mem, bytes: usize) -> Box<AddressSpace<'_>> {
    AddressSpace::new(mem, Box::new(MemFile::new(pattern(bytes)))).unwrap()
}

/// The whole file as its backing holds it (whole pages).
fn contents(a: &AddressSpace<'_>) -> Vec<u8> {
    let pages = (a.backing().size() as usize).div_ceil(P) as u64;
    (0..pages).flat_map(|i| file_page(a, i)).collect()
}

fn file_page(a: &AddressSpace<'_>, index: u64) -> Vec<u8> {
    let mut b = [0u8; P];
    a.backing().read_page(index, &mut b).unwrap();
    b.to_vec()
}

fn load(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, addr: usize, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    user_load(cpu, mm, addr, &mut b).unwrap();
    b
}

fn stat(mem: &Mem, i: NodeStatItem) -> usize {
    mem.vmstat.get(i)
}

/// (what, prot, flags, file, pgoff, errno).
type Case<'a, 'b, 'm> = (
    &'static str,
    usize,
    usize,
    Option<&'a File<'b, 'm>>,
    usize,
    i32,
);

#[test]
fn mmap_file_errno_table() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 3 * P);
        let ro = File::open(&a, FMODE_READ);
        let wo = File::open(&a, FMODE_WRITE);
        let rw = File::open(&a, RDWR);
        let mm = MmStruct::new(&cpu).unwrap();
        let fx = MAP_FIXED;
        #[rustfmt::skip]
        let cases: &[Case<'_, '_, '_>] = &[
            ("no file, not anonymous", PROT_READ, MAP_PRIVATE, None, 0, EBADF),
            ("shared writable, read-only file", RW, MAP_SHARED, Some(&ro), 0, EACCES),
            ("validate writable, read-only file", RW, MAP_SHARED_VALIDATE, Some(&ro), 0, EACCES),
            ("private, write-only file", PROT_READ, MAP_PRIVATE, Some(&wo), 0, EACCES),
            ("shared read, write-only file", PROT_READ, MAP_SHARED, Some(&wo), 0, EACCES),
            ("offset wraps", PROT_READ, MAP_PRIVATE, Some(&rw), usize::MAX, EOVERFLOW),
            ("past the largest offset", PROT_READ, MAP_SHARED, Some(&rw), (i64::MAX as usize) >> 12, EOVERFLOW),
            ("validate with MAP_SYNC", PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, Some(&rw), 0, EOPNOTSUPP),
            ("neither private nor shared", PROT_READ, 0, Some(&rw), 0, EINVAL),
            ("hugetlb on a regular file", PROT_READ, MAP_PRIVATE | MAP_HUGETLB, Some(&rw), 0, EINVAL),
            ("growsdown file", PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, Some(&rw), 0, EINVAL),
        ];
        for &(what, prot, flags, f, pgoff, want) in cases {
            assert_eq!(
                mm.do_mmap_file(&cpu, BASE, P, prot, flags | fx, f, pgoff),
                Err(want),
                "{what}"
            );
        }
        assert_eq!(
            mm.do_mmap_file(&cpu, BASE, 0, PROT_READ, MAP_PRIVATE, Some(&rw), 0),
            Err(EINVAL)
        );
        assert_eq!(a.nr_mappers(), 0);
        // What is allowed.
        let ok = |flags, prot, f: &File<'_, '_>, at: usize| {
            mm.do_mmap_file(&cpu, at, P, prot, flags | fx, Some(f), 0)
        };
        assert_eq!(ok(MAP_PRIVATE, RW, &ro, BASE), Ok(BASE));
        assert_eq!(
            ok(MAP_SHARED, PROT_READ, &ro, BASE + 2 * P),
            Ok(BASE + 2 * P)
        );
        // A shared mapping of a read-only file never becomes writable.
        assert_eq!(mm.mprotect(&cpu, BASE + 2 * P, P, RW), Err(EACCES));
        assert_eq!(
            ok(MAP_SHARED | MAP_SYNC, RW, &rw, BASE + 4 * P),
            Ok(BASE + 4 * P)
        );
        assert_eq!(
            ok(MAP_SHARED_VALIDATE, RW, &rw, BASE + 6 * P),
            Ok(BASE + 6 * P)
        );
        assert_eq!(a.nr_mappers(), 1);
        // MAP_ANONYMOUS ignores the file.
        let x = mm
            .do_mmap_file(&cpu, 0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, Some(&wo), 7)
            .unwrap();
        let mut mm = mm;
        assert_eq!(mm.find_vma(x).unwrap().vm_file, None);
        assert_eq!(mm.find_vma(BASE).unwrap().vm_file, Some(rw.mapping_ptr()));
        assert_eq!(mm.find_vma(BASE + 6 * P).unwrap().vm_pgoff, 0);
        mm.free(&cpu);
        assert_eq!(a.nr_mappers(), 0);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn file_vmas_merge_only_with_contiguous_offsets_of_the_same_file() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 16 * P);
        let b = space(&k.mem, 16 * P);
        let fa = File::open(&a, RDWR);
        let fb = File::open(&b, RDWR);
        let mut mm = MmStruct::new(&cpu).unwrap();
        let map = |at: usize, f: &File<'_, '_>, pgoff: usize| {
            mm.do_mmap_file(
                &cpu,
                at,
                P,
                PROT_READ,
                MAP_PRIVATE | MAP_FIXED,
                Some(f),
                pgoff,
            )
            .unwrap()
        };
        map(BASE, &fa, 0);
        map(BASE + P, &fa, 1);
        map(BASE + 2 * P, &fa, 5);
        map(BASE + 3 * P, &fb, 6);
        let v: Vec<_> = mm
            .vmas()
            .map(|v| (v.vm_start, v.vm_end, v.vm_pgoff))
            .collect();
        assert_eq!(
            v,
            [
                (BASE, BASE + 2 * P, 0),
                (BASE + 2 * P, BASE + 3 * P, 5),
                (BASE + 3 * P, BASE + 4 * P, 6)
            ]
        );
        // A split piece keeps its offset: page 1 of the merged area reads
        // file page 1.
        mm.do_munmap(&cpu, BASE, P).unwrap();
        assert_eq!(mm.find_vma(BASE + P).unwrap().vm_pgoff, 1);
        assert_eq!(load(&cpu, &mm, BASE + P, 8), pattern(2 * P)[P..P + 8]);
        assert_eq!(a.nr_mappers(), 1);
        mm.free(&cpu);
        assert_eq!((a.nr_mappers(), b.nr_mappers()), (0, 0));
        a.release(&cpu);
        b.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn private_mapping_reads_the_file_and_writes_a_private_copy() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 3 * P);
        let f = File::open(&a, FMODE_READ);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let mm2 = MmStruct::new(&cpu).unwrap();
        mm1.do_mmap_file(&cpu, BASE, 3 * P, RW, MAP_PRIVATE | MAP_FIXED, Some(&f), 0)
            .unwrap();
        mm2.do_mmap_file(
            &cpu,
            BASE,
            3 * P,
            PROT_READ,
            MAP_PRIVATE | MAP_FIXED,
            Some(&f),
            0,
        )
        .unwrap();
        let data = pattern(3 * P);
        assert_eq!(load(&cpu, &mm1, BASE + 100, 200), data[100..300]);
        assert_eq!(load(&cpu, &mm2, BASE + 100, 200), data[100..300]);
        let pg = a.find_get_page(0).unwrap();
        // The cache, two mappings, and our lookup.
        assert_eq!((pg.refcount(), pg.mapcount()), (4, 2));
        assert!(pg.flags().contains(PageFlags::UPTODATE));
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 1);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFilePages), 1);
        assert_eq!(mm1.get_mm_counter(RssCounter::FilePages), 1);
        // The file page is mapped read-only in the private writable area.
        assert!(!common::pte(&mm1, BASE).unwrap().is_write());
        // A write copies it (do_wp_page on a file page).
        user_store(&cpu, &mm1, BASE + 100, b"private").unwrap();
        assert_eq!(load(&cpu, &mm1, BASE + 100, 7), b"private");
        assert_eq!(load(&cpu, &mm2, BASE + 100, 7), data[100..107]);
        assert_eq!(file_page(&a, 0), data[..P]);
        assert_eq!((pg.refcount(), pg.mapcount()), (3, 1));
        assert!(!pg.flags().contains(PageFlags::DIRTY));
        assert_eq!(mm1.get_mm_counter(RssCounter::FilePages), 0);
        assert_eq!(mm1.get_mm_counter(RssCounter::AnonPages), 1);
        // A first write to an unmapped page copies at once (do_cow_fault).
        user_store(&cpu, &mm1, BASE + P, b"cow").unwrap();
        let p1 = a.find_get_page(1).unwrap();
        assert_eq!((p1.refcount(), p1.mapcount()), (2, 0));
        assert_eq!(load(&cpu, &mm2, BASE + P, 3), data[P..P + 3]);
        assert_eq!(mm1.get_mm_counter(RssCounter::AnonPages), 2);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 2);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 0);
        assert_eq!(a.writeback(&cpu).unwrap(), 0);
        assert_eq!(file_page(&a, 1), data[P..2 * P]);
        cpu.put_page(pg).unwrap();
        cpu.put_page(p1).unwrap();
        mm1.free(&cpu);
        // The cache keeps its pages after the mms are gone.
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 2);
        mm2.free(&cpu);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 0);
        assert_eq!(a.nrpages(), 2);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFilePages), 2);
        a.release(&cpu);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFilePages), 0);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn shared_writes_are_seen_by_other_mms_and_dirty_the_page() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 2 * P);
        let f = File::open(&a, RDWR);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let mm2 = MmStruct::new(&cpu).unwrap();
        mm1.do_mmap_file(&cpu, BASE, 2 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        mm2.do_mmap_file(
            &cpu,
            BASE + 8 * P,
            2 * P,
            RW,
            MAP_SHARED | MAP_FIXED,
            Some(&f),
            0,
        )
        .unwrap();
        assert_eq!(a.nr_mappers(), 2);
        // mm2 maps the page read-only first (write-notify).
        assert_eq!(load(&cpu, &mm2, BASE + 8 * P + 10, 5), pattern(15)[10..]);
        assert!(!common::pte(&mm2, BASE + 8 * P).unwrap().is_write());
        user_store(&cpu, &mm1, BASE + 10, b"hello").unwrap();
        assert_eq!(load(&cpu, &mm2, BASE + 8 * P + 10, 5), b"hello");
        let pg = a.find_get_page(0).unwrap();
        assert!(pg.flags().contains(PageFlags::DIRTY));
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 1);
        assert_eq!((pg.refcount(), pg.mapcount()), (4, 2));
        let e = common::pte(&mm1, BASE).unwrap();
        assert!(e.is_write() && e.is_dirty());
        // mm2's read-only PTE becomes writable through page_mkwrite.
        user_store(&cpu, &mm2, BASE + 8 * P + 20, b"world").unwrap();
        assert!(common::pte(&mm2, BASE + 8 * P).unwrap().is_write());
        assert_eq!(load(&cpu, &mm1, BASE + 20, 5), b"world");
        // mprotect keeps write-notify: a page mapped read-only after it
        // stays read-only until written, and the write dirties it.
        mm1.mprotect(&cpu, BASE, 2 * P, PROT_READ).unwrap();
        mm1.mprotect(&cpu, BASE, 2 * P, RW).unwrap();
        load(&cpu, &mm1, BASE + P, 1);
        assert!(!common::pte(&mm1, BASE + P).unwrap().is_write());
        let p1 = a.find_get_page(1).unwrap();
        assert!(!p1.flags().contains(PageFlags::DIRTY));
        user_store(&cpu, &mm1, BASE + P, b"!").unwrap();
        assert!(p1.flags().contains(PageFlags::DIRTY));
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 2);
        cpu.put_page(p1).unwrap();
        // A fork shares the page: the child's fault finds it (no PTE of a
        // shared area is copied), so it maps only the page it touched.
        let child = dup_mm(&cpu, &mm1).unwrap();
        assert_eq!(a.nr_mappers(), 3);
        assert_eq!(child.get_mm_counter(RssCounter::FilePages), 0);
        assert_eq!(load(&cpu, &child, BASE + 10, 5), b"hello");
        assert_eq!(child.get_mm_counter(RssCounter::FilePages), 1);
        assert_eq!(child.get_mm_counter(RssCounter::ShmemPages), 0);
        assert_eq!((pg.refcount(), pg.mapcount()), (5, 3));
        // Writeback puts the data in the file and cleans the page.
        assert_eq!(a.writeback(&cpu).unwrap(), 2);
        assert_eq!(file_page(&a, 1)[0], b'!');
        let fp = file_page(&a, 0);
        assert_eq!(&fp[10..15], b"hello");
        assert_eq!(&fp[20..25], b"world");
        assert!(!pg.flags().contains(PageFlags::DIRTY));
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 0);
        cpu.put_page(pg).unwrap();
        child.free(&cpu);
        mm1.free(&cpu);
        mm2.free(&cpu);
        assert_eq!(a.nr_mappers(), 0);
        let pg = a.find_get_page(0).unwrap();
        assert_eq!((pg.refcount(), pg.mapcount()), (2, 0));
        cpu.put_page(pg).unwrap();
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn access_past_end_of_file_is_sigbus() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, P + 100);
        let f = File::open(&a, RDWR);
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_PRIVATE | MAP_FIXED, Some(&f), 0)
            .unwrap();
        mm.do_mmap_file(
            &cpu,
            BASE + 8 * P,
            2 * P,
            RW,
            MAP_SHARED | MAP_FIXED,
            Some(&f),
            1,
        )
        .unwrap();
        // The partial last page reads zeros past the end.
        let b = load(&cpu, &mm, BASE + P, P);
        assert_eq!(b[..100], pattern(P + 100)[P..]);
        assert!(b[100..].iter().all(|&x| x == 0));
        for (addr, acc) in [
            (BASE + 2 * P, Access::Read),
            (BASE + 3 * P + 5, Access::Write),
            (BASE + 9 * P, Access::Read),
            (BASE + 9 * P, Access::Write),
        ] {
            let e = handle_mm_fault(&cpu, &mm, addr, acc).unwrap_err();
            assert_eq!((e, e.signo()), (FaultError::Sigbus, 7), "{addr:#x}");
        }
        // Offset 1: the shared area's first page is file page 1.
        assert_eq!(load(&cpu, &mm, BASE + 8 * P, 4), pattern(P + 4)[P..]);
        mm.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn truncate_unmaps_pages_from_every_mapper() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 4 * P);
        let f = File::open(&a, RDWR);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let mm2 = MmStruct::new(&cpu).unwrap();
        mm1.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        mm2.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_PRIVATE | MAP_FIXED, Some(&f), 0)
            .unwrap();
        for i in 0..4 {
            load(&cpu, &mm1, BASE + i * P, 1);
            load(&cpu, &mm2, BASE + i * P, 1);
        }
        // A private copy of page 3 in mm2.
        user_store(&cpu, &mm2, BASE + 3 * P, b"x").unwrap();
        let child = dup_mm(&cpu, &mm1).unwrap();
        load(&cpu, &child, BASE + 2 * P, 1);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 4);
        assert_eq!(a.nrpages(), 4);
        a.truncate(&cpu, (P + P / 2) as u64).unwrap();
        assert_eq!(a.nrpages(), 2);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFilePages), 2);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 2);
        for m in [&mm1, &mm2, &child] {
            for i in 2..4 {
                assert!(common::pte(m, BASE + i * P).is_none(), "page {i}");
                assert_eq!(
                    handle_mm_fault(&cpu, m, BASE + i * P, Access::Read),
                    Err(FaultError::Sigbus)
                );
            }
        }
        assert!(common::pte(&mm1, BASE).is_some());
        // The tail of the partial page is zeroed.
        let b = load(&cpu, &mm1, BASE + P, P);
        assert_eq!(b[..P / 2], pattern(2 * P)[P..P + P / 2]);
        assert!(b[P / 2..].iter().all(|&x| x == 0));
        assert_eq!(mm2.get_mm_counter(RssCounter::AnonPages), 0);
        assert_eq!(mm2.get_mm_counter(RssCounter::FilePages), 2);
        assert_eq!(stat(&k.mem, NodeStatItem::NrAnonMapped), 0);
        child.free(&cpu);
        mm1.free(&cpu);
        mm2.free(&cpu);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 0);
        a.release(&cpu);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFilePages), 0);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn madv_remove_punches_the_file_for_every_mapper_but_keeps_private_copies() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 4 * P);
        let f = File::open(&a, RDWR);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let mm2 = MmStruct::new(&cpu).unwrap();
        mm1.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        mm2.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_PRIVATE | MAP_FIXED, Some(&f), 0)
            .unwrap();
        for i in 0..4 {
            load(&cpu, &mm1, BASE + i * P, 1);
            load(&cpu, &mm2, BASE + i * P, 1);
        }
        // mm2's own copy of page 2; mm1 dirties page 3 through its mapping.
        user_store(&cpu, &mm2, BASE + 2 * P, b"mine").unwrap();
        user_store(&cpu, &mm1, BASE + 3 * P + 8, b"dirty").unwrap();
        // Linux's errors: a private file mapping is EACCES, private
        // anonymous memory EINVAL.
        assert_eq!(mm2.madvise(&cpu, BASE, P, MADV_REMOVE), Err(EACCES));
        let anon = mm2
            .do_mmap(&cpu, 0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS)
            .unwrap();
        assert_eq!(mm2.madvise(&cpu, anon, P, MADV_REMOVE), Err(EINVAL));
        // Pages 1 and 2 of the file: both unmapped in both mms where they
        // map the cache's page, dropped from the cache, zeros in the file.
        mm1.madvise(&cpu, BASE + P, 2 * P, MADV_REMOVE).unwrap();
        assert_eq!(a.nrpages(), 2);
        for i in 1..3 {
            assert!(common::pte(&mm1, BASE + i * P).is_none(), "page {i}");
            assert!(load(&cpu, &mm1, BASE + i * P, P).iter().all(|&x| x == 0));
        }
        assert!(common::pte(&mm2, BASE + P).is_none());
        assert!(load(&cpu, &mm2, BASE + P, P).iter().all(|&x| x == 0));
        // mm2's private copy stays (`even_cows` is off for a hole).
        assert_eq!(load(&cpu, &mm2, BASE + 2 * P, 4), b"mine");
        // The pages outside the hole are untouched, dirty data included.
        assert_eq!(load(&cpu, &mm1, BASE, 8), pattern(4 * P)[..8]);
        assert_eq!(load(&cpu, &mm2, BASE + 3 * P + 8, 5), b"dirty");
        let d = contents(&a);
        assert!(d[P..3 * P].iter().all(|&x| x == 0));
        assert_eq!(d[..P], pattern(4 * P)[..P]);
        mm1.free(&cpu);
        mm2.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn a_hole_zeroes_the_partial_pages_at_its_ends() {
    use mm::falloc::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 4 * P);
        let f = File::open(&a, RDWR);
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        for i in 0..4 {
            load(&cpu, &mm, BASE + i * P, 1);
        }
        let mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        // Bytes [P + 100, 3P + 200): page 2 goes, pages 1 and 3 are zeroed
        // in part, in place (still mapped).
        let (off, len) = ((P + 100) as u64, (2 * P + 100) as u64);
        a.fallocate(&cpu, (mode, off, len), 0, || {
            a.backing().fallocate(mode, off, len)
        })
        .unwrap();
        assert_eq!(a.nrpages(), 3);
        assert!(common::pte(&mm, BASE + P).is_some());
        assert!(common::pte(&mm, BASE + 2 * P).is_none());
        assert!(common::pte(&mm, BASE + 3 * P).is_some());
        let got = load(&cpu, &mm, BASE, 4 * P);
        let mut want = pattern(4 * P);
        want[P + 100..3 * P + 200].fill(0);
        assert!(got == want);
        // Inside one page.
        a.fallocate(&cpu, (mode, 10, 20), 0, || {
            a.backing().fallocate(mode, 10, 20)
        })
        .unwrap();
        want[10..30].fill(0);
        assert!(load(&cpu, &mm, BASE, 4 * P) == want);
        // A mode the file refuses leaves the cache as it was.
        let r = a.fallocate(&cpu, (mode, 0, P as u64), 0, || Err(EOPNOTSUPP));
        assert_eq!(r, Err(EOPNOTSUPP));
        assert!(load(&cpu, &mm, BASE, 4 * P) == want);
        a.writeback(&cpu).unwrap();
        assert!(contents(&a) == want);
        mm.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn mremap_and_madvise_keep_file_pages_in_the_cache() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 4 * P);
        let f = File::open(&a, RDWR);
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap_file(&cpu, BASE, 2 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 1)
            .unwrap();
        // Something right after, so growing has to move.
        mm.do_mmap(
            &cpu,
            BASE + 2 * P,
            P,
            RW,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
        )
        .unwrap();
        user_store(&cpu, &mm, BASE + P, b"moved").unwrap();
        let to = mm
            .mremap(&cpu, BASE, 2 * P, 3 * P, MREMAP_MAYMOVE, 0)
            .unwrap();
        assert_ne!(to, BASE);
        assert_eq!(a.nr_mappers(), 1);
        assert_eq!(load(&cpu, &mm, to + P, 5), b"moved");
        // The grown page is file page 3.
        assert_eq!(load(&cpu, &mm, to + 2 * P, 4), pattern(3 * P + 4)[3 * P..]);
        assert_eq!(mm.get_mm_counter(RssCounter::FilePages), 2);
        mm.madvise(&cpu, to, 3 * P, MADV_DONTNEED).unwrap();
        assert_eq!(mm.get_mm_counter(RssCounter::FilePages), 0);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileMapped), 0);
        // The data is still in the cache.
        assert_eq!(load(&cpu, &mm, to + P, 5), b"moved");
        assert_eq!(a.nrpages(), 2);
        mm.free(&cpu);
        assert_eq!(a.nr_mappers(), 0);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn writeback_write_protects_so_a_second_write_is_written_too() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 2 * P);
        let f = File::open(&a, RDWR);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let mm2 = MmStruct::new(&cpu).unwrap();
        mm1.do_mmap_file(&cpu, BASE, 2 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        // mm2 maps it at another address and offset 1 first: vma_address
        // finds the page there too.
        mm2.do_mmap_file(
            &cpu,
            BASE + 16 * P,
            P,
            RW,
            MAP_SHARED | MAP_FIXED,
            Some(&f),
            1,
        )
        .unwrap();
        user_store(&cpu, &mm1, BASE + P + 8, b"first").unwrap();
        user_store(&cpu, &mm2, BASE + 16 * P, b"other").unwrap();
        assert!(common::pte(&mm1, BASE + P).unwrap().is_write());
        mm1.take_tlb_flush();
        mm2.take_tlb_flush();
        assert_eq!(a.writeback(&cpu).unwrap(), 1);
        assert_eq!(&file_page(&a, 1)[8..13], b"first");
        assert_eq!(&file_page(&a, 1)[..5], b"other");
        // Every shared PTE of the page is read-only and clean again, and
        // the harts are told.
        for (m, va) in [(&mm1, BASE + P), (&mm2, BASE + 16 * P)] {
            let e = common::pte(m, va).unwrap();
            assert!(!e.is_write() && !e.is_dirty(), "{e:?}");
            assert!(m.take_tlb_flush().covers(va));
        }
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 0);
        assert_eq!(a.writeback(&cpu).unwrap(), 0);
        // The next write faults through page_mkwrite and dirties the page.
        user_store(&cpu, &mm1, BASE + P + 8, b"again").unwrap();
        assert!(common::pte(&mm1, BASE + P).unwrap().is_write());
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 1);
        assert_eq!(a.writeback(&cpu).unwrap(), 1);
        assert_eq!(&file_page(&a, 1)[8..13], b"again");
        // And through the other mm as well.
        user_store(&cpu, &mm2, BASE + 16 * P, b"third").unwrap();
        assert_eq!(a.writeback(&cpu).unwrap(), 1);
        assert_eq!(&file_page(&a, 1)[..5], b"third");
        // Unmapping a cleaned page does not dirty it again.
        mm1.free(&cpu);
        mm2.free(&cpu);
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 0);
        assert_eq!(a.writeback(&cpu).unwrap(), 0);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn split_file_areas_stay_in_i_mmap_until_the_last_piece_goes() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 4 * P);
        let f = File::open(&a, RDWR);
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap_file(&cpu, BASE, 4 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        // Split in three, then two pieces unmapped: the mm still maps the
        // file, so it stays a mapper, and truncate still reaches it.
        mm.mprotect(&cpu, BASE + P, P, PROT_READ).unwrap();
        for i in 0..4 {
            load(&cpu, &mm, BASE + i * P, 1);
        }
        mm.do_munmap(&cpu, BASE, 2 * P).unwrap();
        assert_eq!(a.nr_mappers(), 1);
        a.truncate(&cpu, (3 * P) as u64).unwrap();
        assert!(common::pte(&mm, BASE + 3 * P).is_none());
        assert!(common::pte(&mm, BASE + 2 * P).is_some());
        // Merged back after a split: still one mapper, gone with the area.
        mm.mprotect(&cpu, BASE + 2 * P, P, PROT_READ).unwrap();
        mm.mprotect(&cpu, BASE + 2 * P, P, RW).unwrap();
        assert_eq!(a.nr_mappers(), 1);
        mm.do_munmap(&cpu, BASE + 2 * P, 2 * P).unwrap();
        assert_eq!(a.nr_mappers(), 0);
        mm.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn msync_ms_sync_writes_each_new_write_back() {
    use mm::mmap::msync::{MS_ASYNC, MS_SYNC};
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 2 * P);
        let f = File::open(&a, RDWR);
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap_file(&cpu, BASE, 2 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        user_store(&cpu, &mm, BASE + 4, b"one").unwrap();
        // MS_ASYNC starts nothing (as Linux today); MS_SYNC writes.
        mm.msync(&cpu, BASE, 2 * P, MS_ASYNC).unwrap();
        assert_eq!(&file_page(&a, 0)[4..7], &pattern(7)[4..7]);
        mm.msync(&cpu, BASE, 2 * P, MS_SYNC).unwrap();
        assert_eq!(&file_page(&a, 0)[4..7], b"one");
        user_store(&cpu, &mm, BASE + 4, b"two").unwrap();
        mm.msync(&cpu, BASE, P, MS_SYNC).unwrap();
        assert_eq!(&file_page(&a, 0)[4..7], b"two");
        assert_eq!(stat(&k.mem, NodeStatItem::NrFileDirty), 0);
        mm.free(&cpu);
        a.release(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

/// The VMAs of file `a` each mm's own tree holds, as (mm, start, end),
/// sorted: what `a`'s `i_mmap` must hold. Checks each one's `vm_mm` too.
fn tree_file_vmas(a: &AddressSpace<'_>, mms: &[&MmStruct<'_>]) -> Vec<(usize, usize, usize)> {
    let addr = a as *const AddressSpace<'_> as usize;
    let mut out = Vec::new();
    for &mm in mms {
        let me = mm as *const MmStruct<'_> as usize;
        let st = mm.mmap_lock.read();
        for v in st
            .vmas()
            .filter(|v| v.vm_file.map(|f| f.addr()) == Some(addr))
        {
            assert_eq!(v.vm_mm(), me, "vm_mm of {v:?}");
            out.push((me, v.vm_start, v.vm_end));
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn i_mmap_holds_exactly_the_vmas_that_map_the_file() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 16 * P);
        let b = space(&k.mem, 16 * P);
        let fa = File::open(&a, RDWR);
        let fb = File::open(&b, RDWR);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let m1 = &*mm1 as *const MmStruct<'_> as usize;
        // i_mmap against the trees, and against the expected bounds.
        let check = |mms: &[&MmStruct<'_>], want: &[(usize, usize, usize)]| {
            let tree = tree_file_vmas(&a, mms);
            assert_eq!(tree, want, "the trees");
            assert_eq!(a.i_mmap_vmas(&cpu), want, "i_mmap");
            assert_eq!(a.nr_i_mmap(), want.len());
        };
        let map = |mm: &MmStruct<'_>, at: usize, len: usize, flags: usize, f, pgoff| {
            mm.do_mmap_file(&cpu, at, len, RW, flags | MAP_FIXED, Some(f), pgoff)
                .unwrap()
        };
        map(&mm1, BASE, 8 * P, MAP_SHARED, &fa, 0);
        check(&[&mm1], &[(m1, BASE, BASE + 8 * P)]);
        map(&mm1, BASE + 16 * P, 4 * P, MAP_PRIVATE, &fa, 2);
        map(&mm1, BASE + 32 * P, 2 * P, MAP_SHARED, &fb, 0);
        mm1.do_mmap(
            &cpu,
            BASE + 40 * P,
            2 * P,
            RW,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
        )
        .unwrap();
        let priv_a = (m1, BASE + 16 * P, BASE + 20 * P);
        check(&[&mm1], &[(m1, BASE, BASE + 8 * P), priv_a]);
        assert_eq!(b.i_mmap_vmas(&cpu), [(m1, BASE + 32 * P, BASE + 34 * P)]);
        // mprotect of the middle splits the shared area in three...
        mm1.mprotect(&cpu, BASE + 2 * P, 2 * P, PROT_READ).unwrap();
        check(
            &[&mm1],
            &[
                (m1, BASE, BASE + 2 * P),
                (m1, BASE + 2 * P, BASE + 4 * P),
                (m1, BASE + 4 * P, BASE + 8 * P),
                priv_a,
            ],
        );
        // ... and mprotect back merges them again.
        mm1.mprotect(&cpu, BASE + 2 * P, 2 * P, RW).unwrap();
        check(&[&mm1], &[(m1, BASE, BASE + 8 * P), priv_a]);
        // munmap of the tail shrinks it; of a middle page splits it.
        mm1.do_munmap(&cpu, BASE + 6 * P, 2 * P).unwrap();
        mm1.do_munmap(&cpu, BASE + 2 * P, P).unwrap();
        let shared = [(m1, BASE, BASE + 2 * P), (m1, BASE + 3 * P, BASE + 6 * P)];
        check(&[&mm1], &[shared[0], shared[1], priv_a]);
        // mremap moves the private area, then grows it in place.
        let moved = BASE + 64 * P;
        assert_eq!(
            mm1.mremap(
                &cpu,
                BASE + 16 * P,
                4 * P,
                4 * P,
                MREMAP_MAYMOVE | MREMAP_FIXED,
                moved
            ),
            Ok(moved)
        );
        check(&[&mm1], &[shared[0], shared[1], (m1, moved, moved + 4 * P)]);
        assert_eq!(mm1.mremap(&cpu, moved, 4 * P, 6 * P, 0, 0), Ok(moved));
        let mine = [shared[0], shared[1], (m1, moved, moved + 6 * P)];
        check(&[&mm1], &mine);
        // A fork copies every VMA onto the list; the child's exit takes
        // its copies off.
        let child = dup_mm(&cpu, &mm1).unwrap();
        let c = &*child as *const MmStruct<'_> as usize;
        let mut both: Vec<_> = mine.iter().map(|&(_, s, e)| (c, s, e)).collect();
        both.extend(mine);
        both.sort_unstable();
        check(&[&mm1, &child], &both);
        assert_eq!(b.nr_i_mmap(), 2);
        assert_eq!(a.nr_mappers(), 2);
        child.free(&cpu);
        check(&[&mm1], &mine);
        assert_eq!(b.nr_i_mmap(), 1);
        // Another mm, then the exits.
        let mm2 = MmStruct::new(&cpu).unwrap();
        let m2 = &*mm2 as *const MmStruct<'_> as usize;
        map(&mm2, BASE, P, MAP_PRIVATE, &fa, 9);
        let mut with2 = mine.to_vec();
        with2.push((m2, BASE, BASE + P));
        with2.sort_unstable();
        check(&[&mm1, &mm2], &with2);
        assert_eq!(a.nr_mappers(), 2);
        mm1.free(&cpu);
        check(&[&mm2], &[(m2, BASE, BASE + P)]);
        assert_eq!(b.nr_i_mmap(), 0);
        mm2.free(&cpu);
        check(&[], &[]);
        assert_eq!(a.nr_mappers(), 0);
        a.release(&cpu);
        b.release(&cpu);
    }
    assert!(!k.log().contains("BUG"), "{}", k.log());
    assert_eq!(common::settle(&k.mem), before);
}

/// Whether no present PTE maps `va` in `mm`.
fn unmapped(mm: &MmStruct<'_>, va: usize) -> bool {
    common::pte(mm, va).is_none_or(|e| !e.is_present())
}

/// Writeback's `page_mkclean`, reclaim's unmap and truncate find a file's
/// pages in every VMA on its `i_mmap`: pieces split by mprotect, a piece
/// mremap moved, a fork child's copies and a private mapping elsewhere.
#[test]
fn rmap_walks_reach_every_vma_on_i_mmap() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let a = space(&k.mem, 8 * P);
        let f = File::open(&a, RDWR);
        let mm1 = MmStruct::new(&cpu).unwrap();
        let mm2 = MmStruct::new(&cpu).unwrap();
        mm1.do_mmap_file(&cpu, BASE, 8 * P, RW, MAP_SHARED | MAP_FIXED, Some(&f), 0)
            .unwrap();
        mm1.mprotect(&cpu, BASE + 2 * P, 2 * P, PROT_READ).unwrap();
        let moved = BASE + 64 * P;
        assert_eq!(
            mm1.mremap(
                &cpu,
                BASE + 4 * P,
                4 * P,
                4 * P,
                MREMAP_MAYMOVE | MREMAP_FIXED,
                moved
            ),
            Ok(moved)
        );
        // Where mm1 (and its child) map file page i.
        let at = |i: usize| {
            if i < 4 {
                BASE + i * P
            } else {
                moved + (i - 4) * P
            }
        };
        mm2.do_mmap_file(
            &cpu,
            BASE,
            8 * P,
            PROT_READ,
            MAP_PRIVATE | MAP_FIXED,
            Some(&f),
            0,
        )
        .unwrap();
        let data = pattern(8 * P);
        for i in [0, 1, 4, 5, 6, 7] {
            user_store(&cpu, &mm1, at(i) + 8, &[i as u8 + 1]).unwrap();
        }
        assert_eq!(load(&cpu, &mm1, at(2), 4), data[2 * P..2 * P + 4]);
        assert_eq!(load(&cpu, &mm1, at(3), 4), data[3 * P..3 * P + 4]);
        let child = dup_mm(&cpu, &mm1).unwrap();
        assert_eq!(a.nr_i_mmap(), 7);
        for i in 0..8 {
            load(&cpu, &child, at(i), 1);
            load(&cpu, &mm2, BASE + i * P, 1);
        }
        user_store(&cpu, &child, at(5) + 9, b"c").unwrap();
        // page_mkclean: every writable PTE of the dirty pages, in every
        // shared VMA, is write-protected and cleaned.
        assert_eq!(a.writeback(&cpu).unwrap(), 6);
        for mm in [&mm1, &child] {
            for i in 0..8 {
                let e = common::pte(mm, at(i)).unwrap();
                assert!(!e.is_write() && !e.is_dirty(), "page {i}: {e:?}");
            }
        }
        for i in [0, 1, 4, 5, 6, 7] {
            assert_eq!(file_page(&a, i as u64)[8], i as u8 + 1, "page {i}");
        }
        assert_eq!(file_page(&a, 5)[9], b'c');
        // Reclaim unmaps each page from every PTE (3 mms, 4 VMAs here)
        // before taking it out of the cache.
        for _ in 0..64 {
            if a.nrpages() == 0 {
                break;
            }
            mm::vmscan::try_to_free_pages(&cpu, 8);
        }
        assert_eq!(a.nrpages(), 0, "pages left mapped somewhere");
        for i in 0..8 {
            assert!(unmapped(&mm1, at(i)) && unmapped(&child, at(i)), "page {i}");
            assert!(unmapped(&mm2, BASE + i * P), "page {i}");
        }
        assert_eq!(load(&cpu, &child, at(5) + 8, 2), [6, b'c']);
        // Truncate to two pages unmaps the rest from every VMA.
        for i in 0..8 {
            load(&cpu, &mm1, at(i), 1);
            load(&cpu, &child, at(i), 1);
            load(&cpu, &mm2, BASE + i * P, 1);
        }
        a.truncate(&cpu, 2 * P as u64).unwrap();
        for i in 2..8 {
            assert!(unmapped(&mm1, at(i)) && unmapped(&child, at(i)), "page {i}");
            assert!(unmapped(&mm2, BASE + i * P), "page {i}");
            let e = handle_mm_fault(&cpu, &child, at(i), Access::Read).unwrap_err();
            assert_eq!(e, FaultError::Sigbus);
        }
        assert!(!unmapped(&mm1, at(1)) && !unmapped(&mm2, BASE + P));
        child.free(&cpu);
        mm1.free(&cpu);
        mm2.free(&cpu);
        assert_eq!(a.nr_i_mmap(), 0);
        a.release(&cpu);
    }
    assert!(!k.log().contains("BUG"), "{}", k.log());
    assert_eq!(common::settle(&k.mem), before);
}
