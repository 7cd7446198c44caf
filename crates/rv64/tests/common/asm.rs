//! A tiny RV64GC assembler: one function per encoding the tests need.
#![allow(dead_code)]

pub const ZERO: u32 = 0;
pub const RA: u32 = 1;
pub const SP: u32 = 2;
pub const T0: u32 = 5;
pub const T1: u32 = 6;
pub const T2: u32 = 7;
pub const S0: u32 = 8;
pub const S1: u32 = 9;
pub const A0: u32 = 10;
pub const A1: u32 = 11;
pub const A2: u32 = 12;
pub const A3: u32 = 13;
pub const A4: u32 = 14;
pub const A5: u32 = 15;

pub fn r(op: u32, f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn i(op: u32, f3: u32, rd: u32, rs1: u32, imm: i32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
pub fn s(op: u32, f3: u32, rs1: u32, rs2: u32, imm: i32) -> u32 {
    let imm = imm as u32;
    ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 31) << 7 | op
}
pub fn b(f3: u32, rs1: u32, rs2: u32, off: i32) -> u32 {
    let o = off as u32;
    ((o >> 12) & 1) << 31
        | ((o >> 5) & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | ((o >> 1) & 0xf) << 8
        | ((o >> 11) & 1) << 7
        | 0x63
}
pub fn u(op: u32, rd: u32, imm: i32) -> u32 {
    (imm as u32 & 0xfffff000) | rd << 7 | op
}
pub fn jal(rd: u32, off: i32) -> u32 {
    let o = off as u32;
    ((o >> 20) & 1) << 31
        | ((o >> 1) & 0x3ff) << 21
        | ((o >> 11) & 1) << 20
        | ((o >> 12) & 0xff) << 12
        | rd << 7
        | 0x6f
}
pub fn jalr(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x67, 0, rd, rs1, imm)
}
pub fn lui(rd: u32, imm: i32) -> u32 {
    u(0x37, rd, imm)
}
pub fn auipc(rd: u32, imm: i32) -> u32 {
    u(0x17, rd, imm)
}
pub fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 0, rd, rs1, imm)
}
pub fn slti(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 2, rd, rs1, imm)
}
pub fn sltiu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 3, rd, rs1, imm)
}
pub fn xori(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 4, rd, rs1, imm)
}
pub fn slli(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(0x13, 1, rd, rs1, sh as i32)
}
pub fn srli(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(0x13, 5, rd, rs1, sh as i32)
}
pub fn srai(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(0x13, 5, rd, rs1, (0x400 | sh) as i32)
}
pub fn addiw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x1b, 0, rd, rs1, imm)
}
pub fn slliw(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(0x1b, 1, rd, rs1, sh as i32)
}
pub fn srliw(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(0x1b, 5, rd, rs1, sh as i32)
}
pub fn sraiw(rd: u32, rs1: u32, sh: u32) -> u32 {
    i(0x1b, 5, rd, rs1, (0x400 | sh) as i32)
}
pub fn op(f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x33, f3, f7, rd, rs1, rs2)
}
pub fn opw(f3: u32, f7: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x3b, f3, f7, rd, rs1, rs2)
}
pub fn add(rd: u32, a: u32, b: u32) -> u32 {
    op(0, 0, rd, a, b)
}
pub fn sub(rd: u32, a: u32, b: u32) -> u32 {
    op(0, 0x20, rd, a, b)
}
pub fn sll(rd: u32, a: u32, b: u32) -> u32 {
    op(1, 0, rd, a, b)
}
pub fn srl(rd: u32, a: u32, b: u32) -> u32 {
    op(5, 0, rd, a, b)
}
pub fn sra(rd: u32, a: u32, b: u32) -> u32 {
    op(5, 0x20, rd, a, b)
}
pub fn sllw(rd: u32, a: u32, b: u32) -> u32 {
    opw(1, 0, rd, a, b)
}
pub fn srlw(rd: u32, a: u32, b: u32) -> u32 {
    opw(5, 0, rd, a, b)
}
pub fn sraw(rd: u32, a: u32, b: u32) -> u32 {
    opw(5, 0x20, rd, a, b)
}
pub fn addw(rd: u32, a: u32, b: u32) -> u32 {
    opw(0, 0, rd, a, b)
}
pub fn subw(rd: u32, a: u32, b: u32) -> u32 {
    opw(0, 0x20, rd, a, b)
}
pub fn mul(rd: u32, a: u32, b: u32) -> u32 {
    op(0, 1, rd, a, b)
}
pub fn mulh(rd: u32, a: u32, b: u32) -> u32 {
    op(1, 1, rd, a, b)
}
pub fn mulhsu(rd: u32, a: u32, b: u32) -> u32 {
    op(2, 1, rd, a, b)
}
pub fn mulhu(rd: u32, a: u32, b: u32) -> u32 {
    op(3, 1, rd, a, b)
}
pub fn div(rd: u32, a: u32, b: u32) -> u32 {
    op(4, 1, rd, a, b)
}
pub fn divu(rd: u32, a: u32, b: u32) -> u32 {
    op(5, 1, rd, a, b)
}
pub fn rem(rd: u32, a: u32, b: u32) -> u32 {
    op(6, 1, rd, a, b)
}
pub fn remu(rd: u32, a: u32, b: u32) -> u32 {
    op(7, 1, rd, a, b)
}
pub fn mulw(rd: u32, a: u32, b: u32) -> u32 {
    opw(0, 1, rd, a, b)
}
pub fn divw(rd: u32, a: u32, b: u32) -> u32 {
    opw(4, 1, rd, a, b)
}
pub fn divuw(rd: u32, a: u32, b: u32) -> u32 {
    opw(5, 1, rd, a, b)
}
pub fn remw(rd: u32, a: u32, b: u32) -> u32 {
    opw(6, 1, rd, a, b)
}
pub fn remuw(rd: u32, a: u32, b: u32) -> u32 {
    opw(7, 1, rd, a, b)
}
pub fn lb(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 0, rd, rs1, imm)
}
pub fn lh(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 1, rd, rs1, imm)
}
pub fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 2, rd, rs1, imm)
}
pub fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 3, rd, rs1, imm)
}
pub fn lbu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 4, rd, rs1, imm)
}
pub fn lhu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 5, rd, rs1, imm)
}
pub fn lwu(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x03, 6, rd, rs1, imm)
}
pub fn sb(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 0, rs1, rs2, imm)
}
pub fn sh(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 1, rs1, rs2, imm)
}
pub fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 2, rs1, rs2, imm)
}
pub fn sd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x23, 3, rs1, rs2, imm)
}
pub fn beq(a: u32, b_: u32, off: i32) -> u32 {
    b(0, a, b_, off)
}
pub fn bne(a: u32, b_: u32, off: i32) -> u32 {
    b(1, a, b_, off)
}
pub fn blt(a: u32, b_: u32, off: i32) -> u32 {
    b(4, a, b_, off)
}
pub fn bgeu(a: u32, b_: u32, off: i32) -> u32 {
    b(7, a, b_, off)
}
pub const ECALL: u32 = 0x73;
pub const EBREAK: u32 = 0x0010_0073;
pub const FENCE: u32 = 0x0ff0_000f;
pub const FENCE_I: u32 = 0x0000_100f;

/// AMO: funct5, width 2 (W) or 3 (D).
pub fn amo(f5: u32, w: u32, rd: u32, addr: u32, src: u32) -> u32 {
    r(0x2f, w, f5 << 2, rd, addr, src)
}
pub fn lr_d(rd: u32, addr: u32) -> u32 {
    amo(0b00010, 3, rd, addr, 0)
}
pub fn sc_d(rd: u32, addr: u32, src: u32) -> u32 {
    amo(0b00011, 3, rd, addr, src)
}
pub fn lr_w(rd: u32, addr: u32) -> u32 {
    amo(0b00010, 2, rd, addr, 0)
}
pub fn sc_w(rd: u32, addr: u32, src: u32) -> u32 {
    amo(0b00011, 2, rd, addr, src)
}
pub fn amoadd_d(rd: u32, addr: u32, src: u32) -> u32 {
    amo(0, 3, rd, addr, src)
}
pub fn amoadd_w(rd: u32, addr: u32, src: u32) -> u32 {
    amo(0, 2, rd, addr, src)
}

pub fn csr(f3: u32, rd: u32, rs1: u32, csr: u32) -> u32 {
    csr << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x73
}
pub fn csrrw(rd: u32, c: u32, rs1: u32) -> u32 {
    csr(1, rd, rs1, c)
}
pub fn csrrs(rd: u32, c: u32, rs1: u32) -> u32 {
    csr(2, rd, rs1, c)
}
pub fn csrrc(rd: u32, c: u32, rs1: u32) -> u32 {
    csr(3, rd, rs1, c)
}
pub fn csrrwi(rd: u32, c: u32, imm: u32) -> u32 {
    csr(5, rd, imm, c)
}
pub fn csrrsi(rd: u32, c: u32, imm: u32) -> u32 {
    csr(6, rd, imm, c)
}
pub fn csrrci(rd: u32, c: u32, imm: u32) -> u32 {
    csr(7, rd, imm, c)
}

// F/D
pub fn flw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x07, 2, rd, rs1, imm)
}
pub fn fld(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x07, 3, rd, rs1, imm)
}
pub fn fsw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x27, 2, rs1, rs2, imm)
}
pub fn fsd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(0x27, 3, rs1, rs2, imm)
}
pub fn opfp(f7: u32, rm: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(0x53, rm, f7, rd, rs1, rs2)
}
pub fn fmv_x_w(rd: u32, fs: u32) -> u32 {
    opfp(0x70, 0, rd, fs, 0)
}
pub fn fmv_w_x(fd: u32, rs: u32) -> u32 {
    opfp(0x78, 0, fd, rs, 0)
}
pub fn fmv_x_d(rd: u32, fs: u32) -> u32 {
    opfp(0x71, 0, rd, fs, 0)
}
pub fn fmv_d_x(fd: u32, rs: u32) -> u32 {
    opfp(0x79, 0, fd, rs, 0)
}
pub fn fsgnj_s(fd: u32, a: u32, b: u32) -> u32 {
    opfp(0x10, 0, fd, a, b)
}
pub fn fsgnjn_s(fd: u32, a: u32, b: u32) -> u32 {
    opfp(0x10, 1, fd, a, b)
}
pub fn fsgnjx_s(fd: u32, a: u32, b: u32) -> u32 {
    opfp(0x10, 2, fd, a, b)
}
pub fn fsgnj_d(fd: u32, a: u32, b: u32) -> u32 {
    opfp(0x11, 0, fd, a, b)
}
pub fn fsgnjn_d(fd: u32, a: u32, b: u32) -> u32 {
    opfp(0x11, 1, fd, a, b)
}
pub fn fsgnjx_d(fd: u32, a: u32, b: u32) -> u32 {
    opfp(0x11, 2, fd, a, b)
}
pub fn fadd_s(fd: u32, a: u32, b: u32, rm: u32) -> u32 {
    opfp(0x00, rm, fd, a, b)
}
pub fn fadd_d(fd: u32, a: u32, b: u32, rm: u32) -> u32 {
    opfp(0x01, rm, fd, a, b)
}
pub fn fdiv_d(fd: u32, a: u32, b: u32, rm: u32) -> u32 {
    opfp(0x0d, rm, fd, a, b)
}
pub fn fcvt_w_d(rd: u32, fs: u32, rm: u32) -> u32 {
    opfp(0x61, rm, rd, fs, 0)
}
pub fn fcvt_d_w(fd: u32, rs: u32, rm: u32) -> u32 {
    opfp(0x69, rm, fd, rs, 0)
}
pub fn feq_d(rd: u32, a: u32, b: u32) -> u32 {
    opfp(0x51, 2, rd, a, b)
}
pub fn fclass_s(rd: u32, fs: u32) -> u32 {
    opfp(0x70, 1, rd, fs, 0)
}
pub fn fmadd_d(fd: u32, a: u32, b_: u32, c: u32, rm: u32) -> u32 {
    c << 27 | 1 << 25 | b_ << 20 | a << 15 | rm << 12 | fd << 7 | 0x43
}

/// Packs compressed (u16) and full (u32) instructions into bytes.
pub enum W {
    C(u16),
    F(u32),
}

pub fn bytes(ws: &[W]) -> Vec<u8> {
    let mut v = Vec::new();
    for w in ws {
        match w {
            W::C(h) => v.extend_from_slice(&h.to_le_bytes()),
            W::F(f) => v.extend_from_slice(&f.to_le_bytes()),
        }
    }
    v
}

/// Loads a 64-bit constant into `rd` (lui/addi/slli sequence, 8 words).
pub fn li(rd: u32, v: u64) -> Vec<u32> {
    // build from the top: 4 chunks of 16 bits
    let mut out = vec![addi(rd, ZERO, 0)];
    for k in (0..4).rev() {
        let chunk = ((v >> (16 * k)) & 0xffff) as i32;
        out.push(slli(rd, rd, 8));
        // add the chunk in two 8-bit positive pieces (addi imm is signed 12-bit)
        out.push(addi(rd, rd, chunk >> 8));
        out.push(slli(rd, rd, 8));
        out.push(addi(rd, rd, chunk & 0xff));
    }
    out
}
