//! Timekeeping (kernel/time/timekeeping.c, posix-timers.c's clock table):
//! what each POSIX clock reads.
//!
//! In parallel mode the clocks are the host's (`clock_gettime` on the
//! host for the same clock id), as before; in deterministic mode they are
//! the virtual clock of [`super::det`]: `CLOCK_MONOTONIC`,
//! `CLOCK_MONOTONIC_RAW`, `CLOCK_MONOTONIC_COARSE` and `CLOCK_BOOTTIME`
//! read the hart's clock (ns since boot), `CLOCK_REALTIME`,
//! `CLOCK_REALTIME_COARSE` and `CLOCK_TAI` that plus
//! [`det::BOOT_REALTIME_NS`] (TAI equals
//! REALTIME, as on a Linux whose TAI offset was never set).
//!
//! The CPU-time clocks (`CLOCK_PROCESS_CPUTIME_ID`,
//! `CLOCK_THREAD_CPUTIME_ID`) read the task's own accounting in both modes
//! (`utime + stime`, see [`super::Stopwatch`]); the caller supplies them.
//!
//! Where ferrite differs: the clocks cannot be set (`clock_settime` is
//! not offered), and there are no per-namespace offsets.

use crate::errno::{Errno, EINVAL};

use super::det::{self, BOOT_REALTIME_NS};

/// `CLOCK_REALTIME`.
pub const CLOCK_REALTIME: i32 = 0;
/// `CLOCK_MONOTONIC`.
pub const CLOCK_MONOTONIC: i32 = 1;
/// `CLOCK_PROCESS_CPUTIME_ID`.
pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
/// `CLOCK_THREAD_CPUTIME_ID`.
pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
/// `CLOCK_MONOTONIC_RAW`.
pub const CLOCK_MONOTONIC_RAW: i32 = 4;
/// `CLOCK_REALTIME_COARSE`.
pub const CLOCK_REALTIME_COARSE: i32 = 5;
/// `CLOCK_MONOTONIC_COARSE`.
pub const CLOCK_MONOTONIC_COARSE: i32 = 6;
/// `CLOCK_BOOTTIME`.
pub const CLOCK_BOOTTIME: i32 = 7;
/// `CLOCK_TAI`.
pub const CLOCK_TAI: i32 = 11;

/// The resolution of the coarse clocks in deterministic mode: a tick at
/// HZ = 250, as `clock_getres` reports on such a Linux.
pub const COARSE_RES_NS: u64 = 4_000_000;

/// The clocks Linux's `clock_gettime` accepts (REALTIME, MONOTONIC,
/// PROCESS/THREAD_CPUTIME, MONOTONIC_RAW, the COARSE ones, BOOTTIME, TAI).
pub fn valid_clock(id: u64) -> bool {
    matches!(id as i32, 0..=7 | 11)
}

/// Whether `id` is one of the CPU-time clocks.
pub fn is_cputime_clock(id: u64) -> bool {
    matches!(
        id as i32,
        CLOCK_PROCESS_CPUTIME_ID | CLOCK_THREAD_CPUTIME_ID
    )
}

/// The host's CLOCK_MONOTONIC in ns: the run queue's clock in parallel
/// mode (a vDSO read, with none of `Instant`'s checked arithmetic).
#[inline]
pub fn host_monotonic_ns() -> u64 {
    host_clock_ns(CLOCK_MONOTONIC).unwrap_or(0)
}

/// The host's clock `id`, in ns.
#[inline]
fn host_clock_ns(id: i32) -> Result<u64, Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer; the id is one the host knows
    // (checked by the callers) or the host answers EINVAL.
    if unsafe { libc::clock_gettime(id as libc::clockid_t, &mut ts) } != 0 {
        return Err(EINVAL);
    }
    Ok(ts.tv_sec.max(0) as u64 * 1_000_000_000 + ts.tv_nsec.max(0) as u64)
}

/// What clock `id` (not a CPU-time clock) reads now, in ns: the virtual
/// clock of the calling thread's deterministic machine, or the host's.
pub fn clock_now_ns(id: u64) -> Result<u64, Errno> {
    if !valid_clock(id) || is_cputime_clock(id) {
        return Err(EINVAL);
    }
    let id = id as i32;
    match det::with_current(|d| d.now()) {
        Some(now) => Ok(match id {
            CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI => BOOT_REALTIME_NS + now,
            _ => now,
        }),
        None => host_clock_ns(id),
    }
}

/// `clock_getres` of clock `id`, in ns.
pub fn clock_res_ns(id: u64) -> Result<u64, Errno> {
    if !valid_clock(id) {
        return Err(EINVAL);
    }
    let id = id as i32;
    if det::with_current(|_| ()).is_some() {
        return Ok(match id {
            CLOCK_REALTIME_COARSE | CLOCK_MONOTONIC_COARSE => COARSE_RES_NS,
            _ => 1,
        });
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out pointer.
    if unsafe { libc::clock_getres(id as libc::clockid_t, &mut ts) } != 0 {
        return Err(EINVAL);
    }
    Ok(ts.tv_sec.max(0) as u64 * 1_000_000_000 + ts.tv_nsec.max(0) as u64)
}

/// `ktime_get_real_ns`: CLOCK_REALTIME in ns since the epoch.
pub fn ktime_get_real_ns() -> u64 {
    clock_now_ns(CLOCK_REALTIME as u64).unwrap_or(0)
}

/// CLOCK_MONOTONIC in ns, as `clock_gettime` reports it.
pub fn ktime_get_ns() -> u64 {
    clock_now_ns(CLOCK_MONOTONIC as u64).unwrap_or(0)
}

/// `current_time`: the time stamped on an inode ferrite invents (tmpfs,
/// pipes, shared memory), as (seconds, nanoseconds) of CLOCK_REALTIME at
/// the clock's coarse resolution, as Linux stamps them
/// (`ktime_get_coarse_real_ts64`: the last tick's time, no clock read).
pub fn current_time() -> (i64, u64) {
    let ns = clock_now_ns(CLOCK_REALTIME_COARSE as u64).unwrap_or(0);
    ((ns / 1_000_000_000) as i64, ns % 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clocks() {
        let d = det::Det::new(1, 100, 0);
        let _g = det::enter(Some(d.clone()), Some(0));
        d.account(0, 1_500_000_123);
        assert_eq!(clock_now_ns(1).unwrap(), 1_500_000_123);
        assert_eq!(clock_now_ns(7).unwrap(), 1_500_000_123);
        assert_eq!(clock_now_ns(0).unwrap(), BOOT_REALTIME_NS + 1_500_000_123);
        assert_eq!(current_time(), (1_767_225_601, 500_000_123));
        assert_eq!(clock_now_ns(2), Err(EINVAL));
        assert_eq!(clock_now_ns(8), Err(EINVAL));
        assert_eq!(clock_res_ns(6).unwrap(), COARSE_RES_NS);
        assert_eq!(clock_res_ns(1).unwrap(), 1);
    }

    #[test]
    fn host_clocks() {
        let a = clock_now_ns(1).unwrap();
        let b = clock_now_ns(1).unwrap();
        assert!(b >= a);
        // The host's realtime is well past 2020.
        assert!(ktime_get_real_ns() > 1_577_836_800 * 1_000_000_000);
    }
}
