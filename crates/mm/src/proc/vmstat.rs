//! `/proc/vmstat` (mm/vmstat.c `vmstat_show`): `name value` lines, the
//! zone and node counters first, then the events, in Linux's order (the
//! order of `vmstat_text`).
//!
//! Printed: the counters ferrite keeps (free pages, the LRU list lengths
//! for the one zone and the node, mlocked, slab, anon, mapped, file,
//! dirty, writeback, shmem pages, kernel stack in KiB, page tables) and the
//! fault and reclaim events (`pgactivate`, `pgdeactivate`, `pgfault`,
//! `pgmajfault`, `pgsteal_*`, `pgscan_*`, `nr_vmscan_write`). Left out:
//! what ferrite does not count (workingset, NUMA, THP, compaction, swap,
//! `pgpgin`/`pgpgout`, the per-zone allocation counters). `pgscan_kswapd`
//! and `pgsteal_kswapd` are 0: reclaim is direct only.

use alloc::string::String;
use core::fmt::Write;

use crate::mem::Mem;
use crate::vmscan::{lru_sizes, LruList};
use crate::vmstat::{NodeStatItem, VmEventItem};

/// The lines of `mem`'s /proc/vmstat as (name, value), in order.
pub fn vmstat_fields(mem: &Mem) -> alloc::vec::Vec<(&'static str, usize)> {
    use NodeStatItem::*;
    use VmEventItem::*;
    let st = |i| mem.vmstat.get(i);
    let ev = |i| mem.vmstat.event(i);
    let lru = lru_sizes(mem);
    let l = |x: LruList| lru[x as usize];
    alloc::vec![
        ("nr_free_pages", mem.nr_free_pages()),
        ("nr_zone_inactive_anon", l(LruList::InactiveAnon)),
        ("nr_zone_active_anon", l(LruList::ActiveAnon)),
        ("nr_zone_inactive_file", l(LruList::InactiveFile)),
        ("nr_zone_active_file", l(LruList::ActiveFile)),
        ("nr_zone_unevictable", l(LruList::Unevictable)),
        ("nr_zone_write_pending", st(NrFileDirty) + st(NrWriteback)),
        ("nr_mlock", st(NrMlock)),
        ("nr_inactive_anon", l(LruList::InactiveAnon)),
        ("nr_active_anon", l(LruList::ActiveAnon)),
        ("nr_inactive_file", l(LruList::InactiveFile)),
        ("nr_active_file", l(LruList::ActiveFile)),
        ("nr_unevictable", l(LruList::Unevictable)),
        ("nr_slab_reclaimable", st(NrSlabReclaimable)),
        ("nr_slab_unreclaimable", st(NrSlabUnreclaimable)),
        ("nr_anon_pages", st(NrAnonMapped)),
        ("nr_mapped", st(NrFileMapped)),
        ("nr_file_pages", st(NrFilePages)),
        ("nr_dirty", st(NrFileDirty)),
        ("nr_writeback", st(NrWriteback)),
        ("nr_shmem", st(NrShmem)),
        ("nr_vmscan_write", ev(NrVmscanWrite)),
        ("nr_kernel_stack", st(NrKernelStackKb)),
        ("nr_page_table_pages", st(NrPageTable)),
        ("pgactivate", ev(PgActivate)),
        ("pgdeactivate", ev(PgDeactivate)),
        ("pgfault", ev(PgFault)),
        ("pgmajfault", ev(PgMajFault)),
        ("pgsteal_kswapd", ev(PgStealKswapd)),
        ("pgsteal_direct", ev(PgStealDirect)),
        ("pgscan_kswapd", ev(PgScanKswapd)),
        ("pgscan_direct", ev(PgScanDirect)),
    ]
}

/// `name value` lines.
pub fn format_vmstat(fields: &[(&str, usize)]) -> String {
    let mut s = String::with_capacity(fields.len() * 24);
    for (name, v) in fields {
        let _ = writeln!(s, "{name} {v}");
    }
    s
}

/// `/proc/vmstat` of `mem`.
pub fn vmstat(mem: &Mem) -> String {
    format_vmstat(&vmstat_fields(mem))
}
