//! Per-CPU time accounting for /proc/stat and /proc/uptime: Linux's
//! `kernel_cpustat` (include/linux/kernel_stat.h) as kernel/sched/cputime.c
//! fills it (`account_user_time`, `account_system_time`).
//!
//! Each hart charges the time it spends running a task's user code to its
//! CPU's `user`, and the time in system calls to `system`, at the same
//! places it charges the task's `utime` and `stime` (the trap loop), so the
//! per-CPU lines of /proc/stat say where time was really spent, whatever
//! CPUs the tasks moved between. Idle is the rest of the CPU's time since
//! boot.
//!
//! Where ferrite differs: no nice, iowait, irq, softirq, steal or guest
//! columns (they stay 0: ferrite has no interrupts and does not split
//! niced time out), and time is measured per run of guest code rather
//! than sampled at ticks. In deterministic mode user time is the CPU's
//! retired instructions (1 ns each) and system time is 0, as for tasks.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One CPU's times in ns.
#[derive(Debug, Default)]
pub struct CpuStat {
    user: AtomicU64,
    system: AtomicU64,
}

impl CpuStat {
    /// `account_user_time`: `ns` of user code ran on this CPU (only this
    /// CPU's hart charges it, so a load and a store suffice).
    #[inline]
    pub fn account_user(&self, ns: u64) {
        crate::task::add_own(&self.user, ns);
    }

    /// `account_system_time`: `ns` of kernel work for a task on this CPU.
    #[inline]
    pub fn account_system(&self, ns: u64) {
        crate::task::add_own(&self.system, ns);
    }

    /// (user, system) ns so far.
    pub fn times(&self) -> (u64, u64) {
        (self.user.load(Relaxed), self.system.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_add_up_per_kind() {
        let c = CpuStat::default();
        c.account_user(5);
        c.account_system(7);
        c.account_user(10);
        assert_eq!(c.times(), (15, 7));
    }
}
