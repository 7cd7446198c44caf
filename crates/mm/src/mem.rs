//! Boot of the physical memory of one ferrite instance: node 0 with its
//! mem_map, its one zone, the per-CPU areas and the slab allocator
//! (mm/mm_init.c `free_area_init`, mm/memblock.c, `kmem_cache_init`).
//!
//! ferrite differs from Linux in that RAM is one host mapping handed to
//! [`Mem::boot`]; everything else is laid out as Linux lays it: the mem_map
//! and the boot `kmem_cache` descriptor are carved from the first frames (the
//! memblock allocations, reserved and not counted in MemTotal), and every
//! other frame is handed to the buddy allocator.

use alloc::boxed::Box;
use alloc::string::String;
use core::fmt;
use core::ptr::NonNull;

use crate::error::MmError;
use crate::page::{Page, PageFlags, MAX_ORDER, PAGE_SHIFT, PAGE_SIZE};
use crate::page_alloc::{PerCpuPages, Zone, NR_PCP_ORDERS};
use crate::percpu::{Cpu, CpuClaimError, CpuState, PerCpu};
#[allow(unused_imports)]
use crate::slab::StdCache;
use crate::slab::{KmemCache, SlabGlobals};
use crate::vmstat::VmStat;

/// Most harts a ferrite instance may have.
pub const NR_CPUS: usize = 64;
/// Alignment of the RAM mapping: a MAX_ORDER block, so that every buddy
/// block is aligned to its size in the host's address space just as it is
/// in physical memory (and power-of-two kmalloc sizes are naturally aligned).
pub const RAM_ALIGN: usize = PAGE_SIZE << MAX_ORDER;
/// Smallest RAM ferrite boots with.
pub const MIN_RAM: usize = 4 << 20;

/// Boot-time choices (the kernel command line of the memory subsystems).
#[derive(Clone, Debug)]
pub struct MemConfig {
    /// Number of CPUs (harts), 1..=NR_CPUS.
    pub nr_cpus: usize,
    /// `slub_debug`: red zones, poisoning, double-free checks in every cache.
    pub slab_debug: bool,
    /// Orders below this go through the per-CPU lists (1..=4; Linux: 4).
    pub pcp_orders: u32,
    /// Print a warning when an allocation fails (tests turn it off to stay quiet).
    pub quiet: bool,
    /// Object sizes of the standard caches, in [`StdCache::ALL`] order. The
    /// mm's own structures (`mm_struct`, `vm_area_struct`) default to their
    /// real sizes; the kernel's (`task_struct`, `files_struct`,
    /// `signal_struct`) are passed by the kernel, and until that crate
    /// exists default to what Linux x86-64 reports for its structures
    /// (tests/data/linux-formats/slabinfo.txt and slabtop.txt).
    pub std_cache_sizes: [usize; 5],
}

impl Default for MemConfig {
    fn default() -> Self {
        MemConfig {
            nr_cpus: 4,
            slab_debug: false,
            pcp_orders: NR_PCP_ORDERS as u32,
            quiet: false,
            std_cache_sizes: [
                5888,
                core::mem::size_of::<crate::mmap::MmStruct>(),
                core::mem::size_of::<crate::mmap::VmAreaStruct>(),
                704,
                1152,
            ],
        }
    }
}

/// Why boot failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BootError {
    /// Less RAM than [`MIN_RAM`], or more than 2^32 pages.
    BadRamSize(usize),
    /// The RAM mapping is not aligned to [`RAM_ALIGN`] (4 MiB).
    Unaligned,
    /// `nr_cpus` is 0 or above [`NR_CPUS`].
    BadCpuCount(usize),
    /// `pcp_orders` is outside 1..=4.
    BadPcpOrders(u32),
    /// RAM too small for the boot allocations.
    NoMemory,
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootError::BadRamSize(b) => write!(
                f,
                "RAM size {b} bytes is outside {} KiB ..= 16 TiB",
                MIN_RAM >> 10
            ),
            BootError::Unaligned => write!(f, "RAM is not aligned to {} KiB", RAM_ALIGN >> 10),
            BootError::BadCpuCount(n) => write!(f, "cpu count {n} is outside 1..={NR_CPUS}"),
            BootError::BadPcpOrders(n) => write!(f, "pcp_orders {n} is outside 1..=4"),
            BootError::NoMemory => f.write_str("RAM too small for the boot allocations"),
        }
    }
}

/// Where reports go (`printk` to the console).
pub type Console = Box<dyn Fn(&str) + Send + Sync>;

/// Told of every kernel store into user memory: (physical address,
/// length). The hart keeps its decoded instructions coherent with it (see
/// [`Mem::set_store_hook`]).
pub type StoreHook = Box<dyn Fn(usize, usize) + Send + Sync>;

/// A synchronous remote TLB flush: (hart mask, bit n = hart n; range
/// `[start, end)` of user addresses, None = everything). Returns after
/// every named hart that is running user code has flushed; the others
/// flush before they next run user code (see [`Mem::set_tlb_flush_hook`]).
pub type TlbFlushHook = Box<dyn Fn(u64, Option<(usize, usize)>) + Send + Sync>;

/// The same for the translations of one mm only: (hart mask, range, the
/// mm's `context_id`), so the kernel can flush by ASID (see
/// [`Mem::set_tlb_flush_mm_hook`]).
pub type TlbFlushMmHook = Box<dyn Fn(u64, Option<(usize, usize)>, u64) + Send + Sync>;

/// The physical memory of one ferrite instance.
pub struct Mem {
    /// Allocation-failure reports so far (`warn_alloc`'s rate limit).
    pub(crate) alloc_fail_reports: core::sync::atomic::AtomicU64,
    base: NonNull<u8>,
    nr_pages: usize,
    mem_map: NonNull<Page>,
    reserved_pages: usize,
    pub(crate) zone: Zone,
    pub(crate) cpu_states: Box<[CpuState]>,
    pub(crate) pcp: PerCpu<PerCpuPages>,
    pub(crate) slab: SlabGlobals,
    /// Node-wide page counters.
    pub vmstat: VmStat,
    /// The LRU lists (mm/vmscan.rs).
    pub(crate) lru: crate::vmscan::Lru,
    pub(crate) config: MemConfig,
    console: Console,
    /// The shared zero page's pfn + 1 (0: not allocated yet), see
    /// [`crate::fault::zero_page`].
    pub(crate) zero_pfn: core::sync::atomic::AtomicUsize,
    /// See [`Mem::set_store_hook`].
    store_hook: spin::Once<StoreHook>,
    /// See [`Mem::set_tlb_flush_hook`].
    tlb_flush_hook: spin::Once<TlbFlushHook>,
    /// See [`Mem::set_tlb_flush_mm_hook`].
    tlb_flush_mm_hook: spin::Once<TlbFlushMmHook>,
}

// SAFETY: `Mem` owns the RAM region for its whole life (the contract of
// `boot`); all shared state in it and in RAM is reached through atomics,
// locks, or per-CPU guards, as the modules that touch it document.
unsafe impl Send for Mem {}
// SAFETY: as above.
unsafe impl Sync for Mem {}

impl Mem {
    /// Boot the memory subsystems over `bytes` of RAM at `base`.
    ///
    /// # Safety
    /// `base..base+bytes` must be readable and writable, must stay mapped for
    /// the life of the returned `Mem`, and nothing else may touch it.
    pub unsafe fn boot(
        base: NonNull<u8>,
        bytes: usize,
        config: MemConfig,
        console: Console,
    ) -> Result<Mem, BootError> {
        let nr_pages = bytes >> PAGE_SHIFT;
        if bytes < MIN_RAM || nr_pages >= u32::MAX as usize {
            return Err(BootError::BadRamSize(bytes));
        }
        if base.as_ptr() as usize % RAM_ALIGN != 0 {
            return Err(BootError::Unaligned);
        }
        if config.nr_cpus == 0 || config.nr_cpus > NR_CPUS {
            return Err(BootError::BadCpuCount(config.nr_cpus));
        }
        if config.pcp_orders == 0 || config.pcp_orders as usize > NR_PCP_ORDERS {
            return Err(BootError::BadPcpOrders(config.pcp_orders));
        }
        // memblock: the mem_map first, then the boot kmem_cache descriptor.
        let map_bytes = nr_pages * core::mem::size_of::<Page>();
        let boot_cache_off = map_bytes.next_multiple_of(64);
        let boot_cache_bytes = KmemCache::descriptor_size(config.nr_cpus);
        let reserved_pages = (boot_cache_off + boot_cache_bytes).div_ceil(PAGE_SIZE);
        if reserved_pages + 256 > nr_pages {
            return Err(BootError::NoMemory);
        }
        let mem_map = base.cast::<Page>();
        for i in 0..nr_pages {
            // SAFETY: the mem_map lies inside the RAM region the caller gave
            // us (map_bytes < bytes) and nothing references it yet.
            unsafe { mem_map.as_ptr().add(i).write(Page::new_reserved()) };
        }
        let zone = Zone::new(reserved_pages, nr_pages);
        let nr_cpus = config.nr_cpus;
        let mem = Mem {
            base,
            nr_pages,
            mem_map,
            reserved_pages,
            pcp: PerCpu::new(nr_cpus, PerCpuPages::default),
            cpu_states: (0..nr_cpus).map(|_| CpuState::default()).collect(),
            zone,
            slab: SlabGlobals::new(),
            vmstat: VmStat::default(),
            alloc_fail_reports: core::sync::atomic::AtomicU64::new(0),
            lru: crate::vmscan::Lru::default(),
            config,
            console,
            zero_pfn: core::sync::atomic::AtomicUsize::new(0),
            store_hook: spin::Once::new(),
            tlb_flush_hook: spin::Once::new(),
            tlb_flush_mm_hook: spin::Once::new(),
        };
        mem.free_boot_memory();
        // SAFETY: the descriptor area was reserved above, inside RAM, 64-byte
        // aligned, and is used for nothing else.
        let boot_cache = unsafe { NonNull::new_unchecked(base.as_ptr().add(boot_cache_off)) };
        mem.kmem_cache_init(boot_cache.cast())
            .map_err(|_| BootError::NoMemory)?;
        Ok(mem)
    }

    /// Hand every frame after the boot allocations to the buddy allocator
    /// (`memblock_free_all`), as the largest aligned blocks.
    fn free_boot_memory(&self) {
        let map = self.mem_map();
        let mut pfn = self.reserved_pages;
        let mut fa = self.zone.lock.lock();
        while pfn < self.nr_pages {
            let mut order = (pfn.trailing_zeros()).min(MAX_ORDER);
            while pfn + (1 << order) > self.nr_pages {
                order -= 1;
            }
            for p in &map[pfn..pfn + (1 << order)] {
                p.set_flags_owned(PageFlags::empty());
                p.set_refcount(0);
            }
            self.zone.free_one_page(&mut fa, map, pfn, order);
            pfn += 1 << order;
        }
    }

    /// Claim CPU `id` for the calling thread (see [`Cpu`]).
    pub fn cpu(&self, id: usize) -> Result<Cpu<'_>, CpuClaimError> {
        Cpu::claim(self, id)
    }

    /// Number of CPUs.
    pub fn nr_cpus(&self) -> usize {
        self.config.nr_cpus
    }

    /// The boot configuration.
    pub fn config(&self) -> &MemConfig {
        &self.config
    }

    /// Total page frames, reserved ones included.
    pub fn nr_pages(&self) -> usize {
        self.nr_pages
    }

    /// Frames taken by the boot allocations (mem_map, boot descriptor).
    pub fn reserved_pages(&self) -> usize {
        self.reserved_pages
    }

    /// The zone's managed pages (MemTotal).
    pub fn managed_pages(&self) -> usize {
        self.zone.managed_pages
    }

    /// Free pages in the buddy lists (`NR_FREE_PAGES`; per-CPU lists not included).
    pub fn nr_free_pages(&self) -> usize {
        self.zone.nr_free()
    }

    /// Pages on all per-CPU lists.
    pub fn nr_pcp_pages(&self) -> usize {
        (0..self.nr_cpus()).map(|c| self.pcp_count(c)).sum()
    }

    /// Pages on CPU `cpu`'s per-CPU lists (0 for a CPU that does not exist).
    pub fn pcp_count(&self, cpu: usize) -> usize {
        self.cpu_states.get(cpu).map_or(0, |s| {
            s.pcp_count.load(core::sync::atomic::Ordering::Relaxed)
        })
    }

    /// Where RAM starts in the host's address space.
    #[inline]
    pub fn ram_base(&self) -> usize {
        self.base.as_ptr() as usize
    }

    /// The mem_map.
    #[inline]
    pub fn mem_map(&self) -> &[Page] {
        // SAFETY: boot initialised `nr_pages` descriptors at `mem_map`; they
        // live as long as the RAM, which outlives `self`; all their fields
        // are atomics, so shared references are sound.
        unsafe { core::slice::from_raw_parts(self.mem_map.as_ptr(), self.nr_pages) }
    }

    /// `pfn_to_page()`.
    #[inline]
    pub fn pfn_to_page(&self, pfn: usize) -> Option<&Page> {
        self.mem_map().get(pfn)
    }

    /// `page_to_pfn()`, or None for a descriptor not in this mem_map.
    #[inline]
    pub fn page_to_pfn(&self, page: &Page) -> Option<usize> {
        let off = (page as *const Page as usize).wrapping_sub(self.mem_map.as_ptr() as usize);
        let pfn = off / core::mem::size_of::<Page>();
        (off % core::mem::size_of::<Page>() == 0 && pfn < self.nr_pages).then_some(pfn)
    }

    /// `page_address()`: the direct-map address of a page.
    #[inline]
    pub fn page_address(&self, page: &Page) -> NonNull<u8> {
        let pfn = self.page_to_pfn(page).expect("page of another mem_map");
        self.pfn_to_virt(pfn)
    }

    #[inline]
    pub(crate) fn pfn_to_virt(&self, pfn: usize) -> NonNull<u8> {
        debug_assert!(pfn < self.nr_pages);
        // SAFETY: pfn < nr_pages, so the offset stays inside the RAM region.
        unsafe { NonNull::new_unchecked(self.base.as_ptr().add(pfn << PAGE_SHIFT)) }
    }

    /// `virt_to_pfn()`, or None outside RAM.
    #[inline]
    pub fn virt_to_pfn(&self, addr: usize) -> Option<usize> {
        let off = addr.wrapping_sub(self.base.as_ptr() as usize);
        let pfn = off >> PAGE_SHIFT;
        (pfn < self.nr_pages).then_some(pfn)
    }

    /// `virt_to_page()`, or None outside RAM.
    #[inline]
    pub fn virt_to_page(&self, addr: usize) -> Option<&Page> {
        self.virt_to_pfn(addr).map(|pfn| &self.mem_map()[pfn])
    }

    /// `virt_to_head_page()` as a pfn: the head page of the block holding
    /// `addr` (the page itself unless it is a compound tail), or None
    /// outside RAM.
    #[inline]
    pub fn virt_to_head_pfn(&self, addr: usize) -> Option<usize> {
        let pfn = self.virt_to_pfn(addr)?;
        let page = &self.mem_map()[pfn];
        Some(if page.flags().contains(PageFlags::TAIL) {
            page.private() as usize
        } else {
            pfn
        })
    }

    /// Whether `[addr, addr+len)` lies in RAM.
    pub fn contains(&self, addr: usize, len: usize) -> bool {
        let start = self.base.as_ptr() as usize;
        addr >= start && addr.saturating_add(len) <= start + (self.nr_pages << PAGE_SHIFT)
    }

    /// Have `hook` told of every store the kernel makes into user memory
    /// (`copy_to_user`, `clear_user`): the machine's harts drop the
    /// instructions they decoded from those bytes, as the instruction
    /// fetch of a hart with coherent fetch would see them. Each hook is
    /// set once, at boot (a later call leaves the first in place), so that
    /// calling it is a plain load.
    pub fn set_store_hook(&self, hook: StoreHook) {
        self.store_hook.call_once(|| hook);
    }

    /// The kernel stored `len` bytes at RAM address `addr` (a kernel
    /// pointer into RAM): tell the store hook. Code outside mm that writes
    /// into RAM pages user space may map (the page cache's `write()`
    /// path) calls it too.
    pub fn stored(&self, addr: usize, len: usize) {
        if let Some(h) = self.store_hook.get() {
            h(addr - self.base.as_ptr() as usize, len);
        }
    }

    /// Have `hook` carry out the remote TLB flushes mm needs at once
    /// (Linux's `flush_tlb_mm_range` / `arch_tlbbatch_flush` IPIs): the
    /// page-cache walkers call it after they changed another mm's page
    /// table and before the page is freed or counted clean. It is called
    /// with mm locks held (`i_mmap`, an mmap lock for reading, a
    /// page-table lock), so it must not wait for anything that may need
    /// those locks: the kernel's hook waits only for harts running user
    /// code, which hold no kernel locks. Without a hook (tests, a kernel
    /// with one hart and nothing installed) nothing is flushed remotely.
    pub fn set_tlb_flush_hook(&self, hook: TlbFlushHook) {
        self.tlb_flush_hook.call_once(|| hook);
    }

    /// Flush the translations of `range` (None = all) on the harts in
    /// `mask` through the hook of [`Mem::set_tlb_flush_hook`].
    pub fn flush_tlb_harts(&self, mask: u64, range: Option<(usize, usize)>) {
        if let Some(h) = self.tlb_flush_hook.get() {
            h(mask, range);
        }
    }

    /// Have `hook` carry out the remote flushes of one mm's translations
    /// (by its ASID, Linux's `flush_tlb_mm_range` with `cntx2asid`), with
    /// the same rules as [`Mem::set_tlb_flush_hook`], which serves them
    /// when this hook is not installed.
    pub fn set_tlb_flush_mm_hook(&self, hook: TlbFlushMmHook) {
        self.tlb_flush_mm_hook.call_once(|| hook);
    }

    /// Flush the translations of `mm` (context id `context_id`) in
    /// `range` on the harts in `mask`.
    pub fn flush_tlb_harts_mm(&self, mask: u64, range: Option<(usize, usize)>, context_id: u64) {
        if let Some(h) = self.tlb_flush_mm_hook.get() {
            h(mask, range, context_id);
            return;
        }
        self.flush_tlb_harts(mask, range);
    }

    /// `printk()`: one line (or several) to the console.
    pub fn printk(&self, args: fmt::Arguments<'_>) {
        let mut s = String::new();
        let _ = fmt::write(&mut s, args);
        (self.console)(&s);
    }

    /// The zone (`Normal`).
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// The zone's watermarks in pages: (min, low, high).
    pub fn watermarks(&self) -> (usize, usize, usize) {
        (self.zone.wmark[0], self.zone.wmark[1], self.zone.wmark[2])
    }

    /// The per-CPU list tuning: (high, batch) in pages.
    pub fn pcp_tuning(&self) -> (usize, usize) {
        (self.zone.pcp_high, self.zone.pcp_batch)
    }

    /// Empty this CPU's pcp lists and slab array caches (the drain IPI).
    pub(crate) fn drain_this_cpu(&self, cpu: &Cpu<'_>) {
        self.drain_local_pages(cpu);
        self.slab_drain_cpu(cpu);
    }

    /// `kmalloc`-family helper: an error for an address that is not in RAM.
    pub(crate) fn bad_address(&self, what: &str, addr: usize) -> MmError {
        self.printk(format_args!(
            "BUG: {what}: address {addr:#x} is outside RAM [{:#x}-{:#x})\n",
            self.base.as_ptr() as usize,
            self.base.as_ptr() as usize + (self.nr_pages << PAGE_SHIFT)
        ));
        MmError::BadAddress(addr)
    }
}
