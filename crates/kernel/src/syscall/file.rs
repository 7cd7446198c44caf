//! The file syscalls: the entry points of fs/open.c, fs/read_write.c,
//! fs/stat.c, fs/namei.c, fs/ioctl.c, fs/d_path.c (`getcwd`) and fs/sync.c.
//! Arguments are copied in and results out here; the file layer
//! ([`crate::fs::Fs`]) does the work with plain values.
//!
//! Data moves in chunks of [`CHUNK`] bytes, so a huge `count` never makes
//! the kernel allocate a huge host buffer; `count` is capped at Linux's
//! `MAX_RW_COUNT`. A fault after some bytes moved returns the bytes moved,
//! as Linux's `copy_to_user` short copies do; a fault before any is `EFAULT`.

use mm::uaccess::access_ok;

use super::{Sys, SysResult};
use crate::errno::{Errno, EFAULT, EINVAL, ENOTTY, ERANGE};

/// Bytes moved per step.
pub const CHUNK: usize = 1 << 20;
/// `MAX_RW_COUNT`: the most one read or write moves.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;
/// `UIO_MAXIOV`.
pub const UIO_MAXIOV: u64 = 1024;
/// `TCGETS`.
pub const TCGETS: u64 = 0x5401;

fn fd(v: u64) -> i32 {
    v as i32
}

/// Read up to `count` bytes into user memory at `buf` with `read_some`,
/// which fills a host buffer and returns how much it read.
fn read_into_user(
    s: &mut Sys<'_>,
    buf: u64,
    count: u64,
    mut read_some: impl FnMut(&mut Sys<'_>, &mut [u8], usize) -> Result<usize, Errno>,
) -> SysResult {
    let count = (count as usize).min(MAX_RW_COUNT);
    if !access_ok(buf as usize, count) {
        return Err(EFAULT);
    }
    let mut done = 0usize;
    let mut host = vec![0u8; count.min(CHUNK)];
    while done < count {
        let want = (count - done).min(CHUNK);
        let n = match read_some(s, &mut host[..want], done) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if s.write_user(buf + done as u64, &host[..n]).is_err() {
            if done == 0 {
                return Err(EFAULT);
            }
            break;
        }
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done as u64)
}

/// Write `count` bytes from user memory at `buf` with `write_some`.
fn write_from_user(
    s: &mut Sys<'_>,
    buf: u64,
    count: u64,
    mut write_some: impl FnMut(&mut Sys<'_>, &[u8], usize) -> Result<usize, Errno>,
) -> SysResult {
    let count = (count as usize).min(MAX_RW_COUNT);
    if !access_ok(buf as usize, count) {
        return Err(EFAULT);
    }
    let mut done = 0usize;
    while done < count {
        let want = (count - done).min(CHUNK);
        let data = match s.read_user(buf + done as u64, want) {
            Ok(d) => d,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        let n = match write_some(s, &data, done) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += n;
        if n < want {
            break;
        }
    }
    Ok(done as u64)
}

/// `openat(2)`.
pub fn sys_openat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let path = s.read_path(a[1])?;
    let fd = s
        .task
        .fs
        .openat(s.cpu, fd(a[0]), &path, a[2] as i32, a[3] as u32)?;
    Ok(fd as u64)
}

/// `close(2)`.
pub fn sys_close(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.task.fs.close(fd(f))?;
    Ok(0)
}

/// `read(2)`.
pub fn sys_read(s: &mut Sys<'_>, f: u64, buf: u64, count: u64) -> SysResult {
    read_into_user(s, buf, count, |s, b, _| s.task.fs.read(s.cpu, fd(f), b))
}

/// `write(2)`.
pub fn sys_write(s: &mut Sys<'_>, f: u64, buf: u64, count: u64) -> SysResult {
    write_from_user(s, buf, count, |s, b, _| s.task.fs.write(s.cpu, fd(f), b))
}

/// `pread64(2)`.
pub fn sys_pread(s: &mut Sys<'_>, f: u64, buf: u64, count: u64, off: u64) -> SysResult {
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    read_into_user(s, buf, count, |s, b, done| {
        s.task.fs.pread(s.cpu, fd(f), b, off as i64 + done as i64)
    })
}

/// `pwrite64(2)`.
pub fn sys_pwrite(s: &mut Sys<'_>, f: u64, buf: u64, count: u64, off: u64) -> SysResult {
    if (off as i64) < 0 {
        return Err(EINVAL);
    }
    write_from_user(s, buf, count, |s, b, done| {
        s.task.fs.pwrite(s.cpu, fd(f), b, off as i64 + done as i64)
    })
}

/// The `struct iovec` array of readv/writev (`import_iovec`).
fn iovecs(s: &Sys<'_>, iov: u64, cnt: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if cnt > UIO_MAXIOV {
        return Err(EINVAL);
    }
    let raw = s.read_user(iov, cnt as usize * 16)?;
    let mut v = Vec::with_capacity(cnt as usize);
    let mut total: u64 = 0;
    for c in raw.chunks_exact(16) {
        let base = u64::from_le_bytes(c[..8].try_into().unwrap_or_default());
        let len = u64::from_le_bytes(c[8..].try_into().unwrap_or_default());
        if (len as i64) < 0 {
            return Err(EINVAL);
        }
        total = total.checked_add(len).ok_or(EINVAL)?;
        if total > i64::MAX as u64 {
            return Err(EINVAL);
        }
        v.push((base, len));
    }
    Ok(v)
}

/// `readv(2)`.
pub fn sys_readv(s: &mut Sys<'_>, f: u64, iov: u64, cnt: u64) -> SysResult {
    let mut done = 0u64;
    for (base, len) in iovecs(s, iov, cnt)? {
        match sys_read(s, f, base, len) {
            Ok(n) => {
                done += n;
                if n < len {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// `writev(2)`.
pub fn sys_writev(s: &mut Sys<'_>, f: u64, iov: u64, cnt: u64) -> SysResult {
    let vecs = iovecs(s, iov, cnt)?;
    // Gather first, so one writev is one write to the file, as Linux's
    // do_iter_write gives a terminal.
    let mut data = Vec::new();
    for &(base, len) in &vecs {
        match s.read_user(base, len as usize) {
            Ok(d) => data.extend_from_slice(&d),
            Err(e) if data.is_empty() && len > 0 => return Err(e),
            Err(_) => break,
        }
    }
    if data.is_empty() {
        // Still validate the descriptor, as a zero-length write does.
        return s.task.fs.write(s.cpu, fd(f), &[]).map(|n| n as u64);
    }
    let mut done = 0;
    while done < data.len() {
        match s.task.fs.write(s.cpu, fd(f), &data[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as u64)
}

/// `lseek(2)`.
pub fn sys_lseek(s: &mut Sys<'_>, f: u64, off: u64, whence: u64) -> SysResult {
    s.task.fs.lseek(fd(f), off as i64, whence as i32)
}

/// `fstat(2)`.
pub fn sys_fstat(s: &mut Sys<'_>, f: u64, statbuf: u64) -> SysResult {
    let st = s.task.fs.fstat(fd(f))?;
    s.write_user(statbuf, &st.to_bytes())?;
    Ok(0)
}

/// `newfstatat(2)`.
pub fn sys_newfstatat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let path = s.read_path(a[1])?;
    let st = s.task.fs.fstatat(fd(a[0]), &path, a[3] as i32)?;
    s.write_user(a[2], &st.to_bytes())?;
    Ok(0)
}

/// `readlinkat(2)`.
pub fn sys_readlinkat(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let (buf, size) = (a[2], a[3] as i64);
    if size <= 0 {
        return Err(EINVAL);
    }
    let path = s.read_path(a[1])?;
    let target = s.task.fs.readlinkat(fd(a[0]), &path)?;
    let n = target.len().min(size as usize);
    s.write_user(buf, &target[..n])?;
    Ok(n as u64)
}

/// `ioctl(2)`: `TCGETS` on a terminal; every other request is `ENOTTY`
/// (after the descriptor is checked), as for a file without an ioctl.
pub fn sys_ioctl(s: &mut Sys<'_>, f: u64, cmd: u64, arg: u64) -> SysResult {
    if cmd & 0xffff_ffff == TCGETS {
        let t = s.task.fs.ioctl_tcgets(fd(f))?;
        s.write_user(arg, &t)?;
        return Ok(0);
    }
    s.task.fs.fstat(fd(f))?;
    Err(ENOTTY)
}

/// `getcwd(2)`: the length written, NUL included.
pub fn sys_getcwd(s: &mut Sys<'_>, buf: u64, size: u64) -> SysResult {
    let mut cwd = s.task.fs.getcwd()?;
    cwd.push(0);
    if cwd.len() as u64 > size {
        return Err(ERANGE);
    }
    s.write_user(buf, &cwd)?;
    Ok(cwd.len() as u64)
}

/// `chdir(2)`.
pub fn sys_chdir(s: &mut Sys<'_>, path: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.task.fs.chdir(&p)?;
    Ok(0)
}

/// `faccessat(2)` and `faccessat2(2)`.
pub fn sys_faccessat(s: &mut Sys<'_>, dirfd: u64, path: u64, mode: u64, flags: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.task
        .fs
        .faccessat(fd(dirfd), &p, mode as i32, flags as i32)?;
    Ok(0)
}

/// `unlinkat(2)`.
pub fn sys_unlinkat(s: &mut Sys<'_>, dirfd: u64, path: u64, flags: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.task.fs.unlinkat(fd(dirfd), &p, flags as i32)?;
    Ok(0)
}

/// `mkdirat(2)`.
pub fn sys_mkdirat(s: &mut Sys<'_>, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let p = s.read_path(path)?;
    s.task.fs.mkdirat(fd(dirfd), &p, mode as u32)?;
    Ok(0)
}

/// `ftruncate(2)`.
pub fn sys_ftruncate(s: &mut Sys<'_>, f: u64, len: u64) -> SysResult {
    if (len as i64) < 0 {
        return Err(EINVAL);
    }
    s.task.fs.ftruncate(s.cpu, fd(f), len as i64)?;
    Ok(0)
}

/// `fsync(2)` and `fdatasync(2)`.
pub fn sys_fsync(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.task.fs.fsync(s.cpu, fd(f))?;
    Ok(0)
}

/// `dup(2)`.
pub fn sys_dup(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.task.fs.dup(fd(f)).map(|n| n as u64)
}

/// `dup3(2)`.
pub fn sys_dup3(s: &mut Sys<'_>, old: u64, new: u64, flags: u64) -> SysResult {
    s.task
        .fs
        .dup3(fd(old), fd(new), flags as i32)
        .map(|n| n as u64)
}

/// `fcntl(2)` (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL).
pub fn sys_fcntl(s: &mut Sys<'_>, f: u64, cmd: u64, arg: u64) -> SysResult {
    s.task.fs.fcntl(fd(f), cmd as i32, arg).map(|v| v as u64)
}

/// `getdents64(2)`.
pub fn sys_getdents64(s: &mut Sys<'_>, f: u64, dirp: u64, count: u64) -> SysResult {
    let count = (count as usize).min(MAX_RW_COUNT);
    if !access_ok(dirp as usize, count) {
        return Err(EFAULT);
    }
    let data = s.task.fs.getdents64(fd(f), count)?;
    s.write_user(dirp, &data)?;
    Ok(data.len() as u64)
}

/// `symlinkat(2)`.
pub fn sys_symlinkat(s: &mut Sys<'_>, target: u64, newdirfd: u64, linkpath: u64) -> SysResult {
    let t = s.read_path(target)?;
    let l = s.read_path(linkpath)?;
    s.task.fs.symlinkat(&t, fd(newdirfd), &l)?;
    Ok(0)
}

/// `renameat2(2)` (and `renameat(2)`, flags 0).
pub fn sys_renameat2(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let old = s.read_path(a[1])?;
    let new = s.read_path(a[3])?;
    s.task
        .fs
        .renameat2(fd(a[0]), &old, fd(a[2]), &new, a[4] as u32)?;
    Ok(0)
}

/// `umask(2)`: the old mask.
pub fn sys_umask(s: &mut Sys<'_>, mask: u64) -> SysResult {
    Ok(s.task.fs.umask(mask as u32 & 0o777) as u64)
}

/// `fchdir(2)`.
pub fn sys_fchdir(s: &mut Sys<'_>, f: u64) -> SysResult {
    s.task.fs.fchdir(fd(f))?;
    Ok(0)
}

/// `sync(2)`: write every dirty page-cache page back to its host file.
pub fn sys_sync(s: &mut Sys<'_>) -> SysResult {
    // sync(2) cannot fail; a host write error is the file's own business.
    let _ = s.task.fs.hostfs().sync(s.cpu);
    Ok(0)
}
