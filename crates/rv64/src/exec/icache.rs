//! The decoded-instruction cache: basic blocks decoded once, keyed by the
//! PHYSICAL address of their first instruction, so TLB flushes and address
//! space switches keep them. A block ends at a control transfer, a trap-ish
//! instruction, the end of the physical page, or after `MAX_BLOCK`
//! instructions; adjacent dependent ALU pairs are then fused (see
//! [`super::fuse`]). `fence.i` drops the hart's whole cache; besides, the
//! cache is kept coherent with stores as on hardware with coherent
//! instruction fetch: a store into a page with decoded code drops that
//! page's blocks on the storing hart at the end of its running block and
//! every block on the other harts that decoded from it at their next block
//! boundary (see `machine` for the protocol). So a program that rewrites
//! code without `fence.i` runs the new code soon after, never stale code
//! forever.
//!
//! The cache is two-way: a block lives in its set ([`set_of`]) or in the
//! neighbouring slot (`set ^ 1`); a fill moves the set's block to the
//! neighbour and takes the set, so two hot blocks whose addresses share a
//! set (a call and its callee, say) do not evict each other on every pass.
//!
//! An instruction whose two halves straddle a page boundary is decoded into
//! a one-instruction scratch block each time (its bytes come from two
//! separate translations, so it cannot be keyed by one physical address).

use super::fuse::fuse;
use super::ops::Slot;
use crate::decode::{decode, Inst};
use crate::ram::Ram;

/// Blocks are at most this many instructions.
pub const MAX_BLOCK: usize = 64;
const SETS: usize = 8192;

/// One cached block.
pub struct Block {
    /// Physical address of the first instruction, or u64::MAX.
    pub pa: u64,
    /// The decoded instructions, then an end sentinel. pc-relative
    /// immediates (auipc, jal, branches) are rebased to the block start
    /// (see [`rebase`]).
    pub slots: Vec<Slot>,
    /// The block's length in bytes.
    pub bytes: u64,
    /// The number of instructions (without the sentinel).
    pub count: u64,
}

/// Makes a pc-relative immediate relative to the start of the block the
/// instruction sits in, `off` bytes in, so the interpreter needs only the
/// block's start pc (no per-instruction pc bookkeeping).
#[inline]
pub fn rebase(inst: &mut Inst, off: u64) {
    use crate::decode::Op::*;
    if matches!(inst.op, Auipc | Jal | Beq | Bne | Blt | Bge | Bltu | Bgeu) {
        inst.imm = inst.imm.wrapping_add(off as i64);
    }
}

/// The cache.
pub struct ICache {
    /// Direct-mapped block slots.
    pub blocks: Vec<Block>,
    /// The scratch block for page-straddling instructions.
    pub scratch: Vec<Slot>,
}

impl Default for ICache {
    fn default() -> Self {
        ICache {
            blocks: (0..SETS)
                .map(|_| Block {
                    pa: u64::MAX,
                    slots: Vec::new(),
                    bytes: 0,
                    count: 0,
                })
                .collect(),
            scratch: Vec::new(),
        }
    }
}

/// The slot of a physical block address.
#[inline(always)]
pub fn set_of(pa: u64) -> usize {
    ((pa >> 1) ^ (pa >> 14)) as usize & (SETS - 1)
}

impl ICache {
    /// The slot holding the block at physical address `pa`, if cached.
    #[inline(always)]
    pub fn find(&self, pa: u64) -> Option<usize> {
        let set = set_of(pa);
        if self.blocks[set].pa == pa {
            Some(set)
        } else if self.blocks[set ^ 1].pa == pa {
            Some(set ^ 1)
        } else {
            None
        }
    }

    /// Drops every block (fence.i).
    pub fn flush(&mut self) {
        for b in &mut self.blocks {
            b.pa = u64::MAX;
        }
    }

    /// Drops the blocks that start in physical page number `page`.
    pub fn flush_page(&mut self, page: u64) {
        for b in &mut self.blocks {
            if b.pa >> 12 == page {
                b.pa = u64::MAX;
            }
        }
    }

    /// Fills the scratch block with one instruction (at offset 0).
    pub fn fill_scratch(&mut self, inst: Inst) {
        self.scratch.clear();
        self.scratch.push(Slot::new(inst, 0, 0));
        self.scratch.push(Slot::end(inst.len as u16, 1));
    }

    /// Decodes the block at physical address `pa` into its slot and
    /// returns the slot. `Err(lo)` means the first instruction is a 32-bit
    /// one straddling the page end; `lo` is its first parcel.
    pub fn fill(&mut self, ram: &Ram, pa: u64) -> Result<usize, u16> {
        let set = set_of(pa);
        if self.blocks[set].pa != u64::MAX {
            // The set's block becomes the neighbour's (least recently
            // filled of the two goes).
            self.blocks.swap(set, set ^ 1);
        }
        let page_end = (pa | 0xfff) + 1;
        let b = &mut self.blocks[set];
        b.slots.clear();
        b.pa = u64::MAX;
        let mut at = pa;
        while at + 2 <= page_end && b.slots.len() < MAX_BLOCK {
            let lo = ram.read(at, 2).unwrap_or(0) as u16;
            let hi = if lo & 3 == 3 {
                if at + 4 > page_end {
                    if b.slots.is_empty() {
                        return Err(lo);
                    }
                    break;
                }
                ram.read(at + 2, 2).unwrap_or(0) as u16
            } else {
                0
            };
            let mut inst = decode(lo, hi);
            rebase(&mut inst, at - pa);
            let idx = b.slots.len() as u16;
            b.slots.push(Slot::new(inst, (at - pa) as u16, idx));
            at += inst.len as u64;
            if inst.ends_block() {
                break;
            }
        }
        b.pa = pa;
        b.bytes = at - pa;
        b.count = b.slots.len() as u64;
        fuse(&mut b.slots);
        b.slots.push(Slot::end(b.bytes as u16, b.count as u16));
        Ok(set)
    }
}
