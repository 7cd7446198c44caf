//! Wait queues and completions: include/linux/wait.h, kernel/sched/wait.c
//! (`prepare_to_wait`, `finish_wait`, `wake_up`) and completion.c.
//!
//! A task that must wait puts itself on a [`WaitQueue`] and sets its state
//! to sleeping *before* it checks its condition once more
//! ([`prepare_to_wait`]); the waker changes the condition and then wakes
//! the queue. So a wake-up between the check and the sleep is never lost:
//! it finds the task on the queue and makes it runnable again.
//!
//! Where ferrite differs: a sleeping system call does not keep a kernel
//! stack. It returns [`Flow::Block`](crate::syscall::Flow::Block): the
//! task's pc is put back on its `ecall`, and the call runs again from the
//! start when the task is woken (what it must remember across the sleep
//! is in `task.restart`). The queue entries are therefore not on a stack
//! but in the queue (a reference to the task, inline for one or two
//! waiters) and in the task's list of queues, which [`finish_wait`] goes
//! through when the task runs again (keeping the last two queues, off, so
//! that the next sleep on one of them takes no new reference). Entries
//! live on the host heap.

use std::sync::atomic::{
    AtomicUsize,
    Ordering::{Acquire, Release},
};
use std::sync::{Arc, Mutex};

use crate::task::{lock, Task, TaskRef};

use super::{try_to_wake_up, TASK_INTERRUPTIBLE, TASK_NORMAL};

/// The waiters of one queue: inline for the usual one or two.
type Waiters = smallvec::SmallVec<[TaskRef; 2]>;

/// `wait_queue_head_t`.
#[derive(Default)]
pub struct WaitQueue {
    head: crate::task::SpinLock<Waiters>,
    /// How many wait (written under `head`'s lock): a woken task that
    /// finds 0 was taken off already and need not lock the queue (Linux's
    /// `list_empty_careful` in `finish_wait`).
    len: AtomicUsize,
    /// How many times it was woken (epoll's edge-triggered entries look
    /// for a change).
    wakes: std::sync::atomic::AtomicU64,
}

impl WaitQueue {
    /// An empty queue, shareable.
    pub fn new() -> Arc<WaitQueue> {
        Arc::new(WaitQueue::default())
    }

    /// `wake_up_all`: wake every waiter (they re-check their condition),
    /// and take them off the queue (`autoremove_wake_function`).
    pub fn wake_up_all(&self) {
        self.wakes.fetch_add(1, Release);
        let waiters = {
            let mut q = lock(&self.head);
            if q.is_empty() {
                return;
            }
            self.len.store(0, Release);
            std::mem::take(&mut *q)
        };
        for t in waiters {
            try_to_wake_up(&t, TASK_NORMAL);
        }
    }

    /// `wake_up_nr`-like: wake at most `n` waiters in queue order, return
    /// how many were woken.
    pub fn wake_up_nr(&self, n: usize) -> usize {
        self.wakes.fetch_add(1, Release);
        let mut woken = 0;
        let mut q = lock(&self.head);
        while woken < n && !q.is_empty() {
            let t = q.remove(0);
            self.len.store(q.len(), Release);
            if try_to_wake_up(&t, TASK_NORMAL) {
                woken += 1;
            }
        }
        woken
    }

    /// How many times the queue was woken.
    pub fn wakes(&self) -> u64 {
        self.wakes.load(Acquire)
    }

    /// Whether anyone waits.
    pub fn active(&self) -> bool {
        !lock(&self.head).is_empty()
    }

    /// Take `t` off the queue if it is on it.
    fn remove(&self, t: &Task) {
        // Only `t` itself queues `t`, and the caller is `t`: a queue that
        // was empty after `t` queued itself no longer holds it.
        if self.len.load(Acquire) == 0 {
            return;
        }
        let mut q = lock(&self.head);
        q.retain(|w| !std::ptr::eq(w.as_ptr(), t));
        self.len.store(q.len(), Release);
    }
}

/// `prepare_to_wait(wq, &wait, state)`: queue `task` on `wq` and mark it
/// sleeping in `state` (TASK_INTERRUPTIBLE or TASK_UNINTERRUPTIBLE). The
/// caller checks its condition afterwards and returns `Flow::Block` if it
/// still must wait (or undoes nothing: a spurious wake-up only re-runs the
/// call).
pub fn prepare_to_wait(wq: &Arc<WaitQueue>, task: &TaskRef, state: u32) {
    {
        let mut q = lock(&wq.head);
        if !q.iter().any(|w| TaskRef::ptr_eq(w, task)) {
            q.push(task.clone());
            wq.len.store(q.len(), Release);
        }
    }
    {
        let mut w = lock(&task.waits);
        match w.iter_mut().find(|(x, _)| Arc::ptr_eq(x, wq)) {
            Some((_, on)) => *on = true,
            None => w.push((wq.clone(), true)),
        }
    }
    super::set_current_state(task, state);
}

/// A call about to sleep on `wq` (`prepare_to_wait` in
/// TASK_INTERRUPTIBLE, then `signal_pending`): queued and asleep, or, with
/// a signal pending, running again and ERESTARTSYS.
pub fn wait_interruptible(wq: &Arc<WaitQueue>, task: &TaskRef) -> Result<(), crate::errno::Errno> {
    prepare_to_wait_interruptible(wq, task);
    if crate::sigcore::signal_pending(task) {
        super::set_running(task);
        return Err(crate::errno::ERESTARTSYS);
    }
    Ok(())
}

/// How many queues a task's list keeps after it stopped waiting on them:
/// a task that sleeps on the same queue again (a pipe's reader) finds it
/// there and takes no new reference.
const WAITS_KEPT: usize = 2;

/// [`prepare_to_wait`] in `TASK_INTERRUPTIBLE`.
pub fn prepare_to_wait_interruptible(wq: &Arc<WaitQueue>, task: &TaskRef) {
    prepare_to_wait(wq, task, TASK_INTERRUPTIBLE);
}

/// `finish_wait`: the task runs again; take it off every queue it was on.
pub fn finish_wait(task: &Task) {
    // Lock order: the task's list, then each queue (nobody takes a task's
    // list while holding a queue's lock). The list keeps its storage for
    // the next sleep.
    let mut w = lock(&task.waits);
    for (q, on) in w.iter_mut() {
        if std::mem::take(on) {
            q.remove(task);
        }
    }
    if w.len() > WAITS_KEPT {
        let n = w.len() - WAITS_KEPT;
        w.drain(..n);
    }
}

/// [`finish_wait`] at exit: the task's list lets go of every queue.
pub fn exit_waits(task: &Task) {
    finish_wait(task);
    let gone = std::mem::take(&mut *lock(&task.waits));
    drop(gone);
}

/// `struct completion`: a one-shot event (vfork's `vfork_done`).
#[derive(Default)]
pub struct Completion {
    done: Mutex<bool>,
    /// Who waits for it.
    pub wait: Arc<WaitQueue>,
}

impl Completion {
    /// A fresh completion.
    pub fn new() -> Arc<Completion> {
        Arc::new(Completion::default())
    }

    /// `complete_all`.
    pub fn complete(&self) {
        *lock(&self.done) = true;
        self.wait.wake_up_all();
    }

    /// Whether it completed.
    pub fn done(&self) -> bool {
        *lock(&self.done)
    }
}
