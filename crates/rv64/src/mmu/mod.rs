//! The MMU: Sv48 page-table walks ([`walk()`]) and the per-hart TLBs
//! ([`tlb`]). Linux's `arch/riscv/include/asm/pgtable*.h` describes the
//! same PTE format from the software side; this is the hardware side that
//! reads it.

pub mod tlb;
pub mod walk;

pub use walk::{walk, Leaf};

/// PTE bit: valid.
pub const PTE_V: u64 = 1 << 0;
/// PTE bit: readable.
pub const PTE_R: u64 = 1 << 1;
/// PTE bit: writable.
pub const PTE_W: u64 = 1 << 2;
/// PTE bit: executable.
pub const PTE_X: u64 = 1 << 3;
/// PTE bit: user-accessible.
pub const PTE_U: u64 = 1 << 4;
/// PTE bit: global.
pub const PTE_G: u64 = 1 << 5;
/// PTE bit: accessed.
pub const PTE_A: u64 = 1 << 6;
/// PTE bit: dirty.
pub const PTE_D: u64 = 1 << 7;
/// satp MODE value for Sv48.
pub const SATP_MODE_SV48: u64 = 9;
