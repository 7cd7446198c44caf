//! The Sv48 page-table walk, as the privileged spec's "virtual address
//! translation process" describes it, done by "hardware" on a TLB miss over
//! the page tables in ferrite's RAM.
//!
//! A/D bits are kept as hardware with Svadu does: A is set on any access
//! and D on a store, with a compare-and-swap on the PTE in RAM; if the PTE
//! changed under us the walk starts over. satp MODE 0 (Bare) translates
//! identically; any other mode but Sv48 faults every access.

use core::sync::atomic::Ordering;

use super::*;
use crate::ram::Ram;
use crate::Access;

/// A successful translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// The physical address of the 4 KiB page holding the address.
    pub pa_page: u64,
    /// The leaf PTE after A/D were set (for Bare: R|W|X|A|D).
    pub pte: u64,
}

/// A failed translation (the hardware raises a page fault).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault;

const PPN_MASK: u64 = (1 << 44) - 1;

/// Whether `va` is canonical for Sv48 (bits 63..47 all equal).
#[inline]
pub fn canonical(va: u64) -> bool {
    ((va as i64) << 16 >> 16) as u64 == va
}

/// Translates `va` for `access` from U-mode under `satp`. Err(Fault) is a page
/// fault.
pub fn walk(ram: &Ram, satp: u64, va: u64, access: Access) -> Result<Leaf, Fault> {
    match satp >> 60 {
        0 => {
            let pa_page = va & !0xfff;
            if !ram.contains(pa_page, 4096) {
                return Err(Fault);
            }
            return Ok(Leaf {
                pa_page,
                pte: PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D,
            });
        }
        SATP_MODE_SV48 => {}
        _ => return Err(Fault),
    }
    if !canonical(va) {
        return Err(Fault);
    }
    'restart: loop {
        let mut table = (satp & PPN_MASK) << 12;
        for level in (0..4u32).rev() {
            let idx = (va >> (12 + 9 * level)) & 511;
            let slot = ram.u64_at(table + idx * 8).ok_or(Fault)?;
            let pte = slot.load(Ordering::Acquire);
            if pte & PTE_V == 0 || (pte & PTE_R == 0 && pte & PTE_W != 0) || pte >> 54 != 0 {
                return Err(Fault);
            }
            let ppn = (pte >> 10) & PPN_MASK;
            if pte & (PTE_R | PTE_X) == 0 {
                // pointer to the next level
                if level == 0 {
                    return Err(Fault);
                }
                table = ppn << 12;
                continue;
            }
            // leaf
            if pte & PTE_U == 0 {
                return Err(Fault);
            }
            let ok = match access {
                Access::Load => pte & PTE_R != 0,
                Access::Store => pte & PTE_W != 0,
                Access::Fetch => pte & PTE_X != 0,
            };
            if !ok {
                return Err(Fault);
            }
            let span_pages = 1u64 << (9 * level);
            if ppn & (span_pages - 1) != 0 {
                return Err(Fault); // misaligned superpage
            }
            let want = PTE_A | if access == Access::Store { PTE_D } else { 0 };
            let mut pte = pte;
            if pte & want != want {
                let new = pte | want;
                if slot
                    .compare_exchange(pte, new, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    continue 'restart;
                }
                pte = new;
            }
            let page_in_span = (va >> 12) & (span_pages - 1);
            let pa_page = (ppn + page_in_span) << 12;
            if !ram.contains(pa_page, 4096) {
                return Err(Fault);
            }
            return Ok(Leaf { pa_page, pte });
        }
        return Err(Fault);
    }
}
