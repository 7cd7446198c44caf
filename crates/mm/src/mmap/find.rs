//! `find_vma`, `find_vma_prev`, `find_vma_intersection`, `vma_lookup`
//! (mm/mmap.c) with the notes' one-entry `mmap_cache`, and iteration.
//!
//! The cache holds the last VMA found; a lookup whose address falls inside
//! it is a hit and skips the tree. Every change to the VMA set empties it
//! (Linux's `vmacache_invalidate`).

use core::sync::atomic::Ordering::Relaxed;

use super::vma::VmaPtr;
use super::{MmapState, VmAreaStruct};
use crate::maple::Entry;

/// The VMA a tree entry points to.
///
/// # Safety
/// `e` comes from the maple tree of a live mm whose state the caller
/// borrows for `'a` (tree values are that mm's live VMAs, freed only
/// through `&mut MmapState`).
pub(crate) unsafe fn entry_vma<'a>(e: Entry) -> &'a VmAreaStruct {
    // SAFETY: the caller's promise.
    unsafe { VmaPtr::from_tree(e.2).as_ref() }
}

/// Count an event the way Linux counts VM events (`count_vm_event`): a plain
/// increment, no locked instruction. Exact for one thread; concurrent
/// readers under the shared mmap lock may lose an increment, which a
/// statistic tolerates (Linux's per-CPU event counters are approximate too).
#[inline]
fn event(c: &core::sync::atomic::AtomicU64) {
    c.store(c.load(Relaxed).wrapping_add(1), Relaxed);
}

impl MmapState<'_> {
    /// `find_vma`: the first VMA whose `vm_end` is above `addr`; it
    /// contains `addr` or lies wholly above it.
    pub fn find_vma(&self, addr: usize) -> Option<&VmAreaStruct> {
        event(&self.cache_lookups);
        if let Some(c) = VmaPtr::from_value(self.mmap_cache.load(Relaxed)) {
            // SAFETY: the cache holds a VMA of this mm's tree and is emptied
            // before any VMA is freed or moved; `&self` keeps it so.
            let v = unsafe { c.as_ref() };
            if v.contains(addr) {
                event(&self.cache_hits);
                return Some(v);
            }
        }
        let e = self.mt.find(addr)?;
        self.mmap_cache.store(e.2, Relaxed);
        // SAFETY: an entry of this mm's tree, borrowed with `self`.
        Some(unsafe { entry_vma(e) })
    }

    /// The tree's `find(addr)`: the first VMA ending above `addr`, without
    /// the `mmap_cache`.
    pub(crate) fn tree_vma(&self, addr: usize) -> Option<&VmAreaStruct> {
        // SAFETY: an entry of this mm's tree, borrowed with `self`.
        self.mt.find(addr).map(|e| unsafe { entry_vma(e) })
    }

    /// The tree's `find_prev(addr)`: the last VMA starting below `addr`.
    pub(crate) fn tree_vma_prev(&self, addr: usize) -> Option<&VmAreaStruct> {
        // SAFETY: an entry of this mm's tree, borrowed with `self`.
        self.mt.find_prev(addr).map(|e| unsafe { entry_vma(e) })
    }

    /// The tree's `find_intersection(start, end)`: the first VMA
    /// overlapping `[start, end)`.
    pub(crate) fn tree_vma_intersection(&self, start: usize, end: usize) -> Option<&VmAreaStruct> {
        // SAFETY: an entry of this mm's tree, borrowed with `self`.
        self.mt
            .find_intersection(start, end)
            .map(|e| unsafe { entry_vma(e) })
    }

    /// The VMA `tree_vma(addr)` finds, to change it in place (its bounds
    /// must stay those of its tree range).
    pub(crate) fn tree_vma_mut(&mut self, addr: usize) -> Option<&mut VmAreaStruct> {
        let (_, _, p) = self.mt.find(addr)?;
        // SAFETY: a live VMA of this mm; `&mut self` is the only way to it.
        Some(unsafe { VmaPtr::from_tree(p).as_mut() })
    }

    /// `find_vma_prev`: `find_vma(addr)` and the VMA just before it.
    pub fn find_vma_prev(&self, addr: usize) -> (Option<&VmAreaStruct>, Option<&VmAreaStruct>) {
        let v = self.find_vma(addr);
        let prev = self.tree_vma_prev(addr);
        (v, prev)
    }

    /// `find_vma_intersection`: the first VMA overlapping `[start, end)`.
    pub fn find_vma_intersection(&self, start: usize, end: usize) -> Option<&VmAreaStruct> {
        if start >= end {
            return None;
        }
        self.find_vma(start).filter(|v| v.vm_start < end)
    }

    /// `vma_lookup`: the VMA containing `addr`.
    pub fn vma_lookup(&self, addr: usize) -> Option<&VmAreaStruct> {
        self.find_vma(addr).filter(|v| v.vm_start <= addr)
    }

    /// Every VMA in address order.
    pub fn vmas(&self) -> impl Iterator<Item = &VmAreaStruct> + '_ {
        // SAFETY: entries of this mm's tree, borrowed with `self`.
        self.mt.iter().map(|e| unsafe { entry_vma(e) })
    }

    /// `(hits, lookups)` of the `mmap_cache`.
    pub fn cache_stats(&self) -> (u64, u64) {
        (
            self.cache_hits.load(Relaxed),
            self.cache_lookups.load(Relaxed),
        )
    }

    /// Empty the `mmap_cache` (`vmacache_invalidate`).
    pub(crate) fn invalidate_cache(&self) {
        self.mmap_cache.store(0, Relaxed);
    }

    /// Check the index and the counters against each other.
    pub fn validate(&self) -> Result<(), &'static str> {
        self.mt.validate()?;
        if self.mt.len() != self.map_count {
            return Err("map_count does not match the tree");
        }
        let mut pages = 0;
        for (s, e, v) in self.mt.iter() {
            pages += (e - s) >> 12;
            // SAFETY: an entry of this mm's tree, borrowed with `self`.
            let vma = unsafe { entry_vma((s, e, v)) };
            if (vma.vm_start, vma.vm_end) != (s, e) {
                return Err("VMA bounds differ from its tree range");
            }
        }
        if pages != self.total_vm {
            return Err("total_vm does not match the VMAs");
        }
        Ok(())
    }
}
