//! The page allocator (mm/page_alloc.c): `alloc_pages` and friends, the
//! per-CPU page lists, and `__free_pages` with Linux's bad-page checks.
//!
//! Orders below `MemConfig::pcp_orders` (Linux: 0..=3) are served from the
//! CPU's own lists without any lock; the lists are refilled from and drained
//! to the buddy lists in batches under the zone lock (`rmqueue_bulk`,
//! `free_pcppages_bulk`). Larger orders take the zone lock directly.

mod bad_page;
mod zone;

pub use zone::{FreeArea, Zone, WMARK_HIGH, WMARK_LOW, WMARK_MIN};

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use crate::error::MmError;
use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::page::{Page, PageFlags, PageList, MAX_ORDER, PAGE_SIZE};
use crate::percpu::Cpu;

/// Orders kept on per-CPU lists at most (PAGE_ALLOC_COSTLY_ORDER + 1).
pub const NR_PCP_ORDERS: usize = 4;

/// `struct per_cpu_pages`: free pages cached by one CPU.
#[derive(Default)]
pub struct PerCpuPages {
    /// Pages on the lists (an order-k block counts 2^k).
    count: usize,
    lists: [PageList; NR_PCP_ORDERS],
}

impl Mem {
    /// Linux's allocation-failure report (`warn_alloc`).
    #[cold]
    fn warn_alloc(&self, cpu: Option<&Cpu<'_>>, gfp: Gfp, order: u32) {
        if gfp.contains(Gfp::__GFP_NOWARN) || self.config.quiet {
            return;
        }
        // Rate-limited as Linux's `nopage_rs` (a burst of 10): here by
        // count, with no clock in mm: the first 10 reports, then one line
        // per 1000 failures.
        let n = self
            .alloc_fail_reports
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        if n >= 10 {
            if (n + 1) % 1000 == 0 {
                self.printk(format_args!(
                    "warn_alloc: {} page allocation failure reports suppressed\n",
                    n + 1 - 10
                ));
            }
            return;
        }
        let (min, low, high) = self.watermarks();
        let kb = PAGE_SIZE / 1024;
        let mut s = alloc::format!(
            "{}: page allocation failure: order:{}, mode:{:#x}({}), nodemask=(null)\n",
            cpu.map_or_else(|| "kworker".into(), |c| c.comm()),
            order,
            gfp.bits(),
            gfp.name()
        );
        s += &alloc::format!(
            "Node 0 Normal free:{}kB min:{}kB low:{}kB high:{}kB managed:{}kB pcp:{}kB\n",
            self.nr_free_pages() * kb,
            min * kb,
            low * kb,
            high * kb,
            self.managed_pages() * kb,
            self.nr_pcp_pages() * kb
        );
        let counts = self.buddy_counts();
        s += "Node 0 Normal:";
        let mut total = 0;
        for (o, n) in counts.iter().enumerate() {
            s += &alloc::format!(" {}*{}kB", n, kb << o);
            total += n * (kb << o);
        }
        s += &alloc::format!(" = {total}kB\n");
        self.printk(format_args!("{s}"));
    }

    /// Free blocks per order (what /proc/buddyinfo shows).
    pub fn buddy_counts(&self) -> [usize; crate::page::NR_PAGE_ORDERS] {
        let fa = self.zone.lock.lock();
        core::array::from_fn(|o| fa.lists[o].len())
    }

    /// `rmqueue_bulk()`: move `count` blocks of `order` from the buddy lists
    /// to `list`, under one hold of the zone lock.
    fn rmqueue_bulk(&self, order: u32, count: usize, list: &mut PageList) -> usize {
        let map = self.mem_map();
        let mut fa = self.zone.lock.lock();
        let mut got = 0;
        while got < count {
            let Some(pfn) = self.zone.rmqueue_smallest(&mut fa, map, order) else {
                break;
            };
            map[pfn].set_flags_owned(PageFlags::PCP);
            map[pfn].set_private(order as u64);
            list.push_back(map, pfn as u32);
            got += 1;
        }
        got
    }

    /// `free_pcppages_bulk()`: return at least `pages` pages from a CPU's
    /// lists to the buddy lists, coldest (tail) first, under one lock hold.
    fn free_pcppages_bulk(&self, pcp: &mut PerCpuPages, mut pages: usize) {
        let map = self.mem_map();
        let mut fa = self.zone.lock.lock();
        while pages > 0 && pcp.count > 0 {
            for order in 0..NR_PCP_ORDERS {
                // Take from the tail: the page freed longest ago is coldest.
                let Some(tail) = pcp.lists[order].pop_back(map) else {
                    continue;
                };
                pcp.count -= 1 << order;
                pages = pages.saturating_sub(1 << order);
                self.zone
                    .free_one_page(&mut fa, map, tail as usize, order as u32);
                if pages == 0 {
                    break;
                }
            }
        }
    }

    /// `drain_local_pages()`: give all of this CPU's pcp pages back.
    pub(crate) fn drain_local_pages(&self, cpu: &Cpu<'_>) {
        self.pcp.with(cpu, |pcp| {
            if pcp.count > 0 {
                let n = pcp.count;
                self.free_pcppages_bulk(pcp, n);
            }
            self.cpu_states[cpu.id]
                .pcp_count
                .store(0, Ordering::Relaxed);
        });
    }

    /// Take one block of `order` while staying above `mark`.
    fn get_page_from_freelist(
        &self,
        cpu: Option<&Cpu<'_>>,
        order: u32,
        mark: usize,
    ) -> Option<usize> {
        if !self.zone.watermark_ok(order, mark) {
            return None;
        }
        if let (Some(cpu), true) = (cpu, order < self.config.pcp_orders) {
            let map = self.mem_map();
            self.pcp.with(cpu, |pcp| {
                let o = order as usize;
                if pcp.lists[o].is_empty() {
                    let blocks = (self.zone.pcp_batch >> order).max(2);
                    let got = self.rmqueue_bulk(order, blocks, &mut pcp.lists[o]);
                    pcp.count += got << order;
                }
                let pfn = pcp.lists[o].pop_front(map)?;
                pcp.count -= 1 << order;
                self.cpu_states[cpu.id]
                    .pcp_count
                    .store(pcp.count, Ordering::Relaxed);
                Some(pfn as usize)
            })
        } else {
            let mut fa = self.zone.lock.lock();
            self.zone.rmqueue_smallest(&mut fa, self.mem_map(), order)
        }
    }

    /// The slow path: dig into the reserves, then drain and shrink the
    /// slab caches, then reclaim page-cache pages (mm/vmscan.rs) while that
    /// frees some, then fail (and the caller's OOM handling runs).
    #[cold]
    fn alloc_pages_slowpath(&self, cpu: Option<&Cpu<'_>>, gfp: Gfp, order: u32) -> Option<usize> {
        crate::vmscan::wakeup_kswapd(self);
        let min = self.zone.wmark[WMARK_MIN];
        let mark = if gfp.contains(Gfp::__GFP_HIGH) {
            min / 2
        } else {
            min
        };
        if let Some(p) = self.get_page_from_freelist(cpu, order, mark) {
            return Some(p);
        }
        // What this CPU holds itself costs nothing to give back.
        if let Some(cpu) = cpu {
            self.drain_local_pages(cpu);
            if let Some(p) = self.get_page_from_freelist(Some(cpu), order, mark) {
                return Some(p);
            }
        }
        if gfp.may_wait() {
            // Direct reclaim: every CPU's caches, then the slab shrinker. A
            // caller without a CPU guard might hold one elsewhere on its
            // thread, so it only drains CPUs nobody runs on.
            match cpu {
                Some(cpu) => self.drain_all_cpus(Some(cpu)),
                None => self.drain_idle_cpus(),
            }
            self.shrink_slab_caches();
            if let Some(cpu) = cpu {
                self.drain_local_pages(cpu);
            }
            if let Some(p) = self.get_page_from_freelist(cpu, order, mark) {
                return Some(p);
            }
            // Direct reclaim of the page cache (`__alloc_pages_direct_reclaim`),
            // for as long as it makes progress.
            if let Some(cpu) = cpu {
                let want = crate::vmscan::SWAP_CLUSTER_MAX.max(1 << order);
                while crate::vmscan::try_to_free_pages(cpu, want) > 0 {
                    self.drain_local_pages(cpu);
                    if let Some(p) = self.get_page_from_freelist(Some(cpu), order, mark) {
                        return Some(p);
                    }
                }
            }
        }
        self.warn_alloc(cpu, gfp, order);
        None
    }

    /// Allocate 2^order frames, through `cpu`'s lists when there is one.
    #[inline]
    pub(crate) fn alloc_pages_on(
        &self,
        cpu: Option<&Cpu<'_>>,
        gfp: Gfp,
        order: u32,
    ) -> Option<usize> {
        if order > MAX_ORDER {
            self.warn_alloc(cpu, gfp, order);
            return None;
        }
        let pfn = match self.get_page_from_freelist(cpu, order, self.zone.wmark[WMARK_LOW]) {
            Some(p) => p,
            None => self.alloc_pages_slowpath(cpu, gfp, order)?,
        };
        self.prep_new_page(pfn, order, gfp);
        Some(pfn)
    }

    /// Check and free a block, through `cpu`'s lists when there is one.
    #[inline]
    pub(crate) fn free_pages_on(
        &self,
        cpu: Option<&Cpu<'_>>,
        pfn: usize,
        order: u32,
    ) -> Result<(), MmError> {
        self.free_pages_prepare(cpu, pfn, order)?;
        self.free_unref_block(cpu, pfn, order);
        Ok(())
    }

    /// `prep_new_page()`: make a block allocated.
    fn prep_new_page(&self, pfn: usize, order: u32, gfp: Gfp) -> &Page {
        let map = self.mem_map();
        let page = &map[pfn];
        page.set_private(order as u64);
        page.set_refcount(1);
        if gfp.contains(Gfp::__GFP_COMP) && order > 0 {
            page.set_flags_owned(PageFlags::HEAD);
            for t in &map[pfn + 1..pfn + (1 << order)] {
                t.set_flags_owned(PageFlags::TAIL);
                t.set_private(pfn as u64);
            }
        } else {
            page.set_flags_owned(PageFlags::empty());
        }
        if gfp.contains(Gfp::__GFP_ZERO) {
            // SAFETY: the block [pfn, pfn + 2^order) is inside RAM and was
            // just taken off the free lists, so nobody else references it.
            unsafe {
                core::ptr::write_bytes(self.pfn_to_virt(pfn).as_ptr(), 0, PAGE_SIZE << order)
            };
        }
        page
    }

    /// Put a checked, unreferenced block back (pcp list or buddy lists).
    fn free_unref_block(&self, cpu: Option<&Cpu<'_>>, pfn: usize, order: u32) {
        let map = self.mem_map();
        if let (Some(cpu), true) = (cpu, order < self.config.pcp_orders) {
            self.pcp.with(cpu, |pcp| {
                map[pfn].set_flags_owned(PageFlags::PCP);
                map[pfn].set_private(order as u64);
                pcp.lists[order as usize].push_front(map, pfn as u32);
                pcp.count += 1 << order;
                if pcp.count >= self.zone.pcp_high {
                    self.free_pcppages_bulk(pcp, self.zone.pcp_batch);
                }
                self.cpu_states[cpu.id]
                    .pcp_count
                    .store(pcp.count, Ordering::Relaxed);
            });
        } else {
            let mut fa = self.zone.lock.lock();
            self.zone.free_one_page(&mut fa, map, pfn, order);
        }
    }
}

impl<'m> Cpu<'m> {
    /// `alloc_pages()`: 2^order contiguous frames, or None (after a
    /// "page allocation failure" report unless `__GFP_NOWARN`).
    #[inline]
    pub fn alloc_pages(&self, gfp: Gfp, order: u32) -> Option<&'m Page> {
        self.poll();
        let pfn = self.mem.alloc_pages_on(Some(self), gfp, order)?;
        Some(&self.mem.mem_map()[pfn])
    }

    /// `alloc_page()`.
    #[inline]
    pub fn alloc_page(&self, gfp: Gfp) -> Option<&'m Page> {
        self.alloc_pages(gfp, 0)
    }

    /// `__get_free_pages()`: like `alloc_pages` but returns the address.
    #[inline]
    pub fn __get_free_pages(&self, gfp: Gfp, order: u32) -> Option<NonNull<u8>> {
        self.alloc_pages(gfp, order)
            .map(|p| self.mem.page_address(p))
    }

    /// `__get_free_page()`.
    #[inline]
    pub fn __get_free_page(&self, gfp: Gfp) -> Option<NonNull<u8>> {
        self.__get_free_pages(gfp, 0)
    }

    /// `get_zeroed_page()`.
    #[inline]
    pub fn get_zeroed_page(&self, gfp: Gfp) -> Option<NonNull<u8>> {
        self.__get_free_pages(gfp | Gfp::__GFP_ZERO, 0)
    }

    /// `__free_pages()`: free a block the caller holds the only reference to.
    /// Misuse is reported ("BUG: Bad page state") and refused.
    #[inline]
    pub fn __free_pages(&self, page: &Page, order: u32) -> Result<(), MmError> {
        self.poll();
        let mem = self.mem;
        let Some(pfn) = mem.page_to_pfn(page) else {
            return Err(mem.bad_address("__free_pages", page as *const Page as usize));
        };
        mem.free_pages_on(Some(self), pfn, order)
    }

    /// `free_pages()`: free by address.
    #[inline]
    pub fn free_pages(&self, addr: NonNull<u8>, order: u32) -> Result<(), MmError> {
        let a = addr.as_ptr() as usize;
        match self.mem.virt_to_page(a) {
            Some(p) => self.__free_pages(p, order),
            None => Err(self.mem.bad_address("free_pages", a)),
        }
    }

    /// `free_page()`.
    #[inline]
    pub fn free_page(&self, addr: NonNull<u8>) -> Result<(), MmError> {
        self.free_pages(addr, 0)
    }

    /// `put_page()`: drop a reference; the last one frees the block.
    pub fn put_page(&self, page: &Page) -> Result<(), MmError> {
        let mem = self.mem;
        let Some(pfn) = mem.page_to_pfn(page) else {
            return Err(mem.bad_address("put_page", page as *const Page as usize));
        };
        let old = page.refcount_atomic().fetch_sub(1, Ordering::AcqRel);
        if old > 1 {
            return Ok(());
        }
        if old == 1 {
            // Off the LRU lists while the count is 0, so that reclaim
            // (which takes references only from non-zero) cannot take it.
            crate::vmscan::page_cache_release(mem, page);
        }
        // We dropped the last reference; undo and free as the sole owner.
        page.set_refcount(old);
        mem.free_pages_on(Some(self), pfn, page.order())
    }
}
