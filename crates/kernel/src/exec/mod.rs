//! exec: loading a riscv64 ELF program, static or dynamically linked,
//! into a fresh address space and building its initial stack (Linux's
//! fs/binfmt_elf.c `load_elf_binary`, `load_elf_interp`, `elf_load`,
//! `create_elf_tables`, fs/binfmt_script.c `load_script`, fs/exec.c
//! `copy_strings`, `setup_arg_pages`, and arch/riscv's `ELF_HWCAP`,
//! `ELF_ET_DYN_BASE`, `STACK_TOP` and vDSO).
//!
//! The steps, as the core's `execve` calls them:
//!
//! 1. [`script::parse`] looks at the file's first bytes: a `#!` line
//!    names an interpreter to exec instead, with the arguments
//!    [`script::argv`] makes (binfmt_script).
//! 2. [`parse`] reads and validates the ELF64 header and program headers
//!    from the file's bytes ([`elf`]), including the `PT_INTERP` path
//!    ([`ElfImage::interp`]). It never panics: every field and offset is
//!    checked with checked arithmetic, and each refusal is a specific
//!    [`ExecError`] whose `Display` is the one-line message `ferrite run`
//!    prints.
//! 3. For a dynamically linked program, [`interp::open_interp`] opens
//!    the interpreter through the process's root and working directory
//!    (`Fs::open_exec`) and checks it ([`interp::parse_interp`]): `ENOENT`
//!    when it is missing, `ELIBBAD` when it is not an ELF riscv64 loader.
//! 4. [`load()`] maps the `PT_LOAD` segments (the program's, then the
//!    interpreter's) into an empty [`MmStruct`](mm::mmap::MmStruct) as
//!    private file mappings with the segments' protections, zeroes and
//!    maps the bss ([`load`](mod@load)), creates the `[stack]` area, maps
//!    the vDSO ([`vdso`]), and writes argv, envp, the auxiliary vector and
//!    the strings to the stack ([`stack`], [`auxv`]). It sets the mm's
//!    layout fields (`start_code` .. `env_end`) for /proc. On error the mm
//!    may be partly built; the caller tears it down (`exit_mmap`), as
//!    Linux's exec does after the point of no return by killing the task.
//!
//! The ELF parsing crate is [`elf`](https://docs.rs/elf) (`elf` 0.8,
//! without default features): it is `no_std`, zero-copy and allocation
//! free, has no `unsafe`, and its parsers are bounds-checked and fuzzed,
//! so malformed input yields an error rather than a panic. `goblin` and
//! `object` were the alternatives; both are larger (they parse many
//! formats, or sections and symbols eagerly) for the two tables an exec
//! reads. ferrite uses the crate for the header and the program-header
//! entries and does the exec-specific validation itself, because Linux's
//! rules (and the messages) are about the loading view only; the section
//! headers are never looked at, as Linux does not.
//!
//! Where ferrite differs from Linux:
//! - no randomisation (as with `norandmaps` / `ADDR_NO_RANDOMIZE`): the
//!   stack top is `STACK_TOP`, the break is not randomised and follows the
//!   bss directly, a PIE with an interpreter starts at `ELF_ET_DYN_BASE`
//!   exactly, and a static-pie, the interpreter and the vDSO land where
//!   `mmap` puts them;
//! - the interpreter is checked completely before the address space is
//!   touched, so an interpreter with bad segments is `ELIBBAD` from
//!   `execve` where Linux, past its point of no return, kills the task
//!   with `SIGSEGV`; its `e_type` and segment problems count as `ELIBBAD`
//!   too (Linux: `EINVAL`/`ENOMEM`, then `SIGSEGV`);
//! - the vDSO's time functions make the system call (no user-space clock
//!   data page), `[vvar]` is zero pages, and both are private mappings of
//!   kernel page-cache objects rather than special mappings (see
//!   [`vdso`]);
//! - the parsed images live on the host heap for the length of the exec
//!   (they have no Linux counterpart object; the kernel objects they
//!   create, VMAs and pages, are ferrite's).

pub mod auxv;
pub mod elf;
pub mod error;
pub mod interp;
pub mod load;
pub mod script;
pub mod stack;
pub mod vdso;

pub use self::elf::{parse, parse_file, ElfImage, Segment};
pub use self::error::ExecError;
pub use self::interp::{open_interp, parse_interp, OpenInterp};
pub use self::load::{load, Interp, ELF_ET_DYN_BASE};
pub use self::vdso::Vdso;

/// What the program is started with: the arguments, the environment, the
/// path it was executed by, the `AT_RANDOM` bytes and its credentials.
#[derive(Clone, Copy, Debug)]
pub struct ExecArgs<'a> {
    /// `argv` (without NULs; each string gets its terminator on the stack).
    pub argv: &'a [&'a [u8]],
    /// `envp`, likewise.
    pub envp: &'a [&'a [u8]],
    /// The path as given to exec (`bprm->filename`, shown as `AT_EXECFN`).
    pub execfn: &'a [u8],
    /// The 16 bytes `AT_RANDOM` points at (glibc seeds its stack
    /// protector and pointer guard from them).
    pub random: [u8; 16],
    /// Real and effective user id (`AT_UID`, `AT_EUID`).
    pub uid: u32,
    /// Real and effective group id (`AT_GID`, `AT_EGID`).
    pub gid: u32,
}

/// Where the loaded program starts, and what the core may want to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// The first instruction, the user `pc`: the interpreter's entry when
    /// one was loaded, else the program's (`e_entry` + `load_bias`).
    pub entry: u64,
    /// The program's entry (`AT_ENTRY`).
    pub prog_entry: u64,
    /// The interpreter's load address (`AT_BASE`), 0 without one.
    pub interp_base: u64,
    /// The vDSO's address (`AT_SYSINFO_EHDR`, Linux's
    /// `mm->context.vdso`), 0 without one.
    pub vdso: u64,
    /// `__vdso_rt_sigreturn` in this mm (what signal delivery puts in
    /// `ra`), 0 without a vDSO.
    pub vdso_sigreturn: u64,
    /// The user stack pointer: the address of `argc`, 16-byte aligned.
    pub sp: u64,
    /// Added to every `p_vaddr` (0 for `ET_EXEC`).
    pub load_bias: u64,
    /// `AT_PHDR`: the program headers' address in memory (as Linux, just
    /// the load bias if no segment maps them).
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// The initial break (`start_brk` = `brk`).
    pub brk: u64,
    /// The top of the `[stack]` area (`STACK_TOP`).
    pub stack_top: u64,
    /// Number of arguments (`argc`; 1 when exec was given none, as Linux
    /// then passes an empty `argv[0]`).
    pub argc: u64,
    /// Address of `argv[0]`'s pointer.
    pub argv: u64,
    /// Address of `envp[0]`'s pointer.
    pub envp: u64,
    /// Address of the first auxiliary vector entry.
    pub auxv: u64,
    /// Whether the stack is executable (`PT_GNU_STACK` with `PF_X`).
    pub exec_stack: bool,
}
