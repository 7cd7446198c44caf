//! The fast path: host IEEE-754 arithmetic where it provably gives the same
//! result and flags as the reference (`soft`), `None` everywhere else.
//!
//! Rust guarantees IEEE-754 binary32/binary64 arithmetic rounding to
//! nearest, ties to even, with subnormals (no flush to zero), no implicit
//! fused multiply-add, and correctly rounded `sqrt`; integer/float `as`
//! conversions round to nearest even and float-to-integer `as` truncates and
//! saturates. What the host does not give is the flags, so each case below
//! is restricted to where they can be derived exactly:
//!
//! * Arithmetic (round to nearest even only): the host result must be finite
//!   with magnitude at least 2^-1000 (double) / 2^-100 (single), far above
//!   the subnormal range. Then the operands were finite and no NaN, infinity
//!   or division by zero was involved (NV = DZ = 0); a finite result of
//!   round-to-nearest did not overflow (OF = 0); a result above the smallest
//!   normal by more than half an ulp comes from an exact value above it, so
//!   it is not tiny (UF = 0). Only NX remains, found exactly:
//!   - add/sub: Fast2Sum (Dekker): with |x| >= |y| and s = x + y rounded to
//!     nearest, `y - (s - x)` is exactly the rounding error (no overflow
//!     can occur in it, as s is finite); inexact iff it is nonzero.
//!   - mul: the product of the integer significands (exact in twice the
//!     width) is representable iff its odd part fits in the significand.
//!   - div: q = x / y is exact iff q*y = x, and (as q is within half an ulp
//!     of x/y) that holds iff the odd parts of sig(q)*sig(y) and sig(x) agree.
//!   - sqrt: r = sqrt(x) is exact iff r*r = x, likewise by odd parts; any
//!     positive finite operand has a normal square root.
//! * Comparisons of two non-NaN values: the host's answer, no flags.
//! * Integer to float: 32-bit integers to double are always exact; other
//!   widths (round to nearest even only) are inexact iff the result differs
//!   from the integer, checked exactly in i128.
//! * Single to double of a non-NaN: exact, no flags. Double to single (round
//!   to nearest even): as for arithmetic, inexact iff widening back differs.
//! * Float to integer, round towards zero, non-NaN operand: the host's
//!   saturating truncation is RISC-V's result; NV iff the truncated value is
//!   out of range, otherwise NX iff the operand was not an integer.
//!
//! Everything else (other rounding modes, NaNs, infinities, results near or
//! below the normal range, fused multiply-add) goes to SoftFloat. The
//! equivalence is also checked against SoftFloat by property tests.

use super::NX;

/// 2^-1000: doubles at least this large are far from the subnormal range.
const LOW_D: f64 = f64::from_bits((1023 - 1000) << 52);
/// 2^-100, the same for singles.
const LOW_S: f32 = f32::from_bits((127 - 100) << 23);

const SIGN_D: u64 = 1 << 63;
const SIGN_S: u32 = 1 << 31;

#[inline]
fn inexact(exact: bool) -> u8 {
    if exact {
        0
    } else {
        NX
    }
}

/// A host result the fast path may return: finite and well above the
/// subnormal range (false for NaN).
#[inline]
fn ok_d(r: f64) -> bool {
    r.abs() >= LOW_D && r.abs() <= f64::MAX
}

#[inline]
fn ok_s(r: f32) -> bool {
    r.abs() >= LOW_S && r.abs() <= f32::MAX
}

/// The integer significand of a finite double (with its implicit bit).
#[inline]
fn sig_d(bits: u64) -> u128 {
    let frac = bits & ((1 << 52) - 1);
    let sig = if (bits >> 52) & 0x7ff == 0 {
        frac
    } else {
        frac | 1 << 52
    };
    u128::from(sig)
}

#[inline]
fn sig_s(bits: u32) -> u64 {
    let frac = bits & ((1 << 23) - 1);
    let sig = if (bits >> 23) & 0xff == 0 {
        frac
    } else {
        frac | 1 << 23
    };
    u64::from(sig)
}

/// `x` without its trailing zero bits (callers pass nonzero values; 0 is
/// mapped to 0 rather than shifting by the full width).
#[inline]
fn odd_d(x: u128) -> u128 {
    x.checked_shr(x.trailing_zeros()).unwrap_or(0)
}

#[inline]
fn odd_s(x: u64) -> u64 {
    x.checked_shr(x.trailing_zeros()).unwrap_or(0)
}

#[inline]
pub(super) fn add_d(a: u64, b: u64) -> Option<(u64, u8)> {
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    let s = x + y;
    if !ok_d(s) {
        return None;
    }
    let (big, small) = if x.abs() >= y.abs() { (x, y) } else { (y, x) };
    let err = small - (s - big);
    Some((s.to_bits(), inexact(err == 0.0)))
}

#[inline]
pub(super) fn sub_d(a: u64, b: u64) -> Option<(u64, u8)> {
    add_d(a, b ^ SIGN_D)
}

#[inline]
pub(super) fn mul_d(a: u64, b: u64) -> Option<(u64, u8)> {
    let p = f64::from_bits(a) * f64::from_bits(b);
    if !ok_d(p) {
        return None;
    }
    let exact = odd_d(sig_d(a) * sig_d(b)) < 1 << 53;
    Some((p.to_bits(), inexact(exact)))
}

#[inline]
pub(super) fn div_d(a: u64, b: u64) -> Option<(u64, u8)> {
    let q = f64::from_bits(a) / f64::from_bits(b);
    if !ok_d(q) {
        return None;
    }
    // Here a and b are finite and nonzero (else q is 0, infinite or NaN).
    let exact = odd_d(sig_d(q.to_bits()) * sig_d(b)) == odd_d(sig_d(a));
    Some((q.to_bits(), inexact(exact)))
}

#[inline]
pub(super) fn sqrt_d(a: u64) -> Option<(u64, u8)> {
    let x = f64::from_bits(a);
    if !(x > 0.0 && x <= f64::MAX) {
        return None;
    }
    let r = x.sqrt();
    let sr = sig_d(r.to_bits());
    let exact = odd_d(sr * sr) == odd_d(sig_d(a));
    Some((r.to_bits(), inexact(exact)))
}

#[inline]
pub(super) fn add_s(a: u32, b: u32) -> Option<(u32, u8)> {
    let (x, y) = (f32::from_bits(a), f32::from_bits(b));
    let s = x + y;
    if !ok_s(s) {
        return None;
    }
    let (big, small) = if x.abs() >= y.abs() { (x, y) } else { (y, x) };
    let err = small - (s - big);
    Some((s.to_bits(), inexact(err == 0.0)))
}

#[inline]
pub(super) fn sub_s(a: u32, b: u32) -> Option<(u32, u8)> {
    add_s(a, b ^ SIGN_S)
}

#[inline]
pub(super) fn mul_s(a: u32, b: u32) -> Option<(u32, u8)> {
    let p = f32::from_bits(a) * f32::from_bits(b);
    if !ok_s(p) {
        return None;
    }
    let exact = odd_s(sig_s(a) * sig_s(b)) < 1 << 24;
    Some((p.to_bits(), inexact(exact)))
}

#[inline]
pub(super) fn div_s(a: u32, b: u32) -> Option<(u32, u8)> {
    let q = f32::from_bits(a) / f32::from_bits(b);
    if !ok_s(q) {
        return None;
    }
    let exact = odd_s(sig_s(q.to_bits()) * sig_s(b)) == odd_s(sig_s(a));
    Some((q.to_bits(), inexact(exact)))
}

#[inline]
pub(super) fn sqrt_s(a: u32) -> Option<(u32, u8)> {
    let x = f32::from_bits(a);
    if !(x > 0.0 && x <= f32::MAX) {
        return None;
    }
    let r = x.sqrt();
    let sr = sig_s(r.to_bits());
    let exact = odd_s(sr * sr) == odd_s(sig_s(a));
    Some((r.to_bits(), inexact(exact)))
}

/// `Some(ordering)` of two doubles when neither is a NaN.
#[inline]
fn ordered_d(a: u64, b: u64) -> Option<(f64, f64)> {
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    (!x.is_nan() && !y.is_nan()).then_some((x, y))
}

#[inline]
fn ordered_s(a: u32, b: u32) -> Option<(f32, f32)> {
    let (x, y) = (f32::from_bits(a), f32::from_bits(b));
    (!x.is_nan() && !y.is_nan()).then_some((x, y))
}

#[inline]
pub(super) fn eq_d(a: u64, b: u64) -> Option<(bool, u8)> {
    ordered_d(a, b).map(|(x, y)| (x == y, 0))
}

#[inline]
pub(super) fn lt_d(a: u64, b: u64) -> Option<(bool, u8)> {
    ordered_d(a, b).map(|(x, y)| (x < y, 0))
}

#[inline]
pub(super) fn le_d(a: u64, b: u64) -> Option<(bool, u8)> {
    ordered_d(a, b).map(|(x, y)| (x <= y, 0))
}

#[inline]
pub(super) fn eq_s(a: u32, b: u32) -> Option<(bool, u8)> {
    ordered_s(a, b).map(|(x, y)| (x == y, 0))
}

#[inline]
pub(super) fn lt_s(a: u32, b: u32) -> Option<(bool, u8)> {
    ordered_s(a, b).map(|(x, y)| (x < y, 0))
}

#[inline]
pub(super) fn le_s(a: u32, b: u32) -> Option<(bool, u8)> {
    ordered_s(a, b).map(|(x, y)| (x <= y, 0))
}

// Integer to float, round to nearest even (32-bit to double: any mode).

#[inline]
pub(super) fn from_i32_d(v: i32) -> (u64, u8) {
    (f64::from(v).to_bits(), 0)
}

#[inline]
pub(super) fn from_u32_d(v: u32) -> (u64, u8) {
    (f64::from(v).to_bits(), 0)
}

#[inline]
pub(super) fn from_i64_d(v: i64) -> (u64, u8) {
    let r = v as f64;
    (r.to_bits(), inexact(r as i128 == i128::from(v)))
}

#[inline]
pub(super) fn from_u64_d(v: u64) -> (u64, u8) {
    let r = v as f64;
    (r.to_bits(), inexact(r as i128 == i128::from(v)))
}

#[inline]
pub(super) fn from_i32_s(v: i32) -> (u32, u8) {
    let r = v as f32;
    (r.to_bits(), inexact(r as i64 == i64::from(v)))
}

#[inline]
pub(super) fn from_u32_s(v: u32) -> (u32, u8) {
    let r = v as f32;
    (r.to_bits(), inexact(r as i64 == i64::from(v)))
}

#[inline]
pub(super) fn from_i64_s(v: i64) -> (u32, u8) {
    let r = v as f32;
    (r.to_bits(), inexact(r as i128 == i128::from(v)))
}

#[inline]
pub(super) fn from_u64_s(v: u64) -> (u32, u8) {
    let r = v as f32;
    (r.to_bits(), inexact(r as i128 == i128::from(v)))
}

// Between formats.

#[inline]
pub(super) fn s_to_d(a: u32) -> Option<(u64, u8)> {
    let x = f32::from_bits(a);
    (!x.is_nan()).then(|| (f64::from(x).to_bits(), 0))
}

/// Round to nearest even only.
#[inline]
pub(super) fn d_to_s(a: u64) -> Option<(u32, u8)> {
    let x = f64::from_bits(a);
    let r = x as f32;
    if !ok_s(r) {
        return None;
    }
    Some((r.to_bits(), inexact(f64::from(r) == x)))
}

// Float to integer, round towards zero, non-NaN operands (held exactly as
// doubles). `x` is out of range iff its truncation is, i.e. iff it is at or
// above the type's 2^n, or at or below its minimum minus one (both exact in
// double; no double lies strictly between -2^63 - 1 and -2^63). In range,
// the truncation is exactly representable, so the operand was an integer
// iff converting back gives it again. (`f64::trunc` is avoided: on the
// baseline x86-64 target it is a library call.)

/// The flags of a truncating conversion whose result is `back` as a double.
#[inline]
fn rtz_flags(x: f64, below: f64, end: f64, back: f64) -> u8 {
    if x >= end || x <= below {
        super::NV
    } else {
        inexact(back == x)
    }
}

const P31: f64 = 2_147_483_648.0;
const P32: f64 = 4_294_967_296.0;
const P63: f64 = 9_223_372_036_854_775_808.0;
const P64: f64 = 18_446_744_073_709_551_616.0;

#[inline]
fn to_i32(x: f64) -> (i32, u8) {
    let r = x as i32;
    (r, rtz_flags(x, -P31 - 1.0, P31, f64::from(r)))
}

#[inline]
fn to_u32(x: f64) -> (u32, u8) {
    let r = x as u32;
    (r, rtz_flags(x, -1.0, P32, f64::from(r)))
}

#[inline]
fn to_i64(x: f64) -> (i64, u8) {
    let r = x as i64;
    // -2^63 itself is in range; the next double below is out.
    (r, rtz_flags(x, -P63 - 2048.0, P63, r as f64))
}

#[inline]
fn to_u64(x: f64) -> (u64, u8) {
    let r = x as u64;
    (r, rtz_flags(x, -1.0, P64, r as f64))
}

/// The operand as a double, unless it is a NaN.
#[inline]
fn number_d(a: u64) -> Option<f64> {
    let x = f64::from_bits(a);
    (!x.is_nan()).then_some(x)
}

#[inline]
fn number_s(a: u32) -> Option<f64> {
    let x = f32::from_bits(a);
    (!x.is_nan()).then_some(f64::from(x))
}

#[inline]
pub(super) fn to_i32_d_rtz(a: u64) -> Option<(i32, u8)> {
    number_d(a).map(to_i32)
}

#[inline]
pub(super) fn to_u32_d_rtz(a: u64) -> Option<(u32, u8)> {
    number_d(a).map(to_u32)
}

#[inline]
pub(super) fn to_i64_d_rtz(a: u64) -> Option<(i64, u8)> {
    number_d(a).map(to_i64)
}

#[inline]
pub(super) fn to_u64_d_rtz(a: u64) -> Option<(u64, u8)> {
    number_d(a).map(to_u64)
}

#[inline]
pub(super) fn to_i32_s_rtz(a: u32) -> Option<(i32, u8)> {
    number_s(a).map(to_i32)
}

#[inline]
pub(super) fn to_u32_s_rtz(a: u32) -> Option<(u32, u8)> {
    number_s(a).map(to_u32)
}

#[inline]
pub(super) fn to_i64_s_rtz(a: u32) -> Option<(i64, u8)> {
    number_s(a).map(to_i64)
}

#[inline]
pub(super) fn to_u64_s_rtz(a: u32) -> Option<(u64, u8)> {
    number_s(a).map(to_u64)
}
