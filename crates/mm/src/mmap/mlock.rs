//! `mlock`, `munlock`, `mlockall`, `munlockall` (mm/mlock.c): set or clear
//! `VM_LOCKED` over a range, splitting areas at its ends and merging back,
//! with `locked_vm` kept exact in pages.
//!
//! `mlock` and `mlockall(MCL_CURRENT)` then fault the locked pages in
//! ([`super::populate`]); `MCL_ONFAULT` locks without populating
//! (`VM_LOCKONFAULT`). `mlockall(MCL_FUTURE)` puts `VM_LOCKED` (and
//! `VM_LOCKONFAULT` with `MCL_ONFAULT`) in the mm's `def_flags`, so every
//! later mmap and brk area is locked (and, without `MCL_ONFAULT`,
//! populated); `munlockall` clears them. A stack grows with the flags of
//! its area, as in Linux (locked only when the stack area itself is).
//!
//! Where ferrite differs from Linux (for now):
//! - `locked_vm` counts the locked areas' pages; there is no unevictable
//!   LRU, so `NrMlock` (vmstat) is not counted;
//! - RLIMIT_MEMLOCK is not checked (as for a caller with CAP_IPC_LOCK).

use super::errno::{EAGAIN, EINVAL, ENOMEM};
use super::vma::vm_get_page_prot;
use super::{MmStruct, MmapState, VmAreaStruct, VmFlags};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::pgtable::TASK_SIZE;

/// `MCL_CURRENT`: lock every page mapped now.
pub const MCL_CURRENT: usize = 1;
/// `MCL_FUTURE`: lock every page mapped from now on.
pub const MCL_FUTURE: usize = 2;
/// `MCL_ONFAULT`: lock pages as they are faulted in.
pub const MCL_ONFAULT: usize = 4;

/// `VM_LOCKED_MASK`.
pub const VM_LOCKED_MASK: VmFlags = VmFlags::VM_LOCKED.union(VmFlags::VM_LOCKONFAULT);

/// `PAGE_ALIGN` wrapping on overflow, as Linux's macro does.
pub(crate) fn page_align_wrap(x: usize) -> usize {
    x.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

impl MmapState<'_> {
    /// `vma_modify_flags`: give `[start, end)`, which lies inside one area,
    /// `newflags`, splitting that area at the ends of the range (ENOMEM at
    /// `max_map_count` or without memory). Accounts the pages; merging is
    /// the caller's ([`MmapState::merge_range`]).
    pub(crate) fn vma_modify_flags(
        &mut self,
        cpu: &Cpu<'_>,
        start: usize,
        end: usize,
        newflags: VmFlags,
    ) -> Result<(), i32> {
        let v = match self.tree_vma(start).cloned() {
            Some(v) if v.vm_start <= start && end <= v.vm_end => v,
            _ => return Err(ENOMEM),
        };
        if v.vm_flags == newflags {
            return Ok(());
        }
        self.split_vma(cpu, start, true)?;
        self.split_vma(cpu, end, true)?;
        let pages = ((end - start) / PAGE_SIZE) as isize;
        self.vm_stat_account(v.vm_flags, -pages);
        self.vm_stat_account(newflags, pages);
        let v = self.tree_vma_mut(start).ok_or(ENOMEM)?;
        v.vm_flags = newflags;
        // Shared file areas keep write-notify (see mprotect).
        v.vm_page_prot = if v.wants_writenotify() {
            vm_get_page_prot(newflags - VmFlags::VM_SHARED)
        } else {
            vm_get_page_prot(newflags)
        };
        self.invalidate_cache();
        Ok(())
    }

    /// `mlock_fixup`: special areas are left alone (and not counted).
    fn mlock_fixup(
        &mut self,
        cpu: &Cpu<'_>,
        v: &VmAreaStruct,
        start: usize,
        end: usize,
        newflags: VmFlags,
    ) -> Result<(), i32> {
        if newflags == v.vm_flags
            || v.vm_flags
                .intersects(VmFlags::VM_SPECIAL | VmFlags::VM_HUGETLB)
        {
            return Ok(());
        }
        self.vma_modify_flags(cpu, start, end, newflags)
    }

    /// `apply_vma_lock_flags`: `[start, start + len)` (page aligned) gets
    /// `flags` (a subset of [`VM_LOCKED_MASK`]). ENOMEM when the range does
    /// not start in an area or crosses a hole; the areas before the hole
    /// keep the change, as in Linux.
    fn apply_vma_lock_flags(
        &mut self,
        cpu: &Cpu<'_>,
        start: usize,
        len: usize,
        flags: VmFlags,
    ) -> Result<(), i32> {
        let end = start.wrapping_add(len);
        if end < start {
            return Err(EINVAL);
        }
        if end == start {
            return Ok(());
        }
        let mut nstart = start;
        let mut result = Ok(());
        while nstart < end {
            let v = match self.tree_vma(nstart).cloned() {
                Some(v) if v.vm_start <= nstart => v,
                _ => {
                    result = Err(ENOMEM);
                    break;
                }
            };
            let newflags = v.vm_flags.difference(VM_LOCKED_MASK) | flags;
            let tmp = v.vm_end.min(end);
            if let Err(e) = self.mlock_fixup(cpu, &v, nstart, tmp, newflags) {
                result = Err(e);
                break;
            }
            nstart = tmp;
        }
        self.merge_range(cpu, start, nstart);
        result
    }

    /// `mlock(start, len)`: the range is widened to whole pages (an
    /// unaligned start is fine), locked, then populated (`__mm_populate`,
    /// whose failure is mlock's: EAGAIN out of memory, ENOMEM otherwise,
    /// Linux's `__mlock_posix_error_return`).
    pub fn mlock(&mut self, cpu: &Cpu<'_>, start: usize, len: usize) -> Result<(), i32> {
        let len = page_align_wrap(len.wrapping_add(start % PAGE_SIZE));
        let start = start & !(PAGE_SIZE - 1);
        self.apply_vma_lock_flags(cpu, start, len, VmFlags::VM_LOCKED)?;
        // SAFETY: used for this call only, while we hold the state;
        // population takes the page-table lock, not the state.
        let mm = unsafe { self.owner_mm() };
        match self.__mm_populate(cpu, mm, start, len, false) {
            Ok(()) => Ok(()),
            Err(crate::fault::FaultError::Oom) => Err(EAGAIN),
            Err(_) => Err(ENOMEM),
        }
    }

    /// `munlock(start, len)`.
    pub fn munlock(&mut self, cpu: &Cpu<'_>, start: usize, len: usize) -> Result<(), i32> {
        let len = page_align_wrap(len.wrapping_add(start % PAGE_SIZE));
        let start = start & !(PAGE_SIZE - 1);
        self.apply_vma_lock_flags(cpu, start, len, VmFlags::empty())
    }

    /// `apply_mlockall_flags`: `def_flags` gets the lock flags of
    /// `MCL_FUTURE` (none without it), and with `MCL_CURRENT` (or for
    /// `munlockall`, `flags` 0) every area gets `to_add` in place of its
    /// lock flags; failures (a split cannot happen here) are ignored.
    fn apply_mlockall_flags(&mut self, cpu: &Cpu<'_>, flags: usize) {
        self.def_flags.remove(VM_LOCKED_MASK);
        if flags & MCL_FUTURE != 0 {
            self.def_flags |= VmFlags::VM_LOCKED;
            if flags & MCL_ONFAULT != 0 {
                self.def_flags |= VmFlags::VM_LOCKONFAULT;
            }
            if flags & MCL_CURRENT == 0 {
                return;
            }
        }
        let mut to_add = VmFlags::empty();
        if flags & MCL_CURRENT != 0 {
            to_add |= VmFlags::VM_LOCKED;
            if flags & MCL_ONFAULT != 0 {
                to_add |= VmFlags::VM_LOCKONFAULT;
            }
        }
        let mut addr = 0;
        while let Some(v) = self.tree_vma(addr).cloned() {
            let newflags = v.vm_flags.difference(VM_LOCKED_MASK) | to_add;
            let _ = self.mlock_fixup(cpu, &v, v.vm_start, v.vm_end, newflags);
            addr = v.vm_end;
        }
        self.merge_range(cpu, 0, TASK_SIZE);
    }

    /// `mlockall(flags)`; with `MCL_CURRENT` (and not `MCL_ONFAULT`)
    /// every area is then populated, failures ignored as in Linux.
    pub fn mlockall(&mut self, cpu: &Cpu<'_>, flags: usize) -> Result<(), i32> {
        if flags == 0
            || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0
            || flags == MCL_ONFAULT
        {
            return Err(EINVAL);
        }
        self.apply_mlockall_flags(cpu, flags);
        if flags & MCL_CURRENT != 0 {
            // SAFETY: used for this call only, while we hold the state;
            // population takes the page-table lock, not the state.
            let mm = unsafe { self.owner_mm() };
            self.mm_populate(cpu, mm, 0, TASK_SIZE);
        }
        Ok(())
    }

    /// `munlockall()`: every area unlocked, `def_flags` cleared.
    pub fn munlockall(&mut self, cpu: &Cpu<'_>) {
        self.apply_mlockall_flags(cpu, 0);
    }
}

impl MmStruct<'_> {
    /// `mlock(2)`.
    pub fn mlock(&self, cpu: &Cpu<'_>, start: usize, len: usize) -> Result<(), i32> {
        self.mmap_write_lock(cpu).mlock(cpu, start, len)
    }

    /// `munlock(2)`.
    pub fn munlock(&self, cpu: &Cpu<'_>, start: usize, len: usize) -> Result<(), i32> {
        self.mmap_write_lock(cpu).munlock(cpu, start, len)
    }

    /// `mlockall(2)`.
    pub fn mlockall(&self, cpu: &Cpu<'_>, flags: usize) -> Result<(), i32> {
        self.mmap_write_lock(cpu).mlockall(cpu, flags)
    }

    /// `munlockall(2)` (always succeeds).
    pub fn munlockall(&self, cpu: &Cpu<'_>) -> Result<(), i32> {
        self.mmap_write_lock(cpu).munlockall(cpu);
        Ok(())
    }
}
