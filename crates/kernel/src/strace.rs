//! `--strace`: every syscall printed to stderr the way strace(1) prints it
//! (`name(args) = result`, errors as `= -1 ENOMEM (Cannot allocate memory)`),
//! after the call returns. Linux has no counterpart inside the kernel (strace
//! uses ptrace); this is the in-kernel equivalent of its output.
//!
//! Decoded: paths and write/read buffers as strings (32 bytes, escaped, with
//! `...` when longer), file descriptors, AT_FDCWD, the mmap/mprotect/open
//! flag sets, lseek's whence, clock ids, rlimit resources and madvise
//! advice. Other pointers, such as a struct stat, print as addresses (strace
//! would decode the struct). Unknown calls print as `syscall_0xNR(...)`.

use std::fmt::Write as _;

use crate::errno;
use crate::syscall::{nr, Flow, Sys};

/// How one argument prints.
#[derive(Clone, Copy)]
enum A {
    /// Signed decimal.
    D,
    /// Unsigned decimal.
    U,
    /// Hex.
    X,
    /// A pointer: NULL or 0x....
    P,
    /// A file descriptor (signed decimal).
    Fd,
    /// A directory fd: AT_FDCWD or a number.
    Dirfd,
    /// A NUL-terminated path.
    Path,
    /// Data the call reads from user memory; its length is argument N.
    In(usize),
    /// Data the call writes to user memory; its length is the result.
    Out,
    /// PROT_* bits.
    Prot,
    /// MAP_* flags.
    Map,
    /// O_* flags.
    Open,
    /// An octal mode.
    Mode,
    /// SEEK_*.
    Whence,
    /// CLOCK_*.
    Clock,
    /// RLIMIT_*.
    Rlimit,
    /// MADV_*.
    Madv,
    /// A signal number.
    Sig,
}

/// The argument formats of syscall `n`, or None for an unknown call.
fn formats(n: u64) -> Option<&'static [A]> {
    use nr::*;
    use A::*;
    Some(match n {
        READ => &[Fd, Out, U],
        WRITE => &[Fd, In(2), U],
        PREAD64 => &[Fd, Out, U, D],
        PWRITE64 => &[Fd, In(2), U, D],
        READV | WRITEV => &[Fd, P, D],
        PREADV | PWRITEV => &[Fd, P, D, D],
        OPENAT => &[Dirfd, Path, Open, Mode],
        CLOSE | FSYNC | FDATASYNC => &[Fd],
        LSEEK => &[Fd, D, Whence],
        FSTAT => &[Fd, P],
        NEWFSTATAT => &[Dirfd, Path, P, X],
        READLINKAT => &[Dirfd, Path, Out, U],
        IOCTL => &[Fd, X, P],
        GETCWD => &[Out, U],
        CHDIR => &[Path],
        FACCESSAT => &[Dirfd, Path, X],
        FACCESSAT2 => &[Dirfd, Path, X, X],
        UNLINKAT => &[Dirfd, Path, X],
        MKDIRAT => &[Dirfd, Path, Mode],
        FTRUNCATE => &[Fd, D],
        FLOCK => &[Fd, X],
        EPOLL_CREATE1 => &[X],
        TIMERFD_CREATE => &[D, X],
        TIMERFD_SETTIME => &[Fd, X, P, P],
        TIMERFD_GETTIME => &[Fd, P],
        EPOLL_CTL => &[Fd, D, Fd, P],
        EPOLL_PWAIT | EPOLL_PWAIT2 => &[Fd, P, D, D, P, U],
        FALLOCATE => &[Fd, X, D, D],
        DUP | FCHDIR => &[Fd],
        DUP3 => &[Fd, Fd, X],
        FCNTL => &[Fd, D, X],
        GETDENTS64 => &[Fd, P, U],
        SYMLINKAT => &[Path, Dirfd, Path],
        LINKAT => &[Dirfd, Path, Dirfd, Path, X],
        RENAMEAT => &[Dirfd, Path, Dirfd, Path],
        RENAMEAT2 => &[Dirfd, Path, Dirfd, Path, X],
        UMASK => &[Mode],
        FCHMOD => &[Fd, Mode],
        FCHMODAT => &[Dirfd, Path, Mode],
        FCHMODAT2 => &[Dirfd, Path, Mode, X],
        FCHOWN => &[Fd, D, D],
        FCHOWNAT => &[Dirfd, Path, D, D, X],
        UTIMENSAT => &[Dirfd, Path, P, X],
        STATFS => &[Path, P],
        FSTATFS => &[Fd, P],
        SYNC => &[],
        GETPGID | GETSID => &[D],
        BRK => &[P],
        MMAP => &[P, U, Prot, Map, Fd, X],
        MUNMAP => &[P, U],
        MPROTECT => &[P, U, Prot],
        MREMAP => &[P, U, U, X, P],
        MADVISE => &[P, U, Madv],
        MSYNC => &[P, U, X],
        MLOCK | MUNLOCK => &[P, U],
        MLOCKALL => &[X],
        RISCV_FLUSH_ICACHE => &[P, P, X],
        MUNLOCKALL | GETPID | GETTID | GETPPID | GETUID | GETEUID | GETGID | GETEGID
        | SCHED_YIELD => &[],
        SET_TID_ADDRESS => &[P],
        SET_ROBUST_LIST => &[P, U],
        UNAME | SYSINFO => &[P],
        SCHED_GETAFFINITY | SCHED_SETAFFINITY => &[D, U, P],
        PRLIMIT64 => &[D, Rlimit, P, P],
        GETRLIMIT | SETRLIMIT => &[Rlimit, P],
        GETRANDOM => &[P, U, X],
        CLOCK_GETTIME | CLOCK_GETRES => &[Clock, P],
        GETTIMEOFDAY => &[P, P],
        NANOSLEEP => &[P, P],
        CLOCK_NANOSLEEP => &[Clock, X, P, P],
        RT_SIGACTION => &[Sig, P, P, U],
        RT_SIGPROCMASK => &[D, P, P, U],
        EXIT | EXIT_GROUP => &[D],
        CLONE => &[X, P, P, P, P],
        CLONE3 => &[P, U],
        EXECVE => &[Path, P, P],
        EXECVEAT => &[Dirfd, Path, P, P, X],
        WAIT4 => &[D, P, X, P],
        WAITID => &[D, D, P, X, P],
        KILL | TKILL => &[D, Sig],
        TGKILL => &[D, D, Sig],
        SETPGID => &[D, D],
        SETSID | RT_SIGRETURN => &[],
        FUTEX => &[P, X, U, P, P, U],
        RT_SIGSUSPEND | RT_SIGPENDING => &[P, U],
        SIGALTSTACK => &[P, P],
        GETITIMER => &[D, P],
        SETITIMER => &[D, P, P],
        _ => return None,
    })
}

/// Syscalls whose result is an address (printed in hex).
fn returns_address(n: u64) -> bool {
    matches!(n, nr::MMAP | nr::BRK | nr::MREMAP)
}

/// strace's string escape, at most 32 bytes.
fn quote(data: &[u8], out: &mut String) {
    out.push('"');
    for &b in data.iter().take(32) {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:o}");
            }
        }
    }
    out.push('"');
    if data.len() > 32 {
        out.push_str("...");
    }
}

/// Print `v` as `names` joined by `|`, with any rest in hex.
fn flags(v: u64, names: &[(u64, &str)], zero: &str, out: &mut String) {
    if v == 0 {
        out.push_str(zero);
        return;
    }
    let mut rest = v;
    let mut first = true;
    for &(bit, name) in names {
        if bit != 0 && rest & bit == bit {
            if !first {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bit;
            first = false;
        }
    }
    if rest != 0 {
        if !first {
            out.push('|');
        }
        let _ = write!(out, "{rest:#x}");
    }
}

const PROT: &[(u64, &str)] = &[
    (0x1, "PROT_READ"),
    (0x2, "PROT_WRITE"),
    (0x4, "PROT_EXEC"),
    (0x0100_0000, "PROT_GROWSDOWN"),
    (0x0200_0000, "PROT_GROWSUP"),
];

const MAP: &[(u64, &str)] = &[
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x10000, "MAP_NONBLOCK"),
    (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
];

/// `O_CREAT`.
const O_CREAT: u64 = 0o100;
/// `O_TMPFILE` (with O_DIRECTORY).
const O_TMPFILE: u64 = 0o20000000;

const OPEN: &[(u64, &str)] = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o10000, "O_DSYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (0o200000, "O_DIRECTORY"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o10000000, "O_PATH"),
];

fn named(v: u64, names: &[&str], out: &mut String) {
    match names.get(v as usize) {
        Some(n) if !n.is_empty() => out.push_str(n),
        _ => {
            let _ = write!(out, "{}", v as i64);
        }
    }
}

const CLOCKS: &[&str] = &[
    "CLOCK_REALTIME",
    "CLOCK_MONOTONIC",
    "CLOCK_PROCESS_CPUTIME_ID",
    "CLOCK_THREAD_CPUTIME_ID",
    "CLOCK_MONOTONIC_RAW",
    "CLOCK_REALTIME_COARSE",
    "CLOCK_MONOTONIC_COARSE",
    "CLOCK_BOOTTIME",
    "CLOCK_REALTIME_ALARM",
    "CLOCK_BOOTTIME_ALARM",
    "",
    "CLOCK_TAI",
];

const RLIMITS: &[&str] = &[
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
];

const SIGNALS: &[&str] = &[
    "0",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

fn madvise_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "MADV_NORMAL",
        1 => "MADV_RANDOM",
        2 => "MADV_SEQUENTIAL",
        3 => "MADV_WILLNEED",
        4 => "MADV_DONTNEED",
        8 => "MADV_FREE",
        9 => "MADV_REMOVE",
        10 => "MADV_DONTFORK",
        11 => "MADV_DOFORK",
        12 => "MADV_MERGEABLE",
        13 => "MADV_UNMERGEABLE",
        14 => "MADV_HUGEPAGE",
        15 => "MADV_NOHUGEPAGE",
        16 => "MADV_DONTDUMP",
        17 => "MADV_DODUMP",
        _ => return None,
    })
}

/// C's `%#lx`: "0" for zero, else 0x....
fn hex(v: u64, out: &mut String) {
    if v == 0 {
        out.push('0');
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

fn pointer(v: u64, out: &mut String) {
    if v == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// Format one call: `name(args) = result`.
pub fn format(s: &Sys<'_>, n: u64, a: [u64; 6], flow: Flow) -> String {
    let mut out = String::new();
    let result = match flow {
        Flow::Return(v) | Flow::Yield(v) => Some(v),
        Flow::NewRegs | Flow::Exec => Some(0),
        Flow::Exit(_) | Flow::ExitGroup(_) => None,
        // Printed when the call finishes after its sleep.
        Flow::Block => return String::new(),
    };
    let Some(fmts) = formats(n) else {
        let _ = write!(out, "syscall_{n:#x}(");
        for (i, v) in a.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{v:#x}");
        }
        out.push(')');
        finish(n, result, &mut out);
        return out;
    };
    // open's mode is printed only when the call creates a file.
    let fmts = if n == nr::OPENAT && a[2] & (O_CREAT | O_TMPFILE) == 0 {
        &fmts[..3]
    } else {
        fmts
    };
    out.push_str(nr::name(n).unwrap_or("?"));
    out.push('(');
    for (i, (&f, &v)) in fmts.iter().zip(a.iter()).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match f {
            A::D | A::Fd => {
                let _ = write!(out, "{}", v as i32 as i64);
            }
            A::U => {
                let _ = write!(out, "{v}");
            }
            A::X => hex(v, &mut out),
            A::P => pointer(v, &mut out),
            A::Dirfd => {
                if v as i32 == -100 {
                    out.push_str("AT_FDCWD");
                } else {
                    let _ = write!(out, "{}", v as i32);
                }
            }
            A::Path => match s.read_cstr(v, crate::syscall::PATH_MAX) {
                Ok(p) => quote(&p, &mut out),
                Err(_) => pointer(v, &mut out),
            },
            A::In(len_arg) => {
                let len = (a[len_arg] as usize).min(32 + 1);
                match s.read_user(v, len) {
                    Ok(d) if (a[len_arg] as usize) <= 32 => quote(&d, &mut out),
                    Ok(d) => {
                        quote(&d[..32.min(d.len())], &mut out);
                        out.push_str("...");
                    }
                    Err(_) => pointer(v, &mut out),
                }
            }
            A::Out => match result {
                Some(r) if r > 0 => match s.read_user(v, (r as usize).min(33)) {
                    Ok(d) => {
                        quote(&d[..d.len().min(32)], &mut out);
                        if r > 32 {
                            out.push_str("...");
                        }
                    }
                    Err(_) => pointer(v, &mut out),
                },
                _ => pointer(v, &mut out),
            },
            A::Prot => flags(v, PROT, "PROT_NONE", &mut out),
            A::Map => {
                let kind = match v & 0x3 {
                    1 => "MAP_SHARED",
                    2 => "MAP_PRIVATE",
                    3 => "MAP_SHARED_VALIDATE",
                    _ => "",
                };
                out.push_str(kind);
                if v & !0x3 != 0 {
                    if !kind.is_empty() {
                        out.push('|');
                    }
                    flags(v & !0x3, MAP, "0", &mut out);
                } else if kind.is_empty() {
                    out.push('0');
                }
            }
            A::Open => {
                out.push_str(match v & 0x3 {
                    0 => "O_RDONLY",
                    1 => "O_WRONLY",
                    2 => "O_RDWR",
                    _ => "O_ACCMODE",
                });
                if v & !0x3 != 0 {
                    out.push('|');
                    flags(v & !0x3, OPEN, "0", &mut out);
                }
            }
            A::Mode => {
                let _ = write!(out, "0{v:02o}");
            }
            A::Whence => named(
                v,
                &["SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE"],
                &mut out,
            ),
            A::Clock => named(v, CLOCKS, &mut out),
            A::Rlimit => named(v, RLIMITS, &mut out),
            A::Madv => match madvise_name(v) {
                Some(m) => out.push_str(m),
                None => {
                    let _ = write!(out, "{v:#x}");
                }
            },
            A::Sig => named(v, SIGNALS, &mut out),
        }
    }
    out.push(')');
    finish(n, result, &mut out);
    out
}

/// ` = result`, ` = -1 ERRNO (message)`, or ` = ?` for exit.
fn finish(n: u64, result: Option<i64>, out: &mut String) {
    match result {
        None => out.push_str(" = ?"),
        Some(r) if (-4095..0).contains(&r) => match errno::describe((-r) as i32) {
            Some((name, msg)) => {
                let _ = write!(out, " = -1 {name} ({msg})");
            }
            None => {
                let _ = write!(out, " = -1 E{} (Unknown error {})", -r, -r);
            }
        },
        Some(r) if returns_address(n) => {
            let _ = write!(out, " = {r:#x}");
        }
        Some(r) => {
            let _ = write!(out, " = {r}");
        }
    }
}

/// Print the call to stderr (and, for exit_group, strace's closing line).
pub fn trace(s: &Sys<'_>, n: u64, a: [u64; 6], flow: Flow) {
    if flow == Flow::Block {
        return;
    }
    // `strace -f`: lines of tasks other than the first are tagged.
    let mut line = if s.task.pid() != 1 {
        format!("[pid {:>5}] ", s.task.pid())
    } else {
        String::new()
    };
    line.push_str(&format(s, n, a, flow));
    line.push('\n');
    if let Flow::ExitGroup(status) = flow {
        let _ = writeln!(line, "+++ exited with {} +++", (status >> 8) & 0xff);
    }
    s.k.console(&line);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_and_truncates() {
        let mut s = String::new();
        quote(b"hi\n\"x\"\\\x01", &mut s);
        assert_eq!(s, r#""hi\n\"x\"\\\1""#);
        let mut s = String::new();
        quote(&[b'a'; 40], &mut s);
        assert_eq!(s, format!("\"{}\"...", "a".repeat(32)));
    }

    #[test]
    fn flag_sets() {
        let mut s = String::new();
        flags(0x3, PROT, "PROT_NONE", &mut s);
        assert_eq!(s, "PROT_READ|PROT_WRITE");
        let mut s = String::new();
        flags(0, PROT, "PROT_NONE", &mut s);
        assert_eq!(s, "PROT_NONE");
        let mut s = String::new();
        flags(0x20 | 0x4000_0000, MAP, "0", &mut s);
        assert_eq!(s, "MAP_ANONYMOUS|0x40000000");
    }

    #[test]
    fn results() {
        let mut s = String::new();
        finish(nr::MMAP, Some(-12), &mut s);
        assert_eq!(s, " = -1 ENOMEM (Cannot allocate memory)");
        let mut s = String::new();
        finish(nr::MMAP, Some(0x3ff7ff0000), &mut s);
        assert_eq!(s, " = 0x3ff7ff0000");
        let mut s = String::new();
        finish(nr::WRITE, Some(6), &mut s);
        assert_eq!(s, " = 6");
        let mut s = String::new();
        finish(nr::EXIT_GROUP, None, &mut s);
        assert_eq!(s, " = ?");
    }
}
