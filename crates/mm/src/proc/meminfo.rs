//! `/proc/meminfo` (fs/proc/meminfo.c), the fields ferrite computes, in
//! Linux's order.
//!
//! Every line is the label and its colon padded to 16 columns, the value in
//! kB right-aligned in 8 (a wider number widens the line), then ` kB`.
//!
//! The LRU lines (`Active`, `Inactive`, their `(anon)`/`(file)` halves,
//! `Unevictable`) are the lengths of the LRU lists (mm/vmscan.rs), read
//! together under the LRU lock.
//!
//! Left out, because ferrite has nothing they could honestly report: `Zswap`/`Zswapped`,
//! `SecPageTables`, `NFS_Unstable`, `Bounce`, `WritebackTmp`, `CommitLimit`
//! and `Committed_AS` (no overcommit accounting yet), the `Vmalloc*` lines,
//! `Percpu`, the huge-page lines and the `DirectMap*` lines.
//!
//! Printed as constants because they are exactly zero in ferrite: `Buffers`
//! (no block-device buffer cache), `SwapCached`, `SwapTotal` and `SwapFree`
//! (no swap).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::mem::Mem;
use crate::page::PAGE_SIZE;
use crate::vmstat::NodeStatItem;

/// `si_mem_available()`: pages that could be allocated without swapping.
///
/// Free pages minus the reserve the kernel keeps (`totalreserve_pages`;
/// ferrite's one zone has no lowmem reserve, so it is the high watermark),
/// plus the page cache and reclaimable slab, each less what reclaim could
/// not take without dropping below the low watermark (at most half of it).
/// Never negative.
pub fn si_mem_available(
    free: usize,
    totalreserve: usize,
    wmark_low: usize,
    pagecache: usize,
    reclaimable: usize,
) -> usize {
    let mut avail = free as i128 - totalreserve as i128;
    avail += (pagecache - (pagecache / 2).min(wmark_low)) as i128;
    avail += (reclaimable - (reclaimable / 2).min(wmark_low)) as i128;
    avail.max(0) as usize
}

/// The fields of `mem`'s /proc/meminfo as (label without colon, kB), in order.
pub fn meminfo_fields(mem: &Mem) -> Vec<(&'static str, usize)> {
    use NodeStatItem::*;
    let kb = |pages: usize| pages * (PAGE_SIZE / 1024);
    let st = |item| mem.vmstat.get(item);
    let (_min, low, high) = mem.watermarks();
    let free = mem.nr_free_pages();
    let file_pages = st(NrFilePages);
    let sreclaimable = st(NrSlabReclaimable);
    let sunreclaim = st(NrSlabUnreclaimable);
    let swapcache = 0;
    let buffers = 0;
    let cached = file_pages.saturating_sub(swapcache + buffers);
    let available = si_mem_available(free, high, low, file_pages, sreclaimable);
    let lru = crate::vmscan::lru_sizes(mem);
    let list = |l: crate::vmscan::LruList| lru[l as usize];
    use crate::vmscan::LruList::*;
    alloc::vec![
        ("MemTotal", kb(mem.managed_pages())),
        ("MemFree", kb(free)),
        ("MemAvailable", kb(available)),
        ("Buffers", kb(buffers)),
        ("Cached", kb(cached)),
        ("SwapCached", kb(swapcache)),
        ("Active", kb(list(ActiveAnon) + list(ActiveFile))),
        ("Inactive", kb(list(InactiveAnon) + list(InactiveFile))),
        ("Active(anon)", kb(list(ActiveAnon))),
        ("Inactive(anon)", kb(list(InactiveAnon))),
        ("Active(file)", kb(list(ActiveFile))),
        ("Inactive(file)", kb(list(InactiveFile))),
        ("Unevictable", kb(list(Unevictable))),
        ("Mlocked", kb(st(NrMlock))),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", kb(st(NrFileDirty))),
        ("Writeback", kb(st(NrWriteback))),
        ("AnonPages", kb(st(NrAnonMapped))),
        ("Mapped", kb(st(NrFileMapped))),
        ("Shmem", kb(st(NrShmem))),
        ("KReclaimable", kb(sreclaimable)),
        ("Slab", kb(sreclaimable + sunreclaim)),
        ("SReclaimable", kb(sreclaimable)),
        ("SUnreclaim", kb(sunreclaim)),
        ("KernelStack", st(NrKernelStackKb)),
        ("PageTables", kb(st(NrPageTable))),
    ]
}

/// Lines `Label:` padded to 16 columns, the kB value right-aligned in 8, ` kB`.
pub fn format_meminfo(fields: &[(&str, usize)]) -> String {
    let mut s = String::with_capacity(fields.len() * 28);
    for (label, kb) in fields {
        let start = s.len();
        s.push_str(label);
        s.push(':');
        while s.len() - start < 16 {
            s.push(' ');
        }
        let _ = writeln!(s, "{kb:>8} kB");
    }
    s
}

/// `/proc/meminfo` of `mem`.
pub fn meminfo(mem: &Mem) -> String {
    format_meminfo(&meminfo_fields(mem))
}
