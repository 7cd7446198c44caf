//! Identity, limits, randomness and time: kernel/sys.c (`uname`,
//! `prlimit64`, `getrlimit`, `setrlimit`), drivers/char/random.c
//! (`getrandom`), kernel/time/posix-timers.c and hrtimer.c (clocks and
//! sleeps), kernel/futex/syscalls.c (`set_robust_list`).
//!
//! Where ferrite differs: the clocks are `crate::time`'s (the host's in
//! parallel mode, virtual in deterministic mode); the CPU-time clocks count
//! the task's own accounted time; a sleep gives the hart to another task.

use std::time::Duration;

use mm::uaccess::access_ok;

use super::file::{GuestIter, MAX_RW_COUNT};
use super::{Flow, Sys, SysResult};
use crate::errno::{Errno, EFAULT, EINVAL, EPERM, ESRCH};
use crate::fs::{UserIter, CHUNK};
use crate::task::{Rlimit, RLIMIT_NOFILE, RLIM_NLIMITS};

/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;
/// `__NEW_UTS_LEN + 1`.
const UTS_FIELD: usize = 65;
/// `sysctl_nr_open`: the most RLIMIT_NOFILE may be.
const NR_OPEN: u64 = 1 << 20;
/// `TIMER_ABSTIME`.
const TIMER_ABSTIME: u64 = 1;

/// What `uname` reports: Linux on a RISC-V board, named ferrite.
pub const UTSNAME: [&str; 6] = [
    "Linux",
    "ferrite",
    "6.1.0-ferrite",
    "#1 SMP ferrite",
    "riscv64",
    "(none)",
];

/// `set_robust_list(2)`: recorded (the futex issue walks it at exit).
pub fn sys_set_robust_list(s: &mut Sys<'_>, head: u64, len: u64) -> SysResult {
    if len != ROBUST_LIST_HEAD_SIZE {
        return Err(EINVAL);
    }
    *crate::task::lock(&s.task.robust_list) = (head, len);
    Ok(0)
}

/// `uname(2)`: `struct new_utsname`.
pub fn sys_uname(s: &mut Sys<'_>, buf: u64) -> SysResult {
    let mut u = [0u8; 6 * UTS_FIELD];
    for (i, f) in UTSNAME.iter().enumerate() {
        u[i * UTS_FIELD..i * UTS_FIELD + f.len()].copy_from_slice(f.as_bytes());
    }
    s.write_user(buf, &u)?;
    Ok(0)
}

fn rlimit_bytes(r: Rlimit) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&r.cur.to_le_bytes());
    b[8..].copy_from_slice(&r.max.to_le_bytes());
    b
}

fn read_rlimit(s: &Sys<'_>, addr: u64) -> Result<Rlimit, Errno> {
    let b = s.read_array::<16>(addr)?;
    let cur = u64::from_le_bytes(b[..8].try_into().map_err(|_| EFAULT)?);
    let max = u64::from_le_bytes(b[8..].try_into().map_err(|_| EFAULT)?);
    Ok(Rlimit { cur, max })
}

/// `do_prlimit`: check and set limit `res`.
fn set_rlimit(s: &mut Sys<'_>, res: usize, new: Rlimit) -> Result<(), Errno> {
    if new.cur > new.max {
        return Err(EINVAL);
    }
    if res == RLIMIT_NOFILE && new.max > NR_OPEN {
        return Err(EPERM);
    }
    let mut rlim = crate::task::lock(&s.task.signal.rlim);
    let old = rlim[res];
    // Raising the hard limit needs CAP_SYS_RESOURCE: root has it.
    if new.max > old.max && s.task.cred().euid != 0 {
        return Err(EPERM);
    }
    rlim[res] = new;
    Ok(())
}

/// `prlimit64(2)`.
pub fn sys_prlimit64(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [pid, res, new, old, _, _] = a;
    let res = res as usize;
    if res >= RLIM_NLIMITS {
        return Err(EINVAL);
    }
    if pid as i32 != 0 && pid as i32 != s.task.tgid {
        return Err(ESRCH);
    }
    let new = if new != 0 {
        Some(read_rlimit(s, new)?)
    } else {
        None
    };
    if old != 0 {
        s.write_user(
            old,
            &rlimit_bytes(crate::task::lock(&s.task.signal.rlim)[res]),
        )?;
    }
    if let Some(n) = new {
        set_rlimit(s, res, n)?;
    }
    Ok(0)
}

/// `getrlimit(2)`.
pub fn sys_getrlimit(s: &mut Sys<'_>, res: u64, rlim: u64) -> SysResult {
    let res = res as usize;
    if res >= RLIM_NLIMITS {
        return Err(EINVAL);
    }
    s.write_user(
        rlim,
        &rlimit_bytes(crate::task::lock(&s.task.signal.rlim)[res]),
    )?;
    Ok(0)
}

/// `setrlimit(2)`.
pub fn sys_setrlimit(s: &mut Sys<'_>, res: u64, rlim: u64) -> SysResult {
    let res = res as usize;
    if res >= RLIM_NLIMITS {
        return Err(EINVAL);
    }
    let new = read_rlimit(s, rlim)?;
    set_rlimit(s, res, new)?;
    Ok(0)
}

/// `GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE`.
const GRND_ALL: u64 = 0x7;

/// `getrandom(2)`: bytes from the kernel's generator
/// ([`crate::random::get_random_bytes`]: the host's, or the seeded stream
/// in deterministic mode), at most
/// `MAX_RW_COUNT` (`import_single_range` cuts the length before it checks
/// the range), [`CHUNK`] at a time; a fault after some bytes returns
/// them.
pub fn sys_getrandom(s: &mut Sys<'_>, buf: u64, len: u64, flags: u64) -> SysResult {
    if flags & !GRND_ALL != 0 || flags & 0x6 == 0x6 {
        return Err(EINVAL);
    }
    let len = (len as usize).min(MAX_RW_COUNT);
    if !access_ok(buf as usize, len) {
        return Err(EFAULT);
    }
    let mut it = GuestIter::new(s, smallvec::smallvec![(buf, len as u64)]);
    let mut chunk = vec![0u8; len.min(CHUNK)];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(CHUNK);
        if let Err(e) = crate::random::get_random_bytes(&mut chunk[..n]) {
            return if done == 0 { Err(e) } else { Ok(done as u64) };
        }
        let m = it.copy_out(&chunk[..n]);
        done += m;
        if m < n {
            return if done == 0 {
                Err(EFAULT)
            } else {
                Ok(done as u64)
            };
        }
    }
    Ok(done as u64)
}

fn timespec_bytes(sec: i64, nsec: i64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&sec.to_le_bytes());
    b[8..].copy_from_slice(&nsec.to_le_bytes());
    b
}

/// A time in ns as (seconds, nanoseconds).
fn split_ns(ns: u64) -> (i64, i64) {
    ((ns / 1_000_000_000) as i64, (ns % 1_000_000_000) as i64)
}

/// What clock `id` reads now for the calling task, in ns
/// ([`crate::time::timekeeping`]): the CPU-time clocks from the task's
/// (or its process's) user and system time, the others from the mode's
/// clock.
pub fn clock_now_for(s: &Sys<'_>, id: u64) -> Result<u64, Errno> {
    use crate::time::timekeeping::{
        clock_now_ns, valid_clock, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
    };
    if !valid_clock(id) {
        return Err(EINVAL);
    }
    match id as i32 {
        CLOCK_THREAD_CPUTIME_ID => {
            let t = s.task;
            Ok(t.utime.load(std::sync::atomic::Ordering::Relaxed)
                + t.stime.load(std::sync::atomic::Ordering::Relaxed))
        }
        CLOCK_PROCESS_CPUTIME_ID => {
            let leader = crate::task::lock(&s.task.signal.threads).first().cloned();
            let (u, st) = leader.map_or((0, 0), |l| crate::exit::process_times(&l));
            Ok(u + st)
        }
        _ => clock_now_ns(id),
    }
}

/// `clock_gettime(2)`.
pub fn sys_clock_gettime(s: &mut Sys<'_>, id: u64, tp: u64) -> SysResult {
    let (sec, nsec) = split_ns(clock_now_for(s, id)?);
    s.write_user(tp, &timespec_bytes(sec, nsec))?;
    Ok(0)
}

/// `clock_getres(2)`.
pub fn sys_clock_getres(s: &mut Sys<'_>, id: u64, tp: u64) -> SysResult {
    let (sec, nsec) = split_ns(crate::time::timekeeping::clock_res_ns(id)?);
    if tp != 0 {
        s.write_user(tp, &timespec_bytes(sec, nsec))?;
    }
    Ok(0)
}

/// `gettimeofday(2)`.
pub fn sys_gettimeofday(s: &mut Sys<'_>, tv: u64, tz: u64) -> SysResult {
    if tv != 0 {
        let (sec, nsec) = split_ns(crate::time::ktime_get_real_ns());
        s.write_user(tv, &timespec_bytes(sec, nsec / 1000))?;
    }
    if tz != 0 {
        s.write_user(tz, &[0u8; 8])?;
    }
    Ok(0)
}

/// A user `struct timespec`, checked as `timespec64_valid` does.
fn read_timespec(s: &Sys<'_>, addr: u64) -> Result<Duration, Errno> {
    let b = s.read_array::<16>(addr)?;
    let sec = i64::from_le_bytes(b[..8].try_into().map_err(|_| EFAULT)?);
    let nsec = i64::from_le_bytes(b[8..].try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    Ok(Duration::new(sec as u64, nsec as u32))
}

/// A sleep until `deadline` (ns of the run queue's clock): the first
/// call arms a timer and sleeps; the re-executed call returns 0 when the
/// time has come, or, woken by a signal, writes the time left to `rem`
/// (relative sleeps) and returns -ERESTART_RESTARTBLOCK (a handler makes
/// it EINTR; otherwise the call goes on with the same deadline, as Linux's
/// `restart_block`).
fn sleep_until(s: &mut Sys<'_>, nr: u64, deadline: u64, rem: u64) -> Flow {
    use crate::sched::{self, Restart, TASK_INTERRUPTIBLE};
    let now = s.k.rq.now();
    if now >= deadline {
        return Flow::Return(0);
    }
    if crate::sigcore::signal_pending(s.task) {
        if rem != 0 {
            let left = deadline - now;
            let b = timespec_bytes((left / 1_000_000_000) as i64, (left % 1_000_000_000) as i64);
            if s.write_user(rem, &b).is_err() {
                return Flow::Return(-(EFAULT as i64));
            }
        }
        *s.task.restart.lock() = Some(Restart {
            nr,
            deadline: Some(deadline),
            ..Default::default()
        });
        return Flow::Return(-(crate::errno::ERESTART_RESTARTBLOCK as i64));
    }
    *s.task.restart.lock() = Some(Restart {
        nr,
        deadline: Some(deadline),
        ..Default::default()
    });
    sched::set_current_state(s.task, TASK_INTERRUPTIBLE);
    s.k.rq.arm_wake(s.task, deadline);
    Flow::Block
}

/// The deadline a re-executed sleep kept, if this is one.
fn kept_deadline(s: &Sys<'_>, nr: u64) -> Option<u64> {
    s.task
        .restart
        .lock()
        .as_ref()
        .filter(|r| r.nr == nr)
        .and_then(|r| r.deadline)
}

fn flow(r: Result<Flow, Errno>) -> Flow {
    r.unwrap_or_else(|e| Flow::Return(-(e as i64)))
}

/// `nanosleep(2)`.
pub fn sys_nanosleep(s: &mut Sys<'_>, req: u64, rem: u64) -> Flow {
    use super::nr::NANOSLEEP;
    flow((|| {
        let deadline = match kept_deadline(s, NANOSLEEP) {
            Some(d) => d,
            None => {
                let d = read_timespec(s, req)?;
                s.k.rq
                    .now()
                    .saturating_add(d.as_nanos().min(u64::MAX as u128) as u64)
            }
        };
        Ok(sleep_until(s, NANOSLEEP, deadline, rem))
    })())
}

/// Nanoseconds on CLOCK_MONOTONIC (the host's, or the virtual one in
/// deterministic mode).
pub fn monotonic_ns() -> u64 {
    crate::time::ktime_get_ns()
}

/// Nanoseconds on CLOCK_REALTIME (the host's, or the virtual one in
/// deterministic mode).
pub fn realtime_ns() -> u64 {
    crate::time::ktime_get_real_ns()
}

/// `clock_nanosleep(2)`: relative or TIMER_ABSTIME on the clock `id`.
pub fn sys_clock_nanosleep(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    use super::nr::CLOCK_NANOSLEEP;
    let [id, flags, req, rem, _, _] = a;
    flow((|| {
        if !matches!(id as i32, 0 | 1 | 7 | 11) {
            return Err(EINVAL);
        }
        let deadline = match kept_deadline(s, CLOCK_NANOSLEEP) {
            Some(d) => d,
            None => {
                let d = read_timespec(s, req)?.as_nanos().min(u64::MAX as u128) as u64;
                let now = s.k.rq.now();
                if flags & TIMER_ABSTIME != 0 {
                    let clock_now = crate::time::timekeeping::clock_now_ns(id)?;
                    now.saturating_add(d.saturating_sub(clock_now))
                } else {
                    now.saturating_add(d)
                }
            }
        };
        let rem = if flags & TIMER_ABSTIME != 0 { 0 } else { rem };
        Ok(sleep_until(s, CLOCK_NANOSLEEP, deadline, rem))
    })())
}

/// `sizeof(struct sysinfo)` on 64-bit.
pub const SYSINFO_SIZE: usize = 112;

/// `sysinfo(2)` (kernel/sys.c `do_sysinfo`): uptime in whole seconds
/// (rounded up), the load averages (0: ferrite does not compute them), RAM
/// from mm's counters (no swap, no high memory), the number of tasks, in
/// units of 1 byte.
pub fn sys_sysinfo(s: &mut Sys<'_>, info: u64) -> SysResult {
    use mm::vmstat::NodeStatItem;
    let now = s.k.rq.now();
    let uptime = now / 1_000_000_000 + u64::from(now % 1_000_000_000 != 0);
    let mem = s.k.mem;
    let page = mm::page::PAGE_SIZE as u64;
    // `procs` is a u16 that `nr_threads` is stored into (it wraps).
    let procs = s.k.tasks.lock().nr_threads as u16;
    let mut b = [0u8; SYSINFO_SIZE];
    let mut put = |off: usize, v: u64| b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(0, uptime);
    // loads[3] at 8..32 stay 0.
    put(32, mem.managed_pages() as u64 * page);
    put(40, mem.nr_free_pages() as u64 * page);
    put(48, mem.vmstat.get(NodeStatItem::NrShmem) as u64 * page);
    // bufferram, totalswap, freeswap: 0.
    b[80..82].copy_from_slice(&procs.to_le_bytes());
    // totalhigh, freehigh: 0.
    b[104..108].copy_from_slice(&1u32.to_le_bytes());
    s.write_user(info, &b)?;
    Ok(0)
}

/// `cpumask_size()`: the bytes of a CPU mask (`NR_CPUS` 64: one long).
pub const CPUMASK_SIZE: usize = 8;

/// The CPUs the kernel runs (`cpu_online_mask`).
fn online_mask(s: &Sys<'_>) -> u64 {
    let n = s.k.mem.nr_cpus().min(64);
    if n == 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// The task `pid` names for the affinity calls (0: the caller).
fn affinity_task(s: &Sys<'_>, pid: u64) -> Result<crate::task::TaskRef, Errno> {
    let pid = pid as i32;
    if pid == 0 {
        return Ok(s.task.clone());
    }
    if pid < 0 {
        return Err(ESRCH);
    }
    s.k.tasks.find(pid).ok_or(ESRCH)
}

/// `sched_getaffinity(2)`: the task's mask among the online CPUs, as
/// `cpumask_size()` bytes; EINVAL for a length shorter than the CPUs or
/// not a multiple of a long.
pub fn sys_sched_getaffinity(s: &mut Sys<'_>, pid: u64, len: u64, mask: u64) -> SysResult {
    if len.saturating_mul(8) < s.k.mem.nr_cpus() as u64 || len & 7 != 0 {
        return Err(EINVAL);
    }
    let t = affinity_task(s, pid)?;
    let allowed = match t.cpus_allowed.load(std::sync::atomic::Ordering::Relaxed) {
        0 => u64::MAX,
        m => m,
    };
    let m = allowed & online_mask(s);
    let n = (len as usize).min(CPUMASK_SIZE);
    s.write_user(mask, &m.to_le_bytes()[..n])?;
    Ok(n as u64)
}

/// `sched_setaffinity(2)`: set the mask (what the caller gave, the bytes
/// past `cpumask_size()` ignored, a shorter one zero-extended); EINVAL if
/// it has no online CPU. A task on a CPU the mask leaves out moves: at
/// once if it waits, when it leaves its hart if it runs.
pub fn sys_sched_setaffinity(s: &mut Sys<'_>, pid: u64, len: u64, mask: u64) -> SysResult {
    let n = (len as usize).min(CPUMASK_SIZE);
    let bytes = s.read_user(mask, n)?;
    let mut b = [0u8; CPUMASK_SIZE];
    b[..n].copy_from_slice(&bytes);
    let t = affinity_task(s, pid)?;
    // `check_same_owner` or CAP_SYS_NICE.
    let me = s.task.cred();
    let tc = t.cred();
    if me.euid != tc.euid && me.euid != tc.uid && !me.capable(crate::syscall::cred::CAP_SYS_NICE) {
        return Err(crate::errno::EPERM);
    }
    let m = u64::from_le_bytes(b);
    let new = m & online_mask(s);
    if new == 0 {
        return Err(EINVAL);
    }
    t.cpus_allowed
        .store(new, std::sync::atomic::Ordering::Relaxed);
    crate::sched::set_cpus_allowed(&t);
    Ok(0)
}
