//! F/D plumbing: NaN-boxing, sign injection, moves, loads/stores (incl.
//! compressed), rounding-mode selection and fflags accumulation. The
//! arithmetic itself is tested with the fpu module.
mod common;
use common::asm::*;
use common::*;
use rv64::Exit;

const ONE_D: u64 = 0x3ff0_0000_0000_0000;
const TWO_D: u64 = 0x4000_0000_0000_0000;
const ONE_S: u32 = 0x3f80_0000;
const QNAN_S: u32 = 0x7fc0_0000;

fn run_f(setup: &[(usize, u64)], xs: &[(usize, u64)], prog: &[u32]) -> rv64::Hart {
    let mut env = Env::new(1);
    let mut p = prog.to_vec();
    p.push(ECALL);
    env.load(&p);
    let mut h = env.hart(0);
    for &(i, v) in setup {
        h.set_f(i, v);
    }
    for &(i, v) in xs {
        h.set_x(i, v);
    }
    h.set_pc(CODE);
    assert_eq!(h.run(1000), Exit::Ecall);
    h
}

#[test]
fn moves_and_nan_boxing() {
    let h = run_f(
        &[(1, 0xffff_ffff_8000_0001), (2, 0x1234_5678_9abc_def0)],
        &[(10, 0xaaaa_aaaa_c000_0000)],
        &[
            fmv_x_w(11, 1), // sign-extends the low 32 bits
            fmv_x_w(12, 2), // no unboxing check: raw low bits
            fmv_w_x(3, 10), // boxes the low 32 bits
            fmv_x_d(13, 2),
            fmv_d_x(4, 10),
        ],
    );
    assert_eq!(h.x(11), 0xffff_ffff_8000_0001);
    assert_eq!(h.x(12), 0xffff_ffff_9abc_def0);
    assert_eq!(h.f(3), 0xffff_ffff_c000_0000);
    assert_eq!(h.x(13), 0x1234_5678_9abc_def0);
    assert_eq!(h.f(4), 0xaaaa_aaaa_c000_0000);
}

#[test]
fn sign_injection_single_unboxes() {
    let boxed = |v: u32| 0xffff_ffff_0000_0000 | v as u64;
    let h = run_f(
        &[
            (1, boxed(ONE_S)),
            (2, boxed(0x8000_0000)),
            (3, 0x0000_0000_3f80_0000),
        ],
        &[],
        &[
            fsgnj_s(4, 1, 2),  // -1.0
            fsgnjn_s(5, 1, 2), // +1.0
            fsgnjx_s(6, 2, 2), // sign 1 ^ 1 = +0
            fsgnj_s(7, 3, 1),  // improperly boxed -> canonical NaN, sign from +1
            fsgnjn_s(8, 1, 1), // fneg
            fsgnjx_s(9, 3, 2), // abs-like on NaN with sign flip
        ],
    );
    assert_eq!(h.f(4), boxed(0xbf80_0000));
    assert_eq!(h.f(5), boxed(ONE_S));
    assert_eq!(h.f(6), boxed(0));
    assert_eq!(h.f(7), boxed(QNAN_S));
    assert_eq!(h.f(8), boxed(0xbf80_0000));
    assert_eq!(h.f(9), boxed(QNAN_S | 0x8000_0000));
}

#[test]
fn sign_injection_double() {
    let h = run_f(
        &[(1, ONE_D), (2, 1 << 63)],
        &[],
        &[fsgnj_d(3, 1, 2), fsgnjn_d(4, 1, 2), fsgnjx_d(5, 3, 2)],
    );
    assert_eq!(h.f(3), ONE_D | 1 << 63);
    assert_eq!(h.f(4), ONE_D);
    assert_eq!(h.f(5), ONE_D);
}

#[test]
fn fp_loads_and_stores() {
    let mut p = li(A0, DATA);
    p.extend(li(A1, 0x4049_0fdb_4000_0000));
    p.extend([
        sd(A1, A0, 0),
        flw(1, A0, 4),
        fld(2, A0, 0),
        fsw(1, A0, 8),
        fsd(2, A0, 16),
        ld(A2, A0, 8),
        ld(A3, A0, 16),
    ]);
    // store a non-boxed register with fsw: the low 32 bits go out unchanged
    p.extend([fmv_d_x(3, A1), fsw(3, A0, 24), lwu(A4, A0, 24), ECALL]);
    let h = run_ok(&p);
    assert_eq!(h.f(1), 0xffff_ffff_4049_0fdb);
    assert_eq!(h.f(2), 0x4049_0fdb_4000_0000);
    assert_eq!(h.x(A2 as usize), 0x4049_0fdb);
    assert_eq!(h.x(A3 as usize), 0x4049_0fdb_4000_0000);
    assert_eq!(h.x(A4 as usize), 0x4000_0000);
}

#[test]
fn compressed_fp_loads_and_stores() {
    // c.fsdsp f1, 8(sp); c.fldsp f2, 8(sp); c.fsd f1, 16(s0); c.fld f8, 16(s0)
    let c_fsdsp = 0xa000u16 | (8 >> 3 & 7) << 10 | 1 << 2 | 2;
    let c_fldsp = 0x2000u16 | 2 << 7 | (8 >> 3 & 3) << 5 | 2;
    let c_fsd = 0xa000u16 | (16 >> 3 & 7) << 10 | 1 << 2; // rs1' = s0 (0), rs2' = f9 (1)
    let c_fld = 0x2000u16 | (16 >> 3 & 7) << 10; // rd' = f8
    let mut env = Env::new(1);
    env.load_bytes(&bytes(&[
        W::C(c_fsdsp),
        W::C(c_fldsp),
        W::C(c_fsd),
        W::C(c_fld),
        W::F(ECALL),
    ]));
    let mut h = env.hart(0);
    h.set_x(SP as usize, DATA);
    h.set_x(S0 as usize, DATA + 64);
    h.set_f(1, 0x1122_3344_5566_7788);
    h.set_f(9, 0x99aa_bbcc_ddee_ff00);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.f(2), 0x1122_3344_5566_7788);
    assert_eq!(h.f(8), 0x99aa_bbcc_ddee_ff00);
    assert_eq!(env.read_va(DATA + 8, 8), 0x1122_3344_5566_7788);
}

#[test]
fn fflags_accumulate_and_rounding_modes_apply() {
    // 1/0 -> DZ; 1/3 -> NX; flags accumulate; fcvt.w.d 2.5 with rtz/rup
    let three = 0x4008_0000_0000_0000u64;
    let two_half = 0x4004_0000_0000_0000u64;
    let h = run_f(
        &[(1, ONE_D), (2, 0), (3, three), (4, two_half)],
        &[],
        &[
            fdiv_d(5, 1, 2, 0),
            csrrs(A0, 0x001, ZERO),
            fdiv_d(6, 1, 3, 0),
            csrrs(A1, 0x001, ZERO),
            fcvt_w_d(A2, 4, 1), // rtz -> 2
            fcvt_w_d(A3, 4, 3), // rup -> 3
            fcvt_w_d(A4, 4, 0), // rne -> 2
            csrrwi(ZERO, 0x002, 3),
            fcvt_w_d(A5, 4, 7), // dyn = rup -> 3
        ],
    );
    assert_eq!(h.x(A0 as usize), 0x08);
    assert_eq!(h.x(A1 as usize), 0x09);
    assert_eq!(h.f(5), 0x7ff0_0000_0000_0000);
    assert_eq!(h.x(A2 as usize), 2);
    assert_eq!(h.x(A3 as usize), 3);
    assert_eq!(h.x(A4 as usize), 2);
    assert_eq!(h.x(A5 as usize), 3);
}

#[test]
fn single_ops_read_improperly_boxed_inputs_as_nan() {
    let boxed = |v: u32| 0xffff_ffff_0000_0000 | v as u64;
    let h = run_f(
        &[(1, ONE_S as u64), (2, boxed(ONE_S))],
        &[],
        &[
            fadd_s(3, 1, 2, 0),
            fclass_s(A0, 1),
            fclass_s(A1, 2),
            fadd_s(4, 2, 2, 0),
        ],
    );
    assert_eq!(h.f(3), boxed(QNAN_S), "result NaN-boxed canonical NaN");
    assert_eq!(h.x(A0 as usize), 1 << 9, "quiet NaN class");
    assert_eq!(h.x(A1 as usize), 1 << 6, "positive normal");
    assert_eq!(h.f(4), boxed(0x4000_0000));
}

#[test]
fn fma_compare_and_int_conversion() {
    let h = run_f(
        &[(1, TWO_D), (2, TWO_D), (3, ONE_D)],
        &[(10, (-7i64) as u64)],
        &[
            fmadd_d(4, 1, 2, 3, 0),
            feq_d(A1, 1, 2),
            feq_d(A2, 1, 3),
            fcvt_d_w(5, 10, 0),
        ],
    );
    assert_eq!(h.f(4), 0x4014_0000_0000_0000); // 5.0
    assert_eq!(h.x(A1 as usize), 1);
    assert_eq!(h.x(A2 as usize), 0);
    assert_eq!(h.f(5), 0xc01c_0000_0000_0000); // -7.0
}
