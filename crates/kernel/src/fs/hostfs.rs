//! The hostfs: a host directory as the guest's root file system (UML's
//! fs/hostfs, gVisor's gofer in spirit). It holds the root (as an open
//! directory handle), the host's standard streams and the page cache of
//! the host files that were mapped or executed; it is shared by every
//! process.
//!
//! Where ferrite differs from UML: the guest runs inside the same process,
//! so the host files are opened directly, by handle (see namei.rs for how
//! lookups stay inside the root); permissions, owners and times are the
//! host's, checked by the host (a ferrite running as host root can do
//! anything in the root). A handle's guest path ([`HostFs::d_path`]) is
//! the host's name for it with the root's host path taken off: a file
//! outside the root (a standard stream redirected to a host file, a
//! directory the host moved out) is `(unreachable)`, never its host path.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mm::{Cpu, Mem};

use crate::errno::{Errno, EACCES, EIO};

use super::namei::HostDir;
use super::pagecache::{MmapFile, PageCache};

/// What [`HostFs::d_path`] gives for a file outside the root.
pub const UNREACHABLE: &[u8] = b"(unreachable)";

/// A handle's name in the guest.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DPath {
    /// Its guest path.
    Path(Vec<u8>),
    /// Its guest path; it was removed (no links left).
    Deleted(Vec<u8>),
    /// Not under the root (or the host cannot name it).
    Unreachable,
    /// Not a path at all: what the host calls it (`pipe:[123]`,
    /// `socket:[45]`, `anon_inode:[eventfd]`).
    Anon(Vec<u8>),
}

/// The errno of a host I/O error (the host is Linux too: same numbers).
pub(crate) fn host_errno(e: &io::Error) -> Errno {
    e.raw_os_error().unwrap_or(EIO)
}

/// The root file system: a host directory. Shared by all processes.
pub struct HostFs {
    root: PathBuf,
    /// The root directory, held open: every lookup starts from it or
    /// from another handle.
    pub(crate) root_dir: HostDir,
    pub(crate) cache: PageCache,
    /// `/dev/shm` and the memfds (shmem.rs).
    pub(crate) shm: super::shmem::Tmpfs,
    /// Duplicates of the host's fds 0, 1 and 2.
    pub(crate) stdio: [Arc<File>; 3],
    /// pipefs: pipe inode numbers, FIFOs, and pages of pipes released
    /// without a CPU (pipe.rs).
    pub(crate) pipefs: Arc<super::pipe::PipeFs>,
    /// The page caches of recently executed programs, kept after their
    /// last mapping goes (see [`ExecCache`]).
    exec_cache: Mutex<ExecCache>,
    /// `i_writecount` of the guest's files (ETXTBSY).
    pub(crate) write_counts: Arc<super::writecount::WriteCounts>,
    /// Every file lock (locks.rs).
    pub(crate) locks: Arc<super::locks::FileLocks>,
    /// How many epoll entries there are (eventpoll.rs).
    pub(crate) epoll_watches: Arc<std::sync::atomic::AtomicUsize>,
    /// Where `files_struct`s come from (the `files_cache` slab cache).
    files_cache: &'static super::FilesCache,
    /// Where `fs_struct`s come from (the `fs_cache` slab cache).
    fs_cache: &'static super::FsCache,
    mem: &'static Mem,
}

/// How many executed programs keep their page cache ([`ExecCache`]).
const EXEC_CACHE_SIZE: usize = 16;

/// A host file's state when cached: mtime, ctime (seconds, ns) and size.
type ExecSig = (i64, i64, i64, i64, u64);

/// The page caches of the last [`EXEC_CACHE_SIZE`] programs executed, each
/// held by one reference (`igrab`), so that running a program again finds
/// its pages and decoded code instead of reading the host file anew (Linux
/// keeps an unused inode and its clean pages until memory pressure; the
/// pages here stay reclaimable by vmscan, only the address space is kept).
/// An entry is dropped when the host file's mtime, ctime or size changed
/// since (the host may have replaced the program), when it has no links
/// left, or when it falls off the end; its reference is given back by
/// [`HostFs::flush_delayed_fput`], which has a CPU.
#[derive(Default)]
struct ExecCache {
    entries: std::collections::VecDeque<ExecEntry>,
    to_put: Vec<&'static mm::filemap::AddressSpace<'static>>,
}

struct ExecEntry {
    key: (u64, u64),
    sig: ExecSig,
    space: &'static mm::filemap::AddressSpace<'static>,
}

// SAFETY: the address spaces are kernel objects shared between CPUs by
// design (their state is behind their own locks); the cache only holds
// counted references to them.
unsafe impl Send for ExecCache {}

fn lock_exec(m: &Mutex<ExecCache>) -> std::sync::MutexGuard<'_, ExecCache> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ExecCache {
    /// `space` (inode `key`, host state `sig`) was just executed.
    fn note(
        &mut self,
        space: &'static mm::filemap::AddressSpace<'static>,
        key: (u64, u64),
        sig: ExecSig,
        linked: bool,
    ) {
        if let Some(i) = self.entries.iter().position(|e| e.key == key) {
            let e = self.entries.remove(i).expect("index in range");
            if e.sig == sig && linked && std::ptr::eq(e.space, space) {
                self.entries.push_front(e);
                return;
            }
            self.to_put.push(e.space);
        }
        if !linked || !space.igrab() {
            return;
        }
        self.entries.push_front(ExecEntry { key, sig, space });
        if self.entries.len() > EXEC_CACHE_SIZE {
            if let Some(old) = self.entries.pop_back() {
                self.to_put.push(old.space);
            }
        }
    }
}

impl HostFs {
    /// The host directory `root` as the guest's `/`, with the page cache's
    /// pages allocated from `mem`.
    pub fn new(root: &Path, mem: &'static Mem) -> io::Result<HostFs> {
        let root = root.canonicalize()?;
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(&root)?;
        let root_dir = HostDir::new(Arc::new(dir)).map_err(io::Error::from_raw_os_error)?;
        // A host stream that is closed reads as /dev/null.
        let dup = |fd: std::os::fd::BorrowedFd<'_>| -> io::Result<Arc<File>> {
            let f = match fd.try_clone_to_owned() {
                Ok(f) => File::from(f),
                Err(_) => std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")?,
            };
            Ok(Arc::new(f))
        };
        let stdio = [
            dup(io::stdin().as_fd())?,
            dup(io::stdout().as_fd())?,
            dup(io::stderr().as_fd())?,
        ];
        let files = mm::kbox::TypedCache::from_cache(mem.std_cache(mm::slab::StdCache::FilesCache))
            .ok_or_else(|| io::Error::other("files_cache is too small for a files_struct"))?;
        let fs_cache = mm::kbox::TypedCache::create(mem, "fs_cache", mm::slab::SlabFlags::empty())
            .map_err(|e| io::Error::other(format!("fs_cache: {e:?}")))?;
        Ok(HostFs {
            root,
            root_dir,
            cache: PageCache::new(mem),
            shm: super::shmem::Tmpfs::new(mem),
            stdio,
            exec_cache: Mutex::default(),
            write_counts: Arc::default(),
            pipefs: super::pipe::PipeFs::new(),
            locks: super::locks::FileLocks::new(),
            epoll_watches: Arc::default(),
            // A typed view of the machine's cache, kept as long as the
            // objects it hands out may live.
            files_cache: Box::leak(Box::new(files)),
            fs_cache: Box::leak(Box::new(fs_cache)),
            mem,
        })
    }

    /// A `files_struct` holding `table` (`dup_fd`'s allocation), ENOMEM
    /// when RAM is exhausted.
    pub(crate) fn alloc_files(
        &self,
        table: super::fdtable::FdTable,
    ) -> Result<
        mm::kbox::KArc<'static, 'static, crate::task::SpinLock<super::fdtable::FdTable>>,
        Errno,
    > {
        mm::kbox::KArc::new_nocpu(
            self.files_cache,
            self.mem,
            crate::task::SpinLock::new(table),
            mm::gfp::Gfp::GFP_KERNEL,
        )
        .map_err(|_| crate::errno::ENOMEM)
    }

    /// An `fs_struct` holding `fs` (`copy_fs_struct`'s allocation),
    /// ENOMEM when RAM is exhausted.
    pub(crate) fn alloc_fs_struct(
        &self,
        fs: super::FsStruct,
    ) -> Result<mm::kbox::KArc<'static, 'static, std::sync::Mutex<super::FsStruct>>, Errno> {
        mm::kbox::KArc::new_nocpu(
            self.fs_cache,
            self.mem,
            std::sync::Mutex::new(fs),
            mm::gfp::Gfp::GFP_KERNEL,
        )
        .map_err(|_| crate::errno::ENOMEM)
    }

    /// The host directory that is the guest's `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The root directory's device and inode.
    pub(crate) fn root_dir_id(&self) -> (u64, u64) {
        self.root_dir.id()
    }

    /// The memory the page cache allocates from.
    pub fn mem(&self) -> &'static Mem {
        self.cache.mem()
    }

    /// Open the host file `host_path` (any host path: the first program
    /// may lie outside the root) for execution: its page cache, opened
    /// for reading, and its size (the loader reads the headers through
    /// the page cache: nothing is read here). EACCES unless it is a regular
    /// file with an execute bit (Linux says EACCES for a directory, a
    /// device or a FIFO too): the file is opened `O_NONBLOCK` and checked
    /// before anything is read, so a FIFO or /dev/zero cannot block or
    /// feed ferrite forever.
    ///
    /// /proc/PID/maps names the file by its path in the guest when it
    /// lies in the root, else `(unreachable)`.
    pub fn open_exec(&self, host_path: &Path) -> Result<(MmapFile, u64), Errno> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(host_path)
            .map_err(|e| host_errno(&e))?;
        let guest = self.d_path_bytes(&file);
        self.open_exec_file(file, &guest)
    }

    /// The name a host file has in the guest: its path under the root
    /// when it lies there, else `(unreachable)` (nothing of its host
    /// path).
    pub fn guest_path(&self, host_path: &Path) -> Vec<u8> {
        match host_path.canonicalize() {
            Ok(abs) => self.strip_root(abs.as_os_str().as_bytes()),
            Err(_) => UNREACHABLE.to_vec(),
        }
    }

    /// `host` (an absolute host path) as a guest path, or `(unreachable)`.
    fn strip_root(&self, host: &[u8]) -> Vec<u8> {
        let root = self.root.as_os_str().as_bytes();
        match host.strip_prefix(root) {
            Some([]) => b"/".to_vec(),
            Some(rest) if rest.first() == Some(&b'/') => rest.to_vec(),
            _ if root == b"/" && host.first() == Some(&b'/') => host.to_vec(),
            _ => UNREACHABLE.to_vec(),
        }
    }

    /// The guest's name of the host file open as `file` (Linux's
    /// `d_path`), from the host's own name of the handle.
    pub(crate) fn d_path(&self, file: &File) -> DPath {
        let Ok(link) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) else {
            return DPath::Unreachable;
        };
        let link = link.as_os_str().as_bytes();
        if link.first() != Some(&b'/') {
            return DPath::Anon(link.to_vec());
        }
        let gone = file.metadata().is_ok_and(|m| m.nlink() == 0);
        let name = match link.strip_suffix(b" (deleted)") {
            Some(n) if gone => n,
            _ => link,
        };
        let p = self.strip_root(name);
        if p == UNREACHABLE {
            DPath::Unreachable
        } else if gone {
            DPath::Deleted(p)
        } else {
            DPath::Path(p)
        }
    }

    /// [`d_path`](Self::d_path) as /proc shows it (`/a (deleted)`).
    pub(crate) fn d_path_bytes(&self, file: &File) -> Vec<u8> {
        match self.d_path(file) {
            DPath::Path(p) | DPath::Anon(p) => p,
            DPath::Deleted(mut p) => {
                p.extend_from_slice(b" (deleted)");
                p
            }
            DPath::Unreachable => UNREACHABLE.to_vec(),
        }
    }

    /// [`open_exec`](Self::open_exec) of a file already opened for
    /// reading (`O_NONBLOCK`), whose guest path is `guest`.
    pub(crate) fn open_exec_file(
        &self,
        file: File,
        guest: &[u8],
    ) -> Result<(MmapFile, u64), Errno> {
        let meta = file.metadata().map_err(|e| host_errno(&e))?;
        if !meta.is_file() || meta.mode() & 0o111 == 0 {
            return Err(EACCES);
        }
        let mapping = self
            .cache
            .get_or_create(&file, meta.dev(), meta.ino(), false, guest)?;
        let sig = (
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
            meta.len(),
        );
        lock_exec(&self.exec_cache).note(mapping, (meta.dev(), meta.ino()), sig, meta.nlink() > 0);
        Ok((MmapFile::new(mapping, mm::filemap::FMODE_READ), meta.len()))
    }

    /// Write every dirty page of every cached file back to the host
    /// (`sync(2)`); call before the host looks at the files.
    pub fn sync(&self, cpu: &Cpu<'_>) -> Result<(), Errno> {
        self.cache.sync_all(cpu)
    }

    /// Put the references of tmpfs files (`/dev/shm`, memfds) whose last
    /// open file or name went where no CPU was at hand (a `close`, a
    /// descriptor table dropped at exit): Linux's `flush_delayed_fput`.
    /// The file calls that hold a CPU do it too; call it after a process's
    /// files are dropped to free their pages at once.
    pub fn flush_delayed_fput(&self, cpu: &Cpu<'_>) {
        let dropped = std::mem::take(&mut lock_exec(&self.exec_cache).to_put);
        for space in dropped {
            // SAFETY: the exec cache's own reference, given up once.
            unsafe { mm::filemap::iput(cpu, space) };
        }
        super::dev::flush(&self.shm, cpu);
        self.pipefs.flush(cpu);
    }
}
