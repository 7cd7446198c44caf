//! Time (kernel/time/): the clocks the guest and the scheduler read, the
//! measure of a task's CPU time, and the deterministic mode.
//!
//! - [`clocksource`]: what time is counted in (host ns, or retired
//!   instructions) and [`Stopwatch`], which charges a task's user and
//!   system time;
//! - [`timekeeping`]: what each POSIX clock reads (`clock_gettime`,
//!   `gettimeofday`, the times stamped on inodes ferrite invents);
//! - [`det`]: `ferrite run --deterministic`: virtual time from retired
//!   instructions, harts taking turns in a fixed order, seeded randomness.
//!
//! The run queue's clock (`RunQueue::now`, Linux's `ktime_get` for the
//! timers) is the monotonic clock of the same mode.
//!
//! Where ferrite differs: there is no tick-driven timekeeping and no NTP
//! adjustment; in parallel mode the clocks are the host's.

pub mod clocksource;
pub mod det;
pub mod timekeeping;

pub use clocksource::Stopwatch;
pub use timekeeping::{current_time, ktime_get_ns, ktime_get_real_ns};
