//! The contents of /proc: Linux's fs/proc/ (base.c's per-PID entries,
//! array.c's `status`, task_mmu.c's `maps`/`smaps`, the `self` link) over
//! the renderers in `mm::proc`.
//!
//! [`PidTable`] is the kernel's table of live processes (Linux's pid hash),
//! each a [`ProcEntry`] with what /proc shows of it. [`ProcView`] is the
//! [`ProcSource`] one process's file layer reads through: it resolves
//! `self` to that process.
//!
//! `exe` is the executable's guest path (computed from its host file when
//! it was opened); an executable outside the root has none, and the link
//! is then missing (ENOENT) rather than showing anything of the host.
//! `cwd`, `root` and `fd/` of a process are its file layer's (see
//! `crate::fs`).
//!
//! Where ferrite differs: files are rendered when opened (a snapshot), not
//! at each `read` as seq_file does; /proc/PID/status has the lines ferrite
//! can fill honestly (no cgroup, seccomp, capability or NUMA lines).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use mm::mmap::MmBox;
use mm::Mem;

use crate::fs::ProcSource;

/// What /proc shows of one process.
pub struct ProcEntry {
    /// The pid (= tgid: one thread per process for now).
    pub pid: i32,
    /// The parent's pid.
    pub ppid: i32,
    /// `comm`.
    pub comm: String,
    /// The executable's guest path (`/proc/PID/exe`), or `(unreachable)`.
    pub exe: Vec<u8>,
    /// The argument strings, each NUL-terminated (`/proc/PID/cmdline`).
    pub cmdline: Vec<u8>,
    /// uid, euid, gid, egid.
    pub cred: [u32; 4],
    /// The address space.
    pub mm: MmBox<'static>,
    /// Harts that must flush their instruction cache before they next run
    /// this mm (`mm->context.icache_stale_mask`, set by
    /// `riscv_flush_icache`).
    pub icache_stale_mask: AtomicU64,
    /// Blocked signals (mirrors the task's `blocked`).
    pub sig_blocked: AtomicU64,
    /// Ignored signals (dispositions SIG_IGN).
    pub sig_ignored: AtomicU64,
    /// Caught signals (dispositions with a handler).
    pub sig_caught: AtomicU64,
    /// `nvcsw`: the task gave up its hart (sched_yield, sleeps).
    pub nvcsw: AtomicU64,
    /// `nivcsw`: the task was preempted (its time slice ran out).
    pub nivcsw: AtomicU64,
}

/// The live processes by pid.
#[derive(Default)]
pub struct PidTable {
    map: Mutex<BTreeMap<i32, Arc<ProcEntry>>>,
}

impl PidTable {
    /// Add a process.
    pub fn insert(&self, e: Arc<ProcEntry>) {
        self.lock().insert(e.pid, e);
    }

    /// Remove a process (it exited).
    pub fn remove(&self, pid: i32) -> Option<Arc<ProcEntry>> {
        self.lock().remove(&pid)
    }

    /// The process `pid`.
    pub fn get(&self, pid: i32) -> Option<Arc<ProcEntry>> {
        self.lock().get(&pid).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<i32, Arc<ProcEntry>>> {
        // A panicking reader cannot leave the map inconsistent (every
        // update is one insert or remove), so a poisoned lock is usable.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// /proc as process `pid` sees it.
pub struct ProcView {
    /// Whose `self` this is.
    pub pid: i32,
    /// The processes.
    pub table: Arc<PidTable>,
    /// The machine's memory (for meminfo, slabinfo, ...).
    pub mem: &'static Mem,
}

impl ProcView {
    /// Split "self/maps" / "1/maps" / "meminfo" into (process, rest).
    fn split<'p>(&self, path: &'p str) -> Option<(Option<Arc<ProcEntry>>, &'p str)> {
        let path = path.trim_start_matches('/');
        let (first, rest) = path.split_once('/').unwrap_or((path, ""));
        let pid = if first == "self" {
            self.pid
        } else if let Ok(p) = first.parse::<i32>() {
            p
        } else {
            return Some((None, path));
        };
        Some((Some(self.table.get(pid)?), rest))
    }
}

impl ProcSource for ProcView {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self.split(path)? {
            (None, name) => {
                mm::proc::read(self.mem, &format!("/proc/{name}")).map(String::into_bytes)
            }
            (Some(p), file) => pid_file(&p, file),
        }
    }

    fn readlink(&self, path: &str) -> Option<Vec<u8>> {
        match self.split(path)? {
            (None, "self") => Some(self.pid.to_string().into_bytes()),
            // An executable outside the root has no name in the guest:
            // no link (as for a task without `exe_file`), never its host
            // path, and nothing relative that glibc's startup (which
            // asserts an absolute /proc/self/exe) would trip on.
            (Some(p), "exe") if p.exe.first() == Some(&b'/') => Some(p.exe.clone()),
            _ => None,
        }
    }
}

/// The files of a process's /proc directory that can be read (what
/// `ferrite run --show /proc/1/FILE` accepts).
pub const PID_FILES: [&str; 5] = ["maps", "smaps", "status", "comm", "cmdline"];

/// The file `name` of process `p`'s /proc directory (one of [`PID_FILES`]).
fn pid_file(p: &ProcEntry, name: &str) -> Option<Vec<u8>> {
    let text = match name {
        "maps" => mm::proc::proc_pid_maps(&p.mm),
        "smaps" => mm::proc::proc_pid_smaps(&p.mm),
        "status" => status(p),
        "comm" => format!("{}\n", p.comm),
        "cmdline" => return Some(p.cmdline.clone()),
        _ => return None,
    };
    Some(text.into_bytes())
}

/// /proc/PID/status (fs/proc/array.c `proc_pid_status`).
pub fn status(p: &ProcEntry) -> String {
    let mut s = String::new();
    let [uid, euid, gid, egid] = p.cred;
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t0022\nState:\tR (running)\nTgid:\t{pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{}\nTracerPid:\t0\n\
         Uid:\t{uid}\t{euid}\t{euid}\t{euid}\nGid:\t{gid}\t{egid}\t{egid}\t{egid}\nFDSize:\t64\nGroups:\t\n",
        p.comm,
        p.ppid,
        pid = p.pid,
    );
    s.push_str(&mm::proc::proc_pid_status_mem(&p.mm));
    let _ = write!(
        s,
        "Threads:\t1\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{:016x}\nSigCgt:\t{:016x}\n\
         voluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        0,
        0,
        p.sig_blocked.load(Relaxed),
        p.sig_ignored.load(Relaxed),
        p.sig_caught.load(Relaxed),
        p.nvcsw.load(Relaxed),
        p.nivcsw.load(Relaxed),
    );
    s
}
