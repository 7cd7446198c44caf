//! `ferrite boot`: boot the memory subsystems, run the notes' kernel
//! examples, then `cat` /proc files, as one would on a freshly booted Linux.

use std::io::{self, BufWriter, Write};

use mm::Mem;

use super::Failure;
use crate::demo;
use kernel::boot::{boot, Machine};

/// What `ferrite boot` prints when no `--show` is given.
pub const DEFAULT_SHOW: [&str; 3] = ["/proc/meminfo", "/proc/buddyinfo", "/proc/slabinfo"];

/// Check every `--show` path against the files the mm provides.
pub fn check_paths(paths: &[String]) -> Result<(), Failure> {
    for p in paths {
        if !mm::proc::PATHS.contains(&p.as_str()) {
            return Err(Failure::Usage(format!(
                "--show {p}: no such file; ferrite provides {}",
                mm::proc::PATHS.join(", ")
            )));
        }
    }
    Ok(())
}

/// Run `ferrite boot`.
pub fn run(machine: &Machine, show: &[String]) -> Result<(), Failure> {
    check_paths(show)?;
    let kernel = boot(machine)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    demo::run(&kernel.mem, &mut out)?;
    let paths: Vec<&str> = if show.is_empty() {
        DEFAULT_SHOW.to_vec()
    } else {
        show.iter().map(String::as_str).collect()
    };
    writeln!(out)?;
    cat(&kernel.mem, &paths, &mut out)?;
    out.flush()?;
    Ok(())
}

/// Print each file's content, a blank line between two files.
fn cat(mem: &Mem, paths: &[&str], out: &mut dyn Write) -> Result<(), Failure> {
    for (i, path) in paths.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let text = mm::proc::read(mem, path).ok_or_else(|| {
            Failure::Io(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{path}: no such file"),
            ))
        })?;
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
    }
    Ok(())
}
