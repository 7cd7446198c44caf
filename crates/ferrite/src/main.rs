//! `ferrite`: the command line, what the `linux` binary of User-Mode Linux
//! and the procps tools are on a Linux system.
//!
//! - `ferrite boot`: boot the memory subsystems, run the course notes' kernel
//!   examples, print /proc files;
//! - `ferrite slabtop`: the same boot, then the slab caches once (`slabtop -o`);
//! - `ferrite run PROGRAM [ARGS]...`: boot and run a static riscv64 Linux
//!   program as pid 1, exiting with its status (`--trace FILE`: the
//!   scheduler's events for the Perfetto UI);
//! - `ferrite plot TRACE -o OUT.svg|OUT.png`: chart such a trace.
//!
//! Every bad argument is reported on stderr with exit status 2, before
//! anything boots. A kernel panic prints Linux's report and ends with exit
//! status 70 (`EX_SOFTWARE`).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod cmdline;
mod commands;
mod demo;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use commands::Failure;

/// ferrite: a Linux-style kernel in Rust, run inside an ordinary process.
#[derive(Parser, Debug)]
#[command(name = "ferrite", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Boot the memory subsystems, run the notes' kernel examples (the
    /// task_struct cache, __get_free_pages, a kmalloc'd struct dog) and print
    /// /proc files (default: meminfo, buddyinfo, slabinfo).
    Boot(BootArgs),
    /// Boot, run the same examples quietly, and print the slab caches once
    /// (like `slabtop -o`).
    Slabtop(MachineArgs),
    /// Boot and run a static riscv64 Linux program as pid 1; exit with its
    /// status (128 + the signal if it was killed).
    Run(RunCmd),
    /// Chart a trace of `ferrite run --trace`: each CPU's total WRR
    /// weight and nr_running over time, each task's CPU share against its
    /// weight share (also printed as a table).
    Plot(PlotCmd),
}

#[derive(Args, Debug)]
struct PlotCmd {
    /// The trace file (Chrome JSON trace events).
    #[arg(value_name = "TRACE")]
    trace: std::path::PathBuf,
    /// The image to write: a .svg or .png file.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    out: std::path::PathBuf,
}

#[derive(Args, Debug)]
struct RunCmd {
    #[command(flatten)]
    machine: MachineArgs,
    /// The host directory the program sees as `/` (default: the current
    /// directory); paths cannot leave it.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: std::path::PathBuf,
    /// Print every system call to stderr, as strace does.
    #[arg(long)]
    strace: bool,
    /// At exit, print to stderr the instructions retired, syscalls and page
    /// faults, and the guest instructions per second.
    #[arg(long)]
    stats: bool,
    /// Write the scheduler's events (switches, wake-ups, forks, exits,
    /// per-CPU counters) to FILE as Chrome JSON trace events, which
    /// ui.perfetto.dev opens and `ferrite plot` charts.
    #[arg(long, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
    /// A /proc file to print when the program exits (for example
    /// /proc/1/maps, /proc/1/smaps, /proc/slabinfo). Repeat for several.
    #[arg(long, value_name = "PATH")]
    show: Vec<String>,
    /// Run deterministically: virtual time from retired instructions
    /// (1 instruction = 1 ns), the CPUs taking turns of a fixed number of
    /// instructions in a fixed order, clocks and random bytes derived from
    /// the virtual clock and the seed. The same program with the same seed
    /// gives the same output, byte for byte, on any host.
    #[arg(long)]
    deterministic: bool,
    /// The seed of --deterministic's random bytes (getrandom, /dev/urandom,
    /// AT_RANDOM); it changes nothing else.
    #[arg(long, value_name = "N", requires = "deterministic")]
    seed: Option<u64>,
    /// The program (a static riscv64 Linux executable, host path) and its
    /// arguments. Everything from PROGRAM on is the program's own: options
    /// for ferrite come before it.
    #[arg(
        value_name = "PROGRAM [ARGS]...",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<std::ffi::OsString>,
}

/// The machine to boot.
#[derive(Args, Debug)]
struct MachineArgs {
    /// RAM size: bytes, or a number with a K, M or G (KiB, MiB, GiB) suffix;
    /// 4M to 64G.
    #[arg(long, value_name = "SIZE", default_value = "256M")]
    mem: String,
    /// Number of CPUs (harts), 1 to 64.
    #[arg(long, value_name = "N", default_value_t = mm::MemConfig::default().nr_cpus)]
    cpus: usize,
    /// Red zones, poisoning and double-free checks in every slab cache
    /// (Linux's slub_debug).
    #[arg(long)]
    slab_debug: bool,
}

#[derive(Args, Debug)]
struct BootArgs {
    #[command(flatten)]
    machine: MachineArgs,
    /// A /proc file to print after boot: /proc/slabinfo, /proc/buddyinfo,
    /// /proc/meminfo or /proc/zoneinfo. Repeat to print several, in order.
    #[arg(long, value_name = "PATH")]
    show: Vec<String>,
}

fn run(command: Command) -> Result<u8, Failure> {
    let machine =
        |a: &MachineArgs| cmdline::machine(&a.mem, a.cpus, a.slab_debug).map_err(Failure::Usage);
    match command {
        Command::Boot(a) => commands::boot::run(&machine(&a.machine)?, &a.show).map(|()| 0),
        Command::Slabtop(a) => commands::slabtop::run(&machine(&a)?).map(|()| 0),
        Command::Run(r) => {
            let mut command = r.command.into_iter();
            let program = command.next().map(Into::into).unwrap_or_default();
            commands::run::run(commands::run::RunArgs {
                machine: machine(&r.machine)?,
                root: r.root,
                strace: r.strace,
                stats: r.stats,
                trace: r.trace,
                show: r.show,
                deterministic: r.deterministic.then(|| r.seed.unwrap_or(0)),
                program,
                args: command.collect(),
            })
        }
        Command::Plot(p) => commands::plot::run(commands::plot::PlotArgs {
            trace: p.trace,
            out: p.out,
        })
        .map(|()| 0),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let sub = match cli.command {
        Command::Boot(_) => "boot",
        Command::Slabtop(_) => "slabtop",
        Command::Run(_) => "run",
        Command::Plot(_) => "plot",
    };
    match run(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(f) if f.is_broken_pipe() => ExitCode::SUCCESS,
        // The kernel's own report is on stderr already.
        Err(f @ Failure::Panic(_)) => ExitCode::from(f.exit_code()),
        Err(f @ Failure::Usage(_)) => {
            eprintln!("error: {f}\n\nFor more information, try 'ferrite {sub} --help'.");
            ExitCode::from(f.exit_code())
        }
        Err(f) => {
            eprintln!("ferrite: {f}");
            ExitCode::from(f.exit_code())
        }
    }
}
