//! The interpreter: runs pre-decoded blocks (see [`icache`]) as threaded
//! code: every decoded instruction carries a pointer to its handler, and
//! each handler ends by jumping straight to the next instruction's handler
//! (see [`ops`]). This is the "hardware pipeline" of the hart; nothing here
//! corresponds to Linux code. Adjacent dependent ALU pairs run as one
//! fused handler (see [`fuse`]). Traps stop the block with the pc at the
//! trapping instruction and the instructions before it retired.

pub mod amo;
pub mod fp;
pub mod fuse;
pub mod icache;
pub mod mem;
pub mod ops;

use std::sync::Arc;

use crate::machine::Machine;
use crate::mmu::tlb::Tlb;
use crate::ram::Ram;
use crate::Exit;

/// `Cpu::icache_op`: nothing to do.
pub const ICACHE_NONE: u64 = u64::MAX;
/// `Cpu::icache_op`: drop every decoded block (`fence.i`).
pub const ICACHE_ALL: u64 = u64::MAX - 1;

/// The architectural state of one hart plus its TLBs.
pub struct Cpu {
    /// Integer registers; index 32 is the x0 write sink, 33..255 unused
    /// (the array is 256 long so a `u8` index needs no bounds check).
    pub x: [u64; 256],
    /// FP registers (raw 64-bit contents, singles NaN-boxed).
    pub f: [u64; 32],
    /// The program counter.
    pub pc: u64,
    /// fcsr: fflags bits 0..4, frm bits 5..7.
    pub fcsr: u32,
    /// satp.
    pub satp: u64,
    /// `asid_key` of satp's ASID (see [`crate::mmu::tlb`]): XORed into
    /// every VPN looked up.
    pub asid_key: u64,
    /// Instructions retired.
    pub instret: u64,
    /// The TLBs.
    pub tlb: Tlb,
    /// RAM.
    pub ram: Ram,
    /// RAM's host base address (cached).
    pub ram_base: u64,
    /// The machine.
    pub machine: Arc<Machine>,
    /// Hart id.
    pub id: usize,
    /// What the last LR read: (physical address, value, word-sized).
    pub lr: Option<(u64, u64, bool)>,
    /// What to drop from the decoded cache after this block (one value, so
    /// the run loop tests it with one compare): [`ICACHE_NONE`];
    /// [`ICACHE_ALL`] after a `fence.i` (or stores into code in two
    /// pages); else the page number of a page a store hit code in.
    pub icache_op: u64,
    /// The pc of the running block's first instruction.
    pub blk_base: u64,
    /// The pc just past the running block's last instruction.
    pub blk_end: u64,
    /// The trap that stopped the running block.
    pub exit: Option<Exit>,
    /// Index in its block of the instruction that trapped.
    pub trap_idx: u16,
    /// A taken branch left the block: the instructions retired in it, or 0.
    pub side_exit: u16,
    /// The `time` CSR's source: None for the host clock
    /// ([`Machine::time`]); Some((ns, instret)) for a virtual clock that
    /// read `ns` nanoseconds when `instret` instructions had retired and
    /// advances 1 ns per instruction since (the kernel's deterministic
    /// mode, see [`crate::Hart::set_time_base`]).
    pub vtime: Option<(u64, u64)>,
}

impl Cpu {
    /// A hart in its reset state (all registers 0, Bare translation).
    pub fn new(id: usize, machine: Arc<Machine>) -> Cpu {
        let ram = machine.ram();
        Cpu {
            x: [0; 256],
            f: [0; 32],
            pc: 0,
            fcsr: 0,
            satp: 0,
            asid_key: 0,
            instret: 0,
            tlb: Tlb::default(),
            ram,
            ram_base: ram.base() as u64,
            machine,
            id,
            lr: None,
            icache_op: ICACHE_NONE,
            blk_base: 0,
            blk_end: 0,
            exit: None,
            trap_idx: 0,
            side_exit: 0,
            vtime: None,
        }
    }
}
