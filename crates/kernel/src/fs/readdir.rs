//! `getdents64(2)` and a directory's `lseek(2)` (Linux's fs/readdir.c:
//! `iterate_dir`, `filldir64`, `struct linux_dirent64`; the host
//! filesystem's `llseek` for directories).
//!
//! Records: `d_ino` (u64), `d_off` (i64), `d_reclen` (u16), `d_type`
//! (u8), the NUL-terminated name, padded to 8 bytes (the same layout on
//! the host and in the guest).
//!
//! A host directory is streamed from the host as Linux streams it from
//! its filesystem: each open directory description has its own host
//! handle (`openat(fd, ".")` at open), and one `getdents64` call of the
//! guest is one `getdents64` on that handle into a buffer of at most
//! min(count, [`CHUNK`]) bytes, the records translated one for one (same
//! names, so the same sizes). Nothing is kept between calls but the host
//! handle's position: a directory of any size costs the same per call.
//! `d_off` and the directory's `lseek` positions are the host's cookies
//! (ext4's hashes, tmpfs's indices), and `lseek` on a guest directory
//! goes to the host handle (SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA and
//! SEEK_HOLE with the host filesystem's rules, which are Linux's). The
//! description's `f_pos` lock is held across a call, as Linux's
//! `f_pos_lock`, so a shared description's records are never split.
//! When the guest's buffer faults after whole records, syscall/file.rs
//! seeks the handle back to the `d_off` of the last record copied.
//!
//! What ferrite adds to the host's stream:
//! - At the guest root, `..` names the root itself (its inode is the
//!   root's, not the host parent's), as Linux's `/..` is `/`.
//! - The root lists `dev` (the built-in /dev, dev.rs) and `proc`
//!   (procfs's mount point) once each even when the host has no such
//!   directory: after the host's last record, as records of their own
//!   whose `d_off` are [`DEV_COOKIE`] and [`PROC_COOKIE`]. Seeking to
//!   `DEV_COOKIE` is the place past `dev` (only `proc` may follow),
//!   seeking to `PROC_COOKIE` is
//!   the end of the listing (past `proc`); seeking anywhere else is the
//!   host's. A host `proc` at the root is listed as the host gives it
//!   (Linux too lists a mount point with the covered directory's inode).
//! - procfs directories are ferrite's own: listed from their names
//!   ([`ProcSource::list`](super::ProcSource::list): the live processes'
//!   pid directories, a process's files, its threads, a `fd/`'s
//!   descriptors) each call, with the index as the offset, after `.` and
//!   `..` (whose inode is the parent's; /proc's is the root's).
//! - `/dev` and `/dev/shm` are listed from ferrite's own names, with
//!   positions that stay valid across creations and removals (dev.rs).
//!
//! Where ferrite differs: one call returns at most [`CHUNK`] bytes of
//! records even for a larger buffer (a short count, which callers loop
//! on); `proc`'s cookie could in principle collide with a host cookie on
//! an exotic filesystem (see [`PROC_COOKIE`]).

use std::fs::File;
use std::mem::MaybeUninit;
use std::os::unix::fs::MetadataExt;

use rustix::fs::{AtFlags, RawDir, SeekFrom};

use crate::errno::{Errno, EBADF, EINVAL, ENOTDIR};

use super::dev::{DevDir, DevNode};
use super::fdtable::{lock, Kind, OpenFile};
use super::flags::{SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET};
use super::hostfs::host_errno;
use super::namei::rx;
use super::{Fs, CHUNK};

/// `DT_DIR`.
pub const DT_DIR: u8 = 4;
/// `DT_REG`.
pub const DT_REG: u8 = 8;
/// `DT_LNK`.
pub const DT_LNK: u8 = 10;
/// `DT_UNKNOWN`.
pub const DT_UNKNOWN: u8 = 0;
/// `DT_FIFO`.
pub const DT_FIFO: u8 = 1;
/// `DT_CHR`.
pub const DT_CHR: u8 = 2;
/// `DT_BLK`.
pub const DT_BLK: u8 = 6;
/// `DT_SOCK`.
pub const DT_SOCK: u8 = 12;

/// The `d_off` of the `proc` record that the root lists when the host has
/// no `proc` there: the position past it, which is the end of the
/// listing. A host cookie is a non-negative `loff_t`; this one is none
/// that ext4 gives (its hash positions skip the top major hash, whose
/// place is its end-of-directory cookie `i64::MAX`), and far above
/// tmpfs's, btrfs's and xfs's (indices and 32-bit cookies).
pub const PROC_COOKIE: i64 = i64::MAX - 1;

/// Where the ids of /proc and of `task/` directories are listed from:
/// past any other entry of those directories.
const PID_POS: u64 = 0x100;

/// The `d_off` of the root's own `dev` record (listed before `proc`, when
/// the host has no `dev` there): past it, only `proc` may come.
pub const DEV_COOKIE: i64 = i64::MAX - 2;

fn dtype(ft: rustix::fs::FileType) -> u8 {
    use rustix::fs::FileType as F;
    match ft {
        F::Directory => DT_DIR,
        F::RegularFile => DT_REG,
        F::Symlink => DT_LNK,
        F::Fifo => DT_FIFO,
        F::CharacterDevice => DT_CHR,
        F::BlockDevice => DT_BLK,
        F::Socket => DT_SOCK,
        _ => DT_UNKNOWN,
    }
}

/// The size of the record of a `len`-byte name.
fn reclen(len: usize) -> usize {
    (19 + len + 1).next_multiple_of(8)
}

/// Append one record to `out`.
fn put_dirent(out: &mut Vec<u8>, ino: u64, off: i64, t: u8, name: &[u8]) {
    let len = reclen(name.len());
    out.extend_from_slice(&ino.to_le_bytes());
    out.extend_from_slice(&off.to_le_bytes());
    out.extend_from_slice(&(len as u16).to_le_bytes());
    out.push(t);
    out.extend_from_slice(name);
    out.resize(out.len() + len - 19 - name.len(), 0);
}

impl Fs {
    /// `getdents64(2)`: the records that fit in `count` bytes (at most
    /// [`CHUNK`]) from the directory's position on, empty at the end;
    /// EBADF for an `O_PATH` descriptor, ENOTDIR if `fd` is not a
    /// directory, EINVAL if the next record does not fit.
    pub fn getdents64(&self, fd: i32, count: usize) -> Result<Vec<u8>, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        let cap = count.min(CHUNK);
        match &f.kind {
            Kind::Dir { file } => self.host_getdents(&f, file, cap),
            Kind::Proc { rel, .. } if f.is_dir() => self.proc_getdents(&f, rel, cap),
            Kind::Dev(DevNode::Dir(d)) => self.dev_getdents(&f, *d, cap),
            _ => Err(ENOTDIR),
        }
    }

    /// Whether `file` is the guest's root directory.
    fn is_root(&self, file: &File) -> Result<bool, Errno> {
        let me = file.metadata().map_err(|e| host_errno(&e))?;
        Ok((me.dev(), me.ino()) == self.host.root_dir_id())
    }

    /// Whether the root `file` lists ferrite's own `proc`: the host has
    /// none there.
    fn adds_proc(file: &File) -> bool {
        rustix::fs::statat(file, "proc", AtFlags::SYMLINK_NOFOLLOW).is_err()
    }

    /// Whether the root `file` lists ferrite's own `dev`.
    fn adds_dev(file: &File) -> bool {
        rustix::fs::statat(file, "dev", AtFlags::SYMLINK_NOFOLLOW).is_err()
    }

    /// A directory of `/dev`'s records from `f.pos` on, in at most `cap`
    /// bytes (positions: dev.rs's).
    fn dev_getdents(&self, f: &OpenFile, d: DevDir, cap: usize) -> Result<Vec<u8>, Errno> {
        let mut pos = lock(&f.pos);
        let mut out = Vec::new();
        let root_ino = self.host.root_dir_id().1;
        for (ino, t, name, off) in super::dev::dir_entries(d, &self.host.shm, *pos) {
            if out.len() + reclen(name.len()) > cap {
                if out.is_empty() {
                    return Err(EINVAL);
                }
                break;
            }
            // `/dev/..` is the root.
            let ino = if d == DevDir::Root && name == b".." {
                root_ino
            } else {
                ino
            };
            put_dirent(&mut out, ino, off as i64, t, &name);
            *pos = off;
        }
        Ok(out)
    }

    /// One host `getdents64` on the directory's handle into at most `cap`
    /// bytes, translated.
    fn host_getdents(&self, f: &OpenFile, file: &File, cap: usize) -> Result<Vec<u8>, Errno> {
        // `f_pos_lock`; the value is [`PROC_COOKIE`] past the root's own
        // `proc`, else 0 (the host handle holds the position).
        let mut pos = lock(&f.pos);
        if *pos == PROC_COOKIE as u64 {
            return Ok(Vec::new());
        }
        let at_root = self.is_root(file)?;
        if *pos == DEV_COOKIE as u64 {
            // Past the root's own `dev`: the host's listing is done.
            let mut out = Vec::new();
            self.add_mounts(file, &mut pos, &mut out, cap)?;
            return Ok(out);
        }
        let root_ino = self.host.root_dir_id().1;
        // The host's records, in a buffer aligned for `linux_dirent64`
        // and exactly `cap` bytes long (the host fills no more).
        let mut raw = vec![MaybeUninit::<u8>::uninit(); cap + 7];
        let skip = raw.as_ptr().align_offset(8).min(7);
        let mut dir = RawDir::new(file, &mut raw[skip..skip + cap]);
        let mut out = Vec::with_capacity(cap);
        let mut last_off = None;
        // One host call: stop when its records are used up.
        while last_off.is_none() || !dir.is_buffer_empty() {
            let e = match dir.next() {
                None => break,
                Some(Err(e)) => return Err(rx(e)),
                Some(Ok(e)) => e,
            };
            let name = e.file_name().to_bytes();
            if out.len() + reclen(name.len()) > cap {
                // The same name in the same layout always fits where the
                // host put it; should it not, the host resumes here.
                let off = last_off.ok_or(EINVAL)?;
                rustix::fs::seek(file, SeekFrom::Start(off)).map_err(rx)?;
                break;
            }
            let ino = if at_root && name == b".." {
                root_ino
            } else {
                e.ino()
            };
            let off = e.next_entry_cookie();
            put_dirent(&mut out, ino, off as i64, dtype(e.file_type()), name);
            last_off = Some(off);
        }
        if last_off.is_none() && at_root {
            // The end of the host's stream: the root's `dev` and `proc`.
            self.add_mounts(file, &mut pos, &mut out, cap)?;
        }
        Ok(out)
    }

    /// After the root's host records: ferrite's `dev` (unless `pos` is
    /// past it) and `proc`, those the host does not have, as fit in `cap`.
    fn add_mounts(
        &self,
        file: &File,
        pos: &mut u64,
        out: &mut Vec<u8>,
        cap: usize,
    ) -> Result<(), Errno> {
        if *pos < DEV_COOKIE as u64 && Self::adds_dev(file) {
            if out.len() + reclen(3) > cap {
                return if out.is_empty() { Err(EINVAL) } else { Ok(()) };
            }
            put_dirent(out, super::dev::DEV_ROOT_INO, DEV_COOKIE, DT_DIR, b"dev");
            *pos = DEV_COOKIE as u64;
        }
        if Self::adds_proc(file) {
            if out.len() + reclen(4) > cap {
                return if out.is_empty() { Err(EINVAL) } else { Ok(()) };
            }
            let ino = super::procfs::ino("");
            put_dirent(out, ino, PROC_COOKIE, DT_DIR, b"proc");
            *pos = PROC_COOKIE as u64;
        }
        Ok(())
    }

    /// A procfs directory's records from index `f.pos` on, in at most
    /// `cap` bytes: `.`, `..`, then the source's names (a process's `fd/`:
    /// its descriptors, from its own table).
    fn proc_getdents(&self, f: &OpenFile, rel: &str, cap: usize) -> Result<Vec<u8>, Errno> {
        let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
        let parent_ino = if rel.is_empty() || rel == super::procfs::SYS_ROOT {
            self.host.root_dir_id().1
        } else {
            super::procfs::ino(parent)
        };
        let mut v = vec![
            (super::procfs::ino(rel), DT_DIR, b".".to_vec()),
            (parent_ino, DT_DIR, b"..".to_vec()),
        ];
        let names = match self.own_proc(rel) {
            Some("fd") => Some(
                self.open_fds()
                    .into_iter()
                    .map(|n| (n.to_string().into_bytes(), DT_LNK))
                    .collect(),
            ),
            _ => self.proc.list(rel),
        };
        for (name, t) in names.unwrap_or_default() {
            let ino = super::procfs::ino(&super::procfs::join(rel, &name));
            v.push((ino, t, name));
        }
        // Positions: an entry's index, except the ids of /proc and of a
        // `task/` directory, which are placed at PID_POS + id (Linux's
        // `TGID_OFFSET + tgid`), so a listing resumes at the next id even
        // when processes come and go between calls.
        let by_id = rel.is_empty() || rel.ends_with("/task");
        let key = |i: usize, name: &[u8]| -> u64 {
            let id = std::str::from_utf8(name)
                .ok()
                .filter(|_| by_id && i >= 2)
                .and_then(|n| n.parse::<u64>().ok());
            id.map_or(i as u64, |id| PID_POS + id)
        };
        let mut pos = lock(&f.pos);
        let mut out = Vec::new();
        for (i, (ino, t, name)) in v.iter().enumerate() {
            let k = key(i, name);
            if k < *pos {
                continue;
            }
            if out.len() + reclen(name.len()) > cap {
                if out.is_empty() {
                    return Err(EINVAL);
                }
                break;
            }
            put_dirent(&mut out, *ino, (k + 1) as i64, *t, name);
            *pos = k + 1;
        }
        Ok(out)
    }

    /// `lseek(2)` on a host directory `f` (`whence` checked): the host
    /// handle's, except the root's own `proc` cookie.
    pub(crate) fn dir_llseek(
        &self,
        f: &OpenFile,
        file: &File,
        off: i64,
        whence: i32,
    ) -> Result<u64, Errno> {
        let mut pos = lock(&f.pos);
        // Past the root's own `dev` or `proc`: a cookie of ferrite's.
        let cookie = [DEV_COOKIE, PROC_COOKIE]
            .into_iter()
            .find(|&c| *pos == c as u64);
        let (off, whence) = match (whence, cookie) {
            (SEEK_CUR, Some(c)) => {
                if off == 0 {
                    return Ok(c as u64);
                }
                (c.checked_add(off).ok_or(EINVAL)?, SEEK_SET)
            }
            (w, _) => (off, w),
        };
        if whence == SEEK_SET && (off == PROC_COOKIE || off == DEV_COOKIE) && self.is_root(file)? {
            let ours = if off == PROC_COOKIE {
                Self::adds_proc(file)
            } else {
                Self::adds_dev(file)
            };
            if ours {
                *pos = off as u64;
                return Ok(off as u64);
            }
        }
        let from = match whence {
            SEEK_SET => SeekFrom::Start(off as u64),
            SEEK_CUR => SeekFrom::Current(off),
            SEEK_END => SeekFrom::End(off),
            SEEK_DATA => SeekFrom::Data(off as u64),
            SEEK_HOLE => SeekFrom::Hole(off as u64),
            _ => return Err(EINVAL),
        };
        let new = rustix::fs::seek(file, from).map_err(rx)?;
        *pos = 0;
        Ok(new)
    }
}
