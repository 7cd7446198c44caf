//! The load average (kernel/sched/loadavg.c): every 5 s (`LOAD_FREQ`) the
//! number of runnable tasks on all CPUs is folded into three exponentially
//! decaying averages over 1, 5 and 15 minutes, in 11-bit fixed point.
//!
//! Where ferrite differs: no uninterruptible-sleep count (ferrite's
//! sleepers in D state are few and short), and periods in which no hart
//! ticked (all idle) are caught up when the average is next updated or
//! read, as Linux's NO_HZ `calc_global_nohz` does.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use crate::task::lock;

/// `FSHIFT`, `FIXED_1`.
const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;
/// `EXP_1`, `EXP_5`, `EXP_15`: 1/exp(5s/1min) etc. in fixed point.
const EXP: [u64; 3] = [1884, 2014, 2037];
/// `LOAD_FREQ`: 5 s.
pub const LOAD_FREQ_NS: u64 = 5_000_000_000;

/// `avenrun` and when it is next due.
#[derive(Default)]
pub struct LoadAvg {
    avenrun: Mutex<[u64; 3]>,
    next: AtomicU64,
}

fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let mut newload = load * exp + active * (FIXED_1 - exp);
    if active >= load {
        newload += FIXED_1 - 1;
    }
    newload / FIXED_1
}

impl LoadAvg {
    /// Whether [`LoadAvg::update`] has anything to do at `now` (one atomic
    /// load: the tick asks before it counts the active tasks).
    pub fn due(&self, now: u64) -> bool {
        let next = self.next.load(Relaxed);
        next == 0 || now >= next
    }

    /// Fold `active` runnable tasks in for every period that ended by
    /// `now` (cheap when none did).
    pub fn update(&self, now: u64, active: u64) {
        let next = self.next.load(Relaxed);
        if next == 0 {
            let _ = self
                .next
                .compare_exchange(0, now + LOAD_FREQ_NS, Relaxed, Relaxed);
            return;
        }
        if now < next {
            return;
        }
        let n = (now - next) / LOAD_FREQ_NS + 1;
        if self
            .next
            .compare_exchange(next, next + n * LOAD_FREQ_NS, Relaxed, Relaxed)
            .is_err()
        {
            return;
        }
        let active = active * FIXED_1;
        let mut a = lock(&self.avenrun);
        // At most an hour of missed periods matters (the rest decays to
        // `active` anyway).
        for _ in 0..n.min(720) {
            for (l, e) in a.iter_mut().zip(EXP) {
                *l = calc_load(*l, e, active);
            }
        }
    }

    /// `/proc/loadavg`'s three figures.
    pub fn text(&self) -> String {
        let a = *lock(&self.avenrun);
        let f = |x: u64| {
            let x = x + FIXED_1 / 200;
            format!(
                "{}.{:02}",
                x >> FSHIFT,
                ((x & (FIXED_1 - 1)) * 100) >> FSHIFT
            )
        };
        format!("{} {} {}", f(a[0]), f(a[1]), f(a[2]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_task_for_a_minute_gives_about_0_63() {
        let l = LoadAvg::default();
        l.update(1, 1);
        for i in 1..=12 {
            l.update(1 + i * LOAD_FREQ_NS, 1);
        }
        // 1 - 1/e after one minute; the 5- and 15-minute ones lag.
        assert_eq!(l.text(), "0.63 0.18 0.06");
        // Idle for an hour (all periods caught up at once): back to 0.
        l.update(1 + 13 * LOAD_FREQ_NS + 3_600_000_000_000, 0);
        assert_eq!(l.text(), "0.00 0.00 0.00");
    }
}
