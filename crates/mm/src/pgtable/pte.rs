//! The Sv48 page-table entry and protections (arch/riscv/include/asm/pgtable-bits.h,
//! pgtable.h, pgtable-64.h; the RISC-V privileged spec, "Sv48").
//!
//! An entry is 64 bits:
//!
//! | bits | field |
//! |---|---|
//! | 0 | V (valid) |
//! | 1, 2, 3 | R, W, X |
//! | 4 | U (user) |
//! | 5 | G (global) |
//! | 6 | A (accessed) |
//! | 7 | D (dirty) |
//! | 8..=9 | RSW, for software: bit 8 `_PAGE_SPECIAL`, bit 9 `_PAGE_DEVMAP` as in Linux riscv |
//! | 10..=53 | PPN (44 bits) |
//! | 54..=63 | zero (no Svnapot, no Svpbmt) |
//!
//! V=1 with R=W=X=0 points to the next-level table; V=1 with any of R/W/X is
//! a leaf. W without R is reserved by the spec: nothing here produces it
//! ([`Pte::mkwrite`] sets R with W, [`PgProt::new`] refuses it).
//!
//! `PROT_NONE` mappings follow Linux riscv: the entry keeps its PFN and R but
//! has V=0 (so the MMU faults) and the G bit set as `_PAGE_PROT_NONE`, which
//! makes it "present" to software. User mappings never use G otherwise.

use core::fmt;

/// V: the entry is valid.
pub const _PAGE_PRESENT: u64 = 1 << 0;
/// R: readable.
pub const _PAGE_READ: u64 = 1 << 1;
/// W: writable.
pub const _PAGE_WRITE: u64 = 1 << 2;
/// X: executable.
pub const _PAGE_EXEC: u64 = 1 << 3;
/// U: accessible from user mode.
pub const _PAGE_USER: u64 = 1 << 4;
/// G: global mapping (all address spaces).
pub const _PAGE_GLOBAL: u64 = 1 << 5;
/// A: accessed.
pub const _PAGE_ACCESSED: u64 = 1 << 6;
/// D: dirty.
pub const _PAGE_DIRTY: u64 = 1 << 7;
/// RSW bit 0: a mapping without a `struct page` behind it (`pte_special`).
pub const _PAGE_SPECIAL: u64 = 1 << 8;
/// RSW bit 1: device memory (`pte_devmap`).
pub const _PAGE_DEVMAP: u64 = 1 << 9;
/// Both RSW bits.
pub const _PAGE_SOFT: u64 = _PAGE_SPECIAL | _PAGE_DEVMAP;
/// Linux riscv's marker for a PROT_NONE entry: G with V clear.
pub const _PAGE_PROT_NONE: u64 = _PAGE_GLOBAL;
/// What a pointer to the next level carries (`_PAGE_TABLE`).
pub const _PAGE_TABLE: u64 = _PAGE_PRESENT;
/// Any of R, W, X: a leaf.
pub const _PAGE_LEAF: u64 = _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC;
/// All flag bits (0..=9).
pub const _PAGE_FLAGS_MASK: u64 = (1 << _PAGE_PFN_SHIFT) - 1;
/// Where the PPN starts.
pub const _PAGE_PFN_SHIFT: u32 = 10;
/// Width of the PPN.
pub const PFN_BITS: u32 = 44;
/// The largest PFN an entry can hold.
pub const MAX_PFN: u64 = (1 << PFN_BITS) - 1;
/// The PPN field in place.
pub const _PAGE_PFN_MASK: u64 = MAX_PFN << _PAGE_PFN_SHIFT;
/// Bits kept by [`Pte::modify`] (`_PAGE_CHG_MASK`): PFN, A, D and the RSW bits.
pub const _PAGE_CHG_MASK: u64 = _PAGE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT;

/// Bits of a user mapping before its permissions (`_PAGE_BASE`).
const BASE: u64 = _PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_USER;

/// `pgprot_t`: the flag bits (0..=9) of a leaf.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PgProt(u64);

impl PgProt {
    /// PROT_NONE: present to software, invalid to the MMU.
    pub const PAGE_NONE: PgProt = PgProt(_PAGE_PROT_NONE | _PAGE_READ);
    /// Read only.
    pub const PAGE_READ: PgProt = PgProt(BASE | _PAGE_READ);
    /// Read and write (W always comes with R).
    pub const PAGE_WRITE: PgProt = PgProt(BASE | _PAGE_READ | _PAGE_WRITE);
    /// Execute only.
    pub const PAGE_EXEC: PgProt = PgProt(BASE | _PAGE_EXEC);
    /// Read and execute.
    pub const PAGE_READ_EXEC: PgProt = PgProt(BASE | _PAGE_READ | _PAGE_EXEC);
    /// Read, write and execute.
    pub const PAGE_WRITE_EXEC: PgProt = PgProt(BASE | _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC);
    /// A private writable mapping before its copy-on-write fault: read only.
    pub const PAGE_COPY: PgProt = PgProt::PAGE_READ;
    /// As `PAGE_COPY`, executable.
    pub const PAGE_COPY_EXEC: PgProt = PgProt::PAGE_READ_EXEC;
    /// A shared writable mapping.
    pub const PAGE_SHARED: PgProt = PgProt::PAGE_WRITE;
    /// As `PAGE_SHARED`, executable.
    pub const PAGE_SHARED_EXEC: PgProt = PgProt::PAGE_WRITE_EXEC;

    /// A protection from raw flag bits, or None when the bits include a PFN,
    /// encode the reserved W-without-R, or are a pointer encoding (V alone).
    pub const fn new(bits: u64) -> Option<PgProt> {
        if bits & !_PAGE_FLAGS_MASK != 0 {
            return None;
        }
        if bits & _PAGE_WRITE != 0 && bits & _PAGE_READ == 0 {
            return None;
        }
        if bits & _PAGE_PRESENT != 0 && bits & _PAGE_LEAF == 0 {
            return None;
        }
        Some(PgProt(bits))
    }

    /// `pgprot_val()`.
    #[inline]
    pub const fn bits(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for PgProt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgProt({})", FlagNames(self.0))
    }
}

/// `VM_READ` as an index of [`protection_map`].
pub const VM_READ: usize = 0x1;
/// `VM_WRITE`.
pub const VM_WRITE: usize = 0x2;
/// `VM_EXEC`.
pub const VM_EXEC: usize = 0x4;
/// `VM_SHARED`.
pub const VM_SHARED: usize = 0x8;

/// `vm_get_page_prot()` (Linux riscv `protection_map`): the PTE protection
/// of a VMA with these `VM_READ | VM_WRITE | VM_EXEC | VM_SHARED` flags
/// (other bits are ignored). Private writable mappings start read only
/// (copy-on-write); write-only becomes read-write, never W without R.
pub const fn protection_map(vm_flags: usize) -> PgProt {
    let shared = vm_flags & VM_SHARED != 0;
    let r = vm_flags & VM_READ != 0;
    let w = vm_flags & VM_WRITE != 0;
    let x = vm_flags & VM_EXEC != 0;
    match (x, w && shared, r || w) {
        (false, false, false) => PgProt::PAGE_NONE,
        (false, false, true) => PgProt::PAGE_READ,
        (false, true, _) => PgProt::PAGE_SHARED,
        (true, false, false) => PgProt::PAGE_EXEC,
        (true, false, true) => PgProt::PAGE_READ_EXEC,
        (true, true, _) => PgProt::PAGE_SHARED_EXEC,
    }
}

/// `pte_t` (also the pmd/pud/pgd entry: Sv48 uses one format at every level).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct Pte(pub u64);

impl Pte {
    /// The empty entry (`pte_none`).
    pub const NONE: Pte = Pte(0);

    /// `pfn_pte()`: a leaf for `pfn` with `prot`; None if `pfn` does not fit
    /// in 44 bits.
    #[inline]
    pub const fn new(pfn: u64, prot: PgProt) -> Option<Pte> {
        if pfn > MAX_PFN {
            return None;
        }
        Some(Pte((pfn << _PAGE_PFN_SHIFT) | prot.0))
    }

    /// A pointer to the next-level table at `pfn` (`pfn_pmd(pfn, PAGE_TABLE)`).
    #[inline]
    pub const fn table(pfn: u64) -> Pte {
        Pte(((pfn & MAX_PFN) << _PAGE_PFN_SHIFT) | _PAGE_TABLE)
    }

    /// `pte_val()`.
    #[inline]
    pub const fn val(self) -> u64 {
        self.0
    }
    /// `pte_pfn()`.
    #[inline]
    pub const fn pfn(self) -> u64 {
        (self.0 >> _PAGE_PFN_SHIFT) & MAX_PFN
    }
    /// The flag bits (0..=9).
    #[inline]
    pub const fn flags(self) -> u64 {
        self.0 & _PAGE_FLAGS_MASK
    }
    /// The protection part (`pte_pgprot`): flags without A, D and RSW.
    #[inline]
    pub const fn prot(self) -> PgProt {
        PgProt(self.0 & _PAGE_FLAGS_MASK & !(_PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFT))
    }
    /// `pte_none()`.
    #[inline]
    pub const fn is_none(self) -> bool {
        self.0 == 0
    }
    /// V: the MMU will use this entry.
    #[inline]
    pub const fn is_valid(self) -> bool {
        self.0 & _PAGE_PRESENT != 0
    }
    /// `pte_present()`: valid, or a PROT_NONE mapping.
    #[inline]
    pub const fn is_present(self) -> bool {
        self.0 & (_PAGE_PRESENT | _PAGE_PROT_NONE) != 0
    }
    /// `pte_protnone()`.
    #[inline]
    pub const fn is_protnone(self) -> bool {
        self.0 & (_PAGE_PRESENT | _PAGE_PROT_NONE) == _PAGE_PROT_NONE
    }
    /// `pte_leaf()`/`pmd_leaf()`: present with any of R, W, X.
    #[inline]
    pub const fn is_leaf(self) -> bool {
        self.is_present() && self.0 & _PAGE_LEAF != 0
    }
    /// Valid with R=W=X=0: a pointer to the next level (`pmd_table`).
    #[inline]
    pub const fn is_table(self) -> bool {
        self.0 & (_PAGE_PRESENT | _PAGE_LEAF) == _PAGE_PRESENT
    }
    /// `pte_read()`.
    #[inline]
    pub const fn is_read(self) -> bool {
        self.0 & _PAGE_READ != 0
    }
    /// `pte_write()`.
    #[inline]
    pub const fn is_write(self) -> bool {
        self.0 & _PAGE_WRITE != 0
    }
    /// `pte_exec()`.
    #[inline]
    pub const fn is_exec(self) -> bool {
        self.0 & _PAGE_EXEC != 0
    }
    /// `pte_user()`.
    #[inline]
    pub const fn is_user(self) -> bool {
        self.0 & _PAGE_USER != 0
    }
    /// `pte_young()`.
    #[inline]
    pub const fn is_young(self) -> bool {
        self.0 & _PAGE_ACCESSED != 0
    }
    /// `pte_dirty()`.
    #[inline]
    pub const fn is_dirty(self) -> bool {
        self.0 & _PAGE_DIRTY != 0
    }
    /// `pte_special()`.
    #[inline]
    pub const fn is_special(self) -> bool {
        self.0 & _PAGE_SPECIAL != 0
    }
    /// `pte_devmap()`.
    #[inline]
    pub const fn is_devmap(self) -> bool {
        self.0 & _PAGE_DEVMAP != 0
    }

    /// `pte_mkwrite()`: sets W, and R with it (W without R is reserved).
    #[inline]
    pub const fn mkwrite(self) -> Pte {
        Pte(self.0 | _PAGE_WRITE | _PAGE_READ)
    }
    /// `pte_wrprotect()`.
    #[inline]
    pub const fn wrprotect(self) -> Pte {
        Pte(self.0 & !_PAGE_WRITE)
    }
    /// `pte_mkyoung()`.
    #[inline]
    pub const fn mkyoung(self) -> Pte {
        Pte(self.0 | _PAGE_ACCESSED)
    }
    /// `pte_mkold()`.
    #[inline]
    pub const fn mkold(self) -> Pte {
        Pte(self.0 & !_PAGE_ACCESSED)
    }
    /// `pte_mkdirty()`.
    #[inline]
    pub const fn mkdirty(self) -> Pte {
        Pte(self.0 | _PAGE_DIRTY)
    }
    /// `pte_mkclean()`.
    #[inline]
    pub const fn mkclean(self) -> Pte {
        Pte(self.0 & !_PAGE_DIRTY)
    }
    /// `pte_mkspecial()`.
    #[inline]
    pub const fn mkspecial(self) -> Pte {
        Pte(self.0 | _PAGE_SPECIAL)
    }
    /// `pte_mkdevmap()`.
    #[inline]
    pub const fn mkdevmap(self) -> Pte {
        Pte(self.0 | _PAGE_DEVMAP)
    }
    /// `pte_modify()`: the new protection, keeping PFN, A, D and RSW. A
    /// PROT_NONE target clears V; anything else clears the PROT_NONE mark.
    #[inline]
    pub const fn modify(self, prot: PgProt) -> Pte {
        Pte((self.0 & _PAGE_CHG_MASK) | prot.0)
    }
}

impl fmt::Debug for Pte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pte({:#x}: pfn {:#x} {})",
            self.0,
            self.pfn(),
            FlagNames(self.flags())
        )
    }
}

/// Flag bits as letters, `dagux wrv` style (`ss` for the RSW bits).
struct FlagNames(u64);

impl fmt::Display for FlagNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u64, char); 10] = [
            (_PAGE_DEVMAP, 'm'),
            (_PAGE_SPECIAL, 's'),
            (_PAGE_DIRTY, 'D'),
            (_PAGE_ACCESSED, 'A'),
            (_PAGE_GLOBAL, 'G'),
            (_PAGE_USER, 'U'),
            (_PAGE_EXEC, 'X'),
            (_PAGE_WRITE, 'W'),
            (_PAGE_READ, 'R'),
            (_PAGE_PRESENT, 'V'),
        ];
        for (bit, c) in NAMES {
            fmt::Write::write_char(f, if self.0 & bit != 0 { c } else { '-' })?;
        }
        Ok(())
    }
}
