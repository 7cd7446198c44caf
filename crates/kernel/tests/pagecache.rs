//! The lifetime of a host file's page cache (fs/pagecache.rs): the cache
//! and its duplicate host descriptor live while a mapping (or a kernel
//! handle) holds the file, a dirty shared mapping is written back when its
//! last mapping goes, and a deleted file's pages are dropped unwritten.

use std::path::Path;

use kernel::fs::flags::*;
use mm::mmap::{MmStruct, MAP_SHARED, PROT_READ, PROT_WRITE};
use mm::PAGE_SIZE;

mod common;
use common::setup;

/// How many of this process's host descriptors are open on `path`.
fn host_fds_on(path: &Path) -> usize {
    let want = path.canonicalize().unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| *l == want)
        .count()
}

const RW: usize = PROT_READ | PROT_WRITE;

#[test]
fn the_cache_and_its_host_fd_live_while_the_file_is_mapped() {
    let t = setup();
    let path = t.dir.path().join("f");
    std::fs::write(&path, vec![b'a'; 2 * PAGE_SIZE]).unwrap();
    let fd = t.fs.openat(&t.cpu, AT_FDCWD, b"/f", O_RDWR, 0).unwrap();
    assert_eq!(host_fds_on(&path), 1, "the open file's own descriptor");
    let mm = MmStruct::new(&t.cpu).unwrap();
    let mf = t.fs.file_for_mmap(fd).unwrap();
    assert_eq!(host_fds_on(&path), 2, "the page cache's descriptor");
    let va = mm
        .do_mmap_file(
            &t.cpu,
            0,
            2 * PAGE_SIZE,
            RW,
            MAP_SHARED,
            Some(&mf.file()),
            0,
        )
        .unwrap();
    mf.put(&t.cpu);
    assert_eq!(host_fds_on(&path), 2, "the mapping holds the cache");
    mm::uaccess::user_store(&t.cpu, &mm, va + 5, b"XY").unwrap();
    mm.do_munmap(&t.cpu, va, 2 * PAGE_SIZE).unwrap();
    // The last mapping went: written back, the cache's descriptor closed.
    assert_eq!(host_fds_on(&path), 1);
    assert_eq!(&std::fs::read(&path).unwrap()[..8], b"aaaaaXYa");
    t.fs.close(fd).unwrap();
    assert_eq!(host_fds_on(&path), 0);
    mm.free(&t.cpu);
}

#[test]
fn a_deleted_files_dirty_pages_are_dropped() {
    let t = setup();
    let path = t.dir.path().join("gone");
    std::fs::write(&path, vec![b'z'; PAGE_SIZE]).unwrap();
    let fd = t.fs.openat(&t.cpu, AT_FDCWD, b"/gone", O_RDWR, 0).unwrap();
    let mm = MmStruct::new(&t.cpu).unwrap();
    let mf = t.fs.file_for_mmap(fd).unwrap();
    let va = mm
        .do_mmap_file(&t.cpu, 0, PAGE_SIZE, RW, MAP_SHARED, Some(&mf.file()), 0)
        .unwrap();
    mf.put(&t.cpu);
    mm::uaccess::user_store(&t.cpu, &mm, va, b"dirty").unwrap();
    t.fs.unlinkat(AT_FDCWD, b"/gone", 0).unwrap();
    mm.do_munmap(&t.cpu, va, PAGE_SIZE).unwrap();
    // The open descriptor still reads the (deleted) host file: never
    // written back.
    let mut b = [0u8; 5];
    t.fs.pread(&t.cpu, fd, &mut b, 0).unwrap();
    assert_eq!(&b, b"zzzzz");
    t.fs.close(fd).unwrap();
    mm.free(&t.cpu);
}
