//! Slab debugging (mm/slab.c's DEBUG paths; the reports follow SLUB's,
//! which is what Linux users see today).
//!
//! With `slab_debug`, every object has a red-zone word on each side holding
//! its state (`RED_INACTIVE` while free, `RED_ACTIVE` while allocated), so a
//! second free is caught by the state word and an overrun by the right one.
//! Free objects of caches without a constructor are poisoned (`POISON_FREE`
//! bytes, `POISON_END` last) and checked when next allocated, so a write
//! after free is caught. A constructed object must keep its state while
//! free, so caches with a constructor are red-zoned but not poisoned, as in
//! Linux.
//!
//! Every function here that touches an object's bytes is an `unsafe fn`:
//! its caller promises that `obj` is the start of an object of `cache` (a
//! debug cache, so the red-zone words exist around it) in a live slab, and
//! that no one else uses the object meanwhile (the alloc/free path owns it).

use core::sync::atomic::Ordering::Relaxed;

use super::KmemCache;
use crate::error::MmError;
use crate::mem::Mem;

/// Red-zone word of a free object.
pub const RED_INACTIVE: u64 = 0x09F9_1102_9D74_E35B;
/// Red-zone word of an allocated object.
pub const RED_ACTIVE: u64 = 0xD841_56C5_6356_88C0;
/// Padding bytes between the object and its right red-zone word, free.
pub const RED_PAD_INACTIVE: u8 = 0xbb;
/// Padding bytes between the object and its right red-zone word, allocated.
pub const RED_PAD_ACTIVE: u8 = 0xcc;
/// Poison byte of a free object.
pub const POISON_FREE: u8 = 0x6b;
/// Last poison byte of a free object.
pub const POISON_END: u8 = 0xa5;

impl Mem {
    /// The addresses of the two red-zone words of `obj` (with debug on, the
    /// stride has 8 bytes before the object, `obj_offset >= 8`, and 8 after
    /// its rounded size, inside the slab). Computing them reads nothing.
    fn rz_ptrs(&self, cache: &KmemCache, obj: *mut u8) -> (*mut u64, *mut u64) {
        (
            obj.wrapping_sub(8).cast::<u64>(),
            obj.wrapping_add(cache.object_size.next_multiple_of(8))
                .cast::<u64>(),
        )
    }

    /// Reads a red-zone word.
    ///
    /// # Safety
    /// `p` comes from [`Mem::rz_ptrs`] for an object as in the module docs.
    unsafe fn rz_read(&self, p: *mut u64) -> u64 {
        // SAFETY: the caller's promise: 8 bytes of the object's stride.
        unsafe { p.read_unaligned() }
    }

    /// Writes a red-zone word.
    ///
    /// # Safety
    /// As for [`Mem::rz_read`].
    unsafe fn rz_write(&self, p: *mut u64, v: u64) {
        // SAFETY: the caller's promise; it owns the object.
        unsafe { p.write_unaligned(v) }
    }

    /// The bytes between `object_size` and the right red-zone word: part of
    /// the right red zone, so that a one-byte overrun is caught. Computing
    /// the address reads nothing.
    fn pad(&self, cache: &KmemCache, obj: *mut u8) -> (*mut u8, usize) {
        let len = cache.object_size.next_multiple_of(8) - cache.object_size;
        (obj.wrapping_add(cache.object_size), len)
    }

    /// # Safety
    /// `obj` as in the module docs.
    unsafe fn pad_fill(&self, cache: &KmemCache, obj: *mut u8, v: u8) {
        let (p, len) = self.pad(cache, obj);
        // SAFETY: `pad` bytes of an object owned by our caller (alloc/free path).
        unsafe { core::ptr::write_bytes(p, v, len) };
    }

    /// # Safety
    /// `obj` as in the module docs.
    unsafe fn pad_is(&self, cache: &KmemCache, obj: *mut u8, v: u8) -> bool {
        let (p, len) = self.pad(cache, obj);
        // SAFETY: as in `pad_fill`; read only.
        unsafe { core::slice::from_raw_parts(p, len) }
            .iter()
            .all(|&b| b == v)
    }

    /// # Safety
    /// `obj` as in the module docs.
    unsafe fn poison(&self, cache: &KmemCache, obj: *mut u8) {
        if cache.poison && cache.object_size > 0 {
            // SAFETY: `object_size` bytes at `obj` belong to this free object.
            unsafe {
                core::ptr::write_bytes(obj, POISON_FREE, cache.object_size - 1);
                *obj.add(cache.object_size - 1) = POISON_END;
            }
        }
    }

    /// A new slab's object: free state, poisoned.
    ///
    /// # Safety
    /// `obj` as in the module docs.
    pub(crate) unsafe fn debug_init_obj(&self, cache: &KmemCache, obj: *mut u8) {
        let (l, r) = self.rz_ptrs(cache, obj);
        // SAFETY: our caller's promise about `obj`.
        unsafe {
            self.rz_write(l, RED_INACTIVE);
            self.rz_write(r, RED_INACTIVE);
            self.pad_fill(cache, obj, RED_PAD_INACTIVE);
            self.poison(cache, obj);
        }
    }

    /// On allocation: check the poison and the red zones, report and repair
    /// what was overwritten while the object was free, mark it allocated.
    ///
    /// # Safety
    /// `obj` as in the module docs.
    pub(crate) unsafe fn debug_alloc(&self, cache: &KmemCache, obj: *mut u8) {
        let (l, r) = self.rz_ptrs(cache, obj);
        // SAFETY: our caller's promise about `obj`.
        let (lv, rv, pad_ok) = unsafe {
            (
                self.rz_read(l),
                self.rz_read(r),
                self.pad_is(cache, obj, RED_PAD_INACTIVE),
            )
        };
        if lv != RED_INACTIVE {
            self.slab_bug(cache, obj, "Left Redzone overwritten", lv);
        }
        if rv != RED_INACTIVE || !pad_ok {
            self.slab_bug(cache, obj, "Right Redzone overwritten", rv);
        }
        if cache.poison {
            // SAFETY: the free object's `object_size` bytes are ours to read.
            let bytes = unsafe { core::slice::from_raw_parts(obj, cache.object_size) };
            let last = bytes.len() - 1;
            let bad = bytes
                .iter()
                .enumerate()
                .position(|(i, &b)| b != if i == last { POISON_END } else { POISON_FREE });
            if let Some(i) = bad {
                self.printk(format_args!(
                    "=============================================================================\n\
                     BUG {} (Not tainted): Poison overwritten\n\
                     -----------------------------------------------------------------------------\n\
                     INFO: {:#x}-{:#x} @offset={}. First byte {:#04x} instead of {:#04x}\n",
                    cache.name(),
                    obj as usize + i,
                    obj as usize + last,
                    i,
                    bytes[i],
                    if i == last { POISON_END } else { POISON_FREE }
                ));
                cache.errors.fetch_add(1, Relaxed);
            }
        }
        // SAFETY: our caller's promise about `obj`.
        unsafe {
            self.rz_write(l, RED_ACTIVE);
            self.rz_write(r, RED_ACTIVE);
            self.pad_fill(cache, obj, RED_PAD_ACTIVE);
        }
    }

    /// On free: a free object is refused as a double free; overwritten red
    /// zones are reported and repaired and the object is still freed, as
    /// Linux does (the error comes back as `Ok(Some(_))`).
    ///
    /// # Safety
    /// `obj` as in the module docs.
    pub(crate) unsafe fn debug_free(
        &self,
        cache: &KmemCache,
        obj: *mut u8,
    ) -> Result<Option<MmError>, MmError> {
        let (l, r) = self.rz_ptrs(cache, obj);
        // SAFETY: our caller's promise about `obj`.
        let (lv, rv) = unsafe { (self.rz_read(l), self.rz_read(r)) };
        if lv == RED_INACTIVE && rv == RED_INACTIVE {
            cache.errors.fetch_add(1, Relaxed);
            self.printk(format_args!(
                "=============================================================================\n\
                 BUG {} (Not tainted): Object already free\n\
                 -----------------------------------------------------------------------------\n\
                 INFO: Object {:#x}: double free\n",
                cache.name(),
                obj as usize
            ));
            return Err(MmError::DoubleFree {
                addr: obj as usize,
                cache: cache.name,
            });
        }
        let mut late = None;
        if lv != RED_ACTIVE {
            late = Some(self.slab_bug(cache, obj, "Left Redzone overwritten", lv));
        }
        // SAFETY: our caller's promise about `obj`.
        if rv != RED_ACTIVE || !unsafe { self.pad_is(cache, obj, RED_PAD_ACTIVE) } {
            late = Some(self.slab_bug(cache, obj, "Right Redzone overwritten", rv));
        }
        // SAFETY: our caller's promise about `obj`.
        unsafe {
            self.rz_write(l, RED_INACTIVE);
            self.rz_write(r, RED_INACTIVE);
            self.pad_fill(cache, obj, RED_PAD_INACTIVE);
            self.poison(cache, obj);
        }
        Ok(late)
    }

    #[cold]
    fn slab_bug(&self, cache: &KmemCache, obj: *mut u8, what: &'static str, found: u64) -> MmError {
        cache.errors.fetch_add(1, Relaxed);
        self.printk(format_args!(
            "=============================================================================\n\
             BUG {} (Not tainted): {what}\n\
             -----------------------------------------------------------------------------\n\
             INFO: Object {:#x}: red zone holds {found:#018x}\n",
            cache.name(),
            obj as usize
        ));
        MmError::Corrupted {
            addr: obj as usize,
            cache: cache.name,
            what,
        }
    }
}
