//! Path lookup (Linux's fs/namei.c: `link_path_walk`, `walk_component`,
//! `follow_dotdot`, `pick_link`, `filename_parentat`) over the hostfs and
//! /proc.
//!
//! A lookup starts from an open host directory handle (a [`HostDir`]: the
//! root, the working directory or a directory descriptor, as Linux starts
//! from a `struct path`), never from a host path string, and resolves one
//! component at a time with `openat(dir, name, O_PATH|O_NOFOLLOW)` and
//! `fstat`: the host is never handed more than one component, and every
//! step goes from a handle to a handle. So nothing the guest or anyone
//! else does to the tree (removing the working directory and putting a
//! symlink in its place, swapping a directory for a symlink while a
//! lookup runs) can lead a lookup out of the root:
//! - `..` at the root (same device and inode as the root handle) stays
//!   there; elsewhere it is the host's `openat(dir, "..")`;
//! - a symlink is read with `readlinkat(fd, "")` and followed in the guest
//!   namespace: an absolute target starts again at the root handle, a
//!   relative one at the link's directory handle; at most
//!   [`MAXSYMLINKS`] per lookup (ELOOP);
//! - the root's `proc` is procfs (a [`ProcNames`]), and so is its `sys`
//!   (ferrite's few sysfs files are procfs names below
//!   [`procfs::SYS_ROOT`]); its magic links
//!   (`/proc/self/cwd`, `root`, `fd/N`) jump straight to the handle they
//!   stand for, as Linux's `nd_jump_link` does;
//! - the root's `dev` is the built-in `/dev` (dev.rs): its names and
//!   `/dev/shm`'s files are looked up in ferrite, and its symlinks
//!   (`/dev/fd` → `/proc/self/fd`, ...) are followed like any other.
//!
//! The caller then acts on the last component through its parent's
//! handle and its name (`mkdirat`, `unlinkat`, `renameat`, `symlinkat`,
//! `openat(O_NOFOLLOW)`) or through the handle the lookup opened.
//!
//! Where ferrite differs: there is no dentry cache, so every component is
//! a host `openat` (Linux's RCU walk is much cheaper). A directory that
//! the host itself (not the guest: the guest can only name things in the
//! root) moves out of the root while a process holds it is then outside
//! the root for that process, as with Linux's `chroot`; `..` from it never
//! meets the root again. Permissions are the host's: a lookup fails with
//! EACCES where the host refuses the `openat`.

use std::collections::VecDeque;
use std::fs::{File, Metadata};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, OnceLock};

use rustix::fs::{Mode, OFlags};

use crate::errno::{Errno, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR};

use super::dev::{self, DevDir, DevNode};
use super::flags::{MAXSYMLINKS, NAME_MAX, PATH_MAX};
use super::hostfs::host_errno;
use super::procfs::{self, ProcNode};
use super::shmem::Tmpfs;

/// The errno of a failed host call made through rustix.
pub(crate) fn rx(e: rustix::io::Errno) -> Errno {
    e.raw_os_error()
}

/// The flags of every lookup step: a handle that is not followed if it
/// is a symlink and never blocks (a FIFO, a device).
const STEP: OFlags = OFlags::PATH.union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

/// An open host directory (Linux's `struct path` of a directory): the
/// handle every lookup starts from.
#[derive(Clone, Debug)]
pub(crate) struct HostDir {
    file: Arc<File>,
    /// Device and inode, asked of the host when first needed (`..` and
    /// `proc` compare them with the root's).
    id: OnceLock<(u64, u64)>,
}

impl HostDir {
    /// `file` (an open directory, `O_PATH` or not) as a lookup start.
    pub(crate) fn new(file: Arc<File>) -> Result<HostDir, Errno> {
        let m = file.metadata().map_err(|e| host_errno(&e))?;
        if !m.is_dir() {
            return Err(ENOTDIR);
        }
        Ok(HostDir::with_meta(file, &m))
    }

    fn with_meta(file: Arc<File>, m: &Metadata) -> HostDir {
        HostDir {
            file,
            id: OnceLock::from((m.dev(), m.ino())),
        }
    }

    /// A handle opened with `O_DIRECTORY`: known to be a directory.
    fn opened_dir(file: File) -> HostDir {
        HostDir {
            file: Arc::new(file),
            id: OnceLock::new(),
        }
    }

    /// The handle.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// The open file.
    pub(crate) fn file(&self) -> &Arc<File> {
        &self.file
    }

    /// Its device and inode.
    pub(crate) fn id(&self) -> (u64, u64) {
        *self.id.get_or_init(|| {
            // Not the root's, should the host fail to say.
            self.file
                .metadata()
                .map_or((u64::MAX, u64::MAX), |m| (m.dev(), m.ino()))
        })
    }

    /// The same directory (device and inode).
    pub(crate) fn same(&self, o: &HostDir) -> bool {
        self.id() == o.id()
    }
}

/// Where a lookup is: a host directory or a procfs directory (by its path
/// below /proc, empty for /proc itself).
#[derive(Clone, Debug)]
pub(crate) enum Pos {
    Host(HostDir),
    Proc(String),
    /// A directory of the built-in `/dev` (dev.rs).
    Dev(DevDir),
}

/// Where a procfs magic link leads.
pub(crate) enum Jump {
    /// A host file or directory held open by the process.
    Host(Arc<File>),
    /// A procfs directory.
    Proc(String),
    /// A name in `/dev` (an open device, `/dev/shm` file or memfd).
    Dev(DevNode),
}

/// The names under `/proc` as one process sees them.
pub(crate) trait ProcNames {
    /// What `rel` (below /proc) is; None: no such name.
    fn lookup(&self, rel: &str) -> Option<ProcNode>;
    /// Where the symlink `rel` leads if it is a magic link (followed to
    /// its handle, not by its text).
    fn jump(&self, rel: &str) -> Option<Jump>;
}

/// What a lookup found.
#[derive(Debug)]
pub(crate) enum Target {
    /// An existing host file (the symlink itself if not followed).
    Host {
        /// An `O_PATH` handle of it (never a followed symlink).
        file: Arc<File>,
        meta: Metadata,
        /// Its directory and name when it was reached by a name (not by
        /// `.`, `..`, `/` or a magic link).
        parent: Option<(HostDir, Vec<u8>)>,
    },
    /// A procfs name.
    Proc { rel: String, node: ProcNode },
    /// A name in `/dev` (the symlink itself if not followed).
    Dev(DevNode),
    /// The last component does not exist; its directory does.
    Missing {
        /// The directory (None under /proc and /dev).
        parent: Option<HostDir>,
        /// The directory when it is one of /dev's.
        dev: Option<DevDir>,
        name: Vec<u8>,
        /// The path ended in `/`.
        trailing_slash: bool,
    },
}

impl Target {
    /// Whether it is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        match self {
            Target::Host { meta, .. } => meta.is_dir(),
            Target::Proc { node, .. } => *node == ProcNode::Dir,
            Target::Dev(node) => node.is_dir(),
            Target::Missing { .. } => false,
        }
    }
}

/// The directory of a [`Walker::parent`] lookup.
#[derive(Debug)]
pub(crate) enum Parent {
    /// A host directory.
    Host(HostDir),
    /// A procfs directory, by its path below /proc.
    Proc(String),
    /// The root directory, with the last component `proc`: the mount
    /// point of procfs.
    ProcMount,
    /// A directory of `/dev`.
    Dev(DevDir),
    /// The root directory, with the last component `dev`: the mount
    /// point of `/dev`.
    DevMount,
}

/// The last component of a [`Walker::parent`] lookup (Linux's
/// `last_type`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Last {
    /// A name.
    Norm(Vec<u8>),
    /// `.`.
    Dot,
    /// `..`.
    DotDot,
    /// The path was `/`.
    Root,
}

/// The path up to the first NUL, checked against `PATH_MAX`.
pub(crate) fn check_path(path: &[u8]) -> Result<&[u8], Errno> {
    let path = match path.iter().position(|&b| b == 0) {
        Some(n) => &path[..n],
        None => path,
    };
    if path.len() >= PATH_MAX {
        return Err(ENAMETOOLONG);
    }
    Ok(path)
}

fn split(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

/// One step: an `O_PATH` handle of `name` in `dir`, not followed.
pub(crate) fn step(dir: BorrowedFd<'_>, name: &[u8]) -> Result<File, Errno> {
    rustix::fs::openat(dir, name, STEP, Mode::empty())
        .map(File::from)
        .map_err(rx)
}

/// A lookup context: the root handle, procfs and `/dev/shm`.
pub(crate) struct Walker<'a> {
    pub(crate) root: &'a HostDir,
    pub(crate) proc: &'a dyn ProcNames,
    /// `/dev/shm` (None: empty).
    pub(crate) shm: Option<&'a Tmpfs>,
}

impl Walker<'_> {
    /// Look `path` up from `start` (used when `path` is relative),
    /// following a symlink in the last component if `follow_last` (or
    /// the path ends in `/`).
    pub(crate) fn resolve(
        &self,
        start: &Pos,
        path: &[u8],
        follow_last: bool,
    ) -> Result<Target, Errno> {
        let path = check_path(path)?;
        if path.is_empty() {
            return Err(ENOENT);
        }
        let trailing_slash = path.ends_with(b"/") && path.iter().any(|&b| b != b'/');
        let follow_last = follow_last || trailing_slash;
        let mut cur = if path[0] == b'/' {
            Pos::Host(self.root.clone())
        } else {
            start.clone()
        };
        let mut todo: VecDeque<Vec<u8>> = split(path).map(<[u8]>::to_vec).collect();
        let mut links = 0u32;
        while let Some(c) = todo.pop_front() {
            let last = todo.is_empty();
            match c.as_slice() {
                b"." => continue,
                b".." => {
                    cur = self.dotdot(cur)?;
                    continue;
                }
                _ => {}
            }
            if c.len() > NAME_MAX {
                return Err(ENAMETOOLONG);
            }
            let dir = match cur {
                Pos::Proc(ref dir) => {
                    let rel = procfs::join(dir, &c);
                    let Some(node) = self.proc.lookup(&rel) else {
                        if last {
                            return Ok(Target::Missing {
                                parent: None,
                                dev: None,
                                name: c,
                                trailing_slash,
                            });
                        }
                        return Err(ENOENT);
                    };
                    match node {
                        ProcNode::Symlink(t) if !last || follow_last => {
                            count_link(&mut links)?;
                            match self.proc.jump(&rel) {
                                Some(Jump::Proc(p)) => cur = Pos::Proc(p),
                                Some(Jump::Dev(DevNode::Dir(d))) => cur = Pos::Dev(d),
                                Some(Jump::Dev(_)) if !last || trailing_slash => {
                                    return Err(ENOTDIR)
                                }
                                Some(Jump::Dev(node)) => return Ok(Target::Dev(node)),
                                Some(Jump::Host(file)) => {
                                    let meta = file.metadata().map_err(|e| host_errno(&e))?;
                                    if meta.is_dir() {
                                        cur = Pos::Host(HostDir::with_meta(file, &meta));
                                    } else if !last || trailing_slash {
                                        return Err(ENOTDIR);
                                    } else {
                                        return Ok(Target::Host {
                                            file,
                                            meta,
                                            parent: None,
                                        });
                                    }
                                }
                                None => self.expand(&mut cur, &mut todo, &t)?,
                            }
                        }
                        ProcNode::Dir => cur = Pos::Proc(rel),
                        _ if !last || trailing_slash => return Err(ENOTDIR),
                        node => return Ok(Target::Proc { rel, node }),
                    }
                    continue;
                }
                Pos::Dev(d) => {
                    let Some(node) = dev::lookup(d, &c, self.shm) else {
                        if last {
                            return Ok(Target::Missing {
                                parent: None,
                                dev: Some(d),
                                name: c,
                                trailing_slash,
                            });
                        }
                        return Err(ENOENT);
                    };
                    match node {
                        DevNode::Symlink { target, .. } if !last || follow_last => {
                            count_link(&mut links)?;
                            self.expand(&mut cur, &mut todo, target.as_bytes())?;
                        }
                        DevNode::Dir(d) => cur = Pos::Dev(d),
                        _ if !last || trailing_slash => return Err(ENOTDIR),
                        node => return Ok(Target::Dev(node)),
                    }
                    continue;
                }
                Pos::Host(ref d) => d.clone(),
            };
            if c == b"proc" && dir.same(self.root) {
                cur = Pos::Proc(String::new());
                continue;
            }
            if c == b"sys" && dir.same(self.root) {
                cur = Pos::Proc(procfs::SYS_ROOT.to_string());
                continue;
            }
            if c == b"dev" && dir.same(self.root) {
                cur = Pos::Dev(DevDir::Root);
                continue;
            }
            if !last {
                // Most components are directories: one `openat` that
                // refuses anything else (a symlink too, with O_NOFOLLOW),
                // no `fstat`.
                let flags = STEP | OFlags::DIRECTORY;
                match rustix::fs::openat(dir.fd(), c.as_slice(), flags, Mode::empty()) {
                    Ok(fd) => {
                        cur = Pos::Host(HostDir::opened_dir(File::from(fd)));
                        continue;
                    }
                    Err(rustix::io::Errno::NOTDIR) => {}
                    Err(e) => return Err(rx(e)),
                }
            }
            let file = match step(dir.fd(), &c) {
                Ok(f) => f,
                Err(ENOENT) if last => {
                    return Ok(Target::Missing {
                        parent: Some(dir),
                        dev: None,
                        name: c,
                        trailing_slash,
                    });
                }
                Err(e) => return Err(e),
            };
            let meta = file.metadata().map_err(|e| host_errno(&e))?;
            let file = Arc::new(file);
            if meta.file_type().is_symlink() {
                if last && !follow_last {
                    return Ok(Target::Host {
                        file,
                        meta,
                        parent: Some((dir, c)),
                    });
                }
                count_link(&mut links)?;
                let target = rustix::fs::readlinkat(&*file, "", Vec::new()).map_err(rx)?;
                // A relative target goes on from the link's directory.
                self.expand(&mut cur, &mut todo, target.as_bytes())?;
                continue;
            }
            if meta.is_dir() {
                if last {
                    return Ok(Target::Host {
                        file,
                        meta,
                        parent: Some((dir, c)),
                    });
                }
                cur = Pos::Host(HostDir::with_meta(file, &meta));
                continue;
            }
            if !last || trailing_slash {
                return Err(ENOTDIR);
            }
            return Ok(Target::Host {
                file,
                meta,
                parent: Some((dir, c)),
            });
        }
        // The path ended at a directory (`/`, `.`, `..`, `a/..`, a link to
        // a directory).
        self.dir_target(cur)
    }

    /// `..` of `cur` (`follow_dotdot`): the root stays the root.
    fn dotdot(&self, cur: Pos) -> Result<Pos, Errno> {
        match cur {
            Pos::Host(d) if d.same(self.root) => Ok(Pos::Host(d)),
            Pos::Host(d) => {
                let flags = STEP | OFlags::DIRECTORY;
                let f = rustix::fs::openat(d.fd(), "..", flags, Mode::empty()).map_err(rx)?;
                Ok(Pos::Host(HostDir::opened_dir(File::from(f))))
            }
            Pos::Proc(rel) if rel.is_empty() || rel == procfs::SYS_ROOT => {
                Ok(Pos::Host(self.root.clone()))
            }
            Pos::Proc(rel) => Ok(Pos::Proc(match rel.rsplit_once('/') {
                Some((up, _)) => up.to_string(),
                None => String::new(),
            })),
            Pos::Dev(DevDir::Shm) => Ok(Pos::Dev(DevDir::Root)),
            Pos::Dev(DevDir::Root) => Ok(Pos::Host(self.root.clone())),
        }
    }

    /// The target of the directory `cur`.
    fn dir_target(&self, cur: Pos) -> Result<Target, Errno> {
        match cur {
            Pos::Proc(rel) => {
                let node = self.proc.lookup(&rel).ok_or(ENOENT)?;
                Ok(Target::Proc { rel, node })
            }
            Pos::Dev(d) => Ok(Target::Dev(DevNode::Dir(d))),
            Pos::Host(d) => {
                let meta = d.file.metadata().map_err(|e| host_errno(&e))?;
                Ok(Target::Host {
                    file: d.file,
                    meta,
                    parent: None,
                })
            }
        }
    }

    /// Go on with a symlink's target: its components come next, from the
    /// root if it is absolute.
    fn expand(
        &self,
        cur: &mut Pos,
        todo: &mut VecDeque<Vec<u8>>,
        target: &[u8],
    ) -> Result<(), Errno> {
        if target.is_empty() {
            return Err(ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        if target[0] == b'/' {
            *cur = Pos::Host(self.root.clone());
        }
        for c in split(target).collect::<Vec<_>>().into_iter().rev() {
            todo.push_front(c.to_vec());
        }
        Ok(())
    }

    /// Look up the directory of `path` and return it with the last
    /// component, not followed (for mkdir, unlink, rmdir, rename). The flag
    /// says whether the path ended in `/`.
    pub(crate) fn parent(&self, start: &Pos, path: &[u8]) -> Result<(Parent, Last, bool), Errno> {
        let path = check_path(path)?;
        if path.is_empty() {
            return Err(ENOENT);
        }
        let trimmed = {
            let mut p = path;
            while p.len() > 1 && p.ends_with(b"/") {
                p = &p[..p.len() - 1];
            }
            p
        };
        let trailing_slash = trimmed.len() != path.len() && trimmed != b"/";
        let (dir, name): (&[u8], &[u8]) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (if i == 0 { b"/" } else { &trimmed[..i] }, &trimmed[i + 1..]),
            None => (b".", trimmed),
        };
        let last = match name {
            b"" => Last::Root,
            b"." => Last::Dot,
            b".." => Last::DotDot,
            n if n.len() > NAME_MAX => return Err(ENAMETOOLONG),
            n => Last::Norm(n.to_vec()),
        };
        let parent = match self.resolve(start, dir, true)? {
            Target::Host { file, meta, .. } if meta.is_dir() => {
                Parent::Host(HostDir::with_meta(file, &meta))
            }
            Target::Proc {
                node: ProcNode::Dir,
                rel,
            } => Parent::Proc(rel),
            Target::Dev(DevNode::Dir(d)) => Parent::Dev(d),
            Target::Missing { .. } => return Err(ENOENT),
            _ => return Err(ENOTDIR),
        };
        // `/proc` itself lives in the root directory but is procfs.
        let parent = match (&parent, &last) {
            (Parent::Host(d), Last::Norm(n))
                if (n == b"proc" || n == b"sys") && d.same(self.root) =>
            {
                Parent::ProcMount
            }
            (Parent::Host(d), Last::Norm(n)) if n == b"dev" && d.same(self.root) => {
                Parent::DevMount
            }
            _ => parent,
        };
        Ok((parent, last, trailing_slash))
    }
}

/// One more symlink followed: ELOOP past [`MAXSYMLINKS`].
fn count_link(links: &mut u32) -> Result<(), Errno> {
    *links += 1;
    if *links > MAXSYMLINKS {
        return Err(ELOOP);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct NoProc;
    impl ProcNames for NoProc {
        fn lookup(&self, rel: &str) -> Option<ProcNode> {
            rel.is_empty().then_some(ProcNode::Dir)
        }
        fn jump(&self, _: &str) -> Option<Jump> {
            None
        }
    }

    fn open_dir(p: &std::path::Path) -> HostDir {
        HostDir::new(Arc::new(File::open(p).unwrap())).unwrap()
    }

    /// Where a handle is on the host (its `/proc/self/fd` link).
    fn host_of(f: &File) -> std::path::PathBuf {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd())).unwrap()
    }

    /// Random walks over `..`, names and escaping symlinks: every handle
    /// a lookup produces lies in the root.
    #[test]
    fn handles_stay_in_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        let root = root.canonicalize().unwrap();
        std::fs::write(root.join("a/f"), b"").unwrap();
        symlink("/", root.join("a/r")).unwrap();
        symlink("../../../..", root.join("a/b/u")).unwrap();
        symlink("/../a/b", root.join("ab")).unwrap();
        symlink(root.parent().unwrap(), root.join("host")).unwrap();
        symlink("l2", root.join("l1")).unwrap();
        symlink("l1", root.join("l2")).unwrap();
        let rootdir = open_dir(&root);
        let w = Walker {
            root: &rootdir,
            proc: &NoProc,
            shm: None,
        };
        let ab = Pos::Host(open_dir(&root.join("a/b")));
        let top = Pos::Host(rootdir.clone());
        let parts = [
            "..", ".", "a", "b", "f", "r", "u", "ab", "host", "l1", "x", "", "dev", "shm", "null",
            "stdin",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        for _ in 0..3000 {
            let n = 1 + next() % 8;
            let mut p = String::new();
            if next() % 2 == 0 {
                p.push('/');
            }
            for i in 0..n {
                if i > 0 {
                    p.push('/');
                }
                p.push_str(parts[next() % parts.len()]);
            }
            let start = if next() % 2 == 0 { &ab } else { &top };
            let host = match w.resolve(start, p.as_bytes(), next() % 2 == 0) {
                Ok(Target::Host { file, .. }) => host_of(&file),
                Ok(Target::Missing {
                    parent: Some(parent),
                    ..
                }) => host_of(parent.file()),
                Ok(Target::Missing { dev, .. }) => {
                    assert!(dev.is_some(), "{p}: a missing name without a directory");
                    continue;
                }
                Ok(Target::Proc { .. } | Target::Dev(_)) => continue,
                Err(e) => {
                    assert!([ENOENT, ENOTDIR, ELOOP].contains(&e), "{p}: {e}");
                    continue;
                }
            };
            assert!(host.starts_with(&root), "{p} -> {host:?}");
        }
    }

    #[test]
    fn parent_split() {
        let dir = tempfile::tempdir().unwrap();
        let root = open_dir(dir.path());
        let w = Walker {
            root: &root,
            proc: &NoProc,
            shm: None,
        };
        let top = Pos::Host(root.clone());
        let last = |p: &str| w.parent(&top, p.as_bytes()).map(|(_, l, s)| (l, s));
        assert_eq!(last("/x").unwrap(), (Last::Norm(b"x".to_vec()), false));
        assert_eq!(last("x//").unwrap(), (Last::Norm(b"x".to_vec()), true));
        assert_eq!(last("/").unwrap(), (Last::Root, false));
        assert_eq!(last("//").unwrap(), (Last::Root, false));
        assert_eq!(last(".").unwrap(), (Last::Dot, false));
        assert_eq!(last("a/..").err(), Some(ENOENT));
        assert_eq!(last("..").unwrap(), (Last::DotDot, false));
        assert_eq!(last("").err(), Some(ENOENT));
        assert!(matches!(
            w.parent(&top, b"/proc").unwrap().0,
            Parent::ProcMount
        ));
        assert!(matches!(
            w.parent(&top, b"/proc/x").unwrap().0,
            Parent::Proc(ref d) if d.is_empty()
        ));
    }
}
