//! The scheduling-policy system calls (kernel/sched/syscalls.c):
//! `sched_setscheduler`, `sched_setparam`, `sched_getscheduler`,
//! `sched_getparam`, `sched_setattr`, `sched_getattr`,
//! `sched_get_priority_max`/`min`, `sched_rr_get_interval`; and the notes'
//! Lab 4 calls `sched_setweight` (500), `sched_getweight` (501) and
//! `get_wrr_info` (502). (`getcpu` is in `syscall::sys`, as in kernel/sys.c.)
//!
//! SCHED_WRR (7) takes its weight in `sched_priority` (0 means the default
//! 10, 1..=20 that weight); `sched_get_priority_min/max(SCHED_WRR)` are 1
//! and 20 and `sched_rr_get_interval` is weight x 10 ms. Permissions are
//! Linux's `user_check` of `__sched_setscheduler` (same owner or
//! CAP_SYS_NICE; RLIMIT_RTPRIO for rt; RLIMIT_NICE for a lower nice;
//! SCHED_RESET_ON_FORK cannot be dropped), plus the lab's rule for WRR: a
//! caller without CAP_SYS_NICE may lower a weight but not raise it (a
//! task entering WRR counts as having the default weight).
//!
//! Where ferrite differs: SCHED_DEADLINE is refused with EINVAL, and the
//! uclamp fields of `sched_attr` are ignored (read as zero).

use std::sync::atomic::Ordering::Relaxed;

use ::sched::{
    check_attr, class_of_policy, valid_policy, ClassId, WRR_DEFAULT_WEIGHT, WRR_MAX_WEIGHT,
    WRR_MIN_WEIGHT,
};

use crate::errno::{Errno, E2BIG, EFAULT, EINVAL, EPERM, ESRCH};
use crate::sched::{
    self, SchedAttr, SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RR, SCHED_WRR,
};
use crate::syscall::cred::CAP_SYS_NICE;
use crate::syscall::{Sys, SysResult};
use crate::task::{lock, TaskRef};

/// `SCHED_RESET_ON_FORK`, or-ed into a policy.
pub const SCHED_RESET_ON_FORK: u32 = 0x4000_0000;
/// `sched_attr.sched_flags` bits.
const SCHED_FLAG_RESET_ON_FORK: u64 = 0x01;
const SCHED_FLAG_KEEP_POLICY: u64 = 0x08;
const SCHED_FLAG_KEEP_PARAMS: u64 = 0x10;
const SCHED_FLAG_ALL: u64 = 0x7f;
/// `SCHED_ATTR_SIZE_VER0` and the size this kernel knows (VER1).
const SCHED_ATTR_SIZE_VER0: usize = 48;
const SCHED_ATTR_SIZE: usize = 56;
const PAGE_SIZE: usize = 4096;
/// `RLIMIT_NICE`, `RLIMIT_RTPRIO`.
const RLIMIT_NICE: usize = 13;
const RLIMIT_RTPRIO: usize = 14;
/// `struct wrr_info`: `int num_cpus; int nr_running[64]; int total_weight[64];`.
pub const WRR_INFO_SIZE: usize = 4 + 64 * 4 * 2;

/// `find_process_by_pid`: 0 is the caller.
fn find(s: &Sys<'_>, pid: i32) -> Result<TaskRef, Errno> {
    if pid == 0 {
        return Ok(s.task.clone());
    }
    s.k.tasks.find(pid).ok_or(ESRCH)
}

/// `check_same_owner`.
fn same_owner(s: &Sys<'_>, p: &TaskRef) -> bool {
    let me = s.task.cred();
    let pc = p.cred();
    me.euid == pc.euid || me.euid == pc.uid
}

/// `can_nice`.
fn can_nice(s: &Sys<'_>, p: &TaskRef, nice: i32) -> bool {
    let rlim = lock(&p.signal.rlim)[RLIMIT_NICE].cur;
    (20 - nice) as u64 <= rlim || s.task.cred().capable(CAP_SYS_NICE)
}

/// `__sched_setscheduler(p, attr, user = true)`: validate, check the
/// caller's rights, apply.
fn setscheduler(s: &Sys<'_>, p: &TaskRef, attr: SchedAttr) -> SysResult {
    if !valid_policy(attr.policy) {
        return Err(EINVAL);
    }
    check_attr(&attr).map_err(|_| EINVAL)?;
    let info = sched::task_info(p);
    if !s.task.cred().capable(CAP_SYS_NICE) {
        let new_class = class_of_policy(attr.policy);
        if new_class == ClassId::Fair {
            if let Some(n) = attr.nice {
                if n < info.nice && !can_nice(s, p, n) {
                    return Err(EPERM);
                }
            }
        }
        if new_class == ClassId::Rt {
            let rlim = lock(&p.signal.rlim)[RLIMIT_RTPRIO].cur;
            if attr.policy != info.policy && rlim == 0 {
                return Err(EPERM);
            }
            if attr.priority > info.rt_priority && attr.priority as u64 > rlim {
                return Err(EPERM);
            }
        }
        if new_class == ClassId::Wrr {
            let w = if attr.priority == 0 {
                WRR_DEFAULT_WEIGHT
            } else {
                attr.priority
            };
            let cur = if info.policy == SCHED_WRR {
                info.wrr_weight
            } else {
                WRR_DEFAULT_WEIGHT
            };
            if w > cur {
                return Err(EPERM);
            }
        }
        if info.policy == SCHED_IDLE && attr.policy != SCHED_IDLE && !can_nice(s, p, info.nice) {
            return Err(EPERM);
        }
        if !same_owner(s, p) {
            return Err(EPERM);
        }
        if info.reset_on_fork && !attr.reset_on_fork {
            return Err(EPERM);
        }
    }
    if let Some(n) = attr.nice {
        p.nice.store(n.clamp(-20, 19), Relaxed);
    }
    sched::setscheduler(p, attr).map_err(|_| EINVAL)?;
    Ok(0)
}

/// The `sched_priority` of a task as `sched_getparam` reports it.
fn priority_of(i: &crate::sched::TaskSchedInfo) -> u32 {
    match class_of_policy(i.policy) {
        ClassId::Rt => i.rt_priority,
        ClassId::Wrr => i.wrr_weight,
        _ => 0,
    }
}

/// `do_sched_setscheduler`: `policy` None is sched_setparam's "keep".
fn do_setscheduler(s: &mut Sys<'_>, pid: u64, policy: Option<i32>, param: u64) -> SysResult {
    let pid = pid as i32;
    if param == 0 || pid < 0 {
        return Err(EINVAL);
    }
    let b = s.read_array::<4>(param)?;
    let prio = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let p = find(s, pid)?;
    let info = sched::task_info(&p);
    let (policy, reset) = match policy {
        Some(pol) => (
            (pol as u32) & !SCHED_RESET_ON_FORK,
            (pol as u32) & SCHED_RESET_ON_FORK != 0,
        ),
        None => (info.policy, info.reset_on_fork),
    };
    if prio < 0 {
        return Err(EINVAL);
    }
    setscheduler(
        s,
        &p,
        SchedAttr {
            policy,
            priority: prio as u32,
            nice: None,
            reset_on_fork: reset,
        },
    )
}

/// `sched_setscheduler(2)`.
pub fn sys_sched_setscheduler(s: &mut Sys<'_>, pid: u64, policy: u64, param: u64) -> SysResult {
    let policy = policy as i32;
    if policy < 0 {
        return Err(EINVAL);
    }
    do_setscheduler(s, pid, Some(policy), param)
}

/// `sched_setparam(2)`.
pub fn sys_sched_setparam(s: &mut Sys<'_>, pid: u64, param: u64) -> SysResult {
    do_setscheduler(s, pid, None, param)
}

/// `sched_getscheduler(2)`.
pub fn sys_sched_getscheduler(s: &mut Sys<'_>, pid: u64) -> SysResult {
    let pid = pid as i32;
    if pid < 0 {
        return Err(EINVAL);
    }
    let p = find(s, pid)?;
    let i = sched::task_info(&p);
    let r = if i.reset_on_fork {
        SCHED_RESET_ON_FORK
    } else {
        0
    };
    Ok((i.policy | r) as u64)
}

/// `sched_getparam(2)`.
pub fn sys_sched_getparam(s: &mut Sys<'_>, pid: u64, param: u64) -> SysResult {
    let pid = pid as i32;
    if param == 0 || pid < 0 {
        return Err(EINVAL);
    }
    let p = find(s, pid)?;
    let i = sched::task_info(&p);
    s.write_user(param, &(priority_of(&i) as i32).to_le_bytes())?;
    Ok(0)
}

/// The priority range of `policy` (`sched_get_priority_min`/`max`): 1..99
/// for the real-time policies, the lab's weights 1..20 for SCHED_WRR, 0..0
/// for the others Linux knows (6 is SCHED_DEADLINE); None for an unknown
/// policy.
fn priority_range(policy: u64) -> Option<(u64, u64)> {
    match policy as i32 as i64 {
        p if p == SCHED_FIFO as i64 || p == SCHED_RR as i64 => Some((1, 99)),
        p if p == SCHED_WRR as i64 => Some((WRR_MIN_WEIGHT as u64, WRR_MAX_WEIGHT as u64)),
        p if p == SCHED_NORMAL as i64
            || p == SCHED_BATCH as i64
            || p == SCHED_IDLE as i64
            || p == 6 =>
        {
            Some((0, 0))
        }
        _ => None,
    }
}

/// `sched_get_priority_max(2)`.
pub fn sys_sched_get_priority_max(policy: u64) -> SysResult {
    priority_range(policy).map(|r| r.1).ok_or(EINVAL)
}

/// `sched_get_priority_min(2)`.
pub fn sys_sched_get_priority_min(policy: u64) -> SysResult {
    priority_range(policy).map(|r| r.0).ok_or(EINVAL)
}

/// `sched_rr_get_interval(2)`.
pub fn sys_sched_rr_get_interval(s: &mut Sys<'_>, pid: u64, tp: u64) -> SysResult {
    let pid = pid as i32;
    if pid < 0 {
        return Err(EINVAL);
    }
    let p = find(s, pid)?;
    let ns = sched::task_info(&p).rr_interval_ns;
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&((ns / 1_000_000_000) as i64).to_le_bytes());
    b[8..].copy_from_slice(&((ns % 1_000_000_000) as i64).to_le_bytes());
    s.write_user(tp, &b)?;
    Ok(0)
}

/// `sched_setattr(2)`.
pub fn sys_sched_setattr(s: &mut Sys<'_>, pid: u64, uattr: u64, flags: u64) -> SysResult {
    let pid = pid as i32;
    if uattr == 0 || pid < 0 || flags as u32 != 0 {
        return Err(EINVAL);
    }
    // `sched_copy_attr`: the size first; a bigger struct's tail must be 0.
    let b = s.read_array::<4>(uattr)?;
    let mut size = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if size == 0 {
        size = SCHED_ATTR_SIZE_VER0;
    }
    if !(SCHED_ATTR_SIZE_VER0..=PAGE_SIZE).contains(&size) {
        let _ = s.write_user(uattr, &(SCHED_ATTR_SIZE as u32).to_le_bytes());
        return Err(E2BIG);
    }
    let a = s.read_user(uattr, size)?;
    if size > SCHED_ATTR_SIZE && a[SCHED_ATTR_SIZE..].iter().any(|&x| x != 0) {
        let _ = s.write_user(uattr, &(SCHED_ATTR_SIZE as u32).to_le_bytes());
        return Err(E2BIG);
    }
    let u32_at = |o: usize| u32::from_le_bytes([a[o], a[o + 1], a[o + 2], a[o + 3]]);
    let policy = u32_at(4);
    let sflags = u64::from_le_bytes(a[8..16].try_into().map_err(|_| EFAULT)?);
    let nice = u32_at(16) as i32;
    let prio = u32_at(20);
    if (policy as i32) < 0 || sflags & !SCHED_FLAG_ALL != 0 {
        return Err(EINVAL);
    }
    let p = find(s, pid)?;
    let info = sched::task_info(&p);
    let policy = if sflags & SCHED_FLAG_KEEP_POLICY != 0 {
        info.policy
    } else {
        policy
    };
    let keep = sflags & SCHED_FLAG_KEEP_PARAMS != 0;
    let fair = class_of_policy(policy) == ClassId::Fair;
    let attr = SchedAttr {
        policy,
        priority: if keep && policy == info.policy {
            priority_of(&info)
        } else {
            prio
        },
        nice: if fair {
            Some(nice.clamp(-20, 19))
        } else {
            None
        },
        reset_on_fork: sflags & SCHED_FLAG_RESET_ON_FORK != 0,
    };
    setscheduler(s, &p, attr)
}

/// `sched_getattr(2)`.
pub fn sys_sched_getattr(
    s: &mut Sys<'_>,
    pid: u64,
    uattr: u64,
    usize_: u64,
    flags: u64,
) -> SysResult {
    let pid = pid as i32;
    let usize_ = usize_ as u32 as usize;
    if uattr == 0 || pid < 0 || flags as u32 != 0 {
        return Err(EINVAL);
    }
    if !(SCHED_ATTR_SIZE_VER0..=PAGE_SIZE).contains(&usize_) {
        return Err(EINVAL);
    }
    let p = find(s, pid)?;
    let i = sched::task_info(&p);
    let ksize = usize_.min(SCHED_ATTR_SIZE);
    let mut a = [0u8; SCHED_ATTR_SIZE];
    a[0..4].copy_from_slice(&(ksize as u32).to_le_bytes());
    a[4..8].copy_from_slice(&i.policy.to_le_bytes());
    let f = if i.reset_on_fork {
        SCHED_FLAG_RESET_ON_FORK
    } else {
        0
    };
    a[8..16].copy_from_slice(&f.to_le_bytes());
    a[16..20].copy_from_slice(&i.nice.to_le_bytes());
    a[20..24].copy_from_slice(&priority_of(&i).to_le_bytes());
    // uclamp: the full range, as Linux reports with uclamp built in.
    a[52..56].copy_from_slice(&1024u32.to_le_bytes());
    s.write_user(uattr, &a[..ksize])?;
    Ok(0)
}

/// The lab's `sched_setweight(pid, weight)` (500).
pub fn sys_sched_setweight(s: &mut Sys<'_>, pid: u64, weight: u64) -> SysResult {
    let pid = pid as i32;
    if pid < 0 {
        return Err(ESRCH);
    }
    let p = find(s, pid)?;
    let w = weight as i32;
    let info = sched::task_info(&p);
    if !(WRR_MIN_WEIGHT as i32..=WRR_MAX_WEIGHT as i32).contains(&w) || info.policy != SCHED_WRR {
        return Err(EINVAL);
    }
    let me = s.task.cred();
    if !me.capable(CAP_SYS_NICE) && (!same_owner(s, &p) || w as u32 > info.wrr_weight) {
        return Err(EPERM);
    }
    sched::set_wrr_weight(&p, w as u32).map_err(|_| EINVAL)?;
    Ok(0)
}

/// The lab's `sched_getweight(pid)` (501).
pub fn sys_sched_getweight(s: &mut Sys<'_>, pid: u64) -> SysResult {
    let pid = pid as i32;
    if pid < 0 {
        return Err(ESRCH);
    }
    let p = find(s, pid)?;
    let i = sched::task_info(&p);
    if i.policy != SCHED_WRR {
        return Err(EINVAL);
    }
    Ok(i.wrr_weight as u64)
}

/// The lab's `get_wrr_info(struct wrr_info *)` (502): per CPU, its
/// runnable WRR tasks and their total weight; returns the number of CPUs.
pub fn sys_get_wrr_info(s: &mut Sys<'_>, info: u64) -> SysResult {
    if info == 0 {
        return Err(EFAULT);
    }
    let sch = &s.k.rq.sched;
    let n = sch.nr_cpus();
    let mut b = vec![0u8; WRR_INFO_SIZE];
    b[0..4].copy_from_slice(&(n as i32).to_le_bytes());
    for c in 0..n.min(64) {
        let rq = sch.rq(c);
        let o = 4 + c * 4;
        b[o..o + 4].copy_from_slice(&(rq.nr_wrr() as i32).to_le_bytes());
        let o = 4 + 64 * 4 + c * 4;
        let w = rq.wrr_weight().min(i32::MAX as u64) as i32;
        b[o..o + 4].copy_from_slice(&w.to_le_bytes());
    }
    s.write_user(info, &b)?;
    Ok(n as u64)
}
