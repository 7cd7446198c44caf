//! Tasks: Linux's `struct task_struct` (include/linux/sched.h), the user
//! register frame `struct pt_regs` with the FP state
//! (arch/riscv/include/asm/ptrace.h, `__riscv_d_ext_state`), resource
//! limits (include/asm-generic/resource.h's `INIT_RLIMITS`) and the signal
//! dispositions of `struct sighand_struct`.
//!
//! A [`Task`] is one thread. It lives in ferrite's RAM, in the
//! `task_struct` slab cache (boot sizes that cache to it), reference
//! counted ([`TaskRef`], Linux's `get_task_struct`/`put_task_struct`), at
//! a fixed address. What a thread group shares is in [`SignalStruct`]
//! (`signal_cache`: the group's threads, parent and children, pending
//! signals, limits, process group and session) and [`SighandStruct`]
//! (`sighand_cache`: the dispositions); credentials are a [`Cred`] in the
//! `cred_jar` cache ([`CredRef`]), shared by the threads of a process
//! until one of them changes its own (copy-on-write, as Linux's
//! `prepare_creds`/`commit_creds`); a fork gets its own copy
//! (`copy_creds`).
//!
//! Locking, outermost first: the kernel's `tasklist` lock (pid table,
//! parent/children and thread lists), then a group's `siglock`, then a
//! task's own locks (`sig`, `sched` = `pi_lock`, the run queue's lock).
//!
//! Where ferrite differs: [`Fs`] (the handle on a task's `fs_struct` and
//! `files_struct`, both objects in ferrite's slab caches) is a host value
//! shared by `Arc`, and the directories and descriptor slots inside those
//! objects are host handles; the pid table and child lists are host
//! collections of [`TaskRef`]s (the objects they point at, and the
//! `struct pid`s, are ferrite's).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::fs::Fs;
use crate::mm_ref::MmUser;
use crate::sched::wait::{Completion, WaitQueue};
use crate::sched::SchedState;

/// `TASK_COMM_LEN`.
pub const TASK_COMM_LEN: usize = 16;
/// Number of signals (`_NSIG`).
pub const NSIG: usize = 64;
/// Number of resource limits (`RLIM_NLIMITS`).
pub const RLIM_NLIMITS: usize = 16;
/// `RLIM_INFINITY`.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `RLIMIT_STACK`.
pub const RLIMIT_STACK: usize = 3;
/// `RLIMIT_NPROC`.
pub const RLIMIT_NPROC: usize = 6;
/// `RLIMIT_NOFILE`.
pub const RLIMIT_NOFILE: usize = 7;
/// `RLIMIT_SIGPENDING`.
pub const RLIMIT_SIGPENDING: usize = 11;

/// The user registers of a task while it is not on a hart (`pt_regs` and
/// the D-extension state).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    /// x0..x31 (x0 always 0).
    pub x: [u64; 32],
    /// f0..f31.
    pub f: [u64; 32],
    /// The user pc (`sepc`).
    pub pc: u64,
    /// fcsr.
    pub fcsr: u32,
}

impl Regs {
    /// `__switch_to` out: save the hart's user state.
    pub fn save(&mut self, hart: &rv64::Hart) {
        for i in 0..32 {
            self.x[i] = hart.x(i);
            self.f[i] = hart.f(i);
        }
        self.pc = hart.pc();
        self.fcsr = hart.fcsr();
    }

    /// `__switch_to` in: load the task's user state into the hart.
    pub fn restore(&self, hart: &mut rv64::Hart) {
        for i in 0..32 {
            hart.set_x(i, self.x[i]);
            hart.set_f(i, self.f[i]);
        }
        hart.set_pc(self.pc);
        hart.set_fcsr(self.fcsr);
    }
}

/// `struct rlimit64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// Soft limit.
    pub cur: u64,
    /// Hard limit.
    pub max: u64,
}

/// `struct k_sigaction` as riscv64's `rt_sigaction` sees it (no
/// `sa_restorer`: handler, flags, mask).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    /// `sa_handler` (0 = SIG_DFL, 1 = SIG_IGN).
    pub handler: u64,
    /// `sa_flags`.
    pub flags: u64,
    /// `sa_mask`.
    pub mask: u64,
}

/// `INIT_RLIMITS` with `fork_init`'s RLIMIT_NPROC and RLIMIT_SIGPENDING
/// (half of `max_threads`, which is RAM / 8 thread stacks of 16 KiB).
pub fn init_rlimits(nr_pages: usize) -> [Rlimit; RLIM_NLIMITS] {
    const INF: Rlimit = Rlimit {
        cur: RLIM_INFINITY,
        max: RLIM_INFINITY,
    };
    let max_threads = (nr_pages / 32).clamp(20, 0x3fff_ffff) as u64;
    let half = Rlimit {
        cur: max_threads / 2,
        max: max_threads / 2,
    };
    [
        INF, // RLIMIT_CPU
        INF, // RLIMIT_FSIZE
        INF, // RLIMIT_DATA
        Rlimit {
            cur: 8 << 20,
            max: RLIM_INFINITY,
        }, // RLIMIT_STACK
        Rlimit {
            cur: 0,
            max: RLIM_INFINITY,
        }, // RLIMIT_CORE
        INF, // RLIMIT_RSS
        half, // RLIMIT_NPROC
        Rlimit {
            cur: 1024,
            max: 4096,
        }, // RLIMIT_NOFILE
        Rlimit {
            cur: 8 << 20,
            max: 8 << 20,
        }, // RLIMIT_MEMLOCK
        INF, // RLIMIT_AS
        INF, // RLIMIT_LOCKS
        half, // RLIMIT_SIGPENDING
        Rlimit {
            cur: 819_200,
            max: 819_200,
        }, // RLIMIT_MSGQUEUE
        Rlimit { cur: 0, max: 0 }, // RLIMIT_NICE
        Rlimit { cur: 0, max: 0 }, // RLIMIT_RTPRIO
        INF, // RLIMIT_RTTIME
    ]
}

/// A counted reference to a task (`struct task_struct *` after
/// `get_task_struct`).
pub type TaskRef = mm::kbox::KArc<'static, 'static, Task>;
/// A counted reference to a thread group's `signal_struct`.
pub type SignalRef = mm::kbox::KArc<'static, 'static, SignalStruct>;
/// A counted reference to a `sighand_struct`.
pub type SighandRef = mm::kbox::KArc<'static, 'static, SighandStruct>;
/// A counted reference to a `struct cred` in the `cred_jar` cache:
/// immutable once published, shared by the threads of a process until one
/// changes its credentials (`prepare_creds` copies, `commit_creds`
/// installs the copy).
pub type CredRef = mm::kbox::KArc<'static, 'static, Cred>;

/// A poisoned lock is still usable: every critical section here leaves
/// plain values consistent.
pub fn lock<L: Lock + ?Sized>(m: &L) -> L::Guard<'_> {
    m.acquire()
}

/// A lock [`lock`] takes: a host [`Mutex`] (its waiters sleep), or a
/// [`SpinLock`] for the task's own fields that only its hart touches, but
/// for rare readers (Linux's `spinlock_t`: its release is a plain store,
/// where a host mutex's is an atomic exchange).
pub trait Lock {
    /// What it protects.
    type Target: ?Sized;
    /// Its guard.
    type Guard<'a>: std::ops::DerefMut<Target = Self::Target>
    where
        Self: 'a;
    /// Take it.
    fn acquire(&self) -> Self::Guard<'_>;
}

impl<T: ?Sized> Lock for Mutex<T> {
    type Target = T;
    type Guard<'a>
        = MutexGuard<'a, T>
    where
        Self: 'a;
    #[inline]
    fn acquire(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A lock in a kernel object's reference (`files_struct`'s table).
impl<L: Lock> Lock for mm::kbox::KArc<'_, '_, L> {
    type Target = L::Target;
    type Guard<'a>
        = L::Guard<'a>
    where
        Self: 'a;
    #[inline]
    fn acquire(&self) -> L::Guard<'_> {
        (**self).acquire()
    }
}

/// A spin lock, for short sections that never sleep and are rarely
/// contended.
pub type SpinLock<T> = spin::Mutex<T>;

impl<T: ?Sized> Lock for SpinLock<T> {
    type Target = T;
    type Guard<'a>
        = spin::MutexGuard<'a, T>
    where
        Self: 'a;
    #[inline]
    fn acquire(&self) -> spin::MutexGuard<'_, T> {
        self.lock()
    }
}

/// Add `n` to a counter only its owner writes (a task's own times, a CPU's
/// own statistics; others only read it): a load and a store, no locked
/// read-modify-write. Readers see the old or the new value, never a torn
/// one.
#[inline]
pub fn add_own(c: &std::sync::atomic::AtomicU64, n: u64) {
    use std::sync::atomic::Ordering::Relaxed;
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

/// `current->restart_block` and what else a sleeping system call keeps
/// across its restart: a [`Mutex`] with a flag beside it saying whether it
/// holds anything, so that the trap loop's "forget it" after each system
/// call (most of which never set it) is a plain load, not a lock.
#[derive(Default)]
pub struct RestartSlot {
    slot: SpinLock<Option<crate::sched::Restart>>,
    set: std::sync::atomic::AtomicBool,
}

/// [`RestartSlot::lock`]'s guard: the flag follows the contents when it is
/// dropped (still under the lock).
pub struct RestartGuard<'a> {
    g: spin::MutexGuard<'a, Option<crate::sched::Restart>>,
    set: &'a std::sync::atomic::AtomicBool,
}

impl RestartSlot {
    /// The contents, locked.
    pub fn lock(&self) -> RestartGuard<'_> {
        RestartGuard {
            g: lock(&self.slot),
            set: &self.set,
        }
    }

    /// Whether anything is kept (for the task itself, which alone sets
    /// it, so its own flag is up to date).
    #[inline]
    pub fn is_set(&self) -> bool {
        self.set.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Forget what is kept, if anything is.
    #[inline]
    pub fn clear(&self) {
        if self.is_set() {
            self.lock().take();
        }
    }
}

impl Lock for RestartSlot {
    type Target = Option<crate::sched::Restart>;
    type Guard<'a> = RestartGuard<'a>;
    #[inline]
    fn acquire(&self) -> RestartGuard<'_> {
        self.lock()
    }
}

impl std::ops::Deref for RestartGuard<'_> {
    type Target = Option<crate::sched::Restart>;
    fn deref(&self) -> &Self::Target {
        &self.g
    }
}

impl std::ops::DerefMut for RestartGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.g
    }
}

impl Drop for RestartGuard<'_> {
    fn drop(&mut self) {
        self.set
            .store(self.g.is_some(), std::sync::atomic::Ordering::Relaxed);
    }
}

/// Linux's `thread_struct` (with the `pt_regs` it saves at the top of the
/// kernel stack): what a switch saves and restores, under one lock, so
/// that switching a task in or out takes it once: its user registers and
/// its run context.
pub struct ThreadStruct {
    /// The user registers while off a hart.
    pub regs: Regs,
    /// `current->mm` and `current->files` as the task's runs borrow them
    /// (`run_task`), kept from one run to the next: taking them is part
    /// of the switch's one lock rather than two locks and two reference
    /// counts. Only the task changes its mm and files (exec, exit), in a
    /// run, which puts back the new ones (or none, at exit).
    pub run_ctx: Option<RunCtx>,
}

/// `comm`: the task's name, NUL-padded, read without a lock (a switch
/// reads it for `current`). A read racing with a rename may see half of
/// each name, as Linux's unlocked readers of `comm` may; renames are the
/// task's own (exec, `PR_SET_NAME`) or a sibling's (`/proc/PID/comm`).
pub struct Comm([AtomicU64; 2]);

impl Comm {
    /// A name of exactly [`TASK_COMM_LEN`] bytes.
    pub fn new(c: [u8; TASK_COMM_LEN]) -> Comm {
        let w = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&c[i * 8..i * 8 + 8]);
            AtomicU64::new(u64::from_le_bytes(b))
        };
        Comm([w(0), w(1)])
    }

    /// The name's bytes.
    pub fn get(&self) -> [u8; TASK_COMM_LEN] {
        let mut c = [0u8; TASK_COMM_LEN];
        c[..8].copy_from_slice(&self.0[0].load(Relaxed).to_le_bytes());
        c[8..].copy_from_slice(&self.0[1].load(Relaxed).to_le_bytes());
        c
    }

    /// Replace the name.
    pub fn set(&self, c: [u8; TASK_COMM_LEN]) {
        let n = Comm::new(c);
        for (w, v) in self.0.iter().zip(n.0) {
            w.store(v.into_inner(), Relaxed);
        }
    }
}

/// See [`ThreadStruct::run_ctx`].
pub struct RunCtx {
    /// `current->mm` (an `mm_count` reference, as `active_mm`).
    pub mm: crate::mm_ref::MmGrab,
    /// `current->files` and `current->fs`.
    pub fs: Arc<Fs>,
    /// The files of its last reads and writes.
    pub fd_cache: crate::syscall::file::FdCache,
}

/// `CAP_LAST_CAP` (CAP_CHECKPOINT_RESTORE).
pub const CAP_LAST_CAP: u32 = 40;
/// `CAP_VALID_MASK`: every capability Linux knows.
pub const CAP_FULL_SET: u64 = (1u64 << (CAP_LAST_CAP + 1)) - 1;

/// `struct cred`: the ids (real, effective, saved, filesystem), the
/// supplementary groups (`group_info`, sorted as `groups_sort` leaves
/// them) and the capability sets.
///
/// Where ferrite differs: the group list is a host allocation (bounded
/// by `NGROUPS_MAX` and by what the guest actually supplied), shared by
/// copies of the credentials as Linux shares `group_info`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    pub uid: u32,
    pub euid: u32,
    pub suid: u32,
    pub fsuid: u32,
    pub gid: u32,
    pub egid: u32,
    pub sgid: u32,
    pub fsgid: u32,
    /// Supplementary groups, sorted ascending.
    pub groups: Arc<[u32]>,
    /// `cap_inheritable`, `cap_permitted`, `cap_effective`, `cap_bset`.
    pub cap_inheritable: u64,
    pub cap_permitted: u64,
    pub cap_effective: u64,
    pub cap_bset: u64,
    /// `securebits` (only `SECURE_KEEP_CAPS` has an effect here).
    pub securebits: u32,
}

impl Cred {
    /// All ids of a user `uid`, group `gid`; effective ids `euid`/`egid`.
    /// Root (any id 0) starts with every capability, as init does on
    /// Linux; other users with none.
    pub fn new(uid: u32, euid: u32, gid: u32, egid: u32) -> Cred {
        let caps = if euid == 0 { CAP_FULL_SET } else { 0 };
        Cred {
            uid,
            euid,
            suid: euid,
            fsuid: euid,
            gid,
            egid,
            sgid: egid,
            fsgid: egid,
            groups: Arc::from(Vec::new()),
            cap_inheritable: 0,
            cap_permitted: if uid == 0 || euid == 0 {
                CAP_FULL_SET
            } else {
                0
            },
            cap_effective: caps,
            cap_bset: CAP_FULL_SET,
            securebits: 0,
        }
    }

    /// `capable(cap)`: the capability is in the effective set.
    pub fn capable(&self, cap: u32) -> bool {
        cap <= CAP_LAST_CAP && self.cap_effective & (1u64 << cap) != 0
    }

    /// `in_group_p`: `gid` is the filesystem group or a supplementary one.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.binary_search(&gid).is_ok()
    }
}

/// Signal state private to one thread (under the task's `sig` lock).
#[derive(Clone, Debug, Default)]
pub struct TaskSig {
    /// `pending`: signals sent to this thread (tkill, faults).
    pub pending: u64,
    /// The queued `siginfo`s of `pending` (rt signals queue; standard ones
    /// keep one).
    pub queue: Vec<crate::sigcore::SigQueued>,
    /// `blocked`.
    pub blocked: u64,
    /// `saved_sigmask` (sigsuspend, ppoll): restored after the handler.
    pub saved_mask: Option<u64>,
    /// `sas_ss_sp`, `sas_ss_size`, `sas_ss_flags`.
    pub altstack: crate::signal::SigAltStack,
}

/// Where a task is in its exit (`exit_state`).
pub const EXIT_ALIVE: i32 = 0;
/// `EXIT_ZOMBIE`: dead, waiting to be reaped.
pub const EXIT_ZOMBIE: i32 = 16;
/// `EXIT_DEAD`: reaped (or autoreaped).
pub const EXIT_DEAD: i32 = 32;

/// `struct task_struct`: one thread, in ferrite RAM.
pub struct Task {
    /// `pid` (the thread id): changes once, when a thread that is not the
    /// leader execs and takes the leader's id (`exchange_tids`); read it
    /// with [`Task::pid`].
    pub pid: AtomicI32,
    /// `tgid` (the process id).
    pub tgid: i32,
    /// `thread_pid`: this task's `struct pid` (None once released).
    pub thread_pid: Mutex<Option<crate::pid::PidRef>>,
    /// `comm`.
    pub comm: Comm,
    /// `__state`, `on_rq`, `on_cpu` under `pi_lock`.
    pub sched: SpinLock<SchedState>,
    /// `thread`: the registers and run context a switch saves and restores.
    pub thread: SpinLock<ThreadStruct>,
    /// `mm` (None after exit).
    pub mm: SpinLock<Option<MmUser>>,
    /// `fs` + `files` (None after exit).
    pub files: SpinLock<Option<Arc<Fs>>>,
    /// The thread group.
    pub signal: SignalRef,
    /// The dispositions (replaced by exec when shared).
    pub sighand: Mutex<SighandRef>,
    /// Credentials (`cred` = `real_cred` here: no overriding).
    pub cred: Mutex<CredRef>,
    /// Pending and blocked signals of this thread.
    pub sig: Mutex<TaskSig>,
    /// The task sleeps in a system call that it re-executes when it runs
    /// again (signals are looked at after that).
    pub restart_in_syscall: AtomicBool,
    /// `TIF_SIGPENDING`: a signal may need delivery (or the task must
    /// die): checked on every return to user mode.
    pub sigpending: AtomicBool,
    /// `clear_child_tid`.
    pub clear_child_tid: AtomicU64,
    /// `robust_list` head and length.
    pub robust_list: Mutex<(u64, u64)>,
    /// `exit_signal` (SIGCHLD, another signal, or -1 for a thread).
    pub exit_signal: AtomicI32,
    /// `exit_state`.
    pub exit_state: AtomicI32,
    /// `exit_code`: the wait status this thread exited with.
    pub exit_code: AtomicI32,
    /// What a sleeping system call keeps across its restart.
    pub restart: RestartSlot,
    /// The wait queues this task is on (`finish_wait` on wake-up), each
    /// with whether it is on it now (the last few stay, off).
    pub waits: SpinLock<Vec<(Arc<WaitQueue>, bool)>>,
    /// `vfork_done`: completed when this (vfork) child releases its mm.
    pub vfork_done: Mutex<Option<Arc<Completion>>>,
    /// `exe_file`'s guest path.
    pub exe: Mutex<Vec<u8>>,
    /// The argument strings (`/proc/PID/cmdline`), NUL-terminated.
    pub cmdline: Mutex<Vec<u8>>,
    /// `nvcsw`, `nivcsw`.
    pub nvcsw: AtomicU64,
    pub nivcsw: AtomicU64,
    /// `utime`, `stime` in ns.
    pub utime: AtomicU64,
    pub stime: AtomicU64,
    /// `start_time` (ns of host monotonic time since boot); an exec from
    /// a non-leader thread takes the leader's.
    pub start_time: AtomicU64,
    /// The timer generation: a sleeping task's timer fires only if this
    /// is unchanged (`hrtimer_cancel` done lazily).
    pub timer_seq: AtomicU64,
    /// The last CPU this ran on.
    pub cpu: AtomicI32,
    /// The run queues a wake-up puts it on.
    pub rq: Arc<crate::sched::RunQueue>,
    /// The scheduling entities (`se`, `rt`, the lab's `wrr`, `policy`),
    /// the `sched` crate's (under the run-queue lock, or `sched`).
    pub se: crate::sched::SchedEntities<Task>,
    /// The environment strings at exec (`/proc/PID/environ`),
    /// NUL-terminated.
    pub environ: Mutex<Vec<u8>>,
    /// `cpus_mask` (sched_setaffinity): bit i = CPU i; 0 = every CPU.
    pub cpus_allowed: AtomicU64,
    /// The nice value (-20..=19; `static_prio - DEFAULT_PRIO`), set by
    /// setpriority, inherited on fork.
    pub nice: AtomicI32,
    /// `no_new_privs` (prctl), inherited on fork and kept across exec.
    pub no_new_privs: AtomicBool,
    /// `timer_slack_ns` and `default_timer_slack_ns` (prctl; recorded,
    /// ferrite's timers do not slack).
    pub timer_slack_ns: AtomicU64,
    pub default_timer_slack_ns: AtomicU64,
}

impl Task {
    /// `comm` as text.
    pub fn comm(&self) -> String {
        let c = self.comm.get();
        let end = c.iter().position(|&b| b == 0).unwrap_or(TASK_COMM_LEN);
        String::from_utf8_lossy(&c[..end]).into_owned()
    }

    /// `set_task_comm`.
    pub fn set_comm(&self, name: &[u8]) {
        let mut c = [0u8; TASK_COMM_LEN];
        let n = name.len().min(TASK_COMM_LEN - 1);
        c[..n].copy_from_slice(&name[..n]);
        self.comm.set(c);
    }

    /// The thread id.
    pub fn pid(&self) -> i32 {
        self.pid.load(SeqCst)
    }

    /// When the task started (ns of [`crate::sched::RunQueue::now`]).
    pub fn start_time(&self) -> u64 {
        self.start_time.load(Relaxed)
    }

    /// Whether this is its group's leader.
    pub fn is_leader(&self) -> bool {
        self.pid() == self.tgid
    }

    /// The task's files (None once it exited).
    pub fn fs(&self) -> Option<Arc<Fs>> {
        lock(&self.files).clone()
    }

    /// A reference to the mm (None once it exited).
    pub fn mm_grab(&self) -> Option<crate::mm_ref::MmGrab> {
        lock(&self.mm).as_ref().map(|m| m.grab())
    }

    /// The mm, for a task known to have one (tests and the kernel's own
    /// callers before exit). Panics after the task exited.
    pub fn mm(&self) -> crate::mm_ref::MmGrab {
        self.mm_grab().expect("task without an mm")
    }

    /// The credentials (`get_current_cred`: a reference, not a copy).
    pub fn cred(&self) -> CredRef {
        lock(&self.cred).clone()
    }

    /// The blocked mask.
    pub fn blocked(&self) -> u64 {
        lock(&self.sig).blocked
    }

    /// Count a voluntary switch.
    pub fn count_nvcsw(&self) {
        add_own(&self.nvcsw, 1);
    }
}

/// `struct signal_struct`: what the threads of a process share.
pub struct SignalStruct {
    /// The group's live threads (`thread_head`).
    pub threads: Mutex<Vec<TaskRef>>,
    /// `live`: threads not yet exited.
    pub live: AtomicI32,
    /// `siglock`-protected group state.
    pub group: Mutex<GroupSig>,
    /// The parent process's leader (`real_parent`); None for init.
    pub parent: Mutex<Option<TaskRef>>,
    /// Child processes (their leaders), under `tasklist`.
    pub children: Mutex<Vec<TaskRef>>,
    /// `wait_chldexit`: the parent sleeps here in wait4.
    pub wait_chldexit: Arc<WaitQueue>,
    /// Process group and session ids.
    pub pgrp: AtomicI32,
    pub session: AtomicI32,
    /// Their `struct pid`s (`pids[PIDTYPE_PGID]`, `pids[PIDTYPE_SID]`).
    pub pids: Mutex<crate::pid::ProcPids>,
    /// `rlim`.
    pub rlim: Mutex<[Rlimit; RLIM_NLIMITS]>,
    /// `is_child_subreaper`, `has_child_subreaper`.
    pub is_child_subreaper: AtomicBool,
    /// `pdeath_signal` of the leader (prctl).
    pub pdeath_signal: AtomicI32,
    /// The rusage of reaped children (`cutime`, `cstime`, `cmaxrss`).
    pub cutime: AtomicU64,
    pub cstime: AtomicU64,
    pub cmaxrss: AtomicU64,
    /// `maxrss` (KiB) of threads that exited, and their times.
    pub maxrss: AtomicU64,
    pub dead_utime: AtomicU64,
    pub dead_stime: AtomicU64,
    /// `did_exec` (a child that exec'd may not be setpgid'd by its parent).
    pub did_exec: AtomicBool,
    /// The program it runs may not be opened for writing
    /// (`deny_write_access` of `mm->exe_file`): ETXTBSY.
    pub exe_deny: Mutex<Option<crate::fs::writecount::WriteCount>>,
    /// The mm's dumpable flag (`MMF_DUMPABLE` bits: 0, 1 or 2), here per
    /// process: `PR_SET_DUMPABLE`, and cleared by a credential change.
    pub dumpable: AtomicI32,
    /// `posix_timers`: the process's POSIX timers.
    pub posix_timers: Mutex<crate::posix_timers::Timers>,
    /// ITIMER_VIRTUAL and ITIMER_PROF (`it[CPUCLOCK_VIRT]`,
    /// `it[CPUCLOCK_PROF]`), and whether either is armed (checked by the
    /// trap loop's CPU-time accounting without taking the lock).
    pub it_cpu: Mutex<[crate::itimer::CpuItimer; 2]>,
    pub it_cpu_armed: AtomicBool,
    /// Whether a POSIX timer on a CPU-time clock is armed.
    pub posix_cpu_armed: AtomicBool,
}

/// The group's signal state under `siglock`.
#[derive(Debug, Default)]
pub struct GroupSig {
    /// `shared_pending`.
    pub pending: u64,
    /// Its queued siginfos.
    pub queue: Vec<crate::sigcore::SigQueued>,
    /// `SIGNAL_GROUP_EXIT`: the group is dying with this wait status.
    pub group_exit: Option<i32>,
    /// Job control: the group is stopped (`SIGNAL_STOP_STOPPED`) by this
    /// signal; `notify` holds what wait reports next (stop/continue).
    pub stopped: Option<i32>,
    /// A stop or continue the parent has not collected with WUNTRACED /
    /// WCONTINUED: (is_continue, signal).
    pub notify: Option<(bool, i32)>,
    /// `itimer` real: the interval in ns (0 = one shot) and its generation.
    pub it_real_interval: u64,
    pub it_real_deadline: Option<u64>,
    pub it_real_seq: u64,
    /// `group_exec_task`: a thread is in exec and kills the others
    /// (`de_thread`): they exit alone, not the group.
    pub exec_task: Option<i32>,
}

/// `struct sighand_struct`: the dispositions.
pub struct SighandStruct {
    /// `action[]`.
    pub action: Mutex<[SigAction; NSIG]>,
}
