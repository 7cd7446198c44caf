//! The system call layer: Linux's arch/riscv/kernel/traps.c `do_trap_ecall_u`
//! and the generic syscall table (kernel/sys.c, mm/mmap.c, fs/*.c entry
//! points), for the riscv64 ABI: number in a7, arguments in a0..a5, the
//! result (or -errno) in a0.
//!
//! [`Sys`] is what a syscall sees: the CPU it runs on, the kernel, the
//! calling task. Each group of calls lives in its own file; every user
//! pointer goes through `copy_from_user`/`copy_to_user` (via [`Sys`]'s
//! helpers, for structures of a fixed or small size) or through
//! `file::GuestIter` (data, a bounded chunk at a time), so a bad pointer is
//! `EFAULT`, never a crash, and no guest length sizes a host buffer. Calls
//! ferrite does not have return `ENOSYS`, as Linux's `sys_ni_syscall` does.

pub mod cacheflush;
pub mod cred;
pub mod file;
pub mod info;
pub mod mem;
pub mod nr;
pub mod process;
pub mod sched;
pub mod signal;
pub mod sigqueue;
pub mod sys;

use mm::percpu::Cpu;
use mm::uaccess;

use std::sync::Arc;

use crate::errno::{Errno, EFAULT, ENAMETOOLONG, ENOSYS};
use crate::fs::Fs;
use crate::kernel::Kernel;
use crate::mm_ref::MmGrab;
use crate::task::TaskRef;

/// `PATH_MAX`.
pub const PATH_MAX: usize = 4096;
/// The largest buffer [`Sys::read_user`] makes: an iovec array of
/// `UIO_MAXIOV` entries.
pub const MAX_USER_COPY: usize = 16 << 10;

/// What a syscall asks of the trap loop besides its return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Put the result in a0 and go on.
    Return(i64),
    /// Put the result in a0, then give up the hart (sched_yield).
    Yield(i64),
    /// The thread exits with this wait status (`exit`).
    Exit(i32),
    /// The thread group exits with this wait status (`exit_group`).
    ExitGroup(i32),
    /// Sleep: the task set its state and queued itself; the call runs
    /// again when it is woken (see [`crate::sched::wait`]).
    Block,
    /// The call replaced the user registers (in `task.regs`).
    NewRegs,
    /// exec: new registers and a new mm.
    Exec,
}

/// Calls that read or replace the user registers: the trap loop saves the
/// hart's registers into `task.regs` before them.
pub fn needs_regs(n: u64) -> bool {
    matches!(
        n,
        nr::CLONE | nr::CLONE3 | nr::EXECVE | nr::EXECVEAT | nr::RT_SIGRETURN | nr::SIGALTSTACK
    )
}

/// The context of one system call.
pub struct Sys<'a> {
    /// The CPU (hart) the call runs on.
    pub cpu: &'a Cpu<'static>,
    /// The kernel.
    pub k: &'a Kernel,
    /// The caller (`current`).
    pub task: &'a TaskRef,
    /// The caller's mm (held for the call).
    pub mm: MmGrab,
    /// The caller's files (held for the call).
    pub fs: Arc<Fs>,
    /// The files of its last reads and writes (see [`file::FdCache`]).
    pub fd_cache: file::FdCache,
}

/// A syscall's result: a value or an errno.
pub type SysResult = Result<u64, Errno>;

impl<'a> Sys<'a> {
    /// The context for `task` (which must not have exited).
    pub fn new(cpu: &'a Cpu<'static>, k: &'a Kernel, task: &'a TaskRef) -> Sys<'a> {
        let mm = task.mm_grab().expect("Sys::new of a task without an mm");
        let fs = task.fs().expect("Sys::new of a task without files");
        Sys {
            cpu,
            k,
            task,
            mm,
            fs,
            fd_cache: Default::default(),
        }
    }

    /// The caller's address space.
    pub fn mm(&self) -> &mm::mmap::MmStruct<'static> {
        &self.mm
    }

    /// `copy_from_user` into a fresh buffer: for a structure or a small
    /// array, never for a length the guest chose freely (EFAULT above
    /// [`MAX_USER_COPY`] bytes; data go through `file::GuestIter`).
    pub fn read_user(&self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if len > MAX_USER_COPY {
            return Err(EFAULT);
        }
        let mut buf = vec![0u8; len];
        if len > 0 {
            uaccess::copy_from_user(self.cpu, self.mm(), &mut buf, addr as usize)?;
        }
        Ok(buf)
    }

    /// `copy_to_user`.
    pub fn write_user(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        if data.is_empty() {
            return Ok(());
        }
        uaccess::copy_to_user(self.cpu, self.mm(), addr as usize, data)
    }

    /// `copy_from_user` of a small fixed-size argument (a `struct
    /// timespec`, a futex word), into a buffer on the stack.
    pub fn read_array<const N: usize>(&self, addr: u64) -> Result<[u8; N], Errno> {
        let mut buf = [0u8; N];
        if N > 0 {
            uaccess::copy_from_user(self.cpu, self.mm(), &mut buf, addr as usize)?;
        }
        Ok(buf)
    }

    /// `get_user` of a u64.
    pub fn read_u64(&self, addr: u64) -> Result<u64, Errno> {
        self.read_array(addr).map(u64::from_le_bytes)
    }

    /// `put_user` of a u64.
    pub fn write_u64(&self, addr: u64, v: u64) -> Result<(), Errno> {
        self.write_user(addr, &v.to_le_bytes())
    }

    /// A NUL-terminated string of at most `max` bytes (without the NUL):
    /// `ENAMETOOLONG` when longer, `EFAULT` on a bad pointer.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; max + 1];
        let n = uaccess::strncpy_from_user(self.cpu, self.mm(), &mut buf, addr as usize)?;
        if n > max {
            return Err(ENAMETOOLONG);
        }
        buf.truncate(n);
        Ok(buf)
    }

    /// `getname()`: a path argument (`PATH_MAX` including the NUL).
    pub fn read_path(&self, addr: u64) -> Result<Vec<u8>, Errno> {
        self.read_cstr(addr, PATH_MAX - 1)
    }
}

/// Linux's return convention: a value, or -errno.
pub fn encode(r: SysResult) -> i64 {
    match r {
        Ok(v) => v as i64,
        Err(e) => -(e as i64),
    }
}

/// Run syscall `nr` with `a` = a0..a5.
pub fn dispatch(s: &mut Sys<'_>, nr: u64, a: [u64; 6]) -> Flow {
    use nr::*;
    let r = match nr {
        // Memory.
        BRK => mem::sys_brk(s, a[0]),
        MMAP => mem::sys_mmap(s, a),
        MUNMAP => mem::sys_munmap(s, a[0], a[1]),
        MPROTECT => mem::sys_mprotect(s, a[0], a[1], a[2]),
        MREMAP => mem::sys_mremap(s, a),
        MADVISE => mem::sys_madvise(s, a[0], a[1], a[2]),
        MSYNC => mem::sys_msync(s, a[0], a[1], a[2]),
        MLOCK => mem::sys_mlock(s, a[0], a[1], true),
        MUNLOCK => mem::sys_mlock(s, a[0], a[1], false),
        MLOCKALL => mem::sys_mlockall(s, a[0]),
        MUNLOCKALL => mem::sys_munlockall(s),
        RISCV_FLUSH_ICACHE => cacheflush::sys_riscv_flush_icache(s, a[0], a[1], a[2]),
        // Files.
        OPENAT => return file::sys_openat(s, a),
        MKNODAT => file::sys_mknodat(s, a[0], a[1], a[2]),
        CLOSE => file::sys_close(s, a[0]),
        READ => return file::sys_read(s, a[0], a[1], a[2]),
        WRITE => return file::sys_write(s, a[0], a[1], a[2]),
        READV => return file::sys_readv(s, a[0], a[1], a[2]),
        WRITEV => return file::sys_writev(s, a[0], a[1], a[2]),
        PIPE2 => file::sys_pipe2(s, a[0], a[1]),
        EVENTFD2 => file::sys_eventfd2(s, a[0], a[1]),
        PPOLL => return crate::fs::poll::sys_ppoll(s, a),
        EPOLL_PWAIT => return crate::fs::poll::sys_epoll_pwait(s, a, EPOLL_PWAIT),
        EPOLL_PWAIT2 => return crate::fs::poll::sys_epoll_pwait(s, a, EPOLL_PWAIT2),
        EPOLL_CREATE1 => file::sys_epoll_create1(s, a[0]),
        TIMERFD_CREATE => file::sys_timerfd_create(s, a[0], a[1]),
        TIMERFD_SETTIME => file::sys_timerfd_settime(s, a[0], a[1], a[2], a[3]),
        TIMERFD_GETTIME => file::sys_timerfd_gettime(s, a[0], a[1]),
        EPOLL_CTL => file::sys_epoll_ctl(s, a[0], a[1], a[2], a[3]),
        PSELECT6 => return crate::fs::poll::sys_pselect6(s, a),
        PREAD64 => file::sys_pread(s, a[0], a[1], a[2], a[3]),
        PWRITE64 => file::sys_pwrite(s, a[0], a[1], a[2], a[3]),
        PREADV => file::sys_preadv(s, a[0], a[1], a[2], a[3]),
        PWRITEV => file::sys_pwritev(s, a[0], a[1], a[2], a[3]),
        LSEEK => file::sys_lseek(s, a[0], a[1], a[2]),
        FSTAT => file::sys_fstat(s, a[0], a[1]),
        NEWFSTATAT => file::sys_newfstatat(s, a),
        READLINKAT => file::sys_readlinkat(s, a),
        IOCTL => file::sys_ioctl(s, a[0], a[1], a[2]),
        GETCWD => file::sys_getcwd(s, a[0], a[1]),
        CHDIR => file::sys_chdir(s, a[0]),
        FACCESSAT => file::sys_faccessat(s, a[0], a[1], a[2], 0),
        FACCESSAT2 => file::sys_faccessat(s, a[0], a[1], a[2], a[3]),
        UNLINKAT => file::sys_unlinkat(s, a[0], a[1], a[2]),
        MKDIRAT => file::sys_mkdirat(s, a[0], a[1], a[2]),
        FTRUNCATE => file::sys_ftruncate(s, a[0], a[1]),
        FALLOCATE => file::sys_fallocate(s, a[0], a[1], a[2], a[3]),
        FSYNC | FDATASYNC => file::sys_fsync(s, a[0]),
        DUP => file::sys_dup(s, a[0]),
        DUP3 => file::sys_dup3(s, a[0], a[1], a[2]),
        FCNTL => return file::sys_fcntl(s, a[0], a[1], a[2]),
        FLOCK => return file::sys_flock(s, a[0], a[1]),
        GETDENTS64 => file::sys_getdents64(s, a[0], a[1], a[2]),
        SYMLINKAT => file::sys_symlinkat(s, a[0], a[1], a[2]),
        LINKAT => file::sys_linkat(s, a),
        RENAMEAT => file::sys_renameat2(s, [a[0], a[1], a[2], a[3], 0, 0]),
        RENAMEAT2 => file::sys_renameat2(s, a),
        UMASK => file::sys_umask(s, a[0]),
        FCHDIR => file::sys_fchdir(s, a[0]),
        SYNC => file::sys_sync(s),
        FCHMOD => file::sys_fchmod(s, a[0], a[1]),
        FCHMODAT => file::sys_fchmodat(s, a[0], a[1], a[2], 0),
        FCHMODAT2 => file::sys_fchmodat(s, a[0], a[1], a[2], a[3]),
        FCHOWN => file::sys_fchown(s, a[0], a[1], a[2]),
        FCHOWNAT => file::sys_fchownat(s, a),
        UTIMENSAT => file::sys_utimensat(s, a),
        STATFS => file::sys_statfs(s, a[0], a[1]),
        FSTATFS => file::sys_fstatfs(s, a[0], a[1]),
        MEMFD_CREATE => file::sys_memfd_create(s, a[0], a[1]),
        // Processes.
        CLONE => return process::sys_clone(s, a),
        CLONE3 => return process::sys_clone3(s, a[0], a[1]),
        EXECVE => return process::sys_execve(s, a[0], a[1], a[2]),
        EXECVEAT => return process::sys_execveat(s, a),
        WAIT4 => return process::sys_wait4(s, a[0], a[1], a[2], a[3]),
        WAITID => return process::sys_waitid(s, a),
        EXIT => return Flow::Exit(crate::exit::exit_status(a[0])),
        EXIT_GROUP => return Flow::ExitGroup(crate::exit::exit_status(a[0])),
        GETPID => Ok(s.task.tgid as u64),
        GETTID => Ok(s.task.pid() as u64),
        GETPPID => Ok(process::ppid(s.task) as u64),
        GETUID => Ok(s.task.cred().uid as u64),
        GETEUID => Ok(s.task.cred().euid as u64),
        GETGID => Ok(s.task.cred().gid as u64),
        GETEGID => Ok(s.task.cred().egid as u64),
        GETPGID => process::sys_getpgid(s, a[0]),
        GETSID => process::sys_getsid(s, a[0]),
        SETPGID => process::sys_setpgid(s, a[0], a[1]),
        SETSID => process::sys_setsid(s),
        SET_TID_ADDRESS => {
            s.task
                .clear_child_tid
                .store(a[0], std::sync::atomic::Ordering::Relaxed);
            Ok(s.task.pid() as u64)
        }
        SET_ROBUST_LIST => info::sys_set_robust_list(s, a[0], a[1]),
        FUTEX => return crate::futex::sys_futex(s, a),
        FUTEX_WAITV => return crate::futex::sys_futex_waitv(s, a),
        UNAME => info::sys_uname(s, a[0]),
        SYSINFO => info::sys_sysinfo(s, a[0]),
        SCHED_GETAFFINITY => info::sys_sched_getaffinity(s, a[0], a[1], a[2]),
        SCHED_SETAFFINITY => info::sys_sched_setaffinity(s, a[0], a[1], a[2]),
        PRLIMIT64 => info::sys_prlimit64(s, a),
        GETRLIMIT => info::sys_getrlimit(s, a[0], a[1]),
        SETRLIMIT => info::sys_setrlimit(s, a[0], a[1]),
        GETRANDOM => info::sys_getrandom(s, a[0], a[1], a[2]),
        CLOCK_GETTIME => info::sys_clock_gettime(s, a[0], a[1]),
        CLOCK_GETRES => info::sys_clock_getres(s, a[0], a[1]),
        GETTIMEOFDAY => info::sys_gettimeofday(s, a[0], a[1]),
        NANOSLEEP => return info::sys_nanosleep(s, a[0], a[1]),
        CLOCK_NANOSLEEP => return info::sys_clock_nanosleep(s, a),
        GETITIMER => crate::itimer::sys_getitimer(s, a[0], a[1]),
        SETITIMER => crate::itimer::sys_setitimer(s, a[0], a[1], a[2]),
        SCHED_YIELD => return Flow::Yield(0),
        SCHED_SETSCHEDULER => sched::sys_sched_setscheduler(s, a[0], a[1], a[2]),
        SCHED_SETPARAM => sched::sys_sched_setparam(s, a[0], a[1]),
        SCHED_GETSCHEDULER => sched::sys_sched_getscheduler(s, a[0]),
        SCHED_GETPARAM => sched::sys_sched_getparam(s, a[0], a[1]),
        SCHED_GET_PRIORITY_MAX => sched::sys_sched_get_priority_max(a[0]),
        SCHED_GET_PRIORITY_MIN => sched::sys_sched_get_priority_min(a[0]),
        SCHED_RR_GET_INTERVAL => sched::sys_sched_rr_get_interval(s, a[0], a[1]),
        SCHED_SETATTR => sched::sys_sched_setattr(s, a[0], a[1], a[2]),
        SCHED_GETATTR => sched::sys_sched_getattr(s, a[0], a[1], a[2], a[3]),
        SCHED_SETWEIGHT => sched::sys_sched_setweight(s, a[0], a[1]),
        SCHED_GETWEIGHT => sched::sys_sched_getweight(s, a[0]),
        GET_WRR_INFO => sched::sys_get_wrr_info(s, a[0]),
        // Credentials and process attributes.
        SETUID => cred::sys_setuid(s, a[0]),
        SETGID => cred::sys_setgid(s, a[0]),
        SETREUID => cred::sys_setreuid(s, a[0], a[1]),
        SETREGID => cred::sys_setregid(s, a[0], a[1]),
        SETRESUID => cred::sys_setresuid(s, a[0], a[1], a[2]),
        SETRESGID => cred::sys_setresgid(s, a[0], a[1], a[2]),
        GETRESUID => cred::sys_getresuid(s, a[0], a[1], a[2]),
        GETRESGID => cred::sys_getresgid(s, a[0], a[1], a[2]),
        SETFSUID => cred::sys_setfsuid(s, a[0]),
        SETFSGID => cred::sys_setfsgid(s, a[0]),
        GETGROUPS => cred::sys_getgroups(s, a[0], a[1]),
        SETGROUPS => cred::sys_setgroups(s, a[0], a[1]),
        CAPGET => cred::sys_capget(s, a[0], a[1]),
        CAPSET => cred::sys_capset(s, a[0], a[1]),
        PRCTL => sys::sys_prctl(s, a),
        GETPRIORITY => sys::sys_getpriority(s, a[0], a[1]),
        SETPRIORITY => sys::sys_setpriority(s, a[0], a[1], a[2]),
        GETRUSAGE => sys::sys_getrusage(s, a[0], a[1]),
        GETCPU => sys::sys_getcpu(s, a[0], a[1]),
        TIMES => sys::sys_times(s, a[0]),
        // POSIX timers.
        TIMER_CREATE => crate::posix_timers::sys_timer_create(s, a[0], a[1], a[2]),
        TIMER_SETTIME => crate::posix_timers::sys_timer_settime(s, a[0], a[1], a[2], a[3]),
        TIMER_GETTIME => crate::posix_timers::sys_timer_gettime(s, a[0], a[1]),
        TIMER_GETOVERRUN => crate::posix_timers::sys_timer_getoverrun(s, a[0]),
        TIMER_DELETE => crate::posix_timers::sys_timer_delete(s, a[0]),
        // System V shared memory.
        SHMGET => crate::ipc::shm::sys_shmget(s, a[0], a[1], a[2]),
        SHMAT => crate::ipc::shm::sys_shmat(s, a[0], a[1], a[2]),
        SHMDT => crate::ipc::shm::sys_shmdt(s, a[0]),
        SHMCTL => crate::ipc::shm::sys_shmctl(s, a[0], a[1], a[2]),
        // Signals.
        RT_SIGACTION => signal::sys_rt_sigaction(s, a),
        RT_SIGPROCMASK => signal::sys_rt_sigprocmask(s, a),
        RT_SIGPENDING => signal::sys_rt_sigpending(s, a[0], a[1]),
        RT_SIGRETURN => return signal::sys_rt_sigreturn(s),
        RT_SIGSUSPEND => return crate::signal_deliver::sys_rt_sigsuspend(s, a[0], a[1]),
        SIGALTSTACK => crate::signal_deliver::sys_sigaltstack(s, a[0], a[1]),
        RT_SIGTIMEDWAIT => return sigqueue::sys_rt_sigtimedwait(s, a),
        RT_SIGQUEUEINFO => sigqueue::sys_rt_sigqueueinfo(s, a[0], a[1], a[2]),
        RT_TGSIGQUEUEINFO => sigqueue::sys_rt_tgsigqueueinfo(s, a),
        KILL => crate::sigcore::kill(s.k, s.task, a[0] as i32, a[1] as i32).map(|_| 0),
        TKILL => crate::sigcore::tgkill(s.k, s.task, None, a[0] as i32, a[1] as i32).map(|_| 0),
        TGKILL => crate::sigcore::tgkill(s.k, s.task, Some(a[0] as i32), a[1] as i32, a[2] as i32)
            .map(|_| 0),
        _ => Err(ENOSYS),
    };
    Flow::Return(encode(r))
}
