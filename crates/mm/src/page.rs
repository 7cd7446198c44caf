//! `struct page`: one descriptor per page frame (include/linux/mm_types.h,
//! include/linux/page-flags.h).
//!
//! Every field is an atomic so that a `&Page` may be shared by all harts; the
//! fields are nevertheless owned the Linux way (free-list links by the zone
//! lock, per-CPU list links by the owning CPU, slab fields by the cache's node
//! lock) and accessed with relaxed loads and stores, which cost what plain
//! ones do. ferrite differs from Linux in two places:
//! - list links are page frame numbers (`u32`, `NIL` = none), not pointers,
//!   so a mem_map is position-independent and a link is half the size;
//! - the allocation order of every allocated block is kept in `private`, so
//!   that freeing with the wrong order is caught, and a software flag
//!   `PG_pcp` marks pages sitting on a per-CPU list.

use core::sync::atomic::{
    AtomicI32, AtomicU16, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};

/// log2 of the page size.
pub const PAGE_SHIFT: usize = 12;
/// The page size (4 KiB, as RISC-V Sv48 and x86-64 use).
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// The largest order the buddy allocator serves (orders 0..=MAX_ORDER; 11 free lists).
pub const MAX_ORDER: u32 = 10;
/// Number of free lists.
pub const NR_PAGE_ORDERS: usize = MAX_ORDER as usize + 1;
/// "No page" in a link.
pub const NIL: u32 = u32::MAX;

bitflags::bitflags! {
    /// `page->flags`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PageFlags: u64 {
        const LOCKED = 1 << 0;
        const REFERENCED = 1 << 2;
        const UPTODATE = 1 << 3;
        const DIRTY = 1 << 4;
        const LRU = 1 << 5;
        const ACTIVE = 1 << 6;
        /// `PG_arch_1`: on riscv, `PG_dcache_clean` (see
        /// [`PageFlags::DCACHE_CLEAN`]).
        const ARCH_1 = 1 << 8;
        const SLAB = 1 << 9;
        const RESERVED = 1 << 10;
        const PRIVATE = 1 << 11;
        const WRITEBACK = 1 << 12;
        const HEAD = 1 << 15;
        /// On the unevictable LRU list (mapped by an mlocked area).
        const UNEVICTABLE = 1 << 18;
        const SWAPBACKED = 1 << 19;
        /// Free, heading a block on a buddy free list (Linux: PageBuddy page type).
        const BUDDY = 1 << 24;
        /// Tail page of a compound page; `private` holds the head's pfn.
        const TAIL = 1 << 25;
        /// Free, on a per-CPU page list (ferrite only).
        const PCP = 1 << 26;
        /// Head of a kmalloc allocation too large for a cache (Linux: PageLargeKmalloc).
        const LARGE_KMALLOC = 1 << 27;
    }
}

impl PageFlags {
    /// riscv's `PG_dcache_clean` (= `PG_arch_1`): the instruction caches
    /// have seen this page's contents. Clear on a newly allocated page (the
    /// allocator resets the flags); set by the first executable mapping,
    /// which then asks for an instruction-cache flush
    /// ([`crate::pgtable::flush_icache_pte`]).
    pub const DCACHE_CLEAN: PageFlags = PageFlags::ARCH_1;

    /// Flags that must not be set when a page is freed (PAGE_FLAGS_CHECK_AT_FREE).
    pub const CHECK_AT_FREE: PageFlags = PageFlags::LOCKED
        .union(PageFlags::LRU)
        .union(PageFlags::ACTIVE)
        .union(PageFlags::UNEVICTABLE)
        .union(PageFlags::SLAB)
        .union(PageFlags::PRIVATE)
        .union(PageFlags::WRITEBACK)
        .union(PageFlags::RESERVED);

    /// Linux's `%pGp` rendering: lower-case names joined by '|'.
    pub fn names(self) -> alloc::string::String {
        let mut s = alloc::string::String::new();
        for (i, (name, _)) in self.iter_names().enumerate() {
            if i > 0 {
                s.push('|');
            }
            s.push_str(&name.to_ascii_lowercase());
        }
        s
    }
}

/// `struct page`. 64 bytes, like Linux's on 64-bit machines.
#[repr(C)]
pub struct Page {
    flags: AtomicU64,
    /// `_refcount` (the notes' `_count`): 0 when free.
    refcount: AtomicI32,
    /// `_mapcount`: -1 when mapped nowhere.
    mapcount: AtomicI32,
    /// Buddy order of a free block, allocation order of an allocated block,
    /// head pfn of a tail page.
    private: AtomicU64,
    /// `lru` list links: buddy free lists, per-CPU lists, slab lists, and
    /// for a user page the LRU lists (mm/vmscan.rs).
    lru_next: AtomicU32,
    lru_prev: AtomicU32,
    /// The `kmem_cache` a slab page belongs to.
    slab_cache: AtomicUsize,
    /// The notes' `struct slab`: objects in use.
    slab_inuse: AtomicU16,
    /// The notes' `struct slab`: colour offset of the first object.
    slab_colouroff: AtomicU16,
    _slab_pad: AtomicU32,
    /// `mapping`: the address_space or anon_vma of a user page.
    mapping: AtomicUsize,
    /// `index`: offset within the mapping, in pages.
    index: AtomicU64,
}

const _: () = assert!(core::mem::size_of::<Page>() == 64);

impl Page {
    /// A descriptor as boot leaves it: reserved, one reference.
    pub(crate) const fn new_reserved() -> Page {
        Page {
            flags: AtomicU64::new(PageFlags::RESERVED.bits()),
            refcount: AtomicI32::new(1),
            mapcount: AtomicI32::new(-1),
            private: AtomicU64::new(0),
            lru_next: AtomicU32::new(NIL),
            lru_prev: AtomicU32::new(NIL),
            slab_cache: AtomicUsize::new(0),
            slab_inuse: AtomicU16::new(0),
            slab_colouroff: AtomicU16::new(0),
            _slab_pad: AtomicU32::new(0),
            mapping: AtomicUsize::new(0),
            index: AtomicU64::new(0),
        }
    }

    /// `page->flags`.
    #[inline]
    pub fn flags(&self) -> PageFlags {
        PageFlags::from_bits_retain(self.flags.load(Relaxed))
    }
    #[inline]
    pub(crate) fn set_flags_owned(&self, f: PageFlags) {
        self.flags.store(f.bits(), Relaxed)
    }
    /// Atomically set flags (`SetPageXxx`).
    #[inline]
    pub fn set_flag(&self, f: PageFlags) {
        self.flags.fetch_or(f.bits(), Relaxed);
    }
    /// Atomically set flags, returning whether all of them were already
    /// set (`TestSetPageXxx`, `test_and_set_bit`).
    #[inline]
    pub fn test_and_set_flag(&self, f: PageFlags) -> bool {
        self.flags.fetch_or(f.bits(), Relaxed) & f.bits() == f.bits()
    }
    /// Atomically clear flags (`ClearPageXxx`).
    #[inline]
    pub fn clear_flag(&self, f: PageFlags) {
        self.flags.fetch_and(!f.bits(), Relaxed);
    }
    /// `page_ref_count()`.
    #[inline]
    pub fn refcount(&self) -> i32 {
        self.refcount.load(Relaxed)
    }
    #[inline]
    pub(crate) fn refcount_atomic(&self) -> &AtomicI32 {
        &self.refcount
    }
    #[inline]
    pub(crate) fn set_refcount(&self, v: i32) {
        self.refcount.store(v, Relaxed)
    }
    /// `get_page()`: take another reference.
    #[inline]
    pub fn get_page(&self) {
        self.refcount.fetch_add(1, Relaxed);
    }
    /// `page_mapcount()`: how many page tables map the page.
    #[inline]
    pub fn mapcount(&self) -> i32 {
        self.mapcount.load(Relaxed) + 1
    }
    /// The raw `_mapcount` (-1 when unmapped).
    #[inline]
    pub fn raw_mapcount(&self) -> &AtomicI32 {
        &self.mapcount
    }
    #[inline]
    pub(crate) fn private(&self) -> u64 {
        self.private.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set_private(&self, v: u64) {
        self.private.store(v, Relaxed)
    }
    /// The order of the allocated block this page heads.
    #[inline]
    pub fn order(&self) -> u32 {
        self.private() as u32
    }
    #[inline]
    pub(crate) fn next(&self) -> u32 {
        self.lru_next.load(Relaxed)
    }
    /// The previous pfn on the page's list (`NIL` at the head).
    #[inline]
    pub(crate) fn prev(&self) -> u32 {
        self.lru_prev.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set_next(&self, v: u32) {
        self.lru_next.store(v, Relaxed)
    }
    #[inline]
    pub(crate) fn set_prev(&self, v: u32) {
        self.lru_prev.store(v, Relaxed)
    }
    /// The slab cache descriptor address of a slab page (0 otherwise).
    #[inline]
    pub(crate) fn slab_cache(&self) -> usize {
        self.slab_cache.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set_slab_cache(&self, v: usize) {
        self.slab_cache.store(v, Relaxed)
    }
    /// Objects in use in this slab.
    #[inline]
    pub fn slab_inuse(&self) -> u16 {
        self.slab_inuse.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set_slab_inuse(&self, v: u16) {
        self.slab_inuse.store(v, Relaxed)
    }
    /// Colour offset of this slab's first object.
    #[inline]
    pub fn slab_colouroff(&self) -> u16 {
        self.slab_colouroff.load(Relaxed)
    }
    #[inline]
    pub(crate) fn set_slab_colouroff(&self, v: u16) {
        self.slab_colouroff.store(v, Relaxed)
    }
    /// `page->mapping`.
    #[inline]
    pub fn mapping(&self) -> usize {
        self.mapping.load(Relaxed)
    }
    /// Set `page->mapping`.
    #[inline]
    pub fn set_mapping(&self, v: usize) {
        self.mapping.store(v, Relaxed)
    }
    /// `page->index`.
    #[inline]
    pub fn index(&self) -> u64 {
        self.index.load(Relaxed)
    }
    /// Set `page->index`.
    #[inline]
    pub fn set_index(&self, v: u64) {
        self.index.store(v, Relaxed)
    }
}

/// A `list_head` of pages linked through their `lru` fields by pfn.
///
/// The list itself holds no lock: its owner (zone lock, a CPU, a cache's
/// node lock) serialises every operation.
#[derive(Clone, Copy, Debug)]
pub struct PageList {
    first: u32,
    last: u32,
    len: u32,
}

impl Default for PageList {
    fn default() -> Self {
        Self::new()
    }
}

impl PageList {
    /// `LIST_HEAD_INIT`.
    pub const fn new() -> Self {
        PageList {
            first: NIL,
            last: NIL,
            len: 0,
        }
    }
    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }
    /// `list_empty()`.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.first == NIL
    }
    /// First pfn, if any.
    #[inline]
    pub fn first(&self) -> Option<u32> {
        (self.first != NIL).then_some(self.first)
    }
    /// Last pfn, if any.
    #[inline]
    pub fn last(&self) -> Option<u32> {
        (self.last != NIL).then_some(self.last)
    }
    /// `list_add()`: at the head.
    #[inline]
    pub fn push_front(&mut self, map: &[Page], pfn: u32) {
        let p = &map[pfn as usize];
        p.set_prev(NIL);
        p.set_next(self.first);
        if self.first != NIL {
            map[self.first as usize].set_prev(pfn);
        } else {
            self.last = pfn;
        }
        self.first = pfn;
        self.len += 1;
    }
    /// `list_add_tail()`.
    #[inline]
    pub fn push_back(&mut self, map: &[Page], pfn: u32) {
        let p = &map[pfn as usize];
        p.set_next(NIL);
        p.set_prev(self.last);
        if self.last != NIL {
            map[self.last as usize].set_next(pfn);
        } else {
            self.first = pfn;
        }
        self.last = pfn;
        self.len += 1;
    }
    /// Remove and return the head.
    #[inline]
    pub fn pop_front(&mut self, map: &[Page]) -> Option<u32> {
        let pfn = self.first()?;
        self.remove(map, pfn);
        Some(pfn)
    }
    /// Remove and return the tail.
    #[inline]
    pub fn pop_back(&mut self, map: &[Page]) -> Option<u32> {
        let pfn = (self.last != NIL).then_some(self.last)?;
        self.remove(map, pfn);
        Some(pfn)
    }
    /// `list_del()`. The page must be on this list.
    #[inline]
    pub fn remove(&mut self, map: &[Page], pfn: u32) {
        let p = &map[pfn as usize];
        let (prev, next) = (p.prev(), p.next());
        if prev != NIL {
            map[prev as usize].set_next(next);
        } else {
            self.first = next;
        }
        if next != NIL {
            map[next as usize].set_prev(prev);
        } else {
            self.last = prev;
        }
        p.set_next(NIL);
        p.set_prev(NIL);
        self.len -= 1;
    }
    /// Iterate over the pfns (the caller holds the list's lock).
    pub fn iter<'a>(&self, map: &'a [Page]) -> impl Iterator<Item = u32> + 'a {
        let mut cur = self.first;
        core::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let r = cur;
            cur = map[cur as usize].next();
            Some(r)
        })
    }
}
