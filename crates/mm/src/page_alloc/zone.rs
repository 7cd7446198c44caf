//! The zone and its buddy free lists (mm/page_alloc.c: `__free_one_page`,
//! `__rmqueue_smallest`, `expand`, watermarks).
//!
//! ferrite has one zone, `Normal`. A free block of order k heads a list in
//! `free_area[k]`; its head page has `PG_buddy` and `private = k`. Merging and
//! splitting use buddy-index arithmetic: the buddy of the block at pfn p of
//! order k is p ^ (1 << k).

use core::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use crate::page::{Page, PageFlags, PageList, MAX_ORDER, NR_PAGE_ORDERS, PAGE_SIZE};
use crate::sync::SpinLock;

/// `free_area[]`, guarded by the zone lock.
pub struct FreeArea {
    /// One list of free blocks per order.
    pub lists: [PageList; NR_PAGE_ORDERS],
}

/// Watermark indices into `Zone::wmark`.
pub const WMARK_MIN: usize = 0;
/// Low watermark.
pub const WMARK_LOW: usize = 1;
/// High watermark.
pub const WMARK_HIGH: usize = 2;

/// `struct zone`.
pub struct Zone {
    /// `zone->lock` and the free lists it guards.
    pub(crate) lock: SpinLock<FreeArea>,
    pub(crate) start_pfn: usize,
    pub(crate) spanned_pages: usize,
    pub(crate) present_pages: usize,
    pub(crate) managed_pages: usize,
    /// min, low, high, in pages.
    pub(crate) wmark: [usize; 3],
    /// `NR_FREE_PAGES`: pages on the buddy lists.
    nr_free: AtomicIsize,
    /// Per-CPU list tuning (`pcp->high`, `pcp->batch`), in pages.
    pub(crate) pcp_high: usize,
    pub(crate) pcp_batch: usize,
}

impl Zone {
    /// The zone of a node of `end_pfn` frames whose first `reserved` went to
    /// boot allocations; all lists empty until boot frees the frames into it.
    pub(crate) fn new(reserved: usize, end_pfn: usize) -> Zone {
        // The zone spans all of RAM from pfn 0; the boot allocations at its
        // start are present but not managed, as in Linux.
        let start_pfn = 0;
        let managed = end_pfn - reserved;
        // min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128, 262144].
        let kbytes = (managed * PAGE_SIZE / 1024) as u64;
        let min_free_kbytes = isqrt(kbytes * 16).clamp(128, 262_144) as usize;
        let min = min_free_kbytes / (PAGE_SIZE / 1024);
        // watermark_scale_factor = 10 (0.1% of managed memory).
        let gap = (min / 4).max(managed * 10 / 10_000);
        let wmark = [min, min + gap, min + 2 * gap];
        // zone_batchsize(): a quarter of a thousandth of the zone, at most
        // 256 KiB, rounded to 2^n - 1 so batches do not alias cache colours.
        let mut batch = (managed / 1024).min((1 << 20) / PAGE_SIZE) / 4;
        batch = batch.max(1);
        batch = prev_power_of_two(batch + batch / 2) - 1;
        let batch = batch.max(1);
        Zone {
            lock: SpinLock::new(FreeArea {
                lists: [PageList::new(); NR_PAGE_ORDERS],
            }),
            start_pfn,
            spanned_pages: end_pfn,
            present_pages: end_pfn,
            managed_pages: managed,
            wmark,
            nr_free: AtomicIsize::new(0),
            pcp_high: 6 * batch,
            pcp_batch: batch,
        }
    }

    /// (start pfn, spanned, present, managed) pages, as /proc/zoneinfo shows.
    pub fn span(&self) -> (usize, usize, usize, usize) {
        (
            self.start_pfn,
            self.spanned_pages,
            self.present_pages,
            self.managed_pages,
        )
    }

    /// Adjust `NR_FREE_PAGES`. Only called with the zone lock held (the
    /// `&mut FreeArea` callers have), so a plain load and store suffice;
    /// lock-free readers see one value or the other.
    #[inline]
    fn add_free(&self, delta: isize) {
        self.nr_free
            .store(self.nr_free.load(Relaxed) + delta, Relaxed);
    }

    /// Free pages on the buddy lists.
    #[inline]
    pub(crate) fn nr_free(&self) -> usize {
        self.nr_free.load(Relaxed).max(0) as usize
    }

    /// `zone_watermark_ok()`: would `mark` pages stay free after taking 2^order?
    #[inline]
    pub(crate) fn watermark_ok(&self, order: u32, mark: usize) -> bool {
        let free = self.nr_free.load(Relaxed) - (1isize << order) + 1;
        free > mark as isize
    }

    /// Whether `pfn` heads a free buddy block of exactly `order`.
    #[inline]
    fn page_is_buddy(&self, map: &[Page], pfn: usize, order: u32) -> bool {
        if pfn < self.start_pfn || pfn >= self.spanned_pages {
            return false;
        }
        let p = &map[pfn];
        p.flags().contains(PageFlags::BUDDY) && p.private() == order as u64
    }

    /// `__free_one_page()`: put a block on the free lists, merging it with
    /// its buddy as long as the buddy is free and of the same order.
    pub(crate) fn free_one_page(
        &self,
        fa: &mut FreeArea,
        map: &[Page],
        mut pfn: usize,
        mut order: u32,
    ) {
        let pages = 1isize << order;
        // Whatever the block was (per-CPU list entry, allocated), it is now
        // only a free page; only the final head of the merge carries PG_buddy.
        map[pfn].set_flags_owned(PageFlags::empty());
        while order < MAX_ORDER {
            let buddy = pfn ^ (1 << order);
            if !self.page_is_buddy(map, buddy, order) {
                break;
            }
            fa.lists[order as usize].remove(map, buddy as u32);
            map[buddy].set_flags_owned(PageFlags::empty());
            map[buddy].set_private(0);
            pfn &= buddy;
            order += 1;
        }
        let p = &map[pfn];
        p.set_flags_owned(PageFlags::BUDDY);
        p.set_private(order as u64);
        fa.lists[order as usize].push_front(map, pfn as u32);
        self.add_free(pages);
    }

    /// `__rmqueue_smallest()` + `expand()`: take the smallest free block of at
    /// least `order` and split it down, freeing the upper halves.
    pub(crate) fn rmqueue_smallest(
        &self,
        fa: &mut FreeArea,
        map: &[Page],
        order: u32,
    ) -> Option<usize> {
        for cur in order..=MAX_ORDER {
            let Some(pfn) = fa.lists[cur as usize].pop_front(map) else {
                continue;
            };
            let pfn = pfn as usize;
            map[pfn].set_flags_owned(PageFlags::empty());
            let mut high = cur;
            while high > order {
                high -= 1;
                let half = pfn + (1 << high);
                let p = &map[half];
                p.set_flags_owned(PageFlags::BUDDY);
                p.set_private(high as u64);
                fa.lists[high as usize].push_front(map, half as u32);
            }
            self.add_free(-(1isize << order));
            return Some(pfn);
        }
        None
    }
}

fn isqrt(v: u64) -> u64 {
    // Integer Newton iteration (no floating point in no_std).
    if v < 2 {
        return v;
    }
    let mut x = v;
    let mut y = x.div_ceil(2);
    while y < x {
        x = y;
        y = (x + v / x) / 2;
    }
    x
}

fn prev_power_of_two(v: usize) -> usize {
    if v == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - v.leading_zeros())
    }
}
