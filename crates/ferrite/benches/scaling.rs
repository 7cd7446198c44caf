//! Parallel mode's scaling across harts (issue 10, section 4: "two
//! independent CPU-bound processes on `--cpus 2` finish in <= 0.55x the
//! time of `--cpus 1` on two host cores"). A plain harness that prints
//! figures: `cargo bench -p ferrite --bench scaling`.
//!
//! The workload is BusyBox's shell starting two `cpubound 5` processes in
//! the background and waiting for both (about 2.1 billion instructions in
//! all): one whole `ferrite run` each, boot to exit, host wall time, under
//! `--cpus 1` and `--cpus 2` alternating, [`REPS`] times. The table has
//! the medians and their ratio (2 CPUs over 1). The SCHED_WRR placement
//! puts the two processes on different CPUs (least total weight), so the
//! ratio is what the harts' parallelism gives, with the shell's start-up
//! (about 14 ms) in both.
//!
//! Needs `make -C user all busybox` and two otherwise idle host cores.

use std::process::{Command, Stdio};

mod common;
use common::{median, root, run_timed};

const REPS: usize = 7;

const SCRIPT: &str =
    "./user/build/cpubound 5 >/dev/null & ./user/build/cpubound 5 >/dev/null & wait";

/// Host seconds of one run on `cpus` harts, or the error.
fn measure(cpus: usize) -> Result<f64, String> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    c.args([
        "run",
        "--cpus",
        &cpus.to_string(),
        "user/build/busybox",
        "sh",
        "-c",
        SCRIPT,
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    run_timed(&mut c).map(|(_, secs)| secs)
}

fn main() {
    for p in ["cpubound", "busybox"] {
        if !root().join("user/build").join(p).exists() {
            eprintln!("scaling: user/build/{p} is missing: run `make -C user all busybox` first");
            std::process::exit(1);
        }
    }
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..REPS {
        for (cpus, v) in [(1, &mut one), (2, &mut two)] {
            match measure(cpus) {
                Ok(s) => v.push(s),
                Err(e) => {
                    eprintln!("scaling: --cpus {cpus}: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    let (m1, m2) = (median(one.clone()), median(two.clone()));
    println!("two cpubound 5 under busybox sh, {REPS} runs each, alternating (host seconds)");
    println!("  --cpus 1: median {m1:.3} s  (all: {one:.3?})");
    println!("  --cpus 2: median {m2:.3} s  (all: {two:.3?})");
    println!("  ratio 2 CPUs / 1 CPU: {:.3}x (target <= 0.55x)", m2 / m1);
}
