//! `ferrite slabtop`: boot, run the notes' examples quietly, and print the
//! slab caches once, as procps' `slabtop -o` does on Linux.

use std::io::{self, Write};

use super::Failure;
use crate::demo;
use kernel::boot::{boot, Machine};

/// Run `ferrite slabtop`.
pub fn run(machine: &Machine) -> Result<(), Failure> {
    let kernel = boot(machine)?;
    demo::run(&kernel.mem, &mut io::sink())?;
    let text = mm::proc::slabtop(&kernel.mem);
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}
