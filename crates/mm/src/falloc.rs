//! `fallocate(2)` on a page cache: mm/truncate.c's
//! `truncate_pagecache_range` and mm/shmem.c's `shmem_fallocate`, with the
//! file system's part of a host-backed file left to the caller.
//!
//! A hole (`FALLOC_FL_PUNCH_HOLE`, `FALLOC_FL_ZERO_RANGE`) unmaps the
//! whole pages inside it from every shared mapping and from private ones
//! where they still map the cache's page (a private mapping's own copies
//! stay, as Linux's `unmap_mapping_range(.., even_cows = 0)`), drops them
//! from the cache, and zeroes the bytes of the pages it covers in part.
//! For a shmem object (a tmpfs file, a memfd, a shared anonymous mapping)
//! that is all there is. For a file, the file system changes the file
//! first and the cache follows: a page read back meanwhile reads the new
//! contents, and the partial pages, zeroed in the cache, are marked dirty
//! so that a writeback that raced with the change cannot leave old bytes
//! in the hole. Collapsing or inserting a range moves the file's data, so
//! the cache is written back before and dropped from the range on after.
//! A call the file system refuses leaves the cache as it was.
//!
//! Allocation on shmem (mode 0, `FALLOC_FL_KEEP_SIZE`) puts a zeroed page
//! in the cache for each page of the range that has none, as
//! `shmem_fallocate` does; a failure takes out the pages this call added
//! and returns the error (ENOSPC past the file system's room, ENOMEM when
//! RAM runs out).
//!
//! Where ferrite differs: Linux keeps faults out of a hole while it is
//! punched (`shmem_falloc`, the invalidate lock); ferrite's second pass
//! catches what a fault mapped meanwhile, as its truncate does.

use crate::filemap::AddressSpace;
use alloc::vec::Vec;

use crate::mmap::errno::{EFBIG, ENOMEM, ENOSPC, EOPNOTSUPP};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

/// Keep the file size (`FALLOC_FL_KEEP_SIZE`).
pub const FALLOC_FL_KEEP_SIZE: u32 = 0x01;
/// Deallocate a range (`FALLOC_FL_PUNCH_HOLE`; needs KEEP_SIZE).
pub const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;
/// Reserved (`FALLOC_FL_NO_HIDE_STALE`).
pub const FALLOC_FL_NO_HIDE_STALE: u32 = 0x04;
/// Remove a range, moving the rest of the file down.
pub const FALLOC_FL_COLLAPSE_RANGE: u32 = 0x08;
/// Zero a range (`FALLOC_FL_ZERO_RANGE`).
pub const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
/// Insert a hole, moving the rest of the file up.
pub const FALLOC_FL_INSERT_RANGE: u32 = 0x20;
/// Unshare shared blocks (`FALLOC_FL_UNSHARE_RANGE`).
pub const FALLOC_FL_UNSHARE_RANGE: u32 = 0x40;
/// Zero a range by writing zeros (`FALLOC_FL_WRITE_ZEROES`).
pub const FALLOC_FL_WRITE_ZEROES: u32 = 0x80;
/// The modes, one of which (or none: allocate) a call names
/// (`FALLOC_FL_MODE_MASK`).
pub const FALLOC_FL_MODE_MASK: u32 = FALLOC_FL_PUNCH_HOLE
    | FALLOC_FL_COLLAPSE_RANGE
    | FALLOC_FL_ZERO_RANGE
    | FALLOC_FL_INSERT_RANGE
    | FALLOC_FL_UNSHARE_RANGE
    | FALLOC_FL_WRITE_ZEROES;

/// What a mode does to the data the cache holds.
enum Effect {
    /// Nothing (allocation, unsharing).
    None,
    /// The range reads as zeros afterwards.
    Zero,
    /// The data from the range's start on moves.
    Shift,
}

fn effect(mode: u32) -> Effect {
    match mode & FALLOC_FL_MODE_MASK {
        FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_WRITE_ZEROES => Effect::Zero,
        FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE => Effect::Shift,
        _ => Effect::None,
    }
}

impl AddressSpace<'_> {
    /// `truncate_pagecache_range(start, end - 1)`: unmap and drop the
    /// cached pages wholly inside `[start, end)` (byte offsets) and zero
    /// the part of the range inside the pages at its two ends.
    pub fn truncate_pagecache_range(&self, cpu: &Cpu<'_>, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let p = PAGE_SIZE as u64;
        let first = start.div_ceil(p);
        let last = end / p;
        if first < last {
            let (f, l) = (page_index(first), page_index(last));
            self.unmap_mapping_pages(cpu, f, l, false);
            self.truncate_inode_pages_range(cpu, f, l);
            // Again: a fault that raced with the first pass may have
            // mapped a page just dropped.
            self.unmap_mapping_pages(cpu, f, l, false);
        }
        // The pages at the two ends that the range covers in part.
        if start / p == (end - 1) / p {
            if first >= last {
                self.zero_cached(cpu, start, end);
            }
        } else {
            if start % p != 0 {
                self.zero_cached(cpu, start, first * p);
            }
            if end % p != 0 {
                self.zero_cached(cpu, last * p, end);
            }
        }
    }

    /// Zero `[start, end)`, inside one page, if that page is cached.
    fn zero_cached(&self, cpu: &Cpu<'_>, start: u64, end: u64) {
        let Some(page) = self.find_get_page(page_index(start / PAGE_SIZE as u64)) else {
            return;
        };
        let off = (start % PAGE_SIZE as u64) as usize;
        let n = (end - start) as usize;
        let a = self.mem.page_address(page).as_ptr();
        // SAFETY: a cached page of ferrite RAM (the reference just taken),
        // and `off + n <= PAGE_SIZE` since the range lies in this page.
        unsafe { core::ptr::write_bytes(a.add(off), 0, n) };
        // A mapping may run these bytes as code (coherent fetch).
        self.mem.stored(a.wrapping_add(off) as usize, n);
        if !self.is_shmem() {
            crate::filemap::set_page_dirty(self.mem, page);
        }
        let _ = cpu.put_page(page);
    }

    /// `fallocate(mode, offset, len)` on this cache, the arguments checked
    /// by the caller (`vfs_fallocate`). A shmem object does it all here
    /// (`shmem_fallocate`: allocation, with at most `room` new pages, and
    /// holes; other modes EOPNOTSUPP); for a file, `fs_op` changes the
    /// file itself and the cache follows.
    pub fn fallocate(
        &self,
        cpu: &Cpu<'_>,
        (mode, offset, len): (u32, u64, u64),
        room: usize,
        fs_op: impl FnOnce() -> Result<(), i32>,
    ) -> Result<(), i32> {
        let end = offset.checked_add(len).ok_or(EFBIG)?;
        if self.is_shmem() {
            return match mode & FALLOC_FL_MODE_MASK {
                FALLOC_FL_PUNCH_HOLE => {
                    self.truncate_pagecache_range(cpu, offset, end);
                    Ok(())
                }
                0 => self.shmem_allocate(cpu, (offset, end), room, mode & FALLOC_FL_KEEP_SIZE != 0),
                _ => Err(EOPNOTSUPP),
            };
        }
        match effect(mode) {
            Effect::None => fs_op()?,
            Effect::Zero => {
                fs_op()?;
                self.truncate_pagecache_range(cpu, offset, end);
            }
            Effect::Shift => {
                self.writeback(cpu)?;
                fs_op()?;
                let first = page_index(offset / PAGE_SIZE as u64);
                self.unmap_mapping_pages(cpu, first, usize::MAX, false);
                self.truncate_inode_pages(cpu, first);
                self.unmap_mapping_pages(cpu, first, usize::MAX, false);
            }
        }
        self.refresh_i_size();
        Ok(())
    }

    /// `shmem_fallocate`'s allocation: a zeroed page for every page of
    /// `[offset, end)` without one, then the size, unless `keep_size`.
    fn shmem_allocate(
        &self,
        cpu: &Cpu<'_>,
        (offset, end): (u64, u64),
        mut room: usize,
        keep_size: bool,
    ) -> Result<(), i32> {
        let p = PAGE_SIZE as u64;
        let last = page_index(end.div_ceil(p));
        // The runs of indices this call added, to take out again if it
        // fails (Linux marks such pages instead): at most one run more
        // than there were pages cached in the range.
        let mut added: Vec<(usize, usize)> = Vec::new();
        let mut r = Ok(());
        for i in page_index(offset / p)..last {
            if let Some(page) = self.find_get_page(i) {
                let _ = cpu.put_page(page);
                continue;
            }
            if room == 0 {
                r = Err(ENOSPC);
                break;
            }
            room -= 1;
            match self.read_cache_page(cpu, i) {
                Ok(page) => {
                    let _ = cpu.put_page(page);
                }
                Err(e) => {
                    r = Err(e);
                    break;
                }
            }
            match added.last_mut() {
                Some(run) if run.1 == i => run.1 = i + 1,
                _ => {
                    if added.try_reserve(1).is_err() {
                        self.truncate_inode_pages_range(cpu, i, i + 1);
                        r = Err(ENOMEM);
                        break;
                    }
                    added.push((i, i + 1));
                }
            }
        }
        if let Err(e) = r {
            for (f, l) in added {
                self.unmap_mapping_pages(cpu, f, l, false);
                self.truncate_inode_pages_range(cpu, f, l);
            }
            return Err(e);
        }
        if !keep_size && end > self.backing().size() {
            self.backing().set_size(end)?;
            self.refresh_i_size();
        }
        Ok(())
    }
}

/// A page index as the cache's key (indices past `usize` are past any
/// cached page: saturate).
fn page_index(index: u64) -> usize {
    usize::try_from(index).unwrap_or(usize::MAX)
}
