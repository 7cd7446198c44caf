//! ferrite's scheduler core: Linux's kernel/sched/ as a `no_std` crate.
//!
//! Per-CPU run queues ([`Rq`], `struct rq`) with their locks, the
//! scheduling classes in Linux's order rt > wrr > fair > idle behind one
//! interface ([`SchedClass`], `struct sched_class`), the notes' Lab 4
//! weighted round-robin class SCHED_WRR (= 7) with its placement and load
//! balancing, and the entry points a kernel calls: wake-up
//! ([`Sched::activate_task`]), fork ([`Sched::sched_fork`],
//! [`Sched::wake_up_new_task`]), the switch ([`Sched::pick_next_task`],
//! [`Sched::put_prev_task`]), the tick ([`Sched::task_tick`],
//! [`Sched::balance_tick`]), and the policy calls.
//!
//! The scheduling state of a task lives in the task: the kernel embeds a
//! [`SchedEntities`] (Linux's `sched_entity`, `sched_rt_entity` and the
//! lab's `sched_wrr_entity`) in its task structure and gives the crate
//! access through [`SchedTask`]. Queues are intrusive (links in the
//! entities, a red-black tree for the fair class): no allocation on
//! enqueue or dequeue. A queued task is kept alive by a reference the
//! queue holds in its own entities.
//!
//! Locking: the entities of a task on a run queue are protected by that
//! run queue's lock; those of a task on none by the caller, who must hold
//! the task's `pi_lock` (its own per-task lock) across every call that
//! names a task. Two run queues are locked in CPU order
//! ([`Sched::double_rq_lock`]). Time is the caller's clock in ns;
//! `sum_exec_runtime` counts ns of execution.
//!
//! Where ferrite differs from Linux: no task groups, no deadline or stop
//! class (a migration here needs no stopper: a running task is moved when
//! it leaves its CPU), RT throttling per run queue without runtime
//! sharing, CFS without EEVDF's lag, and at most 64 CPUs (masks are `u64`).

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod fair;
mod list;
pub mod observer;
mod rt;
mod wrr;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};

pub use fair::{nice_to_weight, SchedEntity, NICE_0_WEIGHT, SCHED_IDLE_WEIGHT};
pub use list::Link;
pub use observer::{MigrateReason, NoObserver, SchedObserver, TaskId};
pub use rt::SchedRtEntity;
pub use wrr::SchedWrrEntity;

#[cfg(feature = "std")]
type Relax = spin::relax::Yield;
#[cfg(not(feature = "std"))]
type Relax = spin::relax::Spin;

/// The run queue's lock (`raw_spinlock_t`).
pub type SpinLock<T> = spin::mutex::SpinMutex<T, Relax>;
/// A held [`SpinLock`].
pub type SpinLockGuard<'a, T> = spin::mutex::SpinMutexGuard<'a, T>;

/// `SCHED_NORMAL`.
pub const SCHED_NORMAL: u32 = 0;
/// `SCHED_FIFO`.
pub const SCHED_FIFO: u32 = 1;
/// `SCHED_RR`.
pub const SCHED_RR: u32 = 2;
/// `SCHED_BATCH`.
pub const SCHED_BATCH: u32 = 3;
/// `SCHED_IDLE`.
pub const SCHED_IDLE: u32 = 5;
/// `SCHED_DEADLINE` (not supported here).
pub const SCHED_DEADLINE: u32 = 6;
/// The lab's `SCHED_WRR`.
pub const SCHED_WRR: u32 = 7;

/// `MAX_RT_PRIO`: rt priorities are 1..=99.
pub const MAX_RT_PRIO: u32 = 100;
/// `MAX_USER_RT_PRIO - 1`.
pub const MAX_USER_RT_PRIO: u32 = 99;
/// The WRR weight range and default.
pub const WRR_MIN_WEIGHT: u32 = 1;
pub const WRR_MAX_WEIGHT: u32 = 20;
pub const WRR_DEFAULT_WEIGHT: u32 = 10;
/// One weight unit of WRR slice: 10 ms.
pub const WRR_TIMESLICE_UNIT_NS: u64 = 10_000_000;
/// `RR_TIMESLICE`: 100 ms.
pub const RR_TIMESLICE_NS: u64 = 100_000_000;
/// `sysctl_sched_rt_period` and `sysctl_sched_rt_runtime` defaults, in ns.
pub const RT_PERIOD_NS: u64 = 1_000_000_000;
pub const RT_RUNTIME_NS: i64 = 950_000_000;
/// The WRR periodic balance interval default: 500 ms.
pub const WRR_BALANCE_INTERVAL_NS: u64 = 500_000_000;

/// Enqueue flags (`ENQUEUE_*`).
pub const ENQUEUE_WAKEUP: u32 = 1;
/// Put the task first in its queue.
pub const ENQUEUE_HEAD: u32 = 2;
/// A new task (`ENQUEUE_INITIAL`).
pub const ENQUEUE_NEW: u32 = 4;
/// Arriving from another CPU.
pub const ENQUEUE_MIGRATED: u32 = 8;
/// Dequeue flags (`DEQUEUE_*`).
pub const DEQUEUE_SLEEP: u32 = 1;
/// Leaving for another CPU.
pub const DEQUEUE_MIGRATE: u32 = 8;

/// Whether `cpu` is in `mask` (0 means every CPU).
#[inline]
pub fn cpu_allowed(mask: u64, cpu: usize) -> bool {
    mask == 0 || (cpu < 64 && mask & (1u64 << cpu) != 0)
}

/// The kernel's task as the scheduler sees it.
///
/// # Safety
/// The implementor guarantees that `entities()` returns the same embedded
/// [`SchedEntities`] for the whole life of the object, that the object
/// never moves while any `Ref` to it exists, and that `Ref` keeps it alive.
pub unsafe trait SchedTask: Sync + Sized + 'static {
    /// A counted reference (`get_task_struct`) that the queues keep while
    /// the task is queued.
    type Ref: Clone + core::ops::Deref<Target = Self> + Send;
    /// The embedded scheduling state.
    fn entities(&self) -> &SchedEntities<Self>;
    /// The thread id.
    fn pid(&self) -> i32;
    /// The thread group id.
    fn tgid(&self) -> i32;
    /// `cpus_mask`: bit i = CPU i; 0 = every CPU.
    fn cpus_allowed(&self) -> u64;
}

/// The scheduling state a task embeds (`se`, `rt`, `wrr`, `policy`, ...).
pub struct SchedEntities<T: SchedTask> {
    /// `task_cpu()`: changed only with the run-queue locks of both CPUs
    /// (or by the pi_lock holder of a task on no queue).
    cpu: AtomicUsize,
    data: UnsafeCell<SchedData<T>>,
}

// SAFETY: `data` is only touched under the lock that owns it (the run
// queue's while queued, the task's pi_lock otherwise), see the crate doc.
unsafe impl<T: SchedTask> Sync for SchedEntities<T> {}
// SAFETY: as above; the kept reference is Send.
unsafe impl<T: SchedTask> Send for SchedEntities<T> {}

impl<T: SchedTask> Default for SchedEntities<T> {
    fn default() -> Self {
        Self::new(SCHED_NORMAL, 0)
    }
}

impl<T: SchedTask> SchedEntities<T> {
    /// A task's initial state with `policy` and its parameter (the rt
    /// priority, or the WRR weight; 0 = the default weight).
    pub fn new(policy: u32, param: u32) -> Self {
        let mut d = SchedData {
            keep: None,
            on_rq: false,
            policy,
            rt_priority: 0,
            nice: 0,
            reset_on_fork: false,
            exec_start: 0,
            sum_exec_runtime: 0,
            nr_migrations: 0,
            last_queued: 0,
            run_delay: 0,
            pcount: 0,
            pending: None,
            se: SchedEntity::default(),
            rt: SchedRtEntity::default(),
            wrr: SchedWrrEntity::default(),
        };
        match policy {
            SCHED_FIFO | SCHED_RR => d.rt_priority = param.clamp(1, MAX_USER_RT_PRIO),
            SCHED_WRR => {
                let w = if param == 0 {
                    WRR_DEFAULT_WEIGHT
                } else {
                    param
                };
                d.wrr
                    .set_weight_fresh(w.clamp(WRR_MIN_WEIGHT, WRR_MAX_WEIGHT));
            }
            _ => {}
        }
        d.se.set_weight(fair::weight_of(policy, 0));
        SchedEntities {
            cpu: AtomicUsize::new(0),
            data: UnsafeCell::new(d),
        }
    }

    /// The CPU the task is on or last ran on.
    pub fn cpu(&self) -> usize {
        self.cpu.load(Ordering::Acquire)
    }
}

/// The state in [`SchedEntities`] (under its owning lock).
pub struct SchedData<T: SchedTask> {
    /// The queue's reference while `on_rq`.
    keep: Option<T::Ref>,
    on_rq: bool,
    policy: u32,
    rt_priority: u32,
    nice: i32,
    reset_on_fork: bool,
    exec_start: u64,
    sum_exec_runtime: u64,
    nr_migrations: u64,
    /// schedstats: when it last started waiting for its CPU, the total of
    /// those waits, and how many times it got the CPU.
    last_queued: u64,
    run_delay: u64,
    pcount: u64,
    /// A move the running task owes when it leaves its CPU.
    pending: Option<MigrateReason>,
    pub(crate) se: SchedEntity,
    pub(crate) rt: SchedRtEntity,
    pub(crate) wrr: SchedWrrEntity,
}

/// The entities of a live task.
#[inline]
pub(crate) fn data<T: SchedTask>(p: NonNull<T>) -> *mut SchedData<T> {
    // SAFETY: every task pointer the crate holds is live (kept by its
    // queue's reference or by the caller's).
    unsafe { (*p.as_ptr()).entities().data.get() }
}

#[inline]
pub(crate) fn tid<T: SchedTask>(p: NonNull<T>) -> TaskId {
    // SAFETY: as in `data`.
    let t = unsafe { p.as_ref() };
    TaskId {
        pid: t.pid(),
        tgid: t.tgid(),
    }
}

#[inline]
pub(crate) fn mask_of<T: SchedTask>(p: NonNull<T>) -> u64 {
    // SAFETY: as in `data`.
    unsafe { p.as_ref() }.cpus_allowed()
}

#[inline]
fn set_cpu<T: SchedTask>(p: NonNull<T>, cpu: usize) {
    // SAFETY: as in `data`.
    unsafe { p.as_ref() }
        .entities()
        .cpu
        .store(cpu, Ordering::Release);
}

#[inline]
fn cpu_of<T: SchedTask>(p: NonNull<T>) -> usize {
    // SAFETY: as in `data`.
    unsafe { p.as_ref() }.entities().cpu()
}

/// The classes, highest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClassId {
    /// `rt_sched_class`: SCHED_FIFO, SCHED_RR.
    Rt,
    /// The lab's `wrr_sched_class`: SCHED_WRR.
    Wrr,
    /// `fair_sched_class`: SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE.
    Fair,
    /// `idle_sched_class`: the idle loop (no task of the kernel's).
    Idle,
}

/// The class of a policy.
pub fn class_of_policy(policy: u32) -> ClassId {
    match policy {
        SCHED_FIFO | SCHED_RR => ClassId::Rt,
        SCHED_WRR => ClassId::Wrr,
        _ => ClassId::Fair,
    }
}

/// Whether the policy is one this scheduler runs.
pub fn valid_policy(policy: u32) -> bool {
    matches!(
        policy,
        SCHED_NORMAL | SCHED_FIFO | SCHED_RR | SCHED_BATCH | SCHED_IDLE | SCHED_WRR
    )
}

/// What placement is for (`WF_TTWU`, `WF_FORK`, `WF_EXEC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectFlags {
    /// A wake-up.
    Wakeup,
    /// A new task.
    Fork,
    /// An exec.
    Exec,
}

/// The context a class operation runs in.
pub struct Ctx<'a> {
    /// The observer.
    pub obs: &'a dyn SchedObserver,
    /// The knobs.
    pub tun: &'a Tunables,
}

/// Linux's `struct sched_class`: one scheduling class's operations. The
/// run queue is locked by the caller; `p` is a task of this class.
pub trait SchedClass<T: SchedTask>: Sync {
    /// The class.
    fn id(&self) -> ClassId;
    /// Put `p` on the class's queue of `rq`.
    fn enqueue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, cx: &Ctx);
    /// Take `p` off the class's queue.
    fn dequeue_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, flags: u32, cx: &Ctx);
    /// `sched_yield` of the current task.
    fn yield_task(&self, rq: &mut RqInner<T>, cx: &Ctx);
    /// A task of this class woke on `rq` whose current task is of this
    /// class too: preempt it if `p` should run first.
    fn wakeup_preempt(&self, rq: &mut RqInner<T>, p: NonNull<T>, cx: &Ctx);
    /// The class's next task, or None.
    fn pick_next_task(&self, rq: &mut RqInner<T>, cx: &Ctx) -> Option<NonNull<T>>;
    /// The current task `p` leaves the CPU.
    fn put_prev_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, cx: &Ctx);
    /// `p` becomes the current task.
    fn set_next_task(&self, rq: &mut RqInner<T>, p: NonNull<T>, first: bool, cx: &Ctx);
    /// Charge `delta` ns of run time to the current task `p`.
    fn update_curr(&self, rq: &mut RqInner<T>, p: NonNull<T>, delta: u64, cx: &Ctx);
    /// The periodic tick while `p` runs.
    fn task_tick(&self, rq: &mut RqInner<T>, p: NonNull<T>, cx: &Ctx);
    /// The CPU for `p` (from `prev_cpu`): the run queues are not locked.
    fn select_task_rq(
        &self,
        rqs: &[Rq<T>],
        p: NonNull<T>,
        prev_cpu: usize,
        why: SelectFlags,
    ) -> usize;
    /// Load balancing into the idle CPU `this` (`newidle_balance`'s
    /// class part): true if a task was pulled.
    fn balance(&self, s: &dyn BalanceOps<T>, this: usize, now: u64) -> bool;
    /// A new task of this class (not yet queued; owned by the caller).
    fn task_fork(&self, p: NonNull<T>);
    /// `p` died.
    fn task_dead(&self, _p: NonNull<T>) {}
    /// `p` leaves this class.
    fn switched_from(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _cx: &Ctx) {}
    /// `p` enters this class.
    fn switched_to(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _cx: &Ctx) {}
    /// `p`'s priority (rt priority, nice or WRR weight) changed from `old`.
    fn prio_changed(&self, _rq: &mut RqInner<T>, _p: NonNull<T>, _old: i64, _cx: &Ctx) {}
    /// `sched_rr_get_interval`, in ns.
    fn get_rr_interval(&self, rq: &RqInner<T>, p: NonNull<T>) -> u64;
}

/// What a class's `balance` may do to the machine.
pub trait BalanceOps<T: SchedTask> {
    /// The run queues.
    fn rqs(&self) -> &[Rq<T>];
    /// Move the queued, not running task `p` from `from` to `to` if it is
    /// still there and `ok` still holds with both run queues locked.
    fn move_task(
        &self,
        from: usize,
        to: usize,
        now: u64,
        why: MigrateReason,
        choose: &mut Chooser<'_, T>,
    ) -> Option<(TaskId, u32)>;
}

/// A balance's choice of the task to move, given the source and the
/// destination run queues (both locked).
pub type Chooser<'a, T> = dyn FnMut(&RqInner<T>, &RqInner<T>) -> Option<NonNull<T>> + 'a;

fn class<T: SchedTask>(id: ClassId) -> &'static dyn SchedClass<T> {
    match id {
        ClassId::Rt => &rt::RtClass,
        ClassId::Wrr => &wrr::WrrClass,
        ClassId::Fair => &fair::FairClass,
        ClassId::Idle => &IdleClass,
    }
}

fn class_of<T: SchedTask>(p: NonNull<T>) -> ClassId {
    // SAFETY: the caller holds the lock owning `p`'s entities.
    class_of_policy(unsafe { (*data(p)).policy })
}

/// `idle_sched_class`: nothing to run. ferrite's idle loop is the
/// kernel's hart loop, not a task, so this class never has one.
struct IdleClass;

impl<T: SchedTask> SchedClass<T> for IdleClass {
    fn id(&self) -> ClassId {
        ClassId::Idle
    }
    fn enqueue_task(&self, _: &mut RqInner<T>, _: NonNull<T>, _: u32, _: &Ctx) {}
    fn dequeue_task(&self, _: &mut RqInner<T>, _: NonNull<T>, _: u32, _: &Ctx) {}
    fn yield_task(&self, _: &mut RqInner<T>, _: &Ctx) {}
    fn wakeup_preempt(&self, _: &mut RqInner<T>, _: NonNull<T>, _: &Ctx) {}
    fn pick_next_task(&self, _: &mut RqInner<T>, _: &Ctx) -> Option<NonNull<T>> {
        None
    }
    fn put_prev_task(&self, _: &mut RqInner<T>, _: NonNull<T>, _: &Ctx) {}
    fn set_next_task(&self, _: &mut RqInner<T>, _: NonNull<T>, _: bool, _: &Ctx) {}
    fn update_curr(&self, _: &mut RqInner<T>, _: NonNull<T>, _: u64, _: &Ctx) {}
    fn task_tick(&self, _: &mut RqInner<T>, _: NonNull<T>, _: &Ctx) {}
    fn select_task_rq(&self, _: &[Rq<T>], _: NonNull<T>, prev: usize, _: SelectFlags) -> usize {
        prev
    }
    fn balance(&self, _: &dyn BalanceOps<T>, _: usize, _: u64) -> bool {
        false
    }
    fn task_fork(&self, _: NonNull<T>) {}
    fn get_rr_interval(&self, _: &RqInner<T>, _: NonNull<T>) -> u64 {
        0
    }
}

/// The knobs (`/proc/sys/kernel/sched_*`).
pub struct Tunables {
    /// `sched_rt_period_us`, in ns.
    pub rt_period_ns: AtomicU64,
    /// `sched_rt_runtime_us`, in ns (-1: no throttling).
    pub rt_runtime_ns: AtomicI64,
    /// The WRR periodic balance interval, in ns.
    pub wrr_balance_interval_ns: AtomicU64,
    /// Whether the WRR periodic balance runs at all.
    pub wrr_balance: AtomicBool,
    /// Whether idle CPUs pull tasks.
    pub idle_balance: AtomicBool,
}

impl Default for Tunables {
    fn default() -> Self {
        Tunables {
            rt_period_ns: AtomicU64::new(RT_PERIOD_NS),
            rt_runtime_ns: AtomicI64::new(RT_RUNTIME_NS),
            wrr_balance_interval_ns: AtomicU64::new(WRR_BALANCE_INTERVAL_NS),
            wrr_balance: AtomicBool::new(true),
            idle_balance: AtomicBool::new(true),
        }
    }
}

/// A run queue's state under its lock (`struct rq`).
pub struct RqInner<T: SchedTask> {
    /// This CPU.
    pub cpu: usize,
    /// `rq->clock`: the last time seen, in ns.
    pub clock: u64,
    /// The running task (still counted as queued).
    curr: Option<NonNull<T>>,
    /// Who ran last (for the switch event).
    last: Option<TaskId>,
    /// Runnable tasks, the running one included.
    nr_running: u32,
    /// Reschedule the current task (`TIF_NEED_RESCHED`).
    resched: bool,
    pub(crate) rt: rt::RtRq<T>,
    pub(crate) wrr: wrr::WrrRq<T>,
    pub(crate) cfs: fair::CfsRq,
    /// Counters last published (to report changes only).
    published: (u32, u64),
    /// schedstats (`/proc/schedstat`).
    pub stats: RqStats,
}

/// A run queue's schedstats (`struct rq`'s `yld_count` ... `pcount`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RqStats {
    /// `sched_yield` calls.
    pub yld_count: u64,
    /// Picks, and picks that found nothing (the CPU went idle).
    pub sched_count: u64,
    pub sched_goidle: u64,
    /// Wake-ups onto this CPU, and those onto the CPU the task was on.
    pub ttwu_count: u64,
    pub ttwu_local: u64,
    /// ns the tasks ran here, ns they waited here, times one got the CPU.
    pub rq_cpu_time: u64,
    pub run_delay: u64,
    pub pcount: u64,
}

// SAFETY: the pointers are to tasks whose entities this lock protects.
unsafe impl<T: SchedTask> Send for RqInner<T> {}

impl<T: SchedTask> RqInner<T> {
    fn new(cpu: usize) -> Self {
        RqInner {
            cpu,
            clock: 0,
            curr: None,
            last: None,
            nr_running: 0,
            resched: false,
            rt: rt::RtRq::new(),
            wrr: wrr::WrrRq::new(),
            cfs: fair::CfsRq::new(),
            published: (0, 0),
            stats: RqStats::default(),
        }
    }

    /// The running task.
    pub fn curr(&self) -> Option<NonNull<T>> {
        self.curr
    }

    /// Runnable tasks, the running one included.
    pub fn nr_running(&self) -> u32 {
        self.nr_running
    }

    /// The total weight of the runnable WRR tasks.
    pub fn wrr_weight(&self) -> u64 {
        self.wrr.total_weight
    }

    /// Ask for a reschedule of the current task.
    pub fn resched_curr(&mut self) {
        self.resched = true;
    }

    fn update_clock(&mut self, now: u64) {
        if now > self.clock {
            self.clock = now;
        }
    }

    /// `update_curr`: charge the running task its time since it was last
    /// charged.
    fn update_curr(&mut self, cx: &Ctx) {
        let Some(p) = self.curr else { return };
        let d = data(p);
        // SAFETY: `p` is queued here; we hold this run queue's lock.
        let delta = unsafe {
            let delta = self.clock.saturating_sub((*d).exec_start);
            (*d).exec_start = self.clock;
            (*d).sum_exec_runtime += delta;
            delta
        };
        self.stats.rq_cpu_time += delta;
        if delta > 0 {
            class::<T>(class_of(p)).update_curr(self, p, delta, cx);
        }
    }

    /// `enqueue_task` + `activate`: `p` joins this run queue, which keeps
    /// `r` while it is queued.
    fn enqueue(&mut self, r: T::Ref, flags: u32, cx: &Ctx) {
        let p = NonNull::from(&*r);
        let d = data(p);
        // SAFETY: we hold this run queue's lock and the caller owns the
        // unqueued task's entities (pi_lock); they become ours now.
        unsafe {
            debug_assert!(!(*d).on_rq);
            (*d).keep = Some(r);
            (*d).on_rq = true;
            (*d).last_queued = self.clock;
        }
        self.nr_running += 1;
        class::<T>(class_of(p)).enqueue_task(self, p, flags, cx);
    }

    /// `dequeue_task`: `p` (queued here, not running) leaves; its
    /// reference is given back (drop it after unlocking).
    fn dequeue(&mut self, p: NonNull<T>, flags: u32, cx: &Ctx) -> Option<T::Ref> {
        debug_assert!(self.curr != Some(p));
        class::<T>(class_of(p)).dequeue_task(self, p, flags, cx);
        self.nr_running -= 1;
        let d = data(p);
        // SAFETY: queued here, under our lock.
        unsafe {
            (*d).on_rq = false;
            (*d).keep.take()
        }
    }

    /// If the woken `p` should preempt the current task
    /// (`wakeup_preempt` across classes).
    fn check_preempt(&mut self, p: NonNull<T>, cx: &Ctx) {
        match self.curr {
            None => self.resched = true,
            Some(c) => {
                let (pc, cc) = (class_of(p), class_of(c));
                if pc < cc {
                    self.resched = true;
                } else if pc == cc {
                    class::<T>(pc).wakeup_preempt(self, p, cx);
                }
            }
        }
    }

    /// Report the counters if they changed.
    fn publish(&mut self, cx: &Ctx) {
        let now = (self.nr_running, self.wrr.total_weight);
        if now != self.published {
            self.published = now;
            cx.obs.counters(self.clock, self.cpu, now.0, now.1);
        }
    }

    /// Walk the WRR queue front to back (each task, whether it runs).
    pub fn for_each_wrr(&self, mut f: impl FnMut(NonNull<T>, bool)) {
        // SAFETY: we hold the lock (&self of the guarded value).
        unsafe { self.wrr.queue.for_each(|p| f(p, self.curr == Some(p))) }
    }
}

/// One CPU's run queue (`struct rq`), with counters readable without its
/// lock.
pub struct Rq<T: SchedTask> {
    /// The CPU.
    pub cpu: usize,
    inner: SpinLock<RqInner<T>>,
    nr_running: AtomicU32,
    wrr_weight: AtomicU64,
    nr_wrr: AtomicU32,
    need_resched: AtomicBool,
}

impl<T: SchedTask> Rq<T> {
    fn new(cpu: usize) -> Self {
        Rq {
            cpu,
            inner: SpinLock::new(RqInner::new(cpu)),
            nr_running: AtomicU32::new(0),
            wrr_weight: AtomicU64::new(0),
            nr_wrr: AtomicU32::new(0),
            need_resched: AtomicBool::new(false),
        }
    }

    /// `rq_lock`.
    pub fn lock(&self) -> SpinLockGuard<'_, RqInner<T>> {
        self.inner.lock()
    }

    /// Runnable tasks (a racy read).
    pub fn nr_running(&self) -> u32 {
        self.nr_running.load(Ordering::Relaxed)
    }

    /// Total WRR weight (a racy read).
    pub fn wrr_weight(&self) -> u64 {
        self.wrr_weight.load(Ordering::Relaxed)
    }

    /// Runnable WRR tasks (a racy read).
    pub fn nr_wrr(&self) -> u32 {
        self.nr_wrr.load(Ordering::Relaxed)
    }

    /// Mirror the locked counters into the lock-free ones and turn a
    /// reschedule request into the flag; true if one was raised.
    fn sync(&self, g: &mut RqInner<T>, cx: &Ctx) -> bool {
        self.nr_running.store(g.nr_running, Ordering::Relaxed);
        self.wrr_weight.store(g.wrr.total_weight, Ordering::Relaxed);
        self.nr_wrr.store(g.wrr.nr, Ordering::Relaxed);
        g.publish(cx);
        if core::mem::take(&mut g.resched) {
            self.need_resched.store(true, Ordering::Release);
            true
        } else {
            false
        }
    }
}

/// CPUs whose current task must reschedule (bit i = CPU i): the kernel
/// sends each a reschedule IPI (sets its mailbox bit, wakes it if idle).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Kick(pub u64);

impl Kick {
    fn add(&mut self, cpu: usize) {
        self.0 |= 1u64 << (cpu % 64);
    }
    /// The CPUs in it.
    pub fn cpus(self) -> impl Iterator<Item = usize> {
        // The set bits, lowest first: one step per CPU in the set, not 64.
        let mut bits = self.0;
        core::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let c = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(c)
        })
    }
}

/// What `sched_setscheduler`/`sched_setattr` ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchedAttr {
    /// The policy.
    pub policy: u32,
    /// `sched_priority`: the rt priority, or the WRR weight (0 = 10).
    pub priority: u32,
    /// A new nice value (sched_setattr), if any.
    pub nice: Option<i32>,
    /// `SCHED_RESET_ON_FORK`.
    pub reset_on_fork: bool,
}

/// Why a policy call was refused (the kernel maps it to EINVAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// A bad policy, priority or weight; or the task is not SCHED_WRR.
    Invalid,
}

/// A task's scheduling state (`/proc/PID/sched`, `sched_getattr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSchedInfo {
    pub policy: u32,
    pub rt_priority: u32,
    pub nice: i32,
    pub reset_on_fork: bool,
    /// Linux's `prio` (0..99 rt, 100..139 normal; WRR tasks report 120).
    pub prio: i32,
    pub wrr_weight: u32,
    /// The remaining WRR slice and the current burst's length, in ns.
    pub wrr_time_slice: u64,
    pub wrr_slice_len: u64,
    pub sum_exec_runtime: u64,
    pub vruntime: u64,
    pub nr_migrations: u64,
    /// schedstats: ns spent waiting for a CPU, times it got one.
    pub run_delay: u64,
    pub pcount: u64,
    pub cpu: usize,
    pub on_rq: bool,
    pub running: bool,
    pub rr_interval_ns: u64,
}

/// A WRR task in a CPU's dump (`/proc/sched_debug`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrrTaskDump {
    pub task: TaskId,
    pub weight: u32,
    pub time_slice: u64,
    pub running: bool,
}

/// A CPU's run queue summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RqDump {
    pub cpu: usize,
    pub clock: u64,
    pub nr_running: u32,
    pub curr: Option<TaskId>,
    pub rt_nr_running: u32,
    pub rt_throttled: bool,
    pub rt_time: u64,
    pub cfs_nr_running: u32,
    pub min_vruntime: u64,
    pub wrr_nr_running: u32,
    pub wrr_total_weight: u64,
    /// The WRR queue, front first.
    pub wrr_tasks: Vec<WrrTaskDump>,
    /// schedstats.
    pub stats: RqStats,
}

/// The scheduler: a run queue per CPU, the knobs and the observer.
pub struct Sched<T: SchedTask, O: SchedObserver = NoObserver> {
    rqs: Box<[Rq<T>]>,
    /// The knobs.
    pub tunables: Tunables,
    /// The observer.
    pub observer: O,
    next_balance: AtomicU64,
    /// Periodic balances that moved a task, and that found none.
    pub nr_balance_moves: AtomicU64,
    pub nr_balance_idle: AtomicU64,
}

impl<T: SchedTask, O: SchedObserver> Sched<T, O> {
    /// A scheduler for `nr_cpus` CPUs (1..=64).
    pub fn new(nr_cpus: usize, observer: O) -> Self {
        assert!((1..=64).contains(&nr_cpus), "1..=64 CPUs");
        Sched {
            rqs: (0..nr_cpus).map(Rq::new).collect(),
            tunables: Tunables::default(),
            observer,
            next_balance: AtomicU64::new(0),
            nr_balance_moves: AtomicU64::new(0),
            nr_balance_idle: AtomicU64::new(0),
        }
    }

    fn cx(&self) -> Ctx<'_> {
        Ctx {
            obs: &self.observer,
            tun: &self.tunables,
        }
    }

    /// The number of CPUs.
    pub fn nr_cpus(&self) -> usize {
        self.rqs.len()
    }

    /// CPU `cpu`'s run queue.
    pub fn rq(&self, cpu: usize) -> &Rq<T> {
        &self.rqs[cpu]
    }

    /// `double_rq_lock`: both run queues, the lower CPU first. For `a ==
    /// b` the second guard is None.
    pub fn double_rq_lock(
        &self,
        a: usize,
        b: usize,
    ) -> (
        SpinLockGuard<'_, RqInner<T>>,
        Option<SpinLockGuard<'_, RqInner<T>>>,
    ) {
        if a == b {
            return (self.rqs[a].lock(), None);
        }
        if a < b {
            let ga = self.rqs[a].lock();
            let gb = self.rqs[b].lock();
            (ga, Some(gb))
        } else {
            let gb = self.rqs[b].lock();
            let ga = self.rqs[a].lock();
            (ga, Some(gb))
        }
    }

    /// `task_rq_lock`: the run queue `p` is on, locked (the caller holds
    /// `p`'s pi_lock).
    fn task_rq_lock(&self, p: NonNull<T>) -> (usize, SpinLockGuard<'_, RqInner<T>>) {
        loop {
            let c = cpu_of(p);
            let g = self.rqs[c].lock();
            if cpu_of(p) == c {
                return (c, g);
            }
        }
    }

    /// Whether CPU `cpu` was asked to reschedule; clears the request.
    pub fn test_and_clear_need_resched(&self, cpu: usize) -> bool {
        self.rqs[cpu].need_resched.swap(false, Ordering::AcqRel)
    }

    /// Whether CPU `cpu` was asked to reschedule.
    pub fn need_resched(&self, cpu: usize) -> bool {
        self.rqs[cpu].need_resched.load(Ordering::Acquire)
    }

    /// `sched_fork`: `child` (new, on no queue, owned by the caller) takes
    /// `parent`'s policy and parameters with fresh slices, on the parent's
    /// CPU. `SCHED_RESET_ON_FORK` sends an rt child back to SCHED_NORMAL
    /// and a negative nice to 0.
    pub fn sched_fork(&self, parent: &T, child: &T) {
        let pp = NonNull::from(parent);
        let cp = NonNull::from(child);
        let (cpu, g) = self.task_rq_lock(pp);
        // SAFETY: parent's entities under its rq lock (or its pi_lock);
        // the child's are the caller's alone.
        unsafe {
            let (pd, cd) = (&*data(pp), &mut *data(cp));
            cd.policy = pd.policy;
            cd.rt_priority = pd.rt_priority;
            cd.nice = pd.nice;
            cd.reset_on_fork = false;
            cd.wrr.set_weight_fresh(pd.wrr.weight());
            if pd.reset_on_fork {
                if matches!(pd.policy, SCHED_FIFO | SCHED_RR) {
                    cd.policy = SCHED_NORMAL;
                    cd.rt_priority = 0;
                }
                if cd.nice < 0 {
                    cd.nice = 0;
                }
            }
            cd.se.set_weight(fair::weight_of(cd.policy, cd.nice));
            cd.sum_exec_runtime = 0;
            cd.nr_migrations = 0;
            cd.run_delay = 0;
            cd.pcount = 0;
            cd.pending = None;
        }
        drop(g);
        set_cpu(cp, cpu);
        class::<T>(class_of(cp)).task_fork(cp);
    }

    /// `wake_up_new_task`: place the new task (`select_task_rq` with
    /// fork's rules) and queue it.
    pub fn wake_up_new_task(&self, child: T::Ref, now: u64) -> Kick {
        self.activate(child, now, SelectFlags::Fork)
    }

    /// `ttwu_do_activate`: the sleeping `p` (on no queue) becomes runnable
    /// on the CPU its class selects.
    pub fn activate_task(&self, p: T::Ref, now: u64) -> Kick {
        self.activate(p, now, SelectFlags::Wakeup)
    }

    fn activate(&self, r: T::Ref, now: u64, why: SelectFlags) -> Kick {
        let p = NonNull::from(&*r);
        let cx = self.cx();
        {
            // `ttwu_runnable`: a task still queued (it never left its
            // CPU's queue) only becomes running again.
            let (_, g) = self.task_rq_lock(p);
            // SAFETY: under p's rq lock.
            if unsafe { (*data(p)).on_rq } {
                drop(g);
                return Kick::default();
            }
        }
        let prev = cpu_of(p);
        let cls = class::<T>(class_of(p));
        let target = cls.select_task_rq(&self.rqs, p, prev.min(self.rqs.len() - 1), why);
        let mut kick = Kick::default();
        let rq = &self.rqs[target];
        let mut g = rq.lock();
        g.update_clock(now);
        if target != prev {
            set_cpu(p, target);
            // SAFETY: the unqueued task's entities are the caller's.
            unsafe { (*data(p)).nr_migrations += 1 };
            let reason = match why {
                SelectFlags::Fork => MigrateReason::Fork,
                SelectFlags::Exec => MigrateReason::Exec,
                SelectFlags::Wakeup => MigrateReason::Wakeup,
            };
            self.observer.migrate(now, tid(p), prev, target, reason);
        }
        g.stats.ttwu_count += 1;
        if target == prev {
            g.stats.ttwu_local += 1;
        }
        let mut flags = ENQUEUE_WAKEUP;
        if why == SelectFlags::Fork {
            flags |= ENQUEUE_NEW;
        }
        if target != prev {
            flags |= ENQUEUE_MIGRATED;
        }
        g.update_curr(&cx);
        g.enqueue(r, flags, &cx);
        if why == SelectFlags::Fork {
            self.observer.task_new(now, tid(p), target);
        }
        self.observer.wakeup(now, tid(p), target);
        g.check_preempt(p, &cx);
        if rq.sync(&mut g, &cx) {
            kick.add(target);
        }
        kick
    }

    /// `pick_next_task` + `set_next_task` for CPU `cpu` (whose previous
    /// task was put back with [`Sched::put_prev_task`]): the task to run,
    /// or None (idle). An idle CPU first tries to pull a task
    /// (`newidle_balance`).
    pub fn pick_next_task(&self, cpu: usize, now: u64) -> Option<T::Ref> {
        for attempt in 0..2 {
            let cx = self.cx();
            let rq = &self.rqs[cpu];
            let mut g = rq.lock();
            g.update_clock(now);
            debug_assert!(g.curr.is_none(), "pick with a current task");
            for id in [ClassId::Rt, ClassId::Wrr, ClassId::Fair] {
                let c = class::<T>(id);
                if let Some(p) = c.pick_next_task(&mut g, &cx) {
                    c.set_next_task(&mut g, p, true, &cx);
                    g.curr = Some(p);
                    let clock = g.clock;
                    // SAFETY: `p` is queued here, under our lock.
                    let r = unsafe {
                        let d = &mut *data(p);
                        d.exec_start = clock;
                        let waited = clock.saturating_sub(d.last_queued);
                        d.run_delay += waited;
                        d.pcount += 1;
                        g.stats.run_delay += waited;
                        d.keep.clone()
                    };
                    g.stats.sched_count += 1;
                    g.stats.pcount += 1;
                    let id = tid(p);
                    if g.last != Some(id) {
                        self.observer.switch(now, cpu, g.last, Some(id));
                        g.last = Some(id);
                    }
                    rq.need_resched.store(false, Ordering::Release);
                    g.resched = false;
                    rq.sync(&mut g, &cx);
                    return r;
                }
            }
            if attempt == 0 {
                g.stats.sched_count += 1;
                g.stats.sched_goidle += 1;
            }
            if g.last.is_some() {
                self.observer.switch(now, cpu, g.last, None);
                g.last = None;
            }
            rq.sync(&mut g, &cx);
            drop(g);
            if attempt == 1
                || self.rqs.len() == 1
                || !self.tunables.idle_balance.load(Ordering::Relaxed)
                || !self.idle_balance(cpu, now)
            {
                break;
            }
        }
        None
    }

    /// `finish_task_switch` of `p`, which ran on `cpu`: charge its time;
    /// if it is no longer runnable (it sleeps, stopped or died) take it
    /// off the queue; if it must move (its affinity changed, or exec),
    /// move it now that it is off the CPU.
    pub fn put_prev_task(&self, cpu: usize, p: &T, runnable: bool, now: u64) -> Kick {
        let p = NonNull::from(p);
        let cx = self.cx();
        let rq = &self.rqs[cpu];
        let mut kick = Kick::default();
        let mut g = rq.lock();
        g.update_clock(now);
        if g.curr != Some(p) {
            debug_assert!(false, "put_prev_task of a task that is not current");
            return kick;
        }
        g.update_curr(&cx);
        class::<T>(class_of(p)).put_prev_task(&mut g, p, &cx);
        g.curr = None;
        // SAFETY: queued here, under our lock.
        unsafe { (*data(p)).last_queued = g.clock };
        let mut dropped = None;
        // SAFETY: queued here, under our lock.
        let pending = unsafe { (*data(p)).pending.take() };
        if !runnable {
            dropped = g.dequeue(p, DEQUEUE_SLEEP, &cx);
        }
        let must_move = runnable && (pending.is_some() || !cpu_allowed(mask_of(p), cpu));
        if rq.sync(&mut g, &cx) {
            kick.add(cpu);
        }
        drop(g);
        drop(dropped);
        if must_move {
            let why = pending.unwrap_or(MigrateReason::Affinity);
            let sel = if why == MigrateReason::Exec {
                SelectFlags::Exec
            } else {
                SelectFlags::Wakeup
            };
            // SAFETY: the caller holds p's pi_lock: its policy is stable.
            let cls = class::<T>(class_of(p));
            let to = cls.select_task_rq(&self.rqs, p, cpu, sel);
            if to != cpu {
                kick.0 |= self.migrate_queued(p, cpu, to, now, why).0;
            }
        }
        kick
    }

    /// `p`, which ran on `cpu`, died (after its last
    /// [`Sched::put_prev_task`]): its class's `task_dead`, and the event.
    pub fn task_dead(&self, cpu: usize, p: &T, now: u64) {
        let p = NonNull::from(p);
        class::<T>(class_of(p)).task_dead(p);
        self.observer.task_dead(now, tid(p), cpu);
    }

    /// Move the queued task `p` from `from` to `to` if it is still queued
    /// there and not running.
    fn migrate_queued(
        &self,
        p: NonNull<T>,
        from: usize,
        to: usize,
        now: u64,
        why: MigrateReason,
    ) -> Kick {
        let cx = self.cx();
        let mut kick = Kick::default();
        let (mut gf, gt) = self.double_rq_lock(from, to);
        let Some(mut gt) = gt else { return kick };
        // SAFETY: we hold `from`'s lock; `p` is checked to be queued there.
        let queued = cpu_of(p) == from && gf.curr != Some(p) && unsafe { (*data(p)).on_rq };
        if !queued {
            return kick;
        }
        gf.update_clock(now);
        gt.update_clock(now);
        if let Some(r) = gf.dequeue(p, DEQUEUE_MIGRATE, &cx) {
            set_cpu(p, to);
            // SAFETY: p is ours under both locks while it moves.
            unsafe { (*data(p)).nr_migrations += 1 };
            self.observer.migrate(now, tid(p), from, to, why);
            gt.update_curr(&cx);
            gt.enqueue(r, ENQUEUE_MIGRATED, &cx);
            gt.check_preempt(p, &cx);
        }
        if self.rqs[from].sync(&mut gf, &cx) {
            kick.add(from);
        }
        if self.rqs[to].sync(&mut gt, &cx) {
            kick.add(to);
        }
        kick
    }

    /// The tick on `cpu` (`scheduler_tick`): charge the running task and
    /// run its class's tick. True if the running task should leave the
    /// CPU (need_resched).
    pub fn task_tick(&self, cpu: usize, now: u64) -> bool {
        let cx = self.cx();
        let rq = &self.rqs[cpu];
        let mut g = rq.lock();
        g.update_clock(now);
        g.update_curr(&cx);
        // The rt period timer: a throttled rt queue with tasks runs again
        // once its new period starts.
        let was = g.rt.throttled;
        let clock = g.clock;
        g.rt.refresh(clock, &self.tunables);
        if was && !g.rt.throttled && g.rt.nr > 0 {
            g.resched = true;
        }
        if let Some(p) = g.curr {
            class::<T>(class_of(p)).task_tick(&mut g, p, &cx);
        }
        rq.sync(&mut g, &cx);
        drop(g);
        self.need_resched(cpu)
    }

    /// `sched_yield` of `p`, running on `cpu`.
    pub fn yield_task(&self, cpu: usize, p: &T, now: u64) {
        let p = NonNull::from(p);
        let cx = self.cx();
        let rq = &self.rqs[cpu];
        let mut g = rq.lock();
        if g.curr != Some(p) {
            return;
        }
        g.update_clock(now);
        g.update_curr(&cx);
        g.stats.yld_count += 1;
        class::<T>(class_of(p)).yield_task(&mut g, &cx);
        rq.sync(&mut g, &cx);
    }

    /// The periodic WRR balance, if its interval passed (any CPU may call
    /// this from its tick; one of them does the work). Returns the CPUs to
    /// kick.
    pub fn balance_tick(&self, now: u64) -> Kick {
        if self.rqs.len() < 2 || !self.tunables.wrr_balance.load(Ordering::Relaxed) {
            return Kick::default();
        }
        let next = self.next_balance.load(Ordering::Relaxed);
        let interval = self
            .tunables
            .wrr_balance_interval_ns
            .load(Ordering::Relaxed)
            .max(1);
        if now < next {
            return Kick::default();
        }
        let nb = if next == 0 {
            now + interval
        } else {
            (next + interval).max(now)
        };
        if self
            .next_balance
            .compare_exchange(next, nb, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Kick::default();
        }
        if next == 0 {
            return Kick::default();
        }
        wrr::periodic_balance(self, now)
    }

    /// Idle balance into `cpu`: the WRR pull, then rt and fair.
    fn idle_balance(&self, cpu: usize, now: u64) -> bool {
        for id in [ClassId::Wrr, ClassId::Fair, ClassId::Rt] {
            if class::<T>(id).balance(self, cpu, now) {
                return true;
            }
        }
        false
    }

    /// The caller changed `p`'s affinity mask: move it if its CPU is no
    /// longer allowed (at once if queued, when it leaves its CPU if it
    /// runs).
    pub fn set_cpus_allowed(&self, p: &T, now: u64) -> Kick {
        let p = NonNull::from(p);
        let mask = mask_of(p);
        let (cpu, mut g) = self.task_rq_lock(p);
        if cpu_allowed(mask, cpu) {
            return Kick::default();
        }
        // SAFETY: under p's rq lock (or its pi_lock if unqueued).
        let on_rq = unsafe { (*data(p)).on_rq };
        if !on_rq {
            drop(g);
            // Sleeping: placed when it wakes; keep task_cpu() allowed.
            let to = (0..self.rqs.len())
                .find(|&c| cpu_allowed(mask, c))
                .unwrap_or(cpu);
            set_cpu(p, to);
            return Kick::default();
        }
        if g.curr == Some(p) {
            // SAFETY: as above.
            unsafe { (*data(p)).pending = Some(MigrateReason::Affinity) };
            g.resched = true;
            let mut k = Kick::default();
            let cx = self.cx();
            if self.rqs[cpu].sync(&mut g, &cx) {
                k.add(cpu);
            }
            return k;
        }
        drop(g);
        let cls = class::<T>(class_of(p));
        let to = cls.select_task_rq(&self.rqs, p, cpu, SelectFlags::Wakeup);
        self.migrate_queued(p, cpu, to, now, MigrateReason::Affinity)
    }

    /// `sched_exec`: the running `p` on `cpu` execs; if its class places
    /// it elsewhere, it moves when it next leaves its CPU (which is asked
    /// to reschedule).
    pub fn sched_exec(&self, cpu: usize, p: &T) -> Kick {
        let p = NonNull::from(p);
        let cls = class::<T>(class_of(p));
        let to = cls.select_task_rq(&self.rqs, p, cpu, SelectFlags::Exec);
        let mut k = Kick::default();
        if to == cpu {
            return k;
        }
        let rq = &self.rqs[cpu];
        let mut g = rq.lock();
        if g.curr == Some(p) {
            // SAFETY: under p's rq lock.
            unsafe { (*data(p)).pending = Some(MigrateReason::Exec) };
            g.resched = true;
        }
        let cx = self.cx();
        if rq.sync(&mut g, &cx) {
            k.add(cpu);
        }
        k
    }

    /// `__sched_setscheduler`: change `p`'s policy and parameters. For
    /// SCHED_WRR the priority is the weight (0 = 10): a task already in
    /// WRR keeps its running slice (the new weight applies at the next
    /// refill); one entering WRR gets a fresh slice.
    pub fn setscheduler(&self, p: &T, attr: SchedAttr, now: u64) -> Result<Kick, SchedError> {
        let pp = NonNull::from(p);
        check_attr(&attr)?;
        let cx = self.cx();
        let (cpu, mut g) = self.task_rq_lock(pp);
        g.update_clock(now);
        g.update_curr(&cx);
        let d = data(pp);
        // SAFETY: under p's rq lock (and the caller holds its pi_lock).
        let (old_policy, on_rq, old_prio) = unsafe { ((*d).policy, (*d).on_rq, prio_key(&*d)) };
        let running = g.curr == Some(pp);
        let old_class = class_of_policy(old_policy);
        let new_class = class_of_policy(attr.policy);
        let new_nice = attr.nice.map(|n| n.clamp(-20, 19));
        if old_class == new_class {
            // SAFETY: as above.
            unsafe {
                let dd = &mut *d;
                dd.reset_on_fork = attr.reset_on_fork;
                if let Some(n) = new_nice {
                    dd.nice = n;
                }
            }
            match new_class {
                ClassId::Wrr => {
                    let w = wrr_weight_param(attr.priority);
                    wrr::change_weight(&mut g, pp, w);
                }
                ClassId::Rt => {
                    let requeue = on_rq;
                    if requeue && !running {
                        // Linux re-queues a task whose rt priority changes.
                        class::<T>(ClassId::Rt).dequeue_task(&mut g, pp, 0, &cx);
                    } else if requeue {
                        class::<T>(ClassId::Rt).dequeue_task(&mut g, pp, 0, &cx);
                    }
                    // SAFETY: as above.
                    unsafe {
                        (*d).policy = attr.policy;
                        (*d).rt_priority = attr.priority;
                    }
                    if requeue {
                        let f = if running { ENQUEUE_HEAD } else { 0 };
                        class::<T>(ClassId::Rt).enqueue_task(&mut g, pp, f, &cx);
                    }
                }
                _ => {
                    // SAFETY: as above.
                    unsafe { (*d).policy = attr.policy };
                    fair::reweight(&mut g, pp, running);
                }
            }
            // SAFETY: as above.
            let new_prio = unsafe { prio_key(&*d) };
            class::<T>(new_class).prio_changed(&mut g, pp, old_prio, &cx);
            if on_rq && !running && new_prio != old_prio {
                g.check_preempt(pp, &cx);
            }
        } else {
            if running {
                class::<T>(old_class).put_prev_task(&mut g, pp, &cx);
            }
            if on_rq {
                class::<T>(old_class).dequeue_task(&mut g, pp, 0, &cx);
            }
            class::<T>(old_class).switched_from(&mut g, pp, &cx);
            // SAFETY: as above.
            unsafe {
                let dd = &mut *d;
                dd.policy = attr.policy;
                dd.reset_on_fork = attr.reset_on_fork;
                if let Some(n) = new_nice {
                    dd.nice = n;
                }
                match new_class {
                    ClassId::Rt => dd.rt_priority = attr.priority,
                    ClassId::Wrr => {
                        dd.rt_priority = 0;
                        dd.wrr.set_weight_fresh(wrr_weight_param(attr.priority));
                    }
                    _ => dd.rt_priority = 0,
                }
                dd.se.set_weight(fair::weight_of(dd.policy, dd.nice));
            }
            if on_rq {
                let f = if running { ENQUEUE_HEAD } else { 0 };
                class::<T>(new_class).enqueue_task(&mut g, pp, f, &cx);
            }
            if running {
                class::<T>(new_class).set_next_task(&mut g, pp, false, &cx);
            }
            class::<T>(new_class).switched_to(&mut g, pp, &cx);
            if running {
                // A running task that dropped to a lower class lets a
                // higher one run; one that rose is checked at its tick.
                if new_class > old_class {
                    g.resched = true;
                }
            } else if on_rq {
                g.check_preempt(pp, &cx);
            }
        }
        let mut k = Kick::default();
        if self.rqs[cpu].sync(&mut g, &cx) {
            k.add(cpu);
        }
        Ok(k)
    }

    /// The lab's `sched_setweight`: `p` must be SCHED_WRR and `w` in
    /// 1..=20. The running slice keeps its length.
    pub fn set_wrr_weight(&self, p: &T, w: u32, now: u64) -> Result<(), SchedError> {
        if !(WRR_MIN_WEIGHT..=WRR_MAX_WEIGHT).contains(&w) {
            return Err(SchedError::Invalid);
        }
        let pp = NonNull::from(p);
        let cx = self.cx();
        let (cpu, mut g) = self.task_rq_lock(pp);
        // SAFETY: under p's rq lock.
        if unsafe { (*data(pp)).policy } != SCHED_WRR {
            return Err(SchedError::Invalid);
        }
        g.update_clock(now);
        g.update_curr(&cx);
        wrr::change_weight(&mut g, pp, w);
        let _ = self.rqs[cpu].sync(&mut g, &cx);
        Ok(())
    }

    /// `set_user_nice`.
    pub fn set_nice(&self, p: &T, nice: i32, now: u64) {
        let pp = NonNull::from(p);
        let cx = self.cx();
        let (cpu, mut g) = self.task_rq_lock(pp);
        g.update_clock(now);
        g.update_curr(&cx);
        let running = g.curr == Some(pp);
        // SAFETY: under p's rq lock.
        unsafe { (*data(pp)).nice = nice.clamp(-20, 19) };
        fair::reweight(&mut g, pp, running);
        let _ = self.rqs[cpu].sync(&mut g, &cx);
    }

    /// `p`'s scheduling state.
    pub fn task_info(&self, p: &T) -> TaskSchedInfo {
        let pp = NonNull::from(p);
        let (cpu, g) = self.task_rq_lock(pp);
        // SAFETY: under p's rq lock.
        let d = unsafe { &*data(pp) };
        let cls = class::<T>(class_of_policy(d.policy));
        let mut sum = d.sum_exec_runtime;
        if g.curr == Some(pp) {
            sum += g.clock.saturating_sub(d.exec_start);
        }
        TaskSchedInfo {
            policy: d.policy,
            rt_priority: d.rt_priority,
            nice: d.nice,
            reset_on_fork: d.reset_on_fork,
            prio: match class_of_policy(d.policy) {
                ClassId::Rt => (MAX_RT_PRIO - 1 - d.rt_priority) as i32,
                _ => 120 + d.nice,
            },
            wrr_weight: d.wrr.weight(),
            wrr_time_slice: d.wrr.time_slice,
            wrr_slice_len: d.wrr.slice_len,
            sum_exec_runtime: sum,
            vruntime: d.se.vruntime(),
            nr_migrations: d.nr_migrations,
            run_delay: d.run_delay,
            pcount: d.pcount,
            cpu,
            on_rq: d.on_rq,
            running: g.curr == Some(pp),
            rr_interval_ns: cls.get_rr_interval(&g, pp),
        }
    }

    /// `sched_debug`'s view of CPU `cpu`.
    pub fn dump_rq(&self, cpu: usize) -> RqDump {
        let g = self.rqs[cpu].lock();
        let mut tasks = Vec::new();
        g.for_each_wrr(|p, running| {
            // SAFETY: queued on this rq, under its lock.
            let d = unsafe { &*data(p) };
            tasks.push(WrrTaskDump {
                task: tid(p),
                weight: d.wrr.weight(),
                time_slice: d.wrr.time_slice,
                running,
            });
        });
        RqDump {
            cpu,
            clock: g.clock,
            nr_running: g.nr_running,
            curr: g.curr.map(tid),
            rt_nr_running: g.rt.nr,
            rt_throttled: g.rt.throttled,
            rt_time: g.rt.rt_time,
            cfs_nr_running: g.cfs.nr,
            min_vruntime: g.cfs.min_vruntime,
            wrr_nr_running: g.wrr.nr,
            wrr_total_weight: g.wrr.total_weight,
            wrr_tasks: tasks,
            stats: g.stats,
        }
    }

    /// The debug check: recompute every CPU's counters from its queued
    /// tasks; a drift is reported to the observer as a BUG and returned.
    pub fn check_totals(&self) -> Result<(), usize> {
        let mut bad = None;
        for rq in self.rqs.iter() {
            let g = rq.lock();
            let mut w = 0u64;
            let mut n = 0u32;
            let mut wrong_class = false;
            g.for_each_wrr(|p, _| {
                // SAFETY: queued here, under the lock.
                let d = unsafe { &*data(p) };
                w += d.wrr.weight() as u64;
                n += 1;
                wrong_class |= d.policy != SCHED_WRR || !d.on_rq || cpu_of(p) != rq.cpu;
            });
            let total = g.rt.count() + n + g.cfs.nr;
            if w != g.wrr.total_weight
                || n != g.wrr.nr
                || total != g.nr_running
                || wrong_class
                || rq.wrr_weight() != w
            {
                self.observer
                    .bug(rq.cpu, "WRR totals drifted from the queued tasks");
                bad.get_or_insert(rq.cpu);
            }
        }
        match bad {
            Some(c) => Err(c),
            None => Ok(()),
        }
    }
}

impl<T: SchedTask, O: SchedObserver> BalanceOps<T> for Sched<T, O> {
    fn rqs(&self) -> &[Rq<T>] {
        &self.rqs
    }

    fn move_task(
        &self,
        from: usize,
        to: usize,
        now: u64,
        why: MigrateReason,
        choose: &mut Chooser<'_, T>,
    ) -> Option<(TaskId, u32)> {
        let cx = self.cx();
        let (mut gf, gt) = self.double_rq_lock(from, to);
        let mut gt = gt?;
        gf.update_clock(now);
        gt.update_clock(now);
        let p = choose(&gf, &gt)?;
        debug_assert!(gf.curr != Some(p));
        // SAFETY: queued on `from`, under its lock.
        let w = unsafe { (*data(p)).wrr.weight() };
        let r = gf.dequeue(p, DEQUEUE_MIGRATE, &cx)?;
        set_cpu(p, to);
        // SAFETY: under both locks.
        unsafe { (*data(p)).nr_migrations += 1 };
        let id = tid(p);
        self.observer.migrate(now, id, from, to, why);
        gt.update_curr(&cx);
        gt.enqueue(r, ENQUEUE_MIGRATED, &cx);
        gt.check_preempt(p, &cx);
        self.rqs[from].sync(&mut gf, &cx);
        self.rqs[to].sync(&mut gt, &cx);
        Some((id, w))
    }
}

/// Validate a policy request (`sched_setscheduler`'s EINVAL rules).
pub fn check_attr(a: &SchedAttr) -> Result<(), SchedError> {
    let ok = match a.policy {
        SCHED_FIFO | SCHED_RR => (1..=MAX_USER_RT_PRIO).contains(&a.priority),
        SCHED_WRR => a.priority <= WRR_MAX_WEIGHT,
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE => a.priority == 0,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(SchedError::Invalid)
    }
}

fn wrr_weight_param(prio: u32) -> u32 {
    if prio == 0 {
        WRR_DEFAULT_WEIGHT
    } else {
        prio
    }
}

/// A comparable priority for `prio_changed`.
fn prio_key<T: SchedTask>(d: &SchedData<T>) -> i64 {
    match class_of_policy(d.policy) {
        ClassId::Rt => d.rt_priority as i64,
        ClassId::Wrr => d.wrr.weight() as i64,
        _ => d.nice as i64,
    }
}

impl<T: SchedTask> SchedData<T> {
    /// The policy.
    pub fn policy(&self) -> u32 {
        self.policy
    }
}
