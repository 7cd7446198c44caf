//! The deterministic mode (`ferrite run --deterministic [--seed N]`):
//! virtual time counted in retired instructions, and harts that take turns
//! in a fixed order, so that the same program with the same seed runs the
//! same way, to the byte, on any host.
//!
//! Linux has no such mode; the closest relatives are QEMU's `-icount`
//! with round-robin TCG and record/replay debuggers. What this module
//! fixes:
//!
//! - **Time.** Each hart has a virtual clock (`HartClock`) that advances
//!   [`NS_PER_INSN`] (1) nanosecond per instruction the hart retires, and
//!   by nothing else: the kernel's own work (system calls, faults,
//!   switches) takes no virtual time. `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME`
//!   and the run queue's clock read the clock of the hart that asks
//!   ([`Det::now`]); `CLOCK_REALTIME` is that plus [`BOOT_REALTIME_NS`]
//!   (the machine boots at 2026-01-01 00:00:00 UTC whatever the seed);
//!   the `time` CSR reads the same clock, exact to the instruction.
//! - **Turns.** Time is cut into rounds of one quantum (`Config::quantum`
//!   instructions, 2^20 by default, about a millisecond). The round's end
//!   is its *horizon*. In a round, hart 0, then 1, ..., then n-1 each take
//!   a turn while they hold the *baton*: a hart runs guest code only in
//!   its turn, until its clock reaches the horizon (exactly: the
//!   interpreter stops at its instruction budget), then passes the baton
//!   on ([`Det::pass`]). So every hart executes the same number of
//!   instructions per round, as parallel CPUs running at the same speed
//!   would, while only one host thread runs at a time: whatever harts
//!   share (memory, locks, queues, timers) is touched in one fixed order.
//! - **Idle.** A hart with nothing to run lets its clock go to the next
//!   timer or the horizon ([`Det::idle_advance`]), firing the timers due on
//!   the way. A hart whose turn would be idle is not even woken: the hart
//!   passing the baton does its idle turn for it, so an idle machine costs
//!   no host thread switch. When no hart has anything to run, the next
//!   round starts at the next timer's deadline (a discrete-event jump): a
//!   `sleep(1)` takes a moment of host time, never a host sleep.
//! - **Causality.** A hart's clock and a task's time never go backwards:
//!   a task carries the time from which it may run (`ready_at` in its
//!   scheduling state: when it left its hart, or when something woke it,
//!   whichever is later), and a hart that takes it moves its clock up to
//!   that time (it was idle until the task was there). Two harts' clocks
//!   differ by at most a quantum: a value one hart stores in memory late in
//!   its turn can be read by a later hart whose clock is earlier, as with
//!   CPUs whose clocks are skewed, but nothing the kernel carries from one
//!   task to another (a wake-up, a fork, a signal) goes back in time.
//! - **Randomness.** `getrandom`, `/dev/random`, `/dev/urandom` and
//!   `AT_RANDOM` read one ChaCha20 stream seeded by `--seed` (default 0)
//!   ([`Det::fill_random`]); the seed changes nothing else.
//!
//! Where the host still shows through: what the program reads from the
//! host (files, their timestamps, directory order, the environment, a
//! terminal's input and keys) is input, as its arguments are; waiting for
//! a terminal's input polls the host every 10 ms of virtual time.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use chacha20::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use mm::percpu::Cpu;
use rv64::Hart;

use crate::kernel::Kernel;
use crate::sched::RunQueue;

/// Virtual nanoseconds per retired instruction.
pub const NS_PER_INSN: u64 = 1;

/// `CLOCK_REALTIME` at boot in deterministic mode: 2026-01-01 00:00:00
/// UTC, in ns since the Unix epoch.
pub const BOOT_REALTIME_NS: u64 = 1_767_225_600 * 1_000_000_000;

/// How often a machine with nothing to run and no timer looks at the host
/// (a terminal's signal keys, the end of the run).
const HOST_WAIT: Duration = Duration::from_millis(10);

thread_local! {
    /// The hart this host thread is (or acts for), usize::MAX if none.
    static HART: Cell<usize> = const { Cell::new(usize::MAX) };
    /// The deterministic machine this thread belongs to, if any.
    static CURRENT: RefCell<Option<Arc<Det>>> = const { RefCell::new(None) };
}

/// One hart's place in the deterministic machine.
#[repr(align(64))]
struct HartClock {
    /// Its virtual clock (ns since boot).
    clock: AtomicU64,
    /// It has a task: its next turn runs it.
    busy: AtomicBool,
    /// Its host thread runs (false once it stopped or could not start).
    alive: AtomicBool,
    /// Its host thread, to unpark when the baton comes.
    thread: OnceLock<Thread>,
}

/// Counts of what the machine did (for `--stats` and the tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetStats {
    /// Rounds completed.
    pub rounds: u64,
    /// Rounds that started at a timer's deadline because nothing ran.
    pub jumps: u64,
    /// Baton passes that woke another host thread.
    pub handoffs: u64,
}

/// The deterministic machine: the harts' clocks, the baton, the seeded
/// generator.
pub struct Det {
    seed: u64,
    quantum: u64,
    harts: Box<[HartClock]>,
    /// The end of the current round (ns).
    horizon: AtomicU64,
    /// The hart whose turn it is.
    holder: AtomicUsize,
    shutdown: AtomicBool,
    rng: Mutex<ChaCha20Rng>,
    rounds: AtomicU64,
    jumps: AtomicU64,
    handoffs: AtomicU64,
}

impl Det {
    /// A machine of `nr_harts` harts taking turns of `quantum`
    /// instructions, with randomness from `seed`. Hart 0 has the first
    /// turn.
    pub fn new(nr_harts: usize, quantum: u64, seed: u64) -> Arc<Det> {
        let quantum = quantum.max(1);
        Arc::new(Det {
            seed,
            quantum,
            harts: (0..nr_harts.max(1))
                .map(|_| HartClock {
                    clock: AtomicU64::new(0),
                    busy: AtomicBool::new(false),
                    alive: AtomicBool::new(true),
                    thread: OnceLock::new(),
                })
                .collect(),
            horizon: AtomicU64::new(quantum * NS_PER_INSN),
            holder: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            rng: Mutex::new(ChaCha20Rng::seed_from_u64(seed)),
            rounds: AtomicU64::new(0),
            jumps: AtomicU64::new(0),
            handoffs: AtomicU64::new(0),
        })
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Instructions per turn.
    pub fn quantum(&self) -> u64 {
        self.quantum
    }

    /// What the machine did so far.
    pub fn stats(&self) -> DetStats {
        DetStats {
            rounds: self.rounds.load(Relaxed),
            jumps: self.jumps.load(Relaxed),
            handoffs: self.handoffs.load(Relaxed),
        }
    }

    /// The time now (ns since boot) as the calling thread sees it: its
    /// hart's clock; on another thread (boot, the end of the run), the
    /// latest clock of any hart.
    pub fn now(&self) -> u64 {
        match self.harts.get(current_hart()) {
            Some(h) => h.clock.load(Relaxed),
            None => self.latest(),
        }
    }

    /// The latest clock of any hart.
    pub fn latest(&self) -> u64 {
        self.harts
            .iter()
            .map(|h| h.clock.load(Relaxed))
            .max()
            .unwrap_or(0)
    }

    /// Hart `h`'s clock.
    pub fn clock(&self, h: usize) -> u64 {
        self.harts.get(h).map_or(0, |c| c.clock.load(Relaxed))
    }

    /// Instructions hart `h` may still run in this turn.
    pub fn budget(&self, h: usize) -> u64 {
        self.horizon.load(Relaxed).saturating_sub(self.clock(h)) / NS_PER_INSN
    }

    /// Hart `h` retired `insns` instructions: its clock advances.
    pub fn account(&self, h: usize, insns: u64) {
        if let Some(c) = self.harts.get(h) {
            c.clock.fetch_add(insns * NS_PER_INSN, Relaxed);
        }
    }

    /// Hart `h` took a task that may run from `ready_at`: the hart was
    /// idle until then, if its clock is earlier.
    pub fn picked(&self, h: usize, ready_at: u64) {
        if let Some(c) = self.harts.get(h) {
            c.clock.fetch_max(ready_at, Relaxed);
            c.busy.store(true, Relaxed);
        }
    }

    /// Hart `h` has no task.
    pub fn set_idle(&self, h: usize) {
        if let Some(c) = self.harts.get(h) {
            c.busy.store(false, Relaxed);
        }
    }

    /// Fill `buf` from the seeded generator.
    pub fn fill_random(&self, buf: &mut [u8]) {
        self.rng
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .fill_bytes(buf);
    }

    /// Whether the run is over.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// The run is over: every hart waiting for its turn stops waiting.
    pub fn shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        for h in self.harts.iter() {
            if let Some(t) = h.thread.get() {
                t.unpark();
            }
        }
    }

    /// Hart `h`'s host thread could not start or has stopped: it takes no
    /// more turns.
    pub fn hart_gone(&self, h: usize) {
        if let Some(c) = self.harts.get(h) {
            c.alive.store(false, SeqCst);
            c.busy.store(false, SeqCst);
        }
    }

    /// Wait until it is hart `h`'s turn (at once if it is) or the run is
    /// over. The caller holds no lock.
    pub fn wait_turn(&self, h: usize) {
        while self.holder.load(SeqCst) != h && !self.is_shutdown() {
            std::thread::park();
        }
    }

    /// Give the baton to hart `j` and wake its thread.
    fn hand_to(&self, j: usize) {
        self.holder.store(j, SeqCst);
        if let Some(t) = self.harts[j].thread.get() {
            self.handoffs.fetch_add(1, Relaxed);
            t.unpark();
        }
    }

    /// Let idle hart `h`'s clock run to its next event in this round,
    /// firing the timers due on the way (as hart `h`). True as soon as
    /// there is a task for it (its clock is then the time the task may
    /// start); false when its clock reached the horizon with nothing to
    /// do.
    pub fn idle_advance(&self, h: usize, rq: &RunQueue) -> bool {
        self.advance_idle(h, rq, false)
    }

    /// [`Det::idle_advance`] for a hart whose pick just found nothing
    /// although [`RunQueue::may_pick`] said it might (a pull the balance
    /// rules refuse, a throttled rt queue): its clock moves to its next
    /// event before it looks again, so the turn always ends.
    pub fn idle_advance_after_miss(&self, h: usize, rq: &RunQueue) -> bool {
        self.advance_idle(h, rq, true)
    }

    fn advance_idle(&self, h: usize, rq: &RunQueue, missed: bool) -> bool {
        let Some(c) = self.harts.get(h) else {
            return false;
        };
        let _as = act_as(h);
        let mut skip = missed;
        loop {
            if !skip && rq.may_pick(h) {
                return true;
            }
            skip = false;
            let now = c.clock.load(Relaxed);
            let horizon = self.horizon.load(Relaxed);
            let next = rq.next_timer_deadline();
            if next <= now {
                rq.run_timers();
                if rq.next_timer_deadline() <= now {
                    // A timer armed again at or before now (a periodic
                    // timer of zero interval): let a nanosecond pass so
                    // that this ends.
                    c.clock.store(now + 1, Relaxed);
                }
                continue;
            }
            if now >= horizon {
                return false;
            }
            c.clock.store(next.min(horizon), Relaxed);
        }
    }

    /// Hart `from` (which holds the baton) ends its turn: the baton goes
    /// to the next hart that has something to do, in order. Each idle hart
    /// on the way has its turn here, on this thread ([`Det::idle_advance`]);
    /// passing hart n-1 ends the round (`Det::end_round`). When the
    /// baton comes round to `from` itself, it keeps it (no host thread
    /// switch: one busy hart costs nothing). `poll` is the kernel's look at
    /// the host (terminal signal keys).
    pub fn pass(&self, from: usize, rq: &RunQueue, poll: &dyn Fn()) {
        let n = self.harts.len();
        let mut j = from;
        loop {
            if self.is_shutdown() {
                return;
            }
            j = (j + 1) % n;
            if j == 0 {
                self.end_round(rq, poll);
            }
            if j == from {
                return;
            }
            let c = &self.harts[j];
            if !c.alive.load(SeqCst) {
                continue;
            }
            if c.busy.load(Relaxed) || rq.may_pick(j) || self.idle_advance(j, rq) {
                self.hand_to(j);
                return;
            }
        }
    }

    /// The round ends: the next one spans one more quantum; but when no
    /// hart has anything to run, it starts at the next timer's deadline
    /// instead. With nothing to run and no timer, only the host can change
    /// anything (a terminal's signal key): look at it every
    /// [`HOST_WAIT`] until something is runnable or the run is over.
    fn end_round(&self, rq: &RunQueue, poll: &dyn Fn()) {
        self.rounds.fetch_add(1, Relaxed);
        let step = self.quantum * NS_PER_INSN;
        let idle = |d: &Det| {
            d.harts
                .iter()
                .all(|c| !c.busy.load(Relaxed) || !c.alive.load(SeqCst))
                && (0..d.harts.len()).all(|j| !rq.may_pick(j))
        };
        if !idle(self) {
            self.horizon.fetch_add(step, Relaxed);
            return;
        }
        loop {
            let next = rq.next_timer_deadline();
            if next != u64::MAX {
                let h = self.horizon.load(Relaxed);
                self.horizon
                    .store(h.max(next).saturating_add(step), Relaxed);
                self.jumps.fetch_add(1, Relaxed);
                return;
            }
            if self.is_shutdown() {
                return;
            }
            poll();
            if !idle(self) {
                self.horizon.fetch_add(step, Relaxed);
                return;
            }
            std::thread::park_timeout(HOST_WAIT);
        }
    }
}

/// The hart the calling thread is (or acts for), usize::MAX if none.
pub fn current_hart() -> usize {
    HART.with(Cell::get)
}

/// Restores the thread's hart and machine when dropped.
pub struct Enter {
    hart: usize,
    det: Option<Option<Arc<Det>>>,
}

impl Drop for Enter {
    fn drop(&mut self) {
        HART.with(|h| h.set(self.hart));
        if let Some(d) = self.det.take() {
            CURRENT.with(|c| *c.borrow_mut() = d);
        }
    }
}

/// The calling thread acts for hart `h` until the guard drops.
fn act_as(h: usize) -> Enter {
    Enter {
        hart: HART.with(|c| c.replace(h)),
        det: None,
    }
}

/// The calling thread belongs to machine `det` (None: a parallel-mode
/// kernel), as hart `hart` (None: not a hart: boot, the end of the run),
/// until the guard drops. A hart also registers its thread for the baton.
pub fn enter(det: Option<Arc<Det>>, hart: Option<usize>) -> Enter {
    if let (Some(d), Some(h)) = (&det, hart) {
        if let Some(c) = d.harts.get(h) {
            let _ = c.thread.set(std::thread::current());
        }
    }
    let prev = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), det));
    Enter {
        hart: HART.with(|c| c.replace(hart.unwrap_or(usize::MAX))),
        det: Some(prev),
    }
}

/// Run `f` with the calling thread's deterministic machine, if it has one.
pub fn with_current<R>(f: impl FnOnce(&Det) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_deref().map(f))
}

/// trap.rs `run_task`, before the hart runs guest code (`hart.run`): in
/// deterministic mode, end the hart's turn if its quantum is used up
/// (pass the baton, wait for the next turn with the CPU open to the
/// others), fire the timers due at its clock, set its `time` CSR to its
/// clock, and return how many instructions it may run now: to the end of
/// its turn or to the next timer, whichever comes first (so a timer fires
/// at its very instruction). None in parallel mode.
pub fn run_budget(k: &Kernel, cpu: &Cpu<'static>, hart: &mut Hart) -> Option<u64> {
    let det = k.rq.det()?;
    let h = hart.id();
    while det.budget(h) == 0 {
        if det.is_shutdown() {
            return Some(0);
        }
        det.pass(h, &k.rq, &|| k.poll_tty_signals());
        cpu.blocking(|| det.wait_turn(h));
    }
    if k.rq.timers_due() {
        k.rq.run_timers();
    }
    let now = det.clock(h);
    let next = k.rq.next_timer_deadline();
    let mut budget = det.budget(h);
    if next > now {
        budget = budget.min((next - now).div_ceil(NS_PER_INSN));
    }
    hart.set_time_base(Some((now, hart.instret())));
    Some(budget)
}

/// trap.rs `hart_main`: the calling thread is hart `h` of the kernel's
/// machine (deterministic or not) until the guard drops; it then takes no
/// more turns.
pub fn hart_enter(k: &Kernel, h: usize) -> HartGuard {
    HartGuard {
        det: k.rq.det().cloned(),
        hart: h,
        _enter: enter(k.rq.det().cloned(), Some(h)),
    }
}

/// See [`hart_enter`].
pub struct HartGuard {
    det: Option<Arc<Det>>,
    hart: usize,
    _enter: Enter,
}

impl Drop for HartGuard {
    fn drop(&mut self) {
        if let Some(d) = &self.det {
            d.hart_gone(self.hart);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_account() {
        let d = Det::new(2, 1000, 0);
        assert_eq!(d.budget(0), 1000);
        d.account(0, 400);
        assert_eq!(d.clock(0), 400);
        assert_eq!(d.budget(0), 600);
        // A task ready later moves the clock up, never down.
        d.picked(1, 700);
        assert_eq!(d.clock(1), 700);
        d.picked(1, 10);
        assert_eq!(d.clock(1), 700);
        assert_eq!(d.latest(), 700);
        // Not a hart: the latest clock.
        assert_eq!(d.now(), 700);
        let _g = act_as(0);
        assert_eq!(d.now(), 400);
    }

    #[test]
    fn seeded_bytes() {
        let a = Det::new(1, 10, 7);
        let b = Det::new(1, 10, 7);
        let c = Det::new(1, 10, 8);
        let (mut x, mut y, mut z) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        a.fill_random(&mut x);
        b.fill_random(&mut y);
        c.fill_random(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
        // The stream goes on.
        a.fill_random(&mut y);
        assert_ne!(x, y);
    }

    #[test]
    fn idle_machine_jumps_to_the_timer() {
        let d = Det::new(2, 1000, 0);
        let rq = RunQueue::new(2, Some(d.clone()));
        let fired = Arc::new(AtomicBool::new(false));
        let f = fired.clone();
        rq.arm_call(5_000_000, (0, 0), Box::new(move |_| f.store(true, SeqCst)));
        let _g = enter(Some(d.clone()), Some(0));
        // Hart 0 idles to its horizon; hart 1's idle turn is done for
        // it; the round ends with nothing to run: the next round starts
        // at the timer.
        assert!(!d.idle_advance(0, &rq));
        assert_eq!(d.clock(0), 1000);
        d.pass(0, &rq, &|| ());
        assert_eq!(d.clock(1), 1000);
        assert_eq!(d.stats().jumps, 1);
        assert_eq!(d.budget(0), 5_000_000 + 1000 - 1000);
        assert!(!fired.load(SeqCst));
        // Hart 0's next idle turn reaches the deadline and fires it.
        assert!(!d.idle_advance(0, &rq));
        assert!(fired.load(SeqCst));
        assert_eq!(d.clock(0), 5_001_000);
    }
}
