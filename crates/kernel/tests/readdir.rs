//! Issue 8 §2: `getdents64` streams a host directory. A directory of any
//! size costs a bounded amount of host memory per call (a counting global
//! allocator measures each call), every name comes once, `d_off` is the
//! host's cookie and `lseek` back to it resumes there; the root's `..` is
//! the root and it lists `proc` exactly once.

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use kernel::errno::*;
use kernel::fs::flags::*;
use kernel::fs::readdir::{DEV_COOKIE, DT_DIR, PROC_COOKIE};
use kernel::fs::{Fs, CHUNK};

mod common;
use common::{setup, T};

/// The system allocator, counting the bytes this thread asks for.
struct Counting;

thread_local! {
    static ASKED: Cell<usize> = const { Cell::new(0) };
}

fn count(n: usize) {
    let _ = ASKED.try_with(|a| a.set(a.get() + n));
}

// SAFETY: every call goes to `System` with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size());
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        count(l.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` came from `System` with `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new);
        // SAFETY: `p` came from `System` with `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// `f()` and the bytes this thread allocated during it.
fn asked<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ASKED.with(Cell::get);
    let r = f();
    (r, ASKED.with(Cell::get) - before)
}

impl T {
    fn open(&self, path: &str) -> i32 {
        self.fs
            .openat(
                &self.cpu,
                AT_FDCWD,
                path.as_bytes(),
                O_RDONLY | O_DIRECTORY,
                0,
            )
            .unwrap()
    }

    /// `n` empty files in the new host directory `name`.
    fn fill(&self, name: &str, n: usize) {
        let d = self.dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        for i in 0..n {
            std::fs::File::create(d.join(format!("f{i:05}"))).unwrap();
        }
    }
}

/// A record: (ino, d_off, type, name).
type Dirent = (u64, i64, u8, String);

/// Parse `linux_dirent64` records.
fn dirents(b: &[u8]) -> Vec<Dirent> {
    let mut v = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let ino = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let off = i64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap());
        let reclen = u16::from_le_bytes(b[at + 16..at + 18].try_into().unwrap()) as usize;
        assert_eq!(reclen % 8, 0);
        let name = &b[at + 19..at + reclen];
        let n = name.iter().position(|&c| c == 0).unwrap();
        assert!(name[n..].iter().all(|&c| c == 0), "zero padding");
        v.push((
            ino,
            off,
            b[at + 18],
            String::from_utf8(name[..n].to_vec()).unwrap(),
        ));
        at += reclen;
    }
    v
}

/// Every record of `fd` from its position on, `count` bytes a call.
fn list(fs: &Fs, fd: i32, count: usize) -> Vec<Dirent> {
    let mut all = Vec::new();
    loop {
        let b = fs.getdents64(fd, count).unwrap();
        if b.is_empty() {
            return all;
        }
        all.extend(dirents(&b));
    }
}

/// The host's own listing of `path`: name → d_off.
fn host_cookies(path: &std::path::Path) -> HashMap<String, i64> {
    let d = std::fs::File::open(path).unwrap();
    let mut buf = vec![std::mem::MaybeUninit::uninit(); 1 << 16];
    let mut it = rustix::fs::RawDir::new(&d, &mut buf);
    let mut m = HashMap::new();
    while let Some(e) = it.next() {
        let e = e.unwrap();
        let name = e.file_name().to_str().unwrap().to_string();
        m.insert(name, e.next_entry_cookie() as i64);
    }
    m
}

#[test]
fn a_large_directory_streams_in_bounded_host_memory() {
    const N: usize = 20_000;
    let t = setup();
    t.fill("big", N);
    let d = t.open("/big");
    // A small buffer: many calls, each allocating a bounded amount
    // whatever the directory's size (listing it whole per call, as
    // ferrite did, allocates more than a megabyte each time).
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut calls, mut most) = (0, 0);
    loop {
        let (b, bytes) = asked(|| t.fs.getdents64(d, 512).unwrap());
        most = most.max(bytes);
        assert!(bytes <= 8 << 10, "call {calls} allocated {bytes} bytes");
        if b.is_empty() {
            break;
        }
        assert!(b.len() <= 512);
        calls += 1;
        for e in dirents(&b) {
            *seen.entry(e.3).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), N + 2);
    assert!(seen.values().all(|&n| n == 1), "each name once");
    assert!(seen.contains_key(".") && seen.contains_key(".."));
    assert!(calls >= N * 32 / 512, "{calls} calls");
    // A huge guest count: at most one chunk of records, and host memory
    // bounded by it, not by the count or the directory.
    t.fs.lseek(d, 0, SEEK_SET).unwrap();
    let (b, bytes) = asked(|| t.fs.getdents64(d, 1 << 30).unwrap());
    assert!(!b.is_empty() && b.len() <= CHUNK, "{}", b.len());
    assert!(bytes <= 3 * CHUNK, "{bytes} bytes for one call");
    // And the rest from there, each name once in all.
    let mut names: Vec<String> = dirents(&b).into_iter().map(|e| e.3).collect();
    names.extend(list(&t.fs, d, 1 << 30).into_iter().map(|e| e.3));
    assert_eq!(names.len(), N + 2);
    names.sort();
    names.dedup();
    assert_eq!(names.len(), N + 2);
    eprintln!("{calls} calls of 512 bytes; at most {most} bytes allocated by one");
}

#[test]
fn d_off_is_the_host_cookie_and_lseek_back_resumes_there() {
    let t = setup();
    // Big enough for ext4 to index it (hash cookies).
    t.fill("d", 1000);
    let d = t.open("/d");
    let all = list(&t.fs, d, 256);
    assert_eq!(all.len(), 1002);
    // The cookies are the host's own, not ferrite's indices.
    let host = host_cookies(&t.dir.path().join("d"));
    for e in &all {
        assert_eq!(host.get(&e.3), Some(&e.1), "{}", e.3);
    }
    // telldir after a call is the d_off of its last record.
    t.fs.lseek(d, 0, SEEK_SET).unwrap();
    let first = dirents(&t.fs.getdents64(d, 256).unwrap());
    assert_eq!(first[..], all[..first.len()]);
    let saved = t.fs.lseek(d, 0, SEEK_CUR).unwrap() as i64;
    assert_eq!(saved, first.last().unwrap().1);
    // Read on, then seek back to saved cookies: the listing resumes at
    // the record after each.
    let _ = list(&t.fs, d, 4096);
    for k in [0, 1, 2, 500, 999, 1000] {
        assert_eq!(t.fs.lseek(d, all[k].1, SEEK_SET).unwrap() as i64, all[k].1);
        let next = dirents(&t.fs.getdents64(d, 256).unwrap());
        assert_eq!(next[..], all[k + 1..k + 1 + next.len()], "after {k}");
    }
    // At the end: nothing more; a negative position is EINVAL.
    t.fs.lseek(d, all[1001].1, SEEK_SET).unwrap();
    assert!(t.fs.getdents64(d, 4096).unwrap().is_empty());
    assert_eq!(t.fs.lseek(d, -1, SEEK_SET), Err(EINVAL));
    // Too small a buffer for the next record.
    t.fs.lseek(d, 0, SEEK_SET).unwrap();
    assert_eq!(t.fs.getdents64(d, 8), Err(EINVAL));
    assert_eq!(dirents(&t.fs.getdents64(d, 4096).unwrap())[0], all[0]);
}

#[test]
fn the_root_names_itself_as_dotdot_and_lists_proc_once() {
    let t = setup();
    t.fill("sub", 3);
    let r = t.open("/");
    // One record per call.
    let all = list(&t.fs, r, 24);
    let named = |n: &str| all.iter().filter(|e| e.3 == n).cloned().collect::<Vec<_>>();
    let root_ino = std::fs::metadata(t.dir.path()).unwrap();
    let root_ino = std::os::unix::fs::MetadataExt::ino(&root_ino);
    assert_eq!(named(".")[0].0, root_ino);
    assert_eq!(named("..")[0].0, root_ino, "/.. is /");
    assert_eq!(named("proc").len(), 1, "{all:?}");
    assert_eq!(named("proc")[0].2, DT_DIR);
    // The built-in /dev, listed once, before proc.
    assert_eq!(named("dev").len(), 1, "{all:?}");
    assert_eq!(named("dev")[0].1, DEV_COOKIE);
    assert_eq!(all.len(), 5);
    // Past proc: the end, and it stays there.
    assert!(t.fs.getdents64(r, 4096).unwrap().is_empty());
    assert!(t.fs.getdents64(r, 4096).unwrap().is_empty());
    let proc_off = named("proc")[0].1;
    assert_eq!(proc_off, PROC_COOKIE);
    assert_eq!(t.fs.lseek(r, 0, SEEK_CUR).unwrap() as i64, proc_off);
    // Seeking to proc's cookie is the end; to the record's before it
    // lists proc again, once.
    assert_eq!(t.fs.lseek(r, proc_off, SEEK_SET).unwrap() as i64, proc_off);
    assert!(t.fs.getdents64(r, 4096).unwrap().is_empty());
    let before = all.iter().position(|e| e.3 == "proc").unwrap() - 1;
    t.fs.lseek(r, all[before].1, SEEK_SET).unwrap();
    assert_eq!(list(&t.fs, r, 4096), all[before + 1..]);
    // From the start again: proc once, whatever the buffer.
    t.fs.lseek(r, 0, SEEK_SET).unwrap();
    assert_eq!(list(&t.fs, r, 1 << 20), all);
    // A non-root directory lists no proc and its own `..`.
    let s = t.open("/sub");
    let sub = list(&t.fs, s, 4096);
    assert_eq!(sub.len(), 5);
    assert!(!sub.iter().any(|e| e.3 == "proc"));
    assert_eq!(sub.iter().find(|e| e.3 == "..").unwrap().0, root_ino);
    // A host proc at the root is listed as the host has it, once.
    std::fs::create_dir(t.dir.path().join("proc")).unwrap();
    let r2 = t.open("/");
    let all2 = list(&t.fs, r2, 24);
    assert_eq!(all2.iter().filter(|e| e.3 == "proc").count(), 1, "{all2:?}");
    assert_eq!(all2.len(), 5);
    // Seeking past ferrite's dev: nothing more (the host has proc).
    t.fs.lseek(r2, DEV_COOKIE, SEEK_SET).unwrap();
    assert!(t.fs.getdents64(r2, 4096).unwrap().is_empty());
}

#[test]
fn getdents_errors_come_in_linux_order() {
    let t = setup();
    std::fs::write(t.dir.path().join("file"), b"x").unwrap();
    let f =
        t.fs.openat(&t.cpu, AT_FDCWD, b"/file", O_RDONLY, 0)
            .unwrap();
    assert_eq!(t.fs.getdents64(f, 4096), Err(ENOTDIR));
    assert_eq!(t.fs.getdents64(99, 4096), Err(EBADF));
    let p =
        t.fs.openat(&t.cpu, AT_FDCWD, b"/", O_PATH | O_DIRECTORY, 0)
            .unwrap();
    assert_eq!(t.fs.getdents64(p, 4096), Err(EBADF));
    assert_eq!(t.fs.lseek(p, 0, SEEK_SET), Err(EBADF));
}
