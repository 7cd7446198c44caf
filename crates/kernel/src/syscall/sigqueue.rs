//! Waiting for and queueing signals with their information:
//! kernel/signal.c's `rt_sigtimedwait` (`do_sigtimedwait`),
//! `rt_sigqueueinfo` and `rt_tgsigqueueinfo`.
//!
//! `rt_sigtimedwait` takes a pending signal of the set (blocked or not)
//! at once; otherwise it sleeps with the set unblocked (Linux's
//! `real_blocked`), so that such a signal wakes it, and when it runs again
//! it restores the mask and takes the signal, or reports the timeout
//! (EAGAIN) or another signal (EINTR, never restarted). Across the sleep
//! `task.restart` keeps the deadline and the saved mask (in `done`).
//!
//! Where ferrite differs: a queued signal keeps the fields ferrite's
//! `SigQueued` has (pid, uid, status, value or address, times), so a
//! siginfo sent by `rt_sigqueueinfo` with a layout that carries other
//! fields (`si_band`/`si_fd`, `si_syscall`) arrives without them.

use crate::errno::{Errno, EAGAIN, EFAULT, EINTR, EINVAL, EPERM, ESRCH};
use crate::sched::{self, Restart, TASK_INTERRUPTIBLE};
use crate::sigcore::{self, SigQueued, Target, SI_TKILL, UNBLOCKABLE};
use crate::signal::siginfo::{SigFields, SigInfo, SI_MAX_SIZE};
use crate::syscall::nr::RT_SIGTIMEDWAIT;
use crate::syscall::{Flow, Sys, SysResult};
use crate::task::lock;

/// A `struct timespec` that must be valid (`timespec64_valid`), in ns.
pub fn read_timespec_ns(s: &Sys<'_>, addr: u64) -> Result<u64, Errno> {
    let b = s.read_array::<16>(addr)?;
    let sec = i64::from_le_bytes(b[..8].try_into().map_err(|_| EFAULT)?);
    let nsec = i64::from_le_bytes(b[8..].try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64))
}

/// `rt_sigtimedwait(2)`.
pub fn sys_rt_sigtimedwait(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    match sigtimedwait(s, a) {
        Ok(f) => f,
        Err(e) => Flow::Return(-(e as i64)),
    }
}

fn sigtimedwait(s: &mut Sys<'_>, a: [u64; 6]) -> Result<Flow, Errno> {
    let [uthese, uinfo, uts, sigsetsize, _, _] = a;
    let t = s.task;
    // Woken from the sleep: put the mask back first, whatever follows.
    let resumed = t.restart.lock().clone().filter(|r| r.nr == RT_SIGTIMEDWAIT);
    if let Some(r) = &resumed {
        lock(&t.sig).blocked = r.done;
        // The restored mask may leave something to deliver.
        t.sigpending
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    if sigsetsize != 8 {
        return Err(EINVAL);
    }
    let these = s.read_u64(uthese)? & !UNBLOCKABLE;
    let now = s.k.rq.now();
    let deadline = match &resumed {
        Some(r) => r.deadline,
        None if uts != 0 => Some(now.saturating_add(read_timespec_ns(s, uts)?)),
        None => None,
    };
    if let Some(q) = sigcore::dequeue_signal_from(t, these) {
        if uinfo != 0 {
            let info = crate::signal_deliver::to_siginfo(&q).to_user();
            s.write_user(uinfo, &info)?;
        }
        return Ok(Flow::Return(q.signo as i64));
    }
    if deadline.is_some_and(|d| d <= now) {
        return Err(EAGAIN);
    }
    if resumed.is_some() && sigcore::signal_pending(t) {
        return Err(EINTR);
    }
    // Sleep with the set unblocked, so that a signal of it wakes us.
    let saved = {
        let mut sg = lock(&t.sig);
        let old = sg.blocked;
        sg.blocked &= !these;
        old
    };
    *t.restart.lock() = Some(Restart {
        nr: RT_SIGTIMEDWAIT,
        deadline,
        done: saved,
        ..Default::default()
    });
    sched::set_current_state(t, TASK_INTERRUPTIBLE);
    // A signal that came before we unblocked it woke nobody: look again.
    if sigcore::recalc_sigpending(t) {
        sched::set_running(t);
        return Ok(Flow::Block);
    }
    if let Some(d) = deadline {
        s.k.rq.arm_wake(t, d);
    }
    Ok(Flow::Block)
}

/// `__copy_siginfo_from_user` for signal `sig`: 128 bytes, `si_signo`
/// replaced by `sig`; E2BIG for a layout Linux does not know with a
/// nonzero tail.
fn siginfo_from_user(s: &Sys<'_>, uinfo: u64, sig: i32) -> Result<SigQueued, Errno> {
    let b = s.read_user(uinfo, SI_MAX_SIZE)?;
    let arr: [u8; SI_MAX_SIZE] = b.try_into().map_err(|_| EFAULT)?;
    let info = SigInfo::from_user(&arr)?;
    let mut q = SigQueued {
        signo: sig,
        errno: info.errno,
        code: info.code,
        ..Default::default()
    };
    match info.fields() {
        SigFields::Kill { pid, uid } => {
            q.pid = pid;
            q.uid = uid;
        }
        SigFields::Rt { pid, uid, value } => {
            q.pid = pid;
            q.uid = uid;
            q.addr = value;
        }
        SigFields::Timer {
            tid,
            overrun,
            value,
            ..
        } => {
            q.pid = tid;
            q.uid = overrun as u32;
            q.addr = value;
        }
        SigFields::Chld {
            pid,
            uid,
            status,
            utime,
            stime,
        } => {
            q.pid = pid;
            q.uid = uid;
            q.status = status;
            q.utime = utime as u64;
            q.stime = stime as u64;
        }
        SigFields::Fault { addr } => q.addr = addr,
        SigFields::Sys { call_addr, .. } => q.addr = call_addr,
        SigFields::Poll { .. } => {}
    }
    Ok(q)
}

/// Not even root may pretend to be the kernel or kill()/tgkill() towards
/// another task (`si_code >= 0` or `SI_TKILL`).
fn check_code(s: &Sys<'_>, q: &SigQueued, pid: i32) -> Result<(), Errno> {
    if (q.code >= 0 || q.code == SI_TKILL) && pid != s.task.pid() {
        return Err(EPERM);
    }
    Ok(())
}

/// `rt_sigqueueinfo(2)`: to process `pid`.
pub fn sys_rt_sigqueueinfo(s: &mut Sys<'_>, pid: u64, sig: u64, uinfo: u64) -> SysResult {
    let (pid, sig) = (pid as i32, sig as i32);
    let q = siginfo_from_user(s, uinfo, sig)?;
    check_code(s, &q, pid)?;
    if pid <= 0 {
        return Err(ESRCH);
    }
    let t = s.k.tasks.find(pid).ok_or(ESRCH)?;
    let t = s.k.tasks.find_process(t.tgid).unwrap_or(t);
    sigcore::check_kill_permission(s.task, &t, sig)?;
    sigcore::send_signal(&t, q, Target::Group)?;
    Ok(0)
}

/// `rt_tgsigqueueinfo(2)`: to thread `tid` of process `tgid`.
pub fn sys_rt_tgsigqueueinfo(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [tgid, tid, sig, uinfo, _, _] = a;
    let (tgid, tid, sig) = (tgid as i32, tid as i32, sig as i32);
    let q = siginfo_from_user(s, uinfo, sig)?;
    if tid <= 0 || tgid <= 0 {
        return Err(EINVAL);
    }
    check_code(s, &q, tid)?;
    let t = s.k.tasks.find(tid).ok_or(ESRCH)?;
    if t.tgid != tgid {
        return Err(ESRCH);
    }
    sigcore::check_kill_permission(s.task, &t, sig)?;
    sigcore::send_signal(&t, q, Target::Thread)?;
    Ok(0)
}
