//! kmalloc (include/linux/slab.h, mm/slab_common.c): byte-sized kernel
//! allocations from the `kmalloc-*` caches, and straight from the page
//! allocator above 8 KiB.
//!
//! Sizes 65..=96 use kmalloc-96 and 129..=192 kmalloc-192, as in Linux;
//! other sizes round up to a power of two. A large allocation is a compound
//! page marked `PG_large_kmalloc`, so `kfree` tells the two kinds apart from
//! the page descriptor alone, and refuses anything else.

use core::ptr::NonNull;

use crate::error::MmError;
use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::page::{PageFlags, MAX_ORDER, PAGE_SIZE};
use crate::percpu::Cpu;
use crate::slab::KmemCache;
use crate::vmstat::NodeStatItem;

/// The kmalloc caches: name and object size.
pub const KMALLOC_INFO: [(&str, usize); 13] = [
    ("kmalloc-8", 8),
    ("kmalloc-16", 16),
    ("kmalloc-32", 32),
    ("kmalloc-64", 64),
    ("kmalloc-96", 96),
    ("kmalloc-128", 128),
    ("kmalloc-192", 192),
    ("kmalloc-256", 256),
    ("kmalloc-512", 512),
    ("kmalloc-1k", 1024),
    ("kmalloc-2k", 2048),
    ("kmalloc-4k", 4096),
    ("kmalloc-8k", 8192),
];
/// Number of kmalloc caches.
pub const NR_KMALLOC_CACHES: usize = KMALLOC_INFO.len();
/// Largest size served by a cache (`KMALLOC_MAX_CACHE_SIZE`).
pub const KMALLOC_MAX_CACHE_SIZE: usize = 8192;
/// Largest kmalloc (`KMALLOC_MAX_SIZE`): one MAX_ORDER block.
pub const KMALLOC_MAX_SIZE: usize = PAGE_SIZE << MAX_ORDER;
/// What `kmalloc(0)` returns: not NULL, but never dereferenceable.
pub const ZERO_SIZE_PTR: usize = 16;

/// Index into KMALLOC_INFO for sizes 1..=192, by (size - 1) / 8 (`size_index`).
const SIZE_INDEX: [u8; 24] = [
    0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
];

/// `kmalloc_index()`: which cache serves `size` (1..=KMALLOC_MAX_CACHE_SIZE).
#[inline]
pub fn kmalloc_index(size: usize) -> usize {
    debug_assert!(size > 0 && size <= KMALLOC_MAX_CACHE_SIZE);
    if size <= 192 {
        SIZE_INDEX[(size - 1) / 8] as usize
    } else {
        // 256 is index 7; each doubling one more.
        let log = usize::BITS - (size - 1).leading_zeros();
        (log as usize) - 1
    }
}

/// `get_order()`: smallest order whose block holds `size` bytes.
#[inline]
pub fn get_order(size: usize) -> u32 {
    let pages = size.div_ceil(PAGE_SIZE);
    usize::BITS - (pages - 1).leading_zeros()
}

impl Mem {
    /// The kmalloc cache for index `i`.
    #[inline]
    pub fn kmalloc_cache(&self, i: usize) -> &KmemCache {
        let c = self.slab.kmalloc[i].load(core::sync::atomic::Ordering::Relaxed);
        // SAFETY: a kmalloc cache made at boot, never freed.
        unsafe { self.cache_at(c) }
    }

    /// `ksize()`: usable bytes of a kmalloc'd block (0 if not one).
    pub fn ksize(&self, ptr: *const u8) -> usize {
        let a = ptr as usize;
        if a <= ZERO_SIZE_PTR {
            return 0;
        }
        let Some(pfn) = self.virt_to_head_pfn(a) else {
            return 0;
        };
        let head = &self.mem_map()[pfn];
        let flags = head.flags();
        if flags.contains(PageFlags::SLAB) {
            // SAFETY: the owner recorded in a slab page's descriptor.
            unsafe { self.cache_at(head.slab_cache()) }.object_size()
        } else if flags.contains(PageFlags::LARGE_KMALLOC) {
            PAGE_SIZE << head.order()
        } else {
            0
        }
    }

    /// Where a kfree'd pointer belongs.
    fn kfree_target(&self, a: usize) -> Result<KfreeTarget<'_>, MmError> {
        let Some(pfn) = self.virt_to_head_pfn(a) else {
            return Err(self.bad_address("kfree", a));
        };
        let head = &self.mem_map()[pfn];
        let flags = head.flags();
        if flags.contains(PageFlags::SLAB) {
            // SAFETY: the owner recorded in a slab page's descriptor.
            let cache = unsafe { self.cache_at(head.slab_cache()) };
            // The page lookup above already found the slab and its cache.
            self.check_obj_start(cache, pfn, a, "kfree")?;
            return Ok(KfreeTarget::Slab(cache));
        }
        if flags.contains(PageFlags::LARGE_KMALLOC) && a == self.pfn_to_virt(pfn).as_ptr() as usize
        {
            return Ok(KfreeTarget::Large(pfn));
        }
        self.printk(format_args!(
            "kfree: invalid pointer {a:#x}: not returned by kmalloc (page flags {:#x}({}))\n",
            flags.bits(),
            flags.names()
        ));
        Err(MmError::InvalidFree {
            addr: a,
            cache: None,
        })
    }

    fn kmalloc_large(&self, cpu: Option<&Cpu<'_>>, size: usize, gfp: Gfp) -> Option<NonNull<u8>> {
        if size > KMALLOC_MAX_SIZE {
            if !gfp.contains(Gfp::__GFP_NOWARN) && !self.config.quiet {
                self.printk(format_args!(
                    "kmalloc: size {size} exceeds KMALLOC_MAX_SIZE\n"
                ));
            }
            return None;
        }
        let order = get_order(size);
        let pfn = self.alloc_pages_on(cpu, gfp | Gfp::__GFP_COMP, order)?;
        self.mem_map()[pfn].set_flag(PageFlags::LARGE_KMALLOC);
        self.vmstat
            .add(NodeStatItem::NrSlabUnreclaimable, 1 << order);
        Some(self.pfn_to_virt(pfn))
    }

    fn kfree_large(&self, cpu: Option<&Cpu<'_>>, pfn: usize) -> Result<(), MmError> {
        let page = &self.mem_map()[pfn];
        let order = page.order();
        page.clear_flag(PageFlags::LARGE_KMALLOC);
        let r = self.free_pages_on(cpu, pfn, order);
        if r.is_ok() {
            self.vmstat
                .add(NodeStatItem::NrSlabUnreclaimable, -(1 << order));
        } else {
            page.set_flag(PageFlags::LARGE_KMALLOC);
        }
        r
    }

    /// kmalloc for a thread without a CPU guard (kernel collections, KBox).
    pub fn kmalloc_nocpu(&self, size: usize, gfp: Gfp) -> Option<NonNull<u8>> {
        match size {
            0 => NonNull::new(ZERO_SIZE_PTR as *mut u8),
            1..=KMALLOC_MAX_CACHE_SIZE => {
                self.cache_alloc_nocpu(self.kmalloc_cache(kmalloc_index(size)), gfp)
            }
            _ => self.kmalloc_large(None, size, gfp),
        }
    }

    /// kfree for a thread without a CPU guard.
    pub fn kfree_nocpu(&self, ptr: *const u8) -> Result<(), MmError> {
        let a = ptr as usize;
        if a <= ZERO_SIZE_PTR {
            return Ok(());
        }
        match self.kfree_target(a)? {
            KfreeTarget::Slab(cache) => {
                // SAFETY-free: a > ZERO_SIZE_PTR, so non-null.
                self.cache_free_nocpu(cache, NonNull::new(a as *mut u8).expect("non-null"))
            }
            KfreeTarget::Large(pfn) => self.kfree_large(None, pfn),
        }
    }
}

enum KfreeTarget<'a> {
    Slab(&'a KmemCache),
    Large(usize),
}

impl<'m> Cpu<'m> {
    /// `kmalloc()`: `size` bytes, 8-byte aligned (power-of-two sizes are
    /// naturally aligned). `kmalloc(0)` returns `ZERO_SIZE_PTR`.
    #[inline]
    pub fn kmalloc(&self, size: usize, gfp: Gfp) -> Option<NonNull<u8>> {
        match size {
            0 => NonNull::new(ZERO_SIZE_PTR as *mut u8),
            1..=KMALLOC_MAX_CACHE_SIZE => {
                let cache = self.mem.kmalloc_cache(kmalloc_index(size));
                self.kmem_cache_alloc(cache, gfp)
            }
            _ => {
                self.poll();
                self.mem.kmalloc_large(Some(self), size, gfp)
            }
        }
    }

    /// `kzalloc()`: zeroed kmalloc.
    #[inline]
    pub fn kzalloc(&self, size: usize, gfp: Gfp) -> Option<NonNull<u8>> {
        self.kmalloc(size, gfp | Gfp::__GFP_ZERO)
    }

    /// `kfree()`: NULL and `ZERO_SIZE_PTR` are no-ops; a pointer kmalloc did
    /// not return is reported and refused.
    #[inline]
    pub fn kfree(&self, ptr: *const u8) -> Result<(), MmError> {
        let a = ptr as usize;
        if a <= ZERO_SIZE_PTR {
            return Ok(());
        }
        match self.mem.kfree_target(a)? {
            // SAFETY: `kfree_target` checked that `a` is an object start of a
            // slab of `cache` (`check_obj_start`); the caller owns it.
            KfreeTarget::Slab(cache) => unsafe { self.cache_free_checked(cache, a as *mut u8) },
            KfreeTarget::Large(pfn) => {
                self.poll();
                self.mem.kfree_large(Some(self), pfn)
            }
        }
    }

    /// `krealloc()`: resize, keeping the contents; the old block is freed
    /// when a new one was needed. On failure the old block is untouched.
    pub fn krealloc(&self, ptr: *const u8, new_size: usize, gfp: Gfp) -> Option<NonNull<u8>> {
        let a = ptr as usize;
        if a <= ZERO_SIZE_PTR {
            return self.kmalloc(new_size, gfp);
        }
        if new_size == 0 {
            let _ = self.kfree(ptr);
            return NonNull::new(ZERO_SIZE_PTR as *mut u8);
        }
        let ks = self.mem.ksize(ptr);
        if ks == 0 {
            self.mem
                .printk(format_args!("krealloc: invalid pointer {a:#x}\n"));
            return None;
        }
        if new_size <= ks {
            if gfp.contains(Gfp::__GFP_ZERO) {
                // SAFETY: bytes new_size..ks belong to this block.
                unsafe { core::ptr::write_bytes((a as *mut u8).add(new_size), 0, ks - new_size) };
            }
            return NonNull::new(a as *mut u8);
        }
        let new = self.kmalloc(new_size, gfp)?;
        // ksize() above proved `a` is a live kmalloc block in our RAM.
        let src = a as *const u8;
        // SAFETY: the old block has `ks` valid bytes, the new one at least
        // new_size > ks, and they are distinct allocations.
        unsafe { core::ptr::copy_nonoverlapping(src, new.as_ptr(), ks) };
        let _ = self.kfree(ptr);
        Some(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_are_linuxs() {
        let cls = |s| KMALLOC_INFO[kmalloc_index(s)].1;
        assert_eq!(cls(1), 8);
        assert_eq!(cls(8), 8);
        assert_eq!(cls(9), 16);
        assert_eq!(cls(33), 64);
        assert_eq!(cls(64), 64);
        assert_eq!(cls(65), 96);
        assert_eq!(cls(96), 96);
        assert_eq!(cls(97), 128);
        assert_eq!(cls(129), 192);
        assert_eq!(cls(192), 192);
        assert_eq!(cls(193), 256);
        assert_eq!(cls(257), 512);
        assert_eq!(cls(1000), 1024);
        assert_eq!(cls(4097), 8192);
        assert_eq!(cls(8192), 8192);
    }

    #[test]
    fn orders() {
        assert_eq!(get_order(1), 0);
        assert_eq!(get_order(4096), 0);
        assert_eq!(get_order(4097), 1);
        assert_eq!(get_order(8193), 2);
        assert_eq!(get_order(PAGE_SIZE << 10), 10);
    }
}
