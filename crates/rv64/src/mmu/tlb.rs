//! The per-hart TLBs: a direct-mapped data TLB and a direct-mapped
//! instruction TLB, 4 KiB granules (superpages are cached page by page).
//!
//! Data entries hold separate tags for reads and writes so a hit is one
//! compare: the read tag is set only when the PTE allows reads, the write
//! tag only when it allows writes AND its D bit is already set (so the
//! first store to a clean page walks and sets D) and the physical page
//! holds no decoded code (so stores into code take the slow path, which
//! invalidates the decoded blocks: see `machine`); for such a page the
//! entry holds a code tag instead, which the slow path uses without a walk. Invalid translations are
//! never cached. Entries are not tagged with an ASID: a satp change
//! flushes everything, like an implementation with ASIDLEN = 0.

/// Number of entries in each TLB.
pub const TLB_SIZE: usize = 256;
/// A tag no virtual page number can have (VPNs are at most 52 bits).
pub const NO_TAG: u64 = u64::MAX;

/// One data-TLB entry.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct DEntry {
    /// VPN this entry translates for loads, or NO_TAG.
    pub rtag: u64,
    /// VPN this entry translates for stores, or NO_TAG.
    pub wtag: u64,
    /// VPN this entry translates for stores into a page that holds decoded
    /// code (the slow path uses it without a walk), or NO_TAG.
    pub ctag: u64,
    /// Host address of the page minus the virtual page address (wrapping).
    pub addend: usize,
}

/// One instruction-TLB entry.
#[derive(Clone, Copy, Debug)]
pub struct IEntry {
    /// VPN, or NO_TAG.
    pub tag: u64,
    /// Physical page address.
    pub pa_page: u64,
}

/// A hart's TLBs.
pub struct Tlb {
    /// Data entries (inline, so a lookup is one address computation).
    pub d: [DEntry; TLB_SIZE],
    /// Instruction entries.
    pub i: [IEntry; TLB_SIZE],
}

impl Default for Tlb {
    fn default() -> Self {
        let d = DEntry {
            rtag: NO_TAG,
            wtag: NO_TAG,
            ctag: NO_TAG,
            addend: 0,
        };
        let i = IEntry {
            tag: NO_TAG,
            pa_page: 0,
        };
        Tlb {
            d: [d; TLB_SIZE],
            i: [i; TLB_SIZE],
        }
    }
}

/// The TLB slot of a VPN.
#[inline(always)]
pub fn slot(vpn: u64) -> usize {
    vpn as usize & (TLB_SIZE - 1)
}

impl Tlb {
    /// Drops all entries, or those whose page overlaps `[start, end)`.
    pub fn flush(&mut self, range: Option<(u64, u64)>) {
        match range {
            None => {
                for e in self.d.iter_mut() {
                    e.rtag = NO_TAG;
                    e.wtag = NO_TAG;
                    e.ctag = NO_TAG;
                }
                for e in self.i.iter_mut() {
                    e.tag = NO_TAG;
                }
            }
            Some((start, end)) => {
                let (s, e) = (start >> 12, end.saturating_add(0xfff) >> 12);
                let hit = |t: u64| t != NO_TAG && t >= s && t < e;
                for d in self.d.iter_mut() {
                    if hit(d.rtag) || hit(d.wtag) || hit(d.ctag) {
                        d.rtag = NO_TAG;
                        d.wtag = NO_TAG;
                        d.ctag = NO_TAG;
                    }
                }
                for i in self.i.iter_mut() {
                    if hit(i.tag) {
                        i.tag = NO_TAG;
                    }
                }
            }
        }
    }

    /// Drops the write tags of the entries that map the physical page at
    /// host address `host_page` (it now holds decoded code).
    pub fn drop_writes_to(&mut self, host_page: usize) {
        for e in self.d.iter_mut() {
            if e.wtag != NO_TAG && e.addend.wrapping_add((e.wtag << 12) as usize) == host_page {
                e.ctag = e.wtag;
                e.wtag = NO_TAG;
            }
        }
    }
}
