//! The deterministic mode's cost against parallel mode (issue 10, section
//! 8: "the deterministic mode's cost against parallel mode on one CPU
//! (target <= 1.3x)"). A plain harness that prints figures: `cargo bench
//! -p ferrite --bench deterministic`.
//!
//! Each workload runs as a whole `ferrite run` (boot to exit, host wall
//! time: inside the guest, deterministic mode's clock is virtual, so the
//! guest cannot time itself), under `--cpus N` and `--cpus N
//! --deterministic`, alternating, [`REPS`] times; the table has the
//! medians and their ratio (deterministic over parallel).
//!
//! - cpubound: `user/build/cpubound 2` (about 0.5 billion instructions,
//!   one process: the interpreter's speed);
//! - pipe: `bench_procs pipe 20000`, a one-byte round trip between two
//!   processes (system calls and switches);
//! - fork: `bench_procs fork 400` (fork, exit, wait);
//! - threads: `detrace`, four threads racing on a counter, and three
//!   forked processes.
//!
//! Needs `make -C user`.

use std::process::{Command, Stdio};

mod common;
use common::{median, root, run_timed};

const REPS: usize = 5;

/// A workload: name, CPUs, the program and its arguments.
const WORKLOADS: [(&str, usize, &[&str]); 6] = [
    ("cpubound", 1, &["user/build/cpubound", "2"]),
    ("pipe", 1, &["user/build/bench_procs", "pipe", "20000"]),
    ("fork", 1, &["user/build/bench_procs", "fork", "400"]),
    ("threads", 1, &["user/build/detrace"]),
    ("threads", 4, &["user/build/detrace"]),
    ("cpubound", 4, &["user/build/cpubound", "2"]),
];

/// Host seconds of one `ferrite run`, or the error.
fn measure(cpus: usize, det: bool, prog: &[&str]) -> Result<f64, String> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    c.args(["run", "--cpus", &cpus.to_string()]);
    if det {
        c.arg("--deterministic");
    }
    c.args(prog)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    run_timed(&mut c).map(|(_, secs)| secs)
}

fn main() {
    let build = root().join("user/build");
    for p in ["cpubound", "bench_procs", "detrace"] {
        if !build.join(p).exists() {
            eprintln!("deterministic: user/build/{p} is missing: run `make -C user` first");
            std::process::exit(1);
        }
    }
    println!(
        "deterministic: host wall time of a whole `ferrite run` (median of {REPS} runs each, alternating)"
    );
    println!(
        "{:<9} {:>4} {:>12} {:>15} {:>9}  target",
        "workload", "cpus", "parallel", "deterministic", "det/par"
    );
    for (name, cpus, prog) in WORKLOADS {
        let (mut par, mut det) = (Vec::new(), Vec::new());
        let mut err = None;
        for _ in 0..REPS {
            match (measure(cpus, false, prog), measure(cpus, true, prog)) {
                (Ok(p), Ok(d)) => {
                    par.push(p);
                    det.push(d);
                }
                (Err(e), _) | (_, Err(e)) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = err {
            println!("{name:<9} {cpus:>4}  {e}");
            continue;
        }
        let (p, d) = (median(par), median(det));
        let ratio = d / p;
        let target = if cpus == 1 {
            if ratio <= 1.3 {
                "<= 1.3x: met"
            } else {
                "<= 1.3x: MISSED"
            }
        } else {
            "(no target: one host thread at a time)"
        };
        println!(
            "{name:<9} {cpus:>4} {:>10.3} s {:>13.3} s {ratio:>8.2}x  {target}",
            p, d
        );
    }
}
