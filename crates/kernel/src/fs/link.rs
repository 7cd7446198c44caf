//! New names for files: `symlinkat(2)` and `renameat2(2)` (Linux's
//! fs/namei.c `do_symlinkat`, `do_renameat2`).
//!
//! Symlink targets are stored verbatim on the host and interpreted in the
//! guest namespace when followed (see namei.rs), so a guest symlink to
//! `/etc` names the root's `etc` even when the host looks at it.
//!
//! Where ferrite differs: `RENAME_EXCHANGE` and `RENAME_WHITEOUT` are
//! EINVAL; renames into or out of /proc are EXDEV, as between mounts.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::errno::*;

use super::hostfs::host_errno;
use super::namei::{Last, Parent};
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
        let (p, trailing_slash) = self.new_entry(newdirfd, linkpath)?;
        if trailing_slash {
            return Err(ENOENT);
        }
        std::os::unix::fs::symlink(OsStr::from_bytes(target), &p).map_err(|e| host_errno(&e))
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
        let (Parent::Host { host: oh, .. }, Parent::Host { host: nh, .. }) = (op, np) else {
            return Err(EXDEV);
        };
        let from = oh.join(OsStr::from_bytes(&oname));
        let to = nh.join(OsStr::from_bytes(&nname));
        let m = std::fs::symlink_metadata(&from).map_err(|e| host_errno(&e))?;
        if (os || ns) && !m.is_dir() {
            return Err(ENOTDIR);
        }
        if flags & RENAME_NOREPLACE != 0 && std::fs::symlink_metadata(&to).is_ok() {
            return Err(EEXIST);
        }
        std::fs::rename(&from, &to).map_err(|e| host_errno(&e))
    }
}
