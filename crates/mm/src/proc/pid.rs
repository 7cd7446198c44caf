//! The per-process views computed from a live address space: the rows of
//! `/proc/PID/maps`, `/proc/PID/smaps`, the memory block of
//! `/proc/PID/status` and `pmap`, from an [`MmStruct`] (fs/proc/task_mmu.c
//! `show_map_vma`, `show_smap`, `smaps_pte_entry`, `smaps_account`,
//! `task_mem`). The formatting is the pure formatters' ([`super::pid_maps`],
//! [`super::pid_smaps`], [`super::pid_status`], [`super::pmap`]).
//!
//! Names follow Linux's `get_vma_name`: a file first, then `[heap]` for a
//! VMA with `vm_start <= brk && vm_end >= start_brk`, then `[stack]` for a
//! VMA with `vm_start <= start_stack && vm_end >= start_stack`. ferrite has
//! no files yet; a `MAP_SHARED` anonymous area, which Linux backs by a shmem
//! file named `dev/zero` and shows as `/dev/zero (deleted)` on device
//! `00:01`, is shown the same way, with its shmem identity as the inode and
//! `vm_pgoff << 12` as the offset. Areas with `vm_ops` (file mappings)
//! show `vm_pgoff << 12` as the offset and no name, since ferrite's files
//! have no path or inode number yet. Anonymous areas have offset 0, device
//! `00:00` and inode 0, as Linux prints for areas without a file (Linux
//! takes the offset from `vm_pgoff` only when there is a file).
//!
//! smaps walks the page table of each VMA: pages `vm_normal_page` would
//! return (present, not special, accounted: [`crate::fault::mapped_page`])
//! count; the zero page does not, as in Linux. Pss divides each page's
//! 4 KiB by its mapcount in Linux's fixed point (`PSS_SHIFT` 12); a page is
//! private when its refcount is 1 or its mapcount below 2. Dirty is the
//! PTE's D bit or `PG_dirty`, Referenced the A bit or `PG_referenced`.
//!
//! Where ferrite differs: no swap (Swap, SwapPss, VmSwap are the swap
//! counter, 0), no KSM, no THP (THPeligible 0), no hugetlb, no pinning
//! (VmPin 0); LazyFree is 0 because ferrite does not track `PG_swapbacked`
//! (Linux counts clean anonymous pages without it, i.e. after MADV_FREE)
//! and MADV_FREE leaves pages as they are. VmPeak and VmHWM are the
//! larger of `hiwater_vm`/`hiwater_rss` (updated before `total_vm` or the
//! RSS drops, as Linux's `update_hiwater_vm`/`update_hiwater_rss`) and
//! the current values.
//!
//! Locking: the `*_locked` forms take the mmap state the caller already
//! holds (a caller with a CPU guard takes it with
//! [`MmStruct::mmap_read_lock`]); the others take the mmap lock for reading
//! themselves, spinning without serving CPU requests, so a thread holding a
//! CPU guard that another CPU may drain should use the `*_locked` forms. The
//! page-table lock is taken inside, for the walk.

use alloc::string::String;
use alloc::vec::Vec;

use super::pid_maps::{format_maps, MapsRow};
use super::pid_smaps::{format_smaps, vm_flags_mnemonics, SmapsRow};
use super::pid_status::{format_status_mem, StatusMem};
use super::pmap::{format_pmap, format_pmap_d, format_pmap_x, PmapRow};
use crate::fault::{mapped_page, next_pte};
use crate::mmap::{MmStruct, MmapState, RssCounter, VmAreaStruct, VmFlags};
use crate::page::{PageFlags, PAGE_SHIFT, PAGE_SIZE};
use crate::pgtable::PageTable;
use crate::rmap::page_anon;

/// Linux's `PSS_SHIFT`: Pss is accumulated in bytes << 12.
pub const PSS_SHIFT: u32 = 12;

/// The name Linux gives the shmem file behind a `MAP_SHARED` anonymous
/// mapping, as maps shows it.
pub const SHMEM_ZERO_NAME: &str = "/dev/zero (deleted)";

/// Device minor of the internal shmem mount (`shm_mnt`) on a typical
/// system: anonymous superblocks are numbered from 00:01.
const SHMEM_DEV_MINOR: u32 = 1;

/// The maps row of `vma` in an mm whose layout is `st`.
fn maps_row(st: &MmapState<'_>, v: &VmAreaStruct) -> MapsRow {
    let f = v.vm_flags;
    let mut r = MapsRow {
        start: v.vm_start as u64,
        end: v.vm_end as u64,
        read: f.contains(VmFlags::VM_READ),
        write: f.contains(VmFlags::VM_WRITE),
        exec: f.contains(VmFlags::VM_EXEC),
        shared: f.contains(VmFlags::VM_MAYSHARE),
        ..MapsRow::default()
    };
    if v.shmem != 0 {
        // The shmem file of a shared anonymous mapping.
        r.offset = (v.vm_pgoff as u64) << PAGE_SHIFT;
        r.dev_minor = SHMEM_DEV_MINOR;
        r.inode = v.shmem;
        r.name = Some(String::from(SHMEM_ZERO_NAME));
    } else if !v.is_anonymous() {
        // A file (or device) area: named by its file when the file has a
        // name, and never [heap] or [stack] (Linux names it by its file
        // first).
        r.offset = (v.vm_pgoff as u64) << PAGE_SHIFT;
        if let Some(id) = crate::filemap::vma_file_identity(v.vm_file) {
            r.dev_major = id.dev_major;
            r.dev_minor = id.dev_minor;
            r.inode = id.ino;
            r.name = Some(id.path);
        }
    } else if v.vm_start <= st.brk && v.vm_end >= st.start_brk {
        r.name = Some(String::from("[heap]"));
    } else if v.vm_start <= st.start_stack && v.vm_end >= st.start_stack {
        r.name = Some(String::from("[stack]"));
    }
    r
}

/// `/proc/PID/maps` rows of the mm whose mmap state `st` the caller holds.
pub fn maps_rows_locked(st: &MmapState<'_>) -> Vec<MapsRow> {
    st.vmas().map(|v| maps_row(st, v)).collect()
}

/// `/proc/PID/maps` rows of `mm`, in address order.
pub fn maps_rows(mm: &MmStruct<'_>) -> Vec<MapsRow> {
    maps_rows_locked(&mm.mmap_lock.read())
}

/// `/proc/PID/maps` of `mm`.
pub fn proc_pid_maps(mm: &MmStruct<'_>) -> String {
    format_maps(&maps_rows(mm))
}

/// `struct mem_size_stats`: bytes, Pss in bytes << [`PSS_SHIFT`].
#[derive(Default)]
struct MemSizeStats {
    resident: u64,
    shared_clean: u64,
    shared_dirty: u64,
    private_clean: u64,
    private_dirty: u64,
    referenced: u64,
    anonymous: u64,
    pss: u64,
    pss_dirty: u64,
    pss_locked: u64,
}

impl MemSizeStats {
    /// `smaps_page_accumulate` for one page.
    fn accumulate(&mut self, pss: u64, dirty: bool, locked: bool, private: bool) {
        let size = PAGE_SIZE as u64;
        self.pss += pss;
        if locked {
            self.pss_locked += pss;
        }
        if dirty {
            self.pss_dirty += pss;
            if private {
                self.private_dirty += size;
            } else {
                self.shared_dirty += size;
            }
        } else if private {
            self.private_clean += size;
        } else {
            self.shared_clean += size;
        }
    }
}

/// `smap_gather_stats` for `vma`: walk its PTEs.
fn gather(pt: &PageTable<'_>, v: &VmAreaStruct) -> MemSizeStats {
    let mem = pt.mem();
    let mut mss = MemSizeStats::default();
    let locked = v.vm_flags.contains(VmFlags::VM_LOCKED);
    let size = PAGE_SIZE as u64;
    let mut va = v.vm_start;
    while let Some((a, e)) = next_pte(pt, va, v.vm_end) {
        va = a + PAGE_SIZE;
        // `vm_normal_page`: not the zero page, nor a special or unaccounted
        // frame.
        let Some(page) = mapped_page(mem, e) else {
            continue;
        };
        let flags = page.flags();
        let dirty = e.is_dirty() || flags.contains(PageFlags::DIRTY);
        if page_anon(page) {
            mss.anonymous += size;
        }
        mss.resident += size;
        if e.is_young() || flags.contains(PageFlags::REFERENCED) {
            mss.referenced += size;
        }
        let full = size << PSS_SHIFT;
        if page.refcount() == 1 {
            mss.accumulate(full, dirty, locked, true);
            continue;
        }
        let mapcount = page.mapcount();
        let pss = if mapcount >= 2 {
            full / mapcount as u64
        } else {
            full
        };
        mss.accumulate(pss, dirty, locked, mapcount < 2);
    }
    mss
}

/// The smaps entry of `vma` from its counters.
fn smaps_row(st: &MmapState<'_>, v: &VmAreaStruct, mss: &MemSizeStats) -> SmapsRow {
    SmapsRow {
        maps: maps_row(st, v),
        size_kb: ((v.vm_end - v.vm_start) >> 10) as u64,
        kernel_page_size_kb: (PAGE_SIZE >> 10) as u64,
        mmu_page_size_kb: (PAGE_SIZE >> 10) as u64,
        rss_kb: mss.resident >> 10,
        pss_kb: (mss.pss >> PSS_SHIFT) >> 10,
        pss_dirty_kb: (mss.pss_dirty >> PSS_SHIFT) >> 10,
        shared_clean_kb: mss.shared_clean >> 10,
        shared_dirty_kb: mss.shared_dirty >> 10,
        private_clean_kb: mss.private_clean >> 10,
        private_dirty_kb: mss.private_dirty >> 10,
        referenced_kb: mss.referenced >> 10,
        anonymous_kb: mss.anonymous >> 10,
        locked_kb: (mss.pss_locked >> PSS_SHIFT) >> 10,
        thp_eligible: false,
        vm_flags: vm_flags_mnemonics(v.vm_flags.bits() as u64),
        ..SmapsRow::default()
    }
}

/// `/proc/PID/smaps` entries of `mm`, whose mmap state `st` the caller
/// holds.
pub fn smaps_rows_locked(mm: &MmStruct<'_>, st: &MmapState<'_>) -> Vec<SmapsRow> {
    let pg = mm.page_table_lock.lock();
    st.vmas()
        .map(|v| {
            let mss = match pg.pt.as_ref() {
                Some(pt) => gather(pt, v),
                None => MemSizeStats::default(),
            };
            smaps_row(st, v, &mss)
        })
        .collect()
}

/// `/proc/PID/smaps` entries of `mm`, in address order.
pub fn smaps_rows(mm: &MmStruct<'_>) -> Vec<SmapsRow> {
    smaps_rows_locked(mm, &mm.mmap_lock.read())
}

/// `/proc/PID/smaps` of `mm`.
pub fn proc_pid_smaps(mm: &MmStruct<'_>) -> String {
    format_smaps(&smaps_rows(mm))
}

/// The `/proc/PID/status` memory counters (`task_mem`) of `mm`, whose mmap
/// state `st` the caller holds.
pub fn status_mem_locked(mm: &MmStruct<'_>, st: &MmapState<'_>) -> StatusMem {
    let kb = |pages: usize| (pages as u64) << (PAGE_SHIFT - 10);
    let anon = mm.get_mm_counter(RssCounter::AnonPages);
    let file = mm.get_mm_counter(RssCounter::FilePages);
    let shmem = mm.get_mm_counter(RssCounter::ShmemPages);
    let rss = anon + file + shmem;
    // Text: the page-rounded start_code..end_code, at most exec_vm.
    let exec = (st.exec_vm as u64) << PAGE_SHIFT;
    let end = ((st.end_code as u64) + PAGE_SIZE as u64 - 1) & !(PAGE_SIZE as u64 - 1);
    let text = end
        .saturating_sub(st.start_code as u64 & !(PAGE_SIZE as u64 - 1))
        .min(exec);
    let pte_bytes = mm
        .page_table_lock
        .lock()
        .pt
        .as_ref()
        .map_or(0, |pt| pt.pgtables_bytes());
    StatusMem {
        vm_peak: kb(st.get_mm_hiwater_vm()),
        vm_size: kb(st.total_vm),
        vm_lck: kb(st.locked_vm),
        vm_pin: 0,
        vm_hwm: kb(mm
            .hiwater_rss
            .load(core::sync::atomic::Ordering::Relaxed)
            .max(rss)),
        vm_rss: kb(rss),
        rss_anon: kb(anon),
        rss_file: kb(file),
        rss_shmem: kb(shmem),
        vm_data: kb(st.data_vm),
        vm_stk: kb(st.stack_vm),
        vm_exe: text >> 10,
        vm_lib: (exec - text) >> 10,
        vm_pte: (pte_bytes as u64) >> 10,
        vm_swap: kb(mm.get_mm_counter(RssCounter::SwapEnts)),
    }
}

/// The `/proc/PID/status` memory counters of `mm`.
pub fn status_mem(mm: &MmStruct<'_>) -> StatusMem {
    status_mem_locked(mm, &mm.mmap_lock.read())
}

/// The `VmPeak:` … `VmSwap:` lines of `/proc/PID/status` for `mm`.
pub fn proc_pid_status_mem(mm: &MmStruct<'_>) -> String {
    format_status_mem(&status_mem(mm))
}

/// The rows `pmap PID` and `pmap -d PID` show for `mm` (from maps).
pub fn pmap_rows(mm: &MmStruct<'_>) -> Vec<PmapRow> {
    let st = mm.mmap_lock.read();
    let ss = st.start_stack as u64;
    maps_rows_locked(&st)
        .iter()
        .map(|m| PmapRow::from_maps(m, ss))
        .collect()
}

/// The rows `pmap -x PID` shows for `mm` (from smaps).
pub fn pmap_x_rows(mm: &MmStruct<'_>) -> Vec<PmapRow> {
    let st = mm.mmap_lock.read();
    // pmap reads `start_stack` from /proc/PID/stat.
    let ss = st.start_stack as u64;
    smaps_rows_locked(mm, &st)
        .iter()
        .map(|s| PmapRow::from_smaps(s, ss))
        .collect()
}

/// `pmap PID` for process `pid` running `cmdline` in `mm`.
pub fn proc_pid_pmap(mm: &MmStruct<'_>, pid: u32, cmdline: &str) -> String {
    format_pmap(pid, cmdline, &pmap_rows(mm))
}

/// `pmap -x PID`.
pub fn proc_pid_pmap_x(mm: &MmStruct<'_>, pid: u32, cmdline: &str) -> String {
    format_pmap_x(pid, cmdline, &pmap_x_rows(mm))
}

/// `pmap -d PID`.
pub fn proc_pid_pmap_d(mm: &MmStruct<'_>, pid: u32, cmdline: &str) -> String {
    format_pmap_d(pid, cmdline, &pmap_rows(mm))
}
