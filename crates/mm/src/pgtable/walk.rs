//! The page table of one address space and its walks (mm/memory.c
//! `__pte_alloc`/`follow_pte`/`zap_page_range`/`free_pgd_range`,
//! mm/mprotect.c `change_protection`, arch/riscv/include/asm/pgalloc.h).

use core::ptr;
use core::sync::atomic::{
    AtomicU64,
    Ordering::{AcqRel, Acquire, Release},
};

use super::pte::{Pte, _PAGE_ACCESSED, _PAGE_DIRTY, MAX_PFN};
use super::tlb::TlbFlush;
use super::{
    check_user_page, is_canonical, is_user_addr, level_index, level_shift, PgProt, PgtError,
    PGTABLE_LEVELS, PTRS_PER_TABLE, SATP_MODE_SV48, TASK_SIZE,
};
use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::vmstat::NodeStatItem;

/// One table in RAM, seen as the MMU sees it.
/// One table page: 512 entries.
pub type Table = [AtomicU64; PTRS_PER_TABLE];

/// The level of the last table (pte).
const PTE_LEVEL: usize = PGTABLE_LEVELS - 1;

/// Marks a destroyed [`PageTable`].
const NO_PGD: usize = usize::MAX;

/// One step of a walk (see [`PageTable::walk`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkEntry {
    /// 0 = pgd .. 3 = pte.
    pub level: usize,
    /// The table read at this level.
    pub table_pfn: usize,
    /// The index in that table.
    pub index: usize,
    /// The entry found there.
    pub entry: Pte,
}

/// The page table of an address space: its pgd page and every table below.
///
/// Invariant: every pointer entry reachable from the pgd names a table page
/// this `PageTable` allocated and still owns.
pub struct PageTable<'m> {
    mem: &'m Mem,
    pgd: usize,
    nr_tables: usize,
}

impl<'m> PageTable<'m> {
    /// `pgd_alloc()`: a zeroed pgd page.
    pub fn new(cpu: &Cpu<'m>) -> Result<PageTable<'m>, PgtError> {
        let mut pt = PageTable {
            mem: cpu.mem(),
            pgd: NO_PGD,
            nr_tables: 0,
        };
        pt.pgd = pt.alloc_table(cpu)?;
        Ok(pt)
    }

    /// The memory the tables live in.
    pub fn mem(&self) -> &'m Mem {
        self.mem
    }

    /// PFN of the pgd page.
    pub fn pgd_pfn(&self) -> usize {
        self.pgd
    }

    /// The `satp` value that makes a hart use this table (Sv48, ASID 0).
    pub fn satp(&self) -> u64 {
        (SATP_MODE_SV48 << 60) | self.pgd as u64
    }

    /// Table pages, the pgd included (`mm_pgtables_bytes / PAGE_SIZE`).
    pub fn nr_tables(&self) -> usize {
        self.nr_tables
    }

    /// `mm_pgtables_bytes()`: what /proc/PID/status shows as VmPTE.
    pub fn pgtables_bytes(&self) -> usize {
        self.nr_tables * PAGE_SIZE
    }

    /// The entries of table page `pfn`.
    fn table(&self, pfn: usize) -> &'m Table {
        debug_assert!(pfn < self.mem.nr_pages());
        let p = self.mem.pfn_to_virt(pfn).cast::<Table>();
        // SAFETY: `pfn` is a table page this PageTable allocated (the type's
        // invariant; `child` checks the range), so it lies in RAM, which
        // outlives 'm, is page aligned (enough for AtomicU64) and 4096 bytes
        // long. After allocation (zeroing) the page is only ever accessed
        // through these atomics, here and by the harts' MMUs.
        unsafe { p.as_ref() }
    }

    /// The table a pointer entry names, or None for any other entry.
    fn child(&self, e: Pte) -> Option<usize> {
        let pfn = e.pfn() as usize;
        (e.is_table() && pfn < self.mem.nr_pages()).then_some(pfn)
    }

    /// `__pte_alloc()` and friends: a zeroed, counted table page.
    fn alloc_table(&mut self, cpu: &Cpu<'_>) -> Result<usize, PgtError> {
        let page = cpu
            .alloc_page(Gfp::GFP_KERNEL | Gfp::__GFP_ZERO)
            .ok_or(PgtError::NoMemory)?;
        let pfn = self.mem.page_to_pfn(page).ok_or(PgtError::ForeignCpu)?;
        self.mem.vmstat.add(NodeStatItem::NrPageTable, 1);
        self.nr_tables += 1;
        Ok(pfn)
    }

    /// `pte_free()`/`pmd_free()`...: give a table page back.
    fn free_table(&mut self, cpu: Option<&Cpu<'_>>, pfn: usize) {
        let cpu = cpu.filter(|c| ptr::eq(c.mem(), self.mem));
        // A failure was already reported by the page allocator; nothing
        // better can be done with the page here.
        let _ = match cpu {
            Some(c) => c.__free_pages(&self.mem.mem_map()[pfn], 0),
            None => self.mem.free_pages_on(None, pfn, 0),
        };
        self.mem.vmstat.add(NodeStatItem::NrPageTable, -1);
        self.nr_tables -= 1;
    }

    /// Whether every entry of table `pfn` is empty.
    fn table_is_empty(&self, pfn: usize) -> bool {
        self.table(pfn).iter().all(|e| e.load(Acquire) == 0)
    }

    /// The slot of the pte-level entry for `va`, if its tables exist.
    fn leaf_slot(&self, va: usize) -> Option<&'m AtomicU64> {
        Some(&self.pte_table(va)?[level_index(va, PTE_LEVEL)])
    }

    /// `pte_offset_map()`: the pte-level table covering `va` (the 512
    /// entries of its `PMD_SIZE` span), if the tables above it exist. For
    /// walkers that handle a whole table at a time (`copy_pte_range`).
    pub fn pte_table(&self, va: usize) -> Option<&'m Table> {
        if self.pgd == NO_PGD || !is_user_addr(va) {
            return None;
        }
        let mut table = self.pgd;
        for level in 0..PTE_LEVEL {
            let e = Pte(self.table(table)[level_index(va, level)].load(Acquire));
            table = self.child(e)?;
        }
        Some(self.table(table))
    }

    /// `pte_alloc()`: the pte-level table covering `va`, allocating the
    /// tables above it on the way.
    pub fn pte_table_alloc(&mut self, cpu: &Cpu<'_>, va: usize) -> Result<&'m Table, PgtError> {
        check_user_page(va & !(PAGE_SIZE - 1))?;
        if !ptr::eq(cpu.mem(), self.mem) {
            return Err(PgtError::ForeignCpu);
        }
        let mut table = self.pgd;
        for level in 0..PTE_LEVEL {
            let slot = &self.table(table)[level_index(va, level)];
            let e = Pte(slot.load(Acquire));
            table = if e.is_none() {
                let t = self.alloc_table(cpu)?;
                // Release: the zeroed table is visible before the pointer.
                slot.store(Pte::table(t as u64).val(), Release);
                t
            } else {
                // A leaf at an upper level (never created here) maps it.
                self.child(e).ok_or(PgtError::AlreadyMapped(va))?
            };
        }
        Ok(self.table(table))
    }

    /// Map the page at `va` to `pfn` with `prot`, allocating the tables on
    /// the way (`__pte_alloc` + `set_pte_at`).
    pub fn map_page(
        &mut self,
        cpu: &Cpu<'_>,
        va: usize,
        pfn: u64,
        prot: PgProt,
    ) -> Result<(), PgtError> {
        check_user_page(va)?;
        let new = Pte::new(pfn, prot).ok_or(PgtError::BadPfn(pfn))?;
        let slot = &self.pte_table_alloc(cpu, va)?[level_index(va, PTE_LEVEL)];
        slot.compare_exchange(0, new.val(), AcqRel, Acquire)
            .map(|_| ())
            .map_err(|_| PgtError::AlreadyMapped(va))
    }

    /// Remove the mapping of the page at `va` (`ptep_get_and_clear`) and
    /// return the old entry so the caller can put the page.
    pub fn unmap_page(&mut self, va: usize, tlb: &mut TlbFlush) -> Option<Pte> {
        let va = va & !(PAGE_SIZE - 1);
        let old = Pte(self.leaf_slot(va)?.swap(0, AcqRel));
        if old.is_none() {
            return None;
        }
        tlb.add_page(va);
        Some(old)
    }

    /// Each level's entry on the way to `va`, top first; the walk stops at
    /// an empty entry or a leaf. Empty for a non-canonical address.
    pub fn walk(&self, va: usize) -> [Option<WalkEntry>; PGTABLE_LEVELS] {
        let mut out = [None; PGTABLE_LEVELS];
        if self.pgd == NO_PGD || !is_canonical(va) {
            return out;
        }
        let mut table = self.pgd;
        for (level, slot) in out.iter_mut().enumerate() {
            let index = level_index(va, level);
            let entry = Pte(self.table(table)[index].load(Acquire));
            *slot = Some(WalkEntry {
                level,
                table_pfn: table,
                index,
                entry,
            });
            match self.child(entry) {
                Some(c) if level < PTE_LEVEL => table = c,
                _ => break,
            }
        }
        out
    }

    /// `follow_pte()`: the leaf entry mapping `va` (PROT_NONE entries
    /// included), or None. A software walk the MMU could do.
    pub fn lookup(&self, va: usize) -> Option<Pte> {
        if !is_user_addr(va) {
            return None;
        }
        let last = self.walk(va).into_iter().flatten().last()?;
        let e = last.entry;
        (!e.is_none() && !e.is_table()).then_some(e)
    }

    /// The physical address `va` translates to, for a valid leaf.
    pub fn translate(&self, va: usize) -> Option<u64> {
        let last = self.walk(va).into_iter().flatten().last()?;
        let e = last.entry;
        if !e.is_valid() || !e.is_leaf() || !is_user_addr(va) {
            return None;
        }
        let span = 1u64 << level_shift(last.level);
        Some((e.pfn() << 12) + (va as u64 & (span - 1)))
    }

    /// What the hart does on an access by user mode that the entry allows:
    /// set A, and D on a write (atomically, as Svadu hardware does). Returns
    /// the new entry, or None where the hart would raise a page fault
    /// (no valid user leaf, or a write to a read-only page).
    pub fn set_accessed_dirty(&self, va: usize, write: bool) -> Option<Pte> {
        let slot = self.leaf_slot(va)?;
        let mut cur = slot.load(Acquire);
        loop {
            let e = Pte(cur);
            let allowed = if write { e.is_write() } else { e.is_read() };
            if !e.is_valid() || !e.is_leaf() || !e.is_user() || !allowed {
                return None;
            }
            let new = cur | _PAGE_ACCESSED | if write { _PAGE_DIRTY } else { 0 };
            if new == cur {
                return Some(e);
            }
            match slot.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => return Some(Pte(new)),
                Err(now) => cur = now,
            }
        }
    }

    /// Visit every non-empty pte-level slot in `[start, end)` below `table`
    /// (of level `level`, mapping from `base`).
    fn for_each_leaf(
        &self,
        table: usize,
        level: usize,
        base: usize,
        start: usize,
        end: usize,
        f: &mut dyn FnMut(usize, &'m AtomicU64),
    ) {
        let shift = level_shift(level);
        let span = 1usize << (shift + 9);
        let lo = start.max(base);
        let hi = end.min(base + span);
        if lo >= hi {
            return;
        }
        let first = (lo - base) >> shift;
        let last = (hi - 1 - base) >> shift;
        for (i, slot) in self.table(table)[first..=last].iter().enumerate() {
            let va = base + ((first + i) << shift);
            let e = Pte(slot.load(Acquire));
            if level == PTE_LEVEL {
                if !e.is_none() {
                    f(va, slot);
                }
            } else if let Some(c) = self.child(e) {
                self.for_each_leaf(c, level + 1, va, start, end, f);
            }
        }
    }

    /// `[start, end)` rounded out to pages and clipped to user space.
    fn user_range(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let start = start & !(PAGE_SIZE - 1);
        let end = end.saturating_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        let end = end.min(TASK_SIZE);
        (self.pgd != NO_PGD && start < end).then_some((start, end))
    }

    /// `change_protection()`: give every mapped page in `[start, end)` the
    /// protection `prot`, keeping PFN, A, D and the software bits
    /// (`pte_modify`). Returns the pages whose entry changed; each valid one
    /// is added to `tlb`, and an entry that becomes executable goes through
    /// [`super::flush_icache_pte`] (as `set_pte_at` does in Linux).
    pub fn change_protection(
        &mut self,
        start: usize,
        end: usize,
        prot: PgProt,
        tlb: &mut TlbFlush,
    ) -> usize {
        let Some((start, end)) = self.user_range(start, end) else {
            return 0;
        };
        let mut changed = 0;
        let mem = self.mem();
        self.for_each_leaf(self.pgd, 0, 0, start, end, &mut |va, slot| {
            let mut cur = slot.load(Acquire);
            let new = loop {
                let new = Pte(cur).modify(prot).val();
                if new == cur {
                    return;
                }
                match slot.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                    Ok(_) => break new,
                    Err(now) => cur = now,
                }
            };
            super::flush_icache_pte(mem, Pte(new), tlb);
            changed += 1;
            if Pte(cur).is_valid() {
                tlb.add_page(va);
            }
        });
        changed
    }

    /// `zap_page_range()`: clear every mapped page in `[start, end)`,
    /// calling `f(va, old_pte)` for each so the caller can put the page.
    /// Returns the number of pages unmapped. Table pages stay (see
    /// [`PageTable::free_pgtables`]).
    pub fn unmap_range(
        &mut self,
        start: usize,
        end: usize,
        tlb: &mut TlbFlush,
        f: impl FnMut(usize, Pte),
    ) -> usize {
        self.unmap_range_if(start, end, tlb, |_| true, f)
    }

    /// [`Self::unmap_range`] of only the entries `wanted` accepts (the
    /// others stay mapped). The caller holds the page-table lock, so an
    /// entry can change meanwhile only in its accessed and dirty bits.
    pub fn unmap_range_if(
        &mut self,
        start: usize,
        end: usize,
        tlb: &mut TlbFlush,
        wanted: impl Fn(Pte) -> bool,
        mut f: impl FnMut(usize, Pte),
    ) -> usize {
        let Some((start, end)) = self.user_range(start, end) else {
            return 0;
        };
        let mut n = 0;
        self.for_each_leaf(self.pgd, 0, 0, start, end, &mut |va, slot| {
            let cur = Pte(slot.load(Acquire));
            if cur.is_none() || !wanted(cur) {
                return;
            }
            let old = Pte(slot.swap(0, AcqRel));
            if !old.is_none() {
                tlb.add_page(va);
                f(va, old);
                n += 1;
            }
        });
        n
    }

    /// `free_pgd_range()`: free the table pages (below the pgd) whose whole
    /// span lies inside `[start, end)` and that are empty once their own
    /// empty children are gone. Returns the pages freed; the range is added
    /// to `tlb` with `freed_tables`.
    pub fn free_pgtables(
        &mut self,
        cpu: &Cpu<'_>,
        start: usize,
        end: usize,
        tlb: &mut TlbFlush,
    ) -> usize {
        let Some((start, end)) = self.user_range(start, end) else {
            return 0;
        };
        let freed = self.free_level(cpu, self.pgd, 0, 0, start, end);
        if freed > 0 {
            tlb.add_freed_tables(start, end);
        }
        freed
    }

    fn free_level(
        &mut self,
        cpu: &Cpu<'_>,
        table: usize,
        level: usize,
        base: usize,
        start: usize,
        end: usize,
    ) -> usize {
        let shift = level_shift(level);
        let span = 1usize << (shift + 9);
        let lo = start.max(base);
        let hi = end.min(base + span);
        if lo >= hi || level == PTE_LEVEL {
            return 0;
        }
        let first = (lo - base) >> shift;
        let last = (hi - 1 - base) >> shift;
        let mut freed = 0;
        for (i, slot) in self.table(table)[first..=last].iter().enumerate() {
            let Some(c) = self.child(Pte(slot.load(Acquire))) else {
                continue;
            };
            let child_base = base + ((first + i) << shift);
            freed += self.free_level(cpu, c, level + 1, child_base, start, end);
            let inside = child_base >= start && child_base + (1usize << shift) <= end;
            if inside && self.table_is_empty(c) {
                slot.store(0, Release);
                self.free_table(Some(cpu), c);
                freed += 1;
            }
        }
        freed
    }

    /// Free every table below `table` (of level `level`), then `table`.
    /// Returns the leaves still mapped (dropped without a callback).
    fn free_all(&mut self, cpu: Option<&Cpu<'_>>, table: usize, level: usize) -> usize {
        let mut leaves = 0;
        let t = self.table(table);
        for slot in t {
            let e = Pte(slot.load(Acquire));
            if e.is_none() {
                continue;
            }
            match self.child(e) {
                Some(c) if level < PTE_LEVEL => leaves += self.free_all(cpu, c, level + 1),
                _ => leaves += 1,
            }
        }
        self.free_table(cpu, table);
        leaves
    }

    /// `pgd_free()` after `free_pgtables()`: give back every table page, the
    /// pgd included. Pages still mapped are not put (the caller unmaps them
    /// first with [`PageTable::unmap_range`]); their number is returned.
    pub fn destroy(mut self, cpu: &Cpu<'_>) -> usize {
        let pgd = core::mem::replace(&mut self.pgd, NO_PGD);
        self.free_all(Some(cpu), pgd, 0)
    }
}

impl Drop for PageTable<'_> {
    /// A table dropped without [`PageTable::destroy`] still gives its pages
    /// back, straight to the buddy allocator.
    fn drop(&mut self) {
        if self.pgd != NO_PGD {
            let pgd = core::mem::replace(&mut self.pgd, NO_PGD);
            self.free_all(None, pgd, 0);
        }
    }
}

impl core::fmt::Debug for PageTable<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PageTable")
            .field("pgd_pfn", &self.pgd)
            .field("nr_tables", &self.nr_tables)
            .finish()
    }
}

// The PPN of a table page always fits: RAM has fewer than 2^32 frames.
const _: () = assert!(u32::MAX as u64 <= MAX_PFN);
