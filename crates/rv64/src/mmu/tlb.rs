//! The per-hart TLBs: a direct-mapped data TLB and a direct-mapped
//! instruction TLB, 4 KiB granules (superpages are cached page by page).
//!
//! Data entries hold separate tags for reads and writes so a hit is one
//! compare: the read tag is set only when the PTE allows reads, the write
//! tag only when it allows writes AND its D bit is already set (so the
//! first store to a clean page walks and sets D) and the physical page
//! holds no decoded code (so stores into code take the slow path, which
//! invalidates the decoded blocks: see `machine`); for such a page the
//! entry holds a code tag instead, which the slow path uses without a walk.
//! Invalid translations are never cached.
//!
//! ASIDs: entries are tagged with the address-space identifier of the
//! `satp` they were filled under, so writing `satp` flushes nothing (as the
//! privileged spec has it: software flushes with `sfence.vma`). The hart
//! implements [`ASID_BITS`] = 11 bits of satp's 16-bit ASID field
//! (ASIDLEN is implementation-defined; a write of all ones reads back
//! 0x7ff, which is how Linux's `asids_init` discovers it). A tag is one
//! 64-bit *key*, `vpn ^ asid_key(asid)`: the ASID in bits 52..63 (VPNs are
//! at most 52 bits) and a hash of it folded into the low bits, so the same
//! virtual page of two address spaces lands in different slots (two
//! processes of one program do not evict each other) and a hit is still
//! one compare. Entries of global PTEs (G bit) are keyed with the field
//! value [`GLOBAL`] (no ASID has it) and found by the miss path under any
//! ASID, which copies them into the current ASID's slot.

/// Number of entries in each TLB.
pub const TLB_SIZE: usize = 256;
/// A tag no key can have (its ASID field, 0xfff, is neither an ASID nor
/// [`GLOBAL`]).
pub const NO_TAG: u64 = u64::MAX;
/// The ASID bits this hart implements (satp.ASID is 16 bits wide).
pub const ASID_BITS: u32 = 11;
/// The ASIDs: 0..=ASID_MASK.
pub const ASID_MASK: u64 = (1 << ASID_BITS) - 1;
/// The key field value of a global entry.
pub const GLOBAL: u64 = 1 << ASID_BITS;
/// Ranges of at most this many pages are flushed by probing their slots
/// ([`Tlb::flush_asid`]); longer ones by a scan of every entry.
const PROBE_PAGES: u64 = 32;
/// The VPN bits of a key.
const VPN_MASK: u64 = (1 << 52) - 1;

/// The ASID of a satp value (the bits this hart implements).
#[inline]
pub fn satp_asid(satp: u64) -> u64 {
    (satp >> 44) & ASID_MASK
}

/// The low-bit hash of an ASID field value (0 for ASID 0, so Bare and
/// ASID 0 index the TLB by the plain VPN).
#[inline]
fn mix(field: u64) -> u64 {
    (field.wrapping_mul(0x9e37_79b9) >> 16) & (TLB_SIZE as u64 - 1)
}

/// What a VPN is XORed with to make the key of ASID field `field` (an
/// ASID, or [`GLOBAL`]).
#[inline]
pub fn asid_key(field: u64) -> u64 {
    (field << 52) | mix(field)
}

/// The ASID field of a key (an ASID, [`GLOBAL`], or 0xfff for NO_TAG).
#[inline]
pub fn key_field(key: u64) -> u64 {
    key >> 52
}

/// The VPN of a key (not of NO_TAG).
#[inline]
pub fn key_vpn(key: u64) -> u64 {
    (key & VPN_MASK) ^ mix(key_field(key))
}

/// One data-TLB entry.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct DEntry {
    /// Key (VPN and ASID) this entry translates for loads, or NO_TAG.
    pub rtag: u64,
    /// Key this entry translates for stores, or NO_TAG.
    pub wtag: u64,
    /// Key this entry translates for stores into a page that holds decoded
    /// code (the slow path uses it without a walk), or NO_TAG.
    pub ctag: u64,
    /// Host address of the page minus the virtual page address (wrapping).
    pub addend: usize,
}

/// One instruction-TLB entry.
#[derive(Clone, Copy, Debug)]
pub struct IEntry {
    /// Key (VPN and ASID), or NO_TAG.
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

/// The TLB slot of a key.
#[inline(always)]
pub fn slot(key: u64) -> usize {
    key as usize & (TLB_SIZE - 1)
}

impl DEntry {
    /// The entry's key (any of its tags), or NO_TAG.
    pub fn key(&self) -> u64 {
        if self.rtag != NO_TAG {
            self.rtag
        } else if self.wtag != NO_TAG {
            self.wtag
        } else {
            self.ctag
        }
    }

    fn clear(&mut self) {
        self.rtag = NO_TAG;
        self.wtag = NO_TAG;
        self.ctag = NO_TAG;
    }
}

impl Tlb {
    /// `sfence.vma` with rs2 = x0: drops all entries of every ASID, or
    /// those whose page overlaps `[start, end)` (global ones included).
    pub fn flush(&mut self, range: Option<(u64, u64)>) {
        self.flush_where(|_| true, range);
    }

    /// `sfence.vma` with rs2 = `asid`: drops the non-global entries of
    /// `asid`, all of them or those whose page overlaps `[start, end)`.
    pub fn flush_asid(&mut self, asid: u64, range: Option<(u64, u64)>) {
        let asid = asid & ASID_MASK;
        if let Some((start, end)) = range {
            let (s, e) = (start >> 12, end.saturating_add(0xfff) >> 12);
            if e.saturating_sub(s) <= PROBE_PAGES {
                // A few pages: each can sit in one slot only, so look
                // there instead of scanning both TLBs.
                for vpn in s..e {
                    self.drop_key(vpn ^ asid_key(asid));
                }
                return;
            }
        }
        self.flush_where(|field| field == asid, range);
    }

    /// Drops the entries of key `key` (both TLBs), wherever it is cached.
    fn drop_key(&mut self, key: u64) {
        let d = &mut self.d[slot(key)];
        if d.key() == key {
            d.clear();
        }
        let i = &mut self.i[slot(key)];
        if i.tag == key {
            i.tag = NO_TAG;
        }
    }

    /// The spurious-fault flush of one page (`flush_tlb_fix_spurious_fault`)
    /// for the address space of ASID `asid`: its entry for the page and
    /// the global one, the only two a lookup under `asid` can hit.
    pub fn flush_page(&mut self, asid: u64, va: u64) {
        let vpn = (va >> 12) & VPN_MASK;
        self.drop_key(vpn ^ asid_key(asid & ASID_MASK));
        self.drop_key(vpn ^ asid_key(GLOBAL));
    }

    fn flush_where(&mut self, field_hit: impl Fn(u64) -> bool, range: Option<(u64, u64)>) {
        let (s, e) = match range {
            Some((start, end)) => (start >> 12, end.saturating_add(0xfff) >> 12),
            None => (0, u64::MAX),
        };
        let hit = |k: u64| {
            k != NO_TAG
                && field_hit(key_field(k))
                && (range.is_none() || {
                    let v = key_vpn(k);
                    v >= s && v < e
                })
        };
        for d in self.d.iter_mut() {
            let k = d.key();
            if hit(k) {
                d.clear();
            }
        }
        for i in self.i.iter_mut() {
            if hit(i.tag) {
                i.tag = NO_TAG;
            }
        }
    }

    /// Drops the write tags of the entries that map the physical page at
    /// host address `host_page` (it now holds decoded code).
    pub fn drop_writes_to(&mut self, host_page: usize) {
        for e in self.d.iter_mut() {
            if e.wtag != NO_TAG
                && e.addend.wrapping_add((key_vpn(e.wtag) << 12) as usize) == host_page
            {
                e.ctag = e.wtag;
                e.wtag = NO_TAG;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_decode() {
        for field in [0, 1, 2, 7, ASID_MASK, GLOBAL] {
            for vpn in [0u64, 1, 0x10, 0xff, 0x7_ffff_ffff, (1 << 52) - 1] {
                let k = vpn ^ asid_key(field);
                assert_eq!(key_vpn(k), vpn);
                assert_eq!(key_field(k), field);
                assert_ne!(k, NO_TAG);
            }
        }
        // ASID 0 keys are plain VPNs
        assert_eq!(asid_key(0), 0);
        // the same page of two ASIDs goes to different slots
        assert_ne!(slot(0x10 ^ asid_key(1)), slot(0x10 ^ asid_key(2)));
    }

    /// A TLB holding pages `vpns` of each field in `fields`, as read-only
    /// data and as code.
    fn filled(fields: &[u64], vpns: &[u64]) -> Tlb {
        let mut t = Tlb::default();
        for &f in fields {
            for &v in vpns {
                let key = v ^ asid_key(f);
                t.d[slot(key)] = DEntry {
                    rtag: key,
                    wtag: NO_TAG,
                    ctag: NO_TAG,
                    addend: 0,
                };
                t.i[slot(key)] = IEntry {
                    tag: key,
                    pa_page: v << 12,
                };
            }
        }
        t
    }

    fn cached(t: &Tlb, field: u64, vpn: u64) -> (bool, bool) {
        let key = vpn ^ asid_key(field);
        (t.d[slot(key)].key() == key, t.i[slot(key)].tag == key)
    }

    #[test]
    fn probed_and_scanned_asid_flushes_agree() {
        // 3 pages then 40 (over PROBE_PAGES): both paths drop exactly the
        // ASID's pages in the range, nothing of another ASID or global.
        let vpns: Vec<u64> = (0x100..0x140).collect();
        for pages in [3u64, 40] {
            let mut t = filled(&[5, 7, GLOBAL], &vpns);
            // Entries that share a slot evicted each other: look at the
            // ones that were cached.
            let before = |f| -> Vec<bool> { vpns.iter().map(|&v| cached(&t, f, v).0).collect() };
            let was = [before(5), before(7), before(GLOBAL)];
            let n: Vec<usize> = was
                .iter()
                .map(|w| w.iter().filter(|&&c| c).count())
                .collect();
            assert!(n.iter().all(|&c| c >= 16), "{n:?}");
            let (s, e) = (0x110u64, 0x110 + pages);
            t.flush_asid(5, Some((s << 12, (e << 12) - 1)));
            for (j, &v) in vpns.iter().enumerate() {
                let inside = v >= s && v < e;
                for (f, w) in [(5, &was[0]), (7, &was[1]), (GLOBAL, &was[2])] {
                    if w[j] {
                        let kept = f != 5 || !inside;
                        assert_eq!(cached(&t, f, v), (kept, kept), "field {f} vpn {v:#x}");
                    }
                }
            }
        }
    }

    #[test]
    fn page_flush_drops_the_asid_and_global_entries() {
        let mut t = filled(&[5, 9, GLOBAL], &[0x200, 0x201]);
        t.flush_page(5, 0x200_123);
        assert_eq!(cached(&t, 5, 0x200), (false, false));
        assert_eq!(cached(&t, GLOBAL, 0x200), (false, false));
        assert_eq!(cached(&t, 9, 0x200), (true, true));
        assert_eq!(cached(&t, 5, 0x201), (true, true));
    }
}
