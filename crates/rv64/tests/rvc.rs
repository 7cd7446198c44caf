//! RV64C: every compressed form, checked three ways: real toolchain
//! encodings, equivalence with the 32-bit instruction it expands to, and
//! execution; plus the reserved/illegal encodings.
mod common;
use common::asm::*;
use common::*;
use rv64::decode::{decode16, decode32, Inst, Op};
use rv64::Exit;

fn q(op: u16, f3: u16) -> u16 {
    f3 << 13 | op
}
fn rp(r: u32) -> u16 {
    (r - 8) as u16
}
fn c_addi4spn(rd: u32, imm: u32) -> u16 {
    let imm = imm as u16;
    q(0, 0)
        | ((imm >> 4) & 3) << 11
        | ((imm >> 6) & 15) << 7
        | ((imm >> 2) & 1) << 6
        | ((imm >> 3) & 1) << 5
        | rp(rd) << 2
}
fn c_memd(f3: u16, r1: u32, r2: u32, off: u32) -> u16 {
    let o = off as u16;
    q(0, f3) | ((o >> 3) & 7) << 10 | rp(r1) << 7 | ((o >> 6) & 3) << 5 | rp(r2) << 2
}
fn c_memw(f3: u16, r1: u32, r2: u32, off: u32) -> u16 {
    let o = off as u16;
    q(0, f3)
        | ((o >> 3) & 7) << 10
        | rp(r1) << 7
        | ((o >> 2) & 1) << 6
        | ((o >> 6) & 1) << 5
        | rp(r2) << 2
}
fn c_ci(f3: u16, rd: u32, imm: i32) -> u16 {
    let i = imm as u16;
    q(1, f3) | ((i >> 5) & 1) << 12 | (rd as u16) << 7 | (i & 31) << 2
}
fn c_addi16sp(imm: i32) -> u16 {
    let i = imm as u16;
    q(1, 3)
        | ((i >> 9) & 1) << 12
        | 2 << 7
        | ((i >> 4) & 1) << 6
        | ((i >> 6) & 1) << 5
        | ((i >> 7) & 3) << 3
        | ((i >> 5) & 1) << 2
}
fn c_alu_imm(f2: u16, rd: u32, imm: i32) -> u16 {
    let i = imm as u16;
    q(1, 4) | ((i >> 5) & 1) << 12 | f2 << 10 | rp(rd) << 7 | (i & 31) << 2
}
fn c_alu(bit12: u16, f2: u16, rd: u32, rs2: u32) -> u16 {
    q(1, 4) | bit12 << 12 | 3 << 10 | rp(rd) << 7 | f2 << 5 | rp(rs2) << 2
}
fn c_j(off: i32) -> u16 {
    let o = off as u16;
    q(1, 5)
        | ((o >> 11) & 1) << 12
        | ((o >> 4) & 1) << 11
        | ((o >> 8) & 3) << 9
        | ((o >> 10) & 1) << 8
        | ((o >> 6) & 1) << 7
        | ((o >> 7) & 1) << 6
        | ((o >> 1) & 7) << 3
        | ((o >> 5) & 1) << 2
}
fn c_bz(f3: u16, rs1: u32, off: i32) -> u16 {
    let o = off as u16;
    q(1, f3)
        | ((o >> 8) & 1) << 12
        | ((o >> 3) & 3) << 10
        | rp(rs1) << 7
        | ((o >> 6) & 3) << 5
        | ((o >> 1) & 3) << 3
        | ((o >> 5) & 1) << 2
}
fn c_slli(rd: u32, sh: u32) -> u16 {
    let s = sh as u16;
    q(2, 0) | ((s >> 5) & 1) << 12 | (rd as u16) << 7 | (s & 31) << 2
}
fn c_ldsp(f3: u16, rd: u32, off: u32) -> u16 {
    let o = off as u16;
    q(2, f3) | ((o >> 5) & 1) << 12 | (rd as u16) << 7 | ((o >> 3) & 3) << 5 | ((o >> 6) & 7) << 2
}
fn c_lwsp(rd: u32, off: u32) -> u16 {
    let o = off as u16;
    q(2, 2) | ((o >> 5) & 1) << 12 | (rd as u16) << 7 | ((o >> 2) & 7) << 4 | ((o >> 6) & 3) << 2
}
fn c_cr(bit12: u16, r1: u32, r2: u32) -> u16 {
    q(2, 4) | bit12 << 12 | (r1 as u16) << 7 | (r2 as u16) << 2
}
fn c_sdsp(f3: u16, rs2: u32, off: u32) -> u16 {
    let o = off as u16;
    q(2, f3) | ((o >> 3) & 7) << 10 | ((o >> 6) & 7) << 7 | (rs2 as u16) << 2
}
fn c_swsp(rs2: u32, off: u32) -> u16 {
    let o = off as u16;
    q(2, 6) | ((o >> 2) & 15) << 9 | ((o >> 6) & 3) << 7 | (rs2 as u16) << 2
}

fn same(c: u16, full: u32) {
    let mut want: Inst = decode32(full);
    assert_ne!(want.op, Op::Illegal, "bad reference {full:#010x}");
    want.len = 2;
    let got = decode16(c);
    assert_eq!(
        (got.op, got.rd, got.rs1, got.rs2, got.imm),
        (want.op, want.rd, want.rs1, want.rs2, want.imm),
        "c {c:#06x} vs {full:#010x}"
    );
    assert_eq!(got.len, 2);
}

#[test]
fn toolchain_encodings() {
    same(0x1141, addi(SP, SP, -16));
    same(0x7139, addi(SP, SP, -64));
    same(0xfc06, sd(RA, SP, 56));
    same(0x0080, addi(S0, SP, 64));
    same(0x70e2, ld(RA, SP, 56));
    same(0x8082, jalr(ZERO, RA, 0));
    same(0x4501, addi(A0, ZERO, 0));
    same(0x853e, add(A0, ZERO, A5));
    assert_eq!(decode16(0x9002).op, Op::Ebreak);
}

#[test]
fn every_form_matches_its_expansion() {
    for &r in &[8u32, 9, 12, 15] {
        for &r2 in &[8u32, 10, 15] {
            for off in (0..256).step_by(8) {
                same(c_memd(3, r, r2, off), ld(r2, r, off as i32));
                same(c_memd(7, r, r2, off), sd(r2, r, off as i32));
                same(c_memd(1, r, r2, off), fld(r2, r, off as i32));
                same(c_memd(5, r, r2, off), fsd(r2, r, off as i32));
            }
            for off in (0..128).step_by(4) {
                same(c_memw(2, r, r2, off), lw(r2, r, off as i32));
                same(c_memw(6, r, r2, off), sw(r2, r, off as i32));
            }
            same(c_alu(0, 0, r, r2), sub(r, r, r2));
            same(c_alu(0, 1, r, r2), op(4, 0, r, r, r2));
            same(c_alu(0, 2, r, r2), op(6, 0, r, r, r2));
            same(c_alu(0, 3, r, r2), op(7, 0, r, r, r2));
            same(c_alu(1, 0, r, r2), subw(r, r, r2));
            same(c_alu(1, 1, r, r2), addw(r, r, r2));
        }
        for imm in (4..1024).step_by(4) {
            same(c_addi4spn(r, imm), addi(r, SP, imm as i32));
        }
        for sh in 0..64 {
            same(c_alu_imm(0, r, sh), srli(r, r, sh as u32));
            same(c_alu_imm(1, r, sh), srai(r, r, sh as u32));
        }
        for imm in -32..32 {
            same(c_alu_imm(2, r, imm), i(0x13, 7, r, r, imm));
        }
        for off in (-256..256).step_by(2) {
            same(c_bz(6, r, off), beq(r, ZERO, off));
            same(c_bz(7, r, off), bne(r, ZERO, off));
        }
    }
    for rd in 1..32u32 {
        for imm in -32..32 {
            same(c_ci(0, rd, imm), addi(rd, rd, imm));
            same(c_ci(1, rd, imm), addiw(rd, rd, imm));
            same(c_ci(2, rd, imm), addi(rd, ZERO, imm));
            if rd != 2 && imm != 0 {
                same(c_ci(3, rd, imm), lui(rd, imm << 12));
            }
        }
        for sh in 0..64 {
            same(c_slli(rd, sh), slli(rd, rd, sh));
        }
        for off in (0..512).step_by(8) {
            same(c_ldsp(3, rd, off), ld(rd, SP, off as i32));
            same(c_ldsp(1, rd, off), fld(rd, SP, off as i32));
            same(c_sdsp(7, rd, off), sd(rd, SP, off as i32));
            same(c_sdsp(5, rd, off), fsd(rd, SP, off as i32));
        }
        for off in (0..256).step_by(4) {
            same(c_lwsp(rd, off), lw(rd, SP, off as i32));
            same(c_swsp(rd, off), sw(rd, SP, off as i32));
        }
        same(c_cr(0, rd, 0), jalr(ZERO, rd, 0));
        same(c_cr(1, rd, 0), jalr(RA, rd, 0));
        for rs2 in 1..32 {
            same(c_cr(0, rd, rs2), add(rd, ZERO, rs2));
            same(c_cr(1, rd, rs2), add(rd, rd, rs2));
        }
    }
    for imm in (-512..512).step_by(16) {
        if imm != 0 {
            same(c_addi16sp(imm), addi(SP, SP, imm));
        }
    }
    for off in (-2048..2048).step_by(2) {
        same(c_j(off), jal(ZERO, off));
    }
    // hints: writes to x0 go nowhere
    same(c_ci(0, 0, 5), addi(ZERO, ZERO, 5));
    same(c_cr(0, 0, 5), add(ZERO, ZERO, 5));
}

#[test]
fn reserved_and_rv32_only_encodings_are_illegal() {
    for bits in [
        0x0000u16, // all zero
        c_addi4spn(8, 0),
        0x8000,        // quadrant 0, funct3 100
        c_ci(1, 0, 1), // c.addiw x0 (the RV32 c.jal slot)
        0x6081,        // c.lui nzimm = 0
        0x6101,        // c.addi16sp 0
        0x8002,        // c.jr x0
        0x4002,        // c.lwsp x0
        0x6002,        // c.ldsp x0
        c_alu(1, 2, 8, 9),
        c_alu(1, 3, 8, 9),
    ] {
        let i = decode16(bits);
        assert_eq!(i.op, Op::Illegal, "{bits:#06x}");
        assert_eq!(i.imm as u32, bits as u32);
    }
    // executing one reports the zero-extended bits with pc at it
    let mut env = Env::new(1);
    env.load_bytes(&bytes(&[W::C(c_ci(2, A0, 3)), W::C(0x0000)]));
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Illegal { bits: 0 });
    assert_eq!(h.pc(), CODE + 2);
    assert_eq!(h.instret(), 1);
}

#[test]
fn compressed_program_runs() {
    // sum 1..=10 with compressed instructions, a call and return, and
    // sp-relative stores/loads.
    let mut env = Env::new(1);
    let prog = [
        W::F(lui(SP, (DATA + 0x1000) as i32)), // sp = DATA + 4K
        W::C(c_addi16sp(-64)),                 // 4
        W::C(c_ci(2, A0, 0)),                  // 6: a0 = 0
        W::C(c_ci(2, A1, 10)),                 // 8: a1 = 10
        W::C(c_cr(1, A0, A1)),                 // 10: loop: a0 += a1
        W::C(c_ci(0, A1, -1)),                 // 12: a1 -= 1
        W::C(c_bz(7, A1, -4)),                 // 14: bnez a1, loop
        W::C(c_sdsp(7, A0, 56)),               // 16
        W::C(c_ldsp(3, A2, 56)),               // 18
        W::C(c_swsp(A0, 8)),                   // 20
        W::C(c_lwsp(A3, 8)),                   // 22
        W::C(c_addi4spn(S0, 16)),              // 24: s0 = sp + 16
        W::C(c_memd(7, S0, A0, 8)),            // 26: sd a0, 8(s0) (= sp+24)
        W::C(c_memd(3, S0, S1, 8)),            // 28: ld s1, 8(s0)
        W::C(c_slli(S1, 4)),                   // 30: s1 <<= 4
        W::C(c_j(6)),                          // 32 -> 38
        W::C(0x0000),                          // 34
        W::C(0x0000),                          // 36
        W::C(c_cr(0, A4, A0)),                 // 38: mv a4, a0
        W::F(ECALL),                           // 40
    ];
    env.load_bytes(&bytes(&prog));
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(1000), Exit::Ecall);
    assert_eq!(h.pc(), CODE + 40);
    assert_eq!(h.x(A0 as usize), 55);
    assert_eq!(h.x(A2 as usize), 55);
    assert_eq!(h.x(A3 as usize), 55);
    assert_eq!(h.x(S1 as usize), 55 << 4);
    assert_eq!(h.x(A4 as usize), 55);
    assert_eq!(h.x(SP as usize), DATA + 0x1000 - 64);
    assert_eq!(h.x(S0 as usize), DATA + 0x1000 - 48);
    // c.jalr links pc + 2
    let mut env = Env::new(1);
    let prog = [
        W::F(auipc(A0, 0)),
        W::C(c_ci(0, A0, 12)),
        W::C(c_cr(1, A0, 0)),
        W::C(0),
        W::C(0),
        W::F(ECALL),
    ];
    env.load_bytes(&bytes(&prog));
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(RA as usize), CODE + 8);
}
