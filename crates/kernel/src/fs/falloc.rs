//! `fallocate(2)`: fs/open.c's `vfs_fallocate` (the checks, in Linux's
//! order) and the file systems' `fallocate` operations.
//!
//! - tmpfs (`/dev/shm`) and memfds: `shmem_fallocate` in ferrite's page
//!   cache (allocation within the file system's room, holes; the other
//!   modes are EOPNOTSUPP, as on tmpfs), the seals applying;
//! - a host regular file: the host's own `fallocate` with the same mode
//!   (so the modes are those of the file system under `--root`), and the
//!   page cache follows ([`mm::falloc`]);
//! - everything else: Linux's errors (ESPIPE for a pipe, ENODEV for a
//!   device or an eventfd, EOPNOTSUPP for a procfs file).

use std::fs::File;
use std::os::unix::fs::FileTypeExt;

use mm::falloc::{
    FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_MODE_MASK,
    FALLOC_FL_PUNCH_HOLE, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_WRITE_ZEROES, FALLOC_FL_ZERO_RANGE,
};
use mm::filemap::FMODE_WRITE;
use mm::Cpu;

use crate::errno::*;

use super::dev::DevNode;
use super::fdtable::Kind;
use super::Fs;

/// The host's `fallocate` on `file` (EINTR retried).
pub(crate) fn host_fallocate(file: &File, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
    let flags = rustix::fs::FallocateFlags::from_bits_retain(mode);
    loop {
        match rustix::fs::fallocate(file, flags, offset, len) {
            Err(rustix::io::Errno::INTR) => {}
            r => return r.map_err(|e| e.raw_os_error()),
        }
    }
}

/// The error `vfs_fallocate` gives a host file that is not a regular one.
fn not_regular(file: &File) -> Errno {
    match file.metadata() {
        Ok(m) if m.file_type().is_fifo() || m.file_type().is_socket() => ESPIPE,
        Ok(m) if m.is_dir() => EISDIR,
        Ok(_) => ENODEV,
        Err(e) => super::hostfs::host_errno(&e),
    }
}

impl Fs {
    /// `fallocate(fd, mode, offset, len)`.
    pub fn fallocate(
        &self,
        cpu: &Cpu<'_>,
        fd: i32,
        mode: u32,
        offset: i64,
        len: i64,
    ) -> Result<(), Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        if offset < 0 || len <= 0 {
            return Err(EINVAL);
        }
        if mode & !(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE) != 0 {
            return Err(EOPNOTSUPP);
        }
        // The modes exclude each other; KEEP_SIZE goes with some only.
        let keep = mode & FALLOC_FL_KEEP_SIZE != 0;
        match mode & FALLOC_FL_MODE_MASK {
            0 | FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_ZERO_RANGE => {}
            FALLOC_FL_PUNCH_HOLE if keep => {}
            FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_WRITE_ZEROES if !keep => {
            }
            _ => return Err(EOPNOTSUPP),
        }
        if f.fmode & FMODE_WRITE == 0 {
            return Err(EBADF);
        }
        let end = || offset.checked_add(len).map(|_| ()).ok_or(EFBIG);
        let (offset, len) = (offset as u64, len as u64);
        match &f.kind {
            Kind::Dev(DevNode::Shm(inode)) => {
                end()?;
                super::dev::flush(&self.host.shm, cpu);
                let room = if inode.is_memfd() {
                    usize::MAX
                } else {
                    self.host.shm.room()
                };
                inode.fallocate(cpu, (mode, offset, len), room)
            }
            Kind::Host {
                file,
                dev,
                ino,
                regular: true,
            } => {
                end()?;
                let op = || host_fallocate(file, mode, offset, len);
                // A file with a page cache: the cache follows the change.
                match self
                    .host
                    .cache
                    .fallocate(cpu, (*dev, *ino), (mode, offset, len), op)
                {
                    Some(r) => r,
                    None => host_fallocate(file, mode, offset, len),
                }
            }
            Kind::Host { file, .. } => Err(not_regular(file)),
            Kind::Stdio { file } => {
                if file.metadata().is_ok_and(|m| m.is_file()) {
                    end()?;
                    host_fallocate(file, mode, offset, len)
                } else {
                    Err(not_regular(file))
                }
            }
            Kind::Pipe(_) => Err(ESPIPE),
            Kind::Dir { .. } | Kind::Dev(DevNode::Dir(_)) => Err(EISDIR),
            // Regular files without a `fallocate` operation.
            Kind::Proc { .. } => {
                end()?;
                Err(EOPNOTSUPP)
            }
            Kind::HostPath { .. } => Err(EBADF),
            Kind::Dev(_) | Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => Err(ENODEV),
        }
    }
}
