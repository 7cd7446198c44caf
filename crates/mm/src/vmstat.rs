//! Node-wide page counters (include/linux/mmzone.h `enum node_stat_item`,
//! mm/vmstat.c) and event counters (include/linux/vm_event_item.h
//! `enum vm_event_item`). /proc/meminfo is computed from these, the zone
//! and the LRU lists; /proc/vmstat prints them. Free pages are counted by
//! the zone itself (`NR_FREE_PAGES`). Where ferrite differs: the event
//! counters are one set of atomics, not per-CPU counters summed on read.

use core::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

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

/// A counted event (`enum vm_event_item`), the ones reclaim and faults
/// produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum VmEventItem {
    /// Page faults handled (`PGFAULT`).
    PgFault,
    /// Faults that had to read the page from the file (`PGMAJFAULT`).
    PgMajFault,
    /// Pages moved to an active list (`PGACTIVATE`).
    PgActivate,
    /// Pages moved to an inactive list (`PGDEACTIVATE`).
    PgDeactivate,
    /// Pages scanned by the background reclaimer (`PGSCAN_KSWAPD`).
    PgScanKswapd,
    /// Pages scanned by direct reclaim (`PGSCAN_DIRECT`).
    PgScanDirect,
    /// Pages reclaimed by the background reclaimer (`PGSTEAL_KSWAPD`).
    PgStealKswapd,
    /// Pages reclaimed by direct reclaim (`PGSTEAL_DIRECT`).
    PgStealDirect,
    /// Dirty pages written back by reclaim (`PGPGOUT`-like; Linux counts
    /// `nr_vmscan_write`).
    NrVmscanWrite,
}

const NR_EVENTS: usize = VmEventItem::NrVmscanWrite as usize + 1;

/// The counters of node 0.
#[derive(Default)]
pub struct VmStat {
    items: [AtomicIsize; NR_ITEMS],
    events: [AtomicUsize; NR_EVENTS],
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
    /// `count_vm_events()`.
    #[inline]
    pub fn count_event(&self, item: VmEventItem, n: usize) {
        self.events[item as usize].fetch_add(n, Relaxed);
    }
    /// The event count (`all_vm_events`).
    #[inline]
    pub fn event(&self, item: VmEventItem) -> usize {
        self.events[item as usize].load(Relaxed)
    }
}
