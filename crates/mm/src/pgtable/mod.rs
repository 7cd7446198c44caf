//! 4-level page tables in the RISC-V Sv48 format (pgd, pud, pmd, pte).
//!
//! Mirrors Linux's arch/riscv/include/asm/pgtable.h, pgtable-64.h and
//! pgtable-bits.h (entry format, protections), mm/memory.c (`follow_pte`,
//! `zap_page_range`, `free_pgd_range`, `__pte_alloc`), mm/mprotect.c
//! (`change_protection`), mm/pgtable-generic.c and include/asm-generic/tlb.h
//! (the flush bookkeeping, in [`tlb`]).
//!
//! Table pages come from ferrite's page allocator (zeroed, counted in
//! `NrPageTable`), and every entry is an `AtomicU64` in RAM, because the
//! emulated hart's MMU walks the same tables concurrently: the format is
//! exactly the hardware's (see [`pte`]).
//!
//! Virtual addresses: bits 47..39 index the pgd, 38..30 the pud, 29..21 the
//! pmd and 20..12 the pte table; bits 63..48 must equal bit 47 (canonical).
//! User space is the lower half, `[0, TASK_SIZE)` with `TASK_SIZE = 1 << 47`
//! (128 TiB), which is Linux riscv's `TASK_SIZE_64 = PGDIR_SIZE *
//! PTRS_PER_PGD / 2` for Sv48. ferrite's kernel does not run on the emulated
//! hart, so a [`PageTable`] holds user mappings only and refuses the upper
//! (kernel) half.
//!
//! Locking: [`PageTable`] modifies through `&mut self` and looks up through
//! `&self`; the mm's `page_table_lock` (coming with `mm_struct`) wraps it,
//! as Linux's split locks and `mm->page_table_lock` do. Entries are stored
//! with release ordering after a new table is zeroed, so a concurrent
//! hardware walk sees either no table or a zeroed one.
//!
//! Where ferrite differs from Linux:
//! - only 4 KiB leaves are created (no huge pages yet); a walk treats a leaf
//!   met at an upper level as a mapping of its whole span;
//! - table pages are freed at once by [`PageTable::free_pgtables`] (Linux
//!   defers them through `tlb_remove_table`); the range is recorded in the
//!   [`TlbFlush`] with `freed_tables`, and the caller must flush before the
//!   harts run the mm again;
//! - the pgd page is counted in `NrPageTable` like the lower levels.

pub mod pte;
pub mod tlb;
mod walk;

pub use pte::{protection_map, PgProt, Pte};
pub use tlb::{flush_icache_pte, FlushRange, TlbFlush};
pub use walk::{PageTable, WalkEntry};

use core::fmt;

/// Entries per table.
pub const PTRS_PER_TABLE: usize = 512;
/// Levels: pgd, pud, pmd, pte.
pub const PGTABLE_LEVELS: usize = 4;
/// Shift of the pgd index (`PGDIR_SHIFT`).
pub const PGDIR_SHIFT: u32 = 39;
/// Shift of the pud index (`PUD_SHIFT`).
pub const PUD_SHIFT: u32 = 30;
/// Shift of the pmd index (`PMD_SHIFT`).
pub const PMD_SHIFT: u32 = 21;
/// Shift of the pte index (`PAGE_SHIFT`).
pub const PTE_SHIFT: u32 = 12;
/// Bytes one pgd entry maps (512 GiB).
pub const PGDIR_SIZE: usize = 1 << PGDIR_SHIFT;
/// Bytes one pud entry maps (1 GiB).
pub const PUD_SIZE: usize = 1 << PUD_SHIFT;
/// Bytes one pmd entry maps (2 MiB).
pub const PMD_SIZE: usize = 1 << PMD_SHIFT;
/// Top of user space (Linux riscv Sv48 `TASK_SIZE`).
pub const TASK_SIZE: usize = 1 << 47;
/// Sv48's `satp.MODE`.
pub const SATP_MODE_SV48: u64 = 9;
/// Names of the levels, top first.
pub const LEVEL_NAMES: [&str; PGTABLE_LEVELS] = ["pgd", "pud", "pmd", "pte"];

/// Index shift of level `level` (0 = pgd .. 3 = pte).
#[inline]
pub const fn level_shift(level: usize) -> u32 {
    PGDIR_SHIFT - 9 * level as u32
}

/// Index of `va` in the table of level `level` (0 = pgd .. 3 = pte).
#[inline]
pub const fn level_index(va: usize, level: usize) -> usize {
    (va >> level_shift(level)) & (PTRS_PER_TABLE - 1)
}

/// `pgd_index()`.
#[inline]
pub const fn pgd_index(va: usize) -> usize {
    level_index(va, 0)
}
/// `pud_index()`.
#[inline]
pub const fn pud_index(va: usize) -> usize {
    level_index(va, 1)
}
/// `pmd_index()`.
#[inline]
pub const fn pmd_index(va: usize) -> usize {
    level_index(va, 2)
}
/// `pte_index()`.
#[inline]
pub const fn pte_index(va: usize) -> usize {
    level_index(va, 3)
}

/// Whether bits 63..48 of `va` equal bit 47.
#[inline]
pub const fn is_canonical(va: usize) -> bool {
    let top = (va as u64) >> 47;
    top == 0 || top == (1 << 17) - 1
}

/// Whether `va` is a user address (`access_ok` for one byte).
#[inline]
pub const fn is_user_addr(va: usize) -> bool {
    va < TASK_SIZE
}

/// Why a page-table operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgtError {
    /// Bits 63..48 of the address do not equal bit 47.
    NonCanonical(usize),
    /// A canonical address in the kernel half (at or above `TASK_SIZE`).
    KernelAddress(usize),
    /// The address is not page aligned.
    Unaligned(usize),
    /// The page is already mapped (`-EEXIST`).
    AlreadyMapped(usize),
    /// The PFN does not fit in the 44-bit PPN.
    BadPfn(u64),
    /// No page for a table (`-ENOMEM`).
    NoMemory,
    /// The CPU guard belongs to another `Mem`.
    ForeignCpu,
}

impl PgtError {
    /// The Linux errno (positive) a syscall would return.
    pub fn errno(self) -> i32 {
        match self {
            PgtError::NoMemory => 12,
            PgtError::AlreadyMapped(_) => 17,
            _ => 22,
        }
    }
}

impl fmt::Display for PgtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgtError::NonCanonical(a) => write!(f, "non-canonical address {a:#x}"),
            PgtError::KernelAddress(a) => write!(f, "kernel-half address {a:#x}"),
            PgtError::Unaligned(a) => write!(f, "unaligned address {a:#x}"),
            PgtError::AlreadyMapped(a) => write!(f, "{a:#x} is already mapped"),
            PgtError::BadPfn(p) => write!(f, "pfn {p:#x} does not fit in 44 bits"),
            PgtError::NoMemory => f.write_str("out of memory for a page table"),
            PgtError::ForeignCpu => f.write_str("CPU guard of another Mem"),
        }
    }
}

/// Check that `va` is a page-aligned user address.
pub fn check_user_page(va: usize) -> Result<(), PgtError> {
    if !is_canonical(va) {
        Err(PgtError::NonCanonical(va))
    } else if !is_user_addr(va) {
        Err(PgtError::KernelAddress(va))
    } else if va % crate::page::PAGE_SIZE != 0 {
        Err(PgtError::Unaligned(va))
    } else {
        Ok(())
    }
}
