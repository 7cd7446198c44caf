//! The built-in /dev (fs/dev.rs), the /dev/shm tmpfs and memfds
//! (fs/shmem.rs) at the file layer: the devices' read/write/seek/stat
//! semantics, the listings, /dev/shm files through read/write, ftruncate,
//! MAP_SHARED mappings seen by two mms and by a forked mm, unlink, the
//! seals of memfd_create, and every shmem page given back at the end.

use std::sync::{Mutex, MutexGuard};

use kernel::fs::flags::*;
use kernel::fs::stat::Stat;
use kernel::fs::MmapSource;
use mm::mmap::{MmStruct, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE};
use mm::vmstat::NodeStatItem;
use mm::PAGE_SIZE;

mod common;
use common::{setup, T};

const RW: usize = PROT_READ | PROT_WRITE;

/// The tests share one machine and count its shmem pages: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static L: Mutex<()> = Mutex::new(());
    L.lock().unwrap_or_else(|p| p.into_inner())
}

fn open(t: &T, path: &str, flags: i32, mode: u32) -> Result<i32, i32> {
    t.fs.openat(&t.cpu, AT_FDCWD, path.as_bytes(), flags, mode)
}

fn stat(t: &T, path: &str, flags: i32) -> Result<Stat, i32> {
    t.fs.fstatat(AT_FDCWD, path.as_bytes(), flags)
}

/// The names of a directory listing (`getdents64` until the end).
fn list(t: &T, path: &str) -> Vec<String> {
    let fd = open(t, path, O_RDONLY | O_DIRECTORY, 0).unwrap();
    let mut names = Vec::new();
    loop {
        let recs = t.fs.getdents64(fd, 4096).unwrap();
        if recs.is_empty() {
            break;
        }
        let mut at = 0;
        while at < recs.len() {
            let reclen = u16::from_le_bytes([recs[at + 16], recs[at + 17]]) as usize;
            let name = &recs[at + 19..at + reclen];
            let end = name.iter().position(|&b| b == 0).unwrap();
            names.push(String::from_utf8_lossy(&name[..end]).into_owned());
            at += reclen;
        }
    }
    t.fs.close(fd).unwrap();
    names
}

fn shmem_pages() -> usize {
    common::mem().vmstat.get(NodeStatItem::NrShmem)
}

#[test]
fn null_zero_full() {
    let _g = serial();
    let t = setup();
    let null = open(&t, "/dev/null", O_RDWR, 0).unwrap();
    assert_eq!(t.fs.write(&t.cpu, null, b"hello").unwrap(), 5);
    let mut buf = [0xffu8; 100];
    assert_eq!(t.fs.read(&t.cpu, null, &mut buf).unwrap(), 0, "EOF");
    assert_eq!(t.fs.lseek(null, 1234, SEEK_SET).unwrap(), 0);
    assert_eq!(t.fs.pread(&t.cpu, null, &mut buf, 7).unwrap(), 0);
    let st = t.fs.fstat(null).unwrap();
    assert_eq!(st.mode, S_IFCHR | 0o666);
    assert_eq!(st.rdev, (1 << 8) | 3);
    assert_eq!(st.uid, 0);

    let zero = open(&t, "/dev/zero", O_RDWR, 0).unwrap();
    // More than one internal chunk.
    let mut big = vec![0xffu8; 3 * 4096 + 5];
    assert_eq!(t.fs.read(&t.cpu, zero, &mut big).unwrap(), big.len());
    assert!(big.iter().all(|&b| b == 0));
    assert_eq!(t.fs.write(&t.cpu, zero, b"abc").unwrap(), 3);
    assert_eq!(t.fs.lseek(zero, 10, SEEK_CUR).unwrap(), 0);
    assert_eq!(t.fs.fstat(zero).unwrap().rdev, (1 << 8) | 5);

    let full = open(&t, "/dev/full", O_RDWR, 0).unwrap();
    assert_eq!(t.fs.write(&t.cpu, full, b"x"), Err(kernel::errno::ENOSPC));
    buf.fill(0xff);
    assert_eq!(t.fs.read(&t.cpu, full, &mut buf).unwrap(), 100);
    assert!(buf.iter().all(|&b| b == 0));
    assert_eq!(t.fs.fstat(full).unwrap().rdev, (1 << 8) | 7);

    // Devices are not directories, and /dev takes no new names.
    assert_eq!(
        open(&t, "/dev/null/x", O_RDONLY, 0),
        Err(kernel::errno::ENOTDIR)
    );
    assert_eq!(
        open(&t, "/dev/newfile", O_RDWR | O_CREAT, 0o644),
        Err(kernel::errno::EACCES)
    );
    assert_eq!(
        t.fs.unlinkat(AT_FDCWD, b"/dev/null", 0),
        Err(kernel::errno::EACCES)
    );
    assert_eq!(
        open(&t, "/dev/null", O_RDONLY | O_DIRECTORY, 0),
        Err(kernel::errno::ENOTDIR)
    );
    for fd in [null, zero, full] {
        t.fs.close(fd).unwrap();
    }
}

#[test]
fn random_tty_and_links() {
    let _g = serial();
    let t = setup();
    for dev in ["/dev/random", "/dev/urandom"] {
        let fd = open(&t, dev, O_RDONLY, 0).unwrap();
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        assert_eq!(t.fs.read(&t.cpu, fd, &mut a).unwrap(), 64);
        assert_eq!(t.fs.read(&t.cpu, fd, &mut b).unwrap(), 64);
        assert_ne!(a, b, "{dev}: two reads differ");
        assert_eq!(t.fs.lseek(fd, 0, SEEK_END).unwrap(), 0);
        t.fs.close(fd).unwrap();
    }
    assert_eq!(stat(&t, "/dev/urandom", 0).unwrap().rdev, (1 << 8) | 9);
    assert_eq!(stat(&t, "/dev/random", 0).unwrap().rdev, (1 << 8) | 8);
    let tty = stat(&t, "/dev/tty", 0).unwrap();
    assert_eq!((tty.mode, tty.rdev, tty.gid), (S_IFCHR | 0o666, 5 << 8, 5));

    let l = stat(&t, "/dev/stdin", AT_SYMLINK_NOFOLLOW).unwrap();
    assert_eq!(l.mode, S_IFLNK | 0o777);
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/dev/stdout").unwrap(),
        b"/proc/self/fd/1"
    );
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/dev/fd").unwrap(),
        b"/proc/self/fd"
    );
    assert_eq!(
        t.fs.readlinkat(AT_FDCWD, b"/dev/null"),
        Err(kernel::errno::EINVAL)
    );

    // Directories: /dev and /dev/shm, `..` back to the root.
    let d = stat(&t, "/dev", 0).unwrap();
    assert_eq!(d.mode, S_IFDIR | 0o755);
    let shm = stat(&t, "/dev/shm", 0).unwrap();
    assert_eq!(shm.mode, S_IFDIR | 0o1777);
    let root = stat(&t, "/", 0).unwrap();
    assert_eq!(stat(&t, "/dev/shm/../..", 0).unwrap().ino, root.ino);
    t.fs.chdir(b"/dev/shm").unwrap();
    assert_eq!(t.fs.getcwd().unwrap(), b"/dev/shm");
    assert_eq!(stat(&t, "../null", 0).unwrap().rdev, (1 << 8) | 3);
    t.fs.chdir(b"/").unwrap();
}

#[test]
fn listings() {
    let _g = serial();
    let t = setup();
    let mut dev = list(&t, "/dev");
    dev.sort();
    assert_eq!(
        dev,
        [
            ".", "..", "fd", "full", "null", "random", "shm", "stderr", "stdin", "stdout", "tty",
            "urandom", "zero"
        ]
    );
    let root = list(&t, "/");
    assert_eq!(root.iter().filter(|n| *n == "dev").count(), 1, "{root:?}");
    assert_eq!(root.iter().filter(|n| *n == "proc").count(), 1, "{root:?}");
    // A host `dev` directory in the root is covered, listed once.
    std::fs::create_dir(t.dir.path().join("dev")).unwrap();
    std::fs::write(t.dir.path().join("dev/hostfile"), b"").unwrap();
    let root = list(&t, "/");
    assert_eq!(root.iter().filter(|n| *n == "dev").count(), 1, "{root:?}");
    assert!(stat(&t, "/dev/hostfile", 0).is_err(), "ferrite's /dev");
    assert!(stat(&t, "/dev/zero", 0).is_ok());
}

#[test]
fn dev_shm_files() {
    let _g = serial();
    let t = setup();
    let before = shmem_pages();
    let fd = open(&t, "/dev/shm/a", O_RDWR | O_CREAT | O_EXCL, 0o640).unwrap();
    assert_eq!(
        open(&t, "/dev/shm/a", O_RDWR | O_CREAT | O_EXCL, 0o640),
        Err(kernel::errno::EEXIST)
    );
    let st = t.fs.fstat(fd).unwrap();
    assert_eq!(st.mode, S_IFREG | 0o640);
    assert_eq!((st.size, st.nlink, st.blocks), (0, 1, 0));
    assert_eq!(t.fs.write(&t.cpu, fd, b"hello world").unwrap(), 11);
    // Past the end: a hole between.
    assert_eq!(
        t.fs.pwrite(&t.cpu, fd, b"end", 3 * PAGE_SIZE as i64)
            .unwrap(),
        3
    );
    let st = t.fs.fstat(fd).unwrap();
    assert_eq!(st.size, 3 * PAGE_SIZE as i64 + 3);
    assert_eq!(st.blocks, 2 * 8, "two pages hold data");
    assert_eq!(shmem_pages(), before + 2);
    let mut buf = vec![0xffu8; 4 * PAGE_SIZE];
    assert_eq!(
        t.fs.pread(&t.cpu, fd, &mut buf, 0).unwrap(),
        3 * PAGE_SIZE + 3
    );
    assert_eq!(&buf[..11], b"hello world");
    assert!(buf[11..3 * PAGE_SIZE].iter().all(|&b| b == 0), "hole");
    assert_eq!(&buf[3 * PAGE_SIZE..3 * PAGE_SIZE + 3], b"end");
    assert_eq!(
        t.fs.lseek(fd, 0, SEEK_END).unwrap(),
        3 * PAGE_SIZE as u64 + 3
    );

    // A second open sees the same file; O_APPEND goes to the end.
    let fd2 = open(&t, "/dev/shm/a", O_WRONLY | O_APPEND, 0).unwrap();
    assert_eq!(t.fs.write(&t.cpu, fd2, b"!").unwrap(), 1);
    assert_eq!(t.fs.fstat(fd).unwrap().size, 3 * PAGE_SIZE as i64 + 4);

    // ftruncate shrinks (pages freed) and grows (zeros).
    t.fs.ftruncate(&t.cpu, fd, 5).unwrap();
    assert_eq!(shmem_pages(), before + 1);
    t.fs.ftruncate(&t.cpu, fd, 20).unwrap();
    let mut b = [0xffu8; 32];
    assert_eq!(t.fs.pread(&t.cpu, fd, &mut b, 0).unwrap(), 20);
    assert_eq!(&b[..5], b"hello");
    assert!(b[5..20].iter().all(|&x| x == 0), "the tail was zeroed");

    // Listed, named in /proc/self/fd, renamed, removed.
    assert!(list(&t, "/dev/shm").contains(&"a".to_string()));
    assert_eq!(t.fs.fd_path(fd).unwrap(), b"/dev/shm/a");
    t.fs.renameat2(AT_FDCWD, b"/dev/shm/a", AT_FDCWD, b"/dev/shm/b", 0)
        .unwrap();
    assert_eq!(t.fs.fd_path(fd).unwrap(), b"/dev/shm/b");
    assert_eq!(
        t.fs.renameat2(AT_FDCWD, b"/dev/shm/b", AT_FDCWD, b"/x", 0),
        Err(kernel::errno::EXDEV)
    );
    assert_eq!(
        t.fs.mkdirat(AT_FDCWD, b"/dev/shm/dir", 0o755),
        Err(kernel::errno::EPERM),
        "flat files only"
    );
    t.fs.unlinkat(AT_FDCWD, b"/dev/shm/b", 0).unwrap();
    assert_eq!(stat(&t, "/dev/shm/b", 0), Err(kernel::errno::ENOENT));
    assert_eq!(t.fs.fd_path(fd).unwrap(), b"/dev/shm/b (deleted)");
    assert_eq!(t.fs.fstat(fd).unwrap().nlink, 0);
    // Still readable while open.
    assert_eq!(t.fs.pread(&t.cpu, fd, &mut b, 0).unwrap(), 20);
    assert_eq!(&b[..5], b"hello");
    assert!(!list(&t, "/dev/shm").contains(&"b".to_string()));
    t.fs.close(fd).unwrap();
    t.fs.close(fd2).unwrap();
    t.fs.flush_delayed_fput(&t.cpu);
    assert_eq!(shmem_pages(), before, "every page back");
}

#[test]
fn dev_shm_shared_mapping_across_mms_and_fork() {
    let _g = serial();
    let t = setup();
    let before = shmem_pages();
    let fd = open(&t, "/dev/shm/m", O_RDWR | O_CREAT, 0o600).unwrap();
    t.fs.ftruncate(&t.cpu, fd, 2 * PAGE_SIZE as i64).unwrap();
    let map = |mm: &MmStruct<'static>, flags: usize| {
        let MmapSource::File(f) = t.fs.mmap_source(fd, RW, flags).unwrap() else {
            panic!("a file");
        };
        let va = mm
            .do_mmap_file(&t.cpu, 0, 2 * PAGE_SIZE, RW, flags, Some(&f.file()), 0)
            .unwrap();
        f.put(&t.cpu);
        va
    };
    let a = MmStruct::new(&t.cpu).unwrap();
    let b = MmStruct::new(&t.cpu).unwrap();
    let va = map(&a, MAP_SHARED);
    let vb = map(&b, MAP_SHARED);
    mm::uaccess::user_store(&t.cpu, &a, va + PAGE_SIZE + 8, b"from a").unwrap();
    let mut got = [0u8; 6];
    mm::uaccess::user_load(&t.cpu, &b, vb + PAGE_SIZE + 8, &mut got).unwrap();
    assert_eq!(&got, b"from a", "one page in two mms");
    // read(2) sees the mapping's bytes, and the mapping sees write(2)'s.
    let mut r = [0u8; 6];
    t.fs.pread(&t.cpu, fd, &mut r, PAGE_SIZE as i64 + 8)
        .unwrap();
    assert_eq!(&r, b"from a");
    t.fs.pwrite(&t.cpu, fd, b"by fd", 0).unwrap();
    let mut w = [0u8; 5];
    mm::uaccess::user_load(&t.cpu, &a, va, &mut w).unwrap();
    assert_eq!(&w, b"by fd");

    // A forked mm shares the page (MAP_SHARED survives fork).
    let child = mm::fork::dup_mm(&t.cpu, &a).unwrap();
    mm::uaccess::user_store(&t.cpu, &child, va + 100, b"child").unwrap();
    let mut c = [0u8; 5];
    mm::uaccess::user_load(&t.cpu, &a, va + 100, &mut c).unwrap();
    assert_eq!(&c, b"child");

    // A private mapping copies on write.
    let vp = map(&b, MAP_PRIVATE);
    mm::uaccess::user_store(&t.cpu, &b, vp, b"private").unwrap();
    t.fs.pread(&t.cpu, fd, &mut w, 0).unwrap();
    assert_eq!(&w, b"by fd");

    // /proc/PID/maps names the file.
    let maps = mm::proc::pid::proc_pid_maps(&a);
    assert!(maps.contains(" /dev/shm/m\n"), "{maps}");
    // Unlinked and closed, the mappings keep the pages.
    t.fs.unlinkat(AT_FDCWD, b"/dev/shm/m", 0).unwrap();
    t.fs.close(fd).unwrap();
    t.fs.flush_delayed_fput(&t.cpu);
    let maps = mm::proc::pid::proc_pid_maps(&a);
    assert!(maps.contains(" /dev/shm/m (deleted)\n"), "{maps}");
    mm::uaccess::user_load(&t.cpu, &child, va + PAGE_SIZE + 8, &mut got).unwrap();
    assert_eq!(&got, b"from a");
    assert_eq!(shmem_pages(), before + 2);
    child.free(&t.cpu);
    a.free(&t.cpu);
    assert_eq!(shmem_pages(), before + 2, "b still maps them");
    b.free(&t.cpu);
    assert_eq!(shmem_pages(), before, "the last mapping freed the file");
}

#[test]
fn dev_shm_is_bounded() {
    let _g = serial();
    let t = setup();
    let fd = open(&t, "/dev/shm/big", O_RDWR | O_CREAT, 0o600).unwrap();
    let page = vec![7u8; PAGE_SIZE];
    let mut n = 0usize;
    let err = loop {
        match t.fs.write(&t.cpu, fd, &page) {
            Ok(k) => n += k,
            Err(e) => break e,
        }
        assert!(n <= 64 << 20, "bounded by RAM");
    };
    // The mount's size is half of the 32 MiB machine.
    assert_eq!(err, kernel::errno::ENOSPC);
    assert!((12 << 20..=16 << 20).contains(&n), "{n}");
    // ftruncate is sparse: no page needed.
    t.fs.ftruncate(&t.cpu, fd, 1 << 40).unwrap();
    assert_eq!(t.fs.fstat(fd).unwrap().size, 1 << 40);
    t.fs.close(fd).unwrap();
    t.fs.unlinkat(AT_FDCWD, b"/dev/shm/big", 0).unwrap();
    t.fs.flush_delayed_fput(&t.cpu);
}

#[test]
fn memfd_create_and_seals() {
    let _g = serial();
    let t = setup();
    let before = shmem_pages();
    let fd = t.fs.memfd_create(b"buf", MFD_CLOEXEC).unwrap();
    assert_eq!(t.fs.fd_path(fd).unwrap(), b"/memfd:buf (deleted)");
    assert_eq!(t.fs.fcntl(fd, F_GETFD, 0).unwrap(), FD_CLOEXEC as i64);
    assert_eq!(
        t.fs.fcntl(fd, F_GETFL, 0).unwrap(),
        (O_RDWR | O_LARGEFILE) as i64
    );
    let st = t.fs.fstat(fd).unwrap();
    assert_eq!((st.mode, st.nlink, st.size), (S_IFREG | 0o777, 0, 0));
    assert_eq!(t.fs.write(&t.cpu, fd, b"data").unwrap(), 4);
    // Sealing was not allowed: F_SEAL_SEAL from the start.
    assert_eq!(
        t.fs.fcntl_seals(&t.cpu, fd, F_GET_SEALS, 0).unwrap(),
        F_SEAL_SEAL as i64
    );
    assert_eq!(
        t.fs.fcntl_seals(&t.cpu, fd, F_ADD_SEALS, F_SEAL_WRITE as u64),
        Err(kernel::errno::EPERM)
    );

    let s = t.fs.memfd_create(b"sealed", MFD_ALLOW_SEALING).unwrap();
    assert_eq!(t.fs.fcntl(s, F_GETFD, 0).unwrap(), 0);
    assert_eq!(t.fs.fcntl_seals(&t.cpu, s, F_GET_SEALS, 0).unwrap(), 0);
    t.fs.ftruncate(&t.cpu, s, 100).unwrap();
    t.fs.fcntl_seals(&t.cpu, s, F_ADD_SEALS, (F_SEAL_SHRINK | F_SEAL_GROW) as u64)
        .unwrap();
    assert_eq!(t.fs.ftruncate(&t.cpu, s, 50), Err(kernel::errno::EPERM));
    assert_eq!(t.fs.ftruncate(&t.cpu, s, 200), Err(kernel::errno::EPERM));
    assert_eq!(
        t.fs.pwrite(&t.cpu, s, b"in", 10).unwrap(),
        2,
        "inside: fine"
    );
    assert_eq!(
        t.fs.pwrite(&t.cpu, s, b"past", 100),
        Err(kernel::errno::EPERM)
    );
    // A mapping makes F_SEAL_WRITE busy.
    let mm = MmStruct::new(&t.cpu).unwrap();
    let MmapSource::File(f) = t.fs.mmap_source(s, RW, MAP_SHARED).unwrap() else {
        panic!("a file");
    };
    let va = mm
        .do_mmap_file(&t.cpu, 0, PAGE_SIZE, RW, MAP_SHARED, Some(&f.file()), 0)
        .unwrap();
    f.put(&t.cpu);
    let maps = mm::proc::pid::proc_pid_maps(&mm);
    assert!(maps.contains(" /memfd:sealed (deleted)\n"), "{maps}");
    assert_eq!(
        t.fs.fcntl_seals(&t.cpu, s, F_ADD_SEALS, F_SEAL_WRITE as u64),
        Err(kernel::errno::EBUSY)
    );
    mm.do_munmap(&t.cpu, va, PAGE_SIZE).unwrap();
    t.fs.fcntl_seals(&t.cpu, s, F_ADD_SEALS, (F_SEAL_WRITE | F_SEAL_SEAL) as u64)
        .unwrap();
    assert_eq!(t.fs.pwrite(&t.cpu, s, b"x", 0), Err(kernel::errno::EPERM));
    assert!(matches!(
        t.fs.mmap_source(s, RW, MAP_SHARED),
        Err(kernel::errno::EPERM)
    ));
    assert!(t.fs.mmap_source(s, PROT_READ, MAP_SHARED).is_ok_and(|m| {
        if let MmapSource::File(f) = m {
            f.put(&t.cpu);
        }
        true
    }));
    assert_eq!(
        t.fs.fcntl_seals(&t.cpu, s, F_ADD_SEALS, F_SEAL_GROW as u64),
        Err(kernel::errno::EPERM),
        "F_SEAL_SEAL"
    );
    // Not a tmpfs file: EINVAL.
    let null = open(&t, "/dev/null", O_RDWR, 0).unwrap();
    assert_eq!(
        t.fs.fcntl_seals(&t.cpu, null, F_GET_SEALS, 0),
        Err(kernel::errno::EINVAL)
    );
    // Flags and names.
    assert_eq!(t.fs.memfd_create(b"x", 0x100), Err(kernel::errno::EINVAL));
    assert_eq!(
        t.fs.memfd_create(b"x", MFD_HUGETLB),
        Err(kernel::errno::EINVAL)
    );
    assert_eq!(
        t.fs.memfd_create(&[b'n'; 250], 0),
        Err(kernel::errno::EINVAL)
    );
    let ne = t.fs.memfd_create(b"x", MFD_NOEXEC_SEAL).unwrap();
    assert_eq!(t.fs.fstat(ne).unwrap().mode, S_IFREG | 0o666);
    for fd in [fd, s, null, ne] {
        t.fs.close(fd).unwrap();
    }
    mm.free(&t.cpu);
    t.fs.flush_delayed_fput(&t.cpu);
    assert_eq!(shmem_pages(), before, "every page back");
}

#[test]
fn dev_zero_mmap_source() {
    let _g = serial();
    let t = setup();
    let fd = open(&t, "/dev/zero", O_RDWR, 0).unwrap();
    assert!(matches!(
        t.fs.mmap_source(fd, RW, MAP_SHARED),
        Ok(MmapSource::Zero)
    ));
    let ro = open(&t, "/dev/zero", O_RDONLY, 0).unwrap();
    assert!(matches!(
        t.fs.mmap_source(ro, RW, MAP_SHARED),
        Err(kernel::errno::EACCES)
    ));
    assert!(matches!(
        t.fs.mmap_source(ro, RW, MAP_PRIVATE),
        Ok(MmapSource::Zero)
    ));
    let wo = open(&t, "/dev/zero", O_WRONLY, 0).unwrap();
    assert!(matches!(
        t.fs.mmap_source(wo, PROT_READ, MAP_PRIVATE),
        Err(kernel::errno::EACCES)
    ));
    let null = open(&t, "/dev/null", O_RDWR, 0).unwrap();
    assert!(matches!(
        t.fs.mmap_source(null, PROT_READ, MAP_PRIVATE),
        Err(kernel::errno::ENODEV)
    ));
    let st = t.fs.statfs(b"/dev/shm").unwrap();
    assert_eq!(st.f_type, 0x0102_1994);
    assert!(st.f_blocks > 0);
}
