//! The auxiliary vector (include/uapi/linux/auxvec.h,
//! arch/riscv/include/uapi/asm/auxvec.h, the `NEW_AUX_ENT` list of
//! fs/binfmt_elf.c `create_elf_tables` and riscv's `ARCH_DLINFO`).
//!
//! Entries in Linux's order for riscv64: first `ARCH_DLINFO`
//! (`AT_SYSINFO_EHDR`, the vDSO's address, when one is mapped; the L1I,
//! L1D, L2 and L3 cache size and geometry entries, 0 as on a hart whose
//! device tree describes no caches, then `AT_MINSIGSTKSZ`), then
//! `AT_HWCAP`, `AT_PAGESZ`, `AT_CLKTCK`, `AT_PHDR`, `AT_PHENT`, `AT_PHNUM`,
//! `AT_BASE`, `AT_FLAGS`, `AT_ENTRY`, `AT_UID`, `AT_EUID`, `AT_GID`,
//! `AT_EGID`, `AT_SECURE`, `AT_RANDOM`, `AT_EXECFN`, `AT_NULL`.
//!
//! `AT_BASE` is the interpreter's load address (0 for a static program),
//! `AT_PHDR`, `AT_PHNUM` and `AT_ENTRY` are the program's even when an
//! interpreter runs first.
//!
//! Left out, and why:
//! - `AT_SYSINFO_EHDR` when the caller maps no vDSO (as a kernel built
//!   without one);
//! - `AT_HWCAP2`: riscv defines none;
//! - `AT_PLATFORM`, `AT_BASE_PLATFORM`: riscv's `ELF_PLATFORM` is NULL;
//! - `AT_EXECFD`: no binfmt_misc;
//! - `AT_RSEQ_FEATURE_SIZE`, `AT_RSEQ_ALIGN`: ferrite has no rseq (as a
//!   Linux built without `CONFIG_RSEQ`).

/// End of the vector.
pub const AT_NULL: u64 = 0;
/// Entry to ignore.
pub const AT_IGNORE: u64 = 1;
/// Program headers in memory.
pub const AT_PHDR: u64 = 3;
/// Size of a program header.
pub const AT_PHENT: u64 = 4;
/// Number of program headers.
pub const AT_PHNUM: u64 = 5;
/// Page size.
pub const AT_PAGESZ: u64 = 6;
/// Interpreter base (0: none).
pub const AT_BASE: u64 = 7;
/// Flags.
pub const AT_FLAGS: u64 = 8;
/// Program entry point.
pub const AT_ENTRY: u64 = 9;
/// Real uid.
pub const AT_UID: u64 = 11;
/// Effective uid.
pub const AT_EUID: u64 = 12;
/// Real gid.
pub const AT_GID: u64 = 13;
/// Effective gid.
pub const AT_EGID: u64 = 14;
/// Platform string.
pub const AT_PLATFORM: u64 = 15;
/// CPU capabilities.
pub const AT_HWCAP: u64 = 16;
/// `times()` frequency.
pub const AT_CLKTCK: u64 = 17;
/// Secure mode.
pub const AT_SECURE: u64 = 23;
/// Address of 16 random bytes.
pub const AT_RANDOM: u64 = 25;
/// More CPU capabilities.
pub const AT_HWCAP2: u64 = 26;
/// The executed path.
pub const AT_EXECFN: u64 = 31;
/// vDSO image.
pub const AT_SYSINFO_EHDR: u64 = 33;
/// L1 instruction cache size.
pub const AT_L1I_CACHESIZE: u64 = 40;
/// L1 instruction cache geometry.
pub const AT_L1I_CACHEGEOMETRY: u64 = 41;
/// L1 data cache size.
pub const AT_L1D_CACHESIZE: u64 = 42;
/// L1 data cache geometry.
pub const AT_L1D_CACHEGEOMETRY: u64 = 43;
/// L2 cache size.
pub const AT_L2_CACHESIZE: u64 = 44;
/// L2 cache geometry.
pub const AT_L2_CACHEGEOMETRY: u64 = 45;
/// L3 cache size.
pub const AT_L3_CACHESIZE: u64 = 46;
/// L3 cache geometry.
pub const AT_L3_CACHEGEOMETRY: u64 = 47;
/// Minimal signal stack size.
pub const AT_MINSIGSTKSZ: u64 = 51;

/// The single-letter ISA extension bit of `ELF_HWCAP` (`COMPAT_HWCAP_ISA_*`).
const fn isa(letter: u8) -> u64 {
    1 << (letter - b'a')
}

/// `ELF_HWCAP` of ferrite's harts: RV64IMAFDC (the `rv64` crate's
/// RV64GC; Zicsr and Zifencei have no bit).
pub const HWCAP_RV64GC: u64 = isa(b'i') | isa(b'm') | isa(b'a') | isa(b'f') | isa(b'd') | isa(b'c');

/// `ELF_EXEC_PAGESIZE`.
pub const PAGESZ: u64 = 4096;
/// `CLOCKS_PER_SEC` (`USER_HZ`).
pub const CLKTCK: u64 = 100;

/// `signal_minsigstksz` for a hart without the V extension: the size of
/// riscv64's `struct rt_sigframe` (`siginfo` 128 bytes + `ucontext` 960
/// bytes), rounded to 16, as `get_rt_frame_size` computes it.
pub const MINSIGSTKSZ: u64 = 1088;

/// What the vector says about the program (the rest is constant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuxInfo {
    /// `AT_PHDR`.
    pub phdr: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_ENTRY`: the program's entry (not the interpreter's).
    pub entry: u64,
    /// `AT_BASE`: the interpreter's load address, 0 without one.
    pub base: u64,
    /// `AT_SYSINFO_EHDR`: the vDSO's address, None without one.
    pub sysinfo_ehdr: Option<u64>,
    /// `AT_UID` and `AT_EUID`.
    pub uid: u32,
    /// `AT_GID` and `AT_EGID`.
    pub gid: u32,
    /// `AT_RANDOM`: where the 16 random bytes are.
    pub random: u64,
    /// `AT_EXECFN`: where the executed path is.
    pub execfn: u64,
}

/// The most entries [`build`] returns, `AT_NULL` included.
pub const NR_ENTRIES: usize = 27;

/// The vector, `(type, value)` pairs in Linux's order, ending with
/// `AT_NULL`.
pub fn build(i: &AuxInfo) -> Vec<(u64, u64)> {
    let mut v = Vec::with_capacity(NR_ENTRIES);
    if let Some(ehdr) = i.sysinfo_ehdr {
        v.push((AT_SYSINFO_EHDR, ehdr));
    }
    v.extend_from_slice(&[
        (AT_L1I_CACHESIZE, 0),
        (AT_L1I_CACHEGEOMETRY, 0),
        (AT_L1D_CACHESIZE, 0),
        (AT_L1D_CACHEGEOMETRY, 0),
        (AT_L2_CACHESIZE, 0),
        (AT_L2_CACHEGEOMETRY, 0),
        (AT_L3_CACHESIZE, 0),
        (AT_L3_CACHEGEOMETRY, 0),
        (AT_MINSIGSTKSZ, MINSIGSTKSZ),
        (AT_HWCAP, HWCAP_RV64GC),
        (AT_PAGESZ, PAGESZ),
        (AT_CLKTCK, CLKTCK),
        (AT_PHDR, i.phdr),
        (AT_PHENT, super::elf::PHDR_SIZE as u64),
        (AT_PHNUM, i.phnum),
        (AT_BASE, i.base),
        (AT_FLAGS, 0),
        (AT_ENTRY, i.entry),
        (AT_UID, u64::from(i.uid)),
        (AT_EUID, u64::from(i.uid)),
        (AT_GID, u64::from(i.gid)),
        (AT_EGID, u64::from(i.gid)),
        (AT_SECURE, 0),
        (AT_RANDOM, i.random),
        (AT_EXECFN, i.execfn),
        (AT_NULL, 0),
    ]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwcap_is_imafdc() {
        assert_eq!(HWCAP_RV64GC, 0x112d);
    }

    #[test]
    fn ends_with_null_and_has_no_duplicates() {
        for ehdr in [None, Some(0x3f_f7ff_e000)] {
            let v = build(&AuxInfo {
                phdr: 1,
                phnum: 2,
                entry: 3,
                base: 8,
                sysinfo_ehdr: ehdr,
                uid: 4,
                gid: 5,
                random: 6,
                execfn: 7,
            });
            assert_eq!(v.last(), Some(&(AT_NULL, 0)));
            assert!(v.len() <= NR_ENTRIES);
            let mut types: Vec<u64> = v.iter().map(|e| e.0).collect();
            types.sort_unstable();
            types.dedup();
            assert_eq!(types.len(), v.len());
            // ARCH_DLINFO comes first, AT_SYSINFO_EHDR at its head.
            match ehdr {
                Some(e) => assert_eq!((v.len(), v[0]), (NR_ENTRIES, (AT_SYSINFO_EHDR, e))),
                None => assert_eq!((v.len(), v[0].0), (NR_ENTRIES - 1, AT_L1I_CACHESIZE)),
            }
            assert!(v.contains(&(AT_BASE, 8)));
        }
    }
}
