//! Waiting for descriptors: Linux's fs/select.c (`ppoll`, `pselect6`,
//! `do_poll`, `do_select`, `poll_select_finish`) and each file's poll
//! method (`vfs_poll`: `pipe_poll`, `eventfd_poll`, the terminal's, and
//! `DEFAULT_POLLMASK` for files without one).
//!
//! A call scans its descriptors once; if none is ready and it may wait,
//! it queues the task on the wait queue of every polled pipe or eventfd
//! (TASK_INTERRUPTIBLE), scans again (a change between the scans has
//! woken it already), and sleeps with its deadline on the kernel's timer
//! queue. Woken, it runs again from the start (see `crate::sched::wait`)
//! with the deadline kept in `task.restart`. Ready descriptors win over a
//! pending signal, a pending signal over the timeout (-ERESTARTNOHAND,
//! which becomes EINTR with a handler and a restart without one), as in
//! Linux's `do_poll`. The signal mask argument is installed for the call
//! and the old one kept in `saved_mask` as `rt_sigsuspend` does: it comes
//! back at once unless the call returns -ERESTARTNOHAND, and then after
//! the handler. The time left is written back to the timeout (Linux's
//! behaviour, which `ppoll`'s and `pselect6`'s callers may rely on).
//!
//! Where ferrite differs: the host's streams (the standard streams and
//! host FIFOs or devices under the root) have no wait queue in ferrite:
//! their readiness is the host's `poll(2)` with a zero timeout, and a
//! task that waits on one is woken every [`HOST_POLL_INTERVAL_NS`] to
//! look again. A blocking read of a host stream waits the same way (see
//! [`Fs::host_input_ready`] and syscall/file.rs), so a shell waiting for
//! its terminal does not hold a hart. `select`'s limit (`max_fds`) is computed from the highest
//! descriptor the table ever held (fdtable.rs), not from a real table
//! size. The pollfd array is copied in whole (at most `RLIMIT_NOFILE`
//! entries, 8 bytes each) rather than a page at a time.

use std::os::fd::AsRawFd;
use std::sync::Arc;

use crate::errno::*;
use crate::sched::wait::{self, WaitQueue};
use crate::sched::{self, Restart, TASK_INTERRUPTIBLE};
use crate::sigcore;
use crate::syscall::{nr, Flow, Sys};
use crate::task::{lock as tlock, RLIMIT_NOFILE};

use super::dev::{CharDev, DevNode};
use super::fdtable::{lock, Kind, OpenFile};
use super::Fs;

/// `POLLIN`.
pub const POLLIN: u32 = 0x1;
/// `POLLPRI`.
pub const POLLPRI: u32 = 0x2;
/// `POLLOUT`.
pub const POLLOUT: u32 = 0x4;
/// `POLLERR`.
pub const POLLERR: u32 = 0x8;
/// `POLLHUP`.
pub const POLLHUP: u32 = 0x10;
/// `POLLNVAL`.
pub const POLLNVAL: u32 = 0x20;
/// `POLLRDNORM`.
pub const POLLRDNORM: u32 = 0x40;
/// `POLLRDBAND`.
pub const POLLRDBAND: u32 = 0x80;
/// `POLLWRNORM`.
pub const POLLWRNORM: u32 = 0x100;
/// `POLLWRBAND`.
pub const POLLWRBAND: u32 = 0x200;
/// `DEFAULT_POLLMASK`: what a file without a poll method is.
pub const DEFAULT_POLLMASK: u32 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
/// `POLLIN_SET`, `POLLOUT_SET`, `POLLEX_SET` of select.
const POLLIN_SET: u32 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET: u32 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET: u32 = POLLPRI;

/// How often a task waiting on a host stream looks at it again.
pub const HOST_POLL_INTERVAL_NS: u64 = 10_000_000;
/// `sizeof(struct pollfd)`.
const POLLFD_SIZE: usize = 8;
/// Entries copied per `read_user` (16 KiB).
const POLLFD_CHUNK: usize = crate::syscall::MAX_USER_COPY / POLLFD_SIZE;

/// What polling one descriptor found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Polled {
    /// No such descriptor (POLLNVAL; EBADF for select).
    Bad,
    /// An `O_PATH` descriptor: `fdget` does not see it (POLLNVAL for
    /// poll, never ready for select).
    Path,
    /// The file's mask.
    Mask(u32),
}

/// The wait queues and host streams of one scan.
#[derive(Default)]
pub struct PollTable {
    /// Whether to collect the queues (the scan before a sleep).
    pub wait: bool,
    /// The queues of the polled files.
    pub queues: Vec<Arc<WaitQueue>>,
    /// A host stream was polled: no queue will wake the sleeper.
    pub host: bool,
    /// The earliest time a polled file changes by itself (a timerfd's
    /// next expiry): the sleeper is woken then to look again.
    pub wake_at: Option<u64>,
    /// The queues' addresses, once there are many (an epoll set may
    /// watch thousands of files: the check stays O(1)).
    pub(crate) seen: std::collections::HashSet<usize>,
}

/// How many queues a table compares one by one before it indexes them.
const POLL_TABLE_LINEAR: usize = 16;

impl PollTable {
    /// A polled file changes by itself at `at`.
    pub(crate) fn wake_at(&mut self, at: Option<u64>) {
        if let Some(t) = at {
            self.wake_at = Some(self.wake_at.map_or(t, |w| w.min(t)));
        }
    }

    pub(crate) fn add(&mut self, q: &Arc<WaitQueue>) {
        if !self.wait {
            return;
        }
        if self.queues.len() < POLL_TABLE_LINEAR {
            if self.queues.iter().any(|x| Arc::ptr_eq(x, q)) {
                return;
            }
        } else {
            if self.seen.is_empty() {
                let known = self.queues.iter().map(|x| Arc::as_ptr(x) as usize);
                self.seen.extend(known);
            }
            if !self.seen.insert(Arc::as_ptr(q) as usize) {
                return;
            }
        }
        self.queues.push(q.clone());
    }
}

/// The host's readiness of `fd` for `events` (its `poll(2)`, not
/// waiting). The POLL* bits are the same on the Linux hosts ferrite runs
/// on.
fn host_poll(fd: &impl AsRawFd, events: u32) -> u32 {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: events as i16,
        revents: 0,
    };
    // SAFETY: one valid pollfd, for a descriptor the caller holds open;
    // a zero timeout never blocks.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    if r < 0 {
        return POLLERR;
    }
    u32::from(p.revents as u16)
}

/// What the host's poll is asked for a stream.
const HOST_EVENTS: u32 = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM;

impl OpenFile {
    /// `vfs_poll`: the file's readiness, its wait queues into `pt`.
    pub(crate) fn poll(&self, fs: &Fs, pt: &mut PollTable) -> u32 {
        match &self.kind {
            Kind::Pipe(end) => {
                use mm::filemap::{FMODE_READ, FMODE_WRITE};
                if self.fmode & FMODE_READ != 0 {
                    pt.add(&end.pipe.rd_wait);
                }
                if self.fmode & FMODE_WRITE != 0 {
                    pt.add(&end.pipe.wr_wait);
                }
                end.pipe.poll(self.fmode)
            }
            Kind::EventFd(e) => {
                pt.add(&e.wq);
                e.poll()
            }
            Kind::Epoll(ep) => ep.poll(fs, pt, 0),
            Kind::TimerFd(t) => {
                pt.add(&t.wq);
                let (mask, next) = t.poll();
                pt.wake_at(next);
                mask
            }
            Kind::Stdio { file } => {
                pt.host = true;
                host_poll(&**file, HOST_EVENTS)
            }
            Kind::Host {
                file,
                regular: false,
                ..
            } => {
                pt.host = true;
                host_poll(file, HOST_EVENTS)
            }
            // The terminal: input from the host's standard input, output
            // to its standard output.
            Kind::Dev(DevNode::Chr(CharDev::Tty)) => {
                pt.host = true;
                let inp = host_poll(&*fs.host.stdio[0], POLLIN | POLLRDNORM | POLLPRI);
                let out = host_poll(&*fs.host.stdio[1], POLLOUT | POLLWRNORM);
                (inp & (POLLIN | POLLRDNORM | POLLPRI | POLLHUP | POLLERR))
                    | (out & (POLLOUT | POLLWRNORM | POLLERR))
            }
            // `random_poll` once the generator is ready.
            Kind::Dev(DevNode::Chr(CharDev::Random)) => POLLIN | POLLRDNORM,
            // Regular files, directories, procfs, the other devices and
            // tmpfs: no poll method.
            Kind::Host { .. }
            | Kind::Dir { .. }
            | Kind::Proc { .. }
            | Kind::HostPath { .. }
            | Kind::Dev(_) => DEFAULT_POLLMASK,
        }
    }
}

impl Fs {
    /// Poll descriptor `fd` (`fdget` + `vfs_poll`).
    pub fn poll_fd(&self, fd: i32, pt: &mut PollTable) -> Polled {
        let Ok(f) = self.file(fd) else {
            return Polled::Bad;
        };
        if f.is_path() {
            return Polled::Path;
        }
        Polled::Mask(f.poll(self, pt))
    }

    /// For a read of a host stream (a standard stream, a host FIFO or
    /// device, `/dev/tty`): whether the host has input for it now (or
    /// end of file, or an error: the read then returns at once). None for
    /// the other files, which ferrite reads without waiting on the host.
    pub fn host_input_ready(&self, file: &super::IoFile) -> Option<bool> {
        const READY: u32 = POLLIN | POLLRDNORM | POLLPRI | POLLHUP | POLLERR | POLLNVAL;
        let m = match &file.open_file().kind {
            Kind::Stdio { file } => host_poll(&**file, POLLIN | POLLRDNORM | POLLPRI),
            Kind::Host {
                file,
                regular: false,
                ..
            } => host_poll(file, POLLIN | POLLRDNORM | POLLPRI),
            Kind::Dev(DevNode::Chr(CharDev::Tty)) => {
                host_poll(&*self.host.stdio[0], POLLIN | POLLRDNORM | POLLPRI)
            }
            _ => return None,
        };
        Some(m & READY != 0)
    }

    /// Whether descriptor `fd` is open (`O_PATH` ones too).
    pub fn fd_open(&self, fd: i32) -> bool {
        lock(&self.table).get(fd).is_ok()
    }

    /// `select`'s `max_fds` (see `FdTable::max_fds`).
    pub fn max_fds(&self) -> usize {
        lock(&self.table).max_fds()
    }
}

/// A poll timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timeout {
    /// No timeout argument: wait as long as it takes.
    Infinite,
    /// A zero timeout: look once.
    Zero,
    /// Wait until this time of the run queue's clock.
    At(u64),
}

/// The call's timeout: the deadline it kept across its sleep, or the
/// user's `struct timespec` (EFAULT, EINVAL as
/// `poll_select_set_timeout`).
fn timeout(s: &Sys<'_>, nr: u64, tsp: u64) -> Result<Timeout, Errno> {
    let kept = s
        .task
        .restart
        .lock()
        .as_ref()
        .filter(|r| r.nr == nr)
        .map(|r| r.deadline);
    if let Some(d) = kept {
        return Ok(d.map_or(Timeout::Infinite, Timeout::At));
    }
    if tsp == 0 {
        return Ok(Timeout::Infinite);
    }
    let b = s.read_array::<16>(tsp)?;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        i64::from_le_bytes(w)
    };
    let (sec, nsec) = (word(0), word(8));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    if sec == 0 && nsec == 0 {
        return Ok(Timeout::Zero);
    }
    let d = (sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64);
    Ok(Timeout::At(s.k.rq.now().saturating_add(d)))
}

/// The call's `(sigmask, sigsetsize)` arguments: none (0), or the mask at
/// `sigmask` installed for the call (EINVAL unless the size is 8, EFAULT).
fn user_sigmask(s: &Sys<'_>, sigmask: u64, sigsetsize: u64) -> Result<(), Errno> {
    if sigmask == 0 {
        return Ok(());
    }
    if sigsetsize != 8 {
        return Err(EINVAL);
    }
    set_user_sigmask(s, s.read_u64(sigmask)?);
    Ok(())
}

/// `set_user_sigmask`: install `mask` for the call, keeping the old one
/// in `saved_mask` (once: a call run again after a sleep finds it kept).
fn set_user_sigmask(s: &Sys<'_>, mask: u64) {
    {
        let mut t = tlock(&s.task.sig);
        if t.saved_mask.is_none() {
            t.saved_mask = Some(t.blocked);
        }
        t.blocked = mask & !sigcore::UNBLOCKABLE;
    }
    // The new mask may unblock a pending signal.
    s.task
        .sigpending
        .store(true, std::sync::atomic::Ordering::SeqCst);
}

/// The mask `set_user_sigmask` kept, back in place (`restore_saved_sigmask`).
fn restore_saved_sigmask(s: &Sys<'_>) {
    let mut t = tlock(&s.task.sig);
    if let Some(m) = t.saved_mask.take() {
        t.blocked = m;
        drop(t);
        // The old mask may unblock a pending signal.
        s.task
            .sigpending
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `poll_select_finish`: the old signal mask back unless the call
/// returns -ERESTARTNOHAND (then it comes back after the handler), the
/// time left written to the timeout; if that write faults, a restart
/// becomes EINTR.
fn finish(s: &Sys<'_>, tmo: Timeout, tsp: u64, ret: Result<u64, Errno>) -> Flow {
    if ret != Err(ERESTARTNOHAND) {
        restore_saved_sigmask(s);
    }
    let mut ret = ret;
    if let (Timeout::At(d), true) = (tmo, tsp != 0) {
        let left = d.saturating_sub(s.k.rq.now());
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&((left / 1_000_000_000) as i64).to_le_bytes());
        b[8..].copy_from_slice(&((left % 1_000_000_000) as i64).to_le_bytes());
        if s.write_user(tsp, &b).is_err() && ret == Err(ERESTARTNOHAND) {
            ret = Err(EINTR);
        }
    }
    Flow::Return(crate::syscall::encode(ret))
}

/// What a scan decided.
enum Next {
    /// Return this.
    Done(Result<u64, Errno>),
    /// Sleep (queued, state set, deadline kept).
    Sleep,
}

/// The loop of `do_poll`/`do_select` around `scan`, which polls every
/// descriptor (collecting wait queues into the table it is given) and
/// returns how many are ready. Returns the count, -ERESTARTNOHAND, 0 at
/// the timeout, or sleeps.
fn wait_loop(
    s: &Sys<'_>,
    nr: u64,
    tmo: Timeout,
    mut scan: impl FnMut(&mut PollTable) -> u64,
) -> Next {
    // The queues are collected on the first scan already: a sleep needs
    // them, and a second scan after queueing catches what changed since.
    let mut pt = PollTable {
        wait: true,
        ..PollTable::default()
    };
    let n = scan(&mut pt);
    if n > 0 {
        return Next::Done(Ok(n));
    }
    if sigcore::signal_pending(s.task) {
        return Next::Done(Err(ERESTARTNOHAND));
    }
    let now = s.k.rq.now();
    let deadline = match tmo {
        Timeout::Zero => return Next::Done(Ok(0)),
        Timeout::At(d) if d <= now => return Next::Done(Ok(0)),
        Timeout::At(d) => Some(d),
        Timeout::Infinite => None,
    };
    sched::set_current_state(s.task, TASK_INTERRUPTIBLE);
    for q in &pt.queues {
        wait::prepare_to_wait(q, s.task, TASK_INTERRUPTIBLE);
    }
    let n = scan(&mut PollTable::default());
    if n > 0 {
        sched::set_running(s.task);
        wait::finish_wait(s.task);
        return Next::Done(Ok(n));
    }
    if sigcore::signal_pending(s.task) {
        sched::set_running(s.task);
        wait::finish_wait(s.task);
        return Next::Done(Err(ERESTARTNOHAND));
    }
    *s.task.restart.lock() = Some(Restart {
        nr,
        deadline,
        ..Default::default()
    });
    let mut wake = deadline;
    let mut sooner = |t: u64| wake = Some(wake.map_or(t, |w: u64| w.min(t)));
    if pt.host {
        sooner(now.saturating_add(HOST_POLL_INTERVAL_NS));
    }
    if let Some(t) = pt.wake_at {
        sooner(t);
    }
    if let Some(w) = wake {
        s.k.rq.arm_wake(s.task, w);
    }
    Next::Sleep
}

/// One `struct pollfd`.
#[derive(Clone, Copy)]
struct PollFd {
    fd: i32,
    events: u16,
    revents: u16,
}

/// `ppoll(2)`: `(ufds, nfds, tsp, sigmask, sigsetsize)`.
pub fn sys_ppoll(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    let [ufds, nfds, tsp, sigmask, sigsetsize, _] = a;
    let tmo = match timeout(s, nr::PPOLL, tsp) {
        Ok(t) => t,
        Err(e) => return Flow::Return(-(e as i64)),
    };
    if let Err(e) = user_sigmask(s, sigmask, sigsetsize) {
        return Flow::Return(-(e as i64));
    }
    let r = do_sys_poll(s, ufds, nfds as u32, tmo);
    match r {
        Next::Done(r) => finish(s, tmo, tsp, r),
        Next::Sleep => Flow::Block,
    }
}

/// `do_sys_poll`: EINVAL above RLIMIT_NOFILE entries, EFAULT for an
/// array that cannot be read or written back.
fn do_sys_poll(s: &Sys<'_>, ufds: u64, nfds: u32, tmo: Timeout) -> Next {
    let limit = tlock(&s.task.signal.rlim)[RLIMIT_NOFILE].cur;
    if u64::from(nfds) > limit {
        return Next::Done(Err(EINVAL));
    }
    let nfds = nfds as usize;
    // At most RLIMIT_NOFILE entries (see the module docs).
    let mut fds: Vec<PollFd> = Vec::new();
    let mut raw_all: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < nfds {
        let k = (nfds - i).min(POLLFD_CHUNK);
        let addr = ufds.wrapping_add((i * POLLFD_SIZE) as u64);
        let raw = match s.read_user(addr, k * POLLFD_SIZE) {
            Ok(r) => r,
            Err(e) => return Next::Done(Err(e)),
        };
        for c in raw.chunks_exact(POLLFD_SIZE) {
            fds.push(PollFd {
                fd: i32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                events: u16::from_le_bytes([c[4], c[5]]),
                revents: 0,
            });
        }
        raw_all.extend_from_slice(&raw);
        i += k;
    }
    let fs = s.fs.clone();
    let next = wait_loop(s, nr::PPOLL, tmo, |pt| {
        let mut count = 0;
        for p in fds.iter_mut() {
            p.revents = if p.fd < 0 {
                0
            } else {
                match fs.poll_fd(p.fd, pt) {
                    Polled::Bad | Polled::Path => POLLNVAL as u16,
                    Polled::Mask(m) => (m & (u32::from(p.events) | POLLERR | POLLHUP)) as u16,
                }
            };
            if p.revents != 0 {
                count += 1;
            }
        }
        count
    });
    let Next::Done(r) = next else {
        return next;
    };
    // The revents back, for every entry (as Linux does, whatever the
    // result).
    for (j, p) in fds.iter().enumerate() {
        raw_all[j * POLLFD_SIZE + 6..j * POLLFD_SIZE + 8].copy_from_slice(&p.revents.to_le_bytes());
    }
    let mut i = 0;
    while i < raw_all.len() {
        let k = (raw_all.len() - i).min(crate::syscall::MAX_USER_COPY);
        if s.write_user(ufds.wrapping_add(i as u64), &raw_all[i..i + k])
            .is_err()
        {
            return Next::Done(Err(EFAULT));
        }
        i += k;
    }
    Next::Done(r)
}

/// `pselect6(2)`: `(n, inp, outp, exp, tsp, sig)` where `sig` points to
/// `{ const sigset_t *ss; size_t ss_len; }`.
pub fn sys_pselect6(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    let [n, inp, outp, exp, tsp, sig] = a;
    let tmo = match timeout(s, nr::PSELECT6, tsp) {
        Ok(t) => t,
        Err(e) => return Flow::Return(-(e as i64)),
    };
    if sig != 0 {
        let (ss, len) = match s.read_user(sig, 16) {
            Ok(b) => {
                let w = |i: usize| {
                    let mut x = [0u8; 8];
                    x.copy_from_slice(&b[i..i + 8]);
                    u64::from_le_bytes(x)
                };
                (w(0), w(8))
            }
            Err(e) => return Flow::Return(-(e as i64)),
        };
        if let Err(e) = user_sigmask(s, ss, len) {
            return Flow::Return(-(e as i64));
        }
    }
    match core_sys_select(s, n as i32, [inp, outp, exp], tmo) {
        Next::Done(r) => finish(s, tmo, tsp, r),
        Next::Sleep => Flow::Block,
    }
}

/// `core_sys_select` + `do_select`: `n` capped at the table's size, the
/// three sets read (EFAULT), EBADF for a set bit of a closed descriptor;
/// the result sets are written back unless a signal interrupted.
fn core_sys_select(s: &Sys<'_>, n: i32, ptrs: [u64; 3], tmo: Timeout) -> Next {
    if n < 0 {
        return Next::Done(Err(EINVAL));
    }
    let n = (n as usize).min(s.fs.max_fds());
    let words = n.div_ceil(64);
    let mut sets = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    for (set, &p) in sets.iter_mut().zip(&ptrs) {
        if p == 0 {
            continue;
        }
        let raw = match s.read_user(p, words * 8) {
            Ok(r) => r,
            Err(e) => return Next::Done(Err(e)),
        };
        for (w, c) in set.iter_mut().zip(raw.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            *w = u64::from_le_bytes(b);
        }
        // Bits from n on are not looked at.
        if n % 64 != 0 {
            if let Some(last) = set.last_mut() {
                *last &= (1u64 << (n % 64)) - 1;
            }
        }
    }
    // `max_select_fd`: every descriptor asked about must be open.
    let fs = s.fs.clone();
    for fd in 0..n {
        let (w, b) = (fd / 64, 1u64 << (fd % 64));
        if (sets[0][w] | sets[1][w] | sets[2][w]) & b != 0 && !fs.fd_open(fd as i32) {
            return Next::Done(Err(EBADF));
        }
    }
    let mut res = [vec![0u64; words], vec![0u64; words], vec![0u64; words]];
    let next = wait_loop(s, nr::PSELECT6, tmo, |pt| {
        let mut count = 0;
        for r in res.iter_mut() {
            r.iter_mut().for_each(|w| *w = 0);
        }
        for fd in 0..n {
            let (w, b) = (fd / 64, 1u64 << (fd % 64));
            if (sets[0][w] | sets[1][w] | sets[2][w]) & b == 0 {
                continue;
            }
            let Polled::Mask(m) = fs.poll_fd(fd as i32, pt) else {
                continue;
            };
            for (k, want) in [POLLIN_SET, POLLOUT_SET, POLLEX_SET]
                .into_iter()
                .enumerate()
            {
                if sets[k][w] & b != 0 && m & want != 0 {
                    res[k][w] |= b;
                    count += 1;
                }
            }
        }
        count
    });
    let Next::Done(r) = next else {
        return next;
    };
    if r == Err(ERESTARTNOHAND) {
        return Next::Done(r);
    }
    for (set, &p) in res.iter().zip(&ptrs) {
        if p == 0 {
            continue;
        }
        let bytes: Vec<u8> = set.iter().flat_map(|w| w.to_le_bytes()).collect();
        if s.write_user(p, &bytes).is_err() {
            return Next::Done(Err(EFAULT));
        }
    }
    Next::Done(r)
}

/// `EP_MAX_EVENTS`: the most events one wait may ask for.
const EP_MAX_EVENTS: usize = i32::MAX as usize / super::eventpoll::EPOLL_EVENT_SIZE;

/// `epoll_pwait(2)` (`timeout` in milliseconds, negative: none) and
/// `epoll_pwait2(2)` (a `struct timespec`, NULL: none): `(epfd, events,
/// maxevents, timeout, sigmask, sigsetsize)`. A signal ends the wait with
/// EINTR, never a restart (`ep_poll`).
pub fn sys_epoll_pwait(s: &mut Sys<'_>, a: [u64; 6], nr: u64) -> Flow {
    let [epfd, events, maxevents, to, sigmask, sigsetsize] = a;
    let tmo = if nr == nr::EPOLL_PWAIT2 {
        timeout(s, nr, to)
    } else {
        Ok(ms_timeout(s, nr, to as i32))
    };
    let tmo = match tmo {
        Ok(t) => t,
        Err(e) => return Flow::Return(-(e as i64)),
    };
    if let Err(e) = user_sigmask(s, sigmask, sigsetsize) {
        return Flow::Return(-(e as i64));
    }
    let ret = match do_epoll_wait(s, nr, epfd as i32, events, maxevents as i32, tmo) {
        Next::Sleep => return Flow::Block,
        Next::Done(Err(ERESTARTNOHAND)) => Err(EINTR),
        Next::Done(r) => r,
    };
    // The old mask back, unless a handler is to run first.
    if ret != Err(EINTR) {
        restore_saved_sigmask(s);
    }
    Flow::Return(crate::syscall::encode(ret))
}

/// A timeout in milliseconds (`ep_timeout_to_timespec`), or the deadline
/// the call kept across its sleep.
fn ms_timeout(s: &Sys<'_>, nr: u64, ms: i32) -> Timeout {
    let kept = s
        .task
        .restart
        .lock()
        .as_ref()
        .filter(|r| r.nr == nr)
        .map(|r| r.deadline);
    match (kept, ms) {
        (Some(d), _) => d.map_or(Timeout::Infinite, Timeout::At),
        (None, ms) if ms < 0 => Timeout::Infinite,
        (None, 0) => Timeout::Zero,
        (None, ms) => Timeout::At(s.k.rq.now().saturating_add(ms as u64 * 1_000_000)),
    }
}

/// `do_epoll_wait`: the checks, the wait, the events copied out.
fn do_epoll_wait(s: &Sys<'_>, nr: u64, epfd: i32, events: u64, max: i32, tmo: Timeout) -> Next {
    use super::eventpoll::EPOLL_EVENT_SIZE;
    if max <= 0 || max as usize > EP_MAX_EVENTS {
        return Next::Done(Err(EINVAL));
    }
    let len = max as u64 * EPOLL_EVENT_SIZE as u64;
    if events
        .checked_add(len)
        .is_none_or(|end| end > mm::pgtable::TASK_SIZE as u64)
    {
        return Next::Done(Err(EFAULT));
    }
    let ep = match s.fs.epoll_of(epfd) {
        Ok(ep) => ep,
        Err(e) => return Next::Done(Err(e)),
    };
    let mut found = Vec::new();
    let next = wait_loop(s, nr, tmo, |pt| {
        found = ep.scan(&s.fs, pt, max as usize, 0);
        found.len() as u64
    });
    if !matches!(next, Next::Done(Ok(n)) if n > 0) {
        return next;
    }
    // `ep_send_events`: the fields, not the padding between them.
    for (i, r) in found.iter().enumerate() {
        let at = events + (i * EPOLL_EVENT_SIZE) as u64;
        let ok = s.write_user(at, &r.events.to_le_bytes()).is_ok()
            && s.write_user(at + 8, &r.data.to_le_bytes()).is_ok();
        if !ok {
            return Next::Done(if i == 0 { Err(EFAULT) } else { Ok(i as u64) });
        }
    }
    Next::Done(Ok(found.len() as u64))
}
