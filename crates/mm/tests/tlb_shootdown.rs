//! The page-cache walkers shoot down the TLBs of the mms whose page tables
//! they change before the page is freed or counted clean (Linux's
//! `unmap_mapping_range` + `tlb_finish_mmu`, `flush_tlb_page` in
//! `page_mkclean_one`, `try_to_unmap_flush` / `try_to_unmap_flush_dirty`
//! in reclaim), on the harts of that mm's `mm_cpumask`, through the flush
//! hook (`Mem::set_tlb_flush_hook`). The mm's own unmaps (munmap,
//! MADV_DONTNEED, mremap's shrink, exit) shoot down the mask's other harts
//! the same way before they put the pages (`zap`'s `mmu_gather` batch).
//! A recording hook snapshots the pages' state at each call: the flush
//! must come after the PTE change (the page is unmapped / clean in the
//! page table) and before the free (the page still holds a reference) or
//! the writeback.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use mm::filemap::{AddressSpace, File, FileBacking, MemFile, FMODE_READ, FMODE_WRITE};
use mm::mmap::*;
use mm::uaccess::{user_load, user_store};
use mm::vmstat::NodeStatItem;
use mm::{Cpu, Mem, PageFlags, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const RDWR: u32 = FMODE_READ | FMODE_WRITE;
/// The mm under test ran on harts 1 and 3.
const MASK: u64 = (1 << 1) | (1 << 3);

/// A host-`Vec` file that counts its page writes.
struct CountingFile {
    data: MemFile,
    writes: Arc<AtomicUsize>,
}

impl FileBacking for CountingFile {
    fn size(&self) -> u64 {
        self.data.size()
    }
    fn read_page(&self, index: u64, buf: &mut [u8; P]) -> Result<(), i32> {
        self.data.read_page(index, buf)
    }
    fn write_page(&self, index: u64, buf: &[u8; P]) -> Result<(), i32> {
        self.writes.fetch_add(1, Relaxed);
        self.data.write_page(index, buf)
    }
    fn set_size(&self, size: u64) -> Result<(), i32> {
        self.data.set_size(size)
    }
}

/// A tracked page's state when the hook ran.
#[derive(Clone, Copy, Debug)]
struct PageState {
    refcount: i32,
    mapcount: i32,
    dirty: bool,
}

/// One call of the flush hook.
#[derive(Debug)]
struct Call {
    mask: u64,
    pages: Vec<PageState>,
    written: usize,
    file_pages: usize,
}

struct Recorder {
    calls: Arc<Mutex<Vec<Call>>>,
    tracked: Arc<Mutex<Vec<usize>>>,
    writes: Arc<AtomicUsize>,
}

/// Install a hook on `mem` that records every call with the state of the
/// tracked pfns.
fn record(mem: &Mem) -> Recorder {
    let r = Recorder {
        calls: Arc::default(),
        tracked: Arc::default(),
        writes: Arc::default(),
    };
    let (calls, tracked, writes) = (r.calls.clone(), r.tracked.clone(), r.writes.clone());
    let mp = mem as *const Mem as usize;
    mem.set_tlb_flush_hook(Box::new(move |mask, _range| {
        // SAFETY: the hook is owned by this `Mem` and only called through
        // it, so the `Mem` is alive while the hook runs.
        let mem = unsafe { &*(mp as *const Mem) };
        let pages = tracked
            .lock()
            .unwrap()
            .iter()
            .map(|&pfn| {
                let p = mem.pfn_to_page(pfn).unwrap();
                PageState {
                    refcount: p.refcount(),
                    mapcount: p.mapcount(),
                    dirty: p.flags().contains(PageFlags::DIRTY),
                }
            })
            .collect();
        calls.lock().unwrap().push(Call {
            mask,
            pages,
            written: writes.load(Relaxed),
            file_pages: mem.vmstat.get(NodeStatItem::NrFilePages),
        });
    }));
    r
}

/// 16 MiB, one CPU, the mm caches and the zero page set up.
fn boot_small() -> common::Kernel {
    let k = common::boot_quiet(16 << 20, 1);
    {
        let cpu = k.mem.cpu(0).unwrap();
        mm::mmap::init_caches(&k.mem).unwrap();
        mm::fault::init(&cpu).unwrap();
    }
    k
}

/// The pfn `va` maps in `mm`.
fn pfn_of(mm: &MmStruct<'_>, va: usize) -> usize {
    let g = mm.page_table_lock.lock();
    let e = g.pt.as_ref().unwrap().lookup(va).unwrap();
    assert!(e.is_present());
    e.pfn() as usize
}

/// An mm on harts 1 and 3 with `pages` pages of a `file_pages`-page file
/// mapped MAP_SHARED, the first `written` of them written (dirty), the
/// others read (clean).
fn setup<'m>(
    cpu: &Cpu<'m>,
    mem: &'m Mem,
    rec: &Recorder,
    file_pages: usize,
    pages: usize,
    written: usize,
) -> (MmBox<'m>, Box<AddressSpace<'m>>, usize) {
    let mm = MmStruct::new(cpu).unwrap();
    mm.mm_cpumask_set_cpu(1);
    mm.mm_cpumask_set_cpu(3);
    assert_eq!(mm.mm_cpumask(), MASK);
    let a = AddressSpace::new(
        mem,
        Box::new(CountingFile {
            data: MemFile::new(vec![0; file_pages * P]),
            writes: rec.writes.clone(),
        }),
    )
    .unwrap();
    let f = File::open(&a, RDWR);
    let va = mm
        .do_mmap_file(cpu, 0, pages * P, RW, MAP_SHARED, Some(&f), 0)
        .unwrap();
    for i in 0..pages {
        if i < written {
            user_store(cpu, &mm, va + i * P, &[i as u8 + 1; 8]).unwrap();
        } else {
            user_load(cpu, &mm, va + i * P, &mut [0; 8]).unwrap();
        }
    }
    (mm, a, va)
}

#[test]
fn page_mkclean_flushes_each_page_before_it_is_written_back() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    const N: usize = 4;
    let (mm, a, va) = setup(&cpu, mem, &rec, N, N, N);
    *rec.tracked.lock().unwrap() = (0..N).map(|i| pfn_of(&mm, va + i * P)).collect();
    assert!(rec.calls.lock().unwrap().is_empty());
    assert_eq!(a.writeback(&cpu).unwrap(), N);
    let calls = rec.calls.lock().unwrap();
    // One flush per page, of the mm's harts, each after the page's PTE
    // was cleaned and before the page was cleaned and written.
    assert_eq!(calls.len(), N, "{calls:#?}");
    for (i, c) in calls.iter().enumerate() {
        assert_eq!(c.mask, MASK);
        assert_eq!(c.written, i, "page {i} written before its flush");
        assert!(c.pages[i].dirty, "page {i} cleaned before its flush");
        assert!(c.pages[i].mapcount > 0);
    }
    drop(calls);
    // The PTEs are clean and read-only now.
    {
        let g = mm.page_table_lock.lock();
        for i in 0..N {
            let e = g.pt.as_ref().unwrap().lookup(va + i * P).unwrap();
            assert!(!e.is_write() && !e.is_dirty());
        }
    }
    mm.free(&cpu);
    a.release(&cpu);
}

#[test]
fn truncate_flushes_before_the_pages_are_freed() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    const N: usize = 4;
    let (mm, a, va) = setup(&cpu, mem, &rec, N, N, N);
    // A private mapping of the same pages, written: its copies are
    // anonymous pages whose only reference is the mapping.
    let f = File::open(&a, RDWR);
    let pva = mm
        .do_mmap_file(&cpu, 0, N * P, RW, MAP_PRIVATE, Some(&f), 0)
        .unwrap();
    for i in 0..N {
        user_store(&cpu, &mm, pva + i * P, &[0x55; 8]).unwrap();
    }
    let mut pfns: Vec<usize> = (0..N).map(|i| pfn_of(&mm, va + i * P)).collect();
    pfns.extend((0..N).map(|i| pfn_of(&mm, pva + i * P)));
    assert!(
        pfns[..N].iter().all(|p| !pfns[N..].contains(p)),
        "not copied"
    );
    *rec.tracked.lock().unwrap() = pfns.clone();
    let cached = mem.vmstat.get(NodeStatItem::NrFilePages);
    a.truncate(&cpu, 0).unwrap();
    let calls = rec.calls.lock().unwrap();
    // One flush per VMA that had pages unmapped (the private one first:
    // `i_mmap` is newest first), before the cache dropped its pages.
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for c in calls.iter() {
        assert_eq!(c.mask, MASK);
        assert_eq!(c.file_pages, cached);
    }
    // The flush after a page's unmap comes before its free: at the first
    // flush that sees it unmapped, the page is still held (the private
    // copies, whose only reference was the mapping, by the walker).
    for i in 0..2 * N {
        let c = calls
            .iter()
            .find(|c| c.pages[i].mapcount == 0)
            .unwrap_or_else(|| panic!("page {i} unmapped with no flush: {calls:#?}"));
        assert!(
            c.pages[i].refcount > 0,
            "page {i} freed before the flush: {c:?}"
        );
    }
    drop(calls);
    // And afterwards every one of them is gone.
    for &pfn in &pfns {
        assert_eq!(mem.pfn_to_page(pfn).unwrap().refcount(), 0);
    }
    assert_eq!(a.nrpages(), 0);
    mm.free(&cpu);
    a.release(&cpu);
}

#[test]
fn reclaim_flushes_before_writeback_and_before_the_frees() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    // Half the pages dirty (flushed before their writeback), half clean
    // (flushed once for the batch, before the frees).
    const N: usize = 8;
    let (mm, a, va) = setup(&cpu, mem, &rec, N, N, N / 2);
    let pfns: Vec<usize> = (0..N).map(|i| pfn_of(&mm, va + i * P)).collect();
    *rec.tracked.lock().unwrap() = pfns.clone();
    // Several passes: the first ones only age the accessed bits.
    let mut freed = 0;
    for _ in 0..8 {
        freed += mm::vmscan::try_to_free_pages(&cpu, N);
        if freed >= N {
            break;
        }
    }
    assert_eq!(freed, N, "reclaimed {freed} of {N}");
    assert_eq!(a.nrpages(), 0);
    assert_eq!(rec.writes.load(Relaxed), N / 2, "dirty pages written back");
    let calls = rec.calls.lock().unwrap();
    assert!(!calls.is_empty());
    assert!(calls.iter().all(|c| c.mask == MASK), "{calls:#?}");
    // The first flush comes before the first writeback (a dirty PTE was
    // removed: `try_to_unmap_flush_dirty`).
    assert_eq!(calls[0].written, 0, "written back before the flush");
    // Each page was flushed while unmapped and still held, and is freed
    // now.
    for (i, &pfn) in pfns.iter().enumerate() {
        assert!(
            calls
                .iter()
                .any(|c| c.pages[i].mapcount == 0 && c.pages[i].refcount > 0),
            "page {i} freed with no flush between its unmap and its free: {calls:#?}"
        );
        assert_eq!(mem.pfn_to_page(pfn).unwrap().refcount(), 0, "page {i}");
    }
    drop(calls);
    mm.free(&cpu);
    a.release(&cpu);
}

#[test]
fn the_mm_cpumask_is_the_pending_flushs_harts() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    assert_eq!(mm.mm_cpumask(), 0);
    mm.mm_cpumask_set_cpu(2);
    mm.mm_cpumask_set_cpu(70); // past 63: shares bit 63
    let va = mm
        .do_mmap(&cpu, 0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS)
        .unwrap();
    user_store(&cpu, &mm, va, &[1; 8]).unwrap();
    mm.do_munmap(&cpu, va, P).unwrap();
    let f = mm.take_tlb_flush();
    assert_eq!(f.cpus(), (1 << 2) | (1 << 63));
    assert!(f.covers(va));
    mm.free(&cpu);
}

/// An mm on harts 1 and 3 (the test runs on CPU 0) with `n` private
/// anonymous pages written at the returned address, tracked by `rec`.
fn anon_setup<'m>(cpu: &Cpu<'m>, rec: &Recorder, n: usize) -> (MmBox<'m>, usize, Vec<usize>) {
    let mm = MmStruct::new(cpu).unwrap();
    mm.mm_cpumask_set_cpu(1);
    mm.mm_cpumask_set_cpu(3);
    let va = mm
        .do_mmap(cpu, 0, n * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)
        .unwrap();
    for i in 0..n {
        user_store(cpu, &mm, va + i * P, &[i as u8 + 1; 8]).unwrap();
    }
    let pfns: Vec<usize> = (0..n).map(|i| pfn_of(&mm, va + i * P)).collect();
    *rec.tracked.lock().unwrap() = pfns.clone();
    (mm, va, pfns)
}

/// Each of `pfns` (tracked by `rec` from `first` on) was seen unmapped
/// and still held by a flush of the mm's other harts (`MASK`), and is
/// free now: the mm's own unmap put it only after the shootdown.
fn assert_flushed_before_freed(mem: &Mem, rec: &Recorder, pfns: &[usize], first: usize) {
    let calls = rec.calls.lock().unwrap();
    assert!(!calls.is_empty(), "no shootdown");
    assert!(calls.iter().all(|c| c.mask == MASK), "{calls:#?}");
    for (i, &pfn) in pfns.iter().enumerate() {
        let i = first + i;
        assert!(
            calls
                .iter()
                .any(|c| c.pages[i].mapcount == 0 && c.pages[i].refcount > 0),
            "page {i} freed with no shootdown between its unmap and its free: {calls:#?}"
        );
        assert_eq!(mem.pfn_to_page(pfn).unwrap().refcount(), 0, "page {i}");
    }
}

#[test]
fn munmap_shoots_down_the_other_harts_before_the_pages_are_freed() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    // More than one batch of pages.
    const N: usize = 150;
    let (mm, va, pfns) = anon_setup(&cpu, &rec, N);
    assert!(rec.calls.lock().unwrap().is_empty());
    mm.do_munmap(&cpu, va, N * P).unwrap();
    assert_flushed_before_freed(mem, &rec, &pfns, 0);
    {
        let calls = rec.calls.lock().unwrap();
        // One shootdown per full batch of 64 and one at the end.
        assert_eq!(calls.len(), N.div_ceil(64), "{calls:#?}");
        // Pages are put a batch at a time, after the flush.
        assert_eq!(calls[0].pages.iter().filter(|p| p.refcount == 0).count(), 0);
    }
    // The local hart's flush is still pending for the return to user mode.
    let f = mm.take_tlb_flush();
    assert!(f.covers(va) && f.covers(va + (N - 1) * P));
    mm.free(&cpu);
}

#[test]
fn madvise_dontneed_shoots_down_before_the_pages_are_freed() {
    use mm::mmap::madvise::MADV_DONTNEED;
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    const N: usize = 8;
    let (mm, va, pfns) = anon_setup(&cpu, &rec, N);
    mm.madvise(&cpu, va, N * P, MADV_DONTNEED).unwrap();
    assert_flushed_before_freed(mem, &rec, &pfns, 0);
    assert_eq!(rec.calls.lock().unwrap().len(), 1);
    mm.free(&cpu);
}

#[test]
fn mremap_shrink_shoots_down_before_the_tail_is_freed() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    const N: usize = 8;
    let (mm, va, pfns) = anon_setup(&cpu, &rec, N);
    assert_eq!(mm.mremap(&cpu, va, N * P, 2 * P, 0, 0), Ok(va));
    assert_flushed_before_freed(mem, &rec, &pfns[2..], 2);
    // The pages kept are still mapped and held.
    for &pfn in &pfns[..2] {
        assert_eq!(mem.pfn_to_page(pfn).unwrap().refcount(), 1);
    }
    mm.free(&cpu);
}

#[test]
fn exit_mmap_shoots_down_before_the_pages_are_freed() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    const N: usize = 8;
    let (mm, _va, pfns) = anon_setup(&cpu, &rec, N);
    mm.free(&cpu);
    assert_flushed_before_freed(mem, &rec, &pfns, 0);
}

#[test]
fn an_mm_only_on_this_hart_is_not_shot_down() {
    let k = boot_small();
    let mem = &k.mem;
    let rec = record(mem);
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    mm.mm_cpumask_set_cpu(0);
    let va = mm
        .do_mmap(&cpu, 0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)
        .unwrap();
    for i in 0..4 {
        user_store(&cpu, &mm, va + i * P, &[1; 8]).unwrap();
    }
    mm.do_munmap(&cpu, va, 2 * P).unwrap();
    // Only this hart ran the mm: its flush is pending, nobody is shot down.
    assert!(rec.calls.lock().unwrap().is_empty());
    assert!(mm.take_tlb_flush().covers(va));
    // Another hart joins: it is flushed, this one is not.
    mm.mm_cpumask_set_cpu(5);
    mm.do_munmap(&cpu, va + 2 * P, 2 * P).unwrap();
    let calls = rec.calls.lock().unwrap();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].mask, 1 << 5);
    drop(calls);
    mm.free(&cpu);
}
