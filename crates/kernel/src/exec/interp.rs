//! The program interpreter of a dynamically linked program (the
//! `PT_INTERP` part of Linux's fs/binfmt_elf.c `load_elf_binary`: the
//! `open_exec` of the path, the header read, and the "simple consistency
//! checks for the interpreter" that make a bad one `ELIBBAD`).
//!
//! The core's `execve` (and `spawn_init` for the first program) calls
//! [`open_interp`] with the process's [`Fs`], so the path is looked up in
//! the guest root and relative to the working directory, as Linux's
//! `open_exec` resolves it, with `execve`'s checks (a regular file with
//! an execute bit: `EACCES` otherwise). The result holds the file's page
//! cache reference until [`OpenInterp::put`]; pass
//! [`OpenInterp::as_interp`] to [`super::load()`].
//!
//! Errors, as Linux returns them: the `open_exec` errno (`ENOENT`,
//! `EACCES`, `ENOTDIR`, `ELOOP`, ...); `EIO` when the file is shorter than
//! an ELF header (the header read comes up short); `ELIBBAD` when it is
//! not an ELF file, not riscv64 ELF64, or its program headers are bad.
//! Where ferrite differs: the rest of the image is checked here too (its
//! type, segments, entry), also as `ELIBBAD`, rather than failing after
//! the point of no return. A `PT_INTERP` of the interpreter is ignored,
//! as Linux ignores it.

use mm::percpu::Cpu;

use super::elf::{self, ElfImage};
use super::error::ExecError;
use super::load::Interp;
use crate::fs::{ExecFile, Fs};

/// `sizeof(Elf64_Ehdr)`: the header read Linux makes of the interpreter.
const EHDR_SIZE: usize = 64;

/// Check the interpreter `path`'s bytes: its parsed image, or
/// [`ExecError::BadInterp`].
pub fn parse_interp(path: &[u8], bytes: &[u8]) -> Result<ElfImage, ExecError> {
    parse_interp_file(path, bytes)
}

/// [`parse_interp`] of a file, reading only the ranges the checks need.
pub fn parse_interp_file(
    path: &[u8],
    src: &(impl elf::ElfSource + ?Sized),
) -> Result<ElfImage, ExecError> {
    let bad = |why| ExecError::BadInterp {
        interp: elf::shown(path),
        why: Box::new(why),
    };
    if src.size() < EHDR_SIZE as u64 {
        return Err(bad(ExecError::TruncatedHeader));
    }
    elf::parse_image(src, false).map_err(bad)
}

/// An interpreter opened for an exec: its file (page cache, bytes, path)
/// and its checked image.
pub struct OpenInterp {
    /// The opened file.
    pub file: ExecFile,
    /// Its headers.
    pub image: ElfImage,
}

impl OpenInterp {
    /// What [`super::load()`] takes.
    pub fn as_interp(&self) -> Interp<'_> {
        Interp {
            image: &self.image,
            file: self.file.mmap.file(),
        }
    }

    /// Give the file's reference back (the loader's mappings hold their
    /// own): call after [`super::load()`], whatever it returned.
    pub fn put(self, cpu: &Cpu<'_>) {
        self.file.mmap.put(cpu);
    }
}

/// Open and check the interpreter `path` (from [`ElfImage::interp`])
/// through `fs` (its root and working directory).
pub fn open_interp(cpu: &Cpu<'_>, fs: &Fs, path: &[u8]) -> Result<OpenInterp, ExecError> {
    let file = fs.open_exec(path).map_err(|errno| ExecError::InterpOpen {
        interp: elf::shown(path),
        errno,
    })?;
    match parse_interp_file(path, &file.elf(cpu)) {
        Ok(image) => Ok(OpenInterp { file, image }),
        Err(e) => {
            file.mmap.put(cpu);
            Err(e)
        }
    }
}
