//! Pipes: Linux's fs/pipe.c (`pipe2`, `pipe_read`, `pipe_write`,
//! `pipe_poll`, `pipe_release`, `pipe_fcntl`'s F_GETPIPE_SZ and
//! F_SETPIPE_SZ), with the pipe's data in pages of ferrite's RAM.
//!
//! A pipe ([`Pipe`], Linux's `pipe_inode_info`) is a ring of at most
//! `max_usage` buffers (16 by default: 64 KiB), each a page from the page
//! allocator with an offset and a length. A write first tops up the last
//! buffer with the part of its length that is not a whole number of pages
//! (if the buffer was made by an ordinary write and that part fits), then
//! fills fresh pages, one buffer each; so a write of at most `PIPE_BUF`
//! (a page) bytes lands whole or not at all, and writes of several
//! processes never interleave below that size. A read takes bytes from
//! the oldest buffers and frees each page it empties (keeping one as the
//! pipe's `tmp_page` for the next write). In packet mode (`O_DIRECT`,
//! Linux's `PIPE_BUF_FLAG_PACKET`) each write of up to a page is one
//! packet and a read returns at most one packet, dropping what did not
//! fit.
//!
//! The two ends are open file descriptions ([`PipeEnd`], one for reading
//! and one for writing); `fork` and `dup` share them, and the pipe counts
//! its readers and writers by description: dropping the last descriptor
//! of an end (close, exit, exec's close-on-exec) drops the end, which
//! wakes the other side (EOF for readers, EPIPE for writers).
//!
//! Sleeping is ferrite's: a reader of an empty pipe (or a writer of a full
//! one) queues itself on `rd_wait` (`wr_wait`) in TASK_INTERRUPTIBLE under
//! the pipe's lock and returns [`Io::Block`]; the waker changes the ring
//! under that lock and wakes the queue after it. A write that moved some
//! bytes before it had to sleep returns how many in `Io::Block`; the
//! syscall layer keeps that count in `task.restart` and the call, run
//! again, goes on after them (and returns them if a signal comes, as
//! Linux's `pipe_write` returns its partial count).
//!
//! Where ferrite differs: freeing a page needs a CPU, so the pages of a
//! pipe whose last end goes where no CPU is at hand (a descriptor table
//! dropped at exit) go on the [`PipeFs`] list (one per hostfs) and are
//! freed by the next pipe call or `close`, or by
//! [`super::HostFs::flush_delayed_fput`], which exit calls. Waiters are woken all at
//! once (Linux wakes one exclusive waiter at a time); the per-user pipe
//! page limits (`pipe-user-pages-soft/hard`) are not kept;
//! `O_NOTIFICATION_PIPE` is EINVAL (a kernel without watch queues);
//! reopening a pipe through `/proc/PID/fd/N` is not supported.
//!
//! Named FIFOs (Linux's `fifo_open`): `mknod(S_IFIFO)` makes a FIFO in
//! the host directory (its name, owner and mode live there), but the host
//! FIFO is never opened: opening it opens the ferrite pipe of its host
//! device and inode ([`PipeFs`] keeps them while any end is open or
//! opening). A reader waits for a writer and a writer for a reader
//! (sleeping as above, the partner's open wakes it), except with
//! `O_NONBLOCK` (a reader goes on; a writer without readers is ENXIO) and
//! `O_RDWR`. The data go when the last end closes. Where ferrite differs:
//! a FIFO reader opened with `O_NONBLOCK` sees POLLHUP before any writer
//! came (Linux waits for the first writer); host processes cannot meet
//! guest ones in a FIFO.

use std::collections::{HashMap, VecDeque};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use mm::filemap::{FMODE_READ, FMODE_WRITE};
use mm::{Cpu, Gfp, PAGE_SIZE};

use crate::errno::*;
use crate::sched::wait::{prepare_to_wait_interruptible, wait_interruptible, WaitQueue};
use crate::sigcore::{self, SigQueued, Target};
use crate::task::TaskRef;

use super::fdtable::{lock, Fd, Kind, OpenFile};
use super::flags::*;
use super::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use super::read_write::UserIter;
use super::stat::Stat;
use super::Fs;

/// `PIPE_BUF`: writes of at most this many bytes are atomic.
pub const PIPE_BUF: usize = 4096;
/// `PIPE_DEF_BUFFERS`: the buffers of a new pipe (64 KiB).
pub const PIPE_DEF_BUFFERS: usize = 16;
/// `/proc/sys/fs/pipe-max-size`: the most an unprivileged F_SETPIPE_SZ
/// may ask for.
pub const PIPE_MAX_SIZE: u64 = 1 << 20;
/// `PIPEFS_MAGIC` (fstatfs).
pub const PIPEFS_MAGIC: i64 = 0x5049_5045;
/// The device of pipefs's anonymous superblock (0:12).
pub const PIPEFS_DEV: u64 = 12;
/// `F_SETPIPE_SZ`.
pub const F_SETPIPE_SZ: i32 = 1031;
/// `F_GETPIPE_SZ`.
pub const F_GETPIPE_SZ: i32 = 1032;
/// `FIONREAD`: bytes waiting in a pipe.
pub const FIONREAD: u64 = 0x541b;

/// A buffer made by an ordinary write: later small writes may add to it.
const CAN_MERGE: u8 = 1;
/// A packet (`O_DIRECT`): read whole or cut, never merged.
const PACKET: u8 = 2;

/// What a read or write of a pipe (or an eventfd) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    /// Finished: the bytes moved.
    Done(usize),
    /// The caller is queued and sleeping (its state set): return
    /// `Flow::Block`, keeping the bytes moved so far in `task.restart`.
    Block(usize),
}

/// The sleeper of a blocking read or write, and for a write the bytes it
/// moved before it last slept.
#[derive(Clone, Copy)]
pub struct Waiter<'a> {
    /// The calling task (`current`).
    pub task: &'a TaskRef,
    /// Bytes a write already moved (0 for a new call).
    pub done: usize,
}

/// pipefs, shared by the processes of one kernel: inode numbers, the
/// pages of pipes released without a CPU, and the pipes of named FIFOs.
#[derive(Default)]
pub struct PipeFs {
    next_ino: AtomicU64,
    freed: Mutex<Vec<usize>>,
    /// Whether `freed` may hold pages (checked without the lock).
    pending: AtomicBool,
    /// The pipe of each FIFO (host device and inode) with an end open.
    fifos: Mutex<HashMap<(u64, u64), Weak<Pipe>>>,
    /// FIFO opens asleep waiting for their partner, by thread id.
    opening: Mutex<HashMap<i32, FifoWait>>,
}

/// A FIFO open waiting for the other side (`wait_for_partner`): its end
/// is counted already.
struct FifoWait {
    key: (u64, u64),
    pipe: Arc<Pipe>,
    fmode: u32,
    /// The partner's open counter when the wait began.
    seen: u64,
}

/// An internal result of `Fs::fifo_open`: the caller is queued and
/// asleep; the syscall layer returns `Flow::Block` (never seen by user
/// space).
pub const FIFO_WAIT: Errno = 0x4649_464f;

impl PipeFs {
    /// A fresh pipefs.
    pub fn new() -> Arc<PipeFs> {
        Arc::new(PipeFs {
            // Linux's `get_next_ino` numbers start low; any will do.
            next_ino: AtomicU64::new(4096),
            ..PipeFs::default()
        })
    }

    /// `get_next_ino()`.
    pub(crate) fn next_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn defer_free(&self, pages: impl IntoIterator<Item = usize>) {
        let mut l = lock(&self.freed);
        let before = l.len();
        l.extend(pages);
        if l.len() > before {
            self.pending.store(true, Ordering::Release);
        }
    }

    /// Free the pages of released pipes.
    pub fn flush(&self, cpu: &Cpu<'_>) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        self.pending.store(false, Ordering::Relaxed);
        let pages = std::mem::take(&mut *lock(&self.freed));
        for p in pages {
            free_page(cpu, p);
        }
    }

    /// Pages waiting to be freed (for tests).
    pub fn nr_deferred(&self) -> usize {
        lock(&self.freed).len()
    }
}

/// Give a pipe page back to the page allocator.
fn free_page(cpu: &Cpu<'_>, page: usize) {
    if let Some(p) = NonNull::new(page as *mut u8) {
        // A refused free was reported by mm ("Bad page state"); nothing
        // more to do here.
        let _ = cpu.free_page(p);
    }
}

/// The bytes of a pipe page.
///
/// # Safety
///
/// `page` is a page the pipe allocated and still owns, and the caller
/// holds the pipe's lock (nothing else touches the page meanwhile).
unsafe fn page_bytes<'a>(page: usize) -> &'a mut [u8] {
    // SAFETY: as the caller promises: a whole page of ferrite's RAM,
    // owned by the pipe and used by one thread at a time.
    unsafe { std::slice::from_raw_parts_mut(page as *mut u8, PAGE_SIZE) }
}

/// `struct pipe_buffer`.
struct PipeBuffer {
    /// The page's kernel address.
    page: usize,
    offset: usize,
    len: usize,
    flags: u8,
}

/// A time as `struct timespec`.
type Time = (i64, u64);

/// The pipe's state under its lock (`pipe->mutex`).
struct PipeState {
    /// From the oldest (`tail`) to the newest (`head - 1`).
    bufs: VecDeque<PipeBuffer>,
    /// `max_usage`: buffers the ring may hold.
    max_usage: usize,
    readers: u32,
    writers: u32,
    /// Opens of each side so far (`r_counter`, `w_counter`).
    r_counter: u64,
    w_counter: u64,
    /// A page kept for the next write.
    tmp_page: Option<usize>,
    /// The inode's permission bits, owner and times.
    mode: u32,
    uid: u32,
    gid: u32,
    atime: Time,
    mtime: Time,
    ctime: Time,
}

impl PipeState {
    fn full(&self) -> bool {
        self.bufs.len() >= self.max_usage
    }

    fn bytes(&self) -> usize {
        self.bufs.iter().map(|b| b.len).sum()
    }
}

/// A pipe (`struct pipe_inode_info` with its pipefs inode).
pub struct Pipe {
    state: Mutex<PipeState>,
    /// Readers wait here for data (`rd_wait`).
    pub(crate) rd_wait: Arc<WaitQueue>,
    /// Writers wait here for room (`wr_wait`).
    pub(crate) wr_wait: Arc<WaitQueue>,
    /// The pipefs inode number.
    pub(crate) ino: u64,
    fs: Arc<PipeFs>,
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // `free_pipe_info`: no CPU here (see the module docs).
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        let pages: Vec<usize> = st
            .bufs
            .drain(..)
            .map(|b| b.page)
            .chain(st.tmp_page.take())
            .collect();
        self.fs.defer_free(pages);
    }
}

/// One end of a pipe: what an open file description of it holds.
pub struct PipeEnd {
    pub(crate) pipe: Arc<Pipe>,
    /// `FMODE_READ` for the read end, `FMODE_WRITE` for the write end
    /// (both for a FIFO opened `O_RDWR`).
    fmode: u32,
    /// A named FIFO's host file (an `O_PATH` handle): its name, owner,
    /// mode and times.
    pub(crate) fifo: Option<Arc<std::fs::File>>,
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        // `pipe_release`.
        {
            let mut st = lock(&self.pipe.state);
            if self.fmode & FMODE_READ != 0 {
                st.readers -= 1;
            }
            if self.fmode & FMODE_WRITE != 0 {
                st.writers -= 1;
            }
        }
        self.pipe.rd_wait.wake_up_all();
        self.pipe.wr_wait.wake_up_all();
    }
}

/// `round_pipe_size`: at least a page, a power of two; 0 past 2 GiB.
fn round_pipe_size(size: u32) -> u64 {
    let size = u64::from(size);
    if size > 1 << 31 {
        return 0;
    }
    if size < PAGE_SIZE as u64 {
        return PAGE_SIZE as u64;
    }
    size.next_power_of_two()
}

impl Pipe {
    /// A new pipe with `ends` readers and as many writers
    /// (`get_pipe_inode`: 1, a FIFO's: 0).
    fn new(fs: &Arc<PipeFs>, uid: u32, gid: u32, ends: u32) -> Arc<Pipe> {
        let now = super::shmem::now();
        Arc::new(Pipe {
            state: Mutex::new(PipeState {
                bufs: VecDeque::new(),
                max_usage: PIPE_DEF_BUFFERS,
                readers: ends,
                writers: ends,
                r_counter: u64::from(ends),
                w_counter: u64::from(ends),
                tmp_page: None,
                mode: 0o600,
                uid,
                gid,
                atime: now,
                mtime: now,
                ctime: now,
            }),
            rd_wait: WaitQueue::new(),
            wr_wait: WaitQueue::new(),
            ino: fs.next_ino(),
            fs: fs.clone(),
        })
    }

    /// `pipe_read`: up to `total` bytes into `to`. Without a waiter (a
    /// read from inside the kernel) or with `nonblock`, an empty pipe
    /// with writers is EAGAIN.
    pub fn read(
        &self,
        cpu: &Cpu<'_>,
        nonblock: bool,
        to: &mut dyn UserIter,
        total: usize,
        waiter: Option<&TaskRef>,
    ) -> Result<Io, Errno> {
        self.fs.flush(cpu);
        if total == 0 {
            return Ok(Io::Done(0));
        }
        let mut total = total;
        let mut st = lock(&self.state);
        let was_full = st.full();
        let mut ret = 0usize;
        let mut fault = false;
        loop {
            if let Some(buf) = st.bufs.front_mut() {
                let chars = buf.len.min(total);
                // SAFETY: the page is the buffer's, and the lock is held.
                let page = unsafe { page_bytes(buf.page) };
                let written = to.copy_out(&page[buf.offset..buf.offset + chars]);
                if written < chars {
                    fault = true;
                    break;
                }
                ret += chars;
                buf.offset += chars;
                buf.len -= chars;
                if buf.flags & PACKET != 0 {
                    // The rest of the packet is dropped.
                    total = chars;
                    buf.len = 0;
                }
                if buf.len == 0 {
                    let page = buf.page;
                    st.bufs.pop_front();
                    if st.tmp_page.is_none() {
                        st.tmp_page = Some(page);
                    } else {
                        free_page(cpu, page);
                    }
                }
                total -= chars;
                if total == 0 {
                    break;
                }
                if !st.bufs.is_empty() {
                    continue;
                }
            }
            if st.writers == 0 || ret > 0 {
                break;
            }
            let Some(task) = waiter.filter(|_| !nonblock) else {
                return Err(EAGAIN);
            };
            wait_interruptible(&self.rd_wait, task)?;
            return Ok(Io::Block(0));
        }
        if ret == 0 && fault {
            return Err(EFAULT);
        }
        if ret > 0 {
            st.atime = super::shmem::now();
        }
        drop(st);
        if was_full && ret > 0 {
            self.wr_wait.wake_up_all();
        }
        Ok(Io::Done(ret))
    }

    /// `pipe_write`: `total` bytes from `from` (of which `waiter.done`
    /// went before the caller last slept: `from` is past them). EPIPE and
    /// SIGPIPE to the writing thread when no reader is left; EAGAIN when
    /// full with `nonblock` (or without a waiter) before any byte moved.
    pub fn write(
        &self,
        cpu: &Cpu<'_>,
        nonblock: bool,
        packet: bool,
        from: &mut dyn UserIter,
        total: usize,
        waiter: Option<Waiter<'_>>,
    ) -> Result<Io, Errno> {
        self.fs.flush(cpu);
        if total == 0 {
            return Ok(Io::Done(0));
        }
        let done0 = waiter.map_or(0, |w| w.done).min(total);
        let remaining = total - done0;
        let mut ret = 0usize;
        let mut st = lock(&self.state);
        let sigpipe = || {
            if let Some(w) = waiter {
                let info = SigQueued::user(
                    sigcore::SIGPIPE,
                    sigcore::SI_USER,
                    w.task.tgid,
                    w.task.cred().uid,
                );
                sigcore::send_sig_info(w.task, info, Target::Thread);
            }
        };
        // The part that is not whole pages goes into the last buffer if
        // it fits there (only at the start of the call, as Linux).
        let chars = remaining & (PAGE_SIZE - 1);
        if done0 == 0 && st.readers > 0 && chars != 0 {
            if let Some(last) = st.bufs.back_mut() {
                let off = last.offset + last.len;
                if last.flags & CAN_MERGE != 0 && off + chars <= PAGE_SIZE {
                    // SAFETY: the buffer's page, under the lock.
                    let page = unsafe { page_bytes(last.page) };
                    if from.copy_in(&mut page[off..off + chars]) < chars {
                        return Err(EFAULT);
                    }
                    last.len += chars;
                    ret = chars;
                }
            }
        }
        let mut result = None;
        while ret < remaining {
            if st.readers == 0 {
                sigpipe();
                if done0 + ret == 0 {
                    result = Some(Err(EPIPE));
                }
                break;
            }
            if !st.full() {
                let page = match st.tmp_page.take() {
                    Some(p) => p,
                    None => match cpu.alloc_page(Gfp::GFP_KERNEL) {
                        Some(p) => cpu.mem().page_address(p).as_ptr() as usize,
                        None => {
                            if done0 + ret == 0 {
                                result = Some(Err(ENOMEM));
                            }
                            break;
                        }
                    },
                };
                let want = (remaining - ret).min(PAGE_SIZE);
                // SAFETY: a page the pipe owns (fresh or its tmp_page),
                // under the lock.
                let bytes = unsafe { page_bytes(page) };
                let copied = from.copy_in(&mut bytes[..want]);
                if copied < want {
                    // Linux drops a page it could not fill.
                    st.tmp_page = Some(page);
                    if done0 + ret == 0 {
                        result = Some(Err(EFAULT));
                    }
                    break;
                }
                st.bufs.push_back(PipeBuffer {
                    page,
                    offset: 0,
                    len: copied,
                    flags: if packet { PACKET } else { CAN_MERGE },
                });
                ret += copied;
                continue;
            }
            // Full: wait for a reader to make room.
            let Some(w) = waiter.filter(|_| !nonblock) else {
                if done0 + ret == 0 {
                    result = Some(Err(EAGAIN));
                }
                break;
            };
            if sigcore::signal_pending(w.task) {
                if done0 + ret == 0 {
                    result = Some(Err(ERESTARTSYS));
                }
                break;
            }
            prepare_to_wait_interruptible(&self.wr_wait, w.task);
            if ret > 0 {
                let now = super::shmem::now();
                st.mtime = now;
                st.ctime = now;
            }
            drop(st);
            if ret > 0 {
                self.rd_wait.wake_up_all();
            }
            return Ok(Io::Block(done0 + ret));
        }
        if ret > 0 {
            let now = super::shmem::now();
            st.mtime = now;
            st.ctime = now;
        }
        drop(st);
        if ret > 0 {
            self.rd_wait.wake_up_all();
        }
        result.unwrap_or(Ok(Io::Done(done0 + ret)))
    }

    /// `pipe_poll` for an end opened with `fmode`.
    pub(crate) fn poll(&self, fmode: u32) -> u32 {
        let st = lock(&self.state);
        let mut mask = 0;
        if fmode & FMODE_READ != 0 {
            if !st.bufs.is_empty() {
                mask |= POLLIN | POLLRDNORM;
            }
            if st.writers == 0 {
                mask |= POLLHUP;
            }
        }
        if fmode & FMODE_WRITE != 0 {
            if !st.full() {
                mask |= POLLOUT | POLLWRNORM;
            }
            if st.readers == 0 {
                mask |= POLLERR;
            }
        }
        mask
    }

    /// `FIONREAD`: the bytes waiting.
    pub(crate) fn nr_bytes(&self) -> usize {
        lock(&self.state).bytes()
    }

    /// `F_GETPIPE_SZ`.
    pub(crate) fn size(&self) -> u64 {
        (lock(&self.state).max_usage * PAGE_SIZE) as u64
    }

    /// `F_SETPIPE_SZ` (`pipe_set_size`): the size rounded up to a power of
    /// two pages; EINVAL past 2 GiB; EPERM to grow past
    /// `/proc/sys/fs/pipe-max-size` without CAP_SYS_RESOURCE (`capable`);
    /// EBUSY if the data in the pipe need more buffers.
    pub(crate) fn set_size(&self, arg: u32, capable: bool) -> Result<u64, Errno> {
        let size = round_pipe_size(arg);
        let nr_slots = (size / PAGE_SIZE as u64) as usize;
        if nr_slots == 0 {
            return Err(EINVAL);
        }
        let mut st = lock(&self.state);
        if nr_slots > st.max_usage && size > PIPE_MAX_SIZE && !capable {
            return Err(EPERM);
        }
        if nr_slots < st.bufs.len() {
            return Err(EBUSY);
        }
        st.max_usage = nr_slots;
        drop(st);
        self.wr_wait.wake_up_all();
        Ok(size)
    }

    /// `fstat` of an end: a FIFO of pipefs.
    pub(crate) fn stat(&self) -> Stat {
        let st = lock(&self.state);
        Stat {
            dev: PIPEFS_DEV,
            ino: self.ino,
            mode: S_IFIFO | st.mode,
            nlink: 1,
            uid: st.uid,
            gid: st.gid,
            rdev: 0,
            size: 0,
            blksize: PAGE_SIZE as i32,
            blocks: 0,
            atime: st.atime.0,
            atime_nsec: st.atime.1,
            mtime: st.mtime.0,
            mtime_nsec: st.mtime.1,
            ctime: st.ctime.0,
            ctime_nsec: st.ctime.1,
        }
    }

    /// `fchmod` of an end: the inode's permission bits.
    pub(crate) fn chmod(&self, mode: u32) {
        let mut st = lock(&self.state);
        st.mode = mode & 0o7777;
        st.ctime = super::shmem::now();
    }

    /// `fchown` of an end (`-1`, None, leaves an id): EPERM to give the
    /// pipe away or to a group that is not the caller's, unless root
    /// (the host's ids are the caller's, see hostfs.rs).
    pub(crate) fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        // SAFETY: geteuid/getegid have no preconditions and cannot fail.
        let (me, my_gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let mut st = lock(&self.state);
        let other_uid = uid.is_some_and(|u| u != st.uid);
        let other_gid = gid.is_some_and(|g| g != st.gid && g != my_gid);
        if me != 0 && (other_uid || other_gid) {
            return Err(EPERM);
        }
        if let Some(u) = uid {
            st.uid = u;
        }
        if let Some(g) = gid {
            st.gid = g;
        }
        st.ctime = super::shmem::now();
        Ok(())
    }

    /// `utimensat` of an end: (access, modification) as given, None for
    /// now (`UTIME_NOW`/`UTIME_OMIT` per field).
    pub(crate) fn utimes(&self, times: Option<[(i64, i64); 2]>) {
        use super::attr::{UTIME_NOW, UTIME_OMIT};
        let now = super::shmem::now();
        let mut st = lock(&self.state);
        let pick = |(s, n): (i64, i64), old: Time| match n {
            UTIME_NOW => now,
            UTIME_OMIT => old,
            n => (s, n as u64),
        };
        match times {
            None => {
                st.atime = now;
                st.mtime = now;
            }
            Some([a, m]) => {
                st.atime = pick(a, st.atime);
                st.mtime = pick(m, st.mtime);
            }
        }
        st.ctime = now;
    }

    /// Readers and writers (for tests).
    pub fn ends(&self) -> (u32, u32) {
        let st = lock(&self.state);
        (st.readers, st.writers)
    }
}

impl Fs {
    /// `pipe2(2)` (`flags`: `O_CLOEXEC`, `O_NONBLOCK`, `O_DIRECT`): a new
    /// pipe owned by `uid`/`gid`, its read end and write end installed at
    /// the two lowest free descriptors. `publish` hands the two numbers to
    /// the caller (the copy to user space) while the table is locked: if
    /// it fails, the descriptors go again before anyone could see them,
    /// and its error is returned. EINVAL for other flags, EMFILE when the
    /// table is full (nothing installed then).
    pub fn pipe2(
        &self,
        cpu: &Cpu<'_>,
        flags: i32,
        owner: (u32, u32),
        publish: impl FnOnce([i32; 2]) -> Result<(), Errno>,
    ) -> Result<[i32; 2], Errno> {
        if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
            return Err(EINVAL);
        }
        self.pipefs.flush(cpu);
        let pipe = Pipe::new(&self.pipefs, owner.0, owner.1, 1);
        let reader = OpenFile::new(
            Kind::Pipe(PipeEnd {
                pipe: pipe.clone(),
                fmode: FMODE_READ,
                fifo: None,
            }),
            FMODE_READ,
            O_RDONLY | (flags & O_NONBLOCK),
        );
        let writer = OpenFile::new(
            Kind::Pipe(PipeEnd {
                pipe,
                fmode: FMODE_WRITE,
                fifo: None,
            }),
            FMODE_WRITE,
            O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)),
        );
        let cloexec = flags & O_CLOEXEC != 0;
        let mut t = lock(&self.table);
        let r = t.install(
            0,
            Fd {
                file: reader,
                cloexec,
            },
        )?;
        let undo = |t: &mut super::fdtable::FdTable, fds: &[i32]| {
            for &fd in fds {
                let _ = t.remove(fd);
            }
        };
        let w = match t.install(
            0,
            Fd {
                file: writer,
                cloexec,
            },
        ) {
            Ok(w) => w,
            Err(e) => {
                undo(&mut t, &[r]);
                return Err(e);
            }
        };
        if let Err(e) = publish([r, w]) {
            undo(&mut t, &[r, w]);
            return Err(e);
        }
        Ok([r, w])
    }

    /// `fifo_open`: open the FIFO whose host file is `handle` (device and
    /// inode `key`) for `fmode` with status flags `kept`. A reader without
    /// a writer (or a writer without a reader) sleeps until one opens,
    /// unless `O_NONBLOCK` (a reader goes on, a writer is ENXIO) or there
    /// is no `waiter` (a kernel open: as `O_NONBLOCK`). Asleep, it returns
    /// [`FIFO_WAIT`]; run again it finds its counted end, and with a
    /// signal pending it gives the end up (-ERESTARTSYS).
    pub(crate) fn fifo_open(
        &self,
        handle: Arc<std::fs::File>,
        key: (u64, u64),
        fmode: u32,
        kept: i32,
        waiter: Option<&TaskRef>,
    ) -> Result<Arc<OpenFile>, Errno> {
        if fmode == 0 {
            return Err(EINVAL);
        }
        let nonblock = kept & O_NONBLOCK != 0 || waiter.is_none();
        let end = |pipe: Arc<Pipe>| {
            OpenFile::new(
                Kind::Pipe(PipeEnd {
                    pipe,
                    fmode,
                    fifo: Some(handle.clone()),
                }),
                fmode,
                kept,
            )
        };
        // A call run again after its sleep.
        let resumed = waiter.and_then(|t| lock(&self.pipefs.opening).remove(&t.pid()));
        if let Some(w) = resumed {
            if w.key == key && w.fmode == fmode {
                let task = waiter.expect("resumed with a waiter");
                return self.fifo_wait(w, task, end);
            }
            // Another open than the one that slept: give that end up.
            drop(PipeEnd {
                pipe: w.pipe,
                fmode: w.fmode,
                fifo: None,
            });
        }
        let pipe = {
            let mut fifos = lock(&self.pipefs.fifos);
            match fifos.get(&key).and_then(Weak::upgrade) {
                Some(p) => p,
                None => {
                    let (uid, gid) = (0, 0);
                    let p = Pipe::new(&self.pipefs, uid, gid, 0);
                    fifos.retain(|_, w| w.strong_count() > 0);
                    fifos.insert(key, Arc::downgrade(&p));
                    p
                }
            }
        };
        let mut st = lock(&pipe.state);
        let seen;
        let must_wait = match fmode {
            FMODE_READ => {
                st.r_counter += 1;
                st.readers += 1;
                seen = st.w_counter;
                st.writers == 0 && !nonblock
            }
            FMODE_WRITE => {
                if nonblock && st.readers == 0 {
                    return Err(ENXIO);
                }
                st.w_counter += 1;
                st.writers += 1;
                seen = st.r_counter;
                st.readers == 0
            }
            _ => {
                st.r_counter += 1;
                st.w_counter += 1;
                st.readers += 1;
                st.writers += 1;
                seen = 0;
                false
            }
        };
        drop(st);
        // `wake_up_partner`.
        pipe.rd_wait.wake_up_all();
        pipe.wr_wait.wake_up_all();
        if !must_wait {
            return Ok(end(pipe));
        }
        let w = FifoWait {
            key,
            pipe,
            fmode,
            seen,
        };
        self.fifo_wait(w, waiter.expect("a blocking open has a waiter"), end)
    }

    /// `wait_for_partner`: the open is done once the other side's
    /// counter moved; a signal gives the end up.
    fn fifo_wait(
        &self,
        w: FifoWait,
        task: &TaskRef,
        end: impl Fn(Arc<Pipe>) -> Arc<OpenFile>,
    ) -> Result<Arc<OpenFile>, Errno> {
        let st = lock(&w.pipe.state);
        let now = if w.fmode == FMODE_READ {
            st.w_counter
        } else {
            st.r_counter
        };
        if now != w.seen {
            drop(st);
            return Ok(end(w.pipe));
        }
        prepare_to_wait_interruptible(&w.pipe.rd_wait, task);
        drop(st);
        if sigcore::signal_pending(task) {
            crate::sched::set_running(task);
            drop(PipeEnd {
                pipe: w.pipe,
                fmode: w.fmode,
                fifo: None,
            });
            return Err(ERESTARTSYS);
        }
        lock(&self.pipefs.opening).insert(task.pid(), w);
        Err(FIFO_WAIT)
    }

    /// The pipe behind `fd` for `fcntl`'s pipe commands (`get_pipe_info`):
    /// EBADF for anything else.
    pub(crate) fn pipe_of(&self, fd: i32) -> Result<Arc<Pipe>, Errno> {
        let f = self.file(fd)?;
        match &f.kind {
            Kind::Pipe(end) => Ok(end.pipe.clone()),
            _ => Err(EBADF),
        }
    }

    /// `fcntl(F_GETPIPE_SZ / F_SETPIPE_SZ)`: EBADF if `fd` is not a pipe;
    /// `capable` is CAP_SYS_RESOURCE.
    pub fn fcntl_pipe(&self, fd: i32, cmd: i32, arg: u64, capable: bool) -> Result<u64, Errno> {
        let pipe = self.pipe_of(fd)?;
        match cmd {
            F_GETPIPE_SZ => Ok(pipe.size()),
            F_SETPIPE_SZ => pipe.set_size(arg as u32, capable),
            _ => Err(EINVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipe_sizes_round_as_linux() {
        assert_eq!(round_pipe_size(0), 4096);
        assert_eq!(round_pipe_size(1), 4096);
        assert_eq!(round_pipe_size(4097), 8192);
        assert_eq!(round_pipe_size(65536), 65536);
        assert_eq!(round_pipe_size(1 << 31), 1 << 31);
        assert_eq!(round_pipe_size((1 << 31) + 1), 0);
    }
}
