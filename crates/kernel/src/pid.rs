//! Process ids and the table of tasks: kernel/pid.c (`alloc_pid`,
//! `find_task_by_vpid`, `pid_max`) and the `tasklist_lock` that guards
//! the links between tasks.
//!
//! Ids are handed out cyclically from the last one given, as `alloc_pid`
//! does with its IDR cursor: after `pid_max - 1` the search wraps to
//! `RESERVED_PIDS` (300). A thread's id is freed when it is released (a
//! thread at its exit, a process when it is reaped); a process id stays in
//! use while it names a process group or session that still has members,
//! since Linux's `struct pid` stays alive then too.
//!
//! Every id in use is a [`Pid`] (`struct pid`) in the `pid` slab cache,
//! counted by its users as on Linux: the task it names (`thread_pid`,
//! dropped when the task is released) and the processes whose group or
//! session it is (`signal->pids[PIDTYPE_PGID/SID]`, dropped when the
//! process is released or moves).
//!
//! Where ferrite differs: the table from ids to tasks is an ordered map on
//! the host heap (Linux's IDR radix tree is in kernel memory), and the
//! tasks by group or session are found by a scan of it rather than through
//! the `struct pid`'s task lists; the tasks and `struct pid`s it points at
//! are ferrite's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};

use crate::task::{lock, TaskRef};

/// `struct pid`: one id in use (`numbers[0].nr` of the one namespace),
/// in the `pid` slab cache; its reference count is `count`.
#[derive(Debug)]
pub struct Pid {
    /// The id.
    pub nr: i32,
}

/// A counted reference to a `struct pid` (`get_pid`/`put_pid`).
pub type PidRef = mm::kbox::KArc<'static, 'static, Pid>;

/// A process's group and session (`signal->pids[PIDTYPE_PGID]`,
/// `[PIDTYPE_SID]`); None once the process is released.
#[derive(Clone, Default)]
pub struct ProcPids {
    pub pgrp: Option<PidRef>,
    pub session: Option<PidRef>,
}

/// `PID_MAX_DEFAULT`.
pub const PID_MAX_DEFAULT: i32 = 0x8000;
/// `PID_MAX_LIMIT` on 64-bit.
pub const PID_MAX_LIMIT: i32 = 4 * 1024 * 1024;
/// `RESERVED_PIDS`: where the search wraps to.
pub const RESERVED_PIDS: i32 = 300;

/// The tasks by id, and what `tasklist_lock` guards.
#[derive(Default)]
pub struct TaskList {
    /// Every live (unreleased) thread by its id.
    pub pids: BTreeMap<i32, TaskRef>,
    /// The last id handed out.
    pub last_pid: i32,
    /// Live threads (`nr_threads`).
    pub nr_threads: usize,
    /// Processes per real uid (`ucounts` RLIMIT_NPROC).
    pub per_uid: BTreeMap<u32, usize>,
}

/// `tasklist_lock` and the pid namespace's state.
pub struct TaskTable {
    list: Mutex<TaskList>,
    /// `/proc/sys/kernel/pid_max`.
    pub pid_max: AtomicI32,
}

impl Default for TaskTable {
    fn default() -> Self {
        TaskTable {
            list: Mutex::default(),
            pid_max: AtomicI32::new(PID_MAX_DEFAULT),
        }
    }
}

impl TaskTable {
    /// Take `tasklist_lock`.
    pub fn lock(&self) -> MutexGuard<'_, TaskList> {
        lock(&self.list)
    }

    /// `find_task_by_vpid`.
    pub fn find(&self, pid: i32) -> Option<TaskRef> {
        self.lock().pids.get(&pid).cloned()
    }

    /// The leader of process `tgid` (None if no such process).
    pub fn find_process(&self, tgid: i32) -> Option<TaskRef> {
        self.find(tgid).filter(|t| t.is_leader())
    }

    /// Every live process's leader, by pid.
    pub fn processes(&self) -> Vec<TaskRef> {
        self.lock()
            .pids
            .values()
            .filter(|t| t.is_leader())
            .cloned()
            .collect()
    }
}

impl TaskList {
    /// `alloc_pid`: the next free id after the last, wrapping at
    /// `pid_max` to [`RESERVED_PIDS`]; None when every id is taken
    /// (EAGAIN).
    pub fn alloc_pid(&mut self, pid_max: i32) -> Option<i32> {
        let pid_max = pid_max.clamp(RESERVED_PIDS + 2, PID_MAX_LIMIT);
        let mut p = self.last_pid + 1;
        for _ in 0..pid_max {
            if p >= pid_max {
                p = RESERVED_PIDS;
            }
            if !self.pids.contains_key(&p) && !self.pgrp_in_use(p) {
                self.last_pid = p;
                return Some(p);
            }
            p += 1;
        }
        None
    }

    /// Whether `id` still names a process group or session of a live
    /// process (its `struct pid` is then still in use).
    fn pgrp_in_use(&self, id: i32) -> bool {
        // Only processes whose leader died early can leave such ids; a
        // scan is the rare path (ids are checked in order after `last_pid`).
        self.pids.values().any(|t| {
            t.is_leader()
                && (t.signal.pgrp.load(Relaxed) == id || t.signal.session.load(Relaxed) == id)
        })
    }
}
