//! The subcommands, and how each kind of failure ends the process.

pub mod boot;
pub mod plot;
pub mod run;
pub mod slabtop;

use std::fmt;
use std::io;

use crate::demo::DemoError;
use kernel::boot::BootFailure;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// A bad argument, found before booting.
    Usage(String),
    /// The machine did not boot.
    Boot(BootFailure),
    /// The boot demonstration failed.
    Demo(DemoError),
    /// Writing the output failed.
    Io(io::Error),
    /// The program could not be started (missing, not a riscv64 ELF, ...).
    Run(String),
    /// The kernel panicked; it printed its report.
    Panic(String),
    /// An input file is missing or unusable (`ferrite plot`'s trace).
    Input(String),
}

impl Failure {
    /// The exit status: 2 for bad arguments and boot errors (as clap's own
    /// usage errors), 70 (`EX_SOFTWARE`) for a kernel panic, 0 when the
    /// reader of our output went away, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Panic(_) => kernel::panic::EX_SOFTWARE,
            Failure::Usage(_) | Failure::Boot(_) | Failure::Run(_) => 2,
            Failure::Io(e) | Failure::Demo(DemoError::Io(e))
                if e.kind() == io::ErrorKind::BrokenPipe =>
            {
                0
            }
            Failure::Demo(_) | Failure::Io(_) | Failure::Input(_) => 1,
        }
    }

    /// Whether to stay silent (`ferrite boot | head`).
    pub fn is_broken_pipe(&self) -> bool {
        self.exit_code() == 0
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) => f.write_str(m),
            Failure::Boot(e) => e.fmt(f),
            Failure::Demo(e) => write!(f, "boot demonstration: {e}"),
            Failure::Io(e) => write!(f, "cannot write output: {e}"),
            Failure::Run(m) | Failure::Panic(m) | Failure::Input(m) => f.write_str(m),
        }
    }
}

impl From<BootFailure> for Failure {
    fn from(e: BootFailure) -> Self {
        Failure::Boot(e)
    }
}

impl From<DemoError> for Failure {
    fn from(e: DemoError) -> Self {
        Failure::Demo(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}
