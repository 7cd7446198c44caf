//! `madvise` (mm/madvise.c) for anonymous memory, with Linux's errno and
//! its walk over the areas of the range: each mapped part gets the advice,
//! and a range that covers unmapped pages fails with ENOMEM afterwards.
//!
//! Advice handled: `MADV_NORMAL`, `MADV_RANDOM`, `MADV_SEQUENTIAL` (the
//! read-ahead flags), `MADV_WILLNEED` (validates; nothing to read ahead),
//! `MADV_DONTNEED` and `MADV_DONTNEED_LOCKED` (the pages are zapped through
//! the routine munmap uses; the areas stay, so a later read sees zero
//! fill), `MADV_FREE` (validates; with no reclaim the pages simply stay,
//! which Linux allows), `MADV_REMOVE` (a hole punched in the file of a
//! shared writable area, without the mmap lock: [`crate::falloc`]),
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

/// The hole a `MADV_REMOVE` punches in a shared mapping's file, once the
/// mmap lock is dropped (`madvise_remove` calls `vfs_fallocate` without
/// it: the punch unmaps the range from every mm, this one included).
struct Hole {
    /// The file, with a reference of its own (`get_file`).
    file: crate::filemap::FilePtr,
    offset: u64,
    len: u64,
}

impl Hole {
    /// `vfs_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)`, then
    /// `fput`.
    fn punch(self, cpu: &Cpu<'_>) -> Result<(), i32> {
        use crate::falloc::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
        // SAFETY: the reference taken with the hole keeps it live.
        let m = unsafe { self.file.as_ref() };
        let mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
        let r = m.fallocate(cpu, (mode, self.offset, self.len), 0, || {
            m.backing().fallocate(mode, self.offset, self.len)
        });
        // SAFETY: gives back the reference taken with the hole.
        unsafe { crate::filemap::iput(cpu, m) };
        r
    }
}

/// Where a pass of [`MmapState::madvise`] over the areas stands.
struct Walk {
    /// The next address to advise.
    at: usize,
    /// ENOMEM once a gap in the range was passed (reported at the end).
    unmapped: Result<(), i32>,
    /// A hole to punch before going on.
    hole: Option<Hole>,
}

impl MmapState<'_> {
    /// `madvise(start, len, advice)` from `w.at` on; stops early, with
    /// `w.hole` set, at an area whose advice must be finished without the
    /// mmap lock (MADV_REMOVE).
    fn madvise(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        (start, len_in): (usize, usize),
        advice: usize,
        w: &mut Walk,
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
        let mut s = w.at;
        let result = loop {
            let Some(v) = self.tree_vma(s).cloned() else {
                break Err(ENOMEM);
            };
            if s < v.vm_start {
                w.unmapped = Err(ENOMEM);
                s = v.vm_start;
                if s >= end {
                    break w.unmapped;
                }
            }
            let tmp = v.vm_end.min(end);
            if let Err(e) = self.madvise_vma(cpu, mm, &v, s, tmp, advice, &mut w.hole) {
                break Err(e);
            }
            s = tmp;
            if w.hole.is_some() {
                w.at = s;
                if s >= end {
                    w.at = end;
                }
                return Ok(());
            }
            if s >= end {
                break w.unmapped;
            }
        };
        self.merge_range(cpu, start, s.min(end));
        result
    }

    /// The advice for `[start, end)`, which lies inside the area `v`.
    #[allow(clippy::too_many_arguments)]
    fn madvise_vma(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        v: &VmAreaStruct,
        start: usize,
        end: usize,
        advice: usize,
        hole: &mut Option<Hole>,
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
                // `madvise_remove`: the file's hole, punched by the caller.
                if f.contains(VmFlags::VM_LOCKED) {
                    return Err(EINVAL);
                }
                let Some(file) = v.vm_file else {
                    return Err(EINVAL);
                };
                if !f.contains(VmFlags::VM_SHARED | VmFlags::VM_MAYWRITE) {
                    return Err(EACCES);
                }
                // SAFETY: a VMA's `vm_file` names a live address space
                // (the VMA's reference), and the VMA is ours (`&mut self`).
                if unsafe { file.as_ref() }.igrab() {
                    let offset = (crate::rmap::linear_page_index(v, start) * PAGE_SIZE) as u64;
                    *hole = Some(Hole {
                        file,
                        offset,
                        len: (end - start) as u64,
                    });
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
        let mut w = Walk {
            at: start,
            unmapped: Ok(()),
            hole: None,
        };
        loop {
            let r = self
                .mmap_write_lock(cpu)
                .madvise(cpu, self, (start, len), advice, &mut w);
            let Some(hole) = w.hole.take() else {
                return r;
            };
            hole.punch(cpu)?;
            if w.at >= start.wrapping_add(page_align_wrap(len)) {
                return w.unmapped;
            }
        }
    }
}
