//! The file syscalls: the entry points of fs/open.c, fs/read_write.c,
//! fs/stat.c, fs/namei.c, fs/ioctl.c, fs/d_path.c (`getcwd`), fs/sync.c,
//! fs/utimes.c and fs/statfs.c.
//! Arguments are copied in and results out here; the file layer
//! ([`crate::fs::Fs`]) does the work with plain values.
//!
//! read/write and their vector and positioned forms check in Linux's
//! order: the descriptor (EBADF, ESPIPE, the mode), then the buffers
//! (`access_ok`; for vectors `import_iovec`: EINVAL for more than
//! [`UIO_MAXIOV`] entries or a negative length, EFAULT for an unreadable
//! array or a range outside user space, the lengths cut so that the total
//! is at most `MAX_RW_COUNT`), then the position. Data move through
//! [`GuestIter`] a chunk of at most [`crate::fs::CHUNK`] bytes at a time
//! (fs/read_write.rs), so no guest length sizes a host buffer. A fault
//! after some bytes moved returns the bytes moved, as Linux's short copies
//! do; a fault before any is `EFAULT`.

use mm::fault::Access;
use mm::mmap::MmStruct;
use mm::page::PAGE_SIZE;
use mm::percpu::Cpu;
use mm::uaccess::{self, access_ok};

use super::{Flow, Sys, SysResult};
use crate::errno::{Errno, EFAULT, EINVAL, ENOTTY, ERANGE};
use crate::fs::attr::UTIME_OMIT;
use crate::fs::flags::{
    AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, F_ADD_SEALS, F_GET_SEALS, MFD_NAME_MAX_LEN,
    O_DIRECT, O_NONBLOCK, SEEK_CUR, SEEK_SET,
};
use crate::fs::pipe::{Io, Waiter, FIONREAD, F_GETPIPE_SZ, F_SETPIPE_SZ};
use crate::fs::{IoFile, TtyAccess, TtyCaller, UserIter};
use crate::sched::Restart;

/// `MAX_RW_COUNT`: the most one read or write moves.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;
/// `UIO_MAXIOV`.
pub const UIO_MAXIOV: u32 = 1024;
/// `TCGETS`.
pub const TCGETS: u64 = 0x5401;
/// `sizeof(struct iovec)`.
const IOVEC_SIZE: usize = 16;

fn fd(v: u64) -> i32 {
    v as i32
}

/// The user ranges (base, length) of one read or write: inline for
/// read(2)/write(2)'s single range, on the heap for a vector (at most
/// `UIO_MAXIOV` ranges).
pub type Segs = smallvec::SmallVec<[(u64, u64); 1]>;

/// The caller's memory as the source or destination of one transfer: its
/// ranges (already checked and cut by [`import_iovec`]), consumed in
/// order (Linux's `ITER_IOVEC` iterator).
pub struct GuestIter<'a> {
    cpu: &'a Cpu<'static>,
    mm: &'a MmStruct<'static>,
    segs: Segs,
    seg: usize,
    off: u64,
}

impl<'a> GuestIter<'a> {
    pub(crate) fn new(s: &'a Sys<'_>, segs: Segs) -> GuestIter<'a> {
        GuestIter {
            cpu: s.cpu,
            mm: s.mm(),
            segs,
            seg: 0,
            off: 0,
        }
    }

    /// Move up to `n` bytes at the current place with `copy(addr, from,
    /// len)`, which returns how many it could not move; advance past the
    /// bytes moved.
    fn step(&mut self, n: usize, mut copy: impl FnMut(u64, usize, usize) -> usize) -> usize {
        let mut done = 0;
        while done < n && self.seg < self.segs.len() {
            let (base, len) = self.segs[self.seg];
            let k = ((len - self.off) as usize).min(n - done);
            let missed = if k == 0 {
                0
            } else {
                copy(base + self.off, done, k)
            };
            done += k - missed;
            self.off += (k - missed) as u64;
            if self.off == len {
                self.seg += 1;
                self.off = 0;
            }
            if missed > 0 {
                break;
            }
        }
        done
    }
}

impl UserIter for GuestIter<'_> {
    fn copy_out(&mut self, data: &[u8]) -> usize {
        let (cpu, mm) = (self.cpu, self.mm);
        self.step(data.len(), |addr, from, k| {
            uaccess::raw_copy_to_user(cpu, mm, addr as usize, &data[from..from + k])
        })
    }

    fn copy_in(&mut self, buf: &mut [u8]) -> usize {
        let (cpu, mm) = (self.cpu, self.mm);
        let n = buf.len();
        self.step(n, |addr, from, k| {
            uaccess::raw_copy_from_user(cpu, mm, &mut buf[from..from + k], addr as usize)
        })
    }

    fn skip(&mut self, n: usize) -> usize {
        self.step(n, |_, _, _| 0)
    }

    fn writable(&mut self, n: usize) -> usize {
        let mut ok = 0;
        let (mut seg, mut off) = (self.seg, self.off);
        while ok < n && seg < self.segs.len() {
            let (base, len) = self.segs[seg];
            let addr = (base + off) as usize;
            // Up to the end of the page, the segment, or the request.
            let k = (PAGE_SIZE - addr % PAGE_SIZE)
                .min((len - off) as usize)
                .min(n - ok);
            if k > 0 {
                if uaccess::user_access(self.cpu, self.mm, addr, k, Access::Write).is_err() {
                    break;
                }
                ok += k;
                off += k as u64;
            }
            if off == len {
                seg += 1;
                off = 0;
            }
        }
        ok
    }
}

/// One user buffer, checked as `vfs_read`/`vfs_write` do (`access_ok`).
fn single_range(buf: u64, count: u64) -> Result<Segs, Errno> {
    if !access_ok(buf as usize, count as usize) {
        return Err(EFAULT);
    }
    Ok(smallvec::smallvec![(buf, count)])
}

/// `import_iovec`: the user's `struct iovec` array of `cnt` entries (an
/// `unsigned int`, as Linux takes it): none for zero, EINVAL above
/// [`UIO_MAXIOV`], EFAULT for an array that cannot be read, EINVAL for a
/// negative length, EFAULT for a range outside user space; lengths are
/// cut so that the total is at most [`MAX_RW_COUNT`]. Returns the ranges
/// and their total.
pub fn import_iovec(s: &Sys<'_>, iov: u64, cnt: u64) -> Result<(Segs, usize), Errno> {
    let nr = cnt as u32;
    if nr == 0 {
        return Ok((Segs::new(), 0));
    }
    if nr > UIO_MAXIOV {
        return Err(EINVAL);
    }
    // At most UIO_MAXIOV * 16 bytes.
    let raw = s.read_user(iov, nr as usize * IOVEC_SIZE)?;
    let word = |c: &[u8], i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&c[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let mut v: Segs = raw
        .chunks_exact(IOVEC_SIZE)
        .map(|c| (word(c, 0), word(c, 8)))
        .collect();
    if v.iter().any(|&(_, len)| (len as i64) < 0) {
        return Err(EINVAL);
    }
    let mut total = 0usize;
    for (base, len) in &mut v {
        if !access_ok(*base as usize, *len as usize) {
            return Err(EFAULT);
        }
        *len = (*len).min((MAX_RW_COUNT - total) as u64);
        total += *len as usize;
    }
    Ok((v, total))
}

/// A syscall's `Result` as its [`Flow`].
fn flow(r: Result<Flow, Errno>) -> Flow {
    r.unwrap_or_else(|e| Flow::Return(-(e as i64)))
}

/// What a pipe or eventfd transfer of syscall `nr` asks of the trap loop:
/// its result, or a sleep with the bytes moved so far kept in
/// `task.restart` (a write goes on after them when it runs again).
fn io_flow(s: &Sys<'_>, nr: u64, io: Io) -> Flow {
    match io {
        Io::Done(n) => Flow::Return(n as i64),
        // Nothing moved yet: nothing to keep (the slot was emptied after
        // the last call, and an empty one reads as 0 bytes done).
        Io::Block(0) => Flow::Block,
        Io::Block(done) => {
            *s.task.restart.lock() = Some(Restart {
                nr,
                done: done as u64,
                ..Default::default()
            });
            Flow::Block
        }
    }
}

/// The bytes a write of syscall `nr` moved before it last slept.
fn restart_done(s: &Sys<'_>, nr: u64) -> usize {
    if !s.task.restart.is_set() {
        return 0;
    }
    s.task
        .restart
        .lock()
        .as_ref()
        .filter(|r| r.nr == nr)
        .map_or(0, |r| r.done as usize)
}

/// A read of `fd` into the user ranges `segs`, of `total` bytes, at `at`
/// (or the file's offset), for syscall `nr`. A pipe or eventfd may sleep.
fn do_read(
    s: &mut Sys<'_>,
    nr: u64,
    file: &IoFile,
    at: Option<u64>,
    segs: Segs,
    total: usize,
) -> Result<Flow, Errno> {
    let mut it = GuestIter::new(s, segs);
    let nonblock = file.flags() & O_NONBLOCK != 0;
    if let Some(p) = file.pipe() {
        let io = p.read(s.cpu, nonblock, &mut it, total, Some(s.task))?;
        return Ok(io_flow(s, nr, io));
    }
    if let Some(e) = file.eventfd() {
        let io = e.read(nonblock, &mut it, total, Some(s.task))?;
        return Ok(io_flow(s, nr, io));
    }
    if let Some(t) = file.timerfd() {
        let io = t.read(nonblock, &mut it, total, Some(s.task))?;
        return Ok(io_flow(s, nr, io));
    }
    // A background job reading its terminal: SIGTTIN (`job_control`).
    job_control(
        s,
        s.fs.tty_check_read(file, tty_caller(s)),
        crate::sigcore::SIGTTIN,
    )?;
    // A host stream (the terminal, a host pipe) with no input yet: sleep
    // and look again after a while rather than block the hart in the
    // host's read.
    if total > 0 && s.fs.host_input_ready(file) == Some(false) {
        if nonblock {
            return Err(crate::errno::EAGAIN);
        }
        crate::sched::set_current_state(s.task, crate::sched::TASK_INTERRUPTIBLE);
        if crate::sigcore::signal_pending(s.task) {
            crate::sched::set_running(s.task);
            return Err(crate::errno::ERESTARTSYS);
        }
        let again = s.k.rq.now() + crate::fs::poll::HOST_POLL_INTERVAL_NS;
        s.k.rq.arm_wake(s.task, again);
        return Ok(Flow::Block);
    }
    let n = s.fs.read_iter(s.cpu, file, at, total, &mut it)?;
    Ok(Flow::Return(n as i64))
}

/// A write of the user ranges `segs` to `fd` (as [`do_read`]); a pipe
/// write that slept goes on after the bytes it moved.
fn do_write(
    s: &mut Sys<'_>,
    nr: u64,
    file: &IoFile,
    at: Option<u64>,
    segs: Segs,
    total: usize,
) -> Result<Flow, Errno> {
    let mut it = GuestIter::new(s, segs);
    let nonblock = file.flags() & O_NONBLOCK != 0;
    if let Some(p) = file.pipe() {
        let done = restart_done(s, nr).min(total);
        it.skip(done);
        let packet = file.flags() & O_DIRECT != 0;
        let waiter = Waiter { task: s.task, done };
        let io = p.write(s.cpu, nonblock, packet, &mut it, total, Some(waiter))?;
        return Ok(io_flow(s, nr, io));
    }
    if let Some(e) = file.eventfd() {
        let io = e.write(nonblock, &mut it, total, Some(s.task))?;
        return Ok(io_flow(s, nr, io));
    }
    let n = s.fs.write_iter(s.cpu, file, at, total, &mut it)?;
    Ok(Flow::Return(n as i64))
}

/// How many descriptors a task's [`FdCache`] holds.
const FD_CACHE: usize = 4;

/// The open files of a task's last reads and writes, by descriptor, kept
/// from call to call (and, in the task, from run to run). Linux's `fdget`
/// takes no reference on the file when the task's descriptor table is its
/// own, since only the task can change it; ferrite keeps the reference it
/// took for the next call instead, which saves the table's lock and the
/// reference count per call. The cache is used only while the table is
/// the task's alone ([`crate::fs::Fs::files_exclusive`]), and the trap loop empties
/// it before any system call that might change the table (every call
/// but those of [`FdCache::keeps`]), so an entry always is what the table
/// holds at that descriptor. Emptying it drops only extra references: a
/// `close` still releases the file when it returns.
#[derive(Default)]
pub struct FdCache {
    /// (descriptor, file); `None` slots are free.
    slots: [Option<(i32, IoFile)>; FD_CACHE],
    /// The slot the next new entry replaces when all are in use.
    next: u8,
    /// Whether any slot is in use.
    any: bool,
}

impl FdCache {
    /// Whether system call `nr` leaves the descriptor table alone (so the
    /// cache stays valid across it).
    #[inline]
    pub fn keeps(nr: u64) -> bool {
        use super::nr::*;
        matches!(
            nr,
            READ | WRITE
                | READV
                | WRITEV
                | PREAD64
                | PWRITE64
                | GETPID
                | GETTID
                | CLOCK_GETTIME
                | GETTIMEOFDAY
                | SCHED_YIELD
        )
    }

    /// Forget every entry.
    #[inline]
    pub fn clear(&mut self) {
        if std::mem::take(&mut self.any) {
            self.slots = Default::default();
        }
    }

    /// Take the entry of `fd` out, if there is one.
    #[inline]
    fn take(&mut self, fd: i32) -> Option<IoFile> {
        if !self.any {
            return None;
        }
        for slot in &mut self.slots {
            if matches!(slot, Some((f, _)) if *f == fd) {
                return slot.take().map(|(_, file)| file);
            }
        }
        None
    }

    /// Keep `file` as the entry of `fd` (which has none).
    #[inline]
    fn put(&mut self, fd: i32, file: IoFile) {
        self.any = true;
        for slot in &mut self.slots {
            if slot.is_none() {
                *slot = Some((fd, file));
                return;
            }
        }
        let i = self.next as usize % FD_CACHE;
        self.next = self.next.wrapping_add(1);
        self.slots[i] = Some((fd, file));
    }
}

/// `fdget` .. `fdput` around `f`: the file at descriptor `fd`, checked
/// for a transfer (`write` or a read; `positioned` for pread/pwrite),
/// from the task's [`FdCache`] when it has it.
#[inline]
fn with_file<'a, R>(
    s: &mut Sys<'a>,
    fd: i32,
    positioned: bool,
    write: bool,
    f: impl FnOnce(&mut Sys<'a>, &IoFile) -> Result<R, Errno>,
) -> Result<R, Errno> {
    // Held by the task and by its run ([`Sys`]), and nobody else.
    let exclusive = crate::fs::Fs::files_exclusive(&s.fs, 2);
    let file = match if exclusive { s.fd_cache.take(fd) } else { None } {
        Some(file) => {
            if let Err(e) = file.check(positioned, write) {
                s.fd_cache.put(fd, file);
                return Err(e);
            }
            file
        }
        None if write => s.fs.fget_write(fd, positioned)?,
        None => s.fs.fget_read(fd, positioned)?,
    };
    let r = f(s, &file);
    if exclusive {
        s.fd_cache.put(fd, file);
    }
    r
}

/// `read(2)`.
pub fn sys_read(s: &mut Sys<'_>, f: u64, buf: u64, count: u64) -> Flow {
    flow(with_file(s, fd(f), false, false, |s, file| {
        let segs = single_range(buf, count)?;
        do_read(s, super::nr::READ, file, None, segs, count as usize)
    }))
}

/// `write(2)`.
pub fn sys_write(s: &mut Sys<'_>, f: u64, buf: u64, count: u64) -> Flow {
    flow(with_file(s, fd(f), false, true, |s, file| {
        let segs = single_range(buf, count)?;
        do_write(s, super::nr::WRITE, file, None, segs, count as usize)
    }))
}

/// The value of a [`Flow::Return`] (positioned calls never sleep).
fn value(f: Result<Flow, Errno>) -> SysResult {
    match f? {
        Flow::Return(v) => Ok(v as u64),
        _ => Err(crate::errno::EIO),
    }
}

/// `pread64(2)`: EINVAL for a negative offset before anything else.
pub fn sys_pread(s: &mut Sys<'_>, f: u64, buf: u64, count: u64, off: u64) -> SysResult {
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    value(with_file(s, fd(f), true, false, |s, file| {
        let segs = single_range(buf, count)?;
        do_read(s, super::nr::PREAD64, file, Some(off), segs, count as usize)
    }))
}

/// `pwrite64(2)`.
pub fn sys_pwrite(s: &mut Sys<'_>, f: u64, buf: u64, count: u64, off: u64) -> SysResult {
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    value(with_file(s, fd(f), true, true, |s, file| {
        let segs = single_range(buf, count)?;
        do_write(
            s,
            super::nr::PWRITE64,
            file,
            Some(off),
            segs,
            count as usize,
        )
    }))
}

/// `readv(2)` and `preadv(2)` (`at`) as syscall `nr`: a zero total
/// reads nothing, even from a directory.
fn readv_at(
    s: &mut Sys<'_>,
    nr: u64,
    f: u64,
    iov: u64,
    cnt: u64,
    at: Option<u64>,
) -> Result<Flow, Errno> {
    with_file(s, fd(f), at.is_some(), false, |s, file| {
        let (segs, total) = import_iovec(s, iov, cnt)?;
        if total == 0 {
            return Ok(Flow::Return(0));
        }
        do_read(s, nr, file, at, segs, total)
    })
}

/// `writev(2)` and `pwritev(2)` (`at`) as syscall `nr`.
fn writev_at(
    s: &mut Sys<'_>,
    nr: u64,
    f: u64,
    iov: u64,
    cnt: u64,
    at: Option<u64>,
) -> Result<Flow, Errno> {
    with_file(s, fd(f), at.is_some(), true, |s, file| {
        let (segs, total) = import_iovec(s, iov, cnt)?;
        if total == 0 {
            return Ok(Flow::Return(0));
        }
        do_write(s, nr, file, at, segs, total)
    })
}

/// `readv(2)`.
pub fn sys_readv(s: &mut Sys<'_>, f: u64, iov: u64, cnt: u64) -> Flow {
    flow(readv_at(s, super::nr::READV, f, iov, cnt, None))
}

/// `writev(2)`: one writev is one write to the file for up to
/// [`crate::fs::CHUNK`] bytes (what a terminal sees as one write).
pub fn sys_writev(s: &mut Sys<'_>, f: u64, iov: u64, cnt: u64) -> Flow {
    flow(writev_at(s, super::nr::WRITEV, f, iov, cnt, None))
}

/// `preadv(2)`: on riscv64 the offset is `pos_l` alone (`pos_h` is
/// shifted out); EINVAL for a negative one before the descriptor.
pub fn sys_preadv(s: &mut Sys<'_>, f: u64, iov: u64, cnt: u64, pos_l: u64) -> SysResult {
    if (pos_l as i64) < 0 {
        return Err(EINVAL);
    }
    value(readv_at(s, super::nr::PREADV, f, iov, cnt, Some(pos_l)))
}

/// `pwritev(2)`.
pub fn sys_pwritev(s: &mut Sys<'_>, f: u64, iov: u64, cnt: u64, pos_l: u64) -> SysResult {
    if (pos_l as i64) < 0 {
        return Err(EINVAL);
    }
    value(writev_at(s, super::nr::PWRITEV, f, iov, cnt, Some(pos_l)))
}

/// `openat(2)`: a FIFO's open may sleep until the other side opens.
pub fn sys_openat(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    flow((|| {
        let path = s.read_path(a[1])?;
        let r = s.fs.openat_as(
            s.cpu,
            fd(a[0]),
            &path,
            a[2] as i32,
            a[3] as u32,
            Some(s.task),
        );
        match r {
            Ok(fd) => Ok(Flow::Return(fd as i64)),
            Err(crate::fs::pipe::FIFO_WAIT) => Ok(Flow::Block),
            Err(e) => Err(e),
        }
    })())
}

/// `mknodat(2)` (`mode` is a `umode_t`; `dev` is unused: no device
/// nodes).
pub fn sys_mknodat(s: &mut Sys<'_>, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.fs.mknodat(fd(dirfd), &p, mode as u16 as u32)?;
    Ok(0)
}

/// `close(2)`. The last descriptor of a pipe end may free the pipe's
/// pages: with the CPU at hand, at once.
pub fn sys_close(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.fs.close(fd(f))?;
    s.fs.flush_delayed_fput(s.cpu);
    Ok(0)
}

/// `pipe2(2)`: the two descriptors stored as `int fd[2]`; if that store
/// faults, neither stays open (EFAULT).
pub fn sys_pipe2(s: &mut Sys<'_>, fds: u64, flags: u64) -> SysResult {
    let cred = s.task.cred();
    let publish = |[r, w]: [i32; 2]| {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&r.to_le_bytes());
        b[4..].copy_from_slice(&w.to_le_bytes());
        s.write_user(fds, &b)
    };
    let r =
        s.fs.pipe2(s.cpu, flags as i32, (cred.fsuid, cred.fsgid), publish);
    s.fs.flush_delayed_fput(s.cpu);
    r.map(|_| 0)
}

/// `eventfd2(2)` (`count` is an `unsigned int`).
pub fn sys_eventfd2(s: &mut Sys<'_>, count: u64, flags: u64) -> SysResult {
    s.fs.eventfd2(count as u32, flags as i32)
        .map(|fd| fd as u64)
}

/// `lseek(2)`.
pub fn sys_lseek(s: &mut Sys<'_>, f: u64, off: u64, whence: u64) -> SysResult {
    s.fs.lseek(fd(f), off as i64, whence as i32)
}

/// `fstat(2)`.
pub fn sys_fstat(s: &mut Sys<'_>, f: u64, statbuf: u64) -> SysResult {
    let st = s.fs.fstat(fd(f))?;
    s.write_user(statbuf, &st.to_bytes())?;
    Ok(0)
}

/// `newfstatat(2)`.
pub fn sys_newfstatat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let path = s.read_path(a[1])?;
    let st = s.fs.fstatat(fd(a[0]), &path, a[3] as i32)?;
    s.write_user(a[2], &st.to_bytes())?;
    Ok(0)
}

/// `readlinkat(2)`.
pub fn sys_readlinkat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    // `bufsiz` is an `int`.
    let (buf, size) = (a[2], a[3] as i32);
    if size <= 0 {
        return Err(EINVAL);
    }
    let path = s.read_path(a[1])?;
    let target = s.fs.readlinkat(fd(a[0]), &path)?;
    let n = target.len().min(size as usize);
    s.write_user(buf, &target[..n])?;
    Ok(n as u64)
}

/// The caller as the terminal sees it.
fn tty_caller(s: &Sys<'_>) -> TtyCaller {
    use std::sync::atomic::Ordering::Relaxed;
    TtyCaller {
        pgrp: s.task.signal.pgrp.load(Relaxed),
        session: s.task.signal.session.load(Relaxed),
    }
}

/// The end of `tty_check_change` for a background caller: its group gets
/// `sig` (SIGTTOU, SIGTTIN) and the call restarts after it (-ERESTARTSYS);
/// if the caller ignores or blocks the signal, it goes on (SIGTTOU) or
/// fails with EIO (SIGTTIN); an orphaned group gets EIO.
fn job_control(s: &Sys<'_>, access: TtyAccess, sig: i32) -> Result<(), Errno> {
    if access == TtyAccess::Ok {
        return Ok(());
    }
    let ignored = s.task.blocked() & (1u64 << (sig - 1)) != 0
        || crate::sigcore::action_of(s.task, sig).handler == crate::sigcore::SIG_IGN;
    if ignored {
        return if sig == crate::sigcore::SIGTTIN {
            Err(crate::errno::EIO)
        } else {
            Ok(())
        };
    }
    // An orphaned group would never be continued: EIO, no signal.
    if crate::exit::is_current_pgrp_orphaned(s.k, s.task) {
        return Err(crate::errno::EIO);
    }
    let pgrp = tty_caller(s).pgrp;
    let _ = crate::sigcore::kill(s.k, s.task, -pgrp, sig);
    Err(crate::errno::ERESTARTSYS)
}

/// `TIOCSPGRP`'s checks of the new group: EINVAL if negative, ESRCH if
/// no live process is in it, EPERM if it is in another session.
fn check_pgrp(s: &Sys<'_>, pgrp: i32) -> Result<(), Errno> {
    use std::sync::atomic::Ordering::Relaxed;
    if pgrp < 0 {
        return Err(EINVAL);
    }
    let procs = s.k.tasks.processes();
    let member = procs.iter().find(|p| {
        p.exit_state.load(Relaxed) == crate::task::EXIT_ALIVE && p.signal.pgrp.load(Relaxed) == pgrp
    });
    match member {
        None => Err(crate::errno::ESRCH),
        Some(p) if p.signal.session.load(Relaxed) != tty_caller(s).session => {
            Err(crate::errno::EPERM)
        }
        Some(_) => Ok(()),
    }
}

/// The terminal ioctls (tty.rs); None for other requests.
fn tty_ioctl(s: &Sys<'_>, fd: i32, cmd: u64, arg: u64) -> Option<SysResult> {
    use crate::fs::tty::*;
    let c = tty_caller(s);
    let r = (|| match cmd {
        TIOCGPGRP => {
            let pg = s.fs.tty_getpgrp(fd, c)?;
            s.write_user(arg, &pg.to_le_bytes())?;
            Ok(0)
        }
        TIOCSPGRP => {
            s.fs.ioctl_tcgets(fd)?;
            job_control(s, s.fs.tty_check_change(fd, c), crate::sigcore::SIGTTOU)?;
            s.fs.tty_getpgrp(fd, c)?;
            let b = s.read_array::<4>(arg)?;
            let pg = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            check_pgrp(s, pg)?;
            s.fs.tty_setpgrp(fd, c, pg)?;
            Ok(0)
        }
        TIOCGWINSZ => {
            let ws = s.fs.tty_get_winsize(fd)?;
            s.write_user(arg, &ws)?;
            Ok(0)
        }
        TIOCSWINSZ => {
            s.fs.ioctl_tcgets(fd)?;
            let b = s.read_user(arg, WINSIZE_SIZE)?;
            let mut ws = [0u8; WINSIZE_SIZE];
            ws.copy_from_slice(&b);
            s.fs.tty_set_winsize(fd, ws)?;
            Ok(0)
        }
        TCSETS | TCSETSW | TCSETSF => {
            s.fs.ioctl_tcgets(fd)?;
            job_control(s, s.fs.tty_check_change(fd, c), crate::sigcore::SIGTTOU)?;
            let b = s.read_user(arg, crate::fs::TERMIOS_SIZE)?;
            let mut t = [0u8; crate::fs::TERMIOS_SIZE];
            t.copy_from_slice(&b);
            s.fs.tty_tcsets(fd, cmd, &t)?;
            Ok(0)
        }
        _ => Err(ENOTTY),
    })();
    match r {
        Err(ENOTTY)
            if !matches!(
                cmd,
                TIOCGPGRP | TIOCSPGRP | TIOCGWINSZ | TIOCSWINSZ | TCSETS | TCSETSW | TCSETSF
            ) =>
        {
            None
        }
        r => Some(r),
    }
}

/// `ioctl(2)`: on a terminal `TCGETS`, `TCSETS`/`TCSETSW`/`TCSETSF`,
/// `TIOCGWINSZ`/`TIOCSWINSZ`, `TIOCGPGRP`/`TIOCSPGRP` (fs/tty.rs, with
/// job control); `FIONREAD` on a pipe; every other request is `ENOTTY`
/// (after the descriptor is checked), as for a file without an ioctl.
pub fn sys_ioctl(s: &mut Sys<'_>, f: u64, cmd: u64, arg: u64) -> SysResult {
    if let Some(r) = tty_ioctl(s, fd(f), cmd & 0xffff_ffff, arg) {
        return r;
    }
    if cmd & 0xffff_ffff == FIONREAD {
        if let Ok(p) = s.fs.pipe_of(fd(f)) {
            let n = p.nr_bytes().min(i32::MAX as usize) as i32;
            s.write_user(arg, &n.to_le_bytes())?;
            return Ok(0);
        }
    }
    if cmd & 0xffff_ffff == TCGETS {
        let t = s.fs.ioctl_tcgets(fd(f))?;
        s.write_user(arg, &t)?;
        return Ok(0);
    }
    s.fs.fstat(fd(f))?;
    Err(ENOTTY)
}

/// `getcwd(2)`: the length written, NUL included.
pub fn sys_getcwd(s: &mut Sys<'_>, buf: u64, size: u64) -> SysResult {
    let mut cwd = s.fs.getcwd()?;
    cwd.push(0);
    if cwd.len() as u64 > size {
        return Err(ERANGE);
    }
    s.write_user(buf, &cwd)?;
    Ok(cwd.len() as u64)
}

/// `chdir(2)`.
pub fn sys_chdir(s: &mut Sys<'_>, path: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.fs.chdir(&p)?;
    Ok(0)
}

/// `faccessat(2)` and `faccessat2(2)`.
pub fn sys_faccessat(s: &mut Sys<'_>, dirfd: u64, path: u64, mode: u64, flags: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.fs.faccessat(fd(dirfd), &p, mode as i32, flags as i32)?;
    Ok(0)
}

/// `unlinkat(2)`.
pub fn sys_unlinkat(s: &mut Sys<'_>, dirfd: u64, path: u64, flags: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.fs.unlinkat(fd(dirfd), &p, flags as i32)?;
    Ok(0)
}

/// `mkdirat(2)`.
pub fn sys_mkdirat(s: &mut Sys<'_>, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.fs.mkdirat(fd(dirfd), &p, mode as u32)?;
    Ok(0)
}

/// `ftruncate(2)`.
pub fn sys_ftruncate(s: &mut Sys<'_>, f: u64, len: u64) -> SysResult {
    if (len as i64) < 0 {
        return Err(EINVAL);
    }
    s.fs.ftruncate(s.cpu, fd(f), len as i64)?;
    Ok(0)
}

/// `fallocate(2)`.
pub fn sys_fallocate(s: &mut Sys<'_>, f: u64, mode: u64, offset: u64, len: u64) -> SysResult {
    s.fs.fallocate(s.cpu, fd(f), mode as u32, offset as i64, len as i64)?;
    Ok(0)
}

/// `timerfd_create(2)` (the alarm clocks need `CAP_WAKE_ALARM`: root).
pub fn sys_timerfd_create(s: &mut Sys<'_>, clock: u64, flags: u64) -> SysResult {
    let root = s.task.cred().euid == 0;
    s.fs.timerfd_create(&s.k.rq, clock as i32, flags as i32, root)
        .map(|fd| fd as u64)
}

/// `timerfd_settime(2)`: the new setting is read (EFAULT) and checked
/// (EINVAL) before the descriptor, as Linux does.
pub fn sys_timerfd_settime(s: &mut Sys<'_>, f: u64, flags: u64, new: u64, old: u64) -> SysResult {
    use crate::fs::timerfd::{TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET};
    use crate::posix_timers::{itimerspec, itimerspec_ns};
    let b = s.read_array::<32>(new)?;
    let flags = flags as i32;
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(EINVAL);
    }
    let (interval, value) = itimerspec_ns(&b)?;
    let t = s.fs.timerfd_of(fd(f))?;
    let (left, every) = t.settime(flags, value, interval);
    if old != 0 {
        s.write_user(old, &itimerspec(every, left))?;
    }
    Ok(0)
}

/// `timerfd_gettime(2)`.
pub fn sys_timerfd_gettime(s: &mut Sys<'_>, f: u64, cur: u64) -> SysResult {
    let (left, every) = s.fs.timerfd_of(fd(f))?.gettime();
    s.write_user(cur, &crate::posix_timers::itimerspec(every, left))?;
    Ok(0)
}

/// `epoll_create1(2)`.
pub fn sys_epoll_create1(s: &mut Sys<'_>, flags: u64) -> SysResult {
    s.fs.epoll_create1(flags as i32).map(|fd| fd as u64)
}

/// `epoll_ctl(2)`: the `struct epoll_event` (events, 4 bytes of padding,
/// data) is read first unless the op is EPOLL_CTL_DEL.
pub fn sys_epoll_ctl(s: &mut Sys<'_>, epfd: u64, op: u64, f: u64, event: u64) -> SysResult {
    let op = op as i32;
    let ev = if op == crate::fs::eventpoll::EPOLL_CTL_DEL {
        Ok((0, 0))
    } else {
        s.read_array::<16>(event).map(|b| {
            let mut d = [0u8; 8];
            d.copy_from_slice(&b[8..]);
            (
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                u64::from_le_bytes(d),
            )
        })
    };
    s.fs.epoll_ctl(fd(epfd), op, fd(f), ev)?;
    Ok(0)
}

/// `fsync(2)` and `fdatasync(2)`.
pub fn sys_fsync(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.fs.fsync(s.cpu, fd(f))?;
    Ok(0)
}

/// `dup(2)`.
pub fn sys_dup(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.fs.dup(fd(f)).map(|n| n as u64)
}

/// `dup3(2)` (the descriptor it replaces is closed, as `close`).
pub fn sys_dup3(s: &mut Sys<'_>, old: u64, new: u64, flags: u64) -> SysResult {
    let r = s.fs.dup3(fd(old), fd(new), flags as i32).map(|n| n as u64);
    s.fs.flush_delayed_fput(s.cpu);
    r
}

/// `fcntl(2)` (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL,
/// F_SETFL, F_ADD_SEALS/F_GET_SEALS on memfds and tmpfs files,
/// F_GETPIPE_SZ/F_SETPIPE_SZ on pipes).
pub fn sys_fcntl(s: &mut Sys<'_>, f: u64, cmd: u64, arg: u64) -> Flow {
    use crate::fs::locks::*;
    let cmd = cmd as i32;
    if matches!(
        cmd,
        F_GETLK | F_SETLK | F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW
    ) {
        return flow(fcntl_lock(s, fd(f), cmd, arg));
    }
    flow(fcntl(s, f, cmd, arg).map(|v| Flow::Return(v as i64)))
}

/// The record-lock commands of `fcntl(2)` (fs/locks.c): the `struct
/// flock` at `arg` is read, and written back for `F_GETLK`.
fn fcntl_lock(s: &mut Sys<'_>, fd: i32, cmd: i32, arg: u64) -> Result<Flow, Errno> {
    use crate::fs::locks::*;
    let mut l = Flock(s.read_array::<32>(arg)?);
    let r = s.fs.fcntl_lock(s.task, fd, cmd, &mut l);
    if matches!(cmd, F_SETLKW | F_OFD_SETLKW) && !matches!(r, Ok(Locked::Block)) {
        s.fs.forget_lock_waiter(s.task.pid());
    }
    match r? {
        Locked::Block => Ok(Flow::Block),
        Locked::Done => {
            if matches!(cmd, F_GETLK | F_OFD_GETLK) {
                s.write_user(arg, &l.0)?;
            }
            Ok(Flow::Return(0))
        }
    }
}

/// `flock(2)`.
pub fn sys_flock(s: &mut Sys<'_>, f: u64, cmd: u64) -> Flow {
    flow(match s.fs.flock(s.task, fd(f), cmd as u32) {
        Ok(crate::fs::locks::Locked::Block) => Ok(Flow::Block),
        Ok(crate::fs::locks::Locked::Done) => Ok(Flow::Return(0)),
        Err(e) => Err(e),
    })
}

/// The other `fcntl(2)` commands.
fn fcntl(s: &mut Sys<'_>, f: u64, cmd: i32, arg: u64) -> SysResult {
    if cmd == F_GETPIPE_SZ || cmd == F_SETPIPE_SZ {
        // CAP_SYS_RESOURCE: ferrite's credentials have no capability
        // sets yet; root has them all.
        let capable = s.task.cred().euid == 0;
        return s.fs.fcntl_pipe(fd(f), cmd, arg, capable);
    }
    if cmd == F_ADD_SEALS || cmd == F_GET_SEALS {
        // The seals are an `unsigned int`.
        return s
            .fs
            .fcntl_seals(s.cpu, fd(f), cmd, arg & 0xffff_ffff)
            .map(|v| v as u64);
    }
    s.fs.fcntl(fd(f), cmd, arg).map(|v| v as u64)
}

/// `memfd_create(2)`: the name is at most `MFD_NAME_MAX_LEN` bytes
/// (EINVAL past it, EFAULT for a bad pointer).
pub fn sys_memfd_create(s: &mut Sys<'_>, name: u64, flags: u64) -> SysResult {
    let name = match s.read_cstr(name, MFD_NAME_MAX_LEN) {
        Err(crate::errno::ENAMETOOLONG) => return Err(EINVAL),
        r => r?,
    };
    s.fs.memfd_create(&name, flags as u32).map(|fd| fd as u64)
}

/// `getdents64(2)`: `count` is an `unsigned int` that Linux keeps in an
/// `int`, so a count of 2 GiB or more fits no record (EINVAL, or 0 at the
/// end). The records are at most `count` bytes and at most the listing
/// the host gave. When the copy faults after whole records, those count
/// and the offset goes back to the first record not copied, as Linux's
/// `filldir64` leaves it.
pub fn sys_getdents64(s: &mut Sys<'_>, f: u64, dirp: u64, count: u64) -> SysResult {
    let count = count as u32;
    let count = if count > i32::MAX as u32 {
        0
    } else {
        count as usize
    };
    let before = s.fs.lseek(fd(f), 0, SEEK_CUR).ok();
    let data = s.fs.getdents64(fd(f), count)?;
    if data.is_empty() {
        return Ok(0);
    }
    let missed = uaccess::raw_copy_to_user(s.cpu, s.mm(), dirp as usize, &data);
    if missed == 0 {
        return Ok(data.len() as u64);
    }
    // Whole records copied, and the offset (`d_off`) after the last one.
    let copied = data.len() - missed;
    let (mut end, mut next_off) = (0usize, None);
    while end + 19 <= data.len() {
        let reclen = u16::from_le_bytes([data[end + 16], data[end + 17]]) as usize;
        if reclen == 0 || end + reclen > copied {
            break;
        }
        let mut o = [0u8; 8];
        o.copy_from_slice(&data[end + 8..end + 16]);
        next_off = Some(i64::from_le_bytes(o));
        end += reclen;
    }
    if let Some(off) = next_off.or(before.map(|b| b as i64)) {
        s.fs.lseek(fd(f), off, SEEK_SET)?;
    }
    if end == 0 {
        return Err(EFAULT);
    }
    Ok(end as u64)
}

/// `symlinkat(2)`.
pub fn sys_symlinkat(s: &mut Sys<'_>, target: u64, newdirfd: u64, linkpath: u64) -> SysResult {
    let t = s.read_path(target)?;
    let l = s.read_path(linkpath)?;
    s.fs.symlinkat(&t, fd(newdirfd), &l)?;
    Ok(0)
}

/// `renameat2(2)` (and `renameat(2)`, flags 0).
pub fn sys_renameat2(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let old = s.read_path(a[1])?;
    let new = s.read_path(a[3])?;
    s.fs.renameat2(fd(a[0]), &old, fd(a[2]), &new, a[4] as u32)?;
    Ok(0)
}

/// `linkat(2)`.
pub fn sys_linkat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let old = s.read_path(a[1])?;
    let new = s.read_path(a[3])?;
    s.fs.linkat(fd(a[0]), &old, fd(a[2]), &new, a[4] as i32)?;
    Ok(0)
}

/// `umask(2)`: the old mask.
pub fn sys_umask(s: &mut Sys<'_>, mask: u64) -> SysResult {
    Ok(s.fs.umask(mask as u32 & 0o777) as u64)
}

/// `fchdir(2)`.
pub fn sys_fchdir(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.fs.fchdir(fd(f))?;
    Ok(0)
}

/// `sync(2)`: write every dirty page-cache page back to its host file.
pub fn sys_sync(s: &mut Sys<'_>) -> SysResult {
    // sync(2) cannot fail; a host write error is the file's own business.
    let _ = s.fs.hostfs().sync(s.cpu);
    Ok(0)
}

/// `fchmod(2)` (`mode` is a `umode_t`).
pub fn sys_fchmod(s: &mut Sys<'_>, f: u64, mode: u64) -> SysResult {
    s.fs.fchmod(fd(f), mode as u16 as u32)?;
    Ok(0)
}

/// `fchmodat(2)` (`flags` 0) and `fchmodat2(2)`: the flags are checked
/// before the path is read (`do_fchmodat`).
pub fn sys_fchmodat(s: &mut Sys<'_>, dirfd: u64, path: u64, mode: u64, flags: u64) -> SysResult {
    let flags = flags as i32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let p = s.read_path(path)?;
    s.fs.fchmodat(fd(dirfd), &p, mode as u16 as u32, flags)?;
    Ok(0)
}

/// `fchown(2)`.
pub fn sys_fchown(s: &mut Sys<'_>, f: u64, uid: u64, gid: u64) -> SysResult {
    s.fs.fchown(fd(f), uid as u32, gid as u32)?;
    Ok(0)
}

/// `fchownat(2)`: the flags are checked before the path is read
/// (`do_fchownat`).
pub fn sys_fchownat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let flags = a[4] as i32;
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let p = s.read_path(a[1])?;
    s.fs.fchownat(fd(a[0]), &p, a[2] as u32, a[3] as u32, flags)?;
    Ok(0)
}

/// `utimensat(2)` (fs/utimes.c): the two timespecs are read first
/// (EFAULT), both `UTIME_OMIT` returns 0 without looking at anything
/// else, a NULL path with a descriptor other than `AT_FDCWD` is
/// `futimens`, and the path form checks its flags before reading the
/// path (a NULL path with `AT_FDCWD` is EFAULT).
pub fn sys_utimensat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let (dirfd, path, utimes, flags) = (fd(a[0]), a[1], a[2], a[3] as i32);
    let times = if utimes != 0 {
        let b = s.read_array::<32>(utimes)?;
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i * 8..i * 8 + 8]);
            i64::from_le_bytes(w)
        };
        let t = [(word(0), word(1)), (word(2), word(3))];
        if t[0].1 == UTIME_OMIT && t[1].1 == UTIME_OMIT {
            return Ok(0);
        }
        Some(t)
    } else {
        None
    };
    if path == 0 && dirfd != AT_FDCWD {
        s.fs.utimensat(dirfd, None, times, flags)?;
        return Ok(0);
    }
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(EINVAL);
    }
    let p = s.read_path(path)?;
    s.fs.utimensat(dirfd, Some(&p), times, flags)?;
    Ok(0)
}

/// `statfs(2)`.
pub fn sys_statfs(s: &mut Sys<'_>, path: u64, buf: u64) -> SysResult {
    let p = s.read_path(path)?;
    let st = s.fs.statfs(&p)?;
    s.write_user(buf, &st.to_bytes())?;
    Ok(0)
}

/// `fstatfs(2)`.
pub fn sys_fstatfs(s: &mut Sys<'_>, f: u64, buf: u64) -> SysResult {
    let st = s.fs.fstatfs(fd(f))?;
    s.write_user(buf, &st.to_bytes())?;
    Ok(0)
}
