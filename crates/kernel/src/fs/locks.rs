//! Advisory file locks: fs/locks.c. POSIX record locks (`F_GETLK`,
//! `F_SETLK`, `F_SETLKW`), open file description locks (`F_OFD_GETLK`,
//! `F_OFD_SETLK`, `F_OFD_SETLKW`) and `flock(2)`.
//!
//! - A POSIX lock belongs to a descriptor table (`files_struct`: the
//!   process, and the threads or `CLONE_FILES` children that share it),
//!   records its thread group's id, and goes when that table closes *any*
//!   descriptor of the file (`locks_remove_posix`) or is freed; fork does
//!   not copy it.
//! - An OFD lock belongs to an open file description: it is shared with
//!   the descriptors `dup` and fork made, goes with the description's last
//!   close, and reports `l_pid` -1. It lives in the same list as the POSIX
//!   locks and conflicts with them.
//! - A `flock` lock is a whole-file lock of a description, in a list of
//!   its own (it does not meet POSIX locks, as on Linux's local file
//!   systems); converting one takes the old lock away first.
//!
//! One owner's POSIX/OFD locks never overlap, and those of the same type
//! that touch are merged; a lock of the other type or an unlock splits
//! or trims them (`posix_lock_inode`). A conflicting request fails with
//! EAGAIN, or sleeps (`F_SETLKW`, `flock` without `LOCK_NB`) on the
//! file's wait queue, woken by every change to the file's locks, and runs
//! again; a signal ends the sleep (ERESTARTSYS). A POSIX waiter that
//! would wait, through a chain of at most ten waiting owners, for a lock
//! its own table holds gets EDEADLK (`posix_locks_deadlock`; OFD waiters
//! are not checked, as in Linux).
//!
//! Where ferrite differs: the lock records live on the host heap (Linux's
//! `file_lock_cache`), in one table for all files under one lock. A file
//! is known by its host device and inode, its tmpfs inode or its pipe;
//! other files (procfs, devices, eventfds) are known by the description,
//! so two opens of one such file do not meet.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use crate::errno::*;
use crate::sched::wait::{wait_interruptible, WaitQueue};
use crate::task::TaskRef;

use super::dev::DevNode;
use super::fdtable::{Kind, OpenFile};

/// `F_RDLCK`.
pub const F_RDLCK: i16 = 0;
/// `F_WRLCK`.
pub const F_WRLCK: i16 = 1;
/// `F_UNLCK`.
pub const F_UNLCK: i16 = 2;
/// `F_GETLK`.
pub const F_GETLK: i32 = 5;
/// `F_SETLK`.
pub const F_SETLK: i32 = 6;
/// `F_SETLKW`.
pub const F_SETLKW: i32 = 7;
/// `F_OFD_GETLK`.
pub const F_OFD_GETLK: i32 = 36;
/// `F_OFD_SETLK`.
pub const F_OFD_SETLK: i32 = 37;
/// `F_OFD_SETLKW`.
pub const F_OFD_SETLKW: i32 = 38;
/// `LOCK_SH`.
pub const LOCK_SH: u32 = 1;
/// `LOCK_EX`.
pub const LOCK_EX: u32 = 2;
/// `LOCK_NB`.
pub const LOCK_NB: u32 = 4;
/// `LOCK_UN`.
pub const LOCK_UN: u32 = 8;
/// `LOCK_MAND` (gone from Linux: accepted and ignored).
pub const LOCK_MAND: u32 = 32;

/// `OFFSET_MAX`: a lock "to the end of the file" ends here.
const OFFSET_MAX: i64 = i64::MAX;
/// How many locks the machine holds at most (ENOLCK past it): the
/// records are on the host heap, which no guest may grow without bound.
const MAX_LOCKS: usize = 1 << 16;
/// How many waiting owners the deadlock check follows.
const MAX_DEADLK_ITERATIONS: usize = 10;

/// Which file a lock is on.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum LockKey {
    /// A host file: device and inode.
    Host(u64, u64),
    /// Another object (a tmpfs inode, a pipe, a description), by address.
    Object(usize),
}

/// The file of description `f` (None for an `O_PATH` one).
pub(crate) fn lock_key(f: &OpenFile) -> LockKey {
    use std::os::unix::fs::MetadataExt;
    let host = |file: &std::fs::File| {
        file.metadata()
            .map(|m| LockKey::Host(m.dev(), m.ino()))
            .unwrap_or(LockKey::Object(f as *const OpenFile as usize))
    };
    match &f.kind {
        Kind::Host { dev, ino, .. } => LockKey::Host(*dev, *ino),
        Kind::Stdio { file } | Kind::Dir { file } | Kind::HostPath { file } => host(file),
        Kind::Dev(DevNode::Shm(inode)) => LockKey::Object(Arc::as_ptr(inode) as usize),
        Kind::Pipe(end) => LockKey::Object(Arc::as_ptr(&end.pipe) as usize),
        _ => LockKey::Object(f as *const OpenFile as usize),
    }
}

/// How /proc/locks names the file of `f`: device major, minor, inode.
pub(crate) fn lock_ident(f: &OpenFile) -> (u32, u32, u64) {
    use super::pagecache::{dev_major, dev_minor};
    use std::os::unix::fs::MetadataExt;
    let host = |file: &std::fs::File| {
        file.metadata()
            .map(|m| (dev_major(m.dev()), dev_minor(m.dev()), m.ino()))
            .unwrap_or_default()
    };
    match &f.kind {
        Kind::Host { dev, ino, .. } => (dev_major(*dev), dev_minor(*dev), *ino),
        Kind::Stdio { file } | Kind::Dir { file } | Kind::HostPath { file } => host(file),
        Kind::Dev(DevNode::Shm(inode)) => {
            let id = inode.identity();
            (id.dev_major, id.dev_minor, id.ino)
        }
        _ => (0, 0, 0),
    }
}

/// Who holds a lock.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Owner {
    /// A descriptor table (POSIX locks), by address.
    Files(usize),
    /// An open file description (OFD and flock locks), by address.
    File(usize),
}

/// One lock (`struct file_lock`): bytes `start..=end`.
#[derive(Clone, Copy, Debug)]
struct FileLock {
    /// When it was set (/proc/locks lists the newest first).
    seq: u64,
    owner: Owner,
    /// The thread group that took it (`fl_pid`; -1 shown for OFD locks).
    pid: i32,
    write: bool,
    start: i64,
    end: i64,
}

impl FileLock {
    fn overlaps(&self, o: &FileLock) -> bool {
        self.start <= o.end && o.start <= self.end
    }

    fn conflicts(&self, o: &FileLock) -> bool {
        self.owner != o.owner && (self.write || o.write) && self.overlaps(o)
    }
}

/// The locks of one file (`struct file_lock_context`).
#[derive(Default)]
struct InodeLocks {
    /// How /proc/locks names the file: device major, minor and inode.
    ident: (u32, u32, u64),
    /// POSIX and OFD locks: each owner's together, by start.
    posix: Vec<FileLock>,
    /// flock locks.
    flock: Vec<FileLock>,
    /// Those waiting for any of them.
    wq: Arc<WaitQueue>,
}

/// A POSIX waiter (`blocked_hash`): thread `tid` of table `owner` waits
/// for a lock of `blocker`.
struct Blocked {
    tid: i32,
    owner: usize,
    blocker: Owner,
}

#[derive(Default)]
struct Inner {
    files: HashMap<LockKey, InodeLocks>,
    blocked: Vec<Blocked>,
    /// The next lock's `seq`.
    seq: u64,
    /// Locks held, all files.
    nr_locks: usize,
}

/// Every file lock of the machine.
#[derive(Default)]
pub(crate) struct FileLocks {
    inner: Mutex<Inner>,
    /// Locks held and POSIX waiters recorded: when 0, a close has nothing
    /// to look for.
    nr: AtomicUsize,
}

/// What a lock request asks for (a `struct flock` made absolute).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// F_RDLCK, F_WRLCK or F_UNLCK.
    pub(crate) kind: i16,
    pub(crate) start: i64,
    pub(crate) end: i64,
}

/// What `F_GETLK` found: a conflicting lock, or none.
pub(crate) struct Found {
    pub(crate) kind: i16,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) pid: i32,
}

/// The outcome of a lock request that may sleep.
pub enum Locked {
    Done,
    /// Queued on the file's wait queue, asleep: run the call again.
    Block,
}

/// `flock_to_posix_lock`: the absolute range of `l_start`/`l_len` from
/// `base` (0, the file position or the size, by `l_whence`).
pub(crate) fn posix_range(base: i64, l_start: i64, l_len: i64) -> Result<(i64, i64), Errno> {
    if l_start > OFFSET_MAX - base {
        return Err(EOVERFLOW);
    }
    let start = base + l_start;
    if start < 0 {
        return Err(EINVAL);
    }
    if l_len > 0 {
        if l_len - 1 > OFFSET_MAX - start {
            return Err(EOVERFLOW);
        }
        Ok((start, start + (l_len - 1)))
    } else if l_len < 0 {
        if start + l_len < 0 {
            return Err(EINVAL);
        }
        Ok((start + l_len, start - 1))
    } else {
        Ok((start, OFFSET_MAX))
    }
}

impl FileLocks {
    /// The shared table.
    pub(crate) fn new() -> Arc<FileLocks> {
        Arc::new(FileLocks::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publish the counts (`nr` is only a hint for the fast path).
    fn publish(&self, inner: &Inner) {
        self.nr.store(inner.nr_locks + inner.blocked.len(), Relaxed);
    }

    /// `posix_test_lock`: the first lock that conflicts with `req` of
    /// `owner`.
    pub(crate) fn test(&self, key: LockKey, owner: Owner, req: Request) -> Option<Found> {
        let probe = FileLock {
            seq: 0,
            owner,
            pid: 0,
            write: req.kind == F_WRLCK,
            start: req.start,
            end: req.end,
        };
        let inner = self.lock();
        let c = inner
            .files
            .get(&key)?
            .posix
            .iter()
            .find(|l| probe.conflicts(l))?;
        Some(Found {
            kind: if c.write { F_WRLCK } else { F_RDLCK },
            start: c.start,
            end: c.end,
            pid: match c.owner {
                Owner::Files(_) => c.pid,
                Owner::File(_) => -1,
            },
        })
    }

    /// `posix_lock_inode` (and `flock_lock_inode` with `flock`): set or
    /// clear the lock of `owner`; on a conflict EAGAIN, or, with `wait`,
    /// sleep on the file's queue (EDEADLK for a POSIX waiter that would
    /// wait for itself; ERESTARTSYS if a signal is pending).
    pub(crate) fn set(
        &self,
        (key, ident, owner, pid): (LockKey, (u32, u32, u64), Owner, i32),
        req: Request,
        flock: bool,
        wait: Option<&TaskRef>,
    ) -> Result<Locked, Errno> {
        let mut guard = self.lock();
        let Inner {
            files,
            blocked,
            seq,
            nr_locks,
        } = &mut *guard;
        if let Some(t) = wait {
            blocked.retain(|b| b.tid != t.pid());
        }
        let file = files.entry(key).or_insert_with(|| InodeLocks {
            ident,
            ..InodeLocks::default()
        });
        let before = file.posix.len() + file.flock.len();
        *seq += 1;
        let new = FileLock {
            seq: *seq,
            owner,
            pid,
            write: req.kind == F_WRLCK,
            start: req.start,
            end: req.end,
        };
        let list = if flock {
            &mut file.flock
        } else {
            &mut file.posix
        };
        let mut changed = false;
        if flock {
            // A conversion takes the old lock away first.
            if let Some(i) = list.iter().position(|l| l.owner == owner) {
                if req.kind != F_UNLCK && list[i].write == new.write {
                    return Ok(Locked::Done);
                }
                list.remove(i);
                changed = true;
            }
        }
        let conflict = if req.kind == F_UNLCK {
            None
        } else {
            list.iter().find(|l| new.conflicts(l)).copied()
        };
        // Setting a lock, or clearing the middle of one, may take two more
        // records (`locks_alloc_lock` failing: ENOLCK).
        let grows = req.kind != F_UNLCK
            || list
                .iter()
                .any(|l| l.owner == owner && l.start < new.start && l.end > new.end);
        let r = match (conflict, wait) {
            (None, _) if grows && *nr_locks + 2 > MAX_LOCKS => Err(ENOLCK),
            (None, _) => {
                if !flock {
                    posix_apply(list, new, req.kind == F_UNLCK);
                } else if req.kind != F_UNLCK {
                    list.push(new);
                }
                changed = true;
                Ok(Locked::Done)
            }
            (Some(_), None) => Err(EAGAIN),
            (Some(c), Some(task)) => {
                let me = match owner {
                    Owner::Files(me) if !flock => Some(me),
                    _ => None,
                };
                if me.is_some_and(|me| deadlocks(blocked, me, c.owner)) {
                    Err(EDEADLK)
                } else {
                    wait_interruptible(&file.wq, task).map(|()| {
                        if let Some(me) = me {
                            blocked.push(Blocked {
                                tid: task.pid(),
                                owner: me,
                                blocker: c.owner,
                            });
                        }
                        Locked::Block
                    })
                }
            }
        };
        self.finish(guard, key, before, changed, r)
    }

    /// Count the change to file `key`'s locks (it held `before`), drop
    /// its entry if it is empty, and wake its waiters if its locks
    /// changed.
    fn finish(
        &self,
        mut inner: std::sync::MutexGuard<'_, Inner>,
        key: LockKey,
        before: usize,
        changed: bool,
        r: Result<Locked, Errno>,
    ) -> Result<Locked, Errno> {
        let (wq, after, empty) = match inner.files.get(&key) {
            Some(f) => {
                let n = f.posix.len() + f.flock.len();
                (Some(f.wq.clone()), n, n == 0 && !f.wq.active())
            }
            None => (None, 0, false),
        };
        if empty {
            inner.files.remove(&key);
        }
        inner.nr_locks = (inner.nr_locks + after).saturating_sub(before);
        self.publish(&inner);
        drop(inner);
        if changed {
            if let Some(wq) = wq {
                wq.wake_up_all();
            }
        }
        r
    }

    /// A waiter of thread `tid` gave up (its call ended another way).
    pub(crate) fn forget_waiter(&self, tid: i32) {
        if self.nr.load(Relaxed) == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.blocked.retain(|b| b.tid != tid);
        self.publish(&inner);
    }

    /// Remove the locks of `owner` on `key` (both lists), waking waiters.
    pub(crate) fn remove(&self, key: LockKey, owner: Owner) {
        if self.nr.load(Relaxed) == 0 {
            return;
        }
        let inner = self.lock();
        let mut inner = inner;
        let Some(f) = inner.files.get_mut(&key) else {
            return;
        };
        let before = f.posix.len() + f.flock.len();
        f.posix.retain(|l| l.owner != owner);
        f.flock.retain(|l| l.owner != owner);
        let changed = f.posix.len() + f.flock.len() != before;
        let _ = self.finish(inner, key, before, changed, Ok(Locked::Done));
    }

    /// A descriptor table is freed: its POSIX locks and waiters go.
    pub(crate) fn remove_files(&self, table: usize) {
        if self.nr.load(Relaxed) == 0 {
            return;
        }
        let mut inner = self.lock();
        inner.blocked.retain(|b| b.owner != table);
        let mut woken = Vec::new();
        let mut removed = 0;
        for f in inner.files.values_mut() {
            let before = f.posix.len();
            f.posix.retain(|l| l.owner != Owner::Files(table));
            if f.posix.len() != before {
                removed += before - f.posix.len();
                woken.push(f.wq.clone());
            }
        }
        inner
            .files
            .retain(|_, f| !(f.posix.is_empty() && f.flock.is_empty() && !f.wq.active()));
        inner.nr_locks = inner.nr_locks.saturating_sub(removed);
        self.publish(&inner);
        drop(inner);
        for wq in woken {
            wq.wake_up_all();
        }
    }

    /// `/proc/locks`: every lock, the newest first (`lock_get_status`).
    pub(crate) fn proc_locks(&self) -> String {
        use std::fmt::Write;
        let inner = self.lock();
        let mut all: Vec<(&FileLock, bool, (u32, u32, u64))> = Vec::new();
        for f in inner.files.values() {
            all.extend(f.flock.iter().map(|l| (l, true, f.ident)));
            all.extend(f.posix.iter().map(|l| (l, false, f.ident)));
        }
        all.sort_by_key(|(l, _, _)| std::cmp::Reverse(l.seq));
        let mut out = String::new();
        for (i, (l, flock, (major, minor, ino))) in all.into_iter().enumerate() {
            let (class, pid) = match (flock, l.owner) {
                (true, _) => ("FLOCK ", l.pid),
                (false, Owner::File(_)) => ("OFDLCK", -1),
                (false, Owner::Files(_)) => ("POSIX ", l.pid),
            };
            let kind = if l.write { "WRITE" } else { "READ" };
            let _ = write!(
                out,
                "{}: {class} ADVISORY  {kind} {pid} {major:02x}:{minor:02x}:{ino} ",
                i + 1
            );
            let _ = match (flock, l.end) {
                (true, _) | (false, OFFSET_MAX) => {
                    writeln!(out, "{} EOF", if flock { 0 } else { l.start })
                }
                _ => writeln!(out, "{} {}", l.start, l.end),
            };
        }
        out
    }
}

/// Whether owner `me`, about to wait for `blocker`, would wait for
/// itself through the chain of waiting owners.
fn deadlocks(blocked: &[Blocked], me: usize, blocker: Owner) -> bool {
    let mut b = blocker;
    for _ in 0..MAX_DEADLK_ITERATIONS {
        let Owner::Files(o) = b else {
            return false;
        };
        if o == me {
            return true;
        }
        match blocked.iter().find(|w| w.owner == o) {
            Some(w) => b = w.blocker,
            None => return false,
        }
    }
    false
}

/// Set (or, with `unlock`, clear) `new`'s range for its owner in `list`,
/// which has no lock of another owner in conflict with it.
fn posix_apply(list: &mut Vec<FileLock>, new: FileLock, unlock: bool) {
    let (mut start, mut end) = (new.start, new.end);
    let mut out: Vec<FileLock> = Vec::with_capacity(list.len() + 2);
    for l in list.drain(..) {
        if l.owner != new.owner {
            out.push(l);
            continue;
        }
        if !unlock && l.write == new.write {
            // Same type: merge what overlaps or touches.
            let touches = l.start <= end.saturating_add(1) && start <= l.end.saturating_add(1);
            if touches {
                start = start.min(l.start);
                end = end.max(l.end);
                continue;
            }
            out.push(l);
            continue;
        }
        if !(l.start <= new.end && new.start <= l.end) {
            out.push(l);
            continue;
        }
        // The other type, or an unlock: keep what lies outside.
        if l.start < new.start {
            out.push(FileLock {
                end: new.start - 1,
                ..l
            });
        }
        if l.end > new.end {
            out.push(FileLock {
                start: new.end + 1,
                ..l
            });
        }
    }
    if !unlock {
        let lock = FileLock { start, end, ..new };
        // After the owner's locks that start before it, or at the end.
        let at = out
            .iter()
            .rposition(|l| l.owner == new.owner && l.start < start)
            .map(|i| i + 1)
            .or_else(|| out.iter().position(|l| l.owner == new.owner))
            .unwrap_or(out.len());
        out.insert(at, lock);
    }
    *list = out;
}

/// A `struct flock` (riscv64: `l_type`, `l_whence` as shorts, `l_start`,
/// `l_len`, `l_pid`; 32 bytes with padding, kept as the caller gave it).
pub struct Flock(pub [u8; 32]);

impl Flock {
    fn l_type(&self) -> i16 {
        i16::from_le_bytes([self.0[0], self.0[1]])
    }
    fn l_whence(&self) -> i16 {
        i16::from_le_bytes([self.0[2], self.0[3]])
    }
    fn word(&self, at: usize) -> i64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[at..at + 8]);
        i64::from_le_bytes(b)
    }
    fn l_pid(&self) -> i32 {
        i32::from_le_bytes([self.0[24], self.0[25], self.0[26], self.0[27]])
    }
    fn set_type(&mut self, t: i16) {
        self.0[0..2].copy_from_slice(&t.to_le_bytes());
    }
    /// `posix_lock_to_flock`.
    fn set_found(&mut self, f: &Found) {
        self.set_type(f.kind);
        self.0[2..4].copy_from_slice(&0i16.to_le_bytes());
        let len = if f.end == OFFSET_MAX {
            0
        } else {
            f.end - f.start + 1
        };
        self.0[8..16].copy_from_slice(&f.start.to_le_bytes());
        self.0[16..24].copy_from_slice(&len.to_le_bytes());
        self.0[24..28].copy_from_slice(&f.pid.to_le_bytes());
    }
}

impl super::Fs {
    /// The absolute range of `l` on description `f` (`flock_to_posix_lock`).
    fn lock_range(&self, f: &OpenFile, l: &Flock) -> Result<Request, Errno> {
        use super::flags::{SEEK_CUR, SEEK_END, SEEK_SET};
        let base = match i32::from(l.l_whence()) {
            SEEK_SET => 0,
            SEEK_CUR => *super::fdtable::lock(&f.pos) as i64,
            SEEK_END => file_size(f),
            _ => return Err(EINVAL),
        };
        let (start, end) = posix_range(base, l.word(8), l.word(16))?;
        let kind = l.l_type();
        if ![F_RDLCK, F_WRLCK, F_UNLCK].contains(&kind) {
            return Err(EINVAL);
        }
        Ok(Request { kind, start, end })
    }

    /// `fcntl(fd, F_GETLK | F_SETLK | F_SETLKW | F_OFD_*, &flock)` for
    /// `task`: what to write back to the caller's `struct flock`
    /// (`F_GETLK`), or a sleep.
    pub fn fcntl_lock(
        &self,
        task: &TaskRef,
        fd: i32,
        cmd: i32,
        l: &mut Flock,
    ) -> Result<Locked, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
        let owner = if ofd {
            Owner::File(Arc::as_ptr(&f) as usize)
        } else {
            Owner::Files(super::fdtable::lock(&self.table).owner())
        };
        let key = lock_key(&f);
        let locks = &self.host.locks;
        if matches!(cmd, F_GETLK | F_OFD_GETLK) {
            if l.l_type() != F_RDLCK && l.l_type() != F_WRLCK {
                return Err(EINVAL);
            }
            let req = self.lock_range(&f, l)?;
            if ofd && l.l_pid() != 0 {
                return Err(EINVAL);
            }
            match locks.test(key, owner, req) {
                Some(found) => l.set_found(&found),
                None => l.set_type(F_UNLCK),
            }
            return Ok(Locked::Done);
        }
        let req = self.lock_range(&f, l)?;
        let need = match req.kind {
            F_RDLCK => mm::filemap::FMODE_READ,
            F_WRLCK => mm::filemap::FMODE_WRITE,
            _ => 0,
        };
        if f.fmode & need != need {
            return Err(EBADF);
        }
        if ofd && l.l_pid() != 0 {
            return Err(EINVAL);
        }
        let wait = matches!(cmd, F_SETLKW | F_OFD_SETLKW).then_some(task);
        if ofd {
            let _ = f.locks.set(Arc::downgrade(locks));
        }
        locks.set((key, lock_ident(&f), owner, task.tgid), req, false, wait)
    }

    /// A `F_SETLKW` of thread `tid` ended without sleeping again.
    pub fn forget_lock_waiter(&self, tid: i32) {
        self.host.locks.forget_waiter(tid);
    }

    /// `flock(fd, cmd)` for `task`.
    pub fn flock(&self, task: &TaskRef, fd: i32, cmd: u32) -> Result<Locked, Errno> {
        if cmd & LOCK_MAND != 0 {
            return Ok(Locked::Done);
        }
        let kind = match cmd & !LOCK_NB {
            LOCK_SH => F_RDLCK,
            LOCK_EX => F_WRLCK,
            LOCK_UN => F_UNLCK,
            _ => return Err(EINVAL),
        };
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        let _ = f.locks.set(Arc::downgrade(&self.host.locks));
        let owner = Owner::File(Arc::as_ptr(&f) as usize);
        let req = Request {
            kind,
            start: 0,
            end: OFFSET_MAX,
        };
        let wait = (cmd & LOCK_NB == 0).then_some(task);
        self.host.locks.set(
            (lock_key(&f), lock_ident(&f), owner, task.tgid),
            req,
            true,
            wait,
        )
    }
}

/// `i_size` for `SEEK_END`.
fn file_size(f: &OpenFile) -> i64 {
    let size = match &f.kind {
        Kind::Host { file, .. } => file.metadata().map_or(0, |m| m.len()),
        Kind::Stdio { file } => file.metadata().map_or(0, |m| m.len()),
        Kind::Dev(DevNode::Shm(inode)) => inode.size(),
        _ => 0,
    };
    size.min(OFFSET_MAX as u64) as i64
}
