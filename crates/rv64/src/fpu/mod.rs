//! IEEE-754 arithmetic for the F and D extensions, on raw bit patterns.
//!
//! This mirrors the hart's floating-point units as the RISC-V unprivileged
//! ISA (version 20191213, chapters 11 "F" and 12 "D") defines them; Linux has
//! no counterpart (it only saves and restores `f0`-`f31` and `fcsr`, which is
//! the interpreter's business, as are NaN boxing and resolving the dynamic
//! rounding mode from `frm`).
//!
//! The reference is Berkeley SoftFloat 3 (`soft`, through the safe
//! `softfloat-wrapper` crate built with its `riscv` specialisation): the
//! library and specialisation the RISC-V reference simulator Spike uses, so
//! rounding in all five modes (RMM included), fused multiply-add with NV for
//! inf*0 whatever the addend, square root, tininess detected after rounding,
//! canonical NaN results and RISC-V's saturating float-to-integer results
//! are exact by construction. SoftFloat's exception flags have fflags' bit
//! positions. Its mode and flags are thread-local C state, set and read
//! around each single operation, so harts on different threads do not
//! interfere. Rejected: `simple-soft-float` (LGPL, and big integers on every
//! operation), `rustc_apfloat` (no square root; its underflow is not
//! RISC-V's after-rounding tininess), `softfp` (0.1.0; wrong flag for the
//! square root of a signalling NaN, wrong zero sign in some fused
//! multiply-adds).
//!
//! `fast` answers the common cases from the host's own IEEE-754 arithmetic
//! where that provably gives SoftFloat's result and flags (round to nearest
//! even, results well inside the normal range, conversions; see there) and
//! defers everything else; it is about four times faster than a SoftFloat
//! call, whose cost is mostly the C thread-local state. Property tests
//! compare the two over millions of inputs.
//!
//! Written here (they are not arithmetic): `fmin`/`fmax` (one NaN operand
//! gives the other operand, two give the canonical NaN, -0 < +0, NV only
//! for a signalling NaN: IEEE 754-2019 minimumNumber/maximumNumber as the
//! 20191213 spec adopts), `fclass`, and the sign injection of the fused
//! multiply-add variants.
//!
//! Differences from hardware: none known. Building needs a C compiler and
//! CMake (`softfloat-sys` compiles SoftFloat with `cc`; its `c99` dependency
//! runs CMake), and `softfloat-sys` builds only for x86-64 Linux hosts.
//!
//! CONTRACT (owned by the fpu work; the interpreter calls only these):
//! single precision values are `u32` bit patterns, double `u64`; every
//! operation returns its result and the fflags bits it raises. NaN results
//! are RISC-V's canonical NaN (0x7fc00000 / 0x7ff8000000000000). NaN
//! boxing of single values in 64-bit registers is the interpreter's job.

/// fflags: invalid operation.
pub const NV: u8 = 0x10;
/// fflags: divide by zero.
pub const DZ: u8 = 0x08;
/// fflags: overflow.
pub const OF: u8 = 0x04;
/// fflags: underflow.
pub const UF: u8 = 0x02;
/// fflags: inexact.
pub const NX: u8 = 0x01;

/// A rounding mode (the `rm` field / `frm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rm {
    /// Round to nearest, ties to even.
    Rne = 0,
    /// Round towards zero.
    Rtz = 1,
    /// Round down (towards -inf).
    Rdn = 2,
    /// Round up (towards +inf).
    Rup = 3,
    /// Round to nearest, ties to max magnitude.
    Rmm = 4,
}

impl Rm {
    /// The mode for 3 bits of `rm`/`frm`; None for 5, 6 and 7 (and 7 is
    /// "dynamic", resolved by the interpreter before calling).
    pub fn from_bits(bits: u32) -> Option<Rm> {
        match bits {
            0 => Some(Rm::Rne),
            1 => Some(Rm::Rtz),
            2 => Some(Rm::Rdn),
            3 => Some(Rm::Rup),
            4 => Some(Rm::Rmm),
            _ => None,
        }
    }
}

/*
Functions the fpu module provides (S = u32, D = u64; "_s"/"_d" suffix):

add_s(a, b, rm) -> (u32, u8)      sub_s  mul_s  div_s
sqrt_s(a, rm) -> (u32, u8)
fma_s(a, b, c, rm, neg_prod: bool, neg_add: bool) -> (u32, u8)
    fmadd = (false,false): a*b+c     fmsub = (false,true): a*b-c
    fnmsub = (true,false): -(a*b)+c  fnmadd = (true,true): -(a*b)-c
min_s(a, b) -> (u32, u8)          max_s      (RISC-V 2.2 minNum semantics:
    one NaN -> the other operand; both NaN -> canonical NaN; -0 < +0;
    NV only for signalling NaN inputs)
eq_s(a, b) -> (bool, u8)  lt_s  le_s   (eq: NV only for sNaN; lt/le: NV for any NaN)
class_s(a) -> u64                  (the 10-bit fclass mask)
to_i32_s(a, rm) -> (i32, u8)  to_u32_s -> (u32, u8)  to_i64_s -> (i64, u8)  to_u64_s -> (u64, u8)
    (RISC-V saturating results: NaN -> max positive; NV on out of range/NaN)
from_i32_s(v: i32, rm) -> (u32, u8)  from_u32_s(v: u32, rm)  from_i64_s(v: i64, rm)  from_u64_s(v: u64, rm)
the same for _d with u64 operands/results,
s_to_d(a: u32) -> (u64, u8)       d_to_s(a: u64, rm) -> (u32, u8)
*/

mod fast;
mod soft;
#[cfg(test)]
mod tests;

/// The canonical single-precision NaN.
pub const CANONICAL_NAN_S: u32 = 0x7fc0_0000;
/// The canonical double-precision NaN.
pub const CANONICAL_NAN_D: u64 = 0x7ff8_0000_0000_0000;

const SIGN_S: u32 = 1 << 31;
const SIGN_D: u64 = 1 << 63;

/// The fclass mask from a value's decomposition: `exp_max` is the all-ones
/// exponent, `quiet` the quiet bit of the fraction.
#[inline]
fn classify(neg: bool, exp: u64, exp_max: u64, frac: u64, quiet: u64) -> u64 {
    let bit = if exp == exp_max {
        if frac == 0 {
            if neg {
                0 // -inf
            } else {
                7 // +inf
            }
        } else if frac & quiet != 0 {
            9 // quiet NaN
        } else {
            8 // signalling NaN
        }
    } else if exp == 0 {
        match (neg, frac == 0) {
            (true, true) => 3,   // -0
            (true, false) => 2,  // negative subnormal
            (false, true) => 4,  // +0
            (false, false) => 5, // positive subnormal
        }
    } else if neg {
        1 // negative normal
    } else {
        6 // positive normal
    };
    1 << bit
}

fn is_nan_s(a: u32) -> bool {
    a & !SIGN_S > 0x7f80_0000
}

fn is_snan_s(a: u32) -> bool {
    is_nan_s(a) && a & 0x0040_0000 == 0
}

fn is_nan_d(a: u64) -> bool {
    a & !SIGN_D > 0x7ff0_0000_0000_0000
}

fn is_snan_d(a: u64) -> bool {
    is_nan_d(a) && a & 0x0008_0000_0000_0000 == 0
}

/// Which operand fmin (`want_min`) or fmax picks from two non-NaN values;
/// true for `a`. -0 is below +0.
#[inline]
fn pick_a(a_lt_b: bool, a_eq_b: bool, a_neg: bool, want_min: bool) -> bool {
    if a_eq_b {
        // Equal values differ at most in the sign of a zero.
        a_neg == want_min
    } else {
        a_lt_b == want_min
    }
}

fn minmax_s(a: u32, b: u32, want_min: bool) -> (u32, u8) {
    let flags = if is_snan_s(a) || is_snan_s(b) { NV } else { 0 };
    let r = match (is_nan_s(a), is_nan_s(b)) {
        (true, true) => CANONICAL_NAN_S,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            let (x, y) = (f32::from_bits(a), f32::from_bits(b));
            if pick_a(x < y, x == y, a & SIGN_S != 0, want_min) {
                a
            } else {
                b
            }
        }
    };
    (r, flags)
}

fn minmax_d(a: u64, b: u64, want_min: bool) -> (u64, u8) {
    let flags = if is_snan_d(a) || is_snan_d(b) { NV } else { 0 };
    let r = match (is_nan_d(a), is_nan_d(b)) {
        (true, true) => CANONICAL_NAN_D,
        (true, false) => b,
        (false, true) => a,
        (false, false) => {
            let (x, y) = (f64::from_bits(a), f64::from_bits(b));
            if pick_a(x < y, x == y, a & SIGN_D != 0, want_min) {
                a
            } else {
                b
            }
        }
    };
    (r, flags)
}

// ---- single precision ----

/// fadd.s
#[inline]
pub fn add_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::add_s(a, b) {
            return r;
        }
    }
    soft::add_s(a, b, rm)
}

/// fsub.s
#[inline]
pub fn sub_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::sub_s(a, b) {
            return r;
        }
    }
    soft::sub_s(a, b, rm)
}

/// fmul.s
#[inline]
pub fn mul_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::mul_s(a, b) {
            return r;
        }
    }
    soft::mul_s(a, b, rm)
}

/// fdiv.s
#[inline]
pub fn div_s(a: u32, b: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::div_s(a, b) {
            return r;
        }
    }
    soft::div_s(a, b, rm)
}

/// fsqrt.s
#[inline]
pub fn sqrt_s(a: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::sqrt_s(a) {
            return r;
        }
    }
    soft::sqrt_s(a, rm)
}

/// fmadd.s (false, false), fmsub.s (false, true), fnmsub.s (true, false),
/// fnmadd.s (true, true): `(±(a*b)) ± c`, rounded once.
#[inline]
pub fn fma_s(a: u32, b: u32, c: u32, rm: Rm, neg_prod: bool, neg_add: bool) -> (u32, u8) {
    // Negating an operand is exact and only flips its sign bit, NaNs
    // included (and a NaN result is canonical whatever its operands' signs).
    let a = if neg_prod { a ^ SIGN_S } else { a };
    let c = if neg_add { c ^ SIGN_S } else { c };
    soft::fma_s(a, b, c, rm)
}

/// fmin.s
#[inline]
pub fn min_s(a: u32, b: u32) -> (u32, u8) {
    minmax_s(a, b, true)
}

/// fmax.s
#[inline]
pub fn max_s(a: u32, b: u32) -> (u32, u8) {
    minmax_s(a, b, false)
}

/// feq.s (quiet: NV only for a signalling NaN).
#[inline]
pub fn eq_s(a: u32, b: u32) -> (bool, u8) {
    fast::eq_s(a, b).unwrap_or_else(|| soft::eq_s(a, b))
}

/// flt.s (signalling: NV for any NaN).
#[inline]
pub fn lt_s(a: u32, b: u32) -> (bool, u8) {
    fast::lt_s(a, b).unwrap_or_else(|| soft::lt_s(a, b))
}

/// fle.s (signalling: NV for any NaN).
#[inline]
pub fn le_s(a: u32, b: u32) -> (bool, u8) {
    fast::le_s(a, b).unwrap_or_else(|| soft::le_s(a, b))
}

/// fclass.s: exactly one of the ten low bits set.
#[inline]
pub fn class_s(a: u32) -> u64 {
    classify(
        a & SIGN_S != 0,
        u64::from((a >> 23) & 0xff),
        0xff,
        u64::from(a & 0x007f_ffff),
        0x0040_0000,
    )
}

/// fcvt.w.s (saturating; NaN gives the maximum).
#[inline]
pub fn to_i32_s(a: u32, rm: Rm) -> (i32, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_i32_s_rtz(a) {
            return r;
        }
    }
    soft::to_i32_s(a, rm)
}

/// fcvt.wu.s (saturating; NaN gives the maximum).
#[inline]
pub fn to_u32_s(a: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_u32_s_rtz(a) {
            return r;
        }
    }
    soft::to_u32_s(a, rm)
}

/// fcvt.l.s (saturating; NaN gives the maximum).
#[inline]
pub fn to_i64_s(a: u32, rm: Rm) -> (i64, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_i64_s_rtz(a) {
            return r;
        }
    }
    soft::to_i64_s(a, rm)
}

/// fcvt.lu.s (saturating; NaN gives the maximum).
#[inline]
pub fn to_u64_s(a: u32, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_u64_s_rtz(a) {
            return r;
        }
    }
    soft::to_u64_s(a, rm)
}

/// fcvt.s.w
#[inline]
pub fn from_i32_s(v: i32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        fast::from_i32_s(v)
    } else {
        soft::from_i32_s(v, rm)
    }
}

/// fcvt.s.wu
#[inline]
pub fn from_u32_s(v: u32, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        fast::from_u32_s(v)
    } else {
        soft::from_u32_s(v, rm)
    }
}

/// fcvt.s.l
#[inline]
pub fn from_i64_s(v: i64, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        fast::from_i64_s(v)
    } else {
        soft::from_i64_s(v, rm)
    }
}

/// fcvt.s.lu
#[inline]
pub fn from_u64_s(v: u64, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        fast::from_u64_s(v)
    } else {
        soft::from_u64_s(v, rm)
    }
}

// ---- double precision ----

/// fadd.d
#[inline]
pub fn add_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::add_d(a, b) {
            return r;
        }
    }
    soft::add_d(a, b, rm)
}

/// fsub.d
#[inline]
pub fn sub_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::sub_d(a, b) {
            return r;
        }
    }
    soft::sub_d(a, b, rm)
}

/// fmul.d
#[inline]
pub fn mul_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::mul_d(a, b) {
            return r;
        }
    }
    soft::mul_d(a, b, rm)
}

/// fdiv.d
#[inline]
pub fn div_d(a: u64, b: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::div_d(a, b) {
            return r;
        }
    }
    soft::div_d(a, b, rm)
}

/// fsqrt.d
#[inline]
pub fn sqrt_d(a: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::sqrt_d(a) {
            return r;
        }
    }
    soft::sqrt_d(a, rm)
}

/// fmadd.d (false, false), fmsub.d (false, true), fnmsub.d (true, false),
/// fnmadd.d (true, true): `(±(a*b)) ± c`, rounded once.
#[inline]
pub fn fma_d(a: u64, b: u64, c: u64, rm: Rm, neg_prod: bool, neg_add: bool) -> (u64, u8) {
    // Negating an operand is exact and only flips its sign bit, NaNs
    // included (and a NaN result is canonical whatever its operands' signs).
    let a = if neg_prod { a ^ SIGN_D } else { a };
    let c = if neg_add { c ^ SIGN_D } else { c };
    soft::fma_d(a, b, c, rm)
}

/// fmin.d
#[inline]
pub fn min_d(a: u64, b: u64) -> (u64, u8) {
    minmax_d(a, b, true)
}

/// fmax.d
#[inline]
pub fn max_d(a: u64, b: u64) -> (u64, u8) {
    minmax_d(a, b, false)
}

/// feq.d (quiet: NV only for a signalling NaN).
#[inline]
pub fn eq_d(a: u64, b: u64) -> (bool, u8) {
    fast::eq_d(a, b).unwrap_or_else(|| soft::eq_d(a, b))
}

/// flt.d (signalling: NV for any NaN).
#[inline]
pub fn lt_d(a: u64, b: u64) -> (bool, u8) {
    fast::lt_d(a, b).unwrap_or_else(|| soft::lt_d(a, b))
}

/// fle.d (signalling: NV for any NaN).
#[inline]
pub fn le_d(a: u64, b: u64) -> (bool, u8) {
    fast::le_d(a, b).unwrap_or_else(|| soft::le_d(a, b))
}

/// fclass.d: exactly one of the ten low bits set.
#[inline]
pub fn class_d(a: u64) -> u64 {
    classify(
        a & SIGN_D != 0,
        (a >> 52) & 0x7ff,
        0x7ff,
        a & 0x000f_ffff_ffff_ffff,
        0x0008_0000_0000_0000,
    )
}

/// fcvt.w.d (saturating; NaN gives the maximum).
#[inline]
pub fn to_i32_d(a: u64, rm: Rm) -> (i32, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_i32_d_rtz(a) {
            return r;
        }
    }
    soft::to_i32_d(a, rm)
}

/// fcvt.wu.d (saturating; NaN gives the maximum).
#[inline]
pub fn to_u32_d(a: u64, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_u32_d_rtz(a) {
            return r;
        }
    }
    soft::to_u32_d(a, rm)
}

/// fcvt.l.d (saturating; NaN gives the maximum).
#[inline]
pub fn to_i64_d(a: u64, rm: Rm) -> (i64, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_i64_d_rtz(a) {
            return r;
        }
    }
    soft::to_i64_d(a, rm)
}

/// fcvt.lu.d (saturating; NaN gives the maximum).
#[inline]
pub fn to_u64_d(a: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rtz {
        if let Some(r) = fast::to_u64_d_rtz(a) {
            return r;
        }
    }
    soft::to_u64_d(a, rm)
}

/// fcvt.d.w (always exact).
#[inline]
pub fn from_i32_d(v: i32, _rm: Rm) -> (u64, u8) {
    fast::from_i32_d(v)
}

/// fcvt.d.wu (always exact).
#[inline]
pub fn from_u32_d(v: u32, _rm: Rm) -> (u64, u8) {
    fast::from_u32_d(v)
}

/// fcvt.d.l
#[inline]
pub fn from_i64_d(v: i64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        fast::from_i64_d(v)
    } else {
        soft::from_i64_d(v, rm)
    }
}

/// fcvt.d.lu
#[inline]
pub fn from_u64_d(v: u64, rm: Rm) -> (u64, u8) {
    if rm == Rm::Rne {
        fast::from_u64_d(v)
    } else {
        soft::from_u64_d(v, rm)
    }
}

// ---- between formats ----

/// fcvt.d.s (always exact; a NaN becomes the canonical NaN, NV if it
/// signalled).
#[inline]
pub fn s_to_d(a: u32) -> (u64, u8) {
    fast::s_to_d(a).unwrap_or_else(|| soft::s_to_d(a))
}

/// fcvt.s.d
#[inline]
pub fn d_to_s(a: u64, rm: Rm) -> (u32, u8) {
    if rm == Rm::Rne {
        if let Some(r) = fast::d_to_s(a) {
            return r;
        }
    }
    soft::d_to_s(a, rm)
}
