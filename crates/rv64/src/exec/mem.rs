//! Guest loads and stores through the data TLB: the hit path is a tag
//! compare plus an add to a host pointer; misses walk the page tables
//! (`mmu::walk`) and refill. Misaligned accesses are done bytewise (Linux
//! emulates them for user space, so they must simply work); one that
//! crosses a page translates both pages before touching either, and faults
//! with the address of the first faulting byte.
//!
//! A page holding decoded code never gets a write tag, so every store into
//! it comes here to the slow path, which tells the machine
//! ([`Machine::code_written`](crate::Machine)) and, when this hart decoded
//! from the page, records the page for the hart to drop its blocks
//! (`Cpu::icache_op`) at the end of the running block.

use super::{Cpu, ICACHE_ALL, ICACHE_NONE};
use crate::mmu::tlb::{asid_key, key_vpn, slot, DEntry, IEntry, GLOBAL, NO_TAG};
use crate::mmu::{walk, PTE_A, PTE_D, PTE_G, PTE_R, PTE_W, PTE_X};
use crate::ram::{load_host, store_host};
use crate::{Access, Exit};
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// Loads `N` bytes at an `N`-aligned host address.
///
/// # Safety
/// `p` must be `N`-aligned and point into live RAM with `N` bytes left.
#[inline(always)]
unsafe fn load_aligned<const N: usize>(p: *mut u8) -> u64 {
    // SAFETY: the caller guarantees alignment and bounds.
    unsafe {
        match N {
            1 => AtomicU8::from_ptr(p).load(Ordering::Relaxed) as u64,
            2 => AtomicU16::from_ptr(p.cast()).load(Ordering::Relaxed) as u64,
            4 => AtomicU32::from_ptr(p.cast()).load(Ordering::Relaxed) as u64,
            _ => AtomicU64::from_ptr(p.cast()).load(Ordering::Relaxed),
        }
    }
}

/// Stores `N` bytes at an `N`-aligned host address.
///
/// # Safety
/// As for [`load_aligned`].
#[inline(always)]
unsafe fn store_aligned<const N: usize>(p: *mut u8, v: u64) {
    // SAFETY: the caller guarantees alignment and bounds.
    unsafe {
        match N {
            1 => AtomicU8::from_ptr(p).store(v as u8, Ordering::Relaxed),
            2 => AtomicU16::from_ptr(p.cast()).store(v as u16, Ordering::Relaxed),
            4 => AtomicU32::from_ptr(p.cast()).store(v as u32, Ordering::Relaxed),
            _ => AtomicU64::from_ptr(p.cast()).store(v, Ordering::Relaxed),
        }
    }
}

impl Cpu {
    /// The TLB-hit path of an `N`-byte load: None on a miss or misalignment.
    #[inline(always)]
    pub(crate) fn load_fast<const N: usize>(&self, va: u64) -> Option<u64> {
        let key = (va >> 12) ^ self.asid_key;
        let e = &self.tlb.d[slot(key)];
        if e.rtag == key && va & (N as u64 - 1) == 0 {
            let p = e.addend.wrapping_add(va as usize) as *mut u8;
            // SAFETY: as in `load`.
            return Some(unsafe { load_aligned::<N>(p) });
        }
        None
    }

    /// The TLB-hit path of an `N`-byte store: false (nothing stored) on a
    /// miss or misalignment.
    #[inline(always)]
    pub(crate) fn store_fast<const N: usize>(&self, va: u64, v: u64) -> bool {
        let key = (va >> 12) ^ self.asid_key;
        let e = &self.tlb.d[slot(key)];
        if e.wtag == key && va & (N as u64 - 1) == 0 {
            let p = e.addend.wrapping_add(va as usize) as *mut u8;
            // SAFETY: as in `load`, for the write tag.
            unsafe { store_aligned::<N>(p, v) };
            self.machine.store_hits(self.id, p as u64 - self.ram_base);
            return true;
        }
        false
    }

    /// Loads `N` bytes at `va` (zero-extended).
    #[inline(always)]
    pub(crate) fn load<const N: usize>(&mut self, va: u64) -> Result<u64, Exit> {
        let key = (va >> 12) ^ self.asid_key;
        let e = &self.tlb.d[slot(key)];
        if e.rtag == key && va & (N as u64 - 1) == 0 {
            let p = e.addend.wrapping_add(va as usize) as *mut u8;
            // SAFETY: a read tag is only set for a page inside RAM whose
            // host address is `addend + page`; the access is aligned so it
            // stays inside that page.
            return Ok(unsafe { load_aligned::<N>(p) });
        }
        self.load_slow(va, N)
    }

    /// Stores the low `N` bytes of `v` at `va`.
    #[inline(always)]
    pub(crate) fn store<const N: usize>(&mut self, va: u64, v: u64) -> Result<(), Exit> {
        let key = (va >> 12) ^ self.asid_key;
        let e = &self.tlb.d[slot(key)];
        if e.wtag == key && va & (N as u64 - 1) == 0 {
            let p = e.addend.wrapping_add(va as usize) as *mut u8;
            // SAFETY: as in `load`, for the write tag.
            unsafe { store_aligned::<N>(p, v) };
            self.machine.store_hits(self.id, p as u64 - self.ram_base);
            return Ok(());
        }
        self.store_slow(va, N, v)
    }

    #[cold]
    #[inline(never)]
    fn load_slow(&mut self, va: u64, n: usize) -> Result<u64, Exit> {
        let last = va.wrapping_add(n as u64 - 1);
        let p1 = self.translate(va, Access::Load)?;
        if last >> 12 == va >> 12 {
            // SAFETY: translate returned a host pointer into a RAM page and
            // the n bytes lie in the same page.
            return Ok(unsafe { load_host(p1, n) });
        }
        let p2 = self.translate(last & !0xfff, Access::Load)?;
        let first = (0x1000 - (va & 0xfff)) as usize;
        let mut v = 0u64;
        for i in 0..n {
            // SAFETY: byte i is in page 1 (first bytes) or page 2, both
            // translated into RAM.
            let b = unsafe {
                if i < first {
                    load_host(p1.add(i), 1)
                } else {
                    load_host(p2.add(i - first), 1)
                }
            };
            v |= b << (8 * i);
        }
        Ok(v)
    }

    #[cold]
    #[inline(never)]
    fn store_slow(&mut self, va: u64, n: usize, v: u64) -> Result<(), Exit> {
        let last = va.wrapping_add(n as u64 - 1);
        let p1 = self.translate(va, Access::Store)?;
        if last >> 12 == va >> 12 {
            // SAFETY: as in load_slow.
            unsafe { store_host(p1, n, v) };
            self.machine.store_hits(self.id, p1 as u64 - self.ram_base);
            self.machine
                .store_hits(self.id, p1 as u64 - self.ram_base + n as u64 - 1);
            self.stored_to(p1 as u64 - self.ram_base, n as u64);
            return Ok(());
        }
        let p2 = self.translate(last & !0xfff, Access::Store)?;
        let first = (0x1000 - (va & 0xfff)) as usize;
        for i in 0..n {
            let b = v >> (8 * i);
            // SAFETY: as in load_slow.
            unsafe {
                if i < first {
                    store_host(p1.add(i), 1, b)
                } else {
                    store_host(p2.add(i - first), 1, b)
                }
            }
        }
        self.machine.store_hits(self.id, p1 as u64 - self.ram_base);
        self.machine.store_hits(self.id, p2 as u64 - self.ram_base);
        self.stored_to(p1 as u64 - self.ram_base, first as u64);
        self.stored_to(p2 as u64 - self.ram_base, (n - first) as u64);
        Ok(())
    }

    /// A store (slow path, SC or AMO) wrote `len` bytes at physical `pa`
    /// (inside one page): if they may hold decoded code, invalidate it (see
    /// the module comment).
    #[inline]
    pub(crate) fn stored_to(&mut self, pa: u64, len: u64) {
        if self.machine.code_harts(pa) != 0 && self.machine.code_written(Some(self.id), pa, len) {
            let page = pa >> 12;
            if self.icache_op == ICACHE_NONE || self.icache_op == page {
                self.icache_op = page;
            } else {
                // A second page in one block: drop everything.
                self.icache_op = ICACHE_ALL;
            }
        }
    }

    /// Translates `va` for a data `access`, filling the TLB; returns the
    /// host address of the byte.
    pub(crate) fn translate(&mut self, va: u64, access: Access) -> Result<*mut u8, Exit> {
        let vpn = va >> 12;
        let key = vpn ^ self.asid_key;
        let hit = |e: &DEntry, key: u64| {
            if access == Access::Store {
                e.wtag == key || e.ctag == key
            } else {
                e.rtag == key
            }
        };
        let e = &self.tlb.d[slot(key)];
        if hit(e, key) {
            return Ok(e.addend.wrapping_add(va as usize) as *mut u8);
        }
        // A global entry (any ASID): copy it into this ASID's slot.
        let gkey = vpn ^ asid_key(GLOBAL);
        let g = self.tlb.d[slot(gkey)];
        if g.key() != NO_TAG && key_vpn(g.key()) == vpn && hit(&g, gkey) {
            let rekey = |t: u64| if t == NO_TAG { NO_TAG } else { key };
            self.tlb.d[slot(key)] = DEntry {
                rtag: rekey(g.rtag),
                wtag: rekey(g.wtag),
                ctag: rekey(g.ctag),
                addend: g.addend,
            };
            return Ok(g.addend.wrapping_add(va as usize) as *mut u8);
        }
        let leaf = walk(&self.ram, self.satp, va, access)
            .map_err(|_| Exit::PageFault { addr: va, access })?;
        let pte = leaf.pte;
        let addend = (self.ram_base as usize)
            .wrapping_add(leaf.pa_page as usize)
            .wrapping_sub((vpn << 12) as usize);
        let readable = pte & (PTE_R | PTE_A) == PTE_R | PTE_A;
        let writable = pte & (PTE_W | PTE_A | PTE_D) == PTE_W | PTE_A | PTE_D;
        let code = writable && self.machine.code_harts(leaf.pa_page) != 0;
        let fill = |key: u64| DEntry {
            rtag: if readable { key } else { NO_TAG },
            wtag: if writable && !code { key } else { NO_TAG },
            ctag: if code { key } else { NO_TAG },
            addend,
        };
        if pte & PTE_G != 0 && self.satp >> 60 != 0 {
            self.tlb.d[slot(gkey)] = fill(gkey);
        }
        self.tlb.d[slot(key)] = fill(key);
        Ok(addend.wrapping_add(va as usize) as *mut u8)
    }

    /// Translates the fetch address `va` to a physical address through the
    /// instruction TLB.
    #[inline]
    pub(crate) fn fetch_pa(&mut self, va: u64) -> Result<u64, Exit> {
        let vpn = va >> 12;
        let key = vpn ^ self.asid_key;
        let e = &self.tlb.i[slot(key)];
        if e.tag == key {
            return Ok(e.pa_page | (va & 0xfff));
        }
        self.fetch_miss(va)
    }

    #[cold]
    #[inline(never)]
    fn fetch_miss(&mut self, va: u64) -> Result<u64, Exit> {
        let vpn = va >> 12;
        let key = vpn ^ self.asid_key;
        let gkey = vpn ^ asid_key(GLOBAL);
        let g = self.tlb.i[slot(gkey)];
        if g.tag == gkey {
            self.tlb.i[slot(key)] = IEntry {
                tag: key,
                pa_page: g.pa_page,
            };
            return Ok(g.pa_page | (va & 0xfff));
        }
        let leaf = walk(&self.ram, self.satp, va, Access::Fetch).map_err(|_| Exit::PageFault {
            addr: va,
            access: Access::Fetch,
        })?;
        let ok = leaf.pte & (PTE_X | PTE_A) == PTE_X | PTE_A;
        if ok && leaf.pte & PTE_G != 0 && self.satp >> 60 != 0 {
            self.tlb.i[slot(gkey)] = IEntry {
                tag: gkey,
                pa_page: leaf.pa_page,
            };
        }
        self.tlb.i[slot(key)] = IEntry {
            tag: if ok { key } else { NO_TAG },
            pa_page: leaf.pa_page,
        };
        Ok(leaf.pa_page | (va & 0xfff))
    }
}
