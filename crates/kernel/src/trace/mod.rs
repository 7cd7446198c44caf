//! The scheduler's trace: `ferrite run --trace FILE` writes what the
//! scheduler does as Chrome JSON trace events, the format the Perfetto UI
//! (and `chrome://tracing`) opens, and `ferrite plot` reads.
//!
//! What it mirrors in Linux: the scheduler's tracepoints
//! (include/trace/events/sched.h) `sched_switch`, `sched_wakeup`,
//! `sched_wakeup_new`, `sched_migrate_task`, `sched_process_fork` and
//! `sched_process_exit`, recorded into ftrace's trace buffers
//! (kernel/trace/ring_buffer.c) that `trace-cmd` or `perf sched` later turn
//! into a timeline. The Lab 4 scheduler adds its own events: `wrr_balance`
//! (a load-balancing decision), `wrr_refill` (a time slice refilled) and
//! the per-CPU counters (`nr_running`, `total_weight`, as `get_wrr_info`
//! reports them).
//!
//! Where ferrite differs: Linux keeps a binary ring buffer per CPU that
//! overwrites (or drops) when full and is read out by a user-space tool;
//! ferrite formats each event as one line of JSON at once and streams it
//! to the host file through one fixed-size buffer behind a lock, so the
//! host memory tracing uses does not depend on the guest (every event is
//! bounded: a `comm` is at most 16 bytes), and nothing is lost or
//! overwritten. A write error stops tracing with one message on stderr;
//! the guest runs on. The file is in the JSON *array* format, which the
//! viewers accept without its closing `]`, so a run that is killed still
//! leaves a trace that opens. Timestamps are the caller's (ns of the
//! kernel's clock, `RunQueue::now` today, virtual time in deterministic
//! mode), written in µs with ns precision as the format wants.
//!
//! The tracks (Chrome's `pid`/`tid` pairs, named by "M" metadata events):
//! - process 1 "CPUs": one thread track per CPU ("CPU N", tid N + 1) with a
//!   slice per stretch a task ran there (B/E, named "comm pid", args `pid`,
//!   `comm`, `weight`; the E carries `prev_state`), and the CPU's
//!   `wrr_refill` instants; the counter tracks "nr_running cpuN" and
//!   "total_weight cpuN" (one "C" event named `nr_running` or
//!   `total_weight` with the argument `cpuN`), and global counters
//!   (argument `value`) such as `nr_queued`;
//! - process 2 "scheduler": the track "tasks" (tid 1) with the instants
//!   `sched_wakeup`, `sched_wakeup_new`, `sched_process_fork`,
//!   `sched_process_exit`; the track "balance" (tid 2) with
//!   `sched_migrate_task` (and its reason) and `wrr_balance`.
//!
//! docs/trace.md describes every track and event for a reader of traces.

pub mod hooks;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;

/// The trace's process of per-CPU tracks.
pub const PID_CPUS: i32 = 1;
/// The trace's process of the scheduler's other tracks.
pub const PID_SCHED: i32 = 2;
/// The "tasks" track (wake-ups, forks, exits) in [`PID_SCHED`].
pub const TID_TASKS: i32 = 1;
/// The "balance" track (migrations, balance decisions) in [`PID_SCHED`].
pub const TID_BALANCE: i32 = 2;

/// The track of CPU `cpu` in [`PID_CPUS`].
pub fn cpu_tid(cpu: usize) -> i32 {
    cpu as i32 + 1
}

/// The host buffer in front of the file: the most tracing holds in host
/// memory, whatever the guest does.
pub const BUFFER_BYTES: usize = 64 * 1024;

/// A task as a `sched_switch` names it (`pid` 0 is the CPU's idle task).
#[derive(Clone, Copy, Debug)]
pub struct SwitchTask<'a> {
    /// The thread id.
    pub pid: i32,
    /// `comm` (NUL-padded bytes are cut at the first NUL).
    pub comm: &'a [u8],
    /// Its scheduling weight (SCHED_WRR's 1..20).
    pub weight: u32,
}

impl SwitchTask<'_> {
    /// The idle task.
    pub const IDLE: SwitchTask<'static> = SwitchTask {
        pid: 0,
        comm: b"swapper",
        weight: 0,
    };
}

/// Why a task moved to another CPU (`sched_migrate_task` has no reason in
/// Linux; ferrite records the caller's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateReason {
    /// Periodic load balancing moved it.
    Balance,
    /// An idle CPU pulled it (idle balancing).
    IdlePull,
    /// Placement at wake-up (`select_task_rq`).
    Wakeup,
    /// Placement at fork.
    Fork,
    /// Placement at exec (`sched_exec`).
    Exec,
    /// `sched_setaffinity` left it on a CPU it may no longer use.
    Affinity,
}

impl MigrateReason {
    /// The name in the trace.
    pub fn as_str(self) -> &'static str {
        match self {
            MigrateReason::Balance => "balance",
            MigrateReason::Exec => "exec",
            MigrateReason::IdlePull => "idle_pull",
            MigrateReason::Wakeup => "wakeup",
            MigrateReason::Fork => "fork",
            MigrateReason::Affinity => "affinity",
        }
    }
}

/// Linux's one-letter task state of `sched_switch`'s `prev_state`
/// (`R` still runnable: preempted or its slice ended; `S` asleep; `D`
/// uninterruptible; `T` stopped; `X` dead).
pub fn state_letter(state: u32) -> &'static str {
    use crate::sched::{
        TASK_DEAD, TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_STOPPED, TASK_UNINTERRUPTIBLE,
    };
    if state == TASK_RUNNING {
        "R"
    } else if state & TASK_DEAD != 0 {
        "X"
    } else if state & TASK_STOPPED != 0 {
        "T"
    } else if state & TASK_UNINTERRUPTIBLE != 0 {
        "D"
    } else if state & TASK_INTERRUPTIBLE != 0 {
        "S"
    } else {
        "?"
    }
}

struct Sink {
    out: BufWriter<Box<dyn Write + Send>>,
    /// The task each CPU's track has an open slice for (0: none).
    running: Vec<i32>,
    /// Each CPU track's last timestamp (for closing slices at the end).
    last_ts: Vec<u64>,
    /// The formatting buffer, reused (one event at a time).
    line: String,
}

/// The trace sink: one per run, shared by the harts (an
/// `Option<Arc<Tracer>>` in the kernel's configuration; `None` costs one
/// branch per event site).
pub struct Tracer {
    sink: Mutex<Sink>,
    /// Cleared by a write error or [`Tracer::finish`]: later events are
    /// dropped at once.
    on: AtomicBool,
    nr_cpus: usize,
    /// What to call the file in the one error message.
    name: String,
}

/// `comm` bytes as a JSON string (lossy UTF-8, cut at the first NUL).
fn json_str(out: &mut String, s: &[u8]) {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    let text = String::from_utf8_lossy(&s[..end]);
    // Serialising a str cannot fail.
    out.push_str(&serde_json::to_string(&*text).unwrap_or_else(|_| "\"?\"".into()));
}

/// A timestamp in ns as Chrome's µs with three decimals.
fn ts_us(out: &mut String, ts: u64) {
    let _ = write!(out, "{}.{:03}", ts / 1000, ts % 1000);
}

impl Tracer {
    /// Create (truncate) the trace file `path` for a machine of `nr_cpus`
    /// CPUs and write its track names.
    pub fn create(path: &Path, nr_cpus: usize) -> io::Result<Tracer> {
        let f = File::create(path)?;
        Tracer::new(Box::new(f), nr_cpus, &path.display().to_string())
    }

    /// A tracer writing to `w` (named `name` in its error message).
    pub fn new(w: Box<dyn Write + Send>, nr_cpus: usize, name: &str) -> io::Result<Tracer> {
        let t = Tracer {
            sink: Mutex::new(Sink {
                out: BufWriter::with_capacity(BUFFER_BYTES, w),
                running: vec![0; nr_cpus],
                last_ts: vec![0; nr_cpus],
                line: String::with_capacity(512),
            }),
            on: AtomicBool::new(true),
            nr_cpus,
            name: name.to_string(),
        };
        {
            let mut s = t.lock();
            s.out.write_all(b"[\n")?;
        }
        t.emit(|l| {
            let _ = write!(
                l,
                r#"{{"ph":"M","pid":{PID_CPUS},"name":"process_name","args":{{"name":"CPUs"}}}}"#
            );
        });
        t.emit(|l| {
            let _ = write!(
                l,
                r#"{{"ph":"M","pid":{PID_CPUS},"name":"process_sort_index","args":{{"sort_index":0}}}}"#
            );
        });
        for cpu in 0..nr_cpus {
            let tid = cpu_tid(cpu);
            t.emit(|l| {
                let _ = write!(
                    l,
                    r#"{{"ph":"M","pid":{PID_CPUS},"tid":{tid},"name":"thread_name","args":{{"name":"CPU {cpu}"}}}}"#
                );
            });
            t.emit(|l| {
                let _ = write!(
                    l,
                    r#"{{"ph":"M","pid":{PID_CPUS},"tid":{tid},"name":"thread_sort_index","args":{{"sort_index":{cpu}}}}}"#
                );
            });
        }
        t.emit(|l| {
            let _ = write!(
                l,
                r#"{{"ph":"M","pid":{PID_SCHED},"name":"process_name","args":{{"name":"scheduler"}}}}"#
            );
        });
        for (tid, name) in [(TID_TASKS, "tasks"), (TID_BALANCE, "balance")] {
            t.emit(|l| {
                let _ = write!(
                    l,
                    r#"{{"ph":"M","pid":{PID_SCHED},"tid":{tid},"name":"thread_name","args":{{"name":"{name}"}}}}"#
                );
            });
        }
        if !t.on.load(Relaxed) {
            return Err(io::Error::other("cannot write the trace header"));
        }
        Ok(t)
    }

    /// The number of CPU tracks.
    pub fn nr_cpus(&self) -> usize {
        self.nr_cpus
    }

    /// Whether events are still written (no write error, not finished).
    pub fn is_on(&self) -> bool {
        self.on.load(Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sink> {
        self.sink.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Format one event with `f` and write it (a line ending in `,`).
    fn emit(&self, f: impl FnOnce(&mut String)) {
        if !self.on.load(Relaxed) {
            return;
        }
        let mut s = self.lock();
        self.emit_locked(&mut s, f);
    }

    fn emit_locked(&self, s: &mut Sink, f: impl FnOnce(&mut String)) {
        if !self.on.load(Relaxed) {
            return;
        }
        let mut line = std::mem::take(&mut s.line);
        line.clear();
        f(&mut line);
        line.push_str(",\n");
        let r = s.out.write_all(line.as_bytes());
        s.line = line;
        if let Err(e) = r {
            self.fail(&e);
        }
    }

    fn fail(&self, e: &io::Error) {
        if self.on.swap(false, Relaxed) {
            eprintln!(
                "ferrite: --trace {}: write error: {e}; tracing stopped (the program runs on)",
                self.name
            );
        }
    }

    /// `sched_switch`: CPU `cpu` stops running `prev` (which leaves in
    /// `prev_state`, [`state_letter`]) and starts `next`; either may be
    /// [`SwitchTask::IDLE`]. Ends `prev`'s slice and opens `next`'s on the
    /// CPU's track; a slice still open (a caller that missed a switch-out)
    /// is closed first, so B and E always pair.
    pub fn sched_switch(
        &self,
        ts: u64,
        cpu: usize,
        prev: SwitchTask<'_>,
        prev_state: &str,
        next: SwitchTask<'_>,
    ) {
        if !self.on.load(Relaxed) || cpu >= self.nr_cpus {
            return;
        }
        let tid = cpu_tid(cpu);
        let mut s = self.lock();
        let open = s.running[cpu];
        if open != 0 {
            let state = if open == prev.pid { prev_state } else { "?" };
            self.emit_locked(&mut s, |l| {
                let _ = write!(l, r#"{{"ph":"E","pid":{PID_CPUS},"tid":{tid},"ts":"#);
                ts_us(l, ts);
                let _ = write!(
                    l,
                    r#","args":{{"prev_pid":{open},"prev_state":"{state}"}}}}"#
                );
            });
            s.running[cpu] = 0;
        }
        if next.pid != 0 {
            self.emit_locked(&mut s, |l| {
                let mut name = String::new();
                json_str(&mut name, next.comm);
                // "comm pid": the slice's name.
                let label = format!("{} {}", &name[1..name.len() - 1], next.pid);
                let _ = write!(l, r#"{{"ph":"B","pid":{PID_CPUS},"tid":{tid},"ts":"#);
                ts_us(l, ts);
                let _ = write!(
                    l,
                    r#","cat":"sched","name":"{label}","args":{{"pid":{},"comm":{name},"weight":{}}}}}"#,
                    next.pid, next.weight
                );
            });
            s.running[cpu] = next.pid;
        }
        s.last_ts[cpu] = s.last_ts[cpu].max(ts);
    }

    fn instant(&self, ts: u64, pid: i32, tid: i32, name: &str, args: impl FnOnce(&mut String)) {
        self.emit(|l| {
            let _ = write!(
                l,
                r#"{{"ph":"i","s":"t","pid":{pid},"tid":{tid},"name":"{name}","ts":"#
            );
            ts_us(l, ts);
            l.push_str(r#","args":{"#);
            args(l);
            l.push_str("}}");
        });
    }

    /// `sched_wakeup`: `pid` became runnable, to run on `target_cpu`.
    pub fn sched_wakeup(&self, ts: u64, pid: i32, target_cpu: usize) {
        self.instant(ts, PID_SCHED, TID_TASKS, "sched_wakeup", |l| {
            let _ = write!(l, r#""pid":{pid},"target_cpu":{target_cpu}"#);
        });
    }

    /// `sched_wakeup_new`: the new task `pid` is runnable for the first
    /// time.
    pub fn sched_wakeup_new(&self, ts: u64, pid: i32, target_cpu: usize) {
        self.instant(ts, PID_SCHED, TID_TASKS, "sched_wakeup_new", |l| {
            let _ = write!(l, r#""pid":{pid},"target_cpu":{target_cpu}"#);
        });
    }

    /// `sched_migrate_task`: `pid` moves from CPU `from` to `to`.
    pub fn sched_migrate(&self, ts: u64, pid: i32, from: usize, to: usize, reason: MigrateReason) {
        self.instant(ts, PID_SCHED, TID_BALANCE, "sched_migrate_task", |l| {
            let _ = write!(
                l,
                r#""pid":{pid},"orig_cpu":{from},"dest_cpu":{to},"reason":"{}""#,
                reason.as_str()
            );
        });
    }

    /// A load-balancing decision from the heaviest CPU `from` to the
    /// lightest `to`: the task moved (`Some((pid, weight))`) or none
    /// (no task could move without reversing the imbalance).
    pub fn wrr_balance(&self, ts: u64, from: usize, to: usize, moved: Option<(i32, u32)>) {
        self.instant(ts, PID_SCHED, TID_BALANCE, "wrr_balance", |l| {
            let _ = write!(l, r#""from_cpu":{from},"to_cpu":{to},"#);
            match moved {
                Some((pid, w)) => {
                    let _ = write!(l, r#""moved":true,"pid":{pid},"weight":{w}"#);
                }
                None => l.push_str(r#""moved":false"#),
            }
        });
    }

    /// A WRR time slice refill of `pid` on `cpu`: `slice_ns` more to run
    /// at weight `weight`.
    pub fn wrr_refill(&self, ts: u64, cpu: usize, pid: i32, weight: u32, slice_ns: u64) {
        if cpu >= self.nr_cpus {
            return;
        }
        self.instant(ts, PID_CPUS, cpu_tid(cpu), "wrr_refill", |l| {
            let _ = write!(l, r#""pid":{pid},"weight":{weight},"slice_ns":{slice_ns}"#);
        });
    }

    /// `sched_process_fork`: `parent` created `child` (named `comm`).
    pub fn task_fork(&self, ts: u64, parent: i32, child: i32, comm: &[u8]) {
        self.instant(ts, PID_SCHED, TID_TASKS, "sched_process_fork", |l| {
            let _ = write!(l, r#""parent_pid":{parent},"child_pid":{child},"comm":"#);
            json_str(l, comm);
        });
    }

    /// `sched_process_exit`: the thread `pid` (named `comm`) exits.
    pub fn task_exit(&self, ts: u64, pid: i32, comm: &[u8]) {
        self.instant(ts, PID_SCHED, TID_TASKS, "sched_process_exit", |l| {
            let _ = write!(l, r#""pid":{pid},"comm":"#);
            json_str(l, comm);
        });
    }

    /// A per-CPU counter sample (`nr_running`, `total_weight`): the track
    /// "`name` cpuN".
    pub fn counter(&self, ts: u64, cpu: usize, name: &str, value: u64) {
        if cpu >= self.nr_cpus {
            return;
        }
        self.emit(|l| {
            let _ = write!(l, r#"{{"ph":"C","pid":{PID_CPUS},"name":"{name}","ts":"#);
            ts_us(l, ts);
            let _ = write!(l, r#","args":{{"cpu{cpu}":{value}}}}}"#);
        });
    }

    /// A machine-wide counter sample: the track "`name` value".
    pub fn global_counter(&self, ts: u64, name: &str, value: u64) {
        self.emit(|l| {
            let _ = write!(l, r#"{{"ph":"C","pid":{PID_CPUS},"name":"{name}","ts":"#);
            ts_us(l, ts);
            let _ = write!(l, r#","args":{{"value":{value}}}}}"#);
        });
    }

    /// End the trace: close the slices still open (at their CPU's last
    /// timestamp), end the JSON array and flush. Later events are
    /// dropped. An error here was reported on stderr already and is
    /// returned too.
    pub fn finish(&self) -> io::Result<()> {
        let mut s = self.lock();
        for cpu in 0..self.nr_cpus {
            let open = s.running[cpu];
            if open != 0 {
                let (tid, ts) = (cpu_tid(cpu), s.last_ts[cpu]);
                self.emit_locked(&mut s, |l| {
                    let _ = write!(l, r#"{{"ph":"E","pid":{PID_CPUS},"tid":{tid},"ts":"#);
                    ts_us(l, ts);
                    let _ = write!(l, r#","args":{{"prev_pid":{open},"prev_state":"R"}}}}"#);
                });
                s.running[cpu] = 0;
            }
        }
        if !self.on.swap(false, Relaxed) {
            return Err(io::Error::other("tracing had stopped after a write error"));
        }
        // A last metadata event, so that the array needs no trailing
        // comma handling.
        let r = s
            .out
            .write_all(
                format!(r#"{{"ph":"M","pid":{PID_SCHED},"name":"process_sort_index","args":{{"sort_index":1}}}}"#)
                    .as_bytes(),
            )
            .and_then(|()| s.out.write_all(b"\n]\n"))
            .and_then(|()| s.out.flush());
        if let Err(e) = &r {
            eprintln!("ferrite: --trace {}: write error: {e}", self.name);
        }
        r
    }
}

impl std::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracer")
            .field("file", &self.name)
            .field("nr_cpus", &self.nr_cpus)
            .field("on", &self.is_on())
            .finish()
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if self.on.load(Relaxed) {
            let _ = self.finish();
        }
    }
}

#[cfg(test)]
mod tests;
