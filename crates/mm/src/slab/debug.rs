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
    fn rz_ptrs(&self, cache: &KmemCache, obj: *mut u8) -> (*mut u64, *mut u64) {
        // SAFETY: with debug on, the stride has 8 bytes before the object
        // (obj_offset >= 8) and 8 after its rounded size, inside the slab.
        unsafe {
            (
                obj.sub(8).cast::<u64>(),
                obj.add(cache.object_size.next_multiple_of(8)).cast::<u64>(),
            )
        }
    }

    fn rz_read(&self, p: *mut u64) -> u64 {
        // SAFETY: `p` comes from `rz_ptrs` of an object of a debug cache.
        unsafe { p.read_unaligned() }
    }

    fn rz_write(&self, p: *mut u64, v: u64) {
        // SAFETY: as in `rz_read`; the object's owner is the caller.
        unsafe { p.write_unaligned(v) }
    }

    /// The bytes between `object_size` and the right red-zone word: part of
    /// the right red zone, so that a one-byte overrun is caught.
    fn pad(&self, cache: &KmemCache, obj: *mut u8) -> (*mut u8, usize) {
        let len = cache.object_size.next_multiple_of(8) - cache.object_size;
        // SAFETY: the bytes lie inside the object's stride, before the right
        // red-zone word.
        (unsafe { obj.add(cache.object_size) }, len)
    }

    fn pad_fill(&self, cache: &KmemCache, obj: *mut u8, v: u8) {
        let (p, len) = self.pad(cache, obj);
        // SAFETY: `pad` bytes of an object owned by our caller (alloc/free path).
        unsafe { core::ptr::write_bytes(p, v, len) };
    }

    fn pad_is(&self, cache: &KmemCache, obj: *mut u8, v: u8) -> bool {
        let (p, len) = self.pad(cache, obj);
        // SAFETY: as in `pad_fill`; read only.
        unsafe { core::slice::from_raw_parts(p, len) }
            .iter()
            .all(|&b| b == v)
    }

    fn poison(&self, cache: &KmemCache, obj: *mut u8) {
        if cache.poison && cache.object_size > 0 {
            // SAFETY: `object_size` bytes at `obj` belong to this free object.
            unsafe {
                core::ptr::write_bytes(obj, POISON_FREE, cache.object_size - 1);
                *obj.add(cache.object_size - 1) = POISON_END;
            }
        }
    }

    /// A new slab's object: free state, poisoned.
    pub(crate) fn debug_init_obj(&self, cache: &KmemCache, obj: *mut u8) {
        let (l, r) = self.rz_ptrs(cache, obj);
        self.rz_write(l, RED_INACTIVE);
        self.rz_write(r, RED_INACTIVE);
        self.pad_fill(cache, obj, RED_PAD_INACTIVE);
        self.poison(cache, obj);
    }

    /// On allocation: check the poison and the red zones, report and repair
    /// what was overwritten while the object was free, mark it allocated.
    pub(crate) fn debug_alloc(&self, cache: &KmemCache, obj: *mut u8) {
        let (l, r) = self.rz_ptrs(cache, obj);
        if self.rz_read(l) != RED_INACTIVE {
            self.slab_bug(cache, obj, "Left Redzone overwritten", self.rz_read(l));
        }
        if self.rz_read(r) != RED_INACTIVE || !self.pad_is(cache, obj, RED_PAD_INACTIVE) {
            self.slab_bug(cache, obj, "Right Redzone overwritten", self.rz_read(r));
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
        self.rz_write(l, RED_ACTIVE);
        self.rz_write(r, RED_ACTIVE);
        self.pad_fill(cache, obj, RED_PAD_ACTIVE);
    }

    /// On free: a free object is refused as a double free; overwritten red
    /// zones are reported and repaired and the object is still freed, as
    /// Linux does (the error comes back as `Ok(Some(_))`).
    pub(crate) fn debug_free(
        &self,
        cache: &KmemCache,
        obj: *mut u8,
    ) -> Result<Option<MmError>, MmError> {
        let (l, r) = self.rz_ptrs(cache, obj);
        let (lv, rv) = (self.rz_read(l), self.rz_read(r));
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
        if rv != RED_ACTIVE || !self.pad_is(cache, obj, RED_PAD_ACTIVE) {
            late = Some(self.slab_bug(cache, obj, "Right Redzone overwritten", rv));
        }
        self.rz_write(l, RED_INACTIVE);
        self.rz_write(r, RED_INACTIVE);
        self.pad_fill(cache, obj, RED_PAD_INACTIVE);
        self.poison(cache, obj);
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
