//! Self-modifying code and coherent instruction fetch: a store into a page
//! that holds decoded blocks invalidates them, on the storing hart and on
//! the others, with or without `fence.i`; the kernel's own stores
//! (`Machine::note_store`) too.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::asm::*;
use common::*;
use rv64::Exit;

/// A read/write/execute page for generated code (a JIT's buffer).
const JIT: u64 = 0x80000;

/// `ret` (jalr zero, 0(ra)).
fn ret() -> u32 {
    jalr(ZERO, RA, 0)
}

/// Writes `first` then `second` as the first instruction of a function at
/// JIT (followed by `ret`), calling it after each write; the second write
/// is done by `store` (a plain store or an AMO), then `sync` (nothing or
/// fence.i). Returns (result of the first call, result of the second).
fn jit_twice(first: u32, second: u32, store: u32, sync: &[u32]) -> (u64, u64) {
    let mut env = Env::new(1);
    let mut p = li(S0, JIT);
    p.extend(li(A1, first as u64));
    p.push(sw(A1, S0, 0));
    p.extend(li(A1, ret() as u64));
    p.push(sw(A1, S0, 4));
    p.push(jalr(RA, S0, 0));
    p.push(addi(S1, A0, 0));
    p.extend(li(A1, second as u64));
    p.push(store);
    p.extend_from_slice(sync);
    p.push(jalr(RA, S0, 0));
    p.push(ECALL);
    env.load(&p);
    env.map_new(JIT, URWX | AD);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10_000), Exit::Ecall, "pc {:#x}", h.pc());
    (h.x(S1 as usize), h.x(A0 as usize))
}

#[test]
fn store_into_jit_buffer_without_fence_i_runs_new_code() {
    let (a, b) = jit_twice(addi(A0, ZERO, 1), addi(A0, ZERO, 2), sw(A1, S0, 0), &[]);
    assert_eq!(a, 1);
    assert_eq!(b, 2, "stale decoded block ran after a store into it");
}

#[test]
fn store_into_jit_buffer_with_fence_i_runs_new_code() {
    let (a, b) = jit_twice(
        addi(A0, ZERO, 1),
        addi(A0, ZERO, 2),
        sw(A1, S0, 0),
        &[FENCE_I],
    );
    assert_eq!((a, b), (1, 2));
}

#[test]
fn amo_into_jit_buffer_runs_new_code() {
    // amoswap.w a3, a1, (s0)
    let (a, b) = jit_twice(
        addi(A0, ZERO, 3),
        addi(A0, ZERO, 4),
        amo(0b00001, 2, A3, S0, A1),
        &[],
    );
    assert_eq!(a, 3);
    assert_eq!(b, 4, "stale decoded block ran after an AMO into it");
}

#[test]
fn misaligned_store_across_into_code_page_runs_new_code() {
    // A 4-byte store at JIT-2 straddles the page before JIT (data) and the
    // first half of the function's first instruction: the slow path's
    // two-page case. The new instruction's low half comes from it.
    let mut env = Env::new(1);
    // The two differ only in rd (the low half): a0 = 5, then a1 = 5.
    let first = addi(A0, ZERO, 5);
    let second = addi(A1, ZERO, 5);
    assert_eq!(first >> 16, second >> 16);
    let word = ((second & 0xffff) as u64) << 16;
    let mut p = li(S0, JIT);
    p.extend(li(A1, first as u64));
    p.push(sw(A1, S0, 0));
    p.extend(li(A1, ret() as u64));
    p.push(sw(A1, S0, 4));
    p.push(jalr(RA, S0, 0));
    p.push(addi(S1, A0, 0));
    p.extend(li(A1, word));
    p.push(sw(A1, S0, -2));
    p.push(jalr(RA, S0, 0));
    p.push(ECALL);
    env.load(&p);
    env.map_new(JIT - 4096, URW | AD);
    env.map_new(JIT, URWX | AD);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10_000), Exit::Ecall, "pc {:#x}", h.pc());
    assert_eq!(h.x(S1 as usize), 5);
    assert_eq!(
        h.x(A1 as usize),
        5,
        "stale block after a page-straddling store"
    );
}

/// The code patches an instruction of its own page (already run) and
/// jumps back to it, without fence.i.
#[test]
fn patch_own_page_without_fence_i() {
    let mut env = Env::new(1);
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
    p.extend([sw(A1, A2, 0), jal(ZERO, -(4 * (p.len() as i32 + 1) - 4))]);
    env.load(&p);
    let pte = env.pte(CODE);
    env.set_pte(CODE, pte | URWX | AD);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 1);
    h.set_pc(CODE + 16);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 2, "stale decoded block without fence.i");
}

/// The kernel writes into a code page (as `read()` into an RWX buffer
/// does) and reports it with `note_store`.
#[test]
fn kernel_store_with_note_store_invalidates() {
    let mut env = Env::new(1);
    env.load(&[addi(A0, ZERO, 1), ECALL]);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 1);
    env.write_va(CODE, &addi(A0, ZERO, 7).to_le_bytes());
    let pa = env.pa(CODE);
    assert_ne!(env.machine.code_harts(pa), 0, "the page is known as code");
    env.machine.note_store(pa, 4);
    assert_eq!(env.machine.code_harts(pa), 0);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(h.x(A0 as usize), 7, "stale block after a kernel store");
}

/// Hart 1 spins in generated code; hart 0 (on another thread) overwrites
/// the loop's jump with ecall. Hart 0 stored into the buffer before hart 1
/// first ran it, so its TLB had a write entry for the page: that entry
/// must be gone (the code-page shootdown) for the second store to be seen.
#[test]
fn other_harts_store_ends_a_loop_in_generated_code() {
    let mut env = Env::new(2);
    let jit_pa = env.map_new(JIT, URWX | AD);
    // JIT: a0 = 7; loop back to it
    env.w64(
        jit_pa,
        (addi(A0, ZERO, 7) as u64) | ((jal(ZERO, -4) as u64) << 32),
    );
    let mut p = li(S0, JIT + 4);
    p.extend(li(A1, jal(ZERO, -4) as u64));
    p.push(sw(A1, S0, 0)); // same bytes: caches a write translation
    p.push(ECALL);
    p.extend(li(A1, ECALL as u64));
    p.push(sw(A1, S0, 0));
    p.push(ECALL);
    env.load(&p);
    let mut h0 = env.hart(0);
    h0.set_pc(CODE);
    assert_eq!(h0.run(1000), Exit::Ecall);
    let mut h1 = env.hart(1);
    h1.set_pc(JIT);
    let started = Arc::new(AtomicBool::new(false));
    let s2 = started.clone();
    let t = std::thread::spawn(move || {
        let mut runs = 0u64;
        loop {
            match h1.run(1 << 16) {
                Exit::Budget => {
                    s2.store(true, Ordering::SeqCst);
                    runs += 1;
                    // 2^16 * 20000 instructions: far longer than the
                    // store takes to be seen, finite when it never is.
                    assert!(runs < 20_000, "hart 1 never saw the new code");
                }
                e => return (h1, e),
            }
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    h0.set_pc(h0.pc() + 4);
    assert_eq!(h0.run(1000), Exit::Ecall);
    let (h1, e) = t.join().unwrap();
    assert_eq!(e, Exit::Ecall);
    assert_eq!(h1.pc(), JIT + 4);
    assert_eq!(h1.x(A0 as usize), 7);
}

/// Data stores into a page that once held code stay correct and the page
/// leaves the code set (later stores take the fast path again).
#[test]
fn code_page_reused_for_data() {
    let mut env = Env::new(1);
    env.load(&[addi(A0, ZERO, 1), ECALL]);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(10), Exit::Ecall);
    let pa = env.pa(CODE);
    assert_ne!(env.machine.code_harts(pa), 0);
    // Store into the (executable, now writable) code page from code in a
    // second page.
    let pte = env.pte(CODE);
    env.set_pte(CODE, pte | URWX | AD);
    env.map_new(CODE + 4096, URX | AD);
    let mut q = li(S0, CODE + 64);
    q.extend([addi(A1, ZERO, 42), sd(A1, S0, 0), ld(A2, S0, 0), ECALL]);
    let bytes: Vec<u8> = q.iter().flat_map(|w| w.to_le_bytes()).collect();
    env.write_va(CODE + 4096, &bytes);
    h.flush_tlb(None);
    h.set_pc(CODE + 4096);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A2 as usize), 42);
    assert_eq!(env.machine.code_harts(pa), 0, "the store cleared the page");
}

/// A store into a code page away from any decoded instruction (data that
/// shares the page) invalidates nothing; one into the code does.
#[test]
fn data_store_beside_code_keeps_blocks() {
    let mut env = Env::new(1);
    // Code at CODE (RWX): a0 = 1, store a1 at CODE + 2048, ecall.
    let mut p = li(S0, CODE + 2048);
    p.extend([addi(A0, ZERO, 1), addi(A1, ZERO, 9), sd(A1, S0, 0), ECALL]);
    env.load(&p);
    let pte = env.pte(CODE);
    env.set_pte(CODE, pte | URWX | AD);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(1000), Exit::Ecall);
    let pa = env.pa(CODE);
    assert_eq!(env.r64(pa + 2048), 9);
    assert_ne!(
        env.machine.code_harts(pa),
        0,
        "a data store beside the code dropped the page's code"
    );
    // Again, now through the no-walk code tag: same result.
    h.set_pc(CODE);
    assert_eq!(h.run(1000), Exit::Ecall);
    assert_ne!(env.machine.code_harts(pa), 0);
    // The kernel writes beside the code: nothing to drop either.
    env.machine.note_store(pa + 3000, 8);
    assert_ne!(env.machine.code_harts(pa), 0);
    // A write over the code does.
    env.machine.note_store(pa + 4, 4);
    assert_eq!(env.machine.code_harts(pa), 0);
}
