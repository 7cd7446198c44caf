//! State shared by all harts of one machine: the RAM, the LR/SC
//! reservation sets and the per-hart request mailboxes used for remote TLB
//! shootdown and remote `fence.i`.
//!
//! Linux does remote sfence.vma / fence.i through SBI calls that IPI the
//! other harts (`sbi_remote_sfence_vma`, `flush_icache_all`); here the
//! requester posts a bit in the target's mailbox and waits until the target
//! has acted on it at its next block boundary. Differences: a ranged remote
//! flush is carried out as a full flush of the target's TLB (always
//! correct, slightly slower), and a hart that is not inside `run()` is not
//! waited for: it acts on the request when `run()` is next entered.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::ram::Ram;

/// Mailbox bit: flush the whole TLB.
pub(crate) const REQ_TLB: u64 = 1;
/// Mailbox bit: flush the decoded-instruction cache.
pub(crate) const REQ_ICACHE: u64 = 2;

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

    /// Remote fence.i on every hart. Returns after every hart inside
    /// `run()` has dropped its decoded-instruction cache.
    pub fn flush_icache_all(&self) {
        self.post(u64::MAX, REQ_ICACHE);
    }

    fn post(&self, harts: u64, bits: u64) {
        let mut waits = [0u64; 64];
        for (h, mb) in self.mailboxes.iter().enumerate().take(64) {
            if harts & (1 << h) == 0 {
                continue;
            }
            mb.pending.fetch_or(bits, Ordering::SeqCst);
            waits[h] = mb.req_seq.fetch_add(1, Ordering::SeqCst) + 1;
        }
        for (h, mb) in self.mailboxes.iter().enumerate().take(64) {
            if harts & (1 << h) == 0 {
                continue;
            }
            let mut spins = 0u32;
            // Wait while the hart is inside run() and has not caught up.
            while mb.in_run.load(Ordering::SeqCst) && mb.done_seq.load(Ordering::SeqCst) < waits[h]
            {
                spins += 1;
                if spins < 2000 {
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
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
        let old = r.swap(0, Ordering::SeqCst);
        if old != 0 {
            self.nr_resv.fetch_sub(1, Ordering::SeqCst);
        }
        old
    }
}
