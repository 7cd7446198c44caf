//! `do_munmap` (mm/vma.c `do_vmi_munmap`, `do_vmi_align_munmap`): split the
//! areas at the ends of the range, remove what lies inside, unmap their
//! pages and free the page tables left empty between the neighbours.

use super::errno::{EINVAL, ENOMEM};
use super::{page_align, zap, MmStruct, MmapState, PgtState};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::pgtable::TASK_SIZE;

impl MmapState<'_> {
    /// `munmap(addr, len)`: holes in the range are fine.
    pub fn do_munmap(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        start: usize,
        len: usize,
    ) -> Result<(), i32> {
        if start % PAGE_SIZE != 0 || start > TASK_SIZE || len > TASK_SIZE - start {
            return Err(EINVAL);
        }
        let end = match page_align(len) {
            Some(l) if l != 0 => start + l,
            _ => return Err(EINVAL),
        };
        let Some(first) = self.find_vma_intersection(start, end).cloned() else {
            return Ok(());
        };
        if first.vm_start < start {
            // A split into three needs room for one more area.
            if end < first.vm_end && self.map_count >= self.max_map_count {
                return Err(ENOMEM);
            }
            self.split_vma(cpu, start, false)?;
        }
        if let Some(last) = self.tree_vma(end - 1).cloned() {
            if last.vm_start < end && end < last.vm_end {
                self.split_vma(cpu, end, false)?;
            }
        }
        // Everything in [start, end) is now whole areas.
        let floor = self.mt.find_prev(start).map_or(0, |p| p.1);
        let ceiling = self.mt.find(end).map_or(TASK_SIZE, |n| n.0);
        while let Some(v) = self.tree_vma_intersection(start, end).cloned() {
            {
                let mut pg = mm.page_table_lock.lock();
                let PgtState { pt, tlb } = &mut *pg;
                if let Some(pt) = pt.as_mut() {
                    zap(mm, pt, tlb, &v, v.vm_start, v.vm_end, cpu);
                }
            }
            self.remove_vma(cpu, v.vm_start);
        }
        let mut pg = mm.page_table_lock.lock();
        let PgtState { pt, tlb } = &mut *pg;
        if let Some(pt) = pt.as_mut() {
            pt.free_pgtables(cpu, floor, ceiling, tlb);
        }
        Ok(())
    }
}
