//! timerfd: fs/timerfd.c (`timerfd_create`, `timerfd_settime`,
//! `timerfd_gettime`, the file's read and poll).
//!
//! A timerfd counts its expirations; a read returns the count (8 bytes)
//! and zeroes it, waiting for the first expiry unless `O_NONBLOCK`
//! (EAGAIN); poll reports POLLIN while the count is not zero. The timer
//! is run lazily, whenever it is looked at: a due timer that was running
//! counts one expiry and wakes the timerfd's queue (Linux's callback,
//! `timerfd_tmrproc`); an interval timer that fired is then counted up to
//! now and restarted past it only by a read, `timerfd_gettime` or a new
//! setting (`hrtimer_forward_now`), as in Linux, so an edge-triggered
//! epoll entry sees one event per restart. A
//! sleeper (a read, or a poll or epoll wait with the timerfd in its set)
//! is woken at the next expiry by the kernel's timer queue
//! ([`crate::sched::RunQueue::arm_wake`]), and looks again.
//!
//! Where ferrite differs: the clocks all advance with the same monotonic
//! source, and ferrite has no `clock_settime`, so `TFD_TIMER_CANCEL_ON_SET`
//! is accepted and never fires; the alarm clocks are the plain ones
//! (nothing to wake from suspend), for root (`CAP_WAKE_ALARM`), EPERM
//! for others; `TFD_IOC_SET_TICKS` is not there (ENOTTY).

use std::sync::{Arc, Mutex};

use crate::errno::*;
use crate::posix_timers::{
    CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM,
};
use crate::sched::wait::{wait_interruptible, WaitQueue};
use crate::sched::RunQueue;
use crate::task::TaskRef;

use super::fdtable::Kind;
use super::flags::{O_CLOEXEC, O_NONBLOCK};
use super::pipe::Io;
use super::read_write::UserIter;
use super::Fs;

/// `TFD_CLOEXEC`.
pub const TFD_CLOEXEC: i32 = O_CLOEXEC;
/// `TFD_NONBLOCK`.
pub const TFD_NONBLOCK: i32 = O_NONBLOCK;
/// `TFD_TIMER_ABSTIME`.
pub const TFD_TIMER_ABSTIME: i32 = 1;
/// `TFD_TIMER_CANCEL_ON_SET`.
pub const TFD_TIMER_CANCEL_ON_SET: i32 = 2;

/// The timer: its next expiry on the run queue's clock, its interval,
/// the expirations not read yet, and whether it fired since it was last
/// (re)started (`ctx->expired`: an interval timer is restarted only by a
/// read, `timerfd_gettime` or a new setting, as Linux's is).
#[derive(Default)]
struct State {
    deadline: Option<u64>,
    interval: u64,
    ticks: u64,
    expired: bool,
}

impl State {
    /// The timer's callback (`timerfd_tmrproc`), run late: one expiry
    /// counted if it was running and is due. Whether it fired.
    fn tick(&mut self, now: u64) -> bool {
        if self.expired || self.deadline.is_none_or(|d| now < d) {
            return false;
        }
        self.ticks = self.ticks.saturating_add(1);
        self.expired = true;
        if self.interval == 0 {
            self.deadline = None;
        }
        true
    }

    /// An interval timer that fired is counted up to `now` and restarted
    /// at its next expiry after now (`hrtimer_forward_now` and
    /// `hrtimer_restart`).
    fn forward(&mut self, now: u64) {
        if !self.expired {
            return;
        }
        self.expired = false;
        let Some(d) = self.deadline else {
            return;
        };
        if let Some(k) = now.saturating_sub(d).checked_div(self.interval) {
            // The expiry the callback counted, and k more since.
            let n = k + 1;
            self.ticks = self.ticks.saturating_add(k);
            self.deadline = Some(d.saturating_add(n.saturating_mul(self.interval)));
        }
    }
}

/// A timerfd (`struct timerfd_ctx`).
pub struct TimerFd {
    clock: i32,
    state: Mutex<State>,
    /// Readers and pollers.
    pub(crate) wq: Arc<WaitQueue>,
    rq: Arc<RunQueue>,
}

impl TimerFd {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state with the timer's callback run if it is due. It wakes the
    /// queue as Linux's callback does, so that an edge-triggered epoll
    /// entry sees a new event.
    fn current(&self, now: u64) -> std::sync::MutexGuard<'_, State> {
        let mut st = self.lock();
        if st.tick(now) {
            drop(st);
            self.wq.wake_up_all();
            st = self.lock();
        }
        st
    }

    /// The clock's time now, for an absolute setting.
    fn clock_now(&self) -> u64 {
        match self.clock {
            CLOCK_REALTIME | CLOCK_REALTIME_ALARM => crate::syscall::info::realtime_ns(),
            _ => crate::syscall::info::monotonic_ns(),
        }
    }

    /// `timerfd_poll`: POLLIN once it expired; `wake_at` is when it will.
    pub(crate) fn poll(&self) -> (u32, Option<u64>) {
        let st = self.current(self.rq.now());
        let mask = if st.ticks > 0 {
            super::poll::POLLIN | super::poll::POLLRDNORM
        } else {
            0
        };
        // A timer that fired changes no more until it is restarted.
        (mask, st.deadline.filter(|_| !st.expired))
    }

    /// `timerfd_read`: the count, or a sleep until the next expiry.
    pub(crate) fn read(
        &self,
        nonblock: bool,
        to: &mut dyn UserIter,
        count: usize,
        waiter: Option<&TaskRef>,
    ) -> Result<Io, Errno> {
        if count < 8 {
            return Err(EINVAL);
        }
        let mut st = self.current(self.rq.now());
        if st.ticks == 0 {
            let Some(task) = waiter.filter(|_| !nonblock) else {
                return Err(EAGAIN);
            };
            wait_interruptible(&self.wq, task)?;
            if let Some(d) = st.deadline {
                self.rq.arm_wake(task, d);
            }
            return Ok(Io::Block(0));
        }
        st.forward(self.rq.now());
        if to.copy_out(&st.ticks.to_le_bytes()) != 8 {
            return Err(EFAULT);
        }
        st.ticks = 0;
        Ok(Io::Done(8))
    }

    /// `timerfd_gettime`: (time to the next expiry, interval), zeros
    /// when disarmed.
    pub(crate) fn gettime(&self) -> (u64, u64) {
        let now = self.rq.now();
        let mut st = self.current(now);
        st.forward(now);
        (
            st.deadline.map_or(0, |d| d.saturating_sub(now).max(1)),
            st.interval,
        )
    }

    /// `timerfd_setup`: arm at `value` (absolute on the clock with
    /// TFD_TIMER_ABSTIME, else from now; 0 disarms), re-arming every
    /// `interval`; the expirations not read are dropped. Returns the old
    /// setting as [`Self::gettime`] does.
    pub(crate) fn settime(&self, flags: i32, value: u64, interval: u64) -> (u64, u64) {
        let old = self.gettime();
        let now = self.rq.now();
        let mut st = self.lock();
        st.ticks = 0;
        st.expired = false;
        st.interval = interval;
        st.deadline = if value == 0 {
            None
        } else if flags & TFD_TIMER_ABSTIME != 0 {
            Some(now.saturating_add(value.saturating_sub(self.clock_now())))
        } else {
            Some(now.saturating_add(value))
        };
        drop(st);
        // Sleepers look at the new setting.
        self.wq.wake_up_all();
        old
    }
}

impl Fs {
    /// `timerfd_create(clockid, flags)`; `root`: the caller may use the
    /// alarm clocks (`CAP_WAKE_ALARM`).
    pub fn timerfd_create(
        &self,
        rq: &Arc<RunQueue>,
        clock: i32,
        flags: i32,
        root: bool,
    ) -> Result<i32, Errno> {
        if flags & !(TFD_CLOEXEC | TFD_NONBLOCK) != 0
            || ![
                CLOCK_MONOTONIC,
                CLOCK_REALTIME,
                CLOCK_REALTIME_ALARM,
                CLOCK_BOOTTIME,
                CLOCK_BOOTTIME_ALARM,
            ]
            .contains(&clock)
        {
            return Err(EINVAL);
        }
        if (clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) && !root {
            return Err(EPERM);
        }
        let t = TimerFd {
            clock,
            state: Mutex::default(),
            wq: WaitQueue::new(),
            rq: rq.clone(),
        };
        self.anon_inode_getfd(Kind::TimerFd(Arc::new(t)), flags, flags & TFD_CLOEXEC != 0)
    }

    /// The timerfd of `fd` (EBADF; EINVAL if it is not one).
    pub fn timerfd_of(&self, fd: i32) -> Result<Arc<TimerFd>, Errno> {
        self.anon_file(fd, |k| match k {
            Kind::TimerFd(t) => Some(t.clone()),
            _ => None,
        })
    }
}
