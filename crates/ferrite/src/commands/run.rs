//! `ferrite run PROGRAM [ARGS]...`: boot, run a static riscv64 Linux
//! program as pid 1, forward its output and exit with its status — what
//! booting User-Mode Linux with `init=PROGRAM` does, or `qemu-riscv64
//! PROGRAM` for one program.
//!
//! The program gets ARGS after `argv[0]` = PROGRAM as given (everything after
//! PROGRAM is the program's, even `-V` or `--stats`), and the host's
//! environment (as qemu-user passes it). `--show PATH` prints /proc files as
//! they were when the program exited, after its own output, each headed
//! `==> PATH <==` as `tail` heads several files; the paths are checked
//! before boot, as `ferrite boot --show` checks them: the system-wide files
//! and init's own (`/proc/1/FILE`, or `/proc/self/FILE`: init is `self`).
//!
//! `--trace FILE` writes the scheduler's events as they happen
//! ([`kernel::trace`]); the file is created before boot (an error there is
//! a usage error) and completed when the run ends.
//!
//! Exit status: the program's (128 + the signal if it was killed), 2 when
//! it cannot be started, 70 (`EX_SOFTWARE`) after a kernel panic.

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
    /// Write the scheduler's trace to this file.
    pub trace: Option<PathBuf>,
    /// /proc files to print at exit.
    pub show: Vec<String>,
    /// Deterministic mode with this seed.
    pub deterministic: Option<u64>,
    /// The program (host path).
    pub program: PathBuf,
    /// Its arguments after `argv[0]`.
    pub args: Vec<std::ffi::OsString>,
}

/// Whether `--show` can print `path` at init's exit: a system-wide /proc
/// file, or one of init's (pid 1, also named `self`).
pub fn show_path_known(path: &str) -> bool {
    if mm::proc::PATHS.contains(&path) {
        return true;
    }
    let Some(rest) = path.strip_prefix("/proc/") else {
        return false;
    };
    match rest.split_once('/') {
        Some(("1" | "self", file)) => kernel::procfs::PID_FILES.contains(&file),
        _ => false,
    }
}

/// Check `--show` paths before boot.
pub fn check_show(paths: &[String]) -> Result<(), Failure> {
    for p in paths {
        if !show_path_known(p) {
            return Err(Failure::Usage(format!(
                "--show {}: no such file; ferrite provides {}, and /proc/1/FILE (or /proc/self/FILE) for FILE one of {}",
                kernel::quote::escape(p.as_bytes()),
                mm::proc::PATHS.join(", "),
                kernel::procfs::PID_FILES.join(", ")
            )));
        }
    }
    Ok(())
}

/// On a terminal, Ctrl-C, Ctrl-\\ and Ctrl-Z are the guest's: the host's
/// SIGINT, SIGQUIT and SIGTSTP set flags that the kernel turns into
/// those signals for the foreground process group of the guest's terminal
/// (ferrite itself then ends with its init, or with a signal from
/// elsewhere, e.g. `kill` from another shell). Not on a pipe or file:
/// there Ctrl-C stops ferrite as any program.
fn tty_signals() -> Vec<(i32, std::sync::Arc<std::sync::atomic::AtomicBool>)> {
    use std::io::IsTerminal;
    if !io::stdin().is_terminal() {
        return Vec::new();
    }
    let mut v = Vec::new();
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
        signal_hook::consts::SIGTSTP,
    ] {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if signal_hook::flag::register(sig, flag.clone()).is_ok() {
            v.push((sig, flag));
        }
    }
    v
}

/// Run the program; the process exit status it should end with.
pub fn run(a: RunArgs) -> Result<u8, Failure> {
    check_show(&a.show)?;
    if !a.root.is_dir() {
        return Err(Failure::Usage(format!(
            "--root {}: not a directory",
            kernel::quote::escape(a.root.as_os_str().as_encoded_bytes())
        )));
    }
    let tracer = match &a.trace {
        Some(path) => Some(std::sync::Arc::new(
            kernel::trace::Tracer::create(path, a.machine.nr_cpus).map_err(|e| {
                Failure::Usage(format!(
                    "--trace {}: {e}",
                    kernel::quote::escape(path.as_os_str().as_encoded_bytes())
                ))
            })?,
        )),
        None => None,
    };
    let mut config = Config::new(a.machine, a.root);
    config.trace = tracer.clone();
    config.strace = a.strace;
    config.show = a.show;
    config.tty_signals = tty_signals();
    config.deterministic = a.deterministic;
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
    let outcome = Kernel::run(config, &a.program, &argv, &envp);
    if let Some(t) = &tracer {
        // An error was reported on stderr; the program's status stands.
        let _ = t.finish();
    }
    let outcome = outcome.map_err(|e| match e {
        RunError::Boot(b) => Failure::Boot(b),
        RunError::Panic(r) => Failure::Panic(format!("kernel panic: {}", r.message)),
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
        if let Some(ns) = s.virtual_ns {
            eprintln!(
                "ferrite: deterministic: {}.{:09} s of virtual time",
                ns / 1_000_000_000,
                ns % 1_000_000_000
            );
        }
    }
    Ok(outcome.status.code().clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::show_path_known;

    #[test]
    fn show_paths() {
        for p in [
            "/proc/meminfo",
            "/proc/slabinfo",
            "/proc/1/maps",
            "/proc/self/smaps",
            "/proc/self/status",
            "/proc/1/cmdline",
        ] {
            assert!(show_path_known(p), "{p}");
        }
        for p in [
            "/proc/../etc/passwd",
            "/proc/1/../meminfo",
            "/proc/2/maps",
            "/proc/1/",
            "/proc/self",
            "/proc/nope",
            "/etc/passwd",
            "proc/meminfo",
            "/proc/1/maps/",
        ] {
            assert!(!show_path_known(p), "{p}");
        }
    }
}
