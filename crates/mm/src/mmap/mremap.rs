//! `mremap` (mm/mremap.c) for anonymous areas: shrink in place, grow in
//! place when the pages after the area are free, or move the area with
//! `MREMAP_MAYMOVE` (to a free range, or with `MREMAP_FIXED` to a given
//! one, unmapping what is there first). A move carries the page-table
//! entries over (same frame, same flags, A and D included) instead of
//! copying pages, and records the old addresses in the TLB flush.
//!
//! Errors follow Linux: EINVAL for unknown flags, `MREMAP_FIXED` without
//! `MREMAP_MAYMOVE`, an unaligned old or new address, a new length of 0,
//! overlapping old and new ranges with `MREMAP_FIXED`, or an old length of
//! 0 on a private area (Linux refuses to "duplicate" those; on a shared
//! area it makes a second mapping of the same object); EFAULT when
//! `old_addr` is in no area or the old range runs past its area; ENOMEM
//! when the area cannot grow in place without `MREMAP_MAYMOVE`, when there
//! is no room, or near `max_map_count`.
//!
//! `MREMAP_DONTUNMAP` (with `MREMAP_MAYMOVE` and equal lengths) moves the
//! entries but leaves the old area mapped, unlocked: a later access there
//! finds no page (zero fill for private memory), as in Linux 5.13+.
//!
//! Where ferrite differs from Linux (for now):
//! - no RLIMIT_AS / RLIMIT_MEMLOCK checks (the grown part of a locked
//!   area is populated, as in Linux);
//! - a moved private area keeps its page offset (Linux: when it has an
//!   `anon_vma`) when it had any page mapped, and gets `new_addr >>
//!   PAGE_SHIFT` otherwise; ferrite has no per-area `anon_vma` to ask;
//! - the old area is split at the ends of the moved range before anything
//!   else, so running out of memory fails the call before any change
//!   (Linux may leave both copies accounted and warn).

use super::errno::{EFAULT, EINVAL, ENOMEM};
use super::mlock::{page_align_wrap, VM_LOCKED_MASK};
use super::{MmStruct, MmapState, PgtState, VmAreaStruct, VmFlags, MAP_FIXED};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::pgtable::{level_shift, PageTable, PgProt, TlbFlush, PGTABLE_LEVELS, TASK_SIZE};

/// `MREMAP_MAYMOVE`.
pub const MREMAP_MAYMOVE: usize = 1;
/// `MREMAP_FIXED`.
pub const MREMAP_FIXED: usize = 2;
/// `MREMAP_DONTUNMAP`.
pub const MREMAP_DONTUNMAP: usize = 4;

/// Move the entries of `[old, old + len)` to `[new, new + len)` (the new
/// range holds none), keeping frame and flags (`move_page_tables`). On
/// failure (no page for a table) everything is moved back and ENOMEM
/// returned. `Ok(n)`: the entries moved.
pub(crate) fn move_page_tables(
    cpu: &Cpu<'_>,
    pt: &mut PageTable<'_>,
    tlb: &mut TlbFlush,
    old: usize,
    new: usize,
    len: usize,
) -> Result<usize, i32> {
    let mut moved = 0;
    let mut off = 0;
    while off < len {
        let va = old + off;
        let last = pt.walk(va).into_iter().flatten().last();
        let Some(w) = last else {
            break;
        };
        if w.level + 1 < PGTABLE_LEVELS && w.entry.is_none() {
            // No table below this entry: skip its whole span.
            let span = 1usize << level_shift(w.level);
            off = ((va | (span - 1)) + 1).min(old + len) - old;
            continue;
        }
        if w.level + 1 == PGTABLE_LEVELS && !w.entry.is_none() {
            let Some(e) = pt.unmap_page(va, tlb) else {
                off += PAGE_SIZE;
                continue;
            };
            let prot = PgProt::new(e.flags()).unwrap_or(e.prot());
            if pt.map_page(cpu, new + off, e.pfn(), prot).is_err() {
                // The old tables are still there: these cannot fail.
                let _ = pt.map_page(cpu, va, e.pfn(), prot);
                let _ = move_page_tables(cpu, pt, tlb, new, old, off);
                return Err(ENOMEM);
            }
            moved += 1;
        }
        off += PAGE_SIZE;
    }
    Ok(moved)
}

impl MmapState<'_> {
    /// `mremap(addr, old_len, new_len, flags, new_addr)`: the new address
    /// of the area, or an errno.
    #[allow(clippy::too_many_arguments)]
    pub fn mremap(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: usize,
        new_addr: usize,
    ) -> Result<usize, i32> {
        if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
            return Err(EINVAL);
        }
        if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
            return Err(EINVAL);
        }
        if flags & MREMAP_DONTUNMAP != 0 && (flags & MREMAP_MAYMOVE == 0 || old_len != new_len) {
            return Err(EINVAL);
        }
        if addr % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        let old_len = page_align_wrap(old_len);
        let new_len = page_align_wrap(new_len);
        if new_len == 0 {
            return Err(EINVAL);
        }
        if self.vma_lookup(addr).is_none() {
            return Err(EFAULT);
        }
        if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
            return self.mremap_to(cpu, mm, addr, old_len, new_len, flags, new_addr);
        }
        if old_len >= new_len {
            if old_len > new_len {
                self.do_munmap(cpu, mm, addr.wrapping_add(new_len), old_len - new_len)?;
            }
            return Ok(addr);
        }
        let vma = self.vma_to_resize(addr, old_len, new_len, flags)?;
        if old_len == vma.vm_end - addr && self.vma_expandable(&vma, new_len - old_len) {
            let end = vma.vm_end + (new_len - old_len);
            self.resize_vma(cpu, vma.vm_start, vma.vm_start, end, vma.vm_pgoff)
                .map_err(|_| ENOMEM)?;
            self.vm_stat_account(vma.vm_flags, ((new_len - old_len) / PAGE_SIZE) as isize);
            self.merge_range(cpu, vma.vm_start, end);
            if vma.vm_flags.contains(VmFlags::VM_LOCKED) {
                // The grown part of a locked area is populated.
                self.mm_populate(cpu, mm, vma.vm_end, new_len - old_len);
            }
            return Ok(addr);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(ENOMEM);
        }
        let to = self.get_unmapped_area(0, new_len, 0)?;
        self.move_vma(cpu, mm, &vma, addr, old_len, new_len, to, flags)
    }

    /// `mremap_to`: the `MREMAP_FIXED` or `MREMAP_DONTUNMAP` move.
    #[allow(clippy::too_many_arguments)]
    fn mremap_to(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: usize,
        new_addr: usize,
    ) -> Result<usize, i32> {
        if new_addr % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        if new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len {
            return Err(EINVAL);
        }
        if addr.wrapping_add(old_len) > new_addr && new_addr + new_len > addr {
            return Err(EINVAL);
        }
        if self.map_count + 2 >= self.max_map_count.saturating_sub(3) {
            return Err(ENOMEM);
        }
        let fixed = flags & MREMAP_FIXED != 0;
        if fixed {
            self.do_munmap(cpu, mm, new_addr, new_len)?;
        }
        let mut old_len = old_len;
        if old_len > new_len {
            self.do_munmap(cpu, mm, addr + new_len, old_len - new_len)?;
            old_len = new_len;
        }
        let vma = self.vma_to_resize(addr, old_len, new_len, flags)?;
        let to = if fixed {
            self.get_unmapped_area(new_addr, new_len, MAP_FIXED)?
        } else {
            self.get_unmapped_area(new_addr, new_len, 0)?
        };
        self.move_vma(cpu, mm, &vma, addr, old_len, new_len, to, flags)
    }

    /// `vma_to_resize`: the area holding `[addr, addr + old_len)`, if it
    /// may become `new_len` long.
    fn vma_to_resize(
        &self,
        addr: usize,
        old_len: usize,
        new_len: usize,
        flags: usize,
    ) -> Result<VmAreaStruct, i32> {
        let vma = self.vma_lookup(addr).ok_or(EFAULT)?.clone();
        if old_len == 0
            && !vma
                .vm_flags
                .intersects(VmFlags::VM_SHARED | VmFlags::VM_MAYSHARE)
        {
            return Err(EINVAL);
        }
        if flags & MREMAP_DONTUNMAP != 0
            && vma
                .vm_flags
                .intersects(VmFlags::VM_DONTEXPAND | VmFlags::VM_PFNMAP)
        {
            return Err(EINVAL);
        }
        if old_len > vma.vm_end - addr {
            return Err(EFAULT);
        }
        if new_len == old_len {
            return Ok(vma);
        }
        let pgoff = vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE;
        if pgoff.checked_add(new_len / PAGE_SIZE).is_none() {
            return Err(EINVAL);
        }
        if vma
            .vm_flags
            .intersects(VmFlags::VM_DONTEXPAND | VmFlags::VM_PFNMAP)
        {
            return Err(EFAULT);
        }
        Ok(vma)
    }

    /// `vma_expandable`: `[vm_end, vm_end + delta)` is free and valid.
    fn vma_expandable(&self, vma: &VmAreaStruct, delta: usize) -> bool {
        let Some(end) = vma.vm_end.checked_add(delta) else {
            return false;
        };
        self.find_vma_intersection(vma.vm_end, end).is_none()
            && self
                .get_unmapped_area(vma.vm_start, end - vma.vm_start, MAP_FIXED)
                .is_ok()
    }

    /// `move_vma`: a copy of `vma` at `[new_addr, new_addr + new_len)`
    /// taking over the entries of `[old_addr, old_addr + old_len)`, then
    /// the old range unmapped (with `MREMAP_DONTUNMAP`: kept, unlocked).
    #[allow(clippy::too_many_arguments)]
    fn move_vma(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        vma: &VmAreaStruct,
        old_addr: usize,
        old_len: usize,
        new_len: usize,
        new_addr: usize,
        flags: usize,
    ) -> Result<usize, i32> {
        if self.map_count >= self.max_map_count.saturating_sub(3) {
            return Err(ENOMEM);
        }
        let old_end = old_addr + old_len;
        if old_len > 0 {
            // Cut the moved range out first, so nothing below can fail for
            // want of a VMA.
            let cut = self
                .split_vma(cpu, old_addr, false)
                .and_then(|_| self.split_vma(cpu, old_end, false));
            if let Err(e) = cut {
                self.merge_range(cpu, vma.vm_start, vma.vm_end);
                return Err(e);
            }
        }
        let moved = {
            let mut pg = mm.page_table_lock.lock();
            let PgtState { pt, tlb } = &mut *pg;
            match pt.as_mut() {
                Some(pt) if old_len > 0 => {
                    move_page_tables(cpu, pt, tlb, old_addr, new_addr, old_len)
                }
                _ => Ok(0),
            }
        };
        let moved = match moved {
            Ok(n) => n,
            Err(e) => {
                self.merge_range(cpu, vma.vm_start, vma.vm_end);
                return Err(e);
            }
        };
        let mut nv = vma.clone();
        nv.vm_start = new_addr;
        nv.vm_end = new_addr + new_len;
        nv.vm_pgoff = vma.vm_pgoff + (old_addr - vma.vm_start) / PAGE_SIZE;
        if nv.shmem == 0 && !vma.vm_flags.contains(VmFlags::VM_MAYSHARE) && moved == 0 {
            nv.vm_pgoff = new_addr / PAGE_SIZE;
        }
        if let Err(e) = self.insert_vma(cpu, nv.clone()) {
            let mut pg = mm.page_table_lock.lock();
            let PgtState { pt, tlb } = &mut *pg;
            if let Some(pt) = pt.as_mut() {
                // Back into the old tables, which are still there.
                let _ = move_page_tables(cpu, pt, tlb, new_addr, old_addr, old_len);
            }
            drop(pg);
            self.merge_range(cpu, vma.vm_start, vma.vm_end);
            return Err(e);
        }
        if let Some(ops) = nv.vm_ops {
            if let Some(p) = self.tree_vma(new_addr) {
                ops.open(p);
            }
        }
        if flags & MREMAP_DONTUNMAP != 0 {
            // The old range stays mapped, empty, and is never locked.
            let f = vma.vm_flags.difference(VM_LOCKED_MASK);
            let _ = self.vma_modify_flags(cpu, old_addr, old_end, f);
            self.merge_range(cpu, old_addr, old_end);
        } else if old_len > 0 {
            // Its entries are gone: this removes the area and frees the
            // tables left empty. Like Linux, a failure here is ignored.
            let _ = self.do_munmap(cpu, mm, old_addr, old_len);
        }
        self.merge_range(cpu, new_addr, new_addr + new_len);
        if new_len > old_len && vma.vm_flags.contains(VmFlags::VM_LOCKED) {
            self.mm_populate(cpu, mm, new_addr + old_len, new_len - old_len);
        }
        Ok(new_addr)
    }
}

impl MmStruct<'_> {
    /// `mremap(2)`: the new address, or an errno.
    pub fn mremap(
        &self,
        cpu: &Cpu<'_>,
        old_addr: usize,
        old_len: usize,
        new_len: usize,
        flags: usize,
        new_addr: usize,
    ) -> Result<usize, i32> {
        self.mmap_write_lock(cpu)
            .mremap(cpu, self, old_addr, old_len, new_len, flags, new_addr)
    }
}
