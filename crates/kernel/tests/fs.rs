//! The file layer (`kernel::fs`) against a temporary host root: every
//! call's success and errno paths, escapes from the root, procfs over a
//! fake source, the `struct stat` layout and page-cache coherence.

use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use kernel::errno::*;
use kernel::fs::attr::UTIME_OMIT;
use kernel::fs::flags::*;
use kernel::fs::stat::offsets;
use kernel::fs::{Fs, HostFs, ProcSource, Stat};
use mm::{Cpu, PAGE_SIZE};

mod common;
use common::{cpu, mem};

struct FakeProc;

impl ProcSource for FakeProc {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        match path {
            "meminfo" => Some(b"MemTotal:       32768 kB\n".to_vec()),
            "self/status" | "1/status" => Some(b"Name:\tinit\nPid:\t1\n".to_vec()),
            "self/maps" => Some(b"00010000-00011000 r-xp 00000000 00:00 0 /bin/hello\n".to_vec()),
            _ => None,
        }
    }
    fn readlink(&self, path: &str) -> Option<Vec<u8>> {
        match path {
            "self/exe" | "1/exe" => Some(b"/bin/hello".to_vec()),
            _ => None,
        }
    }
}

struct T {
    dir: tempfile::TempDir,
    fs: Fs,
    cpu: Cpu<'static>,
}

impl T {
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn open(&self, path: &str, flags: i32) -> Result<i32, Errno> {
        self.fs
            .openat(&self.cpu, AT_FDCWD, path.as_bytes(), flags, 0o644)
    }
    fn stat(&self, path: &str) -> Result<Stat, Errno> {
        self.fs.fstatat(AT_FDCWD, path.as_bytes(), 0)
    }
    fn lstat(&self, path: &str) -> Result<Stat, Errno> {
        self.fs
            .fstatat(AT_FDCWD, path.as_bytes(), AT_SYMLINK_NOFOLLOW)
    }
    fn read_all(&self, fd: i32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut b = [0u8; 7];
        loop {
            let n = self.fs.read(&self.cpu, fd, &mut b).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&b[..n]);
        }
    }
    fn cat(&self, path: &str) -> Result<Vec<u8>, Errno> {
        let fd = self.open(path, O_RDONLY)?;
        let d = self.read_all(fd);
        self.fs.close(fd).unwrap();
        Ok(d)
    }
}

/// A root with:
/// ```text
/// file        "hello world"
/// sub/inner   "inner"
/// sub/deep/
/// etc/passwd  "guest passwd"
/// bin/hello   (mode 755) "\x7fELF..."
/// link_file -> file
/// link_sub -> sub
/// abs_link -> /sub/inner
/// dangling -> nowhere
/// ```
fn setup() -> T {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    std::fs::write(r.join("file"), b"hello world").unwrap();
    std::fs::create_dir_all(r.join("sub/deep")).unwrap();
    std::fs::write(r.join("sub/inner"), b"inner").unwrap();
    std::fs::create_dir(r.join("etc")).unwrap();
    std::fs::write(r.join("etc/passwd"), b"guest passwd").unwrap();
    std::fs::create_dir(r.join("bin")).unwrap();
    std::fs::write(r.join("bin/hello"), b"\x7fELF-not-really").unwrap();
    std::fs::set_permissions(r.join("bin/hello"), std::fs::Permissions::from_mode(0o755)).unwrap();
    symlink("file", r.join("link_file")).unwrap();
    symlink("sub", r.join("link_sub")).unwrap();
    symlink("/sub/inner", r.join("abs_link")).unwrap();
    symlink("nowhere", r.join("dangling")).unwrap();
    let host = Arc::new(HostFs::new(r, mem()).unwrap());
    let fs = Fs::new(host, Arc::new(FakeProc)).unwrap();
    T {
        dir,
        fs,
        cpu: cpu(),
    }
}

#[test]
fn open_read_write_close() {
    let t = setup();
    let fd = t.open("file", O_RDONLY).unwrap();
    assert_eq!(fd, 3, "lowest free descriptor after 0, 1, 2");
    assert_eq!(t.read_all(fd), b"hello world");
    let fd2 = t.open("/new", O_CREAT | O_RDWR).unwrap();
    assert_eq!(fd2, 4);
    assert_eq!(t.fs.write(&t.cpu, fd2, b"abc").unwrap(), 3);
    assert_eq!(t.fs.lseek(fd2, 0, SEEK_SET).unwrap(), 0);
    assert_eq!(t.read_all(fd2), b"abc");
    t.fs.close(fd).unwrap();
    assert_eq!(t.fs.close(fd), Err(EBADF));
    assert_eq!(t.fs.close(-1), Err(EBADF));
    assert_eq!(t.fs.close(100_000), Err(EBADF));
    // 3 is free again: reused first.
    assert_eq!(t.open("file", O_RDONLY).unwrap(), 3);
    assert_eq!(std::fs::read(t.root().join("new")).unwrap(), b"abc");
    assert_eq!(
        std::fs::metadata(t.root().join("new")).unwrap().mode() & 0o777,
        0o644
    );
}

#[test]
fn open_errnos() {
    let t = setup();
    assert_eq!(t.open("missing", O_RDONLY), Err(ENOENT));
    assert_eq!(t.open("", O_RDONLY), Err(ENOENT));
    assert_eq!(t.open("missing/x", O_CREAT | O_RDWR), Err(ENOENT));
    assert_eq!(t.open("file/x", O_RDONLY), Err(ENOTDIR));
    assert_eq!(t.open("file/", O_RDONLY), Err(ENOTDIR));
    assert_eq!(t.open("file", O_RDONLY | O_DIRECTORY), Err(ENOTDIR));
    assert_eq!(t.open("sub", O_WRONLY), Err(EISDIR));
    assert_eq!(t.open("sub", O_RDWR), Err(EISDIR));
    assert_eq!(t.open("sub", O_CREAT | O_RDONLY), Err(EISDIR));
    assert_eq!(t.open("newdir/", O_CREAT | O_RDWR), Err(EISDIR));
    assert_eq!(t.open("file", O_CREAT | O_EXCL | O_RDWR), Err(EEXIST));
    assert_eq!(t.open("dangling", O_CREAT | O_EXCL | O_RDWR), Err(EEXIST));
    assert_eq!(t.open("link_file", O_RDONLY | O_NOFOLLOW), Err(ELOOP));
    assert_eq!(t.open("sub", O_CREAT | O_DIRECTORY | O_RDONLY), Err(EINVAL));
    assert_eq!(t.open("sub", O_TMPFILE | O_RDWR), Err(EOPNOTSUPP));
    assert_eq!(t.open("sub", O_TMPFILE | O_RDONLY), Err(EINVAL));
    let long = "x".repeat(256);
    assert_eq!(t.open(&long, O_RDONLY), Err(ENAMETOOLONG));
    assert_eq!(t.open(&long, O_CREAT | O_RDWR), Err(ENAMETOOLONG));
    let ok255 = "y".repeat(255);
    assert!(t.open(&ok255, O_CREAT | O_RDWR).is_ok());
    let path = "a/".repeat(2048);
    assert_eq!(t.open(&path, O_RDONLY), Err(ENAMETOOLONG));
    let fits = format!("{}file", "./".repeat(2045));
    assert_eq!(fits.len(), 4094);
    assert!(t.open(&fits, O_RDONLY).is_ok());
    // dirfd: bad, not a directory, ignored for absolute paths.
    assert_eq!(t.fs.openat(&t.cpu, 99, b"file", O_RDONLY, 0), Err(EBADF));
    let f = t.open("file", O_RDONLY).unwrap();
    assert_eq!(t.fs.openat(&t.cpu, f, b"x", O_RDONLY, 0), Err(ENOTDIR));
    assert!(t.fs.openat(&t.cpu, 99, b"/file", O_RDONLY, 0).is_ok());
    let d = t.open("sub", O_RDONLY | O_DIRECTORY).unwrap();
    let i = t.fs.openat(&t.cpu, d, b"inner", O_RDONLY, 0).unwrap();
    assert_eq!(t.read_all(i), b"inner");
    // A dangling symlink is created through.
    let c = t.open("dangling", O_CREAT | O_WRONLY).unwrap();
    t.fs.write(&t.cpu, c, b"made").unwrap();
    assert_eq!(std::fs::read(t.root().join("nowhere")).unwrap(), b"made");
}

#[test]
fn emfile_at_1024() {
    let t = setup();
    let mut last = 0;
    for _ in 3..NR_OPEN {
        last = t.open("file", O_RDONLY).unwrap();
    }
    assert_eq!(last, 1023);
    assert_eq!(t.open("file", O_RDONLY), Err(EMFILE));
    // EMFILE comes before the lookup, as Linux takes the fd first.
    assert_eq!(t.open("missing", O_RDONLY), Err(EMFILE));
    assert_eq!(t.fs.dup(3), Err(EMFILE));
    t.fs.close(500).unwrap();
    assert_eq!(t.open("file", O_RDONLY), Ok(500));
}

#[test]
fn access_modes() {
    let t = setup();
    let r = t.open("file", O_RDONLY).unwrap();
    let w = t.open("file", O_WRONLY).unwrap();
    let d = t.open("sub", O_RDONLY).unwrap();
    let p = t.open("file", O_PATH).unwrap();
    let mut b = [0u8; 4];
    assert_eq!(t.fs.write(&t.cpu, r, b"x"), Err(EBADF));
    assert_eq!(t.fs.read(&t.cpu, w, &mut b), Err(EBADF));
    assert_eq!(t.fs.read(&t.cpu, d, &mut b), Err(EISDIR));
    assert_eq!(t.fs.pread(&t.cpu, d, &mut b, 0), Err(EISDIR));
    assert_eq!(t.fs.write(&t.cpu, d, b"x"), Err(EBADF));
    assert_eq!(t.fs.read(&t.cpu, p, &mut b), Err(EBADF));
    assert_eq!(t.fs.write(&t.cpu, p, b"x"), Err(EBADF));
    assert_eq!(t.fs.lseek(p, 0, SEEK_SET), Err(EBADF));
    assert_eq!(t.fs.fstat(p).unwrap().size, 11);
    assert_eq!(t.fs.read(&t.cpu, 42, &mut b), Err(EBADF));
    assert_eq!(t.fs.write(&t.cpu, -3, b"x"), Err(EBADF));
    // O_PATH|O_NOFOLLOW opens the link itself.
    let l = t.open("link_file", O_PATH | O_NOFOLLOW).unwrap();
    assert_eq!(t.fs.fstat(l).unwrap().file_type(), S_IFLNK);
    assert_eq!(t.fs.fcntl(p, F_GETFL, 0).unwrap() as i32 & O_PATH, O_PATH);
    // Status flags as F_GETFL shows them on riscv64 (O_LARGEFILE set).
    assert_eq!(
        t.fs.fcntl(w, F_GETFL, 0).unwrap() as i32,
        O_WRONLY | O_LARGEFILE
    );
}

#[test]
fn pread_pwrite_append() {
    let t = setup();
    let fd = t.open("file", O_RDWR).unwrap();
    let mut b = [0u8; 5];
    assert_eq!(t.fs.pread(&t.cpu, fd, &mut b, 6).unwrap(), 5);
    assert_eq!(&b, b"world");
    assert_eq!(
        t.fs.lseek(fd, 0, SEEK_CUR).unwrap(),
        0,
        "pread keeps the offset"
    );
    assert_eq!(t.fs.pwrite(&t.cpu, fd, b"W", 6).unwrap(), 1);
    assert_eq!(t.fs.lseek(fd, 0, SEEK_CUR).unwrap(), 0);
    assert_eq!(t.fs.pread(&t.cpu, fd, &mut b, -1), Err(EINVAL));
    assert_eq!(t.fs.pwrite(&t.cpu, fd, b"x", -1), Err(EINVAL));
    assert_eq!(t.fs.pread(&t.cpu, fd, &mut b, 100).unwrap(), 0);
    assert_eq!(t.cat("file").unwrap(), b"hello World");
    let a = t.open("file", O_WRONLY | O_APPEND).unwrap();
    t.fs.write(&t.cpu, a, b"!").unwrap();
    assert_eq!(t.fs.lseek(a, 0, SEEK_CUR).unwrap(), 12);
    // pwrite on O_APPEND appends (Linux's behaviour).
    t.fs.pwrite(&t.cpu, a, b"?", 0).unwrap();
    assert_eq!(t.cat("file").unwrap(), b"hello World!?");
    // F_SETFL clears O_APPEND.
    t.fs.fcntl(a, F_SETFL, 0).unwrap();
    t.fs.lseek(a, 0, SEEK_SET).unwrap();
    t.fs.write(&t.cpu, a, b"J").unwrap();
    assert_eq!(t.cat("file").unwrap(), b"Jello World!?");
    // Holes read as zeros.
    t.fs.pwrite(&t.cpu, fd, b"end", 20).unwrap();
    let all = t.cat("file").unwrap();
    assert_eq!(all.len(), 23);
    assert_eq!(&all[13..20], &[0; 7]);
}

#[test]
fn lseek_whence() {
    let t = setup();
    let fd = t.open("file", O_RDONLY).unwrap();
    assert_eq!(t.fs.lseek(fd, -1, SEEK_END).unwrap(), 10);
    let mut b = [0u8; 4];
    assert_eq!(t.fs.read(&t.cpu, fd, &mut b).unwrap(), 1);
    assert_eq!(b[0], b'd');
    assert_eq!(t.fs.lseek(fd, -100, SEEK_CUR), Err(EINVAL));
    assert_eq!(t.fs.lseek(fd, -1, SEEK_SET), Err(EINVAL));
    assert_eq!(t.fs.lseek(fd, 0, 7), Err(EINVAL));
    assert_eq!(t.fs.lseek(fd, 1000, SEEK_SET).unwrap(), 1000);
    assert_eq!(t.fs.read(&t.cpu, fd, &mut b).unwrap(), 0);
    assert_eq!(t.fs.lseek(fd, 3, SEEK_DATA).unwrap(), 3);
    assert_eq!(t.fs.lseek(fd, 3, SEEK_HOLE).unwrap(), 11);
    assert_eq!(t.fs.lseek(fd, 11, SEEK_DATA), Err(ENXIO));
    assert_eq!(t.fs.lseek(fd, i64::MAX, SEEK_SET).unwrap(), i64::MAX as u64);
    assert_eq!(t.fs.lseek(fd, 1, SEEK_CUR), Err(EINVAL));
    assert_eq!(t.fs.lseek(77, 0, SEEK_SET), Err(EBADF));
    let d = t.open("sub", O_RDONLY).unwrap();
    assert_eq!(t.fs.lseek(d, 0, SEEK_SET).unwrap(), 0);
}

#[test]
fn ftruncate_and_fsync() {
    let t = setup();
    let fd = t.open("file", O_RDWR).unwrap();
    t.fs.ftruncate(&t.cpu, fd, 5).unwrap();
    assert_eq!(t.cat("file").unwrap(), b"hello");
    t.fs.ftruncate(&t.cpu, fd, 8).unwrap();
    assert_eq!(t.cat("file").unwrap(), b"hello\0\0\0");
    assert_eq!(t.fs.ftruncate(&t.cpu, fd, -1), Err(EINVAL));
    let r = t.open("file", O_RDONLY).unwrap();
    assert_eq!(t.fs.ftruncate(&t.cpu, r, 0), Err(EINVAL));
    let d = t.open("sub", O_RDONLY).unwrap();
    assert_eq!(t.fs.ftruncate(&t.cpu, d, 0), Err(EINVAL));
    assert_eq!(t.fs.ftruncate(&t.cpu, 99, 0), Err(EBADF));
    t.fs.fsync(&t.cpu, fd).unwrap();
    t.fs.fsync(&t.cpu, d).unwrap();
    assert_eq!(t.fs.fsync(&t.cpu, 99), Err(EBADF));
    let p = t.open("/proc/meminfo", O_RDONLY).unwrap();
    assert_eq!(t.fs.fsync(&t.cpu, p), Err(EINVAL));
    // O_TRUNC.
    let w = t.open("file", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(t.fs.fstat(w).unwrap().size, 0);
}

#[test]
fn stat_matches_host() {
    let t = setup();
    let host = std::fs::metadata(t.root().join("file")).unwrap();
    let st = t.stat("file").unwrap();
    assert_eq!(st.ino, host.ino());
    assert_eq!(st.dev, host.dev());
    assert_eq!(st.mode, host.mode());
    assert_eq!(st.file_type(), S_IFREG);
    assert_eq!(st.size, 11);
    assert_eq!(st.uid, host.uid());
    assert_eq!(st.mtime, host.mtime());
    assert_eq!(st.nlink, 1);
    assert_eq!(t.stat("link_file").unwrap(), st);
    let l = t.lstat("link_file").unwrap();
    assert_eq!(l.file_type(), S_IFLNK);
    assert_eq!(l.size, 4);
    assert_eq!(t.stat("sub").unwrap().file_type(), S_IFDIR);
    assert_eq!(t.stat("sub/").unwrap().file_type(), S_IFDIR);
    assert_eq!(t.stat("link_sub/").unwrap().file_type(), S_IFDIR);
    assert_eq!(t.stat("dangling"), Err(ENOENT));
    assert_eq!(t.lstat("dangling").unwrap().file_type(), S_IFLNK);
    assert_eq!(t.stat("missing"), Err(ENOENT));
    assert_eq!(t.stat(""), Err(ENOENT));
    assert_eq!(t.stat("file/"), Err(ENOTDIR));
    let fd = t.open("file", O_RDONLY).unwrap();
    assert_eq!(t.fs.fstat(fd).unwrap(), st);
    assert_eq!(t.fs.fstatat(fd, b"", AT_EMPTY_PATH).unwrap(), st);
    assert_eq!(t.fs.fstatat(fd, b"", 0), Err(ENOENT));
    assert_eq!(t.fs.fstatat(AT_FDCWD, b"file", 0x4), Err(EINVAL));
    let root = t.fs.fstatat(AT_FDCWD, b"", AT_EMPTY_PATH).unwrap();
    assert_eq!(root.ino, std::fs::metadata(t.root()).unwrap().ino());
    assert_eq!(t.fs.fstat(55), Err(EBADF));
    // The standard streams are the host's.
    assert!(t.fs.fstat(1).is_ok());
}

#[test]
fn stat_byte_layout() {
    let st = Stat {
        dev: 0x0102,
        ino: 0x1122_3344_5566_7788,
        mode: 0o100644,
        nlink: 3,
        uid: 1000,
        gid: 100,
        rdev: 0x0503,
        size: 0x1234_5678_9abc,
        blksize: 4096,
        blocks: 24,
        atime: 1_700_000_001,
        atime_nsec: 11,
        mtime: 1_700_000_002,
        mtime_nsec: 22,
        ctime: 1_700_000_003,
        ctime_nsec: 33,
    };
    let b = st.to_bytes();
    assert_eq!(b.len(), 128);
    let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
    assert_eq!(offsets::DEV, 0);
    assert_eq!(u64_at(0), 0x0102);
    assert_eq!(u64_at(8), 0x1122_3344_5566_7788);
    assert_eq!(u32_at(16), 0o100644);
    assert_eq!(u32_at(20), 3);
    assert_eq!(u32_at(24), 1000);
    assert_eq!(u32_at(28), 100);
    assert_eq!(u64_at(32), 0x0503);
    assert_eq!(u64_at(40), 0, "__pad1");
    assert_eq!(u64_at(48), 0x1234_5678_9abc, "st_size at 48");
    assert_eq!(u32_at(56), 4096, "st_blksize at 56");
    assert_eq!(u32_at(60), 0, "__pad2");
    assert_eq!(u64_at(64), 24, "st_blocks at 64");
    assert_eq!(u64_at(72), 1_700_000_001);
    assert_eq!(u64_at(80), 11);
    assert_eq!(u64_at(88), 1_700_000_002);
    assert_eq!(u64_at(96), 22);
    assert_eq!(u64_at(104), 1_700_000_003);
    assert_eq!(u64_at(112), 33);
    assert_eq!(u64_at(120), 0, "__unused4/5");
    assert_eq!(
        (
            offsets::SIZE,
            offsets::MODE,
            offsets::BLKSIZE,
            offsets::BLOCKS,
            offsets::MTIME
        ),
        (48, 16, 56, 64, 88)
    );
}

#[test]
fn readlink() {
    let t = setup();
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"link_file").unwrap(), b"file");
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"abs_link").unwrap(),
        b"/sub/inner"
    );
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"dangling").unwrap(), b"nowhere");
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"file"), Err(EINVAL));
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"sub"), Err(EINVAL));
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"missing"), Err(ENOENT));
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b""), Err(ENOENT));
    // A link in the middle is followed; the last one is read.
    std::os::unix::fs::symlink("inner", t.root().join("sub/l2")).unwrap();
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"link_sub/l2").unwrap(), b"inner");
    let d = t.open("sub", O_RDONLY).unwrap();
    assert_eq!(t.fs.readlinkat(d, b"l2").unwrap(), b"inner");
}

#[test]
fn cwd() {
    let t = setup();
    assert_eq!(t.fs.getcwd().unwrap(), b"/");
    t.fs.chdir(b"sub").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/sub");
    assert_eq!(t.cat("inner").unwrap(), b"inner");
    t.fs.chdir(b"deep/").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/sub/deep");
    t.fs.chdir(b"../..").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/");
    t.fs.chdir(b"..").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/");
    t.fs.chdir(b"link_sub").unwrap();
    assert_eq!(
        t.fs.getcwd().unwrap(),
        b"/sub",
        "the cwd is the resolved path"
    );
    assert_eq!(t.fs.chdir(b"/file"), Err(ENOTDIR));
    assert_eq!(t.fs.chdir(b"/missing"), Err(ENOENT));
    assert_eq!(t.fs.chdir(b""), Err(ENOENT));
    assert_eq!(t.fs.getcwd().unwrap(), b"/sub");
    let d = t.open("/etc", O_RDONLY | O_DIRECTORY).unwrap();
    t.fs.fchdir(d).unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/etc");
    let f = t.open("passwd", O_RDONLY).unwrap();
    assert_eq!(t.fs.fchdir(f), Err(ENOTDIR));
    t.fs.chdir(b"/proc/self").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/proc/self");
    assert_eq!(t.cat("status").unwrap(), b"Name:\tinit\nPid:\t1\n");
    assert_eq!(t.cat("../meminfo").unwrap(), b"MemTotal:       32768 kB\n");
    assert_eq!(t.cat("../../file").unwrap(), b"hello world");
}

#[test]
fn access() {
    let t = setup();
    let acc = |p: &str, m: i32, f: i32| t.fs.faccessat(AT_FDCWD, p.as_bytes(), m, f);
    assert_eq!(acc("file", F_OK, 0), Ok(()));
    assert_eq!(acc("file", R_OK | W_OK, 0), Ok(()));
    assert_eq!(acc("bin/hello", X_OK, 0), Ok(()));
    assert_eq!(acc("file", X_OK, 0), Err(EACCES));
    assert_eq!(acc("missing", F_OK, 0), Err(ENOENT));
    assert_eq!(acc("dangling", F_OK, 0), Err(ENOENT));
    assert_eq!(acc("dangling", F_OK, AT_SYMLINK_NOFOLLOW), Ok(()));
    assert_eq!(acc("file", 8, 0), Err(EINVAL));
    assert_eq!(acc("file", F_OK, 0x4), Err(EINVAL));
    assert_eq!(acc("file/", F_OK, 0), Err(ENOTDIR));
    assert_eq!(acc("/proc/meminfo", R_OK, 0), Ok(()));
    assert_eq!(acc("/proc/meminfo", W_OK, 0), Err(EACCES));
    assert_eq!(acc("/proc/meminfo", X_OK, 0), Err(EACCES));
    assert_eq!(acc("/proc/self", X_OK, 0), Ok(()));
    assert_eq!(acc("/proc/nothing", F_OK, 0), Err(ENOENT));
}

#[test]
fn mkdir_unlink_rmdir() {
    let t = setup();
    let mk = |p: &str| t.fs.mkdirat(AT_FDCWD, p.as_bytes(), 0o755);
    let rm = |p: &str, f: i32| t.fs.unlinkat(AT_FDCWD, p.as_bytes(), f);
    mk("d").unwrap();
    assert!(t.root().join("d").is_dir());
    assert_eq!(
        std::fs::metadata(t.root().join("d")).unwrap().mode() & 0o777,
        0o755
    );
    mk("d/e/").unwrap();
    assert_eq!(mk("d"), Err(EEXIST));
    assert_eq!(mk("file"), Err(EEXIST));
    assert_eq!(mk("dangling"), Err(EEXIST));
    assert_eq!(mk("/"), Err(EEXIST));
    assert_eq!(mk("."), Err(EEXIST));
    assert_eq!(mk("missing/x"), Err(ENOENT));
    assert_eq!(mk("file/x"), Err(ENOTDIR));
    assert_eq!(mk(""), Err(ENOENT));
    assert_eq!(mk(&"n".repeat(256)), Err(ENAMETOOLONG));
    assert_eq!(rm("d", AT_REMOVEDIR), Err(ENOTEMPTY));
    assert_eq!(rm("d", 0), Err(EISDIR));
    assert_eq!(rm("file", AT_REMOVEDIR), Err(ENOTDIR));
    assert_eq!(rm("d/e/.", AT_REMOVEDIR), Err(EINVAL));
    assert_eq!(rm("d/e/..", AT_REMOVEDIR), Err(ENOTEMPTY));
    assert_eq!(rm("/", AT_REMOVEDIR), Err(EBUSY));
    assert_eq!(rm(".", 0), Err(EISDIR));
    assert_eq!(rm("missing", 0), Err(ENOENT));
    assert_eq!(rm("missing", AT_REMOVEDIR), Err(ENOENT));
    assert_eq!(rm("file", 0x1), Err(EINVAL));
    assert_eq!(rm("file/", 0), Err(ENOTDIR));
    rm("d/e", AT_REMOVEDIR).unwrap();
    rm("d/", AT_REMOVEDIR).unwrap();
    assert!(!t.root().join("d").exists());
    // unlink removes the link, not its target.
    rm("link_file", 0).unwrap();
    assert!(t.root().join("file").exists());
    assert!(t.root().join("link_file").symlink_metadata().is_err());
    rm("link_sub", 0).unwrap();
    assert!(t.root().join("sub").is_dir());
    // An open file stays readable after unlink.
    let fd = t.open("file", O_RDONLY).unwrap();
    rm("file", 0).unwrap();
    assert_eq!(t.stat("file"), Err(ENOENT));
    assert_eq!(t.read_all(fd), b"hello world");
    // dirfd-relative.
    let d = t.open("sub", O_RDONLY).unwrap();
    t.fs.mkdirat(d, b"x", 0o700).unwrap();
    assert!(t.root().join("sub/x").is_dir());
    t.fs.unlinkat(d, b"x", AT_REMOVEDIR).unwrap();
    assert_eq!(t.fs.mkdirat(77, b"x", 0o700), Err(EBADF));
    // umask.
    assert_eq!(t.fs.umask(0o077), 0o022);
    mk("private").unwrap();
    assert_eq!(
        std::fs::metadata(t.root().join("private")).unwrap().mode() & 0o777,
        0o700
    );
}

/// Every way out of the root stays inside it.
#[test]
fn escapes_stay_in_root() {
    let t = setup();
    let r = t.root();
    let guest_passwd = b"guest passwd".to_vec();
    for p in [
        "../etc/passwd",
        "../../etc/passwd",
        "/../../../../etc/passwd",
        "/etc/../../etc/passwd",
        "sub/../../etc/passwd",
        "sub/deep/../../../../../../etc/passwd",
    ] {
        assert_eq!(t.cat(p).unwrap(), guest_passwd, "{p}");
    }
    // Symlinks whose targets point out of the root.
    symlink("/", r.join("to_root")).unwrap();
    symlink("/etc/passwd", r.join("to_passwd")).unwrap();
    symlink("../../../../../../etc/passwd", r.join("sub/up_passwd")).unwrap();
    symlink("..", r.join("dotdot")).unwrap();
    symlink("../..", r.join("sub/deep/up2")).unwrap();
    symlink(r.parent().unwrap(), r.join("host_parent")).unwrap();
    assert_eq!(t.cat("to_passwd").unwrap(), guest_passwd);
    assert_eq!(t.cat("to_root/etc/passwd").unwrap(), guest_passwd);
    assert_eq!(
        t.cat("to_root/../to_root/../etc/passwd").unwrap(),
        guest_passwd
    );
    assert_eq!(t.cat("sub/up_passwd").unwrap(), guest_passwd);
    assert_eq!(t.cat("dotdot/dotdot/etc/passwd").unwrap(), guest_passwd);
    assert_eq!(
        t.cat("sub/deep/up2/sub/deep/up2/etc/passwd").unwrap(),
        guest_passwd
    );
    // An absolute host path is a guest path: it does not exist in the root.
    assert_eq!(t.stat("host_parent"), Err(ENOENT));
    let root_ino = std::fs::metadata(r).unwrap().ino();
    for p in [
        "/..",
        "..",
        "../..",
        "to_root",
        "to_root/..",
        "dotdot",
        "sub/deep/up2/sub/deep/up2/..",
    ] {
        assert_eq!(t.stat(p).unwrap().ino, root_ino, "{p}");
    }
    // chdir cannot leave either.
    t.fs.chdir(b"to_root/../..").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/");
    assert_eq!(t.cat("etc/passwd").unwrap(), guest_passwd);
    // Creating through an escaping link creates inside.
    symlink("/../../new_outside", r.join("mk_out")).unwrap();
    let fd = t.open("mk_out", O_CREAT | O_WRONLY).unwrap();
    t.fs.close(fd).unwrap();
    assert!(r.join("new_outside").exists());
    assert!(!r.parent().unwrap().join("new_outside").exists());
    t.fs.mkdirat(AT_FDCWD, b"../../made_dir", 0o755).unwrap();
    assert!(r.join("made_dir").is_dir());
    // Loops.
    symlink("loop_b", r.join("loop_a")).unwrap();
    symlink("loop_a", r.join("loop_b")).unwrap();
    symlink("self_loop", r.join("self_loop")).unwrap();
    assert_eq!(t.cat("loop_a"), Err(ELOOP));
    assert_eq!(t.cat("self_loop"), Err(ELOOP));
    assert_eq!(t.stat("loop_a/x"), Err(ELOOP));
    assert_eq!(t.lstat("loop_a").unwrap().file_type(), S_IFLNK);
    assert_eq!(t.fs.chdir(b"self_loop"), Err(ELOOP));
    // 40 links are followed, 41 are not.
    symlink("file", r.join("c0")).unwrap();
    for i in 1..=40 {
        symlink(format!("c{}", i - 1), r.join(format!("c{i}"))).unwrap();
    }
    assert_eq!(t.cat("c39").unwrap(), b"hello world", "40 links");
    assert_eq!(t.cat("c40"), Err(ELOOP), "41 links");
    // Empty link target.
    assert!(symlink("", r.join("empty_link")).is_err() || t.cat("empty_link") == Err(ENOENT));
}

/// Unit-level check over many combinations: no host path outside the root.
#[test]
fn escape_combinations() {
    let t = setup();
    let r = t.root();
    symlink("/..", r.join("up_abs")).unwrap();
    symlink("../..", r.join("sub/up_rel")).unwrap();
    let parts = ["..", "sub", "up_abs", "sub/up_rel", ".", "link_sub", "etc"];
    let mut n = 0;
    for a in parts {
        for b in parts {
            for c in parts {
                let p = format!("{a}/{b}/{c}/etc/passwd");
                match t.cat(&p) {
                    Ok(d) => assert_eq!(d, b"guest passwd", "{p}"),
                    Err(e) => assert!([ENOENT, ENOTDIR].contains(&e), "{p}: {e}"),
                }
                n += 1;
            }
        }
    }
    assert_eq!(n, 343);
}

#[test]
fn procfs() {
    let t = setup();
    let fd = t.open("/proc/meminfo", O_RDONLY).unwrap();
    assert_eq!(t.read_all(fd), b"MemTotal:       32768 kB\n");
    let st = t.fs.fstat(fd).unwrap();
    assert_eq!(st.file_type(), S_IFREG);
    assert_eq!(st.size, 0, "procfs files have size 0");
    assert_eq!(t.fs.lseek(fd, 3, SEEK_SET).unwrap(), 3);
    let mut b = [0u8; 5];
    assert_eq!(t.fs.read(&t.cpu, fd, &mut b).unwrap(), 5);
    assert_eq!(&b, b"Total");
    assert_eq!(t.fs.pread(&t.cpu, fd, &mut b, 0).unwrap(), 5);
    assert_eq!(&b, b"MemTo");
    assert_eq!(t.fs.lseek(fd, 0, SEEK_END), Err(EINVAL));
    assert_eq!(t.fs.write(&t.cpu, fd, b"x"), Err(EBADF));
    assert_eq!(t.fs.file_for_mmap(fd).err(), Some(ENODEV));
    assert_eq!(t.open("/proc/meminfo", O_WRONLY), Err(EACCES));
    assert_eq!(t.open("/proc/meminfo", O_RDWR), Err(EACCES));
    assert_eq!(t.open("/proc/meminfo", O_RDONLY | O_TRUNC), Err(EACCES));
    assert_eq!(
        t.open("/proc/meminfo", O_RDONLY | O_DIRECTORY),
        Err(ENOTDIR)
    );
    assert_eq!(t.open("/proc/meminfo/x", O_RDONLY), Err(ENOTDIR));
    assert_eq!(t.open("/proc/nothing", O_RDONLY), Err(ENOENT));
    assert_eq!(t.open("/proc/new", O_CREAT | O_RDWR), Err(EACCES));
    assert_eq!(
        t.open("/proc/meminfo", O_CREAT | O_EXCL | O_RDWR),
        Err(EEXIST)
    );
    assert_eq!(t.cat("/proc/self/maps").unwrap().len(), 51);
    assert_eq!(
        t.cat("/proc/self/../meminfo").unwrap(),
        t.cat("/proc/meminfo").unwrap()
    );
    assert_eq!(t.cat("/proc/../file").unwrap(), b"hello world");
    assert_eq!(t.cat("/proc/1/status").unwrap(), b"Name:\tinit\nPid:\t1\n");
    for d in ["/proc", "/proc/", "/proc/self", "/proc/1", "/proc/self/."] {
        let st = t.stat(d).unwrap();
        assert_eq!(st.file_type(), S_IFDIR, "{d}");
    }
    assert_eq!(t.stat("/proc/2"), Err(ENOENT));
    let dfd = t.open("/proc", O_RDONLY | O_DIRECTORY).unwrap();
    assert_eq!(t.fs.read(&t.cpu, dfd, &mut b), Err(EISDIR));
    assert_eq!(t.open("/proc/self", O_WRONLY), Err(EISDIR));
    let m = t.fs.openat(&t.cpu, dfd, b"meminfo", O_RDONLY, 0).unwrap();
    assert_eq!(t.read_all(m).len(), 25);
    // Symlinks: readlink, lstat, open follows into the hostfs.
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/proc/self/exe").unwrap(),
        b"/bin/hello"
    );
    assert_eq!(t.fs.readlinkat(AT_FDCWD, b"/proc/meminfo"), Err(EINVAL));
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/proc/self/nothing"),
        Err(ENOENT)
    );
    assert_eq!(t.lstat("/proc/self/exe").unwrap().file_type(), S_IFLNK);
    assert_eq!(t.stat("/proc/self/exe").unwrap().size, 15);
    assert_eq!(t.cat("/proc/self/exe").unwrap(), b"\x7fELF-not-really");
    assert_eq!(t.open("/proc/self/exe", O_RDONLY | O_NOFOLLOW), Err(ELOOP));
    // Nothing is created or removed under /proc.
    assert_eq!(t.fs.mkdirat(AT_FDCWD, b"/proc/x", 0o755), Err(EACCES));
    assert_eq!(t.fs.mkdirat(AT_FDCWD, b"/proc/self", 0o755), Err(EEXIST));
    assert_eq!(t.fs.mkdirat(AT_FDCWD, b"/proc", 0o755), Err(EEXIST));
    assert_eq!(t.fs.unlinkat(AT_FDCWD, b"/proc/meminfo", 0), Err(EACCES));
    assert_eq!(t.fs.unlinkat(AT_FDCWD, b"/proc/nothing", 0), Err(ENOENT));
    assert_eq!(t.fs.unlinkat(AT_FDCWD, b"/proc/self", 0), Err(EISDIR));
    assert_eq!(t.fs.unlinkat(AT_FDCWD, b"/proc", AT_REMOVEDIR), Err(EBUSY));
    assert_eq!(
        t.fs.unlinkat(AT_FDCWD, b"/proc/meminfo", AT_REMOVEDIR),
        Err(ENOTDIR)
    );
    // A host directory named proc in the root is hidden by procfs.
    std::fs::create_dir(t.root().join("proc")).unwrap();
    std::fs::write(t.root().join("proc/meminfo"), b"host").unwrap();
    assert_eq!(
        t.cat("/proc/meminfo").unwrap(),
        b"MemTotal:       32768 kB\n"
    );
    // A host symlink into /proc.
    symlink("/proc/self/status", t.root().join("st")).unwrap();
    assert_eq!(t.cat("st").unwrap(), b"Name:\tinit\nPid:\t1\n");
}

#[test]
fn dup_fcntl_fork_exec() {
    let t = setup();
    let fd = t.open("file", O_RDONLY | O_CLOEXEC).unwrap();
    assert_eq!(t.fs.fcntl(fd, F_GETFD, 0).unwrap(), FD_CLOEXEC as i64);
    let d = t.fs.dup(fd).unwrap();
    assert_eq!(d, fd + 1);
    assert_eq!(t.fs.fcntl(d, F_GETFD, 0).unwrap(), 0);
    let mut b = [0u8; 6];
    t.fs.read(&t.cpu, fd, &mut b).unwrap();
    assert_eq!(
        t.fs.lseek(d, 0, SEEK_CUR).unwrap(),
        6,
        "dups share the offset"
    );
    assert_eq!(t.fs.dup3(fd, 10, O_CLOEXEC).unwrap(), 10);
    assert_eq!(t.fs.fcntl(10, F_GETFD, 0).unwrap(), FD_CLOEXEC as i64);
    assert_eq!(t.fs.dup3(fd, fd, 0), Err(EINVAL));
    assert_eq!(t.fs.dup3(fd, 11, O_APPEND), Err(EINVAL));
    assert_eq!(t.fs.dup3(99, 11, 0), Err(EBADF));
    assert_eq!(t.fs.dup3(fd, 1024, 0), Err(EBADF));
    assert_eq!(t.fs.dup3(fd, -1, 0), Err(EBADF));
    assert_eq!(t.fs.fcntl(fd, F_DUPFD, 20).unwrap(), 20);
    assert_eq!(t.fs.fcntl(fd, F_DUPFD_CLOEXEC, 20).unwrap(), 21);
    assert_eq!(t.fs.fcntl(fd, F_DUPFD, 1024), Err(EINVAL));
    assert_eq!(t.fs.fcntl(fd, 9999, 0), Err(EINVAL));
    assert_eq!(t.fs.fcntl(99, F_GETFD, 0), Err(EBADF));
    t.fs.fcntl(d, F_SETFD, FD_CLOEXEC as u64).unwrap();
    struct ChildProc;
    impl ProcSource for ChildProc {
        fn read(&self, path: &str) -> Option<Vec<u8>> {
            (path == "self/status").then(|| b"Name:\tchild\n".to_vec())
        }
        fn readlink(&self, _: &str) -> Option<Vec<u8>> {
            None
        }
    }
    let child = t.fs.fork(Arc::new(ChildProc)).unwrap();
    assert_eq!(child.nr_open(), t.fs.nr_open());
    child.lseek(fd, 1, SEEK_SET).unwrap();
    assert_eq!(
        t.fs.lseek(fd, 0, SEEK_CUR).unwrap(),
        1,
        "fork shares descriptions"
    );
    child.close(fd).unwrap();
    assert!(t.fs.fstat(fd).is_ok(), "but not the table");
    child.chdir(b"sub").unwrap();
    let st = child
        .openat(&t.cpu, AT_FDCWD, b"/proc/self/status", O_RDONLY, 0)
        .unwrap();
    let mut sb = [0u8; 64];
    let n = child.read(&t.cpu, st, &mut sb).unwrap();
    assert_eq!(&sb[..n], b"Name:\tchild\n", "the child's own /proc/self");
    assert_eq!(t.fs.getcwd().unwrap(), b"/");
    let before = t.fs.nr_open();
    t.fs.close_on_exec();
    // fd, d, 10 and 21 were close-on-exec.
    assert_eq!(t.fs.nr_open(), before - 4);
    assert_eq!(t.fs.fstat(10), Err(EBADF));
    assert!(t.fs.fstat(20).is_ok());
}

#[test]
fn stdio() {
    let t = setup();
    assert_eq!(t.fs.write(&t.cpu, 2, b"").unwrap(), 0);
    assert_eq!(
        t.fs.write(&t.cpu, 0, b"x"),
        Err(EBADF),
        "stdin is read-only"
    );
    let mut b = [0u8; 1];
    assert_eq!(
        t.fs.read(&t.cpu, 1, &mut b),
        Err(EBADF),
        "stdout is write-only"
    );
    assert_eq!(
        t.fs.fcntl(1, F_GETFL, 0).unwrap() as i32 & O_ACCMODE,
        O_WRONLY
    );
    // TCGETS: ENOTTY unless the host stream is a terminal.
    let f = t.open("file", O_RDONLY).unwrap();
    assert_eq!(t.fs.ioctl_tcgets(f).err(), Some(ENOTTY));
    let d = t.open("sub", O_RDONLY).unwrap();
    assert_eq!(t.fs.ioctl_tcgets(d).err(), Some(ENOTTY));
    let p = t.open("/proc/meminfo", O_RDONLY).unwrap();
    assert_eq!(t.fs.ioctl_tcgets(p).err(), Some(ENOTTY));
    assert_eq!(t.fs.ioctl_tcgets(99).err(), Some(EBADF));
    // SAFETY: isatty only looks at the descriptor number.
    let host_tty = unsafe { libc::isatty(2) } == 1;
    assert_eq!(t.fs.ioctl_tcgets(2).is_ok(), host_tty);
    assert_eq!(kernel::fs::TERMIOS_SIZE, 36);
}

fn page_of(space: &mm::filemap::AddressSpace<'_>, cpu: &Cpu<'_>, index: usize) -> Vec<u8> {
    let p = space.read_cache_page(cpu, index).unwrap();
    let a = mem().page_address(p).as_ptr();
    // SAFETY: a cached page, held by our reference.
    let v = unsafe { std::slice::from_raw_parts(a, PAGE_SIZE) }.to_vec();
    cpu.put_page(p).unwrap();
    v
}

fn poke_page(
    space: &mm::filemap::AddressSpace<'_>,
    cpu: &Cpu<'_>,
    index: usize,
    off: usize,
    data: &[u8],
) {
    let p = space.read_cache_page(cpu, index).unwrap();
    let a = mem().page_address(p).as_ptr();
    // SAFETY: a cached page held by our reference; off + len <= PAGE_SIZE.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), a.add(off), data.len()) };
    mm::filemap::set_page_dirty(mem(), p);
    cpu.put_page(p).unwrap();
}

#[test]
fn page_cache_coherence() {
    let t = setup();
    let content: Vec<u8> = (0..3 * PAGE_SIZE + 100).map(|i| (i % 251) as u8).collect();
    std::fs::write(t.root().join("big"), &content).unwrap();
    let fd = t.open("big", O_RDWR).unwrap();
    let mf = t.fs.file_for_mmap(fd).unwrap();
    assert_eq!(
        mf.f_mode,
        mm::filemap::FMODE_READ | mm::filemap::FMODE_WRITE
    );
    let space = mf.mapping;
    assert_eq!(space.size(), content.len() as u64);
    // The same inode has the same page cache, through any descriptor.
    let ro = t.open("big", O_RDONLY).unwrap();
    let mf2 = t.fs.file_for_mmap(ro).unwrap();
    assert!(std::ptr::eq(mf2.mapping, space));
    assert_eq!(mf2.f_mode, mm::filemap::FMODE_READ);
    assert_eq!(
        &page_of(space, &t.cpu, 1)[..],
        &content[PAGE_SIZE..2 * PAGE_SIZE]
    );
    assert_eq!(space.nrpages(), 1);
    // write() across the cached page 1 and the uncached page 2.
    let at = 2 * PAGE_SIZE - 3;
    t.fs.pwrite(&t.cpu, fd, b"ABCDEF", at as i64).unwrap();
    let p1 = page_of(space, &t.cpu, 1);
    assert_eq!(&p1[PAGE_SIZE - 3..], b"ABC");
    assert_eq!(space.nrpages(), 1, "write() does not read pages in");
    assert_eq!(&page_of(space, &t.cpu, 2)[..3], b"DEF");
    // A store through a shared mapping (a dirty cached page) is seen by read().
    poke_page(space, &t.cpu, 0, 10, b"mmap!");
    let mut b = [0u8; 5];
    t.fs.pread(&t.cpu, ro, &mut b, 10).unwrap();
    assert_eq!(&b, b"mmap!");
    let mut big = vec![0u8; 20];
    t.fs.lseek(ro, 0, SEEK_SET).unwrap();
    t.fs.read(&t.cpu, ro, &mut big).unwrap();
    assert_eq!(&big[10..15], b"mmap!");
    assert_eq!(&big[..10], &content[..10]);
    // Not on the host until fsync writes it back.
    assert_eq!(
        &std::fs::read(t.root().join("big")).unwrap()[10..15],
        &content[10..15]
    );
    t.fs.fsync(&t.cpu, fd).unwrap();
    assert_eq!(
        &std::fs::read(t.root().join("big")).unwrap()[10..15],
        b"mmap!"
    );
    // write() over a dirty page, then writeback: the write survives.
    poke_page(space, &t.cpu, 0, 100, b"dirty");
    t.fs.pwrite(&t.cpu, fd, b"WRITE", 100).unwrap();
    t.fs.fsync(&t.cpu, fd).unwrap();
    assert_eq!(
        &std::fs::read(t.root().join("big")).unwrap()[100..105],
        b"WRITE"
    );
    // ftruncate drops the pages past the end and zeroes the tail.
    t.fs.ftruncate(&t.cpu, fd, PAGE_SIZE as i64 + 10).unwrap();
    assert_eq!(space.size(), PAGE_SIZE as u64 + 10);
    assert_eq!(space.nrpages(), 2);
    let p1 = page_of(space, &t.cpu, 1);
    assert_eq!(&p1[..10], &content[PAGE_SIZE..PAGE_SIZE + 10]);
    assert!(p1[10..].iter().all(|&x| x == 0));
    // Extending again shows zeros, not the old bytes.
    t.fs.ftruncate(&t.cpu, fd, 2 * PAGE_SIZE as i64).unwrap();
    let mut tail = vec![1u8; 16];
    t.fs.pread(&t.cpu, fd, &mut tail, PAGE_SIZE as i64 + 10)
        .unwrap();
    assert!(tail.iter().all(|&x| x == 0));
    // O_TRUNC empties the cache.
    let tr = t.open("big", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(space.size(), 0);
    assert_eq!(space.nrpages(), 0);
    t.fs.write(&t.cpu, tr, b"fresh").unwrap();
    assert_eq!(&page_of(space, &t.cpu, 0)[..6], b"fresh\0");
    // A read-only first mapping is upgraded when a writer maps the file.
    let w2 = t.open("big", O_RDWR).unwrap();
    let mf3 = t.fs.file_for_mmap(w2).unwrap();
    assert!(std::ptr::eq(mf3.mapping, space));
}

#[test]
fn writeback_after_read_only_mapping() {
    let t = setup();
    std::fs::write(t.root().join("f2"), vec![b'a'; 100]).unwrap();
    let ro = t.open("f2", O_RDONLY).unwrap();
    let space = t.fs.file_for_mmap(ro).unwrap().mapping;
    let rw = t.open("f2", O_RDWR).unwrap();
    t.fs.file_for_mmap(rw).unwrap();
    poke_page(space, &t.cpu, 0, 0, b"zz");
    t.hostfs_sync();
    assert_eq!(&std::fs::read(t.root().join("f2")).unwrap()[..3], b"zza");
}

impl T {
    fn hostfs_sync(&self) {
        self.fs.hostfs().sync(&self.cpu).unwrap();
    }
}

#[test]
fn mmap_errnos() {
    let t = setup();
    assert_eq!(t.fs.file_for_mmap(99).err(), Some(EBADF));
    let d = t.open("sub", O_RDONLY).unwrap();
    assert_eq!(t.fs.file_for_mmap(d).err(), Some(ENODEV));
    let p = t.open("file", O_PATH).unwrap();
    assert_eq!(t.fs.file_for_mmap(p).err(), Some(EBADF));
    assert_eq!(t.fs.file_for_mmap(0).err(), Some(ENODEV));
    let w = t.open("file", O_WRONLY).unwrap();
    assert_eq!(t.fs.file_for_mmap(w).err(), Some(EACCES));
    // A later reader still gets a readable page cache.
    let r = t.open("file", O_RDONLY).unwrap();
    let space = t.fs.file_for_mmap(r).unwrap().mapping;
    assert_eq!(&page_of(space, &t.cpu, 0)[..5], b"hello");
}

/// An executable of 8 GiB (sparse): exec reads the header it needs
/// through the page cache, never the file (a guest could otherwise size a
/// host allocation by the files it executes).
#[test]
fn exec_reads_only_the_headers() {
    let t = setup();
    let path = t.root().join("bin/huge");
    let f = std::fs::File::create(&path).unwrap();
    // An ELF header whose program-header table lies at 6 GiB.
    let mut eh = [0u8; 64];
    eh[..8].copy_from_slice(b"\x7fELF\x02\x01\x01\x00");
    eh[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    eh[18..20].copy_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    eh[20..24].copy_from_slice(&1u32.to_le_bytes());
    eh[32..40].copy_from_slice(&(6u64 << 30).to_le_bytes()); // e_phoff
    eh[54..56].copy_from_slice(&56u16.to_le_bytes());
    eh[56..58].copy_from_slice(&1u16.to_le_bytes());
    use std::os::unix::fs::FileExt;
    f.write_all_at(&eh, 0).unwrap();
    f.set_len(8 << 30).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = t.fs.open_exec(b"/bin/huge").unwrap();
    assert_eq!(e.size, 8 << 30);
    // The table (a zero p_type: no PT_LOAD) is read from 6 GiB.
    let r = kernel::exec::parse_file(&e.elf(&t.cpu));
    assert_eq!(r.err(), Some(kernel::exec::ExecError::NoLoad));
    // Two pages were read: the header's and the table's.
    assert_eq!(e.mmap.mapping.nrpages(), 2);
}

#[test]
fn exec_open() {
    let t = setup();
    let e = t.fs.open_exec(b"/proc/self/exe").unwrap();
    // The size, and the bytes through the page cache.
    assert_eq!(e.size, 15);
    assert_eq!(e.head(&t.cpu).unwrap(), b"\x7fELF-not-really");
    let mut mid = [0u8; 4];
    e.mmap.read_at(&t.cpu, 5, &mut mid).unwrap();
    assert_eq!(&mid, b"not-");
    assert_eq!(e.path, b"/bin/hello");
    assert_eq!(e.mmap.f_mode, mm::filemap::FMODE_READ);
    assert_eq!(e.mmap.mapping.size(), 15);
    let e2 =
        t.fs.hostfs()
            .open_exec(&t.root().join("bin/hello"))
            .unwrap();
    assert!(std::ptr::eq(e2.0.mapping, e.mmap.mapping));
    // /proc/PID/maps names the file by its guest path, host dev and ino.
    let id = e.mmap.mapping.backing().identity().unwrap();
    let host = std::fs::metadata(t.root().join("bin/hello")).unwrap();
    assert_eq!(id.path, "/bin/hello");
    assert_eq!(id.ino, host.ino());
    assert_eq!(id.dev_major, libc::major(host.dev()));
    assert_eq!(id.dev_minor, libc::minor(host.dev()));
    // Opened by a host path in the root: the same guest name.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("prog"), b"x").unwrap();
    std::fs::set_permissions(
        other.path().join("prog"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let (mf, _) = t.fs.hostfs().open_exec(&other.path().join("prog")).unwrap();
    let id = mf.mapping.backing().identity().unwrap();
    // Outside the root: never its host path (this used to show it).
    assert_eq!(id.path, "(unreachable)", "outside the root: no host path");
    // Not a regular file: EACCES before anything is read or waited for.
    let fifo = other.path().join("fifo");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o755) }, 0);
    assert_eq!(t.fs.hostfs().open_exec(&fifo).err(), Some(EACCES));
    assert_eq!(
        t.fs.hostfs().open_exec(Path::new("/dev/zero")).err(),
        Some(EACCES)
    );
    assert_eq!(t.fs.hostfs().open_exec(other.path()).err(), Some(EACCES));
    let guest_fifo = t.root().join("bin/fifo");
    let c = std::ffi::CString::new(guest_fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o755) }, 0);
    assert_eq!(t.fs.open_exec(b"/bin/fifo").err(), Some(EACCES));
    assert_eq!(t.fs.open_exec(b"/file").err(), Some(EACCES));
    assert_eq!(t.fs.open_exec(b"/sub").err(), Some(EACCES));
    assert_eq!(t.fs.open_exec(b"/proc/meminfo").err(), Some(EACCES));
    assert_eq!(t.fs.open_exec(b"/missing").err(), Some(ENOENT));
    assert_eq!(t.fs.open_exec(b"/file/x").err(), Some(ENOTDIR));
    assert_eq!(t.fs.open_exec(b"").err(), Some(ENOENT));
}

/// Parse `linux_dirent64` records: (ino, off, type, name).
fn dirents(b: &[u8]) -> Vec<(u64, i64, u8, String)> {
    let mut v = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let ino = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let off = i64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap());
        let reclen = u16::from_le_bytes(b[at + 16..at + 18].try_into().unwrap()) as usize;
        assert_eq!(reclen % 8, 0);
        let t = b[at + 18];
        let name = &b[at + 19..at + reclen];
        let n = name.iter().position(|&c| c == 0).unwrap();
        v.push((ino, off, t, String::from_utf8(name[..n].to_vec()).unwrap()));
        at += reclen;
    }
    v
}

#[test]
fn getdents() {
    use kernel::fs::readdir::{DT_DIR, DT_LNK, DT_REG};
    let t = setup();
    let d = t.open("sub", O_RDONLY | O_DIRECTORY).unwrap();
    // The host's order, which Linux does not sort (ferrite used to).
    let all = dirents(&t.fs.getdents64(d, 4096).unwrap());
    let get = |n: &str| all.iter().find(|e| e.3 == n).unwrap().clone();
    let mut names: Vec<_> = all.iter().map(|e| e.3.as_str()).collect();
    names.sort();
    assert_eq!(names, [".", "..", "deep", "inner"]);
    assert_eq!(get("deep").2, DT_DIR);
    assert_eq!(get("inner").2, DT_REG);
    assert_eq!(
        get("inner").0,
        std::fs::metadata(t.root().join("sub/inner")).unwrap().ino()
    );
    assert_eq!(get("..").0, std::fs::metadata(t.root()).unwrap().ino());
    assert!(t.fs.getdents64(d, 4096).unwrap().is_empty(), "at the end");
    // Small buffers: one record at a time, EINVAL when none fits.
    t.fs.lseek(d, 0, SEEK_SET).unwrap();
    assert_eq!(t.fs.getdents64(d, 10), Err(EINVAL));
    let one = dirents(&t.fs.getdents64(d, 24).unwrap());
    assert_eq!(one.len(), 1);
    assert_eq!(one[0], all[0]);
    let rest = dirents(&t.fs.getdents64(d, 4096).unwrap());
    assert_eq!(rest, all[1..]);
    // d_off is the position after its record.
    assert_eq!(t.fs.lseek(d, 0, SEEK_CUR).unwrap() as i64, all[3].1);
    t.fs.lseek(d, one[0].1, SEEK_SET).unwrap();
    assert_eq!(dirents(&t.fs.getdents64(d, 4096).unwrap()), all[1..]);
    // The root lists proc; symlinks are DT_LNK.
    let r = t.open("/", O_RDONLY).unwrap();
    let mut root = dirents(&t.fs.getdents64(r, 65536).unwrap());
    root.extend(dirents(&t.fs.getdents64(r, 65536).unwrap()));
    assert!(root.iter().any(|e| e.3 == "proc" && e.2 == DT_DIR));
    assert!(root.iter().any(|e| e.3 == "link_file" && e.2 == DT_LNK));
    let ino = |n: &str| root.iter().find(|e| e.3 == n).unwrap().0;
    assert_eq!(ino(".."), ino("."), "/.. is /");
    let f = t.open("file", O_RDONLY).unwrap();
    assert_eq!(t.fs.getdents64(f, 4096), Err(ENOTDIR));
    assert_eq!(t.fs.getdents64(99, 4096), Err(EBADF));
    let p = t.open("/proc/self", O_RDONLY).unwrap();
    assert_eq!(dirents(&t.fs.getdents64(p, 4096).unwrap()).len(), 2);
}

#[test]
fn fd_paths_and_sharing() {
    fn shared<T: Send + Sync>() {}
    shared::<HostFs>();
    shared::<Fs>();
    let t = setup();
    let a = t.open("link_sub/inner", O_RDONLY).unwrap();
    let d = t.open("/proc/self", O_RDONLY).unwrap();
    assert_eq!(t.fs.fd_path(a).unwrap(), b"/sub/inner");
    assert_eq!(t.fs.fd_path(d).unwrap(), b"/proc/self");
    assert!(t.fs.fd_path(1).is_some());
    assert_eq!(t.fs.fd_path(50), None);
    assert_eq!(t.fs.open_fds(), vec![0, 1, 2, a, d]);
}

#[test]
fn symlink_and_rename() {
    use kernel::fs::link::RENAME_NOREPLACE;
    let t = setup();
    let r = t.root().to_path_buf();
    t.fs.symlinkat(b"/etc/passwd", AT_FDCWD, b"pw").unwrap();
    assert_eq!(
        std::fs::read_link(r.join("pw")).unwrap().to_str(),
        Some("/etc/passwd")
    );
    assert_eq!(
        t.cat("pw").unwrap(),
        b"guest passwd",
        "followed in the guest"
    );
    assert_eq!(t.fs.symlinkat(b"x", AT_FDCWD, b"pw"), Err(EEXIST));
    assert_eq!(t.fs.symlinkat(b"x", AT_FDCWD, b"file"), Err(EEXIST));
    assert_eq!(t.fs.symlinkat(b"", AT_FDCWD, b"e"), Err(ENOENT));
    assert_eq!(t.fs.symlinkat(b"x", AT_FDCWD, b"missing/e"), Err(ENOENT));
    assert_eq!(t.fs.symlinkat(b"x", AT_FDCWD, b"/proc/e"), Err(EACCES));
    let d = t.open("sub", O_RDONLY).unwrap();
    t.fs.symlinkat(b"inner", d, b"in2").unwrap();
    assert_eq!(t.cat("sub/in2").unwrap(), b"inner");

    let mv = |a: &str, b: &str, f: u32| {
        t.fs.renameat2(AT_FDCWD, a.as_bytes(), AT_FDCWD, b.as_bytes(), f)
    };
    mv("file", "file2", 0).unwrap();
    assert_eq!(t.cat("file2").unwrap(), b"hello world");
    assert_eq!(t.stat("file"), Err(ENOENT));
    assert_eq!(mv("file2", "etc/passwd", RENAME_NOREPLACE), Err(EEXIST));
    mv("file2", "etc/passwd", 0).unwrap();
    assert_eq!(t.cat("/etc/passwd").unwrap(), b"hello world");
    assert_eq!(mv("missing", "x", 0), Err(ENOENT));
    assert_eq!(mv("etc/passwd", "x/", 0), Err(ENOTDIR));
    assert_eq!(mv("sub", "etc/passwd", 0), Err(ENOTDIR));
    assert_eq!(mv("etc", "sub", 0), Err(ENOTEMPTY));
    assert_eq!(mv("sub", "sub/deep/x", 0), Err(EINVAL));
    assert_eq!(mv(".", "x", 0), Err(EBUSY));
    assert_eq!(mv("/", "x", 0), Err(EBUSY));
    assert_eq!(mv("/proc/meminfo", "x", 0), Err(EXDEV));
    assert_eq!(mv("bin/hello", "/proc/x", 0), Err(EXDEV));
    assert_eq!(mv("bin/hello", "x", 2), Err(EINVAL));
    mv("sub/", "sub3", 0).unwrap();
    assert!(r.join("sub3/inner").exists());
    // Renaming a symlink moves the link.
    mv("link_file", "lf", 0).unwrap();
    assert_eq!(t.lstat("lf").unwrap().file_type(), S_IFLNK);
}

/// The host's mode bits (07777) of `p`, not followed.
fn host_mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// chmod, chown, utimensat and statfs on host files: the mode applied
/// exactly, `-1` ids unchanged, times read back, Linux's errnos in
/// Linux's order.
#[test]
fn chmod_chown_utimensat_statfs() {
    let t = setup();
    let r = t.root().to_path_buf();
    // chmod: the mode bits exactly, set-id bits too, the type bits ignored.
    for mode in [0o600, 0o4755, 0o2640, 0o1777, 0o7000, 0] {
        t.fs.fchmodat(AT_FDCWD, b"file", S_IFDIR | mode, 0).unwrap();
        assert_eq!(host_mode(&r.join("file")), mode);
        assert!(r.join("file").is_file());
    }
    t.fs.fchmodat(AT_FDCWD, b"link_file", 0o640, 0).unwrap();
    assert_eq!(host_mode(&r.join("file")), 0o640, "followed");
    assert_eq!(
        t.fs.fchmodat(AT_FDCWD, b"link_file", 0o600, AT_SYMLINK_NOFOLLOW),
        Err(EOPNOTSUPP)
    );
    // fchmodat2's AT_SYMLINK_NOFOLLOW changes anything but a symlink.
    t.fs.fchmodat(AT_FDCWD, b"file", 0o620, AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(host_mode(&r.join("file")), 0o620);
    t.fs.fchmodat(AT_FDCWD, b"sub/deep", 0o711, AT_SYMLINK_NOFOLLOW)
        .unwrap();
    assert_eq!(host_mode(&r.join("sub/deep")), 0o711);
    t.fs.fchmodat(AT_FDCWD, b"link_file", 0o640, 0).unwrap();
    assert_eq!(t.fs.fchmodat(AT_FDCWD, b"file", 0o600, 0x8000), Err(EINVAL));
    assert_eq!(t.fs.fchmodat(AT_FDCWD, b"missing", 0o600, 0), Err(ENOENT));
    assert_eq!(t.fs.fchmodat(AT_FDCWD, b"dangling", 0o600, 0), Err(ENOENT));
    assert_eq!(t.fs.fchmodat(AT_FDCWD, b"file/x", 0o600, 0), Err(ENOTDIR));
    assert_eq!(t.fs.fchmodat(AT_FDCWD, b"", 0o600, 0), Err(ENOENT));
    assert_eq!(t.fs.fchmodat(99, b"file", 0o600, 0), Err(EBADF));
    t.fs.fchmodat(AT_FDCWD, b"sub", 0o700, 0).unwrap();
    assert_eq!(host_mode(&r.join("sub")), 0o700);
    let fd = t.open("file", O_RDWR).unwrap();
    t.fs.fchmod(fd, 0o4711).unwrap();
    assert_eq!(host_mode(&r.join("file")), 0o4711);
    assert_eq!(t.fs.fchmodat(fd, b"x", 0o600, 0), Err(ENOTDIR));
    let pfd = t.open("file", O_PATH).unwrap();
    assert_eq!(t.fs.fchmod(pfd, 0o600), Err(EBADF));
    assert_eq!(t.fs.fchmod(99, 0o600), Err(EBADF));
    t.fs.fchmodat(pfd, b"", 0o604, AT_EMPTY_PATH).unwrap();
    assert_eq!(host_mode(&r.join("file")), 0o604);
    let dfd = t.open("sub", O_RDONLY | O_DIRECTORY).unwrap();
    t.fs.fchmod(dfd, 0o750).unwrap();
    assert_eq!(host_mode(&r.join("sub")), 0o750);

    // chown to our own ids; -1 leaves one unchanged.
    let m = std::fs::metadata(r.join("file")).unwrap();
    let (uid, gid) = (m.uid(), m.gid());
    t.fs.fchownat(AT_FDCWD, b"file", uid, gid, 0).unwrap();
    t.fs.fchownat(AT_FDCWD, b"file", u32::MAX, u32::MAX, 0)
        .unwrap();
    t.fs.fchown(fd, u32::MAX, gid).unwrap();
    t.fs.fchownat(AT_FDCWD, b"link_file", uid, u32::MAX, AT_SYMLINK_NOFOLLOW)
        .unwrap();
    t.fs.fchownat(pfd, b"", u32::MAX, gid, AT_EMPTY_PATH)
        .unwrap();
    assert_eq!(t.fs.fchown(pfd, uid, gid), Err(EBADF));
    assert_eq!(t.fs.fchown(99, uid, gid), Err(EBADF));
    assert_eq!(
        t.fs.fchownat(AT_FDCWD, b"file", uid, gid, 0x8000),
        Err(EINVAL)
    );
    assert_eq!(t.fs.fchownat(AT_FDCWD, b"", uid, gid, 0), Err(ENOENT));
    assert_eq!(
        t.fs.fchownat(AT_FDCWD, b"missing", uid, gid, 0),
        Err(ENOENT)
    );
    let m = std::fs::metadata(r.join("file")).unwrap();
    assert_eq!((m.uid(), m.gid()), (uid, gid));

    // utimensat: explicit times, UTIME_OMIT, the link itself, now.
    let times = |a: (i64, i64), m: (i64, i64)| Some([a, m]);
    t.fs.utimensat(
        AT_FDCWD,
        Some(b"file"),
        times((1_000_000_000, 5), (1_000_000_001, 6)),
        0,
    )
    .unwrap();
    let st = t.stat("file").unwrap();
    assert_eq!(
        (st.atime, st.atime_nsec, st.mtime, st.mtime_nsec),
        (1_000_000_000, 5, 1_000_000_001, 6)
    );
    t.fs.utimensat(
        AT_FDCWD,
        Some(b"link_file"),
        times((0, UTIME_OMIT), (1_200_000_000, 0)),
        0,
    )
    .unwrap();
    let st = t.stat("file").unwrap();
    assert_eq!((st.atime, st.mtime), (1_000_000_000, 1_200_000_000));
    t.fs.utimensat(
        AT_FDCWD,
        Some(b"link_file"),
        times((1_100_000_000, 0), (1_100_000_000, 0)),
        AT_SYMLINK_NOFOLLOW,
    )
    .unwrap();
    assert_eq!(t.lstat("link_file").unwrap().mtime, 1_100_000_000);
    assert_eq!(t.stat("file").unwrap().mtime, 1_200_000_000);
    t.fs.utimensat(fd, None, times((7, 0), (8, 0)), 0).unwrap();
    assert_eq!(t.stat("file").unwrap().mtime, 8);
    t.fs.utimensat(AT_FDCWD, Some(b"file"), None, 0).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((t.stat("file").unwrap().mtime - now).abs() < 60);
    let bad = times((0, 1_000_000_000), (0, 0));
    assert_eq!(t.fs.utimensat(AT_FDCWD, Some(b"file"), bad, 0), Err(EINVAL));
    assert_eq!(
        t.fs.utimensat(AT_FDCWD, Some(b"file"), times((0, 0), (0, -1)), 0),
        Err(EINVAL)
    );
    assert_eq!(
        t.fs.utimensat(AT_FDCWD, Some(b"missing"), bad, 0),
        Err(ENOENT)
    );
    assert_eq!(
        t.fs.utimensat(AT_FDCWD, Some(b"file"), None, 0x8000),
        Err(EINVAL)
    );
    assert_eq!(
        t.fs.utimensat(fd, None, None, AT_SYMLINK_NOFOLLOW),
        Err(EINVAL)
    );
    assert_eq!(t.fs.utimensat(pfd, None, None, 0), Err(EBADF));
    assert_eq!(t.fs.utimensat(99, None, None, 0), Err(EBADF));
    t.fs.utimensat(pfd, Some(b""), times((3, 0), (4, 0)), AT_EMPTY_PATH)
        .unwrap();
    assert_eq!(t.stat("file").unwrap().mtime, 4);

    // statfs: the host's answer for host files, through any handle.
    let host = rustix::fs::statfs(&r).unwrap();
    let sf = t.fs.statfs(b"file").unwrap();
    assert_eq!(sf.f_type, host.f_type as i64);
    assert_eq!(sf.f_bsize, host.f_bsize as i64);
    assert_eq!(sf.f_namelen, host.f_namelen as i64);
    assert_eq!(t.fs.fstatfs(fd).unwrap(), sf);
    assert_eq!(t.fs.fstatfs(pfd).unwrap(), sf);
    assert_eq!(t.fs.statfs(b"link_file").unwrap(), sf);
    assert_eq!(t.fs.statfs(b"missing"), Err(ENOENT));
    assert_eq!(t.fs.statfs(b"file/x"), Err(ENOTDIR));
    assert_eq!(t.fs.fstatfs(99), Err(EBADF));
    let b = sf.to_bytes();
    assert_eq!(b.len(), 120);
    assert_eq!(&b[0..8], &(host.f_type as u64).to_le_bytes());
    assert_eq!(&b[64..72], &(host.f_namelen as u64).to_le_bytes());
    assert_eq!(&b[88..120], &[0u8; 32], "f_spare");
}

/// /proc: PROC_SUPER_MAGIC; its files belong to root, so a non-root
/// caller's mode change is EPERM, an ownership change EPERM but for
/// `-1, -1`, a time change EPERM (explicit) or EACCES (now); a symlink's
/// mode is EOPNOTSUPP.
#[test]
fn attrs_of_proc() {
    let t = setup();
    let sf = t.fs.statfs(b"/proc").unwrap();
    assert_eq!(sf.f_type, 0x9fa0);
    assert_eq!((sf.f_namelen, sf.f_bsize, sf.f_blocks), (255, 4096, 0));
    let b = sf.to_bytes();
    assert_eq!(&b[0..8], &0x9fa0u64.to_le_bytes());
    let fd = t.open("/proc/meminfo", O_RDONLY).unwrap();
    assert_eq!(t.fs.fstatfs(fd).unwrap(), sf);
    assert_eq!(t.fs.statfs(b"/proc/self/status").unwrap(), sf);
    assert_eq!(
        t.fs.fchmodat(AT_FDCWD, b"/proc/meminfo", 0o666, 0),
        Err(EPERM)
    );
    assert_eq!(t.fs.fchmod(fd, 0o666), Err(EPERM));
    assert_eq!(
        t.fs.fchmodat(AT_FDCWD, b"/proc/self/exe", 0o666, AT_SYMLINK_NOFOLLOW),
        Err(EOPNOTSUPP)
    );
    assert_eq!(
        t.fs.fchownat(AT_FDCWD, b"/proc/meminfo", 1000, 1000, 0),
        Err(EPERM)
    );
    assert_eq!(t.fs.fchown(fd, u32::MAX, u32::MAX), Ok(()));
    assert_eq!(
        t.fs.utimensat(AT_FDCWD, Some(b"/proc/meminfo"), None, 0),
        Err(EACCES)
    );
    assert_eq!(
        t.fs.utimensat(fd, None, Some([(1, 0), (1, 0)]), 0),
        Err(EPERM)
    );
    assert_eq!(t.fs.statfs(b"/proc/nothing"), Err(ENOENT));
    // A standard stream's host file is not changed.
    assert_eq!(t.fs.fchmod(1, 0o600), Err(EPERM));
    assert_eq!(t.fs.utimensat(1, None, None, 0), Err(EPERM));
    assert_eq!(t.fs.fchown(1, u32::MAX, u32::MAX), Err(EPERM));
    assert_eq!(t.fs.fchmodat(1, b"", 0o600, AT_EMPTY_PATH), Err(EPERM));
    assert_eq!(
        t.fs.fchownat(1, b"", u32::MAX, u32::MAX, AT_EMPTY_PATH),
        Err(EPERM)
    );
    assert_eq!(
        t.fs.utimensat(1, Some(b""), None, AT_EMPTY_PATH),
        Err(EPERM)
    );
    assert!(t.fs.fstatfs(1).is_ok());
}

/// chmod, chown, utimensat and statfs through symlinks that name a host
/// file outside the root by its absolute host path: the targets are
/// looked up in the guest's namespace (ENOENT), the `NOFOLLOW` forms and
/// the magic link of an `O_PATH` descriptor of the link change the link
/// itself, and the canary outside keeps its mode, owner and times (ctime
/// too: no attribute of it was written).
#[test]
fn attrs_through_symlinks_stay_in_the_root() {
    let t = setup();
    let out = tempfile::tempdir().unwrap();
    let canary = out.path().join("passwd");
    std::fs::write(&canary, b"HOST SECRET").unwrap();
    std::fs::set_permissions(&canary, std::fs::Permissions::from_mode(0o600)).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(946_684_800);
    std::fs::File::open(&canary)
        .unwrap()
        .set_times(
            std::fs::FileTimes::new()
                .set_accessed(old)
                .set_modified(old),
        )
        .unwrap();
    let before = std::fs::metadata(&canary).unwrap();
    let key = |m: &std::fs::Metadata| {
        (
            m.mode(),
            m.uid(),
            m.gid(),
            m.atime(),
            m.mtime(),
            m.ctime(),
            m.ctime_nsec(),
        )
    };
    let (uid, gid) = (before.uid(), before.gid());
    symlink(&canary, t.root().join("esc")).unwrap();
    symlink(out.path(), t.root().join("escdir")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    for p in [&b"esc"[..], b"escdir/passwd", b"/escdir/../escdir/passwd"] {
        assert_eq!(t.fs.fchmodat(AT_FDCWD, p, 0o777, 0), Err(ENOENT));
        assert_eq!(t.fs.fchownat(AT_FDCWD, p, uid, gid, 0), Err(ENOENT));
        assert_eq!(t.fs.utimensat(AT_FDCWD, Some(p), None, 0), Err(ENOENT));
        assert_eq!(
            t.fs.utimensat(AT_FDCWD, Some(p), Some([(1, 0), (1, 0)]), 0),
            Err(ENOENT)
        );
        assert_eq!(t.fs.statfs(p), Err(ENOENT));
    }
    // The link itself.
    assert_eq!(
        t.fs.fchmodat(AT_FDCWD, b"esc", 0o777, AT_SYMLINK_NOFOLLOW),
        Err(EOPNOTSUPP)
    );
    t.fs.fchownat(AT_FDCWD, b"esc", uid, gid, AT_SYMLINK_NOFOLLOW)
        .unwrap();
    t.fs.utimensat(
        AT_FDCWD,
        Some(b"esc"),
        Some([(5, 0), (5, 0)]),
        AT_SYMLINK_NOFOLLOW,
    )
    .unwrap();
    assert_eq!(t.lstat("esc").unwrap().mtime, 5);
    // An O_PATH descriptor of the link, by AT_EMPTY_PATH and through its
    // magic link (followed to the link, not through it).
    let l = t.open("esc", O_PATH | O_NOFOLLOW).unwrap();
    t.fs.fchownat(l, b"", uid, gid, AT_EMPTY_PATH).unwrap();
    t.fs.utimensat(l, Some(b""), Some([(6, 0), (6, 0)]), AT_EMPTY_PATH)
        .unwrap();
    let magic = format!("/proc/self/fd/{l}");
    t.fs.fchownat(AT_FDCWD, magic.as_bytes(), uid, gid, 0)
        .unwrap();
    t.fs.utimensat(AT_FDCWD, Some(magic.as_bytes()), Some([(7, 0), (7, 0)]), 0)
        .unwrap();
    assert_eq!(
        t.fs.fchmodat(AT_FDCWD, magic.as_bytes(), 0o777, 0),
        Err(EOPNOTSUPP)
    );
    assert_eq!(t.lstat("esc").unwrap().mtime, 7);
    assert_eq!(t.fs.fstatfs(l).unwrap(), t.fs.statfs(b"/").unwrap());
    let after = std::fs::metadata(&canary).unwrap();
    assert_eq!(
        key(&after),
        key(&before),
        "the canary outside the root was changed"
    );
    assert_eq!(std::fs::read(&canary).unwrap(), b"HOST SECRET");
}
