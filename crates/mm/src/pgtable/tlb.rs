//! What the harts must flush after a page-table change: Linux's
//! `struct mmu_gather` (include/asm-generic/tlb.h, mm/mmu_gather.c) and the
//! ranges of `flush_tlb_range()` (arch/riscv/mm/tlbflush.c).
//!
//! A [`TlbFlush`] starts with the CPUs that may hold translations of the mm
//! (`mm_cpumask`, [`crate::mmap::MmStruct::mm_cpumask`]), and page-table
//! operations that remove or downgrade a mapping widen its range. An mm's
//! own changes are recorded in its pending gather, which the kernel carries
//! out before the task returns to user mode (locally, and by shootdown on
//! the other harts of the mm's `mm_cpumask`). The page-cache walkers, which
//! change *other* mms' page tables and then free or clean the page, flush
//! at once through [`Mem::set_tlb_flush_hook`]'s synchronous remote flush
//! ([`flush_tlb_mm_range`], Linux's `flush_tlb_page` in `page_mkclean_one`
//! and the unmap in `unmap_mapping_range`), or, in reclaim, once per batch
//! ([`TlbUnmapBatch`], Linux's `tlbflush_unmap_batch` with
//! `try_to_unmap_flush` before the frees and `try_to_unmap_flush_dirty`
//! before a page is written back).
//!
//! Unmapped pages are put only after the TLB flush, as Linux's
//! `tlb_flush_mmu` does (flush, then free the batch): the mm's own unmaps
//! (munmap, mremap's shrinks and moves' unmaps, MADV_DONTNEED/MADV_REMOVE,
//! exit), through `zap`, hold the pages in a fixed [`PageBatch`] of
//! [`PAGE_BATCH`] and, when it fills and at the end, shoot down the *other*
//! harts of the mm's `mm_cpumask` synchronously ([`flush_tlb_others`])
//! before putting them; the calling hart's own flush stays in the mm's
//! pending gather, carried out before it returns to user mode (it cannot
//! touch the pages in between: it is in the kernel). Truncation's
//! `unmap_mapping_range` uses the same batch, flushing every hart of the
//! mask. Where ferrite differs: a full batch flushes the zap's whole range
//! rather than chaining a second batch, and the page-table pages
//! `free_pgtables` frees are not yet deferred behind the shootdown
//! (Linux's `tlb_remove_table`).
//! Remote flushes are full flushes of each target hart's TLB. As in
//! Linux riscv, a range of more than [`TLB_FLUSH_ALL_THRESHOLD`] pages becomes
//! a flush of everything (`tlb_flush_all_threshold`).
//!
//! A gather also records whether an executable mapping of a page the
//! instruction caches have not seen was installed (riscv's
//! `flush_icache_pte`, [`flush_icache_pte`]): the harts then run `fence.i`
//! (Linux's `flush_icache_all`) before they run the mm again.

use core::sync::atomic::Ordering::SeqCst;

use crate::mem::Mem;
use crate::mmap::MmStruct;
use crate::page::{Page, PageFlags};
use crate::pgtable::Pte;

use crate::page::PAGE_SIZE;

/// Above this many pages a range flush becomes a full flush (Linux riscv: 64).
pub const TLB_FLUSH_ALL_THRESHOLD: usize = 64;

/// What to flush.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushRange {
    /// Nothing changed.
    None,
    /// Every page in `[start, end)` (`flush_tlb_range`).
    Range {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// Everything of the mm (`flush_tlb_mm`).
    All,
}

/// `struct mmu_gather`: which CPUs must flush which addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlbFlush {
    cpus: u64,
    range: FlushRange,
    freed_tables: bool,
    icache: bool,
}

impl TlbFlush {
    /// A gather for an mm whose translations CPUs in `cpus` (bit n = CPU n,
    /// the `mm_cpumask`) may hold (`tlb_gather_mmu`).
    pub const fn new(cpus: u64) -> TlbFlush {
        TlbFlush {
            cpus,
            range: FlushRange::None,
            freed_tables: false,
            icache: false,
        }
    }

    /// The CPUs that must flush.
    pub const fn cpus(&self) -> u64 {
        self.cpus
    }

    /// Add CPU `cpu` (0..64) to the mask, e.g. when the mm ran there.
    pub fn add_cpu(&mut self, cpu: usize) {
        if cpu < 64 {
            self.cpus |= 1 << cpu;
        }
    }

    /// What must be flushed.
    pub const fn range(&self) -> FlushRange {
        self.range
    }

    /// Whether anything must be flushed.
    pub fn needs_flush(&self) -> bool {
        self.range != FlushRange::None
    }

    /// Whether page-table pages were freed (`tlb->freed_tables`): the harts
    /// must drop cached non-leaf entries too.
    pub const fn freed_tables(&self) -> bool {
        self.freed_tables
    }

    /// `tlb_flush_pte_range()`/`__tlb_adjust_range()`: widen the range to
    /// include `[start, end)` (rounded out to pages).
    pub fn add_range(&mut self, start: usize, end: usize) {
        if end <= start {
            return;
        }
        let start = start & !(PAGE_SIZE - 1);
        let end = end.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        self.range = match self.range {
            FlushRange::All => FlushRange::All,
            FlushRange::None => FlushRange::Range { start, end },
            FlushRange::Range { start: s, end: e } => FlushRange::Range {
                start: s.min(start),
                end: e.max(end),
            },
        };
        if let FlushRange::Range { start, end } = self.range {
            if (end - start) / PAGE_SIZE > TLB_FLUSH_ALL_THRESHOLD {
                self.range = FlushRange::All;
            }
        }
    }

    /// Add one page.
    pub fn add_page(&mut self, va: usize) {
        self.add_range(va, va.saturating_add(PAGE_SIZE));
    }

    /// Record that table pages covering `[start, end)` were freed.
    pub fn add_freed_tables(&mut self, start: usize, end: usize) {
        self.freed_tables = true;
        self.add_range(start, end);
    }

    /// Ask for a flush of everything.
    pub fn flush_all(&mut self) {
        self.range = FlushRange::All;
    }

    /// Whether a hart that flushes `self` drops the translation of `va`.
    pub fn covers(&self, va: usize) -> bool {
        match self.range {
            FlushRange::None => false,
            FlushRange::All => true,
            FlushRange::Range { start, end } => (start..end).contains(&va),
        }
    }

    /// Whether every hart must flush its instruction cache (`fence.i`,
    /// `flush_icache_all`) before running the mm: an executable mapping of
    /// a page not yet `PG_dcache_clean` was installed.
    pub const fn needs_icache_flush(&self) -> bool {
        self.icache
    }

    /// Ask for an instruction-cache flush on every hart.
    pub fn set_icache_flush(&mut self) {
        self.icache = true;
    }

    /// Add everything `other` asks for (its CPUs, range, freed tables and
    /// instruction-cache flush) to `self`.
    pub fn merge(&mut self, other: &TlbFlush) {
        self.cpus |= other.cpus;
        match other.range {
            FlushRange::None => {}
            FlushRange::All => self.range = FlushRange::All,
            FlushRange::Range { start, end } => self.add_range(start, end),
        }
        self.freed_tables |= other.freed_tables;
        self.icache |= other.icache;
    }

    /// The range as the flush hook takes it: None for nothing to flush,
    /// `Some(None)` for everything, `Some(Some((start, end)))` for a range.
    pub fn hook_range(&self) -> Option<Option<(usize, usize)>> {
        match self.range {
            FlushRange::None => None,
            FlushRange::All => Some(None),
            FlushRange::Range { start, end } => Some(Some((start, end))),
        }
    }

    /// Forget the range once the harts have flushed (`__tlb_reset_range`).
    pub fn reset(&mut self) {
        self.range = FlushRange::None;
        self.freed_tables = false;
        self.icache = false;
    }
}

/// riscv's `flush_icache_pte`, run for every leaf entry installed: when
/// `pte` is present and executable and its page is not yet
/// `PG_dcache_clean`, set the flag and record an instruction-cache flush
/// in `tlb`. Frames without a `struct page` are left alone.
#[inline]
pub fn flush_icache_pte(mem: &Mem, pte: Pte, tlb: &mut TlbFlush) {
    if !pte.is_present() || !pte.is_exec() {
        return;
    }
    if let Some(page) = mem.pfn_to_page(pte.pfn() as usize) {
        if !page.test_and_set_flag(PageFlags::DCACHE_CLEAN) {
            tlb.set_icache_flush();
        }
    }
}

/// `flush_tlb_mm_range` for a walker that changed `mm`'s page table (under
/// its page-table lock) and is about to free or clean the page: every hart
/// in the mm's `mm_cpumask` (read now, after the change: see
/// [`MmStruct::mm_cpumask`]) drops the translations of `tlb`'s range
/// before this returns, through the machine's synchronous remote flush
/// ([`Mem::flush_tlb_harts`]). Nothing is done when `tlb` recorded no
/// change. The calling hart, if it is in the mask, is in the kernel and
/// flushes when it next enters user mode (and its task's own pending
/// flush is still carried out then, as for any change).
pub fn flush_tlb_mm_range(mem: &Mem, mm: &MmStruct<'_>, tlb: &TlbFlush) {
    let Some(range) = tlb.hook_range() else {
        return;
    };
    let cpus = mm.mm_cpumask();
    if cpus != 0 {
        mem.flush_tlb_harts_mm(cpus, range, mm.context_id.load(SeqCst));
    }
}

/// Linux's `struct tlbflush_unmap_batch` (`current->tlb_ubc`): the remote
/// flushes reclaim's `try_to_unmap` owes, gathered over a batch of pages
/// so that one shootdown covers them all (`set_tlb_ubc_flush_pending`),
/// carried out by [`TlbUnmapBatch::flush`] (`try_to_unmap_flush`) before
/// the batch's pages are freed, and by [`TlbUnmapBatch::flush_dirty`]
/// (`try_to_unmap_flush_dirty`) before a page is written back when a
/// dirty PTE was removed (a hart's TLB caches write permission only with
/// the D bit set, so only then could a stale entry still write the page).
///
/// As in Linux riscv (`arch_tlbbatch_add_pending`), the CPUs are the union
/// of the mms' `mm_cpumask`s; the range is the union of the pages, and
/// becomes a flush of everything past [`TLB_FLUSH_ALL_THRESHOLD`] pages.
#[derive(Clone, Debug)]
pub struct TlbUnmapBatch {
    flush: TlbFlush,
    writable: bool,
}

impl Default for TlbUnmapBatch {
    fn default() -> Self {
        TlbUnmapBatch {
            flush: TlbFlush::new(0),
            writable: false,
        }
    }
}

impl TlbUnmapBatch {
    /// `set_tlb_ubc_flush_pending`: `mm` changed as `tlb` records (read its
    /// `mm_cpumask` now, after the change); `dirty`: a removed PTE was
    /// dirty.
    pub fn add_pending(&mut self, mm: &MmStruct<'_>, tlb: &TlbFlush, dirty: bool) {
        if !tlb.needs_flush() {
            return;
        }
        let mut t = tlb.clone();
        t.cpus = mm.mm_cpumask();
        self.flush.merge(&t);
        self.writable |= dirty;
    }

    /// A removed PTE was dirty (`tlb_ubc->writable`): the flush must come
    /// before the page is written back.
    pub fn add_dirty(&mut self) {
        self.writable = true;
    }

    /// Whether a flush is owed (`tlb_ubc->flush_required`).
    pub fn flush_required(&self) -> bool {
        self.flush.needs_flush()
    }

    /// `try_to_unmap_flush`: carry out the owed flush on every CPU of the
    /// gathered masks, and start a new batch.
    pub fn flush(&mut self, mem: &Mem) {
        if let Some(range) = self.flush.hook_range() {
            if self.flush.cpus() != 0 {
                mem.flush_tlb_harts(self.flush.cpus(), range);
            }
        }
        *self = TlbUnmapBatch::default();
    }

    /// `try_to_unmap_flush_dirty`: flush now if a removed PTE was dirty.
    pub fn flush_dirty(&mut self, mem: &Mem) {
        if self.writable {
            self.flush(mem);
        }
    }
}

/// Pages a [`PageBatch`] holds before the TLBs must be flushed and the
/// pages put.
pub const PAGE_BATCH: usize = 64;

/// The page half of Linux's `struct mmu_gather` (`struct
/// mmu_gather_batch`, filled by `tlb_remove_page`, emptied by
/// `tlb_batch_pages_flush` after `tlb_flush_mmu_tlbonly`): the references
/// of pages just unmapped, put only once the harts that may still
/// translate to them have flushed. A fixed array of pfns, so nothing is
/// allocated under the page-table lock; Linux chains further batches
/// instead of flushing when one fills, ferrite flushes and reuses it.
pub struct PageBatch {
    pfns: [u32; PAGE_BATCH],
    len: usize,
}

impl Default for PageBatch {
    fn default() -> Self {
        PageBatch {
            pfns: [0; PAGE_BATCH],
            len: 0,
        }
    }
}

impl PageBatch {
    /// No room left: flush, then [`PageBatch::put_all`].
    pub fn is_full(&self) -> bool {
        self.len == PAGE_BATCH
    }

    /// Nothing held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Hold `page`'s reference (`__tlb_remove_page`). A full batch, or a
    /// page outside the mem map, is put at once (callers check
    /// [`PageBatch::is_full`] first).
    pub fn push(&mut self, mem: &Mem, page: &Page) {
        match mem.page_to_pfn(page) {
            Some(pfn) if self.len < PAGE_BATCH => {
                self.pfns[self.len] = pfn as u32;
                self.len += 1;
            }
            _ => crate::fault::put_page_nocpu(mem, page),
        }
    }

    /// Put every page held (`tlb_batch_pages_flush`): the TLBs have been
    /// flushed.
    pub fn put_all(&mut self, mem: &Mem) {
        for &pfn in &self.pfns[..self.len] {
            crate::fault::put_page_nocpu(mem, &mem.mem_map()[pfn as usize]);
        }
        self.len = 0;
    }
}

/// `tlb_flush_mmu_tlbonly` for an mm's own unmap run on hart `this_cpu`:
/// every *other* hart in the mm's `mm_cpumask` (read now, after the PTE
/// changes: see [`MmStruct::mm_cpumask`]) drops the translations of
/// `tlb`'s range before this returns, through [`Mem::flush_tlb_harts`].
/// The calling hart's own flush stays in the mm's pending gather, carried
/// out before it returns to user mode. Nothing is done when `tlb`
/// recorded no change or no other hart is in the mask (one hart running
/// the mm: the common case, kept to a fence and a load).
pub fn flush_tlb_others(mem: &Mem, mm: &MmStruct<'_>, this_cpu: usize, tlb: &TlbFlush) {
    let Some(range) = tlb.hook_range() else {
        return;
    };
    let cpus = mm.mm_cpumask() & !(1u64 << this_cpu.min(63));
    if cpus != 0 {
        mem.flush_tlb_harts_mm(cpus, range, mm.context_id.load(SeqCst));
    }
}
