//! The F and D compute encodings (OP-FP and the four fused multiply-add
//! opcodes). Rounding-mode fields 5 and 6 are illegal here; 7 (dynamic) is
//! resolved from `frm` when the instruction runs.

use super::{xd, FpOp, Inst, Op};

/// Decodes an OP-FP / FMADD / FMSUB / FNMSUB / FNMADD word.
pub fn decode_fp(b: u32) -> Inst {
    let ill = Inst::illegal(b, 4);
    let rd = (b >> 7) & 31;
    let rm = (b >> 12) & 7;
    let rs1 = ((b >> 15) & 31) as u8;
    let rs2 = ((b >> 20) & 31) as u8;
    let rs2v = rs2 as u32;
    let f7 = b >> 25;
    let rm_ok = rm != 5 && rm != 6;
    let mk = |op: FpOp, int_rd: bool| {
        let mut i = Inst::new(
            Op::Fp,
            if int_rd { xd(rd) } else { rd as u8 },
            rs1,
            rs2,
            b as i64,
            4,
        );
        i.sub = op as u8;
        i.rm = rm as u8;
        i.rs3 = (b >> 27) as u8;
        i
    };
    use FpOp::*;
    match b & 0x7f {
        op @ (0x43 | 0x47 | 0x4b | 0x4f) => {
            if !rm_ok {
                return ill;
            }
            let d = match (b >> 25) & 3 {
                0 => false,
                1 => true,
                _ => return ill,
            };
            let f = match (op, d) {
                (0x43, false) => MaddS,
                (0x47, false) => MsubS,
                (0x4b, false) => NmsubS,
                (0x4f, false) => NmaddS,
                (0x43, true) => MaddD,
                (0x47, true) => MsubD,
                (0x4b, true) => NmsubD,
                _ => NmaddD,
            };
            mk(f, false)
        }
        _ => {
            // (op, integer destination, uses the rm field as a rounding mode)
            let (op, int_rd, uses_rm) = match (f7, rm, rs2v) {
                (0x00, _, _) => (AddS, false, true),
                (0x01, _, _) => (AddD, false, true),
                (0x04, _, _) => (SubS, false, true),
                (0x05, _, _) => (SubD, false, true),
                (0x08, _, _) => (MulS, false, true),
                (0x09, _, _) => (MulD, false, true),
                (0x0c, _, _) => (DivS, false, true),
                (0x0d, _, _) => (DivD, false, true),
                (0x2c, _, 0) => (SqrtS, false, true),
                (0x2d, _, 0) => (SqrtD, false, true),
                (0x10, 0, _) => (SgnjS, false, false),
                (0x10, 1, _) => (SgnjnS, false, false),
                (0x10, 2, _) => (SgnjxS, false, false),
                (0x11, 0, _) => (SgnjD, false, false),
                (0x11, 1, _) => (SgnjnD, false, false),
                (0x11, 2, _) => (SgnjxD, false, false),
                (0x14, 0, _) => (MinS, false, false),
                (0x14, 1, _) => (MaxS, false, false),
                (0x15, 0, _) => (MinD, false, false),
                (0x15, 1, _) => (MaxD, false, false),
                (0x20, _, 1) => (CvtSD, false, true),
                (0x21, _, 0) => (CvtDS, false, true),
                (0x50, 2, _) => (EqS, true, false),
                (0x50, 1, _) => (LtS, true, false),
                (0x50, 0, _) => (LeS, true, false),
                (0x51, 2, _) => (EqD, true, false),
                (0x51, 1, _) => (LtD, true, false),
                (0x51, 0, _) => (LeD, true, false),
                (0x60, _, 0) => (CvtWS, true, true),
                (0x60, _, 1) => (CvtWuS, true, true),
                (0x60, _, 2) => (CvtLS, true, true),
                (0x60, _, 3) => (CvtLuS, true, true),
                (0x61, _, 0) => (CvtWD, true, true),
                (0x61, _, 1) => (CvtWuD, true, true),
                (0x61, _, 2) => (CvtLD, true, true),
                (0x61, _, 3) => (CvtLuD, true, true),
                (0x68, _, 0) => (CvtSW, false, true),
                (0x68, _, 1) => (CvtSWu, false, true),
                (0x68, _, 2) => (CvtSL, false, true),
                (0x68, _, 3) => (CvtSLu, false, true),
                (0x69, _, 0) => (CvtDW, false, true),
                (0x69, _, 1) => (CvtDWu, false, true),
                (0x69, _, 2) => (CvtDL, false, true),
                (0x69, _, 3) => (CvtDLu, false, true),
                (0x70, 0, 0) => (MvXW, true, false),
                (0x70, 1, 0) => (ClassS, true, false),
                (0x71, 0, 0) => (MvXD, true, false),
                (0x71, 1, 0) => (ClassD, true, false),
                (0x78, 0, 0) => (MvWX, false, false),
                (0x79, 0, 0) => (MvDX, false, false),
                _ => return ill,
            };
            if uses_rm && !rm_ok {
                return ill;
            }
            mk(op, int_rd)
        }
    }
}
