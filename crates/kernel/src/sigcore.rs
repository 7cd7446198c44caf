//! Sending and taking signals: kernel/signal.c's `send_signal`,
//! `complete_signal`, `dequeue_signal`, `get_signal`, group stop and
//! continue, and `kill`/`tkill`/`tgkill` with their permission rules.
//!
//! A signal for a process goes to the group's shared pending set, one for
//! a thread to its own. Standard signals do not queue (a second one while
//! the first is pending is merged); real-time signals queue, up to
//! RLIMIT_SIGPENDING. A fatal signal (SIGKILL, or a signal whose default
//! action kills and that no thread catches or blocks) starts the group's
//! exit at once, as Linux's `complete_signal` does. Stop signals and
//! SIGCONT act on the whole group as they are sent (SIGCONT resumes and
//! drops pending stops; a stop drops a pending SIGCONT).
//!
//! Delivery happens on the way back to user mode ([`get_signal`], called by
//! the trap loop): the next unblocked signal is taken (synchronous faults
//! first, then the lowest number), its disposition decides: ignore, stop
//! the group, end the group (with a core-dump bit for the "core" signals,
//! no file is written), or run the handler (the frame is built by
//! `crate::signal`).

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use crate::errno::{Errno, EAGAIN, EINVAL, EPERM, ESRCH};
use crate::kernel::Kernel;
use crate::sched::{self, TASK_INTERRUPTIBLE, TASK_KILLABLE, TASK_STOPPED, TASK_WAKEKILL};
use crate::task::{lock, SigAction, Task, TaskRef, NSIG};

pub use crate::signal::{
    SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_SIGINFO,
    SIG_DFL, SIG_IGN,
};
pub use crate::signal::{
    SIGABRT, SIGALRM, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGHUP, SIGILL, SIGINT, SIGIO, SIGKILL,
    SIGPIPE, SIGPROF, SIGPWR, SIGQUIT, SIGRTMIN, SIGSEGV, SIGSTKFLT, SIGSTOP, SIGSYS, SIGTERM,
    SIGTRAP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGUSR1, SIGUSR2, SIGVTALRM, SIGWINCH, SIGXCPU,
    SIGXFSZ,
};

/// `si_code` values.
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TIMER: i32 = -2;
pub const SI_TKILL: i32 = -6;
pub const CLD_EXITED: i32 = 1;
pub const CLD_KILLED: i32 = 2;
pub const CLD_DUMPED: i32 = 3;
pub const CLD_STOPPED: i32 = 5;
pub const CLD_CONTINUED: i32 = 6;

/// One queued signal: what its `siginfo` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigQueued {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    /// Sender pid (kill, rt, chld) or timer id.
    pub pid: i32,
    /// Sender uid.
    pub uid: u32,
    /// `si_status` (chld).
    pub status: i32,
    /// `si_addr` (faults) or `si_value` (rt, timers).
    pub addr: u64,
    /// `si_utime`, `si_stime` (chld), in clock ticks.
    pub utime: u64,
    pub stime: u64,
}

impl SigQueued {
    /// A signal from user `pid`/`uid` with `code` (SI_USER, SI_TKILL...).
    pub fn user(signo: i32, code: i32, pid: i32, uid: u32) -> SigQueued {
        SigQueued {
            signo,
            code,
            pid,
            uid,
            ..Default::default()
        }
    }

    /// A signal the kernel raises (SI_KERNEL).
    pub fn kernel(signo: i32) -> SigQueued {
        SigQueued {
            signo,
            code: SI_KERNEL,
            ..Default::default()
        }
    }

    /// A fault at `addr` with `code`.
    pub fn fault(signo: i32, code: i32, addr: u64) -> SigQueued {
        SigQueued {
            signo,
            code,
            addr,
            ..Default::default()
        }
    }
}

pub use crate::signal::{sig_default_action as default_action, DefaultAction};

/// The bit of `sig` in a sigset.
pub fn sigbit(sig: i32) -> u64 {
    1u64 << ((sig - 1) as u32 & 63)
}

/// Signals that cannot be blocked, caught or ignored.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));
/// The stop signals.
const STOP_MASK: u64 =
    (1 << (SIGSTOP - 1)) | (1 << (SIGTSTP - 1)) | (1 << (SIGTTIN - 1)) | (1 << (SIGTTOU - 1));
/// Synchronous (fault) signals, taken first.
const SYNC_MASK: u64 = (1 << (SIGSEGV - 1))
    | (1 << (SIGBUS - 1))
    | (1 << (SIGILL - 1))
    | (1 << (SIGTRAP - 1))
    | (1 << (SIGFPE - 1))
    | (1 << (SIGSYS - 1));

/// Whether `sig` is a valid signal number (1..=64).
pub fn valid_signal(sig: i32) -> bool {
    (1..=NSIG as i32).contains(&sig)
}

/// The disposition of `sig` for `task`'s group.
pub fn action_of(task: &Task, sig: i32) -> SigAction {
    let sh = lock(&task.sighand).clone();
    let a = lock(&sh.action)[(sig - 1) as usize];
    a
}

/// Whether `sig` would be ignored by `task` (`sig_ignored`): explicitly,
/// or by a default action of "ignore"; a blocked signal is never
/// ignored (it may be unblocked later).
fn sig_ignored(t: &Task, sig: i32) -> bool {
    if t.blocked() & sigbit(sig) != 0 {
        return false;
    }
    let h = action_of(t, sig).handler;
    h == SIG_IGN || (h == SIG_DFL && default_action(sig) == DefaultAction::Ign)
}

/// `signal_wake_up`: the task has a signal to look at; wake it if it
/// sleeps interruptibly (or, for a fatal signal, killably or stopped).
pub fn signal_wake_up(t: &TaskRef, fatal: bool) {
    t.sigpending.store(true, SeqCst);
    let mask = if fatal {
        TASK_INTERRUPTIBLE | TASK_KILLABLE | TASK_STOPPED | TASK_WAKEKILL
    } else {
        TASK_INTERRUPTIBLE
    };
    sched::try_to_wake_up(t, mask);
}

/// Whether `t` has a signal that must interrupt a sleep (`signal_pending`).
pub fn signal_pending(t: &Task) -> bool {
    if !t.sigpending.load(SeqCst) {
        return false;
    }
    recalc_sigpending(t)
}

/// `recalc_sigpending`: is there an unblocked pending signal, or is the
/// group exiting or stopping?
pub fn recalc_sigpending(t: &Task) -> bool {
    let g = lock(&t.signal.group);
    let s = lock(&t.sig);
    let pending = ((s.pending | g.pending) & !s.blocked) != 0
        || g.group_exit.is_some()
        || (g.stopped.is_some() && !t.is_dead_or_exiting());
    if !pending {
        t.sigpending.store(false, SeqCst);
    }
    pending
}

/// Whether a fatal signal is pending (`fatal_signal_pending`).
pub fn fatal_signal_pending(t: &Task) -> bool {
    lock(&t.signal.group).group_exit.is_some() || lock(&t.sig).pending & sigbit(SIGKILL) != 0
}

impl Task {
    fn is_dead_or_exiting(&self) -> bool {
        self.exit_state.load(Relaxed) != crate::task::EXIT_ALIVE
    }
}

/// Where a signal goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The thread group (kill).
    Group,
    /// This thread (tkill, tgkill, faults).
    Thread,
}

/// `send_signal`: queue `info` for `t` (the thread or its group), with
/// Linux's merging, then pick a thread to handle it. `Err(EAGAIN)` when an
/// rt signal cannot be queued (RLIMIT_SIGPENDING).
pub fn send_signal(t: &TaskRef, info: SigQueued, target: Target) -> Result<(), Errno> {
    let sig = info.signo;
    if sig == 0 {
        return Ok(());
    }
    if t.exit_state.load(Relaxed) != crate::task::EXIT_ALIVE && target == Target::Thread {
        return Ok(());
    }
    let leader = t;
    let stopped = prepare_signal(leader, sig);
    let r = queue_signal(t, info, target);
    // A stopped group wakes only once the SIGCONT (or SIGKILL) is queued:
    // Linux does both under `siglock`, so the woken threads find it.
    for th in &stopped {
        sched::try_to_wake_up(th, TASK_STOPPED);
    }
    if r? {
        complete_signal(t, sig, target);
    }
    Ok(())
}

/// The queueing part of `send_signal`: Ok(true) when `info` was queued,
/// Ok(false) when it was dropped (ignored, merged, or the group exits).
fn queue_signal(t: &TaskRef, info: SigQueued, target: Target) -> Result<bool, Errno> {
    let sig = info.signo;
    if sig_ignored(t, sig) && sig != SIGKILL {
        return Ok(false);
    }
    let limit = sigqueue_limit(t);
    let mut g = lock(&t.signal.group);
    if g.group_exit.is_some() && sig != SIGKILL {
        return Ok(false);
    }
    if target == Target::Group {
        if sig < SIGRTMIN && g.pending & sigbit(sig) != 0 {
            return Ok(false);
        }
        if sig >= SIGRTMIN && g.queue.len() as u64 >= limit {
            return Err(EAGAIN);
        }
        g.pending |= sigbit(sig);
        g.queue.push(info);
    } else {
        let mut s = lock(&t.sig);
        if sig < SIGRTMIN && s.pending & sigbit(sig) != 0 {
            return Ok(false);
        }
        if sig >= SIGRTMIN && s.queue.len() as u64 >= limit {
            return Err(EAGAIN);
        }
        s.pending |= sigbit(sig);
        s.queue.push(info);
    }
    Ok(true)
}

/// How many siginfos a pending set of `t` may queue: RLIMIT_SIGPENDING,
/// but never more than the machine's default for it (half of
/// `max_threads`, from its RAM). Linux lets root raise the limit because
/// its queue entries come from a slab cache bounded by RAM; ferrite's are
/// on the host heap, so the guest cannot make them grow past what its
/// RAM would allow by default. A task without an mm (exited) gets the
/// smallest default, 10.
pub fn sigqueue_limit(t: &Task) -> u64 {
    let cur = lock(&t.signal.rlim)[crate::task::RLIMIT_SIGPENDING].cur;
    let cap = t.mm_grab().map_or(10, |m| {
        crate::task::init_rlimits(m.mem().nr_pages())[crate::task::RLIMIT_SIGPENDING].max
    });
    cur.min(cap)
}

/// `prepare_signal`: SIGCONT and the stop signals act on the group when
/// sent. SIGCONT resumes a stopped group (and tells the parent); a stop
/// signal drops a pending SIGCONT; SIGCONT drops pending stops.
fn prepare_signal(t: &TaskRef, sig: i32) -> Vec<TaskRef> {
    if sig == SIGCONT || sig == SIGKILL {
        let threads = lock(&t.signal.threads).clone();
        let was_stopped;
        {
            let mut g = lock(&t.signal.group);
            g.pending &= !STOP_MASK;
            g.queue.retain(|q| sigbit(q.signo) & STOP_MASK == 0);
            was_stopped = g.stopped.take().is_some();
            if was_stopped && sig == SIGCONT {
                g.notify = Some((true, SIGCONT));
            }
        }
        for th in &threads {
            let mut s = lock(&th.sig);
            s.pending &= !STOP_MASK;
            s.queue.retain(|q| sigbit(q.signo) & STOP_MASK == 0);
        }
        if was_stopped && sig == SIGCONT {
            do_notify_parent_cldstop(t, CLD_CONTINUED, SIGCONT);
        }
        // Woken by the caller once the signal is queued.
        return threads;
    } else if sigbit(sig) & STOP_MASK != 0 {
        let mut g = lock(&t.signal.group);
        g.pending &= !sigbit(SIGCONT);
        g.queue.retain(|q| q.signo != SIGCONT);
        drop(g);
        for th in lock(&t.signal.threads).iter() {
            let mut s = lock(&th.sig);
            s.pending &= !sigbit(SIGCONT);
            s.queue.retain(|q| q.signo != SIGCONT);
        }
    }
    Vec::new()
}

/// `complete_signal`: find a thread that can take `sig` and wake it; a
/// fatal signal starts the group's exit.
fn complete_signal(t: &TaskRef, sig: i32, target: Target) {
    let threads = lock(&t.signal.threads).clone();
    let wants = |th: &TaskRef| {
        th.exit_state.load(Relaxed) == crate::task::EXIT_ALIVE
            && (sig == SIGKILL || th.blocked() & sigbit(sig) == 0)
    };
    let chosen = if target == Target::Thread {
        wants(t).then(|| t.clone())
    } else if wants(t) {
        Some(t.clone())
    } else {
        threads.iter().find(|th| wants(th)).cloned()
    };
    let Some(chosen) = chosen else {
        return;
    };
    let a = action_of(&chosen, sig);
    let fatal = sig == SIGKILL
        || (a.handler == SIG_DFL
            && matches!(
                default_action(sig),
                DefaultAction::Term | DefaultAction::Core
            )
            && (target == Target::Group || sigbit(sig) & SYNC_MASK == 0));
    if fatal && sig == SIGKILL {
        let mut g = lock(&t.signal.group);
        if g.group_exit.is_none() {
            g.group_exit = Some(sig);
        }
        drop(g);
        for th in &threads {
            lock(&th.sig).pending |= sigbit(SIGKILL);
            signal_wake_up(th, true);
        }
        return;
    }
    signal_wake_up(&chosen, fatal);
}

/// What [`get_signal`] decided.
pub enum Deliver {
    /// Run the handler for this signal with this action.
    Handler(SigQueued, SigAction),
    /// The group exits with this wait status (default action, or a fatal
    /// signal from elsewhere).
    Exit(i32),
    /// The task must stop (group stop): leave the hart in TASK_STOPPED.
    Stop,
    /// Nothing to do.
    None,
}

/// Take the next deliverable signal of `t` (`dequeue_signal`): private
/// before shared; in each, synchronous faults first, then the lowest.
fn dequeue_signal(t: &Task) -> Option<SigQueued> {
    let blocked = lock(&t.sig).blocked;
    dequeue_signal_from(t, !blocked)
}

/// `dequeue_signal(tsk, mask)`: take the next pending signal of `t` that
/// is in `set` (blocked or not), as `rt_sigtimedwait` does.
pub fn dequeue_signal_from(t: &Task, set: u64) -> Option<SigQueued> {
    let mut g = lock(&t.signal.group);
    let mut s = lock(&t.sig);
    let pick = |pend: u64| -> Option<i32> {
        let m = pend & set;
        if m == 0 {
            return None;
        }
        let m2 = if m & SYNC_MASK != 0 { m & SYNC_MASK } else { m };
        Some(m2.trailing_zeros() as i32 + 1)
    };
    if let Some(sig) = pick(s.pending) {
        let ts = &mut *s;
        return Some(take(&mut ts.pending, &mut ts.queue, sig));
    }
    if let Some(sig) = pick(g.pending) {
        let gs = &mut *g;
        return Some(take(&mut gs.pending, &mut gs.queue, sig));
    }
    None
}

fn take(pending: &mut u64, queue: &mut Vec<SigQueued>, sig: i32) -> SigQueued {
    let info = match queue.iter().position(|q| q.signo == sig) {
        Some(i) => queue.remove(i),
        None => SigQueued::kernel(sig),
    };
    if !queue.iter().any(|q| q.signo == sig) {
        *pending &= !sigbit(sig);
    }
    info
}

/// `get_signal`: on the way to user mode, decide what the task does about
/// its pending signals.
pub fn get_signal(k: &Kernel, t: &TaskRef) -> Deliver {
    loop {
        {
            let g = lock(&t.signal.group);
            if let Some(code) = g.group_exit {
                return Deliver::Exit(code);
            }
            if g.stopped.is_some() {
                drop(g);
                sched::set_current_state(t, TASK_STOPPED);
                // A SIGCONT or SIGKILL between the check and the state
                // change has woken us already (state is running again) or
                // will find us stopped.
                if lock(&t.signal.group).stopped.is_none() {
                    sched::set_running(t);
                    continue;
                }
                return Deliver::Stop;
            }
        }
        let Some(info) = dequeue_signal(t) else {
            recalc_sigpending(t);
            return Deliver::None;
        };
        let sig = info.signo;
        let a = action_of(t, sig);
        if a.handler == SIG_IGN && sig != SIGKILL {
            continue;
        }
        if a.handler != SIG_DFL && sig != SIGKILL {
            if a.flags & SA_RESETHAND != 0 {
                let sh = lock(&t.sighand).clone();
                lock(&sh.action)[(sig - 1) as usize] = SigAction::default();
            }
            return Deliver::Handler(info, a);
        }
        match default_action(sig) {
            DefaultAction::Ign | DefaultAction::Cont => continue,
            DefaultAction::Stop => {
                // POSIX: the terminal stops (not SIGSTOP) of an orphaned
                // process group are discarded.
                if sig != SIGSTOP && crate::exit::is_current_pgrp_orphaned(k, t) {
                    continue;
                }
                do_signal_stop(k, t, sig);
                continue;
            }
            DefaultAction::Term => return Deliver::Exit(sig),
            DefaultAction::Core => {
                // The core-dump bit only when a core could be written
                // (RLIMIT_CORE > 0), as Linux reports `core_dumped`;
                // ferrite writes no file.
                let core = lock(&t.signal.rlim)[4].cur > 0;
                return Deliver::Exit(if core { sig | 0x80 } else { sig });
            }
        }
    }
}

/// `do_signal_stop`: the group stops; the parent hears of it.
fn do_signal_stop(_k: &Kernel, t: &TaskRef, sig: i32) {
    let threads = lock(&t.signal.threads).clone();
    {
        let mut g = lock(&t.signal.group);
        if g.group_exit.is_some() {
            return;
        }
        g.stopped = Some(sig);
        g.notify = Some((false, sig));
    }
    for th in &threads {
        if !TaskRef::ptr_eq(th, t) {
            signal_wake_up(th, false);
        }
    }
    do_notify_parent_cldstop(t, CLD_STOPPED, sig);
}

/// `do_notify_parent_cldstop`: SIGCHLD (unless SA_NOCLDSTOP) and a wake-up
/// of the parent's waiters.
fn do_notify_parent_cldstop(t: &TaskRef, why: i32, sig: i32) {
    let Some(parent) = lock(&t.signal.parent).clone() else {
        return;
    };
    let a = action_of(&parent, SIGCHLD);
    if a.handler != SIG_IGN && a.flags & SA_NOCLDSTOP == 0 {
        let info = SigQueued {
            signo: SIGCHLD,
            code: why,
            pid: t.tgid,
            uid: t.cred().uid,
            status: sig,
            ..Default::default()
        };
        let _ = send_signal(&parent, info, Target::Group);
    }
    parent.signal.wait_chldexit.wake_up_all();
}

/// `check_kill_permission`: root, or the sender's real or effective uid
/// is the target's real or saved uid; SIGCONT within a session is always
/// allowed.
pub fn check_kill_permission(sender: &Task, target: &Task, sig: i32) -> Result<(), Errno> {
    if !valid_signal(sig) && sig != 0 {
        return Err(EINVAL);
    }
    let s = sender.cred();
    let t = target.cred();
    if s.euid == 0
        || s.euid == t.suid
        || s.euid == t.uid
        || s.uid == t.suid
        || s.uid == t.uid
        || (sig == SIGCONT
            && sender.signal.session.load(Relaxed) == target.signal.session.load(Relaxed))
    {
        Ok(())
    } else {
        Err(EPERM)
    }
}

/// `kill(2)`'s targets: pid > 0 one process, 0 the caller's group, -1
/// every process it may signal but init and itself, < -1 group -pid.
pub fn kill(k: &Kernel, me: &TaskRef, pid: i32, sig: i32) -> Result<(), Errno> {
    if !valid_signal(sig) && sig != 0 {
        return Err(EINVAL);
    }
    let info = SigQueued::user(sig, SI_USER, me.tgid, me.cred().uid);
    if pid > 0 {
        let t = k.tasks.find(pid).ok_or(ESRCH)?;
        let t = k.tasks.find_process(t.tgid).unwrap_or(t);
        check_kill_permission(me, &t, sig)?;
        return send_signal(&t, info, Target::Group);
    }
    let procs = k.tasks.processes();
    let (group, all) = match pid {
        0 => (me.signal.pgrp.load(Relaxed), false),
        -1 => (0, true),
        p if p == i32::MIN => return Err(ESRCH),
        p => (-p, false),
    };
    let mut found = false;
    let mut err = ESRCH;
    let mut ok = false;
    for t in procs {
        if t.exit_state.load(Relaxed) != crate::task::EXIT_ALIVE {
            continue;
        }
        let hit = if all {
            t.tgid > 1 && t.tgid != me.tgid
        } else {
            t.signal.pgrp.load(Relaxed) == group
        };
        if !hit {
            continue;
        }
        found = true;
        match check_kill_permission(me, &t, sig) {
            Ok(()) => {
                ok = true;
                let _ = send_signal(&t, info, Target::Group);
            }
            Err(e) => err = e,
        }
    }
    if ok {
        Ok(())
    } else if found {
        Err(err)
    } else {
        Err(ESRCH)
    }
}

/// `tgkill(2)` (tgid > 0) and `tkill(2)` (tgid = None).
pub fn tgkill(
    k: &Kernel,
    me: &TaskRef,
    tgid: Option<i32>,
    tid: i32,
    sig: i32,
) -> Result<(), Errno> {
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) || (!valid_signal(sig) && sig != 0) {
        return Err(EINVAL);
    }
    let t = k.tasks.find(tid).ok_or(ESRCH)?;
    if tgid.is_some_and(|g| g != t.tgid) {
        return Err(ESRCH);
    }
    check_kill_permission(me, &t, sig)?;
    let info = SigQueued::user(sig, SI_TKILL, me.tgid, me.cred().uid);
    send_signal(&t, info, Target::Thread)
}

/// Send the kernel's `sig` to process `t` (SIGCHLD, SIGALRM, SIGPIPE...).
pub fn send_sig_info(t: &TaskRef, info: SigQueued, target: Target) {
    let _ = send_signal(t, info, target);
}
