//! Escapes from the guest's root (issue 8 §1), one test per attack,
//! driving the file layer (`kernel::fs::Fs`) directly.
//!
//! Every test builds `tmp/root` (the guest's `/`) next to canaries in
//! `tmp` (`tmp/passwd`, `tmp/outside/passwd`, `tmp/outside/dir/`) whose
//! times are set far in the past; after the attack it asserts that their
//! access and modification times are unchanged (so nothing outside the
//! root was read, listed or written: a read of a file with an old access
//! time updates it under the host's `relatime`), that no new name
//! appeared outside the root, and that their contents are intact.
//! Guest symlinks point at the canaries by their absolute host paths:
//! followed by the host (the old path-rebuilding lookup did that), they
//! would reach them.

use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kernel::errno::*;
use kernel::fs::flags::*;
use kernel::fs::{Fs, HostFs, ProcSource};
use mm::Cpu;

mod common;
use common::{cpu, mem};

/// /proc of pid 1 (`self` is 1).
struct Proc1;

impl ProcSource for Proc1 {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match path {
            "self/status" | "1/status" => Some(b"Name:\tinit\n".to_vec()),
            _ => None,
        }
    }
    fn readlink(&self, path: &str) -> Option<Vec<u8>> {
        match path {
            "self" => Some(b"1".to_vec()),
            _ => None,
        }
    }
}

const SECRET: &[u8] = b"HOST SECRET";
const GUEST: &[u8] = b"guest passwd";
/// 2000-01-01: older than a day, so the host's relatime updates it on a
/// read.
const OLD: u64 = 946_684_800;

struct T {
    tmp: tempfile::TempDir,
    root: PathBuf,
    fs: Fs,
    cpu: Cpu<'static>,
}

fn old_times(p: &Path) {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(OLD);
    let f = std::fs::File::open(p).unwrap();
    f.set_times(std::fs::FileTimes::new().set_accessed(t).set_modified(t))
        .unwrap();
}

/// The canaries, innermost first (a directory's times last).
const CANARIES: [&str; 5] = ["outside/passwd", "passwd", "outside/dir", "outside", ""];

impl T {
    fn new() -> T {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("passwd"), GUEST).unwrap();
        let out = tmp.path().join("outside");
        std::fs::create_dir_all(out.join("dir")).unwrap();
        std::fs::write(out.join("passwd"), SECRET).unwrap();
        std::fs::write(tmp.path().join("passwd"), SECRET).unwrap();
        for c in CANARIES {
            old_times(&tmp.path().join(c));
        }
        let host = Arc::new(HostFs::new(&root, mem()).unwrap());
        let fs = Fs::new(host, Arc::new(Proc1)).unwrap();
        T {
            tmp,
            root,
            fs,
            cpu: cpu(),
        }
    }

    /// The host path of the canary directory (what a guest symlink
    /// names to try to reach it).
    fn outside(&self) -> String {
        self.tmp
            .path()
            .join("outside")
            .to_str()
            .unwrap()
            .to_string()
    }

    fn open(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<i32, Errno> {
        self.fs.openat(&self.cpu, dirfd, path, flags, 0o644)
    }

    fn read(&self, dirfd: i32, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let fd = self.open(dirfd, path, O_RDONLY)?;
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        loop {
            let n = self.fs.read(&self.cpu, fd, &mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        self.fs.close(fd).unwrap();
        assert_ne!(out, SECRET, "read the host's secret");
        Ok(out)
    }

    fn symlink(&self, target: &str, path: &str) {
        self.fs
            .symlinkat(target.as_bytes(), AT_FDCWD, path.as_bytes())
            .unwrap();
    }

    /// Nothing outside the root was read, written, created or removed.
    fn check_canaries(&self) {
        for c in CANARIES {
            let m = std::fs::symlink_metadata(self.tmp.path().join(c)).unwrap();
            assert_eq!(
                (m.atime() as u64, m.mtime() as u64),
                (OLD, OLD),
                "canary {c:?} was touched"
            );
        }
        let names = |p: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(self.tmp.path()), ["outside", "passwd", "root"]);
        assert_eq!(names(&self.tmp.path().join("outside")), ["dir", "passwd"]);
        assert!(names(&self.tmp.path().join("outside/dir")).is_empty());
        assert_eq!(
            std::fs::read(self.tmp.path().join("passwd")).unwrap(),
            SECRET
        );
        assert_eq!(
            std::fs::read(self.tmp.path().join("outside/passwd")).unwrap(),
            SECRET
        );
    }
}

/// `mkdir("/d"); chdir("/d"); rmdir("/d"); symlink(outside, "/d");
/// open("passwd")`: the cwd is the removed directory, not the name.
#[test]
fn cwd_removed_and_replaced_by_symlink() {
    let t = T::new();
    t.fs.mkdirat(AT_FDCWD, b"/d", 0o755).unwrap();
    t.fs.chdir(b"/d").unwrap();
    t.fs.unlinkat(AT_FDCWD, b"/d", AT_REMOVEDIR).unwrap();
    t.symlink(&t.outside(), "/d");
    assert_eq!(t.read(AT_FDCWD, b"passwd"), Err(ENOENT));
    assert_eq!(t.read(AT_FDCWD, b"./passwd"), Err(ENOENT));
    assert_eq!(t.fs.fstatat(AT_FDCWD, b"passwd", 0), Err(ENOENT));
    assert_eq!(t.fs.faccessat(AT_FDCWD, b"passwd", 0, 0), Err(ENOENT));
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"passwd"), Err(ENOENT));
    assert_eq!(t.open(AT_FDCWD, b"new", O_CREAT | O_WRONLY), Err(ENOENT));
    assert_eq!(t.fs.mkdirat(AT_FDCWD, b"newdir", 0o755), Err(ENOENT));
    assert_eq!(t.fs.symlinkat(b"x", AT_FDCWD, b"newlink"), Err(ENOENT));
    assert_eq!(t.fs.unlinkat(AT_FDCWD, b"passwd", 0), Err(ENOENT));
    assert_eq!(
        t.fs.renameat2(AT_FDCWD, b"passwd", AT_FDCWD, b"/stolen", 0),
        Err(ENOENT)
    );
    assert_eq!(t.fs.chdir(b"dir"), Err(ENOENT));
    // Linux: getcwd of a removed directory is ENOENT; /proc says so.
    assert_eq!(t.fs.getcwd(), Err(ENOENT));
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/proc/self/cwd").unwrap(),
        b"/d (deleted)"
    );
    // The symlink itself is followed in the guest namespace.
    assert_eq!(t.read(AT_FDCWD, b"/d/passwd"), Err(ENOENT));
    // `..` of the removed directory is still in the root.
    assert_eq!(t.read(AT_FDCWD, b"../passwd").unwrap(), GUEST);
    assert!(!t.root.join("stolen").exists());
    t.check_canaries();
}

/// `open("/e", O_DIRECTORY)`, rename `/e`, symlink `/e` to outside,
/// `openat(efd, "passwd")`: the descriptor is the directory, not the
/// name. The same with an `O_PATH` descriptor.
#[test]
fn dirfd_rename_and_symlink_swap() {
    for extra in [0, O_PATH] {
        let t = T::new();
        t.fs.mkdirat(AT_FDCWD, b"/e", 0o755).unwrap();
        let fd = t.open(AT_FDCWD, b"/e/marker", O_CREAT | O_WRONLY).unwrap();
        t.fs.close(fd).unwrap();
        let efd = t
            .open(AT_FDCWD, b"/e", O_DIRECTORY | O_RDONLY | extra)
            .unwrap();
        t.fs.renameat2(AT_FDCWD, b"/e", AT_FDCWD, b"/e2", 0)
            .unwrap();
        t.symlink(&t.outside(), "/e");
        assert_eq!(t.read(efd, b"passwd"), Err(ENOENT));
        assert_eq!(t.read(efd, b"marker").unwrap(), b"");
        assert_eq!(t.fs.fstatat(efd, b"passwd", 0), Err(ENOENT));
        assert_eq!(t.fs.fstatat(efd, b"dir", 0), Err(ENOENT));
        // Created in /e2, the directory the descriptor holds.
        let fd = t.open(efd, b"made", O_CREAT | O_WRONLY).unwrap();
        t.fs.close(fd).unwrap();
        assert!(t.root.join("e2/made").exists());
        t.fs.mkdirat(efd, b"sub", 0o755).unwrap();
        assert!(t.root.join("e2/sub").is_dir());
        assert_eq!(t.fs.fd_path(efd).unwrap(), b"/e2");
        assert_eq!(
            t.fs.readlinkat(AT_FDCWD, format!("/proc/self/fd/{efd}").as_bytes())
                .unwrap(),
            b"/e2"
        );
        // Through the magic link too: the handle, not its name.
        assert_eq!(
            t.read(AT_FDCWD, format!("/proc/self/fd/{efd}/marker").as_bytes())
                .unwrap(),
            b""
        );
        assert_eq!(
            t.read(AT_FDCWD, format!("/proc/1/fd/{efd}/passwd").as_bytes()),
            Err(ENOENT)
        );
        t.check_canaries();
    }
}

/// As above, then `fchdir(efd)`.
#[test]
fn fchdir_after_rename_and_symlink_swap() {
    let t = T::new();
    t.fs.mkdirat(AT_FDCWD, b"/e", 0o755).unwrap();
    let fd = t.open(AT_FDCWD, b"/e/marker", O_CREAT | O_WRONLY).unwrap();
    t.fs.close(fd).unwrap();
    let efd = t.open(AT_FDCWD, b"/e", O_DIRECTORY | O_RDONLY).unwrap();
    t.fs.renameat2(AT_FDCWD, b"/e", AT_FDCWD, b"/e2", 0)
        .unwrap();
    t.symlink(&t.outside(), "/e");
    t.fs.fchdir(efd).unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/e2");
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/proc/self/cwd").unwrap(),
        b"/e2"
    );
    assert_eq!(t.read(AT_FDCWD, b"passwd"), Err(ENOENT));
    assert_eq!(t.read(AT_FDCWD, b"marker").unwrap(), b"");
    assert_eq!(t.read(AT_FDCWD, b"/proc/self/cwd/marker").unwrap(), b"");
    assert_eq!(t.read(AT_FDCWD, b"/proc/self/root/passwd").unwrap(), GUEST);
    assert_eq!(t.read(AT_FDCWD, b"../passwd").unwrap(), GUEST);
    // The fd, now closed, changes nothing: the cwd holds its own handle.
    t.fs.close(efd).unwrap();
    t.fs.renameat2(AT_FDCWD, b"/e2", AT_FDCWD, b"/e3", 0)
        .unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/e3");
    assert_eq!(t.read(AT_FDCWD, b"marker").unwrap(), b"");
    t.check_canaries();
}

/// A host thread swaps a directory of the root with a symlink to outside
/// (`renameat2(RENAME_EXCHANGE)`) in a loop while the guest looks up
/// through it: no lookup ever reaches outside.
#[test]
fn rename_race() {
    let t = T::new();
    std::fs::create_dir(t.root.join("sw")).unwrap();
    std::fs::write(t.root.join("sw/passwd"), GUEST).unwrap();
    std::fs::create_dir(t.root.join("sw/dir")).unwrap();
    symlink(t.outside(), t.root.join("alt")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let (a, b, tmp) = (t.root.join("sw"), t.root.join("alt"), t.root.join("tmp"));
        std::thread::spawn(move || {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match renameat_with(CWD, &a, CWD, &b, RenameFlags::EXCHANGE) {
                    Ok(()) => {}
                    // A host file system without RENAME_EXCHANGE: three
                    // renames (a window with neither name, no matter).
                    Err(rustix::io::Errno::INVAL) => {
                        std::fs::rename(&a, &tmp).unwrap();
                        std::fs::rename(&b, &a).unwrap();
                        std::fs::rename(&tmp, &b).unwrap();
                    }
                    Err(e) => panic!("renameat2: {e}"),
                }
                n += 1;
            }
            n
        })
    };
    let mut reads = 0;
    for i in 0..20000 {
        match t.read(AT_FDCWD, b"/sw/passwd") {
            Ok(d) => {
                assert_eq!(d, GUEST);
                reads += 1;
            }
            Err(e) => assert_eq!(e, ENOENT),
        }
        let _ = t.fs.fstatat(AT_FDCWD, b"/sw/dir", 0);
        let _ = t.fs.faccessat(AT_FDCWD, b"/sw/passwd", R_OK, 0);
        if i % 8 == 0 {
            let _ =
                t.fs.mkdirat(AT_FDCWD, format!("/sw/dir/m{i}").as_bytes(), 0o755);
            let f = format!("/sw/dir/f{i}");
            if let Ok(fd) = t.open(AT_FDCWD, f.as_bytes(), O_CREAT | O_WRONLY) {
                t.fs.close(fd).unwrap();
            }
        }
        if t.fs.chdir(b"/sw/dir").is_ok() {
            let _ = t.read(AT_FDCWD, b"../passwd");
            let _ = t.fs.fstatat(AT_FDCWD, b"../dir", 0);
            t.fs.chdir(b"/").unwrap();
        }
        if let Ok(fd) = t.open(AT_FDCWD, b"/sw", O_DIRECTORY | O_RDONLY) {
            if i % 8 == 0 {
                let _ = t.fs.getdents64(fd, 4096);
            }
            let _ = t.read(fd, b"passwd");
            t.fs.close(fd).unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    assert!(reads > 0, "the race never let a read through");
    t.check_canaries();
}

/// Symlink loops of every shape end in ELOOP.
#[test]
fn symlink_loops() {
    let t = T::new();
    t.symlink("b", "/a");
    t.symlink("a", "/b");
    t.symlink("self", "/self");
    t.symlink("loop/x", "/loop");
    t.fs.mkdirat(AT_FDCWD, b"/d", 0o755).unwrap();
    t.symlink("../d/up", "/d/up");
    t.symlink(&format!("{}/passwd", t.outside()), "/out");
    for p in ["/a", "/self", "/loop", "/d/up", "/a/x", "d/up/passwd"] {
        assert_eq!(t.read(AT_FDCWD, p.as_bytes()), Err(ELOOP), "{p}");
        assert_eq!(t.fs.fstatat(AT_FDCWD, p.as_bytes(), 0), Err(ELOOP), "{p}");
    }
    assert_eq!(t.fs.chdir(b"/self"), Err(ELOOP));
    assert_eq!(t.open(AT_FDCWD, b"/a", O_CREAT | O_WRONLY), Err(ELOOP));
    // A chain of 40 is followed; 41 is too many.
    t.symlink("passwd", "/c0");
    for i in 1..=40 {
        t.symlink(&format!("c{}", i - 1), &format!("/c{i}"));
    }
    assert_eq!(t.read(AT_FDCWD, b"/c39").unwrap(), GUEST);
    assert_eq!(t.read(AT_FDCWD, b"/c40"), Err(ELOOP));
    assert_eq!(t.read(AT_FDCWD, b"/out"), Err(ENOENT));
    t.check_canaries();
}

/// `..` chains from a deep cwd and from a directory descriptor stay at
/// the root.
#[test]
fn dotdot_chains() {
    let t = T::new();
    std::fs::create_dir_all(t.root.join("a/b/c/d")).unwrap();
    t.fs.chdir(b"/a/b/c/d").unwrap();
    let up = "../".repeat(50);
    assert_eq!(
        t.read(AT_FDCWD, format!("{up}passwd").as_bytes()).unwrap(),
        GUEST
    );
    assert_eq!(
        t.read(AT_FDCWD, format!("{up}root/passwd").as_bytes()),
        Err(ENOENT)
    );
    assert_eq!(
        t.read(AT_FDCWD, format!("{up}outside/passwd").as_bytes()),
        Err(ENOENT)
    );
    let root_ino = std::fs::metadata(&t.root).unwrap().ino();
    assert_eq!(
        t.fs.fstatat(AT_FDCWD, up.as_bytes(), 0).unwrap().ino,
        root_ino
    );
    let dfd = t.open(AT_FDCWD, b"/a/b", O_DIRECTORY | O_RDONLY).unwrap();
    assert_eq!(t.read(dfd, b"../../../../passwd").unwrap(), GUEST);
    assert_eq!(t.fs.fstatat(dfd, b"../../../..", 0).unwrap().ino, root_ino);
    t.fs.mkdirat(dfd, b"../../../../made", 0o755).unwrap();
    assert!(t.root.join("made").is_dir());
    let fd = t
        .open(dfd, b"../../../../../new", O_CREAT | O_WRONLY)
        .unwrap();
    t.fs.close(fd).unwrap();
    assert!(t.root.join("new").exists());
    t.fs.chdir(up.as_bytes()).unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/");
    // `..` through procfs also ends at the root.
    assert_eq!(
        t.read(AT_FDCWD, b"/proc/self/../../../passwd").unwrap(),
        GUEST
    );
    t.check_canaries();
}

/// PATH_MAX and NAME_MAX: ENAMETOOLONG, never a truncated lookup.
#[test]
fn path_max() {
    let t = T::new();
    let long = format!("/{}passwd", "./".repeat(2045));
    assert_eq!(long.len(), 4097);
    assert_eq!(t.read(AT_FDCWD, long.as_bytes()), Err(ENAMETOOLONG));
    let exact = &long[2..]; // 4095 bytes: fits with the NUL
    assert_eq!(exact.len(), 4095);
    assert_eq!(t.read(AT_FDCWD, exact.as_bytes()).unwrap(), GUEST);
    let max = format!("/{exact}"); // 4096: no room for the NUL
    assert_eq!(t.read(AT_FDCWD, max.as_bytes()), Err(ENAMETOOLONG));
    assert_eq!(
        t.fs.mkdirat(AT_FDCWD, long.as_bytes(), 0o755),
        Err(ENAMETOOLONG)
    );
    assert_eq!(t.fs.chdir(long.as_bytes()), Err(ENAMETOOLONG));
    let name = "n".repeat(256);
    assert_eq!(t.read(AT_FDCWD, name.as_bytes()), Err(ENAMETOOLONG));
    assert_eq!(
        t.fs.mkdirat(AT_FDCWD, name.as_bytes(), 0o755),
        Err(ENAMETOOLONG)
    );
    assert_eq!(
        t.fs.symlinkat(long.as_bytes(), AT_FDCWD, b"/l"),
        Err(ENAMETOOLONG)
    );
    t.check_canaries();
}

/// An embedded NUL ends the path, as the guest's C string would.
#[test]
fn embedded_nul() {
    let t = T::new();
    let out = t.outside();
    let p = format!("passwd\0/../../{out}/passwd");
    assert_eq!(t.read(AT_FDCWD, p.as_bytes()).unwrap(), GUEST);
    let p = format!("/made\0{out}/dir/x");
    t.fs.mkdirat(AT_FDCWD, p.as_bytes(), 0o755).unwrap();
    assert!(t.root.join("made").is_dir());
    assert_eq!(t.read(AT_FDCWD, b"\0/etc/passwd"), Err(ENOENT));
    t.check_canaries();
}

/// The /proc links show guest paths, never host ones.
#[test]
fn proc_links_are_guest_paths() {
    let t = T::new();
    std::fs::create_dir_all(t.root.join("x/y")).unwrap();
    t.fs.chdir(b"/x/y").unwrap();
    let fd = t.open(AT_FDCWD, b"/passwd", O_RDONLY).unwrap();
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/proc/self/cwd").unwrap(),
        b"/x/y"
    );
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"/proc/1/root").unwrap(), b"/");
    let link = format!("/proc/self/fd/{fd}");
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, link.as_bytes()).unwrap(),
        b"/passwd"
    );
    assert_eq!(t.read(AT_FDCWD, link.as_bytes()).unwrap(), GUEST);
    // Removed: Linux's " (deleted)", and the magic link still opens it.
    t.fs.unlinkat(AT_FDCWD, b"/passwd", 0).unwrap();
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, link.as_bytes()).unwrap(),
        b"/passwd (deleted)"
    );
    assert_eq!(t.read(AT_FDCWD, link.as_bytes()).unwrap(), GUEST);
    // fd/ lists the descriptors.
    let d = t
        .open(AT_FDCWD, b"/proc/self/fd", O_DIRECTORY | O_RDONLY)
        .unwrap();
    let recs = t.fs.getdents64(d, 4096).unwrap();
    let mut names = Vec::new();
    let mut off = 0;
    while off < recs.len() {
        let len = u16::from_le_bytes([recs[off + 16], recs[off + 17]]) as usize;
        let name = &recs[off + 19..off + len];
        let end = name.iter().position(|&b| b == 0).unwrap();
        names.push(String::from_utf8(name[..end].to_vec()).unwrap());
        off += len;
    }
    let want: Vec<String> = [".", "..", "0", "1", "2"]
        .iter()
        .map(|s| s.to_string())
        .chain([fd.to_string(), d.to_string()])
        .collect();
    assert_eq!(names, want);
    t.fs.close(d).unwrap();
    // No host path in any standard stream's link.
    let host_root = t.tmp.path().to_str().unwrap().as_bytes().to_vec();
    for n in 0..3 {
        let l = t.fs.fd_path(n).unwrap();
        assert!(
            !l.windows(host_root.len())
                .any(|w| w == host_root.as_slice()),
            "{}",
            String::from_utf8_lossy(&l)
        );
    }
    t.check_canaries();
}
