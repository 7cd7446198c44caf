//! Process attributes from kernel/sys.c: `prctl` (the options LTP's
//! harness and BusyBox use), `getpriority`/`setpriority` with their
//! permission rules, `getrusage`, `times` and `getcpu`.
//!
//! Where ferrite differs: page-fault
//! counts, block I/O and signal counts in `struct rusage` are 0 (not
//! accounted), and the context-switch counts of threads that exited are
//! not kept; `times()` counts clock ticks from boot without Linux's
//! `INITIAL_JIFFIES` offset; the dumpable flag is kept per process.
//! `prctl` options other than those below are EINVAL; the timer slack is
//! recorded but ferrite's timers do not slack.

use std::sync::atomic::Ordering::Relaxed;

use crate::errno::{EACCES, EFAULT, EINVAL, EPERM, ESRCH};
use crate::syscall::cred::{self, CAP_SYS_NICE};
use crate::syscall::{Sys, SysResult};
use crate::task::{lock, TaskRef, TASK_COMM_LEN};

pub const PR_SET_PDEATHSIG: u64 = 1;
pub const PR_GET_PDEATHSIG: u64 = 2;
pub const PR_GET_DUMPABLE: u64 = 3;
pub const PR_SET_DUMPABLE: u64 = 4;
pub const PR_SET_NAME: u64 = 15;
pub const PR_GET_NAME: u64 = 16;
pub const PR_SET_CHILD_SUBREAPER: u64 = 36;
pub const PR_GET_CHILD_SUBREAPER: u64 = 37;
pub const PR_SET_NO_NEW_PRIVS: u64 = 38;
pub const PR_GET_NO_NEW_PRIVS: u64 = 39;
pub const PR_SET_TIMERSLACK: u64 = 29;
pub const PR_GET_TIMERSLACK: u64 = 30;
pub const PR_GET_TID_ADDRESS: u64 = 40;
/// init's timer slack (50 µs).
pub const DEFAULT_TIMER_SLACK_NS: u64 = 50_000;

/// `prctl(2)`.
pub fn sys_prctl(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [option, arg2, arg3, arg4, arg5, _] = a;
    // The security module's options come first (`security_task_prctl`).
    if let Some(r) = cred::cap_task_prctl(s, option, arg2) {
        return r;
    }
    let t = s.task;
    match option {
        PR_SET_PDEATHSIG => {
            // `valid_signal` of an unsigned long: 0..=_NSIG.
            if arg2 > crate::task::NSIG as u64 {
                return Err(EINVAL);
            }
            t.signal.pdeath_signal.store(arg2 as i32, Relaxed);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            let v = t.signal.pdeath_signal.load(Relaxed);
            s.write_user(arg2, &v.to_le_bytes())?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(t.signal.dumpable.load(Relaxed) as u64),
        PR_SET_DUMPABLE => {
            if arg2 != 0 && arg2 != 1 {
                return Err(EINVAL);
            }
            t.signal.dumpable.store(arg2 as i32, Relaxed);
            Ok(0)
        }
        PR_SET_NAME => {
            // At most 15 bytes are read; the name need not end in NUL.
            let mut name = [0u8; TASK_COMM_LEN - 1];
            for (i, b) in name.iter_mut().enumerate() {
                let c = s.read_user(arg2.wrapping_add(i as u64), 1)?[0];
                if c == 0 {
                    break;
                }
                *b = c;
            }
            let n = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            t.set_comm(&name[..n]);
            Ok(0)
        }
        PR_GET_NAME => {
            let c = t.comm.get();
            s.write_user(arg2, &c)?;
            Ok(0)
        }
        PR_SET_CHILD_SUBREAPER => {
            t.signal.is_child_subreaper.store(arg2 != 0, Relaxed);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let v = t.signal.is_child_subreaper.load(Relaxed) as i32;
            s.write_user(arg2, &v.to_le_bytes())?;
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
                return Err(EINVAL);
            }
            t.no_new_privs.store(true, Relaxed);
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => {
            if arg2 != 0 || arg3 != 0 || arg4 != 0 || arg5 != 0 {
                return Err(EINVAL);
            }
            Ok(t.no_new_privs.load(Relaxed) as u64)
        }
        PR_GET_TIMERSLACK => Ok(t.timer_slack_ns.load(Relaxed)),
        PR_SET_TIMERSLACK => {
            let v = if arg2 == 0 {
                t.default_timer_slack_ns.load(Relaxed)
            } else {
                arg2
            };
            t.timer_slack_ns.store(v, Relaxed);
            Ok(0)
        }
        PR_GET_TID_ADDRESS => {
            let a = t.clear_child_tid.load(Relaxed);
            s.write_user(arg2, &a.to_le_bytes())?;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// `PRIO_PROCESS`, `PRIO_PGRP`, `PRIO_USER`.
pub const PRIO_PROCESS: u64 = 0;
pub const PRIO_PGRP: u64 = 1;
pub const PRIO_USER: u64 = 2;
/// `MIN_NICE`, `MAX_NICE`.
pub const MIN_NICE: i32 = -20;
pub const MAX_NICE: i32 = 19;
/// `RLIMIT_NICE`.
const RLIMIT_NICE: usize = 13;

/// The threads `which`/`who` name (`find_task_by_vpid`, the threads of a
/// process group, the threads of a user); `who` = 0 is the caller's.
fn prio_targets(s: &Sys<'_>, which: u64, who: i32) -> Vec<TaskRef> {
    match which {
        PRIO_PROCESS => {
            if who == 0 {
                vec![s.task.clone()]
            } else {
                s.k.tasks.find(who).into_iter().collect()
            }
        }
        PRIO_PGRP => {
            let pgrp = if who == 0 {
                s.task.signal.pgrp.load(Relaxed)
            } else {
                who
            };
            let tl = s.k.tasks.lock();
            tl.pids
                .values()
                .filter(|t| t.signal.pgrp.load(Relaxed) == pgrp)
                .cloned()
                .collect()
        }
        _ => {
            let uid = if who == 0 {
                s.task.cred().uid
            } else {
                who as u32
            };
            let tl = s.k.tasks.lock();
            tl.pids
                .values()
                .filter(|t| t.cred().uid == uid)
                .cloned()
                .collect()
        }
    }
}

/// `getpriority(2)`: the highest priority (lowest nice) among the
/// targets, as the raw call returns it: `20 - nice` (1..=40).
pub fn sys_getpriority(s: &mut Sys<'_>, which: u64, who: u64) -> SysResult {
    let which = which as i32 as i64 as u64;
    if which > PRIO_USER {
        return Err(EINVAL);
    }
    let targets = prio_targets(s, which, who as i32);
    targets
        .iter()
        .map(|t| (20 - t.nice.load(Relaxed)) as u64)
        .max()
        .ok_or(ESRCH)
}

/// `set_one_prio`: permission (`set_one_prio_perm`: the caller's euid is
/// the target's uid or euid, or CAP_SYS_NICE), then lowering the nice
/// value below what RLIMIT_NICE allows needs CAP_SYS_NICE (EACCES), and
/// `cap_safe_nice`: a target with capabilities the caller lacks needs
/// CAP_SYS_NICE (EPERM).
fn set_one_prio(s: &Sys<'_>, p: &TaskRef, nice: i32) -> Result<(), crate::errno::Errno> {
    let me = s.task.cred();
    let pc = p.cred();
    let cap = me.capable(CAP_SYS_NICE);
    if pc.uid != me.euid && pc.euid != me.euid && !cap {
        return Err(EPERM);
    }
    let rlim = lock(&p.signal.rlim)[RLIMIT_NICE].cur;
    if nice < p.nice.load(Relaxed) && (20 - nice) as u64 > rlim && !cap {
        return Err(EACCES);
    }
    if pc.cap_permitted & !me.cap_permitted != 0 && !cap {
        return Err(EPERM);
    }
    p.nice.store(nice, Relaxed);
    crate::sched::set_nice(p, nice);
    Ok(())
}

/// `setpriority(2)`: the value is clamped to -20..=19; the result is the
/// last target's error, ESRCH when nothing matched.
pub fn sys_setpriority(s: &mut Sys<'_>, which: u64, who: u64, nice: u64) -> SysResult {
    let which = which as i32 as i64 as u64;
    if which > PRIO_USER {
        return Err(EINVAL);
    }
    let nice = (nice as i32).clamp(MIN_NICE, MAX_NICE);
    let mut err = Some(ESRCH);
    for t in prio_targets(s, which, who as i32) {
        match set_one_prio(s, &t, nice) {
            Ok(()) => {
                if err == Some(ESRCH) {
                    err = None;
                }
            }
            Err(e) => err = Some(e),
        }
    }
    match err {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

/// `RUSAGE_SELF`, `RUSAGE_CHILDREN`, `RUSAGE_THREAD`.
pub const RUSAGE_SELF: i32 = 0;
pub const RUSAGE_CHILDREN: i32 = -1;
pub const RUSAGE_THREAD: i32 = 1;

/// `struct rusage` (144 bytes): times in ns, maxrss in KiB, the switch
/// counts.
pub fn rusage_bytes(utime: u64, stime: u64, maxrss: u64, nvcsw: u64, nivcsw: u64) -> [u8; 144] {
    let mut b = [0u8; 144];
    let tv = |ns: u64| (ns / 1_000_000_000, (ns % 1_000_000_000) / 1000);
    let (us, uu) = tv(utime);
    let (ss, su) = tv(stime);
    b[0..8].copy_from_slice(&us.to_le_bytes());
    b[8..16].copy_from_slice(&uu.to_le_bytes());
    b[16..24].copy_from_slice(&ss.to_le_bytes());
    b[24..32].copy_from_slice(&su.to_le_bytes());
    b[32..40].copy_from_slice(&maxrss.to_le_bytes());
    b[128..136].copy_from_slice(&nvcsw.to_le_bytes());
    b[136..144].copy_from_slice(&nivcsw.to_le_bytes());
    b
}

/// The peak RSS (KiB) of the caller's mm.
fn mm_hiwater_kib(s: &Sys<'_>) -> u64 {
    (s.mm.get_mm_hiwater_rss() * (mm::PAGE_SIZE / 1024)) as u64
}

/// `getrusage(2)`.
pub fn sys_getrusage(s: &mut Sys<'_>, who: u64, ru: u64) -> SysResult {
    let t = s.task;
    let b = match who as i32 {
        RUSAGE_SELF => {
            let leader = s.k.tasks.find_process(t.tgid).unwrap_or_else(|| t.clone());
            let (u, st) = crate::exit::process_times(&leader);
            let (mut nv, mut niv) = (0, 0);
            for th in lock(&t.signal.threads).iter() {
                nv += th.nvcsw.load(Relaxed);
                niv += th.nivcsw.load(Relaxed);
            }
            let rss = t.signal.maxrss.load(Relaxed).max(mm_hiwater_kib(s));
            rusage_bytes(u, st, rss, nv, niv)
        }
        RUSAGE_CHILDREN => rusage_bytes(
            t.signal.cutime.load(Relaxed),
            t.signal.cstime.load(Relaxed),
            t.signal.cmaxrss.load(Relaxed),
            0,
            0,
        ),
        RUSAGE_THREAD => rusage_bytes(
            t.utime.load(Relaxed),
            t.stime.load(Relaxed),
            mm_hiwater_kib(s),
            t.nvcsw.load(Relaxed),
            t.nivcsw.load(Relaxed),
        ),
        _ => return Err(EINVAL),
    };
    s.write_user(ru, &b)?;
    Ok(0)
}

/// `USER_HZ`.
pub const USER_HZ: u64 = 100;

/// Nanoseconds to clock ticks.
fn ticks(ns: u64) -> u64 {
    ns / (1_000_000_000 / USER_HZ)
}

/// `times(2)`: the process's and its reaped children's times in clock
/// ticks; the result is the ticks since boot.
pub fn sys_times(s: &mut Sys<'_>, buf: u64) -> SysResult {
    if buf != 0 {
        let t = s.task;
        let leader = s.k.tasks.find_process(t.tgid).unwrap_or_else(|| t.clone());
        let (u, st) = crate::exit::process_times(&leader);
        let mut b = [0u8; 32];
        for (i, v) in [
            u,
            st,
            t.signal.cutime.load(Relaxed),
            t.signal.cstime.load(Relaxed),
        ]
        .into_iter()
        .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&ticks(v).to_le_bytes());
        }
        s.write_user(buf, &b).map_err(|_| EFAULT)?;
    }
    Ok(ticks(s.k.rq.now()))
}

/// `getcpu(2)`: the CPU the caller runs on and its NUMA node (ferrite has
/// one node, 0); either pointer may be NULL. The third argument (the old
/// `tcache`) is ignored, as Linux ignores it.
pub fn sys_getcpu(s: &mut Sys<'_>, cpu: u64, node: u64) -> SysResult {
    let c = s.task.cpu.load(Relaxed).max(0) as u32;
    if cpu != 0 {
        s.write_user(cpu, &c.to_le_bytes())?;
    }
    if node != 0 {
        s.write_user(node, &0u32.to_le_bytes())?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rusage_layout() {
        let b = super::rusage_bytes(1_500_000_000, 2_000_001_000, 77, 5, 6);
        assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()), 1);
        assert_eq!(u64::from_le_bytes(b[8..16].try_into().unwrap()), 500_000);
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 2);
        assert_eq!(u64::from_le_bytes(b[24..32].try_into().unwrap()), 1);
        assert_eq!(u64::from_le_bytes(b[32..40].try_into().unwrap()), 77);
        assert_eq!(u64::from_le_bytes(b[128..136].try_into().unwrap()), 5);
        assert_eq!(u64::from_le_bytes(b[136..144].try_into().unwrap()), 6);
    }
}
