//! File attributes: `chmod`, `chown`, `utimensat` and `statfs` (Linux's
//! fs/open.c `chmod_common`, `chown_common`, `do_fchmodat`,
//! `do_fchownat`, `ksys_fchown`; fs/utimes.c `do_utimes`, `vfs_utimes`;
//! fs/statfs.c `user_statfs`, `fd_statfs`; fs/attr.c `notify_change`'s
//! refusal to change a symlink's mode).
//!
//! Checks come in Linux's order: the flags (EINVAL), the lookup or the
//! descriptor (EBADF; an `O_PATH` descriptor is EBADF for `fchmod`,
//! `fchown` and `futimens`, as `fdget` refuses it, and fine for
//! `fstatfs` and the `AT_EMPTY_PATH` forms), then the change itself,
//! whose ownership and permission checks are the host's (ferrite runs
//! with the host's uid and gid).
//!
//! The change acts on the handle the lookup opened, never on a name the
//! host would resolve again: `chownat(handle, "", AT_EMPTY_PATH)` and
//! `utimensat(handle, "", AT_EMPTY_PATH)`; for the mode (the host has no
//! `AT_EMPTY_PATH` for `fchmodat` before 6.6) `chmod` of the host's magic
//! link `/proc/self/fd/N` to ferrite's own handle, as the other calls do
//! for a file reached through a magic link. So a name swapped for a
//! symlink after the lookup changes nothing but the file the lookup found.
//!
//! Where ferrite differs: /proc's files belong to root and ferrite's
//! processes have no capabilities there, so a mode change is EPERM, an
//! ownership change other than to `-1, -1` is EPERM, a time change is
//! EPERM (explicit times) or EACCES (now), as Linux answers a non-root
//! user for a root-owned read-only file. The standard streams are the
//! host's: `fchmod`, `fchown`, `futimens` and the `AT_EMPTY_PATH` forms
//! on them are EPERM (changing the host file behind a redirected stream
//! would reach outside the root); `fstatfs` gives the host's answer.
//! `fchmodat2` is tested at the file layer only (qemu-riscv64 7.2, the
//! oracle of user/syscalls.c, does not know it).

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};

use rustix::fs::{AtFlags, Gid, Mode, Timespec, Timestamps, Uid};

use crate::errno::*;

use super::dev::{DevDir, DevNode};
use super::fdtable::Kind;
use super::flags::{AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW};
use super::namei::{rx, Target};
use super::shmem::{Tmpfs, TMPFS_MAGIC};
use super::Fs;

/// `UTIME_NOW`: the time field is set to now.
pub const UTIME_NOW: i64 = (1 << 30) - 1;
/// `UTIME_OMIT`: the time field is left alone.
pub const UTIME_OMIT: i64 = (1 << 30) - 2;
/// `PROC_SUPER_MAGIC`.
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
/// `S_IALLUGO`: the mode bits `chmod` sets.
const S_IALLUGO: u32 = 0o7777;
/// `sizeof(struct statfs)` on riscv64 (asm-generic, 64-bit words).
pub const STATFS_SIZE: usize = 120;

/// `ST_VALID`, `ST_NOSUID`, `ST_NODEV`, `ST_NOEXEC`, `ST_RELATIME`: how
/// /proc is mounted (`nosuid,nodev,noexec,relatime`).
const PROC_F_FLAGS: i64 = 0x20 | 0x2 | 0x4 | 0x8 | 0x1000;

/// `struct statfs` (include/uapi/asm-generic/statfs.h, riscv64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatFs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    /// `f_fsid.val[0]`, `f_fsid.val[1]`.
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
}

/// `ANON_INODE_FS_MAGIC`.
const ANON_INODE_FS_MAGIC: i64 = 0x0904_1934;

impl StatFs {
    /// A pseudo file system's (`simple_statfs`: the magic, a page,
    /// NAME_MAX, nothing else).
    pub fn pseudo(magic: i64) -> StatFs {
        StatFs {
            f_type: magic,
            f_bsize: mm::page::PAGE_SIZE as i64,
            f_namelen: 255,
            f_frsize: mm::page::PAGE_SIZE as i64,
            // ST_VALID.
            f_flags: 0x20,
            ..StatFs::default()
        }
    }

    /// /proc's (`simple_statfs`: the magic, a page, NAME_MAX).
    pub fn proc() -> StatFs {
        StatFs {
            f_type: PROC_SUPER_MAGIC,
            f_bsize: mm::page::PAGE_SIZE as i64,
            f_namelen: 255,
            f_frsize: mm::page::PAGE_SIZE as i64,
            f_flags: PROC_F_FLAGS,
            ..StatFs::default()
        }
    }

    /// The file system of a name of `/dev`: `/dev` is a devtmpfs
    /// (`nosuid,relatime`), `/dev/shm` a tmpfs (`nosuid,nodev,relatime`)
    /// with its size and use, a memfd the internal tmpfs (no limits); all
    /// report `TMPFS_MAGIC`.
    pub(crate) fn dev(node: &DevNode, shm: &Tmpfs) -> StatFs {
        const ST_VALID: i64 = 0x20;
        const ST_NOSUID: i64 = 0x2;
        const ST_NODEV: i64 = 0x4;
        const ST_RELATIME: i64 = 0x1000;
        let page = mm::page::PAGE_SIZE as i64;
        let base = StatFs {
            f_type: TMPFS_MAGIC,
            f_bsize: page,
            f_namelen: 255,
            f_frsize: page,
            f_flags: ST_VALID | ST_NOSUID | ST_RELATIME,
            ..StatFs::default()
        };
        let in_shm = match node {
            DevNode::Dir(DevDir::Shm) => true,
            DevNode::Shm(i) => !i.is_memfd(),
            _ => false,
        };
        let limit = shm.limit_pages() as u64;
        if in_shm {
            let free = limit.saturating_sub(shm.used_pages() as u64);
            StatFs {
                f_blocks: limit,
                f_bfree: free,
                f_bavail: free,
                f_files: limit,
                f_ffree: limit.saturating_sub(shm.nr_files() as u64 + 1),
                f_flags: base.f_flags | ST_NODEV,
                ..base
            }
        } else if matches!(node, DevNode::Shm(_)) {
            StatFs {
                f_flags: ST_VALID,
                ..base
            }
        } else {
            StatFs {
                f_blocks: limit,
                f_bfree: limit,
                f_bavail: limit,
                f_files: limit,
                f_ffree: limit.saturating_sub(16),
                ..base
            }
        }
    }

    /// The host's answer for the file behind `fd`.
    fn host(fd: impl AsFd) -> Result<StatFs, Errno> {
        let s = rustix::fs::fstatfs(&fd).map_err(rx)?;
        // rustix keeps `f_fsid`'s words private; `fstatvfs` gives them
        // as one number (word 0 low, word 1 high).
        let v = rustix::fs::fstatvfs(&fd).map_err(rx)?;
        Ok(StatFs {
            f_type: s.f_type as i64,
            f_bsize: s.f_bsize as i64,
            f_blocks: s.f_blocks,
            f_bfree: s.f_bfree,
            f_bavail: s.f_bavail,
            f_files: s.f_files,
            f_ffree: s.f_ffree,
            f_fsid: [v.f_fsid as u32 as i32, (v.f_fsid >> 32) as u32 as i32],
            f_namelen: s.f_namelen as i64,
            f_frsize: s.f_frsize as i64,
            f_flags: s.f_flags as i64,
        })
    }

    /// The 120 bytes `statfs(2)` copies out (`f_spare` zero).
    pub fn to_bytes(&self) -> [u8; STATFS_SIZE] {
        let mut b = [0u8; STATFS_SIZE];
        let words: [u64; 11] = [
            self.f_type as u64,
            self.f_bsize as u64,
            self.f_blocks,
            self.f_bfree,
            self.f_bavail,
            self.f_files,
            self.f_ffree,
            (self.f_fsid[0] as u32 as u64) | ((self.f_fsid[1] as u32 as u64) << 32),
            self.f_namelen as u64,
            self.f_frsize as u64,
            self.f_flags as u64,
        ];
        for (i, w) in words.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        b
    }
}

/// The host `chmod` of the file behind a handle (any kind, `O_PATH`
/// too), through the host's magic link to it: ferrite's own descriptor
/// number, never a guest string.
fn host_chmod(file: &File, mode: u32) -> Result<(), Errno> {
    let link = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::fs::chmodat(
        rustix::fs::CWD,
        link.as_str(),
        Mode::from_raw_mode(mode & S_IALLUGO),
        AtFlags::empty(),
    )
    .map_err(rx)
}

/// `-1` (unchanged) or the id.
fn id(v: u32) -> Option<u32> {
    (v != u32::MAX).then_some(v)
}

/// The host's `fchownat(handle, "", AT_EMPTY_PATH)`: the file the handle
/// holds (a symlink itself if it is one).
fn host_chown(file: &File, uid: u32, gid: u32) -> Result<(), Errno> {
    rustix::fs::chownat(
        file,
        "",
        id(uid).map(Uid::from_raw),
        id(gid).map(Gid::from_raw),
        AtFlags::EMPTY_PATH,
    )
    .map_err(rx)
}

/// What a time change asks (`vfs_utimes`): `None` is "both now"
/// (`ATTR_TOUCH`: owner or write permission), `Some` explicit times
/// (`ATTR_TIMES_SET`: owner only).
type Times = Option<[(i64, i64); 2]>;

/// `nsec_valid`.
fn nsec_valid(ns: i64) -> bool {
    ns == UTIME_NOW || ns == UTIME_OMIT || (0..1_000_000_000).contains(&ns)
}

/// `vfs_utimes`' first steps: EINVAL for a bad nanosecond field, both
/// `UTIME_NOW` is no times.
fn check_times(times: Times) -> Result<Times, Errno> {
    match times {
        Some(t) if !nsec_valid(t[0].1) || !nsec_valid(t[1].1) => Err(EINVAL),
        Some(t) if t[0].1 == UTIME_NOW && t[1].1 == UTIME_NOW => Ok(None),
        t => Ok(t),
    }
}

/// The host's `struct timespec`s for a time change. In deterministic
/// mode "now" is the virtual clock's, not the host's.
fn timestamps(times: Times) -> Timestamps {
    let virtual_now = crate::time::det::with_current(|_| crate::time::current_time());
    let ts = |(s, n): (i64, i64)| match virtual_now {
        Some((vs, vn)) if n == UTIME_NOW => Timespec {
            tv_sec: vs,
            tv_nsec: vn as _,
        },
        _ => Timespec {
            tv_sec: s,
            tv_nsec: n as _,
        },
    };
    match times {
        None => Timestamps {
            last_access: ts((0, UTIME_NOW)),
            last_modification: ts((0, UTIME_NOW)),
        },
        Some([a, m]) => Timestamps {
            last_access: ts(a),
            last_modification: ts(m),
        },
    }
}

/// The host's `utimensat(handle, "", AT_EMPTY_PATH)`.
fn host_utimes(file: &File, times: Times) -> Result<(), Errno> {
    rustix::fs::utimensat(file, "", &timestamps(times), AtFlags::EMPTY_PATH).map_err(rx)
}

/// /proc's answer to a time change (a root-owned read-only file).
fn proc_utimes(times: Times) -> Result<(), Errno> {
    match times {
        None => Err(EACCES),
        Some(_) => Err(EPERM),
    }
}

/// /proc's answer to an ownership change.
fn proc_chown(uid: u32, gid: u32) -> Result<(), Errno> {
    if id(uid).is_none() && id(gid).is_none() {
        Ok(())
    } else {
        Err(EPERM)
    }
}

impl Fs {
    /// Look `path` up for a change of attributes (`AT_EMPTY_PATH` and
    /// `AT_SYMLINK_NOFOLLOW` in `flags`): as `lookup_at`, but EPERM
    /// for a standard stream named by an empty path, whose host file is
    /// not the guest's to change.
    fn lookup_for_change(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<Target, Errno> {
        if flags & AT_EMPTY_PATH != 0 && super::namei::check_path(path)?.is_empty() {
            if let Ok(f) = self.file(dirfd) {
                if matches!(f.kind, Kind::Stdio { .. }) {
                    return Err(EPERM);
                }
            }
        }
        self.lookup_at(dirfd, path, flags)
    }

    /// `fchmod(2)`.
    pub fn fchmod(&self, fd: i32, mode: u32) -> Result<(), Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        match &f.kind {
            Kind::Host { file, .. } => {
                rustix::fs::fchmod(file, Mode::from_raw_mode(mode & S_IALLUGO)).map_err(rx)
            }
            Kind::Dir { file } | Kind::HostPath { file } => host_chmod(file, mode),
            Kind::Dev(DevNode::Shm(i)) => i.chmod(mode),
            // A named FIFO is its host file; pipefs inodes have their own
            // mode.
            Kind::Pipe(end) => match &end.fifo {
                Some(file) => host_chmod(file, mode),
                None => {
                    end.pipe.chmod(mode);
                    Ok(())
                }
            },
            Kind::Stdio { .. }
            | Kind::Proc { .. }
            | Kind::Dev(_)
            | Kind::EventFd(_)
            | Kind::Epoll(_)
            | Kind::TimerFd(_) => Err(EPERM),
        }
    }

    /// `fchmodat2(2)` (`flags`: `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`);
    /// `fchmodat(2)` is `flags` = 0. A symlink's mode cannot be changed
    /// (EOPNOTSUPP).
    pub fn fchmodat(&self, dirfd: i32, path: &[u8], mode: u32, flags: i32) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(EINVAL);
        }
        match self.lookup_for_change(dirfd, path, flags)? {
            Target::Missing { .. } => Err(ENOENT),
            Target::Host { meta, .. } if meta.file_type().is_symlink() => Err(EOPNOTSUPP),
            Target::Host { file, .. } => host_chmod(&file, mode),
            Target::Proc {
                node: super::procfs::ProcNode::Symlink(_),
                ..
            } => Err(EOPNOTSUPP),
            Target::Proc { .. } => Err(EPERM),
            Target::Dev(DevNode::Symlink { .. }) => Err(EOPNOTSUPP),
            Target::Dev(DevNode::Shm(i)) => i.chmod(mode),
            Target::Dev(_) => Err(EPERM),
        }
    }

    /// `fchown(2)` (`-1` leaves an id unchanged).
    pub fn fchown(&self, fd: i32, uid: u32, gid: u32) -> Result<(), Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        match &f.kind {
            Kind::Host { file, .. } => host_chown(file, uid, gid),
            Kind::Dir { file } | Kind::HostPath { file } => host_chown(file, uid, gid),
            Kind::Stdio { .. } => Err(EPERM),
            Kind::Proc { .. } => proc_chown(uid, gid),
            Kind::Dev(DevNode::Shm(i)) => i.chown(id(uid), id(gid)),
            Kind::Pipe(end) => match &end.fifo {
                Some(file) => host_chown(file, uid, gid),
                None => end.pipe.chown(id(uid), id(gid)),
            },
            Kind::Dev(_) | Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => {
                proc_chown(uid, gid)
            }
        }
    }

    /// `fchownat(2)` (`flags`: `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`).
    pub fn fchownat(
        &self,
        dirfd: i32,
        path: &[u8],
        uid: u32,
        gid: u32,
        flags: i32,
    ) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(EINVAL);
        }
        match self.lookup_for_change(dirfd, path, flags)? {
            Target::Missing { .. } => Err(ENOENT),
            Target::Host { file, .. } => host_chown(&file, uid, gid),
            Target::Proc { .. } => proc_chown(uid, gid),
            Target::Dev(DevNode::Shm(i)) => i.chown(id(uid), id(gid)),
            Target::Dev(_) => proc_chown(uid, gid),
        }
    }

    /// `utimensat(2)` after the times were read (`times`: access and
    /// modification as seconds and nanoseconds, or None for now) and
    /// after the "both `UTIME_OMIT`" early return: `path` None is
    /// `futimens` on `dirfd` (when `dirfd` is not `AT_FDCWD`).
    pub fn utimensat(
        &self,
        dirfd: i32,
        path: Option<&[u8]>,
        times: Times,
        flags: i32,
    ) -> Result<(), Errno> {
        let Some(path) = path else {
            if flags != 0 {
                return Err(EINVAL);
            }
            let f = self.file(dirfd)?;
            if f.is_path() {
                return Err(EBADF);
            }
            let times = check_times(times)?;
            return match &f.kind {
                Kind::Host { file, .. } => host_utimes(file, times),
                Kind::Dir { file } | Kind::HostPath { file } => host_utimes(file, times),
                Kind::Stdio { .. } => Err(EPERM),
                Kind::Proc { .. } => proc_utimes(times),
                Kind::Dev(DevNode::Shm(i)) => i.utimes(times),
                Kind::Pipe(end) => match &end.fifo {
                    Some(file) => host_utimes(file, times),
                    None => {
                        end.pipe.utimes(times);
                        Ok(())
                    }
                },
                Kind::Dev(_) | Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => {
                    proc_utimes(times)
                }
            };
        };
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(EINVAL);
        }
        let target = self.lookup_for_change(dirfd, path, flags)?;
        let times = match target {
            Target::Missing { .. } => return Err(ENOENT),
            _ => check_times(times)?,
        };
        match target {
            Target::Missing { .. } => Err(ENOENT),
            Target::Host { file, .. } => host_utimes(&file, times),
            Target::Proc { .. } => proc_utimes(times),
            Target::Dev(DevNode::Shm(i)) => i.utimes(times),
            Target::Dev(_) => proc_utimes(times),
        }
    }

    /// `statfs(2)`: the file system of `path` (followed).
    pub fn statfs(&self, path: &[u8]) -> Result<StatFs, Errno> {
        match self.lookup_at(super::flags::AT_FDCWD, path, 0)? {
            Target::Missing { .. } => Err(ENOENT),
            Target::Host { file, .. } => StatFs::host(&*file),
            Target::Proc { .. } => Ok(StatFs::proc()),
            Target::Dev(n) => Ok(StatFs::dev(&n, &self.host.shm)),
        }
    }

    /// `fstatfs(2)` (an `O_PATH` descriptor too, as `fdget_raw`).
    pub fn fstatfs(&self, fd: i32) -> Result<StatFs, Errno> {
        let f = self.file(fd)?;
        match &f.kind {
            Kind::Host { file, .. } => StatFs::host(file),
            Kind::Dir { file } | Kind::HostPath { file } | Kind::Stdio { file } => {
                StatFs::host(&**file)
            }
            Kind::Proc { .. } => Ok(StatFs::proc()),
            Kind::Dev(n) => Ok(StatFs::dev(n, &self.host.shm)),
            // pipefs and anon_inodefs: `simple_statfs`.
            Kind::Pipe(end) => match &end.fifo {
                Some(file) => StatFs::host(&**file),
                None => Ok(StatFs::pseudo(super::pipe::PIPEFS_MAGIC)),
            },
            Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => {
                Ok(StatFs::pseudo(ANON_INODE_FS_MAGIC))
            }
        }
    }
}
