//! Traps, the budget and instret, Zicsr, Zifencei and illegal encodings.
mod common;
use common::asm::*;
use common::*;
use rv64::decode::{decode32, Op};
use rv64::Exit;

#[test]
fn ecall_and_ebreak_leave_pc_at_the_instruction() {
    let mut env = Env::new(1);
    let (mut h, e) = env.run(&[addi(A0, ZERO, 1), ECALL, EBREAK]);
    assert_eq!(e, Exit::Ecall);
    assert_eq!(h.pc(), CODE + 4);
    assert_eq!(h.instret(), 1);
    h.set_pc(h.pc() + 4);
    assert_eq!(h.run(10), Exit::Breakpoint);
    assert_eq!(h.pc(), CODE + 8);
}

#[test]
fn budget_is_exact_and_instret_counts() {
    // an endless loop of 3 instructions
    let mut env = Env::new(1);
    env.load(&[addi(A0, A0, 1), addi(A1, A1, 2), jal(ZERO, -8)]);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(0), Exit::Budget);
    assert_eq!(h.instret(), 0);
    assert_eq!(h.run(1), Exit::Budget);
    assert_eq!(h.pc(), CODE + 4);
    assert_eq!(h.run(4), Exit::Budget);
    assert_eq!(h.instret(), 5);
    assert_eq!(h.pc(), CODE + 8);
    assert_eq!(h.run(1000), Exit::Budget);
    assert_eq!(h.instret(), 1005);
    // 1005 = 335 full iterations
    assert_eq!(h.x(A0 as usize), 335);
    assert_eq!(h.x(A1 as usize), 670);
    assert_eq!(h.pc(), CODE);
}

#[test]
fn faulting_instruction_is_not_counted() {
    let mut env = Env::new(1);
    let mut p = li(A0, 0x7000_0000);
    let n = p.len() as u64;
    p.push(ld(A1, A0, 0));
    let (h, e) = env.run(&p);
    assert!(matches!(e, Exit::PageFault { .. }));
    assert_eq!(h.instret(), n);
}

#[test]
fn fcsr_csrs() {
    let p = [
        addi(A0, ZERO, 0xff),
        csrrw(A1, 0x003, A0),   // fcsr = 0xff, a1 = old 0
        csrrs(A2, 0x001, ZERO), // fflags = 0x1f
        csrrs(A3, 0x002, ZERO), // frm = 7
        csrrci(A4, 0x001, 0x3), // clear NX|UF; a4 = 0x1f
        csrrwi(A5, 0x002, 1),   // frm = 1; a5 = 7
        csrrsi(T0, 0x003, 0),   // read fcsr without writing
        addi(T1, ZERO, 0x10),
        csrrc(T2, 0x001, T1), // clear NV
        csrrs(S0, 0x003, ZERO),
        ECALL,
    ];
    let h = run_ok(&p);
    assert_eq!(h.x(A1 as usize), 0);
    assert_eq!(h.x(A2 as usize), 0x1f);
    assert_eq!(h.x(A3 as usize), 7);
    assert_eq!(h.x(A4 as usize), 0x1f);
    assert_eq!(h.x(A5 as usize), 7);
    assert_eq!(h.x(T0 as usize), 0x1c | 1 << 5);
    assert_eq!(h.x(S0 as usize), 0x0c | 1 << 5);
    assert_eq!(h.fcsr(), 0x0c | 1 << 5);
}

#[test]
fn counters() {
    let p = [
        csrrs(A0, 0xc02, ZERO), // instret = 0 before it
        addi(ZERO, ZERO, 0),
        csrrs(A1, 0xc02, ZERO), // 2
        csrrs(A2, 0xc00, ZERO), // cycle
        csrrs(A3, 0xc01, ZERO), // time
        csrrs(A4, 0xc01, ZERO),
        ECALL,
    ];
    let h = run_ok(&p);
    assert_eq!(h.x(A0 as usize), 0);
    assert_eq!(h.x(A1 as usize), 2);
    assert_eq!(h.x(A2 as usize), 3);
    assert!(h.x(A4 as usize) >= h.x(A3 as usize));
}

#[test]
fn time_advances_at_10mhz() {
    let mut env = Env::new(1);
    env.load(&[csrrs(A0, 0xc01, ZERO), ECALL]);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    let t0 = h.x(A0 as usize);
    std::thread::sleep(std::time::Duration::from_millis(50));
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    let dt = h.x(A0 as usize) - t0;
    assert!((450_000..5_000_000).contains(&dt), "{dt} ticks in 50ms");
}

/// With a virtual time base, `time` is the base plus 1 ns per instruction
/// retired since, at 10 MHz, whatever the host's clock does.
#[test]
fn virtual_time_counts_instructions() {
    let mut env = Env::new(1);
    let mut prog = vec![addi(T0, T0, 1); 299];
    prog.push(csrrs(A0, 0xc01, ZERO));
    prog.push(ECALL);
    env.load(&prog);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    h.set_time_base(Some((1_000_000, h.instret())));
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(h.run(1000), Exit::Ecall);
    // 299 nops retired before the csrrs: 1_000_299 ns = 10_002 ticks.
    assert_eq!(h.x(A0 as usize), 10_002);
    h.set_time_base(None);
    h.set_pc(CODE);
    assert_eq!(h.run(1000), Exit::Ecall);
    assert!(h.x(A0 as usize) > 100_000, "back on the host clock");
}

#[test]
fn bad_csr_accesses_are_illegal() {
    for inst in [
        csrrw(A0, 0xc00, A1),   // write to cycle
        csrrs(A0, 0xc01, A1),   // set bits in time (rs1 != x0)
        csrrwi(ZERO, 0xc02, 0), // csrrwi always writes
        csrrs(A0, 0x300, ZERO), // mstatus
        csrrs(A0, 0x100, ZERO), // sstatus
        csrrs(A0, 0xc03, ZERO), // hpmcounter3
    ] {
        let mut env = Env::new(1);
        let (h, e) = env.run(&[inst, ECALL]);
        assert_eq!(e, Exit::Illegal { bits: inst }, "{inst:#010x}");
        assert_eq!(h.pc(), CODE);
    }
}

#[test]
fn illegal_32bit_encodings() {
    for bits in [
        0xffff_ffffu32,
        0x1050_0073, // wfi
        0x1020_0073, // sret
        0x3020_0073, // mret
        0x0000_4073, // system funct3 4
        0x0000_007f, // unused opcode
        slli(A0, A0, 0) | 1 << 31,
        slliw(A0, A0, 0) | 1 << 25,
        op(0, 0x02, A0, A0, A0),
        amo(0b00101, 3, A0, A0, A0),      // unused funct5
        amo(0b00010, 3, A0, A0, A1),      // lr with rs2 != 0
        amo(0, 4, A0, A0, A0),            // width 4
        fadd_s(1, 2, 3, 5),               // rm 5
        fadd_d(1, 2, 3, 6),               // rm 6
        opfp(0x2c, 0, 1, 2, 1),           // fsqrt.s rs2 != 0
        opfp(0x10, 3, 1, 2, 3),           // fsgnj funct3 3
        0x0000_200f,                      // misc-mem funct3 2
        i(0x67, 1, A0, A0, 0),            // jalr funct3 1
        b(2, A0, A0, 8),                  // branch funct3 2
        i(0x03, 7, A0, A0, 0),            // load funct3 7
        opfp(0x02, 0, 1, 2, 3),           // fadd.h (Zfh not implemented)
        opfp(0x21, 5, 1, 2, 0),           // fcvt.d.s with rm 5
        opfp(0x20, 0, 1, 2, 0),           // fcvt.s.d needs rs2 = 1
        opfp(0x70, 0, A0, 1, 1),          // fmv.x.w needs rs2 = 0
        fmadd_d(1, 2, 3, 4, 0) | 3 << 25, // fmadd.q
        i(0x07, 4, 1, A0, 0),             // flq
    ] {
        assert_eq!(decode32(bits).op, Op::Illegal, "{bits:#010x}");
    }
    let mut env = Env::new(1);
    let (h, e) = env.run(&[addi(A0, ZERO, 1), 0x1050_0073]);
    assert_eq!(e, Exit::Illegal { bits: 0x1050_0073 });
    assert_eq!(h.pc(), CODE + 4);
}

#[test]
fn dynamic_rounding_with_invalid_frm_is_illegal() {
    let add_dyn = fadd_d(1, 2, 3, 7);
    let mut env = Env::new(1);
    let (h, e) = env.run(&[csrrwi(ZERO, 0x002, 5), add_dyn, ECALL]);
    assert_eq!(e, Exit::Illegal { bits: add_dyn });
    assert_eq!(h.pc(), CODE + 4);
    // with a valid frm it runs
    let h = run_ok(&[csrrwi(ZERO, 0x002, 1), add_dyn, ECALL]);
    assert_eq!(h.fcsr() >> 5, 1);
}

#[test]
fn fence_is_a_no_op() {
    let h = run_ok(&[FENCE, addi(A0, ZERO, 3), ECALL]);
    assert_eq!(h.x(A0 as usize), 3);
}

/// Self-modifying code: the hart patches an instruction it has already
/// executed; without fence.i the old decoded block may run, with fence.i
/// the new one must.
#[test]
fn fence_i_after_self_modifying_code() {
    let mut env = Env::new(1);
    // make the code page writable too
    let new_inst = addi(A0, ZERO, 2);
    let mut p = vec![
        jal(ZERO, 12),     // 0: -> 12
        addi(A0, ZERO, 1), // 4: target: a0 = 1
        ECALL,             // 8
        jal(RA, -8),       // 12: call target (runs a0 = 1, ecall)
    ];
    // (after the first ecall the kernel resumes at 16)
    p.extend(li(A1, new_inst as u64)); // 16..
    p.extend(li(A2, CODE + 4));
    p.extend([
        sw(A1, A2, 0),
        FENCE_I,
        jal(ZERO, -(4 * (p.len() as i32 + 2) - 4)),
    ]);
    env.load(&p);
    let pte = env.pte(CODE);
    env.set_pte(CODE, pte | URWX | AD);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 1);
    h.set_pc(CODE + 16);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(
        h.x(A0 as usize),
        2,
        "fence.i made the new instruction visible"
    );
}

#[test]
fn remote_icache_flush_and_local_flush() {
    let mut env = Env::new(1);
    env.load(&[addi(A0, ZERO, 1), ECALL]);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 1);
    // the "kernel" rewrites the code page behind the hart's back
    env.write_va(CODE, &addi(A0, ZERO, 5).to_le_bytes());
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 1, "stale decoded block (no fence.i yet)");
    env.machine.flush_icache_all();
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 5);
    env.write_va(CODE, &addi(A0, ZERO, 6).to_le_bytes());
    h.flush_icache();
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 6);
}

#[test]
fn instruction_straddling_a_page_boundary() {
    let mut env = Env::new(1);
    // code: 0xffe bytes of c.nop, then a 32-bit addi across the boundary
    let mut bytes_ = vec![];
    for _ in 0..(4094 / 2) {
        bytes_.extend_from_slice(&0x0001u16.to_le_bytes());
    }
    bytes_.extend_from_slice(&addi(A0, ZERO, 9).to_le_bytes());
    bytes_.extend_from_slice(&ECALL.to_le_bytes());
    env.load_bytes(&bytes_);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10_000), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 9);
    assert_eq!(h.instret(), 2047 + 1);
    // second page unmapped -> fetch fault at the second page, pc at the instruction
    env.set_pte(CODE + 4096, 0);
    let mut h = env.hart(0);
    h.set_pc(CODE + 4094);
    assert_eq!(
        h.run(10),
        Exit::PageFault {
            addr: CODE + 4096,
            access: rv64::Access::Fetch
        }
    );
    assert_eq!(h.pc(), CODE + 4094);
}

#[test]
fn odd_pc_is_a_misaligned_fetch() {
    let mut env = Env::new(1);
    env.load(&[ECALL]);
    let mut h = env.hart(0);
    h.set_pc(CODE + 4095);
    assert_eq!(
        h.run(10),
        Exit::Misaligned {
            addr: CODE + 4095,
            access: rv64::Access::Fetch
        }
    );
    assert_eq!(h.instret(), 0);
}

#[test]
fn api_types_are_thread_safe() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn copy<T: Copy>() {}
    send::<rv64::Ram>();
    sync::<rv64::Ram>();
    copy::<rv64::Ram>();
    send::<rv64::Hart>();
    send::<std::sync::Arc<rv64::Machine>>();
    sync::<rv64::Machine>();
}

/// Conditional branches are side exits inside a block: the instructions
/// retired must be exact whichever way they go and whatever the budget.
#[test]
fn side_exits_count_exactly_under_any_budget() {
    let prog = [
        addi(A0, A0, 1), // 0
        beq(A0, A1, 12), // 4 -> 16 when a0 == 5
        addi(A2, A2, 1), // 8
        jal(ZERO, -12),  // 12 -> 0
        ECALL,           // 16
    ];
    for budget in [1u64, 2, 3, 5, 7, 1000] {
        let mut env = Env::new(1);
        env.load(&prog);
        let mut h = env.hart(0);
        h.set_x(A1 as usize, 5);
        h.set_pc(CODE);
        let mut runs = 0;
        loop {
            let before = h.instret();
            match h.run(budget) {
                Exit::Budget => assert_eq!(h.instret() - before, budget),
                Exit::Ecall => break,
                e => panic!("{e:?}"),
            }
            runs += 1;
            assert!(runs < 1000);
        }
        assert_eq!(h.instret(), 4 * 4 + 2, "budget {budget}");
        assert_eq!(h.x(A2 as usize), 4);
        assert_eq!(h.pc(), CODE + 16);
    }
}
