//! `/proc/PID/pagemap` (fs/proc/task_mmu.c `pagemap_read`,
//! `pte_to_pagemap_entry`, `pagemap_pte_hole`): one 64-bit entry per
//! virtual page, the entry of page `n` at byte offset `n * 8`.
//!
//! An entry has the page frame number in bits 0-54 (0 unless the reader
//! opened the file with `CAP_SYS_ADMIN`, as Linux does since 4.2),
//! soft-dirty in bit 55, "exclusively mapped" (mapcount 1) in bit 56,
//! "file page or shared anonymous" in bit 61, swapped in bit 62 and
//! present in bit 63. A page outside every VMA, or inside one but never
//! faulted in, reads as 0.
//!
//! Where ferrite differs: it has no swap (bit 62 is never set) and does not
//! track soft-dirty (no `clear_refs`): bit 55 is 0, as on a kernel built
//! without `CONFIG_MEM_SOFT_DIRTY` (riscv64 before 6.17). The zero page
//! reads present and not exclusive, with its PFN, as on Linux.

use alloc::vec::Vec;

use crate::fault::mapped_page;
use crate::mmap::MmStruct;
use crate::page::PAGE_SHIFT;
use crate::pgtable::TASK_SIZE;
use crate::rmap::page_anon;

/// `PM_ENTRY_BYTES`.
pub const PM_ENTRY_BYTES: u64 = 8;
/// `PM_PFRAME_MASK`: bits 0-54.
pub const PM_PFRAME_MASK: u64 = (1 << 55) - 1;
/// `PM_SOFT_DIRTY`.
pub const PM_SOFT_DIRTY: u64 = 1 << 55;
/// `PM_MMAP_EXCLUSIVE`.
pub const PM_MMAP_EXCLUSIVE: u64 = 1 << 56;
/// `PM_FILE`: a file page or shared anonymous memory.
pub const PM_FILE: u64 = 1 << 61;
/// `PM_SWAP`.
pub const PM_SWAP: u64 = 1 << 62;
/// `PM_PRESENT`.
pub const PM_PRESENT: u64 = 1 << 63;

/// The number of entries the file has: one per page below `TASK_SIZE`
/// (a read at or beyond the end returns nothing, as `pagemap_read` stops at
/// `mm->task_size`).
pub const PAGEMAP_ENTRIES: u64 = (TASK_SIZE >> PAGE_SHIFT) as u64;

/// The entries of the `n` virtual pages from page number `first` of `mm`
/// (fewer when they would reach past [`PAGEMAP_ENTRIES`]); `show_pfn`:
/// the opener had `CAP_SYS_ADMIN`. Takes the mmap lock for reading (a
/// spinning wait, as the other `/proc` views here) and the page-table lock.
pub fn pagemap_entries(mm: &MmStruct<'_>, first: u64, n: usize, show_pfn: bool) -> Vec<u64> {
    let end = first.saturating_add(n as u64).min(PAGEMAP_ENTRIES);
    let mut out = Vec::with_capacity(end.saturating_sub(first) as usize);
    if first >= end {
        return out;
    }
    let st = mm.mmap_lock.read();
    let pg = mm.page_table_lock.lock();
    let mut vpn = first;
    while vpn < end {
        let va = (vpn as usize) << PAGE_SHIFT;
        // The VMA at or after `va`: a hole up to its start reads zeros.
        let Some(v) = st.find_vma(va) else {
            out.resize(out.len() + (end - vpn) as usize, 0);
            break;
        };
        if va < v.vm_start {
            let to = ((v.vm_start >> PAGE_SHIFT) as u64).min(end);
            out.resize(out.len() + (to - vpn) as usize, 0);
            vpn = to;
            continue;
        }
        let to = ((v.vm_end >> PAGE_SHIFT) as u64).min(end);
        while vpn < to {
            let va = (vpn as usize) << PAGE_SHIFT;
            let pte = pg.pt.as_ref().and_then(|pt| pt.lookup(va).map(|e| (pt, e)));
            let entry = match pte {
                Some((pt, e)) if e.is_present() => {
                    let mut x = PM_PRESENT;
                    if show_pfn {
                        x |= e.pfn() & PM_PFRAME_MASK;
                    }
                    if let Some(page) = mapped_page(pt.mem(), e) {
                        if !page_anon(page) {
                            x |= PM_FILE;
                        }
                        if page.mapcount() == 1 {
                            x |= PM_MMAP_EXCLUSIVE;
                        }
                    }
                    x
                }
                _ => 0,
            };
            out.push(entry);
            vpn += 1;
        }
    }
    out
}
