//! Macro-op fusion: a peephole pass over a freshly decoded block that gives
//! a common adjacent pair "ALU op, then an ALU op, conditional branch, load
//! or store that reads the first one's result" one handler doing both. A
//! handler keeps its values in host registers only within itself: between
//! two handlers a guest register goes through the register file in memory,
//! which costs a store-to-load forwarding (several cycles) on every
//! dependency hop. A fused handler passes the first result to the second op
//! in a host register, so a dependency chain such as `slli t,x,13;
//! xor x,x,t` makes one trip through memory instead of two.
//!
//! The pair keeps both slots: the first slot gets the fused handler, which
//! still writes both destination registers (later code may read either)
//! and continues at the slot after the second; the second slot keeps its
//! own instruction and handler, so stepping (`Hart::run` when the budget
//! ends inside a block, which runs every instruction with its plain
//! handler) and `Slot::idx` accounting are unchanged. The first op never
//! traps; a load or store second op that misses the TLB fast path runs its
//! own handler (so a trap there has the first op retired, as unfused), and
//! a taken branch as the second op leaves with the second slot's index,
//! exactly as unfused. Blocks are only entered at their first slot, so
//! nothing ever starts in the middle of a pair.

use super::ops::{alu, next, side_exit, taken, Handler, Slot};
use super::Cpu;
use crate::decode::{Inst, Op};

/// Operand pattern: the second op's rs1 is the first's rd (rs2 from the
/// register file).
const V_M: u8 = 0;
/// Operand pattern: the second op's rs2 is the first's rd (rs1 from the
/// register file).
const M_V: u8 = 1;

/// Fuses adjacent dependent pairs in `slots` (a block's decoded
/// instructions, without the end sentinel), left to right, each slot in at
/// most one pair.
pub fn fuse(slots: &mut [Slot]) {
    let mut k = 0;
    while k + 1 < slots.len() {
        match pick(&slots[k].i, &slots[k + 1].i) {
            Some(h) => {
                slots[k].h = h;
                k += 2;
            }
            None => k += 1,
        }
    }
}

/// The fused handler for `a` followed by `b`, if they fuse.
fn pick(a: &Inst, b: &Inst) -> Option<Handler> {
    // a.rd is the sink (32) when a writes x0, which no source names, so a
    // write to x0 never forwards: such a pair does not fuse.
    let p = if b.rs1 == a.rd {
        V_M
    } else if b.rs2 == a.rd && two_sources(b.op) {
        M_V
    } else {
        return None;
    };
    macro_rules! first {
        ($($op:ident)*) => {
            match a.op {
                $(Op::$op => second::<{ Op::$op as u8 }>(b.op, p),)*
                _ => None,
            }
        };
    }
    first!(Lui Auipc Addi Addiw Andi Ori Xori Slli Srli Srai Slliw Srliw Sraiw
        Add Sub Xor Or And Addw Subw Mul Mulw)
}

/// Whether `op`'s rs2 is a source (R-type ALU ops, branches, stores).
fn two_sources(op: Op) -> bool {
    matches!(
        op,
        Op::Add
            | Op::Sub
            | Op::Xor
            | Op::Or
            | Op::And
            | Op::Addw
            | Op::Subw
            | Op::Mul
            | Op::Mulw
            | Op::Sltu
            | Op::Beq
            | Op::Bne
            | Op::Blt
            | Op::Bge
            | Op::Bltu
            | Op::Bgeu
            | Op::Sb
            | Op::Sh
            | Op::Sw
            | Op::Sd
    )
}

/// The fused handler for first op `A` and second op `b` (pattern `p`).
fn second<const A: u8>(b: Op, p: u8) -> Option<Handler> {
    macro_rules! imm {
        ($op:ident) => {
            pair::<A, { Op::$op as u8 }, V_M>
        };
    }
    macro_rules! reg {
        ($op:ident) => {
            if p == V_M {
                pair::<A, { Op::$op as u8 }, V_M>
            } else {
                pair::<A, { Op::$op as u8 }, M_V>
            }
        };
    }
    macro_rules! br {
        ($op:ident) => {
            if p == V_M {
                pair_branch::<A, { Op::$op as u8 }, V_M>
            } else {
                pair_branch::<A, { Op::$op as u8 }, M_V>
            }
        };
    }
    macro_rules! load {
        ($op:ident, $n:literal) => {
            pair_load::<A, { Op::$op as u8 }, $n>
        };
    }
    macro_rules! store {
        ($n:literal) => {
            if p == V_M {
                pair_store::<A, $n, V_M>
            } else {
                pair_store::<A, $n, M_V>
            }
        };
    }
    Some(match b {
        Op::Lb => load!(Lb, 1),
        Op::Lh => load!(Lh, 2),
        Op::Lw => load!(Lw, 4),
        Op::Ld => load!(Ld, 8),
        Op::Lbu => load!(Lbu, 1),
        Op::Lhu => load!(Lhu, 2),
        Op::Lwu => load!(Lwu, 4),
        Op::Sb => store!(1),
        Op::Sh => store!(2),
        Op::Sw => store!(4),
        Op::Sd => store!(8),
        Op::Addi => imm!(Addi),
        Op::Addiw => imm!(Addiw),
        Op::Andi => imm!(Andi),
        Op::Xori => imm!(Xori),
        Op::Slli => imm!(Slli),
        Op::Srli => imm!(Srli),
        Op::Srai => imm!(Srai),
        Op::Slliw => imm!(Slliw),
        Op::Srliw => imm!(Srliw),
        Op::Sraiw => imm!(Sraiw),
        Op::Add => reg!(Add),
        Op::Sub => reg!(Sub),
        Op::Xor => reg!(Xor),
        Op::Or => reg!(Or),
        Op::And => reg!(And),
        Op::Addw => reg!(Addw),
        Op::Subw => reg!(Subw),
        Op::Mul => reg!(Mul),
        Op::Mulw => reg!(Mulw),
        Op::Sltu => reg!(Sltu),
        Op::Beq => br!(Beq),
        Op::Bne => br!(Bne),
        Op::Blt => br!(Blt),
        Op::Bge => br!(Bge),
        Op::Bltu => br!(Bltu),
        Op::Bgeu => br!(Bgeu),
        _ => return None,
    })
}

/// The second slot of the pair whose first slot is `s`.
#[inline(always)]
fn second_slot(s: &Slot) -> &Slot {
    // SAFETY: a fused handler sits only in a slot that `fuse` paired with
    // the slot after it, in the same block's slot array.
    unsafe { &*(s as *const Slot).add(1) }
}

/// Runs the first op (`A`) of the pair at `s`: writes its rd and returns
/// the result.
#[inline(always)]
fn first<const A: u8>(cpu: &mut Cpu, s: &Slot) -> u64 {
    let imm = s.i.imm as u64;
    let v = if A == Op::Auipc as u8 {
        cpu.blk_base.wrapping_add(imm)
    } else {
        alu(A, cpu.x[s.i.rs1 as usize], cpu.x[s.i.rs2 as usize], imm)
    };
    cpu.x[s.i.rd as usize] = v;
    v
}

/// The second op's sources: the first result `v` in place of the one that
/// names the first op's rd (pattern `P`), the other from the register file
/// (read after the first op's write, so it is right even when it names the
/// same register).
#[inline(always)]
fn sources<const P: u8>(cpu: &Cpu, t: &Slot, v: u64) -> (u64, u64) {
    if P == V_M {
        (v, cpu.x[t.i.rs2 as usize])
    } else {
        (cpu.x[t.i.rs1 as usize], v)
    }
}

/// ALU op `A`, then ALU op `B` reading its result.
fn pair<const A: u8, const B: u8, const P: u8>(cpu: &mut Cpu, s: &Slot) {
    let t = second_slot(s);
    let v = first::<A>(cpu, s);
    let (x, y) = sources::<P>(cpu, t, v);
    cpu.x[t.i.rd as usize] = alu(B, x, y, t.i.imm as u64);
    next(cpu, t)
}

/// ALU op `A`, then conditional branch `B` reading its result.
fn pair_branch<const A: u8, const B: u8, const P: u8>(cpu: &mut Cpu, s: &Slot) {
    let t = second_slot(s);
    let v = first::<A>(cpu, s);
    let (x, y) = sources::<P>(cpu, t, v);
    if taken(B, x, y) {
        return side_exit(cpu, t);
    }
    next(cpu, t)
}

/// ALU op `A`, then `N`-byte load `B` addressed from its result. Anything
/// but a TLB hit (a miss, a misaligned or faulting access) runs the load's
/// own handler, which finds the first op's rd already written and, if it
/// traps, retires exactly the first op.
fn pair_load<const A: u8, const B: u8, const N: usize>(cpu: &mut Cpu, s: &Slot) {
    let t = second_slot(s);
    let v = first::<A>(cpu, s);
    let Some(r) = cpu.load_fast::<N>(v.wrapping_add(t.i.imm as u64)) else {
        return (t.h)(cpu, t);
    };
    cpu.x[t.i.rd as usize] = if B == Op::Lb as u8 {
        r as i8 as u64
    } else if B == Op::Lh as u8 {
        r as i16 as u64
    } else if B == Op::Lw as u8 {
        r as i32 as u64
    } else {
        r
    };
    next(cpu, t)
}

/// ALU op `A`, then an `N`-byte store whose address base (pattern `V_M`) or
/// value (`M_V`) is its result; anything but a TLB hit runs the store's own
/// handler, as for loads.
fn pair_store<const A: u8, const N: usize, const P: u8>(cpu: &mut Cpu, s: &Slot) {
    let t = second_slot(s);
    let v = first::<A>(cpu, s);
    let (base, val) = sources::<P>(cpu, t, v);
    if cpu.store_fast::<N>(base.wrapping_add(t.i.imm as u64), val) {
        return next(cpu, t);
    }
    (t.h)(cpu, t)
}
