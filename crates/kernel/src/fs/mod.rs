//! Files (Linux's fs/): the hostfs root, /proc, path lookup, open files
//! and the per-process descriptor table and working directory.
//!
//! - [`HostFs`] (hostfs.rs): a host directory as `/`, shared by every
//!   process, with the page cache of host files (pagecache.rs).
//! - [`Fs`]: one process's `fs_struct` (root, working directory, umask:
//!   an object of the `fs_cache` slab cache, shared by `CLONE_FS`) and
//!   `files_struct` (fdtable.rs, in `files_cache`); the syscall layer calls its methods with
//!   plain values and gets `Result<_, Errno>` with Linux's errno.
//! - namei.rs: path lookup that never leaves the root: it goes from open
//!   host directory handles (the root's, the working directory's, a
//!   directory descriptor's) one component at a time; procfs.rs: the
//!   names under `/proc`, whose contents come from a [`ProcSource`]; the
//!   process's own `/proc/self/{cwd,root,fd/N}` come from `Fs` (magic
//!   links to its handles); dev.rs: the built-in `/dev` (the memory
//!   devices, `tty`, the `fd`/`stdin`/`stdout`/`stderr` symlinks), which
//!   like `/proc` does not depend on the host root; shmem.rs: the
//!   `/dev/shm` tmpfs and memfds, files whose data live in ferrite's page
//!   cache (shmem objects), with no host file behind them.
//! - The calls: open.rs (open, close, dup, fcntl, mkdir, unlink, access,
//!   chdir, exec's open), link.rs (symlink, rename), read_write.rs (read, write, lseek, truncate,
//!   fsync), readdir.rs (getdents64), stat_calls.rs (stat, readlink),
//!   tty.rs (TCGETS), attr.rs (chmod, chown, utimensat, statfs),
//!   `memfd_create` and the seals' `fcntl` in open.rs, `mmap`'s view of a
//!   descriptor ([`Fs::mmap_source`]) here.
//! - pipe.rs (pipe2, pipe reads and writes, F_GETPIPE_SZ/F_SETPIPE_SZ),
//!   eventfd.rs (eventfd2), poll.rs (ppoll, pselect6, epoll_pwait and
//!   each file's readiness), eventpoll.rs (epoll instances and
//!   epoll_ctl), timerfd.rs (timerfd_create/settime/gettime and its
//!   reads), locks.rs (record locks, OFD locks, flock, /proc/locks),
//!   falloc.rs (fallocate).
//! - stat.rs (`struct stat`'s bytes) and flags.rs (the ABI's values).
//!
//! Methods that move file data (`read`, `write`, `pread`, `pwrite`,
//! `ftruncate`, `fsync`, and `openat` for `O_TRUNC`) take the caller's
//! [`Cpu`](mm::Cpu): keeping the page cache coherent needs one (page
//! references and truncation are per-CPU operations in mm).
//!
//! Where ferrite differs from Linux overall: there are no mounts besides
//! `/proc`, `/dev` and `/dev/shm`, no inode or dentry cache (every lookup asks the host), and
//! credentials are the host's (see hostfs.rs). `/proc/PID/{cwd,root,fd}`
//! of another process are answered by that process's `Fs` (found through
//! [`ProcSource::files_of`]). The table and working
//! directory are locked inside `Fs`, so its methods take `&self` and I/O
//! runs without holding the table lock (a blocked read does not stop the
//! other threads of a process that share the table).

pub mod attr;
mod dev;
pub mod eventfd;
pub mod eventpoll;
mod falloc;
mod fdtable;
pub mod flags;
mod hostfs;
pub mod link;
pub mod locks;
mod namei;
pub(crate) mod open;
mod pagecache;
pub mod pipe;
pub mod poll;
mod procfs;
mod read_write;
pub mod readdir;
mod shmem;
pub mod stat;
mod stat_calls;
pub mod timerfd;
pub mod tty;
pub mod writecount;

use std::sync::{Arc, Mutex};

pub use hostfs::HostFs;
pub use pagecache::MmapFile;
pub use procfs::{ProcLive, ProcSource, SYS_ROOT};
pub use read_write::{IoFile, UserIter, CHUNK};
pub use stat::Stat;
pub use tty::{TtyAccess, TtyCaller, TtyState, TERMIOS_SIZE};

use crate::errno::{Errno, EBADF, ENOENT, ENOTDIR};

use crate::task::SpinLock;
use dev::DevNode;
use fdtable::{lock, Fd, FdTable, Kind, OpenFile};
use hostfs::DPath;
use namei::{HostDir, Jump, Pos, ProcNames, Walker};
use procfs::ProcNode;

/// One process's files: working directory, umask and descriptor table
/// (Linux's `fs_struct` + `files_struct`).
pub struct Fs {
    host: Arc<HostFs>,
    proc: Arc<dyn ProcSource>,
    /// The `fs_struct` (root, working directory, umask), an object of the
    /// `fs_cache` slab cache in ferrite's RAM, shared by `CLONE_FS`.
    fs_struct: FsRef,
    /// The descriptor table (`files_struct`, an object of the
    /// `files_cache` slab cache in ferrite's RAM), shared by `CLONE_FILES`.
    table: FilesRef,
    /// pipefs (inode numbers, FIFOs, pages to free): the hostfs's, shared
    /// by every process.
    pipefs: Arc<pipe::PipeFs>,
    /// The terminal's job control, shared likewise.
    tty: Arc<tty::TtyState>,
}

/// `struct fs_struct`: the root, the working directory (a handle, never
/// a path) and the umask of the processes that share it (`CLONE_FS`).
///
/// Where ferrite differs: the directories are host handles (an open host
/// directory, or a name under /proc or /dev), which live on the host
/// heap; the object counting them is ferrite's. The root is always the
/// machine's (no chroot).
pub(crate) struct FsStruct {
    pub(crate) root: Pos,
    pub(crate) pwd: Pos,
    pub(crate) umask: u32,
}

/// A reference to an `fs_struct` (`fs->users` is the reference count).
type FsRef = mm::kbox::KArc<'static, 'static, Mutex<FsStruct>>;

/// The `fs_cache` objects, as a typed cache.
pub(crate) type FsCache = mm::kbox::TypedCache<'static, mm::kbox::KArcInner<Mutex<FsStruct>>>;

/// A reference to a `files_struct` (the table's slots are on the host
/// heap: they hold host handles).
type FilesRef = mm::kbox::KArc<'static, 'static, SpinLock<FdTable>>;

/// The `files_cache` objects, as a typed cache.
pub(crate) type FilesCache = mm::kbox::TypedCache<'static, mm::kbox::KArcInner<SpinLock<FdTable>>>;

/// The size of a `files_struct` object (boot sizes `files_cache` to it).
pub const FILES_STRUCT_SIZE: usize = std::mem::size_of::<mm::kbox::KArcInner<SpinLock<FdTable>>>();

/// An executable opened by [`Fs::open_exec`].
pub struct ExecFile {
    /// Its page cache, opened for reading (for the loader's mappings and
    /// the header reads).
    pub mmap: MmapFile,
    /// Its size when opened.
    pub size: u64,
    /// Its guest path with symlinks resolved (`/proc/self/exe`), or
    /// `(unreachable)`.
    pub path: Vec<u8>,
    /// Its inode (for `deny_write_access`).
    pub key: writecount::InodeKey,
}

impl ExecFile {
    /// The file's first bytes, at most `BINPRM_BUF_SIZE` (`bprm->buf`,
    /// where binfmt_script looks for `#!`), read through the page cache.
    pub fn head(&self, cpu: &mm::Cpu<'_>) -> Result<Vec<u8>, Errno> {
        let mut buf = vec![0; self.size.min(crate::exec::script::BINPRM_BUF_SIZE as u64) as usize];
        self.mmap.read_at(cpu, 0, &mut buf)?;
        Ok(buf)
    }

    /// The file as the ELF checks read it.
    pub fn elf<'a>(&'a self, cpu: &'a mm::Cpu<'a>) -> crate::exec::elf::CachedFile<'a> {
        crate::exec::elf::CachedFile {
            file: &self.mmap,
            size: self.size,
            cpu,
        }
    }
}

impl Fs {
    /// A process with descriptors 0, 1 and 2 on the host's standard
    /// streams and `/` as its working directory.
    /// ENOMEM when the `files_struct` cannot be allocated.
    pub fn new(root: Arc<HostFs>, proc: Arc<dyn ProcSource>) -> Result<Fs, Errno> {
        let mut table = FdTable::default();
        table.locks = Some(root.locks.clone());
        for (i, f) in root.stdio.iter().enumerate() {
            let flags = [flags::O_RDONLY, flags::O_WRONLY, flags::O_WRONLY][i] | flags::O_LARGEFILE;
            let fmode = [
                mm::filemap::FMODE_READ,
                mm::filemap::FMODE_WRITE,
                mm::filemap::FMODE_WRITE,
            ][i];
            let file = OpenFile::new(Kind::Stdio { file: f.clone() }, fmode, flags);
            table.set(
                i,
                Fd {
                    file,
                    cloexec: false,
                },
            );
        }
        let fs_struct = root.alloc_fs_struct(FsStruct {
            root: Pos::Host(root.root_dir.clone()),
            pwd: Pos::Host(root.root_dir.clone()),
            umask: 0o022,
        })?;
        let table = root.alloc_files(table)?;
        let pipefs = root.pipefs.clone();
        Ok(Fs {
            host: root,
            proc,
            fs_struct,
            table,
            pipefs,
            tty: tty::TtyState::new(),
        })
    }

    /// The copy `fork` gives the child (`dup_fd` + `copy_fs_struct`): the
    /// same open files (shared offsets), working directory and umask;
    /// `proc` is the child's view of /proc (its `self`).
    pub fn fork(&self, proc: Arc<dyn ProcSource>) -> Result<Fs, Errno> {
        self.clone_for(false, false, proc)
    }

    /// The files of a `clone` child: the working directory and umask
    /// shared (`CLONE_FS`) or copied (`copy_fs_struct`), the descriptor
    /// table shared (`CLONE_FILES`) or copied (`dup_fd`).
    pub fn clone_for(
        &self,
        share_fs: bool,
        share_files: bool,
        proc: Arc<dyn ProcSource>,
    ) -> Result<Fs, Errno> {
        // `copy_fs_struct` unless shared.
        let fs_struct = if share_fs {
            self.fs_struct.clone()
        } else {
            let copy = {
                let f = lock(&self.fs_struct);
                FsStruct {
                    root: f.root.clone(),
                    pwd: f.pwd.clone(),
                    umask: f.umask,
                }
            };
            self.host.alloc_fs_struct(copy)?
        };
        let table = if share_files {
            self.table.clone()
        } else {
            let copy = lock(&self.table).clone();
            self.host.alloc_files(copy)?
        };
        Ok(Fs {
            host: self.host.clone(),
            proc,
            fs_struct,
            table,
            pipefs: self.pipefs.clone(),
            tty: self.tty.clone(),
        })
    }

    /// The umask (for /proc/PID/status).
    pub fn get_umask(&self) -> u32 {
        lock(&self.fs_struct).umask
    }

    /// Whether the descriptor table is shared with another task
    /// (`unshare_files` at exec is needed then).
    pub fn files_shared(&self) -> bool {
        FilesRef::strong_count(&self.table) > 1
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

    /// What `/proc/PID/fd/<fd>` links to: the guest path of the file
    /// (computed from its handle; `/a (deleted)` if removed), `/proc/...`
    /// for procfs. For the host's standard streams: what the host calls
    /// a pipe, socket or anonymous file (`pipe:[123]`), a device's `/dev/`
    /// name (`/dev/pts/3`, `/dev/null`), the guest path of a file in the
    /// root, and `(unreachable)` for any other host file, so that the
    /// host path of a redirected stream is never shown. None if `fd` is
    /// not open.
    pub fn fd_path(&self, fd: i32) -> Option<Vec<u8>> {
        let f = self.file(fd).ok()?;
        Some(match &f.kind {
            Kind::Stdio { file } => match self.host.d_path(file) {
                DPath::Unreachable => host_device_name(file),
                d => dpath_bytes(d),
            },
            Kind::Host { file, .. } => self.host.d_path_bytes(file),
            Kind::Dir { file } | Kind::HostPath { file } => self.host.d_path_bytes(file),
            Kind::Proc { rel, .. } => proc_path(rel),
            Kind::Dev(n) => n.path(),
            Kind::Pipe(end) => match &end.fifo {
                Some(file) => self.host.d_path_bytes(file),
                None => format!("pipe:[{}]", end.pipe.ino).into_bytes(),
            },
            Kind::EventFd(_) => b"anon_inode:[eventfd]".to_vec(),
            Kind::Epoll(_) => b"anon_inode:[eventpoll]".to_vec(),
            Kind::TimerFd(_) => b"anon_inode:[timerfd]".to_vec(),
        })
    }

    /// `getcwd(2)`: the working directory's guest path (no NUL); ENOENT if
    /// it was removed, `(unreachable)` if it is not under the root.
    pub fn getcwd(&self) -> Result<Vec<u8>, Errno> {
        let cwd = lock(&self.fs_struct).pwd.clone();
        match cwd {
            Pos::Proc(rel) => Ok(proc_path(&rel)),
            Pos::Dev(d) => Ok(dev::dir_path(d).to_vec()),
            Pos::Host(d) => match self.host.d_path(d.file()) {
                DPath::Deleted(_) => Err(ENOENT),
                d => Ok(dpath_bytes(d)),
            },
        }
    }

    /// `umask(2)`: set the mask, return the old one.
    pub fn umask(&self, mask: u32) -> u32 {
        std::mem::replace(&mut lock(&self.fs_struct).umask, mask & 0o777)
    }

    fn walker(&self) -> Walker<'_> {
        Walker {
            root: &self.host.root_dir,
            proc: self,
            shm: Some(&self.host.shm),
        }
    }

    /// The open file of `fd`, or EBADF.
    fn file(&self, fd: i32) -> Result<Arc<OpenFile>, Errno> {
        Ok(lock(&self.table).get(fd)?.file.clone())
    }

    /// `anon_inode_getfd`: a new read-write description of `kind` (an
    /// eventfd, epoll or timerfd; `O_NONBLOCK` taken from `flags`), at the
    /// lowest free descriptor.
    fn anon_inode_getfd(&self, kind: Kind, flags: i32, cloexec: bool) -> Result<i32, Errno> {
        use mm::filemap::{FMODE_READ, FMODE_WRITE};
        let file = OpenFile::new(
            kind,
            FMODE_READ | FMODE_WRITE,
            flags::O_RDWR | (flags & flags::O_NONBLOCK),
        );
        lock(&self.table).install(0, Fd { file, cloexec })
    }

    /// What `pick` finds in the file of `fd` (EBADF for none or an
    /// `O_PATH` one; EINVAL for a file of another kind).
    fn anon_file<T>(&self, fd: i32, pick: impl FnOnce(&Kind) -> Option<T>) -> Result<T, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        pick(&f.kind).ok_or(crate::errno::EINVAL)
    }

    /// Where a relative `path` starts: the working directory or `dirfd`'s
    /// directory (EBADF, ENOTDIR). Absolute paths ignore `dirfd`.
    fn start(&self, dirfd: i32, path: &[u8]) -> Result<Pos, Errno> {
        if path.first() == Some(&b'/') {
            return Ok(Pos::Host(self.host.root_dir.clone()));
        }
        if dirfd == flags::AT_FDCWD {
            return Ok(lock(&self.fs_struct).pwd.clone());
        }
        self.file(dirfd)?.dir_pos().ok_or(ENOTDIR)
    }

    /// The host file behind `fd` for `mmap` (Linux's `file->f_mapping`):
    /// EBADF for a bad or `O_PATH` descriptor, ENODEV for what cannot be
    /// mapped (directories, procfs, terminals), EACCES for a descriptor
    /// not open for reading (as `mmap` says whatever the protection).
    pub fn file_for_mmap(&self, fd: i32) -> Result<MmapFile, Errno> {
        match self.mmap_source(fd, 0, 0)? {
            MmapSource::File(f) => Ok(f),
            MmapSource::Zero => Err(crate::errno::ENODEV),
        }
    }

    /// What `mmap(2)` of `fd` with `prot` and `flags` maps (Linux's
    /// `f_op->mmap`): a file's page cache (a host file, a `/dev/shm`
    /// file, a memfd) or `/dev/zero`'s anonymous memory. EBADF for a bad
    /// or `O_PATH` descriptor, ENODEV for what cannot be mapped, EACCES for
    /// a descriptor not open for reading (or a shared writable mapping of
    /// `/dev/zero` open read-only; for files mm checks it), EPERM for a
    /// shared writable mapping of a file sealed against writes (a shared
    /// read-only one then cannot become writable).
    pub fn mmap_source(&self, fd: i32, prot: usize, flags: usize) -> Result<MmapSource, Errno> {
        use mm::filemap::{FMODE_READ, FMODE_WRITE};
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        let shared = matches!(flags & 0xf, 0x1 | 0x3);
        let prot_write = prot & 0x2 != 0;
        match &f.kind {
            Kind::Dev(DevNode::Chr(dev::CharDev::Zero)) => {
                if f.fmode & FMODE_READ == 0 || (shared && prot_write && f.fmode & FMODE_WRITE == 0)
                {
                    return Err(crate::errno::EACCES);
                }
                Ok(MmapSource::Zero)
            }
            Kind::Dev(DevNode::Shm(inode)) => {
                if f.fmode & FMODE_READ == 0 {
                    return Err(crate::errno::EACCES);
                }
                let mut fmode = f.fmode;
                let sealed = inode.seals() & (flags::F_SEAL_WRITE | flags::F_SEAL_FUTURE_WRITE);
                if shared && sealed != 0 {
                    if prot_write {
                        return Err(crate::errno::EPERM);
                    }
                    fmode &= !FMODE_WRITE;
                }
                let space = inode.mapping();
                if !space.igrab() {
                    return Err(crate::errno::ENODEV);
                }
                Ok(MmapSource::File(MmapFile::new(space, fmode)))
            }
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
                let path = self.host.d_path_bytes(file);
                let space = self
                    .host
                    .cache
                    .get_or_create(file, *dev, *ino, writable, &path)?;
                Ok(MmapSource::File(MmapFile::new(space, f.fmode)))
            }
            _ => Err(crate::errno::ENODEV),
        }
    }

    /// Put the tmpfs references dropped without a CPU (see
    /// [`HostFs::flush_delayed_fput`]) and free the pages of pipes
    /// released without one (pipe.rs).
    pub fn flush_delayed_fput(&self, cpu: &mm::Cpu<'_>) {
        self.host.flush_delayed_fput(cpu);
    }

    /// This process's pipefs (for tests: pages waiting to be freed).
    pub fn pipefs(&self) -> &Arc<pipe::PipeFs> {
        &self.pipefs
    }
}

/// What [`Fs::mmap_source`] found to map.
pub enum MmapSource {
    /// A file's page cache, with a reference for the caller.
    File(MmapFile),
    /// `/dev/zero`: private anonymous memory for `MAP_PRIVATE`, shared
    /// anonymous memory (a shmem object) for `MAP_SHARED`, as Linux's
    /// `mmap_zero`.
    Zero,
}

impl OpenFile {
    /// Where a lookup relative to this descriptor starts, if it is a
    /// directory.
    fn dir_pos(&self) -> Option<Pos> {
        match &self.kind {
            Kind::Dir { file } | Kind::HostPath { file } => {
                HostDir::new(file.clone()).ok().map(Pos::Host)
            }
            Kind::Proc {
                rel,
                node: ProcNode::Dir,
                ..
            } => Some(Pos::Proc(rel.clone())),
            Kind::Dev(DevNode::Dir(d)) => Some(Pos::Dev(*d)),
            _ => None,
        }
    }
}

/// `/proc/<rel>` (or the /sys path of a sysfs name).
fn proc_path(rel: &str) -> Vec<u8> {
    if rel.starts_with(procfs::SYS_ROOT) {
        rel.as_bytes().to_vec()
    } else if rel.is_empty() {
        b"/proc".to_vec()
    } else {
        format!("/proc/{rel}").into_bytes()
    }
}

/// A [`DPath`] as /proc and getcwd show it.
fn dpath_bytes(d: DPath) -> Vec<u8> {
    match d {
        DPath::Path(p) | DPath::Anon(p) => p,
        DPath::Deleted(mut p) => {
            p.extend_from_slice(b" (deleted)");
            p
        }
        DPath::Unreachable => hostfs::UNREACHABLE.to_vec(),
    }
}

/// The host's name of a standard stream outside the root: a character
/// device's `/dev/` name (a terminal, `/dev/null`: no secret, and what
/// Linux would show), else `(unreachable)`.
fn host_device_name(file: &std::fs::File) -> Vec<u8> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    let chr = file
        .metadata()
        .is_ok_and(|m| m.file_type().is_char_device());
    let link = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()));
    match link {
        Ok(l) if chr && l.starts_with("/dev/") && !l.as_os_str().as_bytes().contains(&b'\n') => {
            l.as_os_str().as_bytes().to_vec()
        }
        _ => hostfs::UNREACHABLE.to_vec(),
    }
}

impl Fs {
    /// The part of `rel` (below /proc) after this process's own directory
    /// (`self/...` or `<own pid>/...`), if it is in it.
    fn own_proc<'r>(&self, rel: &'r str) -> Option<&'r str> {
        let (first, rest) = rel.split_once('/')?;
        if first == "self" {
            return Some(rest);
        }
        let me = self.proc.readlink("self")?;
        (first.as_bytes() == me.as_slice()).then_some(rest)
    }

    /// The open descriptor named by `n` under `fd/` (digits only).
    fn proc_fd(&self, n: &str) -> Option<i32> {
        if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n.parse().ok()
    }
}

impl Fs {
    /// Another process's files and the rest of `rel` when `rel` names
    /// its `fd`, `fd/N`, `cwd` or `root` (answered by its own `Fs`).
    fn other_proc(&self, rel: &str) -> Option<(Arc<Fs>, String)> {
        if self.own_proc(rel).is_some() {
            return None;
        }
        let (first, rest) = rel.split_once('/')?;
        if !(rest == "fd" || rest == "cwd" || rest == "root" || rest.starts_with("fd/")) {
            return None;
        }
        let fs = self.proc.files_of(first)?;
        Some((fs, format!("self/{rest}")))
    }
}

impl ProcNames for Fs {
    fn lookup(&self, rel: &str) -> Option<ProcNode> {
        if let Some((fs, r)) = self.other_proc(rel) {
            return fs.lookup(&r);
        }
        match self.own_proc(rel) {
            Some("fd") => return Some(ProcNode::Dir),
            Some("cwd") => {
                // As Linux shows it: `/d (deleted)` for a removed one.
                let cwd = match lock(&self.fs_struct).pwd.clone() {
                    Pos::Proc(rel) => proc_path(&rel),
                    Pos::Dev(d) => dev::dir_path(d).to_vec(),
                    Pos::Host(d) => self.host.d_path_bytes(d.file()),
                };
                return Some(ProcNode::Symlink(cwd));
            }
            Some("root") => return Some(ProcNode::Symlink(b"/".to_vec())),
            Some(r) if r.starts_with("fd/") => {
                let fd = self.proc_fd(&r[3..])?;
                return self.fd_path(fd).map(ProcNode::Symlink);
            }
            _ => {}
        }
        procfs::lookup(&*self.proc, rel)
    }

    fn jump(&self, rel: &str) -> Option<Jump> {
        let pos_jump = |p: Pos| match p {
            Pos::Host(d) => Jump::Host(d.file().clone()),
            Pos::Proc(r) => Jump::Proc(r),
            Pos::Dev(d) => Jump::Dev(DevNode::Dir(d)),
        };
        if let Some((fs, r)) = self.other_proc(rel) {
            return fs.jump(&r);
        }
        match self.own_proc(rel)? {
            "cwd" => Some(pos_jump(lock(&self.fs_struct).pwd.clone())),
            "root" => Some(pos_jump(lock(&self.fs_struct).root.clone())),
            r if r.starts_with("fd/") => {
                let f = self.file(self.proc_fd(&r[3..])?).ok()?;
                match &f.kind {
                    Kind::Host { file, .. } => {
                        file.try_clone().ok().map(|f| Jump::Host(Arc::new(f)))
                    }
                    Kind::Dir { file } | Kind::HostPath { file } => Some(Jump::Host(file.clone())),
                    Kind::Proc {
                        rel,
                        node: ProcNode::Dir,
                        ..
                    } => Some(Jump::Proc(rel.clone())),
                    Kind::Dev(n) => Some(Jump::Dev(n.clone())),
                    // A standard stream is not reopened from its host
                    // handle (that could widen its access on the host
                    // file behind it); a procfs file by its name.
                    Kind::Stdio { .. } | Kind::Proc { .. } => None,
                    // A named FIFO reopens by its host file; reopening an
                    // anonymous pipe as a FIFO is not supported.
                    Kind::Pipe(end) => end.fifo.clone().map(Jump::Host),
                    Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => None,
                }
            }
            _ => None,
        }
    }
}
