//! Macro-op fusion (`exec::fuse`): fused pairs give the same registers,
//! pc and instret as the instructions run one by one, including x0 as
//! either destination, aliased registers, a budget ending inside a pair
//! and branches right after (or inside) a pair.
mod common;
use common::asm::*;
use common::*;
use rv64::{Exit, Hart};

/// Registers the programs here use (x0 included, so writes to it and reads
/// of it are covered).
const REGS: [u32; 7] = [ZERO, A0, A1, A2, A3, A4, A5];

fn xor(rd: u32, a: u32, b_: u32) -> u32 {
    op(4, 0, rd, a, b_)
}
fn or(rd: u32, a: u32, b_: u32) -> u32 {
    op(6, 0, rd, a, b_)
}
fn and(rd: u32, a: u32, b_: u32) -> u32 {
    op(7, 0, rd, a, b_)
}
fn sltu(rd: u32, a: u32, b_: u32) -> u32 {
    op(3, 0, rd, a, b_)
}
fn andi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 7, rd, rs1, imm)
}
fn ori(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(0x13, 6, rd, rs1, imm)
}

/// Loads `p` and runs it from CODE in one go (blocks run threaded, fused).
fn run_fused(p: &[u32]) -> (Hart, Exit, Env) {
    let mut env = Env::new(1);
    env.load(p);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    let e = h.run(1_000_000);
    (h, e, env)
}

/// Loads `p` and runs it from CODE one instruction per `run` (every
/// instruction stepped with its plain handler: no fusion).
fn run_stepped(p: &[u32]) -> (Hart, Exit, Env) {
    let mut env = Env::new(1);
    env.load(p);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    loop {
        let e = h.run(1);
        if e != Exit::Budget {
            return (h, e, env);
        }
    }
}

/// Runs `p` both ways and checks every register, the pc and instret agree.
fn same_as_stepped(p: &[u32]) -> Hart {
    let (f, ef, _e1) = run_fused(p);
    let (s, es, _e2) = run_stepped(p);
    assert_eq!(ef, es);
    assert_eq!(f.pc(), s.pc());
    assert_eq!(f.instret(), s.instret());
    for r in 0..32 {
        assert_eq!(f.x(r), s.x(r), "x{r}");
    }
    f
}

/// Sets a0..a5 to awkward values (sign bits, low-word sign bits).
fn setup() -> Vec<u32> {
    let mut p = Vec::new();
    for (k, r) in [A0, A1, A2, A3, A4, A5].into_iter().enumerate() {
        p.extend(li(
            r,
            0x9e37_79b9_7f4a_7c15u64.rotate_left(11 * k as u32) ^ k as u64,
        ));
    }
    p
}

#[test]
fn hash_chain_pairs() {
    // x ^= x << 13; x ^= x >> 7; x ^= x << 17; x *= K, as gcc emits it
    let mut p = li(A0, 0x1234_5678_9abc_def1);
    p.extend(li(A3, 0x9e37_79b9_7f4a_7c15));
    p.extend([
        slli(A1, A0, 13),
        xor(A0, A1, A0),
        srli(A2, A0, 7),
        xor(A0, A0, A2),
        slli(A2, A0, 17),
        xor(A0, A0, A2),
        mul(A0, A0, A3),
        ECALL,
    ]);
    let h = same_as_stepped(&p);
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let t13 = x << 13;
    x ^= x << 13;
    x ^= x >> 7;
    let t17 = x << 17;
    x ^= x << 17;
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    assert_eq!(h.x(A0 as usize), x);
    assert_eq!(h.x(A1 as usize), t13);
    assert_eq!(h.x(A2 as usize), t17);
}

/// Every operation `fuse` takes as a pair's first, as (rd, rs1) -> word
/// (register-register ones take a5 as rs2).
fn firsts() -> Vec<fn(u32, u32) -> u32> {
    vec![
        |d, a| slli(d, a, 13),
        |d, a| srli(d, a, 7),
        |d, a| srai(d, a, 3),
        |d, a| slliw(d, a, 5),
        |d, a| srliw(d, a, 9),
        |d, a| sraiw(d, a, 31),
        |d, a| addi(d, a, -5),
        |d, a| addiw(d, a, 0x7ff),
        |d, a| xori(d, a, -1),
        |d, a| andi(d, a, -16),
        |d, a| ori(d, a, 0x300),
        |d, _| lui(d, 0x8000_0000u32 as i32),
        |d, _| auipc(d, 0x1000),
        |d, a| add(d, a, A5),
        |d, a| sub(d, a, A5),
        |d, a| xor(d, a, A5),
        |d, a| or(d, a, A5),
        |d, a| and(d, a, A5),
        |d, a| addw(d, a, A5),
        |d, a| subw(d, a, A5),
        |d, a| mul(d, a, A5),
        |d, a| mulw(d, a, A5),
    ]
}

#[test]
fn every_fused_shape_matches_stepping() {
    // first op x second op over registers that alias each other and x0
    let firsts = firsts();
    let seconds: [fn(u32, u32, u32) -> u32; 20] = [
        add,
        sub,
        xor,
        or,
        and,
        addw,
        subw,
        mul,
        mulw,
        sltu,
        |d, a, _| addi(d, a, 1),
        |d, a, _| addiw(d, a, -1),
        |d, a, _| andi(d, a, 0xff),
        |d, a, _| xori(d, a, 0x10),
        |d, a, _| slli(d, a, 63),
        |d, a, _| srli(d, a, 1),
        |d, a, _| srai(d, a, 1),
        |d, a, _| slliw(d, a, 31),
        |d, a, _| srliw(d, a, 4),
        |d, a, _| sraiw(d, a, 4),
    ];
    let mut n = 0;
    for f in firsts {
        let mut p = setup();
        p.extend(li(A5, 0x0123_4567_89ab_cdef));
        p.extend(li(S0, 0x9e37_79b9_7f4a_7c15));
        for d in REGS {
            for &(d2, other) in &[(A1, A2), (d, A0), (ZERO, d), (A0, d)] {
                for (k, s) in seconds.iter().enumerate() {
                    // the dependent source first and second in turn
                    let (x, y) = if k % 2 == 0 { (d, other) } else { (other, d) };
                    p.push(f(d, A0));
                    p.push(s(d2, x, y));
                    // fold both results into s1 (mul by an odd constant
                    // loses nothing) and feed it back into a0
                    p.extend([xor(S1, S1, d), add(S1, S1, d2), mul(S1, S1, S0)]);
                    p.push(xor(A0, A0, S1));
                    n += 1;
                }
            }
        }
        p.push(ECALL);
        same_as_stepped(&p);
    }
    assert!(n > 1000);
}

#[test]
fn every_fused_branch_matches_stepping() {
    let branches: [fn(u32, u32, i32) -> u32; 6] = [
        beq,
        bne,
        blt,
        |a, b_, off| b(5, a, b_, off), // bge
        |a, b_, off| b(6, a, b_, off), // bltu
        bgeu,
    ];
    for f in firsts() {
        let mut p = setup();
        for d in REGS {
            for other in [A1, ZERO, d] {
                for (k, br) in branches.iter().enumerate() {
                    let (x, y) = if k % 2 == 0 { (d, other) } else { (other, d) };
                    p.push(f(d, A0));
                    // taken: skip the marker; either way fold the result
                    p.push(br(x, y, 8));
                    p.push(addi(S1, S1, 1));
                    p.extend([xor(S1, S1, d), mul(S1, S1, S0)]);
                    p.push(xor(A0, A0, S1));
                }
            }
        }
        p.push(ECALL);
        let mut q = li(S0, 0x9e37_79b9_7f4a_7c15);
        q.extend(p);
        same_as_stepped(&q);
    }
}

#[test]
fn x0_as_either_destination() {
    let mut p = li(A0, 0x8000_0000_0000_0005);
    p.extend([
        // first writes x0: the second reads the real x0 (0)
        slli(ZERO, A0, 4),
        add(A1, ZERO, A0),
        // second writes x0; the first's rd still written
        srli(A2, A0, 1),
        xor(ZERO, A2, A0),
        addi(A3, ZERO, 0),
        ECALL,
    ]);
    let h = same_as_stepped(&p);
    assert_eq!(h.x(0), 0);
    assert_eq!(h.x(A1 as usize), 0x8000_0000_0000_0005);
    assert_eq!(h.x(A2 as usize), 0x4000_0000_0000_0002);
    assert_eq!(h.x(A3 as usize), 0);
}

#[test]
fn aliased_destinations() {
    let mut p = li(A0, 3);
    p.extend(li(A1, 10));
    p.extend([
        // second rd = first rd
        slli(A2, A0, 2),
        add(A2, A2, A1), // 12 + 10
        // second rd = first rs1, both sources the first's rd
        slli(A3, A0, 1),
        add(A0, A3, A3), // 12
        // first rd = its own source
        addi(A1, A1, 5),
        sub(A4, A1, A0), // 15 - 12
        ECALL,
    ]);
    let h = same_as_stepped(&p);
    assert_eq!(h.x(A2 as usize), 22);
    assert_eq!(h.x(A3 as usize), 6);
    assert_eq!(h.x(A0 as usize), 12);
    assert_eq!(h.x(A1 as usize), 15);
    assert_eq!(h.x(A4 as usize), 3);
}

#[test]
fn budget_ending_inside_a_pair() {
    let p = [
        addi(A0, ZERO, 7),
        slli(A1, A0, 3),
        add(A2, A1, A0),
        xori(A3, A2, 1),
        ECALL,
    ];
    let mut env = Env::new(1);
    env.load(&p);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    // stops between slli and add: the block is longer than the budget, so
    // it is stepped, and the slli slot (which holds the fused handler) must
    // run as the slli alone
    assert_eq!(h.run(2), Exit::Budget);
    assert_eq!(h.instret(), 2);
    assert_eq!(h.pc(), CODE + 8);
    assert_eq!(h.x(A1 as usize), 56);
    assert_eq!(h.x(A2 as usize), 0);
    assert_eq!(h.run(1), Exit::Budget);
    assert_eq!(h.instret(), 3);
    assert_eq!(h.pc(), CODE + 12);
    assert_eq!(h.x(A2 as usize), 63);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.instret(), 4);
    assert_eq!(h.x(A3 as usize), 62);
    // the same block again from the start, now with a budget that ends
    // right after the pair and one that ends inside it
    for (budget, pc, instret) in [(3, CODE + 12, 7), (2, CODE + 8, 9)] {
        h.set_pc(CODE);
        h.set_x(A2 as usize, 0);
        assert_eq!(h.run(budget), Exit::Budget);
        assert_eq!(h.pc(), pc);
        assert_eq!(h.instret(), instret);
        let a2 = if budget == 3 { 63 } else { 0 };
        assert_eq!(h.x(A2 as usize), a2);
    }
}

#[test]
fn side_exit_after_and_inside_a_pair() {
    let p = [
        addi(A0, ZERO, 0),
        addi(A1, ZERO, 5),
        // loop: a fused pair, then a fused addi+bne pair (taken 4 times)
        slli(A2, A0, 1),
        add(A3, A3, A2),
        addi(A0, A0, 1),
        bne(A0, A1, -12),
        // a pair followed by a taken branch to the ecall
        slli(A4, A1, 2),
        add(A5, A4, A1),
        beq(A5, A5, 8),
        addi(A5, ZERO, -1),
        ECALL,
    ];
    let h = same_as_stepped(&p);
    assert_eq!(h.x(A3 as usize), 2 * (1 + 2 + 3 + 4));
    assert_eq!(h.x(A5 as usize), 25);
    assert_eq!(h.instret(), 2 + 5 * 4 + 3);
    assert_eq!(h.pc(), CODE + 40);
    // run again with every budget from 1 to the whole program: instret and
    // pc agree with stepping at every cut
    let (_, _, env) = run_fused(&p);
    for budget in 1..=26 {
        let mut h = env.hart(0);
        h.set_pc(CODE);
        let e = h.run(budget);
        let mut s = env.hart(0);
        s.set_pc(CODE);
        for _ in 0..budget {
            if s.run(1) != Exit::Budget {
                break;
            }
        }
        assert_eq!(h.instret(), s.instret(), "budget {budget}");
        assert_eq!(h.pc(), s.pc(), "budget {budget}");
        for r in 1..32 {
            assert_eq!(h.x(r), s.x(r), "budget {budget} x{r}");
        }
        assert_eq!(e == Exit::Ecall, budget == 26);
    }
}

#[test]
fn auipc_and_lui_pairs() {
    let p = [
        addi(A0, ZERO, 0),
        auipc(A1, 0x2000),
        addi(A1, A1, -4), // CODE + 4 + 0x2000 - 4
        lui(A2, 0x1234_5000),
        addi(A2, A2, 0x678),
        ECALL,
    ];
    let h = same_as_stepped(&p);
    assert_eq!(h.x(A1 as usize), CODE + 0x2000);
    assert_eq!(h.x(A2 as usize), 0x1234_5678);
}

#[test]
fn loads_and_stores_after_an_alu_op() {
    let mut p = li(S0, DATA);
    p.extend(li(A0, 0x8081_8283_8485_8687));
    p.extend(li(A5, 2));
    p.extend([
        sd(A0, S0, 0),
        sd(A0, S0, 8),
        sd(A0, S0, 16),
        // every load kind based on an addi result (sign/zero extension)
        addi(A1, S0, 8),
        lb(A2, A1, 1),
        addi(A1, S0, 8),
        lh(A3, A1, 2),
        addi(A1, S0, 8),
        lw(A4, A1, 4),
        addi(A1, S0, 8),
        lbu(S1, A1, 1),
        addi(A1, S0, 8),
        lhu(T0, A1, 2),
        addi(A1, S0, 8),
        lwu(T1, A1, 4),
        // an indexed address (slli+add fuse; the ld runs alone)
        slli(T2, A5, 3),
        add(T2, T2, S0),
        ld(RA, T2, 0),
        // misaligned (the slow path) and into x0
        addi(A1, S0, 3),
        ld(SP, A1, 0),
        addi(A1, S0, 8),
        ld(ZERO, A1, 0),
        // stores: value from the first op, base from it, both
        xori(A0, A0, 0x55),
        sd(A0, S0, 24),
        addi(A1, S0, 32),
        sw(A3, A1, 4),
        addi(A1, S0, 40),
        sd(A1, A1, 0),
        addi(A1, S0, 49),
        sh(A4, A1, 0), // misaligned store
        addi(A1, S0, 56),
        sb(A1, A1, 0),
        ECALL,
    ]);
    let h = same_as_stepped(&p);
    let (_, _, mut env) = run_fused(&p);
    let w = 0x8081_8283_8485_8687u64;
    assert_eq!(h.x(A2 as usize), 0xffff_ffff_ffff_ff86);
    assert_eq!(h.x(A3 as usize), 0xffff_ffff_ffff_8485);
    assert_eq!(h.x(A4 as usize), 0xffff_ffff_8081_8283);
    assert_eq!(h.x(S1 as usize), 0x86);
    assert_eq!(h.x(T0 as usize), 0x8485);
    assert_eq!(h.x(T1 as usize), 0x8081_8283);
    assert_eq!(h.x(RA as usize), w);
    assert_eq!(h.x(SP as usize), w.rotate_right(24));
    assert_eq!(h.x(0), 0);
    assert_eq!(env.read_va(DATA + 24, 8), w ^ 0x55);
    assert_eq!(env.read_va(DATA + 36, 4), 0xffff_8485);
    assert_eq!(env.read_va(DATA + 40, 8), DATA + 40);
    assert_eq!(env.read_va(DATA + 49, 2), 0x8283);
    assert_eq!(env.read_va(DATA + 56, 1), (DATA + 56) & 0xff);
}

#[test]
fn fused_load_or_store_that_faults() {
    for second in [ld(A2, A1, 0), sd(A0, A1, 0)] {
        let mut env = Env::new(1);
        let mut p = li(A0, 0x7000_0000);
        let n = p.len() as u64;
        p.extend([addi(A1, A0, 8), second, ECALL]);
        let (h, e) = env.run(&p);
        assert_eq!(
            e,
            Exit::PageFault {
                addr: 0x7000_0008,
                access: if second & 0x7f == 0x03 {
                    rv64::Access::Load
                } else {
                    rv64::Access::Store
                },
            }
        );
        // the addi retired (and wrote a1), the access did not
        assert_eq!(h.instret(), n + 1);
        assert_eq!(h.pc(), CODE + 4 * (n + 1));
        assert_eq!(h.x(A1 as usize), 0x7000_0008);
        assert_eq!(h.x(A2 as usize), 0);
    }
}
