//! `msync` (mm/msync.c): flag and range validation with Linux's errno.
//! Anonymous memory (and shmem) has nothing to write back; with `MS_SYNC`
//! the files of the shared file areas in the range are written back
//! (`vfs_fsync_range`, here the whole file's dirty pages), after the mmap
//! lock is dropped, as Linux drops it. `MS_INVALIDATE` over a locked area
//! is EBUSY, as in Linux.

use super::errno::{EINVAL, ENOMEM};
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
            let Some(v) = self.tree_vma(start) else {
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
        let mut files = alloc::vec::Vec::new();
        let r = {
            let st = self.mmap_read_lock(cpu);
            let r = st.msync(start, len, flags);
            let end = start.wrapping_add(page_align_wrap(len));
            if flags & MS_SYNC != 0 && matches!(r, Ok(()) | Err(ENOMEM)) && start < end {
                for v in st.vmas() {
                    let Some(f) = v.vm_file else {
                        continue;
                    };
                    if v.vm_start < end
                        && v.vm_end > start
                        && v.vm_flags.contains(VmFlags::VM_SHARED)
                        && v.wants_writenotify()
                        && !files.contains(&f)
                    {
                        // SAFETY: the VMA's reference keeps its file live
                        // while the mmap lock is held.
                        let m = unsafe { f.as_ref() };
                        // Our own reference (`igrab`), for after the mmap
                        // lock is dropped, when the VMA may go.
                        if m.igrab() {
                            files.push(f);
                        }
                    }
                }
            }
            r
        };
        let mut wb = Ok(0);
        for f in files {
            // SAFETY: the reference `igrab` took above.
            let m = unsafe { f.as_ref() };
            if wb.is_ok() {
                wb = m.writeback(cpu);
            }
            // SAFETY: that reference, given up once.
            unsafe { crate::filemap::fput(cpu, f) };
        }
        wb?;
        r
    }
}
