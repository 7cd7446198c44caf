//! `madvise` (mm/madvise.c) for anonymous memory, with Linux's errno and
//! its walk over the areas of the range: each mapped part gets the advice,
//! and a range that covers unmapped pages fails with ENOMEM afterwards.
//!
//! Advice handled: `MADV_NORMAL`, `MADV_RANDOM`, `MADV_SEQUENTIAL` (the
//! read-ahead flags), `MADV_WILLNEED` (validates; nothing to read ahead),
//! `MADV_DONTNEED` and `MADV_DONTNEED_LOCKED` (the pages are zapped through
//! the routine munmap uses; the areas stay, so a later read sees zero
//! fill), `MADV_FREE` (validates; with no reclaim the pages simply stay,
//! which Linux allows), `MADV_REMOVE` (shared areas: zapped),
//! `MADV_DONTFORK`/`MADV_DOFORK`, `MADV_DONTDUMP`/`MADV_DODUMP`,
//! `MADV_WIPEONFORK`/`MADV_KEEPONFORK`, `MADV_COLD`/`MADV_PAGEOUT`
//! (validated only: they do not yet move pages on the LRU lists). Flag changes split the areas at the ends of the
//! range and merge back; a split refused for want of memory or at
//! `max_map_count` is EAGAIN, as in Linux.
//!
//! Where ferrite differs: advice that needs a feature ferrite lacks is
//! EINVAL, as on a Linux built without it (`MADV_MERGEABLE` without KSM,
//! `MADV_HUGEPAGE`/`MADV_COLLAPSE` without THP, `MADV_HWPOISON` without
//! memory-failure); `MADV_POPULATE_READ/WRITE` is EINVAL until the fault
//! layer can populate from here.

use super::errno::{EACCES, EINVAL, ENOMEM};
use super::mlock::page_align_wrap;
use super::{zap, MmStruct, MmapState, PgtState, VmAreaStruct, VmFlags};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

/// `MADV_NORMAL`.
pub const MADV_NORMAL: usize = 0;
/// `MADV_RANDOM`.
pub const MADV_RANDOM: usize = 1;
/// `MADV_SEQUENTIAL`.
pub const MADV_SEQUENTIAL: usize = 2;
/// `MADV_WILLNEED`.
pub const MADV_WILLNEED: usize = 3;
/// `MADV_DONTNEED`.
pub const MADV_DONTNEED: usize = 4;
/// `MADV_FREE`.
pub const MADV_FREE: usize = 8;
/// `MADV_REMOVE`.
pub const MADV_REMOVE: usize = 9;
/// `MADV_DONTFORK`.
pub const MADV_DONTFORK: usize = 10;
/// `MADV_DOFORK`.
pub const MADV_DOFORK: usize = 11;
/// `MADV_MERGEABLE` (KSM; not supported).
pub const MADV_MERGEABLE: usize = 12;
/// `MADV_UNMERGEABLE` (KSM; not supported).
pub const MADV_UNMERGEABLE: usize = 13;
/// `MADV_HUGEPAGE` (THP; not supported).
pub const MADV_HUGEPAGE: usize = 14;
/// `MADV_NOHUGEPAGE` (THP; not supported).
pub const MADV_NOHUGEPAGE: usize = 15;
/// `MADV_DONTDUMP`.
pub const MADV_DONTDUMP: usize = 16;
/// `MADV_DODUMP`.
pub const MADV_DODUMP: usize = 17;
/// `MADV_WIPEONFORK`.
pub const MADV_WIPEONFORK: usize = 18;
/// `MADV_KEEPONFORK`.
pub const MADV_KEEPONFORK: usize = 19;
/// `MADV_COLD`.
pub const MADV_COLD: usize = 20;
/// `MADV_PAGEOUT`.
pub const MADV_PAGEOUT: usize = 21;
/// `MADV_POPULATE_READ` (not supported yet).
pub const MADV_POPULATE_READ: usize = 22;
/// `MADV_POPULATE_WRITE` (not supported yet).
pub const MADV_POPULATE_WRITE: usize = 23;
/// `MADV_DONTNEED_LOCKED`.
pub const MADV_DONTNEED_LOCKED: usize = 24;
/// `MADV_COLLAPSE` (THP; not supported).
pub const MADV_COLLAPSE: usize = 25;
pub use super::errno::EAGAIN;

/// `madvise_behavior_valid` for the advice ferrite supports.
pub fn madvise_behavior_valid(advice: usize) -> bool {
    matches!(
        advice,
        MADV_NORMAL
            | MADV_RANDOM
            | MADV_SEQUENTIAL
            | MADV_WILLNEED
            | MADV_DONTNEED
            | MADV_FREE
            | MADV_REMOVE
            | MADV_DONTFORK
            | MADV_DOFORK
            | MADV_DONTDUMP
            | MADV_DODUMP
            | MADV_WIPEONFORK
            | MADV_KEEPONFORK
            | MADV_COLD
            | MADV_PAGEOUT
            | MADV_DONTNEED_LOCKED
    )
}

/// `can_madv_lru_vma`.
fn can_madv_lru(v: &VmAreaStruct) -> bool {
    !v.vm_flags
        .intersects(VmFlags::VM_LOCKED | VmFlags::VM_PFNMAP | VmFlags::VM_HUGETLB)
}

impl MmapState<'_> {
    /// `madvise(start, len, advice)`.
    pub fn madvise(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        start: usize,
        len_in: usize,
        advice: usize,
    ) -> Result<(), i32> {
        if !madvise_behavior_valid(advice) || start % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let len = page_align_wrap(len_in);
        if len_in != 0 && len == 0 {
            return Err(EINVAL);
        }
        let end = start.wrapping_add(len);
        if end < start {
            return Err(EINVAL);
        }
        if end == start {
            return Ok(());
        }
        let mut unmapped = Ok(());
        let mut s = start;
        let result = loop {
            let Some(v) = self.tree_vma(s).cloned() else {
                break Err(ENOMEM);
            };
            if s < v.vm_start {
                unmapped = Err(ENOMEM);
                s = v.vm_start;
                if s >= end {
                    break unmapped;
                }
            }
            let tmp = v.vm_end.min(end);
            if let Err(e) = self.madvise_vma(cpu, mm, &v, s, tmp, advice) {
                break Err(e);
            }
            s = tmp;
            if s >= end {
                break unmapped;
            }
        };
        self.merge_range(cpu, start, s.min(end));
        result
    }

    /// The advice for `[start, end)`, which lies inside the area `v`.
    fn madvise_vma(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        v: &VmAreaStruct,
        start: usize,
        end: usize,
        advice: usize,
    ) -> Result<(), i32> {
        let f = v.vm_flags;
        let newflags = match advice {
            MADV_WILLNEED => return Ok(()),
            MADV_DONTNEED | MADV_DONTNEED_LOCKED => {
                let ok = if advice == MADV_DONTNEED {
                    can_madv_lru(v)
                } else {
                    !f.intersects(VmFlags::VM_PFNMAP | VmFlags::VM_HUGETLB)
                };
                if !ok {
                    return Err(EINVAL);
                }
                self.zap_range(cpu, mm, v, start, end);
                return Ok(());
            }
            MADV_FREE => {
                // Only private anonymous memory can be freed lazily.
                if !can_madv_lru(v) || f.contains(VmFlags::VM_SHARED) || !v.is_anonymous() {
                    return Err(EINVAL);
                }
                return Ok(());
            }
            MADV_REMOVE => {
                if f.contains(VmFlags::VM_LOCKED) || !f.contains(VmFlags::VM_MAYSHARE) {
                    return Err(EINVAL);
                }
                if !f.contains(VmFlags::VM_SHARED | VmFlags::VM_MAYWRITE) {
                    return Err(EACCES);
                }
                self.zap_range(cpu, mm, v, start, end);
                if let (true, Some(file)) = (v.shmem != 0, v.vm_file) {
                    // Punch the hole in the shmem object: its pages no
                    // page table maps any more are freed.
                    let first = crate::rmap::linear_page_index(v, start);
                    let last = crate::rmap::linear_page_index(v, end);
                    // SAFETY: a VMA's `vm_file` names a live address space
                    // (the VMA's reference), and the VMA is ours (`&mut self`).
                    let m = unsafe { file.as_ref() };
                    m.punch_hole(cpu, first, last);
                }
                return Ok(());
            }
            MADV_COLD | MADV_PAGEOUT => {
                return if can_madv_lru(v) { Ok(()) } else { Err(EINVAL) };
            }
            MADV_NORMAL => f.difference(VmFlags::VM_RAND_READ | VmFlags::VM_SEQ_READ),
            MADV_SEQUENTIAL => f.difference(VmFlags::VM_RAND_READ) | VmFlags::VM_SEQ_READ,
            MADV_RANDOM => f.difference(VmFlags::VM_SEQ_READ) | VmFlags::VM_RAND_READ,
            MADV_DONTFORK => f | VmFlags::VM_DONTCOPY,
            MADV_DOFORK => {
                if f.contains(VmFlags::VM_IO) {
                    return Err(EINVAL);
                }
                f.difference(VmFlags::VM_DONTCOPY)
            }
            MADV_DONTDUMP => f | VmFlags::VM_DONTDUMP,
            MADV_DODUMP => {
                if f.intersects(VmFlags::VM_SPECIAL) && !f.contains(VmFlags::VM_HUGETLB) {
                    return Err(EINVAL);
                }
                f.difference(VmFlags::VM_DONTDUMP)
            }
            MADV_WIPEONFORK => {
                if !v.is_anonymous() || f.contains(VmFlags::VM_SHARED) {
                    return Err(EINVAL);
                }
                f | VmFlags::VM_WIPEONFORK
            }
            MADV_KEEPONFORK => f.difference(VmFlags::VM_WIPEONFORK),
            _ => return Err(EINVAL),
        };
        if newflags == f {
            return Ok(());
        }
        // madvise() reports a temporary shortage of kernel memory as EAGAIN.
        self.vma_modify_flags(cpu, start, end, newflags)
            .map_err(|e| if e == ENOMEM { EAGAIN } else { e })
    }

    /// Zap the pages of `[start, end)` of `v`, keeping the area
    /// (`zap_page_range_single`).
    fn zap_range(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        v: &VmAreaStruct,
        start: usize,
        end: usize,
    ) {
        let mut pg = mm.page_table_lock.lock();
        let PgtState { pt, tlb } = &mut *pg;
        if let Some(pt) = pt.as_mut() {
            zap(mm, pt, tlb, v, start, end, cpu);
        }
    }
}

impl MmStruct<'_> {
    /// `madvise(2)`.
    pub fn madvise(
        &self,
        cpu: &Cpu<'_>,
        start: usize,
        len: usize,
        advice: usize,
    ) -> Result<(), i32> {
        self.mmap_write_lock(cpu)
            .madvise(cpu, self, start, len, advice)
    }
}
