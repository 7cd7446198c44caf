//! The `ferrite` binary, run as a user runs it.

use std::process::{Command, Output};

fn ferrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .output()
        .expect("run ferrite")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// Run and expect success; returns stdout.
fn ok(args: &[&str]) -> String {
    let o = ferrite(args);
    assert!(
        o.status.success(),
        "ferrite {args:?} failed: {}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    stdout(&o)
}

/// Run and expect a usage error: exit 2, a message, no panic, nothing on stdout.
fn usage_error(args: &[&str]) -> String {
    let o = ferrite(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "ferrite {args:?}: {err}");
    assert!(
        !err.contains("panicked"),
        "ferrite {args:?} panicked: {err}"
    );
    assert!(
        err.contains("error"),
        "ferrite {args:?}: no message: {err:?}"
    );
    assert_eq!(stdout(&o), "", "ferrite {args:?} booted anyway");
    err
}

fn lines_starting<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn boot_with_defaults_prints_the_reports() {
    let out = ok(&["boot"]);
    assert!(
        out.contains("fork_init: kmem_cache_create(\"task_struct\""),
        "{out}"
    );
    assert!(out.contains("__get_free_pages(GFP_KERNEL, 3)"), "{out}");
    assert!(out.contains("kmalloc(sizeof(struct dog)"), "{out}");
    assert!(out.contains("slabinfo - version: 2.1"), "{out}");
    assert_eq!(
        lines_starting(&out, "Node 0, zone   Normal").len(),
        1,
        "{out}"
    );
    assert_eq!(lines_starting(&out, "MemTotal:").len(), 1, "{out}");
    // Task structs stay allocated: the task_struct row shows live objects.
    let row = lines_starting(&out, "task_struct ")[0];
    let active: usize = row.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(active >= 5, "{row}");
    // Default order: meminfo, buddyinfo, slabinfo.
    let (m, b, s) = (
        out.find("MemTotal:").unwrap(),
        out.find("Node 0, zone").unwrap(),
        out.find("slabinfo - version").unwrap(),
    );
    assert!(m < b && b < s, "{out}");
}

#[test]
fn show_buddyinfo_only() {
    let out = ok(&["boot", "--show", "/proc/buddyinfo"]);
    assert_eq!(
        lines_starting(&out, "Node 0, zone   Normal").len(),
        1,
        "{out}"
    );
    assert!(!out.contains("MemTotal:"), "{out}");
    assert!(!out.contains("slabinfo - version"), "{out}");
}

#[test]
fn show_order_is_kept() {
    let out = ok(&[
        "boot",
        "--show",
        "/proc/slabinfo",
        "--show",
        "/proc/zoneinfo",
        "--show",
        "/proc/meminfo",
    ]);
    let s = out.find("slabinfo - version").unwrap();
    let z = out.find("pages free").unwrap();
    let m = out.find("MemTotal:").unwrap();
    assert!(s < z && z < m, "{out}");
    // A blank line separates two files.
    assert!(out[..m].ends_with("\n\n"), "{out}");
    assert!(
        !out.contains("Node 0, zone   Normal      "),
        "buddyinfo not asked for: {out}"
    );
}

#[test]
fn small_machine_with_two_cpus() {
    let out = ok(&[
        "boot",
        "--mem",
        "64M",
        "--cpus",
        "2",
        "--show",
        "/proc/meminfo",
    ]);
    assert!(out.contains("2 CPUs"), "{out}");
    let total: usize = lines_starting(&out, "MemTotal:")[0]
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 0 && total <= 64 << 10, "{out}");
}

#[test]
fn size_suffixes_are_accepted() {
    for mem in ["32m", "32MiB", "33554432", "32768K"] {
        let out = ok(&["boot", "--mem", mem, "--show", "/proc/meminfo"]);
        assert!(out.contains("/32768K available"), "--mem {mem}: {out}");
    }
}

#[test]
fn bad_mem_is_refused() {
    for mem in ["abc", "0", "1M", "12Q", "65G", "99999999999999999999999"] {
        let err = usage_error(&["boot", "--mem", mem]);
        assert!(err.contains(&format!("--mem {mem}")), "{err}");
    }
    let err = usage_error(&["boot", "--mem", "1M"]);
    assert!(
        err.contains("--mem 1M is too small: ferrite needs at least 4M"),
        "{err}"
    );
    usage_error(&["slabtop", "--mem", "abc"]);
}

#[test]
fn bad_cpus_are_refused() {
    for cpus in ["0", "65"] {
        let err = usage_error(&["boot", "--cpus", cpus]);
        assert!(err.contains(&format!("--cpus {cpus}")), "{err}");
    }
    usage_error(&["boot", "--cpus", "many"]);
    usage_error(&["slabtop", "--cpus", "0"]);
}

#[test]
fn unknown_proc_file_is_refused() {
    let err = usage_error(&["boot", "--show", "/proc/nope"]);
    assert!(err.contains("/proc/nope"), "{err}");
    for p in [
        "/proc/slabinfo",
        "/proc/buddyinfo",
        "/proc/meminfo",
        "/proc/zoneinfo",
    ] {
        assert!(err.contains(p), "valid paths not named: {err}");
    }
    // Checked before booting, even after a good one.
    usage_error(&["boot", "--show", "/proc/meminfo", "--show", "meminfo"]);
}

#[test]
fn unknown_arguments_are_usage_errors() {
    usage_error(&["boot", "--bogus"]);
    usage_error(&["reboot"]);
    // No command: clap prints the help to stderr and exits 2.
    let o = ferrite(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage: ferrite"), "{}", stderr(&o));
}

#[test]
fn slab_debug_boots() {
    let out = ok(&["boot", "--slab-debug", "--mem", "32M"]);
    assert!(out.contains("slab_debug on"), "{out}");
    assert!(out.contains("red zones"), "{out}");
    assert!(out.contains("slabinfo - version: 2.1"), "{out}");
}

#[test]
fn smallest_and_widest_machine() {
    ok(&[
        "boot",
        "--mem",
        "4M",
        "--cpus",
        "64",
        "--show",
        "/proc/buddyinfo",
    ]);
}

#[test]
fn slabtop_prints_once() {
    let out = ok(&["slabtop", "--mem", "64M", "--cpus", "2"]);
    assert!(out.starts_with(" Active / Total Objects (% used)"), "{out}");
    let header = lines_starting(
        &out,
        "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME",
    );
    assert_eq!(header.len(), 1, "{out}");
    assert!(out.contains("task_struct"), "{out}");
    assert!(
        !out.contains("fork_init"),
        "slabtop runs the demo quietly: {out}"
    );
}

#[test]
fn version_and_help() {
    assert!(ok(&["--version"]).starts_with("ferrite "));
    let help = ok(&["boot", "--help"]);
    for flag in ["--mem", "--cpus", "--slab-debug", "--show"] {
        assert!(help.contains(flag), "{help}");
    }
}

/// `ferrite run FILE` for a FILE that is not a program ferrite runs: exit
/// status 2 and one line naming the file and the reason.
fn run_refused(name: &str, bytes: Option<&[u8]>) -> String {
    let dir = std::env::temp_dir().join(format!("ferrite-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    if let Some(b) = bytes {
        std::fs::write(&path, b).unwrap();
    }
    let p = path.to_string_lossy().into_owned();
    let o = ferrite(&["run", &p]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "ferrite run {p}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(&format!("ferrite: {p}: ")), "{err}");
    assert!(o.stdout.is_empty());
    err
}

/// A minimal ELF64 header with the given class, data and machine.
fn elf_header(class: u8, data: u8, machine: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = class;
    h[5] = data;
    h[6] = 1;
    h[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    h[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    h[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    h[56..58].copy_from_slice(&3u16.to_le_bytes()); // e_phnum: past the end
    h
}

#[test]
fn run_refuses_what_is_not_a_riscv64_program() {
    assert!(run_refused("missing", None).contains("No such file"));
    assert!(run_refused("empty", Some(b"")).contains("not an ELF file"));
    assert!(run_refused("script", Some(b"#!/bin/sh\necho hi\n")).contains("not an ELF file"));
    assert!(run_refused("x86", Some(&elf_header(2, 1, 62))).contains("x86-64"));
    assert!(run_refused("elf32", Some(&elf_header(1, 1, 243))).contains("32-bit"));
    let e = run_refused("truncated", Some(&elf_header(2, 1, 243)));
    assert!(e.contains("truncated"), "{e}");
    let e = run_refused("half", Some(&elf_header(2, 1, 243)[..30]));
    assert!(e.contains("ELF"), "{e}");
}

#[test]
fn run_usage_errors() {
    usage_error(&["run"]);
    usage_error(&["run", "--cpus", "0", "x"]);
    usage_error(&["run", "--mem", "1K", "x"]);
    usage_error(&["run", "--show", "/etc/passwd", "x"]);
    usage_error(&["run", "--root", "/nonexistent-ferrite-root", "x"]);
}
