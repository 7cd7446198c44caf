//! `msync` (mm/msync.c): flag and range validation with Linux's errno.
//! Anonymous memory has nothing to write back, so a valid call does no
//! work; `MS_INVALIDATE` over a locked area is EBUSY, as in Linux.

use super::errno::{EINVAL, ENOMEM};
use super::find::entry_vma;
use super::mlock::page_align_wrap;
use super::{MmStruct, MmapState, VmFlags};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

/// `MS_ASYNC`.
pub const MS_ASYNC: usize = 1;
/// `MS_INVALIDATE`.
pub const MS_INVALIDATE: usize = 2;
/// `MS_SYNC`.
pub const MS_SYNC: usize = 4;
/// `EBUSY`.
pub const EBUSY: i32 = 16;

impl MmapState<'_> {
    /// `msync(start, len, flags)`: EINVAL for unknown bits, an unaligned
    /// start, or both `MS_ASYNC` and `MS_SYNC`; ENOMEM when the range
    /// overflows or covers unmapped pages (at once for plain `MS_ASYNC`,
    /// after the mapped parts otherwise).
    pub fn msync(&self, start: usize, len: usize, flags: usize) -> Result<(), i32> {
        if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 {
            return Err(EINVAL);
        }
        if start % PAGE_SIZE != 0 {
            return Err(EINVAL);
        }
        if flags & MS_ASYNC != 0 && flags & MS_SYNC != 0 {
            return Err(EINVAL);
        }
        // Linux's `(len + ~PAGE_MASK) & PAGE_MASK`: a huge len wraps to 0.
        let len = page_align_wrap(len);
        let end = start.wrapping_add(len);
        if end < start {
            return Err(ENOMEM);
        }
        if end == start {
            return Ok(());
        }
        let mut unmapped = Ok(());
        let mut start = start;
        loop {
            let Some(v) = self.mt.find(start).map(entry_vma) else {
                return Err(ENOMEM);
            };
            if start < v.vm_start {
                if flags == MS_ASYNC {
                    return Err(ENOMEM);
                }
                start = v.vm_start;
                if start >= end {
                    return Err(ENOMEM);
                }
                unmapped = Err(ENOMEM);
            }
            if flags & MS_INVALIDATE != 0 && v.vm_flags.contains(VmFlags::VM_LOCKED) {
                return Err(EBUSY);
            }
            // Anonymous (and shared anonymous) memory: nothing to write.
            start = v.vm_end;
            if start >= end {
                return unmapped;
            }
        }
    }
}

impl MmStruct<'_> {
    /// `msync(2)`.
    pub fn msync(&self, cpu: &Cpu<'_>, start: usize, len: usize, flags: usize) -> Result<(), i32> {
        self.mmap_read_lock(cpu).msync(start, len, flags)
    }
}
