//! The clock sources (kernel/time/clocksource.c): what a hart's time is
//! counted in. In parallel mode, the host's monotonic clock
//! (`clock_gettime(CLOCK_MONOTONIC)`); in deterministic mode, the hart's retired
//! instructions, [`NS_PER_INSN`](super::det::NS_PER_INSN) ns each.
//!
//! [`Stopwatch`] measures a stretch of a task's execution for its user and
//! system time (`account_user_time`, `account_system_time`): host ns in
//! parallel mode; in deterministic mode the instructions the hart retired
//! (and the hart's virtual clock advances by them), while the kernel's own
//! work costs no virtual time, so `stime` stays 0.
//!
//! Where ferrite differs: Linux samples a cycle counter and charges time
//! at ticks or on context switches; ferrite measures each run of guest code
//! and each trap. The trap edges inside a task's run read [`HartClock`],
//! the host's time-stamp counter scaled between two readings of the run
//! queue's clock (Linux's `sched_clock` on x86); the run's first and last
//! readings are the run queue's clock itself, so a run's user and system
//! times add up to its length exactly and only their split is
//! interpolated.

use rv64::Hart;

use crate::kernel::Kernel;

/// One hart's clock between readings of the run queue's clock
/// ([`RunQueue::now`](crate::sched::RunQueue::now), a vDSO call that
/// serializes the host CPU: 20-odd ns here): the last reading (the
/// anchor) plus the host's time-stamp counter since then, scaled by a
/// ratio the hart measures between readings at least [`Self::CALIBRATE_NS`]
/// apart (Linux's `cyc2ns`). Without a counter, before the first ratio,
/// or if the counter went backwards or too far, it reads the run queue's
/// clock.
#[derive(Default)]
pub struct HartClock {
    anchor_ns: u64,
    anchor_tsc: u64,
    cal_ns: u64,
    cal_tsc: u64,
    /// ns per counter tick, << 32; 0: no ratio (yet).
    mult: u64,
}

impl HartClock {
    /// How far apart the two readings a ratio is measured between are.
    pub const CALIBRATE_NS: u64 = 20_000_000;
    /// The longest stretch interpolated from one anchor.
    const MAX_SPAN_NS: u64 = 1_000_000_000;

    /// `ns` is a reading of the run queue's clock taken just now: anchor
    /// the interpolation there, and measure the counter's ratio.
    pub fn anchor(&mut self, ns: u64) {
        let Some(tsc) = read_tsc() else { return };
        self.anchor_ns = ns;
        self.anchor_tsc = tsc;
        if self.cal_tsc == 0 || ns < self.cal_ns || tsc <= self.cal_tsc {
            self.cal_ns = ns;
            self.cal_tsc = tsc;
            return;
        }
        let dns = ns - self.cal_ns;
        if dns < Self::CALIBRATE_NS {
            return;
        }
        let m = ((dns as u128) << 32) / (tsc - self.cal_tsc) as u128;
        // Between 0.05 and 20 ns a tick (counters of 50 MHz to 20 GHz);
        // anything else is not a clock to interpolate with.
        self.mult = if ((1u128 << 32) / 20..=20u128 << 32).contains(&m) {
            m as u64
        } else {
            0
        };
        self.cal_ns = ns;
        self.cal_tsc = tsc;
    }

    /// The run queue's clock now: interpolated from the anchor, or read.
    pub fn now(&mut self, k: &Kernel) -> u64 {
        if self.mult != 0 {
            if let Some(tsc) = read_tsc() {
                let d = tsc.wrapping_sub(self.anchor_tsc);
                if (d as i64) >= 0 {
                    let ns = ((d as u128 * self.mult as u128) >> 32) as u64;
                    if ns <= Self::MAX_SPAN_NS {
                        return self.anchor_ns + ns;
                    }
                }
            }
        }
        let ns = k.rq.now();
        self.anchor(ns);
        ns
    }
}

/// The host CPU's time-stamp counter, where there is one.
#[inline]
fn read_tsc() -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` reads a counter and touches no memory; every
        // x86_64 CPU has it, and Linux lets user space execute it unless
        // the process asked otherwise (`prctl(PR_SET_TSC)`, which ferrite
        // never does).
        Some(unsafe { core::arch::x86_64::_rdtsc() })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// A measurement in progress.
#[derive(Clone, Copy)]
pub enum Stopwatch {
    /// Host time since this reading of the run queue's clock
    /// ([`RunQueue::now`](crate::sched::RunQueue::now), ns since boot).
    Host(u64),
    /// Instructions retired since the hart's `instret` was this.
    Insns(u64),
    /// Kernel work in deterministic mode: free.
    Free,
}

impl Stopwatch {
    /// Start measuring guest execution on `hart`.
    #[inline]
    pub fn user(k: &Kernel, hart: &Hart) -> Stopwatch {
        if k.rq.det().is_some() {
            Stopwatch::Insns(hart.instret())
        } else {
            Stopwatch::Host(k.rq.now())
        }
    }

    /// Start measuring guest execution on `hart` at `now`, a reading of
    /// the run queue's clock the caller already has (the scheduler's, at
    /// the switch): no clock read of its own.
    #[inline]
    pub fn user_at(k: &Kernel, hart: &Hart, now: u64) -> Stopwatch {
        if k.rq.det().is_some() {
            Stopwatch::Insns(hart.instret())
        } else {
            Stopwatch::Host(now)
        }
    }

    /// Start measuring kernel work (a trap's handling).
    #[inline]
    pub fn kernel(k: &Kernel) -> Stopwatch {
        if k.rq.det().is_some() {
            Stopwatch::Free
        } else {
            Stopwatch::Host(k.rq.now())
        }
    }

    /// The reading of the host clock this stretch started at (None in
    /// deterministic mode).
    #[inline]
    pub fn started(&self) -> Option<u64> {
        match *self {
            Stopwatch::Host(t) => Some(t),
            _ => None,
        }
    }

    /// The ns the stretch cost. For guest execution in deterministic mode
    /// the hart's virtual clock advances by them.
    #[inline]
    pub fn stop(self, k: &Kernel, hart: &Hart) -> u64 {
        match self {
            Stopwatch::Host(t) => k.rq.now().saturating_sub(t),
            Stopwatch::Insns(at) => {
                let n = hart.instret().wrapping_sub(at);
                if let Some(d) = k.rq.det() {
                    d.account(hart.id(), n);
                }
                n * super::det::NS_PER_INSN
            }
            Stopwatch::Free => 0,
        }
    }

    /// [`Self::lap`] with the time from the hart's interpolating clock
    /// (a trap edge inside a run).
    #[inline]
    pub fn lap_on(
        self,
        k: &Kernel,
        hart: &Hart,
        next_user: bool,
        clock: &mut HartClock,
    ) -> (u64, Stopwatch) {
        match self {
            Stopwatch::Host(t) => {
                let now = clock.now(k);
                (now.saturating_sub(t), Stopwatch::Host(now))
            }
            other => other.lap(k, hart, next_user),
        }
    }

    /// End this stretch and start the next one (guest execution if
    /// `next_user`, else kernel work) at the same moment: one host clock
    /// read per trap edge instead of two.
    #[inline]
    pub fn lap(self, k: &Kernel, hart: &Hart, next_user: bool) -> (u64, Stopwatch) {
        match self {
            Stopwatch::Host(t) => {
                let now = k.rq.now();
                (now.saturating_sub(t), Stopwatch::Host(now))
            }
            other => {
                let ns = other.stop(k, hart);
                let next = if next_user {
                    Stopwatch::user(k, hart)
                } else {
                    Stopwatch::kernel(k)
                };
                (ns, next)
            }
        }
    }
}
