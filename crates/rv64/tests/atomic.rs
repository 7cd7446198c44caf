//! The A extension: LR/SC success and failure, AMOs, misalignment, and
//! atomicity across harts on separate host threads.
mod common;
use common::asm::*;
use common::*;
use rv64::{Access, Exit};

#[test]
fn lr_sc_succeeds_without_interference() {
    let mut p = li(A0, DATA);
    p.extend([
        addi(A1, ZERO, 5),
        sd(A1, A0, 0),
        lr_d(A2, A0),
        addi(A2, A2, 1),
        sc_d(A3, A0, A2),
        ld(A4, A0, 0),
        ECALL,
    ]);
    let h = run_ok(&p);
    assert_eq!(h.x(A3 as usize), 0, "sc succeeded");
    assert_eq!(h.x(A4 as usize), 6);
}

#[test]
fn sc_without_reservation_fails() {
    let mut p = li(A0, DATA);
    p.extend([addi(A2, ZERO, 9), sc_d(A3, A0, A2), ld(A4, A0, 0), ECALL]);
    let h = run_ok(&p);
    assert_eq!(h.x(A3 as usize), 1);
    assert_eq!(h.x(A4 as usize), 0);
    // a second sc after a successful one fails too
    let mut p = li(A0, DATA);
    p.extend([lr_w(A2, A0), sc_w(A3, A0, A2), sc_w(A4, A0, A2), ECALL]);
    let h = run_ok(&p);
    assert_eq!((h.x(A3 as usize), h.x(A4 as usize)), (0, 1));
}

#[test]
fn lr_w_sign_extends_and_sc_to_other_address_fails() {
    let mut p = li(A0, DATA);
    p.extend(li(A1, 0x8000_0000));
    p.extend([
        sw(A1, A0, 0),
        lr_w(A2, A0),
        addi(A5, A0, 8),
        sc_w(A3, A5, A1),
        ECALL,
    ]);
    let h = run_ok(&p);
    assert_eq!(h.x(A2 as usize), 0xffff_ffff_8000_0000);
    assert_eq!(h.x(A3 as usize), 1);
}

#[test]
fn intervening_store_from_another_hart_breaks_reservation() {
    let mut env = Env::new(2);
    // hart 0: lr.d ; ecall ; sc.d ; ecall
    let mut p = li(A0, DATA);
    p.extend([lr_d(A2, A0), ECALL]);
    let sc_at = CODE + 4 * p.len() as u64;
    p.extend([sc_d(A3, A0, A2), ECALL]);
    // hart 1: sd x0 (same value as in memory!) ... stores the same value
    let h1_at = CODE + 4 * p.len() as u64;
    p.extend(li(A0, DATA));
    p.extend([sd(ZERO, A0, 0), ECALL]);
    env.load(&p);
    let mut h0 = env.hart(0);
    h0.set_pc(CODE);
    // run up to (not including) the ecall after lr with an exact budget so
    // the reservation survives (a trap would drop it)
    let n = p.iter().position(|&w| w == ECALL).unwrap() as u64;
    assert_eq!(h0.run(n), Exit::Budget);
    let mut h1 = env.hart(1);
    h1.set_pc(h1_at);
    assert_eq!(h1.run(1000), Exit::Ecall);
    h0.set_pc(sc_at);
    assert_eq!(h0.run(1000), Exit::Ecall);
    assert_eq!(
        h0.x(A3 as usize),
        1,
        "the store by hart 1 broke the reservation"
    );
    // Without the intervening store, the same sequence succeeds.
    let mut h0 = env.hart(0);
    h0.set_pc(CODE);
    assert_eq!(h0.run(n), Exit::Budget);
    h0.set_pc(sc_at);
    assert_eq!(h0.run(1000), Exit::Ecall);
    assert_eq!(h0.x(A3 as usize), 0);
}

#[test]
fn trap_drops_reservation() {
    let mut p = li(A0, DATA);
    p.extend([lr_d(A2, A0), ECALL, sc_d(A3, A0, A2), ECALL]);
    let mut env = Env::new(1);
    let (mut h, e) = env.run(&p);
    assert_eq!(e, Exit::Ecall);
    h.set_pc(h.pc() + 4);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A3 as usize), 1);
}

#[test]
fn amo_operations() {
    let cases: [(u32, u32, u64, u64, u64); 10] = [
        // (funct5, width, memory, operand, expected memory)
        (0b00001, 3, 5, 7, 7),
        (0b00000, 3, 5, 7, 12),
        (0b00100, 3, 5, 3, 6),
        (0b01100, 3, 6, 3, 2),
        (0b01000, 3, 5, 2, 7),
        (0b10000, 3, u64::MAX, 1, u64::MAX),
        (0b10100, 3, u64::MAX, 1, 1),
        (0b11000, 3, u64::MAX, 1, 1),
        (0b11100, 3, u64::MAX, 1, u64::MAX),
        (0b10000, 2, 0xffff_ffff, 1, 0xffff_ffff),
    ];
    for (f5, w, mem, opnd, want) in cases {
        let mut p = li(A0, DATA);
        p.extend(li(A1, mem));
        p.extend(li(A2, opnd));
        p.extend([sd(A1, A0, 0), amo(f5, w, A3, A0, A2), ld(A4, A0, 0), ECALL]);
        let h = run_ok(&p);
        let old = if w == 2 {
            mem as u32 as i32 as i64 as u64
        } else {
            mem
        };
        assert_eq!(h.x(A3 as usize), old, "old value for funct5 {f5:#b}");
        let want = if w == 2 {
            (mem & !0xffff_ffff) | (want & 0xffff_ffff)
        } else {
            want
        };
        assert_eq!(h.x(A4 as usize), want, "memory for funct5 {f5:#b}");
    }
    // amomaxu.w / amominu.w compare unsigned 32-bit
    let mut p = li(A0, DATA);
    p.extend(li(A1, 0x8000_0000));
    p.extend([
        sw(A1, A0, 0),
        addi(A2, ZERO, 1),
        amo(0b11000, 2, A3, A0, A2),
        lwu(A4, A0, 0),
        ECALL,
    ]);
    let h = run_ok(&p);
    assert_eq!(h.x(A3 as usize), 0xffff_ffff_8000_0000);
    assert_eq!(h.x(A4 as usize), 1);
}

#[test]
fn misaligned_atomics_trap() {
    let mut env = Env::new(1);
    let mut p = li(A0, DATA + 4);
    let at = CODE + 4 * p.len() as u64;
    p.extend([amoadd_d(A1, A0, A0), ECALL]);
    let (h, e) = env.run(&p);
    assert_eq!(
        e,
        Exit::Misaligned {
            addr: DATA + 4,
            access: Access::Store
        }
    );
    assert_eq!(h.pc(), at);
    let mut env = Env::new(1);
    let mut p = li(A0, DATA + 2);
    p.extend([lr_w(A1, A0), ECALL]);
    assert_eq!(
        env.run(&p).1,
        Exit::Misaligned {
            addr: DATA + 2,
            access: Access::Load
        }
    );
    // an AMO to a read-only page is a store page fault
    let mut env = Env::new(1);
    env.map_new(0x50000, UR | AD);
    let mut p = li(A0, 0x50000);
    p.extend([amoadd_w(A1, A0, A0), ECALL]);
    assert_eq!(
        env.run(&p).1,
        Exit::PageFault {
            addr: 0x50000,
            access: Access::Store
        }
    );
}

/// Two harts on two threads each add 1 to a shared counter N times, with
/// amoadd.d in one run and an lr/sc loop in another; the total is exact.
fn counter_race(use_lrsc: bool) {
    const N: u64 = 200_000;
    let mut env = Env::new(2);
    let mut p = li(A0, DATA);
    p.extend(li(A1, N));
    p.push(addi(A2, ZERO, 1));
    let top = p.len();
    if use_lrsc {
        // retry: lr.d t0; add t0,t0,a2; sc.d t1; bnez t1 retry
        p.extend([
            lr_d(T0, A0),
            add(T0, T0, A2),
            sc_d(T1, A0, T0),
            bne(T1, ZERO, -12),
        ]);
    } else {
        p.push(amoadd_d(ZERO, A0, A2));
    }
    p.push(addi(A1, A1, -1));
    let back = -(4 * (p.len() - top) as i32);
    p.push(bne(A1, ZERO, back));
    p.push(ECALL);
    env.load(&p);
    let threads: Vec<_> = (0..2)
        .map(|id| {
            let mut h = env.hart(id);
            h.set_pc(CODE);
            std::thread::spawn(move || loop {
                match h.run(10_000) {
                    Exit::Budget => continue,
                    e => return e,
                }
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), Exit::Ecall);
    }
    assert_eq!(env.read_va(DATA, 8), 2 * N);
}

#[test]
fn amoadd_counter_from_two_threads_is_exact() {
    counter_race(false);
}

#[test]
fn lr_sc_counter_from_two_threads_is_exact() {
    counter_race(true);
}

#[test]
fn sc_fails_when_memory_no_longer_holds_the_lr_value() {
    // The hart's own store between LR and SC keeps the reservation but
    // changes the value: SC's compare-exchange fails (the spec allows an SC
    // to fail after an intervening store; LR/SC loops never contain one).
    let mut p = li(A0, DATA);
    p.extend([
        lr_d(A2, A0),
        addi(A1, ZERO, 7),
        sd(A1, A0, 0),
        sc_d(A3, A0, A2),
        ld(A4, A0, 0),
        ECALL,
    ]);
    let h = run_ok(&p);
    assert_eq!(h.x(A3 as usize), 1);
    assert_eq!(h.x(A4 as usize), 7);
}
