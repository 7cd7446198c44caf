//! Kernel panics: Linux's kernel/panic.c (`panic`, `smp_send_stop`, the
//! `panic_cpu` that lets only the first CPU report), lib/bug.c
//! (`report_bug`'s "kernel BUG at FILE:LINE!") and lib/dump_stack.c's
//! "CPU: N PID: P Comm: C" line.
//!
//! A bug in ferrite's kernel code is a Rust panic (`panic!`, a failed
//! `unwrap` or assertion, an index out of bounds): that is ferrite's `BUG`.
//! On any thread that runs kernel code for a run (every hart's thread, and
//! the thread that boots the machine), the panic hook installed by
//! [`install_hook`] turns it into Linux's report on stderr:
//!
//! ```text
//! ------------[ cut here ]------------
//! kernel BUG at crates/kernel/src/trap.rs:97!
//! CPU: 1 PID: 1 Comm: hello ferrite 0.1.0
//! Kernel panic - not syncing: <the panic message>
//! ---[ end Kernel panic - not syncing: <the panic message> ]---
//! ```
//!
//! Then, as Linux's `panic()` never returns, a panicking hart halts: its
//! thread parks for good, without unwinding through kernel state that may
//! be inconsistent (no destructor runs on it). The run's [`PanicState`] is
//! marked; the thread waiting for the harts sees it, tells the other harts
//! to stop (`smp_send_stop`: they look at the flag after every trap and at
//! the end of every time slice, and idle harts are woken from the run
//! queue), waits a bounded time for them, and the run ends with
//! [`RunError::Panic`](crate::RunError::Panic), which `ferrite run` turns
//! into exit status [`EX_SOFTWARE`] (70). Nothing is written back
//! ("not syncing").
//!
//! Where ferrite differs: there is no register dump or stack trace (the
//! message and the source location stand for them), and the host process
//! is not rebooted: the run returns its error. A hart that is blocked in
//! the host (a long `nanosleep`, a read of a terminal) when another hart
//! panics cannot be interrupted; after [`STOP_GRACE`] the run ends without
//! it, and the thread dies with the host process.
//!
//! Fault injection (cargo feature `fault-injection`, enabled only for
//! ferrite's own tests through a dev-dependency; normal builds do not
//! contain it): `FERRITE_INJECT_PANIC=N` in ferrite's environment makes the
//! kernel panic on the Nth system call of the run (on whichever hart makes
//! it), and `FERRITE_INJECT_PANIC=0` while it starts init, on the booting
//! thread. No guest action can reach it.

use std::cell::RefCell;
use std::io::Write;
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Once};
use std::time::{Duration, Instant};

use crate::quote::escape;

/// `EX_SOFTWARE` (sysexits.h): the exit status of a run that ended in a
/// kernel panic.
pub const EX_SOFTWARE: u8 = 70;

/// How long the run waits for the other harts to stop after a panic.
pub const STOP_GRACE: Duration = Duration::from_secs(2);

/// What a kernel panic reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicReport {
    /// The hart (CPU) that panicked.
    pub cpu: usize,
    /// The task running on it (0: none, the idle task or boot).
    pub pid: i32,
    /// That task's `comm`, escaped for printing.
    pub comm: String,
    /// The panic message, escaped to one line.
    pub message: String,
    /// `FILE:LINE` of the panic in ferrite's source, if known.
    pub location: Option<String>,
}

impl PanicReport {
    /// The report as printed on the console: Linux's `BUG`/`panic` lines.
    pub fn text(&self) -> String {
        let mut s = String::from("------------[ cut here ]------------\n");
        if let Some(l) = &self.location {
            s.push_str(&format!("kernel BUG at {l}!\n"));
        }
        s.push_str(&format!(
            "CPU: {} PID: {} Comm: {} ferrite {}\n",
            self.cpu,
            self.pid,
            self.comm,
            env!("CARGO_PKG_VERSION")
        ));
        s.push_str(&format!("Kernel panic - not syncing: {}\n", self.message));
        s.push_str(&format!(
            "---[ end Kernel panic - not syncing: {} ]---\n",
            self.message
        ));
        s
    }
}

/// The panic state of one run (Linux's `panic_cpu` and the harts' online
/// mask): shared by the harts and the thread that waits for them.
#[derive(Default)]
pub struct PanicState {
    panicked: AtomicBool,
    inner: Mutex<Inner>,
    cv: Condvar,
}

#[derive(Default)]
struct Inner {
    /// The first report.
    report: Option<PanicReport>,
    /// Hart threads started and not yet stopped (halted ones included).
    running: usize,
    /// Hart threads halted by their own panic.
    halted: usize,
}

impl PanicState {
    /// Whether the kernel has panicked: harts stop at their next trap.
    pub fn panicked(&self) -> bool {
        self.panicked.load(Ordering::Acquire)
    }

    /// The first panic's report.
    pub fn report(&self) -> Option<PanicReport> {
        self.lock().report.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record a panic; only the first is printed (as only the CPU that
    /// wins `panic_cpu` prints on Linux).
    fn panic(&self, r: PanicReport, halting: bool) {
        let first = {
            let mut g = self.lock();
            if halting {
                g.halted += 1;
            }
            let first = g.report.is_none();
            if first {
                g.report = Some(r.clone());
            }
            first
        };
        if first {
            // One write, so the report's lines stay together.
            let _ = std::io::stderr().write_all(r.text().as_bytes());
        }
        self.panicked.store(true, Ordering::Release);
        self.cv.notify_all();
    }

    /// A hart thread starts.
    pub(crate) fn hart_started(&self) {
        self.lock().running += 1;
    }

    /// A hart thread stops (its loop returned).
    pub(crate) fn hart_stopped(&self) {
        self.lock().running -= 1;
        self.cv.notify_all();
    }

    /// Wait until every hart thread has stopped, or the kernel panicked.
    /// Returns whether it panicked.
    pub(crate) fn wait_stopped_or_panicked(&self) -> bool {
        let mut g = self.lock();
        while g.running > 0 && !self.panicked() {
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        self.panicked()
    }

    /// After a panic: wait (at most `grace`) until every hart that did
    /// not halt itself has stopped. Returns whether they all did.
    pub(crate) fn wait_others(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let mut g = self.lock();
        while g.running > g.halted {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = self
                .cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

/// What the hook needs to know about the thread that panicked.
struct Context {
    state: Arc<PanicState>,
    cpu: usize,
    pid: i32,
    /// `current->comm` as stored (NUL-padded), escaped only when a panic
    /// reports it: a switch must not allocate.
    comm: [u8; 16],
    /// A hart halts (parks forever); the booting thread unwinds back to
    /// [`catch`].
    halt: bool,
}

thread_local! {
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

/// While alive, panics on this thread are kernel panics of `state`'s run.
pub(crate) struct ContextGuard(());

impl Drop for ContextGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.borrow_mut().take());
    }
}

/// Mark this thread as hart `cpu` of the run (`halt`: a panic parks it)
/// or as the boot thread (`!halt`).
pub(crate) fn enter(state: Arc<PanicState>, cpu: usize, halt: bool) -> ContextGuard {
    install_hook();
    CONTEXT.with(|c| {
        *c.borrow_mut() = Some(Context {
            state,
            cpu,
            pid: 0,
            comm: [0; 16],
            halt,
        })
    });
    ContextGuard(())
}

/// `current` changes on this hart: `pid` 0 is the idle task. `comm` is
/// the task's name as stored (up to 16 bytes, NUL-padded).
pub(crate) fn set_current(pid: i32, comm: &[u8]) {
    let _ = CONTEXT.try_with(|c| {
        if let Some(ctx) = c.borrow_mut().as_mut() {
            ctx.pid = pid;
            let n = comm.len().min(16);
            ctx.comm = [0; 16];
            ctx.comm[..n].copy_from_slice(&comm[..n]);
        }
    });
}

impl Context {
    /// The comm for a report: escaped, `swapper/CPU` for the idle task.
    fn comm_text(&self) -> String {
        if self.pid == 0 {
            return format!("swapper/{}", self.cpu);
        }
        let n = self.comm.iter().position(|&b| b == 0).unwrap_or(16);
        escape(&self.comm[..n])
    }
}

/// The thread id of `current` on this hart (0: the idle task, or a
/// thread that is no hart: the boot thread, a test).
pub(crate) fn current_pid() -> i32 {
    CONTEXT
        .try_with(|c| c.borrow().as_ref().map_or(0, |x| x.pid))
        .unwrap_or(0)
}

/// Install the panic hook (once per host process). Panics on threads
/// without a kernel context go to the hook that was there before.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !kernel_panic(info) {
                previous(info);
            }
        }));
    });
}

/// The panic message of a payload.
fn payload_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// The hook's work on a kernel thread: report, and halt a hart. Returns
/// false for other threads.
fn kernel_panic(info: &PanicHookInfo<'_>) -> bool {
    let taken = CONTEXT
        .try_with(|c| {
            c.try_borrow().ok().and_then(|c| {
                c.as_ref().map(|ctx| {
                    let report = PanicReport {
                        cpu: ctx.cpu,
                        pid: ctx.pid,
                        comm: ctx.comm_text(),
                        message: escape(payload_message(info.payload()).as_bytes()),
                        location: info
                            .location()
                            .map(|l| escape(format!("{}:{}", l.file(), l.line()).as_bytes())),
                    };
                    (ctx.state.clone(), report, ctx.halt)
                })
            })
        })
        .ok()
        .flatten();
    let Some((state, report, halt)) = taken else {
        return false;
    };
    state.panic(report, halt);
    if halt {
        // `panic()` does not return: this hart stops here, holding
        // whatever it held.
        loop {
            std::thread::park();
        }
    }
    true
}

/// Run `f` as kernel code on this thread; a panic in it (reported by the
/// hook, or, if another hook replaced ours, from its payload) becomes
/// `Err` with the report.
pub(crate) fn catch<T>(
    state: &Arc<PanicState>,
    cpu: usize,
    f: impl FnOnce() -> T,
) -> Result<T, PanicReport> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Ok(v),
        Err(payload) => {
            if state.report().is_none() {
                let (pid, comm) = CONTEXT
                    .try_with(|c| {
                        c.borrow()
                            .as_ref()
                            .map(|ctx| (ctx.pid, ctx.comm_text()))
                            .unwrap_or((0, format!("swapper/{cpu}")))
                    })
                    .unwrap_or((0, format!("swapper/{cpu}")));
                let r = PanicReport {
                    cpu,
                    pid,
                    comm,
                    message: escape(payload_message(&*payload).as_bytes()),
                    location: None,
                };
                state.panic(r, false);
            }
            Err(state.report().unwrap_or_else(|| PanicReport {
                cpu,
                pid: 0,
                comm: String::new(),
                message: "kernel panic".into(),
                location: None,
            }))
        }
    }
}

/// Fault injection: the system call number `n` (counted over the run,
/// from 1; 0 is the start of init) panics when `FERRITE_INJECT_PANIC=n`.
#[cfg(feature = "fault-injection")]
pub(crate) fn inject_at_syscall(n: u64) {
    use std::sync::OnceLock;
    static AT: OnceLock<Option<u64>> = OnceLock::new();
    let at = AT.get_or_init(|| {
        std::env::var("FERRITE_INJECT_PANIC")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if *at == Some(n) {
        if n == 0 {
            panic!("fault injection: BUG while starting init");
        }
        panic!("fault injection: BUG at system call {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_linux_lines() {
        let r = PanicReport {
            cpu: 2,
            pid: 1,
            comm: "hello".into(),
            message: "boom".into(),
            location: Some("a.rs:3".into()),
        };
        let t = r.text();
        assert!(t.starts_with("------------[ cut here ]------------\nkernel BUG at a.rs:3!\n"));
        assert!(t.contains("\nCPU: 2 PID: 1 Comm: hello ferrite "), "{t}");
        assert!(t.contains("\nKernel panic - not syncing: boom\n"), "{t}");
        assert!(t.ends_with("---[ end Kernel panic - not syncing: boom ]---\n"));
    }

    #[test]
    fn a_panic_on_a_kernel_thread_is_caught_and_reported() {
        let state = Arc::new(PanicState::default());
        let _g = enter(state.clone(), 0, false);
        set_current(7, b"a\nb");
        let r = catch(&state, 0, || -> u32 { panic!("bad\x1b[2J state") }).unwrap_err();
        assert!(state.panicked());
        assert_eq!((r.cpu, r.pid), (0, 7));
        assert_eq!(r.comm, "a\\nb");
        assert_eq!(r.message, "bad\\x1b[2J state");
        assert!(r.location.unwrap().contains("panic.rs"));
    }
}
