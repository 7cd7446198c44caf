//! What the scheduler reports as it works: the events of Linux's
//! `sched_switch`, `sched_wakeup`, `sched_migrate_task` tracepoints and the
//! lab's balance and slice-refill decisions, plus per-CPU counter tracks.
//!
//! Every method has an empty default. They are called with the run
//! queue's lock held (as Linux's tracepoints are): an observer must be
//! quick and must not call back into the scheduler.

/// A task as the observer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TaskId {
    /// The thread id.
    pub pid: i32,
    /// The thread group (process) id.
    pub tgid: i32,
}

/// Why a task changed CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MigrateReason {
    /// Periodic load balancing.
    Balance,
    /// An idle CPU pulled it.
    IdleBalance,
    /// Its affinity mask no longer allowed its CPU.
    Affinity,
    /// Placed on another CPU when woken.
    Wakeup,
    /// A new task placed away from its parent's CPU.
    Fork,
    /// Placed at exec (`sched_exec`).
    Exec,
}

/// The scheduler's observer (a tracer). `now` is the caller's clock in ns.
pub trait SchedObserver: Sync {
    /// `cpu` switched from `prev` to `next` (None: idle).
    fn switch(&self, _now: u64, _cpu: usize, _prev: Option<TaskId>, _next: Option<TaskId>) {}
    /// `task` was made runnable on `cpu`.
    fn wakeup(&self, _now: u64, _task: TaskId, _cpu: usize) {}
    /// A new task (fork, clone) was queued for the first time on `cpu`
    /// (`sched_wakeup_new`; a `wakeup` follows).
    fn task_new(&self, _now: u64, _task: TaskId, _cpu: usize) {}
    /// `task` died on `cpu` (`sched_process_exit`).
    fn task_dead(&self, _now: u64, _task: TaskId, _cpu: usize) {}
    /// `task` moved from CPU `from` to CPU `to`.
    fn migrate(&self, _now: u64, _task: TaskId, _from: usize, _to: usize, _why: MigrateReason) {}
    /// A periodic balance looked at the heaviest CPU `from` and the
    /// lightest `to`, and moved `moved` (the task and its weight) or
    /// nothing.
    fn balance(&self, _now: u64, _from: usize, _to: usize, _moved: Option<(TaskId, u32)>) {}
    /// A WRR task's slice ran out and was refilled with `slice_ns`.
    fn wrr_refill(&self, _now: u64, _task: TaskId, _cpu: usize, _slice_ns: u64) {}
    /// `cpu`'s counters after a change.
    fn counters(&self, _now: u64, _cpu: usize, _nr_running: u32, _wrr_weight: u64) {}
    /// The debug check found the kept totals wrong (a kernel BUG).
    fn bug(&self, _cpu: usize, _what: &str) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl SchedObserver for NoObserver {}
