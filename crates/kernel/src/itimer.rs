//! Interval timers: kernel/time/itimer.c (`getitimer`, `setitimer`,
//! `alarm`, `it_real_fn`) for ITIMER_REAL, on the kernel's timer queue,
//! and ITIMER_VIRTUAL/ITIMER_PROF as kernel/time/posix-cpu-timers.c's
//! `set_process_cpu_timer`/`check_cpu_itimer` do them: they count the
//! process's CPU time (user, and user + system) and send SIGVTALRM /
//! SIGPROF when it runs out.
//!
//! Where ferrite differs: CPU time is charged when a hart comes back from
//! a stretch of user code or a system call (see `crate::trap`), so a CPU
//! timer fires at the end of the slice in which it ran out (Linux checks
//! at each tick, 1-4 ms): with ferrite's slice of about 1 ms the two are
//! alike.

use std::sync::atomic::Ordering::Relaxed;

use crate::errno::{Errno, EFAULT, EINVAL};
use crate::sigcore::{self, SigQueued, Target};
use crate::syscall::{Sys, SysResult};
use crate::task::{lock, SignalRef};

/// A CPU-time interval timer (`struct cpu_itimer`): what is left of its
/// value (0: disarmed) and its interval, in ns of CPU time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuItimer {
    pub left: u64,
    pub interval: u64,
}

/// Charge `ns` of CPU time (`user`: user mode, else a system call) to
/// the process of `t` (`account_process_tick` + `check_process_timers`):
/// ITIMER_PROF counts both, ITIMER_VIRTUAL user time only. Expired timers
/// send their signal and re-arm with their interval. Cheap when none is
/// armed (one atomic load).
#[inline]
pub fn account_cpu(t: &crate::task::TaskRef, ns: u64, user: bool) {
    let sig = &t.signal;
    if sig.posix_cpu_armed.load(Relaxed) {
        crate::posix_timers::account_cpu(t, ns, user);
    }
    if sig.it_cpu_armed.load(Relaxed) {
        account_it_cpu(t, ns, user);
    }
}

/// [`account_cpu`] for the armed ITIMER_VIRTUAL/ITIMER_PROF.
fn account_it_cpu(t: &crate::task::TaskRef, ns: u64, user: bool) {
    let sig = &t.signal;
    let mut fired = Vec::new();
    {
        let mut it = lock(&sig.it_cpu);
        for (i, timer) in it.iter_mut().enumerate() {
            let counts = i == 1 || user;
            if timer.left == 0 || !counts {
                continue;
            }
            if ns < timer.left {
                timer.left -= ns;
                continue;
            }
            let over = ns - timer.left;
            timer.left = if timer.interval > 0 {
                // Several periods may have gone by in one slice.
                timer.interval - over % timer.interval
            } else {
                0
            };
            fired.push(if i == 0 {
                sigcore::SIGVTALRM
            } else {
                sigcore::SIGPROF
            });
        }
        if it.iter().all(|t| t.left == 0) {
            sig.it_cpu_armed.store(false, Relaxed);
        }
    }
    for signo in fired {
        let info = SigQueued {
            signo,
            code: sigcore::SI_KERNEL,
            ..Default::default()
        };
        sigcore::send_sig_info(t, info, Target::Group);
    }
}

/// Set ITIMER_VIRTUAL (`which` 0) or ITIMER_PROF (1); returns the old
/// (left, interval).
fn set_cpu_itimer(s: &Sys<'_>, which: usize, value: u64, interval: u64) -> (u64, u64) {
    let sig = &s.task.signal;
    let mut it = lock(&sig.it_cpu);
    let old = (it[which].left, it[which].interval);
    it[which] = CpuItimer {
        left: value,
        interval: if value == 0 { 0 } else { interval },
    };
    sig.it_cpu_armed
        .store(it.iter().any(|t| t.left != 0), Relaxed);
    old
}

/// `ITIMER_REAL`, `ITIMER_VIRTUAL`, `ITIMER_PROF`.
pub const ITIMER_REAL: u64 = 0;
pub const ITIMER_VIRTUAL: u64 = 1;
pub const ITIMER_PROF: u64 = 2;

/// `it_real_fn`: SIGALRM to the process; an interval timer re-arms.
pub fn it_real_fire(sig: &SignalRef) {
    let Some(t) = lock(&sig.threads).first().cloned() else {
        return;
    };
    let rearm = {
        let mut g = lock(&sig.group);
        let Some(d) = g.it_real_deadline else {
            return;
        };
        if g.it_real_interval > 0 {
            let next = d + g.it_real_interval;
            g.it_real_deadline = Some(next);
            Some((next, g.it_real_seq))
        } else {
            g.it_real_deadline = None;
            None
        }
    };
    let info = SigQueued {
        signo: sigcore::SIGALRM,
        code: sigcore::SI_KERNEL,
        ..Default::default()
    };
    sigcore::send_sig_info(&t, info, Target::Group);
    if let Some((next, seq)) = rearm {
        t.rq.arm_it_real(sig, next, seq);
    }
}

/// Set ITIMER_REAL to fire after `value` ns, then every `interval` ns
/// (0, 0 disarms); returns the old (remaining, interval).
pub fn set_it_real(s: &Sys<'_>, value: u64, interval: u64) -> (u64, u64) {
    let now = s.k.rq.now();
    let sig = &s.task.signal;
    let (old, seq, deadline) = {
        let mut g = lock(&sig.group);
        let old = (
            g.it_real_deadline
                .map_or(0, |d| d.saturating_sub(now).max(1)),
            g.it_real_interval,
        );
        g.it_real_seq += 1;
        g.it_real_interval = if value == 0 { 0 } else { interval };
        g.it_real_deadline = (value != 0).then(|| now + value);
        (old, g.it_real_seq, g.it_real_deadline)
    };
    if let Some(d) = deadline {
        s.k.rq.arm_it_real(sig, d, seq);
    }
    old
}

fn timeval(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    b[8..].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
    b
}

fn read_timeval(s: &Sys<'_>, addr: u64) -> Result<u64, Errno> {
    let b = s.read_array::<16>(addr)?;
    let sec = i64::from_le_bytes(b[..8].try_into().map_err(|_| EFAULT)?);
    let usec = i64::from_le_bytes(b[8..].try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(EINVAL);
    }
    Ok((sec as u64).saturating_mul(1_000_000_000) + usec as u64 * 1000)
}

/// `getitimer(2)`.
pub fn sys_getitimer(s: &mut Sys<'_>, which: u64, curr: u64) -> SysResult {
    let (v, i) = match which {
        ITIMER_REAL => {
            let now = s.k.rq.now();
            let g = lock(&s.task.signal.group);
            (
                g.it_real_deadline.map_or(0, |d| d.saturating_sub(now)),
                g.it_real_interval,
            )
        }
        ITIMER_VIRTUAL | ITIMER_PROF => {
            let it = lock(&s.task.signal.it_cpu)[(which - 1) as usize];
            (it.left, it.interval)
        }
        _ => return Err(EINVAL),
    };
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(&timeval(i));
    out[16..].copy_from_slice(&timeval(v));
    s.write_user(curr, &out)?;
    Ok(0)
}

/// `setitimer(2)`: `struct itimerval { it_interval; it_value; }`.
pub fn sys_setitimer(s: &mut Sys<'_>, which: u64, new: u64, old: u64) -> SysResult {
    let (interval, value) = if new != 0 {
        (read_timeval(s, new)?, read_timeval(s, new + 16)?)
    } else {
        (0, 0)
    };
    let (ov, oi) = match which {
        ITIMER_REAL => set_it_real(s, value, interval),
        ITIMER_VIRTUAL | ITIMER_PROF => set_cpu_itimer(s, (which - 1) as usize, value, interval),
        _ => return Err(EINVAL),
    };
    if old != 0 {
        let mut out = [0u8; 32];
        out[..16].copy_from_slice(&timeval(oi));
        out[16..].copy_from_slice(&timeval(ov));
        s.write_user(old, &out)?;
    }
    Ok(0)
}

/// `alarm(2)` (riscv64 has no alarm syscall; glibc uses setitimer; kept
/// for the table's completeness as the generic entry).
pub fn alarm(s: &mut Sys<'_>, secs: u64) -> SysResult {
    let (old, _) = set_it_real(s, secs.saturating_mul(1_000_000_000), 0);
    // Rounded as Linux: a remaining fraction counts as a second.
    Ok(old.div_ceil(1_000_000_000))
}
