//! `get_unmapped_area` (mm/mmap.c `__get_unmapped_area`,
//! `generic_get_unmapped_area_topdown`, `vm_unmapped_area`): top-down below
//! `mmap_base`, falling back to bottom-up from `TASK_UNMAPPED_BASE`, with
//! Linux's hint and `MAP_FIXED` rules and the stack guard gap.

use super::errno::{EINVAL, ENOMEM, EPERM};
use super::{page_align, MmapState, MAP_FIXED, STACK_GUARD_GAP, TASK_UNMAPPED_BASE};
use crate::page::PAGE_SIZE;
use crate::pgtable::TASK_SIZE;

impl MmapState<'_> {
    /// An address for `len` bytes (page aligned, nonzero), honouring the
    /// hint `addr` when it fits, or `addr` itself with `MAP_FIXED`.
    pub fn get_unmapped_area(&self, addr: usize, len: usize, flags: usize) -> Result<usize, i32> {
        if len > TASK_SIZE - self.mmap_min_addr.min(TASK_SIZE) {
            return Err(ENOMEM);
        }
        let addr = if flags & MAP_FIXED != 0 {
            addr
        } else {
            self.arch_get_unmapped_area_topdown(addr, len)?
        };
        if addr > TASK_SIZE - len {
            return Err(ENOMEM);
        }
        if addr % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        // security_mmap_addr: below mmap_min_addr needs CAP_SYS_RAWIO.
        if addr < self.mmap_min_addr {
            return Err(EPERM);
        }
        Ok(addr)
    }

    fn arch_get_unmapped_area_topdown(&self, hint: usize, len: usize) -> Result<usize, i32> {
        if hint != 0 {
            if let Some(a) = page_align(hint) {
                let ok = TASK_SIZE - len >= a
                    && a >= self.mmap_min_addr
                    && self.tree_vma(a).is_none_or(|v| a + len <= v.start_gap())
                    && self.tree_vma_prev(a).is_none_or(|p| a >= p.vm_end);
                if ok {
                    return Ok(a);
                }
            }
        }
        let low = PAGE_SIZE.max(self.mmap_min_addr);
        let high = self.mmap_base.min(TASK_SIZE);
        if let Some(a) = self.unmapped_area(len, low, high, true) {
            return Ok(a);
        }
        self.unmapped_area(len, TASK_UNMAPPED_BASE.max(low), TASK_SIZE, false)
            .ok_or(ENOMEM)
    }

    /// `unmapped_area(_topdown)`: a free `[a, a + len)` inside
    /// `[low, high)` that also keeps the guard gap below a stack area.
    fn unmapped_area(&self, len: usize, low: usize, high: usize, topdown: bool) -> Option<usize> {
        let mut low = low;
        let mut high = high;
        loop {
            let a = if topdown {
                self.mt.gap_area_topdown(len, low, high)?
            } else {
                self.mt.gap_area_bottomup(len, low, high)?
            };
            let next = self.tree_vma(a);
            match next {
                Some(v) if a + len > v.start_gap() => {
                    // Too close to a stack: search again on the right side.
                    if topdown {
                        let h = v.vm_start.saturating_sub(STACK_GUARD_GAP);
                        if h >= high {
                            return None;
                        }
                        high = h;
                    } else {
                        let l = v.vm_end;
                        if l <= low {
                            return None;
                        }
                        low = l;
                    }
                }
                _ => return Some(a),
            }
        }
    }
}
