//! Instruction decoding: 32-bit and compressed instruction words to the
//! pre-decoded [`Inst`] form the interpreter runs. Hardware decodes on every
//! fetch; ferrite decodes once per physical block (see `exec::icache`) and
//! keeps the result until `fence.i`.
//!
//! Every bit pattern decodes to something: an instruction or
//! [`Op::Illegal`] carrying the original bits. Writes to `x0` are redirected
//! to a sink register (index 32) so the interpreter never tests `rd == 0`.

mod fp;
mod rv32;
mod rvc;

pub use rv32::decode32;
pub use rvc::decode16;

/// The sink register index that absorbs writes to x0.
pub const XZERO_SINK: u8 = 32;

/// Pre-decoded operations. Operand meaning is documented per group; `imm`
/// is always sign-extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Op {
    // rd = imm / pc + imm
    Lui,
    Auipc,
    // control transfer (end a block)
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    // loads rd = mem[rs1 + imm], stores mem[rs1 + imm] = rs2
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    // register-immediate
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    // register-register
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    // M
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    // A: sub = funct5, rm = 2 (W) or 3 (D)
    Amo,
    // Zicsr: sub = funct3, imm = csr number, rs1 = register or uimm
    Csr,
    // F/D loads and stores (rd/rs2 are f registers)
    Flw,
    Fld,
    Fsw,
    Fsd,
    // F/D compute: sub = decode::FpOp, rm = rounding mode field
    Fp,
    // misc; Fence: imm = the instruction bits (fm/pred/succ)
    Fence,
    FenceI,
    Ecall,
    Ebreak,
    /// imm = the instruction bits
    Illegal,
}

/// One pre-decoded instruction (16 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inst {
    /// What to do.
    pub op: Op,
    /// Destination register (x: 32 = sink for x0).
    pub rd: u8,
    /// First source register (or uimm for csr*i).
    pub rs1: u8,
    /// Second source register.
    pub rs2: u8,
    /// Third source register (fused multiply-add).
    pub rs3: u8,
    /// Rounding-mode field (FP), width (AMO), funct3 (CSR).
    pub rm: u8,
    /// Sub-operation (FP op, AMO funct5, CSR funct3).
    pub sub: u8,
    /// Length in bytes: 2 or 4.
    pub len: u8,
    /// Immediate (or the raw bits for Illegal / FP ops).
    pub imm: i64,
}

impl Inst {
    /// An illegal instruction with these bits.
    pub fn illegal(bits: u32, len: u8) -> Inst {
        Inst::new(Op::Illegal, 0, 0, 0, bits as i64, len)
    }

    /// A plain instruction.
    pub fn new(op: Op, rd: u8, rs1: u8, rs2: u8, imm: i64, len: u8) -> Inst {
        Inst {
            op,
            rd,
            rs1,
            rs2,
            rs3: 0,
            rm: 0,
            sub: 0,
            len,
            imm,
        }
    }

    /// Whether this instruction ends a decoded block. Conditional
    /// branches do not: a block runs on past a branch that is not taken
    /// (a taken one leaves the block early, a "side exit").
    pub fn ends_block(&self) -> bool {
        matches!(
            self.op,
            Op::Jal | Op::Jalr | Op::FenceI | Op::Ecall | Op::Ebreak | Op::Illegal
        )
    }
}

/// The F/D compute operations (stored in [`Inst::sub`] of [`Op::Fp`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum FpOp {
    AddS,
    SubS,
    MulS,
    DivS,
    SqrtS,
    SgnjS,
    SgnjnS,
    SgnjxS,
    MinS,
    MaxS,
    EqS,
    LtS,
    LeS,
    ClassS,
    MvXW,
    MvWX,
    CvtWS,
    CvtWuS,
    CvtLS,
    CvtLuS,
    CvtSW,
    CvtSWu,
    CvtSL,
    CvtSLu,
    MaddS,
    MsubS,
    NmsubS,
    NmaddS,
    AddD,
    SubD,
    MulD,
    DivD,
    SqrtD,
    SgnjD,
    SgnjnD,
    SgnjxD,
    MinD,
    MaxD,
    EqD,
    LtD,
    LeD,
    ClassD,
    MvXD,
    MvDX,
    CvtWD,
    CvtWuD,
    CvtLD,
    CvtLuD,
    CvtDW,
    CvtDWu,
    CvtDL,
    CvtDLu,
    MaddD,
    MsubD,
    NmsubD,
    NmaddD,
    CvtSD,
    CvtDS,
}

impl FpOp {
    /// Every FpOp, indexed by its discriminant.
    pub const ALL: [FpOp; 58] = {
        use FpOp::*;
        [
            AddS, SubS, MulS, DivS, SqrtS, SgnjS, SgnjnS, SgnjxS, MinS, MaxS, EqS, LtS, LeS,
            ClassS, MvXW, MvWX, CvtWS, CvtWuS, CvtLS, CvtLuS, CvtSW, CvtSWu, CvtSL, CvtSLu, MaddS,
            MsubS, NmsubS, NmaddS, AddD, SubD, MulD, DivD, SqrtD, SgnjD, SgnjnD, SgnjxD, MinD,
            MaxD, EqD, LtD, LeD, ClassD, MvXD, MvDX, CvtWD, CvtWuD, CvtLD, CvtLuD, CvtDW, CvtDWu,
            CvtDL, CvtDLu, MaddD, MsubD, NmsubD, NmaddD, CvtSD, CvtDS,
        ]
    };

    /// The FpOp with discriminant `v` (an out-of-range value maps to AddS;
    /// the decoder only stores valid ones).
    pub fn from_u8(v: u8) -> FpOp {
        FpOp::ALL.get(v as usize).copied().unwrap_or(FpOp::AddS)
    }
}

/// Decodes the instruction whose first 16-bit parcel is `lo` and, if it is
/// a 32-bit instruction, whose second parcel is `hi`.
pub fn decode(lo: u16, hi: u16) -> Inst {
    if lo & 3 == 3 {
        decode32(lo as u32 | (hi as u32) << 16)
    } else {
        decode16(lo)
    }
}

/// Integer destination: x0 goes to the sink.
#[inline]
pub(crate) fn xd(r: u32) -> u8 {
    if r == 0 {
        XZERO_SINK
    } else {
        r as u8
    }
}
