//! The deterministic mode end to end: `ferrite run --deterministic
//! [--seed N]` runs `user/build/detrace` (threads racing on a counter
//! without locks, clocks, random bytes, forked processes) and the same
//! program with the same seed must print the same bytes, however the
//! host schedules ferrite's threads (the two runs go at the same time, on
//! a host that is busy with them both); another seed changes the random
//! bytes. The virtual clock follows the instructions retired exactly, and
//! a sleep takes no host time.

use std::process::Command;
use std::time::Duration;

mod common;
use common::{build, root, run_command, Run};

const TIMEOUT: Duration = Duration::from_secs(120);

/// `ferrite run OPTIONS... user/build/detrace ARGS...` from the workspace
/// root, with an empty environment (the program's environment is input
/// to it, as its arguments are).
fn detrace(options: &[&str], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.env_clear()
        .arg("run")
        .args(options)
        .arg("user/build/detrace")
        .args(args);
    let what = format!("ferrite run {options:?} detrace {args:?}");
    let r = run_command(cmd, Some(&root()), what, TIMEOUT);
    assert_eq!(r.status, 0, "{}: {}\n{}", r.what, r.stdout, r.stderr);
    r
}

/// The lines of `out` that start with `prefix`.
fn lines<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// A number after `key ` in `line`.
fn field(line: &str, key: &str) -> u64 {
    let at = line
        .find(&format!("{key} "))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"));
    line[at + key.len() + 1..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {key} in {line:?}"))
}

#[test]
fn same_seed_same_output_on_four_cpus() {
    build();
    let opts = ["--cpus", "4", "--deterministic", "--seed", "42"];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| detrace(&opts, &[]));
        let b = s.spawn(|| detrace(&opts, &[]));
        (a.join().expect("run a"), b.join().expect("run b"))
    });
    assert_eq!(a.stdout, b.stdout, "two runs with seed 42 differ");
    let out = &a.stdout;
    // Everything the program reports is there.
    assert_eq!(lines(out, "thread ").len(), 4, "{out}");
    assert_eq!(lines(out, "child ").len(), 3, "{out}");
    assert_eq!(lines(out, "reaped pid ").len(), 3, "{out}");
    // The threads really ran at once: the log of who ran is interleaved
    // (more runs than threads) and updates of the counter were lost.
    let order = lines(out, "order")[0];
    assert!(order.split(' ').count() > 8, "{order}");
    let counter = lines(out, "counter ")[0];
    assert!(field(counter, "lost") > 0, "{counter}");
    // The clocks are virtual: a fixed boot date (2026-01-01) plus the
    // nanoseconds the run has taken, well under a second here.
    let real = lines(out, "clock REALTIME ")[0];
    let mono = lines(out, "clock MONOTONIC ")[0];
    let (real, mono) = (field(real, "REALTIME"), field(mono, "MONOTONIC"));
    assert!(mono < 1_000_000_000, "{mono}");
    assert!(
        (1_767_225_600_000_000_000..1_767_225_601_000_000_000).contains(&real),
        "{real}"
    );
}

#[test]
fn same_seed_same_output_on_one_cpu() {
    build();
    let opts = ["--cpus", "1", "--deterministic", "--seed", "7"];
    let a = detrace(&opts, &[]);
    let b = detrace(&opts, &[]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn the_seed_drives_the_random_bytes() {
    build();
    let run = |seed: &str| {
        detrace(
            &["--cpus", "2", "--deterministic", "--seed", seed],
            &["random"],
        )
    };
    let (a, a2, b) = (run("1"), run("1"), run("2"));
    assert_eq!(a.stdout, a2.stdout);
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.stdout.lines().collect(), b.stdout.lines().collect());
    assert_eq!(la.len(), 3, "{}", a.stdout);
    assert_eq!(lb.len(), 3, "{}", b.stdout);
    for (x, y) in la.iter().zip(&lb) {
        // Same source, different bytes.
        assert_eq!(x.split(' ').next(), y.split(' ').next());
        assert_ne!(x, y, "seed 1 and seed 2 gave the same {x}");
    }
    // Without --seed: seed 0, still reproducible.
    let z = detrace(&["--deterministic"], &["random"]);
    let z2 = detrace(&["--deterministic"], &["random"]);
    assert_eq!(z.stdout, z2.stdout);
    assert_ne!(z.stdout, a.stdout);
    // The racing program: its threads' getrandom bytes follow the seed.
    let opts = |seed| ["--cpus", "4", "--deterministic", "--seed", seed];
    let r1 = detrace(&opts("42"), &[]);
    let r2 = detrace(&opts("43"), &[]);
    let g1: Vec<&str> = lines(&r1.stdout, "thread ");
    let g2: Vec<&str> = lines(&r2.stdout, "thread ");
    assert_eq!(g1.len(), 4);
    for (x, y) in g1.iter().zip(&g2) {
        let rand = |l: &str| l.rsplit(' ').next().unwrap_or_default().to_string();
        assert_ne!(rand(x), rand(y), "{x} / {y}");
    }
}

#[test]
fn the_clock_counts_instructions() {
    build();
    // A loop of 2N instructions between two clock readings: the elapsed
    // virtual time grows by exactly 2 ns per iteration, on both the
    // system call's clock and the time CSR (10 MHz: 100 ns a tick).
    let spin = |n: &str| {
        let r = detrace(&["--deterministic"], &["spin", n]);
        let l = lines(&r.stdout, "monotonic ")[0].to_string();
        (field(&l, "monotonic"), field(&l, "rdtime"))
    };
    let (m1, t1) = spin("1000000");
    let (m3, t3) = spin("3000000");
    assert_eq!(m3 - m1, 4_000_000, "{m1} {m3}");
    assert_eq!(t3 - t1, 40_000, "{t1} {t3}");
    assert!((2_000_000..2_001_000).contains(&m1), "{m1}");
    // And again: the same numbers.
    assert_eq!(spin("1000000"), (m1, t1));
}

#[test]
fn a_sleep_jumps_virtual_time() {
    build();
    // 30 s of virtual sleep: the machine has nothing else to do, so time
    // jumps to the timer; the host spends well under a second on it.
    let r = detrace(&["--cpus", "2", "--deterministic"], &["sleep", "30"]);
    let l = lines(&r.stdout, "nanosleep ")[0];
    assert!(l.starts_with("nanosleep 0 "), "{l}");
    let slept = field(l, "slept");
    assert!(
        (30_000_000_000..30_000_100_000).contains(&slept),
        "slept {slept} ns"
    );
    assert!(
        r.secs < 10.0,
        "a 30 s virtual sleep took {} s of host time",
        r.secs
    );
}

#[test]
fn seed_needs_deterministic() {
    build();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(["run", "--seed", "3", "user/build/detrace", "random"])
        .current_dir(root())
        .output()
        .expect("run ferrite");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--deterministic"), "{err}");
}
