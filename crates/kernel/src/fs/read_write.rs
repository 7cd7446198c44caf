//! Reading and writing open files (Linux's fs/read_write.c: `vfs_read`,
//! `vfs_write`, `vfs_readv`/`vfs_writev`, `rw_verify_area`, `vfs_llseek`;
//! fs/open.c `do_sys_ftruncate`; fs/sync.c `vfs_fsync`).
//!
//! A read or write is done in Linux's order: the descriptor is looked up
//! and its mode checked first ([`Fs::fget_read`], [`Fs::fget_write`]:
//! EBADF, ESPIPE for a positioned call on a stream), then the caller
//! checks its buffers (syscall/file.rs: `access_ok`, `import_iovec`), then
//! [`Fs::read_iter`] / [`Fs::write_iter`] check the position
//! (`rw_verify_area`), cap the count at [`MAX_RW_COUNT`] and move the
//! data. Data move between guest memory ([`UserIter`]) and the host file
//! through one buffer of at most [`CHUNK`] bytes, never through a buffer
//! sized by the guest; a fault after some bytes moved ends the call with
//! the bytes moved, a fault before any is EFAULT.
//!
//! Regular host files are read and written at the description's offset
//! with positioned host I/O, the page cache kept coherent (see
//! pagecache.rs); the host's standard streams and devices are used as
//! streams (the host keeps their offset; pread/pwrite on them is ESPIPE
//! unless the host can seek them); procfs files read their snapshot.
//!
//! Where ferrite differs: the host stream I/O blocks the calling thread
//! (no signals interrupt it), except that a blocking read waits for the
//! host's input without holding a hart first (the syscall layer polls
//! the host, see poll.rs); a read from a stream does one host read of
//! at most [`CHUNK`] bytes (a short count, which a pipe or terminal gives
//! on Linux too), into guest pages faulted in beforehand so that bytes
//! taken from the stream are not lost to a fault; `O_APPEND` is done by
//! writing at the size read just before, which another host process
//! could race.

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use mm::filemap::{FMODE_READ, FMODE_WRITE};
use mm::Cpu;

use crate::errno::*;

use super::dev::{CharDev, DevNode};
use super::fdtable::{lock, Kind, OpenFile};
use super::flags::*;
use super::hostfs::host_errno;
use super::Fs;

/// Bytes moved per step between guest memory and a host file.
pub const CHUNK: usize = 64 << 10;

/// Guest memory as the destination of a read or the source of a write: a
/// list of ranges consumed in order (Linux's `struct iov_iter` over user
/// iovecs). Each call moves the next bytes and advances past them.
pub trait UserIter {
    /// Copy `data` to the next bytes of the destination: how many were
    /// copied (fewer at a fault).
    fn copy_out(&mut self, data: &[u8]) -> usize;
    /// Fill `buf` from the next bytes of the source: how many were copied
    /// (fewer at a fault).
    fn copy_in(&mut self, buf: &mut [u8]) -> usize;
    /// How many of the next `n` bytes can be written, faulting them in
    /// (Linux's `fault_in_iov_iter_writeable`), without advancing.
    fn writable(&mut self, n: usize) -> usize;
    /// Advance past the next `n` bytes without moving them
    /// (`iov_iter_advance`): how many were skipped.
    fn skip(&mut self, n: usize) -> usize;
}

/// A kernel buffer as a [`UserIter`] (for callers inside the kernel).
struct KernelIter<'a> {
    out: Option<&'a mut [u8]>,
    inp: Option<&'a [u8]>,
    off: usize,
}

impl UserIter for KernelIter<'_> {
    fn copy_out(&mut self, data: &[u8]) -> usize {
        let Some(out) = self.out.as_deref_mut() else {
            return 0;
        };
        let n = data.len().min(out.len() - self.off);
        out[self.off..self.off + n].copy_from_slice(&data[..n]);
        self.off += n;
        n
    }

    fn copy_in(&mut self, buf: &mut [u8]) -> usize {
        let Some(inp) = self.inp else {
            return 0;
        };
        let n = buf.len().min(inp.len() - self.off);
        buf[..n].copy_from_slice(&inp[self.off..self.off + n]);
        self.off += n;
        n
    }

    fn writable(&mut self, n: usize) -> usize {
        self.out.as_deref().map_or(0, |o| n.min(o.len() - self.off))
    }

    fn skip(&mut self, n: usize) -> usize {
        let len = match (&self.out, self.inp) {
            (Some(o), _) => o.len(),
            (None, Some(i)) => i.len(),
            (None, None) => 0,
        };
        let k = n.min(len - self.off);
        self.off += k;
        k
    }
}

/// An open file held for one read or write (Linux's `struct fd` from
/// `fdget`): the call keeps using it even if the descriptor is closed
/// meanwhile.
pub struct IoFile(Arc<OpenFile>);

impl IoFile {
    /// The pipe this is an end of, if it is one.
    pub fn pipe(&self) -> Option<&super::pipe::Pipe> {
        match &self.0.kind {
            Kind::Pipe(end) => Some(&end.pipe),
            _ => None,
        }
    }

    /// The timerfd this is, if it is one.
    pub fn timerfd(&self) -> Option<&super::timerfd::TimerFd> {
        match &self.0.kind {
            Kind::TimerFd(t) => Some(t),
            _ => None,
        }
    }

    /// The eventfd this is, if it is one.
    pub fn eventfd(&self) -> Option<&super::eventfd::EventFd> {
        match &self.0.kind {
            Kind::EventFd(e) => Some(e),
            _ => None,
        }
    }

    /// The file status flags (`f_flags`).
    pub fn flags(&self) -> i32 {
        self.0.flags()
    }

    /// `vfs_read`'s (or, for `write`, `vfs_write`'s) checks of the open
    /// file: ESPIPE for a positioned transfer on a stream, EBADF if it is
    /// not open for that direction.
    pub fn check(&self, positioned: bool, write: bool) -> Result<(), Errno> {
        let f = &self.0;
        if positioned && !f.can_pread() {
            return Err(ESPIPE);
        }
        let mode = if write { FMODE_WRITE } else { FMODE_READ };
        if f.fmode & mode == 0 || f.is_path() {
            return Err(EBADF);
        }
        Ok(())
    }

    /// The open file description.
    pub(crate) fn open_file(&self) -> &OpenFile {
        &self.0
    }
}

/// Retry a host call interrupted by a host signal.
fn retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r.map_err(|e| host_errno(&e)),
        }
    }
}

/// The end of a transfer that moved `done` bytes and then met `err`:
/// the error only when nothing moved.
fn partial(done: usize, err: Errno) -> Result<usize, Errno> {
    if done == 0 {
        Err(err)
    } else {
        Ok(done)
    }
}

/// Copy up to `count` bytes from `pos` on out to `to`, in pieces of at
/// most [`CHUNK`] bytes that `read(at, buf)` fills (a short piece is the
/// end): the bytes copied, or the first error if none were.
fn read_chunked(
    pos: u64,
    count: usize,
    to: &mut dyn UserIter,
    mut read: impl FnMut(u64, &mut [u8]) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0;
    while done < count {
        let want = (count - done).min(CHUNK);
        let n = match read(pos + done as u64, &mut buf[..want]) {
            Ok(n) => n,
            Err(e) => return partial(done, e),
        };
        let m = to.copy_out(&buf[..n]);
        done += m;
        if m < n {
            return partial(done, EFAULT);
        }
        if n < want {
            break;
        }
    }
    Ok(done)
}

/// `rw_verify_area` for a positioned file: `pos + count` must stay within
/// `loff_t`.
fn verify_area(pos: u64, count: usize) -> Result<(), Errno> {
    if pos > i64::MAX as u64
        || pos
            .checked_add(count as u64)
            .is_none_or(|e| e > i64::MAX as u64)
    {
        return Err(EINVAL);
    }
    Ok(())
}

impl OpenFile {
    /// The host stream behind a non-positioned open file.
    fn stream(&self) -> Result<&std::fs::File, Errno> {
        match &self.kind {
            Kind::Stdio { file } => Ok(file),
            Kind::Host { file, .. } => Ok(file),
            _ => Err(EBADF),
        }
    }

    /// Positioned I/O (`FMODE_PREAD`/`FMODE_PWRITE`) works: everything but
    /// a host stream the host cannot seek (a pipe, socket or terminal).
    fn can_pread(&self) -> bool {
        match &self.kind {
            Kind::Host { regular: true, .. }
            | Kind::Dir { .. }
            | Kind::Proc { .. }
            | Kind::HostPath { .. } => true,
            Kind::Dev(DevNode::Chr(c)) => !c.is_stream(),
            Kind::Dev(_) => true,
            Kind::Pipe(_) | Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => false,
            _ => self.stream().is_ok_and(|mut s| s.stream_position().is_ok()),
        }
    }
}

impl Fs {
    /// `fdget` and `vfs_read`'s mode checks: EBADF for a bad descriptor,
    /// ESPIPE for a positioned read (`pread`) of a stream, EBADF for one
    /// not open for reading.
    pub fn fget_read(&self, fd: i32, positioned: bool) -> Result<IoFile, Errno> {
        let f = IoFile(self.file(fd)?);
        f.check(positioned, false)?;
        Ok(f)
    }

    /// `fdget` and `vfs_write`'s mode checks (as [`Fs::fget_read`]).
    pub fn fget_write(&self, fd: i32, positioned: bool) -> Result<IoFile, Errno> {
        let f = IoFile(self.file(fd)?);
        f.check(positioned, true)?;
        Ok(f)
    }

    /// Whether the descriptor table is the caller's alone: `me` is the
    /// caller's reference to this `Fs` and `held` the references it knows
    /// of (its task's and its run's). Then only the caller's own system
    /// calls change the table (Linux's `fdget` takes no reference then).
    pub fn files_exclusive(me: &Arc<Fs>, held: usize) -> bool {
        Arc::strong_count(me) <= held && !me.files_shared()
    }

    /// Read up to `count` bytes of `file` into `to`: at `at` (pread), or
    /// at and advancing the file's offset. `count` is what the caller
    /// checked (`rw_verify_area` sees it whole); at most [`MAX_RW_COUNT`]
    /// bytes move.
    pub fn read_iter(
        &self,
        cpu: &Cpu<'_>,
        file: &IoFile,
        at: Option<u64>,
        count: usize,
        to: &mut dyn UserIter,
    ) -> Result<usize, Errno> {
        let f = &*file.0;
        // From inside the kernel a pipe or eventfd never sleeps (the
        // syscall layer routes the callers that may to pipe.rs).
        let nonblock = true;
        match &f.kind {
            Kind::Pipe(end) => {
                return match end.pipe.read(cpu, nonblock, to, count, None)? {
                    super::pipe::Io::Done(n) | super::pipe::Io::Block(n) => Ok(n),
                };
            }
            Kind::EventFd(e) => {
                return match e.read(nonblock, to, count, None)? {
                    super::pipe::Io::Done(n) | super::pipe::Io::Block(n) => Ok(n),
                };
            }
            Kind::TimerFd(t) => {
                return match t.read(nonblock, to, count, None)? {
                    super::pipe::Io::Done(n) | super::pipe::Io::Block(n) => Ok(n),
                };
            }
            // No read method (`FMODE_CAN_READ` unset).
            Kind::Epoll(_) => return Err(EINVAL),
            _ => {}
        }
        let positioned = matches!(
            f.kind,
            Kind::Host { regular: true, .. }
                | Kind::Dir { .. }
                | Kind::Proc { .. }
                | Kind::Dev(DevNode::Shm(_) | DevNode::Dir(_))
        );
        if let Kind::Dev(DevNode::Chr(c)) = &f.kind {
            if !c.is_stream() {
                if let Some(pos) = at {
                    verify_area(pos, count)?;
                }
                return super::dev::chr_read(*c, count, to);
            }
        }
        if !positioned {
            if let Some(pos) = at {
                verify_area(pos, count)?;
            }
            let count = count.min(CHUNK);
            let s = match &f.kind {
                // /dev/tty reads the host's standard input (dev.rs).
                Kind::Dev(DevNode::Chr(CharDev::Tty)) => &*self.host.stdio[0],
                _ => f.stream()?,
            };
            // Fault the destination in first: what the host stream gives
            // cannot be put back.
            let want = to.writable(count);
            if want == 0 {
                return if count == 0 { Ok(0) } else { Err(EFAULT) };
            }
            let mut buf = vec![0u8; want];
            // A terminal or pipe may block: leave the CPU open to the
            // others meanwhile (mm's `Cpu::blocking`).
            let n = match at {
                Some(pos) => cpu.blocking(|| retry(|| s.read_at(&mut buf, pos)))?,
                None => cpu.blocking(|| retry(|| (&mut &*s).read(&mut buf)))?,
            };
            let m = to.copy_out(&buf[..n]);
            return if m < n { partial(m, EFAULT) } else { Ok(n) };
        }
        let mut guard = match at {
            Some(_) => None,
            None => Some(lock(&f.pos)),
        };
        let start = at.unwrap_or_else(|| **guard.as_ref().expect("locked"));
        verify_area(start, count)?;
        let count = count.min(MAX_RW_COUNT);
        let r = self.read_positioned(cpu, f, start, count, to);
        if let (Some(g), Ok(n)) = (guard.as_mut(), &r) {
            **g = start + *n as u64;
        }
        r
    }

    /// The positioned read behind [`Fs::read_iter`].
    fn read_positioned(
        &self,
        cpu: &Cpu<'_>,
        f: &OpenFile,
        pos: u64,
        count: usize,
        to: &mut dyn UserIter,
    ) -> Result<usize, Errno> {
        match &f.kind {
            Kind::Proc {
                live: Some(live), ..
            } => {
                // In pieces of at most CHUNK bytes, each computed where it
                // is read.
                live.check(pos, count)?;
                read_chunked(pos, count, to, |at, buf| live.read_at(at, buf))
            }
            Kind::Proc { data, .. } => {
                if f.is_dir() {
                    return Err(EISDIR);
                }
                let start = usize::try_from(pos).unwrap_or(usize::MAX).min(data.len());
                let n = (data.len() - start).min(count);
                let m = to.copy_out(&data[start..start + n]);
                if m < n {
                    partial(m, EFAULT)
                } else {
                    Ok(n)
                }
            }
            Kind::Host {
                file,
                dev,
                ino,
                regular: true,
            } => read_chunked(pos, count, to, |at, buf| {
                let n = retry(|| file.read_at(buf, at))?;
                self.host
                    .cache
                    .overlay_read(cpu, *dev, *ino, at, &mut buf[..n]);
                Ok(n)
            }),
            Kind::Dev(DevNode::Shm(inode)) => inode.read(cpu, pos, count, to),
            Kind::Dir { .. } | Kind::Dev(DevNode::Dir(_)) => Err(EISDIR),
            _ => Err(EBADF),
        }
    }

    /// Write up to `count` bytes from `from` to `file`: at `at` (pwrite),
    /// or at and advancing the file's offset (at the end with
    /// `O_APPEND`, where a pwrite goes too, as on Linux).
    pub fn write_iter(
        &self,
        cpu: &Cpu<'_>,
        file: &IoFile,
        at: Option<u64>,
        count: usize,
        from: &mut dyn UserIter,
    ) -> Result<usize, Errno> {
        let f = &*file.0;
        match &f.kind {
            // As in `read_iter`: never sleeping from inside the kernel.
            Kind::Pipe(end) => {
                let packet = f.flags() & O_DIRECT != 0;
                match end.pipe.write(cpu, true, packet, from, count, None)? {
                    super::pipe::Io::Done(n) | super::pipe::Io::Block(n) => Ok(n),
                }
            }
            Kind::EventFd(e) => match e.write(true, from, count, None)? {
                super::pipe::Io::Done(n) | super::pipe::Io::Block(n) => Ok(n),
            },
            // No write method (`FMODE_CAN_WRITE` unset).
            Kind::Epoll(_) | Kind::TimerFd(_) => Err(EINVAL),
            Kind::Dev(DevNode::Shm(inode)) => {
                super::dev::flush(&self.host.shm, cpu);
                let mut guard = match at {
                    Some(_) => None,
                    None => Some(lock(&f.pos)),
                };
                let start = at.unwrap_or_else(|| **guard.as_ref().expect("locked"));
                verify_area(start, count)?;
                let count = count.min(MAX_RW_COUNT);
                let pos = if f.flags() & O_APPEND != 0 {
                    None
                } else {
                    Some(start)
                };
                let shm = &self.host.shm;
                let budget = || {
                    if inode.is_memfd() {
                        usize::MAX
                    } else {
                        shm.room()
                    }
                };
                let (n, end) = inode.write(cpu, pos, count, from, &budget)?;
                if let Some(g) = guard.as_mut() {
                    **g = end;
                }
                Ok(n)
            }
            Kind::Dev(DevNode::Chr(c)) if !c.is_stream() => {
                if let Some(pos) = at {
                    verify_area(pos, count)?;
                }
                super::dev::chr_write(*c, count, from)
            }
            Kind::Host {
                file: host,
                dev,
                ino,
                regular: true,
            } => {
                let mut guard = match at {
                    Some(_) => None,
                    None => Some(lock(&f.pos)),
                };
                let start = at.unwrap_or_else(|| **guard.as_ref().expect("locked"));
                verify_area(start, count)?;
                let count = count.min(MAX_RW_COUNT);
                if count == 0 {
                    return Ok(0);
                }
                let pos = if f.flags() & O_APPEND != 0 {
                    host.metadata().map_err(|e| host_errno(&e))?.len()
                } else {
                    start
                };
                if pos
                    .checked_add(count as u64)
                    .is_none_or(|e| e > i64::MAX as u64)
                {
                    return Err(EFBIG);
                }
                let mut buf = vec![0u8; count.min(CHUNK)];
                let mut done = 0;
                let mut fault = false;
                while done < count {
                    let want = (count - done).min(CHUNK);
                    let got = from.copy_in(&mut buf[..want]);
                    fault = got < want;
                    let mut put = 0;
                    while put < got {
                        let at = pos + (done + put) as u64;
                        match retry(|| host.write_at(&buf[put..got], at)) {
                            Ok(0) => break,
                            Ok(n) => put += n,
                            Err(e) if done + put == 0 => return Err(e),
                            Err(_) => break,
                        }
                    }
                    self.host
                        .cache
                        .update_written(cpu, *dev, *ino, pos + done as u64, &buf[..put]);
                    done += put;
                    if put < want {
                        break;
                    }
                }
                if let Some(g) = guard.as_mut() {
                    **g = pos + done as u64;
                }
                if done == 0 && fault {
                    return Err(EFAULT);
                }
                Ok(done)
            }
            Kind::Stdio { .. } | Kind::Host { .. } | Kind::Dev(DevNode::Chr(_)) => {
                let s = match &f.kind {
                    // /dev/tty writes to the host's standard output.
                    Kind::Dev(_) => &*self.host.stdio[1],
                    _ => f.stream()?,
                };
                if let Some(pos) = at {
                    verify_area(pos, count)?;
                }
                let count = count.min(MAX_RW_COUNT);
                let mut buf = vec![0u8; count.min(CHUNK)];
                let mut done = 0;
                while done < count {
                    let want = (count - done).min(CHUNK);
                    let got = from.copy_in(&mut buf[..want]);
                    if got == 0 {
                        return partial(done, EFAULT);
                    }
                    let r = match at {
                        Some(pos) => retry(|| s.write_at(&buf[..got], pos + done as u64)),
                        None => cpu.blocking(|| retry(|| (&mut &*s).write(&buf[..got]))),
                    };
                    match r {
                        Ok(n) => {
                            done += n;
                            if n < want {
                                break;
                            }
                        }
                        Err(e) => return partial(done, e),
                    }
                }
                Ok(done)
            }
            Kind::Proc { rel, .. } => self.proc_write(f, rel, at, count, from),
            _ => Err(EBADF),
        }
    }

    /// `read(2)` into a kernel buffer.
    pub fn read(&self, cpu: &Cpu<'_>, fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
        let f = self.fget_read(fd, false)?;
        let len = buf.len();
        let mut it = KernelIter {
            out: Some(buf),
            inp: None,
            off: 0,
        };
        self.read_iter(cpu, &f, None, len, &mut it)
    }

    /// `write(2)` from a kernel buffer.
    pub fn write(&self, cpu: &Cpu<'_>, fd: i32, buf: &[u8]) -> Result<usize, Errno> {
        let f = self.fget_write(fd, false)?;
        let mut it = KernelIter {
            out: None,
            inp: Some(buf),
            off: 0,
        };
        self.write_iter(cpu, &f, None, buf.len(), &mut it)
    }

    /// `pread64(2)` into a kernel buffer: EINVAL for a negative offset,
    /// ESPIPE on a stream.
    pub fn pread(&self, cpu: &Cpu<'_>, fd: i32, buf: &mut [u8], off: i64) -> Result<usize, Errno> {
        if off < 0 {
            return Err(EINVAL);
        }
        let f = self.fget_read(fd, true)?;
        let len = buf.len();
        let mut it = KernelIter {
            out: Some(buf),
            inp: None,
            off: 0,
        };
        self.read_iter(cpu, &f, Some(off as u64), len, &mut it)
    }

    /// `pwrite64(2)` from a kernel buffer: EINVAL for a negative offset,
    /// ESPIPE on a stream; with `O_APPEND` the data go to the end, as on
    /// Linux.
    pub fn pwrite(&self, cpu: &Cpu<'_>, fd: i32, buf: &[u8], off: i64) -> Result<usize, Errno> {
        if off < 0 {
            return Err(EINVAL);
        }
        let f = self.fget_write(fd, true)?;
        let mut it = KernelIter {
            out: None,
            inp: Some(buf),
            off: 0,
        };
        self.write_iter(cpu, &f, Some(off as u64), buf.len(), &mut it)
    }

    /// `lseek(2)`: the new offset. A host directory's is its host
    /// handle's (readdir.rs).
    pub fn lseek(&self, fd: i32, off: i64, whence: i32) -> Result<u64, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        if !(SEEK_SET..=SEEK_HOLE).contains(&whence) {
            return Err(EINVAL);
        }
        if let Kind::Dir { file } = &f.kind {
            // The host's cookies (readdir.rs).
            return self.dir_llseek(&f, file, off, whence);
        }
        match f.kind {
            // `no_llseek`: pipes cannot seek.
            Kind::Pipe(_) => return Err(ESPIPE),
            // `noop_llseek`: an eventfd or epoll file stays where it is.
            Kind::EventFd(_) | Kind::Epoll(_) | Kind::TimerFd(_) => return Ok(*lock(&f.pos)),
            _ => {}
        }
        if let Kind::Dev(DevNode::Chr(c)) = &f.kind {
            // `null_lseek` (and `noop_llseek` of the generators, whose
            // position never moves): 0; a terminal cannot seek.
            return if c.is_stream() { Err(ESPIPE) } else { Ok(0) };
        }
        let mut pos = lock(&f.pos);
        let cur = *pos as i64;
        let size = match &f.kind {
            Kind::Host {
                file,
                regular: true,
                ..
            } => Some(file.metadata().map_err(|e| host_errno(&e))?.len() as i64),
            Kind::Dev(DevNode::Shm(inode)) => Some(inode.size() as i64),
            Kind::Proc { .. } | Kind::Dev(_) => None,
            _ => {
                drop(pos);
                let mut s = f.stream()?;
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
        if let Kind::Dev(DevNode::Shm(inode)) = &f.kind {
            if f.fmode & FMODE_WRITE == 0 {
                return Err(EINVAL);
            }
            super::dev::flush(&self.host.shm, cpu);
            return inode.truncate(cpu, len as u64);
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
            // tmpfs and /dev's directories have nothing to sync
            // (`noop_fsync`); the devices have no fsync.
            Kind::Dev(DevNode::Shm(_) | DevNode::Dir(_)) => Ok(()),
            Kind::Proc { .. }
            | Kind::HostPath { .. }
            | Kind::Dev(_)
            | Kind::Pipe(_)
            | Kind::EventFd(_)
            | Kind::Epoll(_)
            | Kind::TimerFd(_) => Err(EINVAL),
        }
    }
}
