//! `struct stat` as riscv64 Linux returns it (include/uapi/asm-generic/stat.h,
//! fs/stat.c's `cp_new_stat`): 128 bytes, little endian.
//!
//! Host files report the host's device, inode, mode, link count, owner,
//! size, blocks and times unchanged; procfs files are made up as Linux's
//! procfs shows them (size 0). ferrite differs from Linux in that st_dev is
//! the host's device number, not one of a ferrite block device.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use super::flags::{S_IFDIR, S_IFREG};

/// The fields of `struct stat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Device of the file system.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// File type and permission bits.
    pub mode: u32,
    /// Hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device a special file stands for.
    pub rdev: u64,
    /// Size in bytes.
    pub size: i64,
    /// Preferred I/O size.
    pub blksize: i32,
    /// 512-byte blocks allocated.
    pub blocks: i64,
    /// Last access, seconds.
    pub atime: i64,
    /// Last access, nanoseconds.
    pub atime_nsec: u64,
    /// Last modification, seconds.
    pub mtime: i64,
    /// Last modification, nanoseconds.
    pub mtime_nsec: u64,
    /// Last status change, seconds.
    pub ctime: i64,
    /// Last status change, nanoseconds.
    pub ctime_nsec: u64,
}

/// Byte offsets of the fields in the riscv64 `struct stat`.
pub mod offsets {
    /// `st_dev` (unsigned long).
    pub const DEV: usize = 0;
    /// `st_ino` (unsigned long).
    pub const INO: usize = 8;
    /// `st_mode` (unsigned int).
    pub const MODE: usize = 16;
    /// `st_nlink` (unsigned int).
    pub const NLINK: usize = 20;
    /// `st_uid` (unsigned int).
    pub const UID: usize = 24;
    /// `st_gid` (unsigned int).
    pub const GID: usize = 28;
    /// `st_rdev` (unsigned long); `__pad1` follows at 40.
    pub const RDEV: usize = 32;
    /// `st_size` (long).
    pub const SIZE: usize = 48;
    /// `st_blksize` (int); `__pad2` follows at 60.
    pub const BLKSIZE: usize = 56;
    /// `st_blocks` (long).
    pub const BLOCKS: usize = 64;
    /// `st_atime`, then `st_atime_nsec` at 80.
    pub const ATIME: usize = 72;
    /// `st_mtime`, then `st_mtime_nsec` at 96.
    pub const MTIME: usize = 88;
    /// `st_ctime`, then `st_ctime_nsec` at 112; `__unused4/5` at 120.
    pub const CTIME: usize = 104;
    /// The size of the structure.
    pub const SIZE_OF: usize = 128;
}

impl Stat {
    /// The host's view of a file.
    pub fn from_host(m: &Metadata) -> Stat {
        Stat {
            dev: m.dev(),
            ino: m.ino(),
            mode: m.mode(),
            nlink: u32::try_from(m.nlink()).unwrap_or(u32::MAX),
            uid: m.uid(),
            gid: m.gid(),
            rdev: m.rdev(),
            size: m.size() as i64,
            blksize: i32::try_from(m.blksize()).unwrap_or(4096),
            blocks: m.blocks() as i64,
            atime: m.atime(),
            atime_nsec: m.atime_nsec() as u64,
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec() as u64,
            ctime: m.ctime(),
            ctime_nsec: m.ctime_nsec() as u64,
        }
    }

    /// A procfs entry: a read-only file of size 0 or a directory.
    pub(crate) fn proc(dir: bool, ino: u64) -> Stat {
        Stat {
            dev: PROC_DEV,
            ino,
            mode: if dir {
                S_IFDIR | 0o555
            } else {
                S_IFREG | 0o444
            },
            nlink: if dir { 2 } else { 1 },
            blksize: 1024,
            ..Stat::default()
        }
    }

    /// The file type bits (`mode & S_IFMT`).
    pub fn file_type(&self) -> u32 {
        self.mode & super::flags::S_IFMT
    }

    /// The 128 bytes `stat(2)` copies to user memory.
    pub fn to_bytes(&self) -> [u8; 128] {
        use offsets::*;
        let mut b = [0u8; SIZE_OF];
        let mut put = |off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
        put(DEV, &self.dev.to_le_bytes());
        put(INO, &self.ino.to_le_bytes());
        put(MODE, &self.mode.to_le_bytes());
        put(NLINK, &self.nlink.to_le_bytes());
        put(UID, &self.uid.to_le_bytes());
        put(GID, &self.gid.to_le_bytes());
        put(RDEV, &self.rdev.to_le_bytes());
        put(SIZE, &self.size.to_le_bytes());
        put(BLKSIZE, &self.blksize.to_le_bytes());
        put(BLOCKS, &self.blocks.to_le_bytes());
        put(ATIME, &self.atime.to_le_bytes());
        put(ATIME + 8, &self.atime_nsec.to_le_bytes());
        put(MTIME, &self.mtime.to_le_bytes());
        put(MTIME + 8, &self.mtime_nsec.to_le_bytes());
        put(CTIME, &self.ctime.to_le_bytes());
        put(CTIME + 8, &self.ctime_nsec.to_le_bytes());
        b
    }
}

/// The device number procfs files report (an anonymous device, 0:22 as
/// on many Linux systems).
pub const PROC_DEV: u64 = 22;
