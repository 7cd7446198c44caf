//! The LRU lists and page reclaim (Linux's mm/vmscan.c, the LRU parts of
//! mm/swap.c: `lru_cache_add`, `mark_page_accessed`, `__page_cache_release`,
//! and include/linux/mm_inline.h's `folio_lru_list`).
//!
//! Every user page is on one of five lists of the node's `lruvec`, linked
//! through `page->lru` (the notes' `struct page` `lru` field): inactive and
//! active anonymous (anonymous and shmem pages: `PG_swapbacked`), inactive
//! and active file (page-cache pages), and unevictable (pages mapped by an
//! mlocked area). `PG_lru` says a page is listed, `PG_active` which half,
//! `PG_unevictable` the last list. Pages are added when they are made
//! (anonymous faults, page-cache insertion: `lru_cache_add`), leave when
//! their last reference goes (`__page_cache_release`, from `put_page`), move
//! to the active list when used twice (`mark_page_accessed`, or young PTEs
//! seen twice by reclaim) and back when the active list outgrows the
//! inactive one (`shrink_active_list`).
//!
//! Reclaim (`try_to_free_pages` → `shrink_lruvec` → `shrink_inactive_list`
//! / `shrink_active_list`) runs from the page allocator's slow path (direct
//! reclaim) when the free pages are below the min watermark, and as
//! `kswapd` (`balance_pgdat`, up to the high watermark) once an allocation
//! went below the low watermark ([`kswapd_balance`]). It isolates
//! pages from the tail of the inactive file list in batches of
//! `SWAP_CLUSTER_MAX`, checks their references (`folio_check_references`:
//! PTE accessed bits through the file's `i_mmap`, cleared as it goes, and
//! `PG_referenced`), unmaps them from every mapper (`try_to_unmap`),
//! writes dirty ones back (`pageout`) and takes them out of the page cache
//! (`__remove_mapping`), freeing them. Counted in /proc/vmstat's
//! `pgscan_direct`, `pgsteal_direct`, `pgactivate`, `pgdeactivate`.
//!
//! Where ferrite differs from Linux:
//! - One node, one zone, one `lruvec`, under one spinlock (Linux's
//!   `lru_lock`), with no per-CPU `lru_add` batches and no multi-gen LRU.
//! - No swap: anonymous pages (and shmem) are listed but never reclaimed,
//!   so only the file lists are scanned (as Linux does without swap).
//! - No `kswapd` thread: its work (`balance_pgdat`) runs on the CPU that
//!   takes the next page fault after the wake-up, at the fault's entry,
//!   where it holds no lock, so it can unmap pages of its own mm (direct
//!   reclaim, often entered with that mm's page-table lock held to
//!   allocate a page table, cannot). Reclaim writes dirty pages itself
//!   (Linux leaves that to the flusher threads in direct reclaim).
//! - Reclaim runs inside allocations whose callers may hold any page-cache,
//!   mmap or page-table lock, so it only tries those locks and keeps a
//!   page whose lock is busy (Linux sleeps on them). A pass that frees
//!   nothing ends reclaim; the allocation then fails and the OOM killer
//!   runs.
//! - A page mapped by an mlocked area goes to the unevictable list when
//!   reclaim meets it, and back to the inactive list when reclaim finds it
//!   no longer mlocked (Linux moves it at mlock and munlock time).
//! - The page cache keeps its object alive for reclaim with a pin count
//!   taken under the LRU lock (eviction waits for it), not the page lock.
//!
//! TLB flushes: as Linux's `TTU_BATCH_FLUSH`, `try_to_unmap` gathers the
//! remote flushes it owes over a batch ([`TlbUnmapBatch`]), carried out
//! once before `putback` frees the batch's pages, and before a page is
//! written back if a dirty PTE was removed; the accessed-bit clearing of
//! `folio_referenced` flushes nothing (as Linux's
//! `ptep_clear_flush_young` on riscv and x86).

use core::sync::atomic::{
    AtomicBool,
    Ordering::{Acquire, Relaxed},
};

use crate::filemap::{AddressSpace, FilePtr};
use crate::mem::Mem;
use crate::page::{Page, PageFlags, PageList, NIL};
use crate::percpu::Cpu;
use crate::pgtable::tlb::TlbUnmapBatch;
use crate::rmap::PAGE_MAPPING_ANON;
use crate::sync::SpinLock;
use crate::vmstat::VmEventItem;

/// `enum lru_list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum LruList {
    /// `LRU_INACTIVE_ANON`.
    InactiveAnon,
    /// `LRU_ACTIVE_ANON`.
    ActiveAnon,
    /// `LRU_INACTIVE_FILE`.
    InactiveFile,
    /// `LRU_ACTIVE_FILE`.
    ActiveFile,
    /// `LRU_UNEVICTABLE`.
    Unevictable,
}

/// `NR_LRU_LISTS`.
pub const NR_LRU_LISTS: usize = 5;

/// Pages reclaim isolates at once (`SWAP_CLUSTER_MAX`).
pub const SWAP_CLUSTER_MAX: usize = 32;

/// Reclaim starts by scanning 1/2^12 of the lists (`DEF_PRIORITY`).
pub const DEF_PRIORITY: u32 = 12;

/// `struct lruvec`: the node's LRU lists (under [`Mem`]'s LRU lock).
#[derive(Default)]
pub struct LruVec {
    lists: [PageList; NR_LRU_LISTS],
}

/// The LRU lock and its lists (`pgdat->__lruvec` with `lru_lock`), and
/// whether the background reclaimer has been woken (`pgdat->kswapd_wait`).
#[derive(Default)]
pub struct Lru {
    lock: SpinLock<LruVec>,
    kswapd_wanted: AtomicBool,
}

/// `wakeup_kswapd`: the free pages fell below the low watermark; the next
/// [`kswapd_balance`] reclaims.
pub(crate) fn wakeup_kswapd(mem: &Mem) {
    if !mem.lru.kswapd_wanted.load(Relaxed) {
        mem.lru.kswapd_wanted.store(true, Relaxed);
    }
}

/// `kswapd` → `balance_pgdat`, run by the CPU that calls it at a point
/// where it holds no mm lock (the entry of a page fault): if an allocation
/// woke it, reclaim page-cache pages until the free pages are above the
/// high watermark or nothing more can be freed. Counted as kswapd's
/// (`pgscan_kswapd`, `pgsteal_kswapd`). A cheap check when not woken.
pub fn kswapd_balance(cpu: &Cpu<'_>) {
    let mem = cpu.mem();
    if !mem.lru.kswapd_wanted.load(Relaxed) || !mem.lru.kswapd_wanted.swap(false, Relaxed) {
        return;
    }
    if cpu.reclaiming.replace(true) {
        return;
    }
    rescue_unevictable(cpu, SWAP_CLUSTER_MAX);
    let high = mem.watermarks().2;
    while mem.nr_free_pages() + mem.nr_pcp_pages() <= high {
        let s = lru_sizes(mem);
        let file = s[LruList::InactiveFile as usize] + s[LruList::ActiveFile as usize];
        if file == 0 || shrink_lruvec(cpu, file, SWAP_CLUSTER_MAX, false) == 0 {
            break;
        }
        mem.drain_this_cpu(cpu);
    }
    cpu.reclaiming.set(false);
}

/// `folio_lru_list`: the list a page belongs on, from its flags.
pub fn page_lru(page: &Page) -> LruList {
    let f = page.flags();
    if f.contains(PageFlags::UNEVICTABLE) {
        return LruList::Unevictable;
    }
    match (
        f.contains(PageFlags::SWAPBACKED),
        f.contains(PageFlags::ACTIVE),
    ) {
        (true, false) => LruList::InactiveAnon,
        (true, true) => LruList::ActiveAnon,
        (false, false) => LruList::InactiveFile,
        (false, true) => LruList::ActiveFile,
    }
}

/// The number of pages on each list, in [`LruList`] order.
pub fn lru_sizes(mem: &Mem) -> [usize; NR_LRU_LISTS] {
    let l = mem.lru.lock.lock();
    core::array::from_fn(|i| l.lists[i].len())
}

/// Take and release the LRU lock: every critical section that started
/// before has ended.
pub(crate) fn lru_lock_sync(mem: &Mem) {
    drop(mem.lru.lock.lock());
}

/// `lru_cache_add`: put a new page on the inactive list of its kind.
pub fn lru_cache_add(mem: &Mem, page: &Page) {
    let Some(pfn) = mem.page_to_pfn(page) else {
        return;
    };
    let mut l = mem.lru.lock.lock();
    if page.test_and_set_flag(PageFlags::LRU) {
        return;
    }
    l.lists[page_lru(page) as usize].push_front(mem.mem_map(), pfn as u32);
}

/// `lru_cache_add` of a new anonymous page (`PG_swapbacked`).
pub fn lru_cache_add_anon(mem: &Mem, page: &Page) {
    page.set_flag(PageFlags::SWAPBACKED);
    lru_cache_add(mem, page);
}

/// `__page_cache_release`: the last reference to `page` is gone; take it
/// off its list before it is freed.
pub(crate) fn page_cache_release(mem: &Mem, page: &Page) {
    if !page.flags().contains(PageFlags::LRU) {
        return;
    }
    let Some(pfn) = mem.page_to_pfn(page) else {
        return;
    };
    let mut l = mem.lru.lock.lock();
    if page.flags().contains(PageFlags::LRU) {
        l.lists[page_lru(page) as usize].remove(mem.mem_map(), pfn as u32);
    }
    page.clear_flag(PageFlags::LRU | PageFlags::ACTIVE | PageFlags::UNEVICTABLE);
}

/// `mark_page_accessed`: a first use sets `PG_referenced`; a second
/// moves an inactive listed page to the active list (`pgactivate`).
pub fn mark_page_accessed(mem: &Mem, page: &Page) {
    let f = page.flags();
    if !f.contains(PageFlags::REFERENCED) {
        page.set_flag(PageFlags::REFERENCED);
        return;
    }
    if f.contains(PageFlags::ACTIVE) || f.contains(PageFlags::UNEVICTABLE) {
        return;
    }
    let Some(pfn) = mem.page_to_pfn(page) else {
        return;
    };
    let map = mem.mem_map();
    let mut l = mem.lru.lock.lock();
    let f = page.flags();
    if f.contains(PageFlags::LRU) && !f.intersects(PageFlags::ACTIVE | PageFlags::UNEVICTABLE) {
        l.lists[page_lru(page) as usize].remove(map, pfn as u32);
        page.set_flag(PageFlags::ACTIVE);
        l.lists[page_lru(page) as usize].push_front(map, pfn as u32);
        drop(l);
        page.clear_flag(PageFlags::REFERENCED);
        mem.vmstat.count_event(VmEventItem::PgActivate, 1);
    }
}

/// The page cache at `addr` (a page's `mapping`, or a batch's pin).
///
/// # Safety
/// `addr` is non-zero and names a page cache kept live for `'a` (by the
/// caller's pin, or the LRU lock as `isolate_lru_pages` explains).
unsafe fn space_at<'a>(addr: usize) -> &'a AddressSpace<'static> {
    let f = FilePtr::from_addr(addr).expect("a null page cache");
    // SAFETY: the caller's promise.
    unsafe { f.as_ref() }
}

/// `get_page_unless_zero`.
fn get_page_unless_zero(page: &Page) -> bool {
    let r = page.refcount_atomic();
    let mut c = r.load(Relaxed);
    loop {
        if c <= 0 {
            return false;
        }
        match r.compare_exchange_weak(c, c + 1, Acquire, Relaxed) {
            Ok(_) => return true,
            Err(now) => c = now,
        }
    }
}

/// A batch of pages isolated from a list: each with a reference and, for
/// a page-cache page, its cache pinned.
struct Batch {
    pfns: [u32; SWAP_CLUSTER_MAX],
    pinned: [usize; SWAP_CLUSTER_MAX],
    len: usize,
}

/// `isolate_lru_folios`: take up to `nr` pages from the tail of `list`
/// (each with a reference; a page being freed is left alone), off the
/// lists. Returns the batch and how many pages were looked at.
fn isolate_lru_pages(mem: &Mem, list: LruList, nr: usize) -> (Batch, usize) {
    let map = mem.mem_map();
    let mut b = Batch {
        pfns: [NIL; SWAP_CLUSTER_MAX],
        pinned: [0; SWAP_CLUSTER_MAX],
        len: 0,
    };
    let mut scanned = 0;
    let mut l = mem.lru.lock.lock();
    let lists = &mut l.lists;
    let mut cur = lists[list as usize].last().unwrap_or(NIL);
    while cur != NIL && b.len < nr.min(SWAP_CLUSTER_MAX) && scanned < nr.max(1) * 4 {
        let page = &map[cur as usize];
        let prev = page.prev();
        scanned += 1;
        if get_page_unless_zero(page) {
            lists[list as usize].remove(map, cur);
            page.clear_flag(PageFlags::LRU);
            let m = page.mapping();
            if m != 0 && m & PAGE_MAPPING_ANON == 0 {
                // SAFETY: a page-cache page whose mapping is still set is in
                // its cache, which is alive: eviction clears the mappings,
                // then syncs with this lock and waits for the pins to go
                // before freeing it.
                unsafe { space_at(m) }.pin();
                b.pinned[b.len] = m;
            }
            b.pfns[b.len] = cur;
            b.len += 1;
        }
        cur = prev;
    }
    (b, scanned)
}

/// Where a page scanned by reclaim goes (`enum folio_references` and
/// the results of `shrink_folio_list`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Reclaimed,
    Keep,
    Activate,
    Unevictable,
    Deactivate,
}

/// Put the isolated pages back on their lists as `verdicts` say (those
/// reclaimed are out of the cache: only our reference is left), then drop
/// the pins and our references.
fn putback(cpu: &Cpu<'_>, b: &Batch, verdicts: &[Verdict; SWAP_CLUSTER_MAX]) {
    let mem = cpu.mem();
    let map = mem.mem_map();
    let (mut act, mut deact) = (0, 0);
    {
        let mut l = mem.lru.lock.lock();
        for i in 0..b.len {
            let page = &map[b.pfns[i] as usize];
            match verdicts[i] {
                Verdict::Reclaimed => continue,
                Verdict::Activate => {
                    if !page.test_and_set_flag(PageFlags::ACTIVE) {
                        act += 1;
                    }
                }
                Verdict::Deactivate => {
                    page.clear_flag(PageFlags::ACTIVE);
                    deact += 1;
                }
                Verdict::Unevictable => page.set_flag(PageFlags::UNEVICTABLE),
                Verdict::Keep => {}
            }
            page.set_flag(PageFlags::LRU);
            l.lists[page_lru(page) as usize].push_front(map, b.pfns[i]);
        }
    }
    mem.vmstat.count_event(VmEventItem::PgActivate, act);
    mem.vmstat.count_event(VmEventItem::PgDeactivate, deact);
    for i in 0..b.len {
        if b.pinned[i] != 0 {
            // SAFETY: pinned in `isolate_lru_pages`.
            unsafe { space_at(b.pinned[i]) }.unpin();
        }
        let _ = cpu.put_page(&map[b.pfns[i] as usize]);
    }
}

/// `shrink_folio_list` for one isolated page of the inactive file list.
/// The remote TLB flushes its unmapping owes go to `ubc`.
fn shrink_page(cpu: &Cpu<'_>, page: &Page, pinned: usize, ubc: &mut TlbUnmapBatch) -> Verdict {
    if pinned == 0 || page.mapping() != pinned {
        // Truncated while isolated (or not a page-cache page): it goes with
        // its last reference.
        return Verdict::Keep;
    }
    // SAFETY: pinned by `isolate_lru_pages`.
    let a = unsafe { space_at(pinned) };
    if a.is_shmem() {
        return Verdict::Keep;
    }
    // `folio_check_references`.
    let Some((young, locked, _exec)) = a.page_referenced(cpu, page) else {
        return Verdict::Keep;
    };
    if locked {
        return Verdict::Unevictable;
    }
    let referenced = page.flags().contains(PageFlags::REFERENCED);
    page.clear_flag(PageFlags::REFERENCED);
    if young > 0 {
        if referenced || young > 1 {
            return Verdict::Activate;
        }
        // Used once since the last scan: one more round on the list.
        page.set_flag(PageFlags::REFERENCED);
        return Verdict::Keep;
    }
    if page.mapcount() > 0 && !a.try_to_unmap(cpu, page, ubc) {
        return Verdict::Keep;
    }
    if page.flags().contains(PageFlags::DIRTY) {
        // No hart may still write the page through a stale entry once it
        // is written back (`try_to_unmap_flush_dirty`).
        ubc.flush_dirty(cpu.mem());
        if a.pageout(page).is_err() {
            return Verdict::Activate;
        }
        cpu.mem().vmstat.count_event(VmEventItem::NrVmscanWrite, 1);
    }
    if a.remove_mapping(cpu, page) {
        Verdict::Reclaimed
    } else {
        Verdict::Keep
    }
}

/// `shrink_inactive_list` of the file pages: scan up to `nr` pages from
/// the tail; the number freed.
fn shrink_inactive_list(cpu: &Cpu<'_>, nr: usize, direct: bool) -> (usize, usize) {
    let mem = cpu.mem();
    let (b, _) = isolate_lru_pages(mem, LruList::InactiveFile, nr);
    let (scan, steal) = if direct {
        (VmEventItem::PgScanDirect, VmEventItem::PgStealDirect)
    } else {
        (VmEventItem::PgScanKswapd, VmEventItem::PgStealKswapd)
    };
    mem.vmstat.count_event(scan, b.len);
    let map = mem.mem_map();
    let mut verdicts = [Verdict::Keep; SWAP_CLUSTER_MAX];
    let mut freed = 0;
    let mut ubc = TlbUnmapBatch::default();
    for i in 0..b.len {
        verdicts[i] = shrink_page(cpu, &map[b.pfns[i] as usize], b.pinned[i], &mut ubc);
        if verdicts[i] == Verdict::Reclaimed {
            freed += 1;
        }
    }
    // `try_to_unmap_flush` before the pages are freed (by `putback`,
    // which drops the last references): one shootdown for the batch.
    ubc.flush(mem);
    mem.vmstat.count_event(steal, freed);
    putback(cpu, &b, &verdicts);
    (b.len, freed)
}

/// `shrink_active_list` of the file pages: move up to `nr` pages from the
/// tail of the active list to the inactive one (clearing their accessed
/// bits), except referenced pages of executable mappings, which stay.
fn shrink_active_list(cpu: &Cpu<'_>, nr: usize) -> usize {
    let mem = cpu.mem();
    let (b, _) = isolate_lru_pages(mem, LruList::ActiveFile, nr);
    let map = mem.mem_map();
    let mut verdicts = [Verdict::Keep; SWAP_CLUSTER_MAX];
    for i in 0..b.len {
        let page = &map[b.pfns[i] as usize];
        verdicts[i] = Verdict::Deactivate;
        if b.pinned[i] != 0 && page.mapping() == b.pinned[i] {
            // SAFETY: pinned by `isolate_lru_pages`.
            let a = unsafe { space_at(b.pinned[i]) };
            if let Some((young, _, exec)) = a.page_referenced(cpu, page) {
                if young > 0 && exec {
                    verdicts[i] = Verdict::Keep;
                }
            }
        }
    }
    putback(cpu, &b, &verdicts);
    b.len
}

/// `check_move_unevictable_folios` (ferrite's variant, see the module
/// docs): move up to `nr` pages from the unevictable list that no mlocked
/// area maps any more back to the inactive list.
fn rescue_unevictable(cpu: &Cpu<'_>, nr: usize) {
    let mem = cpu.mem();
    let (b, _) = isolate_lru_pages(mem, LruList::Unevictable, nr);
    let map = mem.mem_map();
    let verdicts = [Verdict::Keep; SWAP_CLUSTER_MAX];
    for i in 0..b.len {
        let page = &map[b.pfns[i] as usize];
        let still = b.pinned[i] != 0
            && page.mapping() == b.pinned[i]
            // SAFETY: pinned by `isolate_lru_pages`.
            && unsafe { space_at(b.pinned[i]) }
                .page_referenced(cpu, page)
                .is_none_or(|(_, locked, _)| locked);
        if !still {
            page.clear_flag(PageFlags::UNEVICTABLE | PageFlags::ACTIVE);
        }
    }
    putback(cpu, &b, &verdicts);
}

/// `inactive_is_low` for the file lists (ratio 1, as Linux uses below
/// 1 GiB).
fn inactive_is_low(mem: &Mem) -> bool {
    let s = lru_sizes(mem);
    s[LruList::InactiveFile as usize] < s[LruList::ActiveFile as usize]
}

/// `shrink_lruvec`: scan about `nr_to_scan` file pages, deactivating
/// when the inactive list is the smaller, until `target` pages are freed;
/// the number freed. `direct`: counted as direct reclaim, else kswapd's.
pub fn shrink_lruvec(cpu: &Cpu<'_>, nr_to_scan: usize, target: usize, direct: bool) -> usize {
    let mut scanned = 0;
    let mut freed = 0;
    while scanned < nr_to_scan && freed < target {
        let batch = SWAP_CLUSTER_MAX.min(nr_to_scan - scanned).max(1);
        let mut moved = 0;
        if inactive_is_low(cpu.mem()) {
            moved = shrink_active_list(cpu, batch);
        }
        let (n, f) = shrink_inactive_list(cpu, batch, direct);
        freed += f;
        if n == 0 && moved == 0 {
            break;
        }
        scanned += n.max(moved);
    }
    freed
}

/// `try_to_free_pages` (direct reclaim): free at least `nr_to_reclaim`
/// page-cache pages if it can, scanning the file lists with a priority
/// from [`DEF_PRIORITY`] (1/4096 of the lists) down to 0 (all of them).
/// Not re-entered from allocations it makes itself (`PF_MEMALLOC`).
/// Returns the number of pages freed.
pub fn try_to_free_pages(cpu: &Cpu<'_>, nr_to_reclaim: usize) -> usize {
    if cpu.reclaiming.replace(true) {
        return 0;
    }
    let mem = cpu.mem();
    let mut freed = 0;
    rescue_unevictable(cpu, SWAP_CLUSTER_MAX);
    for priority in (0..=DEF_PRIORITY).rev() {
        let s = lru_sizes(mem);
        let file = s[LruList::InactiveFile as usize] + s[LruList::ActiveFile as usize];
        if file == 0 {
            break;
        }
        let nr = (file >> priority).max(SWAP_CLUSTER_MAX.min(file));
        freed += shrink_lruvec(cpu, nr, nr_to_reclaim - freed, true);
        if freed >= nr_to_reclaim {
            break;
        }
    }
    cpu.reclaiming.set(false);
    freed
}
