//! ferrite's hart: a user-mode RV64IMAFDC CPU (+ Zicsr, Zifencei) with an
//! Sv48 MMU, run inside an ordinary host process.
//!
//! This crate is the hardware half of Linux's `arch/riscv/`: it is what the
//! kernel's trap entry (`handle_exception`) would sit on top of. Only the
//! privileged spec's U-mode view exists here; every trap (ecall, page fault,
//! illegal instruction, ...) leaves [`Hart::run`] as an [`Exit`] with the pc
//! still at the trapping instruction, instead of entering S-mode.
//!
//! Layout: [`ram`] (physical memory), [`machine`] (state shared by all
//! harts: LR/SC reservations, shootdown mailboxes), [`mmu`] (Sv48 walk and
//! the TLBs), [`decode`] (instruction words to pre-decoded ops), [`exec`]
//! (the threaded-code block interpreter), [`csr`], [`hart`] (the public
//! per-hart API) and [`fpu`] (IEEE-754 soft-float). See README.md for the
//! design, the differences from hardware and the benchmark figures.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod csr;
pub mod decode;
pub mod exec;
pub mod fpu;
pub mod hart;
pub mod machine;
pub mod mmu;
pub mod ram;

pub use hart::Hart;
pub use machine::Machine;
pub use ram::Ram;

/// The kind of memory access that faulted. `Store` includes AMOs and SC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load (or LR).
    Load,
    /// A store, SC or AMO.
    Store,
    /// An instruction fetch.
    Fetch,
}

/// Why [`Hart::run`] returned: the traps a U-mode hart takes into the
/// kernel (Linux's `scause` values), plus the budget running out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `ecall`; pc still points at it (the kernel advances it by 4).
    Ecall,
    /// `ebreak` / `c.ebreak`; pc at it.
    Breakpoint,
    /// Failed translation; pc at the faulting instruction.
    PageFault {
        /// The first faulting virtual byte address.
        addr: u64,
        /// The access that faulted.
        access: Access,
    },
    /// Illegal instruction; pc at it.
    Illegal {
        /// The instruction (a compressed one zero-extended).
        bits: u32,
    },
    /// A misaligned LR/SC/AMO (or a fetch from an odd pc, which only the
    /// kernel can set up with `set_pc`); pc at it.
    Misaligned {
        /// The address of the access.
        addr: u64,
        /// Load for LR, Store for SC and AMOs, Fetch for an odd pc.
        access: Access,
    },
    /// The instruction budget is used up; pc at the next instruction.
    Budget,
}
