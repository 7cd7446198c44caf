//! The syscall fuzz (issue 8 §2): `user/fuzz.c` makes thousands of random
//! system calls (random numbers; valid, unmapped, read-only and
//! kernel-half pointers; huge and page-straddling lengths) under
//! `ferrite run`, for many seeds, each in a throw-away `--root`.
//!
//! Each run must end as the program ends (exit 0 after all its calls, or
//! an OOM kill that ferrite reports), never by a Rust panic, an abort or
//! one of ferrite's own failure codes; it must not hang (a watchdog kills
//! it); and ferrite's host memory must stay bounded: the child's peak RSS
//! (`wait4`'s `ru_maxrss`) under the guest's RAM plus [`HOST_SLACK`].
//! Nothing may appear next to the root. The fuzz program must be built
//! (no vacuous pass).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{build, root};

/// Seeds run.
const SEEDS: u64 = 64;
/// Of which the first few run with `--strace`.
const STRACE_SEEDS: u64 = 4;
/// Calls per seed.
const CALLS: u64 = 4000;
/// Guest RAM.
const GUEST_MEM: &str = "64M";
const GUEST_BYTES: u64 = 64 << 20;
/// Host memory allowed beyond the guest's RAM.
const HOST_SLACK: u64 = 200 << 20;
/// A run taking longer is a hang.
const WATCHDOG: Duration = Duration::from_secs(60);

/// How one run ended.
struct Outcome {
    /// The shell's view: the code, or 128 + the signal.
    status: i32,
    /// Peak resident set, bytes.
    max_rss: u64,
    stdout: String,
    stderr: String,
}

/// Run `cmd` with stdout and stderr going to files in `logs`; wait with
/// `wait4` (for the child's rusage), killing it after [`WATCHDOG`].
fn run(mut cmd: Command, logs: &Path, what: &str) -> Outcome {
    let out = logs.join("stdout");
    let err = logs.join("stderr");
    // Reaped below with wait4 (which std's `wait` cannot give the rusage of).
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out).expect("stdout file"))
        .stderr(File::create(&err).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    loop {
        // SAFETY: `pid` is our child, not yet reaped (std's Child is never
        // waited on); the out pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break;
        }
        assert!(r == 0, "{what}: wait4: {}", std::io::Error::last_os_error());
        if !killed && start.elapsed() > WATCHDOG {
            // SAFETY: signalling our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(
        !killed,
        "{what}: still running after {WATCHDOG:?}: killed\nstderr (tail):\n{}",
        tail(&stderr)
    );
    let status = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Outcome {
        status,
        max_rss: ru.ru_maxrss as u64 * 1024,
        stdout,
        stderr,
    }
}

fn tail(s: &str) -> String {
    let l: Vec<&str> = s.lines().collect();
    l[l.len().saturating_sub(15)..].join("\n")
}

/// One seed in a fresh root (with `--strace`: its decoding of hostile
/// pointers and lengths must be as safe as the calls).
fn fuzz_seed(seed: u64, strace: bool) -> Outcome {
    let prog = root().join("user/build/fuzz");
    assert!(
        prog.is_file(),
        "{} is not built: the fuzz cannot run",
        prog.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let guest = dir.path().join("root");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&guest).unwrap();
    std::fs::create_dir(&logs).unwrap();
    // The fuzz program runs only where this marker says the root is
    // throw-away.
    File::create(guest.join("FUZZ_ROOT_OK")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run");
    if strace {
        cmd.arg("--strace");
    }
    cmd.arg("--mem")
        .arg(GUEST_MEM)
        .arg("--root")
        .arg(&guest)
        .arg(&prog)
        .arg(seed.to_string())
        .arg(CALLS.to_string())
        .current_dir(&guest);
    let o = run(cmd, &logs, &format!("fuzz seed {seed}"));
    // Nothing appeared next to the root (a canary for escapes from it).
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(dir.path()), ["logs", "root"], "seed {seed}");
    assert_eq!(names(&logs), ["stderr", "stdout"], "seed {seed}");
    o
}

/// Judge one run; None when it is fine.
fn verdict(seed: u64, o: &Outcome) -> Option<String> {
    let again = format!(
        "(again: ferrite run --mem {GUEST_MEM} --root TMP user/build/fuzz {seed} {CALLS} -v, with TMP/FUZZ_ROOT_OK)"
    );
    if o.stderr.contains("panicked") {
        return Some(format!(
            "seed {seed}: ferrite panicked {again}\n{}",
            tail(&o.stderr)
        ));
    }
    let oom = o.status == 128 + 9 && o.stderr.contains("Out of memory: Killed process");
    if o.status != 0 && !oom {
        return Some(format!(
            "seed {seed}: exit status {} (want 0, or an OOM kill) {again}\nstdout:\n{}\nstderr (tail):\n{}",
            o.status,
            tail(&o.stdout),
            tail(&o.stderr)
        ));
    }
    if o.status == 0
        && !o
            .stdout
            .contains(&format!("fuzz: seed {seed}: {CALLS} calls"))
    {
        return Some(format!(
            "seed {seed}: exit 0 without the fuzz's final line {again}\n{}",
            o.stdout
        ));
    }
    if o.max_rss > GUEST_BYTES + HOST_SLACK {
        return Some(format!(
            "seed {seed}: ferrite's peak RSS {} MiB is over the guest's {} MiB + {} MiB {again}",
            o.max_rss >> 20,
            GUEST_BYTES >> 20,
            HOST_SLACK >> 20
        ));
    }
    None
}

#[test]
fn syscall_fuzz_never_crashes_hangs_or_bloats_ferrite() {
    build();
    let mut failures = Vec::new();
    let mut peak = 0;
    let mut completed = 0;
    for seed in 1..=SEEDS {
        let o = fuzz_seed(seed, seed <= STRACE_SEEDS);
        peak = peak.max(o.max_rss);
        completed += u64::from(o.status == 0);
        if let Some(f) = verdict(seed, &o) {
            failures.push(f);
        } else if seed <= STRACE_SEEDS && o.stderr.lines().count() < CALLS as usize {
            failures.push(format!(
                "seed {seed}: --strace printed {} lines for {CALLS} calls",
                o.stderr.lines().count()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {SEEDS} seeds failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The measurement works (wait4 filled the rusage).
    assert!(peak > 1 << 20, "peak RSS {peak} bytes: no rusage?");
    // Most runs make all their calls (an OOM kill ends one early).
    assert!(
        completed * 2 > SEEDS,
        "only {completed} of {SEEDS} runs completed"
    );
    eprintln!(
        "fuzz: {SEEDS} seeds x {CALLS} calls, {completed} complete, peak RSS {} MiB",
        peak >> 20
    );
}

#[test]
fn the_fuzz_refuses_a_root_without_its_marker() {
    // A run outside a throw-away root must do nothing (exit 2).
    build();
    let dir = tempfile::tempdir().expect("tempdir");
    let guest = dir.path().join("root");
    let logs = dir.path().join("logs");
    std::fs::create_dir(&guest).unwrap();
    std::fs::create_dir(&logs).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run")
        .arg("--root")
        .arg(&guest)
        .arg(root().join("user/build/fuzz"))
        .arg("1")
        .current_dir(&guest);
    let o = run(cmd, &logs, "fuzz without marker");
    assert_eq!(o.status, 2, "{}", o.stderr);
    assert!(o.stderr.contains("FUZZ_ROOT_OK"), "{}", o.stderr);
    assert_eq!(std::fs::read_dir(&guest).unwrap().count(), 0);
}
