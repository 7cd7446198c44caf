//! Creating, destroying and shrinking caches (mm/slab_common.c,
//! `kmem_cache_init` in mm/slab.c), and the list of caches.

use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::Relaxed};

use super::layout::{array_cache_limit, calculate_slab_order, CACHE_LINE};
use super::{
    ArrayCache, Ctor, KmemCache, KmemCacheNode, SlabFlags, SlabInfo, StdCache, AC_ENTRIES,
};
use crate::error::{CacheName, MmError};
use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::page::{PageList, PAGE_SIZE};
use crate::percpu::Cpu;
use crate::sync::SpinLock;

/// A cache created with `kmem_cache_create`: the only handle that can
/// destroy it, so no reference to the cache outlives its destruction.
pub struct OwnedCache<'m> {
    cache: &'m KmemCache,
}

impl<'m> OwnedCache<'m> {
    /// The cache, for as long as this handle lives.
    pub fn get(&self) -> &KmemCache {
        self.cache
    }
}

impl Deref for OwnedCache<'_> {
    type Target = KmemCache;
    fn deref(&self) -> &KmemCache {
        self.cache
    }
}

impl Mem {
    /// Lay out a cache descriptor at `at` (`__kmem_cache_create`).
    fn init_descriptor(
        &self,
        at: NonNull<KmemCache>,
        name: &str,
        size: usize,
        align: usize,
        flags: SlabFlags,
        ctor: Option<Ctor>,
    ) -> Result<(), MmError> {
        if name.is_empty() || name.len() > super::KMEM_CACHE_NAME_MAX {
            return Err(MmError::InvalidCache("name must be 1 to 32 bytes"));
        }
        if size == 0 || size > (PAGE_SIZE << crate::page::MAX_ORDER) / 2 {
            return Err(MmError::InvalidCache("size must be 1 byte to 2 MiB"));
        }
        if align != 0
            && (!align.is_power_of_two() || align > crate::kmalloc::KMALLOC_MAX_CACHE_SIZE)
        {
            return Err(MmError::InvalidCache(
                "align must be a power of two up to 8 KiB",
            ));
        }
        let mut align = align.max(8);
        if flags.contains(SlabFlags::SLAB_HWCACHE_ALIGN) {
            let mut ralign = CACHE_LINE;
            while size <= ralign / 2 && ralign > 8 {
                ralign /= 2;
            }
            align = align.max(ralign);
        }
        let debug = self.config.slab_debug || flags.contains(SlabFlags::SLAB_DEBUG);
        let (obj_offset, stride) = if debug {
            let off = align.max(8);
            (
                off,
                (off + size.next_multiple_of(8) + 8).next_multiple_of(align),
            )
        } else {
            (0, size.next_multiple_of(align))
        };
        let g = calculate_slab_order(stride, align)
            .ok_or(MmError::InvalidCache("object too large for a slab"))?;
        let limit = array_cache_limit(stride).min(AC_ENTRIES) as u32;
        let batchcount = limit.div_ceil(2);
        let nr_cpus = self.config.nr_cpus;
        let desc = KmemCache {
            name: CacheName::new(name),
            object_size: size,
            size: stride,
            obj_offset,
            reciprocal: (1u64 << 32).div_ceil(stride as u64),
            align,
            flags,
            ctor,
            order: g.order,
            num: g.num,
            objs_bytes: g.num * stride,
            idx_size: g.idx_size,
            // colouroff is kept in a u16 of the page descriptor.
            colour: g.colour.min(u16::MAX as usize / g.colour_off),
            colour_off: g.colour_off,
            limit,
            batchcount,
            free_limit: (1 + nr_cpus) * batchcount as usize + g.num,
            debug,
            poison: debug && ctor.is_none(),
            nr_cpus,
            owner: self.ram_base(),
            node: SpinLock::new(KmemCacheNode {
                slabs_full: PageList::new(),
                slabs_partial: PageList::new(),
                slabs_free: PageList::new(),
                total_slabs: 0,
                free_objects: 0,
                colour_next: 0,
            }),
            list_next: AtomicUsize::new(0),
            list_prev: AtomicUsize::new(0),
            errors: AtomicU32::new(0),
        };
        // SAFETY: `at` points at `descriptor_size(nr_cpus)` bytes of RAM,
        // 64-byte aligned, owned by the caller and not yet shared.
        unsafe {
            at.as_ptr().write(desc);
            let cache = at.as_ref();
            for cpu in 0..nr_cpus {
                cache.ac_ptr(cpu).write(ArrayCache {
                    busy: false,
                    avail: 0,
                    limit,
                    batchcount,
                    entries: [core::ptr::null_mut(); AC_ENTRIES],
                });
            }
        }
        Ok(())
    }

    fn link_cache(&self, cache: &KmemCache) {
        let mut list = self.slab.slab_mutex.lock();
        cache.list_next.store(list.head, Relaxed);
        cache.list_prev.store(0, Relaxed);
        if list.head != 0 {
            // SAFETY: the list head, under `slab_mutex`.
            unsafe { self.cache_at(list.head) }
                .list_prev
                .store(cache.addr(), Relaxed);
        }
        list.head = cache.addr();
        list.count += 1;
    }

    fn unlink_cache(&self, list: &mut super::CacheList, cache: &KmemCache) {
        let (next, prev) = (cache.list_next.load(Relaxed), cache.list_prev.load(Relaxed));
        if prev != 0 {
            // SAFETY: a list neighbour, under `slab_mutex` (`list`).
            unsafe { self.cache_at(prev) }
                .list_next
                .store(next, Relaxed);
        } else {
            list.head = next;
        }
        if next != 0 {
            // SAFETY: a list neighbour, under `slab_mutex` (`list`).
            unsafe { self.cache_at(next) }
                .list_prev
                .store(prev, Relaxed);
        }
        list.count -= 1;
    }

    /// A descriptor by address.
    ///
    /// # Safety
    /// `addr` names a descriptor initialised by `init_descriptor` in RAM
    /// that stays live while `self` is borrowed: one taken from the cache
    /// list under `slab_mutex`, the owner recorded in a slab page's
    /// descriptor (live while the slab is), or a boot cache (never freed).
    #[inline]
    pub(crate) unsafe fn cache_at(&self, addr: usize) -> &KmemCache {
        debug_assert!(self.contains(addr, core::mem::size_of::<KmemCache>()));
        // SAFETY: the caller's promise.
        unsafe { &*(addr as *const KmemCache) }
    }

    /// `kmem_cache_init()`: the boot `kmem_cache` cache, kmalloc's caches and
    /// the standard caches.
    pub(crate) fn kmem_cache_init(&self, boot: NonNull<KmemCache>) -> Result<(), MmError> {
        let size = KmemCache::descriptor_size(self.config.nr_cpus);
        self.init_descriptor(
            boot,
            "kmem_cache",
            size,
            64,
            SlabFlags::SLAB_HWCACHE_ALIGN,
            None,
        )?;
        // SAFETY: just initialised; lives in the reserved boot area forever.
        let kc = unsafe { boot.as_ref() };
        self.link_cache(kc);
        self.slab.kmem_cache.store(kc.addr(), Relaxed);
        for (i, (name, size)) in crate::kmalloc::KMALLOC_INFO.iter().enumerate() {
            // Power-of-two kmalloc sizes are naturally aligned, as in Linux.
            let align = if size.is_power_of_two() { *size } else { 8 };
            let c = self.create_cache(name, *size, align, SlabFlags::empty(), None)?;
            self.slab.kmalloc[i].store(c.addr(), Relaxed);
        }
        for (i, which) in StdCache::ALL.iter().enumerate() {
            let size = self.config.std_cache_sizes[i];
            let c =
                self.create_cache(which.name(), size, 0, SlabFlags::SLAB_HWCACHE_ALIGN, None)?;
            self.slab.std[i].store(c.addr(), Relaxed);
        }
        Ok(())
    }

    fn create_cache(
        &self,
        name: &str,
        size: usize,
        align: usize,
        flags: SlabFlags,
        ctor: Option<Ctor>,
    ) -> Result<&KmemCache, MmError> {
        // SAFETY: the boot `kmem_cache` cache, never freed.
        let kc = unsafe { self.cache_at(self.slab.kmem_cache.load(Relaxed)) };
        let at = self
            .cache_alloc_nocpu(kc, Gfp::GFP_KERNEL)
            .ok_or(MmError::NoMemory)?
            .cast::<KmemCache>();
        if let Err(e) = self.init_descriptor(at, name, size, align, flags, ctor) {
            let _ = self.cache_free_nocpu(kc, at.cast());
            return Err(e);
        }
        // SAFETY: initialised just above; freed only by kmem_cache_destroy,
        // which consumes the only handle.
        let cache = unsafe { &*at.as_ptr() };
        self.link_cache(cache);
        Ok(cache)
    }

    /// `kmem_cache_create()`: a new cache of `size`-byte objects. `ctor`
    /// runs once per object when its slab is created, never on allocation.
    pub fn kmem_cache_create(
        &self,
        name: &str,
        size: usize,
        align: usize,
        flags: SlabFlags,
        ctor: Option<Ctor>,
    ) -> Result<OwnedCache<'_>, MmError> {
        self.create_cache(name, size, align, flags, ctor)
            .map(|cache| OwnedCache { cache })
    }

    /// One of the standard caches boot created.
    pub fn std_cache(&self, which: StdCache) -> &KmemCache {
        // SAFETY: a standard cache made at boot, never freed.
        unsafe { self.cache_at(self.slab.std[which as usize].load(Relaxed)) }
    }

    /// The `kmem_cache` cache (holds the other caches' descriptors).
    pub fn kmem_cache_cache(&self) -> &KmemCache {
        // SAFETY: the boot `kmem_cache` cache, never freed.
        unsafe { self.cache_at(self.slab.kmem_cache.load(Relaxed)) }
    }

    /// Every cache, newest first (the order of /proc/slabinfo).
    pub fn caches(&self) -> alloc::vec::Vec<&KmemCache> {
        let list = self.slab.slab_mutex.lock();
        let mut v = alloc::vec::Vec::with_capacity(list.count);
        self.for_each_cache(&list, |c| v.push(c));
        v
    }

    /// Walk `slab_caches`, newest first; the held `slab_mutex` keeps every
    /// descriptor alive meanwhile.
    fn for_each_cache<'a>(&'a self, list: &super::CacheList, mut f: impl FnMut(&'a KmemCache)) {
        let mut cur = list.head;
        while cur != 0 {
            // SAFETY: on the list, whose `slab_mutex` our caller holds.
            let cache = unsafe { self.cache_at(cur) };
            f(cache);
            cur = cache.list_next.load(Relaxed);
        }
    }

    /// The rows of /proc/slabinfo.
    pub fn slabinfo(&self) -> alloc::vec::Vec<SlabInfo> {
        self.caches().into_iter().map(|c| c.slabinfo()).collect()
    }

    /// `kmem_cache_shrink()` from a thread without a CPU guard: drain every
    /// CPU's array caches and free every empty slab. Returns pages freed.
    pub fn kmem_cache_shrink(&self, cache: &KmemCache) -> usize {
        self.shrink_cache(None, cache)
    }

    /// Drain every CPU, free every empty slab; pages freed, including the
    /// slabs that drained array caches emptied beyond the free limit.
    fn shrink_cache(&self, cpu: Option<&Cpu<'_>>, cache: &KmemCache) -> usize {
        let before = cache.slab_counts().total;
        self.drain_all_cpus(cpu);
        self.drain_freelist(cpu, cache, 0);
        let after = cache.slab_counts().total;
        before.saturating_sub(after) << cache.order
    }

    /// `kmem_cache_destroy()` from a thread without a CPU guard.
    pub fn kmem_cache_destroy<'m>(
        &'m self,
        cache: OwnedCache<'m>,
    ) -> Result<(), (OwnedCache<'m>, MmError)> {
        self.destroy_cache(None, cache)
    }

    pub(crate) fn destroy_cache<'m>(
        &'m self,
        cpu: Option<&Cpu<'_>>,
        handle: OwnedCache<'m>,
    ) -> Result<(), (OwnedCache<'m>, MmError)> {
        let cache = handle.cache;
        self.drain_all_cpus(cpu);
        {
            let mut list = self.slab.slab_mutex.lock();
            let active = cache.active_objs();
            if active > 0 {
                drop(list);
                cache.errors.fetch_add(1, Relaxed);
                self.printk(format_args!(
                    "kmem_cache_destroy {}: Slab cache still has objects ({} remain)\n",
                    cache.name(),
                    active
                ));
                return Err((
                    handle,
                    MmError::CacheBusy {
                        cache: cache.name,
                        active,
                    },
                ));
            }
            self.unlink_cache(&mut list, cache);
        }
        self.drain_freelist(cpu, cache, 0);
        let kc = self.kmem_cache_cache();
        let _ = self.cache_free_nocpu(kc, NonNull::from(cache).cast());
        Ok(())
    }

    /// Free empty slabs of `cache` until at most `keep` remain (`drain_freelist`).
    pub(crate) fn drain_freelist(
        &self,
        cpu: Option<&Cpu<'_>>,
        cache: &KmemCache,
        keep: usize,
    ) -> usize {
        let mut freed = 0;
        loop {
            let pfn = {
                let mut n = cache.node.lock();
                if n.slabs_free.len() <= keep {
                    break;
                }
                let Some(pfn) = n.slabs_free.pop_front(self.mem_map()) else {
                    break;
                };
                n.total_slabs -= 1;
                n.free_objects -= cache.num;
                pfn
            };
            self.slab_destroy(cpu, cache, pfn as usize);
            freed += 1 << cache.order;
        }
        freed
    }

    /// The shrinker the page allocator calls under memory pressure: every
    /// cache gives back its empty slabs.
    pub(crate) fn shrink_slab_caches(&self) -> usize {
        // slab_mutex keeps every listed descriptor alive while we walk it;
        // freeing slabs under it takes only node and zone locks, never waits.
        let list = self.slab.slab_mutex.lock();
        let mut freed = 0;
        self.for_each_cache(&list, |cache| freed += self.drain_freelist(None, cache, 0));
        freed
    }

    /// Flush this CPU's array cache of every cache back to the slabs.
    pub(crate) fn slab_drain_cpu(&self, cpu: &Cpu<'_>) {
        let list = self.slab.slab_mutex.lock();
        self.for_each_cache(&list, |cache| self.drain_array(cpu, cache));
    }
}

impl<'m> Cpu<'m> {
    /// `kmem_cache_shrink()`: drain the array caches of every CPU and give
    /// every empty slab back to the page allocator. Returns pages freed.
    pub fn kmem_cache_shrink(&self, cache: &KmemCache) -> usize {
        self.mem.shrink_cache(Some(self), cache)
    }

    /// `kmem_cache_destroy()`: refused, with a report, while objects remain.
    pub fn kmem_cache_destroy(
        &self,
        cache: OwnedCache<'m>,
    ) -> Result<(), (OwnedCache<'m>, MmError)> {
        self.mem.destroy_cache(Some(self), cache)
    }
}
