//! The instruction handlers: threaded code. A decoded block is an array of
//! [`Slot`]s, each holding its handler; a handler does its instruction and
//! then calls the next slot's handler in tail position, so in an optimised
//! build the whole block runs as a chain of indirect jumps with no central
//! dispatch loop. Every block ends with a terminator (a jump, a trapping
//! instruction, or the [`Slot::end`] sentinel) that returns instead (a
//! taken conditional branch returns too, from anywhere in the block), so a chain is at most `MAX_BLOCK + 1` calls deep even where
//! the compiler does not turn the calls into jumps.
//!
//! pc-relative immediates were rebased to the block start at decode time,
//! so no handler tracks the pc: `cpu.blk_base` / `cpu.blk_end` give the
//! block's first and one-past-last pc.

use super::{Cpu, ICACHE_ALL};
use crate::decode::{Inst, Op};
use crate::Exit;
use core::sync::atomic::{fence, Ordering};

/// A handler: executes `s` (and, unless it ends the block, the rest).
pub type Handler = fn(&mut Cpu, &Slot);

/// One decoded instruction with its handler and position in its block.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Slot {
    /// What runs it.
    pub h: Handler,
    /// The instruction.
    pub i: Inst,
    /// Byte offset from the block start.
    pub off: u16,
    /// Index in the block (= instructions retired before it in the block).
    pub idx: u16,
}

impl core::fmt::Debug for Slot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Slot")
            .field("i", &self.i)
            .field("off", &self.off)
            .field("idx", &self.idx)
            .finish()
    }
}

impl Slot {
    /// The slot for `i`, `off` bytes and `idx` instructions into its block.
    pub fn new(i: Inst, off: u16, idx: u16) -> Slot {
        Slot {
            h: handler(i.op),
            i,
            off,
            idx,
        }
    }

    /// The end-of-block sentinel: continue at block start + `off`.
    pub fn end(off: u16, idx: u16) -> Slot {
        Slot {
            h: op_end,
            i: Inst::new(Op::Fence, 0, 0, 0, off as i64, 0),
            off,
            idx,
        }
    }
}

/// Runs the next slot.
#[inline(always)]
pub(super) fn next(cpu: &mut Cpu, s: &Slot) {
    // SAFETY: every block's slot array ends with a terminator whose handler
    // never calls `next`, and only non-terminators call it, so `s + 1` is
    // inside the same array.
    let n = unsafe { &*(s as *const Slot).add(1) };
    (n.h)(cpu, n)
}

/// Stops the block at `s` with trap `e` (pc at the instruction).
#[cold]
#[inline(never)]
fn trap(cpu: &mut Cpu, s: &Slot, e: Exit) {
    cpu.pc = cpu.blk_base.wrapping_add(s.off as u64);
    cpu.exit = Some(e);
    cpu.trap_idx = s.idx;
}

#[inline(always)]
fn xa(cpu: &Cpu, s: &Slot) -> u64 {
    cpu.x[s.i.rs1 as usize]
}
#[inline(always)]
fn xb(cpu: &Cpu, s: &Slot) -> u64 {
    cpu.x[s.i.rs2 as usize]
}
#[inline(always)]
fn set_rd(cpu: &mut Cpu, s: &Slot, v: u64) {
    cpu.x[s.i.rd as usize] = v;
}

/// rd = f(rs1, rs2, imm); also defines [`alu`], the same computations
/// selected by operation (for the fused handlers in `fuse`).
macro_rules! alu {
    ($($name:ident, $op:ident => |$a:ident, $b:ident, $imm:ident| $e:expr;)*) => {
        $(
            #[allow(unused_variables)]
            fn $name(cpu: &mut Cpu, s: &Slot) {
                let $a = xa(cpu, s);
                let $b = xb(cpu, s);
                let $imm = s.i.imm as u64;
                set_rd(cpu, s, $e);
                next(cpu, s)
            }
        )*

        /// The result of register-computing operation `op` (an `Op as u8`;
        /// not `Auipc`) on `x` = rs1's value, `y` = rs2's and `z` = imm.
        /// Meant to be called with a constant `op`, which folds to one
        /// expression.
        #[inline(always)]
        #[allow(unused_variables)]
        pub(super) fn alu(op: u8, x: u64, y: u64, z: u64) -> u64 {
            $(
                if op == Op::$op as u8 {
                    let ($a, $b, $imm) = (x, y, z);
                    return $e;
                }
            )*
            unreachable!("not an ALU operation")
        }
    };
}

alu! {
    op_lui, Lui => |a, b, imm| imm;
    op_addi, Addi => |a, b, imm| a.wrapping_add(imm);
    op_slti, Slti => |a, b, imm| ((a as i64) < (imm as i64)) as u64;
    op_sltiu, Sltiu => |a, b, imm| (a < imm) as u64;
    op_xori, Xori => |a, b, imm| a ^ imm;
    op_ori, Ori => |a, b, imm| a | imm;
    op_andi, Andi => |a, b, imm| a & imm;
    op_slli, Slli => |a, b, imm| a << (imm & 63);
    op_srli, Srli => |a, b, imm| a >> (imm & 63);
    op_srai, Srai => |a, b, imm| ((a as i64) >> (imm & 63)) as u64;
    op_addiw, Addiw => |a, b, imm| (a as i32).wrapping_add(imm as i32) as u64;
    op_slliw, Slliw => |a, b, imm| ((a as u32) << (imm & 31)) as i32 as u64;
    op_srliw, Srliw => |a, b, imm| ((a as u32) >> (imm & 31)) as i32 as u64;
    op_sraiw, Sraiw => |a, b, imm| ((a as i32) >> (imm & 31)) as u64;
    op_add, Add => |a, b, imm| a.wrapping_add(b);
    op_sub, Sub => |a, b, imm| a.wrapping_sub(b);
    op_sll, Sll => |a, b, imm| a << (b & 63);
    op_slt, Slt => |a, b, imm| ((a as i64) < (b as i64)) as u64;
    op_sltu, Sltu => |a, b, imm| (a < b) as u64;
    op_xor, Xor => |a, b, imm| a ^ b;
    op_srl, Srl => |a, b, imm| a >> (b & 63);
    op_sra, Sra => |a, b, imm| ((a as i64) >> (b & 63)) as u64;
    op_or, Or => |a, b, imm| a | b;
    op_and, And => |a, b, imm| a & b;
    op_addw, Addw => |a, b, imm| (a as i32).wrapping_add(b as i32) as u64;
    op_subw, Subw => |a, b, imm| (a as i32).wrapping_sub(b as i32) as u64;
    op_sllw, Sllw => |a, b, imm| ((a as u32) << (b & 31)) as i32 as u64;
    op_srlw, Srlw => |a, b, imm| ((a as u32) >> (b & 31)) as i32 as u64;
    op_sraw, Sraw => |a, b, imm| ((a as i32) >> (b & 31)) as u64;
    op_mul, Mul => |a, b, imm| a.wrapping_mul(b);
    op_mulh, Mulh => |a, b, imm| ((a as i64 as i128 * b as i64 as i128) >> 64) as u64;
    op_mulhsu, Mulhsu => |a, b, imm| ((a as i64 as i128).wrapping_mul(b as i128) >> 64) as u64;
    op_mulhu, Mulhu => |a, b, imm| ((a as u128 * b as u128) >> 64) as u64;
    op_div, Div => |a, b, imm| div(a as i64, b as i64) as u64;
    op_divu, Divu => |a, b, imm| a.checked_div(b).unwrap_or(u64::MAX);
    op_rem, Rem => |a, b, imm| rem(a as i64, b as i64) as u64;
    op_remu, Remu => |a, b, imm| a.checked_rem(b).unwrap_or(a);
    op_mulw, Mulw => |a, b, imm| (a as i32).wrapping_mul(b as i32) as u64;
    op_divw, Divw => |a, b, imm| div32(a as i32, b as i32) as u64;
    op_divuw, Divuw => |a, b, imm| (a as u32).checked_div(b as u32).unwrap_or(u32::MAX) as i32 as u64;
    op_remw, Remw => |a, b, imm| rem32(a as i32, b as i32) as u64;
    op_remuw, Remuw => |a, b, imm| (a as u32).checked_rem(b as u32).unwrap_or(a as u32) as i32 as u64;
}

fn op_auipc(cpu: &mut Cpu, s: &Slot) {
    let v = cpu.blk_base.wrapping_add(s.i.imm as u64);
    set_rd(cpu, s, v);
    next(cpu, s)
}

/// rd = ext(load N at rs1 + imm). The TLB-hit path needs no stack frame;
/// everything else is a tail call to the out-of-line slow handler.
macro_rules! load {
    ($($name:ident, $slow:ident => $n:literal, |$v:ident| $e:expr;)*) => {$(
        fn $name(cpu: &mut Cpu, s: &Slot) {
            let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
            if let Some($v) = cpu.load_fast::<$n>(va) {
                set_rd(cpu, s, $e);
                return next(cpu, s);
            }
            $slow(cpu, s)
        }

        #[inline(never)]
        fn $slow(cpu: &mut Cpu, s: &Slot) {
            let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
            match cpu.load::<$n>(va) {
                Ok($v) => set_rd(cpu, s, $e),
                Err(e) => return trap(cpu, s, e),
            }
            next(cpu, s)
        }
    )*};
}

load! {
    op_lb, slow_lb => 1, |v| v as i8 as u64;
    op_lh, slow_lh => 2, |v| v as i16 as u64;
    op_lw, slow_lw => 4, |v| v as i32 as u64;
    op_ld, slow_ld => 8, |v| v;
    op_lbu, slow_lbu => 1, |v| v;
    op_lhu, slow_lhu => 2, |v| v;
    op_lwu, slow_lwu => 4, |v| v;
}

/// store N bytes of rs2 at rs1 + imm (fast and slow halves as for loads)
macro_rules! store {
    ($($name:ident, $slow:ident => $n:literal;)*) => {$(
        fn $name(cpu: &mut Cpu, s: &Slot) {
            let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
            if cpu.store_fast::<$n>(va, xb(cpu, s)) {
                return next(cpu, s);
            }
            $slow(cpu, s)
        }

        #[inline(never)]
        fn $slow(cpu: &mut Cpu, s: &Slot) {
            let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
            let v = xb(cpu, s);
            if let Err(e) = cpu.store::<$n>(va, v) {
                return trap(cpu, s, e);
            }
            next(cpu, s)
        }
    )*};
}

store! {
    op_sb, slow_sb => 1;
    op_sh, slow_sh => 2;
    op_sw, slow_sw => 4;
    op_sd, slow_sd => 8;
}

fn op_flw(cpu: &mut Cpu, s: &Slot) {
    let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
    match cpu.load::<4>(va) {
        Ok(v) => cpu.f[s.i.rd as usize & 31] = v | 0xffff_ffff_0000_0000,
        Err(e) => return trap(cpu, s, e),
    }
    next(cpu, s)
}

fn op_fld(cpu: &mut Cpu, s: &Slot) {
    let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
    match cpu.load::<8>(va) {
        Ok(v) => cpu.f[s.i.rd as usize & 31] = v,
        Err(e) => return trap(cpu, s, e),
    }
    next(cpu, s)
}

fn op_fsw(cpu: &mut Cpu, s: &Slot) {
    let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
    let v = cpu.f[s.i.rs2 as usize & 31];
    if let Err(e) = cpu.store::<4>(va, v) {
        return trap(cpu, s, e);
    }
    next(cpu, s)
}

fn op_fsd(cpu: &mut Cpu, s: &Slot) {
    let va = xa(cpu, s).wrapping_add(s.i.imm as u64);
    let v = cpu.f[s.i.rs2 as usize & 31];
    if let Err(e) = cpu.store::<8>(va, v) {
        return trap(cpu, s, e);
    }
    next(cpu, s)
}

/// Conditional branches: taken, they leave the block (a side exit that
/// records how many instructions retired); not taken, the block goes on.
/// Also defines [`taken`], the conditions selected by operation.
macro_rules! branch {
    ($($name:ident, $op:ident => |$a:ident, $b:ident| $c:expr;)*) => {
        $(
            fn $name(cpu: &mut Cpu, s: &Slot) {
                let $a = xa(cpu, s);
                let $b = xb(cpu, s);
                if $c {
                    return side_exit(cpu, s);
                }
                next(cpu, s)
            }
        )*

        /// Whether branch `op` (an `Op as u8`) is taken on `x` = rs1's
        /// value and `y` = rs2's (folds like [`alu`] for a constant `op`).
        #[inline(always)]
        pub(super) fn taken(op: u8, x: u64, y: u64) -> bool {
            $(
                if op == Op::$op as u8 {
                    let ($a, $b) = (x, y);
                    return $c;
                }
            )*
            unreachable!("not a branch")
        }
    };
}

/// Leaves the block at taken branch `s`.
#[inline(always)]
pub(super) fn side_exit(cpu: &mut Cpu, s: &Slot) {
    cpu.pc = cpu.blk_base.wrapping_add(s.i.imm as u64);
    cpu.side_exit = s.idx + 1;
}

branch! {
    op_beq, Beq => |a, b| a == b;
    op_bne, Bne => |a, b| a != b;
    op_blt, Blt => |a, b| (a as i64) < (b as i64);
    op_bge, Bge => |a, b| (a as i64) >= (b as i64);
    op_bltu, Bltu => |a, b| a < b;
    op_bgeu, Bgeu => |a, b| a >= b;
}

fn op_jal(cpu: &mut Cpu, s: &Slot) {
    let link = cpu.blk_end;
    set_rd(cpu, s, link);
    cpu.pc = cpu.blk_base.wrapping_add(s.i.imm as u64);
}

fn op_jalr(cpu: &mut Cpu, s: &Slot) {
    let t = xa(cpu, s).wrapping_add(s.i.imm as u64) & !1;
    let link = cpu.blk_end;
    set_rd(cpu, s, link);
    cpu.pc = t;
}

fn op_amo(cpu: &mut Cpu, s: &Slot) {
    if let Err(e) = cpu.exec_amo(&s.i) {
        return trap(cpu, s, e);
    }
    next(cpu, s)
}

fn op_csr(cpu: &mut Cpu, s: &Slot) {
    let retired = cpu.instret + s.idx as u64;
    if let Err(e) = cpu.exec_csr(&s.i, retired) {
        return trap(cpu, s, e);
    }
    next(cpu, s)
}

fn op_fp(cpu: &mut Cpu, s: &Slot) {
    if let Err(e) = cpu.exec_fp(&s.i) {
        return trap(cpu, s, e);
    }
    next(cpu, s)
}

/// `fence`: guest loads and stores are relaxed host atomics and AMOs are
/// SeqCst, so ordering needs a host fence only where the host might not
/// keep it. Ordering earlier stores before later loads (pred W, succ R,
/// not fence.tso) needs a full fence even on x86 (TSO lets a load pass a
/// store); every other combination is an acquire/release fence, which is
/// free on x86 and a barrier on weaker hosts.
fn op_fence(cpu: &mut Cpu, s: &Slot) {
    let b = s.i.imm as u32;
    let (fm, pred_w, succ_r) = (b >> 28, b & (1 << 24) != 0, b & (1 << 21) != 0);
    if pred_w && succ_r && fm != 0b1000 {
        fence(Ordering::SeqCst);
    } else {
        fence(Ordering::AcqRel);
    }
    next(cpu, s)
}

fn op_fence_i(cpu: &mut Cpu, _s: &Slot) {
    cpu.icache_op = ICACHE_ALL;
    cpu.pc = cpu.blk_end;
}

fn op_ecall(cpu: &mut Cpu, s: &Slot) {
    trap(cpu, s, Exit::Ecall)
}

fn op_ebreak(cpu: &mut Cpu, s: &Slot) {
    trap(cpu, s, Exit::Breakpoint)
}

fn op_illegal(cpu: &mut Cpu, s: &Slot) {
    trap(
        cpu,
        s,
        Exit::Illegal {
            bits: s.i.imm as u32,
        },
    )
}

/// The end-of-block sentinel (imm = byte offset to continue at).
fn op_end(cpu: &mut Cpu, s: &Slot) {
    cpu.pc = cpu.blk_base.wrapping_add(s.i.imm as u64);
}

/// The handler of an operation.
pub fn handler(op: Op) -> Handler {
    match op {
        Op::Lui => op_lui,
        Op::Auipc => op_auipc,
        Op::Jal => op_jal,
        Op::Jalr => op_jalr,
        Op::Beq => op_beq,
        Op::Bne => op_bne,
        Op::Blt => op_blt,
        Op::Bge => op_bge,
        Op::Bltu => op_bltu,
        Op::Bgeu => op_bgeu,
        Op::Lb => op_lb,
        Op::Lh => op_lh,
        Op::Lw => op_lw,
        Op::Ld => op_ld,
        Op::Lbu => op_lbu,
        Op::Lhu => op_lhu,
        Op::Lwu => op_lwu,
        Op::Sb => op_sb,
        Op::Sh => op_sh,
        Op::Sw => op_sw,
        Op::Sd => op_sd,
        Op::Addi => op_addi,
        Op::Slti => op_slti,
        Op::Sltiu => op_sltiu,
        Op::Xori => op_xori,
        Op::Ori => op_ori,
        Op::Andi => op_andi,
        Op::Slli => op_slli,
        Op::Srli => op_srli,
        Op::Srai => op_srai,
        Op::Addiw => op_addiw,
        Op::Slliw => op_slliw,
        Op::Srliw => op_srliw,
        Op::Sraiw => op_sraiw,
        Op::Add => op_add,
        Op::Sub => op_sub,
        Op::Sll => op_sll,
        Op::Slt => op_slt,
        Op::Sltu => op_sltu,
        Op::Xor => op_xor,
        Op::Srl => op_srl,
        Op::Sra => op_sra,
        Op::Or => op_or,
        Op::And => op_and,
        Op::Addw => op_addw,
        Op::Subw => op_subw,
        Op::Sllw => op_sllw,
        Op::Srlw => op_srlw,
        Op::Sraw => op_sraw,
        Op::Mul => op_mul,
        Op::Mulh => op_mulh,
        Op::Mulhsu => op_mulhsu,
        Op::Mulhu => op_mulhu,
        Op::Div => op_div,
        Op::Divu => op_divu,
        Op::Rem => op_rem,
        Op::Remu => op_remu,
        Op::Mulw => op_mulw,
        Op::Divw => op_divw,
        Op::Divuw => op_divuw,
        Op::Remw => op_remw,
        Op::Remuw => op_remuw,
        Op::Amo => op_amo,
        Op::Csr => op_csr,
        Op::Flw => op_flw,
        Op::Fld => op_fld,
        Op::Fsw => op_fsw,
        Op::Fsd => op_fsd,
        Op::Fp => op_fp,
        Op::Fence => op_fence,
        Op::FenceI => op_fence_i,
        Op::Ecall => op_ecall,
        Op::Ebreak => op_ebreak,
        Op::Illegal => op_illegal,
    }
}

/// RISC-V DIV: x/0 = -1, MIN/-1 = MIN.
#[inline]
fn div(a: i64, b: i64) -> i64 {
    if b == 0 {
        -1
    } else {
        a.wrapping_div(b)
    }
}

/// RISC-V REM: x%0 = x, MIN%-1 = 0.
#[inline]
fn rem(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        a.wrapping_rem(b)
    }
}

#[inline]
fn div32(a: i32, b: i32) -> i64 {
    (if b == 0 { -1 } else { a.wrapping_div(b) }) as i64
}

#[inline]
fn rem32(a: i32, b: i32) -> i64 {
    (if b == 0 { a } else { a.wrapping_rem(b) }) as i64
}
