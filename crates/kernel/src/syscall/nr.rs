//! System call numbers of the generic table riscv64 uses
//! (include/uapi/asm-generic/unistd.h) and their names, for dispatch and
//! for strace.

macro_rules! syscalls {
    ($($name:ident = $nr:expr, $s:expr;)*) => {
        $(#[doc = concat!("`__NR_", $s, "`")]
        pub const $name: u64 = $nr;)*

        /// The name of syscall `nr`, as strace prints it.
        pub fn name(nr: u64) -> Option<&'static str> {
            match nr {
                $($nr => Some($s),)*
                _ => None,
            }
        }
    };
}

syscalls! {
    GETCWD = 17, "getcwd";
    EVENTFD2 = 19, "eventfd2";
    EPOLL_CREATE1 = 20, "epoll_create1";
    EPOLL_CTL = 21, "epoll_ctl";
    EPOLL_PWAIT = 22, "epoll_pwait";
    DUP = 23, "dup";
    DUP3 = 24, "dup3";
    FCNTL = 25, "fcntl";
    IOCTL = 29, "ioctl";
    FLOCK = 32, "flock";
    MKNODAT = 33, "mknodat";
    MKDIRAT = 34, "mkdirat";
    UNLINKAT = 35, "unlinkat";
    SYMLINKAT = 36, "symlinkat";
    LINKAT = 37, "linkat";
    RENAMEAT = 38, "renameat";
    STATFS = 43, "statfs";
    FSTATFS = 44, "fstatfs";
    FTRUNCATE = 46, "ftruncate";
    FALLOCATE = 47, "fallocate";
    FACCESSAT = 48, "faccessat";
    CHDIR = 49, "chdir";
    FCHDIR = 50, "fchdir";
    FCHMOD = 52, "fchmod";
    FCHMODAT = 53, "fchmodat";
    FCHOWNAT = 54, "fchownat";
    FCHOWN = 55, "fchown";
    OPENAT = 56, "openat";
    CLOSE = 57, "close";
    PIPE2 = 59, "pipe2";
    GETDENTS64 = 61, "getdents64";
    LSEEK = 62, "lseek";
    READ = 63, "read";
    WRITE = 64, "write";
    READV = 65, "readv";
    WRITEV = 66, "writev";
    PREAD64 = 67, "pread64";
    PWRITE64 = 68, "pwrite64";
    PREADV = 69, "preadv";
    PWRITEV = 70, "pwritev";
    PSELECT6 = 72, "pselect6";
    PPOLL = 73, "ppoll";
    READLINKAT = 78, "readlinkat";
    NEWFSTATAT = 79, "newfstatat";
    FSTAT = 80, "fstat";
    SYNC = 81, "sync";
    FSYNC = 82, "fsync";
    FDATASYNC = 83, "fdatasync";
    TIMERFD_CREATE = 85, "timerfd_create";
    TIMERFD_SETTIME = 86, "timerfd_settime";
    TIMERFD_GETTIME = 87, "timerfd_gettime";
    UTIMENSAT = 88, "utimensat";
    CAPGET = 90, "capget";
    CAPSET = 91, "capset";
    EXIT = 93, "exit";
    EXIT_GROUP = 94, "exit_group";
    WAITID = 95, "waitid";
    SET_TID_ADDRESS = 96, "set_tid_address";
    FUTEX = 98, "futex";
    SET_ROBUST_LIST = 99, "set_robust_list";
    GET_ROBUST_LIST = 100, "get_robust_list";
    NANOSLEEP = 101, "nanosleep";
    GETITIMER = 102, "getitimer";
    SETITIMER = 103, "setitimer";
    TIMER_CREATE = 107, "timer_create";
    TIMER_GETTIME = 108, "timer_gettime";
    TIMER_GETOVERRUN = 109, "timer_getoverrun";
    TIMER_SETTIME = 110, "timer_settime";
    TIMER_DELETE = 111, "timer_delete";
    CLOCK_GETTIME = 113, "clock_gettime";
    CLOCK_GETRES = 114, "clock_getres";
    CLOCK_NANOSLEEP = 115, "clock_nanosleep";
    SCHED_SETPARAM = 118, "sched_setparam";
    SCHED_SETSCHEDULER = 119, "sched_setscheduler";
    SCHED_GETSCHEDULER = 120, "sched_getscheduler";
    SCHED_GETPARAM = 121, "sched_getparam";
    SCHED_SETAFFINITY = 122, "sched_setaffinity";
    SCHED_GETAFFINITY = 123, "sched_getaffinity";
    SCHED_YIELD = 124, "sched_yield";
    SCHED_GET_PRIORITY_MAX = 125, "sched_get_priority_max";
    SCHED_GET_PRIORITY_MIN = 126, "sched_get_priority_min";
    SCHED_RR_GET_INTERVAL = 127, "sched_rr_get_interval";
    KILL = 129, "kill";
    TKILL = 130, "tkill";
    TGKILL = 131, "tgkill";
    SIGALTSTACK = 132, "sigaltstack";
    RT_SIGSUSPEND = 133, "rt_sigsuspend";
    RT_SIGACTION = 134, "rt_sigaction";
    RT_SIGPROCMASK = 135, "rt_sigprocmask";
    RT_SIGPENDING = 136, "rt_sigpending";
    RT_SIGTIMEDWAIT = 137, "rt_sigtimedwait";
    RT_SIGQUEUEINFO = 138, "rt_sigqueueinfo";
    RT_SIGRETURN = 139, "rt_sigreturn";
    SETPRIORITY = 140, "setpriority";
    GETPRIORITY = 141, "getpriority";
    SETREGID = 143, "setregid";
    SETGID = 144, "setgid";
    SETREUID = 145, "setreuid";
    SETUID = 146, "setuid";
    SETRESUID = 147, "setresuid";
    GETRESUID = 148, "getresuid";
    SETRESGID = 149, "setresgid";
    GETRESGID = 150, "getresgid";
    SETFSUID = 151, "setfsuid";
    SETFSGID = 152, "setfsgid";
    TIMES = 153, "times";
    SETPGID = 154, "setpgid";
    GETPGID = 155, "getpgid";
    GETSID = 156, "getsid";
    SETSID = 157, "setsid";
    GETGROUPS = 158, "getgroups";
    SETGROUPS = 159, "setgroups";
    UNAME = 160, "uname";
    GETRLIMIT = 163, "getrlimit";
    SETRLIMIT = 164, "setrlimit";
    GETRUSAGE = 165, "getrusage";
    UMASK = 166, "umask";
    PRCTL = 167, "prctl";
    GETCPU = 168, "getcpu";
    GETTIMEOFDAY = 169, "gettimeofday";
    GETPID = 172, "getpid";
    GETPPID = 173, "getppid";
    GETUID = 174, "getuid";
    GETEUID = 175, "geteuid";
    GETGID = 176, "getgid";
    GETEGID = 177, "getegid";
    GETTID = 178, "gettid";
    SYSINFO = 179, "sysinfo";
    SHMGET = 194, "shmget";
    SHMCTL = 195, "shmctl";
    SHMAT = 196, "shmat";
    SHMDT = 197, "shmdt";
    BRK = 214, "brk";
    MUNMAP = 215, "munmap";
    MREMAP = 216, "mremap";
    CLONE = 220, "clone";
    EXECVE = 221, "execve";
    MMAP = 222, "mmap";
    FADVISE64 = 223, "fadvise64";
    MPROTECT = 226, "mprotect";
    MSYNC = 227, "msync";
    MLOCK = 228, "mlock";
    MUNLOCK = 229, "munlock";
    MLOCKALL = 230, "mlockall";
    MUNLOCKALL = 231, "munlockall";
    MINCORE = 232, "mincore";
    MADVISE = 233, "madvise";
    RT_TGSIGQUEUEINFO = 240, "rt_tgsigqueueinfo";
    RISCV_FLUSH_ICACHE = 259, "riscv_flush_icache";
    WAIT4 = 260, "wait4";
    PRLIMIT64 = 261, "prlimit64";
    SCHED_SETATTR = 274, "sched_setattr";
    SCHED_GETATTR = 275, "sched_getattr";
    RENAMEAT2 = 276, "renameat2";
    GETRANDOM = 278, "getrandom";
    MEMFD_CREATE = 279, "memfd_create";
    EXECVEAT = 281, "execveat";
    STATX = 291, "statx";
    RSEQ = 293, "rseq";
    CLONE3 = 435, "clone3";
    FACCESSAT2 = 439, "faccessat2";
    EPOLL_PWAIT2 = 441, "epoll_pwait2";
    FUTEX_WAITV = 449, "futex_waitv";
    FCHMODAT2 = 452, "fchmodat2";
    SCHED_SETWEIGHT = 500, "sched_setweight";
    SCHED_GETWEIGHT = 501, "sched_getweight";
    GET_WRR_INFO = 502, "get_wrr_info";
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert_eq!(super::name(64), Some("write"));
        assert_eq!(super::name(222), Some("mmap"));
        assert_eq!(super::name(9999), None);
    }
}
