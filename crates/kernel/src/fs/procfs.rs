//! /proc (Linux's fs/proc/): the names under the guest's `/proc` and what
//! they are. The contents come from the kernel core through
//! [`ProcSource`]; this file only decides whether a name is a directory, a
//! symlink or a file.
//!
//! The calling process's own `cwd`, `root` and `fd/N` links (and `fd/`)
//! are not the source's: the file layer answers them from its handles
//! (see `Fs`'s `ProcNames`), and follows them to those handles.
//!
//! Where ferrite differs from Linux: the directories are `/proc`,
//! `/proc/self`, `/proc/<pid>` (a pid whose `status` the source
//! provides) and the process's own `fd/` only — `self` is a directory
//! rather than a symlink to the pid, another process's `fd/`, `cwd` and
//! `root` do not exist, nor do the other lower directories (`task/`,
//! `sys/`, ...). Files are read once, at open, into a snapshot that reads and
//! seeks walk (Linux's seq_file regenerates them as they are read).

use std::vec::Vec;

use super::stat::Stat;

/// procfs contents, implemented by the kernel core.
pub trait ProcSource: Send + Sync {
    /// Contents of `/proc/<path>` for the calling task, e.g. "self/maps",
    /// "1/status", "meminfo", "slabinfo"; None = no such file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Target of a /proc symlink, e.g. "self/exe" -> "/hello"; None = not a
    /// symlink / no such entry.
    fn readlink(&self, path: &str) -> Option<Vec<u8>>;
}

/// What a name under /proc is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProcNode {
    /// `/proc`, `/proc/self`, `/proc/<pid>`.
    Dir,
    /// A symlink with this target.
    Symlink(Vec<u8>),
    /// A file: the name's contents are read at open.
    File,
}

/// Classify `rel` (the path below /proc, components joined by `/`, empty
/// for /proc itself). None: no such entry.
pub(crate) fn lookup(src: &dyn ProcSource, rel: &str) -> Option<ProcNode> {
    if rel.is_empty() || rel == "self" {
        return Some(ProcNode::Dir);
    }
    if !rel.contains('/') && rel.bytes().all(|b| b.is_ascii_digit()) {
        return src.read(&format!("{rel}/status")).map(|_| ProcNode::Dir);
    }
    if let Some(t) = src.readlink(rel) {
        return Some(ProcNode::Symlink(t));
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

/// `stat` of a procfs name (symlinks as Linux shows them: `lrwxrwxrwx`).
pub(crate) fn stat(node: &ProcNode, rel: &str) -> Stat {
    match node {
        ProcNode::Dir => Stat::proc(true, ino(rel)),
        ProcNode::File => Stat::proc(false, ino(rel)),
        ProcNode::Symlink(t) => Stat {
            mode: super::flags::S_IFLNK | 0o777,
            size: t.len() as i64,
            ..Stat::proc(false, ino(rel))
        },
    }
}
