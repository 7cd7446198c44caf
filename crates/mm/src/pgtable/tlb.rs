//! What the harts must flush after a page-table change: Linux's
//! `struct mmu_gather` (include/asm-generic/tlb.h, mm/mmu_gather.c) and the
//! ranges of `flush_tlb_range()` (arch/riscv/mm/tlbflush.c).
//!
//! A [`TlbFlush`] starts with the CPUs that may hold translations of the mm
//! (`mm_cpumask`), and page-table operations that remove or downgrade a
//! mapping widen its range. The caller hands the result to the harts (a later
//! issue: `sfence.vma` by IPI); until then nothing consumes it.
//!
//! ferrite differs from Linux in that the gather does not also batch the
//! pages to free: callers put pages after they have issued the flush. As in
//! Linux riscv, a range of more than [`TLB_FLUSH_ALL_THRESHOLD`] pages becomes
//! a flush of everything (`tlb_flush_all_threshold`).
//!
//! A gather also records whether an executable mapping of a page the
//! instruction caches have not seen was installed (riscv's
//! `flush_icache_pte`, [`flush_icache_pte`]): the harts then run `fence.i`
//! (Linux's `flush_icache_all`) before they run the mm again.

use crate::mem::Mem;
use crate::page::PageFlags;
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
