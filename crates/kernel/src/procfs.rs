//! The contents of /proc: Linux's fs/proc/ (base.c's per-PID and per-TID
//! directories and the root's pid directories, array.c's `stat`, `statm`
//! and `status`, task_mmu.c's `maps`/`smaps`, stat.c, loadavg.c,
//! uptime.c, arch/riscv/kernel/cpu.c's `cpuinfo`, fs/proc_namespace.c's
//! `mounts`/`mountinfo`, the `self` and `thread-self` links, kernel/sysctl.c's
//! `sys/kernel` and `sys/vm` files) over the renderers in `mm::proc`, and
//! the few sysfs files glibc reads (drivers/base/cpu.c's
//! /sys/devices/system/cpu/{online,possible,present,offline,kernel_max}),
//! which the file layer serves as procfs names below `SYS_ROOT`.
//!
//! Every file is read from the task itself (its mm, files, signal state,
//! credentials, times), found in the kernel's pid table ([`TaskTable`]);
//! there is no copy to keep in step. [`ProcView`] is the [`ProcSource`] one
//! process's file layer reads through: it resolves `self` to that process
//! and `thread-self` to the thread running on the calling hart.
//!
//! `exe` is the executable's guest path (computed from its host file when
//! it was opened); an executable outside the root has none, and the link
//! is then missing (ENOENT) rather than showing anything of the host.
//! `cwd`, `root`, `fd/` of a process are its file layer's (see `crate::fs`),
//! `fdinfo/N` too.
//!
//! Where ferrite differs: files are rendered when opened (a snapshot), not
//! at each `read` as seq_file does. `environ` and `cmdline` are the strings
//! given to exec (Linux reads them from the process's memory, so a process
//! that overwrites its own argv shows it there). /proc/PID/status has the
//! lines ferrite can fill honestly (no cgroup, seccomp, capability or NUMA
//! lines). In `stat`, fault counts are 0 (ferrite does not count them per
//! task), `tty_nr` is 0 and `tpgid` -1 (no controlling terminals), and the
//! `flags` are `PF_FORKNOEXEC` and `PF_EXITING` only (no ASLR, so no
//! `PF_RANDOMIZE`). The CPU times of /proc/stat are each CPU's user and
//! system time as its hart charged them (`sched::cputime`; no nice, iowait
//! or irq split); idle is the rest of the time since boot; `intr`,
//! `softirq` are 0 (no interrupts), `processes` is the last pid handed out
//! (ferrite keeps no count of forks). Of /proc/sys, the
//! files shown are those whose value ferrite's behaviour has; only
//! `kernel/pid_max` is writable. /sys has only the CPU masks (no `cpuN`
//! directories, no devices), and the root directory does not list `sys`
//! (it is found by name).

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use mm::mmap::RssCounter;
use mm::Mem;

use crate::errno::{Errno, EINVAL};
use crate::fs::{Fs, ProcLive, ProcSource};
use crate::pid::{TaskTable, PID_MAX_LIMIT, RESERVED_PIDS};
use crate::sched::RunQueue;
use crate::task::{lock, TaskRef};

/// The listing of a process's `fd/` (symlinks) or `fdinfo/` (files): one
/// entry per open descriptor.
fn fd_entries(p: &TaskRef, d_type: u8) -> Vec<(Vec<u8>, u8)> {
    p.fs()
        .map(|f| f.open_fds())
        .unwrap_or_default()
        .into_iter()
        .map(|n| (n.to_string().into_bytes(), d_type))
        .collect()
}

/// `d_type`s of the listings.
const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;

/// `USER_HZ`: the clock ticks of /proc's times.
pub const USER_HZ: u64 = 100;
/// Nanoseconds per clock tick.
const NSEC_PER_TICK: u64 = 1_000_000_000 / USER_HZ;

/// `PF_EXITING`.
pub const PF_EXITING: u64 = 0x4;
/// `PF_FORKNOEXEC`: forked, not yet exec'd.
pub const PF_FORKNOEXEC: u64 = 0x40;

/// `RLIMIT_RSS`.
const RLIMIT_RSS: usize = 5;

/// The ISA string /proc/cpuinfo shows: what ferrite's harts implement.
pub const CPUINFO_ISA: &str = "rv64imafdc_zicsr_zifencei";

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

/// What a path below /proc names.
enum Place<'p> {
    /// A name outside the pid directories ("meminfo", "sys/kernel/...").
    Top(&'p str),
    /// A file (or "") of process `p`'s directory.
    Process(TaskRef, &'p str),
    /// A file (or "") of thread `t`'s directory `p/task/t`.
    Thread(TaskRef, &'p str),
}

/// The entries of a process's directory (base.c `tgid_base_stuff`, in its
/// order, those ferrite has).
const TGID_ENTRIES: [(&str, u8); 20] = [
    ("task", DT_DIR),
    ("fd", DT_DIR),
    ("fdinfo", DT_DIR),
    ("environ", DT_REG),
    ("status", DT_REG),
    ("sched", DT_REG),
    ("comm", DT_REG),
    ("cmdline", DT_REG),
    ("stat", DT_REG),
    ("statm", DT_REG),
    ("maps", DT_REG),
    ("cwd", DT_LNK),
    ("root", DT_LNK),
    ("exe", DT_LNK),
    ("mounts", DT_REG),
    ("mountinfo", DT_REG),
    ("smaps", DT_REG),
    ("pagemap", DT_REG),
    ("schedstat", DT_REG),
    ("oom_score_adj", DT_REG),
];

/// The entries of a thread's directory (base.c `tid_base_stuff`, those
/// ferrite has; the thread's files are read through its process's).
const TID_ENTRIES: [(&str, u8); 15] = [
    ("environ", DT_REG),
    ("status", DT_REG),
    ("sched", DT_REG),
    ("comm", DT_REG),
    ("cmdline", DT_REG),
    ("stat", DT_REG),
    ("statm", DT_REG),
    ("maps", DT_REG),
    ("exe", DT_LNK),
    ("mounts", DT_REG),
    ("mountinfo", DT_REG),
    ("smaps", DT_REG),
    ("pagemap", DT_REG),
    ("schedstat", DT_REG),
    ("oom_score_adj", DT_REG),
];

/// The files of /proc itself besides the pid directories.
const ROOT_FILES: [&str; 13] = [
    "stat",
    "locks",
    "sched_debug",
    "schedstat",
    "loadavg",
    "uptime",
    "cpuinfo",
    "meminfo",
    "slabinfo",
    "buddyinfo",
    "zoneinfo",
    "vmstat",
    "version",
];

/// /proc/sys/kernel's files.
const SYS_KERNEL: [&str; 6] = [
    "core_pattern",
    "osrelease",
    "ostype",
    "pid_max",
    "tainted",
    "threads-max",
];

/// /proc/sys/vm's files.
const SYS_VM: [&str; 2] = ["max_map_count", "mmap_min_addr"];

/// Sort names as procfs's rb-tree of `proc_dir_entry`s orders them
/// (`proc_match`: by length, then bytes).
fn pde_order(v: &mut [(Vec<u8>, u8)]) {
    v.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then(a.0.cmp(&b.0)));
}

fn entries(list: &[(&str, u8)]) -> Vec<(Vec<u8>, u8)> {
    list.iter()
        .map(|(n, t)| (n.as_bytes().to_vec(), *t))
        .collect()
}

impl ProcView {
    /// The pid a first component names ("self" or digits).
    fn pid_of(&self, first: &str) -> Option<i32> {
        if first == "self" {
            return Some(self.pid);
        }
        if first.is_empty() || first.len() > 10 || !first.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        first.parse().ok()
    }

    /// What `path` names; None for a pid or tid that is not there.
    fn place<'p>(&self, path: &'p str) -> Option<Place<'p>> {
        if path.starts_with(crate::fs::SYS_ROOT) {
            return Some(Place::Top(path));
        }
        let path = path.trim_start_matches('/');
        let (first, rest) = path.split_once('/').unwrap_or((path, ""));
        let Some(pid) = self.pid_of(first) else {
            return Some(Place::Top(path));
        };
        // A thread's id names a directory too (not listed), as on Linux:
        // its process's entries, seen from that thread.
        let p = self.table.find(pid)?;
        if let Some(r) = rest.strip_prefix("task/") {
            let (tid, file) = r.split_once('/').unwrap_or((r, ""));
            let tid: i32 = self.pid_of(tid).filter(|_| tid != "self")?;
            let t = self.table.find(tid).filter(|t| t.tgid == p.tgid)?;
            return Some(Place::Thread(t, file));
        }
        Some(Place::Process(p, rest))
    }

    /// The calling thread's id: the task on this hart if it is in this
    /// view's process, else the process's leader.
    fn current_tid(&self) -> i32 {
        let tid = crate::panic::current_pid();
        match self.table.find(tid) {
            Some(t) if t.tgid == self.pid => tid,
            _ => self.pid,
        }
    }

    /// The threads of process `p`, by id.
    fn threads(&self, p: &TaskRef) -> Vec<TaskRef> {
        // The list first, then the table: the kernel takes the table's
        // lock before a group's list (never the other way).
        let all = lock(&p.signal.threads).clone();
        let mut v: Vec<TaskRef> = all
            .into_iter()
            .filter(|t| self.table.find(t.pid()).is_some())
            .collect();
        v.sort_by_key(|t| t.pid());
        v
    }

    /// A file of /proc outside the pid directories.
    fn top_file(&self, name: &str) -> Option<String> {
        Some(match name {
            "stat" => self.proc_stat(),
            "sched_debug" => crate::sched::debug::sched_debug(&self.rq, &self.table),
            "schedstat" => crate::sched::debug::schedstat(&self.rq),
            n if n.starts_with("sys/kernel/sched_") => {
                crate::sched::debug::sysctl(&self.rq, &n["sys/kernel/".len()..])?
            }
            "loadavg" => self.loadavg(),
            "locks" => self.table.find(self.pid)?.fs()?.hostfs().locks.proc_locks(),
            "uptime" => self.uptime(),
            "cpuinfo" => cpuinfo(self.nr_cpus),
            "version" => {
                let u = crate::syscall::info::UTSNAME;
                format!("{} version {} (ferrite) {}\n", u[0], u[2], u[3])
            }
            "sys/kernel/pid_max" => format!("{}\n", self.table.pid_max.load(Relaxed)),
            "sys/kernel/tainted" => "0\n".into(),
            "sys/kernel/core_pattern" => "core\n".into(),
            "sys/kernel/ostype" => format!("{}\n", crate::syscall::info::UTSNAME[0]),
            "sys/kernel/osrelease" => format!("{}\n", crate::syscall::info::UTSNAME[2]),
            "sys/kernel/threads-max" => format!("{}\n", self.max_threads()),
            "sys/vm/max_map_count" => format!("{}\n", mm::mmap::DEFAULT_MAX_MAP_COUNT),
            "sys/vm/mmap_min_addr" => format!("{}\n", mm::mmap::MMAP_MIN_ADDR),
            // drivers/base/cpu.c: every CPU is possible, present and
            // online; none is offline; NR_CPUS is 64.
            "/sys/devices/system/cpu/online"
            | "/sys/devices/system/cpu/possible"
            | "/sys/devices/system/cpu/present" => {
                let all = if self.nr_cpus >= 64 {
                    u64::MAX
                } else {
                    (1u64 << self.nr_cpus) - 1
                };
                format!("{}\n", cpumask_list(all, self.nr_cpus))
            }
            "/sys/devices/system/cpu/offline" => "\n".into(),
            "/sys/devices/system/cpu/kernel_max" => "63\n".into(),
            _ => return mm::proc::read(self.mem, &format!("/proc/{name}")),
        })
    }

    /// `max_threads` (as the kernel computes it for fork).
    fn max_threads(&self) -> usize {
        (self.mem.nr_pages() / 32).clamp(20, 0x3fff_ffff)
    }

    /// Nanoseconds of user and system time per CPU (`kernel_cpustat`: what
    /// each hart charged while it ran tasks, see `sched::cputime`).
    fn cpu_times(&self) -> Vec<(u64, u64)> {
        (0..self.nr_cpus.max(1))
            .map(|c| self.rq.cpustat.get(c).map_or((0, 0), |s| s.times()))
            .collect()
    }

    /// Tasks that are runnable or running (`nr_running`), and all tasks.
    fn nr_running(&self) -> (usize, usize) {
        let (tasks, threads): (Vec<TaskRef>, usize) = {
            let tl = self.table.lock();
            (tl.pids.values().cloned().collect(), tl.nr_threads)
        };
        let running = tasks
            .iter()
            .filter(|t| {
                t.exit_state.load(Relaxed) == crate::task::EXIT_ALIVE
                    && lock(&t.sched).state == crate::sched::TASK_RUNNING
            })
            .count();
        (running, threads)
    }

    /// /proc/stat (fs/proc/stat.c `show_stat`).
    fn proc_stat(&self) -> String {
        let now = self.rq.now();
        let times = self.cpu_times();
        let tick = |ns: u64| ns / NSEC_PER_TICK;
        let line = |s: &mut String, name: &str, u: u64, sy: u64, idle: u64| {
            let _ = writeln!(
                s,
                "{name} {} 0 {} {} 0 0 0 0 0 0",
                tick(u),
                tick(sy),
                tick(idle)
            );
        };
        let idle_of = |(u, s): (u64, u64)| now.saturating_sub(u + s);
        let (mut su, mut ss, mut si) = (0, 0, 0);
        for &t in &times {
            su += t.0;
            ss += t.1;
            si += idle_of(t);
        }
        let mut s = String::new();
        line(&mut s, "cpu ", su, ss, si);
        for (i, &t) in times.iter().enumerate() {
            line(&mut s, &format!("cpu{i}"), t.0, t.1, idle_of(t));
        }
        let (ctxt, last_pid) = {
            let tl = self.table.lock();
            let c: u64 = tl
                .pids
                .values()
                .map(|t| t.nvcsw.load(Relaxed) + t.nivcsw.load(Relaxed))
                .sum();
            (c, tl.last_pid)
        };
        let (running, _) = self.nr_running();
        let btime = crate::syscall::info::realtime_ns().saturating_sub(now) / 1_000_000_000;
        let _ = write!(
            s,
            "intr 0\nctxt {ctxt}\nbtime {btime}\nprocesses {last_pid}\nprocs_running {running}\n\
             procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
        );
        s
    }

    /// /proc/loadavg (fs/proc/loadavg.c).
    fn loadavg(&self) -> String {
        let (running, threads) = self.nr_running();
        let last = self.table.lock().last_pid;
        self.rq
            .loadavg
            .update(self.rq.now(), self.rq.nr_queued() as u64);
        format!("{} {running}/{threads} {last}\n", self.rq.loadavg.text())
    }

    /// /proc/uptime (fs/proc/uptime.c): time since boot and the CPUs'
    /// idle time.
    fn uptime(&self) -> String {
        let now = self.rq.now();
        let idle: u64 = self
            .cpu_times()
            .iter()
            .map(|(u, s)| now.saturating_sub(u + s))
            .sum();
        let cs = |ns: u64| (ns / 1_000_000_000, (ns % 1_000_000_000) / 10_000_000);
        let (a, b) = cs(now);
        let (c, d) = cs(idle);
        format!("{a}.{b:02} {c}.{d:02}\n")
    }

    /// The entries of the directory `path`, None if it is not one.
    fn list_dir(&self, path: &str) -> Option<Vec<(Vec<u8>, u8)>> {
        match self.place(path)? {
            Place::Top("") => {
                let mut v: Vec<(Vec<u8>, u8)> = ROOT_FILES
                    .iter()
                    .map(|n| (n.as_bytes().to_vec(), DT_REG))
                    .collect();
                v.push((b"self".to_vec(), DT_LNK));
                v.push((b"thread-self".to_vec(), DT_LNK));
                v.push((b"mounts".to_vec(), DT_LNK));
                v.push((b"sys".to_vec(), DT_DIR));
                pde_order(&mut v);
                for p in self.table.processes() {
                    v.push((p.tgid.to_string().into_bytes(), DT_DIR));
                }
                Some(v)
            }
            Place::Top("sys") => Some(entries(&[("kernel", DT_DIR), ("vm", DT_DIR)])),
            Place::Top("sys/kernel") => {
                let mut v: Vec<(Vec<u8>, u8)> = SYS_KERNEL
                    .iter()
                    .chain(crate::sched::debug::SYSCTLS.iter())
                    .map(|n| (n.as_bytes().to_vec(), DT_REG))
                    .collect();
                v.sort();
                Some(v)
            }
            Place::Top("sys/vm") => Some(
                SYS_VM
                    .iter()
                    .map(|n| (n.as_bytes().to_vec(), DT_REG))
                    .collect(),
            ),
            Place::Top("/sys") => Some(entries(&[("devices", DT_DIR)])),
            Place::Top("/sys/devices") => Some(entries(&[("system", DT_DIR)])),
            Place::Top("/sys/devices/system") => Some(entries(&[("cpu", DT_DIR)])),
            Place::Top("/sys/devices/system/cpu") => Some(entries(&[
                ("kernel_max", DT_REG),
                ("offline", DT_REG),
                ("online", DT_REG),
                ("possible", DT_REG),
                ("present", DT_REG),
            ])),
            Place::Top(_) => None,
            Place::Process(_, "") => Some(entries(&TGID_ENTRIES)),
            Place::Process(p, "task") => Some(
                self.threads(&p)
                    .iter()
                    .map(|t| (t.pid().to_string().into_bytes(), DT_DIR))
                    .collect(),
            ),
            Place::Process(p, "fd") => Some(fd_entries(&p, DT_LNK)),
            Place::Process(p, "fdinfo") => Some(fd_entries(&p, DT_REG)),
            Place::Process(..) => None,
            Place::Thread(_, "") => Some(entries(&TID_ENTRIES)),
            Place::Thread(..) => None,
        }
    }
}

impl ProcSource for ProcView {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match self.place(path)? {
            Place::Top(name) => self.top_file(name).map(String::into_bytes),
            Place::Process(p, file) => pid_file(&p, file, true, self.nr_cpus),
            Place::Thread(t, file) => pid_file(&t, file, false, self.nr_cpus),
        }
    }

    fn readlink(&self, path: &str) -> Option<Vec<u8>> {
        let path = path.trim_start_matches('/');
        match path {
            "self" => return Some(self.pid.to_string().into_bytes()),
            "thread-self" => {
                return Some(format!("{}/task/{}", self.pid, self.current_tid()).into_bytes())
            }
            "mounts" => return Some(b"self/mounts".to_vec()),
            _ => {}
        }
        let (Place::Process(p, "exe") | Place::Thread(p, "exe")) = self.place(path)? else {
            return None;
        };
        // An executable outside the root has no name in the guest:
        // no link (as for a task without `exe_file`), never its host
        // path, and nothing relative that glibc's startup (which
        // asserts an absolute /proc/self/exe) would trip on.
        let exe = lock(&p.exe).clone();
        (exe.first() == Some(&b'/')).then_some(exe)
    }

    fn list(&self, path: &str) -> Option<Vec<(Vec<u8>, u8)>> {
        self.list_dir(path)
    }

    fn writable(&self, path: &str) -> bool {
        match self.place(path) {
            Some(Place::Top("sys/kernel/pid_max")) => true,
            Some(Place::Top(n)) => n
                .strip_prefix("sys/kernel/")
                .is_some_and(crate::sched::debug::sysctl_writable),
            _ => false,
        }
    }

    fn write(&self, path: &str, pos: u64, data: &[u8]) -> Result<usize, Errno> {
        match self.place(path) {
            Some(Place::Top("sys/kernel/pid_max")) => {
                let (n, v) = match dointvec_write(pos, data)? {
                    None => return Ok(data.len()),
                    Some(x) => x,
                };
                if !(RESERVED_PIDS + 1..=PID_MAX_LIMIT).contains(&v) {
                    return Err(EINVAL);
                }
                self.table.pid_max.store(v, Relaxed);
                Ok(n)
            }
            Some(Place::Top(name))
                if name
                    .strip_prefix("sys/kernel/")
                    .is_some_and(crate::sched::debug::sysctl_writable) =>
            {
                let (n, v) = match dointvec_write(pos, data)? {
                    None => return Ok(data.len()),
                    Some(x) => x,
                };
                crate::sched::debug::sysctl_write(&self.rq, &name["sys/kernel/".len()..], v)?;
                Ok(n)
            }
            _ => Err(crate::errno::EACCES),
        }
    }

    fn files_of(&self, pid: &str) -> Option<Arc<Fs>> {
        let pid = self.pid_of(pid)?;
        self.table.find(pid)?.fs()
    }

    fn open_live(&self, path: &str) -> Option<Result<Arc<dyn ProcLive>, Errno>> {
        let (Place::Process(p, "pagemap") | Place::Thread(p, "pagemap")) = self.place(path)? else {
            return None;
        };
        let me = self.table.find(self.current_tid())?;
        // `proc_mem_open`: PTRACE_MODE_READ access to the task.
        if !ptrace_may_read(&me, &p) {
            return Some(Err(crate::errno::EACCES));
        }
        let show_pfn = me.cred().capable(crate::syscall::cred::CAP_SYS_ADMIN);
        Some(Ok(Arc::new(Pagemap {
            mm: p.mm_grab(),
            show_pfn,
        })))
    }
}

/// `CAP_SYS_PTRACE`.
const CAP_SYS_PTRACE: u32 = 19;

/// `__ptrace_may_access(task, PTRACE_MODE_READ_FSCREDS)` without LSMs:
/// the caller's own process; else the caller's filesystem ids match the
/// target's real, effective and saved ids and the target is dumpable; or
/// the caller has CAP_SYS_PTRACE.
pub fn ptrace_may_read(me: &TaskRef, t: &TaskRef) -> bool {
    if me.tgid == t.tgid {
        return true;
    }
    let c = me.cred();
    if c.capable(CAP_SYS_PTRACE) {
        return true;
    }
    let tc = t.cred();
    let ids = c.fsuid == tc.uid && c.fsuid == tc.euid && c.fsuid == tc.suid;
    let gids = c.fsgid == tc.gid && c.fsgid == tc.egid && c.fsgid == tc.sgid;
    ids && gids && t.signal.dumpable.load(Relaxed) == 1
}

/// An open `/proc/PID/pagemap` (fs/proc/task_mmu.c `pagemap_read`): the
/// address space it was opened on and whether the opener may see frame
/// numbers (CAP_SYS_ADMIN at open).
struct Pagemap {
    mm: Option<crate::mm_ref::MmGrab>,
    show_pfn: bool,
}

impl ProcLive for Pagemap {
    fn check(&self, pos: u64, count: usize) -> Result<(), Errno> {
        let pm = mm::proc::pagemap::PM_ENTRY_BYTES;
        if pos % pm != 0 || count as u64 % pm != 0 {
            return Err(EINVAL);
        }
        Ok(())
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let pm = mm::proc::pagemap::PM_ENTRY_BYTES;
        // A task without an mm, or an mm whose last user left: nothing.
        let Some(mm) = self.mm.as_ref().filter(|m| m.mm_users.load(Relaxed) > 0) else {
            return Ok(0);
        };
        let n = buf.len() / pm as usize;
        let entries = mm::proc::pagemap::pagemap_entries(mm, pos / pm, n, self.show_pfn);
        for (slot, e) in buf.chunks_exact_mut(8).zip(&entries) {
            slot.copy_from_slice(&e.to_le_bytes());
        }
        Ok(entries.len() * 8)
    }
}

/// C's `isspace`.
fn c_isspace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `TMPBUFLEN`: a number takes fewer characters than this.
const TMPBUFLEN: usize = 22;

/// The value of a write to a single-integer sysctl file
/// (kernel/sysctl.c `__do_proc_dointvec` and `proc_get_long` with
/// `sysctl_writes_strict`): None when the write is at a non-zero position
/// (ignored, all of it consumed); else the bytes consumed (spaces, the
/// number, the spaces after it) and the number. The number is C's
/// `strtoul` with base 0 (`0x1f`, `017`, `15`), an optional `-`, at most
/// 21 characters, followed by a space, tab, newline or the end. EINVAL for
/// no number, a bad one, or one outside an `int`.
pub fn dointvec_write(pos: u64, data: &[u8]) -> Result<Option<(usize, i32)>, Errno> {
    if pos != 0 {
        return Ok(None);
    }
    let mut at = data.iter().take_while(|&&b| c_isspace(b)).count();
    let left = data.len() - at;
    if left == 0 {
        return Err(EINVAL);
    }
    let tmp = &data[at..at + left.min(TMPBUFLEN - 1)];
    let mut i = 0;
    let neg = tmp[0] == b'-' && left > 1;
    if neg {
        i += 1;
    }
    if !tmp.get(i).is_some_and(u8::is_ascii_digit) {
        return Err(EINVAL);
    }
    // `_parse_integer_fixup_radix` with base 0.
    let radix = if tmp[i] == b'0'
        && tmp
            .get(i + 1)
            .is_some_and(|c| c.eq_ignore_ascii_case(&b'x'))
        && tmp.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        i += 2;
        16
    } else if tmp[i] == b'0' {
        8
    } else {
        10
    };
    let mut val: u64 = 0;
    while let Some(d) = tmp.get(i).and_then(|&c| (c as char).to_digit(radix)) {
        val = val
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or(EINVAL)?;
        i += 1;
    }
    if i == TMPBUFLEN - 1 {
        return Err(EINVAL);
    }
    if i < left && !matches!(tmp[i], b' ' | b'\t' | b'\n') {
        return Err(EINVAL);
    }
    let v = if neg {
        if val > i32::MAX as u64 + 1 {
            return Err(EINVAL);
        }
        (val as i64).wrapping_neg() as i32
    } else {
        i32::try_from(val).map_err(|_| EINVAL)?
    };
    at += i;
    at += data[at..].iter().take_while(|&&b| c_isspace(b)).count();
    Ok(Some((at, v)))
}

/// /proc/cpuinfo for `n` harts (arch/riscv/kernel/cpu.c `c_show`).
pub fn cpuinfo(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n.max(1) {
        let _ = write!(
            s,
            "processor\t: {i}\nhart\t\t: {i}\nisa\t\t: {CPUINFO_ISA}\nmmu\t\t: sv48\n\
             mvendorid\t: 0x0\nmarchid\t\t: 0x0\nmimpid\t\t: 0x0\n\n"
        );
    }
    s
}

/// The file `name` of `p`'s directory (`whole`: the process's, else the
/// thread's under task/).
fn pid_file(p: &TaskRef, name: &str, whole: bool, nr_cpus: usize) -> Option<Vec<u8>> {
    let text = match name {
        "maps" => p
            .mm_grab()
            .map(|m| mm::proc::proc_pid_maps(&m))
            .unwrap_or_default(),
        "smaps" => p
            .mm_grab()
            .map(|m| mm::proc::proc_pid_smaps(&m))
            .unwrap_or_default(),
        "status" => status(p, nr_cpus),
        "sched" => crate::sched::debug::proc_pid_sched(p),
        "schedstat" => crate::sched::debug::proc_pid_schedstat(p),
        "stat" => stat(p, whole),
        "statm" => statm(p),
        "comm" => format!("{}\n", p.comm()),
        "cmdline" => return Some(lock(&p.cmdline).clone()),
        "environ" => return Some(lock(&p.environ).clone()),
        "oom_score_adj" => "0\n".into(),
        // Read in place (`ProcSource::open_live`): no snapshot.
        "pagemap" => return Some(Vec::new()),
        "mounts" => p.fs()?.proc_mounts(),
        "mountinfo" => p.fs()?.proc_mountinfo(),
        n if whole && n.starts_with("fdinfo/") => {
            let fd = &n[7..];
            if fd.is_empty() || fd.len() > 9 || !fd.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.fs()?.fdinfo(fd.parse().ok()?)?
        }
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

/// The parent process's id (0 for init).
fn ppid_of(p: &TaskRef) -> i32 {
    lock(&p.signal.parent).as_ref().map_or(0, |x| x.tgid)
}

/// The ignored and caught signals (`collect_sigign_sigcatch`).
fn sigign_sigcatch(p: &TaskRef) -> (u64, u64) {
    let (mut ign, mut cgt) = (0u64, 0u64);
    let sh = lock(&p.sighand).clone();
    for (i, a) in lock(&sh.action).iter().enumerate() {
        match a.handler {
            0 => {}
            1 => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    (ign, cgt)
}

/// /proc/PID/status (fs/proc/array.c `proc_pid_status`) on a machine of
/// `nr_cpus` CPUs.
pub fn status(p: &TaskRef, nr_cpus: usize) -> String {
    let mut s = String::new();
    let c = p.cred();
    let umask = p.fs().map_or(0o022, |f| f.get_umask());
    let ppid = ppid_of(p);
    let fdsize = p
        .fs()
        .map_or(0, |f| f.nr_open().max(64).next_power_of_two());
    let _ = write!(
        s,
        "Name:\t{}\nUmask:\t{umask:04o}\nState:\t{}\nTgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{ppid}\nTracerPid:\t0\n\
         Uid:\t{}\t{}\t{}\t{}\nGid:\t{}\t{}\t{}\t{}\nFDSize:\t{fdsize}\nGroups:\t \n\
         NStgid:\t{}\nNSpid:\t{}\nNSpgid:\t{}\nNSsid:\t{}\n",
        status_name(&p.comm()),
        state_of(p),
        p.tgid,
        p.pid(),
        c.uid,
        c.euid,
        c.suid,
        c.fsuid,
        c.gid,
        c.egid,
        c.sgid,
        c.fsgid,
        p.tgid,
        p.pid(),
        p.signal.pgrp.load(Relaxed),
        p.signal.session.load(Relaxed),
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
    let (ign, cgt) = sigign_sigcatch(p);
    let allowed = cpus_allowed(p, nr_cpus);
    let _ = write!(
        s,
        "Threads:\t{threads}\nSigQ:\t0/{}\nSigPnd:\t{pending:016x}\nShdPnd:\t{shared:016x}\nSigBlk:\t{blocked:016x}\nSigIgn:\t{ign:016x}\nSigCgt:\t{cgt:016x}\n\
         Cpus_allowed:\t{}\nCpus_allowed_list:\t{}\nvoluntary_ctxt_switches:\t{}\nnonvoluntary_ctxt_switches:\t{}\n",
        lock(&p.signal.rlim)[crate::task::RLIMIT_SIGPENDING].cur,
        cpumask_hex(allowed, nr_cpus),
        cpumask_list(allowed, nr_cpus),
        p.nvcsw.load(Relaxed),
        p.nivcsw.load(Relaxed),
    );
    s
}

/// The CPUs `p` may run on (`cpus_mask`), among `nr_cpus`.
pub fn cpus_allowed(p: &TaskRef, nr_cpus: usize) -> u64 {
    let all = if nr_cpus >= 64 {
        u64::MAX
    } else {
        (1u64 << nr_cpus) - 1
    };
    match p.cpus_allowed.load(Relaxed) {
        0 => all,
        m => m & all,
    }
}

/// A CPU mask as `%*pb` prints it (lib/vsprintf.c `bitmap_string`): hex
/// in 32-bit chunks separated by commas, the first chunk as wide as its
/// bits need.
pub fn cpumask_hex(mask: u64, nr_cpus: usize) -> String {
    let bits = nr_cpus.clamp(1, 64);
    let mut chunk = bits % 32;
    if chunk == 0 {
        chunk = 32;
    }
    let mut i = bits.div_ceil(32) * 32 - 32;
    let mut s = String::new();
    loop {
        let val = (mask >> i) & ((1u64 << chunk) - 1);
        if !s.is_empty() {
            s.push(',');
        }
        let _ = write!(s, "{val:0w$x}", w = chunk.div_ceil(4));
        chunk = 32;
        if i == 0 {
            break;
        }
        i -= 32;
    }
    s
}

/// A CPU mask as `%*pbl` prints it (`bitmap_list_string`): ranges
/// "0-3,5".
pub fn cpumask_list(mask: u64, nr_cpus: usize) -> String {
    let bits = nr_cpus.clamp(1, 64);
    let mut s = String::new();
    let mut i = 0;
    while i < bits {
        if mask >> i & 1 == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i + 1 < bits && mask >> (i + 1) & 1 == 1 {
            i += 1;
        }
        if !s.is_empty() {
            s.push(',');
        }
        if start == i {
            let _ = write!(s, "{start}");
        } else {
            let _ = write!(s, "{start}-{i}");
        }
        i += 1;
    }
    s
}

/// The `Name:` of status: `comm` with `\` and newline escaped
/// (`proc_task_name` with `escape`, which uses `string_escape_str`'s
/// `ESCAPE_SPACE | ESCAPE_SPECIAL` on "\n\\").
fn status_name(comm: &str) -> String {
    let mut s = String::new();
    for ch in comm.chars() {
        match ch {
            '\n' => s.push_str("\\n"),
            '\\' => s.push_str("\\\\"),
            c => s.push(c),
        }
    }
    s
}

/// /proc/PID/stat and /proc/PID/task/TID/stat (fs/proc/array.c
/// `do_task_stat`; `whole`: the process's, with its threads' times).
pub fn stat(p: &TaskRef, whole: bool) -> String {
    let tick = |ns: u64| ns / NSEC_PER_TICK;
    let state = state_of(p).as_bytes()[0] as char;
    let sig = &p.signal;
    let num_threads = sig.live.load(Relaxed).max(0);
    let (utime, stime) = if whole {
        let threads = lock(&sig.threads).clone();
        let mut u = sig.dead_utime.load(Relaxed);
        let mut s = sig.dead_stime.load(Relaxed);
        for t in &threads {
            u += t.utime.load(Relaxed);
            s += t.stime.load(Relaxed);
        }
        (u, s)
    } else {
        (p.utime.load(Relaxed), p.stime.load(Relaxed))
    };
    let (ign, cgt) = sigign_sigcatch(p);
    let (pending, blocked) = {
        let sg = lock(&p.sig);
        (sg.pending, sg.blocked)
    };
    let alive = p.exit_state.load(Relaxed) == crate::task::EXIT_ALIVE;
    let running = alive && lock(&p.sched).state == crate::sched::TASK_RUNNING;
    let wchan = u64::from((!whole || num_threads < 2) && !running);
    let mut flags = 0u64;
    if !alive || lock(&sig.group).group_exit.is_some() {
        flags |= PF_EXITING;
    }
    if !p.is_leader() || !sig.did_exec.load(Relaxed) {
        flags |= PF_FORKNOEXEC;
    }
    let rsslim = lock(&sig.rlim)[RLIMIT_RSS].cur;
    let (prio, nice, rt_priority, policy) = crate::sched::debug::stat_fields(p);
    let mut s = format!(
        "{} ({}) {state} {} {} {} 0 -1 {flags} 0 0 0 0 {} {} {} {} {prio} {nice} {num_threads} 0 {}",
        p.pid(),
        p.comm(),
        ppid_of(p),
        sig.pgrp.load(Relaxed),
        sig.session.load(Relaxed),
        tick(utime),
        tick(stime),
        tick(sig.cutime.load(Relaxed)),
        tick(sig.cstime.load(Relaxed)),
        tick(p.start_time()),
    );
    let m = p.mm_grab();
    let layout = m.as_ref().map(|m| {
        let st = m.mmap_lock.read();
        (
            st.total_vm,
            [st.start_code, st.end_code, st.start_stack],
            [
                st.start_data,
                st.end_data,
                st.start_brk,
                st.arg_start,
                st.arg_end,
                st.env_start,
                st.env_end,
            ],
        )
    });
    let rss = m.as_ref().map_or(0, |m| m.get_mm_rss());
    let (vsize, code, data) = layout.unwrap_or((0, [0; 3], [0; 7]));
    let _ = write!(
        s,
        " {} {rss} {rsslim} {} {} {} 0 0 {} {} {} {} {wchan} 0 0 {} {} {rt_priority} {policy} 0 0 0",
        vsize * mm::page::PAGE_SIZE,
        code[0],
        code[1],
        code[2],
        pending & 0x7fff_ffff,
        blocked & 0x7fff_ffff,
        ign & 0x7fff_ffff,
        cgt & 0x7fff_ffff,
        p.exit_signal.load(Relaxed),
        p.se.cpu(),
    );
    for d in data {
        let _ = write!(s, " {d}");
    }
    let _ = writeln!(s, " {}", p.exit_code.load(Relaxed));
    s
}

/// /proc/PID/statm (fs/proc/array.c `proc_pid_statm`, task_mmu.c
/// `task_statm`): size, resident, shared, text, 0, data, 0 in pages.
pub fn statm(p: &TaskRef) -> String {
    let Some(m) = p.mm_grab() else {
        return "0 0 0 0 0 0 0\n".into();
    };
    let file = m.get_mm_counter(RssCounter::FilePages);
    let shmem = m.get_mm_counter(RssCounter::ShmemPages);
    let resident = file + shmem + m.get_mm_counter(RssCounter::AnonPages);
    let st = m.mmap_lock.read();
    let page = mm::page::PAGE_SIZE;
    let end = st.end_code.div_ceil(page) * page;
    let text = end.saturating_sub(st.start_code & !(page - 1)) / page;
    format!(
        "{} {resident} {} {text} 0 {} 0\n",
        st.total_vm,
        file + shmem,
        st.data_vm + st.stack_vm
    )
}

/// A process's files that `ferrite run --show /proc/1/FILE` accepts.
/// (Not `environ`: a run's environment is the host's.)
pub const PID_FILES: [&str; 8] = [
    "maps",
    "smaps",
    "status",
    "comm",
    "cmdline",
    "stat",
    "statm",
    "mountinfo",
];
