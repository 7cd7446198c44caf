//! The 32-bit base encodings of RV64IMAFD + Zicsr + Zifencei (the
//! unprivileged spec's opcode map). Anything not listed is illegal,
//! including the privileged instructions (wfi, sret, ...) a U-mode hart
//! cannot execute.

use super::{fp, xd, Inst, Op};

#[inline]
fn rd(b: u32) -> u32 {
    (b >> 7) & 31
}
#[inline]
fn rs1(b: u32) -> u8 {
    ((b >> 15) & 31) as u8
}
#[inline]
fn rs2(b: u32) -> u8 {
    ((b >> 20) & 31) as u8
}
#[inline]
fn f3(b: u32) -> u32 {
    (b >> 12) & 7
}
#[inline]
fn f7(b: u32) -> u32 {
    b >> 25
}
#[inline]
fn imm_i(b: u32) -> i64 {
    (b as i32 >> 20) as i64
}
#[inline]
fn imm_s(b: u32) -> i64 {
    (((b as i32 >> 25) << 5) | ((b >> 7) & 31) as i32) as i64
}
#[inline]
fn imm_b(b: u32) -> i64 {
    let v = ((b as i32 >> 31) << 12) as u32
        | ((b << 4) & 0x800)
        | ((b >> 20) & 0x7e0)
        | ((b >> 7) & 0x1e);
    v as i32 as i64
}
#[inline]
fn imm_u(b: u32) -> i64 {
    (b & 0xffff_f000) as i32 as i64
}
#[inline]
fn imm_j(b: u32) -> i64 {
    let v =
        ((b as i32 >> 31) << 20) as u32 | (b & 0xff000) | ((b >> 9) & 0x800) | ((b >> 20) & 0x7fe);
    v as i32 as i64
}

/// Decodes a 32-bit instruction word.
pub fn decode32(b: u32) -> Inst {
    let ill = Inst::illegal(b, 4);
    let r = |op: Op| Inst::new(op, xd(rd(b)), rs1(b), rs2(b), 0, 4);
    let i = |op: Op| Inst::new(op, xd(rd(b)), rs1(b), 0, imm_i(b), 4);
    match b & 0x7f {
        0x37 => Inst::new(Op::Lui, xd(rd(b)), 0, 0, imm_u(b), 4),
        0x17 => Inst::new(Op::Auipc, xd(rd(b)), 0, 0, imm_u(b), 4),
        0x6f => Inst::new(Op::Jal, xd(rd(b)), 0, 0, imm_j(b), 4),
        0x67 if f3(b) == 0 => i(Op::Jalr),
        0x63 => {
            let op = match f3(b) {
                0 => Op::Beq,
                1 => Op::Bne,
                4 => Op::Blt,
                5 => Op::Bge,
                6 => Op::Bltu,
                7 => Op::Bgeu,
                _ => return ill,
            };
            Inst::new(op, 0, rs1(b), rs2(b), imm_b(b), 4)
        }
        0x03 => {
            let op = match f3(b) {
                0 => Op::Lb,
                1 => Op::Lh,
                2 => Op::Lw,
                3 => Op::Ld,
                4 => Op::Lbu,
                5 => Op::Lhu,
                6 => Op::Lwu,
                _ => return ill,
            };
            i(op)
        }
        0x23 => {
            let op = match f3(b) {
                0 => Op::Sb,
                1 => Op::Sh,
                2 => Op::Sw,
                3 => Op::Sd,
                _ => return ill,
            };
            Inst::new(op, 0, rs1(b), rs2(b), imm_s(b), 4)
        }
        0x13 => match f3(b) {
            0 => i(Op::Addi),
            2 => i(Op::Slti),
            3 => i(Op::Sltiu),
            4 => i(Op::Xori),
            6 => i(Op::Ori),
            7 => i(Op::Andi),
            1 if b >> 26 == 0 => {
                Inst::new(Op::Slli, xd(rd(b)), rs1(b), 0, ((b >> 20) & 63) as i64, 4)
            }
            5 if b >> 26 == 0 => {
                Inst::new(Op::Srli, xd(rd(b)), rs1(b), 0, ((b >> 20) & 63) as i64, 4)
            }
            5 if b >> 26 == 0x10 => {
                Inst::new(Op::Srai, xd(rd(b)), rs1(b), 0, ((b >> 20) & 63) as i64, 4)
            }
            _ => ill,
        },
        0x1b => match (f3(b), f7(b)) {
            (0, _) => i(Op::Addiw),
            (1, 0) => Inst::new(Op::Slliw, xd(rd(b)), rs1(b), 0, ((b >> 20) & 31) as i64, 4),
            (5, 0) => Inst::new(Op::Srliw, xd(rd(b)), rs1(b), 0, ((b >> 20) & 31) as i64, 4),
            (5, 0x20) => Inst::new(Op::Sraiw, xd(rd(b)), rs1(b), 0, ((b >> 20) & 31) as i64, 4),
            _ => ill,
        },
        0x33 => {
            let op = match (f7(b), f3(b)) {
                (0, 0) => Op::Add,
                (0x20, 0) => Op::Sub,
                (0, 1) => Op::Sll,
                (0, 2) => Op::Slt,
                (0, 3) => Op::Sltu,
                (0, 4) => Op::Xor,
                (0, 5) => Op::Srl,
                (0x20, 5) => Op::Sra,
                (0, 6) => Op::Or,
                (0, 7) => Op::And,
                (1, 0) => Op::Mul,
                (1, 1) => Op::Mulh,
                (1, 2) => Op::Mulhsu,
                (1, 3) => Op::Mulhu,
                (1, 4) => Op::Div,
                (1, 5) => Op::Divu,
                (1, 6) => Op::Rem,
                (1, 7) => Op::Remu,
                _ => return ill,
            };
            r(op)
        }
        0x3b => {
            let op = match (f7(b), f3(b)) {
                (0, 0) => Op::Addw,
                (0x20, 0) => Op::Subw,
                (0, 1) => Op::Sllw,
                (0, 5) => Op::Srlw,
                (0x20, 5) => Op::Sraw,
                (1, 0) => Op::Mulw,
                (1, 4) => Op::Divw,
                (1, 5) => Op::Divuw,
                (1, 6) => Op::Remw,
                (1, 7) => Op::Remuw,
                _ => return ill,
            };
            r(op)
        }
        0x0f => match f3(b) {
            0 => Inst::new(Op::Fence, 0, 0, 0, b as i64, 4),
            1 => Inst::new(Op::FenceI, 0, 0, 0, 0, 4),
            _ => ill,
        },
        0x73 => match f3(b) {
            0 => match b {
                0x0000_0073 => Inst::new(Op::Ecall, 0, 0, 0, 0, 4),
                0x0010_0073 => Inst::new(Op::Ebreak, 0, 0, 0, 0, 4),
                _ => ill,
            },
            4 => ill,
            f => {
                let mut inst = Inst::new(Op::Csr, xd(rd(b)), rs1(b), 0, (b >> 20) as i64, 4);
                inst.sub = f as u8;
                inst.rs3 = (rd(b) == 0) as u8; // "rd is x0": csrrw(i) then skips the read
                inst
            }
        },
        0x2f => {
            let w = f3(b);
            if w != 2 && w != 3 {
                return ill;
            }
            let funct5 = b >> 27;
            let ok = match funct5 {
                0b00010 => rs2(b) == 0,
                0b00011 | 0b00001 | 0b00000 | 0b00100 | 0b01100 | 0b01000 | 0b10000 | 0b10100
                | 0b11000 | 0b11100 => true,
                _ => false,
            };
            if !ok {
                return ill;
            }
            let mut inst = r(Op::Amo);
            inst.sub = funct5 as u8;
            inst.rm = w as u8;
            inst
        }
        0x07 => match f3(b) {
            2 => Inst::new(Op::Flw, rd(b) as u8, rs1(b), 0, imm_i(b), 4),
            3 => Inst::new(Op::Fld, rd(b) as u8, rs1(b), 0, imm_i(b), 4),
            _ => ill,
        },
        0x27 => match f3(b) {
            2 => Inst::new(Op::Fsw, 0, rs1(b), rs2(b), imm_s(b), 4),
            3 => Inst::new(Op::Fsd, 0, rs1(b), rs2(b), imm_s(b), 4),
            _ => ill,
        },
        0x43 | 0x47 | 0x4b | 0x4f | 0x53 => fp::decode_fp(b),
        _ => ill,
    }
}
