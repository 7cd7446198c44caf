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
pub mod file;
pub mod info;
pub mod mem;
pub mod nr;
pub mod signal;

use mm::percpu::Cpu;
use mm::uaccess;

use crate::errno::{Errno, EFAULT, ENAMETOOLONG, ENOSYS};
use crate::kernel::Kernel;
use crate::task::Task;

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
    /// The process exits with this wait status (`exit_group`).
    Exit(i32),
}

/// The context of one system call.
pub struct Sys<'a> {
    /// The CPU (hart) the call runs on.
    pub cpu: &'a Cpu<'static>,
    /// The kernel.
    pub k: &'a Kernel,
    /// The caller.
    pub task: &'a mut Task,
}

/// A syscall's result: a value or an errno.
pub type SysResult = Result<u64, Errno>;

impl Sys<'_> {
    /// `copy_from_user` into a fresh buffer: for a structure or a small
    /// array, never for a length the guest chose freely (EFAULT above
    /// [`MAX_USER_COPY`] bytes; data go through `file::GuestIter`).
    pub fn read_user(&self, addr: u64, len: usize) -> Result<Vec<u8>, Errno> {
        if len > MAX_USER_COPY {
            return Err(EFAULT);
        }
        let mut buf = vec![0u8; len];
        if len > 0 {
            uaccess::copy_from_user(self.cpu, self.task.mm(), &mut buf, addr as usize)?;
        }
        Ok(buf)
    }

    /// `copy_to_user`.
    pub fn write_user(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        if data.is_empty() {
            return Ok(());
        }
        uaccess::copy_to_user(self.cpu, self.task.mm(), addr as usize, data)
    }

    /// `get_user` of a u64.
    pub fn read_u64(&self, addr: u64) -> Result<u64, Errno> {
        let b = self.read_user(addr, 8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| EFAULT)?))
    }

    /// `put_user` of a u64.
    pub fn write_u64(&self, addr: u64, v: u64) -> Result<(), Errno> {
        self.write_user(addr, &v.to_le_bytes())
    }

    /// A NUL-terminated string of at most `max` bytes (without the NUL):
    /// `ENAMETOOLONG` when longer, `EFAULT` on a bad pointer.
    pub fn read_cstr(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0u8; max + 1];
        let n = uaccess::strncpy_from_user(self.cpu, self.task.mm(), &mut buf, addr as usize)?;
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
        OPENAT => file::sys_openat(s, a),
        CLOSE => file::sys_close(s, a[0]),
        READ => file::sys_read(s, a[0], a[1], a[2]),
        WRITE => file::sys_write(s, a[0], a[1], a[2]),
        READV => file::sys_readv(s, a[0], a[1], a[2]),
        WRITEV => file::sys_writev(s, a[0], a[1], a[2]),
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
        FSYNC | FDATASYNC => file::sys_fsync(s, a[0]),
        DUP => file::sys_dup(s, a[0]),
        DUP3 => file::sys_dup3(s, a[0], a[1], a[2]),
        FCNTL => file::sys_fcntl(s, a[0], a[1], a[2]),
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
        // Process and system information, time.
        GETPID => Ok(s.task.ts.tgid as u64),
        GETTID => Ok(s.task.ts.pid as u64),
        GETPPID => Ok(s.task.ts.ppid as u64),
        GETUID => Ok(s.task.ts.cred[0] as u64),
        GETEUID => Ok(s.task.ts.cred[1] as u64),
        GETGID => Ok(s.task.ts.cred[2] as u64),
        GETEGID => Ok(s.task.ts.cred[3] as u64),
        // Every process is its own process group and session leader until
        // fork and setsid exist (init is both on Linux too).
        GETPGID | GETSID => match a[0] as i32 {
            0 => Ok(s.task.ts.tgid as u64),
            p if p == s.task.ts.tgid => Ok(p as u64),
            _ => Err(crate::errno::ESRCH),
        },
        SET_TID_ADDRESS => {
            s.task.ts.clear_child_tid = a[0];
            Ok(s.task.ts.pid as u64)
        }
        SET_ROBUST_LIST => info::sys_set_robust_list(s, a[0], a[1]),
        UNAME => info::sys_uname(s, a[0]),
        PRLIMIT64 => info::sys_prlimit64(s, a),
        GETRLIMIT => info::sys_getrlimit(s, a[0], a[1]),
        SETRLIMIT => info::sys_setrlimit(s, a[0], a[1]),
        GETRANDOM => info::sys_getrandom(s, a[0], a[1], a[2]),
        CLOCK_GETTIME => info::sys_clock_gettime(s, a[0], a[1]),
        CLOCK_GETRES => info::sys_clock_getres(s, a[0], a[1]),
        GETTIMEOFDAY => info::sys_gettimeofday(s, a[0], a[1]),
        NANOSLEEP => info::sys_nanosleep(s, a[0], a[1]),
        CLOCK_NANOSLEEP => info::sys_clock_nanosleep(s, a),
        SCHED_YIELD => return Flow::Yield(0),
        // Signals (recorded; delivery comes with the process issue).
        RT_SIGACTION => signal::sys_rt_sigaction(s, a),
        RT_SIGPROCMASK => signal::sys_rt_sigprocmask(s, a),
        EXIT | EXIT_GROUP => return Flow::Exit(((a[0] & 0xff) as i32) << 8),
        _ => Err(ENOSYS),
    };
    Flow::Return(encode(r))
}
