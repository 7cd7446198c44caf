//! Issue 8 §2: a guest length never sizes a host allocation, and reads and
//! writes check their arguments in Linux's order. Each case was compared
//! with Linux (the host's, and riscv64's `access_ok` against TASK_SIZE):
//! the descriptor first (EBADF), then the buffers (EINVAL for a negative
//! iovec length or more than UIO_MAXIOV entries, EFAULT outside user
//! space), then `MAX_RW_COUNT`; a fault after some bytes returns them.

use kernel::errno::*;
use kernel::kernel::host_cred;
use kernel::syscall::file::{import_iovec, MAX_RW_COUNT};
use kernel::syscall::nr::*;
use kernel::syscall::{dispatch, Flow, Sys};
use kernel::task::TaskRef as Task;
use kernel::Kernel;
use mm::mmap::{MmStruct, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use mm::percpu::Cpu;

/// Where the task's two read/write pages are; nothing is mapped after
/// them, and `BUF + 1 TiB` is still user space (sv48).
const BUF: u64 = 0x1000_0000;
const AT_FDCWD: u64 = -100i64 as u64;
const KERNEL_HALF: u64 = 0xffff_ffc0_0000_0000;

mod common;
use common::Env;

fn env() -> Env {
    common::boot_kernel(2)
}

fn task(k: &Kernel, cpu: &Cpu<'static>) -> Task {
    let mm = MmStruct::new(cpu).unwrap();
    let at = mm
        .do_mmap(
            cpu,
            BUF as usize,
            8192,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
        )
        .unwrap();
    assert_eq!(at as u64, BUF);
    k.new_task(
        cpu,
        7,
        1,
        b"t",
        b"/t".to_vec(),
        b"t\0".to_vec(),
        host_cred(),
        mm,
    )
    .unwrap()
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

fn put(cpu: &Cpu<'static>, t: &Task, addr: u64, data: &[u8]) {
    mm::uaccess::copy_to_user(cpu, &t.mm(), addr as usize, data).unwrap();
}

/// Write the iovecs at `addr`.
fn iovecs(cpu: &Cpu<'static>, t: &Task, addr: u64, v: &[(u64, u64)]) {
    let mut b = Vec::new();
    for &(base, len) in v {
        b.extend_from_slice(&base.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
    }
    put(cpu, t, addr, &b);
}

/// Open `name` in the root with `flags` (the name is put at BUF + 4000).
fn open(k: &Kernel, cpu: &Cpu<'static>, t: &Task, name: &str, flags: u64) -> u64 {
    let mut n = name.as_bytes().to_vec();
    n.push(0);
    put(cpu, t, BUF + 4000, &n);
    let fd = call(k, cpu, t, OPENAT, &[AT_FDCWD, BUF + 4000, flags, 0o644]);
    assert!(fd >= 0, "open {name}: {fd}");
    fd as u64
}

const O_RDONLY: u64 = 0;
const O_WRONLY: u64 = 1;
const O_RDWR: u64 = 2;
const O_CREAT: u64 = 0o100;
const O_DIRECTORY: u64 = 0o200000;

#[test]
fn writev_of_a_huge_length_is_efault_not_an_abort() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    let fd = open(&e.k, &cpu, &t, "f", O_RDWR | O_CREAT);
    // {buf, 1 << 62}: not negative, but beyond user space: riscv64's
    // access_ok in import_iovec says EFAULT (ferrite used to abort trying
    // to allocate 4 EiB).
    iovecs(&cpu, &t, BUF, &[(BUF + 64, 1 << 62)]);
    assert_eq!(call(&e.k, &cpu, &t, WRITEV, &[fd, BUF, 1]), err(EFAULT));
    assert_eq!(call(&e.k, &cpu, &t, WRITEV, &[1, BUF, 1]), err(EFAULT));
    // A negative length is EINVAL, checked over every entry before any
    // range: an earlier kernel-half base does not make it EFAULT.
    iovecs(&cpu, &t, BUF, &[(KERNEL_HALF, 1), (BUF, 1 << 63)]);
    assert_eq!(call(&e.k, &cpu, &t, WRITEV, &[fd, BUF, 2]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, READV, &[fd, BUF, 2]), err(EINVAL));
    assert_eq!(std::fs::metadata(e.root.path().join("f")).unwrap().len(), 0);
}

#[test]
fn a_huge_valid_length_moves_the_bytes_up_to_the_fault() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    let fd = open(&e.k, &cpu, &t, "f", O_RDWR | O_CREAT);
    put(&cpu, &t, BUF, b"head");
    // write(fd, buf, 1 TiB) from an 8 KiB mapping: the 8 KiB.
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[fd, BUF, 1 << 40]), 8192);
    let host = std::fs::read(e.root.path().join("f")).unwrap();
    assert_eq!(host.len(), 8192);
    assert_eq!(&host[..4], b"head");
    // The same through writev and pwrite64.
    iovecs(&cpu, &t, BUF + 512, &[(BUF + 4096, 1 << 40)]);
    assert_eq!(call(&e.k, &cpu, &t, WRITEV, &[fd, BUF + 512, 1]), 4096);
    assert_eq!(
        call(&e.k, &cpu, &t, PWRITE64, &[fd, BUF, 1 << 40, 100_000]),
        8192
    );
    // read(fd, buf, 1 TiB) of a 20 KiB file into 8 KiB: 8 KiB, and the
    // offset moves by what was copied.
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[fd, 0, 0]), 0);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[fd, BUF, 1 << 40]), 8192);
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[fd, 0, 1]), 8192);
    // Ten bytes before the end of the mapping: ten bytes.
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[fd, 0, 0]), 0);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[fd, BUF + 8192 - 10, 100]), 10);
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[fd, 0, 1]), 10);
    // A length past user space is EFAULT before anything moves.
    assert_eq!(
        call(&e.k, &cpu, &t, WRITE, &[fd, BUF, 1 << 47]),
        err(EFAULT)
    );
    // getrandom(buf, -1): the length is cut to MAX_RW_COUNT, then the
    // bytes up to the fault.
    assert_eq!(call(&e.k, &cpu, &t, GETRANDOM, &[BUF, u64::MAX, 0]), 8192);
    // Nothing copied at all: EFAULT.
    assert_eq!(
        call(&e.k, &cpu, &t, GETRANDOM, &[BUF + 8192, 16, 0]),
        err(EFAULT)
    );
}

#[test]
fn iovecs_are_cut_at_max_rw_count() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    iovecs(
        &cpu,
        &t,
        BUF,
        &[(BUF, 0x7fff_0000), (BUF, 0x7fff_0000), (BUF, 5)],
    );
    let s = Sys::new(&cpu, &e.k, &t);
    let (segs, total) = import_iovec(&s, BUF, 3).unwrap();
    assert_eq!(total, MAX_RW_COUNT);
    assert_eq!(
        segs.to_vec(),
        vec![(BUF, 0x7fff_0000), (BUF, 0xf000), (BUF, 0)]
    );
    // The count is an unsigned int: 2^32 + 1 entries is one.
    let (segs, _) = import_iovec(&s, BUF, (1 << 32) + 1).unwrap();
    assert_eq!(segs.len(), 1);
    assert_eq!(import_iovec(&s, BUF, 1025), Err(EINVAL));
    assert_eq!(import_iovec(&s, BUF, u64::MAX), Err(EINVAL));
    assert_eq!(
        import_iovec(&s, BUF, 0).map(|(v, n)| (v.to_vec(), n)),
        Ok((vec![], 0))
    );
    // An array that runs off the mapping.
    assert_eq!(import_iovec(&s, BUF + 8192 - 16, 2), Err(EFAULT));
}

#[test]
fn the_descriptor_is_checked_before_the_buffers() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    std::fs::write(e.root.path().join("r"), b"data").unwrap();
    let ro = open(&e.k, &cpu, &t, "r", O_RDONLY);
    let wo = open(&e.k, &cpu, &t, "r", O_WRONLY);
    let dir = open(&e.k, &cpu, &t, ".", O_RDONLY | O_DIRECTORY);
    iovecs(&cpu, &t, BUF, &[(BUF, 1 << 62)]);
    let cases: &[(&str, u64, &[u64], i32)] = &[
        ("writev bad fd, 1025", WRITEV, &[77, BUF, 1025], EBADF),
        ("writev bad fd, huge", WRITEV, &[77, BUF, 1], EBADF),
        ("writev read-only fd, 1025", WRITEV, &[ro, BUF, 1025], EBADF),
        ("readv write-only fd, 1025", READV, &[wo, BUF, 1025], EBADF),
        ("writev 1025 vectors", WRITEV, &[wo, BUF, 1025], EINVAL),
        ("writev -1 vectors", WRITEV, &[wo, BUF, u64::MAX], EINVAL),
        ("readv array unmapped", READV, &[ro, KERNEL_HALF, 1], EFAULT),
        (
            "write read-only fd, kernel buffer",
            WRITE,
            &[ro, KERNEL_HALF, 10],
            EBADF,
        ),
        (
            "read bad fd, kernel buffer",
            READ,
            &[77, KERNEL_HALF, 10],
            EBADF,
        ),
        ("read dir, count 0", READ, &[dir, BUF, 0], EISDIR),
        ("readv dir", READV, &[dir, BUF + 64, 0], 0),
        (
            "pread64 negative offset first",
            PREAD64,
            &[77, BUF, 1, u64::MAX],
            EINVAL,
        ),
        (
            "preadv negative offset first",
            PREADV,
            &[77, BUF, 1, u64::MAX],
            EINVAL,
        ),
        ("pwritev bad fd, 1025", PWRITEV, &[77, BUF, 1025, 0], EBADF),
        ("preadv 1025", PREADV, &[ro, BUF, 1025, 0], EINVAL),
        (
            "pwrite64 past loff_t",
            PWRITE64,
            &[wo, BUF, 10, i64::MAX as u64],
            EINVAL,
        ),
        (
            "getdents64 bad fd, kernel buffer",
            GETDENTS64,
            &[77, KERNEL_HALF, 100],
            EBADF,
        ),
        ("getdents64 not a dir", GETDENTS64, &[ro, BUF, 100], ENOTDIR),
        (
            "getdents64 count 2^31",
            GETDENTS64,
            &[dir, BUF, 1 << 31],
            EINVAL,
        ),
        (
            "getdents64 count 2^62",
            GETDENTS64,
            &[dir, BUF, 1 << 62],
            EINVAL,
        ),
        (
            "readlinkat bufsiz 2^31 (an int)",
            READLINKAT,
            &[AT_FDCWD, BUF + 4000, BUF, 1 << 31],
            EINVAL,
        ),
    ];
    for (what, nr, args, want) in cases {
        let want = if *want == 0 { 0 } else { err(*want) };
        assert_eq!(call(&e.k, &cpu, &t, *nr, args), want, "{what}");
    }
    // Nothing was written to the read-only file's data.
    assert_eq!(std::fs::read(e.root.path().join("r")).unwrap(), b"data");
}

#[test]
fn preadv_and_pwritev_use_their_offset() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    let fd = open(&e.k, &cpu, &t, "f", O_RDWR | O_CREAT);
    put(&cpu, &t, BUF + 100, b"hello world");
    iovecs(&cpu, &t, BUF, &[(BUF + 100, 5), (BUF + 105, 6)]);
    assert_eq!(call(&e.k, &cpu, &t, PWRITEV, &[fd, BUF, 2, 3]), 11);
    assert_eq!(
        std::fs::read(e.root.path().join("f")).unwrap(),
        b"\0\0\0hello world"
    );
    // The file offset did not move.
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[fd, 0, 1]), 0);
    iovecs(&cpu, &t, BUF, &[(BUF + 200, 3), (BUF + 300, 100)]);
    assert_eq!(call(&e.k, &cpu, &t, PREADV, &[fd, BUF, 2, 6]), 8);
    let mut b = [0u8; 5];
    mm::uaccess::copy_from_user(&cpu, &t.mm(), &mut b, (BUF + 300) as usize).unwrap();
    assert_eq!(&b, b"world");
}

#[test]
fn getdents64_that_faults_after_whole_records_returns_them() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    for n in ["a", "b", "c", "d"] {
        std::fs::write(e.root.path().join(n), b"").unwrap();
    }
    let dir = open(&e.k, &cpu, &t, ".", O_RDONLY | O_DIRECTORY);
    // The first two records in the host's order (Linux does not sort).
    assert!(call(&e.k, &cpu, &t, GETDENTS64, &[dir, BUF, 4096]) >= 48);
    let mut first = [0u8; 48];
    mm::uaccess::copy_from_user(&cpu, &t.mm(), &mut first, BUF as usize).unwrap();
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[dir, 0, 0]), 0);
    // "." and ".." are 24 bytes each; "a".."d" 24 each. 40 bytes before the
    // end of the mapping hold one record and a part of the next.
    let n = call(&e.k, &cpu, &t, GETDENTS64, &[dir, BUF + 8192 - 40, 4096]);
    assert_eq!(n, 24);
    // The next call starts at the record that did not fit.
    let n = call(&e.k, &cpu, &t, GETDENTS64, &[dir, BUF, 4096]);
    assert!(n >= 5 * 24, "{n}");
    let mut rec = [0u8; 24];
    mm::uaccess::copy_from_user(&cpu, &t.mm(), &mut rec, BUF as usize).unwrap();
    assert_eq!(rec, first[24..], "the second record");
    // Nothing fits at all: EFAULT, and nothing is lost.
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[dir, 0, 0]), 0);
    assert_eq!(
        call(&e.k, &cpu, &t, GETDENTS64, &[dir, BUF + 8192 - 8, 4096]),
        err(EFAULT)
    );
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[dir, 0, 1]), 0);
}

#[test]
fn paths_are_read_up_to_path_max_only() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    put(&cpu, &t, BUF, &[b'a'; 8192]);
    // 4096 bytes without a NUL: ENAMETOOLONG (PATH_MAX counts the NUL).
    assert_eq!(
        call(&e.k, &cpu, &t, OPENAT, &[AT_FDCWD, BUF, O_RDONLY, 0]),
        err(ENAMETOOLONG)
    );
    // 4095 bytes and the NUL fit: the name is too long for the host's
    // NAME_MAX, not for the path.
    put(&cpu, &t, BUF + 4095, &[0]);
    assert_eq!(
        call(&e.k, &cpu, &t, OPENAT, &[AT_FDCWD, BUF, O_RDONLY, 0]),
        err(ENAMETOOLONG)
    );
    // A string that runs into the unmapped page before its NUL: EFAULT.
    assert_eq!(
        call(
            &e.k,
            &cpu,
            &t,
            OPENAT,
            &[AT_FDCWD, BUF + 8192 - 100, O_RDONLY, 0]
        ),
        err(EFAULT)
    );
    // Kernel-half and non-canonical pointers.
    for p in [KERNEL_HALF, 1 << 63, (1 << 47) - 1] {
        assert_eq!(
            call(&e.k, &cpu, &t, OPENAT, &[AT_FDCWD, p, O_RDONLY, 0]),
            err(EFAULT),
            "{p:#x}"
        );
    }
}

#[test]
fn strace_shows_32_bytes_of_a_huge_buffer() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let t = task(&e.k, &cpu);
    put(&cpu, &t, BUF, &[b'x'; 64]);
    let s = Sys::new(&cpu, &e.k, &t);
    let line = kernel::strace::format(&s, WRITE, [1, BUF, 1 << 62, 0, 0, 0], Flow::Return(-14));
    assert_eq!(
        line,
        format!(
            "write(1, \"{}\"..., 4611686018427387904) = -1 EFAULT (Bad address)",
            "x".repeat(32)
        )
    );
    // A buffer that ends within the 33 bytes strace would look at.
    let line = kernel::strace::format(
        &s,
        WRITE,
        [1, BUF + 8192 - 8, 1 << 40, 0, 0, 0],
        Flow::Return(8),
    );
    assert!(
        line.starts_with("write(1, 0x10001ff8, 1099511627776) = 8"),
        "{line}"
    );
}
