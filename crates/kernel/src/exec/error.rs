//! Why an exec failed: [`ExecError`], with a one-line message for the
//! command line (`Display`) and the errno `execve(2)` returns
//! ([`ExecError::errno`]).
//!
//! Linux reports every malformed image as `ENOEXEC` (so that the next
//! binary format, or a shell, may try it); ferrite does the same, and keeps
//! the reason so that `ferrite run` can say what is wrong. Strings taken
//! from the file (the `PT_INTERP` path) are printed escaped
//! ([`crate::quote`]).

use core::fmt;

use crate::errno::{Errno, E2BIG, EFAULT, EINVAL, EIO, ELIBBAD, ENOENT, ENOEXEC, ENOMEM};

/// Why [`super::parse`] or [`super::load()`] refused an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// The file does not start with `\x7fELF` (a script, data, or empty).
    NotElf,
    /// `EI_CLASS` is `ELFCLASS32`.
    Class32,
    /// `EI_CLASS` is neither 32- nor 64-bit.
    BadClass(u8),
    /// `EI_DATA` is `ELFDATA2MSB`.
    BigEndian,
    /// `EI_DATA` is neither little- nor big-endian.
    BadEndian(u8),
    /// `EI_VERSION` or `e_version` is not `EV_CURRENT`.
    BadVersion(u32),
    /// `e_machine` is not `EM_RISCV`.
    WrongMachine(u16),
    /// `e_type` is neither `ET_EXEC` nor `ET_DYN`.
    NotExecutable(u16),
    /// The file ends inside the ELF header.
    TruncatedHeader,
    /// `e_phentsize` is not 56 (`sizeof(Elf64_Phdr)`).
    BadPhentsize(u16),
    /// `e_phnum` is 0 or the table is larger than 64 KiB.
    BadPhnum(u16),
    /// Program header `n` lies (partly) past the end of the file.
    TruncatedPhdr(usize),
    /// The image has a `PT_INTERP` but the loader was given no
    /// interpreter (`ENOENT`).
    Dynamic {
        /// The interpreter's path, as far as it could be read.
        interp: String,
    },
    /// The `PT_INTERP` path lies (partly) past the end of the file (`EIO`,
    /// Linux's short read).
    InterpPastEof,
    /// The interpreter could not be opened (`open_exec`'s errno:
    /// `ENOENT`, `EACCES`, `ENOTDIR`, `ELOOP`, ...).
    InterpOpen {
        /// The interpreter's path.
        interp: String,
        /// What opening it returned.
        errno: Errno,
    },
    /// The interpreter is not an ELF riscv64 loader (`ELIBBAD`; `EIO` when
    /// the file ends inside the ELF header, as Linux's header read fails).
    BadInterp {
        /// The interpreter's path.
        interp: String,
        /// What is wrong with it.
        why: Box<ExecError>,
    },
    /// A `#!` line without an interpreter, or one too long for the
    /// 256-byte buffer (`ENOEXEC`).
    BadScript(&'static str),
    /// No `PT_LOAD` segment.
    NoLoad,
    /// Program header `index` is malformed; `why` says how.
    BadSegment {
        /// Index in the program header table.
        index: usize,
        /// What is wrong, e.g. "p_filesz > p_memsz".
        why: &'static str,
    },
    /// `PT_LOAD` segments `a` and `b` overlap or are out of order.
    Overlap {
        /// The earlier segment's index.
        a: usize,
        /// The later segment's index.
        b: usize,
    },
    /// The entry point lies outside user space.
    BadEntry(u64),
    /// The file is shorter than the image parsed from it (it changed).
    FileChanged,
    /// The argument and environment strings exceed the limit (`E2BIG`).
    TooBig,
    /// The segments leave no room for the stack below `STACK_TOP`.
    NoStackRoom,
    /// The memory manager refused a step (`what`), with its errno.
    Mm {
        /// The step, e.g. "map segment", "map stack".
        what: &'static str,
        /// The errno it returned.
        errno: Errno,
    },
    /// Writing the initial stack or clearing the bss faulted (`EFAULT`).
    Fault(&'static str),
    /// Reading the headers from the file failed (`kernel_read`'s errno:
    /// `EIO`, `ENOMEM`).
    Read(Errno),
}

/// A name for the common `e_machine` values (for the message).
fn machine_name(m: u16) -> Option<&'static str> {
    Some(match m {
        3 => "i386",
        8 => "mips",
        20 => "powerpc",
        21 => "powerpc64",
        22 => "s390",
        40 => "arm",
        62 => "x86-64",
        183 => "aarch64",
        243 => "riscv",
        258 => "loongarch",
        _ => return None,
    })
}

fn type_name(t: u16) -> Option<&'static str> {
    Some(match t {
        0 => "ET_NONE",
        1 => "ET_REL",
        2 => "ET_EXEC",
        3 => "ET_DYN",
        4 => "ET_CORE",
        _ => return None,
    })
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::NotElf => write!(f, "not an ELF file"),
            ExecError::Class32 => write!(f, "32-bit ELF; ferrite runs ELF64"),
            ExecError::BadClass(c) => write!(f, "bad ELF class {c}; ferrite runs ELF64"),
            ExecError::BigEndian => {
                write!(f, "big-endian ELF; ferrite runs little-endian riscv64")
            }
            ExecError::BadEndian(d) => write!(f, "bad ELF data encoding {d}"),
            ExecError::BadVersion(v) => write!(f, "bad ELF version {v}"),
            ExecError::WrongMachine(m) => match machine_name(*m) {
                Some(n) => write!(f, "ELF for another machine ({n}), ferrite runs riscv64"),
                None => write!(
                    f,
                    "ELF for another machine (e_machine {m}), ferrite runs riscv64"
                ),
            },
            ExecError::NotExecutable(t) => match type_name(*t) {
                Some(n) => write!(f, "not an executable ({n})"),
                None => write!(f, "not an executable (e_type {t:#x})"),
            },
            ExecError::TruncatedHeader => write!(f, "truncated ELF: header past end of file"),
            ExecError::BadPhentsize(n) => {
                write!(f, "bad ELF: e_phentsize {n}, expected 56")
            }
            ExecError::BadPhnum(n) => write!(f, "bad ELF: e_phnum {n}"),
            ExecError::TruncatedPhdr(i) => {
                write!(f, "truncated ELF: program header {i} past end of file")
            }
            // The path comes from the file: escaped, so that newlines or
            // terminal escapes in it print as text on one line.
            ExecError::Dynamic { interp } => write!(
                f,
                "dynamically linked (needs {}); no interpreter was loaded",
                crate::quote::escape(interp.as_bytes())
            ),
            ExecError::InterpPastEof => {
                write!(f, "truncated ELF: PT_INTERP path past end of file")
            }
            ExecError::InterpOpen { interp, errno } => {
                let msg = crate::errno::describe(*errno).map_or("error", |d| d.1);
                write!(
                    f,
                    "dynamically linked (needs {}): {msg} in the root (--root)",
                    crate::quote::escape(interp.as_bytes())
                )
            }
            ExecError::BadInterp { interp, why } => write!(
                f,
                "bad interpreter {}: {why}",
                crate::quote::escape(interp.as_bytes())
            ),
            ExecError::BadScript(why) => write!(f, "bad #! line: {why}"),
            ExecError::NoLoad => write!(f, "bad ELF: no PT_LOAD segment"),
            ExecError::BadSegment { index, why } => {
                write!(f, "bad ELF: program header {index}: {why}")
            }
            ExecError::Overlap { a, b } => write!(
                f,
                "bad ELF: PT_LOAD segments {a} and {b} overlap or are out of order"
            ),
            ExecError::BadEntry(e) => {
                write!(f, "bad ELF: entry point {e:#x} outside user space")
            }
            ExecError::FileChanged => write!(f, "file shorter than its ELF headers say"),
            ExecError::TooBig => write!(f, "argument list too long"),
            ExecError::NoStackRoom => write!(f, "no room for the stack above the segments"),
            ExecError::Mm { what, errno } => {
                let name = crate::errno::describe(*errno).map_or("?", |d| d.0);
                write!(f, "exec: {what} failed ({name})")
            }
            ExecError::Fault(what) => write!(f, "exec: fault while {what}"),
            ExecError::Read(errno) => {
                let name = crate::errno::describe(*errno).map_or("?", |d| d.0);
                write!(f, "exec: reading the file failed ({name})")
            }
        }
    }
}

impl ExecError {
    /// The errno `execve(2)` returns for this error.
    ///
    /// A missing interpreter is `ENOENT`, as on Linux when the
    /// `PT_INTERP` path does not exist; an interpreter that is not an ELF
    /// loader for riscv64 is `ELIBBAD`; every malformed image is
    /// `ENOEXEC`.
    pub fn errno(&self) -> Errno {
        match self {
            ExecError::Dynamic { .. } => ENOENT,
            ExecError::InterpPastEof => EIO,
            ExecError::InterpOpen { errno, .. } => *errno,
            ExecError::BadInterp { why, .. } => match **why {
                ExecError::TruncatedHeader => EIO,
                _ => ELIBBAD,
            },
            ExecError::TooBig => E2BIG,
            ExecError::NoStackRoom => ENOMEM,
            ExecError::Mm { errno, .. } => *errno,
            ExecError::Fault(_) => EFAULT,
            ExecError::Read(errno) => *errno,
            ExecError::BadEntry(_) => EINVAL,
            _ => ENOEXEC,
        }
    }

    /// An mm failure: `ENOMEM` stays `ENOMEM`, anything else keeps its
    /// errno.
    pub(crate) fn mm(what: &'static str, errno: Errno) -> Self {
        let errno = if errno == 0 { ENOMEM } else { errno };
        ExecError::Mm { what, errno }
    }
}
