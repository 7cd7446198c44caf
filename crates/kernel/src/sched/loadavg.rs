//! The load averages of /proc/loadavg: Linux's kernel/sched/loadavg.c.
//!
//! Every `LOAD_FREQ` (5 s) the number of active tasks (runnable plus
//! uninterruptible sleepers) is folded into three exponentially decaying
//! averages, over 1, 5 and 15 minutes, in 11-bit fixed point. The decay
//! factors are Linux's (`EXP_1` = 1884, `EXP_5` = 2014, `EXP_15` = 2037,
//! that is 2048 / e^(5 s / 60 s) and so on), as is the rounding, so the
//! same history of active counts gives the same three numbers.
//!
//! Where ferrite differs: Linux sums per-CPU deltas (`calc_load_fold_active`)
//! and folds them from one CPU's tick; ferrite samples the active count
//! once per period from whichever hart sees the period end first (the
//! harts' run loops call [`LoadAvg::tick`]). Periods that passed with no
//! sample (every hart parked, or a virtual-time jump) decay as Linux's
//! `calc_global_nohz` decays them: `n` periods at the last active count at
//! once, with the factors raised to the `n`th power.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Bits of fixed-point precision (`FSHIFT`).
pub const FSHIFT: u32 = 11;
/// 1.0 in fixed point (`FIXED_1`).
pub const FIXED_1: u64 = 1 << FSHIFT;
/// 1/exp(5 s / 1 min) in fixed point (`EXP_1`).
pub const EXP_1: u64 = 1884;
/// 1/exp(5 s / 5 min) (`EXP_5`).
pub const EXP_5: u64 = 2014;
/// 1/exp(5 s / 15 min) (`EXP_15`).
pub const EXP_15: u64 = 2037;
/// The sampling period in ns (`LOAD_FREQ` = 5 s; Linux adds one tick
/// so that the sample does not fall on a periodic timer's edge).
pub const LOAD_FREQ_NS: u64 = 5_000_000_000 + 4_000_000;

/// `calc_load`: one period's fold of `active` (fixed point) into `load`.
pub fn calc_load(load: u64, exp: u64, active: u64) -> u64 {
    let mut new = load * exp + active * (FIXED_1 - exp);
    if active >= load {
        new += FIXED_1 - 1;
    }
    new / FIXED_1
}

/// `fixed_power_int`: `x`^`n` in fixed point with `frac_bits` bits,
/// rounding each product to nearest.
pub fn fixed_power_int(mut x: u64, frac_bits: u32, mut n: u64) -> u64 {
    let one = 1u64 << frac_bits;
    let half = one >> 1;
    let mut result = one;
    while n != 0 {
        if n & 1 != 0 {
            result = (result * x + half) >> frac_bits;
        }
        n >>= 1;
        if n == 0 {
            break;
        }
        x = (x * x + half) >> frac_bits;
    }
    result
}

/// `calc_load_n`: `n` periods of `active` at once.
pub fn calc_load_n(load: u64, exp: u64, active: u64, n: u64) -> u64 {
    calc_load(load, fixed_power_int(exp, FSHIFT, n), active)
}

/// The three averages (`avenrun`) and when the next sample is due.
pub struct LoadAvg {
    avenrun: [AtomicU64; 3],
    /// Boot time of the next sample (ns of the kernel clock).
    next: AtomicU64,
    /// Serialises the fold (one hart folds a period).
    fold: Mutex<()>,
}

impl Default for LoadAvg {
    fn default() -> Self {
        LoadAvg {
            avenrun: Default::default(),
            next: AtomicU64::new(LOAD_FREQ_NS),
            fold: Mutex::new(()),
        }
    }
}

impl LoadAvg {
    /// Whether a sample is due at `now` (one atomic load: the harts call
    /// it at every tick).
    pub fn due(&self, now: u64) -> bool {
        now >= self.next.load(Relaxed)
    }

    /// `calc_global_load`: if a period ended by `now`, fold `active` tasks
    /// into the averages (for every period that ended since the last
    /// fold).
    pub fn tick(&self, now: u64, active: u64) {
        if !self.due(now) {
            return;
        }
        let _g = self.fold.lock().unwrap_or_else(|p| p.into_inner());
        let next = self.next.load(Relaxed);
        if now < next {
            return;
        }
        let n = (now - next) / LOAD_FREQ_NS + 1;
        let a = active.saturating_mul(FIXED_1);
        for (slot, exp) in self.avenrun.iter().zip([EXP_1, EXP_5, EXP_15]) {
            let v = calc_load_n(slot.load(Relaxed), exp, a, n);
            slot.store(v, Relaxed);
        }
        self.next.store(next + n * LOAD_FREQ_NS, Relaxed);
    }

    /// The averages in fixed point.
    pub fn avenrun(&self) -> [u64; 3] {
        [0, 1, 2].map(|i| self.avenrun[i].load(Relaxed))
    }

    /// The "1.00 0.50 0.25" of /proc/loadavg (`LOAD_INT`/`LOAD_FRAC`
    /// of each average plus `FIXED_1/200`, as fs/proc/loadavg.c rounds).
    pub fn format(&self) -> String {
        let parts: Vec<String> = self
            .avenrun()
            .iter()
            .map(|&v| {
                let v = v + FIXED_1 / 200;
                format!(
                    "{}.{:02}",
                    v >> FSHIFT,
                    ((v & (FIXED_1 - 1)) * 100) >> FSHIFT
                )
            })
            .collect();
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_task_for_a_minute_gives_linux_figures() {
        // One busy task from boot: after 12 periods (one minute) the
        // 1-minute average is 1 - 1/e = 0.63 and the others lag behind.
        let l = LoadAvg::default();
        for i in 1..=12 {
            l.tick(i * LOAD_FREQ_NS, 1);
        }
        assert_eq!(l.format(), "0.63 0.18 0.06");
        // Idle again: it decays.
        for i in 13..=24 {
            l.tick(i * LOAD_FREQ_NS, 0);
        }
        let f = l.format();
        assert!(f.starts_with("0.23 "), "{f}");
    }

    #[test]
    fn missed_periods_decay_as_if_sampled() {
        let a = LoadAvg::default();
        let b = LoadAvg::default();
        for i in 1..=6 {
            a.tick(i * LOAD_FREQ_NS, 4);
            b.tick(i * LOAD_FREQ_NS, 4);
        }
        for i in 7..=30 {
            a.tick(i * LOAD_FREQ_NS, 0);
        }
        // b sleeps through 24 periods and catches up in one call.
        b.tick(30 * LOAD_FREQ_NS, 0);
        // The same decay up to rounding (per-period truncation against one
        // rounded power: within 3% and 0.01).
        for (x, y) in a.avenrun().iter().zip(b.avenrun()) {
            let d = x.abs_diff(y);
            assert!(d <= x / 32 + FIXED_1 / 100, "{x} vs {y}");
            assert!(y < FIXED_1 * 4, "decayed: {y}");
        }
        // Not due in between.
        assert!(!b.due(30 * LOAD_FREQ_NS + 1));
    }

    #[test]
    fn steady_load_converges_to_it() {
        let l = LoadAvg::default();
        for i in 1..=2000 {
            l.tick(i * LOAD_FREQ_NS, 3);
        }
        assert_eq!(l.format(), "3.00 3.00 3.00");
    }

    #[test]
    fn fixed_power_matches_repeated_products() {
        assert_eq!(fixed_power_int(EXP_1, FSHIFT, 0), FIXED_1);
        assert_eq!(fixed_power_int(EXP_1, FSHIFT, 1), EXP_1);
        let sq = (EXP_5 * EXP_5 + FIXED_1 / 2) >> FSHIFT;
        assert_eq!(fixed_power_int(EXP_5, FSHIFT, 2), sq);
    }
}
