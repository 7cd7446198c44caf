//! The reference path: every operation done by Berkeley SoftFloat 3 with its
//! RISC-V specialisation (canonical NaN results, RISC-V's saturating
//! integer results, tininess after rounding).
//!
//! SoftFloat keeps its rounding mode and exception flags in thread-local C
//! variables. Each function here sets the mode (inside the wrapper call),
//! clears the flags, runs one operation and reads the flags back, so the
//! state never leaks between operations or between threads.

use super::{Rm, DZ, NV, NX, OF, UF};
use softfloat_wrapper::{ExceptionFlags, Float, RoundingMode, F32, F64};

impl Rm {
    fn mode(self) -> RoundingMode {
        match self {
            Rm::Rne => RoundingMode::TiesToEven,
            Rm::Rtz => RoundingMode::TowardZero,
            Rm::Rdn => RoundingMode::TowardNegative,
            Rm::Rup => RoundingMode::TowardPositive,
            Rm::Rmm => RoundingMode::TiesToAway,
        }
    }
}

/// Runs one SoftFloat operation with its flags cleared and returns the
/// value with the flags it raised. SoftFloat's flag bits are fflags' bits
/// (inexact 1, underflow 2, overflow 4, infinite 8, invalid 16).
#[inline]
fn flagged<T>(op: impl FnOnce() -> T) -> (T, u8) {
    ExceptionFlags::from_bits(0).set();
    let value = op();
    let mut flags = ExceptionFlags::default();
    flags.get();
    (value, flags.to_bits() & (NV | DZ | OF | UF | NX))
}

#[inline]
fn add<F: Float>(a: F::Payload, b: F::Payload, rm: Rm) -> (F::Payload, u8) {
    flagged(|| F::from_bits(a).add(F::from_bits(b), rm.mode()).to_bits())
}

#[inline]
fn sub<F: Float>(a: F::Payload, b: F::Payload, rm: Rm) -> (F::Payload, u8) {
    flagged(|| F::from_bits(a).sub(F::from_bits(b), rm.mode()).to_bits())
}

#[inline]
fn mul<F: Float>(a: F::Payload, b: F::Payload, rm: Rm) -> (F::Payload, u8) {
    flagged(|| F::from_bits(a).mul(F::from_bits(b), rm.mode()).to_bits())
}

#[inline]
fn div<F: Float>(a: F::Payload, b: F::Payload, rm: Rm) -> (F::Payload, u8) {
    flagged(|| F::from_bits(a).div(F::from_bits(b), rm.mode()).to_bits())
}

#[inline]
fn sqrt<F: Float>(a: F::Payload, rm: Rm) -> (F::Payload, u8) {
    flagged(|| F::from_bits(a).sqrt(rm.mode()).to_bits())
}

/// `a*b + c` with one rounding. SoftFloat raises invalid for inf*0 even
/// when `c` is a quiet NaN, as RISC-V requires.
#[inline]
fn fma<F: Float>(a: F::Payload, b: F::Payload, c: F::Payload, rm: Rm) -> (F::Payload, u8) {
    flagged(|| {
        F::from_bits(a)
            .fused_mul_add(F::from_bits(b), F::from_bits(c), rm.mode())
            .to_bits()
    })
}

/// Quiet equality: invalid only for a signalling NaN operand.
#[inline]
fn eq<F: Float>(a: F::Payload, b: F::Payload) -> (bool, u8) {
    flagged(|| F::from_bits(a).eq(F::from_bits(b)))
}

/// Signalling less-than: invalid for any NaN operand.
#[inline]
fn lt<F: Float>(a: F::Payload, b: F::Payload) -> (bool, u8) {
    flagged(|| F::from_bits(a).lt(F::from_bits(b)))
}

/// Signalling less-or-equal: invalid for any NaN operand.
#[inline]
fn le<F: Float>(a: F::Payload, b: F::Payload) -> (bool, u8) {
    flagged(|| F::from_bits(a).le(F::from_bits(b)))
}

pub(super) fn add_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    add::<F32>(a, b, rm)
}

pub(super) fn sub_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    sub::<F32>(a, b, rm)
}

pub(super) fn mul_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    mul::<F32>(a, b, rm)
}

pub(super) fn div_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    div::<F32>(a, b, rm)
}

pub(super) fn sqrt_s(a: u32, rm: Rm) -> (u32, u8) {
    sqrt::<F32>(a, rm)
}

pub(super) fn fma_s(a: u32, b: u32, c: u32, rm: Rm) -> (u32, u8) {
    fma::<F32>(a, b, c, rm)
}

pub(super) fn eq_s(a: u32, b: u32) -> (bool, u8) {
    eq::<F32>(a, b)
}

pub(super) fn lt_s(a: u32, b: u32) -> (bool, u8) {
    lt::<F32>(a, b)
}

pub(super) fn le_s(a: u32, b: u32) -> (bool, u8) {
    le::<F32>(a, b)
}

pub(super) fn to_i32_s(a: u32, rm: Rm) -> (i32, u8) {
    flagged(|| F32::from_bits(a).to_i32(rm.mode(), true))
}

pub(super) fn to_u32_s(a: u32, rm: Rm) -> (u32, u8) {
    flagged(|| F32::from_bits(a).to_u32(rm.mode(), true))
}

pub(super) fn to_i64_s(a: u32, rm: Rm) -> (i64, u8) {
    flagged(|| F32::from_bits(a).to_i64(rm.mode(), true))
}

pub(super) fn to_u64_s(a: u32, rm: Rm) -> (u64, u8) {
    flagged(|| F32::from_bits(a).to_u64(rm.mode(), true))
}

pub(super) fn from_i32_s(v: i32, rm: Rm) -> (u32, u8) {
    flagged(|| F32::from_i32(v, rm.mode()).to_bits())
}

pub(super) fn from_u32_s(v: u32, rm: Rm) -> (u32, u8) {
    flagged(|| F32::from_u32(v, rm.mode()).to_bits())
}

pub(super) fn from_i64_s(v: i64, rm: Rm) -> (u32, u8) {
    flagged(|| F32::from_i64(v, rm.mode()).to_bits())
}

pub(super) fn from_u64_s(v: u64, rm: Rm) -> (u32, u8) {
    flagged(|| F32::from_u64(v, rm.mode()).to_bits())
}

pub(super) fn add_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    add::<F64>(a, b, rm)
}

pub(super) fn sub_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    sub::<F64>(a, b, rm)
}

pub(super) fn mul_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    mul::<F64>(a, b, rm)
}

pub(super) fn div_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    div::<F64>(a, b, rm)
}

pub(super) fn sqrt_d(a: u64, rm: Rm) -> (u64, u8) {
    sqrt::<F64>(a, rm)
}

pub(super) fn fma_d(a: u64, b: u64, c: u64, rm: Rm) -> (u64, u8) {
    fma::<F64>(a, b, c, rm)
}

pub(super) fn eq_d(a: u64, b: u64) -> (bool, u8) {
    eq::<F64>(a, b)
}

pub(super) fn lt_d(a: u64, b: u64) -> (bool, u8) {
    lt::<F64>(a, b)
}

pub(super) fn le_d(a: u64, b: u64) -> (bool, u8) {
    le::<F64>(a, b)
}

pub(super) fn to_i32_d(a: u64, rm: Rm) -> (i32, u8) {
    flagged(|| F64::from_bits(a).to_i32(rm.mode(), true))
}

pub(super) fn to_u32_d(a: u64, rm: Rm) -> (u32, u8) {
    flagged(|| F64::from_bits(a).to_u32(rm.mode(), true))
}

pub(super) fn to_i64_d(a: u64, rm: Rm) -> (i64, u8) {
    flagged(|| F64::from_bits(a).to_i64(rm.mode(), true))
}

pub(super) fn to_u64_d(a: u64, rm: Rm) -> (u64, u8) {
    flagged(|| F64::from_bits(a).to_u64(rm.mode(), true))
}

/// Unused outside tests: the fast path handles every 32-bit integer.
#[cfg(test)]
pub(super) fn from_i32_d(v: i32, rm: Rm) -> (u64, u8) {
    flagged(|| F64::from_i32(v, rm.mode()).to_bits())
}

#[cfg(test)]
pub(super) fn from_u32_d(v: u32, rm: Rm) -> (u64, u8) {
    flagged(|| F64::from_u32(v, rm.mode()).to_bits())
}

pub(super) fn from_i64_d(v: i64, rm: Rm) -> (u64, u8) {
    flagged(|| F64::from_i64(v, rm.mode()).to_bits())
}

pub(super) fn from_u64_d(v: u64, rm: Rm) -> (u64, u8) {
    flagged(|| F64::from_u64(v, rm.mode()).to_bits())
}

pub(super) fn s_to_d(a: u32) -> (u64, u8) {
    // Widening is exact; the mode is irrelevant.
    flagged(|| F32::from_bits(a).to_f64(RoundingMode::TiesToEven).to_bits())
}

pub(super) fn d_to_s(a: u64, rm: Rm) -> (u32, u8) {
    flagged(|| F64::from_bits(a).to_f32(rm.mode()).to_bits())
}
