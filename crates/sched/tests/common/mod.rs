//! A simulated machine for the scheduler (LinSched-style): CPUs stepped
//! in 1 ms ticks of a fake clock, tasks as plain structs that spin.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use sched::*;

pub const MS: u64 = 1_000_000;

/// A task's state under its own lock (Linux's `pi_lock`), for the tests
/// that run the kernel's locking protocol (tests/concurrent.rs).
#[derive(Default)]
pub struct PiState {
    pub running: bool,
    pub dead: bool,
    pub on_rq: bool,
    pub on_cpu: bool,
}

pub struct SimTask {
    pub pid: i32,
    pub tgid: i32,
    pub mask: AtomicU64,
    pub asleep: AtomicBool,
    pub pi: Mutex<PiState>,
    pub ent: SchedEntities<SimTask>,
}

// SAFETY: the entities are a field of the Arc'd object, which never moves.
unsafe impl SchedTask for SimTask {
    type Ref = Arc<SimTask>;
    fn entities(&self) -> &SchedEntities<Self> {
        &self.ent
    }
    fn pid(&self) -> i32 {
        self.pid
    }
    fn tgid(&self) -> i32 {
        self.tgid
    }
    fn cpus_allowed(&self) -> u64 {
        self.mask.load(Relaxed)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Switch {
        now: u64,
        cpu: usize,
        prev: Option<i32>,
        next: Option<i32>,
    },
    Migrate {
        now: u64,
        pid: i32,
        from: usize,
        to: usize,
        why: MigrateReason,
    },
    Balance {
        now: u64,
        from: usize,
        to: usize,
        moved: Option<(i32, u32)>,
    },
    Refill {
        now: u64,
        pid: i32,
        cpu: usize,
        slice: u64,
    },
    Bug {
        cpu: usize,
    },
}

#[derive(Default)]
pub struct Rec {
    pub ev: Mutex<Vec<Ev>>,
    pub on: AtomicBool,
}

impl Rec {
    fn push(&self, e: Ev) {
        if self.on.load(Relaxed) || matches!(e, Ev::Bug { .. }) {
            self.ev.lock().unwrap().push(e);
        }
    }
}

impl SchedObserver for Rec {
    fn switch(&self, now: u64, cpu: usize, prev: Option<TaskId>, next: Option<TaskId>) {
        self.push(Ev::Switch {
            now,
            cpu,
            prev: prev.map(|t| t.pid),
            next: next.map(|t| t.pid),
        });
    }
    fn migrate(&self, now: u64, t: TaskId, from: usize, to: usize, why: MigrateReason) {
        self.push(Ev::Migrate {
            now,
            pid: t.pid,
            from,
            to,
            why,
        });
    }
    fn balance(&self, now: u64, from: usize, to: usize, moved: Option<(TaskId, u32)>) {
        self.push(Ev::Balance {
            now,
            from,
            to,
            moved: moved.map(|(t, w)| (t.pid, w)),
        });
    }
    fn wrr_refill(&self, now: u64, t: TaskId, cpu: usize, slice: u64) {
        self.push(Ev::Refill {
            now,
            pid: t.pid,
            cpu,
            slice,
        });
    }
    fn bug(&self, cpu: usize, _what: &str) {
        self.push(Ev::Bug { cpu });
    }
}

pub struct Sim {
    pub s: Sched<SimTask, Rec>,
    pub now: u64,
    pub cur: Vec<Option<Arc<SimTask>>>,
    pub tasks: Vec<Arc<SimTask>>,
    next_pid: i32,
    /// Running task per CPU just before the last balance (to check that
    /// balancing never moves a running task).
    pub running_before_balance: Vec<Option<i32>>,
}

impl Sim {
    pub fn new(cpus: usize) -> Sim {
        let rec = Rec::default();
        rec.on.store(true, Relaxed);
        Sim {
            s: Sched::new(cpus, rec),
            now: 0,
            cur: vec![None; cpus],
            tasks: Vec::new(),
            next_pid: 1,
            running_before_balance: vec![None; cpus],
        }
    }

    pub fn events(&self) -> Vec<Ev> {
        self.s.observer.ev.lock().unwrap().clone()
    }

    pub fn clear_events(&self) {
        self.s.observer.ev.lock().unwrap().clear();
    }

    fn new_task(&mut self, tgid: Option<i32>, policy: u32, param: u32, mask: u64) -> Arc<SimTask> {
        let pid = self.next_pid;
        self.next_pid += 1;
        let t = Arc::new(SimTask {
            pid,
            tgid: tgid.unwrap_or(pid),
            mask: AtomicU64::new(mask),
            asleep: AtomicBool::new(false),
            pi: Mutex::default(),
            ent: SchedEntities::new(policy, param),
        });
        self.tasks.push(t.clone());
        t
    }

    /// A new task (as init or a kernel thread is made), queued.
    pub fn spawn(&mut self, policy: u32, param: u32, mask: u64) -> Arc<SimTask> {
        let t = self.new_task(None, policy, param, mask);
        let _ = self.s.wake_up_new_task(t.clone(), self.now);
        t
    }

    /// fork (`thread`: same thread group) of `parent`.
    pub fn fork(&mut self, parent: &Arc<SimTask>, thread: bool) -> Arc<SimTask> {
        let tg = if thread { Some(parent.tgid) } else { None };
        let c = self.new_task(tg, SCHED_NORMAL, 0, parent.mask.load(Relaxed));
        self.s.sched_fork(parent, &c);
        let _ = self.s.wake_up_new_task(c.clone(), self.now);
        c
    }

    pub fn running_on(&self, cpu: usize) -> Option<i32> {
        self.cur[cpu].as_ref().map(|t| t.pid)
    }

    pub fn cpu_running(&self, t: &SimTask) -> Option<usize> {
        self.cur
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.pid == t.pid))
    }

    /// The running task `t` sleeps.
    pub fn sleep(&mut self, t: &Arc<SimTask>) {
        let c = self.cpu_running(t).expect("only a running task sleeps");
        t.asleep.store(true, Relaxed);
        let _ = self.s.put_prev_task(c, t, false, self.now);
        self.cur[c] = None;
    }

    pub fn wake(&mut self, t: &Arc<SimTask>) {
        if t.asleep.swap(false, Relaxed) {
            let _ = self.s.activate_task(t.clone(), self.now);
        }
    }

    /// Fill idle CPUs.
    pub fn schedule_idle(&mut self) {
        for c in 0..self.cur.len() {
            if self.cur[c].is_none() {
                self.cur[c] = self.s.pick_next_task(c, self.now);
            }
        }
    }

    /// One 1 ms tick on every CPU, then the balance.
    pub fn step(&mut self) {
        self.schedule_idle();
        self.now += MS;
        for c in 0..self.cur.len() {
            if let Some(t) = self.cur[c].clone() {
                if self.s.task_tick(c, self.now) {
                    self.s.test_and_clear_need_resched(c);
                    let _ = self.s.put_prev_task(c, &t, true, self.now);
                    self.cur[c] = self.s.pick_next_task(c, self.now);
                }
            } else if self.s.test_and_clear_need_resched(c) {
                self.cur[c] = self.s.pick_next_task(c, self.now);
            }
        }
        self.running_before_balance = (0..self.cur.len()).map(|c| self.running_on(c)).collect();
        let k = self.s.balance_tick(self.now);
        for c in k.cpus() {
            if let Some(t) = self.cur[c].clone() {
                if self.s.test_and_clear_need_resched(c) {
                    let _ = self.s.put_prev_task(c, &t, true, self.now);
                    self.cur[c] = self.s.pick_next_task(c, self.now);
                }
            }
        }
        // A preemption asked by a wake-up or a policy change.
        for c in 0..self.cur.len() {
            if let Some(t) = self.cur[c].clone() {
                if self.s.test_and_clear_need_resched(c) {
                    let _ = self.s.put_prev_task(c, &t, true, self.now);
                    self.cur[c] = self.s.pick_next_task(c, self.now);
                }
            }
        }
    }

    pub fn run_ms(&mut self, ms: u64) {
        for _ in 0..ms {
            self.step();
        }
    }

    pub fn info(&self, t: &SimTask) -> TaskSchedInfo {
        self.s.task_info(t)
    }

    pub fn weights(&self) -> Vec<u64> {
        (0..self.cur.len())
            .map(|c| self.s.rq(c).wrr_weight())
            .collect()
    }
}

/// Bursts (consecutive run time on a CPU, in ns) per pid, from switches.
pub fn bursts(ev: &[Ev], cpu: usize) -> Vec<(i32, u64)> {
    let mut out = Vec::new();
    let mut cur: Option<(i32, u64)> = None;
    for e in ev {
        if let Ev::Switch {
            now, cpu: c, next, ..
        } = e
        {
            if *c != cpu {
                continue;
            }
            if let Some((p, t0)) = cur.take() {
                out.push((p, now - t0));
            }
            cur = next.map(|n| (n, *now));
        }
    }
    out
}
