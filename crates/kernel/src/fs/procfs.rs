//! /proc (Linux's fs/proc/): the names under the guest's `/proc` and what
//! they are. The contents, the directories' names and the writable files
//! come from the kernel core through [`ProcSource`]; this file decides
//! whether a name is a directory, a symlink or a file, and carries the
//! parts that need a process's open files (`fdinfo/N`, writes).
//!
//! A process's `cwd`, `root` and `fd/N` links (and `fd/`) are not the
//! source's: the file layer answers them from that process's handles (see
//! `Fs`'s `ProcNames`, which asks [`ProcSource::files_of`] for another
//! process's), and follows them to those handles.
//!
//! Where ferrite differs from Linux: files are read once, at open, into a
//! snapshot that reads and seeks walk (Linux's seq_file regenerates them
//! as they are read); a write goes to the source at once (one write is one
//! `proc_sys_call_handler`). Directory listings are computed at each
//! `getdents64` call; positions are indices into them, and for the ids of
//! /proc and `task/` the id past a base (as Linux's `TGID_OFFSET + tgid`:
//! see readdir.rs).

use std::sync::Arc;
use std::vec::Vec;

use super::fdtable::{lock, Kind, OpenFile};
use super::stat::Stat;
use super::{Fs, UserIter};
use crate::errno::{Errno, EACCES, EFAULT};

/// The procfs name of /sys: sysfs's few files (the CPU masks) are
/// procfs names below it (a procfs path never starts with `/`).
pub const SYS_ROOT: &str = "/sys";

/// `d_type` of a directory entry, as getdents64 reports it.
pub type DType = u8;

/// procfs contents, implemented by the kernel core.
pub trait ProcSource: Send + Sync {
    /// Contents of `/proc/<path>` for the calling task, e.g. "self/maps",
    /// "1/status", "meminfo", "slabinfo"; None = no such file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Target of a /proc symlink, e.g. "self/exe" -> "/hello"; None = not a
    /// symlink / no such entry.
    fn readlink(&self, path: &str) -> Option<Vec<u8>>;
    /// The entries of the directory `/proc/<path>` (without `.` and `..`),
    /// in listing order; None = not a directory of this source.
    fn list(&self, _path: &str) -> Option<Vec<(Vec<u8>, DType)>> {
        None
    }
    /// Whether `/proc/<path>` may be opened for writing.
    fn writable(&self, _path: &str) -> bool {
        false
    }
    /// Write `data` at offset `pos` of `/proc/<path>`: the bytes consumed.
    fn write(&self, _path: &str, _pos: u64, _data: &[u8]) -> Result<usize, Errno> {
        Err(EACCES)
    }
    /// The open files of process `pid` (a decimal pid), for its `cwd`,
    /// `root`, `fd/` and `fdinfo/`.
    fn files_of(&self, _pid: &str) -> Option<Arc<Fs>> {
        None
    }
}

/// What a name under /proc is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProcNode {
    /// `/proc`, `/proc/<pid>`, `/proc/<pid>/task`, `/proc/sys`, ...
    Dir,
    /// A symlink with this target.
    Symlink(Vec<u8>),
    /// A file: the name's contents are read at open.
    File,
}

/// Classify `rel` (the path below /proc, components joined by `/`, empty
/// for /proc itself). None: no such entry.
pub(crate) fn lookup(src: &dyn ProcSource, rel: &str) -> Option<ProcNode> {
    if rel.is_empty() {
        return Some(ProcNode::Dir);
    }
    if let Some(t) = src.readlink(rel) {
        return Some(ProcNode::Symlink(t));
    }
    if src.list(rel).is_some() {
        return Some(ProcNode::Dir);
    }
    // A source that does not list its directories: `self` and a pid
    // whose `status` it has are directories.
    if rel == "self" {
        return Some(ProcNode::Dir);
    }
    if !rel.contains('/') && rel.bytes().all(|b| b.is_ascii_digit()) {
        return src.read(&format!("{rel}/status")).map(|_| ProcNode::Dir);
    }
    src.read(rel).map(|_| ProcNode::File)
}

/// `dir/name` below /proc (`dir` empty for /proc itself).
pub(crate) fn join(dir: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if dir.is_empty() {
        name.into_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// A stable inode number for a procfs name (FNV-1a of the path).
pub(crate) fn ino(rel: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rel.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h | 1
}

/// The files of /proc that are writable (mode 0644 as Linux's sysctl
/// files and `oom_score_adj`); the others are 0444.
fn writable_name(rel: &str) -> bool {
    rel.starts_with("sys/kernel/pid_max")
        || rel
            .strip_prefix("sys/kernel/")
            .is_some_and(crate::sched::debug::sysctl_writable)
}

/// `stat` of a procfs name (symlinks as Linux shows them: `lrwxrwxrwx`).
pub(crate) fn stat(node: &ProcNode, rel: &str) -> Stat {
    match node {
        ProcNode::Dir => Stat::proc(true, ino(rel)),
        ProcNode::File if writable_name(rel) => {
            let mut s = Stat::proc(false, ino(rel));
            s.mode |= 0o200;
            s
        }
        ProcNode::File => Stat::proc(false, ino(rel)),
        ProcNode::Symlink(t) => Stat {
            mode: super::flags::S_IFLNK | 0o777,
            size: t.len() as i64,
            ..Stat::proc(false, ino(rel))
        },
    }
}

/// Mount ids, as /proc/PID/mountinfo numbers the mounts and fdinfo's
/// `mnt_id` refers to them.
pub const MNT_ID_ROOT: i32 = 21;
/// `/proc`.
pub const MNT_ID_PROC: i32 = 22;
/// `/dev`.
pub const MNT_ID_DEV: i32 = 23;
/// `/dev/shm`.
pub const MNT_ID_SHM: i32 = 24;
/// `/sys`.
pub const MNT_ID_SYS: i32 = 25;

/// A device number as /proc prints it (`MAJOR:MINOR` of Linux's encoding).
fn dev_pair(dev: u64) -> (u64, u64) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major, minor)
}

/// One mount as /proc shows it.
struct Mount {
    id: i32,
    parent: i32,
    dev: u64,
    point: &'static str,
    /// The mount's options.
    opts: &'static str,
    fstype: &'static str,
    source: &'static str,
    /// The super block's options beyond `rw`/`ro`.
    sb_extra: &'static str,
}

/// The mounts every process sees: the hostfs root, /proc, /sys, /dev and
/// /dev/shm (ferrite has no others and no `mount(2)`).
fn mount_table(root_dev: u64) -> [Mount; 5] {
    [
        Mount {
            id: MNT_ID_ROOT,
            parent: 1,
            dev: root_dev,
            point: "/",
            opts: "rw,relatime",
            fstype: "hostfs",
            source: "hostfs",
            sb_extra: "",
        },
        Mount {
            id: MNT_ID_PROC,
            parent: MNT_ID_ROOT,
            dev: super::stat::PROC_DEV,
            point: "/proc",
            opts: "rw,nosuid,nodev,noexec,relatime",
            fstype: "proc",
            source: "proc",
            sb_extra: "",
        },
        Mount {
            id: MNT_ID_SYS,
            parent: MNT_ID_ROOT,
            dev: super::stat::PROC_DEV,
            point: "/sys",
            opts: "rw,nosuid,nodev,noexec,relatime",
            fstype: "sysfs",
            source: "sysfs",
            sb_extra: "",
        },
        Mount {
            id: MNT_ID_DEV,
            parent: MNT_ID_ROOT,
            dev: super::dev::DEV_DEV,
            point: "/dev",
            opts: "rw,nosuid,relatime",
            fstype: "devtmpfs",
            source: "devtmpfs",
            sb_extra: ",mode=755",
        },
        Mount {
            id: MNT_ID_SHM,
            parent: MNT_ID_DEV,
            dev: super::shmem::SHM_DEV,
            point: "/dev/shm",
            opts: "rw,nosuid,nodev,relatime",
            fstype: "tmpfs",
            source: "tmpfs",
            sb_extra: "",
        },
    ]
}

/// /proc/PID/mounts for a root on device `root_dev`
/// (fs/proc_namespace.c `show_vfsmnt`: source, mount point, type, the
/// mount's options and the super block's, "0 0").
pub fn format_mounts(root_dev: u64) -> String {
    let mut s = String::new();
    for m in mount_table(root_dev) {
        s.push_str(&format!(
            "{} {} {} {}{} 0 0\n",
            m.source, m.point, m.fstype, m.opts, m.sb_extra
        ));
    }
    s
}

/// /proc/PID/mountinfo for a root on device `root_dev`
/// (fs/proc_namespace.c `show_mountinfo`; no propagation fields: every
/// mount is private).
pub fn format_mountinfo(root_dev: u64) -> String {
    let mut s = String::new();
    for m in mount_table(root_dev) {
        let (ma, mi) = dev_pair(m.dev);
        s.push_str(&format!(
            "{} {} {ma}:{mi} / {} {} - {} {} rw{}\n",
            m.id, m.parent, m.point, m.opts, m.fstype, m.source, m.sb_extra
        ));
    }
    s
}

/// The largest write a /proc file takes at once (the sysctl files hold a
/// number; Linux's `proc_sys_call_handler` copies the whole write, which
/// ferrite bounds).
const PROC_WRITE_MAX: usize = 4096;

impl Fs {
    /// `/proc/PID/fdinfo/<fd>` of this process (fs/proc/fd.c `seq_show`):
    /// position, flags (with `O_CLOEXEC` for a close-on-exec descriptor),
    /// the mount's id and the inode. None if `fd` is not open.
    pub fn fdinfo(&self, fd: i32) -> Option<String> {
        let (f, cloexec) = {
            let t = lock(&self.table);
            let d = t.get(fd).ok()?;
            (d.file.clone(), d.cloexec)
        };
        let ino = self.fstat(fd).map_or(0, |s| s.ino);
        let pos = match &f.kind {
            Kind::Stdio { file } | Kind::Dir { file } => {
                rustix::fs::seek(&**file, rustix::fs::SeekFrom::Current(0)).unwrap_or(0)
            }
            _ => *lock(&f.pos),
        };
        let mnt = match &f.kind {
            Kind::Proc { .. } => MNT_ID_PROC,
            Kind::Dev(super::dev::DevNode::Shm(_)) => MNT_ID_SHM,
            Kind::Dev(_) => MNT_ID_DEV,
            _ => MNT_ID_ROOT,
        };
        let mut flags = f.flags();
        if cloexec {
            flags |= super::flags::O_CLOEXEC;
        }
        Some(format!(
            "pos:\t{pos}\nflags:\t0{flags:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n"
        ))
    }

    /// A `write(2)` of `count` bytes from `from` to the /proc file `rel`
    /// open as `f` (for writing, so [`ProcSource::writable`]): at `at`
    /// (pwrite) or at and advancing the file's offset. At most
    /// [`PROC_WRITE_MAX`] bytes are taken, as one write to the source.
    pub(crate) fn proc_write(
        &self,
        f: &OpenFile,
        rel: &str,
        at: Option<u64>,
        count: usize,
        from: &mut dyn UserIter,
    ) -> Result<usize, Errno> {
        let mut guard = lock(&f.pos);
        let pos = at.unwrap_or(*guard);
        let mut buf = vec![0u8; count.min(PROC_WRITE_MAX)];
        if from.copy_in(&mut buf) < buf.len() {
            return Err(EFAULT);
        }
        let n = self.proc.write(rel, pos, &buf)?;
        if at.is_none() {
            *guard = pos.saturating_add(n as u64);
        }
        Ok(n)
    }

    /// This process's /proc/PID/mounts.
    pub fn proc_mounts(&self) -> String {
        format_mounts(self.host.root_dir_id().0)
    }

    /// This process's /proc/PID/mountinfo.
    pub fn proc_mountinfo(&self) -> String {
        format_mountinfo(self.host.root_dir_id().0)
    }

    /// Whether the /proc file `rel` may be opened for writing.
    pub(crate) fn proc_writable(&self, rel: &str) -> bool {
        writable_name(rel) && self.proc.writable(rel)
    }
}
