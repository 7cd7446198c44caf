//! Opening, closing and naming files (Linux's fs/open.c `do_sys_openat2`,
//! `build_open_flags`, `may_open`, `faccessat`, `chdir`; fs/namei.c
//! `do_mkdirat`, `do_rmdir`, `do_unlinkat`; fs/file.c `dup`, `dup3`;
//! fs/fcntl.c).
//!
//! Every host call acts through a handle from the lookup (namei.rs): the
//! last component's directory and name (`openat(O_NOFOLLOW)`, `mkdirat`,
//! `unlinkat`, `faccessat(AT_SYMLINK_NOFOLLOW)`) or the `O_PATH` handle
//! of the file itself (a directory is opened as `openat(handle, ".")`),
//! never a host path.
//!
//! Where ferrite differs: `O_TMPFILE` is EOPNOTSUPP (as on a file system
//! without it); a file or directory is created with exactly the mode
//! asked less the process's umask (the host's umask is undone);
//! creating or removing anything under /proc is EACCES (what a non-root
//! Linux user gets); permission checks are the host's. A file reached
//! only by a magic link (`/proc/self/fd/N` of a non-directory) is
//! reopened through the host's own `/proc/self/fd` of ferrite's handle,
//! as Linux reopens it.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags};

use mm::filemap::{FMODE_READ, FMODE_WRITE};
use mm::Cpu;

use crate::errno::*;

use super::dev::{self, DevDir, DevNode};
use super::fdtable::{lock, Fd, Kind, OpenFile};
use super::flags::*;
use super::hostfs::host_errno;
use super::namei::{rx, HostDir, Last, Parent, Pos, ProcNames, Target};
use super::procfs::{self, ProcNode};
use super::{ExecFile, Fs};

/// The status flags `open` keeps and `F_GETFL` reports.
const KEPT_FLAGS: i32 =
    O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_NOATIME | O_SYNC | O_PATH;
/// The flags `F_SETFL` may change.
const SETFL_FLAGS: i32 = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
/// The flags an `O_PATH` open keeps.
const PATH_FLAGS: i32 = O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_PATH;

impl Fs {
    /// `openat(2)`: a new descriptor, the lowest free one. (A FIFO opened
    /// here never waits for its other side: see [`Fs::openat_as`].)
    pub fn openat(
        &self,
        cpu: &Cpu<'_>,
        dirfd: i32,
        path: &[u8],
        flags: i32,
        mode: u32,
    ) -> Result<i32, Errno> {
        self.openat_as(cpu, dirfd, path, flags, mode, None)
    }

    /// `openat(2)` by the task `waiter`, which a FIFO open may put to
    /// sleep until the other side opens (then [`super::pipe::FIFO_WAIT`]).
    pub fn openat_as(
        &self,
        cpu: &Cpu<'_>,
        dirfd: i32,
        path: &[u8],
        flags: i32,
        mode: u32,
        waiter: Option<&crate::task::TaskRef>,
    ) -> Result<i32, Errno> {
        let path = super::namei::check_path(path)?;
        if path.is_empty() {
            return Err(ENOENT);
        }
        let flags = if flags & O_PATH != 0 {
            flags & PATH_FLAGS
        } else {
            flags
        };
        if flags & O_TMPFILE & !O_DIRECTORY != 0 {
            if flags & O_TMPFILE != O_TMPFILE || flags & O_ACCMODE == O_RDONLY {
                return Err(EINVAL);
            }
            return Err(EOPNOTSUPP);
        }
        if flags & (O_CREAT | O_DIRECTORY) == O_CREAT | O_DIRECTORY {
            return Err(EINVAL);
        }
        super::dev::flush(&self.host.shm, cpu);
        // Linux takes the descriptor before the lookup.
        lock(&self.table).free_slot(0)?;
        let start = self.start(dirfd, path)?;
        let excl = flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL;
        let follow = flags & O_NOFOLLOW == 0 && !excl;
        let target = self.walker().resolve(&start, path, follow)?;
        let file = self.open_target(cpu, target, flags, mode, waiter)?;
        let fd = Fd {
            file,
            cloexec: flags & O_CLOEXEC != 0,
        };
        lock(&self.table).install(0, fd)
    }

    fn open_target(
        &self,
        cpu: &Cpu<'_>,
        target: Target,
        flags: i32,
        mode: u32,
        waiter: Option<&crate::task::TaskRef>,
    ) -> Result<Arc<OpenFile>, Errno> {
        let acc = flags & O_ACCMODE;
        // `OPEN_FMODE`: 0 -> read, 1 -> write, 2 -> both, 3 -> neither.
        let fmode = if flags & O_PATH != 0 {
            0
        } else {
            match acc {
                O_RDONLY => FMODE_READ,
                O_WRONLY => FMODE_WRITE,
                O_RDWR => FMODE_READ | FMODE_WRITE,
                _ => 0,
            }
        };
        let kept = (flags & KEPT_FLAGS) | O_LARGEFILE;
        let wants_write = acc != O_RDONLY || flags & O_TRUNC != 0;
        let excl = flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL;
        match target {
            Target::Missing {
                parent,
                dev,
                name,
                trailing_slash,
            } => {
                if flags & O_CREAT == 0 || flags & O_PATH != 0 {
                    return Err(ENOENT);
                }
                if trailing_slash {
                    return Err(EISDIR);
                }
                if dev == Some(DevDir::Shm) {
                    let umask = lock(&self.fs_struct).umask;
                    let inode = self.host.shm.create(&name, mode & !umask & 0o7777)?;
                    return Ok(OpenFile::new(Kind::Dev(DevNode::Shm(inode)), fmode, kept));
                }
                let dir = parent.ok_or(EACCES)?;
                let umask = lock(&self.fs_struct).umask;
                let mode = mode & !umask & 0o7777;
                // O_CREAT|O_EXCL|O_NOFOLLOW: a new file in that directory,
                // whatever appeared there since the lookup.
                let oflags = host_access_flags(acc)
                    | host_open_flags(flags)
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                let file = File::from(
                    rustix::fs::openat(
                        dir.fd(),
                        name.as_slice(),
                        oflags,
                        Mode::from_raw_mode(mode),
                    )
                    .map_err(rx)?,
                );
                // The mode exactly, whatever the host process's umask.
                rustix::fs::fchmod(&file, Mode::from_raw_mode(mode)).map_err(rx)?;
                let meta = file.metadata().map_err(|e| host_errno(&e))?;
                let wc = if fmode & FMODE_WRITE != 0 {
                    Some(
                        self.host
                            .write_counts
                            .get_write_access((meta.dev(), meta.ino()))?,
                    )
                } else {
                    None
                };
                let kind = Kind::Host {
                    file,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    regular: true,
                };
                Ok(OpenFile::new_writer(kind, fmode, kept, wc))
            }
            _ if excl => Err(EEXIST),
            Target::Dev(node) => self.open_dev(cpu, node, flags, fmode),
            Target::Host { file, meta, parent } => {
                let ft = meta.file_type();
                if ft.is_symlink() {
                    // Not followed: O_NOFOLLOW (or O_CREAT|O_EXCL, above).
                    if flags & O_PATH == 0 {
                        return Err(ELOOP);
                    }
                    return Ok(OpenFile::new(Kind::HostPath { file }, 0, kept));
                }
                if ft.is_dir() {
                    if flags & O_CREAT != 0 || (flags & O_PATH == 0 && wants_write) {
                        return Err(EISDIR);
                    }
                } else if flags & O_DIRECTORY != 0 {
                    return Err(ENOTDIR);
                }
                if flags & O_PATH != 0 {
                    return Ok(OpenFile::new(Kind::HostPath { file }, 0, kept));
                }
                if ft.is_fifo() {
                    // The host FIFO is only a name: the pipe is ferrite's
                    // (pipe.rs), after the host's permission check.
                    let mut want = 0;
                    if fmode & FMODE_READ != 0 {
                        want |= R_OK;
                    }
                    if fmode & FMODE_WRITE != 0 {
                        want |= W_OK;
                    }
                    host_access(&file, &meta, parent.as_ref(), want, true)?;
                    let key = (meta.dev(), meta.ino());
                    return self.fifo_open(file, key, fmode, kept & !O_DIRECT, waiter);
                }
                // `get_write_access` before anything (O_TRUNC included)
                // touches the file: ETXTBSY for a running program.
                let wc = if ft.is_file() && fmode & FMODE_WRITE != 0 {
                    Some(
                        self.host
                            .write_counts
                            .get_write_access((meta.dev(), meta.ino()))?,
                    )
                } else {
                    None
                };
                let old_size = meta.len();
                let mut oflags = host_access_flags(acc) | host_open_flags(flags) | OFlags::CLOEXEC;
                if ft.is_file() && flags & O_TRUNC != 0 {
                    oflags |= OFlags::TRUNC;
                }
                let opened = if ft.is_dir() {
                    rustix::fs::openat(&*file, ".", oflags | OFlags::DIRECTORY, Mode::empty())
                } else if let Some((dir, name)) = &parent {
                    rustix::fs::openat(
                        dir.fd(),
                        name.as_slice(),
                        oflags | OFlags::NOFOLLOW,
                        Mode::empty(),
                    )
                } else {
                    // Reached by a magic link: reopen the very file.
                    let link = format!("/proc/self/fd/{}", file.as_raw_fd());
                    rustix::fs::openat(rustix::fs::CWD, link.as_str(), oflags, Mode::empty())
                };
                let opened = File::from(opened.map_err(rx)?);
                let m = opened.metadata().map_err(|e| host_errno(&e))?;
                let kind = if m.is_dir() {
                    Kind::Dir {
                        file: Arc::new(opened),
                    }
                } else {
                    if m.is_file() && flags & O_TRUNC != 0 && old_size != 0 {
                        self.host.cache.truncate(cpu, m.dev(), m.ino(), 0)?;
                    }
                    Kind::Host {
                        file: opened,
                        dev: m.dev(),
                        ino: m.ino(),
                        regular: m.is_file(),
                    }
                };
                Ok(OpenFile::new_writer(kind, fmode, kept, wc))
            }
            Target::Proc { rel, node } => {
                match node {
                    ProcNode::Symlink(_) if flags & O_PATH == 0 => return Err(ELOOP),
                    ProcNode::Dir
                        if flags & O_PATH == 0 && (flags & O_CREAT != 0 || wants_write) =>
                    {
                        return Err(EISDIR)
                    }
                    ProcNode::File if flags & O_DIRECTORY != 0 => return Err(ENOTDIR),
                    ProcNode::File
                        if flags & O_PATH == 0 && wants_write && !self.proc_writable(&rel) =>
                    {
                        return Err(EACCES)
                    }
                    _ => {}
                }
                let live = match node {
                    ProcNode::File if flags & O_PATH == 0 => self.proc.open_live(&rel),
                    _ => None,
                }
                .transpose()?;
                let data = match node {
                    ProcNode::File if flags & O_PATH == 0 && live.is_none() => {
                        self.proc.read(&rel).ok_or(ENOENT)?
                    }
                    _ => Vec::new(),
                };
                Ok(OpenFile::new(
                    Kind::Proc {
                        rel,
                        node,
                        data,
                        live,
                    },
                    fmode,
                    kept,
                ))
            }
        }
    }

    /// Open a name of `/dev` (`chrdev_open`, `shmem` files).
    fn open_dev(
        &self,
        cpu: &Cpu<'_>,
        node: DevNode,
        flags: i32,
        fmode: u32,
    ) -> Result<Arc<OpenFile>, Errno> {
        let kept = (flags & KEPT_FLAGS) | O_LARGEFILE;
        let acc = flags & O_ACCMODE;
        let wants_write = acc != O_RDONLY || flags & O_TRUNC != 0;
        let path = flags & O_PATH != 0;
        match &node {
            // Not followed: O_NOFOLLOW.
            DevNode::Symlink { .. } if !path => return Err(ELOOP),
            DevNode::Dir(_) if flags & O_CREAT != 0 || (!path && wants_write) => {
                return Err(EISDIR)
            }
            DevNode::Chr(_) | DevNode::Shm(_) if flags & O_DIRECTORY != 0 => return Err(ENOTDIR),
            _ => {}
        }
        if path {
            return Ok(OpenFile::new(Kind::Dev(node), 0, kept));
        }
        let mut want = 0;
        if acc != O_WRONLY {
            want |= R_OK;
        }
        if wants_write {
            want |= W_OK;
        }
        node.permission(&self.host.shm, want)?;
        if let DevNode::Shm(inode) = &node {
            if flags & O_TRUNC != 0 {
                inode.truncate(cpu, 0)?;
            }
        }
        Ok(OpenFile::new(Kind::Dev(node), fmode, kept))
    }

    /// `memfd_create(2)` (`flags`: `MFD_CLOEXEC`, `MFD_ALLOW_SEALING`,
    /// `MFD_NOEXEC_SEAL`, `MFD_EXEC`; `name` without its NUL, at most
    /// [`MFD_NAME_MAX_LEN`] bytes): a new descriptor of an unnamed tmpfs
    /// file, open for reading and writing. EINVAL for unknown flags, a
    /// name too long, `MFD_HUGETLB` (ferrite has no hugetlbfs) or both
    /// `MFD_EXEC` and `MFD_NOEXEC_SEAL`.
    pub fn memfd_create(&self, name: &[u8], flags: u32) -> Result<i32, Errno> {
        let known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
        if flags & !known != 0
            || flags & MFD_HUGETLB != 0
            || flags & (MFD_EXEC | MFD_NOEXEC_SEAL) == MFD_EXEC | MFD_NOEXEC_SEAL
            || name.len() > MFD_NAME_MAX_LEN
        {
            return Err(EINVAL);
        }
        lock(&self.table).free_slot(0)?;
        let (mode, seals) = if flags & MFD_NOEXEC_SEAL != 0 {
            (0o666, F_SEAL_EXEC)
        } else if flags & MFD_ALLOW_SEALING != 0 {
            (0o777, 0)
        } else {
            (0o777, F_SEAL_SEAL)
        };
        let inode = self.host.shm.memfd(name, mode, seals)?;
        let file = OpenFile::new(
            Kind::Dev(DevNode::Shm(inode)),
            FMODE_READ | FMODE_WRITE,
            O_RDWR | O_LARGEFILE,
        );
        let fd = Fd {
            file,
            cloexec: flags & MFD_CLOEXEC != 0,
        };
        lock(&self.table).install(0, fd)
    }

    /// `close(2)`.
    pub fn close(&self, fd: i32) -> Result<(), Errno> {
        lock(&self.table).remove(fd).map(|_| ())
    }

    /// `dup(2)`.
    pub fn dup(&self, fd: i32) -> Result<i32, Errno> {
        let mut t = lock(&self.table);
        let file = t.get(fd)?.file.clone();
        t.install(
            0,
            Fd {
                file,
                cloexec: false,
            },
        )
    }

    /// `dup3(2)` (`flags`: `O_CLOEXEC`). `dup2` is `dup3` with 0 flags
    /// except that `oldfd == newfd` returns `newfd` after checking it.
    pub fn dup3(&self, oldfd: i32, newfd: i32, flags: i32) -> Result<i32, Errno> {
        if flags & !O_CLOEXEC != 0 || oldfd == newfd {
            return Err(EINVAL);
        }
        let mut t = lock(&self.table);
        let file = t.get(oldfd)?.file.clone();
        let i = usize::try_from(newfd)
            .ok()
            .filter(|&i| i < NR_OPEN)
            .ok_or(EBADF)?;
        let old = t.set(
            i,
            Fd {
                file,
                cloexec: flags & O_CLOEXEC != 0,
            },
        );
        drop(t);
        drop(old);
        Ok(newfd)
    }

    /// `fcntl(2)` for `F_DUPFD`, `F_DUPFD_CLOEXEC`, `F_GETFD`, `F_SETFD`,
    /// `F_GETFL`, `F_SETFL`; EINVAL for other commands.
    pub fn fcntl(&self, fd: i32, cmd: i32, arg: u64) -> Result<i64, Errno> {
        let mut t = lock(&self.table);
        let d = t.get_mut(fd)?;
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let min = usize::try_from(arg)
                    .ok()
                    .filter(|&m| m < NR_OPEN)
                    .ok_or(EINVAL)?;
                let file = d.file.clone();
                let fd = Fd {
                    file,
                    cloexec: cmd == F_DUPFD_CLOEXEC,
                };
                t.install(min, fd).map(i64::from)
            }
            F_GETFD => Ok(if d.cloexec { FD_CLOEXEC.into() } else { 0 }),
            F_SETFD => {
                d.cloexec = arg & FD_CLOEXEC as u64 != 0;
                Ok(0)
            }
            // What the description was opened with: O_LARGEFILE for
            // files opened by name (`force_o_largefile`), not for pipes
            // and eventfds.
            F_GETFL => Ok(d.file.flags().into()),
            F_SETFL => {
                if d.file.is_path() {
                    return Err(EBADF);
                }
                // O_DIRECT needs `direct_IO`, which pipes and anonymous
                // inodes do not have.
                if (arg as i32 ^ d.file.flags()) & O_DIRECT != 0
                    && matches!(
                        d.file.kind,
                        Kind::Pipe(_) | Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_)
                    )
                {
                    return Err(EINVAL);
                }
                d.file.set_flags(SETFL_FLAGS, arg as i32);
                Ok(0)
            }
            _ => Err(EINVAL),
        }
    }

    /// `fcntl(2)`'s `F_ADD_SEALS` and `F_GET_SEALS` (`memfd_fcntl`):
    /// EINVAL for a file that is not a tmpfs file (a memfd or a
    /// `/dev/shm` file, whose seals are `F_SEAL_SEAL` from the start) or
    /// an unknown seal, EPERM to add seals through a descriptor not open
    /// for writing or to a file sealed with `F_SEAL_SEAL`, EBUSY to seal
    /// writes while the file is mapped.
    pub fn fcntl_seals(&self, cpu: &Cpu<'_>, fd: i32, cmd: i32, arg: u64) -> Result<i64, Errno> {
        let f = self.file(fd)?;
        let Kind::Dev(DevNode::Shm(inode)) = &f.kind else {
            return Err(EINVAL);
        };
        if f.is_path() {
            return Err(EBADF);
        }
        match cmd {
            F_GET_SEALS => Ok(inode.seals().into()),
            F_ADD_SEALS => {
                let seals = u32::try_from(arg).map_err(|_| EINVAL)?;
                inode.add_seals(cpu, seals, f.fmode & FMODE_WRITE != 0)?;
                Ok(0)
            }
            _ => Err(EINVAL),
        }
    }

    /// `filename_create`: the directory where a new entry named by `path`
    /// (relative to `dirfd`) goes, its name, and whether `path` ended in
    /// a slash. `EEXIST` when something is there (or the name is `.` or
    /// `..`), `EACCES` for a new name under /proc.
    pub(super) fn new_entry(
        &self,
        dirfd: i32,
        path: &[u8],
    ) -> Result<(HostDir, Vec<u8>, bool), Errno> {
        let start = self.start_checked(dirfd, path)?;
        let (parent, last, trailing_slash) = self.walker().parent(&start, path)?;
        let Last::Norm(name) = last else {
            return Err(EEXIST);
        };
        match parent {
            Parent::ProcMount | Parent::DevMount => Err(EEXIST),
            Parent::Proc(dir) => match self.lookup(&procfs::join(&dir, &name)) {
                Some(_) => Err(EEXIST),
                None => Err(EACCES),
            },
            // /dev/shm holds regular files only (see shmem.rs).
            Parent::Dev(d) => match dev::lookup(d, &name, Some(&self.host.shm)) {
                Some(_) => Err(EEXIST),
                None if d == DevDir::Shm => Err(EPERM),
                None => Err(EACCES),
            },
            Parent::Host(dir) => {
                if lstatat(&dir, &name).is_ok() {
                    return Err(EEXIST);
                }
                Ok((dir, name, trailing_slash))
            }
        }
    }

    /// `mkdirat(2)`.
    pub fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> Result<(), Errno> {
        let (dir, name, _) = self.new_entry(dirfd, path)?;
        let umask = lock(&self.fs_struct).umask;
        let mode = mode & !umask & 0o7777;
        rustix::fs::mkdirat(dir.fd(), name.as_slice(), Mode::from_raw_mode(mode)).map_err(rx)?;
        // The mode exactly, whatever the host process's umask: on the new
        // directory itself (O_NOFOLLOW|O_DIRECTORY: not on whatever may
        // have replaced it), through the host's magic link to the handle
        // (fchmod refuses an O_PATH handle).
        let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir.fd(), name.as_slice(), flags, Mode::empty()).map_err(rx)?;
        if rustix::fs::fstat(&fd).is_ok_and(|st| st.st_mode & 0o7777 == mode) {
            return Ok(());
        }
        let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
        rustix::fs::chmod(link.as_str(), Mode::from_raw_mode(mode)).map_err(rx)
    }

    /// `mknodat(2)`: a FIFO (`S_IFIFO`, whose pipe is ferrite's when it is
    /// opened: pipe.rs) or an empty regular file (`S_IFREG` or no type)
    /// with the mode asked less the umask. EPERM for devices (ferrite makes
    /// no device nodes in the host directory), sockets and directories,
    /// EINVAL for an unknown type; the name's errors as `mkdirat`'s.
    pub fn mknodat(&self, dirfd: i32, path: &[u8], mode: u32) -> Result<(), Errno> {
        let ft = mode & S_IFMT;
        match ft {
            0 | S_IFREG | S_IFIFO => {}
            S_IFCHR | S_IFBLK | S_IFSOCK | S_IFDIR => return Err(EPERM),
            _ => return Err(EINVAL),
        }
        let (dir, name, trailing_slash) = self.new_entry(dirfd, path)?;
        if trailing_slash {
            return Err(ENOENT);
        }
        let umask = lock(&self.fs_struct).umask;
        let perm = mode & !umask & 0o7777;
        if ft == S_IFIFO {
            rustix::fs::mknodat(
                dir.fd(),
                name.as_slice(),
                rustix::fs::FileType::Fifo,
                Mode::from_raw_mode(perm),
                0,
            )
            .map_err(rx)?;
        } else {
            let oflags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let f =
                rustix::fs::openat(dir.fd(), name.as_slice(), oflags, Mode::from_raw_mode(perm))
                    .map_err(rx)?;
            rustix::fs::fchmod(&f, Mode::from_raw_mode(perm)).map_err(rx)?;
            return Ok(());
        }
        // The mode exactly, whatever the host's umask (as `mkdirat`).
        let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir.fd(), name.as_slice(), flags, Mode::empty()).map_err(rx)?;
        if rustix::fs::fstat(&fd).is_ok_and(|st| st.st_mode & 0o7777 == perm) {
            return Ok(());
        }
        let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
        rustix::fs::chmod(link.as_str(), Mode::from_raw_mode(perm)).map_err(rx)
    }

    /// `unlinkat(2)` (`flags`: `AT_REMOVEDIR` for rmdir).
    pub fn unlinkat(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<(), Errno> {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(EINVAL);
        }
        let rmdir = flags & AT_REMOVEDIR != 0;
        let start = self.start_checked(dirfd, path)?;
        let (parent, last, trailing_slash) = self.walker().parent(&start, path)?;
        let name = match last {
            Last::Norm(n) => n,
            _ if !rmdir => return Err(EISDIR),
            Last::Dot => return Err(EINVAL),
            Last::DotDot => return Err(ENOTEMPTY),
            Last::Root => return Err(EBUSY),
        };
        match parent {
            Parent::ProcMount | Parent::DevMount => Err(if rmdir { EBUSY } else { EISDIR }),
            Parent::Dev(d) => match dev::lookup(d, &name, Some(&self.host.shm)) {
                None => Err(ENOENT),
                Some(DevNode::Dir(_)) if !rmdir => Err(EISDIR),
                Some(DevNode::Dir(_)) => Err(EACCES),
                Some(_) if rmdir || trailing_slash => Err(ENOTDIR),
                Some(DevNode::Shm(_)) => self.host.shm.unlink(&name),
                Some(_) => Err(EACCES),
            },
            Parent::Proc(dir) => match self.lookup(&procfs::join(&dir, &name)) {
                None => Err(ENOENT),
                Some(ProcNode::Dir) if !rmdir => Err(EISDIR),
                Some(ProcNode::File | ProcNode::Symlink(_)) if rmdir => Err(ENOTDIR),
                Some(_) => Err(EACCES),
            },
            Parent::Host(dir) => {
                let st = lstatat(&dir, &name)?;
                let is_dir = st.is_dir();
                if rmdir {
                    if !is_dir {
                        return Err(ENOTDIR);
                    }
                    rustix::fs::unlinkat(dir.fd(), name.as_slice(), AtFlags::REMOVEDIR).map_err(rx)
                } else if is_dir {
                    Err(EISDIR)
                } else if trailing_slash {
                    Err(ENOTDIR)
                } else {
                    rustix::fs::unlinkat(dir.fd(), name.as_slice(), AtFlags::empty()).map_err(rx)
                }
            }
        }
    }

    /// `faccessat2(2)` (`faccessat` is `flags` = 0): `mode` is `F_OK` or
    /// a mask of `R_OK`, `W_OK`, `X_OK`; `flags`: `AT_EACCESS`,
    /// `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`.
    pub fn faccessat(&self, dirfd: i32, path: &[u8], mode: i32, flags: i32) -> Result<(), Errno> {
        if mode & !(R_OK | W_OK | X_OK) != 0
            || flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0
        {
            return Err(EINVAL);
        }
        let target = self.lookup_at(dirfd, path, flags)?;
        match target {
            Target::Missing { .. } => Err(ENOENT),
            Target::Dev(node) => node.permission(&self.host.shm, mode),
            Target::Proc { node, .. } => {
                let dir = node == ProcNode::Dir;
                let link = matches!(node, ProcNode::Symlink(_));
                if (mode & W_OK != 0 && !link) || (mode & X_OK != 0 && !dir && !link) {
                    Err(EACCES)
                } else {
                    Ok(())
                }
            }
            Target::Host { file, meta, parent } => {
                if meta.file_type().is_symlink() {
                    return Ok(());
                }
                host_access(&file, &meta, parent.as_ref(), mode, flags & AT_EACCESS != 0)
            }
        }
    }

    /// `chdir(2)`: the working directory becomes the handle the lookup
    /// found.
    pub fn chdir(&self, path: &[u8]) -> Result<(), Errno> {
        let start = self.start(AT_FDCWD, path)?;
        match self.walker().resolve(&start, path, true)? {
            Target::Missing { .. } => Err(ENOENT),
            t if !t.is_dir() => Err(ENOTDIR),
            Target::Host { file, meta, parent } => {
                host_access(&file, &meta, parent.as_ref(), X_OK, false)?;
                lock(&self.fs_struct).pwd = Pos::Host(HostDir::new(file)?);
                Ok(())
            }
            Target::Proc { rel, .. } => {
                lock(&self.fs_struct).pwd = Pos::Proc(rel);
                Ok(())
            }
            Target::Dev(node) => {
                node.permission(&self.host.shm, X_OK)?;
                let DevNode::Dir(d) = node else {
                    return Err(ENOTDIR);
                };
                lock(&self.fs_struct).pwd = Pos::Dev(d);
                Ok(())
            }
        }
    }

    /// `fchdir(2)`: the working directory becomes `fd`'s directory handle.
    pub fn fchdir(&self, fd: i32) -> Result<(), Errno> {
        let f = self.file(fd)?;
        let pos = f.dir_pos().ok_or(ENOTDIR)?;
        if let Pos::Host(d) = &pos {
            let meta = d.file().metadata().map_err(|e| host_errno(&e))?;
            host_access(d.file(), &meta, None, X_OK, false)?;
        }
        lock(&self.fs_struct).pwd = pos;
        Ok(())
    }

    /// Open the program `path` for `execve`: EACCES unless it is a
    /// regular file with an execute bit (checked on the lookup's `O_PATH`
    /// handle before anything is opened for reading, and again on the
    /// opened file), ENOENT, ENOTDIR, ELOOP as lookup gives them.
    pub fn open_exec(&self, path: &[u8]) -> Result<ExecFile, Errno> {
        self.open_exec_at(AT_FDCWD, path, 0)
    }

    /// `execveat`'s lookup: `path` relative to `dirfd` (or the working
    /// directory, or absolute); with `AT_EMPTY_PATH` an empty path is
    /// `dirfd` itself (fexecve); with `AT_SYMLINK_NOFOLLOW` a final
    /// symlink is ELOOP.
    pub fn open_exec_at(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<ExecFile, Errno> {
        let target = if path.is_empty() {
            if flags & AT_EMPTY_PATH == 0 {
                return Err(ENOENT);
            }
            self.fd_target(dirfd)
                .map_err(|e| if e == ENOENT { EACCES } else { e })?
        } else {
            let start = self.start(dirfd, path)?;
            let follow = flags & AT_SYMLINK_NOFOLLOW == 0;
            let t = self.walker().resolve(&start, path, follow)?;
            if let Target::Host { meta, .. } = &t {
                if !follow && meta.file_type().is_symlink() {
                    return Err(crate::errno::ELOOP);
                }
            }
            t
        };
        match target {
            Target::Missing { .. } => Err(ENOENT),
            // Executing a memfd or a /dev/shm file is not supported yet.
            Target::Proc { .. } | Target::Dev(_) => Err(EACCES),
            Target::Host { file, meta, parent } => {
                if !meta.is_file() || meta.mode() & 0o111 == 0 {
                    return Err(EACCES);
                }
                // O_NONBLOCK: should it have become a FIFO meanwhile, the
                // open does not wait (and open_exec_file refuses it).
                let oflags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
                let opened = match &parent {
                    Some((dir, name)) => rustix::fs::openat(
                        dir.fd(),
                        name.as_slice(),
                        oflags | OFlags::NOFOLLOW,
                        Mode::empty(),
                    ),
                    None => {
                        let link = format!("/proc/self/fd/{}", file.as_raw_fd());
                        rustix::fs::openat(rustix::fs::CWD, link.as_str(), oflags, Mode::empty())
                    }
                };
                let opened = File::from(opened.map_err(rx)?);
                let path = self.host.d_path_bytes(&opened);
                let key = (meta.dev(), meta.ino());
                let (mmap, size) = self.host.open_exec_file(opened, &path)?;
                Ok(ExecFile {
                    mmap,
                    size,
                    path,
                    key,
                })
            }
        }
    }

    /// `start` after the checks Linux makes on the path first.
    pub(super) fn start_checked(&self, dirfd: i32, path: &[u8]) -> Result<Pos, Errno> {
        let path = super::namei::check_path(path)?;
        if path.is_empty() {
            return Err(ENOENT);
        }
        self.start(dirfd, path)
    }

    /// Look `path` up for the `*at` calls taking `AT_SYMLINK_NOFOLLOW`
    /// and `AT_EMPTY_PATH` (an empty path then names `dirfd` itself).
    pub(super) fn lookup_at(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<Target, Errno> {
        let p = super::namei::check_path(path)?;
        if p.is_empty() {
            if flags & AT_EMPTY_PATH == 0 {
                return Err(ENOENT);
            }
            return self.fd_target(dirfd);
        }
        let start = self.start(dirfd, p)?;
        self.walker()
            .resolve(&start, p, flags & AT_SYMLINK_NOFOLLOW == 0)
    }

    /// What `dirfd` itself is (`AT_EMPTY_PATH`), from its handle.
    fn fd_target(&self, dirfd: i32) -> Result<Target, Errno> {
        let file = if dirfd == AT_FDCWD {
            match lock(&self.fs_struct).pwd.clone() {
                Pos::Host(d) => d.file().clone(),
                Pos::Proc(rel) => {
                    let node = self.lookup(&rel).ok_or(ENOENT)?;
                    return Ok(Target::Proc { rel, node });
                }
                Pos::Dev(d) => return Ok(Target::Dev(DevNode::Dir(d))),
            }
        } else {
            let f = self.file(dirfd)?;
            match &f.kind {
                Kind::Dir { file } | Kind::HostPath { file } => file.clone(),
                Kind::Host { file, .. } => Arc::new(file.try_clone().map_err(|e| host_errno(&e))?),
                Kind::Stdio { file } => Arc::new(file.try_clone().map_err(|e| host_errno(&e))?),
                Kind::Proc { rel, node, .. } => {
                    return Ok(Target::Proc {
                        rel: rel.clone(),
                        node: node.clone(),
                    })
                }
                Kind::Dev(node) => return Ok(Target::Dev(node.clone())),
                // A lookup's target cannot be a pipe or an eventfd (no
                // name reaches them).
                Kind::Pipe(_) | Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => {
                    return Err(ENOENT)
                }
            }
        };
        let meta = file.metadata().map_err(|e| host_errno(&e))?;
        Ok(Target::Host {
            file,
            meta,
            parent: None,
        })
    }
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`'s file type, as std's.
pub(super) fn lstatat(dir: &HostDir, name: &[u8]) -> Result<std::fs::FileType, Errno> {
    let f = super::namei::step(dir.fd(), name)?;
    Ok(f.metadata().map_err(|e| host_errno(&e))?.file_type())
}

/// The host access mode of a guest `O_ACCMODE` (3, "neither", opens
/// for both as Linux's ioctl-only opens need both permissions).
fn host_access_flags(acc: i32) -> OFlags {
    match acc {
        O_RDONLY => OFlags::RDONLY,
        O_WRONLY => OFlags::WRONLY,
        _ => OFlags::RDWR,
    }
}

/// The host `open` flags a guest open passes on.
fn host_open_flags(flags: i32) -> OFlags {
    let mut f = OFlags::empty();
    if flags & O_NONBLOCK != 0 {
        f |= OFlags::NONBLOCK;
    }
    if flags & O_NOCTTY != 0 {
        f |= OFlags::NOCTTY;
    }
    f
}

/// The host's `faccessat` on a file found by a lookup: a directory as
/// `.` of its handle, another file by its directory and name with
/// `AT_SYMLINK_NOFOLLOW` (should the name have become a symlink, the
/// link is checked, never what it points to), a file without a name
/// through the host's magic link to the handle.
fn host_access(
    file: &File,
    meta: &std::fs::Metadata,
    parent: Option<&(HostDir, Vec<u8>)>,
    mode: i32,
    eaccess: bool,
) -> Result<(), Errno> {
    let access = rustix::fs::Access::from_bits_truncate(mode as u32);
    let mut flags = if eaccess {
        AtFlags::EACCESS
    } else {
        AtFlags::empty()
    };
    let r = if meta.is_dir() {
        rustix::fs::accessat(file.as_fd(), ".", access, flags)
    } else {
        match parent {
            Some((dir, name)) => {
                flags |= AtFlags::SYMLINK_NOFOLLOW;
                match rustix::fs::accessat(dir.fd(), name.as_slice(), access, flags) {
                    Err(rustix::io::Errno::NOSYS) => {
                        flags.remove(AtFlags::SYMLINK_NOFOLLOW);
                        let link = format!("/proc/self/fd/{}", file.as_raw_fd());
                        rustix::fs::accessat(rustix::fs::CWD, link.as_str(), access, flags)
                    }
                    r => r,
                }
            }
            None => {
                let link = format!("/proc/self/fd/{}", file.as_raw_fd());
                rustix::fs::accessat(rustix::fs::CWD, link.as_str(), access, flags)
            }
        }
    };
    r.map_err(rx)
}
