//! The A extension: LR/SC and the AMOs, done with host atomics on the
//! guest's RAM so they are atomic against other harts on other threads.
//!
//! LR/SC: a hart's reservation (an 8-byte granule) lives in the
//! [`Machine`](crate::Machine); a store or AMO by another hart to that
//! granule breaks it, and SC additionally does its store with a
//! compare-exchange against the value LR read, so it also fails if memory
//! no longer holds that value. Residual difference from hardware: a store
//! by another hart that lands between SC's reservation check and its
//! compare-exchange AND writes back the very value LR read is not seen (the
//! ABA case); on hardware it would make SC fail. The values are the same,
//! so no algorithm built on LR/SC can observe the difference except through
//! a lost progress guarantee that does not exist anyway. Every trap out of
//! `run()` (but not a used-up budget) drops the reservation, as Linux's
//! exception return does with its dummy `sc`.

use super::Cpu;
use crate::decode::Inst;
use crate::machine::RESV_GRANULE;
use crate::{Access, Exit};
use core::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering::SeqCst};

const LR: u8 = 0b00010;
const SC: u8 = 0b00011;

impl Cpu {
    /// Executes an LR/SC/AMO.
    pub(crate) fn exec_amo(&mut self, i: &Inst) -> Result<(), Exit> {
        let va = self.x[i.rs1 as usize];
        let src = self.x[i.rs2 as usize];
        let word = i.rm == 2;
        let size = if word { 4 } else { 8 };
        if va & (size - 1) != 0 {
            let access = if i.sub == LR {
                Access::Load
            } else {
                Access::Store
            };
            return Err(Exit::Misaligned { addr: va, access });
        }
        let access = if i.sub == LR {
            Access::Load
        } else {
            Access::Store
        };
        let p = self.translate(va, access)?;
        let pa = p as u64 - self.ram_base;
        // `p` comes from a translation to a RAM page, is `size`-aligned
        // (checked above; RAM's base is 8-aligned) and the `size` bytes stay
        // inside the page: the atomics below are sound for that width only.
        let ext = |v: u64| {
            if word {
                v as u32 as i32 as i64 as u64
            } else {
                v
            }
        };
        let old = match i.sub {
            LR => {
                let v = if word {
                    // SAFETY: 4-aligned, 4 bytes inside a RAM page (above).
                    unsafe { AtomicU32::from_ptr(p.cast()) }.load(SeqCst) as u64
                } else {
                    // SAFETY: 8-aligned, 8 bytes inside a RAM page (above).
                    unsafe { AtomicU64::from_ptr(p.cast()) }.load(SeqCst)
                };
                self.machine.reserve(self.id, pa);
                self.lr = Some((pa, v, word));
                ext(v)
            }
            SC => {
                let key = (pa & !(RESV_GRANULE - 1)) | 1;
                let held = self.machine.unreserve(self.id);
                let lr = self.lr.take();
                let ok = held == key
                    && match lr {
                        Some((lpa, lv, lw)) if lpa == pa && lw == word => {
                            if word {
                                // SAFETY: 4-aligned, inside a RAM page (above).
                                let a = unsafe { AtomicU32::from_ptr(p.cast()) };
                                a.compare_exchange(lv as u32, src as u32, SeqCst, SeqCst)
                                    .is_ok()
                            } else {
                                // SAFETY: 8-aligned, inside a RAM page (above).
                                let a = unsafe { AtomicU64::from_ptr(p.cast()) };
                                a.compare_exchange(lv, src, SeqCst, SeqCst).is_ok()
                            }
                        }
                        _ => false,
                    };
                if ok {
                    self.machine.store_hits(self.id, pa);
                    self.stored_to(pa, size);
                }
                (!ok) as u64
            }
            f => {
                // SAFETY: `size`-aligned, inside a RAM page (above).
                let v = unsafe {
                    if word {
                        amo32(p, f, src as u32) as u64
                    } else {
                        amo64(p, f, src)
                    }
                };
                self.machine.store_hits(self.id, pa);
                self.stored_to(pa, size);
                ext(v)
            }
        };
        self.x[i.rd as usize] = old;
        Ok(())
    }
}

/// Does AMO `f` (funct5) on the 32-bit word at `p`; returns the old value.
///
/// # Safety
/// `p` must be 4-aligned with 4 bytes of live RAM behind it.
unsafe fn amo32(p: *mut u8, f: u8, v: u32) -> u32 {
    // SAFETY: the caller's contract.
    let (u, s) = unsafe { (AtomicU32::from_ptr(p.cast()), AtomicI32::from_ptr(p.cast())) };
    match f {
        0b00001 => u.swap(v, SeqCst),
        0b00000 => u.fetch_add(v, SeqCst),
        0b00100 => u.fetch_xor(v, SeqCst),
        0b01100 => u.fetch_and(v, SeqCst),
        0b01000 => u.fetch_or(v, SeqCst),
        0b10000 => s.fetch_min(v as i32, SeqCst) as u32,
        0b10100 => s.fetch_max(v as i32, SeqCst) as u32,
        0b11000 => u.fetch_min(v, SeqCst),
        _ => u.fetch_max(v, SeqCst),
    }
}

/// Does AMO `f` (funct5) on the 64-bit word at `p`; returns the old value.
///
/// # Safety
/// `p` must be 8-aligned with 8 bytes of live RAM behind it.
unsafe fn amo64(p: *mut u8, f: u8, v: u64) -> u64 {
    // SAFETY: the caller's contract.
    let (u, s) = unsafe { (AtomicU64::from_ptr(p.cast()), AtomicI64::from_ptr(p.cast())) };
    match f {
        0b00001 => u.swap(v, SeqCst),
        0b00000 => u.fetch_add(v, SeqCst),
        0b00100 => u.fetch_xor(v, SeqCst),
        0b01100 => u.fetch_and(v, SeqCst),
        0b01000 => u.fetch_or(v, SeqCst),
        0b10000 => s.fetch_min(v as i64, SeqCst) as u64,
        0b10100 => s.fetch_max(v as i64, SeqCst) as u64,
        0b11000 => u.fetch_min(v, SeqCst),
        _ => u.fetch_max(v, SeqCst),
    }
}
