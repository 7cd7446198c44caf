//! New names for files: `symlinkat(2)`, `linkat(2)` and `renameat2(2)`
//! (Linux's fs/namei.c `do_symlinkat`, `do_linkat`, `do_renameat2`).
//!
//! Symlink targets are stored verbatim on the host and interpreted in the
//! guest namespace when followed (see namei.rs), so a guest symlink to
//! `/etc` names the root's `etc` even when the host looks at it.
//!
//! All act through the directory handles of the lookups and one name
//! each (`symlinkat`, `linkat`, `renameat2` on the host, whose
//! `RENAME_NOREPLACE` is atomic), never through host paths.
//!
//! Where ferrite differs: `RENAME_EXCHANGE` and `RENAME_WHITEOUT` are
//! EINVAL; renames and hard links into or out of /proc and /dev are
//! EXDEV, as between mounts; renames inside /dev/shm are the tmpfs's
//! (shmem.rs), hard links there are EPERM. `linkat` with `AT_EMPTY_PATH` is ENOENT, what Linux
//! gives a caller without `CAP_DAC_READ_SEARCH` (ferrite's processes have
//! no capabilities).

use std::os::fd::AsRawFd;

use rustix::fs::{AtFlags, RenameFlags};

use crate::errno::*;

use super::dev::DevDir;
use super::flags::{AT_EMPTY_PATH, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW};
use super::namei::{rx, Last, Parent, Target};
use super::open::lstatat;
use super::Fs;

/// `renameat2` flag: fail if the new name exists.
pub const RENAME_NOREPLACE: u32 = 1;

impl Fs {
    /// `symlinkat(2)`: make `linkpath` (relative to `newdirfd`) a symlink
    /// to `target`.
    pub fn symlinkat(&self, target: &[u8], newdirfd: i32, linkpath: &[u8]) -> Result<(), Errno> {
        let target = super::namei::check_path(target)?;
        if target.is_empty() {
            return Err(ENOENT);
        }
        let (dir, name, trailing_slash) = self.new_entry(newdirfd, linkpath)?;
        if trailing_slash {
            return Err(ENOENT);
        }
        rustix::fs::symlinkat(target, dir.fd(), name.as_slice()).map_err(rx)
    }

    /// `linkat(2)`: give the file `oldpath` (relative to `olddirfd`; a
    /// symlink in its last component followed only with
    /// `AT_SYMLINK_FOLLOW`) the new name `newpath` (relative to
    /// `newdirfd`). Errors in Linux's order: the old lookup's, the new
    /// name's (EEXIST, ENOENT for a trailing slash), EXDEV across /proc,
    /// EPERM for a directory.
    pub fn linkat(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: i32,
    ) -> Result<(), Errno> {
        if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(EINVAL);
        }
        if flags & AT_EMPTY_PATH != 0 {
            return Err(ENOENT);
        }
        let follow = if flags & AT_SYMLINK_FOLLOW != 0 {
            0
        } else {
            AT_SYMLINK_NOFOLLOW
        };
        let old = self.lookup_at(olddirfd, oldpath, follow)?;
        let (ndir, nname, trailing_slash) = self.new_entry(newdirfd, newpath)?;
        if trailing_slash {
            return Err(ENOENT);
        }
        match old {
            Target::Missing { .. } => Err(ENOENT),
            Target::Proc { .. } | Target::Dev(_) => Err(EXDEV),
            Target::Host { meta, .. } if meta.is_dir() => Err(EPERM),
            Target::Host {
                parent: Some((odir, oname)),
                ..
            } => rustix::fs::linkat(
                odir.fd(),
                oname.as_slice(),
                ndir.fd(),
                nname.as_slice(),
                AtFlags::empty(),
            )
            .map_err(rx),
            // Reached through a magic link (`/proc/self/fd/N`): link the
            // inode its handle holds, through ferrite's own descriptor.
            Target::Host { file, .. } => rustix::fs::linkat(
                rustix::fs::CWD,
                format!("/proc/self/fd/{}", file.as_raw_fd()),
                ndir.fd(),
                nname.as_slice(),
                AtFlags::SYMLINK_FOLLOW,
            )
            .map_err(rx),
        }
    }

    /// `renameat2(2)` (`flags`: 0 or [`RENAME_NOREPLACE`]); `renameat` is
    /// `flags` = 0.
    pub fn renameat2(
        &self,
        olddirfd: i32,
        oldpath: &[u8],
        newdirfd: i32,
        newpath: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if flags & !RENAME_NOREPLACE != 0 {
            return Err(EINVAL);
        }
        let old_start = self.start_checked(olddirfd, oldpath)?;
        let new_start = self.start_checked(newdirfd, newpath)?;
        let (op, ol, os) = self.walker().parent(&old_start, oldpath)?;
        let (np, nl, ns) = self.walker().parent(&new_start, newpath)?;
        let (Last::Norm(oname), Last::Norm(nname)) = (ol, nl) else {
            return Err(EBUSY);
        };
        let (od, nd) = match (op, np) {
            (Parent::Host(od), Parent::Host(nd)) => (od, nd),
            (Parent::Dev(DevDir::Shm), Parent::Dev(DevDir::Shm)) => {
                let shm = &self.host.shm;
                if shm.lookup(&oname).is_none() {
                    return Err(ENOENT);
                }
                if os || ns {
                    return Err(ENOTDIR);
                }
                return shm.rename(&oname, &nname, flags & RENAME_NOREPLACE != 0);
            }
            (Parent::Dev(DevDir::Root), Parent::Dev(DevDir::Root)) => return Err(EACCES),
            _ => return Err(EXDEV),
        };
        let ft = lstatat(&od, &oname)?;
        if (os || ns) && !ft.is_dir() {
            return Err(ENOTDIR);
        }
        let host_flags = if flags & RENAME_NOREPLACE != 0 {
            RenameFlags::NOREPLACE
        } else {
            RenameFlags::empty()
        };
        rustix::fs::renameat_with(
            od.fd(),
            oname.as_slice(),
            nd.fd(),
            nname.as_slice(),
            host_flags,
        )
        .map_err(rx)
    }
}
