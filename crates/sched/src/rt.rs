//! The real-time class (kernel/sched/rt.c): SCHED_FIFO and SCHED_RR on
//! 100 priority lists with a bitmap, so the pick is O(1); RR's 100 ms
//! slice; and RT throttling (`sched_rt_runtime_us` of every
//! `sched_rt_period_us`), so that runaway rt tasks leave the rest of the
//! machine 5% by default.
//!
//! Where ferrite differs: throttling is per run queue without borrowing
//! runtime from other CPUs (Linux's `RT_RUNTIME_SHARE` is off by default
//! too), and its period is advanced lazily at the tick and the pick
//! rather than by an hrtimer. Push/pull between CPUs is only the idle
//! CPU's pull.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use crate::list::{Link, List};
use crate::{
    cpu_allowed, data, mask_of, BalanceOps, ClassId, Ctx, MigrateReason, Rq, RqInner, SchedClass,
    SchedData, SchedTask, SelectFlags, Tunables, ENQUEUE_HEAD, MAX_RT_PRIO, RR_TIMESLICE_NS,
    SCHED_RR,
};

/// `struct sched_rt_entity`.
#[derive(Debug, Default)]
pub struct SchedRtEntity {
    pub(crate) link: Link,
    /// What is left of an RR slice, in ns.
    pub(crate) time_slice: u64,
}

fn rt_link<T: SchedTask>(d: *mut SchedData<T>) -> *mut Link {
    // SAFETY: a projection of a live entity (the list's caller holds its lock).
    unsafe { &raw mut (*d).rt.link }
}

/// The queue index of a task: 0 is the highest priority (99).
fn idx<T: SchedTask>(p: NonNull<T>) -> usize {
    // SAFETY: the caller holds p's rq lock.
    (MAX_RT_PRIO - 1 - unsafe { (*data(p)).rt_priority }.min(MAX_RT_PRIO - 1)) as usize
}

/// `struct rt_rq`.
pub(crate) struct RtRq<T: SchedTask> {
    queues: [List<T>; MAX_RT_PRIO as usize],
    bitmap: [u64; 2],
    pub(crate) nr: u32,
    /// Run time in the current period.
    pub(crate) rt_time: u64,
    period_start: u64,
    pub(crate) throttled: bool,
}

impl<T: SchedTask> RtRq<T> {
    pub(crate) fn new() -> Self {
        RtRq {
            queues: core::array::from_fn(|_| List::new(rt_link::<T>)),
            bitmap: [0; 2],
            nr: 0,
            rt_time: 0,
            period_start: 0,
            throttled: false,
        }
    }

    pub(crate) fn count(&self) -> u32 {
        let mut n = 0;
        for q in &self.queues {
            n += q.len() as u32;
        }
        n
    }

    fn first_idx(&self) -> Option<usize> {
        if self.bitmap[0] != 0 {
            Some(self.bitmap[0].trailing_zeros() as usize)
        } else if self.bitmap[1] != 0 {
            Some(64 + self.bitmap[1].trailing_zeros() as usize)
        } else {
            None
        }
    }

    /// Start a new period if the current one is over (`do_sched_rt_period_timer`).
    pub(crate) fn refresh(&mut self, clock: u64, tun: &Tunables) {
        let period = tun.rt_period_ns.load(Ordering::Relaxed).max(1);
        if clock >= self.period_start + period {
            self.period_start += (clock - self.period_start) / period * period;
            self.rt_time = 0;
            self.throttled = false;
        }
    }
}

pub(crate) struct RtClass;

impl<T: SchedTask> SchedClass<T> for RtClass {
    fn id(&self) -> ClassId {
        ClassId::Rt
    }

    fn enqueue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, _cx: &Ctx) {
        let i = idx(p);
        // SAFETY: rq's lock is held and owns p's entities.
        unsafe {
            if (*data(p)).rt.time_slice == 0 {
                (*data(p)).rt.time_slice = RR_TIMESLICE_NS;
            }
            if flags & ENQUEUE_HEAD != 0 {
                rq.rt.queues[i].push_front(p);
            } else {
                rq.rt.queues[i].push_back(p);
            }
        }
        rq.rt.bitmap[i / 64] |= 1 << (i % 64);
        rq.rt.nr += 1;
    }

    fn dequeue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, _flags: u32, _cx: &Ctx) {
        let i = idx(p);
        // SAFETY: p is on queue i, under the lock.
        unsafe { rq.rt.queues[i].remove(p) };
        if rq.rt.queues[i].is_empty() {
            rq.rt.bitmap[i / 64] &= !(1 << (i % 64));
        }
        rq.rt.nr -= 1;
    }

    fn yield_task(&self, rq: &mut RqInner<T>, _cx: &Ctx) {
        let Some(p) = rq.curr() else { return };
        requeue_tail(rq, p);
    }

    fn wakeup_preempt(&self, rq: &mut RqInner<T>, p: NonNull<T>, _cx: &Ctx) {
        if let Some(c) = rq.curr() {
            if idx(p) < idx(c) {
                rq.resched_curr();
            }
        }
    }

    fn pick_next_task(&self, rq: &mut RqInner<T>, cx: &Ctx) -> Option<NonNull<T>> {
        let clock = rq.clock;
        rq.rt.refresh(clock, cx.tun);
        if rq.rt.throttled {
            return None;
        }
        let i = rq.rt.first_idx()?;
        rq.rt.queues[i].front()
    }

    fn put_prev_task(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _cx: &Ctx) {
        // A preempted rt task keeps its place at the head of its list.
    }

    fn set_next_task(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _first: bool, _cx: &Ctx) {}

    fn update_curr(&self, rq: &mut RqInner<T>, p: NonNull<T>, delta: u64, cx: &Ctx) {
        // SAFETY: the current task, under the rq lock.
        unsafe {
            let e = &mut (*data(p)).rt;
            e.time_slice = e.time_slice.saturating_sub(delta);
        }
        let clock = rq.clock;
        rq.rt.refresh(clock, cx.tun);
        rq.rt.rt_time += delta;
        let runtime = cx.tun.rt_runtime_ns.load(Ordering::Relaxed);
        if runtime >= 0 && rq.rt.rt_time > runtime as u64 && !rq.rt.throttled {
            rq.rt.throttled = true;
            rq.resched_curr();
        }
    }

    fn task_tick(&self, rq: &mut RqInner<T>, p: NonNull<T>, _cx: &Ctx) {
        if rq.rt.throttled {
            rq.resched_curr();
            return;
        }
        // SAFETY: the current task, under the rq lock.
        let d = unsafe { &mut *data(p) };
        if d.policy != SCHED_RR || d.rt.time_slice > 0 {
            return;
        }
        d.rt.time_slice = RR_TIMESLICE_NS;
        requeue_tail(rq, p);
    }

    fn select_task_rq(
        &self,
        rqs: &[Rq<T>],
        p: NonNull<T>,
        prev: usize,
        _why: SelectFlags,
    ) -> usize {
        least_loaded(rqs, mask_of(p), prev)
    }

    fn balance(&self, s: &dyn BalanceOps<T>, this: usize, now: u64) -> bool {
        pull_queued(s, this, now, ClassId::Rt)
    }

    fn task_fork(&self, p: NonNull<T>) {
        // SAFETY: the new task is the caller's alone.
        unsafe { (*data(p)).rt.time_slice = RR_TIMESLICE_NS };
    }

    fn get_rr_interval(&self, _rq: &RqInner<T>, p: NonNull<T>) -> u64 {
        // SAFETY: the caller holds p's rq lock.
        if unsafe { (*data(p)).policy } == SCHED_RR {
            RR_TIMESLICE_NS
        } else {
            0
        }
    }
}

/// The current task `p` goes to the tail of its priority's queue and the
/// CPU reschedules, if another task waits at that priority (`yield`, the
/// end of an RR slice).
fn requeue_tail<T: SchedTask>(rq: &mut RqInner<T>, p: NonNull<T>) {
    let i = idx(p);
    if rq.rt.queues[i].len() > 1 {
        // SAFETY: the current rt task is on queue i, under the rq lock.
        unsafe {
            rq.rt.queues[i].remove(p);
            rq.rt.queues[i].push_back(p);
        }
        rq.resched_curr();
    }
}

/// The allowed CPU with the fewest runnable tasks, `prev` first among
/// equals.
pub(crate) fn least_loaded<T: SchedTask>(rqs: &[Rq<T>], mask: u64, prev: usize) -> usize {
    let mut best: Option<(u32, usize)> = None;
    if cpu_allowed(mask, prev) && prev < rqs.len() {
        best = Some((rqs[prev].nr_running(), prev));
    }
    for c in (0..rqs.len()).filter(|&c| cpu_allowed(mask, c)) {
        let n = rqs[c].nr_running();
        if best.is_none_or(|(bn, _)| n < bn) {
            best = Some((n, c));
        }
    }
    best.map_or(prev, |b| b.1)
}

/// Pull one queued, not running task of class `cls` into the idle `this`
/// from a CPU with at least two runnable tasks.
pub(crate) fn pull_queued<T: SchedTask>(
    s: &dyn BalanceOps<T>,
    this: usize,
    now: u64,
    cls: ClassId,
) -> bool {
    let rqs = s.rqs();
    for src in (0..rqs.len()).filter(|&c| c != this && rqs[c].nr_running() >= 2) {
        let moved = s.move_task(src, this, now, MigrateReason::IdleBalance, &mut |gs, gd| {
            let mut found = None;
            let curr = gs.curr();
            let visit = |q: NonNull<T>| {
                if found.is_none() && Some(q) != curr && cpu_allowed(mask_of(q), gd.cpu) {
                    found = Some(q);
                }
            };
            match cls {
                ClassId::Rt => gs.rt.for_each(visit),
                _ => gs.cfs.for_each::<T>(visit),
            }
            found
        });
        if moved.is_some() {
            return true;
        }
    }
    false
}

impl<T: SchedTask> RtRq<T> {
    /// Every queued rt task, highest priority first.
    pub(crate) fn for_each(&self, mut f: impl FnMut(NonNull<T>)) {
        for q in &self.queues {
            // SAFETY: the caller holds the rq lock (we are inside it).
            unsafe { q.for_each(&mut f) };
        }
    }
}
