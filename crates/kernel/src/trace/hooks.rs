//! Where the kernel calls the tracer: one line at each site
//! (`if let Some(t) = ... { trace::hooks::...(t, ...) }`), the work here.
//! Linux puts its `trace_sched_*` calls at the same places: `__schedule`
//! (switch), `ttwu_do_wakeup` and `wake_up_new_task` (wake-ups),
//! `kernel_clone` (fork) and `do_exit` (exit).

use std::sync::atomic::Ordering::Relaxed;

use super::{state_letter, SwitchTask, Tracer};
use crate::sched::RunQueue;
use crate::task::{lock, Task, TaskRef};

/// SCHED_WRR's default weight (the lab's 10).
pub const DEFAULT_WRR_WEIGHT: u32 = 10;

/// The weight the trace records for `task`. Every task is at the default
/// until the WRR class keeps a weight per task (it replaces this body).
pub fn task_weight(_task: &Task) -> u32 {
    DEFAULT_WRR_WEIGHT
}

/// The CPU a wake-up of `task` targets: the one it last ran on (ferrite's
/// one shared run queue has no per-CPU target yet).
fn target_cpu(task: &Task) -> usize {
    task.cpu.load(Relaxed).max(0) as usize
}

/// The counters of CPU `cpu` after a switch: `nr_running` (the task it
/// runs: 1 or 0; queued tasks wait in the shared queue, which is the
/// global `nr_queued`).
fn counters(t: &Tracer, ts: u64, rq: &RunQueue, cpu: usize, running: bool) {
    t.counter(ts, cpu, "nr_running", running as u64);
    t.global_counter(ts, "nr_queued", rq.nr_queued() as u64);
}

/// Hart `cpu` switches from idle to `task` (hart_main before run_task).
pub fn switch_in(t: &Tracer, rq: &RunQueue, cpu: usize, task: &TaskRef) {
    let ts = rq.now();
    let comm = task.comm();
    let next = SwitchTask {
        pid: task.pid(),
        comm: comm.as_bytes(),
        weight: task_weight(task),
    };
    t.sched_switch(ts, cpu, SwitchTask::IDLE, "R", next);
    counters(t, ts, rq, cpu, true);
}

/// Hart `cpu` is done with `task` (hart_main after run_task): its slice
/// ends with the state it leaves in.
pub fn switch_out(t: &Tracer, rq: &RunQueue, cpu: usize, task: &TaskRef) {
    let ts = rq.now();
    let state = lock(&task.sched).state;
    let comm = task.comm();
    let prev = SwitchTask {
        pid: task.pid(),
        comm: comm.as_bytes(),
        weight: task_weight(task),
    };
    t.sched_switch(ts, cpu, prev, state_letter(state), SwitchTask::IDLE);
    counters(t, ts, rq, cpu, false);
}

/// `try_to_wake_up` woke `task` (`new`: `wake_up_new_task`).
pub fn wakeup(t: &Tracer, rq: &RunQueue, task: &Task, new: bool) {
    let ts = rq.now();
    if new {
        t.sched_wakeup_new(ts, task.pid(), target_cpu(task));
    } else {
        t.sched_wakeup(ts, task.pid(), target_cpu(task));
    }
}

/// `parent` forked `child`.
pub fn fork(t: &Tracer, rq: &RunQueue, parent: &Task, child: &Task) {
    t.task_fork(rq.now(), parent.pid(), child.pid(), child.comm().as_bytes());
}

/// `task` exits.
pub fn exit(t: &Tracer, rq: &RunQueue, task: &Task) {
    t.task_exit(rq.now(), task.pid(), task.comm().as_bytes());
}
