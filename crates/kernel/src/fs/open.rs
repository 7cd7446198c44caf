//! Opening, closing and naming files (Linux's fs/open.c `do_sys_openat2`,
//! `build_open_flags`, `may_open`, `faccessat`, `chdir`; fs/namei.c
//! `do_mkdirat`, `do_rmdir`, `do_unlinkat`; fs/file.c `dup`, `dup3`;
//! fs/fcntl.c).
//!
//! Where ferrite differs: `O_TMPFILE` is EOPNOTSUPP (as on a file system
//! without it); files are created with the host's own umask applied on
//! top of the process's; creating or removing anything under /proc is
//! EACCES (what a non-root Linux user gets); permission checks are the
//! host's.

use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::sync::Arc;

use mm::filemap::{FMODE_READ, FMODE_WRITE};
use mm::Cpu;

use crate::errno::*;

use super::fdtable::{lock, Fd, Kind, OpenFile};
use super::flags::*;
use super::hostfs::host_errno;
use super::namei::{Last, Parent, Target};
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
    /// `openat(2)`: a new descriptor, the lowest free one.
    pub fn openat(
        &self,
        cpu: &Cpu<'_>,
        dirfd: i32,
        path: &[u8],
        flags: i32,
        mode: u32,
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
        // Linux takes the descriptor before the lookup.
        lock(&self.table).free_slot(0)?;
        let start = self.start(dirfd, path)?;
        let excl = flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL;
        let follow = flags & O_NOFOLLOW == 0 && !excl;
        let target = self.walker().resolve(&start, path, follow)?;
        let file = self.open_target(cpu, target, flags, mode)?;
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
                host,
                guest,
                trailing_slash,
            } => {
                if flags & O_CREAT == 0 || flags & O_PATH != 0 {
                    return Err(ENOENT);
                }
                if trailing_slash {
                    return Err(EISDIR);
                }
                let host = host.ok_or(EACCES)?;
                let umask = *lock(&self.umask);
                // O_CREAT|O_EXCL by hand: std refuses to create read-only.
                let file = OpenOptions::new()
                    .read(acc != O_WRONLY)
                    .write(acc != O_RDONLY)
                    .mode(mode & !umask & 0o7777)
                    .custom_flags(host_open_flags(flags) | libc::O_CREAT | libc::O_EXCL)
                    .open(&host)
                    .map_err(|e| host_errno(&e))?;
                // The mode exactly, whatever the host process's umask.
                let perm = std::fs::Permissions::from_mode(mode & !umask & 0o7777);
                file.set_permissions(perm).map_err(|e| host_errno(&e))?;
                let meta = file.metadata().map_err(|e| host_errno(&e))?;
                let kind = Kind::Host {
                    file,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    regular: true,
                };
                Ok(OpenFile::new(kind, fmode, kept, guest))
            }
            _ if excl => Err(EEXIST),
            Target::Host { host, guest, meta } => {
                let ft = meta.file_type();
                if ft.is_symlink() {
                    // Not followed: O_NOFOLLOW (or O_CREAT|O_EXCL, above).
                    if flags & O_PATH == 0 {
                        return Err(ELOOP);
                    }
                    let file = open_path(&host, true)?;
                    return Ok(OpenFile::new(Kind::HostPath { file }, 0, kept, guest));
                }
                if ft.is_dir() {
                    if flags & O_CREAT != 0 || (flags & O_PATH == 0 && wants_write) {
                        return Err(EISDIR);
                    }
                } else if flags & O_DIRECTORY != 0 {
                    return Err(ENOTDIR);
                }
                if flags & O_PATH != 0 {
                    let file = open_path(&host, false)?;
                    return Ok(OpenFile::new(Kind::HostPath { file }, 0, kept, guest));
                }
                let old_size = meta.len();
                let file = OpenOptions::new()
                    .read(acc != O_WRONLY)
                    .write(acc == O_WRONLY || acc == O_RDWR || acc == O_ACCMODE)
                    .custom_flags(
                        host_open_flags(flags)
                            | if ft.is_file() && flags & O_TRUNC != 0 {
                                libc::O_TRUNC
                            } else {
                                0
                            },
                    )
                    .open(&host)
                    .map_err(|e| host_errno(&e))?;
                let m = file.metadata().map_err(|e| host_errno(&e))?;
                let kind = if m.is_dir() {
                    Kind::Dir { file }
                } else {
                    if m.is_file() && flags & O_TRUNC != 0 && old_size != 0 {
                        self.host.cache.truncate(cpu, m.dev(), m.ino(), 0)?;
                    }
                    Kind::Host {
                        file,
                        dev: m.dev(),
                        ino: m.ino(),
                        regular: m.is_file(),
                    }
                };
                Ok(OpenFile::new(kind, fmode, kept, guest))
            }
            Target::Proc { rel, guest, node } => {
                match node {
                    ProcNode::Symlink(_) if flags & O_PATH == 0 => return Err(ELOOP),
                    ProcNode::Dir
                        if flags & O_PATH == 0 && (flags & O_CREAT != 0 || wants_write) =>
                    {
                        return Err(EISDIR)
                    }
                    ProcNode::File if flags & O_DIRECTORY != 0 => return Err(ENOTDIR),
                    ProcNode::File if flags & O_PATH == 0 && wants_write => return Err(EACCES),
                    _ => {}
                }
                let data = match node {
                    ProcNode::File if flags & O_PATH == 0 => self.proc.read(&rel).ok_or(ENOENT)?,
                    _ => Vec::new(),
                };
                Ok(OpenFile::new(
                    Kind::Proc { rel, node, data },
                    fmode,
                    kept,
                    guest,
                ))
            }
        }
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
            F_GETFL => Ok((d.file.flags() | O_LARGEFILE).into()),
            F_SETFL => {
                if d.file.is_path() {
                    return Err(EBADF);
                }
                let mut fl = lock(&d.file.flags);
                *fl = (*fl & !SETFL_FLAGS) | (arg as i32 & SETFL_FLAGS);
                Ok(0)
            }
            _ => Err(EINVAL),
        }
    }

    /// `filename_create`: the host path where a new entry named by `path`
    /// (relative to `dirfd`) goes, and whether `path` ended in a slash.
    /// `EEXIST` when something is there (or the name is `.` or `..`),
    /// `EACCES` for a new name under /proc.
    pub(super) fn new_entry(
        &self,
        dirfd: i32,
        path: &[u8],
    ) -> Result<(std::path::PathBuf, bool), Errno> {
        let start = self.start_checked(dirfd, path)?;
        let (parent, last, trailing_slash) = self.walker().parent(&start, path)?;
        let Last::Norm(name) = last else {
            return Err(EEXIST);
        };
        match parent {
            Parent::ProcMount => Err(EEXIST),
            Parent::Proc(dir) => match procfs::lookup(&*self.proc, &procfs::join(&dir, &name)) {
                Some(_) => Err(EEXIST),
                None => Err(EACCES),
            },
            Parent::Host { host, .. } => {
                let p = host.join(std::ffi::OsStr::from_bytes(&name));
                if std::fs::symlink_metadata(&p).is_ok() {
                    return Err(EEXIST);
                }
                Ok((p, trailing_slash))
            }
        }
    }

    /// `mkdirat(2)`.
    pub fn mkdirat(&self, dirfd: i32, path: &[u8], mode: u32) -> Result<(), Errno> {
        let (p, _) = self.new_entry(dirfd, path)?;
        let umask = *lock(&self.umask);
        let mode = mode & !umask & 0o7777;
        std::fs::DirBuilder::new()
            .mode(mode)
            .create(&p)
            .map_err(|e| host_errno(&e))?;
        // The mode exactly, whatever the host process's umask.
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| host_errno(&e))
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
            Parent::ProcMount => Err(if rmdir { EBUSY } else { EISDIR }),
            Parent::Proc(dir) => match procfs::lookup(&*self.proc, &procfs::join(&dir, &name)) {
                None => Err(ENOENT),
                Some(ProcNode::Dir) if !rmdir => Err(EISDIR),
                Some(ProcNode::File | ProcNode::Symlink(_)) if rmdir => Err(ENOTDIR),
                Some(_) => Err(EACCES),
            },
            Parent::Host { host, .. } => {
                let p = host.join(std::ffi::OsStr::from_bytes(&name));
                let m = std::fs::symlink_metadata(&p).map_err(|e| host_errno(&e))?;
                if rmdir {
                    if !m.is_dir() {
                        return Err(ENOTDIR);
                    }
                    std::fs::remove_dir(&p).map_err(|e| host_errno(&e))
                } else if m.is_dir() {
                    Err(EISDIR)
                } else if trailing_slash {
                    Err(ENOTDIR)
                } else {
                    std::fs::remove_file(&p).map_err(|e| host_errno(&e))
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
            Target::Proc { node, .. } => {
                let dir = node == ProcNode::Dir;
                let link = matches!(node, ProcNode::Symlink(_));
                if (mode & W_OK != 0 && !link) || (mode & X_OK != 0 && !dir && !link) {
                    Err(EACCES)
                } else {
                    Ok(())
                }
            }
            Target::Host { host, meta, .. } => {
                if meta.file_type().is_symlink() {
                    return Ok(());
                }
                host_access(&host, mode, flags & AT_EACCESS != 0)
            }
        }
    }

    /// `chdir(2)`.
    pub fn chdir(&self, path: &[u8]) -> Result<(), Errno> {
        let start = self.start(AT_FDCWD, path)?;
        match self.walker().resolve(&start, path, true)? {
            Target::Missing { .. } => Err(ENOENT),
            t if !t.is_dir() => Err(ENOTDIR),
            Target::Host { host, guest, .. } => {
                host_access(&host, X_OK, false)?;
                *lock(&self.cwd) = guest;
                Ok(())
            }
            Target::Proc { guest, .. } => {
                *lock(&self.cwd) = guest;
                Ok(())
            }
        }
    }

    /// `fchdir(2)`.
    pub fn fchdir(&self, fd: i32) -> Result<(), Errno> {
        let f = self.file(fd)?;
        if !f.is_dir() {
            return Err(ENOTDIR);
        }
        *lock(&self.cwd) = f.guest.clone();
        Ok(())
    }

    /// Open the program `path` for `execve`: EACCES unless it is a
    /// regular file with an execute bit, ENOENT, ENOTDIR, ELOOP as lookup
    /// gives them.
    pub fn open_exec(&self, path: &[u8]) -> Result<ExecFile, Errno> {
        let start = self.start(AT_FDCWD, path)?;
        match self.walker().resolve(&start, path, true)? {
            Target::Missing { .. } => Err(ENOENT),
            Target::Proc { .. } => Err(EACCES),
            Target::Host { host, guest, meta } => {
                let path = super::namei::guest_path(&guest);
                let (mmap, data) = self.host.open_exec_checked(&host, &meta, &path)?;
                Ok(ExecFile { mmap, data, path })
            }
        }
    }

    /// `start` after the checks Linux makes on the path first.
    pub(super) fn start_checked(&self, dirfd: i32, path: &[u8]) -> Result<super::Comps, Errno> {
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
            let comps = if dirfd == AT_FDCWD {
                lock(&self.cwd).clone()
            } else {
                self.file(dirfd)?.guest.clone()
            };
            let path = super::namei::guest_path(&comps);
            return self.walker().resolve(&[], &path, false);
        }
        let start = self.start(dirfd, p)?;
        self.walker()
            .resolve(&start, p, flags & AT_SYMLINK_NOFOLLOW == 0)
    }
}

/// The host `open` flags a guest open passes on.
fn host_open_flags(flags: i32) -> i32 {
    let mut f = 0;
    if flags & O_NONBLOCK != 0 {
        f |= libc::O_NONBLOCK;
    }
    if flags & O_NOCTTY != 0 {
        f |= libc::O_NOCTTY;
    }
    f
}

/// An `O_PATH` host descriptor (of the symlink itself if `nofollow`).
fn open_path(host: &std::path::Path, nofollow: bool) -> Result<File, Errno> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | if nofollow { libc::O_NOFOLLOW } else { 0 })
        .open(host)
        .map_err(|e| host_errno(&e))
}

/// The host's `faccessat` on a resolved host path (no symlink left).
fn host_access(host: &std::path::Path, mode: i32, eaccess: bool) -> Result<(), Errno> {
    let c = std::ffi::CString::new(host.as_os_str().as_bytes()).map_err(|_| EINVAL)?;
    let flags = if eaccess { libc::AT_EACCESS } else { 0 };
    // SAFETY: `c` is a NUL-terminated string that outlives the call; the
    // call only reads it.
    let r = unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), mode, flags) };
    if r == 0 {
        Ok(())
    } else {
        Err(host_errno(&std::io::Error::last_os_error()))
    }
}
