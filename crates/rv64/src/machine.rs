//! State shared by all harts of one machine: the RAM, the LR/SC
//! reservation sets, the per-hart request mailboxes used for remote TLB
//! shootdown and remote `fence.i`, and the per-page record of which harts
//! hold decoded code from each physical page (coherent instruction fetch).
//!
//! Linux does remote sfence.vma / fence.i through SBI calls that IPI the
//! other harts (`sbi_remote_sfence_vma`, `flush_icache_all`); here the
//! requester posts a bit in the target's mailbox and waits until the target
//! has acted on it at its next block boundary. Differences: a ranged remote
//! flush is carried out as a full flush of the target's TLB, or of the
//! ASID's entries for a flush by ASID (always correct, slightly slower), and a hart that is not inside `run()` is not
//! waited for: it acts on the request when `run()` is next entered.
//!
//! Coherent instruction fetch: hardware that implements it (and QEMU,
//! which tracks "code pages" the same way) makes a store to memory that
//! holds instructions visible to later fetches even without `fence.i`.
//! Here every physical page has a mask of the harts that decoded blocks
//! from it ([`Machine::code_harts`]). A hart sets its bit *before* decoding;
//! when the mask goes from empty to non-empty, every hart drops the
//! write-enabled TLB entries for that page (see `Hart::lookup`), so stores
//! into a page with code always take the slow path (a code tag in the TLB
//! spares it the page walk). A second mask per page records which 64-byte
//! chunks decoded blocks may cover (marked before decoding, conservatively:
//! a whole block's worth); a store outside them (data sharing a page with
//! code) invalidates nothing, one inside clears both masks and invalidates
//! the blocks (`Machine::code_written`). The kernel's own stores into
//! user memory (`copy_to_user`) call [`Machine::note_store`].
//! The storing hart drops its blocks of the page at the end of the running
//! block; other harts drop their decoded blocks at their next block
//! boundary (their whole cache: the request carries no address).

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::ram::Ram;

/// Mailbox bit: flush the whole TLB.
pub(crate) const REQ_TLB: u64 = 1;
/// Mailbox bit: flush the decoded-instruction cache.
pub(crate) const REQ_ICACHE: u64 = 2;
/// Mailbox bit: flush the entries of the ASIDs in the mailbox's `asids`.
pub(crate) const REQ_TLB_ASID: u64 = 4;

/// Words of a mailbox's ASID bitmap.
const ASID_WORDS: usize = (1 << crate::mmu::tlb::ASID_BITS) / 64;

/// One hart's mailbox (a cache line of its own, so harts entering and
/// leaving `run()` do not disturb each other's per-block check).
#[derive(Default)]
#[repr(align(64))]
pub(crate) struct Mailbox {
    /// Pending request bits (REQ_*).
    pub pending: AtomicU64,
    /// Bumped by every requester after posting its bits.
    pub req_seq: AtomicU64,
    /// The highest `req_seq` the hart has carried out.
    pub done_seq: AtomicU64,
    /// Whether the hart is inside `run()`.
    pub in_run: AtomicBool,
    /// ASIDs whose entries to flush (with REQ_TLB_ASID), one bit each.
    pub asids: [AtomicU64; ASID_WORDS],
}

impl Mailbox {
    /// Takes the ASIDs posted so far, calling `f` with each.
    pub(crate) fn take_asids(&self, mut f: impl FnMut(u64)) {
        for (w, word) in self.asids.iter().enumerate() {
            if word.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let mut bits = word.swap(0, Ordering::SeqCst);
            while bits != 0 {
                let b = bits.trailing_zeros() as u64;
                bits &= bits - 1;
                f(w as u64 * 64 + b);
            }
        }
    }
}

/// The state all harts share.
pub struct Machine {
    ram: Ram,
    pub(crate) mailboxes: Box<[Mailbox]>,
    /// Per hart: reserved granule physical address | 1, or 0.
    pub(crate) resv: Box<[AtomicU64]>,
    /// How many harts hold a reservation (lets stores skip the check); in
    /// a cache line of its own, as every guest store reads it.
    pub(crate) nr_resv: Padded<AtomicUsize>,
    pub(crate) epoch: Instant,
    /// Per physical page: the harts (bit `id % 64`) that may hold decoded
    /// blocks from it; 0 = no code, stores take the TLB fast path.
    code: Box<[AtomicU64]>,
    /// Per physical page: which 64-byte chunks decoded blocks may cover
    /// (bit i = bytes 64i..64i+63); a store elsewhere in a code page
    /// invalidates nothing.
    code_chunks: Box<[AtomicU64]>,
}

/// The chunk bits of `[off, off + len)` within a page (`off < 4096`,
/// `len >= 1`, the range inside the page).
#[inline]
fn chunk_bits(off: u64, len: u64) -> u64 {
    let (first, last) = (off >> 6, (off + len - 1) >> 6);
    let upto = if last >= 63 {
        u64::MAX
    } else {
        (2 << last) - 1
    };
    upto & !((1u64 << first) - 1)
}

/// The bit of hart `id` in a hart mask (ids past 63 share bit 63, whose
/// requests then go to every hart from 63 on).
#[inline]
pub(crate) fn hart_bit(id: usize) -> u64 {
    1 << id.min(63)
}

/// A value alone in its cache line.
#[derive(Default)]
#[repr(align(64))]
pub(crate) struct Padded<T>(pub T);

impl<T> core::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The LR/SC reservation granule: 8 bytes (one doubleword).
pub(crate) const RESV_GRANULE: u64 = 8;

impl Machine {
    /// A machine with `nr_harts` harts (ids 0..nr_harts) over `ram`.
    pub fn new(ram: Ram, nr_harts: usize) -> Arc<Machine> {
        let nr = nr_harts.max(1);
        Arc::new(Machine {
            ram,
            mailboxes: (0..nr).map(|_| Mailbox::default()).collect(),
            resv: (0..nr).map(|_| AtomicU64::new(0)).collect(),
            nr_resv: Padded(AtomicUsize::new(0)),
            epoch: Instant::now(),
            code: (0..ram.size().div_ceil(4096))
                .map(|_| AtomicU64::new(0))
                .collect(),
            code_chunks: (0..ram.size().div_ceil(4096))
                .map(|_| AtomicU64::new(0))
                .collect(),
        })
    }

    /// The RAM.
    pub fn ram(&self) -> Ram {
        self.ram
    }

    /// The number of harts.
    pub fn nr_harts(&self) -> usize {
        self.mailboxes.len()
    }

    /// The `time` CSR: the host monotonic clock at 10 MHz (qemu virt's
    /// timebase), counted from machine creation.
    pub fn time(&self) -> u64 {
        (self.epoch.elapsed().as_nanos() / 100) as u64
    }

    /// Remote sfence.vma: every hart in the bitmask `harts` drops its TLB
    /// entries for `[start, end)` (None = all). Returns after every named
    /// hart inside `run()` has done so.
    pub fn flush_tlb(&self, harts: u64, range: Option<(u64, u64)>) {
        let _ = range; // remote ranged flushes are done as full flushes
        self.post(harts, REQ_TLB);
    }

    /// Remote sfence.vma with rs2 = `asid`: every hart in `harts` drops
    /// its non-global entries of `asid` (all of them: a ranged request is
    /// carried out for the whole ASID). Returns after every named hart
    /// inside `run()` has done so; the others do it when they next enter
    /// `run()`.
    pub fn flush_tlb_asid(&self, harts: u64, asid: u64, range: Option<(u64, u64)>) {
        let _ = range;
        let asid = (asid & crate::mmu::tlb::ASID_MASK) as usize;
        for (h, mb) in self.mailboxes.iter().enumerate() {
            if harts & hart_bit(h) != 0 {
                mb.asids[asid / 64].fetch_or(1 << (asid % 64), Ordering::SeqCst);
            }
        }
        self.post(harts, REQ_TLB_ASID);
    }

    /// Remote fence.i on every hart. Returns after every hart inside
    /// `run()` has dropped its decoded-instruction cache.
    pub fn flush_icache_all(&self) {
        self.post(u64::MAX, REQ_ICACHE);
    }

    /// Remote fence.i on the harts in the bitmask `harts` (Linux's
    /// `sbi_remote_fence_i`). Returns after every named hart inside `run()`
    /// has done it; the others do it when they next enter `run()`.
    pub fn flush_icache(&self, harts: u64) {
        self.post(harts, REQ_ICACHE);
    }

    fn post(&self, harts: u64, bits: u64) {
        let waits = self.request(harts, bits);
        self.wait(harts, &waits, || {});
    }

    /// Posts `bits` to the harts in `harts` without waiting; returns the
    /// sequence numbers to wait for.
    pub(crate) fn request(&self, harts: u64, bits: u64) -> [u64; 64] {
        let mut waits = [0u64; 64];
        for (h, mb) in self.mailboxes.iter().enumerate() {
            if harts & hart_bit(h) == 0 {
                continue;
            }
            mb.pending.fetch_or(bits, Ordering::SeqCst);
            let seq = mb.req_seq.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(w) = waits.get_mut(h) {
                *w = seq;
            }
        }
        waits
    }

    /// Waits until every hart in `harts` that is inside `run()` has acted
    /// on the requests `waits` (from [`Machine::request`]), calling `idle`
    /// while it spins (a hart that waits serves its own mailbox there, so
    /// two harts waiting for each other cannot deadlock).
    pub(crate) fn wait(&self, harts: u64, waits: &[u64; 64], mut idle: impl FnMut()) {
        for (h, mb) in self.mailboxes.iter().enumerate().take(64) {
            if harts & (1 << h) == 0 {
                continue;
            }
            let mut spins = 0u32;
            // Wait while the hart is inside run() and has not caught up.
            while mb.in_run.load(Ordering::SeqCst) && mb.done_seq.load(Ordering::SeqCst) < waits[h]
            {
                idle();
                spins += 1;
                if spins < 2000 {
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
    }

    /// The harts that may hold decoded blocks from the physical page of
    /// `pa` (0 for an address outside RAM).
    #[inline]
    pub fn code_harts(&self, pa: u64) -> u64 {
        match self.code.get((pa >> 12) as usize) {
            Some(m) => m.load(Ordering::SeqCst),
            None => 0,
        }
    }

    /// Hart `me` is about to decode a block of at most `max_bytes` from
    /// `pa`: records it (the hart and the chunks the block may cover) and
    /// returns true when the page had no code before (the caller must then
    /// have every hart drop its write-enabled TLB entries for the page).
    pub(crate) fn mark_code(&self, me: usize, pa: u64, max_bytes: u64) -> bool {
        let page = (pa >> 12) as usize;
        let (Some(m), Some(c)) = (self.code.get(page), self.code_chunks.get(page)) else {
            return false;
        };
        let off = pa & 0xfff;
        let want = chunk_bits(off, max_bytes.min(0x1000 - off));
        if c.load(Ordering::SeqCst) & want != want {
            c.fetch_or(want, Ordering::SeqCst);
        }
        let bit = hart_bit(me);
        if m.load(Ordering::SeqCst) & bit != 0 {
            return false;
        }
        m.fetch_or(bit, Ordering::SeqCst) == 0
    }

    /// `len` bytes at `pa` (inside one page) were just stored (by hart
    /// `me`, or by the kernel when `me` is None): if they may hold decoded
    /// instructions, forget the page's code and ask the other harts that
    /// decoded from it to drop their blocks. Returns whether `me` itself
    /// held blocks from the page (it must drop them). The caller's stores
    /// come before this in program order; with several harts, the fence
    /// orders them before the masks are read (against a hart that sets its
    /// bits and then reads the bytes to decode). With one hart, the only
    /// other writer is the kernel on the same thread: program order does.
    #[cold]
    pub(crate) fn code_written(&self, me: Option<usize>, pa: u64, len: u64) -> bool {
        let page = (pa >> 12) as usize;
        let (Some(m), Some(c)) = (self.code.get(page), self.code_chunks.get(page)) else {
            return false;
        };
        if self.mailboxes.len() > 1 {
            core::sync::atomic::fence(Ordering::SeqCst);
        }
        if m.load(Ordering::SeqCst) == 0 {
            return false;
        }
        let off = pa & 0xfff;
        if c.load(Ordering::SeqCst) & chunk_bits(off, len.clamp(1, 0x1000 - off)) == 0 {
            // Data next to code: nothing decoded there.
            return false;
        }
        c.store(0, Ordering::SeqCst);
        let harts = m.swap(0, Ordering::SeqCst);
        let mine = me.map_or(0, hart_bit);
        let others = harts & !mine;
        if others != 0 {
            // No wait: like coherent fetch on hardware, the other harts see
            // the new code soon (at their next block), not at once.
            self.request(others, REQ_ICACHE);
        }
        harts & mine != 0
    }

    /// The kernel stored `len` bytes at physical `pa` (`copy_to_user` and
    /// the like): harts holding decoded blocks from those pages drop them
    /// before they next run a block (the calling hart, outside `run()`,
    /// when it enters it again).
    pub fn note_store(&self, pa: u64, len: u64) {
        if len == 0 {
            return;
        }
        let end = pa.saturating_add(len);
        let mut at = pa;
        while at < end && ((at >> 12) as usize) < self.code.len() {
            let n = ((at | 0xfff) + 1).min(end) - at;
            self.code_written(None, at, n);
            at += n;
        }
    }

    /// Breaks every other hart's reservation on the granule holding `pa`
    /// (a store or AMO by hart `me`).
    #[inline]
    pub(crate) fn store_hits(&self, me: usize, pa: u64) {
        if self.nr_resv.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.break_resv(me, pa);
    }

    #[cold]
    fn break_resv(&self, me: usize, pa: u64) {
        let key = (pa & !(RESV_GRANULE - 1)) | 1;
        for (h, r) in self.resv.iter().enumerate() {
            if h != me
                && r.load(Ordering::SeqCst) == key
                && r.compare_exchange(key, 0, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            {
                self.nr_resv.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    /// Sets hart `me`'s reservation on the granule holding `pa`.
    pub(crate) fn reserve(&self, me: usize, pa: u64) {
        let key = (pa & !(RESV_GRANULE - 1)) | 1;
        let Some(r) = self.resv.get(me) else { return };
        if r.swap(key, Ordering::SeqCst) == 0 {
            self.nr_resv.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Drops hart `me`'s reservation; returns the granule it held (| 1) or 0.
    pub(crate) fn unreserve(&self, me: usize) -> u64 {
        let Some(r) = self.resv.get(me) else { return 0 };
        // Only this hart sets its reservation: none now means none to drop
        // (another hart may clear it meanwhile, never set it).
        if r.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let old = r.swap(0, Ordering::SeqCst);
        if old != 0 {
            self.nr_resv.fetch_sub(1, Ordering::SeqCst);
        }
        old
    }
}
