//! Files (Linux's fs/): the hostfs root, /proc, path lookup, open files
//! and the per-process descriptor table and working directory.
//!
//! - [`HostFs`] (hostfs.rs): a host directory as `/`, shared by every
//!   process, with the page cache of host files (pagecache.rs).
//! - [`Fs`]: one process's `fs_struct` (working directory, umask) and
//!   `files_struct` (fdtable.rs); the syscall layer calls its methods with
//!   plain values and gets `Result<_, Errno>` with Linux's errno.
//! - namei.rs: path lookup that never leaves the root; procfs.rs: the
//!   names under `/proc`, whose contents come from a [`ProcSource`].
//! - The calls: open.rs (open, close, dup, fcntl, mkdir, unlink, access,
//!   chdir, exec's open), link.rs (symlink, rename), read_write.rs (read, write, lseek, truncate,
//!   fsync), readdir.rs (getdents64), stat_calls.rs (stat, readlink),
//!   tty.rs (TCGETS).
//! - stat.rs (`struct stat`'s bytes) and flags.rs (the ABI's values).
//!
//! Methods that move file data (`read`, `write`, `pread`, `pwrite`,
//! `ftruncate`, `fsync`, and `openat` for `O_TRUNC`) take the caller's
//! [`Cpu`](mm::Cpu): keeping the page cache coherent needs one (page
//! references and truncation are per-CPU operations in mm).
//!
//! Where ferrite differs from Linux overall: there are no mounts besides
//! `/proc`, no inode or dentry cache (every lookup asks the host), and
//! credentials are the host's (see hostfs.rs). The table and working
//! directory are locked inside `Fs`, so its methods take `&self` and I/O
//! runs without holding the table lock (a blocked read does not stop the
//! other threads of a process that share the table).

mod fdtable;
pub mod flags;
mod hostfs;
pub mod link;
mod namei;
mod open;
mod pagecache;
mod procfs;
mod read_write;
pub mod readdir;
pub mod stat;
mod stat_calls;
mod tty;

use std::sync::{Arc, Mutex};

pub use hostfs::HostFs;
pub use pagecache::MmapFile;
pub use procfs::ProcSource;
pub use read_write::{IoFile, UserIter, CHUNK};
pub use stat::Stat;
pub use tty::TERMIOS_SIZE;

use crate::errno::{Errno, EBADF, ENOTDIR};

use fdtable::{lock, Fd, FdTable, Kind, OpenFile};
use namei::{Comps, Walker};

/// One process's files: working directory, umask and descriptor table
/// (Linux's `fs_struct` + `files_struct`).
pub struct Fs {
    host: Arc<HostFs>,
    proc: Arc<dyn ProcSource>,
    cwd: Mutex<Comps>,
    umask: Mutex<u32>,
    table: Mutex<FdTable>,
}

/// An executable opened by [`Fs::open_exec`].
pub struct ExecFile {
    /// Its page cache, opened for reading (for the loader's mappings).
    pub mmap: MmapFile,
    /// The whole file.
    pub data: Vec<u8>,
    /// Its guest path with symlinks resolved (`/proc/self/exe`).
    pub path: Vec<u8>,
}

impl Fs {
    /// A process with descriptors 0, 1 and 2 on the host's standard
    /// streams and `/` as its working directory.
    pub fn new(root: Arc<HostFs>, proc: Arc<dyn ProcSource>) -> Fs {
        let mut table = FdTable::default();
        for (i, f) in root.stdio.iter().enumerate() {
            let flags = [flags::O_RDONLY, flags::O_WRONLY, flags::O_WRONLY][i] | flags::O_LARGEFILE;
            let fmode = [
                mm::filemap::FMODE_READ,
                mm::filemap::FMODE_WRITE,
                mm::filemap::FMODE_WRITE,
            ][i];
            let file = OpenFile::new(Kind::Stdio { file: f.clone() }, fmode, flags, Vec::new());
            table.set(
                i,
                Fd {
                    file,
                    cloexec: false,
                },
            );
        }
        Fs {
            host: root,
            proc,
            cwd: Mutex::new(Vec::new()),
            umask: Mutex::new(0o022),
            table: Mutex::new(table),
        }
    }

    /// The copy `fork` gives the child (`dup_fd` + `copy_fs_struct`): the
    /// same open files (shared offsets), working directory and umask;
    /// `proc` is the child's view of /proc (its `self`).
    pub fn fork(&self, proc: Arc<dyn ProcSource>) -> Fs {
        Fs {
            host: self.host.clone(),
            proc,
            cwd: Mutex::new(lock(&self.cwd).clone()),
            umask: Mutex::new(*lock(&self.umask)),
            table: Mutex::new(lock(&self.table).clone()),
        }
    }

    /// Replace the /proc view (e.g. when the task's identity changes).
    pub fn set_proc(&mut self, proc: Arc<dyn ProcSource>) {
        self.proc = proc;
    }

    /// Close the close-on-exec descriptors (`do_close_on_exec`, at exec).
    pub fn close_on_exec(&self) {
        lock(&self.table).close_on_exec();
    }

    /// The hostfs this process sees as `/`.
    pub fn hostfs(&self) -> &Arc<HostFs> {
        &self.host
    }

    /// Number of open descriptors.
    pub fn nr_open(&self) -> usize {
        lock(&self.table).count()
    }

    /// The open descriptors, in order (for `/proc/PID/fd`).
    pub fn open_fds(&self) -> Vec<i32> {
        lock(&self.table).fds()
    }

    /// What `/proc/PID/fd/<fd>` links to: the guest path the file was
    /// opened by (symlinks resolved), or for the standard streams what the
    /// host's `/proc/self/fd/<n>` says (e.g. `/dev/pts/3`, `pipe:[123]`).
    /// None if `fd` is not open.
    pub fn fd_path(&self, fd: i32) -> Option<Vec<u8>> {
        use std::os::unix::ffi::OsStrExt;
        let f = self.file(fd).ok()?;
        match &f.kind {
            Kind::Stdio { file } => {
                use std::os::fd::AsRawFd;
                let link = format!("/proc/self/fd/{}", file.as_raw_fd());
                std::fs::read_link(link)
                    .ok()
                    .map(|p| p.as_os_str().as_bytes().to_vec())
            }
            _ => Some(namei::guest_path(&f.guest)),
        }
    }

    /// `getcwd(2)`: the working directory's guest path (no NUL).
    pub fn getcwd(&self) -> Vec<u8> {
        namei::guest_path(&lock(&self.cwd))
    }

    /// `umask(2)`: set the mask, return the old one.
    pub fn umask(&self, mask: u32) -> u32 {
        std::mem::replace(&mut *lock(&self.umask), mask & 0o777)
    }

    fn walker(&self) -> Walker<'_> {
        Walker {
            root: self.host.root(),
            proc: &*self.proc,
        }
    }

    /// The open file of `fd`, or EBADF.
    fn file(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        Ok(lock(&self.table).get(fd)?.file.clone())
    }

    /// Where a relative `path` starts: the working directory or `dirfd`'s
    /// directory (EBADF, ENOTDIR). Absolute paths ignore `dirfd`.
    fn start(&self, dirfd: i32, path: &[u8]) -> Result<Comps, Errno> {
        if path.first() == Some(&b'/') {
            return Ok(Vec::new());
        }
        if dirfd == flags::AT_FDCWD {
            return Ok(lock(&self.cwd).clone());
        }
        let f = self.file(dirfd)?;
        if !f.is_dir() {
            return Err(ENOTDIR);
        }
        Ok(f.guest.clone())
    }

    /// The host file behind `fd` for `mmap` (Linux's `file->f_mapping`):
    /// EBADF for a bad or `O_PATH` descriptor, ENODEV for what cannot be
    /// mapped (directories, procfs, terminals), EACCES for a descriptor
    /// not open for reading (as `mmap` says whatever the protection).
    pub fn file_for_mmap(&self, fd: i32) -> Result<MmapFile, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        match &f.kind {
            Kind::Host { regular: true, .. } if f.fmode & mm::filemap::FMODE_READ == 0 => {
                Err(crate::errno::EACCES)
            }
            Kind::Host {
                file,
                dev,
                ino,
                regular: true,
            } => {
                let writable = f.fmode & mm::filemap::FMODE_WRITE != 0;
                let path = namei::guest_path(&f.guest);
                let space = self
                    .host
                    .cache
                    .get_or_create(file, *dev, *ino, writable, &path)?;
                Ok(MmapFile::new(space, f.fmode))
            }
            _ => Err(crate::errno::ENODEV),
        }
    }
}
