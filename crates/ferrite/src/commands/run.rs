//! `ferrite run PROGRAM [ARGS]...`: boot, run a static riscv64 Linux
//! program as pid 1, forward its output and exit with its status — what
//! booting User-Mode Linux with `init=PROGRAM` does, or `qemu-riscv64
//! PROGRAM` for one program.
//!
//! The program gets ARGS after argv[0] = PROGRAM as given, and the host's
//! environment (as qemu-user passes it). `--show PATH` prints /proc files as
//! they were when the program exited, after its own output, each headed
//! `==> PATH <==` as `tail` heads several files.

use std::io::{self, Write};
use std::path::PathBuf;

use kernel::boot::Machine;
use kernel::{Config, Kernel, RunError};

use super::Failure;

/// The options of one run.
pub struct RunArgs {
    /// RAM and CPUs.
    pub machine: Machine,
    /// The host directory that is `/`.
    pub root: PathBuf,
    /// Trace syscalls to stderr.
    pub strace: bool,
    /// Print event counts to stderr at exit.
    pub stats: bool,
    /// /proc files to print at exit.
    pub show: Vec<String>,
    /// The program (host path).
    pub program: PathBuf,
    /// Its arguments after argv[0].
    pub args: Vec<std::ffi::OsString>,
}

/// Check `--show` paths: they must name something under /proc.
pub fn check_show(paths: &[String]) -> Result<(), Failure> {
    for p in paths {
        if !p.starts_with("/proc/") || p.len() == "/proc/".len() {
            return Err(Failure::Usage(format!(
                "--show {p}: not a /proc file (for example /proc/1/maps, /proc/slabinfo)"
            )));
        }
    }
    Ok(())
}

/// Run the program; the process exit status it should end with.
pub fn run(a: RunArgs) -> Result<u8, Failure> {
    check_show(&a.show)?;
    if !a.root.is_dir() {
        return Err(Failure::Usage(format!(
            "--root {}: not a directory",
            a.root.display()
        )));
    }
    let mut config = Config::new(a.machine, a.root);
    config.strace = a.strace;
    config.show = a.show;
    let mut argv = vec![a.program.as_os_str().as_encoded_bytes().to_vec()];
    argv.extend(a.args.iter().map(|s| s.as_encoded_bytes().to_vec()));
    let envp: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut e = k.as_encoded_bytes().to_vec();
            e.push(b'=');
            e.extend_from_slice(v.as_encoded_bytes());
            e
        })
        .collect();
    let started = std::time::Instant::now();
    let outcome = Kernel::run(config, &a.program, &argv, &envp).map_err(|e| match e {
        RunError::Boot(b) => Failure::Boot(b),
        other => Failure::Run(other.to_string()),
    })?;
    let mut out = io::stdout().lock();
    for (path, contents) in &outcome.shown {
        writeln!(out, "==> {path} <==")?;
        match contents {
            Some(c) => out.write_all(c)?,
            None => eprintln!("ferrite: --show {path}: no such file"),
        }
    }
    out.flush()?;
    if a.stats {
        let secs = started.elapsed().as_secs_f64();
        let s = outcome.stats;
        eprintln!(
            "ferrite: {} instructions, {} syscalls, {} page faults in {secs:.3} s ({:.1} M instructions/s)",
            s.instructions,
            s.syscalls,
            s.page_faults,
            s.instructions as f64 / secs / 1e6
        );
    }
    Ok(outcome.status.code().clamp(0, 255) as u8)
}
