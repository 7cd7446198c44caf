//! The contents of /proc: Linux's fs/proc/ (base.c's per-PID entries,
//! array.c's `status`, task_mmu.c's `maps`/`smaps`, the `self` link) over
//! the renderers in `mm::proc`.
//!
//! Every file is read from the task itself (its mm, files, signal state,
//! credentials), found in the kernel's pid table ([`TaskTable`]); there is
//! no copy to keep in step. [`ProcView`] is the [`ProcSource`] one
//! process's file layer reads through: it resolves `self` to that process.
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

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use mm::Mem;

use crate::fs::ProcSource;
use crate::pid::TaskTable;
use crate::sched::RunQueue;
use crate::task::{lock, TaskRef};

/// /proc as process `pid` sees it.
pub struct ProcView {
    /// Whose `self` this is.
    pub pid: i32,
    /// The tasks.
    pub table: Arc<TaskTable>,
    /// The machine's memory (for meminfo, slabinfo, ...).
    pub mem: &'static Mem,
    /// CPUs.
    pub nr_cpus: usize,
    /// The clock.
    pub rq: Arc<RunQueue>,
}

impl ProcView {
    /// Split "self/maps" / "1/maps" / "meminfo" into (process, rest).
    fn split<'p>(&self, path: &'p str) -> Option<(Option<TaskRef>, &'p str)> {
        let path = path.trim_start_matches('/');
        let (first, rest) = path.split_once('/').unwrap_or((path, ""));
        let pid = if first == "self" {
            self.pid
        } else if let Ok(p) = first.parse::<i32>() {
            p
        } else {
            return Some((None, path));
        };
        Some((Some(self.table.find_process(pid)?), rest))
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
            (Some(p), "exe") => {
                let exe = lock(&p.exe).clone();
                (exe.first() == Some(&b'/')).then_some(exe)
            }
            _ => None,
        }
    }
}

/// The files of a process's /proc directory that can be read (what
/// `ferrite run --show /proc/1/FILE` accepts).
pub const PID_FILES: [&str; 5] = ["maps", "smaps", "status", "comm", "cmdline"];

/// The file `name` of process `p`'s /proc directory (one of [`PID_FILES`]).
fn pid_file(p: &TaskRef, name: &str) -> Option<Vec<u8>> {
    let text = match name {
        "maps" => p
            .mm_grab()
            .map(|m| mm::proc::proc_pid_maps(&m))
            .unwrap_or_default(),
        "smaps" => p
            .mm_grab()
            .map(|m| mm::proc::proc_pid_smaps(&m))
            .unwrap_or_default(),
        "status" => status(p),
        "comm" => format!("{}\n", p.comm()),
        "cmdline" => return Some(lock(&p.cmdline).clone()),
        _ => return None,
    };
    Some(text.into_bytes())
}

/// The state of /proc/PID/status (`task_state_array`).
fn state_of(p: &TaskRef) -> &'static str {
    use crate::sched::{TASK_DEAD, TASK_INTERRUPTIBLE, TASK_STOPPED, TASK_UNINTERRUPTIBLE};
    match p.exit_state.load(Relaxed) {
        crate::task::EXIT_ZOMBIE => return "Z (zombie)",
        crate::task::EXIT_DEAD => return "X (dead)",
        _ => {}
    }
    let st = lock(&p.sched).state;
    if st & TASK_DEAD != 0 {
        "X (dead)"
    } else if st & TASK_STOPPED != 0 {
        "T (stopped)"
    } else if st & TASK_UNINTERRUPTIBLE != 0 {
        "D (disk sleep)"
    } else if st & TASK_INTERRUPTIBLE != 0 {
        "S (sleeping)"
    } else {
        "R (running)"
    }
}

/// /proc/PID/status (fs/proc/array.c `proc_pid_status`).
pub fn status(p: &TaskRef) -> String {
    let mut s = String::new();
    let c = p.cred();
    let umask = p.fs().map_or(0o022, |f| f.get_umask());
    let ppid = lock(&p.signal.parent).as_ref().map_or(0, |x| x.tgid);
    let fdsize = p
        .fs()
        .map_or(0, |f| f.nr_open().max(64).next_power_of_two());
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{umask:04o}\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{ppid}\nTracerPid:\t0\n\
         Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{fdsize}\nGroups:\t\n",
        p.comm(),
        state_of(p),
        p.tgid,
        p.pid,
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
    );
    if let Some(m) = p.mm_grab() {
        s.push_str(&mm::proc::proc_pid_status_mem(&m));
    }
    let threads = p.signal.live.load(Relaxed).max(0);
    let (pending, blocked) = {
        let sg = lock(&p.sig);
        (sg.pending, sg.blocked)
    };
    let shared = lock(&p.signal.group).pending;
    let (mut ign, mut cgt) = (0u64, 0u64);
    let sh = lock(&p.sighand).clone();
    for (i, a) in lock(&sh.action).iter().enumerate() {
        match a.handler {
            0 => {}
            1 => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    let _ = write!(
        s,
        "Threads:\t{threads}\nSigQ:\t0/{}\nSigPnd:\t{pending:016x}\nShdPnd:\t{shared:016x}\nSigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\n\
         voluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        lock(&p.signal.rlim)[crate::task::RLIMIT_SIGPENDING].cur,
        p.nvcsw.load(Relaxed),
        p.nivcsw.load(Relaxed),
    );
    s
}
