//! Reading and writing open files (Linux's fs/read_write.c: `vfs_read`,
//! `vfs_write`, `ksys_pread64`, `vfs_llseek`; fs/open.c `do_sys_ftruncate`;
//! fs/sync.c `vfs_fsync`).
//!
//! Regular host files are read and written at the description's offset
//! with positioned host I/O, the page cache kept coherent (see
//! pagecache.rs); the host's standard streams and devices are used as
//! streams (the host keeps their offset; pread/pwrite on them is ESPIPE
//! unless the host can seek them); procfs files read their snapshot.
//!
//! Where ferrite differs: the host stream I/O blocks the calling thread
//! (no signals interrupt it), and `O_APPEND` is done by writing at the
//! size read just before, which another host process could race.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use mm::filemap::{FMODE_READ, FMODE_WRITE};
use mm::Cpu;

use crate::errno::*;

use super::fdtable::{lock, Kind, OpenFile};
use super::flags::*;
use super::hostfs::host_errno;
use super::Fs;

/// Retry a host call interrupted by a host signal.
fn retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r.map_err(|e| host_errno(&e)),
        }
    }
}

impl Fs {
    fn readable(&self, fd: i32) -> Result<std::sync::Arc<OpenFile>, Errno> {
        let f = self.file(fd)?;
        if f.fmode & FMODE_READ == 0 {
            return Err(EBADF);
        }
        Ok(f)
    }

    fn writable(&self, fd: i32) -> Result<std::sync::Arc<OpenFile>, Errno> {
        let f = self.file(fd)?;
        if f.fmode & FMODE_WRITE == 0 {
            return Err(EBADF);
        }
        Ok(f)
    }

    /// Read at `pos` of a positioned file; None for a stream.
    fn read_at(
        &self,
        cpu: &Cpu<'_>,
        f: &OpenFile,
        buf: &mut [u8],
        pos: u64,
    ) -> Option<Result<usize, Errno>> {
        let len = buf.len().min(MAX_RW_COUNT);
        let buf = &mut buf[..len];
        match &f.kind {
            Kind::Dir { .. } => Some(Err(EISDIR)),
            Kind::Proc { data, .. } => Some(if f.is_dir() {
                Err(EISDIR)
            } else {
                let start = usize::try_from(pos).unwrap_or(usize::MAX).min(data.len());
                let n = (data.len() - start).min(len);
                buf[..n].copy_from_slice(&data[start..start + n]);
                Ok(n)
            }),
            Kind::Host {
                file,
                dev,
                ino,
                regular: true,
            } => Some(retry(|| file.read_at(buf, pos)).inspect(|&n| {
                self.host
                    .cache
                    .overlay_read(cpu, *dev, *ino, pos, &mut buf[..n]);
            })),
            Kind::HostPath { .. } => Some(Err(EBADF)),
            _ => None,
        }
    }

    /// Write at `pos` of a positioned file (the end with `O_APPEND`):
    /// the count and the position after it; None for a stream.
    fn write_at(
        &self,
        cpu: &Cpu<'_>,
        f: &OpenFile,
        buf: &[u8],
        pos: u64,
    ) -> Option<Result<(usize, u64), Errno>> {
        let len = buf.len().min(MAX_RW_COUNT);
        let buf = &buf[..len];
        match &f.kind {
            Kind::Dir { .. } | Kind::Proc { .. } | Kind::HostPath { .. } => Some(Err(EBADF)),
            Kind::Host {
                file,
                dev,
                ino,
                regular: true,
            } => Some((|| {
                let pos = if f.flags() & O_APPEND != 0 {
                    file.metadata().map_err(|e| host_errno(&e))?.len()
                } else {
                    pos
                };
                if pos
                    .checked_add(len as u64)
                    .is_none_or(|e| e > i64::MAX as u64)
                {
                    return Err(EFBIG);
                }
                let mut done = 0;
                while done < len {
                    match retry(|| file.write_at(&buf[done..], pos + done as u64)) {
                        Ok(0) => break,
                        Ok(n) => done += n,
                        Err(e) if done == 0 => return Err(e),
                        Err(_) => break,
                    }
                }
                self.host
                    .cache
                    .update_written(cpu, *dev, *ino, pos, &buf[..done]);
                Ok((done, pos + done as u64))
            })()),
            _ => None,
        }
    }

    /// The host stream behind a non-positioned open file.
    fn stream(f: &OpenFile) -> Result<&std::fs::File, Errno> {
        match &f.kind {
            Kind::Stdio { file } => Ok(file),
            Kind::Host { file, .. } => Ok(file),
            _ => Err(EBADF),
        }
    }

    /// `read(2)`.
    pub fn read(&self, cpu: &Cpu<'_>, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        let f = self.readable(fd)?;
        let mut pos = lock(&f.pos);
        if let Some(r) = self.read_at(cpu, &f, buf, *pos) {
            let n = r?;
            *pos += n as u64;
            return Ok(n);
        }
        drop(pos);
        let len = buf.len().min(MAX_RW_COUNT);
        let mut s = Self::stream(&f)?;
        // A terminal or pipe may block: leave the CPU open to the others
        // meanwhile (mm's `Cpu::blocking`).
        cpu.blocking(|| retry(|| s.read(&mut buf[..len])))
    }

    /// `write(2)`.
    pub fn write(&self, cpu: &Cpu<'_>, fd: i32, buf: &[u8]) -> Result<usize, Errno> {
        let f = self.writable(fd)?;
        let mut pos = lock(&f.pos);
        if let Some(r) = self.write_at(cpu, &f, buf, *pos) {
            let (n, end) = r?;
            *pos = end;
            return Ok(n);
        }
        drop(pos);
        if buf.is_empty() {
            return Ok(0);
        }
        let len = buf.len().min(MAX_RW_COUNT);
        let mut s = Self::stream(&f)?;
        cpu.blocking(|| retry(|| s.write(&buf[..len])))
    }

    /// `pread64(2)`: EINVAL for a negative offset, ESPIPE on a stream.
    pub fn pread(&self, cpu: &Cpu<'_>, fd: i32, buf: &mut [u8], off: i64) -> Result<usize, Errno> {
        let f = self.readable(fd)?;
        if off < 0 {
            return Err(EINVAL);
        }
        match self.read_at(cpu, &f, buf, off as u64) {
            Some(r) => r,
            None => {
                let len = buf.len().min(MAX_RW_COUNT);
                let s = Self::stream(&f)?;
                retry(|| s.read_at(&mut buf[..len], off as u64))
            }
        }
    }

    /// `pwrite64(2)`: EINVAL for a negative offset, ESPIPE on a stream;
    /// with `O_APPEND` the data go to the end, as on Linux.
    pub fn pwrite(&self, cpu: &Cpu<'_>, fd: i32, buf: &[u8], off: i64) -> Result<usize, Errno> {
        let f = self.writable(fd)?;
        if off < 0 {
            return Err(EINVAL);
        }
        match self.write_at(cpu, &f, buf, off as u64) {
            Some(r) => r.map(|(n, _)| n),
            None => {
                let len = buf.len().min(MAX_RW_COUNT);
                let s = Self::stream(&f)?;
                retry(|| s.write_at(&buf[..len], off as u64))
            }
        }
    }

    /// `lseek(2)`: the new offset.
    pub fn lseek(&self, fd: i32, off: i64, whence: i32) -> Result<u64, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        if !(SEEK_SET..=SEEK_HOLE).contains(&whence) {
            return Err(EINVAL);
        }
        let mut pos = lock(&f.pos);
        let cur = *pos as i64;
        let size = match &f.kind {
            Kind::Host {
                file,
                regular: true,
                ..
            } => Some(file.metadata().map_err(|e| host_errno(&e))?.len() as i64),
            Kind::Dir { .. } | Kind::Proc { .. } => None,
            _ => {
                drop(pos);
                let mut s = Self::stream(&f)?;
                let from = match whence {
                    SEEK_SET => SeekFrom::Start(u64::try_from(off).map_err(|_| EINVAL)?),
                    SEEK_CUR => SeekFrom::Current(off),
                    SEEK_END => SeekFrom::End(off),
                    _ => return Err(EINVAL),
                };
                return retry(|| s.seek(from));
            }
        };
        let new = match (whence, size) {
            (SEEK_SET, _) => Some(off),
            (SEEK_CUR, _) => cur.checked_add(off),
            (SEEK_END, Some(size)) => size.checked_add(off),
            (SEEK_DATA, Some(size)) => {
                if off < 0 {
                    return Err(EINVAL);
                }
                if off >= size {
                    return Err(ENXIO);
                }
                Some(off)
            }
            (SEEK_HOLE, Some(size)) => {
                if off < 0 {
                    return Err(EINVAL);
                }
                if off >= size {
                    return Err(ENXIO);
                }
                Some(size)
            }
            _ => return Err(EINVAL),
        };
        let new = new.filter(|&n| n >= 0).ok_or(EINVAL)?;
        *pos = new as u64;
        Ok(new as u64)
    }

    /// `ftruncate(2)`: EINVAL for a negative length or a descriptor that
    /// is not a regular file open for writing.
    pub fn ftruncate(&self, cpu: &Cpu<'_>, fd: i32, len: i64) -> Result<(), Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        if len < 0 {
            return Err(EINVAL);
        }
        let Kind::Host {
            file,
            dev,
            ino,
            regular: true,
        } = &f.kind
        else {
            return Err(EINVAL);
        };
        if f.fmode & FMODE_WRITE == 0 {
            return Err(EINVAL);
        }
        retry(|| file.set_len(len as u64))?;
        self.host.cache.truncate(cpu, *dev, *ino, len as u64)
    }

    /// `fsync(2)`: dirty cached pages go back to the host, then the host
    /// syncs. EINVAL for procfs files (as for files without `fsync`).
    pub fn fsync(&self, cpu: &Cpu<'_>, fd: i32) -> Result<(), Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        match &f.kind {
            Kind::Host { file, dev, ino, .. } => {
                self.host.cache.writeback(cpu, *dev, *ino)?;
                retry(|| file.sync_all())
            }
            Kind::Dir { file } => retry(|| file.sync_all()),
            Kind::Stdio { file } => retry(|| file.sync_all()),
            Kind::Proc { .. } | Kind::HostPath { .. } => Err(EINVAL),
        }
    }
}
