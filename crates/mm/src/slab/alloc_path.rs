//! Allocating and freeing objects (mm/slab.c: `____cache_alloc`,
//! `cache_alloc_refill`, `cache_grow`, `___cache_free`, `cache_flusharray`,
//! `free_block`, `slab_destroy`).
//!
//! The fast paths touch only this CPU's array cache. The array cache is
//! refilled from partial slabs first, then empty ones, then a new slab, as
//! the notes prescribe; it is flushed a batch at a time. A slab whose last
//! object comes back goes to the free list, or straight back to the page
//! allocator once the cache holds more free objects than its `free_limit`.

use core::ptr::NonNull;
use core::sync::atomic::Ordering::Relaxed;

use super::{ArrayCache, KmemCache, KmemCacheNode, AC_ENTRIES};
use crate::error::MmError;
use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::page::{PageFlags, PAGE_SIZE};
use crate::percpu::Cpu;
use crate::vmstat::NodeStatItem;

/// Slabs emptied by one `free_block`, to destroy once the node lock is dropped.
struct Doomed {
    pfns: [u32; AC_ENTRIES],
    n: usize,
}

impl Doomed {
    fn new() -> Self {
        Doomed {
            pfns: [0; AC_ENTRIES],
            n: 0,
        }
    }
}

impl Mem {
    /// Run `f` on this CPU's array cache of `cache`.
    #[inline]
    pub(crate) fn with_ac<R>(
        &self,
        cpu: &Cpu<'_>,
        cache: &KmemCache,
        f: impl FnOnce(&mut ArrayCache) -> R,
    ) -> R {
        assert!(cpu.id < cache.nr_cpus);
        let ac = cache.ac_ptr(cpu.id);
        // SAFETY: `ac` is in bounds (checked above). Array cache `cpu.id` is
        // only reached through the unique, !Send guard of that CPU, and the
        // busy flag rules out a nested borrow on this thread, so the `&mut`
        // is the only reference while `f` runs.
        unsafe {
            assert!(!(*ac).busy, "array cache of {} re-entered", cache.name());
            (*ac).busy = true;
            let r = f(&mut *ac);
            (*ac).busy = false;
            r
        }
    }

    #[inline]
    fn slab_base(&self, _cache: &KmemCache, pfn: usize) -> usize {
        self.pfn_to_virt(pfn).as_ptr() as usize + self.mem_map()[pfn].slab_colouroff() as usize
    }

    #[inline]
    fn freelist(&self, cache: &KmemCache, pfn: usize) -> *mut u8 {
        let end = self.pfn_to_virt(pfn).as_ptr() as usize + (PAGE_SIZE << cache.order);
        (end - cache.num * cache.idx_size) as *mut u8
    }

    #[inline]
    fn get_free(&self, cache: &KmemCache, fl: *mut u8, i: usize) -> usize {
        // SAFETY: `fl` is the freelist of a slab of `cache` (inside the slab's
        // pages, see `freelist`), i < num, and the caller holds the node lock
        // or owns the slab, which guards the freelist bytes.
        unsafe {
            if cache.idx_size == 1 {
                *fl.add(i) as usize
            } else {
                fl.cast::<u16>().add(i).read_unaligned() as usize
            }
        }
    }

    #[inline]
    fn set_free(&self, cache: &KmemCache, fl: *mut u8, i: usize, v: usize) {
        // SAFETY: as in `get_free`.
        unsafe {
            if cache.idx_size == 1 {
                *fl.add(i) = v as u8
            } else {
                fl.cast::<u16>().add(i).write_unaligned(v as u16)
            }
        }
    }

    #[inline]
    fn index_to_obj(&self, cache: &KmemCache, pfn: usize, idx: usize) -> *mut u8 {
        (self.slab_base(cache, pfn) + idx * cache.size + cache.obj_offset) as *mut u8
    }

    /// `obj_to_index()` by reciprocal multiplication; None if `obj` is not
    /// the start of an object of this slab.
    #[inline]
    fn obj_to_index(&self, cache: &KmemCache, pfn: usize, obj: usize) -> Option<usize> {
        let off = obj.wrapping_sub(self.slab_base(cache, pfn) + cache.obj_offset);
        if off >= cache.objs_bytes {
            return None;
        }
        // off < num * size, so q < num.
        let q = ((off as u64 * cache.reciprocal) >> 32) as usize;
        (q * cache.size == off).then_some(q)
    }

    /// Take one object off a slab (node lock held).
    #[inline]
    fn slab_get_obj(&self, cache: &KmemCache, pfn: usize) -> *mut u8 {
        let page = &self.mem_map()[pfn];
        let inuse = page.slab_inuse() as usize;
        let idx = self.get_free(cache, self.freelist(cache, pfn), inuse);
        page.set_slab_inuse(inuse as u16 + 1);
        self.index_to_obj(cache, pfn, idx)
    }

    /// Move up to `want` objects from the slab lists into `out`, partial slabs
    /// first, then free ones. Returns how many.
    fn take_from_slabs(
        &self,
        cache: &KmemCache,
        n: &mut KmemCacheNode,
        out: &mut [*mut u8],
    ) -> usize {
        let map = self.mem_map();
        let mut got = 0;
        while got < out.len() {
            let (pfn, from_free) = match n.slabs_partial.first() {
                Some(p) => (p, false),
                None => match n.slabs_free.first() {
                    Some(p) => (p, true),
                    None => break,
                },
            };
            let page = &map[pfn as usize];
            while got < out.len() && (page.slab_inuse() as usize) < cache.num {
                out[got] = self.slab_get_obj(cache, pfn as usize);
                got += 1;
            }
            if from_free {
                n.slabs_free.remove(map, pfn);
            } else {
                n.slabs_partial.remove(map, pfn);
            }
            if page.slab_inuse() as usize == cache.num {
                n.slabs_full.push_front(map, pfn);
            } else {
                n.slabs_partial.push_front(map, pfn);
            }
        }
        n.free_objects -= got;
        got
    }

    /// Return objects to their slabs (node lock held); slabs beyond the
    /// cache's free limit are collected in `doomed`.
    fn free_block(
        &self,
        cache: &KmemCache,
        n: &mut KmemCacheNode,
        objs: &[*mut u8],
        doomed: &mut Doomed,
    ) {
        let map = self.mem_map();
        for &obj in objs {
            let Some(pfn) = self.virt_to_head_pfn(obj as usize) else {
                continue;
            };
            let Some(idx) = self.obj_to_index(cache, pfn, obj as usize) else {
                continue;
            };
            let page = &map[pfn];
            let inuse = page.slab_inuse() as usize;
            if inuse == 0 {
                // Only an undetected double free gets here (slab_debug off).
                cache.errors.fetch_add(1, Relaxed);
                self.printk(format_args!(
                    "BUG {} (Not tainted): free_block: object {:#x} freed to a slab with no objects in use (double free?)\n",
                    cache.name(),
                    obj as usize
                ));
                continue;
            }
            let was_full = inuse == cache.num;
            self.set_free(cache, self.freelist(cache, pfn), inuse - 1, idx);
            page.set_slab_inuse((inuse - 1) as u16);
            n.free_objects += 1;
            if inuse == 1 {
                if was_full {
                    n.slabs_full.remove(map, pfn as u32);
                } else {
                    n.slabs_partial.remove(map, pfn as u32);
                }
                if n.free_objects > cache.free_limit {
                    n.free_objects -= cache.num;
                    n.total_slabs -= 1;
                    doomed.pfns[doomed.n] = pfn as u32;
                    doomed.n += 1;
                } else {
                    n.slabs_free.push_front(map, pfn as u32);
                }
            } else if was_full {
                n.slabs_full.remove(map, pfn as u32);
                n.slabs_partial.push_front(map, pfn as u32);
            }
        }
    }

    fn destroy_doomed(&self, cpu: Option<&Cpu<'_>>, cache: &KmemCache, doomed: &Doomed) {
        for &pfn in &doomed.pfns[..doomed.n] {
            self.slab_destroy(cpu, cache, pfn as usize);
        }
    }

    /// `cache_grow()`: a new slab, objects constructed, on the free list.
    fn cache_grow(&self, cpu: Option<&Cpu<'_>>, cache: &KmemCache, gfp: Gfp) -> bool {
        let colour = {
            let mut n = cache.node.lock();
            let c = n.colour_next;
            n.colour_next += 1;
            if n.colour_next >= cache.colour {
                n.colour_next = 0;
            }
            c
        };
        let mut flags = gfp - Gfp::__GFP_ZERO;
        if cache.order > 0 {
            flags |= Gfp::__GFP_COMP;
        }
        let Some(pfn) = self.alloc_pages_on(cpu, flags, cache.order) else {
            return false;
        };
        let map = self.mem_map();
        let page = &map[pfn];
        page.set_flag(PageFlags::SLAB);
        page.set_slab_cache(cache.addr());
        page.set_slab_inuse(0);
        page.set_slab_colouroff((colour * cache.colour_off) as u16);
        let fl = self.freelist(cache, pfn);
        for i in 0..cache.num {
            self.set_free(cache, fl, i, i);
            let obj = self.index_to_obj(cache, pfn, i);
            if cache.debug {
                // SAFETY: object `i` of this new slab of a debug cache,
                // not yet handed to anyone.
                unsafe { self.debug_init_obj(cache, obj) };
            }
            if let Some(ctor) = cache.ctor {
                // SAFETY-free: `obj` is a non-null address inside the slab.
                ctor(NonNull::new(obj).expect("slab object"));
            }
        }
        self.vmstat.add(slab_item(cache), 1 << cache.order);
        let mut n = cache.node.lock();
        n.slabs_free.push_front(map, pfn as u32);
        n.total_slabs += 1;
        n.free_objects += cache.num;
        true
    }

    /// `slab_destroy()`: give a slab's pages back.
    pub(crate) fn slab_destroy(&self, cpu: Option<&Cpu<'_>>, cache: &KmemCache, pfn: usize) {
        let page = &self.mem_map()[pfn];
        page.clear_flag(PageFlags::SLAB);
        page.set_slab_cache(0);
        page.set_slab_inuse(0);
        page.set_slab_colouroff(0);
        self.vmstat.add(slab_item(cache), -(1 << cache.order));
        if let Err(e) = self.free_pages_on(cpu, pfn, cache.order) {
            self.printk(format_args!("slab_destroy: {}: {e}\n", cache.name()));
        }
    }

    /// `cache_alloc_refill()`: refill the array cache, growing if need be,
    /// and return one object.
    #[cold]
    fn cache_alloc_refill(&self, cpu: &Cpu<'_>, cache: &KmemCache, gfp: Gfp) -> Option<*mut u8> {
        loop {
            let got = self.with_ac(cpu, cache, |ac| {
                let avail = ac.avail as usize;
                if avail > 0 {
                    ac.avail -= 1;
                    return Some(ac.entries[avail - 1]);
                }
                let want = (ac.batchcount as usize)
                    .min(ac.limit as usize - avail)
                    .max(1);
                let mut n = cache.node.lock();
                let got = self.take_from_slabs(cache, &mut n, &mut ac.entries[avail..avail + want]);
                drop(n);
                ac.avail += got as u32;
                if ac.avail > 0 {
                    ac.avail -= 1;
                    Some(ac.entries[ac.avail as usize])
                } else {
                    None
                }
            });
            if got.is_some() {
                return got;
            }
            if !self.cache_grow(Some(cpu), cache, gfp) {
                return None;
            }
        }
    }

    /// `cache_flusharray()`: the array cache is full; send its oldest batch
    /// home, and give back any slab that leaves beyond the free limit.
    #[cold]
    fn cache_flusharray(&self, cpu: &Cpu<'_>, cache: &KmemCache, ac: &mut ArrayCache) {
        let batch = (ac.batchcount as usize).min(ac.avail as usize);
        let mut doomed = Doomed::new();
        {
            let mut n = cache.node.lock();
            self.free_block(cache, &mut n, &ac.entries[..batch], &mut doomed);
        }
        let avail = ac.avail as usize;
        ac.entries.copy_within(batch..avail, 0);
        ac.avail -= batch as u32;
        // Pages go back through this CPU's pcp lists; the array cache stays
        // borrowed, which slab_destroy never touches.
        self.destroy_doomed(Some(cpu), cache, &doomed);
    }

    /// Empty this CPU's array cache of `cache` (`drain_array`).
    pub(crate) fn drain_array(&self, cpu: &Cpu<'_>, cache: &KmemCache) {
        let mut doomed = Doomed::new();
        self.with_ac(cpu, cache, |ac| {
            if ac.avail > 0 {
                let mut n = cache.node.lock();
                self.free_block(cache, &mut n, &ac.entries[..ac.avail as usize], &mut doomed);
                ac.avail = 0;
            }
        });
        self.destroy_doomed(Some(cpu), cache, &doomed);
    }

    /// Debug hooks and `__GFP_ZERO` for a freshly allocated object.
    #[inline]
    fn cache_alloc_finish(&self, cache: &KmemCache, obj: *mut u8, gfp: Gfp) -> NonNull<u8> {
        if cache.debug {
            // SAFETY: an object of this debug cache just taken off a free
            // list: ours alone.
            unsafe { self.debug_alloc(cache, obj) };
        }
        if gfp.contains(Gfp::__GFP_ZERO) {
            // SAFETY: `obj` is an object of `cache` just handed to us, with
            // `object_size` bytes inside its slab.
            unsafe { core::ptr::write_bytes(obj, 0, cache.object_size) };
        }
        // SAFETY: object addresses lie in RAM, never null.
        unsafe { NonNull::new_unchecked(obj) }
    }

    /// Validate `obj` as a live-able object of `cache`, reporting misuse as
    /// Linux does (`cache_from_obj`, `kfree` checks).
    #[inline]
    pub(crate) fn check_obj(
        &self,
        cache: &KmemCache,
        obj: usize,
        caller: &str,
    ) -> Result<(), MmError> {
        let map = self.mem_map();
        let Some(pfn) = self.virt_to_head_pfn(obj) else {
            cache.errors.fetch_add(1, Relaxed);
            return Err(self.bad_address(caller, obj));
        };
        if !map[pfn].flags().contains(PageFlags::SLAB) {
            return Err(self.invalid_free(cache, obj, caller));
        }
        let owner = map[pfn].slab_cache();
        if owner != cache.addr() {
            cache.errors.fetch_add(1, Relaxed);
            // SAFETY: the owner recorded in a live slab page's descriptor.
            let actual = unsafe { self.cache_at(owner) };
            self.printk(format_args!(
                "{caller}: Wrong slab cache. {} but object {obj:#x} is from {}\n",
                cache.name(),
                actual.name()
            ));
            return Err(MmError::WrongCache {
                addr: obj,
                expected: cache.name,
                actual: actual.name,
            });
        }
        self.check_obj_start(cache, pfn, obj, caller)
    }

    /// The last of [`Self::check_obj`]'s checks, for a caller that already
    /// found `obj`'s slab head page `pfn` and its cache (`kfree`): `obj` must
    /// start an object of that slab.
    #[inline]
    pub(crate) fn check_obj_start(
        &self,
        cache: &KmemCache,
        pfn: usize,
        obj: usize,
        caller: &str,
    ) -> Result<(), MmError> {
        if self.obj_to_index(cache, pfn, obj).is_none() {
            return Err(self.invalid_free(cache, obj, caller));
        }
        Ok(())
    }

    #[cold]
    fn invalid_free(&self, cache: &KmemCache, obj: usize, caller: &str) -> MmError {
        cache.errors.fetch_add(1, Relaxed);
        self.printk(format_args!(
            "BUG {} (Not tainted): {caller}: {obj:#x} is not the start of an object of this cache\n",
            cache.name()
        ));
        MmError::InvalidFree {
            addr: obj,
            cache: Some(cache.name),
        }
    }

    #[inline]
    fn check_cache(&self, cache: &KmemCache) {
        // One compare: the descriptor records the RAM it was made in.
        assert!(
            cache.owner == self.ram_base(),
            "kmem_cache {} belongs to another ferrite instance",
            cache.name()
        );
    }

    /// Allocate one object without a CPU (boot, KBox, collections): straight
    /// from the slab lists under the node lock.
    pub(crate) fn cache_alloc_nocpu(&self, cache: &KmemCache, gfp: Gfp) -> Option<NonNull<u8>> {
        self.check_cache(cache);
        loop {
            let mut one = [core::ptr::null_mut(); 1];
            let got = {
                let mut n = cache.node.lock();
                self.take_from_slabs(cache, &mut n, &mut one)
            };
            if got == 1 {
                return Some(self.cache_alloc_finish(cache, one[0], gfp));
            }
            if !self.cache_grow(None, cache, gfp) {
                return None;
            }
        }
    }

    /// Free one object without a CPU.
    pub(crate) fn cache_free_nocpu(
        &self,
        cache: &KmemCache,
        obj: NonNull<u8>,
    ) -> Result<(), MmError> {
        self.check_cache(cache);
        let o = obj.as_ptr();
        self.check_obj(cache, o as usize, "kmem_cache_free")?;
        let late = if cache.debug {
            // SAFETY: `check_obj` found `o` to be an object start of a slab
            // of this debug cache; the freeing caller owns it.
            unsafe { self.debug_free(cache, o)? }
        } else {
            None
        };
        let mut doomed = Doomed::new();
        {
            let mut n = cache.node.lock();
            self.free_block(cache, &mut n, &[o], &mut doomed);
        }
        self.destroy_doomed(None, cache, &doomed);
        late.map_or(Ok(()), Err)
    }

    #[cold]
    fn report_double_free(&self, cache: &KmemCache, obj: usize) -> MmError {
        cache.errors.fetch_add(1, Relaxed);
        self.printk(format_args!(
            "BUG {} (Not tainted): Object already free\nINFO: Object {obj:#x}: double free detected\n",
            cache.name()
        ));
        MmError::DoubleFree {
            addr: obj,
            cache: cache.name,
        }
    }
}

fn slab_item(cache: &KmemCache) -> NodeStatItem {
    if cache.flags.contains(super::SlabFlags::SLAB_RECLAIM_ACCOUNT) {
        NodeStatItem::NrSlabReclaimable
    } else {
        NodeStatItem::NrSlabUnreclaimable
    }
}

impl<'m> Cpu<'m> {
    /// `kmem_cache_alloc()`: an object from this CPU's array cache, refilled
    /// from the slabs when empty. None when memory is exhausted.
    #[inline]
    pub fn kmem_cache_alloc(&self, cache: &KmemCache, gfp: Gfp) -> Option<NonNull<u8>> {
        self.poll();
        let mem = self.mem;
        mem.check_cache(cache);
        let hot = mem.with_ac(self, cache, |ac| {
            if ac.avail > 0 {
                ac.avail -= 1;
                Some(ac.entries[ac.avail as usize])
            } else {
                None
            }
        });
        let obj = match hot {
            Some(o) => o,
            None => mem.cache_alloc_refill(self, cache, gfp)?,
        };
        Some(mem.cache_alloc_finish(cache, obj, gfp))
    }

    /// `kmem_cache_free()`: back onto this CPU's array cache. Freeing an
    /// object to the wrong cache, a pointer that is not an object, or (with
    /// slab debugging, or when it is the last object freed here) an object
    /// twice is reported and refused.
    #[inline]
    pub fn kmem_cache_free(&self, cache: &KmemCache, obj: NonNull<u8>) -> Result<(), MmError> {
        let mem = self.mem;
        // No check_cache here: check_obj proves the object's slab page names
        // this very descriptor, and only this Mem's descriptors are named.
        let o = obj.as_ptr();
        mem.check_obj(cache, o as usize, "kmem_cache_free")?;
        // SAFETY: just checked.
        unsafe { self.cache_free_checked(cache, o) }
    }

    /// `___cache_free()` of an object already validated.
    ///
    /// # Safety
    /// `o` passed `check_obj` for `cache`: an object start of one of its
    /// slabs, owned by the freeing caller.
    #[inline]
    pub(crate) unsafe fn cache_free_checked(
        &self,
        cache: &KmemCache,
        o: *mut u8,
    ) -> Result<(), MmError> {
        if cache.debug {
            // SAFETY: the caller's promise.
            return unsafe { self.cache_free_debug(cache, o) };
        }
        if self.ac_push(cache, o) {
            return Err(self.mem.report_double_free(cache, o as usize));
        }
        Ok(())
    }

    /// The debug free: checks first, then the ordinary path.
    #[cold]
    ///
    /// # Safety
    /// `o` passed `check_obj` for `cache` (a debug cache): an object start
    /// of one of its slabs, owned by the freeing caller.
    unsafe fn cache_free_debug(&self, cache: &KmemCache, o: *mut u8) -> Result<(), MmError> {
        // SAFETY: the caller's promise.
        let late = unsafe { self.mem.debug_free(cache, o)? };
        if self.ac_push(cache, o) {
            return Err(self.mem.report_double_free(cache, o as usize));
        }
        late.map_or(Ok(()), Err)
    }

    /// Push onto this CPU's array cache, flushing a batch when full. True if
    /// `o` is the object freed last here (a double free).
    /// Drain requests are served after a flush (every `batchcount` frees)
    /// rather than on every free: the free fast path reads nothing shared.
    #[inline]
    fn ac_push(&self, cache: &KmemCache, o: *mut u8) -> bool {
        let mem = self.mem;
        let (double, flushed) = mem.with_ac(self, cache, |ac| {
            let avail = ac.avail as usize;
            if avail > 0 && ac.entries[avail - 1] == o {
                return (true, false);
            }
            let flush = avail >= ac.limit as usize;
            if flush {
                mem.cache_flusharray(self, cache, ac);
            }
            ac.entries[ac.avail as usize] = o;
            ac.avail += 1;
            (false, flush)
        });
        if flushed {
            self.poll();
        }
        double
    }
}
