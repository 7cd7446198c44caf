//! The notes' Lab 4 class SCHED_WRR (`wrr_sched_class`): weighted round
//! robin on per-CPU FIFOs, between the rt and fair classes.
//!
//! A task's weight is 1..=20 (default 10); its slice is weight x 10 ms of
//! run time. The running task stays at the head of its CPU's queue until
//! its slice runs out; then the slice is refilled (from the weight as it
//! is now, so a weight change applies from the next refill) and the task
//! goes to the tail, unless it is alone. Preemption by a higher class
//! does not move it. A waking task keeps what is left of its slice and
//! goes to the tail.
//!
//! Placement (`select_task_rq_wrr`) takes the allowed CPU with the least
//! total WRR weight (runnable tasks, the running one included), ties to
//! the CPU holding the most tasks of the same thread group, then to the
//! lowest CPU id. The periodic balance moves at most one queued, not
//! running task from the heaviest CPU to the lightest, the heaviest that
//! fits `min + w <= max - w` and is allowed there; an idle CPU pulls, by
//! the same rule, from the heaviest CPU that has at least two runnable
//! WRR tasks. These choices are those of the public versions of the lab;
//! nothing here comes from Linux, which has no such class.

use core::ptr::NonNull;

use crate::list::{Link, List};
use crate::{
    cpu_allowed, data, mask_of, tid, BalanceOps, ClassId, Ctx, Kick, MigrateReason, Rq, RqInner,
    Sched, SchedClass, SchedData, SchedObserver, SchedTask, SelectFlags, DEQUEUE_SLEEP,
    ENQUEUE_HEAD, WRR_DEFAULT_WEIGHT, WRR_TIMESLICE_UNIT_NS,
};

/// The lab's `sched_wrr_entity`.
#[derive(Debug)]
pub struct SchedWrrEntity {
    pub(crate) link: Link,
    weight: u32,
    /// What is left of the current slice, in ns.
    pub(crate) time_slice: u64,
    /// The current slice's length (the weight when it was refilled).
    pub(crate) slice_len: u64,
}

impl Default for SchedWrrEntity {
    fn default() -> Self {
        let mut e = SchedWrrEntity {
            link: Link::default(),
            weight: 0,
            time_slice: 0,
            slice_len: 0,
        };
        e.set_weight_fresh(WRR_DEFAULT_WEIGHT);
        e
    }
}

impl SchedWrrEntity {
    /// The weight.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// What is left of the slice, in ns.
    pub fn time_slice(&self) -> u64 {
        self.time_slice
    }

    /// Set the weight with a fresh slice (fork, entering WRR).
    pub(crate) fn set_weight_fresh(&mut self, w: u32) {
        self.weight = w;
        self.refill();
    }

    fn refill(&mut self) {
        self.slice_len = self.weight as u64 * WRR_TIMESLICE_UNIT_NS;
        self.time_slice = self.slice_len;
    }
}

fn wrr_link<T: SchedTask>(d: *mut SchedData<T>) -> *mut Link {
    // SAFETY: a projection of a live entity (the list's caller holds its lock).
    unsafe { &raw mut (*d).wrr.link }
}

/// The WRR part of a run queue (`struct wrr_rq`).
pub(crate) struct WrrRq<T: SchedTask> {
    pub(crate) queue: List<T>,
    /// Runnable WRR tasks (queued and running).
    pub(crate) nr: u32,
    /// Their total weight.
    pub(crate) total_weight: u64,
}

impl<T: SchedTask> WrrRq<T> {
    pub(crate) fn new() -> Self {
        WrrRq {
            queue: List::new(wrr_link::<T>),
            nr: 0,
            total_weight: 0,
        }
    }
}

/// A weight change of `p` (sched_setweight, sched_setparam): the total
/// follows at once, the running slice keeps its length.
pub(crate) fn change_weight<T: SchedTask>(rq: &mut RqInner<T>, p: NonNull<T>, w: u32) {
    let d = data(p);
    // SAFETY: the caller holds p's rq lock.
    unsafe {
        let old = (*d).wrr.weight;
        if (*d).on_rq {
            rq.wrr.total_weight = rq.wrr.total_weight - old as u64 + w as u64;
        }
        (*d).wrr.weight = w;
    }
}

fn refill<T: SchedTask>(rq: &RqInner<T>, p: NonNull<T>, cx: &Ctx) {
    // SAFETY: the caller holds p's rq lock.
    let len = unsafe {
        (*data(p)).wrr.refill();
        (*data(p)).wrr.slice_len
    };
    cx.obs.wrr_refill(rq.clock, tid(p), rq.cpu, len);
}

pub(crate) struct WrrClass;

impl<T: SchedTask> SchedClass<T> for WrrClass {
    fn id(&self) -> ClassId {
        ClassId::Wrr
    }

    fn enqueue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, _cx: &Ctx) {
        // SAFETY: we hold rq's lock, which now owns p's entities.
        unsafe {
            if flags & ENQUEUE_HEAD != 0 {
                rq.wrr.queue.push_front(p);
            } else {
                rq.wrr.queue.push_back(p);
            }
            rq.wrr.total_weight += (*data(p)).wrr.weight as u64;
        }
        rq.wrr.nr += 1;
    }

    fn dequeue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, cx: &Ctx) {
        // SAFETY: p is on this queue, under its lock.
        unsafe {
            rq.wrr.queue.remove(p);
            rq.wrr.total_weight -= (*data(p)).wrr.weight as u64;
        }
        rq.wrr.nr -= 1;
        // A slice that ran out just as the task went to sleep.
        // SAFETY: as above.
        if flags & DEQUEUE_SLEEP != 0 && unsafe { (*data(p)).wrr.time_slice } == 0 {
            refill(rq, p, cx);
        }
    }

    fn yield_task(&self, rq: &mut RqInner<T>, _cx: &Ctx) {
        let Some(p) = rq.curr() else { return };
        if rq.wrr.queue.len() > 1 {
            // SAFETY: the current WRR task is on this queue.
            unsafe {
                rq.wrr.queue.remove(p);
                rq.wrr.queue.push_back(p);
            }
            rq.resched_curr();
        }
    }

    fn wakeup_preempt(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _cx: &Ctx) {
        // Round robin: a woken WRR task waits for its turn.
    }

    fn pick_next_task(&self, rq: &mut RqInner<T>, _cx: &Ctx) -> Option<NonNull<T>> {
        rq.wrr.queue.front()
    }

    fn put_prev_task(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _cx: &Ctx) {
        // It keeps its place at the head (preempted, not expired).
    }

    fn set_next_task(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _first: bool, _cx: &Ctx) {}

    fn update_curr(&self, _rq: &mut RqInner<T>, p: NonNull<T>, delta: u64, _cx: &Ctx) {
        // SAFETY: the current task, under the rq lock.
        unsafe {
            let e = &mut (*data(p)).wrr;
            e.time_slice = e.time_slice.saturating_sub(delta);
        }
    }

    fn task_tick(&self, rq: &mut RqInner<T>, p: NonNull<T>, cx: &Ctx) {
        // SAFETY: the current task, under the rq lock.
        if unsafe { (*data(p)).wrr.time_slice } > 0 {
            return;
        }
        refill(rq, p, cx);
        if rq.wrr.queue.len() > 1 {
            // SAFETY: the current WRR task is on this queue.
            unsafe {
                rq.wrr.queue.remove(p);
                rq.wrr.queue.push_back(p);
            }
            rq.resched_curr();
        }
    }

    fn select_task_rq(&self, rqs: &[Rq<T>], p: NonNull<T>, prev: usize, why: SelectFlags) -> usize {
        select_task_rq_wrr(rqs, p, prev, why)
    }

    fn balance(&self, s: &dyn BalanceOps<T>, this: usize, now: u64) -> bool {
        idle_pull(s, this, now)
    }

    fn task_fork(&self, _p: NonNull<T>) {
        // `sched_fork` gave it a fresh slice of the inherited weight.
    }

    fn get_rr_interval(&self, _rq: &RqInner<T>, p: NonNull<T>) -> u64 {
        // SAFETY: the caller holds p's rq lock.
        unsafe { (*data(p)).wrr.weight as u64 * WRR_TIMESLICE_UNIT_NS }
    }
}

/// `select_task_rq_wrr`.
pub(crate) fn select_task_rq_wrr<T: SchedTask>(
    rqs: &[Rq<T>],
    p: NonNull<T>,
    prev: usize,
    why: SelectFlags,
) -> usize {
    let mask = mask_of(p);
    // SAFETY: the caller holds p's pi_lock (or its rq lock).
    let w = unsafe { (*data(p)).wrr.weight } as u64;
    let load = |c: usize| {
        let l = rqs[c].wrr_weight();
        // At exec the task is still counted on its own CPU.
        if why == SelectFlags::Exec && c == prev {
            l.saturating_sub(w)
        } else {
            l
        }
    };
    let mut best: Option<(u64, usize)> = None;
    let mut tied = 0u64;
    for c in (0..rqs.len()).filter(|&c| cpu_allowed(mask, c)) {
        let l = load(c);
        match best {
            Some((bl, _)) if l > bl => {}
            Some((bl, _)) if l == bl => tied |= 1 << c,
            _ => {
                best = Some((l, c));
                tied = 1 << c;
            }
        }
    }
    let Some((_, first)) = best else { return prev };
    if tied.count_ones() <= 1 {
        return first;
    }
    // SAFETY: as above.
    let tgid = unsafe { p.as_ref() }.tgid();
    let mut pick = (0u32, first);
    for c in (0..rqs.len()).filter(|&c| tied & (1 << c) != 0) {
        let g = rqs[c].lock();
        let mut n = 0u32;
        g.for_each_wrr(|q, _| {
            // SAFETY: queued on this rq, under its lock.
            if q != p && unsafe { q.as_ref() }.tgid() == tgid {
                n += 1;
            }
        });
        if n > pick.0 {
            pick = (n, c);
        }
    }
    pick.1
}

/// The queued, not running WRR task of `src` that may move to `dst`
/// without reversing the imbalance (`min + w <= max - w`), the heaviest
/// such (the first in queue order among equals).
fn candidate<T: SchedTask>(src: &RqInner<T>, dst: &RqInner<T>) -> Option<NonNull<T>> {
    let max = src.wrr.total_weight;
    let min = dst.wrr.total_weight;
    let mut best: Option<(u64, NonNull<T>)> = None;
    src.for_each_wrr(|q, running| {
        if running || !cpu_allowed(mask_of(q), dst.cpu) {
            return;
        }
        // SAFETY: queued on src, under its lock.
        let w = unsafe { (*data(q)).wrr.weight } as u64;
        if min + w <= max.saturating_sub(w) && best.is_none_or(|(bw, _)| w > bw) {
            best = Some((w, q));
        }
    });
    best.map(|(_, q)| q)
}

/// The periodic balance: one move at most, from the heaviest CPU to the
/// lightest.
pub(crate) fn periodic_balance<T: SchedTask, O: SchedObserver>(s: &Sched<T, O>, now: u64) -> Kick {
    let rqs = s.rqs();
    let (mut max, mut min) = (0usize, 0usize);
    for c in 1..rqs.len() {
        if rqs[c].wrr_weight() > rqs[max].wrr_weight() {
            max = c;
        }
        if rqs[c].wrr_weight() < rqs[min].wrr_weight() {
            min = c;
        }
    }
    let mut k = Kick::default();
    if max == min || rqs[max].wrr_weight() <= rqs[min].wrr_weight() {
        s.nr_balance_idle
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        s.observer.balance(now, max, min, None);
        return k;
    }
    let moved = s.move_task(max, min, now, MigrateReason::Balance, &mut |src, dst| {
        candidate(src, dst)
    });
    s.observer.balance(now, max, min, moved);
    if moved.is_some() {
        s.nr_balance_moves
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        k.0 |= 1 << min;
    } else {
        s.nr_balance_idle
            .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    }
    k
}

/// Idle balance: pull one WRR task into the idle `this` from the heaviest
/// CPU with at least two runnable WRR tasks.
fn idle_pull<T: SchedTask>(s: &dyn BalanceOps<T>, this: usize, now: u64) -> bool {
    let rqs = s.rqs();
    let mut order: [(u64, usize); 64] = [(0, 0); 64];
    let mut n = 0;
    for c in (0..rqs.len()).filter(|&c| c != this && rqs[c].nr_wrr() >= 2) {
        order[n] = (rqs[c].wrr_weight(), c);
        n += 1;
    }
    // Heaviest first, lower id first among equals.
    order[..n].sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, src) in &order[..n] {
        let moved = s.move_task(src, this, now, MigrateReason::IdleBalance, &mut |gs, gd| {
            if gs.wrr.nr < 2 {
                return None;
            }
            candidate(gs, gd)
        });
        if moved.is_some() {
            return true;
        }
    }
    false
}
