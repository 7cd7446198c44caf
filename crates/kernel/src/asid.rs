//! Address-space identifiers: Linux's arch/riscv/mm/context.c (the ASID
//! allocator with versions, `set_mm_asid`, `__new_context`,
//! `__flush_context`).
//!
//! Every mm gets an ASID the first time a hart loads it; the hart writes
//! it into satp with the page table, and its TLB keeps the entries of
//! every ASID (see rv64's `mmu::tlb`), so switching between two processes
//! flushes nothing. An mm's context id (`mm.context_id`, Linux's
//! `mm->context.id`) is `version | asid` (the version in units of
//! `1 << 16`, so [`ctx_asid`] needs no allocator): ASIDs are handed out from a
//! bitmap and never given back one by one; when the bitmap is full, the
//! version moves on (a *rollover*), the bitmap is cleared but for the
//! ASIDs the harts are running right now (kept, as *reserved*, so a
//! running mm keeps its ASID), and every hart flushes its whole TLB before
//! it next loads an mm (`context_tlb_flush_pending`). An mm whose context
//! id is of an old version gets its old ASID again if it is still free,
//! else a new one. So an ASID is reused only after every hart has flushed
//! its TLB since its last user ran.
//!
//! A hart's switch is lock-free when the mm's version is current (an
//! atomic exchange on the hart's `active` context that a concurrent
//! rollover's exchange to 0 makes fail); otherwise it takes the
//! allocator's lock.
//!
//! Shootdowns: an mm's translations may be cached on every hart in its
//! `mm_cpumask` (never cleared: a hart that switched away keeps them under
//! the mm's ASID), and a flush for the mm is a flush of its ASID there
//! ([`AsidAllocator::mm_asid`], `rv64::Machine::flush_tlb_asid`).
//!
//! Where ferrite differs: like Linux, the allocator is used only when
//! there are more than twice as many ASIDs as harts; otherwise every
//! switch flushes the TLB (ASID 0). The ASID width is the hart's
//! (`Hart::asid_bits`, 11 bits) or less when [`crate::Config::asid_bits`]
//! says so (tests make rollovers happen with a few processes).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Mutex;

/// The ASID bits of a context id (the version is above them, counted in
/// units of `1 << 16` whatever the width in use, so an ASID can be read
/// from a context id without the allocator: [`ctx_asid`]).
const CTX_ASID_MASK: u64 = 0xffff;

/// The ASID of a context id (`cntx2asid`); 0 for an mm that never ran.
pub fn ctx_asid(ctx: u64) -> u64 {
    ctx & CTX_ASID_MASK
}

/// The ASID allocator (`context_asid_map` and its companions).
pub struct AsidAllocator {
    /// `num_asids - 1`.
    mask: u64,
    /// Whether ASIDs are used at all (`use_asid_allocator`).
    enabled: bool,
    /// `current_version`: a multiple of `num_asids`, never 0.
    version: AtomicU64,
    /// Per hart: the context it runs (`active_context`), 0 after a
    /// rollover until its next switch.
    active: Box<[AtomicU64]>,
    inner: Mutex<Inner>,
    /// Rollovers so far (for tests and /proc-style statistics).
    rollovers: AtomicU64,
}

struct Inner {
    /// One bit per ASID of the current version.
    map: Vec<u64>,
    /// Per hart: the context kept across a rollover (`reserved_context`).
    reserved: Vec<u64>,
    /// Per hart: flush the whole TLB before loading an mm
    /// (`context_tlb_flush_pending`).
    flush_pending: Vec<bool>,
}

/// What [`AsidAllocator::switch_mm`] tells the hart to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Switch {
    /// The ASID for satp.
    pub asid: u64,
    /// Flush the hart's whole TLB (every ASID) after writing satp.
    pub flush_all: bool,
}

impl AsidAllocator {
    /// An allocator of `bits`-bit ASIDs for `nr_harts` harts.
    pub fn new(bits: u32, nr_harts: usize) -> AsidAllocator {
        let bits = bits.min(16);
        let num = 1u64 << bits;
        let nr = nr_harts.max(1);
        AsidAllocator {
            mask: num - 1,
            enabled: num > 2 * nr as u64,
            version: AtomicU64::new(CTX_ASID_MASK + 1),
            active: (0..nr).map(|_| AtomicU64::new(0)).collect(),
            inner: Mutex::new(Inner {
                // ASID 0 taken: see `flush_context`.
                map: {
                    let mut m = vec![0; num.div_ceil(64) as usize];
                    m[0] = 1;
                    m
                },
                reserved: vec![0; nr],
                flush_pending: vec![false; nr],
            }),
            rollovers: AtomicU64::new(0),
        }
    }

    /// Whether ASIDs are in use (else every switch flushes).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// How many rollovers happened.
    pub fn rollovers(&self) -> u64 {
        self.rollovers.load(Relaxed)
    }

    /// The ASID of a context id (`cntx2asid`).
    pub fn asid_of(&self, cntx: u64) -> u64 {
        ctx_asid(cntx)
    }

    /// The ASID to flush for an mm whose context id is `ctx` (its current
    /// or last ASID; 0 if it never ran, when no hart caches it).
    pub fn mm_asid(&self, ctx: &AtomicU64) -> u64 {
        if !self.enabled {
            return 0;
        }
        self.asid_of(ctx.load(SeqCst))
    }

    /// `set_mm_asid` for hart `hart` loading the mm whose context id is
    /// `ctx`.
    pub fn switch_mm(&self, hart: usize, ctx: &AtomicU64) -> Switch {
        if !self.enabled {
            return Switch {
                asid: 0,
                flush_all: true,
            };
        }
        let Some(active) = self.active.get(hart) else {
            return Switch {
                asid: 0,
                flush_all: true,
            };
        };
        let cntx = ctx.load(SeqCst);
        let old = active.load(Relaxed);
        // The fast path: the mm's version is current and no rollover
        // cleared this hart's active context meanwhile.
        if old != 0
            && cntx & !CTX_ASID_MASK == self.version.load(Relaxed)
            && active.compare_exchange(old, cntx, SeqCst, Relaxed).is_ok()
        {
            return Switch {
                asid: ctx_asid(cntx),
                flush_all: false,
            };
        }
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut cntx = ctx.load(SeqCst);
        if cntx & !CTX_ASID_MASK != self.version.load(Relaxed) {
            cntx = self.new_context(&mut g, cntx);
            ctx.store(cntx, SeqCst);
            // Before this hart's page walks under the new ASID: a flusher
            // that changed a PTE and then (after its own full fence) read
            // the old ASID is then ordered before those walks, which see
            // its change (the pattern of `MmStruct::mm_cpumask_set_cpu`).
            std::sync::atomic::fence(SeqCst);
        }
        let flush_all = std::mem::take(&mut g.flush_pending[hart]);
        active.store(cntx, SeqCst);
        Switch {
            asid: ctx_asid(cntx),
            flush_all,
        }
    }

    /// `__new_context`: a context of the current version for an mm whose
    /// old one is `cntx` (0: it never had one).
    fn new_context(&self, g: &mut Inner, cntx: u64) -> u64 {
        let ver = self.version.load(Relaxed);
        if cntx != 0 {
            let asid = ctx_asid(cntx);
            let new = ver | asid;
            // Running on some hart across the rollover: it keeps its ASID.
            let mut hit = false;
            for r in g.reserved.iter_mut() {
                if *r == cntx {
                    *r = new;
                    hit = true;
                }
            }
            if hit {
                return new;
            }
            // Its old ASID is still free in this version.
            if !test_and_set(&mut g.map, asid) {
                return new;
            }
        }
        let asid = match self.find_free(&g.map) {
            Some(a) => a,
            None => {
                self.flush_context(g);
                // Always found: after a rollover only ASID 0 and one per
                // hart are taken, and the allocator is on only with more
                // than twice as many ASIDs as harts.
                self.find_free(&g.map).unwrap_or_default()
            }
        };
        test_and_set(&mut g.map, asid);
        self.version.load(Relaxed) | asid
    }

    fn find_free(&self, map: &[u64]) -> Option<u64> {
        for (w, word) in map.iter().enumerate() {
            if *word != u64::MAX {
                let a = w as u64 * 64 + (!*word).trailing_zeros() as u64;
                if a <= self.mask {
                    return Some(a);
                }
            }
        }
        None
    }

    /// `__flush_context`: a new version; the ASIDs running now stay
    /// reserved; every hart must flush before its next load.
    fn flush_context(&self, g: &mut Inner) {
        self.version.fetch_add(CTX_ASID_MASK + 1, SeqCst);
        self.rollovers.fetch_add(1, Relaxed);
        g.map.iter_mut().for_each(|w| *w = 0);
        for (i, a) in self.active.iter().enumerate() {
            let mut c = a.swap(0, SeqCst);
            if c == 0 {
                // Not switched since the last rollover: what it still runs.
                c = g.reserved[i];
            }
            if c != 0 {
                test_and_set(&mut g.map, ctx_asid(c));
            }
            g.reserved[i] = c;
        }
        // ASID 0 is the one of "no ASID" (Bare, and a disabled allocator).
        test_and_set(&mut g.map, 0);
        g.flush_pending.iter_mut().for_each(|f| *f = true);
    }
}

/// Sets bit `n`; returns whether it was set before.
fn test_and_set(map: &mut [u64], n: u64) -> bool {
    let (w, b) = ((n / 64) as usize, n % 64);
    let old = map[w] & (1 << b) != 0;
    map[w] |= 1 << b;
    old
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_mm_keeps_its_asid_and_switches_do_not_flush() {
        let a = AsidAllocator::new(4, 1);
        let (m1, m2) = (AtomicU64::new(0), AtomicU64::new(0));
        let s1 = a.switch_mm(0, &m1);
        let s2 = a.switch_mm(0, &m2);
        assert_ne!(s1.asid, s2.asid);
        assert_ne!(s1.asid, 0);
        for _ in 0..5 {
            assert_eq!(
                a.switch_mm(0, &m1),
                Switch {
                    asid: s1.asid,
                    flush_all: false
                }
            );
            assert_eq!(
                a.switch_mm(0, &m2),
                Switch {
                    asid: s2.asid,
                    flush_all: false
                }
            );
        }
        assert_eq!(a.rollovers(), 0);
    }

    #[test]
    fn rollover_flushes_every_hart_once_and_keeps_running_asids() {
        // 8 ASIDs (0 reserved), 2 harts.
        let a = AsidAllocator::new(3, 2);
        let mms: Vec<AtomicU64> = (0..20).map(|_| AtomicU64::new(0)).collect();
        let on1 = a.switch_mm(1, &mms[0]);
        let mut flushes0 = 0;
        for m in &mms[1..] {
            if a.switch_mm(0, m).flush_all {
                flushes0 += 1;
            }
        }
        assert!(a.rollovers() >= 2, "{}", a.rollovers());
        assert_eq!(flushes0 as u64, a.rollovers());
        // hart 1 still runs mms[0]: its ASID was kept through every
        // rollover, and nobody else got it in this version.
        let live: Vec<u64> = mms[14..]
            .iter()
            .map(|m| a.asid_of(m.load(SeqCst)))
            .collect();
        assert!(!live.contains(&on1.asid));
        // hart 1's next switch flushes (it owes the rollovers' flush).
        let s = a.switch_mm(1, &mms[0]);
        assert!(s.flush_all);
        assert_eq!(s.asid, on1.asid);
        assert!(!a.switch_mm(1, &mms[0]).flush_all);
    }

    #[test]
    fn asids_are_unique_within_a_version() {
        let a = AsidAllocator::new(5, 1);
        let mms: Vec<AtomicU64> = (0..31).map(|_| AtomicU64::new(0)).collect();
        let mut seen = std::collections::HashSet::new();
        for m in &mms {
            let s = a.switch_mm(0, m);
            assert!(seen.insert(s.asid), "ASID {} given twice", s.asid);
            assert_ne!(s.asid, 0);
        }
        assert_eq!(a.rollovers(), 0);
    }

    #[test]
    fn too_few_asids_for_the_harts_means_flush_on_every_switch() {
        let a = AsidAllocator::new(2, 2);
        assert!(!a.enabled());
        let m = AtomicU64::new(0);
        assert_eq!(
            a.switch_mm(0, &m),
            Switch {
                asid: 0,
                flush_all: true
            }
        );
        assert_eq!(
            a.switch_mm(0, &m),
            Switch {
                asid: 0,
                flush_all: true
            }
        );
    }
}
