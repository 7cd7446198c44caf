//! Page faults (Linux's mm/memory.c `handle_mm_fault`,
//! `do_anonymous_page`, `do_wp_page`, arch/riscv/mm/fault.c's access
//! checks, mm/mmap.c's stack expansion).
//!
//! - No VMA at the address: `SIGSEGV`/`SEGV_MAPERR`; a VMA that forbids the
//!   access: `SIGSEGV`/`SEGV_ACCERR` (riscv's rules: a load needs VM_READ or
//!   VM_WRITE, a store VM_WRITE, a fetch VM_EXEC).
//! - A read (or fetch) fault on an empty PTE of a private area maps the
//!   shared zero page read-only (a special PTE, no refcount or mapcount,
//!   as Linux); a write fault maps a fresh zeroed page. Shared anonymous
//!   areas are shmem-backed and fault through the page cache like files.
//! - A write to a present read-only PTE of a writable area is copy on
//!   write: the page is reused when this mapping is its only user (mapcount
//!   1 and refcount 1), copied otherwise; the zero page is replaced by a
//!   fresh zeroed page.
//! - A VM_GROWSDOWN area grows down to a faulting address below it, keeping
//!   `stack_guard_gap` (256 pages) above an accessible area beneath, within
//!   `RLIMIT_STACK` (8 MiB, Linux's default).
//! - A and D are set as the hardware would (D on writes).
//!
//! - File-backed areas (`vm_file`) fault through their `vm_ops` into the
//!   page cache (see [`crate::filemap`]); a private write copies the file
//!   page into an anonymous one (`do_cow_fault`, or `do_wp_page` when the
//!   file page is already mapped). Areas with other `vm_ops` give SIGBUS.
//!
//! Where ferrite differs (for now): a fault takes the mmap lock
//! itself (for writing when the stack grows), where Linux's arch code
//! takes it.

use core::sync::atomic::Ordering::Relaxed;

use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::mmap::{
    MmStruct, MmapState, PgtState, RssCounter, VmAreaStruct, VmFlags, STACK_GUARD_GAP,
};
use crate::page::{Page, PageFlags, PAGE_SIZE};
use crate::percpu::Cpu;
use crate::pgtable::{
    flush_icache_pte, is_user_addr, level_shift, PageTable, PgProt, Pte, TlbFlush,
};
use crate::rmap::{self, AnonVmaPtr};
use crate::vmstat::NodeStatItem;

/// `SIGBUS`.
pub const SIGBUS: i32 = 7;
/// `SIGSEGV`.
pub const SIGSEGV: i32 = 11;
/// `SEGV_MAPERR`: address not mapped.
pub const SEGV_MAPERR: i32 = 1;
/// `SEGV_ACCERR`: invalid permissions for the mapping.
pub const SEGV_ACCERR: i32 = 2;
/// `BUS_ADRERR`: nonexistent physical address.
pub const BUS_ADRERR: i32 = 2;
/// `RLIMIT_STACK`'s default (8 MiB).
pub const RLIMIT_STACK_DEFAULT: usize = 8 << 20;

/// The kind of access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store (or AMO).
    Write,
    /// An instruction fetch.
    Exec,
}

/// Why a fault could not be resolved: the signal the task gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// `SIGSEGV` with `SEGV_MAPERR`: no VMA.
    MapErr,
    /// `SIGSEGV` with `SEGV_ACCERR`: the VMA forbids the access.
    AccErr,
    /// `SIGBUS` (`BUS_ADRERR`).
    Sigbus,
    /// `VM_FAULT_OOM`.
    Oom,
}

impl FaultError {
    /// The signal number (`SIGSEGV`, `SIGBUS`), or 0 for OOM (the OOM
    /// killer's business).
    pub fn signo(self) -> i32 {
        match self {
            FaultError::MapErr | FaultError::AccErr => SIGSEGV,
            FaultError::Sigbus => SIGBUS,
            FaultError::Oom => 0,
        }
    }

    /// The `si_code`.
    pub fn si_code(self) -> i32 {
        match self {
            FaultError::MapErr => SEGV_MAPERR,
            FaultError::AccErr => SEGV_ACCERR,
            FaultError::Sigbus => BUS_ADRERR,
            FaultError::Oom => 0,
        }
    }
}

/// Boot-time set-up of the fault layer for `mem`: the zero page and the
/// `anon_vma` cache (both live as long as `mem`). Idempotent; faults do it
/// lazily otherwise.
pub fn init(cpu: &Cpu<'_>) -> Result<(), FaultError> {
    zero_page(cpu).ok_or(FaultError::Oom)?;
    rmap::anon_vma_init(cpu.mem()).ok_or(FaultError::Oom)?;
    Ok(())
}

/// The shared zero page's pfn (`my_zero_pfn`): one zeroed page per `Mem`,
/// allocated on first use, marked `PG_reserved`, its reference pinned, and
/// never freed.
pub fn zero_page(cpu: &Cpu<'_>) -> Option<usize> {
    let mem = cpu.mem();
    let cur = mem.zero_pfn.load(Relaxed);
    if cur != 0 {
        return Some(cur - 1);
    }
    let page = cpu.alloc_page(Gfp::GFP_KERNEL | Gfp::__GFP_ZERO)?;
    let pfn = mem.page_to_pfn(page)?;
    page.set_flag(PageFlags::RESERVED);
    match mem.zero_pfn.compare_exchange(0, pfn + 1, Relaxed, Relaxed) {
        Ok(_) => Some(pfn),
        Err(other) => {
            page.clear_flag(PageFlags::RESERVED);
            let _ = cpu.__free_pages(page, 0);
            Some(other - 1)
        }
    }
}

/// The zero page's pfn if it exists.
pub fn zero_pfn(mem: &Mem) -> Option<usize> {
    mem.zero_pfn.load(Relaxed).checked_sub(1)
}

/// `vm_normal_page`: the page a PTE maps and the fault layer accounts for,
/// or None (empty entry, the zero page or another special mapping, or a
/// frame mapped without accounting: mapcount -1).
pub fn mapped_page(mem: &Mem, pte: Pte) -> Option<&Page> {
    if !pte.is_present() || pte.is_special() {
        return None;
    }
    let page = mem.pfn_to_page(pte.pfn() as usize)?;
    (page.mapcount() > 0).then_some(page)
}

/// `page_remove_rmap`: one mapping fewer; the last one uncounts the page
/// (`NR_ANON_MAPPED`, or `NR_SHMEM` for shared anonymous memory) and
/// clears `page->mapping`.
pub fn page_remove_rmap(mem: &Mem, page: &Page, shared: bool) {
    if page.raw_mapcount().fetch_sub(1, Relaxed) == 0 {
        if crate::filemap::page_is_file(page) {
            // A page-cache page keeps its mapping and index.
            mem.vmstat.add(NodeStatItem::NrFileMapped, -1);
            return;
        }
        let item = if shared {
            NodeStatItem::NrShmem
        } else {
            NodeStatItem::NrAnonMapped
        };
        mem.vmstat.add(item, -1);
        page.set_mapping(0);
        page.set_index(0);
    }
}

/// `put_page` without a CPU guard (the locked path of the allocator).
pub(crate) fn put_page_nocpu(mem: &Mem, page: &Page) {
    let Some(pfn) = mem.page_to_pfn(page) else {
        return;
    };
    let old = page
        .refcount_atomic()
        .fetch_sub(1, core::sync::atomic::Ordering::AcqRel);
    if old > 1 {
        return;
    }
    if old == 1 {
        crate::vmscan::page_cache_release(mem, page);
    }
    page.set_refcount(old);
    // A misuse has been reported by the allocator; nothing more to do.
    let _ = mem.free_pages_on(None, pfn, page.order());
}

/// The first non-empty PTE in `[va, end)` of `pt`, skipping absent tables
/// the way a hardware walk would stop at them.
pub(crate) fn next_pte(pt: &PageTable<'_>, mut va: usize, end: usize) -> Option<(usize, Pte)> {
    while va < end {
        let last = pt.walk(va).into_iter().flatten().last()?;
        if last.level == 3 {
            if !last.entry.is_none() {
                return Some((va, last.entry));
            }
            va = va.checked_add(PAGE_SIZE)?;
        } else {
            let span = 1usize << level_shift(last.level);
            va = (va & !(span - 1)).checked_add(span)?;
        }
    }
    None
}

/// Replace the PTE at `va` (present) with `new`, recording the flush (and
/// the instruction-cache flush a new executable page needs).
pub(crate) fn set_pte(
    cpu: &Cpu<'_>,
    pt: &mut PageTable<'_>,
    tlb: &mut TlbFlush,
    va: usize,
    new: Pte,
) {
    pt.unmap_page(va, tlb);
    let Some(prot) = PgProt::new(new.flags()) else {
        return;
    };
    // The tables exist (the entry was just there), so this cannot fail.
    if pt.map_page(cpu, va, new.pfn(), prot).is_ok() {
        flush_icache_pte(cpu.mem(), new, tlb);
    }
}

/// `access_error` (arch/riscv/mm/fault.c).
fn access_error(vma: &VmAreaStruct, access: Access) -> bool {
    let f = vma.vm_flags;
    match access {
        Access::Exec => !f.contains(VmFlags::VM_EXEC),
        Access::Read => !f.intersects(VmFlags::VM_READ | VmFlags::VM_WRITE),
        Access::Write => !f.contains(VmFlags::VM_WRITE),
    }
}

/// `handle_mm_fault` with the arch part (`do_page_fault`): find the VMA
/// (growing a stack down to `addr` if need be), check the access, and
/// make the PTE allow it.
pub fn handle_mm_fault(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    addr: usize,
    access: Access,
) -> Result<(), FaultError> {
    if !is_user_addr(addr) {
        return Err(FaultError::MapErr);
    }
    mm.mem()
        .vmstat
        .count_event(crate::vmstat::VmEventItem::PgFault, 1);
    // The background reclaimer's work, if an allocation woke it: here,
    // before any mm lock is taken (see mm/vmscan.rs).
    crate::vmscan::kswapd_balance(cpu);
    {
        let st = mm.mmap_read_lock(cpu);
        match st.find_vma(addr).cloned() {
            None => return Err(FaultError::MapErr),
            Some(v) if v.vm_start <= addr => {
                return handle_vma_fault(cpu, mm, &v, addr, access);
            }
            Some(v) if !v.vm_flags.contains(VmFlags::VM_GROWSDOWN) => {
                return Err(FaultError::MapErr);
            }
            Some(_) => {}
        }
    }
    let mut st = mm.mmap_write_lock(cpu);
    let v = expand_stack(cpu, &mut st, addr)?;
    handle_vma_fault(cpu, mm, &v, addr, access)
}

/// `expand_stack` (`expand_downwards`): the VMA containing `addr` after
/// growing the stack area above it down to `addr`'s page.
pub fn expand_stack(
    cpu: &Cpu<'_>,
    st: &mut MmapState<'_>,
    addr: usize,
) -> Result<VmAreaStruct, FaultError> {
    let (vma, prev) = st.find_vma_prev(addr);
    let vma = vma.ok_or(FaultError::MapErr)?.clone();
    let prev = prev.cloned();
    if vma.vm_start <= addr {
        return Ok(vma);
    }
    if !vma.vm_flags.contains(VmFlags::VM_GROWSDOWN) {
        return Err(FaultError::MapErr);
    }
    let new_start = addr & !(PAGE_SIZE - 1);
    if new_start < st.mmap_min_addr {
        return Err(FaultError::MapErr);
    }
    if let Some(p) = prev {
        if !p.vm_flags.contains(VmFlags::VM_GROWSDOWN)
            && p.vm_flags.intersects(VmFlags::VM_ACCESS_FLAGS)
            && new_start - p.vm_end < STACK_GUARD_GAP
        {
            return Err(FaultError::MapErr);
        }
    }
    if vma.vm_end - new_start > RLIMIT_STACK_DEFAULT {
        return Err(FaultError::MapErr);
    }
    let grow = (vma.vm_start - new_start) / PAGE_SIZE;
    st.resize_vma(
        cpu,
        vma.vm_start,
        new_start,
        vma.vm_end,
        vma.vm_pgoff.wrapping_sub(grow),
    )
    .map_err(|_| FaultError::Oom)?;
    st.vm_stat_account(vma.vm_flags, grow as isize);
    let v = st.vma_lookup(addr).cloned().ok_or(FaultError::MapErr)?;
    Ok(v)
}

/// The fault inside `vma` (the mmap lock held).
pub fn handle_vma_fault(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    addr: usize,
    access: Access,
) -> Result<(), FaultError> {
    if access_error(vma, access) {
        return Err(FaultError::AccErr);
    }
    if !vma.is_anonymous() && vma.vm_file.is_none() {
        // Device mappings come later.
        return Err(FaultError::Sigbus);
    }
    let file = vma.vm_file.is_some();
    let shared = vma.vm_flags.contains(VmFlags::VM_SHARED);
    let write = access == Access::Write;
    let va = addr & !(PAGE_SIZE - 1);
    let av = if shared {
        None
    } else {
        Some(rmap::anon_vma_prepare(cpu, mm).ok_or(FaultError::Oom)?)
    };
    let orig = {
        let pg = mm.page_table_lock.lock();
        let pt = pg.pt.as_ref().ok_or(FaultError::MapErr)?;
        pt.lookup(va).filter(|e| e.is_present())
    };
    match orig {
        None if file => crate::filemap::do_fault(cpu, mm, vma, va, write, av),
        None => do_anonymous_page(cpu, mm, vma, va, write, av),
        Some(e) if write && !e.is_write() && file && shared => {
            crate::filemap::do_shared_wp(cpu, mm, vma, va, e)
        }
        Some(e) if write && !e.is_write() => do_wp_page(cpu, mm, vma, va, e, av),
        Some(_) => {
            // Spurious (another hart got here first): what the hardware
            // does on the retried access.
            let pg = mm.page_table_lock.lock();
            if let Some(pt) = pg.pt.as_ref() {
                pt.set_accessed_dirty(va, write);
            }
            Ok(())
        }
    }
}

/// `set_pte_at` at the end of a fault: install `e` at `va` under the
/// page-table lock (an executable entry of a page the instruction caches
/// have not seen asks for `fence.i`: [`flush_icache_pte`]), running `on_installed` (the rmap and counter updates)
/// under that lock too, so a concurrent zap never sees an unaccounted page.
/// Ok(true) when installed; Ok(false) when another thread mapped `va` first
/// (the fault is done, and the caller drops what it prepared).
pub(crate) fn install_pte(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    va: usize,
    e: Pte,
    on_installed: impl FnOnce(),
) -> Result<bool, FaultError> {
    let prot = PgProt::new(e.flags()).ok_or(FaultError::Oom)?;
    let mut pg = mm.page_table_lock.lock();
    let PgtState { pt, tlb } = &mut *pg;
    // An mm without a page table has no mappings left.
    let pt = pt.as_mut().ok_or(FaultError::MapErr)?;
    match pt.map_page(cpu, va, e.pfn(), prot) {
        Ok(()) => {
            flush_icache_pte(mm.mem(), e, tlb);
            on_installed();
            Ok(true)
        }
        Err(crate::pgtable::PgtError::AlreadyMapped(_)) => Ok(false),
        Err(_) => Err(FaultError::Oom),
    }
}

/// Account a page newly mapped at `va` of `vma` in `mm` (first mapping:
/// mapcount 0).
pub(crate) fn account_new_page(
    mm: &MmStruct<'_>,
    page: &Page,
    shared: bool,
    av: Option<AnonVmaPtr>,
    vma: &VmAreaStruct,
    va: usize,
) {
    page.raw_mapcount().store(0, Relaxed);
    let (item, ctr) = if shared {
        (NodeStatItem::NrShmem, RssCounter::ShmemPages)
    } else {
        if let Some(av) = av {
            rmap::page_add_new_anon_rmap(page, av, vma, va);
        }
        crate::vmscan::lru_cache_add_anon(mm.mem(), page);
        (NodeStatItem::NrAnonMapped, RssCounter::AnonPages)
    };
    mm.mem().vmstat.add(item, 1);
    mm.add_mm_counter(ctr, 1);
}

/// Undo [`account_new_page`] and free the page.
fn unaccount_new_page(cpu: &Cpu<'_>, mm: &MmStruct<'_>, page: &Page, shared: bool) {
    page_remove_rmap(mm.mem(), page, shared);
    let ctr = if shared {
        RssCounter::ShmemPages
    } else {
        RssCounter::AnonPages
    };
    mm.add_mm_counter(ctr, -1);
    let _ = cpu.put_page(page);
}

/// `do_anonymous_page`.
fn do_anonymous_page(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    va: usize,
    write: bool,
    av: Option<AnonVmaPtr>,
) -> Result<(), FaultError> {
    let shared = vma.vm_flags.contains(VmFlags::VM_SHARED);
    let mem = mm.mem();
    if !write && !shared {
        let zpfn = zero_page(cpu).ok_or(FaultError::Oom)?;
        let e = Pte::new(zpfn as u64, vma.vm_page_prot)
            .ok_or(FaultError::Oom)?
            .mkspecial()
            .mkyoung();
        return install_pte(cpu, mm, va, e, || {}).map(|_| ());
    }
    let page = cpu
        .alloc_page(Gfp::GFP_KERNEL | Gfp::__GFP_ZERO)
        .ok_or(FaultError::Oom)?;
    let pfn = mem.page_to_pfn(page).ok_or(FaultError::Oom)? as u64;
    let mut e = Pte::new(pfn, vma.vm_page_prot)
        .ok_or(FaultError::Oom)?
        .mkyoung();
    if write {
        e = e.mkwrite().mkdirty();
    }
    account_new_page(mm, page, shared, av, vma, va);
    let r = install_pte(cpu, mm, va, e, || {});
    if r != Ok(true) {
        unaccount_new_page(cpu, mm, page, shared);
    }
    r.map(|_| ())
}

/// `do_wp_page`: a write to the present read-only PTE `orig` at `va` of a
/// writable area.
fn do_wp_page(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    va: usize,
    orig: Pte,
    av: Option<AnonVmaPtr>,
) -> Result<(), FaultError> {
    let mem = mm.mem();
    let shared = vma.vm_flags.contains(VmFlags::VM_SHARED);
    let old = mapped_page(mem, orig);
    let reuse = shared
        || old.is_some_and(|p| p.mapcount() == 1 && p.refcount() == 1)
        // A frame mapped without accounting is not ours to copy.
        || (old.is_none() && !orig.is_special());
    if reuse {
        let mut pg = mm.page_table_lock.lock();
        let PgtState { pt, tlb } = &mut *pg;
        let pt = pt.as_mut().ok_or(FaultError::MapErr)?;
        if pt.lookup(va) != Some(orig) {
            return Ok(());
        }
        if let (Some(p), false, Some(av)) = (old, shared, av) {
            // `page_move_anon_rmap`: now exclusively this mm's.
            rmap::page_add_new_anon_rmap(p, av, vma, va);
        }
        set_pte(cpu, pt, tlb, va, orig.mkwrite().mkdirty().mkyoung());
        return Ok(());
    }
    // Copy (or, for the zero page, a fresh zeroed page).
    let gfp = if old.is_none() {
        Gfp::GFP_KERNEL | Gfp::__GFP_ZERO
    } else {
        Gfp::GFP_KERNEL
    };
    let new = cpu.alloc_page(gfp).ok_or(FaultError::Oom)?;
    let new_pfn = mem.page_to_pfn(new).ok_or(FaultError::Oom)? as u64;
    if let Some(p) = old {
        let src = mem.page_address(p).as_ptr();
        let dst = mem.page_address(new).as_ptr();
        // SAFETY: two distinct pages of RAM; the old one is held by the
        // mapping we are replacing (its PTE is rechecked below).
        unsafe { core::ptr::copy_nonoverlapping(src, dst, PAGE_SIZE) };
    }
    let mut pg = mm.page_table_lock.lock();
    let PgtState { pt, tlb } = &mut *pg;
    let Some(pt) = pt.as_mut() else {
        drop(pg);
        let _ = cpu.put_page(new);
        return Err(FaultError::MapErr);
    };
    if pt.lookup(va) != Some(orig) {
        drop(pg);
        let _ = cpu.put_page(new);
        return Ok(());
    }
    new.raw_mapcount().store(0, Relaxed);
    if let Some(av) = av {
        rmap::page_add_new_anon_rmap(new, av, vma, va);
    }
    crate::vmscan::lru_cache_add_anon(mem, new);
    mem.vmstat.add(NodeStatItem::NrAnonMapped, 1);
    let e = Pte::new(new_pfn, vma.vm_page_prot)
        .ok_or(FaultError::Oom)?
        .mkwrite()
        .mkdirty()
        .mkyoung();
    set_pte(cpu, pt, tlb, va, e);
    drop(pg);
    match old {
        Some(p) => {
            if crate::filemap::page_is_file(p) {
                // A private copy of a file page: file RSS becomes anon.
                mm.add_mm_counter(RssCounter::FilePages, -1);
                mm.add_mm_counter(RssCounter::AnonPages, 1);
            }
            page_remove_rmap(mem, p, false);
            let _ = cpu.put_page(p);
        }
        None => mm.add_mm_counter(RssCounter::AnonPages, 1),
    }
    Ok(())
}
