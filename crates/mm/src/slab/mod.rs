//! The slab allocator (mm/slab.c, the SLAB design of the course notes after
//! Bonwick): object caches whose slabs sit on full, partial and free lists,
//! with per-CPU array caches in front and constructed-object caching.
//!
//! Everything lives in ferrite's RAM: a cache's descriptor (`struct
//! kmem_cache`, with one array cache per CPU after it) is an object of the
//! `kmem_cache` cache, whose own descriptor boot carves from memblock; the
//! notes' `struct slab` (list, colouroff, s_mem, inuse, free) is kept in the
//! slab's head `struct page` (list links, `slab_colouroff`, `slab_inuse`; s_mem
//! is the page address plus colouroff, and `free` is `freelist[inuse]`) and
//! the freelist array sits at the end of the slab itself.
//!
//! Where ferrite differs from Linux's SLAB: no shared array cache and no
//! alien caches (one node); the freelist is always on-slab; the wrong-cache
//! check is always on (Linux: with hardening); `slab_debug` replaces the
//! `SLAB_RED_ZONE | SLAB_POISON` debug flags.

mod alloc_path;
mod create;
mod debug;
pub mod layout;

pub use create::OwnedCache;

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

use crate::error::CacheName;
use crate::page::PageList;
use crate::sync::SpinLock;

/// Longest cache name kept.
pub const KMEM_CACHE_NAME_MAX: usize = 32;
/// Capacity of a per-CPU array cache (the largest SLAB limit).
pub const AC_ENTRIES: usize = 120;

bitflags::bitflags! {
    /// `slab_flags_t` accepted by `kmem_cache_create`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SlabFlags: u32 {
        /// Align objects on cache lines.
        const SLAB_HWCACHE_ALIGN = 1 << 13;
        /// Objects are reclaimable (counted in SReclaimable).
        const SLAB_RECLAIM_ACCOUNT = 1 << 17;
        /// Creation failure is fatal (accepted; ferrite returns an error).
        const SLAB_PANIC = 1 << 18;
        /// Red zones and poisoning for this cache even without slab_debug.
        const SLAB_DEBUG = 1 << 30;
    }
}

/// An object constructor, run once when a slab is created.
pub type Ctor = fn(NonNull<u8>);

/// `struct kmem_cache_node`: the slab lists, guarded by the node lock.
pub(crate) struct KmemCacheNode {
    slabs_full: PageList,
    slabs_partial: PageList,
    slabs_free: PageList,
    total_slabs: usize,
    free_objects: usize,
    colour_next: usize,
}

/// `struct array_cache`: one CPU's stack of free objects.
#[repr(C, align(64))]
pub(crate) struct ArrayCache {
    busy: bool,
    avail: u32,
    limit: u32,
    batchcount: u32,
    entries: [*mut u8; AC_ENTRIES],
}

/// `struct kmem_cache`, as it lies in ferrite's RAM (array caches follow it).
#[repr(C)]
pub struct KmemCache {
    name: CacheName,
    /// Size the creator asked for.
    object_size: usize,
    /// Stride of one object with its red zones and padding (slabinfo's objsize).
    size: usize,
    /// Offset of the object inside its stride (the left red zone before it).
    obj_offset: usize,
    /// `reciprocal_value(size)` for `obj_to_index`.
    reciprocal: u64,
    align: usize,
    flags: SlabFlags,
    ctor: Option<Ctor>,
    order: u32,
    num: usize,
    /// `num * size`: bytes of objects in a slab.
    objs_bytes: usize,
    idx_size: usize,
    colour: usize,
    colour_off: usize,
    limit: u32,
    batchcount: u32,
    free_limit: usize,
    debug: bool,
    poison: bool,
    nr_cpus: usize,
    /// Base of the RAM (the `Mem`) this cache belongs to.
    owner: usize,
    node: SpinLock<KmemCacheNode>,
    /// Links in the cache list (under slab_mutex): descriptor addresses.
    list_next: AtomicUsize,
    list_prev: AtomicUsize,
    /// Reports made against this cache (debug checks, misuse).
    errors: AtomicU32,
}

/// A row of /proc/slabinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlabInfo {
    pub name: alloc::string::String,
    pub active_objs: usize,
    pub num_objs: usize,
    pub objsize: usize,
    pub objperslab: usize,
    pub pagesperslab: usize,
    pub limit: usize,
    pub batchcount: usize,
    pub sharedfactor: usize,
    pub active_slabs: usize,
    pub num_slabs: usize,
    pub sharedavail: usize,
}

impl KmemCache {
    /// Bytes of a descriptor with `nr_cpus` array caches.
    pub(crate) const fn descriptor_size(nr_cpus: usize) -> usize {
        Self::ac_offset() + nr_cpus * core::mem::size_of::<ArrayCache>()
    }
    const fn ac_offset() -> usize {
        core::mem::size_of::<KmemCache>().next_multiple_of(64)
    }
    /// This CPU's array cache.
    #[inline]
    fn ac_ptr(&self, cpu: usize) -> *mut ArrayCache {
        debug_assert!(cpu < self.nr_cpus);
        // SAFETY: the descriptor was allocated with room for `nr_cpus` array
        // caches after the header (`descriptor_size`), 64-byte aligned.
        unsafe {
            (self as *const KmemCache as *mut u8)
                .add(Self::ac_offset())
                .cast::<ArrayCache>()
                .add(cpu)
        }
    }

    /// The cache's name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
    /// Size asked for at creation (`cache->object_size`).
    pub fn object_size(&self) -> usize {
        self.object_size
    }
    /// Stride of an object including metadata and padding (`cache->size`).
    pub fn size(&self) -> usize {
        self.size
    }
    /// Alignment every object start honours.
    pub fn align(&self) -> usize {
        self.align
    }
    /// Objects per slab.
    pub fn objs_per_slab(&self) -> usize {
        self.num
    }
    /// Slab order.
    pub fn order(&self) -> u32 {
        self.order
    }
    /// Number of colours and the colour step in bytes.
    pub fn colours(&self) -> (usize, usize) {
        (self.colour, self.colour_off)
    }
    /// Whether red zones and poisoning are on.
    pub fn debug(&self) -> bool {
        self.debug
    }
    /// Reports made against this cache so far.
    pub fn errors(&self) -> u32 {
        self.errors.load(Relaxed)
    }
    /// The per-CPU array cache limit and batch count.
    pub fn tunables(&self) -> (usize, usize) {
        (self.limit as usize, self.batchcount as usize)
    }

    /// Counts under the node lock: (total slabs, free slabs, partial slabs,
    /// full slabs, free objects in the slabs).
    pub fn slab_counts(&self) -> SlabCounts {
        let n = self.node.lock();
        SlabCounts {
            total: n.total_slabs,
            free: n.slabs_free.len(),
            partial: n.slabs_partial.len(),
            full: n.slabs_full.len(),
            free_objects: n.free_objects,
        }
    }

    /// Objects handed out or cached per CPU (slabinfo's active_objs: SLAB
    /// counts objects in the array caches as active).
    pub fn active_objs(&self) -> usize {
        let c = self.slab_counts();
        c.total * self.num - c.free_objects
    }

    /// This cache's /proc/slabinfo row.
    pub fn slabinfo(&self) -> SlabInfo {
        let c = self.slab_counts();
        SlabInfo {
            name: self.name().into(),
            active_objs: c.total * self.num - c.free_objects,
            num_objs: c.total * self.num,
            objsize: self.size,
            objperslab: self.num,
            pagesperslab: 1 << self.order,
            limit: self.limit as usize,
            batchcount: self.batchcount as usize,
            sharedfactor: 0,
            active_slabs: c.total - c.free,
            num_slabs: c.total,
            sharedavail: 0,
        }
    }

    fn addr(&self) -> usize {
        self as *const KmemCache as usize
    }
}

/// A snapshot of a cache's slab lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlabCounts {
    pub total: usize,
    pub free: usize,
    pub partial: usize,
    pub full: usize,
    pub free_objects: usize,
}

/// The standard caches boot creates, named as Linux names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum StdCache {
    /// `struct task_struct` (kernel/fork.c `fork_init`).
    TaskStruct,
    /// `struct mm_struct` (`proc_caches_init`).
    MmStruct,
    /// `struct vm_area_struct`.
    VmAreaStruct,
    /// `struct files_struct`.
    FilesCache,
    /// `struct signal_struct`.
    SignalCache,
}

impl StdCache {
    /// All of them, in creation order.
    pub const ALL: [StdCache; 5] = [
        StdCache::TaskStruct,
        StdCache::MmStruct,
        StdCache::VmAreaStruct,
        StdCache::FilesCache,
        StdCache::SignalCache,
    ];
    /// The Linux name.
    pub fn name(self) -> &'static str {
        match self {
            StdCache::TaskStruct => "task_struct",
            StdCache::MmStruct => "mm_struct",
            StdCache::VmAreaStruct => "vm_area_struct",
            StdCache::FilesCache => "files_cache",
            StdCache::SignalCache => "signal_cache",
        }
    }
}

/// Global slab state (`slab_mutex`, `slab_caches`, the boot caches).
pub(crate) struct SlabGlobals {
    /// `slab_mutex` guarding the list of caches; holds the newest's address.
    pub(crate) slab_mutex: SpinLock<CacheList>,
    /// The `kmem_cache` cache (descriptors of all other caches).
    pub(crate) kmem_cache: AtomicUsize,
    /// `kmalloc_caches[]`.
    pub(crate) kmalloc: [AtomicUsize; crate::kmalloc::NR_KMALLOC_CACHES],
    /// The standard caches.
    pub(crate) std: [AtomicUsize; StdCache::ALL.len()],
}

/// `slab_caches`: newest first, as /proc/slabinfo lists them.
pub(crate) struct CacheList {
    pub(crate) head: usize,
    pub(crate) count: usize,
}

impl SlabGlobals {
    pub(crate) fn new() -> Self {
        SlabGlobals {
            slab_mutex: SpinLock::new(CacheList { head: 0, count: 0 }),
            kmem_cache: AtomicUsize::new(0),
            kmalloc: core::array::from_fn(|_| AtomicUsize::new(0)),
            std: core::array::from_fn(|_| AtomicUsize::new(0)),
        }
    }
}
