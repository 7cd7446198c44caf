//! The RV64C compressed encodings, expanded to the same [`Inst`] forms as
//! their 32-bit equivalents (with `len` 2). RV32-only forms (c.jal,
//! c.flw/c.fsw family) and reserved encodings are illegal; hints decode to
//! their no-effect base instruction.

use super::{xd, Inst, Op};

#[inline]
fn bit(h: u32, n: u32) -> u32 {
    (h >> n) & 1
}
#[inline]
fn bits(h: u32, hi: u32, lo: u32) -> u32 {
    (h >> lo) & ((1 << (hi - lo + 1)) - 1)
}
#[inline]
fn sext(v: u32, width: u32) -> i64 {
    let s = 32 - width;
    (((v << s) as i32) >> s) as i64
}

/// Decodes a 16-bit compressed instruction.
pub fn decode16(p: u16) -> Inst {
    let h = p as u32;
    let ill = Inst::illegal(h, 2);
    let c = |op: Op, rd: u8, rs1: u8, rs2: u8, imm: i64| Inst::new(op, rd, rs1, rs2, imm, 2);
    // full and primed register fields
    let r_hi = bits(h, 11, 7); // rd / rs1
    let r_lo = bits(h, 6, 2); // rs2
    let rp_hi = (bits(h, 9, 7) + 8) as u8; // rs1' / rd'
    let rp_lo = (bits(h, 4, 2) + 8) as u8; // rs2' / rd'
    let imm6 = sext(bit(h, 12) << 5 | bits(h, 6, 2), 6);
    // offsets for the doubleword and word register-based loads/stores
    let off_d = ((bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6)) as i64;
    let off_w = ((bits(h, 12, 10) << 3) | (bit(h, 6) << 2) | (bit(h, 5) << 6)) as i64;
    match (h & 3, bits(h, 15, 13)) {
        (0, 0) => {
            let imm = (bits(h, 12, 11) << 4)
                | (bits(h, 10, 7) << 6)
                | (bit(h, 6) << 2)
                | (bit(h, 5) << 3);
            if imm == 0 {
                return ill; // includes 0x0000
            }
            c(Op::Addi, rp_lo, 2, 0, imm as i64)
        }
        (0, 1) => c(Op::Fld, rp_lo, rp_hi, 0, off_d),
        (0, 2) => c(Op::Lw, rp_lo, rp_hi, 0, off_w),
        (0, 3) => c(Op::Ld, rp_lo, rp_hi, 0, off_d),
        (0, 5) => c(Op::Fsd, 0, rp_hi, rp_lo, off_d),
        (0, 6) => c(Op::Sw, 0, rp_hi, rp_lo, off_w),
        (0, 7) => c(Op::Sd, 0, rp_hi, rp_lo, off_d),
        (0, _) => ill,
        (1, 0) => c(Op::Addi, xd(r_hi), r_hi as u8, 0, imm6),
        (1, 1) => {
            if r_hi == 0 {
                return ill;
            }
            c(Op::Addiw, r_hi as u8, r_hi as u8, 0, imm6)
        }
        (1, 2) => c(Op::Addi, xd(r_hi), 0, 0, imm6),
        (1, 3) => {
            if r_hi == 2 {
                let imm = (bit(h, 12) << 9)
                    | (bit(h, 6) << 4)
                    | (bit(h, 5) << 6)
                    | (bits(h, 4, 3) << 7)
                    | (bit(h, 2) << 5);
                if imm == 0 {
                    return ill;
                }
                c(Op::Addi, 2, 2, 0, sext(imm, 10))
            } else {
                if bit(h, 12) == 0 && bits(h, 6, 2) == 0 {
                    return ill;
                }
                c(Op::Lui, xd(r_hi), 0, 0, imm6 << 12)
            }
        }
        (1, 4) => {
            let shamt = ((bit(h, 12) << 5) | bits(h, 6, 2)) as i64;
            match bits(h, 11, 10) {
                0 => c(Op::Srli, rp_hi, rp_hi, 0, shamt),
                1 => c(Op::Srai, rp_hi, rp_hi, 0, shamt),
                2 => c(Op::Andi, rp_hi, rp_hi, 0, imm6),
                _ => {
                    let op = match (bit(h, 12), bits(h, 6, 5)) {
                        (0, 0) => Op::Sub,
                        (0, 1) => Op::Xor,
                        (0, 2) => Op::Or,
                        (0, 3) => Op::And,
                        (1, 0) => Op::Subw,
                        (1, 1) => Op::Addw,
                        _ => return ill,
                    };
                    c(op, rp_hi, rp_hi, rp_lo, 0)
                }
            }
        }
        (1, 5) => {
            let imm = (bit(h, 12) << 11)
                | (bit(h, 11) << 4)
                | (bits(h, 10, 9) << 8)
                | (bit(h, 8) << 10)
                | (bit(h, 7) << 6)
                | (bit(h, 6) << 7)
                | (bits(h, 5, 3) << 1)
                | (bit(h, 2) << 5);
            c(Op::Jal, super::XZERO_SINK, 0, 0, sext(imm, 12))
        }
        (1, f) => {
            let imm = (bit(h, 12) << 8)
                | (bits(h, 11, 10) << 3)
                | (bits(h, 6, 5) << 6)
                | (bits(h, 4, 3) << 1)
                | (bit(h, 2) << 5);
            let op = if f == 6 { Op::Beq } else { Op::Bne };
            c(op, 0, rp_hi, 0, sext(imm, 9))
        }
        (2, 0) => c(
            Op::Slli,
            xd(r_hi),
            r_hi as u8,
            0,
            ((bit(h, 12) << 5) | bits(h, 6, 2)) as i64,
        ),
        (2, 1) => {
            let off = (bit(h, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
            c(Op::Fld, r_hi as u8, 2, 0, off as i64)
        }
        (2, 2) => {
            if r_hi == 0 {
                return ill;
            }
            let off = (bit(h, 12) << 5) | (bits(h, 6, 4) << 2) | (bits(h, 3, 2) << 6);
            c(Op::Lw, r_hi as u8, 2, 0, off as i64)
        }
        (2, 3) => {
            if r_hi == 0 {
                return ill;
            }
            let off = (bit(h, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
            c(Op::Ld, r_hi as u8, 2, 0, off as i64)
        }
        (2, 4) => match (bit(h, 12), r_hi, r_lo) {
            (0, 0, 0) => ill,
            (0, rs1, 0) => c(Op::Jalr, super::XZERO_SINK, rs1 as u8, 0, 0),
            (0, rd, rs2) => c(Op::Add, xd(rd), 0, rs2 as u8, 0),
            (1, 0, 0) => c(Op::Ebreak, 0, 0, 0, 0),
            (1, rs1, 0) => c(Op::Jalr, 1, rs1 as u8, 0, 0),
            (_, rd, rs2) => c(Op::Add, xd(rd), rd as u8, rs2 as u8, 0),
        },
        (2, 5) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6);
            c(Op::Fsd, 0, 2, r_lo as u8, off as i64)
        }
        (2, 6) => {
            let off = (bits(h, 12, 9) << 2) | (bits(h, 8, 7) << 6);
            c(Op::Sw, 0, 2, r_lo as u8, off as i64)
        }
        (2, _) => {
            let off = (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6);
            c(Op::Sd, 0, 2, r_lo as u8, off as i64)
        }
        _ => ill, // quadrant 3 is a 32-bit instruction, never passed here
    }
}
