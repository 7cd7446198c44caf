//! Process address spaces: `struct mm_struct` (include/linux/mm_types.h)
//! and the mmap family of mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/mremap.c,
//! mm/madvise.c, mm/mlock.c and the populate part of mm/gup.c.
//!
//! - [`MmStruct`]: the mm; [`MmBox`] owns one in the `mm_struct` slab cache.
//! - [`MmapState`]: everything the mmap lock guards (the VMA tree,
//!   `map_count`, `total_vm`, the brk and layout fields, the `mmap_cache`),
//!   with `find_vma` and friends ([`find`]), `get_unmapped_area`
//!   ([`unmapped`]), `do_mmap`, `do_munmap`, `mprotect`, `brk` and merging.
//! - [`vma`]: `vm_area_struct`, [`VmFlags`], [`VmOperations`].
//!
//! Locking: `mmap_lock` (a reader/writer lock, the notes' `mmap_sem`) wraps
//! [`MmapState`]; `page_table_lock` (a spinlock) wraps the page table and
//! the pending TLB flush, taken inside the mmap lock. The [`MmStruct`]
//! methods take the locks themselves; with `&mut MmStruct` (nobody else can
//! see the mm) the lookups read without locking.
//!
//! The `maple_node` cache is created once per [`Mem`], lazily by the first
//! [`MmStruct::new`] (or by [`init_caches`], Linux's `maple_tree_init` at
//! boot), found again by name afterwards, and lives as long as the `Mem`.
//!
//! `hiwater_vm` (here) and `hiwater_rss` (in [`MmStruct`]) keep the peaks
//! VmPeak and VmHWM show; `def_flags` holds what `mlockall(MCL_FUTURE)`
//! gives every new area.
//!
//! Where ferrite differs from Linux (for now): page faults,
//! fork and the anonymous reverse map live in [`crate::fault`],
//! [`crate::fork`] and [`crate::rmap`]; unmapping puts the pages the fault
//! layer mapped (see `zap`), a batch of 64 at a time after the other
//! harts of the mm's `mm_cpumask` have flushed (Linux's `mmu_gather`, see
//! [`crate::pgtable::tlb`]); `MmStruct` and `VmAreaStruct` must fit the
//! standard caches' object sizes (`MemConfig::std_cache_sizes`, checked by
//! [`MmStruct::new`]); TLB flushes of the mm's own changes are recorded in
//! the mm ([`MmStruct::take_tlb_flush`]) and carried out by the kernel
//! before the task returns to user mode, on the harts of the mm's
//! `mm_cpumask` ([`MmStruct::mm_cpumask`]), which the kernel sets when a
//! hart loads the mm and never clears (Linux riscv clears it on switch-out
//! when it has no ASIDs; ferrite's harts flush their whole TLB on every
//! `satp` load, so clearing would be correct, but the deferred
//! instruction-cache flush uses the mask too).

pub mod brk;
pub mod errno;
pub mod find;
pub mod madvise;
pub mod merge;
pub mod mlock;
/// `do_mmap` (named after Linux's mm/mmap.c).
#[allow(clippy::module_inception)]
pub mod mmap;
pub mod mprotect;
pub mod mremap;
pub mod msync;
pub mod munmap;
pub mod populate;
pub mod unmapped;
pub mod vma;

pub use vma::{VmAreaStruct, VmFault, VmFaultResult, VmFlags, VmOperations};

use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;
use core::sync::atomic::{
    fence, AtomicU32, AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};

use crate::gfp::Gfp;
use crate::maple::{MapleTree, MAPLE_NODE_CACHE};
use crate::mem::Mem;
use crate::page::{Page, PAGE_SIZE};
use crate::percpu::Cpu;
use crate::pgtable::tlb::{flush_tlb_others, PageBatch};
use crate::pgtable::{PageTable, Pte, TlbFlush, TASK_SIZE};
use crate::slab::{KmemCache, StdCache};
use crate::sync::{cpu_relax, RwLock, RwLockReadGuard, RwLockWriteGuard, SpinLock};
use errno::{EINVAL, ENOMEM};

/// `PROT_NONE`.
pub const PROT_NONE: usize = 0x0;
/// `PROT_READ`.
pub const PROT_READ: usize = 0x1;
/// `PROT_WRITE`.
pub const PROT_WRITE: usize = 0x2;
/// `PROT_EXEC`.
pub const PROT_EXEC: usize = 0x4;
/// `PROT_SEM` (accepted, no effect).
pub const PROT_SEM: usize = 0x8;
/// `PROT_GROWSDOWN` (mprotect: extend down to the start of a stack area).
pub const PROT_GROWSDOWN: usize = 0x0100_0000;
/// `PROT_GROWSUP`.
pub const PROT_GROWSUP: usize = 0x0200_0000;

/// `MAP_SHARED`.
pub const MAP_SHARED: usize = 0x01;
/// `MAP_PRIVATE`.
pub const MAP_PRIVATE: usize = 0x02;
/// `MAP_SHARED_VALIDATE`.
pub const MAP_SHARED_VALIDATE: usize = 0x03;
/// `MAP_TYPE` mask.
pub const MAP_TYPE: usize = 0x0f;
/// `MAP_FIXED`.
pub const MAP_FIXED: usize = 0x10;
/// `MAP_ANONYMOUS`.
pub const MAP_ANONYMOUS: usize = 0x20;
/// `MAP_GROWSDOWN`.
pub const MAP_GROWSDOWN: usize = 0x0100;
/// `MAP_DENYWRITE` (ignored, as in Linux).
pub const MAP_DENYWRITE: usize = 0x0800;
/// `MAP_EXECUTABLE` (ignored, as in Linux).
pub const MAP_EXECUTABLE: usize = 0x1000;
/// `MAP_LOCKED`.
pub const MAP_LOCKED: usize = 0x2000;
/// `MAP_NORESERVE`.
pub const MAP_NORESERVE: usize = 0x4000;
/// `MAP_POPULATE`.
pub const MAP_POPULATE: usize = 0x8000;
/// `MAP_NONBLOCK`.
pub const MAP_NONBLOCK: usize = 0x1_0000;
/// `MAP_STACK`.
pub const MAP_STACK: usize = 0x2_0000;
/// `MAP_HUGETLB`.
pub const MAP_HUGETLB: usize = 0x4_0000;
/// `MAP_SYNC`.
pub const MAP_SYNC: usize = 0x8_0000;
/// `MAP_FIXED_NOREPLACE`.
pub const MAP_FIXED_NOREPLACE: usize = 0x10_0000;
/// `MAP_UNINITIALIZED` (ignored without CONFIG_MMAP_ALLOW_UNINITIALIZED).
pub const MAP_UNINITIALIZED: usize = 0x400_0000;

/// `DEFAULT_MAX_MAP_COUNT` (`vm.max_map_count`).
pub const DEFAULT_MAX_MAP_COUNT: usize = 65530;
/// `mmap_min_addr` (`vm.mmap_min_addr`): ferrite uses one page.
pub const MMAP_MIN_ADDR: usize = 4096;
/// `stack_guard_gap`: 256 pages.
pub const STACK_GUARD_GAP: usize = 256 << 12;
/// `mmap_base` without randomisation: `TASK_SIZE` less the minimum gap
/// (128 MiB) left for the stack (`mmap_base()` in mm/util.c).
pub const DEFAULT_MMAP_BASE: usize = TASK_SIZE - (128 << 20);
/// `TASK_UNMAPPED_BASE` (riscv: a third of `TASK_SIZE`), the bottom-up
/// fallback's floor.
pub const TASK_UNMAPPED_BASE: usize = (TASK_SIZE / 3) & !(PAGE_SIZE - 1);

/// Indices of the RSS counters (`MM_FILEPAGES`, ... in mm_types.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RssCounter {
    /// Resident file pages.
    FilePages = 0,
    /// Resident anonymous pages.
    AnonPages = 1,
    /// Swap entries.
    SwapEnts = 2,
    /// Resident shmem pages.
    ShmemPages = 3,
}

/// `PAGE_ALIGN`, `None` on overflow.
pub(crate) fn page_align(x: usize) -> Option<usize> {
    x.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

/// A handle on an [`MmStruct`] in ferrite's RAM (an object of the
/// `mm_struct` cache), as a VMA's `vm_mm`, the mm's own state (`owner`)
/// and an `anon_vma`'s family list hold it. Every cast between an address
/// and an mm is in this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct MmPtr(core::num::NonZeroUsize);

impl MmPtr {
    /// The handle of `mm`.
    pub(crate) fn of(mm: &MmStruct<'_>) -> MmPtr {
        MmPtr(NonNull::from(mm).addr())
    }

    /// The handle an address stored in a list names; None for 0.
    pub(crate) fn from_addr(addr: usize) -> Option<MmPtr> {
        core::num::NonZeroUsize::new(addr).map(MmPtr)
    }

    /// The mm's address (what lists store).
    pub(crate) fn addr(self) -> usize {
        self.0.get()
    }

    /// The mm.
    ///
    /// # Safety
    /// The handle was made by [`MmPtr::of`] (perhaps through
    /// [`MmPtr::addr`] and [`MmPtr::from_addr`]) from an mm that stays live
    /// for `'a` with the lifetime `'m`; the caller reaches through the
    /// reference only what `&MmStruct` allows (locks, atomics), never
    /// state it holds by `&mut` elsewhere.
    pub(crate) unsafe fn as_ref<'a, 'm>(self) -> &'a MmStruct<'m> {
        // SAFETY: the caller's promise: the address of a live MmStruct.
        unsafe { &*(self.0.get() as *const MmStruct<'m>) }
    }
}

/// What the mmap lock guards.
pub struct MmapState<'m> {
    /// The VMA index (`mm_mt`): `[vm_start, vm_end)` to the VMA's address.
    pub(crate) mt: MapleTree<'m>,
    /// Number of VMAs.
    pub map_count: usize,
    /// Limit on `map_count` (`sysctl_max_map_count`, per mm here so tests
    /// can lower it).
    pub max_map_count: usize,
    /// Pages mapped.
    pub total_vm: usize,
    /// The peak of `total_vm` (`hiwater_vm`, VmPeak) as of its last drop;
    /// [`MmapState::get_mm_hiwater_vm`] is the peak so far.
    pub hiwater_vm: usize,
    /// Pages of `VM_LOCKED` areas.
    pub locked_vm: usize,
    /// Flags every new area gets (`def_flags`): `VM_LOCKED` (and
    /// `VM_LOCKONFAULT`) after `mlockall(MCL_FUTURE)`.
    pub def_flags: VmFlags,
    /// Pages of private writable areas (`data_vm`, VmData).
    pub data_vm: usize,
    /// Pages of executable, non-writable areas (`exec_vm`).
    pub exec_vm: usize,
    /// Pages of stack areas (`stack_vm`).
    pub stack_vm: usize,
    pub start_code: usize,
    pub end_code: usize,
    pub start_data: usize,
    pub end_data: usize,
    pub start_brk: usize,
    pub brk: usize,
    pub start_stack: usize,
    pub arg_start: usize,
    pub arg_end: usize,
    pub env_start: usize,
    pub env_end: usize,
    /// Top of the top-down mmap area.
    pub mmap_base: usize,
    /// Lowest address mmap may use (`mmap_min_addr`).
    pub mmap_min_addr: usize,
    /// The one-entry lookup cache (`mmap_cache`): a VMA's address or 0.
    mmap_cache: AtomicUsize,
    cache_hits: AtomicU64,
    cache_lookups: AtomicU64,
    /// Next shmem identity for a shared anonymous mapping.
    pub(crate) next_shmem: u64,
    /// The `MmStruct` this state belongs to (its VMAs' `vm_mm`).
    pub(crate) owner: Option<MmPtr>,
}

/// The page table and what its changes left to flush, under
/// `page_table_lock`.
pub struct PgtState<'m> {
    /// The page table (`pgd`); `None` after `exit_mmap`.
    pub pt: Option<PageTable<'m>>,
    /// Flushes of this mm's own changes recorded and not yet carried out
    /// (the kernel takes them with [`MmStruct::take_tlb_flush`] before the
    /// task returns to user mode). The page-cache walkers record theirs
    /// here too, after they flushed the harts at once: whoever changes
    /// the mm next then flushes the union (Linux's
    /// `flush_tlb_batched_pending`).
    pub tlb: TlbFlush,
}

/// `struct mm_struct`.
pub struct MmStruct<'m> {
    mem: &'m Mem,
    /// The mmap lock (`mmap_lock`, the notes' `mmap_sem`).
    pub mmap_lock: RwLock<MmapState<'m>>,
    /// The page-table lock.
    pub page_table_lock: SpinLock<PgtState<'m>>,
    /// Users of the address space (threads sharing it).
    pub mm_users: AtomicU32,
    /// References to the `mm_struct` itself.
    pub mm_count: AtomicU32,
    /// `mm_cpumask(mm)`: bit n = hart n may hold translations of this mm
    /// (set by [`MmStruct::mm_cpumask_set_cpu`] when a hart loads it).
    mm_cpumask: AtomicU64,
    /// The page table's `satp` value (its root's page number), 0 once
    /// the table is freed (`exit_mmap`): read at every switch without the
    /// page-table lock.
    satp: AtomicU64,
    /// `context.icache_stale_mask`: harts that must `fence.i` before
    /// they next run this mm (set by `riscv_flush_icache`).
    pub icache_stale_mask: AtomicU64,
    /// `context.id`: the kernel's ASID context of the mm (version | ASID,
    /// 0 before a hart first loads it; see the kernel's `asid` module).
    pub context_id: AtomicU64,
    /// RSS counters, indexed by [`RssCounter`].
    pub rss_stat: [AtomicUsize; 4],
    /// The peak RSS (`hiwater_rss`, VmHWM) as of its last drop;
    /// [`MmStruct::get_mm_hiwater_rss`] is the peak so far.
    pub hiwater_rss: AtomicUsize,
    /// The fork family's `anon_vma` (see [`crate::rmap`]), 0 until the first
    /// anonymous page.
    pub(crate) anon_vma: AtomicUsize,
    /// Next mm on the `anon_vma`'s list of users.
    pub(crate) anon_next: AtomicUsize,
}

/// Create the caches the address-space layer needs (the `maple_node`
/// cache, once per `Mem`), as boot does in Linux. Idempotent.
pub fn init_caches(mem: &Mem) -> Result<&KmemCache, i32> {
    static CREATE: SpinLock<()> = SpinLock::new(());
    let find = || {
        mem.caches()
            .into_iter()
            .find(|c| c.name() == MAPLE_NODE_CACHE)
    };
    if let Some(c) = find() {
        return Ok(c);
    }
    let _g = CREATE.lock();
    if let Some(c) = find() {
        return Ok(c);
    }
    // The page-cache objects' caches too (before the maple cache, which
    // is what callers look for: once it exists, these do).
    crate::filemap::init_caches(mem)?;
    let owned = MapleTree::create_cache(mem).map_err(|_| ENOMEM)?;
    // The cache lives as long as `mem` (like Linux's boot-time caches): the
    // handle is forgotten, so it is never destroyed.
    let owned = core::mem::ManuallyDrop::new(owned);
    let c: *const KmemCache = owned.get();
    // SAFETY: the cache descriptor lives in `mem`'s RAM and is never
    // destroyed (its only handle is forgotten above).
    Ok(unsafe { &*c })
}

impl<'m> MmStruct<'m> {
    /// `mm_alloc` + `mm_init`: an empty address space with its pgd, in an
    /// [`MmBox`] (the mm lives in the `mm_struct` cache, not by value).
    #[allow(clippy::new_ret_no_self)]
    pub fn new(cpu: &Cpu<'m>) -> Result<MmBox<'m>, i32> {
        let mem = cpu.mem();
        let maple = init_caches(mem)?;
        let cache = mem.std_cache(StdCache::MmStruct);
        let vcache = mem.std_cache(StdCache::VmAreaStruct);
        if cache.object_size() < core::mem::size_of::<MmStruct<'_>>()
            || cache.align() < core::mem::align_of::<MmStruct<'_>>()
            || vcache.object_size() < core::mem::size_of::<VmAreaStruct>()
            || vcache.align() < core::mem::align_of::<VmAreaStruct>()
        {
            return Err(EINVAL);
        }
        let pt = PageTable::new(cpu).map_err(|e| e.errno())?;
        let satp = pt.satp();
        let mm = MmStruct {
            mem,
            mmap_lock: RwLock::new(MmapState {
                mt: MapleTree::new(maple),
                map_count: 0,
                max_map_count: DEFAULT_MAX_MAP_COUNT,
                total_vm: 0,
                hiwater_vm: 0,
                locked_vm: 0,
                def_flags: VmFlags::empty(),
                data_vm: 0,
                exec_vm: 0,
                stack_vm: 0,
                start_code: 0,
                end_code: 0,
                start_data: 0,
                end_data: 0,
                start_brk: 0,
                brk: 0,
                start_stack: 0,
                arg_start: 0,
                arg_end: 0,
                env_start: 0,
                env_end: 0,
                mmap_base: DEFAULT_MMAP_BASE,
                mmap_min_addr: MMAP_MIN_ADDR,
                mmap_cache: AtomicUsize::new(0),
                cache_hits: AtomicU64::new(0),
                cache_lookups: AtomicU64::new(0),
                next_shmem: 1,
                owner: None,
            }),
            page_table_lock: SpinLock::new(PgtState {
                pt: Some(pt),
                tlb: TlbFlush::new(0),
            }),
            mm_users: AtomicU32::new(1),
            mm_count: AtomicU32::new(1),
            mm_cpumask: AtomicU64::new(0),
            satp: AtomicU64::new(satp),
            icache_stale_mask: AtomicU64::new(0),
            context_id: AtomicU64::new(0),
            rss_stat: Default::default(),
            hiwater_rss: AtomicUsize::new(0),
            anon_vma: AtomicUsize::new(0),
            anon_next: AtomicUsize::new(0),
        };
        let Some(p) = cpu.kmem_cache_alloc(cache, Gfp::GFP_KERNEL) else {
            if let Some(pt) = mm.page_table_lock.lock().pt.take() {
                pt.destroy(cpu);
            }
            return Err(ENOMEM);
        };
        let p = p.cast::<MmStruct<'m>>();
        // SAFETY: a fresh object large and aligned enough (checked above).
        unsafe { p.as_ptr().write(mm) };
        // SAFETY: just initialised, ours alone.
        unsafe {
            let mm = &mut *p.as_ptr();
            mm.mmap_lock.get_mut().owner = Some(MmPtr::of(mm));
        }
        Ok(MmBox { ptr: p, mem })
    }

    /// The `Mem` this mm allocates from.
    pub fn mem(&self) -> &'m Mem {
        self.mem
    }

    /// Take the mmap lock for reading (`mmap_read_lock`). While it waits,
    /// the thread keeps serving requests addressed to its CPU (as a
    /// sleeping task would let its CPU run), so a holder that drains other
    /// CPUs' caches under memory pressure cannot deadlock with it.
    pub fn mmap_read_lock(&self, cpu: &Cpu<'_>) -> RwLockReadGuard<'_, MmapState<'m>> {
        loop {
            if let Some(g) = self.mmap_lock.try_read() {
                return g;
            }
            cpu.poll();
            cpu_relax();
        }
    }

    /// Take the mmap lock for writing (`mmap_write_lock`), serving CPU
    /// requests while waiting, like [`MmStruct::mmap_read_lock`].
    pub fn mmap_write_lock(&self, cpu: &Cpu<'_>) -> RwLockWriteGuard<'_, MmapState<'m>> {
        loop {
            if let Some(g) = self.mmap_lock.try_write() {
                return g;
            }
            cpu.poll();
            cpu_relax();
        }
    }

    /// The state without locking (the caller has the mm to itself).
    pub fn state(&mut self) -> &mut MmapState<'m> {
        self.mmap_lock.get_mut()
    }

    /// `get_mm_counter`.
    pub fn get_mm_counter(&self, c: RssCounter) -> usize {
        self.rss_stat[c as usize].load(Relaxed)
    }

    /// `add_mm_counter` (negative `n` subtracts, never below zero).
    pub fn add_mm_counter(&self, c: RssCounter, n: isize) {
        let a = &self.rss_stat[c as usize];
        let _ = a.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_add_signed(n)));
    }

    /// `get_mm_rss`: file + anon + shmem pages.
    pub fn get_mm_rss(&self) -> usize {
        self.get_mm_counter(RssCounter::FilePages)
            + self.get_mm_counter(RssCounter::AnonPages)
            + self.get_mm_counter(RssCounter::ShmemPages)
    }

    /// `update_hiwater_rss`: record the current RSS as the peak if it is
    /// one; called before the RSS drops.
    pub fn update_hiwater_rss(&self) {
        self.hiwater_rss.fetch_max(self.get_mm_rss(), Relaxed);
    }

    /// `get_mm_hiwater_rss`: the peak RSS so far, in pages.
    pub fn get_mm_hiwater_rss(&self) -> usize {
        self.hiwater_rss.load(Relaxed).max(self.get_mm_rss())
    }

    /// `mmget`: one more user of the address space. Relaxed, as Linux's
    /// `atomic_inc`: the caller already holds a reference, so nothing
    /// needs ordering against it.
    pub fn mmget(&self) {
        self.mm_users.fetch_add(1, Relaxed);
    }

    /// `mmput` without the teardown: drop a user; true when it was the last
    /// (the caller then runs [`MmStruct::exit_mmap`]). As Linux's
    /// `atomic_dec_and_test` (a full barrier) and `Arc`'s drop: the
    /// decrement is Release, so this user's accesses to the mm happen
    /// before it; the last user's Acquire fence then orders the teardown
    /// after every other user's decrement, hence after their accesses.
    pub fn mmput(&self) -> bool {
        if self.mm_users.fetch_sub(1, Release) != 1 {
            return false;
        }
        fence(Acquire);
        true
    }

    /// `mmgrab`: one more reference to the `mm_struct` (Relaxed, as
    /// [`MmStruct::mmget`]).
    pub fn mmgrab(&self) {
        self.mm_count.fetch_add(1, Relaxed);
    }

    /// `mmdrop` without the free: true when it was the last reference.
    /// Release decrement and Acquire fence before the free, as
    /// [`MmStruct::mmput`] explains.
    pub fn mmdrop(&self) -> bool {
        if self.mm_count.fetch_sub(1, Release) != 1 {
            return false;
        }
        fence(Acquire);
        true
    }

    /// `cpumask_set_cpu(cpu, mm_cpumask(mm))` in `switch_mm`: hart `cpu`
    /// (0..64; larger ids share bit 63) is about to load this mm's `satp`
    /// and run it. Call it *before* the hart can cache any translation.
    ///
    /// Ordering: the hart sets its bit and then its MMU reads PTEs (page
    /// walks, no lock); a walker changes a PTE (under the page-table lock,
    /// which the MMU does not take) and then reads the mask to know whom
    /// to flush ([`MmStruct::mm_cpumask`]). That is the store-buffering
    /// pattern: Release/Acquire cannot order a store before a later load
    /// of another location, so both sides need a full barrier between
    /// their store and their load, SeqCst fences here and in the reader.
    /// Then either the reader sees the bit (and flushes the hart), or the
    /// hart's walks after the fence see the new PTE (and cache nothing
    /// stale). Linux gets the same from `switch_mm`, where
    /// `cpumask_set_cpu` comes before the `satp` (x86: CR3) write, a full
    /// barrier, and from the full barrier between the PTE update and the
    /// read of `mm_cpumask` in the flush path.
    ///
    /// A bit already set was set by this CPU (only CPU n sets bit n; bits
    /// are never cleared) with the fence after it: every later walk of the
    /// CPU is ordered after that fence, which is all the pattern needs, so
    /// a switch to an mm the CPU ran before takes no fence.
    pub fn mm_cpumask_set_cpu(&self, cpu: usize) {
        let bit = 1u64 << cpu.min(63);
        if self.mm_cpumask.load(Relaxed) & bit == 0 {
            self.mm_cpumask.fetch_or(bit, SeqCst);
            fence(SeqCst);
        }
    }

    /// `mm_cpumask(mm)`: the harts that may hold translations of this mm,
    /// read after a full fence, so that a caller that has just changed a
    /// PTE either sees a hart's bit or that hart sees the new PTE (see
    /// [`MmStruct::mm_cpumask_set_cpu`]).
    pub fn mm_cpumask(&self) -> u64 {
        fence(SeqCst);
        self.mm_cpumask.load(Relaxed)
    }

    /// The page table's `satp` value, if it still exists.
    pub fn satp(&self) -> Option<u64> {
        match self.satp.load(Acquire) {
            0 => None,
            s => Some(s),
        }
    }

    /// Take the TLB flushes recorded so far, for the harts of the mm's
    /// `mm_cpumask` as it is now (read after the changes, so a hart that
    /// loaded the mm meanwhile is in it: see
    /// [`MmStruct::mm_cpumask_set_cpu`]).
    pub fn take_tlb_flush(&self) -> TlbFlush {
        let pending = {
            let mut g = self.page_table_lock.lock();
            core::mem::replace(&mut g.tlb, TlbFlush::new(0))
        };
        if pending == TlbFlush::new(0) {
            // Nothing recorded (most system calls): no CPU to name, and
            // no fence to pay for reading the mask.
            return pending;
        }
        let mut f = TlbFlush::new(self.mm_cpumask());
        f.merge(&pending);
        f
    }

    /// `do_mmap` for anonymous mappings: the address mapped, or an errno.
    pub fn do_mmap(
        &self,
        cpu: &Cpu<'_>,
        addr: usize,
        len: usize,
        prot: usize,
        flags: usize,
    ) -> Result<usize, i32> {
        self.mmap_write_lock(cpu)
            .do_mmap(cpu, self, addr, len, prot, flags)
    }

    /// `do_mmap` of a file (or, with `file` None, an anonymous mapping):
    /// the address mapped, or an errno.
    #[allow(clippy::too_many_arguments)]
    pub fn do_mmap_file(
        &self,
        cpu: &Cpu<'_>,
        addr: usize,
        len: usize,
        prot: usize,
        flags: usize,
        file: Option<&crate::filemap::File>,
        pgoff: usize,
    ) -> Result<usize, i32> {
        self.mmap_write_lock(cpu)
            .do_mmap_file(cpu, self, addr, len, prot, flags, file, pgoff)
    }

    /// `do_munmap` (`munmap(2)`).
    pub fn do_munmap(&self, cpu: &Cpu<'_>, addr: usize, len: usize) -> Result<(), i32> {
        self.mmap_write_lock(cpu).do_munmap(cpu, self, addr, len)
    }

    /// `mprotect(2)`.
    pub fn mprotect(&self, cpu: &Cpu<'_>, addr: usize, len: usize, prot: usize) -> Result<(), i32> {
        self.mmap_write_lock(cpu)
            .mprotect(cpu, self, addr, len, prot)
    }

    /// `brk(2)` with the raw syscall's result: the new break, or the old one
    /// on failure.
    pub fn brk(&self, cpu: &Cpu<'_>, new: usize) -> usize {
        self.mmap_write_lock(cpu).brk(cpu, self, new)
    }

    /// `find_vma` with the mm to itself.
    pub fn find_vma(&mut self, addr: usize) -> Option<&VmAreaStruct> {
        self.mmap_lock.get_mut().find_vma(addr)
    }

    /// `find_vma_prev` with the mm to itself.
    pub fn find_vma_prev(&mut self, addr: usize) -> (Option<&VmAreaStruct>, Option<&VmAreaStruct>) {
        self.mmap_lock.get_mut().find_vma_prev(addr)
    }

    /// `find_vma_intersection` with the mm to itself.
    pub fn find_vma_intersection(&mut self, start: usize, end: usize) -> Option<&VmAreaStruct> {
        self.mmap_lock.get_mut().find_vma_intersection(start, end)
    }

    /// Every VMA in address order (for /proc/PID/maps), with the mm to
    /// itself.
    pub fn vmas(&mut self) -> impl Iterator<Item = &VmAreaStruct> + '_ {
        self.mmap_lock.get_mut().vmas()
    }

    /// `exit_mmap`: unmap and free every VMA, every page-table page and every
    /// maple node. The mm is empty (and has no pgd) afterwards.
    pub fn exit_mmap(&self, cpu: &Cpu<'_>) {
        let mut st = self.mmap_write_lock(cpu);
        let mut files = alloc::vec::Vec::new();
        while let Some((s, e, v)) = st.mt.first() {
            let p = vma::VmaPtr::from_tree(v);
            // SAFETY: values in the tree are live VMAs owned by this mm.
            let vma = unsafe { p.as_ref() };
            {
                // The page-table lock is not held across `i_mmap_unlink`:
                // `i_mmap`'s walkers take it inside the `i_mmap` lock.
                let mut pg = self.page_table_lock.lock();
                let PgtState { pt, tlb } = &mut *pg;
                if let Some(pt) = pt.as_mut() {
                    zap(self, pt, tlb, vma, s, e, cpu);
                }
            }
            if let Some(ops) = vma.vm_ops {
                ops.close(vma);
            }
            let file = vma.vm_file;
            st.mt.erase(cpu, s);
            if let Some(file) = file {
                files.push(file);
                // SAFETY: ours (out of the tree), linked when inserted; its
                // reference keeps the file live.
                unsafe { crate::filemap::i_mmap_unlink(p) };
            }
            vma::vm_area_free(cpu, p);
        }
        st.mt.destroy(cpu);
        let mut pg = self.page_table_lock.lock();
        let PgtState { pt, tlb } = &mut *pg;
        st.mmap_cache.store(0, Relaxed);
        st.map_count = 0;
        st.update_hiwater_vm();
        st.total_vm = 0;
        st.locked_vm = 0;
        st.data_vm = 0;
        st.exec_vm = 0;
        st.stack_vm = 0;
        if let Some(pt) = pt.take() {
            self.satp.store(0, Release);
            tlb.flush_all();
            pt.destroy(cpu);
        }
        drop(pg);
        drop(st);
        crate::rmap::unlink_anon_vma(cpu, self);
        for f in files {
            // SAFETY: the reference of a VMA just unlinked and freed,
            // given up once.
            unsafe { crate::filemap::fput(cpu, f) };
        }
    }
}

/// Unmap the pages of `[s, e)` of `vma` (`zap_page_range` inside Linux's
/// `tlb_gather_mmu` .. `tlb_finish_mmu`) on CPU `cpu`: each page the fault
/// layer mapped loses a mapcount and a reference (the last frees it), and
/// the RSS counters drop. The zero page (a special PTE) and frames mapped
/// without accounting (raw `map_page`, mapcount -1) are left alone.
///
/// As Linux's `mmu_gather` does, the references are held in a
/// [`PageBatch`] and put only after the other harts of the mm's
/// `mm_cpumask` have flushed `[s, e)` ([`flush_tlb_others`]), when the
/// batch fills and at the end, so that no hart running the mm can reach a
/// freed frame through its TLB. The calling hart's flush is recorded in
/// `tlb` (the mm's pending gather), carried out before it returns to user
/// mode.
pub(crate) fn zap(
    mm: &MmStruct<'_>,
    pt: &mut PageTable<'_>,
    tlb: &mut TlbFlush,
    vma: &VmAreaStruct,
    s: usize,
    e: usize,
    cpu: &Cpu<'_>,
) {
    let mem = mm.mem;
    let this_cpu = cpu.id();
    let mut range = TlbFlush::new(0);
    range.add_range(s, e);
    let mut batch = PageBatch::default();
    zap_with(mm, pt, tlb, vma, s, e, &mut |p| {
        if batch.is_full() {
            flush_tlb_others(mem, mm, this_cpu, &range);
            batch.put_all(mem);
        }
        batch.push(mem, p);
    });
    if !batch.is_empty() {
        flush_tlb_others(mem, mm, this_cpu, &range);
        batch.put_all(mem);
    }
}

/// [`zap`], handing each unmapped page's reference to `put` instead of
/// putting it (Linux's `tlb_remove_page`, for a caller that must flush the
/// TLBs before the pages may be freed).
pub(crate) fn zap_with(
    mm: &MmStruct<'_>,
    pt: &mut PageTable<'_>,
    tlb: &mut TlbFlush,
    vma: &VmAreaStruct,
    s: usize,
    e: usize,
    put: &mut dyn FnMut(&Page),
) {
    let all = ZapDetails { even_cows: true };
    zap_with_details(mm, pt, tlb, vma, s, e, &all, put);
}

/// What a zap leaves (Linux's `struct zap_details`).
pub(crate) struct ZapDetails {
    /// Zap the anonymous copies of a private file mapping too (a
    /// truncate does; a hole punched in the file does not).
    pub even_cows: bool,
}

/// [`zap_with`], zapping only what `details` allows (`should_zap_page`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn zap_with_details(
    mm: &MmStruct<'_>,
    pt: &mut PageTable<'_>,
    tlb: &mut TlbFlush,
    vma: &VmAreaStruct,
    s: usize,
    e: usize,
    details: &ZapDetails,
    put: &mut dyn FnMut(&Page),
) {
    let shared = vma.vm_flags.contains(VmFlags::VM_SHARED);
    let mem = mm.mem;
    let mut n = 0isize;
    let mut nf = 0isize;
    let mut ns = 0isize;
    let even_cows = details.even_cows;
    let wanted = |pte: Pte| {
        even_cows || crate::fault::mapped_page(mem, pte).is_none_or(crate::filemap::page_is_file)
    };
    pt.unmap_range_if(s, e, tlb, wanted, |_, pte| {
        if let Some(p) = crate::fault::mapped_page(mem, pte) {
            if crate::filemap::page_is_file(p) {
                // The page stays in the page cache (its reference is the
                // cache's); a dirty PTE dirties the page.
                if pte.is_dirty() {
                    crate::filemap::set_page_dirty(mem, p);
                }
                if crate::filemap::page_is_shmem(p) {
                    ns += 1;
                } else {
                    nf += 1;
                }
            } else {
                n += 1;
            }
            crate::fault::page_remove_rmap(mem, p, shared);
            put(p);
        }
    });
    if n + nf + ns != 0 {
        mm.update_hiwater_rss();
    }
    mm.add_mm_counter(RssCounter::FilePages, -nf);
    mm.add_mm_counter(RssCounter::ShmemPages, -ns);
    let which = if shared {
        RssCounter::ShmemPages
    } else {
        RssCounter::AnonPages
    };
    mm.add_mm_counter(which, -n);
}

impl MmapState<'_> {
    /// `update_hiwater_vm`: record `total_vm` as the peak if it is one;
    /// called before `total_vm` drops.
    pub fn update_hiwater_vm(&mut self) {
        self.hiwater_vm = self.hiwater_vm.max(self.total_vm);
    }

    /// The peak `total_vm` so far, in pages (VmPeak).
    pub fn get_mm_hiwater_vm(&self) -> usize {
        self.hiwater_vm.max(self.total_vm)
    }
}

/// Owns an [`MmStruct`] in the `mm_struct` slab cache.
pub struct MmBox<'m> {
    ptr: NonNull<MmStruct<'m>>,
    mem: &'m Mem,
}

impl<'m> MmBox<'m> {
    /// `exit_mmap` and free the `mm_struct` on `cpu`.
    pub fn free(self, cpu: &Cpu<'_>) {
        let me = core::mem::ManuallyDrop::new(self);
        me.exit_mmap(cpu);
        // SAFETY: we own the object; dropped once, never used again.
        unsafe { core::ptr::drop_in_place(me.ptr.as_ptr()) };
        let cache = me.mem.std_cache(StdCache::MmStruct);
        let _ = cpu.kmem_cache_free(cache, me.ptr.cast());
    }

    /// The object's address in ferrite's RAM.
    pub fn as_ptr(&self) -> *const MmStruct<'m> {
        self.ptr.as_ptr()
    }

    /// Give up ownership: the caller now holds the mm's references
    /// (`mm_users` and `mm_count`) by hand and frees it with
    /// [`MmBox::from_raw`] once both reach zero.
    pub fn into_raw(self) -> NonNull<MmStruct<'m>> {
        let me = core::mem::ManuallyDrop::new(self);
        me.ptr
    }

    /// Own again an mm given up by [`MmBox::into_raw`].
    ///
    /// # Safety
    /// `ptr` came from [`MmBox::into_raw`] and no other owner exists (the
    /// caller dropped the last reference it counted).
    pub unsafe fn from_raw(ptr: NonNull<MmStruct<'m>>) -> MmBox<'m> {
        // SAFETY: the caller guarantees `ptr` is a live mm from into_raw.
        let mem = unsafe { ptr.as_ref() }.mem;
        MmBox { ptr, mem }
    }
}

impl<'m> Deref for MmBox<'m> {
    type Target = MmStruct<'m>;
    fn deref(&self) -> &MmStruct<'m> {
        // SAFETY: the box owns an initialised MmStruct.
        unsafe { self.ptr.as_ref() }
    }
}

impl<'m> DerefMut for MmBox<'m> {
    fn deref_mut(&mut self) -> &mut MmStruct<'m> {
        // SAFETY: the box owns an initialised MmStruct, uniquely.
        unsafe { self.ptr.as_mut() }
    }
}

impl Drop for MmBox<'_> {
    /// Dropping without [`MmBox::free`] frees the page table and the
    /// `mm_struct`, but VMAs and maple nodes need a CPU: if any are left
    /// they leak, with a report (call `exit_mmap` first).
    fn drop(&mut self) {
        let mem = self.mem;
        {
            let st = self.mmap_lock.get_mut();
            if st.map_count != 0 || st.mt.node_count() != 0 {
                mem.printk(format_args!(
                    "BUG: mm_struct freed with {} VMAs still mapped (exit_mmap not called)\n",
                    st.map_count
                ));
            }
        }
        // SAFETY: we own the initialised object; never used after this.
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        let cache = self.mem.std_cache(StdCache::MmStruct);
        let _ = self.mem.cache_free_nocpu(cache, self.ptr.cast());
    }
}

// SAFETY: the mm's state is reached only through its locks (or `&mut`).
unsafe impl Send for MmBox<'_> {}
// SAFETY: as above.
unsafe impl Sync for MmBox<'_> {}
