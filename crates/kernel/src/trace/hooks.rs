//! Where the kernel calls the tracer: one line at each site
//! (`if let Some(t) = ... { trace::hooks::...(t, ...) }`), the work here.
//! Linux puts its `trace_sched_*` calls at the same places: `__schedule`
//! (switch), `ttwu_do_wakeup` and `wake_up_new_task` (wake-ups),
//! `kernel_clone` (fork) and `do_exit` (exit).

use super::{state_letter, MigrateReason, SwitchTask, Tracer};
use crate::sched::RunQueue;
use crate::sched::{MigrateReason as SchedMigrate, TaskId};
use crate::task::{lock, Task, TaskRef};

/// The weight the trace records for `task`: its SCHED_WRR weight, 0 for
/// a task of another policy.
pub fn task_weight(task: &TaskRef) -> u32 {
    let i = crate::sched::task_info(task);
    if i.policy == crate::sched::SCHED_WRR {
        i.wrr_weight
    } else {
        0
    }
}

/// The scheduler's events the `sched` crate reports (through its
/// observer, with the run queue's lock held): wake-ups with the CPU
/// chosen, migrations, balance decisions, slice refills and the per-CPU
/// counters. Switches, forks and exits are traced by the kernel's hooks
/// below, which know the tasks' names.
pub struct SchedSink(pub std::sync::Arc<Tracer>);

impl crate::sched::SchedObserver for SchedSink {
    fn wakeup(&self, now: u64, task: TaskId, cpu: usize) {
        self.0.sched_wakeup(now, task.pid, cpu);
    }
    fn task_new(&self, now: u64, task: TaskId, cpu: usize) {
        self.0.sched_wakeup_new(now, task.pid, cpu);
    }
    fn migrate(&self, now: u64, task: TaskId, from: usize, to: usize, why: SchedMigrate) {
        let reason = match why {
            SchedMigrate::Balance => MigrateReason::Balance,
            SchedMigrate::IdleBalance => MigrateReason::IdlePull,
            SchedMigrate::Affinity => MigrateReason::Affinity,
            SchedMigrate::Wakeup => MigrateReason::Wakeup,
            SchedMigrate::Fork => MigrateReason::Fork,
            SchedMigrate::Exec => MigrateReason::Exec,
        };
        self.0.sched_migrate(now, task.pid, from, to, reason);
    }
    fn balance(&self, now: u64, from: usize, to: usize, moved: Option<(TaskId, u32)>) {
        self.0
            .wrr_balance(now, from, to, moved.map(|(t, w)| (t.pid, w)));
    }
    fn wrr_refill(&self, now: u64, task: TaskId, cpu: usize, slice_ns: u64) {
        let weight = (slice_ns / WRR_BASE_SLICE_NS) as u32;
        self.0.wrr_refill(now, cpu, task.pid, weight, slice_ns);
    }
    fn counters(&self, now: u64, cpu: usize, nr_running: u32, wrr_weight: u64) {
        self.0.counter(now, cpu, "nr_running", nr_running as u64);
        self.0.counter(now, cpu, "total_weight", wrr_weight);
    }
}

/// SCHED_WRR's base slice: a weight-w task runs w x 10 ms.
const WRR_BASE_SLICE_NS: u64 = 10_000_000;

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
}

/// `parent` forked `child`.
pub fn fork(t: &Tracer, rq: &RunQueue, parent: &Task, child: &Task) {
    t.task_fork(rq.now(), parent.pid(), child.pid(), child.comm().as_bytes());
}

/// `task` exits.
pub fn exit(t: &Tracer, rq: &RunQueue, task: &Task) {
    t.task_exit(rq.now(), task.pid(), task.comm().as_bytes());
}
