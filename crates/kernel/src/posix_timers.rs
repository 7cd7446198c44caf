//! POSIX interval timers: kernel/time/posix-timers.c (`timer_create`,
//! `timer_settime`, `timer_gettime`, `timer_getoverrun`, `timer_delete`,
//! `good_sigevent`, `common_timer_get`, `exit_itimers`) over the kernel's
//! timer queue ([`crate::sched::RunQueue::arm_call`]).
//!
//! A process's timers are in its `signal_struct`, with ids from 0 as
//! Linux hands them out. An armed timer (other than `SIGEV_NONE`, which
//! only counts down) has an entry on the timer queue carrying the timer's
//! generation; re-arming or deleting the timer bumps the generation, so a
//! stale entry does nothing when it fires. On expiry the timer queues its
//! signal with `si_code` SI_TIMER, `si_timerid`, `si_overrun` and
//! `si_value` (to the process, or to one thread with
//! `SIGEV_THREAD_ID`); an interval timer re-arms at once, and expiries
//! while its signal is still queued count as overruns of that signal
//! (Linux forwards the timer when the signal is taken; the counts agree).
//! As Linux since 6.13, a signal still queued when its timer is re-armed
//! or deleted is dropped.
//!
//! Where ferrite differs: the timer objects are on the host heap (bounded
//! per process by RLIMIT_SIGPENDING, as Linux's preallocated sigqueues
//! are); the alarm clocks are EOPNOTSUPP (no RTC), CPU clocks of other
//! processes EINVAL (those of the caller and its threads work); the CPU-time clocks count the
//! time the trap loop charges at the end of each slice or system call
//! (see `crate::itimer`); all other clocks count from the same monotonic
//! source, so `clock_settime` (which ferrite does not have) could not
//! move a realtime timer.

use std::collections::BTreeMap;

use crate::errno::{Errno, EAGAIN, EINVAL, EOPNOTSUPP};
use crate::sched::{RunQueue, TimerKey};
use crate::sigcore::{self, sigbit, SigQueued, Target, SIGALRM, SI_TIMER};
use crate::syscall::{Sys, SysResult};
use std::sync::atomic::Ordering::Relaxed;

use crate::task::{lock, SignalRef, SignalStruct, TaskRef};

/// Clock ids (those of `clock_gettime` are in [`crate::time::timekeeping`]).
pub use crate::time::timekeeping::{
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
    CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_THREAD_CPUTIME_ID,
};
/// `CLOCK_REALTIME_ALARM`.
pub const CLOCK_REALTIME_ALARM: i32 = 8;
/// `CLOCK_BOOTTIME_ALARM`.
pub const CLOCK_BOOTTIME_ALARM: i32 = 9;
pub const CLOCK_TAI: i32 = 11;

/// `sigev_notify` values.
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;
pub const SIGEV_THREAD_ID: i32 = 4;
/// `TIMER_ABSTIME`.
pub const TIMER_ABSTIME: u64 = 1;
/// `sizeof(struct sigevent)`.
const SIGEVENT_SIZE: usize = 64;

/// `struct k_itimer`.
#[derive(Clone, Debug, Default)]
pub struct KItimer {
    /// `it_clock`.
    pub clock: i32,
    /// `it_sigev_notify`.
    pub notify: i32,
    /// The signal and `si_value`.
    pub signo: i32,
    pub value: u64,
    /// `SIGEV_THREAD_ID`'s thread.
    pub tid: Option<i32>,
    /// `it_interval` in ns (0: one shot).
    pub interval: u64,
    /// The next expiry (run-queue time), None when disarmed.
    pub deadline: Option<u64>,
    /// The generation the queued timer entry must match.
    pub seq: u64,
    /// Overruns of the signal queued last (while it is queued, they grow).
    pub pending_overrun: i32,
    /// `it_overrun_last`: overruns of the signal delivered before.
    pub overrun_last: i32,
    /// A CPU-clock timer: its clock, and the CPU time left until it
    /// expires (0: disarmed).
    pub cpu: Option<CpuClock>,
    pub cpu_left: u64,
}

/// A CPU-time clock (`CPUCLOCK_*`): one thread's or the whole process's,
/// user time only (`CPUCLOCK_VIRT`) or user and system time
/// (`CPUCLOCK_PROF`, `CPUCLOCK_SCHED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuClock {
    /// The thread whose time counts (None: every thread of the process).
    pub tid: Option<i32>,
    pub user_only: bool,
}

impl KItimer {
    fn is_cpu(&self) -> bool {
        self.cpu.is_some()
    }
}

/// The CPU clock `clock` names, if it is one: the two fixed ids, or the
/// encoded form (`~pid << 3 | perthread << 2 | type`, pid 0 = the caller)
/// glibc passes for them. EINVAL for a bad encoding or, ferrite's limit,
/// another process's clock.
fn cpu_clock(s: &Sys<'_>, clock: i32) -> Result<Option<CpuClock>, Errno> {
    let me = s.task;
    match clock {
        CLOCK_PROCESS_CPUTIME_ID => {
            return Ok(Some(CpuClock {
                tid: None,
                user_only: false,
            }))
        }
        CLOCK_THREAD_CPUTIME_ID => {
            return Ok(Some(CpuClock {
                tid: Some(me.pid()),
                user_only: false,
            }))
        }
        c if c >= 0 => return Ok(None),
        _ => {}
    }
    let pid = !(clock >> 3);
    let kind = clock & 3;
    let thread = clock & 4 != 0;
    if kind == 3 {
        return Err(EINVAL);
    }
    let user_only = kind == 1;
    let tid = if thread {
        let tid = if pid == 0 { me.pid() } else { pid };
        match s.k.tasks.find(tid) {
            Some(t) if t.tgid == me.tgid => Some(tid),
            _ => return Err(EINVAL),
        }
    } else {
        if pid != 0 && pid != me.tgid {
            return Err(EINVAL);
        }
        None
    };
    Ok(Some(CpuClock { tid, user_only }))
}

/// A process's timers (`signal->posix_timers`).
#[derive(Debug, Default)]
pub struct Timers {
    next_id: i32,
    list: BTreeMap<i32, KItimer>,
}

impl Timers {
    /// How many timers exist.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// `exit_itimers`: delete every timer of the process (exec and exit),
/// off the timer queue at once.
pub fn exit_itimers(rq: &RunQueue, sig: &SignalStruct) {
    let ids: Vec<(i32, KItimer)> = std::mem::take(&mut lock(&sig.posix_timers).list)
        .into_iter()
        .collect();
    if ids.is_empty() {
        return;
    }
    let me = sig as *const SignalStruct as usize;
    rq.cancel_calls(&|(s, _)| s == me);
    for (id, t) in ids {
        drop_queued(sig, id, &t);
    }
}

/// Take a timer's queued signal off the pending queues (its timer was
/// re-armed or deleted).
fn drop_queued(sig: &SignalStruct, id: i32, t: &KItimer) {
    let is_it = |q: &SigQueued| q.code == SI_TIMER && q.pid == id && q.signo == t.signo;
    let fix = |pending: &mut u64, queue: &mut Vec<SigQueued>| {
        let before = queue.len();
        queue.retain(|q| !is_it(q));
        if queue.len() != before && !queue.iter().any(|q| q.signo == t.signo) {
            *pending &= !sigbit(t.signo);
        }
    };
    {
        let mut g = lock(&sig.group);
        let g = &mut *g;
        fix(&mut g.pending, &mut g.queue);
    }
    for th in lock(&sig.threads).iter() {
        let mut s = lock(&th.sig);
        let s = &mut *s;
        fix(&mut s.pending, &mut s.queue);
    }
}

/// Whether the timer's signal is still queued; if so, add `n` overruns to
/// it.
fn bump_queued(sig: &SignalStruct, id: i32, t: &KItimer, n: i32) -> bool {
    let bump = |queue: &mut Vec<SigQueued>| -> bool {
        match queue
            .iter_mut()
            .find(|q| q.code == SI_TIMER && q.pid == id && q.signo == t.signo)
        {
            Some(q) => {
                q.uid = (q.uid as i32).saturating_add(n) as u32;
                true
            }
            None => false,
        }
    };
    if bump(&mut lock(&sig.group).queue) {
        return true;
    }
    lock(&sig.threads)
        .iter()
        .any(|th| bump(&mut lock(&th.sig).queue))
}

/// What an expiry sends: the task, the signal, to the thread or process.
type Send = (TaskRef, SigQueued, Target);

/// Timer `id` expired (with `missed` more periods gone by): queue its
/// signal, or count overruns of the one still queued. Returns what to
/// send once the timers' lock is dropped.
fn expire(sig: &SignalStruct, id: i32, t: &mut KItimer, missed: i32) -> Option<Send> {
    if t.notify == SIGEV_NONE {
        return None;
    }
    let snapshot = t.clone();
    if bump_queued(sig, id, &snapshot, missed.saturating_add(1)) {
        t.pending_overrun = t.pending_overrun.saturating_add(missed.saturating_add(1));
        return None;
    }
    t.overrun_last = t.pending_overrun;
    t.pending_overrun = missed;
    let threads = lock(&sig.threads);
    let target = match t.tid {
        Some(tid) => threads
            .iter()
            .find(|th| th.pid() == tid)
            .cloned()
            .map(|th| (th, Target::Thread)),
        None => threads.first().cloned().map(|th| (th, Target::Group)),
    };
    let info = SigQueued {
        signo: t.signo,
        code: SI_TIMER,
        pid: id,
        uid: missed as u32,
        addr: t.value,
        ..Default::default()
    };
    target.map(|(th, how)| (th, info, how))
}

/// Charge `ns` of CPU time (`user`: in user mode) of `task` to its
/// process's CPU-clock timers (`run_posix_cpu_timers`): process clocks
/// count every thread's time, thread clocks their thread's. Called by the
/// trap loop's accounting; one atomic load when none is armed.
pub fn account_cpu(task: &TaskRef, ns: u64, user: bool) {
    let sig = &task.signal;
    if !sig.posix_cpu_armed.load(Relaxed) {
        return;
    }
    let mut sends = Vec::new();
    {
        let mut tm = lock(&sig.posix_timers);
        let mut armed = false;
        for (&id, t) in tm.list.iter_mut() {
            let Some(c) = t.cpu.filter(|_| t.cpu_left != 0) else {
                continue;
            };
            if c.tid.is_some_and(|tid| tid != task.pid()) || (c.user_only && !user) {
                armed = true;
                continue;
            }
            if ns < t.cpu_left {
                t.cpu_left -= ns;
                armed = true;
                continue;
            }
            let over = ns - t.cpu_left;
            let missed = over.checked_div(t.interval).unwrap_or(0);
            t.cpu_left = over.checked_rem(t.interval).map_or(0, |r| t.interval - r);
            armed |= t.cpu_left != 0;
            if let Some(job) = expire(sig, id, t, missed.min(i32::MAX as u64) as i32) {
                sends.push(job);
            }
        }
        if !armed {
            sig.posix_cpu_armed.store(false, Relaxed);
        }
    }
    for (th, info, how) in sends {
        let _ = sigcore::send_signal(&th, info, how);
    }
}

/// The CPU time of timer `t`'s clock now (ns).
fn cpu_clock_now(s: &Sys<'_>, t: &KItimer) -> u64 {
    let Some(c) = t.cpu else {
        return 0;
    };
    let threads = lock(&s.task.signal.threads).clone();
    let (u, st) = match c.tid {
        Some(tid) => threads
            .iter()
            .find(|th| th.pid() == tid)
            .map_or((0, 0), |th| {
                (th.utime.load(Relaxed), th.stime.load(Relaxed))
            }),
        None => match threads.first() {
            Some(leader) => crate::exit::process_times(leader),
            None => (0, 0),
        },
    };
    if c.user_only {
        u
    } else {
        u + st
    }
}

/// `posix_timer_fn`: timer `id` of `sig` (generation `seq`) expired.
fn timer_fire(rq: &RunQueue, sig: &SignalRef, id: i32, seq: u64) {
    let now = rq.now();
    if lock(&sig.threads).is_empty() {
        // The process is gone (`exit_itimers` at its exit).
        lock(&sig.posix_timers).list.clear();
        return;
    }
    let mut tm = lock(&sig.posix_timers);
    let Some(t) = tm.list.get_mut(&id) else {
        return;
    };
    let Some(d) = t.deadline.filter(|_| t.seq == seq) else {
        return;
    };
    let mut missed = 0u64;
    let rearm = if let Some(m) = now.saturating_sub(d).checked_div(t.interval) {
        missed = m;
        let next = d.saturating_add((missed + 1).saturating_mul(t.interval));
        t.deadline = Some(next);
        Some(next)
    } else {
        t.deadline = None;
        None
    };
    let missed = missed.min(i32::MAX as u64) as i32;
    let job = expire(sig, id, t, missed);
    drop(tm);
    if let Some((th, info, how)) = job {
        let _ = sigcore::send_signal(&th, info, how);
    }
    if let Some(next) = rearm {
        arm(rq, sig, id, seq, next);
    }
}

/// The timer queue's key of timer `id` of `sig`.
fn key(sig: &SignalStruct, id: i32) -> TimerKey {
    (sig as *const SignalStruct as usize, id as i64)
}

fn arm(rq: &RunQueue, sig: &SignalRef, id: i32, seq: u64, deadline: u64) {
    let s = sig.clone();
    rq.arm_call(
        deadline,
        key(sig, id),
        Box::new(move |rq: &RunQueue| timer_fire(rq, &s, id, seq)),
    );
}

/// Take timer `id`'s entry off the timer queue (`hrtimer_cancel`).
fn cancel(rq: &RunQueue, sig: &SignalStruct, id: i32) {
    let k = key(sig, id);
    rq.cancel_calls(&|x| x == k);
}

fn read_i32(b: &[u8], off: usize) -> i32 {
    i32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// `timer_create(2)`.
pub fn sys_timer_create(s: &mut Sys<'_>, clock: u64, sevp: u64, idp: u64) -> SysResult {
    let clock = clock as i32;
    match clock {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI => {}
        CLOCK_MONOTONIC_RAW
        | CLOCK_REALTIME_COARSE
        | CLOCK_MONOTONIC_COARSE
        | CLOCK_REALTIME_ALARM
        | CLOCK_BOOTTIME_ALARM => return Err(EOPNOTSUPP),
        // CPU clocks (the fixed ids and the encoded ones).
        c if c < 0 || c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID => {}
        _ => return Err(EINVAL),
    }
    let mut t = KItimer {
        clock,
        cpu: cpu_clock(s, clock)?,
        ..Default::default()
    };
    let event = if sevp != 0 {
        Some(s.read_user(sevp, SIGEVENT_SIZE)?)
    } else {
        None
    };
    let limit = crate::sigcore::sigqueue_limit(s.task);
    // Reserve the id first (Linux allocates before it reads the event).
    let id = {
        let mut tm = lock(&s.task.signal.posix_timers);
        if tm.list.len() as u64 >= limit {
            return Err(EAGAIN);
        }
        let mut id = tm.next_id;
        while tm.list.contains_key(&id) {
            id = id.wrapping_add(1) & i32::MAX;
        }
        tm.next_id = id.wrapping_add(1) & i32::MAX;
        id
    };
    if let Some(ev) = &event {
        let value = u64::from_le_bytes(ev[0..8].try_into().unwrap_or([0; 8]));
        let signo = read_i32(ev, 8);
        let notify = read_i32(ev, 12);
        let tid = read_i32(ev, 16);
        // `good_sigevent`.
        let ok = match notify {
            n if n == SIGEV_SIGNAL | SIGEV_THREAD_ID => {
                let same_group = s.k.tasks.find(tid).is_some_and(|th| th.tgid == s.task.tgid);
                t.tid = Some(tid);
                same_group && (1..=64).contains(&signo)
            }
            SIGEV_SIGNAL | SIGEV_THREAD => (1..=64).contains(&signo),
            SIGEV_NONE => true,
            _ => false,
        };
        if !ok {
            return Err(EINVAL);
        }
        t.notify = notify;
        t.signo = signo;
        t.value = value;
    } else {
        t.notify = SIGEV_SIGNAL;
        t.signo = SIGALRM;
        t.value = id as u32 as u64;
    }
    s.write_user(idp, &id.to_le_bytes())?;
    lock(&s.task.signal.posix_timers).list.insert(id, t);
    Ok(0)
}

/// The remaining time and interval of `t` at `now` (`common_timer_get`);
/// a `SIGEV_NONE` timer is forwarded (and a one-shot one disarmed) here.
fn timer_get(t: &mut KItimer, now: u64) -> (u64, u64) {
    if t.is_cpu() {
        return (t.cpu_left, t.interval);
    }
    let Some(mut d) = t.deadline else {
        return (0, t.interval);
    };
    let sigev_none = t.notify == SIGEV_NONE;
    if sigev_none && d <= now {
        if let Some(n) = (now - d).checked_div(t.interval) {
            let n = n + 1;
            d = d.saturating_add(n.saturating_mul(t.interval));
            t.deadline = Some(d);
            t.pending_overrun = t
                .pending_overrun
                .saturating_add(n.min(i32::MAX as u64) as i32);
        } else {
            t.deadline = None;
            return (0, 0);
        }
    }
    if d <= now {
        // Expired, its signal not sent yet: Linux reports 1 ns.
        (1, t.interval)
    } else {
        (d - now, t.interval)
    }
}

/// A `struct itimerspec`'s (interval, value) in ns; EINVAL for a negative
/// or unnormalised time (`itimerspec64_valid`).
pub(crate) fn itimerspec_ns(b: &[u8; 32]) -> Result<(u64, u64), Errno> {
    let ts = |off: usize| -> Result<u64, Errno> {
        let sec = i64::from_le_bytes(b[off..off + 8].try_into().map_err(|_| EINVAL)?);
        let nsec = i64::from_le_bytes(b[off + 8..off + 16].try_into().map_err(|_| EINVAL)?);
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(EINVAL);
        }
        Ok((sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(nsec as u64))
    };
    Ok((ts(0)?, ts(16)?))
}

/// `struct itimerspec` { it_interval, it_value }.
pub(crate) fn itimerspec(interval: u64, value: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0..8].copy_from_slice(&(interval / 1_000_000_000).to_le_bytes());
    b[8..16].copy_from_slice(&(interval % 1_000_000_000).to_le_bytes());
    b[16..24].copy_from_slice(&(value / 1_000_000_000).to_le_bytes());
    b[24..32].copy_from_slice(&(value % 1_000_000_000).to_le_bytes());
    b
}

/// `timer_gettime(2)`.
pub fn sys_timer_gettime(s: &mut Sys<'_>, id: u64, cur: u64) -> SysResult {
    let now = s.k.rq.now();
    let (v, i) = {
        let mut tm = lock(&s.task.signal.posix_timers);
        let t = tm.list.get_mut(&(id as i32)).ok_or(EINVAL)?;
        timer_get(t, now)
    };
    s.write_user(cur, &itimerspec(i, v))?;
    Ok(0)
}

/// `timer_getoverrun(2)`: the overruns of the last delivered signal.
pub fn sys_timer_getoverrun(s: &mut Sys<'_>, id: u64) -> SysResult {
    let id = id as i32;
    let sig = &s.task.signal;
    let tm = lock(&sig.posix_timers);
    let t = tm.list.get(&id).ok_or(EINVAL)?;
    let queued = bump_queued(sig, id, t, 0);
    Ok(if queued || t.notify == SIGEV_NONE {
        t.overrun_last
    } else {
        t.pending_overrun
    } as u64)
}

/// `timer_settime(2)`.
pub fn sys_timer_settime(s: &mut Sys<'_>, id: u64, flags: u64, new: u64, old: u64) -> SysResult {
    if new == 0 {
        return Err(EINVAL);
    }
    let (interval, value) = itimerspec_ns(&s.read_array::<32>(new)?)?;
    let id = id as i32;
    let now = s.k.rq.now();
    let sig = s.task.signal.clone();
    let (old_val, arm_at) = {
        let mut tm = lock(&sig.posix_timers);
        let t = tm.list.get_mut(&id).ok_or(EINVAL)?;
        let (ov, oi) = timer_get(t, now);
        t.seq += 1;
        cancel(&s.k.rq, &sig, id);
        drop_queued(&sig, id, t);
        t.pending_overrun = 0;
        t.overrun_last = 0;
        t.interval = interval;
        if t.is_cpu() {
            t.deadline = None;
            t.cpu_left = if value == 0 {
                0
            } else if flags & TIMER_ABSTIME != 0 {
                // Already past: expires at the next accounting.
                value.saturating_sub(cpu_clock_now(s, t)).max(1)
            } else {
                value
            };
            if t.cpu_left != 0 {
                sig.posix_cpu_armed.store(true, Relaxed);
            }
        }
        t.deadline = if value == 0 || t.is_cpu() {
            None
        } else if flags & TIMER_ABSTIME != 0 {
            let clock_now = match t.clock {
                CLOCK_REALTIME | CLOCK_TAI => crate::syscall::info::realtime_ns(),
                _ => crate::syscall::info::monotonic_ns(),
            };
            Some(now.saturating_add(value.saturating_sub(clock_now)))
        } else {
            Some(now.saturating_add(value))
        };
        let arm_at = t
            .deadline
            .filter(|_| t.notify != SIGEV_NONE)
            .map(|d| (d, t.seq));
        ((ov, oi), arm_at)
    };
    if let Some((d, seq)) = arm_at {
        arm(&s.k.rq, &sig, id, seq, d);
    }
    if old != 0 {
        s.write_user(old, &itimerspec(old_val.1, old_val.0))?;
    }
    Ok(0)
}

/// `timer_delete(2)`.
pub fn sys_timer_delete(s: &mut Sys<'_>, id: u64) -> SysResult {
    let id = id as i32;
    let sig = &s.task.signal;
    let t = lock(&sig.posix_timers).list.remove(&id).ok_or(EINVAL)?;
    cancel(&s.k.rq, sig, id);
    drop_queued(sig, id, &t);
    Ok(0)
}
