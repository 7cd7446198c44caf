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
    let dir = scratch(name);
    let path = dir.join(name);
    if let Some(b) = bytes {
        // Executable: only the contents are wrong.
        write_exe(&path, b, 0o755);
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

// ---------------------------------------------------------------------------
// Programs built here, byte by byte, so these tests need no cross compiler.

/// A static riscv64 ELF that exits with its argc (`ld a0, 0(sp); li a7, 93;
/// ecall`): one PT_LOAD (r-x) at 0x10000 holding the whole file, and, with
/// `interp`, a PT_INTERP naming it.
fn tiny_elf(interp: Option<&[u8]>) -> Vec<u8> {
    let nph: u16 = if interp.is_some() { 2 } else { 1 };
    let code_off = 64 + 56 * u64::from(nph);
    let code: [u32; 3] = [0x0001_3503, 0x05d0_0893, 0x0000_0073];
    let mut f = vec![0u8; 64];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little-endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&(0x10000 + code_off).to_le_bytes()); // e_entry
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    f[56..58].copy_from_slice(&nph.to_le_bytes()); // e_phnum
    let interp_off = code_off + 12;
    let total = interp_off + interp.map_or(0, |i| i.len() as u64 + 1);
    let phdr = |p_type: u32, flags: u32, off: u64, vaddr: u64, size: u64, align: u64| {
        let mut p = Vec::with_capacity(56);
        p.extend_from_slice(&p_type.to_le_bytes());
        p.extend_from_slice(&flags.to_le_bytes());
        for v in [off, vaddr, vaddr, size, size, align] {
            p.extend_from_slice(&v.to_le_bytes());
        }
        p
    };
    if let Some(i) = interp {
        // PT_INTERP first, as linkers place it.
        f.extend(phdr(
            3,
            4,
            interp_off,
            0x10000 + interp_off,
            i.len() as u64 + 1,
            1,
        ));
    }
    f.extend(phdr(1, 5, 0, 0x10000, total, 0x1000)); // PT_LOAD r-x
    for w in code {
        f.extend_from_slice(&w.to_le_bytes());
    }
    if let Some(i) = interp {
        f.extend_from_slice(i);
        f.push(0);
    }
    assert_eq!(f.len() as u64, total);
    f
}

/// A fresh directory for one test, removed when the test ends.
struct Scratch(std::path::PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("ferrite-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Write an executable file.
fn write_exe(path: &std::path::Path, bytes: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Longest a run may take in these tests before the watchdog kills it.
const WATCHDOG: std::time::Duration = std::time::Duration::from_secs(30);

/// Run ferrite with `env` set, killing it (and failing) after [`WATCHDOG`].
fn ferrite_watched(args: &[&str], env: &[(&str, &str)]) -> Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ferrite");
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ferrite {args:?} {env:?}: still running after {WATCHDOG:?}; killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

#[test]
fn tiny_elf_runs_and_exits_with_argc() {
    let dir = scratch("tiny");
    let prog = dir.join("tiny");
    write_exe(&prog, &tiny_elf(None), 0o755);
    let p = prog.to_str().unwrap();
    let o = ferrite_watched(&["run", p], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = ferrite_watched(&["run", p, "a", "b"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

/// Everything after PROGRAM is the program's, even words that look like
/// ferrite's options; ferrite's options come before PROGRAM.
#[test]
fn arguments_after_the_program_are_the_programs() {
    let dir = scratch("args");
    let prog = dir.join("tiny");
    write_exe(&prog, &tiny_elf(None), 0o755);
    let p = prog.to_str().unwrap();
    // argc 3: the program, -V and --stats.
    let o = ferrite_watched(&["run", p, "-V", "--stats"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "ferrite took the program's options");
    assert!(o.stdout.is_empty(), "ferrite printed its version");
    let o = ferrite_watched(&["run", p, "--help", "--", "--cpus", "2"], &[]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    // Before the program they are ferrite's.
    let o = ferrite_watched(&["run", "--stats", p, "x"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(" instructions, "), "{}", stderr(&o));
    // `--` still ends ferrite's options.
    let o = ferrite_watched(&["run", "--cpus", "2", "--", p, "-x"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Not a regular file: refused at once (the watchdog catches a hang),
/// exit status 2, one line naming the file and what it is.
fn refused_at_once(path: &std::path::Path, kind: &str) {
    let p = path.to_str().unwrap();
    let o = ferrite_watched(&["run", p], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "ferrite run {p}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("ferrite: {p}: not a regular file ({kind})")),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn run_refuses_a_fifo_without_blocking() {
    let dir = scratch("fifo");
    let fifo = dir.join("fifo");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    // Executable, so only its type refuses it.
    write_exe_mode(&fifo, 0o755);
    refused_at_once(&fifo, "a FIFO");
}

fn write_exe_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn run_refuses_a_character_device() {
    refused_at_once(std::path::Path::new("/dev/zero"), "a character device");
    refused_at_once(std::path::Path::new("/dev/null"), "a character device");
}

#[test]
fn run_refuses_a_directory() {
    let dir = scratch("dir");
    refused_at_once(&dir, "a directory");
}

#[test]
fn run_refuses_a_socket() {
    let dir = scratch("sock");
    let sock = dir.join("sock");
    let _l = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    write_exe_mode(&sock, 0o755);
    refused_at_once(&sock, "a socket");
}

#[test]
fn run_permission_error_names_the_file() {
    let dir = scratch("perm");
    let prog = dir.join("not-executable");
    write_exe(&prog, &tiny_elf(None), 0o644);
    let p = prog.to_str().unwrap();
    let o = ferrite_watched(&["run", p], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("ferrite: {p}: Permission denied")),
        "{err}"
    );
}

#[test]
fn run_escapes_an_untrusted_interpreter_path() {
    let dir = scratch("interp");
    let prog = dir.join("dynamic");
    write_exe(
        &prog,
        &tiny_elf(Some(
            b"/lib/ld.so\nferrite: fake line\x1b[2J\x1b]0;title\x07\r",
        )),
        0o755,
    );
    let p = prog.to_str().unwrap();
    let o = ferrite_watched(&["run", p], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains(['\x1b', '\x07', '\r']), "{err:?}");
    assert!(
        err.contains("dynamically linked (needs /lib/ld.so\\nferrite: fake line\\x1b[2J\\x1b]0;title\\x07\\r)"),
        "{err:?}"
    );
}

#[test]
fn run_show_paths_are_checked_before_boot() {
    for bad in [
        "/proc/../etc/passwd",
        "/proc/nope",
        "/proc/2/maps",
        "/proc/1/../meminfo",
        "/proc/self/environ",
        "/proc/1",
    ] {
        let err = usage_error(&["run", "--show", bad, "/nonexistent-program"]);
        assert!(
            err.contains(&format!("--show {bad}: no such file")),
            "{err}"
        );
        assert!(err.contains("/proc/meminfo"), "{err}");
    }
    let dir = scratch("show");
    let prog = dir.join("tiny");
    write_exe(&prog, &tiny_elf(None), 0o755);
    let p = prog.to_str().unwrap();
    let o = ferrite_watched(
        &[
            "run",
            "--show",
            "/proc/self/maps",
            "--show",
            "/proc/1/comm",
            "--show",
            "/proc/meminfo",
            // The program inside the root: maps names it by its guest path
            // (outside the root it is `(unreachable)`, no host path).
            "--root",
            dir.to_str().unwrap(),
            p,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let maps = out
        .split("==> /proc/self/maps <==\n")
        .nth(1)
        .expect("maps shown");
    assert!(
        maps.starts_with("00010000-00011000 r-xp 00000000 "),
        "{out}"
    );
    assert!(maps.contains(" /tiny\n"), "{out}");
    assert!(out.contains("==> /proc/1/comm <==\ntiny\n"), "{out}");
    assert!(out.contains("==> /proc/meminfo <==\nMemTotal:"), "{out}");
}

/// The test binary's ferrite has the fault-injection hook (the kernel's
/// `fault-injection` feature, a dev-dependency): FERRITE_INJECT_PANIC=N
/// panics the kernel at the Nth system call. On any number of CPUs, the
/// run ends (the watchdog catches a hang) with exit status 70 and Linux's
/// panic report on stderr.
#[test]
fn kernel_panic_ends_the_run_with_status_70() {
    let dir = scratch("panic");
    let prog = dir.join("tiny");
    write_exe(&prog, &tiny_elf(None), 0o755);
    let p = prog.to_str().unwrap();
    for cpus in ["1", "2", "4"] {
        let o = ferrite_watched(
            &["run", "--cpus", cpus, p, "arg"],
            &[("FERRITE_INJECT_PANIC", "1")],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(70), "--cpus {cpus}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 5, "--cpus {cpus}: {err}");
        assert_eq!(lines[0], "------------[ cut here ]------------");
        assert!(
            lines[1].starts_with("kernel BUG at crates/kernel/src/") && lines[1].ends_with('!'),
            "{err}"
        );
        let cpu: usize = lines[2]
            .strip_prefix("CPU: ")
            .and_then(|l| l.split(' ').next())
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no CPU line: {err}"));
        assert!(cpu < cpus.parse().unwrap(), "{err}");
        assert!(
            lines[2].contains(" PID: 1 Comm: tiny "),
            "--cpus {cpus}: {err}"
        );
        let msg = "fault injection: BUG at system call 1";
        assert_eq!(lines[3], format!("Kernel panic - not syncing: {msg}"));
        assert_eq!(
            lines[4],
            format!("---[ end Kernel panic - not syncing: {msg} ]---")
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(o.stdout.is_empty());
    }
    // While init starts, on the thread that boots: CPU 0, no task yet.
    let o = ferrite_watched(&["run", "--cpus", "2", p], &[("FERRITE_INJECT_PANIC", "0")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(70), "{err}");
    assert!(
        err.contains("\nCPU: 0 PID: 0 Comm: swapper/0 ferrite "),
        "{err}"
    );
    assert!(
        err.contains("\nKernel panic - not syncing: fault injection: BUG while starting init\n"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 5, "{err}");
    // Without the injection the same run exits normally.
    let o = ferrite_watched(&["run", "--cpus", "4", p, "arg"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
