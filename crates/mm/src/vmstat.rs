//! Node-wide page counters (include/linux/mmzone.h `enum node_stat_item`,
//! mm/vmstat.c). /proc/meminfo is computed from these and the zone.
//! Free pages are counted by the zone itself (`NR_FREE_PAGES`).

use core::sync::atomic::{AtomicIsize, Ordering::Relaxed};

/// A counted kind of page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum NodeStatItem {
    /// Page-cache pages (`NR_FILE_PAGES`).
    NrFilePages,
    /// Mapped anonymous pages (`NR_ANON_MAPPED`).
    NrAnonMapped,
    /// Mapped page-cache pages (`NR_FILE_MAPPED`).
    NrFileMapped,
    /// Shared-memory pages (`NR_SHMEM`).
    NrShmem,
    /// Dirty page-cache pages (`NR_FILE_DIRTY`).
    NrFileDirty,
    /// Pages under writeback (`NR_WRITEBACK`).
    NrWriteback,
    /// Pages of reclaimable slab caches (`NR_SLAB_RECLAIMABLE_B`, in pages here).
    NrSlabReclaimable,
    /// Pages of other slab caches (`NR_SLAB_UNRECLAIMABLE_B`, in pages here).
    NrSlabUnreclaimable,
    /// Kernel stacks, in KiB (`NR_KERNEL_STACK_KB`).
    NrKernelStackKb,
    /// Page-table pages (`NR_PAGETABLE`).
    NrPageTable,
    /// mlock()ed pages (`NR_MLOCK`).
    NrMlock,
}

const NR_ITEMS: usize = NodeStatItem::NrMlock as usize + 1;

/// The counters of node 0.
#[derive(Default)]
pub struct VmStat {
    items: [AtomicIsize; NR_ITEMS],
}

impl VmStat {
    /// `mod_node_page_state()`.
    #[inline]
    pub fn add(&self, item: NodeStatItem, delta: isize) {
        self.items[item as usize].fetch_add(delta, Relaxed);
    }
    /// `node_page_state()`, clamped at zero as Linux clamps.
    #[inline]
    pub fn get(&self, item: NodeStatItem) -> usize {
        self.items[item as usize].load(Relaxed).max(0) as usize
    }
}
