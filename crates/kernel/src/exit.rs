//! The end of tasks: kernel/exit.c (`do_exit`, `do_group_exit`,
//! `exit_notify`, `forget_original_parent`, `release_task`, `do_wait`
//! with `wait4` and `waitid`) and kernel/fork.c's `mm_release`.
//!
//! A thread that exits gives up its mm (the last user tears the address
//! space down), its files and its place in the group. When the last
//! thread of a process is gone the process is a zombie: its children go
//! to the reaper (the nearest `PR_SET_CHILD_SUBREAPER` ancestor, else
//! init), and its parent gets the exit signal and a wake-up of its
//! `wait4`. The zombie is released when the parent reaps it, or at once
//! if the parent ignores SIGCHLD or set `SA_NOCLDWAIT`.
//!
//! Where ferrite differs: when init exits the run ends (Linux panics);
//! the other processes are not torn down then, the machine just stops.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use mm::percpu::Cpu;

use crate::errno::{Errno, ECHILD, EINVAL};
use crate::kernel::Kernel;
use crate::sched::{self, wait, TASK_DEAD, TASK_INTERRUPTIBLE};
use crate::sigcore::{self, SigQueued, Target, SA_NOCLDWAIT, SIGCHLD, SIG_IGN};
use crate::task::{lock, TaskRef, EXIT_ALIVE, EXIT_DEAD, EXIT_ZOMBIE};

/// `WNOHANG`.
pub const WNOHANG: u64 = 1;
/// `WUNTRACED` = `WSTOPPED`.
pub const WSTOPPED: u64 = 2;
/// `WEXITED`.
pub const WEXITED: u64 = 4;
/// `WCONTINUED`.
pub const WCONTINUED: u64 = 8;
/// `WNOWAIT`.
pub const WNOWAIT: u64 = 0x0100_0000;
/// `__WNOTHREAD`.
pub const WNOTHREAD: u64 = 0x2000_0000;
/// `__WALL`.
pub const WALL: u64 = 0x4000_0000;
/// `__WCLONE`.
pub const WCLONE: u64 = 0x8000_0000;

/// The linux wait status of an exit with `code` (`exit(code)`).
pub fn exit_status(code: u64) -> i32 {
    ((code & 0xff) as i32) << 8
}

/// `do_group_exit`: the whole group ends with wait status `code` (unless
/// it is already ending with another); the caller then runs
/// [`do_exit`]. Returns the status this thread exits with.
pub fn do_group_exit(t: &TaskRef, code: i32) -> i32 {
    let threads;
    let code = {
        let mut g = lock(&t.signal.group);
        if let Some(c) = g.group_exit {
            return c;
        }
        if g.exec_task.is_some() {
            // de_thread killed us: just this thread.
            return code;
        }
        g.group_exit = Some(code);
        threads = lock(&t.signal.threads).clone();
        code
    };
    for th in threads.iter().filter(|th| !TaskRef::ptr_eq(th, t)) {
        lock(&th.sig).pending |= sigcore::sigbit(sigcore::SIGKILL);
        sigcore::signal_wake_up(th, true);
    }
    code
}

/// `mm_release`: CLONE_CHILD_CLEARTID's store and futex wake, the robust
/// list, and vfork's completion; then `exit_mm`.
fn exit_mm(k: &Kernel, cpu: &Cpu<'static>, t: &TaskRef) {
    let Some(mm) = lock(&t.mm).take() else {
        return;
    };
    crate::futex::exit_robust_list(k, cpu, t, &mm);
    let tid = t.clear_child_tid.swap(0, SeqCst);
    if tid != 0
        && mm.mm_users.load(Relaxed) > 1
        && mm::uaccess::copy_to_user(cpu, &mm, tid as usize, &0u32.to_le_bytes()).is_ok()
    {
        crate::futex::futex_wake_addr(k, cpu, &mm, tid, 1);
    }
    if let Some(c) = lock(&t.vfork_done).take() {
        c.complete();
    }
    let rss = (mm.get_mm_hiwater_rss() * 4) as u64;
    t.signal.maxrss.fetch_max(rss, Relaxed);
    mm.put(cpu);
}

/// `do_exit`: the thread `t` (current on this hart) ends with wait status
/// `code`. It is dead when this returns (`TASK_DEAD`); the hart drops it.
pub fn do_exit(k: &Kernel, cpu: &Cpu<'static>, t: &TaskRef, code: i32) {
    t.exit_code.store(code, SeqCst);
    if let Some(tr) = &k.config.trace {
        crate::trace::hooks::exit(tr, &k.rq, t);
    }
    if t.pid() == 1 && lock(&t.signal.group).exec_task.is_none() {
        // `--show`: init's files as its main thread leaves, before its mm
        // goes.
        k.init_exiting(t);
    }
    exit_mm(k, cpu, t);
    crate::ipc::shm::exit_shm(&k.ipc, cpu);
    // `exit_files`, `exit_fs`; the last close of a tmpfs file may have
    // queued its pages (`delayed_fput`): free them now that a CPU is here.
    let fs = lock(&t.files).take();
    drop(fs);
    k.hostfs.flush_delayed_fput(cpu);
    t.signal
        .dead_utime
        .fetch_add(t.utime.load(Relaxed), Relaxed);
    t.signal
        .dead_stime
        .fetch_add(t.stime.load(Relaxed), Relaxed);
    wait::exit_waits(t);
    exit_notify(k, t, code);
    if t.signal.live.load(SeqCst) == 0 {
        // The group is dead: `exit_itimers` (its POSIX timers go now).
        crate::posix_timers::exit_itimers(&k.rq, &t.signal);
    }
    {
        let mut s = lock(&t.sched);
        s.state = TASK_DEAD;
    }
}

/// `exit_notify`: leave the group; the last thread makes the process a
/// zombie, gives its children to the reaper and tells the parent.
fn exit_notify(k: &Kernel, t: &TaskRef, code: i32) {
    let mut tl = k.tasks.lock();
    let group_dead = t.signal.live.fetch_sub(1, SeqCst) == 1;
    lock(&t.signal.threads).retain(|x| !TaskRef::ptr_eq(x, t));
    tl.nr_threads = tl.nr_threads.saturating_sub(1);
    if !t.is_leader() {
        t.exit_state.store(EXIT_DEAD, SeqCst);
        tl.pids.remove(&t.pid());
        lock(&t.thread_pid).take();
    } else {
        t.exit_state.store(EXIT_ZOMBIE, SeqCst);
    }
    if !group_dead {
        // `de_thread` waits for the last other thread.
        let exec = lock(&t.signal.group).exec_task;
        if let Some(tid) = exec.filter(|_| t.signal.live.load(SeqCst) == 1) {
            if let Some(e) = tl.pids.get(&tid) {
                sched::wake_up_process(e);
            }
        }
        return;
    }
    let leader = tl.pids.get(&t.tgid).cloned();
    let Some(leader) = leader else {
        return;
    };
    // The process's status: the group's exit, else the leader's own exit
    // code if it left first, else this (last) thread's.
    let status = lock(&t.signal.group)
        .group_exit
        .unwrap_or(if t.is_leader() {
            code
        } else {
            leader.exit_code.load(SeqCst)
        });
    leader.exit_code.store(status, SeqCst);
    // `mm->exe_file` goes with the process: its program is writable again.
    lock(&t.signal.exe_deny).take();
    if leader.tgid == 1 {
        // Init's last thread: the run ends.
        k.init_exited(status);
    }
    if let Some(uid) = Some(leader.cred().uid) {
        if let Some(n) = tl.per_uid.get_mut(&uid) {
            *n = n.saturating_sub(1);
        }
    }
    forget_original_parent(k, &mut tl, &leader);
    // Our parent is in another group of our session and we were its
    // last link outside: a stopped job there would never be continued.
    kill_orphaned_pgrp(&tl, &leader, None);
    let parent = lock(&t.signal.parent).clone();
    let Some(parent) = parent else {
        return;
    };
    if do_notify_parent(&parent, &leader, status) {
        release_locked(k, &mut tl, &parent, &leader);
    }
    drop(tl);
    parent.signal.wait_chldexit.wake_up_all();
}

/// `do_notify_parent`: send the exit signal to the parent; true when the
/// child is to be reaped at once (the parent ignores SIGCHLD or set
/// SA_NOCLDWAIT).
fn do_notify_parent(parent: &TaskRef, child: &TaskRef, status: i32) -> bool {
    let sig = child.exit_signal.load(Relaxed);
    let a = sigcore::action_of(parent, SIGCHLD);
    let autoreap = sig == SIGCHLD && (a.handler == SIG_IGN || a.flags & SA_NOCLDWAIT != 0);
    if sig > 0 && !(autoreap && sig == SIGCHLD) {
        let (code, st) = if status & 0x7f == 0 {
            (sigcore::CLD_EXITED, (status >> 8) & 0xff)
        } else if status & 0x80 != 0 {
            (sigcore::CLD_DUMPED, status & 0x7f)
        } else {
            (sigcore::CLD_KILLED, status & 0x7f)
        };
        let info = SigQueued {
            signo: sig,
            code,
            pid: child.tgid,
            uid: child.cred().uid,
            status: st,
            utime: child.utime.load(Relaxed) / 10_000_000,
            stime: child.stime.load(Relaxed) / 10_000_000,
            ..Default::default()
        };
        sigcore::send_sig_info(parent, info, Target::Group);
    }
    autoreap
}

/// `find_new_reaper`: the nearest live subreaper ancestor, else init.
fn find_new_reaper(k: &Kernel, tl: &crate::pid::TaskList, leader: &TaskRef) -> Option<TaskRef> {
    let mut p = lock(&leader.signal.parent).clone();
    let mut hops = 0;
    while let Some(a) = p {
        if a.signal.is_child_subreaper.load(Relaxed) && a.signal.live.load(SeqCst) > 0 {
            return Some(a);
        }
        hops += 1;
        if hops > tl.pids.len() + 1 {
            break;
        }
        p = lock(&a.signal.parent).clone();
    }
    let _ = k;
    tl.pids
        .get(&1)
        .cloned()
        .filter(|i| i.signal.live.load(SeqCst) > 0)
}

/// `forget_original_parent`: the dead process's children go to the
/// reaper; a zombie among them is announced to its new parent; children
/// that asked for it get their `PR_SET_PDEATHSIG` signal.
fn forget_original_parent(k: &Kernel, tl: &mut crate::pid::TaskList, leader: &TaskRef) {
    let children = std::mem::take(&mut *lock(&leader.signal.children));
    if children.is_empty() {
        return;
    }
    let reaper = find_new_reaper(k, tl, leader);
    for c in children {
        *lock(&c.signal.parent) = reaper.clone();
        // The dying process may have been the child's group's last link
        // to another group of the session.
        kill_orphaned_pgrp(tl, &c, Some(leader));
        let pdeath = c.signal.pdeath_signal.load(Relaxed);
        if pdeath > 0 && c.exit_state.load(SeqCst) == EXIT_ALIVE {
            sigcore::send_sig_info(&c, SigQueued::kernel(pdeath), Target::Group);
        }
        let Some(r) = &reaper else { continue };
        lock(&r.signal.children).push(c.clone());
        if c.exit_state.load(SeqCst) == EXIT_ZOMBIE && c.signal.live.load(SeqCst) == 0 {
            let status = c.exit_code.load(SeqCst);
            if do_notify_parent(r, &c, status) {
                release_locked(k, tl, r, &c);
            }
            r.signal.wait_chldexit.wake_up_all();
        }
    }
}

/// `will_become_orphaned_pgrp`: whether process group `pgrp` is (or,
/// without `ignored`, will be) orphaned: none of its live processes has a
/// parent in another group of the same session. A zombie whose threads
/// are all gone is not a member.
///
/// Where ferrite differs: Linux does not count a parent that is the
/// global init (`is_global_init`), which does no job control. ferrite's
/// init is the user's program, often an interactive shell, as a
/// container's init is in its pid namespace (`docker run -it busybox sh`),
/// and is counted like any parent, so its jobs keep SIGTSTP and SIGTTIN.
pub fn will_become_orphaned_pgrp(
    tl: &crate::pid::TaskList,
    pgrp: i32,
    ignored: Option<&TaskRef>,
) -> bool {
    for p in tl.pids.values() {
        if !p.is_leader() || p.signal.pgrp.load(Relaxed) != pgrp {
            continue;
        }
        if ignored.is_some_and(|i| TaskRef::ptr_eq(i, p))
            || (p.exit_state.load(SeqCst) != EXIT_ALIVE && p.signal.live.load(SeqCst) == 0)
        {
            continue;
        }
        let Some(parent) = lock(&p.signal.parent).clone() else {
            continue;
        };
        if parent.signal.pgrp.load(Relaxed) != pgrp
            && parent.signal.session.load(Relaxed) == p.signal.session.load(Relaxed)
        {
            return false;
        }
    }
    true
}

/// `is_current_pgrp_orphaned`: the caller's process group is orphaned
/// (its terminal stop signals are discarded; a background terminal
/// access fails with EIO).
pub fn is_current_pgrp_orphaned(k: &Kernel, t: &TaskRef) -> bool {
    let tl = k.tasks.lock();
    will_become_orphaned_pgrp(&tl, t.signal.pgrp.load(Relaxed), None)
}

/// `has_stopped_jobs`: a process of `pgrp` is stopped.
fn has_stopped_jobs(tl: &crate::pid::TaskList, pgrp: i32) -> bool {
    tl.pids.values().any(|p| {
        p.is_leader()
            && p.signal.pgrp.load(Relaxed) == pgrp
            && lock(&p.signal.group).stopped.is_some()
    })
}

/// `kill_orphaned_pgrp`: `tsk`'s exit (`parent` None: its parent is the
/// link) or its parent's (`parent`, when `tsk` is reparented) orphans
/// `tsk`'s process group; if a process there is stopped, every member
/// gets SIGHUP then SIGCONT (POSIX 2.2.2.52), from the kernel.
fn kill_orphaned_pgrp(tl: &crate::pid::TaskList, tsk: &TaskRef, parent: Option<&TaskRef>) {
    let pgrp = tsk.signal.pgrp.load(Relaxed);
    let (parent, ignored) = match parent {
        Some(p) => (Some(p.clone()), None),
        None => (lock(&tsk.signal.parent).clone(), Some(tsk)),
    };
    let Some(parent) = parent else { return };
    if parent.signal.pgrp.load(Relaxed) == pgrp
        || parent.signal.session.load(Relaxed) != tsk.signal.session.load(Relaxed)
        || !will_become_orphaned_pgrp(tl, pgrp, ignored)
        || !has_stopped_jobs(tl, pgrp)
    {
        return;
    }
    let members: Vec<TaskRef> = tl
        .pids
        .values()
        .filter(|p| p.is_leader() && p.signal.pgrp.load(Relaxed) == pgrp)
        .cloned()
        .collect();
    for sig in [sigcore::SIGHUP, sigcore::SIGCONT] {
        for m in &members {
            sigcore::send_sig_info(m, SigQueued::kernel(sig), Target::Group);
        }
    }
}

/// `release_task` of a zombie process under `tasklist`: out of its
/// parent's children and the pid table, its times into the parent's.
fn release_locked(_k: &Kernel, tl: &mut crate::pid::TaskList, parent: &TaskRef, child: &TaskRef) {
    child.exit_state.store(EXIT_DEAD, SeqCst);
    lock(&parent.signal.children).retain(|c| !TaskRef::ptr_eq(c, child));
    tl.pids.remove(&child.pid());
    // `detach_pid`: its own, its group's and its session's `struct pid`.
    lock(&child.thread_pid).take();
    *lock(&child.signal.pids) = crate::pid::ProcPids::default();
    let (u, s) = process_times(child);
    parent
        .signal
        .cutime
        .fetch_add(u + child.signal.cutime.load(Relaxed), Relaxed);
    parent
        .signal
        .cstime
        .fetch_add(s + child.signal.cstime.load(Relaxed), Relaxed);
    let rss = child
        .signal
        .maxrss
        .load(Relaxed)
        .max(child.signal.cmaxrss.load(Relaxed));
    parent.signal.cmaxrss.fetch_max(rss, Relaxed);
    *lock(&child.signal.parent) = None;
}

/// A process's user and system time in ns: its live threads' and its
/// dead threads'.
pub fn process_times(leader: &TaskRef) -> (u64, u64) {
    let mut u = leader.signal.dead_utime.load(Relaxed);
    let mut s = leader.signal.dead_stime.load(Relaxed);
    for t in lock(&leader.signal.threads).iter() {
        u += t.utime.load(Relaxed);
        s += t.stime.load(Relaxed);
    }
    (u, s)
}

/// Which children a wait is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitFor {
    /// Any child (`P_ALL`, pid -1).
    All,
    /// The child with this pid.
    Pid(i32),
    /// Children in process group `pgid`.
    Pgid(i32),
}

/// What a successful wait found.
#[derive(Clone, Copy, Debug, Default)]
pub struct Waited {
    pub pid: i32,
    pub uid: u32,
    /// The wait status (wait4's encoding).
    pub status: i32,
    /// waitid's `si_code` and `si_status`.
    pub code: i32,
    pub si_status: i32,
    /// The child's times (ns) and max RSS (KiB), for the rusage.
    pub utime: u64,
    pub stime: u64,
    pub maxrss: u64,
}

/// What [`do_wait`] found.
pub enum WaitRes {
    /// A child to report.
    Found(Waited),
    /// WNOHANG and no child ready.
    Nothing,
    /// No child ready: the caller is on the wait queue and sleeps
    /// (`Flow::Block`).
    Sleep,
}

/// `do_wait`: a child to report, nothing (WNOHANG), or sleep;
/// Err(ECHILD) when no child matches, ERESTARTSYS when a signal came.
pub fn do_wait(k: &Kernel, me: &TaskRef, who: WaitFor, options: u64) -> Result<WaitRes, Errno> {
    // On the queue before looking: a child exiting after the scan wakes us.
    if options & WNOHANG == 0 {
        wait::prepare_to_wait(&me.signal.wait_chldexit, me, TASK_INTERRUPTIBLE);
    }
    let r = wait_scan(k, me, who, options);
    match r {
        Ok(None) if options & WNOHANG == 0 => {
            if sigcore::signal_pending(me) {
                sched::set_running(me);
                return Err(crate::errno::ERESTARTSYS);
            }
            Ok(WaitRes::Sleep)
        }
        Ok(None) => Ok(WaitRes::Nothing),
        Ok(Some(w)) => {
            sched::set_running(me);
            Ok(WaitRes::Found(w))
        }
        Err(e) => {
            sched::set_running(me);
            Err(e)
        }
    }
}

fn eligible(c: &TaskRef, who: WaitFor, options: u64) -> bool {
    let ok = match who {
        WaitFor::All => true,
        WaitFor::Pid(p) => c.tgid == p,
        WaitFor::Pgid(g) => c.signal.pgrp.load(Relaxed) == g,
    };
    if !ok {
        return false;
    }
    if options & WALL != 0 {
        return true;
    }
    let clone_child = c.exit_signal.load(Relaxed) != SIGCHLD;
    clone_child == (options & WCLONE != 0)
}

fn wait_scan(
    k: &Kernel,
    me: &TaskRef,
    who: WaitFor,
    options: u64,
) -> Result<Option<Waited>, Errno> {
    let mut tl = k.tasks.lock();
    let children = lock(&me.signal.children).clone();
    let mut any = false;
    for c in &children {
        if !eligible(c, who, options) {
            continue;
        }
        any = true;
        let dead = c.signal.live.load(SeqCst) == 0 && c.exit_state.load(SeqCst) == EXIT_ZOMBIE;
        if dead && options & WEXITED != 0 {
            let status = c.exit_code.load(SeqCst);
            let (u, s) = process_times(c);
            let (code, si_status) = if status & 0x7f == 0 {
                (sigcore::CLD_EXITED, (status >> 8) & 0xff)
            } else if status & 0x80 != 0 {
                (sigcore::CLD_DUMPED, status & 0x7f)
            } else {
                (sigcore::CLD_KILLED, status & 0x7f)
            };
            let w = Waited {
                pid: c.tgid,
                uid: c.cred().uid,
                status,
                code,
                si_status,
                utime: u + c.signal.cutime.load(Relaxed),
                stime: s + c.signal.cstime.load(Relaxed),
                maxrss: c.signal.maxrss.load(Relaxed),
            };
            if options & WNOWAIT == 0 {
                release_locked(k, &mut tl, me, c);
            }
            return Ok(Some(w));
        }
        if dead {
            continue;
        }
        let mut g = lock(&c.signal.group);
        let take = match g.notify {
            Some((false, sig)) if options & WSTOPPED != 0 && g.stopped.is_some() => {
                Some((((sig & 0xff) << 8) | 0x7f, sigcore::CLD_STOPPED, sig))
            }
            Some((true, _)) if options & WCONTINUED != 0 => {
                Some((0xffff, sigcore::CLD_CONTINUED, sigcore::SIGCONT))
            }
            _ => None,
        };
        if let Some((status, code, si_status)) = take {
            if options & WNOWAIT == 0 {
                g.notify = None;
            }
            drop(g);
            let (u, s) = process_times(c);
            return Ok(Some(Waited {
                pid: c.tgid,
                uid: c.cred().uid,
                status,
                code,
                si_status,
                utime: u,
                stime: s,
                maxrss: c.signal.maxrss.load(Relaxed),
            }));
        }
    }
    if any {
        Ok(None)
    } else {
        Err(ECHILD)
    }
}

/// Check wait4's options.
pub fn wait4_options(options: u64) -> Result<u64, Errno> {
    if options & !(WNOHANG | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(EINVAL);
    }
    Ok(options | WEXITED)
}

/// Check waitid's options.
pub fn waitid_options(options: u64) -> Result<u64, Errno> {
    if options & !(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL)
        != 0
        || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
    {
        return Err(EINVAL);
    }
    Ok(options)
}
