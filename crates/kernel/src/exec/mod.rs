//! exec: loading a static riscv64 ELF program into a fresh address space
//! and building its initial stack (Linux's fs/binfmt_elf.c
//! `load_elf_binary`, `elf_load`, `create_elf_tables`, fs/exec.c
//! `copy_strings`, `setup_arg_pages`, and arch/riscv's `ELF_HWCAP`,
//! `ELF_ET_DYN_BASE`, `STACK_TOP`).
//!
//! Two steps, as the core calls them:
//!
//! 1. [`parse`] reads and validates the ELF64 header and program headers
//!    from the file's bytes ([`elf`]). It never panics: every field and
//!    offset is checked with checked arithmetic, and each refusal is a
//!    specific [`ExecError`] whose `Display` is the one-line message
//!    `ferrite run` prints.
//! 2. [`load()`] maps the `PT_LOAD` segments into an empty
//!    [`MmStruct`](mm::mmap::MmStruct) as
//!    private file mappings with the segments' protections, zeroes and maps
//!    the bss ([`load`](mod@load)), creates the `[stack]` area, and writes
//!    argv, envp, the auxiliary vector and the strings to it ([`stack`],
//!    [`auxv`]). It sets the mm's layout fields (`start_code` ..
//!    `env_end`) for /proc. On error the mm may be partly built; the
//!    caller tears it down (`exit_mmap`), as Linux's exec does after the
//!    point of no return by killing the task.
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
//! - static programs only: an image with `PT_INTERP` is refused (Linux
//!   would map the interpreter), with `ENOENT` as Linux returns when the
//!   interpreter is missing;
//! - no randomisation (as with `norandmaps` / `ADDR_NO_RANDOMIZE`): the
//!   stack top is `STACK_TOP`, the break is not randomised and follows the
//!   bss directly, a static-pie lands where `mmap` puts it;
//! - no vDSO yet, so no `AT_SYSINFO_EHDR`; see [`auxv`];
//! - the parsed image lives on the host heap for the length of the exec
//!   (it has no Linux counterpart object; the kernel objects it creates,
//!   VMAs and pages, are ferrite's).

pub mod auxv;
pub mod elf;
pub mod error;
pub mod load;
pub mod stack;

pub use self::elf::{parse, ElfImage, Segment};
pub use self::error::ExecError;
pub use self::load::load;

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
    /// The first instruction (`e_entry` + `load_bias`): the user `pc`.
    pub entry: u64,
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
