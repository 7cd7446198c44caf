//! Open files and the descriptor table (Linux's `struct file` and
//! fs/file.c's `files_struct`: lowest free descriptor first,
//! close-on-exec, dup).
//!
//! An [`OpenFile`] is an open file description: descriptors made by `dup`
//! or inherited by `fork` share it, with its offset and status flags. A
//! host file or directory is held by its open host handle (as Linux's
//! `struct file` holds its `struct path`): a directory descriptor is a
//! lookup start (see namei.rs) and its guest name is computed from the
//! handle when asked (`HostFs::d_path`), never kept as a path.
//! Where ferrite differs: the table is a plain vector limited to
//! [`NR_OPEN`] descriptors (no `RLIMIT_NOFILE` changes), and it lives on
//! the host heap.

use std::fs::File;
use std::sync::{Arc, Mutex};

use crate::errno::{Errno, EBADF, EMFILE};

use super::flags::NR_OPEN;
use super::locks::{lock_key, FileLocks, Owner};

/// What an open file is.
pub(crate) enum Kind {
    /// A host regular file (or device) with its inode.
    Host {
        file: File,
        dev: u64,
        ino: u64,
        /// A regular file (positioned I/O); else a stream like a tty.
        regular: bool,
    },
    /// A host directory, open for reading.
    Dir { file: Arc<File> },
    /// A host standard stream: the host keeps the position.
    Stdio { file: Arc<File> },
    /// A procfs file (its snapshot) or directory (`data` empty).
    Proc {
        rel: String,
        node: super::procfs::ProcNode,
        data: Vec<u8>,
        /// A file read in place (no snapshot): `pagemap`.
        live: Option<Arc<dyn super::procfs::ProcLive>>,
    },
    /// An `O_PATH` descriptor of a host file, directory or symlink.
    HostPath { file: Arc<File> },
    /// A name of the built-in `/dev` (a device, a directory, a symlink
    /// with `O_PATH`), a `/dev/shm` file or a memfd (dev.rs, shmem.rs).
    Dev(super::dev::DevNode),
    /// One end of a pipe (pipe.rs).
    Pipe(super::pipe::PipeEnd),
    /// An eventfd (eventfd.rs).
    EventFd(Arc<super::eventfd::EventFd>),
    /// An epoll instance (eventpoll.rs).
    Epoll(Arc<super::eventpoll::EventPoll>),
    /// A timerfd (timerfd.rs).
    TimerFd(Arc<super::timerfd::TimerFd>),
}

/// An open file description (`struct file`).
pub(crate) struct OpenFile {
    pub(crate) kind: Kind,
    /// `FMODE_READ | FMODE_WRITE`.
    pub(crate) fmode: u32,
    /// `f_flags`: the access mode and status flags (read on every read
    /// and write; changed only by F_SETFL).
    pub(crate) flags: std::sync::atomic::AtomicI32,
    /// `f_pos`, and its lock. A host directory's position is its host
    /// handle's; this holds only whether it is past the root's own `proc`
    /// (see readdir.rs).
    pub(crate) pos: Mutex<u64>,
    /// The write access of a regular file open for writing
    /// (`get_write_access`), given back when the description goes.
    pub(crate) _write_count: Option<super::writecount::WriteCount>,
    /// Where its OFD and flock locks are, once it took one: they go with
    /// the description (`locks_remove_file`).
    pub(crate) locks: std::sync::OnceLock<std::sync::Weak<FileLocks>>,
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        if let Some(l) = self.locks.get().and_then(std::sync::Weak::upgrade) {
            let me = self as *const OpenFile as usize;
            l.remove(lock_key(self), Owner::File(me));
        }
    }
}

pub(crate) use crate::task::lock;

impl OpenFile {
    pub(crate) fn new(kind: Kind, fmode: u32, flags: i32) -> Arc<OpenFile> {
        OpenFile::new_writer(kind, fmode, flags, None)
    }

    /// A description holding a write access.
    pub(crate) fn new_writer(
        kind: Kind,
        fmode: u32,
        flags: i32,
        write_count: Option<super::writecount::WriteCount>,
    ) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            kind,
            fmode,
            flags: std::sync::atomic::AtomicI32::new(flags),
            pos: Mutex::new(0),
            _write_count: write_count,
            locks: std::sync::OnceLock::new(),
        })
    }

    /// The file status flags.
    #[inline]
    pub(crate) fn flags(&self) -> i32 {
        self.flags.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `F_SETFL`: replace the bits of `mask` with those of `new`.
    pub(crate) fn set_flags(&self, mask: i32, new: i32) {
        let _ = self.flags.fetch_update(
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
            |f| Some((f & !mask) | (new & mask)),
        );
    }

    /// A directory (host or procfs).
    pub(crate) fn is_dir(&self) -> bool {
        match &self.kind {
            Kind::Dir { .. } => true,
            Kind::Proc { node, .. } => *node == super::procfs::ProcNode::Dir,
            Kind::HostPath { file } => file.metadata().is_ok_and(|m| m.is_dir()),
            Kind::Dev(n) => n.is_dir(),
            _ => false,
        }
    }

    /// An `O_PATH` descriptor.
    pub(crate) fn is_path(&self) -> bool {
        self.flags() & super::flags::O_PATH != 0
    }
}

/// One descriptor.
#[derive(Clone)]
pub(crate) struct Fd {
    pub(crate) file: Arc<OpenFile>,
    pub(crate) cloexec: bool,
}

/// The descriptor table.
#[derive(Clone, Default)]
pub(crate) struct FdTable {
    fds: Vec<Option<Fd>>,
    /// One past the highest descriptor ever installed (Linux's table
    /// grows and never shrinks: see [`FdTable::max_fds`]).
    hwm: usize,
    /// The machine's file locks: the table's POSIX locks on a file go when
    /// it closes a descriptor of the file, all of them when it is freed.
    pub(crate) locks: Option<Arc<FileLocks>>,
}

impl Drop for FdTable {
    fn drop(&mut self) {
        if let Some(l) = &self.locks {
            l.remove_files(self.owner());
        }
    }
}

impl FdTable {
    /// This table as the owner of POSIX locks (`fl_owner`: its address,
    /// which stays while it lives in its `files_struct`).
    pub(crate) fn owner(&self) -> usize {
        self as *const FdTable as usize
    }

    /// `locks_remove_posix`: a descriptor of `file` was closed.
    fn closed(&self, file: &OpenFile) {
        if let Some(l) = &self.locks {
            l.remove(lock_key(file), Owner::Files(self.owner()));
        }
    }

    /// The descriptor `fd`, or EBADF.
    pub(crate) fn get(&self, fd: i32) -> Result<&Fd, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(Option::as_ref)
            .ok_or(EBADF)
    }

    /// The descriptor `fd` to change, or EBADF.
    pub(crate) fn get_mut(&mut self, fd: i32) -> Result<&mut Fd, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }

    /// The lowest free descriptor at or above `min`, or EMFILE.
    pub(crate) fn free_slot(&self, min: usize) -> Result<usize, Errno> {
        (min..NR_OPEN)
            .find(|&i| self.fds.get(i).is_none_or(Option::is_none))
            .ok_or(EMFILE)
    }

    /// Install `fd` at the lowest free descriptor at or above `min`.
    pub(crate) fn install(&mut self, min: usize, fd: Fd) -> Result<i32, Errno> {
        let i = self.free_slot(min)?;
        self.set(i, fd);
        Ok(i as i32)
    }

    /// Put `fd` at `i` (< NR_OPEN), returning what was there.
    pub(crate) fn set(&mut self, i: usize, fd: Fd) -> Option<Fd> {
        if self.fds.len() <= i {
            self.fds.resize(i + 1, None);
        }
        self.hwm = self.hwm.max(i + 1);
        let old = self.fds[i].replace(fd);
        if let Some(o) = &old {
            self.closed(&o.file);
        }
        old
    }

    /// Remove descriptor `fd`.
    pub(crate) fn remove(&mut self, fd: i32) -> Result<Fd, Errno> {
        self.get(fd)?;
        let i = fd as usize;
        let old = self.fds[i].take().ok_or(EBADF)?;
        while self.fds.last().is_some_and(Option::is_none) {
            self.fds.pop();
        }
        self.closed(&old.file);
        Ok(old)
    }

    /// Close every close-on-exec descriptor.
    pub(crate) fn close_on_exec(&mut self) {
        let mut closed = Vec::new();
        for s in &mut self.fds {
            if s.as_ref().is_some_and(|f| f.cloexec) {
                closed.extend(s.take());
            }
        }
        for f in &closed {
            self.closed(&f.file);
        }
        while self.fds.last().is_some_and(Option::is_none) {
            self.fds.pop();
        }
    }

    /// The open descriptors, in order.
    pub(crate) fn fds(&self) -> Vec<i32> {
        (0..self.fds.len())
            .filter(|&i| self.fds[i].is_some())
            .map(|i| i as i32)
            .collect()
    }

    /// `fdt->max_fds`, the table's size as `select` caps its `nfds`:
    /// 64 descriptors at first (`NR_OPEN_DEFAULT`), then as Linux's
    /// `expand_fdtable` grows it for the highest descriptor installed
    /// (multiples of 128, a power of two of them), at most [`NR_OPEN`].
    pub(crate) fn max_fds(&self) -> usize {
        if self.hwm <= 64 {
            return 64;
        }
        let nr = (self.hwm - 1) / 128;
        ((nr + 1).next_power_of_two() * 128).min(NR_OPEN)
    }

    /// Number of open descriptors.
    pub(crate) fn count(&self) -> usize {
        self.fds.iter().filter(|f| f.is_some()).count()
    }
}
