//! Tasks: Linux's `struct task_struct` (include/linux/sched.h), the user
//! register frame `struct pt_regs` with the FP state
//! (arch/riscv/include/asm/ptrace.h, `__riscv_d_ext_state`), resource
//! limits (include/asm-generic/resource.h's `INIT_RLIMITS`) and the signal
//! dispositions of `struct sighand_struct`.
//!
//! The [`TaskStruct`] lives in ferrite's RAM, in the `task_struct` slab
//! cache (boot sizes that cache to this struct), so /proc/slabinfo counts
//! real tasks. The host-side [`Task`] around it holds what has no place in
//! RAM: the file table (host handles) and the mm handle.
//!
//! Where ferrite differs: one thread per process for now (clone comes with
//! the process issue), so a task is its own thread group leader and
//! `sighand`/`signal` are part of the task rather than shared objects.

use std::sync::Arc;

use mm::kbox::KBox;
use mm::mmap::MmBox;

use crate::fs::Fs;
use crate::procfs::ProcEntry;

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
/// `RLIMIT_NOFILE`.
pub const RLIMIT_NOFILE: usize = 7;

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

/// `struct task_struct`: the kernel object of one task, in ferrite RAM.
pub struct TaskStruct {
    /// `pid` (the thread id).
    pub pid: i32,
    /// `tgid` (the process id).
    pub tgid: i32,
    /// The parent's tgid (`real_parent->tgid`; 0 for init).
    pub ppid: i32,
    /// `comm`: the executable's name, NUL-padded.
    pub comm: [u8; TASK_COMM_LEN],
    /// The user registers while off a hart (`thread.regs`).
    pub regs: Regs,
    /// `clear_child_tid` (set_tid_address).
    pub clear_child_tid: u64,
    /// `robust_list` head and length (set_robust_list).
    pub robust_list: (u64, u64),
    /// `blocked`: the signal mask.
    pub blocked: u64,
    /// `sighand->action`.
    pub sigactions: [SigAction; NSIG],
    /// `signal->rlim`.
    pub rlim: [Rlimit; RLIM_NLIMITS],
    /// `cred`: uid, euid, gid, egid.
    pub cred: [u32; 4],
    /// `exit_code` once the task exited (Linux's wait status).
    pub exit_code: Option<i32>,
}

impl TaskStruct {
    /// A task with `pid` running `comm`, Linux's initial limits and empty
    /// dispositions; `nr_pages` sizes RLIMIT_NPROC/SIGPENDING as `fork_init`
    /// does.
    pub fn new(pid: i32, ppid: i32, comm: &[u8], cred: [u32; 4], nr_pages: usize) -> TaskStruct {
        let mut c = [0u8; TASK_COMM_LEN];
        let n = comm.len().min(TASK_COMM_LEN - 1);
        c[..n].copy_from_slice(&comm[..n]);
        TaskStruct {
            pid,
            tgid: pid,
            ppid,
            comm: c,
            regs: Regs::default(),
            clear_child_tid: 0,
            robust_list: (0, 0),
            blocked: 0,
            sigactions: [SigAction::default(); NSIG],
            rlim: init_rlimits(nr_pages),
            cred,
            exit_code: None,
        }
    }

    /// `comm` as text.
    pub fn comm(&self) -> String {
        let end = self
            .comm
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(TASK_COMM_LEN);
        String::from_utf8_lossy(&self.comm[..end]).into_owned()
    }
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

/// A task as the host side holds it.
pub struct Task {
    /// The kernel object in ferrite RAM.
    pub ts: KBox<'static, 'static, TaskStruct>,
    /// The address space (also reachable through `proc` for /proc readers).
    pub proc: Arc<ProcEntry>,
    /// `fs` + `files`.
    pub fs: Fs,
}

impl Task {
    /// The task's mm.
    pub fn mm(&self) -> &MmBox<'static> {
        &self.proc.mm
    }
}
