//! Path lookup (Linux's fs/namei.c: `link_path_walk`, `walk_component`,
//! `pick_link`, `filename_parentat`) over the hostfs and /proc.
//!
//! Every component is resolved here, one at a time, against the host
//! directory that is the guest's root: the guest path is never handed to
//! the host as a whole. A host path is always the root joined with
//! components that are neither empty, `.`, `..` nor contain `/`, so no
//! lookup leaves the root: `..` at the root stays there, and a symlink
//! is read with the host's `readlink` and followed in the guest namespace
//! (an absolute target starts again at the guest root, a relative one at
//! the link's directory), at most [`MAXSYMLINKS`] of them per lookup
//! (ELOOP). Names under the guest's `/proc` are looked up in procfs.
//!
//! Where ferrite differs: the host can change the tree between the
//! `lstat` of a component and the use of the resulting host path (another
//! host process replacing a directory by a symlink). Guarding against such
//! races (Linux's `openat2(RESOLVE_IN_ROOT)` with `O_NOFOLLOW` at every
//! step) is out of scope: the root is assumed to be changed only through
//! ferrite. Permissions are the host's: a lookup fails with EACCES where
//! the host refuses the `lstat`.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::errno::{Errno, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR};

use super::flags::{MAXSYMLINKS, NAME_MAX, PATH_MAX};
use super::hostfs::host_errno;
use super::procfs::{self, ProcNode, ProcSource};

/// A guest path as its components (`/a/b` = `["a", "b"]`, `/` = `[]`).
pub(crate) type Comps = Vec<Vec<u8>>;

/// What a lookup found.
#[derive(Debug)]
pub(crate) enum Target {
    /// An existing host file (symlink itself if not followed).
    Host {
        host: PathBuf,
        guest: Comps,
        meta: Metadata,
    },
    /// A procfs name.
    Proc {
        rel: String,
        guest: Comps,
        node: ProcNode,
    },
    /// The last component does not exist; its directory does.
    Missing {
        /// Where it would be on the host (None under /proc).
        host: Option<PathBuf>,
        guest: Comps,
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
            Target::Missing { .. } => false,
        }
    }
}

/// The directory of a [`parent`] lookup.
#[derive(Debug)]
pub(crate) enum Parent {
    /// A host directory.
    Host { host: PathBuf, guest: Comps },
    /// A procfs directory, by its path below /proc.
    Proc(String),
    /// The root directory, with the last component `proc`: the mount
    /// point of procfs.
    ProcMount,
}

/// The last component of a [`parent`] lookup (Linux's `last_type`).
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

/// The guest path of `comps` (`/a/b`).
pub(crate) fn guest_path(comps: &[Vec<u8>]) -> Vec<u8> {
    if comps.is_empty() {
        return b"/".to_vec();
    }
    let mut p = Vec::new();
    for c in comps {
        p.push(b'/');
        p.extend_from_slice(c);
    }
    p
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

/// A lookup context: the host root and procfs.
pub(crate) struct Walker<'a> {
    pub(crate) root: &'a Path,
    pub(crate) proc: &'a dyn ProcSource,
}

impl Walker<'_> {
    fn host_path(&self, comps: &[Vec<u8>]) -> PathBuf {
        let mut p = self.root.to_path_buf();
        for c in comps {
            p.push(OsStr::from_bytes(c));
        }
        p
    }

    /// Look `path` up from the directory `start` (used when `path` is
    /// relative), following a symlink in the last component if
    /// `follow_last` (or the path ends in `/`).
    pub(crate) fn resolve(
        &self,
        start: &[Vec<u8>],
        path: &[u8],
        follow_last: bool,
    ) -> Result<Target, Errno> {
        let path = check_path(path)?;
        if path.is_empty() {
            return Err(ENOENT);
        }
        let trailing_slash = path.ends_with(b"/") && path.iter().any(|&b| b != b'/');
        let follow_last = follow_last || trailing_slash;
        let mut stack: Comps = if path[0] == b'/' {
            Vec::new()
        } else {
            start.to_vec()
        };
        let mut todo: VecDeque<Vec<u8>> = split(path).map(<[u8]>::to_vec).collect();
        let mut links = 0u32;
        while let Some(c) = todo.pop_front() {
            let last = todo.is_empty();
            match c.as_slice() {
                b"." => continue,
                b".." => {
                    stack.pop();
                    continue;
                }
                _ => {}
            }
            if c.len() > NAME_MAX {
                return Err(ENAMETOOLONG);
            }
            if stack.first().map(Vec::as_slice) == Some(b"proc") {
                let mut rel = stack[1..].to_vec();
                rel.push(c.clone());
                let rel = String::from_utf8_lossy(&rel.join(&b'/')).into_owned();
                let Some(node) = procfs::lookup(self.proc, &rel) else {
                    if last {
                        stack.push(c);
                        return Ok(Target::Missing {
                            host: None,
                            guest: stack,
                            trailing_slash,
                        });
                    }
                    return Err(ENOENT);
                };
                match node {
                    ProcNode::Symlink(t) if !last || follow_last => {
                        self.expand(&mut links, &mut stack, &mut todo, &t)?;
                    }
                    ProcNode::Dir => stack.push(c),
                    _ if !last || trailing_slash => return Err(ENOTDIR),
                    node => {
                        stack.push(c);
                        return Ok(Target::Proc {
                            rel,
                            guest: stack,
                            node,
                        });
                    }
                }
                continue;
            }
            if stack.is_empty() && c == b"proc" {
                stack.push(c);
                continue;
            }
            stack.push(c);
            let host = self.host_path(&stack);
            let meta = match std::fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && last => {
                    return Ok(Target::Missing {
                        host: Some(host),
                        guest: stack,
                        trailing_slash,
                    });
                }
                Err(e) => return Err(host_errno(&e)),
            };
            if meta.file_type().is_symlink() {
                if last && !follow_last {
                    return Ok(Target::Host {
                        host,
                        guest: stack,
                        meta,
                    });
                }
                let target = std::fs::read_link(&host).map_err(|e| host_errno(&e))?;
                stack.pop();
                self.expand(
                    &mut links,
                    &mut stack,
                    &mut todo,
                    target.as_os_str().as_bytes(),
                )?;
                continue;
            }
            if meta.is_dir() {
                if last {
                    return Ok(Target::Host {
                        host,
                        guest: stack,
                        meta,
                    });
                }
                continue;
            }
            if !last || trailing_slash {
                return Err(ENOTDIR);
            }
            return Ok(Target::Host {
                host,
                guest: stack,
                meta,
            });
        }
        // The path ended at a directory (`/`, `.`, `..`, `a/..`, a link to
        // a directory).
        self.dir_target(stack)
    }

    /// The target of the directory `stack` (known to exist when reached by
    /// a walk, but checked again: the host may have changed).
    fn dir_target(&self, stack: Comps) -> Result<Target, Errno> {
        if stack.first().map(Vec::as_slice) == Some(b"proc") {
            let rel = String::from_utf8_lossy(&stack[1..].join(&b'/')).into_owned();
            let node = procfs::lookup(self.proc, &rel).ok_or(ENOENT)?;
            return Ok(Target::Proc {
                rel,
                guest: stack,
                node,
            });
        }
        let host = self.host_path(&stack);
        let meta = std::fs::metadata(&host).map_err(|e| host_errno(&e))?;
        Ok(Target::Host {
            host,
            guest: stack,
            meta,
        })
    }

    /// Replace the symlink just met by its target's components.
    fn expand(
        &self,
        links: &mut u32,
        stack: &mut Comps,
        todo: &mut VecDeque<Vec<u8>>,
        target: &[u8],
    ) -> Result<(), Errno> {
        *links += 1;
        if *links > MAXSYMLINKS {
            return Err(ELOOP);
        }
        if target.is_empty() {
            return Err(ENOENT);
        }
        if target.len() >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        if target[0] == b'/' {
            stack.clear();
        }
        for c in split(target).collect::<Vec<_>>().into_iter().rev() {
            todo.push_front(c.to_vec());
        }
        Ok(())
    }

    /// Look up the directory of `path` and return it with the last
    /// component, not followed (for mkdir, unlink, rmdir). The flag says
    /// whether the path ended in `/`.
    pub(crate) fn parent(
        &self,
        start: &[Vec<u8>],
        path: &[u8],
    ) -> Result<(Parent, Last, bool), Errno> {
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
            Target::Host { host, guest, meta } if meta.is_dir() => Parent::Host { host, guest },
            Target::Proc {
                node: ProcNode::Dir,
                rel,
                ..
            } => Parent::Proc(rel),
            Target::Missing { .. } => return Err(ENOENT),
            _ => return Err(ENOTDIR),
        };
        // `/proc` itself lives in the root directory but is procfs.
        let parent = match (&parent, &last) {
            (Parent::Host { guest, .. }, Last::Norm(n)) if guest.is_empty() && n == b"proc" => {
                Parent::ProcMount
            }
            _ => parent,
        };
        Ok((parent, last, trailing_slash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    struct NoProc;
    impl ProcSource for NoProc {
        fn read(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
        fn readlink(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }

    /// Random walks over `..`, names and escaping symlinks: every host
    /// path a lookup produces lies in the root.
    #[test]
    fn host_paths_stay_in_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/f"), b"").unwrap();
        symlink("/", root.join("a/r")).unwrap();
        symlink("../../../..", root.join("a/b/u")).unwrap();
        symlink("/../a/b", root.join("ab")).unwrap();
        symlink(root.parent().unwrap(), root.join("host")).unwrap();
        symlink("l2", root.join("l1")).unwrap();
        symlink("l1", root.join("l2")).unwrap();
        let w = Walker {
            root: &root,
            proc: &NoProc,
        };
        let parts = [
            "..", ".", "a", "b", "f", "r", "u", "ab", "host", "l1", "x", "",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        for _ in 0..5000 {
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
            let start: Comps = if next() % 2 == 0 {
                vec![b"a".to_vec(), b"b".to_vec()]
            } else {
                Vec::new()
            };
            let host = match w.resolve(&start, p.as_bytes(), next() % 2 == 0) {
                Ok(Target::Host { host, .. }) => host,
                Ok(Target::Missing { host, .. }) => host.unwrap(),
                Ok(Target::Proc { .. }) => unreachable!(),
                Err(e) => {
                    assert!([ENOENT, ENOTDIR, ELOOP].contains(&e), "{p}: {e}");
                    continue;
                }
            };
            assert!(host.starts_with(&root), "{p} -> {host:?}");
            let rel = host.strip_prefix(&root).unwrap();
            assert!(
                rel.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{p} -> {host:?}"
            );
        }
    }

    #[test]
    fn parent_split() {
        let dir = tempfile::tempdir().unwrap();
        let w = Walker {
            root: dir.path(),
            proc: &NoProc,
        };
        let last = |p: &str| w.parent(&[], p.as_bytes()).map(|(_, l, s)| (l, s));
        assert_eq!(last("/x").unwrap(), (Last::Norm(b"x".to_vec()), false));
        assert_eq!(last("x//").unwrap(), (Last::Norm(b"x".to_vec()), true));
        assert_eq!(last("/").unwrap(), (Last::Root, false));
        assert_eq!(last("//").unwrap(), (Last::Root, false));
        assert_eq!(last(".").unwrap(), (Last::Dot, false));
        assert_eq!(last("a/..").err(), Some(ENOENT));
        assert_eq!(last("..").unwrap(), (Last::DotDot, false));
        assert_eq!(last("").err(), Some(ENOENT));
        assert!(matches!(
            w.parent(&[], b"/proc").unwrap().0,
            Parent::ProcMount
        ));
        assert!(matches!(
            w.parent(&[], b"/proc/x").unwrap().0,
            Parent::Proc(ref d) if d.is_empty()
        ));
    }
}
