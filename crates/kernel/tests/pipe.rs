//! Pipes, eventfds and ppoll/pselect6 at the syscall level: a task with a
//! small address space, `dispatch` called as a program would, and the
//! sleeping protocol checked directly (a call that must wait returns
//! `Flow::Block` with the task queued and asleep; a wake-up makes it
//! runnable and the call, run again, finishes). Also the pipe's pages:
//! they come from the page allocator and all go back.

use kernel::errno::*;
use kernel::kernel::host_cred;
use kernel::sched::{TASK_INTERRUPTIBLE, TASK_RUNNING};
use kernel::sigcore::{self, SigQueued, Target};
use kernel::syscall::nr::*;
use kernel::syscall::{dispatch, Flow, Sys};
use kernel::task::{lock, TaskRef as Task};
use kernel::Kernel;
use mm::mmap::{MmStruct, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use mm::percpu::Cpu;

mod common;
use common::Env;

fn env() -> Env {
    common::boot_kernel(2)
}

/// Bytes of user memory the task has (read/write), then a read-only page.
const RW: u64 = 4 * 4096;

/// A task with RW bytes of read/write memory at the returned address and
/// one read-only page after it.
fn task_with(k: &Kernel, cpu: &Cpu<'static>, pid: i32, cred: [u32; 4]) -> (Task, u64) {
    let mm = MmStruct::new(cpu).unwrap();
    let rw = mm
        .do_mmap(
            cpu,
            0,
            RW as usize + 4096,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
        )
        .unwrap();
    mm.mprotect(cpu, rw + RW as usize, 4096, PROT_READ).unwrap();
    let t = k
        .new_task(cpu, pid, 1, b"t", b"/t".to_vec(), b"t\0".to_vec(), cred, mm)
        .unwrap();
    // Fault the memory in now, so that page counts later see only what
    // the pipes take.
    poke(cpu, &t, rw as u64, &vec![0u8; RW as usize]);
    let _ = peek(cpu, &t, rw as u64 + RW, 1);
    (t, rw as u64)
}

fn task(k: &Kernel, cpu: &Cpu<'static>) -> (Task, u64) {
    task_with(k, cpu, 7, host_cred())
}

/// Another task with the same descriptor table as `t` (CLONE_FILES) and
/// memory of its own: the other side of a pipe while `t` sleeps.
fn sharer(k: &Kernel, cpu: &Cpu<'static>, t: &Task) -> (Task, u64) {
    let (o, rw) = task_with(k, cpu, 8, host_cred());
    *lock(&o.files) = t.fs();
    (o, rw)
}

/// One system call as the trap loop runs it (the restart state is
/// dropped when the call finishes).
fn sys(k: &Kernel, cpu: &Cpu<'static>, t: &Task, nr: u64, a: &[u64]) -> Flow {
    let mut args = [0u64; 6];
    args[..a.len()].copy_from_slice(a);
    let mut s = Sys::new(cpu, k, t);
    let f = dispatch(&mut s, nr, args);
    if f != Flow::Block {
        lock(&t.restart).take();
    }
    f
}

/// A call that must return.
fn call(k: &Kernel, cpu: &Cpu<'static>, t: &Task, nr: u64, a: &[u64]) -> i64 {
    match sys(k, cpu, t, nr, a) {
        Flow::Return(v) => v,
        f => panic!("syscall {nr}: unexpected {f:?}"),
    }
}

fn err(e: i32) -> i64 {
    -(e as i64)
}

fn state(t: &Task) -> u32 {
    lock(&t.sched).state
}

/// The task woke up and runs the call again (what `run_task` does).
fn resume(t: &Task) {
    assert_eq!(state(t), TASK_RUNNING, "the task was woken");
    kernel::sched::wait::finish_wait(t);
    lock(&t.sched).on_rq = false;
}

fn peek(cpu: &Cpu<'static>, t: &Task, addr: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    mm::uaccess::copy_from_user(cpu, &t.mm(), &mut b, addr as usize).unwrap();
    b
}

fn poke(cpu: &Cpu<'static>, t: &Task, addr: u64, b: &[u8]) {
    mm::uaccess::copy_to_user(cpu, &t.mm(), addr as usize, b).unwrap();
}

/// pipe2 into user memory: the two descriptors.
fn pipe(k: &Kernel, cpu: &Cpu<'static>, t: &Task, at: u64, flags: u64) -> (u64, u64) {
    assert_eq!(call(k, cpu, t, PIPE2, &[at, flags]), 0);
    let b = peek(cpu, t, at, 8);
    (
        u32::from_le_bytes(b[..4].try_into().unwrap()) as u64,
        u32::from_le_bytes(b[4..].try_into().unwrap()) as u64,
    )
}

fn free_pages(k: &Kernel) -> usize {
    k.mem.nr_free_pages() + k.mem.nr_pcp_pages()
}

#[test]
fn pipe2_flags_and_bad_pointers() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let ro = rw + RW;
    // O_APPEND is not a pipe2 flag; O_NOTIFICATION_PIPE (O_EXCL) needs
    // watch queues.
    assert_eq!(call(&e.k, &cpu, &t, PIPE2, &[rw, 0o2000]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, PIPE2, &[rw, 0o200]), err(EINVAL));
    // A fault storing the descriptors leaves none open.
    let open_before = t.fs().unwrap().nr_open();
    assert_eq!(call(&e.k, &cpu, &t, PIPE2, &[ro, 0]), err(EFAULT));
    assert_eq!(t.fs().unwrap().nr_open(), open_before);
    // The lowest free descriptors, read end first.
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0o2000000 /* O_CLOEXEC */);
    assert_eq!((r, w), (3, 4));
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[r, 1 /* F_GETFD */]), 1);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[r, 3 /* F_GETFL */]), 0);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 3]), 1);
    // Wrong direction, seeking, positioned I/O.
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[r, rw, 1]), err(EBADF));
    assert_eq!(call(&e.k, &cpu, &t, READ, &[w, rw, 1]), err(EBADF));
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[r, 0, 1]), err(ESPIPE));
    assert_eq!(call(&e.k, &cpu, &t, PREAD64, &[r, rw, 1, 0]), err(ESPIPE));
    // fsync, ftruncate, getdents64, mmap: not for pipes.
    assert_eq!(call(&e.k, &cpu, &t, FSYNC, &[w]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, FTRUNCATE, &[w, 0]), err(EINVAL));
    assert_eq!(
        call(&e.k, &cpu, &t, MMAP, &[0, 4096, 1, 1, r, 0]),
        err(ENODEV)
    );
    // fstat: a FIFO of pipefs, the same inode on both ends.
    assert_eq!(call(&e.k, &cpu, &t, FSTAT, &[r, rw]), 0);
    let a = peek(&cpu, &t, rw, 128);
    assert_eq!(call(&e.k, &cpu, &t, FSTAT, &[w, rw]), 0);
    let b = peek(&cpu, &t, rw, 128);
    let mode = u32::from_le_bytes(a[16..20].try_into().unwrap());
    assert_eq!(mode, 0o010600, "S_IFIFO | 0600");
    assert_eq!(a[8..16], b[8..16], "same st_ino");
    // /proc/self/fd/N reads pipe:[INO].
    let ino = u64::from_le_bytes(a[8..16].try_into().unwrap());
    let link = t.fs().unwrap().fd_path(w as i32).unwrap();
    assert_eq!(link, format!("pipe:[{ino}]").into_bytes());
    // F_SETFL may not change O_DIRECT on a pipe.
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 4, 0o40000]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 4, 0o4000]), 0);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 3]), 0o4001);
}

#[test]
fn data_eof_and_capacity() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let before = free_pages(&e.k);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0o4000 /* O_NONBLOCK */);
    poke(&cpu, &t, rw, b"hello, pipe");
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 11]), 11);
    // FIONREAD.
    assert_eq!(call(&e.k, &cpu, &t, IOCTL, &[r, 0x541b, rw + 100]), 0);
    assert_eq!(peek(&cpu, &t, rw + 100, 4), 11u32.to_le_bytes());
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw + 200, 5]), 5);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw + 205, 100]), 6);
    assert_eq!(peek(&cpu, &t, rw + 200, 11), b"hello, pipe");
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 1]), err(EAGAIN));
    // A zero-length read or write does nothing.
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 0]), 0);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 0]), 0);
    // 16 pages: 65536 bytes in page-sized writes.
    let mut total = 0;
    loop {
        let n = call(&e.k, &cpu, &t, WRITE, &[w, rw, 4096]);
        if n < 0 {
            assert_eq!(n, err(EAGAIN));
            break;
        }
        total += n;
    }
    assert_eq!(total, 65536);
    assert!(
        before - free_pages(&e.k) >= 16,
        "the data are in pages of the page allocator"
    );
    // A fault in the source before any byte moved: EFAULT; a bad pointer
    // for the destination of a read too (nothing is taken).
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, 16, 10]), err(EFAULT));
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw + RW, 10]), err(EFAULT));
    // readv gathers.
    let iov: Vec<u8> = [rw + 8192, 3, rw + 8200, 5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    poke(&cpu, &t, rw + 4096, &iov);
    assert_eq!(call(&e.k, &cpu, &t, READV, &[r, rw + 4096, 2]), 8);
    // The writer goes: the reader drains the rest, then EOF.
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[w]), 0);
    let mut left = 65536 - 8;
    while left > 0 {
        let n = call(&e.k, &cpu, &t, READ, &[r, rw, RW]);
        assert!(n > 0);
        left -= n;
    }
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 1]), 0, "EOF");
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[r]), 0);
    assert_eq!(free_pages(&e.k), before, "every pipe page came back");
}

#[test]
fn small_writes_share_pages() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0o4000);
    let mut total = 0;
    while call(&e.k, &cpu, &t, WRITE, &[w, rw, 1000]) == 1000 {
        total += 1000;
    }
    assert_eq!(total, 64000, "four 1000-byte writes to a page, as Linux");
    // A single byte still fits in the last page.
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 1]), 1);
    // A write larger than the room left, non-blocking: what fits.
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 8000]), 8000);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), 8192);
    let _ = r;
}

#[test]
fn pipe_size_commands() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task_with(&e.k, &cpu, 8, [1000, 1000, 1000, 1000]);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0o4000);
    const SET: u64 = 1031;
    const GET: u64 = 1032;
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[r, GET]), 65536);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, SET, 100_000]), 131072);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[r, GET]), 131072);
    // Without CAP_SYS_RESOURCE, not past /proc/sys/fs/pipe-max-size.
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, SET, 1 << 20]), 1 << 20);
    assert_eq!(
        call(&e.k, &cpu, &t, FCNTL, &[w, SET, (1 << 20) + 1]),
        err(EPERM)
    );
    assert_eq!(
        call(&e.k, &cpu, &t, FCNTL, &[w, SET, 0x8000_0001]),
        err(EINVAL)
    );
    // The argument is an unsigned int: the upper half is dropped.
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, SET, 1 << 32]), 4096);
    // Shrinking below the data is EBUSY.
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, SET, 16384]), 16384);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 3 * 4096]), 12288);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, SET, 8192]), err(EBUSY));
    // A bigger pipe takes more: room for one more page now.
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 3 * 4096]), 4096);
    // Not a pipe: EBADF.
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[0, GET]), err(EBADF));
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[99, GET]), err(EBADF));
}

#[test]
fn blocking_read_sleeps_until_a_write() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0);
    let (o, orw) = sharer(&e.k, &cpu, &t);
    assert_eq!(sys(&e.k, &cpu, &t, READ, &[r, rw + 100, 10]), Flow::Block);
    assert_eq!(state(&t), TASK_INTERRUPTIBLE);
    // Another task's write wakes the reader.
    poke(&cpu, &o, orw, b"xyz");
    assert_eq!(call(&e.k, &cpu, &o, WRITE, &[w, orw, 3]), 3);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw + 100, 10]), 3);
    assert_eq!(peek(&cpu, &t, rw + 100, 3), b"xyz");
    // A signal ends the sleep: -ERESTARTSYS (the signal code makes it
    // EINTR or a restart).
    assert_eq!(sys(&e.k, &cpu, &t, READ, &[r, rw, 10]), Flow::Block);
    sigcore::send_signal(&t, SigQueued::kernel(sigcore::SIGUSR1), Target::Thread).unwrap();
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 10]), err(ERESTARTSYS));
    lock(&t.sig).pending = 0;
    // The last writer's close wakes the reader with EOF.
    assert_eq!(sys(&e.k, &cpu, &t, READ, &[r, rw, 10]), Flow::Block);
    assert_eq!(call(&e.k, &cpu, &o, CLOSE, &[w]), 0);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 10]), 0);
}

#[test]
fn blocking_write_keeps_its_progress() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0);
    let (o, _) = sharer(&e.k, &cpu, &t);
    // 16 KiB of a known pattern, then the pipe shrunk to 8 KiB.
    let pat: Vec<u8> = (0..RW).map(|i| (i * 7 % 251) as u8).collect();
    poke(&cpu, &t, rw, &pat);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 1031, 8192]), 8192);
    // The write fills the pipe and sleeps, having moved 8192 bytes.
    assert_eq!(sys(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), Flow::Block);
    assert_eq!(lock(&t.restart).as_ref().map(|r| r.done), Some(8192));
    // Room made (here by a bigger pipe) wakes the writer; it goes on
    // after its 8192 bytes.
    assert_eq!(call(&e.k, &cpu, &o, FCNTL, &[w, 1031, 65536]), 65536);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), RW as i64);
    // The reader sees the pattern whole and in order.
    let mut got = Vec::new();
    while got.len() < RW as usize {
        let n = call(&e.k, &cpu, &t, READ, &[r, rw, 4096]);
        assert!(n > 0);
        got.extend(peek(&cpu, &t, rw, n as usize));
    }
    assert_eq!(got, pat);
    // A signal after some bytes: the write returns its partial count.
    poke(&cpu, &t, rw, &pat);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 1031, 4096]), 4096);
    assert_eq!(sys(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), Flow::Block);
    sigcore::send_signal(&t, SigQueued::kernel(sigcore::SIGUSR1), Target::Thread).unwrap();
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), 4096);
    // Before any byte: -ERESTARTSYS.
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 1]), err(ERESTARTSYS));
    lock(&t.sig).pending = 0;
}

#[test]
fn epipe_sends_sigpipe_to_the_writer() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0);
    // SIGPIPE blocked: it stays pending where we can see it.
    let sigpipe = 1u64 << (sigcore::SIGPIPE - 1);
    lock(&t.sig).blocked = sigpipe;
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[r]), 0);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, 10]), err(EPIPE));
    assert_ne!(lock(&t.sig).pending & sigpipe, 0, "SIGPIPE to the thread");
    // A writer asleep on a full pipe is woken by the reader's close.
    lock(&t.sig).pending = 0;
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0);
    let (o, _) = sharer(&e.k, &cpu, &t);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 1031, 4096]), 4096);
    assert_eq!(sys(&e.k, &cpu, &t, WRITE, &[w, rw, 8192]), Flow::Block);
    assert_eq!(call(&e.k, &cpu, &o, CLOSE, &[r]), 0);
    resume(&t);
    assert_eq!(
        call(&e.k, &cpu, &t, WRITE, &[w, rw, 8192]),
        4096,
        "the bytes written before"
    );
    assert_ne!(lock(&t.sig).pending & sigpipe, 0);
}

#[test]
fn dup_and_fork_share_the_ends() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0o4000);
    // dup3's checks.
    assert_eq!(call(&e.k, &cpu, &t, DUP3, &[w, w, 0]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, DUP3, &[w, 9, 1]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, DUP3, &[w, 5000, 0]), err(EBADF));
    assert_eq!(call(&e.k, &cpu, &t, DUP3, &[w, 9, 0o2000000]), 9);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[9, 1]), 1);
    // F_DUPFD_CLOEXEC.
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[w, 1030, 20]), 20);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[20, 1]), 1);
    // A forked copy of the table holds the write end too.
    let child = t.fs().unwrap().fork(std::sync::Arc::new(NoProc)).unwrap();
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[w]), 0);
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[9]), 0);
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[20]), 0);
    assert_eq!(
        call(&e.k, &cpu, &t, READ, &[r, rw, 1]),
        err(EAGAIN),
        "a writer is left"
    );
    assert_eq!(child.write(&cpu, w as i32, b"c").unwrap(), 1);
    drop(child);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 10]), 1);
    assert_eq!(
        call(&e.k, &cpu, &t, READ, &[r, rw, 1]),
        0,
        "EOF: no writer left"
    );
}

struct NoProc;
impl kernel::fs::ProcSource for NoProc {
    fn read(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn readlink(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

#[test]
fn eventfd_counter_and_semaphore() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    assert_eq!(call(&e.k, &cpu, &t, EVENTFD2, &[0, 0x100]), err(EINVAL));
    let fd = call(&e.k, &cpu, &t, EVENTFD2, &[3, 0]) as u64;
    poke(&cpu, &t, rw, &4u64.to_le_bytes());
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[fd, rw, 8]), 8);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[fd, rw + 8, 7]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[fd, rw, 7]), err(EINVAL));
    assert_eq!(call(&e.k, &cpu, &t, READ, &[fd, rw + 8, 8]), 8);
    assert_eq!(peek(&cpu, &t, rw + 8, 8), 7u64.to_le_bytes());
    // Empty: a blocking read sleeps until a write.
    let (o, orw) = sharer(&e.k, &cpu, &t);
    poke(&cpu, &o, orw, &4u64.to_le_bytes());
    assert_eq!(sys(&e.k, &cpu, &t, READ, &[fd, rw + 8, 8]), Flow::Block);
    assert_eq!(state(&t), TASK_INTERRUPTIBLE);
    assert_eq!(call(&e.k, &cpu, &o, WRITE, &[fd, orw, 8]), 8);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[fd, rw + 8, 16]), 8);
    assert_eq!(peek(&cpu, &t, rw + 8, 8), 4u64.to_le_bytes());
    // u64::MAX is not a value; MAX - 1 fills it; then a write sleeps.
    poke(&cpu, &t, rw, &u64::MAX.to_le_bytes());
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[fd, rw, 8]), err(EINVAL));
    poke(&cpu, &t, rw, &(u64::MAX - 1).to_le_bytes());
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[fd, rw, 8]), 8);
    poke(&cpu, &t, rw, &1u64.to_le_bytes());
    assert_eq!(sys(&e.k, &cpu, &t, WRITE, &[fd, rw, 8]), Flow::Block);
    assert_eq!(call(&e.k, &cpu, &o, READ, &[fd, orw + 8, 8]), 8);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[fd, rw, 8]), 8);
    // fstat: the anonymous inode; lseek: `noop_llseek` (0, the position
    // never moves).
    assert_eq!(call(&e.k, &cpu, &t, FSTAT, &[fd, rw + 64]), 0);
    let st = peek(&cpu, &t, rw + 64, 128);
    assert_eq!(u32::from_le_bytes(st[16..20].try_into().unwrap()), 0o600);
    assert_eq!(call(&e.k, &cpu, &t, LSEEK, &[fd, 5, 0]), 0);
    assert_eq!(
        t.fs().unwrap().fd_path(fd as i32).unwrap(),
        b"anon_inode:[eventfd]"
    );
    // Semaphore mode, non-blocking, close-on-exec.
    let sem = call(&e.k, &cpu, &t, EVENTFD2, &[2, 1 | 0o4000 | 0o2000000]) as u64;
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[sem, 1]), 1);
    assert_eq!(call(&e.k, &cpu, &t, FCNTL, &[sem, 3]), 0o4002);
    for _ in 0..2 {
        assert_eq!(call(&e.k, &cpu, &t, READ, &[sem, rw + 8, 8]), 8);
        assert_eq!(peek(&cpu, &t, rw + 8, 8), 1u64.to_le_bytes());
    }
    assert_eq!(call(&e.k, &cpu, &t, READ, &[sem, rw + 8, 8]), err(EAGAIN));
}

/// `struct pollfd` entries.
fn pollfds(v: &[(i32, u16)]) -> Vec<u8> {
    v.iter()
        .flat_map(|&(fd, ev)| {
            let mut b = fd.to_le_bytes().to_vec();
            b.extend(ev.to_le_bytes());
            b.extend([0, 0]);
            b
        })
        .collect()
}

fn revents(cpu: &Cpu<'static>, t: &Task, at: u64, n: usize) -> Vec<u16> {
    let b = peek(cpu, t, at, n * 8);
    b.chunks(8)
        .map(|c| u16::from_le_bytes([c[6], c[7]]))
        .collect()
}

fn timespec(sec: i64, nsec: i64) -> Vec<u8> {
    let mut b = sec.to_le_bytes().to_vec();
    b.extend(nsec.to_le_bytes());
    b
}

#[test]
fn ppoll_readiness_sleep_and_timeout() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0);
    let efd = call(&e.k, &cpu, &t, EVENTFD2, &[0, 0]) as u64;
    let (o, orw) = sharer(&e.k, &cpu, &t);
    let fds = rw + 1024;
    poke(
        &cpu,
        &t,
        fds,
        &pollfds(&[
            (r as i32, 1),
            (w as i32, 4),
            (-1, 1),
            (77, 1),
            (efd as i32, 5),
        ]),
    );
    let zero = rw + 2048;
    poke(&cpu, &t, zero, &timespec(0, 0));
    assert_eq!(call(&e.k, &cpu, &t, PPOLL, &[fds, 5, zero, 0, 8]), 3);
    assert_eq!(revents(&cpu, &t, fds, 5), [0, 4, 0, 0x20, 4]);
    // Nothing ready for reading: the task sleeps on the pipe's queue.
    let tmo = rw + 2100;
    poke(&cpu, &t, tmo, &timespec(5, 0));
    assert_eq!(
        sys(&e.k, &cpu, &t, PPOLL, &[fds, 1, tmo, 0, 8]),
        Flow::Block
    );
    assert_eq!(state(&t), TASK_INTERRUPTIBLE);
    assert_eq!(call(&e.k, &cpu, &o, WRITE, &[w, orw, 1]), 1);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, PPOLL, &[fds, 1, tmo, 0, 8]), 1);
    assert_eq!(revents(&cpu, &t, fds, 1), [1]);
    // The time left was written back, less than the 5 s given.
    let left = peek(&cpu, &t, tmo, 16);
    let sec = i64::from_le_bytes(left[..8].try_into().unwrap());
    assert!((0..5).contains(&sec) || left == timespec(5, 0)[..], "{sec}");
    // An eventfd's queue wakes it too.
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r, rw, 1]), 1);
    poke(&cpu, &t, fds, &pollfds(&[(r as i32, 1), (efd as i32, 1)]));
    assert_eq!(sys(&e.k, &cpu, &t, PPOLL, &[fds, 2, 0, 0, 8]), Flow::Block);
    poke(&cpu, &o, orw, &1u64.to_le_bytes());
    assert_eq!(call(&e.k, &cpu, &o, WRITE, &[efd, orw, 8]), 8);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, PPOLL, &[fds, 2, 0, 0, 8]), 1);
    assert_eq!(revents(&cpu, &t, fds, 2), [0, 1]);
    // A short timeout passes: 0.
    poke(&cpu, &t, fds, &pollfds(&[(r as i32, 1)]));
    poke(&cpu, &t, tmo, &timespec(0, 1_000_000));
    assert_eq!(
        sys(&e.k, &cpu, &t, PPOLL, &[fds, 1, tmo, 0, 8]),
        Flow::Block
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while state(&t) != TASK_RUNNING && std::time::Instant::now() < deadline {
        e.k.rq.run_timers();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, PPOLL, &[fds, 1, tmo, 0, 8]), 0);
    assert_eq!(peek(&cpu, &t, tmo, 16), timespec(0, 0));
    // Errors: a bad timeout, a bad sigset size, too many entries, a bad
    // array.
    poke(&cpu, &t, tmo, &timespec(0, 1_000_000_000));
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[fds, 1, tmo, 0, 8]),
        err(EINVAL)
    );
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[fds, 1, zero, rw, 16]),
        err(EINVAL)
    );
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[fds, 1025, zero, 0, 8]),
        err(EINVAL),
        "nfds above RLIMIT_NOFILE"
    );
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[16, 1, zero, 0, 8]),
        err(EFAULT)
    );
    // A huge nfds is refused before any host allocation.
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[fds, u32::MAX as u64, zero, 0, 8]),
        err(EINVAL)
    );
}

#[test]
fn ppoll_sigmask_and_signals() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, _w) = pipe(&e.k, &cpu, &t, rw, 0);
    let fds = rw + 1024;
    poke(&cpu, &t, fds, &pollfds(&[(r as i32, 1)]));
    let usr1 = 1u64 << (sigcore::SIGUSR1 - 1);
    // SIGUSR1 blocked and pending; the call's mask lets it in: EINTR's
    // -ERESTARTNOHAND at once, even with a zero timeout, and the old mask
    // stays saved for after the handler.
    lock(&t.sig).blocked = usr1;
    sigcore::send_signal(&t, SigQueued::kernel(sigcore::SIGUSR1), Target::Thread).unwrap();
    let mask = rw + 3000;
    poke(&cpu, &t, mask, &0u64.to_le_bytes());
    let zero = rw + 2048;
    poke(&cpu, &t, zero, &timespec(0, 0));
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[fds, 1, zero, mask, 8]),
        err(ERESTARTNOHAND)
    );
    {
        let s = lock(&t.sig);
        assert_eq!(s.blocked, 0);
        assert_eq!(s.saved_mask, Some(usr1));
    }
    // Without a signal the old mask comes back when the call returns.
    {
        let mut s = lock(&t.sig);
        s.pending = 0;
        s.blocked = usr1;
        s.saved_mask = None;
    }
    assert_eq!(call(&e.k, &cpu, &t, PPOLL, &[fds, 1, zero, mask, 8]), 0);
    {
        let s = lock(&t.sig);
        assert_eq!(s.blocked, usr1);
        assert_eq!(s.saved_mask, None);
    }
    // A signal wakes a sleeping ppoll.
    lock(&t.sig).blocked = 0;
    assert_eq!(sys(&e.k, &cpu, &t, PPOLL, &[fds, 1, 0, 0, 8]), Flow::Block);
    sigcore::send_signal(&t, SigQueued::kernel(sigcore::SIGUSR2), Target::Thread).unwrap();
    resume(&t);
    assert_eq!(
        call(&e.k, &cpu, &t, PPOLL, &[fds, 1, 0, 0, 8]),
        err(ERESTARTNOHAND)
    );
}

#[test]
fn pselect6_sets_and_errors() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0);
    let (o, orw) = sharer(&e.k, &cpu, &t);
    let (inp, outp) = (rw + 1024, rw + 1040);
    let set = |fd: u64| (1u64 << fd).to_le_bytes();
    poke(&cpu, &t, inp, &set(r));
    poke(&cpu, &t, outp, &set(w));
    let zero = rw + 2048;
    poke(&cpu, &t, zero, &timespec(0, 0));
    let n = w + 1;
    assert_eq!(
        call(&e.k, &cpu, &t, PSELECT6, &[n, inp, outp, 0, zero, 0]),
        1
    );
    assert_eq!(peek(&cpu, &t, inp, 8), 0u64.to_le_bytes());
    assert_eq!(peek(&cpu, &t, outp, 8), set(w));
    // A closed descriptor in a set: EBADF; a negative n: EINVAL.
    poke(&cpu, &t, inp, &set(30));
    assert_eq!(
        call(&e.k, &cpu, &t, PSELECT6, &[31, inp, 0, 0, zero, 0]),
        err(EBADF)
    );
    assert_eq!(
        call(
            &e.k,
            &cpu,
            &t,
            PSELECT6,
            &[u32::MAX as u64, inp, 0, 0, zero, 0]
        ),
        err(EINVAL)
    );
    // Bits at or past the table's size (64 descriptors) are not looked at.
    poke(&cpu, &t, inp, &[set(r), set(0)].concat());
    poke(&cpu, &t, inp + 8, &1u64.to_le_bytes());
    assert_eq!(
        call(&e.k, &cpu, &t, PSELECT6, &[128, inp, 0, 0, zero, 0]),
        0
    );
    // Sleeping until the pipe has data.
    poke(&cpu, &t, inp, &set(r));
    assert_eq!(
        sys(&e.k, &cpu, &t, PSELECT6, &[n, inp, 0, 0, 0, 0]),
        Flow::Block
    );
    assert_eq!(call(&e.k, &cpu, &o, WRITE, &[w, orw, 1]), 1);
    resume(&t);
    assert_eq!(call(&e.k, &cpu, &t, PSELECT6, &[n, inp, 0, 0, 0, 0]), 1);
    assert_eq!(peek(&cpu, &t, inp, 8), set(r));
    // The sigmask argument: { ss, ss_len } with a wrong length.
    let arg = rw + 3000;
    let mut b = (rw + 3100).to_le_bytes().to_vec();
    b.extend(16u64.to_le_bytes());
    poke(&cpu, &t, arg, &b);
    assert_eq!(
        call(&e.k, &cpu, &t, PSELECT6, &[n, inp, 0, 0, zero, arg]),
        err(EINVAL)
    );
}

#[test]
fn a_pipe_with_unread_data_frees_its_pages() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let before = free_pages(&e.k);
    let (r, w) = pipe(&e.k, &cpu, &t, rw, 0o4000);
    for _ in 0..4 {
        assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), RW as i64);
    }
    assert!(before - free_pages(&e.k) >= 16);
    // Closing both ends frees the data's pages (close has a CPU).
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[r]), 0);
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[w]), 0);
    assert_eq!(free_pages(&e.k), before);
    // Dropping a whole table (as exit does) defers them to the next
    // file call with a CPU.
    let (_r, w) = pipe(&e.k, &cpu, &t, rw, 0o4000);
    assert_eq!(call(&e.k, &cpu, &t, WRITE, &[w, rw, RW]), RW as i64);
    let fs = t.fs().unwrap();
    let pipefs = fs.pipefs().clone();
    lock(&t.files).take();
    drop(fs);
    assert_eq!(pipefs.nr_deferred(), 4);
    pipefs.flush(&cpu);
    assert_eq!(free_pages(&e.k), before);
}

#[test]
fn named_fifos() {
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu);
    let (o, orw) = sharer(&e.k, &cpu, &t);
    let at = (-100i64) as u64; // AT_FDCWD
    let name = rw + 8192;
    poke(&cpu, &t, name, b"/f\0");
    let oname = orw + 8192;
    poke(&cpu, &o, oname, b"/f\0");
    // mknod's types.
    assert_eq!(
        call(&e.k, &cpu, &t, MKNODAT, &[at, name, 0o020644, 0]),
        err(EPERM)
    );
    assert_eq!(
        call(&e.k, &cpu, &t, MKNODAT, &[at, name, 0o040755, 0]),
        err(EPERM)
    );
    assert_eq!(
        call(&e.k, &cpu, &t, MKNODAT, &[at, name, 0o170644, 0]),
        err(EINVAL)
    );
    assert_eq!(call(&e.k, &cpu, &t, MKNODAT, &[at, name, 0o010600, 0]), 0);
    assert_eq!(
        call(&e.k, &cpu, &t, MKNODAT, &[at, name, 0o010600, 0]),
        err(EEXIST)
    );
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(e.root.path().join("f")).unwrap();
    assert!(meta.file_type().is_fifo());
    // A writer without a reader: ENXIO with O_NONBLOCK, else it sleeps.
    const O_WRONLY: u64 = 1;
    const O_NONBLOCK: u64 = 0o4000;
    assert_eq!(
        call(&e.k, &cpu, &t, OPENAT, &[at, name, O_WRONLY | O_NONBLOCK]),
        err(ENXIO)
    );
    assert_eq!(sys(&e.k, &cpu, &t, OPENAT, &[at, name, 0]), Flow::Block);
    assert_eq!(state(&t), TASK_INTERRUPTIBLE);
    // The sleeping reader counts: a non-blocking writer now gets in, and
    // wakes it.
    let w = call(&e.k, &cpu, &o, OPENAT, &[at, oname, O_WRONLY | O_NONBLOCK]);
    assert!(w >= 0, "{w}");
    resume(&t);
    let r = call(&e.k, &cpu, &t, OPENAT, &[at, name, 0]);
    assert!(r >= 0, "{r}");
    poke(&cpu, &o, orw, b"ab");
    assert_eq!(call(&e.k, &cpu, &o, WRITE, &[w as u64, orw, 2]), 2);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r as u64, rw, 10]), 2);
    // fstat is the host file's; /proc/self/fd its name.
    assert_eq!(call(&e.k, &cpu, &t, FSTAT, &[r as u64, rw]), 0);
    let st = peek(&cpu, &t, rw, 128);
    assert_eq!(u64::from_le_bytes(st[8..16].try_into().unwrap()), {
        use std::os::unix::fs::MetadataExt;
        meta.ino()
    });
    assert_eq!(t.fs().unwrap().fd_path(r as i32).unwrap(), b"/f");
    assert_eq!(call(&e.k, &cpu, &o, CLOSE, &[w as u64]), 0);
    assert_eq!(call(&e.k, &cpu, &t, READ, &[r as u64, rw, 10]), 0, "EOF");
    assert_eq!(call(&e.k, &cpu, &t, CLOSE, &[r as u64]), 0);
    // A signal ends a sleeping open, and its end is not counted any more.
    assert_eq!(sys(&e.k, &cpu, &t, OPENAT, &[at, name, 0]), Flow::Block);
    sigcore::send_signal(&t, SigQueued::kernel(sigcore::SIGUSR1), Target::Thread).unwrap();
    resume(&t);
    assert_eq!(
        call(&e.k, &cpu, &t, OPENAT, &[at, name, 0]),
        err(ERESTARTSYS)
    );
    lock(&t.sig).pending = 0;
    assert_eq!(
        call(&e.k, &cpu, &o, OPENAT, &[at, oname, O_WRONLY | O_NONBLOCK]),
        err(ENXIO)
    );
    // O_RDWR never waits.
    let both = call(&e.k, &cpu, &t, OPENAT, &[at, name, 2]);
    assert!(both >= 0);
}
