//! The scheduler's interface (kernel/sched/core.c): task states,
//! `try_to_wake_up`, `set_current_state`, the per-CPU run queues the harts
//! take tasks from, and the timers that wake sleepers (kernel/time/hrtimer.c).
//!
//! The policy is the `sched` crate's ([`::sched::Sched`]: per-CPU run
//! queues, the classes rt > wrr > fair > idle, placement and balancing);
//! this module drives it. A task is on a hart (`on_cpu`), waiting on a run
//! queue (`on_rq`), or neither (sleeping, stopped or dead); its state and
//! both flags change under its `pi_lock` ([`crate::task::Task::sched`]),
//! which is also held across every call into the crate that names the
//! task (the crate's lock order is pi_lock, then run-queue locks). The
//! crate counts a task on a hart as still queued (Linux's `on_rq` of the
//! running task); it leaves the crate's queue only in [`put_prev_task`],
//! if it is no longer runnable. A wake-up of a task that is still on its
//! hart only sets it running, so a wake-up is never lost between "decided
//! to sleep" and "left the hart".
//!
//! Every hart has its own run queue and idle state; a wake-up or a
//! preemption on another CPU sets that CPU's need_resched (in the crate)
//! and wakes its hart if it is parked: the reschedule IPI. A hart's run
//! loop ([`crate::trap`]) ticks the crate after each slice of
//! instructions and leaves its task when need_resched is set.
//!
//! In deterministic mode ([`crate::time::det`]) the clock is virtual, an
//! idle hart waits for its turn instead of the host's time
//! ([`RunQueue::pick_next_task`]'s separate branch), and each task
//! carries `ready_at`, the virtual time from which it may run.
//!
//! Where ferrite differs: one timer queue for all CPUs; an idle hart polls
//! briefly, then parks its host thread until a kick or the next timer, at
//! most 50 ms at a time (when it also tries to pull work).

pub mod cputime;
pub mod debug;
pub mod loadavg;
pub mod wait;

use std::collections::BinaryHeap;
use std::sync::atomic::{
    AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::Release, Ordering::SeqCst,
};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

pub use ::sched::{
    Kick, MigrateReason, SchedAttr, SchedEntities, SchedError, SchedObserver, SchedTask, TaskId,
    TaskSchedInfo, SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RR, SCHED_WRR,
};

use crate::task::{lock, SignalRef, Task, TaskRef};
use crate::time::det::Det;

/// The scheduler core over ferrite's tasks.
pub type Sched = ::sched::Sched<Task, TraceHook>;

/// The tick: a running task's class looks at its time at least this often
/// (HZ = 1000), and at every end of an instruction slice.
pub const TICK_NS: u64 = 1_000_000;

// SAFETY: `se` is a field of the task, which lives at a fixed address in
// its slab object for as long as any `TaskRef` to it exists.
unsafe impl SchedTask for Task {
    type Ref = TaskRef;
    fn entities(&self) -> &SchedEntities<Self> {
        &self.se
    }
    fn pid(&self) -> i32 {
        Task::pid(self)
    }
    fn tgid(&self) -> i32 {
        self.tgid
    }
    fn cpus_allowed(&self) -> u64 {
        self.cpus_allowed.load(Relaxed)
    }
}

/// The scheduler's observer: forwards every event to the sink set at boot
/// ([`RunQueue::set_trace`], the tracer's), and reports a drift of the
/// WRR totals as a kernel BUG on the console.
#[derive(Default)]
pub struct TraceHook {
    sink: OnceLock<Box<dyn SchedObserver + Send + Sync>>,
    /// BUGs the debug check reported.
    pub bugs: AtomicU64,
}

impl SchedObserver for TraceHook {
    fn switch(&self, now: u64, cpu: usize, prev: Option<TaskId>, next: Option<TaskId>) {
        if let Some(s) = self.sink.get() {
            s.switch(now, cpu, prev, next)
        }
    }
    fn wakeup(&self, now: u64, task: TaskId, cpu: usize) {
        if let Some(s) = self.sink.get() {
            s.wakeup(now, task, cpu)
        }
    }
    fn task_new(&self, now: u64, task: TaskId, cpu: usize) {
        if let Some(s) = self.sink.get() {
            s.task_new(now, task, cpu)
        }
    }
    fn task_dead(&self, now: u64, task: TaskId, cpu: usize) {
        if let Some(s) = self.sink.get() {
            s.task_dead(now, task, cpu)
        }
    }
    fn migrate(&self, now: u64, task: TaskId, from: usize, to: usize, why: MigrateReason) {
        if let Some(s) = self.sink.get() {
            s.migrate(now, task, from, to, why)
        }
    }
    fn balance(&self, now: u64, from: usize, to: usize, moved: Option<(TaskId, u32)>) {
        if let Some(s) = self.sink.get() {
            s.balance(now, from, to, moved)
        }
    }
    fn wrr_refill(&self, now: u64, task: TaskId, cpu: usize, slice_ns: u64) {
        if let Some(s) = self.sink.get() {
            s.wrr_refill(now, task, cpu, slice_ns)
        }
    }
    fn counters(&self, now: u64, cpu: usize, nr_running: u32, wrr_weight: u64) {
        if let Some(s) = self.sink.get() {
            s.counters(now, cpu, nr_running, wrr_weight)
        }
    }
    fn bug(&self, cpu: usize, what: &str) {
        self.bugs.fetch_add(1, Relaxed);
        eprintln!("BUG: sched: CPU {cpu}: {what}");
        if let Some(s) = self.sink.get() {
            s.bug(cpu, what)
        }
    }
}

/// One hart's idle state: where it parks.
#[derive(Default)]
struct Idle {
    m: Mutex<()>,
    cv: Condvar,
    parked: AtomicBool,
    /// How long this hart polls before it parks, in ns (see
    /// [`IDLE_POLL_START_NS`]); only the hart itself writes it.
    poll_ns: AtomicU64,
}

/// How long an idle hart polls the run queue before it parks its host
/// thread, at first and at least. The window adapts as Linux's haltpoll
/// governor's (drivers/cpuidle/governors/haltpoll.c): it doubles, up to
/// [`IDLE_POLL_MAX_NS`], when the hart parked but work came within that
/// maximum, and halves when an idle spell outlasted it. So a hart that
/// is idle in short spells (a parent waiting for a child on another
/// hart, a pipe's partner) keeps polling through them, and one idle for
/// long parks at once.
pub const IDLE_POLL_START_NS: u64 = 50_000;

/// The longest poll before parking. Linux's haltpoll stops at 200 µs;
/// a parked host thread here takes 50 to 150 µs to wake (against a few
/// µs for a real CPU leaving a halt), so spells of up to 1 ms are worth
/// polling through.
pub const IDLE_POLL_MAX_NS: u64 = 1_000_000;

/// `TASK_RUNNING`.
pub const TASK_RUNNING: u32 = 0;
/// `TASK_INTERRUPTIBLE`.
pub const TASK_INTERRUPTIBLE: u32 = 1;
/// `TASK_UNINTERRUPTIBLE`.
pub const TASK_UNINTERRUPTIBLE: u32 = 2;
/// `__TASK_STOPPED`.
pub const TASK_STOPPED: u32 = 4;
/// `TASK_DEAD`.
pub const TASK_DEAD: u32 = 0x80;
/// `TASK_WAKEKILL`: a fatal signal wakes the sleeper (`TASK_KILLABLE`).
pub const TASK_WAKEKILL: u32 = 0x100;
/// `TASK_NORMAL`: what `wake_up` wakes.
pub const TASK_NORMAL: u32 = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;
/// `TASK_KILLABLE`.
pub const TASK_KILLABLE: u32 = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;

/// A task's scheduling state (under `pi_lock`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedState {
    /// `__state`.
    pub state: u32,
    /// `on_rq`: queued, waiting for a hart.
    pub on_rq: bool,
    /// `on_cpu`: a hart runs it (or is switching it out).
    pub on_cpu: bool,
    /// Deterministic mode: the virtual time (ns) from which it may run:
    /// when it last left a hart or was woken, whichever is later
    /// ([`stamp_ready`]).
    pub ready_at: u64,
}

/// What a sleeping system call keeps for its re-execution (Linux keeps it
/// on the kernel stack, or in `restart_block`).
#[derive(Clone, Default)]
pub struct Restart {
    /// The call it belongs to.
    pub nr: u64,
    /// When the sleep ends (ns of [`RunQueue::now`]).
    pub deadline: Option<u64>,
    /// Progress so far (bytes written by a pipe write, ...).
    pub done: u64,
    /// vfork: the child's completion and pid.
    pub vfork: Option<(Arc<wait::Completion>, i32)>,
    /// A futex waiter's queue entry (set when woken).
    pub futex: Option<Arc<crate::futex::FutexQ>>,
}

/// A timer's action.
enum TimerKind {
    /// Wake the task if its `timer_seq` still matches.
    Wake(TaskRef, u64),
    /// ITIMER_REAL of a process (`it_real_fn`) with its generation.
    ItReal(SignalRef, u64),
    /// Any other kernel timer function (a POSIX timer's
    /// `posix_timer_fn`), under a key its owner can cancel it by.
    Call(TimerKey, TimerFn),
}

/// The key of a `TimerKind::Call` timer (for a POSIX timer: the
/// address of its process's `signal_struct` and the timer id).
pub type TimerKey = (usize, i64);

/// A timer function run by [`RunQueue::run_timers`] (outside the
/// timers' lock) when its deadline passes.
pub type TimerFn = Box<dyn FnOnce(&RunQueue) + Send>;

struct Timer {
    deadline: u64,
    kind: TimerKind,
}

impl PartialEq for Timer {
    fn eq(&self, o: &Self) -> bool {
        self.deadline == o.deadline
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timer {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // A min-heap on the deadline.
        o.deadline.cmp(&self.deadline)
    }
}

/// What an ITIMER_REAL expiry does (set by the kernel: send SIGALRM).
pub type ItRealFn = Box<dyn Fn(&SignalRef) + Send + Sync>;

/// The run queues (the `sched` crate's, one per CPU), the harts' idle
/// states and the timers.
pub struct RunQueue {
    /// The scheduler core.
    pub sched: Sched,
    idle: Box<[Idle]>,
    shutdown: AtomicBool,
    timers: Mutex<BinaryHeap<Timer>>,
    /// The earliest armed deadline (u64::MAX: none).
    next_timer: AtomicU64,
    /// When a busy CPU may next wake an idle one to pull work.
    next_nohz_kick: AtomicU64,
    /// `avenrun`.
    pub loadavg: loadavg::LoadAvg,
    /// `kernel_cpustat` of each CPU.
    pub cpustat: Box<[cputime::CpuStat]>,
    /// CLOCK_MONOTONIC at boot, in ns.
    epoch: u64,
    /// The deterministic machine (None: parallel mode).
    det: Option<Arc<Det>>,
    /// ITIMER_REAL expiry: the kernel sends SIGALRM (set at boot).
    pub it_real: Mutex<Option<ItRealFn>>,
}

impl Default for RunQueue {
    fn default() -> Self {
        RunQueue::new(1, None)
    }
}

impl RunQueue {
    /// Run queues for `nr_cpus` harts (1..=64).
    /// On the host's clock (`det` None) or on the virtual clock of a
    /// deterministic machine.
    pub fn new(nr_cpus: usize, det: Option<Arc<Det>>) -> Self {
        RunQueue {
            sched: Sched::new(nr_cpus.clamp(1, 64), TraceHook::default()),
            idle: (0..nr_cpus.clamp(1, 64))
                .map(|_| Idle {
                    poll_ns: AtomicU64::new(IDLE_POLL_START_NS),
                    ..Idle::default()
                })
                .collect(),
            shutdown: AtomicBool::new(false),
            timers: Mutex::default(),
            next_timer: AtomicU64::new(u64::MAX),
            next_nohz_kick: AtomicU64::new(0),
            loadavg: loadavg::LoadAvg::default(),
            cpustat: (0..nr_cpus.clamp(1, 64))
                .map(|_| cputime::CpuStat::default())
                .collect(),
            epoch: crate::time::timekeeping::host_monotonic_ns(),
            det,
            it_real: Mutex::new(None),
        }
    }

    /// Connect the scheduler's events to a tracer (once, at boot).
    pub fn set_trace(&self, sink: Box<dyn SchedObserver + Send + Sync>) -> bool {
        self.sched.observer.sink.set(sink).is_ok()
    }

    /// [`Self::now`] as the calling hart last knew it: its reading at a
    /// switch, or its interpolated clock at a trap edge (at most one system
    /// call ago: Linux's `rq->clock`, updated at such points rather than
    /// at each use), for a wake-up's enqueue; a fresh reading on other
    /// threads and in deterministic mode.
    pub fn now_hart(&self) -> u64 {
        match HART_CLOCK.with(|c| c.get()) {
            t if t != 0 && self.det.is_none() => t,
            _ => self.now(),
        }
    }

    /// Nanoseconds since boot: the host's monotonic clock, or in
    /// deterministic mode the virtual clock of the calling hart.
    pub fn now(&self) -> u64 {
        match &self.det {
            Some(d) => d.now(),
            None => crate::time::timekeeping::host_monotonic_ns().saturating_sub(self.epoch),
        }
    }

    /// The deterministic machine, if this is one.
    #[inline]
    pub fn det(&self) -> Option<&Arc<Det>> {
        self.det.as_ref()
    }

    /// The earliest armed timer's deadline (u64::MAX: none).
    pub fn next_timer_deadline(&self) -> u64 {
        self.next_timer.load(SeqCst)
    }

    /// Whether hart `cpu` would find a task to run now (deterministic
    /// mode: whether its turn must wake it): its own run queue has one, or
    /// another CPU has two or more runnable tasks it might pull (idle
    /// balancing). Decided from the run queues alone, so the same in every
    /// run.
    pub fn may_pick(&self, cpu: usize) -> bool {
        if cpu >= self.sched.nr_cpus() {
            return false;
        }
        self.sched.rq(cpu).nr_running() > 0
            || self.sched.need_resched(cpu)
            || (0..self.sched.nr_cpus()).any(|c| self.sched.rq(c).nr_running() >= 2)
    }

    /// Deterministic mode's pick for hart `cpu`: the crate's choice (its
    /// idle balance included), now on the hart.
    fn take_next(&self, cpu: usize) -> Option<TaskRef> {
        self.sched.test_and_clear_need_resched(cpu);
        let t = self.sched.pick_next_task(cpu, self.now())?;
        let mut s = lock(&t.sched);
        s.on_rq = false;
        s.on_cpu = true;
        drop(s);
        Some(t)
    }

    /// `pick_next_task` in deterministic mode, for the calling hart: in
    /// its turn, fire the timers due at its clock and take the next task
    /// (its clock moves up to the task's `ready_at`); with none, let its
    /// clock run to the next event and, at the end of its turn, pass the
    /// baton and wait for the next one. Never waits on the host's time.
    fn pick_next_task_det(
        &self,
        det: &Det,
        cpu: usize,
        stop: &dyn Fn() -> bool,
        poll: &dyn Fn(),
    ) -> Option<TaskRef> {
        let h = crate::time::det::current_hart();
        loop {
            det.wait_turn(h);
            if self.shutdown.load(Relaxed) || stop() {
                return None;
            }
            self.run_timers();
            poll();
            if let Some(t) = self.take_next(cpu) {
                let ready = lock(&t.sched).ready_at;
                det.picked(h, ready);
                return Some(t);
            }
            det.set_idle(h);
            if !det.idle_advance_after_miss(h, self) {
                det.pass(h, self, poll);
            }
        }
    }

    /// Runnable tasks on every CPU, the running ones included.
    pub fn nr_queued(&self) -> usize {
        (0..self.sched.nr_cpus())
            .map(|c| self.sched.rq(c).nr_running() as usize)
            .sum()
    }

    /// Send the reschedule IPIs of `k`: wake each CPU's hart if it is
    /// parked (a running hart sees its need_resched at its next check).
    pub fn kick(&self, k: Kick) {
        // need_resched was set before this; a parking hart sets `parked`
        // before it looks at need_resched. A full fence on each side (the
        // store-buffering pattern) means at least one of them sees the
        // other's store: the hart does not wait, or this notifies it
        // (through the idle lock, which it holds from its check until it
        // waits). A hart that is not parked is not notified: no host
        // futex call per wake-up of a running or polling hart.
        // The caller's own hart is running (it is the caller): it needs no
        // kick, and a kick of nobody else needs no fence.
        let me = HART_ID.with(|c| c.get());
        let k = match me {
            Some(me) => Kick(k.0 & !(1u64 << (me % 64))),
            None => k,
        };
        if k.0 == 0 {
            return;
        }
        std::sync::atomic::fence(SeqCst);
        for c in k.cpus() {
            if let Some(i) = self.idle.get(c) {
                if i.parked.load(SeqCst) {
                    let _g = lock(&i.m);
                    i.cv.notify_one();
                }
            }
        }
    }

    /// Wake one parked hart, if any (timers armed, or work to pull:
    /// `nohz_balancer_kick`).
    fn kick_one_idle(&self, except: usize) {
        // See `kick`: the caller's store (work queued, a timer armed) is
        // ordered before the loads of `parked`.
        std::sync::atomic::fence(SeqCst);
        for (c, i) in self.idle.iter().enumerate() {
            if c != except && i.parked.load(SeqCst) {
                let _g = lock(&i.m);
                i.cv.notify_one();
                return;
            }
        }
    }

    /// Whether hart `cpu` was kicked (a task was queued on it) or the
    /// machine stops.
    fn has_work(&self, cpu: usize) -> bool {
        self.sched.need_resched(cpu) || self.shutdown.load(Relaxed)
    }

    /// An idle hart's poll before it parks (Linux's `poll_idle` before a
    /// deep idle state): work that comes within the hart's window (see
    /// [`IDLE_POLL_START_NS`]) is taken without the host's wake-up of a
    /// parked thread. True if work came or the timer at `next` is due.
    fn poll_idle(&self, cpu: usize, next: u64) -> bool {
        let limit = self.idle[cpu].poll_ns.load(Relaxed);
        let start = self.now();
        loop {
            if self.has_work(cpu) {
                return true;
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
            let t = self.now();
            if t >= next {
                return true;
            }
            if t.saturating_sub(start) >= limit {
                return false;
            }
        }
    }

    /// Adapt hart `cpu`'s poll window after an idle spell of `idle_ns`
    /// that ended in a park (`parked`) or within the poll.
    fn adjust_idle_poll(&self, cpu: usize, idle_ns: u64, parked: bool) {
        let p = &self.idle[cpu].poll_ns;
        let cur = p.load(Relaxed);
        let new = if idle_ns > IDLE_POLL_MAX_NS {
            (cur / 2).max(IDLE_POLL_START_NS)
        } else if parked {
            cur.saturating_mul(2)
                .clamp(IDLE_POLL_START_NS, IDLE_POLL_MAX_NS)
        } else {
            cur
        };
        if new != cur {
            p.store(new, Relaxed);
        }
    }

    /// `schedule()` for hart `cpu`'s idle loop: the next task to run, or
    /// None at shutdown (or when `stop` says so). Runs expired timers and
    /// `poll` (work an idle CPU does, such as the terminal's signals);
    /// parks until a kick or the next timer, at most 50 ms at a time.
    /// `idle` runs before the hart waits for anything (it lets go of its
    /// CPU then, so that others may drain it); `now` is the hart's last
    /// clock reading, returned fresh with the task.
    pub fn pick_next_task(
        &self,
        cpu: usize,
        stop: &dyn Fn() -> bool,
        poll: &dyn Fn(),
        idle: &mut dyn FnMut(),
        now: u64,
    ) -> Option<(TaskRef, u64)> {
        if let Some(det) = &self.det {
            // It waits for its turn first.
            idle();
            return self
                .pick_next_task_det(det, cpu, stop, poll)
                .map(|t| (t, self.now()));
        }
        // `now`, the clock as the hart last read it (at the switch), is
        // this rq's clock for the first look (`update_rq_clock` once per
        // schedule); a look after waiting reads it again.
        let mut now = now;
        // When this hart went idle, and whether it parked since.
        let mut idle_since: Option<u64> = None;
        let mut parked = false;
        loop {
            self.run_timers_at(now);
            poll();
            if self.shutdown.load(Relaxed) || stop() {
                return None;
            }
            self.sched.test_and_clear_need_resched(cpu);
            if let Some(t) = self.sched.pick_next_task(cpu, now) {
                let mut s = lock(&t.sched);
                s.on_rq = false;
                s.on_cpu = true;
                drop(s);
                if let Some(since) = idle_since {
                    self.adjust_idle_poll(cpu, now.saturating_sub(since), parked);
                }
                return Some((t, now));
            }
            let next = self.next_timer.load(SeqCst);
            now = self.now();
            if next <= now {
                continue;
            }
            idle_since.get_or_insert(now);
            idle();
            if self.poll_idle(cpu, next) {
                now = self.now();
                continue;
            }
            parked = true;
            let idle = &self.idle[cpu];
            let g = lock(&idle.m);
            idle.parked.store(true, SeqCst);
            // Pairs with the fences in `kick` and `kick_one_idle`: a kick
            // or an earlier timer armed since `next` was read is seen here,
            // or its kicker sees `parked`.
            std::sync::atomic::fence(SeqCst);
            if self.has_work(cpu) || self.next_timer.load(SeqCst) < next {
                idle.parked.store(false, SeqCst);
                continue;
            }
            // Queued tasks that cannot run now (rt throttling): look again
            // at the next tick.
            let cap = if self.sched.rq(cpu).nr_running() > 0 {
                TICK_NS
            } else {
                50_000_000
            };
            let wait = Duration::from_nanos((next - now).min(cap));
            let (g, _) = idle
                .cv
                .wait_timeout(g, wait)
                .unwrap_or_else(|p| p.into_inner());
            idle.parked.store(false, SeqCst);
            drop(g);
            now = self.now();
        }
    }

    /// The tick of hart `cpu` running `task` (`scheduler_tick`): charge
    /// the time, run the class's tick and the periodic balance. True if
    /// the task should leave the hart.
    pub fn tick(&self, cpu: usize) -> bool {
        let now = self.now();
        let resched = self.sched.task_tick(cpu, now);
        if self.loadavg.due(now) {
            self.loadavg.update(now, self.nr_queued() as u64);
        }
        let k = self.sched.balance_tick(now);
        if k != Kick::default() {
            if cfg!(debug_assertions) {
                let _ = self.sched.check_totals();
            }
            self.kick(k);
        }
        // `nohz_balancer_kick`: work waits here, an idle CPU may pull it
        // (at most every 10 ms).
        if self.sched.rq(cpu).nr_running() >= 2 {
            let due = self.next_nohz_kick.load(Relaxed);
            if now >= due
                && self
                    .next_nohz_kick
                    .compare_exchange(due, now + 10 * TICK_NS, Relaxed, Relaxed)
                    .is_ok()
            {
                self.kick_one_idle(cpu);
            }
        }
        resched
    }

    /// Whether hart `cpu`'s task must leave (need_resched); clears it.
    pub fn need_resched(&self, cpu: usize) -> bool {
        self.sched.need_resched(cpu) && self.sched.test_and_clear_need_resched(cpu)
    }

    /// Stop every hart (no task is left, or the kernel panicked).
    pub fn shutdown(&self) {
        self.shutdown.store(true, Relaxed);
        if let Some(d) = &self.det {
            d.shutdown();
        }
        for i in self.idle.iter() {
            let _g = lock(&i.m);
            i.cv.notify_all();
        }
    }

    /// Whether the run queue was shut down.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Relaxed)
    }

    /// Arm a wake-up of `task` at `deadline` (`hrtimer_start` of a sleep).
    /// A later wake-up for any reason makes it stale (see `timer_seq`).
    pub fn arm_wake(&self, task: &TaskRef, deadline: u64) {
        let seq = task.timer_seq.load(SeqCst);
        self.arm(Timer {
            deadline,
            kind: TimerKind::Wake(task.clone(), seq),
        });
    }

    /// Arm the ITIMER_REAL of `sig` (generation `seq`).
    pub fn arm_it_real(&self, sig: &SignalRef, deadline: u64, seq: u64) {
        self.arm(Timer {
            deadline,
            kind: TimerKind::ItReal(sig.clone(), seq),
        });
    }

    /// Run `f` at `deadline` (`hrtimer_start` of a kernel timer) unless
    /// cancelled by `key` first.
    pub fn arm_call(&self, deadline: u64, key: TimerKey, f: TimerFn) {
        self.arm(Timer {
            deadline,
            kind: TimerKind::Call(key, f),
        });
    }

    /// `hrtimer_cancel` of the `TimerKind::Call` timers whose key
    /// `which` selects (what they hold is dropped now).
    pub fn cancel_calls(&self, which: &dyn Fn(TimerKey) -> bool) {
        let dropped: Vec<Timer>;
        {
            let mut h = lock(&self.timers);
            let all = std::mem::take(&mut *h).into_vec();
            let (gone, kept): (Vec<Timer>, Vec<Timer>) = all
                .into_iter()
                .partition(|t| matches!(&t.kind, TimerKind::Call(k, _) if which(*k)));
            *h = BinaryHeap::from(kept);
            dropped = gone;
        }
        // The earliest deadline only moves later: a stale `next_timer`
        // costs one empty `run_timers`.
        drop(dropped);
    }

    fn arm(&self, t: Timer) {
        let d = t.deadline;
        lock(&self.timers).push(t);
        self.next_timer.fetch_min(d, SeqCst);
        // An idle hart may sleep past the new deadline.
        self.kick_one_idle(usize::MAX);
    }

    /// Whether a timer is due (cheap: one atomic load and a clock read).
    pub fn timers_due(&self) -> bool {
        self.next_timer.load(Relaxed) <= self.now()
    }

    /// Fire every expired timer (`hrtimer_interrupt`).
    pub fn run_timers(&self) {
        self.run_timers_at(self.now());
    }

    /// Fire every timer expired at `now`, a reading of [`Self::now`] the
    /// caller already has.
    pub fn run_timers_at(&self, now: u64) {
        if self.next_timer.load(Relaxed) > now {
            return;
        }
        let mut fired = Vec::new();
        {
            let mut h = lock(&self.timers);
            while h.peek().is_some_and(|t| t.deadline <= now) {
                if let Some(t) = h.pop() {
                    fired.push(t);
                }
            }
            let next = h.peek().map_or(u64::MAX, |t| t.deadline);
            self.next_timer.store(next, SeqCst);
        }
        for t in fired {
            match t.kind {
                TimerKind::Wake(task, seq) => {
                    if task.timer_seq.load(SeqCst) == seq {
                        try_to_wake_up(&task, TASK_NORMAL);
                    }
                }
                TimerKind::ItReal(sig, seq) => {
                    let f = lock(&self.it_real);
                    if let Some(f) = f.as_ref() {
                        let live = lock(&sig.group).it_real_seq == seq;
                        if live {
                            f(&sig);
                        }
                    }
                }
                TimerKind::Call(_, f) => f(self),
            }
        }
    }
}

/// `set_current_state`.
pub fn set_current_state(task: &TaskRef, state: u32) {
    lock(&task.sched).state = state;
}

/// `__set_current_state(TASK_RUNNING)`: the sleeper changed its mind.
pub fn set_running(task: &TaskRef) {
    lock(&task.sched).state = TASK_RUNNING;
}

/// `try_to_wake_up(p, state, 0)`: if the task sleeps in one of the states
/// `mask`, make it runnable (queue it on the CPU its class selects,
/// unless it is still on its hart). True if it was woken.
pub fn try_to_wake_up(task: &TaskRef, mask: u32) -> bool {
    let mut s = lock(&task.sched);
    if s.state & mask == 0 || s.state == TASK_RUNNING || s.state & TASK_DEAD != 0 {
        return false;
    }
    s.state = TASK_RUNNING;
    // Wake-ups are the only writers and hold `task.sched`: no locked
    // read-modify-write needed.
    let seq = task.timer_seq.load(Relaxed);
    task.timer_seq.store(seq.wrapping_add(1), Release);
    stamp_ready(&task.rq, &mut s);
    if !s.on_rq && !s.on_cpu {
        s.on_rq = true;
        let rq = &task.rq;
        let k = rq.sched.activate_task(task.clone(), rq.now_hart());
        drop(s);
        rq.kick(k);
    }
    true
}

thread_local! {
    /// The calling hart's last reading of [`RunQueue::now`] (0 on threads
    /// that are not harts): see [`RunQueue::now_hart`].
    static HART_CLOCK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The calling thread's hart (`smp_processor_id()`), or None.
    static HART_ID: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The calling thread is hart `id` from now on (trap.rs `hart_main`).
pub fn set_this_hart(id: usize) {
    HART_ID.with(|c| c.set(Some(id)));
}

/// Hart code read the clock: `now` is [`RunQueue::now`] at this moment.
#[inline]
pub fn note_hart_clock(now: u64) {
    HART_CLOCK.with(|c| c.set(now));
}

/// `wake_up_process`.
pub fn wake_up_process(task: &TaskRef) -> bool {
    try_to_wake_up(task, TASK_NORMAL)
}

/// `wake_up_new_task`: a new task's first queueing, on the CPU fork's
/// placement selects.
pub fn wake_up_new_task(task: &TaskRef) {
    let mut s = lock(&task.sched);
    s.state = TASK_RUNNING;
    s.on_rq = true;
    stamp_ready(&task.rq, &mut s);
    let rq = &task.rq;
    let k = rq.sched.wake_up_new_task(task.clone(), rq.now());
    drop(s);
    rq.kick(k);
}

/// Hart `cpu` is done with `task` (`finish_task_switch` of the previous
/// task): it stays queued if it is runnable (moved first if its affinity
/// or an exec asks); a sleeping task leaves the queue until woken, a
/// dead one for good.
///
/// `now` is the clock as the hart last read it, at the end of the task's
/// run (in deterministic mode the virtual clock is read instead).
pub fn put_prev_task(task: &TaskRef, cpu: usize, now: u64) {
    let mut s = lock(&task.sched);
    s.on_cpu = false;
    let runnable = s.state == TASK_RUNNING;
    if runnable {
        s.on_rq = true;
    }
    stamp_ready(&task.rq, &mut s);
    let rq = &task.rq;
    let now = if rq.det.is_some() { rq.now() } else { now };
    let k = rq.sched.put_prev_task(cpu, task, runnable, now);
    if s.state & TASK_DEAD != 0 {
        rq.sched.task_dead(cpu, task, now);
    }
    drop(s);
    rq.kick(k);
}

/// `sched_setaffinity`'s move: the task's mask changed (set it first).
pub fn set_cpus_allowed(task: &TaskRef) {
    let s = lock(&task.sched);
    let rq = &task.rq;
    let k = rq.sched.set_cpus_allowed(task, rq.now());
    drop(s);
    rq.kick(k);
}

/// `__sched_setscheduler` of `task` (permissions checked by the caller).
pub fn setscheduler(task: &TaskRef, attr: SchedAttr) -> Result<(), SchedError> {
    let s = lock(&task.sched);
    let rq = &task.rq;
    let k = rq.sched.setscheduler(task, attr, rq.now());
    drop(s);
    rq.kick(k?);
    Ok(())
}

/// The lab's `sched_setweight` (permissions checked by the caller).
pub fn set_wrr_weight(task: &TaskRef, w: u32) -> Result<(), SchedError> {
    let _s = lock(&task.sched);
    task.rq.sched.set_wrr_weight(task, w, task.rq.now())
}

/// `set_user_nice`.
pub fn set_nice(task: &TaskRef, nice: i32) {
    let _s = lock(&task.sched);
    task.rq.sched.set_nice(task, nice, task.rq.now());
}

/// The task's scheduling state.
pub fn task_info(task: &TaskRef) -> TaskSchedInfo {
    let _s = lock(&task.sched);
    task.rq.sched.task_info(task)
}

/// Deterministic mode: the task may not run before the calling hart's
/// clock (it leaves that hart, or that hart wakes or creates it now), so
/// that no hart runs it at an earlier virtual time. Nothing in parallel
/// mode.
#[inline]
pub fn stamp_ready(rq: &RunQueue, s: &mut SchedState) {
    if let Some(d) = &rq.det {
        s.ready_at = s.ready_at.max(d.now());
    }
}
