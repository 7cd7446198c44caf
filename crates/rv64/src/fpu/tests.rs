//! Tests for the floating-point layer.
//!
//! The tables hold values worked out by hand from the RISC-V F/D chapters
//! and IEEE 754 (bit patterns of the operands and of the correctly rounded
//! results), not values captured from this code. The property tests compare
//! against the host's IEEE arithmetic (round to nearest, even) where that is
//! an independent oracle, and against exact arithmetic in a wider format
//! where one exists (products of singles are exact in double).

use super::*;
use proptest::prelude::*;

/// The five modes, in the order the per-mode tables below use.
const MODES: [Rm; 5] = [Rm::Rne, Rm::Rtz, Rm::Rdn, Rm::Rup, Rm::Rmm];

// Single-precision patterns.
const S_P0: u32 = 0x0000_0000;
const S_N0: u32 = 0x8000_0000;
const S_ONE: u32 = 0x3f80_0000;
const S_NONE: u32 = 0xbf80_0000;
const S_TWO: u32 = 0x4000_0000;
const S_THREE: u32 = 0x4040_0000;
const S_HALF: u32 = 0x3f00_0000;
const S_PINF: u32 = 0x7f80_0000;
const S_NINF: u32 = 0xff80_0000;
const S_MAX: u32 = 0x7f7f_ffff;
const S_NMAX: u32 = 0xff7f_ffff;
const S_MIN_NORM: u32 = 0x0080_0000;
const S_MIN_SUB: u32 = 0x0000_0001;
const S_MAX_SUB: u32 = 0x007f_ffff;
const S_QNAN: u32 = 0x7fc0_0000;
const S_QNAN_PAYLOAD: u32 = 0x7fc1_2345;
const S_NQNAN: u32 = 0xffc0_0000;
const S_SNAN: u32 = 0x7f80_0001;
const S_SNAN2: u32 = 0x7fa0_0000;
const S_NSNAN: u32 = 0xff80_0001;
const CS: u32 = CANONICAL_NAN_S;

// Double-precision patterns.
const D_P0: u64 = 0;
const D_N0: u64 = 0x8000_0000_0000_0000;
const D_ONE: u64 = 0x3ff0_0000_0000_0000;
const D_NONE: u64 = 0xbff0_0000_0000_0000;
const D_TWO: u64 = 0x4000_0000_0000_0000;
const D_THREE: u64 = 0x4008_0000_0000_0000;
const D_HALF: u64 = 0x3fe0_0000_0000_0000;
const D_PINF: u64 = 0x7ff0_0000_0000_0000;
const D_NINF: u64 = 0xfff0_0000_0000_0000;
const D_MAX: u64 = 0x7fef_ffff_ffff_ffff;
const D_NMAX: u64 = 0xffef_ffff_ffff_ffff;
const D_MIN_NORM: u64 = 0x0010_0000_0000_0000;
const D_MIN_SUB: u64 = 0x0000_0000_0000_0001;
const D_MAX_SUB: u64 = 0x000f_ffff_ffff_ffff;
const D_QNAN: u64 = 0x7ff8_0000_0000_0000;
const D_QNAN_PAYLOAD: u64 = 0x7ff8_0000_dead_beef;
const D_NQNAN: u64 = 0xfff8_0000_0000_0000;
const D_SNAN: u64 = 0x7ff0_0000_0000_0001;
const D_SNAN2: u64 = 0x7ff4_0000_0000_0000;
const D_NSNAN: u64 = 0xfff0_0000_0000_0001;
const CD: u64 = CANONICAL_NAN_D;

const ALL_FLAGS: u8 = NV | DZ | OF | UF | NX;

/// One row: what an operation should give in each of the five modes.
type PerMode<T> = [(T, u8); 5];

fn same<T: Copy>(v: T, f: u8) -> PerMode<T> {
    [(v, f); 5]
}

fn check_modes<T: PartialEq + std::fmt::Debug + Copy>(
    what: &str,
    op: impl Fn(Rm) -> (T, u8),
    want: PerMode<T>,
) {
    for (rm, want) in MODES.iter().zip(want) {
        let got = op(*rm);
        assert_eq!(got, want, "{what} in {rm:?}");
    }
}

// ---------------------------------------------------------------- add/sub

#[test]
fn add_s_table() {
    let rows: &[(u32, u32, PerMode<u32>)] = &[
        (S_ONE, S_TWO, same(S_THREE, 0)),
        // Signed zeros: x + (-x) is +0 except when rounding down.
        (
            S_P0,
            S_N0,
            [(S_P0, 0), (S_P0, 0), (S_N0, 0), (S_P0, 0), (S_P0, 0)],
        ),
        (S_N0, S_N0, same(S_N0, 0)),
        (S_P0, S_P0, same(S_P0, 0)),
        (
            S_ONE,
            S_NONE,
            [(S_P0, 0), (S_P0, 0), (S_N0, 0), (S_P0, 0), (S_P0, 0)],
        ),
        (S_N0, S_ONE, same(S_ONE, 0)),
        // Infinities.
        (S_PINF, S_ONE, same(S_PINF, 0)),
        (S_PINF, S_PINF, same(S_PINF, 0)),
        (S_PINF, S_NINF, same(CS, NV)),
        (S_NINF, S_MAX, same(S_NINF, 0)),
        // NaNs: canonical result, NV only for a signalling operand.
        (S_QNAN, S_ONE, same(CS, 0)),
        (S_ONE, S_QNAN_PAYLOAD, same(CS, 0)),
        (S_NQNAN, S_NQNAN, same(CS, 0)),
        (S_SNAN, S_ONE, same(CS, NV)),
        (S_QNAN, S_SNAN2, same(CS, NV)),
        (S_NSNAN, S_PINF, same(CS, NV)),
        // Overflow: max + max.
        (
            S_MAX,
            S_MAX,
            [
                (S_PINF, OF | NX),
                (S_MAX, OF | NX),
                (S_MAX, OF | NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        (
            S_NMAX,
            S_NMAX,
            [
                (S_NINF, OF | NX),
                (S_NMAX, OF | NX),
                (S_NINF, OF | NX),
                (S_NMAX, OF | NX),
                (S_NINF, OF | NX),
            ],
        ),
        // 1 + 2^-24: exactly half an ulp above 1 (a tie; 1.0 is even).
        (
            S_ONE,
            0x3380_0000,
            [
                (S_ONE, NX),
                (S_ONE, NX),
                (S_ONE, NX),
                (0x3f80_0001, NX),
                (0x3f80_0001, NX),
            ],
        ),
        // (1 + 2^-23) + 2^-24: a tie whose even neighbour is above.
        (
            0x3f80_0001,
            0x3380_0000,
            [
                (0x3f80_0002, NX),
                (0x3f80_0001, NX),
                (0x3f80_0001, NX),
                (0x3f80_0002, NX),
                (0x3f80_0002, NX),
            ],
        ),
        // -1 - 2^-24: the negative tie.
        (
            S_NONE,
            0xb380_0000,
            [
                (S_NONE, NX),
                (S_NONE, NX),
                (0xbf80_0001, NX),
                (S_NONE, NX),
                (0xbf80_0001, NX),
            ],
        ),
        // 1 + 2^-25 (a quarter ulp): below the tie.
        (
            S_ONE,
            0x3300_0000,
            [
                (S_ONE, NX),
                (S_ONE, NX),
                (S_ONE, NX),
                (0x3f80_0001, NX),
                (S_ONE, NX),
            ],
        ),
        // Subnormals add exactly: no underflow without inexactness.
        (S_MIN_SUB, S_MIN_SUB, same(0x0000_0002, 0)),
        (S_MAX_SUB, S_MIN_SUB, same(S_MIN_NORM, 0)),
        (S_MIN_NORM, 0x8000_0001, same(S_MAX_SUB, 0)),
    ];
    for &(a, b, want) in rows {
        check_modes(
            &format!("add_s({a:#x}, {b:#x})"),
            |rm| add_s(a, b, rm),
            want,
        );
        // a - (-b) is the same operation.
        check_modes(
            &format!("sub_s({a:#x}, -{b:#x})"),
            |rm| sub_s(a, b ^ 0x8000_0000, rm),
            want,
        );
    }
}

#[test]
fn sub_s_zero_signs() {
    // +0 - +0 = +0 (-0 when rounding down); -0 - +0 = -0.
    check_modes(
        "0 - 0",
        |rm| sub_s(S_P0, S_P0, rm),
        [(S_P0, 0), (S_P0, 0), (S_N0, 0), (S_P0, 0), (S_P0, 0)],
    );
    check_modes("-0 - 0", |rm| sub_s(S_N0, S_P0, rm), same(S_N0, 0));
    check_modes("inf - inf", |rm| sub_s(S_PINF, S_PINF, rm), same(CS, NV));
    check_modes("3 - 1", |rm| sub_s(S_THREE, S_ONE, rm), same(S_TWO, 0));
}

#[test]
fn add_d_table() {
    let rows: &[(u64, u64, PerMode<u64>)] = &[
        (D_ONE, D_TWO, same(D_THREE, 0)),
        (
            D_P0,
            D_N0,
            [(D_P0, 0), (D_P0, 0), (D_N0, 0), (D_P0, 0), (D_P0, 0)],
        ),
        (D_N0, D_N0, same(D_N0, 0)),
        (
            D_ONE,
            D_NONE,
            [(D_P0, 0), (D_P0, 0), (D_N0, 0), (D_P0, 0), (D_P0, 0)],
        ),
        (D_PINF, D_NINF, same(CD, NV)),
        (D_NINF, D_ONE, same(D_NINF, 0)),
        (D_QNAN, D_ONE, same(CD, 0)),
        (D_NQNAN, D_QNAN_PAYLOAD, same(CD, 0)),
        (D_ONE, D_SNAN, same(CD, NV)),
        (D_SNAN2, D_QNAN, same(CD, NV)),
        (D_NSNAN, D_ONE, same(CD, NV)),
        (
            D_MAX,
            D_MAX,
            [
                (D_PINF, OF | NX),
                (D_MAX, OF | NX),
                (D_MAX, OF | NX),
                (D_PINF, OF | NX),
                (D_PINF, OF | NX),
            ],
        ),
        (
            D_NMAX,
            D_NMAX,
            [
                (D_NINF, OF | NX),
                (D_NMAX, OF | NX),
                (D_NINF, OF | NX),
                (D_NMAX, OF | NX),
                (D_NINF, OF | NX),
            ],
        ),
        // 1 + 2^-53: a tie.
        (
            D_ONE,
            0x3ca0_0000_0000_0000,
            [
                (D_ONE, NX),
                (D_ONE, NX),
                (D_ONE, NX),
                (0x3ff0_0000_0000_0001, NX),
                (0x3ff0_0000_0000_0001, NX),
            ],
        ),
        (
            0x3ff0_0000_0000_0001,
            0x3ca0_0000_0000_0000,
            [
                (0x3ff0_0000_0000_0002, NX),
                (0x3ff0_0000_0000_0001, NX),
                (0x3ff0_0000_0000_0001, NX),
                (0x3ff0_0000_0000_0002, NX),
                (0x3ff0_0000_0000_0002, NX),
            ],
        ),
        (
            D_NONE,
            0xbca0_0000_0000_0000,
            [
                (D_NONE, NX),
                (D_NONE, NX),
                (0xbff0_0000_0000_0001, NX),
                (D_NONE, NX),
                (0xbff0_0000_0000_0001, NX),
            ],
        ),
        (D_MIN_SUB, D_MIN_SUB, same(2, 0)),
        (D_MAX_SUB, D_MIN_SUB, same(D_MIN_NORM, 0)),
    ];
    for &(a, b, want) in rows {
        check_modes(
            &format!("add_d({a:#x}, {b:#x})"),
            |rm| add_d(a, b, rm),
            want,
        );
        check_modes(
            &format!("sub_d({a:#x}, -{b:#x})"),
            |rm| sub_d(a, b ^ D_N0, rm),
            want,
        );
    }
    check_modes(
        "0 - 0",
        |rm| sub_d(D_P0, D_P0, rm),
        [(D_P0, 0), (D_P0, 0), (D_N0, 0), (D_P0, 0), (D_P0, 0)],
    );
}

// ---------------------------------------------------------------- mul

#[test]
fn mul_s_table() {
    let rows: &[(u32, u32, PerMode<u32>)] = &[
        (S_TWO, S_THREE, same(0x40c0_0000, 0)),
        (S_N0, S_THREE, same(S_N0, 0)),
        (S_N0, S_NONE, same(S_P0, 0)),
        (S_P0, S_PINF, same(CS, NV)),
        (S_NINF, S_N0, same(CS, NV)),
        (S_NINF, S_TWO, same(S_NINF, 0)),
        (S_QNAN, S_P0, same(CS, 0)),
        (S_SNAN, S_P0, same(CS, NV)),
        (
            S_MAX,
            S_TWO,
            [
                (S_PINF, OF | NX),
                (S_MAX, OF | NX),
                (S_MAX, OF | NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        (
            S_MAX,
            0xc000_0000,
            [
                (S_NINF, OF | NX),
                (S_NMAX, OF | NX),
                (S_NINF, OF | NX),
                (S_NMAX, OF | NX),
                (S_NINF, OF | NX),
            ],
        ),
        // min normal / 2: exactly representable as a subnormal, no flags.
        (S_MIN_NORM, S_HALF, same(0x0040_0000, 0)),
        // min subnormal / 2 = 2^-150: a tie between 0 and 2^-149.
        (
            S_MIN_SUB,
            S_HALF,
            [
                (S_P0, UF | NX),
                (S_P0, UF | NX),
                (S_P0, UF | NX),
                (S_MIN_SUB, UF | NX),
                (S_MIN_SUB, UF | NX),
            ],
        ),
        (
            0x8000_0001,
            S_HALF,
            [
                (S_N0, UF | NX),
                (S_N0, UF | NX),
                (0x8000_0001, UF | NX),
                (S_N0, UF | NX),
                (0x8000_0001, UF | NX),
            ],
        ),
        // (1 - 2^-24) * 2^-126 = 2^-126 - 2^-150: exactly representable with
        // 24 bits and an unbounded exponent, so tiny after rounding (UF),
        // though rounding to the subnormal grid may give 2^-126 itself.
        (
            0x3f7f_ffff,
            S_MIN_NORM,
            [
                (S_MIN_NORM, UF | NX),
                (S_MAX_SUB, UF | NX),
                (S_MAX_SUB, UF | NX),
                (S_MIN_NORM, UF | NX),
                (S_MIN_NORM, UF | NX),
            ],
        ),
    ];
    for &(a, b, want) in rows {
        check_modes(
            &format!("mul_s({a:#x}, {b:#x})"),
            |rm| mul_s(a, b, rm),
            want,
        );
        check_modes(
            &format!("mul_s({b:#x}, {a:#x})"),
            |rm| mul_s(b, a, rm),
            want,
        );
    }
}

#[test]
fn mul_d_table() {
    let rows: &[(u64, u64, PerMode<u64>)] = &[
        (D_TWO, D_THREE, same(0x4018_0000_0000_0000, 0)),
        (D_N0, D_THREE, same(D_N0, 0)),
        (D_P0, D_NINF, same(CD, NV)),
        (D_QNAN, D_ONE, same(CD, 0)),
        (D_SNAN, D_ONE, same(CD, NV)),
        (
            D_MAX,
            D_TWO,
            [
                (D_PINF, OF | NX),
                (D_MAX, OF | NX),
                (D_MAX, OF | NX),
                (D_PINF, OF | NX),
                (D_PINF, OF | NX),
            ],
        ),
        (D_MIN_NORM, D_HALF, same(0x0008_0000_0000_0000, 0)),
        (
            D_MIN_SUB,
            D_HALF,
            [
                (D_P0, UF | NX),
                (D_P0, UF | NX),
                (D_P0, UF | NX),
                (D_MIN_SUB, UF | NX),
                (D_MIN_SUB, UF | NX),
            ],
        ),
        // (1 - 2^-53) * 2^-1022: tiny after rounding (see mul_s_table).
        (
            0x3fef_ffff_ffff_ffff,
            D_MIN_NORM,
            [
                (D_MIN_NORM, UF | NX),
                (D_MAX_SUB, UF | NX),
                (D_MAX_SUB, UF | NX),
                (D_MIN_NORM, UF | NX),
                (D_MIN_NORM, UF | NX),
            ],
        ),
    ];
    for &(a, b, want) in rows {
        check_modes(
            &format!("mul_d({a:#x}, {b:#x})"),
            |rm| mul_d(a, b, rm),
            want,
        );
        check_modes(
            &format!("mul_d({b:#x}, {a:#x})"),
            |rm| mul_d(b, a, rm),
            want,
        );
    }
}

// ---------------------------------------------------------------- div

#[test]
fn div_s_table() {
    let rows: &[(u32, u32, PerMode<u32>)] = &[
        (S_THREE, S_TWO, same(0x3fc0_0000, 0)),
        (S_ONE, S_P0, same(S_PINF, DZ)),
        (S_NONE, S_P0, same(S_NINF, DZ)),
        (S_ONE, S_N0, same(S_NINF, DZ)),
        (S_P0, S_P0, same(CS, NV)),
        (S_PINF, S_PINF, same(CS, NV)),
        // inf / 0 is an exact infinity: no DZ.
        (S_PINF, S_P0, same(S_PINF, 0)),
        (S_ONE, S_NINF, same(S_N0, 0)),
        (S_P0, S_ONE, same(S_P0, 0)),
        (S_QNAN, S_P0, same(CS, 0)),
        (S_ONE, S_SNAN, same(CS, NV)),
        // 1/3 = 0x3eaaaaaa.aaa...: the discarded part is above half an ulp.
        (
            S_ONE,
            S_THREE,
            [
                (0x3eaa_aaab, NX),
                (0x3eaa_aaaa, NX),
                (0x3eaa_aaaa, NX),
                (0x3eaa_aaab, NX),
                (0x3eaa_aaab, NX),
            ],
        ),
        (
            S_NONE,
            S_THREE,
            [
                (0xbeaa_aaab, NX),
                (0xbeaa_aaaa, NX),
                (0xbeaa_aaab, NX),
                (0xbeaa_aaaa, NX),
                (0xbeaa_aaab, NX),
            ],
        ),
        (
            S_MAX,
            S_HALF,
            [
                (S_PINF, OF | NX),
                (S_MAX, OF | NX),
                (S_MAX, OF | NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        (
            S_MIN_SUB,
            S_TWO,
            [
                (S_P0, UF | NX),
                (S_P0, UF | NX),
                (S_P0, UF | NX),
                (S_MIN_SUB, UF | NX),
                (S_MIN_SUB, UF | NX),
            ],
        ),
    ];
    for &(a, b, want) in rows {
        check_modes(
            &format!("div_s({a:#x}, {b:#x})"),
            |rm| div_s(a, b, rm),
            want,
        );
    }
}

#[test]
fn div_d_table() {
    let rows: &[(u64, u64, PerMode<u64>)] = &[
        (D_THREE, D_TWO, same(0x3ff8_0000_0000_0000, 0)),
        (D_ONE, D_P0, same(D_PINF, DZ)),
        (D_ONE, D_N0, same(D_NINF, DZ)),
        (D_P0, D_N0, same(CD, NV)),
        (D_NINF, D_PINF, same(CD, NV)),
        (D_NINF, D_P0, same(D_NINF, 0)),
        (D_SNAN, D_P0, same(CD, NV)),
        (D_QNAN, D_P0, same(CD, 0)),
        // 1/3 = 0x3fd5555555555555.555...: below the tie.
        (
            D_ONE,
            D_THREE,
            [
                (0x3fd5_5555_5555_5555, NX),
                (0x3fd5_5555_5555_5555, NX),
                (0x3fd5_5555_5555_5555, NX),
                (0x3fd5_5555_5555_5556, NX),
                (0x3fd5_5555_5555_5555, NX),
            ],
        ),
        (
            D_MAX,
            D_HALF,
            [
                (D_PINF, OF | NX),
                (D_MAX, OF | NX),
                (D_MAX, OF | NX),
                (D_PINF, OF | NX),
                (D_PINF, OF | NX),
            ],
        ),
    ];
    for &(a, b, want) in rows {
        check_modes(
            &format!("div_d({a:#x}, {b:#x})"),
            |rm| div_d(a, b, rm),
            want,
        );
    }
}

// ---------------------------------------------------------------- sqrt

#[test]
fn sqrt_table() {
    let rows_s: &[(u32, PerMode<u32>)] = &[
        (0x4080_0000, same(S_TWO, 0)),
        (S_P0, same(S_P0, 0)),
        (S_N0, same(S_N0, 0)),
        (S_PINF, same(S_PINF, 0)),
        (S_NINF, same(CS, NV)),
        (S_NONE, same(CS, NV)),
        (0x8000_0001, same(CS, NV)),
        (S_QNAN, same(CS, 0)),
        (S_NQNAN, same(CS, 0)),
        (S_SNAN, same(CS, NV)),
        // sqrt(2) = 1.41421356..., between 0x3fb504f3 and 0x3fb504f4,
        // nearer the lower.
        (
            S_TWO,
            [
                (0x3fb5_04f3, NX),
                (0x3fb5_04f3, NX),
                (0x3fb5_04f3, NX),
                (0x3fb5_04f4, NX),
                (0x3fb5_04f3, NX),
            ],
        ),
        // sqrt(2^-148) = 2^-74, from a subnormal.
        (0x0000_0002, same(0x1a80_0000, 0)),
    ];
    for &(a, want) in rows_s {
        check_modes(&format!("sqrt_s({a:#x})"), |rm| sqrt_s(a, rm), want);
    }
    let rows_d: &[(u64, PerMode<u64>)] = &[
        (0x4010_0000_0000_0000, same(D_TWO, 0)),
        (D_N0, same(D_N0, 0)),
        (D_PINF, same(D_PINF, 0)),
        (D_NINF, same(CD, NV)),
        (D_NONE, same(CD, NV)),
        (D_QNAN, same(CD, 0)),
        (D_SNAN, same(CD, NV)),
        // sqrt(2) = 1.4142135623730950488...; 0x3ff6a09e667f3bcd is
        // 1.4142135623730951454... (above, and the nearer).
        (
            D_TWO,
            [
                (0x3ff6_a09e_667f_3bcd, NX),
                (0x3ff6_a09e_667f_3bcc, NX),
                (0x3ff6_a09e_667f_3bcc, NX),
                (0x3ff6_a09e_667f_3bcd, NX),
                (0x3ff6_a09e_667f_3bcd, NX),
            ],
        ),
    ];
    for &(a, want) in rows_d {
        check_modes(&format!("sqrt_d({a:#x})"), |rm| sqrt_d(a, rm), want);
    }
}

// ---------------------------------------------------------------- fma

#[test]
fn fma_s_table() {
    // (a, b, c, neg_prod, neg_add, want)
    type Row = (u32, u32, u32, bool, bool, PerMode<u32>);
    let rows: &[Row] = &[
        // fmadd / fmsub / fnmsub / fnmadd of 2*3 and 1.
        (S_TWO, S_THREE, S_ONE, false, false, same(0x40e0_0000, 0)), // 7
        (S_TWO, S_THREE, S_ONE, false, true, same(0x40a0_0000, 0)),  // 5
        (S_TWO, S_THREE, S_ONE, true, false, same(0xc0a0_0000, 0)),  // -5
        (S_TWO, S_THREE, S_ONE, true, true, same(0xc0e0_0000, 0)),   // -7
        // inf * 0 is invalid whatever the addend, a quiet NaN included.
        (S_PINF, S_P0, S_QNAN, false, false, same(CS, NV)),
        (S_P0, S_NINF, S_QNAN, false, false, same(CS, NV)),
        (S_PINF, S_P0, S_ONE, false, false, same(CS, NV)),
        (S_PINF, S_P0, S_SNAN, true, true, same(CS, NV)),
        // NaN operands.
        (S_QNAN, S_ONE, S_ONE, false, false, same(CS, 0)),
        (S_ONE, S_ONE, S_QNAN_PAYLOAD, false, false, same(CS, 0)),
        (S_ONE, S_ONE, S_SNAN, false, false, same(CS, NV)),
        (S_SNAN, S_ONE, S_ONE, true, false, same(CS, NV)),
        (S_ONE, S_NSNAN, S_QNAN, false, false, same(CS, NV)),
        // inf*1 - inf.
        (S_PINF, S_ONE, S_PINF, false, true, same(CS, NV)),
        (S_PINF, S_ONE, S_PINF, false, false, same(S_PINF, 0)),
        (S_PINF, S_ONE, S_PINF, true, false, same(CS, NV)),
        // One rounding: (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly (two
        // roundings would give 0).
        (
            0x3f80_0800,
            0x3f80_0800,
            0xbf80_1000,
            false,
            false,
            same(0x3380_0000, 0),
        ),
        // Zero signs: 1*(-0) + (-0) = -0; 1*(-0) + (+0) = +0 (-0 in RDN).
        (S_ONE, S_N0, S_N0, false, false, same(S_N0, 0)),
        (
            S_ONE,
            S_N0,
            S_P0,
            false,
            false,
            [(S_P0, 0), (S_P0, 0), (S_N0, 0), (S_P0, 0), (S_P0, 0)],
        ),
        // fnmadd(0, 1, 0) = -(0*1) - 0 = -0.
        (S_P0, S_ONE, S_P0, true, true, same(S_N0, 0)),
        // fmsub(1, 1, 1) = 0: +0, or -0 when rounding down.
        (
            S_ONE,
            S_ONE,
            S_ONE,
            false,
            true,
            [(S_P0, 0), (S_P0, 0), (S_N0, 0), (S_P0, 0), (S_P0, 0)],
        ),
        // Overflow of the sum.
        (
            S_MAX,
            S_ONE,
            S_MAX,
            false,
            false,
            [
                (S_PINF, OF | NX),
                (S_MAX, OF | NX),
                (S_MAX, OF | NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        // 1*1 + 2^-24: a tie.
        (
            S_ONE,
            S_ONE,
            0x3380_0000,
            false,
            false,
            [
                (S_ONE, NX),
                (S_ONE, NX),
                (S_ONE, NX),
                (0x3f80_0001, NX),
                (0x3f80_0001, NX),
            ],
        ),
    ];
    for &(a, b, c, np, na, want) in rows {
        check_modes(
            &format!("fma_s({a:#x}, {b:#x}, {c:#x}, {np}, {na})"),
            |rm| fma_s(a, b, c, rm, np, na),
            want,
        );
    }
}

#[test]
fn fma_d_table() {
    type Row = (u64, u64, u64, bool, bool, PerMode<u64>);
    let rows: &[Row] = &[
        (
            D_TWO,
            D_THREE,
            D_ONE,
            false,
            false,
            same(0x401c_0000_0000_0000, 0),
        ),
        (
            D_TWO,
            D_THREE,
            D_ONE,
            false,
            true,
            same(0x4014_0000_0000_0000, 0),
        ),
        (
            D_TWO,
            D_THREE,
            D_ONE,
            true,
            false,
            same(0xc014_0000_0000_0000, 0),
        ),
        (
            D_TWO,
            D_THREE,
            D_ONE,
            true,
            true,
            same(0xc01c_0000_0000_0000, 0),
        ),
        (D_PINF, D_P0, D_QNAN, false, false, same(CD, NV)),
        (D_N0, D_PINF, D_QNAN, false, false, same(CD, NV)),
        (D_QNAN, D_ONE, D_ONE, false, false, same(CD, 0)),
        (D_ONE, D_ONE, D_SNAN, false, false, same(CD, NV)),
        (D_NINF, D_ONE, D_NINF, true, false, same(CD, NV)),
        // (1 + 2^-27)^2 - (1 + 2^-26) = 2^-54 exactly.
        (
            0x3ff0_0000_0200_0000,
            0x3ff0_0000_0200_0000,
            0xbff0_0000_0400_0000,
            false,
            false,
            same(0x3c90_0000_0000_0000, 0),
        ),
        (D_ONE, D_N0, D_N0, false, false, same(D_N0, 0)),
        (
            D_ONE,
            D_ONE,
            D_ONE,
            false,
            true,
            [(D_P0, 0), (D_P0, 0), (D_N0, 0), (D_P0, 0), (D_P0, 0)],
        ),
    ];
    for &(a, b, c, np, na, want) in rows {
        check_modes(
            &format!("fma_d({a:#x}, {b:#x}, {c:#x}, {np}, {na})"),
            |rm| fma_d(a, b, c, rm, np, na),
            want,
        );
    }
}

// ---------------------------------------------------------------- min/max

#[test]
fn min_max_s_table() {
    // (a, b, min, max, flags)
    let rows: &[(u32, u32, u32, u32, u8)] = &[
        (S_ONE, S_TWO, S_ONE, S_TWO, 0),
        (S_NONE, S_ONE, S_NONE, S_ONE, 0),
        (S_N0, S_P0, S_N0, S_P0, 0),
        (S_NINF, S_PINF, S_NINF, S_PINF, 0),
        (S_MIN_SUB, S_P0, S_P0, S_MIN_SUB, 0),
        (S_N0, S_N0, S_N0, S_N0, 0),
        // One NaN: the other operand; NV only if it signals.
        (S_QNAN, S_ONE, S_ONE, S_ONE, 0),
        (S_NQNAN, S_NINF, S_NINF, S_NINF, 0),
        (S_SNAN, S_ONE, S_ONE, S_ONE, NV),
        (S_NSNAN, S_N0, S_N0, S_N0, NV),
        // Both NaN: canonical NaN.
        (S_QNAN_PAYLOAD, S_NQNAN, CS, CS, 0),
        (S_SNAN, S_QNAN, CS, CS, NV),
        (S_SNAN2, S_NSNAN, CS, CS, NV),
    ];
    for &(a, b, mn, mx, f) in rows {
        for (x, y) in [(a, b), (b, a)] {
            assert_eq!(min_s(x, y), (mn, f), "min_s({x:#x}, {y:#x})");
            assert_eq!(max_s(x, y), (mx, f), "max_s({x:#x}, {y:#x})");
        }
    }
}

#[test]
fn min_max_d_table() {
    let rows: &[(u64, u64, u64, u64, u8)] = &[
        (D_ONE, D_TWO, D_ONE, D_TWO, 0),
        (D_N0, D_P0, D_N0, D_P0, 0),
        (D_NMAX, D_MAX, D_NMAX, D_MAX, 0),
        (D_QNAN, D_ONE, D_ONE, D_ONE, 0),
        (D_SNAN, D_NONE, D_NONE, D_NONE, NV),
        (D_QNAN_PAYLOAD, D_NQNAN, CD, CD, 0),
        (D_SNAN, D_QNAN, CD, CD, NV),
        (D_NSNAN, D_SNAN2, CD, CD, NV),
    ];
    for &(a, b, mn, mx, f) in rows {
        for (x, y) in [(a, b), (b, a)] {
            assert_eq!(min_d(x, y), (mn, f), "min_d({x:#x}, {y:#x})");
            assert_eq!(max_d(x, y), (mx, f), "max_d({x:#x}, {y:#x})");
        }
    }
}

// ---------------------------------------------------------------- compare

#[test]
fn compare_s_table() {
    // (a, b, eq, lt, le, eq flags, lt/le flags)
    let rows: &[(u32, u32, bool, bool, bool, u8, u8)] = &[
        (S_ONE, S_ONE, true, false, true, 0, 0),
        (S_ONE, S_TWO, false, true, true, 0, 0),
        (S_TWO, S_ONE, false, false, false, 0, 0),
        (S_N0, S_P0, true, false, true, 0, 0),
        (S_P0, S_N0, true, false, true, 0, 0),
        (S_NINF, S_PINF, false, true, true, 0, 0),
        (S_PINF, S_PINF, true, false, true, 0, 0),
        (S_MIN_SUB, S_P0, false, false, false, 0, 0),
        // Quiet NaN: feq quiet, flt/fle signal.
        (S_QNAN, S_QNAN, false, false, false, 0, NV),
        (S_ONE, S_NQNAN, false, false, false, 0, NV),
        // Signalling NaN: all three signal.
        (S_SNAN, S_ONE, false, false, false, NV, NV),
        (S_SNAN, S_SNAN, false, false, false, NV, NV),
    ];
    for &(a, b, e, l, le, fe, fl) in rows {
        assert_eq!(eq_s(a, b), (e, fe), "eq_s({a:#x}, {b:#x})");
        assert_eq!(lt_s(a, b), (l, fl), "lt_s({a:#x}, {b:#x})");
        assert_eq!(le_s(a, b), (le, fl), "le_s({a:#x}, {b:#x})");
    }
}

#[test]
fn compare_d_table() {
    let rows: &[(u64, u64, bool, bool, bool, u8, u8)] = &[
        (D_ONE, D_ONE, true, false, true, 0, 0),
        (D_NONE, D_ONE, false, true, true, 0, 0),
        (D_N0, D_P0, true, false, true, 0, 0),
        (D_MAX, D_PINF, false, true, true, 0, 0),
        (D_QNAN, D_ONE, false, false, false, 0, NV),
        (D_ONE, D_NQNAN, false, false, false, 0, NV),
        (D_ONE, D_SNAN, false, false, false, NV, NV),
    ];
    for &(a, b, e, l, le, fe, fl) in rows {
        assert_eq!(eq_d(a, b), (e, fe), "eq_d({a:#x}, {b:#x})");
        assert_eq!(lt_d(a, b), (l, fl), "lt_d({a:#x}, {b:#x})");
        assert_eq!(le_d(a, b), (le, fl), "le_d({a:#x}, {b:#x})");
    }
}

// ---------------------------------------------------------------- class

#[test]
fn class_table() {
    // fclass bit: 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0,
    // 5 +subnormal, 6 +normal, 7 +inf, 8 sNaN, 9 qNaN.
    let rows_s: &[(u32, u32)] = &[
        (S_NINF, 0),
        (S_NONE, 1),
        (S_NMAX, 1),
        (0x8080_0000, 1),
        (0x8000_0001, 2),
        (0x807f_ffff, 2),
        (S_N0, 3),
        (S_P0, 4),
        (S_MIN_SUB, 5),
        (S_MAX_SUB, 5),
        (S_MIN_NORM, 6),
        (S_ONE, 6),
        (S_MAX, 6),
        (S_PINF, 7),
        (S_SNAN, 8),
        (S_SNAN2, 8),
        (S_NSNAN, 8),
        (0x7fbf_ffff, 8),
        (S_QNAN, 9),
        (S_NQNAN, 9),
        (0x7fff_ffff, 9),
        (S_QNAN_PAYLOAD, 9),
    ];
    for &(a, bit) in rows_s {
        assert_eq!(class_s(a), 1 << bit, "class_s({a:#x})");
    }
    let rows_d: &[(u64, u32)] = &[
        (D_NINF, 0),
        (D_NONE, 1),
        (D_NMAX, 1),
        (0x8000_0000_0000_0001, 2),
        (0x800f_ffff_ffff_ffff, 2),
        (D_N0, 3),
        (D_P0, 4),
        (D_MIN_SUB, 5),
        (D_MAX_SUB, 5),
        (D_MIN_NORM, 6),
        (D_MAX, 6),
        (D_PINF, 7),
        (D_SNAN, 8),
        (D_SNAN2, 8),
        (D_NSNAN, 8),
        (0x7ff7_ffff_ffff_ffff, 8),
        (D_QNAN, 9),
        (D_NQNAN, 9),
        (D_QNAN_PAYLOAD, 9),
        (0xffff_ffff_ffff_ffff, 9),
    ];
    for &(a, bit) in rows_d {
        assert_eq!(class_d(a), 1 << bit, "class_d({a:#x})");
    }
}

// ---------------------------------------------------------------- to int

#[test]
fn to_i32_table() {
    const MAX: i32 = i32::MAX;
    const MIN: i32 = i32::MIN;
    let rows_s: &[(u32, PerMode<i32>)] = &[
        (S_P0, same(0, 0)),
        (S_N0, same(0, 0)),
        (S_ONE, same(1, 0)),
        (S_NONE, same(-1, 0)),
        // 1.5
        (0x3fc0_0000, [(2, NX), (1, NX), (1, NX), (2, NX), (2, NX)]),
        // 2.5: RNE to even, RMM away.
        (0x4020_0000, [(2, NX), (2, NX), (2, NX), (3, NX), (3, NX)]),
        // -2.5
        (
            0xc020_0000,
            [(-2, NX), (-2, NX), (-3, NX), (-2, NX), (-3, NX)],
        ),
        // -0.5
        (0xbf00_0000, [(0, NX), (0, NX), (-1, NX), (0, NX), (-1, NX)]),
        // 0.5
        (S_HALF, [(0, NX), (0, NX), (0, NX), (1, NX), (1, NX)]),
        (S_MIN_SUB, [(0, NX), (0, NX), (0, NX), (1, NX), (0, NX)]),
        // 2^31 - 128, the largest single below 2^31.
        (0x4eff_ffff, same(2_147_483_520, 0)),
        // 2^31: out of range.
        (0x4f00_0000, same(MAX, NV)),
        // -2^31: in range, exact.
        (0xcf00_0000, same(MIN, 0)),
        // -(2^31 + 256)
        (0xcf00_0001, same(MIN, NV)),
        (S_PINF, same(MAX, NV)),
        (S_NINF, same(MIN, NV)),
        (S_MAX, same(MAX, NV)),
        (S_NMAX, same(MIN, NV)),
        // NaN of either sign saturates to the maximum.
        (S_QNAN, same(MAX, NV)),
        (S_NQNAN, same(MAX, NV)),
        (S_SNAN, same(MAX, NV)),
        (S_NSNAN, same(MAX, NV)),
    ];
    for &(a, want) in rows_s {
        check_modes(&format!("to_i32_s({a:#x})"), |rm| to_i32_s(a, rm), want);
    }
    let rows_d: &[(u64, PerMode<i32>)] = &[
        // 2^31 - 1 exactly.
        (0x41df_ffff_ffc0_0000, same(MAX, 0)),
        // 2^31 - 0.5: rounding up leaves the range.
        (
            0x41df_ffff_ffe0_0000,
            [(MAX, NV), (MAX, NX), (MAX, NX), (MAX, NV), (MAX, NV)],
        ),
        // 2^31
        (0x41e0_0000_0000_0000, same(MAX, NV)),
        // -2^31 exactly.
        (0xc1e0_0000_0000_0000, same(MIN, 0)),
        // -(2^31 + 0.5): a tie between -2^31 (even) and -2^31 - 1.
        (
            0xc1e0_0000_0010_0000,
            [(MIN, NX), (MIN, NX), (MIN, NV), (MIN, NX), (MIN, NV)],
        ),
        // -1.5
        (
            0xbff8_0000_0000_0000,
            [(-2, NX), (-1, NX), (-2, NX), (-1, NX), (-2, NX)],
        ),
        (D_QNAN, same(MAX, NV)),
        (D_NQNAN, same(MAX, NV)),
        (D_NINF, same(MIN, NV)),
        (D_PINF, same(MAX, NV)),
        (D_N0, same(0, 0)),
    ];
    for &(a, want) in rows_d {
        check_modes(&format!("to_i32_d({a:#x})"), |rm| to_i32_d(a, rm), want);
    }
}

#[test]
fn to_u32_table() {
    const MAX: u32 = u32::MAX;
    let rows_s: &[(u32, PerMode<u32>)] = &[
        (S_P0, same(0, 0)),
        (S_N0, same(0, 0)),
        (S_ONE, same(1, 0)),
        // -1: negative, invalid, 0.
        (S_NONE, same(0, NV)),
        // -0.3 (0xbe99999a): rounds to 0 except downwards.
        (0xbe99_999a, [(0, NX), (0, NX), (0, NV), (0, NX), (0, NX)]),
        // -0.5: RNE gives 0 (even), RMM and RDN give -1 (invalid).
        (0xbf00_0000, [(0, NX), (0, NX), (0, NV), (0, NX), (0, NV)]),
        (0x3fc0_0000, [(2, NX), (1, NX), (1, NX), (2, NX), (2, NX)]),
        // 2^32 - 256, the largest single below 2^32.
        (0x4f7f_ffff, same(4_294_967_040, 0)),
        // 2^31 fits unsigned.
        (0x4f00_0000, same(0x8000_0000, 0)),
        // 2^32: out of range.
        (0x4f80_0000, same(MAX, NV)),
        (S_PINF, same(MAX, NV)),
        (S_NINF, same(0, NV)),
        (S_QNAN, same(MAX, NV)),
        (S_NQNAN, same(MAX, NV)),
        (S_SNAN, same(MAX, NV)),
    ];
    for &(a, want) in rows_s {
        check_modes(&format!("to_u32_s({a:#x})"), |rm| to_u32_s(a, rm), want);
    }
    let rows_d: &[(u64, PerMode<u32>)] = &[
        // 2^32 - 1 exactly.
        (0x41ef_ffff_ffe0_0000, same(MAX, 0)),
        // 2^32 - 0.5
        (
            0x41ef_ffff_fff0_0000,
            [(MAX, NV), (MAX, NX), (MAX, NX), (MAX, NV), (MAX, NV)],
        ),
        (0x41f0_0000_0000_0000, same(MAX, NV)),
        (D_NONE, same(0, NV)),
        // -0.5
        (
            0xbfe0_0000_0000_0000,
            [(0, NX), (0, NX), (0, NV), (0, NX), (0, NV)],
        ),
        // the smallest negative subnormal: rounds to 0 unless downwards.
        (
            0x8000_0000_0000_0001,
            [(0, NX), (0, NX), (0, NV), (0, NX), (0, NX)],
        ),
        (D_QNAN, same(MAX, NV)),
        (D_NINF, same(0, NV)),
    ];
    for &(a, want) in rows_d {
        check_modes(&format!("to_u32_d({a:#x})"), |rm| to_u32_d(a, rm), want);
    }
}

#[test]
fn to_i64_table() {
    const MAX: i64 = i64::MAX;
    const MIN: i64 = i64::MIN;
    let rows_s: &[(u32, PerMode<i64>)] = &[
        (S_NONE, same(-1, 0)),
        (
            0xc020_0000,
            [(-2, NX), (-2, NX), (-3, NX), (-2, NX), (-3, NX)],
        ),
        // 2^31 fits in 64 bits.
        (0x4f00_0000, same(1 << 31, 0)),
        // 2^63 - 2^39, the largest single below 2^63.
        (0x5eff_ffff, same(0x7fff_ff80_0000_0000, 0)),
        // 2^63
        (0x5f00_0000, same(MAX, NV)),
        // -2^63
        (0xdf00_0000, same(MIN, 0)),
        (0xdf00_0001, same(MIN, NV)),
        (S_QNAN, same(MAX, NV)),
        (S_NSNAN, same(MAX, NV)),
        (S_NINF, same(MIN, NV)),
    ];
    for &(a, want) in rows_s {
        check_modes(&format!("to_i64_s({a:#x})"), |rm| to_i64_s(a, rm), want);
    }
    let rows_d: &[(u64, PerMode<i64>)] = &[
        // 2^63 - 1024, the largest double below 2^63.
        (0x43df_ffff_ffff_ffff, same(0x7fff_ffff_ffff_fc00, 0)),
        (0x43e0_0000_0000_0000, same(MAX, NV)),
        (0xc3e0_0000_0000_0000, same(MIN, 0)),
        // -(2^63 + 2048)
        (0xc3e0_0000_0000_0001, same(MIN, NV)),
        // 2^53 + 1 is not a double; 2^53 + 2 is, exactly.
        (0x4340_0000_0000_0001, same((1 << 53) + 2, 0)),
        (
            0x3ff8_0000_0000_0000,
            [(2, NX), (1, NX), (1, NX), (2, NX), (2, NX)],
        ),
        (D_QNAN, same(MAX, NV)),
        (D_PINF, same(MAX, NV)),
        (D_NINF, same(MIN, NV)),
    ];
    for &(a, want) in rows_d {
        check_modes(&format!("to_i64_d({a:#x})"), |rm| to_i64_d(a, rm), want);
    }
}

#[test]
fn to_u64_table() {
    const MAX: u64 = u64::MAX;
    let rows_s: &[(u32, PerMode<u64>)] = &[
        (S_NONE, same(0, NV)),
        (0xbe99_999a, [(0, NX), (0, NX), (0, NV), (0, NX), (0, NX)]),
        (0xbf00_0000, [(0, NX), (0, NX), (0, NV), (0, NX), (0, NV)]),
        // 2^63 fits unsigned.
        (0x5f00_0000, same(1 << 63, 0)),
        // 2^64 - 2^40, the largest single below 2^64.
        (0x5f7f_ffff, same(0xffff_ff00_0000_0000, 0)),
        // 2^64
        (0x5f80_0000, same(MAX, NV)),
        (S_PINF, same(MAX, NV)),
        (S_NINF, same(0, NV)),
        (S_QNAN, same(MAX, NV)),
        (S_NQNAN, same(MAX, NV)),
    ];
    for &(a, want) in rows_s {
        check_modes(&format!("to_u64_s({a:#x})"), |rm| to_u64_s(a, rm), want);
    }
    let rows_d: &[(u64, PerMode<u64>)] = &[
        // 2^64 - 2048, the largest double below 2^64.
        (0x43ef_ffff_ffff_ffff, same(0xffff_ffff_ffff_f800, 0)),
        (0x43f0_0000_0000_0000, same(MAX, NV)),
        (D_NONE, same(0, NV)),
        (
            0xbfe0_0000_0000_0000,
            [(0, NX), (0, NX), (0, NV), (0, NX), (0, NV)],
        ),
        (D_N0, same(0, 0)),
        (D_QNAN, same(MAX, NV)),
        (D_SNAN, same(MAX, NV)),
        (D_NINF, same(0, NV)),
    ];
    for &(a, want) in rows_d {
        check_modes(&format!("to_u64_d({a:#x})"), |rm| to_u64_d(a, rm), want);
    }
}

// ---------------------------------------------------------------- from int

#[test]
fn from_int_s_table() {
    // 2^24 + 1: a tie between 2^24 (even) and 2^24 + 2.
    let tie_up = [
        (0x4b80_0000, NX),
        (0x4b80_0000, NX),
        (0x4b80_0000, NX),
        (0x4b80_0001, NX),
        (0x4b80_0001, NX),
    ];
    check_modes(
        "from_i32_s(2^24+1)",
        |rm| from_i32_s(16_777_217, rm),
        tie_up,
    );
    check_modes(
        "from_u32_s(2^24+1)",
        |rm| from_u32_s(16_777_217, rm),
        tie_up,
    );
    check_modes(
        "from_i64_s(2^24+1)",
        |rm| from_i64_s(16_777_217, rm),
        tie_up,
    );
    check_modes(
        "from_u64_s(2^24+1)",
        |rm| from_u64_s(16_777_217, rm),
        tie_up,
    );
    check_modes(
        "from_i32_s(-(2^24+1))",
        |rm| from_i32_s(-16_777_217, rm),
        [
            (0xcb80_0000, NX),
            (0xcb80_0000, NX),
            (0xcb80_0001, NX),
            (0xcb80_0000, NX),
            (0xcb80_0001, NX),
        ],
    );
    // 2^24 + 3: a tie between 2^24 + 2 and 2^24 + 4 (even).
    check_modes(
        "from_i32_s(2^24+3)",
        |rm| from_i32_s(16_777_219, rm),
        [
            (0x4b80_0002, NX),
            (0x4b80_0001, NX),
            (0x4b80_0001, NX),
            (0x4b80_0002, NX),
            (0x4b80_0002, NX),
        ],
    );
    check_modes("from_i32_s(0)", |rm| from_i32_s(0, rm), same(S_P0, 0));
    check_modes("from_i32_s(-1)", |rm| from_i32_s(-1, rm), same(S_NONE, 0));
    check_modes(
        "from_i32_s(MIN)",
        |rm| from_i32_s(i32::MIN, rm),
        same(0xcf00_0000, 0),
    );
    check_modes(
        "from_i32_s(MAX)",
        |rm| from_i32_s(i32::MAX, rm),
        [
            (0x4f00_0000, NX),
            (0x4eff_ffff, NX),
            (0x4eff_ffff, NX),
            (0x4f00_0000, NX),
            (0x4f00_0000, NX),
        ],
    );
    check_modes(
        "from_u32_s(MAX)",
        |rm| from_u32_s(u32::MAX, rm),
        [
            (0x4f80_0000, NX),
            (0x4f7f_ffff, NX),
            (0x4f7f_ffff, NX),
            (0x4f80_0000, NX),
            (0x4f80_0000, NX),
        ],
    );
    check_modes(
        "from_i64_s(MIN)",
        |rm| from_i64_s(i64::MIN, rm),
        same(0xdf00_0000, 0),
    );
    check_modes(
        "from_u64_s(MAX)",
        |rm| from_u64_s(u64::MAX, rm),
        [
            (0x5f80_0000, NX),
            (0x5f7f_ffff, NX),
            (0x5f7f_ffff, NX),
            (0x5f80_0000, NX),
            (0x5f80_0000, NX),
        ],
    );
    check_modes(
        "from_u64_s(2^63)",
        |rm| from_u64_s(1 << 63, rm),
        same(0x5f00_0000, 0),
    );
}

#[test]
fn from_int_d_table() {
    // 32-bit integers are always exact in double.
    for rm in MODES {
        assert_eq!(from_i32_d(i32::MIN, rm), (0xc1e0_0000_0000_0000, 0));
        assert_eq!(from_i32_d(i32::MAX, rm), (0x41df_ffff_ffc0_0000, 0));
        assert_eq!(from_i32_d(0, rm), (D_P0, 0));
        assert_eq!(from_i32_d(-1, rm), (D_NONE, 0));
        assert_eq!(from_u32_d(u32::MAX, rm), (0x41ef_ffff_ffe0_0000, 0));
        assert_eq!(from_u32_d(0, rm), (D_P0, 0));
        assert_eq!(from_i64_d(i64::MIN, rm), (0xc3e0_0000_0000_0000, 0));
        assert_eq!(from_u64_d(1 << 63, rm), (0x43e0_0000_0000_0000, 0));
        assert_eq!(from_i64_d(0, rm), (D_P0, 0));
    }
    // 2^53 + 1: a tie.
    let tie = [
        (0x4340_0000_0000_0000, NX),
        (0x4340_0000_0000_0000, NX),
        (0x4340_0000_0000_0000, NX),
        (0x4340_0000_0000_0001, NX),
        (0x4340_0000_0000_0001, NX),
    ];
    check_modes(
        "from_i64_d(2^53+1)",
        |rm| from_i64_d((1 << 53) + 1, rm),
        tie,
    );
    check_modes(
        "from_u64_d(2^53+1)",
        |rm| from_u64_d((1 << 53) + 1, rm),
        tie,
    );
    check_modes(
        "from_i64_d(-(2^53+1))",
        |rm| from_i64_d(-(1 << 53) - 1, rm),
        [
            (0xc340_0000_0000_0000, NX),
            (0xc340_0000_0000_0000, NX),
            (0xc340_0000_0000_0001, NX),
            (0xc340_0000_0000_0000, NX),
            (0xc340_0000_0000_0001, NX),
        ],
    );
    check_modes(
        "from_i64_d(MAX)",
        |rm| from_i64_d(i64::MAX, rm),
        [
            (0x43e0_0000_0000_0000, NX),
            (0x43df_ffff_ffff_ffff, NX),
            (0x43df_ffff_ffff_ffff, NX),
            (0x43e0_0000_0000_0000, NX),
            (0x43e0_0000_0000_0000, NX),
        ],
    );
    check_modes(
        "from_u64_d(MAX)",
        |rm| from_u64_d(u64::MAX, rm),
        [
            (0x43f0_0000_0000_0000, NX),
            (0x43ef_ffff_ffff_ffff, NX),
            (0x43ef_ffff_ffff_ffff, NX),
            (0x43f0_0000_0000_0000, NX),
            (0x43f0_0000_0000_0000, NX),
        ],
    );
}

// ---------------------------------------------------------------- s <-> d

#[test]
fn s_to_d_table() {
    let rows: &[(u32, u64, u8)] = &[
        (S_ONE, D_ONE, 0),
        (S_N0, D_N0, 0),
        (S_P0, D_P0, 0),
        (S_PINF, D_PINF, 0),
        (S_NINF, D_NINF, 0),
        // 2^-149 is a normal double.
        (S_MIN_SUB, 0x36a0_0000_0000_0000, 0),
        (S_MAX, 0x47ef_ffff_e000_0000, 0),
        (S_QNAN, CD, 0),
        (S_NQNAN, CD, 0),
        (S_QNAN_PAYLOAD, CD, 0),
        (S_SNAN, CD, NV),
        (S_NSNAN, CD, NV),
    ];
    for &(a, d, f) in rows {
        assert_eq!(s_to_d(a), (d, f), "s_to_d({a:#x})");
    }
}

#[test]
fn d_to_s_table() {
    let rows: &[(u64, PerMode<u32>)] = &[
        (D_ONE, same(S_ONE, 0)),
        (D_N0, same(S_N0, 0)),
        (D_NINF, same(S_NINF, 0)),
        (D_QNAN_PAYLOAD, same(CS, 0)),
        (D_NQNAN, same(CS, 0)),
        (D_SNAN, same(CS, NV)),
        (D_NSNAN, same(CS, NV)),
        // 1 + 2^-24: a tie.
        (
            0x3ff0_0000_1000_0000,
            [
                (S_ONE, NX),
                (S_ONE, NX),
                (S_ONE, NX),
                (0x3f80_0001, NX),
                (0x3f80_0001, NX),
            ],
        ),
        // 2^128: overflow.
        (
            0x47f0_0000_0000_0000,
            [
                (S_PINF, OF | NX),
                (S_MAX, OF | NX),
                (S_MAX, OF | NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        (
            0xc7f0_0000_0000_0000,
            [
                (S_NINF, OF | NX),
                (S_NMAX, OF | NX),
                (S_NINF, OF | NX),
                (S_NMAX, OF | NX),
                (S_NINF, OF | NX),
            ],
        ),
        // max + half an ulp = (2 - 2^-24) * 2^127: overflows only when
        // rounding to nearest or up; truncation gives max, merely inexact.
        (
            0x47ef_ffff_f000_0000,
            [
                (S_PINF, OF | NX),
                (S_MAX, NX),
                (S_MAX, NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        // The largest double: overflows in every mode.
        (
            D_MAX,
            [
                (S_PINF, OF | NX),
                (S_MAX, OF | NX),
                (S_MAX, OF | NX),
                (S_PINF, OF | NX),
                (S_PINF, OF | NX),
            ],
        ),
        // 2^-126 exactly, and 2^-127 (a single subnormal), exact.
        (0x3810_0000_0000_0000, same(S_MIN_NORM, 0)),
        (0x3800_0000_0000_0000, same(0x0040_0000, 0)),
        // 2^-126 - 2^-151: with an unbounded exponent this is a tie between
        // 2^-126 - 2^-150 (odd) and 2^-126 (even). Nearest-even and
        // away reach 2^-126 (not tiny: no UF); down and to zero stay tiny.
        (
            0x380f_ffff_f000_0000,
            [
                (S_MIN_NORM, NX),
                (S_MAX_SUB, UF | NX),
                (S_MAX_SUB, UF | NX),
                (S_MIN_NORM, NX),
                (S_MIN_NORM, NX),
            ],
        ),
        // 2^-126 - 3*2^-152: unbounded rounding to nearest gives
        // 2^-126 - 2^-150 (tiny: UF) although the subnormal result rounds
        // to 2^-126 itself. This is tininess after rounding, RISC-V's choice.
        (
            0x380f_ffff_e800_0000,
            [
                (S_MIN_NORM, UF | NX),
                (S_MAX_SUB, UF | NX),
                (S_MAX_SUB, UF | NX),
                (S_MIN_NORM, NX),
                (S_MIN_NORM, UF | NX),
            ],
        ),
        // 2^-150: a tie between 0 and 2^-149.
        (
            0x3690_0000_0000_0000,
            [
                (S_P0, UF | NX),
                (S_P0, UF | NX),
                (S_P0, UF | NX),
                (S_MIN_SUB, UF | NX),
                (S_MIN_SUB, UF | NX),
            ],
        ),
        // The smallest double subnormal, negative.
        (
            0x8000_0000_0000_0001,
            [
                (S_N0, UF | NX),
                (S_N0, UF | NX),
                (0x8000_0001, UF | NX),
                (S_N0, UF | NX),
                (S_N0, UF | NX),
            ],
        ),
    ];
    for &(a, want) in rows {
        check_modes(&format!("d_to_s({a:#x})"), |rm| d_to_s(a, rm), want);
    }
}

// ---------------------------------------------------------------- misc

#[test]
fn rm_from_bits() {
    assert_eq!(Rm::from_bits(0), Some(Rm::Rne));
    assert_eq!(Rm::from_bits(4), Some(Rm::Rmm));
    for bad in 5..8 {
        assert_eq!(Rm::from_bits(bad), None);
    }
}

/// SoftFloat's mode and flags are per thread: harts on different threads
/// using different modes must not see each other's.
#[test]
fn threads_do_not_share_state() {
    let handles: Vec<_> = MODES
        .iter()
        .map(|&rm| {
            std::thread::spawn(move || {
                for _ in 0..20_000 {
                    let want_div = if matches!(rm, Rm::Rtz | Rm::Rdn) {
                        0x3eaa_aaaa
                    } else {
                        0x3eaa_aaab
                    };
                    assert_eq!(div_s(S_ONE, S_THREE, rm), (want_div, NX));
                    assert_eq!(add_s(S_ONE, S_TWO, rm), (S_THREE, 0));
                    assert_eq!(div_s(S_ONE, S_P0, rm), (S_PINF, DZ));
                }
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().is_ok());
    }
}

// ---------------------------------------------------------------- properties

fn rm_strategy() -> impl Strategy<Value = Rm> {
    prop::sample::select(MODES.to_vec())
}

/// Bit patterns biased towards the interesting places: zeros, subnormals,
/// the normal boundaries, infinities and NaNs of both kinds.
fn bits_s() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => any::<u32>(),
        1 => (any::<bool>(), 0u32..4, 0u32..0x80_0000).prop_map(|(s, e, f)| {
            let exp = [0u32, 1, 0xfe, 0xff][e as usize];
            (u32::from(s) << 31) | (exp << 23) | f
        }),
        1 => prop::sample::select(vec![
            S_P0, S_N0, S_ONE, S_NONE, S_PINF, S_NINF, S_MAX, S_NMAX, S_MIN_NORM,
            S_MIN_SUB, S_MAX_SUB, S_QNAN, S_NQNAN, S_SNAN, S_NSNAN,
        ]),
    ]
}

fn bits_d() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => any::<u64>(),
        1 => (any::<bool>(), 0u64..4, 0u64..(1 << 52)).prop_map(|(s, e, f)| {
            let exp = [0u64, 1, 0x7fe, 0x7ff][e as usize];
            (u64::from(s) << 63) | (exp << 52) | f
        }),
        1 => prop::sample::select(vec![
            D_P0, D_N0, D_ONE, D_NONE, D_PINF, D_NINF, D_MAX, D_NMAX, D_MIN_NORM,
            D_MIN_SUB, D_MAX_SUB, D_QNAN, D_NQNAN, D_SNAN, D_NSNAN,
        ]),
    ]
}

/// The host's RNE result as our bits: any NaN becomes the canonical NaN.
fn host_s(x: f32) -> u32 {
    if x.is_nan() {
        CS
    } else {
        x.to_bits()
    }
}

fn host_d(x: f64) -> u64 {
    if x.is_nan() {
        CD
    } else {
        x.to_bits()
    }
}

fn is_snan_s_(a: u32) -> bool {
    class_s(a) == 1 << 8
}

fn is_snan_d_(a: u64) -> bool {
    class_d(a) == 1 << 8
}

/// The flags mul_s must raise in RNE, from the exact product in double
/// (a product of two singles always is exact there).
fn mul_s_flags_oracle(a: u32, b: u32, r: u32) -> u8 {
    let (x, y) = (f32::from_bits(a), f32::from_bits(b));
    if x.is_nan() || y.is_nan() {
        return if is_snan_s_(a) || is_snan_s_(b) {
            NV
        } else {
            0
        };
    }
    if (x.is_infinite() && y == 0.0) || (y.is_infinite() && x == 0.0) {
        return NV;
    }
    if x.is_infinite() || y.is_infinite() {
        return 0;
    }
    let exact = f64::from(x) * f64::from(y);
    let got = f64::from(f32::from_bits(r));
    let mut flags = 0;
    if got != exact {
        flags |= NX;
    }
    if f32::from_bits(r).is_infinite() {
        flags |= OF;
    }
    // Tininess after rounding: round the exact value to 24 bits with an
    // unbounded exponent (scaling by 2^64 keeps it in the normal range) and
    // see whether it is below 2^-126.
    let scaled = (exact * 2f64.powi(64)) as f32;
    if exact != 0.0 && scaled.abs() < 2f32.powi(-62) && flags & NX != 0 {
        flags |= UF;
    }
    flags
}

/// The host's saturating `as` cast is RISC-V's round-towards-zero
/// conversion for every non-NaN input; NV when the truncated value is out
/// of range, NX when in range but not an integer.
fn rtz_flags(x: f64, lo: f64, hi: f64) -> u8 {
    let t = x.trunc();
    if !(lo..=hi).contains(&t) {
        NV
    } else if t != x {
        NX
    } else {
        0
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn arith_s_matches_host_rne(a in bits_s(), b in bits_s()) {
        let (x, y) = (f32::from_bits(a), f32::from_bits(b));
        prop_assert_eq!(add_s(a, b, Rm::Rne).0, host_s(x + y));
        prop_assert_eq!(sub_s(a, b, Rm::Rne).0, host_s(x - y));
        prop_assert_eq!(mul_s(a, b, Rm::Rne).0, host_s(x * y));
        prop_assert_eq!(div_s(a, b, Rm::Rne).0, host_s(x / y));
        prop_assert_eq!(sqrt_s(a, Rm::Rne).0, host_s(x.sqrt()));
        let (r, f) = mul_s(a, b, Rm::Rne);
        prop_assert_eq!(f, mul_s_flags_oracle(a, b, r));
    }

    #[test]
    fn arith_d_matches_host_rne(a in bits_d(), b in bits_d()) {
        let (x, y) = (f64::from_bits(a), f64::from_bits(b));
        prop_assert_eq!(add_d(a, b, Rm::Rne).0, host_d(x + y));
        prop_assert_eq!(sub_d(a, b, Rm::Rne).0, host_d(x - y));
        prop_assert_eq!(mul_d(a, b, Rm::Rne).0, host_d(x * y));
        prop_assert_eq!(div_d(a, b, Rm::Rne).0, host_d(x / y));
        prop_assert_eq!(sqrt_d(a, Rm::Rne).0, host_d(x.sqrt()));
    }

    #[test]
    fn fma_matches_host_rne(a in bits_s(), b in bits_s(), c in bits_s(),
                            p in bits_d(), q in bits_d(), r in bits_d()) {
        let (x, y, z) = (f32::from_bits(a), f32::from_bits(b), f32::from_bits(c));
        prop_assert_eq!(fma_s(a, b, c, Rm::Rne, false, false).0, host_s(x.mul_add(y, z)));
        prop_assert_eq!(fma_s(a, b, c, Rm::Rne, true, true).0, host_s((-x).mul_add(y, -z)));
        let (x, y, z) = (f64::from_bits(p), f64::from_bits(q), f64::from_bits(r));
        prop_assert_eq!(fma_d(p, q, r, Rm::Rne, false, true).0, host_d(x.mul_add(y, -z)));
        prop_assert_eq!(fma_d(p, q, r, Rm::Rne, true, false).0, host_d((-x).mul_add(y, z)));
    }

    /// Rounding modes bracket the exact result: down <= nearest <= up,
    /// towards zero is one of down/up, and every mode agrees when the
    /// nearest-even result is exact.
    #[test]
    fn modes_are_consistent(a in bits_d(), b in bits_d()) {
        let by_mode: Vec<(u64, u8)> = MODES.iter().map(|&rm| div_d(a, b, rm)).collect();
        let [rne, rtz, rdn, rup, rmm] = [0, 1, 2, 3, 4].map(|i| by_mode[i]);
        if rne.1 & NX == 0 {
            for m in &by_mode {
                prop_assert_eq!(*m, rne);
            }
        } else if rne.0 != CD {
            let v = |x: (u64, u8)| f64::from_bits(x.0);
            prop_assert!(v(rdn) <= v(rne) && v(rne) <= v(rup));
            prop_assert!(v(rdn) <= v(rmm) && v(rmm) <= v(rup));
            prop_assert!(rtz.0 == rdn.0 || rtz.0 == rup.0);
            prop_assert!(v(rtz).abs() <= v(rne).abs());
        }
    }

    #[test]
    fn compare_and_minmax_match_host(a in bits_s(), b in bits_s(), p in bits_d(), q in bits_d()) {
        let (x, y) = (f32::from_bits(a), f32::from_bits(b));
        let any_nan = x.is_nan() || y.is_nan();
        let snan = is_snan_s_(a) || is_snan_s_(b);
        prop_assert_eq!(eq_s(a, b), (x == y, if snan { NV } else { 0 }));
        prop_assert_eq!(lt_s(a, b), (x < y, if any_nan { NV } else { 0 }));
        prop_assert_eq!(le_s(a, b), (x <= y, if any_nan { NV } else { 0 }));
        let (mn, f) = min_s(a, b);
        prop_assert_eq!(f, if snan { NV } else { 0 });
        if !(x == 0.0 && y == 0.0) {
            prop_assert_eq!(mn, host_s(x.min(y)));
            prop_assert_eq!(max_s(a, b).0, host_s(x.max(y)));
        }
        let (x, y) = (f64::from_bits(p), f64::from_bits(q));
        let any_nan = x.is_nan() || y.is_nan();
        let snan = is_snan_d_(p) || is_snan_d_(q);
        prop_assert_eq!(eq_d(p, q), (x == y, if snan { NV } else { 0 }));
        prop_assert_eq!(lt_d(p, q), (x < y, if any_nan { NV } else { 0 }));
        prop_assert_eq!(le_d(p, q), (x <= y, if any_nan { NV } else { 0 }));
        if !(x == 0.0 && y == 0.0) {
            prop_assert_eq!(min_d(p, q).0, host_d(x.min(y)));
            prop_assert_eq!(max_d(p, q), (host_d(x.max(y)), if snan { NV } else { 0 }));
        }
    }

    #[test]
    fn rtz_conversions_match_host(a in bits_s(), p in bits_d()) {
        let x = f32::from_bits(a);
        if !x.is_nan() {
            let w = f64::from(x);
            prop_assert_eq!(to_i32_s(a, Rm::Rtz), (x as i32, rtz_flags(w, -2147483648.0, 2147483647.0)));
            prop_assert_eq!(to_u32_s(a, Rm::Rtz), (x as u32, rtz_flags(w, 0.0, 4294967295.0)));
            prop_assert_eq!(to_i64_s(a, Rm::Rtz), (x as i64, rtz_flags(w, -9223372036854775808.0, 9223372036854774784.0)));
            prop_assert_eq!(to_u64_s(a, Rm::Rtz), (x as u64, rtz_flags(w, 0.0, 18446744073709549568.0)));
        }
        let y = f64::from_bits(p);
        if !y.is_nan() {
            prop_assert_eq!(to_i32_d(p, Rm::Rtz), (y as i32, rtz_flags(y, -2147483648.0, 2147483647.0)));
            prop_assert_eq!(to_u32_d(p, Rm::Rtz), (y as u32, rtz_flags(y, 0.0, 4294967295.0)));
            prop_assert_eq!(to_i64_d(p, Rm::Rtz), (y as i64, rtz_flags(y, -9223372036854775808.0, 9223372036854774784.0)));
            prop_assert_eq!(to_u64_d(p, Rm::Rtz), (y as u64, rtz_flags(y, 0.0, 18446744073709549568.0)));
        }
    }

    #[test]
    fn int_to_float_matches_host(v in any::<i64>(), shift in 0u32..64) {
        // Shifting spreads the magnitudes over the whole range.
        let v = v >> shift;
        let nx = |exact: bool| if exact { 0 } else { NX };
        let s = v as f32;
        prop_assert_eq!(from_i64_s(v, Rm::Rne), (s.to_bits(), nx(s as i128 == i128::from(v))));
        let d = v as f64;
        prop_assert_eq!(from_i64_d(v, Rm::Rne), (d.to_bits(), nx(d as i128 == i128::from(v))));
        let u = v as u64;
        let s = u as f32;
        prop_assert_eq!(from_u64_s(u, Rm::Rne), (s.to_bits(), nx(s as i128 == i128::from(u))));
        let d = u as f64;
        prop_assert_eq!(from_u64_d(u, Rm::Rne), (d.to_bits(), nx(d as i128 == i128::from(u))));
        let w = v as i32;
        let s = w as f32;
        prop_assert_eq!(from_i32_s(w, Rm::Rne), (s.to_bits(), nx(s as i64 == i64::from(w))));
        prop_assert_eq!(from_i32_d(w, Rm::Rne), ((w as f64).to_bits(), 0));
        let uw = v as u32;
        let s = uw as f32;
        prop_assert_eq!(from_u32_s(uw, Rm::Rne), (s.to_bits(), nx(s as i64 == i64::from(uw))));
        prop_assert_eq!(from_u32_d(uw, Rm::Rne), ((uw as f64).to_bits(), 0));
    }

    #[test]
    fn format_conversions_match_host(a in bits_s(), p in bits_d()) {
        let x = f32::from_bits(a);
        let want_flags = if is_snan_s_(a) { NV } else { 0 };
        prop_assert_eq!(s_to_d(a), (host_d(f64::from(x)), want_flags));
        let y = f64::from_bits(p);
        let r = d_to_s(p, Rm::Rne).0;
        prop_assert_eq!(r, host_s(y as f32));
        // Round trip: a single widened and narrowed again is unchanged.
        if !x.is_nan() {
            for rm in MODES {
                prop_assert_eq!(d_to_s(s_to_d(a).0, rm), (a, 0));
            }
        }
    }

    #[test]
    fn class_has_one_bit_and_agrees_with_host(a in bits_s(), p in bits_d()) {
        let c = class_s(a);
        prop_assert_eq!(c.count_ones(), 1);
        prop_assert!(c < 1 << 10);
        let x = f32::from_bits(a);
        prop_assert_eq!(c & 0b0100_0010 != 0, x.is_normal());
        prop_assert_eq!(c & 0b0010_0100 != 0, x.is_subnormal());
        prop_assert_eq!(c & 0b0001_1000 != 0, x == 0.0);
        prop_assert_eq!(c & 0b1000_0001 != 0, x.is_infinite());
        prop_assert_eq!(c & 0b11_0000_0000 != 0, x.is_nan());
        let c = class_d(p);
        prop_assert_eq!(c.count_ones(), 1);
        let y = f64::from_bits(p);
        prop_assert_eq!(c & 0b0100_0010 != 0, y.is_normal());
        prop_assert_eq!(c & 0b0010_0100 != 0, y.is_subnormal());
        prop_assert_eq!(c & 0b11_0000_0000 != 0, y.is_nan());
        prop_assert_eq!(c & 0b0000_1111 != 0, y.is_sign_negative() && !y.is_nan());
    }

    /// Every function takes every input in every mode without panicking,
    /// raises only fflags bits, and any NaN it returns is canonical.
    #[test]
    fn total_and_canonical(a in bits_s(), b in bits_s(), c in bits_s(),
                           p in bits_d(), q in bits_d(), r in bits_d(),
                           rm in rm_strategy(), np in any::<bool>(), na in any::<bool>(),
                           i in any::<i64>()) {
        let nan_s = |v: u32| f32::from_bits(v).is_nan();
        let nan_d = |v: u64| f64::from_bits(v).is_nan();
        for (v, f) in [
            add_s(a, b, rm), sub_s(a, b, rm), mul_s(a, b, rm), div_s(a, b, rm),
            sqrt_s(a, rm), fma_s(a, b, c, rm, np, na), min_s(a, b), max_s(a, b),
            from_i32_s(i as i32, rm), from_u32_s(i as u32, rm), from_i64_s(i, rm),
            from_u64_s(i as u64, rm), d_to_s(p, rm),
        ] {
            prop_assert_eq!(f & !ALL_FLAGS, 0);
            prop_assert!(!nan_s(v) || v == CS);
        }
        for (v, f) in [
            add_d(p, q, rm), sub_d(p, q, rm), mul_d(p, q, rm), div_d(p, q, rm),
            sqrt_d(p, rm), fma_d(p, q, r, rm, np, na), min_d(p, q), max_d(p, q),
            from_i32_d(i as i32, rm), from_u32_d(i as u32, rm), from_i64_d(i, rm),
            from_u64_d(i as u64, rm), s_to_d(a),
        ] {
            prop_assert_eq!(f & !ALL_FLAGS, 0);
            prop_assert!(!nan_d(v) || v == CD);
        }
        let _ = (to_i32_s(a, rm), to_u32_s(a, rm), to_i64_s(a, rm), to_u64_s(a, rm));
        let _ = (to_i32_d(p, rm), to_u32_d(p, rm), to_i64_d(p, rm), to_u64_d(p, rm));
        let _ = (eq_s(a, b), lt_s(a, b), le_s(a, b), eq_d(p, q), lt_d(p, q), le_d(p, q));
    }
}

// ---------------------------------------------------------------- fast path

/// Doubles with short significands (so that sums, products, quotients and
/// roots are often exact) over the whole exponent range, the extremes
/// included.
fn short_d() -> impl Strategy<Value = u64> {
    (any::<bool>(), 0u64..0x800, any::<u64>(), 0u32..53).prop_map(|(s, e, f, keep)| {
        let frac = (f & ((1 << 52) - 1)) & !((1u64 << (52 - keep)) - 1);
        (u64::from(s) << 63) | (e << 52) | frac
    })
}

fn short_s() -> impl Strategy<Value = u32> {
    (any::<bool>(), 0u32..0x100, any::<u32>(), 0u32..24).prop_map(|(s, e, f, keep)| {
        let frac = (f & ((1 << 23) - 1)) & !((1u32 << (23 - keep)) - 1);
        (u32::from(s) << 31) | (e << 23) | frac
    })
}

/// Operand pairs whose results land near the fast path's limits (2^-1000,
/// the normal boundary, the largest finite value) or are exact.
fn pair_d() -> impl Strategy<Value = (u64, u64)> {
    prop_oneof![
        (bits_d(), bits_d()),
        (short_d(), short_d()),
        // Exponents that sum or differ to near the limits.
        (short_d(), 0u64..0x800).prop_map(|(a, e)| {
            let ea = (a >> 52) & 0x7ff;
            let eb = match e % 4 {
                0 => (1023 + 23 + (e % 8)).saturating_sub(ea), // product near 2^-1000
                1 => (2046 + (e % 3)).saturating_sub(ea),      // product near max
                2 => ea.saturating_sub(e % 60),                // sums with cancellation
                _ => (ea + 1023 - 1000 + (e % 5)).min(0x7fe),  // quotient near 2^-1000
            };
            (a, (eb.min(0x7fe) << 52) | (a & 0x800f_ffff_ffff_ffff))
        }),
        (short_d(), short_d())
            .prop_map(|(a, b)| (a, (a & !((1 << 52) - 1)) | (b & ((1 << 52) - 1)))),
    ]
}

fn pair_s() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        (bits_s(), bits_s()),
        (short_s(), short_s()),
        (short_s(), 0u32..0x100).prop_map(|(a, e)| {
            let ea = (a >> 23) & 0xff;
            let eb = match e % 4 {
                0 => (127 + 27 + (e % 8)).saturating_sub(ea),
                1 => (254 + (e % 3)).saturating_sub(ea),
                2 => ea.saturating_sub(e % 30),
                _ => (ea + 127 - 100 + (e % 5)).min(0xfe),
            };
            (a, (eb.min(0xfe) << 23) | (a & 0x807f_ffff))
        }),
        (short_s(), short_s())
            .prop_map(|(a, b)| (a, (a & !((1 << 23) - 1)) | (b & ((1 << 23) - 1)))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100_000))]

    /// The public functions (host fast path where it applies) agree bit for
    /// bit and flag for flag with SoftFloat alone, in every mode.
    #[test]
    fn fast_path_matches_softfloat_d((a, b) in pair_d(), rm in rm_strategy()) {
        prop_assert_eq!(add_d(a, b, rm), soft::add_d(a, b, rm));
        prop_assert_eq!(sub_d(a, b, rm), soft::sub_d(a, b, rm));
        prop_assert_eq!(mul_d(a, b, rm), soft::mul_d(a, b, rm));
        prop_assert_eq!(div_d(a, b, rm), soft::div_d(a, b, rm));
        prop_assert_eq!(sqrt_d(a, rm), soft::sqrt_d(a, rm));
        prop_assert_eq!(sqrt_d(b, rm), soft::sqrt_d(b, rm));
        prop_assert_eq!(eq_d(a, b), soft::eq_d(a, b));
        prop_assert_eq!(lt_d(a, b), soft::lt_d(a, b));
        prop_assert_eq!(le_d(a, b), soft::le_d(a, b));
        prop_assert_eq!(le_d(a, a), soft::le_d(a, a));
        prop_assert_eq!(to_i32_d(a, rm), soft::to_i32_d(a, rm));
        prop_assert_eq!(to_u32_d(a, rm), soft::to_u32_d(a, rm));
        prop_assert_eq!(to_i64_d(a, rm), soft::to_i64_d(a, rm));
        prop_assert_eq!(to_u64_d(a, rm), soft::to_u64_d(a, rm));
        prop_assert_eq!(d_to_s(a, rm), soft::d_to_s(a, rm));
        prop_assert_eq!(from_i64_d(a as i64, rm), soft::from_i64_d(a as i64, rm));
        prop_assert_eq!(from_u64_d(b, rm), soft::from_u64_d(b, rm));
        prop_assert_eq!(from_i32_d(a as i32, rm), soft::from_i32_d(a as i32, rm));
        prop_assert_eq!(from_u32_d(b as u32, rm), soft::from_u32_d(b as u32, rm));
    }

    #[test]
    fn fast_path_matches_softfloat_s((a, b) in pair_s(), rm in rm_strategy(), v in any::<i64>(), sh in 0u32..64) {
        prop_assert_eq!(add_s(a, b, rm), soft::add_s(a, b, rm));
        prop_assert_eq!(sub_s(a, b, rm), soft::sub_s(a, b, rm));
        prop_assert_eq!(mul_s(a, b, rm), soft::mul_s(a, b, rm));
        prop_assert_eq!(div_s(a, b, rm), soft::div_s(a, b, rm));
        prop_assert_eq!(sqrt_s(a, rm), soft::sqrt_s(a, rm));
        prop_assert_eq!(eq_s(a, b), soft::eq_s(a, b));
        prop_assert_eq!(lt_s(a, b), soft::lt_s(a, b));
        prop_assert_eq!(le_s(a, b), soft::le_s(a, b));
        prop_assert_eq!(to_i32_s(a, rm), soft::to_i32_s(a, rm));
        prop_assert_eq!(to_u32_s(a, rm), soft::to_u32_s(a, rm));
        prop_assert_eq!(to_i64_s(a, rm), soft::to_i64_s(a, rm));
        prop_assert_eq!(to_u64_s(a, rm), soft::to_u64_s(a, rm));
        prop_assert_eq!(s_to_d(a), soft::s_to_d(a));
        let v = v >> sh;
        prop_assert_eq!(from_i32_s(v as i32, rm), soft::from_i32_s(v as i32, rm));
        prop_assert_eq!(from_u32_s(v as u32, rm), soft::from_u32_s(v as u32, rm));
        prop_assert_eq!(from_i64_s(v, rm), soft::from_i64_s(v, rm));
        prop_assert_eq!(from_u64_s(v as u64, rm), soft::from_u64_s(v as u64, rm));
        prop_assert_eq!(from_i64_d(v, rm), soft::from_i64_d(v, rm));
        prop_assert_eq!(from_u64_d(v as u64, rm), soft::from_u64_d(v as u64, rm));
    }
}

/// Boundary values for the fast path's conditions, exhaustively paired.
#[test]
fn fast_path_boundaries() {
    let mut ds = vec![
        D_P0,
        D_N0,
        D_ONE,
        D_NONE,
        D_TWO,
        D_THREE,
        D_HALF,
        D_PINF,
        D_NINF,
        D_MAX,
        D_NMAX,
        D_MIN_NORM,
        D_MIN_SUB,
        D_MAX_SUB,
        D_QNAN,
        D_SNAN,
        0x3fef_ffff_ffff_ffff,
    ];
    // Around 2^-1000, 2^-1022, 2^1023 and the integer-conversion limits.
    for base in [
        0x0170_0000_0000_0000u64,
        0x0010_0000_0000_0000,
        0x7fe0_0000_0000_0000,
        0x41e0_0000_0000_0000,
        0x41f0_0000_0000_0000,
        0x43e0_0000_0000_0000,
        0x43f0_0000_0000_0000,
        0x3ff0_0000_0000_0000,
    ] {
        for delta in [0u64, 1, 2] {
            ds.push(base + delta);
            ds.push(base - delta.min(base));
            ds.push((base + delta) | D_N0);
        }
    }
    for &a in &ds {
        for &b in &ds {
            for rm in MODES {
                assert_eq!(
                    add_d(a, b, rm),
                    soft::add_d(a, b, rm),
                    "add_d {a:#x} {b:#x}"
                );
                assert_eq!(
                    sub_d(a, b, rm),
                    soft::sub_d(a, b, rm),
                    "sub_d {a:#x} {b:#x}"
                );
                assert_eq!(
                    mul_d(a, b, rm),
                    soft::mul_d(a, b, rm),
                    "mul_d {a:#x} {b:#x}"
                );
                assert_eq!(
                    div_d(a, b, rm),
                    soft::div_d(a, b, rm),
                    "div_d {a:#x} {b:#x}"
                );
            }
            assert_eq!(lt_d(a, b), soft::lt_d(a, b));
            assert_eq!(eq_d(a, b), soft::eq_d(a, b));
        }
        for rm in MODES {
            assert_eq!(sqrt_d(a, rm), soft::sqrt_d(a, rm), "sqrt_d {a:#x}");
            assert_eq!(d_to_s(a, rm), soft::d_to_s(a, rm), "d_to_s {a:#x}");
            assert_eq!(to_i32_d(a, rm), soft::to_i32_d(a, rm), "to_i32_d {a:#x}");
            assert_eq!(to_u32_d(a, rm), soft::to_u32_d(a, rm), "to_u32_d {a:#x}");
            assert_eq!(to_i64_d(a, rm), soft::to_i64_d(a, rm), "to_i64_d {a:#x}");
            assert_eq!(to_u64_d(a, rm), soft::to_u64_d(a, rm), "to_u64_d {a:#x}");
        }
    }
    let mut ss = vec![
        S_P0,
        S_N0,
        S_ONE,
        S_NONE,
        S_TWO,
        S_THREE,
        S_HALF,
        S_PINF,
        S_NINF,
        S_MAX,
        S_NMAX,
        S_MIN_NORM,
        S_MIN_SUB,
        S_MAX_SUB,
        S_QNAN,
        S_SNAN,
        0x3f7f_ffff,
    ];
    for base in [
        0x0d80_0000u32,
        0x0080_0000,
        0x7f00_0000,
        0x4f00_0000,
        0x4f80_0000,
        0x5f00_0000,
        0x5f80_0000,
        0x3f80_0000,
    ] {
        for delta in [0u32, 1, 2] {
            ss.push(base + delta);
            ss.push(base - delta);
            ss.push((base + delta) | S_N0);
        }
    }
    for &a in &ss {
        for &b in &ss {
            for rm in MODES {
                assert_eq!(
                    add_s(a, b, rm),
                    soft::add_s(a, b, rm),
                    "add_s {a:#x} {b:#x}"
                );
                assert_eq!(
                    sub_s(a, b, rm),
                    soft::sub_s(a, b, rm),
                    "sub_s {a:#x} {b:#x}"
                );
                assert_eq!(
                    mul_s(a, b, rm),
                    soft::mul_s(a, b, rm),
                    "mul_s {a:#x} {b:#x}"
                );
                assert_eq!(
                    div_s(a, b, rm),
                    soft::div_s(a, b, rm),
                    "div_s {a:#x} {b:#x}"
                );
            }
            assert_eq!(le_s(a, b), soft::le_s(a, b));
        }
        for rm in MODES {
            assert_eq!(sqrt_s(a, rm), soft::sqrt_s(a, rm), "sqrt_s {a:#x}");
            assert_eq!(to_i32_s(a, rm), soft::to_i32_s(a, rm), "to_i32_s {a:#x}");
            assert_eq!(to_u32_s(a, rm), soft::to_u32_s(a, rm), "to_u32_s {a:#x}");
            assert_eq!(to_i64_s(a, rm), soft::to_i64_s(a, rm), "to_i64_s {a:#x}");
            assert_eq!(to_u64_s(a, rm), soft::to_u64_s(a, rm), "to_u64_s {a:#x}");
        }
        assert_eq!(s_to_d(a), soft::s_to_d(a));
    }
    for v in [
        0i64,
        1,
        -1,
        i64::MIN,
        i64::MAX,
        (1 << 24) + 1,
        (1 << 53) + 1,
        -(1 << 53) - 1,
        i64::from(i32::MIN),
        i64::from(i32::MAX),
        i64::from(u32::MAX),
    ] {
        for rm in MODES {
            assert_eq!(from_i64_d(v, rm), soft::from_i64_d(v, rm));
            assert_eq!(from_u64_d(v as u64, rm), soft::from_u64_d(v as u64, rm));
            assert_eq!(from_i64_s(v, rm), soft::from_i64_s(v, rm));
            assert_eq!(from_u64_s(v as u64, rm), soft::from_u64_s(v as u64, rm));
            assert_eq!(from_i32_s(v as i32, rm), soft::from_i32_s(v as i32, rm));
            assert_eq!(from_u32_s(v as u32, rm), soft::from_u32_s(v as u32, rm));
            assert_eq!(from_i32_d(v as i32, rm), soft::from_i32_d(v as i32, rm));
            assert_eq!(from_u32_d(v as u32, rm), soft::from_u32_d(v as u32, rm));
        }
    }
}

/// A long differential run of the fast path against SoftFloat (a few
/// minutes): `cargo test -p rv64 --lib fpu::tests::fast_path_soak --
/// --ignored`. Set FPU_SOAK_ITERS to change the length.
#[test]
#[ignore]
fn fast_path_soak() {
    let iters: u64 = std::env::var("FPU_SOAK_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    // A random double: raw bits, or a short significand with an exponent
    // near one of the interesting places.
    let operand = |r: u64, r2: u64| -> u64 {
        match r % 4 {
            0 => r2,
            _ => {
                let keep = (r >> 8) % 53;
                let frac = (r2 & ((1 << 52) - 1)) & !((1u64 << (52 - keep)) - 1);
                let exp = match (r >> 16) % 6 {
                    0 => (r >> 24) % 0x800,
                    1 => 1023 + (r >> 24) % 8 - 4,
                    2 => 1023 - 1000 + (r >> 24) % 8 - 4,
                    3 => (r >> 24) % 8,
                    4 => 0x7ff - (r >> 24) % 8,
                    _ => 1023 + 20 + (r >> 24) % 48,
                };
                ((r >> 40) & 1) << 63 | (exp & 0x7ff) << 52 | frac
            }
        }
    };
    for _ in 0..iters {
        let (r1, r2, r3, r4) = (next(), next(), next(), next());
        let a = operand(r1, r2);
        let mut b = operand(r3, r4);
        if r3 & 0x100_0000_0000 != 0 {
            // Pair exponents so that products or quotients land near 2^-1000.
            let ea = (a >> 52) & 0x7ff;
            let eb = match r3 % 3 {
                0 => (1023 + 23 + r4 % 4).saturating_sub(ea),
                1 => (ea + 23 + r4 % 4).min(0x7fe),
                _ => ea,
            };
            b = (b & !(0x7ff << 52)) | (eb.min(0x7fe) << 52);
        }
        let rm = MODES[(r1 % 5) as usize];
        assert_eq!(
            add_d(a, b, rm),
            soft::add_d(a, b, rm),
            "add_d {a:#x} {b:#x}"
        );
        assert_eq!(
            mul_d(a, b, rm),
            soft::mul_d(a, b, rm),
            "mul_d {a:#x} {b:#x}"
        );
        assert_eq!(
            div_d(a, b, rm),
            soft::div_d(a, b, rm),
            "div_d {a:#x} {b:#x}"
        );
        assert_eq!(sqrt_d(a, rm), soft::sqrt_d(a, rm), "sqrt_d {a:#x}");
        assert_eq!(d_to_s(a, rm), soft::d_to_s(a, rm), "d_to_s {a:#x}");
        assert_eq!(to_i64_d(a, rm), soft::to_i64_d(a, rm), "to_i64_d {a:#x}");
        assert_eq!(to_u32_d(a, rm), soft::to_u32_d(a, rm), "to_u32_d {a:#x}");
        // Singles from the top halves, with exponents rebiased likewise.
        let s = |x: u64| -> u32 {
            let e = ((x >> 52) & 0x7ff) as i64 - 1023 + 127;
            let e = if ((x >> 52) & 0x7ff) == 0x7ff {
                0xff
            } else {
                e.clamp(0, 0xff) as u32
            };
            ((x >> 63) as u32) << 31 | e << 23 | ((x >> 29) as u32 & 0x7f_ffff)
        };
        let (x, y) = (s(a), s(b));
        assert_eq!(
            add_s(x, y, rm),
            soft::add_s(x, y, rm),
            "add_s {x:#x} {y:#x}"
        );
        assert_eq!(
            sub_s(x, y, rm),
            soft::sub_s(x, y, rm),
            "sub_s {x:#x} {y:#x}"
        );
        assert_eq!(
            mul_s(x, y, rm),
            soft::mul_s(x, y, rm),
            "mul_s {x:#x} {y:#x}"
        );
        assert_eq!(
            div_s(x, y, rm),
            soft::div_s(x, y, rm),
            "div_s {x:#x} {y:#x}"
        );
        assert_eq!(sqrt_s(x, rm), soft::sqrt_s(x, rm), "sqrt_s {x:#x}");
        assert_eq!(to_i32_s(x, rm), soft::to_i32_s(x, rm), "to_i32_s {x:#x}");
        assert_eq!(to_u64_s(x, rm), soft::to_u64_s(x, rm), "to_u64_s {x:#x}");
        assert_eq!(from_i64_s(a as i64, rm), soft::from_i64_s(a as i64, rm));
        assert_eq!(
            from_u64_d(b >> (r4 % 64), rm),
            soft::from_u64_d(b >> (r4 % 64), rm)
        );
    }
}

/// The fast path does take the everyday cases (else it only costs time).
#[test]
fn fast_path_applies_to_common_values() {
    assert_eq!(fast::add_d(D_ONE, D_TWO), Some((D_THREE, 0)));
    assert_eq!(
        fast::mul_d(D_TWO, D_THREE),
        Some((0x4018_0000_0000_0000, 0))
    );
    assert_eq!(
        fast::div_d(D_ONE, D_THREE),
        Some((0x3fd5_5555_5555_5555, NX))
    );
    assert_eq!(fast::sqrt_d(D_TWO), Some((0x3ff6_a09e_667f_3bcd, NX)));
    assert_eq!(fast::add_s(S_ONE, S_TWO), Some((S_THREE, 0)));
    assert_eq!(fast::div_s(S_ONE, S_THREE), Some((0x3eaa_aaab, NX)));
    assert_eq!(fast::lt_d(D_ONE, D_TWO), Some((true, 0)));
    assert_eq!(fast::to_i32_d_rtz(0x3ff8_0000_0000_0000), Some((1, NX)));
    assert_eq!(fast::d_to_s(D_ONE), Some((S_ONE, 0)));
    // And declines what it cannot answer exactly.
    assert_eq!(fast::mul_d(0x3fef_ffff_ffff_ffff, D_MIN_NORM), None);
    assert_eq!(fast::add_d(D_MAX, D_MAX), None);
    assert_eq!(fast::eq_d(D_QNAN, D_ONE), None);
}
