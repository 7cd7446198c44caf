//! Kernel objects in ferrite's RAM: typed caches, an owning box, and a
//! kmalloc-backed allocator for collections.
//!
//! Linux code calls `kmem_cache_alloc(task_struct_cachep, GFP_KERNEL)` and
//! casts; Rust code gets the same memory with types: a [`TypedCache<T>`] is
//! a named cache sized and aligned for `T`, and [`KBox<T>`] owns one object
//! in it and gives it back on drop. [`Kmalloc`] implements allocator-api2's
//! `Allocator`, so `allocator_api2::vec::Vec<T, Kmalloc>` and friends keep
//! their buffers in kmalloc caches.

use core::alloc::Layout;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};

use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::percpu::Cpu;
use crate::slab::{KmemCache, OwnedCache, SlabFlags};

/// A slab cache of `T`s.
pub struct TypedCache<'m, T> {
    cache: CacheRef<'m>,
    _t: PhantomData<fn() -> T>,
}

enum CacheRef<'m> {
    Owned(OwnedCache<'m>),
    Borrowed(&'m KmemCache),
}

impl<'m, T> TypedCache<'m, T> {
    /// `kmem_cache_create(name, sizeof(T), alignof(T), flags, NULL)`.
    pub fn create(mem: &'m Mem, name: &str, flags: SlabFlags) -> Result<Self, crate::MmError> {
        let size = core::mem::size_of::<T>().max(1);
        let cache = mem.kmem_cache_create(name, size, core::mem::align_of::<T>(), flags, None)?;
        Ok(TypedCache {
            cache: CacheRef::Owned(cache),
            _t: PhantomData,
        })
    }

    /// Use an existing cache (for example a standard one) for `T`s.
    /// Fails if its objects are too small or misaligned for `T`.
    pub fn from_cache(cache: &'m KmemCache) -> Option<Self> {
        let fits = cache.object_size() >= core::mem::size_of::<T>()
            && cache.align() >= core::mem::align_of::<T>();
        fits.then_some(TypedCache {
            cache: CacheRef::Borrowed(cache),
            _t: PhantomData,
        })
    }

    /// The underlying cache.
    pub fn cache(&self) -> &KmemCache {
        match &self.cache {
            CacheRef::Owned(c) => c,
            CacheRef::Borrowed(c) => c,
        }
    }

    /// Allocate an object on `cpu` and move `value` into it; gives the value
    /// back when memory is exhausted.
    pub fn alloc<'c>(&'c self, cpu: &Cpu<'m>, value: T, gfp: Gfp) -> Result<KBox<'c, 'm, T>, T> {
        let Some(p) = cpu.kmem_cache_alloc(self.cache(), gfp) else {
            return Err(value);
        };
        let p = p.cast::<T>();
        debug_assert_eq!(p.as_ptr() as usize % core::mem::align_of::<T>(), 0);
        // SAFETY: `p` is a fresh object of at least size_of::<T>() bytes,
        // aligned for T (checked at creation), owned by nobody else.
        unsafe { p.as_ptr().write(value) };
        Ok(KBox {
            ptr: p,
            cache: self,
            mem: cpu.mem(),
        })
    }
}

/// Owns one `T` in a [`TypedCache`]; frees it on drop.
pub struct KBox<'c, 'm, T> {
    ptr: NonNull<T>,
    cache: &'c TypedCache<'m, T>,
    mem: &'m Mem,
}

impl<T> KBox<'_, '_, T> {
    /// The object's address in ferrite's RAM.
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }

    /// Free on `cpu` (the fast path), instead of the locked path of `drop`.
    pub fn free_on(self, cpu: &Cpu<'_>) {
        let me = core::mem::ManuallyDrop::new(self);
        // SAFETY: we own the object; it is dropped exactly once here and
        // never touched again (the box is forgotten).
        unsafe { core::ptr::drop_in_place(me.ptr.as_ptr()) };
        let r = cpu.kmem_cache_free(me.cache.cache(), me.ptr.cast());
        debug_assert!(r.is_ok(), "KBox free failed: {r:?}");
    }
}

impl<T> Deref for KBox<'_, '_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the box owns an initialised T at `ptr`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for KBox<'_, '_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the box owns an initialised T at `ptr`, uniquely.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for KBox<'_, '_, T> {
    fn drop(&mut self) {
        // SAFETY: we own the initialised T; it is never used after this.
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        let r = self
            .mem
            .cache_free_nocpu(self.cache.cache(), self.ptr.cast());
        debug_assert!(r.is_ok(), "KBox free failed: {r:?}");
    }
}

// SAFETY: a KBox is a unique owner of its T, like Box<T>.
unsafe impl<T: Send> Send for KBox<'_, '_, T> {}
// SAFETY: shared access only hands out &T.
unsafe impl<T: Sync> Sync for KBox<'_, '_, T> {}

/// The object a [`KArc`] points at: the reference count beside the value
/// (Linux embeds a `refcount_t` such as `task_struct.usage` in the object).
pub struct KArcInner<T> {
    refs: core::sync::atomic::AtomicUsize,
    value: T,
}

/// A reference-counted `T` in a [`TypedCache`] of [`KArcInner<T>`]: the
/// `get_task_struct`/`put_task_struct` pattern. Cloning takes a reference;
/// dropping the last one frees the object to its cache. The object never
/// moves, so its address is stable for its whole life.
pub struct KArc<'c, 'm, T> {
    ptr: NonNull<KArcInner<T>>,
    cache: &'c TypedCache<'m, KArcInner<T>>,
    mem: &'m Mem,
}

impl<'c, 'm, T> KArc<'c, 'm, T> {
    /// Allocate on `cpu` with one reference; gives the value back when
    /// memory is exhausted.
    pub fn new(
        cache: &'c TypedCache<'m, KArcInner<T>>,
        cpu: &Cpu<'m>,
        value: T,
        gfp: Gfp,
    ) -> Result<Self, T> {
        let inner = KArcInner {
            refs: core::sync::atomic::AtomicUsize::new(1),
            value,
        };
        match cache.alloc(cpu, inner, gfp) {
            Ok(b) => {
                let b = core::mem::ManuallyDrop::new(b);
                Ok(KArc {
                    ptr: b.ptr,
                    cache,
                    mem: cpu.mem(),
                })
            }
            Err(inner) => Err(inner.value),
        }
    }

    /// [`KArc::new`] without a CPU at hand (the slab's locked path, as an
    /// allocation outside any CPU context takes).
    pub fn new_nocpu(
        cache: &'c TypedCache<'m, KArcInner<T>>,
        mem: &'m Mem,
        value: T,
        gfp: Gfp,
    ) -> Result<Self, T> {
        let Some(p) = mem.cache_alloc_nocpu(cache.cache(), gfp) else {
            return Err(value);
        };
        let p = p.cast::<KArcInner<T>>();
        debug_assert_eq!(
            p.as_ptr() as usize % core::mem::align_of::<KArcInner<T>>(),
            0
        );
        // SAFETY: a fresh object of the cache, sized and aligned for
        // KArcInner<T> (checked when the TypedCache was made), ours alone.
        unsafe {
            p.as_ptr().write(KArcInner {
                refs: core::sync::atomic::AtomicUsize::new(1),
                value,
            })
        };
        Ok(KArc { ptr: p, cache, mem })
    }

    /// Whether two references name the same object.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }

    /// The object's address in ferrite's RAM.
    pub fn as_ptr(&self) -> *const T {
        // SAFETY: the object is live while we hold a reference.
        unsafe { &raw const (*self.ptr.as_ptr()).value }
    }

    /// The number of references (racy: for reports and tests).
    pub fn strong_count(this: &Self) -> usize {
        this.inner()
            .refs
            .load(core::sync::atomic::Ordering::Relaxed)
    }

    fn inner(&self) -> &KArcInner<T> {
        // SAFETY: the object is live while we hold a reference.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Clone for KArc<'_, '_, T> {
    fn clone(&self) -> Self {
        // Relaxed, as `Arc`: the caller's reference keeps the object alive.
        let old = self
            .inner()
            .refs
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        assert!(old < isize::MAX as usize, "KArc reference count overflow");
        KArc {
            ptr: self.ptr,
            cache: self.cache,
            mem: self.mem,
        }
    }
}

impl<T> Deref for KArc<'_, '_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T> Drop for KArc<'_, '_, T> {
    fn drop(&mut self) {
        use core::sync::atomic::{fence, Ordering};
        // Release, then Acquire before the free: every other holder's use
        // happens before the object is destroyed (as `Arc`).
        if self.inner().refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the last reference: nobody else can reach the object.
        unsafe { core::ptr::drop_in_place(self.ptr.as_ptr()) };
        let r = self
            .mem
            .cache_free_nocpu(self.cache.cache(), self.ptr.cast());
        debug_assert!(r.is_ok(), "KArc free failed: {r:?}");
    }
}

// SAFETY: shared ownership of a T that is Send + Sync, like Arc<T>.
unsafe impl<T: Send + Sync> Send for KArc<'_, '_, T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for KArc<'_, '_, T> {}

/// allocator-api2 `Allocator` over kmalloc (without a CPU guard: the
/// locked slab path, as an allocation with no current CPU would take).
#[derive(Clone, Copy)]
pub struct Kmalloc<'m> {
    mem: &'m Mem,
    gfp: Gfp,
}

impl<'m> Kmalloc<'m> {
    /// Allocate with `GFP_KERNEL`.
    pub fn new(mem: &'m Mem) -> Self {
        Kmalloc {
            mem,
            gfp: Gfp::GFP_KERNEL,
        }
    }
    /// Allocate with other flags.
    pub fn with_gfp(mem: &'m Mem, gfp: Gfp) -> Self {
        Kmalloc { mem, gfp }
    }
}

// SAFETY: blocks come from kmalloc, which returns distinct live blocks of at
// least the requested size until kfree; alignment is guaranteed by rounding
// the size up to a power of two no smaller than the alignment (kmalloc's
// power-of-two sizes, slab or page blocks, are naturally aligned because
// RAM is aligned to a MAX_ORDER block), and larger alignments are refused.
unsafe impl Allocator for Kmalloc<'_> {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if layout.align() > crate::kmalloc::KMALLOC_MAX_SIZE {
            return Err(AllocError);
        }
        let mut size = layout.size().max(1);
        if layout.align() > 8 {
            size = size.max(layout.align()).next_power_of_two();
        }
        let p = self.mem.kmalloc_nocpu(size, self.gfp).ok_or(AllocError)?;
        debug_assert_eq!(p.as_ptr() as usize % layout.align(), 0);
        Ok(NonNull::slice_from_raw_parts(p, layout.size()))
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, _layout: Layout) {
        let r = self.mem.kfree_nocpu(ptr.as_ptr());
        debug_assert!(r.is_ok(), "Kmalloc deallocate failed: {r:?}");
    }
}
