//! The syscall layer without a hart: a task with a small address space, and
//! `dispatch` called with the registers a program would pass. Each test
//! checks Linux's result or errno, above all that bad pointers are EFAULT.

use kernel::errno::*;
use kernel::kernel::host_cred;
use kernel::syscall::nr::*;
use kernel::syscall::{dispatch, Flow, Sys};
use kernel::task::TaskRef as Task;
use kernel::Kernel;
use mm::mmap::{MmStruct, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use mm::percpu::Cpu;

mod common;
use common::Env;

fn env() -> Env {
    common::boot_kernel(2)
}

/// A task with one read/write page at the returned address and one
/// read-only page after it.
fn task(k: &Kernel, cpu: &Cpu<'static>) -> (Task, u64) {
    let mm = MmStruct::new(cpu).unwrap();
    let rw = mm
        .do_mmap(
            cpu,
            0,
            8192,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
        )
        .unwrap();
    mm.mprotect(cpu, rw + 4096, 4096, PROT_READ).unwrap();
    let t = k
        .new_task(
            cpu,
            7,
            1,
            b"t",
            b"/t".to_vec(),
            b"t\0".to_vec(),
            host_cred(),
            mm,
        )
        .unwrap();
    (t, rw as u64)
}

fn call(k: &Kernel, cpu: &Cpu<'static>, t: &Task, nr: u64, a: &[u64]) -> i64 {
    let mut args = [0u64; 6];
    args[..a.len()].copy_from_slice(a);
    let mut s = Sys::new(cpu, k, t);
    match dispatch(&mut s, nr, args) {
        Flow::Return(v) | Flow::Yield(v) => v,
        f => panic!("unexpected {f:?}"),
    }
}

fn err(e: i32) -> i64 {
    -(e as i64)
}

#[test]
fn bad_pointers_are_efault() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let ro = rw + 4096;
    // write(1, (void *)1, 10): unmapped source.
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[1, 1, 10]), err(EFAULT));
    // A kernel address.
    assert_eq!(
        call(&e.k, &cpu, &t, WRITE, &[1, u64::MAX - 100, 10]),
        err(EFAULT)
    );
    // uname into a read-only page, and into nothing.
    assert_eq!(call(&e.k, &cpu, &t, UNAME, &[ro]), err(EFAULT));
    assert_eq!(call(&e.k, &cpu, &t, UNAME, &[0]), err(EFAULT));
    // clock_gettime, getrandom, prlimit64 old pointer, rt_sigprocmask.
    assert_eq!(call(&e.k, &cpu, &t, CLOCK_GETTIME, &[1, ro]), err(EFAULT));
    assert_eq!(call(&e.k, &cpu, &t, GETRANDOM, &[ro, 16, 0]), err(EFAULT));
    assert_eq!(call(&e.k, &cpu, &t, PRLIMIT64, &[0, 3, 0, 8]), err(EFAULT));
    assert_eq!(
        call(&e.k, &cpu, &t, RT_SIGPROCMASK, &[0, 16, 0, 8]),
        err(EFAULT)
    );
    // openat with a path pointer that is not mapped.
    assert_eq!(
        call(&e.k, &cpu, &t, OPENAT, &[(-100i64) as u64, 16, 0, 0]),
        err(EFAULT)
    );
    // The good cases work on the writable page.
    assert_eq!(call(&e.k, &cpu, &t, UNAME, &[rw]), 0);
    assert_eq!(call(&e.k, &cpu, &t, GETRANDOM, &[rw, 16, 0]), 16);
}

#[test]
fn uname_reports_linux_riscv64() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    assert_eq!(call(&e.k, &cpu, &t, UNAME, &[rw]), 0);
    let mut buf = [0u8; 390];
    mm::uaccess::copy_from_user(&cpu, &t.mm(), &mut buf, rw as usize).unwrap();
    let field = |i: usize| {
        let f = &buf[i * 65..(i + 1) * 65];
        String::from_utf8_lossy(&f[..f.iter().position(|&b| b == 0).unwrap()]).into_owned()
    };
    assert_eq!(field(0), "Linux");
    assert_eq!(field(4), "riscv64");
}

#[test]
fn errnos_of_bad_arguments() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let cases: &[(&str, u64, &[u64], i32)] = &[
        ("unknown syscall", 4000, &[], ENOSYS),
        ("rseq is not there", RSEQ, &[], ENOSYS),
        (
            "mmap offset unaligned",
            MMAP,
            &[0, 4096, 3, 2, 3, 100],
            EINVAL,
        ),
        ("mmap bad fd", MMAP, &[0, 4096, 1, 2, 99, 0], EBADF),
        ("mmap length 0", MMAP, &[0, 0, 3, 0x22, u64::MAX, 0], EINVAL),
        ("munmap unaligned", MUNMAP, &[rw + 1, 4096], EINVAL),
        ("mprotect over a hole", MPROTECT, &[rw, 1 << 20, 1], ENOMEM),
        (
            "mremap of a hole",
            MREMAP,
            &[0x1000_0000, 4096, 8192, 1, 0],
            EFAULT,
        ),
        ("madvise bad advice", MADVISE, &[rw, 4096, 999], EINVAL),
        ("close bad fd", CLOSE, &[77], EBADF),
        ("read bad fd", READ, &[77, rw, 1], EBADF),
        ("lseek bad whence", LSEEK, &[0, 0, 99], EINVAL),
        ("ioctl TCGETS on a bad fd", IOCTL, &[77, 0x5401, rw], EBADF),
        ("getcwd size 1", GETCWD, &[rw, 1], ERANGE),
        (
            "readlinkat size 0",
            READLINKAT,
            &[(-100i64) as u64, rw, rw, 0],
            EINVAL,
        ),
        ("rt_sigaction SIGKILL", RT_SIGACTION, &[9, rw, 0, 8], EINVAL),
        (
            "rt_sigaction bad size",
            RT_SIGACTION,
            &[10, 0, 0, 4],
            EINVAL,
        ),
        (
            "rt_sigaction signal 65",
            RT_SIGACTION,
            &[65, 0, 0, 8],
            EINVAL,
        ),
        (
            "rt_sigprocmask bad how",
            RT_SIGPROCMASK,
            &[7, rw, 0, 8],
            EINVAL,
        ),
        ("prlimit64 bad resource", PRLIMIT64, &[0, 16, 0, 0], EINVAL),
        ("prlimit64 other pid", PRLIMIT64, &[12345, 3, 0, 0], ESRCH),
        ("getrlimit bad resource", GETRLIMIT, &[99, rw], EINVAL),
        ("clock_gettime bad clock", CLOCK_GETTIME, &[99, rw], EINVAL),
        ("clock_getres bad clock", CLOCK_GETRES, &[99, rw], EINVAL),
        ("getrandom bad flags", GETRANDOM, &[rw, 8, 0x10], EINVAL),
        (
            "set_robust_list bad size",
            SET_ROBUST_LIST,
            &[rw, 12],
            EINVAL,
        ),
        ("readv too many vectors", READV, &[0, rw, 1025], EINVAL),
        ("msync bad flags", MSYNC, &[rw, 4096, 0x100], EINVAL),
        ("mlockall bad flags", MLOCKALL, &[0x100], EINVAL),
    ];
    for (what, nr, args, errno) in cases {
        assert_eq!(call(&e.k, &cpu, &t, *nr, args), err(*errno), "{what}");
    }
}

#[test]
fn limits_and_sleeps_check_their_values() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    // RLIMIT_STACK starts at 8 MiB soft, unlimited hard.
    assert_eq!(call(&e.k, &cpu, &t, PRLIMIT64, &[0, 3, 0, rw]), 0);
    let mut b = [0u8; 16];
    mm::uaccess::copy_from_user(&cpu, &t.mm(), &mut b, rw as usize).unwrap();
    assert_eq!(u64::from_le_bytes(b[..8].try_into().unwrap()), 8 << 20);
    assert_eq!(u64::from_le_bytes(b[8..].try_into().unwrap()), u64::MAX);
    // soft above hard: EINVAL.
    let mut bad = [0u8; 16];
    bad[..8].copy_from_slice(&10u64.to_le_bytes());
    bad[8..].copy_from_slice(&5u64.to_le_bytes());
    mm::uaccess::copy_to_user(&cpu, &t.mm(), rw as usize, &bad).unwrap();
    assert_eq!(call(&e.k, &cpu, &t, SETRLIMIT, &[3, rw]), err(EINVAL));
    // nanosleep with tv_nsec out of range, and with a negative tv_sec.
    let mut ts = [0u8; 16];
    ts[8..].copy_from_slice(&1_000_000_000i64.to_le_bytes());
    mm::uaccess::copy_to_user(&cpu, &t.mm(), rw as usize, &ts).unwrap();
    assert_eq!(call(&e.k, &cpu, &t, NANOSLEEP, &[rw, 0]), err(EINVAL));
    ts[..8].copy_from_slice(&(-1i64).to_le_bytes());
    ts[8..].copy_from_slice(&0i64.to_le_bytes());
    mm::uaccess::copy_to_user(&cpu, &t.mm(), rw as usize, &ts).unwrap();
    assert_eq!(call(&e.k, &cpu, &t, NANOSLEEP, &[rw, 0]), err(EINVAL));
    // A valid 1 ms sleep: the task sleeps (the call returns Block and is
    // run again when woken); run again after the deadline it returns 0.
    ts[..8].copy_from_slice(&0i64.to_le_bytes());
    ts[8..].copy_from_slice(&1_000_000i64.to_le_bytes());
    mm::uaccess::copy_to_user(&cpu, &t.mm(), rw as usize, &ts).unwrap();
    let mut s = Sys::new(&cpu, &e.k, &t);
    assert_eq!(
        dispatch(&mut s, NANOSLEEP, [rw, 0, 0, 0, 0, 0]),
        Flow::Block
    );
    std::thread::sleep(std::time::Duration::from_millis(3));
    assert_eq!(
        dispatch(&mut s, NANOSLEEP, [rw, 0, 0, 0, 0, 0]),
        Flow::Return(0)
    );
}

#[test]
fn brk_returns_the_old_break_on_failure_and_ids_are_the_tasks() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, _) = task(&e.k, &cpu);
    let cur = call(&e.k, &cpu, &t, BRK, &[0]);
    // Far beyond user space: refused, the raw call returns the old break.
    assert_eq!(call(&e.k, &cpu, &t, BRK, &[u64::MAX - 4096]), cur);
    assert_eq!(call(&e.k, &cpu, &t, GETPID, &[]), 7);
    assert_eq!(call(&e.k, &cpu, &t, GETTID, &[]), 7);
    // Its parent (pid 1) does not exist in this kernel: getppid is 0.
    assert_eq!(call(&e.k, &cpu, &t, GETPPID, &[]), 0);
    assert_eq!(call(&e.k, &cpu, &t, SET_TID_ADDRESS, &[0x1234]), 7);
    assert_eq!(
        t.clear_child_tid.load(std::sync::atomic::Ordering::Relaxed),
        0x1234
    );
}

#[test]
fn exit_group_carries_the_status_and_sched_yield_yields() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, _) = task(&e.k, &cpu);
    let mut s = Sys::new(&cpu, &e.k, &t);
    assert_eq!(
        dispatch(&mut s, EXIT_GROUP, [0x1ff, 0, 0, 0, 0, 0]),
        Flow::ExitGroup(0xff << 8)
    );
    assert_eq!(dispatch(&mut s, SCHED_YIELD, [0; 6]), Flow::Yield(0));
}

#[test]
fn strace_lines_look_like_straces() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    mm::uaccess::copy_to_user(&cpu, &t.mm(), rw as usize, b"hello\n\0").unwrap();
    let s = Sys::new(&cpu, &e.k, &t);
    let line = kernel::strace::format(
        &s,
        MMAP,
        [0, 4096, 3, 0x22, u64::MAX, 0],
        Flow::Return(0x3ff7ff0000),
    );
    assert_eq!(
        line,
        "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x3ff7ff0000"
    );
    let line = kernel::strace::format(
        &s,
        MMAP,
        [0, 1 << 50, 3, 0x22, u64::MAX, 0],
        Flow::Return(-12),
    );
    assert!(
        line.ends_with(" = -1 ENOMEM (Cannot allocate memory)"),
        "{line}"
    );
    let line = kernel::strace::format(&s, WRITE, [1, rw, 6, 0, 0, 0], Flow::Return(6));
    assert_eq!(line, "write(1, \"hello\\n\", 6) = 6");
    let line = kernel::strace::format(
        &s,
        OPENAT,
        [(-100i64) as u64, rw, 0o2000000, 0, 0, 0],
        Flow::Return(-2),
    );
    assert_eq!(
        line,
        "openat(AT_FDCWD, \"hello\\n\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)"
    );
    let line = kernel::strace::format(&s, 4000, [1, 0, 0, 0, 0, 0], Flow::Return(-38));
    assert!(line.starts_with("syscall_0xfa0(0x1, 0x0"), "{line}");
}
