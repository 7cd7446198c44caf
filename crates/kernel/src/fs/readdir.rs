//! `getdents64(2)` (Linux's fs/readdir.c and `struct linux_dirent64`).
//!
//! Records: `d_ino` (u64), `d_off` (i64), `d_reclen` (u16), `d_type`
//! (u8), the NUL-terminated name, padded to 8 bytes.
//!
//! A host directory is listed from its open handle (`openat(fd, ".")` and
//! `getdents64` on the host), `..`'s inode from `fstatat(fd, "..")`
//! (the root's own at the root).
//!
//! Where ferrite differs: a host directory is listed afresh on every call
//! (`.` and `..` first, then the host's entries sorted by name) and the
//! offset is the index in that list, so entries added or removed between
//! calls can shift the listing (Linux's ext4 uses hash cookies). The root
//! lists `proc` (procfs's mount point) even when the host has no such
//! directory. procfs directories list only `.` and `..` (a
//! [`ProcSource`](super::ProcSource) cannot enumerate its names), except
//! the process's own `fd/`, which lists its descriptors.

use std::os::unix::fs::MetadataExt;

use rustix::fs::AtFlags;

use crate::errno::{Errno, EBADF, EINVAL, ENOTDIR};

use super::fdtable::{lock, Kind};
use super::hostfs::host_errno;
use super::namei::rx;
use super::Fs;

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

impl Fs {
    /// The entries of directory `fd` in order: (inode, type, name).
    fn dir_entries(&self, fd: i32) -> Result<Vec<(u64, u8, Vec<u8>)>, Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        match &f.kind {
            Kind::Dir { file } => {
                let me = file.metadata().map_err(|e| host_errno(&e))?;
                let at_root =
                    me.dev() == self.host.root_dir_id().0 && me.ino() == self.host.root_dir_id().1;
                let parent_ino = if at_root {
                    me.ino()
                } else {
                    rustix::fs::statat(&**file, "..", AtFlags::SYMLINK_NOFOLLOW)
                        .map_or(me.ino(), |st| st.st_ino)
                };
                let mut v = vec![
                    (me.ino(), DT_DIR, b".".to_vec()),
                    (parent_ino, DT_DIR, b"..".to_vec()),
                ];
                let mut rest = Vec::new();
                let mut dir = rustix::fs::Dir::read_from(&**file).map_err(rx)?;
                while let Some(e) = dir.read() {
                    let e = e.map_err(rx)?;
                    let name = e.file_name().to_bytes();
                    if name == b"." || name == b".." {
                        continue;
                    }
                    rest.push((e.ino(), dtype(e.file_type()), name.to_vec()));
                }
                if at_root && !rest.iter().any(|(_, _, n)| n == b"proc") {
                    rest.push((super::procfs::ino(""), DT_DIR, b"proc".to_vec()));
                }
                rest.sort_by(|a, b| a.2.cmp(&b.2));
                v.extend(rest);
                Ok(v)
            }
            Kind::Proc { rel, .. } if f.is_dir() => {
                let mut v = vec![
                    (super::procfs::ino(rel), DT_DIR, b".".to_vec()),
                    (super::procfs::ino(""), DT_DIR, b"..".to_vec()),
                ];
                // The process's own fd/: its open descriptors.
                if self.own_proc(rel) == Some("fd") {
                    for n in self.open_fds() {
                        let ino = super::procfs::ino(&format!("{rel}/{n}"));
                        v.push((ino, DT_LNK, n.to_string().into_bytes()));
                    }
                }
                Ok(v)
            }
            _ => Err(ENOTDIR),
        }
    }

    /// `getdents64(2)`: the records that fit in `count` bytes from the
    /// directory's offset on (empty at the end); EINVAL if the next one
    /// does not fit, ENOTDIR if `fd` is not a directory.
    pub fn getdents64(&self, fd: i32, count: usize) -> Result<Vec<u8>, Errno> {
        let entries = self.dir_entries(fd)?;
        let f = self.file(fd)?;
        let mut pos = lock(&f.pos);
        let start = usize::try_from(*pos).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for (i, (ino, t, name)) in entries.iter().enumerate().skip(start) {
            let len = reclen(name.len());
            if out.len() + len > count {
                if out.is_empty() {
                    return Err(EINVAL);
                }
                break;
            }
            out.extend_from_slice(&ino.to_le_bytes());
            out.extend_from_slice(&((i + 1) as i64).to_le_bytes());
            out.extend_from_slice(&(len as u16).to_le_bytes());
            out.push(*t);
            out.extend_from_slice(name);
            out.resize(out.len() + len - 19 - name.len(), 0);
            *pos = (i + 1) as u64;
        }
        Ok(out)
    }
}
