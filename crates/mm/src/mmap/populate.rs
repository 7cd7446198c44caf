//! Faulting a range in ahead of use (mm/gup.c `populate_vma_page_range`,
//! `__mm_populate`, include/linux/mm.h `mm_populate`): what `MAP_POPULATE`,
//! `mlock`, `mlockall(MCL_CURRENT)` and the areas `mlockall(MCL_FUTURE)`
//! locks ask for.
//!
//! Each page of the range is faulted as the first access of a program
//! would fault it, through [`crate::fault::handle_vma_fault`]: a private
//! writable area takes a write fault, so copy-on-write is broken in
//! advance (Linux's `FOLL_WRITE`); any other area a read fault (a shared
//! area is not dirtied for nothing), or an instruction-fetch fault for an
//! execute-only one (Linux's `FOLL_FORCE`). `PROT_NONE` areas, `VM_IO` and
//! `VM_PFNMAP` areas, and `VM_LOCKONFAULT` areas are skipped, as in Linux.
//!
//! The mmap lock is held by the caller (for writing here; Linux downgrades
//! to a read lock first, which nobody can observe in ferrite).

use super::{MmStruct, MmapState, VmAreaStruct, VmFlags};
use crate::fault::{handle_vma_fault, Access, FaultError};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

/// The access a populating fault of `vma` makes, or None when the area
/// is not populated (no access allowed, `VM_LOCKONFAULT`, IO/PFN maps).
fn populate_access(vma: &VmAreaStruct) -> Option<Access> {
    let f = vma.vm_flags;
    if f.intersects(VmFlags::VM_IO | VmFlags::VM_PFNMAP | VmFlags::VM_LOCKONFAULT) {
        return None;
    }
    if f & (VmFlags::VM_WRITE | VmFlags::VM_SHARED) == VmFlags::VM_WRITE {
        Some(Access::Write)
    } else if f.intersects(VmFlags::VM_READ | VmFlags::VM_WRITE) {
        Some(Access::Read)
    } else if f.contains(VmFlags::VM_EXEC) {
        Some(Access::Exec)
    } else {
        None
    }
}

/// `populate_vma_page_range`: fault in every page of `[start, end)` (page
/// aligned, inside `vma`). The number of pages made present, or the first
/// fault's error (the pages before it stay).
pub fn populate_vma_page_range(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    start: usize,
    end: usize,
) -> Result<usize, FaultError> {
    let start = start.max(vma.vm_start);
    let end = end.min(vma.vm_end);
    let Some(access) = populate_access(vma) else {
        return Ok(0);
    };
    let mut n = 0;
    let mut a = start;
    while a < end {
        handle_vma_fault(cpu, mm, vma, a, access)?;
        n += 1;
        a += PAGE_SIZE;
    }
    Ok(n)
}

impl MmapState<'_> {
    /// `__mm_populate`: populate every area in `[start, start + len)`.
    /// With `ignore_errors` (`mm_populate`, for mmap and brk) a failing
    /// area is left as it is and the next one is tried; otherwise the
    /// first error is returned (mlock's).
    pub fn __mm_populate(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        start: usize,
        len: usize,
        ignore_errors: bool,
    ) -> Result<(), FaultError> {
        let end = start.saturating_add(len);
        let mut nstart = start;
        while nstart < end {
            let Some(v) = self.find_vma(nstart).cloned() else {
                break;
            };
            if v.vm_start >= end {
                break;
            }
            let nend = end.min(v.vm_end);
            let s = nstart.max(v.vm_start);
            if let Err(e) = populate_vma_page_range(cpu, mm, &v, s, nend) {
                if !ignore_errors {
                    return Err(e);
                }
            }
            nstart = nend;
        }
        Ok(())
    }

    /// `mm_populate`: [`MmapState::__mm_populate`] ignoring errors, as
    /// `mmap(MAP_POPULATE)` does (the mapping stays whatever happens).
    pub fn mm_populate(&mut self, cpu: &Cpu<'_>, mm: &MmStruct<'_>, start: usize, len: usize) {
        let _ = self.__mm_populate(cpu, mm, start, len, true);
    }
}

impl<'m> MmapState<'m> {
    /// The mm this state belongs to. The reference is not tied to the
    /// borrow of `self` (the state is inside the mm).
    ///
    /// # Safety
    /// The caller uses it only while it holds the state (so while the mm
    /// lives), and reaches through it only the mm's interior-mutable parts
    /// (locks, atomics), never the state it holds.
    pub(crate) unsafe fn owner_mm<'a>(&self) -> &'a MmStruct<'m> {
        let owner = self.owner.expect("an mm's state without its mm");
        // SAFETY: `owner` is set by `MmStruct::new` to the mm that holds
        // this state inside its mmap lock; the caller's promise covers the
        // lifetime and the aliasing.
        unsafe { owner.as_ref() }
    }
}

impl MmStruct<'_> {
    /// `mm_populate` with the mmap lock taken here.
    pub fn mm_populate(&self, cpu: &Cpu<'_>, start: usize, len: usize) {
        self.mmap_write_lock(cpu).mm_populate(cpu, self, start, len);
    }
}
