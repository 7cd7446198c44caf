//! The built-in `/dev` (Linux's devtmpfs as a system mounts it, with the
//! memory devices of drivers/char/mem.c — `null`, `zero`, `full` — and
//! drivers/char/random.c's `random` and `urandom`, the controlling
//! terminal `tty` of drivers/tty/tty_io.c, the `/dev/shm` tmpfs
//! (shmem.rs) and the symlinks a system's udev rules make: `fd` →
//! `/proc/self/fd`, `stdin`, `stdout`, `stderr` → `/proc/self/fd/0..2`).
//!
//! Like `/proc`, `/dev` is ferrite's own and does not depend on the host
//! root: a lookup of `dev` in the root directory enters it (namei.rs) and
//! the root's listing shows it (readdir.rs), whatever the host directory
//! holds there.
//!
//! The devices, as Linux has them:
//! - `null` (1,3): reads are end of file, writes take every byte;
//! - `zero` (1,5): reads fill the buffer with zeros (a page of zeros at a
//!   time: no guest length sizes a host buffer), writes take every byte;
//!   `mmap` is anonymous memory (`MAP_PRIVATE`) or shared anonymous memory
//!   (`MAP_SHARED`: a shmem object, as `mmap_zero` does);
//! - `full` (1,7): reads as `zero`, writes are `ENOSPC`;
//! - `random` (1,8), `urandom` (1,9): reads come from the kernel's
//!   generator ([`crate::random`]: the host's getrandom(2), or the seeded
//!   stream in deterministic mode), writes are taken (Linux mixes them
//!   in);
//! - `lseek` on these returns 0 and leaves the position at 0; `pread` and
//!   `pwrite` work as `read` and `write`;
//! - `tty` (5,0): the controlling terminal. Where ferrite differs: there
//!   are no terminals of its own yet, so `/dev/tty` is the host's standard
//!   streams: reads come from the host's standard input, writes go to its
//!   standard output, `TCGETS` asks the host's standard input (then
//!   output); it is a stream (`lseek`, `pread` are `ESPIPE`).
//!
//! `stat` shows them as a devtmpfs on `0:5` owned by root, with
//! `S_IFCHR | 0666` and `st_rdev`; times are ferrite's start.
//! Where ferrite differs: nothing can be created, removed or renamed in
//! `/dev` itself (`EACCES`, what a user gets from a root-owned 0755
//! directory), and the devices' modes, owners and times cannot be changed
//! (`EPERM`).

use std::sync::{Arc, OnceLock};

use mm::Cpu;

use crate::errno::*;

use super::flags::*;
use super::read_write::UserIter;
use super::shmem::{ShmInode, Tmpfs, BOGO_DIRENT_SIZE, SHM_DEV};
use super::stat::Stat;

/// The device of `/dev` (devtmpfs, 0:5 as on most systems).
pub const DEV_DEV: u64 = 5;
/// The inode number of `/dev`.
pub const DEV_ROOT_INO: u64 = 1;

/// A directory of `/dev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DevDir {
    /// `/dev` itself.
    Root,
    /// `/dev/shm`.
    Shm,
}

/// A character device of `/dev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CharDev {
    Null,
    Zero,
    Full,
    Random,
    Urandom,
    Tty,
}

/// A name in `/dev`.
#[derive(Clone, Debug)]
pub(crate) enum DevNode {
    Dir(DevDir),
    Chr(CharDev),
    /// A symlink (its own name and its target).
    Symlink {
        name: &'static str,
        target: &'static str,
    },
    /// A tmpfs file (in `/dev/shm`, or a memfd).
    Shm(Arc<ShmInode>),
}

/// `/dev`'s symlinks.
const LINKS: [(&str, &str); 4] = [
    ("fd", "/proc/self/fd"),
    ("stderr", "/proc/self/fd/2"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
];

/// `/dev`'s devices.
const DEVICES: [CharDev; 6] = [
    CharDev::Full,
    CharDev::Null,
    CharDev::Random,
    CharDev::Tty,
    CharDev::Urandom,
    CharDev::Zero,
];

impl CharDev {
    /// Its name in `/dev`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CharDev::Null => "null",
            CharDev::Zero => "zero",
            CharDev::Full => "full",
            CharDev::Random => "random",
            CharDev::Urandom => "urandom",
            CharDev::Tty => "tty",
        }
    }

    /// Major and minor numbers.
    pub(crate) fn rdev(self) -> (u32, u32) {
        match self {
            CharDev::Null => (1, 3),
            CharDev::Zero => (1, 5),
            CharDev::Full => (1, 7),
            CharDev::Random => (1, 8),
            CharDev::Urandom => (1, 9),
            CharDev::Tty => (5, 0),
        }
    }

    /// A stream (no positioned I/O, no seeking): the terminal.
    pub(crate) fn is_stream(self) -> bool {
        self == CharDev::Tty
    }

    fn ino(self) -> u64 {
        let (ma, mi) = self.rdev();
        u64::from(ma) * 16 + u64::from(mi) + 4
    }
}

/// The kernel's encoding of a device number (`new_encode_dev`).
pub(crate) fn encode_dev(major: u32, minor: u32) -> u64 {
    u64::from(minor & 0xff) | (u64::from(major) << 8) | (u64::from(minor & !0xff) << 12)
}

/// The name `name` in the directory `dir` (`tmpfs` for `/dev/shm`).
pub(crate) fn lookup(dir: DevDir, name: &[u8], shm: Option<&Tmpfs>) -> Option<DevNode> {
    match dir {
        DevDir::Shm => shm?.lookup(name).map(DevNode::Shm),
        DevDir::Root => {
            if name == b"shm" {
                return Some(DevNode::Dir(DevDir::Shm));
            }
            if let Some(&(n, t)) = LINKS.iter().find(|(n, _)| n.as_bytes() == name) {
                return Some(DevNode::Symlink { name: n, target: t });
            }
            DEVICES
                .iter()
                .find(|d| d.name().as_bytes() == name)
                .map(|&d| DevNode::Chr(d))
        }
    }
}

/// The path of a directory of `/dev`.
pub(crate) fn dir_path(d: DevDir) -> &'static [u8] {
    match d {
        DevDir::Root => b"/dev",
        DevDir::Shm => b"/dev/shm",
    }
}

impl DevNode {
    /// Its path as /proc shows it (`d_path`).
    pub(crate) fn path(&self) -> Vec<u8> {
        match self {
            DevNode::Dir(d) => dir_path(*d).to_vec(),
            DevNode::Chr(c) => format!("/dev/{}", c.name()).into_bytes(),
            DevNode::Symlink { name, .. } => format!("/dev/{name}").into_bytes(),
            DevNode::Shm(i) => i.path(),
        }
    }

    /// A directory.
    pub(crate) fn is_dir(&self) -> bool {
        matches!(self, DevNode::Dir(_))
    }

    /// `stat`.
    pub(crate) fn stat(&self, shm: &Tmpfs) -> Stat {
        let (t, tn) = *boot_time();
        let base = Stat {
            dev: DEV_DEV,
            nlink: 1,
            blksize: 4096,
            atime: t,
            atime_nsec: tn,
            mtime: t,
            mtime_nsec: tn,
            ctime: t,
            ctime_nsec: tn,
            ..Stat::default()
        };
        match self {
            DevNode::Dir(DevDir::Root) => Stat {
                ino: DEV_ROOT_INO,
                mode: S_IFDIR | 0o755,
                nlink: 3,
                size: (2 + (DEVICES.len() + LINKS.len() + 1) as i64) * BOGO_DIRENT_SIZE,
                ..base
            },
            DevNode::Dir(DevDir::Shm) => {
                let (m, mn) = shm.dir_time();
                Stat {
                    dev: SHM_DEV,
                    ino: 1,
                    mode: S_IFDIR | 0o1777,
                    nlink: 2,
                    size: (2 + shm.nr_files() as i64) * BOGO_DIRENT_SIZE,
                    mtime: m,
                    mtime_nsec: mn,
                    ctime: m,
                    ctime_nsec: mn,
                    ..base
                }
            }
            DevNode::Chr(c) => {
                let (ma, mi) = c.rdev();
                Stat {
                    ino: c.ino(),
                    mode: S_IFCHR | 0o666,
                    // The tty group owns terminals.
                    gid: if *c == CharDev::Tty { 5 } else { 0 },
                    rdev: encode_dev(ma, mi),
                    ..base
                }
            }
            DevNode::Symlink { name, target } => Stat {
                ino: 100 + LINKS.iter().position(|(n, _)| n == name).unwrap_or(0) as u64,
                mode: S_IFLNK | 0o777,
                size: target.len() as i64,
                ..base
            },
            DevNode::Shm(i) => i.stat(),
        }
    }

    /// `inode_permission` for `want` (`R_OK`, `W_OK`, `X_OK`).
    pub(crate) fn permission(&self, shm: &Tmpfs, want: i32) -> Result<(), Errno> {
        match self {
            DevNode::Shm(i) => i.permission(want),
            DevNode::Symlink { .. } => Ok(()),
            n => {
                let st = n.stat(shm);
                super::shmem::mode_permission(st.mode, st.uid, st.gid, want)
            }
        }
    }
}

/// When ferrite started (the devices' times).
fn boot_time() -> &'static (i64, u64) {
    static T: OnceLock<(i64, u64)> = OnceLock::new();
    T.get_or_init(super::shmem::now)
}

/// A directory's records: (inode, type, name, position after it).
pub(crate) type DirEntries = Vec<(u64, u8, Vec<u8>, u64)>;

/// The records of `dir` after position `pos`.
pub(crate) fn dir_entries(dir: DevDir, shm: &Tmpfs, pos: u64) -> DirEntries {
    use super::readdir::{DT_CHR, DT_DIR, DT_LNK, DT_REG};
    let mut v: DirEntries = vec![(DEV_ROOT_INO, DT_DIR, b".".to_vec(), 1)];
    match dir {
        DevDir::Root => {
            // The caller puts the root's inode number in.
            v.push((0, DT_DIR, b"..".to_vec(), 2));
            let mut names: Vec<(u64, u8, Vec<u8>)> = Vec::new();
            for d in DEVICES {
                names.push((d.ino(), DT_CHR, d.name().as_bytes().to_vec()));
            }
            for (i, (n, _)) in LINKS.iter().enumerate() {
                names.push((100 + i as u64, DT_LNK, n.as_bytes().to_vec()));
            }
            names.push((2, DT_DIR, b"shm".to_vec()));
            names.sort_by(|a, b| a.2.cmp(&b.2));
            for (i, (ino, t, n)) in names.into_iter().enumerate() {
                v.push((ino, t, n, 3 + i as u64));
            }
        }
        DevDir::Shm => {
            v[0].0 = 1;
            v.push((DEV_ROOT_INO, DT_DIR, b"..".to_vec(), 2));
            for (seq, ino, name) in shm.entries_after(pos) {
                v.push((ino, DT_REG, name, seq));
            }
        }
    }
    v.retain(|e| e.3 > pos);
    v
}

/// A page of zeros, the source of `/dev/zero` reads.
static ZEROS: [u8; 4096] = [0; 4096];

/// Read `count` bytes of the device `c` into `to` (not the terminal):
/// the bytes read.
pub(crate) fn chr_read(c: CharDev, count: usize, to: &mut dyn UserIter) -> Result<usize, Errno> {
    let count = count.min(MAX_RW_COUNT);
    let mut done = 0;
    match c {
        CharDev::Null | CharDev::Tty => Ok(0),
        CharDev::Zero | CharDev::Full => {
            while done < count {
                let n = (count - done).min(ZEROS.len());
                let m = to.copy_out(&ZEROS[..n]);
                done += m;
                if m < n {
                    return if done == 0 { Err(EFAULT) } else { Ok(done) };
                }
            }
            Ok(done)
        }
        CharDev::Random | CharDev::Urandom => {
            let mut buf = [0u8; 4096];
            while done < count {
                let n = (count - done).min(buf.len());
                if let Err(e) = crate::random::get_random_bytes(&mut buf[..n]) {
                    return if done == 0 { Err(e) } else { Ok(done) };
                }
                let m = to.copy_out(&buf[..n]);
                done += m;
                if m < n {
                    return if done == 0 { Err(EFAULT) } else { Ok(done) };
                }
            }
            Ok(done)
        }
    }
}

/// Write `count` bytes from `from` to the device `c` (not the terminal):
/// `null`, `zero` and the generators take them all without reading them
/// (as Linux's `write_null` and, for the generators, after mixing them
/// in, which ferrite leaves to the host), `full` is `ENOSPC`.
pub(crate) fn chr_write(c: CharDev, count: usize, from: &mut dyn UserIter) -> Result<usize, Errno> {
    let count = count.min(MAX_RW_COUNT);
    match c {
        CharDev::Full => Err(ENOSPC),
        CharDev::Random | CharDev::Urandom => {
            // Linux reads what is written (a bad buffer is EFAULT).
            let mut buf = [0u8; 4096];
            let mut done = 0;
            while done < count {
                let n = (count - done).min(buf.len());
                let m = from.copy_in(&mut buf[..n]);
                done += m;
                if m < n {
                    return if done == 0 { Err(EFAULT) } else { Ok(done) };
                }
            }
            Ok(done)
        }
        _ => Ok(count),
    }
}

/// Put the delayed references (tmpfs files closed without a CPU).
pub(crate) fn flush(shm: &Tmpfs, cpu: &Cpu<'_>) {
    if shm.delayed.pending() {
        shm.delayed.flush(cpu);
    }
}
