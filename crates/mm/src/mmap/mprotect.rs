//! `mprotect` (mm/mprotect.c `do_mprotect_pkey`, `mprotect_fixup`): split
//! the areas at the ends of the range, change their flags and PTEs, then
//! merge what became mergeable.
//!
//! As in Linux, the areas before a hole keep their new protection when the
//! call fails with ENOMEM at the hole. Where ferrite differs: the range is
//! split before merging (Linux moves a boundary instead when the changed
//! piece merges with a neighbour), so at `max_map_count` such a call fails
//! with ENOMEM where Linux would succeed.

use super::errno::{EACCES, EINVAL, ENOMEM};
use super::mmap::calc_vm_prot_bits;
use super::vma::vm_get_page_prot;
use super::{
    page_align, MmStruct, MmapState, PgtState, VmFlags, PROT_EXEC, PROT_GROWSDOWN, PROT_GROWSUP,
    PROT_READ, PROT_SEM, PROT_WRITE,
};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

impl MmapState<'_> {
    /// `mprotect(start, len, prot)`.
    pub fn mprotect(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        start: usize,
        len: usize,
        prot: usize,
    ) -> Result<(), i32> {
        let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
        let prot = prot & !grows;
        if grows == PROT_GROWSDOWN | PROT_GROWSUP {
            return Err(EINVAL);
        }
        if start % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let len = page_align(len).unwrap_or(0);
        let end = start.wrapping_add(len);
        if end <= start {
            return Err(ENOMEM);
        }
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
            return Err(EINVAL);
        }
        let Some(first) = self.find_vma_intersection(start, end).cloned() else {
            return Err(ENOMEM);
        };
        let mut start = start;
        if grows & PROT_GROWSDOWN != 0 {
            if !first.vm_flags.contains(VmFlags::VM_GROWSDOWN) {
                return Err(EINVAL);
            }
            start = first.vm_start;
        } else if grows & PROT_GROWSUP != 0 || first.vm_start > start {
            return Err(ENOMEM);
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
            let mask = VmFlags::VM_READ | VmFlags::VM_WRITE | VmFlags::VM_EXEC;
            let newflags = calc_vm_prot_bits(prot) | v.vm_flags.difference(mask);
            // Each VM_MAYx bit is 4 above its VM_x bit.
            let may = VmFlags::from_bits_retain(newflags.bits() >> 4);
            if newflags
                .difference(may)
                .intersects(VmFlags::VM_ACCESS_FLAGS)
            {
                result = Err(EACCES);
                break;
            }
            let tmp = v.vm_end.min(end);
            if let Err(e) = self.mprotect_fixup(cpu, mm, v.vm_flags, nstart, tmp, newflags) {
                result = Err(e);
                break;
            }
            nstart = tmp;
        }
        self.merge_range(cpu, start, nstart);
        result
    }

    /// `mprotect_fixup`: give `[start, end)` (inside one area) `newflags`.
    fn mprotect_fixup(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        oldflags: VmFlags,
        start: usize,
        end: usize,
        mut newflags: VmFlags,
    ) -> Result<(), i32> {
        if newflags == oldflags {
            return Ok(());
        }
        if newflags.contains(VmFlags::VM_WRITE)
            && !oldflags.intersects(
                VmFlags::VM_ACCOUNT
                    | VmFlags::VM_HUGETLB
                    | VmFlags::VM_SHARED
                    | VmFlags::VM_NORESERVE,
            )
        {
            newflags |= VmFlags::VM_ACCOUNT;
        }
        self.split_vma(cpu, start, true)?;
        self.split_vma(cpu, end, true)?;
        let pages = ((end - start) / PAGE_SIZE) as isize;
        self.vm_stat_account(oldflags, -pages);
        self.vm_stat_account(newflags, pages);
        let v = self.tree_vma_mut(start).ok_or(ENOMEM)?;
        // Shared file areas keep write-notify: a write faults to dirty the
        // page (`vma_wants_writenotify`).
        let prot = if v.wants_writenotify() {
            vm_get_page_prot(newflags - VmFlags::VM_SHARED)
        } else {
            vm_get_page_prot(newflags)
        };
        v.vm_flags = newflags;
        v.vm_page_prot = prot;
        self.invalidate_cache();
        let mut pg = mm.page_table_lock.lock();
        let PgtState { pt, tlb } = &mut *pg;
        if let Some(pt) = pt.as_mut() {
            pt.change_protection(start, end, prot, tlb);
        }
        Ok(())
    }
}
