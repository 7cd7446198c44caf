//! `brk` (mm/mmap.c `SYSCALL_DEFINE1(brk)`, `do_brk_flags`) with the raw
//! system call's result: the new break, or the old one on failure. The new
//! part of the heap carries the mm's `def_flags`; after
//! `mlockall(MCL_FUTURE)` it is locked and populated.

use super::vma::VmAreaStruct;
use super::{page_align, MmStruct, MmapState, VmFlags, MAP_FIXED};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

impl MmapState<'_> {
    /// Move the break to `brk`; a request below `start_brk` is ignored.
    pub fn brk(&mut self, cpu: &Cpu<'_>, mm: &MmStruct<'_>, brk: usize) -> usize {
        let origbrk = self.brk;
        if brk < self.start_brk {
            return origbrk;
        }
        let (Some(newbrk), Some(oldbrk)) = (page_align(brk), page_align(self.brk)) else {
            return origbrk;
        };
        if oldbrk == newbrk {
            self.brk = brk;
            return brk;
        }
        if brk <= self.brk {
            self.brk = brk;
            if self.do_munmap(cpu, mm, newbrk, oldbrk - newbrk).is_err() {
                self.brk = origbrk;
                return origbrk;
            }
            return brk;
        }
        // check_brk_limits: the new part must be a valid fixed mapping.
        if self
            .get_unmapped_area(oldbrk, newbrk - oldbrk, MAP_FIXED)
            .is_err()
        {
            return origbrk;
        }
        // Keep a page and the guard gap below the next area.
        if let Some(next) = self.tree_vma(oldbrk) {
            if newbrk + PAGE_SIZE > next.start_gap() {
                return origbrk;
            }
        }
        if self.do_brk_flags(cpu, oldbrk, newbrk - oldbrk).is_err() {
            return origbrk;
        }
        self.brk = brk;
        if self.def_flags.contains(VmFlags::VM_LOCKED) {
            // mlockall(MCL_FUTURE): the new heap is locked and populated.
            self.mm_populate(cpu, mm, oldbrk, newbrk - oldbrk);
        }
        brk
    }

    /// `do_brk_flags`: an anonymous data area at `[addr, addr + len)`,
    /// merged with the heap below.
    fn do_brk_flags(&mut self, cpu: &Cpu<'_>, addr: usize, len: usize) -> Result<(), i32> {
        if self.map_count > self.max_map_count {
            return Err(super::errno::ENOMEM);
        }
        let flags = VmFlags::VM_DATA_DEFAULT_FLAGS | VmFlags::VM_ACCOUNT | self.def_flags;
        let v = VmAreaStruct::new(addr, addr + len, flags, addr / PAGE_SIZE);
        self.insert_vma(cpu, v)?;
        self.merge_range(cpu, addr, addr + len);
        Ok(())
    }
}
