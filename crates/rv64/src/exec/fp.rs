//! F and D execution: operand fetch with NaN-boxing, rounding-mode
//! resolution, fflags accumulation, and the operations that are pure bit
//! moves (sign injection, fmv). The arithmetic itself is the soft-float in
//! [`crate::fpu`]. Mirrors what Linux expects of the hardware whose state it
//! saves in `struct __riscv_d_ext_state`; ferrite has no FS (dirty-state)
//! tracking, the FPU is always on.

use super::Cpu;
use crate::decode::{FpOp, Inst};
use crate::fpu::{self, Rm};
use crate::Exit;

/// The canonical single-precision NaN.
pub const CANONICAL_NAN_S: u32 = 0x7fc0_0000;

/// Reads a NaN-boxed single out of a 64-bit f register: valid only if the
/// upper 32 bits are all ones, otherwise the canonical NaN.
#[inline]
pub fn unbox(v: u64) -> u32 {
    if v >> 32 == 0xffff_ffff {
        v as u32
    } else {
        CANONICAL_NAN_S
    }
}

/// NaN-boxes a single for a 64-bit f register.
#[inline]
pub fn boxed(v: u32) -> u64 {
    0xffff_ffff_0000_0000 | v as u64
}

impl Cpu {
    /// Resolves the instruction's rounding mode (7 = frm).
    fn rm(&self, i: &Inst) -> Result<Rm, Exit> {
        let r = if i.rm == 7 {
            (self.fcsr >> 5) & 7
        } else {
            i.rm as u32
        };
        Rm::from_bits(r).ok_or(Exit::Illegal { bits: i.imm as u32 })
    }

    /// Executes an OP-FP or fused multiply-add instruction.
    pub(crate) fn exec_fp(&mut self, i: &Inst) -> Result<(), Exit> {
        use FpOp::*;
        let op = FpOp::from_u8(i.sub);
        let fa = self.f[i.rs1 as usize & 31];
        let fb = self.f[i.rs2 as usize & 31];
        let fc = self.f[i.rs3 as usize & 31];
        let xa = self.x[i.rs1 as usize];
        let (sa, sb, sc) = (unbox(fa), unbox(fb), unbox(fc));
        // (result, flags, goes to an integer register)
        let (res, flags, int): (u64, u8, bool) = match op {
            AddS => s(fpu::add_s(sa, sb, self.rm(i)?)),
            SubS => s(fpu::sub_s(sa, sb, self.rm(i)?)),
            MulS => s(fpu::mul_s(sa, sb, self.rm(i)?)),
            DivS => s(fpu::div_s(sa, sb, self.rm(i)?)),
            SqrtS => s(fpu::sqrt_s(sa, self.rm(i)?)),
            MaddS => s(fpu::fma_s(sa, sb, sc, self.rm(i)?, false, false)),
            MsubS => s(fpu::fma_s(sa, sb, sc, self.rm(i)?, false, true)),
            NmsubS => s(fpu::fma_s(sa, sb, sc, self.rm(i)?, true, false)),
            NmaddS => s(fpu::fma_s(sa, sb, sc, self.rm(i)?, true, true)),
            SgnjS => (boxed((sa & 0x7fff_ffff) | (sb & 0x8000_0000)), 0, false),
            SgnjnS => (boxed((sa & 0x7fff_ffff) | (!sb & 0x8000_0000)), 0, false),
            SgnjxS => (boxed(sa ^ (sb & 0x8000_0000)), 0, false),
            MinS => s(fpu::min_s(sa, sb)),
            MaxS => s(fpu::max_s(sa, sb)),
            EqS => b(fpu::eq_s(sa, sb)),
            LtS => b(fpu::lt_s(sa, sb)),
            LeS => b(fpu::le_s(sa, sb)),
            ClassS => (fpu::class_s(sa), 0, true),
            MvXW => (fa as u32 as i32 as u64, 0, true),
            MvWX => (boxed(xa as u32), 0, false),
            CvtWS => w(fpu::to_i32_s(sa, self.rm(i)?)),
            CvtWuS => wu(fpu::to_u32_s(sa, self.rm(i)?)),
            CvtLS => l(fpu::to_i64_s(sa, self.rm(i)?)),
            CvtLuS => {
                let (v, f) = fpu::to_u64_s(sa, self.rm(i)?);
                (v, f, true)
            }
            CvtSW => s(fpu::from_i32_s(xa as i32, self.rm(i)?)),
            CvtSWu => s(fpu::from_u32_s(xa as u32, self.rm(i)?)),
            CvtSL => s(fpu::from_i64_s(xa as i64, self.rm(i)?)),
            CvtSLu => s(fpu::from_u64_s(xa, self.rm(i)?)),
            AddD => d(fpu::add_d(fa, fb, self.rm(i)?)),
            SubD => d(fpu::sub_d(fa, fb, self.rm(i)?)),
            MulD => d(fpu::mul_d(fa, fb, self.rm(i)?)),
            DivD => d(fpu::div_d(fa, fb, self.rm(i)?)),
            SqrtD => d(fpu::sqrt_d(fa, self.rm(i)?)),
            MaddD => d(fpu::fma_d(fa, fb, fc, self.rm(i)?, false, false)),
            MsubD => d(fpu::fma_d(fa, fb, fc, self.rm(i)?, false, true)),
            NmsubD => d(fpu::fma_d(fa, fb, fc, self.rm(i)?, true, false)),
            NmaddD => d(fpu::fma_d(fa, fb, fc, self.rm(i)?, true, true)),
            SgnjD => ((fa & !(1 << 63)) | (fb & (1 << 63)), 0, false),
            SgnjnD => ((fa & !(1 << 63)) | (!fb & (1 << 63)), 0, false),
            SgnjxD => (fa ^ (fb & (1 << 63)), 0, false),
            MinD => d(fpu::min_d(fa, fb)),
            MaxD => d(fpu::max_d(fa, fb)),
            EqD => b(fpu::eq_d(fa, fb)),
            LtD => b(fpu::lt_d(fa, fb)),
            LeD => b(fpu::le_d(fa, fb)),
            ClassD => (fpu::class_d(fa), 0, true),
            MvXD => (fa, 0, true),
            MvDX => (xa, 0, false),
            CvtWD => w(fpu::to_i32_d(fa, self.rm(i)?)),
            CvtWuD => wu(fpu::to_u32_d(fa, self.rm(i)?)),
            CvtLD => l(fpu::to_i64_d(fa, self.rm(i)?)),
            CvtLuD => {
                let (v, f) = fpu::to_u64_d(fa, self.rm(i)?);
                (v, f, true)
            }
            CvtDW => d(fpu::from_i32_d(xa as i32, self.rm(i)?)),
            CvtDWu => d(fpu::from_u32_d(xa as u32, self.rm(i)?)),
            CvtDL => d(fpu::from_i64_d(xa as i64, self.rm(i)?)),
            CvtDLu => d(fpu::from_u64_d(xa, self.rm(i)?)),
            CvtSD => s(fpu::d_to_s(fa, self.rm(i)?)),
            CvtDS => {
                self.rm(i)?; // the field must still be a valid mode
                d(fpu::s_to_d(sa))
            }
        };
        self.fcsr |= (flags & 0x1f) as u32;
        if int {
            self.x[i.rd as usize] = res;
        } else {
            self.f[i.rd as usize & 31] = res;
        }
        Ok(())
    }
}

#[inline]
fn s((v, f): (u32, u8)) -> (u64, u8, bool) {
    (boxed(v), f, false)
}
#[inline]
fn d((v, f): (u64, u8)) -> (u64, u8, bool) {
    (v, f, false)
}
#[inline]
fn b((v, f): (bool, u8)) -> (u64, u8, bool) {
    (v as u64, f, true)
}
#[inline]
fn w((v, f): (i32, u8)) -> (u64, u8, bool) {
    (v as i64 as u64, f, true)
}
#[inline]
fn wu((v, f): (u32, u8)) -> (u64, u8, bool) {
    (v as i32 as i64 as u64, f, true)
}
#[inline]
fn l((v, f): (i64, u8)) -> (u64, u8, bool) {
    (v as u64, f, true)
}
