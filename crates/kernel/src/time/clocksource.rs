//! The clock sources (kernel/time/clocksource.c): what a hart's time is
//! counted in. In parallel mode, the host's monotonic clock
//! ([`std::time::Instant`]); in deterministic mode, the hart's retired
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
//! and each trap.

use rv64::Hart;

use crate::kernel::Kernel;

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
