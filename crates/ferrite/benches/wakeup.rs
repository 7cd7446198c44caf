//! Wake-up latency from a wake on one hart to the woken thread running on
//! another, with its distribution (schbench-style percentiles): ferrite
//! against qemu-riscv64 on the same static binary in the same run (a
//! plain harness that prints figures; `cargo bench -p ferrite --bench
//! wakeup`). Issue 10, section 8.
//!
//! `user/build/wakelat N GAP_US` (see user/wakelat.c): a waker thread
//! sleeps GAP_US, reads the clock and FUTEX_WAKEs a worker asleep in
//! FUTEX_WAIT, then spins until the worker runs (so the worker must run on
//! another CPU); the worker reads the clock when it runs. Each runner
//! (`ferrite run --cpus 2`, `qemu-riscv64`) runs it 3 times, alternating;
//! the table has, per percentile, the median of the runs.
//!
//! Three cases: the waker busy-waits a gap of 20 µs (the worker's hart is
//! still polling for work when the wake comes: `sched::IDLE_POLL_START_NS` is
//! 50 µs) or 1000 µs (it has parked its host thread, and the wake-up
//! includes the host's), or sleeps 1000 µs in `usleep` (both harts go
//! idle between wake-ups; schbench's message thread sleeps too).
//!
//! Needs `make -C user` and qemu-user.

use std::process::Command;

mod common;
use common::{median, root, run_timed, which};

const REPS: usize = 3;
const N: u64 = 2000;

/// p50, p90, p99, max in µs, as the program printed them.
fn measure(mut cmd: Command) -> Result<[f64; 4], String> {
    let (out, _) = run_timed(&mut cmd)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // wakelat N p50 A p90 B p99 C max D
    let w: Vec<&str> = stdout.split_whitespace().collect();
    let get = |i: usize| w.get(i).and_then(|s| s.parse::<f64>().ok());
    match (get(3), get(5), get(7), get(9)) {
        (Some(a), Some(b), Some(c), Some(d)) => Ok([a, b, c, d]),
        _ => Err(format!("no figures in {stdout:?}")),
    }
}

fn command(ferrite: bool, gap: u64, spin: bool) -> Command {
    let prog = "user/build/wakelat";
    let (n, g) = (N.to_string(), gap.to_string());
    let mut c = if ferrite {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ferrite"));
        c.args(["run", "--cpus", "2", prog, &n, &g]);
        c
    } else {
        let mut c = Command::new(which("qemu-riscv64").unwrap_or_else(|| "qemu-riscv64".into()));
        c.args([prog, &n, &g]);
        c
    };
    if spin {
        c.arg("spin");
    }
    c
}

fn main() {
    if !root().join("user/build/wakelat").exists() {
        eprintln!("wakeup: user/build/wakelat is missing: run `make -C user` first");
        std::process::exit(1);
    }
    println!(
        "wakeup: wake on one hart -> running on another, µs (median of {REPS} runs of {N} wake-ups)"
    );
    println!(
        "{:<13} {:<14} {:>9} {:>9} {:>9} {:>9}",
        "gap", "runner", "p50", "p90", "p99", "max"
    );
    for (gap, spin) in [(20u64, true), (1000, true), (1000, false)] {
        let label = format!("{gap} us {}", if spin { "spin" } else { "sleep" });
        let mut runs: [Vec<[f64; 4]>; 2] = [Vec::new(), Vec::new()];
        let mut errs: [Option<String>; 2] = [None, None];
        for _ in 0..REPS {
            for (i, ferrite) in [true, false].into_iter().enumerate() {
                if errs[i].is_some() {
                    continue;
                }
                match measure(command(ferrite, gap, spin)) {
                    Ok(f) => runs[i].push(f),
                    Err(e) => errs[i] = Some(e),
                }
            }
        }
        for (i, name) in ["ferrite 2cpu", "qemu-riscv64"].into_iter().enumerate() {
            if let Some(e) = &errs[i] {
                println!("{label:<13} {name:<14} {e}");
                continue;
            }
            let col = |k: usize| median(runs[i].iter().map(|r| r[k]).collect());
            println!(
                "{label:<13} {name:<14} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                col(0),
                col(1),
                col(2),
                col(3)
            );
        }
    }
}
