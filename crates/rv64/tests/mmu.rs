//! The Sv48 MMU: page faults with the right address/access and pc, A/D
//! bits, misaligned page-crossing accesses, superpages, TLB shootdown.
mod common;
use common::asm::*;
use common::*;
use rv64::mmu::{PTE_A, PTE_D, PTE_V};
use rv64::{Access, Exit};

fn fault_prog(env: &mut Env, pre: Vec<u32>, faulting: u32) -> (rv64::Hart, Exit, u64) {
    let mut p = pre;
    let at = CODE + 4 * p.len() as u64;
    p.push(faulting);
    p.push(ECALL);
    let (h, e) = env.run(&p);
    (h, e, at)
}

#[test]
fn load_from_unmapped_page_faults() {
    let mut env = Env::new(1);
    let (h, e, at) = fault_prog(&mut env, li(A0, 0x7000_0000), ld(A1, A0, 8));
    assert_eq!(
        e,
        Exit::PageFault {
            addr: 0x7000_0008,
            access: Access::Load
        }
    );
    assert_eq!(h.pc(), at);
}

#[test]
fn store_to_read_only_faults_and_rerun_after_fix_succeeds() {
    let mut env = Env::new(1);
    let va = 0x50000;
    env.map_new(va, UR | PTE_A);
    let mut p = li(A0, va);
    p.extend(li(A1, 42));
    let at = CODE + 4 * p.len() as u64;
    p.push(sd(A1, A0, 16));
    p.push(ld(A2, A0, 16));
    p.push(ECALL);
    env.load(&p);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(
        h.run(1000),
        Exit::PageFault {
            addr: va + 16,
            access: Access::Store
        }
    );
    assert_eq!(h.pc(), at);
    // Loads work, and the D bit stayed clear.
    assert_eq!(env.pte(va) & PTE_D, 0);
    // The kernel makes it writable (clearing A too) and re-runs.
    let pte = env.pte(va);
    env.set_pte(va, (pte | URW) & !PTE_A);
    h.flush_tlb(Some((va, va + 4096)));
    assert_eq!(h.run(1000), Exit::Ecall);
    assert_eq!(h.x(A2 as usize), 42);
    let pte = env.pte(va);
    assert_eq!(
        pte & (PTE_A | PTE_D),
        PTE_A | PTE_D,
        "A and D set by the store"
    );
}

#[test]
fn no_u_bit_faults() {
    let mut env = Env::new(1);
    let va = 0x50000;
    env.map_new(va, (URW & !rv64::mmu::PTE_U) | AD);
    let (_, e, _) = fault_prog(&mut env, li(A0, va), lw(A1, A0, 0));
    assert_eq!(
        e,
        Exit::PageFault {
            addr: va,
            access: Access::Load
        }
    );
}

#[test]
fn fetch_from_non_executable_faults() {
    let mut env = Env::new(1);
    let va = 0x50000;
    env.map_new(va, URW | AD);
    let mut p = li(A0, va);
    let at = CODE + 4 * p.len() as u64;
    p.push(jalr(ZERO, A0, 0));
    let (h, e) = env.run(&p);
    assert_eq!(
        e,
        Exit::PageFault {
            addr: va,
            access: Access::Fetch
        }
    );
    assert_eq!(h.pc(), va, "the fetch faults at the target");
    let _ = at;
    // and the very first fetch from an unmapped pc
    let mut h = env.hart(0);
    h.set_pc(0x9990_0000);
    assert_eq!(
        h.run(10),
        Exit::PageFault {
            addr: 0x9990_0000,
            access: Access::Fetch
        }
    );
}

#[test]
fn non_canonical_address_faults() {
    let mut env = Env::new(1);
    let (_, e, _) = fault_prog(&mut env, li(A0, 0x0000_8000_0000_0000), ld(A1, A0, 0));
    assert_eq!(
        e,
        Exit::PageFault {
            addr: 0x0000_8000_0000_0000,
            access: Access::Load
        }
    );
}

#[test]
fn accessed_and_dirty_bits_are_set() {
    let mut env = Env::new(1);
    let (r, w) = (0x50000, 0x51000);
    env.map_new(r, URW);
    env.map_new(w, URW);
    let mut p = li(A0, r);
    p.extend(li(A1, w));
    p.extend([ld(A2, A0, 0), sd(A2, A1, 0), ECALL]);
    let (_, e) = env.run(&p);
    assert_eq!(e, Exit::Ecall);
    assert_eq!(env.pte(r) & (PTE_A | PTE_D), PTE_A);
    assert_eq!(env.pte(w) & (PTE_A | PTE_D), PTE_A | PTE_D);
    // code page was mapped with A already; a fresh code page gets A set on fetch
}

#[test]
fn store_after_cached_load_sets_dirty() {
    // A load caches the translation; the following store must still walk
    // and set D (no cached write permission without D).
    let mut env = Env::new(1);
    let va = 0x50000;
    env.map_new(va, URW | PTE_A);
    let mut p = li(A0, va);
    p.extend([ld(A2, A0, 0), ld(A2, A0, 8), sd(A2, A0, 0), ECALL]);
    assert_eq!(env.run(&p).1, Exit::Ecall);
    assert_eq!(env.pte(va) & PTE_D, PTE_D);
}

#[test]
fn misaligned_access_across_page_boundary() {
    let mut env = Env::new(1);
    let (p1, p2) = (0x50000u64, 0x51000u64);
    // map them to non-adjacent physical pages
    env.map_new(p1, URW | AD);
    env.alloc_page();
    env.map_new(p2, URW | AD);
    let mut p = li(A0, p2 - 3);
    p.extend(li(A1, 0x1122_3344_5566_7788));
    p.extend([
        sd(A1, A0, 0),
        ld(A2, A0, 0),
        lw(A3, A0, 1),
        lhu(A4, A0, 2),
        ECALL,
    ]);
    let (h, e) = env.run(&p);
    assert_eq!(e, Exit::Ecall);
    assert_eq!(h.x(A2 as usize), 0x1122_3344_5566_7788);
    assert_eq!(h.x(A3 as usize), 0x4455_6677);
    assert_eq!(h.x(A4 as usize), 0x5566);
    assert_eq!(env.read_va(p2 - 3, 3), 0x66_7788);
    assert_eq!(env.read_va(p2, 5), 0x11_2233_4455);
}

#[test]
fn crossing_access_faults_at_first_faulting_byte() {
    let mut env = Env::new(1);
    let p1 = 0x50000u64;
    env.map_new(p1, URW | AD);
    // the next page is unmapped
    let mut p = li(A0, p1 + 4094);
    p.extend(li(A1, 0xdead_beef));
    let at = CODE + 4 * p.len() as u64;
    p.extend([sw(A1, A0, 0), ECALL]);
    let (h, e) = env.run(&p);
    assert_eq!(
        e,
        Exit::PageFault {
            addr: p1 + 4096,
            access: Access::Store
        }
    );
    assert_eq!(h.pc(), at);
    // nothing was written to the first page
    assert_eq!(env.read_va(p1 + 4094, 2), 0);
    // and the first page unmapped: the address is the first byte
    let mut env = Env::new(1);
    env.map_new(p1 + 4096, URW | AD);
    let (_, e, _) = fault_prog(&mut env, li(A0, p1 + 4094), lw(A1, A0, 0));
    assert_eq!(
        e,
        Exit::PageFault {
            addr: p1 + 4094,
            access: Access::Load
        }
    );
}

#[test]
fn superpages_and_misaligned_superpage() {
    let mut env = Env::with_size(1, 8 << 20);
    // a 2 MiB leaf at level 1 mapping VA 0x4000_0000 -> PA 0x20_0000
    let va = 0x4000_0000u64;
    let slot = env.slot(va, 1);
    env.w64(slot, ((0x20_0000u64 >> 12) << 10) | URW | AD);
    env.w64(0x20_0000 + 0x1_2345 * 8 / 8 * 8, 77);
    let mut p = li(A0, va + 0x1_2345 * 8 / 8 * 8);
    p.extend([ld(A1, A0, 0), ECALL]);
    let (h, e) = env.run(&p);
    assert_eq!(e, Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 77);
    // misaligned superpage: PPN not 2 MiB aligned -> fault
    let mut env = Env::with_size(1, 8 << 20);
    let slot = env.slot(va, 1);
    env.w64(slot, ((0x20_1000u64 >> 12) << 10) | URW | AD);
    let (_, e, _) = fault_prog(&mut env, li(A0, va), ld(A1, A0, 0));
    assert_eq!(
        e,
        Exit::PageFault {
            addr: va,
            access: Access::Load
        }
    );
}

#[test]
fn ppn_outside_ram_faults() {
    let mut env = Env::new(1);
    let va = 0x50000;
    env.map(va, 1 << 40, URW | AD);
    let (_, e, _) = fault_prog(&mut env, li(A0, va), ld(A1, A0, 0));
    assert_eq!(
        e,
        Exit::PageFault {
            addr: va,
            access: Access::Load
        }
    );
}

#[test]
fn tlb_caches_until_flushed() {
    let mut env = Env::new(1);
    let va = 0x50000;
    let pa1 = env.map_new(va, URW | AD);
    let pa2 = env.alloc_page();
    env.w64(pa1, 1);
    env.w64(pa2, 2);
    let mut p = li(A0, va);
    p.extend([ld(A1, A0, 0), ECALL]);
    env.load(&p);
    let mut h = env.hart(0);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 1);
    env.map(va, pa2, URW | AD);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(
        h.x(A1 as usize),
        1,
        "stale translation still cached (as hardware may)"
    );
    h.flush_tlb(Some((va, va + 1)));
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 2);
}

#[test]
fn tlb_shootdown_across_threads() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut env = Env::new(2);
    let va = 0x50000;
    let pa1 = env.map_new(va, URW | AD);
    let pa2 = env.alloc_page();
    env.w64(pa1, 1);
    env.w64(pa2, 2);
    // loop: a1 = *va; if a1 == 1 goto loop; ecall
    let mut p = li(A0, va);
    p.extend([ld(A1, A0, 0), addi(A2, ZERO, 1), beq(A1, A2, -8), ECALL]);
    env.load(&p);
    let mut h = env.hart(1);
    h.set_pc(CODE);
    let started = Arc::new(AtomicBool::new(false));
    let s2 = started.clone();
    let t = std::thread::spawn(move || {
        s2.store(true, Ordering::SeqCst);
        let mut total = 0u64;
        loop {
            match h.run(1 << 20) {
                Exit::Budget => {
                    total += 1;
                    assert!(total < 100_000, "never saw the new mapping");
                }
                e => return (h, e),
            }
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    // change the PTE to point at pa2 without touching pa1's contents
    let slot = env.slot(va, 0);
    env.w64(slot, ((pa2 >> 12) << 10) | URW | AD);
    env.machine.flush_tlb(0b10, Some((va, va + 4096)));
    let (h, e) = t.join().unwrap();
    assert_eq!(e, Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 2);
    assert!(h.instret() > 0);
    let _ = PTE_V;
}

#[test]
fn flush_for_self_does_not_deadlock() {
    let env = Env::new(2);
    let _h = env.hart(0);
    env.machine.flush_tlb(0b11, None);
    env.machine.flush_icache_all();
}

#[test]
fn fetch_sets_accessed_bit() {
    let mut env = Env::new(1);
    let va = 0x60000;
    env.map_new(va, URX);
    env.write_va(va, &ECALL.to_le_bytes());
    let mut h = env.hart(0);
    h.set_pc(va);
    assert_eq!(h.run(10), Exit::Ecall);
    assert_eq!(env.pte(va) & (PTE_A | PTE_D), PTE_A);
}

#[test]
fn remote_flush_for_a_hart_outside_run_applies_on_next_entry() {
    let mut env = Env::new(2);
    let va = 0x50000;
    let pa1 = env.map_new(va, URW | AD);
    let pa2 = env.alloc_page();
    env.w64(pa1, 1);
    env.w64(pa2, 2);
    let mut p = li(A0, va);
    p.extend([ld(A1, A0, 0), ECALL]);
    env.load(&p);
    let mut h = env.hart(1);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 1);
    env.map(va, pa2, URW | AD);
    // hart 1 is not inside run(): this must return at once
    env.machine.flush_tlb(1 << 1, None);
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 2);
}

#[test]
fn many_shootdowns_while_harts_enter_and_leave_run() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut env = Env::new(3);
    let mut p = vec![addi(A0, A0, 1), jal(ZERO, -4)];
    p.push(ECALL);
    env.load(&p);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads: Vec<_> = (1..3)
        .map(|id| {
            let mut h = env.hart(id);
            h.set_pc(CODE);
            let stop = stop.clone();
            let started = started.clone();
            std::thread::spawn(move || {
                assert_eq!(h.run(100), Exit::Budget);
                started.fetch_add(1, Ordering::SeqCst);
                // alternate long and tiny budgets so the hart is often
                // entering and leaving run()
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    assert_eq!(h.run(if n % 2 == 0 { 1 } else { 5000 }), Exit::Budget);
                }
                h.instret()
            })
        })
        .collect();
    while started.load(Ordering::SeqCst) < 2 {
        std::thread::yield_now();
    }
    for k in 0..200 {
        if k % 2 == 0 {
            env.machine.flush_tlb(0b110, None);
        } else {
            env.machine.flush_icache_all();
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        assert!(t.join().unwrap() > 0);
    }
}

#[test]
fn shootdown_reaches_a_hart_looping_inside_one_block() {
    // a taken branch back to its block's start re-runs the block without a
    // lookup; the mailbox must still be served on every pass
    let mut env = Env::new(2);
    env.load(&[addi(A0, A0, 1), bne(A0, ZERO, -4), ECALL]);
    let mut h = env.hart(1);
    h.set_pc(CODE);
    let t = std::thread::spawn(move || {
        let e = h.run(u64::MAX);
        (e, h.pc(), h.x(A0 as usize))
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    // unmap the code: once the flush is served, the next lookup faults
    env.set_pte(CODE, 0);
    env.machine.flush_tlb(1 << 1, None);
    let (e, pc, a0) = t.join().unwrap();
    assert_eq!(
        e,
        Exit::PageFault {
            addr: CODE,
            access: Access::Fetch
        }
    );
    assert_eq!(pc, CODE);
    assert!(a0 > 0);
}
