//! `ferrite`: the command line, what the `linux` binary of User-Mode Linux
//! and the procps tools are on a Linux system.
//!
//! - `ferrite boot`: boot the memory subsystems, run the course notes' kernel
//!   examples, print /proc files;
//! - `ferrite slabtop`: the same boot, then the slab caches once (`slabtop -o`).
//!
//! Every bad argument is reported on stderr with exit status 2, before
//! anything boots.

mod boot;
mod cmdline;
mod commands;
mod demo;
mod ram;
mod size;

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

fn run(command: &Command) -> Result<(), Failure> {
    let machine =
        |a: &MachineArgs| cmdline::machine(&a.mem, a.cpus, a.slab_debug).map_err(Failure::Usage);
    match command {
        Command::Boot(a) => commands::boot::run(&machine(&a.machine)?, &a.show),
        Command::Slabtop(a) => commands::slabtop::run(&machine(a)?),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.is_broken_pipe() => ExitCode::SUCCESS,
        Err(f @ Failure::Usage(_)) => {
            let sub = match cli.command {
                Command::Boot(_) => "boot",
                Command::Slabtop(_) => "slabtop",
            };
            eprintln!("error: {f}\n\nFor more information, try 'ferrite {sub} --help'.");
            ExitCode::from(f.exit_code())
        }
        Err(f) => {
            eprintln!("ferrite: {f}");
            ExitCode::from(f.exit_code())
        }
    }
}
