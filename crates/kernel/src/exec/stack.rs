//! The initial user stack (fs/exec.c `bprm_stack_limits`, `copy_strings`,
//! `setup_arg_pages`; fs/binfmt_elf.c `create_elf_tables`).
//!
//! From the top (`STACK_TOP`, the top of Sv48 user space) down:
//!
//! ```text
//! STACK_TOP      8 bytes of zero (bprm->p starts one pointer below the top)
//!                the executed path, NUL-terminated        <- AT_EXECFN
//!                envp strings, envp[0] lowest             <- env_start..env_end
//!                argv strings, argv[0] lowest             <- arg_start..arg_end
//!                padding to 16 bytes
//!                16 random bytes                          <- AT_RANDOM
//!                padding so that sp is 16-byte aligned
//!                auxv pairs, ending with AT_NULL
//!                NULL, envp pointers
//!                NULL, argv pointers
//! sp ->          argc
//! ```
//!
//! No platform strings (riscv's `ELF_PLATFORM` is NULL). With no
//! arguments at all an empty `argv[0]` is passed, as Linux does since 5.18.
//! Limits as Linux with the default 8 MiB `RLIMIT_STACK`: each string
//! (NUL included) at most `MAX_ARG_STRLEN` (32 pages), and all strings plus
//! the pointer arrays at most a quarter of the stack limit, else `E2BIG`.
//!
//! The `[stack]` area is an anonymous `VM_GROWSDOWN` mapping, read/write
//! (`VM_STACK_FLAGS`: riscv's `VM_DATA_DEFAULT_FLAGS` + `VM_ACCOUNT`), plus
//! `VM_EXEC` if `PT_GNU_STACK` asks for it; as `setup_arg_pages` leaves it,
//! it covers the pages holding the strings plus 128 KiB below them (capped
//! at the stack limit). Later growth goes through mm's fault path, which
//! keeps `stack_guard_gap` below it.
//!
//! The block is laid out in a host buffer and written with one
//! `copy_to_user`, which faults the stack pages in through the page table.

use super::auxv::{self, AuxInfo};
use super::error::ExecError;
use super::ExecArgs;
use mm::fault::RLIMIT_STACK_DEFAULT;

/// `MAX_ARG_STRLEN`: longest string (NUL included).
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// `MAX_ARG_STRINGS`.
pub const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// `_STK_LIM`.
const STK_LIM: usize = 8 << 20;
/// `ARG_MAX` (the least string space Linux allows).
const ARG_MAX: usize = 32 * 4096;
/// `bprm_stack_limits`: the room for strings and pointers, a quarter of
/// the stack limit, at most 3/4 of `_STK_LIM` and at least `ARG_MAX`.
pub const ARG_LIMIT: usize = {
    let quarter = RLIMIT_STACK_DEFAULT / 4;
    let l = if quarter < STK_LIM / 4 * 3 {
        quarter
    } else {
        STK_LIM / 4 * 3
    };
    if l < ARG_MAX {
        ARG_MAX
    } else {
        l
    }
};
/// What `setup_arg_pages` adds below the strings (`stack_expand`).
pub const STACK_EXPAND: u64 = 128 << 10;
/// The stack limit (`RLIMIT_STACK`).
pub const RLIMIT_STACK: u64 = RLIMIT_STACK_DEFAULT as u64;
/// Bytes of zero at the very top (`bprm->p = vm_end - sizeof(void *)`).
const TOP_GAP: u64 = 8;

const PAGE: u64 = 4096;

/// The strings' placement below the top, computed before anything is
/// mapped (so that `E2BIG` comes before the point of no return).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Strings {
    /// The stack top they were placed under.
    pub top: u64,
    /// Address of the executed path.
    pub execfn: u64,
    /// `env_start`, `env_end`.
    pub env: (u64, u64),
    /// `arg_start`, `arg_end`.
    pub arg: (u64, u64),
    /// Address of each argv string (an empty one when there were none).
    pub argv: Vec<u64>,
    /// Address of each envp string.
    pub envp: Vec<u64>,
}

impl Strings {
    /// Place the strings of `a` under `top`; `E2BIG` beyond Linux's limits.
    pub fn place(a: &ExecArgs<'_>, top: u64) -> Result<Strings, ExecError> {
        if a.argv.len() > MAX_ARG_STRINGS || a.envp.len() > MAX_ARG_STRINGS {
            return Err(ExecError::TooBig);
        }
        let limit = ARG_LIMIT;
        let ptr_size = (a.argv.len().max(1) + a.envp.len()) * 8;
        if limit <= ptr_size {
            return Err(ExecError::TooBig);
        }
        let limit = limit - ptr_size;
        let mut total = 0usize;
        let mut add = |s: &[u8]| -> Result<(), ExecError> {
            let n = s.len().checked_add(1).ok_or(ExecError::TooBig)?;
            if n > MAX_ARG_STRLEN {
                return Err(ExecError::TooBig);
            }
            total = total.checked_add(n).ok_or(ExecError::TooBig)?;
            if total > limit {
                return Err(ExecError::TooBig);
            }
            Ok(())
        };
        add(a.execfn)?;
        for s in a.envp.iter().chain(a.argv.iter()) {
            add(s)?;
        }
        if a.argv.is_empty() {
            add(b"")?;
        }
        // All sizes are bounded by ARG_LIMIT above; the subtractions
        // fail only for a `top` too low to hold the block.
        let sub = |p: u64, n: u64| p.checked_sub(n).ok_or(ExecError::NoStackRoom);
        let len = |s: &&[u8]| s.len() as u64 + 1;
        let mut p = sub(top, TOP_GAP)?;
        p = sub(p, a.execfn.len() as u64 + 1)?;
        let execfn = p;
        let env_end = p;
        p = sub(p, a.envp.iter().map(len).sum())?;
        let env_start = p;
        let none: [&[u8]; 1] = [b""];
        let argv: &[&[u8]] = if a.argv.is_empty() { &none } else { a.argv };
        p = sub(p, argv.iter().map(len).sum())?;
        let arg_start = p;
        // Room below for the random bytes, the vector and the pointers
        // (what `build` subtracts), and for the 128 KiB `setup_arg_pages`
        // adds.
        let words = (argv.len() + a.envp.len() + 3 + 2 * auxv::NR_ENTRIES) as u64;
        sub(p, 64 + 8 * words + STACK_EXPAND)?;
        let at = |strs: &[&[u8]], mut q: u64| {
            strs.iter()
                .map(|s| {
                    let here = q;
                    q += s.len() as u64 + 1;
                    here
                })
                .collect::<Vec<u64>>()
        };
        Ok(Strings {
            top,
            execfn,
            env: (env_start, env_end),
            arg: (arg_start, env_start),
            argv: at(argv, arg_start),
            envp: at(a.envp, env_start),
        })
    }

    /// The lowest string byte (`bprm->p` after the copies).
    pub fn bottom(&self) -> u64 {
        self.arg.0
    }

    /// The `[stack]` area `setup_arg_pages` leaves: `(start, end)`.
    pub fn vma(&self) -> (u64, u64) {
        let low = self.bottom() & !(PAGE - 1);
        let size = self.top - low;
        let start = if size + STACK_EXPAND > RLIMIT_STACK {
            self.top.saturating_sub(RLIMIT_STACK)
        } else {
            low.saturating_sub(STACK_EXPAND)
        };
        (start, self.top)
    }
}

/// The finished block: its bytes from `sp` to the top, and where things are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    /// The user stack pointer (address of `argc`).
    pub sp: u64,
    /// Address of the `argv` pointer array.
    pub argv: u64,
    /// Address of the `envp` pointer array.
    pub envp: u64,
    /// Address of the auxiliary vector.
    pub auxv: u64,
    /// Address of the random bytes.
    pub random: u64,
    /// `argc` as written.
    pub argc: u64,
    /// The bytes of `[sp, top)`.
    pub bytes: Vec<u8>,
}

/// `create_elf_tables`: lay out the block for `a` over the placed strings
/// `s`; `info`'s `random` and `execfn` are filled in here.
pub fn build(a: &ExecArgs<'_>, s: &Strings, mut info: AuxInfo) -> StackImage {
    // arch_align_stack without randomisation: down to 16.
    let mut p = s.bottom() & !15;
    p -= 16;
    let random = p;
    info.random = random;
    info.execfn = s.execfn;
    let aux = auxv::build(&info);
    let argc = s.argv.len() as u64;
    let items = (argc + 1) + (s.envp.len() as u64 + 1) + 1;
    let sp = (p - (aux.len() as u64) * 16 - items * 8) & !15;

    // The pointer arrays and the vector, as words from sp up.
    let mut words: Vec<u64> = Vec::with_capacity(items as usize + 2 * aux.len());
    words.push(argc);
    words.extend_from_slice(&s.argv);
    words.push(0);
    words.extend_from_slice(&s.envp);
    words.push(0);
    for (t, v) in aux {
        words.push(t);
        words.push(v);
    }
    let argv = sp + 8;
    let envp = argv + 8 * (argc + 1);
    let auxv_at = envp + 8 * (s.envp.len() as u64 + 1);

    let mut b = vec![0u8; (s.top - sp) as usize];
    let mut put = |addr: u64, bytes: &[u8]| {
        let o = (addr - sp) as usize;
        b[o..o + bytes.len()].copy_from_slice(bytes);
    };
    for (i, v) in words.iter().enumerate() {
        put(sp + 8 * i as u64, &v.to_le_bytes());
    }
    put(random, &a.random);
    let none: [&[u8]; 1] = [b""];
    let argv_s: &[&[u8]] = if a.argv.is_empty() { &none } else { a.argv };
    for (q, str_) in s.argv.iter().zip(argv_s) {
        put(*q, str_);
    }
    for (q, str_) in s.envp.iter().zip(a.envp) {
        put(*q, str_);
    }
    put(s.execfn, a.execfn);
    // The terminating NULs and the gaps are the buffer's zeros.
    StackImage {
        sp,
        argv,
        envp,
        auxv: auxv_at,
        random,
        argc,
        bytes: b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args<'a>(argv: &'a [&'a [u8]], envp: &'a [&'a [u8]]) -> ExecArgs<'a> {
        ExecArgs {
            argv,
            envp,
            execfn: b"/x",
            random: [7; 16],
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn a_top_too_low_is_an_error_not_a_panic() {
        for top in [0, 8, 100, 4096, 64 << 10] {
            assert_eq!(
                Strings::place(&args(&[b"a"], &[]), top).unwrap_err(),
                ExecError::NoStackRoom
            );
        }
    }

    #[test]
    fn placement_and_vma() {
        let top = 1u64 << 47;
        let s = Strings::place(&args(&[b"ab", b"c"], &[b"E=1"]), top).unwrap();
        assert_eq!(s.execfn, top - 8 - 3);
        assert_eq!(s.env, (top - 11 - 4, top - 11));
        assert_eq!(s.argv, vec![top - 15 - 5, top - 15 - 2]);
        assert_eq!(s.arg, (top - 20, top - 15));
        assert_eq!(s.vma(), (top - 4096 - STACK_EXPAND, top));
        let img = build(
            &args(&[b"ab", b"c"], &[b"E=1"]),
            &s,
            AuxInfo {
                phdr: 0,
                phnum: 0,
                entry: 0,
                base: 0,
                sysinfo_ehdr: None,
                uid: 0,
                gid: 0,
                random: 0,
                execfn: 0,
            },
        );
        assert_eq!(img.sp % 16, 0);
        assert_eq!(img.bytes.len() as u64, top - img.sp);
        assert_eq!(img.random, ((top - 20) & !15) - 16);
    }

    #[test]
    fn the_pointer_arrays_count_against_the_limit() {
        let empty: Vec<&[u8]> = vec![b""; ARG_LIMIT / 8];
        assert_eq!(
            Strings::place(&args(&[], &empty), 1 << 47).unwrap_err(),
            ExecError::TooBig
        );
    }
}
