//! Reverse mapping of anonymous pages (Linux's mm/rmap.c): from a page to
//! every PTE that maps it, so that one page can be unmapped from every
//! address space of a fork family (`try_to_unmap`).
//!
//! Where ferrite differs from Linux: Linux keeps an `anon_vma` per VMA
//! family, chained to every VMA by `anon_vma_chain`s. ferrite keeps one
//! [`AnonVma`] per *mm* family: the first anonymous fault of an mm creates
//! it, `dup_mm` adds the child to its parent's, and `exit_mmap` removes the
//! mm. Its list links the mms themselves (`MmStruct::anon_next`). A page
//! records the `AnonVma` in `page->mapping` (with bit 0,
//! `PAGE_MAPPING_ANON`, set) and, as in Linux, its linear page index in
//! `page->index`: `vm_pgoff + (addr - vm_start) / PAGE_SIZE` of the area
//! it was first mapped in ([`linear_page_index`]). An anonymous area's
//! `vm_pgoff` is `vm_start >> PAGE_SHIFT` when it is created and stays
//! with its pages through splits, merges (which require contiguous
//! offsets), stack growth and mremap moves, so the index keeps naming the
//! page wherever mremap moved it. `try_to_unmap` computes, in each mm of
//! the family, the address in every area that covers the index
//! ([`vma_address`]) and removes the PTE where it maps this page.
//!
//! Locking: the `AnonVma` lock (Linux's `anon_vma->rwsem`) guards the list;
//! it is taken before any `page_table_lock`, never inside one. Reading an
//! mm's areas, `try_to_unmap` only *tries* its mmap lock (for reading)
//! under the `AnonVma` lock and starts over when a writer holds it, as
//! truncate does with `i_mmap`; its caller must not hold the mmap lock of
//! an mm of the family for writing.

use core::num::NonZeroUsize;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::mmap::{MmPtr, MmStruct, PgtState, RssCounter, VmAreaStruct, VmFlags};
use crate::page::{Page, PAGE_SHIFT};
use crate::percpu::Cpu;
use crate::slab::{KmemCache, SlabFlags};
use crate::sync::{cpu_relax, SpinLock};

/// The slab cache's name, as in Linux.
pub const ANON_VMA_CACHE: &str = "anon_vma";
/// `PAGE_MAPPING_ANON`: bit 0 of `page->mapping` marks an `anon_vma`.
pub const PAGE_MAPPING_ANON: usize = 1;

/// `struct anon_vma`: one per fork family of mms.
pub struct AnonVma {
    /// Guards `head` and every `anon_next` on the list.
    lock: SpinLock<()>,
    /// Users (mms on the list).
    refcount: AtomicUsize,
    /// The first `MmStruct` on the list (its address), 0 when empty.
    head: AtomicUsize,
}

/// Create the `anon_vma` cache once per `Mem` (as Linux's `anon_vma_init`
/// does at boot); found again by name afterwards. Idempotent.
pub fn anon_vma_init(mem: &Mem) -> Option<&KmemCache> {
    static CREATE: SpinLock<()> = SpinLock::new(());
    let find = || {
        mem.caches()
            .into_iter()
            .find(|c| c.name() == ANON_VMA_CACHE)
    };
    if let Some(c) = find() {
        return Some(c);
    }
    let _g = CREATE.lock();
    if let Some(c) = find() {
        return Some(c);
    }
    let owned = mem
        .kmem_cache_create(
            ANON_VMA_CACHE,
            core::mem::size_of::<AnonVma>(),
            core::mem::align_of::<AnonVma>(),
            SlabFlags::empty(),
            None,
        )
        .ok()?;
    // Lives as long as `mem`: the handle is forgotten, never destroyed.
    let owned = core::mem::ManuallyDrop::new(owned);
    let c: *const KmemCache = owned.get();
    // SAFETY: the descriptor lives in `mem`'s RAM and is never destroyed.
    Some(unsafe { &*c })
}

/// A handle on an [`AnonVma`] in ferrite's RAM (an object of the
/// `anon_vma` cache), as an mm (`MmStruct::anon_vma`), a fault, and an
/// anonymous page's `mapping` (with `PAGE_MAPPING_ANON`) hold it. Every
/// cast between an address and an `AnonVma` is in this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AnonVmaPtr(NonZeroUsize);

impl AnonVmaPtr {
    /// The handle an address names; None for 0.
    fn from_addr(addr: usize) -> Option<AnonVmaPtr> {
        NonZeroUsize::new(addr).map(AnonVmaPtr)
    }

    /// The family of `mm`; None before its first anonymous fault.
    fn of_mm(mm: &MmStruct<'_>) -> Option<AnonVmaPtr> {
        AnonVmaPtr::from_addr(mm.anon_vma.load(Relaxed))
    }

    /// The family of an anonymous page (its `mapping` less
    /// `PAGE_MAPPING_ANON`); None for any other page.
    fn of_page(page: &Page) -> Option<AnonVmaPtr> {
        if !page_anon(page) {
            return None;
        }
        AnonVmaPtr::from_addr(page.mapping() & !PAGE_MAPPING_ANON)
    }

    /// The object's address (what `mm.anon_vma` and pages store).
    pub(crate) fn addr(self) -> usize {
        self.0.get()
    }

    /// The slab object, to free it.
    fn object(self) -> NonNull<u8> {
        NonNull::new(self.0.get() as *mut u8).expect("NonZeroUsize is never null")
    }

    /// The `AnonVma`.
    ///
    /// # Safety
    /// The `AnonVma` stays live for `'a`: one an mm holds a reference to
    /// (`mm.anon_vma`) for `'a`, or the family of a page mapped (so
    /// referenced by the mms of that family) for `'a`.
    unsafe fn as_ref<'a>(self) -> &'a AnonVma {
        // SAFETY: the caller's promise; the address of an AnonVma written
        // by `anon_vma_prepare`.
        unsafe { &*(self.0.get() as *const AnonVma) }
    }
}

/// `anon_vma_prepare`: the mm's family `AnonVma`, created on first use.
pub fn anon_vma_prepare(cpu: &Cpu<'_>, mm: &MmStruct<'_>) -> Option<AnonVmaPtr> {
    if let Some(cur) = AnonVmaPtr::of_mm(mm) {
        return Some(cur);
    }
    let cache = anon_vma_init(cpu.mem())?;
    let p = cpu
        .kmem_cache_alloc(cache, Gfp::GFP_KERNEL)?
        .cast::<AnonVma>();
    let me = MmPtr::of(mm).addr();
    // SAFETY: a fresh object of the cache, sized and aligned for AnonVma.
    unsafe {
        p.as_ptr().write(AnonVma {
            lock: SpinLock::new(()),
            refcount: AtomicUsize::new(1),
            head: AtomicUsize::new(me),
        })
    };
    mm.anon_next.store(0, Relaxed);
    let av = AnonVmaPtr(p.addr());
    match mm.anon_vma.compare_exchange(0, av.addr(), Relaxed, Relaxed) {
        Ok(_) => Some(av),
        Err(other) => {
            // Another fault of this mm won the race; ours was never seen.
            let _ = cpu.kmem_cache_free(cache, p.cast());
            AnonVmaPtr::from_addr(other)
        }
    }
}

/// `anon_vma_fork`: put `child` on `parent`'s family list.
pub fn anon_vma_fork(child: &MmStruct<'_>, parent: &MmStruct<'_>) {
    let Some(av) = AnonVmaPtr::of_mm(parent) else {
        return;
    };
    // SAFETY: `parent` holds a reference to its family's AnonVma.
    let a = unsafe { av.as_ref() };
    let _g = a.lock.lock();
    child.anon_next.store(a.head.load(Relaxed), Relaxed);
    a.head.store(MmPtr::of(child).addr(), Relaxed);
    a.refcount.fetch_add(1, Relaxed);
    child.anon_vma.store(av.addr(), Relaxed);
}

/// `unlink_anon_vmas`: take `mm` off its family list (by `exit_mmap`, after
/// every page is unmapped); the last user frees the `AnonVma`.
pub fn unlink_anon_vma(cpu: &Cpu<'_>, mm: &MmStruct<'_>) {
    let Some(av) = AnonVmaPtr::from_addr(mm.anon_vma.swap(0, Relaxed)) else {
        return;
    };
    // SAFETY: `mm` held a reference to the AnonVma (dropped below).
    let a = unsafe { av.as_ref() };
    let me = MmPtr::of(mm).addr();
    let last = {
        let _g = a.lock.lock();
        let mut cur = a.head.load(Relaxed);
        if cur == me {
            a.head.store(mm.anon_next.load(Relaxed), Relaxed);
        } else {
            while let Some(m) = MmPtr::from_addr(cur) {
                // SAFETY: read from the list under its lock, still held:
                // mms on the list are live until taken off under it.
                let m = unsafe { m.as_ref() };
                let next = m.anon_next.load(Relaxed);
                if next == me {
                    m.anon_next.store(mm.anon_next.load(Relaxed), Relaxed);
                    break;
                }
                cur = next;
            }
        }
        mm.anon_next.store(0, Relaxed);
        a.refcount.fetch_sub(1, Relaxed) == 1
    };
    if last {
        if let Some(cache) = anon_vma_init(cpu.mem()) {
            let _ = cpu.kmem_cache_free(cache, av.object());
        }
    }
}

/// `__page_set_anon_rmap` for an area whose `vm_pgoff` is
/// `vm_start >> PAGE_SHIFT` (one never moved by mremap): the page's index
/// is `va`'s page number. [`page_add_new_anon_rmap`] is the general form.
pub fn page_set_anon_rmap(page: &Page, av: AnonVmaPtr, va: usize) {
    page.set_mapping(av.addr() | PAGE_MAPPING_ANON);
    page.set_index((va >> PAGE_SHIFT) as u64);
}

/// `linear_page_index`: the index of `va` in `vma`'s object (the file, or
/// for an anonymous area the linear space `vm_pgoff` starts).
pub fn linear_page_index(vma: &VmAreaStruct, va: usize) -> usize {
    vma.vm_pgoff
        .wrapping_add(va.wrapping_sub(vma.vm_start) >> PAGE_SHIFT)
}

/// `vma_address`: where page index `pgoff` is mapped in `vma`, or None
/// when the area does not cover it.
pub fn vma_address(vma: &VmAreaStruct, pgoff: usize) -> Option<usize> {
    let off = pgoff.checked_sub(vma.vm_pgoff)?;
    (off < vma.pages()).then(|| vma.vm_start + (off << PAGE_SHIFT))
}

/// `page_add_new_anon_rmap` (`__page_set_anon_rmap`): a new anonymous page
/// of the family `av` at `va` of `vma` (also `page_move_anon_rmap` when a
/// write fault reuses a page).
pub fn page_add_new_anon_rmap(page: &Page, av: AnonVmaPtr, vma: &VmAreaStruct, va: usize) {
    page.set_mapping(av.addr() | PAGE_MAPPING_ANON);
    page.set_index(linear_page_index(vma, va) as u64);
}

/// `PageAnon`: whether `page->mapping` names an `AnonVma`.
pub fn page_anon(page: &Page) -> bool {
    page.mapping() & PAGE_MAPPING_ANON != 0
}

/// The mms of the family that maps `page` (its `AnonVma` list), as
/// addresses; empty for a page that is not anonymous.
pub fn page_mms(page: &Page) -> alloc::vec::Vec<usize> {
    let mut out = alloc::vec::Vec::new();
    let Some(av) = AnonVmaPtr::of_page(page) else {
        return out;
    };
    // SAFETY: a mapped anonymous page's family is live.
    let a = unsafe { av.as_ref() };
    let _g = a.lock.lock();
    let mut cur = a.head.load(Relaxed);
    while let Some(m) = MmPtr::from_addr(cur) {
        out.push(m.addr());
        // SAFETY: read from the list under its lock, still held.
        cur = unsafe { m.as_ref() }.anon_next.load(Relaxed);
    }
    out
}

/// `try_to_unmap`: remove every PTE that maps the anonymous `page` in its
/// fork family (at [`vma_address`] of every private area covering its
/// index), dropping the mapcount, the mappings' references and the RSS
/// counters, and recording each mm's TLB flush. Returns the number of
/// PTEs removed. The caller holds its own reference to the page (as Linux
/// requires), so the page is not freed under it.
pub fn try_to_unmap(cpu: &Cpu<'_>, page: &Page) -> usize {
    let mut n = 0;
    'retry: loop {
        // The last mapping gone clears `page->mapping`: nothing left.
        let Some(av) = AnonVmaPtr::of_page(page) else {
            return n;
        };
        let mem = cpu.mem();
        let Some(pfn) = mem.page_to_pfn(page) else {
            return n;
        };
        // SAFETY: a mapped anonymous page's family is live (the caller's
        // reference keeps the page, and its mappers keep the family).
        let a = unsafe { av.as_ref() };
        let index = page.index() as usize;
        let g = a.lock.lock();
        let mut cur = a.head.load(Relaxed);
        while let Some(m) = MmPtr::from_addr(cur) {
            // SAFETY: read from the list under its lock, still held.
            let mm = unsafe { m.as_ref() };
            let Some(st) = mm.mmap_lock.try_read() else {
                // A writer (perhaps waiting for this lock): start over.
                drop(g);
                cpu.poll();
                cpu_relax();
                continue 'retry;
            };
            let mut pg = mm.page_table_lock.lock();
            let PgtState { pt, tlb } = &mut *pg;
            if let Some(pt) = pt.as_mut() {
                for v in st.vmas() {
                    if v.vm_flags.contains(VmFlags::VM_SHARED) {
                        continue;
                    }
                    let Some(va) = vma_address(v, index) else {
                        continue;
                    };
                    let hit = pt
                        .lookup(va)
                        .filter(|e| e.is_present() && !e.is_special() && e.pfn() as usize == pfn);
                    if hit.is_some() && pt.unmap_page(va, tlb).is_some() {
                        mm.update_hiwater_rss();
                        mm.add_mm_counter(RssCounter::AnonPages, -1);
                        crate::fault::page_remove_rmap(mem, page, false);
                        let _ = cpu.put_page(page);
                        n += 1;
                    }
                }
            }
            drop(pg);
            drop(st);
            cur = mm.anon_next.load(Relaxed);
        }
        return n;
    }
}
