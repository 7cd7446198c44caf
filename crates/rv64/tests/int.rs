//! RV64IM: arithmetic, shifts, W-forms, M edge cases, loads/stores, control flow.
mod common;
use common::asm::*;
use common::*;

/// Runs `body` after loading a0 = a, a1 = b; returns a2.
fn binop(inst: u32, a: u64, b_: u64) -> u64 {
    let mut p = li(A0, a);
    p.extend(li(A1, b_));
    p.push(inst);
    p.push(ECALL);
    run_ok(&p).x(A2 as usize)
}

#[test]
fn li_helper_and_add() {
    assert_eq!(
        binop(add(A2, A0, A1), 0x1234_5678_9abc_def0, 1),
        0x1234_5678_9abc_def1
    );
    assert_eq!(binop(sub(A2, A0, A1), 0, 1), u64::MAX);
}

#[test]
fn division_by_zero_and_overflow() {
    let min = i64::MIN as u64;
    assert_eq!(binop(div(A2, A0, A1), 7, 0), u64::MAX);
    assert_eq!(binop(divu(A2, A0, A1), 7, 0), u64::MAX);
    assert_eq!(binop(rem(A2, A0, A1), 7, 0), 7);
    assert_eq!(binop(remu(A2, A0, A1), 7, 0), 7);
    assert_eq!(binop(div(A2, A0, A1), min, u64::MAX), min);
    assert_eq!(binop(rem(A2, A0, A1), min, u64::MAX), 0);
    assert_eq!(binop(div(A2, A0, A1), (-7i64) as u64, 2), (-3i64) as u64);
    assert_eq!(binop(rem(A2, A0, A1), (-7i64) as u64, 2), (-1i64) as u64);
    // W forms
    assert_eq!(binop(divw(A2, A0, A1), 7, 0), u64::MAX);
    assert_eq!(binop(divuw(A2, A0, A1), 7, 0), u64::MAX);
    assert_eq!(
        binop(remw(A2, A0, A1), 0xffff_ffff_8000_0007, 0),
        0xffff_ffff_8000_0007
    );
    assert_eq!(
        binop(remuw(A2, A0, A1), 0x1_8000_0007, 0),
        0xffff_ffff_8000_0007
    );
    assert_eq!(
        binop(divw(A2, A0, A1), 0x8000_0000, u64::MAX),
        0xffff_ffff_8000_0000
    );
    assert_eq!(binop(remw(A2, A0, A1), 0x8000_0000, u64::MAX), 0);
    assert_eq!(
        binop(divuw(A2, A0, A1), 0xffff_fffe, 1),
        0xffff_ffff_ffff_fffe
    );
}

#[test]
fn multiply_high() {
    assert_eq!(binop(mul(A2, A0, A1), u64::MAX, u64::MAX), 1);
    assert_eq!(binop(mulh(A2, A0, A1), u64::MAX, u64::MAX), 0);
    assert_eq!(binop(mulhu(A2, A0, A1), u64::MAX, u64::MAX), u64::MAX - 1);
    assert_eq!(binop(mulhsu(A2, A0, A1), u64::MAX, u64::MAX), u64::MAX);
    assert_eq!(binop(mulhsu(A2, A0, A1), 2, u64::MAX), 1);
    assert_eq!(
        binop(mulw(A2, A0, A1), 0x10000, 0x8000),
        0xffff_ffff_8000_0000
    );
}

#[test]
fn shifts() {
    assert_eq!(binop(sll(A2, A0, A1), 1, 63 + 64), 1 << 63);
    assert_eq!(binop(srl(A2, A0, A1), 1 << 63, 63), 1);
    assert_eq!(binop(sra(A2, A0, A1), 1 << 63, 63), u64::MAX);
    assert_eq!(binop(sllw(A2, A0, A1), 1, 31 + 32), 0xffff_ffff_8000_0000);
    assert_eq!(binop(srlw(A2, A0, A1), 0xffff_ffff_8000_0000, 31), 1);
    assert_eq!(
        binop(srlw(A2, A0, A1), 0x8000_0000, 0),
        0xffff_ffff_8000_0000
    );
    assert_eq!(
        binop(sraw(A2, A0, A1), 0x8000_0000, 4),
        0xffff_ffff_f800_0000
    );
    assert_eq!(binop(slli(A2, A0, 63), 1, 0), 1 << 63);
    assert_eq!(binop(srai(A2, A0, 60), 1 << 63, 0), 0xffff_ffff_ffff_fff8);
    assert_eq!(binop(srli(A2, A0, 60), 1 << 63, 0), 8);
    assert_eq!(binop(slliw(A2, A0, 31), 1, 0), 0xffff_ffff_8000_0000);
    assert_eq!(binop(srliw(A2, A0, 1), 0xffff_ffff_0000_0000, 0), 0);
    assert_eq!(binop(sraiw(A2, A0, 31), 0x8000_0000, 0), u64::MAX);
}

#[test]
fn w_ops_sign_extend() {
    assert_eq!(
        binop(addw(A2, A0, A1), 0x7fff_ffff, 1),
        0xffff_ffff_8000_0000
    );
    assert_eq!(binop(subw(A2, A0, A1), 0, 1), u64::MAX);
    assert_eq!(
        binop(addiw(A2, A0, 0), 0x1_8000_0000, 0),
        0xffff_ffff_8000_0000
    );
    assert_eq!(binop(addiw(A2, A0, -1), 0x1_0000_0000, 0), u64::MAX);
}

#[test]
fn immediates_compare_lui_auipc() {
    assert_eq!(binop(slti(A2, A0, -1), (-2i64) as u64, 0), 1);
    assert_eq!(binop(sltiu(A2, A0, -1), 5, 0), 1);
    assert_eq!(binop(xori(A2, A0, -1), 0, 0), u64::MAX);
    let h = run_ok(&[lui(A0, 0x8000_0000u32 as i32), auipc(A1, 0x1000), ECALL]);
    assert_eq!(h.x(A0 as usize), 0xffff_ffff_8000_0000);
    assert_eq!(h.x(A1 as usize), CODE + 4 + 0x1000);
}

#[test]
fn x0_stays_zero() {
    let h = run_ok(&[
        addi(ZERO, ZERO, 5),
        add(A0, ZERO, ZERO),
        lui(ZERO, 0x1000),
        ECALL,
    ]);
    assert_eq!(h.x(0), 0);
    assert_eq!(h.x(A0 as usize), 0);
}

#[test]
fn loads_stores_sign_extension() {
    let mut p = li(A0, DATA);
    p.extend(li(A1, 0x8081_8283_8485_8687));
    p.extend([
        sd(A1, A0, 0),
        lb(A2, A0, 0),
        lbu(A3, A0, 0),
        lh(A4, A0, 0),
        lhu(A5, A0, 0),
        lw(T0, A0, 4),
        lwu(T1, A0, 4),
        ld(T2, A0, 0),
        sb(A1, A0, 9),
        sh(A1, A0, 10),
        sw(A1, A0, 12),
        ld(S0, A0, 8),
        ECALL,
    ]);
    let h = run_ok(&p);
    assert_eq!(h.x(A2 as usize), 0xffff_ffff_ffff_ff87);
    assert_eq!(h.x(A3 as usize), 0x87);
    assert_eq!(h.x(A4 as usize), 0xffff_ffff_ffff_8687);
    assert_eq!(h.x(A5 as usize), 0x8687);
    assert_eq!(h.x(T0 as usize), 0xffff_ffff_8081_8283);
    assert_eq!(h.x(T1 as usize), 0x8081_8283);
    assert_eq!(h.x(T2 as usize), 0x8081_8283_8485_8687);
    assert_eq!(h.x(S0 as usize), 0x8485_8687_8687_8700);
}

#[test]
fn branches_and_jumps() {
    // a0 counts 10 iterations; jal/jalr call a subroutine that adds 100.
    let p = [
        addi(A0, ZERO, 0),  // 0
        addi(A1, ZERO, 10), // 4
        addi(A0, A0, 1),    // 8
        blt(A0, A1, -4),    // 12 -> 8
        jal(RA, 12),        // 16 -> 28
        addi(A2, RA, 0),    // 20
        ECALL,              // 24
        addi(A0, A0, 100),  // 28
        jalr(ZERO, RA, 0),  // 32 -> 20
    ];
    let h = run_ok(&p);
    assert_eq!(h.x(A0 as usize), 110);
    assert_eq!(h.x(A2 as usize), CODE + 20);
    assert_eq!(h.pc(), CODE + 24);
    // bne/beq/bgeu not taken / taken
    let p = [
        addi(A0, ZERO, -1),
        bgeu(A0, ZERO, 8),
        addi(A1, ZERO, 1),
        beq(A0, ZERO, 8),
        addi(A2, ZERO, 2),
        bne(A0, A0, 8),
        ECALL,
        ECALL,
    ];
    let h = run_ok(&p);
    assert_eq!((h.x(A1 as usize), h.x(A2 as usize)), (0, 2));
    assert_eq!(h.pc(), CODE + 24);
}

#[test]
fn jalr_clears_low_bit_and_reads_rs1_before_writing_rd() {
    let mut p = li(A0, CODE + 4 * 19 + 1);
    p.extend([jalr(A0, A0, 0), ECALL, ECALL]);
    assert_eq!(p.len(), 20);
    let h = run_ok(&p);
    assert_eq!(h.pc(), CODE + 4 * 19);
    assert_eq!(h.x(A0 as usize), CODE + 4 * 18);
}
