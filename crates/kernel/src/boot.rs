//! Bringing up the memory subsystems: the part of `start_kernel()`
//! (init/main.c) that runs `mm_core_init()`, here over [`Ram`] from the host.

use std::fmt;
use std::io::Write;

use mm::{BootError, Mem, MemConfig};

use crate::ram::Ram;
use crate::size::human;

/// What the command line chose for the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// RAM in bytes (page multiple, MIN_RAM..=MAX_RAM).
    pub mem_bytes: usize,
    /// Number of CPUs (1..=NR_CPUS).
    pub nr_cpus: usize,
    /// `slub_debug` on every cache.
    pub slab_debug: bool,
}

/// A booted machine. Field order matters: `mem` drops before the RAM it
/// lives in is unmapped.
pub struct Kernel {
    pub mem: Mem,
    _ram: Ram,
}

impl Kernel {
    /// Keep the machine for the rest of the host process: kernel objects
    /// (tasks, page caches, VMAs naming them) then hold `&'static Mem`, as a
    /// real kernel's memory never goes away. The RAM is unmapped when the
    /// host process exits.
    pub fn leak(self) -> &'static Mem {
        let Kernel { mem, _ram } = self;
        std::mem::forget(_ram);
        Box::leak(Box::new(mem))
    }
}

/// Why boot failed.
#[derive(Debug)]
pub enum BootFailure {
    /// The host would not give us the RAM.
    Host { bytes: usize, err: std::io::Error },
    /// The memory manager refused the machine.
    Mm(BootError),
}

impl fmt::Display for BootFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootFailure::Host { bytes, err } => {
                write!(
                    f,
                    "cannot map {} of host memory for RAM: {err}",
                    human(*bytes)
                )
            }
            BootFailure::Mm(e) => write!(f, "memory manager boot failed: {e}"),
        }
    }
}

/// Map the RAM and boot the memory subsystems. The console (`printk`)
/// goes to stderr.
pub fn boot(m: &Machine) -> Result<Kernel, BootFailure> {
    let mut ram = Ram::map(m.mem_bytes).map_err(|err| BootFailure::Host {
        bytes: m.mem_bytes,
        err,
    })?;
    let config = MemConfig {
        nr_cpus: m.nr_cpus,
        slab_debug: m.slab_debug,
        ..MemConfig::default()
    };
    // The task_struct and signal_cache caches hold this kernel's objects
    // (with their reference counts).
    let mut config = config;
    config.std_cache_sizes[0] = std::mem::size_of::<mm::kbox::KArcInner<crate::task::Task>>();
    config.std_cache_sizes[3] = crate::fs::FILES_STRUCT_SIZE;
    config.std_cache_sizes[4] =
        std::mem::size_of::<mm::kbox::KArcInner<crate::task::SignalStruct>>();
    let console: mm::Console = Box::new(|s: &str| {
        // A console that cannot print must not take the kernel down.
        let _ = std::io::stderr().write_all(s.as_bytes());
    });
    let (base, len) = (ram.base(), ram.len());
    // SAFETY: `ram` is a fresh private mapping of `len` writable bytes that
    // nothing else touches; it moves into the returned `Kernel` (moving an
    // MmapMut does not move the mapping), which drops `mem` before it.
    let mem = unsafe { Mem::boot(base, len, config, console) }.map_err(BootFailure::Mm)?;
    Ok(Kernel { mem, _ram: ram })
}
