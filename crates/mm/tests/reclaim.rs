//! The LRU lists and reclaim (mm/vmscan.rs) and the page cache's lifetime
//! (filemap's `iput` → evict): pages join and leave the lists, the
//! meminfo LRU lines add up, `mark_page_accessed` activates, reclaim frees
//! clean and dirty file pages under pressure (writing dirty ones back,
//! unmapping mapped ones) and never anonymous ones, and the last reference
//! to a counted page cache writes it back (unless the file is deleted) and
//! frees every page.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use mm::fault::FaultError;
use mm::filemap::{iput, AddressSpace, File, FileBacking, MemFile, FMODE_READ, FMODE_WRITE};
use mm::mmap::*;
use mm::uaccess::{user_load, user_store};
use mm::vmscan::{lru_sizes, mark_page_accessed, LruList};
use mm::vmstat::{NodeStatItem, VmEventItem};
use mm::{Cpu, Mem, PageFlags, PAGE_SIZE};

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const RDWR: u32 = FMODE_READ | FMODE_WRITE;

/// A host-`Vec` file that reports its link count and its eviction.
struct TestFile {
    data: Arc<MemFile>,
    nlink: Arc<AtomicU64>,
    evicted: Arc<AtomicBool>,
}

impl FileBacking for TestFile {
    fn size(&self) -> u64 {
        self.data.size()
    }
    fn read_page(&self, index: u64, buf: &mut [u8; P]) -> Result<(), i32> {
        self.data.read_page(index, buf)
    }
    fn write_page(&self, index: u64, buf: &[u8; P]) -> Result<(), i32> {
        self.data.write_page(index, buf)
    }
    fn nlink(&self) -> u64 {
        self.nlink.load(Relaxed)
    }
    fn evict(&self) {
        assert!(!self.evicted.swap(true, Relaxed), "evicted twice");
    }
}

struct Handles {
    data: Arc<MemFile>,
    nlink: Arc<AtomicU64>,
    evicted: Arc<AtomicBool>,
}

/// A counted page cache over a zeroed file of `pages` pages.
fn counted(mem: &Mem, pages: usize) -> (&AddressSpace<'_>, Handles) {
    let h = Handles {
        data: Arc::new(MemFile::new(vec![0; pages * P])),
        nlink: Arc::new(AtomicU64::new(1)),
        evicted: Arc::new(AtomicBool::new(false)),
    };
    let f = TestFile {
        data: h.data.clone(),
        nlink: h.nlink.clone(),
        evicted: h.evicted.clone(),
    };
    (AddressSpace::new_counted(mem, Box::new(f)).unwrap(), h)
}

fn sizes(mem: &Mem) -> [usize; 5] {
    lru_sizes(mem)
}

fn lru(mem: &Mem, l: LruList) -> usize {
    sizes(mem)[l as usize]
}

fn meminfo(mem: &Mem, label: &str) -> usize {
    mm::proc::meminfo_fields(mem)
        .into_iter()
        .find(|(l, _)| *l == label)
        .unwrap_or_else(|| panic!("{label}"))
        .1
}

fn vmstat(mem: &Mem, name: &str) -> usize {
    mm::proc::vmstat_fields(mem)
        .into_iter()
        .find(|(l, _)| *l == name)
        .unwrap_or_else(|| panic!("{name}"))
        .1
}

/// The meminfo LRU lines: the sums add up and match the lists.
fn check_meminfo_adds_up(mem: &Mem) {
    let s = sizes(mem);
    let kb = P / 1024;
    let g = |l: &str| meminfo(mem, l);
    assert_eq!(g("Active"), g("Active(anon)") + g("Active(file)"));
    assert_eq!(g("Inactive"), g("Inactive(anon)") + g("Inactive(file)"));
    assert_eq!(g("Active(anon)"), s[LruList::ActiveAnon as usize] * kb);
    assert_eq!(g("Inactive(anon)"), s[LruList::InactiveAnon as usize] * kb);
    assert_eq!(g("Active(file)"), s[LruList::ActiveFile as usize] * kb);
    assert_eq!(g("Inactive(file)"), s[LruList::InactiveFile as usize] * kb);
    assert_eq!(g("Unevictable"), s[LruList::Unevictable as usize] * kb);
    // Every page-cache and anonymous page is on exactly one list.
    let listed: usize = s.iter().sum();
    assert_eq!(
        listed,
        mem.vmstat.get(NodeStatItem::NrFilePages) + mem.vmstat.get(NodeStatItem::NrAnonMapped)
    );
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

fn store_u64(cpu: &Cpu<'_>, mm: &MmStruct<'_>, va: usize, v: u64) -> Result<(), FaultError> {
    user_store(cpu, mm, va, &v.to_le_bytes()).map(|_| ())
}

fn load_u64(cpu: &Cpu<'_>, mm: &MmStruct<'_>, va: usize) -> u64 {
    let mut b = [0u8; 8];
    user_load(cpu, mm, va, &mut b).unwrap();
    u64::from_le_bytes(b)
}

#[test]
fn pages_join_and_leave_the_lists_and_meminfo_adds_up() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let base = sizes(mem);
    check_meminfo_adds_up(mem);
    let (a, _h) = counted(mem, 8);
    // Page-cache insertion: the inactive file list.
    for i in 0..8 {
        let p = a.read_cache_page(&cpu, i).unwrap();
        assert!(p.flags().contains(PageFlags::LRU));
        assert!(!p.flags().contains(PageFlags::ACTIVE));
        cpu.put_page(p).unwrap();
    }
    assert_eq!(lru(mem, LruList::InactiveFile), base[2] + 8);
    check_meminfo_adds_up(mem);
    // Used twice: activated.
    let act0 = vmstat(mem, "pgactivate");
    let p = a.find_get_page(3).unwrap();
    mark_page_accessed(mem, p);
    assert_eq!(lru(mem, LruList::ActiveFile), base[3]);
    mark_page_accessed(mem, p);
    assert!(p.flags().contains(PageFlags::ACTIVE));
    cpu.put_page(p).unwrap();
    assert_eq!(lru(mem, LruList::ActiveFile), base[3] + 1);
    assert_eq!(lru(mem, LruList::InactiveFile), base[2] + 7);
    assert_eq!(vmstat(mem, "pgactivate"), act0 + 1);
    check_meminfo_adds_up(mem);
    // Anonymous faults: the inactive anon list; pgfault counts them.
    let mm = MmStruct::new(&cpu).unwrap();
    let faults0 = vmstat(mem, "pgfault");
    let va = mm
        .do_mmap(&cpu, 0, 4 * P, RW, MAP_PRIVATE | MAP_ANONYMOUS)
        .unwrap();
    for i in 0..4 {
        store_u64(&cpu, &mm, va + i * P, 7).unwrap();
    }
    assert_eq!(lru(mem, LruList::InactiveAnon), base[0] + 4);
    assert!(vmstat(mem, "pgfault") >= faults0 + 4);
    check_meminfo_adds_up(mem);
    // Freed pages leave the lists: munmap, then the cache's last reference.
    mm.do_munmap(&cpu, va, 4 * P).unwrap();
    assert_eq!(lru(mem, LruList::InactiveAnon), base[0]);
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    assert_eq!(sizes(mem), base);
    check_meminfo_adds_up(mem);
    mm.free(&cpu);
}

#[test]
fn last_iput_writes_back_and_frees_the_cache() {
    let k = boot_small();
    let mem = &k.mem;
    let before = common::settle(mem);
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    let (a, h) = counted(mem, 16);
    let f = File::open(a, RDWR);
    let va = mm
        .do_mmap_file(&cpu, 0, 16 * P, RW, MAP_SHARED, Some(&f), 0)
        .unwrap();
    // The VMA holds its own reference: dropping ours keeps the cache.
    assert_eq!(a.i_count(), 2);
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    for i in 0..16 {
        store_u64(&cpu, &mm, va + i * P, 0x1111 * (i as u64 + 1)).unwrap();
    }
    assert!(!h.evicted.load(Relaxed));
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFilePages), 16);
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFileDirty), 16);
    // The last VMA goes: written back (the file has a link), freed.
    mm.do_munmap(&cpu, va, 16 * P).unwrap();
    assert!(h.evicted.load(Relaxed));
    let data = h.data.contents();
    for i in 0..16 {
        let w = u64::from_le_bytes(data[i * P..i * P + 8].try_into().unwrap());
        assert_eq!(w, 0x1111 * (i as u64 + 1), "page {i}");
    }
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFilePages), 0);
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFileDirty), 0);
    mm.free(&cpu);
    drop(cpu);
    assert_eq!(common::settle(mem), before, "pages or objects leaked");
}

#[test]
fn a_deleted_files_pages_are_freed_without_writeback() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    let (a, h) = counted(mem, 4);
    let f = File::open(a, RDWR);
    let va = mm
        .do_mmap_file(&cpu, 0, 4 * P, RW, MAP_SHARED, Some(&f), 0)
        .unwrap();
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    store_u64(&cpu, &mm, va, 0xdead).unwrap();
    h.nlink.store(0, Relaxed);
    mm.do_munmap(&cpu, va, 4 * P).unwrap();
    assert!(h.evicted.load(Relaxed));
    assert!(h.data.contents().iter().all(|&b| b == 0), "written back");
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFilePages), 0);
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFileDirty), 0);
    mm.free(&cpu);
}

#[test]
fn igrab_fails_once_the_last_reference_is_gone() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let (a, h) = counted(mem, 1);
    assert!(a.igrab());
    assert_eq!(a.i_count(), 2);
    // SAFETY: the reference igrab took.
    unsafe { iput(&cpu, a) };
    assert!(!h.evicted.load(Relaxed));
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    assert!(h.evicted.load(Relaxed));
}

/// A shared file mapping four times the RAM, written page by page and
/// read back: reclaim must write dirty pages back and free them (the run
/// would end in Oom otherwise), and what is read back is what was written.
#[test]
fn reclaim_writes_back_and_frees_dirty_shared_pages() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let pages = (64 << 20) / P;
    let mm = MmStruct::new(&cpu).unwrap();
    let (a, h) = counted(mem, pages);
    let f = File::open(a, RDWR);
    let va = mm
        .do_mmap_file(&cpu, 0, pages * P, RW, MAP_SHARED, Some(&f), 0)
        .unwrap();
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    let ev = |e| mem.vmstat.event(e);
    let steal0 = ev(VmEventItem::PgStealKswapd) + ev(VmEventItem::PgStealDirect);
    let write0 = vmstat(mem, "nr_vmscan_write");
    for i in 0..pages {
        store_u64(&cpu, &mm, va + i * P, i as u64 ^ 0xabcd)
            .unwrap_or_else(|e| panic!("page {i}: {e:?}"));
    }
    let scanned = ev(VmEventItem::PgScanKswapd) + ev(VmEventItem::PgScanDirect);
    let stolen = ev(VmEventItem::PgStealKswapd) + ev(VmEventItem::PgStealDirect) - steal0;
    assert!(stolen >= pages / 2, "reclaimed {stolen} of {pages}");
    assert!(scanned >= stolen);
    assert!(vmstat(mem, "nr_vmscan_write") >= write0 + pages / 2);
    assert!(mem.vmstat.get(NodeStatItem::NrFilePages) < (16 << 20) / P);
    check_meminfo_adds_up(mem);
    // Read back: the reclaimed pages come from the file again.
    let maj0 = vmstat(mem, "pgmajfault");
    for i in 0..pages {
        assert_eq!(
            load_u64(&cpu, &mm, va + i * P),
            i as u64 ^ 0xabcd,
            "page {i}"
        );
    }
    assert!(vmstat(mem, "pgmajfault") > maj0);
    mm.do_munmap(&cpu, va, pages * P).unwrap();
    assert!(h.evicted.load(Relaxed));
    let data = h.data.contents();
    for i in 0..pages {
        let w = u64::from_le_bytes(data[i * P..i * P + 8].try_into().unwrap());
        assert_eq!(w, i as u64 ^ 0xabcd, "page {i} on the file");
    }
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFilePages), 0);
    mm.free(&cpu);
}

/// Clean pages read through a private mapping larger than RAM are
/// reclaimed; the active list is aged into the inactive one.
#[test]
fn reclaim_streams_a_read_only_mapping_larger_than_ram() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let pages = (48 << 20) / P;
    let mm = MmStruct::new(&cpu).unwrap();
    let (a, h) = counted(mem, pages);
    for i in 0..pages {
        h.data.write_page(i as u64, &[(i % 251) as u8; P]).unwrap();
    }
    let f = File::open(a, FMODE_READ);
    let va = mm
        .do_mmap_file(&cpu, 0, pages * P, PROT_READ, MAP_PRIVATE, Some(&f), 0)
        .unwrap();
    // Activate 8 MiB of pages first: the active list outgrows the
    // inactive one, so reclaim must deactivate.
    for i in 0..2048 {
        let p = a.read_cache_page(&cpu, i).unwrap();
        mark_page_accessed(mem, p);
        mark_page_accessed(mem, p);
        cpu.put_page(p).unwrap();
    }
    let deact0 = vmstat(mem, "pgdeactivate");
    for round in 0..2 {
        for i in 0..pages {
            let mut b = [0u8; 1];
            user_load(&cpu, &mm, va + i * P + 17, &mut b).unwrap();
            assert_eq!(b[0], (i % 251) as u8, "round {round} page {i}");
        }
    }
    assert!(vmstat(mem, "pgsteal_kswapd") + vmstat(mem, "pgsteal_direct") >= pages);
    assert!(vmstat(mem, "pgdeactivate") > deact0);
    check_meminfo_adds_up(mem);
    mm.do_munmap(&cpu, va, pages * P).unwrap();
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    assert!(h.evicted.load(Relaxed));
    mm.free(&cpu);
}

/// Anonymous memory is never reclaimed (no swap): filling RAM with it
/// ends in Oom, with the anonymous pages still on their list.
#[test]
fn anonymous_pages_are_not_reclaimed() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    let len = 32 << 20;
    let va = mm
        .do_mmap(&cpu, 0, len, RW, MAP_PRIVATE | MAP_ANONYMOUS)
        .unwrap();
    let mut oom = false;
    for i in 0..len / P {
        match store_u64(&cpu, &mm, va + i * P, 1) {
            Ok(()) => {}
            Err(FaultError::Oom) => {
                oom = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(oom, "32 MiB of anonymous memory fit in 16 MiB");
    assert_eq!(
        lru(mem, LruList::InactiveAnon) + lru(mem, LruList::ActiveAnon),
        mem.vmstat.get(NodeStatItem::NrAnonMapped)
    );
    check_meminfo_adds_up(mem);
    mm.do_munmap(&cpu, va, len).unwrap();
    mm.free(&cpu);
}

/// Page-cache objects live in slab caches: /proc/slabinfo counts them.
#[test]
fn page_cache_objects_come_from_slab_caches() {
    let k = boot_small();
    let mem = &k.mem;
    let active = |name: &str| {
        mem.slabinfo()
            .into_iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no {name} in slabinfo"))
            .active_objs
    };
    common::settle(mem);
    let (files0, shmem0) = (active("inode_cache"), active("shmem_inode_cache"));
    let cpu = mem.cpu(0).unwrap();
    let (a, _h) = counted(mem, 1);
    assert_eq!(active("inode_cache"), files0 + 1);
    let mm = MmStruct::new(&cpu).unwrap();
    let va = mm
        .do_mmap(&cpu, 0, 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS)
        .unwrap();
    assert_eq!(active("shmem_inode_cache"), shmem0 + 1);
    mm.do_munmap(&cpu, va, 4 * P).unwrap();
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    mm.free(&cpu);
    assert!(mm::proc::slabinfo(mem).contains("\ninode_cache "));
    // Freed: back once the per-CPU object caches are drained (SLAB counts
    // their objects as active).
    drop(cpu);
    common::settle(mem);
    assert_eq!(active("shmem_inode_cache"), shmem0);
    assert_eq!(active("inode_cache"), files0);
}

/// Pages of an mlocked file area are not reclaimed: reclaim moves them to
/// the unevictable list, and back once munlock'ed.
#[test]
fn mlocked_file_pages_go_unevictable_and_stay_mapped() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let mm = MmStruct::new(&cpu).unwrap();
    let locked_pages = 64;
    let (l, _lh) = counted(mem, locked_pages);
    let fl = File::open(l, RDWR);
    let lva = mm
        .do_mmap_file(&cpu, 0, locked_pages * P, RW, MAP_SHARED, Some(&fl), 0)
        .unwrap();
    mm.mlock(&cpu, lva, locked_pages * P).unwrap();
    // Stream another file four times the RAM past it, twice.
    let pages = (64 << 20) / P;
    let (a, _h) = counted(mem, pages);
    let f = File::open(a, FMODE_READ);
    let va = mm
        .do_mmap_file(&cpu, 0, pages * P, PROT_READ, MAP_SHARED, Some(&f), 0)
        .unwrap();
    for _ in 0..2 {
        for i in 0..pages {
            let mut b = [0u8; 1];
            user_load(&cpu, &mm, va + i * P, &mut b).unwrap();
        }
    }
    assert!(lru(mem, LruList::Unevictable) > 0, "{:?}", sizes(mem));
    for i in 0..locked_pages {
        let e = common::pte(&mm, lva + i * P).expect("mlocked page unmapped");
        assert!(e.is_present(), "mlocked page {i} unmapped");
    }
    assert_eq!(l.nrpages(), locked_pages);
    check_meminfo_adds_up(mem);
    // munlock: reclaim finds them evictable again.
    mm.munlock(&cpu, lva, locked_pages * P).unwrap();
    for i in 0..pages {
        let mut b = [0u8; 1];
        user_load(&cpu, &mm, va + i * P, &mut b).unwrap();
    }
    assert_eq!(lru(mem, LruList::Unevictable), 0, "{:?}", sizes(mem));
    mm.do_munmap(&cpu, va, pages * P).unwrap();
    mm.do_munmap(&cpu, lva, locked_pages * P).unwrap();
    // SAFETY: our references from `new_counted`.
    unsafe {
        iput(&cpu, a);
        iput(&cpu, l);
    }
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFilePages), 0);
    mm.free(&cpu);
}

/// A forked child's VMAs hold the file too: the cache lives until the
/// last mm that maps it exits.
#[test]
fn fork_and_exit_hold_and_drop_the_cache() {
    let k = boot_small();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let parent = MmStruct::new(&cpu).unwrap();
    let (a, h) = counted(mem, 4);
    let f = File::open(a, RDWR);
    let va = parent
        .do_mmap_file(&cpu, 0, 4 * P, RW, MAP_SHARED, Some(&f), 0)
        .unwrap();
    store_u64(&cpu, &parent, va, 42).unwrap();
    let child = mm::fork::dup_mm(&cpu, &parent).unwrap();
    assert_eq!(a.i_count(), 3);
    // SAFETY: our reference from `new_counted`.
    unsafe { iput(&cpu, a) };
    parent.free(&cpu);
    assert!(!h.evicted.load(Relaxed));
    assert_eq!(load_u64(&cpu, &child, va), 42);
    child.free(&cpu);
    assert!(h.evicted.load(Relaxed));
    assert_eq!(&h.data.contents()[..8], &42u64.to_le_bytes());
    assert_eq!(mem.vmstat.get(NodeStatItem::NrFilePages), 0);
}
