//! The checks made on every free (`free_pages_prepare`, `bad_page`,
//! `dump_page` in mm/page_alloc.c and mm/debug.c).
//!
//! ferrite checks more than Linux can: because the order of every allocated
//! block is kept, freeing with the wrong order and freeing a tail page are
//! caught too. Every failure prints Linux's "BUG: Bad page state" report and
//! leaves the page and the free lists untouched.

use core::sync::atomic::Ordering;

use crate::error::{BadPageReason, MmError};
use crate::mem::Mem;
use crate::page::{PageFlags, MAX_ORDER};
use crate::percpu::Cpu;

impl Mem {
    /// Check that `pfn` heads an allocated block of `order` held only by the
    /// caller, then take that reference away (the block is the caller's to
    /// put on a free list).
    pub(crate) fn free_pages_prepare(
        &self,
        cpu: Option<&Cpu<'_>>,
        pfn: usize,
        order: u32,
    ) -> Result<(), MmError> {
        let map = self.mem_map();
        let page = &map[pfn];
        loop {
            if let Err(reason) = self.free_pages_check(pfn, order) {
                return Err(self.bad_page(cpu, pfn, reason));
            }
            // Claim the free: a racing second free sees 0 and is refused.
            if page
                .refcount_atomic()
                .compare_exchange(1, 0, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                break;
            }
        }
        let flags = page.flags();
        if flags.contains(PageFlags::HEAD) {
            for t in &map[pfn + 1..pfn + (1 << order)] {
                t.set_flags_owned(PageFlags::empty());
                t.set_private(0);
            }
        }
        page.set_flags_owned(PageFlags::empty());
        Ok(())
    }

    fn free_pages_check(&self, pfn: usize, order: u32) -> Result<(), BadPageReason> {
        let map = self.mem_map();
        let page = &map[pfn];
        let flags = page.flags();
        let rc = page.refcount();
        if order > MAX_ORDER {
            return Err(BadPageReason::WrongOrder {
                allocated: page.order(),
                freed: order,
            });
        }
        if flags.contains(PageFlags::RESERVED) {
            return Err(BadPageReason::Reserved);
        }
        if flags.contains(PageFlags::TAIL) {
            let head = page.private() as usize;
            return Err(BadPageReason::NotHead {
                head_pfn: head,
                order: map[head].order(),
            });
        }
        if rc <= 0 {
            if let Some((head_pfn, order)) = self.enclosing_allocated_block(pfn) {
                return Err(BadPageReason::NotHead { head_pfn, order });
            }
            return Err(BadPageReason::DoubleFree);
        }
        if page.order() != order {
            return Err(BadPageReason::WrongOrder {
                allocated: page.order(),
                freed: order,
            });
        }
        if rc != 1 {
            return Err(BadPageReason::NonzeroRefcount(rc));
        }
        if page.mapcount() != 0 {
            return Err(BadPageReason::NonzeroMapcount(page.mapcount()));
        }
        if page.mapping() != 0 {
            return Err(BadPageReason::NonNullMapping);
        }
        let bad = flags & PageFlags::CHECK_AT_FREE;
        if !bad.is_empty() {
            return Err(BadPageReason::FlagsSetAtFree(bad.bits()));
        }
        Ok(())
    }

    /// The allocated block that contains `pfn` as a non-head page, if any.
    fn enclosing_allocated_block(&self, pfn: usize) -> Option<(usize, u32)> {
        let map = self.mem_map();
        for o in 1..=MAX_ORDER {
            let head = pfn & !((1usize << o) - 1);
            if head == pfn {
                continue;
            }
            let h = &map[head];
            if h.refcount() > 0 && !h.flags().contains(PageFlags::RESERVED) && h.order() >= o {
                return Some((head, h.order()));
            }
        }
        None
    }

    /// `bad_page()` + `dump_page()`: the report, and the error to return.
    #[cold]
    pub(crate) fn bad_page(
        &self,
        cpu: Option<&Cpu<'_>>,
        pfn: usize,
        reason: BadPageReason,
    ) -> MmError {
        let p = &self.mem_map()[pfn];
        let flags = p.flags();
        self.printk(format_args!(
            "BUG: Bad page state in process {}  pfn:{:05x}\n\
             page: refcount:{} mapcount:{} mapping:{:016x} index:{:#x} pfn:{:#x} order:{}\n\
             flags: {:#x}({})\n\
             page dumped because: {}\n",
            cpu.map_or_else(|| "kworker".into(), |c| c.comm()),
            pfn,
            p.refcount(),
            p.mapcount(),
            p.mapping(),
            p.index(),
            pfn,
            if flags.contains(PageFlags::TAIL) {
                0
            } else {
                p.order()
            },
            flags.bits(),
            flags.names(),
            reason.describe()
        ));
        MmError::BadPageState { pfn, reason }
    }
}
