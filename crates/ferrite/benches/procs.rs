//! Processes and threads, ferrite against qemu-riscv64 on the same static
//! binary in the same run (a plain harness that prints figures; `cargo
//! bench -p ferrite --bench procs`). Issue 9, section 11.
//!
//! `user/build/bench_procs TEST N` times N iterations inside the guest
//! with `clock_gettime(CLOCK_MONOTONIC)` (after N/10 untimed warm-up
//! iterations) and prints the cost of one; so start-up and exit of the
//! emulator are not in the figures. Each test runs under `ferrite run
//! --cpus 1`, `ferrite run --cpus 2` and `qemu-riscv64`, alternating, 5
//! times; the table has the medians and qemu's time over ferrite's.
//!
//! - fork: fork + `_exit(0)` + waitpid of the (small, static) benchmark
//!   itself;
//! - exec: fork + execve of `user/build/hello` (stdout on /dev/null) +
//!   waitpid. The host has no binfmt_misc entry for riscv64, so under
//!   qemu-riscv64 the child execs `qemu-riscv64 user/build/hello`, which
//!   is what binfmt_misc would do;
//! - exec-held: the same while the parent keeps hello mapped, so that its
//!   page cache lives from one exec to the next (a diagnostic: ferrite
//!   drops a file's page cache with its last user, Linux keeps it in the
//!   inode cache);
//! - thread: pthread_create + pthread_join;
//! - futex: one wake-to-run hand-off between two threads (a token passed
//!   with FUTEX_WAIT/FUTEX_WAKE; half a round trip);
//! - pipe: a one-byte round trip between two processes over two pipes
//!   (lat_pipe), when the kernel has pipe2 (otherwise reported missing);
//! - switch: the same ping-pong per context switch (half a round trip;
//!   issue 10's switch-cost figure, also printed in ns for one hart).
//!
//! Needs `make -C user` and qemu-user.

use std::process::Command;

mod common;
use common::{median, root, which};

const REPS: usize = 5;

/// One test: its name, the iterations, the targets (µs per op on
/// one and on two harts; fork must also be at least 10x qemu).
struct Test {
    name: &'static str,
    n: u64,
    target_us: (f64, f64),
    target_text: &'static str,
}

const TESTS: [Test; 7] = [
    Test {
        name: "fork",
        n: 400,
        target_us: (50.0, 50.0),
        target_text: "<= 50 us and >= 10x qemu",
    },
    Test {
        name: "exec",
        n: 40,
        target_us: (500.0, 500.0),
        target_text: "<= 500 us",
    },
    Test {
        name: "exec-held",
        n: 40,
        target_us: (500.0, 500.0),
        target_text: "(diagnostic: exec, hello kept mapped)",
    },
    Test {
        name: "thread",
        n: 2000,
        target_us: (20.0, 20.0),
        target_text: "<= 20 us",
    },
    Test {
        name: "futex",
        n: 20000,
        target_us: (5.0, 5.0),
        target_text: "<= 5 us",
    },
    Test {
        name: "pipe",
        n: 20000,
        target_us: (2.0, 5.0),
        target_text: "<= 5 us on 2 harts, <= 2 us on 1",
    },
    Test {
        name: "switch",
        n: 20000,
        target_us: (1.0, f64::INFINITY),
        target_text: "<= 1 us per switch on 1 hart",
    },
];

/// Run one measurement; the µs per op the guest printed, or the error.
fn measure(mut cmd: Command) -> Result<f64, String> {
    let out = cmd
        .current_dir(root())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("").to_string();
        return Err(format!("failed ({}): {first}", out.status));
    }
    stdout
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no figure in {stdout:?}"))
}

#[derive(Clone, Copy, PartialEq)]
enum Runner {
    Ferrite(usize),
    Qemu,
}

fn command(r: Runner, test: &str, n: u64) -> Command {
    let prog = "user/build/bench_procs";
    let hello = "user/build/hello";
    let ns = n.to_string();
    match r {
        Runner::Ferrite(cpus) => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_ferrite"));
            c.args(["run", "--cpus", &cpus.to_string(), prog, test, &ns, hello]);
            c
        }
        Runner::Qemu => {
            let qemu = which("qemu-riscv64").unwrap_or_else(|| "qemu-riscv64".into());
            let mut c = Command::new(&qemu);
            c.args([prog, test, &ns, hello]);
            c.arg(&qemu);
            c
        }
    }
}

fn fmt(r: &Result<f64, String>) -> String {
    match r {
        Ok(us) => format!("{us:10.2} us"),
        Err(_) => format!("{:>13}", "n/a"),
    }
}

fn main() {
    let build = root().join("user/build");
    for p in ["bench_procs", "hello"] {
        if !build.join(p).exists() {
            eprintln!("procs: user/build/{p} is missing: run `make -C user` first");
            std::process::exit(1);
        }
    }
    let runners = [Runner::Ferrite(1), Runner::Ferrite(2), Runner::Qemu];
    println!("procs: per-op cost timed inside the guest (median of {REPS} runs each, alternating)");
    println!(
        "{:<7} {:>13} {:>13} {:>13} {:>11} {:>11}  target",
        "test", "ferrite 1cpu", "ferrite 2cpu", "qemu-riscv64", "qemu/f1", "qemu/f2"
    );
    for t in &TESTS {
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); runners.len()];
        let mut errors: Vec<Option<String>> = vec![None; runners.len()];
        for _ in 0..REPS {
            for (i, r) in runners.iter().enumerate() {
                if errors[i].is_some() {
                    continue;
                }
                match measure(command(*r, t.name, t.n)) {
                    Ok(us) => samples[i].push(us),
                    Err(e) => errors[i] = Some(e),
                }
            }
        }
        let res: Vec<Result<f64, String>> = (0..runners.len())
            .map(|i| match &errors[i] {
                Some(e) => Err(e.clone()),
                None => Ok(median(samples[i].clone())),
            })
            .collect();
        let ratio = |f: &Result<f64, String>| match (f, &res[2]) {
            (Ok(f), Ok(q)) => format!("{:10.2}x", q / f),
            _ => format!("{:>11}", "-"),
        };
        let met = match (&res[0], &res[1]) {
            _ if t.target_text.starts_with("(diagnostic") => "",
            (Ok(a), Ok(b)) => {
                let fast = *a <= t.target_us.0 && *b <= t.target_us.1;
                let tenx = t.name != "fork" || matches!(&res[2], Ok(q) if q / a.max(*b) >= 10.0);
                if fast && tenx {
                    "met"
                } else {
                    "MISSED"
                }
            }
            _ => "",
        };
        println!(
            "{:<7} {} {} {} {} {}  {} {met}",
            t.name,
            fmt(&res[0]),
            fmt(&res[1]),
            fmt(&res[2]),
            ratio(&res[0]),
            ratio(&res[1]),
            t.target_text
        );
        if t.name == "switch" {
            if let (Ok(f), Ok(q)) = (&res[0], &res[2]) {
                println!(
                    "        switch on 1 hart: {:.0} ns per switch, qemu-riscv64 {:.0} ns ({:.2}x)",
                    f * 1000.0,
                    q * 1000.0,
                    q / f
                );
            }
        }
        for (i, e) in errors.iter().enumerate() {
            if let Some(e) = e {
                let who = match runners[i] {
                    Runner::Ferrite(c) => format!("ferrite --cpus {c}"),
                    Runner::Qemu => "qemu-riscv64".into(),
                };
                println!("        {who}: {e}");
            }
        }
    }
}
