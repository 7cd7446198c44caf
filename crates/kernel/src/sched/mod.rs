//! The scheduler's interface (kernel/sched/core.c): task states,
//! `try_to_wake_up`, `set_current_state`, the run queue the harts take
//! tasks from, and the timers that wake sleepers (kernel/time/hrtimer.c).
//!
//! A task is on a hart (`on_cpu`), on the run queue (`on_rq`), or neither
//! (sleeping, stopped or dead); its state and both flags change under its
//! `pi_lock` ([`crate::task::Task::sched`]). A wake-up of a task that is
//! still on its hart only sets it running; the hart sees that when the
//! task leaves ([`put_prev_task`]) and queues it again, so a wake-up is
//! never lost between "decided to sleep" and "left the hart".
//!
//! Where ferrite differs: one FIFO run queue for all harts (the scheduler
//! issue brings per-CPU queues and the scheduling classes behind this same
//! interface), and one timer queue for all CPUs; an idle hart parks its
//! host thread on the run queue until a wake-up or the next timer.
//!
//! In deterministic mode ([`crate::time::det`]) the clock is virtual, an
//! idle hart waits for its turn instead of the host's time
//! ([`RunQueue::pick_next_task`]'s separate branch), and each task
//! carries `ready_at`, the virtual time from which it may run.

pub mod loadavg;
pub mod wait;

use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::task::{lock, SignalRef, TaskRef};
use crate::time::det::Det;

/// How long an idle hart polls the run queue before it parks its host
/// thread.
pub const IDLE_POLL: Duration = Duration::from_micros(50);

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

/// The run queue and the timers.
pub struct RunQueue {
    q: Mutex<VecDeque<TaskRef>>,
    /// Tasks in `q` (read without the lock by a spinning idle hart).
    queued: std::sync::atomic::AtomicUsize,
    /// Harts parked on `cv` (changed under `q`'s lock): a wake-up skips
    /// the host's futex call when nobody is parked.
    parked: std::sync::atomic::AtomicUsize,
    cv: Condvar,
    shutdown: AtomicBool,
    timers: Mutex<BinaryHeap<Timer>>,
    /// The earliest armed deadline (u64::MAX: none).
    next_timer: AtomicU64,
    epoch: Instant,
    /// The deterministic machine (None: parallel mode).
    det: Option<Arc<Det>>,
    /// ITIMER_REAL expiry: the kernel sends SIGALRM (set at boot).
    pub it_real: Mutex<Option<ItRealFn>>,
    /// `--trace`'s sink, for the wake-ups (set at boot).
    pub tracer: std::sync::OnceLock<Arc<crate::trace::Tracer>>,
}

impl Default for RunQueue {
    fn default() -> Self {
        RunQueue::new(None)
    }
}

impl RunQueue {
    /// A run queue on the host's clock (`det` None) or on the virtual
    /// clock of a deterministic machine.
    pub fn new(det: Option<Arc<Det>>) -> Self {
        RunQueue {
            q: Mutex::default(),
            queued: std::sync::atomic::AtomicUsize::new(0),
            parked: std::sync::atomic::AtomicUsize::new(0),
            cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            timers: Mutex::default(),
            next_timer: AtomicU64::new(u64::MAX),
            epoch: Instant::now(),
            det,
            it_real: Mutex::new(None),
            tracer: std::sync::OnceLock::new(),
        }
    }

    /// Nanoseconds since boot: the host's monotonic clock, or in
    /// deterministic mode the virtual clock of the calling hart.
    pub fn now(&self) -> u64 {
        match &self.det {
            Some(d) => d.now(),
            None => self.epoch.elapsed().as_nanos() as u64,
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
    /// mode: whether its turn must wake it). Per-CPU queues answer for
    /// that CPU's queue and what it may pull.
    pub fn may_pick(&self, _cpu: usize) -> bool {
        self.queued.load(SeqCst) > 0
    }

    /// Take the next task to run, if any (deterministic mode's pick).
    fn take_next(&self) -> Option<TaskRef> {
        let t = lock(&self.q).pop_front()?;
        self.queued.fetch_sub(1, SeqCst);
        let mut s = lock(&t.sched);
        s.on_rq = false;
        s.on_cpu = true;
        drop(s);
        Some(t)
    }

    /// Tasks waiting for a hart.
    pub fn nr_queued(&self) -> usize {
        lock(&self.q).len()
    }

    /// Whether another task waits for a hart (the running one should
    /// yield at the end of its slice).
    pub fn others_waiting(&self) -> bool {
        !lock(&self.q).is_empty()
    }

    fn enqueue(&self, t: TaskRef) {
        let mut q = lock(&self.q);
        q.push_back(t);
        self.queued.fetch_add(1, SeqCst);
        // A parked hart counted itself under this lock before it waited.
        let parked = self.parked.load(Relaxed) > 0;
        drop(q);
        if parked {
            self.cv.notify_one();
        }
    }

    /// An idle hart's short poll before it parks (Linux's `poll_idle`
    /// before a deep idle state): a task queued within [`IDLE_POLL`] is
    /// taken without the host's wake-up of a parked thread, which costs
    /// 10 to 15 µs when the host CPU itself is idle. True if a task came.
    fn poll_idle(&self) -> bool {
        let start = Instant::now();
        while start.elapsed() < IDLE_POLL {
            if self.queued.load(SeqCst) > 0 || self.shutdown.load(Relaxed) {
                return true;
            }
            for _ in 0..64 {
                std::hint::spin_loop();
            }
        }
        false
    }

    /// `pick_next_task` for an idle hart: the next runnable task, or None
    /// at shutdown (or when `stop` says so). Runs expired timers and
    /// `poll` (work an idle CPU does, such as the terminal's signals)
    /// outside the queue's lock; parks until a wake-up or the next timer,
    /// at most 50 ms at a time.
    pub fn pick_next_task(&self, stop: &dyn Fn() -> bool, poll: &dyn Fn()) -> Option<TaskRef> {
        if let Some(det) = &self.det {
            return self.pick_next_task_det(det, stop, poll);
        }
        loop {
            self.run_timers();
            poll();
            let q = lock(&self.q);
            if self.shutdown.load(Relaxed) || stop() {
                return None;
            }
            let mut q = q;
            if let Some(t) = q.pop_front() {
                self.queued.fetch_sub(1, SeqCst);
                drop(q);
                {
                    let mut s = lock(&t.sched);
                    s.on_rq = false;
                    s.on_cpu = true;
                }
                return Some(t);
            }
            let next = self.next_timer.load(SeqCst);
            let now = self.now();
            if next <= now {
                continue;
            }
            drop(q);
            if self.poll_idle() {
                continue;
            }
            let q = lock(&self.q);
            if !q.is_empty() || self.shutdown.load(Relaxed) {
                continue;
            }
            let wait = Duration::from_nanos((next - now).min(50_000_000));
            self.parked.fetch_add(1, Relaxed);
            let (g, _) = self
                .cv
                .wait_timeout(q, wait)
                .unwrap_or_else(|p| p.into_inner());
            self.parked.fetch_sub(1, Relaxed);
            drop(g);
        }
    }

    /// `pick_next_task` in deterministic mode, for the calling hart: in
    /// its turn, fire the timers due at its clock and take the next task
    /// (its clock moves up to the task's `ready_at`); with none, let its
    /// clock run to the next event and, at the end of its turn, pass the
    /// baton and wait for the next one. Never waits on the host's time.
    fn pick_next_task_det(
        &self,
        det: &Det,
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
            if let Some(t) = self.take_next() {
                let ready = lock(&t.sched).ready_at;
                det.picked(h, ready);
                return Some(t);
            }
            det.set_idle(h);
            if !det.idle_advance(h, self) {
                det.pass(h, self, poll);
            }
        }
    }

    /// Stop every hart (no task is left, or the kernel panicked).
    pub fn shutdown(&self) {
        self.shutdown.store(true, Relaxed);
        if let Some(d) = &self.det {
            d.shutdown();
        }
        let _q = lock(&self.q);
        self.cv.notify_all();
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
        let _q = lock(&self.q);
        if self.parked.load(Relaxed) > 0 {
            self.cv.notify_one();
        }
    }

    /// Whether a timer is due (cheap: one atomic load and a clock read).
    pub fn timers_due(&self) -> bool {
        self.next_timer.load(Relaxed) <= self.now()
    }

    /// Fire every expired timer (`hrtimer_interrupt`).
    pub fn run_timers(&self) {
        if !self.timers_due() {
            return;
        }
        let now = self.now();
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
/// `mask`, make it runnable (queue it unless it is still on its hart).
/// True if it was woken.
pub fn try_to_wake_up(task: &TaskRef, mask: u32) -> bool {
    let mut s = lock(&task.sched);
    if s.state & mask == 0 || s.state == TASK_RUNNING || s.state & TASK_DEAD != 0 {
        return false;
    }
    s.state = TASK_RUNNING;
    task.timer_seq.fetch_add(1, SeqCst);
    if let Some(t) = task.rq.tracer.get() {
        crate::trace::hooks::wakeup(t, &task.rq, task, false);
    }
    stamp_ready(&task.rq, &mut s);
    if !s.on_rq && !s.on_cpu {
        s.on_rq = true;
        drop(s);
        task.rq.enqueue(task.clone());
    }
    true
}

/// `wake_up_process`.
pub fn wake_up_process(task: &TaskRef) -> bool {
    try_to_wake_up(task, TASK_NORMAL)
}

/// `wake_up_new_task`: a new task's first queueing.
pub fn wake_up_new_task(task: &TaskRef) {
    {
        let mut s = lock(&task.sched);
        s.state = TASK_RUNNING;
        s.on_rq = true;
        stamp_ready(&task.rq, &mut s);
    }
    if let Some(t) = task.rq.tracer.get() {
        crate::trace::hooks::wakeup(t, &task.rq, task, true);
    }
    task.rq.enqueue(task.clone());
}

/// The hart is done with `task` (`finish_task_switch` of the previous
/// task): queue it again if it is runnable; a sleeping task stays off
/// until woken, a dead one is gone.
pub fn put_prev_task(task: &TaskRef) {
    let mut s = lock(&task.sched);
    s.on_cpu = false;
    stamp_ready(&task.rq, &mut s);
    if s.state == TASK_RUNNING {
        s.on_rq = true;
        drop(s);
        task.rq.enqueue(task.clone());
    }
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
