//! `stat` and `readlink` (Linux's fs/stat.c: `vfs_fstat`, `vfs_fstatat`,
//! `do_readlinkat`).
//!
//! A lookup by path `fstat`s the handle the lookup opened (namei.rs), and
//! `readlink` reads that handle (`readlinkat(fd, "")`).
//!
//! Where ferrite differs: a lookup by path asks the host again (no inode
//! cache): the host may have changed the file since an earlier call.

use crate::errno::*;

use super::fdtable::Kind;
use super::flags::*;
use super::hostfs::host_errno;
use super::namei::Target;
use super::procfs::{self, ProcNode};
use super::stat::Stat;
use super::Fs;

impl Fs {
    /// `fstat(2)`.
    pub fn fstat(&self, fd: i32) -> Result<Stat, Errno> {
        let f = self.file(fd)?;
        let meta = match &f.kind {
            Kind::Host { file, .. } => file.metadata(),
            Kind::Dir { file } | Kind::HostPath { file } => file.metadata(),
            Kind::Stdio { file } => file.metadata(),
            Kind::Proc { rel, node, .. } => return Ok(procfs::stat(node, rel)),
            Kind::Dev(n) => return Ok(n.stat(&self.host.shm)),
            // A named FIFO is its host file; a pipe its pipefs inode.
            Kind::Pipe(end) => match &end.fifo {
                Some(file) => file.metadata(),
                None => return Ok(end.pipe.stat()),
            },
            Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => {
                return Ok(super::eventfd::EventFd::stat())
            }
        };
        meta.map(|m| Stat::from_host(&m))
            .map_err(|e| host_errno(&e))
    }

    /// `newfstatat(2)` (`flags`: `AT_SYMLINK_NOFOLLOW`, `AT_EMPTY_PATH`,
    /// `AT_NO_AUTOMOUNT`).
    pub fn fstatat(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<Stat, Errno> {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT) != 0 {
            return Err(EINVAL);
        }
        let p = super::namei::check_path(path)?;
        if p.is_empty() && flags & AT_EMPTY_PATH != 0 && dirfd != AT_FDCWD {
            return self.fstat(dirfd);
        }
        match self.lookup_at(dirfd, path, flags)? {
            Target::Missing { .. } => Err(ENOENT),
            Target::Host { meta, .. } => Ok(Stat::from_host(&meta)),
            Target::Proc { rel, node, .. } => Ok(procfs::stat(&node, &rel)),
            Target::Dev(n) => Ok(n.stat(&self.host.shm)),
        }
    }

    /// `readlinkat(2)`: the whole target (the caller truncates it to the
    /// buffer). EINVAL if the path is not a symlink.
    /// An empty path names `dirfd` (an `O_PATH|O_NOFOLLOW` descriptor of
    /// a symlink); ENOENT if that is not a symlink.
    pub fn readlinkat(&self, dirfd: i32, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let empty = super::namei::check_path(path)?.is_empty();
        let flags = AT_SYMLINK_NOFOLLOW | if empty { AT_EMPTY_PATH } else { 0 };
        let einval = if empty { ENOENT } else { EINVAL };
        match self.lookup_at(dirfd, path, flags)? {
            Target::Missing { .. } => Err(ENOENT),
            Target::Host { file, meta, .. } => {
                if !meta.file_type().is_symlink() {
                    return Err(einval);
                }
                // The link the lookup opened (O_PATH|O_NOFOLLOW), by its
                // handle.
                let t = rustix::fs::readlinkat(&*file, "", Vec::new()).map_err(super::namei::rx)?;
                Ok(t.into_bytes())
            }
            Target::Proc {
                node: ProcNode::Symlink(t),
                ..
            } => Ok(t),
            Target::Proc { .. } => Err(einval),
            Target::Dev(super::dev::DevNode::Symlink { target, .. }) => {
                Ok(target.as_bytes().to_vec())
            }
            Target::Dev(_) => Err(einval),
        }
    }
}
