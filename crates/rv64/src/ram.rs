//! Physical memory: the host mapping that stands in for the DRAM of qemu's
//! `virt` board. Physical address 0 is the first byte of the region (real
//! boards start DRAM at 0x8000_0000; ferrite's kernel uses offsets).
//!
//! Guest accesses go through atomics (relaxed for plain loads and stores) so
//! that harts racing on the same bytes from several host threads stay
//! defined behaviour, as they are on hardware.

use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// A host pointer to the machine's RAM and its size.
#[derive(Clone, Copy, Debug)]
pub struct Ram {
    base: *mut u8,
    size: usize,
}

// SAFETY: Ram is a pointer + length to memory that `Ram::new`'s caller
// guarantees stays mapped while any copy lives; every access through it is
// atomic, so sharing between threads is sound.
unsafe impl Send for Ram {}
// SAFETY: as above; `&Ram` only hands out atomic accesses.
unsafe impl Sync for Ram {}

impl Ram {
    /// Wraps `bytes` bytes at `base` as RAM.
    ///
    /// # Safety
    /// The region must stay mapped, readable and writable while any copy of
    /// the returned `Ram` lives, and `base` must be 8-byte aligned (so that
    /// aligned guest accesses are aligned host atomics). The region may be
    /// accessed concurrently only through atomics.
    pub unsafe fn new(base: *mut u8, bytes: usize) -> Ram {
        debug_assert!(base as usize % 8 == 0, "Ram base must be 8-byte aligned");
        Ram { base, size: bytes }
    }

    /// The host address of physical address 0.
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// The size in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether `[pa, pa+len)` lies inside RAM.
    #[inline]
    pub fn contains(&self, pa: u64, len: u64) -> bool {
        pa.checked_add(len)
            .is_some_and(|end| end <= self.size as u64)
    }

    /// The naturally aligned 64-bit word at `pa`, or None if `pa` is outside
    /// RAM or misaligned.
    #[inline]
    pub fn u64_at(&self, pa: u64) -> Option<&AtomicU64> {
        if pa & 7 != 0 || !self.contains(pa, 8) {
            return None;
        }
        // SAFETY: in bounds (checked), aligned (base is 8-aligned by
        // `new`'s contract and pa is 8-aligned), mapped while self lives.
        Some(unsafe { AtomicU64::from_ptr(self.base.add(pa as usize).cast()) })
    }

    /// Reads `N` (1, 2, 4, 8) bytes at `pa`, little-endian; None if outside
    /// RAM. Aligned reads are single atomic loads, others bytewise.
    pub fn read(&self, pa: u64, n: usize) -> Option<u64> {
        if !self.contains(pa, n as u64) {
            return None;
        }
        // SAFETY: [pa, pa+n) is inside the region (checked above).
        Some(unsafe { load_host(self.base.add(pa as usize), n) })
    }

    /// Writes the low `n` (1, 2, 4, 8) bytes of `v` at `pa`; false if outside
    /// RAM.
    pub fn write(&self, pa: u64, n: usize, v: u64) -> bool {
        if !self.contains(pa, n as u64) {
            return false;
        }
        // SAFETY: [pa, pa+n) is inside the region (checked above).
        unsafe { store_host(self.base.add(pa as usize), n, v) };
        true
    }
}

/// Loads `n` bytes at host address `p` (little-endian).
///
/// # Safety
/// `[p, p+n)` must lie in a live RAM region.
#[inline(always)]
pub(crate) unsafe fn load_host(p: *mut u8, n: usize) -> u64 {
    // SAFETY: (all arms) the caller guarantees the bytes are mapped; the
    // aligned arms check alignment before forming the atomic reference.
    unsafe {
        match n {
            1 => AtomicU8::from_ptr(p).load(Ordering::Relaxed) as u64,
            2 if p as usize & 1 == 0 => {
                AtomicU16::from_ptr(p.cast()).load(Ordering::Relaxed) as u64
            }
            4 if p as usize & 3 == 0 => {
                AtomicU32::from_ptr(p.cast()).load(Ordering::Relaxed) as u64
            }
            8 if p as usize & 7 == 0 => AtomicU64::from_ptr(p.cast()).load(Ordering::Relaxed),
            _ => {
                let mut v = 0u64;
                for i in 0..n {
                    v |= (AtomicU8::from_ptr(p.add(i)).load(Ordering::Relaxed) as u64) << (8 * i);
                }
                v
            }
        }
    }
}

/// Stores the low `n` bytes of `v` at host address `p` (little-endian).
///
/// # Safety
/// `[p, p+n)` must lie in a live RAM region.
#[inline(always)]
pub(crate) unsafe fn store_host(p: *mut u8, n: usize, v: u64) {
    // SAFETY: (all arms) as in `load_host`.
    unsafe {
        match n {
            1 => AtomicU8::from_ptr(p).store(v as u8, Ordering::Relaxed),
            2 if p as usize & 1 == 0 => {
                AtomicU16::from_ptr(p.cast()).store(v as u16, Ordering::Relaxed)
            }
            4 if p as usize & 3 == 0 => {
                AtomicU32::from_ptr(p.cast()).store(v as u32, Ordering::Relaxed)
            }
            8 if p as usize & 7 == 0 => AtomicU64::from_ptr(p.cast()).store(v, Ordering::Relaxed),
            _ => {
                for i in 0..n {
                    AtomicU8::from_ptr(p.add(i)).store((v >> (8 * i)) as u8, Ordering::Relaxed);
                }
            }
        }
    }
}
