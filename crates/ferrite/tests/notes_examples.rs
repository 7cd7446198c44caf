//! The course notes' examples run the way the notes run them, in BusyBox's
//! shell on ferrite: the mmap() example (a MAP_SHARED write seen by `cat`
//! of the file afterwards) and copy-on-write after fork seen in smaps.

use std::os::unix::fs::symlink;
use std::process::{Command, Stdio};

mod common;
use common::{build, root};

fn ferrite(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ferrite");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// `./mmap_example test` then `cat test` in the shell: the notes' output.
#[test]
fn mmap_example_then_cat_in_the_shell() {
    build();
    let busybox = root().join("user/build/busybox");
    if !busybox.exists() {
        let out = Command::new("make")
            .args(["-s", "-C", "user", "busybox"])
            .current_dir(root())
            .stdin(Stdio::null())
            .output()
            .expect("make busybox");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::fs::copy(&busybox, dir.path().join("bin/busybox")).unwrap();
    symlink("busybox", dir.path().join("bin/sh")).unwrap();
    std::fs::copy(
        root().join("user/build/mmap_example"),
        dir.path().join("mmap_example"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("test"),
        "This is line one\nThis is line two\nThis is line three\nThis is line four\n",
    )
    .unwrap();
    let r = dir.path().to_str().unwrap();
    let bb = dir.path().join("bin/busybox");
    let (out, err, st) = ferrite(&[
        "run",
        "--root",
        r,
        bb.to_str().unwrap(),
        "sh",
        "-c",
        "cd / && ./mmap_example test && cat test",
    ]);
    assert_eq!(st, 0, "{err}");
    // The program prints the file as it found it...
    assert!(out.contains("mmap at : "), "{out}");
    assert!(
        out.contains("This is line one\nThis is line two\nThis is line three\n"),
        "{out}"
    );
    // ... and cat shows the write through the shared mapping (the NUL
    // strcpy left in the file shows as nothing on a terminal).
    let cat = out.replace('\0', "");
    assert!(
        cat.ends_with("This is line one\nThiLet's write over its line three\nThis is line four\n"),
        "{out:?}"
    );
    // The host file has it too (MAP_SHARED writeback).
    let host = std::fs::read(dir.path().join("test")).unwrap();
    assert_eq!(&host[17..41], b"ThiLet's write over it\0s");
}

/// The child's copy of a private page is shared (Shared_Dirty) until the
/// child writes it, then private (Private_Dirty); the parent keeps its
/// data.
#[test]
fn cow_after_fork_in_smaps() {
    build();
    let p = root().join("user/build/cow_example");
    let (out, err, st) = ferrite(&["run", p.to_str().unwrap()]);
    assert_eq!(st, 0, "{err}");
    let want = "child before its write:\n  Shared_Clean:          0 kB\n  Shared_Dirty:          4 kB\n  Private_Clean:         0 kB\n  Private_Dirty:         0 kB\n  Shared_Hugetlb:        0 kB\n  Private_Hugetlb:       0 kB\n\
child after its write:\n  Shared_Clean:          0 kB\n  Shared_Dirty:          0 kB\n  Private_Clean:         0 kB\n  Private_Dirty:         4 kB\n  Shared_Hugetlb:        0 kB\n  Private_Hugetlb:       0 kB\n\
parent still reads: written by the parent\n";
    assert_eq!(out, want);
}
