//! ferrite against qemu-riscv64 on the same static binaries, in the same
//! run (a plain harness that prints figures; `cargo bench -p ferrite`).
//!
//! - Throughput: `user/build/cpubound` under both; both retire the same
//!   guest instructions (the program is deterministic), which ferrite
//!   counts (`--stats`), so the ratio of wall times is the ratio of guest
//!   instructions per second.
//! - Start-up and exit: `user/build/hello`, the median of repeated runs.
//! - Syscall round trip: `user/build/getpid N` calls getpid N times; the
//!   per-call cost is (time(N) - time(0)) / N, which removes start-up.
//!
//! Needs `make user` (the Makefile's bench target does it) and qemu-user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Wall time of one run of `cmd` (its output discarded), in seconds, and
/// its stderr.
fn time(cmd: &mut Command) -> (f64, String) {
    let t = Instant::now();
    let out = cmd.output().expect("cannot start the command");
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ferrite(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    c.arg("run").args(args);
    c
}

fn qemu(args: &[&str]) -> Command {
    let mut c = Command::new("qemu-riscv64");
    c.args(args);
    c
}

fn main() {
    let build = root().join("user/build");
    let prog = |name: &str| build.join(name).to_string_lossy().into_owned();
    for p in ["cpubound", "hello", "getpid"] {
        if !build.join(p).exists() {
            eprintln!("versus_qemu: {} is missing: run `make user` first", prog(p));
            std::process::exit(1);
        }
    }
    // `cargo bench` passes --bench; a filter argument is not supported.
    let reps = 5;

    // Throughput.
    let cpubound = prog("cpubound");
    let mut f_times = Vec::new();
    let mut q_times = Vec::new();
    let mut insns = 0u64;
    for _ in 0..reps {
        let (t, err) = time(
            ferrite(&["--cpus", "1", "--stats", &cpubound]).stdout(std::process::Stdio::null()),
        );
        insns = err
            .split("ferrite: ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("no --stats line");
        f_times.push(t);
        q_times.push(time(qemu(&[&cpubound]).stdout(std::process::Stdio::null())).0);
    }
    let (ft, qt) = (median(f_times), median(q_times));
    println!("cpubound: {insns} guest instructions");
    println!(
        "  ferrite      {:8.3} s  {:8.1} M instructions/s",
        ft,
        insns as f64 / ft / 1e6
    );
    println!(
        "  qemu-riscv64 {:8.3} s  {:8.1} M instructions/s",
        qt,
        insns as f64 / qt / 1e6
    );
    println!("  ferrite / qemu throughput: {:.3}x", qt / ft);

    // Start-up and exit.
    let hello = prog("hello");
    let runs = 20;
    let f = median(
        (0..runs)
            .map(|_| time(ferrite(&[&hello]).stdout(std::process::Stdio::null())).0)
            .collect(),
    );
    let q = median(
        (0..runs)
            .map(|_| time(qemu(&[&hello]).stdout(std::process::Stdio::null())).0)
            .collect(),
    );
    println!("hello start-up + exit (median of {runs}):");
    println!("  ferrite      {:8.2} ms", f * 1e3);
    println!("  qemu-riscv64 {:8.2} ms", q * 1e3);
    println!("  ferrite / qemu time: {:.3}x", f / q);

    // Syscall round trip.
    let getpid = prog("getpid");
    let n = 2_000_000u64;
    let ns = n.to_string();
    let per_call = |mk: &dyn Fn(&[&str]) -> Command| {
        let t_n = median(
            (0..reps)
                .map(|_| time(mk(&[&getpid, &ns]).stdout(std::process::Stdio::null())).0)
                .collect(),
        );
        let t_0 = median(
            (0..reps)
                .map(|_| time(mk(&[&getpid, "0"]).stdout(std::process::Stdio::null())).0)
                .collect(),
        );
        (t_n - t_0) / n as f64 * 1e9
    };
    let f = per_call(&|a| ferrite(a));
    let q = per_call(&|a| qemu(a));
    println!("getpid round trip ({n} calls, start-up subtracted):");
    println!("  ferrite      {f:8.1} ns");
    println!("  qemu-riscv64 {q:8.1} ns");
    println!("  ferrite / qemu time: {:.3}x", f / q);
}
